package pg

import (
	"time"

	"github.com/ipcclab/ipcclab/internal/sim"
)

// LegRole names what a leg of a call connects.
type LegRole string

// Leg roles: the path of a call through the centre (gateway → CallManager →
// IVR → agent phone). SIP and RTP for these legs come later; here they are
// data.
const (
	LegCustomer LegRole = "customer"
	LegGateway  LegRole = "gateway"
	LegIVR      LegRole = "ivr"
	LegAgent    LegRole = "agent"
	// LegPort is a dialer port placing a reservation call (reservation.go).
	LegPort LegRole = "port"
)

// Leg is one connection of a call, recorded as data.
type Leg struct {
	Role   LegRole
	Device Device
	Start  time.Time
	// End is zero while the leg is up.
	End time.Time
}

type callKind int

const (
	kindInbound callKind = iota
	kindPredictive
	// kindAgent: a call placed by call control (MakeCall, consultation).
	kindAgent
)

type phase int

const (
	phaseIVR         phase = iota // inbound, waiting at the IVR
	phaseReserved                 // inbound, agent reserved, transfer under way
	phaseAlerting                 // inbound, ringing at the agent
	phaseConnected                // talking to an agent
	phaseDialing                  // predictive, dialing
	phaseFarAlerting              // predictive, customer's phone ringing
)

var phaseNames = [...]string{"ivr", "reserved", "alerting", "connected", "dialing", "far-alerting"}

type call struct {
	id       uint32
	kind     callKind
	phase    phase
	data     CallData
	customer Device
	agent    *agent
	origin   *agent
	// line is the line (Config.Lines) a predictive call originates from
	// instead of an agent; origin and agent stay nil.
	line      *line
	sg        SkillGroupRef
	begin     Connection // the connection BEGIN_CALL named; END_CALL names it too
	visible   bool
	legs      []Leg
	ivrPort   string
	timer     sim.Timer // transfer or RONA
	answered  time.Time
	ringLimit time.Duration

	// Call control (control.go). A multi call keeps its connections in
	// parties; calls created by call control are multi from the start, an
	// inbound or predictive call becomes one when a call-control command
	// first touches it (promote).
	multi   bool
	parties []*party
	// calling is the CallingDevice of the call's delivered/established
	// events.
	calling Device
	// consultFor is the call a consultation call was placed from; blindBy
	// the agent whose single-step transfer completes when the outside
	// destination is reached.
	consultFor *call
	blindBy    *agent
	// routedAnswer: CallAnswered was reported for a deflected routed call.
	routedAnswer bool
}

func (c *call) addLeg(now time.Time, r LegRole, d Device) {
	c.legs = append(c.legs, Leg{Role: r, Device: d, Start: now})
}

func (c *call) endLeg(now time.Time, r LegRole) {
	for i := len(c.legs) - 1; i >= 0; i-- {
		if c.legs[i].Role == r && c.legs[i].End.IsZero() {
			c.legs[i].End = now
			return
		}
	}
}

func (c *call) endAllLegs(now time.Time) {
	for i := range c.legs {
		if c.legs[i].End.IsZero() {
			c.legs[i].End = now
		}
	}
}

// CallInfo is a snapshot of a call (SNAPSHOT_CALL and diagnostics).
type CallInfo struct {
	ConnectionCallID uint32
	Phase            string
	Data             CallData
	Customer         Device
	// AgentID is the agent reserved for or connected to the call.
	AgentID string
	// Line is the instrument of the line without an ICM agent
	// (Config.Lines) a predictive call originates from; empty otherwise.
	Line       string
	SkillGroup SkillGroupRef
	Legs       []Leg
	// Parties are the connections of the call with their states
	// (SNAPSHOT_CALL_CONF), set for calls of agents (not of lines).
	Parties []CallParty
}

// Call returns a snapshot of a live call.
func (p *PG) Call(id uint32) (CallInfo, bool) {
	c, ok := p.calls[id]
	if !ok {
		return CallInfo{}, false
	}
	ci := CallInfo{ConnectionCallID: c.id, Phase: phaseNames[c.phase], Data: c.data.clone(), Customer: c.customer,
		SkillGroup: c.sg, Legs: append([]Leg(nil), c.legs...)}
	if c.agent != nil {
		ci.AgentID = c.agent.info.AgentID
	}
	if c.line != nil {
		ci.Line = c.line.inst
	}
	if c.multi {
		ci.Phase = c.phaseName()
		ci.AgentID = ""
		for _, pt := range c.parties {
			if pt.agent != nil {
				ci.AgentID = pt.agent.info.AgentID
				break
			}
		}
	}
	for _, pt := range p.partiesOf(c) {
		ci.Parties = append(ci.Parties, CallParty{Connection: pt.conn, Device: pt.dev, State: pt.lcs})
	}
	return ci, true
}

// ActiveCalls is the number of calls CallManager holds.
func (p *PG) ActiveCalls() int { return len(p.calls) }

func (p *PG) newCall(kind callKind) *call {
	p.nextCall++
	c := &call{id: p.nextCall, kind: kind, sg: NoSkillGroup}
	p.calls[c.id] = c
	return c
}

func (p *PG) forget(c *call) {
	p.drop(c)
	if p.cfg.Hooks.CallEnded != nil {
		p.cfg.Hooks.CallEnded(c.id)
	}
}

// drop removes the call from CallManager without reporting CallEnded (the
// outside party of a call merged into another by a transfer or conference
// is still there).
func (p *PG) drop(c *call) {
	now := p.sched.Now()
	c.endAllLegs(now)
	p.sched.Cancel(c.timer)
	c.timer = 0
	p.freePort(c.ivrPort)
	c.ivrPort = ""
	delete(p.calls, c.id)
	p.ended[c.id] = true
	p.endedLog = append(p.endedLog, c.id)
	if len(p.endedLog) > 4096 {
		delete(p.ended, p.endedLog[0])
		p.endedLog = p.endedLog[1:]
	}
}

// Incoming is an inbound call arriving from the gateway.
type Incoming struct {
	ANI                 string
	DNIS                string
	DialedNumber        string
	CallerEnteredDigits string
	CallVariables       [10]string
	NamedVariables      []NamedVariable
}

// TrunkIncoming takes an inbound call from the gateway into CallManager and
// parks it on an IVR port (the queue point). It allocates the call's
// ConnectionCallID; no CTI events are emitted because neither the route
// point nor the IVR ports are monitored by the CM PG (ipcc-behaviour.md
// §3.2 steps 1–2).
func (p *PG) TrunkIncoming(in Incoming) uint32 {
	now := p.sched.Now()
	c := p.newCall(kindInbound)
	c.data = CallData{CallType: CallTypePrerouteACDIn, ANI: in.ANI, DNIS: in.DNIS, DialedNumber: in.DialedNumber,
		CallerEnteredDigits: in.CallerEnteredDigits, CallVariables: in.CallVariables,
		NamedVariables: append([]NamedVariable(nil), in.NamedVariables...)}
	c.customer = Device{ID: in.ANI, Type: DeviceExternal}
	c.addLeg(now, LegCustomer, c.customer)
	c.addLeg(now, LegGateway, Device{ID: p.cfg.Trunk, Type: DeviceTrunk})
	c.ivrPort = p.ivrPort()
	c.addLeg(now, LegIVR, Device{ID: c.ivrPort, Type: DeviceCTIPort})
	c.phase = phaseIVR
	return c.id
}

// RouteRequest is the router's pre-call: reserve the agent for the call and
// have the IVR transfer it there.
type RouteRequest struct {
	CallID uint32
	// ICMAgentID is the selected agent's skill target ID.
	ICMAgentID    uint32
	SkillGroup    uint32
	Priority      uint16
	RouterCallKey RouterCallKey
	CallTypeID    uint32
}

// Route reserves the agent for a call waiting at the IVR: AGENT_PRE_CALL_EVENT
// and AGENT_STATE_EVENT RESERVED now, then after TransferDelay BEGIN_CALL and
// CALL_DELIVERED at the agent (cti-protocol.md §5.9(a) steps 1–3). It fails
// with CF 33 if the agent is not Available.
func (p *PG) Route(r RouteRequest) error {
	if !p.online {
		return failf(CFResourceOutOfService, "peripheral %d offline", p.periph)
	}
	c, ok := p.calls[r.CallID]
	if !ok || c.kind != kindInbound || c.phase != phaseIVR {
		return failf(CFInvalidCallID, "call %d is not waiting to be routed", r.CallID)
	}
	a, ok := p.byICM[r.ICMAgentID]
	if !ok {
		return failf(CFInvalidAgentID, "unknown skill target %d", r.ICMAgentID)
	}
	if !a.loggedOn || a.state != StateAvailable || a.call != nil {
		return failf(CFResourceBusy, "agent %s is %s", a.info.AgentID, a.state)
	}
	sg := SkillGroupRef{Number: r.SkillGroup, ID: p.sgs[r.SkillGroup].ID, Priority: r.Priority}
	if _, ok := p.sgs[r.SkillGroup]; !ok {
		sg = NoSkillGroup
	}
	c.phase, c.agent, c.sg = phaseReserved, a, sg
	c.data.RouterCallKey, c.data.CallTypeID = r.RouterCallKey, r.CallTypeID
	a.call, a.callSG, a.prior, a.priorReason = c, sg.Number, a.state, a.reason
	if sg.Number == NullSkillGroup {
		a.callSG = 0
	}
	p.emit(&AgentPreCallEvent{Header: p.header(), Agent: a.info, SkillGroup: sg, ServiceNumber: NullService,
		ServiceID: NullService, Data: c.data.clone(), ConnectionCallID: c.id})
	p.setState(a, StateReserved, 0, DirectionIn)
	c.timer = sim.After(p.sched, p.cfg.TransferDelay, func(time.Time) {
		c.timer = 0
		if p.cfg.Hooks.Transfer != nil && c.phase == phaseReserved {
			p.cfg.Hooks.Transfer(c.id, a.device().ID)
			return
		}
		p.deliver(c)
	})
	return nil
}

// DeviceAlerting: the switch reports the reserved agent's phone ringing for
// a call it was asked to transfer there (Hooks.Transfer). It reports false
// when the call is no longer waiting for that (the caller hung up, the
// reservation was aborted).
func (p *PG) DeviceAlerting(callID uint32) bool {
	c, ok := p.calls[callID]
	if !ok || c.phase != phaseReserved {
		return false
	}
	p.deliver(c)
	return true
}

// TransferFailed: the switch could not ring the reserved agent's device (no
// phone registered, the phone refused). The reservation is aborted
// (AGENT_PRE_CALL_ABORT_EVENT), the agent is made Not Ready with the RONA
// reason so that the router stops picking a dead phone, and the call waits
// at the IVR to be requeued, as after RONA.
func (p *PG) TransferFailed(callID uint32) {
	c, ok := p.calls[callID]
	if !ok || c.phase != phaseReserved {
		return
	}
	a := c.agent
	p.emit(&AgentPreCallAbortEvent{Header: p.header(), Agent: a.info, RouterCallKey: c.data.RouterCallKey})
	c.phase, c.agent, c.sg = phaseIVR, nil, NoSkillGroup
	a.call, a.hasNext = nil, false
	p.setState(a, StateNotReady, ReasonRONA, DirectionNone)
	if p.cfg.Hooks.RingNoAnswer != nil {
		p.cfg.Hooks.RingNoAnswer(c.id, p.status(a))
	}
}

// deliver rings the reserved agent's phone: BEGIN_CALL then CALL_DELIVERED
// (LCS_ALERTING, CEC_NEW_CALL), and starts the RONA timer.
func (p *PG) deliver(c *call) {
	if c.phase != phaseReserved {
		return
	}
	now := p.sched.Now()
	a := c.agent
	c.phase = phaseAlerting
	c.endLeg(now, LegIVR)
	port := c.ivrPort
	p.freePort(c.ivrPort)
	c.ivrPort = ""
	c.addLeg(now, LegAgent, a.device())
	c.begin = a.conn(c.id)
	c.visible = true
	p.emit(&BeginCallEvent{Header: p.header(), Connection: c.begin, Data: c.data.clone()})
	p.emit(&CallDeliveredEvent{Header: p.header(), Connection: c.begin, ServiceNumber: NullService, ServiceID: NullService,
		SkillGroup: c.sg, Alerting: a.device(), Calling: c.customer, Called: a.device(),
		LastRedirect: Device{ID: port, Type: DeviceCTIPort}, State: LCSAlerting, Cause: CauseNewCall, Data: c.data.clone()})
	if a.desk.RingNoAnswer > 0 {
		c.timer = sim.After(p.sched, a.desk.RingNoAnswer, func(time.Time) {
			c.timer = 0
			p.ringNoAnswer(c)
		})
	}
}

// ringNoAnswer takes the call back from the agent: CALL_CONNECTION_CLEARED
// and END_CALL at the agent, AGENT_STATE_EVENT NOT_READY reason 32767, and
// the call waits at the IVR to be requeued (ipcc-behaviour.md §2.3, §3.2).
func (p *PG) ringNoAnswer(c *call) {
	if c.phase != phaseAlerting {
		return
	}
	now := p.sched.Now()
	a := c.agent
	conn := c.begin
	p.emit(&CallConnectionClearedEvent{Header: p.header(), Connection: conn, Releasing: a.device(), State: LCSNull, Cause: CauseCallNotAnswered})
	p.emit(&EndCallEvent{Header: p.header(), Connection: conn})
	c.endLeg(now, LegAgent)
	c.phase, c.agent, c.visible, c.sg = phaseIVR, nil, false, NoSkillGroup
	c.ivrPort = p.ivrPort()
	c.addLeg(now, LegIVR, Device{ID: c.ivrPort, Type: DeviceCTIPort})
	a.call, a.hasNext = nil, false
	p.setState(a, StateNotReady, ReasonRONA, DirectionNone)
	if p.cfg.Hooks.RingNoAnswer != nil {
		p.cfg.Hooks.RingNoAnswer(c.id, p.status(a))
	}
}

// AnswerCall answers the call ringing at the agent's instrument (the phone
// going off-hook, or ANSWER_CALL_REQ): CALL_ESTABLISHED then
// AGENT_STATE_EVENT TALKING. callID 0 means whatever is ringing.
func (p *PG) AnswerCall(instrument string, callID uint32) error {
	a, ok := p.byDev[instrument]
	if !ok {
		return failf(CFInvalidDeviceID, "no agent on instrument %q", instrument)
	}
	c := a.call
	if c != nil && c.multi {
		pt := c.partyOf(a)
		if pt == nil || pt.lcs != LCSAlerting || (callID != 0 && callID != c.id) {
			return failf(CFNoCallToAnswer, "nothing ringing at %s", instrument)
		}
		p.answerParty(c, pt)
		return nil
	}
	if c == nil || c.phase != phaseAlerting || (callID != 0 && callID != c.id) {
		return failf(CFNoCallToAnswer, "nothing ringing at %s", instrument)
	}
	p.sched.Cancel(c.timer)
	c.timer = 0
	c.phase, c.answered = phaseConnected, p.sched.Now()
	p.emit(&CallEstablishedEvent{Header: p.header(), Connection: c.begin, ServiceNumber: NullService, ServiceID: NullService,
		SkillGroup: c.sg, Answering: a.device(), Calling: c.customer, Called: a.device(), LastRedirect: NoDevice,
		State: LCSConnect, Cause: CauseNone})
	p.setState(a, StateTalking, 0, DirectionIn)
	if p.cfg.Hooks.CallAnswered != nil {
		p.cfg.Hooks.CallAnswered(c.id, p.status(a))
	}
	return nil
}

// back returns an agent whose reservation ended without a call to the
// pending state if one was requested, else to the state before it.
func (p *PG) back(a *agent) {
	a.call = nil
	s, r := a.prior, a.priorReason
	if a.hasNext {
		s, r = a.next, a.nextReason
		switch s {
		case StateWorkReady:
			s = StateAvailable
		case StateWorkNotReady:
			s = StateNotReady
		}
	}
	a.hasNext = false
	p.setState(a, s, r, DirectionNone)
}

// TrunkDisconnected: the customer hung up. Waiting at the IVR: the call just
// ends (nothing monitored). Reserved: AGENT_PRE_CALL_ABORT_EVENT and the agent
// returns. Ringing: CALL_CONNECTION_CLEARED, CALL_CLEARED, agent state,
// END_CALL. Talking: the normal end of call with wrap-up.
func (p *PG) TrunkDisconnected(callID uint32) {
	c, ok := p.trunkCall(callID)
	if !ok {
		return
	}
	if c.multi {
		p.trunkGone(c, callID)
		return
	}
	switch c.phase {
	case phaseIVR:
		p.forget(c)
	case phaseReserved:
		a := c.agent
		p.emit(&AgentPreCallAbortEvent{Header: p.header(), Agent: a.info, RouterCallKey: c.data.RouterCallKey})
		p.forget(c)
		p.back(a)
	case phaseAlerting:
		a := c.agent
		p.emit(&CallConnectionClearedEvent{Header: p.header(), Connection: c.begin, Releasing: c.customer, State: LCSNull, Cause: CauseNone})
		p.emit(&CallClearedEvent{Header: p.header(), Connection: c.begin, State: LCSNull, Cause: CauseNone})
		p.forget(c)
		p.back(a)
		p.emit(&EndCallEvent{Header: p.header(), Connection: c.begin})
	case phaseConnected:
		conn := c.begin
		if c.kind == kindPredictive {
			conn = Connection{CallID: c.id, DeviceIDType: ConnectionDynamic, DeviceID: c.customer.ID}
		}
		p.endConnected(c, c.customer, conn)
	case phaseDialing, phaseFarAlerting:
		p.emit(&CallConnectionClearedEvent{Header: p.header(), Connection: c.begin, Releasing: c.customer, State: LCSNull, Cause: CauseNone})
		p.emit(&CallClearedEvent{Header: p.header(), Connection: c.begin, State: LCSNull, Cause: CauseNone})
		p.emit(&EndCallEvent{Header: p.header(), Connection: c.begin})
		p.forget(c)
	}
}

// endConnected ends a two-party call: CALL_CONNECTION_CLEARED (the party that
// left), CALL_CLEARED, AGENT_STATE_EVENT (wrap-up or the next state),
// END_CALL — cti-protocol.md §5.9(a) steps 5–6.
func (p *PG) endConnected(c *call, releasing Device, conn Connection) {
	if c.agent == nil && c.line != nil {
		p.endLine(c, releasing, conn)
		return
	}
	now := p.sched.Now()
	a := c.agent
	agentConn := a.conn(c.id)
	p.emit(&CallConnectionClearedEvent{Header: p.header(), Connection: conn, Releasing: releasing, State: LCSNull, Cause: CauseNone})
	p.emit(&CallClearedEvent{Header: p.header(), Connection: agentConn, State: LCSNull, Cause: CauseNone})
	p.forget(c)
	a.call = nil
	a.lastCall, a.lastTalk = c.id, now.Sub(c.answered)
	incoming := c.kind == kindInbound
	next, reason := a.prior, a.priorReason
	if incoming {
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
	wrap := a.desk.WrapUpOutgoing
	if incoming {
		wrap = a.desk.WrapUpIncoming
	}
	if wrap {
		switch next {
		case StateAvailable:
			next = StateWorkReady
		case StateNotReady:
			next = StateWorkNotReady
		}
	}
	if next == StateWorkReady || next == StateWorkNotReady {
		a.inWrap, a.wrapStart, a.wrapReason = true, now, reason
		p.setState(a, next, 0, a.dir)
	} else {
		p.setState(a, next, reason, DirectionNone)
	}
	p.emit(&EndCallEvent{Header: p.header(), Connection: c.begin})
	if !a.inWrap && p.cfg.Hooks.CallHandled != nil {
		p.cfg.Hooks.CallHandled(c.id, a.lastTalk, 0)
	}
}

// endLine ends a predictive call connected to a line: the same call events
// as endConnected, and no agent state (ICM has no agent at the line).
func (p *PG) endLine(c *call, releasing Device, conn Connection) {
	now := p.sched.Now()
	l := c.line
	p.emit(&CallConnectionClearedEvent{Header: p.header(), Connection: conn, Releasing: releasing, State: LCSNull, Cause: CauseNone})
	p.emit(&CallClearedEvent{Header: p.header(), Connection: l.conn(c.id), State: LCSNull, Cause: CauseNone})
	p.forget(c)
	if l.call == c {
		l.call, l.since = nil, now
		l.calls++
		l.talk += now.Sub(c.answered)
	}
	p.emit(&EndCallEvent{Header: p.header(), Connection: c.begin})
}

// ClearConnection drops one party (CLEAR_CONNECTION_REQ, or the agent
// hanging up): the agent's device or the customer's.
func (p *PG) ClearConnection(callID uint32, device string) error {
	if !p.online {
		return failf(CFResourceOutOfService, "peripheral %d offline", p.periph)
	}
	c, ok := p.calls[callID]
	if !ok {
		return failf(CFInvalidCallID, "no call %d", callID)
	}
	if c.multi {
		return p.clearConnection(c, device)
	}
	if c.phase == phaseConnected && c.agent != nil && (device == c.agent.info.Extension || device == c.agent.info.Instrument) {
		p.endConnected(c, c.agent.device(), c.agent.conn(c.id))
		return nil
	}
	if c.phase == phaseConnected && c.agent == nil && c.line != nil && (device == c.line.ext || device == c.line.inst) {
		p.endLine(c, c.line.device(), c.line.conn(c.id))
		return nil
	}
	if device == c.customer.ID {
		p.TrunkDisconnected(callID)
		return nil
	}
	return failf(CFNoConnectionToClear, "device %q has no connection to clear on call %d", device, callID)
}

// ClearCall ends a connected or dialing call for every party (CLEAR_CALL_REQ).
func (p *PG) ClearCall(callID uint32) error {
	if !p.online {
		return failf(CFResourceOutOfService, "peripheral %d offline", p.periph)
	}
	c, ok := p.calls[callID]
	if !ok {
		return failf(CFInvalidCallID, "no call %d", callID)
	}
	if c.multi {
		p.clearAll(c)
		return nil
	}
	switch c.phase {
	case phaseConnected:
		if c.agent == nil && c.line != nil {
			p.endLine(c, c.line.device(), c.line.conn(c.id))
		} else {
			p.endConnected(c, c.agent.device(), c.agent.conn(c.id))
		}
	case phaseDialing, phaseFarAlerting:
		p.TrunkDisconnected(callID)
	default:
		return failf(CFInvalidObjectState, "call %d is %s", callID, phaseNames[c.phase])
	}
	return nil
}

// ReleaseCall is RELEASE_CALL_REQ: the client is done with the call context.
// END_CALL is emitted when the call ends, so this only checks the call ID.
func (p *PG) ReleaseCall(callID uint32) error {
	if _, ok := p.calls[callID]; ok || p.ended[callID] {
		return nil
	}
	return failf(CFInvalidCallID, "no call %d", callID)
}

// CallDataUpdate is SET_CALL_DATA_REQ. Only the given fields change.
type CallDataUpdate struct {
	// CallVariables maps 1..10 to the new value of CallVariableN.
	CallVariables map[int]string
	// NamedVariables set (or add) ECC variables by name.
	NamedVariables      []NamedVariable
	CallerEnteredDigits *string
	CallWrapupData      *string
}

// SetCallData changes the call context and emits CALL_DATA_UPDATE_EVENT
// once the call is visible to CTI clients.
func (p *PG) SetCallData(callID uint32, u CallDataUpdate) error {
	c, ok := p.calls[callID]
	if !ok {
		return failf(CFInvalidCallID, "no call %d", callID)
	}
	for i := range u.CallVariables {
		if i < 1 || i > 10 {
			return failf(CFValueOutOfRange, "call variable %d (1..10)", i)
		}
	}
	for i := 1; i <= 10; i++ {
		if v, ok := u.CallVariables[i]; ok {
			c.data.CallVariables[i-1] = v
		}
	}
	for _, nv := range u.NamedVariables {
		found := false
		for k := range c.data.NamedVariables {
			if c.data.NamedVariables[k].Name == nv.Name {
				c.data.NamedVariables[k].Value = nv.Value
				found = true
			}
		}
		if !found {
			c.data.NamedVariables = append(c.data.NamedVariables, nv)
		}
	}
	if u.CallerEnteredDigits != nil {
		c.data.CallerEnteredDigits = *u.CallerEnteredDigits
	}
	if u.CallWrapupData != nil {
		c.data.CallWrapupData = *u.CallWrapupData
	}
	if c.visible {
		p.emit(&CallDataUpdateEvent{Header: p.header(), Connection: c.begin, Data: c.data.clone()})
	}
	return nil
}

// PredictiveCallRequest is MAKE_PREDICTIVE_CALL_REQ.
type PredictiveCallRequest struct {
	DialedNumber string
	// OriginatingDevice is the instrument (or extension) of the agent to
	// connect when the customer answers, or of a line without an ICM agent
	// (Config.Lines).
	OriginatingDevice string
	// RingTimeout is how long the network lets the customer's phone ring
	// (0: the network's default).
	RingTimeout    time.Duration
	CallVariables  [10]string
	NamedVariables []NamedVariable
	// SkillGroup optionally names the skill group the call is for.
	SkillGroup uint32
}

func validNumber(s string) bool {
	if s == "" || len(s) > 40 {
		return false
	}
	for _, r := range s {
		if (r < '0' || r > '9') && r != '+' && r != '*' && r != '#' {
			return false
		}
	}
	return true
}

// MakePredictiveCall dials a customer for an agent and returns the new
// ConnectionCallID. The events follow the return (the CTI Server sends
// MAKE_PREDICTIVE_CALL_CONF first): BEGIN_CALL, CALL_ORIGINATED, then
// CALL_DELIVERED at the far end or CALL_FAILED, CALL_ESTABLISHED at the far
// end, CALL_DELIVERED/CALL_ESTABLISHED at the agent with AGENT_STATE TALKING
// (Direction 7), … END_CALL (cti-protocol.md §5.9(c)). If the agent is not
// free when the customer answers, the call is abandoned (cleared with
// CEC_NO_AVAILABLE_AGENTS). The CallType is AUTO_OUT, or CUSTOMER_PREVIEW
// (32) when the call's BAStatus ECC variable is (BLENDED_)PREVIEW_OUTBOUND:
// the customer call of a preview the agent accepted (reservation.go), whose
// agent goes TALKING with Direction 6 (outbound preview).
//
// The originating device may also be a line without an ICM agent
// (Config.Lines): the call events are the same, with the line's instrument
// as its device, but there is never an AGENT_STATE_EVENT; the line is free
// when it has no connected call.
func (p *PG) MakePredictiveCall(r PredictiveCallRequest) (uint32, error) {
	if !p.online {
		return 0, failf(CFResourceOutOfService, "peripheral %d offline", p.periph)
	}
	if !validNumber(r.DialedNumber) {
		return 0, failf(CFInvalidDestination, "dialed number %q", r.DialedNumber)
	}
	a, ok := p.byDev[r.OriginatingDevice]
	l := p.byLine[r.OriginatingDevice]
	if (!ok || !a.loggedOn) && l == nil {
		return 0, failf(CFInvalidCallingDevice, "no logged-on agent or line on %q", r.OriginatingDevice)
	}
	c := p.newCall(kindPredictive)
	if l != nil {
		c.line = l
	} else {
		c.origin = a
	}
	c.ringLimit = r.RingTimeout
	c.data = CallData{CallType: customerCallType(r.NamedVariables), DialedNumber: r.DialedNumber, DNIS: r.DialedNumber,
		CallVariables: r.CallVariables, NamedVariables: append([]NamedVariable(nil), r.NamedVariables...)}
	c.customer = Device{ID: r.DialedNumber, Type: DeviceExternal}
	if sg, ok := p.sgs[r.SkillGroup]; ok {
		c.sg = SkillGroupRef{Number: sg.Number, ID: sg.ID}
	}
	c.begin = Connection{CallID: c.id, DeviceIDType: ConnectionDynamic, DeviceID: r.DialedNumber}
	c.phase = phaseDialing
	p.sched.At(p.sched.Now(), func(now time.Time) {
		if _, live := p.calls[c.id]; !live {
			return
		}
		c.visible = true
		c.addLeg(now, LegGateway, Device{ID: p.cfg.Trunk, Type: DeviceTrunk})
		c.addLeg(now, LegCustomer, c.customer)
		p.emit(&BeginCallEvent{Header: p.header(), Connection: c.begin, Data: c.data.clone()})
		p.emit(&CallOriginatedEvent{Header: p.header(), Connection: c.begin, ServiceNumber: NullService, ServiceID: NullService,
			SkillGroup: c.sg, Calling: c.originDevice(), Called: c.customer, State: LCSInitiate, Cause: CauseNone})
		if p.cfg.Hooks.Dial != nil {
			p.cfg.Hooks.Dial(DialRequest{CallID: c.id, DialedNumber: r.DialedNumber, RingTimeout: r.RingTimeout, CallType: c.data.CallType})
		}
	})
	return c.id, nil
}

// originDevice is the device a predictive call was placed for.
func (c *call) originDevice() Device {
	if c.line != nil {
		return c.line.device()
	}
	return c.origin.device()
}

// TrunkAlerting: the customer's phone rings (CALL_DELIVERED at the far end).
func (p *PG) TrunkAlerting(callID uint32) {
	c, ok := p.trunkCall(callID)
	if ok && c.multi {
		p.trunkAlerting(c, callID)
		return
	}
	if !ok || c.phase != phaseDialing {
		return
	}
	c.phase = phaseFarAlerting
	p.emit(&CallDeliveredEvent{Header: p.header(), Connection: c.begin, ServiceNumber: NullService, ServiceID: NullService,
		SkillGroup: c.sg, Alerting: c.customer, Calling: c.originDevice(), Called: c.customer, LastRedirect: NoDevice,
		State: LCSAlerting, Cause: CauseNewCall, Data: c.data.clone()})
}

// TrunkFailed: the customer leg failed (CEC_BUSY, CEC_CALL_NOT_ANSWERED,
// CEC_DEST_NOT_OBTAINABLE …): CALL_FAILED, CALL_CLEARED, END_CALL.
func (p *PG) TrunkFailed(callID uint32, cause EventCause) {
	c, ok := p.trunkCall(callID)
	if ok && c.multi {
		p.trunkFailed(c, callID, cause)
		return
	}
	if !ok || (c.phase != phaseDialing && c.phase != phaseFarAlerting) {
		return
	}
	p.emit(&CallFailedEvent{Header: p.header(), Connection: c.begin, Failing: c.customer, Called: c.customer, State: LCSFail, Cause: cause})
	p.emit(&CallClearedEvent{Header: p.header(), Connection: c.begin, State: LCSNull, Cause: cause})
	p.emit(&EndCallEvent{Header: p.header(), Connection: c.begin})
	p.forget(c)
}

// TrunkAnswered: the customer picked up. CALL_ESTABLISHED at the far end;
// then, if the originating agent is free (logged on, Available or Not Ready,
// no call), the call is connected to the agent at once (CALL_DELIVERED and
// CALL_ESTABLISHED at the agent, AGENT_STATE TALKING Direction 7) and
// TrunkAnswered returns true. Otherwise the call is abandoned: the customer is
// cleared (CALL_CONNECTION_CLEARED, CALL_CLEARED with CEC_NO_AVAILABLE_AGENTS,
// END_CALL) and it returns false. A line without an ICM agent is free when it
// has no connected call; it gets the same call events and no agent state.
//
// For the outside leg of a MakeCall, consultation or single-step transfer
// (call control, control.go) TrunkAnswered gives CALL_ESTABLISHED at the far
// end and returns true; TrunkAlerting, TrunkFailed and TrunkDisconnected
// likewise act on that leg, also after a transfer or conference moved it to
// another call (callID stays the ID given in the DialRequest or to
// TrunkIncoming).
func (p *PG) TrunkAnswered(callID uint32) bool {
	c, ok := p.trunkCall(callID)
	if ok && c.multi {
		return p.trunkAnswered(c, callID)
	}
	if !ok || (c.phase != phaseDialing && c.phase != phaseFarAlerting) {
		return false
	}
	now := p.sched.Now()
	a := c.origin
	p.emit(&CallEstablishedEvent{Header: p.header(), Connection: c.begin, ServiceNumber: NullService, ServiceID: NullService,
		SkillGroup: c.sg, Answering: c.customer, Calling: c.originDevice(), Called: c.customer, LastRedirect: NoDevice,
		State: LCSConnect, Cause: CauseNone})
	var free bool
	if l := c.line; l != nil {
		free = p.online && l.call == nil
	} else {
		free = p.online && a.loggedOn && a.call == nil && a.held == nil && (a.state == StateAvailable || a.state == StateNotReady)
	}
	if !free {
		p.emit(&CallConnectionClearedEvent{Header: p.header(), Connection: c.begin, Releasing: c.customer, State: LCSNull, Cause: CauseNoAvailableAgents})
		p.emit(&CallClearedEvent{Header: p.header(), Connection: c.begin, State: LCSNull, Cause: CauseNoAvailableAgents})
		p.emit(&EndCallEvent{Header: p.header(), Connection: c.begin})
		p.forget(c)
		return false
	}
	if c.line != nil {
		p.connectLine(c)
		return true
	}
	c.agent, c.phase, c.answered = a, phaseConnected, now
	a.call, a.prior, a.priorReason = c, a.state, a.reason
	if c.sg.Number != NullSkillGroup {
		a.callSG = c.sg.Number
	}
	c.addLeg(now, LegAgent, a.device())
	conn := a.conn(c.id)
	p.emit(&CallDeliveredEvent{Header: p.header(), Connection: conn, ServiceNumber: NullService, ServiceID: NullService,
		SkillGroup: c.sg, Alerting: a.device(), Calling: c.customer, Called: a.device(), LastRedirect: NoDevice,
		State: LCSAlerting, Cause: CauseNewCall, Data: c.data.clone()})
	p.emit(&CallEstablishedEvent{Header: p.header(), Connection: conn, ServiceNumber: NullService, ServiceID: NullService,
		SkillGroup: c.sg, Answering: a.device(), Calling: c.customer, Called: a.device(), LastRedirect: NoDevice,
		State: LCSConnect, Cause: CauseNone})
	dir := DirectionOutboundPredictive
	if c.data.CallType == CallTypeCustomerPreview {
		dir = DirectionOutboundPreview
	}
	p.setState(a, StateTalking, 0, dir)
	if p.cfg.Hooks.CallAnswered != nil {
		p.cfg.Hooks.CallAnswered(c.id, p.status(a))
	}
	return true
}

// connectLine connects an answered predictive call to its line:
// CALL_DELIVERED and CALL_ESTABLISHED at the line's instrument, nothing else
// (no agent state, no CallAnswered hook: ICM has no agent there).
func (p *PG) connectLine(c *call) {
	now := p.sched.Now()
	l := c.line
	c.phase, c.answered = phaseConnected, now
	l.call, l.since = c, now
	c.addLeg(now, LegAgent, l.device())
	conn := l.conn(c.id)
	p.emit(&CallDeliveredEvent{Header: p.header(), Connection: conn, ServiceNumber: NullService, ServiceID: NullService,
		SkillGroup: c.sg, Alerting: l.device(), Calling: c.customer, Called: l.device(), LastRedirect: NoDevice,
		State: LCSAlerting, Cause: CauseNewCall, Data: c.data.clone()})
	p.emit(&CallEstablishedEvent{Header: p.header(), Connection: conn, ServiceNumber: NullService, ServiceID: NullService,
		SkillGroup: c.sg, Answering: l.device(), Calling: c.customer, Called: l.device(), LastRedirect: NoDevice,
		State: LCSConnect, Cause: CauseNone})
}
