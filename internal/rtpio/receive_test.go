package rtpio

import (
	"net/netip"
	"testing"
	"time"

	"github.com/pion/rtcp"

	"github.com/ipcclab/ipcclab/internal/media"
)

var (
	peerAddr = netip.AddrPortFrom(loopback, 30000)
	peerRTCP = netip.AddrPortFrom(loopback, 30001)
	stranger = netip.AddrPortFrom(loopback, 30002)
	epoch    = time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
)

// TestReceiveClassification: every datagram lands in exactly one counter.
func TestReceiveClassification(t *testing.T) {
	frame := make([]byte, 160)
	endEv, _ := media.TelephoneEvent{Event: 11, End: true, Duration: 800}.Marshal()
	sr, _ := rtcp.Marshal([]rtcp.Packet{&rtcp.ReceiverReport{SSRC: 9}})
	mapped := netip.AddrPortFrom(netip.AddrFrom16(loopback.As16()), peerAddr.Port())
	padded := mkRTP(0, false, 1, 0, 9, frame)
	padded[0] |= 0x20 // padding flag, last byte (0) is not a valid count
	cases := []struct {
		name   string
		from   netip.AddrPort
		b      []byte
		want   Stats
		audio  int
		digits string
	}{
		{"audio", peerAddr, mkRTP(0, true, 1, 0, 9, frame), Stats{PacketsReceived: 1, BytesReceived: 172}, 1, ""},
		{"audio from v4-mapped address", mapped, mkRTP(0, true, 1, 0, 9, frame), Stats{PacketsReceived: 1, BytesReceived: 172}, 1, ""},
		{"comfort noise", peerAddr, mkRTP(13, false, 1, 0, 9, []byte{40}), Stats{PacketsReceived: 1, BytesReceived: 13}, 1, ""},
		{"event end", peerAddr, mkRTP(eventPT, true, 1, 0, 9, endEv), Stats{PacketsReceived: 1, BytesReceived: 16, EventsReceived: 1}, 0, "#"},
		{"event short", peerAddr, mkRTP(eventPT, true, 1, 0, 9, endEv[:3]), Stats{Malformed: 1}, 0, ""},
		{"PCMA on a PCMU call", peerAddr, mkRTP(8, false, 1, 0, 9, frame), Stats{WrongPayloadType: 1}, 0, ""},
		{"dynamic PT", peerAddr, mkRTP(96, false, 1, 0, 9, frame), Stats{WrongPayloadType: 1}, 0, ""},
		{"stranger", stranger, mkRTP(0, false, 1, 0, 9, frame), Stats{UnknownSource: 1}, 0, ""},
		{"stranger's garbage", stranger, []byte{1, 2, 3}, Stats{UnknownSource: 1}, 0, ""},
		{"empty", peerAddr, nil, Stats{Malformed: 1}, 0, ""},
		{"short", peerAddr, []byte{0x80, 0, 0, 1, 0, 0}, Stats{Malformed: 1}, 0, ""},
		{"version 1", peerAddr, append([]byte{0x40}, mkRTP(0, false, 1, 0, 9, frame)[1:]...), Stats{Malformed: 1}, 0, ""},
		{"CSRC count beyond the end", peerAddr, append([]byte{0x8f}, mkRTP(0, false, 1, 0, 9, nil)[1:]...), Stats{Malformed: 1}, 0, ""},
		{"bad padding", peerAddr, padded, Stats{Malformed: 1}, 0, ""},
		{"RTCP multiplexed", peerAddr, sr, Stats{RTCPReceived: 1}, 0, ""},
		{"RTCP-looking garbage", peerAddr, []byte{0x80, 0xc9, 0, 9}, Stats{Malformed: 1}, 0, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := detached(t, peerAddr, media.ULaw, eventPT)
			audio := 0
			digits := &digitLog{}
			s.OnAudio(func(pcm []int16) {
				if len(pcm) != 160 {
					t.Errorf("frame of %d samples", len(pcm))
				}
				audio++
			})
			s.OnDigit(digits.add)
			s.receiveRTP(c.b, c.from, epoch)
			if got := s.Stats(); got != c.want {
				t.Errorf("stats\n got %+v\nwant %+v", got, c.want)
			}
			if audio != c.audio || digits.String() != c.digits {
				t.Errorf("delivered %d frames, digits %q; want %d, %q", audio, digits.String(), c.audio, c.digits)
			}
		})
	}
}

func TestReceiveWithoutRemote(t *testing.T) {
	s := detached(t, netip.AddrPort{}, media.ULaw, 0)
	s.receiveRTP(mkRTP(0, false, 1, 0, 9, make([]byte, 160)), peerAddr, epoch)
	s.receiveRTCP([]byte{1}, peerRTCP, epoch)
	if st := s.Stats(); st.UnknownSource != 2 || st.PacketsReceived != 0 {
		t.Errorf("%+v", st)
	}
}

func TestReceiveRTCPSources(t *testing.T) {
	rr, _ := rtcp.Marshal([]rtcp.Packet{&rtcp.ReceiverReport{SSRC: 9}, rtcp.NewCNAMESourceDescription(9, "x")})
	cases := []struct {
		name string
		from netip.AddrPort
		b    []byte
		want Stats
	}{
		{"from the RTCP port", peerRTCP, rr, Stats{RTCPReceived: 1}},
		{"from the RTP port", peerAddr, rr, Stats{RTCPReceived: 1}},
		{"stranger", stranger, rr, Stats{UnknownSource: 1}},
		{"garbage", peerRTCP, []byte("hello, world"), Stats{Malformed: 1}},
		{"empty", peerRTCP, nil, Stats{Malformed: 1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := detached(t, peerAddr, media.ULaw, eventPT)
			s.receiveRTCP(c.b, c.from, epoch)
			if got := s.Stats(); got != c.want {
				t.Errorf("got %+v want %+v", got, c.want)
			}
		})
	}
}

// TestEventDeduplication: the three end packets of an event give one
// digit; a new event with a new timestamp gives the next, even if equal.
func TestEventDeduplication(t *testing.T) {
	s := detached(t, peerAddr, media.ALaw, 96)
	digits := &digitLog{}
	s.OnDigit(digits.add)
	seq := uint16(65530) // wraps during the test
	feed := func(code uint8, ts uint32, end bool, dur uint16, marker bool) {
		p, _ := media.TelephoneEvent{Event: code, End: end, Duration: dur}.Marshal()
		s.receiveRTP(mkRTP(96, marker, seq, ts, 9, p), peerAddr, epoch)
		seq++
	}
	for _, ts := range []uint32{1000, 5000} {
		feed(7, ts, false, 160, true)
		feed(7, ts, false, 320, false)
		for range 3 {
			feed(7, ts, true, 480, false)
		}
	}
	feed(200, 9000, true, 480, true) // not a DTMF event: counted, not reported
	if digits.String() != "77" {
		t.Errorf("digits %q, want \"77\"", digits.String())
	}
	if st := s.Stats(); st.EventsReceived != 3 || st.PacketsReceived != 11 || st.Lost != 0 || st.Duplicates != 0 {
		t.Errorf("%+v", st)
	}
}

// TestSequenceAccounting drives rxState with sequence numbers.
func TestSequenceAccounting(t *testing.T) {
	cases := []struct {
		name      string
		seqs      []uint16
		lost, dup uint64
	}{
		{"in order", []uint16{10, 11, 12, 13}, 0, 0},
		{"one lost", []uint16{10, 11, 13, 14}, 1, 0},
		{"wrap", []uint16{65534, 65535, 0, 1}, 0, 0},
		{"loss across wrap", []uint16{65534, 0, 1}, 1, 0},
		{"duplicate", []uint16{10, 11, 11, 12}, 0, 1},
		{"old duplicate", []uint16{10, 11, 12, 13, 11}, 0, 1},
		{"reordered", []uint16{10, 12, 11, 13}, 0, 0},
		{"reordered across wrap", []uint16{65535, 1, 0, 2}, 0, 0},
		{"late beyond the window is not a duplicate", []uint16{10, 11, 70, 80, 90, 95, 11}, 86 - 7, 0},
		{"single stray jump is ignored", []uint16{10, 11, 30000, 12, 13}, 0, 0},
		{"restart after two in a row", []uint16{10, 11, 30000, 30001, 30002}, 0, 0},
		{"restart keeps earlier loss", []uint16{10, 12, 30000, 30001, 30003}, 2, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var r rxState
			for _, q := range c.seqs {
				r.sequence(9, q)
			}
			if r.totalLost() != c.lost || r.dups != c.dup {
				t.Errorf("lost %d dups %d, want %d %d", r.totalLost(), r.dups, c.lost, c.dup)
			}
		})
	}
	t.Run("new SSRC starts afresh", func(t *testing.T) {
		var r rxState
		r.sequence(1, 10)
		r.sequence(1, 12)
		r.sequence(2, 500)
		r.sequence(2, 501)
		if r.totalLost() != 1 || r.ssrc != 2 || r.expected() != 2 {
			t.Errorf("lost %d ssrc %d expected %d", r.totalLost(), r.ssrc, r.expected())
		}
	})
}

// TestJitterAndLate drives the timing accounting with synthetic arrivals.
func TestJitterAndLate(t *testing.T) {
	cases := []struct {
		name     string
		delays   []time.Duration // extra delay of packet i over its 20 ms slot
		late     uint64
		jitterLo time.Duration
		jitterHi time.Duration
	}{
		{"steady", make([]time.Duration, 50), 0, 0, 0},
		{"constant offset", []time.Duration{30 * time.Millisecond, 30 * time.Millisecond, 30 * time.Millisecond}, 0, 0, 0},
		{"one spike", []time.Duration{0, 0, 60 * time.Millisecond, 0, 0}, 1, 3 * time.Millisecond, 8 * time.Millisecond},
		{"delayed first packet", []time.Duration{50 * time.Millisecond, 0, 0, 60 * time.Millisecond, 0}, 1, 5 * time.Millisecond, 15 * time.Millisecond},
		{"within 40 ms", []time.Duration{0, 35 * time.Millisecond, 0}, 0, time.Millisecond, 5 * time.Millisecond},
		{"alternating 10 ms", []time.Duration{0, 10 * time.Millisecond, 0, 10 * time.Millisecond, 0, 10 * time.Millisecond}, 0, 2 * time.Millisecond, 10 * time.Millisecond},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := detached(t, peerAddr, media.ULaw, 0)
			for i, d := range c.delays {
				at := epoch.Add(time.Duration(i)*ptime + d)
				s.receiveRTP(mkRTP(0, false, uint16(i), 0xfffff000+uint32(i*160), 9, make([]byte, 160)), peerAddr, at)
			}
			st := s.Stats()
			if st.Late != c.late || st.Jitter < c.jitterLo || st.Jitter > c.jitterHi {
				t.Errorf("late %d jitter %v; want %d, %v..%v", st.Late, st.Jitter, c.late, c.jitterLo, c.jitterHi)
			}
		})
	}
}

func TestReceptionReport(t *testing.T) {
	var r rxState
	if _, ok := r.receptionReport(epoch); ok {
		t.Fatal("report before anything was received")
	}
	for _, q := range []uint16{100, 101, 103, 104} { // 102 lost
		r.sequence(7, q)
	}
	r.lastSR, r.lastSRAt = 0xabcd, epoch
	rr, _ := r.receptionReport(epoch.Add(500 * time.Millisecond))
	if rr.SSRC != 7 || rr.TotalLost != 1 || rr.FractionLost != 256/5 || rr.LastSequenceNumber != 104 || rr.LastSenderReport != 0xabcd || rr.Delay != 32768 {
		t.Errorf("%+v", rr)
	}
	for q := uint16(105); q < 110; q++ {
		r.sequence(7, q)
	}
	if rr, _ := r.receptionReport(epoch); rr.FractionLost != 0 || rr.TotalLost != 1 {
		t.Errorf("second interval %+v", rr)
	}
}

func TestTranscodeTables(t *testing.T) {
	for _, v := range []int16{0, 100, -100, 1000, -5000, 20000, -32768, 32767} {
		in := []int16{v}
		var u, a [1]byte
		var fromU, fromA [1]int16
		media.EncodeUlaw(u[:], in)
		transcode(a[:], u[:], media.ULaw, media.ALaw)
		media.DecodeUlaw(fromU[:], u[:])
		media.DecodeAlaw(fromA[:], a[:])
		if d := int(fromU[0]) - int(fromA[0]); d > 1000 || d < -1000 || (v > 100 && fromA[0] <= 0) {
			t.Errorf("%d: µ-law %d, via A-law %d", v, fromU[0], fromA[0])
		}
	}
	if silence[media.ULaw][0] != 0xff || silence[media.ALaw][0] != 0xd5 {
		t.Errorf("silence bytes %x %x", silence[media.ULaw][0], silence[media.ALaw][0])
	}
}

func TestNTPTime(t *testing.T) {
	got := ntpTime(time.Date(1970, 1, 1, 0, 0, 1, 500_000_000, time.UTC))
	if want := uint64(ntpEpochOffset+1)<<32 | 1<<31; got != want {
		t.Errorf("ntpTime = %x, want %x", got, want)
	}
}
