package conformance

import (
	"context"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ipcclab/ipcclab/conformance/target"
	"github.com/ipcclab/ipcclab/conformance/wire"
	"github.com/ipcclab/ipcclab/internal/media"
	"github.com/ipcclab/ipcclab/internal/rtpio"
	"github.com/ipcclab/ipcclab/internal/sipnode"
	"github.com/ipcclab/ipcclab/protocol/cti"
	"github.com/ipcclab/ipcclab/scenarios"
)

// Step 5 of the documented flow: IPCC delivers the voice (gateway →
// CallManager → agent phone) while the data reaches the agent over CTI.
// The spec plays both ends over the wire: a caller dialing the call type's
// number at the gateway, and the agent's phone — a softphone of the spec's
// own, registered on the agent's extension at CallManager, as an
// integrator's softphone would be. Each end sends a tone the other must
// hear: the caller 1000 Hz, the phone 1600 Hz.
var _ = Describe("step 5: IPCC delivers the voice", Ordered, Label("step-5", "voice"), func() {
	var (
		t   target.Target
		sc  *scenarios.Scenario
		own bool
	)

	BeforeAll(func() {
		if *flagCTIAddr != "" {
			t, sc = mainFx.t, mainFx.sc
			if !t.Capabilities().Voice {
				Skip("the remote target has no voice path (give --sip-addr and --registrar-addr)")
			}
			return
		}
		sc = loadScenario(*flagVoiceScenario)
		var err error
		t, err = target.StartInProcess(context.Background(), target.Options{Scenario: sc, Seed: sc.Seed, NoController: true, Voice: true})
		Expect(err).NotTo(HaveOccurred(), "starting the voice lab")
		own = true
		t.Begin()
	})
	AfterAll(func() {
		if own && t != nil {
			Expect(t.Stop()).To(Succeed())
		}
	})

	It("[C5.5] a caller's RTP reaches the agent's phone and back, heard by tone detection on both sides, while the CTI Server reports the call at the agent; a desktop's hold and retrieve re-INVITE the caller", func(ctx SpecContext) {
		// The agent: the first inbound agent of the scenario.
		var agentID, ext string
		for _, g := range sc.Agents {
			if g.Role == scenarios.RoleInbound && g.IsDefinedIn(scenarios.DefinedInICM) {
				agentID, ext = strconv.Itoa(g.FirstAgentID), strconv.Itoa(g.FirstExtension)
				break
			}
		}
		Expect(agentID).NotTo(BeEmpty(), "the scenario has no inbound agent")
		dialed := sc.ICM.CallTypes[0].DialedNumber
		addrs := t.Voice()
		gw, err := netip.ParseAddrPort(addrs.Gateway)
		Expect(err).NotTo(HaveOccurred(), "gateway address")
		reg, err := netip.ParseAddrPort(addrs.Registrar)
		Expect(err).NotTo(HaveOccurred(), "registrar address")

		cti1, err := wire.Dial(ctx, t.CTIAddr(), wire.Options{ClientID: "conformance-voice", Version: 24,
			Services: cti.ServiceAllEvents, PeripheralID: sc.ICM.PeripheralID})
		Expect(err).NotTo(HaveOccurred(), "ALL_EVENTS session")
		DeferCleanup(func() { _ = cti1.Close() })

		engine, err := rtpio.New(rtpio.Config{IP: netip.MustParseAddr("127.0.0.1")})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() { _ = engine.Close() })

		// The agent's softphone.
		var phoneHeard, callerHeard toneMeter
		phoneHeard.freq, callerHeard.freq = 1000, 1600
		var answered atomic.Bool
		phone, err := sipnode.Start(sipnode.Config{Name: "softphone", Addr: "127.0.0.1:0", OnInvite: func(in *sipnode.Incoming) {
			if in.To() != ext || !in.HasOffer {
				_ = in.Reject(404, "Not Found")
				return
			}
			_ = in.Progress(180, "Ringing", nil)
			st, err := engine.Open()
			if err != nil {
				_ = in.Reject(503, "Service Unavailable")
				return
			}
			st.SetRemote(in.Offer.Addr, in.Offer.Law(), in.Offer.EventPT)
			st.SetSource(media.ToneSource(steady(1600)))
			st.OnAudio(phoneHeard.feed)
			time.Sleep(300 * time.Millisecond) // the agent picks up
			ans := sipnode.Description(sipnode.Answer(in.Offer, st.LocalAddr(), "conformance-softphone"), 1, 1)
			if _, err := in.Answer(ans, sipnode.LegEvents{
				OnReinvite: func(l *sipnode.Leg, o sipnode.Media) []byte { st.SetRemote(o.Addr, o.Law(), o.EventPT); return nil },
				OnEnd:      func(*sipnode.Leg, sipnode.EndReason) { _ = st.Close() },
			}); err == nil {
				answered.Store(true)
			}
		}})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() { _ = phone.Close() })
		Expect(register(ctx, phone, reg, ext)).To(Succeed(), "REGISTER %s at CallManager %s", ext, reg)

		// The agent must be AVAILABLE for the router to pick it.
		ctl, err := wire.Dial(ctx, t.CTIAddr(), wire.Options{ClientID: "conformance-voice-query", Version: 24,
			Services: cti.ServiceClientControl, PeripheralID: sc.ICM.PeripheralID})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() { _ = ctl.Close() })
		Eventually(func() cti.AgentState {
			m, err := ctl.Request(ctx, &cti.QueryAgentStateReq{PeripheralID: sc.ICM.PeripheralID, AgentID: agentID})
			if conf, ok := m.(*cti.QueryAgentStateConf); ok && err == nil {
				return conf.AgentState
			}
			return cti.AgentStateUnknown
		}).WithContext(ctx).WithTimeout(20*time.Second).WithPolling(200*time.Millisecond).Should(Equal(cti.AgentStateAvailable),
			"agent %s AVAILABLE", agentID)

		// The caller.
		caller, err := sipnode.Start(sipnode.Config{Name: "caller", Addr: "127.0.0.1:0", OnInvite: func(in *sipnode.Incoming) {
			_ = in.Reject(486, "Busy Here")
		}})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() { _ = caller.Close() })
		cst, err := engine.Open()
		Expect(err).NotTo(HaveOccurred())
		cst.SetSource(media.ToneSource(steady(1000)))
		cst.OnAudio(callerHeard.feed)
		const ani = "2125550105"
		offer := sipnode.Description(sipnode.Offer(cst.LocalAddr(), "conformance-caller"), 1, 1)
		target := sip.Uri{Scheme: "sip", User: dialed, Host: gw.Addr().String(), Port: int(gw.Port())}
		directions := make(chan string, 8)
		leg, err := caller.Invite(ctx, ani, target, offer, sipnode.LegEvents{
			OnReinvite: func(l *sipnode.Leg, o sipnode.Media) []byte {
				cst.SetRemote(o.Addr, o.Law(), o.EventPT)
				select {
				case directions <- o.Direction:
				default:
				}
				return nil
			},
		}, nil)
		Expect(err).NotTo(HaveOccurred(), "INVITE sip:%s@%s", dialed, gw)
		m := leg.Remote()
		cst.SetRemote(m.Addr, m.Law(), m.EventPT)

		// The call reaches the agent's phone and both sides hear each other.
		Eventually(answered.Load).WithTimeout(30*time.Second).WithPolling(100*time.Millisecond).Should(BeTrue(),
			"the softphone on %s was rung and answered", ext)
		Eventually(phoneHeard.heard).WithTimeout(10*time.Second).WithPolling(100*time.Millisecond).Should(BeNumerically(">=", 25),
			"20 ms frames with the caller's 1000 Hz tone at the agent's phone")
		Eventually(callerHeard.heard).WithTimeout(10*time.Second).WithPolling(100*time.Millisecond).Should(BeNumerically(">=", 25),
			"20 ms frames with the phone's 1600 Hz tone at the caller")

		// Meanwhile the CTI Server reported the call at the agent.
		var callID uint32
		Eventually(func() []string {
			var seen []string
			for _, e := range cti1.Events() {
				switch ev := e.Msg.(type) {
				case *cti.BeginCallEvent:
					if ev.ANI == ani {
						callID = ev.ConnectionCallID
						seen = append(seen, "BEGIN_CALL")
					}
				case *cti.CallDeliveredEvent:
					if callID != 0 && ev.ConnectionCallID == callID && ev.AlertingDeviceID == ext {
						seen = append(seen, "CALL_DELIVERED")
					}
				case *cti.CallEstablishedEvent:
					if callID != 0 && ev.ConnectionCallID == callID && ev.AnsweringDeviceID == ext {
						seen = append(seen, "CALL_ESTABLISHED")
					}
				}
			}
			return seen
		}).WithTimeout(10*time.Second).WithPolling(100*time.Millisecond).Should(Equal([]string{"BEGIN_CALL", "CALL_DELIVERED", "CALL_ESTABLISHED"}),
			"CTI events of the caller %s at agent %s (extension %s)", ani, agentID, ext)

		// The agent's desktop holds and retrieves the call over CTI: the
		// caller's leg is re-INVITEd sendonly (hold), then sendrecv.
		for len(directions) > 0 {
			<-directions // media moves while the call was set up
		}
		for _, step := range []struct {
			req  cti.Message
			want string
		}{
			{&cti.HoldCallReq{PeripheralID: sc.ICM.PeripheralID, ConnectionCallID: callID, ConnectionDeviceID: ext, AgentInstrument: ext}, "sendonly"},
			{&cti.RetrieveCallReq{PeripheralID: sc.ICM.PeripheralID, HeldConnectionCallID: callID, HeldConnectionDeviceID: ext, AgentInstrument: ext}, "sendrecv"},
		} {
			conf, err := ctl.Request(ctx, step.req)
			Expect(err).NotTo(HaveOccurred(), "%T", step.req)
			Expect(conf).NotTo(BeAssignableToTypeOf(&cti.ControlFailureConf{}), "%T answered %v", step.req, conf)
			Expect(conf).NotTo(BeAssignableToTypeOf(&cti.FailureConf{}), "%T answered %v", step.req, conf)
			Eventually(directions).WithTimeout(5*time.Second).Should(Receive(Equal(step.want)),
				"re-INVITE of the caller's leg after %T", step.req)
		}

		// The caller hangs up: the CTI Server ends the call.
		Expect(leg.Bye(ctx)).To(Succeed())
		_ = cst.Close()
		Eventually(func() bool {
			for _, e := range cti1.Events() {
				if ev, ok := e.Msg.(*cti.EndCallEvent); ok && ev.ConnectionCallID == callID {
					return true
				}
			}
			return false
		}).WithTimeout(10*time.Second).WithPolling(100*time.Millisecond).Should(BeTrue(), "END_CALL for call %d", callID)
	})
})

// steady is a continuous tone at -16 dBm0.
func steady(freq float64) media.Tone {
	return media.Tone{Name: "test tone", Repeat: true, Segments: []media.ToneSegment{
		{Components: []media.ToneComponent{{Freq: freq, LevelDBm0: -16}}, DurationMs: 1000}}}
}

// toneMeter counts received 20 ms frames dominated by one frequency.
type toneMeter struct {
	freq float64
	mu   sync.Mutex
	n    int
}

func (m *toneMeter) feed(pcm []int16) {
	ms := media.MeanSquare(pcm)
	if ms <= 0 || media.MeanSquareToDBm0(ms) < -40 {
		return
	}
	if media.Goertzel(pcm, m.freq)/ms > 0.6 {
		m.mu.Lock()
		m.n++
		m.mu.Unlock()
	}
}

func (m *toneMeter) heard() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.n
}

// register REGISTERs ext at the registrar from the softphone's node.
func register(ctx context.Context, n *sipnode.Node, reg netip.AddrPort, ext string) error {
	aor := sip.Uri{Scheme: "sip", User: ext, Host: reg.Addr().String(), Port: int(reg.Port())}
	req := sip.NewRequest(sip.REGISTER, sip.Uri{Scheme: "sip", Host: reg.Addr().String(), Port: int(reg.Port())})
	from := &sip.FromHeader{Address: aor, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(10))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: aor, Params: sip.NewParams()})
	c := n.Contact(ext)
	req.AppendHeader(&c)
	req.AppendHeader(sip.NewHeader("Expires", "600"))
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	res, err := n.Do(ctx, req)
	if err != nil {
		return err
	}
	if res.StatusCode != 200 {
		return &sipnode.ResponseError{Code: res.StatusCode, Reason: res.Reason}
	}
	return nil
}
