package sipsum

import (
	"testing"
)

// BenchmarkDatagram measures summarising SIP over UDP: the seven messages
// of an answered call (two with SDP) on a fresh tracker per call, so the
// figure includes dialog creation.
func BenchmarkDatagram(b *testing.B) {
	c := newCall(b, NewTracker(), "bench@10.0.0.1")
	answeredCall(c)
	var size int64
	for _, m := range c.raw {
		size += int64(len(m.b))
	}
	b.SetBytes(size / int64(len(c.raw)))
	b.ReportAllocs()
	var tr *Tracker
	for i := range b.N {
		k := i % len(c.raw)
		if k == 0 {
			tr = NewTracker()
		}
		m := c.raw[k]
		src, dst := phone, gateway
		if !m.fromCaller {
			src, dst = gateway, phone
		}
		tr.Datagram(t0, i, "UDP", src, dst, m.b)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "messages/s")
}

// BenchmarkDatagramNotSIP measures refusing a payload that is not SIP (an
// RTP packet), which every RTP datagram costs before reaching rtpstat.
func BenchmarkDatagramNotSIP(b *testing.B) {
	tr := NewTracker()
	pkt := make([]byte, 172)
	pkt[0] = 0x80
	b.ReportAllocs()
	for i := range b.N {
		tr.Datagram(t0, i, "UDP", phone, gateway, pkt)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "packets/s")
}
