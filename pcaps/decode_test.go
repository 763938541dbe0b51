package pcaps

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ipcclab/ipcclab/protocol/cti"
)

// agentSession is a short CTI session: open, an agent going available, a
// call delivered with call data big enough to span two TCP segments,
// heartbeats, and two messages sent in one write.
func agentSession(t testing.TB, pv cti.ProtocolVersion) []step {
	t.Helper()
	open := &cti.OpenReq{InvokeID: 1, VersionNumber: uint32(pv), IdleTimeout: 20, PeripheralID: 5000,
		ServicesRequested: cti.ServiceAllEvents, CallMsgMask: 0xffffffff, AgentStateMask: 0x3fff, ClientID: "controller", ClientPassword: []byte{0}}
	conf := &cti.OpenConf{InvokeID: 1, ServicesGranted: cti.ServiceAllEvents, MonitorID: 1, PGStatus: 0, ICMCentralControllerTime: cti.TimeOf(t0), PeripheralOnline: true}
	ready := &cti.AgentStateEvent{MonitorID: 1, PeripheralID: 5000, AgentState: cti.AgentStateAvailable, SkillGroupState: cti.AgentStateAvailable,
		SkillGroupNumber: 100, SkillGroupID: 5001, AgentID: "1001", AgentExtension: "2001", AgentInstrument: "2001"}
	call := &cti.BeginCallEvent{MonitorID: 1, PeripheralID: 5000, CallType: cti.CallTypeACDIn, ConnectionCallID: 77,
		ConnectionDeviceID: "2001", ANI: "5551234567", DNIS: "8005550100", DialedNumber: "8005550100"}
	vars := make([]string, 10)
	for i := range vars {
		vars[i] = strings.Repeat(string(rune('a'+i)), 40)
	}
	cti.SetCallVars(call, [10]string(vars))
	for i := 0; i < 10; i++ {
		call.NamedVariables = append(call.NamedVariables, cti.NamedVar{Name: fmt.Sprintf("user.var%d", i), Value: strings.Repeat("x", 200)})
	}
	call.NumNamedVariables = uint16(len(call.NamedVariables))
	talking := *ready
	talking.AgentState, talking.SkillGroupState = cti.AgentStateTalking, cti.AgentStateTalking
	hb := &cti.HeartbeatReq{InvokeID: 2}
	hbc := &cti.HeartbeatConf{InvokeID: 2}
	two := append(frameOf(t, hbc, pv), frameOf(t, &talking, pv)...)
	return []step{
		{0, true, frameOf(t, open, pv)},
		{10 * time.Millisecond, false, frameOf(t, conf, pv)},
		{time.Second, false, frameOf(t, ready, pv)},
		{2 * time.Second, false, frameOf(t, call, pv)},
		{3 * time.Second, true, frameOf(t, hb, pv)},
		{3*time.Second + 5*time.Millisecond, false, two},
	}
}

var agentSessionTypes = []cti.MessageType{cti.MsgOpenReq, cti.MsgOpenConf, cti.MsgAgentStateEvent, cti.MsgBeginCallEvent,
	cti.MsgHeartbeatReq, cti.MsgHeartbeatConf, cti.MsgAgentStateEvent}

func types(s *Session) []cti.MessageType {
	var out []cti.MessageType
	for _, m := range s.Messages {
		out = append(out, m.Type)
	}
	return out
}

func TestDecodeWholeSession(t *testing.T) {
	raw := sessionCapture(t, "10.1.1.5:51000", "10.1.1.9:42027", agentSession(t, 24), true)
	c := decodeBytes(t, raw)
	if len(c.Sessions) != 1 {
		t.Fatalf("sessions = %d, want 1; notes:\n%s", len(c.Sessions), notesText(c))
	}
	s := c.Sessions[0]
	if got := fmt.Sprint(types(s)); got != fmt.Sprint(agentSessionTypes) {
		t.Errorf("types = %v, want %v", got, agentSessionTypes)
	}
	if s.Client.String() != "10.1.1.5:51000" || s.RoleFrom != "SYN" {
		t.Errorf("client %s from %q", s.Client, s.RoleFrom)
	}
	if s.Version != 24 || !strings.HasPrefix(s.VersionFrom, "OPEN_REQ") {
		t.Errorf("version %d from %q", s.Version, s.VersionFrom)
	}
	if s.ClosedBy != "server" || !strings.HasPrefix(s.Closed, "FIN from server") {
		t.Errorf("closed %q", s.Closed)
	}
	if len(c.Notes) != 0 {
		t.Errorf("notes on a clean capture:\n%s", notesText(c))
	}
	for _, m := range s.Messages {
		if m.Err != nil || m.Msg == nil {
			t.Errorf("#%d %s: %v", m.Seq, m.Type, m.Err)
		}
	}
	// The call data message spans segments: it is reported in the frame of
	// its last byte, after the frame of its first.
	bc := s.Messages[3].Msg.(*cti.BeginCallEvent)
	if bc.CallVariable10 != strings.Repeat("j", 40) || len(bc.NamedVariables) != 10 {
		t.Errorf("BEGIN_CALL call data not reassembled: %+v", bc)
	}
	if !s.Messages[0].FromClient || s.Messages[1].FromClient {
		t.Errorf("directions wrong")
	}
}

func TestDecodeNarrowTagsOnAnyPort(t *testing.T) {
	raw := sessionCapture(t, "192.168.7.20:40001", "192.168.7.1:9000", agentSession(t, 15), false)
	c := decodeBytes(t, raw)
	if len(c.Sessions) != 1 {
		t.Fatalf("sessions = %d; notes:\n%s", len(c.Sessions), notesText(c))
	}
	s := c.Sessions[0]
	if s.Version != 15 || s.Server.Port() != 9000 || len(s.Messages) != len(agentSessionTypes) {
		t.Errorf("version %d server %s messages %d", s.Version, s.Server, len(s.Messages))
	}
	if s.Closed != "" {
		t.Errorf("closed %q on a connection left open", s.Closed)
	}
}

// dataFrames lists the frames carrying TCP payload.
func dataFrames(t testing.TB, raw []byte) []int {
	var out []int
	rewrite(t, raw, func(n int, d []byte) [][]byte {
		if tcpPayloadLen(d) > 0 {
			out = append(out, n)
		}
		return nil
	})
	return out
}

func TestDecodeMidStreamStart(t *testing.T) {
	raw := sessionCapture(t, "10.1.1.5:51000", "10.1.1.9:42027", agentSession(t, 24), true)
	df := dataFrames(t, raw)
	// Data frames: OPEN_REQ, OPEN_CONF, AGENT_STATE, then BEGIN_CALL in
	// two segments. Start the capture at BEGIN_CALL's second segment.
	from := df[4]
	cut := rewrite(t, raw, func(n int, d []byte) [][]byte {
		if n < from {
			return nil
		}
		return [][]byte{d}
	})
	c := decodeBytes(t, cut)
	if len(c.Sessions) != 1 {
		t.Fatalf("sessions = %d; notes:\n%s", len(c.Sessions), notesText(c))
	}
	s := c.Sessions[0]
	want := agentSessionTypes[4:]
	if got := fmt.Sprint(types(s)); got != fmt.Sprint(want) {
		t.Errorf("types = %v, want %v; notes:\n%s", got, want, notesText(c))
	}
	if !strings.Contains(s.VersionFrom, "inferred") || s.Version != 24 {
		t.Errorf("version %d from %q", s.Version, s.VersionFrom)
	}
	if s.RoleFrom == "SYN" || s.Client.Port() != 51000 {
		t.Errorf("roles: client %s from %q", s.Client, s.RoleFrom)
	}
	if n := notesText(c); !strings.Contains(n, "capture starts mid-stream") || !strings.Contains(n, "skipped") {
		t.Errorf("no resync note:\n%s", n)
	}
}

func TestDecodeLostSegment(t *testing.T) {
	raw := sessionCapture(t, "10.1.1.5:51000", "10.1.1.9:42027", agentSession(t, 24), true)
	df := dataFrames(t, raw)
	lost := df[4] // BEGIN_CALL's second segment
	var lostBytes int
	cut := rewrite(t, raw, func(n int, d []byte) [][]byte {
		if n == lost {
			lostBytes = tcpPayloadLen(d)
			return nil
		}
		return [][]byte{d}
	})
	c := decodeBytes(t, cut)
	s := c.Sessions[0]
	want := append(append([]cti.MessageType{}, agentSessionTypes[:3]...), agentSessionTypes[4:]...)
	if got := fmt.Sprint(types(s)); got != fmt.Sprint(want) {
		t.Errorf("types = %v, want %v; notes:\n%s", got, want, notesText(c))
	}
	n := notesText(c)
	for _, w := range []string{"bytes missing", "BEGIN_CALL_EVENT", "lost in the gap"} {
		if !strings.Contains(n, w) {
			t.Errorf("notes lack %q:\n%s", w, n)
		}
	}
	if s.MissingBytes != int64(lostBytes) {
		t.Errorf("missing bytes %d, want the lost segment's %d", s.MissingBytes, lostBytes)
	}
}

func TestDecodeRetransmissionAndReordering(t *testing.T) {
	raw := sessionCapture(t, "10.1.1.5:51000", "10.1.1.9:42027", agentSession(t, 24), true)
	df := dataFrames(t, raw)
	var held []byte
	messy := rewrite(t, raw, func(n int, d []byte) [][]byte {
		switch n {
		case df[3]: // BEGIN_CALL segment 1: hold it back
			held = append([]byte(nil), d...)
			return nil
		case df[4]: // segment 2, then segment 1 late, then 2 again
			return [][]byte{d, held, d}
		}
		return [][]byte{d}
	})
	c := decodeBytes(t, messy)
	s := c.Sessions[0]
	if got := fmt.Sprint(types(s)); got != fmt.Sprint(agentSessionTypes) {
		t.Errorf("types = %v, want %v; notes:\n%s", got, agentSessionTypes, notesText(c))
	}
	if len(c.Notes) != 0 {
		t.Errorf("notes:\n%s", notesText(c))
	}
}

func TestDecodeNotACapture(t *testing.T) {
	for _, in := range [][]byte{nil, []byte("hello world, not a pcap")} {
		_, err := Decode(bytes.NewReader(in), Options{})
		if err == nil || !strings.Contains(err.Error(), "not a capture") {
			t.Errorf("%q: err %v", in, err)
		}
	}
}

func TestDecodeTruncatedFile(t *testing.T) {
	raw := sessionCapture(t, "10.1.1.5:51000", "10.1.1.9:42027", agentSession(t, 24), true)
	c := decodeBytes(t, raw[:len(raw)*2/3])
	if len(c.Sessions) != 1 || len(c.Sessions[0].Messages) < 3 {
		t.Fatalf("sessions %d", len(c.Sessions))
	}
	if n := notesText(c); !strings.Contains(n, "reading stopped") {
		t.Errorf("no note on the damaged end:\n%s", n)
	}
}

func TestDecodeOtherTCP(t *testing.T) {
	raw := sessionCapture(t, "10.1.1.5:51000", "10.1.1.9:80", []step{{0, true, []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")}, {time.Millisecond, false, []byte("HTTP/1.1 200 OK\r\n\r\n")}}, true)
	c := decodeBytes(t, raw)
	if len(c.Sessions) != 0 || len(c.Other) != 1 {
		t.Errorf("sessions %d other %d", len(c.Sessions), len(c.Other))
	}
}
