package reporting

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ipcclab/ipcclab/controller/campaign"
)

// atS is a clock time on day with seconds: "08:00:05.250".
func atS(s string) time.Time {
	t, err := time.Parse("15:04:05.000", s)
	if err != nil {
		panic(err)
	}
	y, m, d := day.Date()
	return time.Date(y, m, d, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
}

// sampleAttempts are two campaigns' attempts in start order: every
// outcome, a refused dial, two started in the same millisecond, one in
// flight, a call-list record tried twice.
func sampleAttempts() []Attempt {
	return []Attempt{
		{Start: atS("08:00:00.000"), Campaign: "Renewals", Mode: "progressive", DialedNumber: "15550000001", AgentID: "1301", CallID: 11,
			Outcome: campaign.Answered, Alerting: atS("08:00:02.000"), Answered: atS("08:00:09.500"), Connected: atS("08:00:09.500"),
			End: atS("08:02:39.500")},
		{Start: atS("08:00:00.000"), Campaign: "Renewals", Mode: "progressive", DialedNumber: "15550000002", AgentID: "1302", CallID: 12,
			Outcome: campaign.Busy, Cause: "CEC_BUSY", End: atS("08:00:01.800")},
		{Start: atS("08:10:00.000"), Campaign: "Spring", Mode: "pool/predictive", DialedNumber: "442079460001", RecordID: 7, AttemptNumber: 1,
			Port: "5001", CallID: 13, Outcome: campaign.NoAnswer, Cause: "CEC_CALL_NOT_ANSWERED", Alerting: atS("08:10:02.000"),
			End: atS("08:10:26.000")},
		{Start: atS("08:20:00.000"), Campaign: "Renewals", Mode: "progressive", DialedNumber: "15550000003", AgentID: "1301",
			Outcome: campaign.Failed, Cause: "refused: CF_INVALID_CALLING_DEVICE", End: atS("08:20:00.001")},
		{Start: atS("08:30:00.000"), Campaign: "Spring", Mode: "pool/predictive", DialedNumber: "442079460001", RecordID: 7, AttemptNumber: 2,
			Port: "5002", CallID: 14, Outcome: campaign.Abandoned, Alerting: atS("08:30:02.000"), Answered: atS("08:30:07.000"),
			End: atS("08:30:15.000")},
		{Start: atS("08:40:00.000"), Campaign: "Spring", Mode: "pool/predictive", DialedNumber: "442079460002", RecordID: 8, AttemptNumber: 1,
			AgentID: "1305", Port: "5001", CallID: 15, Outcome: campaign.Answered, Alerting: atS("08:40:01.000"), Answered: atS("08:40:05.000"),
			Connected: atS("08:40:06.000"), End: atS("08:41:06.000")},
		{Start: atS("08:44:00.000"), Campaign: "Spring", Mode: "pool/predictive", DialedNumber: "442079460003", RecordID: 9, AttemptNumber: 1,
			Port: "5003", CallID: 16, Outcome: campaign.Failed, Cause: "CEC_DEST_NOT_OBTAINABLE", End: atS("08:44:03.000")},
		{Start: atS("08:44:30.000"), Campaign: "Renewals", Mode: "progressive", DialedNumber: "15550000004", AgentID: "1303", CallID: 17,
			Outcome: campaign.Unknown, End: atS("08:44:40.000")},
		{Start: atS("08:44:59.000"), Campaign: "Renewals", Mode: "progressive", DialedNumber: "15550000005", AgentID: "1302", CallID: 18,
			Alerting: atS("08:45:01.000")},
	}
}

// A run's attempts come back as written, the two of the same millisecond
// in order; writing the run again replaces its rows.
func TestAttemptsRoundTrip(t *testing.T) {
	s, path := newStore(t)
	in := sampleAttempts()
	for range 2 {
		if err := s.WriteAttempts(in); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got, err := r.ReadAttempts(Range{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, in) {
		t.Errorf("read back\n%+v\nwant\n%+v", got, in)
	}
	// The store holds attempts only: its first start is theirs.
	if first, err := r.FirstStart(); err != nil || !first.Equal(atS("08:00:00.000")) {
		t.Errorf("FirstStart %v, %v; want 08:00", first, err)
	}
	if r.IsJournal() {
		t.Error("a reporting store taken for a campaign store")
	}
}

func TestReadAttemptsSelectsByStart(t *testing.T) {
	s, _ := newStore(t)
	if err := s.WriteAttempts(sampleAttempts()); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		from, to string
		want     int
	}{
		{"", "", 9},
		{"08:00", "08:10", 2},
		{"08:10", "08:44", 4},
		{"08:44", "", 3},
		{"", "08:00", 0},
		{"09:00", "", 0},
	} {
		var r Range
		if tc.from != "" {
			r.From = at(tc.from)
		}
		if tc.to != "" {
			r.To = at(tc.to)
		}
		got, err := s.ReadAttempts(r)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != tc.want {
			t.Errorf("[%s, %s): %d attempts, want %d", tc.from, tc.to, len(got), tc.want)
		}
		for _, a := range got {
			if !r.From.IsZero() && a.Start.Before(r.From) || !r.To.IsZero() && !a.Start.Before(r.To) {
				t.Errorf("[%s, %s): attempt at %s", tc.from, tc.to, a.Start.Format("15:04:05"))
			}
		}
	}
}

func TestAttemptDurations(t *testing.T) {
	a := sampleAttempts()
	for _, tc := range []struct {
		i                  int
		ring, answer, talk time.Duration
	}{
		{0, 7500 * time.Millisecond, 9500 * time.Millisecond, 150 * time.Second}, // connected
		{1, 0, 0, 0},                             // busy: never rang
		{2, 24 * time.Second, 0, 0},              // rang out
		{4, 5 * time.Second, 7 * time.Second, 0}, // abandoned
		{8, 0, 0, 0},                             // in flight: no end yet
	} {
		if r, an, tk := a[tc.i].RingTime(), a[tc.i].TimeToAnswer(), a[tc.i].TalkTime(); r != tc.ring || an != tc.answer || tk != tc.talk {
			t.Errorf("attempt %d: ring %v answer %v talk %v, want %v %v %v", tc.i, r, an, tk, tc.ring, tc.answer, tc.talk)
		}
	}
}

func TestAttemptTablesMatchTheGoldenFiles(t *testing.T) {
	tab := BuildAttemptTable(sampleAttempts())
	for _, name := range []string{"attempt.txt", "attempt.csv"} {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			var err error
			if strings.HasSuffix(name, ".csv") {
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
	var b bytes.Buffer
	if err := BuildAttemptTable(nil).WriteText(&b); err != nil || b.String() != "no attempts in the range\n" {
		t.Errorf("empty table: %q, %v", b.String(), err)
	}
}

// In the CSV every count column, summed over a campaign's attempt rows,
// is that campaign's TOTAL row; "all" sums the campaigns.
func TestAttemptCSVCountsAddUpToTheTotals(t *testing.T) {
	var b bytes.Buffer
	if err := BuildAttemptTable(sampleAttempts()).WriteCSV(&b); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	head := recs[0]
	col := map[string]int{}
	for i, h := range head {
		col[h] = i
	}
	sums, totals := map[string]map[string]int64{}, map[string]map[string]int64{}
	for _, r := range recs[1:] {
		add := func(into map[string]map[string]int64, name string) {
			if into[name] == nil {
				into[name] = map[string]int64{}
			}
			for _, h := range summaryHeader {
				n, err := strconv.ParseInt(r[col[h]], 10, 64)
				if err != nil {
					t.Fatalf("%s of %v: %v", h, r, err)
				}
				into[name][h] += n
			}
		}
		if r[col["total"]] == TotalLabel {
			add(totals, r[col["campaign"]])
			continue
		}
		add(sums, r[col["campaign"]])
		add(sums, "all")
	}
	if !reflect.DeepEqual(sums, totals) {
		t.Errorf("attempt rows add up to %v, TOTAL rows say %v", sums, totals)
	}
	want := map[string]int64{"attempts": 9, "answered": 2, "abandoned": 1, "busy": 1, "no_answer": 1, "machine": 0, "failed": 2, "other": 1, InFlight: 1}
	if !reflect.DeepEqual(totals["all"], want) {
		t.Errorf("TOTAL all %v, want %v", totals["all"], want)
	}
}

// A campaign store file, built through the campaign package: its attempt
// journal reads as attempts, numbered per record, and reading changes
// nothing (the attempt in flight is still in flight for the next Open of
// the campaign store to recover).
func TestACampaignStoreReadsAsItsJournal(t *testing.T) {
	now := time.Date(2026, 6, 1, 15, 0, 0, 0, time.UTC) // 16:00 in London
	path := filepath.Join(t.TempDir(), "campaign.db")
	cs, err := campaign.Open(path, campaign.Config{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	c, err := cs.CreateCampaign(campaign.NewCampaign("Spring", campaign.Progressive))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := cs.ImportCSV(c.ID, strings.NewReader("phone,time_zone\n442079460001,Europe/London\n442079460002,Europe/London\n442079460003,Europe/London\n"))
	if err != nil || rep.Imported != 3 {
		t.Fatalf("import %+v, %v", rep, err)
	}
	step := func(d time.Duration) time.Time { now = now.Add(d); return now }
	// Record 1: busy, then (retried after the busy delay) answered;
	// record 2: no answer; record 3: in flight when the store is read.
	begin := func(phone string, at time.Time) campaign.Attempt {
		t.Helper()
		recs, err := cs.Next(c.ID, at, 3)
		if err != nil {
			t.Fatal(err)
		}
		var a campaign.Attempt
		for _, r := range recs {
			if r.Phone != phone {
				if err := cs.Release(r.ID); err != nil {
					t.Fatal(err)
				}
				continue
			}
			if a, err = cs.BeginAttempt(r.ID, at); err != nil {
				t.Fatal(err)
			}
		}
		if a.ID == 0 {
			t.Fatalf("%s not selectable at %s", phone, at)
		}
		return a
	}
	end := func(a campaign.Attempt, o campaign.Outcome, at time.Time) {
		t.Helper()
		if _, err := cs.EndAttempt(a.ID, o, at); err != nil {
			t.Fatal(err)
		}
	}
	a1 := begin("442079460001", step(0))
	end(a1, campaign.Busy, step(3*time.Second))
	a2 := begin("442079460002", step(time.Second))
	end(a2, campaign.NoAnswer, step(25*time.Second))
	a3 := begin("442079460001", step(time.Hour))
	end(a3, campaign.Answered, step(2*time.Minute))
	begin("442079460003", step(time.Second))
	cs.Close()

	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if !s.IsJournal() {
		t.Fatal("a campaign store not recognised")
	}
	got, err := s.ReadAttempts(Range{})
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, a := range got {
		rows = append(rows, strings.Join([]string{a.Start.Format("15:04:05"), a.Campaign, a.Mode, a.DialedNumber,
			strconv.FormatInt(a.RecordID, 10), strconv.Itoa(a.AttemptNumber), string(a.Outcome), a.End.Format("15:04:05")}, " "))
	}
	want := []string{
		"15:00:00 Spring progressive 442079460001 1 1 busy 15:00:03",
		"15:00:04 Spring progressive 442079460002 2 1 no_answer 15:00:29",
		"16:00:29 Spring progressive 442079460001 1 2 answered 16:02:29",
		"16:02:30 Spring progressive 442079460003 3 1  00:00:00",
	}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("journal rows\n%s\nwant\n%s", strings.Join(rows, "\n"), strings.Join(want, "\n"))
	}
	if got[3].End != (time.Time{}) {
		t.Errorf("in-flight attempt has an end: %v", got[3].End)
	}
	if sel, err := s.ReadAttempts(Range{From: now.Add(-time.Hour)}); err != nil || len(sel) != 2 {
		t.Errorf("the last hour: %d attempts, %v; want 2", len(sel), err)
	}
	if first, err := s.FirstStart(); err != nil || !first.Equal(got[0].Start) {
		t.Errorf("FirstStart %v, %v", first, err)
	}
	if _, err := s.Read(KindCampaign, Range{}); err == nil || !strings.Contains(err.Error(), "campaign store") {
		t.Errorf("intervals of a campaign store: %v", err)
	}
	if err := s.WriteAttempts(got); err == nil || !strings.Contains(err.Error(), "campaign store") {
		t.Errorf("writing attempts to a campaign store: %v", err)
	}
	s.Close()
	if w, err := Create(path); err == nil || !strings.Contains(err.Error(), "campaign store") {
		if err == nil {
			w.Close()
		}
		t.Errorf("a run writing into a campaign store: %v", err)
	}

	cs, err = campaign.Open(path, campaign.Config{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	if rec := cs.Recovered(); len(rec.Attempts) != 1 {
		t.Errorf("the campaign store recovered %v after the report read it: want the one attempt left in flight", rec)
	}
}

// A store written before the attempt records still reads its intervals;
// asking it for attempts says why there are none.
func TestAStoreOlderThanAttemptsSaysSo(t *testing.T) {
	s, path := newStore(t)
	if err := s.Write(sample()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.Exec(`DROP TABLE outbound_attempt; UPDATE schema_version SET version = 1`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if iv, err := r.Read(KindCampaign, Range{}); err != nil || len(iv.Campaigns) != 2 {
		t.Errorf("intervals of a version 1 store: %v, %v", iv, err)
	}
	if _, err := r.FirstStart(); err != nil {
		t.Error(err)
	}
	_, err = r.ReadAttempts(Range{})
	if err == nil || !strings.Contains(err.Error(), "schema version 1") || !strings.Contains(err.Error(), path) {
		t.Errorf("attempts of a version 1 store: %v", err)
	}
}

func TestAttemptBadInputIsRefusedNamingIt(t *testing.T) {
	good, path := newStore(t)
	future := filepath.Join(t.TempDir(), "future.db")
	f, err := Create(future)
	if err != nil {
		t.Fatal(err)
	}
	f.db.Exec(`UPDATE schema_version SET version = 99`)
	f.Close()
	// A database of another program that also keeps a schema_version.
	alien := filepath.Join(t.TempDir(), "alien.db")
	a, err := open(alien, writeDSN)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.db.Exec(`CREATE TABLE schema_version (version INTEGER); INSERT INTO schema_version VALUES (1); CREATE TABLE orders (id INTEGER)`); err != nil {
		t.Fatal(err)
	}
	a.Close()
	for _, tc := range []struct {
		name string
		err  func() error
		want []string
	}{
		{"unknown kind", func() error { _, err := ParseReportKind("queue"); return err },
			[]string{`"queue"`, "calltype, skillgroup, agent, campaign, attempt"}},
		{"attempt is no interval kind", func() error { _, err := ParseKind("attempt"); return err }, []string{`"attempt"`}},
		{"from after to", func() error { _, err := good.ReadAttempts(Range{From: at("10:00"), To: at("09:00")}); return err },
			[]string{"not before"}},
		{"no start", func() error { return good.WriteAttempts([]Attempt{{Campaign: "Renewals", DialedNumber: "1555"}}) },
			[]string{path, "attempt 0", `"1555"`, "no start time"}},
		{"no campaign", func() error { return good.WriteAttempts([]Attempt{sampleAttempts()[0], {Start: at("09:00")}}) },
			[]string{"attempt 1", "campaign"}},
		{"newer store", func() error { _, err := Open(future); return err }, []string{"future.db", "schema version 99"}},
		{"another program's versioned database", func() error { _, err := Open(alien); return err }, []string{"alien.db", "no interval tables"}},
		{"writing into it", func() error { _, err := Create(alien); return err }, []string{"alien.db", "another program's database"}},
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
	if k, err := ParseReportKind("attempt"); err != nil || k != KindAttempt {
		t.Errorf("ParseReportKind(attempt) = %v, %v", k, err)
	}
	if k, err := ParseReportKind("agent"); err != nil || k != KindAgent {
		t.Errorf("ParseReportKind(agent) = %v, %v", k, err)
	}
}
