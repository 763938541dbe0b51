package main

import (
	"time"

	"github.com/ipcclab/ipcclab/protocol/cti"
)

// Builders for the constructed sessions' messages. Field values follow what
// the emulator's CTI Server sends for the same events (emulator/ctiserver
// render.go, seen in the step fixtures), so that a constructed capture
// differs from a recorded one only in the issue it shows.

const (
	peripheralID = 5000
	salesGroup   = 100  // SkillGroupNumber
	salesGroupID = 5100 // SkillGroupID
	salesDialed  = "8005550100"
	reasonOut    = 101 // the controller's NOT_READY reason code, "working outbound"
	ivrPort      = "IVR0001"
	routerDay    = 20458 // RouterCallKeyDay of 2026-01-05
)

// agentInfo is an ICM agent on the CallManager peripheral.
type agentInfo struct {
	id  string
	ext string
	icm int32
}

var (
	agent1001 = agentInfo{"1001", "2001", 101001}
	agent1002 = agentInfo{"1002", "2002", 101002}
	agent1201 = agentInfo{"1201", "2201", 101201}
)

// inboundCall is a call routed by ICM from the IVR to an agent.
type inboundCall struct {
	id      uint32 // ConnectionCallID
	ani     string
	account string // digits collected by the IVR
	key     uint32 // RouterCallKeyCallID
}

// controllerCallMask is the reference controller's OPEN_REQ CallMsgMask.
const controllerCallMask = cti.BeginCallMask | cti.EndCallMask | cti.CallDeliveredMask | cti.CallEstablishedMask |
	cti.CallClearedMask | cti.CallConnectionClearedMask | cti.CallOriginatedMask | cti.CallFailedMask |
	cti.CallDataUpdateMask | cti.AgentPreCallMask | cti.AgentPreCallAbortMask | cti.CallTransferredMask

func openReq(inv, pv, idle uint32, clientID string) *cti.OpenReq {
	m := &cti.OpenReq{InvokeID: inv, VersionNumber: pv, IdleTimeout: idle, PeripheralID: peripheralID,
		ServicesRequested: cti.ServiceAllEvents | cti.ServiceClientControl, CallMsgMask: controllerCallMask,
		AgentStateMask: 0x3FF, ClientID: clientID, ClientPassword: []byte{}}
	m.SetPresent(cti.TagClientPassword)
	return m
}

func openConf(inv uint32, ts time.Time) *cti.OpenConf {
	return &cti.OpenConf{InvokeID: inv, ServicesGranted: cti.ServiceAllEvents | cti.ServiceClientControl,
		ICMCentralControllerTime: cti.TimeOf(ts), PeripheralOnline: true, PeripheralType: cti.PTEnterpriseAgent,
		AgentState: cti.AgentStateUnknown, SessionType: cti.SessionTypeActive, NumPeripherals: 1,
		Peripherals: []cti.PeripheralLine{{FltPeripheralID: peripheralID}}}
}

func systemEvent(ts time.Time, id cti.SystemEventID, st cti.PGStatus) *cti.SystemEvent {
	return &cti.SystemEvent{PGStatus: st, ICMCentralControllerTime: cti.TimeOf(ts), SystemEventID: id,
		SystemEventArg1: peripheralID, EventDeviceType: cti.DevIDNone}
}

// agentState is an AGENT_STATE_EVENT for a, as the emulator renders it.
func agentState(a agentInfo, st cti.AgentState, reason uint16, dir cti.Direction) *cti.AgentStateEvent {
	m := &cti.AgentStateEvent{PeripheralID: peripheralID, PeripheralType: cti.PTEnterpriseAgent, SkillGroupState: st,
		SkillGroupNumber: cti.NullSkillGroup, SkillGroupID: cti.NullSkillGroup, AgentState: st, EventReasonCode: reason,
		MRDID: 1, AgentMode: cti.AgentModeRoutable, MaxTaskLimit: 1, ICMAgentID: a.icm,
		AgentAvailabilityStatus: cti.AvailabilityNotAvailable, NumFltSkillGroups: 1,
		AgentID: a.id, AgentExtension: a.ext, AgentInstrument: a.ext, Direction: dir,
		FltSkillGroups: []cti.FltSkillGroup{{FltSkillGroupNumber: salesGroup, FltSkillGroupID: salesGroupID, FltSkillGroupState: st}}}
	switch st {
	case cti.AgentStateTalking, cti.AgentStateReserved, cti.AgentStateHold:
		m.NumTasks = 1
		if dir == cti.DirectionIn || dir == cti.DirectionNone {
			m.SkillGroupNumber, m.SkillGroupID = salesGroup, salesGroupID
		}
	case cti.AgentStateAvailable:
		m.AgentAvailabilityStatus = cti.AvailabilityICMAvailable
	}
	return m
}

// pending is AGENT_STATE_EVENT for an agent on a call with a requested
// state kept as NextAgentState (cti-protocol.md §5.9(e)).
func pending(a agentInfo, st cti.AgentState, dir cti.Direction, next cti.AgentState, dur uint32) *cti.AgentStateEvent {
	m := agentState(a, st, 0, dir)
	m.StateDuration = dur
	m.NextAgentState = next
	m.SetPresent(cti.TagExtAgentState)
	return m
}

func preCall(a agentInfo, c inboundCall) *cti.AgentPreCallEvent {
	m := &cti.AgentPreCallEvent{ServiceNumber: cti.NullService, ServiceID: cti.NullService, SkillGroupNumber: salesGroup,
		SkillGroupID: salesGroupID, SkillGroupPriority: 5, MRDID: 1, AgentSkillTargetID: uint32(a.icm),
		AgentInstrument: a.ext, AgentID: a.id, RouterCallKeyDay: routerDay, RouterCallKeyCallID: c.key,
		ANI: c.ani, DialedNumber: salesDialed, CallerEnteredDigits: c.account, FltCallTypeID: 1,
		CallVariable1: "SalesInbound", CallVariable2: c.account}
	m.SetPresent(cti.TagRouterCallKeyDay)
	m.SetPresent(cti.TagRouterCallKeyCallID)
	m.SetPresent(cti.TagRouterCallKeySequenceNum)
	return m
}

func preCallAbort(a agentInfo, c inboundCall) *cti.AgentPreCallAbortEvent {
	m := &cti.AgentPreCallAbortEvent{MRDID: 1, AgentInstrument: a.ext, RouterCallKeyDay: routerDay, RouterCallKeyCallID: c.key}
	m.SetPresent(cti.TagRouterCallKeyDay)
	m.SetPresent(cti.TagRouterCallKeyCallID)
	m.SetPresent(cti.TagRouterCallKeySequenceNum)
	return m
}

func beginCallIn(a agentInfo, c inboundCall) *cti.BeginCallEvent {
	m := &cti.BeginCallEvent{PeripheralID: peripheralID, PeripheralType: cti.PTEnterpriseAgent, CallType: cti.CallTypePrerouteACDIn,
		ConnectionDeviceIDType: cti.ConnectionIDStatic, ConnectionCallID: c.id, ConnectionDeviceID: a.ext,
		ANI: c.ani, DNIS: salesDialed, DialedNumber: salesDialed, CallerEnteredDigits: c.account,
		RouterCallKeyDay: routerDay, RouterCallKeyCallID: c.key, CallVariable1: "SalesInbound", CallVariable2: c.account}
	m.SetPresent(cti.TagRouterCallKeyDay)
	m.SetPresent(cti.TagRouterCallKeyCallID)
	m.SetPresent(cti.TagRouterCallKeySequenceNum)
	return m
}

func deliveredIn(a agentInfo, c inboundCall) *cti.CallDeliveredEvent {
	return &cti.CallDeliveredEvent{PeripheralID: peripheralID, PeripheralType: cti.PTEnterpriseAgent,
		ConnectionDeviceIDType: cti.ConnectionIDStatic, ConnectionCallID: c.id, LineHandle: 0xFFFF, LineType: cti.LineTypeNone,
		ServiceNumber: cti.NullService, ServiceID: cti.NullService, SkillGroupNumber: salesGroup, SkillGroupID: salesGroupID,
		SkillGroupPriority: 5, AlertingDeviceType: cti.DevIDDeviceIdentifier, CallingDeviceType: cti.DevIDExternal,
		CalledDeviceType: cti.DevIDDeviceIdentifier, LastRedirectDeviceType: cti.DevIDCTIPort,
		LocalConnectionState: cti.LCSAlerting, EventCause: cti.CECNewCall, ConnectionDeviceID: a.ext,
		AlertingDeviceID: a.ext, CallingDeviceID: c.ani, CalledDeviceID: a.ext, LastRedirectDeviceID: ivrPort,
		ANI: c.ani, DNIS: salesDialed, DialedNumber: salesDialed, CallerEnteredDigits: c.account,
		CallVariable1: "SalesInbound", CallVariable2: c.account}
}

func establishedIn(a agentInfo, c inboundCall) *cti.CallEstablishedEvent {
	return &cti.CallEstablishedEvent{PeripheralID: peripheralID, PeripheralType: cti.PTEnterpriseAgent,
		ConnectionDeviceIDType: cti.ConnectionIDStatic, ConnectionCallID: c.id, LineHandle: 0xFFFF, LineType: cti.LineTypeNone,
		ServiceNumber: cti.NullService, ServiceID: cti.NullService, SkillGroupNumber: salesGroup, SkillGroupID: salesGroupID,
		SkillGroupPriority: 5, AnsweringDeviceType: cti.DevIDDeviceIdentifier, CallingDeviceType: cti.DevIDExternal,
		CalledDeviceType: cti.DevIDDeviceIdentifier, LastRedirectDeviceType: cti.DevIDNone,
		LocalConnectionState: cti.LCSConnect, EventCause: cti.CECNone, ConnectionDeviceID: a.ext,
		AnsweringDeviceID: a.ext, CallingDeviceID: c.ani, CalledDeviceID: a.ext}
}

// connectionCleared is a party (device, of type dt) leaving call id at
// connection dev.
func connectionCleared(id uint32, connType cti.ConnectionDeviceIDType, dev string, releasing string, relType cti.DeviceIDType) *cti.CallConnectionClearedEvent {
	return &cti.CallConnectionClearedEvent{PeripheralID: peripheralID, PeripheralType: cti.PTEnterpriseAgent,
		ConnectionDeviceIDType: connType, ConnectionCallID: id, ReleasingDeviceType: relType, LocalConnectionState: cti.LCSNull,
		EventCause: cti.CECNone, ConnectionDeviceID: dev, ReleasingDeviceID: releasing}
}

func callCleared(id uint32, dev string) *cti.CallClearedEvent {
	return &cti.CallClearedEvent{PeripheralID: peripheralID, PeripheralType: cti.PTEnterpriseAgent,
		ConnectionDeviceIDType: cti.ConnectionIDStatic, ConnectionCallID: id, LocalConnectionState: cti.LCSNull,
		EventCause: cti.CECNone, ConnectionDeviceID: dev}
}

func endCall(id uint32, connType cti.ConnectionDeviceIDType, dev string) *cti.EndCallEvent {
	return &cti.EndCallEvent{PeripheralID: peripheralID, PeripheralType: cti.PTEnterpriseAgent,
		ConnectionDeviceIDType: connType, ConnectionCallID: id, ConnectionDeviceID: dev}
}

func queryAgent(inv uint32, a agentInfo) *cti.QueryAgentStateReq {
	return &cti.QueryAgentStateReq{InvokeID: inv, PeripheralID: peripheralID, AgentID: a.id}
}

func queryAgentConf(inv uint32, a agentInfo, st cti.AgentState) *cti.QueryAgentStateConf {
	return &cti.QueryAgentStateConf{InvokeID: inv, AgentState: st, NumSkillGroups: 1, MRDID: 1, AgentMode: cti.AgentModeRoutable,
		MaxTaskLimit: 1, ICMAgentID: a.icm, AgentID: a.id, AgentExtension: a.ext, AgentInstrument: a.ext,
		SkillGroups: []cti.SkillGroup{{SkillGroupNumber: salesGroup, SkillGroupID: salesGroupID, SkillGroupState: st}}}
}

func setState(inv uint32, a agentInfo, st cti.AgentState, reason uint16) *cti.SetAgentStateReq {
	return &cti.SetAgentStateReq{InvokeID: inv, PeripheralID: peripheralID, AgentState: st, EventReasonCode: reason,
		AgentInstrument: a.ext, AgentID: a.id}
}
