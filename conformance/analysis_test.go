package conformance

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ipcclab/ipcclab/conformance/wire"
	"github.com/ipcclab/ipcclab/protocol/cti"
)

// agentEvent is one AGENT_STATE_EVENT in a recording.
type agentEvent struct {
	Idx int // position in the recording
	At  time.Time
	E   *cti.AgentStateEvent
}

// agentEvents returns, per agent ID, the AGENT_STATE_EVENTs of a recording.
func agentEvents(evs []wire.Event) map[string][]agentEvent {
	out := map[string][]agentEvent{}
	for i, ev := range evs {
		if e, ok := ev.Msg.(*cti.AgentStateEvent); ok && e.AgentID != "" {
			out[e.AgentID] = append(out[e.AgentID], agentEvent{Idx: i, At: ev.At, E: e})
		}
	}
	return out
}

// lastState is the agent's latest AGENT_STATE_EVENT, or nil.
func lastState(evs []wire.Event, agentID string) *cti.AgentStateEvent {
	for i := len(evs) - 1; i >= 0; i-- {
		if e, ok := evs[i].Msg.(*cti.AgentStateEvent); ok && e.AgentID == agentID {
			return e
		}
	}
	return nil
}

// lend is a blended agent made AVAILABLE while it was NOT_READY with the
// outbound reason code: the wire trace of step 2.
type lend struct {
	Agent string
	Idx   int // index of the AVAILABLE event
	At    time.Time
	// PriorReasonKnown: the NOT_READY before it was seen on the wire with
	// the outbound reason code; otherwise it was the agent's state when the
	// recording started (QUERY_AGENT_STATE_CONF carries no reason code).
	PriorReasonKnown bool
}

// lends finds, for each of the given agents, every AGENT_STATE_EVENT
// AVAILABLE whose previous state was NOT_READY with reason — or, for the
// first event of an agent, whose state at the start of the recording
// (initial) was NOT_READY. A NOT_READY with another reason code does not
// count.
func lends(evs []wire.Event, agents []string, reason uint16, initial map[string]cti.AgentState) []lend {
	var out []lend
	byAgent := agentEvents(evs)
	for _, id := range agents {
		prev, known := cti.AgentStateUnknown, false
		prevReason := uint16(0)
		if st, ok := initial[id]; ok && st == cti.AgentStateNotReady {
			prev, prevReason = cti.AgentStateNotReady, reason
		}
		for _, ae := range byAgent[id] {
			st := ae.E.AgentState
			if st == cti.AgentStateAvailable && prev == cti.AgentStateNotReady && prevReason == reason {
				out = append(out, lend{Agent: id, Idx: ae.Idx, At: ae.At, PriorReasonKnown: known})
			}
			if st != prev || st == cti.AgentStateNotReady {
				prev, prevReason, known = st, ae.E.EventReasonCode, true
			}
		}
	}
	slices.SortFunc(out, func(a, b lend) int { return a.Idx - b.Idx })
	return out
}

// lentAgents is the set of agents with at least one lend.
func lentAgents(ls []lend) []string {
	var out []string
	for _, l := range ls {
		if !slices.Contains(out, l.Agent) {
			out = append(out, l.Agent)
		}
	}
	slices.Sort(out)
	return out
}

// connectionCallID returns the ConnectionCallID of a call event.
func connectionCallID(m cti.Message) (uint32, bool) {
	switch e := m.(type) {
	case *cti.BeginCallEvent:
		return e.ConnectionCallID, true
	case *cti.EndCallEvent:
		return e.ConnectionCallID, true
	case *cti.CallDeliveredEvent:
		return e.ConnectionCallID, true
	case *cti.CallEstablishedEvent:
		return e.ConnectionCallID, true
	case *cti.CallClearedEvent:
		return e.ConnectionCallID, true
	case *cti.CallConnectionClearedEvent:
		return e.ConnectionCallID, true
	case *cti.CallOriginatedEvent:
		return e.ConnectionCallID, true
	case *cti.CallFailedEvent:
		return e.ConnectionCallID, true
	case *cti.CallDataUpdateEvent:
		return e.ConnectionCallID, true
	}
	return 0, false
}

type routerKey struct{ Day, CallID uint32 }

func (k routerKey) String() string { return fmt.Sprintf("%d/%d", k.Day, k.CallID) }

// callTrace follows one routed call to one agent: AGENT_PRE_CALL_EVENT (the
// router's choice), the agent going RESERVED, BEGIN_CALL and CALL_DELIVERED
// at its device, CALL_ESTABLISHED, TALKING, and the end of the call.
type callTrace struct {
	Agent      string
	Key        routerKey
	Pre        *cti.AgentPreCallEvent
	PreIdx     int
	Devices    []string // the agent's extension and instrument
	CallID     uint32
	Begin      *cti.BeginCallEvent
	BeginIdx   int
	Delivered  *cti.CallDeliveredEvent
	DelivIdx   int
	Estab      *cti.CallEstablishedEvent
	EstabIdx   int
	ClearIdx   int // CALL_CLEARED or CALL_CONNECTION_CLEARED at the agent
	EndIdx     int
	ReservedAt int // AGENT_STATE_EVENT RESERVED after the pre-call
	TalkingAt  int
	// Broken: an AVAILABLE/NOT_READY state between RESERVED and TALKING
	// (the call was taken away, e.g. RONA).
	Broken bool
	// Aborted: AGENT_PRE_CALL_ABORT_EVENT for the call's RouterCallKey.
	Aborted bool
}

func (t *callTrace) delivered() bool {
	return t.Begin != nil && t.Delivered != nil
}

func (t *callTrace) talked() bool {
	return t.delivered() && t.Estab != nil && t.TalkingAt >= 0
}

func (t *callTrace) ended() bool { return t.talked() && t.EndIdx >= 0 }

func (t *callTrace) String() string {
	return fmt.Sprintf("agent %s key %s call %d: pre@%d reserved@%d begin@%d delivered@%d established@%d talking@%d cleared@%d end@%d",
		t.Agent, t.Key, t.CallID, t.PreIdx, t.ReservedAt, t.BeginIdx, t.DelivIdx, t.EstabIdx, t.TalkingAt, t.ClearIdx, t.EndIdx)
}

// traceCalls follows every call ICM pre-announced for one of agents
// (matched by AgentID, or by instrument on sessions below PV20 where
// AGENT_PRE_CALL_EVENT has no AgentID) in a recording.
func traceCalls(evs []wire.Event, agents []string) []*callTrace {
	devices := map[string]string{} // device -> agent
	for _, ev := range evs {
		if e, ok := ev.Msg.(*cti.AgentStateEvent); ok && slices.Contains(agents, e.AgentID) {
			if e.AgentExtension != "" {
				devices[e.AgentExtension] = e.AgentID
			}
			if e.AgentInstrument != "" {
				devices[e.AgentInstrument] = e.AgentID
			}
		}
	}
	var all []*callTrace
	open := map[string]*callTrace{} // agent -> its current call
	byCall := map[uint32]*callTrace{}
	for i, ev := range evs {
		switch e := ev.Msg.(type) {
		case *cti.AgentPreCallEvent:
			id := e.AgentID
			if id == "" {
				id = devices[e.AgentInstrument]
			}
			if !slices.Contains(agents, id) {
				continue
			}
			t := &callTrace{Agent: id, Key: routerKey{e.RouterCallKeyDay, e.RouterCallKeyCallID}, Pre: e, PreIdx: i,
				BeginIdx: -1, DelivIdx: -1, EstabIdx: -1, ClearIdx: -1, EndIdx: -1, ReservedAt: -1, TalkingAt: -1}
			for d, a := range devices {
				if a == id {
					t.Devices = append(t.Devices, d)
				}
			}
			all = append(all, t)
			open[id] = t
		case *cti.AgentStateEvent:
			t := open[e.AgentID]
			if t == nil || t.EndIdx >= 0 {
				continue
			}
			switch e.AgentState {
			case cti.AgentStateReserved:
				if t.ReservedAt < 0 {
					t.ReservedAt = i
				}
			case cti.AgentStateTalking:
				if t.TalkingAt < 0 && t.Estab != nil {
					t.TalkingAt = i
				}
			case cti.AgentStateAvailable, cti.AgentStateNotReady:
				if t.TalkingAt < 0 && t.ReservedAt >= 0 {
					t.Broken = true
				}
			}
		case *cti.AgentPreCallAbortEvent:
			for _, t := range open {
				if t.Key == (routerKey{e.RouterCallKeyDay, e.RouterCallKeyCallID}) && t.Begin == nil {
					t.Aborted = true
				}
			}
		case *cti.BeginCallEvent:
			for _, t := range open {
				if t.Begin == nil && t.Key == (routerKey{e.RouterCallKeyDay, e.RouterCallKeyCallID}) && slices.Contains(t.Devices, e.ConnectionDeviceID) {
					t.Begin, t.BeginIdx, t.CallID = e, i, e.ConnectionCallID
					byCall[e.ConnectionCallID] = t
				}
			}
		default:
			id, ok := connectionCallID(ev.Msg)
			if !ok {
				continue
			}
			t := byCall[id]
			if t == nil || t.EndIdx >= 0 {
				continue
			}
			switch e := ev.Msg.(type) {
			case *cti.CallDeliveredEvent:
				if t.Delivered == nil {
					t.Delivered, t.DelivIdx = e, i
				}
			case *cti.CallEstablishedEvent:
				if t.Estab == nil {
					t.Estab, t.EstabIdx = e, i
				}
			case *cti.CallClearedEvent, *cti.CallConnectionClearedEvent:
				if t.ClearIdx < 0 {
					t.ClearIdx = i
				}
			case *cti.EndCallEvent:
				t.EndIdx = i
				delete(byCall, id)
			}
		}
	}
	return all
}

// callData is the call data a desktop pops: what ICM gave the call.
type callData struct {
	ANI, DialedNumber, CED string
	Vars                   [10]string
	Named                  string
}

func preCallData(e *cti.AgentPreCallEvent) callData {
	return callData{ANI: e.ANI, DialedNumber: e.DialedNumber, CED: e.CallerEnteredDigits,
		Vars:  [10]string{e.CallVariable1, e.CallVariable2, e.CallVariable3, e.CallVariable4, e.CallVariable5, e.CallVariable6, e.CallVariable7, e.CallVariable8, e.CallVariable9, e.CallVariable10},
		Named: namedString(e.NamedVariables)}
}

func beginCallData(e *cti.BeginCallEvent) callData {
	return callData{ANI: e.ANI, DialedNumber: e.DialedNumber, CED: e.CallerEnteredDigits,
		Vars:  [10]string{e.CallVariable1, e.CallVariable2, e.CallVariable3, e.CallVariable4, e.CallVariable5, e.CallVariable6, e.CallVariable7, e.CallVariable8, e.CallVariable9, e.CallVariable10},
		Named: namedString(e.NamedVariables)}
}

func deliveredCallData(e *cti.CallDeliveredEvent) callData {
	return callData{ANI: e.ANI, DialedNumber: e.DialedNumber, CED: e.CallerEnteredDigits,
		Vars:  [10]string{e.CallVariable1, e.CallVariable2, e.CallVariable3, e.CallVariable4, e.CallVariable5, e.CallVariable6, e.CallVariable7, e.CallVariable8, e.CallVariable9, e.CallVariable10},
		Named: namedString(e.NamedVariables)}
}

func namedString(vs []cti.NamedVar) string {
	var parts []string
	for _, v := range vs {
		parts = append(parts, v.Name+"="+v.Value)
	}
	return strings.Join(parts, ";")
}

// episodes checks the per-call event order of a recording: for every
// ConnectionCallID the events form episodes that each start with BEGIN_CALL
// and end with END_CALL (a call taken back from an agent, e.g. by RONA, may
// begin again later). It returns the number of complete episodes and the
// problems found; calls still in progress at the end of the recording are
// not problems. With inProgressAtOpen, calls whose first event precedes any
// BEGIN_CALL are taken to have started before the session opened (a remote
// centre with live traffic) and are ignored until their END_CALL.
func episodes(evs []wire.Event, inProgressAtOpen bool) (complete int, problems []string) {
	open := map[uint32]bool{}
	seen := map[uint32]bool{}
	ignore := map[uint32]bool{}
	began := map[uint32]bool{}
	for i, ev := range evs {
		id, ok := connectionCallID(ev.Msg)
		if !ok {
			continue
		}
		if _, begin := ev.Msg.(*cti.BeginCallEvent); inProgressAtOpen && !seen[id] && !begin {
			ignore[id] = true
		}
		seen[id] = true
		if ignore[id] {
			if _, end := ev.Msg.(*cti.EndCallEvent); end {
				delete(ignore, id)
				seen[id] = false
			}
			continue
		}
		switch ev.Msg.(type) {
		case *cti.BeginCallEvent:
			if open[id] {
				problems = append(problems, fmt.Sprintf("#%d: second BEGIN_CALL for call %d before its END_CALL", i, id))
			}
			open[id], began[id] = true, true
		case *cti.EndCallEvent:
			if !open[id] {
				problems = append(problems, fmt.Sprintf("#%d: END_CALL for call %d without BEGIN_CALL", i, id))
				continue
			}
			open[id] = false
			complete++
		default:
			if !open[id] {
				what := "after its END_CALL"
				if !began[id] {
					what = "before its BEGIN_CALL"
				}
				problems = append(problems, fmt.Sprintf("#%d: %s for call %d %s", i, ev.Msg.MessageType(), id, what))
			}
		}
	}
	return complete, problems
}
