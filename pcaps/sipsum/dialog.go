package sipsum

import (
	"cmp"
	"net/netip"
	"slices"
	"strconv"
	"time"
)

// Outcome is how a dialog's opening transaction ended.
type Outcome string

// The outcomes.
const (
	// Answered: the INVITE got a 2xx.
	Answered Outcome = "answered"
	// Cancelled: the INVITE got 487 Request Terminated (after a CANCEL).
	Cancelled Outcome = "cancelled"
	// Rejected: the opening request got a final response of 300 or more
	// (FinalStatus says which).
	Rejected Outcome = "rejected"
	// NoFinalResponse: the opening request got no final response in the
	// capture.
	NoFinalResponse Outcome = "no final response"
	// Completed: a non-INVITE opening request (OPTIONS, REGISTER, …) got
	// a 2xx.
	Completed Outcome = "completed"
	// Unknown: the capture starts inside the dialog; its opening request
	// was not seen.
	Unknown Outcome = "unknown"
)

// The sides of a call, for HungUpBy and MediaExchange.Side.
const (
	SideCaller = "caller"
	SideCallee = "callee"
)

// Dialog summarises the messages of one Call-ID: a call (INVITE), or a
// standalone transaction such as OPTIONS or REGISTER.
type Dialog struct {
	CallID string `json:"call_id"`
	// Method is the opening request's method; empty when the capture
	// starts inside the dialog.
	Method     string    `json:"method,omitempty"`
	First      time.Time `json:"first"`
	Last       time.Time `json:"last"`
	FirstFrame int       `json:"first_frame"`
	// Caller and Callee are the opening request's From and To (the
	// callee's tag from the answer); RequestURI is what was dialled and
	// Dialled its user part, the number a CTI call's DNIS would show.
	Caller     Party  `json:"caller"`
	Callee     Party  `json:"callee"`
	RequestURI string `json:"request_uri,omitempty"`
	Dialled    string `json:"dialled,omitempty"`

	// Messages counts the dialog's messages, retransmissions included.
	Messages        int     `json:"messages"`
	Retransmissions int     `json:"retransmissions"`
	Outcome         Outcome `json:"outcome"`
	// FinalStatus and FinalText are the opening request's first final
	// response (of the last attempt, after an authentication challenge).
	FinalStatus int    `json:"final_status,omitempty"`
	FinalText   string `json:"final_text,omitempty"`
	// Cause is the last Reason header in the dialog (RFC 3326): a BYE's,
	// CANCEL's or rejection's Q.850 cause.
	Cause *Cause `json:"cause,omitempty"`
	// HungUpBy is SideCaller or SideCallee, from the first BYE's From tag;
	// empty with no BYE or when the capture starts inside the dialog.
	HungUpBy string `json:"hung_up_by,omitempty"`

	// Invited is the first INVITE, Ringing the first 18x to the opening
	// INVITE, Answered its 2xx and Ended the first BYE; zero when not
	// seen.
	Invited  time.Time `json:"invited,omitzero"`
	Ringing  time.Time `json:"ringing,omitzero"`
	Answered time.Time `json:"answered,omitzero"`
	Ended    time.Time `json:"ended,omitzero"`
	// RingingAfterMs and AnsweredAfterMs are the setup times from Invited;
	// TalkMs runs from Answered to Ended. Each is 0 when an end is missing.
	RingingAfterMs  float64 `json:"ringing_after_ms,omitempty"`
	AnsweredAfterMs float64 `json:"answered_after_ms,omitempty"`
	TalkMs          float64 `json:"talk_ms,omitempty"`

	// Media lists the SDP offers and answers in order: the call's media
	// endpoints, and holds and resumes as re-INVITEs change direction.
	Media []MediaExchange `json:"media,omitempty"`
	// Ladder lists the messages (at most Limits.Ladder; LadderDropped
	// counts the rest).
	Ladder        []Step `json:"ladder"`
	LadderDropped int    `json:"ladder_dropped,omitempty"`
	// Notes flags anomalies: a 200 OK never acknowledged, a BYE with no
	// dialog, a capture starting mid-dialog, a request never answered.
	Notes []string `json:"notes,omitempty"`
}

// Step is one message on a dialog's ladder.
type Step struct {
	Time           time.Time      `json:"time"`
	Frame          int            `json:"frame"`
	Src            netip.AddrPort `json:"src"`
	Dst            netip.AddrPort `json:"dst"`
	Line           string         `json:"line"`
	Retransmission bool           `json:"retransmission,omitempty"`
}

// MediaExchange is one SDP body in a dialog: an offer or an answer, by the
// caller's or the callee's side.
type MediaExchange struct {
	Time  time.Time `json:"time"`
	Frame int       `json:"frame"`
	// Message is the carrying message, "INVITE" or "200 OK (INVITE)".
	Message string `json:"message"`
	// Side is SideCaller or SideCallee; empty when the capture starts
	// inside the dialog.
	Side string `json:"side,omitempty"`
	// Role is "offer" or "answer" (RFC 3264).
	Role string `json:"role"`
	// Hold is set when a media description puts the media on hold.
	Hold  bool    `json:"hold,omitempty"`
	Media []Media `json:"media"`
}

// inviteTx is what a dialog remembers of one INVITE transaction. Each side
// numbers its requests on its own (RFC 3261 section 12.2.1.1), so a
// transaction is its sender's From tag and CSeq.
type inviteTx struct {
	fromTag   string
	cseq      uint32
	seen      bool // the INVITE itself is in the capture
	reinvite  bool // sent inside the dialog (To has a tag)
	offer     bool // the INVITE carried SDP
	final     int
	finalText string
	acked     bool
	cancelled bool
}

type txKey struct {
	method string
	cseq   uint32
	branch string
	status int
}

// dialog accumulates a Dialog.
type dialog struct {
	d           Dialog
	ladderLimit int
	callerTag   string
	opened      bool   // the opening request was seen
	openCSeq    uint32 // CSeq of the opening request (the last attempt)
	invites     []*inviteTx
	seen        map[txKey]struct{}
	established bool
	bye         bool
	byeCSeq     uint32
	byeFromTag  string
	byeAnswered bool
}

func newDialog(m *Message, ladderLimit int) *dialog {
	d := &dialog{ladderLimit: ladderLimit, seen: make(map[txKey]struct{})}
	d.d.CallID, d.d.First, d.d.FirstFrame = m.CallID, m.Time, m.Frame
	if !m.IsRequest() || m.To.Tag != "" {
		d.d.Notes = append(d.d.Notes, "capture starts inside the dialog (first message: "+m.short()+")")
	}
	return d
}

// observe files a message in the dialog and reports whether it was a
// retransmission.
func (d *dialog) observe(m *Message) bool {
	d.d.Messages++
	d.d.Last = m.Time
	key := txKey{method: m.CSeqMethod, cseq: m.CSeq, branch: m.Branch, status: m.Status}
	if m.IsRequest() {
		key.method = m.Method
	}
	if _, dup := d.seen[key]; dup {
		m.Retransmission = true
		d.d.Retransmissions++
		d.step(m)
		return true
	}
	if len(d.seen) >= 4*d.ladderLimit {
		clear(d.seen) // a very long dialog: forget old transactions
	}
	d.seen[key] = struct{}{}
	d.step(m)
	if m.IsRequest() {
		d.request(m)
	} else {
		d.response(m)
	}
	if m.Cause != nil {
		d.d.Cause = m.Cause
	}
	return false
}

func (d *dialog) step(m *Message) {
	if len(d.d.Ladder) >= d.ladderLimit {
		d.d.LadderDropped++
		return
	}
	d.d.Ladder = append(d.d.Ladder, Step{Time: m.Time, Frame: m.Frame, Src: m.Src, Dst: m.Dst, Line: m.Line(), Retransmission: m.Retransmission})
}

func (d *dialog) invite(m *Message) *inviteTx {
	for _, tx := range d.invites {
		if tx.cseq == m.CSeq && tx.fromTag == m.From.Tag {
			return tx
		}
	}
	tx := &inviteTx{fromTag: m.From.Tag, cseq: m.CSeq}
	if len(d.invites) >= d.ladderLimit {
		return tx // not remembered: a dialog of endless re-INVITEs
	}
	d.invites = append(d.invites, tx)
	return tx
}

// side says which side sent m: a request comes from its From, a response
// from its To.
func (d *dialog) side(m *Message) string {
	if d.callerTag == "" {
		return ""
	}
	fromCaller := m.From.Tag == d.callerTag
	if fromCaller == m.IsRequest() {
		return SideCaller
	}
	return SideCallee
}

func (d *dialog) request(m *Message) {
	if m.To.Tag == "" && m.Method != "ACK" && m.Method != "CANCEL" {
		d.open(m)
	}
	switch m.Method {
	case "INVITE":
		tx := d.invite(m)
		tx.seen, tx.reinvite, tx.offer = true, m.To.Tag != "", len(m.SDP) > 0
	case "ACK":
		d.invite(m).acked = true
	case "CANCEL":
		d.invite(m).cancelled = true
	case "BYE":
		if !d.bye {
			d.bye, d.byeCSeq, d.byeFromTag, d.d.Ended = true, m.CSeq, m.From.Tag, m.Time
			d.d.HungUpBy = d.side(m)
			if !d.established {
				d.d.Notes = append(d.d.Notes, "BYE without an established dialog (frame "+strconv.Itoa(m.Frame)+")")
			}
		}
	}
	if len(m.SDP) > 0 {
		role := "offer"
		if m.Method == "ACK" {
			role = "answer" // to an INVITE that had no offer (RFC 3261 section 13.2.1)
		}
		d.media(m, role)
	}
}

// open takes a request outside any dialog as the dialog's opening request.
// An INVITE with a new CSeq — the retry after a 401/407 challenge — opens
// it again, keeping the first INVITE's time for the setup times.
func (d *dialog) open(m *Message) {
	switch {
	case !d.opened:
	case m.Method == "INVITE" && (d.d.Method != "INVITE" || m.CSeq != d.openCSeq):
	default:
		return
	}
	if !d.opened || d.d.Method != "INVITE" {
		d.d.Caller, d.d.Callee, d.d.RequestURI, d.d.Dialled = m.From, m.To, m.RequestURI, m.RequestUser
		if m.Method == "INVITE" {
			d.d.Invited = m.Time
		}
	}
	d.opened, d.openCSeq, d.d.Method = true, m.CSeq, m.Method
	d.callerTag = m.From.Tag
	d.d.FinalStatus, d.d.FinalText = 0, ""
}

func (d *dialog) opening(m *Message) bool {
	return d.opened && m.CSeq == d.openCSeq && m.CSeqMethod == d.d.Method && m.From.Tag == d.callerTag
}

func (d *dialog) response(m *Message) {
	if d.opening(m) && m.Status >= 200 && d.d.FinalStatus == 0 {
		d.d.FinalStatus, d.d.FinalText = m.Status, m.StatusText
	}
	switch m.CSeqMethod {
	case "INVITE":
		tx := d.invite(m)
		switch {
		case m.Status < 200:
			if d.opening(m) && m.Status >= 180 && d.d.Ringing.IsZero() {
				d.d.Ringing = m.Time
			}
		case m.Status < 300:
			if d.opening(m) && d.d.Answered.IsZero() {
				d.d.Answered = m.Time
				d.d.Callee.Tag = m.To.Tag
			}
			d.established = true
			fallthrough
		default:
			if tx.final == 0 {
				tx.final, tx.finalText = m.Status, m.StatusText
			}
		}
		if len(m.SDP) > 0 {
			role := "answer"
			if tx.seen && !tx.offer {
				role = "offer" // the INVITE had none: the 2xx offers, the ACK answers
			}
			d.media(m, role)
		}
	case "BYE":
		if d.bye && m.CSeq == d.byeCSeq && m.From.Tag == d.byeFromTag && m.Status >= 200 {
			d.byeAnswered = true
		}
	default:
		if len(m.SDP) > 0 {
			d.media(m, "answer") // to an UPDATE or PRACK offer
		}
	}
}

func (d *dialog) media(m *Message, role string) {
	x := MediaExchange{Time: m.Time, Frame: m.Frame, Message: m.short(), Side: d.side(m), Role: role, Media: m.SDP}
	for i := range m.SDP {
		if m.SDP[i].OnHold() {
			x.Hold = true
		}
	}
	if len(d.d.Media) < d.ladderLimit {
		d.d.Media = append(d.d.Media, x)
	}
}

// summary returns the Dialog with its outcome, times and the notes that
// only the whole capture can tell, leaving the accumulator unchanged.
func (d *dialog) summary() Dialog {
	out := d.d
	out.Ladder = slices.Clone(d.d.Ladder)
	out.Media = slices.Clone(d.d.Media)
	out.Notes = slices.Clone(d.d.Notes)
	if d.d.Cause != nil {
		c := *d.d.Cause
		out.Cause = &c
	}
	switch {
	case !d.opened:
		out.Outcome = Unknown
	case out.FinalStatus == 0:
		out.Outcome = NoFinalResponse
	case out.FinalStatus < 300 && out.Method == "INVITE":
		out.Outcome = Answered
	case out.FinalStatus < 300:
		out.Outcome = Completed
	case out.FinalStatus == 487 && out.Method == "INVITE":
		out.Outcome = Cancelled
	default:
		out.Outcome = Rejected
	}
	msSince := func(from, to time.Time) float64 {
		if from.IsZero() || to.IsZero() {
			return 0
		}
		return float64(to.Sub(from)) / float64(time.Millisecond)
	}
	out.RingingAfterMs = msSince(out.Invited, out.Ringing)
	out.AnsweredAfterMs = msSince(out.Invited, out.Answered)
	out.TalkMs = msSince(out.Answered, out.Ended)

	txs := slices.Clone(d.invites)
	slices.SortStableFunc(txs, func(a, b *inviteTx) int { return cmp.Compare(a.cseq, b.cseq) })
	for _, tx := range txs {
		cseq := strconv.FormatUint(uint64(tx.cseq), 10)
		switch {
		case tx.final >= 200 && !tx.acked:
			out.Notes = append(out.Notes, "no ACK for "+strconv.Itoa(tx.final)+" "+tx.finalText+" (INVITE CSeq "+cseq+")")
		case tx.seen && tx.reinvite && tx.final == 0:
			out.Notes = append(out.Notes, "re-INVITE CSeq "+cseq+" has no final response")
		}
		if tx.cancelled && tx.final >= 200 && tx.final < 300 {
			out.Notes = append(out.Notes, "CANCEL crossed the "+strconv.Itoa(tx.final)+" (INVITE CSeq "+cseq+"): the call was answered")
		}
	}
	if d.bye && !d.byeAnswered {
		out.Notes = append(out.Notes, "BYE has no final response")
	}
	return out
}

// Dialogs returns the dialogs ordered by first message (time, then
// Call-ID). It may be called at any point; the tracker carries on.
func (t *Tracker) Dialogs() []Dialog {
	out := make([]Dialog, 0, len(t.order))
	for _, d := range t.order {
		out = append(out, d.summary())
	}
	slices.SortStableFunc(out, func(a, b Dialog) int {
		return cmp.Or(a.First.Compare(b.First), cmp.Compare(a.CallID, b.CallID))
	})
	return out
}
