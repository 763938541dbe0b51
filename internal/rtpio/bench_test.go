package rtpio

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/ipcclab/ipcclab/internal/media"
)

// BenchmarkSendFrame is the pacer's work for one packet of one stream: read
// a tone frame, G.711-encode it and marshal the RTP packet into the reused
// buffer ("marshal"), and the same plus the sendto on loopback ("sendto").
func BenchmarkSendFrame(b *testing.B) {
	for _, src := range []struct {
		name string
		src  media.Source
	}{{"tone+encode+marshal", endlessTone(1000)}, {"encode+marshal", frameSource{}}} {
		b.Run(src.name, func(b *testing.B) {
			s := detached(b, peerAddr, media.ULaw, eventPT)
			s.SetSource(src.src)
			rc := s.rcfg.Load()
			b.ReportAllocs()
			for b.Loop() {
				s.mu.Lock()
				s.slot(rc)
				s.mu.Unlock()
			}
			if s.Stats().PacketsSent == 0 {
				b.Fatal("nothing sent")
			}
		})
	}
	b.Run("tone+encode+marshal+sendto", func(b *testing.B) {
		e := newEngine(b, Config{})
		s := open(b, e)
		sink := rawUDP(b) // never read: the kernel drops what overflows
		s.SetRemote(addrOf(sink), media.ULaw, eventPT)
		s.SetSource(endlessTone(1000))
		s.mu.Lock()
		defer s.mu.Unlock() // keeps the pacer off this stream
		rc := s.rcfg.Load()
		b.ReportAllocs()
		for b.Loop() {
			s.slot(rc)
		}
	})
}

// frameSource replays one prepared frame, so the benchmark measures the
// send path rather than the tone generator.
type frameSource struct{}

var benchFrame = func() (f [media.FrameSamples]int16) {
	newToneSource(media.Beep(1000, 20)).ReadFrame(f[:])
	return f
}()

func (frameSource) ReadFrame(dst []int16) bool { copy(dst, benchFrame[:]); return true }

// BenchmarkReceivePacket is the receive path for one datagram, without and
// with decoding for OnAudio.
func BenchmarkReceivePacket(b *testing.B) {
	for _, decode := range []bool{false, true} {
		name := "count"
		if decode {
			name = "decode"
		}
		b.Run(name, func(b *testing.B) {
			s := detached(b, peerAddr, media.ULaw, eventPT)
			if decode {
				s.OnAudio(func([]int16) {})
			}
			pkt := mkRTP(0, false, 0, 0, 9, make([]byte, 160))
			now := epoch
			var i uint32
			b.ReportAllocs()
			for b.Loop() {
				binary.BigEndian.PutUint16(pkt[2:], uint16(i))
				binary.BigEndian.PutUint32(pkt[4:], i*160)
				now = now.Add(ptime)
				s.receiveRTP(pkt, peerAddr, now)
				i++
			}
			if st := s.Stats(); st.Lost != 0 || st.PacketsReceived == 0 {
				b.Fatalf("%+v", st)
			}
		})
	}
}

// BenchmarkLoopback1000Streams runs 500 calls (1,000 streams, each sending
// and receiving a tone) through one engine on loopback for each iteration's
// second and reports the packet rates and the share lost or late. It is the
// capacity check of the one-pacer design; there is no assertion on speed.
func BenchmarkLoopback1000Streams(b *testing.B) {
	const calls = 500
	e := newEngine(b, Config{ReadBuffer: 64 << 10})
	var ss []*Stream
	for range calls {
		x, y := open(b, e), open(b, e)
		connect(x, y, media.ULaw, eventPT)
		x.SetSource(endlessTone(1000))
		y.SetSource(endlessTone(1500))
		ss = append(ss, x, y)
	}
	time.Sleep(200 * time.Millisecond) // every stream under way
	start, t0 := e.Stats(), time.Now()
	for b.Loop() {
		time.Sleep(time.Second)
	}
	end, secs := e.Stats(), time.Since(t0).Seconds()
	sent := float64(end.PacketsSent - start.PacketsSent)
	recv := float64(end.PacketsReceived - start.PacketsReceived)
	b.ReportMetric(sent/secs, "sent/s")
	b.ReportMetric(recv/secs, "received/s")
	if sent > 0 {
		b.ReportMetric(100*float64(end.Lost-start.Lost)/sent, "%lost")
		b.ReportMetric(100*float64(end.Late-start.Late)/sent, "%late")
	}
	b.ReportMetric(float64(end.Jitter)/float64(time.Millisecond), "max-jitter-ms")
	for _, s := range ss {
		s.Close()
	}
}
