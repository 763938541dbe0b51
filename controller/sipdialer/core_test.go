package sipdialer

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ipcclab/ipcclab/controller/dialer"
	"github.com/ipcclab/ipcclab/internal/media"
)

var t0 = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)

// fakeAMD decides r on its after-th frame; with beepAt > 0 it also hears a
// machine's beep on that frame.
type fakeAMD struct {
	after  int
	r      dialer.CPAResult
	n      int
	beepAt int
}

func (f *fakeAMD) Feed([]int16) (dialer.CPAResult, error) {
	f.n++
	if f.n >= f.after {
		return f.r, nil
	}
	return dialer.CPAPending, nil
}

func (f *fakeAMD) DecidedAfter() time.Duration { return time.Duration(f.after) * 20 * time.Millisecond }

type fakeBeeper struct{ fakeAMD }

func (f *fakeBeeper) Beep() (time.Duration, bool) {
	return time.Duration(f.n) * 20 * time.Millisecond, f.beepAt > 0 && f.n >= f.beepAt
}

func testConfig(an func() Analyser) coreConfig {
	return coreConfig{RingTimeout: 15 * time.Second, SetupAllowance: 10 * time.Second, ConnectWithin: 2 * time.Second,
		GreetingSilence: 608 * time.Millisecond, AnalysisTimeout: 6500 * time.Millisecond, BeepWait: 30 * time.Second,
		MessageTimeout: 30 * time.Second, TransferTimeout: 5 * time.Second, CancelWait: 10 * time.Second,
		MachineIVR: "7000", NewAnalyser: an}
}

// harness drives one attempt in virtual time.
type harness struct {
	t   *testing.T
	a   *attempt
	now time.Time
}

func newHarness(t *testing.T, cfg coreConfig) *harness {
	return &harness{t: t, a: newAttempt(cfg, "A-1", "15555550123"), now: t0}
}

func (h *harness) at(d time.Duration) *harness { h.now = t0.Add(d); return h }

func kinds(acts []action) string {
	names := map[actKind]string{actRecord: "record", actInvite: "invite", actCancelInvite: "cancel", actAskAgent: "ask-agent",
		actRefer: "refer", actPlay: "play", actStopAudio: "stop-audio", actBye: "bye", actDone: "done"}
	var out []string
	for _, a := range acts {
		s := names[a.kind]
		switch a.kind {
		case actRefer:
			s += ":" + a.target
		case actPlay:
			s += fmt.Sprintf(":%d", a.msg)
		}
		out = append(out, s)
	}
	return strings.Join(out, " ")
}

// step applies ev now and checks the actions.
func (h *harness) step(ev event, want string) {
	h.t.Helper()
	if got := kinds(h.a.step(ev, h.now)); got != want {
		h.t.Fatalf("at %v, %v in %s: actions %q, want %q", h.now.Sub(t0), ev.kind, h.a.st, got, want)
	}
}

// tick ticks at the current deadline (which must be d after t0).
func (h *harness) tickAt(d time.Duration, want string) {
	h.t.Helper()
	at, ok := h.a.next()
	if !ok || !at.Equal(t0.Add(d)) {
		h.t.Fatalf("deadline %v (%v), want %v", at.Sub(t0), ok, d)
	}
	h.at(d-time.Millisecond).step(event{kind: evTick}, "")
	h.at(d).step(event{kind: evTick}, want)
}

func (h *harness) frames(n int, want string) {
	h.t.Helper()
	pcm := make([]int16, media.FrameSamples)
	var got []action
	for i := 0; i < n; i++ {
		h.now = h.now.Add(20 * time.Millisecond)
		got = append(got, h.a.step(event{kind: evFrame, pcm: pcm}, h.now)...)
	}
	if k := kinds(got); k != want {
		h.t.Fatalf("after %d frames in %s: actions %q, want %q", n, h.a.st, k, want)
	}
}

// answered brings the attempt to the answered state: recorded and INVITE
// at 0, 180 at 1 s, 200 at 4 s.
func (h *harness) answered() {
	h.t.Helper()
	h.at(0).step(event{kind: evStart}, "record")
	h.step(event{kind: evRecorded}, "invite")
	h.at(time.Second).step(event{kind: evProgress, code: 180}, "")
	h.at(4*time.Second).step(event{kind: evAnswered}, "")
}

func live() Analyser { return &fakeAMD{after: 50, r: dialer.CPALive} }

// A live answer is transferred to the agent Live returns: REFER, NOTIFY
// 100 then 200, BYE; the connect delay is measured from the end of the
// greeting (the decision minus the detector's silence).
func TestCoreLiveConnected(t *testing.T) {
	h := newHarness(t, testConfig(live))
	h.answered()
	h.frames(49, "")
	h.frames(1, "ask-agent") // decided at 5 s
	h.at(5100*time.Millisecond).step(event{kind: evAgent, ext: "6001", ok: true}, "refer:6001")
	h.at(5120*time.Millisecond).step(event{kind: evReferAnswer, code: 202}, "")
	h.step(event{kind: evNotify, code: 100}, "")
	h.at(5300*time.Millisecond).step(event{kind: evNotify, code: 200}, "bye done")
	r := h.a.result()
	if r.Outcome != OutcomeLiveConnected || r.Agent != "6001" || r.AMD != dialer.CPALive || r.AMDAfter != time.Second {
		t.Fatalf("result %+v", r)
	}
	if want := t0.Add(5*time.Second - 608*time.Millisecond); !r.GreetingEnd.Equal(want) {
		t.Errorf("greeting end %v, want %v", r.GreetingEnd.Sub(t0), want.Sub(t0))
	}
	if r.ConnectDelay != 908*time.Millisecond {
		t.Errorf("connect delay %v, want 908ms", r.ConnectDelay)
	}
	if r.RingTime != 3*time.Second || r.SIPStatus != 200 || !r.Alerted.Equal(t0.Add(time.Second)) {
		t.Errorf("ring %v status %d alerted %v", r.RingTime, r.SIPStatus, r.Alerted)
	}
	if !h.a.done() {
		t.Fatal("not done")
	}
	h.step(event{kind: evRemoteBye}, "") // nothing after done
}

// With no agent the customer hears the safe-harbour message, then the
// dialer hangs up: live-abandoned.
func TestCoreNoAgentPlaysSafeHarbour(t *testing.T) {
	h := newHarness(t, testConfig(live))
	h.answered()
	h.frames(50, "ask-agent")
	h.at(5010*time.Millisecond).step(event{kind: evAgent, ok: false}, "play:0")
	h.at(11010*time.Millisecond).step(event{kind: evMessageEnd}, "bye done")
	r := h.a.result()
	if r.Outcome != OutcomeLiveAbandoned || r.MessagePlayed != 6*time.Second || r.Agent != "" {
		t.Fatalf("result %+v", r)
	}
}

// The 2-second rule: the REFER goes out but the transfer is not complete by
// the end of the greeting + ConnectWithin: the safe-harbour message starts.
// A NOTIFY 200 after that means the customer got the agent after all; the
// call still counts abandoned, marked late.
func TestCoreConnectDeadline(t *testing.T) {
	h := newHarness(t, testConfig(live))
	h.answered()
	h.frames(50, "ask-agent") // greeting ended at 4.392 s
	h.at(5100*time.Millisecond).step(event{kind: evAgent, ext: "6001", ok: true}, "refer:6001")
	h.step(event{kind: evReferAnswer, code: 202}, "")
	h.tickAt(6392*time.Millisecond, "play:0")
	h.at(6500*time.Millisecond).step(event{kind: evNotify, code: 200}, "stop-audio bye done")
	r := h.a.result()
	if r.Outcome != OutcomeLiveAbandoned || !r.LateTransfer || !r.Connected.IsZero() {
		t.Fatalf("result %+v", r)
	}
}

// An agent found too late, a REFER refused, a transfer that fails: all end
// in the safe-harbour message.
func TestCoreTransferFailures(t *testing.T) {
	for _, tc := range []struct {
		name  string
		drive func(h *harness)
	}{
		{"agent after the deadline", func(h *harness) {
			h.at(6400*time.Millisecond).step(event{kind: evAgent, ext: "6001", ok: true}, "play:0")
		}},
		{"deadline before the agent", func(h *harness) {
			h.tickAt(6392*time.Millisecond, "play:0")
			h.at(6400*time.Millisecond).step(event{kind: evAgent, ext: "6001", ok: true}, "")
		}},
		{"REFER refused", func(h *harness) {
			h.at(5100*time.Millisecond).step(event{kind: evAgent, ext: "6001", ok: true}, "refer:6001")
			h.step(event{kind: evReferAnswer, code: 403}, "play:0")
		}},
		{"REFER unanswered", func(h *harness) {
			h.at(5100*time.Millisecond).step(event{kind: evAgent, ext: "6001", ok: true}, "refer:6001")
			h.step(event{kind: evReferAnswer, code: 0}, "play:0")
		}},
		{"agent's phone busy", func(h *harness) {
			h.at(5100*time.Millisecond).step(event{kind: evAgent, ext: "6001", ok: true}, "refer:6001")
			h.step(event{kind: evReferAnswer, code: 202}, "")
			h.step(event{kind: evNotify, code: 486}, "play:0")
			h.step(event{kind: evNotify, code: 200}, "") // no late transfer: it failed
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, testConfig(live))
			h.answered()
			h.frames(50, "ask-agent")
			tc.drive(h)
			h.at(20*time.Second).step(event{kind: evMessageEnd}, "bye done")
			if r := h.a.result(); r.Outcome != OutcomeLiveAbandoned || r.LateTransfer {
				t.Fatalf("result %+v", r)
			}
		})
	}
}

// The phone rings at least the ring time counted from the 180: nothing
// happens a moment before, CANCEL at it, and the 487 is a no-answer.
func TestCoreRingsAtLeastTheRingTime(t *testing.T) {
	h := newHarness(t, testConfig(live))
	h.at(0).step(event{kind: evStart}, "record")
	h.step(event{kind: evRecorded}, "invite")
	h.at(1500*time.Millisecond).step(event{kind: evProgress, code: 183}, "") // progress is not alerting
	h.at(2*time.Second).step(event{kind: evProgress, code: 180}, "")
	h.at(7*time.Second).step(event{kind: evProgress, code: 180}, "") // a second 180 does not restart it
	h.tickAt(17*time.Second, "cancel")
	h.at(17050*time.Millisecond).step(event{kind: evFailed, code: 487, reason: "Request Terminated"}, "done")
	r := h.a.result()
	if r.Outcome != OutcomeNoAnswer || r.SIPStatus != 487 || r.RingTime < 15*time.Second {
		t.Fatalf("result %+v", r)
	}
}

// Without alerting the dialer waits the ring time plus the setup
// allowance, then gives up: no ringback.
func TestCoreNoRingback(t *testing.T) {
	h := newHarness(t, testConfig(live))
	h.at(0).step(event{kind: evStart}, "record")
	h.step(event{kind: evRecorded}, "invite")
	h.tickAt(25*time.Second, "cancel")
	// The 487 never comes: the attempt ends anyway.
	h.tickAt(35*time.Second, "done")
	if r := h.a.result(); r.Outcome != OutcomeNoRingback || r.RingTime != 0 {
		t.Fatalf("result %+v", r)
	}
}

// A 200 crossing the CANCEL is a person who picked up: handled as answered.
func TestCoreAnswerCrossingCancel(t *testing.T) {
	h := newHarness(t, testConfig(live))
	h.at(0).step(event{kind: evStart}, "record")
	h.step(event{kind: evRecorded}, "invite")
	h.at(time.Second).step(event{kind: evProgress, code: 180}, "")
	h.tickAt(16*time.Second, "cancel")
	h.at(16010*time.Millisecond).step(event{kind: evAnswered}, "")
	h.frames(50, "ask-agent")
}

func TestCoreStoreWriteFails(t *testing.T) {
	h := newHarness(t, testConfig(live))
	h.step(event{kind: evStart}, "record")
	boom := errors.New("disk full")
	h.step(event{kind: evRecorded, err: boom}, "done")
	if r := h.a.result(); r.Outcome != OutcomeNotPlaced || !errors.Is(r.Err, boom) || !r.Invited.IsZero() {
		t.Fatalf("result %+v", r)
	}
}

// Final responses before the answer, with the Q.850 cause and the SIT
// heard as early media.
func TestCoreFailedInvites(t *testing.T) {
	for _, tc := range []struct {
		status, cause int
		sit           media.SITKind
		want          Outcome
	}{
		{486, 17, 0, OutcomeBusy},
		{486, 0, 0, OutcomeBusy},
		{600, 0, 0, OutcomeBusy},
		{404, 1, media.SITIntercept, OutcomeVacant},
		{404, 0, 0, OutcomeVacant},
		{484, 28, 0, OutcomeVacant},
		{503, 34, media.SITNoCircuit, OutcomeNoCircuit},
		{503, 42, media.SITReorder, OutcomeReorder},
		{503, 0, media.SITReorder, OutcomeReorder},
		{503, 0, 0, OutcomeNoCircuit},
		{480, 19, 0, OutcomeNoAnswer},
		{408, 0, 0, OutcomeNoAnswer},
		{403, 21, 0, OutcomeFailed},
		{500, 0, 0, OutcomeFailed},
		{0, 0, 0, OutcomeFailed},
	} {
		if got := classify(tc.status, tc.cause, tc.sit); got != tc.want {
			t.Errorf("classify(%d, cause %d, SIT %v) = %v, want %v", tc.status, tc.cause, tc.sit, got, tc.want)
		}
	}
	// Through the core, with a real SIT as early media before the 404.
	h := newHarness(t, testConfig(live))
	h.at(0).step(event{kind: evStart}, "record")
	h.step(event{kind: evRecorded}, "invite")
	h.step(event{kind: evProgress, code: 183}, "")
	src := media.ToneSource(media.SITTone(media.SITVacantCode))
	pcm := make([]int16, media.FrameSamples)
	for src.ReadFrame(pcm) {
		h.a.step(event{kind: evFrame, pcm: slices.Clone(pcm)}, h.now)
	}
	h.at(1200*time.Millisecond).step(event{kind: evFailed, code: 404, reason: "Not Found"}, "done")
	if r := h.a.result(); r.Outcome != OutcomeVacant || r.SIT != media.SITVacantCode || r.SIPStatus != 404 {
		t.Fatalf("result %+v", r)
	}
}

func TestCoreMachineTreatments(t *testing.T) {
	machine := func(beepAt int) func() Analyser {
		return func() Analyser { return &fakeBeeper{fakeAMD{after: 150, r: dialer.CPAMachine, beepAt: beepAt}} }
	}
	t.Run("hang up", func(t *testing.T) {
		h := newHarness(t, testConfig(machine(0)))
		h.answered()
		h.frames(150, "bye done")
		if r := h.a.result(); r.Outcome != OutcomeMachine || r.Treatment != MachineHangUp || r.AMD != dialer.CPAMachine {
			t.Fatalf("result %+v", r)
		}
	})
	t.Run("leave a message after the beep", func(t *testing.T) {
		cfg := testConfig(machine(400))
		cfg.Machine = MachineLeaveMessage
		h := newHarness(t, cfg)
		h.answered()
		h.frames(150, "")
		h.frames(249, "")
		h.frames(1, "play:1")
		h.at(time.Minute).step(event{kind: evMessageEnd}, "bye done")
		if r := h.a.result(); r.Outcome != OutcomeMachine || !r.TreatmentDone || !r.Beep {
			t.Fatalf("result %+v", r)
		}
	})
	t.Run("no beep: the message after the wait", func(t *testing.T) {
		cfg := testConfig(machine(0))
		cfg.Machine = MachineLeaveMessage
		h := newHarness(t, cfg)
		h.answered()
		h.frames(150, "") // decided at 7 s
		h.tickAt(37*time.Second, "play:1")
		h.at(40*time.Second).step(event{kind: evRemoteBye}, "stop-audio done")
		if r := h.a.result(); r.Outcome != OutcomeMachine || r.TreatmentDone || r.Beep || r.MessagePlayed != 3*time.Second {
			t.Fatalf("result %+v", r)
		}
	})
	t.Run("a detector without beep detection leaves the message at once", func(t *testing.T) {
		cfg := testConfig(func() Analyser { return &fakeAMD{after: 150, r: dialer.CPAMachine} })
		cfg.Machine = MachineLeaveMessage
		h := newHarness(t, cfg)
		h.answered()
		h.frames(150, "play:1")
	})
	t.Run("transfer to the IVR", func(t *testing.T) {
		cfg := testConfig(machine(0))
		cfg.Machine = MachineToIVR
		h := newHarness(t, cfg)
		h.answered()
		h.frames(150, "refer:7000")
		h.step(event{kind: evReferAnswer, code: 202}, "")
		h.step(event{kind: evNotify, code: 200}, "bye done")
		if r := h.a.result(); r.Outcome != OutcomeMachine || !r.TreatmentDone || r.Treatment != MachineToIVR {
			t.Fatalf("result %+v", r)
		}
	})
	t.Run("transfer to the IVR times out", func(t *testing.T) {
		cfg := testConfig(machine(0))
		cfg.Machine = MachineToIVR
		h := newHarness(t, cfg)
		h.answered()
		h.frames(150, "refer:7000")
		h.tickAt(12*time.Second, "bye done")
		if r := h.a.result(); r.Outcome != OutcomeMachine || r.TreatmentDone {
			t.Fatalf("result %+v", r)
		}
	})
}

func TestCoreFaxAndDeadAir(t *testing.T) {
	h := newHarness(t, testConfig(func() Analyser { return &fakeAMD{after: 20, r: dialer.CPAFax} }))
	h.answered()
	h.frames(20, "bye done")
	if r := h.a.result(); r.Outcome != OutcomeFax {
		t.Fatalf("result %+v", r)
	}
	// No audio at all: dead air at the analysis timeout, treated as a
	// person who said nothing (connected within 2 s from now)...
	h = newHarness(t, testConfig(live))
	h.answered()
	h.tickAt(10500*time.Millisecond, "ask-agent")
	if r := h.a.result(); r.AMD != dialer.CPADeadAir || !r.GreetingEnd.Equal(t0.Add(10500*time.Millisecond)) {
		t.Fatalf("result %+v", r)
	}
	h.tickAt(12500*time.Millisecond, "play:0")
	// ...or hung up on when configured so.
	cfg := testConfig(live)
	cfg.DeadAirHangsUp = true
	h = newHarness(t, cfg)
	h.answered()
	h.tickAt(10500*time.Millisecond, "bye done")
	if r := h.a.result(); r.Outcome != OutcomeDeadAir {
		t.Fatalf("result %+v", r)
	}
}

func TestCoreHangUpsAndCancel(t *testing.T) {
	// The customer hangs up while the detector listens.
	h := newHarness(t, testConfig(live))
	h.answered()
	h.frames(10, "")
	h.step(event{kind: evRemoteBye}, "done")
	if r := h.a.result(); r.Outcome != OutcomeHungUp {
		t.Fatalf("result %+v", r)
	}
	// ... or while the safe-harbour message plays: still abandoned.
	h = newHarness(t, testConfig(live))
	h.answered()
	h.frames(50, "ask-agent")
	h.step(event{kind: evAgent}, "play:0")
	h.step(event{kind: evRemoteBye}, "stop-audio done")
	if r := h.a.result(); r.Outcome != OutcomeLiveAbandoned {
		t.Fatalf("result %+v", r)
	}
	// Dial's context ends while ringing: CANCEL, then cancelled.
	h = newHarness(t, testConfig(live))
	h.at(0).step(event{kind: evStart}, "record")
	h.step(event{kind: evRecorded}, "invite")
	h.at(time.Second).step(event{kind: evProgress, code: 180}, "")
	h.step(event{kind: evCancel}, "cancel")
	h.step(event{kind: evFailed, code: 487}, "done")
	if r := h.a.result(); r.Outcome != OutcomeCancelled {
		t.Fatalf("result %+v", r)
	}
	// ... or after the answer: BYE.
	h = newHarness(t, testConfig(live))
	h.answered()
	h.step(event{kind: evCancel}, "stop-audio bye done")
}

// With Cisco's real detector on a synthetic "hello?": the greeting end the
// core derives from the decision falls on the end of the word, within a
// frame or two.
func TestCoreGreetingEndWithCiscoCPA(t *testing.T) {
	cfg := testConfig(func() Analyser {
		a, err := dialer.NewCPA(dialer.DefaultCPAConfig())
		if err != nil {
			t.Fatal(err)
		}
		return a
	})
	h := newHarness(t, cfg)
	h.answered() // at 4 s
	speech := media.NewSpeechGenerator(media.SpeechConfig{LevelDBm0: -20, Pattern: []int{700}}, rand.New(rand.NewPCG(3, 4)))
	pcm := make([]int16, media.FrameSamples)
	var acts []action
	for i := 0; i < 200 && !h.a.done() && len(acts) == 0; i++ {
		if i < 15 { // 300 ms before the hello
			clear(pcm)
		} else {
			speech.Read(pcm)
		}
		h.now = h.now.Add(20 * time.Millisecond)
		acts = h.a.step(event{kind: evFrame, pcm: slices.Clone(pcm)}, h.now)
	}
	if kinds(acts) != "ask-agent" {
		t.Fatalf("actions %q in %s", kinds(acts), h.a.st)
	}
	r := h.a.result()
	wordEnd := t0.Add(4*time.Second + 1000*time.Millisecond)
	if d := r.GreetingEnd.Sub(wordEnd); d < -60*time.Millisecond || d > 60*time.Millisecond {
		t.Errorf("greeting end %v after the answer, the word ended at 1s", r.GreetingEnd.Sub(t0.Add(4*time.Second)))
	}
}
