// Message types of §2 that deliberately have no layout. Data only.

package spec

// NoLayouts lists every §2 message type that is carried as a raw message
// (body kept verbatim) and why: §3.1/§3.2 (and §5.10) give no field layout
// for it. TestNoLayoutsListed keeps this list and spec.Messages disjoint
// and together complete.
var NoLayouts = concatNoLayouts(
	one(120, "SUPERVISOR_ASSIST_EVENT: §3.2 says \"layout not captured in our reading\""),
	one(126, "AGENT_TEAM_CONFIG_REQ: §3.2 describes only AGENT_TEAM_CONFIG_EVENT (128)"),
	one(127, "AGENT_TEAM_CONFIG_CONF: §3.2 describes only AGENT_TEAM_CONFIG_EVENT (128)"),
	one(147, "START_RECORDING_REQ: §3.2 only says \"see [G25-ALI]\" (only the CONF 148 is given)"),
	one(149, "STOP_RECORDING_REQ: §3.2 only says \"see [G25-ALI]\""),
	one(150, "STOP_RECORDING_CONF: §3.2 only says \"see [G25-ALI]\""),
	span(151, 210, "ARM / media-routing task message (MEDIA_LOGIN … TASK_INIT_RESP): no layout in §3"),
	span(211, 215, "ROUTE_* message: no layout in §3"),
	one(240, "CALL_ATTRIBUTE_CHANGE_EVENT: described without a layout (and with a disputed number, §8 #5)"),
	span(242, 244, "TEAM_CONFIG_*: no layout in §3 (numbers disputed, §8 #4)"),
	span(255, 258, "agent task / snapshot task message: no layout in §3"),
	span(262, 266, "agent task message / DESKTOP_CONNECTED_IND: no layout in §3"),
	span(267, 274, "network recording message (PV23): no layout in §3, numbers disputed (§8 #3)"),
	one(277, "STANDBY_ACTIVE_EVENT_MSG: §5.10 names it but documents no fields"),
	one(281, "STOPPING_REQUESTS_TO_THIS_SIDE_IND: §5.10 names it but documents no fields"),
	one(282, "CONFIG_AGENT_SERVICE_EVENT: not in the §3.2 CONFIG_* list; only its tags 309/310 are known"),
	span(283, 284, "SET_AGENT_SERVICE_DATA_*: no layout in §3 (number from PV25 body text only)"),
)

func one(t uint32, reason string) []NoLayout { return []NoLayout{{Type: t, Reason: reason}} }

// span lists the §2 types from..to (inclusive) that exist in MessageTypes.
func span(from, to uint32, reason string) []NoLayout {
	var out []NoLayout
	for _, mt := range MessageTypes {
		if mt.Type >= from && mt.Type <= to {
			out = append(out, NoLayout{Type: mt.Type, Reason: reason})
		}
	}
	return out
}

func concatNoLayouts(lists ...[]NoLayout) []NoLayout {
	var out []NoLayout
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}
