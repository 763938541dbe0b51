package lab

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ipcclab/ipcclab/controller/campaign"
	"github.com/ipcclab/ipcclab/controller/dialer"
	"github.com/ipcclab/ipcclab/scenarios"
)

// logLines collects log lines for a test.
type logLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *logLines) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func (l *logLines) find(s string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, x := range l.lines {
		if strings.Contains(x, s) {
			return x
		}
	}
	return ""
}

// withStoredCampaign opens the campaign store file of a stopped run and
// hands fn the store and its one campaign.
func withStoredCampaign(t *testing.T, file string, fn func(*campaign.Store, campaign.Campaign)) {
	t.Helper()
	s, err := campaign.Open(file, campaign.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cs, err := s.Campaigns()
	if err != nil || len(cs) != 1 {
		t.Fatalf("campaigns %v, %v: want the run's one", cs, err)
	}
	fn(s, cs[0])
}

// A run on a campaign store file keeps the pacing's learning there; the
// next run resumes from it, abandon counts and answer model carried on. A
// state the next run cannot use is logged and the pacing starts cold.
func TestPacingStateSurvivesARestart(t *testing.T) {
	old := pacingSaveEvery
	pacingSaveEvery = 200 * time.Millisecond
	defer func() { pacingSaveEvery = old }()
	sc, err := scenarios.Load("testdata/calllist.yaml")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "campaign.db")
	up := func(logs *logLines) *Running {
		t.Helper()
		r, err := Start(context.Background(), UpOptions{Scenario: sc, Seed: 1, CTIAddr: "127.0.0.1:0", CampaignStore: file, Logf: logs.logf})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	stored := func() (st dialer.PacingState, ok bool) {
		t.Helper()
		withStoredCampaign(t, file, func(s *campaign.Store, c campaign.Campaign) {
			b, _, found, err := s.Pacing(c.ID)
			if err != nil || !found {
				return
			}
			if st, err = dialer.ParsePacingState(b); err != nil {
				t.Fatal(err)
			}
			ok = true
		})
		return st, ok
	}

	// First run: until the dialer has learned from a few calls and the
	// periodic save has kept some of it.
	r := up(&logLines{})
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		if st, ok, _ := r.Controller().PacingState(); ok && len(st.Settled) >= 3 {
			break
		}
	}
	r.Stop()
	first, ok := stored()
	if !ok || first.Strategy != "predictive" || len(first.Settled) < 3 {
		t.Fatalf("after the first run the store keeps %d settled calls (ok %v): want the state saved at Stop", len(first.Settled), ok)
	}

	// Second run: resumed, and it learns on from there.
	logs := &logLines{}
	r = up(logs)
	if l := logs.find("pacing resumed"); !strings.Contains(l, fmt.Sprintf("%d live answers", first.Abandons.LiveAnswered)) {
		t.Errorf("log %q: want the resume with the first run's %d live answers", l, first.Abandons.LiveAnswered)
	}
	st, ok, err := r.Controller().PacingState()
	r.Stop()
	if err != nil || !ok || len(st.Settled) < len(first.Settled) || st.Abandons.LiveAnswered < first.Abandons.LiveAnswered {
		t.Fatalf("second run: %d settled, %+v (%v): want at least the first run's %d, %+v", len(st.Settled), st.Abandons, err, len(first.Settled), first.Abandons)
	}

	// A state that does not hold together: logged, started cold, run on.
	bad := first
	bad.Lambda = 7
	withStoredCampaign(t, file, func(s *campaign.Store, c campaign.Campaign) {
		b, _ := json.Marshal(bad)
		if err := s.SavePacing(c.ID, time.Now(), b); err != nil {
			t.Fatal(err)
		}
	})
	logs = &logLines{}
	r = up(logs)
	st, ok, err = r.Controller().PacingState()
	r.Stop()
	if l := logs.find("not resumed"); !strings.Contains(l, "lambda 7") || !strings.Contains(l, "starts cold") {
		t.Errorf("log %q: want the refusal naming lambda and a cold start", l)
	}
	if err != nil || !ok || st.Abandons.LiveAnswered >= first.Abandons.LiveAnswered && first.Abandons.LiveAnswered > 0 {
		t.Errorf("after a refused state: %+v (%v), want a cold start", st.Abandons, err)
	}
}

// controller.pacing.abandon_window reaches the predictive dialer; absent,
// it holds the rate over the FTC's and FCC's 30 days.
func TestAbandonWindowReachesThePacing(t *testing.T) {
	for _, tc := range []struct {
		yaml string
		want time.Duration
	}{{"", 30 * 24 * time.Hour}, {"    abandon_window: 24h\n", 24 * time.Hour}} {
		sc, err := scenarios.Load("testdata/calllist.yaml")
		if err != nil {
			t.Fatal(err)
		}
		if tc.yaml != "" {
			sc.Controller.Pacing.AbandonWindow = scenarios.Duration(tc.want)
		}
		cfg, err := ControllerConfig(sc, false)
		if err != nil {
			t.Fatal(err)
		}
		p, ok := cfg.Pool.Strategy.(*dialer.Predictive)
		if !ok {
			t.Fatalf("strategy %T, want predictive", cfg.Pool.Strategy)
		}
		if got := p.Config().AbandonWindow; got != tc.want {
			t.Errorf("abandon_window %q: the dialer holds the rate over %v, want %v", tc.yaml, got, tc.want)
		}
	}
}

// A campaign resumed from a store paces by its stored settings, which the
// campaign API may have changed since the scenario was written; a stored
// setting the controller cannot take stops the start, naming it.
func TestResumedCampaignPacesByItsStoredSettings(t *testing.T) {
	sc, err := scenarios.Load("testdata/calllist.yaml")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "campaign.db")
	opts := UpOptions{Scenario: sc, Seed: 1, CTIAddr: "127.0.0.1:0", CampaignStore: file, HoldTraffic: true}
	r, err := Start(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	l, err := r.Controller().Limits()
	r.Stop()
	if err != nil || l.AbandonLimit != 0.03 || l.AbandonWindow == nil || *l.AbandonWindow != 720*time.Hour {
		t.Fatalf("first run: %s (%v), want the scenario's 0.03 over 720h", l, err)
	}
	change := func(f func(*campaign.Campaign)) {
		t.Helper()
		withStoredCampaign(t, file, func(s *campaign.Store, c campaign.Campaign) {
			f(&c)
			if err := s.UpdateCampaign(c); err != nil {
				t.Fatal(err)
			}
		})
	}
	// As a PATCH while the controller was down would have left it.
	change(func(c *campaign.Campaign) { c.AbandonTarget, c.AbandonWindow, c.MaxInFlight = 0.02, 24*time.Hour, 5 })
	logs := &logLines{}
	opts.Logf = logs.logf
	r, err = Start(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	l, err = r.Controller().Limits()
	r.Stop()
	if err != nil || l.AbandonLimit != 0.02 || l.AbandonWindow == nil || *l.AbandonWindow != 24*time.Hour || l.MaxInFlight != 5 {
		t.Errorf("resumed run: %s (%v), want the stored 0.02 over 24h, 5 in flight", l, err)
	}
	if line := logs.find("stored abandon limit"); !strings.Contains(line, "0.02, not the scenario's 0.03") {
		t.Errorf("log %q: want the stored limit said against the scenario's", line)
	}

	// A pacing state kept over a window longer than the scenario's keeps
	// all of it: the stored window is set before the state is resumed.
	long := 60 * 24 * time.Hour
	p, err := dialer.NewPredictive(dialer.PredictiveConfig{AbandonLimit: 0.03, AbandonWindow: long})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(-50 * 24 * time.Hour)
	for day := range 50 {
		at := start.Add(time.Duration(day) * 24 * time.Hour)
		p.Settled(dialer.Settled{Placed: at.Add(-10 * time.Second), At: at, Outcome: dialer.Abandoned})
	}
	change(func(c *campaign.Campaign) { c.AbandonWindow = long })
	withStoredCampaign(t, file, func(s *campaign.Store, c campaign.Campaign) {
		b, _ := json.Marshal(p.PacingState())
		if err := s.SavePacing(c.ID, time.Now(), b); err != nil {
			t.Fatal(err)
		}
	})
	opts.Logf = nil
	r, err = Start(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	st, ok, err := r.Controller().PacingState()
	r.Stop()
	var n int64
	for _, b := range st.Rolling {
		n += b.Counts.Abandoned
	}
	if err != nil || !ok || n != 50 {
		t.Errorf("resumed over a stored 60-day window: %d abandons in the window (%v, %v), want all 50 days' 50", n, ok, err)
	}

	change(func(c *campaign.Campaign) { c.LinesPerAgent = 2 }) // the predictive dialer has no level
	if r, err = Start(context.Background(), opts); err == nil {
		r.Stop()
		t.Fatal("a stored setting the controller refuses: started")
	}
	if msg := err.Error(); !strings.Contains(msg, "--campaign-store") || !strings.Contains(msg, "stored settings") || !strings.Contains(msg, "LinesPerAgent") {
		t.Errorf("error %q: want it to name the store, the stored settings and LinesPerAgent", msg)
	}
}
