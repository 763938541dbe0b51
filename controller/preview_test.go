package controller

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ipcclab/ipcclab/internal/sim"
	"github.com/ipcclab/ipcclab/protocol/cti"
)

// previewConfig: testConfig in preview mode, blending off, two dialer ports.
func previewConfig() Config {
	cfg := testConfig()
	cfg.BlendEnabled = false
	cfg.Preview = &PreviewConfig{Ports: []string{"5001", "5002"}}
	return cfg
}

// previewRig is a preview-mode core over a scripted CTI Server whose four
// agents are idle: the two blended ones NOT_READY in ICM, the two
// outbound-only ones lines.
type previewRig struct {
	t    *testing.T
	loop *sim.Loop
	c    *Core
	w    *wire
	call uint32
}

func newPreviewCore(t *testing.T, cfg Config) *previewRig {
	t.Helper()
	r := &previewRig{t: t, loop: sim.NewLoop(epoch), call: 1000}
	var err error
	if r.c, err = NewCore(cfg, r.loop); err != nil {
		t.Fatal(err)
	}
	r.w = &wire{t: t}
	r.c.Start(r.w)
	open := r.w.take()[0].(*cti.OpenReq)
	r.recv(&cti.OpenConf{InvokeID: open.InvokeID})
	for _, m := range r.w.take() {
		q := m.(*cti.QueryAgentStateReq)
		if strings.HasPrefix(q.AgentID, "13") || strings.HasPrefix(q.AgentID, "15") {
			r.recv(&cti.ControlFailureConf{InvokeID: q.InvokeID, FailureCode: 256})
			continue
		}
		r.recv(&cti.QueryAgentStateConf{InvokeID: q.InvokeID, AgentState: cti.AgentStateNotReady, AgentID: q.AgentID})
	}
	return r
}

func (r *previewRig) recv(m cti.Message) { r.c.Receive(frame(r.t, m)) }

func (r *previewRig) run(d time.Duration) { r.loop.RunVirtual(r.loop.Now().Add(d)) }

// reservations answers the MAKE_CALL_REQs sent so far with their CONF and
// returns them by the agent's instrument, with their call IDs; the other
// requests are returned as they are.
func (r *previewRig) reservations() (map[string]*cti.MakeCallReq, map[string]uint32, []cti.Message) {
	reqs, ids := map[string]*cti.MakeCallReq{}, map[string]uint32{}
	var other []cti.Message
	for _, m := range r.w.take() {
		mc, ok := m.(*cti.MakeCallReq)
		if !ok {
			other = append(other, m)
			continue
		}
		r.call++
		reqs[mc.DialedNumber], ids[mc.DialedNumber] = mc, r.call
		r.recv(&cti.MakeCallConf{InvokeID: mc.InvokeID, NewConnectionCallID: r.call, NewConnectionDeviceID: mc.AgentInstrument})
	}
	return reqs, ids, other
}

// answer sets BAResponse on reservation call id at agent dev.
func (r *previewRig) answer(id uint32, dev, v string) {
	r.recv(&cti.CallDataUpdateEvent{ConnectionCallID: id, ConnectionDeviceID: dev, NewConnectionDeviceID: dev,
		CallType: cti.CallTypeReservationPreview, NamedVariables: []cti.NamedVar{{Name: "BAResponse", Value: v}}})
}

// cleared expects CLEAR_CALL_REQ for call id, confirms it and ends the call.
func (r *previewRig) cleared(id uint32, dev string, ms []cti.Message) {
	r.t.Helper()
	for _, m := range ms {
		if cc, ok := m.(*cti.ClearCallReq); ok && cc.ConnectionCallID == id {
			r.recv(&cti.ClearCallConf{InvokeID: cc.InvokeID})
			r.recv(&cti.EndCallEvent{ConnectionCallID: id, ConnectionDeviceID: dev})
			return
		}
	}
	r.t.Fatalf("no CLEAR_CALL_REQ for reservation %d in %v", id, ms)
}

func ecc(vars []cti.NamedVar, name string) string {
	for _, v := range vars {
		if v.Name == name {
			return v.Value
		}
	}
	return ""
}

// TestPreviewPresentsAndFollowsTheAnswers: the idle agents get reservation
// calls from free ports, the longest idle first (the lines, idle since the
// start, before the agents in ICM), with the record in the Outbound Option
// ECC variables; Skip presents the next record to the same agent, Accept
// dials the accepted customer from the agent's phone once the reservation
// has ended, Reject leaves the agent alone for RejectPause; an unanswered
// preview is withdrawn after Timeout; a freed port goes to the next idle
// agent; skipped and withdrawn records come back after RetryDelay.
func TestPreviewPresentsAndFollowsTheAnswers(t *testing.T) {
	cfg := previewConfig()
	cfg.Preview.Ports = []string{"5001", "5002", "5003"}
	r := newPreviewCore(t, cfg)
	r.run(time.Second)
	reqs, ids, _ := r.reservations()
	if len(reqs) != 3 || reqs["2301"] == nil || reqs["2501"] == nil || reqs["2201"] == nil {
		t.Fatalf("three ports: want reservations for 2301, 2501, 2201, got %v", reqs)
	}
	a := reqs["2301"]
	if a.AgentInstrument != "5001" || a.CallVariable1 != "Renewals" || a.CallVariable2 != "1" || a.CallVariable3 != "AC0000001" || ecc(a.NamedVariables, "BACampaign") != "Renewals" ||
		ecc(a.NamedVariables, "BAStatus") != "PREVIEW_OUTBOUND_RESERVATION" || ecc(a.NamedVariables, "BACustomerNumber") != "15550000001" ||
		ecc(a.NamedVariables, "BADialedListID") != "1" || ecc(a.NamedVariables, "BAAccountNumber") == "" || ecc(a.NamedVariables, "BAResponse") != "" {
		t.Fatalf("reservation %+v", a)
	}
	if b := reqs["2201"]; b.AgentInstrument != "5003" || ecc(b.NamedVariables, "BAStatus") != "BLENDED_PREVIEW_OUTBOUND_RESERVATION" {
		t.Fatalf("blended agent's reservation %+v", b)
	}

	// 2301 skips: the reservation is cleared and the next record comes.
	r.answer(ids["2301"], "2301", "Skip")
	_, _, ms := r.reservations()
	r.cleared(ids["2301"], "2301", ms)
	next, nids, _ := r.reservations()
	if n := next["2301"]; n == nil || ecc(n.NamedVariables, "BACustomerNumber") != "15550000004" || n.AgentInstrument != "5001" {
		t.Fatalf("after Skip: %v", next)
	}
	// 2301 accepts the next one: the customer is dialed from its phone.
	r.answer(nids["2301"], "2301", "accept")
	_, _, ms = r.reservations()
	r.cleared(nids["2301"], "2301", ms)
	var dial *cti.MakePredictiveCallReq
	for _, m := range r.w.take() {
		if d, ok := m.(*cti.MakePredictiveCallReq); ok {
			dial = d
		}
	}
	if dial == nil || dial.OriginatingDeviceID != "2301" || dial.DialedNumber != "15550000004" || dial.CallVariable1 != "Renewals" ||
		ecc(dial.NamedVariables, "BAStatus") != "PREVIEW_OUTBOUND" || ecc(dial.NamedVariables, "BAResponse") != "Accept" {
		t.Fatalf("customer call %+v", dial)
	}
	r.recv(&cti.MakePredictiveCallConf{InvokeID: dial.InvokeID, NewConnectionCallID: 900})
	r.recv(&cti.CallEstablishedEvent{ConnectionCallID: 900, AnsweringDeviceID: "15550000004"})
	r.recv(&cti.CallEstablishedEvent{ConnectionCallID: 900, AnsweringDeviceID: "2301"})
	// The port the accepted reservation held goes to the agent waiting.
	r.run(time.Second)
	next, _, _ = r.reservations()
	if next["2401"] == nil || next["2401"].AgentInstrument != "5001" {
		t.Fatalf("freed port: %v", next)
	}

	// 2501 rejects: no preview for it during RejectPause (30 s), then one.
	r.answer(ids["2501"], "2501", "Reject-Close")
	_, _, ms = r.reservations()
	r.cleared(ids["2501"], "2501", ms)
	r.run(20 * time.Second)
	if next, _, _ := r.reservations(); len(next) != 0 {
		t.Fatalf("a rejecting agent got a preview within RejectPause: %v", next)
	}
	r.run(15 * time.Second)
	if next, _, _ = r.reservations(); next["2501"] == nil || next["2501"].AgentInstrument != "5002" {
		t.Fatalf("after RejectPause: %v", next)
	}

	// 2201 has not answered: withdrawn 60 s after its preview came.
	r.run(24 * time.Second)
	_, _, ms = r.reservations()
	r.cleared(ids["2201"], "2201", ms)
	st := r.c.Status().Report
	p := st.Preview
	if p == nil || p.Presented != 6 || p.Skipped != 1 || p.Accepted != 1 || p.Rejected != 1 || p.Closed != 1 || p.TimedOut != 1 ||
		p.Dialed != 1 || st.Attempts != 1 || st.Connects != 1 {
		t.Fatalf("report %+v preview %+v", st, p)
	}
	// The skipped record (1) and the withdrawn one (3) come back after
	// RetryDelay (30 min); the closed one (2) never.
	var due []string
	for _, d := range r.c.preview.due {
		due = append(due, d.rec.id+"@"+d.at.Sub(epoch).Round(time.Second).String())
	}
	if got := strings.Join(due, " "); got != "1@30m1s 3@31m1s" {
		t.Fatalf("records due again: %s", got)
	}
}

// TestPreviewRefusalsAndLoss: a refused reservation call returns its port
// and record at once; a reservation the agent hangs up counts as lost; an
// unknown BAResponse is ignored; a callback time is parsed; the connection
// lost returns every record.
func TestPreviewRefusalsAndLoss(t *testing.T) {
	r := newPreviewCore(t, previewConfig())
	r.run(time.Second)
	var refused *cti.MakeCallReq
	for _, m := range r.w.take() {
		if mc, ok := m.(*cti.MakeCallReq); ok && mc.DialedNumber == "2301" {
			refused = mc
			r.recv(&cti.ControlFailureConf{InvokeID: mc.InvokeID, FailureCode: 33})
		} else if ok {
			r.recv(&cti.MakeCallConf{InvokeID: mc.InvokeID, NewConnectionCallID: 77, NewConnectionDeviceID: mc.AgentInstrument})
		}
	}
	if refused == nil {
		t.Fatal("no reservation for 2301")
	}
	// The agent is offered the record again at the next decision (poll).
	r.run(5 * time.Second)
	reqs, ids, _ := r.reservations()
	var again *cti.MakeCallReq
	for _, mc := range reqs {
		again = mc
	}
	if len(reqs) != 1 || ecc(again.NamedVariables, "BACustomerNumber") != ecc(refused.NamedVariables, "BACustomerNumber") || again.AgentInstrument != refused.AgentInstrument {
		t.Fatalf("after the refusal: %v (refused %+v)", reqs, refused)
	}
	r.answer(77, "2501", "Maybe")
	r.answer(77, "2501", "Callback 01052026 17:30")
	_, _, ms := r.reservations()
	r.cleared(77, "2501", ms)
	if due := r.c.preview.due; len(due) != 1 || !due[0].at.Equal(time.Date(2026, 1, 5, 17, 30, 0, 0, time.UTC)) {
		t.Fatalf("callback: %+v", due)
	}
	for dev, id := range ids {
		r.recv(&cti.EndCallEvent{ConnectionCallID: id, ConnectionDeviceID: dev}) // hung up
	}
	p := r.c.Status().Report.Preview
	if p.Refused != 1 || p.Callbacks != 1 || p.Lost != 1 {
		t.Fatalf("preview %+v", p)
	}
	r.run(time.Second)
	r.reservations()
	r.c.Closed()
	if len(r.c.preview.byAgent) != 0 || len(r.c.preview.free) != 2 {
		t.Fatalf("after the connection loss: reservations %v, free ports %v", r.c.preview.byAgent, r.c.preview.free)
	}
	for _, a := range r.c.order {
		if a.outCall != 0 {
			t.Fatalf("agent %s still held by call %d", a.cfg.AgentID, a.outCall)
		}
	}
}

func TestPreviewConfigErrors(t *testing.T) {
	cfg := previewConfig()
	cfg.Preview = &PreviewConfig{Ports: []string{"5001", "5001", "2301"}, Timeout: -time.Second}
	cfg.Pool = &PoolConfig{Ports: []string{"6001"}}
	err := cfg.Validate()
	for _, want := range []string{"Config.Preview.Ports[1] \"5001\": empty or repeated", "Config.Preview.Ports[2] \"2301\" is also an agent's instrument",
		"Config.Preview: Timeout -1s", "Config.Preview and Config.Pool are both set"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not contain %q", err, want)
		}
	}
	for _, c := range []struct {
		v    string
		want previewAnswer
	}{{"Accept", answerAccept}, {" SKIP ", answerSkip}, {"Skip-Next", answerSkip}, {"Skip-Close", answerSkipClose}, {"Reject", answerReject},
		{"Cancel Reservation", answerReject}, {"Reject-Close", answerRejectClose}, {"callback 12312026 09:15", answerCallback}} {
		if got, _, ok := parseAnswer(c.v); !ok || got != c.want {
			t.Errorf("parseAnswer(%q) = %v %v, want %v", c.v, got, ok, c.want)
		}
	}
	for _, bad := range []string{"", "Callback tomorrow", "REX_VOICE", "Yes"} {
		if _, _, ok := parseAnswer(bad); ok {
			t.Errorf("parseAnswer(%q) accepted", bad)
		}
	}
}

// listRecords is a call list in memory (Config.Records) that logs the
// controller's calls into it.
type listRecords struct {
	next []Record
	log  []string
}

func (l *listRecords) Next(_ time.Time, n int, agentID string) ([]Record, error) {
	if len(l.next) == 0 || n < 1 {
		return nil, nil
	}
	r := l.next[0]
	l.next = l.next[1:]
	l.log = append(l.log, "next "+r.Phone+" for "+agentID)
	return []Record{r}, nil
}

func (l *listRecords) Begin(rec Record, _ time.Time) (AttemptID, error) {
	l.log = append(l.log, "begin "+rec.Phone)
	return AttemptID(rec.ID), nil
}

func (l *listRecords) End(id AttemptID, o Outcome, _ time.Time) error {
	l.log = append(l.log, "end "+strconv.FormatInt(int64(id), 10)+" "+o.String())
	return nil
}

func (l *listRecords) Release(rec Record) error {
	l.log = append(l.log, "release "+rec.Phone)
	return nil
}

// TestPreviewWithCallList: with Config.Records a record is claimed for the
// agent when it is presented (its fields on the agent's screen), journaled
// only when the agent accepts it, and ended with the customer call's
// outcome; a skipped record stays claimed (presented again after
// RetryDelay), it is not released to be called at once.
func TestPreviewWithCallList(t *testing.T) {
	cfg := previewConfig()
	cfg.Preview.Ports = []string{"5001"}
	list := &listRecords{next: []Record{
		{ID: 41, Phone: "16175550141", Fields: map[string]string{"Account": "A-41", "name": "Doe,Jane"}},
		{ID: 42, Phone: "16175550142", Fields: map[string]string{"account": "A-42"}},
	}}
	cfg.Records = list
	r := newPreviewCore(t, cfg)
	r.run(time.Second)
	reqs, ids, _ := r.reservations()
	res := reqs["2301"]
	if res == nil || ecc(res.NamedVariables, "BACustomerNumber") != "16175550141" || ecc(res.NamedVariables, "BADialedListID") != "41" ||
		ecc(res.NamedVariables, "BAAccountNumber") != "A-41" || ecc(res.NamedVariables, "BABuddyName") != "Doe,Jane" ||
		res.CallVariable2 != "41" || res.CallVariable3 != "A-41" || res.CallVariable4 != "Doe,Jane" {
		t.Fatalf("reservation %+v", res)
	}
	r.answer(ids["2301"], "2301", "Skip")
	_, _, ms := r.reservations()
	r.cleared(ids["2301"], "2301", ms)
	next, nids, _ := r.reservations()
	r.answer(nids["2301"], "2301", "Accept")
	_, _, ms = r.reservations()
	r.cleared(nids["2301"], "2301", ms)
	var dial *cti.MakePredictiveCallReq
	for _, m := range r.w.take() {
		if d, ok := m.(*cti.MakePredictiveCallReq); ok {
			dial = d
		}
	}
	if next["2301"] == nil || dial == nil || dial.DialedNumber != "16175550142" || dial.CallVariable2 != "42" {
		t.Fatalf("second record %v, dial %+v", next, dial)
	}
	r.recv(&cti.MakePredictiveCallConf{InvokeID: dial.InvokeID, NewConnectionCallID: 901})
	r.recv(&cti.CallFailedEvent{ConnectionCallID: 901, EventCause: cti.CECBusy})
	r.recv(&cti.EndCallEvent{ConnectionCallID: 901})
	want := "next 16175550141 for 1301|next 16175550142 for 1301|begin 16175550142|end 42 busy"
	if got := strings.Join(list.log, "|"); got != want {
		t.Fatalf("call list:\n got  %s\n want %s", got, want)
	}
	if due := r.c.preview.due; len(due) != 1 || due[0].rec.id != "41" || due[0].rec.claimed == nil {
		t.Fatalf("skipped record: %+v", due)
	}
}
