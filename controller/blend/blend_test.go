package blend

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func at(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }

// supplied is a config that reads To5-style window counters as supplied, so a
// single snapshot fully determines the service level.
func supplied(mod ...func(*Config)) Config {
	c := DefaultConfig(5001)
	c.Window = WindowSupplied
	for _, m := range mod {
		m(&c)
	}
	return c
}

func newPolicy(t *testing.T, c Config) *Policy {
	t.Helper()
	p, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func decide(t *testing.T, p *Policy, in Input) Decision {
	t.Helper()
	d, err := p.Decide(in)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// sg builds a snapshot of group 5001 with window counters calls/offered.
func sg(queue int, longest int64, avail int, calls, offered int64) SkillGroupSnapshot {
	return SkillGroupSnapshot{SkillGroup: 5001, RouterCallsQNow: queue, LongestRouterCallQNow: longest,
		AgentsAvail: avail, ServiceLevelCalls: calls, ServiceLevelCallsOffered: offered}
}

func idle(id string, since int) Agent {
	return Agent{ID: id, Situation: OutboundIdle, Since: at(since)}
}

func actionsString(as []Action) string {
	var s []string
	for _, a := range as {
		s = append(s, a.String())
	}
	return strings.Join(s, "; ")
}

func TestConfigValidationNamesTheField(t *testing.T) {
	for _, c := range []struct {
		field string
		mod   func(*Config)
	}{
		{"SkillGroups", func(c *Config) { c.SkillGroups = nil }},
		{"SkillGroups", func(c *Config) { c.SkillGroups = []int{1, 1} }},
		{"SkillGroups", func(c *Config) { c.SkillGroups = []int{-1} }},
		{"ServiceLevelTarget", func(c *Config) { c.ServiceLevelTarget = 0 }},
		{"ServiceLevelTarget", func(c *Config) { c.ServiceLevelTarget = 1.2 }},
		{"ServiceLevelTarget", func(c *Config) { c.ServiceLevelTarget = math.NaN() }},
		{"ServiceLevelThreshold", func(c *Config) { c.ServiceLevelThreshold = 0 }},
		{"ServiceLevelType", func(c *Config) { c.ServiceLevelType = 0 }},
		{"ServiceLevelType", func(c *Config) { c.ServiceLevelType = 4 }},
		{"Window", func(c *Config) { c.Window = 0 }},
		{"WindowLength", func(c *Config) { c.WindowLength = 0 }},
		{"MinSample", func(c *Config) { c.MinSample = 0 }},
		{"QueueTrigger", func(c *Config) { c.QueueTrigger = -1 }},
		{"LongestWaitTrigger", func(c *Config) { c.LongestWaitTrigger = -time.Second }},
		{"ReturnRatio", func(c *Config) { c.ReturnRatio = 0.9 }},
		{"ReturnRatio", func(c *Config) { c.ServiceLevelTarget, c.ReturnRatio = 0.95, 1.1 }},
		{"QueueLowWater", func(c *Config) { c.QueueLowWater = 3 }},
		{"QueueLowWater", func(c *Config) { c.QueueLowWater = -1 }},
		{"LongestWaitLowWater", func(c *Config) { c.LongestWaitLowWater = 30 * time.Second }},
		{"MinMoveInterval", func(c *Config) { c.MinMoveInterval = -1 }},
		{"MaxMovesPerDecision", func(c *Config) { c.MaxMovesPerDecision = 0 }},
		{"ReturnReasonCode", func(c *Config) { c.ReturnReasonCode = 0 }},
		{"ReturnReasonCode", func(c *Config) { c.ReturnReasonCode = 32767 }},
		{"PacingBehind", func(c *Config) { c.PacingBehind = 1.5 }},
		{"PacingRampStep", func(c *Config) { c.PacingRampStep = 0 }},
		{"LendAfter", func(c *Config) { c.LendAfter = -1 }},
		{"ConfirmTimeout", func(c *Config) { c.ConfirmTimeout = 0 }},
	} {
		cfg := DefaultConfig(5001)
		c.mod(&cfg)
		_, err := New(cfg)
		if err == nil || !strings.Contains(err.Error(), "Config."+c.field+" ") {
			t.Errorf("%s: error %v does not name the field", c.field, err)
		}
	}
	if _, err := New(DefaultConfig(5001, 5002)); err != nil {
		t.Errorf("DefaultConfig: %v", err)
	}
	// A disabled trigger has no dead band to protect.
	c := DefaultConfig(1)
	c.QueueTrigger, c.QueueLowWater = 0, 2
	if err := c.Validate(); err != nil {
		t.Errorf("QueueLowWater with the queue trigger disabled: %v", err)
	}
}

// The worked example of ipcc-behaviour.md §1.3: 100 offered, 70 answered and
// 10 abandoned within the threshold.
func TestServiceLevelTypes(t *testing.T) {
	for _, c := range []struct {
		typ  ServiceLevelType
		want float64
		n    int64
	}{{IgnoreAbandons, 70.0 / 90, 90}, {AbandonsNegative, 0.70, 100}, {AbandonsPositive, 0.80, 100}} {
		got, n, ok := c.typ.Compute(70, 100, 10)
		if !ok || math.Abs(got-c.want) > 1e-12 || n != c.n {
			t.Errorf("%s: %v over %d (%v), want %v over %d", c.typ, got, n, ok, c.want, c.n)
		}
	}
	if _, _, ok := IgnoreAbandons.Compute(0, 5, 5); ok {
		t.Error("type 1 with every call abandoned has no denominator: want unknown")
	}
	if _, _, ok := AbandonsNegative.Compute(0, 0, 0); ok {
		t.Error("no calls: want unknown")
	}
}

func TestTriggers(t *testing.T) {
	ids := []Agent{idle("1001", 0), idle("1002", 0)}
	for _, c := range []struct {
		name      string
		cfg       Config
		snap      SkillGroupSnapshot
		state     State
		trig      Trigger
		restraint Restraint
		actions   string
		pacing    float64
	}{
		{"service level below target, no spare agent", supplied(), sg(0, 0, 0, 70, 100),
			Behind, TriggerServiceLevel, RestraintNone, "lend 1001; lend 1002", 0.5},
		{"service level below target but agents available: window lag, pacing only", supplied(), sg(0, 0, 2, 70, 100),
			Behind, TriggerServiceLevel, RestraintSpareInbound, "", 0.5},
		{"service level below target on too small a sample is unknown", supplied(), sg(0, 0, 0, 1, 4),
			Met, 0, RestraintNone, "", 1},
		{"calls in queue at the trigger", supplied(), sg(3, 5, 0, 95, 100),
			Behind, TriggerCallsInQueue, RestraintNone, "lend 1001; lend 1002", 0.5},
		{"calls in queue below the trigger: dead band", supplied(), sg(2, 5, 0, 95, 100),
			Hold, 0, RestraintNone, "", 1},
		{"calls in queue trigger disabled", supplied(func(c *Config) { c.QueueTrigger = 0; c.QueueLowWater = 10 }), sg(8, 0, 0, 95, 100),
			Met, 0, RestraintNone, "", 1},
		{"longest wait at the trigger", supplied(), sg(1, 30, 0, 95, 100),
			Behind, TriggerLongestWait, RestraintNone, "lend 1001; lend 1002", 0.5},
		{"longest wait unknown (0xFFFFFFFF) never fires", supplied(), sg(0, 0xFFFFFFFF, 0, 95, 100),
			Met, 0, RestraintNone, "", 1},
		{"all three", supplied(), sg(4, 45, 0, 50, 100),
			Behind, TriggerServiceLevel | TriggerCallsInQueue | TriggerLongestWait, RestraintNone, "lend 1001; lend 1002", 0.5},
		{"service level between target and return level: dead band", supplied(), sg(0, 0, 1, 85, 100),
			Hold, 0, RestraintNone, "", 1},
		{"service level at the return level with an empty queue", supplied(), sg(0, 0, 1, 88, 100),
			Met, 0, RestraintNone, "", 1},
		{"max one move per decision", supplied(func(c *Config) { c.MaxMovesPerDecision = 1 }), sg(5, 0, 0, 90, 100),
			Behind, TriggerCallsInQueue, RestraintMaxMoves, "lend 1001", 0.5},
		{"type 1 ignores abandons: 70/(100-20) = 87.5 %", supplied(func(c *Config) { c.ServiceLevelType = IgnoreAbandons }),
			SkillGroupSnapshot{SkillGroup: 5001, ServiceLevelCalls: 70, ServiceLevelCallsOffered: 100, ServiceLevelCallsAband: 20},
			Hold, 0, RestraintNone, "", 1},
		{"type 3 counts abandons as met: 90 %", supplied(func(c *Config) { c.ServiceLevelType = AbandonsPositive }),
			SkillGroupSnapshot{SkillGroup: 5001, ServiceLevelCalls: 70, ServiceLevelCallsOffered: 100, ServiceLevelCallsAband: 20},
			Met, 0, RestraintNone, "", 1},
		{"type 2 counts abandons against: 70 %", supplied(),
			SkillGroupSnapshot{SkillGroup: 5001, ServiceLevelCalls: 70, ServiceLevelCallsOffered: 100, ServiceLevelCallsAband: 20},
			Behind, TriggerServiceLevel, RestraintNone, "lend 1001; lend 1002", 0.5},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := newPolicy(t, c.cfg)
			d := decide(t, p, Input{Now: at(0), Groups: []SkillGroupSnapshot{c.snap}, Agents: ids})
			if d.State != c.state || d.Triggers != c.trig || d.Restraint != c.restraint ||
				actionsString(d.Actions) != c.actions || d.PacingFactor != c.pacing {
				t.Errorf("got %s\nwant %s[%s] restraint=%s actions=%q pacing=%.2f", d, c.state, c.trig, c.restraint, c.actions, c.pacing)
			}
		})
	}
}

func TestNoSnapshotHolds(t *testing.T) {
	p := newPolicy(t, supplied())
	d := decide(t, p, Input{Now: at(0), Groups: []SkillGroupSnapshot{{SkillGroup: 9999, RouterCallsQNow: 50}}, Agents: []Agent{idle("1", 0)}})
	if d.State != Hold || len(d.Actions) != 0 || d.Groups[0].Seen {
		t.Errorf("unmonitored group only: %s", d)
	}
}

// Two monitored groups pool: queue summed, longest the maximum, SL over the
// summed counters.
func TestPoolsMonitoredGroups(t *testing.T) {
	p := newPolicy(t, supplied(func(c *Config) { c.SkillGroups = []int{1, 2} }))
	d := decide(t, p, Input{Now: at(0), Groups: []SkillGroupSnapshot{
		{SkillGroup: 1, RouterCallsQNow: 1, LongestRouterCallQNow: 12, ServiceLevelCalls: 40, ServiceLevelCallsOffered: 40},
		{SkillGroup: 2, RouterCallsQNow: 2, LongestRouterCallQNow: 25, ServiceLevelCalls: 30, ServiceLevelCallsOffered: 60},
	}})
	if d.CallsInQueue != 3 || d.LongestWait != 25*time.Second || math.Abs(d.ServiceLevel-0.70) > 1e-12 ||
		d.Triggers != TriggerServiceLevel|TriggerCallsInQueue || len(d.Groups) != 2 || d.Groups[1].ServiceLevel != 0.5 {
		t.Errorf("pooled: %s groups=%+v", d, d.Groups)
	}
}

// The sliding window sums deltas of cumulative counters younger than the
// window and survives a counter reset.
func TestSlidingWindow(t *testing.T) {
	c := DefaultConfig(5001)
	c.WindowLength = 60 * time.Second
	c.QueueTrigger, c.LongestWaitTrigger = 0, 0
	p := newPolicy(t, c)
	for i, s := range []struct {
		sec                  int
		calls, offered       int64 // cumulative, as Today/ToHalf deliver them
		wantCalls, wantOffer int64 // the 60 s window
		wantKnown            bool
		wantState            State
	}{
		{0, 500, 600, 0, 0, false, Met},      // baseline only: history before it is not in the window
		{10, 508, 610, 8, 10, true, Hold},    // 80 %: not behind, not yet at 88 %
		{20, 510, 620, 10, 20, true, Behind}, // 8/10 + 2/10
		{70, 520, 630, 12, 20, true, Behind}, // the t=10 sample aged out: 2/10 + 10/10
		{75, 520, 630, 12, 20, true, Behind}, // no new calls: same window
		{80, 530, 640, 20, 20, true, Met},    // t=20 aged out (80−60 = 20 is not younger)
		{85, 5, 5, 25, 25, true, Met},        // ToHalf restarted: the new value is the delta
		{200, 6, 6, 1, 1, false, Met},        // one call is under MinSample: unknown
	} {
		d := decide(t, p, Input{Now: at(s.sec), Groups: []SkillGroupSnapshot{{SkillGroup: 5001, ServiceLevelCalls: s.calls, ServiceLevelCallsOffered: s.offered}}})
		if d.Window.Calls != s.wantCalls || d.Window.Offered != s.wantOffer || d.ServiceLevelKnown != s.wantKnown || d.State != s.wantState {
			t.Errorf("step %d (t=%d): %s window %+v; want %d/%d known=%v %s", i, s.sec, d, d.Window, s.wantCalls, s.wantOffer, s.wantKnown, s.wantState)
		}
	}
}

// A sequence of snapshots hovering around the target must not flap: agents
// lent while behind stay lent through the dead band and return only once the
// service level reaches target × ratio with the queue empty.
func TestHysteresisSequence(t *testing.T) {
	c := supplied(func(c *Config) { c.MinMoveInterval = 0; c.MaxMovesPerDecision = 1 })
	p := newPolicy(t, c)
	a := []Agent{idle("1001", 0), idle("1002", 0)}
	lentAvail := func(ids ...string) []Agent {
		var out []Agent
		for _, id := range ids {
			out = append(out, Agent{ID: id, Situation: InboundAvailable, Since: at(0)})
		}
		return out
	}
	for i, s := range []struct {
		sec     int
		snap    SkillGroupSnapshot
		agents  []Agent
		state   State
		actions string
		pacing  float64
	}{
		{0, sg(0, 0, 0, 79, 100), a, Behind, "lend 1001", 0.5},
		{5, sg(0, 0, 0, 80, 100), []Agent{lentAvail("1001")[0], idle("1002", 0)}, Hold, "", 0.5},
		{10, sg(0, 0, 0, 79, 100), []Agent{{ID: "1001", Situation: InboundBusy}, idle("1002", 0)}, Behind, "lend 1002", 0.5},
		{15, sg(0, 0, 1, 87, 100), lentAvail("1001", "1002"), Hold, "", 0.5},
		{20, sg(0, 0, 2, 81, 100), lentAvail("1001", "1002"), Hold, "", 0.5},
		{25, sg(1, 3, 2, 95, 100), lentAvail("1001", "1002"), Hold, "", 0.5}, // SL fine but a call waits
		{30, sg(0, 0, 2, 88, 100), lentAvail("1001", "1002"), Met, "return 1001 reason=100 now", 0.6},
		{35, sg(0, 0, 2, 87, 100), []Agent{idle("1001", 30), lentAvail("1002")[0]}, Hold, "", 0.6},
		{40, sg(0, 0, 2, 90, 100), []Agent{idle("1001", 30), lentAvail("1002")[0]}, Met, "return 1002 reason=100 now", 0.7},
	} {
		d := decide(t, p, Input{Now: at(s.sec), Groups: []SkillGroupSnapshot{s.snap}, Agents: s.agents})
		if d.State != s.state || actionsString(d.Actions) != s.actions || math.Abs(d.PacingFactor-s.pacing) > 1e-9 {
			t.Errorf("step %d (t=%d): %s\nwant %s actions=%q pacing=%.2f", i, s.sec, d, s.state, s.actions, s.pacing)
		}
	}
	if got := p.Counters(); got != (Counters{MovesToInbound: 2, MovesToOutbound: 2}) {
		t.Errorf("counters %+v", got)
	}
}

func TestMinMoveInterval(t *testing.T) {
	c := supplied(func(c *Config) { c.MinMoveInterval = 60 * time.Second })
	p := newPolicy(t, c)
	behind, met := sg(5, 10, 0, 50, 100), sg(0, 0, 1, 95, 100)
	d := decide(t, p, Input{Now: at(0), Groups: []SkillGroupSnapshot{behind}, Agents: []Agent{idle("7", 0)}})
	if actionsString(d.Actions) != "lend 7" {
		t.Fatalf("t=0: %s", d)
	}
	lentIdle := []Agent{{ID: "7", Situation: InboundAvailable, Since: at(1)}}
	d = decide(t, p, Input{Now: at(59), Groups: []SkillGroupSnapshot{met}, Agents: lentIdle})
	if len(d.Actions) != 0 || d.Restraint != RestraintNoEligible {
		t.Errorf("t=59, 59 s after the lend: %s", d)
	}
	d = decide(t, p, Input{Now: at(60), Groups: []SkillGroupSnapshot{met}, Agents: lentIdle})
	if actionsString(d.Actions) != "return 7 reason=100 now" {
		t.Errorf("t=60: %s", d)
	}
	// Back on outbound, it may not be lent again within the interval.
	d = decide(t, p, Input{Now: at(61), Groups: []SkillGroupSnapshot{behind}, Agents: []Agent{idle("7", 61)}})
	if len(d.Actions) != 0 || d.Restraint != RestraintNoEligible {
		t.Errorf("t=61: %s", d)
	}
	d = decide(t, p, Input{Now: at(120), Groups: []SkillGroupSnapshot{behind}, Agents: []Agent{idle("7", 61)}})
	if actionsString(d.Actions) != "lend 7" {
		t.Errorf("t=120: %s", d)
	}
	// The adapter's LastMoved counts too (a restarted policy keeps the
	// thrash interval).
	p = newPolicy(t, c)
	d = decide(t, p, Input{Now: at(100), Groups: []SkillGroupSnapshot{behind}, Agents: []Agent{{ID: "8", Situation: OutboundIdle, LastMoved: at(50)}}})
	if len(d.Actions) != 0 {
		t.Errorf("LastMoved 50 s ago: %s", d)
	}
}

// Idle longest first, ties by agent ID in numeric order, never an agent on
// an outbound call; that agent is lent when its call has ended.
func TestLendSelection(t *testing.T) {
	c := supplied(func(c *Config) { c.MaxMovesPerDecision = 3; c.MinMoveInterval = 0 })
	p := newPolicy(t, c)
	behind := sg(6, 40, 0, 40, 100)
	agents := []Agent{
		idle("10", 5),
		idle("9", 5),
		{ID: "1", Situation: OutboundCall, Since: at(0)},
		idle("300", 8),
		{ID: "2", Situation: WrapUp, Since: at(0)},
		{ID: "3", Situation: LoggedOut},
		{ID: "4", Situation: SituationUnknown},
		idle("11", 2),
	}
	d := decide(t, p, Input{Now: at(10), Groups: []SkillGroupSnapshot{behind}, Agents: agents})
	if got := actionsString(d.Actions); got != "lend 11; lend 9; lend 10" || d.Restraint != RestraintMaxMoves {
		t.Errorf("first: %q restraint %s", got, d.Restraint)
	}
	agents[2] = idle("1", 12) // the outbound call ended
	d = decide(t, p, Input{Now: at(15), Groups: []SkillGroupSnapshot{behind}, Agents: agents})
	if got := actionsString(d.Actions); got != "lend 300; lend 1" {
		t.Errorf("second: %q", got)
	}
	if want := []string{"1", "9", "10", "11", "300"}; !reflect.DeepEqual(d.Lent, want) {
		t.Errorf("lent %v, want %v", d.Lent, want)
	}
}

// Returns: idle Available first, then wrap-up, then on a call; busy agents
// get ReturnAfterCall so the call is not cut.
func TestReturnSelection(t *testing.T) {
	c := supplied(func(c *Config) { c.MaxMovesPerDecision = 10; c.MinMoveInterval = 0 })
	p := newPolicy(t, c)
	ids := []string{"1", "2", "3", "4", "5"}
	var agents []Agent
	for _, id := range ids {
		agents = append(agents, idle(id, 0))
	}
	decide(t, p, Input{Now: at(0), Groups: []SkillGroupSnapshot{sg(9, 60, 0, 10, 100)}, Agents: agents})
	agents = []Agent{
		{ID: "1", Situation: InboundBusy, Since: at(20)},
		{ID: "2", Situation: InboundBusy, Since: at(10)},
		{ID: "3", Situation: WrapUp, Since: at(25)},
		{ID: "4", Situation: InboundAvailable, Since: at(30)},
		{ID: "5", Situation: SituationUnknown},
	}
	d := decide(t, p, Input{Now: at(40), Groups: []SkillGroupSnapshot{sg(0, 0, 1, 99, 100)}, Agents: agents})
	want := "return 4 reason=100 now; return 3 reason=100 after-call; return 2 reason=100 after-call; return 1 reason=100 after-call"
	if got := actionsString(d.Actions); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	// Agent 5 (unknown) stays lent; the returning ones still count until
	// the wire shows them off inbound.
	if !reflect.DeepEqual(d.Lent, ids) {
		t.Errorf("lent %v", d.Lent)
	}
	agents[0].Situation = OutboundIdle
	agents[3].Situation = OutboundIdle
	d = decide(t, p, Input{Now: at(45), Groups: []SkillGroupSnapshot{sg(0, 0, 1, 99, 100)}, Agents: agents})
	if !reflect.DeepEqual(d.Lent, []string{"2", "3", "5"}) || len(d.Changes) != 2 {
		t.Errorf("after confirmation: %s lent %v", d, d.Lent)
	}
}

func TestPacingRamp(t *testing.T) {
	c := supplied(func(c *Config) { c.PacingBehind = 0.3; c.PacingRampStep = 0.25 })
	p := newPolicy(t, c)
	behind, band, met := sg(0, 0, 0, 50, 100), sg(0, 0, 1, 85, 100), sg(0, 0, 1, 95, 100)
	for i, s := range []struct {
		snap SkillGroupSnapshot
		want float64
	}{
		{met, 1}, {behind, 0.3}, {behind, 0.3}, {band, 0.3}, {met, 0.55}, {met, 0.8},
		{behind, 0.3}, {met, 0.55}, {met, 0.8}, {met, 1}, {met, 1}, {band, 1},
	} {
		d := decide(t, p, Input{Now: at(i * 5), Groups: []SkillGroupSnapshot{s.snap}})
		if math.Abs(d.PacingFactor-s.want) > 1e-9 || d.PacingFactor < 0 || d.PacingFactor > 1 {
			t.Errorf("step %d: pacing %v, want %v (%s)", i, d.PacingFactor, s.want, d)
		}
	}
}

func TestLendAfterSlowsPacingFirst(t *testing.T) {
	c := supplied(func(c *Config) { c.LendAfter = 20 * time.Second })
	p := newPolicy(t, c)
	behind := sg(4, 10, 0, 90, 100)
	agents := []Agent{idle("1", 0)}
	for _, s := range []struct {
		sec     int
		snap    SkillGroupSnapshot
		actions string
	}{
		{0, behind, ""}, {10, behind, ""}, {20, behind, "lend 1"},
	} {
		d := decide(t, p, Input{Now: at(s.sec), Groups: []SkillGroupSnapshot{s.snap}, Agents: agents})
		if actionsString(d.Actions) != s.actions || d.PacingFactor != 0.5 {
			t.Errorf("t=%d: %s", s.sec, d)
		}
		if s.actions == "" && d.Restraint != RestraintLendAfter {
			t.Errorf("t=%d: restraint %s", s.sec, d.Restraint)
		}
	}
	// Leaving Behind restarts the delay.
	p = newPolicy(t, c)
	decide(t, p, Input{Now: at(0), Groups: []SkillGroupSnapshot{behind}, Agents: agents})
	decide(t, p, Input{Now: at(10), Groups: []SkillGroupSnapshot{sg(1, 0, 0, 90, 100)}, Agents: agents})
	d := decide(t, p, Input{Now: at(20), Groups: []SkillGroupSnapshot{behind}, Agents: agents})
	if len(d.Actions) != 0 {
		t.Errorf("delay not restarted: %s", d)
	}
}

func TestReconcile(t *testing.T) {
	c := supplied(func(c *Config) { c.MinMoveInterval = 0; c.ConfirmTimeout = 15 * time.Second })
	behind, band, met := sg(5, 0, 0, 90, 100), sg(1, 0, 0, 90, 100), sg(0, 0, 1, 95, 100)
	t.Run("adopt an agent found on inbound", func(t *testing.T) {
		p := newPolicy(t, c)
		d := decide(t, p, Input{Now: at(0), Groups: []SkillGroupSnapshot{band}, Agents: []Agent{{ID: "1", Situation: InboundBusy}}})
		if !reflect.DeepEqual(d.Changes, []Change{{"1", Adopted}}) || !p.IsLent("1") {
			t.Errorf("%s", d)
		}
		d = decide(t, p, Input{Now: at(5), Groups: []SkillGroupSnapshot{met}, Agents: []Agent{{ID: "1", Situation: InboundBusy}}})
		if actionsString(d.Actions) != "return 1 reason=100 after-call" {
			t.Errorf("%s", d)
		}
	})
	t.Run("a lend the wire does not show is released after the timeout", func(t *testing.T) {
		p := newPolicy(t, c)
		decide(t, p, Input{Now: at(0), Groups: []SkillGroupSnapshot{behind}, Agents: []Agent{idle("1", 0)}})
		d := decide(t, p, Input{Now: at(14), Groups: []SkillGroupSnapshot{band}, Agents: []Agent{idle("1", 0)}})
		if len(d.Changes) != 0 || !p.IsLent("1") {
			t.Errorf("in transit: %s", d)
		}
		d = decide(t, p, Input{Now: at(15), Groups: []SkillGroupSnapshot{behind}, Agents: []Agent{idle("1", 0)}})
		// Released, and since inbound is still behind, lent again.
		if !reflect.DeepEqual(d.Changes, []Change{{"1", Released}}) || actionsString(d.Actions) != "lend 1" {
			t.Errorf("after timeout: %s", d)
		}
	})
	t.Run("logged out while lent", func(t *testing.T) {
		p := newPolicy(t, c)
		decide(t, p, Input{Now: at(0), Groups: []SkillGroupSnapshot{behind}, Agents: []Agent{idle("1", 0)}})
		d := decide(t, p, Input{Now: at(1), Groups: []SkillGroupSnapshot{met}, Agents: []Agent{{ID: "1", Situation: LoggedOut}}})
		if !reflect.DeepEqual(d.Changes, []Change{{"1", Released}}) || len(d.Actions) != 0 || p.IsLent("1") {
			t.Errorf("%s", d)
		}
	})
	t.Run("a return that does not take", func(t *testing.T) {
		p := newPolicy(t, c)
		decide(t, p, Input{Now: at(0), Groups: []SkillGroupSnapshot{behind}, Agents: []Agent{idle("1", 0)}})
		avail := []Agent{{ID: "1", Situation: InboundAvailable, Since: at(1)}}
		d := decide(t, p, Input{Now: at(5), Groups: []SkillGroupSnapshot{met}, Agents: avail})
		if actionsString(d.Actions) != "return 1 reason=100 now" {
			t.Fatalf("%s", d)
		}
		d = decide(t, p, Input{Now: at(10), Groups: []SkillGroupSnapshot{met}, Agents: avail})
		if len(d.Actions) != 0 || len(d.Changes) != 0 {
			t.Errorf("returning, in transit: %s", d)
		}
		d = decide(t, p, Input{Now: at(20), Groups: []SkillGroupSnapshot{met}, Agents: avail})
		if !reflect.DeepEqual(d.Changes, []Change{{"1", ReturnFailed}}) || actionsString(d.Actions) != "return 1 reason=100 now" {
			t.Errorf("failed return is retried: %s", d)
		}
	})
}

func TestInputErrors(t *testing.T) {
	p := newPolicy(t, supplied())
	decide(t, p, Input{Now: at(10)})
	for name, in := range map[string]Input{
		"time backwards":  {Now: at(9)},
		"duplicate agent": {Now: at(10), Agents: []Agent{idle("1", 0), idle("1", 0)}},
		"empty agent ID":  {Now: at(10), Agents: []Agent{{Situation: OutboundIdle}}},
		"duplicate group": {Now: at(10), Groups: []SkillGroupSnapshot{sg(0, 0, 0, 0, 0), sg(0, 0, 0, 0, 0)}},
		"negative queue":  {Now: at(10), Groups: []SkillGroupSnapshot{sg(-1, 0, 0, 0, 0)}},
	} {
		if _, err := p.Decide(in); err == nil {
			t.Errorf("%s: want an error", name)
		}
	}
}

func TestDecisionString(t *testing.T) {
	p := newPolicy(t, supplied())
	d := decide(t, p, Input{Now: at(0), Groups: []SkillGroupSnapshot{sg(4, 0xFFFFFFFF, 0, 70, 100)}, Agents: []Agent{idle("1001", 0)}})
	want := "behind[service-level+calls-in-queue] sl=0.7000 n=100 target=0.8000 return=0.8800 q=4 longest=unknown avail=0 pacing=0.50 {lend 1001} lent=1 moves=1/0"
	if got := d.String(); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// world is a small adapter-and-wire model for the property test: it applies
// the policy's actions (sometimes failing, sometimes late) and moves agents
// between calls at random.
type world struct {
	rng    *rand.Rand
	agents []Agent
	wire   map[string]string // "out" or "in": which side the wire has the agent on
	calls  int64
	offer  int64
	aband  int64
}

func (w *world) snapshot() SkillGroupSnapshot {
	// Cumulative counters, with an occasional half-hour reset.
	if w.rng.IntN(40) == 0 {
		w.calls, w.offer, w.aband = 0, 0, 0
	}
	n := int64(w.rng.IntN(6))
	good := int64(w.rng.IntN(int(n) + 1))
	ab := int64(w.rng.IntN(int(n-good) + 1))
	w.calls, w.offer, w.aband = w.calls+good, w.offer+n, w.aband+ab
	longest := int64(w.rng.IntN(60))
	if w.rng.IntN(10) == 0 {
		longest = 0xFFFFFFFF
	}
	return SkillGroupSnapshot{SkillGroup: 5001, RouterCallsQNow: w.rng.IntN(6), LongestRouterCallQNow: longest,
		AgentsAvail: w.rng.IntN(3), ServiceLevelCalls: w.calls, ServiceLevelCallsOffered: w.offer, ServiceLevelCallsAband: w.aband}
}

func (w *world) apply(acts []Action) {
	for _, a := range acts {
		if w.rng.IntN(10) == 0 {
			continue // the request failed
		}
		switch a.Kind {
		case ActionLend:
			w.wire[a.AgentID] = "in"
		case ActionReturn:
			w.wire[a.AgentID] = "out"
		}
	}
}

func (w *world) step(now time.Time) {
	for i := range w.agents {
		a := &w.agents[i]
		if w.rng.IntN(3) != 0 {
			continue
		}
		a.Since = now
		switch r := w.rng.IntN(20); {
		case r == 0:
			a.Situation = LoggedOut
		case r == 1:
			a.Situation = SituationUnknown
		case r == 2:
			a.Situation = WrapUp
		case r == 3: // a supervisor flips the agent's side
			if w.wire[a.ID] == "in" {
				w.wire[a.ID] = "out"
			} else {
				w.wire[a.ID] = "in"
			}
			fallthrough
		default:
			busy := w.rng.IntN(2) == 0
			switch {
			case w.wire[a.ID] == "in" && busy:
				a.Situation = InboundBusy
			case w.wire[a.ID] == "in":
				a.Situation = InboundAvailable
			case busy:
				a.Situation = OutboundCall
			default:
				a.Situation = OutboundIdle
			}
		}
	}
}

// TestPropertyRandomSequences drives the policy with random snapshots and a
// noisy wire and checks its invariants against an independent ledger of its
// own actions and reported changes.
func TestPropertyRandomSequences(t *testing.T) {
	for run := range 200 {
		seed := uint64(20260302 + run)
		if msg := propertyRun(seed); msg != "" {
			t.Fatalf("seed %d: %s", seed, msg)
		}
	}
}

func propertyRun(seed uint64) string {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	cfg := DefaultConfig(5001)
	cfg.WindowLength = time.Duration(20+rng.IntN(100)) * time.Second
	cfg.MinMoveInterval = time.Duration(rng.IntN(40)) * time.Second
	cfg.MaxMovesPerDecision = 1 + rng.IntN(3)
	cfg.LendAfter = time.Duration(rng.IntN(3)*5) * time.Second
	cfg.ServiceLevelType = ServiceLevelType(1 + rng.IntN(3))
	cfg.PacingBehind = rng.Float64()
	cfg.PacingRampStep = 0.05 + rng.Float64()*0.5
	p, err := New(cfg)
	if err != nil {
		return err.Error()
	}
	w := &world{rng: rng, wire: map[string]string{}}
	for i := range 2 + rng.IntN(10) {
		id := fmt.Sprint(1000 + i)
		w.agents = append(w.agents, Agent{ID: id, Situation: OutboundIdle})
		w.wire[id] = "out"
	}
	ledger := map[string]side{}
	lastMove := map[string]time.Time{}
	now := t0
	var trace []string
	for step := range 300 {
		now = now.Add(time.Duration(1+rng.IntN(15)) * time.Second)
		w.step(now)
		agents := append([]Agent(nil), w.agents...)
		situation := map[string]Situation{}
		for _, a := range agents {
			situation[a.ID] = a.Situation
		}
		d, err := p.Decide(Input{Now: now, Groups: []SkillGroupSnapshot{w.snapshot()}, Agents: agents})
		if err != nil {
			return err.Error()
		}
		trace = append(trace, d.String())
		fail := func(format string, args ...any) string {
			return fmt.Sprintf("step %d: %s\n%s", step, fmt.Sprintf(format, args...), strings.Join(trace[max(0, len(trace)-5):], "\n"))
		}
		for _, c := range d.Changes {
			want, next := map[ChangeKind]side{Adopted: home, Released: lent, ReturnConfirmed: returning, ReturnFailed: returning}[c.Kind],
				map[ChangeKind]side{Adopted: lent, Released: home, ReturnConfirmed: home, ReturnFailed: lent}[c.Kind]
			if ledger[c.AgentID] != want {
				return fail("%s %s from side %d", c.AgentID, c.Kind, ledger[c.AgentID])
			}
			ledger[c.AgentID] = next
		}
		if len(d.Actions) > cfg.MaxMovesPerDecision {
			return fail("%d actions, max %d", len(d.Actions), cfg.MaxMovesPerDecision)
		}
		for _, a := range d.Actions {
			if lm, ok := lastMove[a.AgentID]; ok && now.Sub(lm) < cfg.MinMoveInterval {
				return fail("%s moved %s after its last move", a.AgentID, now.Sub(lm))
			}
			lastMove[a.AgentID] = now
			switch a.Kind {
			case ActionLend:
				if ledger[a.AgentID] != home {
					return fail("lent %s twice", a.AgentID)
				}
				if situation[a.AgentID] != OutboundIdle {
					return fail("lent %s in situation %s", a.AgentID, situation[a.AgentID])
				}
				if d.State != Behind {
					return fail("lend while %s", d.State)
				}
				ledger[a.AgentID] = lent
			case ActionReturn:
				if ledger[a.AgentID] != lent {
					return fail("returned %s that was not lent", a.AgentID)
				}
				if d.State != Met || a.ReasonCode != cfg.ReturnReasonCode {
					return fail("return while %s, reason %d", d.State, a.ReasonCode)
				}
				if (a.When == ReturnNow) != (situation[a.AgentID] == InboundAvailable) {
					return fail("return %s %s in situation %s", a.AgentID, a.When, situation[a.AgentID])
				}
				ledger[a.AgentID] = returning
			}
		}
		if !(d.PacingFactor >= 0 && d.PacingFactor <= 1) {
			return fail("pacing %v", d.PacingFactor)
		}
		if (d.State == Behind) != (d.Triggers != 0) {
			return fail("state %s with triggers %s", d.State, d.Triggers)
		}
		var lentIDs []string
		for id, s := range ledger {
			if s != home {
				lentIDs = append(lentIDs, id)
			}
		}
		if len(lentIDs) != len(d.Lent) {
			return fail("ledger %v, decision lent %v", lentIDs, d.Lent)
		}
		for _, id := range d.Lent {
			if ledger[id] == home {
				return fail("decision counts %s lent, ledger does not", id)
			}
		}
		if d.Counters.MovesToInbound < 0 || d.Counters.MovesToOutbound > d.Counters.MovesToInbound+int64(len(w.agents))*300 {
			return fail("counters %+v", d.Counters)
		}
		w.apply(d.Actions)
	}
	return ""
}

// The same seed gives the same decisions.
func TestDeterminism(t *testing.T) {
	run := func() string {
		rng := rand.New(rand.NewPCG(7, 7))
		p, _ := New(DefaultConfig(5001))
		w := &world{rng: rng, wire: map[string]string{}}
		for i := range 6 {
			w.agents = append(w.agents, Agent{ID: fmt.Sprint(i), Situation: OutboundIdle})
			w.wire[fmt.Sprint(i)] = "out"
		}
		var b strings.Builder
		now := t0
		for range 200 {
			now = now.Add(5 * time.Second)
			w.step(now)
			d, err := p.Decide(Input{Now: now, Groups: []SkillGroupSnapshot{w.snapshot()}, Agents: w.agents})
			if err != nil {
				t.Fatal(err)
			}
			b.WriteString(d.String() + "\n")
			w.apply(d.Actions)
		}
		return b.String()
	}
	if a, b := run(), run(); a != b {
		t.Error("two runs with the same seed differ")
	}
}
