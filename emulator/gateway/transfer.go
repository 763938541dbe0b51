package gateway

import (
	"context"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/ipcclab/ipcclab/internal/rtpio"
	"github.com/ipcclab/ipcclab/internal/sipnode"
)

// Blind transfer of an answered outbound call (RFC 3515, RFC 5589 §6): the
// dialer that placed the call sends REFER with Refer-To
// sip:<extension>@<CallManager> once it has found a live person. The
// gateway answers 202, INVITEs CallManager for the Refer-To user (the
// URI's X- headers, the call variables, go along), and when that leg is
// answered re-anchors the customer's media on it: the stream that carried
// the customer to the dialer now sends to and accepts from the agent's
// phone. It reports the progress with NOTIFY (message/sipfrag: 100 Trying,
// then the INVITE's final status). The dialer releases its leg with BYE on
// the NOTIFY 200; if it does not within referByeWait the gateway does. A
// failed transfer leaves the customer on the dialer's leg (the dialer plays
// its safe-harbour message); a dialer hanging up while the transfer is
// pending cancels it and the customer is gone.

// referByeWait is how long the dialer has to release its leg after a
// successful transfer.
const referByeWait = 5 * time.Second

// outCall is an answered outbound call from the trunk to the PSTN model.
type outCall struct {
	g      *Gateway
	number string // the customer's number: From of the transfer INVITE
	st     *rtpio.Stream
	hs     *holdable
	drop   func() // the customer leaves the PSTN model
	seed   uint64

	mu          sync.Mutex
	leg         *sipnode.Leg // the trunk leg that placed the call
	xleg        *sipnode.Leg // the transfer target's leg, once answered
	xcancel     context.CancelFunc
	transferred bool
	over        bool
	done        chan struct{} // closed when the call is over
}

// end finishes the call once: the customer leaves the PSTN model if drop,
// the media stream closes.
func (oc *outCall) end(drop bool) {
	oc.mu.Lock()
	if oc.over {
		oc.mu.Unlock()
		return
	}
	oc.over = true
	cancel := oc.xcancel
	oc.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	if drop {
		oc.drop()
	}
	_ = oc.st.Close()
	close(oc.done)
}

// reinvite: a re-INVITE on the placing leg moves or holds the customer's
// media, until a transfer took the media elsewhere.
func (oc *outCall) reinvite(l *sipnode.Leg, o sipnode.Media) {
	oc.mu.Lock()
	moved := oc.transferred
	oc.mu.Unlock()
	if !moved {
		oc.hs.offer(o)
	}
}

// legEnded: the placing leg ended. After a transfer that is the dialer
// letting go; before, the dialer (or CTI port) hung up on the customer —
// and a transfer still pending is cancelled.
func (oc *outCall) legEnded(l *sipnode.Leg, why sipnode.EndReason) {
	oc.mu.Lock()
	moved := oc.transferred
	oc.mu.Unlock()
	if moved {
		return
	}
	oc.end(why == sipnode.EndRemoteBye)
}

// xlegEnded: the transfer target's leg ended (the agent hung up, the call
// was cleared — or we hung it up for the customer).
func (oc *outCall) xlegEnded(l *sipnode.Leg, why sipnode.EndReason) {
	oc.end(why == sipnode.EndRemoteBye)
}

// hangUp: the customer hung up (the PSTN model's call ended).
func (oc *outCall) hangUp() {
	oc.mu.Lock()
	leg := oc.leg
	if oc.transferred {
		leg = oc.xleg
	}
	cancel := oc.xcancel
	oc.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	if leg != nil {
		_ = leg.Bye(oc.g.ctx)
	}
	oc.end(false)
}

// refer takes a REFER on the placing leg (on the node's goroutine).
func (oc *outCall) refer(l *sipnode.Leg, to sip.Uri) int {
	if to.User == "" {
		return 400
	}
	oc.mu.Lock()
	defer oc.mu.Unlock()
	switch {
	case oc.over:
		return 481
	case oc.transferred || oc.xcancel != nil:
		return 491 // one transfer at a time
	}
	ctx, cancel := context.WithCancel(oc.g.ctx)
	oc.xcancel = cancel
	oc.g.goSIP(func() { oc.transfer(ctx, l, to) })
	return 202
}

func (oc *outCall) transfer(ctx context.Context, leg *sipnode.Leg, to sip.Uri) {
	g := oc.g
	// 100 Trying goes out beside the INVITE, so that a slow transferor
	// does not delay the transfer; the final NOTIFY waits for it (order).
	trying := make(chan struct{})
	g.goSIP(func() {
		defer close(trying)
		_ = sipnode.NotifyRefer(g.ctx, leg, 100, "Trying")
	})
	offer := sipnode.Description(sipnode.Offer(oc.st.LocalAddr(), "ipcclab-gateway"), oc.seed, 1)
	hs := oc.hs
	xleg, err := g.trunk.Invite(ctx, oc.number, g.cmURI(to.User), offer, sipnode.LegEvents{
		OnReinvite: func(l *sipnode.Leg, o sipnode.Media) []byte {
			hs.offer(o)
			return nil
		},
		OnEnd: oc.xlegEnded,
	}, nil, sipnode.ReferHeaders(to)...)
	oc.mu.Lock()
	oc.xcancel = nil
	over := oc.over
	if err == nil && !over {
		oc.xleg, oc.transferred = xleg, true
	}
	oc.mu.Unlock()
	if err != nil {
		g.mu.Lock()
		g.stats.TransferFailed++
		g.mu.Unlock()
		code := sipnode.StatusOf(err)
		if code < 300 {
			code = 503
		}
		g.cfg.Logf("gateway: transfer of %s to %s: %v", oc.number, to.User, err)
		<-trying
		_ = sipnode.NotifyRefer(g.ctx, leg, code, ReasonPhrase(code))
		return
	}
	if over {
		// The dialer hung up (or the customer did) while the target
		// answered.
		_ = xleg.Bye(g.ctx)
		return
	}
	// The customer's media now goes to the target.
	hs.offer(xleg.Remote())
	g.mu.Lock()
	g.stats.OutboundTransferred++
	g.mu.Unlock()
	<-trying
	_ = sipnode.NotifyRefer(g.ctx, leg, 200, "OK")
	t := time.NewTimer(referByeWait)
	defer t.Stop()
	select {
	case <-leg.Done():
	case <-t.C:
		_ = leg.Bye(g.ctx)
	case <-g.ctx.Done():
	}
}
