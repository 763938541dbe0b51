package main

// `up`'s desktop built from a scenario's desktop section, against the real
// emulator (CTI only, no controller): the configured script, dispositions
// and customer file reach the screen pop and the forms.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ipcclab/ipcclab/controller/desktop"
	"github.com/ipcclab/ipcclab/internal/lab"
	"github.com/ipcclab/ipcclab/scenarios"
)

// deskCentre is one inbound desktop agent (1001 at 2001) and callers only
// when the test brings them in (Running.Arrive).
const deskCentre = `name: desk-config
start: "08:00"
hours: 1
icm:
  ring_no_answer_timeout: 120s
  skill_groups:
    - {number: 100, id: 5100, name: Sales}
  call_types:
    - id: 1
      name: SalesInbound
      dialed_number: "8005550100"
      targets: [{skill_group: 100}]
      arrivals: {segment: 60s, per_hour: [0]}
agents:
  - {name: people, role: inbound, desktop: true, count: 1, first_agent_id: 1001, first_extension: 2001, skill_groups: [100], wrap_up: {shape: fixed, mean: 1h}}
callers:
  patience: {shape: fixed, mean: 0s}
  talk: {shape: fixed, mean: 1h}
controller:
  blend: {enabled: false}
`

// deskSeed is the seed both centres of the test run with.
const deskSeed = 11

type deskClient struct {
	t    *testing.T
	base string
}

func (c deskClient) post(api string, kv ...string) (int, map[string]json.RawMessage) {
	c.t.Helper()
	form := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		form.Set(kv[i], kv[i+1])
	}
	resp, err := http.PostForm(c.base+"/desktop/api/"+api, form)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		c.t.Fatalf("%s: %v", api, err)
	}
	return resp.StatusCode, m
}

// await polls the session's view until ok holds.
func (c deskClient) await(session, what string, ok func(desktop.View) bool) desktop.View {
	c.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(c.base + "/desktop/api/view?session=" + session)
		if err != nil {
			c.t.Fatal(err)
		}
		var v desktop.View
		err = json.NewDecoder(resp.Body).Decode(&v)
		resp.Body.Close()
		if err == nil && ok(v) {
			return v
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("seed %d: timed out waiting for %s; view %+v (%v)", deskSeed, what, v, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ringing starts the centre of the scenario file with `up`'s desktop, logs
// 1001 in, makes it ready, brings one caller in and returns the desktop's
// client, session and view of the ringing call.
func ringing(t *testing.T, path string) (deskClient, string, desktop.View) {
	t.Helper()
	sc, err := scenarios.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	run, err := lab.Start(ctx, lab.UpOptions{Scenario: sc, Seed: deskSeed, CTIAddr: "127.0.0.1:0", NoController: true,
		Duration: time.Hour, HTTPAddr: "127.0.0.1:0", Desktop: agentDesktop})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = run.Stop() })
	run.Begin()
	c := deskClient{t: t, base: "http://" + run.HTTPAddr()}
	code, m := c.post("login", "agent", "1001", "extension", "2001", "password", "1234")
	if code != http.StatusOK {
		t.Fatalf("seed %d: login: %d %s", deskSeed, code, m["error"])
	}
	var s string
	_ = json.Unmarshal(m["session"], &s)
	c.await(s, "NOT_READY after login", func(v desktop.View) bool { return v.State == "NOT_READY" })
	if code, m := c.post("state", "session", s, "state", "ready"); code != http.StatusOK {
		t.Fatalf("ready: %d %s", code, m["error"])
	}
	c.await(s, "AVAILABLE", func(v desktop.View) bool { return v.State == "AVAILABLE" })
	run.Arrive(1)
	return c, s, c.await(s, "a ringing call", func(v desktop.View) bool { return v.Call != nil && v.Call.State == "alerting" })
}

// The scenario's customer file gives the inbound screen pop its customer,
// found by the account the caller keyed at the IVR; the scenario's script
// is the one the agent follows; the scenario's dispositions are exactly
// the ones accepted.
func TestDesktopFromScenario(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The first caller of the seed, with the desktop's defaults: which
	// account they key (the emulator draws it from the seed, so the second
	// centre's first caller keys the same).
	write("plain.yaml", deskCentre)
	_, _, first := ringing(t, filepath.Join(dir, "plain.yaml"))
	account := first.Call.Variables["CallVariable2"]
	if account == "" || first.Call.Customer != nil || first.Script == nil || first.Script.Step != "greet" {
		t.Fatalf("seed %d: the default desktop's screen pop: %+v script %+v", deskSeed, first.Call, first.Script)
	}

	write("customers.csv", fmt.Sprintf("account,name,phone,plan\n99999999x,Someone Else,,basic\n%s,Ada Lovelace,+1 212 555 0100,gold\n", account))
	write("script.yaml", `name: service
steps:
  - {id: hello, text: "Hello {{customer.name}}, you are on {{customer.plan}}.", next: done}
  - {id: done, text: Thanks, end: true}
`)
	write("config.yaml", deskCentre+`desktop:
  reason_codes: [{code: 7, label: Back office}]
  dispositions: [{code: resolved, label: Resolved}, {code: escalated, label: Escalated}]
  after_call: not_ready
  after_call_reason: 7
  scripts:
    inbound: {file: script.yaml}
  customers: {file: customers.csv}
`)
	c, s, v := ringing(t, filepath.Join(dir, "config.yaml"))
	if v.Call.Variables["CallVariable2"] != account {
		t.Fatalf("seed %d: the second centre's first caller keyed %q, the first's %q", deskSeed, v.Call.Variables["CallVariable2"], account)
	}
	if cu := v.Call.Customer; cu == nil || cu.Name != "Ada Lovelace" || cu.Fields["plan"] != "gold" || cu.Fields["account"] != account {
		t.Fatalf("seed %d: screen pop customer %+v, want Ada Lovelace of the customer file", deskSeed, cu)
	}
	if v.Script == nil || v.Script.Step != "hello" || v.Script.Text != "Hello Ada Lovelace, you are on gold." {
		t.Fatalf("seed %d: script %+v, want the scenario's first step", deskSeed, v.Script)
	}
	var reasons []uint16
	for _, r := range v.Reasons {
		reasons = append(reasons, r.Code)
	}
	if !slices.Equal(reasons, []uint16{7}) {
		t.Errorf("reason codes %v, want the scenario's [7]", reasons)
	}
	// "sale" is one of the desktop's defaults but not the scenario's.
	code, m := c.post("disposition", "session", s, "code", "sale")
	var field, msg string
	_ = json.Unmarshal(m["field"], &field)
	_ = json.Unmarshal(m["error"], &msg)
	if code != http.StatusBadRequest || field != "code" || !strings.HasPrefix(msg, "code: ") {
		t.Errorf("disposition sale: %d %q %q, want 400 naming code", code, field, msg)
	}
	// A configured code passes the form check and meets the ringing call.
	if code, m := c.post("disposition", "session", s, "code", "escalated"); code != http.StatusConflict {
		t.Errorf("disposition escalated during the call: %d %s, want 409 (the call is not over)", code, m["error"])
	}
}

// The scenario's default reason codes are the desktop's.
func TestScenarioDefaultReasonCodesAreTheDesktops(t *testing.T) {
	var codes []int
	for _, r := range desktop.DefaultReasonCodes {
		codes = append(codes, int(r.Code))
	}
	if !slices.Equal(codes, scenarios.DefaultDesktopReasonCodes) {
		t.Errorf("desktop %v, scenarios %v", codes, scenarios.DefaultDesktopReasonCodes)
	}
}

// A section whose files were not read (a scenario parsed from memory) is
// refused, naming the key.
func TestScenarioDesktopNeedsItsFiles(t *testing.T) {
	var cfg desktop.Config
	err := scenarioDesktop(&cfg, scenarios.Desktop{Scripts: scenarios.DesktopScripts{Inbound: &scenarios.Script{File: "in.yaml"}}})
	if err == nil || !strings.HasPrefix(err.Error(), "desktop.scripts.inbound.file: in.yaml was not read") {
		t.Errorf("unread script: %v", err)
	}
	err = scenarioDesktop(&cfg, scenarios.Desktop{Customers: &scenarios.CustomerFile{File: "c.csv"}})
	if err == nil || !strings.HasPrefix(err.Error(), "desktop.customers.file: c.csv was not read") {
		t.Errorf("unread customers: %v", err)
	}
}
