package lab

import (
	"fmt"
	"io"
	"math"
	"text/tabwriter"

	"github.com/ipcclab/ipcclab/controller/dialer"
)

// Report is what a simulated run measured. Its JSON form is the contract of
// `ipcclab simulate --json`: for a given scenario and seed every field except
// WallSeconds is identical from run to run.
type Report struct {
	Scenario        string  `json:"scenario"`
	Seed            uint64  `json:"seed"`
	SimSeconds      float64 `json:"sim_seconds"`
	WallSeconds     float64 `json:"wall_seconds"`
	EventsProcessed uint64  `json:"events_processed"`
	CTIMessages     uint64  `json:"cti_messages"`

	Inbound  InboundReport  `json:"inbound"`
	Outbound OutboundReport `json:"outbound"`
	Agents   AgentsReport   `json:"agents"`
	Blending BlendReport    `json:"blending"`
	// Mismatches lists agents defined on one side of the integration only
	// when the other side expects them (blended agents missing in ICM,
	// outbound-only agents that ICM can route to).
	Mismatches []string `json:"mismatches"`
	// Alerts are the alerts of controller.alerts raised during the run,
	// in the order they were raised (alerts.go).
	Alerts []AlertReport `json:"alerts"`
	// Voice counts the voice path's work when the simulation ran with it
	// (--voice, voice.simulate; simvoice.go); absent otherwise.
	Voice *VoiceReport `json:"voice,omitempty"`
	// PacingState is what the campaign's pacing strategy had learned at
	// the end (a dialer.Resumable in pool mode; nil otherwise): the next
	// day's run resumes from it (SimOptions.Pacing), as a restarted
	// controller does from the campaign store.
	PacingState *dialer.PacingState `json:"-"`
}

// InboundReport covers calls routed to the IPCC queues.
type InboundReport struct {
	Offered   int `json:"offered"`
	Answered  int `json:"answered"`
	Abandoned int `json:"abandoned"`
	// ServiceLevel is computed per the call types' ServiceLevelType over the
	// whole run (ipcc-behaviour.md §1.3).
	ServiceLevel float64 `json:"service_level"`
	ASASeconds   float64 `json:"asa_seconds"`
	// HalfHours is the service level of each half-hour interval.
	HalfHours []IntervalReport `json:"half_hours"`
	CallTypes []CallTypeReport `json:"call_types"`
}

// IntervalReport is one half-hour of inbound traffic.
type IntervalReport struct {
	Start        string  `json:"start"`
	Offered      int     `json:"offered"`
	Answered     int     `json:"answered"`
	Abandoned    int     `json:"abandoned"`
	ServiceLevel float64 `json:"service_level"`
}

// CallTypeReport is the whole-run figure of one call type.
type CallTypeReport struct {
	Name         string  `json:"name"`
	Offered      int     `json:"offered"`
	Answered     int     `json:"answered"`
	Abandoned    int     `json:"abandoned"`
	ServiceLevel float64 `json:"service_level"`
	ASASeconds   float64 `json:"asa_seconds"`
}

// OutboundReport covers the controller's campaign.
type OutboundReport struct {
	Attempts  int `json:"attempts"`
	Connects  int `json:"connects"`
	Abandoned int `json:"abandoned"`
	Busy      int `json:"busy"`
	NoAnswer  int `json:"no_answer"`
	// Pool is the controller's view of a campaign dialed from dialer
	// ports (controller.pacing.mode pool); absent otherwise.
	Pool *PoolReport `json:"pool,omitempty"`
	// Preview is the controller's view of a preview campaign
	// (controller.pacing.mode preview); absent otherwise.
	Preview *PreviewReport `json:"preview,omitempty"`
	// List is the campaign's call list (outbound.list); absent when the
	// controller dials synthetic numbers.
	List *ListReport `json:"list,omitempty"`
}

// PreviewReport is a preview campaign as the controller saw it on the CTI
// wire: the previews presented to agents (reservation calls) and the
// agents' answers (BAResponse), the customer calls of accepted previews and
// their connects.
type PreviewReport struct {
	Presented int `json:"presented"`
	Accepted  int `json:"accepted"`
	// Skipped and Rejected include their -Close variants, counted again in
	// Closed.
	Skipped   int `json:"skipped"`
	Rejected  int `json:"rejected"`
	Callbacks int `json:"callbacks"`
	Closed    int `json:"closed"`
	// TimedOut previews were withdrawn unanswered; Lost ended unanswered
	// (the agent hung up); Refused reservation calls the PG refused.
	TimedOut int `json:"timed_out"`
	Lost     int `json:"lost"`
	Refused  int `json:"refused"`
	// Dialed customer calls of accepted previews, Connects of them to
	// their agent, Abandoned (always 0: the agent is waiting for exactly
	// this customer).
	Dialed    int `json:"dialed"`
	Connects  int `json:"connects"`
	Abandoned int `json:"abandoned"`
}

// PoolReport is a pool-mode campaign as the controller measured it on the
// CTI wire.
type PoolReport struct {
	Strategy string `json:"strategy"`
	// LiveAnswered counts live answers; Abandoned those that found no agent
	// within the connect limit (safe-harbour message).
	LiveAnswered int64   `json:"live_answered"`
	Abandoned    int64   `json:"abandoned"`
	AbandonRate  float64 `json:"abandon_rate"`
	AbandonLimit float64 `json:"abandon_limit"`
	// Agents is the number of agents defined in the controller; TalkShare
	// their talk time over Agents × the run (occupancy as talk share).
	Agents    int     `json:"agents"`
	TalkShare float64 `json:"talk_share"`
	// ConnectsPerAgentHour is live answers connected to an agent per agent
	// per hour.
	ConnectsPerAgentHour float64 `json:"connects_per_agent_hour"`
	// UKOfcom: AbandonRate is Ofcom's answering-machine adjusted rate over
	// the last 24 h (outbound.uk_ofcom).
	UKOfcom bool `json:"uk_ofcom,omitempty"`
}

// AgentsReport covers agent utilisation.
type AgentsReport struct {
	LoggedOn int `json:"logged_on"`
	// Occupancy is ICM's percent utilisation of the ICM agents (inbound and
	// blended): talking + hold + wrap-up time over logged-on time minus Not
	// Ready time (ipcc-behaviour.md §1.3).
	Occupancy float64 `json:"occupancy"`
	// Lines counts the outbound-only agents (CallManager lines without an
	// ICM agent); LineOccupancy is their talk time over their time at the
	// phone.
	Lines         int     `json:"lines"`
	LineOccupancy float64 `json:"line_occupancy"`
}

// BlendReport counts the controller's blending moves.
type BlendReport struct {
	Enabled         bool `json:"enabled"`
	MovesToInbound  int  `json:"moves_to_inbound"`
	MovesToOutbound int  `json:"moves_to_outbound"`
	// ReserveBorrowed: live answers given an agent of the reserve
	// (controller.blend.reserve_borrow).
	ReserveBorrowed int `json:"reserve_borrowed,omitempty"`
}

func round(v float64, digits int) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}

// WriteText prints the report for people.
func (r *Report) WriteText(w io.Writer) {
	fmt.Fprintf(w, "scenario %s, seed %d: %.1f simulated hours in %.2f s wall (%d events, %d CTI messages)\n\n",
		r.Scenario, r.Seed, r.SimSeconds/3600, r.WallSeconds, r.EventsProcessed, r.CTIMessages)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "inbound\toffered\tanswered\tabandoned\tservice level\tASA")
	for _, ct := range r.Inbound.CallTypes {
		fmt.Fprintf(tw, "  %s\t%d\t%d\t%d\t%.1f %%\t%.1f s\n", ct.Name, ct.Offered, ct.Answered, ct.Abandoned, 100*ct.ServiceLevel, ct.ASASeconds)
	}
	fmt.Fprintf(tw, "  all\t%d\t%d\t%d\t%.1f %%\t%.1f s\n", r.Inbound.Offered, r.Inbound.Answered, r.Inbound.Abandoned, 100*r.Inbound.ServiceLevel, r.Inbound.ASASeconds)
	_ = tw.Flush()
	fmt.Fprintf(w, "\noutbound: %d attempts, %d connects, %d abandoned, %d busy, %d no answer\n",
		r.Outbound.Attempts, r.Outbound.Connects, r.Outbound.Abandoned, r.Outbound.Busy, r.Outbound.NoAnswer)
	if p := r.Outbound.Preview; p != nil {
		fmt.Fprintf(w, "preview: %d presented, %d accepted, %d skipped, %d rejected, %d callbacks (%d closed), %d timed out, %d lost; %d dialed, %d connects, %d abandoned\n",
			p.Presented, p.Accepted, p.Skipped, p.Rejected, p.Callbacks, p.Closed, p.TimedOut, p.Lost, p.Dialed, p.Connects, p.Abandoned)
	}
	fmt.Fprintf(w, "agents: %d ICM agents logged on, utilisation %.1f %%; %d outbound-only lines, talk share %.1f %%\n",
		r.Agents.LoggedOn, 100*r.Agents.Occupancy, r.Agents.Lines, 100*r.Agents.LineOccupancy)
	if r.Blending.Enabled {
		fmt.Fprintf(w, "blending: %d moves to inbound, %d back to outbound\n", r.Blending.MovesToInbound, r.Blending.MovesToOutbound)
	} else {
		fmt.Fprintln(w, "blending: disabled")
	}
	if v := r.Voice; v != nil {
		fmt.Fprintf(w, "voice path: %d SIP messages, %d RFC 4733 packets; %d calls queued at IP-IVR, %d digit strings; %d phones answered; %d no route, %d no phone\n",
			v.SIPMessages, v.RTPPackets, v.ToIVR, v.DigitStrings, v.PhoneAnswered, v.NoRoute, v.NoPhone)
	}
	for _, m := range r.Mismatches {
		fmt.Fprintln(w, "MISMATCH:", m)
	}
	if len(r.Inbound.HalfHours) > 0 {
		fmt.Fprintln(w, "\nhalf-hour service level:")
		tw = tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  start\toffered\tanswered\tabandoned\tservice level")
		for _, h := range r.Inbound.HalfHours {
			fmt.Fprintf(tw, "  %s\t%d\t%d\t%d\t%.1f %%\n", h.Start, h.Offered, h.Answered, h.Abandoned, 100*h.ServiceLevel)
		}
		_ = tw.Flush()
	}
	writeAlerts(w, r.Alerts)
}
