package pcaps

import (
	"bytes"
	"fmt"
	"net/netip"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/reassembly"
)

// maxBufferedPages bounds what reassembly holds for one connection while it
// waits for a missing segment (pages are about 1.9 KB): beyond it the
// oldest data is delivered and the hole reported as a gap, so one lost
// segment early in a long capture cannot hold the whole capture in memory.
const maxBufferedPages = 2048

// classifyLimit is how many bytes of a connection are searched for a CTI
// message or a SIP start line before it is declared something else.
const classifyLimit = 64 << 10

type connKind uint8

const (
	kindUnknown connKind = iota
	kindCTI
	kindSIP
	kindOther
)

// pktCtx carries a packet's capture info through reassembly. The frame
// number rides in CaptureInfo.InterfaceIndex, the only place
// ScatterGather.CaptureInfo(offset) hands back to us per segment; nothing
// else in this package reads the interface index.
type pktCtx struct{ ci gopacket.CaptureInfo }

func (c *pktCtx) GetCaptureInfo() gopacket.CaptureInfo { return c.ci }

// tcpConn is one TCP connection as reassembly sees it. Side 0 is the
// sender of the first packet seen, side 1 the other.
type tcpConn struct {
	d          *decoder
	addr       [2]netip.AddrPort
	firstFrame int
	firstTime  time.Time
	kind       connKind
	syn        [2]bool // a SYN without ACK came from this side
	data       [2]bool // data seen from this side
	fed        int64
	cti        [2]*framer
	sip        [2][]byte // unconsumed SIP-over-TCP bytes
	lastFrame  int
	lastTime   time.Time
	closeFrame int
	closeTime  time.Time
	closeHow   string // "FIN" or "RST"
	closeSide  int
	session    *Session
}

func (c *tcpConn) Accept(tcp *layers.TCP, ci gopacket.CaptureInfo, dir reassembly.TCPFlowDirection, nextSeq reassembly.Sequence, start *bool, ac reassembly.AssemblerContext) bool {
	// Captures often start mid-connection: take the data anyway, the
	// framer resynchronises.
	*start = true
	return true
}

func (c *tcpConn) ReassembledSG(sg reassembly.ScatterGather, ac reassembly.AssemblerContext) {
	dir, _, _, skip := sg.Info()
	side := 0
	if dir == reassembly.TCPDirServerToClient {
		side = 1
	}
	n, _ := sg.Lengths()
	ci := ac.GetCaptureInfo()
	// A message is reported in the frame that completed it in stream
	// order, as Wireshark's "reassembled in" does: the later of the
	// segment carrying its last byte and the packet whose arrival made
	// reassembly hand the bytes over (a segment that arrived early is not
	// complete until the one before it comes). When a flush after a gap
	// hands over buffered segments, ci is the first of them and each
	// message keeps its own segment's frame.
	info := func(rel int) (int, time.Time) {
		seg := sg.CaptureInfo(rel)
		if seg.InterfaceIndex > ci.InterfaceIndex {
			return seg.InterfaceIndex, seg.Timestamp
		}
		return ci.InterfaceIndex, ci.Timestamp
	}
	if skip > 0 {
		c.gap(side, skip, ci.InterfaceIndex, ci.Timestamp)
	}
	if n == 0 {
		return
	}
	data := sg.Fetch(n)
	if !c.data[side] {
		c.data[side] = true
		if !c.syn[side] && !c.syn[1-side] {
			// No handshake seen: the capture began inside the connection.
			c.gap(side, -1, ci.InterfaceIndex, ci.Timestamp)
		}
	}
	c.feed(side, data, info)
}

func (c *tcpConn) ReassemblyComplete(ac reassembly.AssemblerContext) bool {
	// reassembly passes no context when it closes on FIN/RST: the last
	// packet seen on the connection stands for the end.
	frame, ts := c.lastFrame, c.lastTime
	if ac != nil {
		ci := ac.GetCaptureInfo()
		frame, ts = ci.InterfaceIndex, ci.Timestamp
	}
	for side := range c.cti {
		if c.cti[side] != nil {
			c.cti[side].end(frame, ts)
		}
	}
	c.d.done = append(c.d.done, c)
	return true
}

func (c *tcpConn) gap(side, n, frame int, ts time.Time) {
	if c.kind == kindCTI || c.kind == kindUnknown {
		c.framer(side).gap(n, frame, ts)
	}
	if n > 0 && c.kind == kindSIP {
		c.sip[side] = c.sip[side][:0]
		c.d.note(frame, ts, c.where(side), fmt.Sprintf("%d bytes of SIP over TCP missing", n))
	}
}

func (c *tcpConn) framer(side int) *framer {
	if c.cti[side] == nil {
		c.cti[side] = &framer{versions: c.d.searchVersions}
	}
	return c.cti[side]
}

func (c *tcpConn) where(side int) string {
	return fmt.Sprintf("TCP %s → %s", c.addr[side], c.addr[1-side])
}

func (c *tcpConn) feed(side int, data []byte, at where) {
	if c.kind == kindUnknown && !c.data[1-side] && c.fed == 0 && looksLikeSIP(data) {
		c.kind = kindSIP
		c.cti = [2]*framer{}
	}
	switch c.kind {
	case kindSIP:
		c.sip[side] = append(c.sip[side], data...)
		fr, ts := at(len(data) - 1)
		used := c.d.media.sipStream(ts, fr, c.addr[side], c.addr[1-side], c.sip[side])
		c.sip[side] = append(c.sip[side][:0], c.sip[side][used:]...)
		if len(c.sip[side]) > classifyLimit {
			c.d.note(fr, ts, c.where(side), fmt.Sprintf("%d bytes of SIP over TCP with no complete message: dropped", len(c.sip[side])))
			c.sip[side] = c.sip[side][:0]
		}
		return
	case kindOther:
		c.fed += int64(len(data))
		return
	}
	c.fed += int64(len(data))
	f := c.framer(side)
	f.write(data, at)
	if c.kind == kindUnknown {
		if len(f.frames) > 0 {
			c.kind = kindCTI
		} else if c.fed > classifyLimit {
			c.kind = kindOther
			c.cti = [2]*framer{}
		}
	}
}

// sipMethods are the request methods a SIP stream may start with.
var sipMethods = [][]byte{[]byte("SIP/2.0 "), []byte("INVITE "), []byte("ACK "), []byte("BYE "), []byte("CANCEL "),
	[]byte("OPTIONS "), []byte("REGISTER "), []byte("PRACK "), []byte("SUBSCRIBE "), []byte("NOTIFY "),
	[]byte("PUBLISH "), []byte("INFO "), []byte("REFER "), []byte("MESSAGE "), []byte("UPDATE ")}

func looksLikeSIP(b []byte) bool {
	for _, m := range sipMethods {
		if bytes.HasPrefix(b, m) {
			return true
		}
	}
	return false
}

// connFactory creates a tcpConn for each new connection reassembly sees.
type connFactory struct{ d *decoder }

func (f connFactory) New(netFlow, tcpFlow gopacket.Flow, tcp *layers.TCP, ac reassembly.AssemblerContext) reassembly.Stream {
	d := f.d
	ci := ac.GetCaptureInfo()
	c := &tcpConn{d: d, firstFrame: ci.InterfaceIndex, firstTime: ci.Timestamp}
	c.addr[0], c.addr[1] = d.cur.src, d.cur.dst
	d.conns[connKeyOf(d.cur.src, d.cur.dst)] = c
	d.order = append(d.order, c)
	return c
}
