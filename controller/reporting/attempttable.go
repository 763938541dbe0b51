package reporting

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"
)

// AttemptTable is the attempt report: one row per attempt in start order,
// then a TOTAL row per campaign counting its attempts per outcome, and one
// over all campaigns ("all").
type AttemptTable struct {
	Attempts  []Attempt
	Summaries []CampaignSummary
}

// BuildAttemptTable lays out atts, which are in start order.
func BuildAttemptTable(atts []Attempt) AttemptTable {
	return AttemptTable{Attempts: atts, Summaries: Summarize(atts)}
}

// The columns of the attempt rows; the summary's follow outcomeColumns.
var (
	attemptHeader = []string{"start", "end", "campaign", "mode", "dialed_number", "record_id", "attempt", "agent", "port",
		"outcome", "cause", "ring_s", "answer_s", "talk_s"}
	summaryHeader = []string{"attempts", "answered", "abandoned", "busy", "no_answer", "machine", "failed", "other", InFlight}
)

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func idText(n int64) string {
	if n == 0 {
		return ""
	}
	return strconv.FormatInt(n, 10)
}

// clock renders a time for people: the time of day when the table is on
// one day, with the date otherwise; "-" for a step that did not happen.
func clock(t time.Time, oneDay bool) string {
	switch {
	case t.IsZero():
		return "-"
	case oneDay:
		return t.Format("15:04:05")
	}
	return t.Format("2006-01-02 15:04:05")
}

func (t AttemptTable) oneDay() bool {
	if len(t.Attempts) == 0 {
		return true
	}
	y1, m1, d1 := t.Attempts[0].Start.Date()
	for _, a := range t.Attempts {
		for _, at := range []time.Time{a.Start, a.End} {
			if at.IsZero() {
				continue
			}
			if y, m, d := at.Date(); y != y1 || m != m1 || d != d1 {
				return false
			}
		}
	}
	return true
}

// summaryCounts are a summary's figures in summaryHeader's order.
func (c CampaignSummary) counts() []int64 {
	out := []int64{c.Attempts}
	for _, o := range outcomeColumns {
		out = append(out, c.ByOutcome[o])
	}
	return append(out, c.other(), c.ByOutcome[""])
}

// WriteText prints the attempts aligned for people, then the summary; an
// empty table says so.
func (t AttemptTable) WriteText(w io.Writer) error {
	if len(t.Attempts) == 0 {
		_, err := fmt.Fprintln(w, "no attempts in the range")
		return err
	}
	one := t.oneDay()
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
	line := func(cells ...string) {
		for _, c := range cells {
			fmt.Fprint(tw, c, "\t")
		}
		fmt.Fprintln(tw)
	}
	line(attemptHeader...)
	for _, a := range t.Attempts {
		line(clock(a.Start, one), clock(a.End, one), a.Campaign, orDash(a.Mode), orDash(a.DialedNumber), orDash(idText(a.RecordID)),
			orDash(idText(int64(a.AttemptNumber))), orDash(a.AgentID), orDash(a.Port), a.outcomeText(), orDash(a.Cause),
			secs1(a.RingTime()), secs1(a.TimeToAnswer()), secs1(a.TalkTime()))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
	line(append(append([]string{"", "campaign"}, summaryHeader...), "abandon_rate", "talk")...)
	for _, c := range t.Summaries {
		cells := []string{TotalLabel, c.Campaign}
		for _, n := range c.counts() {
			cells = append(cells, num(n))
		}
		line(append(cells, pct(c.AbandonRate()), hms(c.Talk))...)
	}
	return tw.Flush()
}

// csvTime is a time in CSV: RFC 3339 to the millisecond, empty for a step
// that did not happen.
func csvTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format("2006-01-02T15:04:05.000Z07:00")
}

// WriteCSV prints the table as CSV with a header. Every row has the same
// columns: an attempt row has its own figures, 1 under attempts and 1
// under its outcome's count column, so that a count column's sum over the
// attempt rows is the TOTAL rows' figure; TOTAL rows ("TOTAL" in the total
// column) have the counts, the talk time, the abandon rate, and as start
// and end the first start and last end of what they count.
func (t AttemptTable) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	head := []string{"start", "end", "total", "campaign", "mode", "dialed_number", "record_id", "attempt_number", "agent_id", "port",
		"call_id", "outcome", "cause", "ring_s", "time_to_answer_s", "talk_s"}
	head = append(append(head, summaryHeader...), "abandon_rate")
	if err := cw.Write(head); err != nil {
		return err
	}
	col := map[Outcome]int{"": len(summaryHeader) - 1}
	for i, o := range outcomeColumns {
		col[o] = i + 1
	}
	other := len(outcomeColumns) + 1
	for _, a := range t.Attempts {
		counts := make([]string, len(summaryHeader))
		for i := range counts {
			counts[i] = "0"
		}
		counts[0] = "1"
		if i, ok := col[a.Outcome]; ok {
			counts[i] = "1"
		} else {
			counts[other] = "1"
		}
		callID := ""
		if a.CallID != 0 {
			callID = strconv.FormatUint(uint64(a.CallID), 10)
		}
		rec := []string{csvTime(a.Start), csvTime(a.End), "", a.Campaign, a.Mode, a.DialedNumber, idText(a.RecordID),
			idText(int64(a.AttemptNumber)), a.AgentID, a.Port, callID, a.outcomeText(), a.Cause,
			secs(a.RingTime()), secs(a.TimeToAnswer()), secs(a.TalkTime())}
		if err := cw.Write(append(append(rec, counts...), "")); err != nil {
			return err
		}
	}
	for _, c := range t.Summaries {
		first, last := t.bounds(c.Campaign)
		rec := []string{csvTime(first), csvTime(last), TotalLabel, c.Campaign, "", "", "", "", "", "", "", "", "", "", "", secs(c.Talk)}
		for _, n := range c.counts() {
			rec = append(rec, num(n))
		}
		if err := cw.Write(append(rec, frac4(c.AbandonRate()))); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// bounds are the first start and the last end (or start, for attempts in
// flight) of a campaign's attempts; "all" covers every campaign.
func (t AttemptTable) bounds(name string) (first, last time.Time) {
	for _, a := range t.Attempts {
		if name != "all" && a.Campaign != name {
			continue
		}
		if first.IsZero() || a.Start.Before(first) {
			first = a.Start
		}
		end := a.End
		if end.IsZero() {
			end = a.Start
		}
		if end.After(last) {
			last = end
		}
	}
	return first, last
}
