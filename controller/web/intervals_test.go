package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ipcclab/ipcclab/controller/reporting"
)

// fakeIntervals is a Source that keeps intervals: the test sets them.
type fakeIntervals struct {
	fake
	iv  *reporting.Intervals
	err error
}

func (f *fakeIntervals) TodayIntervals(ctx context.Context) (*reporting.Intervals, error) {
	return f.iv, f.err
}

// morning is two call types over a completed half-hour and the current
// partial one, a skill group, an agent and a campaign.
func morning() *reporting.Intervals {
	a, b := ivSpan(9, 0, 9, 30), ivSpan(9, 30, 9, 41)
	return &reporting.Intervals{
		CallTypes: []reporting.CallTypeInterval{
			{Span: a, CallType: "Sales", CallTypeID: 5000, ServiceLevelType: 1, Offered: 10, Answered: 8, Abandoned: 2, SLCalls: 6, SLOffered: 10,
				AnswerWait: 40 * time.Second, Handled: 8, HandleTime: 8 * 180 * time.Second},
			{Span: a, CallType: "Service", CallTypeID: 5001, ServiceLevelType: 1, Offered: 4, Answered: 4, SLCalls: 4, SLOffered: 4,
				AnswerWait: 4 * time.Second, Handled: 3, HandleTime: 3 * 200 * time.Second},
			{Span: b, CallType: "Sales", CallTypeID: 5000, ServiceLevelType: 1, Offered: 3, Answered: 2, Abandoned: 1, SLCalls: 2, SLOffered: 3,
				AnswerWait: 6 * time.Second, Handled: 1, HandleTime: 150 * time.Second},
			{Span: b, CallType: "Service", CallTypeID: 5001, ServiceLevelType: 1},
		},
		SkillGroups: []reporting.SkillGroupInterval{{Span: a, SkillGroup: "Sales", Number: 1, Handled: 8, TalkTime: 20 * time.Minute,
			ReadyTime: 5 * time.Minute, LoggedOnTime: 30 * time.Minute, AgentsLoggedOn: 2}},
		Agents:    []reporting.AgentInterval{{Span: a, AgentID: "1201", Group: "Sales", Calls: 4, Talk: 12 * time.Minute, LoggedOnTime: 30 * time.Minute}},
		Campaigns: []reporting.CampaignInterval{{Span: a, Campaign: "spring", Attempts: 20, Connects: 9, Abandoned: 1, NoAnswer: 10}},
	}
}

// ivSpan is 2026-03-02 h1:m1 to h2:m2 UTC.
func ivSpan(h1, m1, h2, m2 int) reporting.Span {
	d := func(h, m int) time.Time { return time.Date(2026, 3, 2, h, m, 0, 0, time.UTC) }
	return reporting.Span{Start: d(h1, m1), End: d(h2, m2)}
}

func TestIntervalsJSONShape(t *testing.T) {
	src := &fakeIntervals{iv: morning()}
	src.set(busyCentre(), nil)
	s := newServer(t, src, Config{})
	rec := get(t, s, "/api/intervals")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	golden(t, "intervals.json", rec.Body.Bytes())
	var tab IntervalTable
	if err := json.Unmarshal(rec.Body.Bytes(), &tab); err != nil {
		t.Fatal(err)
	}
	if tab.Kind != reporting.KindCallType || tab.EntityColumn != "call_type" {
		t.Errorf("default kind %q (%q), want calltype", tab.Kind, tab.EntityColumn)
	}
	// The current interval's rows, then a TOTAL per call type and one over
	// all: Sales today is 13 offered, 10 answered.
	var salesTotal *IntervalRow
	for i, r := range tab.Rows {
		if r.Total && r.Entity == "Sales" {
			salesTotal = &tab.Rows[i]
		}
	}
	if salesTotal == nil {
		t.Fatal("no TOTAL row for Sales")
	}
	if salesTotal.Figures["offered"] != 13 || salesTotal.Figures["answered"] != 10 || salesTotal.Interval != "TOTAL" {
		t.Errorf("Sales total %+v, want 13 offered, 10 answered", salesTotal)
	}
	if r := tab.Rows[2]; r.Interval != "09:30-09:41" || r.Entity != "Sales" || r.Total || r.Cells[0] != "3" {
		t.Errorf("partial interval row %+v", r)
	}
}

func TestIntervalsEveryKind(t *testing.T) {
	src := &fakeIntervals{iv: morning()}
	s := newServer(t, src, Config{})
	for _, tc := range []struct {
		kind, entityCol, entity, figure string
		want                            float64
	}{
		{"calltype", "call_type", "Service", "offered", 4},
		{"skillgroup", "skill_group", "Sales", "talk", 1200},
		{"agent", "agent", "1201", "calls", 4},
		{"campaign", "campaign", "spring", "abandon_rate", 0.1},
	} {
		rec := get(t, s, "/api/intervals?kind="+tc.kind)
		if rec.Code != http.StatusOK {
			t.Errorf("%s: status %d: %s", tc.kind, rec.Code, rec.Body)
			continue
		}
		var tab IntervalTable
		if err := json.Unmarshal(rec.Body.Bytes(), &tab); err != nil {
			t.Fatal(err)
		}
		if string(tab.Kind) != tc.kind || tab.EntityColumn != tc.entityCol {
			t.Errorf("%s: kind %q entity column %q", tc.kind, tab.Kind, tab.EntityColumn)
		}
		found := false
		for _, r := range tab.Rows {
			if !r.Total && r.Entity == tc.entity && r.Interval == "09:00-09:30" {
				found = true
				if r.Figures[tc.figure] != tc.want {
					t.Errorf("%s %s: %s = %v, want %v", tc.kind, tc.entity, tc.figure, r.Figures[tc.figure], tc.want)
				}
				if len(r.Cells) != len(tab.Columns) {
					t.Errorf("%s: %d cells for %d columns", tc.kind, len(r.Cells), len(tab.Columns))
				}
			}
		}
		if !found {
			t.Errorf("%s: no 09:00-09:30 row for %s", tc.kind, tc.entity)
		}
	}
}

func TestIntervalsBadInput(t *testing.T) {
	withIv := &fakeIntervals{iv: morning()}
	failing := &fakeIntervals{err: errors.New("the centre did not answer")}
	for _, tc := range []struct {
		name   string
		src    Source
		method string
		target string
		code   int
		says   string
	}{
		{"unknown kind", withIv, http.MethodGet, "/api/intervals?kind=queue", http.StatusBadRequest, `kind: unknown kind "queue"`},
		{"empty kind", withIv, http.MethodGet, "/api/intervals?kind=", http.StatusBadRequest, "kind:"},
		{"POST", withIv, http.MethodPost, "/api/intervals", http.StatusMethodNotAllowed, "use GET"},
		{"DELETE", withIv, http.MethodDelete, "/api/intervals", http.StatusMethodNotAllowed, "use GET"},
		{"source without intervals", &fake{}, http.MethodGet, "/api/intervals", http.StatusNotFound, "no half-hour intervals"},
		{"source fails", failing, http.MethodGet, "/api/intervals", http.StatusServiceUnavailable, "intervals: the centre did not answer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(t, tc.src, Config{})
			req := httptest.NewRequest(tc.method, tc.target, nil)
			req.RemoteAddr = "127.0.0.1:40000"
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			if rec.Code != tc.code || !strings.Contains(rec.Body.String(), tc.says) {
				t.Errorf("got %d %q, want %d saying %q", rec.Code, rec.Body, tc.code, tc.says)
			}
		})
	}
}

func TestIntervalsNeedTheTokenOffLoopback(t *testing.T) {
	s := newServer(t, &fakeIntervals{iv: morning()}, Config{Token: "s3cret"})
	req := httptest.NewRequest(http.MethodGet, "/api/intervals", nil)
	req.RemoteAddr = "192.0.2.7:40000"
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	if rec.Code != http.StatusUnauthorized {
		t.Errorf("without the token: %d, want 401", rec.Code)
	}
	req.Header.Set("Authorization", "Bearer s3cret")
	rec = httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Errorf("with the token: %d, want 200", rec.Code)
	}
}

func TestPageShowsTodayByHalfHour(t *testing.T) {
	src := &fakeIntervals{iv: morning()}
	src.set(busyCentre(), nil)
	body := get(t, newServer(t, src, Config{}), "/").Body.String()
	for _, want := range []string{`<table id="today">`, "Today by half-hour", "<th>Call type</th><th>Offered</th>",
		"<th>Answered in SL</th>", "<th>ASA (s)</th>", `<option value="calltype" selected>call type</option>`,
		"<td>09:30-09:41</td><td>Sales</td><td>3</td>", `<tr class="total"><td>TOTAL</td><td>all</td><td>17</td>`,
		// Service had no call in the partial interval: no service level,
		// ASA or AHT, as on the live tables, rather than 0.0 %.
		"<td>09:30-09:41</td><td>Service</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td><td>—</td><td>—</td><td>0</td><td>—</td>"} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(body, "answered_in_sl") {
		t.Error("page heads a column by its snake_case name")
	}

	// ?kind= chooses the table, and the selector says which; the token
	// rides along in the selector's form.
	body = get(t, newServer(t, src, Config{}), "/?kind=agent&token=a%26b").Body.String()
	for _, want := range []string{`<option value="agent" selected>agent</option>`, "<th>Interval</th><th>Agent</th><th>Calls</th>",
		"<td>09:00-09:30</td><td>1201</td><td>4</td>", `<input type="hidden" name="token" value="a&amp;b">`} {
		if !strings.Contains(body, want) {
			t.Errorf("agent table page lacks %q", want)
		}
	}
	rec := get(t, newServer(t, src, Config{}), "/?kind=queue")
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), `kind: unknown kind "queue"`) {
		t.Errorf("bad kind: %d %q, want 400 naming kind", rec.Code, rec.Body)
	}

	src.err = errors.New("the centre did not answer")
	body = get(t, newServer(t, src, Config{}), "/").Body.String()
	if !strings.Contains(body, "no data: intervals: the centre did not answer") {
		t.Error("page does not say why today's table is empty")
	}

	plain := &fake{}
	plain.set(busyCentre(), nil)
	if body := get(t, newServer(t, plain, Config{}), "/").Body.String(); strings.Contains(body, `id="today"`) {
		t.Error("a source without intervals got a today table")
	}
}

func TestIntervalHeadings(t *testing.T) {
	for col, want := range map[string]string{
		"answered_in_sl": "Answered in SL",
		"asa_s":          "ASA (s)",
		"not_ready":      "Not ready",
		"call_type":      "Call type",
		"offered":        "Offered",
		"hold_time_s":    "Hold time (s)", // no label: the name in words
		"x":              "X",
		"":               "",
	} {
		if got := heading(col); got != want {
			t.Errorf("heading(%q) = %q, want %q", col, got, want)
		}
	}
	// Every column of every kind is headed in words.
	s := newServer(t, &fakeIntervals{iv: morning()}, Config{})
	for _, k := range reporting.Kinds {
		var tab IntervalTable
		if err := json.Unmarshal(get(t, s, "/api/intervals?kind="+string(k)).Body.Bytes(), &tab); err != nil {
			t.Fatal(err)
		}
		if len(tab.Labels) != len(tab.Columns) || strings.Contains(tab.EntityLabel, "_") {
			t.Errorf("%s: labels %q for columns %q, entity %q", k, tab.Labels, tab.Columns, tab.EntityLabel)
		}
		for _, l := range tab.Labels {
			if strings.Contains(l, "_") {
				t.Errorf("%s: heading %q", k, l)
			}
		}
	}
}

// A ratio over nothing reads "—"; over something, its figure, 0 % included.
func TestIntervalRatiosOverNothing(t *testing.T) {
	iv := &reporting.Intervals{
		CallTypes: []reporting.CallTypeInterval{
			{Span: ivSpan(9, 0, 9, 30), CallType: "Quiet", ServiceLevelType: 2},
			{Span: ivSpan(9, 0, 9, 30), CallType: "Missed", ServiceLevelType: 2, Offered: 2, Abandoned: 2, SLOffered: 2, SLAband: 2},
		},
		Campaigns: []reporting.CampaignInterval{
			{Span: ivSpan(9, 0, 9, 30), Campaign: "idle"},
			{Span: ivSpan(9, 0, 9, 30), Campaign: "clean", Attempts: 3, Connects: 2},
		},
	}
	s := newServer(t, &fakeIntervals{iv: iv}, Config{})
	cell := func(kind reporting.Kind, entity, col string) string {
		t.Helper()
		var tab IntervalTable
		if err := json.Unmarshal(get(t, s, "/api/intervals?kind="+string(kind)).Body.Bytes(), &tab); err != nil {
			t.Fatal(err)
		}
		for _, r := range tab.Rows {
			if r.Entity == entity && !r.Total {
				return r.Cells[slices.Index(tab.Columns, col)]
			}
		}
		t.Fatalf("%s: no row for %s", kind, entity)
		return ""
	}
	for _, tc := range []struct {
		kind              reporting.Kind
		entity, col, want string
	}{
		{reporting.KindCallType, "Quiet", "service_level", "—"},
		{reporting.KindCallType, "Quiet", "asa_s", "—"},
		{reporting.KindCallType, "Quiet", "aht_s", "—"},
		{reporting.KindCallType, "Missed", "service_level", "0.0 %"}, // every call abandoned: a real 0
		{reporting.KindCallType, "Missed", "asa_s", "—"},
		{reporting.KindCampaign, "idle", "abandon_rate", "—"},
		{reporting.KindCampaign, "clean", "abandon_rate", "0.0 %"},
	} {
		if got := cell(tc.kind, tc.entity, tc.col); got != tc.want {
			t.Errorf("%s %s %s = %q, want %q", tc.kind, tc.entity, tc.col, got, tc.want)
		}
	}
}
