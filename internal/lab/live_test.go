package lab

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ipcclab/ipcclab/controller/desktop"
	"github.com/ipcclab/ipcclab/controller/web"
)

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// metricValue is the value of the sample line of the exposition that
// starts with key (name and labels as written), -1 when absent.
func metricValue(text, key string) float64 {
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(key) + ` (\S+)$`).FindStringSubmatch(text)
	if m == nil {
		return -1
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return -1
	}
	return v
}

// The dashboard of a running centre serves live figures: once an inbound
// call is answered, /api/snapshot and /metrics say so, with the agent
// talking and the call type's counters moving.
func TestDashboardServesLiveFigures(t *testing.T) {
	sc := defaultScenario(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	r, err := Start(ctx, UpOptions{Scenario: sc, Seed: 1, CTIAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", HoldTraffic: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Stop()
	if r.HTTPToken() != "" || r.DashboardURL() != "http://"+r.HTTPAddr()+"/" {
		t.Errorf("loopback dashboard: token %q, URL %q", r.HTTPToken(), r.DashboardURL())
	}
	base := "http://" + r.HTTPAddr()

	// Before Begin no ICM agent is ready and nothing is offered (the
	// outbound-only agents are lines, idle from the start).
	var snap web.Snapshot
	code, body := httpGet(t, base+"/api/snapshot")
	if code != 200 {
		t.Fatalf("GET /api/snapshot: %d %s", code, body)
	}
	if err := json.Unmarshal([]byte(body), &snap); err != nil {
		t.Fatal(err)
	}
	if snap.Scenario != sc.Name || snap.Centre.Offered != 0 || snap.Centre.Agents.Ready != 0 || len(snap.Queues) != len(sc.ICM.CallTypes) {
		t.Fatalf("held centre: scenario %q, centre %+v, %d queues", snap.Scenario, snap.Centre, len(snap.Queues))
	}
	// The progressive campaign is on the dashboard without a call list:
	// named, moded and held to the scenario's abandon limit, no records.
	if cp := snap.Campaign; cp == nil || cp.Name != sc.Outbound.Campaign || cp.Mode != "progressive" || cp.List != nil ||
		cp.AbandonTarget != sc.Controller.Pacing.AbandonLimit || cp.LinesPerAgent != sc.Controller.Pacing.LinesPerAgent || cp.ID != 0 {
		t.Errorf("campaign without a list: %+v, want %s progressive at %v", cp, sc.Outbound.Campaign, sc.Controller.Pacing.AbandonLimit)
	}
	// Lines that have had no call have no time in their state yet.
	lines := 0
	for _, a := range snap.Agents {
		if a.Line && a.CallID == 0 {
			lines++
			if !a.Since.IsZero() {
				t.Errorf("line %s idle from the start has since %v", a.Extension, a.Since)
			}
		}
	}
	if lines == 0 {
		t.Error("no idle line in the held centre's agents")
	}

	r.Begin()
	r.Arrive(1)
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, body = httpGet(t, base+"/api/snapshot")
		snap = web.Snapshot{}
		if err := json.Unmarshal([]byte(body), &snap); err != nil {
			t.Fatal(err)
		}
		talking := false
		for _, a := range snap.Agents {
			talking = talking || (a.State == "TALKING" && a.Direction == "inbound" && a.CallID != 0)
			// A line with a call has been talking since it connected.
			if a.Line && a.CallID != 0 && (a.Since.IsZero() || a.Since.After(snap.At)) {
				t.Fatalf("line %s on call %d: since %v at %v", a.Extension, a.CallID, a.Since, snap.At)
			}
		}
		if snap.Centre.Answered >= 1 && talking {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no answered inbound call with an agent talking within 30 s: %+v", snap.Centre)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if snap.Centre.Agents.LoggedIn == 0 || len(snap.Agents) == 0 || len(snap.Agents[0].SkillGroups) == 0 {
		t.Errorf("agents: %+v, first row %+v", snap.Centre.Agents, snap.Agents[0])
	}

	// The skill groups table is the router's own view: one row per group,
	// the states add up to the group's logged-on agents, who are the agents
	// rows naming the group, and the answered call's agent talks inbound.
	if len(snap.SkillGroups) != len(sc.ICM.SkillGroups) {
		t.Fatalf("%d skill group rows for %d skill groups", len(snap.SkillGroups), len(sc.ICM.SkillGroups))
	}
	talkingIn := 0
	for _, sg := range snap.SkillGroups {
		sum := sg.Ready + sg.Reserved + sg.TalkingIn + sg.TalkingOut + sg.Hold + sg.WrapUp + sg.NotReady + sg.BusyOther
		members := 0
		for _, a := range snap.Agents {
			if slices.Contains(a.SkillGroups, sg.Name) {
				members++
			}
		}
		if sum != sg.LoggedOn || members != sg.LoggedOn {
			t.Errorf("skill group %s: states add to %d, %d agents name it, logged on %d: %+v", sg.Name, sum, members, sg.LoggedOn, sg)
		}
		talkingIn += sg.TalkingIn
	}
	if talkingIn == 0 {
		t.Errorf("no skill group has an agent talking inbound: %+v", snap.SkillGroups)
	}

	code, metrics := httpGet(t, base+"/metrics")
	if code != 200 {
		t.Fatalf("GET /metrics: %d %s", code, metrics)
	}
	var answered float64
	for _, ct := range sc.ICM.CallTypes {
		if v := metricValue(metrics, `ipcclab_inbound_calls_answered_total{call_type="`+ct.Name+`"}`); v > 0 {
			answered += v
		}
	}
	if answered < 1 {
		t.Errorf("no answered call in /metrics:\n%s", metrics)
	}
	if v := metricValue(metrics, "ipcclab_agents_logged_in"); v != float64(snap.Centre.Agents.LoggedIn) && v <= 0 {
		t.Errorf("ipcclab_agents_logged_in = %v", v)
	}
	if metricValue(metrics, `ipcclab_agents{state="talking_inbound"}`) < 0 {
		t.Errorf("no agents-by-state family in /metrics")
	}

	code, page := httpGet(t, base+"/")
	if code != 200 || !strings.Contains(page, `id="agents"`) {
		t.Errorf("GET /: %d", code)
	}
}

// A dashboard bound off loopback gets a generated token, and the URL up
// prints carries it; loopback clients are still served without it.
func TestDashboardOffLoopbackNeedsToken(t *testing.T) {
	sc := defaultScenario(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := Start(ctx, UpOptions{Scenario: sc, Seed: 1, CTIAddr: "127.0.0.1:0", HTTPAddr: "0.0.0.0:0", HoldTraffic: true, NoController: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Stop()
	tok := r.HTTPToken()
	if len(tok) != 32 || !strings.HasSuffix(r.DashboardURL(), "/?token="+tok) {
		t.Fatalf("token %q, URL %q", tok, r.DashboardURL())
	}
	_, port, _ := strings.Cut(r.HTTPAddr(), "]:")
	if port == "" {
		_, port, _ = strings.Cut(r.HTTPAddr(), ":")
	}
	if code, body := httpGet(t, "http://127.0.0.1:"+port+"/api/snapshot"); code != 200 {
		t.Errorf("loopback client refused: %d %s", code, body)
	}
}

func TestDashboardBadAddress(t *testing.T) {
	sc := defaultScenario(t)
	_, err := Start(context.Background(), UpOptions{Scenario: sc, Seed: 1, CTIAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1", HoldTraffic: true, NoController: true})
	if err == nil || !strings.Contains(err.Error(), "--http-addr") || !strings.Contains(err.Error(), `"127.0.0.1"`) {
		t.Fatalf("Start with --http-addr 127.0.0.1: %v", err)
	}
}

// `up` judges controller.alerts on the running centre (the default
// scenario has the default thresholds on): the judging runs on the loop
// next to the traffic, and a quiet centre shows no alert.
func TestLiveAlertsAreJudged(t *testing.T) {
	old := liveAlertEvery
	liveAlertEvery = 20 * time.Millisecond
	defer func() { liveAlertEvery = old }()
	sc := defaultScenario(t)
	if !sc.AlertsConfig().Any() {
		t.Fatal("the default scenario has no alert on")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := Start(ctx, UpOptions{Scenario: sc, Seed: 1, CTIAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Stop()
	if r.alerts == nil {
		t.Fatal("no live alerts with controller.alerts on")
	}
	judged := make(chan int, 1)
	deadline := time.Now().Add(10 * time.Second)
	for {
		r.loop.Post(func(time.Time) { judged <- len(r.alerts.ev.Active()) })
		n := <-judged
		s, err := r.Snapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(s.Alerts) != n {
			t.Fatalf("snapshot shows %d alerts, the evaluator has %d active", len(s.Alerts), n)
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// The agent desktop is served on the dashboard's server at /desktop/,
// behind the same loopback-or-token rule.
func TestDesktopMountedOnDashboard(t *testing.T) {
	sc := defaultScenario(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var env DesktopEnv
	mk := func(e DesktopEnv) (http.Handler, func(), error) {
		env = e
		h, err := desktop.New(desktop.Config{CTIAddr: e.CTIAddr, PeripheralID: e.PeripheralID})
		if err != nil {
			return nil, nil, err
		}
		return h, h.Close, nil
	}
	r, err := Start(ctx, UpOptions{Scenario: sc, Seed: 1, CTIAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", HoldTraffic: true, NoController: true, Desktop: mk})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Stop()
	if env.CTIAddr != r.addr || env.PeripheralID != sc.ICM.PeripheralID {
		t.Errorf("desktop built for %s peripheral %d, want %s %d", env.CTIAddr, env.PeripheralID, r.addr, sc.ICM.PeripheralID)
	}
	if env.DeskAgents == nil || len(env.DeskAgents) != 0 {
		t.Errorf("desktop agents of a scenario without a desktop group: %#v, want none (not nil: nil would let every agent in)", env.DeskAgents)
	}
	code, body := httpGet(t, "http://"+r.HTTPAddr()+"/desktop/")
	if code != 200 || !strings.Contains(strings.ToLower(body), "<html") {
		t.Fatalf("GET /desktop/: %d %.200s", code, body)
	}
}
