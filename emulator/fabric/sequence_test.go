package fabric

import (
	"strings"
	"testing"
)

// A dialog's two sides number their own requests; an ACK or CANCEL takes
// its INVITE's number and a response its request's. The states of ended
// dialogs are dropped.
func TestSequencerNumbersLikeTheEndpoints(t *testing.T) {
	leg := Leg{Kind: LegDial, Call: 7} // CallManager (UAC) → gateway (UAS)
	inv := request(NodeCallManager, NodeGateway, leg, "INVITE", "port", "555")
	reinv := inv
	reinv.InDialog = true
	ack := func(of Message) Message {
		a := request(NodeCallManager, NodeGateway, leg, "ACK", "port", "555")
		a.InDialog = of.InDialog
		return a
	}
	gwBye := request(NodeGateway, NodeCallManager, leg, "BYE", "555", "port")
	steps := []struct {
		m    Message
		want uint32
	}{
		{inv, 1},
		{response(inv, 180, "Ringing"), 1},
		{response(inv, 200, "OK"), 1},
		{ack(inv), 1},
		{reinv, 2}, // hold
		{response(reinv, 200, "OK"), 2},
		{ack(reinv), 2},
		{reinv, 3}, // retrieve: a second re-INVITE gets a new number
		{response(reinv, 200, "OK"), 3},
		{ack(reinv), 3},
		{request(NodeCallManager, NodeGateway, leg, "REFER", "port", "555"), 4},
		{request(NodeGateway, NodeCallManager, leg, "NOTIFY", "555", "port"), 1}, // the UAS's own count
		{request(NodeGateway, NodeCallManager, leg, "NOTIFY", "555", "port"), 2},
		{response(request(NodeGateway, NodeCallManager, leg, "NOTIFY", "555", "port"), 200, "OK"), 2},
		{gwBye, 3},
		{response(gwBye, 200, "OK"), 3},
	}
	s := NewSequencer()
	for i, st := range steps {
		m := st.m
		s.Number(&m)
		if m.CSeq != st.want {
			t.Errorf("step %d %s: CSeq %d, want %d", i, m.Summary(), m.CSeq, st.want)
		}
	}
	if s.Dialogs() != 0 {
		t.Errorf("%d dialogs kept after the BYE's 200 OK", s.Dialogs())
	}

	// A failed INVITE: 486, its ACK, and the state is gone; CANCEL of a
	// ringing call takes the INVITE's number, and so does the 487.
	busy := Leg{Kind: LegDial, Call: 8}
	inv = request(NodeCallManager, NodeGateway, busy, "INVITE", "port", "556")
	cancel := request(NodeCallManager, NodeGateway, busy, "CANCEL", "port", "556")
	for i, st := range []struct {
		m    Message
		want uint32
	}{
		{inv, 1}, {cancel, 1}, {response(cancel, 200, "OK"), 1}, {response(inv, 487, "Request Terminated"), 1},
		{request(NodeCallManager, NodeGateway, busy, "ACK", "port", "556"), 1},
	} {
		m := st.m
		s.Number(&m)
		if m.CSeq != st.want {
			t.Errorf("failed dialog step %d %s: CSeq %d, want %d", i, m.Summary(), m.CSeq, st.want)
		}
	}
	if s.Dialogs() != 0 {
		t.Errorf("%d dialogs kept after a failed INVITE's ACK", s.Dialogs())
	}
	// Render writes the number.
	m := reinv
	m.CSeq = 9
	if got := string(Render(m, 1)); !strings.Contains(got, "CSeq: 9 INVITE") {
		t.Errorf("Render ignores CSeq:\n%s", got)
	}
}
