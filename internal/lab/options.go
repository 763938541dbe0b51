// Package lab turns a scenario into a running contact centre: the emulated
// IPCC (ICM, CallManager PG, CTI Server, callers and agents) and the
// reference controller, either in seeded virtual time (Simulate) or in real
// time over loopback TCP (Start, Up). It is the only place that imports both
// the emulator and the controller; they meet on the CTI wire.
package lab

import (
	"net/http"
	"time"

	"github.com/ipcclab/ipcclab/controller/campaign"
	"github.com/ipcclab/ipcclab/controller/dialer"
	"github.com/ipcclab/ipcclab/controller/reporting"
	"github.com/ipcclab/ipcclab/scenarios"
)

// SimOptions configures a virtual-time run.
type SimOptions struct {
	Scenario *scenarios.Scenario
	Seed     uint64
	Duration time.Duration
	// NoBlend runs the controller with blending disabled (outbound only),
	// the baseline the blending figures are compared with.
	NoBlend bool
	// Logf, when set, receives the controller's and CTI Server's log lines
	// stamped with virtual time.
	Logf func(format string, args ...any)
	// Capture, when set, writes the simulated CTI link's traffic to this
	// pcapng file as one TCP stream, stamped with virtual time; with the
	// voice path (Voice) also its SIP messages and the callers' RFC 4733
	// packets, as UDP.
	Capture string
	// Voice runs the calls over the voice path's switching fabric
	// (emulator/fabric: gateway, CallManager, IP-IVR and phones as SIP
	// events in virtual time), as the scenario's voice.simulate does;
	// otherwise the PG switches calls itself.
	Voice bool
	// Tap, when set, sees every frame on the simulated CTI link between
	// the CTI Server and the controller as it is delivered (fromServer:
	// the server's messages), at the virtual time at.
	Tap func(at time.Time, fromServer bool, frame []byte)
	// At runs actions on the loop at offsets from the start: a campaign
	// changed while the controller runs (SimContext.UpdateCampaign), a
	// list imported, as the campaign API would.
	At []SimAction
	// Intervals, when set, receives the run's half-hour interval records
	// (call types, skill groups, agents, campaign), ICM's historical
	// tables; the records of a run add up to its Report.
	Intervals *reporting.Intervals
	// Attempts, when set, receives the controller's outbound attempts, one
	// per dial request in start order (attempts.go): its per-attempt
	// records, joined for a call list with the campaign store's journal.
	Attempts *[]reporting.Attempt
	// Timeline, when set, is filled with the run sampled every
	// Timeline.Every of virtual time and the blending moves (timeline.go);
	// sampling adds no event to the simulation, so the report is the same.
	Timeline *Timeline
	// Pacing, when set, is what the campaign's pacing strategy learned
	// before this run (Report.PacingState of an earlier one, with its
	// times before this run's start): the controller starts from it, as it
	// does from the campaign store after a restart, instead of from
	// nothing. Only a pool-mode strategy that can resume takes it.
	Pacing *dialer.PacingState
	// Progress, when set, is called after each stretch of virtual time
	// with how much of Duration has run.
	Progress func(done, total time.Duration)
}

// UpOptions configures a real-time run on loopback.
type UpOptions struct {
	Scenario *scenarios.Scenario
	Seed     uint64
	// CTIAddr is where the CTI Server's side A listens ("127.0.0.1:0" picks
	// a port).
	CTIAddr string
	// CTIAddrB, when set, runs side B of an active/standby pair there
	// (§5.10): standby until side A fails.
	CTIAddrB string
	Duration time.Duration
	// NoController runs the emulator only.
	NoController bool
	NoBlend      bool
	// HoldTraffic keeps agents logged out and callers away until
	// Running.Begin, so that test clients can connect first and see the
	// centre's very first events (logins, NOT_READY reason codes).
	HoldTraffic bool
	// Logf receives log lines; nil discards them.
	Logf func(format string, args ...any)
	// SIPAddr, when set, runs the voice path (gateway, CallManager,
	// IP-IVR, phones over SIP and RTP) with the gateway's PSTN side there;
	// empty keeps the PG switching calls itself (CTI only). `ipcclab up`
	// defaults it to DefaultSIPAddr.
	SIPAddr string
	// PSTNAddr, when set, is an outside SIP peer that plays the PSTN for
	// outbound calls (SIPp as UAS, a carrier simulator, an SBC).
	PSTNAddr string
	// Capture, when set, writes CTI, SIP and RTP traffic to this pcapng
	// file.
	Capture string
	// CampaignAddr, when set with a call list (outbound.list) and the
	// controller, serves the campaign API there (Running.CampaignAPI).
	CampaignAddr string
	// AlertLogf receives the raises and clears of controller.alerts and
	// the webhook's delivery failures, stamped with the wall clock; nil
	// sends them to Logf. `ipcclab up` gives stderr: an alert is always
	// logged, whether or not a webhook is set.
	AlertLogf func(format string, args ...any)
	// Store, when set, is the SQLite file (controller/reporting) each
	// half-hour interval is written to when it closes, and the partial
	// one and the controller's outbound attempts at Stop, as `simulate
	// --store` writes a simulated day: `ipcclab report` reads either.
	Store string
	// CampaignStore, when set with a call list (outbound.list), keeps the
	// campaign store in this SQLite file instead of memory, so that the
	// list's progress (attempts, retries, callbacks) survives a restart:
	// a file that already holds the scenario's campaign is resumed, not
	// imported again.
	CampaignStore string
	// HTTPAddr, when set, serves the live dashboard, its JSON and event
	// stream, and Prometheus /metrics there (controller/web; `ipcclab up`
	// defaults it to DefaultHTTPAddr). Off loopback clients need
	// HTTPToken, generated when empty (Running.HTTPToken).
	// Desktop, when set with HTTPAddr, builds the agent desktop served
	// at /desktop/ on the dashboard's server, behind the same token rule.
	// cmd/ipcclab passes controller/desktop's (lab does not import it: the
	// desktop is a CTI client like any other, and ctitool's tests run the
	// lab).
	Desktop   func(DesktopEnv) (h http.Handler, closeFn func(), err error)
	HTTPAddr  string
	HTTPToken string
}

// DesktopEnv is what the agent desktop of UpOptions.Desktop is built from.
type DesktopEnv struct {
	// CTIAddr is the CTI Server its agents' sessions connect to, and
	// PeripheralID the PG they name.
	CTIAddr      string
	PeripheralID uint32
	// Campaign and CampaignID are the call list's store (nil without
	// outbound.list): where recalls and callbacks are booked.
	Campaign   *campaign.Store
	CampaignID int64
	// OutboundReason is the Not Ready reason the controller keeps blended
	// agents in while they work outbound (controller.not_ready_reason; 0
	// without one): where a person returns after a campaign call.
	OutboundReason uint16
	// DeskAgents are the agent IDs of the scenario's groups marked
	// desktop: true (never nil): the only agents a desktop may log in, as
	// the emulator drives the others (desktop.DeskAgentsOnly).
	DeskAgents []string
	// Desktop is the scenario's desktop section, its script and customer
	// files read by scenarios.Load: the reason codes, dispositions,
	// after-call state, scripts and customer records the desktop offers
	// (zero: the desktop's defaults).
	Desktop scenarios.Desktop
	Logf    func(format string, args ...any)
}
