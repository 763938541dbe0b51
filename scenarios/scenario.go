// Package scenarios defines the scenario file: one YAML document that describes
// a whole contact centre (ICM skill groups and call types, agents, callers,
// outbound customers) and the reference controller's configuration. The same
// scenario runs in virtual time (`ipcclab simulate`) and over real sockets
// (`ipcclab up`).
//
// Bad input is reported with the file, the line and the field path, for example
// `my.yaml:42: agents[1].count: must be at least 1, got 0`; the whole file is
// checked and every problem is listed, not just the first.
package scenarios

import (
	"bytes"
	"cmp"
	"embed"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

//go:embed default.yaml outbound.yaml
var embedded embed.FS

// DefaultName is the file name of the embedded default scenario.
const DefaultName = "default.yaml"

// Scenario is one contact centre plus the controller that drives it.
type Scenario struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	// Start is the time of day (HH:MM, UTC) at which the simulated day starts.
	Start ClockTime `yaml:"start"`
	// Hours is the default length of a simulated run.
	Hours float64 `yaml:"hours"`
	// Seed is the default random seed; the --seed flag overrides it.
	Seed uint64 `yaml:"seed"`

	ICM        ICM          `yaml:"icm"`
	Agents     []AgentGroup `yaml:"agents"`
	Callers    Callers      `yaml:"callers"`
	Outbound   Outbound     `yaml:"outbound"`
	Controller Controller   `yaml:"controller"`
	// Voice configures the real voice path of `ipcclab up`; the
	// simulation ignores it.
	Voice Voice `yaml:"voice"`
	// Desktop is what the agent desktop of `ipcclab up` offers: reason
	// codes, dispositions, scripts and customers (desktop.go); the
	// simulation ignores it.
	Desktop Desktop `yaml:"desktop"`
	// BaseDir is the directory of the scenario file (set by Load; empty
	// for embedded and in-memory scenarios): relative paths in it, such
	// as outbound.list, are resolved against it.
	BaseDir string `yaml:"-"`
}

// ICM is the router and CallManager PG configuration.
type ICM struct {
	PeripheralID uint32 `yaml:"peripheral_id"`
	// AbandonCallWaitTime: calls abandoning faster than this are short calls and
	// are left out of the service-level counters (ipcc-behaviour.md §1.1).
	AbandonCallWaitTime Duration `yaml:"abandon_call_wait_time"`
	// RingNoAnswerTimeout is the RONA timer: an agent who does not answer in
	// time goes NOT_READY (reason 32767) and the call is requeued.
	RingNoAnswerTimeout Duration     `yaml:"ring_no_answer_timeout"`
	SkillGroups         []SkillGroup `yaml:"skill_groups"`
	CallTypes           []CallType   `yaml:"call_types"`
}

// SkillGroup is an ICM skill group on the CallManager peripheral.
type SkillGroup struct {
	Number                uint32   `yaml:"number"`
	ID                    uint32   `yaml:"id"`
	Name                  string   `yaml:"name"`
	ServiceLevelThreshold Duration `yaml:"service_level_threshold"`
	// ServiceLevelType: 1 ignore abandons, 2 abandons count negatively,
	// 3 abandons count positively (ipcc-behaviour.md §1.1).
	ServiceLevelType int `yaml:"service_level_type"`
}

// CallType is an ICM call type with its routing script: Select LAA over the
// targets, otherwise queue to all of them with their priority.
type CallType struct {
	ID                    uint32   `yaml:"id"`
	Name                  string   `yaml:"name"`
	DialedNumber          string   `yaml:"dialed_number"`
	ServiceLevelThreshold Duration `yaml:"service_level_threshold"`
	ServiceLevelType      int      `yaml:"service_level_type"`
	Targets               []Target `yaml:"targets"`
	Arrivals              Arrivals `yaml:"arrivals"`
}

// Target is one skill group of a routing script with its queue priority (1–10).
type Target struct {
	SkillGroup uint32 `yaml:"skill_group"`
	Priority   int    `yaml:"priority"`
}

// Arrivals is a piecewise-constant Poisson rate profile: PerHour[i] is the
// rate in calls per hour during segment i after the start of the day; the
// last value holds for the rest of the run.
type Arrivals struct {
	Segment Duration  `yaml:"segment"`
	PerHour []float64 `yaml:"per_hour"`
}

// Agent roles. Inbound agents are defined in ICM, outbound agents in the
// controller, blended agents in both.
const (
	RoleInbound  = "inbound"
	RoleBlended  = "blended"
	RoleOutbound = "outbound"
)

// Where an agent can be defined.
const (
	DefinedInICM        = "icm"
	DefinedInController = "controller"
)

// AgentGroup is a block of agents sharing a role and behaviour.
type AgentGroup struct {
	Name           string   `yaml:"name"`
	Role           string   `yaml:"role"`
	Count          int      `yaml:"count"`
	FirstAgentID   int      `yaml:"first_agent_id"`
	FirstExtension int      `yaml:"first_extension"`
	Password       string   `yaml:"password"`
	SkillGroups    []uint32 `yaml:"skill_groups"`
	// DefinedIn overrides where the agents exist; the default follows the
	// role. A blended group defined in one place only is an integration
	// mismatch that the controller must report at start-up.
	DefinedIn   []string `yaml:"defined_in"`
	AnswerDelay Dist     `yaml:"answer_delay"`
	WrapUp      Dist     `yaml:"wrap_up"`
	// RONARecovery is how long an inbound agent made Not Ready by RONA
	// takes to notice and go Ready again (zero: at once — a phone that
	// never answers is then rung again and again).
	RONARecovery Dist `yaml:"rona_recovery"`
	// Preview is how the group's agents answer the previews of
	// controller.pacing.mode preview (absent: accept every preview after
	// 3 s).
	Preview *PreviewAnswers `yaml:"preview"`
	// Desktop marks agents driven by people on agent desktops
	// (controller/desktop) or by any other CTI client: they exist on the
	// PG but the emulator neither logs them in nor answers, hangs up or
	// ends wrap-up for them. Only agents defined in ICM can be: an
	// outbound-only agent has no ICM agent to log in.
	Desktop bool `yaml:"desktop"`
}

// PreviewAnswers is how agents answer a preview reservation on their
// desktop (the BAResponse ECC variable, Cisco Outbound Option): after
// Think they Accept, Skip or Reject the record (or Skip-Close,
// Reject-Close, Callback) with these probabilities, at most 1 together;
// with the probability left they do not answer and the controller
// withdraws the preview after controller.pacing.preview.timeout. The draws
// follow the run's seed.
type PreviewAnswers struct {
	Think       Dist    `yaml:"think"`
	Accept      float64 `yaml:"accept"`
	Skip        float64 `yaml:"skip"`
	Reject      float64 `yaml:"reject"`
	SkipClose   float64 `yaml:"skip_close"`
	RejectClose float64 `yaml:"reject_close"`
	Callback    float64 `yaml:"callback"`
	// CallbackAfter is how far ahead a Callback asks to be called
	// (default 1h).
	CallbackAfter Duration `yaml:"callback_after"`
}

// IsDefinedIn reports whether the group's agents exist on the given side.
func (g AgentGroup) IsDefinedIn(side string) bool {
	if len(g.DefinedIn) > 0 {
		for _, s := range g.DefinedIn {
			if s == side {
				return true
			}
		}
		return false
	}
	switch side {
	case DefinedInICM:
		return g.Role == RoleInbound || g.Role == RoleBlended
	case DefinedInController:
		return g.Role == RoleOutbound || g.Role == RoleBlended
	}
	return false
}

// Dist is a duration distribution.
type Dist struct {
	// Shape is fixed, exponential or lognormal.
	Shape string   `yaml:"shape"`
	Mean  Duration `yaml:"mean"`
	// CV is the coefficient of variation of a log-normal.
	CV float64 `yaml:"cv"`
}

// Callers describes inbound customers.
type Callers struct {
	// Patience while queued at the IVR; a zero mean means infinitely patient.
	Patience Dist `yaml:"patience"`
	Talk     Dist `yaml:"talk"`
}

// Outbound describes the customers that outbound calls reach.
type Outbound struct {
	Enabled bool `yaml:"enabled"`
	// Campaign names the campaign in the agent's screen pop (CallVariable1).
	Campaign string `yaml:"campaign"`
	// Outcome probabilities; together they add up to at most 1 and what is
	// left is no answer. Answer is a live person, Busy a busy line.
	Answer float64 `yaml:"answer"`
	Busy   float64 `yaml:"busy"`
	// Machine and Fax are calls answered by an answering machine or a fax
	// machine: they ring (ring_time) and answer like live customers, so
	// the dialer sees a connect and must tell them apart by what it hears.
	Machine float64 `yaml:"machine"`
	Fax     float64 `yaml:"fax"`
	// VacantNumber (unassigned number, SIT intercept, Q.850 cause 1),
	// NoCircuit (SIT no circuit, cause 34) and Reorder (SIT reorder,
	// cause 42) fail in the network after call setup, without ringing.
	VacantNumber float64 `yaml:"vacant_number"`
	NoCircuit    float64 `yaml:"no_circuit"`
	Reorder      float64 `yaml:"reorder"`
	// RingTime is how long an answering customer lets the phone ring.
	RingTime Dist `yaml:"ring_time"`
	// SetupDelay is the network's call setup time before the far end
	// rings (default lognormal, mean 2s, cv 0.3).
	SetupDelay Dist `yaml:"setup_delay"`
	// NoAnswerTimeout is how long the dialer lets an unanswered call ring,
	// in whole 6 s rings (MAKE_PREDICTIVE_CALL_REQ AlertRings), rounded.
	NoAnswerTimeout Duration `yaml:"no_answer_timeout"`
	Talk            Dist     `yaml:"talk"`
	NumberPrefix    string   `yaml:"number_prefix"`
	// DialerPorts are CallManager lines (CTI ports) the dialer places
	// predictive calls from (pool mode), or its reservation calls (preview
	// mode): no ICM agent and nobody behind them. An answered customer
	// waits on the port until the dialer transfers it to an agent. Count 0
	// (the default) means none.
	DialerPorts DialerPorts `yaml:"dialer_ports"`
	// Fate is how a dialed customer's fate (outcome, ring and talk time)
	// is drawn: stream (the default) from one random stream in dial order,
	// per_number from the number and how often it was dialed before, so
	// that pacing strategies run with the same seed meet the same
	// customers.
	Fate string `yaml:"fate"`

	// List is the campaign's call list (calllist.go): the controller dials
	// its records, with the compliance rules below, instead of
	// number_prefix + a sequence. Absent: synthetic numbers, and the keys
	// below must be absent too.
	List *CallList `yaml:"list"`
	// DNC are do-not-call entries: numbers, or digits followed by * for
	// every number starting with them ("1555000*"). Listed records are
	// never dialed.
	DNC []string `yaml:"dnc"`
	// CallingHours are the hours calls may be placed, in each customer's
	// local time (the list's time_zone or region): "09:00-21:00" every
	// day, or "mon-fri 09:00-21:00; sat 10:00-16:00" (default every day
	// 08:00-21:00, the US TSR hours, dialer-anchors.md §3).
	CallingHours string `yaml:"calling_hours"`
	// Retry is when each outcome is retried (calllist.go).
	Retry Retry `yaml:"retry"`
	// MaxAttempts is the attempts per record (default 3, Cisco's
	// maxDialAttempts, dialer-anchors.md §2.3).
	MaxAttempts int `yaml:"max_attempts"`
	// UKOfcom runs the campaign under the UK rules (dialer-anchors.md
	// §1.4, §3): the abandon rate is the answering-machine adjusted one
	// over any 24 h (pool mode's report and the predictive strategy's
	// limit), and with a call list an abandoned number is not called again
	// within 72 h.
	UKOfcom bool `yaml:"uk_ofcom"`
}

// Outbound fate modes (Outbound.Fate).
const (
	FateStream    = "stream"
	FatePerNumber = "per_number"
)

// DialerPorts is a block of Count dialer ports with consecutive extensions
// from FirstExtension; they must not overlap agent extensions.
type DialerPorts struct {
	Count          int `yaml:"count"`
	FirstExtension int `yaml:"first_extension"`
}

// Extensions lists the ports' extensions.
func (d DialerPorts) Extensions() []string {
	if d.Count <= 0 {
		return nil
	}
	out := make([]string, 0, d.Count)
	for k := range d.Count {
		out = append(out, strconv.Itoa(d.FirstExtension+k))
	}
	return out
}

// Voice configures the voice path (gateway, IP-IVR, CallManager, phones):
// over SIP and RTP in `ipcclab up`; in `ipcclab simulate` only with
// Simulate (or --voice), as events in virtual time (emulator/fabric).
// Zero values (and an absent section) take the defaults.
type Voice struct {
	// Simulate runs `ipcclab simulate` with the voice path (as --voice
	// does): every call goes through the gateway, CallManager, IP-IVR and
	// the phones as SIP events, and callers key their account at IP-IVR
	// as RFC 4733 packets. Off (the default) the PG switches calls itself.
	Simulate bool `yaml:"simulate"`
	// HopLatency is the one-way latency of each simulated SIP message and
	// RTP packet (default 2ms, at most 1s); `ipcclab up` has real ones.
	HopLatency Duration `yaml:"hop_latency"`
	// Media (default true) sends audio: callers and customers talking,
	// ringback, busy, SIT, IVR prompts and music, agents' voices. With
	// false every call still negotiates RTP (SDP offer/answer) but no RTP
	// endpoint is opened — the SDP names the discard port 9 and nothing is
	// sent or received, DTMF included — for signalling load tests, where
	// six sockets per call would be most of the cost.
	Media *bool `yaml:"media"`
	// IVR is IP-IVR's collect-digits script.
	IVR VoiceIVR `yaml:"ivr"`
	// CauseMap is the gateway's Q.850 cause ↔ SIP status mapping.
	CauseMap CauseMap `yaml:"cause_map"`
	// Registrar rate-limits REGISTERs at CallManager.
	Registrar Registrar `yaml:"registrar"`
	// TranslationRoutes are the DNs CallManager uses to hand calls to
	// IP-IVR (the translation-route model).
	TranslationRoutes TranslationRoutes `yaml:"translation_routes"`
}

// MediaOn reports whether endpoints send audio (Media, default true).
func (v Voice) MediaOn() bool { return v.Media == nil || *v.Media }

// VoiceIVR is IP-IVR's queue treatment and "Get Digit String" step.
type VoiceIVR struct {
	// Digits is how many digits the caller is asked for (default 8; '#'
	// ends early), 1-32.
	Digits int `yaml:"digits"`
	// FirstDigitTimeout (default 6s) is the wait for the first digit after
	// the announcement; InterDigitTimeout (default 3s) the wait between
	// digits.
	FirstDigitTimeout Duration `yaml:"first_digit_timeout"`
	InterDigitTimeout Duration `yaml:"inter_digit_timeout"`
	// Announcement is the welcome prompt's length (default 2s); music on
	// hold follows.
	Announcement Duration `yaml:"announcement"`
}

// Cause-map presets (the gateway's vendor variants).
const (
	CauseMapRFC3398    = "rfc3398"
	CauseMapAudioCodes = "audiocodes"
	CauseMapOpenSIPS   = "opensips"
)

// CauseMap is the gateway's Q.850 ↔ SIP mapping: a preset plus overrides.
type CauseMap struct {
	// Preset is rfc3398 (the default: RFC 3398 §7.2.4.1 and §8.2.6.1),
	// audiocodes or opensips.
	Preset string `yaml:"preset"`
	// Q850ToSIP overrides the final response for a Q.850 cause (1-127) the
	// PSTN released an outbound call with: a SIP status 300-699, e.g.
	// {17: 486}.
	Q850ToSIP map[int]int `yaml:"q850_to_sip"`
	// SIPToQ850 overrides the Q.850 cause (1-127) reported for a final SIP
	// response (300-699), e.g. {486: 17}.
	SIPToQ850 map[int]int `yaml:"sip_to_q850"`
}

// Registrar bounds the REGISTERs CallManager accepts, in requests per
// second with a token-bucket burst, over all sources and per source
// address. Zero takes CallManager's defaults: rate 200, burst 400,
// source_rate 50, source_burst 400.
type Registrar struct {
	Rate        float64 `yaml:"rate"`
	Burst       float64 `yaml:"burst"`
	SourceRate  float64 `yaml:"source_rate"`
	SourceBurst float64 `yaml:"source_burst"`
}

// Default translation-route DN range.
const (
	DefaultTranslationRouteFirst = 7000
	DefaultTranslationRouteCount = 2000
)

// TranslationRoutes is the range of translation-route DNs, First to
// First+Count-1 (default 7000, 2000 routes: 7000-8999). One route carries one
// call being handed to IP-IVR at a time, so Count bounds the calls queued
// at the IVR at once; the range must not overlap agent extensions.
type TranslationRoutes struct {
	First int `yaml:"first"`
	Count int `yaml:"count"`
}

// Controller is the reference blending/dialer controller's configuration.
type Controller struct {
	Blend  Blend  `yaml:"blend"`
	Pacing Pacing `yaml:"pacing"`
	// NotReadyReason is the reason code with which outbound agents are kept
	// NOT_READY in ICM.
	NotReadyReason int `yaml:"not_ready_reason"`
	// Alerts are the thresholds of the centre's alerts (alerts.go).
	Alerts Alerts `yaml:"alerts"`
}

// Blend holds the blending thresholds.
type Blend struct {
	Enabled bool `yaml:"enabled"`
	// Mode is reactive (the default: lend agents when the service level
	// falls behind the triggers below, return them with hysteresis) or
	// reserve (keep r blended agents idle for inbound, r sized from the
	// measured inbound rate and handling time with the threshold model of
	// dialer-anchors.md §5.6 D; the triggers are not used).
	Mode        string   `yaml:"mode"`
	SkillGroups []uint32 `yaml:"skill_groups"`
	// ServiceLevelTarget is the fraction answered within the threshold (0.8).
	ServiceLevelTarget float64 `yaml:"service_level_target"`
	// Window is the sliding window over which service level is judged.
	Window Duration `yaml:"window"`
	// QueueTrigger: calls in queue at or above this means behind.
	QueueTrigger int `yaml:"queue_trigger"`
	// LongestWaitTrigger: a caller waiting this long means behind.
	LongestWaitTrigger Duration `yaml:"longest_wait_trigger"`
	// ReturnRatio: lent agents go back once service level is at least
	// target × ratio and the queue is empty.
	ReturnRatio float64 `yaml:"return_ratio"`
	// MinInterval between two moves of the same agent.
	MinInterval Duration `yaml:"min_interval"`
	// MaxMovesPerDecision bounds how many agents move at once.
	MaxMovesPerDecision int `yaml:"max_moves_per_decision"`
	// PollInterval: how often skill-group statistics are queried and a
	// decision is taken.
	PollInterval Duration `yaml:"poll_interval"`
	// SlowdownFactor is the outbound pacing factor while inbound is behind.
	SlowdownFactor float64 `yaml:"slowdown_factor"`
	// ReserveAgents (reserve mode) plans r, the blended agents kept idle
	// for inbound, instead of sizing it from the measured traffic (0, the
	// default, sizes it). A planner takes it from the threshold model at
	// the forecast (controller/blend ReserveConfig.Planned says why a
	// planned r does better than one that follows the measurements).
	ReserveAgents int `yaml:"reserve_agents"`
	// ReserveBorrow (reserve mode, pool pacing) is how many of the reserve
	// a live outbound answer may take while no inbound caller waits (0:
	// none; ReserveConfig.Borrow).
	ReserveBorrow int `yaml:"reserve_borrow"`
}

// Pacing is the outbound pacing configuration.
type Pacing struct {
	// Mode is agent (the default: each call is placed from an idle agent's
	// phone, lines_per_agent per agent — progressive), pool (calls are
	// placed from outbound.dialer_ports and a live answer goes to whichever
	// campaign agent is free, as a predictive dialer must; strategy picks
	// how many) or preview (Cisco Outbound Option preview: each record is
	// presented to an idle agent with a reservation call from one of
	// outbound.dialer_ports, and the agent's phone dials it once the agent
	// accepts it; see Preview).
	Mode          string  `yaml:"mode"`
	LinesPerAgent float64 `yaml:"lines_per_agent"`
	MaxInFlight   int     `yaml:"max_in_flight"`
	// Strategy (pool mode): predictive (ours), progressive, ratio-L (fixed
	// L lines per agent, VICIdial RATIO), vicidial-hard, vicidial-tapered,
	// vicidial-average (VICIdial ADAPT_*), threshold-dial1xfree,
	// threshold-dial2xfree, threshold-dialone (the blending literature's
	// threshold dialer). Default predictive.
	Strategy string `yaml:"strategy"`
	// AbandonLimit is the campaign's limit on abandoned calls over live
	// answers (default 0.03).
	AbandonLimit float64 `yaml:"abandon_limit"`
	// AbandonWindow is how far back the predictive dialer holds the
	// abandon rate to the limit (default 720h, the FTC's and FCC's 30 days;
	// 1h to 8784h). UK mode measures over 24 h regardless.
	AbandonWindow Duration `yaml:"abandon_window"`
	// ConnectWithin is how long a live answer may wait for an agent before
	// the safe-harbour message (default and maximum 2s).
	ConnectWithin Duration `yaml:"connect_within"`
	// SafeHarbor is the length of the safe-harbour message (default 6s).
	SafeHarbor Duration `yaml:"safe_harbor"`
	// Preview holds the campaign's preview settings (mode preview).
	Preview PreviewPacing `yaml:"preview"`
}

// PreviewPacing is the campaign's preview settings.
type PreviewPacing struct {
	// Timeout is how long a preview waits for the agent's answer before it
	// is withdrawn and its record returned (default 60s).
	Timeout Duration `yaml:"timeout"`
	// RejectPause is how long an agent who rejected a preview (or let one
	// time out) is left without one (default 30s).
	RejectPause Duration `yaml:"reject_pause"`
	// RetryDelay is when a skipped, rejected or withdrawn record is
	// offered again (default 30m).
	RetryDelay Duration `yaml:"retry_delay"`
}

// Pacing modes (Pacing.Mode).
const (
	PacingAgent   = "agent"
	PacingPool    = "pool"
	PacingPreview = "preview"
)

// Duration is a time.Duration written as "20s", "5m", "1h30m".
type Duration time.Duration

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// UnmarshalYAML parses Go duration syntax.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return &lineError{line: n.Line, msg: fmt.Sprintf("not a duration (use forms like 20s, 5m, 1h30m): %q", n.Value)}
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes Go duration syntax.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// ClockTime is a time of day, written "HH:MM".
type ClockTime time.Duration

// UnmarshalYAML parses HH:MM.
func (c *ClockTime) UnmarshalYAML(n *yaml.Node) error {
	t, err := time.Parse("15:04", n.Value)
	if err != nil {
		return &lineError{line: n.Line, msg: fmt.Sprintf("not a time of day (use HH:MM): %q", n.Value)}
	}
	*c = ClockTime(time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute)
	return nil
}

// MarshalYAML writes HH:MM.
func (c ClockTime) MarshalYAML() (any, error) {
	d := time.Duration(c)
	return fmt.Sprintf("%02d:%02d", int(d.Hours()), int(d.Minutes())%60), nil
}

// StartTime is the instant the simulated day starts: the scenario's start time
// of day on a fixed date, so that runs are reproducible.
func (s *Scenario) StartTime() time.Time {
	return time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC).Add(time.Duration(s.Start))
}

// Default returns the embedded default scenario.
func Default() (*Scenario, error) {
	b, err := embedded.ReadFile(DefaultName)
	if err != nil {
		return nil, err
	}
	return Parse("embedded:"+DefaultName, b)
}

// Embedded returns an embedded scenario by name: "default" or "outbound"
// (the pacing comparison scenario of `ipcclab simulate --compare`).
func Embedded(name string) (*Scenario, error) {
	file := name + ".yaml"
	b, err := embedded.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("no embedded scenario %q (default, outbound)", name)
	}
	return Parse("embedded:"+file, b)
}

// DefaultYAML returns the text of the embedded default scenario.
func DefaultYAML() []byte {
	b, _ := embedded.ReadFile(DefaultName)
	return b
}

// Load reads and validates a scenario file; relative paths in it are
// resolved against its directory, and a call list that cannot be read is
// reported with the line of outbound.list. It reads the desktop section's
// script and customer files, each problem in them reported at that file's
// line.
func Load(path string) (*Scenario, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s, err := Parse(path, b)
	if err != nil {
		return nil, err
	}
	s.BaseDir = filepath.Dir(path)
	var probs []Problem
	if p := s.checkListFile(); p != nil {
		probs = append(probs, *p)
	}
	probs = append(probs, s.loadDesktop()...)
	if len(probs) > 0 {
		var root yaml.Node
		if yaml.Unmarshal(b, &root) == nil {
			for i := range probs {
				if probs[i].File == "" {
					probs[i].Line = lineOf(&root, probs[i].Field)
				}
			}
		}
		return nil, &Error{File: path, Problems: probs}
	}
	return s, nil
}

// Error lists every problem found in a scenario file.
type Error struct {
	File     string
	Problems []Problem
}

// Problem is one bad field. File, when set, is the file the problem is
// in when that is not the scenario file (a script or customer file the
// scenario names); Line is then that file's.
type Problem struct {
	File  string
	Line  int
	Field string
	Msg   string
}

func (e *Error) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "%s:%d: %s: %s", cmp.Or(p.File, e.File), p.Line, p.Field, p.Msg)
	}
	return b.String()
}

// Parse decodes and validates a scenario; name is used in error messages.
func Parse(name string, data []byte) (*Scenario, error) {
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{File: name, Problems: []Problem{{Line: 1, Field: "(document)", Msg: "empty scenario file"}}}
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var s Scenario
	strict := yaml.NewDecoder(bytes.NewReader(data))
	strict.KnownFields(true)
	if err := strict.Decode(&s); err != nil {
		return nil, yamlError(name, &root, err)
	}
	s.applyDefaults()
	if probs := s.validate(); len(probs) > 0 {
		for i := range probs {
			probs[i].Line = lineOf(&root, probs[i].Field)
		}
		sort.SliceStable(probs, func(i, j int) bool { return probs[i].Line < probs[j].Line })
		return nil, &Error{File: name, Problems: probs}
	}
	return &s, nil
}

// lineError is returned by our own scalar types so that their problems are
// reported at the right line like yaml's own type errors.
type lineError struct {
	line int
	msg  string
}

func (e *lineError) Error() string { return fmt.Sprintf("line %d: %s", e.line, e.msg) }

// yamlError turns yaml's "line N: ..." messages into file:line: problems.
func yamlError(name string, root *yaml.Node, err error) error {
	var le *lineError
	if errors.As(err, &le) {
		return &Error{File: name, Problems: []Problem{{Line: le.line, Field: fieldAtLine(root, le.line), Msg: le.msg}}}
	}
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return fmt.Errorf("%s: %w", name, err)
	}
	out := &Error{File: name}
	for _, msg := range te.Errors {
		line := 0
		if strings.HasPrefix(msg, "line ") {
			rest := msg[len("line "):]
			if i := strings.IndexByte(rest, ':'); i > 0 {
				line, _ = strconv.Atoi(rest[:i])
				msg = strings.TrimSpace(rest[i+1:])
			}
		}
		out.Problems = append(out.Problems, Problem{Line: line, Field: fieldAtLine(root, line), Msg: msg})
	}
	return out
}

// lineOf finds the line of a field path such as "agents[2].count"; when the
// field is absent it returns the line of the nearest enclosing element.
func lineOf(root *yaml.Node, path string) int {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := n.Line
	for _, part := range splitPath(path) {
		var next *yaml.Node
		switch {
		case part.index >= 0 && n.Kind == yaml.SequenceNode:
			if part.index < len(n.Content) {
				next = n.Content[part.index]
			}
		case part.index < 0 && n.Kind == yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == part.key {
					line = n.Content[i].Line
					next = n.Content[i+1]
					break
				}
			}
		}
		if next == nil {
			return line
		}
		n = next
		if n.Kind != yaml.ScalarNode {
			line = n.Line
		}
	}
	return line
}

type pathPart struct {
	key   string
	index int
}

func splitPath(path string) []pathPart {
	var parts []pathPart
	for _, seg := range strings.Split(path, ".") {
		key := seg
		var idx []int
		for {
			i := strings.IndexByte(key, '[')
			if i < 0 {
				break
			}
			j := strings.IndexByte(key[i:], ']')
			if j < 0 {
				break
			}
			v, _ := strconv.Atoi(key[i+1 : i+j])
			idx = append(idx, v)
			key = key[:i] + key[i+j+1:]
		}
		if key != "" {
			parts = append(parts, pathPart{key: key, index: -1})
		}
		for _, v := range idx {
			parts = append(parts, pathPart{index: v})
		}
	}
	return parts
}

// fieldAtLine names the deepest key declared on a line, for yaml type errors.
func fieldAtLine(root *yaml.Node, line int) string {
	best := "(document)"
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, path)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				p := n.Content[i].Value
				if path != "" {
					p = path + "." + p
				}
				if n.Content[i].Line == line || n.Content[i+1].Line == line {
					best = p
				}
				walk(n.Content[i+1], p)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				p := fmt.Sprintf("%s[%d]", path, i)
				if c.Line == line && c.Kind == yaml.ScalarNode {
					best = p
				}
				walk(c, p)
			}
		}
	}
	walk(root, "")
	return best
}

// Check validates a scenario built or changed in code (Parse validates
// files); problems carry no line numbers.
func (s *Scenario) Check() error {
	if probs := s.validate(); len(probs) > 0 {
		return &Error{File: s.Name, Problems: probs}
	}
	return nil
}
