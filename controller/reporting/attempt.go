package reporting

import (
	"fmt"
	"strings"
	"time"

	"github.com/ipcclab/ipcclab/controller/campaign"
)

// KindAttempt names the per-attempt outbound records: one row per call the
// controller placed, not an interval table (ParseKind does not accept it;
// ParseReportKind does).
const KindAttempt Kind = "attempt"

// ParseReportKind accepts what `ipcclab report --kind` accepts: an interval
// kind or KindAttempt; anything else is an error listing them.
func ParseReportKind(s string) (Kind, error) {
	if s == string(KindAttempt) {
		return KindAttempt, nil
	}
	if k, err := ParseKind(s); err == nil {
		return k, nil
	}
	names := make([]string, 0, len(Kinds)+1)
	for _, k := range Kinds {
		names = append(names, string(k))
	}
	names = append(names, string(KindAttempt))
	return "", fmt.Errorf("unknown kind %q: want one of %s", s, strings.Join(names, ", "))
}

// Outcome is how an attempt ended, in the words of the campaign store's
// attempt journal (campaign.Answered, campaign.Busy, …): "answered" is a
// live answer connected to an agent (a connect), "abandoned" a live answer
// that found no agent in time. The zero Outcome is an attempt still in
// flight when its records were taken (the end of a simulated day).
type Outcome = campaign.Outcome

// InFlight is how tables show the zero Outcome.
const InFlight = "in_flight"

// outcomeColumns are the outcomes a summary counts, in its column order;
// the journal's final outcomes a dialer cannot see on the wire (dnc,
// invalid: an agent's disposition) and unknown count as "other".
var outcomeColumns = []Outcome{campaign.Answered, campaign.Abandoned, campaign.Busy, campaign.NoAnswer, campaign.Machine, campaign.Failed}

// Attempt is one outbound call attempt: one MAKE_PREDICTIVE_CALL_REQ of the
// controller, or one row of a campaign store's attempt journal. Times are
// zero when the step did not happen (or, for a journal row, is not kept).
type Attempt struct {
	// Start is when the dial request left the controller (the journal's
	// started_at: the attempt is journaled just before it leaves).
	Start    time.Time
	Campaign string
	// Mode is how the controller placed the call: progressive (from the
	// agent's phone), preview (from the agent's phone once the agent
	// accepted the record), pool/<strategy> (from a dialer port, the
	// strategy pacing), or the campaign's mode for a journal row.
	Mode         string
	DialedNumber string
	// RecordID and AttemptNumber (1 for the record's first attempt) name
	// the call-list record dialed; both 0 for a synthetic number.
	RecordID      int64
	AttemptNumber int
	// AgentID is the agent who took the call: whose phone placed it
	// (progressive, preview) or to whom a dialer port transferred it
	// (pool). Port is the dialer port that placed it (pool).
	AgentID string
	Port    string
	// CallID is the call's ConnectionCallID; 0 when the dial request was
	// refused (and in journal rows).
	CallID  uint32
	Outcome Outcome
	// Cause is what the network or the CTI Server said of a call that
	// failed: CALL_FAILED's event cause (CEC_BUSY, CEC_DEST_NOT_OBTAINABLE
	// for SIT tones and unobtainable numbers), or the refusal of the dial
	// request.
	Cause string
	// Alerting: the customer's phone started ringing (CALL_DELIVERED at
	// the far end). Answered: the customer (or a machine) picked up.
	// Connected: the customer reached the agent. End: END_CALL (the
	// journal's ended_at); zero while in flight.
	Alerting, Answered, Connected, End time.Time
}

// RingTime is how long the customer's phone rang: from alerting to the
// answer, or to the end of the attempt when nobody answered.
func (a Attempt) RingTime() time.Duration {
	switch {
	case a.Alerting.IsZero():
		return 0
	case !a.Answered.IsZero():
		return a.Answered.Sub(a.Alerting)
	case !a.End.IsZero():
		return a.End.Sub(a.Alerting)
	}
	return 0
}

// TimeToAnswer is from the dial request to the answer (setup and ringing);
// 0 when nobody answered.
func (a Attempt) TimeToAnswer() time.Duration {
	if a.Answered.IsZero() {
		return 0
	}
	return a.Answered.Sub(a.Start)
}

// TalkTime is the conversation with the agent, from the connection to the
// end; 0 when the call never reached an agent or is still in flight.
func (a Attempt) TalkTime() time.Duration {
	if a.Connected.IsZero() || a.End.IsZero() {
		return 0
	}
	return a.End.Sub(a.Connected)
}

// outcomeText is the outcome as tables show it.
func (a Attempt) outcomeText() string {
	if a.Outcome == "" {
		return InFlight
	}
	return string(a.Outcome)
}
