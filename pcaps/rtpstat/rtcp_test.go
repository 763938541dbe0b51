package rtpstat

import (
	"net/netip"
	"testing"
	"time"

	"github.com/pion/rtcp"
)

var (
	callerRTCP  = netip.MustParseAddrPort("10.0.0.1:20001")
	gatewayRTCP = netip.MustParseAddrPort("10.0.0.2:30001")
)

func senderReport(t testing.TB, ssrc, about uint32, fraction uint8, totalLost, jitter uint32) []byte {
	t.Helper()
	b, err := rtcp.Marshal([]rtcp.Packet{
		&rtcp.SenderReport{SSRC: ssrc, NTPTime: 0xe8fe6f9380000000, RTPTime: 1600, PacketCount: 10, OctetCount: 1600,
			Reports: []rtcp.ReceptionReport{{SSRC: about, FractionLost: fraction, TotalLost: totalLost, Jitter: jitter, LastSequenceNumber: 9}}},
		&rtcp.SourceDescription{Chunks: []rtcp.SourceDescriptionChunk{{Source: ssrc,
			Items: []rtcp.SourceDescriptionItem{{Type: rtcp.SDESCNAME, Text: "caller@10.0.0.1"}}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRTCPReports: sender and receiver reports are counted per sender SSRC
// and each stream gets the far end's last report about it.
func TestRTCPReports(t *testing.T) {
	tr := NewTracker()
	tr.Expect(gateway, map[uint8]Codec{0: {}})
	tr.Expect(caller, map[uint8]Codec{0: {}})
	a := &feeder{t: t, tr: tr, src: caller, dst: gateway}
	for i := range 10 {
		a.pcmu(0xA, uint16(i), i, float64(20*i))
		a.frame++ // leave room for the other direction's frame numbers
	}
	b := &feeder{t: t, tr: tr, src: gateway, dst: caller, frame: 1}
	for i := range 10 {
		b.pcmu(0xB, uint16(i), i, float64(20*i+5))
		b.frame++
	}
	kinds := []Kind{
		tr.Datagram(at(300), 30, callerRTCP, gatewayRTCP, senderReport(t, 0xA, 0xB, 64, 5, 80)),
		tr.Datagram(at(310), 31, gatewayRTCP, callerRTCP, receiverReport(t, 0xB, 0xA, 0, 0xffffff, 16)),
		tr.Datagram(at(320), 32, gatewayRTCP, callerRTCP, receiverReport(t, 0xB, 0xA, 0, 0xffffff, 24)),
	}
	if !equalKinds(kinds, []Kind{RTCP, RTCP, RTCP}) {
		t.Fatalf("kinds %v, want RTCP ×3", kinds)
	}
	if st := tr.Stats(); st.RTCP != 3 || st.RTP != 20 || st.Rejected != 0 {
		t.Errorf("stats %+v, want 3 RTCP, 20 RTP", st)
	}
	ss := tr.Streams()
	if len(ss) != 2 || ss[0].SSRC != 0xA || ss[1].SSRC != 0xB {
		t.Fatalf("streams %+v, want 0xA then 0xB", ss)
	}
	sa, sb := ss[0], ss[1]
	if sa.RTCPPackets != 1 || sa.SenderReport == nil || sa.SenderReport.PacketCount != 10 || sa.SenderReport.OctetCount != 1600 ||
		sa.SenderReport.Frame != 30 || !sa.SenderReport.NTPTime.Equal(time.Date(2023, 11, 14, 22, 13, 39, 500_000_000, time.UTC)) {
		t.Errorf("stream 0xA: %d RTCP packets, SR %+v", sa.RTCPPackets, sa.SenderReport)
	}
	// The gateway's latest report about 0xA: cumulative lost 0xffffff is
	// −1 (a duplicate), jitter 24 units at 8000 Hz is 3 ms.
	if r := sa.Reported; r == nil || r.Reporter != 0xB || r.CumulativeLost != -1 || r.Jitter != 24 || !near(r.JitterMs, 3) || r.Frame != 32 {
		t.Errorf("report about 0xA: %+v", r)
	}
	// The caller's report about 0xB: 64/256 is 25 %, jitter 80 units 10 ms.
	if r := sb.Reported; r == nil || r.Reporter != 0xA || r.FractionLost != 64 || !near(r.LossPercent, 25) || r.CumulativeLost != 5 || !near(r.JitterMs, 10) {
		t.Errorf("report about 0xB: %+v", r)
	}
	if sb.RTCPPackets != 2 || sb.SenderReport != nil {
		t.Errorf("stream 0xB: %d RTCP packets, SR %+v; want 2 and none", sb.RTCPPackets, sb.SenderReport)
	}
	srcs := tr.RTCP()
	if len(srcs) != 2 || srcs[0].SSRC != 0xA || srcs[0].SenderReports != 1 || srcs[1].SSRC != 0xB || srcs[1].ReceiverReports != 2 ||
		srcs[1].Packets != 2 || len(srcs[1].Reports) != 1 || !near(srcs[1].Reports[0].JitterMs, 3) || srcs[1].Src != gatewayRTCP {
		t.Errorf("RTCP sources %+v", srcs)
	}
}
