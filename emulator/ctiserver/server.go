// Package ctiserver is the emulated Cisco CTI Server: it holds the CTI
// sessions of the clients connected to one CallManager PG, enforces the
// session rules of GED-188 (OPEN_REQ validation, heartbeats and IdleTimeout,
// CLOSE), dispatches requests to the PG with InvokeID echo, and fans the PG's
// call and agent events out to the sessions whose masks select them.
//
// It is a pure core: frames come in through Session.Receive, frames go out
// through the Conn an adapter supplied, time comes from a sim.Scheduler. The
// TCP adapter lives in emulator/ctiserver/tcp; the simulation wires sessions
// to sim.Link ends.
//
// Section references (§n) point into shared/reference/cti-protocol.md.
package ctiserver

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/ipcclab/ipcclab/emulator/icm"
	"github.com/ipcclab/ipcclab/emulator/pg"
	"github.com/ipcclab/ipcclab/internal/sim"
	"github.com/ipcclab/ipcclab/protocol/cti"
)

// Conn is one client's transport, owned by an adapter. Send gets one whole
// frame (header included), to be written in a single write: some real
// clients read a header with a single recv (§9).
type Conn interface {
	Send(frame []byte)
	Close()
}

// Config is the CTI Server's configuration.
type Config struct {
	// MinVersion and MaxVersion bound the protocol versions accepted in
	// OPEN_REQ (§5.1: there is no negotiation; anything else is refused with
	// E_CTI_INVALID_VERSION).
	MinVersion, MaxVersion cti.ProtocolVersion
	// MinIdleTimeout is the smallest finite IdleTimeout accepted (§5.4: 20 s).
	MinIdleTimeout time.Duration
	// Standby starts the server as the standby side of an active/standby
	// pair (§5.10): it accepts only PV24+ clients that set
	// CTI_SERVICE_ACTIVE_STANDBY, answers only OPEN, HEARTBEAT and CLOSE and
	// reports SessionType 2, until Promote makes it active.
	Standby bool
	// Clients, when not empty, lists the CTI clients allowed to open a
	// session, by ClientID. Unknown clients and wrong passwords are refused
	// with E_CTI_INVALID_PASSWORD (§5.2).
	Clients map[string]ClientAccess
	// Logf receives one line per noteworthy session event (refusals, idle
	// timeouts, malformed input). Nil discards.
	Logf func(format string, args ...any)
}

// ClientAccess is what one CTI client may do.
type ClientAccess struct {
	// Password must match the OPEN_REQ ClientPassword (its text up to the
	// first NUL; empty, a lone NUL and no password at all are the same).
	Password string
	// AgentStateControlOnly grants CTI_AGENT_STATE_CONTROL_ONLY instead of
	// CLIENT_CONTROL: the client may change agent states but not control
	// calls (§5.2: services granted may be fewer than requested).
	AgentStateControlOnly bool
}

// DefaultConfig accepts protocol versions 13 to 25.
func DefaultConfig() Config {
	return Config{MinVersion: 13, MaxVersion: 25, MinIdleTimeout: 20 * time.Second}
}

func (c Config) validate() error {
	var errs []error
	if c.MinVersion < 13 || c.MaxVersion < c.MinVersion || c.MaxVersion > 25 {
		errs = append(errs, fmt.Errorf("ctiserver: Config.MinVersion/MaxVersion %d..%d: must satisfy 13 <= min <= max <= 25", c.MinVersion, c.MaxVersion))
	}
	if c.MinIdleTimeout < time.Second {
		errs = append(errs, fmt.Errorf("ctiserver: Config.MinIdleTimeout %v: must be at least 1s", c.MinIdleTimeout))
	}
	return errors.Join(errs...)
}

// Stats is the part of the router the CTI Server reads for
// QUERY_SKILL_GROUP_STATISTICS_REQ.
type Stats interface {
	SkillGroupStats(numberOrID uint32) (icm.SkillGroupStats, error)
}

// Counters are the server's own figures.
type Counters struct {
	SessionsOpened, SessionsRefused, SessionsClosed uint64
	FramesIn, FramesOut                             uint64
	MalformedFrames, IdleTimeouts                   uint64
}

// Server is the emulated CTI Server of one PG.
type Server struct {
	cfg      Config
	sched    sim.Scheduler
	pg       *pg.PG
	stats    Stats
	sessions map[uint32]*Session
	order    []*Session // open sessions in open order, for deterministic fan-out
	nextID   uint32
	counters Counters

	// While a request is being handled, PG events are held back so that the
	// confirmation goes out first (§5.9(c): MAKE_PREDICTIVE_CALL_CONF, then
	// BEGIN_CALL ...).
	inRequest bool
	held      []pg.Event

	enc encodeCache
	// begins holds each live call's BEGIN_CALL_EVENT so that a desktop
	// session that joins the call later still gets it first.
	begins      map[uint32]*cti.BeginCallEvent
	nextMonitor uint32
	standby     bool // this side is the standby of a pair (§5.10)
	// svc is the state of the services of services*.go (device
	// capabilities).
	svc serverServices
}

// New returns a CTI Server for the PG p. Wire p's event sink to
// Server.PGEvent.
func New(cfg Config, sched sim.Scheduler, p *pg.PG, stats Stats) (*Server, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if sched == nil || p == nil || stats == nil {
		return nil, errors.New("ctiserver: New needs a scheduler, a PG and router statistics")
	}
	return &Server{cfg: cfg, sched: sched, pg: p, stats: stats, sessions: map[uint32]*Session{}, begins: map[uint32]*cti.BeginCallEvent{},
		standby: cfg.Standby}, nil
}

// Counters returns the server's counters.
func (s *Server) Counters() Counters { return s.counters }

// OpenSessions counts sessions that completed OPEN.
func (s *Server) OpenSessions() int { return len(s.order) }

func (s *Server) logf(format string, args ...any) {
	if s.cfg.Logf != nil {
		s.cfg.Logf(format, args...)
	}
}

type sessionState uint8

const (
	awaitingOpen sessionState = iota
	open
	closed
)

// Session is one client connection.
type Session struct {
	srv    *Server
	id     uint32
	conn   Conn
	remote string
	state  sessionState

	pv       cti.ProtocolVersion
	services cti.ServiceMask
	callMask cti.CallEventMask
	agtMask  cti.AgentStateMask
	clientID string

	idle     time.Duration // 0: no idle supervision
	idleT    sim.Timer
	lastSent map[string]pg.AgentState // for IGNORE_DUPLICATE_AGENT_EVENTS
	buf      []byte
	desk     *desk // CLIENT_EVENTS sessions only
	// svc is the session's state for the services of services*.go
	// (monitors, registered variables, session monitors); nil until used.
	svc *sessionServices
}

// Accept registers a new client connection. remote names it in logs.
func (s *Server) Accept(c Conn, remote string) *Session {
	s.nextID++
	ss := &Session{srv: s, id: s.nextID, conn: c, remote: remote}
	s.sessions[ss.id] = ss
	return ss
}

// ID is the session's number (the SessionID of AGENT_STATE_EVENT for
// CLIENT_EVENTS sessions).
func (ss *Session) ID() uint32 { return ss.id }

// Version is the protocol version of an open session (0 before OPEN).
func (ss *Session) Version() cti.ProtocolVersion { return ss.pv }

// Closed tells the server that the peer went away (TCP close or reset).
func (ss *Session) Closed() {
	ss.teardown("peer closed the connection")
}

func (ss *Session) teardown(why string) {
	if ss.state == closed {
		return
	}
	wasOpen := ss.state == open
	ss.state = closed
	s := ss.srv
	s.sched.Cancel(ss.idleT)
	delete(s.sessions, ss.id)
	if wasOpen {
		s.counters.SessionsClosed++
		for i, o := range s.order {
			if o == ss {
				s.order = append(s.order[:i], s.order[i+1:]...)
				break
			}
		}
	}
	s.logf("cti session %d (%s, %s): closed: %s", ss.id, ss.remote, ss.clientID, why)
	s.sessionClosed(ss, wasOpen, why) // services_clients.go
	ss.conn.Close()
}

// Shutdown tells every open session that the CTI Server is going away with
// an unsolicited FAILURE_EVENT E_CTI_CTI_SERVER_OFFLINE (§5.5) and closes it.
func (s *Server) Shutdown() {
	for _, ss := range append([]*Session(nil), s.order...) {
		ss.send(&cti.FailureEvent{Status: cti.StatusCTIServerOffline}, ss.pv)
		ss.teardown("CTI Server shutting down")
	}
	for _, ss := range s.sessions {
		ss.teardown("CTI Server shutting down")
	}
}

// FramingError reports that the adapter could not frame the byte stream (an
// impossible MessageLength, say). The stream cannot be resynchronised (§1.2),
// so the server answers FAILURE_CONF with the status and closes.
func (ss *Session) FramingError(err error) {
	ss.srv.counters.MalformedFrames++
	st := cti.StatusInvalidMessageLength
	var ce *cti.Error
	if errors.As(err, &ce) {
		st = ce.Status
	}
	ss.send(&cti.FailureConf{Status: st}, ss.versionOrDefault())
	ss.teardown("unframeable input: " + err.Error())
}

func (ss *Session) versionOrDefault() cti.ProtocolVersion {
	if ss.pv != 0 {
		return ss.pv
	}
	return ss.srv.cfg.MaxVersion
}

func (ss *Session) send(m cti.Message, pv cti.ProtocolVersion) {
	if ss.state == closed {
		return
	}
	b, err := cti.AppendMessage(ss.buf[:0], m, pv)
	if err != nil {
		// Our own message failed to encode: a bug, never the client's fault.
		ss.srv.logf("cti session %d: cannot encode %v at PV%d: %v", ss.id, m.MessageType(), pv, err)
		return
	}
	ss.buf = b
	ss.srv.counters.FramesOut++
	ss.conn.Send(b)
}

func (ss *Session) sendFrame(frame []byte) {
	if ss.state != open {
		return
	}
	ss.srv.counters.FramesOut++
	ss.conn.Send(frame)
}

// Receive handles one frame (8-byte header included) from the client.
func (ss *Session) Receive(frame []byte) {
	s := ss.srv
	if ss.state == closed {
		return
	}
	s.counters.FramesIn++
	if len(frame) < cti.HeaderSize || int(binary.BigEndian.Uint32(frame)) != len(frame)-cti.HeaderSize {
		ss.FramingError(&cti.Error{Status: cti.StatusInvalidMessageLength, Msg: "MessageLength does not match the frame"})
		return
	}
	mt := cti.MessageType(binary.BigEndian.Uint32(frame[4:]))
	body := frame[cti.HeaderSize:]
	if ss.state == open {
		ss.armIdle()
	}
	if ss.state == awaitingOpen {
		if mt != cti.MsgOpenReq {
			// §5.2: any other request before OPEN_CONF.
			inv, _ := cti.InvokeIDFromBody(body)
			s.counters.MalformedFrames++
			ss.send(&cti.FailureConf{InvokeID: inv, Status: cti.StatusSessionNotOpen}, ss.versionOrDefault())
			s.logf("cti session %d (%s): %v before OPEN_REQ refused (E_CTI_SESSION_NOT_OPEN)", ss.id, ss.remote, mt)
			return
		}
		ss.handleOpen(body)
		return
	}
	msg, err := cti.DecodeBody(mt, body, ss.pv)
	if err != nil {
		inv, _ := cti.InvokeIDFromBody(body)
		st := cti.StatusBadMessageFormat
		var ce *cti.Error
		if errors.As(err, &ce) {
			st = ce.Status
		}
		s.counters.MalformedFrames++
		ss.send(&cti.FailureConf{InvokeID: inv, Status: st}, ss.pv)
		s.logf("cti session %d (%s): refused %v: %v", ss.id, ss.clientID, mt, err)
		return
	}
	s.dispatch(ss, msg)
}

func (ss *Session) armIdle() {
	if ss.idle == 0 {
		return
	}
	s := ss.srv
	s.sched.Cancel(ss.idleT)
	ss.idleT = sim.After(s.sched, ss.idle, func(time.Time) {
		// §5.4: no message within IdleTimeout: the session has failed and
		// the server resets the connection.
		s.counters.IdleTimeouts++
		ss.teardown(fmt.Sprintf("no message within IdleTimeout %v", ss.idle))
	})
}
