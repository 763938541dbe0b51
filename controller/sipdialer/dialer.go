// Package sipdialer is the reference dialer's SIP trunk to the voice
// gateway: it places each customer call with an INVITE (sipgo, through
// internal/sipnode), listens to the answered call's RTP for call progress
// analysis and answering-machine detection (controller/dialer's Cisco CPA
// or Asterisk app_amd), and on live voice blind-transfers the customer to
// the agent the controller reserved with a REFER whose Refer-To is the
// agent's extension at CallManager — Cisco Outbound Option's SIP dialer
// (ipcc-behaviour.md §2.5, dialer-anchors.md §2.1, §2.4).
//
// The compliance rules are enforced here, where the timing is known
// (dialer-anchors.md §3): every attempt is written to the store
// (Attempt.BeforeInvite) before its INVITE leaves; an unanswered phone rings
// at least 15 s (Config.MinRing, the floor of any ring time); a person who
// answers is connected to an agent within ConnectWithin (2 s) of the end of
// their greeting, or hears the safe-harbour message and the call is counted
// abandoned.
//
// core.go is the pure state machine of one attempt (events and time in,
// actions out); this file is the adapter: the SIP node, the RTP streams,
// the goroutines and the real timers. The package speaks only SIP and RTP,
// so it runs unchanged against a real gateway and CallManager.
package sipdialer

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/ipcclab/ipcclab/controller/dialer"
	"github.com/ipcclab/ipcclab/internal/media"
	"github.com/ipcclab/ipcclab/internal/rtpio"
	"github.com/ipcclab/ipcclab/internal/sipnode"
)

// MinRingFloor is the shortest ring time the dialer allows: the FTC and FCC
// rules and Ofcom ask that an unanswered call ring at least 15 seconds (or
// four rings) before the dialer gives up (dialer-anchors.md §3).
const MinRingFloor = 15 * time.Second

// MaxConnectWithin is the regulators' limit from the end of the greeting
// to a live agent (the 2-second rule).
const MaxConnectWithin = 2 * time.Second

// AMDAlgorithm picks the answering-machine detector.
type AMDAlgorithm int

// Detectors.
const (
	// AMDCisco is Cisco's gateway CPA (dialer.CPA): tones (SIT, fax),
	// speech/silence timing, and the machine's terminating beep.
	AMDCisco AMDAlgorithm = iota
	// AMDAsterisk is Asterisk app_amd (dialer.AsteriskAMD): word counting,
	// no tone or beep detection.
	AMDAsterisk
)

// AMDConfig configures call progress analysis. Zero fields take Cisco's
// defaults (dialer.DefaultCPAConfig).
type AMDConfig struct {
	Algorithm AMDAlgorithm
	Cisco     dialer.CPAConfig
	Asterisk  dialer.AsteriskAMDConfig
}

// Config configures the dialer. Zero fields take the defaults given.
type Config struct {
	// Addr is the dialer's SIP address, UDP and TCP ("127.0.0.1:0").
	Addr string
	// Gateway is the voice gateway's trunk-side SIP address, where the
	// INVITEs go. Required.
	Gateway netip.AddrPort
	// CallManager is where transfers point: Refer-To
	// sip:<extension>@<CallManager>. Required.
	CallManager netip.AddrPort
	// CallerID is the From user of the INVITEs ("dialer").
	CallerID string
	// Media is the RTP engine for the dialer's streams; nil makes one on
	// Addr's IP with ports from the operating system.
	Media *rtpio.Engine
	// MinRing is the shortest ring time an attempt may ask for (15 s; it
	// cannot be set lower: MinRingFloor).
	MinRing time.Duration
	// NoAnswerTimeout is how long an unanswered phone rings before the
	// dialer cancels, counted from the far end's 180 Ringing (MinRing; at
	// least MinRing).
	NoAnswerTimeout time.Duration
	// SetupAllowance is how long the network may take to report alerting
	// (180): without it the dialer cancels NoAnswerTimeout+SetupAllowance
	// after the INVITE (no ringback). Default 10 s.
	SetupAllowance time.Duration
	// ConnectWithin is the longest time from the end of a live greeting to
	// the customer's transfer completing; after it the customer gets the
	// safe-harbour message (2 s; at most MaxConnectWithin).
	ConnectWithin time.Duration
	AMD           AMDConfig
	// DeadAirHangsUp hangs up an answered call with nothing heard
	// (OutcomeDeadAir). By default silence is treated as a person who said
	// nothing: connected to an agent like live voice, since hanging up on
	// a person is an abandon.
	DeadAirHangsUp bool
	// SafeHarbour returns the safe-harbour message for one call (the
	// seller's name and a number to call back); default: 6 s of recorded
	// speech (media.NewAnnouncement), the same every call.
	SafeHarbour func() media.Source
	// Machine is the answering-machine treatment (hang up).
	Machine MachineTreatment
	// MachineMessage returns the message left on a machine (default: 8 s
	// of speech).
	MachineMessage func() media.Source
	// MachineIVR is the number an answering machine is transferred to with
	// MachineToIVR (a route point or IVR number at CallManager).
	MachineIVR string
	// TransferTimeout bounds a machine's transfer to the IVR (5 s).
	TransferTimeout time.Duration
	// MessageTimeout bounds a message's playing time, in case its end is
	// never reported (30 s).
	MessageTimeout time.Duration
	// Node passes capture hooks and the like to the SIP node (Name, Addr
	// and OnInvite are the dialer's).
	Node sipnode.Config
	Logf func(format string, args ...any)
}

func (c *Config) fill() {
	if c.Addr == "" {
		c.Addr = "127.0.0.1:0"
	}
	if c.CallerID == "" {
		c.CallerID = "dialer"
	}
	if c.MinRing == 0 {
		c.MinRing = MinRingFloor
	}
	if c.NoAnswerTimeout == 0 {
		c.NoAnswerTimeout = c.MinRing
	}
	if c.SetupAllowance == 0 {
		c.SetupAllowance = 10 * time.Second
	}
	if c.ConnectWithin == 0 {
		c.ConnectWithin = MaxConnectWithin
	}
	if c.TransferTimeout == 0 {
		c.TransferTimeout = 5 * time.Second
	}
	if c.MessageTimeout == 0 {
		c.MessageTimeout = 30 * time.Second
	}
	if c.SafeHarbour == nil {
		c.SafeHarbour = func() media.Source {
			return media.NewAnnouncement(media.AnnouncementConfig{LengthMs: 6000}, rand.New(rand.NewPCG(0x5afe, 1)))
		}
	}
	if c.MachineMessage == nil {
		c.MachineMessage = func() media.Source {
			return media.NewAnnouncement(media.AnnouncementConfig{LengthMs: 8000}, rand.New(rand.NewPCG(0x3e55, 1)))
		}
	}
	if c.Logf == nil {
		c.Logf = func(string, ...any) {}
	}
}

// Validate reports every invalid field, each error naming it.
func (c Config) Validate() error {
	c.fill()
	var errs []error
	if !c.Gateway.IsValid() {
		errs = append(errs, errors.New("sipdialer: Config.Gateway: the gateway's trunk address is required"))
	}
	if !c.CallManager.IsValid() {
		errs = append(errs, errors.New("sipdialer: Config.CallManager: CallManager's address is required (transfers point there)"))
	}
	if c.MinRing < MinRingFloor {
		errs = append(errs, fmt.Errorf("sipdialer: Config.MinRing %v: the floor is %v (ring at least 15 s or 4 rings: FTC, FCC, Ofcom)", c.MinRing, MinRingFloor))
	}
	if c.NoAnswerTimeout < c.MinRing || c.NoAnswerTimeout < MinRingFloor {
		errs = append(errs, fmt.Errorf("sipdialer: Config.NoAnswerTimeout %v: below the minimum ring time %v (Config.MinRing)", c.NoAnswerTimeout, max(c.MinRing, MinRingFloor)))
	}
	if c.SetupAllowance < 0 {
		errs = append(errs, fmt.Errorf("sipdialer: Config.SetupAllowance %v: must not be negative", c.SetupAllowance))
	}
	if c.ConnectWithin < 0 || c.ConnectWithin > MaxConnectWithin {
		errs = append(errs, fmt.Errorf("sipdialer: Config.ConnectWithin %v: want 0 (2 s) .. %v, the regulators' limit", c.ConnectWithin, MaxConnectWithin))
	}
	switch c.AMD.Algorithm {
	case AMDCisco:
		if err := c.AMD.Cisco.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("sipdialer: Config.AMD.Cisco: %w", err))
		}
	case AMDAsterisk:
		if _, err := dialer.NewAsteriskAMD(c.AMD.Asterisk); err != nil {
			errs = append(errs, fmt.Errorf("sipdialer: Config.AMD.Asterisk: %w", err))
		}
	default:
		errs = append(errs, fmt.Errorf("sipdialer: Config.AMD.Algorithm %d: want AMDCisco or AMDAsterisk", c.AMD.Algorithm))
	}
	switch c.Machine {
	case MachineHangUp, MachineLeaveMessage:
	case MachineToIVR:
		if !validNumber(c.MachineIVR) {
			errs = append(errs, fmt.Errorf("sipdialer: Config.MachineIVR %q: a number is required for MachineToIVR", c.MachineIVR))
		}
	default:
		errs = append(errs, fmt.Errorf("sipdialer: Config.Machine %d: unknown treatment", c.Machine))
	}
	if c.TransferTimeout < 0 || c.MessageTimeout < 0 {
		errs = append(errs, fmt.Errorf("sipdialer: Config.TransferTimeout %v, MessageTimeout %v: must not be negative", c.TransferTimeout, c.MessageTimeout))
	}
	return errors.Join(errs...)
}

// coreConfig derives the core's settings for one attempt.
func (c Config) coreConfig(ring time.Duration) coreConfig {
	cc := coreConfig{RingTimeout: ring, SetupAllowance: c.SetupAllowance, ConnectWithin: c.ConnectWithin,
		MessageTimeout: c.MessageTimeout, TransferTimeout: c.TransferTimeout, CancelWait: 10 * time.Second,
		Machine: c.Machine, MachineIVR: c.MachineIVR, DeadAirHangsUp: c.DeadAirHangsUp}
	switch c.AMD.Algorithm {
	case AMDAsterisk:
		ac := c.AMD.Asterisk
		d := dialer.DefaultAsteriskAMDConfig()
		cc.GreetingSilence = or(ac.AfterGreetingSilence, d.AfterGreetingSilence)
		cc.AnalysisTimeout = or(ac.TotalAnalysisTime, d.TotalAnalysisTime) + time.Second
		cc.BeepWait = 0
		cc.NewAnalyser = func() Analyser {
			a, _ := dialer.NewAsteriskAMD(ac) // validated
			return a
		}
	default:
		cp := c.AMD.Cisco
		d := dialer.DefaultCPAConfig()
		cc.GreetingSilence = or(cp.MinSilence, d.MinSilence)
		cc.AnalysisTimeout = or(cp.MaxTimeAnalysis, d.MaxTimeAnalysis) + or(cp.AnalysisPeriod, d.AnalysisPeriod) + time.Second
		cc.BeepWait = or(cp.MaxTermToneAnalysis, d.MaxTermToneAnalysis)
		cc.NewAnalyser = func() Analyser {
			a, _ := dialer.NewCPA(cp) // validated
			return a
		}
	}
	return cc
}

func or(v, def time.Duration) time.Duration {
	if v == 0 {
		return def
	}
	return v
}

func validNumber(s string) bool {
	if s == "" || len(s) > 40 {
		return false
	}
	for _, r := range s {
		if (r < '0' || r > '9') && r != '+' && r != '*' && r != '#' {
			return false
		}
	}
	return true
}

// Attempt is one call to place.
type Attempt struct {
	// ID identifies the attempt in the store; it starts the SIP Call-ID.
	ID string
	// Number is the customer's number (digits, '+', '*', '#').
	Number string
	// CallVariables travel with the transfer to the agent (CTI
	// CallVariable1..10 of the call at the agent), as headers of the
	// Refer-To URI (sipnode.CallVariableHeader).
	CallVariables [10]string
	// RingTimeout is how long the phone may ring (0: Config.NoAnswerTimeout;
	// at least Config.MinRing).
	RingTimeout time.Duration
	// BeforeInvite records the attempt in the store. It runs before the
	// INVITE is sent; if it fails, nothing is sent and Dial returns its
	// error (OutcomeNotPlaced). Required.
	BeforeInvite func() error
	// Live is called, on a goroutine of its own, when the detector decides
	// the far end is a person: it returns the extension of the agent
	// reserved for this call, or ok false when there is none (the customer
	// then hears the safe-harbour message). nil means no agent. If it
	// returns after the ConnectWithin deadline the agent is not used
	// (Result.Agent still names it, for the caller to release).
	Live func() (agentExtension string, ok bool)
}

// Dialer places calls through the gateway.
type Dialer struct {
	cfg      Config
	node     *sipnode.Node
	media    *rtpio.Engine
	ownMedia bool
	seq      atomic.Uint64
	boot     int64

	mu     sync.Mutex
	closed bool
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New validates cfg and starts the dialer's SIP node.
func New(cfg Config) (*Dialer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.fill()
	d := &Dialer{cfg: cfg, media: cfg.Media, boot: time.Now().UnixNano()}
	nc := cfg.Node
	nc.Name, nc.Addr = "dialer", cfg.Addr
	nc.OnInvite = func(in *sipnode.Incoming) { _ = in.Reject(403, "Forbidden - the dialer takes no calls") }
	node, err := sipnode.Start(nc)
	if err != nil {
		return nil, fmt.Errorf("sipdialer: Config.Addr %q: %w", cfg.Addr, err)
	}
	d.node = node
	if d.media == nil {
		e, err := rtpio.New(rtpio.Config{IP: node.Addr().Addr()})
		if err != nil {
			node.Close()
			return nil, fmt.Errorf("sipdialer: RTP: %w", err)
		}
		d.media, d.ownMedia = e, true
	}
	d.ctx, d.cancel = context.WithCancel(context.Background())
	return d, nil
}

// Addr is the dialer's SIP address.
func (d *Dialer) Addr() netip.AddrPort { return d.node.Addr() }

// Node exposes the SIP node's counters.
func (d *Dialer) Node() *sipnode.Node { return d.node }

// Close ends the calls in progress (as Dial's context ending would) and
// stops the node.
func (d *Dialer) Close() error {
	d.mu.Lock()
	d.closed = true
	d.mu.Unlock()
	d.cancel()
	sipnode.WaitFor(&d.wg, 12*time.Second)
	err := d.node.Close()
	if d.ownMedia {
		err = errors.Join(err, d.media.Close())
	}
	return err
}

// Dial places one attempt and returns when it is over: the call was
// connected to the agent (the dialer's leg released), abandoned, treated,
// or failed. The error is non-nil only when nothing was dialed: an invalid
// attempt, or BeforeInvite's error. Cancelling ctx cancels the INVITE or
// hangs up (OutcomeCancelled).
func (d *Dialer) Dial(ctx context.Context, a Attempt) (Result, error) {
	res := Result{AttemptID: a.ID, Number: a.Number, Outcome: OutcomeNotPlaced}
	ring := a.RingTimeout
	if ring == 0 {
		ring = d.cfg.NoAnswerTimeout
	}
	switch {
	case !validNumber(a.Number):
		res.Err = fmt.Errorf("sipdialer: Attempt.Number %q: want 1-40 of 0-9 + * #", a.Number)
	case ring < d.cfg.MinRing:
		res.Err = fmt.Errorf("sipdialer: Attempt.RingTimeout %v: below the minimum ring time %v", ring, d.cfg.MinRing)
	case a.BeforeInvite == nil:
		res.Err = errors.New("sipdialer: Attempt.BeforeInvite is required: every attempt is recorded before its INVITE")
	}
	if res.Err != nil {
		return res, res.Err
	}
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		res.Err = errors.New("sipdialer: dialer closed")
		return res, res.Err
	}
	d.wg.Add(1)
	d.mu.Unlock()
	defer d.wg.Done()
	r := &run{d: d, a: a, core: newAttempt(d.cfg.coreConfig(ring), a.ID, a.Number),
		evs: make(chan event, 512), done: make(chan struct{})}
	r.callID = fmt.Sprintf("%s-%x-%d@%s", token(a.ID), d.boot, d.seq.Add(1), d.node.Addr().Addr())
	res = r.loop(ctx)
	if res.Outcome == OutcomeNotPlaced && res.Err != nil {
		return res, res.Err
	}
	return res, nil
}

// token keeps the characters of s a Call-ID may hold (RFC 3261 word).
func token(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-.!%*_+`'~", r)) {
			b.WriteRune(r)
		}
		if b.Len() >= 48 {
			break
		}
	}
	if b.Len() == 0 {
		return "dial"
	}
	return b.String()
}

// run is one attempt in flight: the core and what carries its actions out.
type run struct {
	d      *Dialer
	a      Attempt
	core   *attempt
	callID string
	evs    chan event
	done   chan struct{}

	stream       *rtpio.Stream
	inviteCancel context.CancelFunc
	frame        []int16 // re-framing of received audio into 20 ms

	mu       sync.Mutex
	leg      *sipnode.Leg
	answered bool // evAnswered was posted
	byeEarly bool // the leg ended before evAnswered was posted
	byeSent  bool
	finished bool // the core is done: nothing more is posted

	byes sync.WaitGroup
}

// post hands an event to the loop; it never blocks after the attempt
// ended, and reports whether the event was queued.
func (r *run) post(ev event) bool {
	select {
	case r.evs <- ev:
		return true
	case <-r.done:
		return false
	}
}

// hangUp sends BYE on the leg once.
func (r *run) hangUp() {
	r.mu.Lock()
	leg := r.leg
	bye := leg != nil && !r.byeSent
	r.byeSent = r.byeSent || bye
	r.mu.Unlock()
	if !bye {
		return
	}
	r.byes.Add(1)
	go func() {
		defer r.byes.Done()
		_ = leg.Bye(context.Background())
	}()
}

func (r *run) loop(ctx context.Context) Result {
	var err error
	if r.stream, err = r.d.media.Open(); err != nil {
		close(r.done)
		res := r.core.result()
		res.Err = fmt.Errorf("sipdialer: RTP: %w", err)
		res.Outcome = OutcomeFailed
		return res
	}
	r.stream.OnAudio(r.audio)
	res := r.drive(ctx)
	r.finish()
	return res
}

// finish releases what the attempt holds once the core is done.
func (r *run) finish() {
	r.mu.Lock()
	r.finished = true
	leg := r.leg
	r.mu.Unlock()
	close(r.done)
	if r.inviteCancel != nil {
		r.inviteCancel()
	}
	// A leg the attempt is done with but that is still up (an answer that
	// crossed the end of the attempt) is hung up.
	if leg != nil && leg.Ended() == sipnode.EndNone {
		r.hangUp()
	}
	// Wait for our BYE (bounded by sipnode's own timeout) so that the call
	// is really over when Dial returns.
	ch := make(chan struct{})
	go func() { r.byes.Wait(); close(ch) }()
	t := time.NewTimer(10 * time.Second)
	select {
	case <-ch:
	case <-t.C:
	}
	t.Stop()
	_ = r.stream.Close()
}

// drive runs the core until it is done.
func (r *run) drive(ctx context.Context) Result {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	ctxDone := ctx.Done()
	closing := r.d.ctx.Done()
	queue := []event{{kind: evStart}}
	for {
		for len(queue) > 0 {
			ev := queue[0]
			queue = queue[1:]
			for _, act := range r.core.step(ev, time.Now()) {
				if next, ok := r.exec(act); ok {
					queue = append(queue, next)
				}
			}
		}
		if r.core.done() {
			res := r.core.result()
			res.CallID = r.callID
			r.d.cfg.Logf("sipdialer: %s", res)
			return res
		}
		if at, ok := r.core.next(); ok {
			timer.Reset(max(time.Until(at), 0))
		} else {
			timer.Stop()
		}
		select {
		case ev := <-r.evs:
			queue = append(queue, ev)
		case <-timer.C:
			queue = append(queue, event{kind: evTick})
		case <-ctxDone:
			ctxDone = nil
			queue = append(queue, event{kind: evCancel})
		case <-closing:
			closing = nil
			queue = append(queue, event{kind: evCancel})
		}
	}
}

// audio re-frames received audio into 20 ms frames for the core.
func (r *run) audio(pcm []int16) {
	for len(pcm) > 0 {
		k := min(media.FrameSamples-len(r.frame), len(pcm))
		r.frame = append(r.frame, pcm[:k]...)
		pcm = pcm[k:]
		if len(r.frame) == media.FrameSamples {
			f := r.frame
			r.frame = make([]int16, 0, media.FrameSamples)
			select {
			case r.evs <- event{kind: evFrame, pcm: f}:
			default: // the loop is behind: a frame lost, as on the wire
			}
		}
	}
}

// exec carries out one action; a synchronous action returns its event.
func (r *run) exec(act action) (event, bool) {
	switch act.kind {
	case actRecord:
		return event{kind: evRecorded, err: r.a.BeforeInvite()}, true
	case actInvite:
		r.invite()
	case actCancelInvite:
		if r.inviteCancel != nil {
			r.inviteCancel()
		}
	case actAskAgent:
		if r.a.Live == nil {
			return event{kind: evAgent}, true
		}
		r.d.wg.Add(1)
		go func() {
			defer r.d.wg.Done()
			ext, ok := r.a.Live()
			r.post(event{kind: evAgent, ext: ext, ok: ok})
		}()
	case actRefer:
		r.refer(act.target)
	case actPlay:
		src := r.d.cfg.SafeHarbour()
		if act.msg == msgMachine {
			src = r.d.cfg.MachineMessage()
		}
		r.stream.OnSourceEnd(func() { go r.post(event{kind: evMessageEnd}) })
		r.stream.SetSource(src)
	case actStopAudio:
		r.stream.OnSourceEnd(nil)
		r.stream.SetSource(nil)
	case actBye:
		r.hangUp()
	case actDone:
	}
	return event{}, false
}

func (r *run) invite() {
	ctx, cancel := context.WithCancel(context.Background())
	r.inviteCancel = cancel
	d := r.d
	gw := d.cfg.Gateway
	target := sip.Uri{Scheme: "sip", User: r.a.Number, Host: gw.Addr().String(), Port: int(gw.Port())}
	offer := sipnode.Description(sipnode.Offer(r.stream.LocalAddr(), "ipcclab-dialer"), d.seq.Load(), 1)
	cid := sip.CallIDHeader(r.callID)
	st := r.stream
	ev := sipnode.LegEvents{
		OnNotify: func(l *sipnode.Leg, event string, body []byte) {
			if strings.HasPrefix(strings.ToLower(strings.TrimSpace(event)), "refer") {
				if code := sipnode.ParseSipfrag(body); code != 0 {
					r.post(eventNotify(code))
				}
			}
		},
		OnReinvite: func(l *sipnode.Leg, o sipnode.Media) []byte {
			st.SetRemote(o.Addr, o.Law(), o.EventPT)
			return nil
		},
		OnEnd: func(l *sipnode.Leg, why sipnode.EndReason) {
			if why != sipnode.EndRemoteBye {
				return
			}
			r.mu.Lock()
			posted := r.answered
			r.byeEarly = !posted
			r.mu.Unlock()
			if posted {
				r.post(event{kind: evRemoteBye})
			}
		},
	}
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		defer cancel()
		leg, err := d.node.Invite(ctx, d.cfg.CallerID, target, offer, ev, func(p sipnode.Provisional) {
			if p.HasEarly {
				st.SetRemote(p.Early.Addr, p.Early.Law(), p.Early.EventPT)
			}
			r.post(event{kind: evProgress, code: p.Code, reason: p.Reason})
		}, &cid)
		if err != nil {
			e := event{kind: evFailed, code: sipnode.StatusOf(err), err: err}
			var re *sipnode.ResponseError
			if errors.As(err, &re) {
				e.reason, e.cause, e.err = re.Reason, re.Cause, nil
			}
			if e.code == 487 {
				e.err = nil
			}
			r.post(e)
			return
		}
		m := leg.Remote()
		st.SetRemote(m.Addr, m.Law(), m.EventPT)
		r.mu.Lock()
		late := r.finished
		if !late {
			r.leg = leg // finish sees it from now on, and hangs it up
		}
		r.mu.Unlock()
		if late {
			// Answered after the attempt ended (its CANCEL lost the race
			// and no final response came in time): hang up here.
			_ = leg.Bye(context.Background())
			return
		}
		if !r.post(event{kind: evAnswered}) {
			return // finish hangs the leg up
		}
		r.mu.Lock()
		r.answered = true
		early := r.byeEarly
		r.mu.Unlock()
		if early {
			r.post(event{kind: evRemoteBye})
		}
	}()
}

func eventNotify(code int) event { return event{kind: evNotify, code: code} }

// refer sends REFER on the customer's leg: Refer-To the target at
// CallManager, with the call variables as URI headers.
func (r *run) refer(target string) {
	r.mu.Lock()
	leg := r.leg
	r.mu.Unlock()
	if leg == nil {
		go r.post(event{kind: evReferAnswer})
		return
	}
	cm := r.d.cfg.CallManager
	to := sip.Uri{Scheme: "sip", User: target, Host: cm.Addr().String(), Port: int(cm.Port())}
	for i, v := range r.a.CallVariables {
		if v != "" {
			to.Headers.Add(sipnode.CallVariableHeader(i+1), sipnode.EscapeURIHeader(v))
		}
	}
	by := r.d.node.URI(r.d.cfg.CallerID)
	r.d.wg.Add(1)
	go func() {
		defer r.d.wg.Done()
		res, err := leg.Request(context.Background(), sip.REFER, nil,
			sip.NewHeader("Refer-To", "<"+to.String()+">"), sip.NewHeader("Referred-By", "<"+by.String()+">"))
		code := 0
		if err == nil {
			code = res.StatusCode
		}
		r.post(event{kind: evReferAnswer, code: code})
	}()
}
