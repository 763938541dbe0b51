package ctiserver

import (
	"fmt"
	"time"

	"github.com/ipcclab/ipcclab/emulator/pg"
	"github.com/ipcclab/ipcclab/protocol/cti"
)

// SNAPSHOT_CALL, SNAPSHOT_DEVICE, QUERY_DEVICE_INFO, AGENT_DESK_SETTINGS.
//
// Unknown call or device: SNAPSHOT_CALL/SNAPSHOT_DEVICE and QUERY_DEVICE_INFO
// are CSTA services — they have bits in CallControlSupported (§4.16) — so a
// well-formed request about a call or device the switch does not know is
// refused the CSTA way, with CONTROL_FAILURE_CONF (§5.7):
// CF_INVALID_CSTA_CALL_IDENTIFIER (11) for a call,
// CF_INVALID_CSTA_DEVICE_IDENTIFIER (12) for a device. AGENT_DESK_SETTINGS
// for an unknown agent gets the PG's CF_INVALID_AGENT_ID_SPECIFIED (256), as
// QUERY_AGENT_STATE does. None of them needs CLIENT_CONTROL: they change
// nothing.

// maxListed is the most calls / call devices a snapshot lists (§3.2: NumCalls
// and NumCallDevices ≤ 16, MAX_NUM_PARTIES).
const maxListed = 16

func (s *Server) snapshotCall(ss *Session, m *cti.SnapshotCallReq) {
	ci, live := s.pg.Call(m.ConnectionCallID)
	parties, visible := s.pg.CallConnections(m.ConnectionCallID)
	if !live || !visible {
		ss.controlFailure(m.InvokeID, pg.ControlFailureCode(cti.CFInvalidCSTACallIdentifier), fmt.Sprintf("SNAPSHOT_CALL_REQ: no call %d", m.ConnectionCallID))
		return
	}
	// The ConnectionDeviceID is not checked against the call's parties: a
	// client may name the call by a connection that has since left it (the
	// transferring agent's), and ConnectionCallID alone identifies the call
	// here (the PG never reuses a call ID).
	d := ci.Data
	conf := &cti.SnapshotCallConf{
		InvokeID:            m.InvokeID,
		CallType:            cti.CallType(d.CallType),
		ANI:                 d.ANI,
		DNIS:                d.DNIS,
		DialedNumber:        d.DialedNumber,
		CallerEnteredDigits: d.CallerEnteredDigits,
		CallWrapupData:      d.CallWrapupData,
		NamedVariables:      namedToCTI(d.NamedVariables),
	}
	if !d.RouterCallKey.IsZero() {
		conf.RouterCallKeyDay, conf.RouterCallKeyCallID = d.RouterCallKey.Day, d.RouterCallKey.CallID
		conf.SetPresent(cti.TagRouterCallKeyDay)
		conf.SetPresent(cti.TagRouterCallKeyCallID)
	}
	cti.SetCallVars(conf, d.CallVariables)
	for _, p := range parties {
		if len(conf.CallDevices) == maxListed {
			break
		}
		dt, id := dev(p.Device)
		cd := cti.CallDevice{
			CallConnectionCallID:       p.Connection.CallID,
			CallConnectionDeviceIDType: cti.ConnectionDeviceIDType(p.Connection.DeviceIDType),
			CallConnectionDeviceID:     p.Connection.DeviceID,
			CallDeviceType:             dt,
			CallDeviceID:               id,
			CallDeviceConnectionState:  cti.LocalConnectionState(p.State),
		}
		conf.CallDevices = append(conf.CallDevices, cd)
	}
	var out cti.Message = conf
	if ss.svc != nil && ss.svc.vars != nil {
		out = ss.svc.vars.filter(conf)
	}
	ss.send(out, ss.pv)
}

func (s *Server) snapshotDevice(ss *Session, m *cti.SnapshotDeviceReq) {
	if s.pg.Device(m.AgentInstrument).Kind == pg.DeviceUnknown {
		ss.controlFailure(m.InvokeID, pg.ControlFailureCode(cti.CFInvalidCSTADeviceIdentifier), fmt.Sprintf("SNAPSHOT_DEVICE_REQ: no device %q", m.AgentInstrument))
		return
	}
	conf := &cti.SnapshotDeviceConf{InvokeID: m.InvokeID}
	for _, p := range s.pg.DeviceCalls(m.AgentInstrument) {
		if len(conf.Calls) == maxListed {
			break
		}
		conf.Calls = append(conf.Calls, cti.DeviceCall{
			CallConnectionCallID:       p.Connection.CallID,
			CallConnectionDeviceIDType: cti.ConnectionDeviceIDType(p.Connection.DeviceIDType),
			CallConnectionDeviceID:     p.Connection.DeviceID,
			CallState:                  cti.LocalConnectionState(p.State),
		})
	}
	ss.send(conf, ss.pv)
}

// deviceCaps are the capability fields of QUERY_DEVICE_INFO_CONF.
type deviceCaps struct {
	events  cti.CallEventMask
	control cti.CallControlMask
}

// controlProbes pairs each CallControlSupported bit (§4.16) with the
// request it stands for. The pairing is the protocol's; whether the server
// serves the request is found out by asking it (deviceCaps).
var controlProbes = []struct {
	bit cti.CallControlMask
	req cti.Message
}{
	{cti.ControlQueryAgentState, &cti.QueryAgentStateReq{AgentID: probeName}},
	{cti.ControlSetAgentState, &cti.SetAgentStateReq{AgentID: probeName, AgentInstrument: probeName, AgentState: cti.AgentStateNotReady}},
	{cti.ControlAlternateCall, &cti.AlternateCallReq{AgentInstrument: probeName}},
	{cti.ControlAnswerCall, &cti.AnswerCallReq{AgentInstrument: probeName}},
	{cti.ControlClearCall, &cti.ClearCallReq{ConnectionDeviceID: probeName}},
	{cti.ControlClearConnection, &cti.ClearConnectionReq{ConnectionDeviceID: probeName}},
	{cti.ControlConferenceCall, &cti.ConferenceCallReq{AgentInstrument: probeName}},
	{cti.ControlConsultationCall, &cti.ConsultationCallReq{AgentInstrument: probeName}},
	{cti.ControlDeflectCall, &cti.DeflectCallReq{AgentInstrument: probeName}},
	{cti.ControlHoldCall, &cti.HoldCallReq{AgentInstrument: probeName}},
	{cti.ControlMakeCall, &cti.MakeCallReq{AgentInstrument: probeName}},
	{cti.ControlMakePredictiveCall, &cti.MakePredictiveCallReq{OriginatingDeviceID: probeName}},
	{cti.ControlReconnectCall, &cti.ReconnectCallReq{AgentInstrument: probeName}},
	{cti.ControlRetrieveCall, &cti.RetrieveCallReq{AgentInstrument: probeName}},
	{cti.ControlTransferCall, &cti.TransferCallReq{AgentInstrument: probeName, HeldConnectionCallID: 1}},
	{cti.ControlQueryDeviceInfo, &cti.QueryDeviceInfoReq{AgentInstrument: probeName}},
	{cti.ControlSnapshotCall, &cti.SnapshotCallReq{ConnectionDeviceID: probeName}},
	{cti.ControlSnapshotDevice, &cti.SnapshotDeviceReq{AgentInstrument: probeName}},
	{cti.ControlSendDTMFSignal, &cti.SendDTMFSignalReq{AgentInstrument: probeName}},
}

// probeName is the agent and device of the probe requests: no PG has it, so
// every probe is refused by the PG and changes nothing. Call IDs stay 0 (or
// 1), which the PG never gives out (its first call is 16777217).
const probeName = "\x7fipcclab-capability-probe"

// eventProbes has one PG event of each kind; rendering them tells which
// CallMsgMask bits the server can ever send (CallEventsSupported).
var eventProbes = []pg.Event{
	&pg.AgentStateEvent{}, &pg.AgentPreCallEvent{}, &pg.AgentPreCallAbortEvent{},
	&pg.BeginCallEvent{}, &pg.CallDeliveredEvent{}, &pg.CallEstablishedEvent{}, &pg.CallOriginatedEvent{},
	&pg.CallFailedEvent{}, &pg.CallConnectionClearedEvent{}, &pg.CallClearedEvent{}, &pg.EndCallEvent{},
	&pg.CallDataUpdateEvent{}, &pg.SystemEvent{}, &pg.CallServiceInitiatedEvent{}, &pg.CallHeldEvent{},
	&pg.CallRetrievedEvent{}, &pg.CallConferencedEvent{}, &pg.CallTransferredEvent{}, &pg.CallDivertedEvent{},
}

// capabilities computes (once) what QUERY_DEVICE_INFO_CONF reports from what
// the server does: CallEventsSupported is every call-event bit render
// produces; CallControlSupported has the bit of every request that a
// throw-away server sharing this PG answers with anything but FAILURE_CONF
// E_CTI_FUNCTION_NOT_AVAILABLE (the "not served" answer of dispatch). The
// probes name a device and agent the PG does not have, so the PG refuses
// each of them and nothing changes.
func (s *Server) capabilities() deviceCaps {
	if s.svc.caps != nil {
		return *s.svc.caps
	}
	var c deviceCaps
	for _, ev := range eventProbes {
		if msg, bit, _, isAgent := render(ev); msg != nil && !isAgent && bit != allCallEvents {
			c.events |= bit
		}
	}
	for _, p := range controlProbes {
		if s.probeServed(p.req) {
			c.control |= p.bit
		}
	}
	s.svc.caps = &c
	return c
}

// probeConn records the answer to a probe request.
type probeConn struct{ frames [][]byte }

func (c *probeConn) Send(frame []byte) { c.frames = append(c.frames, append([]byte(nil), frame...)) }
func (c *probeConn) Close()            {}

func (s *Server) probeServed(req cti.Message) bool {
	// The same configuration without Clients and Logf: the probe session
	// needs no authorisation and its refusals are not worth a log line.
	p, err := New(Config{MinVersion: s.cfg.MinVersion, MaxVersion: s.cfg.MaxVersion, MinIdleTimeout: s.cfg.MinIdleTimeout}, s.sched, s.pg, s.stats)
	if err != nil {
		return false
	}
	p.svc.probing = true
	conn := &probeConn{}
	ss := &Session{srv: p, id: 1, conn: conn, remote: "probe", state: open, pv: s.cfg.MaxVersion, clientID: "probe",
		services: cti.ServiceAllEvents | cti.ServiceClientControl | cti.ServiceCallDataUpdate | cti.ServicePeripheralMonitor}
	p.sessions[ss.id], p.order = ss, []*Session{ss}
	p.dispatch(ss, req)
	if len(conn.frames) == 0 {
		return false
	}
	ans, err := cti.DecodeMessage(conn.frames[0], ss.pv)
	if err != nil {
		return false
	}
	fc, isFailure := ans.(*cti.FailureConf)
	return !isFailure || fc.Status != cti.StatusFunctionNotAvailable
}

// Device facts of QUERY_DEVICE_INFO_CONF for an agent's phone (or a line).
const (
	// makeCallSetup: pg.MakeCall accepts a MAKE_CALL only from an agent in
	// NOT_READY (UCCE rule, §5.9(b)).
	makeCallSetup = cti.AgentNotReadyMask
	// transferConferenceSetup: pg.TransferCall and pg.ConferenceCall join
	// the agent's held call with its active call, whichever way the active
	// call was made (consultation or not), and single-step transfer works
	// on any single call; single-step conference does not (CF 15).
	transferConferenceSetup = cti.ConfSetupConsultSpecific | cti.ConfSetupConsultAny | cti.ConfSetupAnyTwoCalls | cti.TransSetupAnySingleCall
	// otherFeatures: every consultation call gets a call ID of its own.
	otherFeatures = cti.FeatureUniqueConsultCallID
)

func (s *Server) queryDeviceInfo(ss *Session, m *cti.QueryDeviceInfoReq) {
	d := s.pg.Device(m.AgentInstrument)
	if d.Kind == pg.DeviceUnknown {
		ss.controlFailure(m.InvokeID, pg.ControlFailureCode(cti.CFInvalidCSTADeviceIdentifier), fmt.Sprintf("QUERY_DEVICE_INFO_REQ: no device %q", m.AgentInstrument))
		return
	}
	var caps deviceCaps
	if !s.svc.probing {
		caps = s.capabilities()
	}
	// One line per phone: an agent's phone carries ACD calls in and out;
	// a line without an ICM agent only gets predictive (outbound ACD)
	// calls. LineHandle 0 is the first line.
	line := cti.DeviceLine{LineHandle: 0, LineType: cti.LineTypeInboundACD}
	if d.Kind == pg.DeviceLinePhone {
		line.LineType = cti.LineTypeOutboundACD
	}
	ss.send(&cti.QueryDeviceInfoConf{
		InvokeID:                m.InvokeID,
		PeripheralType:          cti.PeripheralType(s.pg.PeripheralType()),
		TypeOfDevice:            cti.DeviceTypeStation,
		ClassOfDevice:           cti.DeviceClassVoice,
		Lines:                   []cti.DeviceLine{line},
		MaxActiveCalls:          1, // an agent has one active (or alerting) call …
		MaxHeldCalls:            1, // … and one held call (pg: agent.call, agent.held)
		MaxDevicesInConference:  pg.MaxParties,
		MakeCallSetup:           makeCallSetup,
		TransferConferenceSetup: transferConferenceSetup,
		CallEventsSupported:     caps.events,
		CallControlSupported:    caps.control,
		OtherFeaturesSupported:  otherFeatures,
	}, ss.pv)
}

// agentDeskSettings answers AGENT_DESK_SETTINGS_REQ from the agent's desk
// settings in the PG, with the field meanings of the real PV15 sample (§7):
// what the PG does not model is "not configured" where the sample says so
// (0xFFFFFFFF) and 0 elsewhere.
func (s *Server) agentDeskSettings(ss *Session, m *cti.AgentDeskSettingsReq) {
	agentID := m.AgentID
	if agentID == "" && ss.desk != nil {
		agentID = ss.desk.agentID
	}
	ds, err := s.pg.AgentDeskSettings(agentID)
	if ss.controlFailed(m.InvokeID, err) {
		return
	}
	ss.send(deskSettingsConf(m.InvokeID, s.pg.PeripheralID(), ds), ss.pv)
}

// Wrap-up modes (§4.16 "WrapupData modes"; UCCE's "work mode on
// incoming/outgoing"): whether the agent enters a work state after a call.
const (
	wrapupRequired   = 0
	wrapupNotAllowed = 2
	notConfigured    = 0xFFFFFFFF
)

func deskSettingsConf(inv, periph uint32, ds pg.DeskSettings) *cti.AgentDeskSettingsConf {
	c := &cti.AgentDeskSettingsConf{
		InvokeID:     inv,
		PeripheralID: periph,
		// The emulated CallManager lets every agent call another agent and
		// dial outside numbers (pg.MakeCall, ConsultationCall).
		DeskSettingsMask:       cti.DeskAgentToAgentCallsAllowedMask | cti.DeskOutboundAccessPublicNetMask | cti.DeskOutboundAccessPrivateNetMask,
		WrapupDataIncomingMode: wrapupNotAllowed,
		WrapupDataOutgoingMode: wrapupNotAllowed,
		LogoutNonActivityTime:  notConfigured,
		QualityRecordingRate:   notConfigured,
		RingNoAnswerTime:       notConfigured,
		// WorkModeTimer 0: the PG never ends wrap-up by itself; the agent
		// (or its desktop) does.
		WorkModeTimer: 0,
	}
	if !ds.NotReadyAfterIncoming {
		c.DeskSettingsMask |= cti.DeskAvailAfterIncomingMask
	}
	if ds.IdleReasonRequired {
		c.DeskSettingsMask |= cti.DeskIdleReasonRequiredMask
	}
	if ds.LogoutReasonRequired {
		c.DeskSettingsMask |= cti.DeskLogoutReasonRequiredMask
	}
	if ds.WrapUpIncoming {
		c.WrapupDataIncomingMode = wrapupRequired
	}
	if ds.WrapUpOutgoing {
		c.WrapupDataOutgoingMode = wrapupRequired
	}
	if ds.RingNoAnswer > 0 {
		c.RingNoAnswerTime = uint32((ds.RingNoAnswer + time.Second - 1) / time.Second)
	}
	// The real server sends DefaultDevicePortAddress empty (§7).
	c.SetPresent(cti.TagDefaultDevicePortAddress)
	return c
}
