package pcaps

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"github.com/ipcclab/ipcclab/internal/capture"
	"github.com/ipcclab/ipcclab/protocol/cti"
)

var t0 = time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)

// frameOf encodes a typed message at pv.
func frameOf(t testing.TB, m cti.Message, pv cti.ProtocolVersion) []byte {
	t.Helper()
	b, err := cti.AppendMessage(nil, m, pv)
	if err != nil {
		t.Fatalf("encode %T: %v", m, err)
	}
	return b
}

// step is one write of a constructed session: bytes from one side at an
// offset from t0.
type step struct {
	at         time.Duration
	fromClient bool
	data       []byte
}

// sessionCapture writes one TCP connection carrying the steps, closed by
// the server at the end when close is set.
func sessionCapture(t testing.TB, client, server string, steps []step, close bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := capture.New(&buf)
	if err != nil {
		t.Fatal(err)
	}
	f := w.NewTCPFlow(t0, netip.MustParseAddrPort(client), netip.MustParseAddrPort(server))
	last := time.Duration(0)
	for _, s := range steps {
		f.Data(t0.Add(s.at), s.fromClient, s.data)
		last = s.at
	}
	if close {
		f.Close(t0.Add(last+time.Second), false)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// rewrite reads a capture and writes it back as pcapng through edit, which
// gets the 1-based frame number and returns the frames to write in its
// place (none to drop it, two to duplicate it).
func rewrite(t testing.TB, raw []byte, edit func(n int, data []byte) [][]byte) []byte {
	t.Helper()
	r, err := pcapgo.NewNgReader(bytes.NewReader(raw), pcapgo.NgReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	w, err := pcapgo.NewNgWriter(&out, layers.LinkTypeEthernet)
	if err != nil {
		t.Fatal(err)
	}
	for n := 1; ; n++ {
		data, ci, err := r.ReadPacketData()
		if err != nil {
			break
		}
		for _, d := range edit(n, data) {
			ci := gopacket.CaptureInfo{Timestamp: ci.Timestamp, CaptureLength: len(d), Length: len(d), InterfaceIndex: 0}
			if err := w.WritePacket(ci, d); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// tcpPayloadLen returns the TCP payload length of an Ethernet frame (0 for
// anything else).
func tcpPayloadLen(data []byte) int {
	p := gopacket.NewPacket(data, layers.LayerTypeEthernet, gopacket.Default)
	if tl, ok := p.TransportLayer().(*layers.TCP); ok {
		return len(tl.Payload)
	}
	return 0
}

func decodeBytes(t testing.TB, raw []byte) *Capture {
	t.Helper()
	c, err := Decode(bytes.NewReader(raw), Options{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func notesText(c *Capture) string {
	var b strings.Builder
	for _, n := range c.Notes {
		b.WriteString(n.Where + ": " + n.Text + "\n")
	}
	return b.String()
}
