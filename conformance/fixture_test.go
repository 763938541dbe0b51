package conformance

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/ipcclab/ipcclab/conformance/target"
	"github.com/ipcclab/ipcclab/conformance/wire"
	"github.com/ipcclab/ipcclab/controller"
	"github.com/ipcclab/ipcclab/protocol/cti"
	"github.com/ipcclab/ipcclab/scenarios"
)

// fixture is one running target with the suite's own recording CTI sessions:
// a PV24 and a PV15 ALL_EVENTS session (the two floating-field widths, §1.3),
// a skill-group statistics sampler on the PV24 session and a sampler of the
// controller's status. Everything is recorded from the moment the target is
// up, so specs check what happened whenever they run.
type fixture struct {
	name   string
	t      target.Target
	sc     *scenarios.Scenario
	wide   *wire.Client // PV24
	narrow *wire.Client // PV15

	agents map[string]agentDef // by agent ID, from the scenario
	// initial is each ICM agent's state when the recording started
	// (QUERY_AGENT_STATE_REQ): the lab logs agents in before a client can
	// connect, so their first events are not in the recording.
	initial map[string]cti.AgentState

	mu       sync.Mutex
	stats    []statSample
	statuses []statusSample

	stop chan struct{}
	wg   sync.WaitGroup
}

type agentDef struct {
	ID, Extension string
	Group         string
	Role          string // scenarios.RoleInbound/RoleBlended/RoleOutbound
	InICM, InCtl  bool
	Password      string
}

type statSample struct {
	At   time.Time
	Conf *cti.QuerySkillGroupStatisticsConf
}

type statusSample struct {
	At time.Time
	S  controller.Status
}

const (
	statsEvery  = 250 * time.Millisecond
	statusEvery = 100 * time.Millisecond
)

// startFixture connects the recording sessions to t and starts the samplers.
func startFixture(name string, t target.Target) (*fixture, error) {
	return startFixtureWith(name, t, true)
}

// startFixtureWith is startFixture; without narrow the fixture records a
// PV24 session only (f.narrow is nil), for labs whose specs do not compare
// floating-field widths.
func startFixtureWith(name string, t target.Target, narrow bool) (*fixture, error) {
	f := &fixture{name: name, t: t, sc: t.Scenario(), agents: map[string]agentDef{}, stop: make(chan struct{})}
	for _, g := range f.sc.Agents {
		for n := 0; n < g.Count; n++ {
			id := strconv.Itoa(g.FirstAgentID + n)
			f.agents[id] = agentDef{ID: id, Extension: strconv.Itoa(g.FirstExtension + n), Group: g.Name, Role: g.Role,
				InICM: g.IsDefinedIn(scenarios.DefinedInICM), InCtl: g.IsDefinedIn(scenarios.DefinedInController)}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var err error
	f.wide, err = wire.Dial(ctx, t.CTIAddr(), wire.Options{ClientID: "conformance-" + name + "-wide", Version: 24,
		Services: cti.ServiceAllEvents, PeripheralID: f.sc.ICM.PeripheralID})
	if err != nil {
		return nil, err
	}
	if narrow {
		f.narrow, err = wire.Dial(ctx, t.CTIAddr(), wire.Options{ClientID: "conformance-" + name + "-narrow", Version: 15,
			Services: cti.ServiceAllEvents, PeripheralID: f.sc.ICM.PeripheralID})
		if err != nil {
			_ = f.wide.Close()
			return nil, err
		}
	}
	f.initial = map[string]cti.AgentState{}
	for id := range f.agents {
		m, err := f.wide.Request(ctx, &cti.QueryAgentStateReq{PeripheralID: f.sc.ICM.PeripheralID, AgentID: id})
		if conf, ok := m.(*cti.QueryAgentStateConf); ok && err == nil {
			f.initial[id] = conf.AgentState
		}
	}
	// Both recordings are open: let the traffic start.
	t.Begin()
	f.wg.Add(2)
	go f.sampleStats()
	go f.sampleStatus()
	return f, nil
}

func (f *fixture) close() error {
	close(f.stop)
	f.wg.Wait()
	var errs []string
	for _, c := range []*wire.Client{f.wide, f.narrow} {
		if c == nil {
			continue
		}
		// CLOSE_CONF is not what this suite proves: a lost confirmation is
		// logged, not failed (see README, known product issues).
		if err := c.Close(); err != nil {
			GinkgoWriter.Printf("closing %s: %v\n", c.Name, err)
		}
	}
	if err := f.t.Stop(); err != nil {
		errs = append(errs, err.Error())
	}
	if len(errs) > 0 {
		return fmt.Errorf("fixture %s: %s", f.name, strings.Join(errs, "; "))
	}
	return nil
}

// blendGroups are the skill groups the controller watches.
func (f *fixture) blendGroups() []uint32 {
	if len(f.sc.Controller.Blend.SkillGroups) > 0 {
		return f.sc.Controller.Blend.SkillGroups
	}
	var out []uint32
	for _, g := range f.sc.ICM.SkillGroups {
		out = append(out, g.Number)
	}
	return out
}

func (f *fixture) sampleStats() {
	defer f.wg.Done()
	tick := time.NewTicker(statsEvery)
	defer tick.Stop()
	for {
		for _, g := range f.blendGroups() {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			m, err := f.wide.Request(ctx, &cti.QuerySkillGroupStatisticsReq{PeripheralID: f.sc.ICM.PeripheralID,
				SkillGroupNumber: g, SkillGroupID: cti.NullSkillGroup})
			cancel()
			if conf, ok := m.(*cti.QuerySkillGroupStatisticsConf); ok && err == nil {
				f.mu.Lock()
				f.stats = append(f.stats, statSample{At: time.Now(), Conf: conf})
				f.mu.Unlock()
			}
		}
		select {
		case <-f.stop:
			return
		case <-tick.C:
		}
	}
}

func (f *fixture) sampleStatus() {
	defer f.wg.Done()
	tick := time.NewTicker(statusEvery)
	defer tick.Stop()
	for {
		s := f.t.Controller().Status()
		f.mu.Lock()
		f.statuses = append(f.statuses, statusSample{At: time.Now(), S: s})
		f.mu.Unlock()
		select {
		case <-f.stop:
			return
		case <-tick.C:
		}
	}
}

func (f *fixture) statSamples() []statSample {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]statSample(nil), f.stats...)
}

func (f *fixture) statusSamples() []statusSample {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]statusSample(nil), f.statuses...)
}

// status is the controller's status right now.
func (f *fixture) status() controller.Status { return f.t.Controller().Status() }

// surge is when the scenario's arrival profile runs above twice its first
// (low) rate, relative to the target's start.
func (f *fixture) surge() (from, to time.Time) {
	start := f.t.Started()
	for _, ct := range f.sc.ICM.CallTypes {
		seg := ct.Arrivals.Segment.D()
		rates := ct.Arrivals.PerHour
		if len(rates) == 0 {
			continue
		}
		for i, r := range rates {
			if r > 2*rates[0] {
				a, b := start.Add(time.Duration(i)*seg), start.Add(time.Duration(i+1)*seg)
				if from.IsZero() || a.Before(from) {
					from = a
				}
				if b.After(to) {
					to = b
				}
			}
		}
	}
	return from, to
}

// untilAfterSurge is how long from now until d after the end of the surge
// (at least d).
func (f *fixture) untilAfterSurge(d time.Duration) time.Duration {
	_, to := f.surge()
	if left := time.Until(to.Add(d)); left > d {
		return left
	}
	return d
}

// ids returns the agent IDs matching keep, sorted.
func (f *fixture) ids(keep func(agentDef) bool) []string {
	var out []string
	for id, a := range f.agents {
		if keep(a) {
			out = append(out, id)
		}
	}
	slices.SortFunc(out, func(a, b string) int {
		if len(a) != len(b) {
			return len(a) - len(b)
		}
		return strings.Compare(a, b)
	})
	return out
}

// blended are the agents defined as blended in both ICM and the controller.
func (f *fixture) blended() []string {
	return f.ids(func(a agentDef) bool { return a.Role == scenarios.RoleBlended && a.InICM && a.InCtl })
}

func (f *fixture) inboundOnly() []string {
	return f.ids(func(a agentDef) bool { return a.Role == scenarios.RoleInbound })
}

func (f *fixture) outboundOnly() []string {
	return f.ids(func(a agentDef) bool { return a.Role == scenarios.RoleOutbound })
}

func (f *fixture) reason() uint16 { return uint16(f.sc.Controller.NotReadyReason) }

// attachTranscripts adds the recorded sessions and the target's log to the
// report of the current spec when it failed.
func (f *fixture) attachTranscripts(mark map[*wire.Client]int) {
	if !CurrentSpecReport().Failed() {
		return
	}
	for _, c := range []*wire.Client{f.wide, f.narrow} {
		if c == nil {
			continue
		}
		from := 0
		if mark != nil {
			from = mark[c]
		}
		AddReportEntry(fmt.Sprintf("CTI transcript %s (%s)", c.Name, f.name), c.Transcript(from, transcriptLines), ReportEntryVisibilityFailureOrVerbose)
	}
	var b strings.Builder
	for _, s := range lastN(f.statusSamples(), 40) {
		fmt.Fprintf(&b, "%8.3fs connected=%v behind=%v sl=%.3f pacing=%.2f lent=%v moves=%d/%d mismatches=%d %s\n",
			s.At.Sub(f.t.Started()).Seconds(), s.S.Connected, s.S.Behind, s.S.ServiceLevel, s.S.PacingFactor, s.S.Report.Lent,
			s.S.Report.MovesToInbound, s.S.Report.MovesToOutbound, len(s.S.Report.Mismatches), s.S.LastDecision)
	}
	AddReportEntry(fmt.Sprintf("controller status, last samples (%s)", f.name), b.String(), ReportEntryVisibilityFailureOrVerbose)
	AddReportEntry(fmt.Sprintf("target log (%s)", f.name), strings.Join(lastN(f.t.Log(), 300), "\n"), ReportEntryVisibilityFailureOrVerbose)
}

// transcriptLines bounds each transcript attached to a failure.
const transcriptLines = 1500

func lastN[T any](s []T, n int) []T {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
