package ctitool

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/ipcclab/ipcclab/protocol/cti"
	"github.com/ipcclab/ipcclab/protocol/cti/spec"
)

// Defaults of the sessions opened by the tools.
const (
	DefaultVersion   cti.ProtocolVersion = 24
	DefaultHeartbeat                     = 15 * time.Second
	// IdleTimeout is the OPEN_REQ IdleTimeout in seconds (§5.4); the
	// heartbeats every 15 s keep well inside it.
	IdleTimeout = 60

	dialTimeout    = 10 * time.Second
	requestTimeout = 10 * time.Second
	closeTimeout   = 5 * time.Second
)

// SessionOptions are the OPEN_REQ settings shared by dump and send.
type SessionOptions struct {
	// Addr is HOST:PORT of the CTI Server (DumpAddr/SendAddr only).
	Addr string
	// Version is the protocol version (default 24).
	Version cti.ProtocolVersion
	// ClientID goes into OPEN_REQ (default "ipcclab-cti").
	ClientID string
	// PeripheralID restricts the session to one peripheral (0: any).
	PeripheralID uint32
	// JSON prints one JSON object per line instead of text.
	JSON bool
	// Now stamps the lines (nil: time.Now).
	Now func() time.Time
}

func (o *SessionOptions) defaults() {
	if o.Version == 0 {
		o.Version = DefaultVersion
	}
	if o.ClientID == "" {
		o.ClientID = "ipcclab-cti"
	}
}

// DumpOptions configure Dump.
type DumpOptions struct {
	SessionOptions
	// Services requested (default CTI_SERVICE_ALL_EVENTS).
	Services cti.ServiceMask
	// Duration stops the dump after this long (0: until ctx ends).
	Duration time.Duration
}

// SendOptions configure Send.
type SendOptions struct {
	SessionOptions
	// Quiet opens CLIENT_CONTROL only, without ALL_EVENTS.
	Quiet bool
	// Follow prints the events that follow the confirmation for this long.
	Follow time.Duration
}

// RefusedError is a request answered with FAILURE_CONF or
// CONTROL_FAILURE_CONF.
type RefusedError struct {
	Request cti.MessageType
	Answer  cti.Message
	pv      cti.ProtocolVersion
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("%s refused: %s", e.Request, describe(e.Answer, e.pv))
}

// AllCallEvents returns every CallEventMask bit whose event exists in
// protocol version pv (bit X_MASK selects message X_EVENT; reserved bits
// without a message are left out).
func AllCallEvents(pv cti.ProtocolVersion) cti.CallEventMask {
	e := enumOf("CallEventMask")
	since := map[string]uint32{}
	for _, t := range spec.MessageTypes {
		since[t.Name] = t.Since
	}
	var m cti.CallEventMask
	for _, v := range e.Values {
		ev := strings.TrimSuffix(v.Name, "_MASK") + "_EVENT"
		if s, ok := since[ev]; ok && s <= uint32(pv) {
			m |= cti.CallEventMask(v.Value)
		}
	}
	return m
}

// AllAgentStates returns every AgentStateMask bit.
func AllAgentStates() cti.AgentStateMask {
	var m cti.AgentStateMask
	for _, v := range enumOf("AgentStateMask").Values {
		m |= cti.AgentStateMask(v.Value)
	}
	return m
}

func dial(ctx context.Context, addr string) (net.Conn, error) {
	if addr == "" {
		return nil, errors.New("no CTI Server address (--addr HOST:PORT)")
	}
	d := net.Dialer{Timeout: dialTimeout}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("connect to CTI Server: %w", err)
	}
	return c, nil
}

// open starts a session and sends OPEN_REQ. When quiet is false the
// request and its answer are printed. A refusal is a *RefusedError.
func open(ctx context.Context, rw io.ReadWriter, o SessionOptions, services cti.ServiceMask, p *Printer, quiet bool) (*cti.Session, *cti.OpenConf, error) {
	req := &cti.OpenReq{
		VersionNumber:     uint32(o.Version),
		IdleTimeout:       IdleTimeout,
		PeripheralID:      o.PeripheralID,
		ServicesRequested: services,
		ClientID:          o.ClientID,
		ClientPassword:    []byte{},
	}
	if req.PeripheralID == 0 {
		req.PeripheralID = cti.NullPeripheralID
	}
	if services&(cti.ServiceAllEvents|cti.ServiceClientEvents|cti.ServicePeripheralMonitor) != 0 {
		req.CallMsgMask = AllCallEvents(o.Version)
		req.AgentStateMask = AllAgentStates()
	}
	req.SetPresent(cti.TagClientPassword)
	s := cti.NewSession(rw, nil)
	octx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	at := p.now()
	conf, err := s.Open(octx, req)
	if !quiet || err != nil {
		p.PrintAt(at, Sent, req, o.Version)
	}
	if err != nil {
		var fc *cti.FailureConf
		if errors.As(err, &fc) {
			p.Print(Received, fc, o.Version)
			err = &RefusedError{Request: cti.MsgOpenReq, Answer: fc, pv: o.Version}
		} else {
			err = fmt.Errorf("OPEN_REQ: %w", err)
		}
		abandon(s)
		return nil, nil, err
	}
	if !quiet {
		p.Print(Received, conf, o.Version)
	}
	s.StartHeartbeat(DefaultHeartbeat)
	return s, conf, nil
}

// abandon ends a session without CLOSE_REQ.
func abandon(s *cti.Session) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = s.Close(ctx)
}

// closeInvokeID is the InvokeID of the tools' CLOSE_REQ. It is sent
// without Session.Request so that its CLOSE_CONF arrives on Events, in
// order with the events before it, even when the server drops the
// connection right after answering (§5.5); the session numbers its own
// requests from 1 and never gets near it.
const closeInvokeID = 0x7FFFFFFF

// markInvokeID is the InvokeID of the HEARTBEAT_REQ send --follow uses to
// mark the start of the events it shows (see Send).
const markInvokeID = 0x7FFFFFFE

// closeSession sends CLOSE_REQ and, when p is not nil, prints it and every
// message up to CLOSE_CONF. It waits (bounded) for the server to drop the
// connection, then ends the session. When p is nil someone else must be
// reading Events.
func closeSession(s *cti.Session, p *Printer, pv cti.ProtocolVersion) error {
	req := &cti.CloseReq{InvokeID: closeInvokeID, Status: cti.StatusNoError}
	defer abandon(s)
	at := time.Now()
	if p != nil {
		at = p.now()
	}
	if err := s.Send(req); err != nil {
		return fmt.Errorf("CLOSE_REQ: %w", err)
	}
	timeout := time.NewTimer(closeTimeout)
	defer timeout.Stop()
	if p == nil {
		select {
		case <-s.Done():
		case <-timeout.C:
		}
		return nil
	}
	p.PrintAt(at, Sent, req, pv)
	for {
		select {
		case m, ok := <-s.Events():
			if !ok {
				return errors.New("CLOSE_REQ: the CTI Server closed the connection without CLOSE_CONF")
			}
			p.Print(Received, m, pv)
			switch c := m.(type) {
			case *cti.CloseConf:
				if c.InvokeID != closeInvokeID {
					continue
				}
				select {
				case <-s.Done():
				case <-timeout.C:
				}
				return nil
			case *cti.FailureConf:
				if c.InvokeID == closeInvokeID {
					return &RefusedError{Request: cti.MsgCloseReq, Answer: c, pv: pv}
				}
			}
		case <-timeout.C:
			return fmt.Errorf("CLOSE_REQ: no CLOSE_CONF within %v", closeTimeout)
		}
	}
}

func sessionEnded(s *cti.Session) error {
	err := s.Err()
	if err == nil || errors.Is(err, io.EOF) {
		return errors.New("the CTI Server closed the connection")
	}
	return fmt.Errorf("session ended: %w", err)
}

// DumpAddr connects to o.Addr and runs Dump.
func DumpAddr(ctx context.Context, o DumpOptions, out io.Writer) error {
	c, err := dial(ctx, o.Addr)
	if err != nil {
		return err
	}
	return Dump(ctx, c, o, out)
}

// Dump opens a monitoring session (ALL_EVENTS unless o.Services says
// otherwise: every call event of the version, every agent state) over rw
// and prints every message received, one line each, until ctx ends or
// o.Duration has passed; it then closes the session with CLOSE_REQ. A
// refused OPEN_REQ is a *RefusedError; a session the server ends is an
// error too. The connection is closed when Dump returns.
func Dump(ctx context.Context, rw io.ReadWriter, o DumpOptions, out io.Writer) error {
	o.defaults()
	if o.ClientID == "ipcclab-cti" {
		o.ClientID = "ipcclab-cti-dump"
	}
	if o.Services == 0 {
		o.Services = cti.ServiceAllEvents
	}
	if o.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Duration)
		defer cancel()
	}
	p := &Printer{W: out, JSON: o.JSON, Now: o.Now}
	s, _, err := open(ctx, rw, o.SessionOptions, o.Services, p, false)
	if err != nil {
		if c, ok := rw.(io.Closer); ok {
			c.Close()
		}
		if ctx.Err() != nil && !isRefused(err) {
			return nil // stopped (SIGINT, --duration) before the server answered
		}
		return err
	}
	for {
		select {
		case m, ok := <-s.Events():
			if !ok {
				err := sessionEnded(s)
				abandon(s)
				return err
			}
			p.Print(Received, m, o.Version)
		case <-ctx.Done():
			return closeSession(s, p, o.Version)
		}
	}
}

func isRefused(err error) bool {
	var r *RefusedError
	return errors.As(err, &r)
}

// SendAddr builds the request from its name and FIELD=VALUE assignments
// (see BuildMessage), connects to o.Addr and runs Send. Bad input is
// reported before connecting.
func SendAddr(ctx context.Context, o SendOptions, name string, assignments []string, out io.Writer) error {
	o.defaults()
	m, err := BuildMessage(name, assignments, o.Version)
	if err != nil {
		return err
	}
	c, err := dial(ctx, o.Addr)
	if err != nil {
		return err
	}
	return Send(ctx, c, o, m, out)
}

// Send opens a CLIENT_CONTROL session (plus ALL_EVENTS unless o.Quiet)
// over rw, sends m with a fresh InvokeID and prints the request and its
// confirmation. FAILURE_CONF and CONTROL_FAILURE_CONF are printed and
// returned as a *RefusedError. With o.Follow the events received after the
// request are printed for that long. The session is closed with
// CLOSE_REQ; the connection is closed when Send returns.
func Send(ctx context.Context, rw io.ReadWriter, o SendOptions, m cti.Message, out io.Writer) error {
	o.defaults()
	if o.ClientID == "ipcclab-cti" {
		o.ClientID = "ipcclab-cti-send"
	}
	services := cti.ServiceClientControl
	if !o.Quiet {
		services |= cti.ServiceAllEvents
	}
	p := &Printer{W: out, JSON: o.JSON, Now: o.Now}
	s, conf, err := open(ctx, rw, o.SessionOptions, services, p, true)
	if err != nil {
		if c, ok := rw.(io.Closer); ok {
			c.Close()
		}
		return err
	}
	pv := o.Version
	defaultPeripheral(m, conf)

	// Events are held back until the confirmation is printed, then shown
	// live. Events from before the request are dropped: with --follow a
	// HEARTBEAT_REQ with markInvokeID goes first, and as no Request waits
	// for its HEARTBEAT_CONF, that arrives on Events in order and marks
	// where the events caused by the request can start.
	var (
		mu      sync.Mutex
		live    bool
		held    []heldEvent
		readers sync.WaitGroup
		marked  = make(chan struct{})
	)
	readers.Add(1)
	go func() {
		defer readers.Done()
		seen := false
		for ev := range s.Events() {
			at := p.now()
			if hb, ok := ev.(*cti.HeartbeatConf); ok && hb.InvokeID == markInvokeID && !seen {
				seen = true
				close(marked)
				continue
			}
			mu.Lock()
			switch {
			case !seen || isCloseConf(ev):
			case live:
				p.PrintAt(at, Received, ev, pv)
			default:
				held = append(held, heldEvent{at, ev})
			}
			mu.Unlock()
		}
	}()
	finish := func(err error) error {
		cerr := closeSession(s, nil, pv)
		readers.Wait()
		if err == nil && cerr != nil && !isRefused(cerr) {
			err = cerr
		}
		return err
	}

	if o.Follow > 0 {
		if err := s.Send(&cti.HeartbeatReq{InvokeID: markInvokeID}); err != nil {
			return finish(fmt.Errorf("HEARTBEAT_REQ: %w", err))
		}
		t := time.NewTimer(requestTimeout)
		select {
		case <-marked:
		case <-t.C:
			t.Stop()
			return finish(fmt.Errorf("HEARTBEAT_REQ: no HEARTBEAT_CONF within %v", requestTimeout))
		case <-ctx.Done():
			t.Stop()
			return finish(ctx.Err())
		}
		t.Stop()
	}
	at := p.now()
	if _, ok := m.(cti.InvokeIDer); !ok {
		err := s.Send(m)
		p.PrintAt(at, Sent, m, pv)
		if err != nil {
			return finish(fmt.Errorf("send %s: %w", m.MessageType(), err))
		}
	} else {
		rctx, cancel := context.WithTimeout(ctx, requestTimeout)
		conf, err := s.Request(rctx, m)
		cancel()
		p.PrintAt(at, Sent, m, pv)
		var (
			fc  *cti.FailureConf
			cfc *cti.ControlFailureConf
		)
		switch {
		case err == nil:
			p.Print(Received, conf, pv)
		case errors.As(err, &fc):
			p.Print(Received, fc, pv)
			return finish(&RefusedError{Request: m.MessageType(), Answer: fc, pv: pv})
		case errors.As(err, &cfc):
			p.Print(Received, cfc, pv)
			return finish(&RefusedError{Request: m.MessageType(), Answer: cfc, pv: pv})
		case errors.Is(err, context.DeadlineExceeded):
			return finish(fmt.Errorf("%s: no confirmation within %v", m.MessageType(), requestTimeout))
		default:
			return finish(fmt.Errorf("%s: %w", m.MessageType(), err))
		}
	}
	mu.Lock()
	for _, h := range held {
		p.PrintAt(h.at, Received, h.m, pv)
	}
	held, live = nil, true
	mu.Unlock()
	if o.Follow > 0 {
		t := time.NewTimer(o.Follow)
		select {
		case <-t.C:
		case <-ctx.Done():
		case <-s.Done():
			t.Stop()
			err := sessionEnded(s)
			abandon(s)
			readers.Wait()
			return err
		}
		t.Stop()
	}
	return finish(nil)
}

// defaultPeripheral fills a zero fixed PeripheralID with the peripheral
// the server reported in OPEN_CONF, when it reported exactly one (a real
// CTI Server refuses control requests without it).
func defaultPeripheral(m cti.Message, conf *cti.OpenConf) {
	if conf == nil || len(conf.Peripherals) != 1 {
		return
	}
	ms := specOf(m.MessageType())
	if ms == nil || ms.fields["PeripheralID"] == nil || !ms.fields["PeripheralID"].Fixed {
		return
	}
	f := reflect.ValueOf(m).Elem().FieldByName("PeripheralID")
	if f.IsValid() && f.CanUint() && f.Uint() == 0 {
		f.SetUint(uint64(conf.Peripherals[0].FltPeripheralID))
	}
}

type heldEvent struct {
	at time.Time
	m  cti.Message
}

func isCloseConf(m cti.Message) bool {
	c, ok := m.(*cti.CloseConf)
	return ok && c.InvokeID == closeInvokeID
}
