// Package fabric is the switching fabric of the simulation driver: the voice
// gateway, CallManager, IP-IVR and the agents' phones of the real driver,
// run on the centre's scheduler in virtual time. It implements
// centre.Voice, so a simulated centre carries every call over the same
// voice path as `ipcclab up` instead of letting the PG switch calls itself.
//
// Signalling is events: each SIP message is one scheduler event, delivered
// one hop latency (Config.Hop) after it was sent and carrying what the
// receiver decides on — the method or the status and reason, the Q.850
// cause, the Refer-To. Media is produced only where something analyses it:
// a caller's account digits at IP-IVR are real RFC 4733 telephone-event
// packets (pion/rtp), marshalled and read back through the RFC 4733 receive
// code the real IVR's streams use (media.EventReceiver); nothing else
// makes audio. The SIP messages and RTP packets can be observed as they
// arrive (Config.OnSIP, OnRTP: `simulate --voice --capture` writes them to
// the pcapng) — Render turns a Message into SIP text with sipgo's types.
//
// The decisions are the real components' own, extracted into pure code
// that both drivers call: the gateway's fate of an outbound call
// (gateway.Reject, CauseOf, the cause map) and its per-call draws
// (gateway.Draws), CallManager's dial plan, translation-route pool, RONA
// reconciliation and status-to-outcome reading (callmanager.DialPlan,
// TranslationRoutes, QueuesAtIVR, AtAgent, OutcomeOf, UnansweredStatus),
// its registrar (callmanager.Registrar), IP-IVR's collect-digits step
// (ivr.Collector) and the phones' offer handling (phones.OfferStatus).
// What is left here is the plumbing of a B2BUA between them — which leg a
// message belongs to and who hears it — written to follow the adapters
// step for step (the comments name the adapter function mirrored).
//
// The name: "fabric" is what the centre's Voice interface calls the thing
// that switches calls; this is the one for virtual time.
//
// Pure core: no goroutines, sockets, wall clock or global randomness
// (internal/archtest). Everything runs on the scheduler's goroutine.
package fabric

import (
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/ipcclab/ipcclab/emulator/callmanager"
	"github.com/ipcclab/ipcclab/emulator/centre"
	"github.com/ipcclab/ipcclab/emulator/gateway"
	"github.com/ipcclab/ipcclab/emulator/ivr"
	"github.com/ipcclab/ipcclab/emulator/pg"
	"github.com/ipcclab/ipcclab/emulator/pstn"
	"github.com/ipcclab/ipcclab/internal/sim"
)

// DefaultHop is the one-way latency of a SIP message or RTP packet between
// two components when Config.Hop is zero: a LAN hop plus processing.
const DefaultHop = 2 * time.Millisecond

// MaxHop bounds Config.Hop: a second per hop is already a broken network.
const MaxHop = time.Second

// registerEvery is how often the phones refresh their registrations (half
// of registerExpires, as emulator/phones does).
const (
	registerExpires = 3600 * time.Second
	registerEvery   = registerExpires / 2
)

// Config configures the fabric.
type Config struct {
	// Scheduler is the centre's (required).
	Scheduler sim.Scheduler
	// Seed seeds the gateway's per-call draws (gateway.Draws), as the real
	// gateway's Seed does; Accounts are the callers' account numbers
	// (gateway.Config.Accounts).
	Seed     uint64
	Accounts []string
	// Hop is each SIP message's and RTP packet's one-way latency (0:
	// DefaultHop; at most MaxHop).
	Hop time.Duration
	// Causes is the gateway's Q.850 ↔ SIP mapping (zero: RFC 3398).
	Causes gateway.CauseMap
	// IVR is IP-IVR's collect-digits step (zero fields: ivr defaults).
	IVR ivr.Script
	// TranslationRoutes is the first of TranslationRouteCount DNs on
	// IP-IVR (0: 7000 and 2000).
	TranslationRoutes     int
	TranslationRouteCount int
	// Registrar configures CallManager's registrar (Lines is filled in).
	// The phones register before traffic starts, as in the real driver,
	// so its REGISTER rate limits never come into play in a simulation.
	Registrar callmanager.RegistrarConfig
	// OnSIP, when set, sees every SIP message as it arrives; OnRTP every
	// RTP packet (the callers' RFC 4733 digits), with the packet's
	// addresses. Both run on the scheduler.
	OnSIP func(at time.Time, m Message)
	OnRTP func(at time.Time, src, dst netip.AddrPort, packet []byte)
	// Logf receives what the real components would log (nil: nothing).
	Logf func(format string, args ...any)
}

// Validate checks the configuration; errors name the field.
func (c Config) Validate() error {
	if c.Scheduler == nil {
		return errors.New("fabric: scheduler required")
	}
	if c.Hop < 0 || c.Hop > MaxHop {
		return fmt.Errorf("fabric: hop latency must be within 0..%v, got %v", MaxHop, c.Hop)
	}
	if c.TranslationRouteCount < 0 || c.TranslationRoutes < 0 {
		return fmt.Errorf("fabric: translation routes must not be negative, got first %d count %d", c.TranslationRoutes, c.TranslationRouteCount)
	}
	return nil
}

// Stats counts the fabric's work.
type Stats struct {
	// SIP messages and RTP packets delivered.
	SIPMessages, RTPPackets uint64
	// Gateway: inbound PSTN-model callers placed, refused (a final error
	// other than 487), outbound calls taken, answered, rejected (busy,
	// SIT …), cancelled.
	InboundModel, InboundFailed                            uint64
	Outbound, OutboundAnswered, OutboundRejected, Canceled uint64
	// CallManager: calls at route points, calls queued at IP-IVR,
	// predictive calls, phones rung and answered, INVITEs for numbers not
	// in the dial plan (404), phones not registered.
	Inbound, ToIVR, Predictive, ToPhone, PhoneAnswered, NoRoute, NoPhone uint64
	// IP-IVR: calls answered, digit strings ended, digits received,
	// transfers (REFER) sent.
	IVRCalls, DigitStrings, Digits, Transfers uint64
}

// Fabric is the switching fabric. Build it with New, give it to the centre
// as Config.Voice, then Attach the centre before Start.
type Fabric struct {
	cfg   Config
	sched sim.Scheduler
	hop   time.Duration
	cen   *centre.Centre
	stats Stats

	gw     gatewayNode
	cm     callManager
	ivr    ivrNode
	phones phoneNode
}

var _ centre.Voice = (*Fabric)(nil)

// New validates cfg and builds the fabric.
func New(cfg Config) (*Fabric, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Hop == 0 {
		cfg.Hop = DefaultHop
	}
	if cfg.TranslationRoutes == 0 {
		cfg.TranslationRoutes = 7000
	}
	if cfg.TranslationRouteCount == 0 {
		cfg.TranslationRouteCount = 2000
	}
	if len(cfg.Causes.ToSIP()) == 0 {
		cfg.Causes = gateway.DefaultCauseMap()
	}
	cfg.IVR = cfg.IVR.WithDefaults()
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	f := &Fabric{cfg: cfg, sched: cfg.Scheduler, hop: cfg.Hop}
	f.gw = gatewayNode{f: f, draws: gateway.NewDraws(cfg.Seed, cfg.Accounts), byCaller: map[*pstn.Caller]*inbound{}}
	f.ivr = ivrNode{f: f, ports: map[string]*ivrPort{}}
	return f, nil
}

// Attach wires the fabric to the centre built with it (on the scheduler,
// before the centre's Start): CallManager's dial plan from the call types
// and the agents' lines, the phones registered, the PG watched.
func (f *Fabric) Attach(cen *centre.Centre) error {
	if cen == nil {
		return errors.New("fabric: centre required")
	}
	if f.cen != nil {
		return errors.New("fabric: already attached")
	}
	f.cen = cen
	lines := map[string]string{}
	var exts []string
	for _, a := range cen.Agents() {
		id := a.AgentID
		if !a.InICM {
			id = ""
		}
		lines[a.Extension] = id
		exts = append(exts, a.Extension)
	}
	plan := callmanager.NewDialPlan(cen.DialedNumbers(), lines)
	rc := f.cfg.Registrar
	rc.Lines = plan.Extensions()
	f.cm = callManager{f: f, plan: plan, reg: callmanager.NewRegistrar(rc), calls: map[uint32]*call{},
		byTR: map[string]*call{}, trs: callmanager.NewTranslationRoutes(f.cfg.TranslationRoutes, f.cfg.TranslationRouteCount)}
	f.phones = phoneNode{f: f, phones: map[string]*phone{}}
	for _, ext := range exts {
		f.phones.phones[ext] = &phone{ext: ext}
	}
	// The real driver registers every phone before traffic starts and
	// refreshes at half the lifetime; so do we, without the REGISTER storm
	// (nothing is rate-limited before the first call).
	f.phones.register(exts)
	cen.Subscribe(f.cm.pgEvent)
	return nil
}

// Stats returns the counters so far.
func (f *Fabric) Stats() Stats { return f.stats }

// ---- centre.Voice ----

// Arrive places a PSTN-model caller's call into the gateway.
func (f *Fabric) Arrive(cl *pstn.Caller) { f.gw.arrive(cl) }

// Abandon: the caller's patience ran out; the gateway hangs up.
func (f *Fabric) Abandon(cl *pstn.Caller) { f.gw.abandon(cl) }

// Transfer rings device for the routed call (pg.Hooks.Transfer).
func (f *Fabric) Transfer(callID uint32, device string) { f.cm.transfer(callID, device) }

// Dial places the outside leg of a predictive call from a CTI port.
func (f *Fabric) Dial(r pg.DialRequest, h pstn.DialHandler) { f.cm.dial(r, h) }

// AnswerCall is the agent answering (lab's voice.AnswerCall): on the phone
// when CallManager carries the call, at the PG for calls CTI call control
// set up between agents.
func (f *Fabric) AnswerCall(instrument string, callID uint32) error {
	if f.cm.carries(callID) {
		return f.phones.answer(instrument)
	}
	return f.cen.PG().AnswerCall(instrument, callID)
}

// ClearConnection is the agent hanging up, on the phone when CallManager
// carries the call.
func (f *Fabric) ClearConnection(callID uint32, device string) error {
	if f.cm.carries(callID) {
		return f.phones.hangup(device)
	}
	return f.cen.PG().ClearConnection(callID, device)
}

// ---- hops ----

// send delivers m to its receiver one hop from now: deliver runs then, on
// the scheduler, after OnSIP has seen the message.
func (f *Fabric) send(m Message, deliver func()) {
	f.sched.At(f.sched.Now().Add(f.hop), func(now time.Time) {
		f.stats.SIPMessages++
		if f.cfg.OnSIP != nil {
			f.cfg.OnSIP(now, m)
		}
		if deliver != nil {
			deliver()
		}
	})
}

// later runs fn on the scheduler after the current event (CallManager's
// later: PG events emitted in the middle of an action must not re-enter
// it).
func (f *Fabric) later(fn func()) { f.sched.At(f.sched.Now(), func(time.Time) { fn() }) }

func (f *Fabric) logf(format string, args ...any) { f.cfg.Logf(format, args...) }

// trace sends a message nothing waits on (an ACK, a 100 Trying): only
// when someone observes the signalling (OnSIP), so it costs nothing
// otherwise.
func (f *Fabric) trace(m Message) {
	if f.cfg.OnSIP != nil {
		f.send(m, nil)
	}
}
