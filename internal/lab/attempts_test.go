package lab

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ipcclab/ipcclab/controller/campaign"
	"github.com/ipcclab/ipcclab/controller/reporting"
	"github.com/ipcclab/ipcclab/scenarios"
)

// A call list's attempt records, seen on the controller's CTI session,
// agree with the campaign store's journal, the controller's own record:
// same attempts, same outcomes, numbered as the journal numbers them; and
// keeping them changes nothing in the run.
func TestAttemptRecordsAgreeWithTheJournal(t *testing.T) {
	for _, tc := range []struct {
		name, mode string
		// short: two campaign agents for many live answers, so that pool
		// mode abandons calls (and connects some late).
		short bool
	}{{"pool", scenarios.PacingPool, false}, {"pool short of agents", scenarios.PacingPool, true}, {"agent", scenarios.PacingAgent, false}} {
		t.Run(tc.name, func(t *testing.T) {
			mode := tc.mode
			sc := callListScenario(t)
			sc.Controller.Pacing.Mode = mode
			if tc.short {
				// A big list dialed at three lines per agent: more live
				// answers than agents.
				sc.Outbound.List = &scenarios.CallList{Generate: &scenarios.GenerateList{Count: 2000, Seed: 4,
					TimeZones: []string{"Europe/London", "America/New_York"}}}
				sc.Outbound.DNC = nil
				sc.Controller.Pacing.Strategy = "ratio-3"
			}
			var atts []reporting.Attempt
			var disagree []string
			logf := func(format string, args ...any) {
				if line := fmt.Sprintf(format, args...); strings.Contains(line, "attempt records") {
					disagree = append(disagree, line)
				}
			}
			const seed = 3
			with, err := Simulate(context.Background(), SimOptions{Scenario: sc, Seed: seed, Duration: 8 * time.Hour, Attempts: &atts, Logf: logf})
			if err != nil {
				t.Fatal(err)
			}
			without, err := Simulate(context.Background(), SimOptions{Scenario: sc, Seed: seed, Duration: 8 * time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			with.WallSeconds, without.WallSeconds = 0, 0
			a, _ := json.Marshal(with)
			b, _ := json.Marshal(without)
			if string(a) != string(b) {
				t.Errorf("seed %d: keeping attempt records changed the report:\nwith    %s\nwithout %s", seed, a, b)
			}
			for _, line := range disagree {
				t.Errorf("seed %d: %s", seed, line)
			}
			if len(atts) != with.Outbound.List.Attempts || len(atts) != with.Outbound.Attempts {
				t.Fatalf("seed %d: %d attempt records, the journal holds %d, the PG saw %d dials", seed, len(atts),
					with.Outbound.List.Attempts, with.Outbound.Attempts)
			}
			perRecord := map[int64]int{}
			outcomes := map[reporting.Outcome]int{}
			for i, a := range atts {
				if i > 0 && a.Start.Before(atts[i-1].Start) {
					t.Fatalf("seed %d: attempts out of start order at %d", seed, i)
				}
				perRecord[a.RecordID]++
				if a.RecordID == 0 || a.AttemptNumber != perRecord[a.RecordID] {
					t.Errorf("seed %d: attempt %+v: want record %d's attempt %d", seed, a, a.RecordID, perRecord[a.RecordID])
				}
				outcomes[a.Outcome]++
				if mode == scenarios.PacingAgent && a.AgentID == "" || mode == scenarios.PacingPool && a.Port == "" {
					t.Errorf("seed %d: %s attempt %+v without its agent or port", seed, mode, a)
				}
			}
			o := with.Outbound
			if outcomes[campaign.Busy] != o.Busy || outcomes[campaign.NoAnswer] != o.NoAnswer ||
				outcomes[campaign.Answered]+outcomes[campaign.Abandoned] != o.Connects+o.Abandoned {
				t.Errorf("seed %d: outcomes %v, report %+v", seed, outcomes, o)
			}
			t.Logf("%s: %d attempts, outcomes %v, %d records tried", mode, len(atts), outcomes, len(perRecord))
		})
	}
}

func TestAttemptModeNamesHowTheControllerDials(t *testing.T) {
	for _, tc := range []struct {
		mode, strategy, want string
	}{
		{scenarios.PacingAgent, "", "progressive"},
		{scenarios.PacingPool, "vicidial-hard", "pool/vicidial-hard"},
		{scenarios.PacingPreview, "", "preview"},
	} {
		sc := callListScenario(t)
		sc.Controller.Pacing.Mode, sc.Controller.Pacing.Strategy = tc.mode, tc.strategy
		ccfg, err := ControllerConfig(sc, false)
		if err != nil {
			t.Fatal(err)
		}
		if got := attemptMode(ccfg); got != tc.want {
			t.Errorf("%s %s: mode %q, want %q", tc.mode, tc.strategy, got, tc.want)
		}
	}
}
