package lab

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/ipcclab/ipcclab/controller/reporting"
	"github.com/ipcclab/ipcclab/controller/web"
	"github.com/ipcclab/ipcclab/emulator/centre"
	"github.com/ipcclab/ipcclab/internal/sim"
	"github.com/ipcclab/ipcclab/scenarios"
)

// newLiveIntervals collects a real-time run's half-hour intervals with the
// collector Simulate uses, so that the dashboard's "today" rows and
// `ipcclab report` over a simulated day are cut the same way: at xx:00 and
// xx:30 peripheral time, as differences of cumulative counters. It must be
// called before the loop runs (it reads the centre and arms its first
// boundary).
func newLiveIntervals(sc *scenarios.Scenario, loop *sim.Loop, cen *centre.Centre) *intervalCollector {
	return newIntervalCollector(&reporting.Intervals{}, sc, loop, cen)
}

// today returns the completed intervals that started today (peripheral
// time) and the current partial one up to now, as a copy the caller may
// keep. Intervals of earlier days are dropped from the collector here, so
// a centre up for weeks keeps one day. It runs on the loop.
func (c *intervalCollector) today(now time.Time) *reporting.Intervals {
	lt := now.In(c.loc)
	midnight := time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, c.loc)
	c.out.CallTypes = dropBefore(c.out.CallTypes, midnight, func(r reporting.CallTypeInterval) time.Time { return r.Start })
	c.out.SkillGroups = dropBefore(c.out.SkillGroups, midnight, func(r reporting.SkillGroupInterval) time.Time { return r.Start })
	c.out.Agents = dropBefore(c.out.Agents, midnight, func(r reporting.AgentInterval) time.Time { return r.Start })
	c.out.Campaigns = dropBefore(c.out.Campaigns, midnight, func(r reporting.CampaignInterval) time.Time { return r.Start })

	// The interval in progress is appended to a copy; the collector goes
	// on to record the whole half-hour at the next boundary.
	iv := &reporting.Intervals{CallTypes: slices.Clone(c.out.CallTypes), SkillGroups: slices.Clone(c.out.SkillGroups),
		Agents: slices.Clone(c.out.Agents), Campaigns: slices.Clone(c.out.Campaigns)}
	if now.After(c.from) {
		c.appendRows(iv, c.snapshot(now), now)
	}

	// As at the end of a simulated run: no dialing, no campaign rows.
	if !c.dials && c.cen.Outbound().Attempts == 0 {
		iv.Campaigns = nil
	}
	// Spans in peripheral time, so that the dashboard shows the
	// centre's clock times.
	for i := range iv.CallTypes {
		iv.CallTypes[i].Span = c.local(iv.CallTypes[i].Span)
	}
	for i := range iv.SkillGroups {
		iv.SkillGroups[i].Span = c.local(iv.SkillGroups[i].Span)
	}
	for i := range iv.Agents {
		iv.Agents[i].Span = c.local(iv.Agents[i].Span)
	}
	for i := range iv.Campaigns {
		iv.Campaigns[i].Span = c.local(iv.Campaigns[i].Span)
	}
	return iv
}

func (c *intervalCollector) local(sp reporting.Span) reporting.Span {
	return reporting.Span{Start: sp.Start.In(c.loc), End: sp.End.In(c.loc)}
}

// dropBefore removes the records that started before t; records are in
// time order within a kind, so they are a prefix.
func dropBefore[T any](recs []T, t time.Time, start func(T) time.Time) []T {
	i := 0
	for i < len(recs) && start(recs[i]).Before(t) {
		i++
	}
	if i == 0 {
		return recs
	}
	return slices.Delete(recs, 0, i)
}

// TodayIntervals implements web.IntervalSource: today's half-hour
// intervals so far, the current one partial, read on the centre's loop.
func (r *Running) TodayIntervals(ctx context.Context) (*reporting.Intervals, error) {
	if r.intervals == nil {
		return &reporting.Intervals{}, nil
	}
	ch := make(chan *reporting.Intervals, 1)
	r.loop.Post(func(now time.Time) { ch <- r.intervals.today(now) })
	select {
	case iv := <-ch:
		return iv, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("lab: the centre did not answer: %w", ctx.Err())
	}
}

var _ web.IntervalSource = (*Running)(nil)
