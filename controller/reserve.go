package controller

import (
	"time"

	"github.com/ipcclab/ipcclab/controller/blend"
	"github.com/ipcclab/ipcclab/controller/dialer"
	"github.com/ipcclab/ipcclab/protocol/cti"
)

// Reserve mode (Config.Reserve) blends by the threshold policy of
// controller/blend's reserve.go (dialer-anchors.md §5.1, §5.2, §5.6 D): keep
// r blended agents idle for inbound, sized from the measured inbound rate
// and handling time, and give every other agent outbound work.
//
// With a dialer-port pool (pool mode, the predictive dialer's form) the
// threshold policy and the pacing are one decision over one shared idle
// pool, as in the model, where an agent is either busy or idle and idle
// agents above r start outbound work:
//
//   - every idle blended agent is lent to ICM (AVAILABLE): an agent that
//     finishes an outbound call with no customer waiting is lent at once,
//     so an agent waiting for the dialer's next live answer is not lost to
//     inbound, as it is when it waits NOT_READY;
//   - a live answer takes an idle lent agent (SET_AGENT_STATE NOT_READY,
//     then the transfer) only while more than r − Borrow agents plus the
//     callers queued are idle; otherwise it waits for an agent to free
//     within the connect limit or is abandoned, and counts against the
//     abandon rate the pacing holds;
//   - the pacing strategy sees every blended agent, the reserve and the
//     inbound rate (dialer.Snapshot.Reserve, InboundRate), and dials for
//     the idle agents above the reserve that the next seconds' frees
//     (inbound and outbound alike) and inbound arrivals will leave: it
//     dials ahead for an agent about to free and not for one the reserve
//     will keep. With a Borrow it keeps the reserve in expectation (a
//     live answer as likely to find an agent above r as not), and holds
//     the abandon rate against the reserve less the borrow.
//
// Without a pool (agents dial from their own phones) the controller keeps r
// idle agents lent and returns the others to outbound, with one agent of
// hysteresis.

// reserveSlack is how many idle lent agents above r stay lent (agent mode).
const reserveSlack = 1

// The half-hour guard: once halfRiskCalls inbound calls of the current half
// hour are counted and fewer than halfRiskLevel of them were answered within
// the threshold, the reserve keeps halfRiskExtra agents more until the half
// hour ends.
const (
	halfRiskCalls = 10
	halfRiskLevel = 0.90
	halfRiskExtra = 1
)

type reserveState struct {
	r       *blend.Reserve
	size    int     // r plus the callers queued, at the last decision
	rate    float64 // measured inbound calls per second
	lends   int
	returns int
	pulls   int // idle lent agents taken for a live answer (pool mode)
	// borrowed counts the pulls that took an agent of the reserve.
	borrowed int
	// The current half hour's inbound calls and those answered within
	// the service-level threshold, as preCall estimates them.
	half            time.Time
	halfAll, halfIn int
}

// borrow is how many of the reserve a live answer may take now: the
// configured Borrow, at most the reserve.
func (rs *reserveState) borrow() int { return min(rs.r.Borrow(), rs.size) }

// noteInbound counts one routed inbound call in its half hour.
func (rs *reserveState) noteInbound(now time.Time, inTime bool) {
	if h := now.Truncate(30 * time.Minute); !h.Equal(rs.half) {
		rs.half, rs.halfAll, rs.halfIn = h, 0, 0
	}
	rs.halfAll++
	if inTime {
		rs.halfIn++
	}
}

// halfLevel is the current half hour's service level so far (1 with no
// call yet).
func (rs *reserveState) halfLevel(now time.Time) (float64, int) {
	if !now.Truncate(30*time.Minute).Equal(rs.half) || rs.halfAll == 0 {
		return 1, 0
	}
	return float64(rs.halfIn) / float64(rs.halfAll), rs.halfAll
}

// isLent reports whether the agent is lent to ICM (either blending mode).
func (c *Core) isLent(a *agentView) bool {
	if c.reserve != nil {
		return a.lent
	}
	return c.policy != nil && c.policy.IsLent(a.cfg.AgentID)
}

// reserveBlended reports whether a is a blended agent the reserve counts.
func reserveBlended(a *agentView) bool {
	return a.cfg.Role == Blended && a.inICM && a.loggedOn
}

// idleOutbound reports whether a blended agent works outbound and is free:
// NOT_READY with no campaign call.
func idleOutbound(a *agentView) bool {
	return !a.lent && a.state == cti.AgentStateNotReady && a.poolCall == 0 && a.reserved == 0 && a.outCall == 0 && !a.wrapping
}

// reserveSize sizes the reserve now: the model's r plus the callers already
// queued (they need agents now, beyond what the model keeps for the callers
// still to come), at most the blended agents.
func (c *Core) reserveSize(now time.Time, blended int) int {
	rs := c.reserve
	r, _ := rs.r.Size(now, blended)
	for _, g := range c.groups {
		if g.seen {
			r += int(g.queued)
		}
	}
	// The target holds per half hour: while this one's service level so
	// far is at risk, keep one agent more (measured on seeds 1–8 of the
	// §5.6 D scenario: fewer half hours under target, BENCHMARKS.md).
	if sl, n := rs.halfLevel(now); n >= halfRiskCalls && sl < halfRiskLevel {
		r += halfRiskExtra
	}
	rs.size = min(r, blended)
	rs.rate = rs.r.Rate(now)
	return rs.size
}

// reserveDecide brings the idle lent agents to the reserve size.
func (c *Core) reserveDecide(now time.Time) {
	rs := c.reserve
	if rs == nil || !c.open {
		return
	}
	var blended, idleLent, idleOut []*agentView
	for _, a := range c.order {
		if !reserveBlended(a) {
			continue
		}
		blended = append(blended, a)
		// An agent found Available (a desktop, a restart) is ICM's
		// already: count it as lent.
		if a.state == cti.AgentStateAvailable && !a.pulled {
			a.lent = true
		}
		switch {
		case a.lent && a.state == cti.AgentStateAvailable:
			idleLent = append(idleLent, a)
		case idleOutbound(a):
			idleOut = append(idleOut, a)
		}
	}
	r := c.reserveSize(now, len(blended))
	if c.pool != nil {
		// Customers waiting come first (poolMatch may take idle lent
		// agents for them); any idle outbound agent left joins the
		// idle pool.
		c.poolMatch(now)
		if len(c.pool.waiting) > 0 {
			return
		}
		for _, a := range idleOut {
			if a.reserved == 0 && idleOutbound(a) {
				c.reserveMove(a, true, now)
			}
		}
		return
	}
	switch {
	case len(idleLent) < r:
		need := r - len(idleLent)
		for _, a := range idleOut {
			if need == 0 {
				break
			}
			c.reserveMove(a, true, now)
			need--
		}
	case len(idleLent) > r+reserveSlack:
		// Hysteresis: one idle agent more than r stays, so an agent is not
		// sent back and forth on every inbound call.
		for _, a := range idleLent[:len(idleLent)-r-reserveSlack] {
			c.reserveMove(a, false, now)
		}
	}
}

func (c *Core) reserveMove(a *agentView, lend bool, now time.Time) {
	req := &cti.SetAgentStateReq{PeripheralID: c.cfg.PeripheralID, AgentID: a.cfg.AgentID, AgentInstrument: a.cfg.Instrument}
	if lend {
		req.AgentState = cti.AgentStateAvailable
		c.reserve.lends++
	} else {
		req.AgentState = cti.AgentStateNotReady
		req.EventReasonCode = c.cfg.NotReadyReason
		c.reserve.returns++
	}
	a.lent = lend
	a.pulled = false
	a.moved = now
	c.request(req, pending{kind: reqSetState, agent: a.cfg.AgentID})
}

// reservePull takes idle lent agents for the live answers waiting that no
// outbound agent serves (pool mode): one per customer not yet covered by an
// agent on its way back, while more than the reserve stay idle. The agent is
// set NOT_READY; its AGENT_STATE_EVENT makes it Ready for poolMatch. If ICM
// routes a caller to it first, the request waits for that call's end (the
// PG's pending state) and the customer needs another agent.
func (c *Core) reservePull(waiting int, now time.Time) {
	rs := c.reserve
	var idle []*agentView
	onWay := 0
	for _, a := range c.order {
		if !reserveBlended(a) || a.state != cti.AgentStateAvailable {
			continue
		}
		if a.pulled {
			onWay++
		} else if a.lent {
			idle = append(idle, a)
		}
	}
	need := waiting - onWay
	// Idle agents beyond the reserve, less what an answer may borrow of
	// it (ReserveConfig.Borrow; callers waiting are never borrowed from,
	// and with a caller waiting no lent agent is idle): the agents on
	// their way back were idle too and were counted when they were taken.
	spare := len(idle) - rs.size + rs.borrow()
	for i := 0; i < need && i < spare && len(idle) > 0; i++ {
		// The agent idle the shortest: ICM hands callers to the agent
		// available longest.
		a := idle[0]
		for _, b := range idle {
			if b.since.After(a.since) {
				a = b
			}
		}
		if len(idle) <= rs.size {
			rs.borrowed++ // an agent of the reserve (ReserveConfig.Borrow)
		}
		idle = removeAgent(idle, a)
		c.reserveMove(a, false, now)
		a.pulled = true
		rs.pulls++
	}
}

func removeAgent(s []*agentView, a *agentView) []*agentView {
	for i, b := range s {
		if b == a {
			return append(s[:i], s[i+1:]...)
		}
	}
	return s
}

// reserveSnapshot is the pool tick's view of the blended agents in reserve
// mode: every idle one (lent, on its way back, or outbound) Ready, those on
// a call Talking. A strategy that is not a dialer.ReservePacer sees only
// the idle agents above the reserve.
func (c *Core) reserveSnapshot(snap *dialer.Snapshot, now time.Time) {
	rs := c.reserve
	ready := 0
	for _, a := range c.order {
		if a.cfg.Role != Blended {
			continue
		}
		if !reserveBlended(a) {
			continue
		}
		var ph dialer.Phase
		var in time.Duration
		switch {
		case a.poolCall != 0:
			ph, in = dialer.Talking, now.Sub(a.talkFrom)
		case a.reserved != 0:
			ph = dialer.Talking
		case a.wrapping:
			ph, in = dialer.WrapUp, now.Sub(a.wrapFrom)
		case a.state == cti.AgentStateAvailable || idleOutbound(a):
			ph = dialer.Ready
			ready++
		case a.state == cti.AgentStateTalking || a.state == cti.AgentStateHold || a.state == cti.AgentStateBusyOther:
			ph, in = dialer.Talking, now.Sub(a.since)
		case a.state == cti.AgentStateReserved:
			ph = dialer.Talking
		case a.state == cti.AgentStateWorkNotReady || a.state == cti.AgentStateWorkReady:
			ph, in = dialer.WrapUp, now.Sub(a.since)
		default:
			continue
		}
		snap.Agents = append(snap.Agents, dialer.AgentLoad{ID: a.cfg.AgentID, Phase: ph, InPhase: in})
	}
	if _, ok := c.pool.cfg.Strategy.(dialer.ReservePacer); ok {
		snap.Reserve, snap.InboundRate, snap.Borrow = rs.size, rs.rate, rs.borrow()
		return
	}
	// Hide the reserve's share of the idle agents, and inbound calls.
	hide := min(rs.size, ready)
	kept := snap.Agents[:0]
	for _, al := range snap.Agents {
		if al.Phase == dialer.Ready && hide > 0 {
			hide--
			continue
		}
		kept = append(kept, al)
	}
	snap.Agents = kept
}

// reserveAgentState follows a blended agent: inbound handling times feed
// the model, and a change may change the balance.
func (c *Core) reserveAgentState(a *agentView, prev cti.AgentState, prevSince, now time.Time) {
	if c.reserve == nil || a.cfg.Role != Blended {
		return
	}
	if prev == cti.AgentStateTalking && a.lent {
		c.reserve.r.Handled(now.Sub(prevSince))
	}
	if a.pulled && a.state != cti.AgentStateAvailable {
		// Back on outbound, or taken by ICM on the way: either way no
		// longer on its way.
		a.pulled = false
	}
	switch {
	case c.pool != nil:
		// Any change may free an agent for a waiting customer or take
		// one an answer was counting on.
		c.reserveDecide(now)
	case a.state == cti.AgentStateAvailable, a.state == cti.AgentStateNotReady:
		c.reserveDecide(now)
	}
}
