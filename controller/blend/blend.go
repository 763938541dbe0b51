// Package blend is the reference controller's blending policy: it watches the
// inbound IPCC skill groups and decides when blended agents are lent from
// outbound to inbound and when they go back.
//
// It serves these steps of the documented call flow (dialer-anchors.md §2.8,
// ipcc-behaviour.md §2.6):
//
//  1. The controller continually monitors the calls routed to the IPCC
//     queues. The CTI adapter polls skill-group statistics (RouterCallsQNow,
//     LongestRouterCallQNow, AgentsAvail and the service-level counters) and
//     hands them to Policy.Decide with the blended agents' situations. The
//     policy derives a windowed service level (§1.2–1.3 formulas, ServiceLevel
//     types 1–3) and checks it and the queue against the configured
//     thresholds.
//  2. If service levels are not met, the Decision first lowers the outbound
//     pacing factor (controller/dialer applies it) and then lends blended
//     agents idle on outbound: the adapter makes each one "available to
//     Cisco" with SET_AGENT_STATE_REQ AVAILABLE, so ICM routing can pick it.
//  6. Once the service level is back at the configured ratio and the queue
//     has drained, lent agents go back to outbound: the adapter sets them NOT
//     READY with the configured reason code, at once for an idle agent, or as
//     a pending state / at the end of wrap-up for an agent on an inbound call.
//
// This is the threshold structure that Bhulai–Koole and Gans–Zhou show to be
// optimal for blending (§5.1, §5.2): keep outbound running while inbound has
// enough agents, move agents over when it does not. Avaya POM and Business
// Advocate use the same acquire/release-with-hysteresis shape (§2.8), which is
// what Config's triggers, return ratio and thrash interval copy.
//
// The policy is a pure core (design.md): time is the now of each Input, there
// are no goroutines, clocks or sockets, and the same inputs give the same
// decisions. It never imports the CTI codec or the emulator; the adapter
// translates CTI into Input and Actions into CTI requests.
package blend

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// SkillGroupSnapshot is one monitored skill group as the adapter last saw it
// in QUERY_SKILL_GROUP_STATISTICS_CONF / skill-group statistics events
// (ipcc-behaviour.md §1.6).
type SkillGroupSnapshot struct {
	SkillGroup int // SkillGroupNumber
	// RouterCallsQNow is the calls queued by the router for the group (on
	// IPCC the router queues, so CallsQNow stays 0; §1.3).
	RouterCallsQNow int
	// LongestRouterCallQNow is the longest router-queue wait in seconds.
	// Negative, or the CTI "unknown" value 0xFFFFFFFF, means unknown.
	LongestRouterCallQNow int64
	// AgentsAvail is the agents available for the group now.
	AgentsAvail int
	// The service-level counters (§1.2): with WindowSliding cumulative
	// (Today or ToHalf; a decrease is read as a reset to 0), with
	// WindowSupplied already a window (To5 or ToHalf).
	ServiceLevelCalls        int64
	ServiceLevelCallsOffered int64
	ServiceLevelCallsAband   int64
}

const ctiUnknown = 0xFFFFFFFF

// slEpsilon absorbs binary rounding when a counter ratio is compared with a
// configured level: 88/100 must meet 0.80 × 1.10 = 0.8800000000000001.
// Counter ratios that differ in earnest differ by far more.
const slEpsilon = 1e-9

// Situation is what the adapter last saw a blended agent doing.
type Situation int

const (
	SituationUnknown Situation = iota // not known (no state yet, a state the policy has no use for)
	OutboundIdle                      // working outbound, idle: no call, not reserved (Not Ready in ICM)
	OutboundCall                      // working outbound, on or reserved for an outbound call
	InboundAvailable                  // lent to inbound and Available in ICM
	InboundBusy                       // lent to inbound and on a call (reserved, talking, held)
	WrapUp                            // in after-call work; which side it is on is the policy's record
	LoggedOut                         // logged out
)

var situationNames = [...]string{"unknown", "outbound-idle", "outbound-call", "inbound-available", "inbound-busy", "wrap-up", "logged-out"}

func (s Situation) String() string {
	if s >= 0 && int(s) < len(situationNames) {
		return situationNames[s]
	}
	return fmt.Sprintf("Situation(%d)", int(s))
}

// Agent is one blended agent in an Input.
type Agent struct {
	ID        string    // CTI AgentID
	Situation Situation // what the wire shows now
	// Since is when the agent entered this situation (from the agent state
	// events). Used to prefer the agent idle longest; zero means unknown and
	// sorts as the longest.
	Since time.Time
	// LastMoved is the adapter's record of the last lend or return of this
	// agent (zero = none known). The policy also remembers its own moves and
	// uses the later of the two, so the thrash interval survives a restart
	// of the policy.
	LastMoved time.Time
}

// Input is everything one decision reads.
type Input struct {
	Now    time.Time
	Groups []SkillGroupSnapshot
	Agents []Agent // every blended agent; agents left out are left alone
}

// State is the policy's reading of inbound in one decision.
type State int

const (
	// Hold: between the triggers and the return thresholds (the dead band),
	// or no snapshot yet; nothing moves and pacing stays.
	Hold State = iota
	// Behind: a trigger fired; pacing is slowed and agents are lent.
	Behind
	// Met: every return condition holds; lent agents go back and pacing
	// ramps up.
	Met
)

func (s State) String() string {
	switch s {
	case Hold:
		return "hold"
	case Behind:
		return "behind"
	case Met:
		return "met"
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// Trigger is the set of conditions that found inbound behind.
type Trigger uint8

const (
	TriggerServiceLevel Trigger = 1 << iota // window service level below target
	TriggerCallsInQueue                     // calls in queue ≥ QueueTrigger
	TriggerLongestWait                      // longest wait ≥ LongestWaitTrigger
)

func (t Trigger) String() string {
	if t == 0 {
		return "none"
	}
	var parts []string
	for _, p := range []struct {
		bit  Trigger
		name string
	}{{TriggerServiceLevel, "service-level"}, {TriggerCallsInQueue, "calls-in-queue"}, {TriggerLongestWait, "longest-wait"}} {
		if t&p.bit != 0 {
			parts = append(parts, p.name)
		}
	}
	return strings.Join(parts, "+")
}

// ActionKind says which way an agent moves.
type ActionKind int

const (
	// ActionLend: make the agent available to ICM (SET_AGENT_STATE_REQ,
	// AVAILABLE) and stop dialing for it.
	ActionLend ActionKind = iota + 1
	// ActionReturn: take the agent back to outbound (NOT_READY with
	// ReasonCode) and resume dialing for it once it is idle.
	ActionReturn
)

func (k ActionKind) String() string {
	switch k {
	case ActionLend:
		return "lend"
	case ActionReturn:
		return "return"
	}
	return fmt.Sprintf("ActionKind(%d)", int(k))
}

// ReturnWhen says how the adapter takes a lent agent back.
type ReturnWhen int

const (
	// ReturnNow: the agent is idle Available; set NOT_READY now.
	ReturnNow ReturnWhen = iota + 1
	// ReturnAfterCall: the agent is on an inbound call or in its wrap-up;
	// do not cut it short. While talking, the NOT_READY request becomes a
	// pending state the PG applies when the call ends (ipcc-behaviour.md
	// §2.4); in wrap-up, WORK_NOT_READY lets the wrap-up finish into Not
	// Ready. An adapter that cannot do either waits and sends NOT_READY when
	// the agent is next seen idle.
	ReturnAfterCall
)

func (w ReturnWhen) String() string {
	switch w {
	case ReturnNow:
		return "now"
	case ReturnAfterCall:
		return "after-call"
	}
	return fmt.Sprintf("ReturnWhen(%d)", int(w))
}

// Action is one move for the adapter to carry out.
type Action struct {
	Kind       ActionKind
	AgentID    string
	ReasonCode uint16     // ActionReturn only: the Not Ready reason code
	When       ReturnWhen // ActionReturn only
}

// LendToInbound is the action that makes agentID available to ICM.
func LendToInbound(agentID string) Action { return Action{Kind: ActionLend, AgentID: agentID} }

// ReturnToOutbound is the action that takes agentID back to outbound with a
// Not Ready reason code.
func ReturnToOutbound(agentID string, reasonCode uint16, when ReturnWhen) Action {
	return Action{Kind: ActionReturn, AgentID: agentID, ReasonCode: reasonCode, When: when}
}

func (a Action) String() string {
	if a.Kind == ActionReturn {
		return fmt.Sprintf("return %s reason=%d %s", a.AgentID, a.ReasonCode, a.When)
	}
	return fmt.Sprintf("%s %s", a.Kind, a.AgentID)
}

// Restraint says why a decision moved fewer agents than its state asked for.
type Restraint int

const (
	RestraintNone Restraint = iota
	// RestraintLendAfter: behind for less than Config.LendAfter; pacing only.
	RestraintLendAfter
	// RestraintSpareInbound: only the service-level trigger fired and agents
	// are available to inbound right now, so the low figure is history in
	// the window, not a present shortage; lending more would strip outbound
	// for nothing.
	RestraintSpareInbound
	// RestraintNoEligible: no agent could move (none idle on the right side,
	// or all within MinMoveInterval).
	RestraintNoEligible
	// RestraintMaxMoves: more agents could have moved than
	// MaxMovesPerDecision allows.
	RestraintMaxMoves
)

func (r Restraint) String() string {
	switch r {
	case RestraintNone:
		return "none"
	case RestraintLendAfter:
		return "lend-after"
	case RestraintSpareInbound:
		return "spare-inbound"
	case RestraintNoEligible:
		return "no-eligible-agent"
	case RestraintMaxMoves:
		return "max-moves"
	}
	return fmt.Sprintf("Restraint(%d)", int(r))
}

// ChangeKind is a correction of the policy's record from what the wire shows.
type ChangeKind int

const (
	// Adopted: the agent is on inbound though the policy did not lend it
	// (a restart of the controller, a manual change); it is treated as lent.
	Adopted ChangeKind = iota + 1
	// Released: an agent the policy lent is back on outbound or logged out
	// without a return, for longer than ConfirmTimeout; no longer lent.
	Released
	// ReturnConfirmed: an agent the policy returned is seen off inbound.
	ReturnConfirmed
	// ReturnFailed: an agent the policy returned is still Available to
	// inbound ConfirmTimeout later; it counts as lent again.
	ReturnFailed
)

func (k ChangeKind) String() string {
	switch k {
	case Adopted:
		return "adopted"
	case Released:
		return "released"
	case ReturnConfirmed:
		return "return-confirmed"
	case ReturnFailed:
		return "return-failed"
	}
	return fmt.Sprintf("ChangeKind(%d)", int(k))
}

// Change records one correction of the policy's record in a decision.
type Change struct {
	AgentID string
	Kind    ChangeKind
}

// Window is a set of service-level counters over the decision's window.
type Window struct {
	Calls   int64 // ServiceLevelCalls
	Offered int64 // ServiceLevelCallsOffered
	Aband   int64 // ServiceLevelCallsAband
}

func (w Window) add(o Window) Window {
	return Window{w.Calls + o.Calls, w.Offered + o.Offered, w.Aband + o.Aband}
}

// GroupStatus is one monitored skill group in a Decision.
type GroupStatus struct {
	SkillGroup        int
	Seen              bool // a snapshot for the group was in the Input
	Window            Window
	ServiceLevel      float64 // valid when ServiceLevelKnown
	ServiceLevelKnown bool    // at least MinSample calls in the window
	CallsInQueue      int
	LongestWait       time.Duration // -1 when unknown
	AgentsAvail       int
}

// Counters are the policy's running totals since New.
type Counters struct {
	MovesToInbound  int64 // lend actions issued
	MovesToOutbound int64 // return actions issued
}

// Decision is the outcome of one Decide: what to do and, as data, why.
type Decision struct {
	Now      time.Time
	State    State
	Triggers Trigger // which triggers fired (non-zero exactly when State is Behind)

	ServiceLevel      float64 // pooled window service level; valid when ServiceLevelKnown
	ServiceLevelKnown bool
	Window            Window  // pooled window counters
	Target            float64 // Config.ServiceLevelTarget
	ReturnLevel       float64 // Config.ReturnLevel()
	CallsInQueue      int     // summed RouterCallsQNow
	LongestWait       time.Duration
	LongestWaitKnown  bool
	AgentsAvail       int // summed AgentsAvail (an agent in two groups counts twice)
	Groups            []GroupStatus

	Actions      []Action
	PacingFactor float64 // outbound pacing factor in [0,1] for controller/dialer
	Restraint    Restraint
	Changes      []Change
	// Lent is the agents the policy counts as lent after this decision,
	// including those with a return issued but not yet seen on the wire;
	// sorted by agent ID. Keep them out of the dialer's idle agents.
	Lent     []string
	Counters Counters
}

// String renders the decision as one stable line for logs and transcripts.
func (d Decision) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s[%s]", d.State, d.Triggers)
	if d.ServiceLevelKnown {
		fmt.Fprintf(&b, " sl=%.4f", d.ServiceLevel)
	} else {
		b.WriteString(" sl=unknown")
	}
	fmt.Fprintf(&b, " n=%d target=%.4f return=%.4f q=%d", d.Window.Offered, d.Target, d.ReturnLevel, d.CallsInQueue)
	if d.LongestWaitKnown {
		fmt.Fprintf(&b, " longest=%s", d.LongestWait)
	} else {
		b.WriteString(" longest=unknown")
	}
	fmt.Fprintf(&b, " avail=%d pacing=%.2f", d.AgentsAvail, d.PacingFactor)
	for _, a := range d.Actions {
		fmt.Fprintf(&b, " {%s}", a)
	}
	if d.Restraint != RestraintNone {
		fmt.Fprintf(&b, " restraint=%s", d.Restraint)
	}
	for _, c := range d.Changes {
		fmt.Fprintf(&b, " %s:%s", c.AgentID, c.Kind)
	}
	fmt.Fprintf(&b, " lent=%d moves=%d/%d", len(d.Lent), d.Counters.MovesToInbound, d.Counters.MovesToOutbound)
	return b.String()
}

// side is the policy's record of where an agent belongs.
type side int

const (
	home      side = iota // outbound (not in the map)
	lent                  // lent to inbound
	returning             // return issued, waiting for the wire to show it
)

type record struct {
	side    side
	movedAt time.Time // this policy's last move of the agent; zero if adopted
}

type sample struct {
	at time.Time
	d  Window
}

type groupWindow struct {
	seen    bool
	prev    Window
	samples []sample
}

// Policy is the blending policy. It keeps the sliding windows, the record of
// lent agents and the pacing factor between decisions. Not safe for
// concurrent use; the adapter calls it from its event loop.
type Policy struct {
	cfg         Config
	groups      map[int]*groupWindow
	agents      map[string]*record
	moved       map[string]time.Time // last move this policy issued per agent, kept after the record goes
	pacing      float64
	last        time.Time
	started     bool
	behindSince time.Time
	wasBehind   bool
	counters    Counters
}

// New validates cfg and returns a policy with nothing lent and the pacing
// factor at 1.
func New(cfg Config) (*Policy, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.SkillGroups = slices.Clone(cfg.SkillGroups)
	p := &Policy{cfg: cfg, groups: map[int]*groupWindow{}, agents: map[string]*record{}, moved: map[string]time.Time{}, pacing: 1}
	for _, sg := range cfg.SkillGroups {
		p.groups[sg] = &groupWindow{}
	}
	return p, nil
}

// Config returns the policy's configuration.
func (p *Policy) Config() Config {
	c := p.cfg
	c.SkillGroups = slices.Clone(c.SkillGroups)
	return c
}

// PacingFactor is the current outbound pacing factor.
func (p *Policy) PacingFactor() float64 { return p.pacing }

// Counters are the running move totals.
func (p *Policy) Counters() Counters { return p.counters }

// IsLent reports whether the policy counts agentID as lent to inbound
// (including a return issued but not yet seen on the wire). The adapter uses
// it to keep such agents out of the dialer's idle agents.
func (p *Policy) IsLent(agentID string) bool {
	_, ok := p.agents[agentID]
	return ok
}

// Decide reads one poll and returns what to do. It fails, changing nothing,
// on malformed input: time going backwards, an empty or repeated agent ID, a
// repeated skill group, negative counts.
func (p *Policy) Decide(in Input) (Decision, error) {
	if err := p.check(in); err != nil {
		return Decision{}, err
	}
	p.started, p.last = true, in.Now
	cfg := p.cfg
	d := Decision{Now: in.Now, Target: cfg.ServiceLevelTarget, ReturnLevel: cfg.ReturnLevel()}

	// Step 1: measure. Pool the monitored groups (Config.SkillGroups says
	// why) and read the window service level with the §1.3 formula.
	snaps := map[int]SkillGroupSnapshot{}
	for _, s := range in.Groups {
		snaps[s.SkillGroup] = s
	}
	seenAny := false
	longest := time.Duration(-1)
	for _, sg := range cfg.SkillGroups {
		gs := GroupStatus{SkillGroup: sg, LongestWait: -1}
		if s, ok := snaps[sg]; ok {
			seenAny = true
			gs.Seen = true
			gs.Window = p.window(sg, s, in.Now)
			gs.ServiceLevel, gs.ServiceLevelKnown = p.serviceLevel(gs.Window)
			gs.CallsInQueue = s.RouterCallsQNow
			gs.AgentsAvail = s.AgentsAvail
			if s.LongestRouterCallQNow >= 0 && s.LongestRouterCallQNow < ctiUnknown {
				gs.LongestWait = time.Duration(s.LongestRouterCallQNow) * time.Second
				longest = max(longest, gs.LongestWait)
			}
			d.Window = d.Window.add(gs.Window)
			d.CallsInQueue += gs.CallsInQueue
			d.AgentsAvail += gs.AgentsAvail
		}
		d.Groups = append(d.Groups, gs)
	}
	d.ServiceLevel, d.ServiceLevelKnown = p.serviceLevel(d.Window)
	if longest >= 0 {
		d.LongestWait, d.LongestWaitKnown = longest, true
	}

	// Reconcile the record with the wire before choosing anyone.
	agents := slices.Clone(in.Agents)
	slices.SortFunc(agents, func(a, b Agent) int { return compareIDs(a.ID, b.ID) })
	d.Changes = p.reconcile(agents, in.Now)

	// Step 1, the decision: behind, met or in the dead band.
	switch {
	case !seenAny:
		d.State = Hold // nothing to judge by: move nothing
	default:
		if d.ServiceLevelKnown && d.ServiceLevel < cfg.ServiceLevelTarget-slEpsilon {
			d.Triggers |= TriggerServiceLevel
		}
		if cfg.QueueTrigger > 0 && d.CallsInQueue >= cfg.QueueTrigger {
			d.Triggers |= TriggerCallsInQueue
		}
		if cfg.LongestWaitTrigger > 0 && d.LongestWaitKnown && d.LongestWait >= cfg.LongestWaitTrigger {
			d.Triggers |= TriggerLongestWait
		}
		slOK := !d.ServiceLevelKnown || d.ServiceLevel >= cfg.ReturnLevel()-slEpsilon
		queueOK := d.CallsInQueue <= cfg.QueueLowWater
		// An unknown longest wait with the queue at its low-water mark
		// does not block recovery; the queue count is the fresher signal.
		waitOK := !d.LongestWaitKnown || d.LongestWait <= cfg.LongestWaitLowWater
		switch {
		case d.Triggers != 0:
			d.State = Behind
		case slOK && queueOK && waitOK:
			d.State = Met
		default:
			d.State = Hold
		}
	}
	if d.State == Behind {
		if !p.wasBehind {
			p.behindSince = in.Now
		}
		p.wasBehind = true
	} else {
		p.wasBehind = false
	}

	// Step 2 / step 6: pacing first, then agents.
	switch d.State {
	case Behind:
		p.pacing = min(p.pacing, cfg.PacingBehind)
		d.Actions, d.Restraint = p.lend(agents, d, in.Now)
	case Met:
		p.pacing = min(1, p.pacing+cfg.PacingRampStep)
		d.Actions, d.Restraint = p.giveBack(agents, in.Now)
	}
	d.PacingFactor = p.pacing
	for id := range p.agents {
		d.Lent = append(d.Lent, id)
	}
	slices.SortFunc(d.Lent, compareIDs)
	d.Counters = p.counters
	return d, nil
}

func (p *Policy) check(in Input) error {
	if p.started && in.Now.Before(p.last) {
		return fmt.Errorf("blend: Input.Now %s is before the previous decision at %s", in.Now.Format(time.RFC3339Nano), p.last.Format(time.RFC3339Nano))
	}
	seenSG := map[int]bool{}
	for _, s := range in.Groups {
		if seenSG[s.SkillGroup] {
			return fmt.Errorf("blend: Input.Groups: skill group %d twice", s.SkillGroup)
		}
		seenSG[s.SkillGroup] = true
		if s.RouterCallsQNow < 0 || s.AgentsAvail < 0 || s.ServiceLevelCalls < 0 || s.ServiceLevelCallsOffered < 0 || s.ServiceLevelCallsAband < 0 {
			return fmt.Errorf("blend: Input.Groups: skill group %d has a negative count", s.SkillGroup)
		}
	}
	seenID := map[string]bool{}
	for _, a := range in.Agents {
		if a.ID == "" {
			return fmt.Errorf("blend: Input.Agents: empty agent ID")
		}
		if seenID[a.ID] {
			return fmt.Errorf("blend: Input.Agents: agent %s twice", a.ID)
		}
		seenID[a.ID] = true
	}
	return nil
}

// window returns the group's service-level counters over the decision's
// window. With WindowSliding it records the delta since the previous poll at
// now and sums the deltas younger than WindowLength; a counter that went
// down was reset (ToHalf at the half hour, Today at midnight, §1.4), so its
// new value is the delta. The first poll only sets the baseline.
func (p *Policy) window(sg int, s SkillGroupSnapshot, now time.Time) Window {
	cur := Window{s.ServiceLevelCalls, s.ServiceLevelCallsOffered, s.ServiceLevelCallsAband}
	if p.cfg.Window == WindowSupplied {
		return cur
	}
	g := p.groups[sg]
	if g.seen {
		delta := func(c, prev int64) int64 {
			if c < prev {
				return c
			}
			return c - prev
		}
		d := Window{delta(cur.Calls, g.prev.Calls), delta(cur.Offered, g.prev.Offered), delta(cur.Aband, g.prev.Aband)}
		if d != (Window{}) {
			g.samples = append(g.samples, sample{now, d})
		}
	}
	g.seen, g.prev = true, cur
	cut := now.Add(-p.cfg.WindowLength)
	i := 0
	for i < len(g.samples) && !g.samples[i].at.After(cut) {
		i++
	}
	g.samples = g.samples[i:]
	var w Window
	for _, s := range g.samples {
		w = w.add(s.d)
	}
	return w
}

func (p *Policy) serviceLevel(w Window) (float64, bool) {
	sl, n, ok := p.cfg.ServiceLevelType.Compute(w.Calls, w.Offered, w.Aband)
	if !ok || n < p.cfg.MinSample {
		return 0, false
	}
	return sl, true
}

// reconcile corrects the record from the wire. The policy's record wins
// while a move it issued is young (the wire may not show it yet); after
// ConfirmTimeout the wire wins.
func (p *Policy) reconcile(agents []Agent, now time.Time) []Change {
	var ch []Change
	settled := func(r *record, since time.Time) bool {
		return !now.Before(later(r.movedAt, since).Add(p.cfg.ConfirmTimeout))
	}
	for _, a := range agents {
		r := p.agents[a.ID]
		onInbound := a.Situation == InboundAvailable || a.Situation == InboundBusy
		offInbound := a.Situation == OutboundIdle || a.Situation == OutboundCall || a.Situation == LoggedOut
		switch {
		case r == nil:
			if onInbound {
				p.agents[a.ID] = &record{side: lent}
				ch = append(ch, Change{a.ID, Adopted})
			}
		case r.side == lent:
			if a.Situation == LoggedOut || (offInbound && settled(r, time.Time{})) {
				delete(p.agents, a.ID)
				ch = append(ch, Change{a.ID, Released})
			}
		case r.side == returning:
			if offInbound {
				delete(p.agents, a.ID)
				ch = append(ch, Change{a.ID, ReturnConfirmed})
			} else if a.Situation == InboundAvailable && settled(r, a.Since) {
				r.side = lent
				ch = append(ch, Change{a.ID, ReturnFailed})
			}
		}
	}
	return ch
}

// movable reports whether the thrash interval since the agent's last move
// has passed.
func (p *Policy) movable(a Agent, now time.Time) bool {
	last := later(a.LastMoved, p.moved[a.ID])
	return last.IsZero() || !now.Before(last.Add(p.cfg.MinMoveInterval))
}

// lend picks agents idle on outbound, idle longest first, ties by agent ID.
// An agent on an outbound call is never taken: it becomes idle when the call
// ends and is lent by a later decision if inbound is still behind.
func (p *Policy) lend(agents []Agent, d Decision, now time.Time) ([]Action, Restraint) {
	if now.Sub(p.behindSince) < p.cfg.LendAfter {
		return nil, RestraintLendAfter
	}
	if d.Triggers == TriggerServiceLevel {
		spare := d.AgentsAvail
		for _, a := range agents {
			if r := p.agents[a.ID]; r != nil && r.side == lent && a.Situation == InboundAvailable {
				spare++
			}
		}
		if spare > 0 {
			return nil, RestraintSpareInbound
		}
	}
	var cands []Agent
	for _, a := range agents {
		if p.agents[a.ID] == nil && a.Situation == OutboundIdle && p.movable(a, now) {
			cands = append(cands, a)
		}
	}
	slices.SortStableFunc(cands, func(a, b Agent) int { return a.Since.Compare(b.Since) })
	restraint := RestraintNone
	switch {
	case len(cands) == 0:
		return nil, RestraintNoEligible
	case len(cands) > p.cfg.MaxMovesPerDecision:
		cands, restraint = cands[:p.cfg.MaxMovesPerDecision], RestraintMaxMoves
	}
	acts := make([]Action, 0, len(cands))
	for _, a := range cands {
		p.agents[a.ID] = &record{side: lent, movedAt: now}
		p.moved[a.ID] = now
		p.counters.MovesToInbound++
		acts = append(acts, LendToInbound(a.ID))
	}
	return acts, restraint
}

// giveBack returns lent agents: idle Available ones first (idle longest
// first), then those in wrap-up (free soonest), then those on a call (on it
// longest first); ties by agent ID. Busy agents get ReturnAfterCall so their
// call is never cut.
func (p *Policy) giveBack(agents []Agent, now time.Time) ([]Action, Restraint) {
	rank := func(s Situation) int {
		switch s {
		case InboundAvailable:
			return 0
		case WrapUp:
			return 1
		case InboundBusy:
			return 2
		}
		return -1
	}
	var cands []Agent
	lentAny := false
	for _, a := range agents {
		r := p.agents[a.ID]
		if r == nil || r.side != lent {
			continue
		}
		lentAny = true
		if rank(a.Situation) >= 0 && p.movable(a, now) {
			cands = append(cands, a)
		}
	}
	if !lentAny {
		return nil, RestraintNone
	}
	slices.SortStableFunc(cands, func(a, b Agent) int {
		return cmp.Or(cmp.Compare(rank(a.Situation), rank(b.Situation)), a.Since.Compare(b.Since))
	})
	restraint := RestraintNone
	switch {
	case len(cands) == 0:
		return nil, RestraintNoEligible
	case len(cands) > p.cfg.MaxMovesPerDecision:
		cands, restraint = cands[:p.cfg.MaxMovesPerDecision], RestraintMaxMoves
	}
	acts := make([]Action, 0, len(cands))
	for _, a := range cands {
		when := ReturnAfterCall
		if a.Situation == InboundAvailable {
			when = ReturnNow
		}
		p.agents[a.ID] = &record{side: returning, movedAt: now}
		p.moved[a.ID] = now
		p.counters.MovesToOutbound++
		acts = append(acts, ReturnToOutbound(a.ID, p.cfg.ReturnReasonCode, when))
	}
	return acts, restraint
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// compareIDs orders agent IDs numerically when both are decimal numbers
// (CTI agent IDs usually are, and "9" before "10" is what people expect),
// otherwise as strings; it is a total order, so ties are broken
// deterministically.
func compareIDs(a, b string) int {
	if isDigits(a) && isDigits(b) {
		ta, tb := strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
		if c := cmp.Or(cmp.Compare(len(ta), len(tb)), strings.Compare(ta, tb)); c != 0 {
			return c
		}
	}
	return strings.Compare(a, b)
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
