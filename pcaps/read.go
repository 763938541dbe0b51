package pcaps

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// packetSource is what pcap and pcapng readers have in common.
type packetSource interface {
	ZeroCopyReadPacketData() ([]byte, gopacket.CaptureInfo, error)
	LinkType() layers.LinkType
}

// openSource sniffs the file format from its first four bytes: pcapng
// starts with a Section Header Block (0x0A0D0D0A), classic pcap with one of
// the four magic numbers (µs or ns, either byte order).
func openSource(r io.Reader) (packetSource, string, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	magic, err := br.Peek(4)
	if err != nil {
		return nil, "", fmt.Errorf("not a capture: %d bytes, too short for a pcap or pcapng header", len(magic))
	}
	switch binary.BigEndian.Uint32(magic) {
	case 0x0A0D0D0A:
		ng, err := newNgReader(&ngBlockReader{r: br})
		if err != nil {
			return nil, "", fmt.Errorf("pcapng: %w", err)
		}
		return ng, "pcapng", nil
	case 0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1:
		pr, err := pcapgo.NewReader(br)
		if err != nil {
			return nil, "", fmt.Errorf("pcap: %w", err)
		}
		// The reader allocates a buffer of the header's snap length (up
		// to 4 GiB): bound it; larger packets are refused with an error.
		if pr.Snaplen() > maxPacket || pr.Snaplen() == 0 {
			pr.SetSnaplen(maxPacket)
		}
		return pr, "pcap", nil
	}
	return nil, "", fmt.Errorf("not a capture: magic number %#08x is neither pcapng nor pcap", binary.BigEndian.Uint32(magic))
}

// transport says which transport layer a packet carried.
type transport uint8

const (
	transportNone transport = iota
	transportTCP
	transportUDP
)

// packet is one decoded frame: the layers the decoder cares about. The
// layer structs are reused for every frame (gopacket's DecodingLayer
// pattern), so nothing here outlives the next call to next.
type packet struct {
	frame   int // 1-based, as Wireshark numbers frames
	ts      time.Time
	length  int // bytes captured
	src     netip.AddrPort
	dst     netip.AddrPort
	proto   transport
	tcp     *layers.TCP
	payload []byte
	netFlow gopacket.Flow
}

// linkDecoder turns captured frames into packets, whatever the link type.
type linkDecoder struct {
	link  layers.LinkType
	eth   layers.Ethernet
	dot1q layers.Dot1Q
	ip4   layers.IPv4
	ip6   layers.IPv6
	tcp   layers.TCP
	udp   layers.UDP
	// One parser per first layer: a DecodingLayerParser starts at a fixed
	// layer type, and raw-IP links carry either version.
	fromEth, fromIP4, fromIP6 *gopacket.DecodingLayerParser
	decoded                   []gopacket.LayerType
}

func newLinkDecoder(link layers.LinkType) (*linkDecoder, error) {
	d := &linkDecoder{link: link}
	switch link {
	case layers.LinkTypeEthernet, layers.LinkTypeNull, layers.LinkTypeLoop, layers.LinkTypeLinuxSLL,
		layers.LinkTypeRaw, layers.LinkTypeIPv4, layers.LinkTypeIPv6, 12:
		// All but Ethernet have headers we strip by hand (see strip); 12
		// is LINKTYPE_RAW as OpenBSD numbers it.
	default:
		return nil, fmt.Errorf("link type %d (%s) is not supported: Ethernet, Linux cooked (SLL), loopback (Null/Loop) and raw IP are", int(link), link)
	}
	mk := func(first gopacket.LayerType) *gopacket.DecodingLayerParser {
		p := gopacket.NewDecodingLayerParser(first, &d.eth, &d.dot1q, &d.ip4, &d.ip6, &d.tcp, &d.udp)
		p.IgnoreUnsupported = true
		return p
	}
	d.fromEth, d.fromIP4, d.fromIP6 = mk(layers.LayerTypeEthernet), mk(layers.LayerTypeIPv4), mk(layers.LayerTypeIPv6)
	return d, nil
}

// errNotIP marks frames that carry no IPv4/IPv6 (ARP, LLDP, …): skipped
// silently, they are not part of any protocol we follow.
var errNotIP = errors.New("not IP")

// strip removes a non-Ethernet link header and says which IP version
// follows.
func (d *linkDecoder) strip(data []byte) ([]byte, gopacket.LayerType, error) {
	switch d.link {
	case layers.LinkTypeEthernet:
		return data, layers.LayerTypeEthernet, nil
	case layers.LinkTypeNull, layers.LinkTypeLoop:
		// 4-byte address family, host byte order for Null, network order
		// for Loop; AF_INET is 2 everywhere, AF_INET6 24/28/30.
		if len(data) < 4 {
			return nil, 0, errors.New("truncated loopback header")
		}
		fam := binary.LittleEndian.Uint32(data)
		if d.link == layers.LinkTypeLoop || fam > 0xffff {
			fam = binary.BigEndian.Uint32(data)
		}
		switch fam {
		case 2:
			return data[4:], layers.LayerTypeIPv4, nil
		case 10, 24, 28, 30:
			return data[4:], layers.LayerTypeIPv6, nil
		}
		return nil, 0, errNotIP
	case layers.LinkTypeLinuxSLL:
		if len(data) < 16 {
			return nil, 0, errors.New("truncated Linux cooked header")
		}
		switch binary.BigEndian.Uint16(data[14:]) {
		case 0x0800:
			return data[16:], layers.LayerTypeIPv4, nil
		case 0x86dd:
			return data[16:], layers.LayerTypeIPv6, nil
		}
		return nil, 0, errNotIP
	}
	if len(data) == 0 {
		return nil, 0, errors.New("empty frame")
	}
	switch data[0] >> 4 {
	case 4:
		return data, layers.LayerTypeIPv4, nil
	case 6:
		return data, layers.LayerTypeIPv6, nil
	}
	return nil, 0, errNotIP
}

// decode fills p from one captured frame. It returns errNotIP for frames
// that are not IP, and a descriptive error for damaged ones.
func (d *linkDecoder) decode(data []byte, p *packet) error {
	body, first, err := d.strip(data)
	if err != nil {
		return err
	}
	parser := d.fromEth
	switch first {
	case layers.LayerTypeIPv4:
		parser = d.fromIP4
	case layers.LayerTypeIPv6:
		parser = d.fromIP6
	}
	if err := parser.DecodeLayers(body, &d.decoded); err != nil {
		// A layer that fails after IP was decoded (a truncated TCP header,
		// say) is reported; the frame contributes nothing.
		return fmt.Errorf("%v", err)
	}
	p.proto = transportNone
	p.tcp = nil
	p.payload = nil
	var srcIP, dstIP netip.Addr
	sawIP := false
	for _, lt := range d.decoded {
		switch lt {
		case layers.LayerTypeIPv4:
			srcIP, _ = netip.AddrFromSlice(d.ip4.SrcIP.To4())
			dstIP, _ = netip.AddrFromSlice(d.ip4.DstIP.To4())
			p.netFlow = d.ip4.NetworkFlow()
			sawIP = true
			if d.ip4.Flags&layers.IPv4MoreFragments != 0 || d.ip4.FragOffset != 0 {
				return fmt.Errorf("IPv4 fragment (offset %d) not reassembled", int(d.ip4.FragOffset)*8)
			}
		case layers.LayerTypeIPv6:
			srcIP, _ = netip.AddrFromSlice(d.ip6.SrcIP)
			dstIP, _ = netip.AddrFromSlice(d.ip6.DstIP)
			p.netFlow = d.ip6.NetworkFlow()
			sawIP = true
		case layers.LayerTypeTCP:
			p.proto = transportTCP
			p.tcp = &d.tcp
			p.payload = d.tcp.Payload
			p.src = netip.AddrPortFrom(srcIP, uint16(d.tcp.SrcPort))
			p.dst = netip.AddrPortFrom(dstIP, uint16(d.tcp.DstPort))
		case layers.LayerTypeUDP:
			p.proto = transportUDP
			p.payload = d.udp.Payload
			p.src = netip.AddrPortFrom(srcIP, uint16(d.udp.SrcPort))
			p.dst = netip.AddrPortFrom(dstIP, uint16(d.udp.DstPort))
		}
	}
	if !sawIP {
		return errNotIP
	}
	return nil
}

// newNgReader guards against pcapgo panicking on a damaged header the
// block checks did not foresee.
func newNgReader(r io.Reader) (ng *pcapgo.NgReader, err error) {
	defer func() {
		if p := recover(); p != nil {
			ng, err = nil, fmt.Errorf("damaged section or interface header (pcapgo: %v)", p)
		}
	}()
	return pcapgo.NewNgReader(r, pcapgo.NgReaderOptions{})
}

// readPacket guards against pcapgo panicking on a damaged block the block
// checks did not foresee: the capture then ends there with an error.
func readPacket(src packetSource) (data []byte, ci gopacket.CaptureInfo, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("damaged block (pcapgo: %v)", p)
		}
	}()
	return src.ZeroCopyReadPacketData()
}
