package rtpio

import (
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/ipcclab/ipcclab/internal/media"
)

var loopback = netip.MustParseAddr("127.0.0.1")

// toneSource plays a media.Tone as a media.Source (it ends with a
// non-repeating tone).
type toneSource struct{ g *media.ToneGenerator }

func newToneSource(t media.Tone) toneSource { return toneSource{media.NewToneGenerator(t)} }

func (s toneSource) ReadFrame(dst []int16) bool {
	if s.g.Done() {
		clear(dst)
		return false
	}
	s.g.Read(dst)
	return true
}

// endlessTone is a continuous sine at freq.
func endlessTone(freq float64) media.Source {
	t := media.Beep(freq, 1000)
	t.Repeat = true
	return newToneSource(t)
}

func newEngine(t testing.TB, cfg Config) *Engine {
	t.Helper()
	if !cfg.IP.IsValid() {
		cfg.IP = loopback
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.New(rand.NewPCG(1, 2))
	}
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return e
}

func open(t testing.TB, e *Engine) *Stream {
	t.Helper()
	s, err := e.Open()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// connect points a and b at each other.
func connect(a, b *Stream, law media.Law, eventPT uint8) {
	a.SetRemote(b.LocalAddr(), law, eventPT)
	b.SetRemote(a.LocalAddr(), law, eventPT)
}

// waitFor polls cond every 10 ms for at most d.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func rawUDP(t testing.TB) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(loopback, 0)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// rawPair binds two raw sockets on adjacent ports (RTP even, RTCP odd).
func rawPair(t testing.TB) (rtpC, rtcpC *net.UDPConn) {
	t.Helper()
	for range 50 {
		a := rawUDP(t)
		p := a.LocalAddr().(*net.UDPAddr).Port
		if p%2 != 0 || p == 65535 {
			continue
		}
		b, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: p + 1})
		if err != nil {
			continue
		}
		t.Cleanup(func() { b.Close() })
		return a, b
	}
	t.Fatal("no adjacent port pair")
	return nil, nil
}

func addrOf(c *net.UDPConn) netip.AddrPort {
	return c.LocalAddr().(*net.UDPAddr).AddrPort()
}

// readRaw reads one datagram with a deadline; ok false on timeout.
func readRaw(t testing.TB, c *net.UDPConn, d time.Duration) ([]byte, bool) {
	t.Helper()
	buf := make([]byte, 2048)
	_ = c.SetReadDeadline(time.Now().Add(d))
	n, _, err := c.ReadFromUDPAddrPort(buf)
	if err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return nil, false
		}
		t.Fatal(err)
	}
	return buf[:n], true
}

// mkRTP builds an RTP datagram by hand (so tests do not trust the code
// under test to build what it then parses).
func mkRTP(pt uint8, marker bool, seq uint16, ts, ssrc uint32, payload []byte) []byte {
	b := make([]byte, 12+len(payload))
	b[0] = 0x80
	b[1] = pt
	if marker {
		b[1] |= 0x80
	}
	binary.BigEndian.PutUint16(b[2:], seq)
	binary.BigEndian.PutUint32(b[4:], ts)
	binary.BigEndian.PutUint32(b[8:], ssrc)
	copy(b[12:], payload)
	return b
}

// toneMeter counts received frames that are mostly a sine at freq.
type toneMeter struct {
	freq   float64
	mu     sync.Mutex
	frames int
	tone   int
}

func (m *toneMeter) audio(pcm []int16) {
	ms := media.MeanSquare(pcm)
	hit := ms > 0 && media.Goertzel(pcm, m.freq)/ms > 0.8
	m.mu.Lock()
	m.frames++
	if hit {
		m.tone++
	}
	m.mu.Unlock()
}

func (m *toneMeter) counts() (frames, tone int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.frames, m.tone
}

// digitLog collects received digits.
type digitLog struct {
	mu sync.Mutex
	b  []byte
}

func (d *digitLog) add(c byte) {
	d.mu.Lock()
	d.b = append(d.b, c)
	d.mu.Unlock()
}

func (d *digitLog) String() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return string(d.b)
}

// detached returns a stream with no sockets and remote as its peer, for
// driving the receive path directly.
func detached(t testing.TB, rem netip.AddrPort, law media.Law, eventPT uint8) *Stream {
	t.Helper()
	e := &Engine{cfg: Config{IP: loopback, Rand: rand.New(rand.NewPCG(3, 4))}, rtcpInterval: DefaultRTCPInterval}
	s := newStream(e)
	s.local = netip.AddrPortFrom(loopback, 40000)
	s.localRTCP = netip.AddrPortFrom(loopback, 40001)
	s.SetRemote(rem, law, eventPT)
	return s
}
