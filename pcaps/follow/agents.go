package follow

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/ipcclab/ipcclab/pcaps"
	"github.com/ipcclab/ipcclab/protocol/cti"
)

// foldWithin: identical state lines this close together (the same event
// sent to several sessions, or repeated per skill group) print as one line
// naming every session.
const foldWithin = time.Second

// preCallWithin: a RESERVED state this close to the agent's
// AGENT_PRE_CALL_EVENT (either order: §5.9 a, not guaranteed) is the
// reservation for that pre-call.
const preCallWithin = 5 * time.Second

// agentState follows one agent through the merged sessions.
type agentState struct {
	a       *Agent
	devices map[string]bool

	known        bool
	state        cti.AgentState
	since        time.Time
	lastState    int // index of the last state line in a.Timeline, -1 if none
	preCall      string
	preCallAt    time.Time
	reservedLine int

	// The RESERVED clock (see doc.go, agent-stuck-reserved).
	reserved   bool
	ringing    bool
	flagged    bool
	clockFrom  time.Time
	clockFrame int
	clockSess  int
	clockHow   string
	abort      *pcaps.Message
}

// entry is one message of one session in the merged order.
type entry struct {
	ss *sessState
	m  *pcaps.Message
}

// merged returns every decoded message of every session in capture order.
func (f *follower) merged() []entry {
	var all []entry
	for _, ss := range f.sessions {
		for _, m := range ss.s.Messages {
			if m.Msg != nil {
				all = append(all, entry{ss, m})
			}
		}
	}
	sort.SliceStable(all, func(i, j int) bool {
		if !all[i].m.Time.Equal(all[j].m.Time) {
			return all[i].m.Time.Before(all[j].m.Time)
		}
		return all[i].m.Frame < all[j].m.Frame
	})
	return all
}

func (f *follower) agent(key string) *agentState {
	a := f.agents[key]
	if a == nil {
		a = &agentState{a: &Agent{ID: key, Timeline: []Line{}}, devices: map[string]bool{}, lastState: -1, reservedLine: -1}
		f.agents[key] = a
		for dev, id := range f.agentOf {
			if id == key {
				a.devices[dev] = true
			}
		}
		if dev, ok := strings.CutPrefix(key, "extension "); ok {
			a.devices[dev] = true
		}
		if dev, ok := strings.CutPrefix(key, "instrument "); ok {
			a.devices[dev] = true
		}
	}
	return a
}

// agentAt returns the agent whose extension or instrument device is.
func (f *follower) agentAt(device string) *agentState {
	if device == "" {
		return nil
	}
	if id := f.agentOf[device]; id != "" {
		return f.agents[id]
	}
	for _, k := range []string{"extension " + device, "instrument " + device} {
		if a := f.agents[k]; a != nil {
			return a
		}
	}
	return nil
}

func (a *agentState) learn(ext, inst string) {
	if ext != "" {
		a.devices[ext] = true
		addString(&a.a.Extensions, ext)
	}
	if inst != "" {
		a.devices[inst] = true
		addString(&a.a.Instrument, inst)
	}
}

// followAgents builds the agents' timelines in capture order across
// sessions, and flags agents stuck RESERVED and agents made available
// while talking.
func (f *follower) followAgents() {
	for _, e := range f.merged() {
		ss, m := e.ss, e.m
		if !m.FromClient {
			f.callAtDevice(ss, m)
		}
		switch x := m.Msg.(type) {
		case *cti.AgentStateEvent:
			if m.FromClient {
				continue
			}
			key := f.agentKey(x.AgentID, x.AgentExtension, x.AgentInstrument)
			if key == "" {
				key = ss.agent
			}
			if key == "" {
				continue
			}
			a := f.agent(key)
			a.learn(x.AgentExtension, x.AgentInstrument)
			f.setState(a, ss, m, x.AgentState, f.stateText(a, x.AgentState, x.EventReasonCode, x.SkillGroupNumber, m.Time,
				x.Has(cti.TagExtAgentState), x.NextAgentState))
		case *cti.QueryAgentStateConf:
			key := f.agentKey(x.AgentID, x.AgentExtension, x.AgentInstrument)
			if req, ok := ss.request[m]; ok && key == "" {
				if q, ok := req.Msg.(*cti.QueryAgentStateReq); ok {
					key = f.agentKey(q.AgentID, q.AgentExtension, q.AgentInstrument)
				}
			}
			if key == "" {
				key = ss.agent
			}
			if key == "" {
				continue
			}
			a := f.agent(key)
			a.learn(x.AgentExtension, x.AgentInstrument)
			f.setState(a, ss, m, x.AgentState, "QUERY_AGENT_STATE_CONF "+f.stateText(a, x.AgentState, 0, null32, m.Time, false, 0))
		case *cti.OpenConf:
			// A CLIENT_EVENTS session learns its agent's state in OPEN_CONF
			// (§5.3); an ALL_EVENTS session's is AGENT_STATE_UNKNOWN.
			if ss.agent == "" || x.AgentState == cti.AgentStateUnknown {
				continue
			}
			a := f.agent(ss.agent)
			f.setState(a, ss, m, x.AgentState, "OPEN_CONF "+f.stateText(a, x.AgentState, 0, null32, m.Time, false, 0))
		case *cti.SetAgentStateReq:
			f.setAgentStateReq(ss, m, x)
		case *cti.AgentPreCallEvent:
			key := f.agentKey(x.AgentID, "", x.AgentInstrument)
			if key == "" {
				key = ss.agent
			}
			if key == "" {
				continue
			}
			a := f.agent(key)
			a.learn("", x.AgentInstrument)
			label, full := f.preCallLabel(x.RouterCallKeyDay, x.RouterCallKeyCallID, x.RouterCallKeySequenceNumber)
			a.preCall, a.preCallAt = label, m.Time
			f.agentLine(a, ss, m, "AGENT_PRE_CALL_EVENT "+full)
			if a.reserved && a.reservedLine >= 0 && m.Time.Sub(a.clockFrom) <= preCallWithin {
				l := &a.a.Timeline[a.reservedLine]
				if !strings.Contains(l.What, "pre-call") {
					l.What += " (pre-call for " + label + ")"
				}
			}
		case *cti.AgentPreCallAbortEvent:
			key := f.agentKey("", "", x.AgentInstrument)
			if key == "" {
				key = ss.agent
			}
			if key == "" {
				continue
			}
			a := f.agent(key)
			a.learn("", x.AgentInstrument)
			_, full := f.preCallLabel(x.RouterCallKeyDay, x.RouterCallKeyCallID, x.RouterCallKeySequenceNumber)
			f.agentLine(a, ss, m, "AGENT_PRE_CALL_ABORT_EVENT "+full)
			if a.reserved {
				a.abort = m
			}
			a.preCall = ""
		}
	}
	for _, key := range sortedKeys(f.agents) {
		f.checkReserved(f.agents[key], f.c.End, f.c.Packets, "the end of the capture")
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// preCallLabel names the call a pre-call is for: the call that later got
// its RouterCallKey, or the key itself; full says when no call has it.
func (f *follower) preCallLabel(day, call, seq uint32) (short, full string) {
	if k, ok := f.routerKeys[routerCallKey{day, call, seq}]; ok {
		return f.callLabel(k), f.callLabel(k)
	}
	short = fmt.Sprintf("RouterCallKey %d/%d/%d", day, call, seq)
	return short, short + " (no call with it in the capture)"
}

// callAtDevice notes which call is at which device, and runs the RESERVED
// clock of the agent at that device: a call ringing at a reserved agent
// explains the reservation until the call is answered or cleared.
func (f *follower) callAtDevice(ss *sessState, m *pcaps.Message) {
	refs := f.r.calls(m.Msg)
	if len(refs) == 0 || !refs[0].primary || !isEvent(false, m.Type) {
		return
	}
	periph, _ := f.r.peripheral(m.Msg)
	key := CallKey{periph, refs[0].callID}
	devs := []string{refs[0].device, f.r.str(m.Msg, "AlertingDeviceID"), f.r.str(m.Msg, "AnsweringDeviceID")}
	for _, d := range devs {
		if d != "" {
			f.deviceCall[d] = key
		}
	}
	switch m.Type {
	case cti.MsgCallDeliveredEvent, cti.MsgCallEstablishedEvent:
		for _, d := range devs[:2] {
			if a := f.agentAt(d); a != nil && a.reserved && !a.ringing {
				f.checkReserved(a, m.Time, m.Frame, fmt.Sprintf("f%d %s %s", m.Frame, f.rel(m.Time), m.Type))
				a.ringing = true
			}
		}
	case cti.MsgCallConnectionClearedEvent, cti.MsgCallClearedEvent, cti.MsgEndCallEvent:
		if a := f.agentAt(refs[0].device); a != nil && a.reserved && a.ringing {
			a.ringing, a.flagged = false, false
			a.clockFrom, a.clockFrame, a.clockSess = m.Time, m.Frame, ss.s.ID
			a.clockHow = fmt.Sprintf("%s at %s cleared (%s)", f.callLabel(key), refs[0].device, m.Type)
		}
	}
}

// checkReserved flags an agent RESERVED for Options.ReservedAfter with no
// call ringing, up to until.
func (f *follower) checkReserved(a *agentState, until time.Time, frame int, what string) {
	if !a.reserved || a.ringing || a.flagged {
		return
	}
	d := until.Sub(a.clockFrom)
	if d < f.o.ReservedAfter {
		return
	}
	a.flagged = true
	if ab := a.abort; ab != nil && !ab.Time.Before(a.clockFrom) {
		// After AGENT_PRE_CALL_ABORT_EVENT the agent returns to its previous
		// state (§5.9 a): the abort is where it went wrong.
		f.flag(KindAgentStuckReserved, ab.Time, ab.Frame, a.clockSess, fmt.Sprintf(
			"agent %s still RESERVED %.3f s after AGENT_PRE_CALL_ABORT_EVENT (f%d %s), until %s; RESERVED since %s (f%d, %s), with no state change and no call ringing at its device; after an abort the agent returns to its previous state (§5.9 a)",
			a.a.ID, until.Sub(ab.Time).Seconds(), ab.Frame, f.rel(ab.Time), what, f.rel(a.clockFrom), a.clockFrame, a.clockHow))
		return
	}
	f.flag(KindAgentStuckReserved, a.clockFrom, a.clockFrame, a.clockSess, fmt.Sprintf(
		"agent %s RESERVED for %.3f s from %s (f%d, %s) with no state change and no call ringing at its device, until %s",
		a.a.ID, d.Seconds(), f.rel(a.clockFrom), a.clockFrame, a.clockHow, what))
}

// stateText prints an agent state for the timeline: "NOT_READY reason
// 32767", "TALKING call 77", "RESERVED (pre-call for call 77)".
func (f *follower) stateText(a *agentState, st cti.AgentState, reason uint16, sg uint32, t time.Time, hasNext bool, next cti.AgentState) string {
	s := strings.TrimPrefix(st.String(), "AGENT_STATE_")
	if reason != 0 {
		s += fmt.Sprintf(" reason %d", reason)
	}
	switch st {
	case cti.AgentStateTalking, cti.AgentStateHold:
		if k, ok := f.agentCall(a); ok {
			s += " " + f.callLabel(k)
		}
	case cti.AgentStateReserved:
		if a.preCall != "" && t.Sub(a.preCallAt) <= preCallWithin {
			s += " (pre-call for " + a.preCall + ")"
		}
	}
	if sg != 0 && sg != null32 {
		s += fmt.Sprintf(" skill group %d", sg)
	}
	if hasNext {
		s += " next " + strings.TrimPrefix(next.String(), "AGENT_STATE_")
	}
	return s
}

// agentCall is the call last seen at one of the agent's devices.
func (f *follower) agentCall(a *agentState) (CallKey, bool) {
	for _, d := range sortedKeys(a.devices) {
		if k, ok := f.deviceCall[d]; ok {
			return k, true
		}
	}
	return CallKey{}, false
}

func (f *follower) agentLine(a *agentState, ss *sessState, m *pcaps.Message, what string) {
	a.a.Timeline = append(a.a.Timeline, f.line(m.Time, m.Frame, source(ss.s), what))
}

// setState adds a state line (folding the same state reported again to
// several sessions) and runs the RESERVED clock.
func (f *follower) setState(a *agentState, ss *sessState, m *pcaps.Message, st cti.AgentState, what string) {
	if a.lastState >= 0 && a.lastState == len(a.a.Timeline)-1 {
		l := &a.a.Timeline[a.lastState]
		if a.known && a.state == st && stripPreCall(l.What) == stripPreCall(what) && m.Time.Sub(l.Time) <= foldWithin {
			if src := source(ss.s); !strings.Contains(" "+l.Source+" ", " "+src+" ") {
				l.Source += " " + src
			}
			return
		}
	}
	if a.reserved && st != cti.AgentStateReserved {
		f.checkReserved(a, m.Time, m.Frame, fmt.Sprintf("f%d %s %s", m.Frame, f.rel(m.Time), strings.TrimPrefix(st.String(), "AGENT_STATE_")))
		a.reserved = false
	}
	f.agentLine(a, ss, m, what)
	a.lastState = len(a.a.Timeline) - 1
	if st == cti.AgentStateReserved && !a.reserved {
		a.reserved, a.ringing, a.flagged, a.abort = true, false, false, nil
		a.clockFrom, a.clockFrame, a.clockSess, a.clockHow = m.Time, m.Frame, ss.s.ID, "reserved"
		a.reservedLine = a.lastState
	}
	if !a.known || a.state != st {
		a.since = m.Time
	}
	a.known, a.state = true, st
}

func stripPreCall(s string) string {
	if i := strings.Index(s, " (pre-call"); i >= 0 {
		return s[:i]
	}
	return s
}

// setAgentStateReq adds a SET_AGENT_STATE_REQ with its answer to the
// agent's timeline, and flags AVAILABLE asked for an agent on a call.
func (f *follower) setAgentStateReq(ss *sessState, m *pcaps.Message, x *cti.SetAgentStateReq) {
	if !m.FromClient {
		return
	}
	key := f.agentKey(x.AgentID, "", x.AgentInstrument)
	if key == "" {
		key = ss.agent
	}
	if key == "" {
		return
	}
	a := f.agent(key)
	a.learn("", x.AgentInstrument)
	what := "SET_AGENT_STATE_REQ " + strings.TrimPrefix(x.AgentState.String(), "AGENT_STATE_")
	if x.EventReasonCode != 0 {
		what += fmt.Sprintf(" reason %d", x.EventReasonCode)
	}
	what += fmt.Sprintf(" InvokeID=%d → %s", x.InvokeID, ss.answer(m))
	f.agentLine(a, ss, m, what)
	if x.AgentState == cti.AgentStateAvailable && a.known && (a.state == cti.AgentStateTalking || a.state == cti.AgentStateHold) {
		on := ""
		if k, ok := f.agentCall(a); ok {
			on = ", " + f.callLabel(k)
		}
		f.flag(KindAvailableWhileTalking, m.Time, m.Frame, ss.s.ID, fmt.Sprintf(
			"SET_AGENT_STATE_REQ AVAILABLE InvokeID=%d for agent %s while %s since %s%s, answered %s; UCCE keeps a state asked for during a call as the pending state until the call ends (§5.9 e)",
			x.InvokeID, a.a.ID, strings.TrimPrefix(a.state.String(), "AGENT_STATE_"), f.rel(a.since), on, ss.answer(m)))
	}
}

// answer prints a request's confirmation: "SET_AGENT_STATE_CONF (f51)",
// "CONTROL_FAILURE_CONF CF_… (f51)", "no confirmation".
func (ss *sessState) answer(req *pcaps.Message) string {
	c := ss.conf[req]
	if c == nil {
		return "no confirmation"
	}
	switch x := c.Msg.(type) {
	case *cti.ControlFailureConf:
		return fmt.Sprintf("CONTROL_FAILURE_CONF %s (f%d)", x.FailureCode, c.Frame)
	case *cti.FailureConf:
		return fmt.Sprintf("FAILURE_CONF %s (f%d)", x.Status, c.Frame)
	}
	return fmt.Sprintf("%s (f%d)", c.Type, c.Frame)
}
