package ctiserver

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/ipcclab/ipcclab/protocol/cti"
)

// ---------------------------------------------------------------------------
// REGISTER_VARIABLES_REQ (§3.2): the client names the call variables
// (CallVariableMask, bit 0 = CallVariable1) and ECC variables / arrays it
// uses. "Without registration the client receives all call and ECC
// variables"; with one, the call events that carry call context
// (BEGIN_CALL, CALL_DELIVERED, CALL_DATA_UPDATE, AGENT_PRE_CALL) and
// SNAPSHOT_CALL_CONF carry only the registered ones. A new registration
// replaces the previous one. The PG has no ECC configuration, so any name is
// accepted (no E_CTI_NAMED_VARIABLE_NOT_CONFIGURED).

// varRegistration is a session's registered variables.
type varRegistration struct {
	callVars cti.CallVariableMask
	named    map[string]bool
	arrays   map[string]bool
}

// allCallVars is CallVariable1..10 (§4.16 CallVariableMask).
const allCallVars cti.CallVariableMask = 0x3FF

func (s *Server) registerVariables(ss *Session, m *cti.RegisterVariablesReq) {
	if m.CallVariableMask&^allCallVars != 0 {
		ss.failure(m.InvokeID, cti.StatusInvalidCallVariableMask, "REGISTER_VARIABLES_REQ", fmt.Sprintf("CallVariableMask %#x has bits beyond CallVariable10", uint16(m.CallVariableMask)))
		return
	}
	r := &varRegistration{callVars: m.CallVariableMask, named: map[string]bool{}, arrays: map[string]bool{}}
	for _, v := range m.NamedVariables {
		r.named[v.Name] = true
	}
	for _, a := range m.NamedArrays {
		r.arrays[a.Name] = true
	}
	ss.svcState().vars = r
	ss.send(&cti.RegisterVariablesConf{InvokeID: m.InvokeID}, ss.pv)
	s.logf("cti session %d (%s): registered call variables %#x, %d named variables, %d named arrays", ss.id, ss.clientID, uint16(r.callVars), len(r.named), len(r.arrays))
}

// filter returns msg with the unregistered variables left out, or msg itself
// when it carries no variables.
func (r *varRegistration) filter(msg cti.Message) cti.Message {
	switch m := msg.(type) {
	case *cti.BeginCallEvent:
		c := *m
		r.vars(&c)
		c.NamedVariables, c.NamedArrays = r.namedVars(m.NamedVariables), r.namedArrays(m.NamedArrays)
		c.NumNamedVariables, c.NumNamedArrays = 0, 0
		return &c
	case *cti.CallDeliveredEvent:
		c := *m
		r.vars(&c)
		c.NamedVariables, c.NamedArrays = r.namedVars(m.NamedVariables), r.namedArrays(m.NamedArrays)
		c.NumNamedVariables, c.NumNamedArrays = 0, 0
		return &c
	case *cti.CallDataUpdateEvent:
		c := *m
		r.vars(&c)
		c.NamedVariables, c.NamedArrays = r.namedVars(m.NamedVariables), r.namedArrays(m.NamedArrays)
		c.NumNamedVariables, c.NumNamedArrays = 0, 0
		return &c
	case *cti.AgentPreCallEvent:
		c := *m
		r.vars(&c)
		c.NamedVariables, c.NamedArrays = r.namedVars(m.NamedVariables), r.namedArrays(m.NamedArrays)
		c.NumNamedVariables, c.NumNamedArrays = 0, 0
		return &c
	case *cti.SnapshotCallConf:
		c := *m
		r.vars(&c)
		c.NamedVariables, c.NamedArrays = r.namedVars(m.NamedVariables), r.namedArrays(m.NamedArrays)
		c.NumNamedVariables, c.NumNamedArrays = 0, 0
		return &c
	}
	return msg
}

// vars blanks the unregistered call variables. (They are optional floating
// fields: an empty one is left out of the message.)
func (r *varRegistration) vars(m cti.CallVariables) {
	for i, p := range m.CallVars() {
		if r.callVars&(1<<i) == 0 {
			*p = ""
		}
	}
}

func (r *varRegistration) namedVars(in []cti.NamedVar) []cti.NamedVar {
	var out []cti.NamedVar
	for _, v := range in {
		if r.named[v.Name] {
			out = append(out, v)
		}
	}
	return out
}

func (r *varRegistration) namedArrays(in []cti.NamedArray) []cti.NamedArray {
	var out []cti.NamedArray
	for _, v := range in {
		if r.arrays[v.Name] {
			out = append(out, v)
		}
	}
	return out
}

// ---------------------------------------------------------------------------
// CTI_SERVICE_CLIENT_MONITOR (§4.1, §5.5): such a session gets
// CLIENT_SESSION_OPENED_EVENT / CLIENT_SESSION_CLOSED_EVENT for every other
// session that opens or closes. When it opens it also gets an OPENED event
// for each session already open, so that it knows the current sessions and
// their SessionIDs (which SESSION_MONITOR_START_REQ needs); the guide does
// not say whether a real server does this (L).

// sessionOpened is called once a session has opened (after its OPEN_CONF).
func (s *Server) sessionOpened(ss *Session) {
	sv := ss.svcState()
	if sv.announced || ss.state != open {
		return
	}
	sv.announced = true
	for _, o := range s.order {
		if o == ss || o.state != open {
			continue
		}
		if o.services&cti.ServiceClientMonitor != 0 {
			s.sendOpened(o, ss)
		}
		if ss.services&cti.ServiceClientMonitor != 0 {
			s.sendOpened(ss, o)
		}
	}
}

func (s *Server) sendOpened(to, about *Session) {
	if !to.sendsAt(cti.MsgClientSessionOpenedEvent) {
		return
	}
	e := &cti.ClientSessionOpenedEvent{
		SessionID:       about.id,
		PeripheralID:    s.pg.PeripheralID(),
		ServicesGranted: about.services,
		CallMsgMask:     about.callMask,
		AgentStateMask:  about.agtMask,
		ClientID:        about.clientID,
	}
	e.ClientAddress, e.ClientPort = splitRemote(about.remote)
	e.AgentExtension, e.AgentID, e.AgentInstrument = s.deskAgent(about)
	to.send(e, to.pv)
}

// deskAgent names the agent of a CLIENT_EVENTS session.
func (s *Server) deskAgent(ss *Session) (ext, id, inst string) {
	if ss.desk == nil {
		return "", "", ""
	}
	id, inst = ss.desk.agentID, ss.desk.instrument
	if d := s.pg.Device(inst); d.Extension != "" {
		ext = d.Extension
	}
	return ext, id, inst
}

// splitRemote splits an adapter's "host:port" (or "[v6]:port") remote name;
// names without a port give port 0.
func splitRemote(remote string) (string, uint32) {
	i := strings.LastIndexByte(remote, ':')
	if i < 0 || strings.Count(remote, ":") > 1 && !strings.HasPrefix(remote, "[") {
		return remote, 0
	}
	port, err := strconv.ParseUint(remote[i+1:], 10, 16)
	if err != nil {
		return remote, 0
	}
	return strings.TrimSuffix(strings.TrimPrefix(remote[:i], "["), "]"), uint32(port)
}

// closeStatus maps teardown's reason to the CLIENT_SESSION_CLOSED_EVENT
// Status (§4.14). The reasons are the texts server.go, dispatch.go and
// clientevents.go pass to teardown.
func closeStatus(why string) cti.Status {
	switch {
	case strings.HasPrefix(why, "CLOSE_REQ"):
		return cti.StatusNoError
	case strings.HasPrefix(why, "peer closed"):
		return cti.StatusClientDisconnected
	case strings.HasPrefix(why, "no message within IdleTimeout"):
		return cti.StatusTimeout
	case strings.HasPrefix(why, "replaced by a new session"):
		return cti.StatusNewSessionOpened
	case strings.HasPrefix(why, "CTI Server shutting down"):
		return cti.StatusCTIServerOffline
	case strings.HasPrefix(why, "unframeable input"):
		return cti.StatusInvalidMessageLength
	}
	return cti.StatusUnspecifiedFailure
}

// sessionClosed is teardown's hook: the session's monitors end with it (its
// service state is dropped), sessions monitoring it lose their session
// monitors, and CLIENT_MONITOR sessions get CLIENT_SESSION_CLOSED_EVENT for
// a session that had opened.
func (s *Server) sessionClosed(ss *Session, wasOpen bool, why string) {
	ss.svc = nil
	if !wasOpen {
		return
	}
	st := closeStatus(why)
	for _, o := range s.order {
		if o == ss || o.state != open {
			continue
		}
		if o.svc != nil {
			for mid, target := range o.svc.sessionMonitors {
				if target == ss.id {
					delete(o.svc.sessionMonitors, mid)
				}
			}
		}
		if o.services&cti.ServiceClientMonitor == 0 || !o.sendsAt(cti.MsgClientSessionClosedEvent) {
			continue
		}
		e := &cti.ClientSessionClosedEvent{SessionID: ss.id, PeripheralID: s.pg.PeripheralID(), Status: st, ClientID: ss.clientID}
		e.ClientAddress, e.ClientPort = splitRemote(ss.remote)
		e.AgentExtension, e.AgentID, e.AgentInstrument = s.deskAgent(ss)
		o.send(e, o.pv)
	}
}

// SESSION_MONITOR_START_REQ / STOP_REQ (§3.2): a CLIENT_MONITOR session
// names another session (by the SessionID of its CLIENT_SESSION_OPENED_EVENT)
// and gets a MonitorID; the monitor ends with STOP or when either session
// closes. The layouts say nothing more, and the guide text we have does not
// say which of the monitored session's messages would be copied to the
// monitoring one, so the emulator keeps the monitor as bookkeeping (the
// CLIENT_SESSION_CLOSED_EVENT of the monitored session reaches the client
// through CLIENT_MONITOR anyway) and copies nothing.

func (s *Server) sessionMonitorStart(ss *Session, m *cti.SessionMonitorStartReq) {
	const what = "SESSION_MONITOR_START_REQ"
	if ss.services&cti.ServiceClientMonitor == 0 {
		ss.failure(m.InvokeID, cti.StatusFunctionNotAvailable, what, "session was not granted CLIENT_MONITOR")
		return
	}
	if m.SessionID == ss.id {
		ss.failure(m.InvokeID, cti.StatusSessionMonitorIsClients, what, "a session cannot monitor itself")
		return
	}
	target, ok := s.sessions[m.SessionID]
	if !ok || target.state != open {
		// No open session with that ID: E_CTI_CLIENT_NOT_FOUND (63) is
		// the status for an addressed client that is not there.
		ss.failure(m.InvokeID, cti.StatusClientNotFound, what, fmt.Sprintf("no open session %d", m.SessionID))
		return
	}
	sv := ss.svcState()
	if sv.sessionMonitors == nil {
		sv.sessionMonitors = map[uint32]uint32{}
	}
	for mid, t := range sv.sessionMonitors {
		if t == m.SessionID {
			ss.failure(m.InvokeID, cti.StatusSessionMonitorAlreadyExists, what, fmt.Sprintf("session %d is already monitored (monitor %d)", t, mid))
			return
		}
	}
	s.nextMonitor++
	sv.sessionMonitors[s.nextMonitor] = m.SessionID
	ss.send(&cti.SessionMonitorStartConf{InvokeID: m.InvokeID, MonitorID: s.nextMonitor}, ss.pv)
}

func (s *Server) sessionMonitorStop(ss *Session, m *cti.SessionMonitorStopReq) {
	const what = "SESSION_MONITOR_STOP_REQ"
	if ss.services&cti.ServiceClientMonitor == 0 {
		ss.failure(m.InvokeID, cti.StatusFunctionNotAvailable, what, "session was not granted CLIENT_MONITOR")
		return
	}
	if ss.svc == nil {
		ss.failure(m.InvokeID, cti.StatusInvalidMonitorID, what, fmt.Sprintf("no session monitor %d", m.MonitorID))
		return
	}
	if _, ok := ss.svc.sessionMonitors[m.MonitorID]; !ok {
		ss.failure(m.InvokeID, cti.StatusInvalidMonitorID, what, fmt.Sprintf("no session monitor %d", m.MonitorID))
		return
	}
	delete(ss.svc.sessionMonitors, m.MonitorID)
	ss.send(&cti.SessionMonitorStopConf{InvokeID: m.InvokeID}, ss.pv)
}

// ---------------------------------------------------------------------------
// USER_MESSAGE_REQ (§3.2, Distribution §4.16): a text for other clients,
// delivered as USER_MESSAGE_EVENT (with the sender's ClientID) to
//   - DISTRIBUTE_TO_CLIENT: the sessions of the ClientID and/or the desktop
//     (CLIENT_EVENTS session) of the agent named by AgentExtension, AgentID
//     or AgentInstrument;
//   - DISTRIBUTE_TO_ALL: every other open session.
//   - DISTRIBUTE_TO_TEAM: the desktops of the members of the agent's teams;
//   - DISTRIBUTE_TO_SUPERVISOR: the desktops of its teams' primary
//     supervisors.
// The agent is the one the request names, else the sender's desktop agent;
// teams are those of AGENT_TEAM_CONFIG_EVENT (teams(), config_data.go). An
// agent in no team gets E_CTI_TEAM_NOT_FOUND; no supervisor desktop to
// reach, E_CTI_SUPERVISOR_NOT_FOUND. The sender does not get its own
// message.

func (s *Server) userMessage(ss *Session, m *cti.UserMessageReq) {
	const what = "USER_MESSAGE_REQ"
	var to []*Session
	switch m.Distribution {
	case cti.DistributeToClient:
		if m.ClientID == "" && m.AgentExtension == "" && m.AgentID == "" && m.AgentInstrument == "" {
			ss.failure(m.InvokeID, cti.StatusRequiredDataMissing, what, "DISTRIBUTE_TO_CLIENT without ClientID or agent")
			return
		}
		for _, o := range s.order {
			if o != ss && o.state == open && s.addressed(o, m) {
				to = append(to, o)
			}
		}
		if len(to) == 0 {
			ss.failure(m.InvokeID, cti.StatusClientNotFound, what, fmt.Sprintf("no session of client %q / agent %q%q%q", m.ClientID, m.AgentID, m.AgentExtension, m.AgentInstrument))
			return
		}
	case cti.DistributeToAll:
		for _, o := range s.order {
			if o != ss && o.state == open {
				to = append(to, o)
			}
		}
	case cti.DistributeToSupervisor, cti.DistributeToTeam:
		var st cti.Status
		var why string
		to, st, why = s.teamRecipients(ss, m)
		if st != cti.StatusNoError {
			ss.failure(m.InvokeID, st, what, why)
			return
		}
	default:
		ss.failure(m.InvokeID, cti.StatusInvalidDistributionType, what, fmt.Sprintf("Distribution %d", m.Distribution))
		return
	}
	ss.send(&cti.UserMessageConf{InvokeID: m.InvokeID}, ss.pv)
	ev := &cti.UserMessageEvent{ICMCentralControllerTime: cti.TimeOf(s.sched.Now()), Distribution: m.Distribution, ClientID: ss.clientID, Text: m.Text}
	for _, o := range to {
		if o.sendsAt(cti.MsgUserMessageEvent) {
			o.send(ev, o.pv)
		}
	}
}

// addressed reports whether a DISTRIBUTE_TO_CLIENT message names session o.
func (s *Server) addressed(o *Session, m *cti.UserMessageReq) bool {
	if m.ClientID != "" && o.clientID == m.ClientID {
		return true
	}
	if o.desk == nil {
		return false
	}
	ext, id, inst := s.deskAgent(o)
	return (m.AgentID != "" && m.AgentID == id) ||
		(m.AgentExtension != "" && m.AgentExtension == ext) ||
		(m.AgentInstrument != "" && m.AgentInstrument == inst)
}

// teamRecipients finds the sessions a DISTRIBUTE_TO_TEAM or
// DISTRIBUTE_TO_SUPERVISOR message goes to.
func (s *Server) teamRecipients(ss *Session, m *cti.UserMessageReq) ([]*Session, cti.Status, string) {
	agentID := m.AgentID
	if dev := firstNonEmpty(m.AgentInstrument, m.AgentExtension); agentID == "" && dev != "" {
		agentID = s.pg.Device(dev).AgentID
	}
	if agentID == "" && ss.desk != nil {
		agentID = ss.desk.agentID
	}
	var members, supervisors map[string]bool
	for _, t := range teams(s.pg.SkillGroups(), s.pg.Agents()) {
		for _, a := range t.members {
			if a.AgentID != agentID || agentID == "" {
				continue
			}
			if members == nil {
				members, supervisors = map[string]bool{}, map[string]bool{}
			}
			for _, o := range t.members {
				members[o.AgentID] = true
			}
			if sup := t.members[0].AgentID; sup != agentID {
				supervisors[sup] = true
			}
			break
		}
	}
	if members == nil {
		return nil, cti.StatusTeamNotFound, fmt.Sprintf("agent %q is in no team", agentID)
	}
	want := members
	if m.Distribution == cti.DistributeToSupervisor {
		want = supervisors
	}
	var to []*Session
	for _, o := range s.order {
		if o != ss && o.state == open && o.desk != nil && want[o.desk.agentID] {
			to = append(to, o)
		}
	}
	if m.Distribution == cti.DistributeToSupervisor && len(to) == 0 {
		return nil, cti.StatusSupervisorNotFound, fmt.Sprintf("no desktop of a supervisor of agent %s", agentID)
	}
	return to, cti.StatusNoError, ""
}
