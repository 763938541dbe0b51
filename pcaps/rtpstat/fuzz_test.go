package rtpstat

import (
	"net/netip"
	"testing"
)

// fuzzFlows are the address pairs fuzz datagrams travel on; the first is
// announced, so fuzzed packets reach a stream at once there.
var fuzzFlows = [4][2]netip.AddrPort{
	{caller, gateway}, {gateway, caller}, {callerRTCP, gatewayRTCP}, {netipMust("192.0.2.1:5004"), netipMust("192.0.2.2:5004")},
}

// FuzzDatagram feeds arbitrary datagrams to a tracker with small limits:
// nothing may panic, every datagram is accounted exactly once, and state
// stays within the limits. Input framing: a byte choosing the flow, a
// length byte, then that many bytes of payload, repeated.
func FuzzDatagram(f *testing.F) {
	seed := func(parts ...[]byte) []byte {
		var out []byte
		for i, p := range parts {
			out = append(out, byte(i%2), byte(len(p)))
			out = append(out, p...)
		}
		return out
	}
	f.Add(seed(rtpPacket(f, 1, 1, 0, 0, true, voice[:20]), rtpPacket(f, 2, 1, 0, 0, true, voice[:20]),
		rtpPacket(f, 1, 2, 160, 0, false, voice[:20]), rtpPacket(f, 1, 3, 320, 101, true, eventPayload(5, true, 10, 800))))
	f.Add(seed(senderReport(f, 1, 2, 10, 3, 40), receiverReport(f, 2, 1, 0, 0xffffff, 8)))
	f.Add(seed([]byte{0x80, 0, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 1}, []byte{0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}))
	f.Fuzz(func(t *testing.T, data []byte) {
		lim := Limits{Streams: 3, Candidates: 2, Events: 2, RTCPSources: 2}
		tr := NewTrackerLimits(lim)
		tr.Expect(gateway, map[uint8]Codec{0: {}, 101: {Name: TelephoneEvent, ClockRate: 8000}, 96: {Name: "x"}})
		n := 0
		for len(data) >= 2 {
			flow, size := fuzzFlows[data[0]%4], int(data[1])
			data = data[2:]
			size = min(size, len(data))
			n++
			tr.Datagram(at(float64(n)*20), n, flow[0], flow[1], data[:size])
			data = data[size:]
		}
		st := tr.Stats()
		if st.Datagrams != n || st.RTP+st.RTCP+st.Rejected+st.Untracked != n {
			t.Fatalf("%d datagrams but stats %+v", n, st)
		}
		ss := tr.Streams()
		if len(ss) > lim.Streams || len(tr.cands) > lim.Candidates || len(tr.RTCP()) > lim.RTCPSources {
			t.Fatalf("%d streams, %d candidates, %d RTCP sources beyond %+v", len(ss), len(tr.cands), len(tr.RTCP()), lim)
		}
		sum := 0
		for _, s := range ss {
			sum += s.Packets
			if s.Lost < 0 || s.Expected < 1 || len(s.Events) > lim.Events || s.Packets < 1 {
				t.Fatalf("stream out of bounds: %+v", s)
			}
			s.AppendText(nil)
		}
		if sum != st.RTP {
			t.Fatalf("streams hold %d packets, stats say %d RTP", sum, st.RTP)
		}
	})
}
