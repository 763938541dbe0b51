package web

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// fake is a Source whose snapshot and error the test sets.
type fake struct {
	mu   sync.Mutex
	snap Snapshot
	err  error
}

func (f *fake) Snapshot(ctx context.Context) (Snapshot, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.snap, f.err
}

func (f *fake) set(s Snapshot, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.snap, f.err = s, err
}

var t0 = time.Date(2026, 3, 2, 10, 15, 0, 0, time.UTC)

// busyCentre is a centre with a call in queue, one answered and one talking,
// a campaign and a blending move.
func busyCentre() Snapshot {
	return Snapshot{
		At: t0, Scenario: "default",
		Centre: Centre{InQueue: 1, LongestWaitSeconds: 7, ServiceLevelTo5: 0.8, ServiceLevelHalf: -1,
			Offered: 3, Answered: 2, Abandoned: 1,
			Agents:  AgentStates{TalkingInbound: 1, Reserved: 1, Ready: 2, NotReady: 1, OutboundIdle: 1, LoggedIn: 6},
			Dialing: 2, OutboundAgents: 2, DialLevel: 1, OutboundAttempts: 10, OutboundConnects: 4, OutboundAbandoned: 1,
			OutboundAbandonRate: 0.2, Lent: 1, MovesToInbound: 2, MovesToOutbound: 1},
		Agents: []Agent{
			{ID: "1201", Extension: "2201", State: "TALKING", SkillGroups: []string{"Sales"}, CallID: 17, Direction: "inbound", Since: t0.Add(-12 * time.Second)},
			{ID: "1202", Extension: "2202", State: "RESERVED", SkillGroups: []string{"Sales", "Service"}, Since: t0.Add(-2 * time.Second)},
			{ID: "3001", Extension: "3001", State: "IDLE", Line: true, Since: t0.Add(-time.Minute)},
		},
		SkillGroups: []SkillGroup{{Number: 100, Name: "Sales", LoggedOn: 2, TalkingIn: 1, Reserved: 1, InQueue: 1, LongestWaitSeconds: 7},
			{Number: 200, Name: "Service", LoggedOn: 1, BusyOther: 1}},
		Queues: []Queue{{CallType: "Sales \"EU\"", InQueue: 1, LongestWaitSeconds: 7, ServiceLevelTo5: 0.8, ServiceLevelHalf: -1,
			ServiceLevelToday: 0.75, ASASeconds: 4.5, Offered: 3, Answered: 2, Abandoned: 1, AbandonedToday: 1}},
		Campaign: &Campaign{ID: 1, Name: "spring", Mode: "progressive", LinesPerAgent: 1.5, AbandonTarget: 0.03, List: &CallList{Records: 100, Left: 60},
			Scheduled: []Scheduled{{RecordID: 42, At: t0.Add(26 * time.Hour), Kind: "callback", Phone: "442079460000",
				Name: "Ada <Lovelace>", TimeZone: "Europe/London"}}},
		Moves: []Move{{At: t0.Add(-time.Minute), Agent: "1203", Kind: "lend"}},
		Alerts: []Alert{{At: t0, Severity: "warning", Kind: "service_level_to5", Subject: "Sales", Message: "service level 80 % below 85 %"},
			{At: t0, Severity: "critical", Kind: "agent_reserved", Subject: "1202", Message: "reserved 40 s"},
			{At: t0, Severity: "critical", Kind: "agent_reserved", Subject: "1203", Message: "reserved 35 s"}},
	}
}

func newServer(t *testing.T, src Source, cfg Config) *Server {
	t.Helper()
	cfg.Source = src
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func get(t *testing.T, h http.Handler, target string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	req.RemoteAddr = "127.0.0.1:40000"
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from the golden file (run with -update if the change is intended):\n%s", name, got)
	}
}

func TestSnapshotJSONShape(t *testing.T) {
	s := newServer(t, &fake{snap: busyCentre()}, Config{})
	rec := get(t, s, "/api/snapshot")
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("GET /api/snapshot: %d %q: %s", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	}
	golden(t, "snapshot.json", rec.Body.Bytes())
	var back Snapshot
	if err := json.Unmarshal(rec.Body.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back.Centre.Answered != 2 || len(back.Agents) != 3 || back.Campaign == nil || back.Campaign.List == nil || back.Campaign.List.Left != 60 {
		t.Errorf("round trip lost figures: %+v", back)
	}
}

func TestEmptySnapshotHasEmptyLists(t *testing.T) {
	s := newServer(t, &fake{snap: Snapshot{Agents: []Agent{{ID: "1"}}}}, Config{})
	body := get(t, s, "/api/snapshot").Body.String()
	for _, want := range []string{`"queues": []`, `"moves": []`, `"alerts": []`, `"skill_groups": []`, `"agents": [`} {
		if !strings.Contains(body, want) {
			t.Errorf("JSON lacks %s:\n%s", want, body)
		}
	}
	if strings.Contains(body, "null") || strings.Contains(body, `"campaign"`) {
		t.Errorf("JSON has null or a campaign without one:\n%s", body)
	}
}

// metricLine is one sample line of the text exposition format.
var metricLine = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*"(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*")*)\})? (\S+)$`)

// parseMetrics checks the exposition's syntax (HELP and TYPE before each
// family's samples, counters named _total) and returns sample values keyed
// by the line's name and labels as written.
func parseMetrics(t *testing.T, text string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	types := map[string]string{}
	for i, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		if f, ok := strings.CutPrefix(line, "# TYPE "); ok {
			name, typ, _ := strings.Cut(f, " ")
			if _, dup := types[name]; dup {
				t.Errorf("line %d: second TYPE for %s", i+1, name)
			}
			types[name] = typ
			if typ == "counter" && !strings.HasSuffix(name, "_total") {
				t.Errorf("line %d: counter %s not named _total", i+1, name)
			}
			continue
		}
		if strings.HasPrefix(line, "# HELP ") {
			continue
		}
		m := metricLine.FindStringSubmatch(line)
		if m == nil {
			t.Errorf("line %d is not a sample: %q", i+1, line)
			continue
		}
		if types[m[1]] == "" {
			t.Errorf("line %d: %s has no TYPE before it", i+1, m[1])
		}
		v, err := strconv.ParseFloat(m[4], 64)
		if err != nil {
			t.Errorf("line %d: value %q: %v", i+1, m[4], err)
		}
		out[m[1]+m[2]] = v
	}
	return out
}

func TestMetricsNamesAndValues(t *testing.T) {
	s := newServer(t, &fake{snap: busyCentre()}, Config{})
	rec := get(t, s, "/metrics")
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Fatalf("GET /metrics: %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	golden(t, "metrics.txt", rec.Body.Bytes())
	got := parseMetrics(t, rec.Body.String())
	for key, want := range map[string]float64{
		`ipcclab_inbound_calls_in_queue{call_type="Sales \"EU\""}`:             1,
		`ipcclab_service_level_ratio{call_type="Sales \"EU\"",window="to5"}`:   0.8,
		`ipcclab_service_level_ratio{call_type="Sales \"EU\"",window="today"}`: 0.75,
		`ipcclab_inbound_calls_answered_total{call_type="Sales \"EU\""}`:       2,
		`ipcclab_agents{state="talking_inbound"}`:                              1,
		`ipcclab_agents{state="outbound_idle"}`:                                1,
		`ipcclab_agents_logged_in`:                                             6,
		`ipcclab_outbound_abandon_ratio`:                                       0.2,
		`ipcclab_outbound_attempts_total`:                                      10,
		`ipcclab_blend_moves_total{direction="to_inbound"}`:                    2,
		`ipcclab_campaign_records_left{campaign="spring"}`:                     60,
		`ipcclab_outbound_abandon_target_ratio{campaign="spring"}`:             0.03,
		`ipcclab_alerts`: 3,
		`ipcclab_alerts_active{kind="service_level_to5",severity="warning"}`: 1,
		`ipcclab_alerts_active{kind="agent_reserved",severity="critical"}`:   2,
		`ipcclab_inbound_asa_seconds{call_type="Sales \"EU\""}`:              4.5,
		`ipcclab_inbound_longest_wait_seconds{call_type="Sales \"EU\""}`:     7,
		`ipcclab_inbound_calls_abandoned_total{call_type="Sales \"EU\""}`:    1,
		`ipcclab_outbound_dial_level`:                                        1,
		`ipcclab_blend_lent_agents`:                                          1,
		`ipcclab_outbound_connects_total`:                                    4,
		`ipcclab_outbound_calls_dialing`:                                     2,
		`ipcclab_inbound_calls_offered_total{call_type="Sales \"EU\""}`:      3,
		`ipcclab_campaign_records{campaign="spring"}`:                        100,
		`ipcclab_outbound_abandoned_total`:                                   1,
		`ipcclab_blend_moves_total{direction="to_outbound"}`:                 1,
		`ipcclab_agents{state="reserved"}`:                                   1,
	} {
		if v, ok := got[key]; !ok || v != want {
			t.Errorf("%s = %v (present %v), want %v", key, v, ok, want)
		}
	}
	// No call counted in the half-hour yet: the series is absent, not -1.
	if _, ok := got[`ipcclab_service_level_ratio{call_type="Sales \"EU\"",window="half_hour"}`]; ok {
		t.Error("half-hour service level exported before any call counted")
	}
}

func TestMetricsWithoutCampaign(t *testing.T) {
	snap := busyCentre()
	snap.Campaign = nil
	snap.Alerts = []Alert{}
	s := newServer(t, &fake{snap: snap}, Config{})
	got := parseMetrics(t, get(t, s, "/metrics").Body.String())
	for key := range got {
		if strings.HasPrefix(key, "ipcclab_campaign_") || strings.HasPrefix(key, "ipcclab_outbound_abandon_target") {
			t.Errorf("%s exported without a campaign", key)
		}
		if strings.HasPrefix(key, "ipcclab_alerts_active") {
			t.Errorf("%s exported without an alert", key)
		}
	}
	if v, ok := got["ipcclab_alerts"]; !ok || v != 0 {
		t.Errorf("ipcclab_alerts = %v (present %v), want 0", v, ok)
	}
}

// A campaign without a call list has its target and no records: absent
// series, not a 0 that reads as an exhausted list.
func TestMetricsCampaignWithoutList(t *testing.T) {
	snap := busyCentre()
	snap.Campaign = &Campaign{Name: "Renewals", Mode: "progressive", LinesPerAgent: 1, AbandonTarget: 0.03, Scheduled: []Scheduled{}}
	s := newServer(t, &fake{snap: snap}, Config{})
	got := parseMetrics(t, get(t, s, "/metrics").Body.String())
	if v := got[`ipcclab_outbound_abandon_target_ratio{campaign="Renewals"}`]; v != 0.03 {
		t.Errorf("abandon target %v, want 0.03", v)
	}
	for key := range got {
		if strings.HasPrefix(key, "ipcclab_campaign_records") {
			t.Errorf("%s exported without a call list", key)
		}
	}
}

func TestSourceErrorIsNamed(t *testing.T) {
	s := newServer(t, &fake{err: errors.New("the centre did not answer")}, Config{})
	for _, path := range []string{"/api/snapshot", "/metrics"} {
		rec := get(t, s, path)
		if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "the centre did not answer") {
			t.Errorf("GET %s with a failing source: %d %q", path, rec.Code, rec.Body)
		}
	}
	// The page still renders, saying why it has no figures.
	rec := get(t, s, "/")
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "no data: snapshot: the centre did not answer") {
		t.Errorf("GET / with a failing source: %d\n%s", rec.Code, rec.Body)
	}
}

func TestPageReadsWithoutScript(t *testing.T) {
	s := newServer(t, &fake{snap: busyCentre()}, Config{})
	rec := get(t, s, "/")
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("GET /: %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	body := rec.Body.String()
	for _, want := range []string{
		`<tr data-agent="1201" data-state="TALKING"><td>1201</td><td>2201</td><td class="state">TALKING</td><td>12 s</td><td>Sales</td><td>17 inbound</td></tr>`,
		`<dd id="t-answered">2</dd>`,
		`<tr data-skill-group="100"><td>Sales</td><td>2</td><td>0</td><td>1</td><td>1</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td><td>1</td><td>7 s</td></tr>`,
		`<dd id="t-sl_to5">80.0 %</dd>`,
		`<dd id="t-sl_half">—</dd>`,
		`<td>Sales &#34;EU&#34;</td>`, // escaped, not markup
		`Campaign spring (progressive): 60 of 100 records left`,
		`<tr data-record="42" data-kind="callback"><td>2026-03-03 12:15 UTC</td><td>callback</td><td>442079460000</td><td>Ada &lt;Lovelace&gt;</td><td>Europe/London</td><td>42</td></tr>`,
		`Sales: service level 80 % below 85 %`,
		`<meta http-equiv="refresh" content="5">`,
		`<script src="app.js"></script>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	// The token of the page's URL is carried to the script and style.
	body = get(t, s, "/?token=a%26b").Body.String()
	if !strings.Contains(body, `<script src="app.js?token=a%26b"></script>`) || !strings.Contains(body, `href="style.css?token=a%26b"`) {
		t.Errorf("token not carried to the page's assets:\n%s", body)
	}
	for path, ct := range map[string]string{"/app.js": "text/javascript; charset=utf-8", "/style.css": "text/css; charset=utf-8"} {
		rec := get(t, s, path)
		if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != ct || rec.Body.Len() == 0 {
			t.Errorf("GET %s: %d %q %d bytes", path, rec.Code, rec.Header().Get("Content-Type"), rec.Body.Len())
		}
	}
}

// A line that has had no call has no "For" time (its Since is zero), and
// a campaign without a call list says so rather than "No campaign.".
func TestPageLineWithoutCallAndCampaignWithoutList(t *testing.T) {
	snap := busyCentre()
	snap.Agents[2].Since = time.Time{}
	snap.Campaign = &Campaign{Name: "Renewals", Mode: "progressive", LinesPerAgent: 1, AbandonTarget: 0.03, Scheduled: []Scheduled{}}
	body := get(t, newServer(t, &fake{snap: snap}, Config{}), "/").Body.String()
	for _, want := range []string{
		`<tr data-agent="3001" data-state="IDLE"><td>3001</td><td>3001</td><td class="state">IDLE</td><td>—</td>`,
		`Campaign Renewals (progressive): no call list; abandon target 3.0 %`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if strings.Contains(body, "No campaign.") {
		t.Error(`page says "No campaign." with a campaign`)
	}
	snap.Campaign = nil
	if body := get(t, newServer(t, &fake{snap: snap}, Config{}), "/").Body.String(); !strings.Contains(body, "No campaign.") {
		t.Error(`page without a campaign does not say "No campaign."`)
	}
	for _, tc := range []struct {
		at, t time.Time
		want  string
	}{
		{t0, time.Time{}, "—"},
		{t0, t0.Add(-90 * time.Second), "90 s"},
		{t0, t0.Add(time.Second), "0 s"}, // clocks a moment apart
	} {
		if got := since(tc.at, tc.t); got != tc.want {
			t.Errorf("since(%v, %v) = %q, want %q", tc.at, tc.t, got, tc.want)
		}
	}
}

// The pages mounted beside the dashboard are linked from it, with the
// page's token.
func TestPageLinksMountedPages(t *testing.T) {
	s := newServer(t, &fake{snap: busyCentre()}, Config{})
	if body := get(t, s, "/").Body.String(); strings.Contains(body, `id="links"`) {
		t.Error("links with nothing mounted")
	}
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	s.Mount("/desktop/", ok)
	s.Mount(CallbackPath, ok)
	s.Mount("/other/", ok)
	body := get(t, s, "/?token=a%26b").Body.String()
	want := `<nav id="links"><a href="desktop/?token=a%26b">Agent desktop</a> <a href="callback/?token=a%26b">Web callback</a> <a href="other/?token=a%26b">/other/</a> </nav>`
	if !strings.Contains(body, want) {
		t.Errorf("page lacks %s:\n%s", want, body)
	}
}

func TestSecurity(t *testing.T) {
	const token = "s3cret"
	withToken := newServer(t, &fake{snap: busyCentre()}, Config{Token: token})
	noToken := newServer(t, &fake{snap: busyCentre()}, Config{})
	for _, tc := range []struct {
		name   string
		srv    *Server
		method string
		target string
		remote string
		auth   string
		code   int
		says   string
	}{
		{"loopback v4 needs no token", withToken, "GET", "/api/snapshot", "127.0.0.1:5000", "", 200, ""},
		{"loopback v6 needs no token", withToken, "GET", "/metrics", "[::1]:5000", "", 200, ""},
		{"loopback without a configured token", noToken, "GET", "/", "127.0.0.1:5000", "", 200, ""},
		{"remote without token", withToken, "GET", "/api/snapshot", "192.0.2.7:5000", "", 401, "token required"},
		{"remote with wrong bearer", withToken, "GET", "/api/snapshot", "192.0.2.7:5000", "Bearer nope", 401, "wrong token in the Authorization header"},
		{"remote with another scheme", withToken, "GET", "/metrics", "192.0.2.7:5000", "Basic czNjcmV0", 401, `must be "Bearer <token>"`},
		{"remote with right bearer", withToken, "GET", "/metrics", "192.0.2.7:5000", "Bearer " + token, 200, ""},
		{"remote with right query token on the page", withToken, "GET", "/?token=" + token, "192.0.2.7:5000", "", 200, ""},
		{"remote with right query token on events", withToken, "GET", "/api/snapshot?token=" + token, "192.0.2.7:5000", "", 200, ""},
		{"remote with wrong query token", withToken, "GET", "/?token=nope", "192.0.2.7:5000", "", 401, "wrong token in the token parameter"},
		{"query token is not taken for metrics", withToken, "GET", "/metrics?token=" + token, "192.0.2.7:5000", "", 401, "token required"},
		{"remote when the server has no token", noToken, "GET", "/", "192.0.2.7:5000", "Bearer " + token, 401, "loopback clients only"},
		{"v4-mapped loopback", withToken, "GET", "/api/snapshot", "[::ffff:127.0.0.1]:5000", "", 200, ""},
		{"POST is 405", withToken, "POST", "/api/snapshot", "127.0.0.1:5000", "", 405, "method POST not allowed on /api/snapshot"},
		{"DELETE on the page is 405", withToken, "DELETE", "/", "127.0.0.1:5000", "", 405, "use GET"},
		{"unknown path is 404", withToken, "GET", "/api/nothing", "127.0.0.1:5000", "", 404, "no such page: /api/nothing"},
		// A remote client without the token learns nothing of which pages
		// exist or which methods they take; with it, the usual answers.
		{"unknown path from remote without the token is 401", withToken, "GET", "/admin", "192.0.2.7:5000", "", 401, "token required"},
		{"DELETE from remote without the token is 401", withToken, "DELETE", "/", "192.0.2.7:5000", "", 401, "token required"},
		{"unknown path from remote with the token is 404", withToken, "GET", "/admin?token=s3cret", "192.0.2.7:5000", "", 404, "no such page"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, tc.target, nil)
			req.RemoteAddr = tc.remote
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			rec := httptest.NewRecorder()
			tc.srv.ServeHTTP(rec, req)
			if rec.Code != tc.code {
				t.Fatalf("%s %s from %s: %d, want %d: %s", tc.method, tc.target, tc.remote, rec.Code, tc.code, rec.Body)
			}
			if tc.code != 200 {
				if ct := rec.Header().Get("Content-Type"); ct != "text/plain; charset=utf-8" || !strings.Contains(rec.Body.String(), tc.says) {
					t.Errorf("error answer %q (%s), want text saying %q", rec.Body, ct, tc.says)
				}
			}
			if tc.code == 405 && rec.Header().Get("Allow") != "GET" {
				t.Errorf("405 without Allow: GET")
			}
			if tc.code == 401 && rec.Header().Get("WWW-Authenticate") == "" {
				t.Errorf("401 without WWW-Authenticate")
			}
		})
	}
}

func TestNeedsToken(t *testing.T) {
	for _, tc := range []struct {
		addr string
		need bool
		err  bool
	}{
		{"127.0.0.1:8080", false, false},
		{"127.0.0.1:0", false, false},
		{"[::1]:8080", false, false},
		{"localhost:8080", false, false},
		{"0.0.0.0:8080", true, false},
		{":8080", true, false},
		{"192.0.2.1:80", true, false},
		{"dashboard.example:80", true, false},
		{"127.0.0.1", false, true},
	} {
		need, err := NeedsToken(tc.addr)
		if need != tc.need || (err != nil) != tc.err {
			t.Errorf("NeedsToken(%q) = %v, %v; want %v, error %v", tc.addr, need, err, tc.need, tc.err)
		}
		if err != nil && !strings.Contains(err.Error(), tc.addr) {
			t.Errorf("NeedsToken(%q) error does not name the address: %v", tc.addr, err)
		}
	}
	a, err := NewToken()
	b, _ := NewToken()
	if err != nil || len(a) != 32 || a == b {
		t.Errorf("NewToken: %q, %q, %v", a, b, err)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		says string
	}{
		{Config{}, "Config.Source is nil"},
		{Config{Source: &fake{}, PushEvery: -time.Second}, "must not be negative"},
		{Config{Source: &fake{}, ClientSlot: -1}, "must not be negative"},
		{Config{Source: &fake{}, Token: " x"}, "Config.Token"},
	} {
		if _, err := New(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("New(%+v) = %v, want an error saying %q", tc.cfg, err, tc.says)
		}
	}
}

// sseEvent is one event or comment read from a stream.
type sseEvent struct {
	comment, event, data, retry string
}

func readEvent(r *bufio.Reader) (sseEvent, error) {
	var e sseEvent
	var data []string
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return e, err
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "":
			e.data = strings.Join(data, "\n")
			return e, nil
		case strings.HasPrefix(line, ":"):
			e.comment = strings.TrimSpace(line[1:])
		case strings.HasPrefix(line, "event: "):
			e.event = line[len("event: "):]
		case strings.HasPrefix(line, "data: "):
			data = append(data, line[len("data: "):])
		case strings.HasPrefix(line, "retry: "):
			e.retry = line[len("retry: "):]
		default:
			return e, fmt.Errorf("not an event-stream line: %q", line)
		}
	}
}

func TestEventStreamFraming(t *testing.T) {
	src := &fake{snap: busyCentre()}
	s := newServer(t, src, Config{PushEvery: 5 * time.Millisecond, Heartbeat: 20 * time.Millisecond})
	ts := httptest.NewServer(s)
	defer ts.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, ts.URL+"/api/events", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("GET /api/events: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	r := bufio.NewReader(resp.Body)
	first, err := readEvent(r)
	if err != nil || first.retry != "2000" {
		t.Fatalf("first event %+v, %v; want the retry interval", first, err)
	}
	ev, err := readEvent(r)
	if err != nil || ev.event != "snapshot" {
		t.Fatalf("second event %+v, %v; want the snapshot at once", ev, err)
	}
	var got Snapshot
	if err := json.Unmarshal([]byte(ev.data), &got); err != nil || got.Centre.Answered != 2 {
		t.Fatalf("snapshot event data: %v, %+v", err, got.Centre)
	}
	// Then pushes keep coming, a heartbeat comment among them, and a
	// failing source gives an error event naming the problem, with a
	// newline in the message kept inside the event.
	var sawBeat, sawErr bool
	for !sawBeat || !sawErr {
		ev, err := readEvent(r)
		if err != nil {
			t.Fatalf("stream ended before a heartbeat (%v) and an error event (%v): %v", sawBeat, sawErr, err)
		}
		switch {
		case ev.comment == "heartbeat":
			sawBeat = true
			src.set(Snapshot{}, errors.New("centre gone\nfor now"))
		case ev.event == "error":
			if ev.data != "snapshot: centre gone\nfor now" {
				t.Errorf("error event data %q", ev.data)
			}
			sawErr = true
		}
	}
}

func TestSlowClientIsDroppedNotWaitedFor(t *testing.T) {
	var pushes int
	h := newHub(Config{PushEvery: time.Hour, ClientSlot: 2}, func(context.Context) []byte { return nil })
	defer h.close()
	slow, fast := h.subscribe(), h.subscribe()
	for range 5 {
		pushes++
		h.publish([]byte(strconv.Itoa(pushes))) // returns although slow never reads
		<-fast.frames
	}
	select {
	case <-slow.dropped:
	default:
		t.Fatal("a client 5 frames behind with a slot of 2 was not dropped")
	}
	select {
	case <-fast.dropped:
		t.Fatal("the client keeping up was dropped")
	default:
	}
	if n := h.clientCount(); n != 1 {
		t.Errorf("%d clients subscribed, want the fast one only", n)
	}
	// Unsubscribing a dropped client is harmless.
	h.unsubscribe(slow)
}

func TestSlowHTTPClientDoesNotBlockOthers(t *testing.T) {
	// A big snapshot (about 100 kB an event) fills the stalled client's
	// socket buffers quickly.
	big := busyCentre()
	for i := range 1000 {
		big.Agents = append(big.Agents, Agent{ID: strconv.Itoa(5000 + i), Extension: strconv.Itoa(6000 + i), State: "AVAILABLE", SkillGroups: []string{"Sales"}})
	}
	s := newServer(t, &fake{snap: big}, Config{PushEvery: 2 * time.Millisecond, ClientSlot: 64})
	ts := httptest.NewServer(s)
	defer ts.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	open := func() *http.Response {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, ts.URL+"/api/events", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	stalled := open() // never read: its socket buffers fill, its handler stalls
	defer stalled.Body.Close()
	live := open()
	defer live.Body.Close()
	r := bufio.NewReader(live.Body)
	// The live client keeps receiving far more than the socket buffers of
	// the stalled one hold, and the hub gives up on the stalled one.
	var n, read int
	for read < 64<<20 || s.hub.clientCount() > 1 {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("live stream ended after %d bytes, %d clients subscribed: %v", read, s.hub.clientCount(), err)
		}
		read += len(line)
		if strings.HasPrefix(line, "event: snapshot") {
			n++
		}
	}
	if n < 100 {
		t.Errorf("only %d snapshots in %d bytes", n, read)
	}
}

// A handler mounted on the server (the agent desktop) is behind the same
// rule as the dashboard: loopback clients, or others with the token.
func TestMountedHandlerIsProtected(t *testing.T) {
	s := newServer(t, &fake{snap: busyCentre()}, Config{Token: "s3cret"})
	s.Mount("/desktop/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot)
	}))
	for _, tc := range []struct {
		remote, path, auth string
		want               int
	}{
		{"127.0.0.1:5000", "/desktop/", "", http.StatusTeapot},
		{"127.0.0.1:5000", "/desktop", "", http.StatusTeapot},
		{"192.0.2.7:5000", "/desktop/api/", "", http.StatusUnauthorized},
		{"192.0.2.7:5000", "/desktop/api/", "Bearer wrong", http.StatusUnauthorized},
		{"192.0.2.7:5000", "/desktop/api/", "Bearer s3cret", http.StatusTeapot},
		{"192.0.2.7:5000", "/desktop/?token=s3cret", "", http.StatusTeapot},
	} {
		req := httptest.NewRequest(http.MethodPost, tc.path, nil)
		req.RemoteAddr = tc.remote
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code != tc.want {
			t.Errorf("%s %s (%q): %d, want %d", tc.remote, tc.path, tc.auth, rec.Code, tc.want)
		}
	}
}

// Protect puts another listener's handler (the campaign API) behind the
// same rule; the token goes in the Authorization header only.
func TestProtect(t *testing.T) {
	h := Protect("s3cret", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	for _, tc := range []struct {
		remote, path, auth string
		want               int
	}{
		{"127.0.0.1:5000", "/campaigns/1", "", http.StatusNoContent},
		{"[::1]:5000", "/campaigns/1", "", http.StatusNoContent},
		{"192.0.2.7:5000", "/campaigns/1", "", http.StatusUnauthorized},
		{"192.0.2.7:5000", "/campaigns/1?token=s3cret", "", http.StatusUnauthorized},
		{"192.0.2.7:5000", "/campaigns/1", "Bearer nope", http.StatusUnauthorized},
		{"192.0.2.7:5000", "/campaigns/1", "Bearer s3cret", http.StatusNoContent},
	} {
		req := httptest.NewRequest(http.MethodPatch, tc.path, nil)
		req.RemoteAddr = tc.remote
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tc.want {
			t.Errorf("%s %s (%q): %d, want %d", tc.remote, tc.path, tc.auth, rec.Code, tc.want)
		}
	}
}
