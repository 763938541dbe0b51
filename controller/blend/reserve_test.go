package blend

import (
	"math"
	"strings"
	"testing"
	"time"
)

// TestThresholdModelMatchesTableD checks Solve against dialer-anchors.md
// §5.6 D (s = 20, AHT 180 s, 240 inbound calls/h; and s = 50, 800/h).
func TestThresholdModelMatchesTableD(t *testing.T) {
	for _, tc := range []struct {
		s, r            int
		perHour         float64
		pwait, asa, sl  float64
		outPerHour, occ float64
	}{
		{20, 0, 240, 1.0000, 22.50, 0.5889, 160.0, 1.000},
		{20, 1, 240, 0.6000, 13.50, 0.7533, 152.0, 0.980},
		{20, 2, 240, 0.3673, 8.27, 0.8490, 139.6, 0.949},
		{20, 3, 240, 0.2323, 5.23, 0.9045, 125.0, 0.913},
		{20, 5, 240, 0.1048, 2.36, 0.9569, 94.1, 0.835},
		{20, 8, 240, 0.0447, 1.01, 0.9816, 50.7, 0.727},
		{50, 0, 800, -1, -1, 0.6708, 200.0, -1},
		{50, 5, 800, -1, -1, 0.8846, 156.7, -1},
		{50, 10, 800, -1, -1, 0.9460, 93.4, -1},
	} {
		m := ThresholdModel{Agents: tc.s, Lambda: tc.perHour / 3600, Mu: 1.0 / 180, Reserve: tc.r}
		got, err := m.Solve(20 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		check := func(name string, got, want, tol float64) {
			if want >= 0 && math.Abs(got-want) > tol {
				t.Errorf("s=%d r=%d %s: %.4f, table D %.4f", tc.s, tc.r, name, got, want)
			}
		}
		check("P(wait)", got.PWait, tc.pwait, 0.00006)
		check("ASA", got.ASA, tc.asa, 0.006)
		check("SL20", got.ServiceLevel, tc.sl, 0.00006)
		check("outbound/h", got.OutboundRate*3600, tc.outPerHour, 0.06)
		check("occupancy", got.Occupancy, tc.occ, 0.0006)
	}
	if _, err := (ThresholdModel{Agents: 10, Lambda: 240.0 / 3600, Mu: 1.0 / 180}).Solve(20 * time.Second); err == nil {
		t.Error("12 Erlang on 10 agents: no error")
	}
}

// measure240 feeds r 240 calls/h for the 15 minutes from t0 and 100
// handled calls of 180 s: table D's traffic.
func measure240(r *Reserve, t0 time.Time) {
	for i := range 60 {
		r.Offered(t0.Add(time.Duration(i)*15*time.Second), 1)
	}
	for range 100 {
		r.Handled(180 * time.Second)
	}
}

func TestReserveSizesFromMeasuredTraffic(t *testing.T) {
	r, err := NewReserve(ReserveConfig{ServiceLevelTarget: 0.80, ServiceLevelThreshold: 20 * time.Second, Margin: 0.01})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)
	if k, _ := r.Size(t0, 20); k != 20 {
		t.Fatalf("nothing measured yet: reserve %d, want all 20", k)
	}
	measure240(r, t0)
	now := t0.Add(15 * time.Minute)
	k, res := r.Size(now, 20)
	// Table D: r = 2 gives 84.9 %, r = 1 75.3 %: the target 81 % needs 2.
	if k != 2 || math.Abs(res.ServiceLevel-0.849) > 0.002 {
		t.Fatalf("reserve %d (SL %.4f), want 2 (84.9 %%)", k, res.ServiceLevel)
	}
	if _, err := NewReserve(ReserveConfig{ServiceLevelTarget: 1.5}); err == nil {
		t.Fatal("target 1.5: no error")
	}
}

// TestPlannedReserve: a planned reserve is r from the first instant,
// whatever the measurements (at most the agents), with the model's
// prediction at what is measured; negative plans and borrows are refused.
func TestPlannedReserve(t *testing.T) {
	r, err := NewReserve(ReserveConfig{ServiceLevelTarget: 0.80, ServiceLevelThreshold: 20 * time.Second, Planned: 5, Borrow: 2})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)
	if k, _ := r.Size(t0, 20); k != 5 {
		t.Fatalf("planned 5, nothing measured: reserve %d", k)
	}
	measure240(r, t0)
	// Measured 240/h and 180 s: sized, r would be 2 or 3; planned, it is 5,
	// with table D's 95.69 % for it.
	k, res := r.Size(t0.Add(15*time.Minute), 20)
	if k != 5 || math.Abs(res.ServiceLevel-0.9569) > 0.002 {
		t.Fatalf("reserve %d (SL %.4f), want the planned 5 (95.69 %%)", k, res.ServiceLevel)
	}
	if k, _ := r.Size(t0.Add(15*time.Minute), 4); k != 4 {
		t.Fatalf("planned 5 of 4 agents: %d", k)
	}
	if r.Borrow() != 2 {
		t.Fatalf("borrow %d", r.Borrow())
	}
	for _, bad := range []ReserveConfig{{Planned: -1}, {Borrow: -2}} {
		bad.ServiceLevelTarget, bad.ServiceLevelThreshold = 0.8, 20*time.Second
		if _, err := NewReserve(bad); err == nil || !strings.Contains(err.Error(), "Planned") {
			t.Errorf("%+v: %v", bad, err)
		}
	}
}
