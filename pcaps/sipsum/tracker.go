package sipsum

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"strconv"
	"time"

	"github.com/emiago/sipgo/sip"
)

// Limits bounds a Tracker's memory whatever the capture holds.
type Limits struct {
	// Dialogs is the number of Call-IDs summarised. Messages of further
	// Call-IDs are still summarised in Messages (within its own limit) and
	// counted in Stats.Untracked; one note says the limit was reached.
	Dialogs int
	// Ladder is the number of ladder steps kept per dialog, and of media
	// exchanges and INVITE transactions remembered. Later messages still
	// drive the dialog's outcome, times and notes and are counted in
	// Dialog.Messages and Dialog.LadderDropped.
	Ladder int
	// Messages is the number of message summaries kept for Messages();
	// later ones are counted in Stats.MessagesNotKept.
	Messages int
	// Notes is the number of tracker notes kept; later ones are counted in
	// Stats.NotesDropped.
	Notes int
}

// DefaultLimits keeps a day of a mid-size site's signalling: 50 000 calls
// of ordinary length, well under a GB.
var DefaultLimits = Limits{Dialogs: 50000, Ladder: 200, Messages: 500000, Notes: 10000}

// Note records SIP that could not be summarised: what was wrong and where.
type Note struct {
	Frame  int            `json:"frame"`
	Time   time.Time      `json:"time"`
	Src    netip.AddrPort `json:"src"`
	Dst    netip.AddrPort `json:"dst"`
	Reason string         `json:"reason"`
}

// Stats counts what the tracker saw.
type Stats struct {
	// Messages counts SIP messages summarised, retransmissions included;
	// Requests by method and Responses by status code break them down.
	Messages        int            `json:"messages"`
	Requests        map[string]int `json:"requests"`
	Responses       map[int]int    `json:"responses"`
	Retransmissions int            `json:"retransmissions"`
	// Malformed counts payloads that started like SIP but could not be
	// summarised (each has a Note).
	Malformed int `json:"malformed"`
	// KeepAlives counts RFC 5626 CRLF keep-alives.
	KeepAlives      int `json:"keep_alives"`
	Untracked       int `json:"untracked,omitempty"`
	MessagesNotKept int `json:"messages_not_kept,omitempty"`
	NotesDropped    int `json:"notes_dropped,omitempty"`
}

// Tracker summarises SIP messages given in capture order, over UDP
// (Datagram) or TCP (Stream), and groups them into dialogs by Call-ID. It
// is not safe for concurrent use.
type Tracker struct {
	limits  Limits
	parser  *sip.Parser
	msgs    []Message
	notes   []Note
	dialogs map[string]*dialog
	order   []*dialog
	stats   Stats
	onMedia func(Message, Media)
	full    bool // the dialog limit was noted
}

// NewTracker returns a Tracker with DefaultLimits.
func NewTracker() *Tracker { return NewTrackerLimits(DefaultLimits) }

// NewTrackerLimits returns a Tracker with the given limits; a limit of 0 or
// less takes the default's value.
func NewTrackerLimits(l Limits) *Tracker {
	def := func(v, d int) int {
		if v <= 0 {
			return d
		}
		return v
	}
	l.Dialogs = def(l.Dialogs, DefaultLimits.Dialogs)
	l.Ladder = def(l.Ladder, DefaultLimits.Ladder)
	l.Messages = def(l.Messages, DefaultLimits.Messages)
	l.Notes = def(l.Notes, DefaultLimits.Notes)
	return &Tracker{
		limits:  l,
		parser:  sip.NewParser(),
		dialogs: make(map[string]*dialog),
		stats:   Stats{Requests: map[string]int{}, Responses: map[int]int{}},
	}
}

// OnMedia sets a function called for every SDP media description in a
// message (retransmissions included), so that the caller can tell its RTP
// tracker where media will arrive:
//
//	t.OnMedia(func(_ sipsum.Message, m sipsum.Media) {
//		if ep, ok := m.Endpoint(); ok {
//			rtp.Expect(ep, m.Codecs())
//		}
//	})
func (t *Tracker) OnMedia(f func(Message, Media)) { t.onMedia = f }

func (t *Tracker) note(ts time.Time, frame int, src, dst netip.AddrPort, reason string) {
	if len(t.notes) >= t.limits.Notes {
		t.stats.NotesDropped++
		return
	}
	t.notes = append(t.notes, Note{Frame: frame, Time: ts, Src: src, Dst: dst, Reason: reason})
}

// Datagram takes one UDP payload and returns false, doing nothing, when it
// is not SIP — its first line is neither a request line (a method token, a
// URI, SIP/2.0) nor a status line — so that the caller can try RTP next.
// A CRLF keep-alive is SIP and counted. A payload that starts like SIP but
// cannot be summarised is noted (Notes) and counted as malformed; it never
// panics. The payload is not retained.
func (t *Tracker) Datagram(ts time.Time, frame int, transport string, src, dst netip.AddrPort, payload []byte) bool {
	if isKeepAlive(payload) {
		t.stats.KeepAlives++
		return true
	}
	if !looksLikeSIP(payload) {
		return false
	}
	msg, err := t.parse(payload)
	var bodyNote string
	if err != nil {
		if msg == nil || !errors.Is(err, sip.ErrParseReadBodyIncomplete) {
			t.malformed(ts, frame, src, dst, err.Error())
			return true
		}
		// A body cut short (snap length, or a lying Content-Length): the
		// headers are worth keeping.
		bodyNote = "body shorter than its Content-Length: body ignored"
	}
	var body []byte
	if bodyNote == "" {
		body = msg.Body()
	}
	t.record(ts, frame, transport, src, dst, msg, body, bodyNote)
	return true
}

// parse runs sipgo's parser, turning a panic in it into an error so that
// no capture can stop the decoder.
func (t *Tracker) parse(b []byte) (msg sip.Message, err error) {
	defer func() {
		if r := recover(); r != nil {
			msg, err = nil, fmt.Errorf("SIP parser failed: %v", r)
		}
	}()
	return t.parser.ParseSIP(b)
}

func (t *Tracker) parseHeaders(b []byte) (msg sip.Message, err error) {
	defer func() {
		if r := recover(); r != nil {
			msg, err = nil, fmt.Errorf("SIP parser failed: %v", r)
		}
	}()
	msg, _, err = t.parser.ParseHeaders(b, true)
	return msg, err
}

func (t *Tracker) malformed(ts time.Time, frame int, src, dst netip.AddrPort, reason string) {
	t.stats.Malformed++
	t.note(ts, frame, src, dst, "malformed SIP: "+reason)
}

// record summarises a parsed message and files it in its dialog.
func (t *Tracker) record(ts time.Time, frame int, transport string, src, dst netip.AddrPort, msg sip.Message, body []byte, bodyNote string) {
	m, sdpNote, err := summarise(msg, body)
	if err != nil {
		t.malformed(ts, frame, src, dst, err.Error())
		return
	}
	m.Time, m.Frame, m.Transport, m.Src, m.Dst = ts, frame, transport, src, dst
	for _, n := range []string{bodyNote, sdpNote} {
		if n != "" {
			t.note(ts, frame, src, dst, m.short()+": "+n)
		}
	}
	t.stats.Messages++
	if m.IsRequest() {
		t.stats.Requests[m.Method]++
	} else {
		t.stats.Responses[m.Status]++
	}
	d := t.dialogs[m.CallID]
	if d == nil {
		if len(t.dialogs) >= t.limits.Dialogs {
			t.stats.Untracked++
			if !t.full {
				t.full = true
				t.note(ts, frame, src, dst, "dialog limit "+strconv.Itoa(t.limits.Dialogs)+
					" reached: messages of further Call-IDs are listed but not summarised per dialog")
			}
		} else {
			d = newDialog(&m, t.limits.Ladder)
			t.dialogs[m.CallID] = d
			t.order = append(t.order, d)
		}
	}
	if d != nil && d.observe(&m) {
		t.stats.Retransmissions++
	}
	if len(t.msgs) < t.limits.Messages {
		t.msgs = append(t.msgs, m)
	} else {
		t.stats.MessagesNotKept++
	}
	if t.onMedia != nil {
		for _, md := range m.SDP {
			t.onMedia(m, md)
		}
	}
}

// maxStreamMessage bounds a SIP message read from a stream, as sipgo's
// parser bounds one in a datagram.
const maxStreamMessage = 65535

// Stream takes the unconsumed bytes of one direction of a SIP-over-TCP
// connection and summarises the complete messages at their start, framed
// by Content-Length (RFC 3261 section 18.3). It returns how many bytes it
// consumed; the caller keeps the rest and calls again with more appended.
// A message completed by this call gets this call's time and frame. Bytes
// that are not SIP are skipped to the next line that starts like SIP, with
// a note; a message with no Content-Length is taken to have no body, with
// a note; a header block longer than 65535 bytes is skipped, with a note.
func (t *Tracker) Stream(ts time.Time, frame int, src, dst netip.AddrPort, data []byte) (consumed int) {
	for {
		rest := data[consumed:]
		if n := leadingCRLF(rest); n > 0 {
			t.stats.KeepAlives++
			consumed += n
			continue
		}
		if len(rest) == 0 {
			return consumed
		}
		first := bytes.IndexByte(rest, '\n')
		if first < 0 {
			if len(rest) > maxStreamMessage {
				t.note(ts, frame, src, dst, "skipped "+strconv.Itoa(len(rest))+" bytes of SIP over TCP with no line end")
				return len(data)
			}
			return consumed // wait for the rest of the first line
		}
		if !looksLikeSIP(rest[:first+1]) {
			skip := nextStartLine(rest)
			if skip < 0 {
				skip = bytes.LastIndexByte(rest, '\n') + 1 // keep a partial last line
			}
			t.note(ts, frame, src, dst, "skipped "+strconv.Itoa(skip)+" bytes of SIP over TCP that are not a SIP message")
			consumed += skip
			continue
		}
		end := bytes.Index(rest, []byte("\r\n\r\n"))
		if end < 0 {
			if len(rest) > maxStreamMessage {
				t.malformed(ts, frame, src, dst, "no end of headers within "+strconv.Itoa(maxStreamMessage)+" bytes")
				consumed += first + 1
				continue
			}
			return consumed
		}
		head := end + 4
		msg, err := t.parseHeaders(rest[:head])
		if err != nil {
			t.malformed(ts, frame, src, dst, err.Error())
			consumed += head
			continue
		}
		length := 0
		var note string
		if cl := msg.ContentLength(); cl != nil {
			length = int(*cl)
		} else {
			note = "no Content-Length on a stream transport: taken as 0"
		}
		if length > maxStreamMessage {
			t.malformed(ts, frame, src, dst, "Content-Length "+strconv.Itoa(length)+" beyond "+strconv.Itoa(maxStreamMessage))
			consumed += head
			continue
		}
		if len(rest) < head+length {
			return consumed
		}
		t.record(ts, frame, "TCP", src, dst, msg, rest[head:head+length], note)
		consumed += head + length
	}
}

// Messages returns the summaries of the messages seen, in capture order
// (at most Limits.Messages).
func (t *Tracker) Messages() []Message { return t.msgs }

// Notes returns what could not be summarised, in capture order.
func (t *Tracker) Notes() []Note { return t.notes }

// Stats returns the counts so far.
func (t *Tracker) Stats() Stats {
	s := t.stats
	s.Requests, s.Responses = maps.Clone(s.Requests), maps.Clone(s.Responses)
	return s
}
