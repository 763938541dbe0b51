package pg

import (
	"strings"
	"testing"
	"time"
)

// ids replaces {1}, {2}, … in golden lines by the given call IDs.
func ids(want []string, id ...uint32) []string {
	out := make([]string, len(want))
	for i, w := range want {
		for k, v := range id {
			w = strings.ReplaceAll(w, "{"+itoa(uint32(k+1))+"}", itoa(v))
		}
		out[i] = w
	}
	return out
}

// talking: agent 1001 is TALKING on a routed inbound call ({1}), agent 1002
// is Available; the events so far are dropped.
func talking(t *testing.T, desk DeskSettings) (*rig, uint32) {
	t.Helper()
	r := newRig(t, desk)
	r.login(t, "1001", "2001", "pw")
	r.login(t, "1002", "2002", "")
	_ = r.set("1001", StateAvailable, 0)
	id := r.routeCall(t)
	if err := r.pg.AnswerCall("2001", id); err != nil {
		t.Fatal(err)
	}
	_ = r.set("1002", StateAvailable, 0)
	r.events = nil
	return r, id
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestMakeCallInternal: MAKE_CALL to another agent's extension
// (cti-protocol.md §5.9(b), ipcc-behaviour.md §3.3): the events follow the
// return; AGENT_INSIDE, the originator TALKING other-out, the called agent
// RESERVED then TALKING other-in; after the call both go back (no wrap-up
// for a call between extensions unless "work mode on outgoing").
func TestMakeCallInternal(t *testing.T) {
	r := newRig(t, DeskSettings{WrapUpIncoming: true})
	r.login(t, "1001", "2001", "pw")
	r.login(t, "1002", "2002", "")
	_ = r.set("1002", StateAvailable, 0)
	r.events = nil
	conn, err := r.pg.MakeCall(MakeCallRequest{Instrument: "2001", DialedNumber: "2002"})
	must(t, err)
	if len(r.events) != 0 {
		t.Fatal("events before the confirmation: the CTI Server must be able to send MAKE_CALL_CONF first")
	}
	if conn.DeviceID != "2001" || conn.DeviceIDType != ConnectionStatic {
		t.Fatalf("originating connection %+v", conn)
	}
	r.run(2 * time.Second)
	must(t, r.pg.AnswerCall("2002", conn.CallID))
	if ci, _ := r.pg.Call(conn.CallID); ci.Phase != "connected" || len(ci.Parties) != 2 || ci.Parties[1].State != LCSConnect {
		t.Fatalf("snapshot %+v", ci)
	}
	r.run(30 * time.Second)
	must(t, r.pg.ClearConnection(conn.CallID, "2001"))
	golden(t, r.transcript(), ids([]string{
		"BEGIN_CALL_EVENT conn={1}@2001 calltype=10 ani=2001 dnis=2002 dn=2002 key=0/0/0",
		"CALL_SERVICE_INITIATED_EVENT conn={1}@2001 calling=2001 lcs=1",
		"CALL_ORIGINATED_EVENT conn={1}@2001 calling=2001 called=2002 lcs=1",
		"AGENT_STATE_EVENT agent=1001 ext=2001 state=TALKING dir=4 avail=0",
		"CALL_DELIVERED_EVENT conn={1}@2002 alerting=2002 calling=2001 called=2002 lcs=2 cause=22 sg=4294967295",
		"AGENT_STATE_EVENT agent=1002 ext=2002 state=RESERVED dir=3 avail=0",
		"CALL_ESTABLISHED_EVENT conn={1}@2002 answering=2002 calling=2001 called=2002 lcs=3 cause=65535",
		"AGENT_STATE_EVENT agent=1002 ext=2002 state=TALKING dir=3 avail=0",
		"CALL_CONNECTION_CLEARED_EVENT conn={1}@2001 releasing=2001 lcs=0 cause=65535",
		"CALL_CLEARED_EVENT conn={1}@2002 lcs=0 cause=65535",
		"AGENT_STATE_EVENT agent=1002 ext=2002 state=AVAILABLE avail=1",
		"AGENT_STATE_EVENT agent=1001 ext=2001 state=NOT_READY reason=0 avail=0",
		"END_CALL_EVENT conn={1}@2001",
	}, conn.CallID))
	if r.pg.ActiveCalls() != 0 {
		t.Fatal("call still alive")
	}
	// The called agent busy: the call fails at once.
	_ = r.set("1002", StateNotReady, 4)
	id, _ := r.pg.MakeCall(MakeCallRequest{Instrument: "2002", DialedNumber: "15550100"})
	r.run(0)
	r.events = nil
	c, err := r.pg.MakeCall(MakeCallRequest{Instrument: "2001", DialedNumber: "2002"})
	must(t, err)
	r.run(0)
	golden(t, r.transcript(), ids([]string{
		"BEGIN_CALL_EVENT conn={1}@2001 calltype=10 ani=2001 dnis=2002 dn=2002 key=0/0/0",
		"CALL_SERVICE_INITIATED_EVENT conn={1}@2001 calling=2001 lcs=1",
		"CALL_ORIGINATED_EVENT conn={1}@2001 calling=2001 called=2002 lcs=1",
		"AGENT_STATE_EVENT agent=1001 ext=2001 state=TALKING dir=4 avail=0",
		"CALL_FAILED_EVENT conn={1}@2002 failing=2002 lcs=6 cause=3",
		"CALL_CLEARED_EVENT conn={1}@2001 lcs=0 cause=3",
		"AGENT_STATE_EVENT agent=1001 ext=2001 state=NOT_READY reason=0 avail=0",
		"END_CALL_EVENT conn={1}@2001",
	}, c.CallID))
	_ = id
}

// TestMakeCallExternal: MAKE_CALL to an outside number goes through
// Hooks.Dial; CALL_DELIVERED at the far end when it rings, CALL_ESTABLISHED
// when it answers; "work mode on outgoing" puts the agent in wrap-up. A busy
// number gives CALL_FAILED and the agent goes back to NOT_READY.
func TestMakeCallExternal(t *testing.T) {
	r := newRig(t, DeskSettings{WrapUpOutgoing: true})
	r.login(t, "1001", "2001", "pw")
	r.events = nil
	conn, err := r.pg.MakeCall(MakeCallRequest{Instrument: "2001", DialedNumber: "15550100", RingTimeout: 20 * time.Second,
		CallVariables: [10]string{"x"}})
	must(t, err)
	if len(r.dials) != 1 || r.dials[0] != (DialRequest{CallID: conn.CallID, DialedNumber: "15550100", RingTimeout: 20 * time.Second, CallType: CallTypeAgentOut}) {
		t.Fatalf("dial %+v", r.dials)
	}
	r.run(time.Second)
	r.pg.TrunkAlerting(conn.CallID)
	r.run(4 * time.Second)
	if !r.pg.TrunkAnswered(conn.CallID) {
		t.Fatal("not connected")
	}
	if st := r.state(t, "1001"); st.State != StateTalking || st.Direction != DirectionOut || st.CallID != conn.CallID {
		t.Fatalf("agent %+v", st)
	}
	r.run(60 * time.Second)
	r.pg.TrunkDisconnected(conn.CallID)
	r.run(10 * time.Second)
	must(t, r.set("1001", StateNotReady, 0))
	golden(t, r.transcript(), ids([]string{
		"BEGIN_CALL_EVENT conn={1}@2001 calltype=8 ani=2001 dnis=15550100 dn=15550100 key=0/0/0 cv1=\"x\"",
		"CALL_SERVICE_INITIATED_EVENT conn={1}@2001 calling=2001 lcs=1",
		"CALL_ORIGINATED_EVENT conn={1}@2001 calling=2001 called=15550100 lcs=1",
		"AGENT_STATE_EVENT agent=1001 ext=2001 state=TALKING dir=2 avail=0",
		"CALL_DELIVERED_EVENT conn={1}@15550100 alerting=15550100 calling=2001 called=15550100 lcs=2 cause=22 sg=4294967295",
		"CALL_ESTABLISHED_EVENT conn={1}@15550100 answering=15550100 calling=2001 called=15550100 lcs=3 cause=65535",
		"CALL_CONNECTION_CLEARED_EVENT conn={1}@15550100 releasing=15550100 lcs=0 cause=65535",
		"CALL_CLEARED_EVENT conn={1}@2001 lcs=0 cause=65535",
		"AGENT_STATE_EVENT agent=1001 ext=2001 state=WORK_NOT_READY dir=2 avail=0",
		"END_CALL_EVENT conn={1}@2001",
		"AGENT_STATE_EVENT agent=1001 ext=2001 state=NOT_READY reason=0 avail=0",
	}, conn.CallID))
	if len(r.handled) != 1 || r.handled[0] != conn.CallID {
		t.Fatalf("handled %v", r.handled)
	}
	conn, _ = r.pg.MakeCall(MakeCallRequest{Instrument: "2001", DialedNumber: "15550101"})
	r.run(0)
	r.events = nil
	r.pg.TrunkFailed(conn.CallID, CauseBusy)
	golden(t, r.transcript(), ids([]string{
		"CALL_FAILED_EVENT conn={1}@15550101 failing=15550101 lcs=6 cause=3",
		"CALL_CLEARED_EVENT conn={1}@2001 lcs=0 cause=3",
		"AGENT_STATE_EVENT agent=1001 ext=2001 state=NOT_READY reason=0 avail=0",
		"END_CALL_EVENT conn={1}@2001",
	}, conn.CallID))
}

// TestHoldRetrieve: CALL_HELD (LCS_HOLD) and HOLD as the agent's only call,
// CALL_RETRIEVED and TALKING; the call then ends as an inbound call does.
func TestHoldRetrieve(t *testing.T) {
	r, id := talking(t, DeskSettings{})
	must(t, r.pg.HoldCall("2001", id))
	if st := r.state(t, "1001"); st.State != StateHold || st.CallID != id {
		t.Fatalf("agent %+v", st)
	}
	r.run(10 * time.Second)
	must(t, r.pg.RetrieveCall("2001", id))
	r.run(10 * time.Second)
	must(t, r.pg.ClearConnection(id, "2001"))
	golden(t, r.transcript(), ids([]string{
		"CALL_HELD_EVENT conn={1}@2001 holding=2001 lcs=4 cause=65535",
		"AGENT_STATE_EVENT agent=1001 ext=2001 state=HOLD dir=1 avail=0",
		"CALL_RETRIEVED_EVENT conn={1}@2001 retrieving=2001 lcs=3 cause=65535",
		"AGENT_STATE_EVENT agent=1001 ext=2001 state=TALKING dir=1 avail=0",
		"CALL_CONNECTION_CLEARED_EVENT conn={1}@2001 releasing=2001 lcs=0 cause=65535",
		"CALL_CLEARED_EVENT conn={1}@2001 lcs=0 cause=65535",
		"AGENT_STATE_EVENT agent=1001 ext=2001 state=AVAILABLE avail=1",
		"END_CALL_EVENT conn={1}@2001",
	}, id))
	if len(r.handled) != 1 || r.handled[0] != id {
		t.Fatalf("handled %v", r.handled)
	}
	// The customer hanging up while held ends the call too.
	r, id = talking(t, DeskSettings{WrapUpIncoming: true})
	must(t, r.pg.HoldCall("2001", id))
	r.events = nil
	r.pg.TrunkDisconnected(id)
	golden(t, r.transcript(), ids([]string{
		"CALL_CONNECTION_CLEARED_EVENT conn={1}@6175550001 releasing=6175550001 lcs=0 cause=65535",
		"CALL_CLEARED_EVENT conn={1}@2001 lcs=0 cause=65535",
		"AGENT_STATE_EVENT agent=1001 ext=2001 state=WORK_READY dir=1 avail=0",
		"END_CALL_EVENT conn={1}@2001",
	}, id))
}

// TestConsultativeTransfer: ipcc-behaviour.md §3.4 — CALL_HELD, the consult
// call's BEGIN_CALL, CALL_SERVICE_INITIATED, CALL_ORIGINATED, CALL_DELIVERED
// and CALL_ESTABLISHED at the target, then CALL_TRANSFERRED, END_CALL for the
// initiator's two call IDs and its state; the target keeps the surviving call
// (the consult call ID) with the customer and the customer call's context,
// and the customer hanging up (by the ID the network knows the leg by) ends
// it with the target in wrap-up.
func TestConsultativeTransfer(t *testing.T) {
	r, id := talking(t, DeskSettings{WrapUpIncoming: true})
	k, err := r.pg.ConsultationCall(ConsultationRequest{Instrument: "2001", ActiveCallID: id, DialedNumber: "2002", ConsultType: ConsultTransfer})
	must(t, err)
	if len(r.events) != 0 || k.DeviceID != "2001" {
		t.Fatalf("events before CONSULTATION_CALL_CONF, or connection %+v", k)
	}
	r.run(3 * time.Second)
	must(t, r.pg.AnswerCall("2002", k.CallID))
	r.run(20 * time.Second)
	res, err := r.pg.TransferCall(TransferRequest{Instrument: "2001", HeldCallID: id, ActiveCallID: k.CallID})
	must(t, err)
	if res.Connection.String() != itoa(k.CallID)+"@2002" || len(res.Parties) != 2 {
		t.Fatalf("result %+v", res)
	}
	if st := r.state(t, "1002"); st.State != StateTalking || st.CallID != k.CallID {
		t.Fatalf("target %+v", st)
	}
	if ci, ok := r.pg.Call(k.CallID); !ok || ci.AgentID != "1002" || ci.Customer.ID != "6175550001" || ci.Data.CallVariables[0] != "acct-42" {
		t.Fatalf("surviving call %+v", ci)
	}
	r.run(40 * time.Second)
	r.pg.TrunkDisconnected(id)
	golden(t, r.transcript(), ids([]string{
		"CALL_HELD_EVENT conn={1}@2001 holding=2001 lcs=4 cause=65535",
		"BEGIN_CALL_EVENT conn={2}@2001 calltype=12 ani=2001 dnis=2002 dn=2002 key=0/0/0 cv1=\"acct-42\"",
		"CALL_SERVICE_INITIATED_EVENT conn={2}@2001 calling=2001 lcs=1",
		"CALL_ORIGINATED_EVENT conn={2}@2001 calling=2001 called=2002 lcs=1",
		"CALL_DELIVERED_EVENT conn={2}@2002 alerting=2002 calling=2001 called=2002 lcs=2 cause=22 sg=4294967295",
		"AGENT_STATE_EVENT agent=1002 ext=2002 state=RESERVED dir=3 avail=0",
		"CALL_ESTABLISHED_EVENT conn={2}@2002 answering=2002 calling=2001 called=2002 lcs=3 cause=65535",
		"AGENT_STATE_EVENT agent=1002 ext=2002 state=TALKING dir=3 avail=0",
		"CALL_TRANSFERRED_EVENT primary={1}@2001 secondary={2}@2001 transferring=2001 transferred=2002 parties={2}@2002,{2}@6175550001 lcs=3 cause=32",
		"END_CALL_EVENT conn={1}@2001",
		"END_CALL_EVENT conn={2}@2001",
		"AGENT_STATE_EVENT agent=1001 ext=2001 state=WORK_READY dir=1 avail=0",
		"BEGIN_CALL_EVENT conn={2}@2002 calltype=2 ani=6175550001 dnis=8005550100 dn=8005550100 key=20416/7/0 cv1=\"acct-42\"",
		"CALL_CONNECTION_CLEARED_EVENT conn={2}@6175550001 releasing=6175550001 lcs=0 cause=65535",
		"CALL_CLEARED_EVENT conn={2}@2002 lcs=0 cause=65535",
		"AGENT_STATE_EVENT agent=1002 ext=2002 state=WORK_READY dir=3 avail=0",
		"END_CALL_EVENT conn={2}@2002",
	}, id, k.CallID))
	if r.pg.ActiveCalls() != 0 {
		t.Fatal("calls left")
	}
}

// TestBlindTransfer: single-step transfer — CALL_TRANSFERRED follows the
// delivery to the target, no consult established; the target answers the
// customer afterwards.
func TestBlindTransfer(t *testing.T) {
	r, id := talking(t, DeskSettings{})
	res, err := r.pg.TransferCall(TransferRequest{Instrument: "2001", HeldCallID: NoCallID, ActiveCallID: id, DialedNumber: "2002"})
	must(t, err)
	k := res.Connection.CallID
	if res.Connection.DeviceID != "2002" {
		t.Fatalf("result %+v", res)
	}
	r.run(3 * time.Second)
	must(t, r.pg.AnswerCall("2002", 0))
	r.run(30 * time.Second)
	must(t, r.pg.ClearConnection(k, "2002"))
	golden(t, r.transcript(), ids([]string{
		"CALL_HELD_EVENT conn={1}@2001 holding=2001 lcs=4 cause=65535",
		"BEGIN_CALL_EVENT conn={2}@2001 calltype=12 ani=2001 dnis=2002 dn=2002 key=0/0/0 cv1=\"acct-42\"",
		"CALL_SERVICE_INITIATED_EVENT conn={2}@2001 calling=2001 lcs=1",
		"CALL_ORIGINATED_EVENT conn={2}@2001 calling=2001 called=2002 lcs=1",
		"CALL_DELIVERED_EVENT conn={2}@2002 alerting=2002 calling=2001 called=2002 lcs=2 cause=22 sg=4294967295",
		"AGENT_STATE_EVENT agent=1002 ext=2002 state=RESERVED dir=3 avail=0",
		"CALL_TRANSFERRED_EVENT primary={1}@2001 secondary={2}@2001 transferring=2001 transferred=2002 parties={2}@2002,{2}@6175550001 lcs=2 cause=32",
		"END_CALL_EVENT conn={1}@2001",
		"END_CALL_EVENT conn={2}@2001",
		"AGENT_STATE_EVENT agent=1001 ext=2001 state=AVAILABLE avail=1",
		"BEGIN_CALL_EVENT conn={2}@2002 calltype=2 ani=6175550001 dnis=8005550100 dn=8005550100 key=20416/7/0 cv1=\"acct-42\"",
		"CALL_ESTABLISHED_EVENT conn={2}@2002 answering=2002 calling=6175550001 called=2002 lcs=3 cause=65535",
		"AGENT_STATE_EVENT agent=1002 ext=2002 state=TALKING dir=1 avail=0",
		"CALL_CONNECTION_CLEARED_EVENT conn={2}@2002 releasing=2002 lcs=0 cause=65535",
		"CALL_CLEARED_EVENT conn={2}@2002 lcs=0 cause=65535",
		"AGENT_STATE_EVENT agent=1002 ext=2002 state=AVAILABLE avail=1",
		"END_CALL_EVENT conn={2}@2002",
	}, id, k))
	if len(r.handled) != 2 || r.handled[0] != id || r.handled[1] != k {
		t.Fatalf("handled %v", r.handled)
	}
	// To an outside number: the transfer completes when the far end rings.
	r, id = talking(t, DeskSettings{})
	res, err = r.pg.TransferCall(TransferRequest{Instrument: "2001", ActiveCallID: id, DialedNumber: "15550177"})
	must(t, err)
	k = res.Connection.CallID
	if len(r.dials) != 1 || r.dials[0].CallID != k || r.dials[0].CallType != CallTypeConsult {
		t.Fatalf("dial %+v", r.dials)
	}
	r.events = nil
	r.pg.TrunkAlerting(k)
	if !r.pg.TrunkAnswered(k) {
		t.Fatal("far end not connected")
	}
	r.pg.TrunkDisconnected(id) // the caller, by the ID the network knows its leg by
	golden(t, r.transcript(), ids([]string{
		"CALL_DELIVERED_EVENT conn={2}@15550177 alerting=15550177 calling=2001 called=15550177 lcs=2 cause=22 sg=4294967295",
		"CALL_TRANSFERRED_EVENT primary={1}@2001 secondary={2}@2001 transferring=2001 transferred=15550177 parties={2}@15550177,{2}@6175550001 lcs=2 cause=32",
		"END_CALL_EVENT conn={1}@2001",
		"END_CALL_EVENT conn={2}@2001",
		"AGENT_STATE_EVENT agent=1001 ext=2001 state=AVAILABLE avail=1",
		"BEGIN_CALL_EVENT conn={2}@15550177 calltype=2 ani=6175550001 dnis=8005550100 dn=8005550100 key=20416/7/0 cv1=\"acct-42\"",
		"CALL_ESTABLISHED_EVENT conn={2}@15550177 answering=15550177 calling=6175550001 called=15550177 lcs=3 cause=65535",
		"CALL_CONNECTION_CLEARED_EVENT conn={2}@6175550001 releasing=6175550001 lcs=0 cause=65535",
		"CALL_CLEARED_EVENT conn={2}@6175550001 lcs=0 cause=65535",
		"END_CALL_EVENT conn={2}@15550177",
	}, id, k))
}

// TestConferenceWithPartyLeaving: CALL_CONFERENCED after the consult, the
// held call ends, CALL_DATA_UPDATE brings the customer context to the
// surviving call; each party leaving gives CALL_CONNECTION_CLEARED, and
// CALL_CLEARED and END_CALL come when the last but one leaves.
func TestConferenceWithPartyLeaving(t *testing.T) {
	r, id := talking(t, DeskSettings{})
	var ended []uint32
	r.pg.cfg.Hooks.CallEnded = func(id uint32) { ended = append(ended, id) }
	k, err := r.pg.ConsultationCall(ConsultationRequest{Instrument: "2001", ActiveCallID: id, DialedNumber: "2002", ConsultType: ConsultConference})
	must(t, err)
	r.run(time.Second)
	must(t, r.pg.AnswerCall("2002", k.CallID))
	res, err := r.pg.ConferenceCall(ConferenceRequest{Instrument: "2001", HeldCallID: id, ActiveCallID: k.CallID})
	must(t, err)
	if len(res.Parties) != 3 || res.Connection != k {
		t.Fatalf("result %+v", res)
	}
	if len(ended) != 0 {
		t.Fatalf("CallEnded %v while the customer is on the conference", ended)
	}
	r.run(time.Second)
	must(t, r.pg.ClearConnection(k.CallID, "2001"))
	r.run(time.Second)
	r.pg.TrunkDisconnected(id)
	golden(t, r.transcript(), ids([]string{
		"CALL_HELD_EVENT conn={1}@2001 holding=2001 lcs=4 cause=65535",
		"BEGIN_CALL_EVENT conn={2}@2001 calltype=14 ani=2001 dnis=2002 dn=2002 key=0/0/0 cv1=\"acct-42\"",
		"CALL_SERVICE_INITIATED_EVENT conn={2}@2001 calling=2001 lcs=1",
		"CALL_ORIGINATED_EVENT conn={2}@2001 calling=2001 called=2002 lcs=1",
		"CALL_DELIVERED_EVENT conn={2}@2002 alerting=2002 calling=2001 called=2002 lcs=2 cause=22 sg=4294967295",
		"AGENT_STATE_EVENT agent=1002 ext=2002 state=RESERVED dir=3 avail=0",
		"CALL_ESTABLISHED_EVENT conn={2}@2002 answering=2002 calling=2001 called=2002 lcs=3 cause=65535",
		"AGENT_STATE_EVENT agent=1002 ext=2002 state=TALKING dir=3 avail=0",
		"CALL_CONFERENCED_EVENT primary={1}@2001 secondary={2}@2001 controller=2001 added=2002 parties={2}@2001,{2}@2002,{2}@6175550001 lcs=3 cause=17",
		"END_CALL_EVENT conn={1}@2001",
		"CALL_DATA_UPDATE_EVENT conn={2}@2001 cv1=\"acct-42\" wrapup=\"\"",
		"CALL_CONNECTION_CLEARED_EVENT conn={2}@2001 releasing=2001 lcs=0 cause=65535",
		"AGENT_STATE_EVENT agent=1001 ext=2001 state=AVAILABLE avail=1",
		"CALL_CONNECTION_CLEARED_EVENT conn={2}@6175550001 releasing=6175550001 lcs=0 cause=65535",
		"CALL_CLEARED_EVENT conn={2}@2002 lcs=0 cause=65535",
		"AGENT_STATE_EVENT agent=1002 ext=2002 state=AVAILABLE avail=1",
		"END_CALL_EVENT conn={2}@2001",
	}, id, k.CallID))
	if len(ended) != 2 || ended[0] != k.CallID || ended[1] != id {
		t.Fatalf("CallEnded %v (the consult call, then the customer's leg by its own ID)", ended)
	}
}

// TestConferenceLimit: MAX_NUM_PARTIES 16 (CF 38).
func TestConferenceLimit(t *testing.T) {
	r, id := talking(t, DeskSettings{})
	k, _ := r.pg.ConsultationCall(ConsultationRequest{Instrument: "2001", ActiveCallID: id, DialedNumber: "2002", ConsultType: ConsultConference})
	r.run(time.Second)
	must(t, r.pg.AnswerCall("2002", k.CallID))
	h := r.pg.calls[id]
	for i := range 14 { // 2 + 14 on the held call, 2 on the consult: 17 after the merge
		n := "1555000" + itoa(uint32(10+i))
		h.parties = append(h.parties, &party{dev: Device{ID: n, Type: DeviceExternal}, ext: true, trunkID: uint32(i + 1), lcs: LCSConnect,
			conn: Connection{CallID: id, DeviceIDType: ConnectionDynamic, DeviceID: n}})
	}
	if _, err := r.pg.ConferenceCall(ConferenceRequest{Instrument: "2001", HeldCallID: id, ActiveCallID: k.CallID}); code(err) != CFConferenceMemberLimitExceeded {
		t.Fatalf("17 parties: %v", err)
	}
	h.parties = h.parties[:len(h.parties)-1]
	res, err := r.pg.ConferenceCall(ConferenceRequest{Instrument: "2001", HeldCallID: id, ActiveCallID: k.CallID})
	if err != nil || len(res.Parties) != MaxParties {
		t.Fatalf("16 parties: %v %d", err, len(res.Parties))
	}
}

// TestAlternateReconnect: ALTERNATE swaps held and active (CALL_HELD +
// CALL_RETRIEVED with CEC_ALTERNATE); RECONNECT drops the consult call and
// retrieves the held one, the agent staying TALKING.
func TestAlternateReconnect(t *testing.T) {
	r, id := talking(t, DeskSettings{})
	k, _ := r.pg.ConsultationCall(ConsultationRequest{Instrument: "2001", ActiveCallID: id, DialedNumber: "2002"})
	r.run(time.Second)
	must(t, r.pg.AnswerCall("2002", k.CallID))
	r.events = nil
	must(t, r.pg.AlternateCall("2001", k.CallID, id))
	if st := r.state(t, "1001"); st.State != StateTalking || st.CallID != id {
		t.Fatalf("after alternate %+v", st)
	}
	must(t, r.pg.AlternateCall("2001", id, k.CallID))
	must(t, r.pg.ReconnectCall("2001", k.CallID, id))
	golden(t, r.transcript(), ids([]string{
		"CALL_HELD_EVENT conn={2}@2001 holding=2001 lcs=4 cause=2",
		"CALL_RETRIEVED_EVENT conn={1}@2001 retrieving=2001 lcs=3 cause=2",
		"CALL_HELD_EVENT conn={1}@2001 holding=2001 lcs=4 cause=2",
		"CALL_RETRIEVED_EVENT conn={2}@2001 retrieving=2001 lcs=3 cause=2",
		"CALL_CONNECTION_CLEARED_EVENT conn={2}@2001 releasing=2001 lcs=0 cause=65535",
		"CALL_CLEARED_EVENT conn={2}@2002 lcs=0 cause=65535",
		"AGENT_STATE_EVENT agent=1002 ext=2002 state=AVAILABLE avail=1",
		"END_CALL_EVENT conn={2}@2001",
		"CALL_RETRIEVED_EVENT conn={1}@2001 retrieving=2001 lcs=3 cause=65535",
	}, id, k.CallID))
	if st := r.state(t, "1001"); st.State != StateTalking || st.CallID != id {
		t.Fatalf("after reconnect %+v", st)
	}
}

// TestDeflect: a routed call ringing at one agent is deflected to another:
// CALL_DIVERTED (CEC_REDIRECTED), the first agent back to AVAILABLE, and
// CALL_DELIVERED at the second with LastRedirect the first; the router is
// told the call was answered (and handled) there.
func TestDeflect(t *testing.T) {
	r := newRig(t, DeskSettings{})
	r.login(t, "1001", "2001", "pw")
	r.login(t, "1002", "2002", "")
	_ = r.set("1001", StateAvailable, 0)
	_ = r.set("1002", StateAvailable, 0)
	id := r.routeCall(t)
	r.events = nil
	must(t, r.pg.DeflectCall(id, "2001", "2002"))
	r.run(2 * time.Second)
	must(t, r.pg.AnswerCall("2002", id))
	r.pg.TrunkDisconnected(id)
	golden(t, r.transcript(), ids([]string{
		"CALL_DIVERTED_EVENT conn={1}@2001 diverting=2001 called=2002 lcs=0 cause=28",
		"AGENT_STATE_EVENT agent=1001 ext=2001 state=AVAILABLE avail=1",
		"CALL_DELIVERED_EVENT conn={1}@2002 alerting=2002 calling=6175550001 called=2002 lcs=2 cause=28 sg=100",
		"AGENT_STATE_EVENT agent=1002 ext=2002 state=RESERVED dir=1 avail=0",
		"CALL_ESTABLISHED_EVENT conn={1}@2002 answering=2002 calling=6175550001 called=2002 lcs=3 cause=65535",
		"AGENT_STATE_EVENT agent=1002 ext=2002 state=TALKING dir=1 avail=0",
		"CALL_CONNECTION_CLEARED_EVENT conn={1}@6175550001 releasing=6175550001 lcs=0 cause=65535",
		"CALL_CLEARED_EVENT conn={1}@2002 lcs=0 cause=65535",
		"AGENT_STATE_EVENT agent=1002 ext=2002 state=AVAILABLE avail=1",
		"END_CALL_EVENT conn={1}@2001",
	}, id))
	if r.answered != 1 || len(r.handled) != 1 || r.handled[0] != id {
		t.Fatalf("answered %d handled %v", r.answered, r.handled)
	}
	// No RONA at the first agent after the deflection.
	r.run(time.Minute)
	if len(r.rona) != 0 {
		t.Fatalf("RONA %v", r.rona)
	}
}

// TestDTMF: digits are validated and accepted only on a connected call; no
// event, the digits go to Hooks.DTMF.
func TestDTMF(t *testing.T) {
	r, id := talking(t, DeskSettings{})
	var got []string
	r.pg.cfg.Hooks.DTMF = func(c uint32, dev, digits string) { got = append(got, itoa(c)+"@"+dev+":"+digits) }
	for _, tc := range []struct {
		digits string
		code   ControlFailureCode
	}{
		{"0123456789*#ABCD", 0},
		{"1,,2", 0},
		{"", CFValueOutOfRange},
		{"12x", CFValueOutOfRange},
		{"a", CFValueOutOfRange},
		{"+1", CFValueOutOfRange},
		{strings.Repeat("1", 32), 0},
		{strings.Repeat("1", 33), CFValueOutOfRange},
	} {
		if c := code(r.pg.SendDTMF(id, "2001", tc.digits)); (tc.code == 0 && c != 0xFFFF) || (tc.code != 0 && c != tc.code) {
			t.Errorf("%q: code %d, want %d", tc.digits, c, tc.code)
		}
	}
	if len(got) != 3 || got[0] != itoa(id)+"@2001:0123456789*#ABCD" {
		t.Fatalf("DTMF hook %v", got)
	}
	if len(r.events) != 0 {
		t.Fatalf("events %v", r.transcript())
	}
	must(t, r.pg.HoldCall("2001", id))
	if c := code(r.pg.SendDTMF(id, "2001", "1")); c != CFNoActiveCall {
		t.Fatalf("DTMF on a held call: %d", c)
	}
	if c := code(r.pg.SendDTMF(id+9, "2001", "1")); c != CFInvalidCallID {
		t.Fatalf("DTMF on no call: %d", c)
	}
}

// TestCallControlFailures: illegal requests and the ControlFailureCode each
// returns (cti-protocol.md §4.15); none of them changes anything.
func TestCallControlFailures(t *testing.T) {
	// Fixture: 1001 TALKING on {1}, consulting 1002 on {2} (ringing);
	// a third call {3} from the customer waits at the IVR.
	type fixture struct {
		r       *rig
		id, k   uint32
		waiting uint32
	}
	setup := func(t *testing.T) fixture {
		r, id := talking(t, DeskSettings{})
		k, err := r.pg.ConsultationCall(ConsultationRequest{Instrument: "2001", ActiveCallID: id, DialedNumber: "2002"})
		must(t, err)
		r.run(0)
		w := r.pg.TrunkIncoming(Incoming{ANI: "6175550002"})
		r.events = nil
		return fixture{r, id, k.CallID, w}
	}
	cases := []struct {
		name string
		do   func(f fixture) error
		code ControlFailureCode
	}{
		// MAKE_CALL: UCCE accepts it only from a NOT_READY agent.
		{"make call while talking", func(f fixture) error {
			_, err := f.r.pg.MakeCall(MakeCallRequest{Instrument: "2001", DialedNumber: "15550100"})
			return err
		}, CFInvalidObjectState},
		{"make call while reserved", func(f fixture) error {
			_, err := f.r.pg.MakeCall(MakeCallRequest{Instrument: "2002", DialedNumber: "15550100"})
			return err
		}, CFInvalidObjectState},
		{"make call from no agent", func(f fixture) error {
			_, err := f.r.pg.MakeCall(MakeCallRequest{Instrument: "2999", DialedNumber: "15550100"})
			return err
		}, CFInvalidCallingDevice},
		{"make call bad number", func(f fixture) error {
			_ = f.r.pg.ClearCall(f.k)
			_ = f.r.pg.ClearCall(f.id)
			_ = f.r.set("1001", StateNotReady, 0)
			_, err := f.r.pg.MakeCall(MakeCallRequest{Instrument: "2001", DialedNumber: "15x"})
			return err
		}, CFInvalidDestination},
		{"make call to itself", func(f fixture) error {
			_ = f.r.pg.ClearCall(f.k)
			_ = f.r.pg.ClearCall(f.id)
			_ = f.r.set("1001", StateNotReady, 0)
			_, err := f.r.pg.MakeCall(MakeCallRequest{Instrument: "2001", DialedNumber: "2001"})
			return err
		}, CFInvalidDestination},
		{"make call to a line", func(f fixture) error {
			_ = f.r.pg.ClearCall(f.k)
			_ = f.r.pg.ClearCall(f.id)
			_ = f.r.set("1001", StateNotReady, 0)
			_, err := f.r.pg.MakeCall(MakeCallRequest{Instrument: "2001", DialedNumber: "2301"})
			return err
		}, CFInvalidDestination},
		{"make call offline", func(f fixture) error {
			f.r.pg.online = false
			_, err := f.r.pg.MakeCall(MakeCallRequest{Instrument: "2001", DialedNumber: "1"})
			f.r.pg.online = true
			return err
		}, CFResourceOutOfService},
		// HOLD / RETRIEVE.
		{"hold no such call", func(f fixture) error { return f.r.pg.HoldCall("2001", 7) }, CFInvalidCallID},
		{"hold by no agent", func(f fixture) error { return f.r.pg.HoldCall("2999", f.id) }, CFInvalidDeviceID},
		{"hold by an agent not on the call", func(f fixture) error { return f.r.pg.HoldCall("2002", f.id) }, CFAgentNotPartyOnCall},
		{"hold a held call", func(f fixture) error { return f.r.pg.HoldCall("2001", f.id) }, CFNoActiveCall},
		{"hold a ringing call", func(f fixture) error { return f.r.pg.HoldCall("2002", f.k) }, CFNoActiveCall},
		{"hold a second call", func(f fixture) error { return f.r.pg.HoldCall("2001", f.k) }, CFInvalidObjectState},
		{"hold a call waiting at the IVR", func(f fixture) error { return f.r.pg.HoldCall("2001", f.waiting) }, CFAgentNotPartyOnCall},
		{"retrieve an active call", func(f fixture) error { return f.r.pg.RetrieveCall("2001", f.k) }, CFNoHeldCall},
		{"retrieve with another call active", func(f fixture) error { return f.r.pg.RetrieveCall("2001", f.id) }, CFInvalidObjectState},
		// CONSULTATION.
		{"consult from a held call", func(f fixture) error {
			_, err := f.r.pg.ConsultationCall(ConsultationRequest{Instrument: "2001", ActiveCallID: f.id, DialedNumber: "15550100"})
			return err
		}, CFInvalidObjectState},
		{"consult while holding a call", func(f fixture) error {
			_, err := f.r.pg.ConsultationCall(ConsultationRequest{Instrument: "2001", ActiveCallID: f.k, DialedNumber: "15550100"})
			return err
		}, CFInvalidObjectState},
		{"consult type out of range", func(f fixture) error {
			_, err := f.r.pg.ConsultationCall(ConsultationRequest{Instrument: "2001", ActiveCallID: f.k, DialedNumber: "1", ConsultType: 3})
			return err
		}, CFInvalidConsultType},
		{"consult bad number", func(f fixture) error {
			_ = f.r.pg.ReconnectCall("2001", f.k, f.id)
			_, err := f.r.pg.ConsultationCall(ConsultationRequest{Instrument: "2001", ActiveCallID: f.id, DialedNumber: ""})
			return err
		}, CFInvalidDestination},
		// TRANSFER / CONFERENCE.
		{"transfer held and active swapped", func(f fixture) error {
			_, err := f.r.pg.TransferCall(TransferRequest{Instrument: "2001", HeldCallID: f.k, ActiveCallID: f.id})
			return err
		}, CFNoHeldCall},
		{"transfer by the consulted agent", func(f fixture) error {
			_, err := f.r.pg.TransferCall(TransferRequest{Instrument: "2002", HeldCallID: f.id, ActiveCallID: f.k})
			return err
		}, CFAgentNotPartyOnCall},
		{"transfer before the outside target is reached", func(f fixture) error {
			_ = f.r.pg.ReconnectCall("2001", f.k, f.id)
			k, err := f.r.pg.ConsultationCall(ConsultationRequest{Instrument: "2001", ActiveCallID: f.id, DialedNumber: "15550100"})
			if err != nil {
				return err
			}
			_, err = f.r.pg.TransferCall(TransferRequest{Instrument: "2001", HeldCallID: f.id, ActiveCallID: k.CallID})
			return err
		}, CFInvalidObjectState},
		{"conference before the target answered", func(f fixture) error {
			_, err := f.r.pg.ConferenceCall(ConferenceRequest{Instrument: "2001", HeldCallID: f.id, ActiveCallID: f.k})
			return err
		}, CFInvalidObjectState},
		{"single-step conference", func(f fixture) error {
			_, err := f.r.pg.ConferenceCall(ConferenceRequest{Instrument: "2001", HeldCallID: NoCallID, ActiveCallID: f.k})
			return err
		}, CFInvalidFeature},
		{"blind transfer while holding a call", func(f fixture) error {
			_, err := f.r.pg.TransferCall(TransferRequest{Instrument: "2001", HeldCallID: NoCallID, ActiveCallID: f.k, DialedNumber: "15550100"})
			return err
		}, CFInvalidObjectState},
		{"blind transfer to a busy agent", func(f fixture) error {
			_ = f.r.pg.ReconnectCall("2001", f.k, f.id)
			_ = f.r.set("1002", StateNotReady, 0)
			_, _ = f.r.pg.MakeCall(MakeCallRequest{Instrument: "2002", DialedNumber: "15550100"})
			_, err := f.r.pg.TransferCall(TransferRequest{Instrument: "2001", HeldCallID: NoCallID, ActiveCallID: f.id, DialedNumber: "2002"})
			return err
		}, CFResourceBusy},
		// ALTERNATE / RECONNECT.
		{"alternate with a call that has ended", func(f fixture) error {
			_ = f.r.pg.ReconnectCall("2001", f.k, f.id)
			return f.r.pg.AlternateCall("2001", f.id, f.k)
		}, CFInvalidCallID},
		{"alternate naming the held call as active", func(f fixture) error { return f.r.pg.AlternateCall("2001", f.id, f.k) }, CFNoHeldCall},
		{"reconnect by the consulted agent", func(f fixture) error {
			return f.r.pg.ReconnectCall("2002", f.k, f.id)
		}, CFAgentNotPartyOnCall},
		// DEFLECT.
		{"deflect a call that is not ringing", func(f fixture) error { return f.r.pg.DeflectCall(f.k, "2001", "15550100") }, CFInvalidObjectState},
		{"deflect to itself", func(f fixture) error { return f.r.pg.DeflectCall(f.k, "2002", "2002") }, CFInvalidDestination},
		{"deflect to a busy agent", func(f fixture) error { return f.r.pg.DeflectCall(f.k, "2002", "2001") }, CFResourceBusy},
		{"deflect no such call", func(f fixture) error { return f.r.pg.DeflectCall(9, "2002", "15550100") }, CFInvalidCallID},
		// DTMF.
		{"dtmf on a ringing call", func(f fixture) error { return f.r.pg.SendDTMF(f.k, "2002", "1") }, CFNoActiveCall},
		{"dtmf bad digits", func(f fixture) error { return f.r.pg.SendDTMF(f.k, "2001", "1!") }, CFValueOutOfRange},
		// Existing commands on the new calls.
		{"answer a call ringing elsewhere", func(f fixture) error { return f.r.pg.AnswerCall("2001", f.k) }, CFNoCallToAnswer},
		{"clear a connection not on the call", func(f fixture) error { return f.r.pg.ClearConnection(f.k, "6175550001") }, CFNoConnectionToClear},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := setup(t)
			err := tc.do(f)
			if got := code(err); got != tc.code {
				t.Fatalf("got %v (code %d), want code %d", err, got, tc.code)
			}
		})
	}
	// A refused request changes nothing.
	f := setup(t)
	_ = f.r.pg.HoldCall("2001", f.id)
	_, _ = f.r.pg.ConferenceCall(ConferenceRequest{Instrument: "2001", HeldCallID: f.id, ActiveCallID: f.k})
	_ = f.r.pg.DeflectCall(f.k, "2002", "2001")
	f.r.run(0)
	if len(f.r.events) != 0 {
		t.Fatalf("refused requests emitted %v", f.r.transcript())
	}
	if st := f.r.state(t, "1002"); st.State != StateReserved || st.CallID != f.k {
		t.Fatalf("consulted agent %+v", st)
	}
}

// TestDirectCallToNotReadyAgent: a NOT_READY agent stays NOT_READY while a
// direct call rings (no RESERVED) and, when the caller gives up, no state
// change is reported.
func TestDirectCallToNotReadyAgent(t *testing.T) {
	r := newRig(t, DeskSettings{})
	r.login(t, "1001", "2001", "pw")
	r.login(t, "1002", "2002", "")
	must(t, r.set("1002", StateNotReady, 9))
	r.events = nil
	c, err := r.pg.MakeCall(MakeCallRequest{Instrument: "2001", DialedNumber: "2002"})
	must(t, err)
	r.run(time.Second)
	must(t, r.pg.ClearConnection(c.CallID, "2001"))
	golden(t, r.transcript(), ids([]string{
		"BEGIN_CALL_EVENT conn={1}@2001 calltype=10 ani=2001 dnis=2002 dn=2002 key=0/0/0",
		"CALL_SERVICE_INITIATED_EVENT conn={1}@2001 calling=2001 lcs=1",
		"CALL_ORIGINATED_EVENT conn={1}@2001 calling=2001 called=2002 lcs=1",
		"AGENT_STATE_EVENT agent=1001 ext=2001 state=TALKING dir=4 avail=0",
		"CALL_DELIVERED_EVENT conn={1}@2002 alerting=2002 calling=2001 called=2002 lcs=2 cause=22 sg=4294967295",
		"CALL_CONNECTION_CLEARED_EVENT conn={1}@2001 releasing=2001 lcs=0 cause=65535",
		"CALL_CLEARED_EVENT conn={1}@2002 lcs=0 cause=65535",
		"AGENT_STATE_EVENT agent=1001 ext=2001 state=NOT_READY reason=0 avail=0",
		"END_CALL_EVENT conn={1}@2001",
	}, c.CallID))
	if st := r.state(t, "1002"); st.State != StateNotReady || st.ReasonCode != 9 || st.CallID != 0 {
		t.Fatalf("called agent %+v", st)
	}
}
