package fabric

import "strconv"

// Node is one of the fabric's SIP components.
type Node int

// The components. The gateway here is its trunk side (toward CallManager);
// its PSTN side is the PSTN model, reached by function calls.
const (
	NodeGateway Node = iota
	NodeCallManager
	NodeIVR
	NodePhones
)

func (n Node) String() string {
	switch n {
	case NodeGateway:
		return "gateway"
	case NodeCallManager:
		return "callmanager"
	case NodeIVR:
		return "ivr"
	case NodePhones:
		return "phones"
	}
	return "Node(" + strconv.Itoa(int(n)) + ")"
}

// LegKind names a dialog by the two components it joins.
type LegKind int

// Dialogs.
const (
	// LegCaller: the gateway's INVITE for a PSTN-model caller, to the
	// route point at CallManager.
	LegCaller LegKind = iota
	// LegIVR: CallManager's INVITE to a translation route on IP-IVR.
	LegIVR
	// LegPhone: CallManager's INVITE to an agent's phone.
	LegPhone
	// LegDial: a CTI port's predictive call, CallManager to the gateway.
	LegDial
	// LegRegister: a phone's registration.
	LegRegister
)

// Leg identifies one dialog: its kind, the call (the caller's PSTN ID for
// LegCaller, the PG's ConnectionCallID otherwise; the extension's number
// for LegRegister) and a sequence number telling apart the dialogs of one
// call of the same kind (a caller rung on two phones, queued twice).
type Leg struct {
	Kind LegKind
	Call uint64
	N    uint32
}

// Message is one SIP message between two components: what the receiver
// decides on, and what Render needs to write it as SIP text.
type Message struct {
	From, To Node
	Leg      Leg
	// Method is the request's method ("INVITE", "CANCEL", "BYE", "REFER",
	// "NOTIFY", "ACK", "REGISTER"); empty for a response.
	Method string
	// Status and Reason of a response; CSeqMethod the request it answers.
	Status     int
	Reason     string
	CSeqMethod string
	// FromUser and ToUser are the users of From and To (the calling
	// number and the called number or extension).
	FromUser, ToUser string
	// SDP: the message carries an offer or answer.
	SDP bool
	// Cause, when non-zero, goes in a Reason header (RFC 3326, Q.850).
	Cause int
	// ReferTo is a REFER's target user; AutoAnswer asks a phone to answer
	// at once (Call-Info answer-after=0).
	ReferTo    string
	AutoAnswer bool
	// InDialog marks a re-INVITE (and its ACK): a second transaction of
	// the dialog.
	InDialog bool
	// CSeq is the sequence number Render writes, set by a Sequencer; 0
	// leaves Render a fixed number per method (one dialog alone).
	CSeq uint32
}

// request builds a request message.
func request(from, to Node, leg Leg, method, fromUser, toUser string) Message {
	return Message{From: from, To: to, Leg: leg, Method: method, FromUser: fromUser, ToUser: toUser}
}

// response builds a response to req, travelling back.
func response(req Message, status int, reason string) Message {
	return Message{From: req.To, To: req.From, Leg: req.Leg, Status: status, Reason: reason, CSeqMethod: req.Method,
		FromUser: req.FromUser, ToUser: req.ToUser, InDialog: req.InDialog}
}

// IsRequest reports whether m is a request.
func (m Message) IsRequest() bool { return m.Method != "" }

// Summary is a one-line description: "INVITE gateway→callmanager" or
// "486 Busy Here (INVITE) gateway→callmanager".
func (m Message) Summary() string {
	dir := m.From.String() + "→" + m.To.String()
	if m.IsRequest() {
		return m.Method + " " + dir
	}
	return strconv.Itoa(m.Status) + " " + m.Reason + " (" + m.CSeqMethod + ") " + dir
}
