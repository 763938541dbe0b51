package lab

import (
	"strconv"
	"time"

	"github.com/ipcclab/ipcclab/controller/reporting"
	"github.com/ipcclab/ipcclab/emulator/centre"
	"github.com/ipcclab/ipcclab/emulator/icm"
	"github.com/ipcclab/ipcclab/emulator/pg"
	"github.com/ipcclab/ipcclab/internal/sim"
	"github.com/ipcclab/ipcclab/scenarios"
)

// intervalCollector cuts a simulated run into ICM's half-hour intervals.
// At each boundary (peripheral time, xx:00 and xx:30) and at the end of
// the run it reads the cumulative figures — the router's whole-run
// counters per call type and skill group, the PG's time in state per
// agent, the centre's outbound counters — and records the difference from
// the previous cut. Differences of cumulative figures add up to the
// whole-run figures exactly, which is what `ipcclab report`'s TOTAL rows
// promise; reading the router's ToHalf windows instead would lose the
// partial first and last intervals and depend on the order of events at
// the boundary.
type intervalCollector struct {
	out      *reporting.Intervals
	loop     *sim.Loop
	cen      *centre.Centre
	loc      *time.Location
	campaign string
	dials    bool // the scenario can dial (outbound.enabled)
	// firstCampaign is where this run's campaign rows start in out.
	firstCampaign int
	from          time.Time
	prev          intervalSnapshot
	// calls counts calls connected to each ICM agent: AGENT_STATE_EVENTs
	// into TALKING from anything but TALKING or HOLD (a retrieve is not a
	// new call).
	calls map[string]int64
	state map[string]pg.AgentState
	// ticks are the loop events the collector ran, left out of the run's
	// events_processed so that --store does not change the report.
	ticks uint64
	// onCut, when set, sees the rows of each interval recorded (`up
	// --store` writes them); it must not keep the slices.
	onCut func(*reporting.Intervals)
}

type intervalSnapshot struct {
	callTypes   map[uint32]icm.Counters
	skillGroups map[uint32]icm.Counters
	sgTimes     map[uint32]pg.StateTimes
	sgLoggedOn  map[uint32]int
	anyGroup    int // distinct agents logged on in any skill group
	agents      map[string]pg.StateTimes
	lines       map[string]pg.LineStatus
	calls       map[string]int64
	out         centre.OutboundCounters
	machines    int
	// linesOn is how long the outbound-only agents' lines have been on:
	// since the centre started (they are at their phones throughout, as
	// the run's line occupancy counts them).
	linesOn time.Duration
}

// newIntervalCollector starts collecting into out from now; nil out
// collects nothing (and the nil collector's methods do nothing).
func newIntervalCollector(out *reporting.Intervals, sc *scenarios.Scenario, loop *sim.Loop, cen *centre.Centre) *intervalCollector {
	if out == nil {
		return nil
	}
	loc := CentreConfig(sc).Location
	if loc == nil {
		loc = time.UTC // the router's default
	}
	name := sc.Outbound.Campaign
	if name == "" {
		name = sc.Name
	}
	c := &intervalCollector{out: out, loop: loop, cen: cen, loc: loc, campaign: name, dials: sc.Outbound.Enabled,
		firstCampaign: len(out.Campaigns), from: loop.Now(), calls: map[string]int64{}, state: map[string]pg.AgentState{}}
	c.prev = c.snapshot(loop.Now())
	cen.Subscribe(c.pgEvent)
	c.arm()
	return c
}

// halfHourStart is the start of the half-hour interval t is in (xx:00 or
// xx:30 in loc), in t's location: a row is named by its interval, however
// late in it the run started.
func halfHourStart(t time.Time, loc *time.Location) time.Time {
	lt := t.In(loc)
	m := 0
	if lt.Minute() >= 30 {
		m = 30
	}
	return time.Date(lt.Year(), lt.Month(), lt.Day(), lt.Hour(), m, 0, 0, loc).In(t.Location())
}

// nextHalfHour is the first half-hour boundary after t in loc.
func nextHalfHour(t time.Time, loc *time.Location) time.Time {
	lt := t.In(loc)
	base := time.Date(lt.Year(), lt.Month(), lt.Day(), lt.Hour(), 0, 0, 0, loc)
	if next := base.Add(30 * time.Minute); next.After(lt) {
		return next
	}
	return base.Add(time.Hour)
}

func (c *intervalCollector) arm() {
	c.loop.At(nextHalfHour(c.loop.Now(), c.loc), func(now time.Time) {
		c.ticks++
		c.cut(now)
		c.arm()
	})
}

func (c *intervalCollector) pgEvent(e pg.Event) {
	ev, ok := e.(*pg.AgentStateEvent)
	if !ok {
		return
	}
	id := ev.Agent.AgentID
	if prev, seen := c.state[id]; ev.State == pg.StateTalking && (!seen || (prev != pg.StateTalking && prev != pg.StateHold)) {
		c.calls[id]++
	}
	c.state[id] = ev.State
}

func (c *intervalCollector) snapshot(now time.Time) intervalSnapshot {
	r := c.cen.Router()
	s := intervalSnapshot{callTypes: map[uint32]icm.Counters{}, skillGroups: map[uint32]icm.Counters{}, sgTimes: map[uint32]pg.StateTimes{},
		sgLoggedOn: map[uint32]int{}, agents: map[string]pg.StateTimes{}, lines: map[string]pg.LineStatus{}, calls: map[string]int64{},
		out: c.cen.Outbound(), machines: c.cen.PSTN().Stats().Machine}
	for _, ct := range r.CallTypes() {
		s.callTypes[ct.ID], _ = r.CallTypeCounters(ct.ID, icm.Run)
	}
	for _, sg := range r.SkillGroups() {
		s.skillGroups[sg.Number], _ = r.SkillGroupCounters(sg.Number, icm.Run)
	}
	for _, st := range c.cen.PG().Agents() {
		s.agents[st.AgentID] = st.Times
		for _, ref := range st.SkillGroups {
			t := s.sgTimes[ref.Number]
			t.LoggedOn += st.Times.LoggedOn
			for i := range t.InState {
				t.InState[i] += st.Times.InState[i]
			}
			s.sgTimes[ref.Number] = t
			if st.LoggedOn {
				s.sgLoggedOn[ref.Number]++
			}
		}
		if st.LoggedOn && len(st.SkillGroups) > 0 {
			s.anyGroup++
		}
	}
	if at := c.cen.StartedAt(); !at.IsZero() {
		s.linesOn = now.Sub(at)
	}
	for _, l := range c.cen.PG().Lines() {
		s.lines[l.Extension] = l
	}
	for id, n := range c.calls {
		s.calls[id] = n
	}
	return s
}

// cut records [from, now) and starts the next interval.
func (c *intervalCollector) cut(now time.Time) {
	if !now.After(c.from) {
		return
	}
	cur := c.snapshot(now)
	o := c.out
	nct, nsg, nag, ncp := len(o.CallTypes), len(o.SkillGroups), len(o.Agents), len(o.Campaigns)
	c.appendRows(o, cur, now)
	c.prev, c.from = cur, now
	if c.onCut != nil {
		iv := &reporting.Intervals{CallTypes: o.CallTypes[nct:], SkillGroups: o.SkillGroups[nsg:], Agents: o.Agents[nag:]}
		if c.dials || c.cen.Outbound().Attempts > 0 {
			iv.Campaigns = o.Campaigns[ncp:] // as finish drops them: no dialing, no campaign
		}
		c.onCut(iv)
	}
}

// appendRows appends to out the rows of the interval from c.from to now,
// cur being the cumulative figures at now. It changes nothing of c: the
// live dashboard reads the interval in progress with it.
func (c *intervalCollector) appendRows(out *reporting.Intervals, cur intervalSnapshot, now time.Time) {
	p := c.prev
	// The row is the half-hour's (ICM's DateTime of the interval): a run
	// that started at 16:01 has its first row at 16:00.
	sp := reporting.Span{Start: halfHourStart(c.from, c.loc), End: now}
	r := c.cen.Router()
	for _, ct := range r.CallTypes() {
		k := cur.callTypes[ct.ID].Sub(p.callTypes[ct.ID])
		out.CallTypes = append(out.CallTypes, reporting.CallTypeInterval{Span: sp, CallType: ct.Name, CallTypeID: ct.ID,
			ServiceLevelType: int(ct.ServiceLevelType), Offered: k.CallsOffered, Answered: k.CallsAnswered, Abandoned: k.Abandoned(),
			SLCalls: k.ServiceLevelCalls, SLOffered: k.ServiceLevelCallsOffered, SLAband: k.ServiceLevelAband,
			AnswerWait: k.AnswerWaitTime, Handled: k.HandledCalls, HandleTime: k.HandledCallsTime})
	}
	for _, sg := range r.SkillGroups() {
		k := cur.skillGroups[sg.Number].Sub(p.skillGroups[sg.Number])
		t, pt := cur.sgTimes[sg.Number], p.sgTimes[sg.Number]
		name := sg.Name
		if name == "" {
			name = "skill group " + strconv.FormatUint(uint64(sg.Number), 10)
		}
		out.SkillGroups = append(out.SkillGroups, reporting.SkillGroupInterval{Span: sp, SkillGroup: name, Number: sg.Number,
			Handled: k.HandledCalls, TalkTime: k.HandledCallsTalkTime,
			ReadyTime:      t.InState[pg.StateAvailable] - pt.InState[pg.StateAvailable],
			NotReadyTime:   t.InState[pg.StateNotReady] - pt.InState[pg.StateNotReady],
			LoggedOnTime:   t.LoggedOn - pt.LoggedOn,
			AgentsLoggedOn: cur.sgLoggedOn[sg.Number], AgentsAnyGroup: cur.anyGroup})
	}
	for _, a := range c.cen.Agents() {
		row := reporting.AgentInterval{Span: sp, AgentID: a.AgentID, Group: a.Group}
		if a.InICM {
			t, pt := cur.agents[a.AgentID], p.agents[a.AgentID]
			in := func(states ...pg.AgentState) time.Duration {
				var d time.Duration
				for _, s := range states {
					d += t.InState[s] - pt.InState[s]
				}
				return d
			}
			row.Calls = cur.calls[a.AgentID] - p.calls[a.AgentID]
			row.Talk, row.Hold, row.WrapUp = in(pg.StateTalking), in(pg.StateHold), in(pg.StateWorkReady, pg.StateWorkNotReady)
			row.Ready, row.NotReady, row.LoggedOnTime = in(pg.StateAvailable), in(pg.StateNotReady), t.LoggedOn-pt.LoggedOn
		} else {
			// An outbound-only agent's line: its connected calls, counted
			// when they connect as an ICM agent's are (lineCalls), and its
			// connected time; the line is on, its agent logged on, from
			// the centre's start.
			l, pl := cur.lines[a.Extension], p.lines[a.Extension]
			row.Calls, row.Talk = lineCalls(l)-lineCalls(pl), l.Talk-pl.Talk
			row.LoggedOnTime = cur.linesOn - p.linesOn
		}
		out.Agents = append(out.Agents, row)
	}
	o, po := cur.out, p.out
	out.Campaigns = append(out.Campaigns, reporting.CampaignInterval{Span: sp, Campaign: c.campaign,
		Attempts: int64(o.Attempts - po.Attempts), Connects: int64(o.Connects - po.Connects), Abandoned: int64(o.Abandoned - po.Abandoned),
		Busy: int64(o.Busy - po.Busy), NoAnswer: int64(o.NoAnswer - po.NoAnswer), Machines: int64(cur.machines - p.machines)})
}

// lineCalls is the calls connected to a line so far: those that ended and
// the one connected now, so that a call counts in the interval it
// connected in, as an ICM agent's call does when the agent goes TALKING.
func lineCalls(l pg.LineStatus) int64 {
	n := int64(l.Calls)
	if l.CallID != 0 {
		n++
	}
	return n
}

// finish records the last, possibly partial, interval up to now. With no
// outbound dialing at all the campaign rows are dropped: the scenario has
// no campaign.
func (c *intervalCollector) finish(now time.Time) {
	if c == nil {
		return
	}
	c.cut(now)
	if !c.dials && c.cen.Outbound().Attempts == 0 {
		c.out.Campaigns = c.out.Campaigns[:c.firstCampaign]
	}
}

// events is the number of loop events the collector ran.
func (c *intervalCollector) events() uint64 {
	if c == nil {
		return 0
	}
	return c.ticks
}
