package pg

import (
	"testing"
	"time"

	"github.com/ipcclab/ipcclab/internal/sim"
)

// transferCall is one Hooks.Transfer call.
type transferCall struct {
	at     time.Time
	callID uint32
	device string
}

// switchRig is a rig whose PG hands the IVR-to-agent transfer to a switch
// (Hooks.Transfer set when withSwitch), as the SIP CallManager does.
type switchRig struct {
	*rig
	transfers []transferCall
	ronaAgent []AgentStatus
}

const transferDelay = 2 * time.Second

func newSwitchRig(t *testing.T, desk DeskSettings, withSwitch bool) *switchRig {
	t.Helper()
	r := &switchRig{rig: &rig{loop: sim.NewLoop(epoch)}}
	hooks := Hooks{
		RingNoAnswer: func(id uint32, a AgentStatus) {
			r.rona = append(r.rona, id)
			r.ronaAgent = append(r.ronaAgent, a)
		},
		CallHandled:  func(id uint32, _, _ time.Duration) { r.handled = append(r.handled, id) },
		AgentChanged: func(AgentStatus) { r.changed++ },
		CallAnswered: func(uint32, AgentStatus) { r.answered++ },
	}
	if withSwitch {
		hooks.Transfer = func(id uint32, dev string) {
			r.transfers = append(r.transfers, transferCall{at: r.loop.Now(), callID: id, device: dev})
		}
	}
	p, err := New(Config{
		Scheduler:     r.loop,
		SkillGroups:   []SkillGroupConfig{{Number: 100, ID: 5100, Name: "Sales"}},
		TransferDelay: transferDelay,
		Agents: []AgentConfig{
			{AgentID: "1001", Extension: "2001", ICMAgentID: 101001, SkillGroups: []Membership{{SkillGroup: 100}}},
			{AgentID: "1002", Extension: "2002", ICMAgentID: 101002, SkillGroups: []Membership{{SkillGroup: 100}}},
		},
		Desk:  desk,
		Emit:  func(e Event) { r.events = append(r.events, e) },
		Hooks: hooks,
	})
	if err != nil {
		t.Fatal(err)
	}
	r.pg = p
	for _, a := range []struct{ id, ext string }{{"1001", "2001"}, {"1002", "2002"}} {
		r.login(t, a.id, a.ext, "")
		if err := r.set(a.id, StateAvailable, 0); err != nil {
			t.Fatal(err)
		}
	}
	r.events = nil
	return r
}

// route brings an inbound call in and reserves agent icm for it.
func (r *switchRig) route(t *testing.T, icm uint32, seq uint16) uint32 {
	t.Helper()
	id := r.pg.TrunkIncoming(Incoming{ANI: "6175550001", DNIS: "8005550100", DialedNumber: "8005550100"})
	if err := r.pg.Route(RouteRequest{CallID: id, ICMAgentID: icm, SkillGroup: 100,
		RouterCallKey: RouterCallKey{Day: 20416, CallID: 7, Sequence: uint32(seq)}}); err != nil {
		t.Fatal(err)
	}
	return id
}

// types renders the pending events as their message type names and clears
// them.
func (r *switchRig) types() []string {
	out := []string{}
	for _, e := range r.events {
		out = append(out, e.Type().String())
	}
	r.events = nil
	return out
}

func eqStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func (r *switchRig) expectTypes(t *testing.T, step string, want []string) {
	t.Helper()
	if got := r.types(); !eqStrings(got, want) {
		t.Fatalf("%s: events %v, want %v", step, got, want)
	}
}

func (r *switchRig) phase(t *testing.T, id uint32) string {
	t.Helper()
	ci, ok := r.pg.Call(id)
	if !ok {
		return "gone"
	}
	return ci.Phase
}

// TestTransferHookWaitsForDeviceAlerting: with Hooks.Transfer set, Route
// reserves the agent (AGENT_PRE_CALL, RESERVED) and, after TransferDelay,
// asks the switch to ring the agent's device once; nothing is reported at
// the agent until the switch says the phone rings (DeviceAlerting), then
// BEGIN_CALL and CALL_DELIVERED, and RONA runs from that moment.
func TestTransferHookWaitsForDeviceAlerting(t *testing.T) {
	const rona = 10 * time.Second
	r := newSwitchRig(t, DeskSettings{RingNoAnswer: rona}, true)
	start := r.loop.Now()
	id := r.route(t, 101001, 0)
	r.expectTypes(t, "route", []string{"AGENT_PRE_CALL_EVENT", "AGENT_STATE_EVENT"})
	if st := r.state(t, "1001"); st.State != StateReserved {
		t.Fatalf("agent %s, want RESERVED", st.State)
	}

	// Just before TransferDelay: no transfer asked yet.
	r.run(transferDelay - time.Millisecond)
	if len(r.transfers) != 0 {
		t.Fatalf("transfer asked before TransferDelay: %+v", r.transfers)
	}
	r.run(time.Millisecond)
	if len(r.transfers) != 1 {
		t.Fatalf("transfers %+v, want exactly one", r.transfers)
	}
	tr := r.transfers[0]
	if tr.callID != id || tr.device != "2001" || !tr.at.Equal(start.Add(transferDelay)) {
		t.Fatalf("transfer %+v, want call %d to device 2001 at +%v", tr, id, transferDelay)
	}
	// The switch is slow to ring the phone: no call at the agent, no
	// RONA, whatever the wait.
	r.run(3 * rona)
	r.expectTypes(t, "waiting for the switch", []string{})
	if len(r.transfers) != 1 || len(r.rona) != 0 {
		t.Fatalf("transfers %d, rona %v while waiting for the switch", len(r.transfers), r.rona)
	}
	if p := r.phase(t, id); p != "reserved" {
		t.Fatalf("phase %q, want reserved", p)
	}
	if st := r.state(t, "1001"); st.State != StateReserved {
		t.Fatalf("agent %s, want still RESERVED", st.State)
	}

	// 180 Ringing at the phone.
	if !r.pg.DeviceAlerting(id) {
		t.Fatal("DeviceAlerting on the reserved call returned false")
	}
	r.expectTypes(t, "device alerting", []string{"BEGIN_CALL_EVENT", "CALL_DELIVERED_EVENT"})
	if p := r.phase(t, id); p != "alerting" {
		t.Fatalf("phase %q, want alerting", p)
	}
	// A second 180 (retransmission, or 183 after 180) is not a new delivery.
	if r.pg.DeviceAlerting(id) {
		t.Fatal("second DeviceAlerting returned true")
	}
	r.expectTypes(t, "second device alerting", []string{})

	// RONA counts from the ringing, not from the route.
	r.run(rona - time.Millisecond)
	r.expectTypes(t, "before RONA", []string{})
	r.run(time.Millisecond)
	r.expectTypes(t, "RONA", []string{"CALL_CONNECTION_CLEARED_EVENT", "END_CALL_EVENT", "AGENT_STATE_EVENT"})
	if len(r.rona) != 1 || r.rona[0] != id {
		t.Fatalf("RONA hook %v", r.rona)
	}
	if st := r.state(t, "1001"); st.State != StateNotReady || st.ReasonCode != ReasonRONA {
		t.Fatalf("agent %s reason %d after RONA", st.State, st.ReasonCode)
	}
	if len(r.transfers) != 1 {
		t.Fatalf("transfers %d after RONA, want 1", len(r.transfers))
	}
}

// TestTransferHookAnswer: the full path with the switch — route, transfer,
// ringing, answer — gives the golden event order of cti-protocol.md §5.9(a).
func TestTransferHookAnswer(t *testing.T) {
	r := newSwitchRig(t, DeskSettings{RingNoAnswer: 10 * time.Second}, true)
	id := r.route(t, 101001, 0)
	r.run(transferDelay)
	if !r.pg.DeviceAlerting(id) {
		t.Fatal("DeviceAlerting returned false")
	}
	r.run(3 * time.Second)
	if err := r.pg.AnswerCall("2001", id); err != nil {
		t.Fatal(err)
	}
	r.run(time.Minute) // RONA must have been cancelled by the answer
	r.expectTypes(t, "answered", []string{
		"AGENT_PRE_CALL_EVENT", "AGENT_STATE_EVENT",
		"BEGIN_CALL_EVENT", "CALL_DELIVERED_EVENT",
		"CALL_ESTABLISHED_EVENT", "AGENT_STATE_EVENT",
	})
	if r.answered != 1 || len(r.rona) != 0 {
		t.Fatalf("answered %d, rona %v", r.answered, r.rona)
	}
}

// TestDeviceAlertingRefused: DeviceAlerting is false, and emits nothing, for
// calls that are not waiting for the switch.
func TestDeviceAlertingRefused(t *testing.T) {
	cases := []struct {
		name string
		// setup returns the call ID to report alerting for.
		setup func(t *testing.T, r *switchRig) uint32
		want  []string // events of setup (then none from DeviceAlerting)
	}{
		{
			name: "caller hung up while reserved, before the transfer",
			setup: func(t *testing.T, r *switchRig) uint32 {
				id := r.route(t, 101001, 0)
				r.pg.TrunkDisconnected(id)
				r.run(transferDelay) // the transfer timer must be cancelled
				if len(r.transfers) != 0 {
					t.Fatalf("transfer asked for a call that is gone: %+v", r.transfers)
				}
				return id
			},
			want: []string{"AGENT_PRE_CALL_EVENT", "AGENT_STATE_EVENT", "AGENT_PRE_CALL_ABORT_EVENT", "AGENT_STATE_EVENT"},
		},
		{
			name: "caller hung up after the transfer was asked",
			setup: func(t *testing.T, r *switchRig) uint32 {
				id := r.route(t, 101001, 0)
				r.run(transferDelay)
				if len(r.transfers) != 1 {
					t.Fatalf("transfers %+v", r.transfers)
				}
				r.pg.TrunkDisconnected(id)
				return id
			},
			want: []string{"AGENT_PRE_CALL_EVENT", "AGENT_STATE_EVENT", "AGENT_PRE_CALL_ABORT_EVENT", "AGENT_STATE_EVENT"},
		},
		{
			name: "call waiting at the IVR, never routed",
			setup: func(t *testing.T, r *switchRig) uint32 {
				return r.pg.TrunkIncoming(Incoming{ANI: "6175550009"})
			},
			want: []string{},
		},
		{
			name: "transfer failed before the phone rang",
			setup: func(t *testing.T, r *switchRig) uint32 {
				id := r.route(t, 101001, 0)
				r.run(transferDelay)
				r.pg.TransferFailed(id)
				return id
			},
			want: []string{"AGENT_PRE_CALL_EVENT", "AGENT_STATE_EVENT", "AGENT_PRE_CALL_ABORT_EVENT", "AGENT_STATE_EVENT"},
		},
		{
			name:  "unknown call",
			setup: func(t *testing.T, r *switchRig) uint32 { return 424242 },
			want:  []string{},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newSwitchRig(t, DeskSettings{RingNoAnswer: 10 * time.Second}, true)
			id := tc.setup(t, r)
			r.expectTypes(t, "setup", tc.want)
			before := r.state(t, "1001")
			if r.pg.DeviceAlerting(id) {
				t.Fatal("DeviceAlerting returned true")
			}
			r.run(time.Minute)
			r.expectTypes(t, "after DeviceAlerting", []string{})
			if after := r.state(t, "1001"); after.State != before.State || after.CallID != before.CallID {
				t.Fatalf("agent changed by a refused DeviceAlerting: %+v -> %+v", before, after)
			}
		})
	}
}

// TestTransferFailed: the switch could not ring the agent's phone. The
// reservation is aborted, the agent goes NOT_READY with the RONA reason,
// RingNoAnswer is reported, and the call, back at the IVR, can be routed
// to another agent.
func TestTransferFailed(t *testing.T) {
	r := newSwitchRig(t, DeskSettings{RingNoAnswer: 10 * time.Second}, true)
	id := r.route(t, 101001, 0)
	r.run(transferDelay)
	r.events = nil
	r.pg.TransferFailed(id)
	golden(t, r.transcript(), []string{
		"AGENT_PRE_CALL_ABORT_EVENT agent=1001 key=20416/7/0",
		"AGENT_STATE_EVENT agent=1001 ext=2001 state=NOT_READY reason=32767 avail=0",
	})
	st := r.state(t, "1001")
	if st.State != StateNotReady || st.ReasonCode != ReasonRONA {
		t.Fatalf("agent %s reason %d, want NOT_READY %d", st.State, st.ReasonCode, ReasonRONA)
	}
	if len(r.rona) != 1 || r.rona[0] != id {
		t.Fatalf("RingNoAnswer hook %v, want [%d]", r.rona, id)
	}
	if a := r.ronaAgent[0]; a.AgentID != "1001" || a.State != StateNotReady {
		t.Fatalf("RingNoAnswer agent %+v", a)
	}
	if p := r.phase(t, id); p != "ivr" {
		t.Fatalf("phase %q, want ivr", p)
	}
	// Late or repeated reports about the failed transfer change nothing.
	r.pg.TransferFailed(id)
	if r.pg.DeviceAlerting(id) {
		t.Fatal("DeviceAlerting after TransferFailed returned true")
	}
	r.run(time.Minute)
	r.expectTypes(t, "after failure", []string{})
	if len(r.rona) != 1 {
		t.Fatalf("RingNoAnswer hook %v after repeated TransferFailed", r.rona)
	}
	// The failed agent can not be routed to (NOT_READY).
	if err := r.pg.Route(RouteRequest{CallID: id, ICMAgentID: 101001, SkillGroup: 100}); code(err) != CFResourceBusy {
		t.Fatalf("route to the failed agent: %v", err)
	}
	// Requeue to agent 1002, whose phone rings and answers.
	if err := r.pg.Route(RouteRequest{CallID: id, ICMAgentID: 101002, SkillGroup: 100,
		RouterCallKey: RouterCallKey{Day: 20416, CallID: 7, Sequence: 1}}); err != nil {
		t.Fatalf("requeue: %v", err)
	}
	r.run(transferDelay)
	if len(r.transfers) != 2 || r.transfers[1].callID != id || r.transfers[1].device != "2002" {
		t.Fatalf("transfers %+v, want the second to 2002", r.transfers)
	}
	if !r.pg.DeviceAlerting(id) {
		t.Fatal("DeviceAlerting after requeue returned false")
	}
	if err := r.pg.AnswerCall("2002", id); err != nil {
		t.Fatal(err)
	}
	golden(t, r.transcript(), []string{
		"AGENT_PRE_CALL_EVENT agent=1002 sg=100 key=20416/7/1 call=" + itoa(id) + " ani=6175550001 dn=8005550100",
		"AGENT_STATE_EVENT agent=1002 ext=2002 state=RESERVED dir=1 avail=0",
		"BEGIN_CALL_EVENT conn=" + itoa(id) + "@2002 calltype=2 ani=6175550001 dnis=8005550100 dn=8005550100 key=20416/7/1",
		"CALL_DELIVERED_EVENT conn=" + itoa(id) + "@2002 alerting=2002 calling=6175550001 called=2002 lcs=2 cause=22 sg=100",
		"CALL_ESTABLISHED_EVENT conn=" + itoa(id) + "@2002 answering=2002 calling=6175550001 called=2002 lcs=3 cause=65535",
		"AGENT_STATE_EVENT agent=1002 ext=2002 state=TALKING dir=1 avail=0",
	})
	if st := r.state(t, "1001"); st.State != StateNotReady || st.ReasonCode != ReasonRONA {
		t.Fatalf("failed agent %s reason %d", st.State, st.ReasonCode)
	}
}

// TestTransferFailedIgnored: TransferFailed for calls not waiting for the
// switch (ringing already, unknown) changes nothing.
func TestTransferFailedIgnored(t *testing.T) {
	r := newSwitchRig(t, DeskSettings{}, true)
	id := r.route(t, 101001, 0)
	r.run(transferDelay)
	if !r.pg.DeviceAlerting(id) {
		t.Fatal("DeviceAlerting returned false")
	}
	r.events = nil
	r.pg.TransferFailed(id)     // already ringing: the phone took it
	r.pg.TransferFailed(999999) // unknown call
	r.expectTypes(t, "ignored TransferFailed", []string{})
	if len(r.rona) != 0 {
		t.Fatalf("RingNoAnswer hook %v", r.rona)
	}
	if st := r.state(t, "1001"); st.State != StateReserved || st.CallID != id {
		t.Fatalf("agent %+v, want RESERVED on call %d", st, id)
	}
	if p := r.phase(t, id); p != "alerting" {
		t.Fatalf("phase %q", p)
	}
}

// TestNoTransferHookUnchanged: without Hooks.Transfer the PG alerts the agent
// itself after TransferDelay, and DeviceAlerting/TransferFailed for a call
// already ringing do nothing.
func TestNoTransferHookUnchanged(t *testing.T) {
	cases := []struct {
		name      string
		useSwitch bool
		// after TransferDelay, before any DeviceAlerting
		wantAtDelay []string
	}{
		{"PG alerts itself", false, []string{"BEGIN_CALL_EVENT", "CALL_DELIVERED_EVENT"}},
		{"switch alerts", true, []string{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newSwitchRig(t, DeskSettings{RingNoAnswer: 10 * time.Second}, tc.useSwitch)
			id := r.route(t, 101001, 0)
			r.expectTypes(t, "route", []string{"AGENT_PRE_CALL_EVENT", "AGENT_STATE_EVENT"})
			r.run(transferDelay - time.Millisecond)
			r.expectTypes(t, "before TransferDelay", []string{})
			r.run(time.Millisecond)
			r.expectTypes(t, "at TransferDelay", tc.wantAtDelay)
			if tc.useSwitch {
				if len(r.transfers) != 1 {
					t.Fatalf("transfers %+v", r.transfers)
				}
				return
			}
			if p := r.phase(t, id); p != "alerting" {
				t.Fatalf("phase %q, want alerting", p)
			}
			if r.pg.DeviceAlerting(id) {
				t.Fatal("DeviceAlerting on a call the PG alerted itself returned true")
			}
			r.pg.TransferFailed(id)
			r.expectTypes(t, "switch reports on a PG-alerted call", []string{})
			// RONA from the PG's own alerting.
			r.run(10 * time.Second)
			r.expectTypes(t, "RONA", []string{"CALL_CONNECTION_CLEARED_EVENT", "END_CALL_EVENT", "AGENT_STATE_EVENT"})
			if len(r.rona) != 1 {
				t.Fatalf("RONA hook %v", r.rona)
			}
		})
	}
}
