package replay

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/ipcclab/ipcclab/protocol/cti"
)

// Frame is one whole CTI message of a captured session (the 8-byte header
// and the body), as it crossed the wire.
type Frame struct {
	// Time is when the message was captured.
	Time time.Time
	// FromClient is true for the client's messages (requests), false for
	// the CTI Server's (confirmations and events).
	FromClient bool
	// Data is the message, header included.
	Data []byte
}

// Script is one captured CTI session, from its OPEN_REQ, in capture order.
type Script struct {
	// Name identifies the session in reports (a file and a stream, say).
	Name string
	// Version is the session's protocol version; 0 takes it from the
	// script's OPEN_REQ.
	Version cti.ProtocolVersion
	Frames  []Frame
}

// stepKind says what a captured message is to the replay.
type stepKind uint8

const (
	request      stepKind = iota + 1 // from the client
	confirmation                     // from the server, answers a request by InvokeID
	event                            // from the server, unsolicited
)

// step is one decoded frame of a prepared script.
type step struct {
	n      int           // 1-based position in Script.Frames (#n in reports)
	offset time.Duration // captured time since the first frame
	at     time.Duration // when it is due in the replay (Speed and MaxGap applied)
	kind   stepKind
	msg    cti.Message
	data   []byte
	invoke uint32 // requests and confirmations
	// answer links a request to its confirmation and back (-1: none).
	answer int
	// poll: a request answered from the capture rather than one for one
	// (heartbeats and repeated queries, see the package documentation).
	poll bool
	key  string // poll requests: type and fields, the poll's identity
}

// where renders a step's position the way reports name it.
func (s *step) where() string {
	return fmt.Sprintf("#%d at +%.3fs", s.n, s.offset.Seconds())
}

// captured renders a step's position and fields, "captured #57 at
// +12.300s: AgentState=AGENT_STATE_AVAILABLE AgentID=\"1001\"".
func (s *step) captured() string {
	if f := fields(s.msg); f != "" {
		return "captured " + s.where() + ": " + f
	}
	return "captured " + s.where()
}

// script is a Script decoded and classified for replay.
type script struct {
	name  string
	pv    cti.ProtocolVersion
	steps []step
	// polls lists the poll requests of each key in capture order.
	polls map[string][]int
	// types is every request type the capture holds.
	types map[cti.MessageType]bool
}

// Default options.
const (
	DefaultTimeout        = 5 * time.Second
	DefaultWindow         = 8
	DefaultMaxDivergences = 20
)

// Options tune a replay; the zero value replays with the original timing.
type Options struct {
	// Speed scales the script's timing: 1 (or 0) is the original timing,
	// 10 plays it ten times faster.
	Speed float64
	// MaxGap, when positive, caps every idle gap between two captured
	// messages (before Speed applies), so a capture's quiet minutes do not
	// have to be waited out. The peer's own timers are not compressed:
	// use it with peers whose behaviour is driven by messages, not clocks.
	MaxGap time.Duration
	// Timeout is how long a captured message the peer should send (a
	// request in the server role, an answer in the client role) is waited
	// for before it is reported missing; it is also the tolerance for a
	// request that comes early. Default DefaultTimeout.
	Timeout time.Duration
	// Window (server role) is how many captured requests, counted from the
	// oldest one not yet seen, a client's request may match out of order.
	// Default DefaultWindow.
	Window int
	// MaxDivergences stops the replay after that many divergences: past
	// them the peer is following another path and more lines would hide
	// the first. Default DefaultMaxDivergences.
	MaxDivergences int
	// StrictEvents (client role) makes every event count: each captured
	// event must be matched by one the server sends, field for field
	// (identifiers by the mapping, TIME fields aside), and every event the
	// server sends must match a captured one. Without it only the event
	// types are compared, as the traffic of a centre in the field is not
	// the server under test's to reproduce; with it the replay checks a
	// deterministic server (the emulator with the capture's scenario and
	// seed) message for message.
	StrictEvents bool
	// Logf, when set, receives a line per message sent and received.
	Logf func(format string, args ...any)
}

func (o Options) withDefaults() Options {
	if o.Speed <= 0 {
		o.Speed = 1
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Window <= 0 {
		o.Window = DefaultWindow
	}
	if o.MaxDivergences <= 0 {
		o.MaxDivergences = DefaultMaxDivergences
	}
	return o
}

// Validate checks the options; errors name the field. Serve and Drive call
// it; a caller that must wait for a peer first (a listener) calls it
// before waiting.
func (o Options) Validate() error {
	var errs []error
	if o.Speed < 0 || math.IsNaN(o.Speed) || o.Speed > 1e6 {
		errs = append(errs, fmt.Errorf("replay: Options.Speed %v: must be between 0 (original timing) and 1000000", o.Speed))
	}
	if o.MaxGap < 0 {
		errs = append(errs, fmt.Errorf("replay: Options.MaxGap %v: must not be negative", o.MaxGap))
	}
	if o.Timeout < 0 {
		errs = append(errs, fmt.Errorf("replay: Options.Timeout %v: must not be negative", o.Timeout))
	}
	if o.Window < 0 {
		errs = append(errs, fmt.Errorf("replay: Options.Window %d: must not be negative", o.Window))
	}
	if o.MaxDivergences < 0 {
		errs = append(errs, fmt.Errorf("replay: Options.MaxDivergences %d: must not be negative", o.MaxDivergences))
	}
	return errors.Join(errs...)
}

// prepare decodes and classifies a script. Every problem is an error that
// names the script and the frame: a replay of a script it cannot read
// would report divergences that are not the peer's.
func prepare(s Script, o Options) (*script, error) {
	name := s.Name
	if name == "" {
		name = "unnamed session"
	}
	fail := func(format string, args ...any) error {
		return fmt.Errorf("replay: script %q: %s", name, fmt.Sprintf(format, args...))
	}
	if len(s.Frames) == 0 {
		return nil, fail("no frames")
	}
	// The version: given, or the first OPEN_REQ's VersionNumber (the
	// second word of its body, §3.1).
	open := -1
	for i, f := range s.Frames {
		if !f.FromClient {
			continue
		}
		if len(f.Data) < cti.HeaderSize {
			return nil, fail("frame #%d (client): %d bytes, shorter than the %d-byte header", i+1, len(f.Data), cti.HeaderSize)
		}
		if mt := cti.MessageType(binary.BigEndian.Uint32(f.Data[4:])); mt != cti.MsgOpenReq {
			return nil, fail("frame #%d: the first client message is %v, not OPEN_REQ: the capture starts mid-session, and a replay needs the session from its opening", i+1, mt)
		}
		open = i
		break
	}
	if open < 0 {
		return nil, fail("no client message: nothing to replay against")
	}
	pv := s.Version
	if pv == 0 {
		d := s.Frames[open].Data
		if len(d) < cti.HeaderSize+8 {
			return nil, fail("frame #%d: OPEN_REQ of %d bytes has no VersionNumber", open+1, len(d))
		}
		pv = cti.ProtocolVersion(binary.BigEndian.Uint32(d[cti.HeaderSize+4:]))
	}
	if pv == 0 || pv > 1000 {
		return nil, fail("protocol version %d is not a GED-188 version", pv)
	}
	sc := &script{name: name, pv: pv, polls: map[string][]int{}, types: map[cti.MessageType]bool{}}
	first := s.Frames[0].Time
	var prevOff, prevAt time.Duration
	// Open requests by InvokeID, to link each confirmation to its request.
	unanswered := map[uint32]int{}
	for i, f := range s.Frames {
		side := "server"
		if f.FromClient {
			side = "client"
		}
		m, err := cti.DecodeMessage(f.Data, pv)
		if err != nil {
			return nil, fail("frame #%d (%s, +%.3fs): %v", i+1, side, f.Time.Sub(first).Seconds(), err)
		}
		off := f.Time.Sub(first)
		gap := off - prevOff
		if gap < 0 {
			// Two directions captured at slightly different points can
			// disagree by a little; capture order is what counts.
			gap, off = 0, prevOff
		}
		if o.MaxGap > 0 && gap > o.MaxGap {
			gap = o.MaxGap
		}
		at := prevAt + time.Duration(float64(gap)/o.Speed)
		prevOff, prevAt = off, at
		st := step{n: i + 1, offset: off, at: at, msg: m, data: append([]byte(nil), f.Data...), answer: -1}
		mt := m.MessageType()
		switch {
		case f.FromClient:
			st.kind = request
			if hasInvokeID(mt) {
				st.invoke, _ = cti.InvokeIDFromBody(f.Data[cti.HeaderSize:])
				unanswered[st.invoke] = len(sc.steps)
			}
			sc.types[mt] = true
		case isConfirmation(mt):
			st.kind = confirmation
			st.invoke, _ = cti.InvokeIDFromBody(f.Data[cti.HeaderSize:])
			if r, ok := unanswered[st.invoke]; ok {
				st.answer = r
				sc.steps[r].answer = len(sc.steps)
				delete(unanswered, st.invoke)
			}
		default:
			st.kind = event
		}
		sc.steps = append(sc.steps, st)
	}
	sc.classifyPolls()
	return sc, nil
}

// classifyPolls marks the requests that are answered from the capture
// instead of one for one: every HEARTBEAT_REQ, and every query (a QUERY_…
// request, which reads and changes nothing) that the capture repeats with
// the same fields. Their number and timing follow the client's timers, not
// the conversation, so a replay cannot reproduce them one for one.
func (sc *script) classifyPolls() {
	count := map[string]int{}
	keys := make([]string, len(sc.steps))
	for i := range sc.steps {
		st := &sc.steps[i]
		if st.kind != request {
			continue
		}
		keys[i] = keyOf(st.msg)
		count[keys[i]]++
	}
	for i := range sc.steps {
		st := &sc.steps[i]
		if st.kind != request {
			continue
		}
		mt := st.msg.MessageType()
		if mt == cti.MsgHeartbeatReq || (isQuery(mt) && count[keys[i]] > 1) {
			st.poll = true
			st.key = keys[i]
			sc.polls[st.key] = append(sc.polls[st.key], i)
		}
	}
}

func isQuery(mt cti.MessageType) bool { return strings.HasPrefix(mt.String(), "QUERY_") }

// keyOf renders a message's type and every compared field: two messages
// of a type have the same key exactly when they match one for one.
func keyOf(m cti.Message) string {
	if r, ok := asRaw(m); ok {
		return fmt.Sprintf("%v %x", r.Type, rawComparable(r))
	}
	return describeCompared(m)
}

// describeCompared renders the fields a comparison looks at (no InvokeID,
// no TIME fields), zero values included.
func describeCompared(m cti.Message) string {
	var b strings.Builder
	b.WriteString(m.MessageType().String())
	c := &keyWriter{b: &b}
	c.write(m)
	return b.String()
}

// nearestPoll returns the captured poll with key k nearest in replay time
// to now, among those the capture answered: a poll samples the centre at
// one moment, and the nearest captured sample is the best stand-in
// whichever side of it the client's timer fell.
func (sc *script) nearestPoll(k string, now time.Duration) (req, conf int) {
	req, conf = -1, -1
	var best time.Duration
	for _, i := range sc.polls[k] {
		st := &sc.steps[i]
		if st.answer < 0 {
			continue
		}
		d := st.at - now
		if d < 0 {
			d = -d
		}
		if req < 0 || d < best {
			req, conf, best = i, st.answer, d
		}
	}
	return req, conf
}

// end is when the last captured message is due.
func (sc *script) end() time.Duration { return sc.steps[len(sc.steps)-1].at }
