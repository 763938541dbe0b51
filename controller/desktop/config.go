// Package desktop is the browser agent desktop: a person logs in with an
// agent ID and extension, and behind the page the desktop opens a CTI
// Server session of its own for that agent (CLIENT_EVENTS +
// CLIENT_CONTROL, cti-protocol.md §5.2), changes the agent's state,
// answers and releases calls, shows the screen pop (call variables, ECC
// variables, ANI/DNIS and the customer record), walks the agent through a
// call script (the LYRICall role) writing captured fields back to the call
// with SET_CALL_DATA_REQ, takes the disposition, books recalls and answers
// Outbound Option previews (BAResponse Accept / Skip).
//
// The Handler serves the pages (embedded, no CDN) and a small form API;
// events reach the page as server-sent events. Every form is validated
// here and bad input gets a 4xx naming the field. Access control (loopback
// by default, a token elsewhere) belongs to the server that mounts it.
package desktop

import (
	"fmt"
	"time"

	"github.com/ipcclab/ipcclab/protocol/cti"
)

// Config configures the desktop. The zero value of every field but
// CTIAddr and PeripheralID has a usable default (Defaults).
type Config struct {
	// CTIAddr is the CTI Server (host:port) each agent's session opens.
	CTIAddr string
	// PeripheralID of the agents' PG (OPEN_REQ needs it for
	// CLIENT_EVENTS, §5.2).
	PeripheralID uint32
	// Prefix is where the handler is mounted ("/desktop" by default); a
	// request path is taken relative to it.
	Prefix string
	// ReasonCodes are the Not Ready (and logout) reasons an agent may pick.
	ReasonCodes []ReasonCode
	// Dispositions are the wrap-up codes; exactly those are accepted.
	Dispositions []DispositionCode
	// AfterCall is the state the agent goes to once a call is
	// dispositioned: AfterReady or AfterNotReady (with AfterCallReason).
	AfterCall       string
	AfterCallReason uint16
	// AfterOutbound and AfterOutboundReason are the same for campaign
	// calls (default: AfterCall's). Where the controller keeps blended
	// agents NOT_READY to ICM while they work outbound (the integration's
	// rule), a person who finishes a campaign call goes back to that state,
	// not to Ready: Ready would take them out of the campaign and into
	// ICM's routing.
	AfterOutbound       string
	AfterOutboundReason uint16
	// MaxRecallDays bounds how far ahead a callback may be booked.
	MaxRecallDays int
	// Scripts: Inbound for inbound calls, Outbound for campaign calls.
	Inbound, Outbound *Script
	// Customers finds the customer record for the screen pop (nil: the
	// records of a MapCustomers left empty, i.e. none).
	Customers CustomerLookup
	// Recalls books callbacks (nil: a "callback" disposition is refused
	// with 503, the centre cannot keep it).
	Recalls Recalls
	// Dispositioned, when set, receives every disposition with the
	// captured fields (reporting, the campaign's attempt record).
	Dispositioned func(DispositionRecord)
	// Agents, when set, says whether an agent may log in here at all: an
	// error refuses the login with 409 naming agent, before any CTI
	// session opens. `up` refuses the agents its emulator drives
	// (DeskAgentsOnly): a desktop login for one of them would take it
	// over, and its logout would log the emulated agent out of the centre.
	// Nil lets in every agent the CTI Server accepts.
	Agents func(agentID string) error
	// MaxAgents bounds the desktop sessions open at once.
	MaxAgents int
	// RequestTimeout bounds each CTI request (default 5 s, §5.2 says a
	// normal answer comes within 5 s).
	RequestTimeout time.Duration
	// Now is the clock for recall validation (default time.Now).
	Now func() time.Time
	// Logf receives log lines; nil discards them.
	Logf func(format string, args ...any)
}

// ReasonCode is a Not Ready / logout reason.
type ReasonCode struct {
	Code  uint16 `json:"code"`
	Label string `json:"label"`
}

// DispositionCode is a wrap-up code; Callback codes ask for a recall time.
type DispositionCode struct {
	Code     string `json:"code"`
	Label    string `json:"label"`
	Callback bool   `json:"callback"`
}

// After-call states.
const (
	AfterReady    = "ready"
	AfterNotReady = "not_ready"
)

// DefaultReasonCodes are ordinary Not Ready reasons.
var DefaultReasonCodes = []ReasonCode{{1, "Break"}, {2, "Lunch"}, {3, "Meeting"}, {4, "Training"}, {5, "Coaching"}}

// DefaultDispositions are the usual outcome codes.
var DefaultDispositions = []DispositionCode{
	{Code: "sale", Label: "Sale"},
	{Code: "no_sale", Label: "No sale"},
	{Code: "callback", Label: "Callback", Callback: true},
	{Code: "wrong_party", Label: "Wrong party"},
	{Code: "resolved", Label: "Resolved"},
}

// Defaults returns c with the defaults filled in and checks it.
func (c Config) Defaults() (Config, error) {
	if c.Prefix == "" {
		c.Prefix = "/desktop"
	}
	if c.ReasonCodes == nil {
		c.ReasonCodes = DefaultReasonCodes
	}
	if c.Dispositions == nil {
		c.Dispositions = DefaultDispositions
	}
	if c.AfterCall == "" {
		c.AfterCall = AfterReady
	}
	if c.AfterOutbound == "" {
		c.AfterOutbound, c.AfterOutboundReason = c.AfterCall, c.AfterCallReason
	}
	if c.MaxRecallDays == 0 {
		c.MaxRecallDays = 30
	}
	if c.Inbound == nil {
		c.Inbound = DefaultInbound()
	}
	if c.Outbound == nil {
		c.Outbound = DefaultOutbound()
	}
	if c.Customers == nil {
		c.Customers = MapCustomers{}
	}
	if c.MaxAgents == 0 {
		c.MaxAgents = 200
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = 5 * time.Second
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logf == nil {
		c.Logf = func(string, ...any) {}
	}
	if c.CTIAddr == "" {
		return c, fmt.Errorf("desktop: CTIAddr: required")
	}
	if c.AfterCall != AfterReady && c.AfterCall != AfterNotReady {
		return c, fmt.Errorf("desktop: AfterCall: %q is neither %q nor %q", c.AfterCall, AfterReady, AfterNotReady)
	}
	if c.AfterCall == AfterNotReady && c.reason(c.AfterCallReason) == nil {
		return c, fmt.Errorf("desktop: AfterCallReason: %d is not one of ReasonCodes", c.AfterCallReason)
	}
	if c.AfterOutbound != AfterReady && c.AfterOutbound != AfterNotReady {
		return c, fmt.Errorf("desktop: AfterOutbound: %q is neither %q nor %q", c.AfterOutbound, AfterReady, AfterNotReady)
	}
	if c.AfterOutbound == AfterNotReady && c.reason(c.AfterOutboundReason) == nil {
		return c, fmt.Errorf("desktop: AfterOutboundReason: %d is not one of ReasonCodes", c.AfterOutboundReason)
	}
	seen := map[string]bool{}
	for i, d := range c.Dispositions {
		if d.Code == "" || seen[d.Code] {
			return c, fmt.Errorf("desktop: Dispositions[%d]: code empty or repeated", i)
		}
		seen[d.Code] = true
	}
	for _, s := range []*Script{c.Inbound, c.Outbound} {
		if err := s.Validate(); err != nil {
			return c, fmt.Errorf("desktop: %w", err)
		}
	}
	return c, nil
}

func (c *Config) reason(code uint16) *ReasonCode {
	for i := range c.ReasonCodes {
		if c.ReasonCodes[i].Code == code {
			return &c.ReasonCodes[i]
		}
	}
	return nil
}

func (c *Config) disposition(code string) *DispositionCode {
	for i := range c.Dispositions {
		if c.Dispositions[i].Code == code {
			return &c.Dispositions[i]
		}
	}
	return nil
}

// afterCall is the state (and Not Ready reason) after a call of type t is
// dispositioned: AfterOutbound's for campaign calls, AfterCall's otherwise.
func (c Config) afterCall(t cti.CallType) (string, uint16) {
	if isOutbound(t) || isReservation(t) {
		return c.AfterOutbound, c.AfterOutboundReason
	}
	return c.AfterCall, c.AfterCallReason
}

// WithReason returns codes with r added, unless a code with r's number is
// there already (a new slice either way).
func WithReason(codes []ReasonCode, r ReasonCode) []ReasonCode {
	out := append([]ReasonCode(nil), codes...)
	for _, c := range out {
		if c.Code == r.Code {
			return out
		}
	}
	return append(out, r)
}
