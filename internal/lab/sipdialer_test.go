package lab

// Integration tests of the reference dialer's SIP trunk
// (controller/sipdialer) against the real driver's voice path: the lab runs
// with no controller, its agents logged in as `ipcclab up` logs them, and
// the test dials through the dialer at the gateway's trunk side while the
// PSTN model decides the far end (one outcome at fraction 1 per subtest).
// A live answer is blind-transferred (REFER) to the agent's extension at
// CallManager, where the test's softphone answers and a CTI client watches
// the PG.

import (
	"context"
	"math/rand/v2"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipcclab/ipcclab/controller/dialer"
	"github.com/ipcclab/ipcclab/controller/sipdialer"
	"github.com/ipcclab/ipcclab/internal/media"
	"github.com/ipcclab/ipcclab/protocol/cti"
	"github.com/ipcclab/ipcclab/scenarios"
)

func startDialer(t *testing.T, r *Running, adjust func(c *sipdialer.Config)) *sipdialer.Dialer {
	t.Helper()
	gw, err := netip.ParseAddrPort(r.TrunkAddr())
	if err != nil {
		t.Fatalf("gateway trunk address %q: %v", r.TrunkAddr(), err)
	}
	cm, err := netip.ParseAddrPort(r.RegistrarAddr())
	if err != nil {
		t.Fatalf("CallManager address %q: %v", r.RegistrarAddr(), err)
	}
	cfg := sipdialer.Config{Gateway: gw, CallManager: cm}
	if testing.Verbose() {
		cfg.Logf = t.Logf
	}
	if adjust != nil {
		adjust(&cfg)
	}
	d, err := sipdialer.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	return d
}

// dialerScenario is the voice lab with one outbound outcome at fraction 1;
// customers who are connected talk for 30 s (the tests end the call first).
func dialerScenario(t *testing.T, set func(o *scenarios.Outbound)) *scenarios.Scenario {
	return voiceScenario(t, func(sc *scenarios.Scenario) {
		o := &sc.Outbound
		o.Answer, o.Busy, o.Machine, o.Fax, o.VacantNumber, o.NoCircuit, o.Reorder = 0, 0, 0, 0, 0, 0, 0
		o.Talk = scenarios.Dist{Shape: "fixed", Mean: scenarios.Duration(30 * time.Second)}
		if set != nil {
			set(o)
		}
	})
}

// A live answer is connected to the free agent: the store write happens
// first, the detector calls it live, Live gives the agent's extension, the
// REFER moves the customer to the agent's phone within 2 s of the end of
// the greeting — the phone answers and hears the customer, the PG reports
// the call at the agent (BEGIN_CALL CUSTOMER_PREDICTIVE with the call
// variables, CALL_ESTABLISHED, TALKING) — and the dialer's leg is released.
// The agent hangs up: END_CALL and the agent is Available again.
func TestSIPDialerLiveToAgent(t *testing.T) {
	t.Parallel()
	r := startVoiceLab(t, dialerScenario(t, func(o *scenarios.Outbound) { o.Answer = 1 }), "")
	c := openCTI(t, r.CTIAddr(), "lab-sipdialer-live")
	phone := startSoftphone(t, r, newEngine(t), voiceExt, true)
	r.Begin()
	c.waitAgentState(10*time.Second, cti.AgentStateAvailable)
	d := startDialer(t, r, nil)

	var recorded atomic.Bool
	var asked atomic.Int32
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	const number = "15555550123"
	res, err := d.Dial(ctx, sipdialer.Attempt{ID: "live-1", Number: number,
		CallVariables: [10]string{"campaign-7", "acct 42"},
		BeforeInvite:  func() error { recorded.Store(true); return nil },
		Live: func() (string, bool) {
			asked.Add(1)
			return voiceExt, true
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s; ring %v, AMD after %v, decided %v after the answer", res, res.RingTime, res.AMDAfter, res.Decided.Sub(res.Answered))
	if !recorded.Load() || asked.Load() != 1 {
		t.Fatalf("store write %v, Live asked %d times", recorded.Load(), asked.Load())
	}
	if res.Outcome != sipdialer.OutcomeLiveConnected || res.AMD != dialer.CPALive || res.Agent != voiceExt {
		t.Fatalf("result %+v", res)
	}
	if res.ConnectDelay <= 0 || res.ConnectDelay > 2*time.Second {
		t.Errorf("connected %v after the greeting, want within 2 s", res.ConnectDelay)
	}
	if res.Alerted.IsZero() || res.Alerted.Before(res.Invited) || res.Answered.Before(res.Alerted) {
		t.Errorf("times: invited %v alerted %v answered %v", res.Invited, res.Alerted, res.Answered)
	}

	// The PG shows the call at the agent.
	var callID uint32
	evs := c.waitFor(5*time.Second, "BEGIN_CALL, CALL_ESTABLISHED at the agent and TALKING", func(evs []cti.Message) bool {
		established, talking := false, false
		for _, m := range evs {
			switch e := m.(type) {
			case *cti.BeginCallEvent:
				if e.ConnectionDeviceID == voiceExt && e.ANI == number {
					callID = e.ConnectionCallID
				}
			case *cti.CallEstablishedEvent:
				established = established || (callID != 0 && e.ConnectionCallID == callID && e.AnsweringDeviceID == voiceExt)
			case *cti.AgentStateEvent:
				talking = talking || (e.AgentID == voiceAgentID && e.AgentState == cti.AgentStateTalking)
			}
		}
		return established && talking
	})
	for _, m := range callEvents(evs, callID) {
		if e, ok := m.(*cti.BeginCallEvent); ok {
			if e.CallType != cti.CallTypeCustomerPredictive || e.CallVariable1 != "campaign-7" || e.CallVariable2 != "acct 42" {
				t.Errorf("BEGIN_CALL calltype %v CV1 %q CV2 %q, want CUSTOMER_PREDICTIVE with the attempt's call variables", e.CallType, e.CallVariable1, e.CallVariable2)
			}
		}
	}
	// The phone answered and hears the customer, whose media the gateway
	// re-anchored on the new leg. The CTI events can come before the test
	// phone has noted its answer (its 200 is sent first), so wait for it.
	waitUntil(t, 5*time.Second, "the agent's phone to note its answer", func() bool { return len(phone.answered()) >= 1 })
	if len(phone.answered()) != 1 {
		t.Fatalf("the agent's phone answered %d calls", len(phone.answered()))
	}
	waitUntil(t, 5*time.Second, "the customer's voice at the agent's phone", func() bool { return phone.heard.loud.Load() >= 10 })
	if st := r.voice.gw.Stats(); st.OutboundTransferred != 1 {
		t.Errorf("gateway: %+v, want one transferred call", st)
	}
	if st := r.VoiceCounters().CallManager; st.Direct != 1 || st.PhoneAnswered != 1 {
		t.Errorf("CallManager: %+v", st)
	}
	// The dialer is off the call: Dial returned after its BYE.
	if n := d.Node().Stats().Legs; n != 0 {
		t.Errorf("the dialer still holds %d legs", n)
	}
	// The agent hangs up: the call ends at the PG and the customer is gone.
	bye(t, phone.answered()[0])
	c.waitFor(5*time.Second, "END_CALL and the agent Available again", func(evs []cti.Message) bool {
		cleared, ended, avail := false, false, false
		for _, m := range evs {
			switch e := m.(type) {
			case *cti.CallClearedEvent:
				cleared = cleared || e.ConnectionCallID == callID
			case *cti.EndCallEvent:
				ended = ended || e.ConnectionCallID == callID
			case *cti.AgentStateEvent:
				avail = avail || (cleared && e.AgentID == voiceAgentID && e.AgentState == cti.AgentStateAvailable)
			}
		}
		return ended && avail
	})
	waitUntil(t, 5*time.Second, "the gateway releasing the customer", func() bool {
		_, trunk := r.voice.gw.Nodes()
		return trunk.Stats().Legs == 0
	})
}

// A live answer with no agent: the customer hears the safe-harbour message
// (the gateway receives the dialer's RTP for the message's length), the
// dialer hangs up, and the call is reported abandoned.
func TestSIPDialerLiveNoAgentSafeHarbour(t *testing.T) {
	t.Parallel()
	r := startVoiceLab(t, dialerScenario(t, func(o *scenarios.Outbound) { o.Answer = 1 }), "")
	r.Begin()
	d := startDialer(t, r, func(c *sipdialer.Config) {
		c.SafeHarbour = func() media.Source {
			return media.NewAnnouncement(media.AnnouncementConfig{LengthMs: 3000}, rand.New(rand.NewPCG(1, 2)))
		}
	})
	before := r.VoiceCounters().RTP.PacketsReceived
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	res, err := d.Dial(ctx, sipdialer.Attempt{ID: "live-2", Number: "15555550124", BeforeInvite: func() error { return nil },
		Live: func() (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res)
	if res.Outcome != sipdialer.OutcomeLiveAbandoned || res.AMD != dialer.CPALive || res.LateTransfer {
		t.Fatalf("result %+v", res)
	}
	if res.MessagePlayed < 2900*time.Millisecond {
		t.Errorf("safe-harbour message played %v, want its 3 s", res.MessagePlayed)
	}
	if got := r.VoiceCounters().RTP.PacketsReceived - before; got < 140 {
		t.Errorf("the gateway received %d RTP packets from the dialer, want the 3 s message (150)", got)
	}
	if st := r.voice.gw.Stats(); st.OutboundTransferred != 0 || st.OutboundAnswered != 1 {
		t.Errorf("gateway %+v", st)
	}
}

// An answering machine is detected as one; with the leave-a-message
// treatment the dialer waits for the greeting's beep, plays its message and
// hangs up.
func TestSIPDialerMachine(t *testing.T) {
	t.Parallel()
	r := startVoiceLab(t, dialerScenario(t, func(o *scenarios.Outbound) { o.Machine = 1 }), "")
	r.Begin()
	d := startDialer(t, r, func(c *sipdialer.Config) {
		c.Machine = sipdialer.MachineLeaveMessage
		c.MachineMessage = func() media.Source {
			return media.NewAnnouncement(media.AnnouncementConfig{LengthMs: 2000}, rand.New(rand.NewPCG(3, 4)))
		}
	})
	var asked atomic.Int32
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := d.Dial(ctx, sipdialer.Attempt{ID: "am-1", Number: "15555550125", BeforeInvite: func() error { return nil },
		Live: func() (string, bool) { asked.Add(1); return voiceExt, true }})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res)
	if res.Outcome != sipdialer.OutcomeMachine || res.AMD != dialer.CPAMachine || asked.Load() != 0 {
		t.Fatalf("result %+v (Live asked %d times)", res, asked.Load())
	}
	if res.Treatment != sipdialer.MachineLeaveMessage || !res.TreatmentDone || !res.Beep || res.MessagePlayed < 1900*time.Millisecond {
		t.Errorf("treatment %v done %v beep %v message %v", res.Treatment, res.TreatmentDone, res.Beep, res.MessagePlayed)
	}
}

// The outcomes that are not answered, or answered by a fax: each comes
// back with its SIP status and Q.850 cause; a no-answer rings the full 15 s
// before the dialer cancels.
func TestSIPDialerOutcomes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		set    func(o *scenarios.Outbound)
		want   sipdialer.Outcome
		status int
		cause  int
		sit    media.SITKind
	}{
		{"busy", func(o *scenarios.Outbound) { o.Busy = 1 }, sipdialer.OutcomeBusy, 486, 17, media.SITNone},
		{"vacant_number", func(o *scenarios.Outbound) { o.VacantNumber = 1 }, sipdialer.OutcomeVacant, 404, 1, media.SITIntercept},
		{"no_circuit", func(o *scenarios.Outbound) { o.NoCircuit = 1 }, sipdialer.OutcomeNoCircuit, 503, 34, media.SITNoCircuit},
		{"reorder", func(o *scenarios.Outbound) { o.Reorder = 1 }, sipdialer.OutcomeReorder, 503, 42, media.SITReorder},
		{"fax", func(o *scenarios.Outbound) { o.Fax = 1 }, sipdialer.OutcomeFax, 200, 0, media.SITNone},
		{"no_answer", nil, sipdialer.OutcomeNoAnswer, 487, 0, media.SITNone},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := startVoiceLab(t, dialerScenario(t, tc.set), "")
			r.Begin()
			d := startDialer(t, r, nil)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			res, err := d.Dial(ctx, sipdialer.Attempt{ID: tc.name, Number: "15555550126", BeforeInvite: func() error { return nil },
				Live: func() (string, bool) { return voiceExt, true }})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s; ring %v, %v in all", res, res.RingTime, res.Ended.Sub(res.Invited))
			if res.Outcome != tc.want || res.SIPStatus != tc.status || res.Q850 != tc.cause {
				t.Fatalf("result %+v, want %v with SIP %d and Q.850 cause %d", res, tc.want, tc.status, tc.cause)
			}
			if res.SIT != tc.sit {
				t.Errorf("SIT %v heard as early media, want %v", res.SIT, tc.sit)
			}
			if tc.want == sipdialer.OutcomeNoAnswer {
				if res.Alerted.IsZero() || res.RingTime < sipdialer.MinRingFloor || res.Ended.Sub(res.Invited) < sipdialer.MinRingFloor {
					t.Errorf("gave up after %v of ringing (%v since the INVITE), want at least 15 s", res.RingTime, res.Ended.Sub(res.Invited))
				}
				waitUntil(t, 5*time.Second, "the gateway counting the INVITE cancelled", func() bool {
					return r.voice.gw.Stats().OutboundCancelled == 1
				})
			}
			if n := d.Node().Stats().Legs; n != 0 {
				t.Errorf("the dialer still holds %d legs", n)
			}
		})
	}
}

// The agent's phone rings but does not answer in time: at ConnectWithin
// after the greeting the customer hears the safe-harbour message; when the
// dialer then hangs up, the gateway cancels the pending transfer, the
// phone stops ringing and the PG ends the call at the agent, who is
// Available again. Counted abandoned, not late.
func TestSIPDialerTransferNotAcceptedInTime(t *testing.T) {
	t.Parallel()
	r := startVoiceLab(t, dialerScenario(t, func(o *scenarios.Outbound) { o.Answer = 1 }), "")
	c := openCTI(t, r.CTIAddr(), "lab-sipdialer-late")
	phone := startSoftphone(t, r, newEngine(t), voiceExt, false) // rings, never answers
	r.Begin()
	c.waitAgentState(10*time.Second, cti.AgentStateAvailable)
	d := startDialer(t, r, func(c *sipdialer.Config) {
		c.SafeHarbour = func() media.Source {
			return media.NewAnnouncement(media.AnnouncementConfig{LengthMs: 2000}, rand.New(rand.NewPCG(1, 2)))
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	res, err := d.Dial(ctx, sipdialer.Attempt{ID: "late-1", Number: "15555550127", BeforeInvite: func() error { return nil },
		Live: func() (string, bool) { return voiceExt, true }})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res)
	if res.Outcome != sipdialer.OutcomeLiveAbandoned || res.LateTransfer || res.Agent != voiceExt || !res.Connected.IsZero() {
		t.Fatalf("result %+v", res)
	}
	if start := res.Ended.Add(-res.MessagePlayed); start.Sub(res.GreetingEnd) > 2100*time.Millisecond {
		t.Errorf("safe-harbour message started %v after the greeting, want at 2 s", start.Sub(res.GreetingEnd))
	}
	rung := phone.rung()
	if len(rung) != 1 {
		t.Fatalf("the agent's phone rang %d times", len(rung))
	}
	select {
	case <-rung[0].Cancelled():
	case <-time.After(5 * time.Second):
		t.Fatal("the agent's phone is still ringing after the dialer gave up")
	}
	c.waitFor(5*time.Second, "END_CALL at the agent and the agent Available again", func(evs []cti.Message) bool {
		var id uint32
		cleared, ended, avail := false, false, false
		for _, m := range evs {
			switch e := m.(type) {
			case *cti.BeginCallEvent:
				if e.ConnectionDeviceID == voiceExt {
					id = e.ConnectionCallID
				}
			case *cti.CallClearedEvent:
				cleared = cleared || (id != 0 && e.ConnectionCallID == id)
			case *cti.EndCallEvent:
				ended = ended || (id != 0 && e.ConnectionCallID == id)
			case *cti.AgentStateEvent:
				avail = avail || (cleared && e.AgentID == voiceAgentID && e.AgentState == cti.AgentStateAvailable)
			}
		}
		return ended && avail
	})
	waitUntil(t, 5*time.Second, "the gateway releasing the customer", func() bool {
		_, trunk := r.voice.gw.Nodes()
		return trunk.Stats().Legs == 0
	})
	if st := r.voice.gw.Stats(); st.OutboundTransferred != 0 {
		t.Errorf("gateway %+v", st)
	}
}

// The agent Live names is not free (here: not logged in): CallManager
// refuses the gateway's INVITE (486), the gateway reports it in the NOTIFY,
// and the customer gets the safe-harbour message.
func TestSIPDialerTransferRefused(t *testing.T) {
	t.Parallel()
	// No Begin: the agents stay logged out.
	r := startVoiceLab(t, dialerScenario(t, func(o *scenarios.Outbound) { o.Answer = 1 }), "")
	d := startDialer(t, r, func(c *sipdialer.Config) {
		c.SafeHarbour = func() media.Source {
			return media.NewAnnouncement(media.AnnouncementConfig{LengthMs: 1000}, rand.New(rand.NewPCG(1, 2)))
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	res, err := d.Dial(ctx, sipdialer.Attempt{ID: "refused-1", Number: "15555550128", BeforeInvite: func() error { return nil },
		Live: func() (string, bool) { return voiceExt, true }})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res)
	if res.Outcome != sipdialer.OutcomeLiveAbandoned || res.MessagePlayed < 900*time.Millisecond {
		t.Fatalf("result %+v", res)
	}
	if st := r.voice.gw.Stats(); st.TransferFailed != 1 || st.OutboundTransferred != 0 {
		t.Errorf("gateway %+v", st)
	}
	if st := r.VoiceCounters().CallManager; st.DirectRefused != 1 || st.Direct != 0 {
		t.Errorf("CallManager %+v", st)
	}
}
