package campaign

import (
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
	return s.inTx(func(tx txn) error {
		r, err := tx.record(recordID)
		if err != nil {
			return err
		}
		if _, hit, err := tx.dncMatch(r.Phone); err != nil {
			return err
		} else if hit || r.Status == DNC {
			return fmt.Errorf("campaign: recall record %d: %w", recordID, ErrDNCListed)
		}
		if err := tx.putRecall(Recall{RecordID: recordID, At: at, AgentID: agentID}); err != nil {
			return err
		}
		if _, open, err := tx.openAttempt(recordID); err != nil {
			return err
		} else if open {
			return nil // EndAttempt applies it
		}
		// Not in flight (pending, finished, or claimed but not dialed): wait
		// for the recall.
		r.Status, r.NextAt = Pending, fromMS(ms(at))
		return tx.putRecord(r)
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
	var out Record
	err = s.inTx(func(tx txn) error {
		if _, err := tx.campaign(campaignID); err != nil {
			return err
		}
		if _, hit, err := tx.dncMatch(digits); err != nil {
			return err
		} else if hit {
			return ErrDNCListed
		}
		old, found, err := tx.recordByPhone(campaignID, digits)
		if err != nil {
			return err
		}
		if !found {
			r := Record{CampaignID: campaignID, Phone: digits, TimeZone: tz, Callback: true, CustomerFields: orEmpty(fields),
				Status: Pending, NextAt: fromMS(ms(at))}
			r.ID, err = tx.insertRecord(r)
			out = r
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
		if err := tx.deleteRecall(old.ID); err != nil {
			return err
		}
		old.Callback, old.TimeZone, old.CustomerFields, old.Status, old.NextAt = true, tz, merged, Pending, fromMS(ms(at))
		out = old
		return tx.putRecord(old)
	})
	if err != nil {
		return Record{}, fmt.Errorf("campaign: callback for campaign %d: %w", campaignID, err)
	}
	return s.Record(out.ID)
}

func orEmpty(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return maps.Clone(m)
}
