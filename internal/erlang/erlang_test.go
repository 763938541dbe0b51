package erlang

import (
	"math"
	"testing"
)

// near reports whether got rounds to want at the printed number of decimals
// (half a unit in the last printed place, plus a hair for binary fractions).
func near(got, want float64, decimals int) bool {
	return math.Abs(got-want) <= 0.5*math.Pow10(-decimals)+1e-12
}

func check(t *testing.T, what string, got, want float64, decimals int) {
	t.Helper()
	if !near(got, want, decimals) {
		t.Errorf("%s = %.*f, want %.*f", what, decimals+3, got, decimals, want)
	}
}

// Table A: λ = 200/h, AHT 180 s (10 Erl), SL threshold 20 s (§5.6 A).
func TestTableAErlangC(t *testing.T) {
	tr := PerHour(200, 180)
	for _, row := range []struct {
		c                   int
		pwait, asa, sl, occ float64 // sl and occ in percent
	}{
		{11, 0.6821, 122.78, 38.96, 90.9},
		{12, 0.4494, 40.44, 64.02, 83.3},
		{13, 0.2853, 17.12, 79.56, 76.9},
		{14, 0.1741, 7.84, 88.84, 71.4},
		{15, 0.1020, 3.67, 94.15, 66.7},
		{16, 0.0573, 1.72, 97.06, 62.5},
	} {
		r, err := ErlangCResult(row.c, tr, 20)
		if err != nil {
			t.Fatal(err)
		}
		check(t, "A P(wait)", r.PWait, row.pwait, 4)
		check(t, "A ASA", r.ASA, row.asa, 2)
		check(t, "A SL20 %", 100*r.ServiceLevel, row.sl, 2)
		check(t, "A occupancy %", 100*r.Occupancy, row.occ, 1)
	}
}

// Table B: λ = 1000/h, AHT 180 s (50 Erl) (§5.6 B).
func TestTableBErlangC(t *testing.T) {
	tr := PerHour(1000, 180)
	for _, row := range []struct {
		c              int
		pwait, asa, sl float64
	}{
		{54, 0.4736, 21.31, 69.63},
		{56, 0.3093, 9.28, 84.12},
		{58, 0.1944, 4.37, 92.01},
		{60, 0.1173, 2.11, 96.14},
	} {
		check(t, "B P(wait)", ErlangC(row.c, tr.Load()), row.pwait, 4)
		check(t, "B ASA", ASA(row.c, tr), row.asa, 2)
		check(t, "B SL20 %", 100*ServiceLevel(row.c, tr, 20), row.sl, 2)
	}
}

// Table C: Erlang A, λ = 200/h, AHT 180 s, mean patience 120 s (§5.6 C).
func TestTableCErlangA(t *testing.T) {
	tr := PerHour(200, 180)
	for _, row := range []struct {
		c                         int
		pwait, pab, meanWait, occ float64 // pab, occ in percent
	}{
		{10, 0.4969, 13.75, 16.50, 86.3},
		{11, 0.3828, 9.42, 11.30, 82.3},
		{12, 0.2798, 6.16, 7.39, 78.2},
		{13, 0.1937, 3.84, 4.61, 74.0},
		{14, 0.1270, 2.28, 2.74, 69.8},
	} {
		r, err := ErlangA(row.c, tr, 120)
		if err != nil {
			t.Fatal(err)
		}
		check(t, "C P(wait)", r.PWait, row.pwait, 4)
		check(t, "C P(abandon) %", 100*r.PAbandon, row.pab, 2)
		check(t, "C mean wait", r.MeanWait, row.meanWait, 2)
		check(t, "C occupancy %", 100*r.Occupancy, row.occ, 1)
	}
}

// Table D: threshold blending, s = 20, AHT 180 s, inbound 240/h (§5.6 D).
func TestTableDThreshold20(t *testing.T) {
	tr := PerHour(240, 180)
	for _, row := range []struct {
		r                             int
		pwait, asa, sl, outbound, occ float64
	}{
		{0, 1.0000, 22.50, 58.89, 160.0, 100.0},
		{1, 0.6000, 13.50, 75.33, 152.0, 98.0},
		{2, 0.3673, 8.27, 84.90, 139.6, 94.9},
		{3, 0.2323, 5.23, 90.45, 125.0, 91.3},
		{4, 0.1527, 3.44, 93.72, 109.6, 87.4},
		{5, 0.1048, 2.36, 95.69, 94.1, 83.5},
		{6, 0.0753, 1.69, 96.90, 78.8, 79.7},
		{8, 0.0447, 1.01, 98.16, 50.7, 72.7},
	} {
		res, err := Threshold(20, row.r, tr, 20)
		if err != nil {
			t.Fatal(err)
		}
		check(t, "D P(wait)", res.PWait, row.pwait, 4)
		check(t, "D ASA", res.ASA, row.asa, 2)
		check(t, "D SL20 %", 100*res.ServiceLevel, row.sl, 2)
		check(t, "D outbound/h", res.OutboundPerHour(), row.outbound, 1)
		check(t, "D occupancy %", 100*res.Occupancy, row.occ, 1)
	}
}

// Table D, second block: s = 50, inbound 800/h (40 Erl).
func TestTableDThreshold50(t *testing.T) {
	tr := PerHour(800, 180)
	for _, row := range []struct {
		r            int
		sl, outbound float64
	}{
		{0, 67.08, 200.0}, {3, 82.89, 179.6}, {5, 88.46, 156.7}, {7, 91.82, 131.3}, {10, 94.60, 93.4},
	} {
		res, err := Threshold(50, row.r, tr, 20)
		if err != nil {
			t.Fatal(err)
		}
		check(t, "D50 SL20 %", 100*res.ServiceLevel, row.sl, 2)
		check(t, "D50 outbound/h", res.OutboundPerHour(), row.outbound, 1)
	}
}

// Table E: occupancy of an open-loop Erlang-B dialer at a fixed abandon rate.
func TestTableEOpenLoop(t *testing.T) {
	for _, row := range []struct {
		n        int
		at3, at1 float64 // percent
	}{
		{5, 36.4, 26.9}, {10, 53.6, 44.2}, {15, 62.4, 53.5}, {20, 67.9, 59.6},
		{30, 74.6, 67.1}, {50, 81.3, 75.0}, {100, 88.1, 83.2},
	} {
		for _, c := range []struct {
			b, want float64
		}{{0.03, row.at3}, {0.01, row.at1}} {
			occ, err := OpenLoopOccupancy(row.n, c.b)
			if err != nil {
				t.Fatal(err)
			}
			check(t, "E occupancy %", 100*occ, c.want, 1)
			a, _ := LoadAtBlocking(row.n, c.b)
			if got := ErlangB(row.n, a); math.Abs(got-c.b) > 1e-12 {
				t.Errorf("E: ErlangB(%d, %v) = %v, want %v", row.n, a, got, c.b)
			}
		}
	}
}

// Table F: progressive talk share, T_fail 25 s, T_answer 8 s, wrap 15 s.
func TestTableFProgressive(t *testing.T) {
	for _, row := range []struct {
		p, talk           float64
		share, minPerHour float64
	}{
		{0.25, 180, 64.7, 38.8},
		{0.35, 180, 72.2, 43.3},
		{0.15, 90, 35.3, 21.2},
	} {
		pr := Progressive{ConnectRate: row.p, Fail: 25, Answer: 8, Talk: row.talk, Wrap: 15}
		share, err := pr.TalkShare()
		if err != nil {
			t.Fatal(err)
		}
		check(t, "F talk share %", 100*share, row.share, 1)
		check(t, "F talk min/h", 60*share, row.minPerHour, 1)
	}
}

func TestErlangBRecursionEdges(t *testing.T) {
	if got := ErlangB(0, 3); got != 1 {
		t.Errorf("ErlangB(0, 3) = %v, want 1 (no servers block everything)", got)
	}
	if got := ErlangB(5, 0); got != 0 {
		t.Errorf("ErlangB(5, 0) = %v, want 0", got)
	}
	// B(1, a) = a/(1+a).
	if got := ErlangB(1, 2); math.Abs(got-2.0/3) > 1e-15 {
		t.Errorf("ErlangB(1, 2) = %v, want 2/3", got)
	}
	if !math.IsNaN(ErlangB(-1, 1)) || !math.IsNaN(ErlangC(0, 1)) {
		t.Error("invalid input should give NaN")
	}
	if ErlangC(10, 10) != 1 || !math.IsInf(ASA(10, PerHour(200, 180)), 1) || ServiceLevel(10, PerHour(200, 180), 20) != 0 {
		t.Error("a ≥ c should be an unstable queue: P(wait) 1, ASA +Inf, SL 0")
	}
}

// Erlang A with very patient callers approaches Erlang C.
func TestErlangAApproachesErlangC(t *testing.T) {
	tr := PerHour(200, 180)
	a, err := ErlangA(13, tr, 1e7)
	if err != nil {
		t.Fatal(err)
	}
	if c := ErlangC(13, tr.Load()); math.Abs(a.PWait-c) > 1e-4 {
		t.Errorf("Erlang A P(wait) with patience 1e7 s = %v, Erlang C %v", a.PWait, c)
	}
	if asa := ASA(13, tr); math.Abs(a.MeanWait-asa) > 1e-2 {
		t.Errorf("Erlang A mean wait with patience 1e7 s = %v, Erlang C ASA %v", a.MeanWait, asa)
	}
}

// A large centre must not overflow.
func TestErlangALargeCentre(t *testing.T) {
	r, err := ErlangA(600, PerHour(12000, 180), 120)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []float64{r.PWait, r.PAbandon, r.MeanWait, r.Occupancy} {
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			t.Fatalf("Erlang A at 600 agents: %+v", r)
		}
	}
}

// The reserve-0 threshold model is the M/M/s queue kept full by outbound.
func TestThresholdWithoutReserveIsSaturated(t *testing.T) {
	r, err := Threshold(20, 0, PerHour(240, 180), 20)
	if err != nil {
		t.Fatal(err)
	}
	if r.PWait != 1 || math.Abs(r.Occupancy-1) > 1e-12 {
		t.Errorf("r=0: %+v", r)
	}
	if _, err := Threshold(20, 0, PerHour(400, 180), 20); err == nil {
		t.Error("inbound load 20 Erl on 20 agents should be rejected")
	}
	// A reserve of every agent with no outbound work left over is Erlang C.
	full, _ := Threshold(13, 13, PerHour(200, 180), 20)
	if c := ErlangC(13, 10); math.Abs(full.PWait-c) > 1e-12 || full.OutboundRate != 0 {
		t.Errorf("r=s: P(wait) %v want Erlang C %v, outbound %v want 0", full.PWait, c, full.OutboundRate)
	}
}

func TestStaffFor(t *testing.T) {
	// Table A: 13 agents give 79.56 %, 14 give 88.84 %.
	for _, c := range []struct {
		target float64
		want   int
	}{{0.80, 14}, {0.79, 13}, {0.60, 12}, {0.95, 16}} {
		got, err := StaffFor(PerHour(200, 180), 20, c.target, 100)
		if err != nil || got != c.want {
			t.Errorf("StaffFor(target %v) = %d, %v; want %d", c.target, got, err, c.want)
		}
	}
	if _, err := StaffFor(PerHour(200, 180), 20, 0.8, 12); err == nil {
		t.Error("StaffFor with too few agents should fail")
	}
}

func TestInvalidInputNamesTheProblem(t *testing.T) {
	for _, err := range []error{
		func() error { _, err := ErlangA(0, PerHour(1, 1), 1); return err }(),
		func() error { _, err := ErlangA(1, Traffic{Rate: 1, AHT: 0}, 1); return err }(),
		func() error { _, err := Threshold(5, 6, PerHour(1, 1), 20); return err }(),
		func() error { _, err := LoadAtBlocking(5, 1.5); return err }(),
		func() error { _, err := (Progressive{ConnectRate: 0}).TalkShare(); return err }(),
	} {
		if err == nil {
			t.Error("want an error")
		}
	}
}
