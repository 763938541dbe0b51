package media

import (
	"errors"
	"fmt"

	"github.com/pion/rtp"
)

// TelephoneEventSize is the size of an RFC 4733 event payload.
const TelephoneEventSize = 4

// MaxEventVolume is the largest volume field (0 to -63 dBm0 as a positive number).
const MaxEventVolume = 63

// TelephoneEvent is the RFC 4733 §2.3 named-event payload:
//
//	event (8) | E (1) | R (1) | volume (6) | duration (16, timestamp units)
type TelephoneEvent struct {
	Event    uint8  // 0-9 digits, 10 '*', 11 '#', 12-15 A-D
	End      bool   // E bit: last packet(s) of the event
	Volume   uint8  // power level as -dBm0, 0..63
	Duration uint16 // samples at 8 kHz since the event timestamp
}

var errShortPayload = errors.New("media: telephone-event payload shorter than 4 bytes")

// MarshalTo writes the 4-byte payload into b and returns 4. The reserved
// bit is sent as zero.
func (e TelephoneEvent) MarshalTo(b []byte) (int, error) {
	if len(b) < TelephoneEventSize {
		return 0, errShortPayload
	}
	if e.Volume > MaxEventVolume {
		return 0, fmt.Errorf("media: telephone-event volume %d > %d", e.Volume, MaxEventVolume)
	}
	b[0] = e.Event
	b[1] = e.Volume
	if e.End {
		b[1] |= 0x80
	}
	b[2] = byte(e.Duration >> 8)
	b[3] = byte(e.Duration)
	return TelephoneEventSize, nil
}

// Marshal returns the 4-byte payload.
func (e TelephoneEvent) Marshal() ([]byte, error) {
	b := make([]byte, TelephoneEventSize)
	if _, err := e.MarshalTo(b); err != nil {
		return nil, err
	}
	return b, nil
}

// Unmarshal decodes the first 4 bytes of b (the reserved bit is ignored;
// further bytes, e.g. redundant blocks, are left to the caller).
func (e *TelephoneEvent) Unmarshal(b []byte) error {
	if len(b) < TelephoneEventSize {
		return errShortPayload
	}
	*e = TelephoneEvent{Event: b[0], End: b[1]&0x80 != 0, Volume: b[1] & 0x3f, Duration: uint16(b[2])<<8 | uint16(b[3])}
	return nil
}

// EventCode returns the RFC 4733 event code of a DTMF digit.
func EventCode(digit byte) (uint8, error) {
	switch {
	case digit >= '0' && digit <= '9':
		return digit - '0', nil
	case digit == '*':
		return 10, nil
	case digit == '#':
		return 11, nil
	case digit >= 'A' && digit <= 'D':
		return 12 + digit - 'A', nil
	case digit >= 'a' && digit <= 'd':
		return 12 + digit - 'a', nil
	}
	return 0, fmt.Errorf("media: %q is not a DTMF digit", digit)
}

// EventDigit returns the DTMF digit of an event code 0-15.
func EventDigit(code uint8) (byte, error) {
	const digits = "0123456789*#ABCD"
	if int(code) >= len(digits) {
		return 0, fmt.Errorf("media: telephone-event %d is not a DTMF digit", code)
	}
	return digits[code], nil
}

// EventPacket is one packet of an event: the caller supplies payload type,
// sequence number and SSRC (see RTP).
type EventPacket struct {
	Marker    bool
	Timestamp uint32 // the event's start timestamp, the same for all its packets
	Event     TelephoneEvent
}

// RTP builds a pion/rtp packet for p.
func (p EventPacket) RTP(payloadType uint8, seq uint16, ssrc uint32) (*rtp.Packet, error) {
	payload, err := p.Event.Marshal()
	if err != nil {
		return nil, err
	}
	return &rtp.Packet{Header: rtp.Header{Version: 2, Marker: p.Marker, PayloadType: payloadType,
		SequenceNumber: seq, Timestamp: p.Timestamp, SSRC: ssrc}, Payload: payload}, nil
}

// EventEndRepeats is how many times the end packet is sent (RFC 4733 §2.5.1.4).
const EventEndRepeats = 3

// EventSender is the RFC 4733 sender state machine for one event: call Next
// once per packet interval (normally every 20 ms). The first packet carries
// the marker bit and covers one interval; each update grows the duration by
// one interval; once the duration reaches the total, the end packet (E=1,
// final duration) is produced three times. All packets share the start
// timestamp.
type EventSender struct {
	ts       uint32
	event    uint8
	volume   uint8
	total    uint32
	interval uint32
	dur      uint32
	sent     int
	ends     int
}

// NewEventSender prepares the packets for event (code 0-255) lasting
// durationSamples (1..65535; longer events need RFC 4733 §2.5.2.1
// segmentation, not done here) starting at timestamp, with one packet every
// intervalSamples (160 for 20 ms; 0 means 160).
func NewEventSender(event, volume uint8, timestamp, durationSamples, intervalSamples uint32) (*EventSender, error) {
	if volume > MaxEventVolume {
		return nil, fmt.Errorf("media: telephone-event volume %d > %d", volume, MaxEventVolume)
	}
	if durationSamples == 0 || durationSamples > 0xffff {
		return nil, fmt.Errorf("media: telephone-event duration %d outside 1..65535", durationSamples)
	}
	if intervalSamples == 0 {
		intervalSamples = FrameSamples
	}
	return &EventSender{ts: timestamp, event: event, volume: volume, total: durationSamples, interval: intervalSamples}, nil
}

// NewDigitSender is NewEventSender for a DTMF digit pressed for durationMs,
// 20 ms packets.
func NewDigitSender(digit byte, volume uint8, timestamp uint32, durationMs int) (*EventSender, error) {
	code, err := EventCode(digit)
	if err != nil {
		return nil, err
	}
	if durationMs <= 0 {
		return nil, fmt.Errorf("media: digit duration %d ms", durationMs)
	}
	return NewEventSender(code, volume, timestamp, uint32(MsToSamples(durationMs)), FrameSamples)
}

// Done reports whether every packet has been produced.
func (s *EventSender) Done() bool { return s.ends >= EventEndRepeats }

// Next returns the next packet, or false when the sequence is complete.
func (s *EventSender) Next() (EventPacket, bool) {
	if s.Done() {
		return EventPacket{}, false
	}
	p := EventPacket{Timestamp: s.ts, Marker: s.sent == 0}
	s.sent++
	if s.dur < s.total {
		s.dur = min(s.dur+s.interval, s.total)
	}
	p.Event = TelephoneEvent{Event: s.event, Volume: s.volume, Duration: uint16(s.dur)}
	// The packet that reaches the total is already an end packet.
	if s.dur >= s.total {
		p.Event.End = true
		s.ends++
	}
	return p, true
}

// Packets returns the whole remaining sequence.
func (s *EventSender) Packets() []EventPacket {
	var ps []EventPacket
	for {
		p, ok := s.Next()
		if !ok {
			return ps
		}
		ps = append(ps, p)
	}
}

// EventReceiver is the RFC 4733 receive side of one stream: it reports each
// event once, when its first end packet arrives, and recognises the
// redundant end packets (§2.5.1.4: the end is sent three times) by the
// event's source and start timestamp. Received digits are reported here in
// both drivers: by rtpio's streams on the wire and by the simulation
// driver's switching fabric (emulator/fabric).
type EventReceiver struct {
	have bool
	ssrc uint32
	ts   uint32
}

// Receive takes a telephone-event packet's SSRC, RTP timestamp and payload.
// It returns the event, and ended true when this packet ends an event not
// reported before (the moment to report the digit). A payload shorter than
// four bytes is an error.
func (r *EventReceiver) Receive(ssrc, timestamp uint32, payload []byte) (ev TelephoneEvent, ended bool, err error) {
	if err := ev.Unmarshal(payload); err != nil {
		return ev, false, err
	}
	if !ev.End || r.have && r.ssrc == ssrc && r.ts == timestamp {
		return ev, false, nil
	}
	r.have, r.ssrc, r.ts = true, ssrc, timestamp
	return ev, true, nil
}
