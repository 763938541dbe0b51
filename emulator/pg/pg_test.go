package pg

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ipcclab/ipcclab/internal/sim"
)

var epoch = time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)

type rig struct {
	loop    *sim.Loop
	pg      *PG
	events  []Event
	rona    []uint32
	handled []uint32
	dials   []DialRequest
	changed int
	// answered counts CallAnswered hook calls.
	answered int
	// ended and lineMoved record the CallEnded and LineTransferred hooks.
	ended     []uint32
	lineMoved []string
	// talk and acw are the CallHandled durations, by handled call.
	talk, acw []time.Duration
}

func newRig(t *testing.T, desk DeskSettings) *rig {
	t.Helper()
	r := &rig{loop: sim.NewLoop(epoch)}
	p, err := New(Config{
		Scheduler:   r.loop,
		SkillGroups: []SkillGroupConfig{{Number: 100, ID: 5100, Name: "Sales"}, {Number: 200, ID: 5200, Name: "Service"}},
		Agents: []AgentConfig{
			{AgentID: "1001", Extension: "2001", ICMAgentID: 101001, Password: "pw", SkillGroups: []Membership{{SkillGroup: 100}, {SkillGroup: 200}}},
			{AgentID: "1002", Extension: "2002", ICMAgentID: 101002, SkillGroups: []Membership{{SkillGroup: 100}}},
		},
		// Outbound-only agents' phones: lines with no ICM agent.
		Lines: []LineConfig{{Extension: "2301"}, {Extension: "2302", Instrument: "SEP2302"}},
		Desk:  desk,
		Emit:  func(e Event) { r.events = append(r.events, e) },
		Hooks: Hooks{
			RingNoAnswer: func(id uint32, _ AgentStatus) { r.rona = append(r.rona, id) },
			CallHandled: func(id uint32, talk, acw time.Duration) {
				r.handled, r.talk, r.acw = append(r.handled, id), append(r.talk, talk), append(r.acw, acw)
			},
			Dial:         func(d DialRequest) { r.dials = append(r.dials, d) },
			AgentChanged: func(AgentStatus) { r.changed++ },
			CallAnswered: func(uint32, AgentStatus) { r.answered++ },
			CallEnded:    func(id uint32) { r.ended = append(r.ended, id) },
			LineTransferred: func(id uint32, to Device) {
				r.lineMoved = append(r.lineMoved, itoa(id)+">"+to.ID)
			},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	r.pg = p
	return r
}

func (r *rig) login(t *testing.T, id, ext, pw string) {
	t.Helper()
	if err := r.pg.SetAgentState(SetAgentStateRequest{AgentID: id, Instrument: ext, State: StateLogin, Password: pw}); err != nil {
		t.Fatal(err)
	}
}

func (r *rig) set(id string, s AgentState, reason uint16) error {
	return r.pg.SetAgentState(SetAgentStateRequest{AgentID: id, State: s, ReasonCode: reason})
}

func (r *rig) state(t *testing.T, id string) AgentStatus {
	t.Helper()
	st, err := r.pg.QueryAgentState(AgentSelector{AgentID: id})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// transcript renders the events without the time stamp for golden checks.
func (r *rig) transcript() []string {
	var out []string
	for _, e := range r.events {
		s := e.String()
		out = append(out, s[strings.Index(s, " ")+1:])
	}
	r.events = nil
	return out
}

func code(err error) ControlFailureCode {
	var cf *ControlFailure
	if errors.As(err, &cf) {
		return cf.Code
	}
	return 0xFFFF
}

func (r *rig) run(d time.Duration) { r.loop.RunVirtual(r.loop.Now().Add(d)) }

// routeCall brings an inbound call to agent 1001 and lets it ring.
func (r *rig) routeCall(t *testing.T) uint32 {
	t.Helper()
	id := r.pg.TrunkIncoming(Incoming{ANI: "6175550001", DNIS: "8005550100", DialedNumber: "8005550100",
		CallVariables: [10]string{"acct-42"}})
	if err := r.pg.Route(RouteRequest{CallID: id, ICMAgentID: 101001, SkillGroup: 100, Priority: 5,
		RouterCallKey: RouterCallKey{Day: 20416, CallID: 7}, CallTypeID: 1}); err != nil {
		t.Fatal(err)
	}
	r.run(0)
	return id
}

// TestAgentStateTransitions walks the legal transitions of ipcc-behaviour.md
// §2.4 and a set of illegal requests with the control failure code each
// returns (cti-protocol.md §4.15, §5.7).
func TestAgentStateTransitions(t *testing.T) {
	type step struct {
		name   string
		do     func(r *rig) error
		code   ControlFailureCode // 0: must succeed
		expect AgentState         // state after the step (when it succeeds)
	}
	login := func(id, ext, pw string) func(r *rig) error {
		return func(r *rig) error {
			return r.pg.SetAgentState(SetAgentStateRequest{AgentID: id, Instrument: ext, State: StateLogin, Password: pw})
		}
	}
	set := func(s AgentState, reason uint16) func(r *rig) error {
		return func(r *rig) error { return r.set("1001", s, reason) }
	}
	steps := []step{
		{"state change while logged out", set(StateAvailable, 0), CFInvalidObjectState, StateLogout},
		{"login unknown agent", login("9999", "2001", "pw"), CFInvalidAgentIDOrPassword, StateLogout},
		{"login wrong password", login("1001", "2001", "nope"), CFInvalidAgentIDOrPassword, StateLogout},
		{"login on another agent's phone", login("1001", "2002", "pw"), CFInvalidLogonDevice, StateLogout},
		{"login", login("1001", "2001", "pw"), 0, StateNotReady},
		{"login twice", login("1001", "2001", "pw"), CFAgentAlreadySignedOn, StateNotReady},
		{"ready", set(StateAvailable, 0), 0, StateAvailable},
		{"not ready with reason", set(StateNotReady, 7), 0, StateNotReady},
		{"not ready new reason", set(StateNotReady, 8), 0, StateNotReady},
		{"wrap-up without a call", set(StateWorkReady, 0), CFInvalidObjectState, StateNotReady},
		{"talking cannot be requested", set(StateTalking, 0), CFValueOutOfRange, StateNotReady},
		{"reserved cannot be requested", set(StateReserved, 0), CFValueOutOfRange, StateNotReady},
		{"bad work mode", func(r *rig) error {
			return r.pg.SetAgentState(SetAgentStateRequest{AgentID: "1001", State: StateAvailable, WorkMode: 9})
		}, CFInvalidWorkMode, StateNotReady},
		{"unknown instrument", func(r *rig) error {
			return r.pg.SetAgentState(SetAgentStateRequest{Instrument: "9999", State: StateAvailable})
		}, CFInvalidDeviceID, StateNotReady},
		{"ready by instrument", func(r *rig) error {
			return r.pg.SetAgentState(SetAgentStateRequest{Instrument: "2001", State: StateAvailable})
		}, 0, StateAvailable},
		{"reserved by router", func(r *rig) error {
			id := r.pg.TrunkIncoming(Incoming{ANI: "1"})
			return r.pg.Route(RouteRequest{CallID: id, ICMAgentID: 101001, SkillGroup: 100})
		}, 0, StateReserved},
		{"route to a reserved agent", func(r *rig) error {
			id := r.pg.TrunkIncoming(Incoming{ANI: "2"})
			return r.pg.Route(RouteRequest{CallID: id, ICMAgentID: 101001, SkillGroup: 100})
		}, CFResourceBusy, StateReserved},
		{"logout while reserved", set(StateLogout, 0), CFInvalidObjectState, StateReserved},
		{"answer", func(r *rig) error { r.run(0); return r.pg.AnswerCall("2001", 0) }, 0, StateTalking},
		{"answer again", func(r *rig) error { return r.pg.AnswerCall("2001", 0) }, CFNoCallToAnswer, StateTalking},
		{"logout while talking", set(StateLogout, 0), CFInvalidObjectState, StateTalking},
		{"wrap-up requested while talking (pending)", set(StateWorkNotReady, 0), 0, StateTalking},
		{"hang up", func(r *rig) error { return r.pg.ClearConnection(r.state0().CallID, "2001") }, 0, StateWorkNotReady},
		{"switch wrap-up mode", set(StateWorkReady, 0), 0, StateWorkReady},
		{"end wrap-up", set(StateAvailable, 0), 0, StateAvailable},
		{"logout from ready", set(StateLogout, 3), 0, StateLogout},
	}
	r := newRig(t, DeskSettings{})
	for _, s := range steps {
		err := s.do(r)
		if got := code(err); (s.code == 0 && err != nil) || (s.code != 0 && got != s.code) {
			t.Fatalf("%s: got %v (code %d), want code %d", s.name, err, got, s.code)
		}
		if st := r.state(t, "1001"); st.State != s.expect {
			t.Fatalf("%s: state %s, want %s", s.name, st.State, s.expect)
		}
	}
}

func (r *rig) state0() AgentStatus {
	st, _ := r.pg.QueryAgentState(AgentSelector{AgentID: "1001"})
	return st
}

func TestReasonCodeRequired(t *testing.T) {
	r := newRig(t, DeskSettings{IdleReasonRequired: true, LogoutReasonRequired: true})
	r.login(t, "1002", "2002", "")
	if err := r.set("1002", StateAvailable, 0); err != nil {
		t.Fatal(err)
	}
	if c := code(r.set("1002", StateNotReady, 0)); c != CFReasonCodeRequired {
		t.Fatalf("not ready without reason: code %d, want 281", c)
	}
	if c := code(r.set("1002", StateLogout, 0)); c != CFReasonCodeRequired {
		t.Fatalf("logout without reason: code %d, want 281", c)
	}
	if err := r.set("1002", StateNotReady, 12); err != nil {
		t.Fatal(err)
	}
	if st := r.state(t, "1002"); st.ReasonCode != 12 {
		t.Fatalf("reason %d", st.ReasonCode)
	}
}

// TestPendingStateWhileTalking: NOT_READY requested during a call is shown as
// NextAgentState and applied when the call ends (cti-protocol.md §5.9(e)).
func TestPendingStateWhileTalking(t *testing.T) {
	r := newRig(t, DeskSettings{})
	r.login(t, "1001", "2001", "pw")
	_ = r.set("1001", StateAvailable, 0)
	id := r.routeCall(t)
	if err := r.pg.AnswerCall("2001", id); err != nil {
		t.Fatal(err)
	}
	r.events = nil
	if err := r.set("1001", StateNotReady, 21); err != nil {
		t.Fatal(err)
	}
	st := r.state(t, "1001")
	if st.State != StateTalking || !st.HasNextAgentState || st.NextAgentState != StateNotReady {
		t.Fatalf("pending not recorded: %+v", st)
	}
	ev := r.events[0].(*AgentStateEvent)
	if ev.State != StateTalking || !ev.HasNextAgentState || ev.NextAgentState != StateNotReady {
		t.Fatalf("event does not carry NextAgentState: %s", ev)
	}
	if err := r.pg.ClearConnection(id, "2001"); err != nil {
		t.Fatal(err)
	}
	st = r.state(t, "1001")
	if st.State != StateNotReady || st.ReasonCode != 21 || st.HasNextAgentState {
		t.Fatalf("after call: %s reason %d pending %v", st.State, st.ReasonCode, st.HasNextAgentState)
	}
	if len(r.handled) != 1 || r.handled[0] != id {
		t.Fatalf("handled %v", r.handled)
	}
}

// TestRONA: a reserved agent who lets the phone ring past the RONA time goes
// NOT_READY 32767 and the call is handed back for requeueing
// (ipcc-behaviour.md §2.3, §3.2).
func TestRONA(t *testing.T) {
	r := newRig(t, DeskSettings{RingNoAnswer: 12 * time.Second})
	r.login(t, "1001", "2001", "pw")
	_ = r.set("1001", StateAvailable, 0)
	r.events = nil
	id := r.routeCall(t)
	r.run(12 * time.Second)
	got := r.transcript()
	want := []string{
		"AGENT_PRE_CALL_EVENT agent=1001 sg=100 key=20416/7/0 call=" + itoa(id) + " ani=6175550001 dn=8005550100 cv1=\"acct-42\"",
		"AGENT_STATE_EVENT agent=1001 ext=2001 state=RESERVED dir=1 avail=0",
		"BEGIN_CALL_EVENT conn=" + itoa(id) + "@2001 calltype=2 ani=6175550001 dnis=8005550100 dn=8005550100 key=20416/7/0 cv1=\"acct-42\"",
		"CALL_DELIVERED_EVENT conn=" + itoa(id) + "@2001 alerting=2001 calling=6175550001 called=2001 lcs=2 cause=22 sg=100",
		"CALL_CONNECTION_CLEARED_EVENT conn=" + itoa(id) + "@2001 releasing=2001 lcs=0 cause=10",
		"END_CALL_EVENT conn=" + itoa(id) + "@2001",
		"AGENT_STATE_EVENT agent=1001 ext=2001 state=NOT_READY reason=32767 avail=0",
	}
	golden(t, got, want)
	if len(r.rona) != 1 || r.rona[0] != id {
		t.Fatalf("RONA hook %v", r.rona)
	}
	ci, ok := r.pg.Call(id)
	if !ok || ci.Phase != "ivr" {
		t.Fatalf("call not back at the IVR: %+v", ci)
	}
	// The call can be routed again (to the other agent).
	r.login(t, "1002", "2002", "")
	_ = r.set("1002", StateAvailable, 0)
	if err := r.pg.Route(RouteRequest{CallID: id, ICMAgentID: 101002, SkillGroup: 100, RouterCallKey: RouterCallKey{Day: 20416, CallID: 7, Sequence: 1}}); err != nil {
		t.Fatal(err)
	}
}

func itoa(v uint32) string {
	const d = "0123456789"
	if v == 0 {
		return "0"
	}
	var b []byte
	for v > 0 {
		b = append([]byte{d[v%10]}, b...)
		v /= 10
	}
	return string(b)
}

func golden(t *testing.T, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d events, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("event %d:\n got  %s\n want %s\nall:\n%s", i, got[i], want[i], strings.Join(got, "\n"))
		}
	}
}

// TestInboundEventOrder is the golden sequence of cti-protocol.md §5.9(a):
// pre-call and RESERVED, BEGIN_CALL, CALL_DELIVERED (alerting), answer:
// CALL_ESTABLISHED and TALKING, hang-up: CALL_CONNECTION_CLEARED,
// CALL_CLEARED, wrap-up state, END_CALL, then AVAILABLE when wrap-up ends.
func TestInboundEventOrder(t *testing.T) {
	r := newRig(t, DeskSettings{WrapUpIncoming: true})
	r.login(t, "1001", "2001", "pw")
	_ = r.set("1001", StateAvailable, 0)
	r.events = nil
	id := r.routeCall(t)
	r.run(3 * time.Second)
	if err := r.pg.AnswerCall("2001", id); err != nil {
		t.Fatal(err)
	}
	r.run(60 * time.Second)
	if err := r.pg.ClearConnection(id, "6175550001"); err != nil { // the caller hangs up
		t.Fatal(err)
	}
	r.run(20 * time.Second)
	if err := r.set("1001", StateAvailable, 0); err != nil {
		t.Fatal(err)
	}
	c := itoa(id)
	want := []string{
		"AGENT_PRE_CALL_EVENT agent=1001 sg=100 key=20416/7/0 call=" + c + " ani=6175550001 dn=8005550100 cv1=\"acct-42\"",
		"AGENT_STATE_EVENT agent=1001 ext=2001 state=RESERVED dir=1 avail=0",
		"BEGIN_CALL_EVENT conn=" + c + "@2001 calltype=2 ani=6175550001 dnis=8005550100 dn=8005550100 key=20416/7/0 cv1=\"acct-42\"",
		"CALL_DELIVERED_EVENT conn=" + c + "@2001 alerting=2001 calling=6175550001 called=2001 lcs=2 cause=22 sg=100",
		"CALL_ESTABLISHED_EVENT conn=" + c + "@2001 answering=2001 calling=6175550001 called=2001 lcs=3 cause=65535",
		"AGENT_STATE_EVENT agent=1001 ext=2001 state=TALKING dir=1 avail=0",
		"CALL_CONNECTION_CLEARED_EVENT conn=" + c + "@2001 releasing=6175550001 lcs=0 cause=65535",
		"CALL_CLEARED_EVENT conn=" + c + "@2001 lcs=0 cause=65535",
		"AGENT_STATE_EVENT agent=1001 ext=2001 state=WORK_READY dir=1 avail=0",
		"END_CALL_EVENT conn=" + c + "@2001",
		"AGENT_STATE_EVENT agent=1001 ext=2001 state=AVAILABLE avail=1",
	}
	golden(t, r.transcript(), want)
	if len(r.handled) != 1 {
		t.Fatalf("handled %v (must be reported when wrap-up ends)", r.handled)
	}
	// Per-skill-group states: while talking for 100 the agent is BUSY_OTHER
	// in 200 (cti-protocol.md §3.1 AGENT_STATE_EVENT floating skill groups).
	r2 := newRig(t, DeskSettings{})
	r2.login(t, "1001", "2001", "pw")
	_ = r2.set("1001", StateAvailable, 0)
	id2 := r2.routeCall(t)
	r2.events = nil
	_ = r2.pg.AnswerCall("2001", id2)
	ev := r2.events[1].(*AgentStateEvent)
	if ev.SkillGroup.Number != 100 || ev.SkillGroups[0].State != StateTalking || ev.SkillGroups[1].State != StateBusyOther {
		t.Fatalf("skill group states %+v", ev.SkillGroups)
	}
}

// TestPreCallAbort: the caller hangs up after the reservation, before the
// phone rings: AGENT_PRE_CALL_ABORT_EVENT and the agent is Available again.
func TestPreCallAbort(t *testing.T) {
	r := newRig(t, DeskSettings{})
	r.pg.cfg.TransferDelay = time.Second
	r.login(t, "1001", "2001", "pw")
	_ = r.set("1001", StateAvailable, 0)
	id := r.pg.TrunkIncoming(Incoming{ANI: "6175550001"})
	_ = r.pg.Route(RouteRequest{CallID: id, ICMAgentID: 101001, SkillGroup: 100, RouterCallKey: RouterCallKey{Day: 1, CallID: 2}})
	r.events = nil
	r.pg.TrunkDisconnected(id)
	r.run(5 * time.Second)
	golden(t, r.transcript(), []string{
		"AGENT_PRE_CALL_ABORT_EVENT agent=1001 key=1/2/0",
		"AGENT_STATE_EVENT agent=1001 ext=2001 state=AVAILABLE avail=1",
	})
}

// TestPredictiveEventOrder is the golden sequence of cti-protocol.md §5.9(c).
func TestPredictiveEventOrder(t *testing.T) {
	r := newRig(t, DeskSettings{})
	r.login(t, "1001", "2001", "pw")
	r.events = nil
	id, err := r.pg.MakePredictiveCall(PredictiveCallRequest{DialedNumber: "15550100", OriginatingDevice: "2001",
		RingTimeout: 20 * time.Second, CallVariables: [10]string{"", "camp-1"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.events) != 0 {
		t.Fatal("events before the confirmation: the CTI Server must be able to send the CONF first")
	}
	r.run(0)
	if len(r.dials) != 1 || r.dials[0].CallID != id {
		t.Fatalf("dial hook %v", r.dials)
	}
	r.run(time.Second)
	r.pg.TrunkAlerting(id)
	r.run(5 * time.Second)
	if !r.pg.TrunkAnswered(id) {
		t.Fatal("agent not connected")
	}
	if st := r.state(t, "1001"); st.State != StateTalking || st.Direction != DirectionOutboundPredictive {
		t.Fatalf("agent %s dir %d", st.State, st.Direction)
	}
	r.run(90 * time.Second)
	r.pg.TrunkDisconnected(id)
	c := itoa(id)
	golden(t, r.transcript(), []string{
		"BEGIN_CALL_EVENT conn=" + c + "@15550100 calltype=7 ani= dnis=15550100 dn=15550100 key=0/0/0 cv2=\"camp-1\"",
		"CALL_ORIGINATED_EVENT conn=" + c + "@15550100 calling=2001 called=15550100 lcs=1",
		"CALL_DELIVERED_EVENT conn=" + c + "@15550100 alerting=15550100 calling=2001 called=15550100 lcs=2 cause=22 sg=4294967295",
		"CALL_ESTABLISHED_EVENT conn=" + c + "@15550100 answering=15550100 calling=2001 called=15550100 lcs=3 cause=65535",
		"CALL_DELIVERED_EVENT conn=" + c + "@2001 alerting=2001 calling=15550100 called=2001 lcs=2 cause=22 sg=4294967295",
		"CALL_ESTABLISHED_EVENT conn=" + c + "@2001 answering=2001 calling=15550100 called=2001 lcs=3 cause=65535",
		"AGENT_STATE_EVENT agent=1001 ext=2001 state=TALKING dir=7 avail=0",
		"CALL_CONNECTION_CLEARED_EVENT conn=" + c + "@15550100 releasing=15550100 lcs=0 cause=65535",
		"CALL_CLEARED_EVENT conn=" + c + "@2001 lcs=0 cause=65535",
		"AGENT_STATE_EVENT agent=1001 ext=2001 state=NOT_READY reason=0 avail=0",
		"END_CALL_EVENT conn=" + c + "@15550100",
	})
	// Busy: CALL_FAILED, CALL_CLEARED, END_CALL.
	id, _ = r.pg.MakePredictiveCall(PredictiveCallRequest{DialedNumber: "15550101", OriginatingDevice: "2001"})
	r.run(0)
	r.events = nil
	r.pg.TrunkFailed(id, CauseBusy)
	c = itoa(id)
	golden(t, r.transcript(), []string{
		"CALL_FAILED_EVENT conn=" + c + "@15550101 failing=15550101 lcs=6 cause=3",
		"CALL_CLEARED_EVENT conn=" + c + "@15550101 lcs=0 cause=3",
		"END_CALL_EVENT conn=" + c + "@15550101",
	})
	// Answered while the agent is busy: abandoned.
	a, _ := r.pg.MakePredictiveCall(PredictiveCallRequest{DialedNumber: "15550102", OriginatingDevice: "2001"})
	b, _ := r.pg.MakePredictiveCall(PredictiveCallRequest{DialedNumber: "15550103", OriginatingDevice: "2001"})
	r.run(0)
	if !r.pg.TrunkAnswered(a) {
		t.Fatal("first answer must connect")
	}
	if r.pg.TrunkAnswered(b) {
		t.Fatal("second answer must be abandoned: the agent is talking")
	}
	if _, live := r.pg.Call(b); live {
		t.Fatal("abandoned call still alive")
	}
	// Errors.
	if _, err := r.pg.MakePredictiveCall(PredictiveCallRequest{DialedNumber: "", OriginatingDevice: "2001"}); code(err) != CFInvalidDestination {
		t.Fatalf("empty number: %v", err)
	}
	if _, err := r.pg.MakePredictiveCall(PredictiveCallRequest{DialedNumber: "1", OriginatingDevice: "2002"}); code(err) != CFInvalidCallingDevice {
		t.Fatalf("logged-out agent: %v", err)
	}
}

func TestOfflineAndSystemEvents(t *testing.T) {
	r := newRig(t, DeskSettings{})
	r.pg.SetOnline(false)
	if r.pg.PGStatus() != PGSPeripheralOffline {
		t.Fatal("status")
	}
	if c := code(r.pg.SetAgentState(SetAgentStateRequest{AgentID: "1001", Instrument: "2001", State: StateLogin, Password: "pw"})); c != CFResourceOutOfService {
		t.Fatalf("offline login code %d", c)
	}
	r.pg.SetOnline(true)
	r.pg.HalfHourChange()
	golden(t, r.transcript(), []string{
		"SYSTEM_EVENT id=4 pgstatus=0x4 arg1=5000",
		"SYSTEM_EVENT id=3 pgstatus=0x0 arg1=5000",
		"SYSTEM_EVENT id=9 pgstatus=0x0 arg1=5000",
	})
}

func TestConfigErrorsNameTheField(t *testing.T) {
	l := sim.NewLoop(epoch)
	_, err := New(Config{Scheduler: l, SkillGroups: []SkillGroupConfig{{Number: 1, ID: 2}},
		Agents: []AgentConfig{{AgentID: "1", Extension: "1", ICMAgentID: 1}, {AgentID: "2", Extension: "2", ICMAgentID: 2,
			SkillGroups: []Membership{{SkillGroup: 9}}}}})
	if err == nil || err.Error() != "agents[1].skill_groups[0]: unknown skill group 9" {
		t.Fatalf("got %v", err)
	}
}

func TestSetCallDataAndRelease(t *testing.T) {
	r := newRig(t, DeskSettings{})
	r.login(t, "1001", "2001", "pw")
	_ = r.set("1001", StateAvailable, 0)
	id := r.routeCall(t)
	r.events = nil
	wrap := "sold"
	if err := r.pg.SetCallData(id, CallDataUpdate{CallVariables: map[int]string{3: "x"},
		NamedVariables: []NamedVariable{{Name: "user.campaign", Value: "renewals"}}, CallWrapupData: &wrap}); err != nil {
		t.Fatal(err)
	}
	golden(t, r.transcript(), []string{
		"CALL_DATA_UPDATE_EVENT conn=" + itoa(id) + "@2001 cv1=\"acct-42\" cv3=\"x\" user.campaign=\"renewals\" wrapup=\"sold\"",
	})
	if c := code(r.pg.SetCallData(id, CallDataUpdate{CallVariables: map[int]string{11: "x"}})); c != CFValueOutOfRange {
		t.Fatalf("call variable 11: code %d", c)
	}
	if c := code(r.pg.SetCallData(1, CallDataUpdate{})); c != CFInvalidCallID {
		t.Fatalf("unknown call: code %d", c)
	}
	_ = r.pg.AnswerCall("2001", id)
	_ = r.pg.ClearCall(id)
	if err := r.pg.ReleaseCall(id); err != nil {
		t.Fatalf("release of a just-ended call: %v", err)
	}
	if c := code(r.pg.ReleaseCall(7)); c != CFInvalidCallID {
		t.Fatalf("release unknown: %d", c)
	}
	ags := r.pg.Agents()
	if len(ags) != 2 || ags[0].AgentID != "1001" || len(ags[0].SkillGroups) != 2 || ags[0].SkillGroups[1].ID != 5200 {
		t.Fatalf("listing %+v", ags)
	}
}

// TestLinePredictiveEventOrder: a predictive call from a line without an ICM
// agent (an outbound-only agent's phone) has the call events of §5.9(c) with
// the line's instrument as its device, and never an AGENT_STATE_EVENT; the
// person at the line hangs up through ClearConnection.
func TestLinePredictiveEventOrder(t *testing.T) {
	r := newRig(t, DeskSettings{})
	r.events, r.changed = nil, 0
	id, err := r.pg.MakePredictiveCall(PredictiveCallRequest{DialedNumber: "15550100", OriginatingDevice: "2302",
		RingTimeout: 20 * time.Second, CallVariables: [10]string{"", "camp-1"}, SkillGroup: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.events) != 0 {
		t.Fatal("events before the confirmation")
	}
	r.run(0)
	if len(r.dials) != 1 || r.dials[0].CallID != id {
		t.Fatalf("dial hook %v", r.dials)
	}
	r.run(time.Second)
	r.pg.TrunkAlerting(id)
	r.run(5 * time.Second)
	if !r.pg.TrunkAnswered(id) {
		t.Fatal("line not connected")
	}
	if ci, ok := r.pg.Call(id); !ok || ci.Phase != "connected" || ci.Line != "SEP2302" || ci.AgentID != "" {
		t.Fatalf("call snapshot %+v", ci)
	}
	connected := r.loop.Now()
	if ls := r.pg.Lines(); len(ls) != 2 || ls[1].CallID != id || ls[0].CallID != 0 {
		t.Fatalf("lines %+v", ls)
	} else if !ls[1].Since.Equal(connected) || !ls[0].Since.IsZero() {
		// A line's Since is when its call connected; zero before its first.
		t.Fatalf("lines' since %v and %v, want %v and zero", ls[1].Since, ls[0].Since, connected)
	}
	r.run(90 * time.Second)
	if err := r.pg.ClearConnection(id, "SEP2302"); err != nil { // the person at the line hangs up
		t.Fatal(err)
	}
	c := itoa(id)
	golden(t, r.transcript(), []string{
		"BEGIN_CALL_EVENT conn=" + c + "@15550100 calltype=7 ani= dnis=15550100 dn=15550100 key=0/0/0 cv2=\"camp-1\"",
		"CALL_ORIGINATED_EVENT conn=" + c + "@15550100 calling=SEP2302 called=15550100 lcs=1",
		"CALL_DELIVERED_EVENT conn=" + c + "@15550100 alerting=15550100 calling=SEP2302 called=15550100 lcs=2 cause=22 sg=100",
		"CALL_ESTABLISHED_EVENT conn=" + c + "@15550100 answering=15550100 calling=SEP2302 called=15550100 lcs=3 cause=65535",
		"CALL_DELIVERED_EVENT conn=" + c + "@SEP2302 alerting=SEP2302 calling=15550100 called=SEP2302 lcs=2 cause=22 sg=100",
		"CALL_ESTABLISHED_EVENT conn=" + c + "@SEP2302 answering=SEP2302 calling=15550100 called=SEP2302 lcs=3 cause=65535",
		"CALL_CONNECTION_CLEARED_EVENT conn=" + c + "@SEP2302 releasing=SEP2302 lcs=0 cause=65535",
		"CALL_CLEARED_EVENT conn=" + c + "@SEP2302 lcs=0 cause=65535",
		"END_CALL_EVENT conn=" + c + "@15550100",
	})
	if r.changed != 0 || r.answered != 0 || len(r.handled) != 0 {
		t.Fatalf("ICM hooks called for a line: changed %d answered %d handled %v", r.changed, r.answered, r.handled)
	}
	if ls := r.pg.Lines(); ls[1].CallID != 0 || ls[1].Calls != 1 || ls[1].Talk != 90*time.Second ||
		!ls[1].Since.Equal(connected.Add(90*time.Second)) {
		t.Fatalf("line after the call %+v (connected at %v)", ls[1], connected)
	}
	if _, live := r.pg.Call(id); live || r.pg.ActiveCalls() != 0 {
		t.Fatal("call still alive")
	}
	// The customer hanging up and CLEAR_CALL end a line's call the same way.
	for _, end := range []func(id uint32){
		func(id uint32) { r.pg.TrunkDisconnected(id) },
		func(id uint32) {
			if err := r.pg.ClearCall(id); err != nil {
				t.Fatal(err)
			}
		},
	} {
		id, _ = r.pg.MakePredictiveCall(PredictiveCallRequest{DialedNumber: "15550109", OriginatingDevice: "2301"})
		r.run(0)
		if !r.pg.TrunkAnswered(id) {
			t.Fatal("free line not connected")
		}
		r.events = nil
		end(id)
		c = itoa(id)
		got := r.transcript()
		if len(got) != 3 || !strings.HasPrefix(got[0], "CALL_CONNECTION_CLEARED_EVENT") ||
			got[1] != "CALL_CLEARED_EVENT conn="+c+"@2301 lcs=0 cause=65535" || got[2] != "END_CALL_EVENT conn="+c+"@15550109" {
			t.Fatalf("end of a line's call:\n%s", strings.Join(got, "\n"))
		}
	}
	if r.changed != 0 || r.pg.ActiveCalls() != 0 {
		t.Fatalf("changed %d, active %d", r.changed, r.pg.ActiveCalls())
	}
}

// TestLineBusyAbandon: a customer answering while the line is on another
// call is abandoned exactly as for a busy agent (CEC_NO_AVAILABLE_AGENTS).
func TestLineBusyAbandon(t *testing.T) {
	r := newRig(t, DeskSettings{})
	a, _ := r.pg.MakePredictiveCall(PredictiveCallRequest{DialedNumber: "15550102", OriginatingDevice: "2301"})
	b, err := r.pg.MakePredictiveCall(PredictiveCallRequest{DialedNumber: "15550103", OriginatingDevice: "2301"})
	if err != nil {
		t.Fatal(err)
	}
	r.run(0)
	if !r.pg.TrunkAnswered(a) {
		t.Fatal("first answer must connect")
	}
	r.events = nil
	if r.pg.TrunkAnswered(b) {
		t.Fatal("second answer must be abandoned: the line is busy")
	}
	c := itoa(b)
	golden(t, r.transcript(), []string{
		"CALL_ESTABLISHED_EVENT conn=" + c + "@15550103 answering=15550103 calling=2301 called=15550103 lcs=3 cause=65535",
		"CALL_CONNECTION_CLEARED_EVENT conn=" + c + "@15550103 releasing=15550103 lcs=0 cause=23",
		"CALL_CLEARED_EVENT conn=" + c + "@15550103 lcs=0 cause=23",
		"END_CALL_EVENT conn=" + c + "@15550103",
	})
	if _, live := r.pg.Call(b); live {
		t.Fatal("abandoned call still alive")
	}
	if ls := r.pg.Lines(); ls[0].CallID != a {
		t.Fatalf("the abandon disturbed the line's call: %+v", ls[0])
	}
	// Free again after the call: the next answer connects.
	if err := r.pg.ClearConnection(a, "2301"); err != nil {
		t.Fatal(err)
	}
	d, _ := r.pg.MakePredictiveCall(PredictiveCallRequest{DialedNumber: "15550104", OriginatingDevice: "2301"})
	r.run(0)
	if !r.pg.TrunkAnswered(d) {
		t.Fatal("line free again but not connected")
	}
	if r.changed != 0 {
		t.Fatalf("AgentChanged called %d times for a line", r.changed)
	}
}

// TestLineIsNoICMAgent: ICM does not know the person at a line: agent
// queries and state requests fail (the controller relies on that), and the
// line is no calling device for anything but predictive calls.
func TestLineIsNoICMAgent(t *testing.T) {
	r := newRig(t, DeskSettings{})
	if _, err := r.pg.QueryAgentState(AgentSelector{AgentID: "1301"}); code(err) != CFInvalidAgentID {
		t.Fatalf("query by the outbound-only agent's ID: %v", err)
	}
	if _, err := r.pg.QueryAgentState(AgentSelector{Instrument: "SEP2302"}); code(err) != CFInvalidDeviceID {
		t.Fatalf("query by the line's instrument: %v", err)
	}
	if err := r.set("1301", StateAvailable, 0); code(err) != CFInvalidAgentID {
		t.Fatalf("set state by the outbound-only agent's ID: %v", err)
	}
	if err := r.pg.SetAgentState(SetAgentStateRequest{AgentID: "1301", Instrument: "2301", State: StateLogin}); code(err) != CFInvalidAgentIDOrPassword {
		t.Fatalf("login of the outbound-only agent: %v", err)
	}
	if err := r.pg.SetAgentState(SetAgentStateRequest{AgentID: "1002", Instrument: "2301", State: StateLogin}); code(err) != CFInvalidLogonDevice {
		t.Fatalf("ICM agent logging in on a line: %v", err)
	}
	if _, err := r.pg.MakePredictiveCall(PredictiveCallRequest{DialedNumber: "1", OriginatingDevice: "2999"}); code(err) != CFInvalidCallingDevice {
		t.Fatalf("neither agent nor line: %v", err)
	}
	if ags := r.pg.Agents(); len(ags) != 2 {
		t.Fatalf("lines listed as agents: %+v", ags)
	}
	if len(r.events) != 0 || r.changed != 0 {
		t.Fatalf("events %v, changed %d", r.transcript(), r.changed)
	}
}

func TestLineConfigCollisions(t *testing.T) {
	agentsCfg := []AgentConfig{{AgentID: "1", Extension: "2001", Instrument: "SEP2001", ICMAgentID: 1}}
	cases := []struct {
		lines []LineConfig
		want  string
	}{
		{[]LineConfig{{Extension: "2301"}, {Extension: "2001"}}, `lines[1].extension: device "2001" already used by agents[0]`},
		{[]LineConfig{{Extension: "2301", Instrument: "SEP2001"}}, `lines[0].instrument: device "SEP2001" already used by agents[0]`},
		{[]LineConfig{{Extension: "2301"}, {Extension: "2302", Instrument: "2301"}}, `lines[1].instrument: device "2301" already used by lines[0]`},
		{[]LineConfig{{Extension: "2301"}, {Extension: "2301"}}, `lines[1].extension: device "2301" already used by lines[0]`},
		{[]LineConfig{{Instrument: "SEP2301"}}, "lines[0].extension: required"},
	}
	for _, tc := range cases {
		_, err := New(Config{Scheduler: sim.NewLoop(epoch), Agents: agentsCfg, Lines: tc.lines})
		if err == nil || err.Error() != tc.want {
			t.Errorf("got %v\nwant %s", err, tc.want)
		}
	}
}
