package campaign

import (
	"cmp"
	"fmt"
	"slices"
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

// Selection reads the records it hands out, not the whole list: a call list
// of a million records costs about what a short one does. Candidates come in
// three classes:
//
//  1. due recalls (Recall.At ≤ now) for this agent, then for any agent,
//     by recall time, then priority (highest first), NextAt, ID;
//  2. due web callbacks without a recall, by priority, NextAt, ID;
//  3. the other due records without a recall, by priority, NextAt, ID,
//     read one (time zone, priority) at a time in NextAt order (the
//     storage's dueAt) and merged across the open zones.
//
// Only pending records whose time zone is inside the calling hours at now
// are candidates; a recall reserved for another agent keeps its record out
// of every class.

func (s *Store) next(campaignID int64, agentID string, now time.Time, n int) ([]Record, error) {
	if n <= 0 {
		return nil, nil
	}
	var out []Record
	err := s.inTx(func(tx txn) error {
		c, err := tx.campaign(campaignID)
		if err != nil || !c.Enabled {
			return err
		}
		open, err := openPendingZones(tx, campaignID, now, c.CallingHours)
		if err != nil || len(open) == 0 {
			return err
		}
		// Records skipped below change status, so each pass sees new rows
		// and the loop ends when a pass finds nothing.
		for len(out) < n {
			cands, err := candidates(tx, campaignID, agentID, open, now, n-len(out))
			if err != nil || len(cands) == 0 {
				return err
			}
			for _, r := range cands {
				status := Dialing
				if _, hit, err := tx.dncMatch(r.Phone); err != nil {
					return err
				} else if hit {
					status = DNC
				} else if r.Attempts >= c.MaxAttempts {
					if _, recall, err := tx.recall(r.ID); err != nil {
						return err
					} else if !recall {
						status = Exhausted // MaxAttempts lowered while running
					}
				}
				if err := tx.setStatus(r.ID, status); err != nil {
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

// byPriority orders records by priority (highest first), NextAt, ID.
func byPriority(a, b Record) int {
	if c := cmp.Compare(b.Priority, a.Priority); c != 0 {
		return c
	}
	if c := a.NextAt.Compare(b.NextAt); c != 0 {
		return c
	}
	return cmp.Compare(a.ID, b.ID)
}

// candidates returns up to need due records in selection order (see above).
func candidates(tx txn, campaignID int64, agentID string, open []string, now time.Time, need int) ([]Record, error) {
	isOpen := make(map[string]bool, len(open))
	for _, z := range open {
		isOpen[z] = true
	}
	var out []Record
	// Class 1.
	recalls, err := tx.dueRecalls(campaignID, now)
	if err != nil {
		return nil, err
	}
	recalls = slices.DeleteFunc(recalls, func(d dueRecall) bool {
		return !isOpen[d.rec.TimeZone] || (d.agentID != "" && d.agentID != agentID)
	})
	slices.SortFunc(recalls, func(a, b dueRecall) int {
		if (a.agentID == "") != (b.agentID == "") {
			if a.agentID != "" {
				return -1 // the agent's own first
			}
			return 1
		}
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return byPriority(a.rec, b.rec)
	})
	for _, d := range recalls {
		if len(out) == need {
			return out, nil
		}
		out = append(out, d.rec)
	}
	// Class 2.
	callbacks, err := tx.dueCallbacks(campaignID, now)
	if err != nil {
		return nil, err
	}
	callbacks = slices.DeleteFunc(callbacks, func(r Record) bool { return !isOpen[r.TimeZone] })
	slices.SortFunc(callbacks, byPriority)
	for _, r := range callbacks {
		if len(out) == need {
			return out, nil
		}
		out = append(out, r)
	}
	// Class 3: walk the priorities downwards, each zone's next one found
	// by the storage's index; at each level merge the zones' due records
	// by NextAt.
	type cursor struct {
		zone string
		prio int
		ok   bool
	}
	curs := make([]cursor, len(open))
	for i, z := range open {
		p, ok, err := tx.priorityBelow(campaignID, z, MaxPriority+1)
		if err != nil {
			return nil, err
		}
		curs[i] = cursor{z, p, ok}
	}
	for len(out) < need {
		best := -1
		for _, c := range curs {
			if c.ok && c.prio > best {
				best = c.prio
			}
		}
		if best < 0 {
			break
		}
		var level []Record
		for i, c := range curs {
			if !c.ok || c.prio != best {
				continue
			}
			rs, err := tx.dueAt(campaignID, c.zone, best, now, need-len(out))
			if err != nil {
				return nil, err
			}
			level = append(level, rs...)
			p, ok, err := tx.priorityBelow(campaignID, c.zone, best)
			if err != nil {
				return nil, err
			}
			curs[i] = cursor{c.zone, p, ok}
		}
		slices.SortFunc(level, byPriority)
		out = append(out, level[:min(len(level), need-len(out))]...)
	}
	return out, nil
}

// openPendingZones returns the time zones of the campaign's pending records
// whose local time is inside hours at now: selection filters the call list
// by them, since a window depends only on the zone, not on the record.
func openPendingZones(tx txn, campaignID int64, now time.Time, hours CallingHours) ([]string, error) {
	zones, err := tx.pendingZones(campaignID)
	if err != nil {
		return nil, err
	}
	var open []string
	for _, z := range zones {
		if loc, err := LoadZone(z); err == nil && InWindow(now, loc, hours) {
			open = append(open, z)
		}
	}
	return open, nil
}
