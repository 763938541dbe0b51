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
	stored := func() (dialer.PacingState, bool) {
		t.Helper()
		s, err := campaign.Open(file, campaign.Config{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		cs, err := s.Campaigns()
		if err != nil || len(cs) != 1 {
			t.Fatalf("campaigns %v, %v", cs, err)
		}
		b, _, ok, err := s.Pacing(cs[0].ID)
		if err != nil || !ok {
			return dialer.PacingState{}, false
		}
		st, err := dialer.ParsePacingState(b)
		if err != nil {
			t.Fatal(err)
		}
		return st, true
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
	s, err := campaign.Open(file, campaign.Config{})
	if err != nil {
		t.Fatal(err)
	}
	cs, _ := s.Campaigns()
	bad := first
	bad.Lambda = 7
	b, _ := json.Marshal(bad)
	if err := s.SavePacing(cs[0].ID, time.Now(), b); err != nil {
		t.Fatal(err)
	}
	s.Close()
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
