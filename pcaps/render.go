package pcaps

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/ipcclab/ipcclab/pcaps/ctifields"
)

// clock prints a capture timestamp: UTC time of day to the microsecond.
func clock(t time.Time) string { return t.UTC().Format("15:04:05.000000") }

func (c *Capture) rel(t time.Time) string {
	return "+" + strconv.FormatFloat(t.Sub(c.Start).Seconds(), 'f', 6, 64)
}

// WriteText prints the decoded capture for a person: a header, every CTI
// message of every session with its fields, the SIP dialogs, the RTP
// streams and the notes on what could not be decoded.
func (c *Capture) WriteText(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	fmt.Fprintf(bw, "capture %s: %s, %s, %d packets, %d bytes", c.File, c.Format, c.LinkType, c.Packets, c.Bytes)
	if c.Packets > 0 {
		fmt.Fprintf(bw, ", %s UTC, %.6f s", c.Start.UTC().Format("2006-01-02 15:04:05.000000"), c.End.Sub(c.Start).Seconds())
	}
	bw.WriteString("\n")
	for _, s := range c.Sessions {
		fmt.Fprintf(bw, "\nCTI session %d: client %s, server %s (roles from %s), protocol version %d (%s), %d messages",
			s.ID, s.Client, s.Server, s.RoleFrom, s.Version, s.VersionFrom, len(s.Messages))
		if s.MissingBytes > 0 {
			fmt.Fprintf(bw, ", %d bytes missing", s.MissingBytes)
		}
		if s.Closed != "" {
			fmt.Fprintf(bw, ", closed by %s", s.Closed)
		} else {
			bw.WriteString(", open at end of capture")
		}
		bw.WriteString("\n")
		renderParallel(bw, s.Messages, c.appendMessage)
	}
	c.writeMediaText(bw)
	for _, o := range c.Other {
		fmt.Fprintf(bw, "\nTCP %s ↔ %s (from frame %d): %d bytes, neither CTI nor SIP\n", o.A, o.B, o.FirstFrame, o.Bytes)
	}
	if len(c.Notes) > 0 {
		fmt.Fprintf(bw, "\nnot decoded or guessed (%d):\n", len(c.Notes))
		for _, n := range c.Notes {
			fmt.Fprintf(bw, "  frame %-5d %s %s: %s\n", n.Frame, c.rel(n.Time), n.Where, n.Text)
		}
	}
	return bw.Flush()
}

// jsonLine is one line of `pcap decode --json`: Kind says which of the
// other fields are set.
type jsonLine struct {
	Kind string `json:"kind"`

	// kind "capture"
	File     string  `json:"file,omitempty"`
	Format   string  `json:"format,omitempty"`
	LinkType string  `json:"link_type,omitempty"`
	Packets  int     `json:"packets,omitempty"`
	Bytes    int64   `json:"bytes,omitempty"`
	Start    string  `json:"start,omitempty"`
	Duration float64 `json:"duration_s,omitempty"`

	// kind "cti_session" and "cti"
	Session     int    `json:"session,omitempty"`
	Client      string `json:"client,omitempty"`
	Server      string `json:"server,omitempty"`
	RoleFrom    string `json:"role_from,omitempty"`
	Version     uint32 `json:"version,omitempty"`
	VersionFrom string `json:"version_from,omitempty"`
	Messages    int    `json:"messages,omitempty"`
	Missing     int64  `json:"missing_bytes,omitempty"`
	Closed      string `json:"closed,omitempty"`

	// kind "cti"
	Seq     int               `json:"seq,omitempty"`
	Frame   int               `json:"frame,omitempty"`
	Time    string            `json:"time,omitempty"`
	Dir     string            `json:"dir,omitempty"`
	Type    uint32            `json:"type,omitempty"`
	Name    string            `json:"name,omitempty"`
	Length  int               `json:"length,omitempty"`
	Fields  []ctifields.Field `json:"fields,omitempty"`
	Error   string            `json:"error,omitempty"`
	RawHex  string            `json:"raw,omitempty"`
	Where   string            `json:"where,omitempty"`
	Text    string            `json:"text,omitempty"`
	Payload any               `json:"data,omitempty"`
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000Z") }

// WriteJSON prints the decoded capture as JSON lines: one "capture" line,
// then per session a "cti_session" line and one "cti" line per message,
// then "sip_dialog" and "rtp_stream" lines, "tcp_other" lines and "note"
// lines.
func (c *Capture) WriteJSON(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	head := jsonLine{Kind: "capture", File: c.File, Format: c.Format, LinkType: c.LinkType, Packets: c.Packets, Bytes: c.Bytes}
	if c.Packets > 0 {
		head.Start, head.Duration = stamp(c.Start), c.End.Sub(c.Start).Seconds()
	}
	if err := enc.Encode(head); err != nil {
		return err
	}
	for _, s := range c.Sessions {
		enc.Encode(jsonLine{Kind: "cti_session", Session: s.ID, Client: s.Client.String(), Server: s.Server.String(), RoleFrom: s.RoleFrom,
			Version: uint32(s.Version), VersionFrom: s.VersionFrom, Messages: len(s.Messages), Missing: s.MissingBytes, Closed: s.Closed})
		for _, m := range s.Messages {
			l := jsonLine{Kind: "cti", Session: s.ID, Seq: m.Seq, Frame: m.Frame, Time: stamp(m.Time), Dir: "client>server",
				Type: uint32(m.Type), Name: m.Type.String(), Length: len(m.Raw), Fields: m.Fields().Fields}
			if !m.FromClient {
				l.Dir = "server>client"
			}
			if m.Err != nil {
				l.Error, l.RawHex = m.Err.Error(), hex.EncodeToString(m.Raw)
			}
			enc.Encode(l)
		}
	}
	c.writeMediaJSON(enc)
	for _, o := range c.Other {
		enc.Encode(jsonLine{Kind: "tcp_other", Client: o.A.String(), Server: o.B.String(), Frame: o.FirstFrame, Bytes: o.Bytes})
	}
	for _, n := range c.Notes {
		enc.Encode(jsonLine{Kind: "note", Frame: n.Frame, Time: stamp(n.Time), Where: n.Where, Text: n.Text})
	}
	return bw.Flush()
}

// appendMessage appends one message's line of the text output.
func (c *Capture) appendMessage(line []byte, m *Message) []byte {
	line = fmt.Appendf(line, "  #%-4d frame %-5d %s %s %s ", m.Seq, m.Frame, clock(m.Time), c.rel(m.Time), m.Dir())
	line = ctifields.AppendText(line, m.Fields())
	if m.Err != nil {
		line = append(line, "  !! "...)
		line = append(line, m.Err.Error()...)
		line = append(line, " raw="...)
		line = hex.AppendEncode(line, m.Raw)
	}
	return append(line, '\n')
}

// renderParallel writes the messages' lines to w in order, rendering
// batches of them on every core: printing every field of every message is,
// after decoding them, most of the cost of a CTI capture. Each worker
// reuses its buffer, so memory stays at a batch whatever the capture's
// size.
func renderParallel(w io.Writer, ms []*Message, render func([]byte, *Message) []byte) {
	workers := runtime.GOMAXPROCS(0)
	if workers < 2 || len(ms) < 512 {
		var b []byte
		for _, m := range ms {
			b = render(b, m)
			if len(b) > 32<<10 {
				w.Write(b)
				b = b[:0]
			}
		}
		w.Write(b)
		return
	}
	const per = 256
	bufs := make([][]byte, workers)
	var wg sync.WaitGroup
	for lo := 0; lo < len(ms); lo += workers * per {
		for k := range workers {
			from := lo + k*per
			if from >= len(ms) {
				bufs[k] = bufs[k][:0]
				continue
			}
			part := ms[from:min(from+per, len(ms))]
			wg.Add(1)
			go func() {
				defer wg.Done()
				b := bufs[k][:0]
				for _, m := range part {
					b = render(b, m)
				}
				bufs[k] = b
			}()
		}
		wg.Wait()
		for _, b := range bufs {
			w.Write(b)
		}
	}
}
