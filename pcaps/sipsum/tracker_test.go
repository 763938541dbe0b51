package sipsum

import (
	"net/netip"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/ipcclab/ipcclab/pcaps/rtpstat"
	"github.com/pion/rtp"
)

// tcpReplay sends a call's messages over TCP, each cut into pieces at the
// given offsets (clamped to the message), every piece of message i in
// frame i+1, with a CRLF keep-alive before every third message, and
// returns the tracker.
func tcpReplay(t *testing.T, raw []rawMsg, cuts []int) *Tracker {
	tr := NewTracker()
	var buf [2][]byte // unconsumed bytes per direction, as the caller keeps them
	for i, m := range raw {
		dir, src, dst := 0, phone, gateway
		if !m.fromCaller {
			dir, src, dst = 1, gateway, phone
		}
		b := m.b
		if i%3 == 0 {
			b = append([]byte("\r\n\r\n"), b...)
		}
		prev := 0
		for _, c := range append(cuts, len(b)) {
			c = min(c, len(b))
			if c <= prev {
				continue
			}
			buf[dir] = append(buf[dir], b[prev:c]...)
			prev = c
			n := tr.Stream(at(m.ms), i+1, src, dst, buf[dir])
			buf[dir] = buf[dir][n:]
		}
		if len(buf[dir]) != 0 {
			t.Fatalf("message %d: %d bytes left unconsumed", i, len(buf[dir]))
		}
	}
	return tr
}

// TestStreamSplitAcrossChunks: SIP over TCP, every message cut into pieces
// (inside the start line, the headers, the blank line and the body), gives
// the same dialogs and messages as over UDP.
func TestStreamSplitAcrossChunks(t *testing.T) {
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			udp := NewTracker()
			c := newCall(t, udp, "call-tcp@10.0.0.1")
			sc.script(c)
			for _, cuts := range [][]int{{1}, {5, 40, 200}, {17, 18, 19, 20, 300, 301, 400}} {
				tcp := tcpReplay(t, c.raw, cuts)
				if !reflect.DeepEqual(udp.Dialogs(), tcp.Dialogs()) {
					t.Fatalf("cuts %v: dialogs differ\nUDP %+v\nTCP %+v", cuts, udp.Dialogs(), tcp.Dialogs())
				}
				um, tm := udp.Messages(), tcp.Messages()
				if len(um) != len(tm) {
					t.Fatalf("cuts %v: %d messages over TCP, %d over UDP", cuts, len(tm), len(um))
				}
				for i := range um {
					u := um[i]
					u.Transport = "TCP"
					if !reflect.DeepEqual(u, tm[i]) {
						t.Fatalf("cuts %v: message %d differs\nUDP %+v\nTCP %+v", cuts, i, u, tm[i])
					}
				}
				if len(tcp.Notes()) != 0 || tcp.Stats().KeepAlives == 0 {
					t.Errorf("cuts %v: notes %+v, stats %+v", cuts, tcp.Notes(), tcp.Stats())
				}
			}
		})
	}
}

// TestStreamFraming: several messages in one chunk, a partial one left for
// later, bytes that are not SIP skipped with a note, and a message with no
// Content-Length.
func TestStreamFraming(t *testing.T) {
	l := leg{"frame@10.0.0.1", "c1", "g1"}
	trying := sipMsg(l, "SIP/2.0 100 Trying", 1, "INVITE", "z9hG4bK-1", true, false, nil, "")
	ringing := sipMsg(l, "SIP/2.0 180 Ringing", 1, "INVITE", "z9hG4bK-1", true, true, nil, "")
	ok := sipMsg(l, "SIP/2.0 200 OK", 1, "INVITE", "z9hG4bK-1", true, true, nil, answerSDP("sendrecv"))

	t.Run("two and a half messages", func(t *testing.T) {
		tr := NewTracker()
		data := append(append(append([]byte{}, trying...), ringing...), ok[:len(ok)-10]...)
		if n := tr.Stream(at(0), 1, gateway, phone, data); n != len(trying)+len(ringing) {
			t.Errorf("consumed %d, want %d", n, len(trying)+len(ringing))
		}
		if n := tr.Stream(at(10), 2, gateway, phone, ok); n != len(ok) {
			t.Errorf("consumed %d of the rest, want %d", n, len(ok))
		}
		if st := tr.Stats(); st.Messages != 3 || len(tr.Notes()) != 0 {
			t.Errorf("stats %+v, notes %+v", st, tr.Notes())
		}
	})
	t.Run("not SIP, then SIP", func(t *testing.T) {
		tr := NewTracker()
		junk := "\x16\x03\x01 not a start line\r\nnor this\r\n"
		data := append([]byte(junk), trying...)
		if n := tr.Stream(at(0), 1, gateway, phone, data); n != len(data) {
			t.Errorf("consumed %d, want %d", n, len(data))
		}
		notes := tr.Notes()
		if len(notes) != 1 || notes[0].Reason != "skipped 32 bytes of SIP over TCP that are not a SIP message" || notes[0].Frame != 1 || tr.Stats().Messages != 1 {
			t.Errorf("notes %+v, stats %+v", notes, tr.Stats())
		}
	})
	t.Run("no Content-Length", func(t *testing.T) {
		tr := NewTracker()
		data := []byte(strings.Replace(string(trying), "Content-Length: 0\r\n", "", 1))
		if n := tr.Stream(at(0), 7, gateway, phone, data); n != len(data) {
			t.Errorf("consumed %d, want %d", n, len(data))
		}
		notes := tr.Notes()
		if len(notes) != 1 || notes[0].Reason != "100 Trying: no Content-Length on a stream transport: taken as 0" || tr.Stats().Messages != 1 {
			t.Errorf("notes %+v, stats %+v", notes, tr.Stats())
		}
	})
	t.Run("header block too long", func(t *testing.T) {
		tr := NewTracker()
		data := append([]byte("INVITE sip:a@b SIP/2.0\r\nX-Pad: "), make([]byte, maxStreamMessage)...)
		for i := range data[30:] {
			data[30+i] = 'a'
		}
		data = append(data, "\r\n"...)
		n := tr.Stream(at(0), 1, phone, gateway, data)
		if n != len(data) || tr.Stats().Malformed != 1 {
			t.Errorf("consumed %d of %d, stats %+v, notes %+v", n, len(data), tr.Stats(), tr.Notes())
		}
	})
	t.Run("partial first line waits", func(t *testing.T) {
		tr := NewTracker()
		if n := tr.Stream(at(0), 1, phone, gateway, []byte("INVITE sip:8005550100@10.0")); n != 0 || len(tr.Notes()) != 0 {
			t.Errorf("consumed %d, notes %+v; want 0 and none", n, tr.Notes())
		}
	})
}

// TestDatagramBadInput: what is not SIP is refused untouched; what looks
// like SIP but is broken is noted and counted, and the tracker carries on.
func TestDatagramBadInput(t *testing.T) {
	l := leg{"bad@10.0.0.1", "c1", "g1"}
	invite := string(sipMsg(l, "INVITE sip:8005550100@10.0.0.2 SIP/2.0", 1, "INVITE", "z9hG4bK-1", true, false, nil, offerSDP("sendrecv")))
	rtpPkt, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, SSRC: 1}, Payload: make([]byte, 160)}).Marshal()
	tests := []struct {
		name      string
		payload   string
		sip       bool
		messages  int
		malformed int
		note      string // the note's reason, "" for none
	}{
		{name: "empty", payload: ""},
		{name: "RTP", payload: string(rtpPkt)},
		{name: "HTTP", payload: "GET / HTTP/1.1\r\nHost: x\r\n\r\n"},
		{name: "text", payload: "hello world\r\n"},
		{name: "status code with letters", payload: "SIP/2.0 2x0 OK\r\n\r\n"},
		{name: "method with a slash", payload: "IN/VITE sip:a@b SIP/2.0\r\n\r\n"},
		{name: "keep-alive", payload: "\r\n\r\n", sip: true},
		{name: "no Call-ID", sip: true, malformed: 1, payload: strings.Replace(invite, "Call-ID: bad@10.0.0.1\r\n", "", 1),
			note: "malformed SIP: no Call-ID header"},
		{name: "bad CSeq", sip: true, malformed: 1, payload: strings.Replace(invite, "CSeq: 1 INVITE", "CSeq: one INVITE", 1),
			note: `malformed SIP: strconv.ParseUint: parsing "one": invalid syntax`},
		{name: "folded junk line", sip: true, malformed: 1, payload: strings.Replace(invite, "CSeq: 1 INVITE\r\n", "CSeq: 1 INVITE\r\nno colon here\r\n", 1),
			note: `malformed SIP: field name with no value in header: "no colon here"`},
		{name: "start line only", sip: true, malformed: 1, payload: "INVITE sip:a@b SIP/2.0",
			note: "malformed SIP: EOF on reading line"},
		{name: "body cut short", sip: true, messages: 1, payload: invite[:len(invite)-40],
			note: "INVITE: body shorter than its Content-Length: body ignored"},
		{name: "SDP that does not decode", sip: true, messages: 1,
			payload: strings.Replace(invite, "v=0\r\n", "v=x\r\n", 1),
			note:    `INVITE: SDP not decoded: sdp: syntax error at pos 2: "x"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := NewTracker()
			if got := tr.Datagram(at(0), 9, "UDP", phone, gateway, []byte(tc.payload)); got != tc.sip {
				t.Fatalf("Datagram = %v, want %v", got, tc.sip)
			}
			st := tr.Stats()
			if st.Messages != tc.messages || st.Malformed != tc.malformed {
				t.Errorf("stats %+v, want %d messages, %d malformed", st, tc.messages, tc.malformed)
			}
			notes := tr.Notes()
			switch {
			case tc.note == "" && tc.malformed == 0 && len(notes) != 0:
				t.Errorf("notes %+v, want none", notes)
			case tc.note != "" && (len(notes) != 1 || notes[0].Reason != tc.note || notes[0].Frame != 9 || notes[0].Src != phone):
				t.Errorf("notes %+v, want one at frame 9 saying %q", notes, tc.note)
			case tc.malformed > 0 && len(notes) != 1:
				t.Errorf("notes %+v, want one", notes)
			}
		})
	}
}

// TestLimits: beyond each limit the tracker behaves as Limits documents.
func TestLimits(t *testing.T) {
	tr := NewTrackerLimits(Limits{Dialogs: 2, Ladder: 3, Messages: 5, Notes: 1})
	answeredCall(newCall(t, tr, "first@10.0.0.1"))
	for _, id := range []string{"second@10.0.0.1", "third@10.0.0.1"} {
		c := newCall(t, tr, id)
		c.request(0, true, "OPTIONS", 1, "z9hG4bK-opt", false, nil, "")
		c.response(5, true, 200, "OK", "OPTIONS", 1, "z9hG4bK-opt", true, nil, "")
	}
	tr.Datagram(at(0), 99, "UDP", phone, gateway, []byte("INVITE sip:a@b SIP/2.0\r\n\r\n"))
	ds := tr.Dialogs()
	if len(ds) != 2 || ds[0].CallID != "first@10.0.0.1" || len(ds[0].Ladder) != 3 || ds[0].LadderDropped != 4 ||
		ds[0].Messages != 7 || ds[0].Outcome != Answered || ds[0].TalkMs != 30000 {
		t.Fatalf("dialogs %+v", ds)
	}
	st := tr.Stats()
	if st.Untracked != 2 || st.MessagesNotKept != 6 || len(tr.Messages()) != 5 || st.NotesDropped != 1 || st.Malformed != 1 {
		t.Errorf("stats %+v with %d messages kept", st, len(tr.Messages()))
	}
	if n := tr.Notes(); len(n) != 1 || !strings.HasPrefix(n[0].Reason, "dialog limit 2 reached") {
		t.Errorf("notes %+v", n)
	}
}

// TestOnMediaFeedsRTP: the SDP of a call tells an rtpstat tracker where
// media will arrive, so the first RTP packet there is taken at once and
// PT 101 is named from the rtpmap.
func TestOnMediaFeedsRTP(t *testing.T) {
	tr := NewTracker()
	rt := rtpstat.NewTracker()
	var seen []string
	tr.OnMedia(func(m Message, md Media) {
		seen = append(seen, m.short()+" "+md.Addr)
		if ep, ok := md.Endpoint(); ok {
			rt.Expect(ep, md.Codecs())
		}
	})
	answeredCall(newCall(t, tr, "media@10.0.0.1"))
	if want := []string{"INVITE 10.0.0.1", "200 OK (INVITE) 10.0.0.2"}; !reflect.DeepEqual(seen, want) {
		t.Errorf("OnMedia saw %q", seen)
	}
	pkt, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 101, SSRC: 5, Timestamp: 8000},
		Payload: []byte{1, 0x8a, 0, 160}}).Marshal()
	if k := rt.Datagram(at(2000), 50, netip.MustParseAddrPort("10.0.0.1:20000"), netip.MustParseAddrPort("10.0.0.2:30000"), pkt); k != rtpstat.RTP {
		t.Fatalf("first RTP packet to the answered endpoint: %v", k)
	}
	s := rt.Streams()[0]
	if !s.Announced || s.Payloads[0].Name != rtpstat.TelephoneEvent || len(s.Events) != 1 || s.Events[0].Digit != "1" {
		t.Errorf("stream %+v", s)
	}
}

// TestMultipartBody: SIP-I/SIP-T bodies carry SDP beside ISUP.
func TestMultipartBody(t *testing.T) {
	l := leg{"mp@10.0.0.1", "c1", "g1"}
	body := "--b1\r\nContent-Type: application/sdp\r\n\r\n" + offerSDP("sendrecv") +
		"\r\n--b1\r\nContent-Type: application/isup;version=itu-t92+\r\n\r\n\x01\x00\x49\x00\r\n--b1--\r\n"
	msg := string(sipMsg(l, "INVITE sip:8005550100@10.0.0.2 SIP/2.0", 1, "INVITE", "z9hG4bK-1", true, false, nil, body))
	msg = strings.Replace(msg, "Content-Type: application/sdp", "Content-Type: multipart/mixed;boundary=b1", 1)
	tr := NewTracker()
	tr.Datagram(at(0), 1, "UDP", phone, gateway, []byte(msg))
	ms := tr.Messages()
	if len(ms) != 1 || len(ms[0].SDP) != 1 || ms[0].SDP[0].Port != 20000 || len(tr.Notes()) != 0 {
		t.Errorf("messages %+v, notes %+v", ms, tr.Notes())
	}
}

// TestMessageSummary checks one message's fields, compact headers included.
func TestMessageSummary(t *testing.T) {
	raw := "INVITE sip:8005550100@10.0.0.2;user=phone SIP/2.0\r\n" +
		"v: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-abc;rport\r\n" +
		"f: \"Alice\" <sip:1001@10.0.0.1>;tag=aa\r\n" +
		"t: <sip:8005550100@10.0.0.2>\r\n" +
		"i: compact@10.0.0.1\r\n" +
		"CSeq: 42 INVITE\r\n" +
		"c: application/sdp\r\n" +
		"l: " + strconv.Itoa(len(offerSDP("sendrecv"))) + "\r\n\r\n" + offerSDP("sendrecv")
	tr := NewTracker()
	tr.Datagram(at(0), 3, "UDP", phone, gateway, []byte(raw))
	ms := tr.Messages()
	if len(ms) != 1 {
		t.Fatalf("messages %+v notes %+v", ms, tr.Notes())
	}
	m := ms[0]
	want := Message{Time: at(0), Frame: 3, Transport: "UDP", Src: phone, Dst: gateway, Method: "INVITE",
		RequestURI: "sip:8005550100@10.0.0.2;user=phone", RequestUser: "8005550100", CSeq: 42, CSeqMethod: "INVITE", CallID: "compact@10.0.0.1",
		From: Party{URI: "sip:1001@10.0.0.1", Tag: "aa", Name: "Alice"}, To: Party{URI: "sip:8005550100@10.0.0.2"},
		Branch: "z9hG4bK-abc",
		SDP: []Media{{Type: "audio", Addr: "10.0.0.1", Port: 20000, Proto: "RTP/AVP", Direction: "sendrecv",
			Payloads: []Payload{{0, rtpstat.Codec{Name: "PCMU", ClockRate: 8000}}, {101, rtpstat.Codec{Name: "telephone-event", ClockRate: 8000}}}}},
	}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("got  %+v\nwant %+v", m, want)
	}
	if m.Line() != "INVITE sip:8005550100@10.0.0.2;user=phone" {
		t.Errorf("line %q", m.Line())
	}
}
