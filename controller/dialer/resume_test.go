package dialer

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
)

// learnedPredictive is a dialer that has seen n calls of a seeded campaign
// (ring times, live answers, abandons, machines, handling times) with a
// Window small enough that both rings have wrapped.
func learnedPredictive(t *testing.T, seed uint64, n int) *Predictive {
	t.Helper()
	p := newTestPredictive(t, PredictiveConfig{AbandonLimit: 0.03, Window: 200, UKOfcom: true})
	rng := rand.New(rand.NewPCG(seed, 1))
	at := pt0
	for range n {
		at = at.Add(time.Duration(rng.IntN(20_000)) * time.Millisecond)
		o := Connected
		switch r := rng.Float64(); {
		case r < 0.55:
			o = NotAnswered
		case r < 0.65:
			o = Machine
		case r < 0.657:
			o = Abandoned // 2 % of the live answers
		}
		p.Settled(Settled{Placed: at, At: at.Add(time.Duration(2_000+rng.IntN(20_000)) * time.Millisecond), Outcome: o})
		if o == Connected {
			p.Handled(time.Duration(rng.ExpFloat64()*180e9), time.Duration(rng.IntN(15_000))*time.Millisecond)
		}
	}
	return p
}

func TestResumedPredictiveDecidesAsTheOriginal(t *testing.T) {
	orig := learnedPredictive(t, 7, 900)
	b, err := json.Marshal(orig.PacingState())
	if err != nil {
		t.Fatal(err)
	}
	st, err := ParsePacingState(b)
	if err != nil {
		t.Fatal(err)
	}
	// A restarted controller builds its strategy from the configuration
	// and resumes it from the store.
	resumed := newTestPredictive(t, PredictiveConfig{AbandonLimit: 0.03, Window: 200, UKOfcom: true})
	if err := resumed.Resume(st); err != nil {
		t.Fatal(err)
	}
	if got, want := resumed.PacingState(), orig.PacingState(); !reflect.DeepEqual(got, want) {
		t.Fatalf("state after the round trip differs:\n got %+v\nwant %+v", got, want)
	}
	if len(st.Settled) != 200 || len(st.Handled) == 0 || st.Abandons.LiveAnswered < 250 || len(st.UK) == 0 {
		t.Fatalf("state %d settled, %d handled, abandons %+v, %d UK minutes: want full rings and every answer counted",
			len(st.Settled), len(st.Handled), st.Abandons, len(st.UK))
	}
	now := st.Settled[len(st.Settled)-1].At
	if a, b := orig.uk.Counts(now), resumed.uk.Counts(now); a != b {
		t.Fatalf("UK window: %+v resumed, %+v original", b, a)
	}
	if a, b := orig.rolling.Counts(now), resumed.rolling.Counts(now); a != b || a.LiveAnswered != st.Abandons.LiveAnswered {
		t.Fatalf("30-day window: %+v resumed, %+v original, want every answer of the run (%d)", b, a, st.Abandons.LiveAnswered)
	}
	placed := 0
	for _, s := range []Snapshot{
		{Now: now, Agents: loads(3, 15, 2), Dialing: []time.Duration{time.Second, 6 * time.Second}, MaxNew: 50},
		{Now: now, Agents: loads(0, 20, 0), MaxNew: 50},
		{Now: now, Agents: loads(6, 14, 0), MaxNew: 50, Reserve: 5, Borrow: 2, InboundRate: 240.0 / 3600},
	} {
		if a, b := orig.Decide(s), resumed.Decide(s); a != b {
			t.Errorf("%d ready, %d dialing, reserve %d: resumed places %d, the original %d", s.Count(Ready), len(s.Dialing), s.Reserve, b, a)
		}
		placed += orig.Decide(s)
	}
	if placed == 0 {
		t.Fatal("neither dialer placed a call: the comparison says nothing")
	}
	// Both learn on from there alike.
	next := Settled{Placed: now, At: now.Add(9 * time.Second), Outcome: Abandoned}
	orig.Settled(next)
	resumed.Settled(next)
	if orig.Lambda() != resumed.Lambda() || orig.Abandons() != resumed.Abandons() {
		t.Fatalf("after one more abandon: λ %v / %v, abandons %+v / %+v", resumed.Lambda(), orig.Lambda(), resumed.Abandons(), orig.Abandons())
	}
}

func TestResumeRefusesABrokenState(t *testing.T) {
	good := learnedPredictive(t, 3, 300).PacingState()
	for _, tc := range []struct {
		name string
		edit func(*PacingState)
		want string
	}{
		{"another strategy", func(s *PacingState) { s.Strategy = "adapt-hard-limit" }, "strategy"},
		{"λ zero", func(s *PacingState) { s.Lambda = 0 }, "lambda"},
		{"λ above 0.5", func(s *PacingState) { s.Lambda = 0.7 }, "lambda"},
		{"aim of 1", func(s *PacingState) { s.Aim = 1 }, "aim"},
		{"negative aim", func(s *PacingState) { s.Aim = -0.01 }, "aim"},
		{"answered before placed", func(s *PacingState) { s.Settled[3].At = s.Settled[3].Placed.Add(-time.Second) }, "settled[3]"},
		{"unknown outcome", func(s *PacingState) { s.Settled[5].Outcome = 9 }, "settled[5]"},
		{"negative talk", func(s *PacingState) { s.Handled[1].Talk = -time.Second }, "handled[1]"},
		{"more abandons than answers", func(s *PacingState) { s.Abandons.Abandoned = s.Abandons.LiveAnswered + 1 }, "abandons"},
		{"UK minutes out of order", func(s *PacingState) { s.UK[1].Start = s.UK[0].Start }, "uk[1]"},
		{"30-day buckets out of order", func(s *PacingState) { s.Rolling[1].Start = s.Rolling[0].Start }, "rolling[1]"},
		{"negative count in the 30-day window", func(s *PacingState) { s.Rolling[0].Counts.LiveAnswered = -1 }, "rolling[0]"},
		{"a window longer than any", func(s *PacingState) {
			for i := range 1442 {
				s.Rolling = append(s.Rolling, WindowCount{Start: s.Rolling[len(s.Rolling)-1].Start.Add(time.Duration(i+1) * time.Hour)})
			}
		}, "buckets"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := learnedPredictive(t, 9, 50)
			before := p.PacingState()
			st := good
			st.Settled = append([]SettledCall(nil), good.Settled...)
			st.Handled = append([]HandledTime(nil), good.Handled...)
			st.UK = append([]WindowCount(nil), good.UK...)
			st.Rolling = append([]WindowCount(nil), good.Rolling...)
			tc.edit(&st)
			err := p.Resume(st)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one naming %s", err, tc.want)
			}
			if !reflect.DeepEqual(p.PacingState(), before) {
				t.Fatal("a refused state changed the strategy")
			}
		})
	}
	// A state from a dialer with a larger Window: the newest calls.
	small := newTestPredictive(t, PredictiveConfig{AbandonLimit: 0.03, Window: 50, UKOfcom: true})
	if err := small.Resume(good); err != nil {
		t.Fatal(err)
	}
	if got := small.PacingState(); len(got.Settled) != 50 || got.Settled[49] != good.Settled[len(good.Settled)-1] || got.Settled[0] != good.Settled[len(good.Settled)-50] {
		t.Errorf("Window 50 resumed from %d calls: %d kept, want the newest 50", len(good.Settled), len(got.Settled))
	}
	if _, err := ParsePacingState([]byte(`{"strategy": "predictive", "lambda": "high"}`)); err == nil || !strings.Contains(err.Error(), "pacing state") {
		t.Fatalf("JSON with a string λ: error %v", err)
	}
}

// λ is learned at an aim: resumed at another (the campaign's limit changed
// while the controller was down), it is scaled by the ratio of the aims,
// as SetCompliance scales it. Resumed into the scenario's limit and then
// given the stored one, as a restarted controller does, it comes back as
// it was saved.
func TestResumeScalesLambdaToTheAim(t *testing.T) {
	saved := newTestPredictive(t, PredictiveConfig{AbandonLimit: 0.02})
	saved.logLam = math.Log(0.004)
	st := saved.PacingState()
	if st.Aim != 0.017 {
		t.Fatalf("state aim %v, want 85 %% of 2 %%", st.Aim)
	}
	at3 := newTestPredictive(t, PredictiveConfig{AbandonLimit: 0.03})
	if err := at3.Resume(st); err != nil {
		t.Fatal(err)
	}
	if got, want := at3.Lambda(), 0.004*0.0255/0.017; math.Abs(got-want) > 1e-12 {
		t.Errorf("resumed at a 3 %% limit: λ %v, want %v", got, want)
	}
	if err := at3.SetCompliance(Compliance{AbandonLimit: 0.02}); err != nil {
		t.Fatal(err)
	}
	if got := at3.Lambda(); math.Abs(got-0.004) > 1e-12 {
		t.Errorf("resumed, then given the stored 2 %%: λ %v, want the saved 0.004", got)
	}
	// A state without an aim (written before it was kept) is taken as is.
	st.Aim = 0
	old := newTestPredictive(t, PredictiveConfig{AbandonLimit: 0.03})
	if err := old.Resume(st); err != nil || math.Abs(old.Lambda()-0.004) > 1e-12 {
		t.Errorf("a state without an aim: λ %v (%v), want 0.004", old.Lambda(), err)
	}
}
