// Layouts of the CONFIG_*_EVENT record messages (§3.2, §7, §4.17). Data
// only.
//
// §3.2 gives only "NumRecords S (≤ 10) then per-record floating fields".
// Each record is modelled as one element of the repeated group Records
// that starts with RecordType (183):
//   - CONFIG_SKILL_GROUP_EVENT and CONFIG_AGENT_EVENT: the members and
//     their order are those of the real PV15 capture (§7, H for the bytes);
//     the members after the captured ones come from the "used in" column of
//     §4.17 (L).
//   - the other CONFIG_* events: members inferred from §4.17 only (L).
// Because the record contents are partly inferred, these messages skip
// floating tags they do not list instead of rejecting them
// (IgnoreUnknownTagsFrom 1); members must still arrive in the listed order.

package spec

func init() { Messages = append(Messages, configMessages...) }

const configRecordsNote = "records modelled as a group starting with RecordType (183); unlisted tags are skipped"

// configRecords is the Records group: RecordType (183) starts a record,
// members follows in wire order.
func configRecords(elemType string, members ...Float) []Float {
	return group("Records", elemType, "NumRecords", statusBadFormat,
		append([]Float{rep("RecordType", 183).enum("RecordType")}, members...)...)
}

// nested marks members as the nested list sub of a record, counted by the
// record member count.
func nested(sub, subType, count string, members ...Float) []Float {
	out := make([]Float, len(members))
	for i, m := range members {
		m.Presence = Repeated
		m.Sub, m.SubType, m.SubCount = sub, subType, count
		out[i] = m
	}
	return out
}

func configMessage(t uint32, name, elemType string, members ...any) Message {
	return Message{Type: t, Name: name,
		IgnoreUnknownTagsFrom: 1,
		Note:                  configRecordsNote,
		Fixed:                 []Field{u16("NumRecords").note("≤ 10")},
		Floats:                configRecords(elemType, floats(members...)...)}
}

var configMessages = []Message{
	configMessage(235, "CONFIG_SERVICE_EVENT", "ConfigServiceRecord",
		opt("PeripheralID", 208),
		opt("PeripheralNumber", 184),
		opt("ServiceSkillTargetID", 132),
		opt("PeripheralName", 133),
		opt("Description", 134),
		opt("Extension", 173),
		opt("ServiceLevelThreshold", 174),
		opt("ServiceLevelType", 175),
		opt("ConfigParam", 176),
		opt("MaxQueued", 129),
		opt("NumServiceMembers", 186),
		nested("ServiceMembers", "ServiceMember", "NumServiceMembers",
			rep("ServiceMemberSkillTargetID", 187),
			rep("ServicePriority", 188)),
		opt("OldPeripheralNumber", 213),
		opt("MRDomainID", 216),
	),
	configMessage(236, "CONFIG_SKILL_GROUP_EVENT", "ConfigSkillGroupRecord",
		// §7 capture order: 183 208 184 64 192 185 173 133 134 216 176.
		opt("PeripheralID", 208),
		opt("PeripheralNumber", 184),
		opt("SkillGroupPriority", 64),
		opt("SkillGroupSkillTargetID", 192),
		opt("AgentSkillTargetID", 185).typ(USHORT).note("2 bytes in the §7 capture (the tag table says UINT); meaning in a skill-group record unknown"),
		opt("Extension", 173),
		opt("PeripheralName", 133).note("the skill group's name in the capture"),
		opt("Description", 134),
		opt("MRDomainID", 216),
		opt("ConfigParam", 176),
		// Inferred from §4.17 (L).
		opt("ServiceMemberID", 135),
		opt("ServiceMemberPriority", 136),
		opt("OldPeripheralNumber", 213),
		opt("FltPrecisionQueueID", 264),
		opt("FltPrecisionQueueName", 265),
	),
	configMessage(237, "CONFIG_AGENT_EVENT", "ConfigAgentRecord",
		// §7 capture order: 183 208 189 190 207 138 137 173 134 141 191
		// (62 64) × NumSkills.
		opt("PeripheralID", 208),
		opt("AgentType", 189).enum("AgentType"),
		opt("LoginID", 190).note("2 bytes in the §7 capture; STRING per the tag table"),
		opt("LoginName", 207),
		opt("LastName", 138),
		opt("FirstName", 137),
		opt("Extension", 173),
		opt("Description", 134),
		opt("AgentSkillTargetID", 141),
		opt("NumSkills", 191),
		nested("Skills", "SkillGroupPriorityPair", "NumSkills",
			rep("SkillGroupNumber", 62).typ(INT),
			rep("SkillGroupPriority", 64)),
		// Inferred from §4.17 (L).
		opt("SkillGroup", 139),
		opt("AgentSkillTargetID2", 185),
		opt("PeripheralNumber", 184),
		opt("CurLoginID", 214),
		opt("SSOEnabled", 257),
		opt("NumMRDs", 261),
		nested("MRDs", "AgentMRD", "NumMRDs",
			rep("FltAgentMRDID", 262),
			rep("FltAgentMRDState", 263).enum("AgentState")),
		opt("AgentDeskSettingsID", 267),
		opt("ActiveTerminal", 303),
		opt("OldPeripheralNumber", 213),
		opt("MRDomainID", 216),
	),
	configMessage(238, "CONFIG_DEVICE_EVENT", "ConfigDeviceRecord",
		opt("PeripheralID", 208),
		opt("PeripheralNumber", 184),
		opt("DeviceType", 195).enum("DeviceIDType"),
		opt("Extension", 173),
		opt("ServiceID", 193),
		opt("MaxQueued", 129),
		opt("PeripheralName", 133),
		opt("Description", 134),
		opt("OldPeripheralNumber", 213),
		opt("MRDomainID", 216),
	),
	configMessage(245, "CONFIG_CALL_TYPE_EVENT", "ConfigCallTypeRecord",
		opt("CallTypeID", 210),
		opt("CustomerDefinitionID", 211),
		opt("EnterpriseName", 212),
		opt("Description", 134),
	),
	configMessage(254, "CONFIG_MRD_EVENT", "ConfigMRDRecord",
		opt("MRDomainID", 216),
		opt("EnterpriseName", 212),
		opt("Description", 134),
		opt("MaxTaskDuration", 250),
		opt("Interruptible", 251),
		// §4.17 "config (internal)" tags, types undocumented.
		opt("FltMRDID", 246),
		opt("MediaClassID", 247),
		opt("TaskLife", 248),
		opt("TaskStartTimeout", 249),
		opt("MaxCallsInQueue", 252),
		opt("MaxCallsInQueuePerCallType", 253),
		opt("MaxTimeInQueue", 254),
	),
	configMessage(260, "CONFIG_PERIPHERAL_EVENT", "ConfigPeripheralRecord",
		opt("ConfigPeripheralID", 271),
		opt("PeripheralName", 133),
		opt("Description", 134),
		opt("DefaultAgentDeskSettingsID", 272),
	),
	configMessage(261, "CONFIG_AGENT_DESK_SETTINGS_EVENT", "ConfigAgentDeskSettingsRecord",
		opt("AgentDeskSettingsID", 267),
		opt("FltDeskSettingsMask", 273),
		opt("FltWrapUpDataIncomingMode", 274),
		opt("FltWrapUpDataOutgoingMode", 275),
		opt("FltLogoutNonActivityTime", 276),
		opt("FltQualityRecordingRate", 277),
		opt("FltRingNoAnswerTime", 278),
		opt("FltSilentMonitorWarningMessage", 279),
		opt("FltSilentMonitorAudibleIndication", 280),
		opt("FltSupervisorAssistCallMethod", 281),
		opt("FltEmergencyCallMethod", 282),
		opt("FltAutoRecordOnEmergency", 283),
		opt("FltRecordingMode", 284),
		opt("FltWorkModeTimer", 285),
		opt("FltRingNoAnswerDNID", 286),
		opt("FltDefaultDevicePortAddress", 287),
		opt("ACDSharedLineUsage", 306),
		opt("PlayZipTone", 307),
	),
	configMessage(276, "CONFIG_TERMINAL_EVENT", "ConfigTerminalRecord",
		opt("FltTermType", 302),
		opt("FltTermDeviceName", 303),
		opt("FltTermTypeName", 304),
		opt("FltNumInstruments", 305),
	),
}
