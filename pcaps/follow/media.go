package follow

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ipcclab/ipcclab/pcaps"
	"github.com/ipcclab/ipcclab/pcaps/rtpstat"
	"github.com/ipcclab/ipcclab/pcaps/sipsum"
)

// captureDialogs and captureStreams are the capture's SIP dialogs and RTP
// streams.
func captureDialogs(c *pcaps.Capture) []sipsum.Dialog  { return c.Dialogs }
func captureStreams(c *pcaps.Capture) []rtpstat.Stream { return c.RTP }

// minSuffix: two numbers of different lengths match when the shorter has
// at least this many digits and ends the longer (a national number and
// its E.164 form, "8005550100" and "18005550100").
const minSuffix = 7

// sameNumber compares two numbers' digits.
func sameNumber(a, b string) bool {
	if a == b {
		return true
	}
	if len(a) > len(b) {
		a, b = b, a
	}
	return len(a) >= minSuffix && strings.HasSuffix(b, a)
}

// uriUser returns the user part of a SIP or tel URI: "sip:8005550100@gw;user=phone"
// → "8005550100".
func uriUser(uri string) string {
	u := strings.TrimSpace(uri)
	u = strings.TrimPrefix(strings.TrimSuffix(u, ">"), "<")
	for _, scheme := range []string{"sips:", "sip:", "tel:"} {
		if len(u) >= len(scheme) && strings.EqualFold(u[:len(scheme)], scheme) {
			u = u[len(scheme):]
			break
		}
	}
	if i := strings.IndexAny(u, "@;?"); i >= 0 {
		u = u[:i]
	}
	return u
}

// dialogState is a dialog being joined.
type dialogState struct {
	d    *sipsum.Dialog
	out  *Dialog
	call *Call
	// endpoints are the media addresses each side announced, with the
	// exchange that announced them.
	endpoints []announced
	streams   []*rtpstat.Stream
}

type announced struct {
	ep        netip.AddrPort
	side      string
	direction string
	at        time.Time
	frame     int
	message   string
}

// joinWith joins dialogs to calls by their numbers and time, and streams
// to dialogs by their SDP addresses (doc.go, "Joins with SIP and RTP").
func (f *follower) joinWith(dialogs []sipsum.Dialog, streams []rtpstat.Stream) {
	calls := make([]*Call, 0, len(f.calls))
	for _, c := range f.calls {
		calls = append(calls, c)
	}
	sort.Slice(calls, func(i, j int) bool {
		if !calls[i].first.Equal(calls[j].first) {
			return calls[i].first.Before(calls[j].first)
		}
		if calls[i].Key.PeripheralID != calls[j].Key.PeripheralID {
			return calls[i].Key.PeripheralID < calls[j].Key.PeripheralID
		}
		return calls[i].Key.CallID < calls[j].Key.CallID
	})
	var ds []*dialogState
	for i := range dialogs {
		d := &dialogs[i]
		st := &dialogState{d: d, out: &Dialog{CallID: d.CallID, Caller: d.Caller.URI, Callee: d.Callee.URI, Outcome: outcome(d)}}
		for _, mx := range d.Media {
			for _, m := range mx.Media {
				if ep, ok := m.Endpoint(); ok && m.Type == "audio" {
					st.endpoints = append(st.endpoints, announced{ep: ep, side: mx.Side, direction: m.Direction,
						at: mx.Time, frame: mx.Frame, message: mx.Message})
				}
			}
		}
		for _, s := range d.Ladder {
			what := fmt.Sprintf("%s %s → %s", s.Line, s.Src, s.Dst)
			if s.Retransmission {
				what += " (retransmission)"
			}
			st.out.Ladder = append(st.out.Ladder, f.line(s.Time, s.Frame, "SIP", what))
		}
		// Only calls join calls: REGISTER, OPTIONS and SUBSCRIBE dialogs
		// carry the same numbers but no call. A dialog whose opening
		// request the capture missed (Method "") may be a call.
		if d.Method == "INVITE" || d.Method == "" {
			st.call, st.out.Join = f.joinDialog(d, calls)
		}
		ds = append(ds, st)
	}
	for i := range streams {
		s := &streams[i]
		out := &Stream{Name: fmt.Sprintf("%s → %s SSRC %#08x", s.Src, s.Dst, s.SSRC), Summary: streamSummary(s)}
		out.Line = f.line(s.First, s.FirstFrame, "RTP", fmt.Sprintf("%s → %s %s", s.Src, s.Dst, out.Summary))
		st, how := joinStream(s, ds)
		if st == nil {
			f.rep.UnjoinedStreams = append(f.rep.UnjoinedStreams, out)
			continue
		}
		out.Join = how
		st.streams = append(st.streams, s)
		st.out.Streams = append(st.out.Streams, out)
		st.out.Ladder = append(st.out.Ladder, out.Line)
	}
	for _, st := range ds {
		f.oneWay(st, streams)
		sortLines(st.out.Ladder)
		if st.call == nil {
			f.rep.UnjoinedDialogs = append(f.rep.UnjoinedDialogs, st.out)
		} else {
			st.call.Dialogs = append(st.call.Dialogs, st.out)
			st.call.Ladder = append(st.call.Ladder, st.out.Ladder...)
		}
	}
}

func outcome(d *sipsum.Dialog) string {
	s := string(d.Outcome)
	if d.Outcome == sipsum.Rejected && d.FinalStatus != 0 {
		s += " " + strconv.Itoa(d.FinalStatus)
		if d.FinalText != "" {
			s += " " + d.FinalText
		}
	}
	if d.HungUpBy != "" {
		s += ", hung up by the " + d.HungUpBy
	}
	return s
}

func streamSummary(s *rtpstat.Stream) string {
	var pts []string
	for _, p := range s.Payloads {
		pts = append(pts, p.Label())
	}
	sum := fmt.Sprintf("SSRC %#08x %s %d pkts %d lost", s.SSRC, strings.Join(pts, "+"), s.Packets, s.Lost)
	if s.MaxJitterMs > 0 {
		sum += fmt.Sprintf(", max jitter %.3f ms", s.MaxJitterMs)
	}
	if len(s.Events) > 0 {
		var digits []string
		for _, e := range s.Events {
			digits = append(digits, e.Digit)
		}
		sum += ", DTMF " + strings.Join(digits, " ")
	}
	return sum
}

// joinDialog finds the call a dialog belongs to and says how.
func (f *follower) joinDialog(d *sipsum.Dialog, calls []*Call) (*Call, string) {
	type number struct{ label, user, digits string }
	var nums []number
	for _, n := range []struct{ label, uri string }{
		{"From user", d.Caller.URI}, {"request-URI user", d.RequestURI}, {"To user", d.Callee.URI}} {
		user := uriUser(n.uri)
		if dg := digits(user); dg != "" {
			nums = append(nums, number{n.label, user, dg})
		}
	}
	type candidate struct {
		c       *Call
		matches []string
		overlap time.Duration
	}
	var cands []candidate
	w := f.o.JoinWindow
	for _, c := range calls {
		from, to := c.first.Add(-w), c.last.Add(w)
		lo, hi := d.First, d.Last
		if from.After(lo) {
			lo = from
		}
		if to.Before(hi) {
			hi = to
		}
		if hi.Before(lo) {
			continue
		}
		var matches []string
		for _, n := range nums {
			for _, cd := range sortedKeys(c.numbers) {
				if sameNumber(n.digits, cd) {
					matches = append(matches, fmt.Sprintf("%s %s = %s", n.label, n.user, c.numbers[cd]))
					break
				}
			}
		}
		if len(matches) > 0 {
			cands = append(cands, candidate{c, matches, hi.Sub(lo)})
		}
	}
	if len(cands) == 0 {
		return nil, ""
	}
	sort.SliceStable(cands, func(i, j int) bool {
		if len(cands[i].matches) != len(cands[j].matches) {
			return len(cands[i].matches) > len(cands[j].matches)
		}
		return cands[i].overlap > cands[j].overlap
	})
	best := cands[0]
	how := fmt.Sprintf("%s; the dialog (%s–%s) overlaps the call's span widened by ±%v",
		strings.Join(best.matches, ", "), f.rel(d.First), f.rel(d.Last), w)
	if len(cands) > 1 {
		var others []string
		for _, o := range cands[1:] {
			others = append(others, f.callLabel(o.c.Key))
		}
		how += "; also fits " + strings.Join(others, ", ")
	}
	return best.c, how
}

// joinStream finds the dialog whose SDP announced the stream's
// addresses. A dialog that announced both the destination and the source
// (offer and answer) beats one that announced only the destination, which
// beats one that announced only the source (symmetric RTP). Among equals,
// an announcement before the stream's first packet beats one after it,
// and then the latest wins — a port reused by a later call belongs to the
// later call; a B2BUA passing media through announces the same addresses
// in both its dialogs, and the later (outer) one is taken for both
// directions.
func joinStream(s *rtpstat.Stream, ds []*dialogState) (*dialogState, string) {
	type match struct {
		st       *dialogState
		dst, src *announced
		score    int
		key      *announced // the latest of dst and src
	}
	// better reports whether announcement a is preferred to b for s.
	better := func(a, b *announced) bool {
		aBefore, bBefore := !a.at.After(s.First), !b.at.After(s.First)
		switch {
		case aBefore != bBefore:
			return aBefore
		case !a.at.Equal(b.at):
			return a.at.After(b.at) == aBefore
		}
		return a.frame > b.frame == aBefore
	}
	var best *match
	for _, st := range ds {
		m := match{st: st}
		for i := range st.endpoints {
			a := &st.endpoints[i]
			if a.ep == s.Dst && (m.dst == nil || better(a, m.dst)) {
				m.dst = a
			}
			if a.ep == s.Src && (m.src == nil || better(a, m.src)) {
				m.src = a
			}
		}
		switch {
		case m.dst != nil && m.src != nil:
			m.score, m.key = 3, m.dst
			if better(m.src, m.dst) {
				m.key = m.src
			}
		case m.dst != nil:
			m.score, m.key = 2, m.dst
		case m.src != nil:
			m.score, m.key = 1, m.src
		default:
			continue
		}
		if best == nil || m.score > best.score || m.score == best.score && better(m.key, best.key) {
			mm := m
			best = &mm
		}
	}
	if best == nil {
		return nil, ""
	}
	var parts []string
	for _, e := range []struct {
		what string
		a    *announced
	}{{"destination", best.dst}, {"source", best.src}} {
		if e.a == nil {
			continue
		}
		p := fmt.Sprintf("%s %s announced in the SDP of %s (f%d)", e.what, e.a.ep, e.a.message, e.a.frame)
		if e.a.side != "" {
			p += " by the " + e.a.side
		}
		parts = append(parts, p)
	}
	how := "dialog " + best.st.d.CallID + ": " + strings.Join(parts, ", ")
	if best.score == 1 {
		how += " (symmetric RTP)"
	}
	return best.st, how
}

// oneWay flags an answered dialog whose SDP asked for two-way media and
// whose RTP flowed one way only. Streams are looked for among all the
// capture's streams, not only those joined to the dialog: a B2BUA that
// passes media through announces the same addresses in two dialogs, and
// each direction may have been joined to a different one.
func (f *follower) oneWay(st *dialogState, streams []rtpstat.Stream) {
	d := st.d
	if d.Outcome != sipsum.Answered || len(st.streams) == 0 {
		return
	}
	// The first endpoint each side announced is the call's media; a side
	// that announced sendonly, recvonly or inactive asked for one-way
	// media.
	var caller, callee *announced
	for i := range st.endpoints {
		a := &st.endpoints[i]
		switch {
		case a.side == sipsum.SideCaller && caller == nil:
			caller = a
		case a.side == sipsum.SideCallee && callee == nil:
			callee = a
		}
	}
	if caller == nil || callee == nil || caller.direction != "sendrecv" || callee.direction != "sendrecv" {
		return
	}
	from := d.Answered
	if from.IsZero() {
		from = d.First
	}
	toCaller, toCallee := 0, 0
	for i := range streams {
		s := &streams[i]
		if s.Last.Before(from) || s.First.After(d.Last) {
			continue
		}
		switch s.Dst {
		case caller.ep:
			toCaller += s.Packets
		case callee.ep:
			toCallee += s.Packets
		}
	}
	if (toCaller == 0) == (toCallee == 0) {
		return
	}
	// Media flows toward the side that announced the address.
	flowing, silent, silentEP, otherEP, pkts := "caller → callee", "caller", caller.ep, callee.ep, toCallee
	if toCaller > 0 {
		flowing, silent, silentEP, otherEP, pkts = "callee → caller", "callee", callee.ep, caller.ep, toCaller
	}
	frame := d.FirstFrame
	for _, s := range d.Ladder {
		if s.Time.Equal(d.Answered) && strings.HasPrefix(s.Line, "2") {
			frame = s.Frame
			break
		}
	}
	f.flag(KindOneWayRTP, from, frame, 0, fmt.Sprintf(
		"SIP dialog %s answered with two-way (sendrecv) SDP, but RTP flowed %s only (%d packets); nothing toward the %s at %s",
		d.CallID, flowing, pkts, silent, silentEP))
	st.out.Ladder = append(st.out.Ladder, f.line(from, frame, "RTP",
		fmt.Sprintf("%s → %s no packets: the SDP-negotiated %s direction is silent", otherEP, silentEP, flowingBack(flowing))))
}

// flowingBack names the direction opposite to flowing.
func flowingBack(flowing string) string {
	if flowing == "caller → callee" {
		return "callee → caller"
	}
	return "caller → callee"
}
