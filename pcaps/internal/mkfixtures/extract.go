package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"github.com/ipcclab/ipcclab/protocol/cti"
)

// extraction is what extract reads from a clean capture — one written by
// internal/capture, where every TCP segment is there once and in order:
// the CTI sessions (as ledgers), the SIP dialogs and the RTP streams.
//
// It is the generator's bookkeeping for the live step-5 recording, whose
// contents no one wrote by hand, and the tests' cross-check that the
// other clean fixtures hold what their .expect.yaml says. It is not a
// decoder: it refuses what it does not expect (a gap, a stream without its
// SYN, a message that does not decode) instead of recovering from it.
type extraction struct {
	t0      time.Time
	packets int
	cti     []*ledger
	sip     []Dialog
	rtp     []Stream
}

type tcpConn struct {
	ep    [2]netip.AddrPort // client, server
	isn   [2]uint32
	data  [2][]byte
	segs  [2][]segment
	end   *End
	order int
}

type rtpKey struct {
	src, dst netip.AddrPort
	ssrc     uint32
}

type rtpAcc struct {
	st      Stream
	ext     int64 // extended highest sequence number
	base    int64
	lastSeq uint16
	seen    bool
	order   int
}

func extract(pcap []byte) (*extraction, error) {
	rd, err := pcapgo.NewNgReader(bytes.NewReader(pcap), pcapgo.DefaultNgReaderOptions)
	if err != nil {
		return nil, err
	}
	x := &extraction{}
	conns := map[[2]netip.AddrPort]*tcpConn{}
	dialogs := map[string]int{}
	streams := map[rtpKey]*rtpAcc{}
	for frame := 1; ; frame++ {
		data, ci, err := rd.ReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("frame %d: %w", frame, err)
		}
		x.packets = frame
		if frame == 1 {
			x.t0 = ci.Timestamp
		}
		t := secs(ci.Timestamp.Sub(x.t0))
		p := gopacket.NewPacket(data, layers.LinkTypeEthernet, gopacket.DecodeOptions{Lazy: true, NoCopy: true})
		ip4, _ := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
		if ip4 == nil {
			return nil, fmt.Errorf("frame %d: not IPv4", frame)
		}
		src4, _ := netip.AddrFromSlice(ip4.SrcIP)
		dst4, _ := netip.AddrFromSlice(ip4.DstIP)
		if tcp, ok := p.Layer(layers.LayerTypeTCP).(*layers.TCP); ok {
			src, dst := netip.AddrPortFrom(src4, uint16(tcp.SrcPort)), netip.AddrPortFrom(dst4, uint16(tcp.DstPort))
			key := [2]netip.AddrPort{src, dst}
			if src.Compare(dst) > 0 {
				key = [2]netip.AddrPort{dst, src}
			}
			c := conns[key]
			if c == nil {
				if !tcp.SYN || tcp.ACK {
					return nil, fmt.Errorf("frame %d: TCP %v → %v without its SYN", frame, src, dst)
				}
				c = &tcpConn{ep: [2]netip.AddrPort{src, dst}, order: len(conns)}
				c.isn[0] = tcp.Seq
				conns[key] = c
				continue
			}
			dir := fromClient
			if src != c.ep[0] {
				dir = fromServer
			}
			if tcp.SYN {
				c.isn[dir] = tcp.Seq
				continue
			}
			if tcp.FIN && c.end == nil {
				c.end = &End{How: "fin", From: sideName[dir], Frame: frame, T: t}
			}
			if tcp.RST && c.end == nil {
				c.end = &End{How: "rst", From: sideName[dir], Frame: frame, T: t}
			}
			if len(tcp.Payload) == 0 {
				continue
			}
			off := int(tcp.Seq - c.isn[dir] - 1)
			if off != len(c.data[dir]) {
				return nil, fmt.Errorf("frame %d: TCP %v → %v segment at offset %d, expected %d (not a clean capture)", frame, src, dst, off, len(c.data[dir]))
			}
			c.data[dir] = append(c.data[dir], tcp.Payload...)
			c.segs[dir] = append(c.segs[dir], segment{off: off, n: len(tcp.Payload), frame: frame, ts: ci.Timestamp})
			continue
		}
		udp, ok := p.Layer(layers.LayerTypeUDP).(*layers.UDP)
		if !ok {
			continue
		}
		src, dst := netip.AddrPortFrom(src4, uint16(udp.SrcPort)), netip.AddrPortFrom(dst4, uint16(udp.DstPort))
		pl := udp.Payload
		if m, ok := parseSIP(pl); ok {
			m.Frame, m.T, m.Src, m.Dst = frame, t, src.String(), dst.String()
			id := sipHeader(pl, "Call-ID", "i")
			k, seen := dialogs[id]
			if !seen {
				k = len(x.sip)
				dialogs[id] = k
				x.sip = append(x.sip, Dialog{CallID: id})
			}
			x.sip[k].Messages = append(x.sip[k].Messages, m)
			continue
		}
		if len(pl) >= 12 && pl[0]>>6 == 2 && !(pl[1]&0x7f >= 72 && pl[1]&0x7f <= 76) {
			key := rtpKey{src, dst, binary.BigEndian.Uint32(pl[8:12])}
			a := streams[key]
			if a == nil {
				a = &rtpAcc{order: len(streams), st: Stream{Src: src.String(), Dst: dst.String(), SSRC: fmt.Sprintf("0x%08x", key.ssrc),
					PayloadType: pl[1] & 0x7f, FirstFrame: frame, FirstT: t}}
				streams[key] = a
			}
			seq := binary.BigEndian.Uint16(pl[2:4])
			if pt := pl[1] & 0x7f; pt == 101 {
				a.st.Events++
			} else if a.st.PayloadType == 101 {
				a.st.PayloadType = pt // a stream that began with events
			}
			if !a.seen {
				a.seen, a.base, a.ext, a.st.FirstSeq = true, int64(seq), int64(seq), seq
			} else {
				d := int64(int16(seq - a.lastSeq))
				if e := a.ext + d; e > a.ext {
					a.ext = e
				}
			}
			a.lastSeq = seq
			a.st.Packets++
			a.st.LastFrame, a.st.LastT, a.st.LastSeq = frame, t, seq
		}
	}
	var cs []*tcpConn
	for _, c := range conns {
		cs = append(cs, c)
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].order < cs[j].order })
	for _, c := range cs {
		l, err := c.ledger(x.t0)
		if err != nil {
			return nil, err
		}
		if l != nil {
			x.cti = append(x.cti, l)
		}
	}
	var accs []*rtpAcc
	for _, a := range streams {
		accs = append(accs, a)
	}
	sort.Slice(accs, func(i, j int) bool { return accs[i].order < accs[j].order })
	for _, a := range accs {
		a.st.Lost = int(a.ext-a.base+1) - a.st.Packets
		if a.st.Lost < 0 {
			a.st.Lost = 0 // duplicates
		}
		x.rtp = append(x.rtp, a.st)
	}
	return x, nil
}

// ledger frames a connection's streams as CTI messages; a connection whose
// client does not start with an OPEN_REQ is not CTI (nil).
func (c *tcpConn) ledger(t0 time.Time) (*ledger, error) {
	in := c.data[fromClient]
	if len(in) < 16 || binary.BigEndian.Uint32(in[4:8]) != uint32(cti.MsgOpenReq) {
		return nil, nil
	}
	pv := cti.ProtocolVersion(binary.BigEndian.Uint32(in[12:16]))
	l := newLedger(pv, c.ep[0].String(), c.ep[1].String())
	l.handshake = true
	l.end = c.end
	if l.end == nil {
		l.end = &End{How: "open"}
	}
	for dir := range 2 {
		b := c.data[dir]
		for len(b) > 0 {
			if len(b) < cti.HeaderSize {
				return nil, fmt.Errorf("CTI %v: %d stray bytes at the end of the %s's stream", c.ep, len(b), sideName[dir])
			}
			n := cti.HeaderSize + int(binary.BigEndian.Uint32(b))
			if n > len(b) {
				return nil, fmt.Errorf("CTI %v: the %s's last message is cut short", c.ep, sideName[dir])
			}
			if _, err := l.addFrame(dir, b[:n]); err != nil {
				return nil, fmt.Errorf("CTI %v: %w", c.ep, err)
			}
			b = b[n:]
		}
		l.segs[dir] = c.segs[dir]
	}
	l.resolve(t0)
	return l, nil
}

// parseSIP recognises a SIP request or response and returns its summary.
func parseSIP(b []byte) (SIPMsg, bool) {
	line, _, ok := strings.Cut(string(b), "\r\n")
	if !ok {
		return SIPMsg{}, false
	}
	var m SIPMsg
	switch {
	case strings.HasPrefix(line, "SIP/2.0 "):
		m.Line = strings.TrimPrefix(line, "SIP/2.0 ")
	case strings.HasSuffix(line, " SIP/2.0") && strings.Contains(line, " sip:"):
		m.Line, _, _ = strings.Cut(line, " ")
	default:
		return SIPMsg{}, false
	}
	m.CSeq = sipHeader(b, "CSeq", "")
	if _, body, ok := strings.Cut(string(b), "\r\n\r\n"); ok && body != "" {
		var addr, port string
		for _, l := range strings.Split(body, "\r\n") {
			if v, ok := strings.CutPrefix(l, "c=IN IP4 "); ok {
				addr = v
			}
			if v, ok := strings.CutPrefix(l, "m=audio "); ok {
				port, _, _ = strings.Cut(v, " ")
			}
		}
		if addr != "" && port != "" {
			m.SDP = addr + ":" + port
		}
	}
	return m, true
}

// sipHeader returns a header's value (by its name or compact form).
func sipHeader(b []byte, name, compact string) string {
	head, _, _ := strings.Cut(string(b), "\r\n\r\n")
	for _, l := range strings.Split(head, "\r\n")[1:] {
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		k = strings.TrimSpace(k)
		if strings.EqualFold(k, name) || (compact != "" && strings.EqualFold(k, compact)) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
