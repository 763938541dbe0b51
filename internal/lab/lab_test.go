package lab

import (
	"context"
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/ipcclab/ipcclab/scenarios"
)

func defaultScenario(t testing.TB) *scenarios.Scenario {
	t.Helper()
	sc, err := scenarios.Default()
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func simulate(t testing.TB, sc *scenarios.Scenario, seed uint64, hours float64, noBlend bool) *Report {
	t.Helper()
	rep, err := Simulate(context.Background(), SimOptions{Scenario: sc, Seed: seed, Duration: time.Duration(hours * float64(time.Hour)), NoBlend: noBlend})
	if err != nil {
		t.Fatalf("seed %d: %v", seed, err)
	}
	return rep
}

func TestSimulateIsAPureFunctionOfScenarioAndSeed(t *testing.T) {
	sc := defaultScenario(t)
	render := func(r *Report) string {
		r.WallSeconds = 0
		b, _ := json.Marshal(r)
		return string(b)
	}
	a := render(simulate(t, sc, 7, 2, false))
	b := render(simulate(t, sc, 7, 2, false))
	c := render(simulate(t, sc, 8, 2, false))
	if a != b {
		t.Fatalf("seed 7 gave two different reports:\n%s\n%s", a, b)
	}
	if a == c {
		t.Fatal("seeds 7 and 8 gave the same report: the seed is not used")
	}
}

// The documented call flow, in virtual time over the default scenario: the
// controller lends blended agents when inbound falls behind and returns
// them, and that measurably lifts inbound service level over the same day
// without blending, while outbound keeps connecting.
func TestBlendingLiftsServiceLevel(t *testing.T) {
	sc := defaultScenario(t)
	for _, seed := range []uint64{1, 2} {
		on := simulate(t, sc, seed, 8, false)
		off := simulate(t, sc, seed, 8, true)
		t.Logf("seed %d: service level %.3f with blending (%d moves in, %d out), %.3f without; connects %d vs %d",
			seed, on.Inbound.ServiceLevel, on.Blending.MovesToInbound, on.Blending.MovesToOutbound, off.Inbound.ServiceLevel, on.Outbound.Connects, off.Outbound.Connects)
		if on.Blending.MovesToInbound == 0 || on.Blending.MovesToOutbound == 0 {
			t.Errorf("seed %d: blending never moved agents both ways: %+v", seed, on.Blending)
		}
		if off.Blending.MovesToInbound != 0 || off.Blending.Enabled {
			t.Errorf("seed %d: --no-blend still blended: %+v", seed, off.Blending)
		}
		if on.Inbound.ServiceLevel < off.Inbound.ServiceLevel+0.03 {
			t.Errorf("seed %d: blending should lift service level by at least 3 points: %.3f vs %.3f", seed, on.Inbound.ServiceLevel, off.Inbound.ServiceLevel)
		}
		if on.Outbound.Connects == 0 || on.Outbound.Attempts < on.Outbound.Connects {
			t.Errorf("seed %d: outbound %+v", seed, on.Outbound)
		}
		// Blending costs some outbound work, but not most of it.
		if float64(on.Outbound.Connects) < 0.8*float64(off.Outbound.Connects) {
			t.Errorf("seed %d: blending cost more than 20 %% of outbound connects: %d vs %d", seed, on.Outbound.Connects, off.Outbound.Connects)
		}
		if len(on.Mismatches) != 0 {
			t.Errorf("seed %d: default scenario reports mismatches %v", seed, on.Mismatches)
		}
	}
}

// Inbound agents are defined in ICM, outbound agents in the controller,
// blended agents in both: an agent on one side only where the other expects
// it is reported by name, and the controller keeps working for the rest.
func TestIntegrationMismatchesAreNamed(t *testing.T) {
	text := string(scenarios.DefaultYAML())
	text = strings.Replace(text, "  - name: blended\n    role: blended\n    count: 30\n",
		"  - name: blended\n    role: blended\n    count: 28\n", 1)
	text = strings.Replace(text, "  - name: outbound\n    role: outbound\n    count: 24\n",
		"  - name: ghost\n    role: blended\n    count: 2\n    first_agent_id: 1401\n    first_extension: 2401\n    skill_groups: [100]\n    defined_in: [controller]\n"+
			"  - name: routable\n    role: outbound\n    count: 1\n    first_agent_id: 1501\n    first_extension: 2501\n    skill_groups: [100]\n    defined_in: [icm, controller]\n"+
			"  - name: outbound\n    role: outbound\n    count: 24\n", 1)
	sc, err := scenarios.Parse("mismatch.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	rep := simulate(t, sc, 1, 4, false)
	for _, want := range []string{"agent 1401 is configured as blended", "agent 1402 is configured as blended", "agent 1501 is configured outbound-only"} {
		found := false
		for _, m := range rep.Mismatches {
			if strings.Contains(m, want) {
				found = true
			}
		}
		if !found {
			t.Errorf("no mismatch %q in %q", want, rep.Mismatches)
		}
	}
	if len(rep.Mismatches) != 3 {
		t.Errorf("want exactly 3 mismatches, got %q", rep.Mismatches)
	}
	if rep.Blending.MovesToInbound == 0 || rep.Outbound.Connects == 0 {
		t.Errorf("the controller stopped working for the correctly defined agents: %+v %+v", rep.Blending, rep.Outbound)
	}
}

// BenchmarkSimulateDefaultDay measures the performance target: the
// default scenario's 8 simulated hours in under 10 s of wall time.
func BenchmarkSimulateDefaultDay(b *testing.B) {
	sc := defaultScenario(b)
	var rep *Report
	for b.Loop() {
		rep = simulate(b, sc, 1, 8, false)
	}
	b.ReportMetric(float64(rep.EventsProcessed), "events/op")
	b.ReportMetric(float64(rep.CTIMessages), "cti-msgs/op")
}

// §5.10 on real sockets: side B is standby until side A fails; the controller
// then reconnects to B and keeps serving, and B's state agrees with the PG.
func TestFailoverToSideB(t *testing.T) {
	sc := defaultScenario(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	r, err := Start(ctx, UpOptions{Scenario: sc, Seed: 1, CTIAddr: "127.0.0.1:0", CTIAddrB: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Stop()
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("%s within 20 s", what)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitFor("controller connected to side A", func() bool { return r.Controller().Status().Connected })
	if err := r.FailSideA(); err != nil {
		t.Fatal(err)
	}
	waitFor("controller reconnected to side B", func() bool {
		st := r.Controller().Status()
		return st.Connected
	})
	// The controller is on side B now: side A no longer accepts.
	if c, err := net.DialTimeout("tcp", r.CTIAddr(), time.Second); err == nil {
		c.Close()
		t.Fatal("side A still accepts connections after failing")
	}
	before := r.Controller().Status().Report.Attempts
	waitFor("outbound dialing resumed through side B", func() bool { return r.Controller().Status().Report.Attempts > before })
}
