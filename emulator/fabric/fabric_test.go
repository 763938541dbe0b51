package fabric

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/pion/rtp"

	"github.com/ipcclab/ipcclab/emulator/agents"
	"github.com/ipcclab/ipcclab/emulator/centre"
	"github.com/ipcclab/ipcclab/emulator/icm"
	"github.com/ipcclab/ipcclab/emulator/pg"
	"github.com/ipcclab/ipcclab/emulator/pstn"
	"github.com/ipcclab/ipcclab/internal/sim"
)

var start = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

// smallCentre is one call type and one inbound agent (5001 on 6001) who
// answers in 500 ms and talks 5 s; out is the predictive customers' fate.
func smallCentre(out centre.Outbound) centre.Config {
	return centre.Config{
		RingNoAnswerTimeout: 2 * time.Second,
		SkillGroups:         []icm.SkillGroupConfig{{Number: 300, ID: 5300, Name: "Sales", ServiceLevelThreshold: 20 * time.Second, ServiceLevelType: 2}},
		CallTypes: []centre.CallType{{ID: 1, Name: "Sales", DialedNumber: "8005550100", ServiceLevelThreshold: 20 * time.Second,
			ServiceLevelType: 2, Targets: []icm.Target{{SkillGroup: 300, Priority: 5}}, Arrivals: pstn.Profile{Segment: time.Minute, PerHour: []float64{0}}}},
		Agents: []centre.AgentGroup{{Name: "sales", Role: agents.RoleInbound, Count: 1, FirstAgentID: 5001, FirstExtension: 6001,
			SkillGroups: []uint32{300}, AnswerDelay: pstn.Dist{Mean: 500 * time.Millisecond}}},
		Callers:  centre.Callers{Talk: pstn.Dist{Mean: 5 * time.Second}},
		Outbound: out,
	}
}

// rig is a centre on a virtual clock with the fabric as its voice path,
// recording the SIP messages, RTP packets and PG events.
type rig struct {
	loop   *sim.Loop
	cen    *centre.Centre
	fab    *Fabric
	msgs   []string
	raw    []Message
	rtp    [][]byte
	events []pg.Event
}

func newRig(t *testing.T, cc centre.Config, seed uint64) *rig {
	t.Helper()
	r := &rig{loop: sim.NewLoop(start)}
	var err error
	r.fab, err = New(Config{Scheduler: r.loop, Seed: seed,
		OnSIP: func(at time.Time, m Message) {
			r.msgs = append(r.msgs, fmt.Sprintf("%s %s", at.Sub(start), m.Summary()))
			r.raw = append(r.raw, m)
		},
		OnRTP: func(at time.Time, src, dst netip.AddrPort, b []byte) {
			r.rtp = append(r.rtp, append([]byte(nil), b...))
		}})
	if err != nil {
		t.Fatal(err)
	}
	cc.Voice = r.fab
	if r.cen, err = centre.New(cc, r.loop, seed); err != nil {
		t.Fatal(err)
	}
	if err := r.fab.Attach(r.cen); err != nil {
		t.Fatal(err)
	}
	r.cen.Subscribe(func(e pg.Event) { r.events = append(r.events, e) })
	r.cen.Start()
	return r
}

func (r *rig) run(d time.Duration) { r.loop.RunVirtual(r.loop.Now().Add(d)) }

func (r *rig) has(t *testing.T, seed uint64, want ...string) {
	t.Helper()
	all := strings.Join(r.msgs, "\n")
	for _, w := range want {
		if !strings.Contains(all, w) {
			t.Errorf("seed %d: no %q among the SIP messages:\n%s", seed, w, all)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	loop := sim.NewLoop(start)
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{}, "scheduler required"},
		{Config{Scheduler: loop, Hop: -time.Millisecond}, "hop latency must be within 0..1s, got -1ms"},
		{Config{Scheduler: loop, Hop: 2 * time.Second}, "hop latency must be within 0..1s, got 2s"},
		{Config{Scheduler: loop, TranslationRouteCount: -1}, "translation routes must not be negative"},
	} {
		if _, err := New(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%+v): %v, want an error with %q", tc.cfg, err, tc.want)
		}
	}
	f, err := New(Config{Scheduler: loop})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Attach(nil); err == nil {
		t.Error("Attach(nil) accepted")
	}
}

// An agent free: the call goes from the route point straight to the phone,
// which rings (180), is answered by the agent (200 → CALL_ESTABLISHED), and
// the agent hangs up after the talk time (BYE) — IP-IVR never sees it.
func TestInboundAnsweredAtOnce(t *testing.T) {
	const seed = 1
	r := newRig(t, smallCentre(centre.Outbound{}), seed)
	r.run(time.Second)
	r.cen.PSTN().Arrive(0)
	r.run(time.Minute)
	r.has(t, seed,
		"INVITE gateway→callmanager", "100 Trying (INVITE) callmanager→gateway",
		"INVITE callmanager→phones", "180 Ringing (INVITE) phones→callmanager", "200 OK (INVITE) phones→callmanager",
		"200 OK (INVITE) callmanager→gateway", "BYE phones→callmanager", "BYE callmanager→gateway")
	st := r.fab.Stats()
	if st.IVRCalls != 0 || st.PhoneAnswered != 1 || st.Inbound != 1 {
		t.Errorf("seed %d: stats %+v: want 1 inbound call answered at a phone, none at IP-IVR", seed, st)
	}
	if n := r.cen.PG().ActiveCalls(); n != 0 {
		t.Errorf("seed %d: %d calls still live", seed, n)
	}
	// The answer came one hop after the agent's answer delay, not before.
	var delivered, established time.Time
	for i, m := range r.raw {
		switch {
		case m.Status == 180 && m.From == NodePhones:
			delivered = start.Add(parseOffset(t, r.msgs[i]))
		case m.Status == 200 && m.From == NodePhones && m.CSeqMethod == "INVITE":
			established = start.Add(parseOffset(t, r.msgs[i]))
		}
	}
	if d := established.Sub(delivered); d < 500*time.Millisecond {
		t.Errorf("seed %d: phone answered %v after ringing, want at least the 500 ms answer delay", seed, d)
	}
}

func parseOffset(t *testing.T, line string) time.Duration {
	t.Helper()
	d, err := time.ParseDuration(strings.Fields(line)[0])
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// Nobody free: the caller waits at IP-IVR and keys the account; the digits
// travel as RFC 4733 packets (eight digits and '#', seven packets each)
// and reach the PG as CallerEnteredDigits and CallVariable2.
func TestIVRDigitsAsRFC4733(t *testing.T) {
	const seed = 7
	cc := smallCentre(centre.Outbound{})
	cc.Callers.Talk = pstn.Dist{Mean: time.Minute}
	r := newRig(t, cc, seed)
	r.run(time.Second)
	r.cen.PSTN().Arrive(0) // the agent takes this one and talks a minute
	r.run(time.Second)
	queued := r.cen.PSTN().Arrive(0)
	r.run(30 * time.Second)
	r.has(t, seed, "INVITE callmanager→ivr", "200 OK (INVITE) ivr→callmanager", "200 OK (INVITE) callmanager→gateway")
	st := r.fab.Stats()
	if st.Digits != 9 || st.DigitStrings != 1 || st.RTPPackets != 63 {
		t.Errorf("seed %d: %d digits, %d strings, %d RTP packets; want 9, 1, 63", seed, st.Digits, st.DigitStrings, st.RTPPackets)
	}
	// The queued call is not visible to CTI yet (never delivered): the
	// digits are in the PG's call data.
	ci, ok := r.cen.PG().Call(queued.CallID)
	if !ok {
		t.Fatalf("seed %d: the queued caller's call %d is not at the PG", seed, queued.CallID)
	}
	if len(ci.Data.CallerEnteredDigits) != 8 || ci.Data.CallVariables[1] != ci.Data.CallerEnteredDigits {
		t.Errorf("seed %d: call data CED %q CV2 %q, want the eight-digit account in both", seed, ci.Data.CallerEnteredDigits, ci.Data.CallVariables[1])
	}
	// What went over the wire: RTP version 2, telephone-event payload type,
	// one SSRC, consecutive sequence numbers.
	var seq uint16
	for i, b := range r.rtp {
		var p rtp.Packet
		if err := p.Unmarshal(b); err != nil {
			t.Fatalf("seed %d: packet %d: %v", seed, i, err)
		}
		if p.PayloadType != eventPT || p.Version != 2 {
			t.Errorf("seed %d: packet %d: PT %d version %d", seed, i, p.PayloadType, p.Version)
		}
		if i > 0 && p.SequenceNumber != seq+1 {
			t.Errorf("seed %d: packet %d: sequence %d after %d", seed, i, p.SequenceNumber, seq)
		}
		seq = p.SequenceNumber
	}
}

// A caller who dials a number that is not in CallManager's dial plan gets
// 404, and the PG never sees a call.
func TestUnknownDialedNumberGets404(t *testing.T) {
	const seed = 3
	r := newRig(t, smallCentre(centre.Outbound{}), seed)
	r.fab.Arrive(&pstn.Caller{ID: 99, ANI: "2125550199", DialedNumber: "8009999999", DNIS: "8009999999"})
	r.run(time.Second)
	r.has(t, seed, "INVITE gateway→callmanager", "404 Not Found (INVITE) callmanager→gateway")
	st := r.fab.Stats()
	if st.NoRoute != 1 || st.InboundFailed != 1 || st.Inbound != 0 {
		t.Errorf("seed %d: stats %+v: want one 404 (no route) and nothing at a route point", seed, st)
	}
	for _, e := range r.events {
		if _, ok := e.(*pg.AgentStateEvent); !ok {
			t.Errorf("seed %d: the PG reported %v for an unknown number", seed, e)
		}
	}
	if n := r.cen.PG().ActiveCalls(); n != 0 {
		t.Errorf("seed %d: the PG has %d calls for an unknown number", seed, n)
	}
}

// Predictive calls: the gateway answers each outcome as the cause map says
// (busy 486 after a 183 of busy tone, vacant number 404 with SIT and a
// Q.850 Reason), and the PG reports the CTI cause.
func TestPredictiveOutcomes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		out    centre.Outbound
		want   []string
		cause  pg.EventCause
		reason int
	}{
		{"busy", centre.Outbound{Enabled: true, Busy: 1}, []string{"183 Session Progress (INVITE) gateway→callmanager", "486 Busy Here (INVITE) gateway→callmanager"}, pg.CauseBusy, 17},
		{"vacant", centre.Outbound{Enabled: true, VacantNumber: 1}, []string{"404 Not Found (INVITE) gateway→callmanager"}, pg.CauseDestNotObtainable, 1},
		{"no circuit", centre.Outbound{Enabled: true, NoCircuit: 1}, []string{"503 Service Unavailable (INVITE) gateway→callmanager"}, pg.CauseDestNotObtainable, 34},
		{"no answer", centre.Outbound{Enabled: true, RingTime: pstn.Dist{Mean: time.Second}}, []string{"180 Ringing (INVITE) gateway→callmanager", "CANCEL callmanager→gateway", "487 Request Terminated (INVITE) gateway→callmanager"}, pg.CauseCallNotAnswered, 0},
		{"answer", centre.Outbound{Enabled: true, Answer: 1, Talk: pstn.Dist{Mean: 2 * time.Second}}, []string{"200 OK (INVITE) gateway→callmanager", "INVITE callmanager→phones", "BYE gateway→callmanager"}, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const seed = 5
			r := newRig(t, smallCentre(tc.out), seed)
			r.run(time.Second)
			if _, err := r.cen.PG().MakePredictiveCall(pg.PredictiveCallRequest{DialedNumber: "15555550100", OriginatingDevice: "6001", RingTimeout: 4 * time.Second}); err != nil {
				t.Fatal(err)
			}
			r.run(time.Minute)
			r.has(t, seed, tc.want...)
			var failed *pg.CallFailedEvent
			for _, e := range r.events {
				if f, ok := e.(*pg.CallFailedEvent); ok {
					failed = f
				}
			}
			switch {
			case tc.cause == 0 && failed != nil:
				t.Errorf("seed %d: an answered call failed: %v", seed, failed)
			case tc.cause != 0 && (failed == nil || failed.Cause != tc.cause):
				t.Errorf("seed %d: CALL_FAILED %v, want cause %v", seed, failed, tc.cause)
			}
			if tc.reason != 0 {
				found := false
				for _, m := range r.raw {
					found = found || m.Cause == tc.reason && m.Status >= 400
				}
				if !found {
					t.Errorf("seed %d: no final response with Reason Q.850 cause %d", seed, tc.reason)
				}
			}
			if n := r.cen.PG().ActiveCalls(); n != 0 {
				t.Errorf("seed %d: %d calls still live", seed, n)
			}
		})
	}
}

// Every message renders as SIP that sipgo's parser reads back, with the
// same method or status and a Call-ID and CSeq; a run renders the same
// bytes every time.
func TestRenderParses(t *testing.T) {
	const seed = 9
	render := func() []string {
		r := newRig(t, smallCentre(centre.Outbound{Enabled: true, Answer: 0.5, Busy: 0.5, Talk: pstn.Dist{Mean: time.Second}}), seed)
		r.cen.PSTN().Arrive(0)
		r.run(time.Second)
		r.cen.PSTN().Arrive(0) // queued at IP-IVR while the first talks
		if _, err := r.cen.PG().MakePredictiveCall(pg.PredictiveCallRequest{DialedNumber: "15555550100", OriginatingDevice: "6001"}); err != nil {
			t.Fatal(err)
		}
		r.run(2 * time.Minute)
		var out []string
		parser := sip.NewParser()
		for _, m := range r.raw {
			b := Render(m, seed)
			msg, err := parser.ParseSIP(b)
			if err != nil {
				t.Fatalf("seed %d: %s does not parse: %v\n%s", seed, m.Summary(), err, b)
			}
			switch x := msg.(type) {
			case *sip.Request:
				if string(x.Method) != m.Method {
					t.Errorf("seed %d: %s parsed as %s", seed, m.Summary(), x.Method)
				}
			case *sip.Response:
				if x.StatusCode != m.Status {
					t.Errorf("seed %d: %s parsed as %d", seed, m.Summary(), x.StatusCode)
				}
			}
			if msg.CallID() == nil || msg.CSeq() == nil {
				t.Errorf("seed %d: %s has no Call-ID or CSeq", seed, m.Summary())
			}
			out = append(out, string(b))
		}
		if len(out) < 20 {
			t.Fatalf("seed %d: only %d messages", seed, len(out))
		}
		return out
	}
	a, b := render(), render()
	if len(a) != len(b) {
		t.Fatalf("seed %d: two runs rendered %d and %d messages", seed, len(a), len(b))
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("seed %d: two runs rendered message %d differently:\n%s\n----\n%s", seed, i, a[i], b[i])
		}
	}
}
