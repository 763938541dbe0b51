package main

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/ipcclab/ipcclab/protocol/cti"
)

// Directions of a TCP connection, client first.
const (
	fromClient = 0
	fromServer = 1
)

var sideName = [2]string{"client", "server"}

// ledger is one CTI TCP connection as the generator wrote it: the bytes each
// side sent, the CTI messages in them, and the segments the capture holds of
// them — which may leave bytes out, repeat them or reorder them. The
// expectations are computed from it after the capture is written, so that a
// message's frames follow from where its bytes actually went.
type ledger struct {
	pv        cti.ProtocolVersion
	client    string
	server    string
	handshake bool
	// versionSource is "open_req" when the capture holds the OPEN_REQ,
	// "messages" otherwise.
	versionSource string
	end           *End
	bytes         [2][]byte
	msgs          [2][]*ledgerMsg
	segs          [2][]segment
	tcp           []TCPEvent
	// base is, per direction, the offset of the first byte a capture
	// that starts mid-stream holds: the bytes before it are in bytes (so
	// sequence numbers run on) but never in a segment, and offsets in
	// the expectations are counted from it.
	base [2]int
}

// ledgerMsg is one message of the ledger; res is filled by resolve.
type ledgerMsg struct {
	dir  int
	off  int
	n    int
	desc Msg
	m    cti.Message
	res  Msg
	lost bool
}

// segment is one TCP segment with payload in the capture.
type segment struct {
	off, n, frame int
	ts            time.Time
}

func newLedger(pv cti.ProtocolVersion, client, server string) *ledger {
	return &ledger{pv: pv, client: client, server: server, versionSource: "open_req"}
}

// add encodes m at the ledger's version, appends it to dir's stream and
// returns its bytes and its handle.
func (l *ledger) add(dir int, m cti.Message) ([]byte, *ledgerMsg) {
	b, err := cti.AppendMessage(nil, m, l.pv)
	if err != nil {
		// Every message is built by this program: a failure is a bug
		// in a fixture, not input to report.
		panic(fmt.Sprintf("mkfixtures: encoding %v at PV%d: %v", m.MessageType(), l.pv, err))
	}
	// Describe what is on the wire, not what was asked for: fields newer
	// than the session's version are not sent.
	wire, err := cti.DecodeMessage(b, l.pv)
	if err != nil {
		panic(fmt.Sprintf("mkfixtures: %v encoded at PV%d does not decode: %v", m.MessageType(), l.pv, err))
	}
	return b, l.record(dir, b, wire)
}

// addFrame appends an already encoded message (from the simulation) and
// returns its handle; the message is decoded for its description.
func (l *ledger) addFrame(dir int, b []byte) (*ledgerMsg, error) {
	m, err := cti.DecodeMessage(b, l.pv)
	if err != nil {
		return nil, fmt.Errorf("message %d from the %s: %w", len(l.msgs[dir])+1, sideName[dir], err)
	}
	return l.record(dir, append([]byte(nil), b...), m), nil
}

func (l *ledger) record(dir int, b []byte, m cti.Message) *ledgerMsg {
	lm := &ledgerMsg{dir: dir, off: len(l.bytes[dir]), n: len(b), desc: describe(m), m: m}
	lm.desc.From = sideName[dir]
	l.bytes[dir] = append(l.bytes[dir], b...)
	l.msgs[dir] = append(l.msgs[dir], lm)
	return lm
}

// wrote notes a segment of dir's stream written as frame at ts.
func (l *ledger) wrote(dir, off, n, frame int, ts time.Time) {
	l.segs[dir] = append(l.segs[dir], segment{off: off, n: n, frame: frame, ts: ts})
}

// resolve works out every message's frames and time from the segments.
func (l *ledger) resolve(t0 time.Time) {
	for dir := range 2 {
		first := make([]int, len(l.bytes[dir])) // frame of the first copy of each byte
		when := make([]time.Time, len(l.bytes[dir]))
		for _, s := range l.segs[dir] {
			for i := s.off; i < s.off+s.n && i < len(first); i++ {
				if first[i] == 0 {
					first[i], when[i] = s.frame, s.ts
				}
			}
		}
		at := map[int]time.Time{}
		for _, s := range l.segs[dir] {
			if _, ok := at[s.frame]; !ok {
				at[s.frame] = s.ts
			}
		}
		// A reassembler hands bytes on in stream order: a message is
		// complete only once everything before it has arrived too
		// (carry), except across bytes the capture never holds.
		carry := 0
		for _, lm := range l.msgs[dir] {
			r := lm.desc
			r.Frame = first[lm.off]
			last, lastT, missing := 0, time.Time{}, 0
			for i := lm.off; i < lm.off+lm.n; i++ {
				if first[i] == 0 {
					missing++
					continue
				}
				if r.Frame == 0 {
					r.Frame = first[i]
				}
				if first[i] > last {
					last, lastT = first[i], when[i]
				}
			}
			if missing > 0 {
				lm.lost = true
				r.LastFrame = 0
				r.Offset, r.Length = lm.off-l.base[dir], lm.n
				if r.Frame != 0 {
					r.T = secs(lastT.Sub(t0))
				}
				r.Note = fmt.Sprintf("%d of %d bytes not in the capture", missing, lm.n)
				carry = 0
				// What a decoder cannot know is dropped from the
				// description: only the bytes tell it what this was.
				r.Invoke, r.Call, r.Agent, r.State = 0, 0, "", ""
				lm.res = r
				continue
			}
			if carry > last {
				last, lastT = carry, at[carry]
			}
			carry = last
			if last != r.Frame {
				r.LastFrame = last
			}
			r.T = secs(lastT.Sub(t0))
			lm.res = r
		}
	}
}

// session renders the ledger for the .expect.yaml.
func (l *ledger) session() Session {
	s := Session{Client: l.client, Server: l.server, Handshake: l.handshake, Version: uint32(l.pv),
		VersionSource: l.versionSource, End: l.end, Types: map[string]map[string]int{}, TCP: l.tcp}
	for _, lm := range l.msgs[fromClient] {
		if o, ok := lm.m.(*cti.OpenReq); ok && !lm.lost && lm.res.Frame != 0 {
			t := o.IdleTimeout
			s.IdleTimeout = &t // only what the capture shows
			break
		}
	}
	var all []*ledgerMsg
	for dir := range 2 {
		for _, lm := range l.msgs[dir] {
			if lm.lost {
				if lm.res.Frame != 0 || lm.off+lm.n > l.base[dir] {
					s.Lost = append(s.Lost, lm.res)
				}
				continue
			}
			all = append(all, lm)
			if s.Types[sideName[dir]] == nil {
				s.Types[sideName[dir]] = map[string]int{}
			}
			s.Types[sideName[dir]][lm.res.Type]++
			if dir == fromClient {
				s.FromClient++
			} else {
				s.FromServer++
			}
		}
	}
	sort.SliceStable(all, func(i, j int) bool {
		a, b := all[i].res, all[j].res
		af, bf := max(a.Frame, a.LastFrame), max(b.Frame, b.LastFrame)
		if af != bf {
			return af < bf
		}
		return all[i].off < all[j].off
	})
	for _, lm := range all {
		s.Messages = append(s.Messages, lm.res)
	}
	sort.SliceStable(s.Lost, func(i, j int) bool { return s.Lost[i].Offset < s.Lost[j].Offset })
	return s
}

// unconfirmed lists the requests (InvokeID messages from the client) with
// no server message carrying the same InvokeID.
func (l *ledger) unconfirmed() []Msg {
	answered := map[uint32]bool{}
	for _, lm := range l.msgs[fromServer] {
		if iv, ok := lm.m.(cti.InvokeIDer); ok && !lm.lost {
			answered[iv.GetInvokeID()] = true
		}
	}
	var out []Msg
	for _, lm := range l.msgs[fromClient] {
		if iv, ok := lm.m.(cti.InvokeIDer); ok && !lm.lost && !answered[iv.GetInvokeID()] {
			out = append(out, lm.res)
		}
	}
	return out
}

// describe picks the fields a reader of the trace looks for first: the
// InvokeID, the call, the agent and its state.
func describe(m cti.Message) Msg {
	d := Msg{Type: m.MessageType().String()}
	if iv, ok := m.(cti.InvokeIDer); ok {
		d.Invoke = iv.GetInvokeID()
	}
	v := reflect.ValueOf(m)
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return d
	}
	if f := v.FieldByName("ConnectionCallID"); f.IsValid() && f.Kind() == reflect.Uint32 {
		d.Call = uint32(f.Uint())
	} else if f := v.FieldByName("NewConnectionCallID"); f.IsValid() && f.Kind() == reflect.Uint32 {
		d.Call = uint32(f.Uint())
	}
	if f := v.FieldByName("AgentID"); f.IsValid() && f.Kind() == reflect.String {
		d.Agent = f.String()
	}
	if f := v.FieldByName("AgentState"); f.IsValid() {
		if s, ok := f.Interface().(cti.AgentState); ok {
			d.State = strings.TrimPrefix(s.String(), "AGENT_STATE_")
		}
	}
	switch e := m.(type) {
	case *cti.SystemEvent:
		d.Note = fmt.Sprintf("%s PGStatus=%#x", e.SystemEventID, uint32(e.PGStatus))
	case *cti.AgentStateEvent:
		if e.Has(cti.TagExtAgentState) {
			d.Note = "NextAgentState=" + strings.TrimPrefix(e.NextAgentState.String(), "AGENT_STATE_")
		}
		if e.EventReasonCode != 0 {
			d.Note = strings.TrimSpace(d.Note + fmt.Sprintf(" reason=%d", e.EventReasonCode))
		}
	case *cti.SetAgentStateReq:
		if e.EventReasonCode != 0 {
			d.Note = fmt.Sprintf("reason=%d", e.EventReasonCode)
		}
	case *cti.ControlFailureConf:
		d.Note = e.FailureCode.String()
	case *cti.FailureConf:
		d.Note = e.Status.String()
	case *cti.FailureEvent:
		d.Note = e.Status.String()
	case *cti.OpenReq:
		d.Note = fmt.Sprintf("VersionNumber=%d IdleTimeout=%d", e.VersionNumber, e.IdleTimeout)
	case *cti.QuerySkillGroupStatisticsConf:
		d.Note = fmt.Sprintf("RouterCallsQNow=%d AgentsAvail=%d", e.RouterCallsQNow, e.AgentsAvail)
	case *cti.AgentPreCallEvent:
		d.Note = "instrument " + e.AgentInstrument
	case *cti.AgentPreCallAbortEvent:
		d.Note = "instrument " + e.AgentInstrument
	}
	return d
}
