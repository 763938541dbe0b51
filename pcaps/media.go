package pcaps

import (
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"time"

	"github.com/ipcclab/ipcclab/pcaps/rtpstat"
	"github.com/ipcclab/ipcclab/pcaps/sipsum"
)

// mediaState runs the SIP and RTP trackers over the capture's UDP
// datagrams and its SIP-over-TCP streams.
type mediaState struct {
	d   *decoder
	sip *sipsum.Tracker
	rtp *rtpstat.Tracker
}

func newMediaState(d *decoder) *mediaState {
	m := &mediaState{d: d, sip: sipsum.NewTracker(), rtp: rtpstat.NewTracker()}
	// SDP announces where RTP will flow and with which payload types:
	// streams on announced ports are taken from their first packet, with
	// the right clock rate for jitter.
	m.sip.OnMedia(func(_ sipsum.Message, md sipsum.Media) {
		if ep, ok := md.Endpoint(); ok {
			m.rtp.Expect(ep, md.Codecs())
		}
	})
	return m
}

func (m *mediaState) datagram(p *packet) {
	if m.sip.Datagram(p.ts, p.frame, "UDP", p.src, p.dst, p.payload) {
		return
	}
	if m.rtp.Datagram(p.ts, p.frame, p.src, p.dst, p.payload) == rtpstat.NotRTP {
		m.d.c.UDPOther++
	}
}

// sipStream takes the unconsumed bytes of one direction of a SIP-over-TCP
// connection and returns how many it used.
func (m *mediaState) sipStream(ts time.Time, frame int, src, dst netip.AddrPort, b []byte) int {
	return m.sip.Stream(ts, frame, src, dst, b)
}

// finish copies the trackers' results into the capture.
func (m *mediaState) finish() {
	c := m.d.c
	c.Dialogs = m.sip.Dialogs()
	c.RTP = m.rtp.Streams()
	c.RTCP = m.rtp.RTCP()
	c.SIPStats = m.sip.Stats()
	c.RTPStats = m.rtp.Stats()
	for _, n := range m.sip.Notes() {
		c.Notes = append(c.Notes, Note{Frame: n.Frame, Time: n.Time, Where: fmt.Sprintf("SIP %s → %s", n.Src, n.Dst), Text: n.Reason})
	}
}

// writeMediaText prints the SIP dialogs, RTP streams and RTCP and UDP
// counts of the text output.
func (c *Capture) writeMediaText(w io.Writer) {
	var b []byte
	if len(c.Dialogs) > 0 {
		fmt.Fprintf(w, "\nSIP dialogs (%d; %d messages, %d retransmissions):\n", len(c.Dialogs), c.SIPStats.Messages, c.SIPStats.Retransmissions)
		for _, d := range c.Dialogs {
			b = d.AppendText(b[:0])
			w.Write(b)
		}
	}
	if len(c.RTP) > 0 {
		fmt.Fprintf(w, "\nRTP streams (%d):\n", len(c.RTP))
		for _, s := range c.RTP {
			b = s.AppendText(b[:0])
			w.Write(b)
		}
	}
	if n := len(c.RTCP); n > 0 {
		fmt.Fprintf(w, "\nRTCP: %d sources, %d packets\n", n, c.RTPStats.RTCP)
	}
	if c.UDPOther > 0 {
		fmt.Fprintf(w, "\nUDP: %d datagrams neither SIP, RTP nor RTCP\n", c.UDPOther)
	}
}

// writeMediaJSON prints the "sip_dialog", "rtp_stream" and "rtcp_source"
// lines of the JSON output.
func (c *Capture) writeMediaJSON(enc *json.Encoder) {
	for i := range c.Dialogs {
		enc.Encode(struct {
			Kind string `json:"kind"`
			*sipsum.Dialog
		}{"sip_dialog", &c.Dialogs[i]})
	}
	for i := range c.RTP {
		enc.Encode(struct {
			Kind string `json:"kind"`
			*rtpstat.Stream
		}{"rtp_stream", &c.RTP[i]})
	}
	for i := range c.RTCP {
		enc.Encode(struct {
			Kind string `json:"kind"`
			*rtpstat.RTCPSource
		}{"rtcp_source", &c.RTCP[i]})
	}
}
