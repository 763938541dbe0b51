package pstn

import (
	"math"
	"testing"
	"time"

	"github.com/ipcclab/ipcclab/internal/sim"
)

var start = time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC)

// TestPiecewiseRateIsExactAtBoundaries: a zero-rate segment gets no arrival
// and each segment's count matches its own rate (per-segment exponential
// gaps restarted at each boundary, exact by memorylessness).
func TestPiecewiseRateIsExactAtBoundaries(t *testing.T) {
	loop := sim.NewLoop(start)
	var at []time.Duration
	p, err := New(Config{Scheduler: loop, Rand: sim.Stream(7, "pstn"),
		Streams:   []Stream{{CallTypeID: 1, DialedNumber: "100", Arrivals: Profile{Segment: 30 * time.Minute, PerHour: []float64{0, 7200, 360, 0}}}},
		OnArrival: func(c *Caller) { at = append(at, c.Arrived.Sub(start)) }})
	if err != nil {
		t.Fatal(err)
	}
	p.Start()
	loop.RunVirtual(start.Add(4 * time.Hour))
	counts := make([]int, 8)
	for _, d := range at {
		counts[int(d/(30*time.Minute))]++
	}
	want := []float64{0, 3600, 180, 0, 0, 0, 0, 0}
	for i, w := range want {
		if tol := 4 * math.Sqrt(w); math.Abs(float64(counts[i])-w) > tol+0.5 {
			t.Fatalf("segment %d: %d arrivals, want %.0f ± %.0f (all %v)", i, counts[i], w, tol, counts)
		}
	}
}

func TestPatienceAndAnswered(t *testing.T) {
	loop := sim.NewLoop(start)
	var ab []*Caller
	p, _ := New(Config{Scheduler: loop, Rand: sim.Stream(1, "pstn"), Streams: []Stream{{CallTypeID: 1, DialedNumber: "100", Arrivals: Profile{PerHour: []float64{0}}}},
		Patience: Dist{Shape: Fixed, Mean: 30 * time.Second}, OnAbandon: func(c *Caller) { ab = append(ab, c) }})
	a := p.Arrive(0)
	b := p.Arrive(0)
	if a.ANI == b.ANI || len(a.ANI) != 10 {
		t.Fatalf("ANIs %q %q", a.ANI, b.ANI)
	}
	loop.RunVirtual(start.Add(10 * time.Second))
	b.Answered()
	loop.RunVirtual(start.Add(time.Minute))
	if len(ab) != 1 || ab[0] != a || p.Stats().Abandons != 1 {
		t.Fatalf("abandons %v", ab)
	}
}

func TestOutboundOutcomeMix(t *testing.T) {
	loop := sim.NewLoop(start)
	p, _ := New(Config{Scheduler: loop, Rand: sim.Stream(3, "pstn"), Outbound: OutboundConfig{Answer: 0.5, Busy: 0.2, Fail: 0.1,
		SetupDelay: Dist{Mean: time.Second}, RingTime: Dist{Shape: Exponential, Mean: 8 * time.Second}, Talk: Dist{Mean: time.Minute}}})
	var answered, hung, alert int
	fails := map[Outcome]int{}
	for range 4000 {
		var c *Callee
		c = p.Dial("1555", 25*time.Second, DialHandler{
			Alerting: func() { alert++ },
			Answered: func() { answered++; c.Connected() },
			Failed:   func(o Outcome) { fails[o]++ },
			HungUp:   func() { hung++ },
		})
	}
	loop.RunVirtual(start.Add(time.Hour))
	// Answering customers ring Exp(8 s); those beyond the 25 s timeout
	// become no-answers: P(answer) = 0.5·(1−e^(−25/8)).
	wantAns := 4000 * 0.5 * (1 - math.Exp(-25.0/8))
	check := func(name string, got int, want float64) {
		if math.Abs(float64(got)-want) > 4*math.Sqrt(want)+1 {
			t.Fatalf("%s: %d, want ≈ %.0f", name, got, want)
		}
	}
	check("answered", answered, wantAns)
	check("busy", fails[OutcomeBusy], 800)
	check("fail", fails[OutcomeFail], 400)
	check("no answer", fails[OutcomeNoAnswer], 4000-1200-wantAns)
	if hung != answered || alert != 4000-fails[OutcomeBusy]-fails[OutcomeFail] {
		t.Fatalf("hung %d answered %d alerting %d", hung, answered, alert)
	}
}

func TestConfigErrors(t *testing.T) {
	_, err := New(Config{Scheduler: sim.NewLoop(start), Rand: sim.Stream(1, "x"),
		Streams: []Stream{{DialedNumber: "1", Arrivals: Profile{Segment: time.Hour, PerHour: []float64{1, -2}}}}})
	if err == nil || err.Error() != "streams[0].arrivals.per_hour[1]: must be a finite rate >= 0, got -2" {
		t.Fatalf("got %v", err)
	}
	_, err = New(Config{Scheduler: sim.NewLoop(start), Rand: sim.Stream(1, "x"), Outbound: OutboundConfig{Answer: 0.8, Busy: 0.3}})
	if err == nil {
		t.Fatal("probabilities over 1 accepted")
	}
}
