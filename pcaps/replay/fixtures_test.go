package replay

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/ipcclab/ipcclab/pcaps"
	"github.com/ipcclab/ipcclab/protocol/cti"
	"github.com/ipcclab/ipcclab/scenarios"
)

// fixtureScript decodes a step fixture of pcaps/testdata with the capture
// decoder and returns its CTI session as a script, with the scenario the
// fixture was recorded from (named in its .expect.yaml).
func fixtureScript(t *testing.T, name string) (*scenarios.Scenario, Script) {
	t.Helper()
	dir := filepath.Join("..", "testdata")
	raw, err := os.ReadFile(filepath.Join(dir, name+".expect.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var e struct{ Scenario string }
	if err := yaml.Unmarshal(raw, &e); err != nil {
		t.Fatal(err)
	}
	sc, err := scenarios.Load(filepath.Join(dir, e.Scenario))
	if err != nil {
		t.Fatal(err)
	}
	c, err := pcaps.DecodeFile(filepath.Join(dir, name+".pcapng"), pcaps.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Sessions) != 1 {
		t.Fatalf("%s: %d CTI sessions, want 1", name, len(c.Sessions))
	}
	s := c.Sessions[0]
	out := Script{Name: name, Version: s.Version}
	for _, m := range s.Messages {
		out.Frames = append(out.Frames, Frame{Time: m.Time, FromClient: m.FromClient, Data: m.Raw})
	}
	return sc, out
}

var stepFixtures = []string{"step1-monitor", "step2-lend", "step3-session", "step4-route", "step5-voice", "step6-return"}

// TestStepFixturesReplayAgainstReferenceController is the acceptance line:
// every step fixture, decoded by `pcap decode`'s decoder and replayed as
// the CTI Server with original timing, passes against a freshly started
// reference controller configured from the fixture's scenario.
func TestStepFixturesReplayAgainstReferenceController(t *testing.T) {
	if testing.Short() {
		t.Skip("real-time replays (up to 15 s each)")
	}
	for _, name := range stepFixtures {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sc, s := fixtureScript(t, name)
			res := replayToController(t, sc, s, Options{}, nil)
			if !res.OK() {
				t.Fatal(res.Diff())
			}
			t.Logf("%s: %d matched, %d polls", name, res.Matched, res.Polls)
		})
	}
}

// TestStepFixtureCatchesControllerSkippingSetAgentState: the lending step
// replayed against a controller that skips its first SET_AGENT_STATE_REQ
// (a proxy drops it) fails, and the diff names the missing request.
func TestStepFixtureCatchesControllerSkippingSetAgentState(t *testing.T) {
	if testing.Short() {
		t.Skip("real-time replay")
	}
	t.Parallel()
	sc, s := fixtureScript(t, "step2-lend")
	res := replayToController(t, sc, s, Options{Timeout: 2 * time.Second}, dropFirst(cti.MsgSetAgentStateReq))
	if res.OK() {
		t.Fatal("the replay did not notice the missing SET_AGENT_STATE_REQ")
	}
	if d := res.Divergences[0]; d.Kind != Missing || d.Type != cti.MsgSetAgentStateReq {
		t.Fatalf("first divergence %v, want the missing SET_AGENT_STATE_REQ:\n%s", d, res.Diff())
	}
	if diff := res.Diff(); !strings.Contains(diff, "missing SET_AGENT_STATE_REQ (captured #") {
		t.Errorf("diff does not name the missing request:\n%s", diff)
	}
	t.Log(res.Diff())
}
