package fabric

import (
	"time"

	"github.com/ipcclab/ipcclab/emulator/gateway"
	"github.com/ipcclab/ipcclab/emulator/pstn"
	"github.com/ipcclab/ipcclab/internal/sim"
)

// gatewayNode is the voice gateway (emulator/gateway): PSTN-model callers
// placed toward CallManager, predictive calls answered from the PSTN model.
type gatewayNode struct {
	f        *Fabric
	draws    *gateway.Draws
	byCaller map[*pstn.Caller]*inbound
}

// inbound is a PSTN-model caller's call (gateway.Arrive's goroutine).
type inbound struct {
	cl      *pstn.Caller
	account string
	invite  Message
	// c is CallManager's call, once the route point took it.
	c *call
	// up: the INVITE was answered; over: the leg ended (or failed).
	up, over bool
	// gone: the caller hung up (Abandon) — CANCEL or BYE sent.
	gone bool
	// media is where the caller's RTP goes: the IVR port that answered,
	// nil when it is a phone (or nobody yet).
	media *ivrPort
	// keyed: the account digits were sent.
	keyed bool
}

// arrive is gateway.Arrive: the caller's draws, then an INVITE to the
// dialed number at CallManager.
func (g *gatewayNode) arrive(cl *pstn.Caller) {
	f := g.f
	account, _ := g.draws.Caller() // the sound seed: no caller audio is analysed
	in := &inbound{cl: cl, account: account}
	g.byCaller[cl] = in
	f.stats.InboundModel++
	in.invite = request(NodeGateway, NodeCallManager, Leg{Kind: LegCaller, Call: cl.ID}, "INVITE", cl.ANI, cl.DialedNumber)
	in.invite.SDP = true
	f.send(in.invite, func() { f.cm.invite(in) })
}

// abandon is gateway.Abandon: CANCEL while the INVITE is pending, BYE once
// answered.
func (g *gatewayNode) abandon(cl *pstn.Caller) {
	in := g.byCaller[cl]
	if in == nil || in.gone {
		return
	}
	in.gone = true
	f := g.f
	if in.over {
		return
	}
	if !in.up {
		cancel := in.invite
		cancel.Method = "CANCEL"
		cancel.SDP = false
		f.send(cancel, func() { f.cm.callerCancelled(in) })
		return
	}
	bye := request(NodeGateway, NodeCallManager, in.invite.Leg, "BYE", cl.ANI, cl.DialedNumber)
	in.over = true
	f.send(bye, func() { f.cm.callerBye(in) })
}

// answered: CallManager's 200 OK for the caller's INVITE, with the media
// of who answered (an IVR port, or a phone: nil). A caller who hung up in
// the meantime says BYE; one answered by IP-IVR keys the account after the
// welcome prompt.
func (g *gatewayNode) answered(in *inbound, at *ivrPort) {
	f := g.f
	in.up = true
	in.media = at
	f.trace(request(NodeGateway, NodeCallManager, in.invite.Leg, "ACK", in.invite.FromUser, in.invite.ToUser))
	if in.gone {
		in.over = true
		bye := request(NodeGateway, NodeCallManager, in.invite.Leg, "BYE", in.invite.FromUser, in.invite.ToUser)
		f.send(bye, func() { f.cm.callerBye(in) })
		return
	}
	if at != nil {
		sim.After(f.sched, gateway.CallerKeyDelay, func(time.Time) {
			if !in.over && !in.keyed {
				in.keyed = true
				f.keyDigits(in, in.account+"#")
			}
		})
	}
}

// reinvited: CallManager moved the caller's media (to a phone).
func (g *gatewayNode) reinvited(in *inbound, at *ivrPort) { in.media = at }

// failed: the caller's INVITE got a final error. The real gateway counts
// it unless it was the 487 of its own CANCEL.
func (g *gatewayNode) failed(in *inbound, status int) {
	in.over = true
	delete(g.byCaller, in.cl)
	if status != 487 {
		g.f.stats.InboundFailed++
	}
}

// ended: CallManager hung the caller's leg up (BYE).
func (g *gatewayNode) ended(in *inbound) {
	in.over = true
	delete(g.byCaller, in.cl)
}

// ---- outbound: trunk → PSTN model ----

// outbound is a predictive call the gateway took (gateway.toModel).
type outbound struct {
	c      *call
	invite Message
	callee *pstn.Callee
	// up: answered (200 sent); over: finished.
	up, over bool
}

// offered takes CallManager's INVITE of a predictive call: the PSTN model
// decides the fate, which comes back as 180, 200, or 183 + final error
// (gateway.toModel and reject).
func (g *gatewayNode) offered(c *call, invite Message) {
	f := g.f
	f.stats.Outbound++
	o := &outbound{c: c, invite: invite}
	c.gwOut = o
	g.draws.Callee() // the far end's sound seed: no outbound audio is analysed in the simulation
	o.callee = f.cen.PSTN().Dial(invite.ToUser, 0, pstn.DialHandler{
		Alerting: func() {
			if o.over {
				return
			}
			m := response(invite, 180, "Ringing")
			m.SDP = true // ringback as early media
			f.send(m, func() { f.cm.dialProgress(c, 180) })
		},
		Answered: func() {
			if o.over {
				return
			}
			o.up = true
			f.stats.OutboundAnswered++
			m := response(invite, 200, "OK")
			m.SDP = true
			f.send(m, func() { f.cm.dialAnswered(c) })
			o.callee.Connected() // the customer talks, then hangs up
		},
		Failed: func(out pstn.Outcome) {
			if o.over {
				return
			}
			g.reject(o, out)
		},
		HungUp: func() {
			if o.over {
				return
			}
			o.over = true
			bye := request(NodeGateway, NodeCallManager, invite.Leg, "BYE", invite.ToUser, invite.FromUser)
			f.send(bye, func() { f.cm.dialBye(c) })
		},
	})
}

// reject plays the failure's in-band tone in a 183 where the network would,
// then sends the mapped final response (gateway.reject; the decision is
// gateway.Reject).
func (g *gatewayNode) reject(o *outbound, out pstn.Outcome) {
	f := g.f
	f.stats.OutboundRejected++
	rj := gateway.Reject(out, f.cfg.Causes)
	final := func() {
		if o.over {
			return
		}
		o.over = true
		m := response(o.invite, rj.Status, rj.Reason)
		m.Cause = rj.Cause
		f.send(m, func() { f.cm.dialFailed(o.c, rj.Status) })
	}
	if !rj.HasEarly {
		final()
		return
	}
	m := response(o.invite, 183, "Session Progress")
	m.SDP = true
	f.send(m, func() { f.cm.dialProgress(o.c, 183) })
	sim.After(f.sched, rj.Hold, func(time.Time) { final() })
}

// cancelled: CallManager's CANCEL (its ring limit, or the call cleared):
// the customer leaves the PSTN model and the INVITE ends 487.
func (g *gatewayNode) cancelled(o *outbound, status int) {
	f := g.f
	if o.over || o.up {
		return // too late: the final response crossed the CANCEL
	}
	o.over = true
	f.stats.Canceled++
	o.callee.Drop()
	m := response(o.invite, 487, "Request Terminated")
	f.send(m, func() { f.cm.dialFailed(o.c, status) })
}

// hungUp: CallManager's BYE on an answered predictive call (the agent or the
// CTI port hung up): the customer leaves the PSTN model.
func (g *gatewayNode) hungUp(o *outbound) {
	if o.over {
		return
	}
	o.over = true
	o.callee.Drop()
}
