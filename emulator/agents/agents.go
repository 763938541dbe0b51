// Package agents emulates the people at the phones: they log in, inbound
// agents make themselves Ready, answer a ringing phone after a short delay,
// talk, hang up, wrap up and go Ready again. Blended agents are owned by the
// controller: after login and after wrap-up they follow whatever state the
// PG says comes next (Not Ready unless a CTI client made them Available).
// Outbound-only agents have no ICM agent: they sit at CallManager lines
// (pg.Config.Lines), never log in, and only talk on the predictive calls the
// PG connects to their line, hanging up when their talk time ends.
//
// Call control comes from CTI clients, never from the agents themselves
// (they do not transfer or conference on their own): an agent answers a
// direct call to its phone — another agent's MakeCall, consultation or
// deflected call — after its answer delay and then waits for the caller to
// end it; a customer call transferred or conferenced to it, or deflected to
// it, is talked for the normal talk time — except a predictive call a dialer
// transferred from its port (its CALL_DELIVERED carries CallType AUTO_OUT):
// the customer ends that one, as every outbound call of an agent in ICM,
// also at an outbound-only agent's line. While a customer call is on hold
// the talk time stops; it starts afresh when the call is retrieved.
//
// A dialer's preview reservation (a call from a dialer port with CallType
// RESERVATION_PREVIEW, cti-protocol.md §5.9(d)) is auto-answered by the
// phone; the agent reads the customer record and, after its think time,
// answers the preview through its desktop — SET_CALL_DATA_REQ setting the
// call's BAResponse ECC variable to Accept, Skip, Reject … — as its group's
// PreviewBehaviour draws it (or not at all). The customer call of an
// accepted preview (CUSTOMER_PREVIEW) is connected by the PG like a
// predictive call and ended by the customer.
//
// The model watches PG events (HandleEvent) and acts through PG commands,
// like a phone plus an agent desktop. It is a pure core on a sim.Scheduler
// with a seeded random stream.
package agents

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/ipcclab/ipcclab/emulator/pg"
	"github.com/ipcclab/ipcclab/emulator/pstn"
	"github.com/ipcclab/ipcclab/internal/sim"
)

// Role is what an agent group does.
type Role string

// Roles. Inbound agents exist in ICM only, blended agents in ICM and the
// controller, outbound-only agents in the controller only: the PG has no
// agent for them, only their line (pg.Config.Lines), so they never log in or
// change state; they talk on the predictive calls connected to the line.
const (
	RoleInbound  Role = "inbound"
	RoleBlended  Role = "blended"
	RoleOutbound Role = "outbound"
)

// Agent is one person: the PG agent ID, the phone and the password.
type Agent struct {
	AgentID    string
	Extension  string
	Instrument string
	Password   string
}

// Group is a block of agents with the same behaviour.
type Group struct {
	Name   string
	Role   Role
	Agents []Agent
	// AnswerDelay: from the phone ringing to the agent answering.
	AnswerDelay pstn.Dist
	// Talk: conversation time of inbound calls, and for outbound-only
	// agents of the predictive calls connected to their line; the agent
	// hangs up when it ends. (Agents in ICM leave ending predictive calls
	// to the customer.)
	Talk pstn.Dist
	// WrapUp: after-call work before the agent ends wrap-up.
	WrapUp pstn.Dist
	// RONARecovery: how long an inbound agent put Not Ready by RONA takes
	// to notice and go Ready again.
	RONARecovery pstn.Dist
	// NotReadyReason is the reason code the agent gives when it goes Not
	// Ready itself (when the desk settings require one).
	NotReadyReason uint16
	// Preview is how the agents answer preview reservations; nil: they
	// never answer (the dialer withdraws each preview after its timeout).
	Preview *PreviewBehaviour
}

// Preview responses: the values of the BAResponse ECC variable a desktop
// sets on a preview reservation call (Cisco Outbound Option; the callback
// response is "Callback mmddyyyy hh:mm").
const (
	ResponseAccept      = "Accept"
	ResponseSkip        = "Skip"
	ResponseSkipClose   = "Skip-Close"
	ResponseReject      = "Reject"
	ResponseRejectClose = "Reject-Close"
	ResponseCallback    = "Callback"
)

// PreviewBehaviour is how agents answer a preview: Think after the
// reservation arrives they answer Accept, Skip, Reject, Skip-Close,
// Reject-Close or Callback with these probabilities (at most 1 together);
// with the probability left they do not answer at all.
type PreviewBehaviour struct {
	Think                                                  pstn.Dist
	Accept, Skip, Reject, SkipClose, RejectClose, Callback float64
	// CallbackAfter is how far ahead a Callback asks to be called (0: 1 h).
	CallbackAfter time.Duration
}

// validate checks the probabilities and the think time.
func (b *PreviewBehaviour) validate(f string) error {
	if err := b.Think.Validate(f + ".think"); err != nil {
		return err
	}
	sum := 0.0
	for _, p := range []struct {
		n string
		v float64
	}{{"accept", b.Accept}, {"skip", b.Skip}, {"reject", b.Reject}, {"skip_close", b.SkipClose},
		{"reject_close", b.RejectClose}, {"callback", b.Callback}} {
		if p.v < 0 || p.v > 1 || p.v != p.v {
			return fmt.Errorf("%s.%s: probability must be within 0..1, got %v", f, p.n, p.v)
		}
		sum += p.v
	}
	if sum > 1+1e-9 {
		return fmt.Errorf("%s: accept+skip+reject+skip_close+reject_close+callback must not exceed 1, got %v", f, sum)
	}
	if b.CallbackAfter < 0 {
		return fmt.Errorf("%s.callback_after: must not be negative, got %v", f, b.CallbackAfter)
	}
	return nil
}

// draw picks a response ("" for none).
func (b *PreviewBehaviour) draw(r *rand.Rand) string {
	u := r.Float64()
	for _, p := range []struct {
		v float64
		s string
	}{{b.Accept, ResponseAccept}, {b.Skip, ResponseSkip}, {b.Reject, ResponseReject}, {b.SkipClose, ResponseSkipClose},
		{b.RejectClose, ResponseRejectClose}, {b.Callback, ResponseCallback}} {
		if u < p.v {
			return p.s
		}
		u -= p.v
	}
	return ""
}

// Commands is what the model needs of the PG.
type Commands interface {
	SetAgentState(pg.SetAgentStateRequest) error
	AnswerCall(instrument string, callID uint32) error
	ClearConnection(callID uint32, device string) error
	// SetCallData is the desktop's SET_CALL_DATA_REQ (a preview's
	// BAResponse).
	SetCallData(callID uint32, u pg.CallDataUpdate) error
}

// Config configures the model.
type Config struct {
	Scheduler sim.Scheduler
	Rand      *rand.Rand
	PG        Commands
	Groups    []Group
}

func (c *Config) validate() error {
	if c.Scheduler == nil {
		return errors.New("scheduler: required")
	}
	if c.Rand == nil {
		return errors.New("rand: required")
	}
	if c.PG == nil {
		return errors.New("pg: required")
	}
	ids, exts := map[string]string{}, map[string]string{}
	for i, g := range c.Groups {
		f := fmt.Sprintf("groups[%d]", i)
		switch g.Role {
		case RoleInbound, RoleBlended, RoleOutbound:
		default:
			return fmt.Errorf("%s.role: unknown role %q (use inbound, blended or outbound)", f, g.Role)
		}
		for _, d := range []struct {
			n string
			d pstn.Dist
		}{{"answer_delay", g.AnswerDelay}, {"talk", g.Talk}, {"wrap_up", g.WrapUp}, {"rona_recovery", g.RONARecovery}} {
			if err := d.d.Validate(f + "." + d.n); err != nil {
				return err
			}
		}
		if g.Preview != nil {
			if err := g.Preview.validate(f + ".preview"); err != nil {
				return err
			}
		}
		for k, a := range g.Agents {
			af := fmt.Sprintf("%s.agents[%d]", f, k)
			if a.AgentID == "" {
				return fmt.Errorf("%s.agent_id: required", af)
			}
			if a.Extension == "" {
				return fmt.Errorf("%s.extension: required", af)
			}
			if prev, ok := ids[a.AgentID]; ok {
				return fmt.Errorf("%s.agent_id: %q already in %s", af, a.AgentID, prev)
			}
			ids[a.AgentID] = af
			if prev, ok := exts[a.Extension]; ok {
				return fmt.Errorf("%s.extension: %q already in %s", af, a.Extension, prev)
			}
			exts[a.Extension] = af
		}
	}
	return nil
}

// Stats counts what the agents did.
type Stats struct {
	Logins   int
	Answered int
	// HungUp counts the calls the agents ended, LineCalls the predictive
	// calls connected to outbound-only agents' lines.
	HungUp        int
	LineCalls     int
	WrapUps       int
	RONARecovered int
	// CommandErrors counts PG commands that failed (a call gone before
	// the agent answered, say); LastError is the last of them.
	CommandErrors int
	LastError     error
	// Previews counts the preview reservations the agents were presented;
	// Responses the BAResponse values they set, by value ("Callback" for
	// every callback); Unanswered the previews they let time out.
	Previews   int
	Responses  map[string]int
	Unanswered int
}

type person struct {
	g       *Group
	a       Agent
	inst    string
	callID  uint32
	inbound map[uint32]bool
	// line: an outbound-only agent at a line without an ICM agent.
	line bool
	// predictive is the last predictive (AUTO_OUT) call delivered to the
	// phone: if it arrives by a transfer, the customer ends it.
	predictive uint32
	answer     sim.Timer
	talk       sim.Timer
	wrap       sim.Timer
	recover    sim.Timer
	lastState  pg.AgentState
	// reservation is the preview reservation call on the phone; respond
	// the agent's answer to it.
	reservation uint32
	respond     sim.Timer
}

// Model is the emulated agents.
type Model struct {
	cfg    Config
	sched  sim.Scheduler
	rnd    *rand.Rand
	byID   map[string]*person
	byExt  map[string]*person
	people []*person
	stats  Stats
}

// New validates cfg and returns the model; call Start to log the agents in.
func New(cfg Config) (*Model, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	m := &Model{cfg: cfg, sched: cfg.Scheduler, rnd: cfg.Rand, byID: map[string]*person{}, byExt: map[string]*person{},
		stats: Stats{Responses: map[string]int{}}}
	for gi := range cfg.Groups {
		g := &m.cfg.Groups[gi]
		for _, a := range g.Agents {
			p := &person{g: g, a: a, inst: a.Instrument, inbound: map[uint32]bool{}, lastState: pg.StateLogout,
				line: g.Role == RoleOutbound}
			if p.inst == "" {
				p.inst = a.Extension
			}
			m.people = append(m.people, p)
			if !p.line {
				m.byID[a.AgentID] = p // the PG's agent events name only ICM agents
			}
			m.byExt[a.Extension] = p
			m.byExt[p.inst] = p
		}
	}
	return m, nil
}

// Stats returns the counters so far.
func (m *Model) Stats() Stats {
	st := m.stats
	st.Responses = map[string]int{}
	for k, v := range m.stats.Responses {
		st.Responses[k] = v
	}
	return st
}

func (m *Model) check(err error) {
	if err != nil {
		m.stats.CommandErrors++
		m.stats.LastError = err
	}
}

// Start logs every agent in; inbound agents then go Ready, blended agents
// stay Not Ready until the controller makes them Available. Outbound-only
// agents have nothing to log in to: they are at their lines from the start.
func (m *Model) Start() {
	for _, p := range m.people {
		if p.line {
			continue
		}
		err := m.cfg.PG.SetAgentState(pg.SetAgentStateRequest{AgentID: p.a.AgentID, Instrument: p.inst,
			State: pg.StateLogin, Password: p.a.Password, ReasonCode: p.g.NotReadyReason})
		m.check(err)
		if err != nil {
			continue
		}
		m.stats.Logins++
		if p.g.Role == RoleInbound {
			m.check(m.cfg.PG.SetAgentState(pg.SetAgentStateRequest{AgentID: p.a.AgentID, State: pg.StateAvailable}))
		}
	}
}

func (m *Model) after(d time.Duration, fn func()) sim.Timer {
	return sim.After(m.sched, d, func(time.Time) { fn() })
}

// HandleEvent feeds one PG event to the agents.
func (m *Model) HandleEvent(e pg.Event) {
	switch ev := e.(type) {
	case *pg.CallDeliveredEvent:
		p := m.byExt[ev.Alerting.ID]
		if p == nil || ev.State != pg.LCSAlerting {
			return
		}
		id := ev.Connection.CallID
		if pg.IsReservation(ev.Data.CallType) {
			m.reserved(p, id, ev.Data.CallType)
			return // the phone auto-answers a dialer's reservation
		}
		if ev.Data.CallType == pg.CallTypeAutoOut || ev.Data.CallType == pg.CallTypeCustomerPreview {
			p.predictive = id
			return // predictive calls are connected by the PG itself
		}
		if p.line {
			return
		}
		p.callID = id
		if !internal(ev.Data.CallType) {
			p.inbound[id] = true
		}
		m.sched.Cancel(p.answer)
		p.answer = m.after(p.g.AnswerDelay.Draw(m.rnd), func() {
			p.answer = 0
			if err := m.cfg.PG.AnswerCall(p.inst, id); err == nil {
				m.stats.Answered++
			} else {
				m.check(err)
			}
		})
	case *pg.CallEstablishedEvent:
		p := m.byExt[ev.Answering.ID]
		if p == nil {
			return
		}
		id := ev.Connection.CallID
		p.callID = id
		if id == p.reservation {
			return // the preview is on the screen; the agent answers it
		}
		if p.line {
			// A predictive call connected to an outbound-only agent's
			// line: talk, then hang up (no wrap-up: ICM has no state for
			// the line, which is free again once the call is gone).
			m.stats.LineCalls++
			m.sched.Cancel(p.talk)
			p.talk = m.after(p.g.Talk.Draw(m.rnd), func() {
				p.talk = 0
				if err := m.cfg.PG.ClearConnection(id, p.inst); err == nil {
					m.stats.HungUp++
				} else {
					m.check(err)
				}
			})
			return
		}
		if !p.inbound[id] {
			// The customer ends outbound calls of agents in ICM, the
			// caller (or a CTI client) calls between extensions.
			return
		}
		m.startTalk(p, id)
	case *pg.CallHeldEvent:
		if p := m.byExt[ev.Holding.ID]; p != nil && p.callID == ev.Connection.CallID {
			m.sched.Cancel(p.talk)
			p.talk = 0
		}
	case *pg.CallRetrievedEvent:
		p := m.byExt[ev.Retrieving.ID]
		if p == nil || p.line {
			return
		}
		id := ev.Connection.CallID
		p.callID = id
		if p.inbound[id] {
			m.startTalk(p, id)
		}
	case *pg.CallTransferredEvent:
		id := ev.Secondary.CallID
		// A person at a line that transferred its call away (a dialer
		// port has nobody) is off the call.
		if q := m.byExt[ev.Transferring.ID]; q != nil && q.line {
			m.connectionGone(ev.Primary.CallID, ev.Transferring.ID)
		}
		p := m.byExt[ev.Transferred.ID]
		if p == nil {
			return
		}
		if p.predictive == id {
			// A predictive call moved here from a dialer's port: the
			// customer ends it, as outbound calls of agents in ICM. A
			// person at a line stops the talk its CALL_ESTABLISHED
			// started.
			p.callID = id
			if p.line {
				m.sched.Cancel(p.talk)
				p.talk = 0
			}
			return
		}
		if p.line {
			return
		}
		// The transferred-to agent now has the customer: it talks for
		// its talk time once it has answered.
		p.callID = id
		p.inbound[id] = true
		if p.answer == 0 {
			m.startTalk(p, id)
		}
	case *pg.CallConferencedEvent:
		for _, cp := range ev.Parties {
			p := m.byExt[cp.Connection.DeviceID]
			if p == nil || p.line {
				continue
			}
			id := cp.Connection.CallID
			p.callID = id
			p.inbound[id] = true
			if p.answer == 0 {
				m.startTalk(p, id)
			}
		}
	case *pg.CallDivertedEvent:
		m.connectionGone(ev.Connection.CallID, ev.Diverting.ID)
	case *pg.CallConnectionClearedEvent:
		m.connectionGone(ev.Connection.CallID, ev.Releasing.ID)
	case *pg.EndCallEvent:
		m.callGone(ev.Connection.CallID, ev.Connection.DeviceID)
	case *pg.CallClearedEvent:
		m.callGone(ev.Connection.CallID, ev.Connection.DeviceID)
	case *pg.AgentStateEvent:
		p := m.byID[ev.Agent.AgentID]
		if p == nil {
			return
		}
		if ev.State == p.lastState {
			return // a pending-state update, not a change
		}
		p.lastState = ev.State
		m.sched.Cancel(p.wrap)
		m.sched.Cancel(p.recover)
		p.wrap, p.recover = 0, 0
		switch ev.State {
		case pg.StateWorkReady, pg.StateWorkNotReady:
			next := pg.StateAvailable
			if ev.State == pg.StateWorkNotReady {
				next = pg.StateNotReady
			}
			p.wrap = m.after(p.g.WrapUp.Draw(m.rnd), func() {
				p.wrap = 0
				m.stats.WrapUps++
				m.check(m.cfg.PG.SetAgentState(pg.SetAgentStateRequest{AgentID: p.a.AgentID, State: next,
					ReasonCode: p.g.NotReadyReason}))
			})
		case pg.StateNotReady:
			if ev.ReasonCode == pg.ReasonRONA && p.g.Role == RoleInbound {
				p.recover = m.after(p.g.RONARecovery.Draw(m.rnd), func() {
					p.recover = 0
					m.stats.RONARecovered++
					m.check(m.cfg.PG.SetAgentState(pg.SetAgentStateRequest{AgentID: p.a.AgentID, State: pg.StateAvailable}))
				})
			}
		}
	}
}

// reserved: a dialer's reservation call rang the phone, which answers it
// by itself. A preview reservation is answered, after the think time, with
// the BAResponse the group's PreviewBehaviour draws.
func (m *Model) reserved(p *person, id uint32, t pg.CallType) {
	p.callID, p.reservation = id, id
	if t != pg.CallTypeReservationPreview {
		return
	}
	m.stats.Previews++
	b := p.g.Preview
	if b == nil {
		m.stats.Unanswered++
		return
	}
	resp := b.draw(m.rnd)
	if resp == "" {
		m.stats.Unanswered++
		return
	}
	m.sched.Cancel(p.respond)
	p.respond = m.after(b.Think.Draw(m.rnd), func() {
		p.respond = 0
		v := resp
		if resp == ResponseCallback {
			after := b.CallbackAfter
			if after <= 0 {
				after = time.Hour
			}
			v = resp + " " + m.sched.Now().Add(after).UTC().Format("01022006 15:04")
		}
		err := m.cfg.PG.SetCallData(id, pg.CallDataUpdate{NamedVariables: []pg.NamedVariable{{Name: "BAResponse", Value: v}}})
		if err != nil {
			m.check(err)
			return
		}
		m.stats.Responses[resp]++
	})
}

// internal reports the call types of calls between extensions: MakeCall to
// an extension and consultation calls.
func internal(t pg.CallType) bool {
	return t == pg.CallTypeAgentInside || t == pg.CallTypeConsult || t == pg.CallTypeConsultConference
}

// startTalk has the agent talk on call id for its talk time, then hang up.
func (m *Model) startTalk(p *person, id uint32) {
	m.sched.Cancel(p.talk)
	p.talk = m.after(p.g.Talk.Draw(m.rnd), func() {
		p.talk = 0
		if err := m.cfg.PG.ClearConnection(id, p.a.Extension); err == nil {
			m.stats.HungUp++
		} else {
			m.check(err)
		}
	})
}

// connectionGone: the agent at device left call id (it deflected the call,
// or its connection was cleared) while the call may go on.
func (m *Model) connectionGone(id uint32, device string) {
	if p := m.byExt[device]; p != nil && p.callID == id {
		m.callGone(id, device)
	}
}

func (m *Model) callGone(id uint32, device string) {
	p := m.byExt[device]
	if p == nil {
		// Far-end connections of predictive calls name the customer.
		for _, q := range m.people {
			if q.callID == id {
				p = q
				break
			}
		}
		if p == nil {
			return
		}
	}
	if p.callID != id {
		return
	}
	m.sched.Cancel(p.answer)
	m.sched.Cancel(p.talk)
	p.answer, p.talk, p.callID = 0, 0, 0
	if p.reservation == id {
		m.sched.Cancel(p.respond)
		p.reservation, p.respond = 0, 0
	}
	delete(p.inbound, id)
	if p.predictive == id {
		p.predictive = 0
	}
}
