package sipsum

import (
	"strconv"
	"time"
)

// appendClock prints a capture timestamp as the pcaps text output does: UTC time
// of day to the microsecond.
func appendClock(dst []byte, t time.Time) []byte { return t.UTC().AppendFormat(dst, "15:04:05.000000") }

func appendSeconds(dst []byte, ms float64) []byte {
	return append(strconv.AppendFloat(dst, ms/1000, 'f', 3, 64), " s"...)
}

func appendCount(dst []byte, n int, noun string) []byte {
	dst = strconv.AppendInt(dst, int64(n), 10)
	dst = append(dst, ' ')
	dst = append(dst, noun...)
	if n != 1 {
		dst = append(dst, 's')
	}
	return dst
}

func appendParty(dst []byte, p Party) []byte {
	dst = append(dst, p.URI...)
	if p.Tag != "" {
		dst = append(dst, " (tag "...)
		dst = append(dst, p.Tag...)
		dst = append(dst, ')')
	}
	return dst
}

// AppendMedia appends a media description on one line: "audio
// 10.0.0.1:20000 RTP/AVP PCMU/8000 telephone-event/8000 sendrecv".
func (m Media) AppendMedia(dst []byte) []byte {
	dst = append(dst, m.Type...)
	dst = append(dst, ' ')
	dst = append(dst, m.Addr...)
	dst = append(dst, ':')
	dst = strconv.AppendInt(dst, int64(m.Port), 10)
	dst = append(dst, ' ')
	dst = append(dst, m.Proto...)
	for _, p := range m.Payloads {
		dst = append(dst, ' ')
		if p.Name != "" {
			dst = append(dst, p.Codec.String()...)
		} else {
			dst = append(dst, "PT "...)
			dst = strconv.AppendInt(dst, int64(p.Type), 10)
		}
	}
	dst = append(dst, ' ')
	return append(dst, m.Direction...)
}

// AppendText appends a compact multi-line description of the dialog, each
// line ending in a newline, the first unindented and the rest indented by
// two spaces: the outcome, the parties, the times, the media offered and
// answered, the ladder and the notes.
//
//	SIP dialog call-1@10.0.0.1: INVITE answered, 7 messages, 0 retransmissions
//	  caller sip:1001@10.0.0.1 (tag c-1) → callee sip:8005550100@10.0.0.2 (tag g-1), dialled sip:8005550100@10.0.0.2
//	  22:13:20.000000-22:13:51.600000, ringing after 0.100 s, answered after 1.500 s, talk 30.000 s, hung up by callee, cause Q.850 16 Normal call clearing
//	  offer  by caller in INVITE: audio 10.0.0.1:20000 RTP/AVP PCMU/8000 telephone-event/8000 sendrecv
//	  answer by callee in 200 OK (INVITE): audio 10.0.0.2:30000 RTP/AVP PCMU/8000 telephone-event/8000 sendrecv
//	  22:13:20.000000 frame 1     10.0.0.1:5060 → 10.0.0.2:5060  INVITE sip:8005550100@10.0.0.2
//	  22:13:20.020000 frame 2     10.0.0.2:5060 → 10.0.0.1:5060  100 Trying
//	  …
//	  note: no ACK for 200 OK (INVITE CSeq 1)
func (d Dialog) AppendText(dst []byte) []byte {
	dst = append(dst, "SIP dialog "...)
	dst = append(dst, d.CallID...)
	dst = append(dst, ": "...)
	if d.Method != "" {
		dst = append(dst, d.Method...)
		dst = append(dst, ' ')
	}
	dst = append(dst, d.Outcome...)
	if d.Outcome == Rejected || d.Outcome == Cancelled {
		dst = append(dst, ' ')
		dst = strconv.AppendInt(dst, int64(d.FinalStatus), 10)
		if d.FinalText != "" {
			dst = append(dst, ' ')
			dst = append(dst, d.FinalText...)
		}
	}
	dst = append(dst, ", "...)
	dst = appendCount(dst, d.Messages, "message")
	dst = append(dst, ", "...)
	dst = appendCount(dst, d.Retransmissions, "retransmission")

	if d.Caller.URI != "" || d.Callee.URI != "" {
		dst = append(dst, "\n  caller "...)
		dst = appendParty(dst, d.Caller)
		dst = append(dst, " → callee "...)
		dst = appendParty(dst, d.Callee)
		if d.RequestURI != "" {
			dst = append(dst, ", dialled "...)
			dst = append(dst, d.RequestURI...)
		}
	}

	dst = append(dst, "\n  "...)
	dst = appendClock(dst, d.First)
	dst = append(dst, '-')
	dst = appendClock(dst, d.Last)
	if !d.Ringing.IsZero() && !d.Invited.IsZero() {
		dst = append(dst, ", ringing after "...)
		dst = appendSeconds(dst, d.RingingAfterMs)
	}
	if !d.Answered.IsZero() && !d.Invited.IsZero() {
		dst = append(dst, ", answered after "...)
		dst = appendSeconds(dst, d.AnsweredAfterMs)
	}
	switch {
	case !d.Answered.IsZero() && !d.Ended.IsZero():
		dst = append(dst, ", talk "...)
		dst = appendSeconds(dst, d.TalkMs)
	case d.Outcome == Answered && d.Ended.IsZero():
		dst = append(dst, ", no BYE: up at the end of the capture"...)
	}
	if d.HungUpBy != "" {
		dst = append(dst, ", hung up by "...)
		dst = append(dst, d.HungUpBy...)
	}
	if d.Cause != nil {
		dst = append(dst, ", cause "...)
		dst = append(dst, d.Cause.String()...)
	}
	dst = append(dst, '\n')

	for _, x := range d.Media {
		dst = append(dst, "  "...)
		dst = append(dst, x.Role...)
		if x.Role == "offer" {
			dst = append(dst, ' ')
		}
		if x.Side != "" {
			dst = append(dst, " by "...)
			dst = append(dst, x.Side...)
		}
		dst = append(dst, " in "...)
		dst = append(dst, x.Message...)
		if x.Hold {
			dst = append(dst, " (hold)"...)
		}
		dst = append(dst, ':')
		for i, m := range x.Media {
			if i > 0 {
				dst = append(dst, ';')
			}
			dst = append(dst, ' ')
			dst = m.AppendMedia(dst)
		}
		dst = append(dst, '\n')
	}

	for _, s := range d.Ladder {
		dst = append(dst, "  "...)
		dst = appendClock(dst, s.Time)
		dst = append(dst, " frame "...)
		n := len(dst)
		dst = strconv.AppendInt(dst, int64(s.Frame), 10)
		for len(dst)-n < 5 {
			dst = append(dst, ' ')
		}
		dst = append(dst, ' ')
		dst = s.Src.AppendTo(dst)
		dst = append(dst, " → "...)
		dst = s.Dst.AppendTo(dst)
		dst = append(dst, "  "...)
		dst = append(dst, s.Line...)
		if s.Retransmission {
			dst = append(dst, " (retransmission)"...)
		}
		dst = append(dst, '\n')
	}
	if d.LadderDropped > 0 {
		dst = append(dst, "  … "...)
		dst = appendCount(dst, d.LadderDropped, "more message")
		dst = append(dst, " not listed\n"...)
	}
	for _, n := range d.Notes {
		dst = append(dst, "  note: "...)
		dst = append(dst, n...)
		dst = append(dst, '\n')
	}
	return dst
}
