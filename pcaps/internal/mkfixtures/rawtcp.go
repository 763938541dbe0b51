package main

import (
	"bytes"
	"math"
	"net/netip"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"github.com/ipcclab/ipcclab/internal/capture"
	"github.com/ipcclab/ipcclab/protocol/cti"
)

// rawFile is a capture whose TCP segments the generator places one by one,
// for what internal/capture never writes: a connection without its
// handshake, a segment the capture missed, a retransmission, segments out of
// order, a reset, the receiver's pure ACKs. The frames are built like
// internal/capture's (MACs 02:00:a.b.c.d, TTL 64, DF, window 0xffff scaled
// by 7, the same SYN options), so these fixtures differ from the others
// only where they mean to.
type rawFile struct {
	buf  bytes.Buffer
	ng   *pcapgo.NgWriter
	sb   gopacket.SerializeBuffer
	n    int
	ipID uint16
	t0   time.Time
}

func newRawFile(t0 time.Time) *rawFile {
	r := &rawFile{t0: t0, sb: gopacket.NewSerializeBuffer()}
	intf := pcapgo.NgInterface{Name: capture.InterfaceName, Description: "ipcclab mkfixtures (constructed frames)",
		LinkType: layers.LinkTypeEthernet, TimestampResolution: 9}
	// No OS or hardware in the section header: these files must come out
	// byte for byte the same wherever they are generated.
	ng, err := pcapgo.NewNgWriterInterface(&r.buf, intf, pcapgo.NgWriterOptions{SectionInfo: pcapgo.NgSectionInfo{Application: "ipcclab mkfixtures"}})
	if err != nil {
		panic("mkfixtures: pcapng writer on a buffer: " + err.Error())
	}
	r.ng = ng
	return r
}

func (r *rawFile) at(s float64) time.Time {
	return r.t0.Add(time.Duration(math.Round(s * float64(time.Second))))
}

func (r *rawFile) bytes() []byte {
	if err := r.ng.Flush(); err != nil {
		panic("mkfixtures: flushing a capture on a buffer: " + err.Error())
	}
	return r.buf.Bytes()
}

// packet writes one Ethernet/IPv4/TCP frame and returns its frame number.
func (r *rawFile) packet(ts time.Time, src, dst netip.AddrPort, tcp layers.TCP, payload []byte) int {
	s4, d4 := src.Addr().As4(), dst.Addr().As4()
	eth := layers.Ethernet{SrcMAC: []byte{2, 0, s4[0], s4[1], s4[2], s4[3]}, DstMAC: []byte{2, 0, d4[0], d4[1], d4[2], d4[3]},
		EthernetType: layers.EthernetTypeIPv4}
	r.ipID++
	ip := layers.IPv4{Version: 4, TTL: 64, Flags: layers.IPv4DontFragment, Id: r.ipID, Protocol: layers.IPProtocolTCP,
		SrcIP: s4[:], DstIP: d4[:]}
	tcp.SrcPort, tcp.DstPort = layers.TCPPort(src.Port()), layers.TCPPort(dst.Port())
	tcp.Window = 0xffff
	if err := tcp.SetNetworkLayerForChecksum(&ip); err != nil {
		panic("mkfixtures: " + err.Error())
	}
	pl := gopacket.Payload(payload)
	if err := gopacket.SerializeLayers(r.sb, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, &eth, &ip, &tcp, pl); err != nil {
		panic("mkfixtures: serializing a frame: " + err.Error())
	}
	data := r.sb.Bytes()
	if err := r.ng.WritePacket(gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(data), Length: len(data)}, data); err != nil {
		panic("mkfixtures: writing a frame to a buffer: " + err.Error())
	}
	r.n++
	return r.n
}

// rawConn is one CTI connection in a rawFile. Offsets are positions in a
// side's byte stream (0 = the first byte after its SYN); a side's sequence
// number for offset o is its ISN + 1 + o.
type rawConn struct {
	r    *rawFile
	ep   [2]netip.AddrPort
	isn  [2]uint32
	sent [2]int // bytes each side has sent (the peer got them all, whatever the capture shows)
	l    *ledger
}

func (r *rawFile) conn(pv cti.ProtocolVersion, client, server netip.AddrPort, isnClient, isnServer uint32) *rawConn {
	return &rawConn{r: r, ep: [2]netip.AddrPort{client, server}, isn: [2]uint32{isnClient, isnServer},
		l: newLedger(pv, client.String(), server.String())}
}

func (k *rawConn) seq(dir, off int) uint32 { return k.isn[dir] + 1 + uint32(off) }

// handshake writes SYN, SYN/ACK, ACK at s seconds (MSS 1460, window scale 7).
func (k *rawConn) handshake(s float64) {
	ts := k.r.at(s)
	opts := []layers.TCPOption{
		{OptionType: layers.TCPOptionKindMSS, OptionLength: 4, OptionData: []byte{capture.MSS >> 8, capture.MSS & 0xff}},
		{OptionType: layers.TCPOptionKindNop, OptionLength: 1},
		{OptionType: layers.TCPOptionKindWindowScale, OptionLength: 3, OptionData: []byte{7}},
	}
	k.r.packet(ts, k.ep[0], k.ep[1], layers.TCP{SYN: true, Seq: k.isn[0], Options: opts}, nil)
	k.r.packet(ts, k.ep[1], k.ep[0], layers.TCP{SYN: true, ACK: true, Seq: k.isn[1], Ack: k.isn[0] + 1, Options: opts}, nil)
	k.r.packet(ts, k.ep[0], k.ep[1], layers.TCP{ACK: true, Seq: k.isn[0] + 1, Ack: k.isn[1] + 1}, nil)
	k.l.handshake = true
}

// add appends m to dir's stream without sending it (see send).
func (k *rawConn) add(dir int, m cti.Message) *ledgerMsg {
	_, lm := k.l.add(dir, m)
	return lm
}

// msg adds m and sends it at s seconds.
func (k *rawConn) msg(s float64, dir int, m cti.Message) *ledgerMsg {
	lm := k.add(dir, m)
	k.send(s, dir, lm.n)
	return lm
}

// send writes the next n unsent bytes of dir's stream at s seconds, in
// segments of at most MSS bytes, PSH on the last; it returns the frames.
func (k *rawConn) send(s float64, dir, n int) []int {
	var frames []int
	for n > 0 {
		m := min(n, capture.MSS)
		frames = append(frames, k.segment(s, dir, k.sent[dir], m, m == n))
		n -= m
	}
	return frames
}

// segment writes bytes [off, off+n) of dir's stream at s seconds — again,
// for a retransmission, or ahead of bytes not written yet, for reordering —
// and returns its frame. The ACK acknowledges everything the peer has sent.
func (k *rawConn) segment(s float64, dir, off, n int, psh bool) int {
	ts := k.r.at(s)
	if off+n > len(k.l.bytes[dir]) {
		panic("mkfixtures: segment past the end of the stream")
	}
	f := k.r.packet(ts, k.ep[dir], k.ep[1-dir], layers.TCP{ACK: true, PSH: psh, Seq: k.seq(dir, off), Ack: k.seq(1-dir, k.sent[1-dir])},
		k.l.bytes[dir][off:off+n])
	k.l.wrote(dir, off, n, f, ts)
	k.sent[dir] = max(k.sent[dir], off+n)
	return f
}

// skip marks the next n bytes of dir's stream as sent but not captured.
func (k *rawConn) skip(dir, n int) {
	k.sent[dir] += n
}

// ack writes a pure ACK from dir at s seconds.
func (k *rawConn) ack(s float64, dir int) int {
	return k.r.packet(k.r.at(s), k.ep[dir], k.ep[1-dir], layers.TCP{ACK: true, Seq: k.seq(dir, k.sent[dir]), Ack: k.seq(1-dir, k.sent[1-dir])}, nil)
}

// reset writes RST/ACK from dir at s seconds — what a socket closed with
// SO_LINGER 0 sends, as GED-188 asks of both ends (§1.1, §5.4).
func (k *rawConn) reset(s float64, dir int) int {
	f := k.r.packet(k.r.at(s), k.ep[dir], k.ep[1-dir], layers.TCP{RST: true, ACK: true, Seq: k.seq(dir, k.sent[dir]), Ack: k.seq(1-dir, k.sent[1-dir])}, nil)
	k.l.end = &End{How: "rst", From: sideName[dir], Frame: f, T: secs(k.r.at(s).Sub(k.r.t0))}
	return f
}

// close writes the FIN exchange started by dir at s seconds: FIN/ACK,
// FIN/ACK, ACK.
func (k *rawConn) close(s float64, dir int) {
	ts := k.r.at(s)
	a, b := dir, 1-dir
	f := k.r.packet(ts, k.ep[a], k.ep[b], layers.TCP{FIN: true, ACK: true, Seq: k.seq(a, k.sent[a]), Ack: k.seq(b, k.sent[b])}, nil)
	k.r.packet(ts, k.ep[b], k.ep[a], layers.TCP{FIN: true, ACK: true, Seq: k.seq(b, k.sent[b]), Ack: k.seq(a, k.sent[a]) + 1}, nil)
	k.r.packet(ts, k.ep[a], k.ep[b], layers.TCP{ACK: true, Seq: k.seq(a, k.sent[a]) + 1, Ack: k.seq(b, k.sent[b]) + 1}, nil)
	k.l.end = &End{How: "fin", From: sideName[dir], Frame: f, T: secs(ts.Sub(k.r.t0))}
}
