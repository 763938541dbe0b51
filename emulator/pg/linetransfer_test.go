package pg

import (
	"fmt"
	"testing"
	"time"
)

// portCall places a predictive call from a line (a dialer port) and has the
// customer answer: the call is connected to the line.
func (r *rig) portCall(t *testing.T, line, number string) uint32 {
	t.Helper()
	id, err := r.pg.MakePredictiveCall(PredictiveCallRequest{DialedNumber: number, OriginatingDevice: line,
		CallVariables: [10]string{"camp-1"}, SkillGroup: 100})
	if err != nil {
		t.Fatal(err)
	}
	r.run(0)
	if !r.pg.TrunkAnswered(id) {
		t.Fatalf("call %d not connected to line %s", id, line)
	}
	return id
}

func singleStep(line string, id uint32, to string) TransferRequest {
	return TransferRequest{Instrument: line, HeldCallID: NoCallID, ActiveCallID: id, DialedNumber: to}
}

// TestLineTransferEventOrder: a customer waiting on a dialer port is moved
// by a single-step transfer to a free agent (or another line) and connected
// there at once: CALL_DELIVERED and CALL_ESTABLISHED at the target,
// CALL_TRANSFERRED, TALKING (Direction 7) for an agent; the port is free;
// the call then ends like a predictive call connected directly, with the
// agent's wrap-up after outgoing calls.
func TestLineTransferEventOrder(t *testing.T) {
	cases := []struct {
		name string
		desk DeskSettings
		// agent to log in and its state before the transfer ("" none).
		agent, ext string
		state      AgentState
		from, to   string
		end        func(r *rig, id uint32) error
		after      func(r *rig) error // e.g. the agent ends wrap-up
		want       func(c string) []string
		// target is the device the call is at after the transfer;
		// agentID the agent on it ("" for a line).
		target, agentID string
		answered        int
		talk, acw       time.Duration
		handled         bool
	}{
		{
			name: "to a Not Ready agent, customer hangs up, wrap-up", desk: DeskSettings{WrapUpOutgoing: true},
			agent: "1001", ext: "2001", state: StateNotReady, from: "2301", to: "2001",
			end:   func(r *rig, id uint32) error { r.pg.TrunkDisconnected(id); return nil },
			after: func(r *rig) error { return r.set("1001", StateNotReady, 0) },
			want: func(c string) []string {
				return []string{
					"CALL_DELIVERED_EVENT conn=" + c + "@2001 alerting=2001 calling=15550100 called=2001 lcs=2 cause=22 sg=100",
					"CALL_ESTABLISHED_EVENT conn=" + c + "@2001 answering=2001 calling=15550100 called=2001 lcs=3 cause=65535",
					"CALL_TRANSFERRED_EVENT primary=" + c + "@2301 secondary=" + c + "@2301 transferring=2301 transferred=2001 parties=" + c + "@15550100," + c + "@2001 lcs=3 cause=32",
					"AGENT_STATE_EVENT agent=1001 ext=2001 state=TALKING dir=7 avail=0",
					// 60 s later the customer hangs up.
					"CALL_CONNECTION_CLEARED_EVENT conn=" + c + "@15550100 releasing=15550100 lcs=0 cause=65535",
					"CALL_CLEARED_EVENT conn=" + c + "@2001 lcs=0 cause=65535",
					"AGENT_STATE_EVENT agent=1001 ext=2001 state=WORK_NOT_READY dir=7 avail=0",
					"END_CALL_EVENT conn=" + c + "@15550100",
					// 20 s of wrap-up, then back to Not Ready.
					"AGENT_STATE_EVENT agent=1001 ext=2001 state=NOT_READY reason=0 avail=0",
				}
			},
			target: "2001", agentID: "1001", answered: 1, talk: time.Minute, acw: 20 * time.Second, handled: true,
		},
		{
			name: "to an Available agent by instrument, CLEAR_CALL", agent: "1002", ext: "2002", state: StateAvailable,
			from: "SEP2302", to: "2002",
			end: func(r *rig, id uint32) error { return r.pg.ClearCall(id) },
			want: func(c string) []string {
				return []string{
					"CALL_DELIVERED_EVENT conn=" + c + "@2002 alerting=2002 calling=15550100 called=2002 lcs=2 cause=22 sg=100",
					"CALL_ESTABLISHED_EVENT conn=" + c + "@2002 answering=2002 calling=15550100 called=2002 lcs=3 cause=65535",
					"CALL_TRANSFERRED_EVENT primary=" + c + "@SEP2302 secondary=" + c + "@SEP2302 transferring=SEP2302 transferred=2002 parties=" + c + "@15550100," + c + "@2002 lcs=3 cause=32",
					"AGENT_STATE_EVENT agent=1002 ext=2002 state=TALKING dir=7 avail=0",
					"CALL_CONNECTION_CLEARED_EVENT conn=" + c + "@2002 releasing=2002 lcs=0 cause=65535",
					"CALL_CLEARED_EVENT conn=" + c + "@2002 lcs=0 cause=65535",
					"AGENT_STATE_EVENT agent=1002 ext=2002 state=AVAILABLE avail=1",
					"END_CALL_EVENT conn=" + c + "@15550100",
				}
			},
			target: "2002", agentID: "1002", answered: 1, talk: time.Minute, handled: true,
		},
		{
			name: "to another line, customer hangs up", from: "2301", to: "SEP2302",
			end: func(r *rig, id uint32) error { r.pg.TrunkDisconnected(id); return nil },
			want: func(c string) []string {
				return []string{
					"CALL_DELIVERED_EVENT conn=" + c + "@SEP2302 alerting=SEP2302 calling=15550100 called=SEP2302 lcs=2 cause=22 sg=100",
					"CALL_ESTABLISHED_EVENT conn=" + c + "@SEP2302 answering=SEP2302 calling=15550100 called=SEP2302 lcs=3 cause=65535",
					"CALL_TRANSFERRED_EVENT primary=" + c + "@2301 secondary=" + c + "@2301 transferring=2301 transferred=SEP2302 parties=" + c + "@15550100," + c + "@SEP2302 lcs=3 cause=32",
					"CALL_CONNECTION_CLEARED_EVENT conn=" + c + "@15550100 releasing=15550100 lcs=0 cause=65535",
					"CALL_CLEARED_EVENT conn=" + c + "@SEP2302 lcs=0 cause=65535",
					"END_CALL_EVENT conn=" + c + "@15550100",
				}
			},
			target: "SEP2302",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, tc.desk)
			if tc.agent != "" {
				r.login(t, tc.agent, tc.ext, map[string]string{"1001": "pw"}[tc.agent])
				if tc.state != StateNotReady {
					must(t, r.set(tc.agent, tc.state, 0))
				}
			}
			id := r.portCall(t, tc.from, "15550100")
			r.run(5 * time.Second) // the customer waits on the port (a safe-harbour message)
			r.events = nil
			res, err := r.pg.TransferCall(singleStep(tc.from, id, tc.to))
			if err != nil {
				t.Fatal(err)
			}
			if res.Connection != (Connection{CallID: id, DeviceIDType: ConnectionStatic, DeviceID: tc.target}) || len(res.Parties) != 2 ||
				res.Parties[0].Connection.DeviceID != "15550100" || res.Parties[0].DeviceType != DeviceExternal {
				t.Fatalf("result %+v", res)
			}
			// The call kept its ID and is at the target now; the port is
			// free and counts the 5 s the customer spent there.
			ci, ok := r.pg.Call(id)
			if !ok || ci.Phase != "connected" || ci.AgentID != tc.agentID || (tc.agentID == "" && ci.Line != tc.target) || (tc.agentID != "" && ci.Line != "") {
				t.Fatalf("call after the transfer %+v", ci)
			}
			port := r.pg.Lines()[0]
			if tc.from == "SEP2302" {
				port = r.pg.Lines()[1]
			}
			if port.CallID != 0 || port.Calls != 1 || port.Talk != 5*time.Second {
				t.Fatalf("port after the transfer %+v", port)
			}
			if tc.agentID != "" {
				st := r.state(t, tc.agentID)
				if st.State != StateTalking || st.Direction != DirectionOutboundPredictive || st.CallID != id || st.CallSkillGroup != 100 {
					t.Fatalf("agent %+v", st)
				}
			}
			if r.answered != tc.answered || len(r.lineMoved) != 1 || r.lineMoved[0] != itoa(id)+">"+tc.target {
				t.Fatalf("hooks: answered %d, line transferred %v", r.answered, r.lineMoved)
			}
			// The port has no connection on the call any more.
			if err := r.pg.ClearConnection(id, tc.from); code(err) != CFNoConnectionToClear {
				t.Fatalf("clearing the old port's connection: %v", err)
			}
			r.run(time.Minute)
			must(t, tc.end(r, id))
			if _, live := r.pg.Call(id); live || len(r.ended) != 1 || r.ended[0] != id {
				t.Fatalf("call not ended (ended hook %v)", r.ended)
			}
			if tc.after != nil {
				r.run(20 * time.Second)
				must(t, tc.after(r))
			}
			golden(t, r.transcript(), tc.want(itoa(id)))
			if !tc.handled {
				if len(r.handled) != 0 {
					t.Fatalf("CallHandled for a line: %v", r.handled)
				}
				if to := r.pg.Lines()[1]; to.CallID != 0 || to.Calls != 1 || to.Talk != time.Minute {
					t.Fatalf("target line after the call %+v", to)
				}
				return
			}
			if len(r.handled) != 1 || r.handled[0] != id || r.talk[0] != tc.talk || r.acw[0] != tc.acw {
				t.Fatalf("CallHandled %v talk %v acw %v, want talk %v acw %v", r.handled, r.talk, r.acw, tc.talk, tc.acw)
			}
			if st := r.state(t, tc.agentID); st.State != tc.state || st.CallID != 0 {
				t.Fatalf("agent after the call %s (call %d), want %s", st.State, st.CallID, tc.state)
			}
		})
	}
}

// TestLineTransferFailures: a transfer from a port that cannot be done
// fails with the control failure code and changes nothing — no event, the
// customer stays connected to the port, the agents are as they were.
func TestLineTransferFailures(t *testing.T) {
	type env struct {
		r    *rig
		id   uint32 // the customer on port 2301
		t    *testing.T
		call uint32 // another call the setup made
	}
	agentOn := func(e *env, answer bool) {
		e.r.login(e.t, "1001", "2001", "pw")
		must(e.t, e.r.set("1001", StateAvailable, 0))
		e.call = e.r.routeCall(e.t)
		if answer {
			must(e.t, e.r.pg.AnswerCall("2001", e.call))
		}
	}
	cases := []struct {
		name  string
		desk  DeskSettings
		setup func(e *env)
		req   func(e *env) TransferRequest
		code  ControlFailureCode
	}{
		{"agent talking", DeskSettings{}, func(e *env) { agentOn(e, true) },
			func(e *env) TransferRequest { return singleStep("2301", e.id, "2001") }, CFResourceBusy},
		{"agent's phone ringing", DeskSettings{}, func(e *env) { agentOn(e, false) },
			func(e *env) TransferRequest { return singleStep("2301", e.id, "2001") }, CFResourceBusy},
		{"agent holding a call", DeskSettings{}, func(e *env) {
			agentOn(e, true)
			must(e.t, e.r.pg.HoldCall("2001", e.call))
		}, func(e *env) TransferRequest { return singleStep("2301", e.id, "2001") }, CFResourceBusy},
		{"agent wrapping up", DeskSettings{WrapUpIncoming: true}, func(e *env) {
			agentOn(e, true)
			must(e.t, e.r.pg.ClearConnection(e.call, "2001"))
		}, func(e *env) TransferRequest { return singleStep("2301", e.id, "2001") }, CFResourceBusy},
		{"agent logged out", DeskSettings{}, nil,
			func(e *env) TransferRequest { return singleStep("2301", e.id, "2002") }, CFResourceBusy},
		{"line with a call", DeskSettings{}, func(e *env) { e.call = e.r.portCall(e.t, "SEP2302", "15550200") },
			func(e *env) TransferRequest { return singleStep("2301", e.id, "2302") }, CFResourceBusy},
		{"unknown target", DeskSettings{}, nil,
			func(e *env) TransferRequest { return singleStep("2301", e.id, "2999") }, CFInvalidDestination},
		{"outside number", DeskSettings{}, nil,
			func(e *env) TransferRequest { return singleStep("2301", e.id, "15550300") }, CFInvalidDestination},
		{"no target", DeskSettings{}, nil,
			func(e *env) TransferRequest { return singleStep("2301", e.id, "") }, CFInvalidDestination},
		{"the port itself", DeskSettings{}, nil,
			func(e *env) TransferRequest { return singleStep("2301", e.id, "2301") }, CFInvalidDestination},
		{"unknown call", DeskSettings{}, nil,
			func(e *env) TransferRequest { return singleStep("2301", 77, "2002") }, CFInvalidCallID},
		{"call at another port", DeskSettings{}, func(e *env) { e.call = e.r.portCall(e.t, "SEP2302", "15550200") },
			func(e *env) TransferRequest { return singleStep("2301", e.call, "2002") }, CFInvalidCallID},
		{"call still ringing at the customer", DeskSettings{}, func(e *env) {
			var err error
			e.call, err = e.r.pg.MakePredictiveCall(PredictiveCallRequest{DialedNumber: "15550200", OriginatingDevice: "2301"})
			must(e.t, err)
			e.r.run(0)
			e.r.pg.TrunkAlerting(e.call)
		}, func(e *env) TransferRequest { return singleStep("2301", e.call, "2002") }, CFNoActiveCall},
		{"consultative form", DeskSettings{}, nil, func(e *env) TransferRequest {
			return TransferRequest{Instrument: "2301", HeldCallID: e.id, ActiveCallID: e.id, DialedNumber: "2002"}
		}, CFInvalidDeviceID},
		{"peripheral offline", DeskSettings{}, func(e *env) { e.r.pg.SetOnline(false) },
			func(e *env) TransferRequest { return singleStep("2301", e.id, "2002") }, CFResourceOutOfService},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, tc.desk)
			e := &env{r: r, t: t, id: r.portCall(t, "2301", "15550100")}
			if tc.setup != nil {
				tc.setup(e)
			}
			r.run(time.Second)
			r.events, r.answered, r.lineMoved = nil, 0, nil
			before := fmt.Sprintf("%+v %+v", r.pg.Agents(), r.pg.Lines())
			_, err := r.pg.TransferCall(tc.req(e))
			if code(err) != tc.code {
				t.Fatalf("got %v (code %d), want code %d", err, code(err), tc.code)
			}
			if after := fmt.Sprintf("%+v %+v", r.pg.Agents(), r.pg.Lines()); after != before {
				t.Fatalf("the failed transfer changed the PG:\n%s\n%s", before, after)
			}
			if len(r.events) != 0 || r.answered != 0 || len(r.lineMoved) != 0 {
				t.Fatalf("events %v, answered %d, line transferred %v", r.transcript(), r.answered, r.lineMoved)
			}
			if ci, ok := r.pg.Call(e.id); !ok || ci.Line != "2301" || ci.Phase != "connected" {
				t.Fatalf("the customer left the port: %+v", ci)
			}
		})
	}
}

// TestClearCustomerOnPort: the dialer ends a call sitting on a port (after
// a safe-harbour message) with CLEAR_CALL or CLEAR_CONNECTION by the port's
// device: the customer is dropped (CallEnded), the port is free.
func TestClearCustomerOnPort(t *testing.T) {
	cases := []struct {
		name  string
		line  string
		clear func(p *PG, id uint32) error
		want  func(c string) []string
	}{
		{"CLEAR_CALL", "2301", func(p *PG, id uint32) error { return p.ClearCall(id) }, func(c string) []string {
			return []string{
				"CALL_CONNECTION_CLEARED_EVENT conn=" + c + "@2301 releasing=2301 lcs=0 cause=65535",
				"CALL_CLEARED_EVENT conn=" + c + "@2301 lcs=0 cause=65535",
				"END_CALL_EVENT conn=" + c + "@15550100",
			}
		}},
		{"CLEAR_CONNECTION by the port's extension", "SEP2302", func(p *PG, id uint32) error { return p.ClearConnection(id, "2302") },
			func(c string) []string {
				return []string{
					"CALL_CONNECTION_CLEARED_EVENT conn=" + c + "@SEP2302 releasing=SEP2302 lcs=0 cause=65535",
					"CALL_CLEARED_EVENT conn=" + c + "@SEP2302 lcs=0 cause=65535",
					"END_CALL_EVENT conn=" + c + "@15550100",
				}
			}},
		{"CLEAR_CONNECTION by the port's instrument", "SEP2302", func(p *PG, id uint32) error { return p.ClearConnection(id, "SEP2302") },
			func(c string) []string {
				return []string{
					"CALL_CONNECTION_CLEARED_EVENT conn=" + c + "@SEP2302 releasing=SEP2302 lcs=0 cause=65535",
					"CALL_CLEARED_EVENT conn=" + c + "@SEP2302 lcs=0 cause=65535",
					"END_CALL_EVENT conn=" + c + "@15550100",
				}
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, DeskSettings{})
			id := r.portCall(t, tc.line, "15550100")
			r.run(8 * time.Second)
			r.events = nil
			must(t, tc.clear(r.pg, id))
			golden(t, r.transcript(), tc.want(itoa(id)))
			if len(r.ended) != 1 || r.ended[0] != id {
				t.Fatalf("CallEnded %v: the customer must be dropped", r.ended)
			}
			for _, l := range r.pg.Lines() {
				if l.CallID != 0 {
					t.Fatalf("port still busy %+v", l)
				}
			}
			if r.pg.ActiveCalls() != 0 || r.changed != 0 || len(r.handled) != 0 {
				t.Fatalf("active %d changed %d handled %v", r.pg.ActiveCalls(), r.changed, r.handled)
			}
		})
	}
}
