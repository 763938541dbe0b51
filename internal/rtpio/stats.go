package rtpio

import (
	"sync/atomic"
	"time"
)

// Stats are the media counters of a stream, or of a whole engine. Every
// datagram that arrives is accounted for in exactly one of
// PacketsReceived, UnknownSource, WrongPayloadType or Malformed (RTCP
// datagrams: RTCPReceived, UnknownSource or Malformed), so a test or an
// operator can always tell where a packet went.
type Stats struct {
	// RTP sent: audio, relayed audio and RFC 4733 event packets.
	PacketsSent uint64
	// RTP accepted from the latched remote with an expected payload type
	// (audio, CN or telephone-event), duplicates included.
	PacketsReceived uint64
	// Whole RTP datagrams (header and payload), sent and accepted.
	BytesSent, BytesReceived uint64
	// DTMF digits started (RFC 4733 or in-band) and RFC 4733 events
	// received (once per event, however many end packets carry it).
	EventsSent, EventsReceived uint64
	// Sequence-number accounting of the received stream (RFC 3550 A.3):
	// Lost is expected minus received, never negative; Duplicates are
	// packets whose sequence number was already seen (they are not
	// delivered).
	Lost, Duplicates uint64
	// Late counts packets that arrived more than 40 ms after the time their
	// RTP timestamp predicts, taking the first packet of the source as the
	// reference (or a later one that arrived earlier than predicted, so a
	// delayed first packet does not hide lateness): what a 40 ms jitter
	// buffer would have discarded.
	Late uint64
	// Datagrams ignored because they did not come from the address given
	// to SetRemote (RTP or RTCP).
	UnknownSource uint64
	// RTP from the latched remote with a payload type that was not
	// negotiated.
	WrongPayloadType uint64
	// Datagrams that do not parse as RTP (or RTCP on the RTCP port), and
	// telephone-event packets with a short payload.
	Malformed uint64
	// RTCP compound packets sent and accepted.
	RTCPSent, RTCPReceived uint64
	// SendErrors counts datagrams the socket refused to send.
	SendErrors uint64
	// Jitter is the RFC 3550 §6.4.1 interarrival jitter estimate of the
	// received audio, converted from 8 kHz timestamp units to a duration.
	// For Engine.Stats it is the largest jitter of any stream.
	Jitter time.Duration
}

// add accumulates o into s (jitter: the maximum).
func (s *Stats) add(o Stats) {
	s.PacketsSent += o.PacketsSent
	s.PacketsReceived += o.PacketsReceived
	s.BytesSent += o.BytesSent
	s.BytesReceived += o.BytesReceived
	s.EventsSent += o.EventsSent
	s.EventsReceived += o.EventsReceived
	s.Lost += o.Lost
	s.Late += o.Late
	s.Duplicates += o.Duplicates
	s.UnknownSource += o.UnknownSource
	s.WrongPayloadType += o.WrongPayloadType
	s.Malformed += o.Malformed
	s.RTCPSent += o.RTCPSent
	s.RTCPReceived += o.RTCPReceived
	s.SendErrors += o.SendErrors
	s.Jitter = max(s.Jitter, o.Jitter)
}

// counters are the stream's lock-free counters: the pacer, the receive
// goroutines and Stats touch them concurrently.
type counters struct {
	packetsSent, packetsReceived       atomic.Uint64
	bytesSent, bytesReceived           atomic.Uint64
	payloadOctetsSent                  atomic.Uint64 // for the SR octet count
	eventsSent, eventsReceived         atomic.Uint64
	unknownSource, wrongPT, malformed  atomic.Uint64
	rtcpSent, rtcpReceived, sendErrors atomic.Uint64
}

func (c *counters) load() Stats {
	return Stats{
		PacketsSent:      c.packetsSent.Load(),
		PacketsReceived:  c.packetsReceived.Load(),
		BytesSent:        c.bytesSent.Load(),
		BytesReceived:    c.bytesReceived.Load(),
		EventsSent:       c.eventsSent.Load(),
		EventsReceived:   c.eventsReceived.Load(),
		UnknownSource:    c.unknownSource.Load(),
		WrongPayloadType: c.wrongPT.Load(),
		Malformed:        c.malformed.Load(),
		RTCPSent:         c.rtcpSent.Load(),
		RTCPReceived:     c.rtcpReceived.Load(),
		SendErrors:       c.sendErrors.Load(),
	}
}
