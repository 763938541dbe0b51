package lab

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"syscall"
	"time"

	"github.com/ipcclab/ipcclab/emulator/callmanager"
	"github.com/ipcclab/ipcclab/emulator/centre"
	"github.com/ipcclab/ipcclab/emulator/gateway"
	"github.com/ipcclab/ipcclab/emulator/ivr"
	"github.com/ipcclab/ipcclab/emulator/pg"
	"github.com/ipcclab/ipcclab/emulator/phones"
	"github.com/ipcclab/ipcclab/emulator/pstn"
	"github.com/ipcclab/ipcclab/internal/capture"
	"github.com/ipcclab/ipcclab/internal/rtpio"
	"github.com/ipcclab/ipcclab/internal/sim"
	"github.com/ipcclab/ipcclab/internal/sipnode"
)

// DefaultSIPAddr is where `ipcclab up` serves the gateway's PSTN side.
const DefaultSIPAddr = "127.0.0.1:5060"

// RTP port range of the emulated devices (Cisco IOS gateways and Unified CM
// phones use 16384–32767).
const (
	rtpPortMin = 16384
	rtpPortMax = 32767
)

// voice is the real driver's voice path: gateway, CallManager, IP-IVR and
// phones over SIP and RTP on loopback. It implements centre.Voice; the
// centre is built with it before the components exist (they need the
// centre), so its methods only run once traffic starts.
type voice struct {
	loop    *sim.Loop
	media   *rtpio.Engine
	gw      *gateway.Gateway
	cm      *callmanager.CallManager
	ivr     *ivr.IVR
	phones  *phones.Phones
	nphones int // emulated phones registered
	pg      *pg.PG
}

func (v *voice) Arrive(cl *pstn.Caller)                    { v.gw.Arrive(cl) }
func (v *voice) Abandon(cl *pstn.Caller)                   { v.gw.Abandon(cl) }
func (v *voice) Transfer(callID uint32, device string)     { v.cm.Transfer(callID, device) }
func (v *voice) Dial(r pg.DialRequest, h pstn.DialHandler) { v.cm.Dial(r, h) }

// AnswerCall is the agent answering. A call CallManager carries over SIP is
// answered on the phone (its 200 OK reaches the PG through CallManager),
// or needs no answer when the phone auto-answers (a dialer's transfer);
// calls set up by CTI call control between agents (MakeCall, consultation,
// transfer, conference) have no SIP legs and are answered at the PG.
func (v *voice) AnswerCall(instrument string, callID uint32) error {
	if v.cm.AutoAnswers(callID) {
		return nil // the phone went off-hook by itself (a dialer's transfer)
	}
	if v.cm.Carries(callID) {
		return v.phones.Answer(instrument)
	}
	return v.pg.AnswerCall(instrument, callID)
}

// ClearConnection is the agent hanging up, on the phone when CallManager
// carries the call (see AnswerCall).
func (v *voice) ClearConnection(callID uint32, device string) error {
	if v.cm.Carries(callID) {
		return v.phones.Hangup(device)
	}
	return v.pg.ClearConnection(callID, device)
}

// voiceOptions are the voice path's addresses.
type voiceOptions struct {
	SIPAddr  string
	PSTNAddr string
	Settings VoiceSettings
	Capture  *capture.Writer
	Seed     uint64
	// Accounts are the callers' account numbers (CallerAccounts).
	Accounts []string
	Logf     func(string, ...any)
}

func (v *voice) post(fn func()) { v.loop.Post(func(time.Time) { fn() }) }

// start brings the voice components up around cen (already built with v as
// its Voice) and registers the phones.
func (v *voice) start(ctx context.Context, cen *centre.Centre, o voiceOptions) error {
	v.pg = cen.PG()
	logf := o.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	vs := o.Settings
	var wrapPC func(net.PacketConn) net.PacketConn
	var wrapLn func(net.Listener) net.Listener
	mc := rtpio.Config{IP: netip.MustParseAddr("127.0.0.1"), PortMin: rtpPortMin, PortMax: rtpPortMax,
		ReadBuffer: 256 << 10, WriteBuffer: 256 << 10, NoSockets: !vs.Media}
	if w := o.Capture; w != nil {
		wrapPC = func(pc net.PacketConn) net.PacketConn { return capture.TapPacketConn(pc, w) }
		wrapLn = func(l net.Listener) net.Listener { return capture.TapListener(l, w) }
		mc.Tap = w.UDPHook()
	}
	node := func() sipnode.Config { return sipnode.Config{WrapPacketConn: wrapPC, WrapListener: wrapLn} }
	var err error
	if v.media, err = rtpio.New(mc); err != nil {
		return err
	}
	lines := map[string]string{}
	var exts []string
	for _, a := range cen.Agents() {
		id := a.AgentID
		if !a.InICM {
			id = ""
		}
		lines[a.Extension] = id
		exts = append(exts, a.Extension)
	}
	var routePoints []string
	// The call types' dialed numbers are CallManager's CTI route points.
	for _, n := range cen.DialedNumbers() {
		routePoints = append(routePoints, n)
	}
	pstnPeer := netip.AddrPort{}
	if o.PSTNAddr != "" {
		if pstnPeer, err = netip.ParseAddrPort(o.PSTNAddr); err != nil {
			return fmt.Errorf("--pstn-addr %q: want IP:port: %w", o.PSTNAddr, err)
		}
	}
	// CallManager first: everyone else points at it.
	cmCfg := callmanager.Config{Addr: "127.0.0.1:0", Scheduler: v.loop, Post: v.post, Centre: cen, Lines: lines,
		RoutePoints: routePoints, TranslationRoutes: vs.TranslationRoutes, TranslationRouteCount: vs.TranslationRouteCount,
		Media: v.media, Registrar: vs.Registrar, Node: node(), Logf: logf}
	// IP-IVR and the gateway must exist before CallManager can name them,
	// and they need CallManager's address: reserve a port for CallManager
	// first. Another process can take it in between (tests run side by
	// side), so on a bind failure the three start again on a new port.
	for attempt := 0; ; attempt++ {
		cmAddr, err := freeUDPPort()
		if err != nil {
			v.close()
			return err
		}
		cmCfg.Addr = cmAddr.String()
		v.ivr, err = ivr.New(ivr.Config{Addr: "127.0.0.1:0", CallManager: cmAddr, Media: v.media, Seed: o.Seed,
			DigitCount: vs.DigitCount, FirstDigitTimeout: vs.FirstDigitTimeout, InterDigitTimeout: vs.InterDigitTimeout,
			AnnouncementMs: vs.AnnouncementMs, Silent: !vs.Media,
			Digits: func(dn, digits string) { v.cm.DigitsCollected(dn, digits) }, Node: node(), Logf: logf})
		if err != nil {
			v.close()
			return fmt.Errorf("IP-IVR: %w", err)
		}
		v.gw, err = gateway.New(gateway.Config{PSTNAddr: o.SIPAddr, TrunkAddr: "127.0.0.1:0", CallManager: cmAddr,
			PSTNPeer: pstnPeer, Media: v.media, Post: v.post, World: cen.PSTN(), Seed: o.Seed, Accounts: o.Accounts, DigitsToIVR: true,
			Causes: vs.Causes, Silent: !vs.Media,
			PSTNNode: node(), TrunkNode: node(), Logf: logf})
		if err != nil {
			v.close()
			return fmt.Errorf("voice gateway (--sip-addr %s): %w", o.SIPAddr, err)
		}
		cmCfg.IVR = v.ivr.Addr()
		cmCfg.Gateway = v.gw.TrunkAddr()
		cmCfg.IVRConnect = v.ivr.Connect
		v.cm, err = callmanager.New(cmCfg)
		if err == nil {
			break
		}
		v.cm = nil
		if attempt < 5 && errors.Is(err, syscall.EADDRINUSE) {
			_ = v.gw.Close()
			_ = v.ivr.Close()
			v.gw, v.ivr = nil, nil
			continue
		}
		v.close()
		return fmt.Errorf("CallManager: %w", err)
	}
	v.cm.CallerOf = v.gw.CallerOf
	cen.Subscribe(v.cm.PGEvent)
	v.phones, err = phones.New(phones.Config{Addr: "127.0.0.1:0", Registrar: v.cm.Addr(), Extensions: exts,
		Media: v.media, Seed: o.Seed, Silent: !vs.Media, Node: node(), Logf: logf})
	if err != nil {
		v.close()
		return fmt.Errorf("phones: %w", err)
	}
	rctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := v.phones.Register(rctx); err != nil {
		v.close()
		return err
	}
	v.nphones = len(exts)
	return nil
}

// freeUDPPort reserves a loopback port that is free for both UDP and TCP.
func freeUDPPort() (netip.AddrPort, error) {
	for i := 0; i < 20; i++ {
		pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			return netip.AddrPort{}, err
		}
		ap := pc.LocalAddr().(*net.UDPAddr).AddrPort()
		ln, err := net.Listen("tcp4", "127.0.0.1:"+strconv.Itoa(int(ap.Port())))
		pc.Close()
		if err != nil {
			continue
		}
		ln.Close()
		return netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), ap.Port()), nil
	}
	return netip.AddrPort{}, errors.New("no free SIP port on 127.0.0.1")
}

func (v *voice) close() {
	if v.phones != nil {
		v.phones.Close()
	}
	if v.cm != nil {
		v.cm.Close()
	}
	if v.gw != nil {
		v.gw.Close()
	}
	if v.ivr != nil {
		v.ivr.Close()
	}
	if v.media != nil {
		v.media.Close()
	}
}
