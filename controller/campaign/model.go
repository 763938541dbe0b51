package campaign

import (
	"errors"
	"fmt"
	"time"

	"github.com/ipcclab/ipcclab/controller/dialer"
)

// Mode is how a campaign places its calls (dialer-anchors.md §2.2).
type Mode string

const (
	Preview     Mode = "preview"     // the agent sees the record, then dials
	Progressive Mode = "progressive" // a fixed number of lines per idle agent
	Predictive  Mode = "predictive"  // lines paced on predicted agent release
)

// DefaultAbandonTarget is the 3 % limit on abandoned live-answered calls of
// the FTC/FCC safe harbour and the Ofcom policy (dialer-anchors.md §3).
const DefaultAbandonTarget = 0.03

// Campaign is one outbound campaign. Changes saved with UpdateCampaign take
// effect at the next selection: nothing is cached. The pacing limits
// (AbandonTarget, MaxInFlight, LinesPerAgent, UKOfcom) are the running
// controller's business: the campaign API hands them to it (see
// NewCampaignHandler), and it applies them at its next decision.
type Campaign struct {
	ID            int64
	Name          string
	Mode          Mode
	SkillGroups   []uint32 // skill groups whose agents take its calls
	CallingHours  CallingHours
	RetryRules    RetryRules
	MaxAttempts   int     // attempts per record, 1–100
	AbandonTarget float64 // 0 < target ≤ 0.03; 0 in Create/Update means the default
	Enabled       bool
	// UKOfcom puts the campaign under the UK rules (dialer-anchors.md §1.4,
	// §3): the abandon rate is the answering-machine adjusted one over any
	// 24 h, and an abandoned number is not called again within 72 h
	// (RetryRules.Abandoned.Delay ≥ AbandonLockout is then required).
	UKOfcom bool
	// MaxInFlight caps the campaign's calls dialing at once, 0–100000
	// (0: the controller's configured limit).
	MaxInFlight int
	// LinesPerAgent is the progressive pacer's lines per idle agent, or a
	// fixed-ratio strategy's level, 1–100 (0: the controller's configured
	// value).
	LinesPerAgent float64
	// AbandonWindow is how far back the predictive dialer holds the
	// abandon rate to AbandonTarget, 1 h to a year (0: the controller's
	// configured window, controller.pacing.abandon_window, 30 days by
	// default).
	AbandonWindow time.Duration
}

// NewCampaign is a campaign with the documented defaults: every day
// 08:00–21:00 local time (the US TSR limits), DefaultRetryRules, 3 attempts,
// a 3 % abandon target, enabled.
func NewCampaign(name string, mode Mode) Campaign {
	return Campaign{
		Name:          name,
		Mode:          mode,
		CallingHours:  EveryDay(8*60, 21*60),
		RetryRules:    DefaultRetryRules(),
		MaxAttempts:   3,
		AbandonTarget: DefaultAbandonTarget,
		Enabled:       true,
	}
}

// Validate reports every invalid field, each error naming it.
func (c Campaign) Validate() error {
	var errs []error
	bad := func(field, format string, a ...any) {
		errs = append(errs, fmt.Errorf("campaign: Campaign.%s "+format, append([]any{field}, a...)...))
	}
	if c.Name == "" {
		bad("Name", "is empty")
	}
	switch c.Mode {
	case Preview, Progressive, Predictive:
	default:
		bad("Mode", "%q: want preview, progressive or predictive", c.Mode)
	}
	if c.MaxAttempts < 1 || c.MaxAttempts > 100 {
		bad("MaxAttempts", "%d: want 1 ≤ n ≤ 100", c.MaxAttempts)
	}
	// Above 3 % a campaign is outside every regulator's limit (§3), so the
	// store refuses it rather than let a pacer aim for it.
	if !(c.AbandonTarget > 0 && c.AbandonTarget <= DefaultAbandonTarget) {
		bad("AbandonTarget", "%v: want 0 < target ≤ 0.03", c.AbandonTarget)
	}
	if err := c.CallingHours.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.RetryRules.validate(c.UKOfcom); err != nil {
		errs = append(errs, err)
	}
	if c.MaxInFlight < 0 || c.MaxInFlight > 100000 {
		bad("MaxInFlight", "%d: want 0 (the controller's limit) or 1–100000", c.MaxInFlight)
	}
	if c.LinesPerAgent != 0 && !(c.LinesPerAgent >= 1 && c.LinesPerAgent <= 100) {
		bad("LinesPerAgent", "%v: want 0 (the controller's value) or 1–100", c.LinesPerAgent)
	}
	// Whole seconds, as the store keeps it: what the controller is given
	// is what a restart reads back.
	if w := c.AbandonWindow; w != 0 && (w < time.Hour || w > dialer.MaxAbandonWindow || w%time.Second != 0) {
		bad("AbandonWindow", "%v: want 0 (the controller's window) or whole seconds from 1h to %v", w, dialer.MaxAbandonWindow)
	}
	return errors.Join(errs...)
}

// Status is where a record stands.
type Status string

const (
	Pending   Status = "pending"   // waiting for its NextAt (or a recall)
	Dialing   Status = "dialing"   // handed out by Next, or an attempt is in flight
	Done      Status = "done"      // finished: answered, not to retry, or invalid
	DNC       Status = "dnc"       // on the do-not-call list: never dialed
	Exhausted Status = "exhausted" // MaxAttempts reached without a final outcome
)

// Record is one entry of a campaign's call list.
type Record struct {
	ID             int64
	CampaignID     int64
	Phone          string // digits, international form, no '+'
	TimeZone       string // IANA name the calling window is evaluated in
	Region         string // as imported, informational once TimeZone is resolved
	Priority       int    // 0–100, higher first
	Callback       bool   // a web callback: selected before ordinary records
	CustomerFields map[string]string
	Status         Status
	Attempts       int       // attempts begun, including one in flight
	NextAt         time.Time // not dialed before this instant
}

// Outcome is how an attempt ended.
type Outcome string

const (
	Answered  Outcome = "answered"  // live answer reached an agent: final
	Busy      Outcome = "busy"      // retry rule Busy
	NoAnswer  Outcome = "no_answer" // retry rule NoAnswer
	Machine   Outcome = "machine"   // answering machine: retry rule Machine
	Abandoned Outcome = "abandoned" // live answer with no agent: retry rule Abandoned
	Failed    Outcome = "failed"    // network or dialer failure: retry rule Failed
	AskedDNC  Outcome = "dnc"       // the customer asked not to be called: final, number added to the DNC list
	Invalid   Outcome = "invalid"   // number does not exist: final
	Unknown   Outcome = "unknown"   // set by crash recovery: treated as Failed
)

// Valid reports whether o is one of the outcomes above.
func (o Outcome) Valid() bool {
	switch o {
	case Answered, Busy, NoAnswer, Machine, Abandoned, Failed, AskedDNC, Invalid, Unknown:
		return true
	}
	return false
}

// Attempt is one row of the journal. EndedAt is zero while the call is in
// flight.
type Attempt struct {
	ID        int64
	RecordID  int64
	StartedAt time.Time
	Outcome   Outcome
	EndedAt   time.Time
}

// Recall is a call back agreed with the customer. AgentID "" means any agent
// of the campaign; otherwise only NextForAgent for that agent selects it.
type Recall struct {
	RecordID int64
	At       time.Time
	AgentID  string
}

// Errors callers can test with errors.Is.
var (
	ErrNotFound        = errors.New("campaign: not found")
	ErrNotDialable     = errors.New("campaign: record is not dialable")
	ErrInFlight        = errors.New("campaign: an attempt is already in flight for the record")
	ErrNotDue          = errors.New("campaign: record is not due yet")
	ErrOutsideWindow   = errors.New("campaign: outside the calling hours in the record's time zone")
	ErrDNCListed       = errors.New("campaign: number is on the do-not-call list")
	ErrDisabled        = errors.New("campaign: campaign is disabled")
	ErrAttemptEnded    = errors.New("campaign: attempt already ended")
	ErrCampaignRunning = errors.New("campaign: campaign has records in flight")
)
