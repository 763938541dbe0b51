package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestBenchBlendJSON: one row for the controller and one per optimal
// reserve, each with its days counted and a pooled share; the days are the
// ones asked for.
func TestBenchBlendJSON(t *testing.T) {
	out, err := run(t, "bench", "blend", "--scenario", "../../scenarios/blended-frontier.yaml", "--days", "2", "--hours", "1", "--optimal", "4,6", "--json", "--per-day")
	if err != nil {
		t.Fatal(err)
	}
	var rows []struct {
		Policy string `json:"policy"`
		Pooled struct {
			Days                int     `json:"days"`
			AchievableHalfHours int     `json:"achievable_half_hours"`
			Share               float64 `json:"share"`
		} `json:"pooled"`
		Days []struct {
			Seed uint64 `json:"seed"`
		} `json:"days"`
	}
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(rows) != 3 || !strings.Contains(rows[0].Policy, "reserve_agents 5, reserve_borrow 2") || rows[2].Policy != "optimal threshold policy, r = 6" {
		t.Fatalf("rows: %+v", rows)
	}
	for _, r := range rows {
		if r.Pooled.Days != 2 || r.Pooled.AchievableHalfHours == 0 || r.Pooled.Share <= 0 {
			t.Errorf("%s: %+v", r.Policy, r.Pooled)
		}
	}
	if len(rows[0].Days) != 2 || rows[0].Days[0].Seed != 1 || rows[0].Days[1].Seed != 2 {
		t.Errorf("per-day seeds: %+v", rows[0].Days)
	}
}

func TestBenchBlendBadInput(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--optimal", "5,x"}, `"x" is not a reserve`},
		{[]string{"--hours", "0"}, "--hours 0"},
		{[]string{"--mode", "reactive", "--reserve-agents", "3"}, "need mode reserve"},
		{[]string{"--days", "0"}, "0 days"},
		{[]string{"--scenario", "../../scenarios/default.yaml", "--mode", "reserve", "--reserve-borrow", "1"}, "needs controller.pacing.mode: pool"},
		{[]string{"--optimal", "40", "--days", "1", "--hours", "1"}, "reserve 40"},
	} {
		args := append([]string{"bench", "blend", "--scenario", "../../scenarios/blended-frontier.yaml"}, tc.args...)
		if _, err := run(t, args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.args, err, tc.want)
		}
	}
}
