package pg

import "fmt"

// AgentState is the CTI AgentState value (cti-protocol.md §4.4). The numbers
// are the wire values, so the CTI Server casts rather than maps. Note LOGIN is
// 0 and LOGOUT is 1.
type AgentState uint16

// Agent states (cti-protocol.md §4.4, ipcc-behaviour.md §2.4).
const (
	StateLogin        AgentState = 0
	StateLogout       AgentState = 1
	StateNotReady     AgentState = 2
	StateAvailable    AgentState = 3
	StateTalking      AgentState = 4
	StateWorkNotReady AgentState = 5
	StateWorkReady    AgentState = 6
	StateBusyOther    AgentState = 7
	StateReserved     AgentState = 8
	StateUnknown      AgentState = 9
	StateHold         AgentState = 10
)

var stateNames = [...]string{"LOGIN", "LOGOUT", "NOT_READY", "AVAILABLE", "TALKING", "WORK_NOT_READY",
	"WORK_READY", "BUSY_OTHER", "RESERVED", "UNKNOWN", "HOLD"}

func (s AgentState) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("AgentState(%d)", uint16(s))
}

// Direction is the AGENT_STATE_EVENT Direction (tag 244, cti-protocol.md §4.16).
type Direction uint32

// Directions.
const (
	DirectionNone               Direction = 0
	DirectionIn                 Direction = 1
	DirectionOut                Direction = 2
	DirectionOtherIn            Direction = 3
	DirectionOtherOut           Direction = 4
	DirectionOutboundReserve    Direction = 5
	DirectionOutboundPreview    Direction = 6
	DirectionOutboundPredictive Direction = 7
)

// Availability is AgentAvailabilityStatus (cti-protocol.md §4.16).
type Availability uint32

// Availability values.
const (
	NotAvailable         Availability = 0
	ICMAvailable         Availability = 1
	ApplicationAvailable Availability = 2
)

// AgentMode is 1 when the router may select the agent, 0 when not.
type AgentMode uint16

// Agent modes.
const (
	NotRoutable AgentMode = 0
	Routable    AgentMode = 1
)

// Reason codes used by the PG itself (ipcc-behaviour.md §2.3/§2.4).
const (
	// ReasonRONA is the Not Ready reason set when a reserved agent does not
	// answer within the ring-no-answer time.
	ReasonRONA uint16 = 32767
)

// ControlFailureCode is a CONTROL_FAILURE_CONF FailureCode (cti-protocol.md
// §4.15). Only the codes the PG returns are named here.
type ControlFailureCode uint16

// Control failure codes returned by PG commands.
const (
	// CFValueOutOfRange: a requested AgentState that SET_AGENT_STATE_REQ
	// cannot set (TALKING, RESERVED, HOLD …) or a bad call variable index.
	CFValueOutOfRange ControlFailureCode = 3
	// CFInvalidCallingDevice: MAKE_PREDICTIVE_CALL_REQ names an originating
	// device that is not a logged-on agent's instrument.
	CFInvalidCallingDevice ControlFailureCode = 5
	// CFInvalidFeature: a call-control variant the emulated CallManager
	// does not offer (single-step conference).
	CFInvalidFeature ControlFailureCode = 15
	// CFInvalidCallID: no such ConnectionCallID.
	CFInvalidCallID ControlFailureCode = 11
	// CFInvalidDeviceID: no agent on that instrument.
	CFInvalidDeviceID ControlFailureCode = 12
	// CFInvalidDestination: empty or malformed dialed number.
	CFInvalidDestination ControlFailureCode = 14
	// CFInvalidObjectState: the request is well-formed but the agent (or
	// call) is in a state that does not allow it — logout while TALKING or
	// RESERVED, a state change for a logged-out agent, wrap-up with no call.
	// §4.15 has no agent-specific "invalid state transition" code; 22
	// INVALID_OBJECT_STATE is the CSTA code for exactly this situation.
	CFInvalidObjectState ControlFailureCode = 22
	// CFNoActiveCall: hold, consultation, transfer, alternate, reconnect or
	// DTMF naming a call that is not connected (active) at the device.
	CFNoActiveCall ControlFailureCode = 24
	// CFNoHeldCall: retrieve, transfer, conference, alternate or reconnect
	// naming a call that is not held at the device.
	CFNoHeldCall ControlFailureCode = 25
	// CFNoCallToAnswer: ANSWER on a device that is not alerting.
	CFNoCallToAnswer ControlFailureCode = 28
	// CFNoConnectionToClear: CLEAR_CONNECTION for a device not on the call.
	CFNoConnectionToClear ControlFailureCode = 27
	// CFResourceBusy: the agent's device is busy (routing to an agent who is
	// not Available).
	CFResourceBusy ControlFailureCode = 33
	// CFResourceOutOfService: the peripheral is offline.
	CFResourceOutOfService ControlFailureCode = 34
	// CFConferenceMemberLimitExceeded: a conference would have more than
	// MaxParties parties.
	CFConferenceMemberLimitExceeded ControlFailureCode = 38
	// CFInvalidAgentID: the agent ID is unknown (non-login requests).
	CFInvalidAgentID ControlFailureCode = 256
	// CFInvalidAgentIDOrPassword: login with an unknown agent or a wrong
	// password (§5.7 typical code for SET_AGENT_STATE).
	CFInvalidAgentIDOrPassword ControlFailureCode = 258
	// CFAgentAlreadySignedOn: login of an agent who is logged on.
	CFAgentAlreadySignedOn ControlFailureCode = 259
	// CFInvalidLogonDevice: login on an instrument that is not the agent's.
	CFInvalidLogonDevice ControlFailureCode = 260
	// CFInvalidWorkMode: AgentWorkMode outside 0..4 (§4.16).
	CFInvalidWorkMode ControlFailureCode = 265
	// CFAgentNotPartyOnCall: a call-control request names an agent's device
	// that has no connection on the call.
	CFAgentNotPartyOnCall ControlFailureCode = 268
	// CFInvalidConsultType: ConsultType outside 0..2 (§4.16).
	CFInvalidConsultType ControlFailureCode = 273
	// CFReasonCodeRequired: NOT_READY or LOGOUT without a reason code when
	// the desk settings require one.
	CFReasonCodeRequired ControlFailureCode = 281
	// CFExtensionInUse: login on an instrument another agent is using.
	CFExtensionInUse ControlFailureCode = 283
)

// ControlFailure is the error PG commands return; Code is the CTI
// ControlFailureCode the CTI Server puts in CONTROL_FAILURE_CONF.
type ControlFailure struct {
	Code ControlFailureCode
	Msg  string
}

func (e *ControlFailure) Error() string {
	return fmt.Sprintf("control failure %d: %s", uint16(e.Code), e.Msg)
}

func failf(code ControlFailureCode, format string, args ...any) error {
	return &ControlFailure{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// CallType is the CTI CallType (cti-protocol.md §4.12).
type CallType uint16

// Call types used by the emulated PG.
const (
	CallTypeACDIn         CallType = 1
	CallTypePrerouteACDIn CallType = 2
	CallTypeAutoOut       CallType = 7
	CallTypeAgentOut      CallType = 8
	// CallTypeAgentInside: MakeCall to another agent's extension.
	CallTypeAgentInside CallType = 10
	// CallTypeConsult: the consultation leg of a transfer (consultative or
	// single-step).
	CallTypeConsult CallType = 12
	// CallTypeConsultConference: the consultation leg of a conference.
	CallTypeConsultConference CallType = 14
	// CallTypeReservation: a dialer port's call to an agent's phone that
	// reserves the agent (no Outbound Option mode known, see
	// reservationCallType).
	CallTypeReservation CallType = 18
	// Outbound Option (PV19+) reservation calls: a dialer port's MakeCall
	// to an agent's phone, typed by the call's BAStatus ECC variable
	// (reservation.go).
	CallTypeReservationPreview       CallType = 27
	CallTypeReservationPreviewDirect CallType = 28
	// CallTypeCustomerPreview: the customer call of a preview the agent
	// accepted (MakePredictiveCall with BAStatus PREVIEW_OUTBOUND).
	CallTypeCustomerPreview CallType = 32
	CallTypeCustomerPredict CallType = 34
)

// DeviceIDType is a DeviceIDType value (cti-protocol.md §4.10).
type DeviceIDType uint16

// Device types.
const (
	DeviceNone       DeviceIDType = 0xFFFF
	DeviceIdentifier DeviceIDType = 0  // an extension
	DeviceTrunk      DeviceIDType = 70 // a gateway trunk
	DeviceCTIPort    DeviceIDType = 73 // an IVR port
	DeviceRoutePoint DeviceIDType = 74
	DeviceExternal   DeviceIDType = 75 // ANI / outside number
	DeviceAgent      DeviceIDType = 76
)

// ConnectionIDType is a ConnectionDeviceIDType (cti-protocol.md §4.11).
type ConnectionIDType uint16

// Connection ID types.
const (
	ConnectionStatic  ConnectionIDType = 0
	ConnectionDynamic ConnectionIDType = 1
	ConnectionNone    ConnectionIDType = 0xFFFF
)

// LocalConnectionState (cti-protocol.md §4.8).
type LocalConnectionState uint16

// Local connection states.
const (
	LCSNone     LocalConnectionState = 0xFFFF
	LCSNull     LocalConnectionState = 0
	LCSInitiate LocalConnectionState = 1
	LCSAlerting LocalConnectionState = 2
	LCSConnect  LocalConnectionState = 3
	LCSHold     LocalConnectionState = 4
	LCSQueued   LocalConnectionState = 5
	LCSFail     LocalConnectionState = 6
)

// EventCause (cti-protocol.md §4.9).
type EventCause uint16

// Event causes used by the PG.
const (
	CauseNone              EventCause = 0xFFFF
	CauseAlternate         EventCause = 2
	CauseKeyConference     EventCause = 17
	CauseTransfer          EventCause = 32
	CauseBusy              EventCause = 3
	CauseCallCancelled     EventCause = 5
	CauseCallNotAnswered   EventCause = 10
	CauseDestNotObtainable EventCause = 13
	CauseNewCall           EventCause = 22
	CauseNoAvailableAgents EventCause = 23
	CauseRedirected        EventCause = 28
)

// ConsultType is the ConsultType of CONSULTATION_CALL_REQ (cti-protocol.md
// §4.16).
type ConsultType uint16

// Consult types.
const (
	ConsultUnspecified ConsultType = 0 // treated as ConsultTransfer
	ConsultTransfer    ConsultType = 1
	ConsultConference  ConsultType = 2
)

// NoCallID is the HeldConnectionCallID of a single-step (blind) transfer
// (0xFFFFFFFF in TRANSFER_CALL_REQ).
const NoCallID uint32 = 0xFFFFFFFF

// MaxParties is MAX_NUM_PARTIES: a conference has at most 16 parties
// (ipcc-behaviour.md §3.4).
const MaxParties = 16

// SystemEventID (cti-protocol.md §4.6).
type SystemEventID uint32

// System events the PG emits.
const (
	SysCentralControllerOnline  SystemEventID = 1
	SysCentralControllerOffline SystemEventID = 2
	SysPeripheralOnline         SystemEventID = 3
	SysPeripheralOffline        SystemEventID = 4
	SysPeripheralGatewayOffline SystemEventID = 6
	SysHalfHourChange           SystemEventID = 9
)

// PGStatus bits (cti-protocol.md §4.5).
const (
	PGSOPCDown           uint32 = 0x1
	PGSCCDown            uint32 = 0x2
	PGSPeripheralOffline uint32 = 0x4
)

// Null values of the CTI protocol.
const (
	NullSkillGroup uint32 = 0xFFFFFFFF
	NullService    uint32 = 0xFFFFFFFF
)

// PeripheralTypeEnterpriseAgent is PT_ENTERPRISE_AGENT (17), what a UCCE
// CallManager PG reports (cti-protocol.md §4.7).
const PeripheralTypeEnterpriseAgent uint16 = 17
