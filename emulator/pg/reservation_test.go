package pg

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// previewVars is a preview record as a dialer presents it.
func previewVars(status string) []NamedVariable {
	return []NamedVariable{{Name: "BACampaign", Value: "Renewals"}, {Name: "BAAccountNumber", Value: "AC42"},
		{Name: "BADialedListID", Value: "7"}, {Name: "BAResponse"}, {Name: "BAStatus", Value: status},
		{Name: "BACustomerNumber", Value: "15550142"}}
}

// TestPreviewReservationGolden: a dialer port reserves a Not Ready agent
// with a preview reservation call (MAKE_CALL from the port to the agent's
// extension): the events follow the return; BEGIN_CALL (RESERVATION_PREVIEW
// 27, the record's ECC variables) at the agent, CALL_DELIVERED and at once
// CALL_ESTABLISHED (auto-answer), TALKING with Direction 5; the desktop's
// SET_CALL_DATA (BAResponse Accept) is CALL_DATA_UPDATE with every ECC
// variable; the dialer clears the call and the agent is Not Ready with its
// reason again, without wrap-up; the port is free. The accepted preview's
// customer call (MAKE_PREDICTIVE_CALL from the agent, BAStatus
// PREVIEW_OUTBOUND) is CUSTOMER_PREVIEW (32) and the agent talks with
// Direction 6.
func TestPreviewReservationGolden(t *testing.T) {
	r := newRig(t, DeskSettings{WrapUpOutgoing: true})
	r.login(t, "1001", "2001", "pw")
	must(t, r.set("1001", StateNotReady, 101))
	r.events = nil
	conn, err := r.pg.MakeCall(MakeCallRequest{Instrument: "2301", DialedNumber: "2001",
		CallVariables: [10]string{"Renewals", "15550142"}, NamedVariables: previewVars("PREVIEW_OUTBOUND_RESERVATION")})
	must(t, err)
	if len(r.events) != 0 {
		t.Fatal("events before the confirmation: the CTI Server must be able to send MAKE_CALL_CONF first")
	}
	id := conn.CallID
	if conn.DeviceID != "2301" || conn.DeviceIDType != ConnectionStatic {
		t.Fatalf("MAKE_CALL_CONF connection %+v: want the port's", conn)
	}
	r.run(0)
	if ls := r.pg.Lines(); ls[0].CallID != id {
		t.Fatalf("port not busy with its reservation call: %+v", ls[0])
	}
	if st := r.state(t, "1001"); st.State != StateTalking || st.Direction != DirectionOutboundReserve || st.CallID != id {
		t.Fatalf("reserved agent %+v", st)
	}
	r.run(4 * time.Second)
	must(t, r.pg.SetCallData(id, CallDataUpdate{NamedVariables: []NamedVariable{{Name: "BAResponse", Value: "Accept"}}}))
	must(t, r.pg.ClearCall(id))
	vars := ` cv1="Renewals" cv2="15550142" BACampaign="Renewals" BAAccountNumber="AC42" BADialedListID="7" BAResponse="%s" BAStatus="PREVIEW_OUTBOUND_RESERVATION" BACustomerNumber="15550142"`
	golden(t, r.transcript(), ids([]string{
		"BEGIN_CALL_EVENT conn={1}@2001 calltype=27 ani=2301 dnis=2001 dn=2001 key=0/0/0" + fmt.Sprintf(vars, ""),
		"CALL_DELIVERED_EVENT conn={1}@2001 alerting=2001 calling=2301 called=2001 lcs=2 cause=22 sg=4294967295",
		"CALL_ESTABLISHED_EVENT conn={1}@2001 answering=2001 calling=2301 called=2001 lcs=3 cause=65535",
		"AGENT_STATE_EVENT agent=1001 ext=2001 state=TALKING dir=5 avail=0",
		"CALL_DATA_UPDATE_EVENT conn={1}@2001" + fmt.Sprintf(vars, "Accept") + ` wrapup=""`,
		"CALL_CONNECTION_CLEARED_EVENT conn={1}@2301 releasing=2301 lcs=0 cause=65535",
		"CALL_CLEARED_EVENT conn={1}@2001 lcs=0 cause=65535",
		"AGENT_STATE_EVENT agent=1001 ext=2001 state=NOT_READY reason=101 avail=0",
		"END_CALL_EVENT conn={1}@2001",
	}, id))
	if ls := r.pg.Lines(); ls[0].CallID != 0 {
		t.Fatalf("port still busy after the reservation: %+v", ls[0])
	}
	if r.answered != 0 {
		t.Errorf("a reservation is no routed call: CallAnswered called %d times", r.answered)
	}

	// The accepted record's customer call, from the agent's phone.
	cv := previewVars("PREVIEW_OUTBOUND")
	cv[3].Value = "Accept"
	p, err := r.pg.MakePredictiveCall(PredictiveCallRequest{DialedNumber: "15550142", OriginatingDevice: "2001",
		CallVariables: [10]string{"Renewals"}, NamedVariables: cv})
	must(t, err)
	r.run(0)
	if len(r.dials) != 1 || r.dials[0].CallType != CallTypeCustomerPreview {
		t.Fatalf("dial requests %+v: want one CUSTOMER_PREVIEW", r.dials)
	}
	r.pg.TrunkAlerting(p)
	if !r.pg.TrunkAnswered(p) {
		t.Fatal("the customer of an accepted preview was not connected to its agent")
	}
	got := r.transcript()
	golden(t, got[:1], ids([]string{
		`BEGIN_CALL_EVENT conn={1}@15550142 calltype=32 ani= dnis=15550142 dn=15550142 key=0/0/0 cv1="Renewals" BACampaign="Renewals" BAAccountNumber="AC42" BADialedListID="7" BAResponse="Accept" BAStatus="PREVIEW_OUTBOUND" BACustomerNumber="15550142"`,
	}, p))
	if last := got[len(got)-1]; last != "AGENT_STATE_EVENT agent=1001 ext=2001 state=TALKING dir=6 avail=0" {
		t.Fatalf("agent on the customer call: %s", last)
	}
}

// TestReservationOfAvailableAgentAndLine: an Available agent is RESERVED
// (Direction 5) while the reservation rings, then TALKING; the agent hanging
// up ends the call (CALL_CLEARED at the agent). A reservation to an
// outbound-only agent's line has the same call events and no agent state.
// Without a known BAStatus the call is a plain RESERVATION (18).
func TestReservationOfAvailableAgentAndLine(t *testing.T) {
	r := newRig(t, DeskSettings{})
	r.login(t, "1002", "2002", "")
	must(t, r.set("1002", StateAvailable, 0))
	r.events = nil
	conn, err := r.pg.MakeCall(MakeCallRequest{Instrument: "2301", DialedNumber: "2002", NamedVariables: previewVars("BLENDED_PREVIEW_OUTBOUND_RESERVATION")})
	must(t, err)
	r.run(time.Second)
	must(t, r.pg.ClearConnection(conn.CallID, "2002"))
	got := r.transcript()
	golden(t, got[1:], ids([]string{
		"CALL_DELIVERED_EVENT conn={1}@2002 alerting=2002 calling=2301 called=2002 lcs=2 cause=22 sg=4294967295",
		"AGENT_STATE_EVENT agent=1002 ext=2002 state=RESERVED dir=5 avail=0",
		"CALL_ESTABLISHED_EVENT conn={1}@2002 answering=2002 calling=2301 called=2002 lcs=3 cause=65535",
		"AGENT_STATE_EVENT agent=1002 ext=2002 state=TALKING dir=5 avail=0",
		"CALL_CONNECTION_CLEARED_EVENT conn={1}@2002 releasing=2002 lcs=0 cause=65535",
		"CALL_CLEARED_EVENT conn={1}@2002 lcs=0 cause=65535",
		"AGENT_STATE_EVENT agent=1002 ext=2002 state=AVAILABLE avail=1",
		"END_CALL_EVENT conn={1}@2002",
	}, conn.CallID))
	if want := "calltype=27"; !strings.Contains(got[0], want) {
		t.Fatalf("blended preview reservation: %s", got[0])
	}

	conn, err = r.pg.MakeCall(MakeCallRequest{Instrument: "2301", DialedNumber: "SEP2302"})
	must(t, err)
	r.run(0)
	if _, err := r.pg.MakePredictiveCall(PredictiveCallRequest{DialedNumber: "15550100", OriginatingDevice: "2302"}); err != nil {
		t.Fatal(err)
	}
	must(t, r.pg.ClearCall(conn.CallID))
	golden(t, r.transcript()[:6], ids([]string{
		"BEGIN_CALL_EVENT conn={1}@SEP2302 calltype=18 ani=2301 dnis=SEP2302 dn=SEP2302 key=0/0/0",
		"CALL_DELIVERED_EVENT conn={1}@SEP2302 alerting=SEP2302 calling=2301 called=SEP2302 lcs=2 cause=22 sg=4294967295",
		"CALL_ESTABLISHED_EVENT conn={1}@SEP2302 answering=SEP2302 calling=2301 called=SEP2302 lcs=3 cause=65535",
		"CALL_CONNECTION_CLEARED_EVENT conn={1}@2301 releasing=2301 lcs=0 cause=65535",
		"CALL_CLEARED_EVENT conn={1}@SEP2302 lcs=0 cause=65535",
		"END_CALL_EVENT conn={1}@SEP2302",
	}, conn.CallID))
	for _, l := range r.pg.Lines() {
		if l.CallID != 0 {
			t.Fatalf("line %s still busy: %+v", l.Instrument, l)
		}
	}
}

// TestReservationFailures: nothing happens when the port or the target is
// busy, or the number is not a phone of the centre.
func TestReservationFailures(t *testing.T) {
	r := newRig(t, DeskSettings{})
	r.login(t, "1001", "2001", "pw")
	mk := func(port, to string) error {
		_, err := r.pg.MakeCall(MakeCallRequest{Instrument: port, DialedNumber: to})
		return err
	}
	if err := mk("2301", "2002"); code(err) != CFResourceBusy {
		t.Errorf("logged-out agent: %v", err)
	}
	for _, n := range []string{"", "2301", "15550100"} {
		if err := mk("2301", n); code(err) != CFInvalidDestination {
			t.Errorf("to %q: %v", n, err)
		}
	}
	must(t, mk("2301", "2001"))
	if err := mk("2301", "2302"); code(err) != CFResourceBusy {
		t.Errorf("busy port: %v", err)
	}
	if err := mk("2302", "2001"); code(err) != CFResourceBusy {
		t.Errorf("agent on a reservation: %v", err)
	}
	r.run(0)
	r.events = nil
	r.pg.SetOnline(false)
	if err := mk("2302", "2001"); code(err) != CFResourceOutOfService {
		t.Errorf("offline: %v", err)
	}
}
