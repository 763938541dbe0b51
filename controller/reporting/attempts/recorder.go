// Package attempts keeps the controller's per-attempt outbound records: it
// follows the controller's own CTI session — the frames the controller sends
// and the ones it receives, at the times it sends and receives them — and
// turns every MAKE_PREDICTIVE_CALL_REQ into one reporting.Attempt: when it
// left, from which agent's phone or dialer port, to which number and
// call-list record (CallVariable2), when the customer's phone rang
// (CALL_DELIVERED at the far end), answered and reached the agent
// (CALL_ESTABLISHED), how it ended (CALL_FAILED's cause, END_CALL).
//
// It judges outcomes by the controller's rules (controller/core.go,
// pool.go): a connect is a live answer established at the agent's device —
// in pool mode within ConnectWithin of the answer, later counting
// abandoned, as the regulators count it; an answer that never reaches an
// agent is abandoned; CALL_FAILED with CEC_BUSY is busy, with
// CEC_CALL_NOT_ANSWERED or CEC_TIME_OUT (or END_CALL while ringing) no
// answer, with any other cause failed; a refused dial request failed; a
// call the session lost sight of unknown. Nothing on the CTI wire tells an
// answering machine from a person, so it never reports machine.
//
// It is a pure core: frames and their times in, records out; no clock, no
// goroutine. A driver feeds it from wherever it sees the session (the
// simulation wraps the controller's link).
package attempts

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/ipcclab/ipcclab/controller/campaign"
	"github.com/ipcclab/ipcclab/controller/reporting"
	"github.com/ipcclab/ipcclab/protocol/cti"
)

// DefaultConnectWithin is the regulators' limit from a live answer to an
// agent (dialer-anchors.md §3), the controller's pool-mode default.
const DefaultConnectWithin = 2 * time.Second

// Config is what the recorder knows of the controller it watches.
type Config struct {
	// Campaign names the attempts whose dial request carries no campaign
	// in CallVariable1.
	Campaign string
	// Mode is how the controller places calls, recorded on every attempt:
	// progressive, preview or pool/<strategy>.
	Mode string
	// Agents maps the controller's agents' instruments (the phones calls
	// are placed from or transferred to) to their agent IDs.
	Agents map[string]string
	// Ports are the dialer ports of pool mode.
	Ports []string
	// ConnectWithin is pool mode's limit from a live answer to an agent;
	// 0 means DefaultConnectWithin.
	ConnectWithin time.Duration
	// Version decodes the session's frames until its OPEN_REQ names the
	// version (0: 24).
	Version cti.ProtocolVersion
}

// Validate reports every invalid field, each error naming it.
func (c Config) Validate() error {
	var errs []error
	bad := func(field, format string, a ...any) {
		errs = append(errs, fmt.Errorf("attempts: Config.%s "+format, append([]any{field}, a...)...))
	}
	if c.Campaign == "" {
		bad("Campaign", "is empty")
	}
	if c.Mode == "" {
		bad("Mode", "is empty")
	}
	for inst, id := range c.Agents {
		if inst == "" || id == "" {
			bad("Agents", "entry %q: %q: want an instrument and an agent ID", inst, id)
		}
	}
	seen := map[string]bool{}
	for i, p := range c.Ports {
		switch {
		case p == "" || seen[p]:
			bad("Ports", "[%d] %q: empty or repeated", i, p)
		case c.Agents[p] != "":
			bad("Ports", "[%d] %q is also agent %s's instrument", i, p, c.Agents[p])
		}
		seen[p] = true
	}
	if c.ConnectWithin < 0 {
		bad("ConnectWithin", "%v: want ≥ 0", c.ConnectWithin)
	}
	if c.Version != 0 && (c.Version < 13 || c.Version > 25) {
		bad("Version", "%d: want 0 or 13..25", c.Version)
	}
	return errors.Join(errs...)
}

// call is one attempt being followed.
type call struct {
	a      reporting.Attempt
	origin string // the device that placed it
	port   bool   // placed from a dialer port
}

// Recorder follows one controller's CTI session.
type Recorder struct {
	cfg     Config
	pv      cti.ProtocolVersion
	ports   map[string]bool
	all     []*call
	pending map[uint32]*call // dial requests awaiting their CONF, by InvokeID
	calls   map[uint32]*call // by ConnectionCallID, until END_CALL
	tries   map[int64]int    // attempts seen per call-list record
	bad     int
}

// New validates cfg and returns a recorder with nothing seen.
func New(cfg Config) (*Recorder, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.ConnectWithin == 0 {
		cfg.ConnectWithin = DefaultConnectWithin
	}
	if cfg.Version == 0 {
		cfg.Version = 24
	}
	r := &Recorder{cfg: cfg, pv: cfg.Version, ports: map[string]bool{}, pending: map[uint32]*call{}, calls: map[uint32]*call{},
		tries: map[int64]int{}}
	for _, p := range cfg.Ports {
		r.ports[p] = true
	}
	return r, nil
}

// Undecodable counts the frames of interest that could not be decoded
// (and were skipped, as the controller skips them).
func (r *Recorder) Undecodable() int { return r.bad }

// callIDOffset is where ConnectionCallID sits in the body of the call
// events followed.
const callIDOffset = 12

// frameType is the message type of a whole frame; ok false when it is
// shorter than a header.
func frameType(frame []byte) (cti.MessageType, bool) {
	if len(frame) < cti.HeaderSize {
		return 0, false
	}
	return cti.MessageType(binary.BigEndian.Uint32(frame[4:])), true
}

func (r *Recorder) decode(mt cti.MessageType, frame []byte) cti.Message {
	m, err := cti.DecodeBody(mt, frame[cti.HeaderSize:], r.pv)
	if err != nil {
		r.bad++
		return nil
	}
	return m
}

// Sent sees a frame the controller sent at at.
func (r *Recorder) Sent(at time.Time, frame []byte) {
	mt, ok := frameType(frame)
	if !ok {
		return
	}
	switch mt {
	case cti.MsgOpenReq:
		// OPEN_REQ is decoded with its own VersionNumber whatever version
		// is passed (§5.1).
		if o, ok := r.decode(mt, frame).(*cti.OpenReq); ok && o.VersionNumber >= 13 && o.VersionNumber <= 25 {
			r.pv = cti.ProtocolVersion(o.VersionNumber)
		}
	case cti.MsgMakePredictiveCallReq:
		if m, ok := r.decode(mt, frame).(*cti.MakePredictiveCallReq); ok {
			r.dial(at, m)
		}
	}
}

func (r *Recorder) dial(at time.Time, m *cti.MakePredictiveCallReq) {
	c := &call{origin: m.OriginatingDeviceID, port: r.ports[m.OriginatingDeviceID]}
	c.a = reporting.Attempt{Start: at, Campaign: cmp.Or(m.CallVariable1, r.cfg.Campaign), Mode: r.cfg.Mode, DialedNumber: m.DialedNumber}
	if c.port {
		c.a.Port = c.origin
	} else {
		c.a.AgentID = r.cfg.Agents[c.origin]
	}
	// The controller puts a call-list record's ID in CallVariable2
	// (controller/records.go); synthetic numbers have none. The attempt
	// number counts the record's dials this recorder saw; a driver that
	// has the campaign's journal numbers them as the journal does.
	if id, err := strconv.ParseInt(m.CallVariable2, 10, 64); err == nil && id > 0 {
		r.tries[id]++
		c.a.RecordID, c.a.AttemptNumber = id, r.tries[id]
	}
	r.all = append(r.all, c)
	r.pending[m.InvokeID] = c
}

// Received sees a frame the controller received at at.
func (r *Recorder) Received(at time.Time, frame []byte) {
	mt, ok := frameType(frame)
	if !ok {
		return
	}
	switch mt {
	case cti.MsgMakePredictiveCallConf, cti.MsgFailureConf, cti.MsgControlFailureConf:
		if len(r.pending) == 0 {
			return
		}
	case cti.MsgCallDeliveredEvent, cti.MsgCallEstablishedEvent, cti.MsgCallFailedEvent, cti.MsgEndCallEvent:
		// Most call events are of other calls (inbound): their fixed part
		// starts MonitorID, PeripheralID, PeripheralType,
		// ConnectionDeviceIDType, ConnectionCallID in every protocol
		// version, so the call is known before the frame is decoded.
		body := frame[cti.HeaderSize:]
		if len(body) >= callIDOffset+4 && r.calls[binary.BigEndian.Uint32(body[callIDOffset:])] == nil {
			return
		}
	default:
		return
	}
	switch m := r.decode(mt, frame).(type) {
	case *cti.MakePredictiveCallConf:
		if c := r.pending[m.InvokeID]; c != nil {
			delete(r.pending, m.InvokeID)
			c.a.CallID = m.NewConnectionCallID
			r.calls[m.NewConnectionCallID] = c
		}
	case *cti.FailureConf:
		r.refused(at, m.InvokeID, m.Status.String())
	case *cti.ControlFailureConf:
		r.refused(at, m.InvokeID, m.FailureCode.String())
	case *cti.CallDeliveredEvent:
		if c := r.calls[m.ConnectionCallID]; c != nil && c.a.Alerting.IsZero() && r.farEnd(c, m.AlertingDeviceID) {
			c.a.Alerting = at
		}
	case *cti.CallEstablishedEvent:
		if c := r.calls[m.ConnectionCallID]; c != nil {
			r.established(at, c, m.AnsweringDeviceID)
		}
	case *cti.CallFailedEvent:
		if c := r.calls[m.ConnectionCallID]; c != nil && c.a.Outcome == "" {
			c.a.Outcome, c.a.Cause = failedOutcome(m.EventCause), m.EventCause.String()
		}
	case *cti.EndCallEvent:
		if c := r.calls[m.ConnectionCallID]; c != nil {
			delete(r.calls, m.ConnectionCallID)
			r.ended(at, c)
		}
	}
}

// refused: the CTI Server refused a dial request; the call never existed.
func (r *Recorder) refused(at time.Time, invoke uint32, why string) {
	c := r.pending[invoke]
	if c == nil {
		return
	}
	delete(r.pending, invoke)
	c.a.Outcome, c.a.Cause, c.a.End = campaign.Failed, "refused: "+why, at
}

// farEnd tells the customer's device from the controller's: the phone the
// call was placed from, a dialer port or an agent's instrument.
func (r *Recorder) farEnd(c *call, device string) bool {
	return device != c.origin && !r.ports[device] && r.cfg.Agents[device] == ""
}

func (r *Recorder) established(at time.Time, c *call, device string) {
	switch {
	case r.farEnd(c, device):
		if c.a.Answered.IsZero() {
			c.a.Answered = at
		}
	case c.port && r.cfg.Agents[device] != "":
		// A dialer port's customer transferred to an agent.
		if !c.a.Connected.IsZero() {
			return
		}
		c.a.Connected, c.a.AgentID = at, r.cfg.Agents[device]
		if c.a.Outcome == "" {
			c.a.Outcome = campaign.Answered
			if !c.a.Answered.IsZero() && at.Sub(c.a.Answered) > r.cfg.ConnectWithin {
				c.a.Outcome = campaign.Abandoned
			}
		}
	case !c.port && device == c.origin:
		if c.a.Connected.IsZero() {
			c.a.Connected = at
			if c.a.Answered.IsZero() {
				c.a.Answered = at
			}
			if c.a.Outcome == "" {
				c.a.Outcome = campaign.Answered
			}
		}
	}
	// On the dialer port itself (c.port, device == origin): the customer
	// waits for an agent; the answer was noted at the far end.
}

// ended: END_CALL. What is still undecided is decided as the controller
// does: an answer that never reached an agent was abandoned, a call that
// was never answered nor failed was not answered.
func (r *Recorder) ended(at time.Time, c *call) {
	c.a.End = at
	if c.a.Outcome != "" {
		return
	}
	if c.a.Answered.IsZero() {
		c.a.Outcome = campaign.NoAnswer
		return
	}
	c.a.Outcome = campaign.Abandoned
}

// failedOutcome maps CALL_FAILED's cause as the controller counts it.
func failedOutcome(cause cti.EventCause) reporting.Outcome {
	switch cause {
	case cti.CECBusy:
		return campaign.Busy
	case cti.CECCallNotAnswered, cti.CECTimeOut:
		return campaign.NoAnswer
	}
	return campaign.Failed
}

// Closed: the session is gone. The calls in flight are no longer
// observable (they may have been answered): unknown, ended now, as the
// controller ends their journal entries.
func (r *Recorder) Closed(at time.Time) {
	for _, c := range r.all {
		if c.a.End.IsZero() && (c.a.Outcome == "" || c.a.Outcome == campaign.Answered) {
			if c.a.Outcome == "" {
				c.a.Outcome = campaign.Unknown
			}
			c.a.End = at
		}
	}
	clear(r.pending)
	clear(r.calls)
}

// Attempts returns every attempt seen, in start order, as of now: a pool
// call answered more than ConnectWithin ago with no agent yet is abandoned
// (the controller has played the safe-harbour message); attempts still in
// flight otherwise have no outcome yet (or answered, talking) and no end.
func (r *Recorder) Attempts(now time.Time) []reporting.Attempt {
	out := make([]reporting.Attempt, 0, len(r.all))
	for _, c := range r.all {
		a := c.a
		if a.Outcome == "" && c.port && !a.Answered.IsZero() && now.Sub(a.Answered) > r.cfg.ConnectWithin {
			a.Outcome = campaign.Abandoned
		}
		out = append(out, a)
	}
	// Appended in send order, which is start order; stable for equal
	// times.
	slices.SortStableFunc(out, func(x, y reporting.Attempt) int { return x.Start.Compare(y.Start) })
	return out
}
