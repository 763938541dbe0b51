package rtpstat

import (
	"cmp"
	"net/netip"
	"slices"
	"time"

	"github.com/pion/rtp"
)

// Kind says what Datagram made of a UDP payload.
type Kind uint8

// The kinds of datagram.
const (
	// NotRTP: neither RTP nor RTCP, or RTP-shaped but not yet (or never)
	// part of a qualified stream; the caller may try other decoders.
	NotRTP Kind = iota
	// RTP: counted in a stream (or, beyond Limits.Streams, in Stats.Untracked).
	RTP
	// RTCP: a compound RTCP packet, counted per sender SSRC.
	RTCP
)

// String names the kind for logs and text output.
func (k Kind) String() string {
	switch k {
	case RTP:
		return "RTP"
	case RTCP:
		return "RTCP"
	}
	return "not RTP"
}

// Limits bounds a Tracker's memory whatever the capture holds.
type Limits struct {
	// Streams is the number of RTP streams tracked. Once reached, a
	// datagram that would start a new stream (announced or not) returns
	// NotRTP and is counted in Stats.Untracked; tracked streams carry on.
	Streams int
	// Candidates is the number of flows waiting for their third consistent
	// packet. When the table is full it is emptied (Stats.CandidateResets):
	// a real stream qualifies again within three packets and loses only
	// the packets it had gathered; random UDP gathers nothing.
	Candidates int
	// Events is the number of DTMF events kept per stream; later ones are
	// counted in Stream.EventsDropped.
	Events int
	// RTCPSources is the number of RTCP sender SSRCs tracked; RTCP from
	// further SSRCs still returns RTCP and is counted in Stats.RTCP only.
	RTCPSources int
}

// DefaultLimits suits a capture of a busy contact centre site: about 10 000
// concurrent two-way calls' worth of streams, a few MB of state.
var DefaultLimits = Limits{Streams: 20000, Candidates: 4096, Events: 1000, RTCPSources: 20000}

// Stats counts what the tracker did with the datagrams it was given.
type Stats struct {
	Datagrams int `json:"datagrams"`
	// RTP counts datagrams in reported streams (a stream's first two
	// packets included once it qualified).
	RTP  int `json:"rtp"`
	RTCP int `json:"rtcp"`
	// Rejected counts datagrams that are not RTP or RTCP, including the
	// packets of flows that never qualified as a stream.
	Rejected int `json:"rejected"`
	// Untracked counts RTP datagrams beyond Limits.Streams.
	Untracked int `json:"untracked,omitempty"`
	// CandidateResets counts how often the table of flows waiting to
	// qualify was full and emptied.
	CandidateResets int `json:"candidate_resets,omitempty"`
}

type flowKey struct{ src, dst netip.AddrPort }

type streamKey struct {
	flow flowKey
	ssrc uint32
}

// Tracker accumulates RTP streams and RTCP reports from datagrams given in
// capture order. It is not safe for concurrent use.
type Tracker struct {
	limits  Limits
	hdr     rtp.Header // reused so that Unmarshal does not allocate
	streams map[streamKey]*stream
	cands   map[flowKey]*stream
	expect  map[netip.AddrPort]map[uint8]Codec
	rtcp    map[uint32]*RTCPSource
	stats   Stats
	// discarded counts packets of candidates replaced or reset before they
	// qualified; Stats adds the packets of candidates still waiting.
	discarded int
}

// NewTracker returns a Tracker with DefaultLimits.
func NewTracker() *Tracker { return NewTrackerLimits(DefaultLimits) }

// NewTrackerLimits returns a Tracker with the given limits; a limit of 0 or
// less takes the default's value.
func NewTrackerLimits(l Limits) *Tracker {
	def := func(v, d int) int {
		if v <= 0 {
			return d
		}
		return v
	}
	l.Streams = def(l.Streams, DefaultLimits.Streams)
	l.Candidates = def(l.Candidates, DefaultLimits.Candidates)
	l.Events = def(l.Events, DefaultLimits.Events)
	l.RTCPSources = def(l.RTCPSources, DefaultLimits.RTCPSources)
	return &Tracker{
		limits:  l,
		streams: make(map[streamKey]*stream),
		cands:   make(map[flowKey]*stream),
		expect:  make(map[netip.AddrPort]map[uint8]Codec),
		rtcp:    make(map[uint32]*RTCPSource),
	}
}

// Expect announces media that SDP says will arrive at dst with the given
// payload types (an m= line's port and formats with their rtpmaps), so that
// RTP to dst is accepted from its first packet and dynamic payload types
// are named and clocked. Later announcements for the same dst add to and
// override earlier ones. Codecs with an empty Name fall back to the static
// table. The map is copied.
func (t *Tracker) Expect(dst netip.AddrPort, payloads map[uint8]Codec) {
	if !dst.IsValid() || dst.Port() == 0 {
		return // port 0 declines the stream (RFC 3264 section 6)
	}
	m := t.expect[dst]
	if m == nil {
		if len(t.expect) >= t.limits.Streams {
			return // an SDP flood must not grow state; RTP still qualifies by content
		}
		m = make(map[uint8]Codec, len(payloads))
		t.expect[dst] = m
	}
	for pt, c := range payloads {
		if pt < 128 {
			m[pt] = c
		}
	}
}

// codecFor names payload type pt of RTP sent to dst: from SDP announced
// for dst, else the static table, else telephone-event for 101 when the
// payload has an RFC 4733 shape.
func (t *Tracker) codecFor(dst netip.AddrPort, pt uint8, payload []byte) (c Codec, event bool) {
	if m := t.expect[dst]; m != nil {
		if c, ok := m[pt]; ok {
			if c.Name == "" {
				c, _ = StaticPayload(pt)
			}
			return c, c.Name == TelephoneEvent
		}
	}
	if c, ok := StaticPayload(pt); ok {
		return c, false
	}
	if pt == defaultEventPT && looksLikeEvent(payload) {
		return Codec{TelephoneEvent, 8000}, true
	}
	return Codec{}, false
}

// Datagram examines one UDP payload (frame is the capture's frame number,
// for reference in the report) and says whether it was RTP, RTCP or
// neither. The payload is not retained. For a packet of a stream already
// tracked it does not allocate.
func (t *Tracker) Datagram(ts time.Time, frame int, src, dst netip.AddrPort, payload []byte) Kind {
	t.stats.Datagrams++
	if len(payload) < 12 || payload[0]>>6 != 2 {
		t.stats.Rejected++
		return NotRTP
	}
	if b := payload[1]; b >= 192 && b <= 223 {
		// RFC 5761 section 4: RTCP packet types 192–223 would read as RTP
		// payload types 64–95 with the marker set.
		if t.rtcpDatagram(ts, frame, src, dst, payload) {
			t.stats.RTCP++
			return RTCP
		}
		t.stats.Rejected++
		return NotRTP
	}
	pt := payload[1] & 0x7f
	if pt >= 72 && pt <= 76 {
		t.stats.Rejected++
		return NotRTP
	}
	h := &t.hdr
	n, err := h.Unmarshal(payload)
	if err != nil {
		t.stats.Rejected++
		return NotRTP
	}
	end := len(payload)
	if h.Padding {
		// RFC 3550 section 5.1: the last octet counts the padding,
		// itself included.
		pad := int(payload[end-1])
		if pad == 0 || pad > end-n {
			t.stats.Rejected++
			return NotRTP
		}
		end -= pad
	}
	body := payload[n:end]

	key := streamKey{flowKey{src, dst}, h.SSRC}
	if s := t.streams[key]; s != nil {
		s.add(t, ts, frame, h, len(payload), body)
		t.stats.RTP++
		return RTP
	}
	if len(t.streams) >= t.limits.Streams {
		t.stats.Untracked++
		return NotRTP
	}
	if _, announced := t.expect[dst]; announced {
		s := t.cands[key.flow]
		if s != nil && s.ssrc == key.ssrc {
			// SDP came while the flow was qualifying: keep its packets.
			delete(t.cands, key.flow)
			s.announced = true
			t.stats.RTP += s.packets
		} else {
			s = t.newStream(key, true)
		}
		s.add(t, ts, frame, h, len(payload), body)
		t.streams[key] = s
		t.stats.RTP++
		return RTP
	}
	return t.candidate(key, ts, frame, h, len(payload), body)
}

// qualifyingPackets is how many consistent packets a flow not announced in
// SDP must carry before it is reported as an RTP stream.
const qualifyingPackets = 3

// candidate handles an RTP-shaped packet on a flow not announced in SDP.
func (t *Tracker) candidate(key streamKey, ts time.Time, frame int, h *rtp.Header, size int, body []byte) Kind {
	c := t.cands[key.flow]
	if c != nil && c.ssrc == key.ssrc {
		if d := int16(h.SequenceNumber - uint16(c.max)); d >= 1 && d <= maxMisorder {
			c.add(t, ts, frame, h, size, body)
			if c.packets < qualifyingPackets {
				return NotRTP
			}
			delete(t.cands, key.flow)
			t.streams[key] = c
			t.stats.RTP += c.packets
			return RTP
		}
	}
	if c != nil {
		t.discarded += c.packets
		delete(t.cands, key.flow)
	}
	pt := h.PayloadType
	if pt > 34 && pt < 96 {
		// Unassigned in RFC 3551 and never announced here: not worth a
		// candidate.
		t.stats.Rejected++
		return NotRTP
	}
	if len(t.cands) >= t.limits.Candidates {
		for _, old := range t.cands {
			t.discarded += old.packets
		}
		clear(t.cands)
		t.stats.CandidateResets++
	}
	c = t.newStream(key, false)
	c.add(t, ts, frame, h, size, body)
	t.cands[key.flow] = c
	return NotRTP
}

// Stats returns the datagram counts so far.
func (t *Tracker) Stats() Stats {
	s := t.stats
	s.Rejected += t.discarded
	for _, c := range t.cands {
		s.Rejected += c.packets
	}
	return s
}

// Streams returns the qualified RTP streams ordered by first packet (time,
// then frame, then addresses and SSRC), with RTCP reports about each
// attached. It may be called at any point; the tracker carries on.
func (t *Tracker) Streams() []Stream {
	out := make([]Stream, 0, len(t.streams))
	latest := t.latestReports()
	for _, s := range t.streams {
		out = append(out, s.summary(t, latest))
	}
	slices.SortFunc(out, func(a, b Stream) int {
		if c := a.First.Compare(b.First); c != 0 {
			return c
		}
		return cmp.Or(cmp.Compare(a.FirstFrame, b.FirstFrame),
			a.Src.Compare(b.Src), a.Dst.Compare(b.Dst), cmp.Compare(a.SSRC, b.SSRC))
	})
	return out
}
