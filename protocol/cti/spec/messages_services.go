// Message layouts of priority (2) and (3) of issue 3: monitor, snapshot,
// client-session, statistics, team, supervisor, recording, greeting and
// active/standby messages (§3.2, §5.10). Data only.

package spec

const statusNumLines = 40 // E_CTI_INVALID_NUM_LINES

func init() { Messages = append(Messages, serviceMessages...) }

// invokeAnd is a layout of InvokeID followed by more fixed fields.
func invokeAnd(t uint32, name string, more ...Field) Message {
	return Message{Type: t, Name: name, Fixed: append([]Field{u32("InvokeID")}, more...)}
}

func agentIdents() []Float {
	return []Float{opt("AgentExtension", 4), opt("AgentID", 5), opt("AgentInstrument", 6)}
}

// clientSessionFloats: §3.2 CLIENT_SESSION_OPENED/CLOSED_EVENT.
func clientSessionFloats() []Float {
	return floats(
		opt("ClientAddress", 81),
		opt("ClientID", 1),
		opt("ClientSignature", 3),
		agentIdents(),
	)
}

// statsFields: §3.2 QUERY_AGENT_STATISTICS_CONF — 42 UINTs, each with the
// given suffix (Session, then Today).
func statsFields(suffix string) []Field {
	names := []string{
		"AvailTime", "LoggedOnTime", "NotReadyTime", "ICMAvailableTime", "RoutableTime",
		"AgentOutCalls", "AgentOutCallsTalkTime", "AgentOutCallsTime", "AgentOutCallsHeld", "AgentOutCallsHeldTime",
		"HandledCalls", "HandledCallsTalkTime", "HandledCallsAfterCallTime", "HandledCallsTime",
		"IncomingCallsHeld", "IncomingCallsHeldTime",
		"InternalCalls", "InternalCallsTime", "InternalCallsRcvd", "InternalCallsRcvdTime", "InternalCallsHeld", "InternalCallsHeldTime",
		"AutoOutCalls", "AutoOutCallsTalkTime", "AutoOutCallsTime", "AutoOutCallsHeld", "AutoOutCallsHeldTime",
		"PreviewCalls", "PreviewCallsTalkTime", "PreviewCallsTime", "PreviewCallsHeld", "PreviewCallsHeldTime",
		"ReservationCalls", "ReservationCallsTalkTime", "ReservationCallsTime", "ReservationCallsHeld", "ReservationCallsHeldTime",
		"BargeInCalls", "InterceptCalls", "MonitorCalls", "WhisperCalls", "EmergencyCalls",
	}
	out := make([]Field, len(names))
	for i, n := range names {
		out[i] = u32(n + suffix)
	}
	return out
}

// assistReq: §3.2 SUPERVISOR_ASSIST_REQ, also EMERGENCY_CALL_REQ.
func assistReq(t uint32, name string) Message {
	return Message{Type: t, Name: name,
		Fixed: []Field{
			u32("InvokeID"),
			u32("PeripheralID"),
			u32("ConnectionCallID").note("0xFFFFFFFF = none"),
			u16("ConnectionDeviceIDType").enum("ConnectionDeviceIDType"),
		},
		Floats: floats(opt("ConnectionDeviceID", 25), agentIdents())}
}

// assistConf: §3.2 SUPERVISOR_ASSIST_CONF, also EMERGENCY_CALL_CONF.
func assistConf(t uint32, name string) Message {
	return Message{Type: t, Name: name,
		Fixed: []Field{
			u32("InvokeID"),
			u32("ConnectionCallID"),
			u16("ConnectionDeviceIDType").enum("ConnectionDeviceIDType"),
			u16("LineHandle"),
			lineType(),
		},
		Floats: []Float{opt("ConnectionDeviceID", 25)}}
}

var serviceMessages = []Message{
	{Type: 78, Name: "QUERY_DEVICE_INFO_REQ",
		Fixed:  []Field{u32("InvokeID"), u32("PeripheralID"), u16("Reserved").note("0")},
		Floats: []Float{opt("AgentInstrument", 6)}},
	{Type: 79, Name: "QUERY_DEVICE_INFO_CONF",
		Fixed: []Field{
			u32("InvokeID"),
			u16("PeripheralType").enum("PeripheralType"),
			u16("TypeOfDevice").enum("TypeOfDevice"),
			u16("ClassOfDevice").enum("ClassOfDevice"),
			u16("NumLines").note("≤ 10"),
			u16("Reserved"),
			u16("MaxActiveCalls"),
			u16("MaxHeldCalls"),
			u16("MaxDevicesInConference").note("0xFFFF = unknown"),
			u32("MakeCallSetup").enum("AgentStateMask").note("§4.3: agent-state mask bits"),
			u32("TransferConferenceSetup").enum("TransferConferenceSetupMask"),
			u32("CallEventsSupported").enum("CallEventMask"),
			u32("CallControlSupported").enum("CallControlMask"),
			u32("OtherFeaturesSupported").enum("OtherFeatureMask"),
		},
		Floats: group("Lines", "DeviceLine", "NumLines", statusNumLines,
			rep("LineHandle", 70),
			rep("LineType", 71).enum("LineType"))},
	{Type: 82, Name: "SNAPSHOT_CALL_REQ",
		Fixed: []Field{
			u32("InvokeID"),
			u32("PeripheralID"),
			u32("ConnectionCallID"),
			u16("ConnectionDeviceIDType").enum("ConnectionDeviceIDType"),
		},
		Floats: []Float{req("ConnectionDeviceID", 25)}},
	{Type: 83, Name: "SNAPSHOT_CALL_CONF",
		Fixed: []Field{
			u32("InvokeID"),
			u16("CallType").enum("CallType"),
			u16("NumCTIClients"),
			u16("NumCallDevices").note("≤ 16"),
			u16("NumNamedVariables").since(6),
			u16("NumNamedArrays").since(6),
			u16("CalledPartyDisposition").since(8),
		},
		Floats: floats(
			opt("ANI", 8),
			opt("UserToUserInfo", 9),
			opt("DNIS", 10),
			opt("DialedNumber", 11),
			opt("CallerEnteredDigits", 12),
			opt("RouterCallKeyDay", 72),
			opt("RouterCallKeyCallID", 73),
			callVars(),
			opt("CallWrapupData", 46),
			namedVars(),
			ctiClients(),
			group("CallDevices", "CallDevice", "NumCallDevices", statusBadFormat,
				rep("CallConnectionCallID", 56),
				rep("CallConnectionDeviceIDType", 57).enum("ConnectionDeviceIDType"),
				rep("CallConnectionDeviceID", 58),
				opt("CallDeviceType", 59).enum("DeviceIDType"),
				opt("CallDeviceID", 60),
				rep("CallDeviceConnectionState", 61).enum("LocalConnectionState")),
			opt("CallReferenceID", 223),
			opt("COCConnectionCallID", 229),
			opt("COCCallConnectionDeviceIDType", 230).enum("ConnectionDeviceIDType"),
			opt("COCConnectionDeviceID", 231),
			opt("ProtocolReferenceGUID", 294).typ(UNSPEC).note("type not documented; kept as opaque bytes"),
			opt("CcaiConfigId", 311),
			opt("NumOfEnabledServices", 310),
			group("FltEnabledServices", "", "NumOfEnabledServices", statusBadFormat, rep("FltEnabledService", 309)),
		)},
	{Type: 84, Name: "SNAPSHOT_DEVICE_REQ",
		Fixed:  []Field{u32("InvokeID"), u32("PeripheralID"), dev("SnapshotDeviceType")},
		Floats: []Float{opt("AgentInstrument", 6)}},
	{Type: 85, Name: "SNAPSHOT_DEVICE_CONF",
		Fixed: []Field{u32("InvokeID"), u16("NumCalls").note("≤ 16")},
		Floats: group("Calls", "DeviceCall", "NumCalls", statusBadFormat,
			rep("CallConnectionCallID", 56),
			rep("CallConnectionDeviceIDType", 57).enum("ConnectionDeviceIDType"),
			rep("CallConnectionDeviceID", 58),
			rep("CallState", 75).enum("LocalConnectionState"),
			opt("SilentMonitorStatus", 218).enum("SilentMonitorStatus"))},
	{Type: 93, Name: "MONITOR_START_REQ",
		Note: "call monitor: ConnectionCallID/ConnectionDeviceID set, MonitoredDeviceType DEVID_NONE; device monitor: ConnectionCallID 0, ConnectionDeviceIDType CONNECTION_ID_NONE, MonitoredDeviceID set",
		Fixed: []Field{
			u32("InvokeID"),
			u32("PeripheralID"),
			u32("ConnectionCallID"),
			u32("CallMsgMask").enum("CallEventMask"),
			u32("AgentStateMask").enum("AgentStateMask"),
			u16("ConnectionDeviceIDType").enum("ConnectionDeviceIDType"),
			dev("MonitoredDeviceType"),
		},
		Floats: []Float{opt("ConnectionDeviceID", 25), opt("MonitoredDeviceID", 76)}},
	invokeAnd(94, "MONITOR_START_CONF", u32("MonitorID")),
	invokeAnd(95, "MONITOR_STOP_REQ", u32("MonitorID")),
	invokeOnly(96, "MONITOR_STOP_CONF"),
	invokeAnd(97, "CHANGE_MONITOR_MASK_REQ", u32("MonitorID"), u32("CallMsgMask").enum("CallEventMask"), u32("AgentStateMask").enum("AgentStateMask")),
	invokeOnly(98, "CHANGE_MONITOR_MASK_CONF"),
	{Type: 99, Name: "CLIENT_SESSION_OPENED_EVENT",
		Fixed: []Field{
			u32("SessionID"),
			u32("PeripheralID"),
			u32("ServicesGranted").enum("ServiceMask"),
			u32("CallMsgMask").enum("CallEventMask"),
			u32("AgentStateMask").enum("AgentStateMask"),
			u32("ClientPort"),
		},
		Floats: clientSessionFloats()},
	{Type: 100, Name: "CLIENT_SESSION_CLOSED_EVENT",
		Fixed:  []Field{u32("SessionID"), u32("PeripheralID"), u32("Status").enum("Status"), u32("ClientPort")},
		Floats: clientSessionFloats()},
	invokeAnd(101, "SESSION_MONITOR_START_REQ", u32("SessionID")),
	invokeAnd(102, "SESSION_MONITOR_START_CONF", u32("MonitorID")),
	invokeAnd(103, "SESSION_MONITOR_STOP_REQ", u32("MonitorID")),
	invokeOnly(104, "SESSION_MONITOR_STOP_CONF"),
	{Type: 107, Name: "USER_MESSAGE_REQ",
		Fixed:  []Field{u32("InvokeID"), u32("PeripheralID"), u16("Distribution").enum("Distribution")},
		Floats: floats(opt("ClientID", 1), agentIdents(), req("Text", 7))},
	invokeOnly(108, "USER_MESSAGE_CONF"),
	{Type: 109, Name: "USER_MESSAGE_EVENT",
		Fixed:  []Field{tm("ICMCentralControllerTime"), u16("Distribution").enum("Distribution")},
		Floats: []Float{opt("ClientID", 1), req("Text", 7)}},
	{Type: 110, Name: "REGISTER_VARIABLES_REQ",
		Note: "the values of the named variables and arrays are ignored; without registration a client receives all variables",
		Fixed: []Field{
			u32("InvokeID"),
			u16("CallVariableMask").enum("CallVariableMask"),
			u16("NumNamedVariables"),
			u16("NumNamedArrays"),
		},
		Floats: namedVars()},
	// §8 #8: the PV25 body text prints 118 for the CONF; the message table's
	// 111 is used (spec.MessageTypes).
	invokeOnly(111, "REGISTER_VARIABLES_CONF"),
	{Type: 112, Name: "QUERY_AGENT_STATISTICS_REQ",
		Fixed:  []Field{u32("InvokeID"), u32("PeripheralID")},
		Floats: agentIdents()},
	{Type: 113, Name: "QUERY_AGENT_STATISTICS_CONF",
		Note:   "§3.2: 42 session counters then the same 42 for today (344-byte fixed body); not cross-checked against a capture",
		Fixed:  fields(u32("InvokeID"), u32("PeripheralID"), statsFields("Session"), statsFields("Today")),
		Floats: agentIdents()},
	assistReq(118, "SUPERVISOR_ASSIST_REQ"),
	assistConf(119, "SUPERVISOR_ASSIST_CONF"),
	assistReq(121, "EMERGENCY_CALL_REQ"),
	assistConf(122, "EMERGENCY_CALL_CONF"),
	{Type: 123, Name: "EMERGENCY_CALL_EVENT",
		Fixed: []Field{
			u32("PeripheralID"),
			u32("ConnectionCallID"),
			u16("ConnectionDeviceIDType").enum("ConnectionDeviceIDType"),
			u32("SessionID"),
		},
		Floats: floats(opt("ConnectionDeviceID", 25), opt("ClientID", 1), opt("ClientAddress", 81), agentIdents())},
	{Type: 124, Name: "SUPERVISE_CALL_REQ",
		Fixed: []Field{
			u32("InvokeID"),
			u32("PeripheralID"),
			u32("AgentConnectionCallID").note("0xFFFFFFFF = the agent's current call"),
			u32("SupervisorConnectionCallID").note("0xFFFFFFFF = none"),
			u16("AgentConnectionDeviceIDType").enum("ConnectionDeviceIDType"),
			u16("SupervisorConnectionDeviceIDType").enum("ConnectionDeviceIDType"),
			u16("SupervisoryAction").enum("SupervisoryAction"),
		},
		Floats: floats(
			opt("AgentConnectionDeviceID", 90),
			opt("SupervisorConnectionDeviceID", 91),
			agentIdents(),
			opt("SupervisorInstrument", 85),
		)},
	{Type: 125, Name: "SUPERVISE_CALL_CONF",
		Fixed: []Field{
			u32("InvokeID"),
			u32("ConnectionCallID"),
			u16("ConnectionDeviceIDType").enum("ConnectionDeviceIDType"),
		},
		Floats: []Float{opt("ConnectionDeviceID", 25)}},
	{Type: 129, Name: "SET_APP_DATA_REQ",
		Fixed: []Field{u32("InvokeID")},
		Floats: floats(
			opt("ApplicationPathID", 97),
			callVars(),
			opt("FltCallTypeID", 210),
			opt("PreCallInvokeID", 221),
		)},
	invokeOnly(130, "SET_APP_DATA_CONF"),
	invokeAnd(133, "LIST_AGENT_TEAM_REQ", u32("SupervisorID")),
	{Type: 134, Name: "LIST_AGENT_TEAM_CONF",
		Fixed: []Field{u32("InvokeID"), u16("NumberOfAgentTeams"), u16("SegmentNumber"), u16("More")},
		Floats: group("TeamIDs", "", "NumberOfAgentTeams", statusBadFormat,
			rep("TeamID", 92))},
	invokeAnd(135, "MONITOR_AGENT_TEAM_START_REQ", u32("TeamID")),
	invokeAnd(136, "MONITOR_AGENT_TEAM_START_CONF", u32("MonitorID")),
	invokeAnd(137, "MONITOR_AGENT_TEAM_STOP_REQ", u32("MonitorID")),
	invokeOnly(138, "MONITOR_AGENT_TEAM_STOP_CONF"),
	{Type: 139, Name: "BAD_CALL_REQ",
		Note: "§3.2: ConnectionDeviceIDType comes before ConnectionCallID",
		Fixed: []Field{
			u32("InvokeID"),
			u32("PeripheralID"),
			u16("ConnectionDeviceIDType").enum("ConnectionDeviceIDType"),
			u32("ConnectionCallID"),
		},
		Floats: []Float{req("ConnectionDeviceID", 25), opt("AgentID", 5)}},
	invokeOnly(140, "BAD_CALL_CONF"),
	{Type: 141, Name: "SET_DEVICE_ATTRIBUTES_REQ",
		Note: "CallingDeviceID must be in the Dialer_Port_Map table",
		Fixed: []Field{
			u32("InvokeID"),
			u32("PeripheralID"),
			u32("ServiceNumber"),
			u32("ServiceID"),
			u32("SkillGroupNumber"),
			u32("SkillGroupID"),
			u16("SkillGroupPriority"),
			u16("CallType").enum("CallType"),
			dev("CallingDeviceType"),
		},
		Floats: []Float{req("CallingDeviceID", 27)}},
	invokeOnly(142, "SET_DEVICE_ATTRIBUTES_CONF"),
	{Type: 143, Name: "REGISTER_SERVICE_REQ",
		Fixed:  []Field{u32("InvokeID"), u16("ServerMode").enum("ServerMode")},
		Floats: []Float{req("ServiceName", 94)}},
	invokeAnd(144, "REGISTER_SERVICE_CONF", u32("RegisteredServiceID")),
	invokeAnd(145, "UNREGISTER_SERVICE_REQ", u32("RegisteredServiceID")),
	invokeOnly(146, "UNREGISTER_SERVICE_CONF"),
	{Type: 148, Name: "START_RECORDING_CONF",
		Fixed:  []Field{u32("InvokeID"), u32("SessionID"), u32("ServerData")},
		Floats: []Float{opt("ClientID", 1), opt("ClientAddress", 81)}},
	{Type: 248, Name: "CALL_AGENT_GREETING_EVENT",
		// §3.2 lists a GreetingType float (≤ 32) whose tag number appears in
		// no tag table: unknown tags are skipped in this message.
		IgnoreUnknownTagsFrom: 15,
		Note:                  "GreetingType (≤ 32) has no known tag and is skipped",
		Fixed: []Field{
			u32("MonitorID"),
			u32("PeripheralID"),
			u16("ConnectionDeviceIDType").enum("ConnectionDeviceIDType"),
			u32("ConnectionCallID"),
			u16("EventCode").enum("GreetingEventCode"),
			u32("PeripheralErrorCode"),
		},
		Floats: []Float{opt("ConnectionDeviceID", 25), opt("AgentID", 5)}},
	{Type: 249, Name: "AGENT_GREETING_CONTROL_REQ",
		Fixed:  []Field{u32("InvokeID"), u32("PeripheralID"), u16("AgentAction").enum("GreetingAction")},
		Floats: []Float{req("AgentID", 5)}},
	invokeOnly(250, "AGENT_GREETING_CONTROL_CONF"),
	// §5.10 (PV24 active/standby). STANDBY_ACTIVE_EVENT_MSG (277) and
	// STOPPING_REQUESTS_TO_THIS_SIDE_IND (281) have no documented fields and
	// stay raw (NoLayouts).
	invokeOnly(278, "ACTIVE_MAINTENANCE_REQ_MSG"),
	invokeAnd(279, "ACTIVE_MAINTENANCE_RESP_MSG", boolean("MaintenanceModeAccepted").note("§5.10; silence within 5 s = refusal")),
	{Type: 280, Name: "ACTIVE_MAINTENANCE_EVENT_MSG",
		Note:  "§5.10: a single BOOL (continue / cancel); field name ours",
		Fixed: []Field{boolean("MaintenanceContinue")}},
}
