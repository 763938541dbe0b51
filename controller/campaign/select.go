package campaign

import (
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// Next hands out up to n records of the campaign to dial at now and claims
// them (status dialing) in the same transaction, so concurrent callers never
// get the same record. The order is: due recalls for any agent (oldest first),
// then web callbacks, then the rest by priority (highest first) and NextAt
// (oldest first), ties by ID. Only pending records that are due and whose
// local time is inside the campaign's calling hours are candidates; records
// reserved by a recall for a specific agent are left to NextForAgent.
// A disabled campaign yields nothing. Numbers found on the DNC list are
// marked dnc and skipped. The campaign's settings are read afresh each call.
//
// Each record handed out must then go to BeginAttempt, or back with Release.
func (s *Store) Next(campaignID int64, now time.Time, n int) ([]Record, error) {
	return s.next(campaignID, "", now, n)
}

// NextForAgent is Next for one agent: that agent's due recalls come first,
// before recalls for any agent and everything else.
func (s *Store) NextForAgent(campaignID int64, agentID string, now time.Time, n int) ([]Record, error) {
	if agentID == "" {
		return nil, fmt.Errorf("campaign: NextForAgent: empty agent ID (use Next)")
	}
	return s.next(campaignID, agentID, now, n)
}

// selectDue orders the candidates; see Next. A recall with an empty agent_id
// is for any agent; ?3 (the agent asking, empty for Next) admits that
// agent's own recalls too.
const selectDue = `SELECT ` + recordCols + `
FROM records r LEFT JOIN recalls rc ON rc.record_id = r.id
WHERE r.campaign_id = ?1 AND r.status = 'pending' AND r.time_zone IN (%s)
  AND ((rc.record_id IS NULL AND r.next_at <= ?2)
    OR (rc.record_id IS NOT NULL AND rc.at <= ?2 AND (rc.agent_id = '' OR rc.agent_id = ?3)))
ORDER BY CASE WHEN rc.record_id IS NOT NULL AND rc.agent_id <> '' THEN 0
              WHEN rc.record_id IS NOT NULL THEN 1
              WHEN r.callback THEN 2
              ELSE 3 END,
         rc.at, r.priority DESC, r.next_at, r.id
LIMIT ?4`

func (s *Store) next(campaignID int64, agentID string, now time.Time, n int) ([]Record, error) {
	if n <= 0 {
		return nil, nil
	}
	var out []Record
	err := s.inTx(func(tx *sql.Tx) error {
		c, err := getCampaign(tx, campaignID)
		if err != nil || !c.Enabled {
			return err
		}
		zones, err := pendingZones(tx, campaignID)
		if err != nil {
			return err
		}
		open := openZones(now, zones, c.CallingHours)
		if len(open) == 0 {
			return nil
		}
		args := []any{campaignID, ms(now), agentID, 0}
		marks := make([]string, len(open))
		for i, z := range open {
			marks[i] = fmt.Sprintf("?%d", i+5)
			args = append(args, z)
		}
		q := fmt.Sprintf(selectDue, strings.Join(marks, ","))
		// Records skipped below change status, so each pass sees new rows
		// and the loop ends when a pass finds nothing.
		for len(out) < n {
			args[3] = n - len(out)
			cands, err := queryRecords(tx, q, args...)
			if err != nil || len(cands) == 0 {
				return err
			}
			for _, r := range cands {
				status := Dialing
				if _, hit, err := dncMatch(tx, r.Phone); err != nil {
					return err
				} else if hit {
					status = DNC
				} else if r.Attempts >= c.MaxAttempts {
					if recall, err := hasRecall(tx, r.ID); err != nil {
						return err
					} else if !recall {
						status = Exhausted // MaxAttempts lowered while running
					}
				}
				if _, err := tx.Exec(`UPDATE records SET status = ? WHERE id = ?`, status, r.ID); err != nil {
					return err
				}
				if status == Dialing {
					r.Status = Dialing
					out = append(out, r)
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("campaign: next for campaign %d: %w", campaignID, err)
	}
	return out, nil
}

func pendingZones(tx *sql.Tx, campaignID int64) ([]string, error) {
	rows, err := tx.Query(`SELECT DISTINCT time_zone FROM records WHERE campaign_id = ? AND status = 'pending'`, campaignID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var zones []string
	for rows.Next() {
		var z string
		if err := rows.Scan(&z); err != nil {
			return nil, err
		}
		zones = append(zones, z)
	}
	return zones, rows.Err()
}

func queryRecords(tx *sql.Tx, q string, args ...any) ([]Record, error) {
	rows, err := tx.Query(q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Record
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func hasRecall(tx *sql.Tx, recordID int64) (bool, error) {
	var n int
	err := tx.QueryRow(`SELECT count(*) FROM recalls WHERE record_id = ?`, recordID).Scan(&n)
	return n > 0, err
}
