package rtpio

import (
	"net/netip"
	"time"

	"github.com/pion/rtcp"

	"github.com/ipcclab/ipcclab/internal/media"
)

// ntpEpochOffset is the number of seconds from 1900 (NTP) to 1970 (Unix).
const ntpEpochOffset = 2208988800

// ntpTime returns t as a 64-bit NTP timestamp.
func ntpTime(t time.Time) uint64 {
	secs := uint64(t.Unix()) + ntpEpochOffset
	frac := uint64(t.Nanosecond()) << 32 / uint64(time.Second)
	return secs<<32 | frac
}

// receptionReport returns the RFC 3550 report block on the current source
// and starts a new reporting interval; false if nothing was received.
func (r *rxState) receptionReport(now time.Time) (rtcp.ReceptionReport, bool) {
	if !r.started {
		return rtcp.ReceptionReport{}, false
	}
	expected := r.expected()
	var frac uint8
	if expected > r.expectedPrior && r.received >= r.receivedPrior {
		expInt, recInt := expected-r.expectedPrior, r.received-r.receivedPrior
		if expInt > recInt {
			frac = uint8(min((expInt-recInt)<<8/expInt, 255))
		}
	}
	r.expectedPrior, r.receivedPrior = expected, r.received
	rr := rtcp.ReceptionReport{
		SSRC:               r.ssrc,
		FractionLost:       frac,
		TotalLost:          uint32(min(r.lost(), 0x7fffff)), // 24-bit signed field
		LastSequenceNumber: uint32(r.cycles + uint64(r.maxSeq)),
		Jitter:             uint32(r.jitter),
	}
	if !r.lastSRAt.IsZero() {
		rr.LastSenderReport = r.lastSR
		rr.Delay = uint32(now.Sub(r.lastSRAt) * 65536 / time.Second)
	}
	return rr, true
}

// report sends an RTCP compound packet: SR if the stream has sent RTP, RR
// otherwise, with a report block once something was received, then SDES
// CNAME, then BYE if bye. s.mu is held.
func (s *Stream) report(now time.Time, rc *remote, bye bool) {
	pkts := make([]rtcp.Packet, 0, 3)
	var reports []rtcp.ReceptionReport
	s.rmu.Lock()
	if rr, ok := s.rx.receptionReport(now); ok {
		reports = []rtcp.ReceptionReport{rr}
	}
	s.rmu.Unlock()
	if sent := s.ctr.packetsSent.Load(); sent > 0 {
		pkts = append(pkts, &rtcp.SenderReport{
			SSRC:    s.ssrc,
			NTPTime: ntpTime(now),
			// s.ts is the next slot; the one being played is a frame before.
			RTPTime:     s.ts - media.FrameSamples,
			PacketCount: uint32(sent),
			OctetCount:  uint32(s.ctr.payloadOctetsSent.Load()),
			Reports:     reports,
		})
	} else {
		pkts = append(pkts, &rtcp.ReceiverReport{SSRC: s.ssrc, Reports: reports})
	}
	pkts = append(pkts, rtcp.NewCNAMESourceDescription(s.ssrc, s.cname))
	if bye {
		pkts = append(pkts, &rtcp.Goodbye{Sources: []uint32{s.ssrc}})
	}
	b, err := rtcp.Marshal(pkts)
	if err != nil {
		return
	}
	s.ctr.rtcpSent.Add(1)
	s.write(s.rtcpConn, s.localRTCP, rc.rtcp, b)
}

// receiveRTCP handles one datagram that arrived on the RTCP socket. RTCP
// is accepted from the remote's RTCP address or, for endpoints that send
// it from their RTP socket, from the RTP address.
func (s *Stream) receiveRTCP(b []byte, from netip.AddrPort, now time.Time) {
	if tap := s.e.cfg.Tap; tap != nil {
		tap(s.localRTCP, from, b, false)
	}
	rc := s.rcfg.Load()
	from = unmapAddrPort(from)
	if rc == nil || (from != rc.rtcp && from != rc.rtp) {
		s.ctr.unknownSource.Add(1)
		return
	}
	s.handleRTCP(b, now)
}

// handleRTCP parses an RTCP compound packet from the remote. Only sender
// reports change state (for the LSR/DLSR fields of our reports).
func (s *Stream) handleRTCP(b []byte, now time.Time) {
	pkts, err := rtcp.Unmarshal(b)
	if err != nil || len(pkts) == 0 {
		s.ctr.malformed.Add(1)
		return
	}
	s.ctr.rtcpReceived.Add(1)
	for _, p := range pkts {
		if sr, ok := p.(*rtcp.SenderReport); ok {
			s.rmu.Lock()
			s.rx.lastSR, s.rx.lastSRAt = uint32(sr.NTPTime>>16), now
			s.rmu.Unlock()
		}
	}
}
