package campaign

import (
	"bytes"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ipcclab/ipcclab/controller"
)

func TestStoreOutcome(t *testing.T) {
	for o, want := range map[controller.Outcome]Outcome{
		controller.OutcomeConnected: Answered, controller.OutcomeAbandoned: Abandoned, controller.OutcomeBusy: Busy,
		controller.OutcomeNoAnswer: NoAnswer, controller.OutcomeMachine: Machine, controller.OutcomeFailed: Failed,
		controller.OutcomeUnknown: Unknown,
	} {
		if got, err := StoreOutcome(o); err != nil || got != want {
			t.Errorf("%v → %q %v, want %q", o, got, err, want)
		}
	}
	if _, err := StoreOutcome(0); err == nil {
		t.Error("outcome 0 mapped")
	}
}

// The controller's record source is the store's selection and journal:
// the window, the DNC list and the retry rules apply to it.
func TestSourceRunsTheStoreRules(t *testing.T) {
	s, _ := openTest(t, t0)
	c := NewCampaign("src", Predictive)
	c.CallingHours = EveryDay(9*60, 21*60)
	c = mustCampaign(t, s, c)
	if _, err := s.AddDNC(DNCEntry{Digits: "4420794600", Prefix: true}); err != nil {
		t.Fatal(err)
	}
	// t0 is 16:00 in London, 11:00 in New York, 20:30 in Kolkata.
	rep := mustImport(t, s, c.ID, `phone,time_zone,account
442079460001,Europe/London,DNC-1
442079461001,Europe/London,L-1
12125550100,America/New_York,NY-1
919876543210,Asia/Kolkata,IN-1
`)
	if rep.DNC != 1 {
		t.Fatalf("import %+v", rep)
	}
	src := NewSource(s, c.ID)
	var r controller.Records = src
	recs, err := r.Next(t0.Add(45*time.Minute), 10, "") // 21:15 in Kolkata: closed
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, rec := range recs {
		got = append(got, rec.Phone+"/"+rec.Fields["account"])
	}
	slices.Sort(got)
	if strings.Join(got, " ") != "12125550100/NY-1 442079461001/L-1" {
		t.Fatalf("Next gave %v: want London and New York, not the DNC number nor Kolkata after 21:00", got)
	}
	now := t0.Add(45 * time.Minute)
	id, err := r.Begin(recs[0], now)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.End(id, controller.OutcomeBusy, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	after, _ := s.Record(recs[0].ID)
	if after.Status != Pending || !after.NextAt.Equal(now.Add(time.Minute+10*time.Minute)) {
		t.Errorf("after busy: %s at %s, want pending 10 min later", after.Status, after.NextAt)
	}
	if err := r.End(id, controller.OutcomeBusy, now); !errors.Is(err, ErrAttemptEnded) {
		t.Errorf("ending twice: %v", err)
	}
	// A claim the controller gives back.
	if err := r.Release(recs[1]); err != nil {
		t.Fatal(err)
	}
	// Begin refused (the window closed meanwhile) releases the record
	// itself; the controller's Release after it is not an error.
	again, _ := r.Next(now, 1, "")
	night := time.Date(2026, 6, 2, 3, 0, 0, 0, time.UTC)
	if _, err := r.Begin(again[0], night); !errors.Is(err, ErrOutsideWindow) {
		t.Fatalf("Begin at night: %v", err)
	}
	if err := r.Release(again[0]); err != nil {
		t.Errorf("Release after a refused Begin: %v", err)
	}
	if got, _ := s.Record(again[0].ID); got.Status != Pending {
		t.Errorf("record left %s", got.Status)
	}
}

// An abandoned call locks the number out for 72 h by default and in UK
// mode; outside UK mode a campaign may shorten it.
func TestAbandonedLockoutThroughTheSource(t *testing.T) {
	for _, tc := range []struct {
		uk    bool
		delay time.Duration
	}{{true, AbandonLockout}, {false, AbandonLockout}, {false, 30 * time.Minute}} {
		s, _ := openTest(t, t0)
		c := NewCampaign("lock", Predictive)
		c.UKOfcom = tc.uk
		c.CallingHours = EveryDay(0, 24*60)
		c.RetryRules.Abandoned.Delay = tc.delay
		c = mustCampaign(t, s, c)
		mustImport(t, s, c.ID, "phone,time_zone\n442079460001,Europe/London\n")
		r := NewSource(s, c.ID)
		recs, _ := r.Next(t0, 1, "")
		id, _ := r.Begin(recs[0], t0)
		r.End(id, controller.OutcomeAbandoned, t0)
		if got, _ := r.Next(t0.Add(tc.delay-time.Minute), 1, ""); len(got) != 0 {
			t.Errorf("uk=%v: redialed %v after an abandon, before %v", tc.uk, tc.delay-time.Minute, tc.delay)
		}
		if got, _ := r.Next(t0.Add(tc.delay), 1, ""); len(got) != 1 {
			t.Errorf("uk=%v: not redialed after %v", tc.uk, tc.delay)
		}
	}
}

// A rule's own attempt limit stops retries after its outcome.
func TestRetryRuleMaxAttempts(t *testing.T) {
	c := NewCampaign("c", Predictive) // MaxAttempts 3
	c.RetryRules.NoAnswer.MaxAttempts = 1
	for _, tc := range []struct {
		o        Outcome
		attempts int
		want     Status
	}{{NoAnswer, 1, Exhausted}, {Busy, 1, Pending}, {Busy, 3, Exhausted}} {
		if d, _ := Decide(c, tc.attempts, tc.o, t0); d.Status != tc.want {
			t.Errorf("%s after %d: %s, want %s", tc.o, tc.attempts, d.Status, tc.want)
		}
	}
}

// The settings added in schema version 2 round-trip, in both storages.
func TestCampaignSettingsRoundTrip(t *testing.T) {
	s, _ := openTest(t, t0)
	c := NewCampaign("uk", Predictive)
	c.UKOfcom, c.MaxInFlight, c.LinesPerAgent = true, 40, 1.5
	c.RetryRules.Busy.MaxAttempts = 2
	c = mustCampaign(t, s, c)
	got, err := s.Campaign(c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.UKOfcom || got.MaxInFlight != 40 || got.LinesPerAgent != 1.5 || got.RetryRules != c.RetryRules {
		t.Errorf("stored %+v, want %+v", got, c)
	}
	got.LinesPerAgent = 0
	if err := s.UpdateCampaign(got); err != nil {
		t.Fatal(err)
	}
	if again, _ := s.Campaign(c.ID); again.LinesPerAgent != 0 {
		t.Errorf("update lost: %+v", again)
	}
}

// A database of schema version 1 is migrated: its campaigns get the
// defaults of the new settings, its records stay selectable.
func TestMigrationFromVersion1(t *testing.T) {
	if memoryMode() {
		t.Skip("SQLite only")
	}
	path := filepath.Join(t.TempDir(), "v1.db")
	db, err := sql.Open("sqlite", path+"?_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`CREATE TABLE schema_version (version INTEGER NOT NULL)`, `INSERT INTO schema_version VALUES (1)`, migrations[0],
		`INSERT INTO campaigns (name, mode, skill_groups, calling_hours, retry_rules, max_attempts, abandon_target, enabled)
		 VALUES ('old', 'predictive', '[]', '[{"Start":"08:00","End":"21:00"},{"Start":"08:00","End":"21:00"},{"Start":"08:00","End":"21:00"},{"Start":"08:00","End":"21:00"},{"Start":"08:00","End":"21:00"},{"Start":"08:00","End":"21:00"},{"Start":"08:00","End":"21:00"}]',
		 '{"Busy":{"Retry":true,"Delay":600000000000},"NoAnswer":{"Retry":true,"Delay":3600000000000},"Machine":{"Retry":true,"Delay":14400000000000},"Abandoned":{"Retry":true,"Delay":259200000000000},"Failed":{"Retry":true,"Delay":900000000000}}',
		 3, 0.03, 1)`,
		`INSERT INTO records (campaign_id, phone, time_zone, status, next_at) VALUES (1, '442079460001', 'Europe/London', 'pending', 0)`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()
	s, err := Open(path, Config{Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c, err := s.Campaign(1)
	if err != nil {
		t.Fatal(err)
	}
	if c.UKOfcom || c.MaxInFlight != 0 || c.LinesPerAgent != 0 || c.RetryRules != DefaultRetryRules() {
		t.Errorf("migrated campaign %+v", c)
	}
	if recs, err := s.Next(1, t0, 1); err != nil || len(recs) != 1 {
		t.Errorf("Next after migration: %v %v", recs, err)
	}
}

func TestParseHours(t *testing.T) {
	wk := EveryDay(9*60, 17*60)
	wk[time.Saturday] = Window{10 * 60, 14 * 60}
	wk[time.Sunday] = Window{}
	wrap := CallingHours{}
	for _, d := range []time.Weekday{time.Friday, time.Saturday, time.Sunday, time.Monday} {
		wrap[d] = Window{8 * 60, 20 * 60}
	}
	for _, tc := range []struct {
		in   string
		want CallingHours
		err  string
	}{
		{"09:00-21:00", EveryDay(9*60, 21*60), ""},
		{" 08:00 - 20:00 ", EveryDay(8*60, 20*60), ""},
		{"mon-fri 09:00-17:00; sat 10:00-14:00", wk, ""},
		{"fri-mon 08:00-20:00", wrap, ""},
		{"00:00-24:00", EveryDay(0, 24*60), ""},
		{"", CallingHours{}, "want"},
		{"21:00-09:00", CallingHours{}, "after the start"},
		{"09:00", CallingHours{}, "HH:MM-HH:MM"},
		{"25:00-26:00", CallingHours{}, "between 00:00 and 24:00"},
		{"mon-fry 09:00-17:00", CallingHours{}, "unknown day"},
		{"mon 09:00-17:00; mon 10:00-11:00", CallingHours{}, "twice"},
		{"weekdays", CallingHours{}, "HH:MM-HH:MM"},
		{"mon09:00-17:00", CallingHours{}, "want HH:MM"},
	} {
		got, err := ParseHours(tc.in)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%q: %v, want an error with %q", tc.in, err, tc.err)
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("%q: %v %v, want %v", tc.in, got, err, tc.want)
		case tc.err == "":
			if back, err := ParseHours(got.String()); err != nil || back != got {
				t.Errorf("%q: String %q does not read back: %v", tc.in, got.String(), err)
			}
		}
	}
}

func TestGenerateCSV(t *testing.T) {
	g := GenerateConfig{Count: 500, TimeZones: []string{"Europe/London", "America/New_York", "Asia/Kolkata"}, Seed: 7, Prefix: "44"}
	var a, b bytes.Buffer
	if err := GenerateCSV(&a, g); err != nil {
		t.Fatal(err)
	}
	GenerateCSV(&b, g)
	if a.String() != b.String() {
		t.Fatal("the same config gave two lists")
	}
	g.Seed = 8
	var c bytes.Buffer
	GenerateCSV(&c, g)
	if a.String() == c.String() {
		t.Fatal("the seed does not change the list")
	}
	s, _ := openTest(t, t0)
	camp := mustCampaign(t, s, NewCampaign("gen", Predictive))
	rep := mustImport(t, s, camp.ID, a.String())
	if rep.Imported != 500 {
		t.Fatalf("imported %d of 500 (numbers not distinct?)", rep.Imported)
	}
	recs, _ := s.Records(camp.ID)
	zones := map[string]int{}
	for _, r := range recs {
		zones[r.TimeZone]++
		if !strings.HasPrefix(r.Phone, "44") || len(r.Phone) != 9 || r.CustomerFields["account"] == "" {
			t.Fatalf("record %+v", r)
		}
	}
	if len(zones) != 3 {
		t.Errorf("zones %v", zones)
	}
	for _, bad := range []struct {
		g     GenerateConfig
		field string
	}{
		{GenerateConfig{Count: 0, TimeZones: []string{"UTC"}}, "Count"},
		{GenerateConfig{Count: 1}, "TimeZones"},
		{GenerateConfig{Count: 1, TimeZones: []string{"Mars/Base"}}, "TimeZones[0]"},
		{GenerateConfig{Count: 1, TimeZones: []string{"UTC"}, Prefix: "1-800"}, "Prefix"},
	} {
		if err := GenerateCSV(&bytes.Buffer{}, bad.g); err == nil || !strings.Contains(err.Error(), "GenerateConfig."+bad.field) {
			t.Errorf("%+v: %v", bad.g, err)
		}
	}
}

// The list of testdata/zones.csv: customers in several zones, DNC rows and
// bad rows reported with their lines.
func TestImportZonesFile(t *testing.T) {
	f, err := os.Open("testdata/zones.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, _ := openTest(t, t0)
	if _, err := s.AddDNC(DNCEntry{Digits: "12125550199"}); err != nil {
		t.Fatal(err)
	}
	c := mustCampaign(t, s, NewCampaign("zones", Predictive))
	rep, err := s.ImportCSV(c.ID, f)
	if err != nil {
		t.Fatal(err)
	}
	var rejected []string
	for _, r := range rep.Rejected {
		rejected = append(rejected, r.String())
	}
	if rep.Imported != 8 || rep.DNC != 1 || !slices.Equal(rep.DNCLines, []int{6}) || len(rejected) != 2 ||
		!strings.HasPrefix(rejected[0], "line 8: ") || !strings.HasPrefix(rejected[1], "line 10: ") {
		t.Errorf("import %+v, rejected %q", rep, rejected)
	}
}
