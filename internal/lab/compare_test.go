package lab

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/ipcclab/ipcclab/scenarios"
)

// TestErlangBBoundMatchesTableE checks the open-loop bound against
// dialer-anchors.md §5.6 E (occupancy at 3 % and 1 % abandon).
func TestErlangBBoundMatchesTableE(t *testing.T) {
	for _, tc := range []struct {
		n     int
		limit float64
		want  float64
	}{
		{5, 0.03, 0.364}, {10, 0.03, 0.536}, {20, 0.03, 0.679}, {50, 0.03, 0.813}, {100, 0.03, 0.881},
		{20, 0.01, 0.596}, {100, 0.01, 0.832},
	} {
		if got := erlangBBound(tc.n, tc.limit); math.Abs(got-tc.want) > 0.0006 {
			t.Errorf("N=%d at %v: %.4f, table E says %.3f", tc.n, tc.limit, got, tc.want)
		}
	}
}

func outboundScenario(t *testing.T) *scenarios.Scenario {
	t.Helper()
	sc, err := scenarios.Embedded("outbound")
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// TestCompareSameTrafficOursWins runs three strategies on one seeded hour:
// every row is filled in, ours stays under its limit and beats progressive
// and DIAL2XFREE at an equal or lower abandon rate.
func TestCompareSameTrafficOursWins(t *testing.T) {
	const seed = 7
	res, err := Compare(context.Background(), CompareOptions{Scenario: outboundScenario(t), Agents: 20, Duration: 8 * time.Hour,
		Seed: seed, Strategies: []string{"progressive", "threshold-dial2xfree", "predictive"}})
	if err != nil {
		t.Fatalf("seed %d: %v", seed, err)
	}
	if len(res.Rows) != 3 {
		t.Fatalf("seed %d: %d rows", seed, len(res.Rows))
	}
	by := map[string]CompareRow{}
	for _, r := range res.Rows {
		by[r.Strategy] = r
		if r.Agents != 20 || r.Hours != 8 || r.Attempts == 0 || r.LiveAnswered == 0 || r.Occupancy <= 0 || r.InboundServiceLevel < 0 {
			t.Errorf("seed %d: row %+v incomplete", seed, r)
		}
	}
	ours := by["predictive"]
	if ours.AbandonRate > 0.03 || !ours.Compliant {
		t.Errorf("seed %d: ours abandoned %.4f, over the 3 %% limit", seed, ours.AbandonRate)
	}
	if ours.Occupancy <= res.ErlangBBound {
		t.Errorf("seed %d: ours' occupancy %.4f does not beat the Erlang-B bound %.4f", seed, ours.Occupancy, res.ErlangBBound)
	}
	for _, name := range []string{"progressive", "threshold-dial2xfree"} {
		b := by[name]
		if b.Ours == nil || b.Beaten == nil || !*b.Beaten {
			t.Errorf("seed %d: %s (%.4f at %.4f) not beaten by ours at an equal or lower abandon rate: %+v", seed, name, b.Occupancy, b.AbandonRate, b.Ours)
		}
	}
	if p := by["progressive"]; p.AbandonRate != 0 {
		t.Errorf("seed %d: progressive abandoned %.4f; one line per ready agent should not", seed, p.AbandonRate)
	}
}

// TestCompareIsDeterministic: the same seed gives the same table.
func TestCompareIsDeterministic(t *testing.T) {
	opts := CompareOptions{Scenario: outboundScenario(t), Agents: 10, Duration: 30 * time.Minute, Seed: 3,
		Strategies: []string{"threshold-dial1xfree", "predictive"}}
	a, err := Compare(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Compare(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	for i := range a.Rows {
		x, y := a.Rows[i], b.Rows[i]
		x.Ours, y.Ours, x.Beaten, y.Beaten = nil, nil, nil, nil
		if x != y {
			t.Fatalf("seed 3: run 1 %+v, run 2 %+v", x, y)
		}
	}
}

func TestCompareRefusesUnfitScenarios(t *testing.T) {
	def, err := scenarios.Default()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Compare(context.Background(), CompareOptions{Scenario: def}); err == nil || !strings.Contains(err.Error(), "pool") {
		t.Errorf("default scenario (agent mode): %v", err)
	}
	sc := outboundScenario(t)
	sc.Outbound.Fate = scenarios.FateStream
	if _, err := Compare(context.Background(), CompareOptions{Scenario: sc}); err == nil || !strings.Contains(err.Error(), "per_number") {
		t.Errorf("stream fate: %v", err)
	}
	if _, err := Compare(context.Background(), CompareOptions{Scenario: outboundScenario(t), Agents: 5000}); err == nil {
		t.Error("5000 agents: no error")
	}
}
