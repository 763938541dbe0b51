package rtpstat

import (
	"cmp"
	"encoding/binary"
	"net/netip"
	"slices"
	"time"

	"github.com/pion/rtcp"
)

// SenderInfo is the sender information of an RTCP sender report (RFC 3550
// section 6.4.1): what the sender says it sent.
type SenderInfo struct {
	Time  time.Time `json:"time"`
	Frame int       `json:"frame"`
	// NTPTime is the sender's wallclock when it sent the report.
	NTPTime     time.Time `json:"ntp_time"`
	RTPTime     uint32    `json:"rtp_time"`
	PacketCount uint32    `json:"packet_count"`
	OctetCount  uint32    `json:"octet_count"`
}

// Reception is one RTCP reception report block (RFC 3550 section 6.4.1):
// what the receiver Reporter says about the stream of SSRC About.
type Reception struct {
	Time     time.Time `json:"time"`
	Frame    int       `json:"frame"`
	Reporter uint32    `json:"reporter"`
	About    uint32    `json:"about"`
	// FractionLost is the fraction lost since the previous report, in
	// 256ths as on the wire; LossPercent is the same as a percentage.
	FractionLost uint8   `json:"fraction_lost"`
	LossPercent  float64 `json:"loss_pct"`
	// CumulativeLost is the 24-bit signed total (negative with duplicates).
	CumulativeLost int32  `json:"cumulative_lost"`
	HighestSeq     uint32 `json:"highest_seq"`
	// Jitter is in timestamp units; JitterMs converts it with the clock
	// rate of the stream About when that stream is tracked, else is 0.
	Jitter   uint32  `json:"jitter"`
	JitterMs float64 `json:"jitter_ms,omitempty"`
}

// RTCPSource is the RTCP sent by one SSRC.
type RTCPSource struct {
	SSRC       uint32         `json:"ssrc"`
	Src        netip.AddrPort `json:"src"`
	Dst        netip.AddrPort `json:"dst"`
	First      time.Time      `json:"first"`
	Last       time.Time      `json:"last"`
	FirstFrame int            `json:"first_frame"`
	// Packets counts compound RTCP datagrams, SenderReports and
	// ReceiverReports the SR and RR packets in them.
	Packets         int         `json:"packets"`
	SenderReports   int         `json:"sender_reports"`
	ReceiverReports int         `json:"receiver_reports"`
	LastSR          *SenderInfo `json:"last_sr,omitempty"`
	// Reports holds the last report block about each SSRC this source
	// reported on, in order of the first report.
	Reports []Reception `json:"reports,omitempty"`
}

// maxReportedSSRCs bounds the report blocks kept per RTCP source; a
// conference mixer could report on many, a call's endpoint on one.
const maxReportedSSRCs = 16

// rtcpDatagram accounts a compound RTCP packet and reports whether it was
// one. The sender is the SSRC in the first packet's header (offset 4 in
// every RTCP packet type RFC 3550 and its extensions define).
func (t *Tracker) rtcpDatagram(ts time.Time, frame int, src, dst netip.AddrPort, payload []byte) bool {
	pkts, err := rtcp.Unmarshal(payload)
	if err != nil || len(payload) < 8 {
		return false
	}
	ssrc := binary.BigEndian.Uint32(payload[4:8])
	s := t.rtcp[ssrc]
	if s == nil {
		if len(t.rtcp) >= t.limits.RTCPSources {
			return true
		}
		s = &RTCPSource{SSRC: ssrc, Src: src, Dst: dst, First: ts, FirstFrame: frame}
		t.rtcp[ssrc] = s
	}
	s.Packets++
	s.Last = ts
	for _, p := range pkts {
		switch p := p.(type) {
		case *rtcp.SenderReport:
			s.SenderReports++
			if p.SSRC == ssrc {
				s.LastSR = &SenderInfo{Time: ts, Frame: frame, NTPTime: ntpTime(p.NTPTime),
					RTPTime: p.RTPTime, PacketCount: p.PacketCount, OctetCount: p.OctetCount}
			}
			report(s, ts, frame, p.SSRC, p.Reports)
		case *rtcp.ReceiverReport:
			s.ReceiverReports++
			report(s, ts, frame, p.SSRC, p.Reports)
		}
	}
	return true
}

func report(s *RTCPSource, ts time.Time, frame int, reporter uint32, blocks []rtcp.ReceptionReport) {
	for _, b := range blocks {
		r := Reception{Time: ts, Frame: frame, Reporter: reporter, About: b.SSRC,
			FractionLost: b.FractionLost, LossPercent: float64(b.FractionLost) * 100 / 256,
			CumulativeLost: signed24(b.TotalLost), HighestSeq: b.LastSequenceNumber, Jitter: b.Jitter}
		i := slices.IndexFunc(s.Reports, func(x Reception) bool { return x.About == b.SSRC })
		switch {
		case i >= 0:
			s.Reports[i] = r
		case len(s.Reports) < maxReportedSSRCs:
			s.Reports = append(s.Reports, r)
		}
	}
}

// signed24 sign-extends RFC 3550's 24-bit cumulative number of packets lost.
func signed24(v uint32) int32 { return int32(v<<8) >> 8 }

// ntpEpochOffset is the seconds from the NTP epoch (1900) to the Unix
// epoch (1970).
const ntpEpochOffset = 2208988800

func ntpTime(v uint64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	sec, frac := int64(v>>32)-ntpEpochOffset, v&0xffffffff
	return time.Unix(sec, int64(frac*1e9>>32)).UTC()
}

// latestReports indexes, by the SSRC reported on, the most recent report
// block from any RTCP source.
func (t *Tracker) latestReports() map[uint32]*Reception {
	latest := make(map[uint32]*Reception)
	for _, src := range t.rtcp {
		for i := range src.Reports {
			r := &src.Reports[i]
			if l := latest[r.About]; l == nil || r.Frame > l.Frame {
				latest[r.About] = r
			}
		}
	}
	return latest
}

// attachRTCP gives a stream the RTCP its SSRC sent and the last report
// block about it.
func (t *Tracker) attachRTCP(out *Stream, latest map[uint32]*Reception) {
	if s := t.rtcp[out.SSRC]; s != nil {
		out.RTCPPackets = s.Packets
		if s.LastSR != nil {
			sr := *s.LastSR
			out.SenderReport = &sr
		}
	}
	if last := latest[out.SSRC]; last != nil {
		r := *last
		if out.JitterClockRate > 0 {
			r.JitterMs = float64(r.Jitter) * 1000 / float64(out.JitterClockRate)
		}
		out.Reported = &r
	}
}

// RTCP returns the RTCP senders ordered by first packet, their report
// blocks' jitter converted to milliseconds where the stream reported on is
// tracked.
func (t *Tracker) RTCP() []RTCPSource {
	clocks := make(map[uint32]uint32, len(t.streams))
	for _, s := range t.streams {
		if s.jitterClock > 0 {
			clocks[s.ssrc] = s.jitterClock
		}
	}
	out := make([]RTCPSource, 0, len(t.rtcp))
	for _, s := range t.rtcp {
		c := *s
		if c.LastSR != nil {
			sr := *c.LastSR
			c.LastSR = &sr
		}
		c.Reports = slices.Clone(c.Reports)
		for i := range c.Reports {
			if clock := clocks[c.Reports[i].About]; clock > 0 {
				c.Reports[i].JitterMs = float64(c.Reports[i].Jitter) * 1000 / float64(clock)
			}
		}
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b RTCPSource) int {
		return cmp.Or(a.First.Compare(b.First), cmp.Compare(a.FirstFrame, b.FirstFrame), cmp.Compare(a.SSRC, b.SSRC))
	})
	return out
}
