package rtpio

import (
	"net/netip"
	"testing"
	"time"

	"github.com/pion/rtcp"

	"github.com/ipcclab/ipcclab/internal/media"
)

// FuzzReceive feeds arbitrary datagrams to the receive paths of a stream
// bridged to another with the other law, from the remote and from a
// stranger. Nothing may panic and every datagram must land in exactly one
// counter.
func FuzzReceive(f *testing.F) {
	ev, _ := media.TelephoneEvent{Event: 5, End: true, Duration: 480}.Marshal()
	sr, _ := rtcp.Marshal([]rtcp.Packet{&rtcp.SenderReport{SSRC: 1, NTPTime: 1 << 40}, rtcp.NewCNAMESourceDescription(1, "c")})
	f.Add(mkRTP(0, true, 1, 160, 9, make([]byte, 160)), uint8(0))
	f.Add(mkRTP(eventPT, true, 65535, 0, 9, ev), uint8(1))
	f.Add(mkRTP(13, false, 7, 0, 9, []byte{30}), uint8(2))
	f.Add(sr, uint8(3))
	f.Add(sr, uint8(0))
	f.Add([]byte{0xbf, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 1, 0xbe, 0xde}, uint8(0))
	f.Add([]byte{0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5}, uint8(0))
	f.Add([]byte{}, uint8(4))
	f.Fuzz(func(t *testing.T, b []byte, how uint8) {
		s := detached(t, peerAddr, media.ULaw, eventPT)
		peer := detached(t, netip.AddrPortFrom(loopback, 30010), media.ALaw, 96)
		stop := Bridge(s, peer)
		defer stop()
		s.OnAudio(func([]int16) {})
		s.OnDigit(func(byte) {})
		now := epoch.Add(time.Duration(how) * 7 * time.Millisecond)
		// Twice, so sequence and event state see a repeat.
		for range 2 {
			switch how % 4 {
			case 0, 1:
				s.receiveRTP(b, peerAddr, now)
			case 2:
				s.receiveRTCP(b, peerRTCP, now)
			case 3:
				s.receiveRTP(b, stranger, now)
			}
		}
		st := s.Stats()
		landed := st.PacketsReceived + st.UnknownSource + st.WrongPayloadType + st.Malformed + st.RTCPReceived
		if landed != 2 {
			t.Fatalf("2 datagrams, %d accounted for: %+v", landed, st)
		}
		if st.Duplicates > 1 || st.Lost > 1<<32 {
			t.Fatalf("implausible %+v", st)
		}
		s.mu.Lock()
		s.report(now, s.rcfg.Load(), true) // reports on any state must marshal
		s.mu.Unlock()
	})
}
