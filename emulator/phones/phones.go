// Package phones emulates the agents' IP phones in the real driver: one SIP
// user agent per extension (all served from one node, each registered with
// CallManager under its own directory number), ringing on INVITE, going
// off-hook when the agent answers, sending the agent's voice as RTP and
// hearing the caller's, hanging up with BYE.
//
// The people at the phones are emulator/agents (a pure core): the centre
// turns their "answer" and "hang up" into Answer and Hangup here, and the
// 200 OK and BYE that follow are what CallManager reports to the PG. A real
// softphone can register an agent's extension instead; CallManager then
// rings it and the emulated phone stays idle.
//
// This package owns sockets and goroutines (an adapter); it lives beside
// emulator/agents rather than inside it because that directory holds the
// pure model of the people.
package phones

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/ipcclab/ipcclab/internal/media"
	"github.com/ipcclab/ipcclab/internal/rtpio"
	"github.com/ipcclab/ipcclab/internal/sipnode"
)

// Config configures the phones.
type Config struct {
	// Addr is the phones' SIP address (port 0 picks one).
	Addr string
	// Registrar is CallManager's SIP address.
	Registrar netip.AddrPort
	// Extensions are the phones' directory numbers.
	Extensions []string
	// Media sends and receives the phones' RTP.
	Media *rtpio.Engine
	// Seed makes each phone's voice (the agent speaking) reproducible.
	Seed uint64
	// Expires is the registration lifetime (default 3600 s); phones
	// re-register at half of it.
	Expires time.Duration
	// Silent is media off: calls are answered with SDP and the RTP stream
	// is opened, but the agent's voice is not sent (signalling load tests).
	Silent bool
	// OnAudio, when set, gets the audio each phone hears (tests and
	// tone checks); it runs on the receive goroutine.
	OnAudio func(ext string, pcm []int16)
	Node    sipnode.Config
	Logf    func(format string, args ...any)
}

// Phones is the set of emulated phones.
type Phones struct {
	cfg  Config
	node *sipnode.Node

	mu     sync.Mutex
	phones map[string]*phone

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

type phone struct {
	ext     string
	ringing *sipnode.Incoming
	answer  chan struct{}
	leg     *sipnode.Leg
	stream  *rtpio.Stream
	voice   media.Source
}

// Stats counts what the phones did.
type Stats struct {
	Registered, Rang, Answered, HungUp, Busy int
}

// New starts the phones' SIP node; Register registers them.
func New(cfg Config) (*Phones, error) {
	if cfg.Media == nil {
		return nil, errors.New("phones: media engine required")
	}
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	if cfg.Expires <= 0 {
		cfg.Expires = time.Hour
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &Phones{cfg: cfg, phones: map[string]*phone{}, ctx: ctx, cancel: cancel}
	for _, ext := range cfg.Extensions {
		p.phones[ext] = &phone{ext: ext}
	}
	nc := cfg.Node
	nc.Name = "phone"
	nc.Addr = cfg.Addr
	nc.OnInvite = p.onInvite
	node, err := sipnode.Start(nc)
	if err != nil {
		cancel()
		return nil, err
	}
	p.node = node
	return p, nil
}

// Addr is the phones' SIP address.
func (p *Phones) Addr() netip.AddrPort { return p.node.Addr() }

// Register registers every phone with CallManager and keeps the
// registrations fresh until Close. It returns the first error.
func (p *Phones) Register(ctx context.Context) error {
	for _, ext := range p.cfg.Extensions {
		if err := p.register(ctx, ext, p.cfg.Expires); err != nil {
			return fmt.Errorf("phone %s: %w", ext, err)
		}
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(p.cfg.Expires / 2)
		defer t.Stop()
		for {
			select {
			case <-p.ctx.Done():
				return
			case <-t.C:
				for _, ext := range p.cfg.Extensions {
					if err := p.register(p.ctx, ext, p.cfg.Expires); err != nil {
						p.cfg.Logf("phone %s: re-register: %v", ext, err)
					}
				}
			}
		}
	}()
	return nil
}

func (p *Phones) register(ctx context.Context, ext string, expires time.Duration) error {
	reg := p.cfg.Registrar
	req := sip.NewRequest(sip.REGISTER, sip.Uri{Scheme: "sip", Host: reg.Addr().String(), Port: int(reg.Port())})
	aor := sip.Uri{Scheme: "sip", User: ext, Host: reg.Addr().String(), Port: int(reg.Port())}
	from := &sip.FromHeader{Address: aor, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(10))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: aor, Params: sip.NewParams()})
	c := p.node.Contact(ext)
	req.AppendHeader(&c)
	req.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(int(expires/time.Second))))
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	for attempt := 0; ; attempt++ {
		res, err := p.node.Do(ctx, req.Clone())
		if err != nil {
			return err
		}
		if res.StatusCode == 503 && attempt < 10 {
			// Rate-limited: back off as Retry-After asks (bounded).
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(100 * time.Millisecond):
			}
			continue
		}
		if res.StatusCode != 200 {
			return fmt.Errorf("REGISTER: %d %s", res.StatusCode, res.Reason)
		}
		return nil
	}
}

func (p *Phones) onInvite(in *sipnode.Incoming) {
	ext := in.To()
	p.mu.Lock()
	ph, ok := p.phones[ext]
	if code, reason := OfferStatus(ok, ok && (ph.ringing != nil || ph.leg != nil), in.HasOffer); code != 0 {
		p.mu.Unlock()
		_ = in.Reject(code, reason)
		return
	}
	ph.ringing = in
	ph.answer = make(chan struct{})
	answer := ph.answer
	p.mu.Unlock()

	auto := false
	if h := in.Req.GetHeader("Call-Info"); h != nil && AutoAnswer(h.Value()) {
		auto = true
	}
	if !auto {
		_ = in.Progress(180, "Ringing", nil)
		select {
		case <-answer:
		case <-in.Cancelled():
			p.mu.Lock()
			ph.ringing = nil
			p.mu.Unlock()
			return
		case <-p.ctx.Done():
			_ = in.Reject(503, "Service Unavailable")
			return
		}
	}
	p.offHook(ph, in)
}

func (p *Phones) offHook(ph *phone, in *sipnode.Incoming) {
	st, err := p.cfg.Media.Open()
	if err != nil {
		p.cfg.Logf("phone %s: %v", ph.ext, err)
		_ = in.Reject(503, "Service Unavailable")
		p.mu.Lock()
		ph.ringing = nil
		p.mu.Unlock()
		return
	}
	st.SetRemote(in.Offer.Addr, in.Offer.Law(), in.Offer.EventPT)
	if p.cfg.OnAudio != nil {
		ext := ph.ext
		st.OnAudio(func(pcm []int16) { p.cfg.OnAudio(ext, pcm) })
	}
	ext := ph.ext
	seed := p.cfg.Seed
	h := uint64(0)
	for _, c := range ext {
		h = h*31 + uint64(c)
	}
	if !p.cfg.Silent {
		st.SetSource(speech{media.NewSpeechGenerator(media.DefaultSpeechConfig(), rand.New(rand.NewPCG(seed, h)))})
	}
	ans := sipnode.Description(sipnode.Answer(in.Offer, st.LocalAddr(), "ipcclab-phone"), uint64(time.Now().UnixNano()), 1)
	leg, err := in.Answer(ans, sipnode.LegEvents{
		OnReinvite: func(l *sipnode.Leg, offer sipnode.Media) []byte {
			st.SetRemote(offer.Addr, offer.Law(), offer.EventPT)
			return nil
		},
		OnEnd: func(l *sipnode.Leg, why sipnode.EndReason) {
			_ = st.Close()
			p.mu.Lock()
			if ph.leg == l {
				ph.leg, ph.stream = nil, nil
			}
			p.mu.Unlock()
		},
	})
	p.mu.Lock()
	ph.ringing = nil
	if err == nil && leg.Ended() == sipnode.EndNone {
		ph.leg, ph.stream = leg, st
	}
	p.mu.Unlock()
	if err != nil {
		_ = st.Close()
		p.cfg.Logf("phone %s: answer: %v", ext, err)
	}
}

// speech adapts the speech generator to media.Source: the agent talks
// for as long as the call lasts.
type speech struct{ g *media.SpeechGenerator }

func (s speech) ReadFrame(dst []int16) bool { s.g.Read(dst); return true }

// Answer takes the ringing phone on ext off-hook (the agent answers). It
// does not wait for the 200 OK to be sent.
func (p *Phones) Answer(ext string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	ph, ok := p.phones[ext]
	if !ok {
		return fmt.Errorf("no emulated phone on %s", ext)
	}
	if ph.ringing == nil || ph.answer == nil {
		return fmt.Errorf("nothing ringing at %s", ext)
	}
	close(ph.answer)
	ph.answer = nil
	return nil
}

// Hangup hangs the phone on ext up (BYE); it does not wait.
func (p *Phones) Hangup(ext string) error {
	p.mu.Lock()
	ph, ok := p.phones[ext]
	var leg *sipnode.Leg
	if ok {
		leg = ph.leg
	}
	p.mu.Unlock()
	if leg == nil {
		return fmt.Errorf("no call at %s", ext)
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		_ = leg.Bye(p.ctx)
	}()
	return nil
}

// Stream returns the RTP stream of ext's current call (tests).
func (p *Phones) Stream(ext string) *rtpio.Stream {
	p.mu.Lock()
	defer p.mu.Unlock()
	if ph, ok := p.phones[ext]; ok {
		return ph.stream
	}
	return nil
}

// Close unregisters nothing (the process goes away) and stops the phones.
func (p *Phones) Close() error {
	err := p.node.Close()
	p.cancel()
	sipnode.WaitFor(&p.wg, 3*time.Second)
	return err
}
