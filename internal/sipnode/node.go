// Package sipnode is the SIP plumbing shared by the emulated voice gateway,
// CallManager, IP-IVR and agent phones: a sipgo user agent bound to one
// address over UDP and TCP, dialogs ("legs") matched by Call-ID, SDP
// offer/answer through pion/sdp, and counters of what the node refused.
//
// It is an adapter (it owns sockets and goroutines). The components above it
// keep their decisions on the centre's event loop and use legs only to act.
//
// Why one socket per node: requests we originate leave from the listening
// socket (sipgo's connection pool keyed by our address), so Via sent-by, the
// Contact and the source address agree, replies come back to the one reader,
// and a capture shows each node as one host:port.
package sipnode

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// Config configures a node.
type Config struct {
	// Name is the User-Agent and the Contact user, e.g. "gateway".
	Name string
	// Addr is host:port to listen on over UDP (and TCP unless NoTCP);
	// port 0 picks one.
	Addr  string
	NoTCP bool
	// ReadBuffer sets SO_RCVBUF of the UDP socket (0 = 4 MiB; a SIP burst
	// at 1,000 calls/s overflows Linux's 208 KiB default — ecosystem.md §3a).
	ReadBuffer int
	// WrapPacketConn and WrapListener let a capture tap the sockets.
	WrapPacketConn func(net.PacketConn) net.PacketConn
	WrapListener   func(net.Listener) net.Listener
	// OnInvite takes a new dialog. It may answer asynchronously: the node
	// waits for a final response (or CANCEL) before it lets sipgo end the
	// transaction.
	OnInvite func(in *Incoming)
	// OnRequest takes out-of-dialog requests other than INVITE (REGISTER,
	// OPTIONS, MESSAGE...). It must respond. OPTIONS is answered 200 when
	// no handler takes it; anything else unhandled gets 405.
	OnRequest func(req *sip.Request, tx sip.ServerTransaction)
	Logger    *slog.Logger
}

// Stats counts what a node received and refused.
type Stats struct {
	Invites, Answered, Rejected, Cancelled uint64
	// InDialog counts BYE/re-INVITE/REFER/NOTIFY/INFO matched to a leg;
	// NoDialog counts such requests for unknown dialogs (answered 481).
	InDialog, NoDialog uint64
	// BadRequests are requests answered 400 by the node itself (missing
	// Contact, unreadable SDP...).
	BadRequests uint64
	// StrayResponses are responses matching no transaction (late
	// retransmissions), dropped.
	StrayResponses uint64
	// Legs is the number of live legs.
	Legs int
}

// Node is one SIP user agent.
type Node struct {
	cfg  Config
	ua   *sipgo.UserAgent
	srv  *sipgo.Server
	cli  *sipgo.Client
	dua  *sipgo.DialogUA
	addr netip.AddrPort
	log  *slog.Logger

	mu   sync.Mutex
	legs map[string]*Leg
	// acks are INVITE server dialogs whose 200 OK waits for its ACK, by
	// Call-ID: the ACK must reach the dialog even if a BYE raced ahead of
	// it and ended the leg (a caller that hangs up right after answering).
	acks map[string]*sipgo.DialogServerSession

	invites, answered, rejected, cancelled, inDialog, noDialog, bad, strays atomic.Uint64

	cancel context.CancelFunc
	wg     sync.WaitGroup
	pc     net.PacketConn
	ln     net.Listener
}

// Start listens and serves until Close.
func Start(cfg Config) (*Node, error) {
	if cfg.Name == "" {
		return nil, errors.New("sipnode: name required")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	pc, ln, err := listen(cfg)
	if err != nil {
		return nil, err
	}
	rb := cfg.ReadBuffer
	if rb == 0 {
		rb = 4 << 20
	}
	if u, ok := pc.(*net.UDPConn); ok {
		_ = u.SetReadBuffer(rb)
		_ = u.SetWriteBuffer(rb)
	}
	ap := pc.LocalAddr().(*net.UDPAddr).AddrPort()
	ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	host := ap.Addr().String()
	n := &Node{cfg: cfg, addr: ap, log: log, legs: map[string]*Leg{}, acks: map[string]*sipgo.DialogServerSession{}, pc: pc, ln: ln}
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("ipcclab-"+cfg.Name), sipgo.WithUserAgentHostname(host),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(log),
			sip.WithTransactionLayerUnhandledResponseHandler(func(*sip.Response) { n.strays.Add(1) })),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(log)))
	if err != nil {
		pc.Close()
		return nil, err
	}
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(log))
	if err != nil {
		return nil, err
	}
	cli, err := sipgo.NewClient(ua, sipgo.WithClientLogger(log), sipgo.WithClientHostname(host),
		sipgo.WithClientPort(int(ap.Port())), sipgo.WithClientConnectionAddr(ap.String()))
	if err != nil {
		return nil, err
	}
	n.ua, n.srv, n.cli = ua, srv, cli
	n.dua = &sipgo.DialogUA{Client: cli, ContactHDR: n.Contact(cfg.Name)}
	srv.OnInvite(n.onInvite)
	srv.OnAck(n.onAck)
	for _, m := range []sip.RequestMethod{sip.BYE, sip.REFER, sip.NOTIFY, sip.INFO, sip.UPDATE} {
		srv.OnRequest(m, n.onInDialog)
	}
	srv.OnRequest(sip.CANCEL, func(req *sip.Request, tx sip.ServerTransaction) {
		// A CANCEL matching a live INVITE was handled by the transaction
		// layer (200 + 487); this one matched nothing (RFC 3261 §9.2).
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", nil))
	})
	other := func(req *sip.Request, tx sip.ServerTransaction) {
		if cfg.OnRequest != nil {
			cfg.OnRequest(req, tx)
			return
		}
		if req.Method == sip.OPTIONS {
			_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil))
			return
		}
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusMethodNotAllowed, "Method Not Allowed", nil))
	}
	for _, m := range []sip.RequestMethod{sip.REGISTER, sip.OPTIONS, sip.MESSAGE, sip.SUBSCRIBE, sip.PUBLISH, sip.PRACK} {
		srv.OnRequest(m, other)
	}
	srv.OnNoRoute(other)

	servePC, serveLn := net.PacketConn(pc), ln
	if cfg.WrapPacketConn != nil {
		servePC = cfg.WrapPacketConn(pc)
	}
	if ln != nil && cfg.WrapListener != nil {
		serveLn = cfg.WrapListener(ln)
	}
	n.wg.Add(1)
	go func() { defer n.wg.Done(); _ = srv.ServeUDP(servePC) }()
	if serveLn != nil {
		n.wg.Add(1)
		go func() { defer n.wg.Done(); _ = srv.ServeTCP(serveLn) }()
	}
	// sipgo registers the listening socket in its connection pool from
	// inside ServeUDP; until then a request we originate would try to bind
	// a second socket to our own port. Wait for it.
	for i := 0; i < 500; i++ {
		if c, _ := ua.TransportLayer().GetConnection("udp", ap.String()); c != nil {
			return n, nil
		}
		time.Sleep(time.Millisecond)
	}
	n.Close()
	return nil, fmt.Errorf("sip %s: listener did not start", cfg.Name)
}

// listen binds the UDP socket and, unless NoTCP, a TCP listener on the same
// port. With port 0 the UDP port the system picks may be taken for TCP (by
// another process, or a test beside this one): then it tries another.
func listen(cfg Config) (net.PacketConn, net.Listener, error) {
	_, port, _ := net.SplitHostPort(cfg.Addr)
	for attempt := 0; ; attempt++ {
		pc, err := net.ListenPacket("udp4", cfg.Addr)
		if err != nil {
			return nil, nil, fmt.Errorf("sip %s: %w", cfg.Name, err)
		}
		if cfg.NoTCP {
			return pc, nil, nil
		}
		ln, err := net.Listen("tcp4", pc.LocalAddr().String())
		if err == nil {
			return pc, ln, nil
		}
		pc.Close()
		if port != "0" || attempt >= 20 {
			return nil, nil, fmt.Errorf("sip %s (tcp): %w", cfg.Name, err)
		}
	}
}

// Addr is the node's SIP address.
func (n *Node) Addr() netip.AddrPort { return n.addr }

// URI is sip:user@node.
func (n *Node) URI(user string) sip.Uri {
	return sip.Uri{Scheme: "sip", User: user, Host: n.addr.Addr().String(), Port: int(n.addr.Port())}
}

// Contact is the node's Contact header for user.
func (n *Node) Contact(user string) sip.ContactHeader {
	return sip.ContactHeader{Address: n.URI(user)}
}

// Stats returns the node's counters.
func (n *Node) Stats() Stats {
	n.mu.Lock()
	legs := len(n.legs)
	n.mu.Unlock()
	return Stats{Invites: n.invites.Load(), Answered: n.answered.Load(), Rejected: n.rejected.Load(),
		Cancelled: n.cancelled.Load(), InDialog: n.inDialog.Load(), NoDialog: n.noDialog.Load(),
		BadRequests: n.bad.Load(), StrayResponses: n.strays.Load(), Legs: legs}
}

// Close ends every leg without signalling and stops serving.
func (n *Node) Close() error {
	n.mu.Lock()
	for _, l := range n.legs {
		l.end(EndClosed)
	}
	n.legs = map[string]*Leg{}
	n.mu.Unlock()
	err := n.ua.Close()
	_ = n.pc.Close()
	if n.ln != nil {
		_ = n.ln.Close()
	}
	n.wg.Wait()
	return err
}

// Respond answers a request outside a dialog (REGISTER etc.).
func Respond(req *sip.Request, tx sip.ServerTransaction, code int, reason string, hdrs ...sip.Header) error {
	res := sip.NewResponseFromRequest(req, code, reason, nil)
	for _, h := range hdrs {
		res.AppendHeader(h)
	}
	return tx.Respond(res)
}

func (n *Node) addLeg(l *Leg) {
	n.mu.Lock()
	n.legs[l.callID] = l
	n.mu.Unlock()
}

func (n *Node) leg(callID string) *Leg {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.legs[callID]
}

func (n *Node) dropLeg(l *Leg) {
	n.mu.Lock()
	if n.legs[l.callID] == l {
		delete(n.legs, l.callID)
	}
	n.mu.Unlock()
}

func callID(req *sip.Request) string {
	if h := req.CallID(); h != nil {
		return h.Value()
	}
	return ""
}

func (n *Node) badRequest(req *sip.Request, tx sip.ServerTransaction, why string) {
	n.bad.Add(1)
	_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusBadRequest, "Bad Request - "+why, nil))
}

func (n *Node) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if to := req.To(); to != nil && to.Params.Has("tag") {
		n.onInDialog(req, tx)
		return
	}
	n.invites.Add(1)
	if req.SipVersion != "SIP/2.0" {
		n.bad.Add(1)
		res := sip.NewResponseFromRequest(req, 505, "Version Not Supported", nil)
		res.SipVersion = "SIP/2.0"
		_ = tx.Respond(res)
		return
	}
	if cs := req.CSeq(); cs != nil && strings.TrimSpace(string(cs.MethodName)) != string(sip.INVITE) {
		n.badRequest(req, tx, "CSeq method does not match the request method")
		return
	}
	if req.Contact() == nil {
		n.badRequest(req, tx, "missing Contact")
		return
	}
	if req.From() == nil || req.To() == nil || req.CSeq() == nil || callID(req) == "" {
		n.badRequest(req, tx, "missing From/To/CSeq/Call-ID")
		return
	}
	if n.leg(callID(req)) != nil {
		// A second INVITE without a To tag on a live Call-ID: a loop
		// or a retransmission sipgo did not absorb.
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusLoopDetected, "Loop Detected", nil))
		return
	}
	in := &Incoming{node: n, Req: req, tx: tx, final: make(chan struct{}), cancelled: make(chan struct{})}
	if len(req.Body()) > 0 {
		m, err := Parse(req.Body())
		if err != nil {
			n.rejected.Add(1)
			code, reason := sip.StatusBadRequest, "Bad Request - "+err.Error()
			if errors.Is(err, ErrNoCommonCodec) {
				code, reason = 488, "Not Acceptable Here"
			}
			_ = tx.Respond(sip.NewResponseFromRequest(req, code, reason, nil))
			return
		}
		in.Offer = m
		in.HasOffer = true
	}
	dlg, err := n.dua.ReadInvite(req, tx)
	if err != nil {
		n.badRequest(req, tx, err.Error())
		return
	}
	in.dlg = dlg
	// Cancelled closes as soon as the CANCEL is processed (the transaction
	// layer answers 487), also while OnInvite is still running: a handler
	// that waits in OnInvite for the call's fate must see it.
	if !tx.OnCancel(func(*sip.Request) { in.cancel() }) {
		return // cancelled already: the transaction layer answered 487
	}
	n.cfg.OnInvite(in)
	select {
	case <-in.final:
	case <-in.cancelled:
	case <-tx.Done():
	}
	in.mu.Lock()
	done := in.done
	in.done = true
	in.mu.Unlock()
	if !done {
		n.cancelled.Add(1)
		in.cancel()
		_ = dlg.Close()
	}
}

func (n *Node) onAck(req *sip.Request, tx sip.ServerTransaction) {
	n.mu.Lock()
	d := n.acks[callID(req)]
	n.mu.Unlock()
	if d != nil {
		_ = d.ReadAck(req, tx)
		return
	}
	if l := n.leg(callID(req)); l != nil && l.srv != nil {
		_ = l.srv.ReadAck(req, tx)
	}
}

func (n *Node) onInDialog(req *sip.Request, tx sip.ServerTransaction) {
	l := n.leg(callID(req))
	if l == nil {
		n.noDialog.Add(1)
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", nil))
		return
	}
	n.inDialog.Add(1)
	l.handle(req, tx)
}

// Incoming is an INVITE waiting for its final response.
type Incoming struct {
	node     *Node
	Req      *sip.Request
	Offer    Media
	HasOffer bool
	tx       sip.ServerTransaction
	dlg      *sipgo.DialogServerSession

	mu         sync.Mutex
	done       bool
	final      chan struct{}
	cancelled  chan struct{}
	cancelOnce sync.Once
}

func (in *Incoming) cancel() { in.cancelOnce.Do(func() { close(in.cancelled) }) }

// From is the calling user (the From URI's user part).
func (in *Incoming) From() string { return in.Req.From().Address.User }

// To is the called user: the Request-URI's user part.
func (in *Incoming) To() string { return in.Req.Recipient.User }

// Source is where the INVITE came from.
func (in *Incoming) Source() string { return in.Req.Source() }

// Cancelled is closed when the caller sent CANCEL (487 was answered) or
// the transaction ended without a final response.
func (in *Incoming) Cancelled() <-chan struct{} { return in.cancelled }

// Finished is closed once a final response was sent (answered or
// rejected).
func (in *Incoming) Finished() <-chan struct{} { return in.final }

// Progress sends a provisional response: 180, or 183 with early-media SDP.
func (in *Incoming) Progress(code int, reason string, sdpBody []byte) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.done {
		return errors.New("sipnode: INVITE already answered or cancelled")
	}
	if sdpBody != nil {
		return in.dlg.Respond(code, reason, sdpBody, sip.NewHeader("Content-Type", "application/sdp"))
	}
	return in.dlg.Respond(code, reason, nil)
}

// Answer sends 200 with the SDP answer and returns the established leg.
func (in *Incoming) Answer(sdpBody []byte, ev LegEvents) (*Leg, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.done {
		return nil, errors.New("sipnode: INVITE already answered or cancelled")
	}
	remote := in.Offer
	l := newLeg(in.node, callID(in.Req), ev)
	l.srv = in.dlg
	l.remote, l.rawSDP = remote, in.Req.Body()
	l.local = sdpBody
	in.node.addLeg(l)
	id := callID(in.Req)
	in.node.mu.Lock()
	in.node.acks[id] = in.dlg
	in.node.mu.Unlock()
	// RespondSDP returns once the ACK arrived (or Timer H gave up).
	err := in.dlg.RespondSDP(sdpBody)
	in.node.mu.Lock()
	delete(in.node.acks, id)
	in.node.mu.Unlock()
	if err != nil {
		in.node.dropLeg(l)
		return nil, err
	}
	in.done = true
	in.node.answered.Add(1)
	close(in.final)
	return l, nil
}

// Reject sends a final non-2xx response.
func (in *Incoming) Reject(code int, reason string, hdrs ...sip.Header) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.done {
		return nil
	}
	in.done = true
	in.node.rejected.Add(1)
	err := in.dlg.Respond(code, reason, nil, hdrs...)
	close(in.final)
	_ = in.dlg.Close()
	return err
}

// ResponseError is a final non-2xx answer to our INVITE.
type ResponseError struct {
	Code   int
	Reason string
	// Cause is the Q.850 cause of the response's Reason header
	// ("Q.850;cause=17", RFC 3326), 0 when it has none.
	Cause int
}

func (e *ResponseError) Error() string { return strconv.Itoa(e.Code) + " " + e.Reason }

// StatusOf is the SIP status of err: the response code of a ResponseError,
// 487 when the context was cancelled, 408 on a transaction timeout, 0
// otherwise.
func StatusOf(err error) int {
	var re *ResponseError
	switch {
	case err == nil:
		return 200
	case errors.As(err, &re):
		return re.Code
	case errors.Is(err, context.Canceled):
		return 487
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, sip.ErrTransactionTimeout):
		return 408
	}
	return 0
}

// Provisional is a 1xx we received.
type Provisional struct {
	Code     int
	Reason   string
	Early    Media
	HasEarly bool
}

// Invite places a call to target and blocks until it is answered (the leg
// is returned, ACK sent) or fails (*ResponseError). Cancelling ctx before
// the answer sends CANCEL. onProgress, when set, gets every 1xx.
func (n *Node) Invite(ctx context.Context, from string, target sip.Uri, sdpBody []byte, ev LegEvents, onProgress func(Provisional), hdrs ...sip.Header) (*Leg, error) {
	req := sip.NewRequest(sip.INVITE, target)
	req.SetBody(sdpBody)
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	fromHdr := &sip.FromHeader{Address: n.URI(from), Params: sip.NewParams()}
	fromHdr.Params.Add("tag", sip.GenerateTagN(16))
	req.AppendHeader(fromHdr)
	req.AppendHeader(&sip.ToHeader{Address: target, Params: sip.NewParams()})
	c := n.Contact(from)
	req.AppendHeader(&c)
	for _, h := range hdrs {
		req.AppendHeader(h)
	}
	if target.UriParams != nil {
		if t, _ := target.UriParams.Get("transport"); t != "" {
			req.SetTransport(t)
		}
	}
	dlg, err := n.dua.WriteInvite(ctx, req)
	if err != nil {
		return nil, err
	}
	l := newLeg(n, callID(req), ev)
	l.cli = dlg
	l.local = sdpBody
	n.addLeg(l) // early: a BYE/NOTIFY can only come after 200, but CANCEL races are ours
	err = dlg.WaitAnswer(ctx, sipgo.AnswerOptions{OnResponse: func(res *sip.Response) error {
		if res.IsProvisional() && onProgress != nil && res.StatusCode != 100 {
			p := Provisional{Code: res.StatusCode, Reason: res.Reason}
			if len(res.Body()) > 0 {
				if m, err := Parse(res.Body()); err == nil {
					p.Early, p.HasEarly = m, true
				}
			}
			onProgress(p)
		}
		return nil
	}})
	if err != nil {
		n.dropLeg(l)
		_ = dlg.Close()
		var de *sipgo.ErrDialogResponse
		if errors.As(err, &de) {
			return nil, &ResponseError{Code: de.Res.StatusCode, Reason: de.Res.Reason, Cause: Q850Cause(de.Res)}
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%w: %w", context.Canceled, err)
		}
		return nil, err
	}
	res := dlg.InviteResponse
	if len(res.Body()) > 0 {
		if m, err := Parse(res.Body()); err == nil {
			l.remote, l.rawSDP = m, res.Body()
		}
	}
	if err := dlg.Ack(ctx); err != nil {
		n.dropLeg(l)
		return nil, err
	}
	return l, nil
}

// byeTimeout bounds a BYE/re-INVITE we send (Timer F is 32 s; a peer on
// loopback that has not answered in 8 s is gone).
const byeTimeout = 8 * time.Second

// Do sends an out-of-dialog request (REGISTER, OPTIONS, MESSAGE) from the
// node and returns the final response.
func (n *Node) Do(ctx context.Context, req *sip.Request) (*sip.Response, error) {
	return n.cli.Do(ctx, req)
}

// WaitFor waits for wg at most d: on shutdown a goroutine stuck in a
// transaction with a peer that is gone must not hold the process up.
// It reports whether everything finished.
func WaitFor(wg *sync.WaitGroup, d time.Duration) bool {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}
