package pg

import (
	"fmt"
	"strings"
	"time"
)

// MessageType is the CTI message type a PG event is rendered as
// (cti-protocol.md §2, ipcc-behaviour.md §3.1).
type MessageType uint16

// Message types of PG events.
const (
	MsgCallDelivered         MessageType = 9
	MsgCallEstablished       MessageType = 10
	MsgCallCleared           MessageType = 13
	MsgCallConnectionCleared MessageType = 14
	MsgCallHeld              MessageType = 11
	MsgCallRetrieved         MessageType = 12
	MsgCallOriginated        MessageType = 15
	MsgCallFailed            MessageType = 16
	MsgCallConferenced       MessageType = 17
	MsgCallTransferred       MessageType = 18
	MsgCallDiverted          MessageType = 19
	MsgCallServiceInitiated  MessageType = 20
	MsgBeginCall             MessageType = 23
	MsgEndCall               MessageType = 24
	MsgCallDataUpdate        MessageType = 25
	MsgAgentState            MessageType = 30
	MsgSystem                MessageType = 31
	MsgAgentPreCall          MessageType = 105
	MsgAgentPreCallAbort     MessageType = 106
)

var msgNames = map[MessageType]string{
	MsgCallDelivered: "CALL_DELIVERED_EVENT", MsgCallEstablished: "CALL_ESTABLISHED_EVENT",
	MsgCallCleared: "CALL_CLEARED_EVENT", MsgCallConnectionCleared: "CALL_CONNECTION_CLEARED_EVENT",
	MsgCallOriginated: "CALL_ORIGINATED_EVENT", MsgCallFailed: "CALL_FAILED_EVENT",
	MsgBeginCall: "BEGIN_CALL_EVENT", MsgEndCall: "END_CALL_EVENT", MsgCallDataUpdate: "CALL_DATA_UPDATE_EVENT",
	MsgAgentState: "AGENT_STATE_EVENT", MsgSystem: "SYSTEM_EVENT",
	MsgAgentPreCall: "AGENT_PRE_CALL_EVENT", MsgAgentPreCallAbort: "AGENT_PRE_CALL_ABORT_EVENT",
	MsgCallHeld: "CALL_HELD_EVENT", MsgCallRetrieved: "CALL_RETRIEVED_EVENT",
	MsgCallConferenced: "CALL_CONFERENCED_EVENT", MsgCallTransferred: "CALL_TRANSFERRED_EVENT",
	MsgCallDiverted: "CALL_DIVERTED_EVENT", MsgCallServiceInitiated: "CALL_SERVICE_INITIATED_EVENT",
}

func (m MessageType) String() string {
	if n, ok := msgNames[m]; ok {
		return n
	}
	return fmt.Sprintf("MessageType(%d)", uint16(m))
}

// Event is one PG event, delivered synchronously and in order to the sink
// given in Config.Emit. Each concrete type carries what the CTI Server needs
// to render the CTI message of the same name.
type Event interface {
	Type() MessageType
	EventHeader() Header
	// String is a stable one-line rendering for logs and golden transcripts.
	String() string
}

// Header is common to every event.
type Header struct {
	Time           time.Time
	PeripheralID   uint32
	PeripheralType uint16
}

// Connection identifies a call at a device: ConnectionCallID +
// ConnectionDeviceIDType + ConnectionDeviceID (cti-protocol.md §5.8).
type Connection struct {
	CallID       uint32
	DeviceIDType ConnectionIDType
	DeviceID     string
}

func (c Connection) String() string { return fmt.Sprintf("%d@%s", c.CallID, c.DeviceID) }

// Device is a device ID with its DeviceIDType.
type Device struct {
	ID   string
	Type DeviceIDType
}

// NoDevice is an absent device field.
var NoDevice = Device{Type: DeviceNone}

// SkillGroupRef is the skill group triple of call and agent events; Number
// is NullSkillGroup when there is none.
type SkillGroupRef struct {
	Number   uint32
	ID       uint32
	Priority uint16
}

// NoSkillGroup is the null skill group.
var NoSkillGroup = SkillGroupRef{Number: NullSkillGroup, ID: NullSkillGroup}

// RouterCallKey links a PG call to the ICM routing of it
// (RouterCallKeyDay/CallID/SequenceNumber, cti-protocol.md §5.8).
type RouterCallKey struct {
	Day      uint32
	CallID   uint32
	Sequence uint32
}

// IsZero reports an absent key (a call the router did not route).
func (k RouterCallKey) IsZero() bool { return k == RouterCallKey{} }

func (k RouterCallKey) String() string { return fmt.Sprintf("%d/%d/%d", k.Day, k.CallID, k.Sequence) }

// NamedVariable is an ECC variable (name "user.xxx" in ICM) and its value.
type NamedVariable struct {
	Name  string
	Value string
}

// CallData is the call context: what BEGIN_CALL, CALL_DELIVERED,
// AGENT_PRE_CALL and CALL_DATA_UPDATE carry.
type CallData struct {
	CallType            CallType
	ANI                 string
	DNIS                string
	DialedNumber        string
	CallerEnteredDigits string
	// CallVariables[0] is CallVariable1.
	CallVariables  [10]string
	NamedVariables []NamedVariable
	RouterCallKey  RouterCallKey
	// CallTypeID is the ICM call type (FltCallTypeID), 0 if none.
	CallTypeID     uint32
	CallWrapupData string
}

func (d CallData) clone() CallData {
	d.NamedVariables = append([]NamedVariable(nil), d.NamedVariables...)
	return d
}

func (d CallData) vars() string {
	var b strings.Builder
	for i, v := range d.CallVariables {
		if v != "" {
			fmt.Fprintf(&b, " cv%d=%q", i+1, v)
		}
	}
	for _, v := range d.NamedVariables {
		fmt.Fprintf(&b, " %s=%q", v.Name, v.Value)
	}
	return b.String()
}

// AgentInfo identifies an agent in agent events.
type AgentInfo struct {
	AgentID    string
	Extension  string
	Instrument string
	// ICMAgentID is the agent's skill target ID.
	ICMAgentID uint32
}

// SkillGroupState is one FltSkillGroup quad of AGENT_STATE_EVENT: the
// agent's state with respect to one of its skill groups.
type SkillGroupState struct {
	SkillGroupRef
	State AgentState
}

// AgentStateEvent is AGENT_STATE_EVENT (30).
type AgentStateEvent struct {
	Header
	Agent AgentInfo
	State AgentState
	// SkillGroup is the skill group of the call the agent is on (or
	// reserved for), NoSkillGroup otherwise; SkillGroupState is the state
	// with respect to it.
	SkillGroup      SkillGroupRef
	SkillGroupState AgentState
	// SkillGroups has one entry per skill group the agent belongs to.
	SkillGroups  []SkillGroupState
	ReasonCode   uint16
	AgentMode    AgentMode
	Availability Availability
	Direction    Direction
	// NextAgentState is the pending state requested while the agent is on
	// a call (cti-protocol.md §5.9(e)); valid when HasNextAgentState.
	NextAgentState    AgentState
	HasNextAgentState bool
	// StateDuration is the number of seconds already spent in State (0 on
	// a change).
	StateDuration uint32
}

// AgentPreCallEvent is AGENT_PRE_CALL_EVENT (105): the router has reserved
// the agent for a call and hands over its context before the call arrives.
type AgentPreCallEvent struct {
	Header
	Agent      AgentInfo
	SkillGroup SkillGroupRef
	ServiceNumber,
	ServiceID uint32
	Data CallData
	// ConnectionCallID is the CallManager call that will be delivered (not
	// on the wire; links the pre-call to the BEGIN_CALL that follows).
	ConnectionCallID uint32
}

// AgentPreCallAbortEvent is AGENT_PRE_CALL_ABORT_EVENT (106).
type AgentPreCallAbortEvent struct {
	Header
	Agent         AgentInfo
	RouterCallKey RouterCallKey
}

// BeginCallEvent is BEGIN_CALL_EVENT (23), the first event of a call.
type BeginCallEvent struct {
	Header
	Connection Connection
	Data       CallData
}

// CallDeliveredEvent is CALL_DELIVERED_EVENT (9).
type CallDeliveredEvent struct {
	Header
	Connection    Connection
	ServiceNumber uint32
	ServiceID     uint32
	SkillGroup    SkillGroupRef
	Alerting      Device
	Calling       Device
	Called        Device
	LastRedirect  Device
	State         LocalConnectionState
	Cause         EventCause
	Data          CallData
}

// CallEstablishedEvent is CALL_ESTABLISHED_EVENT (10).
type CallEstablishedEvent struct {
	Header
	Connection    Connection
	ServiceNumber uint32
	ServiceID     uint32
	SkillGroup    SkillGroupRef
	Answering     Device
	Calling       Device
	Called        Device
	LastRedirect  Device
	State         LocalConnectionState
	Cause         EventCause
}

// CallOriginatedEvent is CALL_ORIGINATED_EVENT (15).
type CallOriginatedEvent struct {
	Header
	Connection    Connection
	ServiceNumber uint32
	ServiceID     uint32
	SkillGroup    SkillGroupRef
	Calling       Device
	Called        Device
	State         LocalConnectionState
	Cause         EventCause
}

// CallFailedEvent is CALL_FAILED_EVENT (16).
type CallFailedEvent struct {
	Header
	Connection Connection
	Failing    Device
	Called     Device
	State      LocalConnectionState
	Cause      EventCause
}

// CallConnectionClearedEvent is CALL_CONNECTION_CLEARED_EVENT (14): one party
// left the call.
type CallConnectionClearedEvent struct {
	Header
	Connection Connection
	Releasing  Device
	State      LocalConnectionState
	Cause      EventCause
}

// CallClearedEvent is CALL_CLEARED_EVENT (13): the call is gone.
type CallClearedEvent struct {
	Header
	Connection Connection
	State      LocalConnectionState
	Cause      EventCause
}

// EndCallEvent is END_CALL_EVENT (24), the last event of a call.
type EndCallEvent struct {
	Header
	Connection Connection
}

// CallDataUpdateEvent is CALL_DATA_UPDATE_EVENT (25).
type CallDataUpdateEvent struct {
	Header
	Connection Connection
	Data       CallData
}

// SystemEvent is SYSTEM_EVENT (31): peripheral on/offline, half-hour change.
type SystemEvent struct {
	Header
	ID       SystemEventID
	PGStatus uint32
	Arg1     uint32
	Text     string
}

func (e *AgentStateEvent) Type() MessageType            { return MsgAgentState }
func (e *AgentPreCallEvent) Type() MessageType          { return MsgAgentPreCall }
func (e *AgentPreCallAbortEvent) Type() MessageType     { return MsgAgentPreCallAbort }
func (e *BeginCallEvent) Type() MessageType             { return MsgBeginCall }
func (e *CallDeliveredEvent) Type() MessageType         { return MsgCallDelivered }
func (e *CallEstablishedEvent) Type() MessageType       { return MsgCallEstablished }
func (e *CallOriginatedEvent) Type() MessageType        { return MsgCallOriginated }
func (e *CallFailedEvent) Type() MessageType            { return MsgCallFailed }
func (e *CallConnectionClearedEvent) Type() MessageType { return MsgCallConnectionCleared }
func (e *CallClearedEvent) Type() MessageType           { return MsgCallCleared }
func (e *EndCallEvent) Type() MessageType               { return MsgEndCall }
func (e *CallDataUpdateEvent) Type() MessageType        { return MsgCallDataUpdate }
func (e *SystemEvent) Type() MessageType                { return MsgSystem }

// EventHeader returns the common header.
func (h Header) EventHeader() Header { return h }

func (h Header) stamp() string { return h.Time.UTC().Format("15:04:05.000") }

func (e *AgentStateEvent) String() string {
	s := fmt.Sprintf("%s %s agent=%s ext=%s state=%s", e.stamp(), e.Type(), e.Agent.AgentID, e.Agent.Extension, e.State)
	if e.State == StateNotReady || e.State == StateLogout {
		s += fmt.Sprintf(" reason=%d", e.ReasonCode)
	}
	if e.HasNextAgentState {
		s += " next=" + e.NextAgentState.String()
	}
	if e.Direction != DirectionNone {
		s += fmt.Sprintf(" dir=%d", e.Direction)
	}
	s += fmt.Sprintf(" avail=%d", e.Availability)
	return s
}

func (e *AgentPreCallEvent) String() string {
	return fmt.Sprintf("%s %s agent=%s sg=%d key=%s call=%d ani=%s dn=%s%s", e.stamp(), e.Type(), e.Agent.AgentID,
		e.SkillGroup.Number, e.Data.RouterCallKey, e.ConnectionCallID, e.Data.ANI, e.Data.DialedNumber, e.Data.vars())
}

func (e *AgentPreCallAbortEvent) String() string {
	return fmt.Sprintf("%s %s agent=%s key=%s", e.stamp(), e.Type(), e.Agent.AgentID, e.RouterCallKey)
}

func (e *BeginCallEvent) String() string {
	return fmt.Sprintf("%s %s conn=%s calltype=%d ani=%s dnis=%s dn=%s key=%s%s", e.stamp(), e.Type(), e.Connection,
		e.Data.CallType, e.Data.ANI, e.Data.DNIS, e.Data.DialedNumber, e.Data.RouterCallKey, e.Data.vars())
}

func (e *CallDeliveredEvent) String() string {
	return fmt.Sprintf("%s %s conn=%s alerting=%s calling=%s called=%s lcs=%d cause=%d sg=%d", e.stamp(), e.Type(),
		e.Connection, e.Alerting.ID, e.Calling.ID, e.Called.ID, e.State, e.Cause, e.SkillGroup.Number)
}

func (e *CallEstablishedEvent) String() string {
	return fmt.Sprintf("%s %s conn=%s answering=%s calling=%s called=%s lcs=%d cause=%d", e.stamp(), e.Type(),
		e.Connection, e.Answering.ID, e.Calling.ID, e.Called.ID, e.State, e.Cause)
}

func (e *CallOriginatedEvent) String() string {
	return fmt.Sprintf("%s %s conn=%s calling=%s called=%s lcs=%d", e.stamp(), e.Type(), e.Connection, e.Calling.ID, e.Called.ID, e.State)
}

func (e *CallFailedEvent) String() string {
	return fmt.Sprintf("%s %s conn=%s failing=%s lcs=%d cause=%d", e.stamp(), e.Type(), e.Connection, e.Failing.ID, e.State, e.Cause)
}

func (e *CallConnectionClearedEvent) String() string {
	return fmt.Sprintf("%s %s conn=%s releasing=%s lcs=%d cause=%d", e.stamp(), e.Type(), e.Connection, e.Releasing.ID, e.State, e.Cause)
}

func (e *CallClearedEvent) String() string {
	return fmt.Sprintf("%s %s conn=%s lcs=%d cause=%d", e.stamp(), e.Type(), e.Connection, e.State, e.Cause)
}

func (e *EndCallEvent) String() string {
	return fmt.Sprintf("%s %s conn=%s", e.stamp(), e.Type(), e.Connection)
}

func (e *CallDataUpdateEvent) String() string {
	return fmt.Sprintf("%s %s conn=%s%s wrapup=%q", e.stamp(), e.Type(), e.Connection, e.Data.vars(), e.Data.CallWrapupData)
}

func (e *SystemEvent) String() string {
	return fmt.Sprintf("%s %s id=%d pgstatus=%#x arg1=%d", e.stamp(), e.Type(), e.ID, e.PGStatus, e.Arg1)
}

// CallServiceInitiatedEvent is CALL_SERVICE_INITIATED_EVENT (20): the
// originating phone went off-hook for a call (MakeCall, the consultation leg
// of ConsultationCall or of a single-step transfer). State is LCS_INITIATE.
type CallServiceInitiatedEvent struct {
	Header
	Connection    Connection
	ServiceNumber uint32
	ServiceID     uint32
	SkillGroup    SkillGroupRef
	Calling       Device
	State         LocalConnectionState
	Cause         EventCause
}

// CallHeldEvent is CALL_HELD_EVENT (11): Holding put the call on hold;
// Connection is the holding device's connection, State LCS_HOLD.
type CallHeldEvent struct {
	Header
	Connection Connection
	Holding    Device
	State      LocalConnectionState
	Cause      EventCause
}

// CallRetrievedEvent is CALL_RETRIEVED_EVENT (12): Retrieving took the call
// off hold; State is LCS_CONNECT.
type CallRetrievedEvent struct {
	Header
	Connection Connection
	Retrieving Device
	State      LocalConnectionState
	Cause      EventCause
}

// ConnectedParty is one ConnectedParty triplet of CALL_CONFERENCED_EVENT and
// CALL_TRANSFERRED_EVENT (and of TRANSFER_CALL_CONF / CONFERENCE_CALL_CONF):
// ConnectedPartyCallID (tag 39), ConnectedPartyDeviceIDType (40) and
// ConnectedPartyDeviceID (41). Connection carries the ConnectionDeviceIDType
// of the party's connection; DeviceType its DeviceIDType — the guide is
// ambiguous about which of the two tag 40 holds (cti-protocol.md §4.11), so
// both are given.
type ConnectedParty struct {
	Connection Connection
	DeviceType DeviceIDType
}

func partiesString(ps []ConnectedParty) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.Connection.String()
	}
	return strings.Join(s, ",")
}

// CallConferencedEvent is CALL_CONFERENCED_EVENT (17). Primary is the
// controller's connection on the held (original) call, Secondary its
// connection on the active (consultation) call, which is the call that
// survives; Parties are the connections of the conference (NumParties ≤ 16).
type CallConferencedEvent struct {
	Header
	Primary    Connection
	Secondary  Connection
	SkillGroup SkillGroupRef
	Controller Device
	AddedParty Device
	Parties    []ConnectedParty
	State      LocalConnectionState
	Cause      EventCause
}

// CallTransferredEvent is CALL_TRANSFERRED_EVENT (18). Primary is the
// transferring device's connection on the held (original) call, Secondary
// its connection on the active (consultation) call, which is the call that
// survives; Transferred is the device the call was transferred to; Parties
// are the connections of the surviving call. State is the LocalConnectionState
// of the transferred device's connection (LCS_CONNECT after a consultative
// transfer, LCS_ALERTING after a single-step one).
type CallTransferredEvent struct {
	Header
	Primary      Connection
	Secondary    Connection
	SkillGroup   SkillGroupRef
	Transferring Device
	Transferred  Device
	Parties      []ConnectedParty
	State        LocalConnectionState
	Cause        EventCause
}

// CallDivertedEvent is CALL_DIVERTED_EVENT (19): the call alerting at
// Diverting was deflected to Called (CEC_REDIRECTED); Connection is the
// diverting device's connection, which is gone (LCS_NULL).
type CallDivertedEvent struct {
	Header
	Connection    Connection
	ServiceNumber uint32
	ServiceID     uint32
	Diverting     Device
	Called        Device
	State         LocalConnectionState
	Cause         EventCause
}

func (e *CallServiceInitiatedEvent) Type() MessageType { return MsgCallServiceInitiated }
func (e *CallHeldEvent) Type() MessageType             { return MsgCallHeld }
func (e *CallRetrievedEvent) Type() MessageType        { return MsgCallRetrieved }
func (e *CallConferencedEvent) Type() MessageType      { return MsgCallConferenced }
func (e *CallTransferredEvent) Type() MessageType      { return MsgCallTransferred }
func (e *CallDivertedEvent) Type() MessageType         { return MsgCallDiverted }

func (e *CallServiceInitiatedEvent) String() string {
	return fmt.Sprintf("%s %s conn=%s calling=%s lcs=%d", e.stamp(), e.Type(), e.Connection, e.Calling.ID, e.State)
}

func (e *CallHeldEvent) String() string {
	return fmt.Sprintf("%s %s conn=%s holding=%s lcs=%d cause=%d", e.stamp(), e.Type(), e.Connection, e.Holding.ID, e.State, e.Cause)
}

func (e *CallRetrievedEvent) String() string {
	return fmt.Sprintf("%s %s conn=%s retrieving=%s lcs=%d cause=%d", e.stamp(), e.Type(), e.Connection, e.Retrieving.ID, e.State, e.Cause)
}

func (e *CallConferencedEvent) String() string {
	return fmt.Sprintf("%s %s primary=%s secondary=%s controller=%s added=%s parties=%s lcs=%d cause=%d", e.stamp(), e.Type(),
		e.Primary, e.Secondary, e.Controller.ID, e.AddedParty.ID, partiesString(e.Parties), e.State, e.Cause)
}

func (e *CallTransferredEvent) String() string {
	return fmt.Sprintf("%s %s primary=%s secondary=%s transferring=%s transferred=%s parties=%s lcs=%d cause=%d", e.stamp(), e.Type(),
		e.Primary, e.Secondary, e.Transferring.ID, e.Transferred.ID, partiesString(e.Parties), e.State, e.Cause)
}

func (e *CallDivertedEvent) String() string {
	return fmt.Sprintf("%s %s conn=%s diverting=%s called=%s lcs=%d cause=%d", e.stamp(), e.Type(), e.Connection,
		e.Diverting.ID, e.Called.ID, e.State, e.Cause)
}
