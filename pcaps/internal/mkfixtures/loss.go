package main

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/ipcclab/ipcclab/internal/capture"
	"github.com/ipcclab/ipcclab/protocol/cti"
)

// buildPacketLoss: a CTI session captured on the controller's host with
// what a real capture of a busy link shows.
//
//   - A segment missing from the middle of the server's stream: at 1 s,
//     fifteen agents log in at the start of a shift and the server writes
//     their thirty AGENT_STATE_EVENTs (LOGIN, then NOT_READY) at once, in
//     MSS-sized segments; the capture drops the second (the kernel
//     received it — the client's ACK covers it — but the capture did not
//     keep it). The messages it touched cannot be decoded; the segment
//     after it starts inside a message, so the decoder must resynchronise.
//   - A retransmission from the client: its HEARTBEAT_REQ at 10 s is
//     lost beyond the capture point and sent again 210 ms later with the
//     same sequence number; the server answers once.
//   - Segments out of order: BEGIN_CALL_EVENT and CALL_DELIVERED_EVENT,
//     written one after the other at 12 s, reach the capture in the
//     opposite order.
//   - A spurious retransmission from the server: CALL_ESTABLISHED_EVENT
//     and AGENT_STATE_EVENT TALKING are sent again 300 ms later because the
//     client's ACK was lost.
func buildPacketLoss(*env) (*built, error) {
	r := newRawFile(fieldT0)
	client := netip.MustParseAddrPort("10.20.1.15:51301")
	k := r.conn(24, client, fieldServer, 0x5a17c0de, 0x2b6e11f3)
	k.handshake(0)
	k.msg(0.010, fromClient, openReq(1, 24, 40, fieldClientID))
	k.add(fromServer, openConf(1, r.at(0.012)))
	k.add(fromServer, systemEvent(r.at(0.012), cti.SysPeripheralOnline, 0))
	k.send(0.012, fromServer, len(k.l.bytes[fromServer])-k.sent[fromServer])
	k.ack(0.052, fromClient)

	// The login burst, one write of thirty messages.
	burst := k.sent[fromServer]
	var burstMsgs []*ledgerMsg
	for i := range 15 {
		a := agentInfo{id: strconv.Itoa(1001 + i), ext: strconv.Itoa(2001 + i), icm: int32(101001 + i)}
		burstMsgs = append(burstMsgs, k.add(fromServer, agentState(a, cti.AgentStateLogin, 0, cti.DirectionNone)))
		burstMsgs = append(burstMsgs, k.add(fromServer, agentState(a, cti.AgentStateNotReady, 0, cti.DirectionNone)))
	}
	total := len(k.l.bytes[fromServer]) - burst
	if total <= 2*capture.MSS {
		return nil, fmt.Errorf("the login burst is %d bytes, too short to lose a middle segment", total)
	}
	f1 := k.segment(1.0, fromServer, burst, capture.MSS, false)
	gapOff, gapLen := burst+capture.MSS, capture.MSS
	k.skip(fromServer, gapLen)
	var after []int
	for off := gapOff + gapLen; off < burst+total; off += capture.MSS {
		n := min(capture.MSS, burst+total-off)
		after = append(after, k.segment(1.0, fromServer, off, n, off+n == burst+total))
	}
	ackGap := k.ack(1.04, fromClient)
	// The first message wholly after the gap is where decoding resumes.
	gapEnd := gapOff + gapLen
	var resume *ledgerMsg
	var lostAgents []string
	for _, lm := range burstMsgs {
		if lm.off < gapEnd && lm.off+lm.n > gapOff {
			a := lm.m.(*cti.AgentStateEvent)
			lostAgents = append(lostAgents, a.AgentID+" "+strings.TrimPrefix(a.AgentState.String(), "AGENT_STATE_"))
		}
		if resume == nil && lm.off >= gapEnd {
			resume = lm
		}
	}
	if resume == nil {
		return nil, fmt.Errorf("no message starts after the gap")
	}

	a1003 := agentInfo{"1003", "2003", 101003}
	k.msg(5.0, fromServer, agentState(a1003, cti.AgentStateAvailable, 0, cti.DirectionNone))
	k.ack(5.04, fromClient)

	// The heartbeat retransmitted.
	hb := k.add(fromClient, &cti.HeartbeatReq{InvokeID: 2})
	hbFirst := k.segment(10.0, fromClient, hb.off, hb.n, true)
	hbAgain := k.segment(10.21, fromClient, hb.off, hb.n, true)
	k.msg(10.212, fromServer, &cti.HeartbeatConf{InvokeID: 2})
	k.ack(10.252, fromClient)

	// The call, with two segments swapped.
	call := inboundCall{id: 16777801, ani: "2125550143", account: "40312345", key: 6120}
	k.add(fromServer, preCall(a1003, call))
	k.add(fromServer, agentState(a1003, cti.AgentStateReserved, 0, cti.DirectionIn))
	k.send(11.5, fromServer, len(k.l.bytes[fromServer])-k.sent[fromServer])
	k.ack(11.54, fromClient)
	begin := k.add(fromServer, beginCallIn(a1003, call))
	deliv := k.add(fromServer, deliveredIn(a1003, call))
	early := k.segment(12.0005, fromServer, deliv.off, deliv.n, true)
	late := k.segment(12.001, fromServer, begin.off, begin.n, false)
	k.ack(12.041, fromClient)

	// The spurious retransmission.
	est := k.add(fromServer, establishedIn(a1003, call))
	talk := k.add(fromServer, agentState(a1003, cti.AgentStateTalking, 0, cti.DirectionIn))
	estFrame := k.send(13.0, fromServer, est.n+talk.n)[0]
	k.ack(13.04, fromClient)
	estAgain := k.segment(13.3, fromServer, est.off, est.n+talk.n, true)
	k.ack(13.3004, fromClient)

	k.msg(20, fromClient, &cti.HeartbeatReq{InvokeID: 3})
	k.msg(20.002, fromServer, &cti.HeartbeatConf{InvokeID: 3})
	k.ack(20.042, fromClient)
	k.add(fromServer, connectionCleared(call.id, cti.ConnectionIDStatic, a1003.ext, call.ani, cti.DevIDExternal))
	k.add(fromServer, callCleared(call.id, a1003.ext))
	k.add(fromServer, agentState(a1003, cti.AgentStateAvailable, 0, cti.DirectionNone))
	k.add(fromServer, endCall(call.id, cti.ConnectionIDStatic, a1003.ext))
	k.send(22.0, fromServer, len(k.l.bytes[fromServer])-k.sent[fromServer])
	k.ack(22.04, fromClient)
	k.msg(25, fromClient, &cti.CloseReq{InvokeID: 4, Status: cti.StatusNoError})
	k.msg(25.002, fromServer, &cti.CloseConf{InvokeID: 4})
	k.close(25.01, fromClient)

	k.l.tcp = []TCPEvent{
		{Kind: "gap", From: "server", Frame: after[0], T: rel(1.0), Offset: gapOff, Bytes: gapLen,
			Note: fmt.Sprintf("one %d-byte segment between frames %d and %d is not in the capture; the client's ACK (frame %d) acknowledges it", gapLen, f1, after[0], ackGap)},
		{Kind: "retransmission", From: "client", Frame: hbAgain, T: rel(10.21), Offset: hb.off, Bytes: hb.n,
			Note: fmt.Sprintf("HEARTBEAT_REQ InvokeID 2 again, same sequence number as frame %d", hbFirst)},
		{Kind: "out_of_order", From: "server", Frame: early, T: rel(12.0005), Offset: deliv.off, Bytes: deliv.n,
			Note: fmt.Sprintf("CALL_DELIVERED_EVENT's segment arrives before frame %d, which carries the BEGIN_CALL_EVENT before it in the stream", late)},
		{Kind: "retransmission", From: "server", Frame: estAgain, T: rel(13.3), Offset: est.off, Bytes: est.n + talk.n,
			Note: fmt.Sprintf("the segment of frame %d (CALL_ESTABLISHED_EVENT, AGENT_STATE_EVENT) again", estFrame)},
	}
	b := finishRaw(r, k, &Expect{})
	skipped := resume.off - gapEnd
	b.expect.Summary = fmt.Sprintf("Packet loss and a busy link. At 1 s the server writes 30 AGENT_STATE_EVENTs (agents 1001–1015 LOGIN then NOT_READY, %d bytes) in %d segments; the capture lacks the second (%d bytes at stream offset %d, between frames %d and %d, ACKed by the client in frame %d). The client's HEARTBEAT_REQ 2 is retransmitted (frames %d and %d); BEGIN_CALL_EVENT and CALL_DELIVERED_EVENT of call %d reach the capture swapped (frames %d and %d); the server retransmits CALL_ESTABLISHED_EVENT and AGENT_STATE_EVENT TALKING (frame %d again as frame %d). The session ends with CLOSE_REQ/CLOSE_CONF and a FIN.",
		total, 2+len(after), gapLen, gapOff, f1, after[0], ackGap, hbFirst, hbAgain, call.id, early, late, estFrame, estAgain)
	b.expect.Decode = []string{
		fmt.Sprintf("server stream: a gap of %d bytes at offset %d (after frame %d); the messages it touches are not decoded (%d of them: %s)", gapLen, gapOff, f1, len(lostAgents), strings.Join(lostAgents, ", ")),
		fmt.Sprintf("after the gap, %d bytes are skipped and decoding resumes with %s at offset %d (frame %d); the decoder says so and carries on", skipped, resume.desc.Type, resume.off, after[0]),
		fmt.Sprintf("the retransmitted HEARTBEAT_REQ (frame %d) and the retransmitted segment of frame %d (frame %d) are decoded once", hbAgain, estFrame, estAgain),
		fmt.Sprintf("BEGIN_CALL_EVENT is decoded before CALL_DELIVERED_EVENT (stream order), both complete at frame %d", late),
	}
	b.expect.Calls = []string{
		fmt.Sprintf("call %d complete and in order: AGENT_PRE_CALL, BEGIN_CALL, CALL_DELIVERED, CALL_ESTABLISHED, …, END_CALL", call.id),
		"agents whose login events were lost are shown from their next event (or not at all); no anomaly is invented from the gap beyond reporting it",
	}
	b.expect.Anomalies = []Anomaly{
		{Kind: "tcp-gap", Frame: after[0], T: rel(1.0), Frames: []int{f1, ackGap}, Detail: fmt.Sprintf("%d bytes of the server's stream missing at offset %d", gapLen, gapOff)},
		{Kind: "resync", Frame: after[0], T: rel(1.0), Detail: fmt.Sprintf("%d bytes skipped after the gap; resumes at %s (offset %d)", skipped, resume.desc.Type, resume.off)},
	}
	return b, nil
}
