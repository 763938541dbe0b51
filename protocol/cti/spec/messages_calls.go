// Message layouts of priority (1) of issue 3: call events and call-control
// requests (§3.1, §3.2). Data only.

package spec

const statusNumParties = 30 // E_CTI_INVALID_NUM_PARTIES

func init() { Messages = append(Messages, callMessages...) }

// connectedParties: §3.2 CALL_CONFERENCED_EVENT — NumParties × [call id,
// device id type, device id].
func connectedParties() []Float {
	return group("ConnectedParties", "ConnectedParty", "NumParties", statusNumParties,
		rep("ConnectedPartyCallID", 39),
		rep("ConnectedPartyDeviceIDType", 40).enum("ConnectionDeviceIDType"),
		rep("ConnectedPartyDeviceID", 41))
}

// skillGroupTriplets: §3.1 CALL_QUEUED_EVENT — 62 (INT) / 63 / 64 in order.
func skillGroupTriplets() []Float {
	return group("SkillGroups", "SkillGroupTriplet", "NumSkillGroups", statusNumSkillGroups,
		rep("SkillGroupNumber", 62).typ(INT),
		rep("SkillGroupID", 63),
		rep("SkillGroupPriority", 64))
}

// callSetupFixed is the CallPlacementType … PostRoute run shared by
// MAKE_CALL_REQ and the CONFERENCE/CONSULTATION/TRANSFER requests (§3.2).
func callSetupFixed(consult bool) []Field {
	out := []Field{
		u16("CallPlacementType").enum("CallPlacementType"),
		u16("CallMannerType").enum("CallMannerType"),
	}
	if consult {
		out = append(out, u16("ConsultType").enum("ConsultType"))
	}
	return append(out,
		u16("AlertRings"),
		u16("CallOption").enum("CallOption"),
		u16("FacilityType").enum("FacilityType"),
		u16("AnsweringMachine").enum("AnsweringMachine"),
		boolean("Priority"),
		boolean("PostRoute"),
		u16("NumNamedVariables").since(6),
		u16("NumNamedArrays").since(6),
	)
}

// callSetupFloats: §3.2 CONFERENCE/CONSULTATION/TRANSFER_CALL_REQ. The
// held call is named by HeldConnectionDeviceID, or (single step) the
// target by DialedNumber: both optional.
func callSetupFloats(held bool) []Float {
	var out []Float
	out = append(out, req("ActiveConnectionDeviceID", 50))
	if held {
		out = append(out, opt("HeldConnectionDeviceID", 53))
	}
	return floats(out,
		opt("DialedNumber", 11),
		opt("AgentInstrument", 6),
		opt("UserToUserInfo", 9),
		callVars(),
		opt("CallWrapupData", 46),
		namedVars(),
		opt("FacilityCode", 51),
		opt("AuthorizationCode", 77),
		opt("AccountCode", 78),
	)
}

// newCallConf: §3.2 CONFERENCE_CALL_CONF / TRANSFER_CALL_CONF.
func newCallConf(t uint32, name string) Message {
	return Message{Type: t, Name: name,
		Fixed: []Field{
			u32("InvokeID"),
			u32("NewConnectionCallID"),
			u16("NewConnectionDeviceIDType").enum("ConnectionDeviceIDType"),
			u16("NumParties"),
			u16("LineHandle"),
			lineType(),
		},
		Floats: floats(req("NewConnectionDeviceID", 47), connectedParties())}
}

// rtpFloats: §3.2 RTP_STARTED_EVENT / RTP_STOPPED_EVENT.
func rtpFloats() []Float {
	return []Float{
		req("ConnectionDeviceID", 25),
		opt("ClientAddress", 81),
		opt("AgentID", 5),
		opt("AgentExtension", 4),
		opt("AgentInstrument", 6),
		opt("SendingAddress", 125),
		opt("SendingPort", 126),
	}
}

var callMessages = []Message{
	{Type: 17, Name: "CALL_CONFERENCED_EVENT",
		Fixed: []Field{
			u32("MonitorID"),
			u32("PeripheralID"),
			u16("PeripheralType").enum("PeripheralType"),
			u16("PrimaryDeviceIDType").enum("ConnectionDeviceIDType"),
			u32("PrimaryCallID"),
			u16("LineHandle"), lineType(),
			u32("SkillGroupNumber"), u32("SkillGroupID"), u16("SkillGroupPriority"),
			u16("NumParties").note("≤ 16"),
			u16("SecondaryDeviceIDType").enum("ConnectionDeviceIDType"),
			u32("SecondaryCallID"),
			dev("ControllerDeviceType"), dev("AddedPartyDeviceType"),
			lcs(), cause(),
		},
		Floats: floats(
			req("PrimaryDeviceID", 35),
			req("SecondaryDeviceID", 36),
			opt("ControllerDeviceID", 37),
			opt("AddedPartyDeviceID", 38),
			connectedParties(),
		)},
	{Type: 18, Name: "CALL_TRANSFERRED_EVENT",
		Fixed: []Field{
			u32("MonitorID"),
			u32("PeripheralID"),
			u16("PeripheralType").enum("PeripheralType"),
			u16("PrimaryDeviceIDType").enum("ConnectionDeviceIDType"),
			u32("PrimaryCallID"),
			u16("LineHandle"), lineType(),
			u32("SkillGroupNumber"), u32("SkillGroupID"), u16("SkillGroupPriority"),
			u16("NumParties").note("≤ 16"),
			u16("SecondaryDeviceIDType").enum("ConnectionDeviceIDType"),
			u32("SecondaryCallID"),
			dev("TransferringDeviceType"), dev("TransferredDeviceType"),
			lcs(), cause(),
		},
		Floats: floats(
			req("PrimaryDeviceID", 35),
			req("SecondaryDeviceID", 36),
			opt("TransferringDeviceID", 42),
			opt("TransferredDeviceID", 43),
			connectedParties(),
		)},
	{Type: 19, Name: "CALL_DIVERTED_EVENT",
		Fixed: fields(callHead(),
			u32("ServiceNumber"), u32("ServiceID"),
			dev("DivertingDeviceType"), dev("CalledDeviceType"),
			lcs(), cause()),
		Floats: []Float{req("ConnectionDeviceID", 25), opt("DivertingDeviceID", 44), opt("CalledDeviceID", 28)}},
	{Type: 20, Name: "CALL_SERVICE_INITIATED_EVENT",
		Fixed: fields(callHead(),
			u16("LineHandle"), lineType(),
			u32("ServiceNumber"), u32("ServiceID"),
			u32("SkillGroupNumber"), u32("SkillGroupID"), u16("SkillGroupPriority"),
			dev("CallingDeviceType"),
			lcs(), cause()),
		Floats: []Float{
			req("ConnectionDeviceID", 25),
			opt("CallingDeviceID", 27),
			opt("CallReferenceID", 223),
			opt("COCConnectionCallID", 229),
			opt("COCCallConnectionDeviceIDType", 230).enum("ConnectionDeviceIDType"),
			opt("COCConnectionDeviceID", 231),
		}},
	{Type: 21, Name: "CALL_QUEUED_EVENT",
		Note: "§3.1: 40-byte fixed body; not generated by a UCCE peripheral",
		Fixed: fields(callHead(),
			u32("ServiceNumber"), u32("ServiceID"),
			dev("QueueDeviceType"), dev("CallingDeviceType"), dev("CalledDeviceType"), dev("LastRedirectDeviceType"),
			u16("NumQueued"),
			u16("NumSkillGroups").note("≤ 20"),
			lcs(), cause()),
		Floats: floats(
			req("ConnectionDeviceID", 25),
			opt("QueueDeviceID", 45),
			opt("CallingDeviceID", 27),
			opt("CalledDeviceID", 28),
			opt("LastRedirectDeviceID", 29),
			skillGroupTriplets(),
			opt("PriorityQueueNumber", 203).note("§4.17 lists CALL_QUEUED_EVENT as its user; not in the §3.1 layout, type undocumented"),
		)},
	{Type: 22, Name: "CALL_TRANSLATION_ROUTE_EVENT",
		Fixed: []Field{u16("NumNamedVariables").since(6), u16("NumNamedArrays").since(6)},
		Floats: floats(
			opt("ANI", 8),
			opt("UserToUserInfo", 9),
			req("DNIS", 10),
			opt("DialedNumber", 11),
			opt("CallerEnteredDigits", 12),
			routerCallKey(),
			callVars(),
			namedVars(),
		)},
	{Type: 40, Name: "ALTERNATE_CALL_REQ",
		Fixed: []Field{
			u32("InvokeID"),
			u32("PeripheralID"),
			u32("ActiveConnectionCallID"),
			u32("OtherConnectionCallID"),
			u16("ActiveConnectionDeviceIDType").enum("ConnectionDeviceIDType"),
			u16("OtherConnectionDeviceIDType").enum("ConnectionDeviceIDType"),
		},
		Floats: []Float{req("ActiveConnectionDeviceID", 50), req("OtherConnectionDeviceID", 52), opt("AgentInstrument", 6)}},
	invokeOnly(41, "ALTERNATE_CALL_CONF"),
	{Type: 46, Name: "CLEAR_CONNECTION_REQ",
		// §8 #9 (the one place this choice is made): the message table puts
		// RequestingDeviceIDType in the fixed part (PV14+), while [SC]/[HS]
		// and the tag table carry it as floating tag 220. Working assumption:
		// fixed field per the message table, and tag 220 is tolerated (kept
		// in FltRequestingDeviceIDType). A PV14+ peer that sends the 14-byte
		// fixed part of §3.1 is therefore misparsed - L.
		Note: "§8 #9: RequestingDeviceIDType fixed (PV14+); floating tag 220 tolerated as FltRequestingDeviceIDType",
		Fixed: []Field{
			u32("InvokeID"),
			u32("PeripheralID"),
			u32("ConnectionCallID"),
			u16("ConnectionDeviceIDType").enum("ConnectionDeviceIDType"),
			u16("RequestingDeviceIDType").since(14).note("§8 #9"),
		},
		Floats: []Float{
			req("ConnectionDeviceID", 25),
			opt("AgentInstrument", 6),
			opt("RequestingDeviceID", 219),
			opt("FltRequestingDeviceIDType", 220).note("§8 #9: tolerated; the fixed RequestingDeviceIDType is authoritative"),
		}},
	invokeOnly(47, "CLEAR_CONNECTION_CONF"),
	{Type: 48, Name: "CONFERENCE_CALL_REQ",
		Fixed: fields(
			u32("InvokeID"),
			u32("PeripheralID"),
			u32("HeldConnectionCallID"),
			u32("ActiveConnectionCallID"),
			u16("HeldConnectionDeviceIDType").enum("ConnectionDeviceIDType"),
			u16("ActiveConnectionDeviceIDType").enum("ConnectionDeviceIDType"),
			callSetupFixed(false),
		),
		Floats: callSetupFloats(true)},
	newCallConf(49, "CONFERENCE_CALL_CONF"),
	{Type: 50, Name: "CONSULTATION_CALL_REQ",
		Note: "not allowed on a call that is already held",
		Fixed: fields(
			u32("InvokeID"),
			u32("PeripheralID"),
			u32("ActiveConnectionCallID"),
			u16("ActiveConnectionDeviceIDType").enum("ConnectionDeviceIDType"),
			callSetupFixed(true),
		),
		Floats: callSetupFloats(false)},
	{Type: 51, Name: "CONSULTATION_CALL_CONF",
		Fixed: []Field{
			u32("InvokeID"),
			u32("NewConnectionCallID"),
			u16("NewConnectionDeviceIDType").enum("ConnectionDeviceIDType"),
			u16("LineHandle"),
			lineType(),
		},
		Floats: []Float{req("NewConnectionDeviceID", 47)}},
	{Type: 52, Name: "DEFLECT_CALL_REQ",
		Fixed: []Field{
			u32("InvokeID"),
			u32("PeripheralID"),
			u32("ConnectionCallID"),
			u16("ConnectionDeviceIDType").enum("ConnectionDeviceIDType"),
			dev("CalledDeviceType"),
		},
		Floats: []Float{req("ConnectionDeviceID", 25), req("CalledDeviceID", 28), opt("AgentInstrument", 6)}},
	invokeOnly(53, "DEFLECT_CALL_CONF"),
	{Type: 60, Name: "RECONNECT_CALL_REQ",
		Note: "clears the active call and retrieves the held one",
		Fixed: []Field{
			u32("InvokeID"),
			u32("PeripheralID"),
			u32("ActiveConnectionCallID"),
			u32("HeldConnectionCallID"),
			u16("ActiveConnectionDeviceIDType").enum("ConnectionDeviceIDType"),
			u16("HeldConnectionDeviceIDType").enum("ConnectionDeviceIDType"),
		},
		Floats: []Float{req("ActiveConnectionDeviceID", 50), req("HeldConnectionDeviceID", 53), opt("AgentInstrument", 6)}},
	invokeOnly(61, "RECONNECT_CALL_CONF"),
	{Type: 64, Name: "TRANSFER_CALL_REQ",
		Note: "single-step (blind): HeldConnectionCallID 0xFFFFFFFF, HeldConnectionDeviceIDType CONNECTION_ID_NONE, DialedNumber set",
		Fixed: fields(
			u32("InvokeID"),
			u32("PeripheralID"),
			u32("ActiveConnectionCallID"),
			u32("HeldConnectionCallID"),
			u16("ActiveConnectionDeviceIDType").enum("ConnectionDeviceIDType"),
			u16("HeldConnectionDeviceIDType").enum("ConnectionDeviceIDType"),
			callSetupFixed(false),
		),
		Floats: callSetupFloats(true)},
	newCallConf(65, "TRANSFER_CALL_CONF"),
	{Type: 86, Name: "CALL_DEQUEUED_EVENT",
		Note: "NumSkillGroups 0 = removed from all queues",
		Fixed: fields(callHead(),
			dev("QueueDeviceType"),
			u32("ServiceNumber"), u32("ServiceID"),
			u16("NumQueued"),
			u16("NumSkillGroups"),
			lcs(), cause()),
		Floats: floats(
			req("ConnectionDeviceID", 25),
			skillGroupTriplets(),
			opt("DequeueType", 124).note("§4.17 only; type undocumented"),
		)},
	{Type: 91, Name: "SEND_DTMF_SIGNAL_REQ",
		Fixed: []Field{
			u32("InvokeID"),
			u32("PeripheralID"),
			u32("ConnectionCallID"),
			u16("ConnectionDeviceIDType").enum("ConnectionDeviceIDType"),
			u16("ToneDuration").note("ms"),
			// §3 version table: "PauseDuration USHORT→UINT" in PV10-13 (ICM
			// 7.x); the change is placed at the first version of that range.
			{Name: "PauseDuration", Type: UINT, OldType: USHORT, OldUntil: 10, Note: "ms"},
		},
		Floats: []Float{req("ConnectionDeviceID", 25), req("DTMFString", 67), opt("AgentInstrument", 6)}},
	invokeOnly(92, "SEND_DTMF_SIGNAL_CONF"),
	{Type: 116, Name: "RTP_STARTED_EVENT",
		Fixed: []Field{
			u32("MonitorID"),
			u32("PeripheralID"),
			u32("ClientPort"),
			u16("Direction").enum("RTPDirection"),
			u16("RTPType").enum("RTPType"),
			u32("BitRate"),
			u16("EchoCancellation"),
			u32("PacketSize").note("ms"),
			u16("PayloadType"),
			u16("ConnectionDeviceIDType").enum("ConnectionDeviceIDType"),
			u32("ConnectionCallID"),
		},
		Floats: rtpFloats()},
	{Type: 117, Name: "RTP_STOPPED_EVENT",
		Fixed: []Field{
			u32("MonitorID"),
			u32("PeripheralID"),
			u32("ClientPort"),
			u16("Direction").enum("RTPDirection"),
			u16("ConnectionDeviceIDType").enum("ConnectionDeviceIDType"),
			u32("ConnectionCallID"),
		},
		Floats: rtpFloats()},
}
