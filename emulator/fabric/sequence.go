package fabric

// Sequencer numbers the CSeq of the messages a capture writes as the two
// endpoints of each dialog would (RFC 3261 §8.1.1.5, §12.2.1.1): each side
// counts its own requests from 1, one more for every new request, while an
// ACK and a CANCEL take the number of the INVITE they belong to and a
// response that of the request it answers. A fixed number per method would
// repeat itself on a second re-INVITE or NOTIFY of the same dialog, which
// Wireshark reads as a retransmission. It only runs when a capture renders
// the messages, so a simulation without one pays nothing.
type Sequencer struct {
	dialogs map[Leg]*dialogSeq
}

// dialogSeq is one dialog's counters: side 0 is its initiator (the UAC),
// side 1 the recipient.
type dialogSeq struct {
	side [2]sideSeq
	// failed: the initial INVITE got a final error; its ACK ends the
	// dialog's state.
	failed bool
}

type sideSeq struct {
	next uint32          // the last number this side used for a new request
	last [methods]uint32 // the number of its last request of each method
}

// method indexes of sideSeq.last.
const (
	mInvite = iota
	mBye
	mRefer
	mNotify
	mRegister
	mOther
	methods
)

func methodIndex(method string) int {
	switch method {
	case "INVITE", "ACK", "CANCEL": // ACK and CANCEL share the INVITE's number
		return mInvite
	case "BYE":
		return mBye
	case "REFER":
		return mRefer
	case "NOTIFY":
		return mNotify
	case "REGISTER":
		return mRegister
	}
	return mOther
}

// NewSequencer returns a Sequencer with no dialogs.
func NewSequencer() *Sequencer { return &Sequencer{dialogs: map[Leg]*dialogSeq{}} }

// Number sets m.CSeq. Messages must be given in the order they are sent.
// A dialog's state is dropped when it ends (the final response to its BYE,
// or the ACK of its failed INVITE), so a day of calls keeps only the
// dialogs in progress.
func (s *Sequencer) Number(m *Message) {
	d := s.dialogs[m.Leg]
	if d == nil {
		d = &dialogSeq{}
		s.dialogs[m.Leg] = d
	}
	uac, _ := m.Leg.ends()
	sender := m.From // the side that sent the request m is or answers
	if !m.IsRequest() {
		sender = m.To
	}
	side := &d.side[0]
	if sender != uac {
		side = &d.side[1]
	}
	if m.IsRequest() {
		k := methodIndex(m.Method)
		if m.Method != "ACK" && m.Method != "CANCEL" {
			side.next++
			side.last[k] = side.next
		}
		m.CSeq = side.last[k]
		if m.CSeq == 0 { // an ACK or CANCEL with no INVITE seen: its own number
			side.next++
			m.CSeq = side.next
		}
		if m.Method == "ACK" && d.failed {
			delete(s.dialogs, m.Leg)
		}
		return
	}
	m.CSeq = side.last[methodIndex(m.CSeqMethod)]
	switch {
	case m.Status < 200:
	case m.CSeqMethod == "BYE":
		delete(s.dialogs, m.Leg)
	case m.CSeqMethod == "INVITE" && m.Status >= 300 && !m.InDialog && m.CSeq == 1 && sender == uac:
		d.failed = true
	}
}

// Dialogs is how many dialogs the Sequencer holds (for tests).
func (s *Sequencer) Dialogs() int { return len(s.dialogs) }
