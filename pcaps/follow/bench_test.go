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

// BenchmarkFollow follows an hour of the steps scenario's CTI traffic
// (the controller's session with the emulated CTI Server: calls, agent
// states, requests) and reports decoded CTI messages followed per second.
func BenchmarkFollow(b *testing.B) {
	sc, err := scenarios.Load("../testdata/steps/steps.yaml")
	if err != nil {
		b.Fatal(err)
	}
	out := filepath.Join(b.TempDir(), "sim.pcapng")
	if _, err := lab.Simulate(context.Background(), lab.SimOptions{Scenario: sc, Seed: 4, Duration: time.Hour, Capture: out}); err != nil {
		b.Fatal(err)
	}
	c, err := pcaps.DecodeFile(out, pcaps.Options{})
	if err != nil {
		b.Fatal(err)
	}
	msgs := 0
	for _, s := range c.Sessions {
		msgs += len(s.Messages)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		Follow(c, Options{})
	}
	b.ReportMetric(float64(msgs)*float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}
