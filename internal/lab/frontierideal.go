package lab

import (
	"errors"
	"fmt"
	"time"

	"github.com/ipcclab/ipcclab/internal/erlang"
	"github.com/ipcclab/ipcclab/scenarios"
)

// IdealFrontierDays judges the policy that defines the frontier by the line
// itself: table D's threshold policy with outbound work the instant more
// than r agents are idle (erlang.SimulateThresholdDay), on days seeded
// 1..days of sc's §5.6 D parameters, each day judged by CheckFrontier's own
// judgement (achievable half hours from the same arrivals with every agent
// on inbound, the frontier at the day's service level and realised load).
//
// It calibrates the line. Table D is a long-run average, the line is judged
// on one day: a day's half hours stray from the average by bursts of
// arrivals, and its day service level and outbound rate stray with them.
// What share of days even the optimal policy holds, at its best r, is the
// most any controller can be asked to hold (BENCHMARKS.md).
func IdealFrontierDays(sc *scenarios.Scenario, reserve int, duration time.Duration, days int, target FrontierTarget) ([]*FrontierCheck, error) {
	if sc == nil {
		return nil, errors.New("lab: ideal frontier days: no scenario")
	}
	if days < 1 || days > 100000 {
		return nil, fmt.Errorf("lab: ideal frontier days: %d days: want 1..100000", days)
	}
	if duration < 30*time.Minute || duration > 24*time.Hour {
		return nil, fmt.Errorf("lab: ideal frontier days: duration %v: want 30 min .. 24 h", duration)
	}
	m, err := newFrontierModel(sc)
	if err != nil {
		return nil, err
	}
	if reserve < 0 || reserve > m.agents {
		return nil, fmt.Errorf("lab: ideal frontier days: reserve %d: want 0..%d agents", reserve, m.agents)
	}
	start := time.Time{}.Add(time.Duration(sc.Start))
	out := make([]*FrontierCheck, 0, days)
	for d := 1; d <= days; d++ {
		day, err := erlang.SimulateThresholdDay(erlang.DayConfig{
			Agents: m.agents, Reserve: reserve, Traffic: m.traffic, Threshold: m.threshold,
			Duration: duration.Seconds(), Interval: (30 * time.Minute).Seconds(), Seed: uint64(d),
		})
		if err != nil {
			return nil, err
		}
		if day.Offered == 0 {
			return nil, fmt.Errorf("lab: ideal frontier days: day %d offered no call", d)
		}
		f := &FrontierCheck{Seed: uint64(d), ServiceLevel: day.ServiceLevel(),
			OutboundPerHour: float64(day.Outbound) / duration.Hours()}
		for i, iv := range day.Intervals {
			hh := FrontierHalfHour{Start: start.Add(time.Duration(i) * 30 * time.Minute).Format("15:04"), ServiceLevel: 1, AllInbound: 1}
			if iv.Offered > 0 {
				hh.ServiceLevel = float64(iv.InTime) / float64(iv.Offered)
				hh.AllInbound = float64(iv.AllInboundInTime) / float64(iv.Offered)
			}
			f.HalfHours = append(f.HalfHours, hh)
		}
		realised := erlang.Traffic{Rate: float64(day.Offered) / duration.Seconds()}
		realised.AHT = day.InboundBusy / float64(day.Offered)
		f.RealisedLoad = realised.Load()
		if err := m.judge(f, realised, target); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}
