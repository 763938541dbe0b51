package pg

import (
	"time"
)

// Call control: make call, hold/retrieve, consultation, transfer
// (consultative and single-step), conference, alternate, reconnect, deflect
// and DTMF, with the event sequences of cti-protocol.md §5.9(b) and
// ipcc-behaviour.md §3.3–§3.4.
//
// Model. A call that call control touches keeps its connections as parties
// (multi call): agents' phones and outside legs, each with its
// LocalConnectionState. An agent has at most one active (or alerting) call
// (agent.call) and one held call (agent.held). The agent's state follows its
// connections: TALKING while it has an active call (also while dialing),
// HOLD when its only call is held, RESERVED while a direct call rings at an
// agent who was Available; when it has no call left it goes back to the
// state before (or the pending state), with wrap-up per the desk settings
// when it talked on an incoming (routed or transferred-in customer) or
// outgoing (MakeCall, predictive) call.
//
// Transfers and conferences merge the held call into the active
// (consultation) call, which survives: the held call ends (END_CALL), the
// customer's leg moves to the surviving call, and the surviving call takes
// over the customer call's context. After a transfer the transferring agent
// leaves: END_CALL for its connection on the surviving call, and a new
// BEGIN_CALL for the surviving call at the transferred-to device opens its
// context there (so every BEGIN_CALL has its END_CALL on the same
// connection). After a conference a CALL_DATA_UPDATE_EVENT carries the
// customer call's context to the surviving call.

// workMode is how an agent's involvement ends: wrap-up for incoming or
// outgoing calls per the desk settings, none for calls between extensions.
type workMode int

const (
	modeDirect workMode = iota
	modeIncoming
	modeOutgoing
)

// party is one connection of a multi call.
type party struct {
	dev   Device
	conn  Connection
	agent *agent // nil for an outside party
	ext   bool   // an outside leg through the gateway
	// line is the line (Config.Lines) of a dialer port's reservation call
	// or of the outbound-only agent it reserves (reservation.go).
	line *line
	// trunkID is the call ID the network knows an outside leg by (what
	// Trunk* and Hooks.Dial use); it stays when the leg moves to another
	// call.
	trunkID uint32
	lcs     LocalConnectionState
	dir     Direction
}

// CallParty is one connection of a call with its state (CallInfo.Parties).
type CallParty struct {
	Connection Connection
	Device     Device
	State      LocalConnectionState
}

func (c *call) partyOf(a *agent) *party {
	for _, pt := range c.parties {
		if pt.agent == a {
			return pt
		}
	}
	return nil
}

func (c *call) extParty(trunkID uint32) *party {
	for _, pt := range c.parties {
		if pt.ext && pt.trunkID == trunkID {
			return pt
		}
	}
	return nil
}

func (c *call) remove(pt *party) {
	for i, q := range c.parties {
		if q == pt {
			c.parties = append(c.parties[:i], c.parties[i+1:]...)
			return
		}
	}
}

func (c *call) others(pt *party) []*party {
	var out []*party
	for _, q := range c.parties {
		if q != pt {
			out = append(out, q)
		}
	}
	return out
}

func (c *call) phaseName() string {
	n, alerting, initiate, extAlerting := 0, false, false, false
	for _, pt := range c.parties {
		switch pt.lcs {
		case LCSConnect, LCSHold:
			n++
		case LCSAlerting:
			if pt.ext {
				extAlerting = true
			} else {
				alerting = true
			}
		case LCSInitiate:
			initiate = true
		}
	}
	switch {
	case n >= 2:
		return "connected"
	case alerting:
		return "alerting"
	case extAlerting:
		return "far-alerting"
	case initiate:
		return "dialing"
	}
	return "connected"
}

func connectedParties(c *call) []ConnectedParty {
	out := make([]ConnectedParty, len(c.parties))
	for i, pt := range c.parties {
		out[i] = ConnectedParty{Connection: pt.conn, DeviceType: pt.dev.Type}
	}
	return out
}

// trunkCall finds the call an outside leg is on by the ID the network knows
// it by.
func (p *PG) trunkCall(id uint32) (*call, bool) {
	if c, ok := p.calls[id]; ok {
		return c, true
	}
	c, ok := p.moved[id]
	return c, ok
}

// partiesOf returns the connections of a call: the parties of a multi call,
// or those an inbound or predictive call of an agent would have if promoted.
func (p *PG) partiesOf(c *call) []*party {
	if c.multi {
		return c.parties
	}
	a := c.agent
	if a == nil || (c.phase != phaseConnected && c.phase != phaseAlerting) {
		return nil
	}
	cust := &party{dev: c.customer, ext: true, trunkID: c.id, lcs: LCSConnect,
		conn: Connection{CallID: c.id, DeviceIDType: ConnectionDynamic, DeviceID: c.customer.ID}}
	ag := &party{dev: a.device(), conn: a.conn(c.id), agent: a, lcs: LCSConnect, dir: a.dir}
	if c.phase == phaseAlerting {
		ag.lcs = LCSAlerting
	}
	return []*party{cust, ag}
}

// promote turns an inbound or predictive call of an agent into a multi call.
func (p *PG) promote(c *call) {
	if c.multi {
		return
	}
	c.parties = p.partiesOf(c)
	c.multi = true
	p.sched.Cancel(c.timer)
	c.timer = 0
	c.calling = c.customer
	a := c.agent
	if c.kind == kindPredictive {
		c.calling = a.device()
	}
	a.mode = modeIncoming
	if c.kind == kindPredictive {
		a.mode = modeOutgoing
	}
	a.talked, a.talkStart, a.workCall = c.phase == phaseConnected, c.answered, c.id
}

// takeCall gives the agent a call to be active on (or ringing). An agent
// that had no call remembers the state to return to.
func (p *PG) takeCall(a *agent, c *call, mode workMode) {
	if a.call == nil && a.held == nil {
		a.prior, a.priorReason = a.state, a.reason
		a.mode, a.talked, a.workCall = mode, false, c.id
	}
	a.call = c
}

// free reports whether a direct call may ring at the agent.
func (p *PG) free(a *agent) bool {
	return a.loggedOn && a.call == nil && a.held == nil && (a.state == StateAvailable || a.state == StateNotReady)
}

// busyState sets the state of an agent that still has a call.
func (p *PG) busyState(a *agent) {
	if !a.loggedOn || a.quiet {
		return
	}
	want, dir, reason := a.state, a.dir, a.reason
	switch {
	case a.call != nil:
		pt := a.call.partyOf(a)
		if pt != nil && pt.lcs == LCSAlerting {
			if a.state == StateAvailable {
				want, dir, reason = StateReserved, pt.dir, 0
			}
		} else {
			want, dir = StateTalking, a.dir
			if pt != nil {
				dir = pt.dir
			}
		}
	case a.held != nil:
		want = StateHold
	default:
		return
	}
	if want != a.state || dir != a.dir {
		p.setState(a, want, reason, dir)
	}
}

// settle moves an agent whose connection on c ended: to its state on its
// remaining call, or, with no call left, to the state after the call
// (endConnected's rules). It returns a function reporting CallHandled, to
// be called after END_CALL (nil if wrap-up reports it later).
func (p *PG) settle(a *agent, c *call) func() {
	if !a.loggedOn {
		return nil
	}
	if a.call != nil || a.held != nil {
		p.busyState(a)
		return nil
	}
	now := p.sched.Now()
	a.lastCall, a.lastTalk = a.workCall, 0
	if a.talked {
		a.lastTalk = now.Sub(a.talkStart)
	}
	next, reason := a.prior, a.priorReason
	if a.mode == modeIncoming && a.talked {
		next, reason = StateAvailable, 0
		if a.desk.NotReadyAfterIncoming {
			next = StateNotReady
		}
	}
	if next != StateAvailable && next != StateNotReady {
		next, reason = StateNotReady, 0
	}
	if a.hasNext {
		next, reason = a.next, a.nextReason
		a.hasNext = false
	}
	wrap := a.talked && ((a.mode == modeIncoming && a.desk.WrapUpIncoming) || (a.mode == modeOutgoing && a.desk.WrapUpOutgoing))
	if wrap {
		switch next {
		case StateAvailable:
			next = StateWorkReady
		case StateNotReady:
			next = StateWorkNotReady
		}
	}
	if (next == StateWorkReady || next == StateWorkNotReady) && a.talked {
		a.inWrap, a.wrapStart, a.wrapReason = true, now, reason
		p.setState(a, next, 0, a.dir)
		return nil
	}
	switch next {
	case StateWorkReady:
		next = StateAvailable
	case StateWorkNotReady:
		next = StateNotReady
	}
	if next == a.state && reason == a.reason && a.dir == DirectionNone {
		// A NOT_READY agent whose ringing direct call went away: no
		// change to report.
		p.agentChanged(a)
		return nil
	}
	p.setState(a, next, reason, DirectionNone)
	if !a.talked || p.cfg.Hooks.CallHandled == nil {
		return nil
	}
	id, talk := a.lastCall, a.lastTalk
	return func() { p.cfg.Hooks.CallHandled(id, talk, 0) }
}

// established marks the agents connected on c as talking.
func (p *PG) established(c *call) {
	now := p.sched.Now()
	if c.answered.IsZero() {
		c.answered = now
	}
	for _, pt := range c.parties {
		if pt.agent != nil && pt.lcs == LCSConnect && !pt.agent.talked {
			pt.agent.talked, pt.agent.talkStart = true, now
		}
	}
}

// detach takes a party off a call (its agent's call/held slot, its leg;
// a line is free again).
func (p *PG) detach(c *call, pt *party) {
	c.remove(pt)
	if l := pt.line; l != nil && l.call == c {
		l.call, l.since = nil, p.sched.Now()
		l.calls++
		if !c.answered.IsZero() {
			l.talk += p.sched.Now().Sub(c.answered)
		}
	}
	if a := pt.agent; a != nil {
		if a.call == c {
			a.call = nil
		}
		if a.held == c {
			a.held = nil
		}
		now := p.sched.Now()
		for i := range c.legs {
			if c.legs[i].Role == LegAgent && c.legs[i].Device == pt.dev && c.legs[i].End.IsZero() {
				c.legs[i].End = now
			}
		}
	}
}

// leave: one party's connection ends (CALL_CONNECTION_CLEARED); with one
// party or none left the call ends too.
func (p *PG) leave(c *call, pt *party, cause EventCause) {
	p.emit(&CallConnectionClearedEvent{Header: p.header(), Connection: pt.conn, Releasing: pt.dev, State: LCSNull, Cause: cause})
	p.detach(c, pt)
	if len(c.parties) <= 1 {
		p.endCall(c, cause, pt)
		return
	}
	if pt.ext {
		p.extGone(c, pt)
	}
	if pt.agent != nil {
		if h := p.settle(pt.agent, c); h != nil {
			h()
		}
	}
}

// extGone reports an outside leg that left a call that goes on.
func (p *PG) extGone(c *call, pt *party) {
	c.endLeg(p.sched.Now(), LegCustomer)
	delete(p.moved, pt.trunkID)
	if p.cfg.Hooks.CallEnded != nil {
		p.cfg.Hooks.CallEnded(pt.trunkID)
	}
}

// endCall ends a multi call: CALL_CLEARED, the agents' states, END_CALL.
// leaver is the party that left last (nil if none did).
func (p *PG) endCall(c *call, cause EventCause, leaver *party) {
	all := append([]*party(nil), c.parties...)
	if leaver != nil {
		all = append(all, leaver)
	}
	// CALL_CLEARED names an agent's connection, as endConnected does (else
	// a line's).
	conn := c.begin
	if leaver != nil {
		conn = leaver.conn
	}
	agentConn := false
	for _, pt := range all {
		if pt.agent != nil {
			conn, agentConn = pt.conn, true
			break
		}
	}
	for _, pt := range all {
		if !agentConn && !pt.ext {
			conn = pt.conn
			break
		}
	}
	p.emit(&CallClearedEvent{Header: p.header(), Connection: conn, State: LCSNull, Cause: cause})
	var agents []*agent
	for _, pt := range all {
		if pt.agent != nil {
			agents = append(agents, pt.agent)
		}
	}
	var movedIn []uint32
	for _, pt := range all {
		p.detach(c, pt)
		if pt.ext && pt.trunkID != c.id {
			movedIn = append(movedIn, pt.trunkID)
		}
	}
	p.forget(c)
	for _, id := range movedIn {
		delete(p.moved, id)
		if p.cfg.Hooks.CallEnded != nil {
			p.cfg.Hooks.CallEnded(id)
		}
	}
	var handled []func()
	for _, a := range agents {
		if h := p.settle(a, c); h != nil {
			handled = append(handled, h)
		}
	}
	p.emit(&EndCallEvent{Header: p.header(), Connection: c.begin})
	for _, h := range handled {
		h()
	}
}

// clearAll is CLEAR_CALL on a multi call: every party leaves.
func (p *PG) clearAll(c *call) {
	for len(c.parties) > 1 {
		p.leave(c, c.parties[0], CauseNone)
	}
	if len(c.parties) == 1 {
		p.leave(c, c.parties[0], CauseNone)
	}
}

// clearConnection is CLEAR_CONNECTION on a multi call.
func (p *PG) clearConnection(c *call, device string) error {
	for _, pt := range c.parties {
		if pt.dev.ID == device || (pt.agent != nil && pt.agent.info.Instrument == device) || (pt.line != nil && pt.line.ext == device) {
			p.leave(c, pt, CauseNone)
			return nil
		}
	}
	return failf(CFNoConnectionToClear, "device %q has no connection to clear on call %d", device, c.id)
}

// answerParty: the agent at pt answers (CALL_ESTABLISHED, TALKING).
func (p *PG) answerParty(c *call, pt *party) {
	pt.lcs = LCSConnect
	p.emit(&CallEstablishedEvent{Header: p.header(), Connection: pt.conn, ServiceNumber: NullService, ServiceID: NullService,
		SkillGroup: c.sg, Answering: pt.dev, Calling: c.calling, Called: pt.dev, LastRedirect: NoDevice,
		State: LCSConnect, Cause: CauseNone})
	p.established(c)
	if pt.agent != nil {
		p.busyState(pt.agent)
		if c.kind == kindInbound && !c.routedAnswer && p.cfg.Hooks.CallAnswered != nil {
			// A routed call deflected to this agent: the router counts
			// it answered here (and handled when this agent is done).
			c.routedAnswer = true
			p.cfg.Hooks.CallAnswered(c.id, p.status(pt.agent))
		}
	}
	p.completeBlind(c)
}

// destination is where a dialed number goes: another agent's phone, or the
// outside world through the gateway.
type destination struct {
	agent  *agent
	number string
}

func (d destination) device() Device {
	if d.agent != nil {
		return d.agent.device()
	}
	return Device{ID: d.number, Type: DeviceExternal}
}

func (p *PG) resolve(number string, from *agent) (destination, error) {
	if b, ok := p.byDev[number]; ok {
		if b == from {
			return destination{}, failf(CFInvalidDestination, "%q is the calling device itself", number)
		}
		return destination{agent: b}, nil
	}
	if _, ok := p.byLine[number]; ok {
		return destination{}, failf(CFInvalidDestination, "%q is a line without an ICM agent (predictive calls only)", number)
	}
	if !validNumber(number) {
		return destination{}, failf(CFInvalidDestination, "dialed number %q", number)
	}
	return destination{number: number}, nil
}

// offer brings the call to a destination: CALL_DELIVERED at an agent's phone
// (RESERVED if it was Available), or the outside leg is dialed (Hooks.Dial;
// CALL_DELIVERED at the far end comes with TrunkAlerting). A busy or
// logged-out agent makes the call fail (CALL_FAILED, then the call ends).
func (p *PG) offer(c *call, d destination, cause EventCause, lastRedirect Device, mode workMode, dir Direction, ring time.Duration) {
	now := p.sched.Now()
	if b := d.agent; b != nil {
		if !p.free(b) {
			why := CauseBusy
			if !b.loggedOn {
				why = CauseDestNotObtainable
			}
			conn := b.conn(c.id)
			p.emit(&CallFailedEvent{Header: p.header(), Connection: conn, Failing: b.device(), Called: b.device(), State: LCSFail, Cause: why})
			p.endCall(c, why, nil)
			return
		}
		pt := &party{dev: b.device(), conn: b.conn(c.id), agent: b, lcs: LCSAlerting, dir: dir}
		c.parties = append(c.parties, pt)
		c.addLeg(now, LegAgent, b.device())
		p.takeCall(b, c, mode)
		p.emit(&CallDeliveredEvent{Header: p.header(), Connection: pt.conn, ServiceNumber: NullService, ServiceID: NullService,
			SkillGroup: c.sg, Alerting: pt.dev, Calling: c.calling, Called: pt.dev, LastRedirect: lastRedirect,
			State: LCSAlerting, Cause: cause, Data: c.data.clone()})
		p.busyState(b)
		return
	}
	pt := &party{dev: d.device(), conn: Connection{CallID: c.id, DeviceIDType: ConnectionDynamic, DeviceID: d.number},
		ext: true, trunkID: c.id, lcs: LCSInitiate}
	c.parties = append(c.parties, pt)
	c.addLeg(now, LegGateway, Device{ID: p.cfg.Trunk, Type: DeviceTrunk})
	c.addLeg(now, LegCustomer, pt.dev)
	if p.cfg.Hooks.Dial != nil {
		p.cfg.Hooks.Dial(DialRequest{CallID: c.id, DialedNumber: d.number, RingTimeout: ring, CallType: c.data.CallType})
	}
}

func (p *PG) trunkAlerting(c *call, id uint32) {
	pt := c.extParty(id)
	if pt == nil || pt.lcs != LCSInitiate {
		return
	}
	pt.lcs = LCSAlerting
	p.emit(&CallDeliveredEvent{Header: p.header(), Connection: pt.conn, ServiceNumber: NullService, ServiceID: NullService,
		SkillGroup: c.sg, Alerting: pt.dev, Calling: c.calling, Called: pt.dev, LastRedirect: NoDevice,
		State: LCSAlerting, Cause: CauseNewCall, Data: c.data.clone()})
	p.completeBlind(c)
}

func (p *PG) trunkAnswered(c *call, id uint32) bool {
	pt := c.extParty(id)
	if pt == nil || (pt.lcs != LCSInitiate && pt.lcs != LCSAlerting) {
		return false
	}
	pt.lcs = LCSConnect
	p.emit(&CallEstablishedEvent{Header: p.header(), Connection: pt.conn, ServiceNumber: NullService, ServiceID: NullService,
		SkillGroup: c.sg, Answering: pt.dev, Calling: c.calling, Called: pt.dev, LastRedirect: NoDevice,
		State: LCSConnect, Cause: CauseNone})
	p.established(c)
	p.completeBlind(c)
	return true
}

func (p *PG) trunkFailed(c *call, id uint32, cause EventCause) {
	pt := c.extParty(id)
	if pt == nil || (pt.lcs != LCSInitiate && pt.lcs != LCSAlerting) {
		return
	}
	p.emit(&CallFailedEvent{Header: p.header(), Connection: pt.conn, Failing: pt.dev, Called: pt.dev, State: LCSFail, Cause: cause})
	p.detach(c, pt)
	c.endLeg(p.sched.Now(), LegCustomer)
	if len(c.parties) <= 1 {
		p.endCall(c, cause, nil)
	}
}

func (p *PG) trunkGone(c *call, id uint32) {
	if pt := c.extParty(id); pt != nil {
		p.leave(c, pt, CauseNone)
	}
}

// ---------------------------------------------------------------------------
// Commands.

func (p *PG) onlineErr() error {
	if !p.online {
		return failf(CFResourceOutOfService, "peripheral %d offline", p.periph)
	}
	return nil
}

// agentOnCall validates the common part of a call-control request: the
// peripheral is online, the instrument is an agent's, the call exists and
// the agent has a connection on it. The returned party is a view for a call
// not yet promoted.
func (p *PG) agentOnCall(instrument string, callID uint32) (*agent, *call, *party, error) {
	if err := p.onlineErr(); err != nil {
		return nil, nil, nil, err
	}
	a, ok := p.byDev[instrument]
	if !ok {
		return nil, nil, nil, failf(CFInvalidDeviceID, "no agent on instrument %q", instrument)
	}
	c, ok := p.calls[callID]
	if !ok {
		return nil, nil, nil, failf(CFInvalidCallID, "no call %d", callID)
	}
	for _, pt := range p.partiesOf(c) {
		if pt.agent == a {
			return a, c, pt, nil
		}
	}
	return nil, nil, nil, failf(CFAgentNotPartyOnCall, "agent %s has no connection on call %d", a.info.AgentID, callID)
}

// active checks that pt is the agent's active, connected connection.
func active(a *agent, c *call, pt *party) error {
	if pt.lcs != LCSConnect || a.call != c || len(c.parties) == 1 {
		return failf(CFNoActiveCall, "call %d is not active at %s", c.id, a.info.Extension)
	}
	return nil
}

func held(a *agent, c *call, pt *party) error {
	if pt.lcs != LCSHold || a.held != c {
		return failf(CFNoHeldCall, "call %d is not held at %s", c.id, a.info.Extension)
	}
	return nil
}

// MakeCallRequest is MAKE_CALL_REQ.
type MakeCallRequest struct {
	// Instrument is the originating agent's instrument (or extension), or
	// a dialer port placing a reservation call (reservation.go).
	Instrument string
	// DialedNumber is another agent's extension (an internal call,
	// CallType AGENT_INSIDE) or an outside number (AGENT_OUT, dialed
	// through the gateway with Hooks.Dial).
	DialedNumber   string
	CallVariables  [10]string
	NamedVariables []NamedVariable
	// RingTimeout is how long the network lets an outside number ring
	// (0: the network's default).
	RingTimeout time.Duration
}

// MakeCall places an agent's call (cti-protocol.md §5.9(b), ipcc-behaviour.md
// §3.3) and returns the originating connection (MAKE_CALL_CONF's
// NewConnection…). The events follow the return: BEGIN_CALL,
// CALL_SERVICE_INITIATED (LCS_INITIATE), CALL_ORIGINATED, AGENT_STATE TALKING
// (Direction 2 out for an outside number, 4 other-out for an extension),
// then CALL_DELIVERED at the destination and CALL_ESTABLISHED when it answers
// (the far end through TrunkAlerting/TrunkAnswered), or CALL_FAILED. After
// the call the agent returns to NOT_READY, or to wrap-up if
// DeskSettings.WrapUpOutgoing and the call was answered.
//
// UCCE accepts MAKE_CALL only from an agent who is NOT_READY (§5.9(b)); the
// guide documents no failure code, so any other state fails with
// CF_INVALID_OBJECT_STATE (22), the code the PG uses for every request the
// agent's state does not allow.
//
// From a line without an ICM agent (a dialer port, Config.Lines) MAKE_CALL
// is a reservation call to an agent's phone (or another line): see
// reservation.go.
func (p *PG) MakeCall(r MakeCallRequest) (Connection, error) {
	if err := p.onlineErr(); err != nil {
		return Connection{}, err
	}
	if l, ok := p.byLine[r.Instrument]; ok {
		// A dialer port reserving an agent (reservation.go).
		return p.portCall(l, r)
	}
	a, ok := p.byDev[r.Instrument]
	if !ok || !a.loggedOn {
		return Connection{}, failf(CFInvalidCallingDevice, "no logged-on agent on %q", r.Instrument)
	}
	if a.state != StateNotReady || a.call != nil || a.held != nil {
		return Connection{}, failf(CFInvalidObjectState, "agent %s is %s: MAKE_CALL needs NOT_READY", a.info.AgentID, a.state)
	}
	d, err := p.resolve(r.DialedNumber, a)
	if err != nil {
		return Connection{}, err
	}
	ct, dir := CallTypeAgentOut, DirectionOut
	if d.agent != nil {
		ct, dir = CallTypeAgentInside, DirectionOtherOut
	}
	c := p.newCall(kindAgent)
	c.multi = true
	c.data = CallData{CallType: ct, ANI: a.info.Extension, DNIS: r.DialedNumber, DialedNumber: r.DialedNumber,
		CallVariables: r.CallVariables, NamedVariables: append([]NamedVariable(nil), r.NamedVariables...)}
	p.deferEvents()
	p.originate(c, a, d, dir, modeOutgoing, r.RingTimeout)
	return c.begin, nil
}

// originate runs the originating half of a call from agent a: BEGIN_CALL,
// CALL_SERVICE_INITIATED, CALL_ORIGINATED, the agent's state, the offer.
func (p *PG) originate(c *call, a *agent, d destination, dir Direction, mode workMode, ring time.Duration) {
	now := p.sched.Now()
	c.calling, c.begin, c.visible = a.device(), a.conn(c.id), true
	c.customer = d.device()
	c.phase = phaseDialing
	pt := &party{dev: a.device(), conn: c.begin, agent: a, lcs: LCSInitiate, dir: dir}
	c.parties = append(c.parties, pt)
	c.addLeg(now, LegAgent, a.device())
	p.takeCall(a, c, mode)
	p.emit(&BeginCallEvent{Header: p.header(), Connection: c.begin, Data: c.data.clone()})
	p.emit(&CallServiceInitiatedEvent{Header: p.header(), Connection: pt.conn, ServiceNumber: NullService, ServiceID: NullService,
		SkillGroup: c.sg, Calling: pt.dev, State: LCSInitiate, Cause: CauseNone})
	p.emit(&CallOriginatedEvent{Header: p.header(), Connection: pt.conn, ServiceNumber: NullService, ServiceID: NullService,
		SkillGroup: c.sg, Calling: pt.dev, Called: d.device(), State: LCSInitiate, Cause: CauseNone})
	// The originator is connected to its own call from here on (dial
	// tone, ringback): LCS_CONNECT for hold/DTMF, TALKING for the agent.
	pt.lcs = LCSConnect
	p.busyState(a)
	p.offer(c, d, CauseNewCall, NoDevice, modeDirect, DirectionOtherIn, ring)
}

// HoldCall puts the agent's active call on hold (HOLD_CALL_REQ): CALL_HELD
// (LCS_HOLD at the holding device), AGENT_STATE HOLD as it is then the
// agent's only call. An agent holds at most one call.
func (p *PG) HoldCall(instrument string, callID uint32) error {
	a, c, pt, err := p.agentOnCall(instrument, callID)
	if err != nil {
		return err
	}
	if err := active(a, c, pt); err != nil {
		return err
	}
	if a.held != nil {
		return failf(CFInvalidObjectState, "agent %s already holds call %d", a.info.AgentID, a.held.id)
	}
	p.promote(c)
	p.holdParty(a, c, CauseNone)
	p.busyState(a)
	return nil
}

func (p *PG) holdParty(a *agent, c *call, cause EventCause) {
	pt := c.partyOf(a)
	pt.lcs = LCSHold
	a.call, a.held = nil, c
	p.emit(&CallHeldEvent{Header: p.header(), Connection: pt.conn, Holding: pt.dev, State: LCSHold, Cause: cause})
}

// RetrieveCall takes the agent's held call off hold (RETRIEVE_CALL_REQ):
// CALL_RETRIEVED, AGENT_STATE TALKING. The agent must have no other active
// call (AlternateCall or ReconnectCall swap or drop it).
func (p *PG) RetrieveCall(instrument string, callID uint32) error {
	a, c, pt, err := p.agentOnCall(instrument, callID)
	if err != nil {
		return err
	}
	if err := held(a, c, pt); err != nil {
		return err
	}
	if a.call != nil {
		return failf(CFInvalidObjectState, "agent %s has call %d active", a.info.AgentID, a.call.id)
	}
	p.retrieveParty(a, c, CauseNone)
	p.busyState(a)
	return nil
}

func (p *PG) retrieveParty(a *agent, c *call, cause EventCause) {
	pt := c.partyOf(a)
	pt.lcs = LCSConnect
	a.call, a.held = c, nil
	p.emit(&CallRetrievedEvent{Header: p.header(), Connection: pt.conn, Retrieving: pt.dev, State: LCSConnect, Cause: cause})
}

// ConsultationRequest is CONSULTATION_CALL_REQ.
type ConsultationRequest struct {
	Instrument   string
	ActiveCallID uint32
	// DialedNumber is another agent's extension or an outside number.
	DialedNumber string
	ConsultType  ConsultType
	// RingTimeout for an outside number (0: the network's default).
	RingTimeout time.Duration
}

// ConsultationCall holds the agent's active call and places a consultation
// call (CONSULTATION_CALL_REQ), returning its connection at the agent
// (CONSULTATION_CALL_CONF's NewConnection…). The events follow the return:
// CALL_HELD on the active call (the agent stays TALKING), then on the new call
// BEGIN_CALL (CallType CONSULT 12, or CONSULT_CONFERENCE 14, with the held
// call's call variables), CALL_SERVICE_INITIATED, CALL_ORIGINATED,
// CALL_DELIVERED at the target (RESERVED if it was Available) and
// CALL_ESTABLISHED when it answers. A busy target fails the consultation
// (CALL_FAILED CEC_BUSY, CALL_CLEARED, END_CALL) and the agent is left in
// HOLD with the held call.
func (p *PG) ConsultationCall(r ConsultationRequest) (Connection, error) {
	a, c, pt, err := p.agentOnCall(r.Instrument, r.ActiveCallID)
	if err != nil {
		return Connection{}, err
	}
	if r.ConsultType > ConsultConference {
		return Connection{}, failf(CFInvalidConsultType, "consult type %d", r.ConsultType)
	}
	if a.held != nil {
		// §3.2: not allowed while the agent already holds a call.
		return Connection{}, failf(CFInvalidObjectState, "agent %s already holds call %d", a.info.AgentID, a.held.id)
	}
	if err := active(a, c, pt); err != nil {
		return Connection{}, err
	}
	d, err := p.resolve(r.DialedNumber, a)
	if err != nil {
		return Connection{}, err
	}
	p.deferEvents()
	k := p.consult(a, c, d, r.ConsultType, r.RingTimeout)
	return k.begin, nil
}

// consult holds c and places the consultation call k from a to d.
func (p *PG) consult(a *agent, c *call, d destination, t ConsultType, ring time.Duration) *call {
	p.promote(c)
	p.holdParty(a, c, CauseNone)
	k := p.newCall(kindAgent)
	k.multi, k.consultFor = true, c
	k.data = c.data.clone()
	k.data.CallType = CallTypeConsult
	if t == ConsultConference {
		k.data.CallType = CallTypeConsultConference
	}
	k.data.ANI, k.data.DNIS, k.data.DialedNumber = a.info.Extension, d.device().ID, d.device().ID
	k.data.RouterCallKey, k.data.CallTypeID = RouterCallKey{}, 0
	p.originate(k, a, d, a.dir, a.mode, ring)
	return k
}

// TransferRequest is TRANSFER_CALL_REQ.
type TransferRequest struct {
	Instrument string
	// HeldCallID is the held call (the original); NoCallID (or 0) with a
	// DialedNumber asks for a single-step (blind) transfer of ActiveCallID.
	HeldCallID uint32
	// ActiveCallID is the consultation call (consultative transfer) or the
	// call to transfer (single-step).
	ActiveCallID uint32
	DialedNumber string
	// RingTimeout for a single-step transfer to an outside number.
	RingTimeout time.Duration
}

// CallControlResult is what TRANSFER_CALL_CONF and CONFERENCE_CALL_CONF
// report: the surviving call's connection (at the transferred-to device
// after a transfer, at the controller after a conference) and its parties.
type CallControlResult struct {
	Connection Connection
	Parties    []ConnectedParty
}

// TransferCall completes a transfer (TRANSFER_CALL_REQ).
//
// Consultative: the agent holds HeldCallID and is on the consultation call
// ActiveCallID, whose target has been delivered (alerting or connected). The
// held call's other parties move to the consultation call, which survives:
// CALL_TRANSFERRED (CEC_TRANSFER), END_CALL for the agent's two connections,
// the agent's state after the call (wrap-up per the desk settings of its
// original call), and BEGIN_CALL of the surviving call at the target with the
// customer call's context.
//
// Single-step: HeldCallID is NoCallID (or 0) and DialedNumber names the
// target: the call is held, a consultation call placed, and CALL_TRANSFERRED
// follows the delivery to the target at once (an agent's phone) or when the
// far end alerts (an outside number). A busy or logged-out agent target fails
// the request with CF_RESOURCE_BUSY (33) and nothing happens.
//
// Single-step from a line: when Instrument is a line without an ICM agent
// (Config.Lines, e.g. a dialer port) with ActiveCallID connected to it, the
// customer moves to DialedNumber — an agent's extension or instrument, or
// another line — and is connected there at once (see lineTransfer).
func (p *PG) TransferCall(r TransferRequest) (CallControlResult, error) {
	if r.HeldCallID == NoCallID || r.HeldCallID == 0 {
		if l, ok := p.byLine[r.Instrument]; ok {
			return p.lineTransfer(l, r)
		}
		return p.blindTransfer(r)
	}
	a, h, k, err := p.twoCalls(r.Instrument, r.HeldCallID, r.ActiveCallID)
	if err != nil {
		return CallControlResult{}, err
	}
	if !delivered(k, a) {
		return CallControlResult{}, failf(CFInvalidObjectState, "consultation call %d has not reached its target", k.id)
	}
	return p.transfer(a, h, k), nil
}

// twoCalls validates a request naming the agent's held and active calls.
func (p *PG) twoCalls(instrument string, heldID, activeID uint32) (*agent, *call, *call, error) {
	a, h, hp, err := p.agentOnCall(instrument, heldID)
	if err != nil {
		return nil, nil, nil, err
	}
	_, k, kp, err := p.agentOnCall(instrument, activeID)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := held(a, h, hp); err != nil {
		return nil, nil, nil, err
	}
	if err := active(a, k, kp); err != nil {
		return nil, nil, nil, err
	}
	return a, h, k, nil
}

// delivered reports whether every other party of c has been reached
// (alerting or connected).
func delivered(c *call, a *agent) bool {
	for _, pt := range c.parties {
		if pt.agent != a && pt.lcs != LCSAlerting && pt.lcs != LCSConnect && pt.lcs != LCSHold {
			return false
		}
	}
	return true
}

// merge moves the parties of h other than the agent's onto k and reports
// whether an outside leg moved.
func (p *PG) merge(a *agent, h, k *call) (extMoved bool) {
	now := p.sched.Now()
	for _, pt := range h.others(h.partyOf(a)) {
		pt.conn.CallID = k.id
		if pt.agent != nil {
			if pt.agent.call == h {
				pt.agent.call = k
			}
			if pt.agent.held == h {
				pt.agent.held = k
			}
			k.addLeg(now, LegAgent, pt.dev)
		}
		if pt.ext {
			extMoved = true
			k.addLeg(now, LegCustomer, pt.dev)
			if pt.trunkID != k.id {
				p.moved[pt.trunkID] = k
			}
		}
		k.parties = append(k.parties, pt)
	}
	// Agents who now share a call with the customer work it as an
	// incoming call.
	customer := false
	for _, pt := range k.parties {
		customer = customer || pt.ext
	}
	for _, pt := range k.parties {
		if customer && pt.agent != nil && pt.agent != a && pt.agent.mode == modeDirect {
			pt.agent.mode = modeIncoming
			if pt.dir == DirectionOtherIn {
				pt.dir = DirectionIn
			}
		}
	}
	if k.consultFor == h {
		// The surviving call takes over the customer call's context.
		k.data, k.calling, k.customer, k.sg = h.data.clone(), h.calling, h.customer, h.sg
		k.consultFor = nil
	}
	h.parties = []*party{h.partyOf(a)}
	return extMoved
}

// retire removes the held call merged into another: without CallEnded when
// its outside leg lives on in the other call.
func (p *PG) retire(h *call, extMoved bool) {
	if extMoved {
		p.drop(h)
	} else {
		p.forget(h)
	}
}

func (p *PG) transfer(a *agent, h, k *call) CallControlResult {
	hp, kp := h.partyOf(a), k.partyOf(a)
	var target *party
	for _, pt := range k.parties {
		if pt != kp {
			target = pt
			break
		}
	}
	extMoved := p.merge(a, h, k)
	p.detach(h, hp)
	p.detach(k, kp)
	res := CallControlResult{Connection: target.conn, Parties: connectedParties(k)}
	p.emit(&CallTransferredEvent{Header: p.header(), Primary: hp.conn, Secondary: kp.conn, SkillGroup: k.sg,
		Transferring: hp.dev, Transferred: target.dev, Parties: res.Parties, State: target.lcs, Cause: CauseTransfer})
	p.retire(h, extMoved)
	p.emit(&EndCallEvent{Header: p.header(), Connection: h.begin})
	p.emit(&EndCallEvent{Header: p.header(), Connection: k.begin})
	handled := p.settle(a, h)
	k.begin = target.conn
	for _, pt := range k.parties {
		if pt.agent != nil {
			k.begin = pt.conn
			break
		}
	}
	k.blindBy = nil
	p.emit(&BeginCallEvent{Header: p.header(), Connection: k.begin, Data: k.data.clone()})
	if handled != nil {
		handled()
	}
	return res
}

func (p *PG) blindTransfer(r TransferRequest) (CallControlResult, error) {
	a, c, pt, err := p.agentOnCall(r.Instrument, r.ActiveCallID)
	if err != nil {
		return CallControlResult{}, err
	}
	if err := active(a, c, pt); err != nil {
		return CallControlResult{}, err
	}
	if a.held != nil {
		return CallControlResult{}, failf(CFInvalidObjectState, "agent %s already holds call %d", a.info.AgentID, a.held.id)
	}
	d, err := p.resolve(r.DialedNumber, a)
	if err != nil {
		return CallControlResult{}, err
	}
	if d.agent != nil && !p.free(d.agent) {
		return CallControlResult{}, failf(CFResourceBusy, "agent %s at %s is %s", d.agent.info.AgentID, r.DialedNumber, d.agent.state)
	}
	k := p.consult(a, c, d, ConsultTransfer, r.RingTimeout)
	k.blindBy = a
	p.completeBlind(k)
	res := CallControlResult{Parties: connectedParties(k)}
	for _, q := range k.parties {
		if q.agent != a {
			res.Connection = q.conn
			break
		}
	}
	return res, nil
}

// completeBlind completes a single-step transfer once its target is reached.
func (p *PG) completeBlind(k *call) {
	a := k.blindBy
	if a == nil || k.consultFor == nil || a.held != k.consultFor || a.call != k || !delivered(k, a) || len(k.parties) < 2 {
		return
	}
	p.transfer(a, k.consultFor, k)
}

// ConferenceRequest is CONFERENCE_CALL_REQ (consultative only).
type ConferenceRequest struct {
	Instrument   string
	HeldCallID   uint32
	ActiveCallID uint32
}

// ConferenceCall joins the agent's held call and its active (consultation)
// call (CONFERENCE_CALL_REQ): the held call's parties move to the active
// call, which survives; CALL_CONFERENCED (CEC_KEY_CONFERENCE) with every
// connection of the conference, END_CALL for the held call, and
// CALL_DATA_UPDATE carrying the customer call's context to the surviving
// call. The consulted party must have answered. A party leaving later gives
// CALL_CONNECTION_CLEARED (and its agent's state); CALL_CLEARED and END_CALL
// come when the last but one leaves. At most MaxParties (16) parties.
func (p *PG) ConferenceCall(r ConferenceRequest) (CallControlResult, error) {
	if r.HeldCallID == NoCallID || r.HeldCallID == 0 {
		return CallControlResult{}, failf(CFInvalidFeature, "single-step conference is not supported")
	}
	a, h, k, err := p.twoCalls(r.Instrument, r.HeldCallID, r.ActiveCallID)
	if err != nil {
		return CallControlResult{}, err
	}
	for _, pt := range k.parties {
		if pt.lcs != LCSConnect {
			return CallControlResult{}, failf(CFInvalidObjectState, "call %d: %s has not answered", k.id, pt.dev.ID)
		}
	}
	if n := len(h.parties) - 1 + len(k.parties); n > MaxParties {
		return CallControlResult{}, failf(CFConferenceMemberLimitExceeded, "%d parties (at most %d)", n, MaxParties)
	}
	hp, kp := h.partyOf(a), k.partyOf(a)
	var added Device
	for _, pt := range k.parties {
		if pt != kp {
			added = pt.dev
			break
		}
	}
	fromConsult := k.consultFor == h
	extMoved := p.merge(a, h, k)
	p.detach(h, hp)
	res := CallControlResult{Connection: kp.conn, Parties: connectedParties(k)}
	p.emit(&CallConferencedEvent{Header: p.header(), Primary: hp.conn, Secondary: kp.conn, SkillGroup: k.sg,
		Controller: kp.dev, AddedParty: added, Parties: res.Parties, State: LCSConnect, Cause: CauseKeyConference})
	p.retire(h, extMoved)
	p.emit(&EndCallEvent{Header: p.header(), Connection: h.begin})
	if fromConsult {
		p.emit(&CallDataUpdateEvent{Header: p.header(), Connection: k.begin, Data: k.data.clone()})
	}
	p.busyState(a)
	return res, nil
}

// AlternateCall swaps the agent's active and held calls (ALTERNATE_CALL_REQ):
// CALL_HELD on the active one and CALL_RETRIEVED on the held one, both with
// CEC_ALTERNATE; the agent stays TALKING.
func (p *PG) AlternateCall(instrument string, activeCallID, heldCallID uint32) error {
	a, h, k, err := p.twoCalls(instrument, heldCallID, activeCallID)
	if err != nil {
		return err
	}
	kp, hp := k.partyOf(a), h.partyOf(a)
	kp.lcs = LCSHold
	p.emit(&CallHeldEvent{Header: p.header(), Connection: kp.conn, Holding: kp.dev, State: LCSHold, Cause: CauseAlternate})
	hp.lcs = LCSConnect
	p.emit(&CallRetrievedEvent{Header: p.header(), Connection: hp.conn, Retrieving: hp.dev, State: LCSConnect, Cause: CauseAlternate})
	a.call, a.held = h, k
	p.busyState(a)
	return nil
}

// ReconnectCall drops the agent's active (consultation) call and retrieves
// the held one (RECONNECT_CALL_REQ): CALL_CONNECTION_CLEARED for the agent on
// the active call (and CALL_CLEARED, the consulted agent's state, END_CALL if
// that ends it), then CALL_RETRIEVED; the agent stays TALKING.
func (p *PG) ReconnectCall(instrument string, activeCallID, heldCallID uint32) error {
	a, h, k, err := p.twoCalls(instrument, heldCallID, activeCallID)
	if err != nil {
		return err
	}
	a.quiet = true
	p.leave(k, k.partyOf(a), CauseNone)
	p.retrieveParty(a, h, CauseNone)
	a.quiet = false
	p.busyState(a)
	return nil
}

// DeflectCall sends a call ringing at device elsewhere (DEFLECT_CALL_REQ):
// CALL_DIVERTED (CEC_REDIRECTED) at the deflecting device, whose agent goes
// back to its state before the call, then CALL_DELIVERED (CEC_REDIRECTED,
// LastRedirect the deflecting device) at the new destination, or the outside
// number is dialed. A busy or logged-out agent destination fails the request
// with CF_RESOURCE_BUSY (33); the call keeps ringing.
func (p *PG) DeflectCall(callID uint32, device string, dest string) error {
	a, c, pt, err := p.agentOnCall(device, callID)
	if err != nil {
		return err
	}
	if pt.lcs != LCSAlerting || a.call != c {
		return failf(CFInvalidObjectState, "call %d is not alerting at %s", callID, device)
	}
	d, err := p.resolve(dest, a)
	if err != nil {
		return err
	}
	if d.agent != nil && !p.free(d.agent) {
		return failf(CFResourceBusy, "agent %s at %s is %s", d.agent.info.AgentID, dest, d.agent.state)
	}
	p.promote(c)
	pt = c.partyOf(a)
	p.emit(&CallDivertedEvent{Header: p.header(), Connection: pt.conn, ServiceNumber: NullService, ServiceID: NullService,
		Diverting: pt.dev, Called: d.device(), State: LCSNull, Cause: CauseRedirected})
	p.detach(c, pt)
	if h := p.settle(a, c); h != nil {
		h()
	}
	mode, dir := modeDirect, DirectionOtherIn
	for _, q := range c.parties {
		if q.ext {
			mode, dir = modeIncoming, DirectionIn
		}
	}
	p.offer(c, d, CauseRedirected, pt.dev, mode, dir, 0)
	return nil
}

// validDTMF: 1–32 of 0-9 * # A-D, with ',' for a pause.
func validDTMF(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9', r == '*', r == '#', r >= 'A' && r <= 'D', r == ',':
		default:
			return false
		}
	}
	return true
}

// SendDTMF sends digits on the agent's connected call (SEND_DTMF_SIGNAL_REQ):
// 1–32 of 0-9 * # A B C D, ',' for a pause (else CF_VALUE_OUT_OF_RANGE 3).
// No CTI event besides the confirmation; Hooks.DTMF hands the digits to the
// media layer. device is the agent's instrument or extension.
func (p *PG) SendDTMF(callID uint32, device string, digits string) error {
	a, c, pt, err := p.agentOnCall(device, callID)
	if err != nil {
		return err
	}
	if !validDTMF(digits) {
		return failf(CFValueOutOfRange, "DTMF string %q (1-32 of 0-9*#ABCD and ',')", digits)
	}
	if err := active(a, c, pt); err != nil {
		return err
	}
	if p.cfg.Hooks.DTMF != nil {
		p.cfg.Hooks.DTMF(callID, pt.dev.ID, digits)
	}
	return nil
}
