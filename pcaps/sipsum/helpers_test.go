package sipsum

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"
)

var (
	t0      = time.Unix(1_700_000_000, 0).UTC()
	phone   = netip.MustParseAddrPort("10.0.0.1:5060")
	gateway = netip.MustParseAddrPort("10.0.0.2:5060")
)

func at(ms float64) time.Time { return t0.Add(time.Duration(ms * float64(time.Millisecond))) }

// offerSDP is the caller's audio offer: PCMU and telephone-event on
// 10.0.0.1:20000, in the given direction.
func offerSDP(dir string) string {
	return "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n" +
		"m=audio 20000 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=" + dir + "\r\n"
}

// answerSDP is the gateway's answer on 10.0.0.2:30000.
func answerSDP(dir string) string {
	return "v=0\r\no=- 2 1 IN IP4 10.0.0.2\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\n" +
		"m=audio 30000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=" + dir + "\r\n"
}

// leg describes the call a message belongs to: its Call-ID and the tags
// of caller and callee.
type leg struct {
	callID, callerTag, calleeTag string
}

// sipMsg renders a SIP message. fromCaller says which party is From; the
// To tag is left out when toTag is false (the opening request and its
// 100 Trying). extra holds further header lines.
func sipMsg(l leg, start string, cseq int, method, branch string, fromCaller, toTag bool, extra []string, body string) []byte {
	from := "<sip:1001@10.0.0.1>;tag=" + l.callerTag
	to := "<sip:8005550100@10.0.0.2>"
	if toTag {
		to += ";tag=" + l.calleeTag
	}
	via := "SIP/2.0/UDP 10.0.0.1:5060;branch=" + branch
	if !fromCaller {
		from, to = "<sip:8005550100@10.0.0.2>;tag="+l.calleeTag, "<sip:1001@10.0.0.1>;tag="+l.callerTag
		via = "SIP/2.0/UDP 10.0.0.2:5060;branch=" + branch
	}
	var b strings.Builder
	b.WriteString(start + "\r\n")
	b.WriteString("Via: " + via + "\r\n")
	b.WriteString("From: " + from + "\r\n")
	b.WriteString("To: " + to + "\r\n")
	b.WriteString("Call-ID: " + l.callID + "\r\n")
	fmt.Fprintf(&b, "CSeq: %d %s\r\n", cseq, method)
	for _, h := range extra {
		b.WriteString(h + "\r\n")
	}
	if body != "" {
		b.WriteString("Content-Type: application/sdp\r\n")
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(body), body)
	return []byte(b.String())
}

// call sends one call's messages between the phone and the gateway,
// numbering frames; it also keeps the raw messages per direction for the
// TCP tests.
type call struct {
	t     testing.TB
	tr    *Tracker
	l     leg
	frame int
	// raw holds every message sent, with its direction, for replaying
	// the same call over TCP.
	raw []rawMsg
}

type rawMsg struct {
	ms         float64
	fromCaller bool
	b          []byte
}

func newCall(t testing.TB, tr *Tracker, callID string) *call {
	return &call{t: t, tr: tr, l: leg{callID: callID, callerTag: "c-" + callID[:4], calleeTag: "g-" + callID[:4]}}
}

// send delivers a message from the caller (phone → gateway) or the callee.
func (c *call) send(ms float64, fromCaller bool, b []byte) {
	c.t.Helper()
	c.frame++
	c.raw = append(c.raw, rawMsg{ms, fromCaller, b})
	src, dst := phone, gateway
	if !fromCaller {
		src, dst = gateway, phone
	}
	if !c.tr.Datagram(at(ms), c.frame, "UDP", src, dst, b) {
		c.t.Fatalf("frame %d not taken for SIP:\n%s", c.frame, b)
	}
}

// request sends a request; byCaller says who sends it.
func (c *call) request(ms float64, byCaller bool, method string, cseq int, branch string, toTag bool, extra []string, body string) {
	ruri := "sip:8005550100@10.0.0.2"
	if !byCaller {
		ruri = "sip:1001@10.0.0.1"
	}
	c.send(ms, byCaller, sipMsg(c.l, method+" "+ruri+" SIP/2.0", cseq, method, branch, byCaller, toTag, extra, body))
}

// response sends a response to a request the other side sent; toCaller
// says the request came from the caller.
func (c *call) response(ms float64, toCaller bool, status int, text, method string, cseq int, branch string, toTag bool, extra []string, body string) {
	c.send(ms, !toCaller, sipMsg(c.l, fmt.Sprintf("SIP/2.0 %d %s", status, text), cseq, method, branch, toCaller, toTag, extra, body))
}

// answeredCall is a call the gateway answers after ringing and the
// gateway's side hangs up after 30 s with Q.850 cause 16.
func answeredCall(c *call) {
	c.request(0, true, "INVITE", 1, "z9hG4bK-inv1", false, nil, offerSDP("sendrecv"))
	c.response(20, true, 100, "Trying", "INVITE", 1, "z9hG4bK-inv1", false, nil, "")
	c.response(100, true, 180, "Ringing", "INVITE", 1, "z9hG4bK-inv1", true, nil, "")
	c.response(1500, true, 200, "OK", "INVITE", 1, "z9hG4bK-inv1", true, nil, answerSDP("sendrecv"))
	c.request(1520, true, "ACK", 1, "z9hG4bK-ack1", true, nil, "")
	c.request(31500, false, "BYE", 1, "z9hG4bK-bye1", true, []string{`Reason: Q.850;cause=16;text="Normal call clearing"`}, "")
	c.response(31600, false, 200, "OK", "BYE", 1, "z9hG4bK-bye1", true, nil, "")
}

func onlyDialog(t *testing.T, tr *Tracker) Dialog {
	t.Helper()
	ds := tr.Dialogs()
	if len(ds) != 1 {
		t.Fatalf("%d dialogs, want 1: %+v", len(ds), ds)
	}
	return ds[0]
}
