package follow

import (
	"bytes"
	"fmt"
	"hash/fnv"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/ipcclab/ipcclab/pcaps/rtpstat"
	"github.com/ipcclab/ipcclab/pcaps/sipsum"
)

// MediaBuilder feeds SIP text and RTP packets to the real trackers
// (packages sipsum and rtpstat), numbering frames with the capture's.
type MediaBuilder struct {
	b   *CaptureBuilder
	sip *sipsum.Tracker
	rtp *rtpstat.Tracker
}

// Media starts the SIP and RTP of a capture.
func (b *CaptureBuilder) Media() *MediaBuilder {
	return &MediaBuilder{b: b, sip: sipsum.NewTracker(), rtp: rtpstat.NewTracker()}
}

// SIP adds one SIP message over UDP.
func (mb *MediaBuilder) SIP(at time.Duration, src, dst, text string) {
	frame, ts := mb.b.tick(at)
	msg := strings.ReplaceAll(strings.TrimLeft(text, "\n"), "\n", "\r\n")
	if !mb.sip.Datagram(ts, frame, "UDP", netip.MustParseAddrPort(src), netip.MustParseAddrPort(dst), []byte(msg)) {
		mb.b.t.Fatalf("not SIP: %q", msg)
	}
}

// RTP adds n PCMU packets every 20 ms from t0+at.
func (mb *MediaBuilder) RTP(at time.Duration, src, dst string, ssrc uint32, n int) {
	for i := 0; i < n; i++ {
		frame, ts := mb.b.tick(at + time.Duration(i)*20*ms)
		p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: uint16(100 + i), Timestamp: uint32(160 * i), SSRC: ssrc},
			Payload: make([]byte, 160)}
		raw, err := p.Marshal()
		if err != nil {
			mb.b.t.Fatal(err)
		}
		mb.rtp.Datagram(ts, frame, netip.MustParseAddrPort(src), netip.MustParseAddrPort(dst), raw)
	}
}

// Follow follows the capture with its media.
func (mb *MediaBuilder) Follow(o Options) *Report {
	return follow(mb.b.Capture(), o, mb.sip.Dialogs(), mb.rtp.Streams())
}

const (
	gateway = "10.0.0.5:5060"
	phone   = "10.0.0.6:5060"
	gwRTP   = "10.0.0.5:20000"
	phRTP   = "10.0.0.6:30000"
)

func sdp(addr string, port int, dir string) string {
	return fmt.Sprintf("v=0\no=- 1 1 IN IP4 %s\ns=-\nc=IN IP4 %s\nt=0 0\nm=audio %d RTP/AVP 0 101\na=rtpmap:0 PCMU/8000\na=rtpmap:101 telephone-event/8000\na=%s\n",
		addr, addr, port, dir)
}

func sipMsg(start, callID, from, to, cseq, body string) string {
	s := start + "\nVia: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK" + strings.ReplaceAll(cseq, " ", "") + callID + "\n" +
		"From: <sip:" + from + "@10.0.0.5>;tag=gw1\nTo: <sip:" + to + "@10.0.0.6>" + "\nCall-ID: " + callID + "\nCSeq: " + cseq + "\nMax-Forwards: 70\n"
	if strings.HasPrefix(start, "SIP/2.0 2") || strings.HasPrefix(start, "SIP/2.0 18") {
		s = strings.Replace(s, "@10.0.0.6>", "@10.0.0.6>;tag=ph1", 1)
	}
	if body != "" {
		s += "Content-Type: application/sdp\nContent-Length: " + fmt.Sprint(len(strings.ReplaceAll(body, "\n", "\r\n"))) + "\n\n" + body
	} else {
		s += "Content-Length: 0\n\n"
	}
	return s
}

// answeredCall is a SIP call from the gateway (the caller, ANI
// 8005550100) to the agent phone 1001, answered at +2.0 s, with RTP
// toward the callee and, when both, toward the caller, hung up at +6 s.
func answeredCall(mb *MediaBuilder, callID, from string, dir string, both bool, at0 time.Duration) {
	answeredCallTo(mb, callID, from, "1001", dir, both, at0)
}

func answeredCallTo(mb *MediaBuilder, callID, from, to string, dir string, both bool, at0 time.Duration) {
	mb.SIP(at0, gateway, phone, sipMsg("INVITE sip:"+to+"@10.0.0.6 SIP/2.0", callID, from, to, "1 INVITE", sdp("10.0.0.5", 20000, "sendrecv")))
	mb.SIP(at0+100*ms, phone, gateway, sipMsg("SIP/2.0 180 Ringing", callID, from, to, "1 INVITE", ""))
	mb.SIP(at0+time.Second, phone, gateway, sipMsg("SIP/2.0 200 OK", callID, from, to, "1 INVITE", sdp("10.0.0.6", 30000, dir)))
	mb.SIP(at0+1100*ms, gateway, phone, strings.Replace(sipMsg("ACK sip:"+to+"@10.0.0.6 SIP/2.0", callID, from, to, "1 ACK", ""), "@10.0.0.6>", "@10.0.0.6>;tag=ph1", 1))
	// Each call's streams get their own SSRCs, as real senders choose them.
	h := fnv.New32a()
	h.Write([]byte(callID))
	ssrc := h.Sum32() &^ 0xFF
	mb.RTP(at0+1200*ms, gwRTP, phRTP, ssrc|1, 50)
	if both {
		mb.RTP(at0+1210*ms, phRTP, gwRTP, ssrc|2, 50)
	}
	mb.SIP(at0+5*time.Second, phone, gateway, strings.Replace(sipMsg("BYE sip:"+from+"@10.0.0.5 SIP/2.0", callID, from, to, "2 BYE", ""),
		"From: <sip:"+from+"@10.0.0.5>;tag=gw1\nTo: <sip:"+to+"@10.0.0.6>", "From: <sip:"+to+"@10.0.0.6>;tag=ph1\nTo: <sip:"+from+"@10.0.0.5>;tag=gw1", 1))
	mb.SIP(at0+5100*ms, gateway, phone, sipMsg("SIP/2.0 200 OK", callID, from, to, "2 BYE", ""))
}

// ctiCall is the CTI side of the same call at 1001: BEGIN_CALL at +1.0 s
// … END_CALL at +6.5 s.
func ctiCall(s *SessionBuilder, call uint32, at0 time.Duration) {
	s.S(at0+1*sec, beginCall(call, "1001")).S(at0+1*sec, delivered(call, "1001")).S(at0+2*sec, established(call, "1001")).
		S(at0+6*sec, connCleared(call, "8005550100")).S(at0+6*sec, cleared(call, "1001")).S(at0+6500*ms, endCall(call, "1001"))
}

func TestMediaJoins(t *testing.T) {
	cases := []struct {
		name   string
		build  func(b *CaptureBuilder, mb *MediaBuilder)
		joined map[uint32][]string // call ID → joined dialogs' Call-IDs
		how    []string            // substrings of the joins
		unjD   []string            // unjoined dialogs
		unjS   int                 // unjoined streams
		want   []string            // anomaly kinds
	}{
		{name: "answered call joins by ANI and extension, RTP both ways", build: func(b *CaptureBuilder, mb *MediaBuilder) {
			ctiCall(opened(b), 77, 0)
			answeredCall(mb, "c1@gw", "8005550100", "sendrecv", true, 1500*ms)
		}, joined: map[uint32][]string{77: {"c1@gw"}}, how: []string{
			"From user 8005550100 = CTI ANI 8005550100, request-URI user 1001 = CTI ConnectionDeviceID 1001, To user 1001 = CTI ConnectionDeviceID 1001",
			"dialog c1@gw: destination 10.0.0.6:30000 announced in the SDP of 200 OK (INVITE) (f11) by the callee, source 10.0.0.5:20000 announced in the SDP of INVITE (f9) by the caller",
			"dialog c1@gw: destination 10.0.0.5:20000 announced in the SDP of INVITE (f9) by the caller, source 10.0.0.6:30000 announced in the SDP of 200 OK (INVITE) (f11) by the callee"}},
		{name: "E.164 caller number joins the national ANI", build: func(b *CaptureBuilder, mb *MediaBuilder) {
			ctiCall(opened(b), 77, 0)
			answeredCall(mb, "c1@gw", "+18005550100", "sendrecv", true, 1500*ms)
		}, joined: map[uint32][]string{77: {"c1@gw"}}, how: []string{"From user +18005550100 = CTI ANI 8005550100"}},
		{name: "one-way RTP is flagged", build: func(b *CaptureBuilder, mb *MediaBuilder) {
			ctiCall(opened(b), 77, 0)
			answeredCall(mb, "c1@gw", "8005550100", "sendrecv", false, 1500*ms)
		}, joined: map[uint32][]string{77: {"c1@gw"}}, want: []string{KindOneWayRTP}, how: []string{
			"SIP dialog c1@gw answered with two-way (sendrecv) SDP, but RTP flowed caller → callee only (50 packets); nothing toward the caller at 10.0.0.5:20000"}},
		{name: "one-way RTP the callee asked for (sendonly): not flagged", build: func(b *CaptureBuilder, mb *MediaBuilder) {
			ctiCall(opened(b), 77, 0)
			answeredCall(mb, "c1@gw", "8005550100", "recvonly", false, 1500*ms)
		}, joined: map[uint32][]string{77: {"c1@gw"}}},
		{name: "dialog with other numbers, stream on an unannounced port: unjoined", build: func(b *CaptureBuilder, mb *MediaBuilder) {
			ctiCall(opened(b), 77, 0)
			answeredCallTo(mb, "c2@gw", "4155550111", "1002", "sendrecv", true, 1500*ms)
			mb.RTP(3*sec, "10.0.0.9:40000", "10.0.0.8:40002", 0x3333, 10)
		}, joined: map[uint32][]string{}, unjD: []string{"c2@gw"}, unjS: 1},
		{name: "dialog long after the call: unjoined", build: func(b *CaptureBuilder, mb *MediaBuilder) {
			ctiCall(opened(b), 77, 0)
			answeredCall(mb, "c3@gw", "8005550100", "sendrecv", true, 60*sec)
		}, joined: map[uint32][]string{}, unjD: []string{"c3@gw"}},
		{name: "two calls from the same caller: each dialog joins the call it overlaps", build: func(b *CaptureBuilder, mb *MediaBuilder) {
			s := opened(b)
			ctiCall(s, 77, 0)
			ctiCall(s, 78, 20*sec)
			answeredCall(mb, "c1@gw", "8005550100", "sendrecv", true, 1500*ms)
			answeredCall(mb, "c2@gw", "8005550100", "sendrecv", true, 21500*ms)
		}, joined: map[uint32][]string{77: {"c1@gw"}, 78: {"c2@gw"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := NewCaptureBuilder(t)
			mb := b.Media()
			tc.build(b, mb)
			r := mb.Follow(Options{})
			got := map[uint32][]string{}
			var hows []string
			for _, c := range r.Calls {
				for _, d := range c.Dialogs {
					got[c.Key.CallID] = append(got[c.Key.CallID], d.CallID)
					hows = append(hows, d.Join)
					for _, s := range d.Streams {
						hows = append(hows, s.Join)
					}
				}
			}
			for _, d := range r.UnjoinedDialogs {
				for _, s := range d.Streams {
					hows = append(hows, s.Join)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.joined) {
				t.Errorf("joined %v, want %v", got, tc.joined)
			}
			var unj []string
			for _, d := range r.UnjoinedDialogs {
				unj = append(unj, d.CallID)
			}
			if !slices.Equal(unj, tc.unjD) || len(r.UnjoinedStreams) != tc.unjS {
				t.Errorf("unjoined dialogs %v, %d streams; want %v, %d", unj, len(r.UnjoinedStreams), tc.unjD, tc.unjS)
			}
			if k := kinds(r); !slices.Equal(k, tc.want) {
				t.Errorf("anomalies %v, want %v:\n%s", k, tc.want, anomaliesText(r))
			}
			all := strings.Join(hows, "\n") + "\n" + anomaliesText(r)
			var text bytes.Buffer
			r.WriteText(&text)
			all += text.String()
			for _, w := range tc.how {
				if !strings.Contains(all, w) {
					t.Errorf("report does not say %q:\n%s", w, all)
				}
			}
		})
	}
}

func TestGoldenMedia(t *testing.T) {
	b := NewCaptureBuilder(t)
	mb := b.Media()
	ctiCall(opened(b), 77, 0)
	answeredCall(mb, "c1@gw", "8005550100", "sendrecv", false, 1500*ms)
	answeredCallTo(mb, "c9@gw", "4155550111", "1002", "sendrecv", true, 30*sec)
	var text, js bytes.Buffer
	r := mb.Follow(Options{})
	if err := r.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	golden(t, "media.calls.txt", text.Bytes())
	golden(t, "media.calls.json", js.Bytes())
}
