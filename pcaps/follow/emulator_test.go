package follow

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/ipcclab/ipcclab/internal/lab"
	"github.com/ipcclab/ipcclab/pcaps"
	"github.com/ipcclab/ipcclab/scenarios"
)

// TestEmulatorTrafficHasNoAnomalies: ten minutes of our emulator and
// reference controller (virtual time) under each shipped scenario —
// routed inbound calls, ring-no-answer, wrap-up, predictive dialing,
// preview reservations, blending both ways — are normal traffic, and the
// follower must flag none of it. It also checks that the traffic was
// followed at all (calls and agents found).
func TestEmulatorTrafficHasNoAnomalies(t *testing.T) {
	if testing.Short() {
		t.Skip("simulates four scenarios")
	}
	for _, path := range []string{"../testdata/steps/steps.yaml", "../../scenarios/default.yaml",
		"../../scenarios/blended-frontier.yaml", "../../scenarios/preview.yaml"} {
		t.Run(filepath.Base(path), func(t *testing.T) {
			sc, err := scenarios.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(t.TempDir(), "sim.pcapng")
			if _, err := lab.Simulate(context.Background(), lab.SimOptions{Scenario: sc, Seed: 4, Duration: 10 * time.Minute, Capture: out}); err != nil {
				t.Fatal(err)
			}
			c, err := pcaps.DecodeFile(out, pcaps.Options{})
			if err != nil {
				t.Fatal(err)
			}
			r := Follow(c, Options{})
			if len(r.Calls) == 0 || len(r.Agents) == 0 || len(r.Sessions) != 1 || r.Sessions[0].Heartbeats == 0 {
				t.Fatalf("nothing followed: %d calls, %d agents, %d sessions", len(r.Calls), len(r.Agents), len(r.Sessions))
			}
			for _, a := range r.Anomalies {
				t.Errorf("%s at frame %d: %s", a.Kind, a.Frame, a.Why)
			}
		})
	}
}
