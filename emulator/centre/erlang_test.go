package centre

import (
	"math"
	"testing"
	"time"

	"github.com/ipcclab/ipcclab/emulator/agents"
	"github.com/ipcclab/ipcclab/emulator/icm"
	"github.com/ipcclab/ipcclab/emulator/pstn"
	"github.com/ipcclab/ipcclab/internal/sim"
)

var day = time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)

// erlangCConfig is M/M/13 with λ = 200/h and 180 s exponential handle time:
// no wrap-up, zero answer delay, zero transfer delay, infinite patience, no
// RONA — the assumptions of Erlang C (dialer-anchors.md §5.6 table A).
func erlangCConfig() Config {
	return Config{
		SkillGroups: []icm.SkillGroupConfig{{Number: 100, ID: 5100, Name: "Sales", ServiceLevelThreshold: 20 * time.Second, ServiceLevelType: icm.SLAbandonsNegative}},
		CallTypes: []CallType{{ID: 1, Name: "Sales", DialedNumber: "8005550100", ServiceLevelThreshold: 20 * time.Second,
			ServiceLevelType: icm.SLAbandonsNegative, Targets: []icm.Target{{SkillGroup: 100, Priority: 5}},
			Arrivals: pstn.Profile{PerHour: []float64{200}}}},
		Agents: []AgentGroup{{Name: "sales", Role: agents.RoleInbound, Count: 13, FirstAgentID: 1001, FirstExtension: 2001,
			SkillGroups: []uint32{100}, Talk: pstn.Dist{Shape: pstn.Exponential, Mean: 180 * time.Second}}},
	}
}

// TestErlangC checks the whole inbound path (arrivals, LAA, queue, delivery,
// answer, talk, SL counters) against the closed-form Erlang C values for
// 13 agents: SL@20s = 79.56 %, ASA = 17.12 s. A 200-hour virtual run after a
// 5-hour warm-up is cut into 20 batches; the batch means give a 95 %
// confidence interval (Student t, 19 degrees of freedom) that must contain
// both values.
func TestErlangC(t *testing.T) {
	const seed = 20261124
	const (
		wantSL  = 0.7956
		wantASA = 17.12
		warm    = 5 * time.Hour
		batch   = 10 * time.Hour
		batches = 20
		t19     = 2.093
	)
	loop := sim.NewLoop(day.Add(8 * time.Hour))
	c, err := New(erlangCConfig(), loop, seed)
	if err != nil {
		t.Fatal(err)
	}
	c.Start()
	at := loop.Now().Add(warm)
	loop.RunVirtual(at)
	prev, _ := c.Router().CallTypeCounters(1, icm.Run)
	var sls, asas []float64
	for range batches {
		at = at.Add(batch)
		loop.RunVirtual(at)
		cur, _ := c.Router().CallTypeCounters(1, icm.Run)
		d := cur.Sub(prev)
		prev = cur
		sls = append(sls, d.ServiceLevel(icm.SLAbandonsNegative))
		asas = append(asas, d.ASA().Seconds())
	}
	ci := func(xs []float64) (mean, half float64) {
		for _, x := range xs {
			mean += x
		}
		mean /= float64(len(xs))
		var ss float64
		for _, x := range xs {
			ss += (x - mean) * (x - mean)
		}
		sd := math.Sqrt(ss / float64(len(xs)-1))
		return mean, t19 * sd / math.Sqrt(float64(len(xs)))
	}
	slMean, slHalf := ci(sls)
	asaMean, asaHalf := ci(asas)
	rep := c.Report()
	t.Logf("seed %d: SL20 %.2f %% ± %.2f (Erlang C 79.56 %%), ASA %.2f s ± %.2f (Erlang C 17.12 s), occupancy %.1f %% (76.9 %%), %d calls, %d PG events, %d loop events",
		seed, 100*slMean, 100*slHalf, asaMean, asaHalf, 100*rep.Agents.Occupancy, rep.Inbound.Offered, rep.EventsProcessed, loop.Processed())
	if math.Abs(slMean-wantSL) > slHalf {
		t.Errorf("seed %d: SL20 95%% CI [%.4f, %.4f] does not contain %.4f", seed, slMean-slHalf, slMean+slHalf, wantSL)
	}
	if math.Abs(asaMean-wantASA) > asaHalf {
		t.Errorf("seed %d: ASA 95%% CI [%.2f, %.2f] does not contain %.2f", seed, asaMean-asaHalf, asaMean+asaHalf, wantASA)
	}
	if rep.Inbound.Abandoned != 0 {
		t.Errorf("seed %d: %d abandons with infinite patience", seed, rep.Inbound.Abandoned)
	}
}
