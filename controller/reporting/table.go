package reporting

import (
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strconv"
	"text/tabwriter"
	"time"
)

// TotalLabel marks the total rows of a table: one per entity, and one over
// every entity ("all").
const TotalLabel = "TOTAL"

// Table is one kind's report: a row per interval per entity in time order,
// then the TOTAL rows.
type Table struct {
	Kind   Kind
	Header []string
	Rows   []Row
}

// Row is one line of a Table. Interval is the span ("09:00-09:30", or
// TOTAL); Cells follow Table.Header after the interval and entity columns.
type Row struct {
	Span   Span
	Total  bool
	Entity string
	Cells  []string
	// CSV are the cells in CSV form: raw sums (seconds, service-level
	// parts) and the derived figures at full precision.
	CSV []string
}

// column is one figure of a kind: its text and CSV renderings.
type column[T any] struct {
	name string
	text func(T) string
	csv  func(T) string
}

func num(n int64) string           { return strconv.FormatInt(n, 10) }
func secs(d time.Duration) string  { return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) }
func secs1(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) }
func hms(d time.Duration) string {
	return fmt.Sprintf("%d:%02d:%02d", int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60)
}
func pct(f float64) string   { return strconv.FormatFloat(100*f, 'f', 1, 64) + " %" }
func frac4(f float64) string { return strconv.FormatFloat(f, 'f', 4, 64) }
func cnt[T any](name string, f func(T) int64) column[T] {
	return column[T]{name, func(t T) string { return num(f(t)) }, func(t T) string { return num(f(t)) }}
}
func dur[T any](name string, f func(T) time.Duration) column[T] {
	return column[T]{name, func(t T) string { return hms(f(t)) }, func(t T) string { return secs(f(t)) }}
}

var callTypeCols = []column[CallTypeInterval]{
	cnt("offered", func(c CallTypeInterval) int64 { return c.Offered }),
	cnt("answered", func(c CallTypeInterval) int64 { return c.Answered }),
	cnt("abandoned", func(c CallTypeInterval) int64 { return c.Abandoned }),
	cnt("answered_in_sl", func(c CallTypeInterval) int64 { return c.SLCalls }),
	cnt("sl_offered", func(c CallTypeInterval) int64 { return c.SLOffered }),
	cnt("sl_abandoned", func(c CallTypeInterval) int64 { return c.SLAband }),
	{"service_level", func(c CallTypeInterval) string { return pct(c.ServiceLevel()) }, func(c CallTypeInterval) string { return frac4(c.ServiceLevel()) }},
	{"asa_s", func(c CallTypeInterval) string { return secs1(c.ASA()) }, func(c CallTypeInterval) string { return secs(c.ASA()) }},
	cnt("handled", func(c CallTypeInterval) int64 { return c.Handled }),
	{"aht_s", func(c CallTypeInterval) string { return secs1(c.AHT()) }, func(c CallTypeInterval) string { return secs(c.AHT()) }},
}

var skillGroupCols = []column[SkillGroupInterval]{
	cnt("handled", func(g SkillGroupInterval) int64 { return g.Handled }),
	dur("talk", func(g SkillGroupInterval) time.Duration { return g.TalkTime }),
	dur("ready", func(g SkillGroupInterval) time.Duration { return g.ReadyTime }),
	dur("not_ready", func(g SkillGroupInterval) time.Duration { return g.NotReadyTime }),
	dur("logged_on", func(g SkillGroupInterval) time.Duration { return g.LoggedOnTime }),
	cnt("agents_logged_on", func(g SkillGroupInterval) int64 { return int64(g.AgentsLoggedOn) }),
}

var agentCols = []column[AgentInterval]{
	cnt("calls", func(a AgentInterval) int64 { return a.Calls }),
	dur("talk", func(a AgentInterval) time.Duration { return a.Talk }),
	dur("hold", func(a AgentInterval) time.Duration { return a.Hold }),
	dur("wrap_up", func(a AgentInterval) time.Duration { return a.WrapUp }),
	dur("ready", func(a AgentInterval) time.Duration { return a.Ready }),
	dur("not_ready", func(a AgentInterval) time.Duration { return a.NotReady }),
	dur("logged_on", func(a AgentInterval) time.Duration { return a.LoggedOnTime }),
}

var campaignCols = []column[CampaignInterval]{
	cnt("attempts", func(c CampaignInterval) int64 { return c.Attempts }),
	cnt("connects", func(c CampaignInterval) int64 { return c.Connects }),
	cnt("abandoned", func(c CampaignInterval) int64 { return c.Abandoned }),
	cnt("busy", func(c CampaignInterval) int64 { return c.Busy }),
	cnt("no_answer", func(c CampaignInterval) int64 { return c.NoAnswer }),
	cnt("machines", func(c CampaignInterval) int64 { return c.Machines }),
	{"abandon_rate", func(c CampaignInterval) string { return pct(c.AbandonRate()) }, func(c CampaignInterval) string { return frac4(c.AbandonRate()) }},
}

// build lays out rows of one kind: each record, then a total per entity in
// first-seen order, then the total over all entities. add accumulates a
// record into a total; the "all" total of call types combines service
// levels of different types through their parts (see callTypeAll).
func build[T any](kind Kind, entityCol string, cols []column[T], recs []T, sp func(T) Span, entity func(T) string,
	add func(*T, T), all func([]T) T) Table {
	t := Table{Kind: kind, Header: []string{"interval", entityCol}}
	for _, c := range cols {
		t.Header = append(t.Header, c.name)
	}
	mk := func(rec T, total bool, name string) Row {
		r := Row{Span: sp(rec), Total: total, Entity: name}
		for _, c := range cols {
			r.Cells = append(r.Cells, c.text(rec))
			r.CSV = append(r.CSV, c.csv(rec))
		}
		return r
	}
	var order []string
	totals := map[string]*T{}
	for _, rec := range recs {
		name := entity(rec)
		t.Rows = append(t.Rows, mk(rec, false, name))
		if tot := totals[name]; tot != nil {
			add(tot, rec)
			continue
		}
		cp := rec
		totals[name] = &cp
		order = append(order, name)
	}
	if len(recs) == 0 {
		return t
	}
	var perEntity []T
	for _, name := range order {
		tot := *totals[name]
		r := mk(tot, true, name)
		r.Span = Span{Start: sp(recs[0]).Start, End: sp(recs[len(recs)-1]).End}
		t.Rows = append(t.Rows, r)
		perEntity = append(perEntity, tot)
	}
	r := mk(all(perEntity), true, "all")
	r.Span = Span{Start: sp(recs[0]).Start, End: sp(recs[len(recs)-1]).End}
	t.Rows = append(t.Rows, r)
	return t
}

// sumAll adds records with Add; the first record's names stay, which the
// "all" row does not show.
func sumAll[T any](add func(*T, T)) func([]T) T {
	return func(ts []T) T {
		var out T
		for _, x := range ts {
			add(&out, x)
		}
		return out
	}
}

// callTypeAll sums call types. A service level over call types of
// different ServiceLevelTypes is the sum of their numerators over the sum
// of their denominators (as the run's report combines them); the sum is
// expressed as a type-2 record with the parts rewritten to give that
// ratio when the types differ.
func callTypeAll(cts []CallTypeInterval) CallTypeInterval {
	var out CallTypeInterval
	var n, d float64
	mixed := false
	for i, c := range cts {
		out.Add(c)
		a, b := c.SLParts()
		n, d = n+a, d+b
		if i > 0 && c.ServiceLevelType != cts[0].ServiceLevelType {
			mixed = true
		}
	}
	if len(cts) > 0 {
		out.ServiceLevelType = cts[0].ServiceLevelType
	}
	if mixed {
		// Type 2 is num/den of SLCalls/SLOffered: put the combined parts
		// there. The raw SL columns of this row then show the combined
		// numerator and denominator.
		out.ServiceLevelType, out.SLCalls, out.SLOffered, out.SLAband = 2, int64(n), int64(d), 0
	}
	return out
}

// BuildTable lays out the records of one kind of iv.
func BuildTable(kind Kind, iv *Intervals) (Table, error) {
	switch kind {
	case KindCallType:
		return build(kind, "call_type", callTypeCols, iv.CallTypes, func(c CallTypeInterval) Span { return c.Span },
			func(c CallTypeInterval) string { return c.CallType }, (*CallTypeInterval).Add, callTypeAll), nil
	case KindSkillGroup:
		return build(kind, "skill_group", skillGroupCols, iv.SkillGroups, func(g SkillGroupInterval) Span { return g.Span },
			func(g SkillGroupInterval) string { return g.SkillGroup }, (*SkillGroupInterval).Add, sumSkillGroups), nil
	case KindAgent:
		return build(kind, "agent", agentCols, iv.Agents, func(a AgentInterval) Span { return a.Span },
			func(a AgentInterval) string { return a.AgentID }, (*AgentInterval).Add, sumAll((*AgentInterval).Add)), nil
	case KindCampaign:
		return build(kind, "campaign", campaignCols, iv.Campaigns, func(c CampaignInterval) Span { return c.Span },
			func(c CampaignInterval) string { return c.Campaign }, (*CampaignInterval).Add, sumAll((*CampaignInterval).Add)), nil
	}
	_, err := ParseKind(string(kind))
	return Table{}, err
}

// sumSkillGroups adds the skill groups' totals. The agents logged on of
// the "all" row is the peak of the distinct agents logged on in any group
// (AgentsAnyGroup): an agent may belong to several groups, and neither a
// sum nor the largest group counts the centre's agents. A store written
// before AgentsAnyGroup was kept has 0 there; the largest group's peak
// is then the best figure it has.
func sumSkillGroups(gs []SkillGroupInterval) SkillGroupInterval {
	out := sumAll((*SkillGroupInterval).Add)(gs)
	if out.AgentsAnyGroup > 0 {
		out.AgentsLoggedOn = out.AgentsAnyGroup
	}
	return out
}

// spanText renders an interval for people: clock times when the whole
// table is on one day, dates otherwise.
func spanText(sp Span, oneDay bool) string {
	if oneDay {
		return sp.Start.Format("15:04") + "-" + sp.End.Format("15:04")
	}
	return sp.Start.Format("2006-01-02 15:04") + "-" + sp.End.Format("15:04")
}

func (t Table) oneDay() bool {
	if len(t.Rows) == 0 {
		return true
	}
	first := t.Rows[0].Span.Start
	last := slices.MaxFunc(t.Rows, func(a, b Row) int { return a.Span.End.Compare(b.Span.End) }).Span.End
	y1, m1, d1 := first.Date()
	y2, m2, d2 := last.Add(-time.Nanosecond).Date()
	return y1 == y2 && m1 == m2 && d1 == d2
}

// WriteText prints the table aligned for people; an empty table says so.
func (t Table) WriteText(w io.Writer) error {
	if len(t.Rows) == 0 {
		_, err := fmt.Fprintf(w, "no %s intervals in the range\n", t.Kind)
		return err
	}
	one := t.oneDay()
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
	line := func(cells []string) {
		for _, c := range cells {
			fmt.Fprint(tw, c, "\t")
		}
		fmt.Fprintln(tw)
	}
	line(t.Header)
	for _, r := range t.Rows {
		iv := TotalLabel
		if !r.Total {
			iv = spanText(r.Span, one)
		}
		line(append([]string{iv, r.Entity}, r.Cells...))
	}
	return tw.Flush()
}

// WriteCSV prints the table as CSV: interval_start and interval_end in RFC
// 3339, the entity, the figures; total rows have "TOTAL" in the total
// column and the range they cover as their interval.
func (t Table) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	head := append([]string{"interval_start", "interval_end", "total"}, t.Header[1:]...)
	if err := cw.Write(head); err != nil {
		return err
	}
	for _, r := range t.Rows {
		total := ""
		if r.Total {
			total = TotalLabel
		}
		rec := append([]string{r.Span.Start.Format(time.RFC3339), r.Span.End.Format(time.RFC3339), total, r.Entity}, r.CSV...)
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
