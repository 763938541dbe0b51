package dialer

import (
	"math"
	"strings"
	"testing"
	"time"
)

var pt0 = time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)

func newTestPredictive(t *testing.T, cfg PredictiveConfig) *Predictive {
	t.Helper()
	p, err := NewPredictive(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func loads(ready, talking, wrap int) []AgentLoad {
	var a []AgentLoad
	for range ready {
		a = append(a, AgentLoad{ID: "r", Phase: Ready, InPhase: 5 * time.Second})
	}
	for range talking {
		a = append(a, AgentLoad{ID: "t", Phase: Talking, InPhase: 30 * time.Second})
	}
	for range wrap {
		a = append(a, AgentLoad{ID: "w", Phase: WrapUp, InPhase: 12 * time.Second})
	}
	return a
}

func TestPredictiveConfigErrorsNameFields(t *testing.T) {
	for _, tc := range []struct {
		cfg  PredictiveConfig
		want string
	}{
		{PredictiveConfig{}, "AbandonLimit"},
		{PredictiveConfig{AbandonLimit: 0.03, Aim: 0.05}, "Aim"},
		{PredictiveConfig{AbandonLimit: 0.03, Gain: -1}, "Gain"},
		{PredictiveConfig{AbandonLimit: 0.03, Grace: 3 * time.Second}, "Grace"},
		{PredictiveConfig{AbandonLimit: 0.03, ModelVariance: -1}, "ModelVariance"},
		{PredictiveConfig{AbandonLimit: 0.03, PriorLive: 2}, "PriorLive"},
	} {
		_, err := NewPredictive(tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want one naming %s", tc.cfg, err, tc.want)
		}
	}
}

// feed settles n calls of which a share live answer after tta, the rest
// fail after fail; and hands n talk/wrap samples.
func feedModel(p *Predictive, n int, live float64, tta, fail time.Duration, talk, wrap time.Duration) {
	for i := range n {
		o, d := NotAnswered, fail
		if float64(i%100) < live*100 {
			o, d = Connected, tta
		}
		p.Settled(Settled{Placed: pt0, At: pt0.Add(d), Outcome: o})
		p.Handled(talk, wrap)
	}
}

func TestPredictiveNeverBelowProgressive(t *testing.T) {
	p := newTestPredictive(t, DefaultPredictive())
	// A tiny λ: the model alone would place nothing.
	p.logLam = -20
	s := Snapshot{Now: pt0, Agents: loads(4, 6, 0), Dialing: []time.Duration{time.Second}, MaxNew: 100}
	if got := p.Decide(s); got != 3 {
		t.Fatalf("4 ready agents, 1 call ringing: %d calls, want at least the progressive 3", got)
	}
}

func TestPredictiveDialsAheadOfAgentsInWrapUp(t *testing.T) {
	p := newTestPredictive(t, DefaultPredictive())
	feedModel(p, 400, 0.3, 9*time.Second, 25*time.Second, 150*time.Second, 15*time.Second)
	// No agent ready, but five are 12 s into a 15 s wrap-up: their
	// customers should be ringing already.
	s := Snapshot{Now: pt0, Agents: loads(0, 15, 5), MaxNew: 100}
	if got := p.Decide(s); got == 0 {
		t.Fatal("no call placed for five agents about to finish wrap-up")
	}
	// The same agents at the start of wrap-up (12 s earlier) need none yet
	// beyond what the model expects by the answer time.
	early := Snapshot{Now: pt0, Agents: []AgentLoad{{ID: "w", Phase: WrapUp, InPhase: 0}}, MaxNew: 100}
	late := Snapshot{Now: pt0, Agents: []AgentLoad{{ID: "w", Phase: WrapUp, InPhase: 14 * time.Second}}, MaxNew: 100}
	if e, l := p.Decide(early), p.Decide(late); e > l {
		t.Fatalf("an agent at the start of wrap-up got %d calls, one at its end %d", e, l)
	}
}

func TestPredictiveLambdaFollowsAbandons(t *testing.T) {
	p := newTestPredictive(t, DefaultPredictive())
	start := p.Lambda()
	for range 5 {
		p.Settled(Settled{Placed: pt0, At: pt0.Add(10 * time.Second), Outcome: Abandoned})
	}
	if p.Lambda() >= start {
		t.Fatalf("λ %v after 5 abandons, was %v", p.Lambda(), start)
	}
	low := p.Lambda()
	for range 500 {
		p.Settled(Settled{Placed: pt0, At: pt0.Add(10 * time.Second), Outcome: Connected})
	}
	if p.Lambda() <= low {
		t.Fatalf("λ %v after 500 connects, was %v", p.Lambda(), low)
	}
	if a := p.Abandons(); a.LiveAnswered != 505 || a.Abandoned != 5 {
		t.Fatalf("abandons %+v", a)
	}
}

func TestPredictiveOverLimitIsStricter(t *testing.T) {
	p := newTestPredictive(t, DefaultPredictive())
	feedModel(p, 400, 0.3, 9*time.Second, 25*time.Second, 150*time.Second, 15*time.Second)
	for range 30 {
		p.Settled(Settled{Placed: pt0, At: pt0.Add(10 * time.Second), Outcome: Abandoned})
	}
	s := Snapshot{Now: pt0, Agents: loads(3, 10, 5), Dialing: []time.Duration{time.Second}, MaxNew: 100}
	if got := p.Decide(s); got != 2 {
		t.Fatalf("over the limit: %d calls, want only the progressive 2 (3 ready − 1 ringing)", got)
	}
}

func TestPredictiveMoreAgentsMoreCalls(t *testing.T) {
	p := newTestPredictive(t, DefaultPredictive())
	feedModel(p, 400, 0.3, 9*time.Second, 25*time.Second, 150*time.Second, 15*time.Second)
	prev := -1
	for _, ready := range []int{0, 1, 2, 5, 10} {
		got := p.Decide(Snapshot{Now: pt0, Agents: loads(ready, 10, 0), MaxNew: 1000})
		if got < prev {
			t.Fatalf("%d ready agents: %d calls, fewer than %d for fewer agents", ready, got, prev)
		}
		prev = got
	}
	if prev <= 10 {
		t.Fatalf("10 ready agents at a 30 %% live rate: %d calls, want more than one per agent", prev)
	}
	if got := p.Decide(Snapshot{Now: pt0}); got != 0 {
		t.Fatalf("no agents: %d calls", got)
	}
}

func TestNewStrategyByName(t *testing.T) {
	for _, name := range []string{"predictive", "progressive", "ratio-1.5", "vicidial-hard", "vicidial-tapered",
		"vicidial-average", "threshold-dial1xfree", "threshold-dial2xfree", "threshold-dialone"} {
		s, err := NewStrategy(name, StrategyParams{AbandonLimit: 0.03})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if s.Name() != name {
			t.Errorf("NewStrategy(%q).Name() = %q", name, s.Name())
		}
	}
	for _, bad := range []string{"", "ratio-x", "ratio-0.5", "erlang"} {
		if _, err := NewStrategy(bad, StrategyParams{}); err == nil {
			t.Errorf("NewStrategy(%q): no error", bad)
		}
	}
}

// TestPredictiveSharedIdlePool: with a shared idle pool (Snapshot.Reserve,
// InboundRate) the agents the reserve keeps are not dialed for, inbound
// arrivals take idle agents before a live answer comes, and the progressive
// floor is gone (an idle agent there serves inbound meanwhile).
func TestPredictiveSharedIdlePool(t *testing.T) {
	p := newTestPredictive(t, DefaultPredictive())
	feedModel(p, 400, 0.3, 9*time.Second, 25*time.Second, 180*time.Second, 0)
	p.logLam = math.Log(0.02)
	base := Snapshot{Now: pt0, Agents: loads(6, 14, 0), MaxNew: 100}
	all := p.Decide(base)
	kept := base
	kept.Reserve = 3
	withReserve := p.Decide(kept)
	busy := kept
	busy.InboundRate = 240.0 / 3600
	withInbound := p.Decide(busy)
	if !(all > withReserve && withReserve > withInbound) {
		t.Fatalf("calls: %d for 6 idle agents, %d keeping 3 for inbound, %d with 240 inbound calls/h too; want strictly fewer each time", all, withReserve, withInbound)
	}
	// Three idle agents, all kept: a tiny λ places nothing, where outside
	// a shared pool the progressive floor would place three.
	p.logLam = -20
	floor := Snapshot{Now: pt0, Agents: loads(3, 17, 0), MaxNew: 100}
	if got := p.Decide(floor); got != 3 {
		t.Fatalf("progressive floor: %d, want 3", got)
	}
	floor.Reserve = 3
	if got := p.Decide(floor); got != 0 {
		t.Fatalf("3 idle agents all in reserve: %d calls, want 0", got)
	}
}

// TestPredictiveBorrowKeepsTheReserveInExpectation: with a borrow
// (Snapshot.Borrow) the pacer dials more than without — an answer abandons
// only below Reserve − Borrow — but no more than keeps the chance that an
// answer finds no agent above the reserve at ReserveRisk; a lower
// ReserveRisk dials less, and a borrow larger than the reserve counts as the
// reserve.
func TestPredictiveBorrowKeepsTheReserveInExpectation(t *testing.T) {
	decide := func(risk float64, reserve, borrow int) int {
		cfg := DefaultPredictive()
		cfg.ReserveRisk = risk
		p := newTestPredictive(t, cfg)
		feedModel(p, 400, 0.3, 9*time.Second, 25*time.Second, 180*time.Second, 0)
		p.logLam = math.Log(0.02)
		return p.Decide(Snapshot{Now: pt0, Agents: loads(6, 14, 0), MaxNew: 100, Reserve: reserve, InboundRate: 240.0 / 3600, Borrow: borrow})
	}
	none, two, cautious := decide(0, 3, 0), decide(0, 3, 2), decide(0.1, 3, 2)
	if !(two > none && two > cautious) {
		t.Fatalf("calls: %d without a borrow, %d borrowing 2 (risk 0.5), %d borrowing 2 at risk 0.1: want the second above both", none, two, cautious)
	}
	if got := decide(0, 3, 9); got != decide(0, 3, 3) {
		t.Fatalf("borrow 9 of a reserve of 3: %d calls, borrow 3: %d; want the same", got, decide(0, 3, 3))
	}
	if err := (PredictiveConfig{AbandonLimit: 0.03, ReserveRisk: 1.5}).Validate(); err == nil || !strings.Contains(err.Error(), "ReserveRisk") {
		t.Fatalf("ReserveRisk 1.5: %v", err)
	}
}
