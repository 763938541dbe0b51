// Package controller is the reference blending/dialer controller in the
// style of Concerto Ensemble 3.1. It is a CTI client: it opens an ALL_EVENTS +
// CLIENT_CONTROL session to the CTI Server, tracks agents and calls from the
// events, polls skill-group statistics, and
//
//  1. continually monitors the calls routed to the IPCC queues and decides
//     from configured thresholds whether service levels are being met;
//  2. if not, slows outbound pacing and makes blended agents who are working
//     outbound AVAILABLE to ICM (SET_AGENT_STATE_REQ);
//  3. does this over its CTI connection through the CTI Server;
//  4. learns from AGENT_PRE_CALL_EVENT which agent ICM chose for a call;
//  6. once service levels are back at the configured ratio, returns blended
//     agents to outbound (NOT_READY with its reason code) and resumes pacing.
//
// It never imports the emulator: it runs unchanged against a real IPCC.
// Core is pure (frames in, frames out, time from a sim.Scheduler); Run in
// run.go drives it over TCP in real time.
package controller

import (
	"errors"
	"fmt"
	"time"

	"github.com/ipcclab/ipcclab/controller/blend"
	"github.com/ipcclab/ipcclab/controller/dialer"
	"github.com/ipcclab/ipcclab/protocol/cti"
)

// Role is how an agent is used by the controller.
type Role uint8

// Roles. Inbound-only agents are ICM's and not configured here.
const (
	Blended Role = iota + 1
	OutboundOnly
)

func (r Role) String() string {
	switch r {
	case Blended:
		return "blended"
	case OutboundOnly:
		return "outbound-only"
	}
	return "?"
}

// Agent is an agent configured in the controller.
type Agent struct {
	AgentID string
	// Instrument is the agent's phone (CallManager line); outbound calls are
	// placed from it.
	Instrument string
	Role       Role
}

// Config is the controller's configuration.
type Config struct {
	ClientID string
	// PeripheralID of the CallManager PG (0xFFFFFFFF: any).
	PeripheralID uint32
	Version      cti.ProtocolVersion
	// HeartbeatInterval: the controller heartbeats at this interval and asks
	// for an IdleTimeout of four times it (§5.4).
	HeartbeatInterval time.Duration

	Agents []Agent

	BlendEnabled bool
	Blend        blend.Config
	Pacer        dialer.Config
	// PollInterval is how often skill-group statistics are read and a
	// blending and pacing decision is taken.
	PollInterval time.Duration
	// NotReadyReason keeps outbound agents out of ICM routing.
	NotReadyReason uint16
	// OutboundEnabled runs the progressive campaign.
	OutboundEnabled bool
	// NumberPrefix starts the numbers the campaign dials.
	NumberPrefix string
	// Campaign names the campaign; it travels in CallVariable1 of every
	// call the controller places (the agent's screen pop).
	Campaign string
	// Records, when set, is the campaign's call list (records.go): agent
	// and pool mode dial its records, journaled before each dial, instead
	// of NumberPrefix + a sequence number. Nil keeps the synthetic numbers.
	Records Records
	// Limits, when set, are applied as UpdateCampaign applies them when the
	// core is made: the settings of a campaign resumed from a store, which
	// the campaign API may have changed since the configuration was
	// written.
	Limits *CampaignLimits
	// NoAnswerTimeout is how long an outbound call may ring before it
	// counts as not answered. It goes out as AlertRings (whole 6 s rings,
	// at least one); 0 leaves it to the network.
	NoAnswerTimeout time.Duration
	// AfterCallWork is how long an outbound-only agent (not an ICM agent, so
	// without wrap-up states on the wire) stays busy after a call.
	AfterCallWork time.Duration
	// Reserve, when set with BlendEnabled, blends by the threshold policy
	// (reserve.go) instead of the reactive triggers of Blend; Blend still
	// names the monitored skill groups.
	Reserve *blend.ReserveConfig
	// Pool, when set, dials the campaign from dialer ports with a pacing
	// strategy (pool.go) instead of the progressive per-agent pacer.
	Pool *PoolConfig
	// Preview, when set, dials the campaign in preview mode (preview.go):
	// each record is presented to an idle agent with a reservation call
	// from a dialer port, and dialed from the agent's phone once the agent
	// accepts it.
	Preview *PreviewConfig
	// Logf receives decisions and problems as lines. Nil discards.
	Logf func(format string, args ...any)
}

// Validate checks the configuration; errors name the field.
func (c Config) Validate() error {
	var errs []error
	if c.ClientID == "" {
		errs = append(errs, errors.New("controller: Config.ClientID is required"))
	}
	if c.Version < 13 || c.Version > 25 {
		errs = append(errs, fmt.Errorf("controller: Config.Version %d: must be 13..25", c.Version))
	}
	if c.HeartbeatInterval < 5*time.Second {
		errs = append(errs, fmt.Errorf("controller: Config.HeartbeatInterval %v: at least 5s (the server's minimum IdleTimeout is 20s = 4 heartbeats)", c.HeartbeatInterval))
	}
	if c.NoAnswerTimeout != 0 && c.NoAnswerTimeout < 15*time.Second {
		errs = append(errs, fmt.Errorf("controller: Config.NoAnswerTimeout %v: a campaign call must ring at least 15 s (dialer-anchors.md §3)", c.NoAnswerTimeout))
	}
	if c.PollInterval <= 0 {
		errs = append(errs, fmt.Errorf("controller: Config.PollInterval %v: must be positive", c.PollInterval))
	}
	seen := map[string]bool{}
	devs := map[string]bool{}
	for i, a := range c.Agents {
		switch {
		case a.AgentID == "":
			errs = append(errs, fmt.Errorf("controller: Config.Agents[%d].AgentID is required", i))
		case seen[a.AgentID]:
			errs = append(errs, fmt.Errorf("controller: Config.Agents[%d].AgentID %q is configured twice", i, a.AgentID))
		}
		seen[a.AgentID] = true
		if a.Instrument == "" {
			errs = append(errs, fmt.Errorf("controller: Config.Agents[%d].Instrument is required", i))
		} else if devs[a.Instrument] {
			errs = append(errs, fmt.Errorf("controller: Config.Agents[%d].Instrument %q is used twice", i, a.Instrument))
		}
		devs[a.Instrument] = true
		if a.Role != Blended && a.Role != OutboundOnly {
			errs = append(errs, fmt.Errorf("controller: Config.Agents[%d].Role must be Blended or OutboundOnly", i))
		}
	}
	if c.BlendEnabled {
		if err := c.Blend.Validate(); err != nil {
			errs = append(errs, err)
		}
		if c.Reserve != nil {
			if err := c.Reserve.Validate(); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if c.OutboundEnabled && c.Pool == nil {
		if err := c.Pacer.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	if c.Pool != nil {
		if err := c.Pool.Validate(); err != nil {
			errs = append(errs, err)
		}
		for i, port := range c.Pool.Ports {
			if devs[port] {
				errs = append(errs, fmt.Errorf("controller: Config.Pool.Ports[%d] %q is also an agent's instrument", i, port))
			}
		}
	}
	if c.Preview != nil {
		if err := c.Preview.Validate(); err != nil {
			errs = append(errs, err)
		}
		if c.Pool != nil {
			errs = append(errs, errors.New("controller: Config.Preview and Config.Pool are both set: choose one dialing mode"))
		}
		for i, port := range c.Preview.Ports {
			if devs[port] {
				errs = append(errs, fmt.Errorf("controller: Config.Preview.Ports[%d] %q is also an agent's instrument", i, port))
			}
		}
	}
	return errors.Join(errs...)
}

// Report is what the controller did.
type Report struct {
	MovesToInbound, MovesToOutbound int
	// ReserveBorrowed counts live answers given an agent of the reserve
	// (reserve mode, ReserveConfig.Borrow).
	ReserveBorrowed               int
	Attempts, Connects, Abandoned int
	Busy, NoAnswer, Failed        int
	// Mismatches names each agent defined on one side of the integration
	// only where the other side expects it.
	Mismatches []string
	// Lent are the blended agents currently lent to inbound.
	Lent []string
	// TalkSeconds is the controller's agents' time talking (inbound and
	// outbound): AGENT_STATE_TALKING for ICM agents, connected campaign
	// calls for outbound-only agents. Over agents × time it is their
	// occupancy as talk share.
	TalkSeconds float64
	// Pool is pool mode's report (nil in the per-agent mode).
	Pool *PoolReport
	// RecordErrors counts failed calls into Config.Records (a claim, a
	// journal entry refused or not written); each is logged.
	RecordErrors int
	// Preview is preview mode's report (nil in the other modes).
	Preview *PreviewReport
}

// agentView is what the controller knows of one agent.
type agentView struct {
	cfg      Agent
	inICM    bool // QUERY_AGENT_STATE_CONF received
	checked  bool // start-up query answered either way
	state    cti.AgentState
	loggedOn bool
	since    time.Time
	moved    time.Time
	// outbound call in flight or connected for this agent.
	outCall  uint32
	busyTill time.Time // after-call work of non-ICM agents

	// Pool mode (pool.go).
	poolCall uint32        // campaign call connected to the agent
	reserved uint32        // campaign call being transferred to the agent
	talkFrom time.Time     // when poolCall connected
	wrapFrom time.Time     // when the last campaign call ended
	wrapping bool          // ICM agent in wrap-up after a campaign call
	lastTalk time.Duration // that call's talk time
	talkAcc  time.Duration // talk time so far (see Report.TalkSeconds)
	// earmarked: kept free for blending to lend (poolEarmark).
	earmarked bool
	// lent: lent to ICM in reserve mode; pulled: an idle lent agent set
	// NOT_READY for a live answer waiting, until its state changes.
	lent   bool
	pulled bool
	// refused: a transfer to the agent was refused; it is not offered a
	// customer again until its next AGENT_STATE_EVENT.
	refused bool
}

// outCall is one campaign attempt.
type outCall struct {
	agent     string
	answered  bool // customer answered (CALL_ESTABLISHED at the far end)
	connected bool // established at the agent
	failed    bool
	att       *attempt // the journaled attempt (Config.Records)
}

// groupSample is the last skill-group statistics poll.
type groupSample struct {
	seen      bool
	at        time.Time
	queued    uint32
	longest   uint32
	avail     uint32
	queueLeft uint32 // calls of the sampled queue not yet seen delivered
	slCalls   int64
	slOffered int64
}
