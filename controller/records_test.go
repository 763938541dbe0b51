package controller_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ipcclab/ipcclab/controller"
	"github.com/ipcclab/ipcclab/controller/dialer"
	"github.com/ipcclab/ipcclab/internal/sim"
	"github.com/ipcclab/ipcclab/protocol/cti"
)

// fakeRecords is a scripted call list. It records every call, and the
// number of frames the controller had sent when each Begin came, so a test
// can tell the journal entry preceded the dial request.
type fakeRecords struct {
	w        *recWire
	queue    []controller.Record
	log      []string
	beginErr error
	ended    map[controller.AttemptID]controller.Outcome
	begunAt  map[int64]int // record → frames sent before its Begin
	next     int
}

func (f *fakeRecords) Next(now time.Time, n int, agentID string) ([]controller.Record, error) {
	f.next++
	f.log = append(f.log, fmt.Sprintf("next %d %q", n, agentID))
	k := min(n, len(f.queue))
	out := f.queue[:k]
	f.queue = f.queue[k:]
	return out, nil
}

func (f *fakeRecords) Begin(rec controller.Record, now time.Time) (controller.AttemptID, error) {
	f.log = append(f.log, fmt.Sprintf("begin %d", rec.ID))
	if f.beginErr != nil {
		return 0, f.beginErr
	}
	f.begunAt[rec.ID] = f.w.sent
	return controller.AttemptID(rec.ID * 10), nil
}

func (f *fakeRecords) End(id controller.AttemptID, o controller.Outcome, now time.Time) error {
	f.log = append(f.log, fmt.Sprintf("end %d %v", id, o))
	if _, twice := f.ended[id]; twice {
		return errors.New("ended twice")
	}
	f.ended[id] = o
	return nil
}

func (f *fakeRecords) Release(rec controller.Record) error {
	f.log = append(f.log, fmt.Sprintf("release %d", rec.ID))
	return nil
}

type recWire struct {
	frames [][]byte
	sent   int
}

func (w *recWire) Send(f []byte) { w.frames = append(w.frames, append([]byte(nil), f...)); w.sent++ }
func (w *recWire) Close()        {}

func (w *recWire) take(t *testing.T) []cti.Message {
	t.Helper()
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

func dials(msgs []cti.Message) []*cti.MakePredictiveCallReq {
	var out []*cti.MakePredictiveCallReq
	for _, m := range msgs {
		if d, ok := m.(*cti.MakePredictiveCallReq); ok {
			out = append(out, d)
		}
	}
	return out
}

func recFrame(t *testing.T, m cti.Message) []byte {
	t.Helper()
	b, err := cti.AppendMessage(nil, m, 24)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var recEpoch = time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)

func customers(n int) []controller.Record {
	var out []controller.Record
	for i := 1; i <= n; i++ {
		out = append(out, controller.Record{ID: int64(i), Phone: fmt.Sprintf("4420794600%02d", i),
			Fields: map[string]string{"Account": fmt.Sprintf("ACC-%d", i), "name": "Customer " + fmt.Sprint(i)}})
	}
	return out
}

// recCore starts a core with one outbound-only line (agent mode) or, with
// pool set, dialer ports, over a scripted wire; the session is open and the
// agents checked.
func recCore(t *testing.T, recs *fakeRecords, pool *controller.PoolConfig) (*sim.Loop, *controller.Core, *recWire) {
	t.Helper()
	loop := sim.NewLoop(recEpoch)
	w := &recWire{}
	if recs != nil {
		recs.w, recs.ended, recs.begunAt = w, map[controller.AttemptID]controller.Outcome{}, map[int64]int{}
	}
	cfg := controller.Config{ClientID: "ctl", PeripheralID: 5000, Version: 24, HeartbeatInterval: 10 * time.Second,
		PollInterval: 5 * time.Second, NotReadyReason: 101, OutboundEnabled: true, NumberPrefix: "1555",
		AfterCallWork: time.Second, Campaign: "Renewals", NoAnswerTimeout: 18 * time.Second, Pacer: dialer.DefaultConfig(),
		Agents: []controller.Agent{{AgentID: "1301", Instrument: "2301", Role: controller.OutboundOnly}},
		Pool:   pool}
	if recs != nil {
		cfg.Records = recs
	}
	c, err := controller.NewCore(cfg, loop)
	if err != nil {
		t.Fatal(err)
	}
	c.Start(w)
	open := w.take(t)[0].(*cti.OpenReq)
	c.Receive(recFrame(t, &cti.OpenConf{InvokeID: open.InvokeID, ServicesGranted: open.ServicesRequested, PeripheralOnline: true}))
	for _, m := range w.take(t) {
		if q, ok := m.(*cti.QueryAgentStateReq); ok {
			// Not an ICM agent: a line the controller dials from.
			c.Receive(recFrame(t, &cti.ControlFailureConf{InvokeID: q.InvokeID, FailureCode: 256}))
		}
	}
	return loop, c, w
}

// Agent mode dials the call list's records, journals each attempt before
// its dial request leaves, carries the record on the call and ends the
// attempt with the outcome the wire shows.
func TestAgentModeDialsRecords(t *testing.T) {
	const customer = "442079460001"
	for _, tc := range []struct {
		name string
		fate func(c *controller.Core, req *cti.MakePredictiveCallReq, call uint32)
		want controller.Outcome
	}{
		{"busy", func(c *controller.Core, req *cti.MakePredictiveCallReq, call uint32) {
			c.Receive(recFrame(t, &cti.MakePredictiveCallConf{InvokeID: req.InvokeID, NewConnectionCallID: call}))
			c.Receive(recFrame(t, &cti.CallFailedEvent{ConnectionCallID: call, EventCause: cti.CECBusy}))
			c.Receive(recFrame(t, &cti.EndCallEvent{ConnectionCallID: call}))
		}, controller.OutcomeBusy},
		{"no answer", func(c *controller.Core, req *cti.MakePredictiveCallReq, call uint32) {
			c.Receive(recFrame(t, &cti.MakePredictiveCallConf{InvokeID: req.InvokeID, NewConnectionCallID: call}))
			c.Receive(recFrame(t, &cti.CallFailedEvent{ConnectionCallID: call, EventCause: cti.CECCallNotAnswered}))
			c.Receive(recFrame(t, &cti.EndCallEvent{ConnectionCallID: call}))
		}, controller.OutcomeNoAnswer},
		{"network failure", func(c *controller.Core, req *cti.MakePredictiveCallReq, call uint32) {
			c.Receive(recFrame(t, &cti.MakePredictiveCallConf{InvokeID: req.InvokeID, NewConnectionCallID: call}))
			c.Receive(recFrame(t, &cti.CallFailedEvent{ConnectionCallID: call, EventCause: cti.CECDestNotObtainable}))
			c.Receive(recFrame(t, &cti.EndCallEvent{ConnectionCallID: call}))
		}, controller.OutcomeFailed},
		{"connected", func(c *controller.Core, req *cti.MakePredictiveCallReq, call uint32) {
			c.Receive(recFrame(t, &cti.MakePredictiveCallConf{InvokeID: req.InvokeID, NewConnectionCallID: call}))
			c.Receive(recFrame(t, &cti.CallEstablishedEvent{ConnectionCallID: call, AnsweringDeviceID: customer}))
			c.Receive(recFrame(t, &cti.CallEstablishedEvent{ConnectionCallID: call, AnsweringDeviceID: "2301"}))
			c.Receive(recFrame(t, &cti.EndCallEvent{ConnectionCallID: call}))
		}, controller.OutcomeConnected},
		{"abandoned", func(c *controller.Core, req *cti.MakePredictiveCallReq, call uint32) {
			c.Receive(recFrame(t, &cti.MakePredictiveCallConf{InvokeID: req.InvokeID, NewConnectionCallID: call}))
			c.Receive(recFrame(t, &cti.CallEstablishedEvent{ConnectionCallID: call, AnsweringDeviceID: customer}))
			c.Receive(recFrame(t, &cti.EndCallEvent{ConnectionCallID: call}))
		}, controller.OutcomeAbandoned},
		{"request refused (CONTROL_FAILURE_CONF)", func(c *controller.Core, req *cti.MakePredictiveCallReq, call uint32) {
			c.Receive(recFrame(t, &cti.ControlFailureConf{InvokeID: req.InvokeID, FailureCode: 13}))
		}, controller.OutcomeFailed},
		{"request refused (FAILURE_CONF)", func(c *controller.Core, req *cti.MakePredictiveCallReq, call uint32) {
			c.Receive(recFrame(t, &cti.FailureConf{InvokeID: req.InvokeID, Status: 6}))
		}, controller.OutcomeFailed},
		{"connection lost with the call up", func(c *controller.Core, req *cti.MakePredictiveCallReq, call uint32) {
			c.Receive(recFrame(t, &cti.MakePredictiveCallConf{InvokeID: req.InvokeID, NewConnectionCallID: call}))
			c.Closed()
		}, controller.OutcomeUnknown},
		{"connection lost before the CONF", func(c *controller.Core, req *cti.MakePredictiveCallReq, call uint32) {
			c.Closed()
		}, controller.OutcomeUnknown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			recs := &fakeRecords{queue: customers(1)}
			recs.queue[0].Phone = customer
			loop, c, w := recCore(t, recs, nil)
			loop.RunVirtual(recEpoch.Add(time.Second))
			ds := dials(w.take(t))
			if len(ds) != 1 {
				t.Fatalf("%d dials, want 1; records log %q", len(ds), recs.log)
			}
			d := ds[0]
			if d.DialedNumber != customer || d.OriginatingDeviceID != "2301" || d.CallVariable1 != "Renewals" ||
				d.CallVariable2 != "1" || d.CallVariable3 != "ACC-1" || d.CallVariable4 != "Customer 1" {
				t.Errorf("dial %+v: want the record's number and customer fields", d)
			}
			if got := recs.begunAt[1]; got != w.sent-1 {
				t.Errorf("Begin came after %d frames, the dial request is frame %d: the journal must precede the dial", got, w.sent)
			}
			tc.fate(c, d, 900)
			if recs.ended[10] != tc.want || len(recs.ended) != 1 {
				t.Errorf("attempt ended %v, want %v (log %q)", recs.ended, tc.want, recs.log)
			}
			if n := c.Status().Report.RecordErrors; n != 0 {
				t.Errorf("%d record errors (an attempt ended twice?); log %q", n, recs.log)
			}
		})
	}
}

// A journal that refuses the attempt stops the dial: the record is released
// and nothing goes on the wire.
func TestBeginRefusedMeansNoDial(t *testing.T) {
	recs := &fakeRecords{queue: customers(1), beginErr: errors.New("outside the calling hours")}
	loop, _, w := recCore(t, recs, nil)
	loop.RunVirtual(recEpoch.Add(time.Second))
	if ds := dials(w.take(t)); len(ds) != 0 {
		t.Fatalf("dialed %v although Begin failed", ds[0].DialedNumber)
	}
	if strings.Join(recs.log, ",") != `next 1 "1301",begin 1,release 1` {
		t.Errorf("records log %q", recs.log)
	}
}

// With nothing callable the controller dials nothing and does not ask again
// on every pacing run: it waits out a back-off, or RecordsChanged.
func TestNoRecordsNoDialNoSpin(t *testing.T) {
	recs := &fakeRecords{}
	loop, c, w := recCore(t, recs, nil)
	loop.RunVirtual(recEpoch.Add(20 * time.Second)) // polls every 5 s
	if ds := dials(w.take(t)); len(ds) != 0 {
		t.Fatal("dialed with an empty list")
	}
	if recs.next != 1 {
		t.Errorf("Next asked %d times in 20 s with nothing callable, want once (back-off)", recs.next)
	}
	recs.queue = customers(1)
	c.RecordsChanged()
	loop.RunVirtual(loop.Now().Add(6 * time.Second))
	if ds := dials(w.take(t)); len(ds) != 1 || ds[0].DialedNumber != "442079460001" {
		t.Errorf("after RecordsChanged: dials %v", ds)
	}
}

// Pool mode claims the strategy's calls from the list in one Next, dials
// them from free ports and ends each attempt with its fate.
func TestPoolModeDialsRecords(t *testing.T) {
	st := &wantStrategy{want: 3}
	recs := &fakeRecords{queue: customers(2)}
	loop, c, w := recCore(t, recs, &controller.PoolConfig{Ports: []string{"5001", "5002", "5003"}, Strategy: st})
	loop.RunVirtual(recEpoch.Add(1100 * time.Millisecond))
	ds := dials(w.take(t))
	if len(ds) != 2 || ds[0].DialedNumber != "442079460001" || ds[1].DialedNumber != "442079460002" {
		t.Fatalf("dials %v: want the 2 records (3 wanted, 2 callable)", ds)
	}
	if recs.log[0] != `next 3 ""` {
		t.Errorf("pool mode asked %q, want one Next for 3 calls for no particular agent", recs.log[0])
	}
	for i, d := range ds {
		if d.CallVariable2 != fmt.Sprint(i+1) || recs.begunAt[int64(i+1)] >= w.sent-len(ds)+i+1 {
			t.Errorf("dial %d: CallVariable2 %q, begun after frame %d", i, d.CallVariable2, recs.begunAt[int64(i+1)])
		}
	}
	c.Receive(recFrame(t, &cti.MakePredictiveCallConf{InvokeID: ds[0].InvokeID, NewConnectionCallID: 71}))
	c.Receive(recFrame(t, &cti.CallFailedEvent{ConnectionCallID: 71, EventCause: cti.CECBusy}))
	c.Receive(recFrame(t, &cti.EndCallEvent{ConnectionCallID: 71}))
	c.Receive(recFrame(t, &cti.ControlFailureConf{InvokeID: ds[1].InvokeID, FailureCode: 13}))
	if recs.ended[10] != controller.OutcomeBusy || recs.ended[20] != controller.OutcomeFailed {
		t.Errorf("ended %v, want busy and failed", recs.ended)
	}
}

// wantStrategy asks for want calls at every decision.
type wantStrategy struct {
	want  int
	level float64
}

func (s *wantStrategy) Name() string                     { return "want" }
func (s *wantStrategy) Decide(dialer.Snapshot) int       { return s.want }
func (s *wantStrategy) Settled(dialer.Settled)           {}
func (s *wantStrategy) Handled(talk, wrap time.Duration) {}

// Lowering max_in_flight while the pool runs caps the calls in flight from
// the next decision on; invalid limits change nothing and name the field.
func TestUpdateCampaignCapsInFlight(t *testing.T) {
	ports := []string{"5001", "5002", "5003", "5004", "5005", "5006"}
	st := &wantStrategy{want: 6}
	loop, c, w := recCore(t, nil, &controller.PoolConfig{Ports: ports, Strategy: st, MaxInFlight: 6})
	loop.RunVirtual(recEpoch.Add(1100 * time.Millisecond))
	first := dials(w.take(t))
	if len(first) != 6 {
		t.Fatalf("%d dials before the change, want 6", len(first))
	}
	for i, d := range first {
		c.Receive(recFrame(t, &cti.MakePredictiveCallConf{InvokeID: d.InvokeID, NewConnectionCallID: uint32(100 + i)}))
	}
	for _, bad := range []struct {
		l     controller.CampaignLimits
		field string
	}{
		{controller.CampaignLimits{MaxInFlight: -1}, "MaxInFlight"},
		{controller.CampaignLimits{AbandonLimit: 1.5}, "AbandonLimit"},
		{controller.CampaignLimits{LinesPerAgent: 2}, "LinesPerAgent"}, // the strategy has no level
	} {
		err := c.UpdateCampaign(bad.l)
		var le *controller.LimitError
		if !errors.As(err, &le) || le.Field != bad.field {
			t.Errorf("UpdateCampaign(%+v): %v, want a LimitError on %s", bad.l, err, bad.field)
		}
	}
	if l := c.Limits(); l.MaxInFlight != 6 {
		t.Fatalf("a refused update changed the limits: %s", l)
	}
	if err := c.UpdateCampaign(controller.CampaignLimits{MaxInFlight: 2}); err != nil {
		t.Fatal(err)
	}
	// Four calls end; the strategy still wants 6, but only 2 may be in
	// flight.
	for i := range 4 {
		c.Receive(recFrame(t, &cti.CallFailedEvent{ConnectionCallID: uint32(100 + i), EventCause: cti.CECBusy}))
		c.Receive(recFrame(t, &cti.EndCallEvent{ConnectionCallID: uint32(100 + i)}))
	}
	loop.RunVirtual(loop.Now().Add(3 * time.Second))
	if got := dials(w.take(t)); len(got) != 0 {
		t.Errorf("%d new dials with 2 calls still in flight and max_in_flight 2", len(got))
	}
	for i := 4; i < 6; i++ {
		c.Receive(recFrame(t, &cti.CallFailedEvent{ConnectionCallID: uint32(100 + i), EventCause: cti.CECBusy}))
		c.Receive(recFrame(t, &cti.EndCallEvent{ConnectionCallID: uint32(100 + i)}))
	}
	loop.RunVirtual(loop.Now().Add(1100 * time.Millisecond))
	if got := dials(w.take(t)); len(got) != 2 {
		t.Errorf("%d dials with nothing in flight and max_in_flight 2, want 2", len(got))
	}
}

// Agent mode's limits are the progressive pacer's.
func TestUpdateCampaignAgentMode(t *testing.T) {
	_, c, _ := recCore(t, nil, nil)
	if err := c.UpdateCampaign(controller.CampaignLimits{LinesPerAgent: 2, MaxInFlight: 7}); err != nil {
		t.Fatal(err)
	}
	if l := c.Limits(); l.LinesPerAgent != 2 || l.MaxInFlight != 7 {
		t.Errorf("limits %s", l)
	}
	if err := c.UpdateCampaign(controller.CampaignLimits{LinesPerAgent: 0.5}); err == nil {
		t.Error("0.5 lines per agent accepted")
	}
}

// A fixed-ratio strategy's level is the campaign's lines per agent.
func TestUpdateCampaignRatioLevel(t *testing.T) {
	r, err := dialer.NewRatio(dialer.RatioConfig{Level: 1})
	if err != nil {
		t.Fatal(err)
	}
	_, c, _ := recCore(t, nil, &controller.PoolConfig{Ports: []string{"5001"}, Strategy: r})
	if err := c.UpdateCampaign(controller.CampaignLimits{LinesPerAgent: 2.5}); err != nil {
		t.Fatal(err)
	}
	if r.Level() != 2.5 || r.Name() != "ratio-2.5" || c.Limits().LinesPerAgent != 2.5 {
		t.Errorf("level %v name %s limits %s", r.Level(), r.Name(), c.Limits())
	}
}

// The abandon window reaches the predictive dialer while it runs (0: back
// to its configured window), a core made with Config.Limits (a campaign
// resumed from a store) starts from them, the same checks refusing a bad
// one, and a pacer without a window refuses one.
func TestUpdateCampaignAbandonWindow(t *testing.T) {
	dur := func(d time.Duration) *time.Duration { return &d }
	p, err := dialer.NewPredictive(dialer.DefaultPredictive())
	if err != nil {
		t.Fatal(err)
	}
	_, c, _ := recCore(t, nil, &controller.PoolConfig{Ports: []string{"5001"}, Strategy: p})
	if got := c.Limits().AbandonWindow; got == nil || *got != dialer.DefaultAbandonWindow {
		t.Errorf("window before the change %v, want the dialer's 720h", got)
	}
	if err := c.UpdateCampaign(controller.CampaignLimits{AbandonWindow: dur(24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if p.Config().AbandonWindow != 24*time.Hour || *c.Limits().AbandonWindow != 24*time.Hour {
		t.Errorf("dialer window %v, limits %s: want 24h", p.Config().AbandonWindow, c.Limits())
	}
	// A change of limit only keeps the window.
	if err := c.UpdateCampaign(controller.CampaignLimits{AbandonLimit: 0.02}); err != nil || p.Config().AbandonWindow != 24*time.Hour {
		t.Errorf("a new limit: %v, window %v, want 24h kept", err, p.Config().AbandonWindow)
	}
	err = c.UpdateCampaign(controller.CampaignLimits{AbandonWindow: dur(10 * time.Minute), MaxInFlight: 3})
	var le *controller.LimitError
	if !errors.As(err, &le) || le.Field != "AbandonWindow" || p.Config().AbandonWindow != 24*time.Hour || c.Limits().MaxInFlight == 3 {
		t.Errorf("a 10 min window: %v (window now %v), want a LimitError on AbandonWindow and nothing changed", err, p.Config().AbandonWindow)
	}
	if err := c.UpdateCampaign(controller.CampaignLimits{AbandonWindow: dur(0)}); err != nil || p.Config().AbandonWindow != dialer.DefaultAbandonWindow {
		t.Errorf("window 0: %v, window %v, want the configured 720h", err, p.Config().AbandonWindow)
	}

	q, _ := dialer.NewPredictive(dialer.DefaultPredictive())
	uk := false
	cfg := controller.Config{ClientID: "ctl", PeripheralID: 5000, Version: 24, HeartbeatInterval: 10 * time.Second,
		PollInterval: 5 * time.Second, OutboundEnabled: true, Pacer: dialer.DefaultConfig(),
		Pool:   &controller.PoolConfig{Ports: []string{"5001"}, Strategy: q},
		Limits: &controller.CampaignLimits{AbandonLimit: 0.02, MaxInFlight: 4, UKOfcom: &uk, AbandonWindow: dur(48 * time.Hour)}}
	core, err := controller.NewCore(cfg, sim.NewLoop(recEpoch))
	if err != nil {
		t.Fatal(err)
	}
	if l := core.Limits(); l.AbandonLimit != 0.02 || l.MaxInFlight != 4 || *l.AbandonWindow != 48*time.Hour || q.Config().AbandonLimit != 0.02 {
		t.Errorf("a core made with stored limits runs with %s (dialer limit %v)", l, q.Config().AbandonLimit)
	}
	cfg.Limits = &controller.CampaignLimits{LinesPerAgent: 2}
	if _, err := controller.NewCore(cfg, sim.NewLoop(recEpoch)); !errors.As(err, &le) || le.Field != "LinesPerAgent" {
		t.Errorf("stored lines per agent on a predictive pool: %v, want a LimitError on LinesPerAgent", err)
	}

	// No window to set: a ratio pool and agent mode take 0 and refuse
	// anything else, naming the field.
	r, _ := dialer.NewRatio(dialer.RatioConfig{Level: 1})
	_, rc, _ := recCore(t, nil, &controller.PoolConfig{Ports: []string{"5001"}, Strategy: r})
	_, ac, _ := recCore(t, nil, nil)
	for name, core := range map[string]*controller.Core{"ratio pool": rc, "agent mode": ac} {
		if err := core.UpdateCampaign(controller.CampaignLimits{AbandonWindow: dur(0)}); err != nil {
			t.Errorf("%s, window 0: %v", name, err)
		}
		if err := core.UpdateCampaign(controller.CampaignLimits{AbandonWindow: dur(24 * time.Hour)}); !errors.As(err, &le) || le.Field != "AbandonWindow" {
			t.Errorf("%s, a 24 h window: %v, want a LimitError on AbandonWindow", name, err)
		}
		if w := core.Limits().AbandonWindow; w != nil {
			t.Errorf("%s reports a window %v", name, *w)
		}
	}
}
