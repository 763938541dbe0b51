package rtpstat

import (
	"net/netip"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

var (
	t0      = time.Unix(1_700_000_000, 0).UTC()
	caller  = netip.MustParseAddrPort("10.0.0.1:20000")
	gateway = netip.MustParseAddrPort("10.0.0.2:30000")
)

func at(ms float64) time.Time { return t0.Add(time.Duration(ms * float64(time.Millisecond))) }

// rtpPacket marshals an RTP packet with pion/rtp.
func rtpPacket(t testing.TB, ssrc uint32, seq uint16, ts uint32, pt uint8, marker bool, payload []byte) []byte {
	t.Helper()
	b, err := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: seq,
		Timestamp: ts, SSRC: ssrc, Marker: marker}, Payload: payload}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// voice is a 20 ms G.711 payload.
var voice = make([]byte, 160)

// feeder sends packets of one flow to a tracker, numbering frames.
type feeder struct {
	t        testing.TB
	tr       *Tracker
	frame    int
	src, dst netip.AddrPort
	lose     map[int]bool // frames the capture missed: numbered, not delivered
}

func (f *feeder) send(ms float64, b []byte) Kind {
	f.frame++
	if f.lose[f.frame] {
		return NotRTP
	}
	return f.tr.Datagram(at(ms), f.frame, f.src, f.dst, b)
}

// pcmu sends PCMU packet number i of a 20 ms stream (seq base+i,
// timestamp 160·i) arriving at ms.
func (f *feeder) pcmu(ssrc uint32, seq uint16, i int, ms float64) Kind {
	return f.send(ms, rtpPacket(f.t, ssrc, seq, uint32(160*i), 0, i == 0, voice))
}

func only(t *testing.T, tr *Tracker) Stream {
	t.Helper()
	ss := tr.Streams()
	if len(ss) != 1 {
		t.Fatalf("got %d streams, want 1: %+v", len(ss), ss)
	}
	return ss[0]
}

func near(got, want float64) bool {
	d := got - want
	return d < 1e-9 && d > -1e-9
}

// rtpPacketPadded marshals a telephone-event packet (PT 101, marker set)
// with pad bytes of RTP padding.
func rtpPacketPadded(t testing.TB, payload []byte, pad byte) ([]byte, error) {
	t.Helper()
	return (&rtp.Packet{Header: rtp.Header{Version: 2, Padding: true, PaddingSize: pad, Marker: true,
		PayloadType: 101, SequenceNumber: 1, Timestamp: 1000, SSRC: 9}, Payload: payload}).Marshal()
}

func netipMust(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

// netipPort is the gateway's address on another port.
func netipPort(port uint16) netip.AddrPort { return netip.AddrPortFrom(gateway.Addr(), port) }

// receiverReport marshals an RTCP receiver report from reporter about
// SSRC about with pion/rtcp.
func receiverReport(t testing.TB, reporter, about uint32, fraction uint8, totalLost, jitter uint32) []byte {
	t.Helper()
	b, err := rtcp.Marshal([]rtcp.Packet{&rtcp.ReceiverReport{SSRC: reporter, Reports: []rtcp.ReceptionReport{
		{SSRC: about, FractionLost: fraction, TotalLost: totalLost, Jitter: jitter, LastSequenceNumber: 100}}}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}
