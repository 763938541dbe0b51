package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
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
	// campaign.
	EntityColumn string `json:"entity_column"`
	// Columns name the figures, in the order of every row's Cells.
	Columns []string      `json:"columns"`
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
	// Cells are the figures as people read them (what the page shows).
	Cells []string `json:"cells"`
	// Figures are the same figures as numbers by column: counts, seconds,
	// ratios (service_level 0.8, not 80 %).
	Figures map[string]float64 `json:"figures"`
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
	t = IntervalTable{Kind: kind, EntityColumn: tab.Header[1], Columns: tab.Header[2:], Rows: []IntervalRow{}}
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
