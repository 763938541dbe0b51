package lab

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/ipcclab/ipcclab/controller"
	"github.com/ipcclab/ipcclab/controller/dialer"
)

// A real-time run on a campaign store file (UpOptions.CampaignStore) keeps
// the predictive pacing's learning there (dialer.PacingState): every
// pacingSaveEvery and at Stop, and the next run on the file resumes from it
// instead of learning the campaign again, two hours of cautious dialing on
// a 20-agent campaign, with the abandon counts carried on
// (controller/dialer/resume.go).

// pacingSaveEvery is how often the state is saved (a variable for tests).
var pacingSaveEvery = time.Minute

// resumePacing hands the state the store keeps for the campaign to cfg's
// pacing strategy. A state that cannot be read or resumed is logged, naming
// the campaign and why, and the pacing starts cold: the campaign runs
// either way.
func (lc *labCampaign) resumePacing(cfg controller.Config, logf func(string, ...any)) {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	b, at, ok, err := lc.store.Pacing(lc.id)
	if err != nil {
		logf("campaign %d: pacing state not read, pacing starts cold: %v", lc.id, err)
		return
	}
	if !ok {
		return
	}
	st, err := dialer.ParsePacingState(b)
	if err == nil {
		err = resumePacing(cfg, st)
	}
	if err != nil {
		logf("campaign %d: pacing state saved %s not resumed, pacing starts cold: %v", lc.id, at.Format(time.RFC3339), err)
		return
	}
	logf("campaign %d: pacing resumed from the state saved %s (λ %.3g, %d live answers, %d abandoned)",
		lc.id, at.Format(time.RFC3339), st.Lambda, st.Abandons.LiveAnswered, st.Abandons.Abandoned)
}

// savePacing keeps the running controller's pacing state in the store.
func (lc *labCampaign) savePacing(h *controller.Handle, now time.Time) error {
	st, ok, err := h.PacingState()
	if err != nil || !ok {
		return err
	}
	b, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("campaign %d: pacing state: %w", lc.id, err)
	}
	return lc.store.SavePacing(lc.id, now, b)
}

// every calls fn every d until ctx ends (the real-time run's periodic
// work: the pacing state, the alerts).
func every(ctx context.Context, d time.Duration, fn func()) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fn()
		}
	}
}
