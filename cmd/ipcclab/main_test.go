package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := newRoot(&out, &errOut)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(context.Background())
	return out.String(), err
}

// The contract for `simulate --json`: one JSON object with at least
// these keys.
func TestSimulateJSONHasTheDocumentedKeys(t *testing.T) {
	out, err := run(t, "simulate", "--hours", "1", "--seed", "3", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("not one JSON object: %v\n%s", err, out)
	}
	for _, key := range []string{"sim_seconds", "wall_seconds", "events_processed", "inbound.offered", "inbound.answered",
		"inbound.abandoned", "inbound.service_level", "inbound.asa_seconds", "outbound.attempts", "outbound.connects",
		"outbound.abandoned", "agents.occupancy", "blending.moves_to_inbound", "blending.moves_to_outbound"} {
		var v any = m
		for _, part := range strings.Split(key, ".") {
			obj, ok := v.(map[string]any)
			if !ok {
				v = nil
				break
			}
			v = obj[part]
		}
		if _, ok := v.(float64); !ok {
			t.Errorf("key %s missing or not a number (%v)", key, v)
		}
	}
	if m["sim_seconds"].(float64) != 3600 {
		t.Errorf("sim_seconds %v, want 3600", m["sim_seconds"])
	}
}

func TestBadInputIsRefusedWithItsLocation(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("name: x\nicm:\n  skill_groups:\n    - {number: 0, id: 1}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"scenario", "check", bad}, {"simulate", "--scenario", bad}} {
		_, err := run(t, args...)
		if err == nil || !strings.Contains(err.Error(), bad+":4: icm.skill_groups[0].number") {
			t.Errorf("%v: error %v does not name file, line and field", args, err)
		}
	}
	if _, err := run(t, "simulate", "--hours", "0"); err == nil || !strings.Contains(err.Error(), "--hours") {
		t.Errorf("--hours 0 accepted: %v", err)
	}
	if _, err := run(t, "simulate", "--scenario", filepath.Join(dir, "missing.yaml")); err == nil {
		t.Error("a missing scenario file was accepted")
	}
}

func TestScenarioDefaultPrintsAValidFile(t *testing.T) {
	out, err := run(t, "scenario", "default")
	if err != nil || !strings.Contains(out, "name: default") {
		t.Fatalf("%v\n%s", err, out)
	}
	f := filepath.Join(t.TempDir(), "d.yaml")
	if err := os.WriteFile(f, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := run(t, "scenario", "check", f); err != nil || !strings.Contains(out, "ok") {
		t.Fatalf("%v %s", err, out)
	}
}

// The issue's contract for `simulate --compare --agents N --hours H --seed S
// --json`: a JSON array, one object per strategy, with at least these keys.
func TestSimulateCompareJSONHasTheDocumentedKeys(t *testing.T) {
	out, err := run(t, "simulate", "--compare", "--agents", "10", "--hours", "0.5", "--seed", "5", "--json",
		"--strategies", "progressive,vicidial-hard,predictive")
	if err != nil {
		t.Fatal(err)
	}
	var rows []map[string]any
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("not a JSON array: %v\n%s", err, out)
	}
	if len(rows) != 3 {
		t.Fatalf("%d rows, want 3", len(rows))
	}
	for i, want := range []string{"progressive", "vicidial-hard", "predictive"} {
		if rows[i]["strategy"] != want {
			t.Errorf("row %d strategy %v, want %s", i, rows[i]["strategy"], want)
		}
		for _, key := range []string{"occupancy", "abandon_rate", "connects_per_agent_hour", "inbound_service_level"} {
			if _, ok := rows[i][key].(float64); !ok {
				t.Errorf("row %d: %s missing or not a number (%v)", i, key, rows[i][key])
			}
		}
	}
	if _, err := run(t, "simulate", "--agents", "10"); err == nil || !strings.Contains(err.Error(), "--compare") {
		t.Errorf("--agents without --compare: %v", err)
	}
	if _, err := run(t, "simulate", "--compare", "--strategies", "magic", "--hours", "0.1"); err == nil || !strings.Contains(err.Error(), "magic") {
		t.Errorf("unknown strategy: %v", err)
	}
}

func TestSimulatePlotWritesTheCharts(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "day")
	var out, errOut bytes.Buffer
	cmd := newRoot(&out, &errOut)
	cmd.SetArgs([]string{"simulate", "--plot", dir, "--hours", "1", "--seed", "3", "--json", "--progress"})
	if err := cmd.ExecuteContext(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"service-level", "dial-level", "agent-states", "blending"} {
		for _, ext := range []string{".png", ".svg"} {
			if fi, err := os.Stat(filepath.Join(dir, name+ext)); err != nil || fi.Size() == 0 {
				t.Errorf("%s%s: %v", name, ext, err)
			}
		}
	}
	var m map[string]any
	if err := json.Unmarshal(out.Bytes(), &m); err != nil {
		t.Errorf("--plot spoiled the JSON on stdout: %v", err)
	}
	if e := errOut.String(); !strings.Contains(e, "100 %  1:00 of 1:00 virtual time\n") || !strings.Contains(e, "blending.svg") {
		t.Errorf("stderr has no finished progress bar or chart list:\n%q", e)
	}
}

func TestSimulateWithoutProgressWritesNoBar(t *testing.T) {
	var out, errOut bytes.Buffer
	cmd := newRoot(&out, &errOut)
	cmd.SetArgs([]string{"simulate", "--hours", "0.5"})
	if err := cmd.ExecuteContext(context.Background()); err != nil {
		t.Fatal(err)
	}
	if errOut.Len() != 0 {
		t.Errorf("stderr is not a terminal but got %q", errOut.String())
	}
}

func TestSimulatePlotRefusesABadDirectoryBeforeTheRun(t *testing.T) {
	file := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"simulate", "--plot", file, "--hours", "1"}, "--plot: charts: " + file + " is not a directory"},
		{[]string{"simulate", "--plot", filepath.Join(file, "sub"), "--hours", "1"}, "cannot create directory " + filepath.Join(file, "sub")},
		{[]string{"simulate", "--plot", t.TempDir(), "--plot-every", "0s"}, "--plot-every must be positive"},
		{[]string{"simulate", "--plot", t.TempDir(), "--compare"}, "--plot goes without --compare"},
	} {
		out, err := run(t, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: got %v, want an error with %q", tc.args, err, tc.want)
		}
		if out != "" {
			t.Errorf("%v: the run went ahead: %q", tc.args, out)
		}
	}
}
