package campaign

import (
	"fmt"
	"time"
)

// MaxPacingState is the largest pacing state SavePacing keeps. A dialer's
// answer model and abandon counts are a few kilobytes; a state this large
// is a bug, and refusing it keeps one campaign from filling the database.
const MaxPacingState = 4 << 20

// SavePacing keeps the campaign's pacing state as of at: the dialer's own
// bytes (its learned answer model, abandon control and abandon counts),
// which the store does not read. It is kept so that a restarted controller
// resumes predictive pacing where it stopped instead of learning the answer
// rate again while abandoning calls. Only the latest state is kept: each
// save replaces the previous one. The bytes are copied; the caller may reuse
// state. An unknown campaign is ErrNotFound; an empty state, or one larger
// than MaxPacingState, is refused.
func (s *Store) SavePacing(campaignID int64, at time.Time, state []byte) error {
	switch {
	case len(state) == 0:
		return fmt.Errorf("campaign: save pacing of campaign %d: nothing to save (empty state)", campaignID)
	case len(state) > MaxPacingState:
		return fmt.Errorf("campaign: save pacing of campaign %d: state is %d bytes, limit %d", campaignID, len(state), MaxPacingState)
	}
	err := s.inTx(func(tx txn) error {
		if _, err := tx.campaign(campaignID); err != nil {
			return err
		}
		return tx.putPacing(campaignID, at, state)
	})
	if err != nil {
		return fmt.Errorf("campaign: save pacing of campaign %d: %w", campaignID, err)
	}
	return nil
}

// Pacing returns the campaign's latest pacing state and when it was saved
// (to the millisecond), for a restarted controller to resume pacing from;
// ok is false when none was saved. An unknown campaign is ErrNotFound.
func (s *Store) Pacing(campaignID int64) (state []byte, savedAt time.Time, ok bool, err error) {
	err = s.view(func(tx txn) error {
		if _, err := tx.campaign(campaignID); err != nil {
			return err
		}
		state, savedAt, ok, err = tx.pacing(campaignID)
		return err
	})
	if err != nil {
		return nil, time.Time{}, false, fmt.Errorf("campaign: pacing of campaign %d: %w", campaignID, err)
	}
	return state, savedAt, ok, nil
}
