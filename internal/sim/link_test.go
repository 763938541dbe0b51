package sim

import (
	"testing"
	"time"
)

func TestLinkDeliversInOrderAfterLatencyAndStopsOnClose(t *testing.T) {
	l := NewLoop(epoch)
	link := NewLink(l, 2*time.Millisecond)
	a, b := link.Side(0), link.Side(1)
	var got []string
	var at []time.Duration
	closedSeen := false
	b.OnReceive(func(f []byte) { got = append(got, string(f)); at = append(at, l.Now().Sub(epoch)) }, func() { closedSeen = true })
	a.OnReceive(func([]byte) {}, func() {})
	buf := []byte("one")
	a.Send(buf)
	copy(buf, "xxx") // the link copies, like a socket write
	a.Send([]byte("two"))
	l.RunVirtual(epoch.Add(time.Second))
	if len(got) != 2 || got[0] != "one" || got[1] != "two" || at[0] != 2*time.Millisecond {
		t.Fatalf("got %v at %v", got, at)
	}
	a.Send([]byte("three"))
	b.Close()
	l.RunVirtual(epoch.Add(2 * time.Second))
	if len(got) != 2 {
		t.Fatalf("frame delivered after close: %v", got)
	}
	if closedSeen {
		t.Fatal("the closing side must not see its own close")
	}
	if link.Frames() != 2 {
		t.Fatalf("frames %d", link.Frames())
	}
}
