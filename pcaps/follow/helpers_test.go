package follow

import (
	"bytes"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ipcclab/ipcclab/pcaps"
	"github.com/ipcclab/ipcclab/protocol/cti"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

var t0 = time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)

// CaptureBuilder builds a pcaps.Capture directly from typed CTI messages,
// as the decoder would have produced it: frames numbered in the order the
// messages are added, times as offsets from t0, every message encoded at
// the session's version so that Raw and InvokeID are real.
type CaptureBuilder struct {
	t        testing.TB
	c        *pcaps.Capture
	frame    int
	last     time.Duration
	sessions []*SessionBuilder
}

// timeD shortens test tables.
type timeD = time.Duration

// NewCaptureBuilder starts an empty capture beginning at t0.
func NewCaptureBuilder(t testing.TB) *CaptureBuilder {
	return &CaptureBuilder{t: t, c: &pcaps.Capture{File: "constructed.pcapng", Format: "pcapng", LinkType: "Ethernet", Start: t0, End: t0}}
}

// SessionBuilder adds messages to one CTI session.
type SessionBuilder struct {
	b *CaptureBuilder
	s *pcaps.Session
}

// Session adds a CTI session between client and server ("ip:port").
func (b *CaptureBuilder) Session(client, server string) *SessionBuilder {
	s := &pcaps.Session{ID: len(b.c.Sessions) + 1, Client: netip.MustParseAddrPort(client), Server: netip.MustParseAddrPort(server),
		RoleFrom: "SYN", Version: 24, VersionFrom: "OPEN_REQ", FirstFrame: b.frame + 1}
	b.c.Sessions = append(b.c.Sessions, s)
	sb := &SessionBuilder{b: b, s: s}
	b.sessions = append(b.sessions, sb)
	return sb
}

// Sessions returns the sessions added so far.
func (b *CaptureBuilder) Sessions() []*SessionBuilder { return b.sessions }

func (b *CaptureBuilder) tick(at time.Duration) (int, time.Time) {
	b.frame++
	if at > b.last {
		b.last = at
	}
	b.c.Packets = b.frame
	ts := t0.Add(at)
	if ts.After(b.c.End) {
		b.c.End = ts
	}
	return b.frame, ts
}

// Until extends the capture to end at t0+at (a last packet of another
// conversation).
func (b *CaptureBuilder) Until(at time.Duration) *CaptureBuilder {
	b.tick(at)
	return b
}

// Capture returns the capture built.
func (b *CaptureBuilder) Capture() *pcaps.Capture { return b.c }

func (sb *SessionBuilder) add(at time.Duration, fromClient bool, m cti.Message) *pcaps.Message {
	frame, ts := sb.b.tick(at)
	raw, err := cti.AppendMessage(nil, m, sb.s.Version)
	if err != nil {
		sb.b.t.Fatalf("encode %T: %v", m, err)
	}
	msg := &pcaps.Message{Seq: len(sb.s.Messages) + 1, Frame: frame, Time: ts, FromClient: fromClient, Type: m.MessageType(), Raw: raw, Msg: m}
	sb.s.Messages = append(sb.s.Messages, msg)
	if sb.s.Start.IsZero() {
		sb.s.Start = ts
	}
	sb.s.End = ts
	return msg
}

// C adds a message from the client at t0+at.
func (sb *SessionBuilder) C(at time.Duration, m cti.Message) *SessionBuilder {
	sb.add(at, true, m)
	return sb
}

// S adds a message from the server at t0+at.
func (sb *SessionBuilder) S(at time.Duration, m cti.Message) *SessionBuilder {
	sb.add(at, false, m)
	return sb
}

// Undecoded adds a message from the server that did not decode.
func (sb *SessionBuilder) Undecoded(at time.Duration, mt cti.MessageType) *SessionBuilder {
	msg := sb.add(at, false, &cti.RawMessage{Type: mt, Body: []byte{1, 2}})
	msg.Msg, msg.Err = nil, &cti.Error{Status: 25, Type: mt, Msg: "constructed: does not decode"}
	return sb
}

// Close ends the connection at t0+at, by "client" or "server" with "FIN"
// or "RST".
func (sb *SessionBuilder) Close(at time.Duration, by, how string) *SessionBuilder {
	frame, ts := sb.b.tick(at)
	s := sb.s
	s.Closed = how + " from " + by + " (frame " + itoa(frame) + ")"
	s.ClosedFrame, s.ClosedTime, s.ClosedBy, s.End = frame, ts, by, ts
	return sb
}

func itoa(n int) string { return strconv.Itoa(n) }

// Typed message shorthands with the values of the fixtures: peripheral
// 5000, agent 1001 on extension 1001, ANI 8005550100.
const (
	periph = 5000
	sec    = time.Second
	ms     = time.Millisecond
)

func openReq(inv, idle uint32) *cti.OpenReq {
	return &cti.OpenReq{InvokeID: inv, VersionNumber: 24, IdleTimeout: idle, PeripheralID: periph,
		ServicesRequested: cti.ServiceAllEvents | cti.ServiceClientControl, ClientID: "blender", ClientPassword: []byte{}}
}

func openConf(inv uint32, pgs cti.PGStatus) *cti.OpenConf {
	return &cti.OpenConf{InvokeID: inv, ServicesGranted: cti.ServiceAllEvents | cti.ServiceClientControl, PGStatus: pgs,
		PeripheralOnline: pgs&cti.PGSPeripheralOffline == 0, PeripheralType: cti.PeripheralType(0), AgentState: cti.AgentStateUnknown}
}

func beginCall(call uint32, dev string) *cti.BeginCallEvent {
	return &cti.BeginCallEvent{PeripheralID: periph, CallType: cti.CallType(1), ConnectionDeviceIDType: 0, ConnectionCallID: call,
		ConnectionDeviceID: dev, ANI: "8005550100", DNIS: "5000", DialedNumber: "8005550199",
		RouterCallKeyDay: 150000, RouterCallKeyCallID: call + 1000, RouterCallKeySequenceNumber: 1, CallVariable1: "acct-42"}
}

func delivered(call uint32, dev string) *cti.CallDeliveredEvent {
	return &cti.CallDeliveredEvent{PeripheralID: periph, ConnectionCallID: call, ConnectionDeviceID: dev, AlertingDeviceID: dev,
		CallingDeviceID: "8005550100", CalledDeviceID: dev, LocalConnectionState: cti.LCSAlerting, EventCause: cti.EventCause(22),
		ServiceNumber: null32, ServiceID: null32, SkillGroupNumber: 10, SkillGroupID: 110}
}

func established(call uint32, dev string) *cti.CallEstablishedEvent {
	return &cti.CallEstablishedEvent{PeripheralID: periph, ConnectionCallID: call, ConnectionDeviceID: dev, AnsweringDeviceID: dev,
		CallingDeviceID: "8005550100", CalledDeviceID: dev, LocalConnectionState: cti.LCSConnect, EventCause: cti.CECNone,
		ServiceNumber: null32, ServiceID: null32, SkillGroupNumber: 10}
}

func connCleared(call uint32, dev string) *cti.CallConnectionClearedEvent {
	return &cti.CallConnectionClearedEvent{PeripheralID: periph, ConnectionCallID: call, ConnectionDeviceID: dev,
		LocalConnectionState: cti.LCSNull, EventCause: cti.CECNone}
}

func cleared(call uint32, dev string) *cti.CallClearedEvent {
	return &cti.CallClearedEvent{PeripheralID: periph, ConnectionCallID: call, ConnectionDeviceID: dev,
		LocalConnectionState: cti.LCSNull, EventCause: cti.CECNone}
}

func endCall(call uint32, dev string) *cti.EndCallEvent {
	return &cti.EndCallEvent{PeripheralID: periph, ConnectionCallID: call, ConnectionDeviceID: dev}
}

func dataUpdate(call uint32, dev string) *cti.CallDataUpdateEvent {
	return &cti.CallDataUpdateEvent{PeripheralID: periph, ConnectionCallID: call, ConnectionDeviceID: dev,
		NewConnectionCallID: call, NewConnectionDeviceID: dev, CallVariable2: "wrapped"}
}

func stateEvent(st cti.AgentState, reason uint16) *cti.AgentStateEvent {
	return &cti.AgentStateEvent{PeripheralID: periph, AgentState: st, SkillGroupState: st, EventReasonCode: reason,
		SkillGroupNumber: null32, AgentID: "1001", AgentExtension: "1001", AgentInstrument: "1001"}
}

func preCall(call uint32) *cti.AgentPreCallEvent {
	return &cti.AgentPreCallEvent{ServiceNumber: null32, SkillGroupNumber: 10, AgentInstrument: "1001", AgentID: "1001",
		RouterCallKeyDay: 150000, RouterCallKeyCallID: call + 1000, RouterCallKeySequenceNumber: 1, ANI: "8005550100"}
}

func preCallAbort(call uint32) *cti.AgentPreCallAbortEvent {
	return &cti.AgentPreCallAbortEvent{AgentInstrument: "1001",
		RouterCallKeyDay: 150000, RouterCallKeyCallID: call + 1000, RouterCallKeySequenceNumber: 1}
}

func setStateReq(inv uint32, st cti.AgentState, reason uint16) *cti.SetAgentStateReq {
	return &cti.SetAgentStateReq{InvokeID: inv, PeripheralID: periph, AgentState: st, EventReasonCode: reason,
		AgentInstrument: "1001", AgentID: "1001"}
}

func systemEvent(id cti.SystemEventID, pgs cti.PGStatus, arg1 uint32) *cti.SystemEvent {
	return &cti.SystemEvent{PGStatus: pgs, SystemEventID: id, SystemEventArg1: arg1, EventDeviceType: cti.DeviceIDType(null16)}
}

// kinds returns the anomalies' kinds in report order.
func kinds(r *Report) []string {
	var out []string
	for _, a := range r.Anomalies {
		out = append(out, a.Kind)
	}
	return out
}

func anomaliesText(r *Report) string {
	var b strings.Builder
	for _, a := range r.Anomalies {
		b.WriteString(a.Kind + " f" + itoa(a.Frame) + ": " + a.Why + "\n")
	}
	return b.String()
}

// golden compares got with testdata/name, rewriting it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := 0; i < len(gl) || i < len(wl); i++ {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("%s differs at line %d:\n got: %s\nwant: %s\n(run with -update after checking the change)", path, i+1, g, w)
			}
		}
	}
}
