package controller

import (
	"time"

	"github.com/ipcclab/ipcclab/controller/blend"
	"github.com/ipcclab/ipcclab/controller/dialer"
	"github.com/ipcclab/ipcclab/protocol/cti"
)

// Reserve mode (Config.Reserve) blends by the threshold policy of
// controller/blend's reserve.go: it keeps r blended agents lent to ICM and
// idle, sized from the measured inbound rate and handling time, and gives
// every other blended agent outbound work. A lent agent that finishes an
// inbound call goes back to outbound at once when more than r lent agents
// are idle; when fewer are, idle outbound agents are lent, and if none is
// idle the pool keeps the missing number out of the pacing strategy's sight
// (poolEarmark) so they come free with no customer waiting.

// reserveSlack is how many idle lent agents above r stay lent.
const reserveSlack = 1

type reserveState struct {
	r       *blend.Reserve
	earmark int
	lends   int
	returns int
}

// isLent reports whether the agent is lent to ICM (either blending mode).
func (c *Core) isLent(a *agentView) bool {
	if c.reserve != nil {
		return a.lent
	}
	return c.policy != nil && c.policy.IsLent(a.cfg.AgentID)
}

// reserveDecide brings the idle lent agents to the reserve size.
func (c *Core) reserveDecide(now time.Time) {
	rs := c.reserve
	if rs == nil || !c.open {
		return
	}
	var blended, idleLent, idleOut []*agentView
	for _, a := range c.order {
		if a.cfg.Role != Blended || !a.inICM || !a.loggedOn {
			continue
		}
		blended = append(blended, a)
		// An agent found Available (a desktop, a restart) is ICM's
		// already: count it as lent.
		if a.state == cti.AgentStateAvailable {
			a.lent = true
		}
		switch {
		case a.lent && a.state == cti.AgentStateAvailable:
			idleLent = append(idleLent, a)
		case !a.lent && a.state == cti.AgentStateNotReady && a.poolCall == 0 && a.reserved == 0 && a.outCall == 0 && !a.wrapping:
			idleOut = append(idleOut, a)
		}
	}
	r, _ := rs.r.Size(now, len(blended))
	base := r
	// Callers already queued need agents now, beyond what the model
	// keeps for the ones still to come.
	for _, g := range c.groups {
		if g.seen {
			r += int(g.queued)
		}
	}
	queued := r - base
	r = min(r, len(blended))
	rs.earmark = 0
	switch {
	case len(idleLent) < r:
		need := r - len(idleLent)
		// An idle outbound agent is usually the one a customer already
		// ringing was dialed for: take it only when callers are queued and
		// no lent agent at all is free; otherwise keep the missing agents
		// out of the pacing (earmark) so they come free with nobody
		// waiting.
		if len(idleLent) == 0 && queued > 0 {
			for _, a := range idleOut {
				if need == 0 {
					break
				}
				c.reserveMove(a, true, now)
				need--
			}
		}
		rs.earmark = need
		// An earmarked agent that has come free is lent unless the
		// customers already on their way need it.
		for _, a := range idleOut {
			if need == 0 {
				break
			}
			if a.earmarked && c.poolCanSpare(a, now) {
				c.reserveMove(a, true, now)
				need--
			}
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
	a.moved = now
	c.request(req, pending{kind: reqSetState, agent: a.cfg.AgentID})
}

// reserveAgentState follows a blended agent: inbound handling times feed
// the model, and a lent agent freeing up may change the balance.
func (c *Core) reserveAgentState(a *agentView, prev cti.AgentState, prevSince, now time.Time) {
	if c.reserve == nil || a.cfg.Role != Blended {
		return
	}
	if prev == cti.AgentStateTalking && a.lent {
		c.reserve.r.Handled(now.Sub(prevSince))
	}
	switch a.state {
	case cti.AgentStateAvailable, cti.AgentStateNotReady:
		c.reserveDecide(now)
	}
}

// poolCanSpare reports whether the campaign's live answers on their way can
// be served without agent a: the other ready campaign agents cover the
// customers waiting and the calls still ringing at the live rate seen.
func (c *Core) poolCanSpare(a *agentView, now time.Time) bool {
	p := c.pool
	if p == nil {
		return true
	}
	ready := 0
	for _, b := range c.order {
		if b == a {
			continue
		}
		if ph, _, ok := c.poolPhaseOf(b, now); ok && ph == dialer.Ready {
			ready++
		}
	}
	var demand float64
	live := 0.3
	if p.ab.LiveAnswered > 0 && c.report.Attempts > 0 {
		live = float64(p.ab.LiveAnswered) / float64(c.report.Attempts)
	}
	for _, pc := range p.calls {
		switch pc.phase {
		case poolWaiting:
			demand++
		case poolDialing:
			demand += live
		}
	}
	return float64(ready) >= demand
}
