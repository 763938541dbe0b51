// Package ivr emulates Cisco IP-IVR in the real driver: it answers the calls
// CallManager sends to its translation-route DNs, plays the queue treatment
// as RTP (an announcement, then music), collects the caller's RFC 4733
// digits into CallerEnteredDigits, and, when the router picks an agent
// (Connect — the router's CONNECT, GED-125 §2.2 step 5), transfers the call
// there by sending REFER to CallManager. CallManager's NOTIFY (sipfrag
// "200 OK") tells it the agent answered; it then hangs up its leg.
//
// The queue-point sequence follows ipcc-behaviour.md §2.2 with the
// translation-route model: the DNIS the IVR sees is the translation route,
// which is how the call is correlated with the router's context.
package ivr

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/ipcclab/ipcclab/internal/media"
	"github.com/ipcclab/ipcclab/internal/rtpio"
	"github.com/ipcclab/ipcclab/internal/sipnode"
)

// Config configures IP-IVR.
type Config struct {
	// Addr is IP-IVR's SIP address (port 0 picks one).
	Addr string
	// CallManager is where REFER targets point.
	CallManager netip.AddrPort
	Media       *rtpio.Engine
	// Digits reports what a caller keyed on translation-route DN dn (any
	// goroutine).
	Digits func(dn, digits string)
	// DigitCount is how many digits the collect-digits script takes
	// (default 8; a '#' ends early); FirstDigitTimeout (default 6 s) and
	// InterDigitTimeout (default 3 s) bound the wait, as the Cisco
	// "Get Digit String" step does.
	DigitCount        int
	FirstDigitTimeout time.Duration
	InterDigitTimeout time.Duration
	// AnnouncementMs is the welcome announcement's length (default 2000).
	AnnouncementMs int
	// Silent is media off: calls are answered with SDP and the RTP stream
	// is opened, but no announcement or music is sent (signalling load
	// tests). Digits are still collected and the timers still run.
	Silent bool
	Seed   uint64
	Node   sipnode.Config
	Logf   func(format string, args ...any)
}

// Script is the configuration's collect-digits step, defaults applied.
func (c Config) Script() Script {
	return Script{DigitCount: c.DigitCount, FirstDigitTimeout: c.FirstDigitTimeout, InterDigitTimeout: c.InterDigitTimeout,
		Announcement: time.Duration(c.AnnouncementMs) * time.Millisecond}.WithDefaults()
}

// IVR is the emulated IP-IVR.
type IVR struct {
	cfg  Config
	node *sipnode.Node

	mu    sync.Mutex
	ports map[string]*port // by translation-route DN
	stats Stats

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// Stats counts IP-IVR's work.
type Stats struct {
	Calls, DigitStrings, Transfers, TransferFailures int
}

type port struct {
	dn      string
	leg     *sipnode.Leg
	stream  *rtpio.Stream
	collect *Collector // the Get Digit String step (collect.go)
	timer   *time.Timer
}

// New starts IP-IVR's SIP node.
func New(cfg Config) (*IVR, error) {
	if cfg.Media == nil {
		return nil, errors.New("ivr: media engine required")
	}
	sc := cfg.Script()
	cfg.DigitCount, cfg.FirstDigitTimeout, cfg.InterDigitTimeout = sc.DigitCount, sc.FirstDigitTimeout, sc.InterDigitTimeout
	cfg.AnnouncementMs = int(sc.Announcement / time.Millisecond)
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	v := &IVR{cfg: cfg, ports: map[string]*port{}, ctx: ctx, cancel: cancel}
	nc := cfg.Node
	nc.Name = "ivr"
	nc.Addr = cfg.Addr
	nc.OnInvite = v.onInvite
	node, err := sipnode.Start(nc)
	if err != nil {
		cancel()
		return nil, err
	}
	v.node = node
	return v, nil
}

// Addr is IP-IVR's SIP address.
func (v *IVR) Addr() netip.AddrPort { return v.node.Addr() }

// Stats returns the counters.
func (v *IVR) Stats() Stats {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.stats
}

// Close stops IP-IVR.
func (v *IVR) Close() error {
	err := v.node.Close()
	v.cancel()
	sipnode.WaitFor(&v.wg, 3*time.Second)
	return err
}

// announcement is the welcome prompt: speech-like, seeded per call.
func (v *IVR) announcement(dn string) media.Source {
	h := uint64(0)
	for _, c := range dn {
		h = h*31 + uint64(c)
	}
	g := media.NewSpeechGenerator(media.DefaultSpeechConfig(), rand.New(rand.NewPCG(v.cfg.Seed, h)))
	frames := v.cfg.AnnouncementMs / 20
	return &limited{g: g, left: frames}
}

type limited struct {
	g    *media.SpeechGenerator
	left int
}

func (l *limited) ReadFrame(dst []int16) bool {
	if l.left <= 0 {
		clear(dst)
		return false
	}
	l.left--
	l.g.Read(dst)
	return true
}

func (v *IVR) onInvite(in *sipnode.Incoming) {
	dn := in.To()
	if !in.HasOffer {
		_ = in.Reject(488, "Not Acceptable Here")
		return
	}
	v.mu.Lock()
	if _, busy := v.ports[dn]; busy {
		v.mu.Unlock()
		_ = in.Reject(486, "Busy Here")
		return
	}
	p := &port{dn: dn, collect: NewCollector(v.cfg.Script())}
	v.ports[dn] = p
	v.stats.Calls++
	v.mu.Unlock()

	st, err := v.cfg.Media.Open()
	if err != nil {
		v.drop(p)
		_ = in.Reject(503, "Service Unavailable")
		return
	}
	p.stream = st
	st.SetRemote(in.Offer.Addr, in.Offer.Law(), in.Offer.EventPT)
	if !v.cfg.Silent {
		st.SetSource(media.Sequence(v.announcement(dn), media.ToneSource(media.HoldMusic())))
	}
	st.OnDigit(func(d byte) { v.digit(p, d) })
	ans := sipnode.Description(sipnode.Answer(in.Offer, st.LocalAddr(), "ipcclab-ivr"), uint64(time.Now().UnixNano()), 1)
	leg, err := in.Answer(ans, sipnode.LegEvents{
		OnReinvite: func(l *sipnode.Leg, offer sipnode.Media) []byte {
			st.SetRemote(offer.Addr, offer.Law(), offer.EventPT)
			return nil
		},
		OnNotify: func(l *sipnode.Leg, event string, body []byte) {
			// CallManager's progress of our REFER: a final 2xx means the
			// agent has the call; our leg is done.
			if strings.HasPrefix(event, "refer") && strings.HasPrefix(string(body), "SIP/2.0 2") {
				v.wg.Add(1)
				go func() { defer v.wg.Done(); _ = l.Bye(v.ctx) }()
			}
		},
		OnEnd: func(l *sipnode.Leg, why sipnode.EndReason) { v.drop(p) },
	})
	if err != nil {
		v.drop(p)
		return
	}
	v.mu.Lock()
	p.leg = leg
	p.timer = time.AfterFunc(v.cfg.Script().FirstWait(), func() { v.timeout(p) })
	v.mu.Unlock()
}

func (v *IVR) drop(p *port) {
	v.mu.Lock()
	if v.ports[p.dn] == p {
		delete(v.ports, p.dn)
	}
	if p.timer != nil {
		p.timer.Stop()
	}
	st := p.stream
	p.stream = nil
	v.mu.Unlock()
	if st != nil {
		_ = st.Close()
	}
}

func (v *IVR) digit(p *port, d byte) {
	v.mu.Lock()
	st := p.collect.Digit(d)
	v.settle(p, st)
}

// timeout: no digit within the wait; whatever was keyed (possibly nothing)
// is the result.
func (v *IVR) timeout(p *port) {
	v.mu.Lock()
	st := p.collect.Timeout()
	v.settle(p, st)
}

// settle carries out the collector's step (with v.mu held; it unlocks):
// re-arm the timer, or end collection and report the digits to the router
// as CallerEnteredDigits.
func (v *IVR) settle(p *port, st Step) {
	if st.Rearm > 0 && p.timer != nil {
		p.timer.Reset(st.Rearm)
	}
	if !st.Done {
		v.mu.Unlock()
		return
	}
	if p.timer != nil {
		p.timer.Stop()
	}
	v.stats.DigitStrings++
	v.mu.Unlock()
	if st.Digits != "" && v.cfg.Digits != nil {
		v.cfg.Digits(p.dn, st.Digits)
	}
}

// Connect is the router's CONNECT for the call on translation-route DN dn:
// transfer it to label (the agent's extension) through CallManager.
func (v *IVR) Connect(dn, label string) {
	v.mu.Lock()
	p, ok := v.ports[dn]
	var leg *sipnode.Leg
	if ok {
		leg = p.leg
	}
	v.mu.Unlock()
	if leg == nil {
		v.cfg.Logf("ivr: CONNECT for %s: no call there", dn)
		return
	}
	cm := v.cfg.CallManager
	target := sip.Uri{Scheme: "sip", User: label, Host: cm.Addr().String(), Port: int(cm.Port())}
	v.wg.Add(1)
	go func() {
		defer v.wg.Done()
		res, err := leg.Request(v.ctx, sip.REFER, nil, sip.NewHeader("Refer-To", "<"+target.String()+">"),
			sip.NewHeader("Referred-By", "<sip:ivr@"+v.node.Addr().String()+">"))
		v.mu.Lock()
		if err != nil || res.StatusCode/100 != 2 {
			v.stats.TransferFailures++
		} else {
			v.stats.Transfers++
		}
		v.mu.Unlock()
		if err != nil {
			v.cfg.Logf("ivr: REFER %s → %s: %v", dn, label, err)
		}
	}()
}
