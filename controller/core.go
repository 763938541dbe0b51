package controller

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/ipcclab/ipcclab/controller/blend"
	"github.com/ipcclab/ipcclab/controller/dialer"
	"github.com/ipcclab/ipcclab/internal/sim"
	"github.com/ipcclab/ipcclab/protocol/cti"
)

// Transport carries the controller's frames to the CTI Server: a TCP
// connection in real time, a sim.Link end in simulation.
type Transport interface {
	Send(frame []byte)
	Close()
}

// Status is a snapshot of the controller for people and tests.
type Status struct {
	Connected    bool
	Report       Report
	PacingFactor float64
	// Behind: the last decision judged inbound to be behind.
	Behind bool
	// ServiceLevel is the controller's estimate over its window, -1 when
	// there are too few calls to tell.
	ServiceLevel float64
	LastDecision string
}

type reqKind uint8

const (
	reqOpen reqKind = iota + 1
	reqHeartbeat
	reqQueryAgent
	reqSetState
	reqStats
	reqDial
	reqPoolDial
	reqPoolTransfer
	reqClear
)

type pending struct {
	kind   reqKind
	agent  string // agent ID; the port for reqPoolDial
	group  uint32
	number string
	call   uint32
	att    *attempt // the journaled attempt of a dial request (records.go)
}

// Core is the controller's pure event-driven core.
type Core struct {
	cfg    Config
	sched  sim.Scheduler
	t      Transport
	buf    []byte
	open   bool
	invoke uint32
	wait   map[uint32]pending

	agents  map[string]*agentView
	byDev   map[string]*agentView
	order   []*agentView
	groups  map[uint32]*groupSample
	monitor []uint32
	calls   map[uint32]*outCall

	policy  *blend.Policy
	reserve *reserveState
	pacer   *dialer.Pacer
	pool    *poolState
	preview *previewState // preview mode (preview.go)

	hbTimer, pollTimer sim.Timer
	paceTimer          sim.Timer
	paceArmed          bool
	statsOut           int
	dialSeq            uint64
	recIdle            time.Time      // Records had nothing: not asked again before (records.go)
	limits             CampaignLimits // set by UpdateCampaign beyond the pacers' own

	report     Report
	mismatched map[string]bool
	behind     bool
	factor     float64
	sl         float64
	last       string
}

// NewCore validates the configuration and returns a core that is not yet
// connected; call Start with a transport.
func NewCore(cfg Config, sched sim.Scheduler) (*Core, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := &Core{
		cfg: cfg, sched: sched,
		agents: map[string]*agentView{}, byDev: map[string]*agentView{},
		groups: map[uint32]*groupSample{}, calls: map[uint32]*outCall{},
		mismatched: map[string]bool{}, factor: 1, sl: -1,
	}
	for _, a := range cfg.Agents {
		v := &agentView{cfg: a, state: cti.AgentStateUnknown}
		c.agents[a.AgentID] = v
		c.byDev[a.Instrument] = v
		c.order = append(c.order, v)
	}
	if cfg.BlendEnabled && cfg.Reserve != nil {
		r, err := blend.NewReserve(*cfg.Reserve)
		if err != nil {
			return nil, err
		}
		// Until the first decision has sized it, every agent is kept.
		c.reserve = &reserveState{r: r, size: len(cfg.Agents)}
		for _, g := range cfg.Blend.SkillGroups {
			c.monitor = append(c.monitor, uint32(g))
			c.groups[uint32(g)] = &groupSample{}
		}
	} else if cfg.BlendEnabled {
		p, err := blend.New(cfg.Blend)
		if err != nil {
			return nil, err
		}
		c.policy = p
		for _, g := range cfg.Blend.SkillGroups {
			c.monitor = append(c.monitor, uint32(g))
			c.groups[uint32(g)] = &groupSample{}
		}
	}
	if cfg.OutboundEnabled && cfg.Pool != nil {
		c.pool = newPool(*cfg.Pool)
	} else if cfg.OutboundEnabled && cfg.Preview != nil {
		c.preview = newPreview(cfg)
	} else if cfg.OutboundEnabled {
		p, err := dialer.NewPacer(cfg.Pacer)
		if err != nil {
			return nil, err
		}
		c.pacer = p
	}
	if cfg.Limits != nil {
		if err := c.UpdateCampaign(*cfg.Limits); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (c *Core) logf(format string, args ...any) {
	if c.cfg.Logf != nil {
		c.cfg.Logf(format, args...)
	}
}

// Status returns a snapshot.
func (c *Core) Status() Status {
	r := c.report
	r.Mismatches = append([]string(nil), c.report.Mismatches...)
	if c.policy != nil {
		k := c.policy.Counters()
		r.MovesToInbound, r.MovesToOutbound = int(k.MovesToInbound), int(k.MovesToOutbound)
	}
	if c.reserve != nil {
		r.MovesToInbound, r.MovesToOutbound = c.reserve.lends, c.reserve.returns
		r.ReserveBorrowed = c.reserve.borrowed
	}
	now := c.sched.Now()
	var talk time.Duration
	for _, a := range c.order {
		if c.isLent(a) {
			r.Lent = append(r.Lent, a.cfg.AgentID)
		}
		talk += a.talkAcc
		switch {
		case a.inICM && a.state == cti.AgentStateTalking:
			talk += now.Sub(a.since)
		case !a.inICM && a.poolCall != 0:
			talk += now.Sub(a.talkFrom)
		}
	}
	r.TalkSeconds = talk.Seconds()
	r.Pool = c.poolReport()
	r.Preview = c.previewReport()
	return Status{Connected: c.open, Report: r, PacingFactor: c.factor, Behind: c.behind, ServiceLevel: c.sl, LastDecision: c.last}
}

// Start opens a CTI session over t (§5.1): an ALL_EVENTS bridge with
// CLIENT_CONTROL, as a dialer/blender normally is (ipcc-behaviour.md §3.1).
func (c *Core) Start(t Transport) {
	c.t = t
	c.open = false
	c.wait = map[uint32]pending{}
	c.statsOut = 0
	idle := uint32(4 * c.cfg.HeartbeatInterval / time.Second)
	req := &cti.OpenReq{
		VersionNumber:     uint32(c.cfg.Version),
		IdleTimeout:       idle,
		PeripheralID:      c.cfg.PeripheralID,
		ServicesRequested: cti.ServiceAllEvents | cti.ServiceClientControl,
		CallMsgMask: cti.BeginCallMask | cti.EndCallMask | cti.CallDeliveredMask | cti.CallEstablishedMask |
			cti.CallClearedMask | cti.CallConnectionClearedMask | cti.CallOriginatedMask | cti.CallFailedMask |
			cti.CallDataUpdateMask | cti.AgentPreCallMask | cti.AgentPreCallAbortMask | cti.CallTransferredMask,
		AgentStateMask: 0x3FF, // LOGIN .. HOLD
		ClientID:       c.cfg.ClientID,
		ClientPassword: []byte{},
	}
	req.SetPresent(cti.TagClientPassword)
	c.request(req, pending{kind: reqOpen})
}

func (c *Core) request(m cti.InvokeIDer, p pending) {
	c.invoke++
	m.SetInvokeID(c.invoke)
	c.wait[c.invoke] = p
	c.send(m)
}

func (c *Core) send(m cti.Message) {
	if c.t == nil {
		return
	}
	b, err := cti.AppendMessage(c.buf[:0], m, c.cfg.Version)
	if err != nil {
		c.logf("controller: cannot encode %v: %v", m.MessageType(), err)
		return
	}
	c.buf = b
	c.t.Send(b)
}

// Closed is called when the connection to the CTI Server is gone. Timers stop;
// the driver reconnects and calls Start again.
func (c *Core) Closed() {
	if c.t == nil {
		return
	}
	c.open = false
	c.t = nil
	c.sched.Cancel(c.hbTimer)
	c.sched.Cancel(c.pollTimer)
	c.sched.Cancel(c.paceTimer)
	c.paceArmed = false
	c.poolClosed()
	c.previewClosed()
	// Outbound calls in flight are no longer observable: forget them so
	// their agents are not held forever; the PG clears them on its side.
	// Their records' fate is unknown (they may have been answered).
	now := c.sched.Now()
	for id, oc := range c.calls {
		if a := c.agents[oc.agent]; a != nil {
			a.outCall = 0
		}
		c.endAttempt(oc.att, OutcomeUnknown, now)
		delete(c.calls, id)
	}
	c.endLostDials(now)
	c.logf("controller: CTI connection lost")
}

// FramingError is called when the byte stream from the server cannot be
// framed; the connection is dropped and re-established by the driver.
func (c *Core) FramingError(err error) {
	c.logf("controller: unframeable input from the CTI Server: %v", err)
	if t := c.t; t != nil {
		c.Closed()
		t.Close()
	}
}

// Receive handles one frame from the CTI Server.
func (c *Core) Receive(frame []byte) {
	if len(frame) < cti.HeaderSize {
		c.FramingError(errors.New("frame shorter than its header"))
		return
	}
	mt := cti.MessageType(binary.BigEndian.Uint32(frame[4:]))
	m, err := cti.DecodeBody(mt, frame[cti.HeaderSize:], c.cfg.Version)
	if err != nil {
		// One bad message is logged and skipped: the session stays up, as a
		// real client would keep serving agents (§9).
		c.logf("controller: cannot decode %v from the CTI Server: %v", mt, err)
		return
	}
	now := c.sched.Now()
	if c.preview != nil && c.previewReceive(m, now) {
		return
	}
	switch e := m.(type) {
	case *cti.OpenConf:
		c.answered(e.InvokeID)
		c.opened(e)
	case *cti.FailureConf:
		p := c.answered(e.InvokeID)
		c.failed(p, fmt.Sprintf("FAILURE_CONF %v", e.Status))
	case *cti.ControlFailureConf:
		p := c.answered(e.InvokeID)
		c.failed(p, fmt.Sprintf("CONTROL_FAILURE_CONF %v", e.FailureCode))
	case *cti.FailureEvent:
		c.logf("controller: CTI Server reports failure %v", e.Status)
	case *cti.HeartbeatConf:
		c.answered(e.InvokeID)
	case *cti.SetAgentStateConf:
		c.answered(e.InvokeID)
	case *cti.QueryAgentStateConf:
		p := c.answered(e.InvokeID)
		c.agentQueried(p, e, now)
	case *cti.QuerySkillGroupStatisticsConf:
		p := c.answered(e.InvokeID)
		c.statsArrived(p, e, now)
	case *cti.MakePredictiveCallConf:
		p := c.answered(e.InvokeID)
		if p.kind == reqPoolDial {
			c.poolDialed(p, e, now)
			break
		}
		c.dialed(p, e)
	case *cti.TransferCallConf:
		c.answered(e.InvokeID)
	case *cti.ClearCallConf:
		c.answered(e.InvokeID)
	case *cti.CallTransferredEvent:
		if c.pool != nil {
			if pc := c.pool.calls[e.PrimaryCallID]; pc != nil {
				c.poolLeft(pc, e.TransferringDeviceID)
			} else if pc := c.pool.calls[e.SecondaryCallID]; pc != nil {
				c.poolLeft(pc, e.TransferringDeviceID)
			}
		}
	case *cti.CallConnectionClearedEvent:
		if c.pool != nil {
			if pc := c.pool.calls[e.ConnectionCallID]; pc != nil {
				c.poolLeft(pc, e.ReleasingDeviceID)
			}
		}
	case *cti.AgentStateEvent:
		c.agentState(e, now)
	case *cti.AgentPreCallEvent:
		c.preCall(e, now)
	case *cti.CallEstablishedEvent:
		if c.pool != nil {
			if pc := c.pool.calls[e.ConnectionCallID]; pc != nil {
				c.poolEstablished(pc, e, now)
				break
			}
		}
		if oc := c.calls[e.ConnectionCallID]; oc != nil {
			if a := c.agents[oc.agent]; a != nil && e.AnsweringDeviceID == a.cfg.Instrument {
				oc.connected = true
				c.report.Connects++
			} else {
				oc.answered = true
			}
		}
	case *cti.CallFailedEvent:
		if c.pool != nil {
			if pc := c.pool.calls[e.ConnectionCallID]; pc != nil {
				c.poolFailed(pc, e.EventCause, now)
				break
			}
		}
		if oc := c.calls[e.ConnectionCallID]; oc != nil && !oc.failed {
			oc.failed = true
			c.endAttempt(oc.att, failedOutcome(e.EventCause), now)
			switch e.EventCause {
			case 3: // CEC_BUSY
				c.report.Busy++
			case 10, 35: // CEC_CALL_NOT_ANSWERED, CEC_TIME_OUT
				c.report.NoAnswer++
			default:
				c.report.Failed++
			}
		}
	case *cti.EndCallEvent:
		if c.pool != nil {
			if pc := c.pool.calls[e.ConnectionCallID]; pc != nil {
				c.poolEnded(pc, now)
				break
			}
		}
		c.endCall(e.ConnectionCallID, now)
	}
}

func (c *Core) answered(inv uint32) pending {
	p := c.wait[inv]
	delete(c.wait, inv)
	return p
}

func (c *Core) failed(p pending, what string) {
	switch p.kind {
	case reqOpen:
		c.logf("controller: OPEN_REQ refused: %s", what)
		if t := c.t; t != nil {
			c.Closed()
			t.Close()
		}
	case reqQueryAgent:
		a := c.agents[p.agent]
		if a == nil {
			return
		}
		a.checked, a.inICM = true, false
		defer c.paceSoon()
		if a.cfg.Role == Blended {
			c.mismatch(a.cfg.AgentID, fmt.Sprintf("agent %s is configured as blended in the controller but ICM does not know it (QUERY_AGENT_STATE_REQ answered %s); it works outbound only", a.cfg.AgentID, what))
		}
	case reqSetState:
		c.logf("controller: SET_AGENT_STATE_REQ for agent %s refused: %s", p.agent, what)
	case reqStats:
		c.statsOut--
		c.logf("controller: skill group %d statistics refused: %s", p.group, what)
	case reqPoolDial:
		c.logf("controller: MAKE_PREDICTIVE_CALL_REQ from port %s refused: %s", p.agent, what)
		c.poolDialRefused(p)
	case reqPoolTransfer:
		c.poolTransferRefused(p, what, c.sched.Now())
	case reqClear:
		c.logf("controller: CLEAR_CALL_REQ for call %d refused: %s", p.call, what)
	case reqDial:
		c.report.Failed++
		c.endAttempt(p.att, OutcomeFailed, c.sched.Now())
		if a := c.agents[p.agent]; a != nil {
			a.outCall = 0
		}
		c.logf("controller: MAKE_PREDICTIVE_CALL_REQ for agent %s refused: %s", p.agent, what)
	default:
		c.logf("controller: request refused: %s", what)
	}
}

func (c *Core) mismatch(agent, msg string) {
	if c.mismatched[agent] {
		return
	}
	c.mismatched[agent] = true
	c.report.Mismatches = append(c.report.Mismatches, msg)
	c.logf("controller: MISMATCH: %s", msg)
}

func (c *Core) opened(conf *cti.OpenConf) {
	c.open = true
	c.logf("controller: CTI session open (services %v, PG status %v)", conf.ServicesGranted, conf.PGStatus)
	// Start-up check of the integration (Inbound agents are ICM's, outbound
	// agents the controller's, blended agents both): ask ICM about every
	// agent the controller knows.
	for _, a := range c.order {
		c.request(&cti.QueryAgentStateReq{PeripheralID: c.cfg.PeripheralID, AgentID: a.cfg.AgentID}, pending{kind: reqQueryAgent, agent: a.cfg.AgentID})
	}
	c.hbTimer = sim.After(c.sched, c.cfg.HeartbeatInterval, c.heartbeat)
	c.pollTimer = sim.After(c.sched, c.cfg.PollInterval, c.poll)
	c.poolStart()
}

func (c *Core) heartbeat(time.Time) {
	if !c.open {
		return
	}
	c.request(&cti.HeartbeatReq{}, pending{kind: reqHeartbeat})
	c.hbTimer = sim.After(c.sched, c.cfg.HeartbeatInterval, c.heartbeat)
}

func (c *Core) agentQueried(p pending, conf *cti.QueryAgentStateConf, now time.Time) {
	a := c.agents[p.agent]
	if a == nil {
		return
	}
	// Once the start-up check has placed an agent, it can be dialled for
	// at once rather than at the next poll (matters after a reconnect).
	defer c.paceSoon()
	a.checked, a.inICM = true, true
	a.state = conf.AgentState
	a.loggedOn = conf.AgentState != cti.AgentStateLogout && conf.AgentState != cti.AgentStateUnknown
	a.since = now
	if a.cfg.Role == OutboundOnly {
		var groups []uint32
		for _, g := range conf.SkillGroups {
			groups = append(groups, g.SkillGroupNumber)
		}
		c.mismatch(a.cfg.AgentID, fmt.Sprintf("agent %s is configured outbound-only in the controller but ICM defines it too (skill groups %v): ICM may route inbound calls to it", a.cfg.AgentID, groups))
	}
}

func (c *Core) agentState(e *cti.AgentStateEvent, now time.Time) {
	a := c.agents[e.AgentID]
	if a == nil {
		a = c.byDev[e.AgentInstrument]
	}
	if a == nil {
		return // an inbound-only agent: ICM's business
	}
	if !a.inICM {
		a.inICM = true
		if a.cfg.Role == OutboundOnly {
			c.mismatch(a.cfg.AgentID, fmt.Sprintf("agent %s is configured outbound-only in the controller but ICM reports its state: ICM may route inbound calls to it", a.cfg.AgentID))
		}
	}
	a.refused = false
	prev, prevSince := a.state, a.since
	if a.state != e.AgentState {
		if a.state == cti.AgentStateTalking {
			a.talkAcc += now.Sub(a.since)
		}
		a.since = now
	}
	a.state = e.AgentState
	defer c.reserveAgentState(a, prev, prevSince, now)
	a.loggedOn = e.AgentState != cti.AgentStateLogout
	if c.pool != nil {
		c.poolAgentState(a, e.AgentState, now)
		if a.state == cti.AgentStateNotReady && a.poolCall == 0 {
			c.poolMatch(now)
		}
	}
	if a.state == cti.AgentStateNotReady && a.outCall == 0 {
		c.paceSoon()
	}
}

// preCall is step 4: ICM tells the controller which agent takes a call. It
// also feeds the service-level estimate of the call's skill group.
//
// The CTI Server's skill-group statistics (§3.2 layout) carry no
// service-level counters, and calls waiting at the IVR produce no PG events
// (ipcc-behaviour.md §3.2), so the controller estimates each routed call's
// queue time from the last statistics sample: if the group had callers queued
// then, the call delivered now is taken to be the longest-waiting one
// (LongestRouterCallQNow plus the time since the sample); otherwise it was
// answered at once. Abandons in queue are invisible on the wire; the
// calls-in-queue and longest-wait triggers cover them.
func (c *Core) preCall(e *cti.AgentPreCallEvent, now time.Time) {
	if c.reserve != nil && c.groups[e.SkillGroupNumber] != nil {
		c.reserve.r.Offered(now, 1)
	}
	g := c.groups[e.SkillGroupNumber]
	if g == nil || !g.seen {
		return
	}
	var wait time.Duration
	if g.queueLeft > 0 && g.longest != 0xFFFFFFFF {
		wait = time.Duration(g.longest)*time.Second + now.Sub(g.at)
		g.queueLeft--
	}
	g.slOffered++
	if wait <= c.cfg.Blend.ServiceLevelThreshold {
		g.slCalls++
	}
	if c.reserve != nil {
		c.reserve.noteInbound(now, wait <= c.cfg.Blend.ServiceLevelThreshold)
	}
}

func (c *Core) poll(now time.Time) {
	if !c.open {
		return
	}
	c.pollTimer = sim.After(c.sched, c.cfg.PollInterval, c.poll)
	if len(c.monitor) == 0 {
		c.decide(now)
		return
	}
	if c.statsOut > 0 {
		// The previous poll is still unanswered: decide on what we have
		// rather than stall.
		c.decide(now)
	}
	c.statsOut = len(c.monitor)
	for _, g := range c.monitor {
		c.request(&cti.QuerySkillGroupStatisticsReq{PeripheralID: c.cfg.PeripheralID, SkillGroupNumber: g, SkillGroupID: 0xFFFFFFFF}, pending{kind: reqStats, group: g})
	}
}

func (c *Core) statsArrived(p pending, s *cti.QuerySkillGroupStatisticsConf, now time.Time) {
	g := c.groups[p.group]
	if g != nil {
		if c.reserve != nil && g.seen {
			c.reserve.r.Offered(now, int(s.RouterCallsQNow)-int(g.queued))
		}
		g.seen = true
		g.at = now
		g.queued = s.RouterCallsQNow
		g.longest = s.LongestRouterCallQNow
		g.avail = s.AgentsAvail
		g.queueLeft = s.RouterCallsQNow
	}
	c.statsOut--
	if c.statsOut <= 0 {
		c.statsOut = 0
		c.decide(now)
	}
}

// situation maps what the wire says about a blended agent to the policy's
// vocabulary.
func (c *Core) situation(a *agentView, now time.Time) blend.Situation {
	if !a.checked || !a.inICM {
		return blend.SituationUnknown
	}
	if !a.loggedOn {
		return blend.LoggedOut
	}
	if a.outCall != 0 || a.poolCall != 0 || a.reserved != 0 {
		return blend.OutboundCall
	}
	if a.wrapping {
		return blend.WrapUp
	}
	switch a.state {
	case cti.AgentStateNotReady:
		return blend.OutboundIdle
	case cti.AgentStateAvailable:
		return blend.InboundAvailable
	case cti.AgentStateReserved, cti.AgentStateTalking, cti.AgentStateHold, cti.AgentStateBusyOther:
		return blend.InboundBusy
	case cti.AgentStateWorkReady, cti.AgentStateWorkNotReady:
		return blend.WrapUp
	case cti.AgentStateLogout:
		return blend.LoggedOut
	}
	return blend.SituationUnknown
}

func (c *Core) decide(now time.Time) {
	if c.reserve != nil {
		c.reserveDecide(now)
		c.pace(now, nil)
		return
	}
	var lent map[string]bool
	if c.policy != nil {
		in := blend.Input{Now: now}
		for _, gnum := range c.monitor {
			g := c.groups[gnum]
			if !g.seen {
				continue
			}
			in.Groups = append(in.Groups, blend.SkillGroupSnapshot{
				SkillGroup:               int(gnum),
				RouterCallsQNow:          int(g.queued),
				LongestRouterCallQNow:    int64(g.longest),
				AgentsAvail:              int(g.avail),
				ServiceLevelCalls:        g.slCalls,
				ServiceLevelCallsOffered: g.slOffered,
			})
		}
		for _, a := range c.order {
			if a.cfg.Role != Blended {
				continue
			}
			in.Agents = append(in.Agents, blend.Agent{ID: a.cfg.AgentID, Situation: c.situation(a, now), Since: a.since, LastMoved: a.moved})
		}
		d, err := c.policy.Decide(in)
		if err != nil {
			c.logf("controller: blend decision failed: %v", err)
			return
		}
		c.behind = d.State == blend.Behind
		c.factor = d.PacingFactor
		c.sl = -1
		if d.ServiceLevelKnown {
			c.sl = d.ServiceLevel
		}
		c.last = d.String()
		if len(d.Actions) > 0 || len(d.Changes) > 0 {
			c.logf("controller: %s", c.last)
		}
		for _, act := range d.Actions {
			c.apply(act, now)
		}
		lent = map[string]bool{}
		for _, id := range d.Lent {
			lent[id] = true
		}
	}
	c.pace(now, lent)
}

// apply carries out a blending action over CTI (steps 2 and 6).
func (c *Core) apply(act blend.Action, now time.Time) {
	a := c.agents[act.AgentID]
	if a == nil {
		return
	}
	req := &cti.SetAgentStateReq{PeripheralID: c.cfg.PeripheralID, AgentID: a.cfg.AgentID, AgentInstrument: a.cfg.Instrument}
	switch act.Kind {
	case blend.ActionLend:
		// Make the agent available to ICM routing.
		req.AgentState = cti.AgentStateAvailable
	case blend.ActionReturn:
		// Back to outbound: NOT_READY with the controller's reason code.
		// While the agent is on an inbound call the PG keeps it as the
		// pending state and applies it when the call ends (§5.9(e)).
		req.AgentState = cti.AgentStateNotReady
		req.EventReasonCode = act.ReasonCode
	default:
		return
	}
	a.moved = now
	c.request(req, pending{kind: reqSetState, agent: a.cfg.AgentID})
}

// paceDelay is how soon after an outbound agent frees up the pacer runs:
// progressive dialing should not leave an agent idle until the next poll,
// and a short delay lets a burst of events settle into one decision.
const paceDelay = 250 * time.Millisecond

// paceSoon runs the pacer shortly, once however many agents free up.
func (c *Core) paceSoon() {
	if (c.pacer == nil && c.policy == nil && c.reserve == nil && c.preview == nil) || c.paceArmed || !c.open {
		return
	}
	c.paceArmed = true
	c.paceTimer = sim.After(c.sched, paceDelay, func(now time.Time) {
		c.paceArmed = false
		if !c.open {
			return
		}
		if c.behind {
			// Inbound is behind: an agent who just freed up is a candidate
			// to lend before it is a candidate to dial for (step 2).
			c.decide(now)
			return
		}
		c.pace(now, nil)
	})
}

// pace launches progressive calls for idle outbound agents.
func (c *Core) pace(now time.Time, lent map[string]bool) {
	if c.pool != nil {
		// Pool mode decides on its own tick; an agent freed up is a
		// chance to connect a waiting customer.
		c.poolMatch(now)
		return
	}
	if c.preview != nil {
		c.previewPace(now, lent)
		return
	}
	if c.pacer == nil {
		return
	}
	var idle []dialer.Agent
	for _, a := range c.order {
		if a.outCall != 0 || lent[a.cfg.AgentID] {
			continue
		}
		if c.isLent(a) {
			continue
		}
		switch {
		case a.inICM:
			// An ICM agent works outbound while NOT_READY and idle.
			if !a.loggedOn || a.state != cti.AgentStateNotReady {
				continue
			}
		case a.checked:
			// A line without an ICM agent: free after its after-call work.
			if now.Before(a.busyTill) {
				continue
			}
		default:
			continue
		}
		since := a.since
		if a.busyTill.After(since) {
			since = a.busyTill
		}
		idle = append(idle, dialer.Agent{ID: a.cfg.AgentID, Instrument: a.cfg.Instrument, IdleSince: since})
	}
	plan, err := c.pacer.Pace(dialer.Input{Now: now, IdleAgents: idle, CallsInFlight: len(c.calls), PacingFactor: c.factor})
	if err != nil {
		c.logf("controller: pacing failed: %v", err)
		return
	}
	for _, l := range plan.Launches {
		a := c.agents[l.AgentID]
		if a == nil || a.outCall != 0 {
			continue
		}
		number, att, ok := c.nextDial(now, a.cfg.AgentID)
		if !ok {
			continue
		}
		a.outCall = ^uint32(0) // placeholder until the CONF names the call
		req := &cti.MakePredictiveCallReq{
			PeripheralID:        c.cfg.PeripheralID,
			OriginatingDeviceID: a.cfg.Instrument,
			DialedNumber:        number,
			AlertRings:          alertRings(c.cfg.NoAnswerTimeout),
			CallVariable1:       c.cfg.Campaign,
		}
		att.setCallVars(req)
		c.request(req, pending{kind: reqDial, agent: a.cfg.AgentID, att: att})
	}
}

func (c *Core) dialed(p pending, conf *cti.MakePredictiveCallConf) {
	a := c.agents[p.agent]
	c.report.Attempts++
	c.calls[conf.NewConnectionCallID] = &outCall{agent: p.agent, att: p.att}
	if a != nil {
		a.outCall = conf.NewConnectionCallID
	}
}

func (c *Core) endCall(id uint32, now time.Time) {
	oc := c.calls[id]
	if oc == nil {
		return
	}
	delete(c.calls, id)
	if oc.answered && !oc.connected {
		c.report.Abandoned++
	}
	switch {
	case oc.connected:
		c.endAttempt(oc.att, OutcomeConnected, now)
	case oc.answered:
		c.endAttempt(oc.att, OutcomeAbandoned, now)
	default:
		c.endAttempt(oc.att, OutcomeNoAnswer, now) // ended while ringing (no CALL_FAILED)
	}
	if a := c.agents[oc.agent]; a != nil && a.outCall == id {
		a.outCall = 0
		if !a.inICM && oc.connected {
			// After-call work follows a conversation, not a busy signal
			// or a call nobody answered.
			a.busyTill = now.Add(c.cfg.AfterCallWork)
			c.sched.At(a.busyTill, func(time.Time) { c.paceSoon() })
		} else {
			c.paceSoon()
		}
		a.since = now
	}
}

// ringPeriod is one ring of the North American cadence (2 s on, 4 s off),
// the unit of MAKE_PREDICTIVE_CALL_REQ's AlertRings.
const ringPeriod = 6 * time.Second

// minRings is the regulators' minimum ring time (15 s or 4 rings,
// dialer-anchors.md §3) in whole 6 s rings: 3 rings, 18 s.
const minRings = 3

// alertRings converts a no-answer timeout to whole rings, rounding to the
// nearest and never below minRings (a shorter timeout is refused by
// Config.Validate); 0 means the network's default.
func alertRings(d time.Duration) uint16 {
	if d <= 0 {
		return 0
	}
	return uint16(max(minRings, (d+ringPeriod/2)/ringPeriod))
}
