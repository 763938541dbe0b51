package fabric

import (
	"fmt"
	"time"

	"github.com/ipcclab/ipcclab/emulator/phones"
	"github.com/ipcclab/ipcclab/internal/sim"
)

// phoneNode is the agents' phones (emulator/phones): they ring, go
// off-hook when the agent answers (or at once when asked to), and hang up
// with BYE.
type phoneNode struct {
	f      *Fabric
	phones map[string]*phone
}

type phone struct {
	ext string
	// ringing is the INVITE being offered; leg the call in progress.
	ringing *Message
	ringC   *call
	leg     *Leg
	legC    *call
}

// register binds every phone at CallManager's registrar now and again at
// half the lifetime, as the phones' refresh does.
func (n *phoneNode) register(exts []string) {
	f := n.f
	now := f.sched.Now()
	for _, ext := range exts {
		contact := fmt.Sprintf("sip:%s@%s", ext, NodePhones.Addr())
		if err := f.cm.reg.Register(now, ext, contact, NodePhones.Addr(), registerExpires); err != nil {
			f.logf("phone %s: REGISTER: %v", ext, err)
		}
		if f.cfg.OnSIP != nil {
			ext := ext
			m := request(NodePhones, NodeCallManager, Leg{Kind: LegRegister, Call: extNumber(ext)}, "REGISTER", ext, ext)
			f.send(m, nil)
			f.send(response(m, 200, "OK"), nil)
		}
	}
	sim.After(f.sched, registerEvery, func(time.Time) { n.register(exts) })
}

// extNumber turns an extension into a number for Leg.Call (registrations'
// Call-IDs).
func extNumber(ext string) uint64 {
	var n uint64
	for i := 0; i < len(ext); i++ {
		n = n*31 + uint64(ext[i])
	}
	return n
}

// invite is phones.onInvite: the phone refuses (phones.OfferStatus), rings
// with 180, or — asked to answer at once — goes off-hook.
func (n *phoneNode) invite(c *call, m Message) {
	f := n.f
	ph, known := n.phones[m.ToUser]
	if code, reason := phones.OfferStatus(known, known && (ph.ringing != nil || ph.leg != nil), m.SDP); code != 0 {
		f.send(response(m, code, reason), func() { f.cm.phoneFailed(c, m.ToUser, m.Leg, code) })
		return
	}
	ph.ringing, ph.ringC = &m, c
	if m.AutoAnswer {
		n.offHook(ph)
		return
	}
	f.send(response(m, 180, "Ringing"), func() { f.cm.phoneRinging(c, m.ToUser, m.Leg) })
}

// answer is the agent taking the ringing phone off-hook (phones.Answer).
func (n *phoneNode) answer(ext string) error {
	ph, ok := n.phones[ext]
	if !ok {
		return fmt.Errorf("no emulated phone on %s", ext)
	}
	if ph.ringing == nil {
		return fmt.Errorf("nothing ringing at %s", ext)
	}
	n.offHook(ph)
	return nil
}

func (n *phoneNode) offHook(ph *phone) {
	f := n.f
	m, c := *ph.ringing, ph.ringC
	ph.ringing, ph.ringC = nil, nil
	leg := m.Leg
	ph.leg, ph.legC = &leg, c
	ok := response(m, 200, "OK")
	ok.SDP = true
	f.send(ok, func() { f.cm.phoneAnswered(c, m.ToUser, leg) })
}

// cancel is CallManager's CANCEL: a phone still ringing stops and answers
// 487; one already off-hook ignores it (its 200 OK crossed the CANCEL).
func (n *phoneNode) cancel(ext string, leg Leg, c *call) {
	f := n.f
	ph, ok := n.phones[ext]
	if !ok || ph.ringing == nil || ph.ringing.Leg != leg {
		return
	}
	m := *ph.ringing
	ph.ringing, ph.ringC = nil, nil
	f.send(response(m, 487, "Request Terminated"), func() { f.cm.phoneFailed(c, ext, leg, 487) })
}

// bye is CallManager hanging the phone's call up.
func (n *phoneNode) bye(ext string, leg Leg) {
	if ph, ok := n.phones[ext]; ok && ph.leg != nil && *ph.leg == leg {
		ph.leg, ph.legC = nil, nil
	}
}

// hangup is the agent hanging up (phones.Hangup): BYE.
func (n *phoneNode) hangup(ext string) error {
	f := n.f
	ph, ok := n.phones[ext]
	if !ok || ph.leg == nil {
		return fmt.Errorf("no call at %s", ext)
	}
	leg, c := *ph.leg, ph.legC
	ph.leg, ph.legC = nil, nil
	bye := request(NodePhones, NodeCallManager, leg, "BYE", ext, "")
	f.send(bye, func() { f.cm.phoneHungUp(c, ext, leg) })
	return nil
}
