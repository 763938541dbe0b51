package follow

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ipcclab/ipcclab/pcaps"
	"github.com/ipcclab/ipcclab/pcaps/rtpstat"
	"github.com/ipcclab/ipcclab/pcaps/sipsum"
	"github.com/ipcclab/ipcclab/protocol/cti"
)

// Follow builds the report of a decoded capture. It never fails: what
// cannot be followed (messages that did not decode) is counted in the
// sessions' summaries.
func Follow(c *pcaps.Capture, o Options) *Report {
	if c == nil {
		return follow(nil, o, nil, nil)
	}
	return follow(c, o, captureDialogs(c), captureStreams(c))
}

// follow is Follow with the capture's SIP dialogs and RTP streams.
func follow(c *pcaps.Capture, o Options, dialogs []sipsum.Dialog, streams []rtpstat.Stream) *Report {
	o = o.withDefaults()
	rep := &Report{Anomalies: []Anomaly{}, Sessions: []*Session{}, Calls: []*Call{}, Agents: []*Agent{},
		UnjoinedDialogs: []*Dialog{}, UnjoinedStreams: []*Stream{}}
	rep.Options.ReservedAfter = Seconds(o.ReservedAfter)
	rep.Options.ConfirmWithin = Seconds(o.ConfirmWithin)
	rep.Options.JoinWindow = Seconds(o.JoinWindow)
	if c == nil {
		return rep
	}
	rep.File, rep.Start, rep.End, rep.Packets = c.File, c.Start, c.End, c.Packets
	f := &follower{o: o, c: c, rep: rep, r: newMsgReader(), calls: map[CallKey]*Call{},
		routerKeys: map[routerCallKey]CallKey{}, agentOf: map[string]string{}, agents: map[string]*agentState{},
		deviceCall: map[string]CallKey{}}
	f.prepare()
	for _, ss := range f.sessions {
		f.followSession(ss)
	}
	f.followAgents()
	f.joinWith(dialogs, streams)
	f.finish()
	return rep
}

// follower holds the state of one Follow call.
type follower struct {
	o   Options
	c   *pcaps.Capture
	rep *Report
	r   *msgReader

	sessions []*sessState
	calls    map[CallKey]*Call
	// routerKeys: the call each RouterCallKey was given to (BEGIN_CALL,
	// CALL_DATA_UPDATE), for AGENT_PRE_CALL(_ABORT)_EVENT.
	routerKeys map[routerCallKey]CallKey
	// agentOf maps agent extensions and instruments to AgentIDs.
	agentOf map[string]string
	agents  map[string]*agentState
	// deviceCall is the call last seen at a device (merged order), to say
	// which call an agent is TALKING on.
	deviceCall  map[string]CallKey
	multiPeriph bool
}

type routerCallKey struct{ day, call, seq uint32 }

// at returns the time from the capture's first packet.
func (f *follower) at(t time.Time) Seconds { return Seconds(t.Sub(f.c.Start)) }

// rel prints a time as the report does: "+2.000".
func (f *follower) rel(t time.Time) string {
	return "+" + strconv.FormatFloat(t.Sub(f.c.Start).Seconds(), 'f', 3, 64)
}

func (f *follower) line(t time.Time, frame int, source, what string) Line {
	return Line{At: f.at(t), Time: t, Frame: frame, Source: source, What: what}
}

func (f *follower) flag(kind string, t time.Time, frame, session int, why string) {
	f.rep.Anomalies = append(f.rep.Anomalies, Anomaly{Kind: kind, At: f.at(t), Time: t, Frame: frame, Session: session, Why: why})
}

func source(s *pcaps.Session) string { return "CTI#" + strconv.Itoa(s.ID) }

// callLabel names a call in a line: "call 77", with the peripheral when
// the capture has calls of several.
func (f *follower) callLabel(k CallKey) string {
	if f.multiPeriph {
		return fmt.Sprintf("call %d/%d", k.PeripheralID, k.CallID)
	}
	return "call " + strconv.FormatUint(uint64(k.CallID), 10)
}

// prepare reads what the later passes look up: the sessions' OPEN_REQ and
// request/confirmation pairs, agent aliases, RouterCallKeys.
func (f *follower) prepare() {
	periphs := map[uint32]bool{}
	for _, s := range f.c.Sessions {
		ss := newSessState(f, s)
		f.sessions = append(f.sessions, ss)
		for _, m := range s.Messages {
			if m.Msg == nil {
				continue
			}
			f.learnAgent(m.Msg)
			if p, ok := f.r.peripheral(m.Msg); ok && p != null32 && len(f.r.calls(m.Msg)) > 0 {
				periphs[p] = true
			}
			switch x := m.Msg.(type) {
			case *cti.BeginCallEvent:
				f.learnRouterKey(x.PeripheralID, x.ConnectionCallID, x.RouterCallKeyDay, x.RouterCallKeyCallID, x.RouterCallKeySequenceNumber)
			case *cti.CallDataUpdateEvent:
				f.learnRouterKey(x.PeripheralID, x.ConnectionCallID, x.RouterCallKeyDay, x.RouterCallKeyCallID, x.RouterCallKeySequenceNumber)
			}
		}
	}
	f.multiPeriph = len(periphs) > 1
}

func (f *follower) learnRouterKey(periph, call, day, rcall, seq uint32) {
	if call == 0 || call == null32 || (day == 0 && rcall == 0) {
		return
	}
	k := routerCallKey{day, rcall, seq}
	if _, ok := f.routerKeys[k]; !ok {
		f.routerKeys[k] = CallKey{periph, call}
	}
}

// learnAgent links the extension and instrument of a message that names
// an AgentID to it.
func (f *follower) learnAgent(m cti.Message) {
	id := f.r.str(m, "AgentID")
	if id == "" {
		return
	}
	for _, dev := range []string{f.r.str(m, "AgentExtension"), f.r.str(m, "AgentInstrument")} {
		if dev != "" {
			if _, ok := f.agentOf[dev]; !ok {
				f.agentOf[dev] = id
			}
		}
	}
}

// agentKey names an agent by AgentID when the capture tells it, else by
// instrument or extension.
func (f *follower) agentKey(id, ext, inst string) string {
	switch {
	case id != "":
		return id
	case f.agentOf[inst] != "":
		return f.agentOf[inst]
	case f.agentOf[ext] != "":
		return f.agentOf[ext]
	case inst != "":
		return "instrument " + inst
	case ext != "":
		return "extension " + ext
	}
	return ""
}

// call returns the report's call for k, creating it.
func (f *follower) call(k CallKey) *Call {
	c := f.calls[k]
	if c == nil {
		c = &Call{Key: k, numbers: map[string]string{}}
		f.calls[k] = c
	}
	return c
}

// numberFields are the fields whose values a SIP dialog's numbers are
// compared with.
var numberFields = []string{"ANI", "DNIS", "DialedNumber", "ConnectionDeviceID", "CallingDeviceID", "CalledDeviceID",
	"AlertingDeviceID", "AnsweringDeviceID", "AgentInstrument", "AgentExtension"}

// addToCall adds a message's line to a call and takes what the call
// learns from it.
func (f *follower) addToCall(c *Call, s *pcaps.Session, m *pcaps.Message, what string) {
	c.Ladder = append(c.Ladder, f.line(m.Time, m.Frame, source(s), what))
	if c.first.IsZero() || m.Time.Before(c.first) {
		c.first = m.Time
	}
	if m.Time.After(c.last) {
		c.last = m.Time
	}
	addInt(&c.Sessions, s.ID)
	switch l := c.Ladder[len(c.Ladder)-1]; m.Type {
	case cti.MsgCallClearedEvent, cti.MsgCallConnectionClearedEvent:
		c.clearing = &l
	case cti.MsgEndCallEvent:
		c.endCall, c.endCleared, c.clearing = &l, c.clearing, nil
	}
	msg := m.Msg
	if c.ANI == "" {
		c.ANI = f.r.str(msg, "ANI")
	}
	if c.DNIS == "" {
		c.DNIS = f.r.str(msg, "DNIS")
	}
	if c.DialedNumber == "" {
		c.DialedNumber = f.r.str(msg, "DialedNumber")
	}
	if c.CallType == "" {
		switch x := msg.(type) {
		case *cti.BeginCallEvent:
			c.CallType = x.CallType.String()
		case *cti.CallDataUpdateEvent:
			c.CallType = x.CallType.String()
		}
	}
	if d := f.r.str(msg, "ConnectionDeviceID"); d != "" {
		addString(&c.Devices, d)
	}
	for _, name := range numberFields {
		v := f.r.str(msg, name)
		if d := digits(v); d != "" {
			if _, ok := c.numbers[d]; !ok {
				c.numbers[d] = "CTI " + name + " " + v
			}
		}
	}
}

func addInt(xs *[]int, x int) {
	for _, y := range *xs {
		if y == x {
			return
		}
	}
	*xs = append(*xs, x)
	sort.Ints(*xs)
}

func addString(xs *[]string, x string) {
	for _, y := range *xs {
		if y == x {
			return
		}
	}
	*xs = append(*xs, x)
	sort.Strings(*xs)
}

// finish sorts everything for a stable output.
func (f *follower) finish() {
	for _, c := range f.calls {
		switch {
		case c.endCall == nil:
			c.Ended = "no END_CALL_EVENT in the capture"
		case c.endCleared == nil:
			c.Ended = fmt.Sprintf("END_CALL_EVENT %s (f%d) with no CALL_CLEARED or CALL_CONNECTION_CLEARED before it",
				at(c.endCall.At), c.endCall.Frame)
		default:
			c.Ended = fmt.Sprintf("END_CALL_EVENT %s (f%d) after %s %s (f%d)", at(c.endCall.At), c.endCall.Frame,
				strings.Fields(c.endCleared.What)[0], at(c.endCleared.At), c.endCleared.Frame)
		}
		sortLines(c.Ladder)
		seen := map[string]bool{}
		for _, d := range c.Devices {
			if a := f.agentOf[d]; a != "" && !seen[a] {
				seen[a] = true
				addString(&c.Agents, a)
			}
		}
		f.rep.Calls = append(f.rep.Calls, c)
	}
	sort.Slice(f.rep.Calls, func(i, j int) bool {
		a, b := f.rep.Calls[i], f.rep.Calls[j]
		if !a.first.Equal(b.first) {
			return a.first.Before(b.first)
		}
		if a.Key.PeripheralID != b.Key.PeripheralID {
			return a.Key.PeripheralID < b.Key.PeripheralID
		}
		return a.Key.CallID < b.Key.CallID
	})
	for _, a := range f.agents {
		f.rep.Agents = append(f.rep.Agents, a.a)
	}
	sort.Slice(f.rep.Agents, func(i, j int) bool { return f.rep.Agents[i].ID < f.rep.Agents[j].ID })
	an := f.rep.Anomalies
	sort.SliceStable(an, func(i, j int) bool {
		if !an[i].Time.Equal(an[j].Time) {
			return an[i].Time.Before(an[j].Time)
		}
		if an[i].Frame != an[j].Frame {
			return an[i].Frame < an[j].Frame
		}
		if an[i].Session != an[j].Session {
			return an[i].Session < an[j].Session
		}
		return an[i].Kind < an[j].Kind
	})
}

// sortLines orders a ladder by time, then frame; lines of one frame keep
// the order they were added in (a message, then what was said about it).
func sortLines(ls []Line) {
	sort.SliceStable(ls, func(i, j int) bool {
		if !ls[i].Time.Equal(ls[j].Time) {
			return ls[i].Time.Before(ls[j].Time)
		}
		return ls[i].Frame < ls[j].Frame
	})
}

// digits returns the digits of a number ("+1 800-555-0100" →
// "18005550100"), or "" when it has fewer than three or anything but
// digits and separators (a device name, a URI with letters).
func digits(s string) string {
	var b []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			b = append(b, c)
		case c == '+' && len(b) == 0, c == '-', c == ' ', c == '.', c == '(', c == ')':
		default:
			return ""
		}
	}
	if len(b) < 3 {
		return ""
	}
	return string(b)
}
