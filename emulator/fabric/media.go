package fabric

import (
	"net/netip"
	"time"

	"github.com/pion/rtp"

	"github.com/ipcclab/ipcclab/emulator/gateway"
	"github.com/ipcclab/ipcclab/internal/media"
)

// Media is produced only where something analyses it. In the simulation
// that is IP-IVR collecting a caller's account digits: they travel as RFC
// 4733 telephone-event packets, paced as an rtpio stream sends them (one
// packet per 20 ms tick, the end packet three times, the gap rounded up to
// whole ticks), and IP-IVR reads them with the receive code the real IVR's
// streams use (media.EventReceiver). The callers' voices, the prompts,
// ringback and the agents' voices are not produced: nothing in the
// simulation listens to them. Nor is the far end of an answered outbound
// call — the CTI-only dialer of the simulation has no call progress
// analysis to hand it to (the SIP dialer's, controller/sipdialer, runs in
// the real driver only).

// digitVolume is the RFC 4733 volume of the caller's digits (-10 dBm0, as
// rtpio sends them).
const digitVolume = 10

// eventPT is the telephone-event payload type the fabric's SDP would
// negotiate (101, as sipnode offers).
const eventPT = 101

// tick is the packet interval.
const tick = media.FrameMs * time.Millisecond

// keyDigits sends digits from the caller's stream, one RFC 4733 event per
// digit; each digit's packets reach the caller's media target one hop after
// its first end packet was sent, which is when a receiver reports the
// digit.
func (f *Fabric) keyDigits(in *inbound, digits string) {
	ssrc := uint32(in.cl.ID)*2654435761 + 1 // a fixed SSRC per caller
	var seq uint16
	var ts uint32
	gapTicks := (gateway.DigitGapMs + media.FrameMs - 1) / media.FrameMs
	start := f.sched.Now()
	for i := 0; i < len(digits); i++ {
		ev, err := media.NewDigitSender(digits[i], digitVolume, ts, gateway.DigitOnMs)
		if err != nil {
			f.logf("fabric: caller %s: digit %q: %v", in.cl.ANI, digits[i], err)
			return
		}
		pkts := ev.Packets()
		ends := start // when the first end packet is sent
		var wire [][]byte
		var sentAt []time.Time
		for j, p := range pkts {
			pkt, err := p.RTP(eventPT, seq, ssrc)
			if err != nil {
				return
			}
			b, err := pkt.Marshal()
			if err != nil {
				return
			}
			seq++
			sent := start.Add(time.Duration(j) * tick)
			if p.Event.End && ends.Equal(start) && j > 0 {
				ends = sent
			}
			wire = append(wire, b)
			sentAt = append(sentAt, sent)
		}
		// One event per digit, when its first end packet arrives (the
		// packets before it carry nothing a receiver acts on, the
		// repeats after it are dropped as already reported).
		f.sched.At(ends.Add(f.hop), func(time.Time) { f.deliverRTP(in, wire, sentAt) })
		n := len(pkts) + gapTicks
		start = start.Add(time.Duration(n) * tick)
		ts += uint32(n * media.FrameSamples)
	}
}

// deliverRTP hands packets from the caller's stream to whoever its media
// goes to now: IP-IVR's port reads them; a phone (or nobody) ignores
// telephone-events here — the agent's phone does not collect digits.
func (f *Fabric) deliverRTP(in *inbound, packets [][]byte, sentAt []time.Time) {
	port := in.media
	if in.over || port == nil {
		return
	}
	for i, b := range packets {
		f.stats.RTPPackets++
		if f.cfg.OnRTP != nil {
			f.cfg.OnRTP(sentAt[i].Add(f.hop), callerRTP(in.cl.ID), port.addr(), b)
		}
		f.ivr.receive(port, b)
	}
}

// RTP addresses for captures: the gateway's caller streams and IP-IVR's
// ports, on the components' loopback addresses with RTP ports from 16384.
func callerRTP(id uint64) netip.AddrPort {
	return netip.AddrPortFrom(NodeGateway.Addr().Addr(), uint16(16384+2*(id%8000)))
}

// readEvent is the receive side: unmarshal the RTP packet, then the RFC
// 4733 payload through the stream's EventReceiver; a digit is reported once,
// on its first end packet.
func readEvent(rx *media.EventReceiver, b []byte) (byte, bool) {
	var p rtp.Packet
	if err := p.Unmarshal(b); err != nil || p.PayloadType != eventPT {
		return 0, false
	}
	ev, ended, err := rx.Receive(p.SSRC, p.Timestamp, p.Payload)
	if err != nil || !ended {
		return 0, false
	}
	d, err := media.EventDigit(ev.Event)
	if err != nil {
		return 0, false
	}
	return d, true
}
