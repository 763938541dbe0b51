package pg

import (
	"testing"
	"time"
)

// TestDirectCallToAvailableAgent: a dialer's customer transferred to an
// Available agent's extension: BEGIN_CALL (CUSTOMER_PREDICTIVE, the call
// variables), CALL_DELIVERED and RESERVED, then on the phone's answer
// CALL_ESTABLISHED and TALKING (Direction 7); the customer hangs up and the
// agent is Available again. The router is not told (no CallAnswered).
func TestDirectCallToAvailableAgent(t *testing.T) {
	r := newRig(t, DeskSettings{})
	r.login(t, "1001", "2001", "pw")
	must(t, r.set("1001", StateAvailable, 0))
	r.events = nil
	id, err := r.pg.DirectIncoming(Incoming{ANI: "15555550123", DNIS: "2001", DialedNumber: "2001",
		CallVariables: [10]string{"camp-1", "acct-9"}}, "2001")
	must(t, err)
	if ci, ok := r.pg.Call(id); !ok || ci.AgentID != "1001" || ci.Phase != "alerting" {
		t.Fatalf("call %+v live %v", ci, ok)
	}
	r.run(100 * time.Millisecond)
	must(t, r.pg.DirectAnswered(id))
	if st := r.state(t, "1001"); st.State != StateTalking || st.Direction != DirectionOutboundPredictive {
		t.Fatalf("agent %s dir %d", st.State, st.Direction)
	}
	r.run(30 * time.Second)
	r.pg.TrunkDisconnected(id)
	golden(t, r.transcript(), ids([]string{
		`BEGIN_CALL_EVENT conn={1}@2001 calltype=34 ani=15555550123 dnis=2001 dn=2001 key=0/0/0 cv1="camp-1" cv2="acct-9"`,
		"CALL_DELIVERED_EVENT conn={1}@2001 alerting=2001 calling=15555550123 called=2001 lcs=2 cause=22 sg=4294967295",
		"AGENT_STATE_EVENT agent=1001 ext=2001 state=RESERVED dir=7 avail=0",
		"CALL_ESTABLISHED_EVENT conn={1}@2001 answering=2001 calling=15555550123 called=2001 lcs=3 cause=65535",
		"AGENT_STATE_EVENT agent=1001 ext=2001 state=TALKING dir=7 avail=0",
		"CALL_CONNECTION_CLEARED_EVENT conn={1}@15555550123 releasing=15555550123 lcs=0 cause=65535",
		"CALL_CLEARED_EVENT conn={1}@2001 lcs=0 cause=65535",
		"AGENT_STATE_EVENT agent=1001 ext=2001 state=AVAILABLE avail=1",
		"END_CALL_EVENT conn={1}@2001",
	}, id))
	if r.answered != 0 {
		t.Errorf("CallAnswered hook called %d times for a call the router never routed", r.answered)
	}
	if _, live := r.pg.Call(id); live {
		t.Fatal("call still live after the customer hung up")
	}
}

// TestDirectCallToNotReadyAgentWrapUp: a dialer keeps its reserved agent Not
// Ready; the direct call rings there without RESERVED, the agent hangs up
// and is Not Ready (same reason) again, with wrap-up when the desk settings
// ask for it on outgoing calls.
func TestDirectCallToNotReadyAgentWrapUp(t *testing.T) {
	r := newRig(t, DeskSettings{WrapUpOutgoing: true})
	r.login(t, "1001", "2001", "pw")
	must(t, r.set("1001", StateNotReady, 7))
	r.events = nil
	id, err := r.pg.DirectIncoming(Incoming{ANI: "15555550124", DNIS: "2001", DialedNumber: "2001"}, "2001")
	must(t, err)
	must(t, r.pg.DirectAnswered(id))
	r.run(10 * time.Second)
	must(t, r.pg.ClearConnection(id, "2001"))
	got := r.transcript()
	golden(t, got, ids([]string{
		"BEGIN_CALL_EVENT conn={1}@2001 calltype=34 ani=15555550124 dnis=2001 dn=2001 key=0/0/0",
		"CALL_DELIVERED_EVENT conn={1}@2001 alerting=2001 calling=15555550124 called=2001 lcs=2 cause=22 sg=4294967295",
		"CALL_ESTABLISHED_EVENT conn={1}@2001 answering=2001 calling=15555550124 called=2001 lcs=3 cause=65535",
		"AGENT_STATE_EVENT agent=1001 ext=2001 state=TALKING dir=7 avail=0",
		"CALL_CONNECTION_CLEARED_EVENT conn={1}@2001 releasing=2001 lcs=0 cause=65535",
		"CALL_CLEARED_EVENT conn={1}@2001 lcs=0 cause=65535",
		"AGENT_STATE_EVENT agent=1001 ext=2001 state=WORK_NOT_READY dir=7 avail=0",
		"END_CALL_EVENT conn={1}@2001",
	}, id))
}

// TestDirectCallToLine: an outbound-only agent's line (no ICM agent) gets
// the call events and no agent state; the line is busy while connected.
func TestDirectCallToLine(t *testing.T) {
	r := newRig(t, DeskSettings{})
	r.events = nil
	id, err := r.pg.DirectIncoming(Incoming{ANI: "15555550125", DNIS: "2302", DialedNumber: "2302"}, "2302")
	must(t, err)
	must(t, r.pg.DirectAnswered(id))
	if _, err := r.pg.DirectIncoming(Incoming{ANI: "15555550126"}, "SEP2302"); code(err) != CFResourceBusy {
		t.Fatalf("second call to a busy line: %v", err)
	}
	if ls := r.pg.Lines(); ls[1].CallID != id {
		t.Fatalf("lines %+v", ls)
	}
	r.run(5 * time.Second)
	r.pg.TrunkDisconnected(id)
	golden(t, r.transcript(), ids([]string{
		"BEGIN_CALL_EVENT conn={1}@SEP2302 calltype=34 ani=15555550125 dnis=2302 dn=2302 key=0/0/0",
		"CALL_DELIVERED_EVENT conn={1}@SEP2302 alerting=SEP2302 calling=15555550125 called=SEP2302 lcs=2 cause=22 sg=4294967295",
		"CALL_ESTABLISHED_EVENT conn={1}@SEP2302 answering=SEP2302 calling=15555550125 called=SEP2302 lcs=3 cause=65535",
		"CALL_CONNECTION_CLEARED_EVENT conn={1}@15555550125 releasing=15555550125 lcs=0 cause=65535",
		"CALL_CLEARED_EVENT conn={1}@SEP2302 lcs=0 cause=65535",
		"END_CALL_EVENT conn={1}@SEP2302",
	}, id))
	if ls := r.pg.Lines(); ls[1].CallID != 0 || ls[1].Calls != 1 {
		t.Fatalf("line after the call %+v", ls[1])
	}
	// The customer gives up while the line rings.
	id, err = r.pg.DirectIncoming(Incoming{ANI: "15555550127"}, "2301")
	must(t, err)
	r.pg.TrunkDisconnected(id)
	if _, live := r.pg.Call(id); live {
		t.Fatal("call still live")
	}
	if err := r.pg.DirectAnswered(id); code(err) != CFInvalidCallID {
		t.Fatalf("answer after the customer left: %v", err)
	}
}

func TestDirectCallFailures(t *testing.T) {
	r := newRig(t, DeskSettings{})
	r.login(t, "1001", "2001", "pw")
	must(t, r.set("1001", StateAvailable, 0))
	if _, err := r.pg.DirectIncoming(Incoming{ANI: "1"}, "2002"); code(err) != CFResourceBusy {
		t.Errorf("logged-out agent: %v", err)
	}
	if _, err := r.pg.DirectIncoming(Incoming{ANI: "1"}, "9999"); code(err) != CFInvalidDestination {
		t.Errorf("unknown device: %v", err)
	}
	id, err := r.pg.DirectIncoming(Incoming{ANI: "1"}, "2001")
	must(t, err)
	if _, err := r.pg.DirectIncoming(Incoming{ANI: "2"}, "2001"); code(err) != CFResourceBusy {
		t.Errorf("agent with a ringing call: %v", err)
	}
	must(t, r.pg.DirectAnswered(id))
	if err := r.pg.DirectAnswered(id); code(err) != CFNoCallToAnswer {
		t.Errorf("answered twice: %v", err)
	}
	// A predictive call is not a direct call.
	r2 := newRig(t, DeskSettings{})
	p, err := r2.pg.MakePredictiveCall(PredictiveCallRequest{DialedNumber: "15550100", OriginatingDevice: "2301"})
	must(t, err)
	if err := r2.pg.DirectAnswered(p); code(err) != CFInvalidObjectState {
		t.Errorf("DirectAnswered on a predictive call: %v", err)
	}
	r.pg.SetOnline(false)
	if _, err := r.pg.DirectIncoming(Incoming{ANI: "3"}, "2001"); code(err) != CFResourceOutOfService {
		t.Errorf("offline: %v", err)
	}
}
