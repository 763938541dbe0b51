package pcaps

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"sort"
	"time"

	"github.com/ipcclab/ipcclab/pcaps/ctifields"
	"github.com/ipcclab/ipcclab/pcaps/rtpstat"
	"github.com/ipcclab/ipcclab/pcaps/sipsum"
	"github.com/ipcclab/ipcclab/protocol/cti"
)

// Capture is everything decoded from one capture file.
type Capture struct {
	File     string
	Format   string // "pcap" or "pcapng"
	LinkType string
	Packets  int
	Bytes    int64
	Start    time.Time
	End      time.Time

	// Sessions are the CTI Server sessions found, in the order their
	// first packet appears.
	Sessions []*Session
	// Dialogs are the SIP dialogs (by Call-ID), RTP the RTP streams, RTCP
	// the RTCP sources, with the trackers' counts.
	Dialogs  []sipsum.Dialog
	RTP      []rtpstat.Stream
	RTCP     []rtpstat.RTCPSource
	SIPStats sipsum.Stats
	RTPStats rtpstat.Stats
	// UDPOther counts datagrams that are neither SIP, RTP nor RTCP.
	UDPOther int
	// Other lists TCP connections that carry neither CTI nor SIP.
	Other []TCPConn
	// Notes are the things that could not be decoded, capture-wide and
	// per session, in frame order.
	Notes []Note
}

// Note is something the decoder could not decode or had to guess, with
// where it happened.
type Note struct {
	Frame int
	Time  time.Time
	// Where names the stream or session ("CTI session 2 server→client",
	// "TCP 10.0.0.1:5000 → 10.0.0.2:80", "frame").
	Where string
	Text  string
}

// TCPConn is a TCP connection that is neither CTI nor SIP.
type TCPConn struct {
	A, B       netip.AddrPort
	FirstFrame int
	Bytes      int64
}

// Session is one CTI Server session (one TCP connection) seen in the
// capture.
type Session struct {
	ID     int
	Client netip.AddrPort
	Server netip.AddrPort
	// RoleFrom says how client and server were told apart (SYN, OPEN_REQ,
	// message kinds, port).
	RoleFrom string
	Version  cti.ProtocolVersion
	// VersionFrom says where Version comes from: the OPEN_REQ, or an
	// inference from the messages and the versions that fit them.
	VersionFrom string
	FirstFrame  int
	Start, End  time.Time
	// Closed says how the connection ended in the capture: "FIN from
	// server (frame 88)", "RST from client (frame 90)", "" while open
	// when the capture ended.
	Closed      string
	ClosedFrame int
	ClosedTime  time.Time
	ClosedBy    string // "client", "server" or ""

	Messages []*Message
	Notes    []Note
	// Bytes per direction, and bytes known missing (gaps).
	ClientBytes, ServerBytes int64
	MissingBytes             int64
}

// Message is one CTI message of a session.
type Message struct {
	Seq        int // 1-based within the session
	Frame      int // capture frame holding the message's last byte
	Time       time.Time
	FromClient bool
	Offset     int64 // stream offset of the header in its direction
	Type       cti.MessageType
	Raw        []byte // header + body

	// Version is the session's protocol version, the one the body is
	// decoded with.
	Version cti.ProtocolVersion
	// Msg is the typed message (protocol/cti), nil when the body does not
	// decode under the session's version (Err says why).
	Msg cti.Message
	Err error
}

// Fields decodes the message's fields by name, from the same spec tables
// the Wireshark dissector is generated from (as far as they decode when
// Err is set). They are decoded when asked for rather than kept: a field
// list is about 40 times the size of the message, and a capture can hold
// hundreds of thousands of messages.
func (m *Message) Fields() ctifields.Message {
	fm, _ := ctifields.Decode(uint32(m.Type), m.Raw[cti.HeaderSize:], uint32(m.Version))
	return fm
}

// Dir is the message's direction as printed: "C→S" or "S→C".
func (m *Message) Dir() string {
	if m.FromClient {
		return "C→S"
	}
	return "S→C"
}

// InvokeID returns the message's InvokeID, if its type has one.
func (m *Message) InvokeID() (uint32, bool) {
	if len(m.Raw) < cti.HeaderSize {
		return 0, false
	}
	if x, ok := m.Msg.(cti.InvokeIDer); ok {
		return x.GetInvokeID(), true
	}
	return 0, false
}

// Options tunes Decode.
type Options struct {
	// Version forces the CTI protocol version of every session without an
	// OPEN_REQ (0: infer it from the messages).
	Version cti.ProtocolVersion
}

// DecodeFile decodes the capture at path.
func DecodeFile(path string, o Options) (*Capture, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	c, err := Decode(f, o)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	c.File = path
	return c, nil
}

// Decode reads a pcap or pcapng capture and decodes its CTI sessions, SIP
// dialogs and RTP streams. A damaged capture is decoded as far as it goes:
// a truncated last packet or a damaged block ends the capture with a note,
// not an error; only a file that is not a capture at all is an error.
func Decode(r io.Reader, o Options) (*Capture, error) {
	src, format, err := openSource(r)
	if err != nil {
		return nil, err
	}
	ld, err := newLinkDecoder(src.LinkType())
	if err != nil {
		return nil, err
	}
	c := &Capture{Format: format, LinkType: src.LinkType().String()}
	d := newDecoder(c, o)
	var p packet
	for {
		data, ci, err := readPacket(src)
		if err != nil {
			if !errors.Is(err, io.EOF) {
				c.Notes = append(c.Notes, Note{Frame: c.Packets + 1, Time: c.End, Where: "capture",
					Text: fmt.Sprintf("reading stopped: %v", err)})
			}
			break
		}
		c.Packets++
		c.Bytes += int64(len(data))
		if c.Packets == 1 {
			c.Start = ci.Timestamp
		}
		c.End = ci.Timestamp
		p.frame, p.ts, p.length = c.Packets, ci.Timestamp, len(data)
		if err := ld.decode(data, &p); err != nil {
			if err != errNotIP {
				d.note(p.frame, p.ts, "frame", err.Error())
			}
			continue
		}
		switch p.proto {
		case transportTCP:
			d.tcp(&p)
		case transportUDP:
			d.udp(&p)
		}
	}
	d.finish()
	return c, nil
}

// sortNotes orders notes by frame, keeping the order of notes of one frame.
func sortNotes(ns []Note) {
	sort.SliceStable(ns, func(i, j int) bool { return ns[i].Frame < ns[j].Frame })
}
