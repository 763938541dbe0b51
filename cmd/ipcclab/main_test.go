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
