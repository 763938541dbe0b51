package replay

import (
	"fmt"
	"strings"
	"time"

	"github.com/ipcclab/ipcclab/protocol/cti"
)

// Kind classifies a divergence.
type Kind uint8

// Divergence kinds.
const (
	// Missing: a message the capture has the peer send (a request in the
	// server role, an answer in the client role) did not come within
	// Options.Timeout.
	Missing Kind = iota + 1
	// Unexpected: the peer sent a message the capture does not have at
	// this point (or at all).
	Unexpected
	// Mismatch: the peer sent the captured message type with other field
	// values.
	Mismatch
	// WrongAnswer: the server answered a request with another message type
	// than in the capture (FAILURE_CONF instead of SET_AGENT_STATE_CONF).
	WrongAnswer
	// Early: the peer sent a captured request more than Options.Timeout
	// before its time.
	Early
	// Disconnected: the peer closed the connection (or it failed) before
	// the script's end.
	Disconnected
	// Undecodable: the peer sent a message the codec rejects.
	Undecodable
	// Events: the client role's events differ from the capture's in kind
	// (a type never sent, or never captured).
	Events
)

var kindNames = [...]string{Missing: "missing", Unexpected: "unexpected", Mismatch: "mismatch", WrongAnswer: "wrong answer",
	Early: "early", Disconnected: "disconnected", Undecodable: "undecodable", Events: "events"}

func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", k)
}

// Divergence is one point where the peer did not do what the capture did.
type Divergence struct {
	Kind Kind
	// At is when it was noticed, in replay time since the session opened.
	At time.Duration
	// Type is the message type concerned (the captured one when there is
	// one).
	Type cti.MessageType
	// Captured is the #n (1-based position in Script.Frames) of the
	// captured message concerned, 0 when there is none.
	Captured int
	// Text is the readable line: what was expected, with the captured
	// message's fields, and what came instead.
	Text string
}

func (d Divergence) String() string {
	return fmt.Sprintf("+%.3fs %s", d.At.Seconds(), d.Text)
}

// Role is the side the replay plays.
type Role string

// Roles.
const (
	// RoleServer plays the captured CTI Server toward a client under test.
	RoleServer Role = "server"
	// RoleClient plays the captured client toward a CTI Server under test.
	RoleClient Role = "client"
)

// Result is what a replay found.
type Result struct {
	Role   Role
	Script string
	// Divergences in the order they were noticed; none means the peer
	// behaved as captured.
	Divergences []Divergence
	// Notes are facts worth knowing that are not divergences (polls the
	// capture answered, identifiers that could not be mapped, the replay
	// stopping after MaxDivergences).
	Notes []string
	// Sent and Received count the messages of the replayed session.
	Sent, Received int
	// Matched counts the captured messages the peer reproduced one for
	// one (requests in the server role, answers in the client role).
	Matched int
	// Polls counts the peer's requests answered from the capture (server
	// role) or whose answers were compared by type only (client role).
	Polls int
	// Elapsed is the replay's length in replay time.
	Elapsed time.Duration
}

// OK reports whether the peer behaved as captured.
func (r *Result) OK() bool { return len(r.Divergences) == 0 }

// Diff renders the result for people: a headline, then one line per
// divergence (each naming the message types and fields concerned), then
// the notes.
func (r *Result) Diff() string {
	var b strings.Builder
	side := "the CTI Server"
	if r.Role == RoleClient {
		side = "the client"
	}
	if r.OK() {
		fmt.Fprintf(&b, "replay of %q as %s: as captured (%d messages matched one for one, %d polls, %d sent, %d received, %.3fs)\n",
			r.Script, side, r.Matched, r.Polls, r.Sent, r.Received, r.Elapsed.Seconds())
	} else {
		n := "divergence"
		if len(r.Divergences) > 1 {
			n = "divergences"
		}
		fmt.Fprintf(&b, "replay of %q as %s: %d %s (%d messages matched one for one, %d polls, %d sent, %d received, %.3fs)\n",
			r.Script, side, len(r.Divergences), n, r.Matched, r.Polls, r.Sent, r.Received, r.Elapsed.Seconds())
		for _, d := range r.Divergences {
			fmt.Fprintf(&b, "  %s\n", d)
		}
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "  note: %s\n", n)
	}
	return b.String()
}

// outcome is what both roles keep of a replay: the options, the result
// being written, the replay's clock, and whether it has stopped
// (MaxDivergences reached or the peer gone).
type outcome struct {
	o     Options
	res   *Result
	clk   clock
	notes map[string]bool // notes already made, each made once
	stop  bool
}

func newOutcome(o Options, role Role, script string) outcome {
	return outcome{o: o, res: &Result{Role: role, Script: script}, notes: map[string]bool{}}
}

func (r *outcome) logf(format string, args ...any) {
	if r.o.Logf != nil {
		r.o.Logf(format, args...)
	}
}

// diverge records a divergence at now; after MaxDivergences the replay
// stops, saying so in a note.
func (r *outcome) diverge(now time.Time, kind Kind, mt cti.MessageType, captured int, format string, args ...any) {
	if r.stop {
		return
	}
	d := Divergence{Kind: kind, At: r.clk.now(now), Type: mt, Captured: captured, Text: fmt.Sprintf(format, args...)}
	r.res.Divergences = append(r.res.Divergences, d)
	r.logf("replay: DIVERGENCE %s", d)
	if len(r.res.Divergences) >= r.o.MaxDivergences {
		r.res.Notes = append(r.res.Notes, fmt.Sprintf("replay stopped after %d divergences (Options.MaxDivergences)", len(r.res.Divergences)))
		r.stop = true
	}
}

// note adds s to the result's notes once.
func (r *outcome) note(s string) {
	if !r.notes[s] {
		r.notes[s] = true
		r.res.Notes = append(r.res.Notes, s)
	}
}
