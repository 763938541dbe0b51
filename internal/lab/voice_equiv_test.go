package lab

// The two drivers' voice paths must agree: the same script of calls
// (testdata/voice-equivalence.yaml) run through the real driver — gateway,
// CallManager, IP-IVR and phones over SIP and RTP on loopback — and through
// the simulation's switching fabric (emulator/fabric) in virtual time gives
// every call the same sequence of CTI events (the PG events the CTI Server
// renders one for one, with the device of each) and the same
// CallerEnteredDigits and CallVariable2. Timings differ and are not
// compared.
//
// testdata/voice-equivalence.golden is recorded from the real driver:
//
//	go test ./internal/lab -run TestVoiceEquivalenceReal -update-voice
//
// TestVoiceEquivalenceReal (about 25 s of wall time, skipped with -short)
// checks the real driver against it; TestVoiceEquivalenceSimulated (well
// under a second) checks the fabric against it.

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ipcclab/ipcclab/emulator/centre"
	"github.com/ipcclab/ipcclab/emulator/pg"
	"github.com/ipcclab/ipcclab/emulator/pstn"
	"github.com/ipcclab/ipcclab/internal/sim"
	"github.com/ipcclab/ipcclab/scenarios"
)

var updateVoiceGolden = flag.Bool("update-voice", false, "record testdata/voice-equivalence.golden from the real driver")

const equivGolden = "testdata/voice-equivalence.golden"

// equivCall is one call of the script, placed at an offset from the start
// of traffic: an inbound caller of call type stream, or a predictive call
// from ext to a number whose fate is outcome.
type equivCall struct {
	label   string
	at      time.Duration
	inbound bool
	stream  int
	ext     string
	outcome pstn.Outcome
}

var equivCalls = []equivCall{
	// Agent 5001 is free: the call goes from the route point to the phone.
	{label: "inbound answered at once", at: 3 * time.Second, inbound: true, stream: 0},
	// 5001 is busy: queued at IP-IVR, keys the account, delivered when 5001
	// is free again (~10.5 s), with the digits.
	{label: "inbound queued at IP-IVR with digits", at: 4 * time.Second, inbound: true, stream: 0},
	// Queued behind it; patience (10 s) ends while 5001 talks.
	{label: "inbound abandons in queue", at: 5 * time.Second, inbound: true, stream: 0},
	// Agent 5002 never answers: RONA after 2 s, back to IP-IVR, abandons.
	{label: "inbound RONA then abandons", at: 6 * time.Second, inbound: true, stream: 1},
	{label: "predictive live", at: 3 * time.Second, ext: "6101", outcome: pstn.OutcomeAnswer},
	{label: "predictive busy", at: 3 * time.Second, ext: "6102", outcome: pstn.OutcomeBusy},
	{label: "predictive no answer", at: 3 * time.Second, ext: "6103", outcome: pstn.OutcomeNoAnswer},
	{label: "predictive vacant number (SIT)", at: 3 * time.Second, ext: "6104", outcome: pstn.OutcomeVacantNumber},
}

// equivRingLimit is the predictive calls' ring limit (MAKE_PREDICTIVE_CALL
// AlertRings): CallManager CANCELs an unanswered call then.
const equivRingLimit = 5 * time.Second

// equivNumbers finds, for each outcome the script needs, the first number
// whose per-number fate (outbound.fate: per_number, seeded with the run's
// seed) is that outcome — by dialing candidates in a PSTN model of their
// own, so the test does not depend on how fates are drawn.
func equivNumbers(t *testing.T, sc *scenarios.Scenario, seed uint64) map[pstn.Outcome]string {
	t.Helper()
	o := CentreConfig(sc).Outbound
	loop := sim.NewLoop(sc.StartTime())
	world, err := pstn.New(pstn.Config{Scheduler: loop, Rand: sim.Stream(seed, "pstn"), Outbound: pstn.OutboundConfig{
		Answer: o.Answer, Busy: o.Busy, VacantNumber: o.VacantNumber, SetupDelay: o.SetupDelay, RingTime: o.RingTime,
		Talk: o.Talk, PerNumberFate: true, FateSeed: seed}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]pstn.Outcome{}
	var order []string
	for n := 0; n < 200; n++ {
		number := fmt.Sprintf("%s%07d", sc.Outbound.NumberPrefix, n)
		order = append(order, number)
		var ce *pstn.Callee
		ce = world.Dial(number, equivRingLimit, pstn.DialHandler{
			Answered: func() { got[number] = ce.Outcome(); ce.Drop() },
			Failed:   func(o pstn.Outcome) { got[number] = o },
		})
	}
	loop.RunVirtual(loop.Now().Add(time.Minute))
	out := map[pstn.Outcome]string{}
	for _, c := range equivCalls {
		if c.inbound {
			continue
		}
		for _, n := range order {
			if got[n] == c.outcome {
				out[c.outcome] = n
				break
			}
		}
		if out[c.outcome] == "" {
			t.Fatalf("seed %d: no number among %d candidates has the fate %v", seed, len(order), c.outcome)
		}
	}
	return out
}

// equivRun places the script's calls on the centre's scheduler and
// remembers which call is which (on the scheduler).
type equivRun struct {
	callers map[string]*pstn.Caller
	ids     map[string]uint32
	errs    []string
}

func (r *equivRun) start(sched sim.Scheduler, cen *centre.Centre, numbers map[pstn.Outcome]string) {
	r.callers, r.ids = map[string]*pstn.Caller{}, map[string]uint32{}
	for _, c := range equivCalls {
		c := c
		sim.After(sched, c.at, func(time.Time) {
			if c.inbound {
				r.callers[c.label] = cen.PSTN().Arrive(c.stream)
				return
			}
			id, err := cen.PG().MakePredictiveCall(pg.PredictiveCallRequest{DialedNumber: numbers[c.outcome],
				OriginatingDevice: c.ext, RingTimeout: equivRingLimit})
			if err != nil {
				r.errs = append(r.errs, fmt.Sprintf("%s: MakePredictiveCall: %v", c.label, err))
				return
			}
			r.ids[c.label] = id
		})
	}
}

// resolve returns the ConnectionCallID of every call placed so far (an
// inbound caller's once CallManager gave it to the PG).
func (r *equivRun) resolve() map[string]uint32 {
	out := map[string]uint32{}
	for l, id := range r.ids {
		out[l] = id
	}
	for l, cl := range r.callers {
		if cl.CallID != 0 {
			out[l] = cl.CallID
		}
	}
	return out
}

// equivRecorder keeps each call's events (a PG subscriber; the real
// driver's loop runs it, the test reads it).
type equivRecorder struct {
	mu     sync.Mutex
	events map[uint32][]string
	ced    map[uint32]string
	cv2    map[uint32]string
}

func newEquivRecorder() *equivRecorder {
	return &equivRecorder{events: map[uint32][]string{}, ced: map[uint32]string{}, cv2: map[uint32]string{}}
}

func (r *equivRecorder) event(e pg.Event) {
	var conn pg.Connection
	var data *pg.CallData
	switch ev := e.(type) {
	case *pg.BeginCallEvent:
		conn, data = ev.Connection, &ev.Data
	case *pg.CallDeliveredEvent:
		conn, data = ev.Connection, &ev.Data
	case *pg.CallEstablishedEvent:
		conn = ev.Connection
	case *pg.CallOriginatedEvent:
		conn = ev.Connection
	case *pg.CallFailedEvent:
		conn = ev.Connection
	case *pg.CallConnectionClearedEvent:
		conn = ev.Connection
	case *pg.CallClearedEvent:
		conn = ev.Connection
	case *pg.EndCallEvent:
		conn = ev.Connection
	case *pg.CallDataUpdateEvent:
		conn, data = ev.Connection, &ev.Data
	default:
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	id := conn.CallID
	name := strings.TrimSuffix(e.Type().String(), "_EVENT")
	if conn.DeviceID != "" {
		name += "@" + conn.DeviceID
	}
	r.events[id] = append(r.events[id], name)
	if data != nil {
		if data.CallerEnteredDigits != "" {
			r.ced[id] = data.CallerEnteredDigits
		}
		if data.CallVariables[1] != "" {
			r.cv2[id] = data.CallVariables[1]
		}
	}
}

// transcript renders the calls by label: the golden file's format.
func (r *equivRecorder) transcript(ids map[string]uint32) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	for _, c := range equivCalls {
		id, ok := ids[c.label]
		fmt.Fprintf(&b, "%s\n", c.label)
		if !ok {
			b.WriteString("  (never reached the PG)\n")
			continue
		}
		fmt.Fprintf(&b, "  events: %s\n", strings.Join(r.events[id], " "))
		fmt.Fprintf(&b, "  caller_entered_digits: %q\n  call_variable_2: %q\n", r.ced[id], r.cv2[id])
	}
	return b.String()
}

// placed reports whether every call of the script reached the PG.
func placed(ids map[string]uint32) bool { return len(ids) == len(equivCalls) }

func equivScenario(t *testing.T) *scenarios.Scenario {
	t.Helper()
	sc, err := scenarios.Load(filepath.Join("testdata", "voice-equivalence.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// runEquivSimulated runs the script through the fabric in virtual time.
func runEquivSimulated(t *testing.T, sc *scenarios.Scenario, seed uint64) string {
	t.Helper()
	loop := sim.NewLoop(sc.StartTime())
	v, err := newSimVoice(sc, SimOptions{Voice: true, Seed: seed}, loop, nil)
	if err != nil {
		t.Fatal(err)
	}
	cen, err := centre.New(v.centreConfig(CentreConfig(sc)), loop, seed)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.attach(cen); err != nil {
		t.Fatal(err)
	}
	rec := newEquivRecorder()
	cen.Subscribe(rec.event)
	cen.Start()
	run := &equivRun{}
	run.start(loop, cen, equivNumbers(t, sc, seed))
	loop.RunVirtual(loop.Now().Add(time.Minute))
	if len(run.errs) > 0 {
		t.Fatalf("seed %d: %s", seed, strings.Join(run.errs, "; "))
	}
	ids := run.resolve()
	if !placed(ids) || cen.PG().ActiveCalls() != 0 {
		t.Errorf("seed %d: not every call ended within a simulated minute (%d live):\n%s", seed, cen.PG().ActiveCalls(), rec.transcript(ids))
	}
	return rec.transcript(ids)
}

// runEquivReal runs the script through the real driver on loopback.
func runEquivReal(t *testing.T, sc *scenarios.Scenario) string {
	t.Helper()
	r := startVoiceLab(t, sc, "")
	rec := newEquivRecorder()
	onLoop := func(fn func()) {
		done := make(chan struct{})
		r.loop.Post(func(time.Time) { fn(); close(done) })
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("the centre's loop did not answer")
		}
	}
	onLoop(func() { r.cen.Subscribe(rec.event) })
	numbers := equivNumbers(t, sc, sc.Seed)
	r.Begin()
	run := &equivRun{}
	onLoop(func() { run.start(r.loop, r.cen, numbers) })
	deadline := time.Now().Add(60 * time.Second)
	var ids map[string]uint32
	for {
		var errs []string
		live := 0
		onLoop(func() { ids, errs, live = run.resolve(), append([]string(nil), run.errs...), r.cen.PG().ActiveCalls() })
		if len(errs) > 0 {
			t.Fatal(strings.Join(errs, "; "))
		}
		// Calls abandoned in queue never show on CTI: done is every
		// call placed and none left at the PG.
		if placed(ids) && live == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not every call ended within 60 s:\n%s", rec.transcript(ids))
		}
		time.Sleep(200 * time.Millisecond)
	}
	return rec.transcript(ids)
}

func readEquivGolden(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(equivGolden)
	if err != nil {
		t.Fatalf("%v (record it: go test ./internal/lab -run TestVoiceEquivalenceReal -update-voice)", err)
	}
	return string(b)
}

func TestVoiceEquivalenceReal(t *testing.T) {
	if testing.Short() {
		t.Skip("the real driver's half takes about 25 s; -short checks the fabric against the golden file only")
	}
	sc := equivScenario(t)
	got := runEquivReal(t, sc)
	if *updateVoiceGolden {
		if err := os.WriteFile(equivGolden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("recorded %s from the real driver", equivGolden)
		return
	}
	if want := readEquivGolden(t); got != want {
		t.Errorf("the real driver's calls differ from %s:\n%s", equivGolden, diffLines(want, got))
	}
}

func TestVoiceEquivalenceSimulated(t *testing.T) {
	sc := equivScenario(t)
	got := runEquivSimulated(t, sc, sc.Seed)
	if want := readEquivGolden(t); got != want {
		t.Errorf("seed %d: the simulated fabric's calls differ from the real driver's (%s):\n%s", sc.Seed, equivGolden, diffLines(want, got))
	}
	// And run to run: the fabric is a pure function of the seed.
	if again := runEquivSimulated(t, sc, sc.Seed); again != got {
		t.Errorf("seed %d: two simulated runs differ:\n%s", sc.Seed, diffLines(got, again))
	}
}

// diffLines lists the lines only in want (-) or only in got (+).
func diffLines(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var out []string
	seen := map[string]int{}
	for _, l := range g {
		seen[l]++
	}
	for _, l := range w {
		if seen[l] > 0 {
			seen[l]--
			continue
		}
		out = append(out, "- "+l)
	}
	seenW := map[string]int{}
	for _, l := range w {
		seenW[l]++
	}
	for _, l := range g {
		if seenW[l] > 0 {
			seenW[l]--
			continue
		}
		out = append(out, "+ "+l)
	}
	return strings.Join(out, "\n") + "\n--- want ---\n" + want + "--- got ---\n" + got
}
