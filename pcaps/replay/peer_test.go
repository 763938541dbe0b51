package replay

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/ipcclab/ipcclab/protocol/cti"
)

// The synthetic tests build small scripts by hand and play them against a
// scripted peer over real TCP on 127.0.0.1, to pin down each rule of the
// replay (matching, polls, ordering, bad input) without a whole centre.

const testPV cti.ProtocolVersion = 24

// encode returns the frame of m for the tests' protocol version.
func encode(t testing.TB, m cti.Message) []byte {
	t.Helper()
	b, err := cti.AppendMessage(nil, m, testPV)
	if err != nil {
		t.Fatalf("encode %v: %v", m.MessageType(), err)
	}
	return b
}

// scriptBuilder writes a Script message by message, at offsets in
// milliseconds from its start.
type scriptBuilder struct {
	t  testing.TB
	t0 time.Time
	s  Script
}

func newScript(t testing.TB, name string) *scriptBuilder {
	return &scriptBuilder{t: t, t0: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), s: Script{Name: name}}
}

func (b *scriptBuilder) client(ms int, m cti.Message) *scriptBuilder {
	b.s.Frames = append(b.s.Frames, Frame{Time: b.t0.Add(time.Duration(ms) * time.Millisecond), FromClient: true, Data: encode(b.t, m)})
	return b
}

func (b *scriptBuilder) server(ms int, m cti.Message) *scriptBuilder {
	b.s.Frames = append(b.s.Frames, Frame{Time: b.t0.Add(time.Duration(ms) * time.Millisecond), Data: encode(b.t, m)})
	return b
}

func (b *scriptBuilder) script() Script { return b.s }

func openReq(invoke uint32) *cti.OpenReq {
	m := &cti.OpenReq{InvokeID: invoke, VersionNumber: uint32(testPV), IdleTimeout: 40, PeripheralID: 5000,
		ServicesRequested: cti.ServiceAllEvents | cti.ServiceClientControl, ClientID: "replay-test", ClientPassword: []byte{}}
	m.SetPresent(cti.TagClientPassword)
	return m
}

func openConf(invoke uint32) *cti.OpenConf {
	return &cti.OpenConf{InvokeID: invoke, ServicesGranted: cti.ServiceAllEvents | cti.ServiceClientControl, PeripheralOnline: true,
		ICMCentralControllerTime: cti.TimeOf(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))}
}

func setState(invoke uint32, agent string, st cti.AgentState) *cti.SetAgentStateReq {
	return &cti.SetAgentStateReq{InvokeID: invoke, PeripheralID: 5000, AgentID: agent, AgentInstrument: "2" + agent[1:], AgentState: st}
}

func stats(invoke uint32) *cti.QuerySkillGroupStatisticsReq {
	return &cti.QuerySkillGroupStatisticsReq{InvokeID: invoke, PeripheralID: 5000, SkillGroupNumber: 100, SkillGroupID: 0xFFFFFFFF}
}

func agentEvent(agent string, st cti.AgentState) *cti.AgentStateEvent {
	return &cti.AgentStateEvent{PeripheralID: 5000, AgentID: agent, AgentInstrument: "2" + agent[1:], AgentState: st}
}

// peer is the scripted other side of a synthetic replay.
type peer struct {
	t    testing.TB
	conn net.Conn
	buf  []byte
}

func (p *peer) send(m cti.Message) {
	p.t.Helper()
	if _, err := p.conn.Write(encode(p.t, m)); err != nil {
		p.t.Errorf("peer: send %v: %v", m.MessageType(), err)
	}
}

// trySend sends m and reports whether the replay still took it: for a
// client that keeps talking after the replay may have hung up on it.
func (p *peer) trySend(m cti.Message) bool {
	p.t.Helper()
	_, err := p.conn.Write(encode(p.t, m))
	return err == nil
}

func (p *peer) sendRaw(frame []byte) {
	p.t.Helper()
	if _, err := p.conn.Write(frame); err != nil {
		p.t.Errorf("peer: send: %v", err)
	}
}

// recv reads the next message within 5 s; nil when the replay closed the
// connection (or on error, which is reported).
func (p *peer) recv() cti.Message {
	p.t.Helper()
	_ = p.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	mt, body, err := cti.ReadFrame(p.conn, p.buf)
	if err != nil {
		if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
			p.t.Errorf("peer: read: %v", err)
		}
		return nil
	}
	m, err := cti.DecodeBody(mt, body, testPV)
	if err != nil {
		p.t.Errorf("peer: decode %v: %v", mt, err)
		return nil
	}
	return m
}

// expect reads until a message of type mt (events in between are skipped)
// and returns it; nil, with an error reported, if none comes.
func (p *peer) expect(mt cti.MessageType) cti.Message {
	p.t.Helper()
	for range 1000 {
		m := p.recv()
		if m == nil {
			p.t.Errorf("peer: connection ended while waiting for %v", mt)
			return nil
		}
		if m.MessageType() == mt {
			return m
		}
	}
	p.t.Errorf("peer: no %v in 1000 messages", mt)
	return nil
}

// drain reads until the replay closes the connection.
func (p *peer) drain() {
	p.t.Helper()
	for range 10000 {
		if p.recv() == nil {
			return
		}
	}
}

// serveTo runs Serve over a real TCP connection whose client side is
// played by fn; it returns the result once both are done.
func serveTo(t *testing.T, s Script, o Options, fn func(p *peer)) *Result {
	t.Helper()
	res, err := serveToErr(t, context.Background(), s, o, fn)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func serveToErr(t *testing.T, ctx context.Context, s Script, o Options, fn func(p *peer)) (*Result, error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close()
		fn(&peer{t: t, conn: c, buf: make([]byte, 4096)})
	}()
	conn, err := acceptWithin(ln, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	res, err := Serve(ctx, conn, s, o)
	wg.Wait()
	return res, err
}

// driveTo runs Drive over a real TCP connection whose server side is
// played by fn.
func driveTo(t *testing.T, s Script, o Options, fn func(p *peer)) *Result {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		c, err := acceptWithin(ln, 5*time.Second)
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close()
		fn(&peer{t: t, conn: c, buf: make([]byte, 4096)})
	}()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := Drive(ctx, conn, s, o)
	if err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	return res
}

// frameOf builds a frame with the given type and body, valid or not.
func frameOf(mt cti.MessageType, body []byte) []byte {
	f := make([]byte, cti.HeaderSize+len(body))
	binary.BigEndian.PutUint32(f, uint32(len(body)))
	binary.BigEndian.PutUint32(f[4:], uint32(mt))
	copy(f[cti.HeaderSize:], body)
	return f
}
