package reporting

import (
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ipcclab/ipcclab/controller/campaign"
)

// nullMS stores a time that may not have happened: NULL for zero.
func nullMS(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return ms(t)
}

func fromNullMS(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return fromMS(v.Int64)
}

// WriteAttempts stores a run's attempts in one transaction. Writing a run
// again replaces its rows: the rows of each campaign of atts that started
// between its first and last attempt's start are deleted first.
func (s *Store) WriteAttempts(atts []Attempt) error {
	if s.journal {
		return fmt.Errorf("reporting: store %s is a campaign store: attempts are written to its journal by the campaign store", s.path)
	}
	if len(atts) == 0 {
		return nil
	}
	for i, a := range atts {
		if a.Start.IsZero() || a.Campaign == "" {
			return fmt.Errorf("reporting: store %s: attempt %d (%s to %q) has no start time or campaign", s.path, i, a.Campaign, a.DialedNumber)
		}
	}
	tx, err := s.db.Begin()
	if err != nil {
		return fmt.Errorf("reporting: store %s: %w", s.path, err)
	}
	if err = writeAttempts(tx, atts); err == nil {
		err = tx.Commit()
	} else {
		tx.Rollback()
	}
	if err != nil {
		return fmt.Errorf("reporting: store %s: write attempts: %w", s.path, err)
	}
	return nil
}

func writeAttempts(tx *sql.Tx, atts []Attempt) error {
	type bounds struct{ lo, hi int64 }
	span := map[string]bounds{}
	for _, a := range atts {
		t := ms(a.Start)
		b, ok := span[a.Campaign]
		if !ok {
			b = bounds{t, t}
		}
		span[a.Campaign] = bounds{min(b.lo, t), max(b.hi, t)}
	}
	for c, b := range span {
		if _, err := tx.Exec(`DELETE FROM outbound_attempt WHERE campaign = ? AND start_ms BETWEEN ? AND ?`, c, b.lo, b.hi); err != nil {
			return err
		}
	}
	st, err := tx.Prepare(`INSERT OR REPLACE INTO outbound_attempt (` + attemptColumns + `) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`)
	if err != nil {
		return err
	}
	defer st.Close()
	type key struct {
		campaign string
		start    int64
	}
	seq := map[key]int{}
	for _, a := range atts {
		k := key{a.Campaign, ms(a.Start)}
		n := seq[k]
		seq[k] = n + 1
		if _, err := st.Exec(k.start, a.Campaign, n, a.Mode, a.DialedNumber, a.RecordID, a.AttemptNumber, a.AgentID, a.Port,
			int64(a.CallID), string(a.Outcome), a.Cause, nullMS(a.Alerting), nullMS(a.Answered), nullMS(a.Connected), nullMS(a.End)); err != nil {
			return err
		}
	}
	return nil
}

// ReadAttempts returns the attempts that started in the range, in start
// order. From a campaign store it reads the attempt journal: start, end,
// outcome, the record and its number, the campaign and its mode (the
// journal keeps no agent, port, call or ring times).
func (s *Store) ReadAttempts(r Range) ([]Attempt, error) {
	if !r.From.IsZero() && !r.To.IsZero() && !r.From.Before(r.To) {
		return nil, fmt.Errorf("reporting: range from %s is not before to %s", r.From.Format(time.RFC3339), r.To.Format(time.RFC3339))
	}
	var out []Attempt
	var err error
	switch {
	case s.journal:
		out, err = s.readJournal(r)
	case s.version < attemptsVersion:
		err = fmt.Errorf("schema version %d was written before attempt records were kept (version %d): run the day again with simulate --store", s.version, attemptsVersion)
	default:
		where, args := r.where()
		err = s.scan(`SELECT `+attemptColumns+` FROM outbound_attempt`+where+` ORDER BY start_ms, campaign, seq`, args, func(sc func(...any) error) error {
			var a Attempt
			var start int64
			var seq int
			var callID int64
			var outcome string
			var alerting, answered, connected, end sql.NullInt64
			if err := sc(&start, &a.Campaign, &seq, &a.Mode, &a.DialedNumber, &a.RecordID, &a.AttemptNumber, &a.AgentID, &a.Port,
				&callID, &outcome, &a.Cause, &alerting, &answered, &connected, &end); err != nil {
				return err
			}
			a.Start, a.CallID, a.Outcome = fromMS(start), uint32(callID), Outcome(outcome)
			a.Alerting, a.Answered, a.Connected, a.End = fromNullMS(alerting), fromNullMS(answered), fromNullMS(connected), fromNullMS(end)
			out = append(out, a)
			return nil
		})
	}
	if err != nil {
		return nil, fmt.Errorf("reporting: store %s: read attempts: %w", s.path, err)
	}
	return out, nil
}

// readJournal reads a campaign store's attempt journal (controller/campaign
// schema, version 1 on: the attempts, records and campaigns tables). An
// attempt's number is its rank among its record's attempts by ID, the
// order they were begun in.
func (s *Store) readJournal(r Range) ([]Attempt, error) {
	lo, hi := int64(-1<<62), int64(1<<62)
	if !r.From.IsZero() {
		lo = ms(r.From)
	}
	if !r.To.IsZero() {
		hi = ms(r.To)
	}
	var out []Attempt
	err := s.scan(`SELECT a.started_at, a.ended_at, a.outcome, c.name, c.mode, r.phone, r.id,
	(SELECT count(*) FROM attempts p WHERE p.record_id = a.record_id AND p.id <= a.id)
FROM attempts a JOIN records r ON r.id = a.record_id JOIN campaigns c ON c.id = r.campaign_id
WHERE a.started_at >= ? AND a.started_at < ?
ORDER BY a.started_at, c.name, a.id`, []any{lo, hi}, func(sc func(...any) error) error {
		var a Attempt
		var start int64
		var end sql.NullInt64
		var outcome string
		if err := sc(&start, &end, &outcome, &a.Campaign, &a.Mode, &a.DialedNumber, &a.RecordID, &a.AttemptNumber); err != nil {
			return err
		}
		a.Start, a.End, a.Outcome = fromMS(start), fromNullMS(end), Outcome(outcome)
		if a.Outcome != "" && !a.Outcome.Valid() {
			return fmt.Errorf("attempt of record %d at %s: outcome %q is not one the journal writes", a.RecordID, a.Start.Format(time.RFC3339), outcome)
		}
		out = append(out, a)
		return nil
	})
	if err != nil && strings.Contains(err.Error(), "no such column") {
		err = errors.Join(err, errors.New("the campaign store's schema is not one this program reads"))
	}
	return out, err
}

// CampaignSummary counts one campaign's attempts per outcome.
type CampaignSummary struct {
	Campaign string
	Attempts int64
	// ByOutcome counts the attempts of each outcome; the zero Outcome
	// those still in flight.
	ByOutcome map[Outcome]int64
	// Talk is the agents' conversation time over the attempts.
	Talk time.Duration
}

// AbandonRate is abandons over live answers (connects + abandons), the
// regulators' measure.
func (c CampaignSummary) AbandonRate() float64 {
	ab := c.ByOutcome[campaign.Abandoned]
	return ratio(float64(ab), float64(ab+c.ByOutcome[campaign.Answered]))
}

// other counts the outcomes without a column of their own.
func (c CampaignSummary) other() int64 {
	n := c.Attempts - c.ByOutcome[""]
	for _, o := range outcomeColumns {
		n -= c.ByOutcome[o]
	}
	return n
}

func (c *CampaignSummary) add(a Attempt) {
	if c.ByOutcome == nil {
		c.ByOutcome = map[Outcome]int64{}
	}
	c.Attempts++
	c.ByOutcome[a.Outcome]++
	c.Talk += a.TalkTime()
}

// Summarize counts attempts per campaign, campaigns in first-seen order,
// then the sum over all of them (Campaign "all").
func Summarize(atts []Attempt) []CampaignSummary {
	var out []CampaignSummary
	idx := map[string]int{}
	all := CampaignSummary{Campaign: "all", ByOutcome: map[Outcome]int64{}}
	for _, a := range atts {
		i, ok := idx[a.Campaign]
		if !ok {
			i = len(out)
			idx[a.Campaign] = i
			out = append(out, CampaignSummary{Campaign: a.Campaign})
		}
		out[i].add(a)
		all.add(a)
	}
	if len(out) == 0 {
		return nil
	}
	return append(slices.Clip(out), all)
}
