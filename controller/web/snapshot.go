// Package web serves the live supervisor surfaces of a running contact
// centre over HTTP: the dashboard page (GET /), its data as JSON
// (GET /api/snapshot) and as server-sent events (GET /api/events), today's
// half-hour intervals (GET /api/intervals, when the source keeps them), the
// same figures for Prometheus (GET /metrics), and the web callback form
// (/callback/, callback.go). Other handlers (the agent desktop) are mounted
// behind the same token rule (Server.Mount). The figures come from a
// Source; the package knows nothing of what produces them, so it serves the
// emulated centre (internal/lab) and could serve a controller against a real
// IPCC alike.
package web

import (
	"context"
	"time"
)

// Source produces the figures the surfaces show. Snapshot is called once
// per page render, JSON request, event push and scrape, from any goroutine.
type Source interface {
	Snapshot(ctx context.Context) (Snapshot, error)
}

// SourceFunc adapts a function to Source.
type SourceFunc func(ctx context.Context) (Snapshot, error)

// Snapshot implements Source.
func (f SourceFunc) Snapshot(ctx context.Context) (Snapshot, error) { return f(ctx) }

// Snapshot is the contact centre at one instant, as a supervisor sees it.
// Its JSON form is the /api/snapshot answer and the data of each event.
type Snapshot struct {
	At       time.Time `json:"at"`
	Scenario string    `json:"scenario"`
	Centre   Centre    `json:"centre"`
	// Agents are the logged-in agents and outbound-only lines, in
	// configuration order.
	Agents []Agent `json:"agents"`
	// SkillGroups has one row per ICM skill group: its agents by state and
	// its router queue, as ICM's skill group real-time report shows them.
	SkillGroups []SkillGroup `json:"skill_groups"`
	// Queues has one row per inbound call type.
	Queues []Queue `json:"queues"`
	// Campaign is the outbound campaign whenever outbound is enabled,
	// with or without a call list; nil when the centre runs none.
	Campaign *Campaign `json:"campaign,omitempty"`
	// Moves are the most recent blending moves, oldest first.
	Moves []Move `json:"moves"`
	// Alerts are the alerts raised and not cleared; empty until something
	// raises them.
	Alerts []Alert `json:"alerts"`
}

// Centre is the headline figures: the whole centre, all call types.
type Centre struct {
	InQueue            int `json:"in_queue"`
	LongestWaitSeconds int `json:"longest_wait_seconds"`
	// ServiceLevelTo5 (rolling five minutes) and ServiceLevelHalf (current
	// half-hour) combine the call types per their service level type; -1
	// when no call has counted yet in the window.
	ServiceLevelTo5  float64 `json:"service_level_to5"`
	ServiceLevelHalf float64 `json:"service_level_half"`
	// Offered, Answered and Abandoned are inbound calls since the start.
	Offered   int         `json:"offered"`
	Answered  int         `json:"answered"`
	Abandoned int         `json:"abandoned"`
	Agents    AgentStates `json:"agents"`
	// Dialing counts outbound calls placed and not yet answered or failed;
	// DialLevel is Dialing per agent working outbound.
	Dialing        int     `json:"dialing"`
	OutboundAgents int     `json:"outbound_agents"`
	DialLevel      float64 `json:"dial_level"`
	// OutboundAttempts, OutboundConnects and OutboundAbandoned are the
	// outbound calls since the start; OutboundAbandonRate the campaign's
	// abandon rate so far.
	OutboundAttempts    int     `json:"outbound_attempts"`
	OutboundConnects    int     `json:"outbound_connects"`
	OutboundAbandoned   int     `json:"outbound_abandoned"`
	OutboundAbandonRate float64 `json:"outbound_abandon_rate"`
	// Lent counts blended agents lent to inbound now; MovesToInbound and
	// MovesToOutbound the blending moves since the start.
	Lent            int `json:"lent"`
	MovesToInbound  int `json:"moves_to_inbound"`
	MovesToOutbound int `json:"moves_to_outbound"`
}

// AgentStates counts the logged-in agents by what they are doing; the
// fields add up to LoggedIn.
type AgentStates struct {
	TalkingInbound  int `json:"talking_inbound"`
	TalkingOutbound int `json:"talking_outbound"`
	Reserved        int `json:"reserved"`
	Ready           int `json:"ready"`
	NotReady        int `json:"not_ready"`
	WrapUp          int `json:"wrap_up"`
	OutboundIdle    int `json:"outbound_idle"`
	LoggedIn        int `json:"logged_in"`
}

// Agent is one row of the agents table.
type Agent struct {
	ID        string `json:"id"`
	Extension string `json:"extension"`
	// State is the CTI agent state (AVAILABLE, TALKING, …); outbound-only
	// agents, who are a CallManager line and no ICM agent, are TALKING or
	// IDLE.
	State       string   `json:"state"`
	SkillGroups []string `json:"skill_groups"`
	// CallID is the call on the agent's device, 0 when none; Direction is
	// "inbound", "outbound" or "" with it.
	CallID    uint32 `json:"call_id,omitempty"`
	Direction string `json:"direction,omitempty"`
	// Since is when the agent entered State; for a line, when its call
	// connected or its last call ended. Zero (0001-01-01) when nothing has
	// happened yet, a line that has had no call: pages show "—" then.
	Since time.Time `json:"since"`
	// Line marks an outbound-only agent (a CallManager line).
	Line bool `json:"line,omitempty"`
}

// SkillGroup is one row of the skill groups table: the group's agents by
// state (an agent in several groups counts in each) and the calls the
// router has queued for it.
type SkillGroup struct {
	Number   uint32 `json:"number"`
	Name     string `json:"name"`
	LoggedOn int    `json:"logged_on"`
	// Ready are agents available for the group's calls (AgentsAvail, not
	// ICM's AgentsReady, which counts every agent not in NOT_READY); Reserved are being
	// offered a call; TalkingIn and TalkingOut are on inbound and outbound
	// (predictive, preview, reservation) calls; Hold have the call on hold;
	// WrapUp are in after-call work; NotReady are logged on and not
	// taking calls (among them blended agents working outbound, who are
	// NOT_READY to ICM); BusyOther are busy with another group's call or
	// an internal call. The states add up to LoggedOn.
	Ready      int `json:"ready"`
	Reserved   int `json:"reserved"`
	TalkingIn  int `json:"talking_in"`
	TalkingOut int `json:"talking_out"`
	Hold       int `json:"hold"`
	WrapUp     int `json:"wrap_up"`
	NotReady   int `json:"not_ready"`
	BusyOther  int `json:"busy_other"`
	// InQueue is the router's calls queued for the group now;
	// LongestWaitSeconds the longest one's wait.
	InQueue            int `json:"in_queue"`
	LongestWaitSeconds int `json:"longest_wait_seconds"`
}

// Queue is one inbound call type.
type Queue struct {
	CallType           string `json:"call_type"`
	InQueue            int    `json:"in_queue"`
	LongestWaitSeconds int    `json:"longest_wait_seconds"`
	// Service levels per window, -1 when no call counted in it.
	ServiceLevelTo5   float64 `json:"service_level_to5"`
	ServiceLevelHalf  float64 `json:"service_level_half"`
	ServiceLevelToday float64 `json:"service_level_today"`
	// ASASeconds is today's average speed of answer.
	ASASeconds float64 `json:"asa_seconds"`
	// Offered, Answered and Abandoned count since the start (never reset,
	// the Prometheus counters); AbandonedToday since midnight.
	Offered        int `json:"offered"`
	Answered       int `json:"answered"`
	Abandoned      int `json:"abandoned"`
	AbandonedToday int `json:"abandoned_today"`
}

// Campaign is the outbound campaign: what the controller dials by, and
// the call list's progress when it dials one.
type Campaign struct {
	// ID is the campaign's ID in the campaign store, 0 when it has no call
	// list (nothing is stored: the controller dials generated numbers).
	ID   int64  `json:"id,omitempty"`
	Name string `json:"name"`
	// Mode is progressive, predictive or preview.
	Mode string `json:"mode"`
	// LinesPerAgent is the configured dial level of the per-agent pacer
	// (0 where the strategy decides).
	LinesPerAgent float64 `json:"lines_per_agent"`
	// AbandonTarget is the limit the abandon rate is held to.
	AbandonTarget float64 `json:"abandon_target"`
	// List is the call list's progress, nil when the campaign has no list.
	List *CallList `json:"list,omitempty"`
	// Scheduled are the next callbacks and recalls waiting for their time,
	// soonest first (at most MaxScheduled): what a customer booked on the
	// callback page or an agent agreed on a call. Empty without a list.
	Scheduled []Scheduled `json:"scheduled"`
}

// CallList is a campaign's call list: its records, and those left to dial
// (pending or dialing).
type CallList struct {
	Records int `json:"records"`
	Left    int `json:"left"`
}

// MaxScheduled is how many scheduled records a snapshot lists.
const MaxScheduled = 20

// Scheduled is one record of the call list booked for a time.
type Scheduled struct {
	RecordID int64     `json:"record_id"`
	At       time.Time `json:"at"`
	// Kind is "callback" (a web callback request) or "recall" (agreed with
	// the customer on a call).
	Kind     string `json:"kind"`
	Phone    string `json:"phone"`
	Name     string `json:"name"`
	TimeZone string `json:"time_zone"`
}

// Move is one blending move.
type Move struct {
	At    time.Time `json:"at"`
	Agent string    `json:"agent"`
	// Kind is "lend" (to inbound) or "return" (to outbound).
	Kind string `json:"kind"`
}

// Alert is a raised alert, for the page's alerts panel.
type Alert struct {
	At       time.Time `json:"at"`
	Severity string    `json:"severity"`
	// Kind is what crossed its threshold (service_level_to5,
	// outbound_abandon, agent_reserved, …): a label of
	// ipcclab_alerts_active.
	Kind string `json:"kind"`
	// Subject is what the alert is about (a call type, an agent, the
	// campaign); Message says what crossed which threshold.
	Subject string `json:"subject"`
	Message string `json:"message"`
}
