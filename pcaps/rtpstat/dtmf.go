package rtpstat

import (
	"strconv"
	"time"
)

// Event is one RFC 4733 named telephone event (a DTMF digit or flash) sent
// in a stream.
type Event struct {
	// Digit is "0"–"9", "*", "#", "A"–"D", "flash", or "event N" for
	// other codes.
	Digit string `json:"digit"`
	Code  uint8  `json:"code"`
	// Start is when the event's first packet arrived, Frame its frame.
	Start time.Time `json:"start"`
	Frame int       `json:"frame"`
	// DurationMs is the longest duration the event's packets announced,
	// converted with the payload's clock rate.
	DurationMs float64 `json:"duration_ms"`
	// Volume is the power level of the last packet in −dBm0 (0–63).
	Volume uint8 `json:"volume"`
	// Packets counts all the event's packets, repeats of the end packet
	// included.
	Packets int `json:"packets"`
	// Ended is false when no packet with the end bit arrived: the sender
	// stopped, or the capture lost the end packet and its two repeats.
	Ended bool `json:"ended"`
}

// digitNames are the RFC 4733 section 3.2 DTMF event codes 0–16.
var digitNames = [17]string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "#", "A", "B", "C", "D", "flash"}

// EventName names an RFC 4733 event code.
func EventName(code uint8) string {
	if int(code) < len(digitNames) {
		return digitNames[code]
	}
	return "event " + strconv.Itoa(int(code))
}

// event accounts a telephone-event packet (RFC 4733 section 2.3). All
// packets of one event carry the event's start timestamp; a new timestamp
// is a new event.
func (s *stream) event(t *Tracker, ts time.Time, frame int, rtpTS, clock uint32, body []byte) {
	if len(body) < 4 {
		return // named as telephone-event by SDP but too short to read
	}
	if clock == 0 {
		clock = 8000
	}
	code, end, volume := body[0], body[1]&0x80 != 0, body[1]&0x3f
	duration := uint32(body[2])<<8 | uint32(body[3])
	n := len(s.events)
	if n == 0 || rtpTS != s.eventTS {
		if n >= t.limits.Events {
			if s.eventsDropped == 0 || rtpTS != s.droppedTS {
				s.eventsDropped++
				s.droppedTS = rtpTS
			}
			return
		}
		s.events = append(s.events, Event{Digit: EventName(code), Code: code, Start: ts, Frame: frame})
		s.eventTS, s.eventClock = rtpTS, clock
		n++
	}
	e := &s.events[n-1]
	e.Packets++
	e.Volume = volume
	if ms := float64(duration) * 1000 / float64(s.eventClock); ms > e.DurationMs {
		e.DurationMs = ms
	}
	if end {
		e.Ended = true
	}
}
