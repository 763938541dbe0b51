package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ipcclab/ipcclab/controller/reporting"
)

// IntervalSource is a Source that also keeps today's half-hour interval
// records (ICM's Call_Type_Half_Hour and kin): the completed intervals
// that started today and the current, partial one. A Source without it
// serves no /api/intervals and no "today by half-hour" table.
type IntervalSource interface {
	Source
	// TodayIntervals is called once per page render and intervals
	// request, from any goroutine; the result is not changed afterwards.
	TodayIntervals(ctx context.Context) (*reporting.Intervals, error)
}

// IntervalTable is one kind of today's intervals as /api/intervals
// answers it: reporting.BuildTable's rows, an interval's row per entity
// then the TOTAL rows.
type IntervalTable struct {
	Kind reporting.Kind `json:"kind"`
	// EntityColumn names what Entity is: call_type, skill_group, agent or
	// campaign; EntityLabel is the same for people ("Call type").
	EntityColumn string `json:"entity_column"`
	EntityLabel  string `json:"entity_label"`
	// Columns name the figures, in the order of every row's Cells (the
	// keys of Figures, as `ipcclab report --csv` heads them); Labels are
	// the same columns' headings for people ("Answered in SL", "ASA (s)").
	Columns []string      `json:"columns"`
	Labels  []string      `json:"labels"`
	Rows    []IntervalRow `json:"rows"`
}

// IntervalRow is one row of an IntervalTable.
type IntervalRow struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// Interval is the row's label: "09:00-09:30", or "TOTAL" over the day.
	Interval string `json:"interval"`
	Total    bool   `json:"total"`
	Entity   string `json:"entity"`
	// Cells are the figures as people read them (what the page shows); a
	// ratio or average over nothing (a service level with no call
	// counted, the ASA of no answered call) is "—", as on the live tables.
	Cells []string `json:"cells"`
	// Figures are the same figures as numbers by column: counts, seconds,
	// ratios (service_level 0.8, not 80 %), as the report's CSV has them
	// (a ratio over nothing is 0 there; its Cell says "—").
	Figures map[string]float64 `json:"figures"`
}

// columnLabels head the interval tables' columns for people; a column
// without one is headed by its name in words (heading).
var columnLabels = map[string]string{
	"call_type": "Call type", "skill_group": "Skill group", "agent": "Agent", "campaign": "Campaign",
	"answered_in_sl": "Answered in SL", "sl_offered": "SL offered", "sl_abandoned": "SL abandoned",
	"service_level": "Service level", "asa_s": "ASA (s)", "aht_s": "AHT (s)", "wrap_up": "Wrap-up",
	"agents_logged_on": "Agents logged on", "no_answer": "No answer",
}

// heading is a column's heading: its label, else its snake_case name as
// words ("not_ready" is "Not ready", a trailing _s "(s)").
func heading(col string) string {
	if l, ok := columnLabels[col]; ok {
		return l
	}
	words := strings.TrimSuffix(col, "_s")
	h := strings.ReplaceAll(words, "_", " ")
	if h != "" {
		h = strings.ToUpper(h[:1]) + h[1:]
	}
	if words != col {
		h += " (s)"
	}
	return h
}

// overNothing lists the ratio and average columns with the figures whose
// sum they are taken over: when that sum is 0 the column has no value,
// and its cell shows "—" (not the 0.0 % the report's arithmetic gives).
var overNothing = map[string][]string{
	"service_level": {"sl_offered"},
	"asa_s":         {"answered"},
	"aht_s":         {"handled"},
	"abandon_rate":  {"connects", "abandoned"},
}

// undefinedCells replaces the cells of row's ratios over nothing by "—".
func undefinedCells(cols []string, row *IntervalRow) {
	for i, c := range cols {
		over, ok := overNothing[c]
		if !ok {
			continue
		}
		sum, known := 0.0, true
		for _, o := range over {
			v, ok := row.Figures[o]
			known = known && ok
			sum += v
		}
		if known && sum == 0 {
			row.Cells[i] = "—"
		}
	}
}

// intervalTable builds kind's table of today's intervals; ok is false when
// the source keeps none.
func (s *Server) intervalTable(ctx context.Context, kind reporting.Kind) (t IntervalTable, ok bool, err error) {
	src, ok := s.cfg.Source.(IntervalSource)
	if !ok {
		return IntervalTable{}, false, nil
	}
	ctx, cancel := context.WithTimeout(ctx, snapshotWait)
	defer cancel()
	iv, err := src.TodayIntervals(ctx)
	if err != nil {
		return IntervalTable{}, true, fmt.Errorf("intervals: %w", err)
	}
	if iv == nil {
		iv = &reporting.Intervals{}
	}
	tab, err := reporting.BuildTable(kind, iv)
	if err != nil {
		return IntervalTable{}, true, err
	}
	t = IntervalTable{Kind: kind, EntityColumn: tab.Header[1], EntityLabel: heading(tab.Header[1]), Columns: tab.Header[2:],
		Labels: []string{}, Rows: []IntervalRow{}}
	for _, c := range t.Columns {
		t.Labels = append(t.Labels, heading(c))
	}
	for _, r := range tab.Rows {
		row := IntervalRow{Start: r.Span.Start, End: r.Span.End, Interval: reporting.TotalLabel, Total: r.Total, Entity: r.Entity,
			Cells: r.Cells, Figures: map[string]float64{}}
		if !r.Total {
			row.Interval = r.Span.Start.Format("15:04") + "-" + r.Span.End.Format("15:04")
		}
		for i, v := range r.CSV {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return IntervalTable{}, true, fmt.Errorf("intervals: %s %s of %s: %q is not a number", kind, t.Columns[i], r.Entity, v)
			}
			row.Figures[t.Columns[i]] = f
		}
		row.Cells = slices.Clone(row.Cells) // the report's own, not to be changed
		undefinedCells(t.Columns, &row)
		t.Rows = append(t.Rows, row)
	}
	return t, true, nil
}

// intervalsJSON answers GET /api/intervals?kind=calltype|skillgroup|agent|
// campaign (calltype when absent).
func (s *Server) intervalsJSON(w http.ResponseWriter, r *http.Request) {
	kind := reporting.KindCallType
	if q := r.URL.Query(); q.Has("kind") {
		k, err := reporting.ParseKind(q.Get("kind"))
		if err != nil {
			fail(w, http.StatusBadRequest, "kind: "+err.Error())
			return
		}
		kind = k
	}
	t, ok, err := s.intervalTable(r.Context(), kind)
	switch {
	case !ok:
		fail(w, http.StatusNotFound, "no intervals: this centre keeps no half-hour intervals")
		return
	case err != nil:
		fail(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(t)
}
