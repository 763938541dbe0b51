package controller

import (
	"strings"
	"testing"
	"time"

	"github.com/ipcclab/ipcclab/controller/blend"
	"github.com/ipcclab/ipcclab/controller/dialer"
	"github.com/ipcclab/ipcclab/internal/sim"
	"github.com/ipcclab/ipcclab/protocol/cti"
)

var epoch = time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)

// wire is a scripted CTI Server: it records what the controller sends and
// lets a test answer. (The controller may not import the emulator; the
// end-to-end behaviour is tested in internal/lab and conformance/.)
type wire struct {
	t      *testing.T
	frames [][]byte
	closed bool
}

func (w *wire) Send(frame []byte) { w.frames = append(w.frames, append([]byte(nil), frame...)) }
func (w *wire) Close()            { w.closed = true }

func (w *wire) take() []cti.Message {
	w.t.Helper()
	var out []cti.Message
	for _, f := range w.frames {
		m, err := cti.DecodeMessage(f, 24)
		if err != nil {
			w.t.Fatalf("controller sent an undecodable frame: %v", err)
		}
		out = append(out, m)
	}
	w.frames = nil
	return out
}

func testConfig() Config {
	b := blend.DefaultConfig(100)
	b.ReturnReasonCode = 101
	return Config{
		ClientID: "ctl", PeripheralID: 5000, Version: 24, HeartbeatInterval: 10 * time.Second, PollInterval: 5 * time.Second,
		NotReadyReason: 101, OutboundEnabled: true, NumberPrefix: "1555", AfterCallWork: 5 * time.Second,
		Campaign: "Renewals", NoAnswerTimeout: 25 * time.Second,
		BlendEnabled: true, Blend: b, Pacer: dialer.DefaultConfig(),
		Agents: []Agent{
			{AgentID: "1201", Instrument: "2201", Role: Blended},
			{AgentID: "1401", Instrument: "2401", Role: Blended},
			{AgentID: "1301", Instrument: "2301", Role: OutboundOnly},
			{AgentID: "1501", Instrument: "2501", Role: OutboundOnly},
		},
	}
}

func frame(t *testing.T, m cti.Message) []byte {
	t.Helper()
	b, err := cti.AppendMessage(nil, m, 24)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func started(t *testing.T) (*sim.Loop, *Core, *wire) {
	t.Helper()
	loop := sim.NewLoop(epoch)
	c, err := NewCore(testConfig(), loop)
	if err != nil {
		t.Fatal(err)
	}
	w := &wire{t: t}
	c.Start(w)
	return loop, c, w
}

func TestOpenRequestsABridgeWithControl(t *testing.T) {
	_, _, w := started(t)
	msgs := w.take()
	req, ok := msgs[0].(*cti.OpenReq)
	if len(msgs) != 1 || !ok {
		t.Fatalf("first message %T", msgs[0])
	}
	if req.VersionNumber != 24 || req.ServicesRequested != cti.ServiceAllEvents|cti.ServiceClientControl ||
		req.IdleTimeout != 40 || req.ClientID != "ctl" || !req.Has(cti.TagClientPassword) || req.CallMsgMask&cti.AgentPreCallMask == 0 {
		t.Fatalf("OPEN_REQ %+v", req)
	}
}

func TestStartupCheckNamesEveryMismatch(t *testing.T) {
	loop, c, w := started(t)
	open := w.take()[0].(*cti.OpenReq)
	c.Receive(frame(t, &cti.OpenConf{InvokeID: open.InvokeID, ServicesGranted: open.ServicesRequested, PeripheralOnline: true}))
	queries := map[string]uint32{}
	for _, m := range w.take() {
		if q, ok := m.(*cti.QueryAgentStateReq); ok {
			queries[q.AgentID] = q.InvokeID
		}
	}
	if len(queries) != 4 {
		t.Fatalf("want a QUERY_AGENT_STATE_REQ per configured agent, got %v", queries)
	}
	ok := &cti.QueryAgentStateConf{AgentState: cti.AgentStateNotReady, AgentID: "x", SkillGroups: []cti.SkillGroup{{SkillGroupNumber: 100}}}
	ok.InvokeID = queries["1201"]
	c.Receive(frame(t, ok)) // blended and known to ICM: fine
	c.Receive(frame(t, &cti.ControlFailureConf{InvokeID: queries["1401"], FailureCode: 256}))
	c.Receive(frame(t, &cti.ControlFailureConf{InvokeID: queries["1301"], FailureCode: 256})) // outbound-only, unknown to ICM: fine
	ok.InvokeID = queries["1501"]
	c.Receive(frame(t, ok))
	st := c.Status()
	if len(st.Report.Mismatches) != 2 ||
		!strings.Contains(st.Report.Mismatches[0], "agent 1401 is configured as blended") ||
		!strings.Contains(st.Report.Mismatches[1], "agent 1501 is configured outbound-only") {
		t.Fatalf("mismatches %q", st.Report.Mismatches)
	}
	if !st.Connected {
		t.Fatal("a mismatch must not stop the controller")
	}
	// Heartbeats go out at the configured interval.
	loop.RunVirtual(epoch.Add(21 * time.Second))
	hb := 0
	for _, m := range w.take() {
		if _, ok := m.(*cti.HeartbeatReq); ok {
			hb++
		}
	}
	if hb != 2 {
		t.Fatalf("want 2 heartbeats in 21 s at a 10 s interval, got %d", hb)
	}
	// After the connection is lost nothing more is sent.
	c.Closed()
	loop.RunVirtual(epoch.Add(2 * time.Minute))
	if n := len(w.take()); n != 0 {
		t.Fatalf("%d frames sent after the connection was lost", n)
	}
}

func TestOpenRefusalDropsTheConnection(t *testing.T) {
	_, c, w := started(t)
	open := w.take()[0].(*cti.OpenReq)
	c.Receive(frame(t, &cti.FailureConf{InvokeID: open.InvokeID, Status: cti.StatusInvalidVersion}))
	if !w.closed || c.Status().Connected {
		t.Fatal("a refused OPEN_REQ must close the connection so that the driver retries")
	}
}

func TestOutboundOutcomesAreCounted(t *testing.T) {
	loop, c, w := started(t)
	open := w.take()[0].(*cti.OpenReq)
	c.Receive(frame(t, &cti.OpenConf{InvokeID: open.InvokeID}))
	for _, m := range w.take() {
		if q, ok := m.(*cti.QueryAgentStateReq); ok {
			c.Receive(frame(t, &cti.ControlFailureConf{InvokeID: q.InvokeID, FailureCode: 256}))
		}
	}
	// The lines are dialled for as soon as the start-up check places them;
	// the first poll then asks for statistics and decides again.
	loop.RunVirtual(epoch.Add(6 * time.Second))
	var dials []*cti.MakePredictiveCallReq
	for _, m := range w.take() {
		switch r := m.(type) {
		case *cti.QuerySkillGroupStatisticsReq:
			c.Receive(frame(t, &cti.QuerySkillGroupStatisticsConf{InvokeID: r.InvokeID, SkillGroupNumber: 100}))
		case *cti.MakePredictiveCallReq:
			dials = append(dials, r)
		}
	}
	for _, m := range w.take() {
		if d, ok := m.(*cti.MakePredictiveCallReq); ok {
			dials = append(dials, d)
		}
	}
	if len(dials) < 3 {
		t.Fatalf("want calls for the idle lines, got %d", len(dials))
	}
	// 25 s of ringing is 4 rings of 6 s; the campaign rides in CallVariable1.
	if d := dials[0]; d.AlertRings != 4 || d.CallVariable1 != "Renewals" {
		t.Fatalf("MAKE_PREDICTIVE_CALL_REQ AlertRings %d CallVariable1 %q", d.AlertRings, d.CallVariable1)
	}
	for i, d := range dials[:3] {
		c.Receive(frame(t, &cti.MakePredictiveCallConf{InvokeID: d.InvokeID, NewConnectionCallID: uint32(100 + i)}))
	}
	// 100: busy. 101: answered by the customer, connected to the line.
	// 102: answered by the customer, never connected: abandoned.
	c.Receive(frame(t, &cti.CallFailedEvent{ConnectionCallID: 100, ConnectionDeviceID: "x", EventCause: 3}))
	c.Receive(frame(t, &cti.EndCallEvent{ConnectionCallID: 100, ConnectionDeviceID: "x"}))
	c.Receive(frame(t, &cti.CallEstablishedEvent{ConnectionCallID: 101, ConnectionDeviceID: "x", AnsweringDeviceID: "15550000002"}))
	c.Receive(frame(t, &cti.CallEstablishedEvent{ConnectionCallID: 101, ConnectionDeviceID: dials[1].OriginatingDeviceID, AnsweringDeviceID: dials[1].OriginatingDeviceID}))
	c.Receive(frame(t, &cti.EndCallEvent{ConnectionCallID: 101, ConnectionDeviceID: "x"}))
	c.Receive(frame(t, &cti.CallEstablishedEvent{ConnectionCallID: 102, ConnectionDeviceID: "x", AnsweringDeviceID: "15550000003"}))
	c.Receive(frame(t, &cti.EndCallEvent{ConnectionCallID: 102, ConnectionDeviceID: "x"}))
	r := c.Status().Report
	if r.Attempts != 3 || r.Busy != 1 || r.Connects != 1 || r.Abandoned != 1 {
		t.Fatalf("report %+v", r)
	}
	// A garbled event is skipped; the session goes on.
	c.Receive([]byte{0, 0, 0, 2, 0, 0, 0, 30, 1, 2})
	if !c.Status().Connected {
		t.Fatal("one bad message must not end the session")
	}
}

func TestConfigErrorsNameTheField(t *testing.T) {
	cfg := testConfig()
	cfg.Agents[2].AgentID = "1201"
	cfg.Agents[3].Instrument = ""
	cfg.HeartbeatInterval = time.Second
	cfg.NoAnswerTimeout = 10 * time.Second
	err := cfg.Validate()
	for _, want := range []string{"Config.Agents[2].AgentID \"1201\" is configured twice", "Config.Agents[3].Instrument is required", "Config.HeartbeatInterval 1s",
		"Config.NoAnswerTimeout 10s: a campaign call must ring at least 15 s"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not contain %q", err, want)
		}
	}
}

func TestAlertRings(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want uint16
	}{{0, 0}, {time.Second, 3}, {9 * time.Second, 3}, {15 * time.Second, 3}, {18 * time.Second, 3}, {21 * time.Second, 4}, {25 * time.Second, 4}, {30 * time.Second, 5}} {
		if got := alertRings(c.d); got != c.want {
			t.Errorf("alertRings(%v) = %d, want %d", c.d, got, c.want)
		}
	}
}
