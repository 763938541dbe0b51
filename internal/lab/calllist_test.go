package lab

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ipcclab/ipcclab/controller/campaign"
	"github.com/ipcclab/ipcclab/protocol/cti"
	"github.com/ipcclab/ipcclab/scenarios"
)

// dialWire follows the campaign calls on the controller's CTI link: every
// MAKE_PREDICTIVE_CALL_REQ (number, time), the call it became, how it
// failed, when it was answered on a port and when it ended, and the
// BEGIN_CALL events of the calls.
type dialWire struct {
	ports    map[string]bool
	dials    []*wireDial
	byInvoke map[uint32]*wireDial
	byCall   map[uint32]*wireDial
	begun    []string // BEGIN_CALL DialedNumbers
	err      error
}

type wireDial struct {
	at        time.Time // the controller's decision: sent 1 ms before the server got it
	number    string
	origin    string // the originating device: a port, or an agent's phone
	invoke    uint32
	call      uint32
	refused   bool
	failedAt  time.Time
	cause     cti.EventCause
	portAt    time.Time // live answer on the port
	transfer  bool      // TRANSFER_CALL_REQ sent for it
	agentAt   time.Time // established at an agent
	endedAt   time.Time
	abandoned bool // answered, never with an agent
}

func newDialWire(sc *scenarios.Scenario) *dialWire {
	w := &dialWire{ports: map[string]bool{}, byInvoke: map[uint32]*wireDial{}, byCall: map[uint32]*wireDial{}}
	for _, p := range sc.Outbound.DialerPorts.Extensions() {
		w.ports[p] = true
	}
	return w
}

func (w *dialWire) frame(at time.Time, fromServer bool, f []byte) {
	m, err := cti.DecodeMessage(f, 24)
	if err != nil {
		if w.err == nil {
			w.err = err
		}
		return
	}
	switch e := m.(type) {
	case *cti.MakePredictiveCallReq:
		d := &wireDial{at: at.Add(-linkLatency), number: e.DialedNumber, origin: e.OriginatingDeviceID, invoke: e.InvokeID}
		w.dials = append(w.dials, d)
		w.byInvoke[e.InvokeID] = d
	case *cti.MakePredictiveCallConf:
		if d := w.byInvoke[e.InvokeID]; d != nil {
			d.call = e.NewConnectionCallID
			w.byCall[d.call] = d
		}
	case *cti.ControlFailureConf:
		if d := w.byInvoke[e.InvokeID]; d != nil {
			d.refused, d.endedAt = true, at
		}
	case *cti.FailureConf:
		if d := w.byInvoke[e.InvokeID]; d != nil {
			d.refused, d.endedAt = true, at
		}
	case *cti.BeginCallEvent:
		w.begun = append(w.begun, e.DialedNumber)
	case *cti.CallFailedEvent:
		if d := w.byCall[e.ConnectionCallID]; d != nil && d.failedAt.IsZero() {
			d.failedAt, d.cause = at, e.EventCause
		}
	case *cti.CallEstablishedEvent:
		d := w.byCall[e.ConnectionCallID]
		switch {
		case d == nil || e.AnsweringDeviceID == d.number:
		case w.ports[e.AnsweringDeviceID]:
			d.portAt = at
		case d.agentAt.IsZero():
			d.agentAt = at
		}
	case *cti.TransferCallReq:
		if d := w.byCall[e.ActiveConnectionCallID]; d != nil {
			d.transfer = true
		}
	case *cti.EndCallEvent:
		if d := w.byCall[e.ConnectionCallID]; d != nil && d.endedAt.IsZero() {
			d.endedAt = at
			d.abandoned = !d.portAt.IsZero() && (d.agentAt.IsZero() || d.agentAt.Sub(d.portAt) > 2*time.Second)
		}
	}
}

// inFlight counts the calls dialing or waiting for an agent at t, as pool
// mode counts them: placed, not failed or ended, not with an agent, and
// not past 2 s on the port without a transfer (those are abandoned and
// hear the safe-harbour message).
func (w *dialWire) inFlight(t time.Time) int {
	n := 0
	for _, d := range w.dials {
		if !d.at.Before(t) || d.refused || (!d.failedAt.IsZero() && !d.failedAt.After(t)) || (!d.endedAt.IsZero() && !d.endedAt.After(t)) ||
			(!d.agentAt.IsZero() && !d.agentAt.After(t)) {
			continue
		}
		if !d.portAt.IsZero() && d.portAt.Before(t) && !d.transfer && t.Sub(d.portAt) > 2*time.Second {
			continue
		}
		n++
	}
	return n
}

// listOf reads a call list file: number → time zone.
func listOf(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	zones := map[string]string{}
	for _, r := range rows[1:] {
		phone, err := campaign.NormalizePhone(r[0])
		if err != nil {
			continue // a bad row: never imported
		}
		tz := r[1]
		if tz == "" {
			if tz, err = campaign.RegionZone(r[2]); err != nil {
				continue
			}
		}
		if _, err := campaign.LoadZone(tz); err != nil {
			continue
		}
		zones[phone] = tz
	}
	return zones
}

func blocked(dnc []string, number string) bool {
	for _, s := range dnc {
		e, err := campaign.ParseDNC(s)
		if err != nil {
			continue
		}
		if number == e.Digits || (e.Prefix && strings.HasPrefix(number, e.Digits)) {
			return true
		}
	}
	return false
}

// checkCompliance checks what the wire shows against the list and the
// campaign's rules: nothing dialed off the list, to a DNC number or outside
// the customer's local calling hours; a redial only after the retry delay of
// the previous attempt's outcome, and never after a connect or an abandon
// (the 72 h lockout). It returns the number of redials, and of those made
// within 2 minutes after their delay.
func checkCompliance(t *testing.T, sc *scenarios.Scenario, w *dialWire, zones map[string]string, hours campaign.CallingHours) (redials, timely int) {
	t.Helper()
	if w.err != nil {
		t.Fatal(w.err)
	}
	if len(w.dials) == 0 {
		t.Fatal("nothing dialed")
	}
	delay := map[cti.EventCause]time.Duration{cti.CECBusy: sc.Outbound.Retry.Busy.Delay.D(), cti.CECCallNotAnswered: sc.Outbound.Retry.NoAnswer.Delay.D(),
		cti.CECTimeOut: sc.Outbound.Retry.NoAnswer.Delay.D()}
	last := map[string]*wireDial{}
	for _, d := range w.dials {
		tz, ok := zones[d.number]
		switch {
		case !ok:
			t.Errorf("%s: dialed %s, not a number of the list", d.at.Format(time.TimeOnly), d.number)
		case blocked(sc.Outbound.DNC, d.number):
			t.Errorf("%s: dialed %s, on the DNC list", d.at.Format(time.TimeOnly), d.number)
		default:
			loc, _ := campaign.LoadZone(tz)
			if !campaign.InWindow(d.at, loc, hours) {
				t.Errorf("%s: dialed %s at %s local time (%s), outside the calling hours", d.at.Format(time.TimeOnly), d.number, d.at.In(loc).Format("Mon 15:04:05"), tz)
			}
		}
		if prev := last[d.number]; prev != nil {
			redials++
			switch {
			case !prev.agentAt.IsZero() && !prev.abandoned:
				t.Errorf("%s: redialed %s after it was connected", d.at.Format(time.TimeOnly), d.number)
			case prev.abandoned:
				t.Errorf("%s: redialed %s %v after an abandoned call (72 h lockout)", d.at.Format(time.TimeOnly), d.number, d.at.Sub(prev.endedAt))
			case !prev.failedAt.IsZero():
				want := delay[prev.cause]
				if want == 0 {
					want = sc.Outbound.Retry.Failed.Delay.D()
				}
				if gap := d.at.Sub(prev.failedAt); gap < want {
					t.Errorf("%s: redialed %s %v after it failed with cause %v, want ≥ %v", d.at.Format(time.TimeOnly), d.number, gap, prev.cause, want)
				} else if gap < want+2*time.Minute {
					timely++
				}
			}
		}
		last[d.number] = d
	}
	for _, n := range w.begun {
		if blocked(sc.Outbound.DNC, n) {
			t.Errorf("BEGIN_CALL to %s, on the DNC list", n)
		}
	}
	return redials, timely
}

func callListScenario(t *testing.T) *scenarios.Scenario {
	t.Helper()
	sc, err := scenarios.Load("testdata/calllist.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// The controller dials a real call list, in pool mode and in agent mode:
// customers in five time zones are called only inside 09:00-21:00 of
// their own clock, no DNC number (exact, formatted or by prefix) is ever
// dialed, failed calls are retried after their outcome's delay, connected
// and abandoned ones are not, and bad rows of the file are reported by
// line.
func TestCallListCompliance(t *testing.T) {
	for _, tc := range []struct {
		mode string
		seed uint64
	}{{scenarios.PacingPool, 1}, {scenarios.PacingPool, 2}, {scenarios.PacingAgent, 1}} {
		t.Run(fmt.Sprintf("%s seed %d", tc.mode, tc.seed), func(t *testing.T) {
			sc := callListScenario(t)
			sc.Controller.Pacing.Mode = tc.mode
			w := newDialWire(sc)
			rep, err := Simulate(context.Background(), SimOptions{Scenario: sc, Seed: tc.seed, Duration: 8 * time.Hour, Tap: w.frame})
			if err != nil {
				t.Fatal(err)
			}
			l := rep.Outbound.List
			if l == nil {
				t.Fatal("no list report")
			}
			t.Logf("%d dials, list %+v, outbound %d attempts %d connects %d busy %d no answer", len(w.dials), *l,
				rep.Outbound.Attempts, rep.Outbound.Connects, rep.Outbound.Busy, rep.Outbound.NoAnswer)
			if l.Imported != 72 || len(l.Rejected) != 2 || !strings.HasPrefix(l.Rejected[0], "line 9: bad phone") ||
				!strings.HasPrefix(l.Rejected[1], `line 21: unknown time zone "Mars/Olympus_Mons"`) {
				t.Errorf("import: %+v", *l)
			}
			// 442079461003, 442079461005, 12125551002 and the ten Tokyo
			// numbers of 8131234100*.
			if l.DNC != 13 || l.Status["dnc"] != 13 {
				t.Errorf("DNC records %d (status %v), want 13", l.DNC, l.Status)
			}
			zones := listOf(t, sc.ListPath())
			hours, _ := campaign.ParseHours(sc.Outbound.CallingHours)
			redials, timely := checkCompliance(t, sc, w, zones, hours)
			if redials == 0 || timely == 0 {
				t.Errorf("%d records retried, %d within 2 min after their delay: want retries, on time", redials, timely)
			}
			for _, d := range w.dials {
				if port := w.ports[d.origin]; port != (tc.mode == scenarios.PacingPool) {
					t.Fatalf("%s mode dialed from %s", tc.mode, d.origin)
				}
			}
			if l.Attempts != len(w.dials) {
				t.Errorf("the journal holds %d attempts, the wire shows %d dials", l.Attempts, len(w.dials))
			}
			// Who was called: London (from 09:00 UTC), Kolkata (until
			// 15:30 UTC), New York (from 14:00 UTC), not Los Angeles (09:00
			// there is 17:00 UTC, after the run) nor Tokyo (21:00 there is
			// 12:00 UTC; all but two Tokyo numbers are DNC, and the two
			// are called before noon UTC).
			byZone := map[string]int{}
			for _, d := range w.dials {
				byZone[zones[d.number]]++
			}
			if byZone["Europe/London"] == 0 || byZone["Asia/Kolkata"] == 0 || byZone["America/New_York"] == 0 || byZone["America/Los_Angeles"] != 0 {
				t.Errorf("dials by zone %v", byZone)
			}
		})
	}
}

// The same run twice is the same run: the store, on the loop, changes
// nothing of the determinism.
func TestCallListDeterministic(t *testing.T) {
	render := func() string {
		rep, err := Simulate(context.Background(), SimOptions{Scenario: callListScenario(t), Seed: 5, Duration: 4 * time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		rep.WallSeconds = 0
		b, _ := json.Marshal(rep)
		return string(b)
	}
	if a, b := render(), render(); a != b {
		t.Fatalf("two runs differ:\n%s\n%s", a, b)
	}
}

// A generated list (outbound.list.generate) over several zones, a DNC
// prefix covering part of it.
func TestGeneratedCallList(t *testing.T) {
	sc := callListScenario(t)
	sc.Outbound.List = &scenarios.CallList{Generate: &scenarios.GenerateList{Count: 3000, Seed: 9,
		TimeZones: []string{"Europe/London", "Europe/Lisbon", "Asia/Kolkata", "America/New_York", "Asia/Tokyo"}}}
	sc.Outbound.DNC = []string{"15551*", "15552*"}
	sc.Agents[1].Count = 20
	w := newDialWire(sc)
	rep, err := Simulate(context.Background(), SimOptions{Scenario: sc, Seed: 1, Duration: 8 * time.Hour, Tap: w.frame})
	if err != nil {
		t.Fatal(err)
	}
	l := rep.Outbound.List
	t.Logf("%d dials; list %+v; %.2fs wall", len(w.dials), *l, rep.WallSeconds)
	if l.Imported != 3000 || l.DNC < 400 || l.DNC > 800 {
		t.Errorf("list %+v: want 3000 imported, about a fifth DNC", *l)
	}
	hours, _ := campaign.ParseHours(sc.Outbound.CallingHours)
	checkCompliance(t, sc, w, generatedZones(t, sc), hours)
}

// generatedZones is the time zone of each number of the scenario's
// generated list, as the lab generates it.
func generatedZones(t *testing.T, sc *scenarios.Scenario) map[string]string {
	t.Helper()
	g := sc.Outbound.List.Generate
	var list strings.Builder
	if err := campaign.GenerateCSV(&list, campaign.GenerateConfig{Count: g.Count, Seed: g.Seed, Prefix: sc.Outbound.NumberPrefix,
		TimeZones: g.TimeZones}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "generated.csv")
	if err := os.WriteFile(path, []byte(list.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return listOf(t, path)
}

// A list that cannot be read stops the run before it starts, naming the
// key; scenarios.Load names the line.
func TestCallListMissingFile(t *testing.T) {
	dir := t.TempDir()
	b, err := os.ReadFile("testdata/calllist.yaml")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(b), "list: calllist.csv", "list: nowhere.csv", 1)
	path := filepath.Join(dir, "s.yaml")
	os.WriteFile(path, []byte(text), 0o644)
	_, err = scenarios.Load(path)
	if err == nil || !strings.Contains(err.Error(), "outbound.list: cannot read the call list") || !strings.Contains(err.Error(), "s.yaml:") {
		t.Errorf("Load: %v", err)
	}
	sc, err := scenarios.Parse(path, []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	sc.BaseDir = dir
	_, err = Simulate(context.Background(), SimOptions{Scenario: sc, Seed: 1, Duration: time.Hour})
	if err == nil || !strings.Contains(err.Error(), "outbound.list") || !strings.Contains(err.Error(), "nowhere.csv") {
		t.Errorf("Simulate: %v", err)
	}
	for _, tc := range []struct {
		change func(*scenarios.Scenario)
		key    string
	}{
		{func(s *scenarios.Scenario) { s.Outbound.DNC = []string{"12*34"} }, "outbound.dnc[0]"},
		{func(s *scenarios.Scenario) { s.Outbound.CallingHours = "21:00-09:00" }, "outbound.calling_hours"},
		{func(s *scenarios.Scenario) {
			s.Outbound.UKOfcom = true
			s.Outbound.Retry.Abandoned = &scenarios.RetryRule{Delay: scenarios.Duration(time.Hour)}
		}, "outbound.retry.abandoned"},
		{func(s *scenarios.Scenario) {
			s.Outbound.List = &scenarios.CallList{Generate: &scenarios.GenerateList{Count: 5, TimeZones: []string{"Mars/Base"}}}
		}, "outbound.list.generate"},
	} {
		sc := callListScenario(t)
		tc.change(sc)
		if _, err := Simulate(context.Background(), SimOptions{Scenario: sc, Seed: 1, Duration: time.Hour}); err == nil || !strings.Contains(err.Error(), tc.key+":") {
			t.Errorf("%s: %v", tc.key, err)
		}
	}
}

// A campaign changed while the controller runs changes what it does at
// its next decision.
func TestCampaignChangeMidRun(t *testing.T) {
	big := func() *scenarios.Scenario {
		sc := callListScenario(t)
		sc.Outbound.List = &scenarios.CallList{Generate: &scenarios.GenerateList{Count: 4000, Seed: 3,
			TimeZones: []string{"Europe/London", "America/New_York"}}}
		sc.Outbound.DNC = nil
		sc.Agents[1].Count = 20
		return sc
	}
	start := big().StartTime()

	t.Run("max_in_flight", func(t *testing.T) {
		sc := big()
		change := start.Add(3 * time.Hour)
		w := newDialWire(sc)
		_, err := Simulate(context.Background(), SimOptions{Scenario: sc, Seed: 1, Duration: 5 * time.Hour, Tap: w.frame,
			At: []SimAction{{After: 3 * time.Hour, Do: func(s *SimContext) error {
				return s.UpdateCampaign(func(c *campaign.Campaign) { c.MaxInFlight = 3 })
			}}}})
		if err != nil {
			t.Fatal(err)
		}
		peakBefore, after, overCap := 0, 0, 0
		for _, d := range w.dials {
			n := w.inFlight(d.at)
			if d.at.Before(change) {
				peakBefore = max(peakBefore, n+1)
				continue
			}
			after++
			if n >= 3 {
				overCap++
				t.Errorf("%s: dialed with %d calls in flight after max_in_flight became 3", d.at.Format(time.TimeOnly), n)
			}
		}
		t.Logf("peak in flight before the change %d; %d dials after it", peakBefore, after)
		if peakBefore <= 3 {
			t.Errorf("the campaign never had more than %d calls in flight before the change: the test shows nothing", peakBefore)
		}
		if after == 0 {
			t.Error("nothing dialed after the change")
		}
	})

	t.Run("calling_hours", func(t *testing.T) {
		// At 12:00 UTC the hours narrow from 09:00-21:00 to 09:00-11:00:
		// London (GMT in January) is past 11:00 already and must not be
		// dialed from the next decision on; New York is dialed from 14:00
		// to 16:00 UTC, its new 09:00-11:00.
		sc := big()
		narrowed := start.Add(4 * time.Hour)
		w := newDialWire(sc)
		_, err := Simulate(context.Background(), SimOptions{Scenario: sc, Seed: 1, Duration: 9 * time.Hour, Tap: w.frame,
			At: []SimAction{{After: 4 * time.Hour, Do: func(s *SimContext) error {
				return s.UpdateCampaign(func(c *campaign.Campaign) { c.CallingHours, _ = campaign.ParseHours("09:00-11:00") })
			}}}})
		if err != nil {
			t.Fatal(err)
		}
		hours, _ := campaign.ParseHours("09:00-11:00")
		listZones := generatedZones(t, sc)
		zones := map[string]int{}
		var outsideBefore, after int
		for _, d := range w.dials {
			tz := listZones[d.number]
			loc, _ := campaign.LoadZone(tz)
			if d.at.Before(narrowed) {
				if !campaign.InWindow(d.at, loc, hours) {
					outsideBefore++
				}
				continue
			}
			after++
			zones[tz]++
			if !campaign.InWindow(d.at, loc, hours) {
				t.Errorf("%s: dialed %s after the hours narrowed, outside them", d.at.Format(time.TimeOnly), d.number)
			}
		}
		t.Logf("%d dials before the change outside the narrowed hours; after it %d, by zone %v", outsideBefore, after, zones)
		if outsideBefore == 0 || zones["America/New_York"] == 0 {
			t.Errorf("the test shows nothing: %d dials outside the new hours before the change, %d New York dials after", outsideBefore, zones["America/New_York"])
		}
	})

	t.Run("a bad change stops the run", func(t *testing.T) {
		_, err := Simulate(context.Background(), SimOptions{Scenario: big(), Seed: 1, Duration: time.Hour,
			At: []SimAction{{After: time.Minute, Do: func(s *SimContext) error {
				return s.UpdateCampaign(func(c *campaign.Campaign) { c.LinesPerAgent = 2 }) // predictive has no level
			}}}})
		if err == nil || !strings.Contains(err.Error(), "LinesPerAgent") {
			t.Errorf("%v", err)
		}
	})
}

// UK mode: the pool report's rate is the AM-adjusted one over 24 h, and an
// abandoned number is not called again (72 h).
func TestUKOfcomCampaign(t *testing.T) {
	sc := callListScenario(t)
	sc.Outbound.UKOfcom = true
	sc.Outbound.List = &scenarios.CallList{Generate: &scenarios.GenerateList{Count: 4000, Seed: 4, TimeZones: []string{"Europe/London"}}}
	sc.Outbound.DNC = nil
	sc.Agents[1].Count = 20
	sc.Controller.Pacing.Strategy = "ratio-1.5" // abandons enough to see the lockout
	w := newDialWire(sc)
	rep, err := Simulate(context.Background(), SimOptions{Scenario: sc, Seed: 1, Duration: 8 * time.Hour, Tap: w.frame})
	if err != nil {
		t.Fatal(err)
	}
	p := rep.Outbound.Pool
	if p == nil || !p.UKOfcom {
		t.Fatalf("pool report %+v", p)
	}
	abandoned := 0
	for _, d := range w.dials {
		if d.abandoned {
			abandoned++
		}
	}
	t.Logf("pool %+v; %d abandoned on the wire", *p, abandoned)
	if p.Abandoned == 0 || abandoned == 0 {
		t.Fatal("no abandoned call: the lockout is not exercised")
	}
	// No machines are identified on the CTI wire, so the UK rate is the
	// plain one over the day.
	if want := float64(p.Abandoned) / float64(p.LiveAnswered); p.AbandonRate < want-1e-4 || p.AbandonRate > want+1e-4 {
		t.Errorf("UK rate %v, want %v", p.AbandonRate, want)
	}
	hours, _ := campaign.ParseHours(sc.Outbound.CallingHours)
	checkCompliance(t, sc, w, generatedZones(t, sc), hours) // no redial after an abandon
}

// In real time, the campaign API changes the running controller: a PATCH
// reaches it before it is saved, a bad one is refused with the field named
// and the API keeps serving, and widened hours get the list dialed.
func TestCampaignAPIRealTime(t *testing.T) {
	sc := callListScenario(t)
	sc.Outbound.CallingHours = "00:00-00:01" // nobody callable until the PATCH
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	r, err := Start(ctx, UpOptions{Scenario: sc, Seed: 1, CTIAddr: "127.0.0.1:0", CTIAddrB: "", CampaignAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Stop()
	_, id := r.Campaign()
	url := fmt.Sprintf("http://%s/campaigns/%d", r.CampaignAPIAddr(), id)
	patch := func(body string) (int, map[string]any) {
		req, _ := http.NewRequest("PATCH", url, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	if code, out := patch(`{"max_in_flight": 0.5}`); code != 400 || out["field"] != "max_in_flight" {
		t.Errorf("bad PATCH: %d %v", code, out)
	}
	if code, out := patch(`{"lines_per_agent": 2}`); code != 400 || out["field"] != "lines_per_agent" {
		t.Errorf("lines_per_agent on predictive: %d %v", code, out)
	}
	if code, out := patch(`{"max_in_flight": 5, "calling_hours": "00:00-24:00", "abandon_limit": 0.02}`); code != 200 {
		t.Fatalf("PATCH: %d %v", code, out)
	}
	l, err := r.Controller().Limits()
	if err != nil || l.MaxInFlight != 5 || l.AbandonLimit != 0.02 {
		t.Errorf("controller limits %s %v", l, err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for r.Report().Outbound.Attempts == 0 && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
	if r.Report().Outbound.Attempts == 0 {
		t.Error("nothing dialed after the hours were widened")
	}
	resp, err := http.Get(url)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET after the changes: %v %v", resp, err)
	}
	resp.Body.Close()
}

// The campaign API follows the dashboard's rule: off loopback its clients
// need the token, generated when none is given (and printed by up), or the
// one given.
func TestCampaignAPIOffLoopbackNeedsToken(t *testing.T) {
	sc := callListScenario(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := Start(ctx, UpOptions{Scenario: sc, Seed: 1, CTIAddr: "127.0.0.1:0", CTIAddrB: "", CampaignAddr: "0.0.0.0:0"})
	if err != nil {
		t.Fatalf("Start with the campaign API on 0.0.0.0 and no token: %v", err)
	}
	tok := r.HTTPToken()
	r.Stop()
	if len(tok) != 32 {
		t.Fatalf("campaign API on 0.0.0.0 without --http-token: token %q, want a generated one", tok)
	}
	r, err = Start(ctx, UpOptions{Scenario: sc, Seed: 1, CTIAddr: "127.0.0.1:0", CTIAddrB: "", CampaignAddr: "0.0.0.0:0", HTTPToken: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Stop()
	if r.HTTPToken() != "s3cret" {
		t.Errorf("token %q, want the one given", r.HTTPToken())
	}
	_, id := r.Campaign()
	_, port, _ := strings.Cut(r.CampaignAPIAddr(), "]:")
	if port == "" {
		_, port, _ = strings.Cut(r.CampaignAPIAddr(), ":")
	}
	// Loopback clients are served as before.
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%s/campaigns/%d", port, id))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET from loopback: %d", resp.StatusCode)
	}
}
