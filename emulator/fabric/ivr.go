package fabric

import (
	"net/netip"
	"time"

	"github.com/ipcclab/ipcclab/emulator/ivr"
	"github.com/ipcclab/ipcclab/internal/media"
	"github.com/ipcclab/ipcclab/internal/sim"
)

// ivrNode is IP-IVR (emulator/ivr): it answers calls on translation
// routes, collects the caller's digits while the call waits, and transfers
// the call (REFER) when the router picks an agent.
type ivrNode struct {
	f     *Fabric
	ports map[string]*ivrPort // by translation-route DN
	next  uint16              // RTP port numbering for captures
}

// ivrPort is one call at IP-IVR.
type ivrPort struct {
	dn      string
	invite  Message
	c       *call
	collect *ivr.Collector
	rx      media.EventReceiver
	timer   sim.Timer
	closed  bool
	rtpPort uint16
}

func (p *ivrPort) addr() netip.AddrPort {
	return netip.AddrPortFrom(NodeIVR.Addr().Addr(), p.rtpPort)
}

// invite is ivr.onInvite: a translation-route DN already in use is busy;
// otherwise IP-IVR answers, plays its prompt and starts the Get Digit String
// step, whose first wait runs from the answer.
func (v *ivrNode) invite(c *call, m Message) {
	f := v.f
	dn := m.ToUser
	if _, busy := v.ports[dn]; busy {
		f.send(response(m, 486, "Busy Here"), func() { f.cm.ivrFailed(c, m.Leg, 486) })
		return
	}
	v.next++
	p := &ivrPort{dn: dn, invite: m, c: c, collect: ivr.NewCollector(f.cfg.IVR), rtpPort: 20000 + 2*(v.next%6000)}
	v.ports[dn] = p
	f.stats.IVRCalls++
	ok := response(m, 200, "OK")
	ok.SDP = true
	f.send(ok, func() { f.cm.ivrAnswered(c, m.Leg, p) })
	p.timer = sim.After(f.sched, f.cfg.IVR.FirstWait(), func(time.Time) {
		p.timer = 0
		v.settle(p, p.collect.Timeout())
	})
}

// receive reads one RTP packet at port p (ivr: the stream's OnDigit).
func (v *ivrNode) receive(p *ivrPort, b []byte) {
	if p.closed {
		return
	}
	d, ok := readEvent(&p.rx, b)
	if !ok {
		return
	}
	v.f.stats.Digits++
	v.settle(p, p.collect.Digit(d))
}

// settle carries out the collector's step (ivr.settle): re-arm the wait, or
// end collection and report the digits (CallManager's DigitsCollected).
func (v *ivrNode) settle(p *ivrPort, st ivr.Step) {
	f := v.f
	if st.Rearm > 0 {
		f.sched.Cancel(p.timer)
		p.timer = sim.After(f.sched, st.Rearm, func(time.Time) {
			p.timer = 0
			v.settle(p, p.collect.Timeout())
		})
	}
	if !st.Done {
		return
	}
	f.sched.Cancel(p.timer)
	p.timer = 0
	f.stats.DigitStrings++
	if st.Digits != "" {
		dn, digits := p.dn, st.Digits
		// IP-IVR reports to CallManager by function, through the loop.
		f.later(func() { f.cm.digitsCollected(dn, digits) })
	}
}

// connect is ivr.Connect, the router's CONNECT for the call on dn: REFER
// it to label at CallManager.
func (v *ivrNode) connect(dn, label string) {
	f := v.f
	p, ok := v.ports[dn]
	if !ok || p.closed {
		f.logf("ivr: CONNECT for %s: no call there", dn)
		return
	}
	refer := request(NodeIVR, NodeCallManager, p.invite.Leg, "REFER", "ivr", p.invite.FromUser)
	refer.ReferTo = label
	f.stats.Transfers++
	f.send(refer, func() { f.cm.referred(p.c, p.invite.Leg, refer) })
}

// bye: CallManager hung IP-IVR's leg up (the agent has the call, or the
// caller left).
func (v *ivrNode) bye(p *ivrPort) { v.drop(p) }

func (v *ivrNode) drop(p *ivrPort) {
	if p.closed {
		return
	}
	p.closed = true
	v.f.sched.Cancel(p.timer)
	p.timer = 0
	if v.ports[p.dn] == p {
		delete(v.ports, p.dn)
	}
}
