package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net/netip"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// pkt is one decoded packet of a capture.
type pkt struct {
	ts       time.Time
	data     []byte
	src, dst netip.AddrPort
	udp      *layers.UDP
	tcp      *layers.TCP
	payload  []byte
}

// readCapture decodes a pcapng stream, checking the file's interface, every
// frame's layers and its checksums.
func readCapture(t *testing.T, raw []byte) []pkt {
	t.Helper()
	r, err := pcapgo.NewNgReader(bytes.NewReader(raw), pcapgo.DefaultNgReaderOptions)
	if err != nil {
		t.Fatalf("NewNgReader: %v", err)
	}
	if r.LinkType() != layers.LinkTypeEthernet {
		t.Fatalf("link type %v", r.LinkType())
	}
	intf, err := r.Interface(0)
	if err != nil || intf.Name != InterfaceName || intf.TimestampResolution != 9 {
		t.Fatalf("interface %+v, %v", intf, err)
	}
	var out []pkt
	for i := 0; ; i++ {
		data, ci, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
		if ci.CaptureLength != len(data) || ci.Length != len(data) {
			t.Fatalf("packet %d: capture info %+v for %d bytes", i, ci, len(data))
		}
		out = append(out, decode(t, i, ci.Timestamp, data))
	}
}

func decode(t *testing.T, i int, ts time.Time, data []byte) pkt {
	t.Helper()
	p := gopacket.NewPacket(data, layers.LinkTypeEthernet, gopacket.Default)
	if el := p.ErrorLayer(); el != nil {
		t.Fatalf("packet %d: decode error %v", i, el.Error())
	}
	eth, _ := p.Layer(layers.LayerTypeEthernet).(*layers.Ethernet)
	if eth == nil || eth.SrcMAC[0] != 0x02 || eth.DstMAC[0] != 0x02 {
		t.Fatalf("packet %d: ethernet %+v", i, eth)
	}
	out := pkt{ts: ts, data: data}
	var srcIP, dstIP netip.Addr
	var l4 []byte // transport header + payload, without Ethernet padding
	var pseudo []byte
	switch ip := p.NetworkLayer().(type) {
	case *layers.IPv4:
		if eth.EthernetType != layers.EthernetTypeIPv4 || ip.TTL != 64 {
			t.Fatalf("packet %d: ipv4 %+v", i, ip)
		}
		hdr := data[14 : 14+int(ip.IHL)*4]
		if onesSum(hdr, 0) != 0xffff {
			t.Fatalf("packet %d: bad IPv4 header checksum", i)
		}
		if int(ip.Length) > len(data)-14 {
			t.Fatalf("packet %d: IPv4 length %d > frame", i, ip.Length)
		}
		l4 = data[14+len(hdr) : 14+int(ip.Length)]
		srcIP, _ = netip.AddrFromSlice(ip.SrcIP.To4())
		dstIP, _ = netip.AddrFromSlice(ip.DstIP.To4())
		pseudo = append(append(append([]byte{}, ip.SrcIP.To4()...), ip.DstIP.To4()...), 0, byte(ip.Protocol), byte(len(l4)>>8), byte(len(l4)))
	case *layers.IPv6:
		if eth.EthernetType != layers.EthernetTypeIPv6 {
			t.Fatalf("packet %d: ethertype %v", i, eth.EthernetType)
		}
		l4 = data[14+40 : 14+40+int(ip.Length)]
		srcIP, _ = netip.AddrFromSlice(ip.SrcIP)
		dstIP, _ = netip.AddrFromSlice(ip.DstIP)
		pseudo = append(append(append([]byte{}, ip.SrcIP...), ip.DstIP...), 0, 0, 0, 0, 0, 0, 0, byte(ip.NextHeader))
		binary.BigEndian.PutUint32(pseudo[32:], uint32(len(l4)))
	default:
		t.Fatalf("packet %d: network layer %T", i, ip)
	}
	if onesSum(l4, onesSumRaw(pseudo)) != 0xffff {
		t.Fatalf("packet %d: bad transport checksum", i)
	}
	switch l := p.TransportLayer().(type) {
	case *layers.UDP:
		if int(l.Length) != len(l4) {
			t.Fatalf("packet %d: UDP length %d, want %d", i, l.Length, len(l4))
		}
		out.udp = l
		out.src = netip.AddrPortFrom(srcIP, uint16(l.SrcPort))
		out.dst = netip.AddrPortFrom(dstIP, uint16(l.DstPort))
		out.payload = l4[8:]
	case *layers.TCP:
		out.tcp = l
		out.src = netip.AddrPortFrom(srcIP, uint16(l.SrcPort))
		out.dst = netip.AddrPortFrom(dstIP, uint16(l.DstPort))
		out.payload = l4[int(l.DataOffset)*4:]
	default:
		t.Fatalf("packet %d: transport layer %T", i, l)
	}
	return out
}

func onesSumRaw(b []byte) uint32 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	return s
}

func onesSum(b []byte, s uint32) uint16 {
	s += onesSumRaw(b)
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return uint16(s)
}

// tcpChecker replays a capture's TCP packets and checks sequence and
// acknowledgement arithmetic per flow; it collects each direction's stream.
type tcpChecker struct {
	t      *testing.T
	next   map[[2]netip.AddrPort]uint32 // (src,dst) -> next expected seq
	stream map[[2]netip.AddrPort][]byte
}

func newTCPChecker(t *testing.T) *tcpChecker {
	return &tcpChecker{t: t, next: map[[2]netip.AddrPort]uint32{}, stream: map[[2]netip.AddrPort][]byte{}}
}

func (c *tcpChecker) check(i int, p pkt) {
	c.t.Helper()
	tcp := p.tcp
	dir, rev := [2]netip.AddrPort{p.src, p.dst}, [2]netip.AddrPort{p.dst, p.src}
	next, seen := c.next[dir]
	switch {
	case tcp.SYN:
		if seen {
			c.t.Fatalf("packet %d: second SYN on %v", i, dir)
		}
		if len(tcp.Options) == 0 || tcp.Options[0].OptionType != layers.TCPOptionKindMSS {
			c.t.Fatalf("packet %d: SYN without MSS: %+v", i, tcp.Options)
		}
		next = tcp.Seq
	case !seen:
		c.t.Fatalf("packet %d: segment before SYN on %v", i, dir)
	case tcp.Seq != next:
		c.t.Fatalf("packet %d: seq %d, want %d", i, tcp.Seq, next)
	}
	if len(p.payload) > MSS {
		c.t.Fatalf("packet %d: %d-byte segment", i, len(p.payload))
	}
	if tcp.ACK {
		if want, ok := c.next[rev]; !ok || tcp.Ack != want {
			c.t.Fatalf("packet %d: ack %d, want %d", i, tcp.Ack, want)
		}
	} else if !tcp.SYN {
		c.t.Fatalf("packet %d: no ACK", i)
	}
	next += uint32(len(p.payload))
	if tcp.SYN || tcp.FIN {
		next++
	}
	c.next[dir] = next
	c.stream[dir] = append(c.stream[dir], p.payload...)
}
