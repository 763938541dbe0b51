package rtpio

import (
	crand "crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"time"

	"github.com/ipcclab/ipcclab/internal/media"
)

const (
	// ptime is the packetisation interval: one G.711 frame per packet.
	ptime = media.FrameMs * time.Millisecond
	// maxCatchUp is how many frames per stream the pacer sends in one tick
	// when it has fallen behind; beyond that the frames are skipped (the
	// timestamp jumps and the next packet carries the marker), because a
	// burst of stale audio is worse for the far end than a short gap.
	maxCatchUp = 3
	// phases is how many sub-slots the 20 ms interval is split into. Each
	// stream sends at its own offset in the interval (the phase of the
	// moment it was opened, as a real endpoint's clock starts when its
	// call does), and the pacer wakes once per sub-slot for the streams of
	// that phase. Sending every stream at the same instant made one burst
	// of thousands of packets per 20 ms: the receive goroutines all became
	// runnable at once, and the packets at the end of the burst were the
	// ones that arrived late.
	phases = 10
	// subSlot is the pacer's wake-up interval.
	subSlot = ptime / phases
	// DefaultRTCPInterval is the RFC 3550 nominal report interval used when
	// Config.RTCPInterval is zero.
	DefaultRTCPInterval = 5 * time.Second
	// readBufferSize bounds one received datagram; G.711 packets are 172
	// bytes, anything longer than an Ethernet frame is not ours.
	readBufferSize = 2048
)

// ErrClosed is returned by Open after Close.
var ErrClosed = errors.New("rtpio: engine closed")

// Config configures an Engine.
type Config struct {
	// IP is the local address the sockets bind to and LocalAddr reports
	// for SDP, e.g. 127.0.0.1.
	IP netip.Addr
	// PortMin and PortMax bound the RTP ports (even, RTCP on RTP+1, both
	// inside the range). 0, 0 lets the operating system choose; the engine
	// still tries for an even RTP port with RTCP on the next one, and
	// otherwise takes any free pair (see Stream.RTCPAddr).
	PortMin, PortMax int
	// Tap, if set, sees every RTP and RTCP datagram sent or received, before
	// any filtering (for pcap capture). It runs on the pacer and receive
	// goroutines, so it must be cheap, and payload is only valid during
	// the call.
	Tap func(local, remote netip.AddrPort, payload []byte, sent bool)
	// ReadBuffer and WriteBuffer set SO_RCVBUF and SO_SNDBUF per socket
	// (0: the operating system default).
	ReadBuffer, WriteBuffer int
	// Rand, if set, supplies SSRCs, initial sequence numbers and timestamps
	// and the RTCP interval randomisation, so runs can be repeated. nil
	// uses crypto/rand, as RFC 3550 §8 recommends for SSRCs.
	Rand *rand.Rand
	// NoSockets makes Open return streams without sockets or goroutines,
	// advertising the discard port (9) in their SDP: media negotiated but
	// not carried, for signalling load tests where six sockets per call
	// would be most of the cost. Nothing is sent or received.
	NoSockets bool
	// RTCPInterval is the nominal RTCP report interval (0: 5 s). Each
	// interval is randomised to 0.5–1.5 times this, and the first report
	// goes at half of a randomised interval.
	RTCPInterval time.Duration
}

// Engine owns the sockets of many streams and the one pacer that sends
// their media.
type Engine struct {
	cfg          Config
	rtcpInterval time.Duration
	done         chan struct{}
	wg           sync.WaitGroup // pacer and receive goroutines

	randMu sync.Mutex // guards cfg.Rand; a leaf lock

	mu       sync.Mutex
	closed   bool
	streams  []*Stream    // open streams; Stream.idx is the position
	ports    map[int]bool // RTP ports held, in PortMin/PortMax mode
	nextPort int          // round-robin cursor over the even ports
	retired  Stats        // totals of closed streams

	tickBuf []*Stream // pacer-owned snapshot of streams
	start   time.Time // the pacer's epoch: phase 0 of every 20 ms slot
}

// New validates cfg and starts the pacer.
func New(cfg Config) (*Engine, error) {
	if !cfg.IP.IsValid() {
		return nil, errors.New("rtpio: Config.IP is not set")
	}
	cfg.IP = cfg.IP.Unmap()
	if cfg.PortMin != 0 || cfg.PortMax != 0 {
		if cfg.PortMin <= 0 || cfg.PortMax > 65535 || cfg.PortMin > cfg.PortMax {
			return nil, fmt.Errorf("rtpio: bad RTP port range %d-%d", cfg.PortMin, cfg.PortMax)
		}
		if evenPorts(cfg.PortMin, cfg.PortMax) == 0 {
			return nil, fmt.Errorf("rtpio: RTP port range %d-%d holds no even RTP port with RTCP on the next", cfg.PortMin, cfg.PortMax)
		}
	}
	if cfg.RTCPInterval < 0 {
		return nil, fmt.Errorf("rtpio: negative RTCP interval %v", cfg.RTCPInterval)
	}
	e := &Engine{cfg: cfg, rtcpInterval: cfg.RTCPInterval, done: make(chan struct{}), ports: map[int]bool{}, start: time.Now()}
	if e.rtcpInterval == 0 {
		e.rtcpInterval = DefaultRTCPInterval
	}
	e.wg.Add(1)
	go e.pace()
	return e, nil
}

// evenPorts counts the RTP ports p (even, p+1 <= hi) in [lo, hi].
func evenPorts(lo, hi int) int {
	lo += lo & 1
	if lo+1 > hi {
		return 0
	}
	return (hi-1-lo)/2 + 1
}

// pace is the one pacer of the engine. A single ticker for all streams,
// rather than a timer per stream, keeps the cost per packet to an encode
// and a sendto: at 1,000 calls a per-stream timer would mean 50,000 timer
// wake-ups and goroutine switches a second on top of the sends. It wakes
// once per sub-slot and serves the streams whose phase is due.
func (e *Engine) pace() {
	defer e.wg.Done()
	t := time.NewTicker(subSlot)
	defer t.Stop()
	var frames [phases]int64 // frame slots handed out so far, per phase
	for {
		select {
		case <-e.done:
			return
		case now := <-t.C:
			for ph := range phases {
				// Count slots from the start rather than ticks: the ticker
				// drops ticks when the pacer runs late, the audio clock
				// must not. Phase ph's slots begin ph sub-slots into each
				// 20 ms interval.
				el := now.Sub(e.start) - time.Duration(ph)*subSlot
				if el < 0 {
					continue
				}
				due := int64(el/ptime) + 1
				n := due - frames[ph]
				if n <= 0 {
					continue
				}
				frames[ph] = due
				skip := 0
				if n > maxCatchUp {
					skip, n = int(n-maxCatchUp), maxCatchUp
				}
				e.tick(now, ph, int(n), skip)
			}
		}
	}
}

// phaseAt is the phase of a stream opened at t.
func (e *Engine) phaseAt(t time.Time) int {
	return int((t.Sub(e.start) % ptime) / subSlot)
}

// tick sends the due frames of every stream of phase ph. Above a few
// hundred streams one goroutine cannot render, encode and send their frames
// within the sub-slot (≈ 10 µs a packet with speech synthesis), so the
// streams are split across one worker per CPU; each stream is still sent
// by exactly one goroutine per tick, in order.
func (e *Engine) tick(now time.Time, ph, n, skip int) {
	e.mu.Lock()
	e.tickBuf = e.tickBuf[:0]
	for _, s := range e.streams {
		if s.phase == ph {
			e.tickBuf = append(e.tickBuf, s)
		}
	}
	e.mu.Unlock()
	streams := e.tickBuf
	workers := runtime.GOMAXPROCS(0)
	if len(streams) < 128 || workers < 2 {
		for _, s := range streams {
			s.tick(now, n, skip)
		}
	} else {
		var wg sync.WaitGroup
		chunk := (len(streams) + workers - 1) / workers
		for lo := 0; lo < len(streams); lo += chunk {
			part := streams[lo:min(lo+chunk, len(streams))]
			wg.Add(1)
			go func() {
				defer wg.Done()
				for _, s := range part {
					s.tick(now, n, skip)
				}
			}()
		}
		wg.Wait()
	}
	clear(e.tickBuf) // do not keep closed streams reachable
}

// discardPort is the port a stream without sockets advertises (RFC 863).
const discardPort = 9

// Open allocates the RTP and RTCP sockets of a new stream and starts their
// receive goroutines. The stream sends nothing until SetRemote.
func (e *Engine) Open() (*Stream, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, ErrClosed
	}
	if e.cfg.NoSockets {
		s := newStream(e)
		s.local = netip.AddrPortFrom(e.cfg.IP, discardPort)
		s.localRTCP = s.local
		return s, nil
	}
	rtpC, rtcpC, port, err := e.allocate()
	if err != nil {
		return nil, err
	}
	for _, c := range []*net.UDPConn{rtpC, rtcpC} {
		if e.cfg.ReadBuffer > 0 {
			_ = c.SetReadBuffer(e.cfg.ReadBuffer)
		}
		if e.cfg.WriteBuffer > 0 {
			_ = c.SetWriteBuffer(e.cfg.WriteBuffer)
		}
	}
	s := newStream(e)
	s.rtpConn, s.rtcpConn, s.port = rtpC, rtcpC, port
	s.local = netip.AddrPortFrom(e.cfg.IP, addrPort(rtpC))
	s.localRTCP = netip.AddrPortFrom(e.cfg.IP, addrPort(rtcpC))
	s.cname = fmt.Sprintf("rtpio-%08x@%s", s.ssrc, e.cfg.IP)
	s.nextRTCP = time.Now().Add(e.rtcpDelay() / 2)
	s.idx, s.phase = len(e.streams), e.phaseAt(time.Now())
	e.streams = append(e.streams, s)
	e.wg.Add(2)
	go s.readLoop(rtpC, s.receiveRTP)
	go s.readLoop(rtcpC, s.receiveRTCP)
	return s, nil
}

func addrPort(c *net.UDPConn) uint16 {
	return c.LocalAddr().(*net.UDPAddr).AddrPort().Port()
}

// newStream returns a stream without sockets (tests and fuzzing feed its
// receive path directly; its sends go nowhere).
func newStream(e *Engine) *Stream {
	var b [10]byte
	e.randBytes(b[:])
	s := &Stream{e: e, idx: -1, mark: true}
	s.ssrc = binary.BigEndian.Uint32(b[0:])
	s.seq = binary.BigEndian.Uint16(b[4:])
	s.ts = binary.BigEndian.Uint32(b[6:])
	return s
}

func (e *Engine) randBytes(b []byte) {
	if e.cfg.Rand == nil {
		_, _ = crand.Read(b) // never fails on supported platforms (Go 1.24+)
		return
	}
	e.randMu.Lock()
	for i := range b {
		b[i] = byte(e.cfg.Rand.Uint32())
	}
	e.randMu.Unlock()
}

// rtcpDelay returns one randomised RTCP interval: 0.5–1.5 × nominal
// (RFC 3550 §6.3.1), so the reports of calls set up together drift apart.
func (e *Engine) rtcpDelay() time.Duration {
	var f float64
	if e.cfg.Rand == nil {
		f = rand.Float64()
	} else {
		e.randMu.Lock()
		f = e.cfg.Rand.Float64()
		e.randMu.Unlock()
	}
	return time.Duration(float64(e.rtcpInterval) * (0.5 + f))
}

func (e *Engine) listen(port int) (*net.UDPConn, error) {
	return net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(e.cfg.IP, uint16(port))))
}

// allocate binds an RTP/RTCP socket pair; e.mu is held.
func (e *Engine) allocate() (rtpC, rtcpC *net.UDPConn, port int, err error) {
	if e.cfg.PortMin == 0 && e.cfg.PortMax == 0 {
		rtpC, rtcpC, err = e.allocateAny()
		return rtpC, rtcpC, 0, err
	}
	lo := e.cfg.PortMin + e.cfg.PortMin&1
	n := evenPorts(e.cfg.PortMin, e.cfg.PortMax)
	// Round-robin rather than lowest-first, so a port just released by one
	// call is not handed straight to the next, where late packets of the
	// old call would land.
	for i := range n {
		k := (e.nextPort + i) % n
		p := lo + 2*k
		if e.ports[p] {
			continue
		}
		a, err := e.listen(p)
		if err != nil {
			continue // in use by someone else
		}
		b, err := e.listen(p + 1)
		if err != nil {
			a.Close()
			continue
		}
		e.nextPort = (k + 1) % n
		e.ports[p] = true
		return a, b, p, nil
	}
	return nil, nil, 0, fmt.Errorf("rtpio: no free RTP port in %d-%d", e.cfg.PortMin, e.cfg.PortMax)
}

// allocateAny lets the kernel choose, trying for the RFC 3550 even/odd pair
// a few times before settling for any two ports.
func (e *Engine) allocateAny() (rtpC, rtcpC *net.UDPConn, err error) {
	for range 16 {
		a, err := e.listen(0)
		if err != nil {
			return nil, nil, err
		}
		p := int(addrPort(a))
		if p&1 == 0 && p < 65535 {
			if b, err := e.listen(p + 1); err == nil {
				return a, b, nil
			}
		} else if p&1 == 1 {
			// The kernel gave the odd half: keep it for RTCP.
			if r, err := e.listen(p - 1); err == nil {
				return r, a, nil
			}
		}
		a.Close()
	}
	a, err := e.listen(0)
	if err != nil {
		return nil, nil, err
	}
	b, err := e.listen(0)
	if err != nil {
		a.Close()
		return nil, nil, err
	}
	return a, b, nil
}

// release forgets a closed stream: its port becomes free and its counters
// move to the engine's retired totals in the same step, so Engine.Stats
// neither loses nor double-counts them.
func (e *Engine) release(s *Stream) {
	st := s.Stats()
	e.mu.Lock()
	defer e.mu.Unlock()
	if s.idx >= 0 && s.idx < len(e.streams) && e.streams[s.idx] == s {
		last := len(e.streams) - 1
		e.streams[s.idx] = e.streams[last]
		e.streams[s.idx].idx = s.idx
		e.streams[last] = nil
		e.streams = e.streams[:last]
		s.idx = -1
	}
	if s.port != 0 {
		delete(e.ports, s.port)
	}
	e.retired.add(st)
}

// Stats returns the totals over every stream the engine has opened,
// including closed ones.
func (e *Engine) Stats() Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	t := e.retired
	for _, s := range e.streams {
		t.add(s.Stats())
	}
	return t
}

// Close closes every stream (each sends its RTCP BYE), stops the pacer and
// waits for all goroutines of the engine to end. It must not be called
// from a callback of one of its streams.
func (e *Engine) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	open := append([]*Stream(nil), e.streams...)
	e.mu.Unlock()
	var errs []error
	for _, s := range open {
		errs = append(errs, s.Close())
	}
	close(e.done)
	e.wg.Wait()
	return errors.Join(errs...)
}
