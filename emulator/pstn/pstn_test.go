package pstn

import (
	"crypto/sha256"
	"fmt"
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

// dialLog dials n calls and returns what happened to each, in time order.
func dialLog(t *testing.T, seed uint64, o OutboundConfig, n int) ([]string, Stats) {
	t.Helper()
	loop := sim.NewLoop(start)
	p, err := New(Config{Scheduler: loop, Rand: sim.Stream(seed, "pstn"), Outbound: o})
	if err != nil {
		t.Fatal(err)
	}
	var log []string
	for i := range n {
		var c *Callee
		c = p.Dial("1555", 25*time.Second, DialHandler{
			Answered: func() {
				log = append(log, fmt.Sprintf("%d %v %v", i, c.Outcome(), loop.Now().Sub(start)))
				c.Connected()
			},
			Failed: func(o Outcome) { log = append(log, fmt.Sprintf("%d %v %v", i, o, loop.Now().Sub(start))) },
			HungUp: func() { log = append(log, fmt.Sprintf("%d hungup %v", i, loop.Now().Sub(start))) },
		})
	}
	loop.RunVirtual(start.Add(time.Hour))
	return log, p.Stats()
}

// TestOutboundDrawUnchangedWithoutNewOutcomes: with the machine, fax,
// vacant-number, no-circuit and reorder shares at zero the outcome draw
// consumes the same random stream and gives the same results, at the same
// instants, as before those outcomes existed (golden from that code), so
// seeded simulations keep their figures.
func TestOutboundDrawUnchangedWithoutNewOutcomes(t *testing.T) {
	log, st := dialLog(t, 11, OutboundConfig{Answer: 0.35, Busy: 0.1, Fail: 0.05,
		SetupDelay: Dist{Shape: LogNormal, Mean: 2 * time.Second, CV: 0.3}, RingTime: Dist{Shape: LogNormal, Mean: 8 * time.Second, CV: 0.5},
		Talk: Dist{Shape: Exponential, Mean: time.Minute}}, 200)
	const golden = "1be554faf9d3e7d2db7af9e5cd4ca4af3cc86f9e97cad1879f75ba5e125c129a"
	if got := fmt.Sprintf("%x", sha256.Sum256([]byte(fmt.Sprint(log)))); got != golden {
		t.Errorf("call log changed: sha256 %s, want %s\n%v", got, golden, log)
	}
	want := Stats{Dials: 200, Answered: 66, Busy: 25, NoAnswer: 103, Failed: 6, Connected: 66}
	if st != want {
		t.Errorf("stats %+v, want %+v", st, want)
	}
}

// TestOutboundOutcomeFractions: a large draw matches every configured share;
// machines and faxes answer after ringing (Answered fires, Outcome tells
// them apart), the network failures fail after setup without alerting.
func TestOutboundOutcomeFractions(t *testing.T) {
	loop := sim.NewLoop(start)
	o := OutboundConfig{Answer: 0.30, Busy: 0.08, Fail: 0.02, Machine: 0.12, Fax: 0.01, VacantNumber: 0.03, NoCircuit: 0.01, Reorder: 0.01,
		SetupDelay: Dist{Mean: time.Second}, RingTime: Dist{Mean: 8 * time.Second}, Talk: Dist{Mean: time.Minute}}
	p, err := New(Config{Scheduler: loop, Rand: sim.Stream(5, "pstn"), Outbound: o})
	if err != nil {
		t.Fatal(err)
	}
	const n = 100_000
	got := map[Outcome]int{}
	alert := 0
	for range n {
		var c *Callee
		c = p.Dial("1555", 25*time.Second, DialHandler{
			Alerting: func() { alert++ },
			Answered: func() {
				if d := loop.Now().Sub(start); d != 9*time.Second {
					t.Fatalf("%v answered at %v, want after setup+ring (9s)", c.Outcome(), d)
				}
				got[c.Outcome()]++
				c.Drop()
			},
			Failed: func(o Outcome) { got[o]++ },
		})
	}
	loop.RunVirtual(start.Add(time.Hour))
	shares := map[Outcome]float64{OutcomeAnswer: o.Answer, OutcomeBusy: o.Busy, OutcomeFail: o.Fail, OutcomeMachine: o.Machine,
		OutcomeFax: o.Fax, OutcomeVacantNumber: o.VacantNumber, OutcomeNoCircuit: o.NoCircuit, OutcomeReorder: o.Reorder,
		OutcomeNoAnswer: 1 - o.total()}
	for oc, share := range shares {
		want := n * share
		if math.Abs(float64(got[oc])-want) > 4*math.Sqrt(want)+1 {
			t.Errorf("%v: %d of %d, want ≈ %.0f", oc, got[oc], n, want)
		}
	}
	st := p.Stats()
	if st.Machine != got[OutcomeMachine] || st.Fax != got[OutcomeFax] || st.Answered != got[OutcomeAnswer] ||
		st.VacantNumber != got[OutcomeVacantNumber] || st.NoCircuit != got[OutcomeNoCircuit] || st.Reorder != got[OutcomeReorder] ||
		st.Failed != got[OutcomeFail] || st.Busy != got[OutcomeBusy] || st.NoAnswer != got[OutcomeNoAnswer] {
		t.Errorf("stats %+v disagree with callbacks %v", st, got)
	}
	if st.Dropped != st.Answered+st.Machine+st.Fax {
		t.Errorf("dropped %d, want every answered call (%d)", st.Dropped, st.Answered+st.Machine+st.Fax)
	}
	if failedEarly := got[OutcomeBusy] + got[OutcomeFail] + got[OutcomeVacantNumber] + got[OutcomeNoCircuit] + got[OutcomeReorder]; alert != n-failedEarly {
		t.Errorf("alerting %d, want %d", alert, n-failedEarly)
	}
}

func TestOutboundSharesOverOne(t *testing.T) {
	_, err := New(Config{Scheduler: sim.NewLoop(start), Rand: sim.Stream(1, "x"), Outbound: OutboundConfig{Answer: 0.5, Machine: 0.3, Reorder: 0.3}})
	if err == nil || err.Error() != "outbound: answer+busy+fail+machine+reorder must not exceed 1, got 1.1" {
		t.Fatalf("got %v", err)
	}
	_, err = New(Config{Scheduler: sim.NewLoop(start), Rand: sim.Stream(1, "x"), Outbound: OutboundConfig{Fax: -0.1}})
	if err == nil || err.Error() != "outbound.fax: probability must be within 0..1, got -0.1" {
		t.Fatalf("got %v", err)
	}
}
