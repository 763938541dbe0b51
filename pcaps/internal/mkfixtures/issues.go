package main

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/ipcclab/ipcclab/protocol/cti"
)

// The constructed field-issue captures. Each is a CTI session between a
// blending controller (10.20.1.15) and the CTI Server side A of the
// CallManager PG (10.20.0.10:42027) on 5 January 2026, built message by
// message, with the sequences of cti-protocol.md §5 and ipcc-behaviour.md
// §2–3 and the field values the emulator uses.

var (
	fieldT0     = time.Date(2026, 1, 5, 14, 0, 0, 0, time.UTC)
	fieldClient = netip.MustParseAddrPort("10.20.1.15:51234")
	fieldServer = netip.MustParseAddrPort("10.20.0.10:42027")
)

// fieldClientID is the controller's OPEN_REQ ClientID.
const fieldClientID = "blendctl-01"

func rel(s float64) Secs { return Secs(s) }

func frameOf(lm *ledgerMsg) int { return max(lm.res.Frame, lm.res.LastFrame) }

func where(lm *ledgerMsg) string { return fmt.Sprintf("frame %d at t=%s", frameOf(lm), lm.res.T) }

// finish resolves a capFile session and fills in the session facts.
func finishCap(c *capFile, k *ctiConn, x *Expect) *built {
	k.l.resolve(c.t0)
	s := k.l.session()
	s.Agents, s.Calls = timelines(s.Messages)
	x.CTI = append(x.CTI, s)
	x.Unconfirmed = append(x.Unconfirmed, k.l.unconfirmed()...)
	return &built{pcap: c.bytes(), expect: x}
}

// finishRaw is finishCap for a rawFile.
func finishRaw(r *rawFile, k *rawConn, x *Expect) *built {
	k.l.resolve(r.t0)
	s := k.l.session()
	s.Agents, s.Calls = timelines(s.Messages)
	x.CTI = append(x.CTI, s)
	x.Unconfirmed = append(x.Unconfirmed, k.l.unconfirmed()...)
	return &built{pcap: r.bytes(), expect: x}
}

// ---- idle-timeout ----

// buildIdleTimeout: the controller opens with IdleTimeout 20 and
// heartbeats every 5 s, then goes silent (its event loop hung: the kernel
// still ACKs the server's events); 20 s after the last message the CTI
// Server resets the connection (§5.4: "if no message of any kind arrives
// within IdleTimeout seconds … resets the TCP connection"; with SO_LINGER 0,
// §1.1, that is a RST). The server sends no FAILURE_EVENT first: that
// delivery is only inferred in §5.4 (L), the reset is documented (H).
func buildIdleTimeout(*env) (*built, error) {
	r := newRawFile(fieldT0)
	k := r.conn(24, fieldClient, fieldServer, 0x3c1a5e01, 0x91d0b7c2)
	k.handshake(0)
	open := k.msg(0.010, fromClient, openReq(1, 24, 20, fieldClientID))
	k.add(fromServer, openConf(1, r.at(0.012)))
	k.add(fromServer, systemEvent(r.at(0.012), cti.SysPeripheralOnline, 0))
	k.send(0.012, fromServer, len(k.l.bytes[fromServer]))
	k.ack(0.052, fromClient)
	var hbs []*ledgerMsg
	for i, s := range []float64{5, 10, 15} {
		hbs = append(hbs, k.msg(s, fromClient, &cti.HeartbeatReq{InvokeID: uint32(2 + i)}))
		k.msg(s+0.002, fromServer, &cti.HeartbeatConf{InvokeID: uint32(2 + i)})
		k.ack(s+0.042, fromClient)
	}
	// The server's events keep coming and the client's kernel keeps
	// acknowledging them: TCP is alive, the CTI client is not.
	ev1 := k.msg(18.5, fromServer, agentState(agent1001, cti.AgentStateAvailable, 0, cti.DirectionNone))
	ack1 := k.ack(18.54, fromClient)
	ev2 := k.msg(26.2, fromServer, agentState(agent1002, cti.AgentStateAvailable, 0, cti.DirectionNone))
	k.ack(26.24, fromClient)
	rst := k.reset(35.25, fromServer)
	b := finishRaw(r, k, &Expect{})
	s := b.expect.CTI[0]
	last := hbs[2]
	gap := 35.25 - 15.0
	b.expect.Summary = fmt.Sprintf("Idle-timeout disconnect. The controller opens with IdleTimeout 20 (%s) and sends HEARTBEAT_REQ every 5 s (InvokeIDs 2–4, each answered), the last at %s. Then it sends nothing: the CTI Server's AGENT_STATE_EVENTs at %s and %s are acknowledged by the client's TCP stack with pure ACKs (e.g. frame %d) but no CTI message follows. %.3f s after the last heartbeat the server resets the connection (RST/ACK, frame %d, t=35.250) with no FAILURE_EVENT and no CLOSE_REQ.",
		where(open), where(last), where(ev1), where(ev2), ack1, gap, rst)
	b.expect.Decode = []string{
		fmt.Sprintf("one CTI session at PV24 (OPEN_REQ frame 4, IdleTimeout 20); %d messages from the client, %d from the server; pure ACKs are not messages", s.FromClient, s.FromServer),
		fmt.Sprintf("the connection ends with a RST from the server at frame %d (t=35.250)", rst),
	}
	b.expect.Calls = []string{
		fmt.Sprintf("heartbeat gap: no message from the client from %s to the reset at frame %d (t=35.250) = %.3f s, beyond the session's IdleTimeout of 20 s", where(last), rst, gap),
		"heartbeats before that every 5.000 s, all confirmed; no InvokeID without confirmation",
	}
	b.expect.Anomalies = []Anomaly{
		{Kind: "heartbeat-gap-beyond-idle-timeout", Frame: rst, T: rel(35.25), Frames: []int{frameOf(open), frameOf(last)},
			Detail: fmt.Sprintf("client silent %.3f s (last message frame %d at t=15.000) > IdleTimeout 20 s (OPEN_REQ frame %d)", gap, frameOf(last), frameOf(open))},
		{Kind: "session-reset", Frame: rst, T: rel(35.25), Detail: "RST from the CTI Server, no CLOSE_REQ/CLOSE_CONF or FAILURE_EVENT before it"},
	}
	return b, nil
}

// ---- PG offline mid-call ----

// buildPGOffline: a call is established at agent 1001 when the peripheral
// goes offline (SYSTEM_EVENT SYS_PERIPHERAL_OFFLINE, PGStatus
// PGS_PERIPHERAL_OFFLINE — what [CAP] shows a real server send, §4.5,
// §4.6). While it is offline the CTI Server still answers heartbeats (the
// server is up, the peripheral is not) and refuses agent control with
// CONTROL_FAILURE_CONF CF_RESOURCE_OUT_OF_SERVICE (ipcc-behaviour.md §3.5:
// third-party requests fail; the emulator's PG refuses the same way). The
// caller hangs up during the outage, which the PG cannot see: when the
// peripheral comes back (SYS_PERIPHERAL_ONLINE, PGStatus 0) it ends the call
// with END_CALL_EVENT alone — no CALL_CONNECTION_CLEARED or CALL_CLEARED —
// and re-synchronises the agent to AVAILABLE (§3.5: "agent state events as
// states are re-synchronised"; the TCD is written at the failure). That
// last part is inferred ([I] in ipcc-behaviour.md), not seen on a wire.
func buildPGOffline(*env) (*built, error) {
	c := newCapFile(fieldT0)
	k := c.connect(0, 24, fieldClient, fieldServer)
	call := inboundCall{id: 16777301, ani: "2125550143", account: "40312345", key: 1187}
	k.client(0.010, openReq(1, 24, 40, fieldClientID))
	k.server(0.012, openConf(1, c.at(0.012)))
	k.server(0.012, systemEvent(c.at(0.012), cti.SysPeripheralOnline, 0))
	k.server(1.0, agentState(agent1001, cti.AgentStateAvailable, 0, cti.DirectionNone))
	k.server(2.0, preCall(agent1001, call))
	k.server(2.0, agentState(agent1001, cti.AgentStateReserved, 0, cti.DirectionIn))
	begin := k.server(2.5, beginCallIn(agent1001, call))
	k.server(2.5, deliveredIn(agent1001, call))
	est := k.server(3.5, establishedIn(agent1001, call))
	k.server(3.5, agentState(agent1001, cti.AgentStateTalking, 0, cti.DirectionIn))
	k.client(10, &cti.HeartbeatReq{InvokeID: 2})
	k.server(10.002, &cti.HeartbeatConf{InvokeID: 2})
	off := k.server(12.3, systemEvent(c.at(12.3), cti.SysPeripheralOffline, cti.PGSPeripheralOffline))
	req := k.client(14.1, setState(3, agent1201, cti.AgentStateAvailable, 0))
	refused := k.server(14.102, &cti.ControlFailureConf{InvokeID: 3, FailureCode: cti.CFResourceOutOfService})
	k.client(20, &cti.HeartbeatReq{InvokeID: 4})
	k.server(20.002, &cti.HeartbeatConf{InvokeID: 4})
	on := k.server(24.7, systemEvent(c.at(24.7), cti.SysPeripheralOnline, 0))
	end := k.server(24.75, endCall(call.id, cti.ConnectionIDStatic, agent1001.ext))
	avail := k.server(24.75, agentState(agent1001, cti.AgentStateAvailable, 0, cti.DirectionNone))
	k.client(30, &cti.HeartbeatReq{InvokeID: 5})
	k.server(30.002, &cti.HeartbeatConf{InvokeID: 5})
	k.client(31, &cti.CloseReq{InvokeID: 6, Status: cti.StatusNoError})
	k.server(31.002, &cti.CloseConf{InvokeID: 6})
	k.close(31.01, fromClient)
	b := finishCap(c, k, &Expect{})
	b.expect.Summary = fmt.Sprintf("PG going offline mid-call. Call %d (ANI %s, dialed %s, call variables SalesInbound/%s) is reserved, delivered and established at agent 1001 (BEGIN_CALL %s, CALL_ESTABLISHED %s). At %s the CTI Server sends SYSTEM_EVENT SYS_PERIPHERAL_OFFLINE for peripheral 5000 with PGStatus 0x4 (PGS_PERIPHERAL_OFFLINE). Heartbeats are still answered; the controller's SET_AGENT_STATE_REQ (InvokeID 3, %s) is refused with CONTROL_FAILURE_CONF CF_RESOURCE_OUT_OF_SERVICE (%s). At %s SYS_PERIPHERAL_ONLINE with PGStatus 0; the PG then ends the call with END_CALL_EVENT alone (%s) — no CALL_CONNECTION_CLEARED or CALL_CLEARED — and reports agent 1001 AVAILABLE (%s). The controller closes the session with CLOSE_REQ/CLOSE_CONF and a FIN.",
		call.id, call.ani, salesDialed, call.account, where(begin), where(est), where(off), where(req), where(refused), where(on), where(end), where(avail))
	b.expect.Decode = []string{"one CTI session at PV24 from its OPEN_REQ; every message decodes; ends with CLOSE_REQ/CLOSE_CONF and a FIN from the client"}
	b.expect.Calls = []string{
		fmt.Sprintf("PGStatus changes: 0 → 0x4 PGS_PERIPHERAL_OFFLINE at %s, 0x4 → 0 at %s (offline 12.400 s), both during call %d", where(off), where(on), call.id),
		fmt.Sprintf("refusal: InvokeID 3 SET_AGENT_STATE_REQ → CONTROL_FAILURE_CONF CF_RESOURCE_OUT_OF_SERVICE at %s", where(refused)),
		fmt.Sprintf("call %d: BEGIN_CALL, CALL_DELIVERED, CALL_ESTABLISHED, then END_CALL at %s with no CALL_CLEARED", call.id, where(end)),
		"agent 1001: AVAILABLE → RESERVED → TALKING → AVAILABLE (after the peripheral is back)",
	}
	b.expect.Anomalies = []Anomaly{
		{Kind: "pg-status-change", Frame: frameOf(off), T: off.res.T, Detail: "PGStatus 0 → 0x4 PGS_PERIPHERAL_OFFLINE (SYS_PERIPHERAL_OFFLINE, peripheral 5000) with call 16777301 established"},
		{Kind: "refusal", Frame: frameOf(refused), T: refused.res.T, Frames: []int{frameOf(req)}, Detail: "SET_AGENT_STATE_REQ InvokeID 3 refused: CONTROL_FAILURE_CONF CF_RESOURCE_OUT_OF_SERVICE"},
		{Kind: "pg-status-change", Frame: frameOf(on), T: on.res.T, Detail: "PGStatus 0x4 → 0 (SYS_PERIPHERAL_ONLINE, peripheral 5000)"},
		{Kind: "call-ended-without-clear", Frame: frameOf(end), T: end.res.T, Frames: []int{frameOf(est)},
			Detail: "call 16777301: END_CALL_EVENT with no CALL_CONNECTION_CLEARED/CALL_CLEARED; it ended while the peripheral was offline"},
	}
	return b, nil
}

// ---- agent left RESERVED ----

// buildReservedAfterAbort: ICM reserves agent 1001 for a call (pre-call,
// RESERVED), the caller abandons at the IVR and the router aborts the
// pre-call (AGENT_PRE_CALL_ABORT_EVENT) — after which the agent should
// return to its previous state (cti-protocol.md §5.9(a) step 1,
// ipcc-behaviour.md §2.3, §3.2: "if already reserved,
// AGENT_PRE_CALL_ABORT_EVENT and agent back to AVAILABLE"). Here no
// AGENT_STATE_EVENT for 1001 ever follows: QUERY_AGENT_STATE_CONF still
// says RESERVED 22.5 s and 52.5 s later, and inbound calls go to 1002 only.
// Agent 1002 had the same abort earlier and went back to AVAILABLE at once
// — the control case, which must not be flagged.
func buildReservedAfterAbort(*env) (*built, error) {
	c := newCapFile(fieldT0)
	k := c.connect(0, 24, fieldClient, fieldServer)
	aborted2 := inboundCall{ani: "2125550187", account: "51120044", key: 2187}
	stuck := inboundCall{ani: "2125550143", account: "40312345", key: 2188}
	routed := inboundCall{id: 16777502, ani: "6175550122", account: "77001234", key: 2189}
	k.client(0.010, openReq(1, 24, 40, fieldClientID))
	k.server(0.012, openConf(1, c.at(0.012)))
	k.server(0.012, systemEvent(c.at(0.012), cti.SysPeripheralOnline, 0))
	k.server(1.0, agentState(agent1001, cti.AgentStateAvailable, 0, cti.DirectionNone))
	k.server(1.0, agentState(agent1002, cti.AgentStateAvailable, 0, cti.DirectionNone))
	ctlPre := k.server(3.0, preCall(agent1002, aborted2))
	k.server(3.0, agentState(agent1002, cti.AgentStateReserved, 0, cti.DirectionIn))
	ctlAbort := k.server(4.2, preCallAbort(agent1002, aborted2))
	ctlBack := k.server(4.2, agentState(agent1002, cti.AgentStateAvailable, 0, cti.DirectionNone))
	pre := k.server(6.0, preCall(agent1001, stuck))
	reserved := k.server(6.0, agentState(agent1001, cti.AgentStateReserved, 0, cti.DirectionIn))
	abort := k.server(7.5, preCallAbort(agent1001, stuck))
	inv := uint32(2)
	hb := func(s float64) {
		k.client(s, &cti.HeartbeatReq{InvokeID: inv})
		k.server(s+0.002, &cti.HeartbeatConf{InvokeID: inv})
		inv++
	}
	hb(10)
	k.server(15.0, preCall(agent1002, routed))
	k.server(15.0, agentState(agent1002, cti.AgentStateReserved, 0, cti.DirectionIn))
	k.server(15.5, beginCallIn(agent1002, routed))
	k.server(15.5, deliveredIn(agent1002, routed))
	k.server(16.5, establishedIn(agent1002, routed))
	k.server(16.5, agentState(agent1002, cti.AgentStateTalking, 0, cti.DirectionIn))
	hb(20)
	hb(30)
	q1 := k.client(30.01, queryAgent(inv, agent1001))
	c1 := k.server(30.012, queryAgentConf(inv, agent1001, cti.AgentStateReserved))
	inv++
	k.server(34.5, connectionCleared(routed.id, cti.ConnectionIDStatic, agent1002.ext, routed.ani, cti.DevIDExternal))
	k.server(34.5, callCleared(routed.id, agent1002.ext))
	k.server(34.5, agentState(agent1002, cti.AgentStateAvailable, 0, cti.DirectionNone))
	k.server(34.5, endCall(routed.id, cti.ConnectionIDStatic, agent1002.ext))
	hb(40)
	hb(50)
	hb(60)
	k.client(60.01, queryAgent(inv, agent1001))
	c2 := k.server(60.012, queryAgentConf(inv, agent1001, cti.AgentStateReserved))
	k.open(c.at(60.012))
	b := finishCap(c, k, &Expect{})
	b.expect.Summary = fmt.Sprintf("Agent left RESERVED after a pre-call abort. ICM reserves agent 1001 for a caller (AGENT_PRE_CALL_EVENT RouterCallKey %d/%d %s, AGENT_STATE_EVENT RESERVED %s); the caller abandons in the IVR and the router aborts the pre-call (AGENT_PRE_CALL_ABORT_EVENT %s). No AGENT_STATE_EVENT for 1001 follows to the end of the capture (t=60.012): QUERY_AGENT_STATE_CONF says RESERVED at %s and %s, and the next inbound call (%d) goes to agent 1002. Agent 1002's own aborted reservation (%s, abort %s) returned it to AVAILABLE at once (%s).",
		routerDay, stuck.key, where(pre), where(reserved), where(abort), where(c1), where(c2), routed.id, where(ctlPre), where(ctlAbort), where(ctlBack))
	b.expect.Decode = []string{"one CTI session at PV24 from its OPEN_REQ; every message decodes; the connection is still open when the capture ends"}
	b.expect.Calls = []string{
		fmt.Sprintf("agent 1001 stuck in RESERVED: reserved at %s, pre-call aborted at %s, still RESERVED at the end of the capture (52.512 s after the abort) and in both QUERY_AGENT_STATE_CONFs", where(reserved), where(abort)),
		"agent 1002: RESERVED, then AGENT_PRE_CALL_ABORT_EVENT and AVAILABLE at the same instant — not an anomaly",
		fmt.Sprintf("call %d (agent 1002) complete: BEGIN_CALL … END_CALL", routed.id),
	}
	b.expect.Anomalies = []Anomaly{
		{Kind: "agent-stuck-reserved", Frame: frameOf(abort), T: abort.res.T, Frames: []int{frameOf(pre), frameOf(reserved), frameOf(q1), frameOf(c1), frameOf(c2)},
			Detail: "agent 1001 RESERVED since t=6.000; AGENT_PRE_CALL_ABORT_EVENT at t=7.500 and no AGENT_STATE_EVENT for it afterwards (52.512 s to the end of the capture)"},
	}
	return b, nil
}

// ---- blended agent made available while talking ----

// buildAvailableWhileTalking: the controller dials for blended agent 1201,
// the customer answers and 1201 is TALKING (outbound predictive); then the
// controller lends the same agent to inbound with SET_AGENT_STATE_REQ
// AVAILABLE — it lost track of the call. The CTI Server accepts the request
// (SET_AGENT_STATE_CONF) and keeps AVAILABLE as the pending state, reported
// as NextAgentState in an AGENT_STATE_EVENT that still says TALKING
// (cti-protocol.md §5.9(e); ipcc-behaviour.md §2.4: "a pending state set
// during the call is applied when the call ends"; the emulator's PG does
// the same). When the customer hangs up the agent goes AVAILABLE instead of
// back to NOT_READY for outbound, and ICM reserves it for an inbound call
// half a second later.
func buildAvailableWhileTalking(*env) (*built, error) {
	c := newCapFile(fieldT0)
	k := c.connect(0, 24, fieldClient, fieldServer)
	const out = uint32(16777401)
	const dialed = "12125550123"
	in := inboundCall{id: 16777402, ani: "6175550199", account: "30214477", key: 3301}
	k.client(0.010, openReq(1, 24, 40, fieldClientID))
	k.server(0.012, openConf(1, c.at(0.012)))
	k.server(0.012, systemEvent(c.at(0.012), cti.SysPeripheralOnline, 0))
	k.client(0.020, queryAgent(2, agent1201))
	k.server(0.022, queryAgentConf(2, agent1201, cti.AgentStateNotReady))
	dial := k.client(0.3, &cti.MakePredictiveCallReq{InvokeID: 3, PeripheralID: peripheralID, AlertRings: 3,
		OriginatingDeviceID: agent1201.ext, DialedNumber: dialed, CallVariable1: "Renewals"})
	k.server(0.301, &cti.MakePredictiveCallConf{InvokeID: 3, NewConnectionCallID: out, NewConnectionDeviceIDType: cti.ConnectionIDDynamic,
		LineHandle: 0xFFFF, LineType: cti.LineTypeNone, NewConnectionDeviceID: agent1201.ext})
	k.server(0.301, &cti.BeginCallEvent{PeripheralID: peripheralID, PeripheralType: cti.PTEnterpriseAgent, CallType: cti.CallTypeAutoOut,
		ConnectionDeviceIDType: cti.ConnectionIDDynamic, ConnectionCallID: out, ConnectionDeviceID: dialed, DNIS: dialed,
		DialedNumber: dialed, CallVariable1: "Renewals"})
	k.server(0.301, &cti.CallOriginatedEvent{PeripheralID: peripheralID, PeripheralType: cti.PTEnterpriseAgent,
		ConnectionDeviceIDType: cti.ConnectionIDDynamic, ConnectionCallID: out, LineHandle: 0xFFFF, LineType: cti.LineTypeNone,
		ServiceNumber: cti.NullService, ServiceID: cti.NullService, SkillGroupNumber: cti.NullSkillGroup, SkillGroupID: cti.NullSkillGroup,
		CallingDeviceType: cti.DevIDDeviceIdentifier, CalledDeviceType: cti.DevIDExternal, LocalConnectionState: cti.LCSInitiate,
		EventCause: cti.CECNone, ConnectionDeviceID: dialed, CallingDeviceID: agent1201.ext, CalledDeviceID: dialed})
	farEnd := func(st cti.LocalConnectionState) cti.Message {
		if st == cti.LCSAlerting {
			return &cti.CallDeliveredEvent{PeripheralID: peripheralID, PeripheralType: cti.PTEnterpriseAgent,
				ConnectionDeviceIDType: cti.ConnectionIDDynamic, ConnectionCallID: out, LineHandle: 0xFFFF, LineType: cti.LineTypeNone,
				ServiceNumber: cti.NullService, ServiceID: cti.NullService, SkillGroupNumber: cti.NullSkillGroup, SkillGroupID: cti.NullSkillGroup,
				AlertingDeviceType: cti.DevIDExternal, CallingDeviceType: cti.DevIDDeviceIdentifier, CalledDeviceType: cti.DevIDExternal,
				LastRedirectDeviceType: cti.DevIDNone, LocalConnectionState: cti.LCSAlerting, EventCause: cti.CECNewCall,
				ConnectionDeviceID: dialed, AlertingDeviceID: dialed, CallingDeviceID: agent1201.ext, CalledDeviceID: dialed,
				DNIS: dialed, DialedNumber: dialed, CallVariable1: "Renewals"}
		}
		return &cti.CallEstablishedEvent{PeripheralID: peripheralID, PeripheralType: cti.PTEnterpriseAgent,
			ConnectionDeviceIDType: cti.ConnectionIDDynamic, ConnectionCallID: out, LineHandle: 0xFFFF, LineType: cti.LineTypeNone,
			ServiceNumber: cti.NullService, ServiceID: cti.NullService, SkillGroupNumber: cti.NullSkillGroup, SkillGroupID: cti.NullSkillGroup,
			AnsweringDeviceType: cti.DevIDExternal, CallingDeviceType: cti.DevIDDeviceIdentifier, CalledDeviceType: cti.DevIDExternal,
			LastRedirectDeviceType: cti.DevIDNone, LocalConnectionState: cti.LCSConnect, EventCause: cti.CECNone,
			ConnectionDeviceID: dialed, AnsweringDeviceID: dialed, CallingDeviceID: agent1201.ext, CalledDeviceID: dialed}
	}
	k.server(2.301, farEnd(cti.LCSAlerting))
	k.server(5.301, farEnd(cti.LCSConnect))
	k.server(5.301, &cti.CallDeliveredEvent{PeripheralID: peripheralID, PeripheralType: cti.PTEnterpriseAgent,
		ConnectionDeviceIDType: cti.ConnectionIDStatic, ConnectionCallID: out, LineHandle: 0xFFFF, LineType: cti.LineTypeNone,
		ServiceNumber: cti.NullService, ServiceID: cti.NullService, SkillGroupNumber: cti.NullSkillGroup, SkillGroupID: cti.NullSkillGroup,
		AlertingDeviceType: cti.DevIDDeviceIdentifier, CallingDeviceType: cti.DevIDExternal, CalledDeviceType: cti.DevIDDeviceIdentifier,
		LastRedirectDeviceType: cti.DevIDNone, LocalConnectionState: cti.LCSAlerting, EventCause: cti.CECNewCall,
		ConnectionDeviceID: agent1201.ext, AlertingDeviceID: agent1201.ext, CallingDeviceID: dialed, CalledDeviceID: agent1201.ext,
		DNIS: dialed, DialedNumber: dialed, CallVariable1: "Renewals"})
	k.server(5.301, &cti.CallEstablishedEvent{PeripheralID: peripheralID, PeripheralType: cti.PTEnterpriseAgent,
		ConnectionDeviceIDType: cti.ConnectionIDStatic, ConnectionCallID: out, LineHandle: 0xFFFF, LineType: cti.LineTypeNone,
		ServiceNumber: cti.NullService, ServiceID: cti.NullService, SkillGroupNumber: cti.NullSkillGroup, SkillGroupID: cti.NullSkillGroup,
		AnsweringDeviceType: cti.DevIDDeviceIdentifier, CallingDeviceType: cti.DevIDExternal, CalledDeviceType: cti.DevIDDeviceIdentifier,
		LastRedirectDeviceType: cti.DevIDNone, LocalConnectionState: cti.LCSConnect, EventCause: cti.CECNone,
		ConnectionDeviceID: agent1201.ext, AnsweringDeviceID: agent1201.ext, CallingDeviceID: dialed, CalledDeviceID: agent1201.ext})
	talking := k.server(5.301, agentState(agent1201, cti.AgentStateTalking, 0, cti.DirectionOutboundPredictive))
	req := k.client(7.0, setState(4, agent1201, cti.AgentStateAvailable, 0))
	conf := k.server(7.001, &cti.SetAgentStateConf{InvokeID: 4})
	pend := k.server(7.001, pending(agent1201, cti.AgentStateTalking, cti.DirectionOutboundPredictive, cti.AgentStateAvailable, 1))
	k.client(10, &cti.HeartbeatReq{InvokeID: 5})
	k.server(10.002, &cti.HeartbeatConf{InvokeID: 5})
	k.server(12.301, connectionCleared(out, cti.ConnectionIDDynamic, dialed, dialed, cti.DevIDExternal))
	k.server(12.301, callCleared(out, agent1201.ext))
	applied := k.server(12.301, agentState(agent1201, cti.AgentStateAvailable, 0, cti.DirectionNone))
	k.server(12.301, endCall(out, cti.ConnectionIDDynamic, dialed))
	pre := k.server(12.8, preCall(agent1201, in))
	k.server(12.8, agentState(agent1201, cti.AgentStateReserved, 0, cti.DirectionIn))
	k.server(13.3, beginCallIn(agent1201, in))
	k.server(13.3, deliveredIn(agent1201, in))
	k.open(c.at(13.3))
	b := finishCap(c, k, &Expect{})
	b.expect.Summary = fmt.Sprintf("A blended agent made available while talking. The controller dials %s for agent 1201 (MAKE_PREDICTIVE_CALL_REQ %s); the customer answers and 1201 is TALKING on outbound call %d (AGENT_STATE_EVENT %s, Direction OUTBOUND_PREDICTIVE). The controller then sends SET_AGENT_STATE_REQ AVAILABLE for 1201 (InvokeID 4, %s). The CTI Server confirms it (SET_AGENT_STATE_CONF %s) and keeps it pending: AGENT_STATE_EVENT TALKING with NextAgentState=AVAILABLE (%s), cti-protocol.md §5.9(e). When the customer hangs up the pending state applies — AVAILABLE (%s) instead of NOT_READY reason 101 for outbound — and ICM reserves 1201 for inbound call %d (AGENT_PRE_CALL_EVENT %s).",
		dialed, where(dial), out, where(talking), where(req), where(conf), where(pend), where(applied), in.id, where(pre))
	b.expect.Decode = []string{"one CTI session at PV24 from its OPEN_REQ; every message decodes; NextAgentState decoded in the AGENT_STATE_EVENT of " + where(pend)}
	b.expect.Calls = []string{
		fmt.Sprintf("SET_AGENT_STATE_REQ AVAILABLE for agent 1201 at %s while its last AGENT_STATE_EVENT (%s) is TALKING", where(req), where(talking)),
		"agent 1201: NOT_READY (query) → TALKING (outbound) → TALKING next=AVAILABLE → AVAILABLE → RESERVED",
		fmt.Sprintf("call %d (outbound, AUTO_OUT) complete; call %d (inbound) open at the end of the capture", out, in.id),
	}
	b.expect.Anomalies = []Anomaly{
		{Kind: "set-available-while-talking", Frame: frameOf(req), T: req.res.T, Frames: []int{frameOf(talking), frameOf(conf), frameOf(pend), frameOf(applied)},
			Detail: "SET_AGENT_STATE_REQ AVAILABLE (InvokeID 4) for agent 1201 whose last AGENT_STATE_EVENT is TALKING; confirmed, kept as NextAgentState=AVAILABLE, applied when the call ends"},
	}
	return b, nil
}

// ---- CTI on a non-standard port at PV15 ----

// buildNonstandardPort: a legacy bridge at protocol version 15 (one-byte
// floating tags and lengths, §1.3) on port 9000 — an inbound call delivered
// and answered, heartbeats, an orderly close. The decoder must find it by
// content and read the version from the OPEN_REQ.
func buildNonstandardPort(*env) (*built, error) {
	client := netip.MustParseAddrPort("10.20.1.40:50522")
	server := netip.MustParseAddrPort("10.20.0.11:9000")
	c := newCapFile(fieldT0)
	k := c.connect(0, 15, client, server)
	call := inboundCall{id: 16777720, ani: "3125550161", account: "66120915", key: 5120}
	o := openReq(1, 15, 60, "legacy-bridge")
	o.ServicesRequested = cti.ServiceAllEvents | cti.ServiceCallDataUpdate
	open := k.client(0.010, o)
	conf := openConf(1, c.at(0.012))
	conf.ServicesGranted = o.ServicesRequested
	k.server(0.012, conf)
	k.server(0.012, systemEvent(c.at(0.012), cti.SysPeripheralOnline, 0))
	k.server(1.5, preCall(agent1001, call))
	k.server(1.5, agentState(agent1001, cti.AgentStateReserved, 0, cti.DirectionIn))
	k.server(2.0, beginCallIn(agent1001, call))
	k.server(2.0, deliveredIn(agent1001, call))
	k.server(3.2, establishedIn(agent1001, call))
	k.server(3.2, agentState(agent1001, cti.AgentStateTalking, 0, cti.DirectionIn))
	k.client(15, &cti.HeartbeatReq{InvokeID: 2})
	k.server(15.003, &cti.HeartbeatConf{InvokeID: 2})
	k.server(21.7, connectionCleared(call.id, cti.ConnectionIDStatic, agent1001.ext, call.ani, cti.DevIDExternal))
	k.server(21.7, callCleared(call.id, agent1001.ext))
	k.server(21.7, agentState(agent1001, cti.AgentStateAvailable, 0, cti.DirectionNone))
	k.server(21.7, endCall(call.id, cti.ConnectionIDStatic, agent1001.ext))
	k.client(30, &cti.HeartbeatReq{InvokeID: 3})
	k.server(30.003, &cti.HeartbeatConf{InvokeID: 3})
	k.client(31, &cti.CloseReq{InvokeID: 4, Status: cti.StatusNoError})
	k.server(31.002, &cti.CloseConf{InvokeID: 4})
	k.close(31.01, fromClient)
	b := finishCap(c, k, &Expect{})
	b.expect.Summary = fmt.Sprintf("CTI on a non-standard port at a narrow-tag version. A legacy bridge (%s) opens a session with the CTI Server on %s — not 42027/43027 — at protocol version 15 (OPEN_REQ %s, IdleTimeout 60, ALL_EVENTS|CALL_DATA_UPDATE), so every floating field has a one-byte tag and length and OPEN_CONF has no DepartmentID or SessionType. One inbound call %d is reserved, delivered, answered and cleared at agent 1001; heartbeats at 15 s and 30 s; CLOSE_REQ/CLOSE_CONF and a FIN.",
		client, server, where(open), call.id)
	b.expect.Decode = []string{
		"CTI found by content on TCP port 9000; client 10.20.1.40:50522 (SYN sender and OPEN_REQ sender)",
		"version 15 from the OPEN_REQ (frame 4): one-byte floating tags; AGENT_PRE_CALL_EVENT without the PV20 AgentSkillTargetID and AgentID; every message decodes",
	}
	b.expect.Calls = []string{fmt.Sprintf("call %d complete (BEGIN_CALL … END_CALL); agent 1001 RESERVED → TALKING → AVAILABLE; no anomaly", call.id)}
	return b, nil
}

// ---- a capture that starts mid-stream ----

// buildMidStream: the capture starts while a session is running (no SYN,
// no OPEN_REQ) and its first server segment begins 61 bytes into a
// CALL_DELIVERED_EVENT. The decoder must skip the tail, resynchronise at the
// next header in the same segment and say so, and infer the protocol
// version from the messages (they were encoded at PV24; every version from
// 20 to 25 decodes them, none below 20 does: their floating fields have
// two-byte tags).
func buildMidStream(*env) (*built, error) {
	r := newRawFile(fieldT0)
	client := netip.MustParseAddrPort("10.20.1.15:51877")
	k := r.conn(24, client, fieldServer, 0x7e3f0a11, 0x0c4d9e20)
	k.l.versionSource = "messages"
	early := inboundCall{id: 16777610, ani: "2125550171", account: "80014422", key: 4409}
	next := inboundCall{id: 16777611, ani: "6465550102", account: "12004488", key: 4410}
	// What was sent before the capture started (in the ledger, so that
	// offsets and sequence numbers run on, but never written).
	k.add(fromClient, openReq(1, 24, 20, fieldClientID))
	for i := uint32(2); i <= 40; i++ {
		k.add(fromClient, &cti.HeartbeatReq{InvokeID: i})
	}
	k.add(fromServer, openConf(1, fieldT0.Add(-197*time.Second)))
	k.add(fromServer, systemEvent(fieldT0.Add(-197*time.Second), cti.SysPeripheralOnline, 0))
	for i := uint32(2); i <= 40; i++ {
		k.add(fromServer, &cti.HeartbeatConf{InvokeID: i})
	}
	k.add(fromServer, preCall(agent1002, early))
	k.add(fromServer, agentState(agent1002, cti.AgentStateReserved, 0, cti.DirectionIn))
	k.add(fromServer, beginCallIn(agent1002, early))
	cut := k.add(fromServer, deliveredIn(agent1002, early))
	const into = 61
	k.skip(fromClient, len(k.l.bytes[fromClient]))
	k.skip(fromServer, cut.off+into)
	k.l.base = [2]int{len(k.l.bytes[fromClient]), cut.off + into}

	// The first captured segment: the tail of CALL_DELIVERED_EVENT and the
	// two messages after it, coalesced.
	est := k.add(fromServer, establishedIn(agent1002, early))
	k.add(fromServer, agentState(agent1002, cti.AgentStateTalking, 0, cti.DirectionIn))
	first := k.send(0, fromServer, len(k.l.bytes[fromServer])-k.sent[fromServer])[0]
	k.ack(0.04, fromClient)
	k.add(fromClient, &cti.HeartbeatReq{InvokeID: 41})
	hb1 := k.send(0.8, fromClient, 12)[0]
	k.msg(0.802, fromServer, &cti.HeartbeatConf{InvokeID: 41})
	k.add(fromServer, preCall(agent1001, next))
	k.add(fromServer, agentState(agent1001, cti.AgentStateReserved, 0, cti.DirectionIn))
	k.send(2.4, fromServer, len(k.l.bytes[fromServer])-k.sent[fromServer])
	k.msg(2.9, fromServer, beginCallIn(agent1001, next))
	k.msg(2.9, fromServer, deliveredIn(agent1001, next))
	k.ack(2.94, fromClient)
	k.msg(3.9, fromServer, establishedIn(agent1001, next))
	k.msg(3.9, fromServer, agentState(agent1001, cti.AgentStateTalking, 0, cti.DirectionIn))
	k.ack(3.94, fromClient)
	k.msg(5.8, fromClient, &cti.HeartbeatReq{InvokeID: 42})
	k.msg(5.802, fromServer, &cti.HeartbeatConf{InvokeID: 42})
	k.add(fromServer, connectionCleared(early.id, cti.ConnectionIDStatic, agent1002.ext, early.ani, cti.DevIDExternal))
	k.add(fromServer, callCleared(early.id, agent1002.ext))
	k.add(fromServer, agentState(agent1002, cti.AgentStateAvailable, 0, cti.DirectionNone))
	k.add(fromServer, endCall(early.id, cti.ConnectionIDStatic, agent1002.ext))
	k.send(7.3, fromServer, len(k.l.bytes[fromServer])-k.sent[fromServer])
	k.ack(7.34, fromClient)
	k.l.end = &End{How: "open", T: rel(7.34)}
	k.l.tcp = []TCPEvent{{Kind: "mid_stream_start", From: "server", Frame: first, T: 0, Offset: 0, Bytes: cut.n - into,
		Note: fmt.Sprintf("no SYN; the first segment starts %d bytes into a %d-byte CALL_DELIVERED_EVENT", into, cut.n)},
		{Kind: "mid_stream_start", From: "client", Frame: hb1, T: rel(0.8), Offset: 0, Bytes: 0, Note: "no SYN; the client's first segment starts at a message boundary"}}
	b := finishRaw(r, k, &Expect{})
	b.expect.Summary = fmt.Sprintf("A capture that starts mid-stream: no SYN, no OPEN_REQ. Frame 1 is a server segment whose first %d bytes are the tail of a %d-byte CALL_DELIVERED_EVENT (call %d at agent 1002, begun before the capture); the same segment then carries CALL_ESTABLISHED_EVENT (%s) and AGENT_STATE_EVENT TALKING. The client (10.20.1.15:51877) is known by its HEARTBEAT_REQs (InvokeIDs 41, 42); a second call %d is reserved, delivered and answered at agent 1001, and call %d clears. All messages were encoded at PV24.",
		cut.n-into, cut.n, early.id, where(est), next.id, early.id)
	b.expect.Decode = []string{
		fmt.Sprintf("the server stream is resynchronised: %d bytes skipped at the start of frame 1 (the tail of a message whose start is not in the capture), first message CALL_ESTABLISHED_EVENT at byte %d of frame 1's payload; the decoder says it resynchronised", cut.n-into, cut.n-into),
		"no OPEN_REQ: the version is inferred from the messages — two-byte floating tags, every version from 20 to 25 decodes all of them, decoded as 24 — and reported as inferred",
		"client side: 10.20.1.15:51877 (sends requests); server 10.20.0.10:42027",
	}
	b.expect.Calls = []string{
		fmt.Sprintf("call %d begins before the capture (first seen with CALL_ESTABLISHED, no BEGIN_CALL): not out of order; it ends with END_CALL", early.id),
		fmt.Sprintf("call %d complete from AGENT_PRE_CALL to CALL_ESTABLISHED, open at the end", next.id),
	}
	b.expect.Anomalies = []Anomaly{
		{Kind: "resync", Frame: first, T: 0, Detail: fmt.Sprintf("server stream starts mid-message: %d bytes skipped before the first header", cut.n-into)},
		{Kind: "version-inferred", Frame: first, T: 0, Detail: "no OPEN_REQ in the capture; messages decode at PV20–25 (two-byte tags), decoded as 24"},
	}
	return b, nil
}
