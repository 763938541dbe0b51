// Package wire is the conformance suite's CTI client: a protocol/cti session
// that records every message it receives (with its arrival time) so that
// specs can check what crossed the wire, in order, and attach the transcript
// to a failing spec.
package wire

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/ipcclab/ipcclab/protocol/cti"
)

// Event is one message received, with when it arrived.
type Event struct {
	// Seq is the message's position among the messages of the session.
	Seq int
	At  time.Time
	Msg cti.Message
}

// Options configure a client.
type Options struct {
	ClientID string
	Version  cti.ProtocolVersion
	Services cti.ServiceMask
	// PeripheralID of the CallManager PG (0 means NullPeripheralID: any).
	PeripheralID uint32
	// IdleTimeout of the OPEN_REQ in seconds (0: 60).
	IdleTimeout uint32
	// Heartbeat is the heartbeat interval (0: 10 s; negative: none).
	Heartbeat time.Duration
	// Customize, when set, adjusts the OPEN_REQ before it is sent (masks,
	// agent identifiers of a CLIENT_EVENTS session, ...).
	Customize func(*cti.OpenReq)
	// KeepFrames keeps the raw bytes of every frame received (Frames), for
	// checks of fixed-part sizes and of the order of confirmations and
	// events.
	KeepFrames bool
}

// Frame is one message as it crossed the wire, in arrival order across
// confirmations and events.
type Frame struct {
	Seq  int
	At   time.Time
	Type cti.MessageType
	// Len is the MessageLength of the header (the body's size).
	Len int
	// Body is the body, when Options.KeepFrames.
	Body []byte
}

// AllCallEvents are the call events the suite subscribes to.
const AllCallEvents = cti.CallDeliveredMask | cti.CallQueuedMask | cti.CallEstablishedMask | cti.CallHeldMask |
	cti.CallRetrievedMask | cti.CallClearedMask | cti.CallConnectionClearedMask | cti.CallOriginatedMask |
	cti.CallConferencedMask | cti.CallTransferredMask | cti.CallDivertedMask | cti.CallServiceInitiatedMask |
	cti.CallTranslationRouteMask | cti.BeginCallMask | cti.EndCallMask | cti.CallDataUpdateMask | cti.CallFailedMask |
	cti.CallReachedNetworkMask | cti.CallDequeuedMask | cti.AgentPreCallMask | cti.AgentPreCallAbortMask

// AllAgentStates selects AGENT_LOGIN_MASK .. AGENT_NOT_ACTIVE_MASK.
const AllAgentStates cti.AgentStateMask = 0x3FFF

// Client is a recorded CTI session.
type Client struct {
	Name    string
	session *cti.Session
	pv      cti.ProtocolVersion
	start   time.Time
	open    *cti.OpenConf

	mu         sync.Mutex
	events     []Event  // unsolicited messages
	transcript []string // everything sent and received, one line each
	seq        int
	frames     []Frame
	drained    chan struct{}
}

// Dial connects to a CTI Server and opens a session (§5.1). The session
// heartbeats every 10 s with an IdleTimeout of 60 s.
func Dial(ctx context.Context, addr string, opts Options) (*Client, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("wire: dial %s: %w", addr, err)
	}
	if opts.Version == 0 {
		opts.Version = 24
	}
	if opts.PeripheralID == 0 {
		opts.PeripheralID = cti.NullPeripheralID
	}
	if opts.IdleTimeout == 0 {
		opts.IdleTimeout = 60
	}
	if opts.Heartbeat == 0 {
		opts.Heartbeat = 10 * time.Second
	}
	c := &Client{
		Name:    fmt.Sprintf("%s PV%d", opts.ClientID, opts.Version),
		pv:      opts.Version,
		start:   time.Now(),
		drained: make(chan struct{}),
	}
	c.session = cti.NewSession(&tap{Conn: conn, keep: opts.KeepFrames, frame: c.frame}, nil)
	go c.drain()
	req := &cti.OpenReq{
		VersionNumber:     uint32(opts.Version),
		IdleTimeout:       opts.IdleTimeout,
		PeripheralID:      opts.PeripheralID,
		ServicesRequested: opts.Services,
		CallMsgMask:       AllCallEvents,
		AgentStateMask:    AllAgentStates,
		ClientID:          opts.ClientID,
		ClientPassword:    []byte{},
	}
	req.SetPresent(cti.TagClientPassword)
	if opts.Customize != nil {
		opts.Customize(req)
	}
	c.note(">", req)
	conf, err := c.session.Open(ctx, req)
	if err != nil {
		c.noteErr(err)
		_ = c.session.Close(context.Background())
		return nil, fmt.Errorf("wire: OPEN_REQ to %s at PV%d: %w", addr, opts.Version, err)
	}
	c.note("<", conf)
	c.open = conf
	if opts.Heartbeat > 0 {
		c.session.StartHeartbeat(opts.Heartbeat)
	}
	return c, nil
}

// OpenConf is the server's answer to OPEN_REQ.
func (c *Client) OpenConf() *cti.OpenConf { return c.open }

// Version is the session's protocol version.
func (c *Client) Version() cti.ProtocolVersion { return c.pv }

// Err is why the session ended, nil while it is up.
func (c *Client) Err() error {
	select {
	case <-c.session.Done():
		return c.session.Err()
	default:
		return nil
	}
}

func (c *Client) drain() {
	defer close(c.drained)
	for m := range c.session.Events() {
		now := time.Now()
		c.mu.Lock()
		c.events = append(c.events, Event{Seq: c.seq, At: now, Msg: m})
		c.appendLine(now, "<", m)
		c.mu.Unlock()
	}
}

func (c *Client) note(dir string, m cti.Message) {
	c.mu.Lock()
	c.appendLine(time.Now(), dir, m)
	c.mu.Unlock()
}

func (c *Client) noteErr(err error) {
	c.mu.Lock()
	c.transcript = append(c.transcript, fmt.Sprintf("%8.3fs < error: %v", time.Since(c.start).Seconds(), err))
	c.mu.Unlock()
}

// maxLine bounds one transcript line.
const maxLine = 600

func (c *Client) appendLine(at time.Time, dir string, m cti.Message) {
	c.seq++
	c.transcript = append(c.transcript, fmt.Sprintf("%8.3fs %s %s", at.Sub(c.start).Seconds(), dir, Format(m)))
}

// Format renders a message on one line: its Go type and its fields.
func Format(m cti.Message) string {
	s := strings.TrimPrefix(fmt.Sprintf("%T %+v", m, m), "*cti.")
	s = strings.Replace(s, " &{", " {", 1)
	s = strings.ReplaceAll(s, "\n", `\n`)
	if len(s) > maxLine {
		s = s[:maxLine] + "…"
	}
	return s
}

// Request sends req and waits for its confirmation; both go into the
// transcript. FAILURE_CONF and CONTROL_FAILURE_CONF come back as errors.
func (c *Client) Request(ctx context.Context, req cti.Message) (cti.Message, error) {
	c.note(">", req)
	m, err := c.session.Request(ctx, req)
	if err != nil {
		c.noteErr(err)
		return nil, err
	}
	c.note("<", m)
	return m, nil
}

// Send writes a message that has no confirmation (CONFIG_REQUEST_EVENT,
// CONFIG_REQUEST_KEY_EVENT) or whose confirmation the caller does not wait
// for; answers then arrive among the events.
func (c *Client) Send(m cti.Message) error {
	c.note(">", m)
	err := c.session.Send(m)
	if err != nil {
		c.noteErr(err)
	}
	return err
}

// Done is closed when the session has ended.
func (c *Client) Done() <-chan struct{} { return c.session.Done() }

// Frames returns the frames received so far (confirmations and events, in
// arrival order).
func (c *Client) Frames() []Frame {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Frame(nil), c.frames...)
}

func (c *Client) frame(mt cti.MessageType, n int, body []byte) {
	c.mu.Lock()
	c.frames = append(c.frames, Frame{Seq: len(c.frames), At: time.Now(), Type: mt, Len: n, Body: body})
	c.mu.Unlock()
}

// Events returns a copy of the unsolicited messages received so far.
func (c *Client) Events() []Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Event(nil), c.events...)
}

// Len is the number of transcript lines so far (a mark for Transcript).
func (c *Client) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.transcript)
}

// Transcript returns the transcript lines from mark on, at most max of them
// (the last ones), as one text.
func (c *Client) Transcript(mark, max int) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if mark < 0 || mark > len(c.transcript) {
		mark = 0
	}
	lines := c.transcript[mark:]
	var b strings.Builder
	if max > 0 && len(lines) > max {
		fmt.Fprintf(&b, "… %d earlier lines left out\n", len(lines)-max)
		lines = lines[len(lines)-max:]
	}
	fmt.Fprintf(&b, "CTI session %s, %d lines:\n", c.Name, len(lines))
	for _, l := range lines {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.String()
}

// Close sends CLOSE_REQ and ends the session.
func (c *Client) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	err := c.session.Close(ctx)
	<-c.drained
	return err
}
