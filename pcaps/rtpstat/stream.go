package rtpstat

import (
	"math"
	"net/netip"
	"slices"
	"strconv"
	"time"

	"github.com/pion/rtp"
)

// Stream is the summary of one RTP stream: the packets from one source
// address to one destination address with one SSRC. A change of SSRC on the
// same addresses is a new Stream.
type Stream struct {
	Src  netip.AddrPort `json:"src"`
	Dst  netip.AddrPort `json:"dst"`
	SSRC uint32         `json:"ssrc"`
	// Announced is true when Dst was announced in SDP (Tracker.Expect)
	// before the stream qualified.
	Announced  bool      `json:"announced"`
	First      time.Time `json:"first"`
	Last       time.Time `json:"last"`
	FirstFrame int       `json:"first_frame"`
	LastFrame  int       `json:"last_frame"`
	Packets    int       `json:"packets"`
	// Bytes counts whole RTP packets (UDP payloads), headers included.
	Bytes    int64     `json:"bytes"`
	Payloads []Payload `json:"payloads"`

	// Expected is the number of sequence numbers the stream spanned
	// (RFC 3550 A.3), summed over segments when the sender restarted.
	Expected int64 `json:"expected"`
	// Lost is Expected minus the packets received, duplicates not counted,
	// never below zero.
	Lost       int64 `json:"lost"`
	Duplicates int   `json:"duplicates"`
	// OutOfOrder counts packets that arrived after a higher sequence
	// number (duplicates not included), and stray packets — more than 100
	// behind or 3000 ahead of the highest — that no next packet confirmed
	// as a restart; strays do not count as received (RFC 3550 A.1).
	OutOfOrder int `json:"out_of_order"`
	// SeqJumps counts sender restarts: a jump of more than 3000 ahead or
	// 100 behind that the next packet confirmed by following on.
	SeqJumps int `json:"seq_jumps,omitempty"`

	// MaxDeltaMs is the longest gap between two consecutive packets.
	MaxDeltaMs float64 `json:"max_delta_ms"`
	// JitterClockRate is the clock rate jitter was computed in; 0 when no
	// packet had a payload type of known clock rate, and the jitter
	// figures are then 0. MeanJitterMs averages the estimate after each
	// packet but the first, as Wireshark's RTP stream analysis does.
	JitterClockRate uint32  `json:"jitter_clock_rate"`
	MeanJitterMs    float64 `json:"mean_jitter_ms"`
	MaxJitterMs     float64 `json:"max_jitter_ms"`
	Markers         int     `json:"markers"`

	Events        []Event `json:"events,omitempty"`
	EventsDropped int     `json:"events_dropped,omitempty"`

	// RTCPPackets counts RTCP datagrams whose sender SSRC is this stream's.
	RTCPPackets int `json:"rtcp_packets,omitempty"`
	// SenderReport is this SSRC's last RTCP sender report.
	SenderReport *SenderInfo `json:"sender_report,omitempty"`
	// Reported is the last RTCP reception report block about this SSRC,
	// from whoever received the stream: the far end's view of it.
	Reported *Reception `json:"reported,omitempty"`
}

// LossPercent is Lost as a percentage of Expected.
func (s Stream) LossPercent() float64 {
	if s.Expected <= 0 {
		return 0
	}
	return 100 * float64(s.Lost) / float64(s.Expected)
}

// Payload is one payload type seen in a stream, with the packets that
// carried it.
type Payload struct {
	Type uint8 `json:"type"`
	Codec
	Packets int `json:"packets"`
}

// Label is the payload's name, "PCMU", or "PT 96" when it has none.
func (p Payload) Label() string {
	if p.Name != "" {
		return p.Name
	}
	return "PT " + strconv.Itoa(int(p.Type))
}

// RFC 3550 appendix A.1 thresholds, and the window of recent sequence
// numbers remembered to recognise duplicates: wider than maxMisorder, since
// anything older is a stray anyway.
const (
	maxDropout  = 3000
	maxMisorder = 100
	dupWindow   = 128
)

type ptInfo struct {
	pt      uint8
	event   bool
	codec   Codec
	packets int
}

// stream is a Stream being accumulated.
type stream struct {
	src, dst   netip.AddrPort
	ssrc       uint32
	announced  bool
	first      time.Time
	last       time.Time
	firstFrame int
	lastFrame  int
	packets    int
	bytes      int64
	markers    int
	pts        []ptInfo
	lastPT     int // index in pts of the last packet's payload type

	// Sequence state (RFC 3550 A.1) in extended sequence numbers of the
	// current segment; earlier segments are folded into prior*.
	base, max      int64
	received       int64 // non-duplicate packets in the current segment
	window         [dupWindow / 64]uint64
	badSeq         int64 // seq+1 of a pending jump, or -1
	priorExpected  int64
	priorLost      int64
	duplicates     int
	outOfOrder     int
	seqJumps       int
	maxDelta       time.Duration
	jitterClock    uint32
	jitterArrival  time.Time
	jitterTS       uint32
	haveTransit    bool
	jitter, maxJit float64 // in timestamp units
	jitterSum      float64
	jitterN        int

	events        []Event
	eventTS       uint32 // RTP timestamp of events[len-1], the event in progress
	eventClock    uint32
	eventsDropped int
	droppedTS     uint32 // RTP timestamp of the last event not kept
}

func (t *Tracker) newStream(k streamKey, announced bool) *stream {
	return &stream{src: k.flow.src, dst: k.flow.dst, ssrc: k.ssrc, announced: announced, badSeq: -1, lastPT: -1}
}

// add accounts one RTP packet (size bytes, body its payload after header
// and padding). It allocates only when the stream meets a payload type or
// a DTMF event for the first time.
func (s *stream) add(t *Tracker, ts time.Time, frame int, h *rtp.Header, size int, body []byte) {
	pi := s.payloadType(t, h.PayloadType, body)
	p := &s.pts[pi]
	p.packets++
	if s.packets == 0 {
		s.first, s.firstFrame = ts, frame
		s.base, s.max = int64(h.SequenceNumber), int64(h.SequenceNumber)
		s.received = 1
		s.mark(s.max)
	} else {
		if d := ts.Sub(s.last); d > s.maxDelta {
			s.maxDelta = d
		}
		s.sequence(h.SequenceNumber)
	}
	s.packets++
	s.bytes += int64(size)
	s.last, s.lastFrame = ts, frame
	if h.Marker {
		s.markers++
	}
	if p.event {
		s.event(t, ts, frame, h.Timestamp, p.codec.ClockRate, body)
		return
	}
	s.jitterSample(ts, h.Timestamp, p.codec.ClockRate)
}

// payloadType returns the index in s.pts of pt, classifying it on first
// sight.
func (s *stream) payloadType(t *Tracker, pt uint8, body []byte) int {
	if s.lastPT >= 0 && s.pts[s.lastPT].pt == pt {
		return s.lastPT
	}
	for i := range s.pts {
		if s.pts[i].pt == pt {
			s.lastPT = i
			return i
		}
	}
	c, ev := t.codecFor(s.dst, pt, body)
	s.pts = append(s.pts, ptInfo{pt: pt, event: ev, codec: c})
	s.lastPT = len(s.pts) - 1
	return s.lastPT
}

// sequence places a packet's sequence number (RFC 3550 A.1, with the
// 16-bit number extended by the signed distance from the highest so far).
func (s *stream) sequence(seq uint16) {
	d := int64(int16(seq - uint16(s.max)))
	ext := s.max + d
	switch {
	case d > 0 && d <= maxDropout:
		s.badSeq = -1
		s.advance(ext)
		s.received++
	case d <= 0 && d >= -maxMisorder:
		s.badSeq = -1
		if s.max-ext < dupWindow {
			if s.marked(ext) {
				s.duplicates++
				return
			}
			s.mark(ext)
		}
		s.outOfOrder++
		s.received++
		if ext < s.base {
			s.base = ext
		}
	default:
		// A jump: a sender restart if the next packet follows it.
		if s.badSeq == int64(seq) {
			s.priorExpected += s.max - s.base + 1
			s.priorLost += max(0, s.max-s.base+1-s.received)
			s.seqJumps++
			s.outOfOrder-- // the pending packet was counted stray; it opens the segment
			// The new segment numbers from the next cycle so that the
			// pending packet's number stays non-negative when seq is 0.
			prev := int64(seq) + 1<<16 - 1
			s.base, s.max, s.received = prev, prev, 1
			s.window = [dupWindow / 64]uint64{}
			s.mark(prev)
			s.advance(prev + 1)
			s.received++
			s.badSeq = -1
			return
		}
		s.badSeq = int64(seq + 1)
		s.outOfOrder++
	}
}

// advance moves the highest sequence number to ext, clearing the window
// bits of the numbers skipped over.
func (s *stream) advance(ext int64) {
	if ext-s.max >= dupWindow {
		s.window = [dupWindow / 64]uint64{}
	} else {
		for e := s.max + 1; e < ext; e++ {
			i := uint64(e) % dupWindow
			s.window[i/64] &^= 1 << (i % 64)
		}
	}
	s.max = ext
	s.mark(ext)
}

func (s *stream) mark(ext int64) {
	i := uint64(ext) % dupWindow
	s.window[i/64] |= 1 << (i % 64)
}

func (s *stream) marked(ext int64) bool {
	i := uint64(ext) % dupWindow
	return s.window[i/64]&(1<<(i%64)) != 0
}

// jitterSample updates the RFC 3550 A.8 interarrival jitter with a packet
// that arrived at ts carrying RTP timestamp rtpTS at the given clock rate.
// A change of clock rate (a codec change) restarts the estimate's baseline.
func (s *stream) jitterSample(ts time.Time, rtpTS, clock uint32) {
	if clock == 0 {
		return
	}
	if clock != s.jitterClock {
		s.jitterClock, s.haveTransit = clock, false
	}
	if s.haveTransit {
		arrival := float64(ts.Sub(s.jitterArrival)) * float64(clock) / 1e9
		d := math.Abs(arrival - float64(int32(rtpTS-s.jitterTS)))
		s.jitter += (d - s.jitter) / 16
		s.maxJit = max(s.maxJit, s.jitter)
		s.jitterSum += s.jitter
		s.jitterN++
	}
	s.jitterArrival, s.jitterTS, s.haveTransit = ts, rtpTS, true
}

func (s *stream) expected() int64 { return s.priorExpected + s.max - s.base + 1 }

func (s *stream) summary(t *Tracker, latest map[uint32]*Reception) Stream {
	out := Stream{
		Src: s.src, Dst: s.dst, SSRC: s.ssrc, Announced: s.announced,
		First: s.first, Last: s.last, FirstFrame: s.firstFrame, LastFrame: s.lastFrame,
		Packets: s.packets, Bytes: s.bytes,
		Expected:   s.expected(),
		Lost:       s.priorLost + max(0, s.max-s.base+1-s.received),
		Duplicates: s.duplicates, OutOfOrder: s.outOfOrder, SeqJumps: s.seqJumps,
		MaxDeltaMs: ms(s.maxDelta), Markers: s.markers,
		JitterClockRate: s.jitterClock,
		EventsDropped:   s.eventsDropped,
	}
	if s.jitterClock > 0 && s.jitterN > 0 {
		out.MeanJitterMs = s.jitterSum / float64(s.jitterN) * 1000 / float64(s.jitterClock)
		out.MaxJitterMs = s.maxJit * 1000 / float64(s.jitterClock)
	}
	out.Payloads = make([]Payload, len(s.pts))
	for i, p := range s.pts {
		out.Payloads[i] = Payload{Type: p.pt, Codec: p.codec, Packets: p.packets}
	}
	if len(s.events) > 0 {
		out.Events = slices.Clone(s.events)
	}
	t.attachRTCP(&out, latest)
	return out
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
