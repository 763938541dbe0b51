package fabric

import (
	"time"

	"github.com/ipcclab/ipcclab/emulator/callmanager"
	"github.com/ipcclab/ipcclab/emulator/centre"
	"github.com/ipcclab/ipcclab/emulator/pg"
	"github.com/ipcclab/ipcclab/emulator/pstn"
	"github.com/ipcclab/ipcclab/internal/sim"
)

// callManager is CallManager's B2BUA (emulator/callmanager): each method
// below mirrors the adapter's function of the same name or role, with its
// decisions taken by the same pure code (dialplan.go, registrar.go there).
type callManager struct {
	f     *Fabric
	plan  *callmanager.DialPlan
	reg   *callmanager.Registrar
	calls map[uint32]*call
	byTR  map[string]*call
	trs   *callmanager.TranslationRoutes
}

// call is one call CallManager carries (the adapter's call).
type call struct {
	id       uint32
	ani      string
	outbound bool

	// the customer's leg: an inbound caller's INVITE, answered (200 sent
	// or, outbound, received) and still up.
	in         *inbound
	answered   bool
	callerUp   bool
	inviteDone bool // a final response went to the caller's INVITE

	// IP-IVR
	tr  string
	ivr *ivrPort

	// the agent's phone: the pending INVITE (phonePending) or the answered
	// leg (phone), both phoneLeg.
	ext          string
	phoneLeg     Leg
	phonePending bool
	phone        bool
	alerted      bool
	legs         uint32

	// predictive call
	dial        pstn.DialHandler
	dialInvite  Message
	dialPending bool
	ringTimer   sim.Timer
	gwOut       *outbound
	alerting    bool

	ended bool
}

func (c *call) nextLeg(kind LegKind) Leg {
	c.legs++
	return Leg{Kind: kind, Call: uint64(c.id), N: c.legs}
}

func (cm *callManager) carries(callID uint32) bool {
	c, ok := cm.calls[callID]
	return ok && !c.ended
}

// ---- inbound: gateway → route point → IVR → phone ----

// invite is onInvite and routePoint: the dial plan decides; a route point
// gives the call to the PG and the router, and the call queues at IP-IVR
// unless an agent is already reserved. In the simulation only PSTN-model
// callers dial in, and they dial route points: a line's extension is
// reached only by a SIP dialer's transfer (the real driver), and answered
// 404 here like a number not in the plan.
func (cm *callManager) invite(in *inbound) {
	f := cm.f
	m := in.invite
	if f.cfg.OnSIP != nil {
		f.send(response(m, 100, "Trying"), nil)
	}
	if cm.plan.Route(m.ToUser) != callmanager.DestRoutePoint {
		f.stats.NoRoute++
		f.send(response(m, 404, "Not Found"), func() { f.gw.failed(in, 404) })
		return
	}
	id, err := f.cen.Incoming(centre.InboundCall{ANI: m.FromUser, DNIS: m.ToUser, DialedNumber: m.ToUser, Caller: in.cl})
	if err != nil {
		f.logf("callmanager: route point %s: %v", m.ToUser, err)
		f.send(response(m, 503, "Service Unavailable"), func() { f.gw.failed(in, 503) })
		return
	}
	f.stats.Inbound++
	c := &call{id: id, ani: m.FromUser, in: in}
	cm.calls[id] = c
	in.c = c
	if !callmanager.QueuesAtIVR(f.cen.PG().Call(id)) {
		return
	}
	cm.toIVR(c)
}

// callerCancelled: the gateway's CANCEL (the caller gave up before
// anyone answered): 487 to the INVITE, and the caller is gone.
func (cm *callManager) callerCancelled(in *inbound) {
	f := cm.f
	c := in.c
	if c == nil || c.inviteDone {
		return // already refused, or answered (the BYE follows)
	}
	c.inviteDone = true
	f.send(response(in.invite, 487, "Request Terminated"), func() { f.gw.failed(in, 487) })
	cm.callerGone(c)
}

// callerBye: the caller hung up an answered call.
func (cm *callManager) callerBye(in *inbound) {
	f := cm.f
	if f.cfg.OnSIP != nil {
		f.send(response(request(NodeGateway, NodeCallManager, in.invite.Leg, "BYE", in.invite.FromUser, in.invite.ToUser), 200, "OK"), nil)
	}
	c := in.c
	if c == nil {
		return
	}
	c.callerUp = false
	cm.callerGone(c)
}

func (cm *callManager) callerGone(c *call) {
	if c.ended {
		return
	}
	if c.outbound {
		if c.dial.HungUp != nil {
			c.dial.HungUp()
		}
	} else {
		cm.f.cen.Hangup(c.id)
	}
	cm.f.later(func() { cm.reconcile(c) })
}

// toIVR sends the caller to a translation route on IP-IVR.
func (cm *callManager) toIVR(c *call) {
	f := cm.f
	if c.ended || c.ivr != nil || c.tr != "" {
		return
	}
	tr, ok := cm.trs.Take()
	if !ok {
		f.logf("callmanager: call %d: no free translation route to IP-IVR", c.id)
		f.cen.Hangup(c.id)
		cm.reconcile(c)
		return
	}
	c.tr = tr
	cm.byTR[tr] = c
	f.stats.ToIVR++
	m := request(NodeCallManager, NodeIVR, c.nextLeg(LegIVR), "INVITE", c.ani, tr)
	m.SDP = true
	f.send(m, func() { f.ivr.invite(c, m) })
}

// ivrAnswered: IP-IVR's 200 OK. The caller's media goes there — the
// caller's INVITE is answered now if it was not yet.
func (cm *callManager) ivrAnswered(c *call, leg Leg, p *ivrPort) {
	f := cm.f
	f.trace(request(NodeCallManager, NodeIVR, leg, "ACK", c.ani, p.dn))
	if c.ended || c.phone && c.answered {
		cm.byeIVR(c, p)
		return
	}
	c.ivr = p
	cm.connectCaller(c, p)
}

// ivrFailed: IP-IVR refused the call.
func (cm *callManager) ivrFailed(c *call, leg Leg, status int) {
	f := cm.f
	f.logf("callmanager: call %d: IP-IVR: %d", c.id, status)
	cm.releaseTR(c)
	if !c.answered {
		f.cen.Hangup(c.id)
		cm.reconcile(c)
	}
}

// byeIVR hangs IP-IVR's leg up; the translation route is free once the leg
// has ended (the adapter's ivrGone).
func (cm *callManager) byeIVR(c *call, p *ivrPort) {
	f := cm.f
	bye := request(NodeCallManager, NodeIVR, p.invite.Leg, "BYE", c.ani, p.dn)
	f.send(bye, func() {
		f.ivr.bye(p)
		if f.cfg.OnSIP != nil {
			f.send(response(bye, 200, "OK"), nil)
		}
		if c.ivr == p {
			c.ivr = nil
		}
		cm.releaseTR(c)
	})
}

// connectCaller points the customer's media at IP-IVR's port p, or at the
// phone (p nil): the 200 OK of the caller's INVITE the first time, a
// re-INVITE afterwards.
func (cm *callManager) connectCaller(c *call, p *ivrPort) {
	f := cm.f
	if c.outbound {
		m := request(NodeCallManager, NodeGateway, c.dialInvite.Leg, "INVITE", c.dialInvite.FromUser, c.dialInvite.ToUser)
		m.SDP = true
		cm.reinvite(m, nil)
		return
	}
	in := c.in
	if !c.answered {
		c.answered, c.inviteDone, c.callerUp = true, true, true
		ok := response(in.invite, 200, "OK")
		ok.SDP = true
		f.send(ok, func() { f.gw.answered(in, p) })
		return
	}
	if c.callerUp {
		m := request(NodeCallManager, NodeGateway, in.invite.Leg, "INVITE", in.invite.ToUser, in.invite.FromUser)
		m.SDP = true
		cm.reinvite(m, func() { f.gw.reinvited(in, p) })
	}
}

// reinvite sends a re-INVITE; deliver runs at the receiver, whose 200 OK
// and the ACK are seen only by OnSIP (nothing waits on them).
func (cm *callManager) reinvite(m Message, deliver func()) {
	f := cm.f
	m.InDialog = true
	f.send(m, func() {
		if deliver != nil {
			deliver()
		}
		if f.cfg.OnSIP != nil {
			ok := response(m, 200, "OK")
			ok.SDP = true
			ack := request(m.From, m.To, m.Leg, "ACK", m.FromUser, m.ToUser)
			ack.InDialog = true
			f.send(ok, func() { f.trace(ack) })
		}
	})
}

func (cm *callManager) releaseTR(c *call) {
	if c.tr == "" {
		return
	}
	delete(cm.byTR, c.tr)
	cm.trs.Release(c.tr)
	c.tr = ""
}

// digitsCollected is IP-IVR reporting what the caller on dn keyed.
func (cm *callManager) digitsCollected(dn, digits string) {
	if c, ok := cm.byTR[dn]; ok && !c.ended {
		if err := cm.f.cen.CollectedDigits(c.id, digits); err != nil {
			cm.f.logf("callmanager: call %d: digits: %v", c.id, err)
		}
	}
}

// transfer is the router's delivery: a caller at IP-IVR is transferred by
// the IVR (CONNECT → REFER), any other call by CallManager itself.
func (cm *callManager) transfer(callID uint32, device string) {
	f := cm.f
	c, ok := cm.calls[callID]
	if !ok || c.ended {
		f.cen.PG().TransferFailed(callID)
		return
	}
	if c.ivr != nil {
		dn := c.tr
		c.ext = device
		f.later(func() { f.ivr.connect(dn, device) })
		return
	}
	cm.ringPhone(c, device, false)
}

// referred: IP-IVR's REFER (202 Accepted), the phone rings.
func (cm *callManager) referred(c *call, leg Leg, refer Message) {
	f := cm.f
	f.send(response(refer, 202, "Accepted"), nil)
	if c.ended {
		return
	}
	cm.ringPhone(c, refer.ReferTo, false)
}

// ringPhone INVITEs the phone registered on ext with the customer's media
// as the offer; autoAnswer asks it to go off-hook at once.
func (cm *callManager) ringPhone(c *call, ext string, autoAnswer bool) {
	f := cm.f
	if _, ok := cm.reg.Lookup(f.sched.Now(), ext); !ok {
		f.stats.NoPhone++
		f.logf("callmanager: call %d: no phone registered on %s", c.id, ext)
		if !c.outbound {
			f.cen.PG().TransferFailed(c.id)
		} else {
			_ = f.cen.PG().ClearConnection(c.id, ext)
			cm.reconcile(c)
		}
		return
	}
	f.stats.ToPhone++
	leg := c.nextLeg(LegPhone)
	c.ext, c.phoneLeg, c.phonePending, c.alerted = ext, leg, true, false
	m := request(NodeCallManager, NodePhones, leg, "INVITE", c.ani, ext)
	m.SDP, m.AutoAnswer = true, autoAnswer
	f.send(m, func() { f.phones.invite(c, m) })
}

func (cm *callManager) phoneRinging(c *call, ext string, leg Leg) {
	f := cm.f
	if c.ended || c.ext != ext || c.alerted || c.outbound {
		return
	}
	c.alerted = true
	if !c.answered && c.in != nil && f.cfg.OnSIP != nil {
		f.send(response(c.in.invite, 180, "Ringing"), nil) // ringback; nothing waits on it
	}
	if !f.cen.PG().DeviceAlerting(c.id) {
		cm.cancelPhone(c)
	}
}

// phoneFailed: the phone refused the INVITE, or answered our CANCEL with
// 487.
func (cm *callManager) phoneFailed(c *call, ext string, leg Leg, status int) {
	f := cm.f
	if c.ext == ext && !c.phone {
		c.phonePending = false
		if !c.alerted && !c.outbound && !c.ended {
			f.logf("callmanager: call %d: phone %s: %d", c.id, ext, status)
			f.cen.PG().TransferFailed(c.id)
		}
		// Alerting and then refused or cancelled: RONA or the caller's
		// hang-up takes it from here.
	}
}

// phoneAnswered: the phone's 200 OK — the agent answered (or the phone
// auto-answered a predictive call).
func (cm *callManager) phoneAnswered(c *call, ext string, leg Leg) {
	f := cm.f
	f.trace(request(NodeCallManager, NodePhones, leg, "ACK", c.ani, ext))
	if c.ended || c.ext != ext {
		cm.byePhone(ext, leg)
		return
	}
	f.stats.PhoneAnswered++
	c.phone, c.phoneLeg, c.phonePending = true, leg, false
	p := f.cen.PG()
	if !c.outbound {
		if !c.alerted {
			c.alerted = true
			if !p.DeviceAlerting(c.id) {
				cm.byePhone(ext, leg)
				c.phone = false
				return
			}
		}
		if err := p.AnswerCall(ext, c.id); err != nil {
			f.logf("callmanager: call %d: answer at %s: %v", c.id, ext, err)
			cm.byePhone(ext, leg)
			c.phone = false
			f.later(func() { cm.reconcile(c) })
			return
		}
	}
	// The customer now talks to the phone; IP-IVR is done with the call.
	cm.connectCaller(c, nil)
	if ivr := c.ivr; ivr != nil {
		c.ivr = nil
		if f.cfg.OnSIP != nil {
			f.send(request(NodeCallManager, NodeIVR, ivr.invite.Leg, "NOTIFY", c.ani, ivr.dn), nil)
		}
		cm.byeIVR(c, ivr)
		cm.releaseTR(c)
	}
	f.later(func() { cm.reconcile(c) })
}

func (cm *callManager) byePhone(ext string, leg Leg) {
	f := cm.f
	bye := request(NodeCallManager, NodePhones, leg, "BYE", "", ext)
	f.send(bye, func() {
		f.phones.bye(ext, leg)
		if f.cfg.OnSIP != nil {
			f.send(response(bye, 200, "OK"), nil)
		}
	})
}

// phoneHungUp: the phone's BYE — the agent hung up.
func (cm *callManager) phoneHungUp(c *call, ext string, leg Leg) {
	f := cm.f
	if f.cfg.OnSIP != nil {
		f.send(response(request(NodePhones, NodeCallManager, leg, "BYE", ext, ""), 200, "OK"), nil)
	}
	if !c.phone || c.phoneLeg != leg {
		return
	}
	c.phone = false
	if !c.ended {
		_ = f.cen.PG().ClearConnection(c.id, c.ext)
	}
	f.later(func() { cm.reconcile(c) })
}

func (cm *callManager) cancelPhone(c *call) {
	f := cm.f
	if c.phonePending {
		c.phonePending = false
		ext, leg := c.ext, c.phoneLeg
		m := request(NodeCallManager, NodePhones, leg, "CANCEL", c.ani, ext)
		f.send(m, func() { f.phones.cancel(ext, leg, c) })
	}
	if c.phone {
		c.phone = false
		cm.byePhone(c.ext, c.phoneLeg)
	}
	c.alerted = false
}

// pgEvent watches the PG: when a call leaves the agent or ends, the legs
// follow (reconcile); hold and retrieve re-INVITE the customer.
func (cm *callManager) pgEvent(e pg.Event) {
	id, act := callmanager.LegActionOf(e)
	switch act {
	case callmanager.LegsHold, callmanager.LegsRetrieve:
		cm.hold(id)
	case callmanager.LegsReconcile:
		if c, ok := cm.calls[id]; ok {
			cm.f.later(func() { cm.reconcile(c) })
		}
	}
}

// hold re-INVITEs the customer (sendonly on hold, sendrecv on retrieve);
// with no media in the simulation only the signalling is there to see.
func (cm *callManager) hold(callID uint32) {
	c, ok := cm.calls[callID]
	if !ok || c.ended || !c.callerUp || !c.phone || c.in == nil {
		return
	}
	m := request(NodeCallManager, NodeGateway, c.in.invite.Leg, "INVITE", c.in.invite.ToUser, c.in.invite.FromUser)
	m.SDP = true
	cm.reinvite(m, nil)
}

// reconcile makes the legs agree with the PG's view of the call.
func (cm *callManager) reconcile(c *call) {
	if c.ended {
		return
	}
	ci, live := cm.f.cen.PG().Call(c.id)
	if !live {
		cm.endCall(c)
		return
	}
	if c.outbound || c.ext == "" {
		return
	}
	// After RONA (or TransferFailed) the PG has taken the call back to the
	// IVR: stop ringing, and queue the caller at IP-IVR again.
	if !cm.plan.AtAgent(ci, c.ext) && (c.phone || c.phonePending) {
		cm.cancelPhone(c)
		c.ext = ""
		if c.ivr == nil && c.tr == "" {
			cm.toIVR(c)
		}
	}
}

func (cm *callManager) endCall(c *call) {
	f := cm.f
	c.ended = true
	delete(cm.calls, c.id)
	cm.cancelPhone(c)
	f.sched.Cancel(c.ringTimer)
	c.ringTimer = 0
	if c.dialPending {
		cm.cancelDial(c, 487)
	}
	if c.callerUp {
		c.callerUp = false
		if c.outbound {
			o := c.gwOut
			bye := request(NodeCallManager, NodeGateway, c.dialInvite.Leg, "BYE", c.dialInvite.FromUser, c.dialInvite.ToUser)
			f.send(bye, func() {
				f.trace(response(bye, 200, "OK"))
				if o != nil {
					f.gw.hungUp(o)
				}
			})
		} else {
			in := c.in
			bye := request(NodeCallManager, NodeGateway, in.invite.Leg, "BYE", in.invite.ToUser, in.invite.FromUser)
			f.send(bye, func() {
				f.trace(response(bye, 200, "OK"))
				f.gw.ended(in)
			})
		}
	}
	if p := c.ivr; p != nil {
		c.ivr = nil
		cm.byeIVR(c, p)
	}
	cm.releaseTR(c)
	if c.in != nil && !c.answered && !c.inviteDone {
		c.inviteDone = true
		in := c.in
		code, reason := callmanager.UnansweredStatus(0)
		f.send(response(in.invite, code, reason), func() { f.gw.failed(in, code) })
	}
}

// ---- outbound: PG predictive call → gateway → customer → agent phone ----

// dial is Dial: a CTI port INVITEs the gateway, with the request's ring
// limit enforced by CANCEL (the port's INVITE then ends 408).
func (cm *callManager) dial(r pg.DialRequest, h pstn.DialHandler) {
	f := cm.f
	c := &call{id: r.CallID, outbound: true, dial: h}
	cm.calls[r.CallID] = c
	f.stats.Predictive++
	m := request(NodeCallManager, NodeGateway, c.nextLeg(LegDial), "INVITE", "ctiport", r.DialedNumber)
	m.SDP = true
	c.dialInvite, c.dialPending = m, true
	if r.RingTimeout > 0 {
		c.ringTimer = sim.After(f.sched, r.RingTimeout, func(time.Time) {
			c.ringTimer = 0
			if c.dialPending {
				cm.cancelDial(c, 408)
			}
		})
	}
	f.send(m, func() { f.gw.offered(c, m) })
}

// cancelDial CANCELs the port's pending INVITE; status is what the port
// makes of it (408 at its ring limit, 487 when it gave up itself).
func (cm *callManager) cancelDial(c *call, status int) {
	f := cm.f
	c.dialPending = false
	cancel := c.dialInvite
	cancel.Method, cancel.SDP = "CANCEL", false
	f.send(cancel, func() {
		if o := c.gwOut; o != nil {
			f.gw.cancelled(o, status)
		}
	})
}

// dialProgress: a 1xx from the gateway. Only 180 is the far end ringing;
// 183 is in-band information (busy tone, SIT) before a failure.
func (cm *callManager) dialProgress(c *call, code int) {
	if code != 180 {
		return
	}
	if !c.alerting && !c.ended && c.dial.Alerting != nil {
		c.alerting = true
		c.dial.Alerting()
	}
}

// dialAnswered: the customer answered (dialed): the PG connects the agent
// or line, whose phone is rung with auto-answer.
func (cm *callManager) dialAnswered(c *call) {
	f := cm.f
	c.dialPending = false
	f.sched.Cancel(c.ringTimer)
	c.ringTimer = 0
	f.trace(request(NodeCallManager, NodeGateway, c.dialInvite.Leg, "ACK", c.dialInvite.FromUser, c.dialInvite.ToUser))
	if c.ended {
		o := c.gwOut
		bye := request(NodeCallManager, NodeGateway, c.dialInvite.Leg, "BYE", c.dialInvite.FromUser, c.dialInvite.ToUser)
		f.send(bye, func() {
			f.trace(response(bye, 200, "OK"))
			if o != nil {
				f.gw.hungUp(o)
			}
		})
		return
	}
	c.callerUp, c.answered = true, true
	if c.dial.Answered != nil {
		c.dial.Answered()
	}
	ci, live := f.cen.PG().Call(c.id)
	if !live {
		cm.endCall(c) // abandoned: no agent was free
		return
	}
	ext := ci.Line
	if ext == "" {
		ext = cm.plan.AgentExtension(ci.AgentID)
	}
	if ext == "" {
		f.logf("callmanager: predictive call %d: no device to connect", c.id)
		return
	}
	cm.ringPhone(c, ext, true)
}

// dialFailed: the port's INVITE ended with status (failDial).
func (cm *callManager) dialFailed(c *call, status int) {
	f := cm.f
	f.trace(request(NodeCallManager, NodeGateway, c.dialInvite.Leg, "ACK", c.dialInvite.FromUser, c.dialInvite.ToUser))
	c.dialPending = false
	if c.ended {
		return
	}
	delete(cm.calls, c.id)
	c.ended = true
	f.sched.Cancel(c.ringTimer)
	c.ringTimer = 0
	if c.dial.Failed != nil {
		c.dial.Failed(callmanager.OutcomeOf(status))
	}
}

// dialBye: the customer hung up an answered predictive call.
func (cm *callManager) dialBye(c *call) {
	f := cm.f
	if f.cfg.OnSIP != nil {
		f.send(response(request(NodeGateway, NodeCallManager, c.dialInvite.Leg, "BYE", c.dialInvite.ToUser, c.dialInvite.FromUser), 200, "OK"), nil)
	}
	c.callerUp = false
	cm.callerGone(c)
}
