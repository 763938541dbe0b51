package sipsum

import (
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
)

// Message is the summary of one SIP request or response: the fields an
// engineer reads a ladder by.
type Message struct {
	Time      time.Time      `json:"time"`
	Frame     int            `json:"frame"`
	Transport string         `json:"transport"`
	Src       netip.AddrPort `json:"src"`
	Dst       netip.AddrPort `json:"dst"`
	// Method and RequestURI are set on requests, Status and StatusText on
	// responses.
	Method     string `json:"method,omitempty"`
	RequestURI string `json:"request_uri,omitempty"`
	// RequestUser is the request URI's user part: the dialled number.
	RequestUser string `json:"request_user,omitempty"`
	Status      int    `json:"status,omitempty"`
	StatusText  string `json:"status_text,omitempty"`
	CSeq        uint32 `json:"cseq"`
	CSeqMethod  string `json:"cseq_method"`
	CallID      string `json:"call_id"`
	From        Party  `json:"from"`
	To          Party  `json:"to"`
	// Branch is the top Via's branch parameter: the transaction.
	Branch string `json:"branch,omitempty"`
	// Cause is the Reason header (RFC 3326), the Q.850 one when there are
	// several.
	Cause *Cause `json:"cause,omitempty"`
	// SDP holds the media descriptions of an SDP body.
	SDP []Media `json:"sdp,omitempty"`
	// Retransmission is set when the same request (method, CSeq, branch)
	// or response (status, CSeq, branch) was seen before in the dialog.
	Retransmission bool `json:"retransmission,omitempty"`
}

// IsRequest tells requests from responses.
func (m Message) IsRequest() bool { return m.Method != "" }

// Line is the message as a ladder shows it: "INVITE sip:8005550100@gw",
// "180 Ringing", "200 OK (INVITE)". Final responses name the method they
// answer, since a 200 OK may close an INVITE, a BYE or a CANCEL.
func (m Message) Line() string {
	if m.IsRequest() {
		if m.RequestURI == "" {
			return m.Method
		}
		return m.Method + " " + m.RequestURI
	}
	s := strconv.Itoa(m.Status)
	if m.StatusText != "" {
		s += " " + m.StatusText
	}
	if m.Status >= 200 {
		s += " (" + m.CSeqMethod + ")"
	}
	return s
}

// short is the message without its request URI: "INVITE", "200 OK
// (INVITE)".
func (m Message) short() string {
	if m.IsRequest() {
		return m.Method
	}
	return m.Line()
}

// Party is a From or To header: its URI, tag and display name.
type Party struct {
	URI  string `json:"uri"`
	Tag  string `json:"tag,omitempty"`
	Name string `json:"name,omitempty"`
}

// Cause is a Reason header value (RFC 3326): the protocol ("Q.850" or
// "SIP"), the cause code and its text.
type Cause struct {
	Protocol string `json:"protocol"`
	Code     int    `json:"code"`
	Text     string `json:"text,omitempty"`
}

// String renders the cause as "Q.850 16 Normal call clearing".
func (c Cause) String() string {
	s := c.Protocol + " " + strconv.Itoa(c.Code)
	if c.Text != "" {
		s += " " + c.Text
	}
	return s
}

// summarise builds a Message from a parsed SIP message and its body.
func summarise(msg sip.Message, body []byte) (Message, string, error) {
	var m Message
	switch r := msg.(type) {
	case *sip.Request:
		m.Method = string(r.Method)
		m.RequestURI, m.RequestUser = r.Recipient.String(), r.Recipient.User
	case *sip.Response:
		m.Status, m.StatusText = r.StatusCode, r.Reason
	}
	var missing []string
	if h := msg.CallID(); h != nil && h.Value() != "" {
		m.CallID = h.Value()
	} else {
		missing = append(missing, "Call-ID")
	}
	if h := msg.CSeq(); h != nil {
		m.CSeq, m.CSeqMethod = h.SeqNo, string(h.MethodName)
	} else {
		missing = append(missing, "CSeq")
	}
	if h := msg.From(); h != nil {
		m.From = party(h.Address, h.Params, h.DisplayName)
	} else {
		missing = append(missing, "From")
	}
	if h := msg.To(); h != nil {
		m.To = party(h.Address, h.Params, h.DisplayName)
	} else {
		missing = append(missing, "To")
	}
	if len(missing) > 0 {
		// RFC 3261 section 8.1.1: every request (and so every response)
		// has these; without them the message cannot be placed.
		return m, "", errors.New("no " + strings.Join(missing, ", ") + " header")
	}
	if v := msg.Via(); v != nil {
		m.Branch, _ = v.Params.Get("branch")
	}
	m.Cause = reasonCause(msg.GetHeaders("Reason"))
	var sdpNote string
	if len(body) > 0 {
		ct := ""
		if hs := msg.GetHeaders("Content-Type"); len(hs) > 0 {
			ct = hs[0].Value()
		}
		m.SDP, sdpNote = bodySDP(ct, body)
	}
	return m, sdpNote, nil
}

func party(u sip.Uri, params sip.HeaderParams, name string) Party {
	p := Party{URI: u.String(), Name: name}
	p.Tag, _ = params.Get("tag")
	return p
}

// reasonCause picks the Q.850 cause from Reason headers (RFC 3326), else
// the first cause given. Values may be comma-separated and parameters
// quoted: `Q.850;cause=16;text="Normal call clearing"`.
func reasonCause(hs []sip.Header) *Cause {
	var first *Cause
	for _, h := range hs {
		for _, v := range splitOutsideQuotes(h.Value(), ',') {
			c := parseCause(v)
			if c == nil {
				continue
			}
			if strings.EqualFold(c.Protocol, "Q.850") {
				return c
			}
			if first == nil {
				first = c
			}
		}
	}
	return first
}

func parseCause(v string) *Cause {
	parts := splitOutsideQuotes(v, ';')
	c := &Cause{Protocol: strings.TrimSpace(parts[0]), Code: -1}
	for _, p := range parts[1:] {
		k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "cause":
			if n, err := strconv.Atoi(strings.TrimSpace(val)); err == nil {
				c.Code = n
			}
		case "text":
			c.Text = strings.Trim(strings.TrimSpace(val), `"`)
		}
	}
	if c.Protocol == "" || c.Code < 0 {
		return nil
	}
	return c
}

func splitOutsideQuotes(s string, sep byte) []string {
	var out []string
	quoted, start := false, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			quoted = !quoted
		case '\\':
			if quoted {
				i++
			}
		case sep:
			if !quoted {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}
