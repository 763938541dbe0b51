package capture

import (
	"bytes"
	"errors"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

var (
	cli  = netip.MustParseAddrPort("127.0.0.1:40000")
	srv  = netip.MustParseAddrPort("127.0.0.1:42027")
	sipA = netip.MustParseAddrPort("127.0.0.1:5062")
	sipB = netip.MustParseAddrPort("127.0.0.1:5060")
)

func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i%251)
	}
	return b
}

func TestRoundTrip(t *testing.T) {
	var out bytes.Buffer
	w, err := New(&out)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Unix(1_700_000_000, 123_456_789)
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * 1001 * time.Nanosecond) }

	w.UDP(at(0), sipA, sipB, []byte("hello"))
	v6a, v6b := netip.MustParseAddrPort("[::1]:1000"), netip.MustParseAddrPort("[::1]:2000")
	w.UDP(at(1), v6a, v6b, []byte("six"))
	w.UDP(at(1), sipA, v6b, []byte("mixed families")) // dropped
	mapped := netip.AddrPortFrom(netip.MustParseAddr("::ffff:127.0.0.1"), 5062)
	w.UDP(at(2), mapped, sipB, nil) // IPv4-mapped is IPv4; empty payload is fine

	f := w.NewTCPFlow(at(3), cli, srv)
	big := pattern(5000, 7)
	f.Data(at(4), true, []byte("request one"))
	f.Data(at(5), false, big)
	f.Data(at(6), true, pattern(1460, 1)) // exactly one MSS
	f.Data(at(7), true, nil)              // nothing
	f.Close(at(8), true)
	f.Data(at(9), false, []byte("late")) // dropped: flow closed
	f.Close(at(9), false)                // no-op

	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	w.UDP(at(10), sipA, sipB, []byte("after close")) // dropped
	f.Data(at(10), true, []byte("after close"))      // dropped

	// 3 UDP + handshake 3 + 1 + 4 (5000 = 3*1460+620) + 1 + FIN exchange 3.
	if got, want := w.Packets(), uint64(3+3+1+4+1+3); got != want {
		t.Fatalf("Packets = %d, want %d", got, want)
	}
	if got := w.Dropped(); got != 4 {
		t.Fatalf("Dropped = %d, want 4", got)
	}
	if w.Err() != nil {
		t.Fatal(w.Err())
	}

	ps := readCapture(t, out.Bytes())
	if len(ps) != int(w.Packets()) {
		t.Fatalf("read %d packets, wrote %d", len(ps), w.Packets())
	}
	wantTS := []int{0, 1, 2, 3, 3, 3, 4, 5, 5, 5, 5, 6, 8, 8, 8}
	for i, p := range ps {
		if !p.ts.Equal(at(wantTS[i])) {
			t.Errorf("packet %d: ts %v, want %v", i, p.ts.UnixNano(), at(wantTS[i]).UnixNano())
		}
	}
	if p := ps[0]; p.udp == nil || p.src != sipA || p.dst != sipB || string(p.payload) != "hello" {
		t.Fatalf("udp packet: %+v", p)
	}
	if p := ps[1]; p.udp == nil || p.src != v6a || p.dst != v6b || string(p.payload) != "six" {
		t.Fatalf("udp6 packet: %+v", p)
	}
	if p := ps[2]; p.udp == nil || p.src != sipA || p.dst != sipB || len(p.payload) != 0 || len(p.data) != 60 {
		t.Fatalf("empty udp packet (%d bytes): %+v", len(p.data), p)
	}

	c := newTCPChecker(t)
	type flags struct{ syn, ack, psh, fin bool }
	want := []flags{
		{syn: true}, {syn: true, ack: true}, {ack: true}, // handshake
		{ack: true, psh: true},                                        // request one
		{ack: true}, {ack: true}, {ack: true}, {ack: true, psh: true}, // 5000 bytes
		{ack: true, psh: true},                                      // 1460 bytes
		{ack: true, fin: true}, {ack: true, fin: true}, {ack: true}, // close
	}
	wantLen := []int{0, 0, 0, 11, 1460, 1460, 1460, 620, 1460, 0, 0, 0}
	fromClient := []bool{true, false, true, true, false, false, false, false, true, true, false, true}
	for i, p := range ps[3:] {
		if p.tcp == nil {
			t.Fatalf("packet %d is not TCP", i+3)
		}
		c.check(i+3, p)
		got := flags{p.tcp.SYN, p.tcp.ACK, p.tcp.PSH, p.tcp.FIN}
		if got != want[i] || len(p.payload) != wantLen[i] || p.tcp.RST || p.tcp.URG {
			t.Errorf("tcp %d: flags %+v len %d, want %+v len %d", i, got, len(p.payload), want[i], wantLen[i])
		}
		if src := map[bool]netip.AddrPort{true: cli, false: srv}[fromClient[i]]; p.src != src {
			t.Errorf("tcp %d: from %v, want %v", i, p.src, src)
		}
	}
	if got := c.stream[[2]netip.AddrPort{cli, srv}]; !bytes.Equal(got, append([]byte("request one"), pattern(1460, 1)...)) {
		t.Errorf("client stream: %d bytes", len(got))
	}
	if got := c.stream[[2]netip.AddrPort{srv, cli}]; !bytes.Equal(got, big) {
		t.Errorf("server stream: %d bytes", len(got))
	}
}

func TestHalfCloseAndPureACKs(t *testing.T) {
	var out bytes.Buffer
	w, _ := New(&out)
	ts := time.Unix(1, 0)
	f := w.NewTCPFlow(ts, cli, srv)
	// 200 KiB one way in 4 KiB writes: pure ACKs from the server every 64 KiB.
	for range 50 {
		f.Data(ts, true, pattern(4096, 3))
	}
	f.CloseWrite(ts, true)
	f.Data(ts, true, []byte("after FIN")) // dropped
	f.Data(ts, false, []byte("reply after client FIN"))
	f.Close(ts, false)
	f.Close(ts, true)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	ps := readCapture(t, out.Bytes())
	c := newTCPChecker(t)
	pureACKs, fins := 0, 0
	for i, p := range ps {
		c.check(i, p)
		if p.src == srv && len(p.payload) == 0 && !p.tcp.SYN && !p.tcp.FIN {
			pureACKs++
		}
		if p.tcp.FIN {
			fins++
		}
	}
	// 3 pure ACKs for 200 KiB + the ACK of the client's FIN.
	if pureACKs != 4 || fins != 2 {
		t.Fatalf("pure ACKs from server %d, FINs %d", pureACKs, fins)
	}
	if got := len(c.stream[[2]netip.AddrPort{cli, srv}]); got != 50*4096 {
		t.Fatalf("client stream %d bytes", got)
	}
	if w.Dropped() != 1 {
		t.Fatalf("Dropped = %d", w.Dropped())
	}
}

func TestCreateFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.pcapng")
	w, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	// The headers are flushed at once: the file is a valid, empty capture.
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if ps := readCapture(t, raw); len(ps) != 0 {
		t.Fatalf("%d packets in fresh file", len(ps))
	}
	w.UDP(time.Unix(5, 0), sipA, sipB, []byte("x"))
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	raw, _ = os.ReadFile(path)
	if ps := readCapture(t, raw); len(ps) != 1 {
		t.Fatalf("%d packets after Flush", len(ps))
	}
	w.UDP(time.Unix(6, 0), sipA, sipB, []byte("y"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := w.Flush(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Flush after Close: %v", err)
	}
	raw, _ = os.ReadFile(path)
	if ps := readCapture(t, raw); len(ps) != 2 {
		t.Fatalf("%d packets after Close", len(ps))
	}
	if _, err := Create(filepath.Join(t.TempDir(), "no", "such", "dir.pcapng")); err == nil {
		t.Fatal("Create in a missing directory succeeded")
	}
}

func TestFlushEvery(t *testing.T) {
	var mu sync.Mutex
	var out bytes.Buffer
	w, _ := New(lockedWriter{&mu, &out})
	w.FlushEvery(time.Millisecond)
	w.UDP(time.Unix(5, 0), sipA, sipB, []byte("x"))
	for i := 0; ; i++ {
		mu.Lock()
		n := out.Len()
		mu.Unlock()
		if n > 0 {
			break
		}
		if i == 2000 {
			t.Fatal("no periodic flush within 2s")
		}
		time.Sleep(time.Millisecond)
	}
	w.FlushEvery(0)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// failAfter fails every write once n bytes have been written.
type failAfter struct{ n int }

var errDisk = errors.New("disk full")

func (f *failAfter) Write(p []byte) (int, error) {
	if len(p) > f.n {
		return 0, errDisk
	}
	f.n -= len(p)
	return len(p), nil
}

func TestWriteError(t *testing.T) {
	w, err := New(&failAfter{n: 10_000})
	if err != nil {
		t.Fatal(err)
	}
	ts := time.Unix(1, 0)
	f := w.NewTCPFlow(ts, cli, srv)
	for range 100 {
		w.UDP(ts, sipA, sipB, make([]byte, 200))
		f.Data(ts, true, make([]byte, 300))
	}
	if !errors.Is(w.Err(), errDisk) {
		t.Fatalf("Err = %v", w.Err())
	}
	if w.Packets() == 0 || w.Dropped() == 0 || w.Packets()+w.Dropped() != 203 {
		t.Fatalf("packets %d dropped %d", w.Packets(), w.Dropped())
	}
	if err := w.Flush(); !errors.Is(err, errDisk) {
		t.Fatalf("Flush = %v", err)
	}
	if err := w.Close(); !errors.Is(err, errDisk) {
		t.Fatalf("Close = %v", err)
	}
}

func TestOversizedDropped(t *testing.T) {
	w, _ := New(io.Discard)
	w.UDP(time.Unix(1, 0), sipA, sipB, make([]byte, 70_000))
	w.UDP(time.Unix(1, 0), netip.AddrPort{}, sipB, nil)
	if w.Packets() != 0 || w.Dropped() != 2 {
		t.Fatalf("packets %d dropped %d", w.Packets(), w.Dropped())
	}
}

func TestConcurrentWriters(t *testing.T) {
	var out bytes.Buffer
	w, _ := New(&out)
	const goroutines, each = 8, 1000
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			src := netip.AddrPortFrom(sipA.Addr(), uint16(10000+g))
			for i := range each {
				w.UDP(time.Unix(int64(g), int64(i)), src, srv, pattern(20+i%200, byte(g)))
				if i%100 == 0 {
					_ = w.Flush()
				}
			}
		}()
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if w.Packets() != goroutines*each || w.Dropped() != 0 {
		t.Fatalf("packets %d dropped %d", w.Packets(), w.Dropped())
	}
	ps := readCapture(t, out.Bytes())
	if len(ps) != goroutines*each {
		t.Fatalf("read %d packets", len(ps))
	}
	perSrc := map[uint16]int{}
	for _, p := range ps {
		g := p.src.Port() - 10000
		i := perSrc[p.src.Port()]
		if !bytes.Equal(p.payload, pattern(20+i%200, byte(g))) || p.ts.UnixNano() != time.Unix(int64(g), int64(i)).UnixNano() {
			t.Fatalf("goroutine %d packet %d corrupted or out of order", g, i)
		}
		perSrc[p.src.Port()]++
	}
}

func BenchmarkUDP(b *testing.B) {
	w, _ := New(io.Discard)
	payload := make([]byte, 172) // RTP header + 20 ms of G.711
	ts := time.Unix(1, 0)
	b.ReportAllocs()
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		w.UDP(ts, sipA, sipB, payload)
	}
	if w.Err() != nil || w.Dropped() != 0 {
		b.Fatal(w.Err(), w.Dropped())
	}
}

func BenchmarkTCPData(b *testing.B) {
	w, _ := New(io.Discard)
	f := w.NewTCPFlow(time.Unix(1, 0), cli, srv)
	payload := make([]byte, 300) // a CTI event
	ts := time.Unix(1, 0)
	b.ReportAllocs()
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		f.Data(ts, false, payload)
	}
}
