// Package dialer is the reference controller's outbound pacing for this
// slice: a progressive pacer and the abandon accounting that goes with it.
//
// Role in the documented call flow: outbound runs on the blended agents while
// inbound meets its service level. In step (2), when controller/blend finds
// inbound behind, it lowers the outbound pacing factor before it lends any
// agent; this package applies that factor, so fewer calls are launched and
// agents are left idle on outbound, which is what lets blend lend them. In
// step (6) blend ramps the factor back to 1 and outbound resumes smoothly.
//
// Progressive dialing (dialer-anchors.md §2.2–2.3, table F of §5.6) places a
// fixed number of lines per idle agent; each call is dialed for one specific
// agent (the adapter sends MAKE_PREDICTIVE_CALL_REQ with that agent's
// instrument as the originating device), so an answered call normally finds
// its agent. It can still be abandoned when the agent is gone by then, or
// when LinesPerAgent > 1 and two calls for one agent both answer; Abandons
// counts that over live answers, the measure the FTC/FCC 3 % rule and
// VICIdial's drop % use (§1.4, §3).
//
// Pure core (design.md): time is an input, no clocks, goroutines or sockets.
package dialer

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// Config configures the progressive pacer.
type Config struct {
	// LinesPerAgent is the lines dialed per idle agent per decision, ≥ 1 and
	// ≤ 100 (Cisco's range, §2.3). A fraction is honoured over successive
	// decisions: the remainder is carried, so 1.5 alternates 1 and 2 lines
	// for a single idle agent.
	LinesPerAgent float64
	// MaxLinesInFlight caps the calls dialing at once (≥ 1): the trunk or
	// campaign limit.
	MaxLinesInFlight int
}

// DefaultConfig is one line per idle agent (UCCX's default linesPerAgent,
// §2.3) and at most 100 calls in flight.
func DefaultConfig() Config { return Config{LinesPerAgent: 1, MaxLinesInFlight: 100} }

// Validate reports every invalid field, each error naming it.
func (c Config) Validate() error {
	var errs []error
	if !(c.LinesPerAgent >= 1 && c.LinesPerAgent <= 100) {
		errs = append(errs, fmt.Errorf("dialer: Config.LinesPerAgent %v: want 1 ≤ lines ≤ 100", c.LinesPerAgent))
	}
	if c.MaxLinesInFlight < 1 {
		errs = append(errs, fmt.Errorf("dialer: Config.MaxLinesInFlight %d: want ≥ 1", c.MaxLinesInFlight))
	}
	return errors.Join(errs...)
}

// Agent is an outbound agent the adapter offers the pacer: idle, not
// reserved, not lent to inbound (blend.Decision.Lent), with no call in flight
// for it.
type Agent struct {
	ID         string    // CTI AgentID
	Instrument string    // the agent's instrument, passed through to Launch
	IdleSince  time.Time // zero = unknown, sorts as idle longest
}

// Input is what one pacing decision reads.
type Input struct {
	Now           time.Time
	IdleAgents    []Agent
	CallsInFlight int     // calls dialed and not yet connected or finished
	PacingFactor  float64 // from blend.Decision.PacingFactor, 0..1
}

// Launch is one call to dial now for one agent.
type Launch struct {
	AgentID    string
	Instrument string // originating device for MAKE_PREDICTIVE_CALL_REQ
}

// Plan is the outcome of one pacing decision.
type Plan struct {
	Launches []Launch
	Desired  float64 // LinesPerAgent × PacingFactor × idle agents + carry in
	Carry    float64 // fraction of a line carried to the next decision, in [0,1)
	Capped   bool    // MaxLinesInFlight (or the per-agent limit) cut the launches
}

func (p Plan) String() string {
	ids := make([]string, len(p.Launches))
	for i, l := range p.Launches {
		ids[i] = l.AgentID
	}
	return fmt.Sprintf("launch=%d [%s] desired=%.3f carry=%.3f capped=%v", len(p.Launches), strings.Join(ids, ","), p.Desired, p.Carry, p.Capped)
}

// Pacer is the progressive pacer. It carries the fractional line between
// decisions, so the adapter should call Pace once per decision tick (the
// blend poll), not once per agent event: the carry is per decision.
type Pacer struct {
	cfg     Config
	carry   float64
	last    time.Time
	started bool
}

// NewPacer validates cfg and returns a pacer with nothing carried.
func NewPacer(cfg Config) (*Pacer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Pacer{cfg: cfg}, nil
}

// Config returns the pacer's configuration.
func (p *Pacer) Config() Config { return p.cfg }

// lineEpsilon keeps binary rounding from losing a whole line:
// 1.0 × 0.7 × 10 must give 7 lines, not 6 and a carry of 0.999….
const lineEpsilon = 1e-9

// Pace decides how many calls to launch now and for which agents:
// floor(LinesPerAgent × PacingFactor × idle agents + carry), at most
// MaxLinesInFlight − CallsInFlight and at most ceil(LinesPerAgent) per agent.
// Agents idle longest get calls first, ties by agent ID; with more lines than
// agents the calls go round the agents again. The fraction left over is
// carried to the next decision (even when the cap binds, so the carry stays
// below one line and never builds a burst). It fails, changing nothing, on
// malformed input.
func (p *Pacer) Pace(in Input) (Plan, error) {
	if p.started && in.Now.Before(p.last) {
		return Plan{}, fmt.Errorf("dialer: Input.Now %s is before the previous decision at %s", in.Now.Format(time.RFC3339Nano), p.last.Format(time.RFC3339Nano))
	}
	if !(in.PacingFactor >= 0 && in.PacingFactor <= 1) {
		return Plan{}, fmt.Errorf("dialer: Input.PacingFactor %v: want 0 ≤ factor ≤ 1", in.PacingFactor)
	}
	if in.CallsInFlight < 0 {
		return Plan{}, fmt.Errorf("dialer: Input.CallsInFlight %d: want ≥ 0", in.CallsInFlight)
	}
	seen := map[string]bool{}
	for _, a := range in.IdleAgents {
		if a.ID == "" || seen[a.ID] {
			return Plan{}, fmt.Errorf("dialer: Input.IdleAgents: agent ID %q empty or repeated", a.ID)
		}
		seen[a.ID] = true
	}
	p.started, p.last = true, in.Now

	n := len(in.IdleAgents)
	desired := p.cfg.LinesPerAgent*in.PacingFactor*float64(n) + p.carry
	want := int(math.Floor(desired + lineEpsilon))
	p.carry = max(0, desired-float64(want))
	if p.carry >= 1 { // only through lineEpsilon; keep the documented range
		p.carry = 0
	}
	plan := Plan{Desired: desired, Carry: p.carry}

	perAgent := int(math.Ceil(p.cfg.LinesPerAgent - lineEpsilon))
	k := min(want, n*perAgent)
	if room := max(0, p.cfg.MaxLinesInFlight-in.CallsInFlight); k > room {
		k = room
	}
	plan.Capped = k < want

	agents := slices.Clone(in.IdleAgents)
	slices.SortFunc(agents, func(a, b Agent) int {
		if c := a.IdleSince.Compare(b.IdleSince); c != 0 {
			return c
		}
		return compareIDs(a.ID, b.ID)
	})
	for i := range k {
		a := agents[i%n]
		plan.Launches = append(plan.Launches, Launch{AgentID: a.ID, Instrument: a.Instrument})
	}
	return plan, nil
}

// compareIDs orders agent IDs numerically when both are decimal numbers,
// otherwise as strings (the same order controller/blend uses).
func compareIDs(a, b string) int {
	digits := func(s string) bool {
		if s == "" {
			return false
		}
		for i := 0; i < len(s); i++ {
			if s[i] < '0' || s[i] > '9' {
				return false
			}
		}
		return true
	}
	if digits(a) && digits(b) {
		ta, tb := strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
		if len(ta) != len(tb) {
			return len(ta) - len(tb)
		}
		if c := strings.Compare(ta, tb); c != 0 {
			return c
		}
	}
	return strings.Compare(a, b)
}

// Abandons counts outbound calls answered by a live person and those of them
// abandoned because no agent took the call (VICIdial's DROP, Cisco's dialer
// abandon; §1.4). Answering machines, busy, no-answer and calls the customer
// hung up within the abandoned-call wait are not live answers and must not be
// recorded. The zero value is ready to use; the window (day, 24 h, 30 days,
// §3) is the caller's: keep one Abandons per window.
type Abandons struct {
	LiveAnswered int64 // calls answered by a live person
	Abandoned    int64 // of those, calls that found no agent
	// Machines are answering machines an agent dispositioned: not live
	// answers, only the AM of the UK formula (RateUK).
	Machines int64
}

// Answered records one live-answered call; agentConnected is false when no
// agent was connected, which makes it an abandoned call.
func (a *Abandons) Answered(agentConnected bool) {
	a.LiveAnswered++
	if !agentConnected {
		a.Abandoned++
	}
}

// Add merges another count (e.g. campaigns sharing one drop-rate group).
func (a *Abandons) Add(o Abandons) {
	a.LiveAnswered += o.LiveAnswered
	a.Abandoned += o.Abandoned
	a.Machines += o.Machines
}

// Rate is Abandoned / LiveAnswered, 0 before any live answer.
func (a Abandons) Rate() float64 {
	if a.LiveAnswered == 0 {
		return 0
	}
	return float64(a.Abandoned) / float64(a.LiveAnswered)
}

// Within reports whether the rate is at most limit (e.g. 0.03 for the US
// 3 % safe harbour).
func (a Abandons) Within(limit float64) bool { return a.Rate() <= limit }
