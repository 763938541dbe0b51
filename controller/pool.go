package controller

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/ipcclab/ipcclab/controller/dialer"
	"github.com/ipcclab/ipcclab/internal/sim"
	"github.com/ipcclab/ipcclab/protocol/cti"
)

// Pool mode dials the campaign from dialer ports (CTI ports: CallManager
// lines with no agent behind them) instead of from each agent's phone, the
// way a predictive dialer must: a call belongs to no agent until a live
// person answers it. It is the CTI-only form of Cisco's dialer: every call
// leaves with MAKE_PREDICTIVE_CALL_REQ from a free port; a live answer lands
// on the port and the controller moves the customer to a free campaign agent
// with a single-step TRANSFER_CALL_REQ. If no agent is free within
// ConnectWithin (2 s, the FTC/FCC/Ofcom rule, dialer-anchors.md §3) the
// customer hears the safe-harbour message on the port, the call is cleared
// and it counts as abandoned.
//
// How many calls to place is the campaign's dialer.Strategy, asked once per
// Tick; while inbound is behind the blending pacing factor hides part of the
// blended agents from it (poolEarmark; step 2 of the call flow: slow
// outbound first, then lend agents), and the free ports and MaxInFlight cap
// it.

// PoolConfig configures pool mode.
type PoolConfig struct {
	// Ports are the dialer ports' extensions (originating devices).
	Ports []string
	// Strategy decides how many calls to place; the core owns it.
	Strategy dialer.Strategy
	// ConnectWithin is how long a live answer may wait for an agent before
	// it is abandoned (0: 2 s).
	ConnectWithin time.Duration
	// SafeHarbor is how long the safe-harbour message plays before the
	// port hangs up (0: 6 s).
	SafeHarbor time.Duration
	// MaxInFlight caps the calls dialing or waiting at once (0: the number
	// of ports).
	MaxInFlight int
	// Tick is the decision interval (0: 1 s, VICIdial's placement loop).
	Tick time.Duration
	// AbandonLimit is the campaign's limit, for the report (0: 0.03).
	AbandonLimit float64
	// UKOfcom reports the abandon rate the UK way: Abandons.RateUK over
	// the last 24 h (dialer-anchors.md §1.4, §3).
	UKOfcom bool
}

func (p *PoolConfig) fill() {
	if p.ConnectWithin == 0 {
		p.ConnectWithin = 2 * time.Second
	}
	if p.SafeHarbor == 0 {
		p.SafeHarbor = 6 * time.Second
	}
	if p.MaxInFlight == 0 {
		p.MaxInFlight = len(p.Ports)
	}
	if p.Tick == 0 {
		p.Tick = time.Second
	}
	if p.AbandonLimit == 0 {
		p.AbandonLimit = 0.03
	}
}

// Validate reports every invalid field.
func (p PoolConfig) Validate() error {
	var errs []error
	if len(p.Ports) == 0 {
		errs = append(errs, errors.New("controller: Config.Pool.Ports: at least one dialer port is required"))
	}
	seen := map[string]bool{}
	for i, port := range p.Ports {
		if port == "" || seen[port] {
			errs = append(errs, fmt.Errorf("controller: Config.Pool.Ports[%d] %q: empty or repeated", i, port))
		}
		seen[port] = true
	}
	if p.Strategy == nil {
		errs = append(errs, errors.New("controller: Config.Pool.Strategy is required"))
	}
	if p.ConnectWithin < 0 || p.ConnectWithin > 2*time.Second {
		errs = append(errs, fmt.Errorf("controller: Config.Pool.ConnectWithin %v: want 0 (2 s) .. 2 s, the regulators' limit", p.ConnectWithin))
	}
	if p.SafeHarbor < 0 || p.MaxInFlight < 0 || p.Tick < 0 {
		errs = append(errs, fmt.Errorf("controller: Config.Pool: SafeHarbor %v, MaxInFlight %d, Tick %v: want ≥ 0", p.SafeHarbor, p.MaxInFlight, p.Tick))
	}
	if p.AbandonLimit < 0 || p.AbandonLimit >= 1 {
		errs = append(errs, fmt.Errorf("controller: Config.Pool.AbandonLimit %v: want 0 ≤ limit < 1", p.AbandonLimit))
	}
	return errors.Join(errs...)
}

type poolPhase uint8

const (
	poolDialing   poolPhase = iota + 1 // placed, not answered
	poolWaiting                        // live answer on the port, no agent yet
	poolConnected                      // transferred to an agent
	poolHarbor                         // abandoned: safe-harbour message, then clear
)

type poolCall struct {
	id        uint32
	port      string
	number    string
	placed    time.Time
	answered  time.Time
	connected time.Time
	phase     poolPhase
	agent     string // transfer target (pending or done)
	pending   bool   // TRANSFER_CALL_REQ in flight
	settled   bool
	onPort    bool
	deadline  sim.Timer
	att       *attempt // the journaled attempt (Config.Records)
}

type poolState struct {
	cfg     PoolConfig
	free    []string
	held    map[string]uint32 // port → call (0 while the dial is unconfirmed)
	calls   map[uint32]*poolCall
	waiting []uint32
	tick    sim.Timer
	ab      dialer.Abandons
	uk      dialer.AbandonWindow // the last 24 h, for UKOfcom
	late    int                  // connections after ConnectWithin (a transfer in flight at the deadline)
}

func newPool(cfg PoolConfig) *poolState {
	cfg.fill()
	p := &poolState{cfg: cfg, held: map[string]uint32{}, calls: map[uint32]*poolCall{}}
	p.free = append(p.free, cfg.Ports...)
	return p
}

// poolStart arms the decision tick once the session is open.
func (c *Core) poolStart() {
	if c.pool == nil {
		return
	}
	c.pool.tick = sim.After(c.sched, c.pool.cfg.Tick, c.poolTick)
}

// poolClosed forgets the calls: they are not observable any more.
func (c *Core) poolClosed() {
	p := c.pool
	if p == nil {
		return
	}
	c.sched.Cancel(p.tick)
	for _, pc := range p.calls {
		c.sched.Cancel(pc.deadline)
		c.endAttempt(pc.att, OutcomeUnknown, c.sched.Now())
	}
	for _, a := range c.order {
		a.poolCall, a.reserved = 0, 0
	}
	p.calls = map[uint32]*poolCall{}
	p.held = map[string]uint32{}
	p.waiting = nil
	p.free = append(p.free[:0], p.cfg.Ports...)
}

// poolPhaseOf says what a campaign agent is doing, ok false when the agent
// is not working the campaign now (lent, logged out, on an inbound call,
// not ready for another reason).
func (c *Core) poolPhaseOf(a *agentView, now time.Time) (dialer.Phase, time.Duration, bool) {
	if c.isLent(a) {
		return 0, 0, false
	}
	if a.poolCall != 0 {
		return dialer.Talking, now.Sub(a.talkFrom), true
	}
	if a.reserved != 0 {
		return dialer.Talking, 0, true // about to be: a transfer is in flight
	}
	switch {
	case a.inICM:
		if !a.loggedOn {
			return 0, 0, false
		}
		switch a.state {
		case cti.AgentStateNotReady:
			if a.outCall != 0 {
				return 0, 0, false
			}
			return dialer.Ready, now.Sub(a.since), true
		case cti.AgentStateWorkNotReady, cti.AgentStateWorkReady:
			if a.wrapping {
				return dialer.WrapUp, now.Sub(a.wrapFrom), true
			}
		}
		return 0, 0, false
	case a.checked:
		if now.Before(a.busyTill) {
			return dialer.WrapUp, now.Sub(a.wrapFrom), true
		}
		since := a.since
		if a.busyTill.After(since) {
			since = a.busyTill
		}
		return dialer.Ready, now.Sub(since), true
	}
	return 0, 0, false
}

func (c *Core) poolTick(now time.Time) {
	p := c.pool
	if !c.open {
		return
	}
	p.tick = sim.After(c.sched, p.cfg.Tick, c.poolTick)
	snap := dialer.Snapshot{Now: now}
	c.poolEarmark(now)
	if c.reserve != nil {
		c.reserveSnapshot(&snap, now)
	}
	for _, a := range c.order {
		if a.earmarked || (c.reserve != nil && a.cfg.Role == Blended) {
			continue
		}
		if ph, in, ok := c.poolPhaseOf(a, now); ok {
			snap.Agents = append(snap.Agents, dialer.AgentLoad{ID: a.cfg.AgentID, Phase: ph, InPhase: in})
		}
	}
	inflight := 0
	for _, pc := range p.calls {
		switch pc.phase {
		case poolDialing:
			snap.Dialing = append(snap.Dialing, now.Sub(pc.placed))
			inflight++
		case poolWaiting:
			snap.Waiting++
			inflight++
		}
	}
	// Dials sent and not yet confirmed are ringing too.
	for _, id := range p.held {
		if id == 0 {
			snap.Dialing = append(snap.Dialing, 0)
			inflight++
		}
	}
	snap.MaxNew = max(0, min(len(p.free), p.cfg.MaxInFlight-inflight))
	k := min(max(p.cfg.Strategy.Decide(snap), 0), snap.MaxNew)
	if c.cfg.Records == nil {
		for range k {
			c.poolDial(now, nil)
		}
		return
	}
	// A pool call belongs to no agent yet: records reserved for an agent
	// (personal recalls) are left to agent mode.
	recs := c.claim(now, k, "")
	for i := range recs {
		c.poolDial(now, &recs[i])
	}
}

// poolDial places one call from a free port: to rec, journaled first, or
// to a synthetic number when rec is nil.
func (c *Core) poolDial(now time.Time, rec *Record) {
	p := c.pool
	if len(p.free) == 0 {
		if rec != nil {
			if err := c.cfg.Records.Release(*rec); err != nil {
				c.logf("controller: record %d: release: %v", rec.ID, err)
			}
		}
		return
	}
	var att *attempt
	var number string
	if rec == nil {
		c.dialSeq++
		number = fmt.Sprintf("%s%07d", c.cfg.NumberPrefix, c.dialSeq)
	} else if att = c.beginAttempt(*rec, now); att == nil {
		return
	} else {
		number = rec.Phone
	}
	port := p.free[0]
	p.free = p.free[1:]
	p.held[port] = 0
	req := &cti.MakePredictiveCallReq{
		PeripheralID:        c.cfg.PeripheralID,
		OriginatingDeviceID: port,
		DialedNumber:        number,
		AlertRings:          alertRings(c.cfg.NoAnswerTimeout),
		CallVariable1:       c.cfg.Campaign,
	}
	att.setCallVars(req)
	c.request(req, pending{kind: reqPoolDial, agent: port, number: number, att: att})
}

func (c *Core) poolDialed(pd pending, conf *cti.MakePredictiveCallConf, now time.Time) {
	p := c.pool
	c.report.Attempts++
	pc := &poolCall{id: conf.NewConnectionCallID, port: pd.agent, number: pd.number, placed: now, phase: poolDialing, att: pd.att}
	p.calls[pc.id] = pc
	p.held[pc.port] = pc.id
}

func (c *Core) poolDialRefused(pd pending) {
	c.report.Failed++
	c.endAttempt(pd.att, OutcomeFailed, c.sched.Now())
	c.poolFreePort(pd.agent)
}

func (c *Core) poolFreePort(port string) {
	p := c.pool
	if _, ok := p.held[port]; !ok {
		return
	}
	delete(p.held, port)
	p.free = append(p.free, port)
}

// poolSettle tells the strategy a call's fate once.
func (c *Core) poolSettle(pc *poolCall, o dialer.Outcome, now time.Time) {
	if pc.settled {
		return
	}
	pc.settled = true
	if o.Live() {
		c.pool.ab.Answered(o == dialer.Connected)
		c.pool.uk.Answered(now, o == dialer.Connected)
	}
	switch o {
	case dialer.Connected:
		c.endAttempt(pc.att, OutcomeConnected, now)
	case dialer.Abandoned:
		c.endAttempt(pc.att, OutcomeAbandoned, now)
	case dialer.Machine:
		c.pool.ab.Machine()
		c.pool.uk.Machine(now)
		c.endAttempt(pc.att, OutcomeMachine, now)
	case dialer.NotAnswered:
		c.endAttempt(pc.att, OutcomeNoAnswer, now) // a no-op after poolFailed's
	}
	c.pool.cfg.Strategy.Settled(dialer.Settled{Placed: pc.placed, At: now, Outcome: o})
}

// poolEstablished handles CALL_ESTABLISHED of a pool call.
func (c *Core) poolEstablished(pc *poolCall, e *cti.CallEstablishedEvent, now time.Time) {
	switch {
	case e.AnsweringDeviceID == pc.port:
		pc.onPort = true
	case pc.agent != "" && c.agents[pc.agent] != nil && e.AnsweringDeviceID == c.agents[pc.agent].cfg.Instrument:
		c.poolConnected(pc, now)
	case pc.phase == poolDialing:
		// The customer answered (the far end's connection).
		pc.phase, pc.answered = poolWaiting, now
		c.pool.waiting = append(c.pool.waiting, pc.id)
		pc.deadline = c.sched.At(now.Add(c.pool.cfg.ConnectWithin), func(at time.Time) { c.poolDeadline(pc.id, at) })
		c.poolMatch(now)
	}
}

// poolEarmark applies step 2 of the call flow to a pool: while the blending
// pacing factor is below 1 (inbound behind), the share 1 − factor of the
// campaign's agents is kept out of the strategy's sight, those closest to
// free first (ready, then in wrap-up, then longest into a call). No new call
// is placed for them, so they come free with nothing waiting, and the next
// blending decision finds them idle on outbound and lends them to ICM. A
// predictive dialer otherwise hands every agent a customer the moment it
// frees up and leaves blending nobody to lend. As the factor ramps back to 1
// they rejoin the campaign.
func (c *Core) poolEarmark(now time.Time) {
	type cand struct {
		a    *agentView
		rank int
		in   time.Duration
	}
	var cs []cand
	for _, a := range c.order {
		a.earmarked = false
		ph, in, ok := c.poolPhaseOf(a, now)
		if !ok || a.cfg.Role != Blended {
			continue // only blended agents can be lent
		}
		rank := 2 // talking
		switch ph {
		case dialer.Ready:
			rank = 0
		case dialer.WrapUp:
			rank = 1
		}
		cs = append(cs, cand{a, rank, in})
	}
	n := int(math.Ceil((1 - c.factor) * float64(len(cs))))
	if c.reserve != nil {
		// Reserve mode shares the idle agents with inbound instead
		// (reserve.go).
		n = 0
	}
	if n <= 0 {
		return
	}
	slices.SortFunc(cs, func(x, y cand) int {
		if x.rank != y.rank {
			return x.rank - y.rank
		}
		return int(y.in - x.in) // longer in phase first
	})
	for _, x := range cs[:min(n, len(cs))] {
		x.a.earmarked = true
	}
}

// poolMatch hands the longest-waiting live answers to free agents, the agent
// ready longest first; agents earmarked for inbound only when no other agent
// is free (a customer on the line comes before a plan).
func (c *Core) poolMatch(now time.Time) {
	p := c.pool
	for len(p.waiting) > 0 {
		pc := p.calls[p.waiting[0]]
		if pc == nil || pc.phase != poolWaiting || pc.pending {
			p.waiting = p.waiting[1:]
			continue
		}
		var best *agentView
		var bestIdle time.Duration
		for _, a := range c.order {
			ph, in, ok := c.poolPhaseOf(a, now)
			if !ok || ph != dialer.Ready || a.refused {
				continue
			}
			better := best == nil || (best.earmarked && !a.earmarked) || (best.earmarked == a.earmarked && in > bestIdle)
			if better {
				best, bestIdle = a, in
			}
		}
		if best == nil {
			if c.reserve != nil {
				c.reservePull(c.poolUnserved(), now)
			}
			return
		}
		p.waiting = p.waiting[1:]
		pc.pending, pc.agent = true, best.cfg.AgentID
		best.reserved = pc.id
		c.request(&cti.TransferCallReq{
			PeripheralID:                 c.cfg.PeripheralID,
			ActiveConnectionCallID:       pc.id,
			ActiveConnectionDeviceIDType: cti.ConnectionIDStatic,
			ActiveConnectionDeviceID:     pc.port,
			HeldConnectionCallID:         0xFFFFFFFF,
			HeldConnectionDeviceIDType:   cti.ConnectionIDNone,
			AgentInstrument:              pc.port,
			DialedNumber:                 best.cfg.Instrument,
		}, pending{kind: reqPoolTransfer, agent: best.cfg.AgentID, call: pc.id})
	}
}

// poolUnserved counts the live answers waiting with no transfer on its way.
func (c *Core) poolUnserved() int {
	n := 0
	for _, id := range c.pool.waiting {
		if pc := c.pool.calls[id]; pc != nil && pc.phase == poolWaiting && !pc.pending {
			n++
		}
	}
	return n
}

func (c *Core) poolConnected(pc *poolCall, now time.Time) {
	a := c.agents[pc.agent]
	if a == nil || pc.phase == poolConnected {
		return
	}
	late := pc.phase == poolHarbor || now.Sub(pc.answered) > c.pool.cfg.ConnectWithin
	pc.phase, pc.pending, pc.connected = poolConnected, false, now
	c.sched.Cancel(pc.deadline)
	a.reserved, a.poolCall, a.talkFrom = 0, pc.id, now
	c.report.Connects++
	if late {
		// A transfer in flight at the deadline: the customer is with an
		// agent, but after the limit, so it counts as abandoned.
		c.pool.late++
		if !pc.settled {
			c.report.Abandoned++
		}
		c.poolSettle(pc, dialer.Abandoned, now)
		return
	}
	c.poolSettle(pc, dialer.Connected, now)
}

// poolTransferRefused: the agent was taken meanwhile; try another.
func (c *Core) poolTransferRefused(pd pending, what string, now time.Time) {
	pc := c.pool.calls[pd.call]
	if a := c.agents[pd.agent]; a != nil && a.reserved == pd.call {
		a.reserved = 0
	}
	if pc == nil {
		return
	}
	c.logf("controller: transfer of call %d to agent %s refused: %s", pc.id, pd.agent, what)
	pc.pending, pc.agent = false, ""
	if a := c.agents[pd.agent]; a != nil {
		// The wire has not shown why yet (a state change in flight);
		// do not offer this agent another customer until it does.
		a.refused = true
	}
	if pc.phase != poolWaiting {
		return
	}
	if now.Sub(pc.answered) >= c.pool.cfg.ConnectWithin {
		// The deadline passed while the transfer was on its way.
		c.poolDeadline(pc.id, now)
		return
	}
	c.pool.waiting = append([]uint32{pc.id}, c.pool.waiting...)
	c.poolMatch(now)
}

// poolDeadline: ConnectWithin has passed since the live answer.
func (c *Core) poolDeadline(id uint32, now time.Time) {
	pc := c.pool.calls[id]
	if pc == nil || pc.phase != poolWaiting {
		return
	}
	if pc.pending {
		// The transfer is on its way; if it fails the call is abandoned
		// then (poolTransferRefused finds it past its deadline).
		pc.deadline = c.sched.At(now.Add(100*time.Millisecond), func(at time.Time) { c.poolDeadline(id, at) })
		return
	}
	pc.phase = poolHarbor
	c.report.Abandoned++
	c.poolSettle(pc, dialer.Abandoned, now)
	c.logf("controller: call %d to %s abandoned: no agent within %v; safe-harbour message on port %s", id, pc.number, c.pool.cfg.ConnectWithin, pc.port)
	pc.deadline = c.sched.At(now.Add(c.pool.cfg.SafeHarbor), func(time.Time) {
		if c.pool.calls[id] == nil || !c.open {
			return
		}
		c.request(&cti.ClearCallReq{PeripheralID: c.cfg.PeripheralID, ConnectionCallID: id,
			ConnectionDeviceIDType: cti.ConnectionIDStatic, ConnectionDeviceID: pc.port}, pending{kind: reqClear, call: id})
	})
}

// poolFailed: CALL_FAILED (busy, no answer, unobtainable).
func (c *Core) poolFailed(pc *poolCall, cause cti.EventCause, now time.Time) {
	switch cause {
	case 3: // CEC_BUSY
		c.report.Busy++
	case 10, 35: // CEC_CALL_NOT_ANSWERED, CEC_TIME_OUT
		c.report.NoAnswer++
	default:
		c.report.Failed++
	}
	c.endAttempt(pc.att, failedOutcome(cause), now)
	c.poolSettle(pc, dialer.NotAnswered, now)
}

// poolLeft: a connection of a pool call was cleared or transferred away.
func (c *Core) poolLeft(pc *poolCall, device string) {
	if device == pc.port && pc.onPort {
		pc.onPort = false
		c.poolFreePort(pc.port)
	}
}

// poolEnded: END_CALL.
func (c *Core) poolEnded(pc *poolCall, now time.Time) {
	p := c.pool
	delete(p.calls, pc.id)
	c.sched.Cancel(pc.deadline)
	if id, ok := p.held[pc.port]; ok && id == pc.id {
		c.poolFreePort(pc.port)
	}
	switch pc.phase {
	case poolDialing:
		c.poolSettle(pc, dialer.NotAnswered, now)
	case poolWaiting:
		// The customer hung up before an agent came: the dialer's
		// abandon all the same (conservative: the agent was not there).
		c.report.Abandoned++
		c.poolSettle(pc, dialer.Abandoned, now)
	}
	c.endAttempt(pc.att, OutcomeFailed, now) // unsettled otherwise: a no-op
	if a := c.agents[pc.agent]; a != nil {
		if a.reserved == pc.id {
			a.reserved = 0
		}
		if a.poolCall == pc.id {
			a.poolCall = 0
			talk := now.Sub(a.talkFrom)
			if !a.inICM {
				a.talkAcc += talk // ICM agents' talk comes from their states
			}
			a.wrapFrom, a.since = now, now
			if a.inICM {
				switch a.state {
				case cti.AgentStateTalking, cti.AgentStateHold, cti.AgentStateWorkNotReady, cti.AgentStateWorkReady:
					// Wrap-up (or the state change that ends the call) is
					// still to come on the wire.
					a.wrapping, a.lastTalk = true, talk
				default:
					// The PG reported the agent's next state before
					// END_CALL: no wrap-up.
					p.cfg.Strategy.Handled(talk, 0)
				}
				if c.reserve != nil {
					c.reserve.r.Handled(talk)
				}
			} else {
				a.busyTill = now.Add(c.cfg.AfterCallWork)
				p.cfg.Strategy.Handled(talk, c.cfg.AfterCallWork)
				c.sched.At(a.busyTill, func(at time.Time) {
					if c.pool != nil && c.open {
						c.poolMatch(at)
					}
				})
			}
		}
	}
	// The PG reports an agent's next state before END_CALL: an ICM agent
	// without wrap-up is free now, and a customer may be waiting for it.
	c.poolMatch(now)
}

// poolAgentState follows a campaign agent's wrap-up (ICM agents).
func (c *Core) poolAgentState(a *agentView, st cti.AgentState, now time.Time) {
	if !a.wrapping {
		return
	}
	switch st {
	case cti.AgentStateWorkNotReady, cti.AgentStateWorkReady, cti.AgentStateTalking:
		return
	}
	a.wrapping = false
	c.pool.cfg.Strategy.Handled(a.lastTalk, now.Sub(a.wrapFrom))
}

// PoolReport is pool mode's part of the report.
type PoolReport struct {
	Strategy     string
	Ports        int
	LiveAnswered int64
	Abandoned    int64
	AbandonRate  float64
	AbandonLimit float64
	// LateConnects are live answers connected after ConnectWithin (a
	// transfer was in flight at the deadline); they are counted abandoned.
	LateConnects int
	// UKOfcom: AbandonRate is Ofcom's answering-machine adjusted rate over
	// the last 24 h (dialer.Abandons.RateUK) rather than Abandoned over
	// LiveAnswered since the start.
	UKOfcom bool
}

func (c *Core) poolReport() *PoolReport {
	p := c.pool
	if p == nil {
		return nil
	}
	rate := p.ab.Rate()
	if p.cfg.UKOfcom {
		rate = p.uk.Counts(c.sched.Now()).RateUK()
	}
	return &PoolReport{Strategy: p.cfg.Strategy.Name(), Ports: len(p.cfg.Ports), LiveAnswered: p.ab.LiveAnswered,
		Abandoned: p.ab.Abandoned, AbandonRate: rate, AbandonLimit: p.cfg.AbandonLimit, LateConnects: p.late, UKOfcom: p.cfg.UKOfcom}
}

// PacingState is what the campaign's pacing strategy has learned, for the
// adapter to keep in the campaign store (campaign.Store.SavePacing) so that
// a restarted controller resumes from it (dialer.Resumable); ok is false
// outside pool mode or with a strategy that learns nothing to keep.
func (c *Core) PacingState() (st dialer.PacingState, ok bool) {
	if c.pool == nil {
		return dialer.PacingState{}, false
	}
	r, ok := c.pool.cfg.Strategy.(dialer.Resumable)
	if !ok {
		return dialer.PacingState{}, false
	}
	return r.PacingState(), true
}
