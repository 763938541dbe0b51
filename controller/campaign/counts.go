package campaign

import (
	"cmp"
	"fmt"
	"slices"
	"time"
)

// RecordCounts is how a campaign's call list stands, counted by the
// storage (SQL COUNT over the indexes, or the memory store's counters)
// without reading the records: the dashboard asks on every snapshot.
type RecordCounts struct {
	// Records is the size of the list; ByStatus has every status, zero
	// or not.
	Records  int
	ByStatus map[Status]int
	// Recalls are the pending records with a recall booked (agreed with
	// the customer on a call); Callbacks the pending web callbacks without
	// one. Together they are the records Scheduled lists.
	Recalls, Callbacks int
}

// Left is what is left to dial: the pending and dialing records.
func (c RecordCounts) Left() int { return c.ByStatus[Pending] + c.ByStatus[Dialing] }

// statuses lists every Status.
var statuses = []Status{Pending, Dialing, Done, DNC, Exhausted}

// CountRecords counts a campaign's records per status and its scheduled
// ones. An unknown campaign is ErrNotFound.
func (s *Store) CountRecords(campaignID int64) (RecordCounts, error) {
	c := RecordCounts{ByStatus: map[Status]int{}}
	err := s.view(func(tx txn) error {
		if _, err := tx.campaign(campaignID); err != nil {
			return err
		}
		by, err := tx.statusCounts(campaignID)
		if err != nil {
			return err
		}
		for _, st := range statuses {
			c.ByStatus[st] = by[st]
			c.Records += by[st]
		}
		c.Recalls, c.Callbacks, err = tx.scheduledCounts(campaignID)
		return err
	})
	if err != nil {
		return RecordCounts{}, fmt.Errorf("campaign: count records of campaign %d: %w", campaignID, err)
	}
	return c, nil
}

// BookedKind is why a record waits for a time.
type BookedKind string

const (
	BookedRecall   BookedKind = "recall"   // agreed with the customer on a call (ScheduleRecall)
	BookedCallback BookedKind = "callback" // a web callback request (AddCallback)
)

// Booked is a pending record booked for a time: a recall (at its time),
// or a web callback without one (at its NextAt).
type Booked struct {
	Record Record
	At     time.Time
	Kind   BookedKind
	// AgentID is the agent a recall is reserved for ("" for any).
	AgentID string
}

// Scheduled returns up to limit (1–1000) of a campaign's booked records,
// soonest first (ties by record ID): what the dashboard lists. It reads
// those records only, in index order. An unknown campaign is ErrNotFound.
func (s *Store) Scheduled(campaignID int64, limit int) ([]Booked, error) {
	if limit < 1 || limit > 1000 {
		return nil, fmt.Errorf("campaign: scheduled records of campaign %d: limit %d: want 1–1000", campaignID, limit)
	}
	var out []Booked
	err := s.view(func(tx txn) error {
		if _, err := tx.campaign(campaignID); err != nil {
			return err
		}
		recalls, err := tx.nextRecalls(campaignID, limit)
		if err != nil {
			return err
		}
		callbacks, err := tx.nextCallbacks(campaignID, limit)
		if err != nil {
			return err
		}
		for _, d := range recalls {
			out = append(out, Booked{Record: d.rec, At: d.at, Kind: BookedRecall, AgentID: d.agentID})
		}
		for _, r := range callbacks {
			out = append(out, Booked{Record: r, At: r.NextAt, Kind: BookedCallback})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("campaign: scheduled records of campaign %d: %w", campaignID, err)
	}
	slices.SortFunc(out, func(a, b Booked) int { return cmp.Or(a.At.Compare(b.At), cmp.Compare(a.Record.ID, b.Record.ID)) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}
