package scenarios

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// outboundWith is the default scenario with lines added to its outbound
// section.
func outboundWith(lines string) string {
	return strings.Replace(string(DefaultYAML()), "outbound:\n", "outbound:\n"+lines, 1)
}

// The call-list keys parse in both forms, and every bad one is reported
// with its line and field.
func TestCallListKeys(t *testing.T) {
	s, err := Parse("list.yaml", []byte(outboundWith(`  list: customers.csv
  dnc: ["14155550100", "+1 (212) 555-0100", "1201*"]
  calling_hours: "mon-fri 09:00-21:00; sat 10:00-16:00"
  max_attempts: 5
  uk_ofcom: true
  retry:
    busy: {delay: 5m, max_attempts: 2}
    machine: {retry: false}
`)))
	if err != nil {
		t.Fatal(err)
	}
	o := s.Outbound
	if o.List.Path != "customers.csv" || len(o.DNC) != 3 || o.MaxAttempts != 5 || !o.UKOfcom || o.CallingHours != "mon-fri 09:00-21:00; sat 10:00-16:00" {
		t.Fatalf("outbound %+v", o)
	}
	if r := o.Retry; r.Busy == nil || r.Busy.Delay.D().Minutes() != 5 || r.Busy.MaxAttempts != 2 || r.Machine == nil || r.Machine.Retry == nil ||
		*r.Machine.Retry || r.NoAnswer != nil || len(r.Rules()) != 2 {
		t.Fatalf("retry %+v", r)
	}
	s, err = Parse("gen.yaml", []byte(outboundWith("  list:\n    generate: {count: 100, time_zones: [Europe/London], seed: 3}\n")))
	if err != nil {
		t.Fatal(err)
	}
	if g := s.Outbound.List.Generate; g == nil || g.Count != 100 || g.Seed != 3 || g.TimeZones[0] != "Europe/London" || s.ListPath() != "" {
		t.Fatalf("generate %+v", s.Outbound.List)
	}
	for _, tc := range []struct{ lines, want string }{
		{"  list: {path: a.csv, generate: {count: 1, time_zones: [UTC]}}\n", "outbound.list: give a path or generate, not both"},
		{"  list: {}\n", "outbound.list: give a CSV file path"},
		{"  list: {file: a.csv}\n", "field file not found"},
		{"  list:\n    generate: {count: 0, time_zones: [UTC]}\n", "outbound.list.generate.count: must be between 1 and 1000000"},
		{"  list:\n    generate: {count: 5}\n", "outbound.list.generate.time_zones: at least one"},
		{"  list:\n    generate: {count: 5, time_zones: [UTC], zones: 3}\n", "field zones not found"},
		{"  list: [a.csv]\n", "must be a CSV file path or a mapping"},
		{"  list: a.csv\n  dnc: [\"12ab\"]\n", "outbound.dnc[0]: want a phone number"},
		{"  list: a.csv\n  calling_hours: \"9-5\"\n", "outbound.calling_hours: want \"HH:MM-HH:MM\""},
		{"  list: a.csv\n  retry: {busy: {delay: -1m}}\n", "outbound.retry.busy.delay: must not be negative"},
		{"  list: a.csv\n  retry: {fax: {delay: 1m}}\n", "field fax not found"},
		{"  list: a.csv\n  max_attempts: 101\n", "outbound.max_attempts: must be between 1 and 100"},
		{"  dnc: [\"14155550100\"]\n", "outbound.list: dnc, calling_hours, retry and max_attempts apply to a call list"},
	} {
		_, err := Parse("bad.yaml", []byte(outboundWith(tc.lines)))
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "bad.yaml:") {
			t.Errorf("%q: %v, want %q", tc.lines, err, tc.want)
		}
	}
}

// Load resolves the list against the scenario's directory and refuses a
// list it cannot read, at the line of outbound.list.
func TestCallListPathRelativeToScenario(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "lists"), 0o755)
	os.WriteFile(filepath.Join(dir, "lists", "c.csv"), []byte("phone,time_zone\n"), 0o644)
	path := filepath.Join(dir, "s.yaml")
	os.WriteFile(path, []byte(outboundWith("  list: lists/c.csv\n")), 0o644)
	s, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if s.ListPath() != filepath.Join(dir, "lists", "c.csv") {
		t.Errorf("ListPath %q", s.ListPath())
	}
	text := outboundWith("  list: lists/missing.csv\n")
	os.WriteFile(path, []byte(text), 0o644)
	line := 1 + strings.Count(text[:strings.Index(text, "  list:")], "\n")
	_, err = Load(path)
	if err == nil || !strings.Contains(err.Error(), "s.yaml:"+itoa(line)+": outbound.list: cannot read the call list") {
		t.Errorf("missing list: %v (want line %d)", err, line)
	}
}

func itoa(n int) string {
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}
