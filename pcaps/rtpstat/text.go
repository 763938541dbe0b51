package rtpstat

import (
	"strconv"
	"time"
)

// clock prints a capture timestamp as the pcaps text output does: UTC time
// of day to the microsecond.
func clock(t time.Time) []byte { return t.UTC().AppendFormat(nil, "15:04:05.000000") }

func appendMs(dst []byte, v float64) []byte {
	return append(strconv.AppendFloat(dst, v, 'f', 3, 64), " ms"...)
}

// appendCount appends "1 packet" or "n packets".
func appendCount(dst []byte, n int64, noun string) []byte {
	dst = strconv.AppendInt(dst, n, 10)
	dst = append(dst, ' ')
	dst = append(dst, noun...)
	if n != 1 {
		dst = append(dst, 's')
	}
	return dst
}

func appendSSRC(dst []byte, v uint32) []byte {
	dst = append(dst, "0x"...)
	const hex = "0123456789abcdef"
	for shift := 28; shift >= 0; shift -= 4 {
		dst = append(dst, hex[v>>uint(shift)&0xf])
	}
	return dst
}

// AppendText appends a compact multi-line description of the stream, each
// line ending in a newline, the first unindented and the rest indented by
// two spaces; DTMF and RTCP lines appear when there is something to say:
//
//	RTP 10.0.0.1:20000 → 10.0.0.2:30000 SSRC 0x00000055 (announced): PCMU/8000 ×24, telephone-event/8000 ×8
//	  frames 1-33, 22:13:20.000000-22:13:20.640000 (0.640 s), 32 packets, 4256 bytes, 3 markers
//	  expected 33, lost 1 (3.03%), 0 duplicates, 0 out of order; max delta 40.000 ms; jitter mean 0.000 ms, max 0.000 ms
//	  DTMF 5 at 22:13:20.200000 (frame 11), 80.000 ms, -10 dBm0
//	  DTMF # at 22:13:20.520000 (frame 27), 40.000 ms, -10 dBm0, no end packet
//	  RTCP 1 packet, last SR 10 packets 1600 octets; reported by 0x00000b0b: 0.78% lost, 1 lost in total, jitter 1.000 ms
func (s Stream) AppendText(dst []byte) []byte {
	dst = append(dst, "RTP "...)
	dst = s.Src.AppendTo(dst)
	dst = append(dst, " → "...)
	dst = s.Dst.AppendTo(dst)
	dst = append(dst, " SSRC "...)
	dst = appendSSRC(dst, s.SSRC)
	if s.Announced {
		dst = append(dst, " (announced)"...)
	}
	dst = append(dst, ':')
	for i, p := range s.Payloads {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, ' ')
		if p.Name != "" {
			dst = append(dst, p.Codec.String()...)
		} else {
			dst = append(dst, p.Label()...)
		}
		dst = append(dst, " ×"...)
		dst = strconv.AppendInt(dst, int64(p.Packets), 10)
	}

	dst = append(dst, "\n  frames "...)
	dst = strconv.AppendInt(dst, int64(s.FirstFrame), 10)
	dst = append(dst, '-')
	dst = strconv.AppendInt(dst, int64(s.LastFrame), 10)
	dst = append(dst, ", "...)
	dst = append(dst, clock(s.First)...)
	dst = append(dst, '-')
	dst = append(dst, clock(s.Last)...)
	dst = append(dst, " ("...)
	dst = strconv.AppendFloat(dst, s.Last.Sub(s.First).Seconds(), 'f', 3, 64)
	dst = append(dst, " s), "...)
	dst = appendCount(dst, int64(s.Packets), "packet")
	dst = append(dst, ", "...)
	dst = appendCount(dst, s.Bytes, "byte")
	dst = append(dst, ", "...)
	dst = appendCount(dst, int64(s.Markers), "marker")

	dst = append(dst, "\n  expected "...)
	dst = strconv.AppendInt(dst, s.Expected, 10)
	dst = append(dst, ", lost "...)
	dst = strconv.AppendInt(dst, s.Lost, 10)
	dst = append(dst, " ("...)
	dst = strconv.AppendFloat(dst, s.LossPercent(), 'f', 2, 64)
	dst = append(dst, "%), "...)
	dst = appendCount(dst, int64(s.Duplicates), "duplicate")
	dst = append(dst, ", "...)
	dst = strconv.AppendInt(dst, int64(s.OutOfOrder), 10)
	dst = append(dst, " out of order"...)
	if s.SeqJumps > 0 {
		dst = append(dst, ", "...)
		dst = appendCount(dst, int64(s.SeqJumps), "sequence restart")
	}
	dst = append(dst, "; max delta "...)
	dst = appendMs(dst, s.MaxDeltaMs)
	if s.JitterClockRate > 0 {
		dst = append(dst, "; jitter mean "...)
		dst = appendMs(dst, s.MeanJitterMs)
		dst = append(dst, ", max "...)
		dst = appendMs(dst, s.MaxJitterMs)
	} else {
		dst = append(dst, "; jitter n/a (clock rate unknown)"...)
	}
	dst = append(dst, '\n')

	for _, e := range s.Events {
		dst = append(dst, "  DTMF "...)
		dst = append(dst, e.Digit...)
		dst = append(dst, " at "...)
		dst = append(dst, clock(e.Start)...)
		dst = append(dst, " (frame "...)
		dst = strconv.AppendInt(dst, int64(e.Frame), 10)
		dst = append(dst, "), "...)
		dst = appendMs(dst, e.DurationMs)
		dst = append(dst, ", -"...)
		dst = strconv.AppendInt(dst, int64(e.Volume), 10)
		dst = append(dst, " dBm0"...)
		if !e.Ended {
			dst = append(dst, ", no end packet"...)
		}
		dst = append(dst, '\n')
	}
	if s.EventsDropped > 0 {
		dst = append(dst, "  DTMF: "...)
		dst = appendCount(dst, int64(s.EventsDropped), "more event")
		dst = append(dst, " not kept\n"...)
	}

	if s.RTCPPackets > 0 || s.Reported != nil {
		dst = append(dst, "  RTCP "...)
		dst = appendCount(dst, int64(s.RTCPPackets), "packet")
		if sr := s.SenderReport; sr != nil {
			dst = append(dst, ", last SR "...)
			dst = strconv.AppendUint(dst, uint64(sr.PacketCount), 10)
			dst = append(dst, " packets "...)
			dst = strconv.AppendUint(dst, uint64(sr.OctetCount), 10)
			dst = append(dst, " octets"...)
		}
		if r := s.Reported; r != nil {
			dst = append(dst, "; reported by "...)
			dst = appendSSRC(dst, r.Reporter)
			dst = append(dst, ": "...)
			dst = strconv.AppendFloat(dst, r.LossPercent, 'f', 2, 64)
			dst = append(dst, "% lost, "...)
			dst = strconv.AppendInt(dst, int64(r.CumulativeLost), 10)
			dst = append(dst, " lost in total, jitter "...)
			if r.JitterMs > 0 || s.JitterClockRate > 0 {
				dst = appendMs(dst, r.JitterMs)
			} else {
				dst = strconv.AppendUint(dst, uint64(r.Jitter), 10)
				dst = append(dst, " timestamp units"...)
			}
		}
		dst = append(dst, '\n')
	}
	return dst
}
