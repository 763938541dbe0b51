package cti

import (
	"context"
	"io"
	"sync"
	"testing"
	"time"
)

// answerAndHangUp is a transport whose peer answers every request and hangs
// up at once: by the time Write returns, the reader has the answer and the
// end of stream, so both are ready when Request starts waiting.
type answerAndHangUp struct {
	mu     sync.Mutex
	cond   *sync.Cond
	in     []byte
	closed bool
	read   chan struct{}
}

func newAnswerAndHangUp() *answerAndHangUp {
	a := &answerAndHangUp{read: make(chan struct{}, 1)}
	a.cond = sync.NewCond(&a.mu)
	return a
}

func (a *answerAndHangUp) Write(p []byte) (int, error) {
	if len(p) >= HeaderSize && MessageType(uint32(p[4])<<24|uint32(p[5])<<16|uint32(p[6])<<8|uint32(p[7])) == MsgHeartbeatReq {
		inv, _ := InvokeIDFromBody(p[HeaderSize:])
		f, _ := AppendMessage(nil, &HeartbeatConf{InvokeID: inv}, 24)
		a.mu.Lock()
		a.in = append(a.in, f...)
		a.closed = true
		a.cond.Broadcast()
		a.mu.Unlock()
		// Let the reader take the answer and the end of stream before
		// Request gets to its select.
		select {
		case <-a.read:
		case <-time.After(time.Second):
		}
		time.Sleep(5 * time.Millisecond)
	}
	return len(p), nil
}

func (a *answerAndHangUp) Read(p []byte) (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for len(a.in) == 0 && !a.closed {
		a.cond.Wait()
	}
	if len(a.in) == 0 {
		select {
		case a.read <- struct{}{}:
		default:
		}
		return 0, io.EOF
	}
	n := copy(p, a.in)
	a.in = a.in[n:]
	return n, nil
}

func (a *answerAndHangUp) Close() error {
	a.mu.Lock()
	a.closed = true
	a.cond.Broadcast()
	a.mu.Unlock()
	return nil
}

// A confirmation that arrives just before the peer closes (CLOSE_CONF then
// EOF, as a CTI Server does for CLOSE_REQ) must be returned, not the
// session's end.
func TestRequestPrefersAnArrivedAnswerToTheSessionEnd(t *testing.T) {
	for i := 0; i < 40; i++ {
		s := NewSession(newAnswerAndHangUp(), nil)
		s.mu.Lock()
		s.open = true
		s.pv.Store(24)
		s.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		m, err := s.Request(ctx, &HeartbeatReq{})
		cancel()
		if err != nil {
			t.Fatalf("run %d: the HEARTBEAT_CONF that arrived before the close was lost: %v", i, err)
		}
		if _, ok := m.(*HeartbeatConf); !ok {
			t.Fatalf("run %d: got %T", i, m)
		}
		_ = s.Close(context.Background())
	}
}
