package ctiserver

import (
	"fmt"

	"github.com/ipcclab/ipcclab/emulator/pg"
	"github.com/ipcclab/ipcclab/protocol/cti"
)

// Peripheral monitors (CTI_SERVICE_PERIPHERAL_MONITOR, §3.2 MONITOR_START_REQ):
// a session opens any number of monitors, each on a device (an agent's
// instrument or extension, or a line without an ICM agent) or on a call, and
// gets every event of that device or call carrying the monitor's MonitorID
// in its first field, selected by the monitor's own CallMsgMask and
// AgentStateMask (not the session's). A session that also has ALL_EVENTS
// gets its MonitorID-0 copy besides: a monitor is an explicit request for
// the events of one object. Monitors die with the session; call monitors
// die with the call (§3.2).

// monitor is one MONITOR_START_REQ monitor.
type monitor struct {
	id       uint32
	callMask cti.CallEventMask
	agtMask  cti.AgentStateMask

	// Device monitor: the device as the client named it and the names the
	// PG's events use for it (extension and instrument).
	device string
	names  [2]string
	// Call monitor: the monitored ConnectionCallID (0 for a device
	// monitor; the PG never uses 0).
	callID uint32

	// calls are the calls this monitor has delivered events of: the first
	// event of a call is preceded by its stored BEGIN_CALL (the rule
	// deskEvent applies, ipcc-behaviour.md §3.1).
	calls map[uint32]bool
}

func (m *monitor) isDevice(id string) bool {
	return id != "" && (id == m.names[0] || id == m.names[1])
}

// findMonitor returns the session's monitor with the MonitorID, dropping
// first the call monitors whose call has ended.
func (s *Server) findMonitor(ss *Session, id uint32) (*monitor, int) {
	if ss.svc == nil {
		return nil, -1
	}
	s.sweepCallMonitors(ss)
	for i, m := range ss.svc.monitors {
		if m.id == id {
			return m, i
		}
	}
	return nil, -1
}

// sweepCallMonitors ends the call monitors of calls the PG no longer has.
// (END_CALL does not tell: the connection of a transferring agent gets
// END_CALL while the call goes on, and the PG hands out a call's last
// END_CALL before it forgets the call.)
func (s *Server) sweepCallMonitors(ss *Session) {
	ms := ss.svc.monitors
	keep := ms[:0]
	for _, m := range ms {
		if m.callID != 0 {
			if _, live := s.pg.CallConnections(m.callID); !live {
				s.logf("cti session %d (%s): call monitor %d ended with call %d", ss.id, ss.clientID, m.id, m.callID)
				continue
			}
		}
		keep = append(keep, m)
	}
	clear(ms[len(keep):])
	ss.svc.monitors = keep
}

func (s *Server) monitorStart(ss *Session, m *cti.MonitorStartReq) {
	const what = "MONITOR_START_REQ"
	if ss.services&cti.ServicePeripheralMonitor == 0 {
		ss.failure(m.InvokeID, cti.StatusFunctionNotAvailable, what, "session was not granted PERIPHERAL_MONITOR")
		return
	}
	if m.AgentStateMask&^knownAgentStateMask != 0 {
		ss.failure(m.InvokeID, cti.StatusInvalidAgentStateMask, what, fmt.Sprintf("unknown agent state mask bits %#x", uint32(m.AgentStateMask&^knownAgentStateMask)))
		return
	}
	// Every CallMsgMask bit is defined (§4.2), so no mask is invalid.
	isCall := m.ConnectionCallID != 0 && m.ConnectionCallID != 0xFFFFFFFF
	isDevice := m.MonitoredDeviceID != ""
	switch {
	case isCall && isDevice:
		// Both a call and a device: the request names two monitored
		// objects of exclusive kinds.
		ss.failure(m.InvokeID, cti.StatusMutuallyExclusDeviceIDTypes, what, "both ConnectionCallID and MonitoredDeviceID given")
		return
	case !isCall && !isDevice:
		ss.failure(m.InvokeID, cti.StatusRequiredDataMissing, what, "neither ConnectionCallID nor MonitoredDeviceID given")
		return
	}
	mon := &monitor{callMask: m.CallMsgMask, agtMask: m.AgentStateMask, calls: map[uint32]bool{}}
	if isCall {
		// A call the PG does not have (or its clients cannot see yet):
		// E_CTI_INVALID_CALLID is the session-level status for exactly
		// that. MONITOR_START is not a call-control request, so FAILURE_CONF
		// rather than CONTROL_FAILURE_CONF (§5.7).
		if _, ok := s.pg.CallConnections(m.ConnectionCallID); !ok {
			ss.failure(m.InvokeID, cti.StatusInvalidCallID, what, fmt.Sprintf("no call %d", m.ConnectionCallID))
			return
		}
		mon.callID = m.ConnectionCallID
	} else {
		d := s.pg.Device(m.MonitoredDeviceID)
		if d.Kind == pg.DeviceUnknown {
			// E_CTI_INVALID_DEVICE (87): the device is not one of this
			// peripheral's agent phones or lines.
			ss.failure(m.InvokeID, cti.StatusInvalidDevice, what, fmt.Sprintf("device %q is not an agent device or line of peripheral %d", m.MonitoredDeviceID, s.pg.PeripheralID()))
			return
		}
		mon.device, mon.names = m.MonitoredDeviceID, [2]string{d.Extension, d.Instrument}
	}
	sv := ss.svcState()
	s.sweepCallMonitors(ss)
	for _, o := range sv.monitors {
		if (mon.callID != 0 && o.callID == mon.callID) || (mon.callID == 0 && o.callID == 0 && o.names == mon.names) {
			ss.failure(m.InvokeID, cti.StatusMonitorAlreadyExists, what, fmt.Sprintf("monitor %d already watches it", o.id))
			return
		}
	}
	s.nextMonitor++
	mon.id = s.nextMonitor
	sv.monitors = append(sv.monitors, mon)
	ss.send(&cti.MonitorStartConf{InvokeID: m.InvokeID, MonitorID: mon.id}, ss.pv)
	s.logf("cti session %d (%s): monitor %d on %s", ss.id, ss.clientID, mon.id, mon)
}

func (m *monitor) String() string {
	if m.callID != 0 {
		return fmt.Sprintf("call %d", m.callID)
	}
	return "device " + m.device
}

func (s *Server) monitorStop(ss *Session, m *cti.MonitorStopReq) {
	if ss.services&cti.ServicePeripheralMonitor == 0 {
		ss.failure(m.InvokeID, cti.StatusFunctionNotAvailable, "MONITOR_STOP_REQ", "session was not granted PERIPHERAL_MONITOR")
		return
	}
	mon, i := s.findMonitor(ss, m.MonitorID)
	if mon == nil {
		// E_CTI_INVALID_MONITORID (55) names exactly this: a MonitorID the
		// session does not own (never started, stopped, or a call monitor
		// whose call ended).
		ss.failure(m.InvokeID, cti.StatusInvalidMonitorID, "MONITOR_STOP_REQ", fmt.Sprintf("no monitor %d", m.MonitorID))
		return
	}
	ss.svc.monitors = append(ss.svc.monitors[:i], ss.svc.monitors[i+1:]...)
	ss.send(&cti.MonitorStopConf{InvokeID: m.InvokeID}, ss.pv)
	s.logf("cti session %d (%s): monitor %d on %s stopped", ss.id, ss.clientID, mon.id, mon)
}

func (s *Server) changeMonitorMask(ss *Session, m *cti.ChangeMonitorMaskReq) {
	const what = "CHANGE_MONITOR_MASK_REQ"
	if ss.services&cti.ServicePeripheralMonitor == 0 {
		ss.failure(m.InvokeID, cti.StatusFunctionNotAvailable, what, "session was not granted PERIPHERAL_MONITOR")
		return
	}
	mon, _ := s.findMonitor(ss, m.MonitorID)
	if mon == nil {
		ss.failure(m.InvokeID, cti.StatusInvalidMonitorID, what, fmt.Sprintf("no monitor %d", m.MonitorID))
		return
	}
	if m.AgentStateMask&^knownAgentStateMask != 0 {
		ss.failure(m.InvokeID, cti.StatusInvalidAgentStateMask, what, fmt.Sprintf("unknown agent state mask bits %#x", uint32(m.AgentStateMask&^knownAgentStateMask)))
		return
	}
	mon.callMask, mon.agtMask = m.CallMsgMask, m.AgentStateMask
	ss.send(&cti.ChangeMonitorMaskConf{InvokeID: m.InvokeID}, ss.pv)
}

// monitorEvent sends one PG event to each of the session's monitors it
// concerns. msg is the event as rendered for this session.
func (s *Server) monitorEvent(ss *Session, ev pg.Event, msg cti.Message, callBit cti.CallEventMask, agentState uint, isAgent bool) {
	if _, end := ev.(*pg.EndCallEvent); end {
		defer s.sweepCallMonitors(ss)
	}
	for _, m := range ss.svc.monitors {
		switch e := ev.(type) {
		case *pg.AgentStateEvent:
			if m.callID == 0 && (m.isDevice(e.Agent.Instrument) || m.isDevice(e.Agent.Extension)) && isAgent && m.agtMask&(1<<agentState) != 0 {
				// SessionID: the CLIENT_EVENTS session of the agent, 0 if
				// none (§3.1 AGENT_STATE_EVENT).
				ss.sendMessage(msg, m.id, s.deskSessionOf(e.Agent))
			}
			continue
		case *pg.AgentPreCallEvent:
			if m.callID == 0 && m.isDevice(e.Agent.Instrument) && m.callMask&callBit != 0 {
				ss.sendMessage(msg, m.id, 0)
			}
			continue
		case *pg.AgentPreCallAbortEvent:
			if m.callID == 0 && m.isDevice(e.Agent.Instrument) && m.callMask&callBit != 0 {
				ss.sendMessage(msg, m.id, 0)
			}
			continue
		case *pg.SystemEvent:
			continue
		}
		callID, devs, ok := callDevices(ev)
		if !ok {
			continue
		}
		if !m.calls[callID] {
			if !m.concerns(ev, callID, devs) {
				continue
			}
			m.calls[callID] = true
			if _, isBegin := ev.(*pg.BeginCallEvent); !isBegin {
				if b := s.begins[callID]; b != nil && m.callMask&cti.BeginCallMask != 0 {
					var bm cti.Message = b
					if ss.svc.vars != nil {
						bm = ss.svc.vars.filter(b)
					}
					ss.sendMessage(bm, m.id, 0)
				}
			}
		}
		if m.callMask&callBit != 0 {
			ss.sendMessage(msg, m.id, 0)
		}
		if _, end := ev.(*pg.EndCallEvent); end {
			delete(m.calls, callID)
		}
	}
}

// concerns reports whether a call event not yet delivered to the monitor is
// about its device or call.
func (m *monitor) concerns(ev pg.Event, callID uint32, devs []string) bool {
	if m.callID != 0 {
		if callID == m.callID {
			return true
		}
		// A transfer or conference that merges the monitored call into
		// another names the monitored call as its primary call.
		switch e := ev.(type) {
		case *pg.CallTransferredEvent:
			return e.Primary.CallID == m.callID
		case *pg.CallConferencedEvent:
			return e.Primary.CallID == m.callID
		}
		return false
	}
	for _, d := range devs {
		if m.isDevice(d) {
			return true
		}
	}
	return false
}

// deskSessionOf is the ID of the CLIENT_EVENTS session bound to the agent's
// device, 0 if none.
func (s *Server) deskSessionOf(a pg.AgentInfo) uint32 {
	for _, o := range s.order {
		if o.desk != nil && (o.desk.instrument == a.Instrument || o.desk.instrument == a.Extension || (a.AgentID != "" && o.desk.agentID == a.AgentID)) {
			return o.id
		}
	}
	return 0
}
