package replay

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/ipcclab/ipcclab/protocol/cti"
)

// A script the replay cannot read is refused before anything is sent, with
// an error that names the script and the frame; so are invalid options.
func TestBadScriptsAndOptionsAreRefused(t *testing.T) {
	good := blendScript(t)
	with := func(edit func(s *Script)) Script {
		s := Script{Name: good.Name, Frames: append([]Frame(nil), good.Frames...)}
		edit(&s)
		return s
	}
	tests := []struct {
		name string
		s    Script
		o    Options
		want string
	}{
		{"no frames", Script{Name: "empty"}, Options{}, `replay: script "empty": no frames`},
		{"truncated frame", with(func(s *Script) {
			s.Frames[4] = Frame{Time: s.Frames[4].Time, Data: s.Frames[4].Data[:6]}
		}), Options{}, `replay: script "blend": frame #5 (server, +0.011s): cti: frame of 6 bytes is shorter than the header`},
		{"frame that does not decode", with(func(s *Script) {
			s.Frames[2] = Frame{Time: s.Frames[2].Time, FromClient: true, Data: frameOf(cti.MsgSetAgentStateReq, []byte{0, 0, 0, 2})}
		}), Options{}, `replay: script "blend": frame #3 (client, +0.010s): cti: SET_AGENT_STATE_REQ`},
		{"unknown message type", with(func(s *Script) {
			s.Frames[6] = Frame{Time: s.Frames[6].Time, Data: frameOf(9999, nil)}
		}), Options{}, `frame #7 (server, +0.050s): cti: MessageType(9999): unknown message type`},
		{"session captured from its middle", with(func(s *Script) { s.Frames = s.Frames[2:] }), Options{},
			`replay: script "blend": frame #1: the first client message is SET_AGENT_STATE_REQ, not OPEN_REQ: the capture starts mid-session`},
		{"server messages only", with(func(s *Script) { s.Frames = s.Frames[1:2] }), Options{}, `replay: script "blend": no client message`},
		{"unnamed", Script{}, Options{}, `replay: script "unnamed session": no frames`},
		{"negative speed", good, Options{Speed: -1}, "replay: Options.Speed -1: must be between 0 (original timing) and 1000000"},
		{"negative timeout", good, Options{Timeout: -time.Second}, "replay: Options.Timeout -1s: must not be negative"},
		{"negative gap", good, Options{MaxGap: -time.Second}, "replay: Options.MaxGap -1s"},
		{"negative window", good, Options{Window: -1}, "replay: Options.Window -1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, role := range []func(context.Context, net.Conn, Script, Options) (*Result, error){Serve, Drive} {
				a, b := net.Pipe()
				res, err := role(context.Background(), a, tc.s, tc.o)
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("error %v, want one containing %q", err, tc.want)
				}
				if res != nil {
					t.Errorf("result %+v with an error", res)
				}
				// The connection was closed: the other end sees EOF.
				if _, err := b.Read(make([]byte, 1)); err == nil {
					t.Error("connection left open")
				}
				b.Close()
			}
		})
	}
}

// Polls are the heartbeats and the queries the capture repeats with the
// same fields; a query asked once is matched one for one.
func TestPollsAreRepeatedQueries(t *testing.T) {
	s := newScript(t, "polls").
		client(0, openReq(1)).
		server(1, openConf(1)).
		client(2, &cti.QueryAgentStateReq{InvokeID: 2, PeripheralID: 5000, AgentID: "1201"}).
		server(3, &cti.QueryAgentStateConf{InvokeID: 2, AgentState: cti.AgentStateNotReady}).
		client(500, stats(3)).
		server(501, &cti.QuerySkillGroupStatisticsConf{InvokeID: 3, SkillGroupNumber: 100}).
		client(1000, stats(4)).
		client(1000, &cti.HeartbeatReq{InvokeID: 5}).
		server(1001, &cti.QuerySkillGroupStatisticsConf{InvokeID: 4, SkillGroupNumber: 100}).
		server(1001, &cti.HeartbeatConf{InvokeID: 5}).
		script()
	sc, err := prepare(s, Options{}.withDefaults())
	if err != nil {
		t.Fatal(err)
	}
	var polls []string
	for _, st := range sc.steps {
		if st.poll {
			polls = append(polls, st.where()+" "+st.msg.MessageType().String())
		}
		if st.kind == confirmation && st.answer < 0 {
			t.Errorf("confirmation %s not linked to its request", st.where())
		}
	}
	want := "#5 at +0.500s QUERY_SKILL_GROUP_STATISTICS_REQ,#7 at +1.000s QUERY_SKILL_GROUP_STATISTICS_REQ,#8 at +1.000s HEARTBEAT_REQ"
	if got := strings.Join(polls, ","); got != want {
		t.Errorf("polls %s\nwant  %s", got, want)
	}
	// The nearest captured sample answers, either side of the client's
	// timer.
	k := keyOf(stats(99))
	for _, tc := range []struct {
		at   time.Duration
		want int // #n of the answer
	}{{0, 6}, {700 * time.Millisecond, 6}, {800 * time.Millisecond, 9}, {time.Hour, 9}} {
		if _, conf := sc.nearestPoll(k, tc.at); conf < 0 || sc.steps[conf].n != tc.want {
			t.Errorf("poll at %v answered with step %d, want #%d", tc.at, conf, tc.want)
		}
	}
}
