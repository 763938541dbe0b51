package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// runCalls runs the calls command directly (it is wired under `pcap` by
// pcap.go).
func runCalls(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	cmd := newPcapCalls()
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

func TestPcapCalls(t *testing.T) {
	const fixture = "../../pcaps/testdata/reserved-after-precall-abort.pcapng"
	out, err := runCalls(t, fixture)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"1 anomaly, 1 CTI session", "agent-stuck-reserved: agent 1001 still RESERVED", "agents (2):"} {
		if !strings.Contains(out, want) {
			t.Errorf("text output lacks %q:\n%s", want, out)
		}
	}
	out, err = runCalls(t, "--json", "--reserved-after", "1h", fixture)
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Anomalies []struct{ Kind string } `json:"anomalies"`
		Options   struct {
			ReservedAfter float64 `json:"reserved_after_s"`
		} `json:"options"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("not one JSON document: %v\n%s", err, out)
	}
	if len(r.Anomalies) != 0 || r.Options.ReservedAfter != 3600 {
		t.Errorf("with --reserved-after 1h: %+v", r)
	}
}

func TestPcapCallsBadInput(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--reserved-after", "-1s", "x.pcapng"}, "Options.ReservedAfter -1s: must not be negative"},
		{[]string{"no-such-file.pcapng"}, "no-such-file.pcapng"},
		{[]string{}, "accepts 1 arg(s)"},
	}
	for _, c := range cases {
		_, err := runCalls(t, c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("calls %v: error %v, want one saying %q", c.args, err, c.want)
		}
	}
}
