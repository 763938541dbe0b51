// Package gateway emulates the voice gateway between IPCC and the PSTN.
//
// It has two SIP sides. The trunk side faces CallManager and any dialer:
// inbound PSTN calls leave it toward CallManager, outbound calls arrive on
// it. The PSTN side is where the outside world is: either the PSTN model
// (emulator/pstn, with real media for every outcome — a live "hello?", an
// answering machine's greeting and beep, fax CNG, SIT and announcements,
// ringback and busy as early media) or an outside SIP peer (SIPp, a carrier
// simulator, an SBC) at the PSTN address, with its own callers dialing in.
//
// Outbound responses follow the call's fate as a real gateway reports it:
// 180 Ringing with the network's ringback as early media when the far end
// alerts, 183 Session Progress with in-band busy tone or SIT and
// announcement before a failure, 200 + ACK, 486, 480, 404, 503, CANCEL →
// 487; the cause ↔ status mapping is the configurable
// CauseMap (RFC 3398, ipcc-behaviour.md §4.2). An answered call from the
// PSTN model can be blind-transferred by whoever placed it (a SIP dialer,
// on live voice): REFER → INVITE to CallManager for the Refer-To user, the
// customer's media re-anchored on the new leg, NOTIFY with message/sipfrag
// (transfer.go). Toward an outside peer the
// gateway anchors media (two RTP streams bridged), as a gateway or SBC
// does, so the peer never sees the inside addresses.
//
// q850.go is pure; this file is the adapter (sockets, goroutines). The PSTN
// model runs on the centre's loop and is only touched through Post.
package gateway

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/ipcclab/ipcclab/emulator/pstn"
	"github.com/ipcclab/ipcclab/internal/media"
	"github.com/ipcclab/ipcclab/internal/rtpio"
	"github.com/ipcclab/ipcclab/internal/sipnode"
)

// Config configures the gateway.
type Config struct {
	// PSTNAddr is the PSTN-side SIP address (ipcclab up --sip-addr,
	// default 127.0.0.1:5060); TrunkAddr the trunk side's (port 0 picks).
	PSTNAddr  string
	TrunkAddr string
	// CallManager receives inbound calls.
	CallManager netip.AddrPort
	// PSTNPeer, when valid, is an outside SIP peer that plays the PSTN for
	// outbound calls (ipcclab up --pstn-addr); otherwise the PSTN model
	// answers them.
	PSTNPeer netip.AddrPort
	Media    *rtpio.Engine
	// Post runs fn on the centre's loop; World is the PSTN model there.
	Post  func(fn func())
	World *pstn.PSTN
	// Causes maps Q.850 causes to SIP statuses and back.
	Causes CauseMap
	// Seed draws the callers' account digits and the far ends' sounds.
	Seed uint64
	// Accounts are the account numbers PSTN-model callers key at IP-IVR,
	// one drawn per caller (empty: random eight-digit numbers).
	Accounts []string
	// DigitsToIVR makes PSTN-model callers key their account number when
	// IP-IVR answers (default on when the IVR collects digits).
	DigitsToIVR bool
	// Silent is media off: calls are answered with SDP and the RTP streams
	// are opened, but no audio is sent — no caller voice, ringback, busy
	// tone, SIT, announcement or far-end sound (signalling load tests).
	// DTMF digits and media toward an outside PSTN peer still flow.
	Silent    bool
	PSTNNode  sipnode.Config
	TrunkNode sipnode.Config
	Logf      func(format string, args ...any)
}

// Stats counts the gateway's calls by direction and fate.
type Stats struct {
	InboundModel, InboundOutside, InboundFailed  int
	Outbound, OutboundAnswered, OutboundRejected int
	OutboundCancelled                            int
	// OutboundTransferred counts answered outbound calls a REFER moved to
	// another destination (a dialer's blind transfer to an agent);
	// TransferFailed the REFERs whose INVITE failed.
	OutboundTransferred, TransferFailed int
}

// Gateway is the emulated voice gateway.
type Gateway struct {
	cfg   Config
	pstn  *sipnode.Node
	trunk *sipnode.Node

	mu      sync.Mutex
	callers map[string]*pstn.Caller   // trunk Call-ID → PSTN-model caller
	byID    map[*pstn.Caller]*inbound // for Abandon
	draws   *Draws                    // per-call draws (fate.go), on the loop
	stats   Stats

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

type inbound struct {
	cancel context.CancelFunc
	leg    *sipnode.Leg
	gone   bool
}

// New starts both SIP sides.
func New(cfg Config) (*Gateway, error) {
	if cfg.Media == nil || cfg.Post == nil {
		return nil, errors.New("gateway: media engine and post are required")
	}
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	if len(cfg.Causes.ToSIP()) == 0 {
		cfg.Causes = DefaultCauseMap()
	}
	ctx, cancel := context.WithCancel(context.Background())
	g := &Gateway{cfg: cfg, callers: map[string]*pstn.Caller{}, byID: map[*pstn.Caller]*inbound{},
		draws: NewDraws(cfg.Seed, cfg.Accounts), ctx: ctx, cancel: cancel}
	// The trunk side first: the PSTN side's INVITE handler uses it, and an
	// outside caller may call in the moment the PSTN side listens.
	tc := cfg.TrunkNode
	tc.Name, tc.Addr, tc.OnInvite = "gateway", cfg.TrunkAddr, g.fromTrunk
	var err error
	trunk, err := sipnode.Start(tc)
	if err != nil {
		cancel()
		return nil, err
	}
	g.trunk = trunk
	pc := cfg.PSTNNode
	pc.Name, pc.Addr, pc.OnInvite = "gateway-pstn", cfg.PSTNAddr, g.fromPSTN
	if g.pstn, err = sipnode.Start(pc); err != nil {
		g.trunk.Close()
		cancel()
		return nil, err
	}
	return g, nil
}

// PSTNAddr is the PSTN-side SIP address; TrunkAddr the trunk side's.
func (g *Gateway) PSTNAddr() netip.AddrPort  { return g.pstn.Addr() }
func (g *Gateway) TrunkAddr() netip.AddrPort { return g.trunk.Addr() }

// Nodes exposes both SIP nodes' counters (PSTN side, trunk side).
func (g *Gateway) Nodes() (pstnSide, trunkSide *sipnode.Node) { return g.pstn, g.trunk }

// Stats returns the call counters.
func (g *Gateway) Stats() Stats {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.stats
}

// Close stops both sides.
func (g *Gateway) Close() error {
	e1 := g.trunk.Close()
	e2 := g.pstn.Close()
	g.cancel()
	sipnode.WaitFor(&g.wg, 3*time.Second)
	return errors.Join(e1, e2)
}

func (g *Gateway) goSIP(fn func()) {
	g.wg.Add(1)
	go func() { defer g.wg.Done(); fn() }()
}

func (g *Gateway) cmURI(user string) sip.Uri {
	cm := g.cfg.CallManager
	return sip.Uri{Scheme: "sip", User: user, Host: cm.Addr().String(), Port: int(cm.Port())}
}

// ---- inbound from the PSTN model ----

// CallerOf returns the PSTN-model caller behind a trunk INVITE's Call-ID
// (CallManager asks, to tie the caller's patience to the call).
func (g *Gateway) CallerOf(sipCallID string) *pstn.Caller {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.callers[sipCallID]
}

// Arrive places a PSTN-model caller's call toward CallManager (on the loop).
func (g *Gateway) Arrive(cl *pstn.Caller) {
	account, seed := g.draws.Caller()
	sipCallID := fmt.Sprintf("pstn-%d-%d@gateway", g.cfg.Seed, cl.ID)
	ctx, cancel := context.WithCancel(g.ctx)
	in := &inbound{cancel: cancel}
	g.mu.Lock()
	g.callers[sipCallID] = cl
	g.byID[cl] = in
	g.stats.InboundModel++
	g.mu.Unlock()
	ani, dialed := cl.ANI, cl.DialedNumber
	g.goSIP(func() {
		defer func() {
			g.mu.Lock()
			delete(g.callers, sipCallID)
			delete(g.byID, cl)
			g.mu.Unlock()
		}()
		st, err := g.cfg.Media.Open()
		if err != nil {
			g.cfg.Logf("gateway: caller %s: %v", ani, err)
			return
		}
		defer st.Close()
		hs := &holdable{st: st}
		// The caller talks (to the IVR prompt, then to the agent).
		g.play(hs, pstn.NewSound(pstn.SoundCaller, rand.New(rand.NewPCG(seed, 1)), pstn.SoundOptions{}))
		offer := sipnode.Description(sipnode.Offer(st.LocalAddr(), "ipcclab-gateway"), seed, 1)
		cid := sip.CallIDHeader(sipCallID)
		leg, err := g.trunk.Invite(ctx, ani, g.cmURI(dialed), offer, sipnode.LegEvents{
			OnReinvite: func(l *sipnode.Leg, o sipnode.Media) []byte {
				hs.offer(o)
				return nil
			},
		}, nil, &cid)
		if err != nil {
			if sipnode.StatusOf(err) != 487 {
				g.mu.Lock()
				g.stats.InboundFailed++
				g.mu.Unlock()
				g.cfg.Logf("gateway: caller %s → %s: %v", ani, dialed, err)
			}
			return
		}
		m := leg.Remote()
		st.SetRemote(m.Addr, m.Law(), m.EventPT)
		g.mu.Lock()
		in.leg = leg
		gone := in.gone
		g.mu.Unlock()
		if gone {
			_ = leg.Bye(g.ctx)
			return
		}
		if g.cfg.DigitsToIVR && m.Origin == "ipcclab-ivr" {
			// The caller listens to the welcome prompt, then keys the
			// account number and '#'.
			t := time.NewTimer(CallerKeyDelay)
			select {
			case <-t.C:
				_ = st.SendDigits(account+"#", DigitOnMs, DigitGapMs)
			case <-leg.Done():
				t.Stop()
			}
		}
		<-leg.Done()
	})
}

// Abandon hangs a PSTN-model caller up (patience ran out; on the loop).
func (g *Gateway) Abandon(cl *pstn.Caller) {
	g.mu.Lock()
	in := g.byID[cl]
	var leg *sipnode.Leg
	if in != nil {
		in.gone = true
		leg = in.leg
	}
	g.mu.Unlock()
	if in == nil {
		return
	}
	in.cancel() // CANCEL while the INVITE is pending
	if leg != nil {
		g.goSIP(func() { _ = leg.Bye(g.ctx) })
	}
}

// ---- inbound from an outside SIP caller (SIPp, a softphone) ----

func (g *Gateway) fromPSTN(in *sipnode.Incoming) {
	if !in.HasOffer {
		_ = in.Reject(488, "Not Acceptable Here - an SDP offer is required")
		return
	}
	g.mu.Lock()
	g.stats.InboundOutside++
	g.mu.Unlock()
	outside, err := g.cfg.Media.Open()
	if err != nil {
		_ = in.Reject(503, "Service Unavailable")
		return
	}
	inside, err := g.cfg.Media.Open()
	if err != nil {
		outside.Close()
		_ = in.Reject(503, "Service Unavailable")
		return
	}
	outside.SetRemote(in.Offer.Addr, in.Offer.Law(), in.Offer.EventPT)
	stop := rtpio.Bridge(outside, inside)
	cleanup := func() { stop(); _ = outside.Close(); _ = inside.Close() }
	ctx, cancel := context.WithCancel(g.ctx)
	defer cancel()
	go func() {
		select {
		case <-in.Cancelled():
			cancel()
		case <-ctx.Done():
		}
	}()
	offer := sipnode.Description(sipnode.Offer(inside.LocalAddr(), "ipcclab-gateway"), uint64(time.Now().UnixNano()), 1)
	var rang sync.Once
	var pstnLeg *sipnode.Leg
	var mu sync.Mutex
	lastDir := "sendrecv"
	sid := uint64(time.Now().UnixNano()) // our o= session ID toward the caller
	trunkLeg, err := g.trunk.Invite(ctx, in.From(), g.cmURI(in.To()), offer, sipnode.LegEvents{
		OnReinvite: func(l *sipnode.Leg, o sipnode.Media) []byte {
			inside.SetRemote(o.Addr, o.Law(), o.EventPT)
			// Hold and resume pass through to the outside caller, as a
			// SIP-to-SIP gateway does (mid-call signalling pass-through);
			// a mere media move stays inside.
			mu.Lock()
			pl, changed := pstnLeg, o.Direction != lastDir
			lastDir = o.Direction
			mu.Unlock()
			if changed && pl != nil {
				m := sipnode.Answer(in.Offer, outside.LocalAddr(), "ipcclab-gateway")
				m.Direction = o.Direction
				sdp := sipnode.Description(m, sid, pl.NextVersion()+1)
				g.goSIP(func() { _, _ = pl.Reinvite(g.ctx, sdp) })
			}
			return nil
		},
		OnEnd: func(l *sipnode.Leg, why sipnode.EndReason) {
			if why == sipnode.EndRemoteBye {
				mu.Lock()
				pl := pstnLeg
				mu.Unlock()
				if pl != nil {
					g.goSIP(func() { _ = pl.Bye(g.ctx) })
				}
			}
		},
	}, func(p sipnode.Provisional) {
		rang.Do(func() { _ = in.Progress(180, "Ringing", nil) })
	})
	if err != nil {
		cleanup()
		code := sipnode.StatusOf(err)
		if code < 300 {
			code = 503
		}
		if code != 487 {
			_ = in.Reject(code, ReasonPhrase(code))
		}
		return
	}
	m := trunkLeg.Remote()
	inside.SetRemote(m.Addr, m.Law(), m.EventPT)
	answer := sipnode.Description(sipnode.Answer(in.Offer, outside.LocalAddr(), "ipcclab-gateway"), sid, 1)
	pl, err := in.Answer(answer, sipnode.LegEvents{
		OnReinvite: func(l *sipnode.Leg, o sipnode.Media) []byte {
			outside.SetRemote(o.Addr, o.Law(), o.EventPT)
			return nil
		},
		OnEnd: func(l *sipnode.Leg, why sipnode.EndReason) {
			if why == sipnode.EndRemoteBye {
				g.goSIP(func() { _ = trunkLeg.Bye(g.ctx) })
			}
		},
	})
	if err != nil {
		cleanup()
		g.goSIP(func() { _ = trunkLeg.Bye(g.ctx) })
		return
	}
	mu.Lock()
	pstnLeg = pl
	mu.Unlock()
	if trunkLeg.Ended() != sipnode.EndNone {
		g.goSIP(func() { _ = pl.Bye(g.ctx) })
	}
	g.goSIP(func() {
		select {
		case <-pl.Done():
		case <-trunkLeg.Done():
		}
		<-pl.Done()
		<-trunkLeg.Done()
		cleanup()
	})
}

// ---- outbound: trunk → PSTN ----

func (g *Gateway) fromTrunk(in *sipnode.Incoming) {
	if !in.HasOffer {
		_ = in.Reject(488, "Not Acceptable Here - an SDP offer is required")
		return
	}
	g.mu.Lock()
	g.stats.Outbound++
	g.mu.Unlock()
	if g.cfg.PSTNPeer.IsValid() {
		g.toPeer(in)
		return
	}
	g.toModel(in)
}

// toModel lets the PSTN model decide the call's fate and plays its sound.
func (g *Gateway) toModel(in *sipnode.Incoming) {
	st, err := g.cfg.Media.Open()
	if err != nil {
		_ = in.Reject(503, "Service Unavailable")
		return
	}
	st.SetRemote(in.Offer.Addr, in.Offer.Law(), in.Offer.EventPT)
	hs := &holdable{st: st}
	local := sipnode.Answer(in.Offer, st.LocalAddr(), "ipcclab-gateway")
	sdp := sipnode.Description(local, uint64(time.Now().UnixNano()), 1)
	number := in.To()

	type fate struct {
		kind    string // alerting, answered, failed, hungup
		outcome pstn.Outcome
		seed    uint64
	}
	events := make(chan fate, 8)
	var callee *pstn.Callee
	g.cfg.Post(func() {
		seed := g.draws.Callee()
		callee = g.cfg.World.Dial(number, 0, pstn.DialHandler{
			Alerting: func() { events <- fate{kind: "alerting", seed: seed} },
			Answered: func() {
				events <- fate{kind: "answered", outcome: callee.Outcome(), seed: seed}
				callee.Connected() // the customer talks, then hangs up
			},
			Failed: func(o pstn.Outcome) { events <- fate{kind: "failed", outcome: o, seed: seed} },
			HungUp: func() { events <- fate{kind: "hungup"} },
		})
	})
	drop := func() { g.cfg.Post(func() { callee.Drop() }) }
	var leg *sipnode.Leg
	for {
		select {
		case <-in.Cancelled():
			g.mu.Lock()
			g.stats.OutboundCancelled++
			g.mu.Unlock()
			drop()
			_ = st.Close()
			return
		case <-g.ctx.Done():
			_ = in.Reject(503, "Service Unavailable")
			_ = st.Close()
			return
		case f := <-events:
			r := rand.New(rand.NewPCG(f.seed, 2))
			switch f.kind {
			case "alerting":
				// The far end rings (ISDN ALERTING): 180 with the
				// network's ringback as early media (RFC 3960 gateway
				// model). In-band failure tones go out as 183 Session
				// Progress instead (ISDN PROGRESS), which is not alerting.
				g.play(hs, pstn.NewSound(pstn.SoundRingback, r, pstn.SoundOptions{}))
				_ = in.Progress(180, "Ringing", sdp)
			case "answered":
				kind, _ := f.outcome.AnsweredSound()
				g.play(hs, pstn.NewSound(kind, r, pstn.SoundOptions{}))
				oc := &outCall{g: g, number: number, st: st, hs: hs, drop: drop, seed: f.seed, done: make(chan struct{})}
				leg, err = in.Answer(sdp, sipnode.LegEvents{
					OnReinvite: func(l *sipnode.Leg, o sipnode.Media) []byte {
						oc.reinvite(l, o)
						return nil
					},
					OnRefer: oc.refer,
					OnEnd:   oc.legEnded,
				})
				if err != nil {
					drop()
					_ = st.Close()
					return
				}
				oc.mu.Lock()
				oc.leg = leg
				oc.mu.Unlock()
				g.mu.Lock()
				g.stats.OutboundAnswered++
				g.mu.Unlock()
				// The call lives on (on this leg, or on the leg a REFER
				// moved it to); a "hungup" fate ends it.
				g.goSIP(func() {
					for {
						select {
						case f := <-events:
							if f.kind == "hungup" {
								oc.hangUp()
								return
							}
						case <-oc.done:
							return
						case <-g.ctx.Done():
							return
						}
					}
				})
				return
			case "failed":
				g.reject(in, st, f.outcome, r, sdp)
				return
			}
		}
	}
}

// play sends src on st unless the gateway is Silent (media off). The sound
// is still built, so that the random streams do not depend on Silent.
func (g *Gateway) play(st interface{ SetSource(media.Source) }, src media.Source) {
	if !g.cfg.Silent {
		st.SetSource(src)
	}
}

// reject plays the failure's in-band tone as early media where the network
// would (busy tone, SIT + announcement), then sends the mapped final
// response (the decision is Reject's, fate.go).
func (g *Gateway) reject(in *sipnode.Incoming, st *rtpio.Stream, o pstn.Outcome, r *rand.Rand, sdp []byte) {
	defer st.Close()
	g.mu.Lock()
	g.stats.OutboundRejected++
	g.mu.Unlock()
	rj := Reject(o, g.cfg.Causes)
	if rj.HasEarly {
		g.play(st, pstn.NewSound(rj.Early, r, pstn.SoundOptions{Announcements: 1}))
		if err := in.Progress(183, "Session Progress", sdp); err == nil {
			t := time.NewTimer(rj.Hold)
			select {
			case <-t.C:
			case <-in.Cancelled():
				t.Stop()
				return
			}
		}
	}
	_ = in.Reject(rj.Status, rj.Reason, sip.NewHeader("Reason", rj.ReasonHeader()))
}

// toPeer forwards an outbound call to the outside PSTN peer, bridging media.
func (g *Gateway) toPeer(in *sipnode.Incoming) {
	inside, err := g.cfg.Media.Open()
	if err != nil {
		_ = in.Reject(503, "Service Unavailable")
		return
	}
	outside, err := g.cfg.Media.Open()
	if err != nil {
		inside.Close()
		_ = in.Reject(503, "Service Unavailable")
		return
	}
	inside.SetRemote(in.Offer.Addr, in.Offer.Law(), in.Offer.EventPT)
	stop := rtpio.Bridge(inside, outside)
	cleanup := func() { stop(); _ = inside.Close(); _ = outside.Close() }
	ctx, cancel := context.WithCancel(g.ctx)
	defer cancel()
	go func() {
		select {
		case <-in.Cancelled():
			cancel()
		case <-ctx.Done():
		}
	}()
	peer := g.cfg.PSTNPeer
	target := sip.Uri{Scheme: "sip", User: in.To(), Host: peer.Addr().String(), Port: int(peer.Port())}
	offer := sipnode.Description(sipnode.Offer(outside.LocalAddr(), "ipcclab-gateway"), uint64(time.Now().UnixNano()), 1)
	answerSDP := sipnode.Description(sipnode.Answer(in.Offer, inside.LocalAddr(), "ipcclab-gateway"), uint64(time.Now().UnixNano()), 1)
	var trunkLeg *sipnode.Leg
	var mu sync.Mutex
	peerLeg, err := g.pstn.Invite(ctx, in.From(), target, offer, sipnode.LegEvents{
		OnReinvite: func(l *sipnode.Leg, o sipnode.Media) []byte {
			outside.SetRemote(o.Addr, o.Law(), o.EventPT)
			return nil
		},
		OnEnd: func(l *sipnode.Leg, why sipnode.EndReason) {
			if why == sipnode.EndRemoteBye {
				mu.Lock()
				tl := trunkLeg
				mu.Unlock()
				if tl != nil {
					g.goSIP(func() { _ = tl.Bye(g.ctx) })
				}
			}
		},
	}, func(p sipnode.Provisional) {
		if p.HasEarly {
			outside.SetRemote(p.Early.Addr, p.Early.Law(), p.Early.EventPT)
			_ = in.Progress(p.Code, p.Reason, answerSDP)
			return
		}
		_ = in.Progress(p.Code, p.Reason, nil)
	})
	if err != nil {
		cleanup()
		code := sipnode.StatusOf(err)
		if code < 300 {
			code = 503
		}
		if code != 487 {
			// The peer's status passes through, re-mapped via Q.850 the
			// way an ISUP hop would (RFC 3398 §8.2.6.1 then §7.2.4.1).
			mapped, reason := g.cfg.Causes.Status(g.cfg.Causes.Cause(code))
			if mapped == 0 { // normal clearing: no response code of its own
				mapped, reason = 480, ReasonPhrase(480)
			}
			_ = in.Reject(mapped, reason)
		}
		return
	}
	m := peerLeg.Remote()
	outside.SetRemote(m.Addr, m.Law(), m.EventPT)
	tl, err := in.Answer(answerSDP, sipnode.LegEvents{
		OnReinvite: func(l *sipnode.Leg, o sipnode.Media) []byte {
			inside.SetRemote(o.Addr, o.Law(), o.EventPT)
			return nil
		},
		OnEnd: func(l *sipnode.Leg, why sipnode.EndReason) {
			if why == sipnode.EndRemoteBye {
				g.goSIP(func() { _ = peerLeg.Bye(g.ctx) })
			}
		},
	})
	if err != nil {
		cleanup()
		g.goSIP(func() { _ = peerLeg.Bye(g.ctx) })
		return
	}
	g.mu.Lock()
	g.stats.OutboundAnswered++
	g.mu.Unlock()
	mu.Lock()
	trunkLeg = tl
	mu.Unlock()
	if peerLeg.Ended() != sipnode.EndNone {
		g.goSIP(func() { _ = tl.Bye(g.ctx) })
	}
	g.goSIP(func() {
		<-tl.Done()
		<-peerLeg.Done()
		cleanup()
	})
}

// holdable is a stream whose own audio pauses while the far end holds the
// call (a re-INVITE offering sendonly or inactive must be answered recvonly
// or inactive, and then we must not send — RFC 3264 §6.1).
type holdable struct {
	mu   sync.Mutex
	st   *rtpio.Stream
	src  media.Source
	held bool
}

// SetSource sets what the stream sends once the call is not held.
func (h *holdable) SetSource(src media.Source) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.src = src
	if !h.held {
		h.st.SetSource(src)
	}
}

func (h *holdable) offer(o sipnode.Media) {
	h.st.SetRemote(o.Addr, o.Law(), o.EventPT)
	held := o.Direction == "sendonly" || o.Direction == "inactive"
	h.mu.Lock()
	defer h.mu.Unlock()
	if held == h.held {
		return
	}
	h.held = held
	if held {
		h.st.SetSource(nil)
	} else {
		h.st.SetSource(h.src)
	}
}
