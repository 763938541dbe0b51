package conformance

import (
	"context"
	"flag"
	"fmt"
	"math"
	"slices"
	"sort"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ipcclab/ipcclab/conformance/target"
	"github.com/ipcclab/ipcclab/conformance/wire"
	"github.com/ipcclab/ipcclab/protocol/cti"
	"github.com/ipcclab/ipcclab/scenarios"
)

// The reference controller's outbound dialing modes, seen on the CTI wire
// only: an ALL_EVENTS session of each dialer lab records every call event
// from the start, and the specs follow every campaign call (BEGIN_CALL with
// the campaign's CallVariable1) by its ConnectionCallID. The controller's
// own requests (MAKE_PREDICTIVE_CALL_REQ, TRANSFER_CALL_REQ, CLEAR_CALL_REQ)
// are not visible to a monitoring session; their effects are:
//
//   - progressive (testdata/scenario-dialer-progressive.yaml, pacing mode
//     agent): CALL_ORIGINATED at an outbound agent's instrument, the
//     customer's CALL_DELIVERED and CALL_ESTABLISHED (or CALL_FAILED), then
//     CALL_DELIVERED and CALL_ESTABLISHED at that agent;
//   - predictive (testdata/scenario-dialer-predictive.yaml, pacing mode pool,
//     strategy predictive; and testdata/scenario-dialer-ratio.yaml, the
//     aggressive fixed ratio-3 of the compliance specs): CALL_ORIGINATED at a
//     dialer port, the customer's CALL_ESTABLISHED (a live answer) and
//     CALL_ESTABLISHED at the port, then either CALL_DELIVERED,
//     CALL_ESTABLISHED at an agent and CALL_TRANSFERRED from the port (the
//     single-step transfer), or — no agent free within 2 s — nothing for
//     the safe-harbour message and CALL_CONNECTION_CLEARED released by the
//     port (CLEAR_CALL_REQ): an abandoned call.
//
// The three labs start in BeforeSuite with the others, so their minute of
// dialing overlaps the call flow's timeline. The specs run after all others
// (dialerPriority); each waits (bounded) until its lab has run long enough,
// which in a full run it has, and then checks the whole recording.

var (
	flagDialerProgressive = flag.String("dialer-progressive-scenario", "testdata/scenario-dialer-progressive.yaml", "outbound centre of the dialer-progressive specs: pacing mode agent (in-process only)")
	flagDialerPredictive  = flag.String("dialer-predictive-scenario", "testdata/scenario-dialer-predictive.yaml", "outbound centre of the dialer-predictive specs: pacing mode pool, strategy predictive, dialer ports (in-process only)")
	flagDialerRatio       = flag.String("dialer-ratio-scenario", "testdata/scenario-dialer-ratio.yaml", "outbound centre of the dialer-compliance specs: pacing mode pool, an aggressive fixed ratio so that calls are abandoned (in-process only)")
)

// dialerLabels are the labels of the dialer specs.
var dialerLabels = []string{"dialer-progressive", "dialer-predictive", "dialer-compliance"}

// The dialer labs (nil when not started: a remote target, or the label
// filter leaves the dialer specs out).
var (
	progFx, predFx, ratioFx *fixture
	dialerErr               error
)

func wantDialer() bool {
	for _, l := range dialerLabels {
		if Label("dialer", l).MatchesLabelFilter(GinkgoLabelFilter()) {
			return true
		}
	}
	return false
}

// startDialerLabs starts the three dialer labs in-process, together.
func startDialerLabs() error {
	paths := []string{*flagDialerProgressive, *flagDialerPredictive, *flagDialerRatio}
	names := []string{"dialer-progressive", "dialer-predictive", "dialer-ratio"}
	fxs := make([]*fixture, len(paths))
	errs := make([]error, len(paths))
	scs := make([]*scenarios.Scenario, len(paths))
	for i, p := range paths {
		sc, err := scenarios.Load(p)
		if err != nil {
			return fmt.Errorf("scenario %s: %w", p, err)
		}
		scs[i] = sc
	}
	var wg sync.WaitGroup
	for i, sc := range scs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t, err := target.StartInProcess(context.Background(), target.Options{Scenario: sc, Seed: seedFor(sc)})
			if err != nil {
				errs[i] = err
				return
			}
			// One PV24 recording is all the dialer specs read.
			if fxs[i], errs[i] = startFixtureWith(names[i], t, false); errs[i] != nil {
				_ = t.Stop()
			}
		}()
	}
	wg.Wait()
	progFx, predFx, ratioFx = fxs[0], fxs[1], fxs[2]
	for i, err := range errs {
		if err != nil {
			return fmt.Errorf("%s lab: %w", names[i], err)
		}
	}
	return nil
}

// dialerFixtures are the labs a dialer spec with these labels reads.
func dialerFixtures(labels []string) []*fixture {
	var out []*fixture
	add := func(f *fixture) {
		if f != nil && !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	for _, l := range labels {
		switch l {
		case "dialer-progressive":
			add(progFx)
		case "dialer-predictive":
			add(predFx)
		case "dialer-compliance":
			add(progFx)
			add(predFx)
			add(ratioFx)
		}
	}
	return out
}

// needDialer skips the dialer specs on targets that cannot run the dialer
// scenarios: a remote CTI Server would have to be a centre with the
// scenario's dialer ports and customers, and the controller would dial its
// (possibly real) outside numbers.
func needDialer(fs ...*fixture) {
	if dialerErr != nil {
		Fail(fmt.Sprintf("starting the dialer labs: %v", dialerErr))
	}
	for _, f := range fs {
		if f == nil {
			Skip("the target cannot start in-process labs running the dialer scenarios (in-process target only)")
		}
	}
}

// Timing of the checks.
const (
	// wireTolerance is the measurement slack of two event times taken by
	// the same recording session: on a loaded host (race detector, six labs
	// on two cores) events the CTI Server sent together have arrived 70 ms
	// apart.
	wireTolerance = 100 * time.Millisecond
	// harborSlack is how long after the safe-harbour message has ended the
	// controller may take to clear the call.
	harborSlack = 2 * time.Second
	// minRingTime is the regulators' minimum ring time before a call is
	// given up as not answered (dialer-anchors.md §3: 15 s or 4 rings).
	minRingTime = 15 * time.Second
	// dialerDeadline bounds every dialer spec's wait, from its lab's start.
	dialerDeadline = 90 * time.Second
)

// mark is where and when an event was recorded.
type mark struct {
	Idx int
	At  time.Time
}

func (m mark) seen() bool { return !m.At.IsZero() }

// dialCall is one campaign call, as an ALL_EVENTS session saw it.
type dialCall struct {
	ID uint32
	// Number is the customer: BEGIN_CALL's connection device, the dialed
	// number.
	Number string
	// Origin is CALL_ORIGINATED's calling device: the agent's instrument
	// (progressive) or the dialer port (pool).
	Origin      string
	Begin       mark
	Originated  mark
	FarAlert    mark // CALL_DELIVERED at the customer
	FarAnswer   mark // CALL_ESTABLISHED at the customer: a live answer
	Failed      mark
	Cause       cti.EventCause
	OriginEstab mark // CALL_ESTABLISHED at Origin
	// Agent is the device the call was delivered to other than the
	// customer and Origin (the agent a dialer port transferred it to).
	Agent      string
	AgentDeliv mark
	AgentEstab mark
	Transfer   mark
	Xfer       *cti.CallTransferredEvent
	// Talking is the AGENT_STATE_EVENT TALKING of the agent at Agent
	// after the transfer.
	Talking      mark
	Release      mark // the first CALL_CONNECTION_CLEARED
	Releasing    string
	ReleaseCause cti.EventCause
	End          mark
	Odd          []string
}

func (c *dialCall) String() string {
	at := func(m mark) string {
		if !m.seen() {
			return "-"
		}
		return fmt.Sprintf("#%d", m.Idx)
	}
	return fmt.Sprintf("call %d to %s from %s: begin %s originated %s far-delivered %s far-established %s failed %s (%v) origin-established %s agent %q delivered %s established %s transferred %s talking %s released %s by %q (%v) end %s",
		c.ID, c.Number, c.Origin, at(c.Begin), at(c.Originated), at(c.FarAlert), at(c.FarAnswer), at(c.Failed), c.Cause,
		at(c.OriginEstab), c.Agent, at(c.AgentDeliv), at(c.AgentEstab), at(c.Transfer), at(c.Talking), at(c.Release),
		c.Releasing, c.ReleaseCause, at(c.End))
}

// dialCalls follows every call of the campaign (BEGIN_CALL with
// CallVariable1 campaign) in a recording, in the order they began.
func dialCalls(evs []wire.Event, campaign string) []*dialCall {
	var all []*dialCall
	open := map[uint32]*dialCall{}
	for i, ev := range evs {
		m := mark{Idx: i, At: ev.At}
		switch e := ev.Msg.(type) {
		case *cti.BeginCallEvent:
			if e.CallVariable1 != campaign {
				continue
			}
			if prev := open[e.ConnectionCallID]; prev != nil {
				prev.Odd = append(prev.Odd, fmt.Sprintf("#%d: a second BEGIN_CALL before END_CALL", i))
				continue
			}
			c := &dialCall{ID: e.ConnectionCallID, Number: e.ConnectionDeviceID, Begin: m}
			open[c.ID] = c
			all = append(all, c)
		case *cti.CallTransferredEvent:
			c := open[e.PrimaryCallID]
			if c == nil {
				c = open[e.SecondaryCallID]
			}
			if c != nil && !c.Transfer.seen() {
				c.Transfer, c.Xfer = m, e
			}
		case *cti.AgentStateEvent:
			if e.AgentState != cti.AgentStateTalking {
				continue
			}
			for _, c := range open {
				if c.Transfer.seen() && !c.Talking.seen() && c.Agent != "" && (c.Agent == e.AgentInstrument || c.Agent == e.AgentExtension) {
					c.Talking = m
				}
			}
		default:
			id, ok := connectionCallID(ev.Msg)
			c := open[id]
			if !ok || c == nil {
				continue
			}
			switch e := ev.Msg.(type) {
			case *cti.CallOriginatedEvent:
				if !c.Originated.seen() {
					c.Originated, c.Origin = m, e.CallingDeviceID
				}
			case *cti.CallDeliveredEvent:
				switch dev := e.AlertingDeviceID; {
				case dev == c.Number:
					c.FarAlert = m
				case dev == c.Origin:
				case c.Agent == "" || c.Agent == dev:
					c.Agent, c.AgentDeliv = dev, m
				default:
					c.Odd = append(c.Odd, fmt.Sprintf("#%d: CALL_DELIVERED at a third device %s", i, dev))
				}
			case *cti.CallEstablishedEvent:
				switch dev := e.AnsweringDeviceID; {
				case dev == c.Number:
					c.FarAnswer = m
				case dev == c.Origin:
					c.OriginEstab = m
				case c.Agent == "" || c.Agent == dev:
					c.Agent, c.AgentEstab = dev, m
				default:
					c.Odd = append(c.Odd, fmt.Sprintf("#%d: CALL_ESTABLISHED at a third device %s", i, dev))
				}
			case *cti.CallFailedEvent:
				if !c.Failed.seen() {
					c.Failed, c.Cause = m, e.EventCause
				}
			case *cti.CallConnectionClearedEvent:
				if !c.Release.seen() {
					c.Release, c.Releasing, c.ReleaseCause = m, e.ReleasingDeviceID, e.EventCause
				}
			case *cti.EndCallEvent:
				c.End = m
				delete(open, id)
			}
		}
	}
	return all
}

// dialerSnapshot is a lab's recording at one moment, with its campaign calls.
type dialerSnapshot struct {
	f     *fixture
	now   time.Time
	evs   []wire.Event
	calls []*dialCall
}

func snapshot(f *fixture) dialerSnapshot {
	now := time.Now() // before the copy: every event up to now is in it
	evs := f.wide.Events()
	return dialerSnapshot{f: f, now: now, evs: evs, calls: dialCalls(evs, f.sc.Outbound.Campaign)}
}

func (s dialerSnapshot) ran() time.Duration { return s.now.Sub(s.f.t.Started()) }

// campaignDevices maps the campaign agents' devices (extension and
// instrument) to their agent IDs: the agents defined in the controller.
func (s dialerSnapshot) campaignDevices() map[string]string {
	out := map[string]string{}
	for _, id := range s.f.ids(func(a agentDef) bool { return a.InCtl }) {
		out[s.f.agents[id].Extension] = id
	}
	for _, ev := range s.evs {
		if e, ok := ev.Msg.(*cti.AgentStateEvent); ok && e.AgentInstrument != "" {
			if _, ours := s.f.agents[e.AgentID]; ours && s.f.agents[e.AgentID].InCtl {
				out[e.AgentInstrument] = e.AgentID
			}
		}
	}
	return out
}

func (s dialerSnapshot) ports() []string { return s.f.sc.Outbound.DialerPorts.Extensions() }

func (s dialerSnapshot) count(keep func(*dialCall) bool) int {
	n := 0
	for _, c := range s.calls {
		if keep(c) {
			n++
		}
	}
	return n
}

func notAnswered(c *dialCall) bool {
	return c.Failed.seen() && (c.Cause == cti.CECCallNotAnswered || c.Cause == 35) // CEC_TIME_OUT
}

func (s dialerSnapshot) describe() string {
	return fmt.Sprintf("%s after %.1fs: %d campaign calls, %d live answers, %d at an agent, %d transferred, %d no answer, %d busy",
		s.f.name, s.ran().Seconds(), len(s.calls),
		s.count(func(c *dialCall) bool { return c.FarAnswer.seen() }),
		s.count(func(c *dialCall) bool {
			return c.AgentEstab.seen() || (c.OriginEstab.seen() && !slices.Contains(s.ports(), c.Origin))
		}),
		s.count(func(c *dialCall) bool { return c.Transfer.seen() }),
		s.count(notAnswered),
		s.count(func(c *dialCall) bool { return c.Failed.seen() && c.Cause == cti.CECBusy }))
}

// progressiveProblems checks agent-mode dialing: every campaign call
// originates at a campaign agent's instrument, an agent never has two
// campaign calls at once, and a live answer is established at that agent.
func (s dialerSnapshot) progressiveProblems() []string {
	var out []string
	devs := s.campaignDevices()
	byOrigin := map[string][]*dialCall{}
	for _, c := range s.calls {
		out = append(out, c.Odd...)
		switch {
		case !c.Originated.seen():
			if c.End.seen() || s.now.Sub(c.Begin.At) > time.Second {
				out = append(out, fmt.Sprintf("no CALL_ORIGINATED after BEGIN_CALL: %s", c))
			}
			continue
		case devs[c.Origin] == "":
			out = append(out, fmt.Sprintf("originated at %s, which is no campaign agent's instrument: %s", c.Origin, c))
		}
		byOrigin[c.Origin] = append(byOrigin[c.Origin], c)
		if c.FarAnswer.seen() {
			switch {
			case c.OriginEstab.seen() && c.OriginEstab.Idx > c.FarAnswer.Idx:
			case c.Release.seen() && c.ReleaseCause == cti.CECNoAvailableAgents:
				out = append(out, fmt.Sprintf("answered, then cleared with CEC_NO_AVAILABLE_AGENTS: agent %s was not free for its own call: %s", devs[c.Origin], c))
			case c.End.seen() || s.now.Sub(c.FarAnswer.At) > time.Second:
				out = append(out, fmt.Sprintf("answered, but not established at the originating agent %s: %s", devs[c.Origin], c))
			}
		}
		if c.Transfer.seen() || c.Agent != "" {
			out = append(out, fmt.Sprintf("reached a device other than its agent's: %s", c))
		}
	}
	for dev, cs := range byOrigin {
		for i := 1; i < len(cs); i++ {
			prev, c := cs[i-1], cs[i]
			if !prev.End.seen() || prev.End.Idx > c.Begin.Idx {
				out = append(out, fmt.Sprintf("agent %s (%s) has two campaign calls at once: %d began at #%d while %d was still in progress (%s)",
					devs[dev], dev, c.ID, c.Begin.Idx, prev.ID, prev))
			}
		}
	}
	return out
}

// inFlightExcess is the largest number by which the campaign calls still
// dialing (begun, neither answered nor failed nor ended) exceeded the
// campaign agents not on a call, and when.
func (s dialerSnapshot) inFlightExcess(agents int) (excess int, at time.Time, dialing, idle int) {
	type step struct {
		idx            int
		at             time.Time
		dialing, agent int
	}
	var steps []step
	for _, c := range s.calls {
		steps = append(steps, step{c.Begin.Idx, c.Begin.At, 1, 0})
		var stop mark
		for _, m := range []mark{c.FarAnswer, c.Failed, c.End} {
			if m.seen() && (!stop.seen() || m.Idx < stop.Idx) {
				stop = m
			}
		}
		if stop.seen() {
			steps = append(steps, step{stop.Idx, stop.At, -1, 0})
		}
		busy := c.AgentEstab
		if !busy.seen() && c.OriginEstab.seen() && !slices.Contains(s.ports(), c.Origin) {
			busy = c.OriginEstab
		}
		if busy.seen() {
			steps = append(steps, step{busy.Idx, busy.At, 0, 1})
			if c.End.seen() {
				steps = append(steps, step{c.End.Idx, c.End.At, 0, -1})
			}
		}
	}
	sort.SliceStable(steps, func(i, j int) bool { return steps[i].idx < steps[j].idx })
	d, b := 0, 0
	excess = math.MinInt
	for i, st := range steps {
		d += st.dialing
		b += st.agent
		if i+1 < len(steps) && steps[i+1].idx == st.idx {
			continue
		}
		if e := d - (agents - b); e > excess {
			excess, at, dialing, idle = e, st.at, d, agents-b
		}
	}
	return excess, at, dialing, idle
}

// afterCallWork is the after-call work the controller gives an outbound-only
// agent (a line without an ICM agent) after each call: the wrap-up of the
// scenario's outbound-only groups (default 15 s), as the scenario configures
// the controller.
func (s dialerSnapshot) afterCallWork() time.Duration {
	acw := 15 * time.Second
	for _, g := range s.f.sc.Agents {
		if g.Role == scenarios.RoleOutbound && g.IsDefinedIn(scenarios.DefinedInController) && g.WrapUp.Mean > 0 {
			acw = g.WrapUp.Mean.D()
		}
	}
	return acw
}

// span is a stretch of time; a zero To is open.
type span struct{ From, To time.Time }

func (p span) overlaps(from, to time.Time) bool {
	return p.From.Before(to) && (p.To.IsZero() || p.To.After(from))
}

// busy lists, per campaign agent device, when the agent could not take a
// customer as the wire shows it: on a campaign call (from its CALL_DELIVERED
// to END_CALL, plus the after-call work at a line), and for an agent in ICM
// whenever it was not NOT_READY (and before its first AGENT_STATE_EVENT).
func (s dialerSnapshot) busy() map[string][]span {
	devs := s.campaignDevices()
	acw := s.afterCallWork()
	out := map[string][]span{}
	for _, c := range s.calls {
		start := c.AgentDeliv
		if !start.seen() {
			start = c.AgentEstab
		}
		if c.Agent == "" || !start.seen() {
			continue
		}
		p := span{From: start.At}
		if c.End.seen() {
			p.To = c.End.At
			if a := s.f.agents[devs[c.Agent]]; !a.InICM {
				p.To = p.To.Add(acw)
			}
		}
		out[c.Agent] = append(out[c.Agent], p)
	}
	for dev, id := range devs {
		if !s.f.agents[id].InICM {
			continue
		}
		from := s.f.t.Started().Add(-time.Hour) // unknown until its first event
		ready := false
		for _, ev := range s.evs {
			e, ok := ev.Msg.(*cti.AgentStateEvent)
			if !ok || e.AgentID != id {
				continue
			}
			switch now := e.AgentState == cti.AgentStateNotReady; {
			case now && !ready:
				out[dev] = append(out[dev], span{From: from, To: ev.At})
			case !now && ready:
				from = ev.At
			}
			ready = e.AgentState == cti.AgentStateNotReady
		}
		if !ready {
			out[dev] = append(out[dev], span{From: from})
		}
	}
	return out
}

// freeAgent names a campaign agent that was free (see busy) throughout
// [from, to], or "".
func (s dialerSnapshot) freeAgent(busy map[string][]span, from, to time.Time) string {
	devs := s.campaignDevices()
	var names []string
	for dev := range devs {
		names = append(names, dev)
	}
	slices.Sort(names)
	for _, dev := range names {
		free := true
		for _, p := range busy[dev] {
			if p.overlaps(from, to) {
				free = false
				break
			}
		}
		if free {
			return fmt.Sprintf("%s (%s)", devs[dev], dev)
		}
	}
	return ""
}

// freeNotice is how long a campaign agent must have been free before the
// end of a customer's 2 s for its abandon to be the controller's fault: the
// controller learns of a free agent from the same events the recording
// shows, so a second is ample.
const freeNotice = time.Second

// poolVerdict is what became of the live answers of a pool lab.
type poolVerdict struct {
	Live        int // far-end CALL_ESTABLISHED whose fate is known
	Transferred int // moved to an agent within ConnectWithin
	Abandoned   int // cleared from the port after the safe-harbour message, or connected late
	Pending     int
	Waits       []time.Duration // answer to CALL_TRANSFERRED
	Harbors     []time.Duration // answer to the port's CALL_CONNECTION_CLEARED
	Problems    []string
}

// poolProblems checks pool-mode dialing at a snapshot: every campaign call
// originates at a dialer port, lands there when answered, and every live
// answer is either transferred from the port to a campaign agent within
// ConnectWithin (2 s) of the customer's answer, or — abandoned — stays on the
// port for the safe-harbour message and is cleared from the port no sooner
// than ConnectWithin + SafeHarbor after the answer and no later than
// harborSlack after that.
func (s dialerSnapshot) poolProblems() poolVerdict {
	var v poolVerdict
	pc := s.f.sc.Controller.Pacing
	within, harbor := pc.ConnectWithin.D(), pc.SafeHarbor.D()
	devs := s.campaignDevices()
	ports := s.ports()
	busy := s.busy()
	for _, c := range s.calls {
		v.Problems = append(v.Problems, c.Odd...)
		if !c.Originated.seen() {
			if c.End.seen() || s.now.Sub(c.Begin.At) > time.Second {
				v.Problems = append(v.Problems, fmt.Sprintf("no CALL_ORIGINATED after BEGIN_CALL: %s", c))
			}
			continue
		}
		if !slices.Contains(ports, c.Origin) {
			v.Problems = append(v.Problems, fmt.Sprintf("originated at %s, which is not a dialer port: %s", c.Origin, c))
		}
		if !c.FarAnswer.seen() {
			if c.Transfer.seen() || c.Agent != "" {
				v.Problems = append(v.Problems, fmt.Sprintf("reached an agent without a live answer: %s", c))
			}
			continue
		}
		age := s.now.Sub(c.FarAnswer.At)
		if !c.OriginEstab.seen() && (c.End.seen() || age > time.Second) {
			v.Problems = append(v.Problems, fmt.Sprintf("answered, but not established at its port: %s", c))
		}
		switch {
		case c.Transfer.seen():
			v.Live++
			wait := c.Transfer.At.Sub(c.FarAnswer.At)
			v.Waits = append(v.Waits, wait)
			if wait > within+wireTolerance {
				v.Abandoned++
				v.Problems = append(v.Problems, fmt.Sprintf("the customer waited %v on port %s for an agent, more than %v, and was then transferred without the safe-harbour message: %s",
					wait.Round(time.Millisecond), c.Origin, within, c))
			} else {
				v.Transferred++
			}
			if c.Release.seen() && c.Release.Idx < c.Transfer.Idx {
				v.Problems = append(v.Problems, fmt.Sprintf("transferred after a connection was cleared: %s", c))
			}
			if c.Xfer.TransferringDeviceID != c.Origin || c.Xfer.TransferredDeviceID != c.Agent || devs[c.Agent] == "" {
				v.Problems = append(v.Problems, fmt.Sprintf("CALL_TRANSFERRED transferring %q transferred %q: want the port %s and a campaign agent's device (delivered at %q): %s",
					c.Xfer.TransferringDeviceID, c.Xfer.TransferredDeviceID, c.Origin, c.Agent, c))
			}
		case c.Release.seen() && c.Releasing == c.Number:
			// The customer hung up while waiting (or during the message).
			v.Live++
			v.Abandoned++
		case c.Release.seen() && c.Releasing == c.Origin:
			v.Live++
			v.Abandoned++
			held := c.Release.At.Sub(c.FarAnswer.At)
			v.Harbors = append(v.Harbors, held)
			if held < within+harbor-wireTolerance {
				v.Problems = append(v.Problems, fmt.Sprintf("abandoned call cleared from port %s %v after the answer: sooner than %v (2-second limit) + %v (safe-harbour message): %s",
					c.Origin, held.Round(time.Millisecond), within, harbor, c))
			}
			if held > within+harbor+harborSlack {
				v.Problems = append(v.Problems, fmt.Sprintf("abandoned call left on port %s for %v after the answer, more than %v + %v + %v: %s",
					c.Origin, held.Round(time.Millisecond), within, harbor, harborSlack, c))
			}
			if c.Agent != "" {
				v.Problems = append(v.Problems, fmt.Sprintf("abandoned call also delivered to %s: %s", c.Agent, c))
			}
			deadline := c.FarAnswer.At.Add(within)
			if a := s.freeAgent(busy, deadline.Add(-freeNotice), deadline); a != "" {
				v.Problems = append(v.Problems, fmt.Sprintf("abandoned on port %s although campaign agent %s was free for the last %v of the customer's %v: %s",
					c.Origin, a, freeNotice, within, c))
			}
		case c.Release.seen() || c.End.seen():
			v.Live++
			v.Problems = append(v.Problems, fmt.Sprintf("live answer released by %q (%v), neither transferred nor cleared from its port: %s", c.Releasing, c.ReleaseCause, c))
		case age > within+harbor+harborSlack:
			v.Live++
			v.Problems = append(v.Problems, fmt.Sprintf("live answer still on port %s %v after the answer: neither transferred nor cleared: %s", c.Origin, age.Round(time.Millisecond), c))
		case age > within+wireTolerance:
			// The safe-harbour message is playing: abandoned, cleared
			// later.
			v.Live++
			v.Abandoned++
			deadline := c.FarAnswer.At.Add(within)
			if a := s.freeAgent(busy, deadline.Add(-freeNotice), deadline); a != "" {
				v.Problems = append(v.Problems, fmt.Sprintf("abandoned on port %s although campaign agent %s was free for the last %v of the customer's %v: %s",
					c.Origin, a, freeNotice, within, c))
			}
		default:
			v.Pending++
		}
	}
	return v
}

// transferProblems checks the transferred calls: CALL_DELIVERED and
// CALL_ESTABLISHED at the agent, then CALL_TRANSFERRED, all for the call's
// own ConnectionCallID (also in CALL_TRANSFERRED's primary and secondary
// connections), the agent TALKING when ICM knows it, and END_CALL for the
// same ConnectionCallID at the end.
func (s dialerSnapshot) transferProblems() (toICM, toLine int, problems []string) {
	devs := s.campaignDevices()
	for _, c := range s.calls {
		if !c.Transfer.seen() {
			continue
		}
		x := c.Xfer
		if x.PrimaryCallID != c.ID || x.SecondaryCallID != c.ID {
			problems = append(problems, fmt.Sprintf("CALL_TRANSFERRED primary call %d, secondary call %d: want the call's own ConnectionCallID %d: %s", x.PrimaryCallID, x.SecondaryCallID, c.ID, c))
		}
		if !c.AgentDeliv.seen() || !c.AgentEstab.seen() || c.AgentDeliv.Idx > c.AgentEstab.Idx || c.AgentEstab.Idx > c.Transfer.Idx {
			problems = append(problems, fmt.Sprintf("want CALL_DELIVERED, CALL_ESTABLISHED at the agent, then CALL_TRANSFERRED, all for call %d: %s", c.ID, c))
		}
		if c.End.seen() && (!c.Release.seen() || c.Release.Idx < c.Transfer.Idx) {
			problems = append(problems, fmt.Sprintf("END_CALL without CALL_CONNECTION_CLEARED after the transfer: %s", c))
		}
		agent := devs[c.Agent]
		if a, ok := s.f.agents[agent]; ok && a.InICM {
			toICM++
			if !c.Talking.seen() && (c.End.seen() || s.now.Sub(c.Transfer.At) > time.Second) {
				problems = append(problems, fmt.Sprintf("agent %s (in ICM) not TALKING after the transfer: %s", agent, c))
			}
		} else {
			toLine++
		}
	}
	return toICM, toLine, problems
}

// ringProblems checks that no call fails as not answered (CEC_CALL_NOT_ANSWERED,
// CEC_TIME_OUT) sooner than the regulators' minimum ring time after the
// customer's phone started ringing (the customer's CALL_DELIVERED).
func (s dialerSnapshot) ringProblems() (rings []time.Duration, problems []string) {
	for _, c := range s.calls {
		if !notAnswered(c) {
			continue
		}
		if !c.FarAlert.seen() || c.FarAlert.Idx > c.Failed.Idx {
			problems = append(problems, fmt.Sprintf("not answered (%v) without ringing first: %s", c.Cause, c))
			continue
		}
		ring := c.Failed.At.Sub(c.FarAlert.At)
		rings = append(rings, ring)
		if ring < minRingTime {
			problems = append(problems, fmt.Sprintf("given up as not answered (%v) after %v of ringing, less than %v: %s", c.Cause, ring.Round(time.Millisecond), minRingTime, c))
		}
	}
	return rings, problems
}

// binomialTail is P(X ≥ k) for X ~ Binomial(n, p).
func binomialTail(n, k int, p float64) float64 {
	if k <= 0 {
		return 1
	}
	sum := 0.0
	for i := k; i <= n; i++ {
		lg := lgamma(n+1) - lgamma(i+1) - lgamma(n-i+1)
		sum += math.Exp(lg + float64(i)*math.Log(p) + float64(n-i)*math.Log1p(-p))
	}
	return min(sum, 1)
}

func lgamma(n int) float64 {
	v, _ := math.Lgamma(float64(n))
	return v
}

func durations(ds []time.Duration) string {
	if len(ds) == 0 {
		return "none"
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return fmt.Sprintf("%d, min %v, median %v, max %v", len(s), s[0].Round(time.Millisecond), s[len(s)/2].Round(time.Millisecond), s[len(s)-1].Round(time.Millisecond))
}

// waitDialer polls a lab's recording until enough has happened (enough
// fails with what is missing) and at least minRun has passed since the lab
// started, and returns the snapshot; bounded by dialerDeadline from the
// lab's start.
func waitDialer(f *fixture, minRun time.Duration, enough func(g Gomega, s dialerSnapshot)) dialerSnapshot {
	var s dialerSnapshot
	Eventually(func(g Gomega) {
		s = snapshot(f)
		g.Expect(s.ran()).To(BeNumerically(">=", minRun), "%s has run %.1fs of %v", f.name, s.ran().Seconds(), minRun)
		enough(g, s)
	}).WithTimeout(max(time.Until(f.t.Started().Add(dialerDeadline)), time.Second)).WithPolling(500 * time.Millisecond).Should(Succeed())
	evidence("%s", s.describe())
	return s
}

// dialerPriority runs the dialer specs after the others: they only read
// their labs' recordings, and waiting for a lab's first minute must not hold
// up specs that check the call flow's timeline while it unfolds (C3.2 reads
// the controller's status during the surge).
var dialerPriority = SpecPriority(-1)

var _ = Describe("outbound dialing: progressive", Label("dialer", "dialer-progressive"), dialerPriority, func() {
	It("[D1.1] every campaign call originates at an outbound agent's instrument, and no agent ever has two campaign calls in flight", func() {
		needDialer(progFx)
		s := waitDialer(progFx, 30*time.Second, func(g Gomega, s dialerSnapshot) {
			g.Expect(s.count(func(c *dialCall) bool { return c.End.seen() })).To(BeNumerically(">=", 20), "completed campaign calls")
			origins := map[string]bool{}
			for _, c := range s.calls {
				origins[c.Origin] = true
			}
			g.Expect(len(origins)).To(BeNumerically(">=", 2), "agents that dialed")
		})
		Expect(s.progressiveProblems()).To(BeEmpty())
		most := 0
		for _, c := range s.calls {
			n := s.count(func(o *dialCall) bool {
				return o.Begin.Idx <= c.Begin.Idx && (!o.End.seen() || o.End.Idx > c.Begin.Idx)
			})
			most = max(most, n)
		}
		agents := len(progFx.ids(func(a agentDef) bool { return a.InCtl }))
		evidence("at most %d campaign calls in flight at once, %d campaign agents", most, agents)
		Expect(most).To(BeNumerically("<=", agents), "campaign calls in flight at once")
	})

	It("[D1.2] a progressive call a customer answers is established at the agent whose instrument placed it", func() {
		needDialer(progFx)
		s := waitDialer(progFx, 30*time.Second, func(g Gomega, s dialerSnapshot) {
			g.Expect(s.count(func(c *dialCall) bool { return c.OriginEstab.seen() })).To(BeNumerically(">=", 5), "calls established at their agent")
		})
		Expect(s.progressiveProblems()).To(BeEmpty())
		for _, c := range s.calls {
			if c.OriginEstab.seen() {
				Expect(c.FarAnswer.seen()).To(BeTrue(), "established at the agent without the customer's answer: %s", c)
				Expect(c.OriginEstab.Idx).To(BeNumerically(">", c.FarAnswer.Idx), "%s", c)
			}
		}
	})
})

var _ = Describe("outbound dialing: predictive", Label("dialer", "dialer-predictive"), dialerPriority, func() {
	It("[D2.1] predictive calls originate at dialer ports only, and more of them are dialing than campaign agents are free", func() {
		needDialer(predFx)
		agents := len(predFx.ids(func(a agentDef) bool { return a.InCtl }))
		var excess, dialing, idle int
		var at time.Time
		s := waitDialer(predFx, 20*time.Second, func(g Gomega, s dialerSnapshot) {
			g.Expect(len(s.calls)).To(BeNumerically(">=", 20), "campaign calls")
			excess, at, dialing, idle = s.inFlightExcess(agents)
			g.Expect(excess).To(BeNumerically(">", 0), "calls dialing minus campaign agents not on a call, at most")
		})
		evidence("at %.1fs: %d calls dialing, %d of %d campaign agents not on a call", at.Sub(predFx.t.Started()).Seconds(), dialing, idle, agents)
		v := s.poolProblems()
		Expect(v.Problems).To(BeEmpty())
	})

	It("[D2.2] every live answer on a dialer port is transferred to an agent within 2 s or, when no agent is free, cleared from the port after the safe-harbour message; none is left on a port", func() {
		needDialer(predFx)
		s := waitDialer(predFx, 40*time.Second, func(g Gomega, s dialerSnapshot) {
			g.Expect(s.count(func(c *dialCall) bool { return c.Transfer.seen() })).To(BeNumerically(">=", 10), "transferred calls")
		})
		v := s.poolProblems()
		evidence("%s: %d live answers, %d transferred (waits %s), %d abandoned (cleared after %s), %d pending",
			predFx.name, v.Live, v.Transferred, durations(v.Waits), v.Abandoned, durations(v.Harbors), v.Pending)
		Expect(v.Problems).To(BeEmpty())
	})

	It("[D2.3] a transferred call keeps its ConnectionCallID: CALL_DELIVERED and CALL_ESTABLISHED at the agent, CALL_TRANSFERRED from the port, and the agent TALKING", func() {
		needDialer(predFx)
		var toICM, toLine int
		var problems []string
		waitDialer(predFx, 30*time.Second, func(g Gomega, s dialerSnapshot) {
			toICM, toLine, problems = s.transferProblems()
			g.Expect(toICM).To(BeNumerically(">=", 2), "calls transferred to campaign agents in ICM")
			g.Expect(toLine).To(BeNumerically(">=", 2), "calls transferred to outbound-only agents' lines")
		})
		evidence("transferred to ICM agents: %d, to outbound-only lines: %d", toICM, toLine)
		Expect(problems).To(BeEmpty())
	})
})

var _ = Describe("outbound dialing: compliance", Label("dialer", "dialer-compliance"), dialerPriority, func() {
	It("[D3.1] no live answer waits more than 2 s for an agent: abandoned calls hear the safe-harbour message on the port and are then cleared", func() {
		needDialer(predFx, ratioFx)
		var ratio dialerSnapshot
		var rv poolVerdict
		ratio = waitDialer(ratioFx, 30*time.Second, func(g Gomega, s dialerSnapshot) {
			rv = s.poolProblems()
			g.Expect(len(rv.Harbors)).To(BeNumerically(">=", 3), "abandoned calls cleared from their port")
			g.Expect(rv.Transferred).To(BeNumerically(">=", 5), "calls transferred")
		})
		pred := waitDialer(predFx, 30*time.Second, func(g Gomega, s dialerSnapshot) {})
		for _, s := range []dialerSnapshot{ratio, pred} {
			v := s.poolProblems()
			evidence("%s (%s): %d live answers, %d transferred (waits %s), %d abandoned (cleared after %s), %d pending",
				s.f.name, s.f.sc.Controller.Pacing.Strategy, v.Live, v.Transferred, durations(v.Waits), v.Abandoned, durations(v.Harbors), v.Pending)
			Expect(v.Problems).To(BeEmpty(), "%s", s.f.name)
		}
	})

	It("[D3.2] no call is given up as not answered sooner than 15 s after the customer's phone started ringing", func() {
		needDialer(progFx, predFx, ratioFx)
		var all []time.Duration
		for _, f := range []*fixture{progFx, predFx, ratioFx} {
			s := waitDialer(f, 25*time.Second, func(g Gomega, s dialerSnapshot) {
				g.Expect(s.count(notAnswered)).To(BeNumerically(">=", 2), "calls not answered")
			})
			rings, problems := s.ringProblems()
			evidence("%s: no-answer ring times %s", f.name, durations(rings))
			Expect(problems).To(BeEmpty(), "%s", f.name)
			all = append(all, rings...)
		}
		Expect(len(all)).To(BeNumerically(">=", 6))
	})

	It("[D3.3] the predictive strategy's abandons are not significantly above the campaign's abandon limit", func() {
		needDialer(predFx)
		limit := predFx.sc.Controller.Pacing.AbandonLimit
		var v poolVerdict
		waitDialer(predFx, 40*time.Second, func(g Gomega, s dialerSnapshot) {
			v = s.poolProblems()
			g.Expect(v.Live).To(BeNumerically(">=", 15), "live answers")
		})
		p := binomialTail(v.Live, v.Abandoned, limit)
		st := predFx.status().Report.Pool
		ctl := "no pool report"
		if st != nil {
			ctl = fmt.Sprintf("%d abandoned of %d live answers (%.1f %%), %d late connects", st.Abandoned, st.LiveAnswered, 100*st.AbandonRate, st.LateConnects)
		}
		evidence("%s: on the wire %d abandoned of %d live answers (%.1f %%, limit %.1f %%, P(≥ %d | rate at the limit) = %.4f); the controller reports %s",
			predFx.name, v.Abandoned, v.Live, 100*float64(v.Abandoned)/float64(max(v.Live, 1)), 100*limit, v.Abandoned, p, ctl)
		Expect(p).To(BeNumerically(">=", 0.001), "%d abandoned of %d live answers is significantly above the limit %.1f %%", v.Abandoned, v.Live, 100*limit)
	})
})

// dialerTranscripts attaches the dialer labs' recordings to a failing
// dialer spec.
func dialerTranscripts(labels []string) {
	for _, f := range dialerFixtures(labels) {
		f.attachTranscripts(nil)
	}
}
