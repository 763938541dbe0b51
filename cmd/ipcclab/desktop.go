package main

import (
	"net/http"

	"github.com/ipcclab/ipcclab/controller/desktop"
	"github.com/ipcclab/ipcclab/internal/lab"
)

// agentDesktop builds the browser agent desktop `up` serves at /desktop/:
// its agents' CTI sessions go to the emulator's CTI Server, and recalls and
// callbacks are booked in the call list's store when there is one, whose
// records are also the customers of the campaign's screen pops.
func agentDesktop(env lab.DesktopEnv) (http.Handler, func(), error) {
	cfg := desktop.Config{CTIAddr: env.CTIAddr, PeripheralID: env.PeripheralID, Logf: env.Logf}
	if env.OutboundReason != 0 {
		// After a campaign call a person goes back to the Not Ready reason
		// the controller keeps outbound agents in, so the controller goes
		// on giving them campaign work (Ready would hand them to ICM).
		cfg.ReasonCodes = desktop.WithReason(desktop.DefaultReasonCodes, desktop.ReasonCode{Code: env.OutboundReason, Label: "Outbound campaign"})
		cfg.AfterOutbound, cfg.AfterOutboundReason = desktop.AfterNotReady, env.OutboundReason
	}
	if env.Campaign != nil {
		cfg.Recalls = desktop.CampaignRecalls{Store: env.Campaign, CampaignID: env.CampaignID}
		cfg.Customers = desktop.CampaignCustomers{Store: env.Campaign}
	}
	h, err := desktop.New(cfg)
	if err != nil {
		return nil, nil, err
	}
	return h, h.Close, nil
}
