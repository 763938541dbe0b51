package rtpio

import (
	"net/netip"
	"time"

	"github.com/ipcclab/ipcclab/internal/media"
)

// RFC 3550 A.1 sequence validation limits.
const (
	maxDropout  = 3000 // a forward jump larger than this is a suspected restart
	maxMisorder = 100  // a backward step smaller than this is reordering
	seqWindow   = 64   // sequence numbers remembered to spot duplicates
)

// lateSamples is the lateness, in timestamp units, beyond which a packet
// counts as Late: 40 ms, a common jitter-buffer depth for G.711.
const lateSamples = 40 * media.SampleRate / 1000

// kind classifies an accepted RTP packet.
type kind uint8

const (
	kindAudio kind = iota
	kindCN
	kindEvent
)

// rxState is the receive accounting of one stream (guarded by Stream.rmu).
type rxState struct {
	started  bool
	ssrc     uint32
	base     uint64 // first sequence number of the current source
	maxSeq   uint16
	cycles   uint64 // sequence wraps × 65536
	window   uint64 // bit i set: maxSeq-i was received
	received uint64 // distinct packets of the current source
	badSeq   uint32 // expected next seq after a suspected restart; > 0xffff: none

	lostBefore                   uint64 // lost in earlier sources (SSRC changes, restarts)
	expectedPrior, receivedPrior uint64 // at the last reception report
	dups, late                   uint64

	epoch       time.Time // arrival clock origin
	jitter      float64   // RFC 3550 J, timestamp units
	haveTransit bool
	lastArr     int64 // arrival of the previous packet, timestamp units
	lastTS      uint32
	haveRef     bool
	refArr      int64 // arrival and timestamp of the first packet: Late reference
	refTS       uint32

	events media.EventReceiver // RFC 4733 events reported once each

	lastSR   uint32 // middle 32 bits of the last SR's NTP time
	lastSRAt time.Time
}

// sequence accounts for one packet and reports whether it is new (not a
// duplicate).
func (r *rxState) sequence(ssrc uint32, seq uint16) (fresh bool) {
	if !r.started || ssrc != r.ssrc {
		r.restart(ssrc, seq)
		return true
	}
	switch udelta := seq - r.maxSeq; {
	case udelta == 0:
		r.dups++
		return false
	case udelta < maxDropout:
		if seq < r.maxSeq {
			r.cycles += 1 << 16
		}
		if udelta >= seqWindow {
			r.window = 0
		} else {
			r.window <<= udelta
		}
		r.window |= 1
		r.maxSeq = seq
		r.received++
		r.badSeq = 1 << 16
		return true
	case udelta <= 1<<16-maxMisorder:
		// A big jump: the sender restarted, or a stray packet. Two in a row
		// mean a restart (RFC 3550 A.1); a single one is delivered but left
		// out of the loss accounting.
		if uint32(seq) == r.badSeq {
			r.restart(ssrc, seq)
		} else {
			r.badSeq = uint32(seq+1) & 0xffff
		}
		return true
	default:
		back := r.maxSeq - seq
		if back < seqWindow {
			bit := uint64(1) << back
			if r.window&bit != 0 {
				r.dups++
				return false
			}
			r.window |= bit
		}
		r.received++
		return true
	}
}

// restart begins accounting for a new source (or a restarted sequence),
// keeping what was lost in the old one.
func (r *rxState) restart(ssrc uint32, seq uint16) {
	if r.started {
		r.lostBefore += r.lost()
	}
	r.started, r.ssrc = true, ssrc
	r.base, r.maxSeq, r.cycles, r.window, r.received = uint64(seq), seq, 0, 1, 1
	r.badSeq = 1 << 16
	r.expectedPrior, r.receivedPrior = 0, 0
	r.haveTransit, r.haveRef = false, false
}

func (r *rxState) expected() uint64 {
	return r.cycles + uint64(r.maxSeq) - r.base + 1
}

// lost is expected minus received for the current source, never negative
// (duplicates beyond the window can make received exceed expected).
func (r *rxState) lost() uint64 {
	if !r.started {
		return 0
	}
	if exp := r.expected(); exp > r.received {
		return exp - r.received
	}
	return 0
}

func (r *rxState) totalLost() uint64 { return r.lostBefore + r.lost() }

// timing updates the interarrival jitter (RFC 3550 §6.4.1) and the Late
// count for a packet with RTP timestamp ts arriving at now.
func (r *rxState) timing(ts uint32, now time.Time) {
	if r.epoch.IsZero() {
		r.epoch = now
	}
	arr := int64(now.Sub(r.epoch) / (time.Second / media.SampleRate))
	if r.haveTransit {
		d := (arr - r.lastArr) - int64(int32(ts-r.lastTS))
		if d < 0 {
			d = -d
		}
		r.jitter += (float64(d) - r.jitter) / 16
	}
	r.haveTransit, r.lastArr, r.lastTS = true, arr, ts
	if !r.haveRef {
		r.haveRef, r.refArr, r.refTS = true, arr, ts
		return
	}
	switch lateness := arr - (r.refArr + int64(int32(ts-r.refTS))); {
	case lateness > lateSamples:
		r.late++
	case lateness < 0:
		// Earlier than the reference predicts: the first packet was itself
		// delayed, or the sender's clock is slow. Take the quickest packet
		// as the reference, as a jitter buffer would.
		r.refArr, r.refTS = arr, ts
	}
}

func unmapAddrPort(ap netip.AddrPort) netip.AddrPort {
	if ap.Addr().Is4In6() {
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	return ap
}

// isRTCP reports whether b looks like RTCP multiplexed onto the RTP port
// (RFC 5761 §4: the second byte is an RTCP packet type, 200-206 for the
// types used in telephony).
func isRTCP(b []byte) bool {
	return len(b) >= 2 && b[0]>>6 == 2 && b[1] >= 200 && b[1] <= 206
}

// receiveRTP handles one datagram that arrived on the RTP socket from
// "from" at now. It is the whole receive path, without the socket, so it
// can be fuzzed and benchmarked; it must never panic.
//
// Media is accepted only from the address given to SetRemote: a gateway
// that plays whatever reaches its port can be made to inject audio (or
// digits, into an IVR) by anyone who guesses the port, so strangers are
// dropped and counted rather than latched onto.
func (s *Stream) receiveRTP(b []byte, from netip.AddrPort, now time.Time) {
	if tap := s.e.cfg.Tap; tap != nil {
		tap(s.local, from, b, false)
	}
	rc := s.rcfg.Load()
	if rc == nil || unmapAddrPort(from) != rc.rtp {
		s.ctr.unknownSource.Add(1)
		return
	}
	if isRTCP(b) {
		s.handleRTCP(b, now)
		return
	}
	if len(b) < 12 || b[0]>>6 != 2 {
		s.ctr.malformed.Add(1)
		return
	}
	p := &s.rxPkt
	if err := p.Unmarshal(b); err != nil {
		s.ctr.malformed.Add(1)
		return
	}
	var k kind
	switch pt := p.PayloadType; {
	case pt == rc.audioPT:
		k = kindAudio
	case pt == media.PayloadTypeCN:
		k = kindCN
	case rc.eventPT != 0 && pt == rc.eventPT:
		if len(p.Payload) < media.TelephoneEventSize {
			s.ctr.malformed.Add(1)
			return
		}
		k = kindEvent
	default:
		s.ctr.wrongPT.Add(1)
		return
	}
	s.ctr.packetsReceived.Add(1)
	s.ctr.bytesReceived.Add(uint64(len(b)))
	ssrc, ts, marker := p.SSRC, p.Timestamp, p.Marker

	var ev media.TelephoneEvent
	newEvent := false
	s.rmu.Lock()
	fresh := s.rx.sequence(ssrc, p.SequenceNumber)
	if fresh {
		if k == kindEvent {
			// Every packet of an event carries its start timestamp, so
			// they say nothing about arrival jitter.
			ev, newEvent, _ = s.rx.events.Receive(ssrc, ts, p.Payload) // length checked above
		} else {
			s.rx.timing(ts, now)
		}
	}
	s.rmu.Unlock()
	if !fresh {
		// A repeated end-of-event packet (RFC 4733 §2.5.1.4: the final
		// packet is sent three times; many senders, SIPp among them,
		// repeat its sequence number) is relayed too, so the far side of
		// a bridge also gets the redundancy that protects the digit.
		if k == kindEvent && p.Payload[1]&0x80 != 0 {
			if r := s.bridge.Load(); r != nil {
				r.forward(k, ssrc, ts, marker, p.Payload, rc.law)
			}
		}
		return
	}
	if newEvent {
		s.ctr.eventsReceived.Add(1)
	}
	if r := s.bridge.Load(); r != nil {
		r.forward(k, ssrc, ts, marker, p.Payload, rc.law)
	}
	switch k {
	case kindEvent:
		if !newEvent {
			return
		}
		if fn := s.onDigit.Load(); fn != nil {
			if d, err := media.EventDigit(ev.Event); err == nil {
				(*fn)(d)
			}
		}
	case kindAudio:
		if fn := s.onAudio.Load(); fn != nil {
			n := rc.law.Decode(s.rxPCM[:], p.Payload)
			(*fn)(s.rxPCM[:n])
		}
	case kindCN:
		// Comfort noise is heard as silence: no noise generation here.
		if fn := s.onAudio.Load(); fn != nil {
			clear(s.rxPCM[:media.FrameSamples])
			(*fn)(s.rxPCM[:media.FrameSamples])
		}
	}
}
