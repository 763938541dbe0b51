package lab

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/ipcclab/ipcclab/controller"
	"github.com/ipcclab/ipcclab/emulator/centre"
	"github.com/ipcclab/ipcclab/emulator/icm"
	"github.com/ipcclab/ipcclab/emulator/pg"
	"github.com/ipcclab/ipcclab/protocol/cti"
	"github.com/ipcclab/ipcclab/scenarios"
)

// DefaultSampleEvery is how often a Timeline samples the centre when
// Timeline.Every is zero: a minute shows the queue build up and drain
// around a peak without making a two-week run heavy.
const DefaultSampleEvery = time.Minute

// simStep is how far the simulation runs between two checks of the context
// (and two progress reports) when no sample falls due sooner.
const simStep = 10 * time.Minute

// Timeline is a simulated day as it unfolded: the centre sampled at fixed
// virtual times, and every blending move as the controller sent it. Pass
// one in SimOptions.Timeline with Every set; Simulate fills the rest. Its
// JSON form is what the charts are drawn from, and for a given scenario and
// seed it is identical from run to run.
type Timeline struct {
	// Every is the sampling interval in virtual time (0:
	// DefaultSampleEvery).
	Every time.Duration `json:"-"`

	Scenario      string    `json:"scenario"`
	Seed          uint64    `json:"seed"`
	Start         time.Time `json:"start"`
	End           time.Time `json:"end"`
	SampleSeconds float64   `json:"sample_seconds"`
	// ServiceLevelTarget is the blending policy's target (the scenario's
	// controller.blend.service_level_target), the line the service level
	// is judged against.
	ServiceLevelTarget float64 `json:"service_level_target"`
	// AbandonLimit is the campaign's limit on abandoned outbound calls
	// over live answers (controller.pacing.abandon_limit).
	AbandonLimit float64 `json:"abandon_limit"`
	// LinesPerAgent is the configured dial level of the per-agent pacer
	// (controller.pacing.lines_per_agent; 0 in pool and preview mode,
	// where the strategy decides).
	LinesPerAgent float64 `json:"lines_per_agent"`
	// Samples are taken at Start, every Every after it, and at End.
	Samples []Sample `json:"samples"`
	// Moves are the blending moves in the order the controller made them.
	Moves []BlendMove `json:"moves"`
	// HalfHours are the completed half-hour intervals, as in the Report
	// but with their start as a time.
	HalfHours []HalfHour `json:"half_hours"`
}

// HalfHour is one completed half-hour of inbound traffic, all call types.
type HalfHour struct {
	Start        time.Time `json:"start"`
	Offered      int       `json:"offered"`
	Answered     int       `json:"answered"`
	Abandoned    int       `json:"abandoned"`
	ServiceLevel float64   `json:"service_level"`
}

// Sample is the centre at one virtual instant.
type Sample struct {
	At time.Time `json:"at"`
	// InQueue counts inbound calls in the router queue; LongestWaitSeconds
	// is the longest of them's wait.
	InQueue            int `json:"in_queue"`
	LongestWaitSeconds int `json:"longest_wait_seconds"`
	// ServiceLevelHalf is the service level of the current half-hour so
	// far and ServiceLevelTo5 of the rolling five minutes, each combining
	// the call types per their ServiceLevelType; -1 when no call has
	// counted yet in that window.
	ServiceLevelHalf float64 `json:"service_level_half"`
	ServiceLevelTo5  float64 `json:"service_level_to5"`
	// Offered, Answered and Abandoned are the inbound calls since the start.
	Offered   int         `json:"offered"`
	Answered  int         `json:"answered"`
	Abandoned int         `json:"abandoned"`
	Agents    AgentStates `json:"agents"`
	// Dialing counts outbound calls placed and not yet answered or failed;
	// OutboundAgents the controller's agents not lent to inbound; DialLevel
	// is Dialing per OutboundAgent.
	Dialing        int     `json:"dialing"`
	OutboundAgents int     `json:"outbound_agents"`
	DialLevel      float64 `json:"dial_level"`
	// OutboundAbandonRate is the campaign's abandon rate so far: the pool
	// controller's own figure in pool mode (Ofcom's where configured), the
	// centre's abandoned over live answers otherwise.
	OutboundAbandonRate float64 `json:"outbound_abandon_rate"`
	// Lent counts the blended agents the controller has lent to inbound.
	Lent int `json:"lent"`
	// CountedHalf and CountedTo5 are the calls the two service levels are
	// taken over, CallTypes each call type's figures, Reserved the agents
	// in RESERVED and since when, OutboundAnswers the live answers the
	// outbound abandon rate is taken over: what the alerts judge
	// (alerts.go).
	CountedHalf     int              `json:"counted_half,omitempty"`
	CountedTo5      int              `json:"counted_to5,omitempty"`
	CallTypes       []CallTypeSample `json:"call_types,omitempty"`
	Reserved        []ReservedSample `json:"reserved,omitempty"`
	OutboundAnswers int              `json:"outbound_answers,omitempty"`
}

// AgentStates counts the logged-in agents by what they are doing. ICM
// agents are counted by their PG state, outbound-only agents (CallManager
// lines) by whether their line has a call; the fields add up to LoggedIn.
type AgentStates struct {
	// TalkingInbound: talking, on hold or busy on another call, inbound.
	TalkingInbound int `json:"talking_inbound"`
	// TalkingOutbound: ICM agents on an outbound call, and lines with a
	// call.
	TalkingOutbound int `json:"talking_outbound"`
	Reserved        int `json:"reserved"`
	Ready           int `json:"ready"`
	// NotReady includes blended agents working outbound between calls
	// (the controller keeps them NOT_READY) and agents logging in.
	NotReady int `json:"not_ready"`
	WrapUp   int `json:"wrap_up"`
	// OutboundIdle: lines without a call (outbound-only agents between
	// calls).
	OutboundIdle int `json:"outbound_idle"`
	LoggedIn     int `json:"logged_in"`
}

// BlendMove is one SET_AGENT_STATE_REQ the controller sent to lend a
// blended agent to inbound (AVAILABLE) or return it to outbound
// (NOT_READY).
type BlendMove struct {
	At    time.Time `json:"at"`
	Agent string    `json:"agent"`
	// Kind is "lend" or "return".
	Kind string `json:"kind"`
}

// Blend move kinds.
const (
	MoveLend   = "lend"
	MoveReturn = "return"
)

// timelineRun samples one Simulate run into its Timeline. A nil
// *timelineRun is a run without a timeline: its methods do nothing.
type timelineRun struct {
	tl    *Timeline
	cen   *centre.Centre
	core  *controller.Core
	pv    cti.ProtocolVersion
	ports map[string]bool
	ctrl  int // the controller's agents
	pool  bool
	next  time.Time
	end   time.Time
	err   error // the first frame the move watcher could not decode
	// onSample, when set, sees each sample as it is taken (the alerts).
	onSample func(Sample)
}

// startTimeline prepares tl for a run of sc from start to end, and takes
// the first sample (nothing has happened yet).
func startTimeline(tl *Timeline, sc *scenarios.Scenario, seed uint64, cen *centre.Centre, core *controller.Core,
	ccfg controller.Config, start, end time.Time) (*timelineRun, error) {
	if tl == nil {
		return nil, nil
	}
	if tl.Every < 0 {
		return nil, fmt.Errorf("lab: timeline sampling interval must be positive, got %v", tl.Every)
	}
	if tl.Every == 0 {
		tl.Every = DefaultSampleEvery
	}
	*tl = Timeline{Every: tl.Every, Scenario: sc.Name, Seed: seed, Start: start, End: end,
		SampleSeconds: tl.Every.Seconds(), AbandonLimit: sc.Controller.Pacing.AbandonLimit,
		Samples: []Sample{}, Moves: []BlendMove{}, HalfHours: []HalfHour{}}
	if sc.Controller.Blend.Enabled {
		tl.ServiceLevelTarget = sc.Controller.Blend.ServiceLevelTarget
	}
	r := &timelineRun{tl: tl, cen: cen, core: core, pv: ccfg.Version, ports: map[string]bool{},
		ctrl: len(ccfg.Agents), pool: ccfg.Pool != nil, next: start, end: end}
	if ccfg.Pool == nil && ccfg.Preview == nil {
		tl.LinesPerAgent = ccfg.Pacer.LinesPerAgent
	}
	for _, p := range cen.DialerPorts() {
		r.ports[p] = true
	}
	r.observe(start)
	return r, nil
}

// nextStop is where the simulation should pause next after t: the next
// sample, at most simStep on, never beyond the end.
func (r *timelineRun) nextStop(t, end time.Time) time.Time {
	stop := t.Add(simStep)
	if r != nil && r.next.Before(stop) {
		stop = r.next
	}
	if stop.After(end) {
		stop = end
	}
	return stop
}

// observe samples the centre if a sample is due at now (the loop has run
// every event up to now and no further).
func (r *timelineRun) observe(now time.Time) {
	if r == nil || (now.Before(r.next) && !now.Equal(r.end)) {
		return
	}
	r.tl.Samples = append(r.tl.Samples, r.sample(now))
	if r.onSample != nil {
		r.onSample(r.tl.Samples[len(r.tl.Samples)-1])
	}
	for !r.next.After(now) {
		r.next = r.next.Add(r.tl.Every)
	}
}

// watch wraps the controller-to-server frame sink to record the blending
// moves as they go on the wire, at the virtual time they are sent.
func (r *timelineRun) watch(now func() time.Time, toServer func([]byte)) func([]byte) {
	if r == nil {
		return toServer
	}
	return func(f []byte) {
		// The message type is the header's second word: only
		// SET_AGENT_STATE_REQ is decoded, the rest pass untouched.
		if len(f) >= cti.HeaderSize && cti.MessageType(binary.BigEndian.Uint32(f[4:8])) == cti.MsgSetAgentStateReq {
			r.move(now(), f)
		}
		toServer(f)
	}
}

func (r *timelineRun) move(at time.Time, f []byte) {
	m, err := cti.DecodeMessage(f, r.pv)
	if err != nil {
		if r.err == nil {
			r.err = fmt.Errorf("lab: timeline: SET_AGENT_STATE_REQ at %s: %w", at.Format("15:04:05.000"), err)
		}
		return
	}
	req, ok := m.(*cti.SetAgentStateReq)
	if !ok {
		return
	}
	switch req.AgentState {
	case cti.AgentStateAvailable:
		r.tl.Moves = append(r.tl.Moves, BlendMove{At: at, Agent: req.AgentID, Kind: MoveLend})
	case cti.AgentStateNotReady:
		r.tl.Moves = append(r.tl.Moves, BlendMove{At: at, Agent: req.AgentID, Kind: MoveReturn})
	}
}

// finish copies the completed half-hours from the centre's report, the
// figures the run's Report has.
func (r *timelineRun) finish() error {
	if r == nil {
		return nil
	}
	for _, h := range r.cen.Report().Inbound.HalfHours {
		r.tl.HalfHours = append(r.tl.HalfHours, HalfHour{Start: h.Start, Offered: int(h.Offered), Answered: int(h.Answered),
			Abandoned: int(h.Abandoned), ServiceLevel: round(h.ServiceLevel, 4)})
	}
	return r.err
}

func (r *timelineRun) sample(now time.Time) Sample {
	s := sampleCentre(now, r.cen, r.core.Status(), r.ports, r.ctrl, r.pool)
	r.sampleForAlerts(&s)
	return s
}

// sampleCentre reads the centre's figures at now, on the loop that runs
// it: the timeline's samples and the live dashboard's headline (live.go).
// st is the controller's status, ports the dialer ports' extensions (not
// agents' phones), ctrl the number of the controller's agents and pool
// whether it paces in pool mode.
func sampleCentre(now time.Time, cen *centre.Centre, st controller.Status, ports map[string]bool, ctrl int, pool bool) Sample {
	s := Sample{At: now, ServiceLevelHalf: -1, ServiceLevelTo5: -1}
	router := cen.Router()
	s.InQueue = router.Queued()
	var half, to5 slSum
	for _, ct := range router.CallTypes() {
		if st, err := router.CallTypeStats(ct.ID); err == nil && int(st.RouterLongestCallQ) > s.LongestWaitSeconds {
			s.LongestWaitSeconds = int(st.RouterLongestCallQ)
		}
		if k, err := router.CallTypeCounters(ct.ID, icm.Run); err == nil {
			s.Offered += int(k.CallsOffered)
			s.Answered += int(k.CallsAnswered)
			s.Abandoned += int(k.Abandoned())
		}
		if k, err := router.CallTypeCounters(ct.ID, icm.ToHalf); err == nil {
			half.add(ct.ServiceLevelType, k)
		}
		if k, err := router.CallTypeCounters(ct.ID, icm.To5); err == nil {
			to5.add(ct.ServiceLevelType, k)
		}
	}
	s.ServiceLevelHalf, s.ServiceLevelTo5 = half.level(), to5.level()

	for _, a := range cen.PG().Agents() {
		if !a.LoggedOn {
			continue
		}
		s.Agents.LoggedIn++
		switch a.State {
		case pg.StateTalking, pg.StateHold, pg.StateBusyOther:
			if outbound(a.Direction) {
				s.Agents.TalkingOutbound++
			} else {
				s.Agents.TalkingInbound++
			}
		case pg.StateReserved:
			s.Agents.Reserved++
		case pg.StateAvailable:
			s.Agents.Ready++
		case pg.StateWorkReady, pg.StateWorkNotReady:
			s.Agents.WrapUp++
		default: // NOT_READY, LOGIN, UNKNOWN
			s.Agents.NotReady++
		}
	}
	for _, l := range cen.PG().Lines() {
		if ports[l.Extension] {
			continue // a dialer port, nobody's phone
		}
		s.Agents.LoggedIn++
		if l.CallID != 0 {
			s.Agents.TalkingOutbound++
		} else {
			s.Agents.OutboundIdle++
		}
	}

	o := cen.Outbound()
	s.Dialing = o.Attempts - o.Connects - o.Abandoned - o.Busy - o.NoAnswer - o.Failed
	s.Lent = len(st.Report.Lent)
	s.OutboundAgents = ctrl - s.Lent
	if s.OutboundAgents > 0 {
		s.DialLevel = round(float64(s.Dialing)/float64(s.OutboundAgents), 4)
	}
	switch {
	case pool && st.Report.Pool != nil:
		s.OutboundAbandonRate = round(st.Report.Pool.AbandonRate, 5)
	case o.Connects+o.Abandoned > 0:
		s.OutboundAbandonRate = round(float64(o.Abandoned)/float64(o.Connects+o.Abandoned), 5)
	}
	s.ServiceLevelHalf, s.ServiceLevelTo5 = round(s.ServiceLevelHalf, 4), round(s.ServiceLevelTo5, 4)
	return s
}

// outbound reports whether a PG call direction is an outbound call.
func outbound(d pg.Direction) bool {
	switch d {
	case pg.DirectionOut, pg.DirectionOtherOut, pg.DirectionOutboundReserve, pg.DirectionOutboundPreview, pg.DirectionOutboundPredictive:
		return true
	}
	return false
}

// slSum combines the service level of call types of different
// ServiceLevelTypes the way the centre's report does (ipcc-behaviour.md
// §1.3): numerators and denominators add up, not the ratios.
type slSum struct{ num, den float64 }

func (s *slSum) add(t icm.SLType, c icm.Counters) {
	switch t {
	case icm.SLIgnoreAbandons:
		s.num += float64(c.ServiceLevelCalls)
		s.den += float64(c.ServiceLevelCallsOffered - c.ServiceLevelAband)
	case icm.SLAbandonsPositive:
		s.num += float64(c.ServiceLevelCalls + c.ServiceLevelAband)
		s.den += float64(c.ServiceLevelCallsOffered)
	default:
		s.num += float64(c.ServiceLevelCalls)
		s.den += float64(c.ServiceLevelCallsOffered)
	}
}

// level is the combined service level, -1 when no call counted.
func (s slSum) level() float64 {
	if s.den <= 0 {
		return -1
	}
	return s.num / s.den
}
