package scenarios

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// withDesktop is the default scenario with a desktop section.
func withDesktop(section string) string {
	return string(DefaultYAML()) + "\ndesktop:\n" + section
}

// lineOfText is the 1-based line of the first occurrence of s in text.
func lineOfText(text, s string) int {
	return 1 + strings.Count(text[:strings.Index(text, s)], "\n")
}

// An inline section parses into the scenario; absent keys stay empty (the
// desktop's defaults).
func TestDesktopSection(t *testing.T) {
	s, err := Parse("d.yaml", []byte(withDesktop(`  reason_codes: [{code: 1, label: Break}, {code: 6, label: Back office}]
  dispositions: [{code: sale, label: Sale}, {code: callback, label: Callback, callback: true}]
  after_call: not_ready
  after_call_reason: 6
  scripts:
    outbound:
      steps:
        - {id: a, text: "Hello {{customer.name}}", answers: [{value: "y", label: "Yes", next: b}]}
        - {id: b, text: Bye, end: true, fields: [{name: plan, label: Plan, pattern: "basic|plus", target: "ECC:user.plan"}]}
`)))
	if err != nil {
		t.Fatal(err)
	}
	d := s.Desktop
	if len(d.ReasonCodes) != 2 || d.ReasonCodes[1] != (ReasonCode{6, "Back office"}) || len(d.Dispositions) != 2 || !d.Dispositions[1].Callback ||
		d.AfterCall != AfterCallNotReady || d.AfterCallReason != 6 || d.Scripts.Inbound != nil || d.Customers != nil {
		t.Fatalf("desktop %+v", d)
	}
	if o := d.Scripts.Outbound; o == nil || len(o.Steps) != 2 || o.Steps[0].Answers[0].Next != "b" || o.Steps[1].Fields[0].Target != "ECC:user.plan" {
		t.Fatalf("outbound script %+v", o)
	}
	def, err := Default()
	if err != nil || def.Desktop.ReasonCodes != nil || def.Desktop.Scripts.Inbound != nil {
		t.Fatalf("default scenario's desktop %+v %v", def.Desktop, err)
	}
}

// Every bad key of the section is reported at its line with its path.
func TestDesktopSectionProblems(t *testing.T) {
	okScript := "      steps:\n        - {id: a, text: Hi, end: true}\n"
	cases := []struct{ section, at, want string }{
		{"  reason_codes: []\n", "reason_codes", "desktop.reason_codes: list at least one reason code"},
		{"  reason_codes: [{code: 0, label: X}]\n", "reason_codes", "desktop.reason_codes[0].code: must be a reason code 1-65535, got 0"},
		{"  reason_codes: [{code: 32767, label: X}]\n", "reason_codes", "desktop.reason_codes[0].code: 32767 is a system reason code (RONA)"},
		{"  reason_codes:\n    - {code: 3, label: A}\n    - {code: 3, label: B}\n", "{code: 3, label: B}", "desktop.reason_codes[1].code: reason code 3 is listed twice"},
		{"  reason_codes: [{code: 3}]\n", "reason_codes", "desktop.reason_codes[0].label: must be 1-64 characters"},
		{"  dispositions: [{code: Sale, label: Sale}]\n", "dispositions", `desktop.dispositions[0].code: must be 1-32 lower case letters, digits and _ starting with a letter, got "Sale"`},
		{"  dispositions:\n    - {code: sale, label: A}\n    - {code: sale, label: B}\n", "{code: sale, label: B}", `desktop.dispositions[1].code: disposition "sale" is listed twice`},
		{"  dispositions: []\n", "dispositions", "desktop.dispositions: list at least one disposition"},
		{"  after_call: lunch\n", "after_call", `desktop.after_call: must be ready or not_ready, got "lunch"`},
		{"  after_call: not_ready\n  after_call_reason: 9\n", "after_call_reason", "desktop.after_call_reason: after_call: not_ready needs one of the desktop's reason codes, got 9"},
		{"  reason_codes: [{code: 9, label: X}]\n  after_call: not_ready\n  after_call_reason: 2\n", "after_call_reason", "desktop.after_call_reason: after_call: not_ready needs one of the desktop's reason codes, got 2"},
		{"  after_call_reason: 2\n", "after_call_reason", "desktop.after_call_reason: applies to after_call: not_ready only"},
		{"  scripts:\n    inbound:\n      file: s.yaml\n" + okScript, "file", "desktop.scripts.inbound.file: give a script file or name, start and steps inline, not both"},
		{"  scripts:\n    inbound: {name: x}\n", "inbound", "desktop.scripts.inbound.steps: a script needs at least one step"},
		{"  scripts:\n    inbound:\n      start: z\n" + okScript, "start", `desktop.scripts.inbound.start: unknown step "z"`},
		{"  scripts:\n    inbound:\n      steps:\n        - {id: a, text: Hi, next: b}\n        - {id: b, text: Bye, next: x}\n", "{id: b", `desktop.scripts.inbound.steps[1].next: unknown step "x"`},
		{"  scripts:\n    inbound:\n      steps:\n        - {id: a, text: Hi}\n        - {id: b, text: Bye, end: true}\n", "{id: a", "desktop.scripts.inbound.steps[0].next: a step without answers needs next (or end: true)"},
		{"  scripts:\n    inbound:\n      steps:\n        - {id: a, text: Hi, next: a}\n", "{id: a", "desktop.scripts.inbound.steps: no step has end: true"},
		{"  scripts:\n    inbound:\n      steps:\n        - {id: a, text: Hi, end: true}\n        - {id: a, text: Bye, end: true}\n", "{id: a, text: Bye", `desktop.scripts.inbound.steps[1].id: step "a" is defined twice`},
		{"  scripts:\n    inbound:\n      steps:\n        - {id: a, text: '', end: true}\n", "{id: a", "desktop.scripts.inbound.steps[0].text: the text the agent reads is required"},
		{"  scripts:\n    inbound:\n      steps:\n        - {id: a, text: Hi, end: true, next: a}\n", "{id: a", "desktop.scripts.inbound.steps[0].end: an end step has no next or answers"},
		{"  scripts:\n    inbound:\n      steps:\n        - {id: a, text: Hi, next: a, answers: [{value: y, label: Y, next: a}]}\n", "{id: a", "desktop.scripts.inbound.steps[0].next: a step with answers goes where the answer says"},
		{"  scripts:\n    inbound:\n      steps:\n        - id: a\n          text: Hi\n          answers:\n            - {value: y, label: Y, next: q}\n        - {id: b, text: Bye, end: true}\n", "{value: y", `desktop.scripts.inbound.steps[0].answers[0].next: unknown step "q"`},
		{"  scripts:\n    inbound:\n      steps:\n        - id: a\n          text: Hi\n          end: true\n          fields:\n            - {name: Email, label: E-mail}\n", "{name: Email", `desktop.scripts.inbound.steps[0].fields[0].name: must be 1-32 lower case letters`},
		{"  scripts:\n    inbound:\n      steps:\n        - id: a\n          text: Hi\n          end: true\n          fields:\n            - {name: e, label: E, pattern: \"[a-\"}\n", "pattern", "desktop.scripts.inbound.steps[0].fields[0].pattern: not a regular expression"},
		{"  scripts:\n    inbound:\n      steps:\n        - id: a\n          text: Hi\n          end: true\n          fields:\n            - {name: e, label: E, target: CallVariable11}\n", "target", "desktop.scripts.inbound.steps[0].fields[0].target: call variables are CallVariable1…CallVariable10"},
		{"  scripts:\n    inbound:\n      steps:\n        - id: a\n          text: Hi\n          end: true\n          fields:\n            - {name: e, label: E, target: \"ECC:\"}\n", "target", "desktop.scripts.inbound.steps[0].fields[0].target: an ECC variable's name is 1-32 characters"},
		{"  customers: {key: account}\n", "customers", "desktop.customers.file: a CSV file with a header row is required"},
		{"  scripts:\n    inbound:\n      stpes: []\n", "stpes", "field stpes not found"},
	}
	for _, tc := range cases {
		text := withDesktop(tc.section)
		_, err := Parse("bad.yaml", []byte(text))
		want := "bad.yaml:" + itoa(lineOfText(text, "desktop:\n"+tc.section)-1+lineOfText(tc.section, tc.at)+1) + ": "
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), want) {
			t.Errorf("%q:\n got %v\nwant %s… %q", tc.section, err, want, tc.want)
		}
	}
}

// Load reads script and customer files relative to the scenario; their
// problems name the file, its line and the scenario's field.
func TestDesktopFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	section := "  scripts:\n    inbound: {file: desk/in.yaml}\n  customers: {file: desk/c.csv}\n"
	write("s.yaml", withDesktop(section))
	write("desk/in.yaml", "name: in\nsteps:\n  - {id: a, text: \"Hi {{customer.name}}\", next: b}\n  - {id: b, text: Bye, end: true}\n")
	write("desk/c.csv", "account,Name,phone,plan\n0042,Ada Lovelace,+1 212 555 0100,gold\n\n0043, Grace Hopper ,,\n")
	s, err := Load(filepath.Join(dir, "s.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	in := s.Desktop.Scripts.Inbound
	if in == nil || in.File != "desk/in.yaml" || in.Name != "in" || len(in.Steps) != 2 || in.Steps[0].Next != "b" {
		t.Fatalf("inbound script %+v", in)
	}
	cu := s.Desktop.Customers.Records
	if len(cu) != 2 || cu[0].Key != "0042" || cu[0].Name != "Ada Lovelace" || cu[0].Phone != "+1 212 555 0100" || cu[0].Fields["plan"] != "gold" ||
		cu[0].Fields["account"] != "0042" || cu[1].Name != "Grace Hopper" || cu[1].Phone != "" {
		t.Fatalf("customers %+v", cu)
	}

	scen := filepath.Join(dir, "s.yaml")
	scenLine := func(s string) string { return scen + ":" + itoa(lineOfText(withDesktop(section), s)) + ": " }
	cases := []struct{ file, text, want string }{
		{"desk/in.yaml", "steps:\n  - {id: a, text: Hi, next: b}\n  - {id: b, text: Bye, next: x}\n",
			filepath.Join(dir, "desk/in.yaml") + `:3: desktop.scripts.inbound.steps[1].next: unknown step "x"`},
		{"desk/in.yaml", "steps:\n  - {id: a, text: Hi, end: true, colour: red}\n", filepath.Join(dir, "desk/in.yaml") + ":2: desktop.scripts.inbound"},
		{"desk/in.yaml", "file: other.yaml\nsteps:\n  - {id: a, text: Hi, end: true}\n", filepath.Join(dir, "desk/in.yaml") + ":1: desktop.scripts.inbound.file: a script file holds name, start and steps"},
		{"desk/in.yaml", "", filepath.Join(dir, "desk/in.yaml") + ":1: desktop.scripts.inbound: empty script file"},
		{"desk/in.yaml", "steps: [", filepath.Join(dir, "desk/in.yaml") + ":1: desktop.scripts.inbound: yaml:"},
		{"desk/c.csv", "account,name\n1,A\n,B\n1,C\n", filepath.Join(dir, "desk/c.csv") + ":3: account: empty"},
		{"desk/c.csv", "account,name\n1,A\n1,C\n", filepath.Join(dir, "desk/c.csv") + `:3: account: "1" is also the key of line 2`},
		{"desk/c.csv", "account,name\n1,A,x\n", filepath.Join(dir, "desk/c.csv") + ":2: desktop.customers.file: wrong number of fields"},
		{"desk/c.csv", "acct,name\n1,A\n", scenLine("customers") + `desktop.customers.key: ` + filepath.Join(dir, "desk/c.csv") + ` has no column "account" (columns: acct, name)`},
		{"desk/c.csv", "account,account\n", filepath.Join(dir, "desk/c.csv") + `:1: desktop.customers.file: column "account" is named twice`},
		{"desk/c.csv", "", filepath.Join(dir, "desk/c.csv") + ":1: desktop.customers.file: empty file"},
	}
	for _, tc := range cases {
		write("desk/in.yaml", "steps:\n  - {id: a, text: Hi, end: true}\n")
		write("desk/c.csv", "account\n1\n")
		write(tc.file, tc.text)
		_, err := Load(scen)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %q:\n got %v\nwant %q", tc.file, tc.text, err, tc.want)
		}
	}
	write("desk/c.csv", "account\n1\n")
	os.Remove(filepath.Join(dir, "desk/in.yaml"))
	if _, err := Load(scen); err == nil || !strings.Contains(err.Error(), scenLine("inbound: {file")+"desktop.scripts.inbound.file: cannot read the script") {
		t.Errorf("missing script: %v", err)
	}
	write("s.yaml", withDesktop("  customers: {file: desk/c.csv, phone: tel}\n"))
	if _, err := Load(scen); err == nil || !strings.Contains(err.Error(), `desktop.customers.phone: `+filepath.Join(dir, "desk/c.csv")+` has no column "tel"`) {
		t.Errorf("missing phone column: %v", err)
	}
}

// The shipped example loads with its script and customers.
func TestDeskScenario(t *testing.T) {
	s, err := Load("desk.yaml")
	if err != nil {
		t.Fatal(err)
	}
	d := s.Desktop
	if d.Scripts.Inbound == nil || len(d.Scripts.Inbound.Steps) == 0 || d.Customers == nil || len(d.Customers.Records) < 100 {
		t.Fatalf("desk.yaml's desktop %+v", d)
	}
	desk := 0
	for _, g := range s.Agents {
		if g.Desktop {
			desk += g.Count
		}
	}
	if desk == 0 {
		t.Fatal("desk.yaml has no desktop agents")
	}
}
