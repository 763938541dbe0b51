package conformance

import (
	"context"
	"flag"
	"fmt"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ipcclab/ipcclab/conformance/target"
	"github.com/ipcclab/ipcclab/protocol/cti"
	"github.com/ipcclab/ipcclab/scenarios"
)

// Preview dialing (controller.pacing.mode preview), Cisco Outbound Option's
// way over CTI only (dialer-anchors.md §2.1-2.2, cti-protocol.md §5.9(d)),
// seen on the CTI wire of its own lab (testdata/scenario-dialer-preview.yaml)
// by one PV24 ALL_EVENTS recording. The controller's requests are not
// visible to a monitoring session; their effects are:
//
//   - the reservation call (MAKE_CALL_REQ from a dialer port to the agent's
//     phone): BEGIN_CALL with CallType RESERVATION_PREVIEW (27) at the
//     agent's device, the customer record in the BA* ECC variables
//     (BAResponse empty), CALL_DELIVERED at the agent with the port as
//     calling device and, the phone auto-answering, CALL_ESTABLISHED;
//   - the agent's answer (the desktop's SET_CALL_DATA_REQ):
//     CALL_DATA_UPDATE_EVENT with BAResponse Accept, Skip, Reject …;
//   - the controller clearing the reservation (CLEAR_CALL_REQ):
//     CALL_CONNECTION_CLEARED released by the port, END_CALL;
//   - an accepted record's customer call (MAKE_PREDICTIVE_CALL_REQ from the
//     agent's instrument): BEGIN_CALL with CallType CUSTOMER_PREVIEW (32),
//     CALL_ORIGINATED at the agent, the customer's CALL_DELIVERED and
//     CALL_ESTABLISHED (or CALL_FAILED), CALL_ESTABLISHED at the agent.
//
// The lab starts in BeforeSuite with the others; each spec waits (bounded)
// until it has run long enough, then checks the whole recording.

var flagDialerPreview = flag.String("dialer-preview-scenario", "testdata/scenario-dialer-preview.yaml", "preview centre of the dialer-preview specs: pacing mode preview, dialer ports for the reservation calls (in-process only)")

// The preview lab (nil when not started: a remote target, or the label
// filter leaves its specs out) and why it did not start.
var (
	previewFx  *fixture
	previewErr error
)

// Timing of the preview checks.
const (
	// previewTolerance is the slack of two event times of one recording and
	// of the controller's reaction to an event (its 250 ms pacing delay
	// included).
	previewTolerance = 500 * time.Millisecond
	// previewPrompt is how soon after a reservation ends the controller
	// must act on the answer: dial the accepted customer, or present the
	// next record to an agent who skipped.
	previewPrompt = 2 * time.Second
)

func wantPreview() bool {
	return Label("dialer", "dialer-preview").MatchesLabelFilter(GinkgoLabelFilter())
}

// startPreviewLab starts the preview lab in-process with its recording.
func startPreviewLab() (*fixture, error) {
	sc, err := scenarios.Load(*flagDialerPreview)
	if err != nil {
		return nil, fmt.Errorf("scenario %s: %w", *flagDialerPreview, err)
	}
	t, err := target.StartInProcess(context.Background(), target.Options{Scenario: sc, Seed: seedFor(sc)})
	if err != nil {
		return nil, fmt.Errorf("dialer-preview lab: %w", err)
	}
	f, err := startFixtureWith("dialer-preview", t, false)
	if err != nil {
		_ = t.Stop()
		return nil, fmt.Errorf("dialer-preview lab: %w", err)
	}
	return f, nil
}

// needPreview skips the preview specs on targets that cannot run the
// preview scenario (see needDialer).
func needPreview() {
	if previewErr != nil {
		Fail(fmt.Sprintf("starting the dialer-preview lab: %v", previewErr))
	}
	if previewFx == nil {
		Skip("the target cannot start an in-process lab running the preview scenario (in-process target only)")
	}
}

// reservationCall is one preview presented to an agent, as the recording
// saw it.
type reservationCall struct {
	ID uint32
	// Agent is BEGIN_CALL's device, Port CALL_DELIVERED's calling device.
	Agent, Port                      string
	Number, ListID, Status, Campaign string
	BeginResponse                    string // BAResponse in BEGIN_CALL
	Begin, Delivered, Established    mark
	// Answered is the first CALL_DATA_UPDATE_EVENT carrying a BAResponse.
	Answered mark
	Response string
	// Cleared is the first CALL_CONNECTION_CLEARED, Releasing its device.
	Cleared   mark
	Releasing string
	End       mark
	// Dialed is the customer call that followed, nil if none.
	Dialed *previewCustomer
	Odd    []string
}

func (r *reservationCall) String() string {
	at := func(m mark) string {
		if !m.seen() {
			return "-"
		}
		return fmt.Sprintf("#%d", m.Idx)
	}
	return fmt.Sprintf("reservation %d of %s (record %s, %s, %s) to %s from port %s: begin %s delivered %s established %s answered %q %s cleared %s by %q end %s",
		r.ID, r.Number, r.ListID, r.Status, r.Campaign, r.Agent, r.Port, at(r.Begin), at(r.Delivered), at(r.Established),
		r.Response, at(r.Answered), at(r.Cleared), r.Releasing, at(r.End))
}

// previewCustomer is the customer call of an accepted preview.
type previewCustomer struct {
	ID                    uint32
	Number, ListID        string
	Origin                string // CALL_ORIGINATED's calling device
	Begin, Originated     mark
	FarAnswer, AgentEstab mark
	NoAgent               mark // cleared with CEC_NO_AVAILABLE_AGENTS
	End                   mark
	// Reservation is the agent's reservation before the call, nil if none.
	Reservation *reservationCall
}

func (c *previewCustomer) String() string {
	return fmt.Sprintf("customer call %d to %s (record %s) from %s: begin #%d far-established %v agent-established %v no-agent %v ended %v",
		c.ID, c.Number, c.ListID, c.Origin, c.Begin.Idx, c.FarAnswer.seen(), c.AgentEstab.seen(), c.NoAgent.seen(), c.End.seen())
}

// previewSnapshot is the preview lab's recording at one moment.
type previewSnapshot struct {
	f            *fixture
	now          time.Time
	reservations []*reservationCall
	customers    []*previewCustomer
	// other are the campaign's calls of another type (BEGIN_CALL with the
	// campaign's CallVariable1, neither reservation nor preview customer).
	other []string
}

func (s previewSnapshot) ran() time.Duration { return s.now.Sub(s.f.t.Started()) }

// takePreview follows the reservation calls and the preview customer calls
// of the recording.
func takePreview(f *fixture) previewSnapshot {
	s := previewSnapshot{f: f, now: time.Now()}
	evs := f.wide.Events()
	campaign := f.sc.Outbound.Campaign
	res := map[uint32]*reservationCall{}
	cust := map[uint32]*previewCustomer{}
	last := map[string]*reservationCall{} // the latest reservation per agent device
	for i, ev := range evs {
		m := mark{Idx: i, At: ev.At}
		if b, ok := ev.Msg.(*cti.BeginCallEvent); ok {
			switch {
			case b.CallType == cti.CallTypeReservationPreview:
				r := &reservationCall{ID: b.ConnectionCallID, Agent: b.ConnectionDeviceID, Begin: m,
					Number: ecc(b.NamedVariables, "BACustomerNumber"), ListID: ecc(b.NamedVariables, "BADialedListID"),
					Status: ecc(b.NamedVariables, "BAStatus"), Campaign: ecc(b.NamedVariables, "BACampaign"),
					BeginResponse: ecc(b.NamedVariables, "BAResponse")}
				res[r.ID], last[r.Agent] = r, r
				s.reservations = append(s.reservations, r)
			case b.CallType == cti.CallTypeCustomerPreview:
				c := &previewCustomer{ID: b.ConnectionCallID, Number: b.ConnectionDeviceID, ListID: ecc(b.NamedVariables, "BADialedListID"), Begin: m}
				cust[c.ID] = c
				s.customers = append(s.customers, c)
			case b.CallVariable1 == campaign:
				s.other = append(s.other, fmt.Sprintf("#%d: campaign call %d of CallType %v", i, b.ConnectionCallID, b.CallType))
			}
			continue
		}
		id, ok := connectionCallID(ev.Msg)
		if !ok {
			continue
		}
		if r := res[id]; r != nil {
			switch e := ev.Msg.(type) {
			case *cti.CallDeliveredEvent:
				if !r.Delivered.seen() {
					r.Delivered, r.Port = m, e.CallingDeviceID
					if e.AlertingDeviceID != r.Agent {
						r.Odd = append(r.Odd, fmt.Sprintf("#%d: CALL_DELIVERED at %s, not at the agent %s", i, e.AlertingDeviceID, r.Agent))
					}
				}
			case *cti.CallEstablishedEvent:
				if !r.Established.seen() && e.AnsweringDeviceID == r.Agent {
					r.Established = m
				}
			case *cti.CallDataUpdateEvent:
				if v := ecc(e.NamedVariables, "BAResponse"); v != "" && !r.Answered.seen() {
					r.Answered, r.Response = m, v
				}
			case *cti.CallConnectionClearedEvent:
				if !r.Cleared.seen() {
					r.Cleared, r.Releasing = m, e.ReleasingDeviceID
				}
			case *cti.EndCallEvent:
				r.End = m
				delete(res, id)
			}
			continue
		}
		c := cust[id]
		if c == nil {
			continue
		}
		switch e := ev.Msg.(type) {
		case *cti.CallOriginatedEvent:
			if !c.Originated.seen() {
				c.Originated, c.Origin = m, e.CallingDeviceID
				if r := last[c.Origin]; r != nil && r.Begin.Idx < c.Begin.Idx {
					c.Reservation = r
					if r.Dialed == nil {
						r.Dialed = c
					}
				}
			}
		case *cti.CallEstablishedEvent:
			switch e.AnsweringDeviceID {
			case c.Number:
				c.FarAnswer = m
			case c.Origin:
				c.AgentEstab = m
			}
		case *cti.CallConnectionClearedEvent:
			if e.EventCause == cti.CECNoAvailableAgents {
				c.NoAgent = m
			}
		case *cti.CallClearedEvent:
			if e.EventCause == cti.CECNoAvailableAgents {
				c.NoAgent = m
			}
		case *cti.EndCallEvent:
			c.End = m
			delete(cust, id)
		}
	}
	return s
}

func (s previewSnapshot) count(keep func(*reservationCall) bool) int {
	n := 0
	for _, r := range s.reservations {
		if keep(r) {
			n++
		}
	}
	return n
}

func answered(words ...string) func(*reservationCall) bool {
	return func(r *reservationCall) bool { return r.End.seen() && slices.Contains(words, r.Response) }
}

func (s previewSnapshot) describe() string {
	return fmt.Sprintf("%s after %.1fs: %d reservations (%d accepted, %d skipped, %d rejected, %d unanswered), %d customer calls (%d answered by the customer, %d at their agent)",
		s.f.name, s.ran().Seconds(), len(s.reservations), s.count(answered("Accept")), s.count(answered("Skip", "Skip-Close")),
		s.count(answered("Reject", "Reject-Close")), s.count(func(r *reservationCall) bool { return r.End.seen() && r.Response == "" }),
		len(s.customers), s.countCustomers(func(c *previewCustomer) bool { return c.FarAnswer.seen() }),
		s.countCustomers(func(c *previewCustomer) bool { return c.AgentEstab.seen() }))
}

func (s previewSnapshot) countCustomers(keep func(*previewCustomer) bool) int {
	n := 0
	for _, c := range s.customers {
		if keep(c) {
			n++
		}
	}
	return n
}

// settled reports a mark at least d before the snapshot.
func (s previewSnapshot) settled(m mark, d time.Duration) bool {
	return m.seen() && s.now.Sub(m.At) > d
}

// dialProblems checks D4.1: every preview customer call follows its agent's
// reservation, answered Accept, for that customer, ended before the call
// began; a reservation is dialed once; an accepted one promptly.
func (s previewSnapshot) dialProblems() []string {
	var out []string
	for _, c := range s.customers {
		r := c.Reservation
		switch {
		case !c.Originated.seen():
			if s.now.Sub(c.Begin.At) > time.Second {
				out = append(out, fmt.Sprintf("no CALL_ORIGINATED after BEGIN_CALL: %s", c))
			}
		case r == nil:
			out = append(out, fmt.Sprintf("no reservation call to %s before it: %s", c.Origin, c))
		case r.Response != "Accept":
			out = append(out, fmt.Sprintf("the agent's reservation before it was answered %q, not Accept: %s; %s", r.Response, c, r))
		case r.Number != c.Number || r.ListID != c.ListID:
			out = append(out, fmt.Sprintf("the accepted reservation presented record %s (%s): %s; %s", r.ListID, r.Number, c, r))
		case r.Dialed != c:
			out = append(out, fmt.Sprintf("the accepted reservation was dialed twice (%d and %d): %s", r.Dialed.ID, c.ID, r))
		case !r.End.seen() || r.End.Idx > c.Begin.Idx:
			out = append(out, fmt.Sprintf("the customer call began before its reservation ended: %s; %s", c, r))
		case c.Begin.At.Sub(r.End.At) > previewPrompt:
			out = append(out, fmt.Sprintf("the accepted customer was dialed %v after the reservation ended, more than %v: %s",
				c.Begin.At.Sub(r.End.At).Round(time.Millisecond), previewPrompt, c))
		}
	}
	timeout := s.f.sc.Controller.Pacing.Preview.Timeout.D()
	for _, r := range s.reservations {
		// An answer the timeout overtook may be ignored (withdrawn).
		late := r.Answered.seen() && r.Answered.At.Sub(r.Begin.At) > timeout-previewTolerance
		if r.Response == "Accept" && r.Dialed == nil && s.settled(r.End, previewPrompt) && !late {
			out = append(out, fmt.Sprintf("accepted, but its customer was never dialed: %s", r))
		}
	}
	return out
}

// reservationProblems checks D4.2: the reservation call's events and
// record, and what follows the answers other than Accept.
func (s previewSnapshot) reservationProblems() []string {
	var out []string
	ports := s.f.sc.Outbound.DialerPorts.Extensions()
	pv := s.f.sc.Controller.Pacing.Preview
	devs := map[string]agentDef{}
	for _, a := range s.f.agents {
		if a.InCtl {
			devs[a.Extension] = a
		}
	}
	byAgent := map[string][]*reservationCall{}
	for _, r := range s.reservations {
		out = append(out, r.Odd...)
		byAgent[r.Agent] = append(byAgent[r.Agent], r)
		a, ok := devs[r.Agent]
		want := "PREVIEW_OUTBOUND_RESERVATION"
		if a.InICM {
			want = "BLENDED_" + want
		}
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("reservation to %s, which is no campaign agent's device: %s", r.Agent, r))
		case r.Status != want || r.Campaign != s.f.sc.Outbound.Campaign || r.Number == "" || r.ListID == "" || r.BeginResponse != "":
			out = append(out, fmt.Sprintf("BEGIN_CALL's ECC variables: want BAStatus %s, BACampaign %s, a BACustomerNumber and BADialedListID, BAResponse empty: %s",
				want, s.f.sc.Outbound.Campaign, r))
		}
		if !s.settled(r.Begin, time.Second) {
			continue
		}
		if !r.Delivered.seen() || !r.Established.seen() || r.Established.Idx < r.Delivered.Idx || r.Established.At.Sub(r.Delivered.At) > previewTolerance {
			out = append(out, fmt.Sprintf("want CALL_DELIVERED then at once CALL_ESTABLISHED at the agent (auto-answer): %s", r))
		}
		if !slices.Contains(ports, r.Port) {
			out = append(out, fmt.Sprintf("reservation placed from %q, which is not a dialer port: %s", r.Port, r))
		}
		if r.End.seen() && (r.Releasing != r.Port || !r.Cleared.seen() || (r.Answered.seen() && r.Cleared.Idx < r.Answered.Idx)) {
			out = append(out, fmt.Sprintf("want the reservation cleared from its port after the answer: %s", r))
		}
		if r.Answered.seen() && r.Answered.At.Sub(r.Begin.At) < pv.Timeout.D() && r.Cleared.seen() && r.Cleared.At.Sub(r.Answered.At) > previewTolerance {
			out = append(out, fmt.Sprintf("answered, but cleared %v later: %s", r.Cleared.At.Sub(r.Answered.At).Round(time.Millisecond), r))
		}
		if !r.Answered.seen() {
			// Unanswered: withdrawn after the timeout, not before.
			switch held := s.now.Sub(r.Begin.At); {
			case r.Cleared.seen():
				held = r.Cleared.At.Sub(r.Begin.At)
				if held < pv.Timeout.D()-previewTolerance || held > pv.Timeout.D()+previewPrompt {
					out = append(out, fmt.Sprintf("unanswered preview withdrawn %v after it began, want %v (+%v): %s", held.Round(time.Millisecond), pv.Timeout.D(), previewPrompt, r))
				}
			case held > pv.Timeout.D()+previewPrompt:
				out = append(out, fmt.Sprintf("unanswered preview still on the agent's screen %v after it began: %s", held.Round(time.Millisecond), r))
			}
		}
		if r.Response != "Accept" && r.Dialed != nil {
			out = append(out, fmt.Sprintf("answered %q, yet its agent dialed %s", r.Response, r.Dialed))
		}
	}
	for dev, rs := range byAgent {
		for i, r := range rs {
			if i+1 < len(rs) && (!r.End.seen() || r.End.Idx > rs[i+1].Begin.Idx) {
				out = append(out, fmt.Sprintf("agent %s has two reservations at once: %s; %s", dev, r, rs[i+1]))
			}
			if !r.End.seen() {
				continue
			}
			var next *reservationCall
			if i+1 < len(rs) {
				next = rs[i+1]
			}
			switch r.Response {
			case "Skip", "Skip-Close":
				// The agent stays reserved: the next record at once.
				if next == nil && s.settled(r.End, previewPrompt) || next != nil && next.Begin.At.Sub(r.End.At) > previewPrompt {
					out = append(out, fmt.Sprintf("agent %s skipped, but got no next record within %v: %s", dev, previewPrompt, r))
				}
			case "Reject", "Reject-Close", "":
				// Released for reject_pause (also after a withdrawn preview).
				if next != nil && next.Begin.At.Sub(r.End.At) < pv.RejectPause.D()-previewTolerance {
					out = append(out, fmt.Sprintf("agent %s answered %q, yet got the next preview %v later, within reject_pause %v: %s; %s", dev, r.Response,
						next.Begin.At.Sub(r.End.At).Round(time.Millisecond), pv.RejectPause.D(), r, next))
				}
			}
		}
	}
	return out
}

// abandonProblems checks D4.3: no preview call is abandoned, and nothing
// but previews is dialed.
func (s previewSnapshot) abandonProblems() []string {
	out := append([]string(nil), s.other...)
	for _, c := range s.customers {
		switch {
		case c.NoAgent.seen():
			out = append(out, fmt.Sprintf("cleared with CEC_NO_AVAILABLE_AGENTS: %s", c))
		case c.FarAnswer.seen() && !c.AgentEstab.seen() && (c.End.seen() || s.now.Sub(c.FarAnswer.At) > time.Second):
			out = append(out, fmt.Sprintf("answered by the customer, but not established at agent %s: %s", c.Origin, c))
		case c.AgentEstab.seen() && (!c.FarAnswer.seen() || c.AgentEstab.Idx < c.FarAnswer.Idx):
			out = append(out, fmt.Sprintf("established at the agent before the customer answered: %s", c))
		}
	}
	// While its customer call lasts the agent has no reservation.
	for _, c := range s.customers {
		for _, r := range s.reservations {
			if r.Agent == c.Origin && r.Begin.Idx > c.Begin.Idx && (!c.End.seen() || r.Begin.Idx < c.End.Idx) {
				out = append(out, fmt.Sprintf("agent %s was reserved again during its customer call: %s; %s", c.Origin, c, r))
			}
		}
	}
	return out
}

// waitPreview polls the preview lab's recording until enough has happened
// (enough fails with what is missing) and at least minRun has passed since
// the lab started, and returns the snapshot; bounded by dialerDeadline
// from the lab's start.
func waitPreview(minRun time.Duration, enough func(g Gomega, s previewSnapshot)) previewSnapshot {
	f := previewFx
	var s previewSnapshot
	Eventually(func(g Gomega) {
		s = takePreview(f)
		g.Expect(s.ran()).To(BeNumerically(">=", minRun), "%s has run %.1fs of %v", f.name, s.ran().Seconds(), minRun)
		enough(g, s)
	}).WithTimeout(max(time.Until(f.t.Started().Add(dialerDeadline)), time.Second)).WithPolling(500 * time.Millisecond).Should(Succeed())
	evidence("%s", s.describe())
	return s
}

var _ = Describe("outbound dialing: preview", Label("dialer", "dialer-preview"), SpecPriority(-1), func() {
	AfterEach(func() {
		if previewFx != nil {
			previewFx.attachTranscripts(nil)
		}
	})

	It("[D4.1] every preview customer call follows a reservation call to its agent for that customer, answered Accept", func() {
		needPreview()
		s := waitPreview(30*time.Second, func(g Gomega, s previewSnapshot) {
			g.Expect(s.countCustomers(func(c *previewCustomer) bool { return c.End.seen() })).To(BeNumerically(">=", 10), "completed customer calls")
			g.Expect(s.count(answered("Skip", "Skip-Close", "Reject", "Reject-Close"))).To(BeNumerically(">=", 3), "previews skipped or rejected")
		})
		Expect(s.dialProblems()).To(BeEmpty())
		notDialed := s.count(func(r *reservationCall) bool { return r.End.seen() && r.Response != "Accept" && r.Dialed == nil })
		evidence("%d customer calls, each after its agent's accepted reservation; %d reservations not accepted, none of them dialed", len(s.customers), notDialed)
	})

	It("[D4.2] a reservation call from a dialer port rings and is auto-answered at the agent with the record in its ECC variables, and is cleared from the port after the agent's answer or the timeout", func() {
		needPreview()
		s := waitPreview(30*time.Second, func(g Gomega, s previewSnapshot) {
			g.Expect(s.count(answered("Accept"))).To(BeNumerically(">=", 5), "accepted previews")
			g.Expect(s.count(answered("Skip", "Skip-Close"))).To(BeNumerically(">=", 1), "skipped previews")
			g.Expect(s.count(answered("Reject", "Reject-Close"))).To(BeNumerically(">=", 1), "rejected previews")
			g.Expect(s.count(func(r *reservationCall) bool { return r.End.seen() && r.Response == "" })).To(BeNumerically(">=", 1), "previews withdrawn unanswered")
		})
		problems := s.reservationProblems()
		var ports []string
		for _, r := range s.reservations {
			if !slices.Contains(ports, r.Port) {
				ports = append(ports, r.Port)
			}
		}
		slices.Sort(ports)
		evidence("reservations placed from ports %s", strings.Join(ports, ","))
		Expect(problems).To(BeEmpty())
	})

	It("[D4.3] no preview call is abandoned: every customer who answers is established at the agent who accepted the preview", func() {
		needPreview()
		s := waitPreview(30*time.Second, func(g Gomega, s previewSnapshot) {
			g.Expect(s.countCustomers(func(c *previewCustomer) bool { return c.FarAnswer.seen() && c.End.seen() })).To(BeNumerically(">=", 5), "completed live answers")
		})
		Expect(s.abandonProblems()).To(BeEmpty())
		evidence("%d live answers, %d established at their agent, none abandoned", s.countCustomers(func(c *previewCustomer) bool { return c.FarAnswer.seen() }),
			s.countCustomers(func(c *previewCustomer) bool { return c.AgentEstab.seen() }))
	})
})

// ecc is the value of a named (ECC) variable, "" when absent.
func ecc(vars []cti.NamedVar, name string) string {
	for _, v := range vars {
		if v.Name == name {
			return v.Value
		}
	}
	return ""
}
