package campaign

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"time"
)

// ScheduleRecall books a call back for a record at at, for agentID ("" = any
// agent of the campaign), replacing any earlier recall. It is agreed with the
// customer, so it revives a done or exhausted record and is made even past
// MaxAttempts. Scheduled during a call (the usual case: the agent books it
// before hanging up), it takes over from the retry rule at EndAttempt. A
// recall is still subject to the calling hours and the DNC list.
func (s *Store) ScheduleRecall(recordID int64, at time.Time, agentID string) error {
	return s.inTx(func(tx *sql.Tx) error {
		r, err := getRecord(tx, recordID)
		if err != nil {
			return err
		}
		if _, hit, err := dncMatch(tx, r.Phone); err != nil {
			return err
		} else if hit || r.Status == DNC {
			return fmt.Errorf("campaign: recall record %d: %w", recordID, ErrDNCListed)
		}
		if _, err := tx.Exec(`INSERT INTO recalls (record_id, at, agent_id) VALUES (?1, ?2, ?3)
			ON CONFLICT (record_id) DO UPDATE SET at = ?2, agent_id = ?3`, recordID, ms(at), agentID); err != nil {
			return err
		}
		var open int
		if err := tx.QueryRow(`SELECT count(*) FROM attempts WHERE record_id = ? AND ended_at IS NULL`, recordID).Scan(&open); err != nil {
			return err
		}
		if open > 0 {
			return nil // EndAttempt applies it
		}
		// Not in flight (pending, finished, or claimed but not dialed): wait
		// for the recall.
		_, err = tx.Exec(`UPDATE records SET status = 'pending', next_at = ? WHERE id = ?`, ms(at), recordID)
		return err
	})
}

// AddCallback stores a web callback request: a record selected before
// ordinary records once at has come (zero at = now, by the store's clock).
// A number already in the campaign becomes that record's callback (fields
// merged, time zone updated) unless it is in flight (ErrInFlight). Numbers on
// the DNC list are refused (ErrDNCListed): the list wins over the form.
func (s *Store) AddCallback(campaignID int64, phone, tz string, fields map[string]string, at time.Time) (Record, error) {
	digits, err := NormalizePhone(phone)
	if err != nil {
		return Record{}, fmt.Errorf("campaign: callback: %w", err)
	}
	if _, err := LoadZone(tz); err != nil {
		return Record{}, fmt.Errorf("campaign: callback: %w", err)
	}
	if at.IsZero() {
		at = s.now()
	}
	var id int64
	err = s.inTx(func(tx *sql.Tx) error {
		if _, err := getCampaign(tx, campaignID); err != nil {
			return err
		}
		if _, hit, err := dncMatch(tx, digits); err != nil {
			return err
		} else if hit {
			return ErrDNCListed
		}
		old, err := scanRecord(tx.QueryRow(`SELECT `+recordCols+` FROM records r WHERE r.campaign_id = ? AND r.phone = ?`, campaignID, digits))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			b, _ := json.Marshal(orEmpty(fields))
			return tx.QueryRow(`INSERT INTO records (campaign_id, phone, time_zone, callback, fields, status, next_at)
				VALUES (?, ?, ?, 1, ?, 'pending', ?) RETURNING id`, campaignID, digits, tz, string(b), ms(at)).Scan(&id)
		case err != nil:
			return err
		}
		switch old.Status {
		case Dialing:
			return fmt.Errorf("record %d: %w", old.ID, ErrInFlight)
		case DNC:
			return fmt.Errorf("record %d: %w", old.ID, ErrDNCListed)
		}
		merged := orEmpty(old.CustomerFields)
		maps.Copy(merged, fields)
		b, _ := json.Marshal(merged)
		id = old.ID
		if _, err := tx.Exec(`DELETE FROM recalls WHERE record_id = ?`, id); err != nil {
			return err
		}
		_, err = tx.Exec(`UPDATE records SET callback = 1, time_zone = ?, fields = ?, status = 'pending', next_at = ? WHERE id = ?`,
			tz, string(b), ms(at), id)
		return err
	})
	if err != nil {
		return Record{}, fmt.Errorf("campaign: callback for campaign %d: %w", campaignID, err)
	}
	return s.Record(id)
}

func orEmpty(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return maps.Clone(m)
}
