package ctiserver

import (
	"time"

	"github.com/ipcclab/ipcclab/emulator/pg"
	"github.com/ipcclab/ipcclab/protocol/cti"
)

// Call control (issue 3): each CTI request maps to one PG command; the PG
// emits the event sequences of cti-protocol.md §5.9 and ipcc-behaviour.md
// §3.3-3.4, and the positive CONF goes out before them (dispatch holds the
// PG's events until the request is answered).

func ringTimeout(alertRings uint16) time.Duration {
	// AlertRings: rings before the call counts as not answered; 6 s per ring
	// is the North American cadence (2 s on, 4 s off).
	return time.Duration(alertRings) * 6 * time.Second
}

func connConf(c pg.Connection) (uint32, cti.ConnectionDeviceIDType, string) {
	return c.CallID, cti.ConnectionDeviceIDType(c.DeviceIDType), c.DeviceID
}

func partiesToCTI(in []pg.ConnectedParty) []cti.ConnectedParty {
	out := make([]cti.ConnectedParty, len(in))
	for i, p := range in {
		out[i] = cti.ConnectedParty{ConnectedPartyCallID: p.Connection.CallID,
			ConnectedPartyDeviceIDType: cti.ConnectionDeviceIDType(p.Connection.DeviceIDType), ConnectedPartyDeviceID: p.Connection.DeviceID}
	}
	return out
}

// callControl handles the call-control requests; it reports whether msg was
// one of them.
func (s *Server) callControl(ss *Session, msg cti.Message) bool {
	inv := uint32(0)
	if r, ok := msg.(cti.InvokeIDer); ok {
		inv = r.GetInvokeID()
	}
	switch msg.(type) {
	case *cti.MakeCallReq, *cti.AnswerCallReq, *cti.ClearCallReq, *cti.ClearConnectionReq, *cti.HoldCallReq,
		*cti.RetrieveCallReq, *cti.ConsultationCallReq, *cti.TransferCallReq, *cti.ConferenceCallReq,
		*cti.AlternateCallReq, *cti.ReconnectCallReq, *cti.DeflectCallReq, *cti.SendDTMFSignalReq:
	default:
		return false
	}
	if !ss.canControlCalls() {
		ss.noControl(inv, msg.MessageType().String())
		return true
	}
	own := func(instrument *string) bool {
		var id string
		if err := ss.ownDesk(&id, instrument); err != nil {
			ss.controlFailed(inv, &pg.ControlFailure{Code: pg.CFInvalidDeviceID, Msg: err.Error()})
			return false
		}
		return true
	}
	switch m := msg.(type) {
	case *cti.MakeCallReq:
		if !own(&m.AgentInstrument) {
			return true
		}
		c, err := s.pg.MakeCall(pg.MakeCallRequest{Instrument: m.AgentInstrument, DialedNumber: m.DialedNumber,
			CallVariables:  cti.GetCallVars(m),
			NamedVariables: namedFromCTI(m.NamedVariables), RingTimeout: ringTimeout(m.AlertRings)})
		if ss.controlFailed(inv, err) {
			return true
		}
		conf := &cti.MakeCallConf{InvokeID: inv, LineHandle: 0xFFFF, LineType: 0xFFFF}
		conf.NewConnectionCallID, conf.NewConnectionDeviceIDType, conf.NewConnectionDeviceID = connConf(c)
		ss.positive(conf)
	case *cti.AnswerCallReq:
		if !own(&m.AgentInstrument) || ss.controlFailed(inv, s.pg.AnswerCall(firstNonEmpty(m.AgentInstrument, m.ConnectionDeviceID), m.ConnectionCallID)) {
			return true
		}
		ss.positive(&cti.AnswerCallConf{InvokeID: inv})
	case *cti.ClearCallReq:
		if ss.controlFailed(inv, s.pg.ClearCall(m.ConnectionCallID)) {
			return true
		}
		ss.positive(&cti.ClearCallConf{InvokeID: inv})
	case *cti.ClearConnectionReq:
		if ss.controlFailed(inv, s.pg.ClearConnection(m.ConnectionCallID, firstNonEmpty(m.ConnectionDeviceID, m.AgentInstrument))) {
			return true
		}
		ss.positive(&cti.ClearConnectionConf{InvokeID: inv})
	case *cti.HoldCallReq:
		if !own(&m.AgentInstrument) || ss.controlFailed(inv, s.pg.HoldCall(firstNonEmpty(m.AgentInstrument, m.ConnectionDeviceID), m.ConnectionCallID)) {
			return true
		}
		ss.positive(&cti.HoldCallConf{InvokeID: inv})
	case *cti.RetrieveCallReq:
		if !own(&m.AgentInstrument) || ss.controlFailed(inv, s.pg.RetrieveCall(firstNonEmpty(m.AgentInstrument, m.HeldConnectionDeviceID), m.HeldConnectionCallID)) {
			return true
		}
		ss.positive(&cti.RetrieveCallConf{InvokeID: inv})
	case *cti.ConsultationCallReq:
		if !own(&m.AgentInstrument) {
			return true
		}
		c, err := s.pg.ConsultationCall(pg.ConsultationRequest{Instrument: firstNonEmpty(m.AgentInstrument, m.ActiveConnectionDeviceID),
			ActiveCallID: m.ActiveConnectionCallID, DialedNumber: m.DialedNumber, ConsultType: pg.ConsultType(m.ConsultType), RingTimeout: ringTimeout(m.AlertRings)})
		if ss.controlFailed(inv, err) {
			return true
		}
		conf := &cti.ConsultationCallConf{InvokeID: inv, LineHandle: 0xFFFF, LineType: 0xFFFF}
		conf.NewConnectionCallID, conf.NewConnectionDeviceIDType, conf.NewConnectionDeviceID = connConf(c)
		ss.positive(conf)
	case *cti.TransferCallReq:
		if !own(&m.AgentInstrument) {
			return true
		}
		held := m.HeldConnectionCallID
		if m.DialedNumber != "" && m.HeldConnectionDeviceID == "" {
			held = pg.NoCallID // single-step (blind) transfer of the active call
		}
		r, err := s.pg.TransferCall(pg.TransferRequest{Instrument: firstNonEmpty(m.AgentInstrument, m.ActiveConnectionDeviceID),
			HeldCallID: held, ActiveCallID: m.ActiveConnectionCallID, DialedNumber: m.DialedNumber, RingTimeout: ringTimeout(m.AlertRings)})
		if ss.controlFailed(inv, err) {
			return true
		}
		conf := &cti.TransferCallConf{InvokeID: inv, LineHandle: 0xFFFF, LineType: 0xFFFF, ConnectedParties: partiesToCTI(r.Parties)}
		conf.NewConnectionCallID, conf.NewConnectionDeviceIDType, conf.NewConnectionDeviceID = connConf(r.Connection)
		ss.positive(conf)
	case *cti.ConferenceCallReq:
		if !own(&m.AgentInstrument) {
			return true
		}
		r, err := s.pg.ConferenceCall(pg.ConferenceRequest{Instrument: firstNonEmpty(m.AgentInstrument, m.ActiveConnectionDeviceID),
			HeldCallID: m.HeldConnectionCallID, ActiveCallID: m.ActiveConnectionCallID})
		if ss.controlFailed(inv, err) {
			return true
		}
		conf := &cti.ConferenceCallConf{InvokeID: inv, LineHandle: 0xFFFF, LineType: 0xFFFF, ConnectedParties: partiesToCTI(r.Parties)}
		conf.NewConnectionCallID, conf.NewConnectionDeviceIDType, conf.NewConnectionDeviceID = connConf(r.Connection)
		ss.positive(conf)
	case *cti.AlternateCallReq:
		if !own(&m.AgentInstrument) || ss.controlFailed(inv, s.pg.AlternateCall(firstNonEmpty(m.AgentInstrument, m.ActiveConnectionDeviceID), m.ActiveConnectionCallID, m.OtherConnectionCallID)) {
			return true
		}
		ss.positive(&cti.AlternateCallConf{InvokeID: inv})
	case *cti.ReconnectCallReq:
		if !own(&m.AgentInstrument) || ss.controlFailed(inv, s.pg.ReconnectCall(firstNonEmpty(m.AgentInstrument, m.ActiveConnectionDeviceID), m.ActiveConnectionCallID, m.HeldConnectionCallID)) {
			return true
		}
		ss.positive(&cti.ReconnectCallConf{InvokeID: inv})
	case *cti.DeflectCallReq:
		if !own(&m.AgentInstrument) || ss.controlFailed(inv, s.pg.DeflectCall(m.ConnectionCallID, firstNonEmpty(m.ConnectionDeviceID, m.AgentInstrument), m.CalledDeviceID)) {
			return true
		}
		ss.positive(&cti.DeflectCallConf{InvokeID: inv})
	case *cti.SendDTMFSignalReq:
		if !own(&m.AgentInstrument) || ss.controlFailed(inv, s.pg.SendDTMF(m.ConnectionCallID, firstNonEmpty(m.ConnectionDeviceID, m.AgentInstrument), m.DTMFString)) {
			return true
		}
		ss.positive(&cti.SendDTMFSignalConf{InvokeID: inv})
	}
	return true
}

// renderCallControl maps the call-control events of the PG.
func renderCallControl(ev pg.Event) (cti.Message, cti.CallEventMask) {
	switch e := ev.(type) {
	case *pg.CallHeldEvent:
		m := &cti.CallHeldEvent{PeripheralID: e.PeripheralID, PeripheralType: cti.PeripheralType(e.PeripheralType),
			ConnectionDeviceIDType: cti.ConnectionDeviceIDType(e.Connection.DeviceIDType), ConnectionCallID: e.Connection.CallID,
			LocalConnectionState: cti.LocalConnectionState(e.State), EventCause: cti.EventCause(e.Cause), ConnectionDeviceID: e.Connection.DeviceID}
		m.HoldingDeviceType, m.HoldingDeviceID = dev(e.Holding)
		return m, cti.CallHeldMask
	case *pg.CallRetrievedEvent:
		m := &cti.CallRetrievedEvent{PeripheralID: e.PeripheralID, PeripheralType: cti.PeripheralType(e.PeripheralType),
			ConnectionDeviceIDType: cti.ConnectionDeviceIDType(e.Connection.DeviceIDType), ConnectionCallID: e.Connection.CallID,
			LocalConnectionState: cti.LocalConnectionState(e.State), EventCause: cti.EventCause(e.Cause), ConnectionDeviceID: e.Connection.DeviceID}
		m.RetrievingDeviceType, m.RetrievingDeviceID = dev(e.Retrieving)
		return m, cti.CallRetrievedMask
	case *pg.CallConferencedEvent:
		m := &cti.CallConferencedEvent{PeripheralID: e.PeripheralID, PeripheralType: cti.PeripheralType(e.PeripheralType),
			PrimaryDeviceIDType: cti.ConnectionDeviceIDType(e.Primary.DeviceIDType), PrimaryCallID: e.Primary.CallID, PrimaryDeviceID: e.Primary.DeviceID,
			SecondaryDeviceIDType: cti.ConnectionDeviceIDType(e.Secondary.DeviceIDType), SecondaryCallID: e.Secondary.CallID, SecondaryDeviceID: e.Secondary.DeviceID,
			LineHandle: 0xFFFF, LineType: 0xFFFF, SkillGroupNumber: e.SkillGroup.Number, SkillGroupID: e.SkillGroup.ID, SkillGroupPriority: e.SkillGroup.Priority,
			LocalConnectionState: cti.LocalConnectionState(e.State), EventCause: cti.EventCause(e.Cause), ConnectedParties: partiesToCTI(e.Parties)}
		m.ControllerDeviceType, m.ControllerDeviceID = dev(e.Controller)
		m.AddedPartyDeviceType, m.AddedPartyDeviceID = dev(e.AddedParty)
		return m, cti.CallConferencedMask
	case *pg.CallTransferredEvent:
		m := &cti.CallTransferredEvent{PeripheralID: e.PeripheralID, PeripheralType: cti.PeripheralType(e.PeripheralType),
			PrimaryDeviceIDType: cti.ConnectionDeviceIDType(e.Primary.DeviceIDType), PrimaryCallID: e.Primary.CallID, PrimaryDeviceID: e.Primary.DeviceID,
			SecondaryDeviceIDType: cti.ConnectionDeviceIDType(e.Secondary.DeviceIDType), SecondaryCallID: e.Secondary.CallID, SecondaryDeviceID: e.Secondary.DeviceID,
			LineHandle: 0xFFFF, LineType: 0xFFFF, SkillGroupNumber: e.SkillGroup.Number, SkillGroupID: e.SkillGroup.ID, SkillGroupPriority: e.SkillGroup.Priority,
			LocalConnectionState: cti.LocalConnectionState(e.State), EventCause: cti.EventCause(e.Cause), ConnectedParties: partiesToCTI(e.Parties)}
		m.TransferringDeviceType, m.TransferringDeviceID = dev(e.Transferring)
		m.TransferredDeviceType, m.TransferredDeviceID = dev(e.Transferred)
		return m, cti.CallTransferredMask
	case *pg.CallDivertedEvent:
		m := &cti.CallDivertedEvent{PeripheralID: e.PeripheralID, PeripheralType: cti.PeripheralType(e.PeripheralType),
			ConnectionDeviceIDType: cti.ConnectionDeviceIDType(e.Connection.DeviceIDType), ConnectionCallID: e.Connection.CallID,
			ServiceNumber: e.ServiceNumber, ServiceID: e.ServiceID, LocalConnectionState: cti.LocalConnectionState(e.State),
			EventCause: cti.EventCause(e.Cause), ConnectionDeviceID: e.Connection.DeviceID}
		m.DivertingDeviceType, m.DivertingDeviceID = dev(e.Diverting)
		m.CalledDeviceType, m.CalledDeviceID = dev(e.Called)
		return m, cti.CallDivertedMask
	case *pg.CallServiceInitiatedEvent:
		m := &cti.CallServiceInitiatedEvent{PeripheralID: e.PeripheralID, PeripheralType: cti.PeripheralType(e.PeripheralType),
			ConnectionDeviceIDType: cti.ConnectionDeviceIDType(e.Connection.DeviceIDType), ConnectionCallID: e.Connection.CallID,
			LineHandle: 0xFFFF, LineType: 0xFFFF, ServiceNumber: e.ServiceNumber, ServiceID: e.ServiceID,
			SkillGroupNumber: e.SkillGroup.Number, SkillGroupID: e.SkillGroup.ID, SkillGroupPriority: e.SkillGroup.Priority,
			LocalConnectionState: cti.LocalConnectionState(e.State), EventCause: cti.EventCause(e.Cause), ConnectionDeviceID: e.Connection.DeviceID}
		m.CallingDeviceType, m.CallingDeviceID = dev(e.Calling)
		return m, cti.CallServiceInitiatedMask
	}
	return nil, 0
}

// callControlDevices names the call and devices of the call-control events
// for desktop sessions.
func callControlDevices(ev pg.Event) (uint32, []string, bool) {
	switch e := ev.(type) {
	case *pg.CallHeldEvent:
		return e.Connection.CallID, []string{e.Connection.DeviceID, e.Holding.ID}, true
	case *pg.CallRetrievedEvent:
		return e.Connection.CallID, []string{e.Connection.DeviceID, e.Retrieving.ID}, true
	case *pg.CallConferencedEvent:
		return e.Secondary.CallID, append(partyDevices(e.Parties), e.Primary.DeviceID, e.Secondary.DeviceID, e.Controller.ID, e.AddedParty.ID), true
	case *pg.CallTransferredEvent:
		return e.Secondary.CallID, append(partyDevices(e.Parties), e.Primary.DeviceID, e.Secondary.DeviceID, e.Transferring.ID, e.Transferred.ID), true
	case *pg.CallDivertedEvent:
		return e.Connection.CallID, []string{e.Connection.DeviceID, e.Diverting.ID, e.Called.ID}, true
	case *pg.CallServiceInitiatedEvent:
		return e.Connection.CallID, []string{e.Connection.DeviceID, e.Calling.ID}, true
	}
	return 0, nil, false
}

func partyDevices(ps []pg.ConnectedParty) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		out = append(out, p.Connection.DeviceID)
	}
	return out
}
