package sipdialer

import (
	"time"

	"github.com/ipcclab/ipcclab/controller/dialer"
	"github.com/ipcclab/ipcclab/internal/media"
)

// The pure core of one dial attempt (design.md): it takes events (the store
// write done, SIP responses, audio frames, the agent lookup's answer, a
// timer tick) with the current time and returns actions (write the record,
// send the INVITE, CANCEL, REFER, play a message, BYE, done). Deadlines are
// absolute times the adapter asks for with next(). No clocks, goroutines or
// sockets here; the AMD is the pure detector of controller/dialer.
//
//	recording ─ok→ inviting ─180→ alerting ─200→ analysing ─live→ awaitAgent ─agent→ transferring ─NOTIFY 2xx→ done (live-connected)
//	    │             │  ring time over: CANCEL → cancelling → done (no-answer)    │  no agent / late / refused → harbour ─message ends→ done (live-abandoned)
//	    └ error → done (not-placed)   └ 4xx/5xx/6xx → done (busy, vacant, …)         └ machine → hang up | awaitBeep → message | ivr

// Analyser is a call progress / answering-machine detector fed 20 ms frames
// (dialer.CPA, dialer.AsteriskAMD).
type Analyser interface {
	Feed(pcm []int16) (dialer.CPAResult, error)
	DecidedAfter() time.Duration
}

// beeper is a detector that keeps listening for a machine's terminating
// beep after deciding machine (dialer.CPA).
type beeper interface {
	Beep() (time.Duration, bool)
}

type state int

const (
	stIdle state = iota
	stRecording
	stInviting
	stAlerting
	stCancelling
	stAnalysing
	stAwaitAgent
	stTransferring
	stHarbour
	stAwaitBeep
	stMessage
	stIVR
	stDone
)

var stateNames = [...]string{"idle", "recording", "inviting", "alerting", "cancelling", "analysing", "await-agent",
	"transferring", "harbour", "await-beep", "message", "ivr", "done"}

func (s state) String() string { return stateNames[s] }

type evKind int

const (
	evStart       evKind = iota
	evRecorded           // err: the store write's result
	evProgress           // code: a provisional response (not 100)
	evAnswered           // 200 OK to the INVITE (ACK sent)
	evFailed             // code, reason, cause: a final non-2xx (or transport failure, code 0)
	evFrame              // pcm: 20 ms of received audio (early media before the answer)
	evTick               // a deadline may have passed
	evAgent              // ext, ok: Live's answer
	evReferAnswer        // code: the final response to our REFER (0: none)
	evNotify             // code: REFER progress (message/sipfrag status)
	evMessageEnd         // the message being played ended
	evRemoteBye          // the far end hung up
	evCancel             // Dial's context ended
)

type event struct {
	kind   evKind
	err    error
	code   int
	reason string
	cause  int
	pcm    []int16
	ext    string
	ok     bool
}

type actKind int

const (
	actRecord       actKind = iota // run BeforeInvite, answer with evRecorded
	actInvite                      // send the INVITE
	actCancelInvite                // CANCEL the pending INVITE
	actAskAgent                    // call Live, answer with evAgent
	actRefer                       // REFER the far end to target
	actPlay                        // play msg on our RTP stream
	actStopAudio                   // stop playing
	actBye                         // hang up our leg
	actDone                        // the attempt is over: result()
)

type message int

const (
	msgSafeHarbour message = iota
	msgMachine
)

type action struct {
	kind   actKind
	target string  // actRefer: the user part of the Refer-To URI
	msg    message // actPlay
}

// coreConfig is the validated part of Config the core needs.
type coreConfig struct {
	RingTimeout    time.Duration // after alerting
	SetupAllowance time.Duration // added before alerting
	ConnectWithin  time.Duration
	// GreetingSilence is the silence after a greeting the detector needs
	// before it calls it live: the greeting ended that long before the
	// decision.
	GreetingSilence time.Duration
	AnalysisTimeout time.Duration // answer to decision, when no audio decides
	BeepWait        time.Duration
	MessageTimeout  time.Duration // safety net for a message's end
	TransferTimeout time.Duration // machine → IVR REFER and NOTIFY
	CancelWait      time.Duration // CANCEL sent, no final response
	Machine         MachineTreatment
	MachineIVR      string
	DeadAirHangsUp  bool
	NewAnalyser     func() Analyser
}

// attempt is one dial attempt's state machine.
type attempt struct {
	cfg coreConfig
	st  state
	res Result

	analyser Analyser
	sit      *media.ToneDetector
	sitSegs  []media.ToneEvent

	pending   Outcome // outcome of a CANCEL we sent
	msgStart  time.Time
	deadline  time.Time // the one deadline of the current state (zero: none)
	referring bool      // a live REFER is in flight (for a late NOTIFY)
}

func newAttempt(cfg coreConfig, id, number string) *attempt {
	return &attempt{cfg: cfg, res: Result{AttemptID: id, Number: number}, sit: media.NewSITDetector()}
}

// next is the deadline to tick at (ok false: none).
func (a *attempt) next() (time.Time, bool) { return a.deadline, !a.deadline.IsZero() && a.st != stDone }

func (a *attempt) done() bool { return a.st == stDone }

func (a *attempt) result() Result { return a.res }

func (a *attempt) answered() bool {
	switch a.st {
	case stAnalysing, stAwaitAgent, stTransferring, stHarbour, stAwaitBeep, stMessage, stIVR:
		return true
	}
	return false
}

// step applies one event at time now.
func (a *attempt) step(ev event, now time.Time) []action {
	if a.st == stDone {
		return nil
	}
	switch ev.kind {
	case evStart:
		if a.st == stIdle {
			a.st = stRecording
			return []action{{kind: actRecord}}
		}
	case evRecorded:
		if a.st != stRecording {
			return nil
		}
		if ev.err != nil {
			a.res.Err = ev.err
			return a.finish(now, OutcomeNotPlaced)
		}
		a.st, a.res.Invited = stInviting, now
		a.deadline = now.Add(a.cfg.RingTimeout + a.cfg.SetupAllowance)
		return []action{{kind: actInvite}}
	case evCancel:
		switch {
		case a.st == stIdle || a.st == stRecording:
			return a.finish(now, OutcomeNotPlaced)
		case a.st == stInviting || a.st == stAlerting:
			return a.cancel(now, OutcomeCancelled)
		case a.answered():
			return a.finish(now, OutcomeCancelled, action{kind: actStopAudio}, action{kind: actBye})
		}
	case evProgress:
		if ev.code == 180 && a.res.Alerted.IsZero() && (a.st == stInviting || a.st == stAlerting) {
			// The far end rings: the ring time counts from here, so the
			// phone rings at least that long (the 15 s rule).
			a.st, a.res.Alerted = stAlerting, now
			a.deadline = now.Add(a.cfg.RingTimeout)
		}
	case evFrame:
		switch {
		case a.st == stInviting || a.st == stAlerting || a.st == stCancelling:
			a.sitSegs = a.sit.Process(ev.pcm, a.sitSegs)
		case a.st == stAnalysing:
			a.sitSegs = a.sit.Process(ev.pcm, a.sitSegs)
			r, err := a.analyser.Feed(ev.pcm)
			if err == nil && r != dialer.CPAPending {
				return a.decide(now, r)
			}
		case a.st == stAwaitBeep:
			_, _ = a.analyser.Feed(ev.pcm)
			if b, ok := a.analyser.(beeper); ok {
				if _, heard := b.Beep(); heard {
					a.res.Beep = true
					return a.play(now, stMessage, msgMachine)
				}
			}
		}
	case evAnswered:
		if a.st != stInviting && a.st != stAlerting && a.st != stCancelling {
			return nil
		}
		// A 200 crossing our CANCEL is a person picking up at the last
		// ring: they are handled like any answer.
		a.res.Answered, a.res.SIPStatus, a.res.SIPReason = now, 200, "OK"
		if !a.res.Alerted.IsZero() {
			a.res.RingTime = now.Sub(a.res.Alerted)
		}
		a.st = stAnalysing
		a.analyser = a.cfg.NewAnalyser()
		a.deadline = now.Add(a.cfg.AnalysisTimeout)
	case evFailed:
		if a.st != stInviting && a.st != stAlerting && a.st != stCancelling {
			return nil
		}
		a.res.SIPStatus, a.res.SIPReason, a.res.Q850 = ev.code, ev.reason, ev.cause
		a.res.Err = ev.err
		a.sitSegs = a.sit.Flush(a.sitSegs)
		a.res.SIT, _ = media.ClassifySIT(a.sitSegs)
		if !a.res.Alerted.IsZero() {
			a.res.RingTime = now.Sub(a.res.Alerted)
		}
		if a.st == stCancelling {
			return a.finish(now, a.pending)
		}
		return a.finish(now, classify(ev.code, ev.cause, a.res.SIT))
	case evTick:
		if a.deadline.IsZero() || now.Before(a.deadline) {
			return nil
		}
		return a.expired(now)
	case evAgent:
		if ev.ok {
			a.res.Agent = ev.ext
		}
		if a.st != stAwaitAgent {
			return nil
		}
		if !ev.ok || ev.ext == "" || !now.Before(a.deadline) {
			return a.play(now, stHarbour, msgSafeHarbour)
		}
		a.st, a.referring = stTransferring, true
		return []action{{kind: actRefer, target: ev.ext}}
	case evReferAnswer:
		if ev.code >= 200 && ev.code < 300 {
			return nil // NOTIFYs follow
		}
		switch a.st {
		case stTransferring:
			a.referring = false
			return a.play(now, stHarbour, msgSafeHarbour)
		case stIVR:
			return a.finish(now, OutcomeMachine, action{kind: actBye})
		}
		a.referring = false
	case evNotify:
		if ev.code < 200 {
			return nil
		}
		ok := ev.code < 300
		switch a.st {
		case stTransferring:
			a.referring = false
			if !ok {
				return a.play(now, stHarbour, msgSafeHarbour)
			}
			a.res.Connected = now
			a.res.ConnectDelay = now.Sub(a.res.GreetingEnd)
			return a.finish(now, OutcomeLiveConnected, action{kind: actBye})
		case stHarbour:
			if ok && a.referring {
				// The transfer we gave up on completed after all: the
				// customer is with the agent, the message stops.
				a.res.LateTransfer = true
				a.referring = false
				return a.finish(now, OutcomeLiveAbandoned, action{kind: actStopAudio}, action{kind: actBye})
			}
			a.referring = false
		case stIVR:
			a.res.TreatmentDone = ok
			return a.finish(now, OutcomeMachine, action{kind: actBye})
		}
	case evMessageEnd:
		switch a.st {
		case stHarbour:
			return a.finish(now, OutcomeLiveAbandoned, action{kind: actBye})
		case stMessage:
			a.res.TreatmentDone = true
			return a.finish(now, OutcomeMachine, action{kind: actBye})
		}
	case evRemoteBye:
		switch a.st {
		case stAnalysing, stAwaitAgent, stTransferring:
			return a.finish(now, OutcomeHungUp)
		case stHarbour:
			return a.finish(now, OutcomeLiveAbandoned, action{kind: actStopAudio})
		case stAwaitBeep, stMessage, stIVR:
			return a.finish(now, OutcomeMachine, action{kind: actStopAudio})
		}
	}
	return nil
}

// expired handles the current state's deadline.
func (a *attempt) expired(now time.Time) []action {
	switch a.st {
	case stInviting:
		return a.cancel(now, OutcomeNoRingback)
	case stAlerting:
		return a.cancel(now, OutcomeNoAnswer)
	case stCancelling:
		// No final response to the CANCELled INVITE: give up on it.
		return a.finish(now, a.pending)
	case stAnalysing:
		// No audio decided within the analysis time: nobody there (or no
		// RTP at all).
		return a.decide(now, dialer.CPADeadAir)
	case stAwaitAgent, stTransferring:
		// The 2-second rule: no agent connected in time.
		return a.play(now, stHarbour, msgSafeHarbour)
	case stAwaitBeep:
		return a.play(now, stMessage, msgMachine)
	case stHarbour:
		return a.finish(now, OutcomeLiveAbandoned, action{kind: actStopAudio}, action{kind: actBye})
	case stMessage:
		return a.finish(now, OutcomeMachine, action{kind: actStopAudio}, action{kind: actBye})
	case stIVR:
		return a.finish(now, OutcomeMachine, action{kind: actBye})
	}
	a.deadline = time.Time{}
	return nil
}

func (a *attempt) cancel(now time.Time, o Outcome) []action {
	a.st, a.pending = stCancelling, o
	a.deadline = now.Add(a.cfg.CancelWait)
	return []action{{kind: actCancelInvite}}
}

// decide acts on the detector's decision.
func (a *attempt) decide(now time.Time, r dialer.CPAResult) []action {
	a.res.AMD, a.res.Decided = r, now
	a.res.AMDAfter = a.analyser.DecidedAfter()
	if r == dialer.CPADeadAir && a.res.AMDAfter == 0 {
		a.res.AMDAfter = now.Sub(a.res.Answered)
	}
	switch r {
	case dialer.CPALive, dialer.CPADeadAir:
		if r == dialer.CPADeadAir && a.cfg.DeadAirHangsUp {
			return a.finish(now, OutcomeDeadAir, action{kind: actBye})
		}
		// Nobody may wait longer than ConnectWithin after the greeting;
		// silence (dead air) is treated as a person who said nothing, the
		// clock starting now.
		a.res.GreetingEnd = now
		if r == dialer.CPALive {
			a.res.GreetingEnd = now.Add(-a.cfg.GreetingSilence)
		}
		a.st = stAwaitAgent
		a.deadline = a.res.GreetingEnd.Add(a.cfg.ConnectWithin)
		return []action{{kind: actAskAgent}}
	case dialer.CPAMachine:
		a.res.Treatment = a.cfg.Machine
		switch a.cfg.Machine {
		case MachineLeaveMessage:
			if _, ok := a.analyser.(beeper); ok {
				a.st = stAwaitBeep
				a.deadline = now.Add(a.cfg.BeepWait)
				return nil
			}
			return a.play(now, stMessage, msgMachine)
		case MachineToIVR:
			a.st = stIVR
			a.deadline = now.Add(a.cfg.TransferTimeout)
			return []action{{kind: actRefer, target: a.cfg.MachineIVR}}
		}
		return a.finish(now, OutcomeMachine, action{kind: actBye})
	case dialer.CPAFax:
		return a.finish(now, OutcomeFax, action{kind: actBye})
	case dialer.CPASIT:
		a.sitSegs = a.sit.Flush(a.sitSegs)
		a.res.SIT, _ = media.ClassifySIT(a.sitSegs)
		return a.finish(now, OutcomeSIT, action{kind: actBye})
	}
	return a.finish(now, OutcomeFailed, action{kind: actBye})
}

// play starts a message in state st (stHarbour or stMessage).
func (a *attempt) play(now time.Time, st state, m message) []action {
	a.st, a.msgStart = st, now
	a.deadline = now.Add(a.cfg.MessageTimeout)
	return []action{{kind: actPlay, msg: m}}
}

func (a *attempt) finish(now time.Time, o Outcome, acts ...action) []action {
	a.st, a.deadline = stDone, time.Time{}
	a.res.Outcome, a.res.Ended = o, now
	if !a.msgStart.IsZero() {
		a.res.MessagePlayed = now.Sub(a.msgStart)
	}
	return append(acts, action{kind: actDone})
}
