package capture

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock ticks one microsecond per reading, so tap captures are
// deterministic in time and strictly increasing.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Microsecond)
	return c.t
}

func newTestWriter(t *testing.T) (*Writer, *bytes.Buffer) {
	t.Helper()
	var out bytes.Buffer
	w, err := New(&out)
	if err != nil {
		t.Fatal(err)
	}
	w.SetClock((&fakeClock{t: time.Unix(1_700_000_000, 0)}).now)
	return w, &out
}

func TestTapPacketConnEcho(t *testing.T) {
	w, out := newTestWriter(t)
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	server := TapPacketConn(pc, w)
	defer server.Close()
	client, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	deadline := time.Now().Add(5 * time.Second)
	_ = server.SetDeadline(deadline)
	_ = client.SetDeadline(deadline)

	const n = 6
	done := make(chan error, 1)
	go func() { // echo server; odd datagrams via the AddrPort methods
		buf := make([]byte, 2048)
		for i := range n {
			var err error
			if i%2 == 0 {
				var m int
				var from net.Addr
				if m, from, err = server.ReadFrom(buf); err == nil {
					_, err = server.WriteTo(buf[:m], from)
				}
			} else {
				u := server.(interface {
					ReadFromUDPAddrPort([]byte) (int, netip.AddrPort, error)
					WriteToUDPAddrPort([]byte, netip.AddrPort) (int, error)
				})
				var m int
				var from netip.AddrPort
				if m, from, err = u.ReadFromUDPAddrPort(buf); err == nil {
					_, err = u.WriteToUDPAddrPort(buf[:m], from)
				}
			}
			if err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	srvAddr := server.LocalAddr().(*net.UDPAddr)
	var sent []string
	buf := make([]byte, 2048)
	for i := range n {
		msg := fmt.Sprintf("datagram %d %s", i, strings.Repeat("x", i*300))
		sent = append(sent, msg)
		if _, err := client.WriteToUDP([]byte(msg), srvAddr); err != nil {
			t.Fatal(err)
		}
		m, _, err := client.ReadFromUDP(buf)
		if err != nil {
			t.Fatal(err)
		}
		if string(buf[:m]) != msg {
			t.Fatalf("echo %q", buf[:m])
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	cAddr, sAddr := client.LocalAddr().(*net.UDPAddr).AddrPort(), srvAddr.AddrPort()
	ps := readCapture(t, out.Bytes())
	if len(ps) != 2*n {
		t.Fatalf("%d packets, want %d", len(ps), 2*n)
	}
	for i, p := range ps {
		src, dst := cAddr, sAddr
		if i%2 == 1 {
			src, dst = sAddr, cAddr
		}
		if p.udp == nil || p.src != src || p.dst != dst || string(p.payload) != sent[i/2] {
			t.Fatalf("packet %d: %v -> %v %q", i, p.src, p.dst, p.payload)
		}
		if i > 0 && !p.ts.After(ps[i-1].ts) {
			t.Fatalf("packet %d: time not increasing", i)
		}
	}
}

func TestUDPHookWildcardLocal(t *testing.T) {
	w, out := newTestWriter(t)
	hook := w.UDPHook()
	local := netip.MustParseAddrPort("0.0.0.0:16384")
	remote := netip.MustParseAddrPort("127.0.0.1:20000")
	hook(local, remote, []byte("rtp out"), true)
	hook(local, remote, []byte("rtp in"), false)
	_ = w.Close()
	ps := readCapture(t, out.Bytes())
	loop := netip.MustParseAddrPort("127.0.0.1:16384")
	if len(ps) != 2 || ps[0].src != loop || ps[0].dst != remote || ps[1].src != remote || ps[1].dst != loop ||
		string(ps[0].payload) != "rtp out" || string(ps[1].payload) != "rtp in" {
		t.Fatalf("hook capture: %+v", ps)
	}
}

func TestTapTCPConversation(t *testing.T) {
	w, out := newTestWriter(t)
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := TapListener(l, w)
	defer ln.Close()

	const rounds = 5
	type result struct {
		reqs []string
		err  error
	}
	done := make(chan result, 1)
	serve := func(c net.Conn) result {
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		r := bufio.NewReader(c)
		var reqs []string
		for {
			line, err := r.ReadString('\n')
			if err == io.EOF {
				return result{reqs: reqs}
			}
			if err != nil {
				return result{err: err}
			}
			reqs = append(reqs, line)
			reply := fmt.Sprintf("ok %d %s\n", len(reqs), strings.Repeat("r", len(reqs)*1500))
			if _, err := c.Write([]byte(reply)); err != nil {
				return result{err: err}
			}
		}
	}
	go func() { // line server: answers every line, closes on EOF
		c, err := ln.Accept()
		if err != nil {
			done <- result{err: err}
			return
		}
		res := serve(c)
		_ = c.Close() // before reporting, so the FIN is in the capture
		done <- res
	}()

	c, err := net.Dial("tcp4", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(c)
	var reqStream, replyStream []byte
	for i := range rounds {
		req := fmt.Sprintf("ping %d\n", i)
		reqStream = append(reqStream, req...)
		if _, err := c.Write([]byte(req)); err != nil {
			t.Fatal(err)
		}
		reply, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		replyStream = append(replyStream, reply...)
	}
	_ = c.Close()
	res := <-done
	if res.err != nil || len(res.reqs) != rounds {
		t.Fatalf("server: %v, %d requests", res.err, len(res.reqs))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	client := c.LocalAddr().(*net.TCPAddr).AddrPort()
	server := c.RemoteAddr().(*net.TCPAddr).AddrPort()
	ps := readCapture(t, out.Bytes())
	ck := newTCPChecker(t)
	var order []string // "c" or "s" per data segment run
	fins := 0
	for i, p := range ps {
		if p.tcp == nil {
			t.Fatalf("packet %d not TCP", i)
		}
		if !(p.src == client && p.dst == server) && !(p.src == server && p.dst == client) {
			t.Fatalf("packet %d: %v -> %v", i, p.src, p.dst)
		}
		ck.check(i, p)
		if p.tcp.FIN {
			fins++
		}
		if len(p.payload) > 0 {
			who := map[bool]string{true: "c", false: "s"}[p.src == client]
			if len(order) == 0 || order[len(order)-1] != who {
				order = append(order, who)
			}
		}
	}
	if !ps[0].tcp.SYN || ps[0].src != client || fins != 2 || !ps[len(ps)-1].tcp.ACK {
		t.Fatalf("handshake/close wrong: first %+v, %d FINs", ps[0].tcp, fins)
	}
	if got := ck.stream[[2]netip.AddrPort{client, server}]; !bytes.Equal(got, reqStream) {
		t.Fatalf("client stream %q, want %q", got, reqStream)
	}
	if got := ck.stream[[2]netip.AddrPort{server, client}]; !bytes.Equal(got, replyStream) {
		t.Fatalf("server stream: %d bytes, want %d", len(got), len(replyStream))
	}
	if strings.Join(order, "") != strings.Repeat("cs", rounds) {
		t.Fatalf("request/reply order %v", order)
	}
}

func TestTapBothEndsRecordedOnce(t *testing.T) {
	w, out := newTestWriter(t)
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	dc, err := net.Dial("tcp4", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	ac, ok := <-accepted
	if !ok {
		t.Fatal("accept failed")
	}
	d := TapDialed(dc, w)
	a := TapAccepted(ac, w) // same connection: returned unwrapped
	if a != ac {
		t.Fatal("second end of a tapped connection was wrapped")
	}
	_ = d.SetDeadline(time.Now().Add(5 * time.Second))
	_ = a.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := d.Write([]byte("hi")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 2)
	if _, err := io.ReadFull(a, buf); err != nil {
		t.Fatal(err)
	}
	_ = d.Close()
	_ = a.Close()
	_ = w.Close()
	if ps := readCapture(t, out.Bytes()); len(ps) != 3+1+3 {
		t.Fatalf("%d packets, want 7", len(ps))
	}
	// The tuple is free again: a new tap of an equal tuple would be recorded.
	if len(w.flows) != 0 {
		t.Fatalf("%d flows still registered", len(w.flows))
	}
}

// TestTappedUDPPairRecordsOnce: two tapped sockets of the process talking to
// each other (gateway ↔ CallManager, gateway ↔ phone RTP) record each
// datagram once, at the send.
func TestTappedUDPPairRecordsOnce(t *testing.T) {
	var buf bytes.Buffer
	w, err := New(&buf)
	if err != nil {
		t.Fatal(err)
	}
	mk := func() net.PacketConn {
		pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { pc.Close() })
		return TapPacketConn(pc, w)
	}
	a, b := mk(), mk()
	hook := w.UDPHook()
	rb := make([]byte, 2048)
	for i := 0; i < 5; i++ {
		if _, err := a.WriteTo([]byte("ping"), b.LocalAddr()); err != nil {
			t.Fatal(err)
		}
		b.SetReadDeadline(time.Now().Add(2 * time.Second))
		if _, _, err := b.ReadFrom(rb); err != nil {
			t.Fatal(err)
		}
		if _, err := b.WriteTo([]byte("pong"), a.LocalAddr()); err != nil {
			t.Fatal(err)
		}
		a.SetReadDeadline(time.Now().Add(2 * time.Second))
		if _, _, err := a.ReadFrom(rb); err != nil {
			t.Fatal(err)
		}
	}
	// The RTP hook path: a sends via the hook, then b receives via the hook.
	la, _ := netip.ParseAddrPort(a.LocalAddr().String())
	lb, _ := netip.ParseAddrPort(b.LocalAddr().String())
	hook(la, lb, []byte("rtp"), true)
	hook(lb, la, []byte("rtp"), false)
	// A datagram from an outside peer (never sent through a tap) is kept.
	hook(la, netip.MustParseAddrPort("127.0.0.9:5060"), []byte("outside"), false)
	if got, want := w.Packets(), uint64(12); got != want {
		t.Fatalf("recorded %d datagrams, want %d (10 ping/pong + 1 hook send + 1 outside)", got, want)
	}
}
