package ctitcp

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/ipcclab/ipcclab/internal/sim"
	"github.com/ipcclab/ipcclab/protocol/cti"
)

// echoClose answers every frame with a CLOSE_CONF and closes at once, as the
// CTI Server does for CLOSE_REQ.
type echoClose struct {
	c      *Conn
	errs   chan error
	closed chan struct{}
}

func (e *echoClose) Receive(frame []byte) {
	b, _ := cti.AppendMessage(nil, &cti.CloseConf{InvokeID: 42}, 24)
	e.c.Send(b)
	e.c.Close()
}
func (e *echoClose) FramingError(err error) { e.errs <- err }
func (e *echoClose) Closed()                { close(e.closed) }

func serve(t *testing.T) (string, chan error) {
	t.Helper()
	loop := sim.NewLoop(time.Now())
	ctx, cancel := context.WithCancel(context.Background())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 4)
	done := make(chan struct{}, 2)
	go func() { _ = loop.RunRealtime(ctx, time.Now); done <- struct{}{} }()
	go func() {
		_ = Serve(ctx, ln, loop, func(c *Conn) FrameSink {
			return &echoClose{c: c, errs: errs, closed: make(chan struct{})}
		})
		done <- struct{}{}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		<-done
	})
	return ln.Addr().String(), errs
}

// Regression: a frame sent just before Close (CLOSE_CONF, FAILURE_CONF) must
// reach the peer before the connection ends.
func TestFramesQueuedBeforeCloseAreDelivered(t *testing.T) {
	addr, _ := serve(t)
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	req, _ := cti.AppendMessage(nil, &cti.CloseReq{InvokeID: 42}, 24)
	if _, err := c.Write(req); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	mt, body, err := cti.ReadFrame(c, nil)
	if err != nil || mt != cti.MsgCloseConf {
		t.Fatalf("want CLOSE_CONF before the close, got %v %v", mt, err)
	}
	if inv, _ := cti.InvokeIDFromBody(body); inv != 42 {
		t.Fatalf("InvokeID %d", inv)
	}
	if _, _, err := cti.ReadFrame(c, nil); !errors.Is(err, io.EOF) {
		t.Fatalf("want a graceful end of stream after CLOSE_CONF, got %v", err)
	}
}

func TestUnframeableStreamIsReported(t *testing.T) {
	addr, errs := serve(t)
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte{0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 3}); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errs:
		var ce *cti.Error
		if !errors.As(err, &ce) || ce.Status != cti.StatusInvalidMessageLength {
			t.Fatalf("framing error %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("an impossible MessageLength was not reported within 5 s")
	}
}

// A peer that never reads is dropped once its queue is full, instead of
// blocking the loop that serves everyone else.
func TestSlowReaderIsDroppedNotWaitedFor(t *testing.T) {
	a, b := net.Pipe()
	defer b.Close()
	c := newConn(a)
	go c.writeLoop()
	frame := make([]byte, 64)
	deadline := time.Now().Add(5 * time.Second)
	for i := 0; i < 10*QueueFrames && time.Now().Before(deadline); i++ {
		c.Send(frame) // must never block
		select {
		case <-c.done:
			return
		default:
		}
	}
	t.Fatal("a peer that never reads was not dropped")
}
