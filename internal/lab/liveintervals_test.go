package lab

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ipcclab/ipcclab/controller/reporting"
	"github.com/ipcclab/ipcclab/controller/web"
	"github.com/ipcclab/ipcclab/emulator/centre"
	"github.com/ipcclab/ipcclab/internal/sim"
	"github.com/ipcclab/ipcclab/scenarios"
)

// A centre up in real time keeps today's half-hour intervals as a
// simulated day does: /api/intervals has the current, partial interval,
// and today's call type figures add up to the snapshot's whole-run totals
// (the run began today, so today is the whole run).
func TestDashboardServesTodaysIntervals(t *testing.T) {
	sc := defaultScenario(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	r, err := Start(ctx, UpOptions{Scenario: sc, Seed: 1, CTIAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", HoldTraffic: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Stop()
	base := "http://" + r.HTTPAddr()
	r.Begin()
	r.Arrive(3)

	snapshot := func() web.Centre {
		code, body := httpGet(t, base+"/api/snapshot")
		var s web.Snapshot
		if code != 200 || json.Unmarshal([]byte(body), &s) != nil {
			t.Fatalf("GET /api/snapshot: %d %s", code, body)
		}
		return s.Centre
	}
	// Traffic runs until calls are answered; the intervals are then read
	// between two equal snapshots, so that no call moved the counters in
	// between.
	var tab web.IntervalTable
	var before web.Centre
	deadline := time.Now().Add(30 * time.Second)
	for {
		if time.Now().After(deadline) {
			t.Fatalf("no stable snapshot with answered calls: last %+v", before)
		}
		before = snapshot()
		code, body := httpGet(t, base+"/api/intervals?kind=calltype")
		if code != 200 {
			t.Fatalf("GET /api/intervals: %d %s", code, body)
		}
		tab = web.IntervalTable{}
		if err := json.Unmarshal([]byte(body), &tab); err != nil {
			t.Fatal(err)
		}
		if after := snapshot(); before.Answered >= 1 && after.Offered == before.Offered && after.Answered == before.Answered {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}

	if tab.Kind != reporting.KindCallType || tab.EntityColumn != "call_type" {
		t.Fatalf("kind %q entity column %q", tab.Kind, tab.EntityColumn)
	}
	var intervals []string
	var all *web.IntervalRow
	var offered, answered float64
	last := map[string]web.IntervalRow{}
	for i, row := range tab.Rows {
		switch {
		case row.Total && row.Entity == "all":
			all = &tab.Rows[i]
		case !row.Total:
			if len(intervals) == 0 || intervals[len(intervals)-1] != row.Interval {
				intervals = append(intervals, row.Interval)
			}
			last[row.Entity] = row
		}
	}
	if all == nil || len(intervals) == 0 {
		t.Fatalf("no interval rows or no TOTAL all row: %+v", tab.Rows)
	}
	if len(last) != len(sc.ICM.CallTypes) {
		t.Errorf("%d call types in the current interval, want %d", len(last), len(sc.ICM.CallTypes))
	}
	if all.Figures["offered"] != float64(before.Offered) || all.Figures["answered"] != float64(before.Answered) {
		t.Errorf("today's totals: %v offered, %v answered; snapshot %d, %d",
			all.Figures["offered"], all.Figures["answered"], before.Offered, before.Answered)
	}
	// The current interval is partial: it ends now, before the next
	// half-hour boundary, and started at most half an hour earlier.
	cur := last[sc.ICM.CallTypes[0].Name]
	if d := cur.End.Sub(cur.Start); d <= 0 || d > reporting.IntervalLength {
		t.Errorf("current interval %s lasts %v", cur.Interval, d)
	}
	if len(intervals) == 1 {
		// The run began within this interval: it holds every call.
		for _, row := range last {
			offered += row.Figures["offered"]
			answered += row.Figures["answered"]
		}
		if offered != float64(before.Offered) || answered != float64(before.Answered) {
			t.Errorf("current interval %s: %v offered, %v answered; snapshot %d, %d",
				intervals[0], offered, answered, before.Offered, before.Answered)
		}
	}

	code, body := httpGet(t, base+"/api/intervals?kind=minute")
	if code != 400 {
		t.Errorf("bad kind: %d %s", code, body)
	}
	code, body = httpGet(t, base+"/")
	if code != 200 || !strings.Contains(body, `<table id="today">`) {
		t.Errorf("dashboard page: %d, today table missing", code)
	}
}

// Reading today's intervals mid-interval neither changes what the next
// boundary records nor keeps yesterday: a centre up across midnight,
// read every 25 minutes, records what an unread one records from midnight
// on, and each read ends with the partial interval up to the read.
func TestTodaysIntervalsAcrossMidnight(t *testing.T) {
	sc := defaultScenario(t)
	sc.Start = scenarios.ClockTime(23*time.Hour + 10*time.Minute)
	run := func(read func(now time.Time, iv *reporting.Intervals)) *reporting.Intervals {
		loop := sim.NewLoop(sc.StartTime())
		cen, err := centre.New(CentreConfig(sc), loop, 5)
		if err != nil {
			t.Fatal(err)
		}
		c := newLiveIntervals(sc, loop, cen)
		cen.Start()
		end := loop.Now().Add(90 * time.Minute)
		for t := loop.Now().Add(25 * time.Minute); t.Before(end); t = t.Add(25 * time.Minute) {
			loop.RunVirtual(t)
			if read != nil {
				read(t, c.today(t))
			}
		}
		loop.RunVirtual(end)
		c.cut(end)
		return c.out
	}
	clock := func(sp reporting.Span) string { return sp.Start.Format("15:04") + "-" + sp.End.Format("15:04") }
	var reads [][]string
	read := run(func(now time.Time, iv *reporting.Intervals) {
		var spans []string
		for _, r := range iv.CallTypes {
			if r.CallTypeID == iv.CallTypes[0].CallTypeID {
				spans = append(spans, clock(r.Span))
			}
		}
		reads = append(reads, spans)
	})
	unread := run(nil)

	want := [][]string{
		{"23:00-23:30", "23:30-23:35"}, // the run began at 23:10: its first row is the 23:00 half-hour's
		{},                             // at midnight: yesterday is dropped, and today has no time yet
		{"00:00-00:25"},
	}
	if fmt.Sprint(reads) != fmt.Sprint(want) {
		t.Errorf("reads gave %v, want %v", reads, want)
	}
	midnight := read.CallTypes[0].Start
	var fromMidnight []reporting.CallTypeInterval
	for _, r := range unread.CallTypes {
		if !r.Start.Before(midnight) {
			fromMidnight = append(fromMidnight, r)
		}
	}
	if !reflect.DeepEqual(read.CallTypes, fromMidnight) {
		t.Errorf("reading changed the records:\nread   %+v\nunread %+v", read.CallTypes, fromMidnight)
	}
	var offered int64
	for _, r := range read.CallTypes {
		offered += r.Offered
	}
	if offered == 0 {
		t.Error("no calls offered after midnight: the comparison proves nothing")
	}
}
