package dialer

import (
	"math"
	"strings"
	"testing"
	"time"
)

// The Ofcom AM-adjusted formula (dialer-anchors.md §1.4, VICIdial's
// ofcom_uk_drop_calc), with its documented example.
func TestRateUK(t *testing.T) {
	for _, tc := range []struct {
		name      string
		d, h, am  int64
		want, tol float64
	}{
		{"documented example D=29 H=9 AM=7", 29, 9, 7, 0.6444, 0.00005},
		{"no machines: the US rate D/(H+D)", 3, 97, 0, 0.03, 1e-12},
		{"no abandons", 0, 50, 10, 0, 0},
		{"nothing answered", 0, 0, 0, 0, 0},
		{"only machines", 0, 0, 5, 0, 0},
		{"abandons and machines, nobody handled: all estimated machines", 4, 0, 2, 0, 0},
	} {
		a := Abandons{LiveAnswered: tc.h + tc.d, Abandoned: tc.d, Machines: tc.am}
		if got := a.RateUK(); math.Abs(got-tc.want) > tc.tol {
			t.Errorf("%s: RateUK %.6f, want %.4f", tc.name, got, tc.want)
		}
	}
	// The example's intermediate figures: est = 12.6875, 16.3125/25.3125.
	a := Abandons{LiveAnswered: 38, Abandoned: 29, Machines: 7}
	if got := a.RateUK(); math.Abs(got-16.3125/25.3125) > 1e-12 {
		t.Errorf("RateUK %v, want 16.3125/25.3125", got)
	}
	var b Abandons
	b.Answered(true)
	b.Answered(false)
	b.Machine()
	b.Add(Abandons{LiveAnswered: 1, Abandoned: 1, Machines: 2})
	if b != (Abandons{LiveAnswered: 3, Abandoned: 2, Machines: 3}) || b.Handled() != 1 {
		t.Errorf("counts %+v", b)
	}
}

// The window counts the last 24 hours only, to the minute.
func TestAbandonWindow(t *testing.T) {
	var w AbandonWindow
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for i := range 10 {
		w.Answered(t0.Add(time.Duration(i)*time.Minute), i%5 != 0) // 2 abandons
	}
	w.Machine(t0.Add(5 * time.Minute))
	if got := w.Counts(t0.Add(time.Hour)); got != (Abandons{LiveAnswered: 10, Abandoned: 2, Machines: 1}) {
		t.Errorf("an hour later: %+v", got)
	}
	// 24 h after the first minute, that minute (1 answer, an abandon) is out.
	if got := w.Counts(t0.Add(24*time.Hour + time.Minute)); got != (Abandons{LiveAnswered: 9, Abandoned: 1, Machines: 1}) {
		t.Errorf("24 h later: %+v", got)
	}
	w.Answered(t0.Add(30*time.Hour), true)
	if got := w.Counts(t0.Add(30 * time.Hour)); got != (Abandons{LiveAnswered: 1}) {
		t.Errorf("30 h later: %+v", got)
	}
	short := AbandonWindow{Length: time.Hour}
	short.Answered(t0, false)
	if got := short.Counts(t0.Add(61 * time.Minute)); got.LiveAnswered != 0 {
		t.Errorf("1 h window after 61 min: %+v", got)
	}
	// Memory stays bounded over many days of traffic.
	for i := range 60 * 24 * 10 {
		w.Answered(t0.Add(31*time.Hour+time.Duration(i)*time.Minute), true)
	}
	if n := len(w.buckets) - w.head; n > 24*60+1 {
		t.Errorf("%d live buckets for a 24 h window", n)
	}
}

// In UK mode the predictive dialer holds the AM-adjusted rate over the last
// 24 h to the limit: abandons of yesterday no longer make it stricter,
// machines dilute the rate.
func TestPredictiveUKLimit(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	settle := func(p *Predictive, at time.Time, o Outcome, n int) {
		for range n {
			p.Settled(Settled{Placed: at.Add(-10 * time.Second), At: at, Outcome: o})
		}
	}
	for _, uk := range []bool{false, true} {
		cfg := DefaultPredictive()
		cfg.UKOfcom = uk
		p, err := NewPredictive(cfg)
		if err != nil {
			t.Fatal(err)
		}
		settle(p, t0, Connected, 90)
		settle(p, t0, Abandoned, 10) // 10 % over 100 answers
		if !p.overLimit(t0) {
			t.Fatalf("uk=%v: 10 %% abandons is not over a 3 %% limit", uk)
		}
		// A day later, 100 clean answers.
		day := t0.Add(25 * time.Hour)
		settle(p, day, Connected, 100)
		if got := p.overLimit(day); got != !uk {
			t.Errorf("uk=%v: over the limit a day later = %v, want %v (the UK window is 24 h; otherwise 30 days: 10/200 = 5 %%)", uk, got, !uk)
		}
		// 31 days on, the US window (30 days) has let the bad day go.
		month := t0.Add(31 * 24 * time.Hour)
		settle(p, month, Connected, 100)
		if p.overLimit(month) {
			t.Errorf("uk=%v: over the limit 31 days on, with 200 clean answers in the last 30 days", uk)
		}
	}
	// A configured window: 24 h.
	cfg0 := DefaultPredictive()
	cfg0.AbandonWindow = 24 * time.Hour
	p0, err := NewPredictive(cfg0)
	if err != nil {
		t.Fatal(err)
	}
	settle(p0, t0, Connected, 90)
	settle(p0, t0, Abandoned, 10)
	settle(p0, t0.Add(25*time.Hour), Connected, 100)
	if p0.overLimit(t0.Add(25 * time.Hour)) {
		t.Error("AbandonWindow 24 h: over the limit a day after the abandons")
	}
	if a := p0.Abandons(); a.LiveAnswered != 200 || a.Abandoned != 10 {
		t.Errorf("Abandons %+v: want every call seen, 200 answers and 10 abandons", a)
	}
	for _, w := range []time.Duration{time.Minute, 367 * 24 * time.Hour, -time.Hour} {
		c := DefaultPredictive()
		c.AbandonWindow = w
		if _, err := NewPredictive(c); err == nil || !strings.Contains(err.Error(), "AbandonWindow") {
			t.Errorf("AbandonWindow %v: error %v, want one naming AbandonWindow", w, err)
		}
	}
	// Machines: 6 abandons, 94 handled live answers = 6 % US; with 100
	// machines est = 6 × 100/194 ≈ 3.09 ⇒ (6 − 3.09)/(94 + 2.91) ≈ 3.0 %.
	cfg := DefaultPredictive()
	cfg.UKOfcom = true
	cfg.AbandonLimit = 0.031
	p, _ := NewPredictive(cfg)
	settle(p, t0, Connected, 94)
	settle(p, t0, Abandoned, 6)
	if !p.overLimit(t0) {
		t.Fatal("6 % without machines is not over 3.1 %")
	}
	settle(p, t0, Machine, 100)
	if p.overLimit(t0) {
		t.Errorf("with 100 machines the UK rate is %.4f, under 3.1 %%, but the dialer is still over", p.uk.Counts(t0).RateUK())
	}
}

// A campaign edited in progress: the predictive dialer takes a new limit
// and measurement at once; λ follows the aim.
func TestPredictiveSetCompliance(t *testing.T) {
	p, _ := NewPredictive(DefaultPredictive())
	lam := p.Lambda()
	if err := p.SetCompliance(Compliance{AbandonLimit: 0.01, UKOfcom: true}); err != nil {
		t.Fatal(err)
	}
	if p.cfg.AbandonLimit != 0.01 || math.Abs(p.cfg.Aim-0.0085) > 1e-12 || !p.cfg.UKOfcom {
		t.Errorf("config after SetCompliance: %+v", p.cfg)
	}
	if got := p.Lambda() / lam; math.Abs(got-1.0/3) > 1e-9 {
		t.Errorf("λ scaled by %v, want 1/3 (the aim's ratio)", got)
	}
	if err := p.SetCompliance(Compliance{AbandonLimit: 0}); err == nil || !strings.Contains(err.Error(), "AbandonLimit") {
		t.Errorf("a zero limit: %v", err)
	}
	// An aim set explicitly is kept while it is within the new limit.
	cfg := DefaultPredictive()
	cfg.Aim = 0.01
	q, _ := NewPredictive(cfg)
	q.SetCompliance(Compliance{AbandonLimit: 0.02})
	if q.cfg.Aim != 0.01 {
		t.Errorf("explicit aim became %v", q.cfg.Aim)
	}
	q.SetCompliance(Compliance{AbandonLimit: 0.005})
	if q.cfg.Aim > 0.005 {
		t.Errorf("aim %v above the new limit", q.cfg.Aim)
	}
	var _ ComplianceSetter = p
}

func TestRatioSetLevel(t *testing.T) {
	r, _ := NewRatio(RatioConfig{Level: 1.5})
	s := Snapshot{Agents: []AgentLoad{{ID: "a", Phase: Ready}, {ID: "b", Phase: Ready}}}
	if got := r.Decide(s); got != 3 {
		t.Fatalf("level 1.5, 2 agents: %d calls", got)
	}
	if err := r.SetLevel(3); err != nil {
		t.Fatal(err)
	}
	if got := r.Decide(s); got != 6 || r.Name() != "ratio-3.0" {
		t.Errorf("level 3: %d calls, name %s", got, r.Name())
	}
	if err := r.SetLevel(0.5); err == nil {
		t.Error("level 0.5 accepted")
	}
	if err := SetStrategyLevel(mustPredictive(t), 2); err == nil || !strings.Contains(err.Error(), "predictive") {
		t.Errorf("level on predictive: %v", err)
	}
}

func mustPredictive(t *testing.T) *Predictive {
	p, err := NewPredictive(DefaultPredictive())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPacerSetConfig(t *testing.T) {
	p, _ := NewPacer(DefaultConfig())
	if err := p.SetConfig(Config{LinesPerAgent: 2, MaxLinesInFlight: 1}); err != nil {
		t.Fatal(err)
	}
	plan, _ := p.Pace(Input{Now: t0, IdleAgents: agents("1", "2"), PacingFactor: 1})
	if len(plan.Launches) != 1 || !plan.Capped {
		t.Errorf("plan %s: want 1 launch, capped by MaxLinesInFlight 1", plan)
	}
	if err := p.SetConfig(Config{LinesPerAgent: 0}); err == nil {
		t.Error("invalid config accepted")
	}
}

// A campaign's window changed while it dials keeps what the old window
// holds within the new one: a day's window drops the weeks before it at
// once, a longer window starts from what the old one still counted, and 0
// returns to the configured window.
func TestPredictiveSetAbandonWindow(t *testing.T) {
	p, _ := NewPredictive(DefaultPredictive())
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	// Ten days ago: 10 answers, 5 abandoned. Today: 20 answers, 1 abandoned.
	for i := range 10 {
		p.Settled(Settled{Placed: t0.Add(time.Duration(i) * time.Minute), At: t0.Add(time.Duration(i)*time.Minute + 10*time.Second), Outcome: outcomeOf(i%2 == 0)})
	}
	today := t0.Add(10 * 24 * time.Hour)
	for i := range 20 {
		p.Settled(Settled{Placed: today.Add(time.Duration(i) * time.Minute), At: today.Add(time.Duration(i)*time.Minute + 10*time.Second), Outcome: outcomeOf(i == 0)})
	}
	now := today.Add(time.Hour)
	if got := p.rolling.Counts(now); got.LiveAnswered != 30 || got.Abandoned != 6 {
		t.Fatalf("30-day window: %+v, want 30 live, 6 abandoned", got)
	}
	if err := p.SetAbandonWindow(24 * time.Hour); err != nil {
		t.Fatal(err)
	}
	if got := p.rolling.Counts(now); got.LiveAnswered != 20 || got.Abandoned != 1 {
		t.Errorf("after a 24 h window: %+v, want today's 20 live, 1 abandoned", got)
	}
	if got := p.Config().AbandonWindow; got != 24*time.Hour {
		t.Errorf("Config().AbandonWindow %v, want 24h", got)
	}
	// The old half-hour bucket is kept whole; answers from now on are
	// counted to the minute.
	for i := range 3 {
		p.Settled(Settled{Placed: now.Add(time.Duration(i) * time.Minute), At: now.Add(time.Duration(i)*time.Minute + 10*time.Second), Outcome: Connected})
	}
	if st := p.PacingState().Rolling; len(st) != 4 || st[1].Start.Sub(st[0].Start) != time.Hour || st[2].Start.Sub(st[1].Start) != time.Minute {
		t.Errorf("state buckets %+v: want today's half hour, then three minutes", st)
	}
	// Back to the configured 30 days with 0.
	if err := p.SetAbandonWindow(0); err != nil || p.Config().AbandonWindow != DefaultAbandonWindow {
		t.Fatalf("window 0: %v, window %v, want the configured 720h", err, p.Config().AbandonWindow)
	}
	if got := p.rolling.Counts(now.Add(time.Hour)); got.LiveAnswered != 23 || got.Abandoned != 1 {
		t.Errorf("back to 30 days: %+v, want the 23 the day's window held", got)
	}
	// A limit change leaves the window alone; out of range is refused,
	// naming it, and nothing changes.
	if err := p.SetCompliance(Compliance{AbandonLimit: 0.02}); err != nil || p.Config().AbandonWindow != DefaultAbandonWindow {
		t.Errorf("a new limit: %v, window %v", err, p.Config().AbandonWindow)
	}
	for _, w := range []time.Duration{time.Minute, MaxAbandonWindow + time.Hour, -time.Hour} {
		if err := p.SetAbandonWindow(w); err == nil || !strings.Contains(err.Error(), "abandon window") {
			t.Errorf("window %v: %v, want an error naming the abandon window", w, err)
		}
	}
	if c := p.Config(); c.AbandonWindow != DefaultAbandonWindow || c.AbandonLimit != 0.02 {
		t.Errorf("a refused change changed the config: %v, %v", c.AbandonWindow, c.AbandonLimit)
	}
	// A resumed strategy keeps its configured window for 0.
	st := p.PacingState()
	q, _ := NewPredictive(PredictiveConfig{AbandonLimit: 0.03, AbandonWindow: 48 * time.Hour})
	if err := q.SetAbandonWindow(24 * time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := q.Resume(st); err != nil {
		t.Fatal(err)
	}
	if err := q.SetAbandonWindow(0); err != nil || q.Config().AbandonWindow != 48*time.Hour {
		t.Errorf("after Resume, window 0: %v, window %v, want the configured 48h", err, q.Config().AbandonWindow)
	}
	var _ WindowSetter = p
}

func outcomeOf(abandoned bool) Outcome {
	if abandoned {
		return Abandoned
	}
	return Connected
}
