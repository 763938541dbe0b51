package cti

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"
)

// frameCheckConn asserts that every Write carries exactly one whole frame.
type frameCheckConn struct {
	net.Conn
	t *testing.T
}

func (c frameCheckConn) Write(b []byte) (int, error) {
	if len(b) < HeaderSize || int(binary.BigEndian.Uint32(b))+HeaderSize != len(b) {
		c.t.Errorf("Write of %d bytes is not one whole frame", len(b))
	}
	return c.Conn.Write(b)
}

// fakeServer is the server end of a net.Pipe.
type fakeServer struct {
	t    *testing.T
	conn net.Conn
	pv   ProtocolVersion
	buf  []byte
}

func (f *fakeServer) read() Message {
	f.t.Helper()
	mt, body, err := ReadFrame(f.conn, f.buf)
	if err != nil {
		f.t.Fatalf("server read: %v", err)
	}
	m, err := DecodeBody(mt, body, f.pv)
	if err != nil {
		f.t.Fatalf("server decode: %v", err)
	}
	return m
}

func (f *fakeServer) write(m Message) {
	f.t.Helper()
	b, err := AppendMessage(nil, m, f.pv)
	if err != nil {
		f.t.Fatalf("server encode: %v", err)
	}
	if _, err := f.conn.Write(b); err != nil {
		f.t.Fatalf("server write: %v", err)
	}
}

// serve runs fn in a goroutine and returns a func waiting for it.
func serve(fn func()) (wait func()) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); fn() }()
	return wg.Wait
}

func newPipeSession(t *testing.T, pv ProtocolVersion) (*Session, *fakeServer) {
	c, s := net.Pipe()
	t.Cleanup(func() { c.Close(); s.Close() })
	return NewSession(frameCheckConn{c, t}, nil), &fakeServer{t: t, conn: s, pv: pv, buf: make([]byte, 1024)}
}

func checkNoLeak(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("goroutines leaked: %d > %d\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func openReq(pv ProtocolVersion) *OpenReq {
	return &OpenReq{VersionNumber: uint32(pv), IdleTimeout: 0xFFFFFFFF, PeripheralID: NullPeripheralID,
		ServicesRequested: ServiceAllEvents | ServiceClientControl, CallMsgMask: 0x0fffffff, AgentStateMask: 0x3fff,
		ClientID: "ipcclab", ClientPassword: []byte{}}
}

// acceptOpen answers the OPEN_REQ with OPEN_CONF.
func (f *fakeServer) acceptOpen() {
	req := f.read().(*OpenReq)
	if req.ClientID != "ipcclab" || ProtocolVersion(req.VersionNumber) != f.pv {
		f.t.Errorf("OPEN_REQ %+v", req)
	}
	f.write(&OpenConf{InvokeID: req.InvokeID, ServicesGranted: req.ServicesRequested, PeripheralType: PTEnterpriseAgent, AgentState: AgentStateUnknown, SessionType: SessionTypeActive})
}

func (f *fakeServer) acceptClose() {
	req := f.read().(*CloseReq)
	f.write(&CloseConf{InvokeID: req.InvokeID})
}

func TestSessionOpenEventsClose(t *testing.T) {
	before := runtime.NumGoroutine()
	for _, pv := range []ProtocolVersion{15, 24} {
		s, srv := newPipeSession(t, pv)
		wait := serve(func() {
			srv.acceptOpen()
			srv.write(&SystemEvent{SystemEventID: SysPeripheralOnline, SystemEventArg1: 5000, EventDeviceType: DevIDNone})
			srv.write(&AgentStateEvent{PeripheralID: 5000, AgentState: AgentStateAvailable, AgentID: "1001", DepartmentID: 7})
			srv.acceptClose()
		})
		conf, err := s.Open(context.Background(), openReq(pv))
		if err != nil || conf.PeripheralType != PTEnterpriseAgent {
			t.Fatalf("open: %v %+v", err, conf)
		}
		if pv >= 24 && conf.SessionType != SessionTypeActive {
			t.Errorf("SessionType %v", conf.SessionType)
		}
		ev1, ev2 := <-s.Events(), <-s.Events()
		if se, ok := ev1.(*SystemEvent); !ok || se.SystemEventArg1 != 5000 {
			t.Errorf("first event %+v", ev1)
		}
		if ae, ok := ev2.(*AgentStateEvent); !ok || ae.AgentID != "1001" || (pv >= 19) != (ae.DepartmentID == 7) {
			t.Errorf("second event %+v", ev2)
		}
		if err := s.Close(context.Background()); err != nil {
			t.Fatalf("close: %v", err)
		}
		wait()
		if _, ok := <-s.Events(); ok {
			t.Error("Events not closed after Close")
		}
		if !errors.Is(s.Err(), ErrSessionClosed) {
			t.Errorf("Err after Close: %v", s.Err())
		}
	}
	checkNoLeak(t, before)
}

func TestSessionOpenRefused(t *testing.T) {
	before := runtime.NumGoroutine()
	s, srv := newPipeSession(t, 15)
	wait := serve(func() {
		req := srv.read().(*OpenReq)
		srv.write(&FailureConf{InvokeID: req.InvokeID, Status: StatusInvalidPassword})
		srv.conn.Close() // §5.2: the client is expected to reset
	})
	_, err := s.Open(context.Background(), openReq(15))
	var fc *FailureConf
	if !errors.As(err, &fc) || fc.Status != StatusInvalidPassword {
		t.Fatalf("open: %v", err)
	}
	wait()
	s.Close(context.Background())
	checkNoLeak(t, before)
}

func TestSessionHeartbeatAndOutOfOrderConfs(t *testing.T) {
	before := runtime.NumGoroutine()
	s, srv := newPipeSession(t, 20)
	const n = 3
	wait := serve(func() {
		srv.acceptOpen()
		hb := srv.read().(*HeartbeatReq)
		srv.write(&HeartbeatConf{InvokeID: hb.InvokeID})
		var reqs []*QueryAgentStateReq
		for range n {
			reqs = append(reqs, srv.read().(*QueryAgentStateReq))
		}
		// Answer in reverse order with events in between; the middle one fails.
		for i := n - 1; i >= 0; i-- {
			srv.write(&BeginCallEvent{ConnectionCallID: uint32(i), ConnectionDeviceID: "dev"})
			switch reqs[i].AgentID {
			case "B":
				srv.write(&ControlFailureConf{InvokeID: reqs[i].InvokeID, FailureCode: CFInvalidAgentIDSpecified})
			default:
				srv.write(&QueryAgentStateConf{InvokeID: reqs[i].InvokeID, AgentState: AgentStateTalking, AgentID: reqs[i].AgentID})
			}
		}
		srv.write(&HeartbeatConf{InvokeID: 999}) // unmatched confirmation -> Events
		srv.acceptClose()
	})
	if _, err := s.Open(context.Background(), openReq(20)); err != nil {
		t.Fatal(err)
	}
	if err := s.Heartbeat(context.Background()); err != nil {
		t.Fatalf("heartbeat: %v", err)
	}
	var wg sync.WaitGroup
	results := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			agent := string(rune('A' + i))
			m, err := s.Request(context.Background(), &QueryAgentStateReq{PeripheralID: 5000, AgentID: agent})
			if err == nil && m.(*QueryAgentStateConf).AgentID != agent {
				t.Errorf("request %d got the answer of %q", i, m.(*QueryAgentStateConf).AgentID)
			}
			results[i] = err
		}()
	}
	for i := n - 1; i >= 0; i-- {
		ev := <-s.Events()
		if b, ok := ev.(*BeginCallEvent); !ok || b.ConnectionCallID != uint32(i) {
			t.Errorf("event %d: %+v", i, ev)
		}
	}
	if ev := <-s.Events(); ev.(*HeartbeatConf).InvokeID != 999 {
		t.Errorf("unmatched conf: %+v", ev)
	}
	wg.Wait()
	var cf *ControlFailureConf
	if results[0] != nil || results[2] != nil || !errors.As(results[1], &cf) || cf.FailureCode != CFInvalidAgentIDSpecified {
		t.Errorf("results %v", results)
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	wait()
	checkNoLeak(t, before)
}

func TestSessionPeerClose(t *testing.T) {
	before := runtime.NumGoroutine()
	s, srv := newPipeSession(t, 24)
	wait := serve(func() {
		srv.acceptOpen()
		srv.write(&SystemEvent{SystemEventID: SysCTIServerOffline})
		srv.read() // the pending request
		srv.conn.Close()
	})
	if _, err := s.Open(context.Background(), openReq(24)); err != nil {
		t.Fatal(err)
	}
	s.StartHeartbeat(time.Hour)
	_, err := s.Request(context.Background(), &QueryAgentStateReq{})
	if err == nil {
		t.Fatal("request survived peer close")
	}
	<-s.Done()
	if !errors.Is(s.Err(), io.EOF) {
		t.Errorf("Err: %v", s.Err())
	}
	// The event sent before the close is still delivered, then Events closes.
	if ev, ok := <-s.Events(); !ok || ev.MessageType() != MsgSystemEvent {
		t.Errorf("event: %v %v", ev, ok)
	}
	if _, ok := <-s.Events(); ok {
		t.Error("Events not closed")
	}
	wait()
	if _, err := s.Request(context.Background(), &HeartbeatReq{}); err == nil {
		t.Error("request after end")
	}
	s.Close(context.Background())
	checkNoLeak(t, before)
}

func TestSessionGarbage(t *testing.T) {
	before := runtime.NumGoroutine()
	s, srv := newPipeSession(t, 15)
	wait := serve(func() {
		srv.acceptOpen()
		// A well-framed but undecodable event: the session goes on.
		srv.conn.Write(mkframe(MsgSystemEvent, uint16(1)))
		// A confirmation that cannot be decoded fails its request.
		q := srv.read().(*QueryAgentStateReq)
		srv.conn.Write(mkframe(MsgQueryAgentStateConf, q.InvokeID, uint16(0)))
		// An absurd length ends the session.
		srv.conn.Write([]byte{0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 4})
	})
	if _, err := s.Open(context.Background(), openReq(15)); err != nil {
		t.Fatal(err)
	}
	ev := <-s.Events()
	if u, ok := ev.(*UndecodableMessage); !ok || statusOf(u.Err) != StatusInvalidMessageLength {
		t.Errorf("undecodable event: %+v", ev)
	}
	if _, err := s.Request(context.Background(), &QueryAgentStateReq{}); statusOf(err) != StatusInvalidMessageLength {
		t.Errorf("undecodable conf: %v", err)
	}
	<-s.Done()
	if statusOf(s.Err()) != StatusInvalidMessageLength {
		t.Errorf("Err: %v", s.Err())
	}
	for range s.Events() {
	}
	wait()
	s.Close(context.Background())
	checkNoLeak(t, before)
}

func TestSessionHeartbeatLoop(t *testing.T) {
	before := runtime.NumGoroutine()
	s, srv := newPipeSession(t, 20)
	answered := make(chan struct{})
	wait := serve(func() {
		srv.acceptOpen()
		for i := 0; ; i++ {
			hb, ok := srv.read().(*HeartbeatReq)
			if !ok {
				t.Error("expected heartbeats")
				return
			}
			if i < 2 {
				srv.write(&HeartbeatConf{InvokeID: hb.InvokeID})
				continue
			}
			if i == 2 {
				close(answered)
			}
			if i == 4 { // third unanswered heartbeat: the client gives up
				return
			}
		}
	})
	if _, err := s.Open(context.Background(), openReq(20)); err != nil {
		t.Fatal(err)
	}
	s.StartHeartbeat(20 * time.Millisecond)
	<-answered
	select {
	case <-s.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("session did not end after unanswered heartbeats")
	}
	if !errors.Is(s.Err(), ErrHeartbeatTimeout) {
		t.Errorf("Err: %v", s.Err())
	}
	wait()
	s.Close(context.Background())
	checkNoLeak(t, before)
}

func TestSessionCloseWithStuckPeer(t *testing.T) {
	before := runtime.NumGoroutine()
	s, srv := newPipeSession(t, 20)
	wait := serve(func() { srv.acceptOpen() }) // then never reads again
	if _, err := s.Open(context.Background(), openReq(20)); err != nil {
		t.Fatal(err)
	}
	wait()
	go s.Request(context.Background(), &HeartbeatReq{}) // blocks in Write
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := s.Close(ctx); err == nil {
		t.Error("Close reported success without CLOSE_CONF")
	}
	if time.Since(start) > 2*time.Second {
		t.Error("Close hung")
	}
	checkNoLeak(t, before)
}
