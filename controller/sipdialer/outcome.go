package sipdialer

import (
	"fmt"
	"time"

	"github.com/ipcclab/ipcclab/controller/dialer"
	"github.com/ipcclab/ipcclab/internal/media"
)

// Outcome is how one dial attempt ended (the disposition the campaign
// records; Cisco's outcome counters in parentheses, ipcc-behaviour.md §4.5).
type Outcome int

// Outcomes.
const (
	OutcomeNone Outcome = iota
	// OutcomeLiveConnected: a person answered and was transferred to the
	// reserved agent within ConnectWithin of the end of the greeting
	// (voice).
	OutcomeLiveConnected
	// OutcomeLiveAbandoned: a person answered and no agent was connected
	// in time (Live said none, the transfer failed or was late); the
	// safe-harbour message was played and the dialer hung up. This is the
	// abandon of the 3 % rules (abandonDetect).
	OutcomeLiveAbandoned
	// OutcomeMachine: an answering machine (answeringMachine), with the
	// machine treatment applied (Result.Treatment, TreatmentDone).
	OutcomeMachine
	// OutcomeFax: a fax or modem answered (fax).
	OutcomeFax
	// OutcomeSIT: special information tones heard after the far end
	// answered (sitTone); Result.SIT says which.
	OutcomeSIT
	// OutcomeVacant: unallocated number or code (404/484/410, Q.850 1, 2,
	// 3, 22, 28; SIT intercept or vacant code as early media).
	OutcomeVacant
	// OutcomeNoCircuit: no circuit or network unavailable (503, Q.850 34,
	// 38, 41, 47, 58; SIT no circuit).
	OutcomeNoCircuit
	// OutcomeReorder: congestion (Q.850 42; SIT reorder).
	OutcomeReorder
	// OutcomeBusy: user busy (486/600, Q.850 17; busy).
	OutcomeBusy
	// OutcomeNoAnswer: the phone rang for the whole ring time and the
	// dialer cancelled (487), or the network gave up (480/408, Q.850 18,
	// 19) (noAnswer).
	OutcomeNoAnswer
	// OutcomeNoRingback: the network never reported the phone alerting
	// (no 180) within the ring time plus Config.SetupAllowance
	// (noRingBack).
	OutcomeNoRingback
	// OutcomeHungUp: the far end answered and hung up before it was
	// connected or treated (customerAbandon when live).
	OutcomeHungUp
	// OutcomeDeadAir: answered, nothing heard (Config.DeadAirHangsUp).
	OutcomeDeadAir
	// OutcomeFailed: any other failure (Result.SIPStatus, Q850).
	OutcomeFailed
	// OutcomeNotPlaced: no INVITE left (BeforeInvite failed, or the
	// context ended first).
	OutcomeNotPlaced
	// OutcomeCancelled: Dial's context ended the attempt (cancelled).
	OutcomeCancelled
)

var outcomeNames = [...]string{"none", "live-connected", "live-abandoned", "machine", "fax", "sit", "vacant", "no-circuit",
	"reorder", "busy", "no-answer", "no-ringback", "hung-up", "dead-air", "failed", "not-placed", "cancelled"}

func (o Outcome) String() string {
	if o >= 0 && int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return fmt.Sprintf("Outcome(%d)", int(o))
}

// Live reports whether a person answered (the calls the abandon rate is
// measured over: connected plus abandoned).
func (o Outcome) Live() bool { return o == OutcomeLiveConnected || o == OutcomeLiveAbandoned }

// MachineTreatment is what the dialer does with an answering machine.
type MachineTreatment int

// Machine treatments (Cisco's amdTreatmentMode, dialer-anchors.md §2.3).
const (
	// MachineHangUp ends the call at once (END_CALL / "abandon").
	MachineHangUp MachineTreatment = iota
	// MachineLeaveMessage waits for the greeting's terminating beep (up to
	// the AMD's MaxTermToneAnalysis), plays the machine message, then
	// hangs up.
	MachineLeaveMessage
	// MachineToIVR transfers the call to Config.MachineIVR with REFER
	// (TRANSFER_TO_IVR).
	MachineToIVR
)

func (t MachineTreatment) String() string {
	switch t {
	case MachineHangUp:
		return "hang-up"
	case MachineLeaveMessage:
		return "leave-message"
	case MachineToIVR:
		return "transfer-to-ivr"
	}
	return fmt.Sprintf("MachineTreatment(%d)", int(t))
}

// Result is what one attempt came to.
type Result struct {
	AttemptID string
	Number    string
	// CallID is the SIP Call-ID of the INVITE to the gateway.
	CallID  string
	Outcome Outcome
	// SIPStatus is the final response to the INVITE (200 when answered,
	// 487 when the dialer cancelled, 0 when none came); SIPReason its
	// phrase and Q850 the cause of its Reason header (0: none).
	SIPStatus int
	SIPReason string
	Q850      int
	// SIT is the special information tone heard, as early media before a
	// failure or after an answer (SITNone: none).
	SIT media.SITKind
	// AMD is the call progress analysis result for an answered call;
	// AMDAfter the audio time from the answer to the decision.
	AMD      dialer.CPAResult
	AMDAfter time.Duration
	// Times (wall clock; zero when it did not happen): the INVITE left,
	// the far end alerted (180), answered (200), the AMD decided, the
	// greeting ended (decision minus the silence the detector needs), the
	// transfer completed (NOTIFY 200), the attempt ended.
	Invited, Alerted, Answered, Decided, GreetingEnd, Connected, Ended time.Time
	// RingTime is how long the phone rang (alerting to answer or cancel).
	RingTime time.Duration
	// ConnectDelay is from the end of the greeting to the customer's
	// transfer completing (the 2-second rule's measure), for
	// OutcomeLiveConnected.
	ConnectDelay time.Duration
	// Agent is the extension Live returned (also when it could not be
	// used: the caller must release that reservation unless Outcome is
	// OutcomeLiveConnected).
	Agent string
	// LateTransfer: the transfer completed after the ConnectWithin
	// deadline, when the safe-harbour message had started (still counted
	// abandoned).
	LateTransfer bool
	// Treatment is the machine treatment applied and TreatmentDone whether
	// it completed (message played to its end, or IVR transfer accepted).
	Treatment     MachineTreatment
	TreatmentDone bool
	// Beep: a machine's terminating beep was heard before the message.
	Beep bool
	// MessagePlayed is how long the safe-harbour or machine message played.
	MessagePlayed time.Duration
	// Err is the error of a failed BeforeInvite, or of the transport.
	Err error
}

func (r Result) String() string {
	s := fmt.Sprintf("attempt %s to %s: %s (SIP %d", r.AttemptID, r.Number, r.Outcome, r.SIPStatus)
	if r.Q850 != 0 {
		s += fmt.Sprintf(", Q.850 %d", r.Q850)
	}
	s += ")"
	if r.SIT != media.SITNone {
		s += " SIT " + r.SIT.String()
	}
	if r.AMD != dialer.CPAPending {
		s += fmt.Sprintf(" AMD %s after %v", r.AMD, r.AMDAfter)
	}
	if r.Outcome == OutcomeLiveConnected {
		s += fmt.Sprintf(" → %s %v after the greeting", r.Agent, r.ConnectDelay)
	}
	return s
}

// classify turns a failed INVITE into an outcome: the Q.850 cause of the
// Reason header when there is one (it is what the network said), else the
// SIT heard as early media, else the status (RFC 3398 §7.2.4.1 read
// backwards).
func classify(status, cause int, sit media.SITKind) Outcome {
	switch cause {
	case 17:
		return OutcomeBusy
	case 18, 19, 20:
		return OutcomeNoAnswer
	case 1, 2, 3, 22, 26, 28:
		return OutcomeVacant
	case 34, 38, 41, 47, 58, 88:
		return OutcomeNoCircuit
	case 42:
		return OutcomeReorder
	}
	switch sit {
	case media.SITIntercept, media.SITVacantCode:
		return OutcomeVacant
	case media.SITNoCircuit:
		return OutcomeNoCircuit
	case media.SITReorder:
		return OutcomeReorder
	}
	switch status {
	case 486, 600:
		return OutcomeBusy
	case 404, 410, 484, 485, 604:
		return OutcomeVacant
	case 408, 480:
		return OutcomeNoAnswer
	case 502, 503:
		return OutcomeNoCircuit
	}
	return OutcomeFailed
}
