package follow

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/ipcclab/ipcclab/pcaps"
	"github.com/ipcclab/ipcclab/protocol/cti"
)

// sessState is what one CTI session's pass keeps.
type sessState struct {
	f   *follower
	s   *pcaps.Session
	sum *Session

	openReq   *pcaps.Message
	open      *cti.OpenReq
	openConf  *cti.OpenConf
	idle      time.Duration // 0: no supervision or unknown
	services  cti.ServiceMask
	agent     string // the agent of a CLIENT_EVENTS session
	pgStatus  cti.PGStatus
	pgKnown   bool
	conf      map[*pcaps.Message]*pcaps.Message // request → confirmation
	request   map[*pcaps.Message]*pcaps.Message // confirmation → request
	calls     map[CallKey]*callState
	callOrder []CallKey
}

func newSessState(f *follower, s *pcaps.Session) *sessState {
	ss := &sessState{f: f, s: s, conf: map[*pcaps.Message]*pcaps.Message{}, request: map[*pcaps.Message]*pcaps.Message{},
		calls: map[CallKey]*callState{}}
	ss.sum = &Session{ID: s.ID, Client: s.Client.String(), Server: s.Server.String(), RoleFrom: s.RoleFrom,
		Version: uint32(s.Version), VersionFrom: s.VersionFrom}
	for _, m := range s.Messages {
		if m.Msg == nil {
			continue
		}
		switch x := m.Msg.(type) {
		case *cti.OpenReq:
			if m.FromClient && ss.open == nil {
				ss.openReq, ss.open = m, x
				ss.services = x.ServicesRequested
				if x.IdleTimeout != null32 && x.IdleTimeout != 0x7FFFFFFF && x.IdleTimeout != 0 {
					ss.idle = time.Duration(x.IdleTimeout) * time.Second
				}
				ss.agent = f.agentKey(x.AgentID, x.AgentExtension, x.AgentInstrument)
			}
		case *cti.OpenConf:
			if !m.FromClient && ss.openConf == nil {
				ss.openConf = x
				ss.services = x.ServicesGranted
			}
		}
	}
	ss.pair()
	return ss
}

// pair matches every client request with the first later confirmation
// carrying its InvokeID (§5.6). Clients are responsible for unique
// InvokeIDs; a reused one is matched first-in, first-out.
func (ss *sessState) pair() {
	pending := map[uint32][]*pcaps.Message{}
	for _, m := range ss.s.Messages {
		if m.Msg == nil {
			continue
		}
		x, ok := m.Msg.(cti.InvokeIDer)
		if !ok {
			continue
		}
		inv := x.GetInvokeID()
		switch {
		case isRequest(m.FromClient, m.Type):
			pending[inv] = append(pending[inv], m)
		case isConfirmation(m.FromClient, m.Type):
			if q := pending[inv]; len(q) > 0 {
				ss.conf[q[0]], ss.request[m] = m, q[0]
				pending[inv] = q[1:]
			}
		}
	}
}

// expectsConfirmation: every request is confirmed (§5.6), except that a
// session granted CTI_SERVICE_IGNORE_CONF gets no positive confirmation
// of third-party requests (§5.7); session requests and queries, whose
// confirmation carries the answer, still get one.
func (ss *sessState) expectsConfirmation(mt cti.MessageType) bool {
	if ss.services&cti.ServiceIgnoreConf == 0 {
		return true
	}
	switch mt {
	case cti.MsgOpenReq, cti.MsgHeartbeatReq, cti.MsgCloseReq:
		return true
	}
	name := mt.String()
	return strings.HasPrefix(name, "QUERY_") || strings.HasPrefix(name, "SNAPSHOT_") || strings.HasPrefix(name, "LIST_")
}

// end is when the session ended: its connection's close, else the end of
// the capture.
func (ss *sessState) end() time.Time {
	if ss.s.Closed != "" && !ss.s.ClosedTime.IsZero() {
		return ss.s.ClosedTime
	}
	if ss.f.c.End.After(ss.s.End) {
		return ss.f.c.End
	}
	return ss.s.End
}

// followSession summarises a session and follows its calls.
func (f *follower) followSession(ss *sessState) {
	s, sum := ss.s, ss.sum
	f.rep.Sessions = append(f.rep.Sessions, sum)
	if o := ss.open; o != nil {
		sum.ClientID = o.ClientID
		sum.Services = o.ServicesRequested.String()
		if o.PeripheralID != null32 {
			sum.PeripheralID = fmt.Sprint(o.PeripheralID)
		} else {
			sum.PeripheralID = "any (0xFFFFFFFF)"
		}
		sum.Agent = ss.agent
		switch {
		case ss.idle > 0:
			sum.IdleTimeout = fmt.Sprintf("%d s", o.IdleTimeout)
		default:
			sum.IdleTimeout = fmt.Sprintf("none (%#x)", o.IdleTimeout)
		}
	}
	if c := ss.openConf; c != nil && ss.open != nil && c.ServicesGranted != ss.open.ServicesRequested {
		sum.Services += " (granted " + c.ServicesGranted.String() + ")"
	}
	var lastClient, lastServer *pcaps.Message
	var gapClient, gapServer gap
	var heartbeats []time.Time
	var closeReq, closeConf *pcaps.Message
	for _, m := range s.Messages {
		sum.Messages++
		if m.FromClient {
			sum.FromClient++
			gapClient.see(lastClient, m)
			lastClient = m
		} else {
			sum.FromServer++
			gapServer.see(lastServer, m)
			lastServer = m
		}
		if m.Msg == nil {
			sum.Undecoded++
			continue
		}
		switch x := m.Msg.(type) {
		case *cti.HeartbeatReq:
			if m.FromClient {
				heartbeats = append(heartbeats, m.Time)
			}
		case *cti.CloseReq:
			if m.FromClient && closeReq == nil {
				closeReq = m
			}
		case *cti.CloseConf:
			if closeConf == nil {
				closeConf = m
			}
		case *cti.OpenConf:
			ss.pgStatus, ss.pgKnown = x.PGStatus, true
			online := "peripheral online"
			if !x.PeripheralOnline {
				online = "peripheral offline"
			}
			sum.PGStatus = append(sum.PGStatus, f.line(m.Time, m.Frame, source(s),
				fmt.Sprintf("OPEN_CONF PGStatus=%s, %s", x.PGStatus, online)))
		case *cti.SystemEvent:
			f.systemEvent(ss, m, x)
		case *cti.FailureConf:
			sum.Refusals = append(sum.Refusals, f.line(m.Time, m.Frame, source(s),
				fmt.Sprintf("FAILURE_CONF %s%s", x.Status, ss.toRequest(m))))
		case *cti.ControlFailureConf:
			what := fmt.Sprintf("CONTROL_FAILURE_CONF %s", x.FailureCode)
			if x.PeripheralErrorCode != 0 {
				what += fmt.Sprintf(" PeripheralErrorCode=%d", x.PeripheralErrorCode)
			}
			sum.Refusals = append(sum.Refusals, f.line(m.Time, m.Frame, source(s), what+ss.toRequest(m)))
		case *cti.FailureEvent:
			sum.Refusals = append(sum.Refusals, f.line(m.Time, m.Frame, source(s), "FAILURE_EVENT "+x.Status.String()))
		}
		f.callMessage(ss, m)
	}
	end := ss.end()
	gapClient.toEnd(lastClient, end, s.Closed != "")
	gapServer.toEnd(lastServer, end, s.Closed != "")
	sum.LargestGapClient, sum.LargestGapServer = f.gapText(gapClient), f.gapText(gapServer)
	sum.Heartbeats = len(heartbeats)
	sum.HeartbeatEvery = intervals(heartbeats)
	sum.Ended = f.ended(ss, closeReq, closeConf)
	f.idleGaps(ss)
	f.confirmations(ss)
}

// toRequest names the request a refusal answers: " to SET_AGENT_STATE_REQ
// InvokeID=7 (f59)".
func (ss *sessState) toRequest(conf *pcaps.Message) string {
	req := ss.request[conf]
	if req == nil {
		if x, ok := conf.Msg.(cti.InvokeIDer); ok {
			return fmt.Sprintf(" to InvokeID=%d (no request in the capture)", x.GetInvokeID())
		}
		return ""
	}
	return fmt.Sprintf(" to %s InvokeID=%d (f%d)", req.Type, req.Msg.(cti.InvokeIDer).GetInvokeID(), req.Frame)
}

// gap is the longest time between two messages of one side.
type gap struct {
	d        time.Duration
	from, to int // frames
	toWhat   string
}

func (g *gap) see(prev, m *pcaps.Message) {
	if prev == nil {
		return
	}
	if d := m.Time.Sub(prev.Time); d > g.d {
		*g = gap{d: d, from: prev.Frame, to: m.Frame}
	}
}

func (g *gap) toEnd(last *pcaps.Message, end time.Time, closed bool) {
	if last == nil {
		return
	}
	if d := end.Sub(last.Time); d > g.d {
		*g = gap{d: d, from: last.Frame, toWhat: "the end of the capture"}
		if closed {
			g.toWhat = "the connection's close"
		}
	}
}

func (f *follower) gapText(g gap) string {
	if g.from == 0 {
		return ""
	}
	if g.toWhat != "" {
		return fmt.Sprintf("%.3f s (f%d → %s)", g.d.Seconds(), g.from, g.toWhat)
	}
	return fmt.Sprintf("%.3f s (f%d → f%d)", g.d.Seconds(), g.from, g.to)
}

// intervals prints the median interval between heartbeats with the
// smallest and largest.
func intervals(ts []time.Time) string {
	if len(ts) < 2 {
		return ""
	}
	ds := make([]time.Duration, 0, len(ts)-1)
	for i := 1; i < len(ts); i++ {
		ds = append(ds, ts[i].Sub(ts[i-1]))
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return fmt.Sprintf("%.3f s (%.3f–%.3f)", ds[len(ds)/2].Seconds(), ds[0].Seconds(), ds[len(ds)-1].Seconds())
}

// ended says how the session ended.
func (f *follower) ended(ss *sessState, closeReq, closeConf *pcaps.Message) string {
	s := ss.s
	var parts []string
	if s.Closed != "" {
		parts = append(parts, s.Closed+" at "+f.rel(s.ClosedTime))
	} else {
		parts = append(parts, "open at the end of the capture")
	}
	if closeReq != nil {
		st := closeReq.Msg.(*cti.CloseReq).Status
		p := fmt.Sprintf("after CLOSE_REQ %s (f%d)", st, closeReq.Frame)
		if closeConf != nil {
			p += fmt.Sprintf(" and CLOSE_CONF (f%d)", closeConf.Frame)
		} else {
			p += " without CLOSE_CONF"
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, ", ")
}

// systemEvent lists a SYSTEM_EVENT in the session's PG status and flags a
// PG, peripheral, OPC or CTI Server going offline while calls are active
// (ipcc-behaviour.md §3.5: the calls continue but lose third-party
// control).
func (f *follower) systemEvent(ss *sessState, m *pcaps.Message, x *cti.SystemEvent) {
	what := fmt.Sprintf("SYSTEM_EVENT %s", x.SystemEventID)
	periph := uint32(null32)
	switch x.SystemEventID {
	case cti.SysPeripheralOnline, cti.SysPeripheralOffline:
		periph = x.SystemEventArg1
		what += fmt.Sprintf(" peripheral %d", periph)
	}
	what += " PGStatus=" + x.PGStatus.String()
	if x.Text != "" {
		what += " Text=" + string(appendText(nil, x.Text))
	}
	ss.sum.PGStatus = append(ss.sum.PGStatus, f.line(m.Time, m.Frame, source(ss.s), what))

	const offlineBits = cti.PGSOPCDown | cti.PGSPeripheralOffline | cti.PGSCTIServerOffline
	var why string
	switch x.SystemEventID {
	case cti.SysPeripheralOffline, cti.SysPeripheralGatewayOffline, cti.SysCTIServerOffline:
		why = x.SystemEventID.String()
	}
	if gained := x.PGStatus &^ ss.pgStatus & offlineBits; gained != 0 {
		if why != "" {
			why += ", "
		}
		if ss.pgKnown {
			why += "PGStatus gained " + gained.String()
		} else {
			why += "PGStatus " + gained.String()
		}
	}
	ss.pgStatus, ss.pgKnown = x.PGStatus, true
	if why == "" {
		return
	}
	var active []string
	for _, k := range ss.callOrder {
		cs := ss.calls[k]
		if !cs.active() || (periph != null32 && periph != 0 && k.PeripheralID != periph) {
			continue
		}
		active = append(active, fmt.Sprintf("%s (since %s)", f.callLabel(k), f.rel(cs.first)))
	}
	if len(active) == 0 {
		return
	}
	f.flag(KindPGOfflineMidCall, m.Time, m.Frame, ss.s.ID, fmt.Sprintf(
		"SYSTEM_EVENT %s while %d call(s) active: %s; the calls lose third-party control until the peripheral is back",
		why, len(active), strings.Join(active, ", ")))
}

// idleGaps flags the client being silent for the OPEN_REQ IdleTimeout or
// longer (§5.4: the server then declares the session failed and resets
// the connection).
func (f *follower) idleGaps(ss *sessState) {
	if ss.idle <= 0 || ss.openReq == nil {
		return
	}
	s := ss.s
	last := ss.openReq
	check := func(until time.Time, frame int, what string) {
		d := until.Sub(last.Time)
		if d < ss.idle {
			return
		}
		why := fmt.Sprintf("no message from the client for %.3f s (f%d %s → %s), at least its OPEN_REQ IdleTimeout of %d s",
			d.Seconds(), last.Frame, f.rel(last.Time), what, ss.open.IdleTimeout)
		switch {
		case s.Closed != "" && s.ClosedBy == "server" && frame == s.ClosedFrame:
			why += "; the server closing the connection is the expected consequence (§5.4)"
		case frame == s.ClosedFrame && s.Closed != "":
			why += "; the server should have closed the session first (§5.4)"
		case what == "the end of the capture":
			why += "; the server should have closed the session (§5.4)"
		default:
			why += "; the server should have closed the session (§5.4) but kept it"
		}
		f.flag(KindHeartbeatGap, until, frame, s.ID, why)
	}
	for _, m := range s.Messages {
		if !m.FromClient || m.Seq <= ss.openReq.Seq {
			continue
		}
		check(m.Time, m.Frame, fmt.Sprintf("f%d %s %s", m.Frame, f.rel(m.Time), m.Type))
		last = m
	}
	if s.Closed != "" {
		check(s.ClosedTime, s.ClosedFrame, fmt.Sprintf("%s %s", s.Closed, f.rel(s.ClosedTime)))
	} else {
		check(f.c.End, f.c.Packets, "the end of the capture")
	}
}

// confirmations flags requests without a confirmation: one anomaly per
// request unanswered (or answered late) while the session went on, and
// one per session whose connection ended with requests outstanding.
func (f *follower) confirmations(ss *sessState) {
	s := ss.s
	var outstanding []string
	for _, m := range s.Messages {
		if m.Msg == nil || !isRequest(m.FromClient, m.Type) || !ss.expectsConfirmation(m.Type) {
			continue
		}
		x, ok := m.Msg.(cti.InvokeIDer)
		if !ok {
			continue
		}
		inv := x.GetInvokeID()
		c := ss.conf[m]
		switch {
		case c != nil && c.Time.Sub(m.Time) > f.o.ConfirmWithin:
			f.flag(KindNoConfirmation, m.Time, m.Frame, s.ID, fmt.Sprintf(
				"%s InvokeID=%d confirmed only after %.3f s by %s (f%d), later than %v",
				m.Type, inv, c.Time.Sub(m.Time).Seconds(), c.Type, c.Frame, f.o.ConfirmWithin))
		case c != nil:
		case s.Closed != "":
			ss.sum.Unconfirmed++
			outstanding = append(outstanding, fmt.Sprintf("%s InvokeID=%d (f%d %s)", m.Type, inv, m.Frame, f.rel(m.Time)))
		default:
			ss.sum.Unconfirmed++
			if waited := f.c.End.Sub(m.Time); waited >= f.o.ConfirmWithin {
				f.flag(KindNoConfirmation, m.Time, m.Frame, s.ID, fmt.Sprintf(
					"%s InvokeID=%d has no confirmation %.3f s later, at the end of the capture (expected within %v)",
					m.Type, inv, waited.Seconds(), f.o.ConfirmWithin))
			}
		}
	}
	if len(outstanding) > 0 {
		f.flag(KindOutstandingAtClose, s.ClosedTime, s.ClosedFrame, s.ID, fmt.Sprintf(
			"the connection ended (%s) with %d request(s) unconfirmed: %s", s.Closed, len(outstanding), strings.Join(outstanding, ", ")))
	}
}
