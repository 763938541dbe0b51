package replay

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ipcclab/ipcclab/protocol/cti"
)

// blendScript is a small server-role script: the session opens, the client
// lends two agents in one decision, polls skill-group statistics twice
// (100 ms apart, so each poll has its own captured answer) and the server
// reports the agents available.
func blendScript(t testing.TB) Script {
	return newScript(t, "blend").
		client(0, openReq(1)).
		server(1, openConf(1)).
		client(10, setState(2, "1201", cti.AgentStateAvailable)).
		client(10, setState(3, "1202", cti.AgentStateAvailable)).
		server(11, &cti.SetAgentStateConf{InvokeID: 2}).
		server(11, &cti.SetAgentStateConf{InvokeID: 3}).
		server(50, agentEvent("1201", cti.AgentStateAvailable)).
		client(100, stats(4)).
		server(101, &cti.QuerySkillGroupStatisticsConf{InvokeID: 4, PeripheralID: 5000, SkillGroupNumber: 100, RouterCallsQNow: 1}).
		client(200, stats(5)).
		server(201, &cti.QuerySkillGroupStatisticsConf{InvokeID: 5, PeripheralID: 5000, SkillGroupNumber: 100, RouterCallsQNow: 7}).
		server(250, agentEvent("1202", cti.AgentStateAvailable)).
		script()
}

func fast() Options { return Options{Timeout: 300 * time.Millisecond} }

// A client that does what the capture did, with its own InvokeIDs, its two
// lends in the other order, a heartbeat the capture does not have and one
// poll instead of two, replays as captured; every confirmation carries the
// client's InvokeID and the poll is answered from the nearest captured poll.
func TestServeFaithfulClientMatches(t *testing.T) {
	res := serveTo(t, blendScript(t), fast(), func(p *peer) {
		p.send(openReq(100))
		if m, _ := p.expect(cti.MsgOpenConf).(*cti.OpenConf); m == nil || m.InvokeID != 100 {
			t.Errorf("OPEN_CONF %+v: want InvokeID 100", m)
		}
		p.send(setState(101, "1202", cti.AgentStateAvailable))
		p.send(setState(102, "1201", cti.AgentStateAvailable))
		// Captured order: 1201's confirmation, then 1202's.
		for _, want := range []uint32{102, 101} {
			if m, _ := p.expect(cti.MsgSetAgentStateConf).(*cti.SetAgentStateConf); m == nil || m.InvokeID != want {
				t.Errorf("SET_AGENT_STATE_CONF %+v: want InvokeID %d", m, want)
			}
		}
		p.send(&cti.HeartbeatReq{InvokeID: 103})
		if m, _ := p.expect(cti.MsgHeartbeatConf).(*cti.HeartbeatConf); m == nil || m.InvokeID != 103 {
			t.Errorf("HEARTBEAT_CONF %+v: want InvokeID 103", m)
		}
		p.expect(cti.MsgAgentStateEvent)
		// About 50 ms into the script: the poll captured at 100 ms is the
		// nearest.
		p.send(stats(104))
		if m, _ := p.expect(cti.MsgQuerySkillGroupStatisticsConf).(*cti.QuerySkillGroupStatisticsConf); m == nil || m.InvokeID != 104 || m.RouterCallsQNow != 1 {
			t.Errorf("QUERY_SKILL_GROUP_STATISTICS_CONF %+v: want InvokeID 104 and the first captured sample (RouterCallsQNow 1)", m)
		}
		p.drain()
	})
	if !res.OK() {
		t.Fatal(res.Diff())
	}
	if res.Matched != 3 || res.Polls != 2 {
		t.Errorf("matched %d (want 3: OPEN_REQ and two lends), polls %d (want 2: the heartbeat and the statistics query)\n%s", res.Matched, res.Polls, res.Diff())
	}
	if !strings.Contains(res.Diff(), "as captured") {
		t.Errorf("diff of a faithful replay:\n%s", res.Diff())
	}
}

// One test per way a client can depart from the capture: each divergence
// names the message type, the captured message's position and fields, and
// what the client did instead.
func TestServeReportsDivergences(t *testing.T) {
	tests := []struct {
		name   string
		client func(p *peer)
		kinds  []Kind
		want   []string
	}{{
		name: "field differs",
		client: func(p *peer) {
			p.send(openReq(1))
			p.send(setState(2, "1201", cti.AgentStateNotReady))
			p.send(setState(3, "1202", cti.AgentStateAvailable))
			p.drain()
		},
		kinds: []Kind{Mismatch},
		want:  []string{"SET_AGENT_STATE_REQ differs from the captured one (#3 at +0.010s): AgentState=AGENT_STATE_NOT_READY (captured AGENT_STATE_AVAILABLE)"},
	}, {
		name: "request missing",
		client: func(p *peer) {
			p.send(openReq(1))
			p.send(setState(3, "1202", cti.AgentStateAvailable))
			p.drain()
		},
		kinds: []Kind{Missing},
		want: []string{`missing SET_AGENT_STATE_REQ (captured #3 at +0.010s: PeripheralID=5000 AgentState=AGENT_STATE_AVAILABLE`,
			`AgentInstrument="2201" AgentID="1201") — client sent nothing within 300ms`},
	}, {
		name: "another request instead",
		client: func(p *peer) {
			p.send(openReq(1))
			p.expect(cti.MsgOpenConf)
			p.send(&cti.ClearCallReq{InvokeID: 9, PeripheralID: 5000, ConnectionCallID: 77, ConnectionDeviceID: "2201"})
			if m, _ := p.expect(cti.MsgFailureConf).(*cti.FailureConf); m == nil || m.InvokeID != 9 {
				t.Errorf("unexpected request answered %+v: want FAILURE_CONF with InvokeID 9", m)
			}
			p.send(setState(3, "1202", cti.AgentStateAvailable))
			p.drain()
		},
		kinds: []Kind{Unexpected, Missing},
		want: []string{"unexpected CLEAR_CALL_REQ PeripheralID=5000 ConnectionCallID=77", "the capture has no CLEAR_CALL_REQ at all",
			`missing SET_AGENT_STATE_REQ (captured #3`, `— client sent CLEAR_CALL_REQ PeripheralID=5000 ConnectionCallID=77`},
	}, {
		name: "client disconnects",
		client: func(p *peer) {
			p.send(openReq(1))
			p.expect(cti.MsgOpenConf)
		},
		kinds: []Kind{Disconnected},
		want:  []string{`client closed the connection with 2 captured requests still to come, the next: SET_AGENT_STATE_REQ (captured #3 at +0.010s: PeripheralID=5000`},
	}, {
		name: "client never opens",
		client: func(p *peer) {
			p.drain()
		},
		kinds: []Kind{Missing},
		want:  []string{"missing OPEN_REQ (captured #1 at +0.000s: ", `ClientID="replay-test"`, "the client did not open the session within 300ms"},
	}, {
		name: "undecodable request",
		client: func(p *peer) {
			p.send(openReq(1))
			// A SET_AGENT_STATE_REQ whose fixed part is cut short.
			p.sendRaw(frameOf(cti.MsgSetAgentStateReq, []byte{0, 0, 0, 2, 0, 0}))
			p.send(setState(2, "1201", cti.AgentStateAvailable))
			p.send(setState(3, "1202", cti.AgentStateAvailable))
			p.drain()
		},
		kinds: []Kind{Undecodable},
		want:  []string{"client sent a message the codec rejects: cti: SET_AGENT_STATE_REQ"},
	}, {
		name: "request of a type the capture has elsewhere",
		client: func(p *peer) {
			p.send(openReq(1))
			p.send(setState(2, "1201", cti.AgentStateAvailable))
			p.send(setState(3, "1202", cti.AgentStateAvailable))
			p.send(setState(4, "1203", cti.AgentStateAvailable))
			p.drain()
		},
		kinds: []Kind{Unexpected},
		want:  []string{`unexpected SET_AGENT_STATE_REQ PeripheralID=5000 AgentState=AGENT_STATE_AVAILABLE`, `AgentID="1203": no captured request matches here (nearest SET_AGENT_STATE_REQ is #3 at +0.010s, already matched`},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := serveTo(t, blendScript(t), fast(), tc.client)
			if res.OK() {
				t.Fatal("replay found no divergence")
			}
			var kinds []Kind
			for _, d := range res.Divergences {
				kinds = append(kinds, d.Kind)
			}
			if len(kinds) != len(tc.kinds) {
				t.Fatalf("divergences %v, want %v:\n%s", kinds, tc.kinds, res.Diff())
			}
			for i := range kinds {
				if kinds[i] != tc.kinds[i] {
					t.Fatalf("divergences %v, want %v:\n%s", kinds, tc.kinds, res.Diff())
				}
			}
			diff := res.Diff()
			for _, w := range tc.want {
				if !strings.Contains(diff, w) {
					t.Errorf("diff lacks %q:\n%s", w, diff)
				}
			}
		})
	}
}

// A request the client sends long before its captured time matches, and is
// reported early; its confirmation still waits for its place in the script.
func TestServeReportsEarlyRequest(t *testing.T) {
	s := newScript(t, "early").
		client(0, openReq(1)).
		server(1, openConf(1)).
		server(500, agentEvent("1201", cti.AgentStateNotReady)).
		client(1000, setState(2, "1201", cti.AgentStateAvailable)).
		server(1001, &cti.SetAgentStateConf{InvokeID: 2}).
		script()
	res := serveTo(t, s, Options{Timeout: 200 * time.Millisecond}, func(p *peer) {
		p.send(openReq(1))
		p.expect(cti.MsgOpenConf)
		p.send(setState(7, "1201", cti.AgentStateAvailable))
		// The event captured before the confirmation comes first.
		p.expect(cti.MsgAgentStateEvent)
		if m, _ := p.expect(cti.MsgSetAgentStateConf).(*cti.SetAgentStateConf); m == nil || m.InvokeID != 7 {
			t.Errorf("SET_AGENT_STATE_CONF %+v: want InvokeID 7", m)
		}
		p.drain()
	})
	if len(res.Divergences) != 1 || res.Divergences[0].Kind != Early || res.Divergences[0].Captured != 4 {
		t.Fatalf("want one early divergence for #4:\n%s", res.Diff())
	}
	if !strings.Contains(res.Diff(), "SET_AGENT_STATE_REQ came ") || !strings.Contains(res.Diff(), `early (captured #4 at +1.000s: PeripheralID=5000`) {
		t.Errorf("diff:\n%s", res.Diff())
	}
}

// MaxGap caps the script's idle gaps (a minute here) and Speed scales what
// is left: the replay's own clock says how long the script took.
func TestServeCompressesIdleGaps(t *testing.T) {
	s := newScript(t, "gap").
		client(0, openReq(1)).
		server(1, openConf(1)).
		server(60_000, agentEvent("1201", cti.AgentStateAvailable)).
		server(120_000, agentEvent("1201", cti.AgentStateNotReady)).
		script()
	o := fast()
	o.MaxGap = 100 * time.Millisecond
	o.Speed = 2
	res := serveTo(t, s, o, func(p *peer) {
		p.send(openReq(1))
		p.expect(cti.MsgOpenConf)
		for range 2 {
			p.expect(cti.MsgAgentStateEvent)
		}
		p.drain()
	})
	if !res.OK() {
		t.Fatal(res.Diff())
	}
	// 1 ms + 100 ms + 100 ms of script, at twice the speed.
	if want := 100500 * time.Microsecond; res.Elapsed < want || res.Elapsed > 10*want {
		t.Errorf("replay time %v, want about %v", res.Elapsed, want)
	}
}

// Serve never outlives its context, even with a client that says nothing.
func TestServeEndsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	o := Options{Timeout: time.Minute}
	_, err := serveToErr(t, ctx, blendScript(t), o, func(p *peer) {
		p.send(openReq(1))
		p.expect(cti.MsgOpenConf)
		cancel()
		p.drain()
	})
	if err != context.Canceled {
		t.Fatalf("Serve after cancel: %v, want context.Canceled", err)
	}
}

// MaxDivergences stops a replay whose client has gone its own way.
func TestServeStopsAfterMaxDivergences(t *testing.T) {
	o := fast()
	o.MaxDivergences = 2
	res := serveTo(t, blendScript(t), o, func(p *peer) {
		p.send(openReq(1))
		// The replay hangs up after the second divergence: later sends
		// may find the connection closed.
		for i := range 5 {
			if !p.trySend(setState(uint32(10+i), "1999", cti.AgentStateLogout)) {
				break
			}
		}
		p.drain()
	})
	if len(res.Divergences) != 2 || !strings.Contains(res.Diff(), "note: replay stopped after 2 divergences") {
		t.Fatalf("want 2 divergences and a note:\n%s", res.Diff())
	}
}
