package lab

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/ipcclab/ipcclab/emulator/centre"
	"github.com/ipcclab/ipcclab/emulator/fabric"
	"github.com/ipcclab/ipcclab/emulator/ivr"
	"github.com/ipcclab/ipcclab/internal/capture"
	"github.com/ipcclab/ipcclab/internal/sim"
	"github.com/ipcclab/ipcclab/scenarios"
)

// simVoice is the simulation driver's voice path: the switching fabric
// (emulator/fabric) carrying every call as SIP events in virtual time. A
// nil *simVoice is a run without it (the PG switches calls itself); every
// method is then a no-op, so Simulate reads the same either way.
type simVoice struct {
	fab  *fabric.Fabric
	w    *capture.Writer
	seed uint64
	seq  *fabric.Sequencer // CSeq numbers of the captured dialogs
}

// newSimVoice builds the fabric when the run asks for it (SimOptions.Voice
// or the scenario's voice.simulate), configured from the scenario's voice
// section as the real driver's components are (VoiceConfig).
func newSimVoice(sc *scenarios.Scenario, opts SimOptions, sched sim.Scheduler, logf func(string, ...any)) (*simVoice, error) {
	if !opts.Voice && !sc.Voice.Simulate {
		return nil, nil
	}
	vs, err := VoiceConfig(sc)
	if err != nil {
		return nil, err
	}
	v := &simVoice{seed: opts.Seed, seq: fabric.NewSequencer()}
	fc := fabric.Config{Scheduler: sched, Seed: opts.Seed, Accounts: CallerAccounts(sc), Hop: sc.Voice.HopLatency.D(), Causes: vs.Causes,
		IVR: ivr.Script{DigitCount: vs.DigitCount, FirstDigitTimeout: vs.FirstDigitTimeout, InterDigitTimeout: vs.InterDigitTimeout,
			Announcement: time.Duration(vs.AnnouncementMs) * time.Millisecond},
		TranslationRoutes: vs.TranslationRoutes, TranslationRouteCount: vs.TranslationRouteCount, Registrar: vs.Registrar, Logf: logf}
	if opts.Capture != "" {
		// Only a capture observes the signalling: without one the fabric
		// does not even schedule the messages nothing waits on.
		fc.OnSIP, fc.OnRTP = v.sip, v.rtp
	}
	v.fab, err = fabric.New(fc)
	if err != nil {
		return nil, fmt.Errorf("scenario %s: voice: %w", sc.Name, err)
	}
	return v, nil
}

// centreConfig puts the fabric into the centre's configuration.
func (v *simVoice) centreConfig(cc centre.Config) centre.Config {
	if v != nil {
		cc.Voice = v.fab
	}
	return cc
}

// attach wires the fabric to the centre built with it.
func (v *simVoice) attach(cen *centre.Centre) error {
	if v == nil {
		return nil
	}
	return v.fab.Attach(cen)
}

// capture records the fabric's SIP messages and RTP packets in w too,
// stamped with virtual time, beside the CTI link.
func (v *simVoice) capture(w *capture.Writer) {
	if v != nil {
		v.w = w
	}
}

// VoiceReport is what the simulated voice path did (fabric.Stats).
type VoiceReport struct {
	// SIPMessages that decided something (ACKs, 100 Trying and the like
	// are only produced for a capture) and RFC 4733 packets.
	SIPMessages uint64 `json:"sip_messages"`
	RTPPackets  uint64 `json:"rtp_packets"`
	// Inbound calls given to the router at a route point, queued at
	// IP-IVR, digit strings collected there, phones answered; INVITEs for
	// numbers not in the dial plan, phones not registered.
	Inbound       uint64 `json:"inbound"`
	ToIVR         uint64 `json:"to_ivr"`
	DigitStrings  uint64 `json:"digit_strings"`
	PhoneAnswered uint64 `json:"phone_answered"`
	NoRoute       uint64 `json:"no_route"`
	NoPhone       uint64 `json:"no_phone"`
	// Predictive calls through the gateway: taken, answered, rejected,
	// cancelled.
	Outbound          uint64 `json:"outbound"`
	OutboundAnswered  uint64 `json:"outbound_answered"`
	OutboundRejected  uint64 `json:"outbound_rejected"`
	OutboundCancelled uint64 `json:"outbound_cancelled"`
}

// report returns the fabric's counters (nil without it).
func (v *simVoice) report() *VoiceReport {
	if v == nil {
		return nil
	}
	st := v.fab.Stats()
	return &VoiceReport{SIPMessages: st.SIPMessages, RTPPackets: st.RTPPackets, Inbound: st.Inbound, ToIVR: st.ToIVR,
		DigitStrings: st.DigitStrings, PhoneAnswered: st.PhoneAnswered, NoRoute: st.NoRoute, NoPhone: st.NoPhone,
		Outbound: st.Outbound, OutboundAnswered: st.OutboundAnswered, OutboundRejected: st.OutboundRejected, OutboundCancelled: st.Canceled}
}

// sip writes one SIP message as the UDP datagram it stands for (only with a
// capture: the fabric skips the messages nothing waits on otherwise).
func (v *simVoice) sip(at time.Time, m fabric.Message) {
	if v.w == nil {
		return
	}
	v.seq.Number(&m)
	v.w.UDP(at, m.From.Addr(), m.To.Addr(), fabric.Render(m, v.seed))
}

func (v *simVoice) rtp(at time.Time, src, dst netip.AddrPort, packet []byte) {
	if v.w == nil {
		return
	}
	v.w.UDP(at, src, dst, packet)
}
