package lab

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ipcclab/ipcclab/controller/reporting"
	"github.com/ipcclab/ipcclab/scenarios"
)

// `up --store` writes a live day as `simulate --store` writes a simulated
// one: at Stop the partial interval (named by its half-hour) and the
// controller's attempts, which `ipcclab report` reads back.
func TestLiveRunWritesTheHistoricalStore(t *testing.T) {
	sc := defaultScenario(t)
	db := filepath.Join(t.TempDir(), "live.db")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	r, err := Start(ctx, UpOptions{Scenario: sc, Seed: 1, CTIAddr: "127.0.0.1:0", HoldTraffic: true, Store: db})
	if err != nil {
		t.Fatal(err)
	}
	r.Begin()
	r.Arrive(3)
	var before = r.Report()
	for deadline := time.Now().Add(20 * time.Second); before.Inbound.Answered < 1 || before.Outbound.Attempts < 1; before = r.Report() {
		if time.Now().After(deadline) {
			r.Stop()
			t.Fatalf("no answered call and no outbound attempt: %+v %+v", before.Inbound, before.Outbound)
		}
		time.Sleep(100 * time.Millisecond)
	}
	r.Stop()

	s, err := reporting.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	read := func(k reporting.Kind) *reporting.Intervals {
		iv, err := s.Read(k, reporting.Range{})
		if err != nil {
			t.Fatal(err)
		}
		return iv
	}
	cts := read(reporting.KindCallType).CallTypes
	var offered, answered int64
	for _, c := range cts {
		offered += c.Offered
		answered += c.Answered
		if c.Start.Minute()%30 != 0 || c.Start.Second() != 0 || c.Start.Nanosecond() != 0 || !c.End.After(c.Start) ||
			c.End.Sub(c.Start) > reporting.IntervalLength {
			t.Errorf("call type row %s %v-%v is not within its half-hour", c.CallType, c.Start, c.End)
		}
	}
	if len(cts) < len(sc.ICM.CallTypes) || offered < int64(before.Inbound.Offered) || answered < int64(before.Inbound.Answered) {
		t.Errorf("%d call type rows, %d offered, %d answered; the run had %d, %d before Stop", len(cts), offered, answered,
			before.Inbound.Offered, before.Inbound.Answered)
	}
	if n := len(read(reporting.KindSkillGroup).SkillGroups); n == 0 {
		t.Error("no skill group rows")
	}
	if n := len(read(reporting.KindAgent).Agents); n == 0 {
		t.Error("no agent rows")
	}
	camps := read(reporting.KindCampaign).Campaigns
	var attempts int64
	for _, c := range camps {
		attempts += c.Attempts
	}
	atts, err := s.ReadAttempts(reporting.Range{})
	if err != nil {
		t.Fatal(err)
	}
	if attempts < int64(before.Outbound.Attempts) || int64(len(atts)) != attempts {
		t.Errorf("campaign rows count %d attempts, %d attempt records; %d before Stop", attempts, len(atts), before.Outbound.Attempts)
	}
	for _, a := range atts {
		if a.Campaign == "" || a.Mode == "" || a.DialedNumber == "" {
			t.Errorf("attempt record %+v", a)
			break
		}
	}
}

// A store that cannot be opened fails Start at once, naming the flag; so
// does --campaign-store without a call list.
func TestLiveStoreBadPathFailsAtStart(t *testing.T) {
	sc := defaultScenario(t)
	bad := filepath.Join(t.TempDir(), "no", "such", "dir", "live.db")
	_, err := Start(context.Background(), UpOptions{Scenario: sc, Seed: 1, CTIAddr: "127.0.0.1:0", HoldTraffic: true, Store: bad})
	if err == nil || !strings.Contains(err.Error(), "--store") || !strings.Contains(err.Error(), bad) {
		t.Errorf("Start with --store %s: %v", bad, err)
	}
	_, err = Start(context.Background(), UpOptions{Scenario: sc, Seed: 1, CTIAddr: "127.0.0.1:0", HoldTraffic: true,
		CampaignStore: filepath.Join(t.TempDir(), "c.db")})
	if err == nil || !strings.Contains(err.Error(), "--campaign-store") {
		t.Errorf("Start with --campaign-store and no call list: %v", err)
	}
}

// With --campaign-store the call list lives in a file: a second run on it
// resumes the campaign (nothing imported again) with the attempts the
// first run journaled.
func TestCampaignStoreSurvivesARestart(t *testing.T) {
	sc, err := scenarios.Load("testdata/calllist.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file, db := filepath.Join(dir, "campaign.db"), filepath.Join(dir, "live.db")
	up := func() *Running {
		t.Helper()
		r, err := Start(context.Background(), UpOptions{Scenario: sc, Seed: 1, CTIAddr: "127.0.0.1:0", CampaignStore: file, Store: db})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	r := up()
	first := r.camp.list
	_, id := r.Campaign()
	deadline := time.Now().Add(20 * time.Second)
	journaled := 0
	for journaled == 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		journaled = r.camp.report().Attempts
	}
	r.Stop()
	if first.Resumed || first.Imported == 0 || journaled == 0 {
		t.Fatalf("first run: %+v, %d attempts journaled", first, journaled)
	}
	// The live attempt records are joined with the journal, though the
	// controller journals on its own clock.
	rs, err := reporting.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	atts, err := rs.ReadAttempts(reporting.Range{})
	rs.Close()
	if err != nil || len(atts) == 0 {
		t.Fatalf("attempt records: %d, %v", len(atts), err)
	}
	for _, a := range atts {
		if a.RecordID == 0 || a.AttemptNumber < 1 {
			t.Errorf("attempt not joined with its journal entry: %+v", a)
		}
	}

	r = up()
	defer r.Stop()
	if got := r.camp.list; !got.Resumed || got.Imported != 0 || r.camp.id != id {
		t.Errorf("second run: %+v campaign %d, want campaign %d resumed", got, r.camp.id, id)
	}
	if got := r.camp.report().Attempts; got < journaled {
		t.Errorf("second run sees %d attempts, the first journaled %d", got, journaled)
	}
}

// `up` logs every alert raise (and clear), with or without a webhook: a
// caller queued with no agent logged on passes a one-second queue_wait.
func TestLiveAlertsAreLogged(t *testing.T) {
	old := liveAlertEvery
	liveAlertEvery = 50 * time.Millisecond
	defer func() { liveAlertEvery = old }()
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	defer hook.Close()
	for _, webhook := range []string{"", hook.URL} {
		t.Run("webhook="+webhook, func(t *testing.T) {
			sc := surgeScenario(t, "    queue_wait: {above: 1s, clear_at: 500ms, for: 1ms}\n")
			sc.Controller.Alerts.Webhook = webhook
			var mu sync.Mutex
			var lines []string
			logf := func(format string, args ...any) {
				mu.Lock()
				defer mu.Unlock()
				lines = append(lines, strings.TrimSpace(strings.ReplaceAll(fmt.Sprintf(format, args...), "\n", " ")))
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			// Agents held logged out: the caller waits in queue.
			r, err := Start(ctx, UpOptions{Scenario: sc, Seed: 1, CTIAddr: "127.0.0.1:0", HoldTraffic: true, NoController: true, AlertLogf: logf})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Stop()
			r.Arrive(1)
			found := ""
			for deadline := time.Now().Add(15 * time.Second); found == "" && time.Now().Before(deadline); {
				time.Sleep(100 * time.Millisecond)
				mu.Lock()
				for _, l := range lines {
					if strings.Contains(l, "raise") && strings.Contains(l, "queue_wait") {
						found = l
					}
				}
				mu.Unlock()
			}
			if found == "" {
				mu.Lock()
				t.Fatalf("no queue_wait raise logged; log: %q", lines)
			}
			// Wall-clock stamped, like up's other lines.
			if _, err := time.Parse("15:04:05.000", strings.Fields(found)[0]); err != nil {
				t.Errorf("log line not stamped: %q", found)
			}
		})
	}
}
