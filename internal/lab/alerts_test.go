package lab

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ipcclab/ipcclab/controller/reporting/alertnotify"
	"github.com/ipcclab/ipcclab/scenarios"
)

// surgeScenario is the default scenario with SalesInbound's calls between
// 09:00 and 10:00 nearly tripled (1400 an hour instead of 380 and 450),
// and extra controller.alerts lines.
func surgeScenario(t *testing.T, alertsSection string) *scenarios.Scenario {
	t.Helper()
	y := string(scenarios.DefaultYAML())
	const profile = "per_hour: [250, 300, 380, 450,"
	if !strings.Contains(y, profile) {
		t.Fatal("the default scenario's SalesInbound profile changed; update surgeScenario")
	}
	y = strings.Replace(y, profile, "per_hour: [250, 300, 1400, 1400,", 1)
	if alertsSection != "" {
		y = strings.Replace(y, "controller:\n", "controller:\n  alerts:\n"+alertsSection, 1)
	}
	sc, err := scenarios.Parse("surge.yaml", []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func simulateFor(t *testing.T, sc *scenarios.Scenario, hours float64) *Report {
	t.Helper()
	rep, err := Simulate(context.Background(), SimOptions{Scenario: sc, Seed: 3, Duration: time.Duration(hours * float64(time.Hour))})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func clock(t time.Time) string { return t.Format("15:04") }

// A surge from 09:00 to 10:00 drops the half-hour's service level: the
// default thresholds (below 60 % with 20 calls for 10 minutes) raise the
// centre's alert within the 09:00 half-hour, and it clears once the 10:00
// half-hour has its 20 calls, mostly answered in time.
func TestSurgeRaisesAndClearsServiceLevelAlert(t *testing.T) {
	rep := simulateFor(t, surgeScenario(t, ""), 4)
	var found bool
	for _, a := range rep.Alerts {
		if a.Kind != "service_level_half" || a.Subject != "all" {
			continue
		}
		found = true
		if a.Raised.Before(at(9, 10)) || a.Raised.After(at(9, 30)) {
			t.Errorf("raised at %s, want between 09:10 (10 minutes into the surge) and 09:30", clock(a.Raised))
		}
		if a.Cleared == nil || a.Cleared.Before(at(10, 0)) || a.Cleared.After(at(10, 30)) {
			t.Errorf("cleared at %v, want in the 10:00 half-hour", a.Cleared)
		}
		if a.Severity != "critical" || a.Threshold != 0.6 || a.Peak >= 0.6 {
			t.Errorf("alert %+v", a)
		}
	}
	if !found {
		t.Fatalf("no service-level alert for the centre; alerts %+v", rep.Alerts)
	}
	var text strings.Builder
	rep.WriteText(&text)
	if !strings.Contains(text.String(), "\nalerts:\n") || !strings.Contains(text.String(), "service_level_half  all") {
		t.Fatalf("text report without the alerts:\n%s", text.String())
	}
}

func at(h, m int) time.Time { return time.Date(2026, 1, 5, h, m, 0, 0, time.UTC) }

// The default scenario on its default thresholds is a healthy centre (every
// half-hour above 90 %): no service-level alert, none at all in fact.
func TestDefaultScenarioRaisesNoServiceLevelAlert(t *testing.T) {
	rep := simulateFor(t, defaultScenario(t), 8)
	for _, a := range rep.Alerts {
		if strings.HasPrefix(a.Kind, "service_level") {
			t.Errorf("alert %+v", a)
		}
	}
	if len(rep.Alerts) != 0 {
		t.Logf("other alerts: %+v", rep.Alerts)
	}
}

// Judging alerts adds no event to the simulation: with alerts off the
// report is the same but for the alerts (and the wall time).
func TestAlertsDoNotChangeTheRun(t *testing.T) {
	on := simulateFor(t, surgeScenario(t, ""), 2)
	off := simulateFor(t, surgeScenario(t, "    off: true\n"), 2)
	if len(on.Alerts) == 0 || off.Alerts == nil || len(off.Alerts) != 0 {
		t.Fatalf("alerts on %d, off %v", len(on.Alerts), off.Alerts)
	}
	on.Alerts, off.Alerts = nil, nil
	on.WallSeconds, off.WallSeconds = 0, 0
	if !reflect.DeepEqual(on, off) {
		t.Fatal("the run differs with alerts on")
	}
}

// With a webhook, each raise and clear of the run is posted as it happens.
func TestSimulatePostsAlertsToTheWebhook(t *testing.T) {
	var mu sync.Mutex
	var got []alertnotify.Payload
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p alertnotify.Payload
		if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
			t.Error(err)
		}
		mu.Lock()
		got = append(got, p)
		mu.Unlock()
	}))
	defer srv.Close()
	var logMu sync.Mutex
	var lines []string
	sc := surgeScenario(t, "    webhook: "+srv.URL+"\n    inbound_abandon: {off: true}\n    service_level: {per_call_type: false}\n")
	rep, err := Simulate(context.Background(), SimOptions{Scenario: sc, Seed: 3, Duration: 2 * time.Hour,
		Logf: func(f string, a ...any) {
			logMu.Lock()
			defer logMu.Unlock()
			if strings.Contains(f, "%s") && len(a) > 0 {
				if s, ok := a[len(a)-1].(string); ok && strings.Contains(s, "alert") {
					lines = append(lines, s)
				}
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, a := range rep.Alerts {
		want++
		if a.Cleared != nil {
			want++
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if want == 0 || len(got) != want {
		t.Fatalf("%d posts, want %d (alerts %+v)", len(got), want, rep.Alerts)
	}
	if got[0].Source != sc.Name || got[0].Action != "raise" || got[0].Kind != "service_level_half" || got[0].Subject != "all" {
		t.Fatalf("first post %+v", got[0])
	}
	if len(lines) == 0 {
		t.Fatal("the changes were not logged")
	}
}

// A call list of about seventy records in five time zones is below the
// low-water mark from the start; the records dialable now run out once
// Tokyo's and Kolkata's are dialed, and come back when London's calling
// hours open (09:00 UTC) and New York's (14:00 UTC).
func TestCallListAlerts(t *testing.T) {
	sc := callListScenario(t)
	sc.Controller.Alerts.List = scenarios.AlertList{Below: 100, ClearAt: 200}
	rep := simulateFor(t, sc, 8)
	var got []string
	for _, a := range rep.Alerts {
		line := a.Kind + " " + a.Subject + " " + a.Severity + " " + clock(a.Raised)
		if a.Cleared != nil {
			line += "-" + clock(*a.Cleared)
		}
		got = append(got, line)
	}
	want := []string{
		"list_low Renewals warning 08:05",
		"list_exhausted Renewals critical 08:10-09:00",
		"list_exhausted Renewals critical 09:10-14:00",
		"list_exhausted Renewals critical 14:10",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("alerts\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
