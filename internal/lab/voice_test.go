package lab

// Integration tests of the real driver's voice path: the gateway,
// CallManager, IP-IVR and the phones over SIP and RTP on 127.0.0.1, driven
// from the outside as an integrator would drive them — a SIP caller at the
// gateway's PSTN side, a softphone registered on an agent's extension at
// CallManager, and a CTI client (protocol/cti) watching and controlling the
// PG. Each test starts its own lab (testdata/voice-lab.yaml, adjusted in
// code) with no controller and no generated traffic.

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"github.com/ipcclab/ipcclab/internal/media"
	"github.com/ipcclab/ipcclab/internal/rtpio"
	"github.com/ipcclab/ipcclab/internal/sipnode"
	"github.com/ipcclab/ipcclab/protocol/cti"
	"github.com/ipcclab/ipcclab/scenarios"
)

const (
	voiceAgentID = "5001"
	voiceExt     = "6001"
	voiceDialed  = "8005550100"
	voicePeriph  = 5000
)

// ---- the lab ----

func voiceScenario(t *testing.T, adjust func(sc *scenarios.Scenario)) *scenarios.Scenario {
	t.Helper()
	sc, err := scenarios.Load(filepath.Join("testdata", "voice-lab.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if adjust != nil {
		adjust(sc)
	}
	return sc
}

// startVoiceLab starts the lab with the voice path, traffic held until the
// test has connected (Begin).
func startVoiceLab(t *testing.T, sc *scenarios.Scenario, capture string) *Running {
	t.Helper()
	opts := UpOptions{Scenario: sc, Seed: sc.Seed, CTIAddr: "127.0.0.1:0", SIPAddr: "127.0.0.1:0",
		NoController: true, HoldTraffic: true, Capture: capture}
	if testing.Verbose() {
		opts.Logf = t.Logf
	}
	r, err := Start(context.Background(), opts)
	if err != nil {
		t.Fatalf("starting the voice lab: %v", err)
	}
	t.Cleanup(func() { _ = r.Stop() })
	return r
}

// ---- a CTI client ----

type ctiClient struct {
	t    *testing.T
	s    *cti.Session
	mu   sync.Mutex
	evs  []cti.Message
	done chan struct{}
}

func openCTI(t *testing.T, addr, clientID string) *ctiClient {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("CTI dial %s: %v", addr, err)
	}
	s := cti.NewSession(conn, nil)
	c := &ctiClient{t: t, s: s, done: make(chan struct{})}
	go func() {
		defer close(c.done)
		for m := range s.Events() {
			c.mu.Lock()
			c.evs = append(c.evs, m)
			c.mu.Unlock()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req := &cti.OpenReq{VersionNumber: 24, IdleTimeout: 0xFFFFFFFF, PeripheralID: voicePeriph,
		ServicesRequested: cti.ServiceAllEvents | cti.ServiceClientControl, ClientID: clientID,
		ClientPassword: []byte{}, CallMsgMask: 0xFFFFFFFF, AgentStateMask: 0x3FFF}
	req.SetPresent(cti.TagClientPassword)
	if _, err := s.Open(ctx, req); err != nil {
		_ = conn.Close()
		t.Fatalf("CTI OPEN_REQ: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = s.Close(ctx)
		<-c.done
	})
	return c
}

func (c *ctiClient) events() []cti.Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]cti.Message(nil), c.evs...)
}

func (c *ctiClient) request(m cti.Message) (cti.Message, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return c.s.Request(ctx, m)
}

// waitFor polls the events until ok holds, failing the test after timeout
// with the events seen.
func (c *ctiClient) waitFor(timeout time.Duration, what string, ok func([]cti.Message) bool) []cti.Message {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		evs := c.events()
		if ok(evs) {
			return evs
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("CTI: %s: not seen within %v; events:\n%s", what, timeout, describeEvents(evs))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (c *ctiClient) setAgentState(state cti.AgentState, reason uint16) {
	c.t.Helper()
	req := &cti.SetAgentStateReq{PeripheralID: voicePeriph, AgentID: voiceAgentID, AgentInstrument: voiceExt,
		AgentState: state, EventReasonCode: reason}
	if _, err := c.request(req); err != nil {
		c.t.Fatalf("SET_AGENT_STATE_REQ %v: %v", state, err)
	}
}

// waitAgentState waits for an AGENT_STATE_EVENT of the test agent.
func (c *ctiClient) waitAgentState(timeout time.Duration, state cti.AgentState) {
	c.t.Helper()
	c.waitFor(timeout, fmt.Sprintf("AGENT_STATE_EVENT %v for agent %s", state, voiceAgentID), func(evs []cti.Message) bool {
		for _, m := range evs {
			if e, ok := m.(*cti.AgentStateEvent); ok && e.AgentID == voiceAgentID && e.AgentState == state {
				return true
			}
		}
		return false
	})
}

func describeEvents(evs []cti.Message) string {
	var b strings.Builder
	for _, m := range evs {
		b.WriteString("  " + describeEvent(m) + "\n")
	}
	return b.String()
}

func describeEvent(m cti.Message) string {
	switch e := m.(type) {
	case *cti.BeginCallEvent:
		return fmt.Sprintf("BEGIN_CALL call %d dev %s ANI %s CED %q CV1 %q CV2 %q", e.ConnectionCallID, e.ConnectionDeviceID, e.ANI, e.CallerEnteredDigits, e.CallVariable1, e.CallVariable2)
	case *cti.CallDeliveredEvent:
		return fmt.Sprintf("CALL_DELIVERED call %d dev %s alerting %s cause %v CED %q CV2 %q", e.ConnectionCallID, e.ConnectionDeviceID, e.AlertingDeviceID, e.EventCause, e.CallerEnteredDigits, e.CallVariable2)
	case *cti.CallEstablishedEvent:
		return fmt.Sprintf("CALL_ESTABLISHED call %d dev %s answering %s", e.ConnectionCallID, e.ConnectionDeviceID, e.AnsweringDeviceID)
	case *cti.CallFailedEvent:
		return fmt.Sprintf("CALL_FAILED call %d failing %s cause %v", e.ConnectionCallID, e.FailingDeviceID, e.EventCause)
	case *cti.CallClearedEvent:
		return fmt.Sprintf("CALL_CLEARED call %d dev %s cause %v", e.ConnectionCallID, e.ConnectionDeviceID, e.EventCause)
	case *cti.CallConnectionClearedEvent:
		return fmt.Sprintf("CALL_CONNECTION_CLEARED call %d dev %s releasing %s cause %v", e.ConnectionCallID, e.ConnectionDeviceID, e.ReleasingDeviceID, e.EventCause)
	case *cti.EndCallEvent:
		return fmt.Sprintf("END_CALL call %d dev %s", e.ConnectionCallID, e.ConnectionDeviceID)
	case *cti.AgentStateEvent:
		return fmt.Sprintf("AGENT_STATE agent %s %v reason %d direction %v", e.AgentID, e.AgentState, e.EventReasonCode, e.Direction)
	case *cti.CallDataUpdateEvent:
		return fmt.Sprintf("CALL_DATA_UPDATE call %d CED %q CV2 %q", e.ConnectionCallID, e.CallerEnteredDigits, e.CallVariable2)
	}
	return m.MessageType().String()
}

// callEvents are the events of call id.
func callEvents(evs []cti.Message, id uint32) []cti.Message {
	var out []cti.Message
	for _, m := range evs {
		var cid uint32
		switch e := m.(type) {
		case *cti.BeginCallEvent:
			cid = e.ConnectionCallID
		case *cti.CallDeliveredEvent:
			cid = e.ConnectionCallID
		case *cti.CallEstablishedEvent:
			cid = e.ConnectionCallID
		case *cti.CallFailedEvent:
			cid = e.ConnectionCallID
		case *cti.CallClearedEvent:
			cid = e.ConnectionCallID
		case *cti.CallConnectionClearedEvent:
			cid = e.ConnectionCallID
		case *cti.EndCallEvent:
			cid = e.ConnectionCallID
		case *cti.CallDataUpdateEvent:
			cid = e.ConnectionCallID
		case *cti.CallOriginatedEvent:
			cid = e.ConnectionCallID
		default:
			continue
		}
		if cid == id {
			out = append(out, m)
		}
	}
	return out
}

func hasEndCall(evs []cti.Message, id uint32) bool {
	for _, m := range callEvents(evs, id) {
		if _, ok := m.(*cti.EndCallEvent); ok {
			return true
		}
	}
	return false
}

// ---- SIP and RTP ends ----

// energyMeter counts received 20 ms frames above -40 dBm0 (speech, tones).
type energyMeter struct {
	loud atomic.Int64
	all  atomic.Int64
}

func (m *energyMeter) feed(pcm []int16) {
	m.all.Add(1)
	if ms := media.MeanSquare(pcm); ms > 0 && media.MeanSquareToDBm0(ms) > -40 {
		m.loud.Add(1)
	}
}

func waitUntil(t *testing.T, timeout time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func newEngine(t *testing.T) *rtpio.Engine {
	t.Helper()
	e, err := rtpio.New(rtpio.Config{IP: netip.MustParseAddr("127.0.0.1")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return e
}

// softphone is an agent's phone of the test's own, registered on an
// extension at CallManager in place of the emulated one. With answer set it
// goes off-hook at once; otherwise it rings (180) until cancelled.
type softphone struct {
	t      *testing.T
	node   *sipnode.Node
	ext    string
	answer bool
	heard  energyMeter

	mu        sync.Mutex
	incomings []*sipnode.Incoming
	legs      []*sipnode.Leg
	autoHdr   []bool
}

func startSoftphone(t *testing.T, r *Running, engine *rtpio.Engine, ext string, answer bool) *softphone {
	t.Helper()
	p := &softphone{t: t, ext: ext, answer: answer}
	node, err := sipnode.Start(sipnode.Config{Name: "softphone", Addr: "127.0.0.1:0", OnInvite: func(in *sipnode.Incoming) {
		if in.To() != ext || !in.HasOffer {
			_ = in.Reject(404, "Not Found")
			return
		}
		auto := false
		if h := in.Req.GetHeader("Call-Info"); h != nil && strings.Contains(strings.ToLower(h.Value()), "answer-after=0") {
			auto = true
		}
		p.mu.Lock()
		p.incomings = append(p.incomings, in)
		p.autoHdr = append(p.autoHdr, auto)
		p.mu.Unlock()
		_ = in.Progress(180, "Ringing", nil)
		if !p.answer {
			return // rings until CANCEL
		}
		st, err := engine.Open()
		if err != nil {
			_ = in.Reject(503, "Service Unavailable")
			return
		}
		st.SetRemote(in.Offer.Addr, in.Offer.Law(), in.Offer.EventPT)
		st.SetSource(media.ToneSource(steadyTone(1600)))
		st.OnAudio(p.heard.feed)
		ans := sipnode.Description(sipnode.Answer(in.Offer, st.LocalAddr(), "lab-test-softphone"), 1, 1)
		leg, err := in.Answer(ans, sipnode.LegEvents{
			OnReinvite: func(l *sipnode.Leg, o sipnode.Media) []byte { st.SetRemote(o.Addr, o.Law(), o.EventPT); return nil },
			OnEnd:      func(*sipnode.Leg, sipnode.EndReason) { _ = st.Close() },
		})
		if err != nil {
			_ = st.Close()
			return
		}
		p.mu.Lock()
		p.legs = append(p.legs, leg)
		p.mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	p.node = node
	t.Cleanup(func() { _ = node.Close() })
	reg, err := netip.ParseAddrPort(r.RegistrarAddr())
	if err != nil {
		t.Fatalf("registrar address %q: %v", r.RegistrarAddr(), err)
	}
	if err := registerExt(node, reg, ext); err != nil {
		t.Fatalf("REGISTER %s at CallManager %s: %v", ext, reg, err)
	}
	return p
}

func (p *softphone) rung() []*sipnode.Incoming {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]*sipnode.Incoming(nil), p.incomings...)
}

func (p *softphone) answered() []*sipnode.Leg {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]*sipnode.Leg(nil), p.legs...)
}

// registerExt REGISTERs ext at the registrar from node.
func registerExt(n *sipnode.Node, reg netip.AddrPort, ext string) error {
	aor := sip.Uri{Scheme: "sip", User: ext, Host: reg.Addr().String(), Port: int(reg.Port())}
	req := sip.NewRequest(sip.REGISTER, sip.Uri{Scheme: "sip", Host: reg.Addr().String(), Port: int(reg.Port())})
	from := &sip.FromHeader{Address: aor, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(10))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: aor, Params: sip.NewParams()})
	c := n.Contact(ext)
	req.AppendHeader(&c)
	req.AppendHeader(sip.NewHeader("Expires", "600"))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
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

// caller is a PSTN caller of the test's own dialing the gateway's PSTN side.
type caller struct {
	node   *sipnode.Node
	stream *rtpio.Stream
	heard  energyMeter
	ani    string
}

func newCaller(t *testing.T, engine *rtpio.Engine, ani string) *caller {
	t.Helper()
	node, err := sipnode.Start(sipnode.Config{Name: "caller", Addr: "127.0.0.1:0", OnInvite: func(in *sipnode.Incoming) {
		_ = in.Reject(486, "Busy Here")
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = node.Close() })
	st, err := engine.Open()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	c := &caller{node: node, stream: st, ani: ani}
	st.SetSource(media.ToneSource(steadyTone(1000)))
	st.OnAudio(c.heard.feed)
	return c
}

// dial INVITEs dialed at the gateway and blocks until the call is answered
// (the leg) or fails.
func (c *caller) dial(ctx context.Context, r *Running, dialed string) (*sipnode.Leg, error) {
	gw, err := netip.ParseAddrPort(r.SIPAddr())
	if err != nil {
		return nil, fmt.Errorf("gateway address %q: %w", r.SIPAddr(), err)
	}
	offer := sipnode.Description(sipnode.Offer(c.stream.LocalAddr(), "lab-test-caller"), 1, 1)
	target := sip.Uri{Scheme: "sip", User: dialed, Host: gw.Addr().String(), Port: int(gw.Port())}
	st := c.stream
	leg, err := c.node.Invite(ctx, c.ani, target, offer, sipnode.LegEvents{
		OnReinvite: func(l *sipnode.Leg, o sipnode.Media) []byte { st.SetRemote(o.Addr, o.Law(), o.EventPT); return nil },
	}, nil)
	if err != nil {
		return nil, err
	}
	m := leg.Remote()
	st.SetRemote(m.Addr, m.Law(), m.EventPT)
	return leg, nil
}

func bye(t *testing.T, leg *sipnode.Leg) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := leg.Bye(ctx); err != nil {
		t.Errorf("BYE: %v", err)
	}
}

// steadyTone is a continuous tone at -16 dBm0.
func steadyTone(freq float64) media.Tone {
	return media.Tone{Name: "test tone", Repeat: true, Segments: []media.ToneSegment{
		{Components: []media.ToneComponent{{Freq: freq, LevelDBm0: -16}}, DurationMs: 1000}}}
}

// ---- 1. predictive calls and their outcomes ----

// A MAKE_PREDICTIVE_CALL_REQ for the agent's extension goes out through
// CallManager's CTI port and the gateway to the PSTN model, whose outcome
// (one per subtest, fraction 1) must come back over CTI as GED-188 says:
// a live answer or an answering machine connects the customer to the agent
// — and the gateway's RTP reaches the agent's phone (the test's softphone
// on the extension) —, a busy line fails with CEC_BUSY, a vacant number or
// no circuit with CEC_DEST_NOT_OBTAINABLE.
func TestVoiceOutboundOutcomes(t *testing.T) {
	type outcome struct {
		name      string
		set       func(o *scenarios.Outbound)
		connected bool
		cause     cti.EventCause
	}
	zero := func(o *scenarios.Outbound) {
		o.Answer, o.Busy, o.Machine, o.Fax, o.VacantNumber, o.NoCircuit, o.Reorder = 0, 0, 0, 0, 0, 0, 0
	}
	for _, tc := range []outcome{
		{name: "answer", set: func(o *scenarios.Outbound) { o.Answer = 1 }, connected: true},
		{name: "busy", set: func(o *scenarios.Outbound) { o.Busy = 1 }, cause: cti.CECBusy},
		{name: "vacant_number", set: func(o *scenarios.Outbound) { o.VacantNumber = 1 }, cause: cti.CECDestNotObtainable},
		{name: "no_circuit", set: func(o *scenarios.Outbound) { o.NoCircuit = 1 }, cause: cti.CECDestNotObtainable},
		{name: "machine", set: func(o *scenarios.Outbound) { o.Machine = 1 }, connected: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sc := voiceScenario(t, func(sc *scenarios.Scenario) {
				zero(&sc.Outbound)
				tc.set(&sc.Outbound)
			})
			r := startVoiceLab(t, sc, "")
			c := openCTI(t, r.CTIAddr(), "lab-voice-outbound")
			engine := newEngine(t)
			phone := startSoftphone(t, r, engine, voiceExt, true)
			r.Begin()
			c.waitAgentState(10*time.Second, cti.AgentStateAvailable)

			const number = "15555550123"
			m, err := c.request(&cti.MakePredictiveCallReq{PeripheralID: voicePeriph, OriginatingDeviceID: voiceExt,
				DialedNumber: number, AlertRings: 4, CallVariable1: "lab-test"})
			if err != nil {
				t.Fatalf("MAKE_PREDICTIVE_CALL_REQ: %v", err)
			}
			conf, ok := m.(*cti.MakePredictiveCallConf)
			if !ok {
				t.Fatalf("MAKE_PREDICTIVE_CALL_REQ answered with %T", m)
			}
			id := conf.NewConnectionCallID
			before := r.VoiceCounters()

			if !tc.connected {
				evs := c.waitFor(15*time.Second, "CALL_FAILED and END_CALL", func(evs []cti.Message) bool { return hasEndCall(evs, id) })
				var failed *cti.CallFailedEvent
				var seq []string
				for _, m := range callEvents(evs, id) {
					seq = append(seq, describeEvent(m))
					if e, ok := m.(*cti.CallFailedEvent); ok {
						failed = e
					}
					if e, ok := m.(*cti.CallEstablishedEvent); ok {
						t.Errorf("a %s call was established: %s", tc.name, describeEvent(e))
					}
				}
				t.Logf("call %d: %s", id, strings.Join(seq, " | "))
				if failed == nil {
					t.Fatalf("no CALL_FAILED for call %d:\n%s", id, describeEvents(callEvents(evs, id)))
				}
				if failed.EventCause != tc.cause {
					t.Errorf("CALL_FAILED cause %v, want %v", failed.EventCause, tc.cause)
				}
				if failed.FailingDeviceID != number {
					t.Errorf("CALL_FAILED failing device %q, want the dialed number %q", failed.FailingDeviceID, number)
				}
				if n := len(phone.rung()); n != 0 {
					t.Errorf("the agent's phone was rung %d times for a failed call", n)
				}
				// The far end never alerted: busy lines and network failures
				// do not ring (the PSTN model calls Failed without Alerting,
				// and without the voice path the PG emits BEGIN_CALL,
				// CALL_ORIGINATED, CALL_FAILED, CALL_CLEARED, END_CALL). The
				// gateway plays busy tone / SIT as early media in a 183
				// Session Progress, which is not alerting — but CallManager's
				// CTI port takes any 1xx for the far end ringing.
				for _, m := range callEvents(evs, id) {
					if e, ok := m.(*cti.CallDeliveredEvent); ok && e.AlertingDeviceID == number {
						t.Errorf("CALL_DELIVERED (far end alerting) before CALL_FAILED for a %s call: %s", tc.name, describeEvent(e))
					}
				}
				return
			}

			// Connected: CALL_ESTABLISHED at the far end, then at the agent.
			evs := c.waitFor(15*time.Second, "CALL_ESTABLISHED at the far end and at the agent", func(evs []cti.Message) bool {
				far, agent := false, false
				for _, m := range callEvents(evs, id) {
					if e, ok := m.(*cti.CallEstablishedEvent); ok {
						far = far || e.AnsweringDeviceID == number
						agent = agent || e.AnsweringDeviceID == voiceExt
					}
				}
				return far && agent
			})
			talking := false
			for _, m := range evs {
				if e, ok := m.(*cti.AgentStateEvent); ok && e.AgentID == voiceAgentID && e.AgentState == cti.AgentStateTalking {
					talking = true
					if e.Direction != 7 {
						t.Errorf("AGENT_STATE TALKING direction %v, want 7 (outbound predictive)", e.Direction)
					}
				}
			}
			if !talking {
				t.Errorf("no AGENT_STATE_EVENT TALKING for agent %s:\n%s", voiceAgentID, describeEvents(evs))
			}
			var seq []string
			alerted := false
			for _, m := range callEvents(evs, id) {
				seq = append(seq, describeEvent(m))
				switch e := m.(type) {
				case *cti.CallFailedEvent:
					t.Errorf("CALL_FAILED on an answered call: %s", describeEvent(m))
				case *cti.CallDeliveredEvent:
					alerted = alerted || e.AlertingDeviceID == number
				case *cti.CallEstablishedEvent:
					if e.AnsweringDeviceID == number && !alerted {
						t.Errorf("the far end answered without CALL_DELIVERED (alerting) first")
					}
				}
			}
			t.Logf("call %d: %s", id, strings.Join(seq, " | "))
			// The phone was connected (auto-answer) and hears the far end.
			waitUntil(t, 5*time.Second, "the softphone answering the predictive call", func() bool { return len(phone.answered()) > 0 })
			if inc := phone.rung(); len(inc) > 0 {
				phone.mu.Lock()
				auto := phone.autoHdr[0]
				phone.mu.Unlock()
				if !auto {
					t.Errorf("the predictive call's INVITE to the agent's phone has no Call-Info answer-after=0")
				}
			}
			waitUntil(t, 5*time.Second, "the far end's audio (live hello / machine greeting) at the agent's phone", func() bool {
				return phone.heard.loud.Load() >= 10
			})
			after := r.VoiceCounters()
			if after.RTP.PacketsReceived <= before.RTP.PacketsReceived {
				t.Errorf("voice counters: RTP received %d → %d", before.RTP.PacketsReceived, after.RTP.PacketsReceived)
			}
			t.Logf("%s: %d of %d frames at the phone were loud; RTP received %d → %d; CallManager %+v",
				tc.name, phone.heard.loud.Load(), phone.heard.all.Load(), before.RTP.PacketsReceived, after.RTP.PacketsReceived, after.CallManager)
			if tc.name == "answer" {
				// The customer talks for outbound.talk (3 s), then hangs up:
				// the call ends at the agent and the phone gets its BYE.
				evs = c.waitFor(15*time.Second, "END_CALL after the customer hangs up", func(evs []cti.Message) bool { return hasEndCall(evs, id) })
				leg := phone.answered()[0]
				select {
				case <-leg.Done():
				case <-time.After(5 * time.Second):
					t.Errorf("the agent's phone leg is still up after END_CALL")
				}
			}
		})
	}
}

// ---- 2. RONA ----

// The agent's phone (the test's softphone) rings and is never answered:
// after ring_no_answer_timeout (2 s) the PG takes the call back
// (CALL_CONNECTION_CLEARED and END_CALL at the agent, NOT_READY reason
// 32767), CallManager CANCELs the phone's INVITE, and the caller — who
// heard ringback so far — is answered by IP-IVR and stays connected.
func TestVoiceRONA(t *testing.T) {
	sc := voiceScenario(t, func(sc *scenarios.Scenario) {
		sc.ICM.RingNoAnswerTimeout = scenarios.Duration(2 * time.Second)
	})
	r := startVoiceLab(t, sc, "")
	c := openCTI(t, r.CTIAddr(), "lab-voice-rona")
	engine := newEngine(t)
	phone := startSoftphone(t, r, engine, voiceExt, false)
	r.Begin()
	c.waitAgentState(10*time.Second, cti.AgentStateAvailable)

	cl := newCaller(t, engine, "2125550142")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	type result struct {
		leg *sipnode.Leg
		err error
		at  time.Time
	}
	answered := make(chan result, 1)
	go func() {
		leg, err := cl.dial(ctx, r, voiceDialed)
		answered <- result{leg, err, time.Now()}
	}()

	// CALL_DELIVERED at the agent's extension.
	var callID uint32
	var deliveredAt time.Time
	c.waitFor(10*time.Second, "BEGIN_CALL and CALL_DELIVERED at the agent", func(evs []cti.Message) bool {
		for _, m := range evs {
			switch e := m.(type) {
			case *cti.BeginCallEvent:
				if e.ANI == cl.ani {
					callID = e.ConnectionCallID
				}
			case *cti.CallDeliveredEvent:
				if callID != 0 && e.ConnectionCallID == callID && e.AlertingDeviceID == voiceExt {
					deliveredAt = time.Now()
					return true
				}
			}
		}
		return false
	})
	waitUntil(t, 5*time.Second, "the softphone ringing", func() bool { return len(phone.rung()) > 0 })
	first := phone.rung()[0]

	// RONA.
	evs := c.waitFor(8*time.Second, "RONA: CALL_CONNECTION_CLEARED, END_CALL and NOT_READY 32767 at the agent", func(evs []cti.Message) bool {
		cleared, ended, notReady := false, false, false
		for _, m := range evs {
			switch e := m.(type) {
			case *cti.CallConnectionClearedEvent:
				cleared = cleared || (e.ConnectionCallID == callID && e.ConnectionDeviceID == voiceExt)
			case *cti.EndCallEvent:
				ended = ended || (cleared && e.ConnectionCallID == callID)
			case *cti.AgentStateEvent:
				notReady = notReady || (e.AgentID == voiceAgentID && e.AgentState == cti.AgentStateNotReady && e.EventReasonCode == 32767)
			}
		}
		return cleared && ended && notReady
	})
	rona := time.Since(deliveredAt)
	if rona < 1500*time.Millisecond || rona > 4*time.Second {
		t.Errorf("RONA came %v after CALL_DELIVERED, want about 2 s", rona)
	}
	for _, m := range callEvents(evs, callID) {
		if e, ok := m.(*cti.CallConnectionClearedEvent); ok && e.ConnectionDeviceID == voiceExt && e.EventCause != cti.CECCallNotAnswered {
			t.Errorf("RONA CALL_CONNECTION_CLEARED cause %v, want CEC_CALL_NOT_ANSWERED", e.EventCause)
		}
		if e, ok := m.(*cti.CallEstablishedEvent); ok {
			t.Errorf("the call was established although nobody answered: %s", describeEvent(e))
		}
	}

	// CallManager CANCELs the ringing phone.
	select {
	case <-first.Cancelled():
	case <-time.After(5 * time.Second):
		t.Fatalf("the softphone's INVITE was not CANCELled after RONA")
	}

	// The caller is answered by IP-IVR (the gateway anchors media, so the
	// SDP the caller sees is the gateway's) and stays connected.
	var res result
	select {
	case res = <-answered:
	case <-time.After(5 * time.Second):
		t.Fatalf("the caller was not answered after RONA (IP-IVR should take the call back)")
	}
	if res.err != nil {
		t.Fatalf("the caller's INVITE failed: %v", res.err)
	}
	t.Cleanup(func() { bye(t, res.leg) })
	if res.at.Before(deliveredAt) {
		t.Errorf("the caller was answered before the agent's phone rang")
	}
	vc := r.VoiceCounters()
	if vc.CallManager.ToIVR < 1 || vc.CallManager.PhoneAnswered != 0 {
		t.Errorf("CallManager after RONA: %+v, want the call sent to IP-IVR and no phone answer", vc.CallManager)
	}
	if origin := res.leg.Remote().Origin; origin != "ipcclab-gateway" {
		t.Errorf("caller's remote SDP origin %q, want the media-anchoring gateway's", origin)
	}
	waitUntil(t, 5*time.Second, "IP-IVR's announcement at the caller", func() bool { return cl.heard.loud.Load() >= 10 })
	time.Sleep(time.Second)
	if why := res.leg.Ended(); why != sipnode.EndNone {
		t.Errorf("the caller's leg ended (%v) while queued at IP-IVR", why)
	}
	// The agent model's RONA recovery is 0 (no scenario field sets it):
	// the agent is Ready again at once and the queued call is offered to
	// the same phone again.
	for _, m := range c.events() {
		if e, ok := m.(*cti.AgentStateEvent); ok && e.AgentID == voiceAgentID {
			t.Logf("agent state: %s", describeEvent(e))
		}
	}
	t.Logf("softphone rung %d times", len(phone.rung()))
}

// ---- 3. digits at IP-IVR ----

// With no agent free the caller is answered by IP-IVR, keys "12345678#"
// (RFC 4733) after the 2 s announcement; once the agent is made Available
// the call is delivered with CallerEnteredDigits and CallVariable2 set to
// the account.
func TestVoiceIVRDigits(t *testing.T) {
	sc := voiceScenario(t, nil)
	r := startVoiceLab(t, sc, "")
	c := openCTI(t, r.CTIAddr(), "lab-voice-digits")
	engine := newEngine(t)
	r.Begin()
	c.waitAgentState(10*time.Second, cti.AgentStateAvailable)
	c.setAgentState(cti.AgentStateNotReady, 101)
	c.waitAgentState(5*time.Second, cti.AgentStateNotReady)

	cl := newCaller(t, engine, "2125550177")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	leg, err := cl.dial(ctx, r, voiceDialed)
	if err != nil {
		t.Fatalf("caller INVITE: %v", err)
	}
	t.Cleanup(func() {
		if leg.Ended() == sipnode.EndNone {
			bye(t, leg)
		}
	})
	if vc := r.VoiceCounters(); vc.CallManager.ToIVR != 1 {
		t.Errorf("CallManager %+v: the caller should be at IP-IVR", vc.CallManager)
	}
	if remote := leg.Remote(); remote.EventPT == 0 {
		t.Fatalf("the gateway's answer offers no telephone-event payload type: %+v", remote)
	}
	time.Sleep(2200 * time.Millisecond) // the welcome announcement
	if cl.heard.loud.Load() < 10 {
		t.Errorf("the caller heard no announcement (%d loud frames of %d)", cl.heard.loud.Load(), cl.heard.all.Load())
	}
	const account = "12345678"
	if err := cl.stream.SendDigits(account+"#", 100, 80); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 5*time.Second, "the digits sent", func() bool { return cl.stream.Stats().EventsSent >= uint64(len(account)+1) })
	time.Sleep(300 * time.Millisecond)
	for _, m := range c.events() {
		if e, ok := m.(*cti.BeginCallEvent); ok && e.ANI == cl.ani {
			t.Fatalf("BEGIN_CALL while no agent was available: %s", describeEvent(e))
		}
	}

	c.setAgentState(cti.AgentStateAvailable, 0)
	var callID uint32
	evs := c.waitFor(10*time.Second, "BEGIN_CALL, CALL_DELIVERED and CALL_ESTABLISHED at the agent", func(evs []cti.Message) bool {
		for _, m := range evs {
			switch e := m.(type) {
			case *cti.BeginCallEvent:
				if e.ANI == cl.ani {
					callID = e.ConnectionCallID
				}
			case *cti.CallEstablishedEvent:
				if callID != 0 && e.ConnectionCallID == callID && e.AnsweringDeviceID == voiceExt {
					return true
				}
			}
		}
		return false
	})
	var begin *cti.BeginCallEvent
	var delivered *cti.CallDeliveredEvent
	ced, cv2 := "", ""
	for _, m := range callEvents(evs, callID) {
		switch e := m.(type) {
		case *cti.BeginCallEvent:
			begin = e
			ced, cv2 = e.CallerEnteredDigits, e.CallVariable2
		case *cti.CallDeliveredEvent:
			if e.AlertingDeviceID == voiceExt {
				delivered = e
			}
		case *cti.CallDataUpdateEvent:
			ced, cv2 = e.CallerEnteredDigits, e.CallVariable2
		}
	}
	if ced != account || cv2 != account {
		t.Errorf("call %d data: CallerEnteredDigits %q, CallVariable2 %q; want %q in both:\n%s", callID, ced, cv2, account, describeEvents(callEvents(evs, callID)))
	}
	// The digits were collected before the agent was made Available: the
	// screen pop (BEGIN_CALL, CALL_DELIVERED) must already carry them.
	if begin.CallerEnteredDigits != account || begin.CallVariable2 != account {
		t.Errorf("BEGIN_CALL: %s; want CED and CV2 %q", describeEvent(begin), account)
	}
	if begin.CallVariable1 != "VoiceInbound" {
		t.Errorf("BEGIN_CALL CallVariable1 %q, want the call type's name", begin.CallVariable1)
	}
	if delivered == nil || delivered.CallerEnteredDigits != account || delivered.CallVariable2 != account {
		t.Errorf("CALL_DELIVERED at the agent: %v; want CED and CV2 %q", delivered, account)
	}
	// The caller now talks to the agent's (emulated) phone, still on the
	// same SIP leg.
	vc := r.VoiceCounters()
	if vc.CallManager.Transfers != 1 || vc.CallManager.PhoneAnswered != 1 {
		t.Errorf("CallManager %+v: want one transfer from IP-IVR and one phone answer", vc.CallManager)
	}
	if why := leg.Ended(); why != sipnode.EndNone {
		t.Errorf("the caller's leg ended (%v) on the transfer to the agent", why)
	}
}

// ---- 4. abandon in queue ----

// A caller queued at IP-IVR hangs up after 1 s: the router counts the
// abandon, no CTI client ever saw the call, and CallManager's one
// translation route is free again for the next caller.
func TestVoiceCallerAbandonsInQueue(t *testing.T) {
	sc := voiceScenario(t, func(sc *scenarios.Scenario) {
		sc.Voice.TranslationRoutes = scenarios.TranslationRoutes{First: 7000, Count: 1}
	})
	r := startVoiceLab(t, sc, "")
	c := openCTI(t, r.CTIAddr(), "lab-voice-abandon")
	engine := newEngine(t)
	r.Begin()
	c.waitAgentState(10*time.Second, cti.AgentStateAvailable)
	c.setAgentState(cti.AgentStateNotReady, 101)
	c.waitAgentState(5*time.Second, cti.AgentStateNotReady)

	first := newCaller(t, engine, "2125550101")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	leg, err := first.dial(ctx, r, voiceDialed)
	if err != nil {
		t.Fatalf("first caller INVITE: %v", err)
	}
	time.Sleep(time.Second)
	bye(t, leg)

	waitUntil(t, 5*time.Second, "the abandon in the report", func() bool { return r.Report().Inbound.Abandoned >= 1 })
	rep := r.Report()
	t.Logf("inbound after the abandon: %+v", rep.Inbound)
	if rep.Inbound.Offered != 1 || rep.Inbound.Answered != 0 {
		t.Errorf("inbound offered %d, answered %d; want 1 and 0", rep.Inbound.Offered, rep.Inbound.Answered)
	}
	if rep.Inbound.ShortCalls != 0 {
		t.Errorf("a 1 s abandon counted as a short call (abandon_call_wait_time 300ms): %+v", rep.Inbound)
	}
	for _, m := range c.events() {
		if e, ok := m.(*cti.BeginCallEvent); ok {
			t.Errorf("BEGIN_CALL for a call that never left the queue: %s", describeEvent(e))
		}
	}

	// The one translation route was released: the next caller is answered
	// by IP-IVR too.
	second := newCaller(t, engine, "2125550102")
	leg2, err := second.dial(ctx, r, voiceDialed)
	if err != nil {
		t.Fatalf("second caller INVITE (the translation route should be free again): %v", err)
	}
	vc := r.VoiceCounters()
	if vc.CallManager.ToIVR != 2 || vc.CallManager.PhoneAnswered != 0 {
		t.Errorf("CallManager %+v: want both callers sent to IP-IVR", vc.CallManager)
	}
	waitUntil(t, 5*time.Second, "IP-IVR's announcement at the second caller", func() bool { return second.heard.loud.Load() >= 10 })
	bye(t, leg2)
	waitUntil(t, 5*time.Second, "the second abandon", func() bool { return r.Report().Inbound.Abandoned >= 2 })
}

// ---- 5. capture ----

// A call answered by the emulated agent's phone, recorded with Capture:
// the pcapng holds the CTI TCP stream, the SIP dialogs over UDP and RTP in
// both directions.
func TestVoiceCapture(t *testing.T) {
	sc := voiceScenario(t, nil)
	path := filepath.Join(t.TempDir(), "voice.pcapng")
	r := startVoiceLab(t, sc, path)
	c := openCTI(t, r.CTIAddr(), "lab-voice-capture")
	engine := newEngine(t)
	r.Begin()
	c.waitAgentState(10*time.Second, cti.AgentStateAvailable)

	cl := newCaller(t, engine, "2125550199")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	leg, err := cl.dial(ctx, r, voiceDialed)
	if err != nil {
		t.Fatalf("caller INVITE: %v", err)
	}
	time.Sleep(3 * time.Second)
	if cl.heard.loud.Load() < 25 {
		t.Errorf("the caller heard %d loud frames of %d from the agent's phone", cl.heard.loud.Load(), cl.heard.all.Load())
	}
	bye(t, leg)
	var callID uint32
	c.waitFor(5*time.Second, "END_CALL", func(evs []cti.Message) bool {
		for _, m := range evs {
			if e, ok := m.(*cti.BeginCallEvent); ok && e.ANI == cl.ani {
				callID = e.ConnectionCallID
			}
		}
		return callID != 0 && hasEndCall(evs, callID)
	})
	ctiPort := mustPort(t, r.CTIAddr())
	gwPort := mustPort(t, r.SIPAddr())
	cmPort := mustPort(t, r.RegistrarAddr())
	_ = r.Stop()

	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rd, err := pcapgo.NewNgReader(bytes.NewReader(raw), pcapgo.DefaultNgReaderOptions)
	if err != nil {
		t.Fatalf("pcapng: %v", err)
	}
	type flow struct{ src, dst uint16 }
	var ctiSegs, ctiBytes int
	sipSeen := map[string]int{}
	sipPorts := map[uint16]bool{}
	rtpFlows := map[flow]int{}
	rtpSeqs := map[flow]map[uint16]int{}
	packets := 0
	for {
		data, _, err := rd.ReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("pcapng packet %d: %v", packets, err)
		}
		packets++
		p := gopacket.NewPacket(data, layers.LinkTypeEthernet, gopacket.Default)
		if tcp, ok := p.Layer(layers.LayerTypeTCP).(*layers.TCP); ok {
			if (uint16(tcp.SrcPort) == ctiPort || uint16(tcp.DstPort) == ctiPort) && len(tcp.Payload) > 0 {
				ctiSegs++
				ctiBytes += len(tcp.Payload)
			}
			continue
		}
		udp, ok := p.Layer(layers.LayerTypeUDP).(*layers.UDP)
		if !ok {
			continue
		}
		pl := udp.Payload
		if line, ok := sipStartLine(pl); ok {
			sipSeen[line]++
			sipPorts[uint16(udp.SrcPort)], sipPorts[uint16(udp.DstPort)] = true, true
			continue
		}
		// RTP (RFC 3550): version 2, G.711 or telephone-event.
		if len(pl) >= 12 && pl[0]>>6 == 2 && (pl[1]&0x7f == 0 || pl[1]&0x7f == 8 || pl[1]&0x7f == 101) {
			f := flow{uint16(udp.SrcPort), uint16(udp.DstPort)}
			rtpFlows[f]++
			if rtpSeqs[f] == nil {
				rtpSeqs[f] = map[uint16]int{}
			}
			rtpSeqs[f][binary.BigEndian.Uint16(pl[2:4])]++
		}
	}
	t.Logf("capture: %d packets, %d CTI segments (%d bytes), SIP %v, %d RTP flows", packets, ctiSegs, ctiBytes, sipSeen, len(rtpFlows))
	if ctiSegs < 4 {
		t.Errorf("capture: %d CTI segments on port %d, want the session's OPEN and events", ctiSegs, ctiPort)
	}
	for _, want := range []string{"INVITE", "200 INVITE", "ACK", "BYE", "200 BYE", "180 INVITE"} {
		if sipSeen[want] == 0 {
			t.Errorf("capture: no SIP %s", want)
		}
	}
	if !sipPorts[gwPort] || !sipPorts[cmPort] {
		t.Errorf("capture: SIP on ports %v, want the gateway's PSTN side %d and CallManager %d", sipPorts, gwPort, cmPort)
	}
	// RTP both ways between the caller and the gateway, and both ways
	// between the gateway and the phone.
	callerPort := cl.stream.LocalAddr().Port()
	both := 0
	dups := 0
	for f, n := range rtpFlows {
		if rev := rtpFlows[flow{f.dst, f.src}]; n >= 50 && rev >= 50 && f.src < f.dst {
			both++
		}
		for _, k := range rtpSeqs[f] {
			if k > 1 {
				dups += k - 1
			}
		}
	}
	toCaller, fromCaller := 0, 0
	for f, n := range rtpFlows {
		if f.dst == callerPort {
			toCaller += n
		}
		if f.src == callerPort {
			fromCaller += n
		}
	}
	if toCaller < 100 || fromCaller < 100 {
		t.Errorf("capture: RTP to the caller %d, from the caller %d packets; want a 3 s call both ways", toCaller, fromCaller)
	}
	if both < 2 {
		t.Errorf("capture: %d RTP flows with traffic both ways, want at least 2 (caller ↔ gateway, gateway ↔ phone): %v", both, rtpFlows)
	}
	if dups > 0 {
		// Both ends of lab-internal RTP are tapped; the writer must record
		// each datagram once.
		t.Errorf("capture: %d RTP packets recorded more than once (same flow and sequence number)", dups)
	}

	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Log("tshark not on PATH: skipping the Wireshark check")
		return
	}
	tctx, tcancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer tcancel()
	out, err := exec.CommandContext(tctx, tshark, "-n", "-r", path, "--enable-heuristic", "rtp_udp", "-q", "-z", "rtp,streams").CombinedOutput()
	if err != nil {
		t.Fatalf("tshark: %v\n%s", err, out)
	}
	streams, lossless := tsharkRTPStreams(string(out))
	t.Logf("tshark rtp,streams: %d streams, %d with 0 lost\n%s", streams, lossless, out)
	if lossless < 2 {
		t.Errorf("tshark: %d RTP streams with 0 lost, want at least 2", lossless)
	}
}

func mustPort(t *testing.T, addr string) uint16 {
	t.Helper()
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		t.Fatalf("address %q: %v", addr, err)
	}
	return ap.Port()
}

// sipStartLine names a SIP message: the method of a request, "code METHOD"
// of a response.
func sipStartLine(b []byte) (string, bool) {
	s := string(b)
	eol := strings.Index(s, "\r\n")
	if eol < 0 {
		return "", false
	}
	first := s[:eol]
	if strings.HasPrefix(first, "SIP/2.0 ") {
		f := strings.Fields(first)
		if len(f) < 2 {
			return "", false
		}
		m := regexp.MustCompile(`(?mi)^CSeq:\s*\d+\s+(\w+)`).FindStringSubmatch(s)
		if m == nil {
			return "", false
		}
		return f[1] + " " + m[1], true
	}
	if strings.HasSuffix(first, " SIP/2.0") {
		return strings.Fields(first)[0], true
	}
	return "", false
}

// tsharkRTPStreams parses `tshark -z rtp,streams`: the number of streams
// and how many have 0 lost packets. A stream's row holds two IPv4
// addresses and its Lost column is "N (P%)".
func tsharkRTPStreams(out string) (streams, lossless int) {
	ip := regexp.MustCompile(`^\d+\.\d+\.\d+\.\d+$`)
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		addrs := 0
		for _, x := range f {
			if ip.MatchString(x) {
				addrs++
			}
		}
		if addrs != 2 {
			continue
		}
		for i := 0; i+1 < len(f); i++ {
			if strings.HasPrefix(f[i+1], "(") && strings.HasSuffix(f[i+1], "%)") {
				streams++
				if n, err := strconv.Atoi(f[i]); err == nil && n == 0 {
					lossless++
				}
				break
			}
		}
	}
	return streams, lossless
}
