package main

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/pion/rtp"

	"github.com/ipcclab/ipcclab/internal/media"
)

// buildOneWayRTP: an inbound call from the voice gateway (10.20.2.1) to
// CallManager (10.20.3.1) is answered by an agent phone (10.20.4.21, whose
// media address CallManager's SDP answer carries); the caller's RTP flows
// to the phone for six seconds, the phone sends none back — a firewall
// between the phone VLAN and the gateway, or a phone behind NAT: the
// classic one-way audio. SIP over UDP 5060, G.711 µ-law, 20 ms packets.
func buildOneWayRTP(*env) (*built, error) {
	c := newCapFile(fieldT0)
	gw := netip.MustParseAddrPort("10.20.2.1:5060")
	cm := netip.MustParseAddrPort("10.20.3.1:5060")
	gwRTP := netip.MustParseAddrPort("10.20.2.1:16500")
	phoneRTP := netip.MustParseAddrPort("10.20.4.21:24580")
	const callID = "7f3a9c41-5e2b4d1a-9f0e2c8b@10.20.2.1"
	const ani, dialed = "2125550143", salesDialed
	from := fmt.Sprintf(`"%s" <sip:%s@10.20.2.1>;tag=1A2B3C4D-5E6F`, ani, ani)
	to := fmt.Sprintf("<sip:%s@10.20.3.1>", dialed)
	toTag := to + ";tag=88412~5a1c0d3e-2f7b-4c11-9b1e-0a6d2e9f3c71-31207722"
	branch := "z9hG4bK4F21A7C9"
	var dialog Dialog
	dialog.CallID = callID
	sipAt := func(s float64, src, dst netip.AddrPort, line, cseq, sdpAddr string, msg string) int {
		c.w.UDP(c.at(s), src, dst, []byte(msg))
		f := c.frames()
		dialog.Messages = append(dialog.Messages, SIPMsg{Frame: f, T: rel(s), Src: src.String(), Dst: dst.String(), Line: line, CSeq: cseq, SDP: sdpAddr})
		return f
	}
	offer := sdp("CiscoSystemsSIP-GW-UserAgent 4411 1923 IN IP4 10.20.2.1", gwRTP, "0-16")
	answer := sdp("CiscoSystemsCCM-SIP 2000 1 IN IP4 10.20.3.1", phoneRTP, "0-15")
	via := fmt.Sprintf("Via: SIP/2.0/UDP 10.20.2.1:5060;branch=%s", branch)
	inviteLine := fmt.Sprintf("INVITE sip:%s@10.20.3.1:5060 SIP/2.0", dialed)
	invite := sipMessage(inviteLine, []string{via, "From: " + from, "To: " + to, "Call-ID: " + callID, "CSeq: 101 INVITE",
		"Contact: <sip:" + ani + "@10.20.2.1:5060>", "Max-Forwards: 70", "User-Agent: Cisco-SIPGateway/IOS-15.x",
		"Allow: INVITE, OPTIONS, BYE, CANCEL, ACK, PRACK, UPDATE, REFER, NOTIFY, INFO", "Supported: timer,resource-priority,replaces"}, offer)
	inv := sipAt(0, gw, cm, "INVITE", "101 INVITE", gwRTP.String(), invite)
	resp := func(status string, toh string, extra []string, body string) string {
		h := append([]string{via, "From: " + from, "To: " + toh, "Call-ID: " + callID, "CSeq: 101 INVITE"}, extra...)
		return sipMessage("SIP/2.0 "+status, h, body)
	}
	sipAt(0.02, cm, gw, "100 Trying", "101 INVITE", "", resp("100 Trying", to, nil, ""))
	sipAt(0.15, cm, gw, "180 Ringing", "101 INVITE", "", resp("180 Ringing", toTag, []string{"Contact: <sip:" + dialed + "@10.20.3.1:5060>"}, ""))
	ok := sipAt(2.0, cm, gw, "200 OK", "101 INVITE", phoneRTP.String(), resp("200 OK", toTag,
		[]string{"Contact: <sip:" + dialed + "@10.20.3.1:5060>", "Allow: INVITE, OPTIONS, INFO, BYE, CANCEL, ACK, PRACK, UPDATE, REFER, SUBSCRIBE, NOTIFY"}, answer))
	ackVia := "Via: SIP/2.0/UDP 10.20.2.1:5060;branch=z9hG4bK4F22B1D4"
	sipAt(2.01, gw, cm, "ACK", "101 ACK", "", sipMessage("ACK sip:"+dialed+"@10.20.3.1:5060 SIP/2.0",
		[]string{ackVia, "From: " + from, "To: " + toTag, "Call-ID: " + callID, "CSeq: 101 ACK", "Max-Forwards: 70"}, ""))

	// The caller's audio: a steady 440 Hz tone at -16 dBm0, 300 packets.
	gen := media.NewToneGenerator(media.Tone{Name: "caller", Repeat: true, Segments: []media.ToneSegment{
		{Components: []media.ToneComponent{{Freq: 440, LevelDBm0: -16}}, DurationMs: 1000}}})
	pcm := make([]int16, media.FrameSamples)
	const ssrc, firstSeq, firstTS = 0x6b8b4567, 23517, 0x1f2e3d40
	st := Stream{Src: gwRTP.String(), Dst: phoneRTP.String(), SSRC: fmt.Sprintf("0x%08x", uint32(ssrc)), PayloadType: 0}
	const n = 300
	for i := range n {
		gen.Read(pcm)
		pl := make([]byte, media.FrameSamples)
		media.EncodeUlaw(pl, pcm)
		p := rtp.Packet{Header: rtp.Header{Version: 2, Marker: i == 0, PayloadType: 0, SequenceNumber: uint16(firstSeq + i),
			Timestamp: uint32(firstTS + i*media.FrameSamples), SSRC: ssrc}, Payload: pl}
		raw, err := p.Marshal()
		if err != nil {
			return nil, err
		}
		s := 2.03 + float64(i)*0.02
		c.w.UDP(c.at(s), gwRTP, phoneRTP, raw)
		f := c.frames()
		if i == 0 {
			st.FirstFrame, st.FirstT, st.FirstSeq = f, rel(s), uint16(firstSeq)
		}
		st.LastFrame, st.LastT, st.LastSeq = f, rel(s), uint16(firstSeq+i)
		st.Packets++
	}
	byeVia := "Via: SIP/2.0/UDP 10.20.2.1:5060;branch=z9hG4bK4F23C0E8"
	bye := sipAt(8.1, gw, cm, "BYE", "102 BYE", "", sipMessage("BYE sip:"+dialed+"@10.20.3.1:5060 SIP/2.0",
		[]string{byeVia, "From: " + from, "To: " + toTag, "Call-ID: " + callID, "CSeq: 102 BYE", "Max-Forwards: 70", "Reason: Q.850;cause=16"}, ""))
	sipAt(8.12, cm, gw, "200 OK", "102 BYE", "", sipMessage("SIP/2.0 200 OK",
		[]string{byeVia, "From: " + from, "To: " + toTag, "Call-ID: " + callID, "CSeq: 102 BYE"}, ""))

	x := &Expect{SIP: []Dialog{dialog}, RTP: []Stream{st}}
	x.Summary = fmt.Sprintf("One-way RTP. The voice gateway 10.20.2.1 INVITEs CallManager 10.20.3.1 for %s from %s (frame %d, SDP offer %s); CallManager answers for the agent phone (200 OK frame %d, SDP answer %s, sendrecv). The caller's RTP flows to the phone — %d packets, PCMU, SSRC %s, sequence %d–%d, frames %d–%d, t=%s–%s — and nothing ever comes back from %s. The caller hangs up after 6 s (BYE frame %d, 200 OK).",
		dialed, ani, inv, gwRTP, ok, phoneRTP, st.Packets, st.SSRC, st.FirstSeq, st.LastSeq, st.FirstFrame, st.LastFrame, st.FirstT, st.LastT, phoneRTP, bye)
	x.Decode = []string{
		fmt.Sprintf("one SIP dialog, Call-ID %s: INVITE, 100, 180, 200, ACK, BYE, 200", callID),
		fmt.Sprintf("one RTP stream %s → %s, payload type 0, %d packets, no loss, jitter 0; no stream in the other direction", gwRTP, phoneRTP, st.Packets),
		"no CTI",
	}
	x.Calls = []string{fmt.Sprintf("the call's ladder shows the SDP-negotiated stream %s → %s with no packets: one-way audio", phoneRTP, gwRTP)}
	x.Anomalies = []Anomaly{{Kind: "one-way-rtp", Frame: ok, T: rel(2.0), Frames: []int{st.FirstFrame, st.LastFrame, bye},
		Detail: fmt.Sprintf("SDP answer %s sendrecv, RTP from %s received (%d packets), none from %s toward %s in the %.3f s from the 200 OK to the BYE", phoneRTP, gwRTP, st.Packets, phoneRTP, gwRTP, 8.1-2.0)}}
	return &built{pcap: c.bytes(), expect: x}, nil
}

// sipMessage joins a start line, headers and a body with CRLFs, adding
// Content-Type and Content-Length.
func sipMessage(start string, headers []string, body string) string {
	var b strings.Builder
	b.WriteString(start + "\r\n")
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	if body != "" {
		b.WriteString("Content-Type: application/sdp\r\n")
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n", len(body))
	b.WriteString(body)
	return b.String()
}

// sdp is a G.711 µ-law audio description with RFC 4733 events.
func sdp(origin string, media netip.AddrPort, events string) string {
	lines := []string{"v=0", "o=" + origin, "s=SIP Call", "c=IN IP4 " + media.Addr().String(), "t=0 0",
		fmt.Sprintf("m=audio %d RTP/AVP 0 101", media.Port()), "a=rtpmap:0 PCMU/8000", "a=rtpmap:101 telephone-event/8000",
		"a=fmtp:101 " + events, "a=ptime:20", "a=sendrecv"}
	return strings.Join(lines, "\r\n") + "\r\n"
}
