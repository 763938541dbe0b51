package campaign

import (
	"database/sql"
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
	err := s.inTx(func(tx *sql.Tx) error {
		r, err := getRecord(tx, recordID)
		if err != nil {
			return err
		}
		var open int64
		switch err := tx.QueryRow(`SELECT id FROM attempts WHERE record_id = ? AND ended_at IS NULL`, recordID).Scan(&open); {
		case err == nil:
			return fmt.Errorf("record %d, attempt %d: %w", recordID, open, ErrInFlight)
		case !errors.Is(err, sql.ErrNoRows):
			return err
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
		c, err := getCampaign(tx, r.CampaignID)
		if err != nil {
			return err
		}
		refuse := func(status Status, why error) error {
			if _, err := tx.Exec(`UPDATE records SET status = ? WHERE id = ?`, status, recordID); err != nil {
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
		if _, hit, err := dncMatch(tx, r.Phone); err != nil {
			return err
		} else if hit {
			return refuse(DNC, ErrDNCListed)
		}
		recall, err := hasRecall(tx, recordID)
		if err != nil {
			return err
		}
		// A recall was agreed with the customer, so it is made even past
		// MaxAttempts (lowered while running, or a record revived by it).
		if r.Attempts >= c.MaxAttempts && !recall {
			return refuse(Exhausted, ErrNotDialable)
		}
		a = Attempt{RecordID: recordID, StartedAt: now}
		if err := tx.QueryRow(`INSERT INTO attempts (record_id, started_at) VALUES (?, ?) RETURNING id`, recordID, ms(now)).Scan(&a.ID); err != nil {
			return err
		}
		if _, err := tx.Exec(`UPDATE records SET status = 'dialing', attempts = attempts + 1 WHERE id = ?`, recordID); err != nil {
			return err
		}
		_, err = tx.Exec(`DELETE FROM recalls WHERE record_id = ?`, recordID)
		return err
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
	err := s.inTx(func(tx *sql.Tx) error {
		a, err := scanAttempt(tx.QueryRow(`SELECT id, record_id, started_at, outcome, ended_at FROM attempts WHERE id = ?`, attemptID))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("attempt %d: %w", attemptID, ErrNotFound)
		}
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
func finishAttempt(tx *sql.Tx, a Attempt, outcome Outcome, now time.Time) (Record, error) {
	r, err := getRecord(tx, a.RecordID)
	if err != nil {
		return r, err
	}
	c, err := getCampaign(tx, r.CampaignID)
	if err != nil {
		return r, err
	}
	d, err := Decide(c, r.Attempts, outcome, now)
	if err != nil {
		return r, err
	}
	if outcome == AskedDNC {
		if _, err := tx.Exec(`INSERT INTO dnc (digits, prefix) VALUES (?, 0) ON CONFLICT DO NOTHING`, r.Phone); err != nil {
			return r, err
		}
	}
	if d.Status != DNC {
		var at int64
		switch err := tx.QueryRow(`SELECT at FROM recalls WHERE record_id = ?`, r.ID).Scan(&at); {
		case err == nil:
			d = Decision{Pending, fromMS(at)}
		case !errors.Is(err, sql.ErrNoRows):
			return r, err
		}
	}
	if d.Status == Pending {
		// Listed while the call was in flight: never rescheduled.
		if _, hit, err := dncMatch(tx, r.Phone); err != nil {
			return r, err
		} else if hit {
			d.Status = DNC
		}
	}
	if d.Status == DNC {
		if _, err := tx.Exec(`DELETE FROM recalls WHERE record_id = ?`, r.ID); err != nil {
			return r, err
		}
	}
	if _, err := tx.Exec(`UPDATE attempts SET outcome = ?, ended_at = ? WHERE id = ? AND ended_at IS NULL`, outcome, ms(now), a.ID); err != nil {
		return r, err
	}
	if _, err := tx.Exec(`UPDATE records SET status = ?, next_at = ? WHERE id = ?`, d.Status, ms(d.NextAt), r.ID); err != nil {
		return r, err
	}
	r.Status, r.NextAt = d.Status, d.NextAt.UTC()
	return r, nil
}

// Release returns a record handed out by Next, and never dialed, to pending
// (the agent went away, the pacer changed its mind). Its attempt count and
// NextAt are unchanged.
func (s *Store) Release(recordID int64) error {
	return s.inTx(func(tx *sql.Tx) error {
		res, err := tx.Exec(`UPDATE records SET status = 'pending' WHERE id = ? AND status = 'dialing'
			AND NOT EXISTS (SELECT 1 FROM attempts WHERE record_id = ? AND ended_at IS NULL)`, recordID, recordID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("campaign: release record %d: not claimed, or an attempt is in flight: %w", recordID, ErrNotDialable)
		}
		return nil
	})
}

// recover applies the crash rule of the package doc, in one transaction.
func (s *Store) recover() error {
	now := s.now()
	var rec Recovery
	err := s.inTx(func(tx *sql.Tx) error {
		rows, err := tx.Query(`SELECT id, record_id, started_at, outcome, ended_at FROM attempts WHERE ended_at IS NULL ORDER BY id`)
		if err != nil {
			return err
		}
		var open []Attempt
		for rows.Next() {
			a, err := scanAttempt(rows)
			if err != nil {
				rows.Close()
				return err
			}
			open = append(open, a)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
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
		rows, err = tx.Query(`UPDATE records SET status = 'pending' WHERE status = 'dialing' RETURNING id`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return err
			}
			rec.Released = append(rec.Released, id)
		}
		return rows.Err()
	})
	s.recovered = rec
	return err
}
