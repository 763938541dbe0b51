// Package centre wires the emulated IPCC Enterprise core — the ICM router
// (icm), the CallManager PG (pg), the outside world (pstn) and the agents
// (agents) — into one contact centre on a sim.Scheduler. The CTI Server
// subscribes to the PG's events (Subscribe) and calls the PG's commands (PG);
// reports and tests read the router's statistics (Router) and Report.
package centre

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/ipcclab/ipcclab/emulator/agents"
	"github.com/ipcclab/ipcclab/emulator/icm"
	"github.com/ipcclab/ipcclab/emulator/pg"
	"github.com/ipcclab/ipcclab/emulator/pstn"
	"github.com/ipcclab/ipcclab/internal/sim"
)

// CallType is an ICM call type, its routing script and its inbound traffic.
type CallType struct {
	ID   uint32
	Name string
	// DialedNumber is what callers dial; it maps to this call type.
	DialedNumber          string
	ServiceLevelThreshold time.Duration
	// ServiceLevelType 1, 2 or 3 (0 = 2).
	ServiceLevelType icm.SLType
	// Targets is the routing script: Select LAA over these skill groups,
	// else queue to all of them with their priority.
	Targets []icm.Target
	// Arrivals is the Poisson rate profile; an empty PerHour means no
	// generated traffic for this call type.
	Arrivals pstn.Profile
}

// AgentGroup is a block of Count agents with consecutive agent IDs and
// extensions.
type AgentGroup struct {
	Name           string
	Role           agents.Role
	Count          int
	FirstAgentID   int
	FirstExtension int
	Password       string
	// SkillGroups by number.
	SkillGroups []uint32
	AnswerDelay pstn.Dist
	// Talk of inbound calls; zero uses Callers.Talk. For outbound-only
	// agents it is the talk time of predictive calls (they hang up when it
	// ends); zero uses Outbound.Talk.
	Talk   pstn.Dist
	WrapUp pstn.Dist
	// WrapUpOutgoing applies wrap-up after predictive calls too.
	WrapUpOutgoing bool
	RONARecovery   pstn.Dist
	NotReadyReason uint16
	// Preview is how the agents answer a dialer's preview reservations
	// (nil: they never do).
	Preview *agents.PreviewBehaviour
	// Desktop: people on agent desktops (CTI clients) drive these ICM
	// agents; they are agents on the PG but not people in the agents
	// model, so nothing logs them in or answers for them.
	Desktop bool
}

// InICM reports whether the group's agents are configured in ICM (and so
// agents on the PG): inbound and blended agents are, outbound-only agents are
// not — the PG has only their CallManager lines (pg.Config.Lines), from which
// a CTI client can still make predictive calls.
func (g AgentGroup) InICM() bool { return g.Role != agents.RoleOutbound }

// Callers describes inbound customers.
type Callers struct {
	// Patience until hanging up unanswered; zero mean = infinite.
	Patience pstn.Dist
	// Talk is the default inbound conversation time.
	Talk      pstn.Dist
	ANIPrefix string
	// Accounts are the account numbers callers key at the IVR, one drawn
	// per caller (the customers a desktop's screen pop can find); empty:
	// random eight-digit numbers.
	Accounts []string
}

// Outbound describes the customers MakePredictiveCall reaches.
type Outbound struct {
	Enabled bool
	Answer  float64
	Busy    float64
	Fail    float64
	// Machine and Fax are answered by an answering machine or a fax
	// machine (they connect like live answers; the dialer has to tell
	// them apart); VacantNumber, NoCircuit and Reorder fail after setup.
	// See pstn.OutboundConfig.
	Machine      float64
	Fax          float64
	VacantNumber float64
	NoCircuit    float64
	Reorder      float64
	SetupDelay   pstn.Dist
	RingTime     pstn.Dist
	// Talk is how long customers talk to an agent in ICM before hanging
	// up. Calls connected to outbound-only agents' lines are ended by the
	// person at the line instead (AgentGroup.Talk, defaulting to this). A
	// customer answering on a dialer port (Config.DialerPorts) waits there
	// and starts talking when a transfer connects it to an agent or a line.
	Talk pstn.Dist
	// PerNumberFate draws each dialed customer's fate (outcome, setup
	// delay, ring and talk time) from the number and how often this run
	// dialed it before, seeded with the centre's seed, instead of from one
	// stream in dial order: pacing strategies compared with the same seed
	// meet identical customers (pstn.OutboundConfig.PerNumberFate).
	PerNumberFate bool
}

// Config is one emulated IPCC.
type Config struct {
	// PeripheralID of the CallManager PG (default 5000).
	PeripheralID uint32
	// Location is the peripheral's time zone (default UTC).
	Location *time.Location
	// Start is when the arrival profiles' segment 0 begins (zero: the
	// scheduler's time at New).
	Start               time.Time
	AbandonCallWaitTime time.Duration
	// RingNoAnswerTimeout is the RONA desk setting (0 = no RONA).
	RingNoAnswerTimeout time.Duration
	// TransferDelay is the IVR-to-agent transfer time after reservation.
	TransferDelay time.Duration
	// IdleReasonRequired / LogoutReasonRequired are desk settings.
	IdleReasonRequired   bool
	LogoutReasonRequired bool
	SkillGroups          []icm.SkillGroupConfig
	CallTypes            []CallType
	Agents               []AgentGroup
	// DialerPorts are the extensions of CallManager lines a dialer places
	// predictive calls from (CTI ports): PG lines (pg.Config.Lines) with
	// no ICM agent and nobody behind them in the agents model. A customer
	// who answers waits connected to the port until the dialer transfers
	// it (TRANSFER_CALL_REQ, single-step) to an agent or clears the call.
	DialerPorts []string
	Callers     Callers
	Outbound    Outbound
	// Voice, when set, carries every call over the real voice path (see
	// Voice); nil is the simulation, where the PG switches calls itself.
	Voice Voice
}

func dists(prefix string, list ...any) error {
	for i := 0; i < len(list); i += 2 {
		if err := list[i+1].(pstn.Dist).Validate(prefix + list[i].(string)); err != nil {
			return err
		}
	}
	return nil
}

// Validate checks the whole configuration; errors name the field path, e.g.
// `agents[3].skill_groups[0]: unknown skill group 9`.
func (c *Config) Validate() error {
	if c.AbandonCallWaitTime < 0 {
		return fmt.Errorf("abandon_call_wait_time: must not be negative, got %v", c.AbandonCallWaitTime)
	}
	if c.RingNoAnswerTimeout < 0 {
		return fmt.Errorf("ring_no_answer_timeout: must not be negative, got %v", c.RingNoAnswerTimeout)
	}
	if c.TransferDelay < 0 {
		return fmt.Errorf("transfer_delay: must not be negative, got %v", c.TransferDelay)
	}
	if len(c.SkillGroups) == 0 {
		return errors.New("skill_groups: at least one skill group is required")
	}
	sgs := map[uint32]bool{}
	for _, sg := range c.SkillGroups {
		sgs[sg.Number] = true
	}
	for i, ct := range c.CallTypes {
		f := fmt.Sprintf("call_types[%d]", i)
		if ct.DialedNumber == "" {
			return fmt.Errorf("%s.dialed_number: required", f)
		}
		if len(ct.Arrivals.PerHour) > 0 {
			if err := ct.Arrivals.Validate(f + ".arrivals"); err != nil {
				return err
			}
		}
	}
	ids, exts := map[int]string{}, map[int]string{}
	for i, g := range c.Agents {
		f := fmt.Sprintf("agents[%d]", i)
		switch g.Role {
		case agents.RoleInbound, agents.RoleBlended, agents.RoleOutbound:
		default:
			return fmt.Errorf("%s.role: unknown role %q (use inbound, blended or outbound)", f, g.Role)
		}
		if g.Count < 1 {
			return fmt.Errorf("%s.count: must be at least 1, got %d", f, g.Count)
		}
		if g.FirstAgentID < 1 {
			return fmt.Errorf("%s.first_agent_id: must be positive, got %d", f, g.FirstAgentID)
		}
		if g.FirstExtension < 1 {
			return fmt.Errorf("%s.first_extension: must be positive, got %d", f, g.FirstExtension)
		}
		for k, sg := range g.SkillGroups {
			if !sgs[sg] {
				return fmt.Errorf("%s.skill_groups[%d]: unknown skill group %d", f, k, sg)
			}
		}
		if g.InICM() && len(g.SkillGroups) == 0 {
			return fmt.Errorf("%s.skill_groups: agents defined in ICM need at least one skill group", f)
		}
		for n := 0; n < g.Count; n++ {
			if prev, ok := ids[g.FirstAgentID+n]; ok {
				return fmt.Errorf("%s.first_agent_id: agent id %d already used by %s", f, g.FirstAgentID+n, prev)
			}
			ids[g.FirstAgentID+n] = f
			if prev, ok := exts[g.FirstExtension+n]; ok {
				return fmt.Errorf("%s.first_extension: extension %d already used by %s", f, g.FirstExtension+n, prev)
			}
			exts[g.FirstExtension+n] = f
		}
		if err := dists(f+".", "answer_delay", g.AnswerDelay, "talk", g.Talk, "wrap_up", g.WrapUp, "rona_recovery", g.RONARecovery); err != nil {
			return err
		}
	}
	ports := map[string]int{}
	for i, p := range c.DialerPorts {
		f := fmt.Sprintf("dialer_ports[%d]", i)
		if p == "" {
			return fmt.Errorf("%s: extension required", f)
		}
		if n, err := strconv.Atoi(p); err == nil {
			if g, ok := exts[n]; ok && strconv.Itoa(n) == p {
				return fmt.Errorf("%s: extension %s already used by %s", f, p, g)
			}
		}
		if j, ok := ports[p]; ok {
			return fmt.Errorf("%s: extension %s already used by dialer_ports[%d]", f, p, j)
		}
		ports[p] = i
	}
	if err := dists("callers.", "patience", c.Callers.Patience, "talk", c.Callers.Talk); err != nil {
		return err
	}
	o := c.Outbound
	for _, p := range []struct {
		n string
		v float64
	}{{"answer", o.Answer}, {"busy", o.Busy}, {"fail", o.Fail}, {"machine", o.Machine}, {"fax", o.Fax},
		{"vacant_number", o.VacantNumber}, {"no_circuit", o.NoCircuit}, {"reorder", o.Reorder}} {
		if p.v < 0 || p.v > 1 {
			return fmt.Errorf("outbound.%s: probability must be within 0..1, got %v", p.n, p.v)
		}
	}
	names, sum := "answer+busy+fail", o.Answer+o.Busy+o.Fail
	for _, p := range []struct {
		n string
		v float64
	}{{"machine", o.Machine}, {"fax", o.Fax}, {"vacant_number", o.VacantNumber}, {"no_circuit", o.NoCircuit}, {"reorder", o.Reorder}} {
		if p.v != 0 {
			names, sum = names+"+"+p.n, sum+p.v
		}
	}
	if sum > 1+1e-9 {
		return fmt.Errorf("outbound: %s must not exceed 1, got %v", names, sum)
	}
	return dists("outbound.", "setup_delay", o.SetupDelay, "ring_time", o.RingTime, "talk", o.Talk)
}

// OutboundCounters count predictive calls, from agents in ICM and from
// outbound-only agents' lines alike.
type OutboundCounters struct {
	Attempts int
	Connects int
	// Abandoned: the customer answered but the agent was not free.
	Abandoned int
	Busy      int
	NoAnswer  int
	Failed    int
}

// AgentInfo describes one configured agent.
type AgentInfo struct {
	AgentID    string
	Extension  string
	ICMAgentID uint32
	Group      string
	Role       agents.Role
	// InICM: the agent exists on the PG (inbound and blended agents);
	// outbound-only agents are only a line on the PG (pg.Config.Lines).
	InICM bool
}

// Centre is one emulated IPCC.
type Centre struct {
	cfg    Config
	sched  sim.Scheduler
	pg     *pg.PG
	router *icm.Router
	world  *pstn.PSTN
	people *agents.Model
	subs   []func(pg.Event)

	callers map[uint32]*pstn.Caller
	callees map[uint32]*pstn.Callee
	// ports are the dialer ports' extensions (Config.DialerPorts).
	ports   map[string]bool
	out     OutboundCounters
	start   time.Time
	list    []AgentInfo
	started bool

	// ivr draws what callers key in at the IVR (their account number).
	ivr       *rand.Rand
	typeNames map[uint32]string
	byDialed  map[string]uint32
}

// New validates cfg and builds the centre on sched; seed selects the random
// streams ("pstn", "agents"). Call Start to log agents in and start traffic.
func New(cfg Config, sched sim.Scheduler, seed uint64) (*Centre, error) {
	if sched == nil {
		return nil, errors.New("scheduler: required")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := &Centre{cfg: cfg, sched: sched, callers: map[uint32]*pstn.Caller{}, callees: map[uint32]*pstn.Callee{},
		ports: map[string]bool{}, start: sched.Now()}

	// Agents: ICM-defined ones are agents on the PG, outbound-only ones
	// lines on the PG; all of them are people in the agents model.
	var pgAgents []pg.AgentConfig
	var pgLines []pg.LineConfig
	var groups []agents.Group
	for _, g := range cfg.Agents {
		ag := agents.Group{Name: g.Name, Role: g.Role, AnswerDelay: g.AnswerDelay, Talk: g.Talk, WrapUp: g.WrapUp,
			RONARecovery: g.RONARecovery, NotReadyReason: g.NotReadyReason, Preview: g.Preview}
		if ag.Talk.IsZero() {
			ag.Talk = cfg.Callers.Talk
			if !g.InICM() {
				ag.Talk = cfg.Outbound.Talk
			}
		}
		desk := pg.DeskSettings{RingNoAnswer: cfg.RingNoAnswerTimeout, WrapUpIncoming: !g.WrapUp.IsZero(),
			WrapUpOutgoing: g.WrapUpOutgoing && !g.WrapUp.IsZero(), IdleReasonRequired: cfg.IdleReasonRequired,
			LogoutReasonRequired: cfg.LogoutReasonRequired}
		for n := 0; n < g.Count; n++ {
			id := strconv.Itoa(g.FirstAgentID + n)
			ext := strconv.Itoa(g.FirstExtension + n)
			icmID := uint32(100000 + g.FirstAgentID + n)
			c.list = append(c.list, AgentInfo{AgentID: id, Extension: ext, ICMAgentID: icmID, Group: g.Name, Role: g.Role, InICM: g.InICM()})
			if !g.InICM() {
				pgLines = append(pgLines, pg.LineConfig{Extension: ext})
				ag.Agents = append(ag.Agents, agents.Agent{AgentID: id, Extension: ext})
				continue
			}
			ac := pg.AgentConfig{AgentID: id, Extension: ext, ICMAgentID: icmID, Password: g.Password, Desk: &desk}
			for _, sg := range g.SkillGroups {
				ac.SkillGroups = append(ac.SkillGroups, pg.Membership{SkillGroup: sg})
			}
			pgAgents = append(pgAgents, ac)
			if g.Desktop {
				continue
			}
			ag.Agents = append(ag.Agents, agents.Agent{AgentID: id, Extension: ext, Password: g.Password})
		}
		groups = append(groups, ag)
	}
	// Dialer ports: lines with nobody behind them (no person in the agents
	// model).
	for _, ext := range cfg.DialerPorts {
		pgLines = append(pgLines, pg.LineConfig{Extension: ext})
		c.ports[ext] = true
	}

	var pgSGs []pg.SkillGroupConfig
	for _, sg := range cfg.SkillGroups {
		pgSGs = append(pgSGs, pg.SkillGroupConfig{Number: sg.Number, ID: sg.ID, Name: sg.Name})
	}
	var err error
	c.pg, err = pg.New(pg.Config{Scheduler: sched, PeripheralID: cfg.PeripheralID, SkillGroups: pgSGs, Agents: pgAgents, Lines: pgLines,
		Desk: pg.DeskSettings{RingNoAnswer: cfg.RingNoAnswerTimeout}, TransferDelay: cfg.TransferDelay,
		Emit: c.fanOut, Hooks: pg.Hooks{
			AgentChanged: func(st pg.AgentStatus) { c.router.AgentChanged(st) },
			CallAnswered: c.answered,
			RingNoAnswer: func(id uint32, _ pg.AgentStatus) { c.router.CallRONA(id) },
			CallEnded:    c.ended,
			CallHandled:  func(id uint32, talk, acw time.Duration) { c.router.CallHandled(id, talk, acw) },
			Dial:         c.dial,
			Transfer:     c.transfer(),
			LineTransferred: func(id uint32, _ pg.Device) {
				// The customer waited on a dialer port; now someone is
				// on the line and the conversation starts.
				if ce, ok := c.callees[id]; ok {
					ce.Connected()
				}
			},
		}})
	if err != nil {
		return nil, fmt.Errorf("pg: %w", err)
	}

	var cts []icm.CallTypeConfig
	var streams []pstn.Stream
	for _, ct := range cfg.CallTypes {
		cts = append(cts, icm.CallTypeConfig{ID: ct.ID, Name: ct.Name, ServiceLevelThreshold: ct.ServiceLevelThreshold,
			ServiceLevelType: ct.ServiceLevelType, DialedNumbers: []string{ct.DialedNumber}, Targets: ct.Targets})
		if len(ct.Arrivals.PerHour) > 0 {
			streams = append(streams, pstn.Stream{CallTypeID: ct.ID, Name: ct.Name, DialedNumber: ct.DialedNumber, Arrivals: ct.Arrivals})
		}
	}
	c.router, err = icm.New(icm.Config{Scheduler: sched, Location: cfg.Location, SkillGroups: cfg.SkillGroups,
		CallTypes: cts, AbandonCallWaitTime: cfg.AbandonCallWaitTime, Deliver: c.deliver,
		OnHalfHour: func(time.Time) { c.pg.HalfHourChange() }})
	if err != nil {
		return nil, err // icm errors already name call_types[...] / skill_groups[...]
	}

	outCfg := pstn.OutboundConfig{}
	if cfg.Outbound.Enabled {
		o := cfg.Outbound
		outCfg = pstn.OutboundConfig{Answer: o.Answer, Busy: o.Busy, Fail: o.Fail, Machine: o.Machine, Fax: o.Fax,
			VacantNumber: o.VacantNumber, NoCircuit: o.NoCircuit, Reorder: o.Reorder,
			SetupDelay: o.SetupDelay, RingTime: o.RingTime, Talk: o.Talk, PerNumberFate: o.PerNumberFate, FateSeed: seed}
	}
	start := cfg.Start
	if start.IsZero() {
		start = sched.Now()
	}
	c.world, err = pstn.New(pstn.Config{Scheduler: sched, Rand: sim.Stream(seed, "pstn"), Start: start, Streams: streams,
		Patience: cfg.Callers.Patience, ANIPrefix: cfg.Callers.ANIPrefix, Outbound: outCfg,
		OnArrival: c.arrival, OnAbandon: c.abandon})
	if err != nil {
		return nil, fmt.Errorf("pstn: %w", err)
	}
	c.ivr = sim.Stream(seed, "ivr")
	c.typeNames = map[uint32]string{}
	c.byDialed = map[string]uint32{}
	for _, ct := range cfg.CallTypes {
		c.typeNames[ct.ID] = ct.Name
		c.byDialed[ct.DialedNumber] = ct.ID
	}
	var cmds agents.Commands = c.pg
	if cfg.Voice != nil {
		cmds = phoneCommands{pg: c.pg, v: cfg.Voice}
	}
	c.people, err = agents.New(agents.Config{Scheduler: sched, Rand: sim.Stream(seed, "agents"), PG: cmds, Groups: groups})
	if err != nil {
		return nil, fmt.Errorf("agents: %w", err)
	}
	return c, nil
}

// Start logs the agents in and starts the inbound arrivals.
func (c *Centre) Start() {
	if c.started {
		return
	}
	c.started = true
	c.start = c.sched.Now()
	c.people.Start()
	c.world.Start()
}

// StartedAt is when Start ran (zero before): the interval records count
// the outbound-only agents' lines as on from then.
func (c *Centre) StartedAt() time.Time { return c.start }

// Subscribe adds an event sink (the CTI Server); sinks run synchronously,
// in subscription order, for every PG event.
func (c *Centre) Subscribe(fn func(pg.Event)) { c.subs = append(c.subs, fn) }

// PG is the CallManager PG: commands for the CTI Server.
func (c *Centre) PG() *pg.PG { return c.pg }

// Router is the ICM router: skill group and call type statistics.
func (c *Centre) Router() *icm.Router { return c.router }

// PSTN is the outside world (tests inject callers through it).
func (c *Centre) PSTN() *pstn.PSTN { return c.world }

// AgentModel is the emulated agents.
func (c *Centre) AgentModel() *agents.Model { return c.people }

// Agents lists every configured agent, including outbound-only agents that
// exist in the controller only.
func (c *Centre) Agents() []AgentInfo { return append([]AgentInfo(nil), c.list...) }

// DialerPorts lists the dialer ports' extensions (Config.DialerPorts).
func (c *Centre) DialerPorts() []string { return append([]string(nil), c.cfg.DialerPorts...) }

// Outbound returns the predictive-call counters.
func (c *Centre) Outbound() OutboundCounters { return c.out }

func (c *Centre) fanOut(e pg.Event) {
	for _, fn := range c.subs {
		fn(e)
	}
	if c.people != nil {
		c.people.HandleEvent(e)
	}
}

func (c *Centre) transfer() func(uint32, string) {
	if c.cfg.Voice == nil {
		return nil
	}
	return c.cfg.Voice.Transfer
}

func (c *Centre) arrival(cl *pstn.Caller) {
	if c.cfg.Voice != nil {
		c.cfg.Voice.Arrive(cl)
		return
	}
	// The caller keys an account number at the IVR; the routing script
	// puts the call type and the account in the call variables, which is
	// what the agent's screen pop is built from (step 5 of the call flow).
	var account string
	if accts := c.cfg.Callers.Accounts; len(accts) > 0 {
		account = accts[c.ivr.IntN(len(accts))]
	} else {
		account = fmt.Sprintf("%08d", c.ivr.IntN(100_000_000))
	}
	in := pg.Incoming{ANI: cl.ANI, DNIS: cl.DNIS, DialedNumber: cl.DialedNumber, CallerEnteredDigits: account}
	in.CallVariables[0] = c.typeNames[cl.CallTypeID]
	in.CallVariables[1] = account
	id := c.pg.TrunkIncoming(in)
	cl.CallID = id
	c.callers[id] = cl
	if _, err := c.router.NewCall(icm.NewCallRequest{CallID: id, DialedNumber: cl.DialedNumber, CallTypeID: cl.CallTypeID}); err != nil {
		c.pg.TrunkDisconnected(id)
	}
}

func (c *Centre) abandon(cl *pstn.Caller) {
	if c.cfg.Voice != nil {
		// The gateway hangs up; CallManager's BYE/CANCEL comes back as
		// Hangup, which counts the abandon.
		c.cfg.Voice.Abandon(cl)
		return
	}
	c.router.CallAbandoned(cl.CallID)
	c.pg.TrunkDisconnected(cl.CallID)
}

func (c *Centre) deliver(d icm.Delivery) error {
	return c.pg.Route(pg.RouteRequest{CallID: d.CallID, ICMAgentID: d.ICMAgentID, SkillGroup: d.SkillGroup,
		Priority: uint16(d.Priority), RouterCallKey: d.RouterCallKey, CallTypeID: d.CallTypeID})
}

func (c *Centre) answered(id uint32, _ pg.AgentStatus) {
	if cl, ok := c.callers[id]; ok {
		cl.Answered()
	}
	c.router.CallAnswered(id)
}

func (c *Centre) ended(id uint32) {
	if cl, ok := c.callers[id]; ok {
		cl.Gone()
		delete(c.callers, id)
	}
	if ce, ok := c.callees[id]; ok {
		ce.Drop()
		delete(c.callees, id)
	}
}

func (c *Centre) dial(r pg.DialRequest) {
	c.out.Attempts++
	id := r.CallID
	if !c.cfg.Outbound.Enabled {
		c.out.Failed++
		c.pg.TrunkFailed(id, pg.CauseDestNotObtainable)
		return
	}
	h := c.dialHandler(id)
	if c.cfg.Voice != nil {
		c.cfg.Voice.Dial(r, h)
		return
	}
	c.callees[id] = c.world.Dial(r.DialedNumber, r.RingTimeout, h)
}

// dialHandler accounts for a predictive call's progress and drives the PG.
func (c *Centre) dialHandler(id uint32) pstn.DialHandler {
	return pstn.DialHandler{
		Alerting: func() { c.pg.TrunkAlerting(id) },
		Answered: func() {
			if c.pg.TrunkAnswered(id) {
				c.out.Connects++
				// The customer ends calls with agents in ICM; on an
				// outbound-only agent's line the person there does.
				if ce, ok := c.callees[id]; ok && !c.onLine(id) {
					ce.Connected()
				}
			} else {
				c.out.Abandoned++
			}
		},
		Failed: func(o pstn.Outcome) {
			cause := pg.CauseDestNotObtainable
			switch o {
			case pstn.OutcomeBusy:
				c.out.Busy++
				cause = pg.CauseBusy
			case pstn.OutcomeNoAnswer:
				c.out.NoAnswer++
				cause = pg.CauseCallNotAnswered
			default:
				// OutcomeFail, OutcomeVacantNumber, OutcomeVacantCode,
				// OutcomeNoCircuit, OutcomeReorder: unobtainable (SIT).
				c.out.Failed++
			}
			c.pg.TrunkFailed(id, cause)
		},
		HungUp: func() { c.pg.TrunkDisconnected(id) },
	}
}

// onLine reports whether the call is connected to a line: an outbound-only
// agent's (the person there ends the call) or a dialer port (the customer
// waits for a transfer).
func (c *Centre) onLine(id uint32) bool {
	ci, ok := c.pg.Call(id)
	return ok && ci.Line != ""
}
