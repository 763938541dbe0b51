package lab

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ipcclab/ipcclab/controller/dialer"
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

// PooledFrontier reads the line over many days at once, as a long-run
// figure: the share of all achievable half hours that met the target, and
// the mean outbound rate against table D's frontier at the mean day service
// level and the mean realised load. Table D is itself a long-run average;
// pooled, a day's luck (a burst, a light load) averages out, and what is
// left is the policy's distance from the frontier.
type PooledFrontier struct {
	Days                int     `json:"days"`
	Held                int     `json:"held"`
	AchievableHalfHours int     `json:"achievable_half_hours"`
	MetHalfHours        int     `json:"met_half_hours"`
	ServiceLevel        float64 `json:"service_level"`
	RealisedLoad        float64 `json:"realised_load"`
	OutboundPerHour     float64 `json:"outbound_per_hour"`
	Frontier            float64 `json:"frontier"`
	Share               float64 `json:"share"`
	MaxAbandonRate      float64 `json:"max_abandon_rate"`
}

// HalfHoursMet is the share of achievable half hours that met the target.
func (p PooledFrontier) HalfHoursMet() float64 {
	if p.AchievableHalfHours == 0 {
		return 1
	}
	return float64(p.MetHalfHours) / float64(p.AchievableHalfHours)
}

// PoolFrontier pools checks of sc (CheckFrontier's or IdealFrontierDays').
func PoolFrontier(sc *scenarios.Scenario, checks []*FrontierCheck) (PooledFrontier, error) {
	var p PooledFrontier
	if sc == nil || len(checks) == 0 {
		return p, errors.New("lab: pool frontier: no scenario or no days")
	}
	m, err := newFrontierModel(sc)
	if err != nil {
		return p, err
	}
	for _, f := range checks {
		p.Days++
		if f.Held {
			p.Held++
		}
		for _, h := range f.HalfHours {
			if h.Achievable {
				p.AchievableHalfHours++
				if h.Met {
					p.MetHalfHours++
				}
			}
		}
		p.ServiceLevel += f.ServiceLevel
		p.RealisedLoad += f.RealisedLoad
		p.OutboundPerHour += f.OutboundPerHour
		p.MaxAbandonRate = max(p.MaxAbandonRate, f.AbandonRate)
	}
	n := float64(p.Days)
	p.ServiceLevel /= n
	p.RealisedLoad /= n
	p.OutboundPerHour /= n
	// The scenario's arrival rate with the mean realised handling time:
	// the mean realised load.
	t := m.traffic
	t.AHT = p.RealisedLoad / t.Rate
	if p.Frontier, err = m.outboundAt(p.ServiceLevel, t); err != nil {
		return p, err
	}
	if p.Frontier > 0 {
		p.Share = p.OutboundPerHour / p.Frontier
	}
	return p, nil
}

// String is one line for logs.
func (p PooledFrontier) String() string {
	return fmt.Sprintf("%d days, line held on %d (%.1f %%); achievable half hours met %d of %d (%.2f %%); day service level %.2f %%, load %.2f Erl; outbound %.1f/h = %.1f %% of the frontier %.1f/h; worst day's abandons %.2f %%",
		p.Days, p.Held, 100*float64(p.Held)/float64(p.Days), p.MetHalfHours, p.AchievableHalfHours, 100*p.HalfHoursMet(),
		100*p.ServiceLevel, p.RealisedLoad, p.OutboundPerHour, 100*p.Share, p.Frontier, 100*p.MaxAbandonRate)
}

// FrontierDays runs CheckFrontier on days seeded from .. from+days−1 of sc,
// workers at a time (each day is one single-goroutine simulation pair), and
// returns the checks in seed order. It stops at the first error or when ctx
// ends. With warm, each day's controller resumes its pacing from the day
// before (WarmFrontierDay), as a controller restarted each morning from the
// campaign store does.
func FrontierDays(ctx context.Context, sc *scenarios.Scenario, from uint64, days, workers int, duration time.Duration, target FrontierTarget, warm bool) ([]*FrontierCheck, error) {
	if sc == nil {
		return nil, errors.New("lab: frontier days: no scenario")
	}
	if days < 1 || days > 100000 || from == 0 {
		return nil, fmt.Errorf("lab: frontier days: %d days from seed %d: want 1..100000 days from seed ≥ 1", days, from)
	}
	workers = max(1, min(workers, days))
	out := make([]*FrontierCheck, days)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
	)
	next := make(chan int)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				check := CheckFrontier
				if warm {
					check = WarmFrontierDay
				}
				f, err := check(ctx, sc, from+uint64(i), duration, target)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = fmt.Errorf("seed %d: %w", from+uint64(i), err)
					cancel()
				}
				out[i] = f
				mu.Unlock()
			}
		}()
	}
feed:
	for i := range days {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// yesterdaySeeds moves the day before a warm day off the days' own seeds, so
// that no day's traffic is also another's yesterday.
const yesterdaySeeds = 1 << 40

// WarmFrontierDay is CheckFrontier on day seed with the controller's pacing
// resumed from the day before: the same scenario run for duration on seed
// yesterdaySeeds+seed, its pacing state moved back 24 hours. The day before
// is not judged; the day's own figures (abandons included) are its own, the
// pacing's counts against the abandon limit carry on from yesterday's.
func WarmFrontierDay(ctx context.Context, sc *scenarios.Scenario, seed uint64, duration time.Duration, target FrontierTarget) (*FrontierCheck, error) {
	if sc == nil {
		return nil, errors.New("lab: frontier check: no scenario")
	}
	rep, err := Simulate(ctx, SimOptions{Scenario: sc, Seed: yesterdaySeeds + seed, Duration: duration})
	if err != nil {
		return nil, fmt.Errorf("lab: frontier check: the day before: %w", err)
	}
	if rep.PacingState == nil {
		return nil, fmt.Errorf("lab: frontier check: scenario %s: the pacing strategy keeps no state to resume (controller.pacing: pool, predictive)", sc.Name)
	}
	st := dayBefore(*rep.PacingState)
	return CheckFrontierAfter(ctx, sc, seed, duration, target, &st)
}

// dayBefore moves st's times back a day: a state saved yesterday.
func dayBefore(st dialer.PacingState) dialer.PacingState {
	const day = 24 * time.Hour
	out := st
	out.Settled = make([]dialer.SettledCall, len(st.Settled))
	for i, c := range st.Settled {
		out.Settled[i] = dialer.SettledCall{Placed: c.Placed.Add(-day), At: c.At.Add(-day), Outcome: c.Outcome}
	}
	shift := func(ws []dialer.WindowCount) []dialer.WindowCount {
		out := make([]dialer.WindowCount, len(ws))
		for i, w := range ws {
			out[i] = dialer.WindowCount{Start: w.Start.Add(-day), Counts: w.Counts}
		}
		return out
	}
	out.Rolling, out.UK = shift(st.Rolling), shift(st.UK)
	return out
}
