package centre

import (
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"testing"
	"time"

	"github.com/ipcclab/ipcclab/emulator/agents"
	"github.com/ipcclab/ipcclab/emulator/icm"
	"github.com/ipcclab/ipcclab/emulator/pg"
	"github.com/ipcclab/ipcclab/emulator/pstn"
	"github.com/ipcclab/ipcclab/internal/sim"
)

func ln(mean time.Duration, cv float64) pstn.Dist {
	return pstn.Dist{Shape: pstn.LogNormal, Mean: mean, CV: cv}
}

// blendedConfig is a small day with everything switched on: two skill
// groups, a call type queued to both, patience, RONA, wrap-up, blended
// agents and outbound customers.
func blendedConfig() Config {
	return Config{
		AbandonCallWaitTime: 5 * time.Second,
		RingNoAnswerTimeout: 8 * time.Second,
		TransferDelay:       200 * time.Millisecond,
		SkillGroups: []icm.SkillGroupConfig{
			{Number: 100, ID: 5100, Name: "Sales", ServiceLevelThreshold: 20 * time.Second, ServiceLevelType: 2},
			{Number: 200, ID: 5200, Name: "Service", ServiceLevelThreshold: 30 * time.Second, ServiceLevelType: 1},
		},
		CallTypes: []CallType{
			{ID: 1, Name: "SalesIn", DialedNumber: "8005550100", ServiceLevelThreshold: 20 * time.Second, ServiceLevelType: 2,
				Targets:  []icm.Target{{SkillGroup: 100, Priority: 5}, {SkillGroup: 200, Priority: 3}},
				Arrivals: pstn.Profile{Segment: 30 * time.Minute, PerHour: []float64{60, 120, 90}}},
			{ID: 2, Name: "ServiceIn", DialedNumber: "8005550200", ServiceLevelThreshold: 30 * time.Second, ServiceLevelType: 3,
				Targets:  []icm.Target{{SkillGroup: 200, Priority: 6}},
				Arrivals: pstn.Profile{PerHour: []float64{50}}},
		},
		Agents: []AgentGroup{
			{Name: "sales", Role: agents.RoleInbound, Count: 4, FirstAgentID: 1001, FirstExtension: 2001, SkillGroups: []uint32{100},
				AnswerDelay: pstn.Dist{Shape: pstn.Exponential, Mean: 3 * time.Second}, WrapUp: ln(20*time.Second, 0.5),
				RONARecovery: pstn.Dist{Mean: 15 * time.Second}},
			{Name: "service", Role: agents.RoleInbound, Count: 3, FirstAgentID: 1101, FirstExtension: 2101, SkillGroups: []uint32{200},
				AnswerDelay: ln(2*time.Second, 0.5), WrapUp: ln(15*time.Second, 0.5)},
			{Name: "blended", Role: agents.RoleBlended, Count: 3, FirstAgentID: 1201, FirstExtension: 2201, SkillGroups: []uint32{100, 200},
				AnswerDelay: pstn.Dist{Mean: time.Second}, WrapUp: pstn.Dist{Mean: 10 * time.Second}, WrapUpOutgoing: true},
			{Name: "outbound", Role: agents.RoleOutbound, Count: 2, FirstAgentID: 1301, FirstExtension: 2301, SkillGroups: []uint32{100}},
		},
		Callers:  Callers{Patience: pstn.Dist{Shape: pstn.Exponential, Mean: 90 * time.Second}, Talk: ln(150*time.Second, 0.7)},
		Outbound: Outbound{Enabled: true, Answer: 0.4, Busy: 0.15, Fail: 0.05, SetupDelay: pstn.Dist{Mean: 2 * time.Second}, RingTime: ln(8*time.Second, 0.5), Talk: ln(120*time.Second, 0.6)},
	}
}

// runDay runs the blended config for hours with a toy controller: blended
// agent 1201 is lent to ICM (AVAILABLE), the other two and the outbound-only
// agents' lines dial predictively (two calls each) every 20 s while idle. It
// returns the event transcript and the report.
func runDay(t *testing.T, seed uint64, hours int) ([]string, Report, *Centre) {
	t.Helper()
	loop := sim.NewLoop(day.Add(8 * time.Hour))
	c, err := New(blendedConfig(), loop, seed)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	c.Subscribe(func(e pg.Event) { lines = append(lines, e.String()) })
	c.Start()
	if err := c.PG().SetAgentState(pg.SetAgentStateRequest{AgentID: "1201", State: pg.StateAvailable}); err != nil {
		t.Fatal(err)
	}
	n := 0
	var tick func(time.Time)
	tick = func(now time.Time) {
		for _, id := range []string{"1202", "1203"} {
			st, _ := c.PG().QueryAgentState(pg.AgentSelector{AgentID: id})
			if st.State == pg.StateNotReady && st.CallID == 0 {
				for range 2 {
					n++
					if _, err := c.PG().MakePredictiveCall(pg.PredictiveCallRequest{DialedNumber: fmt.Sprintf("1555%06d", n),
						OriginatingDevice: st.Extension, RingTimeout: 20 * time.Second}); err != nil {
						t.Errorf("predictive: %v", err)
					}
				}
			}
		}
		for _, l := range c.PG().Lines() {
			if l.CallID == 0 {
				for range 2 {
					n++
					if _, err := c.PG().MakePredictiveCall(pg.PredictiveCallRequest{DialedNumber: fmt.Sprintf("1555%06d", n),
						OriginatingDevice: l.Instrument, RingTimeout: 20 * time.Second}); err != nil {
						t.Errorf("predictive from a line: %v", err)
					}
				}
			}
		}
		sim.After(loop, 20*time.Second, tick)
	}
	sim.After(loop, time.Second, tick)
	loop.RunVirtual(loop.Now().Add(time.Duration(hours) * time.Hour))
	return lines, c.Report(), c
}

func digest(lines []string) uint64 {
	h := fnv.New64a()
	for _, l := range lines {
		h.Write([]byte(l))
		h.Write([]byte{'\n'})
	}
	return h.Sum64()
}

// TestDeterminism: the same seed gives the identical event transcript and
// report; another seed does not.
func TestDeterminism(t *testing.T) {
	a, ra, ca := runDay(t, 42, 3)
	b, rb, _ := runDay(t, 42, 3)
	c, _, _ := runDay(t, 43, 3)
	if len(a) != len(b) || digest(a) != digest(b) {
		for i := range min(len(a), len(b)) {
			if a[i] != b[i] {
				t.Fatalf("seed 42: transcripts differ at event %d:\n%s\n%s", i, a[i], b[i])
			}
		}
		t.Fatalf("seed 42: transcripts differ in length %d vs %d", len(a), len(b))
	}
	if fmt.Sprintf("%+v", ra) != fmt.Sprintf("%+v", rb) {
		t.Fatalf("seed 42: reports differ")
	}
	if digest(a) == digest(c) {
		t.Fatal("seeds 42 and 43 gave the same transcript")
	}
	// Sanity of the run itself.
	in, out := ra.Inbound, ra.Outbound
	t.Logf("seed 42, 3 h: %d events; inbound offered %d answered %d abandoned %d (short %d) SL %.1f %% ASA %.1f s; outbound attempts %d connects %d abandoned %d busy %d no-answer %d; occupancy %.1f %%, %d lines %.1f %%",
		len(a), in.Offered, in.Answered, in.Abandoned, in.ShortCalls, 100*in.ServiceLevel, in.ASASeconds,
		out.Attempts, out.Connects, out.Abandoned, out.Busy, out.NoAnswer, 100*ra.Agents.Occupancy,
		ra.Agents.Lines, 100*ra.Agents.LineOccupancy)
	if in.Offered < 200 || in.Answered == 0 || in.Abandoned == 0 || out.Attempts == 0 || out.Connects == 0 || out.Abandoned == 0 {
		t.Fatalf("implausible run: %+v", ra)
	}
	if got := in.Answered + in.Abandoned; got > in.Offered || in.Offered-got > 40 {
		t.Fatalf("offered %d, answered+abandoned %d: calls lost", in.Offered, got)
	}
	if len(in.HalfHours) != 6 {
		t.Fatalf("%d half hours, want 6", len(in.HalfHours))
	}
	if st := ca.AgentModel().Stats(); st.CommandErrors != 0 || st.LineCalls == 0 {
		t.Fatalf("agent command errors: %d (last %v), line calls %d", st.CommandErrors, st.LastError, st.LineCalls)
	}
	if ra.Agents.Lines != 2 || ra.Agents.LineOccupancy <= 0 || ra.Agents.LineOccupancy > 1 {
		t.Fatalf("lines %d occupancy %v", ra.Agents.Lines, ra.Agents.LineOccupancy)
	}
	// Every call the PG began, it ended (per connection).
	open := map[string]int{}
	for _, l := range a {
		f := strings.Fields(l)
		switch f[1] {
		case "BEGIN_CALL_EVENT":
			open[f[2]]++
		case "END_CALL_EVENT":
			open[f[2]]--
		}
	}
	live := 0
	for _, v := range open {
		live += v
		if v < 0 || v > 1 {
			t.Fatalf("BEGIN/END mismatch %v", v)
		}
	}
	if live > 20 {
		t.Fatalf("%d calls never ended", live)
	}
	s, err := ca.Router().SkillGroupStats(100)
	if err != nil || s.AgentsLoggedOn != 7 {
		t.Fatalf("skill group 100: %+v %v", s.AgentsLoggedOn, err)
	}
}

// TestInboundCallThroughTheCentre: one caller, fixed delays — the agents
// model answers after 2 s, talks 60 s, wraps up 10 s and goes Ready; the
// router counts the call answered within the threshold and handled.
func TestInboundCallThroughTheCentre(t *testing.T) {
	cfg := Config{
		SkillGroups: []icm.SkillGroupConfig{{Number: 100, ID: 5100}},
		CallTypes: []CallType{{ID: 1, DialedNumber: "100", Targets: []icm.Target{{SkillGroup: 100}},
			Arrivals: pstn.Profile{PerHour: []float64{0}}}},
		Agents: []AgentGroup{{Name: "a", Role: agents.RoleInbound, Count: 1, FirstAgentID: 1, FirstExtension: 2001, SkillGroups: []uint32{100},
			AnswerDelay: pstn.Dist{Mean: 2 * time.Second}, Talk: pstn.Dist{Mean: time.Minute}, WrapUp: pstn.Dist{Mean: 10 * time.Second}}},
	}
	loop := sim.NewLoop(day.Add(9 * time.Hour))
	c, err := New(cfg, loop, 1)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	c.Subscribe(func(e pg.Event) {
		f := strings.Fields(e.String())
		got = append(got, f[0]+" "+f[1])
	})
	c.Start()
	loop.RunVirtual(loop.Now().Add(time.Second))
	c.PSTN().Arrive(0)
	loop.RunVirtual(loop.Now().Add(5 * time.Minute))
	want := []string{
		"09:00:00.000 AGENT_STATE_EVENT", // LOGIN
		"09:00:00.000 AGENT_STATE_EVENT", // NOT_READY
		"09:00:00.000 AGENT_STATE_EVENT", // AVAILABLE
		"09:00:01.000 AGENT_PRE_CALL_EVENT",
		"09:00:01.000 AGENT_STATE_EVENT", // RESERVED
		"09:00:01.000 BEGIN_CALL_EVENT",
		"09:00:01.000 CALL_DELIVERED_EVENT",
		"09:00:03.000 CALL_ESTABLISHED_EVENT",
		"09:00:03.000 AGENT_STATE_EVENT", // TALKING
		"09:01:03.000 CALL_CONNECTION_CLEARED_EVENT",
		"09:01:03.000 CALL_CLEARED_EVENT",
		"09:01:03.000 AGENT_STATE_EVENT", // WORK_READY
		"09:01:03.000 END_CALL_EVENT",
		"09:01:13.000 AGENT_STATE_EVENT", // AVAILABLE
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	k, _ := c.Router().CallTypeCounters(1, icm.Today)
	if k.CallsAnswered != 1 || k.ServiceLevelCalls != 1 || k.HandledCalls != 1 || k.AnswerWaitTime != 2*time.Second ||
		k.HandledCallsTalkTime != time.Minute || k.HandledCallsAfterCallTime != 10*time.Second {
		t.Fatalf("counters %+v", k)
	}
}

func TestConfigErrorsNameTheField(t *testing.T) {
	cases := []struct {
		mut  func(*Config)
		want string
	}{
		{func(c *Config) { c.Agents[1].SkillGroups = []uint32{100, 9} }, "agents[1].skill_groups[1]: unknown skill group 9"},
		{func(c *Config) { c.Agents[2].FirstAgentID = 1003 }, "agents[2].first_agent_id: agent id 1003 already used by agents[0]"},
		{func(c *Config) { c.Agents[0].Role = "robot" }, `agents[0].role: unknown role "robot" (use inbound, blended or outbound)`},
		{func(c *Config) { c.CallTypes[1].Targets[0].Priority = 11 }, "call_types[1].targets[0].priority: must be 1..10, got 11"},
		{func(c *Config) { c.CallTypes[0].Arrivals.PerHour[2] = -1 }, "call_types[0].arrivals.per_hour[2]: must be a finite rate >= 0, got -1"},
		{func(c *Config) { c.Callers.Patience.Shape = "weibull" }, `callers.patience.shape: unknown shape "weibull" (use fixed, exponential or lognormal)`},
		{func(c *Config) { c.Outbound.Busy = 0.9 }, "outbound: answer+busy+fail must not exceed 1, got 1.35"},
		{func(c *Config) { c.DialerPorts = []string{"3001", "2302"} }, "dialer_ports[1]: extension 2302 already used by agents[3]"},
		{func(c *Config) { c.DialerPorts = []string{"3001", "3002", "3001"} }, "dialer_ports[2]: extension 3001 already used by dialer_ports[0]"},
		{func(c *Config) { c.DialerPorts = []string{""} }, "dialer_ports[0]: extension required"},
	}
	for _, tc := range cases {
		cfg := blendedConfig()
		tc.mut(&cfg)
		_, err := New(cfg, sim.NewLoop(day), 1)
		if err == nil || err.Error() != tc.want {
			t.Errorf("got %v\nwant %s", err, tc.want)
		}
	}
}

// TestOutboundOnlyAgents: outbound-only agents are lines on the PG, not ICM
// agents. Their agent IDs fail QUERY_AGENT_STATE (how the controller tells
// them apart); predictive calls from their lines connect, the person talks
// for the group's talk time and hangs up, with no AGENT_STATE_EVENT ever;
// the report counts the attempts, connects and abandons.
func TestOutboundOnlyAgents(t *testing.T) {
	cfg := Config{
		SkillGroups: []icm.SkillGroupConfig{{Number: 100, ID: 5100}},
		Agents: []AgentGroup{
			{Name: "in", Role: agents.RoleInbound, Count: 1, FirstAgentID: 1001, FirstExtension: 2001, SkillGroups: []uint32{100}},
			{Name: "out", Role: agents.RoleOutbound, Count: 2, FirstAgentID: 1301, FirstExtension: 2301,
				Talk: pstn.Dist{Mean: time.Minute}, WrapUp: pstn.Dist{Mean: time.Minute}},
		},
		Outbound: Outbound{Enabled: true, Answer: 1, SetupDelay: pstn.Dist{Mean: 2 * time.Second},
			RingTime: pstn.Dist{Mean: 5 * time.Second}, Talk: pstn.Dist{Mean: 10 * time.Minute}},
	}
	loop := sim.NewLoop(day.Add(9 * time.Hour))
	c, err := New(cfg, loop, 1)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	states := map[string]int{}
	c.Subscribe(func(e pg.Event) {
		if ev, ok := e.(*pg.AgentStateEvent); ok {
			states[ev.Agent.AgentID]++
		}
		f := strings.Fields(e.String())
		got = append(got, f[0]+" "+strings.Join(f[1:3], " "))
	})
	c.Start()
	for _, id := range []string{"1301", "1302"} {
		if _, err := c.PG().QueryAgentState(pg.AgentSelector{AgentID: id}); err == nil {
			t.Fatalf("outbound-only agent %s known to ICM", id)
		} else if cf := (*pg.ControlFailure)(nil); !errors.As(err, &cf) || cf.Code != pg.CFInvalidAgentID {
			t.Fatalf("query %s: %v", id, err)
		}
	}
	if ls := c.PG().Lines(); len(ls) != 2 || ls[0].Instrument != "2301" || ls[1].Instrument != "2302" {
		t.Fatalf("lines %+v", ls)
	}
	got = nil
	id, err := c.PG().MakePredictiveCall(pg.PredictiveCallRequest{DialedNumber: "15550100", OriginatingDevice: "2301"})
	if err != nil {
		t.Fatal(err)
	}
	loop.RunVirtual(loop.Now().Add(5 * time.Minute))
	n := fmt.Sprint(id)
	want := []string{
		"09:00:00.000 BEGIN_CALL_EVENT conn=" + n + "@15550100",
		"09:00:00.000 CALL_ORIGINATED_EVENT conn=" + n + "@15550100",
		"09:00:02.000 CALL_DELIVERED_EVENT conn=" + n + "@15550100",
		"09:00:07.000 CALL_ESTABLISHED_EVENT conn=" + n + "@15550100",
		"09:00:07.000 CALL_DELIVERED_EVENT conn=" + n + "@2301",
		"09:00:07.000 CALL_ESTABLISHED_EVENT conn=" + n + "@2301",
		"09:01:07.000 CALL_CONNECTION_CLEARED_EVENT conn=" + n + "@2301", // the person hangs up after 60 s
		"09:01:07.000 CALL_CLEARED_EVENT conn=" + n + "@2301",
		"09:01:07.000 END_CALL_EVENT conn=" + n + "@15550100",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// A dialer on both lines, two calls per free line every 20 s for an
	// hour: the second answer on a busy line is abandoned.
	var tick func(time.Time)
	k := 0
	tick = func(time.Time) {
		for _, l := range c.PG().Lines() {
			if l.CallID != 0 {
				continue
			}
			for range 2 {
				k++
				if _, err := c.PG().MakePredictiveCall(pg.PredictiveCallRequest{DialedNumber: fmt.Sprintf("1555%06d", k),
					OriginatingDevice: l.Extension}); err != nil {
					t.Fatal(err)
				}
			}
		}
		sim.After(loop, 20*time.Second, tick)
	}
	tick(loop.Now())
	loop.RunVirtual(loop.Now().Add(time.Hour))
	r := c.Report()
	st := c.AgentModel().Stats()
	t.Logf("outbound %+v; line occupancy %.1f %%; agents %+v", r.Outbound, 100*r.Agents.LineOccupancy, st)
	if r.Outbound.Attempts != 1+k || r.Outbound.Connects < 40 || r.Outbound.Abandoned == 0 {
		t.Fatalf("outbound counters %+v (%d dials)", r.Outbound, 1+k)
	}
	if st.LineCalls != r.Outbound.Connects || st.CommandErrors != 0 || st.Logins != 1 {
		t.Fatalf("agents %+v, connects %d", st, r.Outbound.Connects)
	}
	// The people hung up every call but the (at most two) still talking.
	if st.HungUp < st.LineCalls-2 {
		t.Fatalf("hung up %d of %d", st.HungUp, st.LineCalls)
	}
	if states["1301"] != 0 || states["1302"] != 0 || len(states) != 1 {
		t.Fatalf("agent state events %v", states)
	}
	if r.Agents.Lines != 2 || r.Agents.LineOccupancy < 0.5 || r.Agents.LineOccupancy > 1 {
		t.Fatalf("lines %d occupancy %v", r.Agents.Lines, r.Agents.LineOccupancy)
	}
	if s, _ := c.Router().SkillGroupStats(100); s.AgentsLoggedOn != 1 {
		t.Fatalf("skill group 100 counts %d agents logged on", s.AgentsLoggedOn)
	}
}
