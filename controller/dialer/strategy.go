package dialer

import (
	"fmt"
	"time"
)

// A Strategy is one pacing algorithm for a campaign dialed from a pool of
// dialer ports (pool mode): the dialer places calls that belong to no
// particular agent, and a live answer is connected to whichever campaign
// agent is free (within the 2-second rule, dialer-anchors.md §3), or played
// the safe-harbour message and counted abandoned.
//
// The controller calls Decide once per second (the cadence of VICIdial's
// placement loop, §1.2) with the campaign as the wire shows it, and tells the
// strategy how every call it placed ended (Settled) and how long each agent
// spent on a campaign call (Handled). A strategy is a pure core: time is an
// input, randomness (if any) comes from its config, no clocks or goroutines.
//
// The controller, not the strategy, applies the blending pacing factor, the
// port and trunk limits (Snapshot.MaxNew) and the compliance rules (calling
// windows, DNC, ring time, the 2-second rule): a strategy only says how many
// new calls it wants now.
type Strategy interface {
	// Name is the strategy's name in reports ("predictive", "ratio-1.0",
	// "vicidial-hard", …).
	Name() string
	// Decide returns how many new calls to place now (≥ 0). It may return
	// more than Snapshot.MaxNew; the controller places at most MaxNew.
	Decide(s Snapshot) int
	// Settled reports the fate of one call the controller placed.
	Settled(c Settled)
	// Handled reports one campaign call an agent finished: its talk time
	// and the after-call work (wrap-up) that followed.
	Handled(talk, wrap time.Duration)
}

// Phase is what a campaign agent is doing.
type Phase int

const (
	// Ready: idle, waiting for a customer (VICIdial READY; a Cisco
	// reserved agent waiting for a live answer).
	Ready Phase = iota + 1
	// Talking: connected to a customer of the campaign (VICIdial INCALL).
	Talking
	// WrapUp: after-call work (VICIdial's "dead" agent dispositioning).
	WrapUp
)

func (p Phase) String() string {
	switch p {
	case Ready:
		return "ready"
	case Talking:
		return "talking"
	case WrapUp:
		return "wrap-up"
	}
	return fmt.Sprintf("Phase(%d)", int(p))
}

// AgentLoad is one agent working the campaign: logged on, not lent to
// inbound, not on a break.
type AgentLoad struct {
	ID    string
	Phase Phase
	// InPhase is how long the agent has been in Phase.
	InPhase time.Duration
}

// Snapshot is the campaign at one decision.
type Snapshot struct {
	Now time.Time
	// Agents working the campaign now. Agents lent to inbound, logged out
	// or not ready for another reason are not in it.
	Agents []AgentLoad
	// Dialing holds, for each call placed and not yet settled or answered,
	// the time since it was placed.
	Dialing []time.Duration
	// Waiting counts calls answered by a live person and not yet connected
	// to an agent (VICIdial LIVE); each is abandoned if it waits longer
	// than the campaign's connect limit (2 s).
	Waiting int
	// MaxNew is how many calls the controller can place now (free dialer
	// ports, trunk and campaign limits).
	MaxNew int
	// Reserve and InboundRate describe a blended campaign whose idle
	// agents are shared with inbound (the threshold policy,
	// controller/reserve.go), and are only set for a ReservePacer. Agents
	// then lists every blended agent: idle ones (lent to inbound or not)
	// as Ready, those on an inbound or outbound call as Talking. A live
	// answer may take an idle agent only while more than Reserve agents
	// are idle, and inbound callers arrive at InboundRate per second, each
	// taking an idle agent: the pacer dials for the idle agents above the
	// reserve that the next seconds' frees and arrivals leave.
	Reserve     int
	InboundRate float64
	// Borrow is how many of the Reserve a live answer may take (the
	// controller's ReserveConfig.Borrow): an answer is abandoned only when
	// no more than Reserve − Borrow agents are idle, and the pacer keeps
	// the reserve in expectation instead of with near certainty.
	Borrow int
}

// A ReservePacer is a Strategy that paces a blended campaign from the
// shared idle pool itself (Snapshot.Reserve, Snapshot.InboundRate). The
// controller shows any other strategy only the idle agents above the
// reserve, as Ready, and the agents on outbound calls.
type ReservePacer interface {
	Strategy
	PacesReserve()
}

// Count returns the number of agents in phase p.
func (s Snapshot) Count(p Phase) int {
	n := 0
	for _, a := range s.Agents {
		if a.Phase == p {
			n++
		}
	}
	return n
}

// Outcome is how a placed call ended for pacing purposes.
type Outcome int

const (
	// NotAnswered: busy, no answer, network failure or SIT; no person or
	// machine came on the line.
	NotAnswered Outcome = iota + 1
	// Machine: an answering machine or fax answered (AMD said so); no
	// agent was needed.
	Machine
	// Connected: a live person answered and was connected to an agent.
	Connected
	// Abandoned: a live person answered and no agent was free within the
	// connect limit: safe-harbour message, counted as abandoned (DROP).
	Abandoned
)

func (o Outcome) String() string {
	switch o {
	case NotAnswered:
		return "not-answered"
	case Machine:
		return "machine"
	case Connected:
		return "connected"
	case Abandoned:
		return "abandoned"
	}
	return fmt.Sprintf("Outcome(%d)", int(o))
}

// Live reports whether a live person answered (the denominator of the
// abandon rate).
func (o Outcome) Live() bool { return o == Connected || o == Abandoned }

// Settled is the fate of one placed call, reported when it is known: at the
// failure, at AMD's machine decision, at the connection to an agent, or at
// the abandon.
type Settled struct {
	// Placed is when the call was placed; At is when the fate was known.
	Placed, At time.Time
	Outcome    Outcome
}
