// Package callmanager emulates Unified CallManager for the real driver: the
// lines and their registrations (a SIP registrar for the agent phones), the
// dial plan (CTI route points for the call types' dialed numbers,
// translation routes to IP-IVR, everything else out of the gateway), and a
// back-to-back user agent that connects the gateway's trunk leg to IP-IVR
// and to the agent's phone.
//
// CallManager is where signalling becomes CTI: a call arriving at a route
// point is given to the PG and the router (centre.Incoming); a call
// addressed to a line (an agent's extension — a SIP dialer's transfer of
// its customer to the agent it reserved, arriving from the gateway) rings
// that phone directly with auto-answer (pg.DirectIncoming, DirectAnswered);
// the phone's
// 180 Ringing reports the routed call at the agent (pg.DeviceAlerting →
// CALL_DELIVERED); its 200 OK is the agent answering (pg.AnswerCall →
// CALL_ESTABLISHED); a BYE is a party hanging up. In the other direction the
// PG's events tear legs down: RONA cancels the ringing phone, a CTI
// ClearCall hangs everybody up.
//
// Media never passes through CallManager (as with Unified CM): legs are
// re-pointed with re-INVITEs. The one exception is the CTI port that places
// a predictive call: it holds the call's media until an agent is connected,
// which is where answering-machine detection listens.
//
// Decisions run on the centre's event loop (Post); SIP transactions run on
// goroutines and report back through it.
package callmanager

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/ipcclab/ipcclab/emulator/centre"
	"github.com/ipcclab/ipcclab/emulator/pg"
	"github.com/ipcclab/ipcclab/emulator/pstn"
	"github.com/ipcclab/ipcclab/internal/rtpio"
	"github.com/ipcclab/ipcclab/internal/sim"
	"github.com/ipcclab/ipcclab/internal/sipnode"
)

// Centre is what CallManager needs of the emulated IPCC; every method runs
// on the loop.
type Centre interface {
	Incoming(in centre.InboundCall) (uint32, error)
	Hangup(callID uint32)
	CollectedDigits(callID uint32, digits string) error
	PG() *pg.PG
}

// Config configures CallManager.
type Config struct {
	// Addr is CallManager's SIP address (port 0 picks one).
	Addr string
	// Scheduler is the centre's loop; Post runs fn on it from any
	// goroutine.
	Scheduler sim.Scheduler
	Post      func(fn func())
	Centre    Centre
	// Lines maps directory numbers (extensions) to their agent IDs ("" for
	// lines without an ICM agent).
	Lines map[string]string
	// RoutePoints are the dialed numbers of the call types.
	RoutePoints []string
	// Gateway is the gateway's trunk-side address: predictive calls and
	// any number not in the dial plan go there.
	Gateway netip.AddrPort
	// IVR is IP-IVR's address; TranslationRoutes is the first of
	// TranslationRouteCount consecutive translation-route DNs on it.
	IVR                   netip.AddrPort
	TranslationRoutes     int
	TranslationRouteCount int
	// IVRConnect tells IP-IVR to transfer the call it holds on
	// translation-route DN dn to label (the router's CONNECT, GED-125).
	IVRConnect func(dn, label string)
	// Media is the RTP engine of the CTI ports placing predictive calls.
	Media *rtpio.Engine
	// Registrar limits (zero = defaults).
	Registrar RegistrarConfig
	// RemoteRegistration lets phones register from other hosts than
	// loopback (off by default: the lab is not a PBX on the network).
	RemoteRegistration bool
	Node               sipnode.Config
	Logf               func(format string, args ...any)
}

// CallManager is the emulated Unified CM.
type CallManager struct {
	cfg  Config
	node *sipnode.Node
	reg  *Registrar
	plan *DialPlan // route points and lines (dialplan.go)

	// on the loop:
	calls map[uint32]*call
	byTR  map[string]*call
	trs   *TranslationRoutes

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu    sync.Mutex
	stats Stats

	// CallerOf, when set, finds the PSTN-model caller behind a trunk
	// INVITE by its SIP Call-ID (the gateway keeps its own calls); nil for
	// outside callers. Called on the loop.
	CallerOf func(sipCallID string) *pstn.Caller
}

// Stats counts CallManager's calls.
type Stats struct {
	Inbound, Outbound, ToIVR, ToPhone, PhoneAnswered, Transfers, NoRoute, NoPhone uint64
	// Direct counts calls addressed to an extension (a dialer's transfers)
	// the PG took; DirectRefused those it refused (agent busy, offline).
	Direct, DirectRefused uint64
}

type call struct {
	id       uint32
	ani      string
	outbound bool

	// the customer's leg (gateway trunk)
	in       *sipnode.Incoming
	caller   *sipnode.Leg
	offer    []byte // the gateway's SDP (where the customer's media goes)
	answered bool   // caller leg answered (200 sent / received)

	// IP-IVR
	tr  string
	ivr *sipnode.Leg

	// the agent's phone
	ext         string
	phone       *sipnode.Leg
	phoneCancel context.CancelFunc
	alerted     bool

	// direct: a call addressed to the extension itself (DirectIncoming),
	// auto-answered; failCode is the phone's refusal, passed back.
	direct   bool
	failCode int

	// predictive call
	dial     pstn.DialHandler
	port     *rtpio.Stream
	dialStop context.CancelFunc
	alerting bool

	ended bool
}

// New starts CallManager's SIP node.
func New(cfg Config) (*CallManager, error) {
	if cfg.Scheduler == nil || cfg.Post == nil || cfg.Centre == nil {
		return nil, errors.New("callmanager: scheduler, post and centre are required")
	}
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	plan := NewDialPlan(cfg.RoutePoints, cfg.Lines)
	cfg.Registrar.Lines = plan.Extensions()
	ctx, cancel := context.WithCancel(context.Background())
	cm := &CallManager{cfg: cfg, reg: NewRegistrar(cfg.Registrar), plan: plan,
		calls: map[uint32]*call{}, byTR: map[string]*call{}, trs: NewTranslationRoutes(cfg.TranslationRoutes, cfg.TranslationRouteCount),
		ctx: ctx, cancel: cancel}
	nc := cfg.Node
	nc.Name = "callmanager"
	nc.Addr = cfg.Addr
	nc.OnInvite = cm.onInvite
	nc.OnRequest = cm.onRequest
	node, err := sipnode.Start(nc)
	if err != nil {
		cancel()
		return nil, err
	}
	cm.node = node
	return cm, nil
}

// Addr is CallManager's SIP address.
func (cm *CallManager) Addr() netip.AddrPort { return cm.node.Addr() }

// Node exposes the SIP node's counters.
func (cm *CallManager) Node() *sipnode.Node { return cm.node }

// Stats returns the call counters.
func (cm *CallManager) Stats() Stats {
	cm.mu.Lock()
	defer cm.mu.Unlock()
	return cm.stats
}

func (cm *CallManager) count(f func(*Stats)) {
	cm.mu.Lock()
	f(&cm.stats)
	cm.mu.Unlock()
}

// Close hangs nothing up (the process is going away) and stops serving.
func (cm *CallManager) Close() error {
	// The node first: closing it ends every transaction, so a CANCEL or BYE
	// in flight returns at once instead of waiting out Timer F for a peer
	// that is also going away.
	err := cm.node.Close()
	cm.cancel()
	sipnode.WaitFor(&cm.wg, 3*time.Second)
	return err
}

func (cm *CallManager) goSIP(fn func(ctx context.Context)) {
	cm.wg.Add(1)
	go func() {
		defer cm.wg.Done()
		fn(cm.ctx)
	}()
}

// later runs fn on the loop after the current event, so that PG events
// emitted in the middle of a CallManager action do not re-enter it.
func (cm *CallManager) later(fn func()) {
	cm.cfg.Scheduler.At(cm.cfg.Scheduler.Now(), func(time.Time) { fn() })
}

// ---- registrar ----

func (cm *CallManager) onRequest(req *sip.Request, tx sip.ServerTransaction) {
	switch req.Method {
	case sip.REGISTER:
		cm.register(req, tx)
	case sip.OPTIONS:
		_ = sipnode.Respond(req, tx, 200, "OK")
	default:
		_ = sipnode.Respond(req, tx, 405, "Method Not Allowed")
	}
}

func (cm *CallManager) register(req *sip.Request, tx sip.ServerTransaction) {
	src, err := netip.ParseAddrPort(req.Source())
	if err != nil {
		_ = sipnode.Respond(req, tx, 400, "Bad Request - source address")
		return
	}
	src = netip.AddrPortFrom(src.Addr().Unmap(), src.Port())
	if !cm.cfg.RemoteRegistration && !src.Addr().IsLoopback() {
		_ = sipnode.Respond(req, tx, 403, "Forbidden - registration from loopback only")
		return
	}
	to := req.To()
	if to == nil || to.Address.User == "" {
		_ = sipnode.Respond(req, tx, 400, "Bad Request - To has no user (the extension)")
		return
	}
	ext := to.Address.User
	expires := 3600 * time.Second
	if h := req.GetHeader("Expires"); h != nil {
		n, err := strconv.Atoi(strings.TrimSpace(h.Value()))
		if err != nil || n < 0 {
			_ = sipnode.Respond(req, tx, 400, "Bad Request - Expires")
			return
		}
		expires = time.Duration(n) * time.Second
	}
	contact := ""
	if c := req.Contact(); c != nil {
		if v, ok := c.Params.Get("expires"); ok {
			if n, err := strconv.Atoi(v); err == nil && n >= 0 {
				expires = time.Duration(n) * time.Second
			}
		}
		u := c.Address
		if c.Address.Wildcard {
			expires = 0
		} else {
			contact = u.String()
		}
	} else if expires > 0 {
		// A REGISTER without Contact queries the bindings (RFC 3261
		// §10.2.3); we answer with no bindings listed.
		_ = sipnode.Respond(req, tx, 200, "OK")
		return
	}
	type verdict struct {
		code   int
		reason string
	}
	ch := make(chan verdict, 1)
	cm.cfg.Post(func() {
		now := cm.cfg.Scheduler.Now()
		if !cm.reg.Allow(now, src.Addr()) {
			ch <- verdict{503, "Service Unavailable"}
			return
		}
		if err := cm.reg.Register(now, ext, contact, src, expires); err != nil {
			ch <- verdict{404, "Not Found"}
			return
		}
		ch <- verdict{200, "OK"}
	})
	var v verdict
	select {
	case v = <-ch:
	case <-time.After(2 * time.Second):
		v = verdict{503, "Service Unavailable"}
	}
	var hdrs []sip.Header
	switch v.code {
	case 200:
		if c := req.Contact(); c != nil && expires > 0 {
			cc := c.Clone()
			cc.Params.Add("expires", strconv.Itoa(int(expires/time.Second)))
			hdrs = append(hdrs, cc)
		}
	case 503:
		hdrs = append(hdrs, sip.NewHeader("Retry-After", "5"))
	}
	_ = sipnode.Respond(req, tx, v.code, v.reason, hdrs...)
}

// Registrations lists the live phone bindings (on the loop).
func (cm *CallManager) Registrations() []Binding { return cm.reg.Bindings(cm.cfg.Scheduler.Now()) }

// RegistrarCounters returns accepted, refused (unknown line) and
// rate-limited REGISTERs (on the loop).
func (cm *CallManager) RegistrarCounters() (accepted, refused, limited uint64) {
	return cm.reg.Accepted, cm.reg.Refused, cm.reg.Limited
}

// ---- inbound: gateway → route point → IVR → phone ----

func (cm *CallManager) onInvite(in *sipnode.Incoming) {
	to := in.To()
	if !in.HasOffer {
		_ = in.Reject(488, "Not Acceptable Here - an SDP offer is required")
		return
	}
	switch cm.plan.Route(to) {
	case DestLine:
		cm.cfg.Post(func() { cm.direct(in) })
		return
	case DestUnknown:
		cm.count(func(s *Stats) { s.NoRoute++ })
		_ = in.Reject(404, "Not Found")
		return
	}
	sipCallID := ""
	if h := in.Req.CallID(); h != nil {
		sipCallID = h.Value()
	}
	cm.cfg.Post(func() { cm.routePoint(in, sipCallID) })
}

// direct takes a call addressed to a line's extension: a dialer's customer
// transferred (REFER → the gateway's INVITE) to the agent it reserved. The
// PG reports the call at the agent (pg.DirectIncoming) and the phone is
// rung with auto-answer: the reserved agent is waiting on the headset. The
// call variables come in X-CallVariableN headers.
func (cm *CallManager) direct(in *sipnode.Incoming) {
	ext := in.To()
	inc := pg.Incoming{ANI: in.From(), DNIS: ext, DialedNumber: ext}
	for i := range inc.CallVariables {
		if h := in.Req.GetHeader(sipnode.CallVariableHeader(i + 1)); h != nil {
			inc.CallVariables[i] = h.Value()
		}
	}
	id, err := cm.cfg.Centre.PG().DirectIncoming(inc, ext)
	if err != nil {
		cm.count(func(s *Stats) { s.DirectRefused++ })
		cm.cfg.Logf("callmanager: call for %s from %s: %v", ext, in.From(), err)
		code, reason := RefusalStatus(err)
		go func() { _ = in.Reject(code, reason) }()
		return
	}
	cm.count(func(s *Stats) { s.Direct++ })
	c := &call{id: id, ani: in.From(), in: in, offer: in.Req.Body(), direct: true}
	cm.calls[id] = c
	cm.goSIP(func(ctx context.Context) {
		select {
		case <-in.Cancelled():
			cm.cfg.Post(func() { cm.callerGone(c) })
		case <-in.Finished():
		case <-ctx.Done():
		}
	})
	cm.ringPhone(c, ext, true)
}

// AutoAnswers reports whether call callID rings a phone that answers by
// itself (a dialer's transfer to its reserved agent), so the agent has
// nothing to do to answer it (on the loop).
func (cm *CallManager) AutoAnswers(callID uint32) bool {
	c, ok := cm.calls[callID]
	return ok && c.direct
}

func (cm *CallManager) routePoint(in *sipnode.Incoming, sipCallID string) {
	var cl *pstn.Caller
	if cm.CallerOf != nil {
		cl = cm.CallerOf(sipCallID)
	}
	id, err := cm.cfg.Centre.Incoming(centre.InboundCall{ANI: in.From(), DNIS: in.To(), DialedNumber: in.To(), Caller: cl})
	if err != nil {
		cm.cfg.Logf("callmanager: route point %s: %v", in.To(), err)
		go func() { _ = in.Reject(503, "Service Unavailable") }()
		return
	}
	cm.count(func(s *Stats) { s.Inbound++ })
	c := &call{id: id, ani: in.From(), in: in, offer: in.Req.Body()}
	cm.calls[id] = c
	cm.goSIP(func(ctx context.Context) {
		select {
		case <-in.Cancelled():
			cm.cfg.Post(func() { cm.callerGone(c) })
		case <-in.Finished():
		case <-ctx.Done():
		}
	})
	// With an agent free the router has already reserved it: the call
	// goes from the route point straight to the agent's phone (Transfer
	// follows), and the caller hears ringback. Otherwise it queues at
	// IP-IVR.
	if !QueuesAtIVR(cm.cfg.Centre.PG().Call(id)) {
		return
	}
	cm.toIVR(c)
}

// toIVR sends the caller to a translation-route DN on IP-IVR (queue
// treatment, digit collection).
func (cm *CallManager) toIVR(c *call) {
	if c.ended || c.ivr != nil || c.tr != "" {
		return
	}
	tr, ok := cm.trs.Take()
	if !ok {
		cm.cfg.Logf("callmanager: call %d: no free translation route to IP-IVR", c.id)
		cm.cfg.Centre.Hangup(c.id)
		cm.reconcile(c)
		return
	}
	c.tr = tr
	cm.byTR[c.tr] = c
	cm.count(func(s *Stats) { s.ToIVR++ })
	target := sip.Uri{Scheme: "sip", User: c.tr, Host: cm.cfg.IVR.Addr().String(), Port: int(cm.cfg.IVR.Port())}
	offer := c.offer
	cm.goSIP(func(ctx context.Context) {
		leg, err := cm.node.Invite(ctx, c.ani, target, offer, sipnode.LegEvents{
			OnRefer: func(l *sipnode.Leg, to sip.Uri) int {
				cm.cfg.Post(func() { cm.referred(c, to.User) })
				return 202
			},
			OnEnd: func(l *sipnode.Leg, why sipnode.EndReason) {
				cm.cfg.Post(func() { cm.ivrGone(c, l) })
			},
		}, nil)
		cm.cfg.Post(func() { cm.ivrAnswered(c, leg, err) })
	})
}

func (cm *CallManager) ivrAnswered(c *call, leg *sipnode.Leg, err error) {
	if err != nil {
		cm.cfg.Logf("callmanager: call %d: IP-IVR: %v", c.id, err)
		cm.releaseTR(c)
		if !c.answered {
			cm.cfg.Centre.Hangup(c.id)
			cm.reconcile(c)
		}
		return
	}
	if c.ended || c.phone != nil && c.answered {
		cm.goSIP(func(ctx context.Context) { _ = leg.Bye(ctx) })
		return
	}
	c.ivr = leg
	sdp := leg.RemoteSDP()
	cm.connectCaller(c, sdp)
}

// connectCaller points the customer's media at sdp: the 200 OK of the
// trunk INVITE the first time, a re-INVITE afterwards.
func (cm *CallManager) connectCaller(c *call, sdp []byte) {
	if c.outbound {
		leg := c.caller
		cm.goSIP(func(ctx context.Context) { _, _ = leg.Reinvite(ctx, sdp) })
		return
	}
	if !c.answered {
		c.answered = true
		in := c.in
		cm.goSIP(func(context.Context) {
			leg, err := in.Answer(sdp, sipnode.LegEvents{OnEnd: func(l *sipnode.Leg, why sipnode.EndReason) {
				if why == sipnode.EndRemoteBye {
					cm.cfg.Post(func() { cm.callerGone(c) })
				}
			}})
			cm.cfg.Post(func() {
				if err != nil {
					cm.callerGone(c)
					return
				}
				c.caller = leg
				if c.ended {
					cm.goSIP(func(ctx context.Context) { _ = leg.Bye(ctx) })
				}
			})
		})
		return
	}
	if c.caller != nil {
		leg := c.caller
		cm.goSIP(func(ctx context.Context) { _, _ = leg.Reinvite(ctx, sdp) })
	}
}

func (cm *CallManager) ivrGone(c *call, l *sipnode.Leg) {
	if c.ivr == l {
		c.ivr = nil
	}
	cm.releaseTR(c)
}

func (cm *CallManager) releaseTR(c *call) {
	if c.tr == "" {
		return
	}
	delete(cm.byTR, c.tr)
	cm.trs.Release(c.tr)
	c.tr = ""
}

// DigitsCollected is IP-IVR reporting what the caller on translation-route
// DN dn keyed (any goroutine).
func (cm *CallManager) DigitsCollected(dn, digits string) {
	cm.cfg.Post(func() {
		if c, ok := cm.byTR[dn]; ok && !c.ended {
			if err := cm.cfg.Centre.CollectedDigits(c.id, digits); err != nil {
				cm.cfg.Logf("callmanager: call %d: digits: %v", c.id, err)
			}
		}
	})
}

// Transfer is the router's delivery (pg.Hooks.Transfer, on the loop): the
// reserved agent's phone must ring. A caller at IP-IVR is transferred by
// the IVR (CONNECT → REFER); a predictive call by CallManager itself.
func (cm *CallManager) Transfer(callID uint32, device string) {
	c, ok := cm.calls[callID]
	if !ok || c.ended {
		cm.cfg.Centre.PG().TransferFailed(callID)
		return
	}
	if c.ivr != nil && cm.cfg.IVRConnect != nil {
		dn := c.tr
		c.ext = device
		go cm.cfg.IVRConnect(dn, device)
		return
	}
	cm.ringPhone(c, device, false)
}

func (cm *CallManager) referred(c *call, label string) {
	cm.count(func(s *Stats) { s.Transfers++ })
	if c.ended {
		return
	}
	cm.ringPhone(c, label, false)
}

// ringPhone INVITEs the phone registered on ext with the customer's media as
// the offer. autoAnswer asks the phone to go off-hook at once (a predictive
// call connected to a reserved agent's headset).
func (cm *CallManager) ringPhone(c *call, ext string, autoAnswer bool) {
	now := cm.cfg.Scheduler.Now()
	b, ok := cm.reg.Lookup(now, ext)
	if !ok {
		cm.count(func(s *Stats) { s.NoPhone++ })
		cm.cfg.Logf("callmanager: call %d: no phone registered on %s", c.id, ext)
		if c.direct {
			c.failCode = 480
			_ = cm.cfg.Centre.PG().ClearCall(c.id)
			cm.reconcile(c)
			return
		}
		if !c.outbound {
			cm.cfg.Centre.PG().TransferFailed(c.id)
		} else {
			_ = cm.cfg.Centre.PG().ClearConnection(c.id, ext)
			cm.reconcile(c)
		}
		return
	}
	var target sip.Uri
	if err := sip.ParseUri(b.Contact, &target); err != nil {
		if c.direct {
			_ = cm.cfg.Centre.PG().ClearCall(c.id)
			cm.reconcile(c)
			return
		}
		cm.cfg.Centre.PG().TransferFailed(c.id)
		return
	}
	cm.count(func(s *Stats) { s.ToPhone++ })
	ctx, cancel := context.WithCancel(cm.ctx)
	c.ext, c.phoneCancel, c.alerted = ext, cancel, false
	offer := c.offer
	var hdrs []sip.Header
	if autoAnswer {
		hdrs = append(hdrs, sip.NewHeader("Call-Info", "<sip:"+cm.node.Addr().String()+">;answer-after=0"))
	}
	var ringing sync.Once
	cm.goSIP(func(context.Context) {
		defer cancel()
		leg, err := cm.node.Invite(ctx, c.ani, target, offer, sipnode.LegEvents{
			OnEnd: func(l *sipnode.Leg, why sipnode.EndReason) {
				if why == sipnode.EndRemoteBye {
					cm.cfg.Post(func() { cm.phoneHungUp(c, l) })
				}
			},
		}, func(p sipnode.Provisional) {
			if p.Code == 180 || p.Code == 183 {
				ringing.Do(func() { cm.cfg.Post(func() { cm.phoneRinging(c, ext) }) })
			}
		}, hdrs...)
		cm.cfg.Post(func() { cm.phoneAnswered(c, ext, leg, err) })
	})
}

func (cm *CallManager) phoneRinging(c *call, ext string) {
	if c.ended || c.ext != ext || c.alerted || c.outbound {
		return
	}
	if c.direct {
		// The PG reported the call at the device already; the caller
		// hears ringback until the phone answers.
		c.alerted = true
		if !c.answered {
			in := c.in
			cm.goSIP(func(context.Context) { _ = in.Progress(180, "Ringing", nil) })
		}
		return
	}
	c.alerted = true
	if !c.answered && c.in != nil {
		in := c.in
		cm.goSIP(func(context.Context) { _ = in.Progress(180, "Ringing", nil) })
	}
	if !cm.cfg.Centre.PG().DeviceAlerting(c.id) {
		cm.cancelPhone(c)
	}
}

func (cm *CallManager) phoneAnswered(c *call, ext string, leg *sipnode.Leg, err error) {
	if err != nil {
		if c.direct && c.ext == ext && c.phone == nil && !c.ended {
			// The phone refused or never answered: the call ends, and the
			// gateway hears why.
			c.phoneCancel = nil
			cm.cfg.Logf("callmanager: call %d: phone %s: %v", c.id, ext, err)
			if code := sipnode.StatusOf(err); code >= 400 {
				c.failCode = code
			}
			_ = cm.cfg.Centre.PG().ClearCall(c.id)
			cm.reconcile(c)
			return
		}
		if c.ext == ext && c.phone == nil {
			c.phoneCancel = nil
			if !c.alerted && !c.outbound && !c.ended {
				cm.cfg.Logf("callmanager: call %d: phone %s: %v", c.id, ext, err)
				cm.cfg.Centre.PG().TransferFailed(c.id)
			}
			// Alerting and then refused/cancelled: RONA or the caller's
			// hang-up takes it from here.
		}
		return
	}
	if c.ended || c.ext != ext {
		cm.goSIP(func(ctx context.Context) { _ = leg.Bye(ctx) })
		return
	}
	cm.count(func(s *Stats) { s.PhoneAnswered++ })
	c.phone, c.phoneCancel = leg, nil
	p := cm.cfg.Centre.PG()
	if c.direct {
		if err := p.DirectAnswered(c.id); err != nil {
			cm.cfg.Logf("callmanager: call %d: answer at %s: %v", c.id, ext, err)
			cm.goSIP(func(ctx context.Context) { _ = leg.Bye(ctx) })
			c.phone = nil
			cm.later(func() { cm.reconcile(c) })
			return
		}
	} else if !c.outbound {
		if !c.alerted {
			c.alerted = true
			if !p.DeviceAlerting(c.id) {
				cm.goSIP(func(ctx context.Context) { _ = leg.Bye(ctx) })
				c.phone = nil
				return
			}
		}
		if err := p.AnswerCall(ext, c.id); err != nil {
			cm.cfg.Logf("callmanager: call %d: answer at %s: %v", c.id, ext, err)
			cm.goSIP(func(ctx context.Context) { _ = leg.Bye(ctx) })
			c.phone = nil
			cm.later(func() { cm.reconcile(c) })
			return
		}
	}
	// The customer now talks to the phone; IP-IVR (or the CTI port) is
	// done with the call.
	cm.connectCaller(c, leg.RemoteSDP())
	if ivr := c.ivr; ivr != nil {
		c.ivr = nil
		cm.goSIP(func(ctx context.Context) {
			_, _ = ivr.Request(ctx, sip.NOTIFY, []byte("SIP/2.0 200 OK\r\n"), sip.NewHeader("Event", "refer"),
				sip.NewHeader("Subscription-State", "terminated;reason=noresource"), sip.NewHeader("Content-Type", "message/sipfrag"))
			_ = ivr.Bye(ctx)
		})
		cm.releaseTR(c)
	}
	if c.port != nil {
		port := c.port
		c.port = nil
		go func() { _ = port.Close() }()
	}
	cm.later(func() { cm.reconcile(c) })
}

func (cm *CallManager) phoneHungUp(c *call, l *sipnode.Leg) {
	if c.phone != l {
		return
	}
	c.phone = nil
	if !c.ended {
		_ = cm.cfg.Centre.PG().ClearConnection(c.id, c.ext)
	}
	cm.later(func() { cm.reconcile(c) })
}

func (cm *CallManager) cancelPhone(c *call) {
	if c.phoneCancel != nil {
		c.phoneCancel()
		c.phoneCancel = nil
	}
	if c.phone != nil {
		leg := c.phone
		c.phone = nil
		cm.goSIP(func(ctx context.Context) { _ = leg.Bye(ctx) })
	}
	c.alerted = false
}

func (cm *CallManager) callerGone(c *call) {
	if c.ended {
		return
	}
	switch {
	case c.outbound:
		if c.dial.HungUp != nil {
			c.dial.HungUp()
		}
	case c.direct:
		// Not a routed call: the router never knew it.
		cm.cfg.Centre.PG().TrunkDisconnected(c.id)
	default:
		cm.cfg.Centre.Hangup(c.id)
	}
	cm.later(func() { cm.reconcile(c) })
}

// PGEvent watches the PG (subscribed on the loop): when a call leaves the
// agent (RONA, CTI ClearConnection) or ends (ClearCall, the other party
// hung up), the legs follow.
func (cm *CallManager) PGEvent(e pg.Event) {
	id, act := LegActionOf(e)
	c, ok := cm.calls[id]
	if !ok {
		return
	}
	switch act {
	case LegsHold:
		cm.hold(c, true)
	case LegsRetrieve:
		cm.hold(c, false)
	case LegsReconcile:
		cm.later(func() { cm.reconcile(c) })
	}
}

// hold puts the customer on hold (or takes them off) when the agent's
// desktop holds or retrieves the call over CTI: a re-INVITE of the
// customer's leg offering the phone's media sendonly (RFC 3264 §8.4 hold),
// then sendrecv again.
func (cm *CallManager) hold(c *call, on bool) {
	if c.ended || c.caller == nil || c.phone == nil {
		return
	}
	m, err := sipnode.Parse(c.phone.RemoteSDP())
	if err != nil {
		return
	}
	m.Direction = "sendrecv"
	if on {
		m.Direction = "sendonly"
	}
	leg := c.caller
	sdp := sipnode.Description(m, uint64(c.id), leg.NextVersion()+1)
	cm.goSIP(func(ctx context.Context) { _, _ = leg.Reinvite(ctx, sdp) })
}

// reconcile makes the legs agree with the PG's view of the call.
func (cm *CallManager) reconcile(c *call) {
	if c.ended {
		return
	}
	ci, live := cm.cfg.Centre.PG().Call(c.id)
	if !live {
		cm.endCall(c)
		return
	}
	if c.outbound || c.direct || c.ext == "" {
		return
	}
	// Still the agent's call? After RONA (or TransferFailed) the PG has
	// taken it back to the IVR: stop ringing, and make sure the caller
	// hears the IVR again.
	if !cm.plan.AtAgent(ci, c.ext) && (c.phone != nil || c.phoneCancel != nil) {
		cm.cancelPhone(c)
		c.ext = ""
		if c.ivr == nil {
			cm.toIVRAgain(c)
		}
	}
}

// toIVRAgain re-queues a caller whose phone leg is gone but who is still
// in the router's queue.
func (cm *CallManager) toIVRAgain(c *call) {
	if c.ivr != nil || c.tr != "" {
		return
	}
	cm.toIVR(c)
}

func (cm *CallManager) endCall(c *call) {
	c.ended = true
	delete(cm.calls, c.id)
	cm.cancelPhone(c)
	if c.dialStop != nil {
		c.dialStop()
	}
	for _, l := range []*sipnode.Leg{c.caller, c.ivr} {
		if l != nil {
			leg := l
			cm.goSIP(func(ctx context.Context) { _ = leg.Bye(ctx) })
		}
	}
	c.caller, c.ivr = nil, nil
	cm.releaseTR(c)
	if c.in != nil && !c.answered {
		in := c.in
		code, reason := UnansweredStatus(c.failCode)
		cm.goSIP(func(context.Context) { _ = in.Reject(code, reason) })
	}
	if c.port != nil {
		port := c.port
		c.port = nil
		go func() { _ = port.Close() }()
	}
}

// ---- outbound: PG predictive call → gateway → customer → agent phone ----

// Dial places the outside leg of a predictive call from a CTI port
// (centre.Voice.Dial, on the loop). h reports the far end's progress.
func (cm *CallManager) Dial(r pg.DialRequest, h pstn.DialHandler) {
	c := &call{id: r.CallID, outbound: true, dial: h}
	cm.calls[r.CallID] = c
	cm.count(func(s *Stats) { s.Outbound++ })
	if cm.cfg.Media == nil {
		cm.failDial(c, 503)
		return
	}
	port, err := cm.cfg.Media.Open()
	if err != nil {
		cm.cfg.Logf("callmanager: CTI port: %v", err)
		cm.failDial(c, 503)
		return
	}
	c.port = port
	// The INVITE's context: cancelling it sends CANCEL (→ 487). The ring
	// limit of the request is ours to enforce the same way.
	var ctx context.Context
	var cancel context.CancelFunc
	if r.RingTimeout > 0 {
		ctx, cancel = context.WithTimeout(cm.ctx, r.RingTimeout)
	} else {
		ctx, cancel = context.WithCancel(cm.ctx)
	}
	c.dialStop = cancel
	offer := sipnode.Description(sipnode.Offer(port.LocalAddr(), "ipcclab-ctiport"), uint64(r.CallID), 1)
	target := sip.Uri{Scheme: "sip", User: r.DialedNumber, Host: cm.cfg.Gateway.Addr().String(), Port: int(cm.cfg.Gateway.Port())}
	from := "ctiport"
	cm.goSIP(func(context.Context) {
		defer cancel() // the INVITE is over: release its context
		leg, err := cm.node.Invite(ctx, from, target, offer, sipnode.LegEvents{
			OnEnd: func(l *sipnode.Leg, why sipnode.EndReason) {
				if why == sipnode.EndRemoteBye {
					cm.cfg.Post(func() { cm.callerGone(c) })
				}
			},
		}, func(p sipnode.Provisional) {
			if p.HasEarly {
				port.SetRemote(p.Early.Addr, p.Early.Law(), p.Early.EventPT)
			}
			if p.Code != 180 {
				// 183 Session Progress is in-band information (SIT, busy
				// tone, an announcement), not the far end ringing.
				return
			}
			cm.cfg.Post(func() {
				if !c.alerting && !c.ended && c.dial.Alerting != nil {
					c.alerting = true
					c.dial.Alerting()
				}
			})
		})
		cm.cfg.Post(func() { cm.dialed(c, leg, err) })
	})
}

func (cm *CallManager) failDial(c *call, status int) {
	delete(cm.calls, c.id)
	c.ended = true
	if c.dial.Failed == nil {
		return
	}
	c.dial.Failed(OutcomeOf(status))
}

func (cm *CallManager) dialed(c *call, leg *sipnode.Leg, err error) {
	if err != nil {
		if c.port != nil {
			port := c.port
			c.port = nil
			go func() { _ = port.Close() }()
		}
		if !c.ended {
			cm.failDial(c, sipnode.StatusOf(err))
		}
		return
	}
	if c.ended {
		cm.goSIP(func(ctx context.Context) { _ = leg.Bye(ctx) })
		return
	}
	c.caller, c.answered = leg, true
	c.offer = leg.RemoteSDP()
	m := leg.Remote()
	if c.port != nil {
		c.port.SetRemote(m.Addr, m.Law(), m.EventPT)
	}
	if c.dial.Answered != nil {
		c.dial.Answered()
	}
	ci, live := cm.cfg.Centre.PG().Call(c.id)
	if !live {
		cm.endCall(c) // abandoned: no agent was free
		return
	}
	ext := ci.Line
	if ext == "" {
		ext = cm.plan.AgentExtension(ci.AgentID)
	}
	if ext == "" {
		cm.cfg.Logf("callmanager: predictive call %d: no device to connect", c.id)
		return
	}
	cm.ringPhone(c, ext, true)
}

// Carries reports whether CallManager carries call callID over SIP (on the
// loop). Calls set up by CTI call control between agents are switched by
// the PG alone.
func (cm *CallManager) Carries(callID uint32) bool {
	c, ok := cm.calls[callID]
	return ok && !c.ended
}

// Describe is a one-line summary for logs.
func (cm *CallManager) Describe() string {
	st := cm.Stats()
	ns := cm.node.Stats()
	return fmt.Sprintf("callmanager %s: %d inbound, %d outbound, %d to IVR, %d to phones (%d answered), %d no route, %d no phone; SIP %d INVITEs, %d bad",
		cm.node.Addr(), st.Inbound, st.Outbound, st.ToIVR, st.ToPhone, st.PhoneAnswered, st.NoRoute, st.NoPhone, ns.Invites, ns.BadRequests)
}
