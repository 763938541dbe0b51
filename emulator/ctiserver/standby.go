package ctiserver

import (
	"fmt"

	"github.com/ipcclab/ipcclab/emulator/pg"

	"github.com/ipcclab/ipcclab/protocol/cti"
)

// Active/standby CTI Servers (§5.10, PV24+). Both sides of a pair serve the
// same PG and accept connections; the standby accepts only clients of
// protocol version 24 or later that set CTI_SERVICE_ACTIVE_STANDBY, answers
// only OPEN, HEARTBEAT and CLOSE, sends no events and reports SessionType 2.
// When the active side fails, Promote makes the standby active: it tells its
// clients with STANDBY_ACTIVE_EVENT and from then on serves them fully.

// msgStandbyActiveEvent is STANDBY_ACTIVE_EVENT. The reference names it
// without fields (§5.10), so it goes out with an empty body.
const msgStandbyActiveEvent cti.MessageType = 277

// Standby reports whether this side is currently the standby.
func (s *Server) Standby() bool { return s.standby }

func (s *Server) sessionType() cti.SessionType {
	if s.standby {
		return cti.SessionTypeStandby
	}
	return cti.SessionTypeActive
}

// standbyOpen applies the standby side's OPEN rules; a refusal leaves the
// client free to try the other side.
func (s *Server) standbyOpen(req *cti.OpenReq) (cti.Status, string) {
	if !s.standby {
		return cti.StatusNoError, ""
	}
	if req.VersionNumber < 24 {
		// The guide's text: older clients get E_CTI_CTI_SERVER_OFFLINE
		// from the standby.
		return cti.StatusCTIServerOffline, fmt.Sprintf("standby side: protocol version %d is below 24", req.VersionNumber)
	}
	if req.ServicesRequested&cti.ServiceActiveStandby == 0 {
		return cti.StatusInvalidClientForStandby, "standby side: the client did not set CTI_SERVICE_ACTIVE_STANDBY"
	}
	return cti.StatusNoError, ""
}

// standbyRefuses answers, on the standby side, every request other than
// HEARTBEAT and CLOSE with FAILURE_CONF E_CTI_CTI_SERVER_OFFLINE; it reports
// whether it did.
func (s *Server) standbyRefuses(ss *Session, msg cti.Message) bool {
	if !s.standby {
		return false
	}
	switch msg.(type) {
	case *cti.HeartbeatReq, *cti.CloseReq, *cti.OpenReq:
		return false
	}
	inv := uint32(0)
	if r, ok := msg.(cti.InvokeIDer); ok {
		inv = r.GetInvokeID()
	}
	ss.send(&cti.FailureConf{InvokeID: inv, Status: cti.StatusCTIServerOffline}, ss.pv)
	return true
}

// Promote makes a standby side active (the active side failed) and tells its
// clients with STANDBY_ACTIVE_EVENT.
func (s *Server) Promote() {
	if !s.standby {
		return
	}
	s.standby = false
	s.logf("cti: this side is now active (%d sessions)", len(s.order))
	for _, ss := range s.order {
		ss.send(&cti.RawMessage{Type: msgStandbyActiveEvent}, ss.pv)
	}
	s.replayCalls()
}

// trackBegins keeps the BEGIN_CALL of every live call while this side is
// standby.
func (s *Server) trackBegins(ev pg.Event) {
	switch e := ev.(type) {
	case *pg.BeginCallEvent:
		if m, _, _, _ := render(ev); m != nil {
			s.begins[e.Connection.CallID] = m.(*cti.BeginCallEvent)
		}
	case *pg.EndCallEvent:
		delete(s.begins, e.Connection.CallID)
	}
}

// replayCalls lets ALL_EVENTS clients of a side that just became active
// rebuild call state (§5.10): for every live call its BEGIN_CALL, then
// CALL_DELIVERED (alerting parties) or CALL_ESTABLISHED (connected ones)
// with EventCause CEC_CALL_PARTY_UPDATE_IND.
func (s *Server) replayCalls() {
	pid, ptype := s.pg.PeripheralID(), cti.PeripheralType(s.pg.PeripheralType())
	for _, id := range s.pg.LiveCalls() {
		parties, ok := s.pg.CallConnections(id)
		if !ok {
			continue
		}
		for _, ss := range s.order {
			if ss.services&cti.ServiceAllEvents == 0 {
				continue
			}
			if b := s.begins[id]; b != nil && ss.callMask&cti.BeginCallMask != 0 {
				ss.send(b, ss.pv)
			}
			for _, p := range parties {
				typ, devID := dev(p.Device)
				switch p.State {
				case pg.LCSAlerting:
					if ss.callMask&cti.CallDeliveredMask != 0 {
						ss.send(&cti.CallDeliveredEvent{PeripheralID: pid, PeripheralType: ptype,
							ConnectionDeviceIDType: cti.ConnectionDeviceIDType(p.Connection.DeviceIDType), ConnectionCallID: p.Connection.CallID,
							ConnectionDeviceID: p.Connection.DeviceID, LineHandle: 0xFFFF, LineType: 0xFFFF,
							ServiceNumber: 0xFFFFFFFF, ServiceID: 0xFFFFFFFF, SkillGroupNumber: 0xFFFFFFFF, SkillGroupID: 0xFFFFFFFF,
							AlertingDeviceType: typ, AlertingDeviceID: devID, CallingDeviceType: cti.DevIDNone, CalledDeviceType: cti.DevIDNone,
							LastRedirectDeviceType: cti.DevIDNone, LocalConnectionState: cti.LocalConnectionState(p.State),
							EventCause: cti.CECCallPartyUpdateInd}, ss.pv)
					}
				case pg.LCSConnect, pg.LCSHold:
					if ss.callMask&cti.CallEstablishedMask != 0 {
						ss.send(&cti.CallEstablishedEvent{PeripheralID: pid, PeripheralType: ptype,
							ConnectionDeviceIDType: cti.ConnectionDeviceIDType(p.Connection.DeviceIDType), ConnectionCallID: p.Connection.CallID,
							ConnectionDeviceID: p.Connection.DeviceID, LineHandle: 0xFFFF, LineType: 0xFFFF,
							ServiceNumber: 0xFFFFFFFF, ServiceID: 0xFFFFFFFF, SkillGroupNumber: 0xFFFFFFFF, SkillGroupID: 0xFFFFFFFF,
							AnsweringDeviceType: typ, AnsweringDeviceID: devID, CallingDeviceType: cti.DevIDNone, CalledDeviceType: cti.DevIDNone,
							LastRedirectDeviceType: cti.DevIDNone, LocalConnectionState: cti.LocalConnectionState(p.State),
							EventCause: cti.CECCallPartyUpdateInd}, ss.pv)
					}
				}
			}
		}
	}
}
