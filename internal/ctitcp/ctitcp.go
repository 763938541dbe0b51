// Package ctitcp carries CTI frames over real TCP for the cores: it serves the
// emulated CTI Server on a listener, and connects CTI client cores (the
// controller) to any CTI Server. It owns every goroutine and socket; the
// cores run on the sim.Loop goroutine and are reached only through Post.
package ctitcp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/ipcclab/ipcclab/protocol/cti"
)

// Poster runs a function on the cores' goroutine (sim.Loop.Post).
type Poster interface {
	Post(fn func(now time.Time))
}

// FrameSink receives what arrives on one connection, on the loop goroutine.
type FrameSink interface {
	Receive(frame []byte)
	FramingError(err error)
	Closed()
}

// Conn is one TCP connection carrying CTI frames. Send is called on the loop
// goroutine and never blocks: frames go through a bounded queue to a writer
// goroutine, and a peer that does not read its queue is disconnected rather
// than allowed to stall the cores.
type Conn struct {
	c      net.Conn
	out    chan []byte
	once   sync.Once
	done   chan struct{}
	Remote string
}

// QueueFrames is how many frames may wait for a slow reader.
const QueueFrames = 8192

func newConn(c net.Conn) *Conn {
	if tc, ok := c.(*net.TCPConn); ok {
		// §1.1: Nagle off. (SO_LINGER 0, also recommended there, would turn
		// every close into a reset that can discard a CLOSE_CONF or
		// FAILURE_CONF still on its way; the close is graceful instead.)
		_ = tc.SetNoDelay(true)
	}
	return &Conn{c: c, out: make(chan []byte, QueueFrames), done: make(chan struct{}), Remote: c.RemoteAddr().String()}
}

// Send queues one whole frame; it is written with a single Write call.
func (c *Conn) Send(frame []byte) {
	b := append([]byte(nil), frame...)
	select {
	case <-c.done:
		return
	default:
	}
	select {
	case c.out <- b:
	default:
		// The peer is not reading: drop it rather than block the loop.
		c.Close()
	}
}

// Close ends the connection once the frames already queued are written (at
// most flushTimeout more); it is safe to call more than once.
func (c *Conn) Close() {
	c.once.Do(func() { close(c.done) })
}

// flushTimeout bounds how long a closing connection waits for a peer that
// does not read.
const flushTimeout = time.Second

// writeLoop owns the socket's write side and closes the socket when done.
func (c *Conn) writeLoop() {
	defer c.c.Close()
	for {
		select {
		case b := <-c.out:
			if _, err := c.c.Write(b); err != nil {
				c.Close()
				return
			}
		case <-c.done:
			_ = c.c.SetWriteDeadline(time.Now().Add(flushTimeout))
			for {
				select {
				case b := <-c.out:
					if _, err := c.c.Write(b); err != nil {
						return
					}
				default:
					return
				}
			}
		}
	}
}

// readLoop frames the byte stream and hands each frame to the sink on the
// loop goroutine. An unframeable stream is reported once and the reading
// stops (§1.2: there is no way to resynchronise).
func (c *Conn) readLoop(p Poster, sink func() FrameSink) {
	buf := make([]byte, 4096)
	for {
		mt, body, err := cti.ReadFrame(c.c, buf)
		if err != nil {
			var ce *cti.Error
			if errors.As(err, &ce) {
				p.Post(func(time.Time) { sink().FramingError(err) })
			} else {
				p.Post(func(time.Time) { sink().Closed() })
			}
			return
		}
		frame := make([]byte, cti.HeaderSize+len(body))
		putHeader(frame, uint32(len(body)), mt)
		copy(frame[cti.HeaderSize:], body)
		p.Post(func(time.Time) { sink().Receive(frame) })
	}
}

func putHeader(b []byte, n uint32, mt cti.MessageType) {
	b[0], b[1], b[2], b[3] = byte(n>>24), byte(n>>16), byte(n>>8), byte(n)
	b[4], b[5], b[6], b[7] = byte(mt>>24), byte(mt>>16), byte(mt>>8), byte(mt)
}

// Acceptor creates the core's session for a new connection (on the loop
// goroutine).
type Acceptor func(c *Conn) FrameSink

// Serve accepts connections on ln until ctx is done, creating a session for
// each through accept on the loop goroutine. It returns after the listener
// and every connection it accepted are closed.
func Serve(ctx context.Context, ln net.Listener, p Poster, accept Acceptor) error {
	var wg sync.WaitGroup
	var mu sync.Mutex
	conns := map[*Conn]struct{}{}
	go func() {
		<-ctx.Done()
		_ = ln.Close()
	}()
	var err error
	for {
		raw, aerr := ln.Accept()
		if aerr != nil {
			if ctx.Err() == nil {
				err = aerr
			}
			break
		}
		c := newConn(raw)
		mu.Lock()
		conns[c] = struct{}{}
		mu.Unlock()
		var (
			sinkMu sync.Mutex
			s      FrameSink
		)
		ready := make(chan struct{})
		p.Post(func(time.Time) {
			sinkMu.Lock()
			s = accept(c)
			sinkMu.Unlock()
			close(ready)
		})
		get := func() FrameSink { sinkMu.Lock(); defer sinkMu.Unlock(); return s }
		wg.Add(2)
		go func() { defer wg.Done(); c.writeLoop() }()
		go func() {
			defer wg.Done()
			select {
			case <-ready:
			case <-ctx.Done():
				c.Close()
				return
			}
			c.readLoop(p, get)
			c.Close()
			mu.Lock()
			delete(conns, c)
			mu.Unlock()
		}()
	}
	mu.Lock()
	for c := range conns {
		c.Close()
	}
	mu.Unlock()
	wg.Wait()
	return err
}

// Dial connects a CTI client core to a CTI Server. It returns the connection
// (the core's transport) and starts its reader and writer; the sink receives
// the server's frames on the loop goroutine.
func Dial(ctx context.Context, addr string, p Poster, sink FrameSink) (*Conn, error) {
	var d net.Dialer
	raw, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("cti: connect to %s: %w", addr, err)
	}
	c := newConn(raw)
	go c.writeLoop()
	go func() {
		c.readLoop(p, func() FrameSink { return sink })
		c.Close()
	}()
	go func() {
		select {
		case <-ctx.Done():
			c.Close()
		case <-c.done:
		}
	}()
	return c, nil
}

var _ io.Closer = (*net.TCPConn)(nil)
