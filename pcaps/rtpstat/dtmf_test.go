package rtpstat

import (
	"testing"
)

// eventPayload is an RFC 4733 event block.
func eventPayload(code uint8, end bool, volume uint8, duration uint16) []byte {
	b := []byte{code, volume & 0x3f, byte(duration >> 8), byte(duration)}
	if end {
		b[1] |= 0x80
	}
	return b
}

// callWithDigits sends 20 ms PCMU with two digits in it on PT 101, without
// SDP: "5" from 200 ms, 80 ms long, its end packet sent three times, and
// "#" from 600 ms whose end packet never comes. It returns the number of
// voice packets.
func callWithDigits(t *testing.T, f *feeder) int {
	seq, ms, voiceTS := uint16(1000), 0.0, uint32(0)
	voicePackets := 0
	talk := func(n int) {
		for range n {
			f.send(ms, rtpPacket(t, 0x55, seq, voiceTS, 0, voicePackets == 0, voice))
			seq++
			ms += 20
			voiceTS += 160
			voicePackets++
		}
	}
	digit := func(code uint8, durations []uint16, ends int) {
		start := voiceTS
		for i, d := range durations {
			f.send(ms, rtpPacket(t, 0x55, seq, start, 101, i == 0, eventPayload(code, false, 10, d)))
			seq++
			ms += 20
			voiceTS += 160
		}
		last := durations[len(durations)-1] + 160
		for range ends {
			f.send(ms, rtpPacket(t, 0x55, seq, start, 101, false, eventPayload(code, true, 10, last)))
			seq++
			ms += 20
			voiceTS += 160
		}
	}
	talk(10)
	digit(5, []uint16{160, 320, 480}, 3)
	talk(10)
	digit(11, []uint16{160, 320}, 0)
	talk(5)
	return voicePackets
}

// TestDTMF: a digit is counted once however often its end packet repeats,
// and a digit with no end packet is flagged.
func TestDTMF(t *testing.T) {
	tr := NewTracker()
	f := &feeder{t: t, tr: tr, src: caller, dst: gateway}
	voicePackets := callWithDigits(t, f)
	s := only(t, tr)
	want := []Event{
		{Digit: "5", Code: 5, Start: at(200), Frame: 11, DurationMs: 80, Volume: 10, Packets: 6, Ended: true},
		{Digit: "#", Code: 11, Start: at(520), Frame: 27, DurationMs: 40, Volume: 10, Packets: 2, Ended: false},
	}
	if len(s.Events) != len(want) {
		t.Fatalf("events %+v, want %+v", s.Events, want)
	}
	for i := range want {
		if s.Events[i] != want[i] {
			t.Errorf("event %d: %+v, want %+v", i, s.Events[i], want[i])
		}
	}
	if len(s.Payloads) != 2 || s.Payloads[0].Name != "PCMU" || s.Payloads[0].Packets != voicePackets ||
		s.Payloads[1].Name != TelephoneEvent || s.Payloads[1].Type != 101 || s.Payloads[1].Packets != 8 {
		t.Errorf("payloads %+v, want PCMU ×%d and telephone-event ×8", s.Payloads, voicePackets)
	}
	// Events share the sequence space and are left out of jitter: their
	// timestamps stay at the event's start, which would read as jitter.
	if s.Lost != 0 || s.Duplicates != 0 || s.MaxJitterMs != 0 || s.Markers != 3 {
		t.Errorf("lost %d, duplicates %d, max jitter %v ms, markers %d; want 0, 0, 0, 3", s.Lost, s.Duplicates, s.MaxJitterMs, s.Markers)
	}
}

// TestEventNames covers RFC 4733 section 3.2's codes.
func TestEventNames(t *testing.T) {
	for code, want := range map[uint8]string{0: "0", 9: "9", 10: "*", 11: "#", 12: "A", 15: "D", 16: "flash", 17: "event 17", 255: "event 255"} {
		if got := EventName(code); got != want {
			t.Errorf("EventName(%d) = %q, want %q", code, got, want)
		}
	}
}

// TestEventPayloadHeuristic: PT 101 is taken for telephone-event only when
// it looks like one, and a dynamic PT named telephone-event in SDP is
// followed as events.
func TestEventPayloadHeuristic(t *testing.T) {
	t.Run("101 carrying audio", func(t *testing.T) {
		tr := NewTracker()
		f := &feeder{t: t, tr: tr, src: caller, dst: gateway}
		for i := range 5 {
			f.send(float64(20*i), rtpPacket(t, 1, uint16(i), uint32(160*i), 101, false, voice))
		}
		s := only(t, tr)
		if s.Payloads[0].Name != "" || len(s.Events) != 0 {
			t.Errorf("payloads %+v events %+v, want an unnamed PT 101 and no events", s.Payloads, s.Events)
		}
	})
	t.Run("96 announced as telephone-event", func(t *testing.T) {
		tr := NewTracker()
		tr.Expect(gateway, map[uint8]Codec{0: {}, 96: {Name: TelephoneEvent, ClockRate: 8000}})
		f := &feeder{t: t, tr: tr, src: caller, dst: gateway}
		for i, d := range []uint16{160, 320, 400, 400, 400} {
			f.send(float64(20*i), rtpPacket(t, 1, uint16(i), 8000, 96, i == 0, eventPayload(12, i >= 2, 7, d)))
		}
		s := only(t, tr)
		if len(s.Events) != 1 || s.Events[0].Digit != "A" || !near(s.Events[0].DurationMs, 50) || !s.Events[0].Ended || s.Events[0].Packets != 5 {
			t.Errorf("events %+v, want one A of 50 ms, ended, 5 packets", s.Events)
		}
	})
}
