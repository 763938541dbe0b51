package ctiserver

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/ipcclab/ipcclab/emulator/pg"
	"github.com/ipcclab/ipcclab/protocol/cti"
)

// knownServices are the CTI_SERVICE_* bits of §4.1 plus 0x200 and 0x40000,
// which a real CTI OS Server sets and a real CTI Server grants (§8 #11).
const knownServices = cti.ServiceClientEvents | cti.ServiceCallDataUpdate | cti.ServiceClientControl |
	cti.ServiceConnectionMonitor | cti.ServiceAllEvents | cti.ServicePeripheralMonitor | cti.ServiceClientMonitor |
	cti.ServiceSupervisor | cti.ServiceServer | 0x200 | cti.ServiceAgentReporting | cti.ServiceAllTaskEvents |
	cti.ServiceTaskMonitor | cti.ServiceAgentStateControlOnly | cti.ServiceDeviceStateControl | cti.ServiceConfigEvents |
	cti.ServiceUpdateEvents | cti.ServiceIgnoreDuplicateAgentEvents | cti.ServiceIgnoreConf | cti.ServiceACDLineOnly |
	cti.ServiceActiveStandby | cti.ServiceDebug

// grantable are the services this emulator implements today. §5.2: the
// server may grant fewer services than requested; a client that asked for
// nothing we can give is refused with E_CTI_FUNCTION_NOT_AVAILABLE.
// CLIENT_EVENTS (agent desktops) arrives with the complete CTI Server.
const grantable = cti.ServiceAllEvents | cti.ServiceClientEvents | cti.ServiceClientControl | cti.ServiceAgentStateControlOnly |
	cti.ServiceCallDataUpdate | cti.ServiceIgnoreDuplicateAgentEvents | cti.ServiceIgnoreConf | 0x200 | cti.ServiceConfigEvents |
	cti.ServiceActiveStandby | cti.ServicePeripheralMonitor | cti.ServiceClientMonitor

// knownConfigMask covers CONFIG_SERVICE .. CONFIG_AGENT_SERVICES (§4.16).
const knownConfigMask cti.ConfigInformation = 0x3FF

// knownAgentStateMask covers AGENT_LOGIN_MASK .. AGENT_NOT_ACTIVE_MASK (§4.3).
const knownAgentStateMask cti.AgentStateMask = 0x3FFF

// isSupervisor reports whether the agent is the primary supervisor of one of
// the teams the configuration download and AGENT_TEAM_CONFIG publish.
func (s *Server) isSupervisor(agentID string) bool {
	if agentID == "" {
		return false
	}
	for _, t := range teams(s.pg.SkillGroups(), s.pg.Agents()) {
		if len(t.members) > 0 && t.members[0].AgentID == agentID {
			return true
		}
	}
	return false
}

// pgAgent is the PG's view of the desktop's agent.
type pgAgent = pg.AgentStatus

// cutNUL drops everything from the first NUL (§1.5: passwords arrive with
// and without a trailing NUL).
func cutNUL(b []byte) []byte {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return b[:i]
	}
	return b
}

// infiniteIdle are the two "no heartbeats" forms seen on the wire (§5.4,
// §8 #21): 0xFFFFFFFF and the CTI OS Server's 0x7FFFFFFF.
func infiniteIdle(v uint32) bool { return v == 0xFFFFFFFF || v == 0x7FFFFFFF }

func (ss *Session) refuse(inv uint32, st cti.Status, pv cti.ProtocolVersion, why string) {
	ss.srv.counters.SessionsRefused++
	ss.send(&cti.FailureConf{InvokeID: inv, Status: st}, pv)
	ss.srv.logf("cti session %d (%s): OPEN_REQ refused with %v: %s", ss.id, ss.remote, st, why)
}

// handleOpen validates an OPEN_REQ (§5.2) and opens the session. A refusal
// leaves the connection up so that the client can retry with corrected data,
// as the guide expects it to.
func (ss *Session) handleOpen(body []byte) {
	s := ss.srv
	inv, _ := cti.InvokeIDFromBody(body)
	if len(body) < 8 {
		s.counters.MalformedFrames++
		ss.refuse(inv, cti.StatusInvalidMessageLength, ss.versionOrDefault(), "OPEN_REQ shorter than its fixed part")
		return
	}
	// §5.1: read VersionNumber from the fixed part first; it decides the
	// width of the floating tags of the OPEN_REQ itself.
	pv := cti.ProtocolVersion(binary.BigEndian.Uint32(body[4:8]))
	if pv < s.cfg.MinVersion || pv > s.cfg.MaxVersion {
		replyPV := s.cfg.MinVersion
		if pv > s.cfg.MaxVersion {
			replyPV = s.cfg.MaxVersion
		}
		ss.refuse(inv, cti.StatusInvalidVersion, replyPV, fmt.Sprintf("version %d outside %d..%d", pv, s.cfg.MinVersion, s.cfg.MaxVersion))
		return
	}
	var req cti.OpenReq
	if err := req.UnmarshalBody(body, pv); err != nil {
		st := cti.StatusBadMessageFormat
		var ce *cti.Error
		if errors.As(err, &ce) {
			st = ce.Status
		}
		s.counters.MalformedFrames++
		ss.refuse(inv, st, pv, err.Error())
		return
	}
	switch {
	case !req.Has(cti.TagClientID) || req.ClientID == "" || !req.Has(cti.TagClientPassword):
		ss.refuse(inv, cti.StatusRequiredDataMissing, pv, "ClientID and ClientPassword are required")
		return
	case req.Reserved1 != 0 || req.Reserved2 != 0 || req.Reserved3 != 0:
		ss.refuse(inv, cti.StatusInvalidReservedField, pv, "Reserved1-3 must be zero")
		return
	case !infiniteIdle(req.IdleTimeout) && time.Duration(req.IdleTimeout)*time.Second < s.cfg.MinIdleTimeout:
		ss.refuse(inv, cti.StatusInvalidTimeout, pv, fmt.Sprintf("IdleTimeout %d s below the minimum %v", req.IdleTimeout, s.cfg.MinIdleTimeout))
		return
	case req.ServicesRequested&^knownServices != 0:
		ss.refuse(inv, cti.StatusInvalidServiceMask, pv, fmt.Sprintf("unknown service bits %#x", uint32(req.ServicesRequested&^knownServices)))
		return
	case req.ConfigMsgMask&^knownConfigMask != 0:
		ss.refuse(inv, cti.StatusInvalidConfigMsgMask, pv, fmt.Sprintf("unknown ConfigMsgMask bits %#x", uint32(req.ConfigMsgMask&^knownConfigMask)))
		return
	case req.AgentStateMask&^knownAgentStateMask != 0:
		ss.refuse(inv, cti.StatusInvalidAgentStateMask, pv, fmt.Sprintf("unknown agent state mask bits %#x", uint32(req.AgentStateMask&^knownAgentStateMask)))
		return
	case req.PeripheralID != 0xFFFFFFFF && req.PeripheralID != s.pg.PeripheralID():
		ss.refuse(inv, cti.StatusInvalidPeripheralID, pv, fmt.Sprintf("peripheral %d is not served here (%d is)", req.PeripheralID, s.pg.PeripheralID()))
		return
	}
	if st, why := s.standbyOpen(&req); st != cti.StatusNoError {
		ss.refuse(inv, st, pv, why)
		return
	}
	if len(s.cfg.Clients) > 0 {
		acc, known := s.cfg.Clients[req.ClientID]
		if !known || string(cutNUL(req.ClientPassword)) != acc.Password {
			ss.refuse(inv, cti.StatusInvalidPassword, pv, fmt.Sprintf("client %q is unknown or its password is wrong", req.ClientID))
			return
		}
	}
	granted := req.ServicesRequested & grantable
	if acc, ok := s.cfg.Clients[req.ClientID]; ok && acc.AgentStateControlOnly && granted&cti.ServiceClientControl != 0 {
		granted = granted&^cti.ServiceClientControl | cti.ServiceAgentStateControlOnly
	}
	var d *desk
	var agent pgAgent
	if granted&cti.ServiceClientEvents != 0 {
		var st cti.Status
		var why string
		d, agent, st, why = s.bindDesk(&req)
		if st == cti.StatusNoError {
			st, why = s.deskConflict(d, req.ClientID)
		}
		if st != cti.StatusNoError {
			ss.refuse(inv, st, pv, why)
			return
		}
		s.nextMonitor++
		d.monitorID = s.nextMonitor
	}
	if req.ServicesRequested&cti.ServiceSupervisor != 0 && d != nil && !s.isSupervisor(d.agentID) {
		// §5.2: SUPERVISOR on an agent's desktop session when the agent is
		// not a supervisor. A bridge (the §7 CTI OS Server asks for
		// SUPERVISOR too) is not refused. The service itself is not
		// granted yet — supervisor features arrive with a later issue, and
		// §5.2 allows granting fewer services than requested.
		ss.refuse(inv, cti.StatusFunctionNotAvailable, pv, fmt.Sprintf("SUPERVISOR requested but agent %s is not a team supervisor", d.agentID))
		return
	}
	// CLIENT_CONTROL and AGENT_STATE_CONTROL_ONLY together: the larger wins.
	if granted&cti.ServiceClientControl != 0 {
		granted &^= cti.ServiceAgentStateControlOnly
	}
	if granted&(cti.ServiceAllEvents|cti.ServiceClientEvents|cti.ServiceClientControl|cti.ServiceAgentStateControlOnly|cti.ServicePeripheralMonitor|cti.ServiceClientMonitor) == 0 {
		ss.refuse(inv, cti.StatusFunctionNotAvailable, pv, fmt.Sprintf("none of the requested services %v is offered (ALL_EVENTS, CLIENT_EVENTS, CLIENT_CONTROL, AGENT_STATE_CONTROL_ONLY, PERIPHERAL_MONITOR, CLIENT_MONITOR are)", req.ServicesRequested))
		return
	}
	ss.pv = pv
	ss.services = granted
	ss.callMask = req.CallMsgMask
	ss.agtMask = req.AgentStateMask
	ss.clientID = req.ClientID
	if !infiniteIdle(req.IdleTimeout) {
		ss.idle = time.Duration(req.IdleTimeout) * time.Second
	}
	ss.state = open
	s.order = append(s.order, ss)
	s.counters.SessionsOpened++
	now := s.sched.Now()
	online := s.pg.Online()
	conf := &cti.OpenConf{
		InvokeID:                 req.InvokeID,
		ServicesGranted:          granted,
		MonitorID:                0, // ALL_EVENTS creates no monitor (§5.2, [CAP])
		PGStatus:                 cti.PGStatus(s.pg.PGStatus()),
		ICMCentralControllerTime: cti.TimeOf(now),
		PeripheralOnline:         online,
		PeripheralType:           cti.PeripheralType(s.pg.PeripheralType()),
		AgentState:               cti.AgentStateUnknown, // meaningful for CLIENT_EVENTS only
		SessionType:              s.sessionType(),
		NumPeripherals:           1,
		// MultilineAgentControl (member 1) sent as 0, as in the real
		// PV15 OPEN_CONF of §7.
		Peripherals: []cti.PeripheralLine{{FltPeripheralID: s.pg.PeripheralID(), Present: 1 << 1}},
	}
	if d != nil {
		ss.desk = d
		conf.MonitorID = d.monitorID
		conf.AgentState = cti.AgentState(agent.State)
		if !agent.LoggedOn {
			conf.AgentState = cti.AgentStateLogout
		}
		conf.AgentExtension, conf.AgentID, conf.AgentInstrument = agent.Extension, agent.AgentID, d.instrument
		// §3.1: NumPeripherals is 0 (absent) when the OPEN_REQ named the
		// peripheral, as CLIENT_EVENTS must.
		conf.NumPeripherals, conf.Peripherals = 0, nil
	}
	ss.send(conf, pv)
	s.logf("cti session %d (%s, %s): open at PV%d, services %v, idle timeout %v", ss.id, ss.remote, ss.clientID, pv, granted, ss.idle)
	ss.armIdle()
	// §5.3: the team configuration (when AGENT_TEAM_CONFIG_MASK is set), then
	// one SYSTEM_EVENT per peripheral — the order of the real capture.
	s.afterOpen(ss)
	if granted&(cti.ServiceAllEvents|cti.ServiceClientEvents) != 0 {
		id := cti.SysPeripheralOnline
		if !online {
			id = cti.SysPeripheralOffline
		}
		ss.send(&cti.SystemEvent{
			PGStatus:                 cti.PGStatus(s.pg.PGStatus()),
			ICMCentralControllerTime: cti.TimeOf(now),
			SystemEventID:            id,
			SystemEventArg1:          s.pg.PeripheralID(),
			EventDeviceType:          cti.DevIDNone,
		}, pv)
	}
	s.sessionOpened(ss)
}
