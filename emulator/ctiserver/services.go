package ctiserver

import (
	"github.com/ipcclab/ipcclab/emulator/pg"
	"github.com/ipcclab/ipcclab/protocol/cti"
)

// The CTI services beyond agent state and call control (issue 3 item 3):
//
//   - services_monitor.go: MONITOR_START/STOP, CHANGE_MONITOR_MASK
//     (CTI_SERVICE_PERIPHERAL_MONITOR device and call monitors);
//   - services_snapshot.go: SNAPSHOT_CALL, SNAPSHOT_DEVICE,
//     QUERY_DEVICE_INFO, AGENT_DESK_SETTINGS;
//   - services_clients.go: REGISTER_VARIABLES, CLIENT_SESSION_OPENED/CLOSED
//     and SESSION_MONITOR_START/STOP (CTI_SERVICE_CLIENT_MONITOR),
//     USER_MESSAGE.
//
// Confirmations of these requests go out with Session.send, not
// Session.positive: CTI_SERVICE_IGNORE_CONF suppresses the confirmations of
// third-party (control) requests (§5.7), and these are queries or session
// services whose CONF carries the answer (a MonitorID, a snapshot) or is the
// only sign that the request took effect.

// sessionServices is one session's state for these services, set up when
// the session opens (sessionOpened).
type sessionServices struct {
	// monitors are the session's MONITOR_START monitors in start order.
	monitors []*monitor
	// vars is the REGISTER_VARIABLES_REQ registration; nil: none, the
	// session gets every call variable and ECC variable.
	vars *varRegistration
	// sessionMonitors maps the MonitorID of each SESSION_MONITOR_START to
	// the monitored session's ID.
	sessionMonitors map[uint32]uint32
	// announced: sessionOpened has run for the session.
	announced bool
}

// serverServices is the server's state for these services.
type serverServices struct {
	// caps are the device capabilities of QUERY_DEVICE_INFO_CONF, computed
	// once from what the server handles (services_snapshot.go).
	caps *deviceCaps
	// probing marks the throw-away server that computes caps.
	probing bool
}

// svcState returns the session's service state, creating it.
func (ss *Session) svcState() *sessionServices {
	if ss.svc == nil {
		ss.svc = &sessionServices{}
	}
	return ss.svc
}

// serviceRequest handles the CTI services beyond agent state and call
// control (monitors, snapshots, device information, desk settings, call
// variable registration, client monitoring, user messages); it reports
// whether msg was one of them.
func (s *Server) serviceRequest(ss *Session, msg cti.Message) bool {
	switch m := msg.(type) {
	case *cti.MonitorStartReq:
		s.monitorStart(ss, m)
	case *cti.MonitorStopReq:
		s.monitorStop(ss, m)
	case *cti.ChangeMonitorMaskReq:
		s.changeMonitorMask(ss, m)
	case *cti.SnapshotCallReq:
		s.snapshotCall(ss, m)
	case *cti.SnapshotDeviceReq:
		s.snapshotDevice(ss, m)
	case *cti.QueryDeviceInfoReq:
		s.queryDeviceInfo(ss, m)
	case *cti.AgentDeskSettingsReq:
		s.agentDeskSettings(ss, m)
	case *cti.RegisterVariablesReq:
		s.registerVariables(ss, m)
	case *cti.SessionMonitorStartReq:
		s.sessionMonitorStart(ss, m)
	case *cti.SessionMonitorStopReq:
		s.sessionMonitorStop(ss, m)
	case *cti.UserMessageReq:
		s.userMessage(ss, m)
	default:
		return false
	}
	return true
}

// failure answers a request with FAILURE_CONF (§5.7: a session-level
// refusal) and logs why.
func (ss *Session) failure(inv uint32, st cti.Status, what, why string) {
	ss.send(&cti.FailureConf{InvokeID: inv, Status: st}, ss.pv)
	ss.srv.logf("cti session %d (%s): %s refused with %v: %s", ss.id, ss.clientID, what, st, why)
}

// controlFailure answers a request with CONTROL_FAILURE_CONF and logs why.
func (ss *Session) controlFailure(inv uint32, code pg.ControlFailureCode, why string) {
	ss.controlFailed(inv, &pg.ControlFailure{Code: code, Msg: why})
}

// serviceEvent is PGEvent's hook for a session with service state: it sends
// a monitor-only session its SYSTEM_EVENTs, sends the session's monitors
// their copies of the event (each with its MonitorID), and, when the session
// registered its variables, delivers the session's own (ALL_EVENTS or
// CLIENT_EVENTS) copy of events that carry call variables — and, for a
// desktop, of every call event, which may be preceded by the call's stored
// BEGIN_CALL — with the unregistered variables left out. It reports whether
// it made that delivery, in which case PGEvent must not.
func (s *Server) serviceEvent(ss *Session, ev pg.Event, msg cti.Message, callBit cti.CallEventMask, agentState uint, isAgent bool) bool {
	sv := ss.svc
	if sv == nil || ss.state != open {
		return false
	}
	if _, sys := ev.(*pg.SystemEvent); sys {
		// A session with peripheral monitors only (neither ALL_EVENTS nor
		// a desktop) still learns that the peripheral went off or on line,
		// once, outside any monitor (MonitorID 0).
		if ss.services&cti.ServicePeripheralMonitor != 0 && ss.services&cti.ServiceAllEvents == 0 && ss.desk == nil {
			ss.sendMessage(msg, 0, 0)
		}
		return false
	}
	own := msg
	if sv.vars != nil {
		own = sv.vars.filter(msg)
	}
	if len(sv.monitors) > 0 {
		s.monitorEvent(ss, ev, own, callBit, agentState, isAgent)
	}
	if sv.vars == nil {
		return false
	}
	switch {
	case ss.services&cti.ServiceAllEvents != 0:
		if own == msg {
			return false
		}
		if ss.callMask&callBit != 0 {
			ss.sendMessage(own, 0, 0)
		}
	case ss.desk != nil:
		// deskEvent sends the call's stored BEGIN_CALL ahead of the first
		// event at the device (whichever event that is): give it the
		// filtered one for the duration.
		callID, _, isCall := callDevices(ev)
		if own == msg && !isCall {
			return false
		}
		if b := s.begins[callID]; isCall && b != nil {
			s.begins[callID] = sv.vars.filter(b).(*cti.BeginCallEvent)
			defer func() { s.begins[callID] = b }()
		}
		s.deskEvent(ss, ev, own, callBit, agentState, isAgent)
	default:
		return false
	}
	return true
}

// sendMessage encodes m for the session and sends it with monitorID (and,
// for AGENT_STATE_EVENT, sessionID) patched in.
func (ss *Session) sendMessage(m cti.Message, monitorID, sessionID uint32) {
	frame, err := cti.AppendMessage(nil, m, ss.pv)
	if err != nil {
		ss.srv.logf("cti: cannot encode %v for PV%d: %v", m.MessageType(), ss.pv, err)
		return
	}
	ss.sendFrame(patchMonitor(frame, m.MessageType(), monitorID, sessionID))
}

// sendsAt reports whether message type mt exists at the session's protocol
// version (§9: never send a client a message type newer than its version).
func (ss *Session) sendsAt(mt cti.MessageType) bool {
	since, ok := mt.Since()
	return ok && since <= ss.pv
}
