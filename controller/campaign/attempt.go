package campaign

import (
	"errors"
	"fmt"
	"time"
)

// BeginAttempt writes the journal entry for a call about to be placed: in one
// transaction it checks the record may be dialed now, inserts the attempt,
// counts it and marks the record dialing. Dial only after it returns without
// error; end the attempt with EndAttempt whatever happens to the call.
//
// The record must be one handed out by Next/NextForAgent (status dialing,
// nothing in flight) or a pending record that is due (preview dialing of a
// chosen record). The checks are repeated here because time passes between
// selection and dial (an agent previewing): a campaign disabled meanwhile, a
// window that closed or a number put on the DNC list refuse the attempt, and
// the record is released to pending (or marked dnc) rather than left claimed.
func (s *Store) BeginAttempt(recordID int64, now time.Time) (Attempt, error) {
	var a Attempt
	err := s.inTx(func(tx txn) error {
		r, err := tx.record(recordID)
		if err != nil {
			return err
		}
		switch open, ok, err := tx.openAttempt(recordID); {
		case err != nil:
			return err
		case ok:
			return fmt.Errorf("record %d, attempt %d: %w", recordID, open.ID, ErrInFlight)
		}
		switch r.Status {
		case Dialing:
		case Pending:
			if r.NextAt.After(now) {
				return fmt.Errorf("record %d due at %s: %w", recordID, r.NextAt.Format(time.RFC3339), ErrNotDue)
			}
		default:
			return fmt.Errorf("record %d is %s: %w", recordID, r.Status, ErrNotDialable)
		}
		c, err := tx.campaign(r.CampaignID)
		if err != nil {
			return err
		}
		refuse := func(status Status, why error) error {
			if err := tx.setStatus(recordID, status); err != nil {
				return err
			}
			return commitErr{fmt.Errorf("record %d: %w", recordID, why)}
		}
		if !c.Enabled {
			return refuse(Pending, ErrDisabled)
		}
		if loc, err := LoadZone(r.TimeZone); err != nil || !InWindow(now, loc, c.CallingHours) {
			return refuse(Pending, ErrOutsideWindow)
		}
		if _, hit, err := tx.dncMatch(r.Phone); err != nil {
			return err
		} else if hit {
			return refuse(DNC, ErrDNCListed)
		}
		_, recall, err := tx.recall(recordID)
		if err != nil {
			return err
		}
		// A recall was agreed with the customer, so it is made even past
		// MaxAttempts (lowered while running, or a record revived by it).
		if r.Attempts >= c.MaxAttempts && !recall {
			return refuse(Exhausted, ErrNotDialable)
		}
		a = Attempt{RecordID: recordID, StartedAt: now}
		if a.ID, err = tx.insertAttempt(recordID, now); err != nil {
			return err
		}
		r.Status, r.Attempts = Dialing, r.Attempts+1
		if err := tx.putRecord(r); err != nil {
			return err
		}
		return tx.deleteRecall(recordID)
	})
	if err != nil {
		return Attempt{}, fmt.Errorf("campaign: begin attempt: %w", err)
	}
	return a, nil
}

// EndAttempt closes an attempt with its outcome and applies the campaign's
// retry rule (Decide) to the record, with the settings current now. A recall
// scheduled during the call overrides the rule: the record waits for it. An
// AskedDNC outcome also adds the number to the DNC list. It returns the
// record as left.
func (s *Store) EndAttempt(attemptID int64, outcome Outcome, now time.Time) (Record, error) {
	if !outcome.Valid() {
		return Record{}, fmt.Errorf("campaign: end attempt %d: outcome %q is not valid", attemptID, outcome)
	}
	var r Record
	err := s.inTx(func(tx txn) error {
		a, err := tx.attempt(attemptID)
		if err != nil {
			return err
		}
		if !a.EndedAt.IsZero() {
			return fmt.Errorf("attempt %d ended at %s with %s: %w", attemptID, a.EndedAt.Format(time.RFC3339), a.Outcome, ErrAttemptEnded)
		}
		r, err = finishAttempt(tx, a, outcome, now)
		return err
	})
	if err != nil {
		return Record{}, fmt.Errorf("campaign: end attempt: %w", err)
	}
	return r, nil
}

// finishAttempt is EndAttempt's work inside a transaction, shared with crash
// recovery.
func finishAttempt(tx txn, a Attempt, outcome Outcome, now time.Time) (Record, error) {
	r, err := tx.record(a.RecordID)
	if err != nil {
		return r, err
	}
	c, err := tx.campaign(r.CampaignID)
	if err != nil {
		return r, err
	}
	d, err := Decide(c, r.Attempts, outcome, now)
	if err != nil {
		return r, err
	}
	if outcome == AskedDNC {
		if err := tx.addDNC(DNCEntry{Digits: r.Phone}); err != nil {
			return r, err
		}
	}
	if d.Status != DNC {
		switch rc, ok, err := tx.recall(r.ID); {
		case err != nil:
			return r, err
		case ok:
			d = Decision{Pending, rc.At}
		}
	}
	if d.Status == Pending {
		// Listed while the call was in flight: never rescheduled.
		if _, hit, err := tx.dncMatch(r.Phone); err != nil {
			return r, err
		} else if hit {
			d.Status = DNC
		}
	}
	if d.Status == DNC {
		if err := tx.deleteRecall(r.ID); err != nil {
			return r, err
		}
	}
	if err := tx.endAttempt(a.ID, outcome, now); err != nil {
		return r, err
	}
	r.Status, r.NextAt = d.Status, fromMS(ms(d.NextAt))
	if err := tx.putRecord(r); err != nil {
		return r, err
	}
	return r, nil
}

// Release returns a record handed out by Next, and never dialed, to pending
// (the agent went away, the pacer changed its mind). Its attempt count and
// NextAt are unchanged.
func (s *Store) Release(recordID int64) error {
	return s.inTx(func(tx txn) error {
		r, err := tx.record(recordID)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		_, open, oerr := tx.openAttempt(recordID)
		if oerr != nil {
			return oerr
		}
		if err != nil || r.Status != Dialing || open {
			return fmt.Errorf("campaign: release record %d: not claimed, or an attempt is in flight: %w", recordID, ErrNotDialable)
		}
		return tx.setStatus(recordID, Pending)
	})
}

// recover applies the crash rule of the package doc, in one transaction.
func (s *Store) recover() error {
	now := s.now()
	var rec Recovery
	err := s.inTx(func(tx txn) error {
		open, err := tx.openAttempts()
		if err != nil {
			return err
		}
		for _, a := range open {
			if _, err := finishAttempt(tx, a, Unknown, now); err != nil {
				return fmt.Errorf("recover attempt %d: %w", a.ID, err)
			}
			rec.Attempts = append(rec.Attempts, a.ID)
		}
		// Every attempt is closed now, so whatever is still dialing was only
		// claimed.
		ids, err := tx.recordsWithStatus(Dialing)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if err := tx.setStatus(id, Pending); err != nil {
				return err
			}
		}
		rec.Released = ids
		return nil
	})
	s.recovered = rec
	return err
}
