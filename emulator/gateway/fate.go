// The gateway's decisions about a call that need no I/O: what a PSTN outcome
// is answered with (provisional, early media, final status and Q.850
// cause) and what the gateway draws per call from its seed. Pure: the
// adapter (gateway.go) and the simulation driver's switching fabric
// (emulator/fabric) both decide through these, so the two drivers agree.

package gateway

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/ipcclab/ipcclab/emulator/pstn"
)

// How a PSTN-model caller behaves once IP-IVR answers: it listens to the
// welcome prompt for CallerKeyDelay, then keys its account number and '#'
// as RFC 4733 events, each pressed for DigitOnMs with DigitGapMs between.
const (
	CallerKeyDelay = 2500 * time.Millisecond
	DigitOnMs      = 100
	DigitGapMs     = 80
)

// How long the in-band tone of a failure plays in the 183 Session Progress
// before the final response: the SIT and the start of its announcement, or
// a second of busy tone.
const (
	SITHold  = 1200 * time.Millisecond
	BusyHold = 1000 * time.Millisecond
)

// CauseOf is the Q.850 cause a PSTN outcome ends an outbound call with.
func CauseOf(o pstn.Outcome) int {
	switch o {
	case pstn.OutcomeBusy:
		return 17
	case pstn.OutcomeNoAnswer:
		return 19
	case pstn.OutcomeNoCircuit:
		return 34
	case pstn.OutcomeReorder:
		return 42
	}
	return 1 // unallocated number (OutcomeFail, vacant number/code)
}

// Rejection is how the gateway fails an outbound call the PSTN did not
// answer: optionally a 183 Session Progress carrying the failure's in-band
// tone for Hold, then the final response Status with a Reason header
// naming Cause.
type Rejection struct {
	// HasEarly: a 183 with early media (Early) comes first. Busy tone and
	// SIT + announcement do; ringback of an unanswered call does not (the
	// 180 already carried it).
	HasEarly bool
	Early    pstn.SoundKind
	Hold     time.Duration
	Status   int
	Reason   string
	Cause    int
}

// ReasonHeader is the value of the final response's Reason header
// (RFC 3326).
func (r Rejection) ReasonHeader() string { return fmt.Sprintf("Q.850;cause=%d", r.Cause) }

// Reject decides the gateway's answer to an outbound call that met o, with
// the gateway's cause map. A cause the map sends as BYE/CANCEL (normal
// clearing, no status of its own) is answered 480.
func Reject(o pstn.Outcome, causes CauseMap) Rejection {
	r := Rejection{Cause: CauseOf(o)}
	r.Status, r.Reason = causes.Status(r.Cause)
	if r.Status == 0 {
		r.Status, r.Reason = StatusDefault, ReasonPhrase(StatusDefault)
	}
	if kind, ok := o.EarlyMedia(); ok && kind != pstn.SoundRingback && o != pstn.OutcomeNoAnswer {
		r.HasEarly, r.Early, r.Hold = true, kind, SITHold
		if kind == pstn.SoundBusy {
			r.Hold = BusyHold
		}
	}
	return r
}

// Draws are the gateway's per-call random draws, from one stream seeded
// with the run's seed: an inbound PSTN-model caller's account number and
// sound seed (Caller), an outbound call's far-end sound seed (Callee). The
// order of calls decides the values, as in the real gateway, where both
// are drawn on the centre's loop.
type Draws struct {
	r        *rand.Rand
	accounts []string
}

// NewDraws seeds the gateway's stream. accounts, when not empty, are the
// account numbers callers key (one drawn per caller, as the simulation's
// centre does); otherwise they are random eight-digit numbers.
func NewDraws(seed uint64, accounts []string) *Draws {
	return &Draws{r: rand.New(rand.NewPCG(seed, 0x6761746577617921)), accounts: accounts}
}

// Caller draws an arriving caller's account number (keyed at IP-IVR) and
// the seed of its voice.
func (d *Draws) Caller() (account string, soundSeed uint64) {
	if n := len(d.accounts); n > 0 {
		account = d.accounts[d.r.IntN(n)]
	} else {
		account = fmt.Sprintf("%08d", d.r.IntN(100_000_000))
	}
	return account, d.r.Uint64()
}

// Callee draws the seed of an outbound call's far-end sounds.
func (d *Draws) Callee() uint64 { return d.r.Uint64() }
