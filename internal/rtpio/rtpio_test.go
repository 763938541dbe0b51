package rtpio

import (
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"

	"github.com/ipcclab/ipcclab/internal/media"
)

const eventPT = 101

func TestNewRejectsBadConfig(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no IP", Config{}, "Config.IP is not set"},
		{"inverted range", Config{IP: loopback, PortMin: 20000, PortMax: 10000}, "bad RTP port range"},
		{"half range", Config{IP: loopback, PortMin: 0, PortMax: 10000}, "bad RTP port range"},
		{"too high", Config{IP: loopback, PortMin: 1000, PortMax: 70000}, "bad RTP port range"},
		{"no pair", Config{IP: loopback, PortMin: 5001, PortMax: 5002}, "no even RTP port"},
		{"negative RTCP interval", Config{IP: loopback, RTCPInterval: -time.Second}, "negative RTCP interval"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, err := New(c.cfg)
			if err == nil {
				e.Close()
				t.Fatal("New accepted the config")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q does not mention %q", err, c.want)
			}
		})
	}
}

// TestTalkBothWays: two streams play different tones at each other; each
// hears the other's tone, every packet arrives, nothing is counted wrong.
func TestTalkBothWays(t *testing.T) {
	for _, law := range []media.Law{media.ULaw, media.ALaw} {
		t.Run(law.String(), func(t *testing.T) {
			e := newEngine(t, Config{})
			a, b := open(t, e), open(t, e)
			connect(a, b, law, eventPT)
			atB, atA := &toneMeter{freq: 1000}, &toneMeter{freq: 1500}
			b.OnAudio(atB.audio)
			a.OnAudio(atA.audio)
			var ended atomic.Int32
			a.OnSourceEnd(func() { ended.Add(1) })
			b.OnSourceEnd(func() { ended.Add(1) })
			const frames = 25 // 500 ms
			a.SetSource(newToneSource(media.Beep(1000, frames*media.FrameMs)))
			b.SetSource(newToneSource(media.Beep(1500, frames*media.FrameMs)))

			waitFor(t, 5*time.Second, "both sources to end and all packets to arrive", func() bool {
				return ended.Load() == 2 && a.Stats().PacketsReceived == frames && b.Stats().PacketsReceived == frames
			})
			for _, m := range []*toneMeter{atA, atB} {
				n, tone := m.counts()
				if n != frames || tone < frames-2 {
					t.Errorf("%v Hz: %d frames, %d with the tone; want %d", m.freq, n, tone, frames)
				}
			}
			for name, s := range map[string]*Stream{"a": a, "b": b} {
				st := s.Stats()
				if st.PacketsSent != frames || st.BytesSent != frames*172 || st.BytesReceived != frames*172 {
					t.Errorf("%s: sent %d packets %d bytes, received %d bytes; want %d packets of 172 bytes", name, st.PacketsSent, st.BytesSent, st.BytesReceived, frames)
				}
				if st.Lost != 0 || st.Duplicates != 0 || st.UnknownSource != 0 || st.WrongPayloadType != 0 || st.Malformed != 0 {
					t.Errorf("%s: unexpected counters %+v", name, st)
				}
			}
			if ended.Load() != 2 {
				t.Errorf("OnSourceEnd called %d times, want 2", ended.Load())
			}
			total := e.Stats()
			if total.PacketsSent != 2*frames || total.PacketsReceived != 2*frames {
				t.Errorf("engine totals %+v", total)
			}
		})
	}
}

func TestDigitsEndToEnd(t *testing.T) {
	cases := []struct {
		name    string
		eventPT uint8
		digits  string
	}{
		{"RFC 4733", eventPT, "123#"},
		{"RFC 4733 repeated digit", eventPT, "00*"},
		{"in-band", 0, "19#"},
		{"in-band repeated digit", 0, "55"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEngine(t, Config{})
			a, b := open(t, e), open(t, e)
			connect(a, b, media.ULaw, c.eventPT)
			got := &digitLog{}
			if c.eventPT != 0 {
				b.OnDigit(got.add)
			} else {
				det := media.NewDTMFDetector(media.DTMFConfig{})
				var evs []media.DTMFEvent
				b.OnAudio(func(pcm []int16) {
					evs = det.Process(pcm, evs[:0])
					for _, ev := range evs {
						if ev.On {
							got.add(ev.Digit)
						}
					}
				})
			}
			// Audio is playing when the digits go: they must replace it.
			a.SetSource(endlessTone(400))
			if err := a.SendDigits(c.digits, 80, 60); err != nil {
				t.Fatal(err)
			}
			waitFor(t, 5*time.Second, "digits", func() bool { return len(got.String()) >= len(c.digits) })
			time.Sleep(200 * time.Millisecond) // repeated end packets must not add digits
			if g := got.String(); g != c.digits {
				t.Fatalf("received digits %q, want %q", g, c.digits)
			}
			if st := a.Stats(); st.EventsSent != uint64(len(c.digits)) {
				t.Errorf("EventsSent %d, want %d", st.EventsSent, len(c.digits))
			}
			if c.eventPT != 0 {
				if st := b.Stats(); st.EventsReceived != uint64(len(c.digits)) {
					t.Errorf("EventsReceived %d, want %d", st.EventsReceived, len(c.digits))
				}
			}
		})
	}
}

func TestSendDigitsRejects(t *testing.T) {
	e := newEngine(t, Config{})
	s := open(t, e)
	cases := []struct {
		digits      string
		onMs, gapMs int
	}{
		{"12x", 100, 50},
		{"1", 0, 50},
		{"1", 9000, 50},
		{"1", 100, -1},
		{strings.Repeat("1", maxPendingDigits+1), 100, 0},
	}
	for _, c := range cases {
		if err := s.SendDigits(c.digits, c.onMs, c.gapMs); err == nil {
			t.Errorf("SendDigits(%.10q, %d, %d) accepted", c.digits, c.onMs, c.gapMs)
		}
	}
}

// TestDigitsOnTheWire checks the RFC 4733 packet sequence a raw listener
// receives: one timestamp per event, marker on the first packet only,
// growing durations and the end packet three times.
func TestDigitsOnTheWire(t *testing.T) {
	cases := []struct {
		digit byte
		onMs  int
	}{
		{'5', 100},
		{'#', 50}, // not a multiple of 20 ms
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%c/%dms", c.digit, c.onMs), func(t *testing.T) {
			e := newEngine(t, Config{})
			s := open(t, e)
			raw := rawUDP(t)
			s.SetRemote(addrOf(raw), media.ULaw, eventPT)
			if err := s.SendDigits(string(c.digit), c.onMs, 0); err != nil {
				t.Fatal(err)
			}
			var pkts []rtp.Packet
			ends := 0
			for len(pkts) < 20 && ends < media.EventEndRepeats {
				b, ok := readRaw(t, raw, 2*time.Second)
				if !ok {
					t.Fatalf("timed out after %d packets", len(pkts))
				}
				var p rtp.Packet
				if err := p.Unmarshal(b); err != nil {
					t.Fatal(err)
				}
				var ev media.TelephoneEvent
				if p.PayloadType != eventPT || ev.Unmarshal(p.Payload) != nil {
					t.Fatalf("unexpected packet PT %d payload %x", p.PayloadType, p.Payload)
				}
				if ev.End {
					ends++
				}
				pkts = append(pkts, p)
			}
			if _, ok := readRaw(t, raw, 100*time.Millisecond); ok {
				t.Error("a packet after the third end packet")
			}
			code, _ := media.EventCode(c.digit)
			wantDur := uint16(media.MsToSamples(c.onMs))
			var prevDur uint16
			for i, p := range pkts {
				var ev media.TelephoneEvent
				_ = ev.Unmarshal(p.Payload)
				if p.Timestamp != pkts[0].Timestamp || p.SSRC != s.SSRC() {
					t.Errorf("packet %d: timestamp %d SSRC %x, want %d %x", i, p.Timestamp, p.SSRC, pkts[0].Timestamp, s.SSRC())
				}
				if p.Marker != (i == 0) {
					t.Errorf("packet %d: marker %v", i, p.Marker)
				}
				if i > 0 && p.SequenceNumber != pkts[i-1].SequenceNumber+1 {
					t.Errorf("packet %d: sequence %d after %d", i, p.SequenceNumber, pkts[i-1].SequenceNumber)
				}
				if ev.Event != code || ev.Duration < prevDur {
					t.Errorf("packet %d: event %d duration %d after %d", i, ev.Event, ev.Duration, prevDur)
				}
				if ev.End && ev.Duration != wantDur {
					t.Errorf("packet %d: end duration %d, want %d", i, ev.Duration, wantDur)
				}
				prevDur = ev.Duration
			}
			if ends != media.EventEndRepeats {
				t.Errorf("%d end packets, want %d", ends, media.EventEndRepeats)
			}
		})
	}
}

// TestUnknownSourceIgnored: valid RTP from a third party is dropped and
// counted, and the call carries on.
func TestUnknownSourceIgnored(t *testing.T) {
	e := newEngine(t, Config{})
	a, b := open(t, e), open(t, e)
	connect(a, b, media.ULaw, eventPT)
	a.SetSource(endlessTone(1000))
	got := &digitLog{}
	b.OnDigit(got.add)
	waitFor(t, 2*time.Second, "the call to flow", func() bool { return b.Stats().PacketsReceived > 5 })

	intruder := rawUDP(t)
	payload := make([]byte, 160)
	ev, _ := media.TelephoneEvent{Event: 9, End: true, Duration: 800}.Marshal()
	for i := range 5 {
		send(t, intruder, b.LocalAddr(), mkRTP(0, false, uint16(i), uint32(i*160), 0xbad, payload))
		send(t, intruder, b.LocalAddr(), mkRTP(eventPT, true, uint16(100+i), 4242, 0xbad, ev))
	}
	waitFor(t, 2*time.Second, "UnknownSource", func() bool { return b.Stats().UnknownSource == 10 })
	before := b.Stats().PacketsReceived
	waitFor(t, 2*time.Second, "the call to go on", func() bool { return b.Stats().PacketsReceived > before+5 })
	st := b.Stats()
	if st.Lost != 0 || st.WrongPayloadType != 0 || st.Malformed != 0 || got.String() != "" {
		t.Errorf("intruder disturbed the call: %+v, digits %q", st, got.String())
	}
}

func send(t testing.TB, c *net.UDPConn, to netip.AddrPort, b []byte) {
	t.Helper()
	if _, err := c.WriteToUDPAddrPort(b, to); err != nil {
		t.Fatal(err)
	}
}

// TestBadPacketsFromRemote: over real sockets, wrong payload types and
// garbage from the latched remote are counted and do not stop the stream.
func TestBadPacketsFromRemote(t *testing.T) {
	e := newEngine(t, Config{})
	s := open(t, e)
	peer := rawUDP(t)
	s.SetRemote(addrOf(peer), media.ALaw, eventPT)
	m := &toneMeter{freq: 1000}
	s.OnAudio(m.audio)
	pcm := make([]int16, 160)
	newToneSource(media.Beep(1000, 20)).ReadFrame(pcm)
	frame := make([]byte, 160)
	media.ALaw.Encode(frame, pcm)

	send(t, peer, s.LocalAddr(), mkRTP(0, false, 1, 160, 7, frame))  // PCMU on a PCMA call
	send(t, peer, s.LocalAddr(), mkRTP(96, false, 2, 320, 7, frame)) // not negotiated
	send(t, peer, s.LocalAddr(), []byte("garbage"))
	send(t, peer, s.LocalAddr(), []byte{0x80})
	send(t, peer, s.LocalAddr(), mkRTP(eventPT, true, 3, 480, 7, []byte{1})) // short event
	send(t, peer, s.LocalAddr(), mkRTP(8, true, 4, 640, 7, frame))
	waitFor(t, 2*time.Second, "the counters", func() bool {
		st := s.Stats()
		return st.WrongPayloadType == 2 && st.Malformed == 3 && st.PacketsReceived == 1
	})
	if n, tone := m.counts(); n != 1 || tone != 1 {
		t.Errorf("OnAudio saw %d frames (%d tone), want the one good frame", n, tone)
	}
}

// TestRTCP: with a short interval a raw listener on the RTCP port gets a
// valid compound SR (or RR) + SDES with plausible counts, RTCP from the
// far end is counted, and Close sends BYE.
func TestRTCP(t *testing.T) {
	for _, withSource := range []bool{true, false} {
		t.Run(fmt.Sprintf("source=%v", withSource), func(t *testing.T) {
			e := newEngine(t, Config{RTCPInterval: 100 * time.Millisecond})
			s := open(t, e)
			if s.RTCPAddr().Port() != s.LocalAddr().Port()+1 {
				t.Errorf("RTCP %v not next to RTP %v", s.RTCPAddr(), s.LocalAddr())
			}
			peerRTP, peerRTCP := rawPair(t)
			s.SetRemote(addrOf(peerRTP), media.ULaw, eventPT)
			if withSource {
				s.SetSource(endlessTone(1000))
			}
			// The far end sends ten packets, seq 1000-1009, and an SR.
			const peerSSRC = 0x5eed
			for i := range 10 {
				send(t, peerRTP, s.LocalAddr(), mkRTP(0, i == 0, uint16(1000+i), uint32(i*160), peerSSRC, make([]byte, 160)))
			}
			sr, _ := rtcp.Marshal([]rtcp.Packet{&rtcp.SenderReport{SSRC: peerSSRC, NTPTime: 0x1122334455667788},
				rtcp.NewCNAMESourceDescription(peerSSRC, "peer")})
			send(t, peerRTCP, s.RTCPAddr(), sr)
			send(t, peerRTCP, s.RTCPAddr(), []byte{0x80, 0xc8, 0xff}) // truncated SR
			waitFor(t, 2*time.Second, "the far end's RTP and RTCP", func() bool {
				st := s.Stats()
				return st.PacketsReceived == 10 && st.RTCPReceived == 1 && st.Malformed == 1
			})

			// Reports come every 50-150 ms; look for one made after all that.
			var got rtcp.CompoundPacket
			for i := 0; ; i++ {
				b, ok := readRaw(t, peerRTCP, 2*time.Second)
				if !ok || i > 50 {
					t.Fatal("no RTCP report with a reception report block and LSR")
				}
				var c rtcp.CompoundPacket
				if err := c.Unmarshal(b); err != nil {
					t.Fatalf("report does not parse: %v", err)
				}
				if err := c.Validate(); err != nil {
					t.Fatalf("report is not a valid compound packet: %v (%v)", err, c)
				}
				if rr := reportBlocks(c[0]); len(rr) == 1 && rr[0].LastSenderReport != 0 {
					got = c
					break
				}
			}
			if cname, _ := got.CNAME(); !strings.HasPrefix(cname, "rtpio-") {
				t.Errorf("CNAME %q", cname)
			}
			switch p := got[0].(type) {
			case *rtcp.SenderReport:
				if !withSource {
					t.Fatal("SR from a stream that sent nothing")
				}
				if p.SSRC != s.SSRC() || p.PacketCount == 0 || p.OctetCount != 160*p.PacketCount || p.NTPTime == 0 {
					t.Errorf("implausible SR %+v", p)
				}
			case *rtcp.ReceiverReport:
				if withSource {
					t.Fatal("RR from a stream that sends")
				}
				if p.SSRC != s.SSRC() {
					t.Errorf("RR SSRC %x, want %x", p.SSRC, s.SSRC())
				}
			}
			rb := reportBlocks(got[0])[0]
			if rb.SSRC != peerSSRC || rb.LastSequenceNumber != 1009 || rb.TotalLost != 0 || rb.LastSenderReport != 0x33445566 {
				t.Errorf("reception report %+v", rb)
			}

			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			for i := 0; ; i++ {
				b, ok := readRaw(t, peerRTCP, 2*time.Second)
				if !ok || i > 10 {
					t.Fatal("no BYE after Close")
				}
				var c rtcp.CompoundPacket
				if c.Unmarshal(b) != nil {
					continue
				}
				if bye, ok := c[len(c)-1].(*rtcp.Goodbye); ok {
					if len(bye.Sources) != 1 || bye.Sources[0] != s.SSRC() {
						t.Errorf("BYE %+v", bye)
					}
					break
				}
			}
		})
	}
}

func reportBlocks(p rtcp.Packet) []rtcp.ReceptionReport {
	switch p := p.(type) {
	case *rtcp.SenderReport:
		return p.Reports
	case *rtcp.ReceiverReport:
		return p.Reports
	}
	return nil
}

// TestBridge: A <-> X bridged to Y <-> B, µ-law on the A side and A-law on
// the B side. Tones and digits cross the bridge both ways, B hears Y's SSRC,
// and stopping the bridge stops the relay.
func TestBridge(t *testing.T) {
	e := newEngine(t, Config{})
	a, x, y, b := open(t, e), open(t, e), open(t, e), open(t, e)
	connect(a, x, media.ULaw, eventPT)
	connect(y, b, media.ALaw, 96)
	x.SetSource(endlessTone(300)) // must not be heard while bridged
	stop := Bridge(x, y)

	atB, atA := &toneMeter{freq: 1000}, &toneMeter{freq: 1500}
	b.OnAudio(atB.audio)
	a.OnAudio(atA.audio)
	digitsAtB, digitsAtA := &digitLog{}, &digitLog{}
	b.OnDigit(digitsAtB.add)
	a.OnDigit(digitsAtA.add)
	a.SetSource(endlessTone(1000))
	b.SetSource(endlessTone(1500))
	waitFor(t, 5*time.Second, "tones across the bridge", func() bool {
		_, tb := atB.counts()
		_, ta := atA.counts()
		return tb >= 20 && ta >= 20
	})
	for name, m := range map[string]*toneMeter{"B": atB, "A": atA} {
		// Allow the frames before the bridge carried the far tone.
		if n, tone := m.counts(); tone < n-3 {
			t.Errorf("%s: %d of %d frames carry the far tone", name, tone, n)
		}
	}
	if err := a.SendDigits("42", 60, 40); err != nil {
		t.Fatal(err)
	}
	if err := b.SendDigits("7*", 60, 40); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "digits across the bridge", func() bool {
		return digitsAtB.String() == "42" && digitsAtA.String() == "7*"
	})
	b.rmu.Lock()
	heard := b.rx.ssrc
	b.rmu.Unlock()
	if heard != y.SSRC() {
		t.Errorf("B hears SSRC %x, want Y's %x", heard, y.SSRC())
	}
	for name, s := range map[string]*Stream{"A": a, "X": x, "Y": y, "B": b} {
		if st := s.Stats(); st.WrongPayloadType != 0 || st.Malformed != 0 || st.Lost != 0 {
			t.Errorf("%s: %+v", name, st)
		}
	}

	stop()
	stop() // idempotent
	x.SetSource(nil)
	y.SetSource(nil)
	time.Sleep(60 * time.Millisecond) // packets in flight
	sent := y.Stats().PacketsSent
	time.Sleep(200 * time.Millisecond)
	if after := y.Stats().PacketsSent; after != sent {
		t.Errorf("Y sent %d packets after the bridge stopped", after-sent)
	}
}

// TestSetRemoteAgain: a re-INVITE moves the stream; SSRC, sequence and
// timestamps carry on.
func TestSetRemoteAgain(t *testing.T) {
	e := newEngine(t, Config{})
	s := open(t, e)
	first, second := rawUDP(t), rawUDP(t)
	s.SetRemote(addrOf(first), media.ULaw, eventPT)
	s.SetSource(endlessTone(1000))
	var got []rtp.Packet
	read := func(c *net.UDPConn, n int, wait time.Duration) {
		for range n {
			b, ok := readRaw(t, c, wait)
			if !ok {
				return
			}
			var p rtp.Packet
			if err := p.Unmarshal(b); err != nil {
				t.Fatal(err)
			}
			got = append(got, p)
		}
	}
	read(first, 5, 2*time.Second)
	s.SetRemote(addrOf(second), media.ULaw, eventPT)
	read(first, 10, 100*time.Millisecond) // in flight before the move
	moved := len(got)
	read(second, 5, 2*time.Second)
	if moved < 5 || len(got) != moved+5 {
		t.Fatalf("got %d packets, %d before the move", len(got), moved)
	}
	for i := 1; i < len(got); i++ {
		p, q := got[i-1], got[i]
		if q.SSRC != p.SSRC || q.SequenceNumber != p.SequenceNumber+1 || q.Timestamp != p.Timestamp+160 {
			t.Errorf("packet %d (after move: %v): SSRC %x seq %d ts %d after SSRC %x seq %d ts %d",
				i, i >= moved, q.SSRC, q.SequenceNumber, q.Timestamp, p.SSRC, p.SequenceNumber, p.Timestamp)
		}
		if q.Marker {
			t.Errorf("packet %d: marker in the middle of a talkspurt", i)
		}
	}
	if !got[0].Marker {
		t.Error("first packet without marker")
	}
}

// TestHoldAndResume: a stream on hold sends nothing but keeps time; the
// first packet after resuming carries the marker and a timestamp that
// reflects the pause.
func TestHoldAndResume(t *testing.T) {
	e := newEngine(t, Config{})
	s := open(t, e)
	peer := rawUDP(t)
	s.SetRemote(addrOf(peer), media.ULaw, 0)
	s.SetSource(newToneSource(media.Beep(1000, 100)))
	var pkts []rtp.Packet
	for len(pkts) < 5 {
		b, ok := readRaw(t, peer, 2*time.Second)
		if !ok {
			t.Fatal("timeout")
		}
		var p rtp.Packet
		_ = p.Unmarshal(b)
		pkts = append(pkts, p)
	}
	if _, ok := readRaw(t, peer, 200*time.Millisecond); ok {
		t.Fatal("packet after the source ended")
	}
	s.SetSource(endlessTone(1000))
	b, ok := readRaw(t, peer, 2*time.Second)
	if !ok {
		t.Fatal("nothing after resume")
	}
	var p rtp.Packet
	_ = p.Unmarshal(b)
	last := pkts[len(pkts)-1]
	if !p.Marker || p.SequenceNumber != last.SequenceNumber+1 || p.Timestamp-last.Timestamp < 160*10 {
		t.Errorf("after hold: marker %v seq %d ts %d; before: seq %d ts %d", p.Marker, p.SequenceNumber, p.Timestamp, last.SequenceNumber, last.Timestamp)
	}
}

// freeRange finds four consecutive free ports starting at an even one.
func freeRange(t *testing.T) int {
	t.Helper()
	for base := 23000; base < 33000; base += 100 {
		var cs []*net.UDPConn
		ok := true
		for p := base; p < base+4; p++ {
			c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: p})
			if err != nil {
				ok = false
				break
			}
			cs = append(cs, c)
		}
		for _, c := range cs {
			c.Close()
		}
		if ok {
			return base
		}
	}
	t.Fatal("no free port range")
	return 0
}

func TestPortAllocation(t *testing.T) {
	t.Run("range exhausted and reused", func(t *testing.T) {
		base := freeRange(t)
		e := newEngine(t, Config{PortMin: base, PortMax: base + 3})
		s1, s2 := open(t, e), open(t, e)
		for _, s := range []*Stream{s1, s2} {
			p := int(s.LocalAddr().Port())
			if p%2 != 0 || p < base || p > base+2 || s.RTCPAddr().Port() != uint16(p+1) {
				t.Errorf("RTP %v RTCP %v outside %d-%d or not a pair", s.LocalAddr(), s.RTCPAddr(), base, base+3)
			}
		}
		_, err := e.Open()
		want := fmt.Sprintf("rtpio: no free RTP port in %d-%d", base, base+3)
		if err == nil || err.Error() != want {
			t.Fatalf("third Open: %v, want %q", err, want)
		}
		port := s1.LocalAddr()
		s1.Close()
		s3 := open(t, e)
		if s3.LocalAddr() != port {
			t.Errorf("reopened on %v, want the freed %v", s3.LocalAddr(), port)
		}
	})
	t.Run("ports in use elsewhere are skipped", func(t *testing.T) {
		base := freeRange(t)
		busy, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: base + 1})
		if err != nil {
			t.Fatal(err)
		}
		defer busy.Close()
		e := newEngine(t, Config{PortMin: base, PortMax: base + 3})
		s := open(t, e)
		if s.LocalAddr().Port() != uint16(base+2) {
			t.Errorf("got %v, want port %d (RTCP port of %d is taken)", s.LocalAddr(), base+2, base)
		}
		if _, err := e.Open(); err == nil {
			t.Error("second Open succeeded")
		}
	})
	t.Run("OS chosen", func(t *testing.T) {
		e := newEngine(t, Config{})
		for range 10 {
			s := open(t, e)
			if s.LocalAddr().Port()%2 != 0 || s.RTCPAddr().Port() != s.LocalAddr().Port()+1 {
				t.Errorf("RTP %v RTCP %v: not an even/odd pair", s.LocalAddr(), s.RTCPAddr())
			}
		}
	})
}

// TestCloseStopsEverything: Engine.Close ends every goroutine it started,
// closed streams keep their counters in the engine totals, and nothing
// panics when a closed stream is used.
func TestCloseStopsEverything(t *testing.T) {
	before := runtime.NumGoroutine()
	e, err := New(Config{IP: loopback, RTCPInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	var ss []*Stream
	for range 10 {
		s, err := e.Open()
		if err != nil {
			t.Fatal(err)
		}
		ss = append(ss, s)
	}
	for i := 0; i < len(ss); i += 2 {
		connect(ss[i], ss[i+1], media.ULaw, eventPT)
		ss[i].SetSource(endlessTone(1000))
		ss[i+1].OnAudio(func([]int16) {})
	}
	Bridge(ss[2], ss[4])
	waitFor(t, 2*time.Second, "traffic", func() bool { return ss[1].Stats().PacketsReceived > 3 })
	ss[0].Close()
	sent := ss[0].Stats().PacketsSent
	if got := e.Stats().PacketsSent; got < sent {
		t.Errorf("engine counts %d sent, the closed stream alone %d", got, sent)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 2*time.Second, fmt.Sprintf("goroutines to drop to %d", before), func() bool {
		return runtime.NumGoroutine() <= before
	})
	if _, err := e.Open(); err != ErrClosed {
		t.Errorf("Open after Close: %v", err)
	}
	s := ss[1]
	s.SetSource(endlessTone(1))
	s.SetRemote(netip.AddrPortFrom(loopback, 9), media.ALaw, 0)
	if err := s.SendDigits("1", 100, 0); err == nil {
		t.Error("SendDigits on a closed stream succeeded")
	}
	if err := s.Close(); err != nil {
		t.Error(err)
	}
	if st := e.Stats(); st.PacketsSent == 0 || st.RTCPSent == 0 {
		t.Errorf("engine totals lost after Close: %+v", st)
	}
}

// TestTap sees both directions of RTP and RTCP.
func TestTap(t *testing.T) {
	var rtpOut, rtpIn, rtcpOut, rtcpIn atomic.Int64
	var a *Stream
	var aAddr atomic.Value
	tap := func(local, remote netip.AddrPort, b []byte, sent bool) {
		al, _ := aAddr.Load().(netip.AddrPort)
		if local != al && local.Port() != al.Port()+1 {
			return
		}
		isRTCP := local.Port() != al.Port()
		switch {
		case !isRTCP && sent:
			rtpOut.Add(1)
		case !isRTCP:
			rtpIn.Add(1)
		case sent:
			rtcpOut.Add(1)
		default:
			rtcpIn.Add(1)
		}
	}
	e := newEngine(t, Config{Tap: tap, RTCPInterval: 50 * time.Millisecond})
	a = open(t, e)
	aAddr.Store(a.LocalAddr())
	b := open(t, e)
	connect(a, b, media.ULaw, 0)
	a.SetSource(endlessTone(1000))
	b.SetSource(endlessTone(1000))
	waitFor(t, 3*time.Second, "tapped traffic", func() bool {
		return rtpOut.Load() > 3 && rtpIn.Load() > 3 && rtcpOut.Load() > 0 && rtcpIn.Load() > 0
	})
}

// TestSourceWaitsForRemote: a prompt set before the far end's address is
// known is played from its start once it is.
func TestSourceWaitsForRemote(t *testing.T) {
	e := newEngine(t, Config{})
	s := open(t, e)
	s.SetSource(newToneSource(media.Beep(1000, 5*media.FrameMs)))
	time.Sleep(200 * time.Millisecond)
	peer := rawUDP(t)
	s.SetRemote(addrOf(peer), media.ULaw, 0)
	n := 0
	for {
		if _, ok := readRaw(t, peer, 300*time.Millisecond); !ok {
			break
		}
		n++
		if n > 10 {
			break
		}
	}
	if n != 5 {
		t.Errorf("%d packets, want the whole 5-frame prompt", n)
	}
}

// TestNoSockets: media off — streams advertise the discard port, open no
// sockets or goroutines, and accept every call as a no-op.
func TestNoSockets(t *testing.T) {
	before := runtime.NumGoroutine()
	e, err := New(Config{IP: netip.MustParseAddr("127.0.0.1"), NoSockets: true})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	var streams []*Stream
	for i := 0; i < 100; i++ {
		s, err := e.Open()
		if err != nil {
			t.Fatal(err)
		}
		if s.LocalAddr().Port() != 9 {
			t.Fatalf("LocalAddr %v, want the discard port 9", s.LocalAddr())
		}
		s.SetRemote(netip.MustParseAddrPort("127.0.0.1:40000"), media.ULaw, 101)
		s.SetSource(media.ToneSource(media.Beep(1000, 1000)))
		streams = append(streams, s)
	}
	// one pacer goroutine, nothing per stream
	if g := runtime.NumGoroutine() - before; g > 2 {
		t.Errorf("%d goroutines for 100 socketless streams", g)
	}
	time.Sleep(100 * time.Millisecond)
	for _, s := range streams {
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if st := e.Stats(); st.PacketsSent != 0 || st.RTCPSent != 0 {
		t.Errorf("socketless streams sent %+v", st)
	}
}
