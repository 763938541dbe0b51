package rtpstat

import (
	"testing"
)

// TestSequenceAccounting checks expected, lost, duplicates, out-of-order
// and restarts (RFC 3550 A.1) on announced streams, packets 20 ms apart in
// the order given.
func TestSequenceAccounting(t *testing.T) {
	seqRange := func(from, to int, skip ...int) []int {
		var out []int
	next:
		for s := from; s <= to; s++ {
			for _, k := range skip {
				if s == k {
					continue next
				}
			}
			out = append(out, s&0xffff)
		}
		return out
	}
	cat := func(parts ...[]int) []int {
		var out []int
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	tests := []struct {
		name                                string
		seqs                                []int
		expected, lost                      int64
		duplicates, outOfOrder, jumps, pkts int
	}{
		{name: "no loss", seqs: seqRange(1, 50), expected: 50, pkts: 50},
		// 100 sent, 10, 11 and 50 missing: 3 of 100 lost.
		{name: "loss", seqs: seqRange(1, 100, 10, 11, 50), expected: 100, lost: 3, pkts: 97},
		// 65530…65535 then 0…5 is 12 numbers; 1 missing.
		{name: "wrap at 65535", seqs: seqRange(65530, 65541, 65537), expected: 12, lost: 1, pkts: 11},
		{name: "late packet across the wrap", seqs: []int{65534, 65535, 1, 0, 2}, expected: 5, outOfOrder: 1, pkts: 5},
		{name: "duplicates", seqs: []int{1, 2, 3, 3, 4, 2}, expected: 4, duplicates: 2, pkts: 6},
		{name: "reordered", seqs: []int{1, 2, 4, 3, 5}, expected: 5, outOfOrder: 1, pkts: 5},
		// 4 never comes: 6 numbers, 5 received.
		{name: "reordered and lost", seqs: []int{1, 2, 5, 3, 6}, expected: 6, lost: 1, outOfOrder: 1, pkts: 5},
		{name: "first packet late", seqs: []int{2, 1, 3, 4}, expected: 4, outOfOrder: 1, pkts: 4},
		{name: "late within 100", seqs: cat(seqRange(1, 100, 5), []int{5}), expected: 100, outOfOrder: 1, pkts: 100},
		// RFC 3550 A.1: more than 100 behind is a stray, not received.
		{name: "late by more than 100", seqs: cat(seqRange(1, 300, 5), []int{5}), expected: 300, lost: 1, outOfOrder: 1, pkts: 300},
		// The sender restarts at 40000: two segments of 10.
		{name: "sender restart", seqs: cat(seqRange(1, 10), seqRange(40000, 40009)), expected: 20, jumps: 1, pkts: 20},
		{name: "restart at 0", seqs: cat(seqRange(1000, 1009), seqRange(0, 9)), expected: 20, jumps: 1, pkts: 20},
		// One packet far off the sequence that nothing confirms.
		{name: "stray packet", seqs: cat(seqRange(1, 5), []int{40000}, seqRange(6, 10)), expected: 10, outOfOrder: 1, pkts: 11},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := NewTracker()
			tr.Expect(gateway, map[uint8]Codec{0: {}})
			f := &feeder{t: t, tr: tr, src: caller, dst: gateway}
			for i, seq := range tc.seqs {
				if k := f.send(float64(20*i), rtpPacket(t, 0xA, uint16(seq), uint32(160*seq), 0, false, voice)); k != RTP {
					t.Fatalf("packet %d (seq %d): %v, want RTP", i, seq, k)
				}
			}
			s := only(t, tr)
			if s.Expected != tc.expected || s.Lost != tc.lost || s.Duplicates != tc.duplicates ||
				s.OutOfOrder != tc.outOfOrder || s.SeqJumps != tc.jumps || s.Packets != tc.pkts {
				t.Errorf("expected %d lost %d duplicates %d out of order %d jumps %d packets %d; want %d %d %d %d %d %d",
					s.Expected, s.Lost, s.Duplicates, s.OutOfOrder, s.SeqJumps, s.Packets,
					tc.expected, tc.lost, tc.duplicates, tc.outOfOrder, tc.jumps, tc.pkts)
			}
		})
	}
}

// TestJitterRFC3550 checks the interarrival jitter against values worked
// by hand with RFC 3550 A.8. Packets carry timestamps 160 apart (20 ms at
// 8000 Hz) and arrive at 0, 20, 45, 60 and 80 ms:
//
//	packet 2: D = |160 − 160| = 0   J = 0
//	packet 3: D = |200 − 160| = 40  J = 0 + (40 − 0)/16 = 2.5
//	packet 4: D = |120 − 160| = 40  J = 2.5 + (40 − 2.5)/16 = 4.84375
//	packet 5: D = |160 − 160| = 0   J = 4.84375 − 4.84375/16 = 4.541015625
//
// Max J = 4.84375 units = 0.60546875 ms. The mean over packets 2–5 is
// 11.884765625/4 = 2.97119140625 units = 0.37139892578125 ms. The longest
// gap is 25 ms.
func TestJitterRFC3550(t *testing.T) {
	tr := NewTracker()
	tr.Expect(gateway, map[uint8]Codec{0: {Name: "PCMU", ClockRate: 8000}})
	f := &feeder{t: t, tr: tr, src: caller, dst: gateway}
	for i, ms := range []float64{0, 20, 45, 60, 80} {
		f.pcmu(7, uint16(100+i), i, ms)
	}
	s := only(t, tr)
	if s.JitterClockRate != 8000 || !near(s.MaxJitterMs, 0.60546875) || !near(s.MeanJitterMs, 0.37139892578125) || !near(s.MaxDeltaMs, 25) {
		t.Errorf("clock %d, max jitter %v ms, mean %v ms, max delta %v ms; want 8000, 0.60546875, 0.37139892578125, 25",
			s.JitterClockRate, s.MaxJitterMs, s.MeanJitterMs, s.MaxDeltaMs)
	}
}

// TestJitterTimestampWrap: the RTP timestamp wrapping at 2³² must not
// read as a jump.
func TestJitterTimestampWrap(t *testing.T) {
	tr := NewTracker()
	tr.Expect(gateway, map[uint8]Codec{8: {}})
	f := &feeder{t: t, tr: tr, src: caller, dst: gateway}
	for i := range 10 {
		f.send(float64(20*i), rtpPacket(t, 7, uint16(i), uint32(0xffffff00+160*i), 8, false, voice))
	}
	s := only(t, tr)
	if s.MaxJitterMs != 0 || s.Payloads[0].Name != "PCMA" {
		t.Errorf("max jitter %v ms, payload %+v; want 0 and PCMA", s.MaxJitterMs, s.Payloads)
	}
}

// TestQualification: without SDP a flow is reported only after three
// consistent packets, and its first two are counted in it then.
func TestQualification(t *testing.T) {
	t.Run("three consistent packets", func(t *testing.T) {
		tr := NewTracker()
		f := &feeder{t: t, tr: tr, src: caller, dst: gateway}
		var kinds []Kind
		for i := range 5 {
			kinds = append(kinds, f.pcmu(0xA, uint16(10+i), i, float64(20*i)))
		}
		if want := []Kind{NotRTP, NotRTP, RTP, RTP, RTP}; !equalKinds(kinds, want) {
			t.Errorf("kinds %v, want %v", kinds, want)
		}
		s := only(t, tr)
		if s.Packets != 5 || s.FirstFrame != 1 || s.Expected != 5 || s.Announced {
			t.Errorf("packets %d first frame %d expected %d announced %v; want 5, 1, 5, false", s.Packets, s.FirstFrame, s.Expected, s.Announced)
		}
		if st := tr.Stats(); st.RTP != 5 || st.Rejected != 0 {
			t.Errorf("stats %+v, want 5 RTP and none rejected", st)
		}
	})
	t.Run("two packets never qualify", func(t *testing.T) {
		tr := NewTracker()
		f := &feeder{t: t, tr: tr, src: caller, dst: gateway}
		f.pcmu(0xA, 1, 0, 0)
		f.pcmu(0xA, 2, 1, 20)
		if ss := tr.Streams(); len(ss) != 0 {
			t.Errorf("streams %+v, want none", ss)
		}
		if st := tr.Stats(); st.Rejected != 2 || st.RTP != 0 {
			t.Errorf("stats %+v, want 2 rejected", st)
		}
	})
	t.Run("random SSRCs never qualify", func(t *testing.T) {
		tr := NewTracker()
		f := &feeder{t: t, tr: tr, src: caller, dst: gateway}
		for i := range 20 {
			f.pcmu(uint32(i*7919), uint16(i), i, float64(i))
		}
		if ss := tr.Streams(); len(ss) != 0 {
			t.Errorf("streams %+v, want none", ss)
		}
	})
	t.Run("sequence jump restarts qualification", func(t *testing.T) {
		tr := NewTracker()
		f := &feeder{t: t, tr: tr, src: caller, dst: gateway}
		var kinds []Kind
		for i, seq := range []uint16{1, 2, 900, 901, 902} {
			kinds = append(kinds, f.pcmu(0xA, seq, i, float64(20*i)))
		}
		if want := []Kind{NotRTP, NotRTP, NotRTP, NotRTP, RTP}; !equalKinds(kinds, want) {
			t.Errorf("kinds %v, want %v", kinds, want)
		}
		if s := only(t, tr); s.Packets != 3 || s.FirstFrame != 3 {
			t.Errorf("packets %d from frame %d, want 3 from frame 3", s.Packets, s.FirstFrame)
		}
		if st := tr.Stats(); st.Rejected != 2 || st.RTP != 3 {
			t.Errorf("stats %+v, want 2 rejected and 3 RTP", st)
		}
	})
}

func equalKinds(a, b []Kind) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestSSRCChange: a new SSRC on the same addresses mid-call is a new
// stream, with SDP and without.
func TestSSRCChange(t *testing.T) {
	for _, announced := range []bool{false, true} {
		t.Run(map[bool]string{false: "heuristic", true: "announced"}[announced], func(t *testing.T) {
			tr := NewTracker()
			if announced {
				tr.Expect(gateway, map[uint8]Codec{0: {}})
			}
			f := &feeder{t: t, tr: tr, src: caller, dst: gateway}
			for i := range 10 {
				f.pcmu(0xAAAA, uint16(100+i), i, float64(20*i))
			}
			for i := range 10 {
				f.pcmu(0xBBBB, uint16(7000+i), i, float64(200+20*i))
			}
			ss := tr.Streams()
			if len(ss) != 2 {
				t.Fatalf("got %d streams, want 2", len(ss))
			}
			for i, want := range []struct {
				ssrc  uint32
				first int
			}{{0xAAAA, 1}, {0xBBBB, 11}} {
				s := ss[i]
				if s.SSRC != want.ssrc || s.Packets != 10 || s.Lost != 0 || s.FirstFrame != want.first || s.Announced != announced {
					t.Errorf("stream %d: SSRC %#x, %d packets, %d lost, first frame %d, announced %v; want %#x, 10, 0, %d, %v",
						i, s.SSRC, s.Packets, s.Lost, s.FirstFrame, s.Announced, want.ssrc, want.first, announced)
				}
			}
		})
	}
}

// TestNotRTP: datagrams that are not RTP are rejected and counted, and
// leave no stream behind.
func TestNotRTP(t *testing.T) {
	valid := rtpPacket(t, 1, 1, 0, 0, false, voice)
	badPadding := rtpPacket(t, 1, 1, 0, 0, false, voice)
	badPadding[0] |= 0x20
	badPadding[len(badPadding)-1] = 200
	zeroPadding := rtpPacket(t, 1, 1, 0, 0, false, voice)
	zeroPadding[0] |= 0x20
	zeroPadding[len(zeroPadding)-1] = 0
	csrcBeyond := append([]byte(nil), valid[:14]...)
	csrcBeyond[0] |= 0x0f // 15 CSRCs announced, none there
	tests := []struct {
		name    string
		payload []byte
	}{
		{"empty", nil},
		{"shorter than a header", valid[:11]},
		{"version 1", append([]byte{0x40}, valid[1:]...)},
		{"DNS query", []byte{0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0, 0, 1, 0, 1}},
		{"STUN binding request", []byte{0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}},
		{"payload type 72 (RTCP range)", append([]byte{0x80, 72}, valid[2:]...)},
		{"RTCP type with a bad length", []byte{0x80, 200, 0x00, 0x40, 1, 2, 3, 4, 5, 6, 7, 8}},
		{"padding longer than the packet", badPadding},
		{"padding count 0", zeroPadding},
		{"CSRCs beyond the end", csrcBeyond},
		{"unassigned payload type", append([]byte{0x80, 50}, valid[2:]...)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := NewTracker()
			if k := tr.Datagram(at(0), 1, caller, gateway, tc.payload); k != NotRTP {
				t.Errorf("kind %v, want NotRTP", k)
			}
			if st := tr.Stats(); st.Rejected != 1 || st.Datagrams != 1 {
				t.Errorf("stats %+v, want 1 datagram rejected", st)
			}
			if len(tr.Streams()) != 0 || len(tr.RTCP()) != 0 {
				t.Error("a stream or RTCP source was recorded")
			}
		})
	}
}

// TestPadding: padding is accepted and not taken for payload.
func TestPadding(t *testing.T) {
	tr := NewTracker()
	tr.Expect(gateway, map[uint8]Codec{101: {Name: TelephoneEvent, ClockRate: 8000}})
	p, err := rtpPacketPadded(t, []byte{5, 0x8a, 0x03, 0x20}, 4)
	if err != nil {
		t.Fatal(err)
	}
	if k := tr.Datagram(at(0), 1, caller, gateway, p); k != RTP {
		t.Fatalf("kind %v, want RTP", k)
	}
	s := only(t, tr)
	if len(s.Events) != 1 || s.Events[0].Digit != "5" || !near(s.Events[0].DurationMs, 100) || !s.Events[0].Ended || s.Events[0].Volume != 10 {
		t.Errorf("events %+v, want digit 5 ended after 100 ms at −10 dBm0", s.Events)
	}
}

// TestExpectNamesDynamicPayloads: SDP's rtpmap names and clocks dynamic
// payload types; without it they stay unnamed and jitter is not computed.
func TestExpectNamesDynamicPayloads(t *testing.T) {
	tr := NewTracker()
	tr.Expect(gateway, map[uint8]Codec{96: {Name: "opus", ClockRate: 48000}})
	f := &feeder{t: t, tr: tr, src: caller, dst: gateway}
	g := &feeder{t: t, tr: tr, src: gateway, dst: caller}
	for i := range 5 {
		f.send(float64(20*i), rtpPacket(t, 1, uint16(i), uint32(960*i), 96, false, voice[:40]))
		g.send(float64(20*i), rtpPacket(t, 2, uint16(i), uint32(960*i), 96, false, voice[:40]))
	}
	ss := tr.Streams()
	if len(ss) != 2 {
		t.Fatalf("%d streams, want 2", len(ss))
	}
	if p := ss[0].Payloads[0]; p.Name != "opus" || p.ClockRate != 48000 || ss[0].JitterClockRate != 48000 || !ss[0].Announced {
		t.Errorf("announced stream: %+v clock %d", p, ss[0].JitterClockRate)
	}
	if p := ss[1].Payloads[0]; p.Name != "" || p.Label() != "PT 96" || ss[1].JitterClockRate != 0 || ss[1].Announced {
		t.Errorf("unannounced stream: %+v clock %d", p, ss[1].JitterClockRate)
	}
	// Port 0 declines media: nothing is expected there.
	tr.Expect(netipMust("10.0.0.9:0"), map[uint8]Codec{0: {}})
	if _, ok := tr.expect[netipMust("10.0.0.9:0")]; ok {
		t.Error("port 0 was expected")
	}
}

// TestExpectDuringQualification: SDP arriving while a flow qualifies keeps
// the packets already seen.
func TestExpectDuringQualification(t *testing.T) {
	tr := NewTracker()
	f := &feeder{t: t, tr: tr, src: caller, dst: gateway}
	k1 := f.pcmu(0xA, 1, 0, 0)
	tr.Expect(gateway, map[uint8]Codec{0: {}})
	k2 := f.pcmu(0xA, 2, 1, 20)
	if k1 != NotRTP || k2 != RTP {
		t.Errorf("kinds %v %v, want NotRTP then RTP", k1, k2)
	}
	s := only(t, tr)
	if s.Packets != 2 || s.FirstFrame != 1 || !s.Announced || len(tr.cands) != 0 {
		t.Errorf("packets %d from frame %d, announced %v, %d candidates left", s.Packets, s.FirstFrame, s.Announced, len(tr.cands))
	}
	if st := tr.Stats(); st.RTP != 2 || st.Rejected != 0 {
		t.Errorf("stats %+v, want 2 RTP", st)
	}
}

// TestLimits: beyond each limit the tracker behaves as Limits documents.
func TestLimits(t *testing.T) {
	t.Run("streams", func(t *testing.T) {
		tr := NewTrackerLimits(Limits{Streams: 2})
		tr.Expect(gateway, map[uint8]Codec{0: {}})
		f := &feeder{t: t, tr: tr, src: caller, dst: gateway}
		for ssrc := uint32(1); ssrc <= 3; ssrc++ {
			k := f.pcmu(ssrc, 1, 0, 0)
			if want := map[bool]Kind{true: RTP, false: NotRTP}[ssrc <= 2]; k != want {
				t.Errorf("SSRC %d: %v, want %v", ssrc, k, want)
			}
		}
		f.pcmu(1, 2, 1, 20)
		if ss := tr.Streams(); len(ss) != 2 || ss[0].Packets != 2 {
			t.Errorf("streams %+v, want 2 with the first still counting", ss)
		}
		if st := tr.Stats(); st.Untracked != 1 || st.RTP != 3 {
			t.Errorf("stats %+v, want 1 untracked, 3 RTP", st)
		}
	})
	t.Run("candidates", func(t *testing.T) {
		tr := NewTrackerLimits(Limits{Candidates: 2})
		for port := uint16(1); port <= 3; port++ {
			tr.Datagram(at(0), int(port), caller, netipPort(port), rtpPacket(t, 1, 1, 0, 0, false, voice))
		}
		st := tr.Stats()
		if st.CandidateResets != 1 || st.Rejected != 3 || len(tr.cands) != 1 {
			t.Errorf("stats %+v with %d candidates; want 1 reset, 3 rejected, 1 candidate", st, len(tr.cands))
		}
	})
	t.Run("events", func(t *testing.T) {
		tr := NewTrackerLimits(Limits{Events: 1})
		tr.Expect(gateway, map[uint8]Codec{101: {Name: TelephoneEvent, ClockRate: 8000}})
		f := &feeder{t: t, tr: tr, src: caller, dst: gateway}
		seq := uint16(0)
		for ev, ts := range []uint32{1000, 2000, 3000} {
			for range 3 {
				seq++
				f.send(float64(seq)*20, rtpPacket(t, 1, seq, ts, 101, false, []byte{byte(ev), 0x80, 0, 160}))
			}
		}
		s := only(t, tr)
		if len(s.Events) != 1 || s.Events[0].Packets != 3 || s.EventsDropped != 2 {
			t.Errorf("events %+v, %d dropped; want 1 kept with 3 packets, 2 dropped", s.Events, s.EventsDropped)
		}
	})
	t.Run("RTCP sources", func(t *testing.T) {
		tr := NewTrackerLimits(Limits{RTCPSources: 1})
		for ssrc := uint32(1); ssrc <= 2; ssrc++ {
			if k := tr.Datagram(at(0), int(ssrc), caller, gateway, receiverReport(t, ssrc, 0xB, 0, 0, 0)); k != RTCP {
				t.Errorf("SSRC %d: %v, want RTCP", ssrc, k)
			}
		}
		if srcs := tr.RTCP(); len(srcs) != 1 || tr.Stats().RTCP != 2 {
			t.Errorf("%d sources, stats %+v; want 1 source and 2 RTCP", len(srcs), tr.Stats())
		}
	})
}

// TestKnownStreamDoesNotAllocate: the per-packet path of a tracked stream
// must not allocate (the benchmark reports its speed).
func TestKnownStreamDoesNotAllocate(t *testing.T) {
	tr := NewTracker()
	tr.Expect(gateway, map[uint8]Codec{0: {}})
	pkt := rtpPacket(t, 0xA, 0, 0, 0, false, voice)
	tr.Datagram(at(0), 1, caller, gateway, pkt)
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		i++
		advance(pkt, uint16(i), uint32(160*i))
		tr.Datagram(at(float64(20*i)), i+1, caller, gateway, pkt)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per packet, want 0", allocs)
	}
	if s := only(t, tr); s.Lost != 0 || s.Packets != 1002 {
		t.Errorf("packets %d lost %d, want 1002 and 0", s.Packets, s.Lost)
	}
}

// advance rewrites an RTP packet's sequence number and timestamp in place.
func advance(pkt []byte, seq uint16, ts uint32) {
	pkt[2], pkt[3] = byte(seq>>8), byte(seq)
	pkt[4], pkt[5], pkt[6], pkt[7] = byte(ts>>24), byte(ts>>16), byte(ts>>8), byte(ts)
}
