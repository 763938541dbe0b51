package replay

import (
	"encoding/binary"
	"net"
	"time"

	"github.com/ipcclab/ipcclab/protocol/cti"
)

// inFrame is one message read from the peer, or why reading stopped.
type inFrame struct {
	data []byte // header and body
	at   time.Time
	err  error
}

// wire owns the replay's connection: one goroutine reads whole frames and
// hands them over; writes happen on the replay's own goroutine, each bounded
// by a deadline so a peer that stops reading cannot hang the replay.
type wire struct {
	conn   net.Conn
	frames chan inFrame
	stop   chan struct{}
	done   chan struct{}
}

func newWire(conn net.Conn) *wire {
	w := &wire{conn: conn, frames: make(chan inFrame, 64), stop: make(chan struct{}), done: make(chan struct{})}
	go w.read()
	return w
}

func (w *wire) read() {
	defer close(w.done)
	buf := make([]byte, 4096)
	for {
		mt, body, err := cti.ReadFrame(w.conn, buf)
		in := inFrame{at: time.Now(), err: err}
		if err == nil {
			if cap(body) > cap(buf) {
				buf = body[:cap(body)]
			}
			f := make([]byte, cti.HeaderSize+len(body))
			binary.BigEndian.PutUint32(f, uint32(len(body)))
			binary.BigEndian.PutUint32(f[4:], uint32(mt))
			copy(f[cti.HeaderSize:], body)
			in.data = f
		}
		select {
		case w.frames <- in:
		case <-w.stop:
			return
		}
		if err != nil {
			return
		}
	}
}

// write sends one whole message in a single Write (§9: some peers read a
// header with one recv).
func (w *wire) write(frame []byte, timeout time.Duration) error {
	if err := w.conn.SetWriteDeadline(time.Now().Add(timeout)); err != nil {
		return err
	}
	_, err := w.conn.Write(frame)
	return err
}

// close closes the connection and waits for the reader to end.
func (w *wire) close() {
	close(w.stop)
	_ = w.conn.Close()
	<-w.done
}

// clock is the replay's time: how far into the script the replay is. It
// starts when the session opens and stands still while the script waits
// for the peer (a captured message is due but a message the peer should
// send before it has not come yet), so that what follows keeps its captured
// spacing from what the peer did.
type clock struct {
	start    time.Time // real time of replay time 0
	anchored bool
	paused   time.Duration
	frozen   time.Time // zero while running
}

// anchor makes real time t replay time at.
func (c *clock) anchor(t time.Time, at time.Duration) {
	c.start, c.anchored = t.Add(-at), true
}

// now is the replay time at real time t (0 before the anchor).
func (c *clock) now(t time.Time) time.Duration {
	if !c.anchored {
		return 0
	}
	if !c.frozen.IsZero() {
		t = c.frozen
	}
	return t.Sub(c.start) - c.paused
}

// realAt is the real time at which replay time d comes, if the clock runs
// from now on; the zero time when it is not anchored.
func (c *clock) realAt(d time.Duration) time.Time {
	if !c.anchored {
		return time.Time{}
	}
	return c.start.Add(c.paused + d)
}

func (c *clock) freeze(t time.Time) {
	if c.anchored && c.frozen.IsZero() {
		c.frozen = t
	}
}

func (c *clock) thaw(t time.Time) {
	if !c.frozen.IsZero() {
		c.paused += t.Sub(c.frozen)
		c.frozen = time.Time{}
	}
}

// earliest returns the earlier of two wake-up times, the zero time meaning
// none.
func earliest(a, b time.Time) time.Time {
	switch {
	case a.IsZero():
		return b
	case b.IsZero():
		return a
	case b.Before(a):
		return b
	}
	return a
}
