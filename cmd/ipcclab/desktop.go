package main

import (
	"net/http"

	"github.com/ipcclab/ipcclab/controller/desktop"
	"github.com/ipcclab/ipcclab/internal/lab"
)

// agentDesktop builds the browser agent desktop `up` serves at /desktop/:
// its agents' CTI sessions go to the emulator's CTI Server, its content
// (reason codes, dispositions, scripts, customers) is the scenario's
// desktop section's (scenarioDesktop), and recalls and
// callbacks are booked in the call list's store when there is one, whose
// records are also the customers of the campaign's screen pops.
func agentDesktop(env lab.DesktopEnv) (http.Handler, func(), error) {
	cfg := desktop.Config{CTIAddr: env.CTIAddr, PeripheralID: env.PeripheralID, Logf: env.Logf,
		// The emulator drives every other agent: a desktop login would
		// take one over.
		Agents: desktop.DeskAgentsOnly(env.DeskAgents)}
	if err := scenarioDesktop(&cfg, env.Desktop); err != nil {
		return nil, nil, err
	}
	if env.OutboundReason != 0 {
		// After a campaign call a person goes back to the Not Ready reason
		// the controller keeps outbound agents in, so the controller goes
		// on giving them campaign work (Ready would hand them to ICM).
		if cfg.ReasonCodes == nil {
			cfg.ReasonCodes = desktop.DefaultReasonCodes
		}
		cfg.ReasonCodes = desktop.WithReason(cfg.ReasonCodes, desktop.ReasonCode{Code: env.OutboundReason, Label: "Outbound campaign"})
		cfg.AfterOutbound, cfg.AfterOutboundReason = desktop.AfterNotReady, env.OutboundReason
	}
	if env.Campaign != nil {
		cfg.Recalls = desktop.CampaignRecalls{Store: env.Campaign, CampaignID: env.CampaignID}
		// Campaign calls find their record in the store, inbound callers
		// theirs in the scenario's customer file (none without one).
		cfg.Customers = desktop.CampaignCustomers{Store: env.Campaign, Fallback: cfg.Customers}
	}
	h, err := desktop.New(cfg)
	if err != nil {
		return nil, nil, err
	}
	return h, h.Close, nil
}
