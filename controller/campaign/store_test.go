package campaign

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// t0 is a Monday, 15:00 UTC: 11:00 in New York (EDT), 16:00 in London (BST),
// 20:30 in Kolkata.
var t0 = time.Date(2026, 6, 1, 15, 0, 0, 0, time.UTC)

func openTest(t *testing.T, now time.Time) (*Store, string) {
	t.Helper()
	if memoryMode() {
		s, err := OpenMemory(Config{Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s, ""
	}
	path := filepath.Join(t.TempDir(), "campaign.db")
	s, err := Open(path, Config{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

func mustCampaign(t *testing.T, s *Store, c Campaign) Campaign {
	t.Helper()
	c, err := s.CreateCampaign(c)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func mustImport(t *testing.T, s *Store, id int64, csv string) Report {
	t.Helper()
	rep, err := s.ImportCSV(id, strings.NewReader(csv))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Rejected) > 0 {
		t.Fatalf("rejected: %v", rep.Rejected)
	}
	return rep
}

func phones(rs []Record) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Phone)
	}
	return out
}

func TestOpenSetsWALAndVersion(t *testing.T) {
	if memoryMode() {
		t.Skip("SQLite only")
	}
	s, path := openTest(t, t0)
	var mode string
	var sync, fk int
	s.db.QueryRow(`PRAGMA journal_mode`).Scan(&mode)
	s.db.QueryRow(`PRAGMA synchronous`).Scan(&sync)
	s.db.QueryRow(`PRAGMA foreign_keys`).Scan(&fk)
	if mode != "wal" || sync != 2 || fk != 1 {
		t.Errorf("journal_mode=%s synchronous=%d foreign_keys=%d, want wal 2 (FULL) 1", mode, sync, fk)
	}
	s.Close()

	s, err := Open(path, Config{})
	if err != nil {
		t.Fatal(err)
	}
	var v, rows int
	s.db.QueryRow(`SELECT version, (SELECT count(*) FROM schema_version) FROM schema_version`).Scan(&v, &rows)
	if v != len(migrations) || rows != 1 {
		t.Errorf("schema_version %d (%d rows), want %d (1 row)", v, rows, len(migrations))
	}
	s.db.Exec(`UPDATE schema_version SET version = 99`)
	s.Close()
	if _, err := Open(path, Config{}); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Errorf("opening a newer schema: %v", err)
	}
	if _, err := Open("x.db?mode=ro", Config{}); err == nil {
		t.Error("a path with a query was accepted")
	}
}

func TestCampaignValidateNamesFields(t *testing.T) {
	good := NewCampaign("c", Predictive)
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		mut   func(*Campaign)
		field string
	}{
		{func(c *Campaign) { c.Name = "" }, "Name"},
		{func(c *Campaign) { c.Mode = "blast" }, "Mode"},
		{func(c *Campaign) { c.MaxAttempts = 0 }, "MaxAttempts"},
		{func(c *Campaign) { c.AbandonTarget = 0.05 }, "AbandonTarget"},
		{func(c *Campaign) { c.CallingHours[time.Monday] = Window{21 * 60, 8 * 60} }, "CallingHours[Monday]"},
		{func(c *Campaign) { c.RetryRules.Busy.Delay = time.Second }, "RetryRules.Busy.Delay"},
		{func(c *Campaign) { c.RetryRules.Abandoned.Delay = 24 * time.Hour; c.UKOfcom = true }, "RetryRules.Abandoned.Delay"},
		{func(c *Campaign) { c.RetryRules.Abandoned.Delay = time.Minute }, "RetryRules.Abandoned.Delay"},
		{func(c *Campaign) { c.RetryRules.NoAnswer.MaxAttempts = -1 }, "RetryRules.NoAnswer.MaxAttempts"},
		{func(c *Campaign) { c.MaxInFlight = -1 }, "MaxInFlight"},
		{func(c *Campaign) { c.LinesPerAgent = 0.5 }, "LinesPerAgent"},
		{func(c *Campaign) { c.AbandonWindow = 59 * time.Minute }, "AbandonWindow"},
		{func(c *Campaign) { c.AbandonWindow = 367 * 24 * time.Hour }, "AbandonWindow"},
		{func(c *Campaign) { c.AbandonWindow = time.Hour + time.Millisecond }, "AbandonWindow"},
	} {
		cc := good
		c.mut(&cc)
		if err := cc.Validate(); err == nil || !strings.Contains(err.Error(), "Campaign."+c.field+" ") {
			t.Errorf("%s: %v", c.field, err)
		}
	}
}

// The 72 h lockout after an abandoned call is Ofcom's (§3): required of a
// UK campaign, the default of every campaign, and shorter delays are
// allowed outside the UK.
func TestAbandonLockoutIsConditionalOnUKMode(t *testing.T) {
	for _, tc := range []struct {
		uk    bool
		delay time.Duration
		ok    bool
	}{
		{false, AbandonLockout, true},
		{false, 24 * time.Hour, true},
		{false, MinRetryDelay, true},
		{true, AbandonLockout, true},
		{true, AbandonLockout - time.Minute, false},
		{true, 24 * time.Hour, false},
	} {
		c := NewCampaign("c", Predictive)
		c.UKOfcom = tc.uk
		c.RetryRules.Abandoned.Delay = tc.delay
		if err := c.Validate(); (err == nil) != tc.ok {
			t.Errorf("uk=%v abandoned delay %v: %v, want ok=%v", tc.uk, tc.delay, err, tc.ok)
		}
	}
	if NewCampaign("c", Predictive).RetryRules.Abandoned.Delay != AbandonLockout {
		t.Error("the default abandoned-call delay is not the 72 h lockout")
	}
}

func TestCampaignCRUD(t *testing.T) {
	s, _ := openTest(t, t0)
	c := NewCampaign("renewals", Progressive)
	c.SkillGroups = []uint32{5001, 5002}
	c.AbandonTarget = 0 // the default
	c = mustCampaign(t, s, c)
	got, err := s.Campaign(c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.AbandonTarget != DefaultAbandonTarget || !slices.Equal(got.SkillGroups, c.SkillGroups) || got.CallingHours != c.CallingHours || got.RetryRules != c.RetryRules {
		t.Errorf("round trip: %+v, want %+v", got, c)
	}
	if _, err := s.CreateCampaign(NewCampaign("renewals", Preview)); err == nil {
		t.Error("duplicate name accepted")
	}
	if got.AbandonWindow != 0 {
		t.Errorf("abandon window %v, want 0 (the controller's)", got.AbandonWindow)
	}
	got.Mode, got.AbandonWindow = Preview, 36*time.Hour
	if err := s.UpdateCampaign(got); err != nil {
		t.Fatal(err)
	}
	if all, _ := s.Campaigns(); len(all) != 1 || all[0].Mode != Preview || all[0].AbandonWindow != 36*time.Hour {
		t.Errorf("campaigns %+v", all)
	}
	mustImport(t, s, c.ID, "phone,time_zone\n14155550100,America/Los_Angeles\n")
	recs, _ := s.Next(c.ID, t0, 1)
	if err := s.DeleteCampaign(c.ID); !errors.Is(err, ErrCampaignRunning) {
		t.Errorf("delete while dialing: %v", err)
	}
	s.Release(recs[0].ID)
	if err := s.DeleteCampaign(c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Record(recs[0].ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("record outlived its campaign: %v", err)
	}
	if err := s.UpdateCampaign(got); !errors.Is(err, ErrNotFound) {
		t.Errorf("update of a deleted campaign: %v", err)
	}
}

func TestNextOrderRecallsCallbacksPriority(t *testing.T) {
	s, _ := openTest(t, t0)
	c := mustCampaign(t, s, NewCampaign("c", Preview))
	mustImport(t, s, c.ID, "phone,time_zone,priority\n"+
		"10000000001,Europe/London,1\n"+ // low priority
		"10000000002,Europe/London,9\n"+ // high priority
		"10000000003,Europe/London,1\n"+ // low, ID later
		"10000000004,Europe/London,1\n"+ // recall for agent 7
		"10000000005,Europe/London,1\n"+ // recall for any agent
		"10000000006,Europe/London,1\n") // recall in the future
	recs, _ := s.Records(c.ID)
	id := map[string]int64{}
	for _, r := range recs {
		id[r.Phone] = r.ID
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.ScheduleRecall(id["10000000004"], t0.Add(-time.Minute), "7"))
	must(s.ScheduleRecall(id["10000000005"], t0.Add(-time.Minute), ""))
	must(s.ScheduleRecall(id["10000000006"], t0.Add(time.Hour), ""))
	cb, err := s.AddCallback(c.ID, "+44 20 7946 0000", "Europe/London", map[string]string{"name": "Web"}, t0.Add(-time.Second))
	must(err)
	if !cb.Callback || cb.Status != Pending {
		t.Fatalf("callback %+v", cb)
	}

	// Next (any agent): the any-agent recall, the web callback, then priority
	// and age; never agent 7's recall or the future one.
	got, err := s.Next(c.ID, t0, 10)
	must(err)
	want := []string{"10000000005", "442079460000", "10000000002", "10000000001", "10000000003"}
	if !slices.Equal(phones(got), want) {
		t.Errorf("Next = %v, want %v", phones(got), want)
	}
	for _, r := range got {
		if r.Status != Dialing {
			t.Errorf("%s handed out as %s", r.Phone, r.Status)
		}
		must(s.Release(r.ID))
	}
	// Agent 7 gets its own recall first; agent 8 never sees it.
	got, _ = s.NextForAgent(c.ID, "8", t0, 10)
	if slices.Contains(phones(got), "10000000004") {
		t.Error("agent 8 got agent 7's recall")
	}
	for _, r := range got {
		s.Release(r.ID)
	}
	got, _ = s.NextForAgent(c.ID, "7", t0, 2)
	if want := []string{"10000000004", "10000000005"}; !slices.Equal(phones(got), want) {
		t.Errorf("NextForAgent(7) = %v, want %v", phones(got), want)
	}
	// The future recall comes due at its time.
	got, _ = s.Next(c.ID, t0.Add(time.Hour), 1)
	if !slices.Equal(phones(got), []string{"10000000006"}) {
		t.Errorf("at the recall time: %v", phones(got))
	}
	// A handed-out record is not handed out again.
	if again, _ := s.Next(c.ID, t0.Add(time.Hour), 10); slices.Contains(phones(again), "10000000006") {
		t.Error("a claimed record was handed out twice")
	}
}

func TestRecallDuringCallOverridesRetryRule(t *testing.T) {
	s, _ := openTest(t, t0)
	c := mustCampaign(t, s, NewCampaign("c", Preview))
	mustImport(t, s, c.ID, "phone,time_zone\n14155550100,America/New_York\n")
	recs, _ := s.Next(c.ID, t0, 1)
	a, err := s.BeginAttempt(recs[0].ID, t0)
	if err != nil {
		t.Fatal(err)
	}
	at := t0.Add(26 * time.Hour)
	if err := s.ScheduleRecall(recs[0].ID, at, "42"); err != nil {
		t.Fatal(err)
	}
	r, err := s.EndAttempt(a.ID, Answered, t0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != Pending || !r.NextAt.Equal(at) {
		t.Errorf("after answered call with a recall: %s %s, want pending at %s", r.Status, r.NextAt, at)
	}
	if rc, ok, _ := s.Recall(r.ID); !ok || rc.AgentID != "42" {
		t.Errorf("recall %+v %v", rc, ok)
	}
	if got, _ := s.Next(c.ID, at, 1); len(got) != 0 {
		t.Error("agent 42's recall went to Next")
	}
	if got, _ := s.NextForAgent(c.ID, "42", at, 1); len(got) != 1 {
		t.Error("agent 42 did not get its recall")
	}
}

func TestBeginAttemptChecks(t *testing.T) {
	s, _ := openTest(t, t0)
	c := mustCampaign(t, s, NewCampaign("c", Preview))
	mustImport(t, s, c.ID, "phone,time_zone\n14155550100,America/New_York\n14155550101,America/New_York\n")
	recs, _ := s.Records(c.ID)
	r := recs[0]
	if _, err := s.BeginAttempt(r.ID, t0.Add(-time.Hour)); !errors.Is(err, ErrNotDue) {
		t.Errorf("before NextAt (the import time): %v", err)
	}
	night := time.Date(2026, 6, 2, 3, 0, 0, 0, time.UTC) // 23:00 in New York
	if _, err := s.BeginAttempt(r.ID, night); !errors.Is(err, ErrOutsideWindow) {
		t.Errorf("at night: %v", err)
	}
	a, err := s.BeginAttempt(r.ID, t0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.BeginAttempt(r.ID, t0); !errors.Is(err, ErrInFlight) {
		t.Errorf("second attempt while in flight: %v", err)
	}
	if got, _ := s.Record(r.ID); got.Status != Dialing || got.Attempts != 1 {
		t.Errorf("record after BeginAttempt: %+v", got)
	}
	if list, _ := s.Attempts(r.ID); len(list) != 1 || list[0].ID != a.ID || !list[0].EndedAt.IsZero() || !list[0].StartedAt.Equal(t0) {
		t.Errorf("journal %+v", list)
	}
	if _, err := s.EndAttempt(a.ID, Busy, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.EndAttempt(a.ID, Busy, t0.Add(time.Minute)); !errors.Is(err, ErrAttemptEnded) {
		t.Errorf("ending twice: %v", err)
	}
	if _, err := s.EndAttempt(a.ID+100, Busy, t0); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown attempt: %v", err)
	}
	// Claimed, then the campaign is disabled before the dial: released.
	claimed, _ := s.Next(c.ID, t0, 1)
	c.Enabled = false
	s.UpdateCampaign(c)
	if _, err := s.BeginAttempt(claimed[0].ID, t0); !errors.Is(err, ErrDisabled) {
		t.Errorf("disabled campaign: %v", err)
	}
	if got, _ := s.Record(claimed[0].ID); got.Status != Pending {
		t.Errorf("refused record left %s, want pending", got.Status)
	}
}

func TestConcurrentNextNeverSharesARecord(t *testing.T) {
	s, _ := openTest(t, t0)
	c := mustCampaign(t, s, NewCampaign("c", Predictive))
	var b strings.Builder
	b.WriteString("phone,time_zone\n")
	for i := range 300 {
		b.WriteString("4420794" + string(rune('0'+i/100)) + string(rune('0'+i/10%10)) + string(rune('0'+i%10)) + "0,Europe/London\n")
	}
	mustImport(t, s, c.ID, b.String())
	var mu sync.Mutex
	seen := map[int64]int{}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for {
				got, err := s.Next(c.ID, t0, 7)
				if err != nil {
					t.Error(err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, r := range got {
					seen[r.ID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != 300 {
		t.Errorf("%d records handed out, want 300", len(seen))
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("record %d handed out %d times", id, n)
		}
	}
}
