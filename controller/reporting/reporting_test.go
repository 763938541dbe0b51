package reporting

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var day = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)

func at(hhmm string) time.Time {
	t, err := ParseTime(hhmm, day)
	if err != nil {
		panic(err)
	}
	return t
}

func sp(from, to string) Span { return Span{Start: at(from), End: at(to)} }

// sample is two half hours of every kind, two call types of different
// service-level types, a partial last interval.
func sample() *Intervals {
	return &Intervals{
		CallTypes: []CallTypeInterval{
			{Span: sp("08:00", "08:30"), CallType: "Sales", CallTypeID: 1, ServiceLevelType: 2, Offered: 10, Answered: 9, Abandoned: 1,
				SLCalls: 8, SLOffered: 10, SLAband: 1, AnswerWait: 45 * time.Second, Handled: 7, HandleTime: 1400 * time.Second},
			{Span: sp("08:00", "08:30"), CallType: "Service", CallTypeID: 2, ServiceLevelType: 1, Offered: 4, Answered: 4,
				SLCalls: 3, SLOffered: 4, AnswerWait: 20 * time.Second, Handled: 4, HandleTime: 600 * time.Second},
			{Span: sp("08:30", "08:45"), CallType: "Sales", CallTypeID: 1, ServiceLevelType: 2, Offered: 6, Answered: 5, Abandoned: 1,
				SLCalls: 4, SLOffered: 6, SLAband: 1, AnswerWait: 50 * time.Second, Handled: 6, HandleTime: 1200 * time.Second},
			{Span: sp("08:30", "08:45"), CallType: "Service", CallTypeID: 2, ServiceLevelType: 1, Offered: 2, Answered: 1, Abandoned: 1,
				SLCalls: 1, SLOffered: 2, SLAband: 1, AnswerWait: 5 * time.Second, Handled: 2, HandleTime: 300 * time.Second},
		},
		SkillGroups: []SkillGroupInterval{
			{Span: sp("08:00", "08:30"), SkillGroup: "Sales", Number: 1, Handled: 7, TalkTime: 1200 * time.Second, ReadyTime: 3000 * time.Second,
				NotReadyTime: 600 * time.Second, LoggedOnTime: 5400 * time.Second, AgentsLoggedOn: 3},
			{Span: sp("08:30", "08:45"), SkillGroup: "Sales", Number: 1, Handled: 6, TalkTime: 1100 * time.Second, ReadyTime: 1000 * time.Second,
				NotReadyTime: 0, LoggedOnTime: 2700 * time.Second, AgentsLoggedOn: 2},
		},
		Agents: []AgentInterval{
			{Span: sp("08:00", "08:30"), AgentID: "1001", Group: "sales", Calls: 3, Talk: 900 * time.Second, Hold: 30 * time.Second,
				WrapUp: 120 * time.Second, Ready: 650 * time.Second, NotReady: 100 * time.Second, LoggedOnTime: 1800 * time.Second},
			{Span: sp("08:30", "08:45"), AgentID: "1001", Group: "sales", Calls: 1, Talk: 500 * time.Second, Ready: 400 * time.Second,
				LoggedOnTime: 900 * time.Second},
			{Span: sp("08:30", "08:45"), AgentID: "2001", Group: "outbound", Calls: 2, Talk: 700 * time.Second},
		},
		Campaigns: []CampaignInterval{
			{Span: sp("08:00", "08:30"), Campaign: "Renewals", Attempts: 100, Connects: 30, Abandoned: 1, Busy: 10, NoAnswer: 50, Machines: 9},
			{Span: sp("08:30", "08:45"), Campaign: "Renewals", Attempts: 40, Connects: 12, Busy: 4, NoAnswer: 20, Machines: 4},
		},
	}
}

func newStore(t *testing.T) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "r.db")
	s, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

func TestStoreRoundTripsEveryKind(t *testing.T) {
	s, path := newStore(t)
	in := sample()
	if err := s.Write(in); err != nil {
		t.Fatal(err)
	}
	// Writing the same run again replaces its rows.
	if err := s.Write(in); err != nil {
		t.Fatal(err)
	}
	s.Close()
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got := &Intervals{}
	for _, k := range Kinds {
		iv, err := r.Read(k, Range{})
		if err != nil {
			t.Fatal(err)
		}
		got.CallTypes = append(got.CallTypes, iv.CallTypes...)
		got.SkillGroups = append(got.SkillGroups, iv.SkillGroups...)
		got.Agents = append(got.Agents, iv.Agents...)
		got.Campaigns = append(got.Campaigns, iv.Campaigns...)
	}
	if !reflect.DeepEqual(got, in) {
		t.Errorf("read back\n%+v\nwant\n%+v", got, in)
	}
	first, err := r.FirstStart()
	if err != nil || !first.Equal(at("08:00")) {
		t.Errorf("FirstStart %v, %v; want 08:00", first, err)
	}
}

func TestReadSelectsIntervalsStartingInTheRange(t *testing.T) {
	s, _ := newStore(t)
	if err := s.Write(sample()); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		from, to string
		want     int // campaign rows
	}{
		{"", "", 2},
		{"08:00", "08:30", 1},
		{"08:15", "09:00", 1}, // the 08:00 interval starts before the range
		{"08:30", "", 1},
		{"", "08:30", 1},
		{"09:00", "10:00", 0},
	} {
		var r Range
		if tc.from != "" {
			r.From = at(tc.from)
		}
		if tc.to != "" {
			r.To = at(tc.to)
		}
		iv, err := s.Read(KindCampaign, r)
		if err != nil {
			t.Fatal(err)
		}
		if len(iv.Campaigns) != tc.want {
			t.Errorf("[%s, %s): %d rows, want %d", tc.from, tc.to, len(iv.Campaigns), tc.want)
		}
	}
}

// The tables' TOTAL rows add the intervals up; the call types' "all" row
// combines service levels of different types through their parts.
func TestTotalsAddUpTheIntervals(t *testing.T) {
	tab, err := BuildTable(KindCallType, sample())
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string][]string{}
	for _, r := range tab.Rows {
		if r.Total {
			rows[r.Entity] = r.CSV
		}
	}
	// CSV columns: offered answered abandoned answered_in_sl sl_offered
	// sl_abandoned service_level asa_s handled aht_s.
	for entity, want := range map[string][]string{
		"Sales":   {"16", "14", "2", "12", "16", "2", "0.7500", "6.785714285", "13", "200"},
		"Service": {"6", "5", "1", "4", "6", "1", "0.8000", "5", "6", "150"},
		// (12 + 4) / (16 + 5): type 2 over type 1 parts.
		"all": {"22", "19", "3", "16", "21", "0", "0.7619", "6.315789473", "19", "184.210526315"},
	} {
		if got := rows[entity]; !reflect.DeepEqual(got, want) {
			t.Errorf("TOTAL %s: %v, want %v", entity, got, want)
		}
	}
	sg, _ := BuildTable(KindSkillGroup, sample())
	last := sg.Rows[len(sg.Rows)-1]
	if last.Entity != "all" || last.CSV[0] != "13" || last.CSV[5] != "3" {
		t.Errorf("skill group TOTAL all %v: want 13 handled, a peak of 3 agents logged on", last.CSV)
	}
}

func TestTablesMatchTheGoldenFiles(t *testing.T) {
	for _, k := range Kinds {
		for _, csv := range []bool{false, true} {
			name := string(k) + ".txt"
			if csv {
				name = string(k) + ".csv"
			}
			t.Run(name, func(t *testing.T) {
				tab, err := BuildTable(k, sample())
				if err != nil {
					t.Fatal(err)
				}
				var b bytes.Buffer
				if csv {
					err = tab.WriteCSV(&b)
				} else {
					err = tab.WriteText(&b)
				}
				if err != nil {
					t.Fatal(err)
				}
				golden := filepath.Join("testdata", name)
				if *update {
					if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run go test -update)", err)
				}
				if b.String() != string(want) {
					t.Errorf("differs from %s (go test -update rewrites it):\n%s", golden, b.String())
				}
			})
		}
	}
}

func TestAnEmptyRangeSaysSo(t *testing.T) {
	tab, _ := BuildTable(KindAgent, &Intervals{})
	var b bytes.Buffer
	if err := tab.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	if got := b.String(); got != "no agent intervals in the range\n" {
		t.Errorf("got %q", got)
	}
}

func TestBadInputIsRefusedNamingIt(t *testing.T) {
	dir := t.TempDir()
	notDB := filepath.Join(dir, "notes.db")
	os.WriteFile(notDB, []byte("this is not a database, it is a text file that is long enough to have a header\n"), 0o644)
	other := filepath.Join(dir, "other.db")
	o, err := Create(other)
	if err != nil {
		t.Fatal(err)
	}
	o.db.Exec(`DROP TABLE schema_version`)
	o.Close()
	good, _ := newStore(t)
	for _, tc := range []struct {
		name string
		err  func() error
		want []string
	}{
		{"unknown kind", func() error { _, err := ParseKind("queue"); return err }, []string{`"queue"`, "calltype, skillgroup, agent, campaign"}},
		{"unknown kind read", func() error { _, err := good.Read("queue", Range{}); return err }, []string{`"queue"`}},
		{"bad time", func() error { _, err := ParseTime("9 am", day); return err }, []string{`"9 am"`, "HH:MM or RFC 3339"}},
		{"bad clock", func() error { _, err := ParseTime("25:00", day); return err }, []string{`"25:00"`}},
		{"from after to", func() error { _, err := good.Read(KindAgent, Range{From: at("10:00"), To: at("09:00")}); return err },
			[]string{"not before"}},
		{"missing store", func() error { _, err := Open(filepath.Join(dir, "nope.db")); return err }, []string{"nope.db", "no such file"}},
		{"directory", func() error { _, err := Open(dir); return err }, []string{dir, "directory"}},
		{"not SQLite", func() error { _, err := Open(notDB); return err }, []string{"notes.db", "not a SQLite database"}},
		{"not SQLite create", func() error { _, err := Create(notDB); return err }, []string{"notes.db", "not a SQLite database"}},
		{"another database", func() error { _, err := Open(other); return err }, []string{"other.db", "no interval tables"}},
		{"bad path", func() error { _, err := Create("x.db?mode=ro"); return err }, []string{"x.db?mode=ro"}},
	} {
		err := tc.err()
		if err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not mention %q", tc.name, err, w)
			}
		}
	}
}

// The skill groups' TOTAL all counts the centre's agents once each: four
// agents in two groups of three (two in both) are four, not three (the
// largest group) nor six (the sum). A store written before the distinct
// count was kept reads 0 for it, and the row falls back to the largest
// group's peak.
func TestSkillGroupAllRowCountsDistinctAgents(t *testing.T) {
	iv := &Intervals{SkillGroups: []SkillGroupInterval{
		{Span: sp("08:00", "08:30"), SkillGroup: "Sales", Number: 1, AgentsLoggedOn: 3, AgentsAnyGroup: 4},
		{Span: sp("08:00", "08:30"), SkillGroup: "Service", Number: 2, AgentsLoggedOn: 3, AgentsAnyGroup: 4},
		{Span: sp("08:30", "09:00"), SkillGroup: "Sales", Number: 1, AgentsLoggedOn: 2, AgentsAnyGroup: 3},
		{Span: sp("08:30", "09:00"), SkillGroup: "Service", Number: 2, AgentsLoggedOn: 3, AgentsAnyGroup: 3},
	}}
	allAgents := func(iv *Intervals) string {
		t.Helper()
		tab, err := BuildTable(KindSkillGroup, iv)
		if err != nil {
			t.Fatal(err)
		}
		last := tab.Rows[len(tab.Rows)-1]
		if last.Entity != "all" {
			t.Fatalf("last row %+v", last)
		}
		return last.CSV[len(last.CSV)-1]
	}
	if got := allAgents(iv); got != "4" {
		t.Errorf("TOTAL all agents_logged_on %s, want the 4 distinct agents", got)
	}

	s, path := newStore(t)
	if err := s.Write(iv); err != nil {
		t.Fatal(err)
	}
	back, err := s.Read(KindSkillGroup, Range{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.SkillGroups, iv.SkillGroups) {
		t.Errorf("read back %+v", back.SkillGroups)
	}
	// The store as schema version 2 wrote it: no agents_any_group.
	if _, err := s.db.Exec(`ALTER TABLE skill_group_interval DROP COLUMN agents_any_group; UPDATE schema_version SET version = 2`); err != nil {
		t.Fatal(err)
	}
	old, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	back, err = old.Read(KindSkillGroup, Range{})
	if err != nil {
		t.Fatal(err)
	}
	if got := allAgents(back); got != "3" {
		t.Errorf("version 2 store: TOTAL all agents_logged_on %s, want the largest group's peak, 3", got)
	}
	// Create migrates it again.
	s.Close()
	again, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if again.version != len(migrations) {
		t.Errorf("migrated to version %d, want %d", again.version, len(migrations))
	}
}
