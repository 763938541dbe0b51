package replay

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ipcclab/ipcclab/internal/lab"
	"github.com/ipcclab/ipcclab/protocol/cti"
	"github.com/ipcclab/ipcclab/scenarios"
)

// The end-to-end tests record a real CTI session between the emulator and
// the reference controller (testdata/blend-surge.yaml: a short inbound
// surge over two blended agents, about 12 s) and replay it against fresh
// peers: the controller in the server role, the emulator in the client
// role, and test doubles of each that misbehave once.

const (
	blendSeed     = 11
	blendDuration = 13 * time.Second
)

// liveBlend is the session recorded once per test binary run and shared by
// the tests that replay it.
var liveBlend struct {
	once sync.Once
	s    Script
}

func blendSession(t *testing.T) (*scenarios.Scenario, Script) {
	t.Helper()
	sc := loadScenario(t, "blend-surge.yaml")
	liveBlend.once.Do(func() { liveBlend.s = recordLive(t, sc, blendSeed, blendDuration) })
	if len(liveBlend.s.Frames) == 0 {
		t.Fatal("the live session could not be recorded (see the first test that tried)")
	}
	return sc, liveBlend.s
}

// The recording is a whole session of the controller with the blending
// cycle in it: OPEN_REQ first, each blended agent lent to ICM and given
// back.
func TestRecordedSessionHoldsTheBlendingCycle(t *testing.T) {
	_, s := blendSession(t)
	sc, err := prepare(s, Options{}.withDefaults())
	if err != nil {
		t.Fatal(err)
	}
	if sc.pv != 24 {
		t.Errorf("protocol version %d, want the controller's 24 from its OPEN_REQ", sc.pv)
	}
	moves := map[string]bool{}
	for _, st := range sc.steps {
		if m, ok := st.msg.(*cti.SetAgentStateReq); ok {
			moves[m.AgentID+" "+m.AgentState.String()] = true
		}
	}
	for _, want := range []string{"1201 AGENT_STATE_AVAILABLE", "1202 AGENT_STATE_AVAILABLE", "1201 AGENT_STATE_NOT_READY", "1202 AGENT_STATE_NOT_READY"} {
		if !moves[want] {
			t.Errorf("no SET_AGENT_STATE_REQ %s in the recording (have %v)", want, moves)
		}
	}
}

// Server role, the acceptance line: the recorded session replayed against a
// freshly started reference controller passes. A session recorded from the
// virtual-time simulation of the same scenario passes too, with the
// controller in real time.
func TestServeReplaysToReferenceController(t *testing.T) {
	sc, live := blendSession(t)
	for _, tc := range []struct {
		name string
		s    func() Script
	}{
		{"live recording", func() Script { return live }},
		{"simulated recording", func() Script { return recordSim(t, sc, blendSeed, blendDuration) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := replayToController(t, sc, tc.s(), Options{}, nil)
			if !res.OK() {
				t.Fatal(res.Diff())
			}
			// OPEN_REQ, a QUERY_AGENT_STATE_REQ per blended agent, two
			// lends and two returns.
			if res.Matched != 7 {
				t.Errorf("%d requests matched one for one, want 7:\n%s", res.Matched, res.Diff())
			}
		})
	}
}

// Server role, the acceptance line: a controller that skips a
// SET_AGENT_STATE_REQ (a proxy drops its first one) fails the replay, and
// the diff names the missing request with its captured fields.
func TestServeCatchesControllerSkippingSetAgentState(t *testing.T) {
	t.Parallel()
	sc, s := blendSession(t)
	res := replayToController(t, sc, s, Options{Timeout: 2 * time.Second}, dropFirst(cti.MsgSetAgentStateReq))
	if res.OK() {
		t.Fatal("the replay did not notice the missing SET_AGENT_STATE_REQ")
	}
	d := res.Divergences[0]
	if d.Kind != Missing || d.Type != cti.MsgSetAgentStateReq {
		t.Fatalf("first divergence %v, want the missing SET_AGENT_STATE_REQ:\n%s", d, res.Diff())
	}
	diff := res.Diff()
	for _, want := range []string{"missing SET_AGENT_STATE_REQ (captured #", "AgentState=AGENT_STATE_AVAILABLE", `AgentID="120`, "client sent nothing within 2s"} {
		if !strings.Contains(diff, want) {
			t.Errorf("diff lacks %q:\n%s", want, diff)
		}
	}
	t.Log(diff)
}

// driveEmulator replays the session's client side against a fresh emulator
// of the same scenario and seed (no controller), through intercept when
// set.
func driveEmulator(t *testing.T, sc *scenarios.Scenario, s Script, o Options, intercept func([]byte) (bool, []byte)) *Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r, err := lab.Start(ctx, lab.UpOptions{Scenario: sc, Seed: blendSeed, CTIAddr: "127.0.0.1:0", NoController: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Stop()
	addr := r.CTIAddr()
	if intercept != nil {
		p := newRecorder(t, addr)
		p.intercept = intercept
		addr = p.addr()
	}
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Drive(ctx, conn, s, o)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// Client role: the controller's side of the session replayed against a
// fresh emulator of the same scenario and seed reproduces every answer and,
// the centre being deterministic, every event one for one.
func TestDriveReplaysToEmulator(t *testing.T) {
	t.Parallel()
	sc, s := blendSession(t)
	res := driveEmulator(t, sc, s, Options{StrictEvents: true}, nil)
	if !res.OK() {
		t.Fatal(res.Diff())
	}
	if res.Matched != 7 {
		t.Errorf("%d answers matched one for one, want 7:\n%s", res.Matched, res.Diff())
	}
}

// Client role: a CTI Server that refuses one SET_AGENT_STATE_REQ (a proxy
// answers it with FAILURE_CONF) fails the replay, naming the request and
// the refusal.
func TestDriveCatchesRefusedRequest(t *testing.T) {
	t.Parallel()
	sc, s := blendSession(t)
	res := driveEmulator(t, sc, s, Options{Timeout: 2 * time.Second}, refuseFirst(t, cti.MsgSetAgentStateReq, 24))
	if res.OK() {
		t.Fatal("the replay did not notice the refusal")
	}
	d := res.Divergences[0]
	if d.Kind != WrongAnswer || d.Type != cti.MsgSetAgentStateConf {
		t.Fatalf("first divergence %v, want the SET_AGENT_STATE_REQ answered with FAILURE_CONF:\n%s", d, res.Diff())
	}
	diff := res.Diff()
	for _, want := range []string{"SET_AGENT_STATE_REQ (captured #", "AgentState=AGENT_STATE_AVAILABLE",
		"answered FAILURE_CONF Status=E_CTI_INVALID_OBJECT_STATE instead of SET_AGENT_STATE_CONF (captured #"} {
		if !strings.Contains(diff, want) {
			t.Errorf("diff lacks %q:\n%s", want, diff)
		}
	}
	t.Log(diff)
}

// Compressed timing: where the controller's behaviour follows the
// messages it receives (progressive dialing from one phone: each call
// placed after the last one ended), a replay four and ten times faster
// than the capture passes, and takes a quarter and a tenth of the captured
// span in replay time.
func TestServeCompressedTiming(t *testing.T) {
	t.Parallel()
	sc := loadScenario(t, "progressive.yaml")
	s := recordSim(t, sc, 5, 12*time.Second)
	span := s.Frames[len(s.Frames)-1].Time.Sub(s.Frames[0].Time)
	for _, speed := range []float64{4, 10} {
		res := replayToController(t, sc, s, Options{Speed: speed}, nil)
		if !res.OK() {
			t.Fatalf("speed %v:\n%s", speed, res.Diff())
		}
		if res.Matched < 5 {
			t.Errorf("speed %v: %d requests matched, want at least OPEN_REQ, the agent query and three calls:\n%s", speed, res.Matched, res.Diff())
		}
		// Replay time leaves out the waits for the controller's own
		// timers, so it is the captured span scaled.
		if want := time.Duration(float64(span) / speed); res.Elapsed < want-50*time.Millisecond || res.Elapsed > want+time.Second {
			t.Errorf("speed %v: replay time %v, want about %v", speed, res.Elapsed, want)
		}
	}
}
