package campaign

import (
	"errors"
	"fmt"
	"time"

	"github.com/ipcclab/ipcclab/controller"
)

// Source is one campaign of a Store as the controller's record source
// (controller.Records): the controller claims records with Next, journals
// each attempt with BeginAttempt before its dial request leaves and closes
// it with EndAttempt, so the campaign's calling hours, DNC list, retry rules
// and lockouts apply to every call it places. The controller calls it from
// its event loop with its own notion of now (virtual time in simulation).
type Source struct {
	store *Store
	id    int64
}

var _ controller.Records = (*Source)(nil)

// NewSource returns the record source of campaign id.
func NewSource(s *Store, id int64) *Source { return &Source{store: s, id: id} }

// CampaignID is the source's campaign.
func (r *Source) CampaignID() int64 { return r.id }

// Next implements controller.Records with Next, or NextForAgent when
// agentID is set (that agent's recalls first).
func (r *Source) Next(now time.Time, n int, agentID string) ([]controller.Record, error) {
	var recs []Record
	var err error
	if agentID == "" {
		recs, err = r.store.Next(r.id, now, n)
	} else {
		recs, err = r.store.NextForAgent(r.id, agentID, now, n)
	}
	if err != nil {
		return nil, err
	}
	out := make([]controller.Record, len(recs))
	for i, rec := range recs {
		out[i] = controller.Record{ID: rec.ID, Phone: rec.Phone, Fields: rec.CustomerFields}
	}
	return out, nil
}

// Begin implements controller.Records with BeginAttempt.
func (r *Source) Begin(rec controller.Record, now time.Time) (controller.AttemptID, error) {
	a, err := r.store.BeginAttempt(rec.ID, now)
	if err != nil {
		return 0, err
	}
	return controller.AttemptID(a.ID), nil
}

// End implements controller.Records with EndAttempt.
func (r *Source) End(id controller.AttemptID, o controller.Outcome, now time.Time) error {
	out, err := StoreOutcome(o)
	if err != nil {
		return err
	}
	_, err = r.store.EndAttempt(int64(id), out, now)
	return err
}

// Release implements controller.Records. A record BeginAttempt refused is
// already released (or closed) by it, so releasing it again is not an
// error.
func (r *Source) Release(rec controller.Record) error {
	err := r.store.Release(rec.ID)
	if errors.Is(err, ErrNotDialable) {
		if got, gerr := r.store.Record(rec.ID); gerr == nil && got.Status != Dialing {
			return nil
		}
	}
	return err
}

// StoreOutcome maps the controller's view of an attempt onto the store's
// outcomes (and so onto the campaign's retry rules): a connected live
// answer is final; an abandoned one takes the Abandoned rule (the 72 h
// lockout); a call the controller lost sight of is Unknown, which the store
// treats like an abandon too.
func StoreOutcome(o controller.Outcome) (Outcome, error) {
	switch o {
	case controller.OutcomeConnected:
		return Answered, nil
	case controller.OutcomeAbandoned:
		return Abandoned, nil
	case controller.OutcomeBusy:
		return Busy, nil
	case controller.OutcomeNoAnswer:
		return NoAnswer, nil
	case controller.OutcomeMachine:
		return Machine, nil
	case controller.OutcomeFailed:
		return Failed, nil
	case controller.OutcomeUnknown:
		return Unknown, nil
	}
	return "", fmt.Errorf("campaign: controller outcome %v has no store outcome", o)
}

// Limits are the campaign's pacing settings as the running controller takes
// them (controller.Core.UpdateCampaign); zero MaxInFlight and LinesPerAgent
// keep the controller's own, a zero AbandonWindow is the controller's
// configured window.
func Limits(c Campaign) controller.CampaignLimits {
	uk, w := c.UKOfcom, c.AbandonWindow
	return controller.CampaignLimits{AbandonLimit: c.AbandonTarget, MaxInFlight: c.MaxInFlight, LinesPerAgent: c.LinesPerAgent, UKOfcom: &uk,
		AbandonWindow: &w}
}
