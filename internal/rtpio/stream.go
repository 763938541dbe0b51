package rtpio

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"

	"github.com/ipcclab/ipcclab/internal/media"
)

// digitVolume is the RFC 4733 volume of sent digits: -10 dBm0, a typical
// phone's DTMF level.
const digitVolume = 10

// maxPendingDigits bounds the digit queue of a stream (a dial string, not a
// file).
const maxPendingDigits = 256

// maxDigitMs is the longest digit one RFC 4733 event can carry without
// segmentation: 65535 samples at 8 kHz.
const maxDigitMs = 0xffff * 1000 / media.SampleRate

// remote is what SetRemote negotiated; it is replaced whole, never
// modified, so the receive path reads it without a lock.
type remote struct {
	rtp, rtcp netip.AddrPort
	law       media.Law
	audioPT   uint8
	eventPT   uint8 // 0: no telephone-event
}

type pendingDigit struct {
	digit       byte
	onMs, gapMs int
}

// Stream is one RTP session (an m=audio line): an RTP socket, an RTCP
// socket on the next port, the send state driven by the engine's pacer and
// the receive state driven by the stream's receive goroutines.
type Stream struct {
	e                 *Engine
	rtpConn, rtcpConn *net.UDPConn
	local, localRTCP  netip.AddrPort
	port              int // RTP port held in the engine's range, 0 if OS-chosen
	cname             string

	rcfg    atomic.Pointer[remote]
	onDigit atomic.Pointer[func(byte)]
	onAudio atomic.Pointer[func([]int16)]
	bridge  atomic.Pointer[relay] // where received media goes while bridged

	ctr counters

	// Send side, driven by the pacer and by relays from a bridged peer.
	mu         sync.Mutex
	idx        int // position in Engine.streams; guarded by Engine.mu
	phase      int // sub-slot of the 20 ms interval the pacer sends in; set at Open
	closed     bool
	ssrc       uint32
	seq        uint16
	ts         uint32 // timestamp of the next 20 ms slot
	mark       bool   // next audio packet starts a talkspurt
	src        media.Source
	onEnd      func()
	digits     []pendingDigit
	ev         *media.EventSender   // RFC 4733 digit being sent
	tone       *media.ToneGenerator // in-band digit being sent
	gap        int                  // slots of inter-digit gap left
	gapNext    int                  // gap slots after the current digit
	gapSilence bool                 // the gap follows an in-band digit
	nextRTCP   time.Time
	pcm        [media.FrameSamples]int16
	payload    [readBufferSize]byte
	pkt        rtp.Packet
	buf        [readBufferSize]byte

	// Receive side. rmu guards rx; rxPkt and rxPCM belong to the RTP
	// receive goroutine.
	rmu   sync.Mutex
	rx    rxState
	rxPkt rtp.Packet
	rxPCM [readBufferSize]int16
}

// LocalAddr returns the RTP address to put in SDP.
func (s *Stream) LocalAddr() netip.AddrPort { return s.local }

// RTCPAddr returns the local RTCP address: LocalAddr's port + 1, unless the
// engine lets the kernel choose and the pair was not available.
func (s *Stream) RTCPAddr() netip.AddrPort { return s.localRTCP }

// SSRC returns the stream's synchronisation source, fixed for its life.
func (s *Stream) SSRC() uint32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ssrc
}

// SetRemote sets where to send and the only address media is accepted from
// (RTCP: the next port), the G.711 law both ways and the telephone-event
// payload type (0: none, digits are then sent in-band). Calling it again, as
// on a re-INVITE, moves the stream without changing its SSRC, sequence or
// timestamps. An invalid address removes the remote: the stream goes quiet
// and ignores everything it receives.
func (s *Stream) SetRemote(rtpAddr netip.AddrPort, law media.Law, eventPT uint8) {
	if !rtpAddr.IsValid() {
		s.rcfg.Store(nil)
		return
	}
	rtpAddr = netip.AddrPortFrom(rtpAddr.Addr().Unmap(), rtpAddr.Port())
	rc := &remote{rtp: rtpAddr, rtcp: rtpAddr, law: law, audioPT: law.PayloadType(), eventPT: eventPT & 0x7f}
	if rtpAddr.Port() < 65535 {
		rc.rtcp = netip.AddrPortFrom(rtpAddr.Addr(), rtpAddr.Port()+1)
	}
	s.rcfg.Store(rc)
}

// SetSource sets what the stream plays from the next 20 ms slot on; nil
// puts it on hold (nothing is sent, timestamps keep running). When the
// source ends the stream goes quiet and calls the OnSourceEnd function.
func (s *Stream) SetSource(src media.Source) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.src = src
	s.mark = true
}

// OnSourceEnd sets the function called, on the pacer goroutine, when the
// current source ends. It must not block (it may call SetSource to play the
// next prompt).
func (s *Stream) OnSourceEnd(fn func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onEnd = fn
}

// OnDigit sets the function called with each received RFC 4733 DTMF digit,
// once per event, when its first end packet arrives (repeated end packets
// carry the event's timestamp and are recognised). A digit whose end
// packets are all lost is not reported. It runs on the receive goroutine.
func (s *Stream) OnDigit(fn func(digit byte)) {
	if fn == nil {
		s.onDigit.Store(nil)
		return
	}
	s.onDigit.Store(&fn)
}

// OnAudio sets the function called with each received audio frame decoded
// to linear PCM (CN packets give a frame of silence). It runs on the
// receive goroutine and pcm is only valid during the call. nil skips
// decoding altogether.
func (s *Stream) OnAudio(fn func(pcm []int16)) {
	if fn == nil {
		s.onAudio.Store(nil)
		return
	}
	s.onAudio.Store(&fn)
}

// SendDigits queues DTMF digits (0-9 * # A-D), each pressed for onMs and
// followed by gapMs before the next. With a telephone-event payload type
// they go as RFC 4733 events: the audio is replaced while an event plays,
// every packet of an event carries the timestamp of its start, the first
// one the marker, and the end packet goes three times. Without one they are
// played in-band as Q.23 tones. Digits wait for SetRemote, and are not sent
// while the stream is bridged.
func (s *Stream) SendDigits(digits string, onMs, gapMs int) error {
	if onMs <= 0 || onMs > maxDigitMs {
		return fmt.Errorf("rtpio: digit duration %d ms outside 1..%d", onMs, maxDigitMs)
	}
	if gapMs < 0 {
		return fmt.Errorf("rtpio: negative inter-digit gap %d ms", gapMs)
	}
	for i := range len(digits) {
		if _, err := media.EventCode(digits[i]); err != nil {
			return fmt.Errorf("rtpio: %w", err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errStreamClosed
	}
	if len(s.digits)+len(digits) > maxPendingDigits {
		return fmt.Errorf("rtpio: more than %d digits pending", maxPendingDigits)
	}
	for i := range len(digits) {
		s.digits = append(s.digits, pendingDigit{digit: digits[i], onMs: onMs, gapMs: gapMs})
	}
	return nil
}

var errStreamClosed = errors.New("rtpio: stream closed")

// Stats returns the stream's counters.
func (s *Stream) Stats() Stats {
	st := s.ctr.load()
	s.rmu.Lock()
	st.Lost = s.rx.totalLost()
	st.Late = s.rx.late
	st.Duplicates = s.rx.dups
	st.Jitter = time.Duration(s.rx.jitter * float64(time.Second) / media.SampleRate)
	s.rmu.Unlock()
	return st
}

// Close sends an RTCP BYE (with a final report) if a remote is set, closes
// the sockets and gives the ports back to the engine. The receive
// goroutines end on their own; Engine.Close waits for them.
func (s *Stream) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	if rc := s.rcfg.Load(); rc != nil && s.rtcpConn != nil {
		s.report(time.Now(), rc, true)
	}
	s.digits, s.ev, s.tone, s.src = nil, nil, nil, nil
	s.mu.Unlock()
	s.bridge.Store(nil)
	var err error
	if s.rtpConn != nil {
		err = errors.Join(s.rtpConn.Close(), s.rtcpConn.Close())
	}
	s.e.release(s)
	return err
}

func (s *Stream) readLoop(c *net.UDPConn, handle func([]byte, netip.AddrPort, time.Time)) {
	defer s.e.wg.Done()
	buf := make([]byte, readBufferSize)
	for {
		n, from, err := c.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			s.mu.Lock()
			closed := s.closed
			s.mu.Unlock()
			if closed {
				return
			}
			// A transient error (an ICMP report, a signal): do not spin.
			time.Sleep(time.Millisecond)
			continue
		}
		handle(buf[:n], from, time.Now())
	}
}

// tick runs n 20 ms slots for the pacer, after skip slots it could not
// send in time.
func (s *Stream) tick(now time.Time, n, skip int) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	if skip > 0 {
		s.ts += uint32(skip * media.FrameSamples)
		s.mark = true
	}
	rc := s.rcfg.Load()
	var ended func()
	// A bridged stream's output is the relay from its peer, which also
	// drives its timestamps.
	if s.bridge.Load() == nil {
		for range n {
			if s.slot(rc) && s.onEnd != nil {
				ended = s.onEnd
			}
		}
	}
	if rc != nil && !now.Before(s.nextRTCP) {
		s.report(now, rc, false)
		s.nextRTCP = now.Add(s.e.rtcpDelay())
	}
	s.mu.Unlock()
	if ended != nil {
		ended()
	}
}

// slot produces one 20 ms slot: the next packet of a digit, else the next
// source frame, else nothing (the next audio packet then gets the marker).
// It reports whether the source ended. s.mu is held; rc may be nil (the
// stream keeps time but neither reads its source nor sends).
func (s *Stream) slot(rc *remote) (ended bool) {
	ts := s.ts
	s.ts += media.FrameSamples
	if rc == nil {
		// Nowhere to send: keep the prompt for when the answer comes.
		s.mark = true
		return false
	}
	have := false
	if s.src != nil {
		// The source keeps running under a digit, so that a prompt stays
		// in step with the call's clock.
		if s.src.ReadFrame(s.pcm[:]) {
			have = true
		} else {
			s.src, ended = nil, true
		}
	}
	inGap := s.gap > 0
	if inGap {
		s.gap--
	} else if s.ev == nil && s.tone == nil && len(s.digits) > 0 {
		s.startDigit(rc, ts)
	}
	switch {
	case s.ev != nil:
		if p, ok := s.ev.Next(); ok {
			pl := s.payload[:media.TelephoneEventSize]
			if _, err := p.Event.MarshalTo(pl); err == nil {
				s.sendRTP(rc, rc.eventPT, p.Timestamp, pl, p.Marker)
			}
		}
		if s.ev.Done() {
			s.ev, s.gap = nil, s.gapNext
		}
	case s.tone != nil:
		s.tone.Read(s.pcm[:])
		if s.tone.Done() {
			s.tone, s.gap = nil, s.gapNext
		}
		s.sendAudio(rc, ts)
	case have:
		s.sendAudio(rc, ts)
	case inGap && s.gapSilence:
		// An in-band digit needs audible silence after it, or two equal
		// digits in a row would run together.
		clear(s.pcm[:])
		s.sendAudio(rc, ts)
	default:
		s.mark = true
	}
	return ended
}

// startDigit takes the next queued digit: an RFC 4733 event if the remote
// negotiated telephone-event, an in-band tone otherwise.
func (s *Stream) startDigit(rc *remote, ts uint32) {
	d := s.digits[0]
	s.digits = s.digits[1:]
	if len(s.digits) == 0 {
		s.digits = nil
	}
	s.gapNext = (d.gapMs + media.FrameMs - 1) / media.FrameMs
	if rc.eventPT != 0 {
		ev, err := media.NewDigitSender(d.digit, digitVolume, ts, d.onMs)
		if err != nil {
			return // validated in SendDigits
		}
		s.ev, s.gapSilence = ev, false
	} else {
		t, err := media.DTMFTone(d.digit, d.onMs, 0)
		if err != nil {
			return
		}
		s.tone, s.gapSilence = media.NewToneGenerator(t), true
	}
	s.ctr.eventsSent.Add(1)
}

// sendAudio encodes s.pcm in the remote's law and sends it; s.mu is held.
func (s *Stream) sendAudio(rc *remote, ts uint32) {
	n := rc.law.Encode(s.payload[:], s.pcm[:])
	s.sendRTP(rc, rc.audioPT, ts, s.payload[:n], s.mark)
	s.mark = false
}

// sendRTP marshals one packet into the stream's buffer and sends it; s.mu
// is held. It does not allocate.
func (s *Stream) sendRTP(rc *remote, pt uint8, ts uint32, payload []byte, marker bool) {
	s.pkt.Header = rtp.Header{Version: 2, Marker: marker, PayloadType: pt,
		SequenceNumber: s.seq, Timestamp: ts, SSRC: s.ssrc}
	s.pkt.Payload = payload
	n, err := s.pkt.MarshalTo(s.buf[:])
	s.pkt.Payload = nil
	if err != nil {
		return
	}
	s.seq++
	s.ctr.packetsSent.Add(1)
	s.ctr.bytesSent.Add(uint64(n))
	s.ctr.payloadOctetsSent.Add(uint64(len(payload)))
	s.write(s.rtpConn, s.local, rc.rtp, s.buf[:n])
}

func (s *Stream) write(c *net.UDPConn, local, to netip.AddrPort, b []byte) {
	if c == nil {
		return // a stream without sockets (Config.NoSockets, tests) sends nothing
	}
	if tap := s.e.cfg.Tap; tap != nil {
		tap(local, to, b, true)
	}
	if _, err := c.WriteToUDPAddrPort(b, to); err != nil {
		s.ctr.sendErrors.Add(1)
	}
}
