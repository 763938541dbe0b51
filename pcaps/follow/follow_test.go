package follow

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/ipcclab/ipcclab/protocol/cti"
)

func whats(ls []Line) []string {
	var out []string
	for _, l := range ls {
		out = append(out, l.What)
	}
	return out
}

func TestAgentTimeline(t *testing.T) {
	cases := []struct {
		name  string
		build func(s *SessionBuilder)
		want  []string
	}{
		{name: "routed call, pre-call before RESERVED", build: func(s *SessionBuilder) { normalCall(s, 77, 10) }, want: []string{
			"AVAILABLE", "AGENT_PRE_CALL_EVENT call 77", "RESERVED (pre-call for call 77)", "TALKING call 77", "WORK_READY", "AVAILABLE"}},
		{name: "RESERVED before the pre-call (order not guaranteed)", build: func(s *SessionBuilder) {
			s.S(1*sec, stateEvent(cti.AgentStateReserved, 0)).S(1100*ms, preCall(77)).S(1500*ms, beginCall(77, "1001"))
		}, want: []string{"RESERVED (pre-call for call 77)", "AGENT_PRE_CALL_EVENT call 77"}},
		{name: "pre-call aborted: no call with its RouterCallKey", build: func(s *SessionBuilder) {
			s.S(1*sec, preCall(78)).S(1*sec, stateEvent(cti.AgentStateReserved, 0)).S(2*sec, preCallAbort(78)).
				S(2*sec, stateEvent(cti.AgentStateAvailable, 0))
		}, want: []string{
			"AGENT_PRE_CALL_EVENT RouterCallKey 150000/1078/1 (no call with it in the capture)",
			"RESERVED (pre-call for RouterCallKey 150000/1078/1)",
			"AGENT_PRE_CALL_ABORT_EVENT RouterCallKey 150000/1078/1 (no call with it in the capture)",
			"AVAILABLE"}},
		{name: "requests with their answers, reason codes, pending state", build: func(s *SessionBuilder) {
			ev := stateEvent(cti.AgentStateTalking, 0)
			ev.NextAgentState = cti.AgentStateNotReady
			ev.SetPresent(cti.TagExtAgentState)
			s.S(1*sec, stateEvent(cti.AgentStateNotReady, 12)).
				C(2*sec, setStateReq(4, cti.AgentStateAvailable, 0)).S(2100*ms, &cti.SetAgentStateConf{InvokeID: 4}).
				S(2200*ms, stateEvent(cti.AgentStateAvailable, 0)).
				C(3*sec, setStateReq(5, cti.AgentStateNotReady, 99)).S(3100*ms, &cti.ControlFailureConf{InvokeID: 5, FailureCode: cti.ControlFailureCode(266)}).
				C(4*sec, &cti.QueryAgentStateReq{InvokeID: 6, PeripheralID: periph, AgentID: "1001"}).
				S(4100*ms, &cti.QueryAgentStateConf{InvokeID: 6, AgentState: cti.AgentStateAvailable}).
				S(5*sec, ev)
		}, want: []string{
			"NOT_READY reason 12",
			"SET_AGENT_STATE_REQ AVAILABLE InvokeID=4 → SET_AGENT_STATE_CONF (f5)",
			"AVAILABLE",
			"SET_AGENT_STATE_REQ NOT_READY reason 99 InvokeID=5 → CONTROL_FAILURE_CONF " + cti.ControlFailureCode(266).String() + " (f8)",
			"QUERY_AGENT_STATE_CONF AVAILABLE",
			"TALKING next NOT_READY"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := NewCaptureBuilder(t)
			tc.build(opened(b))
			r := Follow(b.Capture(), Options{})
			if len(r.Agents) != 1 || r.Agents[0].ID != "1001" {
				t.Fatalf("agents %+v, want only 1001", r.Agents)
			}
			if got := whats(r.Agents[0].Timeline); !slices.Equal(got, tc.want) {
				t.Fatalf("timeline:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
		})
	}
}

// Two sessions (a blender and a recorder, both ALL_EVENTS bridges) see the
// same call: one ladder naming both, and the agent's states folded.
func TestCallSeenBySeveralSessions(t *testing.T) {
	b := NewCaptureBuilder(t)
	s1 := opened(b)
	s2 := b.Session("10.0.0.3:50001", server).C(0, openReq(1, null32)).S(10*ms, openConf(1, 0))
	for _, s := range []*SessionBuilder{s1, s2} {
		s.S(1*sec, beginCall(77, "1001")).S(1*sec, delivered(77, "1001"))
	}
	s1.S(2*sec, stateEvent(cti.AgentStateTalking, 0))
	s2.S(2*sec, stateEvent(cti.AgentStateTalking, 0))
	r := Follow(b.Capture(), Options{})
	if len(r.Calls) != 1 {
		t.Fatalf("%d calls, want 1", len(r.Calls))
	}
	c := r.Calls[0]
	if !slices.Equal(c.Sessions, []int{1, 2}) || c.Key != (CallKey{periph, 77}) {
		t.Errorf("call %+v seen by %v", c.Key, c.Sessions)
	}
	var srcs []string
	for _, l := range c.Ladder {
		srcs = append(srcs, l.Source)
	}
	if want := []string{"CTI#1", "CTI#1", "CTI#2", "CTI#2"}; !slices.Equal(srcs, want) {
		t.Errorf("ladder sources %v, want %v", srcs, want)
	}
	tl := r.Agents[0].Timeline
	if len(tl) != 1 || tl[0].Source != "CTI#1 CTI#2" || tl[0].What != "TALKING call 77" {
		t.Errorf("timeline %+v, want one TALKING line from both sessions", tl)
	}
	if c.ANI != "8005550100" || c.DNIS != "5000" || c.CallType == "" || !slices.Equal(c.Agents, []string{"1001"}) {
		t.Errorf("call facts %+v", c)
	}
}

// A confirmation joins the call of its request; a transfer names both
// calls; the pre-call joins the call with its RouterCallKey.
func TestLadderJoins(t *testing.T) {
	b := NewCaptureBuilder(t)
	opened(b).S(500*ms, preCall(77)).S(1*sec, beginCall(77, "1001")).
		C(2*sec, &cti.SetCallDataReq{InvokeID: 8, PeripheralID: periph, ConnectionCallID: 77, ConnectionDeviceID: "1001", CallVariable3: "x y"}).
		S(2100*ms, &cti.SetCallDataConf{InvokeID: 8}).
		S(3*sec, beginCall(78, "1001")).
		S(4*sec, &cti.CallTransferredEvent{PeripheralID: periph, PrimaryCallID: 77, PrimaryDeviceID: "1001", SecondaryCallID: 78,
			SecondaryDeviceID: "1001", LocalConnectionState: cti.LCSConnect, EventCause: cti.EventCause(32)})
	r := Follow(b.Capture(), Options{})
	if len(r.Calls) != 2 {
		t.Fatalf("%d calls, want 2", len(r.Calls))
	}
	got := whats(r.Calls[0].Ladder)
	want := []string{
		"AGENT_PRE_CALL_EVENT SkillGroupNumber=10 AgentInstrument=1001 RouterCallKey=150000/1077/1 ANI=8005550100 AgentID=1001",
		"BEGIN_CALL_EVENT at 1001 CallType=" + cti.CallType(1).String() + " ANI=8005550100 DNIS=5000 DialedNumber=8005550199 RouterCallKey=150000/1077/1 CallVariable1=acct-42",
		`SET_CALL_DATA_REQ at 1001 InvokeID=8 CallVariable3="x y"`,
		"SET_CALL_DATA_CONF InvokeID=8",
		"CALL_TRANSFERRED_EVENT PrimaryCallID=77 SecondaryCallID=78 LocalConnectionState=LCS_CONNECT EventCause=" + cti.EventCause(32).String() + " PrimaryDeviceID=1001 SecondaryDeviceID=1001",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("ladder of call 77:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	if n := len(r.Calls[1].Ladder); n != 2 {
		t.Errorf("call 78 has %d lines, want BEGIN_CALL and the transfer", n)
	}
}

func TestSessionSummary(t *testing.T) {
	b := NewCaptureBuilder(t)
	s := b.Session(client, server).C(0, openReq(1, 20)).S(10*ms, openConf(1, cti.PGSPeripheralOffline))
	for i := 1; i <= 4; i++ {
		s.C(timeD(i)*5*sec, &cti.HeartbeatReq{InvokeID: uint32(1 + i)}).S(timeD(i)*5*sec+ms, &cti.HeartbeatConf{InvokeID: uint32(1 + i)})
	}
	s.S(21*sec, systemEvent(cti.SysPeripheralOnline, 0, periph)).
		C(22*sec, setStateReq(9, cti.AgentStateAvailable, 0)).S(22*sec, &cti.FailureConf{InvokeID: 9, Status: cti.Status(4)}).
		S(23*sec, &cti.FailureEvent{Status: cti.Status(15)}).
		Undecoded(23500*ms, cti.MsgAgentStateEvent).
		C(24*sec, &cti.CloseReq{InvokeID: 10}).S(24100*ms, &cti.CloseConf{InvokeID: 10}).
		Close(24200*ms, "client", "FIN")
	r := Follow(b.Capture(), Options{})
	sum := r.Sessions[0]
	var text bytes.Buffer
	if err := r.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	checks := []struct{ got, want string }{
		{sum.IdleTimeout, "20 s"},
		{sum.HeartbeatEvery, "5.000 s (5.000–5.000)"},
		{sum.LargestGapClient, "5.000 s (f1 → f3)"},
		{sum.Ended, "FIN from client (frame 18) at +24.200, after CLOSE_REQ " + cti.Status(0).String() + " (f16) and CLOSE_CONF (f17)"},
		{whats(sum.PGStatus)[0], "OPEN_CONF PGStatus=PGS_PERIPHERAL_OFFLINE, peripheral offline"},
		{whats(sum.PGStatus)[1], "SYSTEM_EVENT SYS_PERIPHERAL_ONLINE peripheral 5000 PGStatus=0"},
		{whats(sum.Refusals)[0], "FAILURE_CONF " + cti.Status(4).String() + " to SET_AGENT_STATE_REQ InvokeID=9 (f12)"},
		{whats(sum.Refusals)[1], "FAILURE_EVENT " + cti.Status(15).String()},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("got  %q\nwant %q", c.got, c.want)
		}
	}
	if sum.Heartbeats != 4 || sum.Messages != 17 || sum.FromClient != 7 || sum.Undecoded != 1 || sum.Unconfirmed != 0 {
		t.Errorf("counts %+v", sum)
	}
	if !strings.Contains(text.String(), "1 not decoded (not followed)") {
		t.Errorf("text does not report the undecoded message:\n%s", text.String())
	}
}

func TestNilCaptureAndBadOptions(t *testing.T) {
	r := Follow(nil, Options{ReservedAfter: -1})
	var b bytes.Buffer
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "0 anomalies, 0 CTI sessions, 0 calls") || timeD(r.Options.ReservedAfter) != DefaultReservedAfter {
		t.Errorf("empty report:\n%s", b.String())
	}
	err := Options{ReservedAfter: -1, JoinWindow: -2}.Validate()
	if err == nil || !strings.Contains(err.Error(), "Options.ReservedAfter -1ns: must not be negative") ||
		!strings.Contains(err.Error(), "Options.JoinWindow") || strings.Contains(err.Error(), "ConfirmWithin") {
		t.Errorf("Validate: %v", err)
	}
	if err := (Options{}).Validate(); err != nil {
		t.Errorf("zero options: %v", err)
	}
}

// constructedCapture has a bit of everything: two sessions, a normal call,
// an agent left RESERVED, a refusal, the peripheral going offline mid-call,
// an unconfirmed request at the close.
func constructedCapture(t *testing.T) *CaptureBuilder {
	b := NewCaptureBuilder(t)
	s1 := b.Session(client, server).C(0, openReq(1, 20)).S(10*ms, openConf(1, 0)).
		S(20*ms, systemEvent(cti.SysPeripheralOnline, 0, periph))
	normalCall(s1, 77, 10)
	s2 := b.Session("10.0.0.3:50001", server).C(1*sec, openReq(1, null32)).S(1010*ms, openConf(1, 0))
	s2.S(2*sec, beginCall(77, "1001")).S(2100*ms, delivered(77, "1001"))
	for i := 1; i <= 4; i++ {
		s1.C(timeD(i)*5*sec, &cti.HeartbeatReq{InvokeID: uint32(10 + i)}).S(timeD(i)*5*sec+ms, &cti.HeartbeatConf{InvokeID: uint32(10 + i)})
	}
	s1.S(16*sec, stateEvent(cti.AgentStateReserved, 0)).
		S(17*sec, beginCall(80, "1001")).S(17*sec, delivered(80, "1001")).S(18*sec, established(80, "1001")).
		S(18*sec, stateEvent(cti.AgentStateTalking, 0)).
		C(19*sec, setStateReq(30, cti.AgentStateAvailable, 0)).S(19100*ms, &cti.ControlFailureConf{InvokeID: 30, FailureCode: cti.ControlFailureCode(33)}).
		S(20*sec, systemEvent(cti.SysPeripheralOffline, cti.PGSPeripheralOffline, periph)).
		C(21*sec, setStateReq(31, cti.AgentStateNotReady, 5)).
		Close(22*sec, "server", "RST")
	s2.S(25*sec, stateEvent(cti.AgentStateReserved, 0))
	b.Until(40 * sec)
	return b
}

func TestGoldenConstructed(t *testing.T) {
	r := Follow(constructedCapture(t).Capture(), Options{})
	var text, js bytes.Buffer
	if err := r.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	golden(t, "constructed.calls.txt", text.Bytes())
	golden(t, "constructed.calls.json", js.Bytes())
	if !json.Valid(js.Bytes()) {
		t.Error("JSON output is not valid JSON")
	}
	want := []string{KindAvailableWhileTalking, KindPGOfflineMidCall, KindOutstandingAtClose, KindAgentStuckReserved}
	if got := kinds(r); !slices.Equal(got, want) {
		t.Errorf("anomalies %v, want %v:\n%s", got, want, anomaliesText(r))
	}
	// The same capture gives the same report, byte for byte.
	var again bytes.Buffer
	Follow(constructedCapture(t).Capture(), Options{}).WriteText(&again)
	if !bytes.Equal(again.Bytes(), text.Bytes()) {
		t.Error("a second Follow of the same capture printed a different report")
	}
}
