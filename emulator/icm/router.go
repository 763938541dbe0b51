// Package icm is the emulated ICM central controller's router for an IPCC
// Enterprise centre: call types and skill groups, the routing script as data
// (Select Longest Available Agent over the targets, else Queue to Skill Group
// with priority), the router queue and delivery from it, and the service
// level counters per call type and skill group in the To5, ToHalf and Today
// windows (ipcc-behaviour.md §1, §2.1).
//
// The router is a pure core on a sim.Scheduler. It learns agent states from
// the PG (AgentChanged) and hands deliveries to Config.Deliver, which the
// centre turns into a PG pre-call.
package icm

import (
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/ipcclab/ipcclab/emulator/pg"
	"github.com/ipcclab/ipcclab/internal/sim"
)

// SkillGroupConfig is an ICM skill group on the CallManager peripheral.
type SkillGroupConfig struct {
	// Number is the peripheral number, ID the skill target ID.
	Number uint32
	ID     uint32
	Name   string
	// ServiceLevelThreshold 0 uses Config.DefaultServiceLevelThreshold.
	ServiceLevelThreshold time.Duration
	// ServiceLevelType 0 uses Config.DefaultServiceLevelType.
	ServiceLevelType SLType
}

// Target is one skill group of a routing script with its queue priority
// 1..10 (0 means the default 5, ipcc-behaviour.md §2.1).
type Target struct {
	SkillGroup uint32
	Priority   int
}

// CallTypeConfig is an ICM call type with its routing script: Select LAA
// over Targets; if no agent is available, queue to all of them with their
// priorities.
type CallTypeConfig struct {
	ID                    uint32
	Name                  string
	ServiceLevelThreshold time.Duration
	ServiceLevelType      SLType
	// DialedNumbers map to this call type.
	DialedNumbers []string
	Targets       []Target
}

// Delivery is the router's decision to send a call to an agent.
type Delivery struct {
	CallID        uint32
	ICMAgentID    uint32
	SkillGroup    uint32
	SkillGroupID  uint32
	Priority      int
	RouterCallKey pg.RouterCallKey
	CallTypeID    uint32
}

// Config configures the router.
type Config struct {
	Scheduler sim.Scheduler
	// Location is the peripheral's time zone for half hours and midnight
	// (default UTC).
	Location    *time.Location
	SkillGroups []SkillGroupConfig
	CallTypes   []CallTypeConfig
	// AbandonCallWaitTime: calls abandoning sooner are short calls
	// (ipcc-behaviour.md §1.1).
	AbandonCallWaitTime time.Duration
	// Defaults for ServiceLevelThreshold/Type 0 (20 s, type 2).
	DefaultServiceLevelThreshold time.Duration
	DefaultServiceLevelType      SLType
	// Deliver sends a routed call to the agent (the PG pre-call). An
	// error means the agent could not take it; the call is requeued.
	Deliver func(Delivery) error
	// OnHalfHour runs at each half-hour boundary, after the ToHalf
	// counters restarted (for SYSTEM_EVENT SYS_HALF_HOUR_CHANGE).
	OnHalfHour func(time.Time)
}

func (c *Config) validate() error {
	if c.Scheduler == nil {
		return errors.New("scheduler: required")
	}
	if c.AbandonCallWaitTime < 0 {
		return fmt.Errorf("abandon_call_wait_time: must not be negative, got %v", c.AbandonCallWaitTime)
	}
	if c.DefaultServiceLevelType < 0 || c.DefaultServiceLevelType > 3 {
		return fmt.Errorf("default_service_level_type: must be 1, 2 or 3, got %d", c.DefaultServiceLevelType)
	}
	nums, ids := map[uint32]int{}, map[uint32]int{}
	for i, sg := range c.SkillGroups {
		f := fmt.Sprintf("skill_groups[%d]", i)
		if sg.Number == 0 || sg.Number == pg.NullSkillGroup {
			return fmt.Errorf("%s.number: must be a skill group number, got %d", f, sg.Number)
		}
		if j, ok := nums[sg.Number]; ok {
			return fmt.Errorf("%s.number: %d already used by skill_groups[%d]", f, sg.Number, j)
		}
		nums[sg.Number] = i
		if sg.ID == 0 || sg.ID == pg.NullSkillGroup {
			return fmt.Errorf("%s.id: must be a skill target id, got %d", f, sg.ID)
		}
		if j, ok := ids[sg.ID]; ok {
			return fmt.Errorf("%s.id: %d already used by skill_groups[%d]", f, sg.ID, j)
		}
		ids[sg.ID] = i
		if sg.ServiceLevelThreshold < 0 {
			return fmt.Errorf("%s.service_level_threshold: must not be negative", f)
		}
		if sg.ServiceLevelType < 0 || sg.ServiceLevelType > 3 {
			return fmt.Errorf("%s.service_level_type: must be 1, 2 or 3, got %d", f, sg.ServiceLevelType)
		}
	}
	cts, dns := map[uint32]int{}, map[string]int{}
	for i, ct := range c.CallTypes {
		f := fmt.Sprintf("call_types[%d]", i)
		if ct.ID == 0 {
			return fmt.Errorf("%s.id: required", f)
		}
		if j, ok := cts[ct.ID]; ok {
			return fmt.Errorf("%s.id: %d already used by call_types[%d]", f, ct.ID, j)
		}
		cts[ct.ID] = i
		if ct.ServiceLevelThreshold < 0 {
			return fmt.Errorf("%s.service_level_threshold: must not be negative", f)
		}
		if ct.ServiceLevelType < 0 || ct.ServiceLevelType > 3 {
			return fmt.Errorf("%s.service_level_type: must be 1, 2 or 3, got %d", f, ct.ServiceLevelType)
		}
		for k, dn := range ct.DialedNumbers {
			if dn == "" {
				return fmt.Errorf("%s.dialed_numbers[%d]: empty", f, k)
			}
			if j, ok := dns[dn]; ok {
				return fmt.Errorf("%s.dialed_numbers[%d]: %q already maps to call_types[%d]", f, k, dn, j)
			}
			dns[dn] = i
		}
		if len(ct.Targets) == 0 {
			return fmt.Errorf("%s.targets: the routing script needs at least one skill group", f)
		}
		seen := map[uint32]bool{}
		for k, t := range ct.Targets {
			if _, ok := nums[t.SkillGroup]; !ok {
				return fmt.Errorf("%s.targets[%d].skill_group: unknown skill group %d", f, k, t.SkillGroup)
			}
			if seen[t.SkillGroup] {
				return fmt.Errorf("%s.targets[%d].skill_group: %d listed twice", f, k, t.SkillGroup)
			}
			seen[t.SkillGroup] = true
			if t.Priority < 0 || t.Priority > 10 {
				return fmt.Errorf("%s.targets[%d].priority: must be 1..10, got %d", f, k, t.Priority)
			}
		}
	}
	return nil
}

type skillGroup struct {
	cfg     SkillGroupConfig
	thr     time.Duration
	typ     SLType
	w       *windowed
	queue   []*entry
	members []*ragent
}

type callType struct {
	cfg     CallTypeConfig
	thr     time.Duration
	typ     SLType
	targets []target
	w       *windowed
	queued  int
}

type target struct {
	sg       *skillGroup
	priority int
}

// slClock is one service-level event of a call at a call type or skill
// group (ipcc-behaviour.md §1.2): it starts when the call enters, and ends
// on answer, abandon, RONA or dequeue — or is counted offered the moment the
// threshold expires.
type slClock struct {
	start  time.Time
	timer  sim.Timer
	passed bool
}

type callState int

const (
	csQueued callState = iota
	csRouted
	csAnswered
)

type rcall struct {
	id      uint32
	ct      *callType
	key     pg.RouterCallKey
	arrived time.Time
	state   callState
	ctClock *slClock
	// sgClocks are the live skill-group SL events, by skill group.
	sgClocks map[*skillGroup]*slClock
	sgOrder  []*skillGroup
	entries  []*entry
	queuedAt time.Time
	everQ    bool
	routedSG *skillGroup
	agent    *ragent
}

type entry struct {
	call     *rcall
	sg       *skillGroup
	priority int
	since    time.Time
	seq      uint64
}

type ragent struct {
	st         pg.AgentStatus
	availSince time.Time
	sgs        []*skillGroup
	refused    bool
}

// Router is the ICM router.
type Router struct {
	cfg     Config
	sched   sim.Scheduler
	loc     *time.Location
	sgs     []*skillGroup
	sgByNum map[uint32]*skillGroup
	sgByID  map[uint32]*skillGroup
	cts     []*callType
	ctByID  map[uint32]*callType
	ctByDN  map[string]*callType
	agents  map[uint32]*ragent
	calls   map[uint32]*rcall
	seq     uint64
	keyID   uint32
	kicked  bool
	queued  int
	history []Interval
}

// Interval is one completed half hour of a call type.
type Interval struct {
	Start      time.Time
	CallTypeID uint32
	Counters   Counters
}

// New validates cfg and returns the router.
func New(cfg Config) (*Router, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	r := &Router{cfg: cfg, sched: cfg.Scheduler, loc: cfg.Location, sgByNum: map[uint32]*skillGroup{},
		sgByID: map[uint32]*skillGroup{}, ctByID: map[uint32]*callType{}, ctByDN: map[string]*callType{},
		agents: map[uint32]*ragent{}, calls: map[uint32]*rcall{}}
	if r.loc == nil {
		r.loc = time.UTC
	}
	defThr, defTyp := cfg.DefaultServiceLevelThreshold, cfg.DefaultServiceLevelType
	if defThr == 0 {
		defThr = 20 * time.Second
	}
	if defTyp == SLDefault {
		defTyp = SLAbandonsNegative
	}
	for _, c := range cfg.SkillGroups {
		sg := &skillGroup{cfg: c, thr: c.ServiceLevelThreshold, typ: c.ServiceLevelType, w: r.newWindowed()}
		if sg.thr == 0 {
			sg.thr = defThr
		}
		if sg.typ == SLDefault {
			sg.typ = defTyp
		}
		r.sgs = append(r.sgs, sg)
		r.sgByNum[c.Number] = sg
		r.sgByID[c.ID] = sg
	}
	for _, c := range cfg.CallTypes {
		ct := &callType{cfg: c, thr: c.ServiceLevelThreshold, typ: c.ServiceLevelType, w: r.newWindowed()}
		if ct.thr == 0 {
			ct.thr = defThr
		}
		if ct.typ == SLDefault {
			ct.typ = defTyp
		}
		for _, t := range c.Targets {
			p := t.Priority
			if p == 0 {
				p = 5
			}
			ct.targets = append(ct.targets, target{sg: r.sgByNum[t.SkillGroup], priority: p})
		}
		r.cts = append(r.cts, ct)
		r.ctByID[c.ID] = ct
		for _, dn := range c.DialedNumbers {
			r.ctByDN[dn] = ct
		}
	}
	r.armHalfHour()
	return r, nil
}

func (r *Router) armHalfHour() {
	lt := r.sched.Now().In(r.loc)
	base := time.Date(lt.Year(), lt.Month(), lt.Day(), lt.Hour(), 0, 0, 0, r.loc)
	next := base.Add(30 * time.Minute)
	if !next.After(lt) {
		next = base.Add(time.Hour)
	}
	r.sched.At(next, func(now time.Time) {
		day, half, _ := r.indexes(now)
		start := now.Add(-30 * time.Minute)
		for _, ct := range r.cts {
			if ct.w.halfIdx == half-1 {
				r.history = append(r.history, Interval{Start: start, CallTypeID: ct.cfg.ID, Counters: ct.w.half})
			} else {
				r.history = append(r.history, Interval{Start: start, CallTypeID: ct.cfg.ID})
			}
			ct.w.roll(day, half)
		}
		for _, sg := range r.sgs {
			sg.w.roll(day, half)
		}
		if r.cfg.OnHalfHour != nil {
			r.cfg.OnHalfHour(now)
		}
		r.armHalfHour()
	})
}

// History returns every completed half hour of every call type, oldest first.
func (r *Router) History() []Interval { return append([]Interval(nil), r.history...) }

// ---- calls ----

// NewCallRequest is a call reaching the routing script.
type NewCallRequest struct {
	// CallID is the CallManager ConnectionCallID the router will hand back
	// in Delivery and expects in the call-progress methods.
	CallID       uint32
	DialedNumber string
	// CallTypeID, if non-zero, overrides the dialed-number lookup.
	CallTypeID uint32
}

// ErrUnknownDialedNumber is returned for a dialed number no call type maps.
var ErrUnknownDialedNumber = errors.New("icm: no call type for dialed number")

// NewCall runs the call type's script: Select LAA over the targets; if an
// agent is available the call is delivered at once, otherwise it is queued
// to every target with its priority (ipcc-behaviour.md §2.1). The returned
// key is the call's RouterCallKey.
func (r *Router) NewCall(req NewCallRequest) (pg.RouterCallKey, error) {
	ct := r.ctByID[req.CallTypeID]
	if ct == nil {
		ct = r.ctByDN[req.DialedNumber]
	}
	if ct == nil {
		return pg.RouterCallKey{}, fmt.Errorf("%w %q", ErrUnknownDialedNumber, req.DialedNumber)
	}
	if _, dup := r.calls[req.CallID]; dup {
		return pg.RouterCallKey{}, fmt.Errorf("icm: call %d already routed", req.CallID)
	}
	now := r.sched.Now()
	day, _, _ := r.indexes(now)
	r.keyID++
	c := &rcall{id: req.CallID, ct: ct, arrived: now, sgClocks: map[*skillGroup]*slClock{},
		key: pg.RouterCallKey{Day: uint32(day), CallID: r.keyID}}
	r.calls[c.id] = c
	r.add(ct.w, func(k *Counters) { k.CallsOffered++ })
	// Call type service level starts when the call reaches the script.
	c.ctClock = r.startClock(ct.w, ct.thr)
	if a, t := r.selectLAA(ct); a != nil {
		r.route(c, a, t.sg, t.priority)
	} else {
		r.enqueue(c)
	}
	return c.key, nil
}

func (r *Router) startClock(w *windowed, thr time.Duration) *slClock {
	k := &slClock{start: r.sched.Now()}
	k.timer = r.sched.At(k.start.Add(thr), func(time.Time) {
		k.timer, k.passed = 0, true
		r.add(w, func(c *Counters) { c.ServiceLevelCallsOffered++ })
	})
	return k
}

// ends a clock; returns whether it was still within the threshold.
func (r *Router) stopClock(k *slClock) bool {
	if k == nil || k.passed {
		return false
	}
	r.sched.Cancel(k.timer)
	k.timer = 0
	k.passed = true
	return true
}

func (r *Router) sgClock(c *rcall, sg *skillGroup) {
	if _, ok := c.sgClocks[sg]; ok {
		return
	}
	c.sgClocks[sg] = r.startClock(sg.w, sg.thr)
	c.sgOrder = append(c.sgOrder, sg)
	r.add(sg.w, func(k *Counters) { k.CallsOffered++ })
}

func (r *Router) dropSGClock(c *rcall, sg *skillGroup) {
	delete(c.sgClocks, sg)
	for i, s := range c.sgOrder {
		if s == sg {
			c.sgOrder = append(c.sgOrder[:i], c.sgOrder[i+1:]...)
			break
		}
	}
}

func routable(a *ragent) bool {
	return a.st.LoggedOn && a.st.State == pg.StateAvailable && a.st.Availability == pg.ICMAvailable && !a.refused
}

// laaLess orders agents by longest available, then by skill target ID so
// that ties are deterministic.
func laaLess(a, b *ragent) bool {
	if !a.availSince.Equal(b.availSince) {
		return a.availSince.Before(b.availSince)
	}
	return a.st.ICMAgentID < b.st.ICMAgentID
}

// selectLAA is the Select node with the LAA rule: the agent available
// longest across all targets; the skill group is the first target the agent
// belongs to.
func (r *Router) selectLAA(ct *callType) (*ragent, target) {
	var best *ragent
	var bestT target
	for _, t := range ct.targets {
		for _, a := range t.sg.members {
			if !routable(a) {
				continue
			}
			if best == nil || laaLess(a, best) {
				best, bestT = a, t
			}
		}
	}
	return best, bestT
}

func (r *Router) enqueue(c *rcall) {
	now := r.sched.Now()
	c.state = csQueued
	if !c.everQ {
		c.everQ, c.queuedAt = true, now
		r.add(c.ct.w, func(k *Counters) { k.RouterQueueCalls++ })
	}
	for _, t := range c.ct.targets {
		r.seq++
		e := &entry{call: c, sg: t.sg, priority: t.priority, since: c.queuedAt, seq: r.seq}
		t.sg.queue = append(t.sg.queue, e)
		c.entries = append(c.entries, e)
		if _, ok := c.sgClocks[t.sg]; !ok {
			r.sgClock(c, t.sg)
			r.add(t.sg.w, func(k *Counters) { k.RouterQueueCalls++ })
		}
	}
	c.ct.queued++
	r.queued++
}

func (r *Router) dequeue(c *rcall) {
	if c.state != csQueued || len(c.entries) == 0 {
		return
	}
	for _, e := range c.entries {
		q := e.sg.queue
		for i, x := range q {
			if x == e {
				e.sg.queue = append(q[:i], q[i+1:]...)
				break
			}
		}
	}
	c.entries = nil
	c.ct.queued--
	r.queued--
}

// route hands the call to the agent. Skill-group SL events of the other
// queues end as dequeued (ipcc-behaviour.md §1.3 "dequeued").
func (r *Router) route(c *rcall, a *ragent, sg *skillGroup, priority int) {
	r.dequeue(c)
	for _, other := range append([]*skillGroup(nil), c.sgOrder...) {
		if other == sg {
			continue
		}
		if r.stopClock(c.sgClocks[other]) {
			r.add(other.w, func(k *Counters) { k.ServiceLevelDequeued++ })
		}
		r.dropSGClock(c, other)
	}
	r.sgClock(c, sg)
	c.state, c.routedSG, c.agent = csRouted, sg, a
	err := error(nil)
	if r.cfg.Deliver != nil {
		err = r.cfg.Deliver(Delivery{CallID: c.id, ICMAgentID: a.st.ICMAgentID, SkillGroup: sg.cfg.Number,
			SkillGroupID: sg.cfg.ID, Priority: priority, RouterCallKey: c.key, CallTypeID: c.ct.cfg.ID})
	}
	if err != nil {
		// The PG refused the agent: do not pick it again until its state
		// changes, and put the call back in its queues.
		a.refused = true
		c.routedSG, c.agent = nil, nil
		r.enqueue(c)
		r.kick()
	}
}

// kick schedules a delivery pass at the current instant. Deferring keeps the
// router out of the PG's call stack (the PG reports a state change from
// inside its own command).
func (r *Router) kick() {
	if r.kicked || r.queued == 0 {
		return
	}
	r.kicked = true
	r.sched.At(r.sched.Now(), func(time.Time) {
		r.kicked = false
		r.dispatch()
	})
}

// dispatch delivers queued calls to routable agents: agents in LAA order,
// each taking the highest-priority, longest-waiting call among the queues of
// its skill groups (ipcc-behaviour.md §2.1).
func (r *Router) dispatch() {
	if r.queued == 0 {
		return
	}
	var free []*ragent
	for _, a := range r.agents {
		if routable(a) {
			free = append(free, a)
		}
	}
	sort.Slice(free, func(i, j int) bool { return laaLess(free[i], free[j]) })
	for _, a := range free {
		if r.queued == 0 {
			return
		}
		if !routable(a) {
			continue
		}
		if e := r.bestFor(a); e != nil {
			r.route(e.call, a, e.sg, e.priority)
		}
	}
}

func better(e, f *entry) bool {
	if e.priority != f.priority {
		return e.priority > f.priority
	}
	if !e.since.Equal(f.since) {
		return e.since.Before(f.since)
	}
	return e.seq < f.seq
}

func (r *Router) bestFor(a *ragent) *entry {
	var best *entry
	for _, sg := range a.sgs {
		for _, e := range sg.queue {
			if best == nil || better(e, best) {
				best = e
			}
		}
	}
	return best
}

// AgentChanged updates the router's view of an agent from the PG. An agent
// becoming Available (ICM available) starts its LAA clock and may take a
// queued call.
func (r *Router) AgentChanged(st pg.AgentStatus) {
	a, ok := r.agents[st.ICMAgentID]
	if !ok {
		a = &ragent{}
		r.agents[st.ICMAgentID] = a
	}
	was := routable(a)
	a.refused = false
	changed := !ok || len(a.sgs) != len(st.SkillGroups)
	if !changed {
		for i, ref := range st.SkillGroups {
			if a.sgs[i].cfg.Number != ref.Number {
				changed = true
				break
			}
		}
	}
	a.st = st
	if changed {
		r.setMembership(a)
	}
	if routable(a) && !was {
		a.availSince = r.sched.Now()
		r.kick()
	}
}

func (r *Router) setMembership(a *ragent) {
	for _, sg := range a.sgs {
		for i, m := range sg.members {
			if m == a {
				sg.members = append(sg.members[:i], sg.members[i+1:]...)
				break
			}
		}
	}
	a.sgs = nil
	for _, ref := range a.st.SkillGroups {
		if sg := r.sgByNum[ref.Number]; sg != nil {
			a.sgs = append(a.sgs, sg)
			sg.members = append(sg.members, a)
			sort.Slice(sg.members, func(i, j int) bool { return sg.members[i].st.ICMAgentID < sg.members[j].st.ICMAgentID })
		}
	}
}

// CallAnswered: the agent answered the routed call.
func (r *Router) CallAnswered(callID uint32) {
	c, ok := r.calls[callID]
	if !ok || c.state != csRouted {
		return
	}
	now := r.sched.Now()
	c.state = csAnswered
	ctIn := r.stopClock(c.ctClock)
	r.add(c.ct.w, func(k *Counters) {
		k.CallsAnswered++
		k.AnswerWaitTime += now.Sub(c.arrived)
		if ctIn {
			k.ServiceLevelCalls++
			k.ServiceLevelCallsOffered++
		}
	})
	if sg := c.routedSG; sg != nil {
		clk := c.sgClocks[sg]
		in := r.stopClock(clk)
		r.add(sg.w, func(k *Counters) {
			k.CallsAnswered++
			k.AnswerWaitTime += now.Sub(clk.start)
			if in {
				k.ServiceLevelCalls++
				k.ServiceLevelCallsOffered++
			}
		})
	}
}

// CallAbandoned: the caller hung up before an agent answered — in the queue
// (counted for every skill group it was queued to, ipcc-behaviour.md §1.2)
// or while routed/ringing at an agent.
func (r *Router) CallAbandoned(callID uint32) {
	c, ok := r.calls[callID]
	if !ok || c.state == csAnswered {
		return
	}
	now := r.sched.Now()
	short := now.Sub(c.arrived) < r.cfg.AbandonCallWaitTime
	inQueue := c.state == csQueued
	r.dequeue(c)
	count := func(w *windowed, clk *slClock) {
		in := r.stopClock(clk)
		r.add(w, func(k *Counters) {
			switch {
			case short:
				k.ShortCalls++
				return
			case inQueue:
				k.RouterCallsAbandQ++
			default:
				k.RouterCallsAbandToAgent++
			}
			if in {
				k.ServiceLevelAband++
				k.ServiceLevelCallsOffered++
			}
		})
	}
	count(c.ct.w, c.ctClock)
	for _, sg := range c.sgOrder {
		count(sg.w, c.sgClocks[sg])
	}
	delete(r.calls, callID)
}

// CallRONA: the agent did not answer; the call is requeued to its targets
// with the next RouterCallKey sequence number. The skill group it rang from
// counts the RONA (within the threshold: SL offered and SL RONA, §1.2); the
// call type's SL event continues.
func (r *Router) CallRONA(callID uint32) {
	c, ok := r.calls[callID]
	if !ok || c.state != csRouted {
		return
	}
	r.add(c.ct.w, func(k *Counters) { k.RedirectNoAns++ })
	if sg := c.routedSG; sg != nil {
		in := r.stopClock(c.sgClocks[sg])
		r.add(sg.w, func(k *Counters) {
			k.RedirectNoAns++
			if in {
				k.ServiceLevelRona++
				k.ServiceLevelCallsOffered++
			}
		})
		r.dropSGClock(c, sg)
	}
	c.key.Sequence++
	c.routedSG, c.agent = nil, nil
	// Requeue (the requery branch of the script) and let the delivery pass
	// pick the longest-available agent; deferring keeps the router out of
	// the PG's RONA handler.
	r.enqueue(c)
	r.kick()
}

// CallHandled: the agent finished the call and its after-call work.
func (r *Router) CallHandled(callID uint32, talk, afterCall time.Duration) {
	c, ok := r.calls[callID]
	if !ok || c.state != csAnswered {
		return
	}
	fn := func(k *Counters) {
		k.HandledCalls++
		k.HandledCallsTalkTime += talk
		k.HandledCallsAfterCallTime += afterCall
		k.HandledCallsTime += talk + afterCall
	}
	r.add(c.ct.w, fn)
	if c.routedSG != nil {
		r.add(c.routedSG.w, fn)
	}
	for _, sg := range c.sgOrder {
		r.stopClock(c.sgClocks[sg])
	}
	delete(r.calls, callID)
}

// CallKey returns the RouterCallKey of a call the router knows.
func (r *Router) CallKey(callID uint32) (pg.RouterCallKey, bool) {
	c, ok := r.calls[callID]
	if !ok {
		return pg.RouterCallKey{}, false
	}
	return c.key, true
}

// Queued is the number of calls in the router queue.
func (r *Router) Queued() int { return r.queued }
