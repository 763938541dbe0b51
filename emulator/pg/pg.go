// Package pg is the emulated Unified CM Peripheral Gateway of an IPCC
// Enterprise centre: the agents configured in ICM with their state machine
// (ipcc-behaviour.md §2.3–2.4), the calls and connections CallManager sees,
// reservation by the router (pre-call), ring-no-answer, wrap-up, and the
// predictive calls a CTI client can ask for — from an agent's phone or from
// a CallManager line with no ICM agent (Config.Lines). It turns all of that
// into PG events in the order of cti-protocol.md §5.9, delivered
// synchronously to the sink given in Config.Emit; the CTI Server renders them
// as CTI messages.
//
// The PG is a pure core: time comes from a sim.Scheduler, it has no
// goroutines and no I/O. The ICM router and the outside world talk to it
// through methods (Route, Trunk*) and the Hooks it calls back.
package pg

import (
	"errors"
	"fmt"
	"time"

	"github.com/ipcclab/ipcclab/internal/sim"
)

// DefaultPeripheralID is the peripheral ID used when Config leaves it zero.
const DefaultPeripheralID = 5000

// Membership is an agent's membership of a skill group (by peripheral
// skill group number) with its priority.
type Membership struct {
	SkillGroup uint32
	Priority   uint16
}

// DeskSettings are the Agent Desk Settings that shape the state machine.
type DeskSettings struct {
	// RingNoAnswer is the RONA time: a reserved agent whose phone rings this
	// long goes NOT_READY with reason 32767 and the call is requeued
	// (ipcc-behaviour.md §2.3). Zero disables RONA.
	RingNoAnswer time.Duration
	// WrapUpIncoming: after an inbound call the agent goes WORK_READY (or
	// WORK_NOT_READY if Not Ready is next) until wrap-up ends.
	WrapUpIncoming bool
	// WrapUpOutgoing: the same after an outbound (predictive) call.
	WrapUpOutgoing bool
	// NotReadyAfterIncoming is the inverse of AVAIL_AFTER_INCOMING: after
	// an inbound call the agent goes NOT_READY instead of AVAILABLE.
	NotReadyAfterIncoming bool
	// IdleReasonRequired: NOT_READY needs a non-zero reason code (CF 281).
	IdleReasonRequired bool
	// LogoutReasonRequired: LOGOUT needs a non-zero reason code (CF 281).
	LogoutReasonRequired bool
}

// AgentConfig is one agent configured in ICM on this peripheral.
type AgentConfig struct {
	// AgentID is the peripheral number of the agent (what logs in).
	AgentID string
	// Extension is the agent's phone line; Instrument defaults to it.
	Extension  string
	Instrument string
	// ICMAgentID is the agent's skill target ID.
	ICMAgentID uint32
	Password   string
	// SkillGroups lists memberships by skill group number.
	SkillGroups []Membership
	// Desk overrides Config.Desk for this agent when non-nil.
	Desk *DeskSettings
}

// LineConfig is a CallManager line with no ICM agent behind it: the phone of
// an outbound-only agent, who exists in a CTI client (the dialer) but not in
// ICM. The PG has no agent for it — no login, no AGENT_STATE_EVENT, no
// QUERY_AGENT_STATE, no routing, nothing in skill-group agent counts — but
// MakePredictiveCall may originate from it and connects the customer to it
// while it has no call. A line may also be a dialer port (a CTI port with
// nobody behind it): a single-step TransferCall from the line moves its
// connected call to a free agent or another free line (lineTransfer).
type LineConfig struct {
	// Extension is the line's directory number; Instrument defaults to it
	// and is the ConnectionDeviceID of the line's connections.
	Extension  string
	Instrument string
}

// SkillGroupConfig is a skill group known to the PG.
type SkillGroupConfig struct {
	Number uint32
	ID     uint32
	Name   string
}

// DialRequest asks the network to place the customer leg of a predictive
// call; the outcome comes back through TrunkAlerting/TrunkAnswered/
// TrunkFailed/TrunkDisconnected.
type DialRequest struct {
	CallID       uint32
	DialedNumber string
	RingTimeout  time.Duration
	// CallType is the call's CallType: CallTypeAutoOut for a predictive
	// call (CallTypeCustomerPreview for an accepted preview's customer
	// call), CallTypeAgentOut for an agent's MakeCall, CallTypeConsult or
	// CallTypeConsultConference for a consultation (or single-step
	// transfer) to an outside number.
	CallType CallType
}

// Hooks are what the PG reports upward (to the ICM router and the network).
// Every field may be nil. They are called after the PG's own state is
// consistent and after the corresponding events were emitted.
type Hooks struct {
	// AgentChanged: any change of an agent's state, availability or
	// pending state.
	AgentChanged func(AgentStatus)
	// CallAnswered: an agent answered (or was connected to) a call. Not
	// called for calls connected to a line (Config.Lines): ICM has no agent
	// there.
	CallAnswered func(callID uint32, agent AgentStatus)
	// RingNoAnswer: a routed call was taken back from a non-answering
	// agent; it is back at the IVR waiting to be requeued.
	RingNoAnswer func(callID uint32, agent AgentStatus)
	// CallEnded: the call is gone from CallManager (every party left).
	CallEnded func(callID uint32)
	// CallHandled: the agent finished the call including after-call work
	// (ipcc-behaviour.md §1.4: handled counts update when wrap-up ends).
	// Not called for calls connected to a line.
	CallHandled func(callID uint32, talk, afterCall time.Duration)
	// Dial: place the customer leg of a predictive call, or the outside
	// leg of an agent's MakeCall, consultation or single-step transfer to
	// an outside number (DialRequest.CallType tells them apart). The events
	// of the call may still be queued when Dial is called (MakeCall and
	// ConsultationCall hand them out after the command returned, so that
	// the CTI Server can send the confirmation first).
	//
	// CallEnded is also called with the ID the network knows an outside
	// leg by when that leg leaves a call that goes on (a customer dropped
	// from a conference), and with that ID again when a customer moved to
	// another call by a transfer or conference ends there.
	Dial func(DialRequest)
	// DTMF: SendDTMF accepted digits on a connected call (no CTI event;
	// the media layer plays them).
	DTMF func(callID uint32, device string, digits string)
	// Transfer, when set, replaces the PG's own IVR-to-agent transfer: after
	// TransferDelay the PG asks the switch to ring the reserved agent's
	// device, and the call is only reported at the agent (BEGIN_CALL,
	// CALL_DELIVERED) when the switch calls DeviceAlerting — so with real
	// SIP the CTI events follow the phone's 180 Ringing, not a timer. The
	// simulation leaves it nil and the PG alerts the agent itself.
	Transfer func(callID uint32, device string)
	// LineTransferred: a predictive call connected to a line (Config.Lines,
	// e.g. a dialer port) was moved by a single-step TransferCall to
	// target (an agent's phone or another line) and is connected there
	// now; the call keeps its ID. Called after the events, and for an
	// agent after CallAnswered. The network uses it to start the
	// customer's conversation (the customer waited on the line until now).
	LineTransferred func(callID uint32, target Device)
}

// Config configures the PG.
type Config struct {
	Scheduler sim.Scheduler
	// PeripheralID defaults to 5000.
	PeripheralID uint32
	// PeripheralType defaults to 17 PT_ENTERPRISE_AGENT.
	PeripheralType uint16
	SkillGroups    []SkillGroupConfig
	Agents         []AgentConfig
	// Lines are the CallManager lines without an ICM agent (outbound-only
	// agents' phones). Their devices must not collide with agents' ones.
	Lines []LineConfig
	// Desk is the default desk settings.
	Desk DeskSettings
	// TransferDelay is the time between the router's reservation
	// (pre-call) and the call ringing at the agent (the IVR transfer).
	TransferDelay time.Duration
	// IVRPortPrefix names the IVR ports calls wait on (default "IVR").
	IVRPortPrefix string
	// Trunk is the gateway trunk ID (default "GW1").
	Trunk string
	// Emit receives every event, synchronously and in order.
	Emit  func(Event)
	Hooks Hooks
}

func (c *Config) validate() error {
	if c.Scheduler == nil {
		return errors.New("scheduler: required")
	}
	if c.TransferDelay < 0 {
		return fmt.Errorf("transfer_delay: must not be negative, got %v", c.TransferDelay)
	}
	if c.Desk.RingNoAnswer < 0 {
		return fmt.Errorf("desk.ring_no_answer: must not be negative, got %v", c.Desk.RingNoAnswer)
	}
	sgs := map[uint32]bool{}
	for i, sg := range c.SkillGroups {
		if sg.Number == NullSkillGroup || sg.ID == NullSkillGroup {
			return fmt.Errorf("skill_groups[%d]: number and id must not be 0xFFFFFFFF", i)
		}
		if sgs[sg.Number] {
			return fmt.Errorf("skill_groups[%d].number: duplicate skill group %d", i, sg.Number)
		}
		sgs[sg.Number] = true
	}
	ids, devs, icm := map[string]int{}, map[string]int{}, map[uint32]int{}
	for i, a := range c.Agents {
		f := fmt.Sprintf("agents[%d]", i)
		if a.AgentID == "" {
			return fmt.Errorf("%s.agent_id: required", f)
		}
		if j, ok := ids[a.AgentID]; ok {
			return fmt.Errorf("%s.agent_id: %q already used by agents[%d]", f, a.AgentID, j)
		}
		ids[a.AgentID] = i
		if a.Extension == "" {
			return fmt.Errorf("%s.extension: required", f)
		}
		for _, d := range uniq(a.Extension, a.Instrument) {
			if j, ok := devs[d]; ok {
				return fmt.Errorf("%s.extension: device %q already used by agents[%d]", f, d, j)
			}
			devs[d] = i
		}
		if a.ICMAgentID == 0 {
			return fmt.Errorf("%s.icm_agent_id: required (the skill target id)", f)
		}
		if j, ok := icm[a.ICMAgentID]; ok {
			return fmt.Errorf("%s.icm_agent_id: %d already used by agents[%d]", f, a.ICMAgentID, j)
		}
		icm[a.ICMAgentID] = i
		seen := map[uint32]bool{}
		for k, m := range a.SkillGroups {
			if !sgs[m.SkillGroup] {
				return fmt.Errorf("%s.skill_groups[%d]: unknown skill group %d", f, k, m.SkillGroup)
			}
			if seen[m.SkillGroup] {
				return fmt.Errorf("%s.skill_groups[%d]: duplicate skill group %d", f, k, m.SkillGroup)
			}
			seen[m.SkillGroup] = true
		}
		if a.Desk != nil && a.Desk.RingNoAnswer < 0 {
			return fmt.Errorf("%s.desk.ring_no_answer: must not be negative", f)
		}
	}
	lines := map[string]int{}
	for i, l := range c.Lines {
		f := fmt.Sprintf("lines[%d]", i)
		if l.Extension == "" {
			return fmt.Errorf("%s.extension: required", f)
		}
		for k, d := range uniq(l.Extension, l.Instrument) {
			field := f + ".extension"
			if k == 1 {
				field = f + ".instrument"
			}
			if j, ok := devs[d]; ok {
				return fmt.Errorf("%s: device %q already used by agents[%d]", field, d, j)
			}
			if j, ok := lines[d]; ok {
				return fmt.Errorf("%s: device %q already used by lines[%d]", field, d, j)
			}
			lines[d] = i
		}
	}
	return nil
}

func uniq(a, b string) []string {
	if b == "" || b == a {
		return []string{a}
	}
	return []string{a, b}
}

// StateTimes is the time an agent has spent logged on and in each state.
type StateTimes struct {
	LoggedOn time.Duration
	// InState is indexed by AgentState (0..10).
	InState [11]time.Duration
}

// AgentStatus is a snapshot of one agent (QUERY_AGENT_STATE_CONF and the
// router's view).
type AgentStatus struct {
	AgentInfo
	LoggedOn          bool
	State             AgentState
	ReasonCode        uint16
	Direction         Direction
	Availability      Availability
	Mode              AgentMode
	NextAgentState    AgentState
	HasNextAgentState bool
	// SkillGroups are the agent's memberships with skill group IDs.
	SkillGroups []SkillGroupRef
	// CallSkillGroup is the number of the skill group of the call the agent
	// is on, reserved for or wrapping up; NullSkillGroup if none.
	CallSkillGroup uint32
	// CallID is the call on the agent's device, 0 if none.
	CallID uint32
	// Since is when the agent entered State.
	Since time.Time
	Times StateTimes
}

type agent struct {
	cfg      AgentConfig
	desk     DeskSettings
	info     AgentInfo
	sgs      []SkillGroupRef
	loggedOn bool
	loginAt  time.Time
	state    AgentState
	reason   uint16
	dir      Direction
	since    time.Time
	times    StateTimes

	hasNext    bool
	next       AgentState
	nextReason uint16

	call        *call
	callSG      uint32
	prior       AgentState
	priorReason uint16

	// Call control (control.go). held is the call the agent holds while
	// call (if any) is the active or alerting one. mode, talked,
	// talkStart and workCall describe the agent's involvement since it
	// last had no call; quiet suppresses interim state changes during a
	// compound command.
	held      *call
	mode      workMode
	talked    bool
	talkStart time.Time
	workCall  uint32
	quiet     bool

	// wrap-up bookkeeping
	inWrap     bool
	wrapStart  time.Time
	wrapReason uint16
	lastCall   uint32
	lastTalk   time.Duration
}

// line is a CallManager line without an ICM agent (Config.Lines).
type line struct {
	ext, inst string
	// call is the predictive call connected to the line, nil when free.
	call  *call
	calls int
	talk  time.Duration
	// since is when a call last came to or left the line (zero before
	// its first call): how long the line has been as it is.
	since time.Time
}

// device and conn name the line by its instrument.
func (l *line) device() Device { return Device{ID: l.inst, Type: DeviceIdentifier} }

func (l *line) conn(id uint32) Connection {
	return Connection{CallID: id, DeviceIDType: ConnectionStatic, DeviceID: l.inst}
}

// LineStatus is a snapshot of one line of Config.Lines.
type LineStatus struct {
	Extension  string
	Instrument string
	// CallID is the call connected to the line, 0 when the line is free.
	CallID uint32
	// Calls counts the connected calls that ended; Talk is the connected
	// time of those and of the current call.
	Calls int
	Talk  time.Duration
	// Since is when the line last changed: its current call connected or
	// its last call ended; zero before its first call.
	Since time.Time
}

// PG is the emulated CallManager PG.
type PG struct {
	cfg     Config
	sched   sim.Scheduler
	periph  uint32
	ptype   uint16
	sgs     map[uint32]SkillGroupConfig
	sgOrder []SkillGroupConfig
	agents  []*agent
	byID    map[string]*agent
	byDev   map[string]*agent
	byICM   map[uint32]*agent
	lines   []*line
	byLine  map[string]*line

	calls    map[uint32]*call
	ended    map[uint32]bool
	endedLog []uint32
	nextCall uint32
	ivrFree  []string
	ivrNext  int
	online   bool
	ccDown   bool // central controller (router) down
	opcDown  bool // the PG's own process down
	emitted  uint64

	// moved maps the ID the network knows an outside leg by to the call
	// the leg is on now, once a transfer or conference moved it.
	moved map[uint32]*call
	// deferring: events are queued and handed out by a scheduler callback
	// at the current instant (after the command returned).
	deferring bool
	queue     []Event
}

// New validates cfg and returns the PG, online, with every agent logged out.
func New(cfg Config) (*PG, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	p := &PG{cfg: cfg, sched: cfg.Scheduler, periph: cfg.PeripheralID, ptype: cfg.PeripheralType,
		sgs: map[uint32]SkillGroupConfig{}, byID: map[string]*agent{}, byDev: map[string]*agent{},
		byICM: map[uint32]*agent{}, byLine: map[string]*line{}, calls: map[uint32]*call{}, ended: map[uint32]bool{}, online: true,
		moved:    map[uint32]*call{},
		nextCall: 16777216}
	if p.periph == 0 {
		p.periph = DefaultPeripheralID
	}
	if p.ptype == 0 {
		p.ptype = PeripheralTypeEnterpriseAgent
	}
	if p.cfg.IVRPortPrefix == "" {
		p.cfg.IVRPortPrefix = "IVR"
	}
	if p.cfg.Trunk == "" {
		p.cfg.Trunk = "GW1"
	}
	for _, sg := range cfg.SkillGroups {
		p.sgs[sg.Number] = sg
		p.sgOrder = append(p.sgOrder, sg)
	}
	now := p.sched.Now()
	for _, ac := range cfg.Agents {
		a := &agent{cfg: ac, desk: cfg.Desk, state: StateLogout, since: now}
		if ac.Desk != nil {
			a.desk = *ac.Desk
		}
		inst := ac.Instrument
		if inst == "" {
			inst = ac.Extension
		}
		a.info = AgentInfo{AgentID: ac.AgentID, Extension: ac.Extension, Instrument: inst, ICMAgentID: ac.ICMAgentID}
		for _, m := range ac.SkillGroups {
			a.sgs = append(a.sgs, SkillGroupRef{Number: m.SkillGroup, ID: p.sgs[m.SkillGroup].ID, Priority: m.Priority})
		}
		p.agents = append(p.agents, a)
		p.byID[ac.AgentID] = a
		p.byDev[ac.Extension] = a
		p.byDev[inst] = a
		p.byICM[ac.ICMAgentID] = a
	}
	for _, lc := range cfg.Lines {
		l := &line{ext: lc.Extension, inst: lc.Instrument}
		if l.inst == "" {
			l.inst = lc.Extension
		}
		p.lines = append(p.lines, l)
		p.byLine[l.ext] = l
		p.byLine[l.inst] = l
	}
	return p, nil
}

// PeripheralID is the peripheral's ID.
func (p *PG) PeripheralID() uint32 { return p.periph }

// PeripheralType is the peripheral's CTI PeripheralType.
func (p *PG) PeripheralType() uint16 { return p.ptype }

// EventsEmitted counts the events emitted so far.
func (p *PG) EventsEmitted() uint64 { return p.emitted }

func (p *PG) header() Header {
	return Header{Time: p.sched.Now(), PeripheralID: p.periph, PeripheralType: p.ptype}
}

func (p *PG) emit(e Event) {
	p.emitted++
	if p.deferring {
		p.queue = append(p.queue, e)
		return
	}
	if p.cfg.Emit != nil {
		p.cfg.Emit(e)
	}
}

// deferEvents queues the events emitted from now on and hands them to
// Config.Emit, in order, from a scheduler callback at the current instant:
// the command returns (and the CTI Server sends its confirmation) before the
// events go out. Events emitted while the queue is being handed out join
// its end, so the order is kept.
func (p *PG) deferEvents() {
	if p.deferring {
		return
	}
	p.deferring = true
	p.sched.At(p.sched.Now(), func(time.Time) {
		for len(p.queue) > 0 {
			e := p.queue[0]
			p.queue = p.queue[1:]
			if p.cfg.Emit != nil {
				p.cfg.Emit(e)
			}
		}
		p.queue, p.deferring = nil, false
	})
}

// Online reports whether the peripheral is online.
func (p *PG) Online() bool { return p.online }

// PGStatus is the OPEN_CONF/SYSTEM_EVENT PGStatus bits for the current state
// (cti-protocol.md §4.5): the peripheral, the central controller (router)
// and the PG's own process (OPC) each contribute a bit when down.
func (p *PG) PGStatus() uint32 {
	var st uint32
	if !p.online {
		st |= PGSPeripheralOffline
	}
	if p.ccDown {
		st |= PGSCCDown
	}
	if p.opcDown {
		st |= PGSOPCDown
	}
	return st
}

// SetCentralController reports the ICM central controller (router) up or
// down: SYSTEM_EVENT SYS_CENTRAL_CONTROLLER_ONLINE/OFFLINE with PGStatus
// PGS_CC_DOWN while it is down. Calls at agents carry on (the PG still
// switches them); routing of new calls is what stops, in the centre.
func (p *PG) SetCentralController(up bool) {
	if up == !p.ccDown {
		return
	}
	p.ccDown = !up
	id := SysCentralControllerOnline
	if !up {
		id = SysCentralControllerOffline
	}
	p.emit(&SystemEvent{Header: p.header(), ID: id, PGStatus: p.PGStatus(), Arg1: p.periph})
}

// SetPGProcess reports the PG's own process (OPC) up or down: PGStatus
// PGS_OPC_DOWN and SYSTEM_EVENT SYS_PERIPHERAL_GATEWAY_OFFLINE while down,
// SYS_PERIPHERAL_ONLINE when it is back (there is no "PG online" event in
// §4.6).
func (p *PG) SetPGProcess(up bool) {
	if up == !p.opcDown {
		return
	}
	p.opcDown = !up
	id := SysPeripheralOnline
	if !up {
		id = SysPeripheralGatewayOffline
	}
	p.emit(&SystemEvent{Header: p.header(), ID: id, PGStatus: p.PGStatus(), Arg1: p.periph})
}

// SetOnline takes the peripheral on- or offline and emits SYSTEM_EVENT
// SYS_PERIPHERAL_ONLINE/OFFLINE (Arg1 = PeripheralID, cti-protocol.md §4.6).
// While offline, commands fail with CF 34 RESOURCE_OUT_OF_SERVICE.
func (p *PG) SetOnline(on bool) {
	if on == p.online {
		return
	}
	p.online = on
	id := SysPeripheralOnline
	if !on {
		id = SysPeripheralOffline
	}
	p.emit(&SystemEvent{Header: p.header(), ID: id, PGStatus: p.PGStatus(), Arg1: p.periph})
}

// HalfHourChange emits SYSTEM_EVENT SYS_HALF_HOUR_CHANGE; the centre calls
// it at each half-hour boundary the router announces (ipcc-behaviour.md §1.4).
func (p *PG) HalfHourChange() {
	p.emit(&SystemEvent{Header: p.header(), ID: SysHalfHourChange, PGStatus: p.PGStatus(), Arg1: p.periph})
}

// SkillGroups lists the configured skill groups in configuration order.
func (p *PG) SkillGroups() []SkillGroupConfig { return append([]SkillGroupConfig(nil), p.sgOrder...) }

// Agents lists every configured agent in configuration order.
func (p *PG) Agents() []AgentStatus {
	out := make([]AgentStatus, len(p.agents))
	for i, a := range p.agents {
		out[i] = p.status(a)
	}
	return out
}

// Lines lists the configured lines without an ICM agent in configuration
// order.
func (p *PG) Lines() []LineStatus {
	now := p.sched.Now()
	out := make([]LineStatus, len(p.lines))
	for i, l := range p.lines {
		out[i] = LineStatus{Extension: l.ext, Instrument: l.inst, Calls: l.calls, Talk: l.talk, Since: l.since}
		if l.call != nil {
			out[i].CallID = l.call.id
			out[i].Talk += now.Sub(l.call.answered)
		}
	}
	return out
}

// AgentSelector picks an agent by AgentID or, if that is empty, by
// instrument (or extension).
type AgentSelector struct {
	AgentID    string
	Instrument string
}

func (p *PG) find(s AgentSelector) (*agent, error) {
	if s.AgentID != "" {
		a, ok := p.byID[s.AgentID]
		if !ok {
			return nil, failf(CFInvalidAgentID, "unknown agent %q", s.AgentID)
		}
		return a, nil
	}
	if s.Instrument != "" {
		a, ok := p.byDev[s.Instrument]
		if !ok {
			return nil, failf(CFInvalidDeviceID, "no agent on instrument %q", s.Instrument)
		}
		return a, nil
	}
	return nil, failf(CFInvalidAgentID, "neither agent ID nor instrument given")
}

// QueryAgentState returns the agent's current status (QUERY_AGENT_STATE).
func (p *PG) QueryAgentState(s AgentSelector) (AgentStatus, error) {
	a, err := p.find(s)
	if err != nil {
		return AgentStatus{}, err
	}
	return p.status(a), nil
}

func (p *PG) availability(a *agent) Availability {
	if a.loggedOn && a.state == StateAvailable {
		return ICMAvailable
	}
	return NotAvailable
}

func (p *PG) status(a *agent) AgentStatus {
	now := p.sched.Now()
	st := AgentStatus{AgentInfo: a.info, LoggedOn: a.loggedOn, State: a.state, ReasonCode: a.reason,
		Direction: a.dir, Availability: p.availability(a), Mode: NotRoutable,
		NextAgentState: a.next, HasNextAgentState: a.hasNext, SkillGroups: a.sgs,
		CallSkillGroup: NullSkillGroup, Since: a.since, Times: a.times}
	if a.loggedOn {
		st.Mode = Routable
		st.Times.LoggedOn += now.Sub(a.loginAt)
		st.Times.InState[a.state] += now.Sub(a.since)
	}
	if a.callSG != 0 {
		st.CallSkillGroup = a.callSG
	}
	if a.call != nil {
		st.CallID = a.call.id
	} else if a.held != nil {
		st.CallID = a.held.id
	}
	return st
}

// busyOnCall reports states in which the agent's other skill groups see it
// as BUSY_OTHER.
func busyOnCall(s AgentState) bool {
	switch s {
	case StateTalking, StateHold, StateReserved, StateWorkReady, StateWorkNotReady:
		return true
	}
	return false
}

func (p *PG) stateEvent(a *agent, duration uint32) *AgentStateEvent {
	e := &AgentStateEvent{Header: p.header(), Agent: a.info, State: a.state, SkillGroup: NoSkillGroup,
		SkillGroupState: a.state, ReasonCode: a.reason, AgentMode: NotRoutable, Availability: p.availability(a),
		Direction: a.dir, NextAgentState: a.next, HasNextAgentState: a.hasNext, StateDuration: duration}
	if a.loggedOn {
		e.AgentMode = Routable
	}
	e.SkillGroups = make([]SkillGroupState, len(a.sgs))
	for i, sg := range a.sgs {
		s := a.state
		if a.callSG != 0 && sg.Number != a.callSG && busyOnCall(a.state) {
			s = StateBusyOther
		}
		if sg.Number == a.callSG {
			e.SkillGroup = sg
		}
		e.SkillGroups[i] = SkillGroupState{SkillGroupRef: sg, State: s}
	}
	return e
}

// setState moves the agent, accounts the time, emits AGENT_STATE_EVENT and
// tells the hooks. Leaving wrap-up reports the call handled.
func (p *PG) setState(a *agent, s AgentState, reason uint16, dir Direction) {
	now := p.sched.Now()
	old := a.state
	if a.loggedOn {
		a.times.InState[old] += now.Sub(a.since)
	}
	a.state, a.reason, a.dir, a.since = s, reason, dir, now
	if s != StateNotReady && s != StateLogout {
		a.reason = 0
	}
	if s != StateReserved && s != StateTalking && s != StateHold && s != StateWorkReady && s != StateWorkNotReady {
		a.callSG = 0
	}
	p.emit(p.stateEvent(a, 0))
	if a.inWrap && s != StateWorkReady && s != StateWorkNotReady {
		a.inWrap = false
		if p.cfg.Hooks.CallHandled != nil {
			p.cfg.Hooks.CallHandled(a.lastCall, a.lastTalk, now.Sub(a.wrapStart))
		}
	}
	p.agentChanged(a)
}

func (p *PG) agentChanged(a *agent) {
	if p.cfg.Hooks.AgentChanged != nil {
		p.cfg.Hooks.AgentChanged(p.status(a))
	}
}

// SetAgentStateRequest is SET_AGENT_STATE_REQ.
type SetAgentStateRequest struct {
	AgentID string
	// Instrument selects the agent when AgentID is empty; for LOGIN it is
	// the device to log in on (required).
	Instrument string
	State      AgentState
	ReasonCode uint16
	// WorkMode is AgentWorkMode 0..4 (cti-protocol.md §4.16).
	WorkMode uint16
	Password string
}

// SetAgentState applies a state request (ipcc-behaviour.md §2.4,
// cti-protocol.md §5.9(e)). A request for AVAILABLE, NOT_READY or a wrap-up
// state while the agent is TALKING, HOLD or RESERVED is kept as the pending
// NextAgentState and applied when the call ends. Errors are *ControlFailure.
func (p *PG) SetAgentState(r SetAgentStateRequest) error {
	if !p.online {
		return failf(CFResourceOutOfService, "peripheral %d offline", p.periph)
	}
	if r.WorkMode > 4 {
		return failf(CFInvalidWorkMode, "work mode %d", r.WorkMode)
	}
	if r.State == StateLogin {
		return p.login(r)
	}
	a, err := p.find(AgentSelector{AgentID: r.AgentID, Instrument: r.Instrument})
	if err != nil {
		return err
	}
	if !a.loggedOn {
		return failf(CFInvalidObjectState, "agent %s is not logged on", a.info.AgentID)
	}
	onCall := a.state == StateTalking || a.state == StateHold || a.state == StateReserved || a.call != nil || a.held != nil
	switch r.State {
	case StateLogout:
		if r.Password != "" && a.cfg.Password != "" && r.Password != a.cfg.Password {
			return failf(CFInvalidAgentIDOrPassword, "wrong password for agent %s", a.info.AgentID)
		}
		if onCall {
			// §2.4: logout is not allowed while Talking/Reserved.
			return failf(CFInvalidObjectState, "agent %s is %s", a.info.AgentID, a.state)
		}
		if a.desk.LogoutReasonRequired && r.ReasonCode == 0 {
			return failf(CFReasonCodeRequired, "logout reason code required")
		}
		p.logout(a, r.ReasonCode)
		return nil
	case StateNotReady:
		if a.desk.IdleReasonRequired && r.ReasonCode == 0 && !(a.state == StateWorkNotReady && a.wrapReason != 0) {
			return failf(CFReasonCodeRequired, "not ready reason code required")
		}
	case StateAvailable:
	case StateWorkReady, StateWorkNotReady:
		if !onCall && a.state != StateWorkReady && a.state != StateWorkNotReady {
			// Wrap-up follows a call; there is none to wrap up.
			return failf(CFInvalidObjectState, "agent %s has no call to wrap up (%s)", a.info.AgentID, a.state)
		}
	default:
		// TALKING, RESERVED, HOLD, BUSY_OTHER, UNKNOWN … are reached by call
		// events, never requested: the value is out of the settable range.
		return failf(CFValueOutOfRange, "agent state %s cannot be requested", r.State)
	}
	if onCall {
		a.hasNext, a.next, a.nextReason = true, r.State, r.ReasonCode
		p.emit(p.stateEvent(a, uint32(p.sched.Now().Sub(a.since)/time.Second)))
		p.agentChanged(a)
		return nil
	}
	reason := r.ReasonCode
	if r.State == StateNotReady && reason == 0 && a.state == StateWorkNotReady {
		reason = a.wrapReason
	}
	a.hasNext = false
	dir := DirectionNone
	if r.State == StateWorkReady || r.State == StateWorkNotReady {
		dir = a.dir // wrap-up still belongs to the call's direction
	}
	p.setState(a, r.State, reason, dir)
	return nil
}

func (p *PG) login(r SetAgentStateRequest) error {
	a, ok := p.byID[r.AgentID]
	if !ok {
		return failf(CFInvalidAgentIDOrPassword, "unknown agent %q", r.AgentID)
	}
	if a.cfg.Password != "" && r.Password != a.cfg.Password {
		return failf(CFInvalidAgentIDOrPassword, "wrong password for agent %s", r.AgentID)
	}
	if a.loggedOn {
		return failf(CFAgentAlreadySignedOn, "agent %s already logged on", r.AgentID)
	}
	if r.Instrument == "" || (r.Instrument != a.info.Instrument && r.Instrument != a.info.Extension) {
		if other, ok := p.byDev[r.Instrument]; ok && other != a && other.loggedOn {
			return failf(CFExtensionInUse, "instrument %q in use by agent %s", r.Instrument, other.info.AgentID)
		}
		return failf(CFInvalidLogonDevice, "agent %s cannot log in on %q", r.AgentID, r.Instrument)
	}
	now := p.sched.Now()
	a.loggedOn, a.loginAt, a.since = true, now, now
	a.hasNext, a.call, a.held, a.callSG, a.inWrap = false, nil, nil, 0, false
	a.state, a.reason, a.dir = StateLogin, 0, DirectionNone
	p.emit(p.stateEvent(a, 0))
	// Login ends in NOT_READY on IPCC (ipcc-behaviour.md §2.4).
	p.setState(a, StateNotReady, r.ReasonCode, DirectionNone)
	return nil
}

func (p *PG) logout(a *agent, reason uint16) {
	now := p.sched.Now()
	a.times.InState[a.state] += now.Sub(a.since)
	a.times.LoggedOn += now.Sub(a.loginAt)
	a.loggedOn = false
	a.hasNext = false
	wasWrap := a.inWrap
	a.inWrap = false
	a.state, a.reason, a.dir, a.since, a.callSG = StateLogout, reason, DirectionNone, now, 0
	p.emit(p.stateEvent(a, 0))
	if wasWrap && p.cfg.Hooks.CallHandled != nil {
		p.cfg.Hooks.CallHandled(a.lastCall, a.lastTalk, now.Sub(a.wrapStart))
	}
	p.agentChanged(a)
}

// AgentTimes returns the agent's accumulated logged-on and per-state time.
func (p *PG) AgentTimes(s AgentSelector) (StateTimes, error) {
	a, err := p.find(s)
	if err != nil {
		return StateTimes{}, err
	}
	return p.status(a).Times, nil
}

func (a *agent) device() Device { return Device{ID: a.info.Extension, Type: DeviceIdentifier} }

func (a *agent) conn(id uint32) Connection {
	return Connection{CallID: id, DeviceIDType: ConnectionStatic, DeviceID: a.info.Extension}
}

// ivrPort takes a free IVR port for a waiting call (data only: the IVR is a
// place the call waits).
func (p *PG) ivrPort() string {
	if n := len(p.ivrFree); n > 0 {
		s := p.ivrFree[n-1]
		p.ivrFree = p.ivrFree[:n-1]
		return s
	}
	p.ivrNext++
	return fmt.Sprintf("%s%04d", p.cfg.IVRPortPrefix, p.ivrNext)
}

func (p *PG) freePort(s string) {
	if s != "" {
		p.ivrFree = append(p.ivrFree, s)
	}
}
