package pcaps

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/reassembly"

	"github.com/ipcclab/ipcclab/protocol/cti"
)

// Well-known CTI Server ports (side A, side B): used only to tell the
// server from the client when nothing else in the capture does.
const (
	ctiPortA = 42027
	ctiPortB = 43027
)

// defaultVersion is the version preferred among those that fit a session
// without an OPEN_REQ: the one this project and the reference document
// treat as current.
const defaultVersion cti.ProtocolVersion = 24

// candidateVersions are the protocol versions tried when a session has no
// OPEN_REQ, newest first.
var candidateVersions = func() []cti.ProtocolVersion {
	var out []cti.ProtocolVersion
	for v := cti.ProtocolVersion(25); v >= 2; v-- {
		out = append(out, v)
	}
	return out
}()

// inferFrom bounds the messages tried under every candidate version.
const inferFrom = 64

type connKey struct{ a, b netip.AddrPort }

func connKeyOf(x, y netip.AddrPort) connKey {
	if y.Addr().Less(x.Addr()) || (x.Addr() == y.Addr() && y.Port() < x.Port()) {
		x, y = y, x
	}
	return connKey{x, y}
}

type decoder struct {
	c     *Capture
	o     Options
	pool  *reassembly.StreamPool
	asm   *reassembly.Assembler
	conns map[connKey]*tcpConn
	order []*tcpConn
	done  []*tcpConn
	cur   *packet
	media *mediaState
	// lastFlush is the capture time of the last check for segments
	// waiting on a gap.
	lastFlush time.Time
}

// gapWait is how long (in capture time) data after a missing segment waits
// for a retransmission before the segment counts as lost: longer than
// TCP's retransmission timeout (1 s initially, RFC 6298), short enough
// that messages after a loss keep their place in the capture.
const gapWait = 3 * time.Second

func newDecoder(c *Capture, o Options) *decoder {
	d := &decoder{c: c, o: o, conns: map[connKey]*tcpConn{}}
	d.pool = reassembly.NewStreamPool(connFactory{d})
	d.asm = reassembly.NewAssembler(d.pool)
	d.asm.MaxBufferedPagesPerConnection = maxBufferedPages
	d.media = newMediaState(d)
	return d
}

func (d *decoder) note(frame int, ts time.Time, where, text string) {
	d.c.Notes = append(d.c.Notes, Note{Frame: frame, Time: ts, Where: where, Text: text})
}

// searchVersions: the versions a framer tries while resynchronising.
func (d *decoder) searchVersions() []cti.ProtocolVersion {
	if d.o.Version != 0 {
		return []cti.ProtocolVersion{d.o.Version}
	}
	return candidateVersions
}

func (d *decoder) tcp(p *packet) {
	d.cur = p
	t := p.tcp
	if c := d.conns[connKeyOf(p.src, p.dst)]; c != nil {
		d.flags(c, p)
	}
	ctx := &pktCtx{ci: gopacket.CaptureInfo{Timestamp: p.ts, InterfaceIndex: p.frame, CaptureLength: p.length, Length: p.length}}
	d.asm.AssembleWithContext(p.netFlow, t, ctx)
	// A segment the capture missed never arrives: give up waiting for it
	// once the data after it has waited gapWait of capture time, so later
	// messages are reported where they arrived and memory stays small.
	if p.ts.Sub(d.lastFlush) >= gapWait/4 {
		d.lastFlush = p.ts
		d.asm.FlushWithOptions(reassembly.FlushOptions{T: p.ts.Add(-gapWait)})
	}
	if c := d.conns[connKeyOf(p.src, p.dst)]; c != nil && c.firstFrame == p.frame {
		d.flags(c, p)
	}
}

// flags notes the handshake and the end of a connection.
func (d *decoder) flags(c *tcpConn, p *packet) {
	side := 0
	if p.src != c.addr[0] {
		side = 1
	}
	t := p.tcp
	c.lastFrame, c.lastTime = p.frame, p.ts
	if t.SYN && !t.ACK {
		c.syn[side] = true
	}
	if (t.FIN || t.RST) && c.closeHow == "" {
		c.closeFrame, c.closeTime, c.closeSide = p.frame, p.ts, side
		c.closeHow = "FIN"
		if t.RST {
			c.closeHow = "RST"
		}
	}
}

func (d *decoder) udp(p *packet) {
	d.media.datagram(p)
}

// finish flushes reassembly and turns CTI connections into sessions.
func (d *decoder) finish() {
	d.asm.FlushAll()
	for _, c := range d.order {
		switch c.kind {
		case kindCTI:
			if s := d.session(c); s != nil {
				d.c.Sessions = append(d.c.Sessions, s)
			}
		case kindOther:
			d.c.Other = append(d.c.Other, TCPConn{A: c.addr[0], B: c.addr[1], FirstFrame: c.firstFrame, Bytes: c.fed})
		case kindUnknown:
			if c.fed > 0 {
				d.c.Other = append(d.c.Other, TCPConn{A: c.addr[0], B: c.addr[1], FirstFrame: c.firstFrame, Bytes: c.fed})
			}
		}
	}
	for i, s := range d.c.Sessions {
		s.ID = i + 1
		for j := range s.Notes {
			s.Notes[j].Where = fmt.Sprintf("CTI session %d %s", s.ID, s.Notes[j].Where)
		}
		d.c.Notes = append(d.c.Notes, s.Notes...)
	}
	d.media.finish()
	sortNotes(d.c.Notes)
}

// session builds a Session from a CTI connection: who is the client, which
// protocol version, every message decoded.
func (d *decoder) session(c *tcpConn) *Session {
	s := &Session{FirstFrame: c.firstFrame, Start: c.firstTime}
	client, how := d.clientSide(c)
	s.Client, s.Server, s.RoleFrom = c.addr[client], c.addr[1-client], how
	type dirFrame struct {
		rawFrame
		fromClient bool
	}
	var all []dirFrame
	for side, f := range c.cti {
		if f == nil {
			continue
		}
		for _, fr := range f.frames {
			all = append(all, dirFrame{fr, side == client})
		}
		dir := "client→server"
		if side != client {
			dir = "server→client"
			s.ServerBytes = f.bytes
		} else {
			s.ClientBytes = f.bytes
		}
		s.MissingBytes += f.gaps
		for _, n := range f.notes {
			s.Notes = append(s.Notes, Note{Frame: n.frame, Time: n.ts, Where: dir, Text: n.text})
		}
	}
	all = mergeDirections(all, func(f dirFrame) (int, bool) { return f.frame, f.fromClient })
	for i, f := range all {
		s.Messages = append(s.Messages, &Message{Seq: i + 1, Frame: f.frame, Time: f.ts, FromClient: f.fromClient, Offset: f.offset,
			Type: cti.MessageType(binary.BigEndian.Uint32(f.data[4:])), Raw: f.data})
	}
	s.Version, s.VersionFrom = d.version(s)
	decodeMessages(s.Messages, s.Version)
	for _, m := range s.Messages {
		if m.Err != nil {
			s.Notes = append(s.Notes, Note{Frame: m.Frame, Time: m.Time, Where: strings.ToLower(m.Dir()),
				Text: fmt.Sprintf("message #%d %s does not decode under version %d: %v", m.Seq, m.Type, s.Version, m.Err)})
		}
	}
	if len(s.Messages) > 0 {
		s.End = s.Messages[len(s.Messages)-1].Time
	}
	if c.closeHow != "" {
		by := "server"
		if c.closeSide == client {
			by = "client"
		}
		s.Closed = fmt.Sprintf("%s from %s (frame %d)", c.closeHow, by, c.closeFrame)
		s.ClosedFrame, s.ClosedTime, s.ClosedBy = c.closeFrame, c.closeTime, by
		if c.closeTime.After(s.End) {
			s.End = c.closeTime
		}
	}
	sortNotes(s.Notes)
	c.session = s
	return s
}

// clientSide tells which side of the connection is the CTI client.
func (d *decoder) clientSide(c *tcpConn) (int, string) {
	switch {
	case c.syn[0] && !c.syn[1]:
		return 0, "SYN"
	case c.syn[1] && !c.syn[0]:
		return 1, "SYN"
	}
	score := [2]int{}
	for side, f := range c.cti {
		if f == nil {
			continue
		}
		for _, fr := range f.frames {
			mt := cti.MessageType(binary.BigEndian.Uint32(fr.data[4:]))
			switch {
			case mt == cti.MsgOpenReq:
				return side, "OPEN_REQ"
			case strings.HasSuffix(mt.String(), "_REQ"):
				score[side]++
			case strings.HasSuffix(mt.String(), "_EVENT"), strings.HasSuffix(mt.String(), "_CONF"):
				score[side]--
			}
		}
	}
	if score[0] != score[1] {
		if score[0] > score[1] {
			return 0, "message kinds (requests vs events)"
		}
		return 1, "message kinds (requests vs events)"
	}
	for side := range c.addr {
		if p := c.addr[1-side].Port(); p == ctiPortA || p == ctiPortB {
			return side, "port"
		}
	}
	if c.addr[0].Port() > c.addr[1].Port() {
		return 0, "port (higher port taken as client)"
	}
	return 1, "port (higher port taken as client)"
}

// version finds the session's protocol version: OPEN_REQ's VersionNumber
// when the capture has it, else the versions under which the most
// messages decode (the default version when it is among them, else the
// newest).
func (d *decoder) version(s *Session) (cti.ProtocolVersion, string) {
	for _, m := range s.Messages {
		if m.Type != cti.MsgOpenReq || !m.FromClient {
			continue
		}
		// OPEN_REQ is self-versioned: its floats use its own VersionNumber.
		if msg, err := cti.DecodeBody(m.Type, m.Raw[cti.HeaderSize:], defaultVersion); err == nil {
			v := cti.ProtocolVersion(msg.(*cti.OpenReq).VersionNumber)
			return v, fmt.Sprintf("OPEN_REQ (frame %d)", m.Frame)
		}
	}
	if d.o.Version != 0 {
		return d.o.Version, "forced (--version)"
	}
	n := min(len(s.Messages), inferFrom)
	best, fit := -1, []cti.ProtocolVersion(nil)
	for _, v := range candidateVersions {
		ok := 0
		for _, m := range s.Messages[:n] {
			if _, err := cti.DecodeBody(m.Type, m.Raw[cti.HeaderSize:], v); err == nil {
				ok++
			}
		}
		switch {
		case ok > best:
			best, fit = ok, []cti.ProtocolVersion{v}
		case ok == best:
			fit = append(fit, v)
		}
	}
	if len(fit) == 0 {
		return defaultVersion, "no messages: default"
	}
	chosen := fit[0]
	for _, v := range fit {
		if v == defaultVersion {
			chosen = v
		}
	}
	return chosen, fmt.Sprintf("inferred: no OPEN_REQ; %d of %d messages decode under versions %s", best, n, versionRanges(fit))
}

// versionRanges prints a descending version list as ranges: "20–25, 15".
func versionRanges(vs []cti.ProtocolVersion) string {
	sorted := append([]cti.ProtocolVersion(nil), vs...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	var parts []string
	for i := 0; i < len(sorted); {
		j := i
		for j+1 < len(sorted) && sorted[j+1] == sorted[j]+1 {
			j++
		}
		if i == j {
			parts = append(parts, fmt.Sprint(sorted[i]))
		} else {
			parts = append(parts, fmt.Sprintf("%d–%d", sorted[i], sorted[j]))
		}
		i = j + 1
	}
	return strings.Join(parts, ", ")
}

// mergeDirections orders the messages of both directions by the frame that
// completed them, never reordering one direction's messages (they stay in
// stream order even when a retransmission completed a later one first).
// in holds each direction's messages in stream order, one after the other.
func mergeDirections[T any](in []T, key func(T) (frame int, fromClient bool)) []T {
	var dir [2][]T
	for _, m := range in {
		_, c := key(m)
		if c {
			dir[0] = append(dir[0], m)
		} else {
			dir[1] = append(dir[1], m)
		}
	}
	out := make([]T, 0, len(in))
	a, b := dir[0], dir[1]
	for len(a) > 0 && len(b) > 0 {
		fa, _ := key(a[0])
		fb, _ := key(b[0])
		// At equal frames the client's request goes first: a segment can
		// only carry one direction, so equal frames mean the same packet
		// completed both, which happens only at a flush.
		if fa <= fb {
			out = append(out, a[0])
			a = a[1:]
		} else {
			out = append(out, b[0])
			b = b[1:]
		}
	}
	out = append(out, a...)
	return append(out, b...)
}

// decodeMessages decodes every message's body into its typed message.
// Messages are independent once the version is known, so long sessions
// are decoded on every core: this is most of the work of a CTI capture.
func decodeMessages(ms []*Message, pv cti.ProtocolVersion) {
	// ctifields agrees with the typed codec on every error (fuzzed in
	// its package), so the typed decode alone says whether a body decodes.
	one := func(m *Message) {
		m.Version = pv
		m.Msg, m.Err = cti.DecodeBody(m.Type, m.Raw[cti.HeaderSize:], pv)
	}
	workers := runtime.GOMAXPROCS(0)
	if workers < 2 || len(ms) < 512 {
		for _, m := range ms {
			one(m)
		}
		return
	}
	var wg sync.WaitGroup
	chunk := (len(ms) + workers - 1) / workers
	for lo := 0; lo < len(ms); lo += chunk {
		part := ms[lo:min(lo+chunk, len(ms))]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, m := range part {
				one(m)
			}
		}()
	}
	wg.Wait()
}
