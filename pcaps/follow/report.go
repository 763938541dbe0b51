package follow

import (
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Defaults for the zero Options.
const (
	DefaultReservedAfter = 10 * time.Second
	DefaultConfirmWithin = 15 * time.Second
	DefaultJoinWindow    = 5 * time.Second
)

// Options tunes the anomaly thresholds and the SIP join window. Zero
// fields take the defaults.
type Options struct {
	// ReservedAfter: an agent RESERVED this long with no state change and
	// no call ringing at the agent's device is flagged.
	ReservedAfter time.Duration
	// ConfirmWithin: a request not confirmed this long after it was sent
	// is flagged.
	ConfirmWithin time.Duration
	// JoinWindow widens a CTI call's time span on both sides when SIP
	// dialogs are joined to it.
	JoinWindow time.Duration
}

// Validate reports negative options, naming them.
func (o Options) Validate() error {
	var errs []error
	if o.ReservedAfter < 0 {
		errs = append(errs, fmt.Errorf("follow: Options.ReservedAfter %v: must not be negative", o.ReservedAfter))
	}
	if o.ConfirmWithin < 0 {
		errs = append(errs, fmt.Errorf("follow: Options.ConfirmWithin %v: must not be negative", o.ConfirmWithin))
	}
	if o.JoinWindow < 0 {
		errs = append(errs, fmt.Errorf("follow: Options.JoinWindow %v: must not be negative", o.JoinWindow))
	}
	return errors.Join(errs...)
}

func (o Options) withDefaults() Options {
	if o.ReservedAfter <= 0 {
		o.ReservedAfter = DefaultReservedAfter
	}
	if o.ConfirmWithin <= 0 {
		o.ConfirmWithin = DefaultConfirmWithin
	}
	if o.JoinWindow <= 0 {
		o.JoinWindow = DefaultJoinWindow
	}
	return o
}

// Report is everything `ipcclab pcap calls` prints about a capture.
type Report struct {
	File    string    `json:"file,omitempty"`
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
	Packets int       `json:"packets"`
	// Options are the thresholds used, defaults filled in.
	Options struct {
		ReservedAfter Seconds `json:"reserved_after_s"`
		ConfirmWithin Seconds `json:"confirm_within_s"`
		JoinWindow    Seconds `json:"join_window_s"`
	} `json:"options"`

	Anomalies []Anomaly  `json:"anomalies"`
	Sessions  []*Session `json:"sessions"`
	Calls     []*Call    `json:"calls"`
	Agents    []*Agent   `json:"agents"`
	// UnjoinedDialogs and UnjoinedStreams are the SIP dialogs and RTP
	// streams that joined no call (streams joined to an unjoined dialog
	// are listed under the dialog).
	UnjoinedDialogs []*Dialog `json:"unjoined_sip_dialogs"`
	UnjoinedStreams []*Stream `json:"unjoined_rtp_streams"`
}

// Seconds is a duration printed in JSON as seconds.
type Seconds time.Duration

// MarshalJSON prints the seconds with microsecond precision.
func (s Seconds) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, time.Duration(s).Seconds(), 'f', 6, 64), nil
}

// Line is one line of a ladder or a timeline.
type Line struct {
	// At is the time from the capture's first packet.
	At    Seconds   `json:"t"`
	Time  time.Time `json:"time"`
	Frame int       `json:"frame"`
	// Source is "CTI#<session>", "SIP" or "RTP".
	Source string `json:"source"`
	What   string `json:"what"`
}

// Anomaly kinds.
const (
	KindEventAfterEndCall     = "event-after-end-call"
	KindOutOfOrder            = "out-of-order"
	KindAgentStuckReserved    = "agent-stuck-reserved"
	KindAvailableWhileTalking = "available-while-talking"
	KindHeartbeatGap          = "heartbeat-gap"
	KindNoConfirmation        = "no-confirmation"
	KindOutstandingAtClose    = "outstanding-at-close"
	KindPGOfflineMidCall      = "pg-offline-mid-call"
	KindOneWayRTP             = "one-way-rtp"
)

// Anomaly is something an engineer should look at, with where it is.
type Anomaly struct {
	Kind  string    `json:"kind"`
	At    Seconds   `json:"t"`
	Time  time.Time `json:"time"`
	Frame int       `json:"frame"`
	// Session is the CTI session's ID, 0 for SIP and RTP.
	Session int    `json:"session,omitempty"`
	Why     string `json:"why"`
}

// CallKey identifies a call: ConnectionCallID is unique per peripheral
// (cti-protocol.md §5.8).
type CallKey struct {
	PeripheralID uint32 `json:"peripheral_id"`
	CallID       uint32 `json:"call_id"`
}

// Call is one CTI call with its SIP legs and RTP streams.
type Call struct {
	Key      CallKey `json:"key"`
	Sessions []int   `json:"sessions"`
	// CallType, ANI, DNIS and DialedNumber are the first non-empty values
	// the call's events carried.
	CallType     string   `json:"call_type,omitempty"`
	ANI          string   `json:"ani,omitempty"`
	DNIS         string   `json:"dnis,omitempty"`
	DialedNumber string   `json:"dialed_number,omitempty"`
	Devices      []string `json:"devices,omitempty"`
	// Ended says how the call's last END_CALL_EVENT came: after
	// CALL_CLEARED or CALL_CONNECTION_CLEARED, alone (the clearing was not
	// reported), or not in the capture.
	Ended  string   `json:"ended"`
	Agents []string `json:"agents,omitempty"`
	// Dialogs are the SIP dialogs joined to the call, each saying how.
	Dialogs []*Dialog `json:"sip_dialogs,omitempty"`
	Ladder  []Line    `json:"ladder"`

	first, last time.Time
	numbers     map[string]string // digits -> where the call carried them
	clearing    *Line             // the last clearing event since the last END_CALL
	endCall     *Line
	endCleared  *Line // the clearing event that preceded endCall
}

// Dialog is a SIP dialog as followed: its Call-ID, how it was joined to a
// CTI call, and its RTP streams.
type Dialog struct {
	CallID string `json:"call_id"`
	Caller string `json:"caller,omitempty"`
	Callee string `json:"callee,omitempty"`
	// Outcome is the dialog's outcome as summarised by package sipsum.
	Outcome string `json:"outcome,omitempty"`
	// Join says how the dialog was joined to its call ("" when unjoined).
	Join    string    `json:"join,omitempty"`
	Streams []*Stream `json:"rtp_streams,omitempty"`
	Ladder  []Line    `json:"ladder,omitempty"`
}

// Stream is an RTP stream as followed.
type Stream struct {
	// Name is "src → dst SSRC 0x…".
	Name    string `json:"name"`
	Summary string `json:"summary"`
	// Join says how the stream was joined to its dialog ("" when
	// unjoined).
	Join string `json:"join,omitempty"`
	Line Line   `json:"line"`
}

// Agent is one agent's state timeline.
type Agent struct {
	ID         string   `json:"id"`
	Extensions []string `json:"extensions,omitempty"`
	Instrument []string `json:"instruments,omitempty"`
	Timeline   []Line   `json:"timeline"`
}

// Session is one CTI session's health.
type Session struct {
	ID          int    `json:"id"`
	Client      string `json:"client"`
	Server      string `json:"server"`
	RoleFrom    string `json:"role_from,omitempty"`
	Version     uint32 `json:"version"`
	VersionFrom string `json:"version_from,omitempty"`

	// From OPEN_REQ / OPEN_CONF when the capture has them.
	ClientID     string `json:"client_id,omitempty"`
	Services     string `json:"services,omitempty"`
	PeripheralID string `json:"peripheral_id,omitempty"`
	Agent        string `json:"agent,omitempty"`
	// IdleTimeout is "20 s", "none (0xFFFFFFFF)" or "" without OPEN_REQ.
	IdleTimeout string `json:"idle_timeout,omitempty"`

	Messages   int `json:"messages"`
	FromClient int `json:"from_client"`
	FromServer int `json:"from_server"`
	Undecoded  int `json:"undecoded"`

	Heartbeats int `json:"heartbeats"`
	// HeartbeatEvery is the median interval between HEARTBEAT_REQs with
	// the smallest and largest ("5.000 s (4.998–5.002)").
	HeartbeatEvery string `json:"heartbeat_every,omitempty"`
	// LargestGapClient/Server: the longest time between two messages of
	// that side, or from its last message to the end of the session.
	LargestGapClient string `json:"largest_gap_client,omitempty"`
	LargestGapServer string `json:"largest_gap_server,omitempty"`

	// Refusals are FAILURE_CONF, CONTROL_FAILURE_CONF and FAILURE_EVENT.
	Refusals []Line `json:"refusals,omitempty"`
	// PGStatus lists OPEN_CONF's PGStatus and every SYSTEM_EVENT.
	PGStatus []Line `json:"pg_status,omitempty"`
	// Unconfirmed counts requests that never got a confirmation.
	Unconfirmed int `json:"unconfirmed"`
	// Ended says how the session ended: the TCP close, CLOSE_REQ/CONF, or
	// "open at the end of the capture".
	Ended string `json:"ended"`
}
