package controller_test

import (
	"testing"
	"time"

	"github.com/ipcclab/ipcclab/controller"
	"github.com/ipcclab/ipcclab/controller/dialer"
	"github.com/ipcclab/ipcclab/internal/sim"
	"github.com/ipcclab/ipcclab/protocol/cti"
)

type recStrategy struct {
	want    int
	handled []string
}

func (r *recStrategy) Name() string { return "rec" }
func (r *recStrategy) Decide(s dialer.Snapshot) int {
	n := r.want
	r.want = 0
	return n
}
func (r *recStrategy) Settled(dialer.Settled) {}
func (r *recStrategy) Handled(talk, wrap time.Duration) {
	r.handled = append(r.handled, "talk="+talk.String()+" wrap="+wrap.String())
}

type zzWire struct{ frames [][]byte }

func (w *zzWire) Send(f []byte) { w.frames = append(w.frames, append([]byte(nil), f...)) }
func (w *zzWire) Close()        {}
func (w *zzWire) take(t *testing.T) []cti.Message {
	var out []cti.Message
	for _, f := range w.frames {
		m, err := cti.DecodeMessage(f, 24)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	w.frames = nil
	return out
}

func zzFrame(t *testing.T, m cti.Message) []byte {
	b, err := cti.AppendMessage(nil, m, 24)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// One campaign agent in ICM, one dialer port: a call is transferred to the
// agent, talked 10 s and ends in the documented order (CALL_CONNECTION_CLEARED,
// CALL_CLEARED, AGENT_STATE_EVENT back to NOT_READY, END_CALL). The agent
// has no wrap-up, so the strategy should hear Handled(10s, 0) at once.
func TestPoolHandledICMAgent(t *testing.T) {
	epoch := time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)
	loop := sim.NewLoop(epoch)
	rec := &recStrategy{}
	cfg := controller.Config{ClientID: "ctl", PeripheralID: 5000, Version: 24, HeartbeatInterval: 10 * time.Second,
		PollInterval: 500 * time.Millisecond, NotReadyReason: 101, OutboundEnabled: true, NumberPrefix: "1555",
		AfterCallWork: time.Second, Campaign: "C", NoAnswerTimeout: 18 * time.Second, Pacer: dialer.DefaultConfig(),
		Agents: []controller.Agent{{AgentID: "1201", Instrument: "2201", Role: controller.Blended}},
		Pool:   &controller.PoolConfig{Ports: []string{"5001"}, Strategy: rec}}
	c, err := controller.NewCore(cfg, loop)
	if err != nil {
		t.Fatal(err)
	}
	w := &zzWire{}
	c.Start(w)
	open := w.take(t)[0].(*cti.OpenReq)
	c.Receive(zzFrame(t, &cti.OpenConf{InvokeID: open.InvokeID, ServicesGranted: open.ServicesRequested, PeripheralOnline: true}))
	for _, m := range w.take(t) {
		if q, ok := m.(*cti.QueryAgentStateReq); ok {
			c.Receive(zzFrame(t, &cti.QueryAgentStateConf{InvokeID: q.InvokeID, AgentState: cti.AgentStateNotReady}))
		}
	}
	agentState := func(st cti.AgentState, reason uint16) {
		c.Receive(zzFrame(t, &cti.AgentStateEvent{AgentID: "1201", AgentExtension: "2201", AgentInstrument: "2201", AgentState: st, EventReasonCode: reason}))
	}
	call := uint32(77)
	for round := 1; round <= 2; round++ {
		rec.want = 1
		loop.RunVirtual(loop.Now().Add(1100 * time.Millisecond)) // a pool tick
		var dial *cti.MakePredictiveCallReq
		for _, m := range w.take(t) {
			if d, ok := m.(*cti.MakePredictiveCallReq); ok {
				dial = d
			}
		}
		if dial == nil {
			t.Fatalf("round %d: no MAKE_PREDICTIVE_CALL_REQ", round)
		}
		call++
		c.Receive(zzFrame(t, &cti.MakePredictiveCallConf{InvokeID: dial.InvokeID, NewConnectionCallID: call}))
		// Live answer: the customer, then the port.
		c.Receive(zzFrame(t, &cti.CallEstablishedEvent{ConnectionCallID: call, ConnectionDeviceID: dial.DialedNumber, AnsweringDeviceID: dial.DialedNumber}))
		c.Receive(zzFrame(t, &cti.CallEstablishedEvent{ConnectionCallID: call, ConnectionDeviceID: "5001", AnsweringDeviceID: "5001"}))
		var xfer *cti.TransferCallReq
		for _, m := range w.take(t) {
			if x, ok := m.(*cti.TransferCallReq); ok {
				xfer = x
			}
		}
		if xfer == nil {
			t.Fatalf("round %d: no TRANSFER_CALL_REQ", round)
		}
		c.Receive(zzFrame(t, &cti.CallEstablishedEvent{ConnectionCallID: call, ConnectionDeviceID: "2201", AnsweringDeviceID: "2201"}))
		c.Receive(zzFrame(t, &cti.CallTransferredEvent{PrimaryCallID: call, SecondaryCallID: call, TransferringDeviceID: "5001", TransferredDeviceID: "2201"}))
		c.Receive(zzFrame(t, &cti.TransferCallConf{InvokeID: xfer.InvokeID}))
		agentState(cti.AgentStateTalking, 0)
		loop.RunVirtual(loop.Now().Add(10 * time.Second))
		// The customer hangs up: the documented order (cti-protocol.md §5.9(a)).
		c.Receive(zzFrame(t, &cti.CallConnectionClearedEvent{ConnectionCallID: call, ConnectionDeviceID: dial.DialedNumber, ReleasingDeviceID: dial.DialedNumber}))
		c.Receive(zzFrame(t, &cti.CallClearedEvent{ConnectionCallID: call, ConnectionDeviceID: "2201"}))
		agentState(cti.AgentStateNotReady, 101)
		c.Receive(zzFrame(t, &cti.EndCallEvent{ConnectionCallID: call, ConnectionDeviceID: dial.DialedNumber}))
		if len(rec.handled) != round || rec.handled[round-1] != "talk=10s wrap=0s" {
			t.Fatalf("after call %d (talk 10 s, no wrap-up): Strategy.Handled calls %q, want one more \"talk=10s wrap=0s\"", round, rec.handled)
		}
		loop.RunVirtual(loop.Now().Add(5 * time.Second)) // idle 5 s
		w.take(t)
	}
}

// The agent is on call A; customer B answers on port 5002 and waits; A ends
// in the documented order. B should be transferred to the agent now, not at
// the next poll (PollInterval 10 s, the scenario default) — by then its 2 s
// are long over.
func TestPoolWaitingCustomerWhenICMAgentFrees(t *testing.T) {
	epoch := time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)
	loop := sim.NewLoop(epoch)
	rec := &recStrategy{}
	cfg := controller.Config{ClientID: "ctl", PeripheralID: 5000, Version: 24, HeartbeatInterval: 10 * time.Second,
		PollInterval: 10 * time.Second, NotReadyReason: 101, OutboundEnabled: true, NumberPrefix: "1555",
		AfterCallWork: time.Second, Campaign: "C", NoAnswerTimeout: 18 * time.Second, Pacer: dialer.DefaultConfig(),
		Agents: []controller.Agent{{AgentID: "1201", Instrument: "2201", Role: controller.Blended}},
		Pool:   &controller.PoolConfig{Ports: []string{"5001", "5002"}, Strategy: rec}}
	c, err := controller.NewCore(cfg, loop)
	if err != nil {
		t.Fatal(err)
	}
	w := &zzWire{}
	c.Start(w)
	open := w.take(t)[0].(*cti.OpenReq)
	c.Receive(zzFrame(t, &cti.OpenConf{InvokeID: open.InvokeID, ServicesGranted: open.ServicesRequested, PeripheralOnline: true}))
	for _, m := range w.take(t) {
		if q, ok := m.(*cti.QueryAgentStateReq); ok {
			c.Receive(zzFrame(t, &cti.QueryAgentStateConf{InvokeID: q.InvokeID, AgentState: cti.AgentStateNotReady}))
		}
	}
	rec.want = 2
	loop.RunVirtual(loop.Now().Add(1100 * time.Millisecond))
	var dials []*cti.MakePredictiveCallReq
	for _, m := range w.take(t) {
		if d, ok := m.(*cti.MakePredictiveCallReq); ok {
			dials = append(dials, d)
		}
	}
	if len(dials) != 2 {
		t.Fatalf("dials %d", len(dials))
	}
	ids := []uint32{101, 102}
	for i, d := range dials {
		c.Receive(zzFrame(t, &cti.MakePredictiveCallConf{InvokeID: d.InvokeID, NewConnectionCallID: ids[i]}))
	}
	// A answers and goes to the agent.
	c.Receive(zzFrame(t, &cti.CallEstablishedEvent{ConnectionCallID: 101, AnsweringDeviceID: dials[0].DialedNumber}))
	c.Receive(zzFrame(t, &cti.CallEstablishedEvent{ConnectionCallID: 101, AnsweringDeviceID: dials[0].OriginatingDeviceID}))
	for _, m := range w.take(t) {
		if x, ok := m.(*cti.TransferCallReq); ok {
			c.Receive(zzFrame(t, &cti.CallEstablishedEvent{ConnectionCallID: 101, AnsweringDeviceID: "2201"}))
			c.Receive(zzFrame(t, &cti.CallTransferredEvent{PrimaryCallID: 101, SecondaryCallID: 101, TransferringDeviceID: x.AgentInstrument, TransferredDeviceID: "2201"}))
			c.Receive(zzFrame(t, &cti.TransferCallConf{InvokeID: x.InvokeID}))
			c.Receive(zzFrame(t, &cti.AgentStateEvent{AgentID: "1201", AgentInstrument: "2201", AgentState: cti.AgentStateTalking}))
		}
	}
	loop.RunVirtual(loop.Now().Add(3 * time.Second))
	// B answers; the agent is busy: B waits on its port.
	c.Receive(zzFrame(t, &cti.CallEstablishedEvent{ConnectionCallID: 102, AnsweringDeviceID: dials[1].DialedNumber}))
	c.Receive(zzFrame(t, &cti.CallEstablishedEvent{ConnectionCallID: 102, AnsweringDeviceID: dials[1].OriginatingDeviceID}))
	w.take(t)
	loop.RunVirtual(loop.Now().Add(500 * time.Millisecond))
	// A ends, documented order.
	c.Receive(zzFrame(t, &cti.CallConnectionClearedEvent{ConnectionCallID: 101, ReleasingDeviceID: dials[0].DialedNumber}))
	c.Receive(zzFrame(t, &cti.CallClearedEvent{ConnectionCallID: 101}))
	c.Receive(zzFrame(t, &cti.AgentStateEvent{AgentID: "1201", AgentInstrument: "2201", AgentState: cti.AgentStateNotReady, EventReasonCode: 101}))
	c.Receive(zzFrame(t, &cti.EndCallEvent{ConnectionCallID: 101}))
	loop.RunVirtual(loop.Now().Add(1400 * time.Millisecond)) // B's 2 s are up in 1.5 s
	var got []string
	for _, m := range w.take(t) {
		got = append(got, m.MessageType().String())
	}
	if len(got) == 0 || got[0] != "TRANSFER_CALL_REQ" {
		t.Fatalf("agent free for 1.4 s while B waits on its port; the controller sent %v, want TRANSFER_CALL_REQ at once", got)
	}
	loop.RunVirtual(loop.Now().Add(10 * time.Second))
	for _, m := range w.take(t) {
		got = append(got, m.MessageType().String())
	}
	if r := c.Status().Report.Pool; r.Abandoned != 0 {
		t.Fatalf("10 s later: %v; report %+v: the waiting customer was abandoned", got, r)
	}
}

// A transfer is in flight when the customer's 2 s run out, and is then
// refused (the agent was taken meanwhile). The comment in poolDeadline says
// the call is then abandoned; is it?
func TestPoolRefusedTransferPastDeadline(t *testing.T) {
	epoch := time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)
	loop := sim.NewLoop(epoch)
	rec := &recStrategy{}
	cfg := controller.Config{ClientID: "ctl", PeripheralID: 5000, Version: 24, HeartbeatInterval: 10 * time.Second,
		PollInterval: 10 * time.Second, NotReadyReason: 101, OutboundEnabled: true, NumberPrefix: "1555",
		AfterCallWork: time.Second, Campaign: "C", NoAnswerTimeout: 18 * time.Second, Pacer: dialer.DefaultConfig(),
		Agents: []controller.Agent{{AgentID: "1201", Instrument: "2201", Role: controller.Blended}, {AgentID: "1202", Instrument: "2202", Role: controller.Blended}},
		Pool:   &controller.PoolConfig{Ports: []string{"5001"}, Strategy: rec}}
	c, err := controller.NewCore(cfg, loop)
	if err != nil {
		t.Fatal(err)
	}
	w := &zzWire{}
	c.Start(w)
	open := w.take(t)[0].(*cti.OpenReq)
	c.Receive(zzFrame(t, &cti.OpenConf{InvokeID: open.InvokeID, ServicesGranted: open.ServicesRequested, PeripheralOnline: true}))
	for _, m := range w.take(t) {
		if q, ok := m.(*cti.QueryAgentStateReq); ok {
			c.Receive(zzFrame(t, &cti.QueryAgentStateConf{InvokeID: q.InvokeID, AgentState: cti.AgentStateNotReady}))
		}
	}
	rec.want = 1
	loop.RunVirtual(loop.Now().Add(1100 * time.Millisecond))
	var dial *cti.MakePredictiveCallReq
	for _, m := range w.take(t) {
		if d, ok := m.(*cti.MakePredictiveCallReq); ok {
			dial = d
		}
	}
	c.Receive(zzFrame(t, &cti.MakePredictiveCallConf{InvokeID: dial.InvokeID, NewConnectionCallID: 9}))
	answered := loop.Now()
	c.Receive(zzFrame(t, &cti.CallEstablishedEvent{ConnectionCallID: 9, AnsweringDeviceID: dial.DialedNumber}))
	c.Receive(zzFrame(t, &cti.CallEstablishedEvent{ConnectionCallID: 9, AnsweringDeviceID: "5001"}))
	var x1 *cti.TransferCallReq
	for _, m := range w.take(t) {
		if x, ok := m.(*cti.TransferCallReq); ok {
			x1 = x
		}
	}
	t.Logf("TRANSFER_CALL_REQ to %s at +%v", x1.DialedNumber, loop.Now().Sub(answered))
	loop.RunVirtual(answered.Add(2050 * time.Millisecond)) // the 2 s pass with the transfer in flight
	c.Receive(zzFrame(t, &cti.ControlFailureConf{InvokeID: x1.InvokeID, FailureCode: 33}))
	var again []cti.Message
	for _, m := range w.take(t) {
		again = append(again, m)
		if x, ok := m.(*cti.TransferCallReq); ok {
			t.Logf("after the refusal at +%v the controller sends TRANSFER_CALL_REQ to %s (late: no safe-harbour message)", loop.Now().Sub(answered), x.DialedNumber)
		} else {
			t.Logf("after the refusal: %v", m.MessageType())
		}
	}
	for _, m := range again {
		if x, ok := m.(*cti.TransferCallReq); ok {
			c.Receive(zzFrame(t, &cti.ControlFailureConf{InvokeID: x.InvokeID, FailureCode: 33}))
		}
	}
	// Every further transfer is refused at once (the PG sees the agent busy,
	// the controller does not): what happens over the next seconds?
	sent := map[string]int{}
	for step := 0; step < 1000; step++ {
		for _, m := range w.take(t) {
			sent[m.MessageType().String()]++
			if x, ok := m.(*cti.TransferCallReq); ok {
				c.Receive(zzFrame(t, &cti.ControlFailureConf{InvokeID: x.InvokeID, FailureCode: 33}))
			}
		}
		loop.RunVirtual(loop.Now().Add(10 * time.Millisecond))
	}
	if r := c.Status().Report.Pool; r.Abandoned != 1 || sent["TRANSFER_CALL_REQ"] > 0 || sent["CLEAR_CALL_REQ"] != 1 {
		t.Fatalf("over the next 10 s: %v; report %+v; want the call abandoned (safe-harbour message, one CLEAR_CALL_REQ) and no more transfers", sent, r)
	}
}
