package rtpstat

import (
	"testing"
)

// BenchmarkDatagram measures the per-packet path of a two-way call whose
// streams are tracked: header unmarshal, stream lookup, sequence, jitter.
func BenchmarkDatagram(b *testing.B) {
	tr := NewTracker()
	tr.Expect(gateway, map[uint8]Codec{0: {}})
	tr.Expect(caller, map[uint8]Codec{0: {}})
	up := rtpPacket(b, 0xA, 0, 0, 0, false, voice)
	down := rtpPacket(b, 0xB, 0, 0, 0, false, voice)
	b.ReportAllocs()
	b.SetBytes(int64(len(up)))
	b.ResetTimer()
	for i := range b.N {
		n := i / 2
		ts := at(float64(20 * n))
		if i%2 == 0 {
			advance(up, uint16(n), uint32(160*n))
			tr.Datagram(ts, i, caller, gateway, up)
		} else {
			advance(down, uint16(n), uint32(160*n))
			tr.Datagram(ts, i, gateway, caller, down)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "packets/s")
}

// BenchmarkDatagramNotRTP measures rejecting UDP that is not RTP (a DNS
// answer), which a capture can hold a lot of.
func BenchmarkDatagramNotRTP(b *testing.B) {
	tr := NewTracker()
	dns := []byte{0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0, 0, 1, 0, 1}
	b.ReportAllocs()
	for i := range b.N {
		tr.Datagram(t0, i, caller, gateway, dns)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "packets/s")
}
