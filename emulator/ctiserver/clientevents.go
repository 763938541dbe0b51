package ctiserver

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/ipcclab/ipcclab/emulator/pg"
	"github.com/ipcclab/ipcclab/protocol/cti"
)

// CLIENT_EVENTS sessions are agent desktops: a session is bound to one agent
// device (opened by extension, agent ID or instrument, §5.2) and receives the
// events of that agent and of the calls at its device, each carrying the
// session's MonitorID (§5.2) and, in AGENT_STATE_EVENT, its SessionID.

// desk is what a CLIENT_EVENTS session is bound to.
type desk struct {
	instrument string
	agentID    string
	monitorID  uint32
	// calls at the device that this session has seen BEGIN_CALL for.
	calls map[uint32]bool
}

// bindDesk resolves the agent identifiers of a CLIENT_EVENTS OPEN_REQ
// against the PG. It returns the refusal status when they cannot be used.
func (s *Server) bindDesk(req *cti.OpenReq) (*desk, pg.AgentStatus, cti.Status, string) {
	var st pg.AgentStatus
	if req.PeripheralID == 0xFFFFFFFF {
		return nil, st, cti.StatusRequiredDataMissing, "CLIENT_EVENTS needs the PeripheralID"
	}
	if req.AgentExtension == "" && req.AgentID == "" && req.AgentInstrument == "" {
		return nil, st, cti.StatusRequiredDataMissing, "CLIENT_EVENTS needs AgentExtension, AgentID or AgentInstrument"
	}
	dev := firstNonEmpty(req.AgentInstrument, req.AgentExtension)
	var err error
	switch {
	case req.AgentID != "":
		st, err = s.pg.QueryAgentState(pg.AgentSelector{AgentID: req.AgentID})
		if err != nil {
			return nil, st, cti.StatusInvalidAgentData, fmt.Sprintf("agent %q: %v", req.AgentID, err)
		}
		if dev != "" && dev != st.Instrument && dev != st.Extension {
			if st.LoggedOn {
				return nil, st, cti.StatusInconsistentAgentData, fmt.Sprintf("agent %s is logged in on %s, not %s", req.AgentID, st.Instrument, dev)
			}
			// A logged-out agent may log in on another device later.
		} else if dev == "" {
			dev = st.Instrument
		}
	default:
		st, err = s.pg.QueryAgentState(pg.AgentSelector{Instrument: dev})
		if err != nil {
			return nil, st, cti.StatusInvalidAgentData, fmt.Sprintf("device %q: %v", dev, err)
		}
	}
	return &desk{instrument: dev, agentID: st.AgentID, calls: map[uint32]bool{}}, st, cti.StatusNoError, ""
}

// deskConflict applies §5.2's rules for an agent device already bound: a
// session of another client is refused with E_CTI_DEVICE_IN_USE; a session of
// the same client is replaced (it gets FAILURE_EVENT E_CTI_NEW_SESSION_OPENED,
// §8 #20, and is closed).
func (s *Server) deskConflict(d *desk, clientID string) (cti.Status, string) {
	for _, o := range s.order {
		if o.desk == nil || o.desk.instrument != d.instrument {
			continue
		}
		if o.clientID != clientID {
			return cti.StatusDeviceInUse, fmt.Sprintf("device %s is bound to client %q (session %d)", d.instrument, o.clientID, o.id)
		}
		o.send(&cti.FailureEvent{Status: cti.StatusNewSessionOpened}, o.pv)
		o.teardown("replaced by a new session of the same client for device " + d.instrument)
		break
	}
	return cti.StatusNoError, ""
}

// patchMonitor writes a session's MonitorID (and, for AGENT_STATE_EVENT, its
// SessionID) into an encoded call or agent event: MonitorID is the first
// field of every such event (§3, PV5), SessionID the third of
// AGENT_STATE_EVENT.
func patchMonitor(frame []byte, mt cti.MessageType, monitorID, sessionID uint32) []byte {
	out := append([]byte(nil), frame...)
	if mt == cti.MsgSystemEvent || len(out) < cti.HeaderSize+4 {
		return out
	}
	binary.BigEndian.PutUint32(out[cti.HeaderSize:], monitorID)
	if mt == cti.MsgAgentStateEvent && len(out) >= cti.HeaderSize+12 {
		binary.BigEndian.PutUint32(out[cti.HeaderSize+8:], sessionID)
	}
	return out
}

// callDevices names the call an event belongs to and the devices it
// mentions; ok is false for events that are not about a call.
func callDevices(ev pg.Event) (callID uint32, devs []string, ok bool) {
	switch e := ev.(type) {
	case *pg.BeginCallEvent:
		return e.Connection.CallID, []string{e.Connection.DeviceID}, true
	case *pg.CallDeliveredEvent:
		return e.Connection.CallID, []string{e.Connection.DeviceID, e.Alerting.ID, e.Calling.ID, e.Called.ID}, true
	case *pg.CallEstablishedEvent:
		return e.Connection.CallID, []string{e.Connection.DeviceID, e.Answering.ID, e.Calling.ID, e.Called.ID}, true
	case *pg.CallOriginatedEvent:
		return e.Connection.CallID, []string{e.Connection.DeviceID, e.Calling.ID, e.Called.ID}, true
	case *pg.CallFailedEvent:
		return e.Connection.CallID, []string{e.Connection.DeviceID, e.Failing.ID, e.Called.ID}, true
	case *pg.CallConnectionClearedEvent:
		return e.Connection.CallID, []string{e.Connection.DeviceID, e.Releasing.ID}, true
	case *pg.CallClearedEvent:
		return e.Connection.CallID, []string{e.Connection.DeviceID}, true
	case *pg.EndCallEvent:
		return e.Connection.CallID, []string{e.Connection.DeviceID}, true
	case *pg.CallDataUpdateEvent:
		return e.Connection.CallID, []string{e.Connection.DeviceID}, true
	}
	return callControlDevices(ev)
}

// deskEvent delivers one PG event to a CLIENT_EVENTS session if it concerns
// the session's agent or device. BEGIN_CALL is always the first event a
// client gets for a call (ipcc-behaviour.md §3.1): when a call reaches the
// device after its BEGIN_CALL went by (a predictive call's BEGIN_CALL names
// the customer), the stored BEGIN_CALL is sent first.
func (s *Server) deskEvent(ss *Session, ev pg.Event, msg cti.Message, callBit cti.CallEventMask, agentState uint, isAgent bool) {
	d := ss.desk
	send := func(m cti.Message) {
		frame, err := cti.AppendMessage(nil, m, ss.pv)
		if err != nil {
			s.logf("cti: cannot encode %v for PV%d: %v", m.MessageType(), ss.pv, err)
			return
		}
		ss.sendFrame(patchMonitor(frame, m.MessageType(), d.monitorID, ss.id))
	}
	switch e := ev.(type) {
	case *pg.AgentStateEvent:
		if e.Agent.Instrument != d.instrument && (d.agentID == "" || e.Agent.AgentID != d.agentID) {
			return
		}
		if e.Agent.AgentID != "" {
			d.agentID = e.Agent.AgentID
		}
		if isAgent && ss.agtMask&(1<<agentState) != 0 {
			send(msg)
		}
		return
	case *pg.AgentPreCallEvent:
		if e.Agent.Instrument == d.instrument && ss.callMask&callBit != 0 {
			send(msg)
		}
		return
	case *pg.AgentPreCallAbortEvent:
		if e.Agent.Instrument == d.instrument && ss.callMask&callBit != 0 {
			send(msg)
		}
		return
	case *pg.SystemEvent:
		send(msg)
		return
	}
	callID, devs, ok := callDevices(ev)
	if !ok {
		return
	}
	if !d.calls[callID] {
		here := false
		for _, dv := range devs {
			if dv == d.instrument {
				here = true
				break
			}
		}
		if !here {
			return
		}
		d.calls[callID] = true
		if _, isBegin := ev.(*pg.BeginCallEvent); !isBegin {
			if b := s.begins[callID]; b != nil && ss.callMask&cti.BeginCallMask != 0 {
				send(b)
			}
		}
	}
	if ss.callMask&callBit != 0 {
		send(msg)
	}
	if _, end := ev.(*pg.EndCallEvent); end {
		delete(d.calls, callID)
	}
}

// ownDesk fills in a desktop's own agent in a request that omits it, and
// refuses (with a reason) a request about somebody else's agent: a
// CLIENT_EVENTS session controls its own agent only.
func (ss *Session) ownDesk(agentID, instrument *string) error {
	d := ss.desk
	if d == nil {
		return nil
	}
	if *instrument == "" {
		*instrument = d.instrument
	}
	if *instrument != d.instrument {
		return errors.New("a CLIENT_EVENTS session controls its own device only")
	}
	if *agentID == "" {
		*agentID = d.agentID
	}
	return nil
}
