package cti

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Session errors.
var (
	// ErrSessionClosed is returned after Close.
	ErrSessionClosed = errors.New("cti: session closed")
	// ErrEventOverflow ends a session whose consumer stopped reading Events.
	ErrEventOverflow = errors.New("cti: too many undelivered events")
	// ErrHeartbeatTimeout ends a session after three unanswered heartbeats (§5.4).
	ErrHeartbeatTimeout = errors.New("cti: three heartbeats unanswered")
	// ErrNotRequest is returned by Request for messages without an InvokeID.
	ErrNotRequest = errors.New("cti: message has no InvokeID")
)

// UndecodableMessage is delivered on Events for a well-framed message the
// codec rejected (the session goes on; a framing error ends it instead).
type UndecodableMessage struct {
	RawMessage
	Err error
}

// SessionOptions tunes a Session; the zero value is usable.
type SessionOptions struct {
	// MaxQueuedEvents bounds the events received but not yet taken from
	// Events; beyond it the session ends with ErrEventOverflow rather than
	// stop reading (which would also stall confirmations). Default 65536.
	MaxQueuedEvents int
}

// Session is a GED-188 client session over any io.ReadWriter (the caller
// dials the connection and hands it over; the session closes it, when it
// is an io.Closer, on Close or when the session ends).
//
// One reader goroutine reads frames: confirmations (…_CONF, FAILURE_CONF,
// CONTROL_FAILURE_CONF) whose InvokeID matches a waiting Request go to that
// request; everything else is an event, delivered on Events in arrival
// order. Writes are serialised and each message goes out in a single Write
// call (§9: some peers read a header with one recv).
//
// The goroutines (reader, event pump, optional heartbeat loop) all stop
// when the peer closes, on a framing error or on Close.
type Session struct {
	rw     io.ReadWriter
	closer io.Closer

	wmu  sync.Mutex
	wbuf []byte

	pv        atomic.Uint32
	nextID    atomic.Uint32
	lastWrite atomic.Int64 // unix nanoseconds of the last successful write

	mu         sync.Mutex
	pending    map[uint32]chan Message
	queue      []Message
	maxQueue   int
	readerDone bool
	err        error
	open       bool
	heartbeat  bool

	wake     chan struct{} // cap 1: the queue changed
	events   chan Message
	done     chan struct{} // closed when the session has ended
	stop     chan struct{} // closed by Close: abandon event delivery
	stopOnce sync.Once
	doneOnce sync.Once
	wg       sync.WaitGroup
}

// NewSession starts a session over rw. Call Open next.
func NewSession(rw io.ReadWriter, opts *SessionOptions) *Session {
	s := &Session{
		rw:       rw,
		pending:  map[uint32]chan Message{},
		maxQueue: 1 << 16,
		wake:     make(chan struct{}, 1),
		events:   make(chan Message),
		done:     make(chan struct{}),
		stop:     make(chan struct{}),
	}
	if c, ok := rw.(io.Closer); ok {
		s.closer = c
	}
	if opts != nil && opts.MaxQueuedEvents > 0 {
		s.maxQueue = opts.MaxQueuedEvents
	}
	s.wg.Add(2)
	go s.readLoop()
	go s.pump()
	return s
}

// Version returns the session's protocol version (set by Open).
func (s *Session) Version() ProtocolVersion { return ProtocolVersion(s.pv.Load()) }

// Events delivers unsolicited messages (and unmatched confirmations) in
// arrival order. It is closed once the session has ended and every queued
// event was delivered, or at once by Close.
func (s *Session) Events() <-chan Message { return s.events }

// Done is closed when the session has ended; Err then tells why.
func (s *Session) Done() <-chan struct{} { return s.done }

// Err returns why the session ended (io.EOF when the peer closed), or nil.
func (s *Session) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Open sends OPEN_REQ (its InvokeID is assigned here; VersionNumber must be
// set and becomes the session's version, §5.1) and waits for OPEN_CONF. A
// refusal returns the *FailureConf as the error (its Status says why, §5.2).
func (s *Session) Open(ctx context.Context, req *OpenReq) (*OpenConf, error) {
	if req.VersionNumber == 0 {
		return nil, errors.New("cti: OpenReq.VersionNumber not set")
	}
	s.pv.Store(req.VersionNumber)
	m, err := s.Request(ctx, req)
	if err != nil {
		return nil, err
	}
	conf, ok := m.(*OpenConf)
	if !ok {
		return nil, fmt.Errorf("cti: OPEN_REQ answered with %s", m.MessageType())
	}
	s.mu.Lock()
	s.open = true
	s.mu.Unlock()
	return conf, nil
}

// Request assigns req a fresh InvokeID, sends it and waits for the
// matching confirmation. FAILURE_CONF and CONTROL_FAILURE_CONF are returned
// as errors (*FailureConf, *ControlFailureConf; use errors.As). Cancelling
// ctx abandons the wait; a confirmation arriving later goes to Events.
func (s *Session) Request(ctx context.Context, req Message) (Message, error) {
	r, ok := req.(InvokeIDer)
	if !ok {
		return nil, ErrNotRequest
	}
	id := s.nextID.Add(1)
	r.SetInvokeID(id)
	ch := make(chan Message, 1)
	s.mu.Lock()
	if s.err != nil {
		err := s.err
		s.mu.Unlock()
		return nil, err
	}
	s.pending[id] = ch
	s.mu.Unlock()
	forget := func() {
		s.mu.Lock()
		delete(s.pending, id)
		s.mu.Unlock()
	}
	if err := s.Send(req); err != nil {
		forget()
		return nil, err
	}
	answer := func(m Message) (Message, error) {
		switch v := m.(type) {
		case *FailureConf:
			return nil, v
		case *ControlFailureConf:
			return nil, v
		case *UndecodableMessage:
			return nil, v.Err
		}
		return m, nil
	}
	select {
	case m := <-ch:
		return answer(m)
	case <-ctx.Done():
		forget()
		return nil, ctx.Err()
	case <-s.done:
		// The reader hands the answer over before it ends the session, so
		// an answer that arrived just before the peer closed (CLOSE_CONF,
		// then EOF) is already waiting here: prefer it to the session's end.
		select {
		case m := <-ch:
			return answer(m)
		default:
		}
		forget()
		return nil, s.Err()
	}
}

// Send writes one message without waiting for an answer (for messages
// without InvokeID, e.g. CONFIG_REQUEST_EVENT). A write error ends the
// session.
func (s *Session) Send(m Message) error {
	if err := s.Err(); err != nil {
		return err
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	b, err := AppendMessage(s.wbuf[:0], m, s.Version())
	if err != nil {
		return err
	}
	s.wbuf = b
	if _, err := s.rw.Write(b); err != nil {
		s.end(fmt.Errorf("cti: write: %w", err))
		return err
	}
	s.lastWrite.Store(time.Now().UnixNano())
	return nil
}

// Heartbeat sends HEARTBEAT_REQ and waits for HEARTBEAT_CONF (§5.4).
func (s *Session) Heartbeat(ctx context.Context) error {
	_, err := s.Request(ctx, &HeartbeatReq{})
	return err
}

// StartHeartbeat starts the background heartbeat loop: every interval
// without other traffic it sends HEARTBEAT_REQ and waits up to interval for
// the answer. Three unanswered heartbeats in a row, or a FAILURE_CONF (the
// server is offline, §5.4), end the session. The loop stops with the
// session; a second call does nothing.
func (s *Session) StartHeartbeat(interval time.Duration) {
	s.mu.Lock()
	if s.heartbeat || s.err != nil {
		s.mu.Unlock()
		return
	}
	s.heartbeat = true
	s.wg.Add(1)
	s.mu.Unlock()
	go s.heartbeatLoop(interval)
}

func (s *Session) heartbeatLoop(interval time.Duration) {
	defer s.wg.Done()
	t := time.NewTicker(interval)
	defer t.Stop()
	missed := 0
	for {
		select {
		case <-s.done:
			return
		case <-s.stop:
			return
		case <-t.C:
		}
		if time.Since(time.Unix(0, s.lastWrite.Load())) < interval {
			continue // §5.4: heartbeats only when nothing else was sent
		}
		ctx, cancel := context.WithTimeout(context.Background(), interval)
		err := s.Heartbeat(ctx)
		cancel()
		var fc *FailureConf
		switch {
		case err == nil:
			missed = 0
		case errors.As(err, &fc):
			s.end(fc)
			return
		case errors.Is(err, context.DeadlineExceeded):
			if missed++; missed >= 3 {
				s.end(ErrHeartbeatTimeout)
				return
			}
		default:
			return // the session ended
		}
	}
}

// Close ends the session: if it is open it sends CLOSE_REQ (Status
// E_CTI_NO_ERROR) and waits for CLOSE_CONF until ctx is done (§5.5), then
// closes the connection and stops every goroutine. Events still queued are
// dropped. Close returns the CLOSE_REQ error, if any.
func (s *Session) Close(ctx context.Context) error {
	var err error
	s.mu.Lock()
	open := s.open && s.err == nil
	s.mu.Unlock()
	if open {
		// A write blocked on a peer that does not read must not outlive ctx.
		stop := context.AfterFunc(ctx, func() { s.end(ctx.Err()) })
		_, err = s.Request(ctx, &CloseReq{Status: StatusNoError})
		stop()
	}
	s.end(ErrSessionClosed)
	s.stopOnce.Do(func() { close(s.stop) })
	if s.closer != nil {
		s.wg.Wait()
	}
	return err
}

// end records the first terminal error, fails waiting requests and closes
// the connection so that the reader stops.
func (s *Session) end(err error) {
	s.mu.Lock()
	if s.err == nil {
		s.err = err
	}
	s.mu.Unlock()
	s.doneOnce.Do(func() {
		close(s.done)
		if s.closer != nil {
			s.closer.Close()
		}
	})
}

func isConfirmation(mt MessageType) bool {
	n := mt.String()
	return strings.HasSuffix(n, "_CONF") || strings.HasSuffix(n, "_RESP")
}

func (s *Session) readLoop() {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		s.readerDone = true
		s.mu.Unlock()
		s.signal()
	}()
	buf := make([]byte, 4096)
	for {
		mt, body, err := ReadFrame(s.rw, buf)
		if err != nil {
			s.end(err)
			return
		}
		if cap(body) > cap(buf) {
			buf = body[:cap(body)]
		}
		m, err := DecodeBody(mt, body, s.Version())
		if err != nil {
			m = &UndecodableMessage{RawMessage: RawMessage{Type: mt, Body: append([]byte(nil), body...)}, Err: err}
		}
		if isConfirmation(mt) {
			if id, ok := InvokeIDFromBody(body); ok && s.answer(id, m) {
				continue
			}
		}
		if !s.enqueue(m) {
			s.end(ErrEventOverflow)
			return
		}
	}
}

// answer hands m to the request waiting for id.
func (s *Session) answer(id uint32, m Message) bool {
	s.mu.Lock()
	ch, ok := s.pending[id]
	delete(s.pending, id)
	s.mu.Unlock()
	if ok {
		ch <- m // buffered, never blocks
	}
	return ok
}

func (s *Session) enqueue(m Message) bool {
	s.mu.Lock()
	if len(s.queue) >= s.maxQueue {
		s.mu.Unlock()
		return false
	}
	s.queue = append(s.queue, m)
	s.mu.Unlock()
	s.signal()
	return true
}

func (s *Session) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// pump moves queued events to the unbuffered Events channel, so the reader
// never blocks on a slow consumer.
func (s *Session) pump() {
	defer s.wg.Done()
	defer close(s.events)
	for {
		s.mu.Lock()
		for len(s.queue) == 0 {
			if s.readerDone {
				s.mu.Unlock()
				return
			}
			s.mu.Unlock()
			select {
			case <-s.wake:
			case <-s.stop:
				return
			}
			s.mu.Lock()
		}
		m := s.queue[0]
		s.queue[0] = nil
		s.queue = s.queue[1:]
		s.mu.Unlock()
		select {
		case s.events <- m:
		case <-s.stop:
			return
		}
	}
}
