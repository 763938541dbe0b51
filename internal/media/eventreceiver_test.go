package media

import "testing"

// TestEventReceiver: a digit is reported once, on the first end packet of
// its event; the redundant end packets, the updates before the end and
// malformed payloads report nothing; a new start timestamp or source is a
// new event.
func TestEventReceiver(t *testing.T) {
	var r EventReceiver
	payload := func(ev uint8, end bool, dur uint16) []byte {
		b, err := TelephoneEvent{Event: ev, End: end, Volume: 10, Duration: dur}.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for i, tc := range []struct {
		ssrc, ts uint32
		payload  []byte
		ended    bool
		event    uint8
		err      bool
	}{
		{1, 0, payload(5, false, 160), false, 5, false},
		{1, 0, payload(5, false, 320), false, 5, false},
		{1, 0, payload(5, true, 800), true, 5, false},  // the digit
		{1, 0, payload(5, true, 800), false, 5, false}, // repeat
		{1, 0, payload(5, true, 800), false, 5, false}, // repeat
		{1, 1760, payload(11, true, 800), true, 11, false},
		{2, 1760, payload(11, true, 800), true, 11, false}, // another source
		{2, 1760, []byte{11, 0x80}, false, 0, true},        // short payload
		{2, 1760, payload(11, true, 800), false, 11, false},
	} {
		ev, ended, err := r.Receive(tc.ssrc, tc.ts, tc.payload)
		if (err != nil) != tc.err {
			t.Fatalf("packet %d: error %v, want error %v", i, err, tc.err)
		}
		if ended != tc.ended || !tc.err && ev.Event != tc.event {
			t.Errorf("packet %d: event %d ended %v, want %d ended %v", i, ev.Event, ended, tc.event, tc.ended)
		}
	}
	// The sender's packets through the receiver: exactly one report.
	s, err := NewDigitSender('7', 10, 4000, 100)
	if err != nil {
		t.Fatal(err)
	}
	var fresh EventReceiver
	reports := 0
	for _, p := range s.Packets() {
		b, _ := p.Event.Marshal()
		if _, ended, _ := fresh.Receive(9, p.Timestamp, b); ended {
			reports++
		}
	}
	if reports != 1 {
		t.Errorf("one digit reported %d times", reports)
	}
}
