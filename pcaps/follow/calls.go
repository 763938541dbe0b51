package follow

import (
	"fmt"
	"time"

	"github.com/ipcclab/ipcclab/pcaps"
	"github.com/ipcclab/ipcclab/protocol/cti"
)

// callState is one call as one session has seen it so far, for the order
// checks. A BEGIN_CALL_EVENT after the call ended starts it afresh: the PG
// reuses the call ID when it requeues a call after ring-no-answer.
type callState struct {
	first       time.Time
	began       bool
	early       *pcaps.Message // the first event before the call's BEGIN_CALL
	earlyN      int
	ended       map[string]*pcaps.Message // device → END_CALL_EVENT
	cleared     *pcaps.Message
	established map[string]*pcaps.Message
	live        map[string]bool // devices with a connection not yet cleared
}

func newCallState(t time.Time) *callState {
	return &callState{first: t, ended: map[string]*pcaps.Message{}, established: map[string]*pcaps.Message{},
		live: map[string]bool{}}
}

// active: the call has a connection that neither END_CALL nor
// CALL_CLEARED has ended.
func (cs *callState) active() bool { return cs.cleared == nil && len(cs.live) > 0 }

// endedAt returns the END_CALL_EVENT that ended the call at device (an
// event naming no device matches any END_CALL, and an END_CALL naming no
// device matches any event).
func (cs *callState) endedAt(device string) *pcaps.Message {
	if device == "" {
		var first *pcaps.Message
		for _, m := range cs.ended {
			if first == nil || m.Seq < first.Seq {
				first = m
			}
		}
		return first
	}
	if m := cs.ended[device]; m != nil {
		return m
	}
	return cs.ended[""]
}

// afterClear are the events that may follow CALL_CLEARED_EVENT: the end of
// the call's context, wrap-up data, and the media stopping (§5.9 a).
var afterClear = map[cti.MessageType]bool{
	cti.MsgEndCallEvent: true, cti.MsgCallDataUpdateEvent: true, cti.MsgCallConnectionClearedEvent: true,
	cti.MsgRTPStoppedEvent: true, cti.MsgBeginCallEvent: true,
}

// callMessage adds a message to the ladders of the calls it names and, for
// events, checks the call's event order in this session.
func (f *follower) callMessage(ss *sessState, m *pcaps.Message) {
	msg := m.Msg
	refs := f.r.calls(msg)
	periph, ok := f.r.peripheral(msg)
	req := ss.request[m]
	if !ok && req != nil {
		periph, ok = f.r.peripheral(req.Msg)
	}
	if !ok && ss.open != nil {
		periph = ss.open.PeripheralID
	}
	if len(refs) == 0 && req != nil {
		// A confirmation joins the calls of its request.
		for _, r := range f.r.calls(req.Msg) {
			r.primary = false
			refs = append(refs, r)
		}
	}
	if len(refs) == 0 {
		var k routerCallKey
		switch x := msg.(type) {
		case *cti.AgentPreCallEvent:
			k = routerCallKey{x.RouterCallKeyDay, x.RouterCallKeyCallID, x.RouterCallKeySequenceNumber}
		case *cti.AgentPreCallAbortEvent:
			k = routerCallKey{x.RouterCallKeyDay, x.RouterCallKeyCallID, x.RouterCallKeySequenceNumber}
		default:
			return
		}
		key, ok := f.routerKeys[k]
		if !ok {
			return
		}
		f.addToCall(f.call(key), ss.s, m, f.r.describe(msg))
		return
	}
	what := f.r.describe(msg)
	for _, r := range refs {
		key := CallKey{periph, r.callID}
		f.addToCall(f.call(key), ss.s, m, what)
		if r.primary && isEvent(m.FromClient, m.Type) {
			f.order(ss, key, r.device, m)
		}
	}
}

// order checks one call event against what the session saw of the call
// before (ipcc-behaviour.md §3.1, cti-protocol.md §5.9 a).
func (f *follower) order(ss *sessState, key CallKey, device string, m *pcaps.Message) {
	cs := ss.calls[key]
	if cs == nil {
		cs = newCallState(m.Time)
		ss.calls[key] = cs
		ss.callOrder = append(ss.callOrder, key)
	}
	sid, label := ss.s.ID, f.callLabel(key)
	at := ""
	if device != "" {
		at = " at " + device
	}
	if m.Type == cti.MsgBeginCallEvent {
		switch {
		case cs.cleared != nil || len(cs.ended) > 0:
			*cs = *newCallState(m.Time)
		case !cs.began && cs.early != nil:
			more := ""
			if cs.earlyN > 1 {
				more = fmt.Sprintf(" (and %d more events)", cs.earlyN-1)
			}
			f.flag(KindOutOfOrder, cs.early.Time, cs.early.Frame, sid, fmt.Sprintf(
				"%s for %s came before the call's BEGIN_CALL_EVENT (f%d %s)%s: BEGIN_CALL is always the first event of a call (ipcc-behaviour.md §3.1)",
				cs.early.Type, label, m.Frame, f.rel(m.Time), more))
		}
		cs.began = true
		cs.live[device] = true
		return
	}
	if m.Type == cti.MsgRTPStoppedEvent {
		// The media stopping is reported by the phone and may trail the
		// call's end; it says nothing about the call's state.
		return
	}
	if e := cs.endedAt(device); e != nil {
		f.flag(KindEventAfterEndCall, m.Time, m.Frame, sid, fmt.Sprintf(
			"%s for %s%s after its END_CALL_EVENT (f%d %s): END_CALL is the last event of a call (ipcc-behaviour.md §3.1)",
			m.Type, label, at, e.Frame, f.rel(e.Time)))
		return
	}
	if cs.cleared != nil && !afterClear[m.Type] {
		f.flag(KindOutOfOrder, m.Time, m.Frame, sid, fmt.Sprintf(
			"%s for %s%s after its CALL_CLEARED_EVENT (f%d %s): once a call is cleared only END_CALL and wrap-up data follow (§5.9 a)",
			m.Type, label, at, cs.cleared.Frame, f.rel(cs.cleared.Time)))
	}
	if !cs.began {
		if cs.early == nil {
			cs.early = m
		}
		cs.earlyN++
	}
	switch m.Type {
	case cti.MsgCallDeliveredEvent:
		if e := cs.established[device]; e != nil {
			f.flag(KindOutOfOrder, m.Time, m.Frame, sid, fmt.Sprintf(
				"CALL_DELIVERED_EVENT for %s%s after CALL_ESTABLISHED_EVENT (f%d %s) at the same device: a call rings before it is answered (§5.9 a)",
				label, at, e.Frame, f.rel(e.Time)))
		}
		cs.live[device] = true
	case cti.MsgCallEstablishedEvent:
		cs.established[device] = m
		cs.live[device] = true
	case cti.MsgCallClearedEvent:
		cs.cleared = m
		clear(cs.live)
	case cti.MsgEndCallEvent:
		cs.ended[device] = m
		delete(cs.live, device)
	case cti.MsgCallConnectionClearedEvent:
		delete(cs.live, device)
	default:
		if cs.cleared == nil {
			cs.live[device] = true
		}
	}
}
