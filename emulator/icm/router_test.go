package icm

import (
	"math"
	"testing"
	"time"

	"github.com/ipcclab/ipcclab/emulator/pg"
	"github.com/ipcclab/ipcclab/internal/sim"
)

var nine = time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)

type rrig struct {
	t      *testing.T
	loop   *sim.Loop
	r      *Router
	agents map[uint32]pg.AgentStatus
	got    []Delivery
	halves []time.Time
}

// newRRig builds a router whose Deliver behaves like the PG: the agent goes
// RESERVED at once.
func newRRig(t *testing.T, start time.Time, cfg Config) *rrig {
	t.Helper()
	rg := &rrig{t: t, loop: sim.NewLoop(start), agents: map[uint32]pg.AgentStatus{}}
	cfg.Scheduler = rg.loop
	cfg.Deliver = func(d Delivery) error {
		rg.got = append(rg.got, d)
		st := rg.agents[d.ICMAgentID]
		st.State, st.Availability, st.CallSkillGroup, st.Direction = pg.StateReserved, pg.NotAvailable, d.SkillGroup, pg.DirectionIn
		rg.agents[d.ICMAgentID] = st
		rg.r.AgentChanged(st)
		return nil
	}
	cfg.OnHalfHour = func(at time.Time) { rg.halves = append(rg.halves, at) }
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rg.r = r
	return rg
}

func (rg *rrig) agent(id uint32, s pg.AgentState, sgs ...uint32) {
	st, ok := rg.agents[id]
	if !ok {
		st = pg.AgentStatus{AgentInfo: pg.AgentInfo{ICMAgentID: id}, LoggedOn: true, CallSkillGroup: pg.NullSkillGroup}
		for _, n := range sgs {
			st.SkillGroups = append(st.SkillGroups, pg.SkillGroupRef{Number: n})
		}
	}
	st.State, st.Availability, st.CallSkillGroup, st.Direction = s, pg.NotAvailable, pg.NullSkillGroup, pg.DirectionNone
	if s == pg.StateAvailable {
		st.Availability = pg.ICMAvailable
	}
	rg.agents[id] = st
	rg.r.AgentChanged(st)
}

func (rg *rrig) run(d time.Duration) { rg.loop.RunVirtual(rg.loop.Now().Add(d)) }

func (rg *rrig) call(id uint32, dn string) {
	rg.t.Helper()
	if _, err := rg.r.NewCall(NewCallRequest{CallID: id, DialedNumber: dn}); err != nil {
		rg.t.Fatal(err)
	}
}

func (rg *rrig) last() Delivery {
	rg.t.Helper()
	if len(rg.got) == 0 {
		rg.t.Fatal("no delivery")
	}
	return rg.got[len(rg.got)-1]
}

func twoGroups(t1, t2 SLType) Config {
	return Config{
		AbandonCallWaitTime: 5 * time.Second,
		SkillGroups: []SkillGroupConfig{
			{Number: 100, ID: 5100, Name: "Sales", ServiceLevelThreshold: 20 * time.Second, ServiceLevelType: t1},
			{Number: 200, ID: 5200, Name: "Service", ServiceLevelThreshold: 20 * time.Second, ServiceLevelType: t2},
		},
		CallTypes: []CallTypeConfig{
			{ID: 1, Name: "Sales", ServiceLevelThreshold: 20 * time.Second, ServiceLevelType: t1, DialedNumbers: []string{"100"},
				Targets: []Target{{SkillGroup: 100, Priority: 5}}},
			{ID: 2, Name: "SalesVIP", DialedNumbers: []string{"101"}, Targets: []Target{{SkillGroup: 100, Priority: 8}}},
			{ID: 3, Name: "Both", DialedNumbers: []string{"300"}, Targets: []Target{{SkillGroup: 100, Priority: 5}, {SkillGroup: 200, Priority: 5}}},
		},
	}
}

// TestSelectLAA: the Select node picks the agent available longest across
// all targets (ipcc-behaviour.md §2.1).
func TestSelectLAA(t *testing.T) {
	rg := newRRig(t, nine, twoGroups(2, 2))
	rg.agent(1, pg.StateAvailable, 100)
	rg.run(10 * time.Second)
	rg.agent(2, pg.StateAvailable, 100)
	rg.run(5 * time.Second)
	rg.agent(3, pg.StateAvailable, 200) // only in the second target
	rg.agent(1, pg.StateNotReady)
	rg.run(time.Second)
	rg.agent(1, pg.StateAvailable) // back: now the shortest available
	cases := []struct {
		dn    string
		agent uint32
		sg    uint32
	}{
		{"300", 2, 100}, // 2 has waited longest of 1,2,3
		{"300", 3, 200}, // then 3, reached through the second target
		{"100", 1, 100},
	}
	for i, c := range cases {
		rg.call(uint32(10+i), c.dn)
		d := rg.last()
		if d.ICMAgentID != c.agent || d.SkillGroup != c.sg {
			t.Fatalf("call %d: delivered to agent %d via %d, want %d via %d", i, d.ICMAgentID, d.SkillGroup, c.agent, c.sg)
		}
	}
	if rg.r.Queued() != 0 {
		t.Fatal("nothing should queue")
	}
}

// TestQueuePriorityOrder: delivery from queue takes the highest priority
// first, then the longest waiting (ipcc-behaviour.md §2.1).
func TestQueuePriorityOrder(t *testing.T) {
	rg := newRRig(t, nine, twoGroups(2, 2))
	rg.agent(1, pg.StateNotReady, 100, 200)
	calls := []struct {
		id uint32
		dn string
	}{{1, "100"}, {2, "100"}, {3, "101"}, {4, "300"}, {5, "101"}}
	for _, c := range calls {
		rg.call(c.id, c.dn)
		rg.run(time.Second)
	}
	if s, _ := rg.r.SkillGroupStats(100); s.RouterCallsQNow != 5 || s.LongestRouterCallQNow != 5 {
		t.Fatalf("queue now %d longest %d", s.RouterCallsQNow, s.LongestRouterCallQNow)
	}
	if s, _ := rg.r.SkillGroupStats(5200); s.RouterCallsQNow != 1 {
		t.Fatalf("SG 200 (by ID) queue %d", s.RouterCallsQNow)
	}
	want := []uint32{3, 5, 1, 2, 4} // priority 8 oldest first, then priority 5 oldest first
	for i, w := range want {
		rg.agent(1, pg.StateAvailable)
		rg.run(0)
		if d := rg.last(); d.CallID != w || len(rg.got) != i+1 {
			t.Fatalf("delivery %d: call %d, want %d", i, d.CallID, w)
		}
		rg.r.CallAnswered(w)
		rg.r.CallHandled(w, time.Second, 0)
	}
	if rg.r.Queued() != 0 {
		t.Fatal("queue not empty")
	}
}

// TestServiceLevelWorkedExample reproduces ipcc-behaviour.md §1.3: 100 calls
// offered, 70 answered within the threshold, 10 abandoned within it, 20 past
// it → type 1 = 77.8 %, type 2 = 70 %, type 3 = 80 %. Five short abandons
// (under the 5 s Abandon Call Wait Time) must not count.
func TestServiceLevelWorkedExample(t *testing.T) {
	for _, tc := range []struct {
		typ  SLType
		want float64
	}{{SLIgnoreAbandons, 70.0 / 90}, {SLAbandonsNegative, 0.70}, {SLAbandonsPositive, 0.80}} {
		rg := newRRig(t, nine, twoGroups(tc.typ, tc.typ))
		id := uint32(0)
		next := func() uint32 { id++; return id }
		// 70 answered within the threshold (8 s after arrival).
		rg.agent(1, pg.StateNotReady, 100)
		for range 70 {
			c := next()
			rg.call(c, "100")
			rg.run(8 * time.Second)
			rg.agent(1, pg.StateAvailable)
			rg.run(0)
			rg.r.CallAnswered(c)
			rg.r.CallHandled(c, time.Minute, 0)
			rg.agent(1, pg.StateNotReady)
		}
		// 10 abandoned within the threshold, 5 short calls.
		var ab, short []uint32
		for range 10 {
			c := next()
			ab = append(ab, c)
			rg.call(c, "100")
		}
		for range 5 {
			c := next()
			short = append(short, c)
			rg.call(c, "100")
		}
		rg.run(2 * time.Second)
		for _, c := range short {
			rg.r.CallAbandoned(c)
		}
		rg.run(10 * time.Second)
		for _, c := range ab {
			rg.r.CallAbandoned(c)
		}
		// 20 pass the threshold: 10 abandon later, 10 are answered later.
		var late []uint32
		for range 20 {
			c := next()
			late = append(late, c)
			rg.call(c, "100")
		}
		rg.run(25 * time.Second)
		mid, _ := rg.r.CallTypeCounters(1, ToHalf)
		if mid.ServiceLevelCallsOffered != 100 {
			t.Fatalf("type %d: offered %d after the threshold expired, want 100 (counted at expiry)", tc.typ, mid.ServiceLevelCallsOffered)
		}
		for _, c := range late[:10] {
			rg.r.CallAbandoned(c)
		}
		for range 10 {
			rg.agent(1, pg.StateAvailable)
			rg.run(0)
			d := rg.last()
			rg.r.CallAnswered(d.CallID)
			rg.agent(1, pg.StateNotReady)
		}
		for _, w := range []Window{To5, ToHalf, Today, Run} {
			for _, k := range []func() (Counters, error){
				func() (Counters, error) { return rg.r.CallTypeCounters(1, w) },
				func() (Counters, error) { return rg.r.SkillGroupCounters(100, w) },
			} {
				c, _ := k()
				if w == To5 {
					continue // the first calls are older than five minutes
				}
				if c.ServiceLevelCalls != 70 || c.ServiceLevelCallsOffered != 100 || c.ServiceLevelAband != 10 ||
					c.ShortCalls != 5 || c.RouterCallsAbandQ != 20 || c.CallsAnswered != 80 {
					t.Fatalf("type %d window %d: %+v", tc.typ, w, c)
				}
				if got := c.ServiceLevel(tc.typ); math.Abs(got-tc.want) > 1e-9 {
					t.Fatalf("type %d: service level %.4f, want %.4f", tc.typ, got, tc.want)
				}
			}
		}
		s, _ := rg.r.SkillGroupStats(100)
		if math.Abs(s.ServiceLevelToHalf-tc.want) > 1e-9 || s.ServiceLevelCallsToHalf != 70 || s.ServiceLevelCallsAbandToHalf != 10 ||
			s.ServiceLevelCallsOfferedToday != 100 || s.RouterCallsAbandQToHalf != 20 {
			t.Fatalf("type %d: skill group stats %+v", tc.typ, s.SkillGroupWindows)
		}
		cs, _ := rg.r.CallTypeStats(1)
		if math.Abs(cs.ServiceLevelHalf-tc.want) > 1e-9 || cs.CallsOfferedHalf != 105 {
			t.Fatalf("type %d: call type stats %+v", tc.typ, cs.CallTypeWindows)
		}
	}
	if ServiceLevelIgnoreAbandons(70, 100, 10) != 70.0/90 || ServiceLevelAbandonsNegative(70, 100, 10) != 0.7 ||
		ServiceLevelAbandonsPositive(70, 100, 10) != 0.8 {
		t.Fatal("formula functions")
	}
}

// TestTo5SlidingWindow: To5 is a rolling five minutes in 10 s steps.
func TestTo5SlidingWindow(t *testing.T) {
	rg := newRRig(t, nine, twoGroups(2, 2))
	rg.agent(1, pg.StateAvailable, 100)
	rg.call(1, "100")
	rg.r.CallAnswered(1)
	steps := []struct {
		after time.Duration
		want  uint32
	}{{0, 1}, {4*time.Minute + 50*time.Second, 1}, {10 * time.Second, 0}}
	for _, s := range steps {
		rg.run(s.after)
		st, _ := rg.r.SkillGroupStats(100)
		if st.CallsAnsweredTo5 != s.want || st.CallsAnsweredToHalf != 1 {
			t.Fatalf("at %v: To5 %d (want %d), ToHalf %d", rg.loop.Now().Sub(nine), st.CallsAnsweredTo5, s.want, st.CallsAnsweredToHalf)
		}
	}
}

// TestHalfHourAndMidnightReset: ToHalf restarts at :00 and :30 with a
// half-hour notification; Today restarts at midnight (ipcc-behaviour.md §1.4).
func TestHalfHourAndMidnightReset(t *testing.T) {
	rg := newRRig(t, nine.Add(20*time.Minute), twoGroups(2, 2))
	rg.agent(1, pg.StateAvailable, 100)
	rg.call(1, "100")
	rg.r.CallAnswered(1)
	rg.run(10*time.Minute - time.Nanosecond)
	if s, _ := rg.r.CallTypeStats(1); s.CallsAnsweredHalf != 1 || len(rg.halves) != 0 {
		t.Fatalf("before the boundary: %d, %v", s.CallsAnsweredHalf, rg.halves)
	}
	rg.run(time.Nanosecond)
	s, _ := rg.r.CallTypeStats(1)
	if s.CallsAnsweredHalf != 0 || s.CallsAnsweredToday != 1 || len(rg.halves) != 1 || !rg.halves[0].Equal(nine.Add(30*time.Minute)) {
		t.Fatalf("after 09:30: half %d today %d notifications %v", s.CallsAnsweredHalf, s.CallsAnsweredToday, rg.halves)
	}
	h := rg.r.History()
	if len(h) != 3 || h[0].CallTypeID != 1 || !h[0].Start.Equal(nine) || h[0].Counters.CallsAnswered != 1 {
		t.Fatalf("history %+v", h)
	}
	rg.run(15 * time.Hour) // to 00:30 next day
	if s, _ := rg.r.CallTypeStats(1); s.CallsAnsweredToday != 0 {
		t.Fatalf("today not reset at midnight: %d", s.CallsAnsweredToday)
	}
	if len(rg.halves) != 31 {
		t.Fatalf("%d half-hour notifications, want 31", len(rg.halves))
	}
}

// TestRONARequeue: a RONA takes the call back into the queue with the next
// RouterCallKey sequence number; the skill group counts the RONA.
func TestRONARequeue(t *testing.T) {
	rg := newRRig(t, nine, twoGroups(2, 2))
	rg.agent(1, pg.StateAvailable, 100)
	rg.call(1, "100")
	first := rg.last()
	rg.run(12 * time.Second)
	rg.agent(1, pg.StateNotReady) // the PG made it NOT_READY 32767
	rg.r.CallRONA(1)
	if rg.r.Queued() != 1 {
		t.Fatal("call not requeued")
	}
	rg.agent(2, pg.StateAvailable, 100)
	rg.run(0)
	d := rg.last()
	if d.CallID != 1 || d.ICMAgentID != 2 || d.RouterCallKey.Sequence != first.RouterCallKey.Sequence+1 {
		t.Fatalf("redelivery %+v", d)
	}
	rg.r.CallAnswered(1)
	c, _ := rg.r.SkillGroupCounters(100, Run)
	if c.RedirectNoAns != 1 || c.ServiceLevelRona != 1 || c.CallsAnswered != 1 || c.ServiceLevelCalls != 1 {
		t.Fatalf("skill group counters %+v", c)
	}
	ct, _ := rg.r.CallTypeCounters(1, Run)
	if ct.ServiceLevelCallsOffered != 1 || ct.ServiceLevelCalls != 1 || ct.RedirectNoAns != 1 {
		t.Fatalf("call type counters %+v", ct)
	}
}

// TestAbandonCountsEverySkillGroupQueued (ipcc-behaviour.md §1.2).
func TestAbandonCountsEverySkillGroupQueued(t *testing.T) {
	rg := newRRig(t, nine, twoGroups(2, 2))
	rg.call(1, "300")
	rg.run(30 * time.Second)
	rg.r.CallAbandoned(1)
	for _, sg := range []uint32{100, 200} {
		c, _ := rg.r.SkillGroupCounters(sg, Run)
		if c.RouterCallsAbandQ != 1 || c.ServiceLevelCallsOffered != 1 || c.ServiceLevelAband != 0 {
			t.Fatalf("sg %d: %+v", sg, c)
		}
	}
}

func TestAgentCounts(t *testing.T) {
	rg := newRRig(t, nine, twoGroups(2, 2))
	rg.agent(1, pg.StateAvailable, 100, 200)
	rg.agent(2, pg.StateNotReady, 100)
	rg.agent(3, pg.StateAvailable, 100)
	rg.call(1, "300") // goes to agent 1 (longest available) via 100
	rg.r.CallAnswered(1)
	st := rg.agents[1]
	st.State, st.Direction = pg.StateTalking, pg.DirectionIn
	rg.agents[1] = st
	rg.r.AgentChanged(st)
	s1, _ := rg.r.SkillGroupStats(100)
	s2, _ := rg.r.SkillGroupStats(200)
	if s1.AgentsLoggedOn != 3 || s1.AgentsAvail != 1 || s1.AgentsNotReady != 1 || s1.AgentsReady != 2 ||
		s1.AgentsTalkingIn != 1 || s1.AgentsICMAvailable != 1 {
		t.Fatalf("sg 100: %+v", s1)
	}
	if s2.AgentsLoggedOn != 1 || s2.AgentsBusyOther != 1 || s2.AgentsTalkingIn != 0 {
		t.Fatalf("sg 200: %+v", s2)
	}
}

func TestConfigErrors(t *testing.T) {
	cfg := twoGroups(2, 2)
	cfg.CallTypes[2].Targets[1].SkillGroup = 9
	cfg.Scheduler = sim.NewLoop(nine)
	if _, err := New(cfg); err == nil || err.Error() != "call_types[2].targets[1].skill_group: unknown skill group 9" {
		t.Fatalf("got %v", err)
	}
	cfg = twoGroups(2, 2)
	cfg.Scheduler = sim.NewLoop(nine)
	cfg.SkillGroups[1].ServiceLevelType = 4
	if _, err := New(cfg); err == nil || err.Error() != "skill_groups[1].service_level_type: must be 1, 2 or 3, got 4" {
		t.Fatalf("got %v", err)
	}
}
