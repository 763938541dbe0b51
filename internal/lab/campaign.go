package lab

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"slices"
	"time"

	"github.com/ipcclab/ipcclab/controller"
	"github.com/ipcclab/ipcclab/controller/campaign"
	"github.com/ipcclab/ipcclab/controller/web"
	"github.com/ipcclab/ipcclab/scenarios"
)

// labCampaign is the campaign store of a scenario with a call list
// (outbound.list): one campaign, in an in-memory store (the same selection,
// journal and retry code as a file; a lab run has nothing to survive).
type labCampaign struct {
	store *campaign.Store
	id    int64
	list  ListReport
}

// ListReport is the call list of a campaign: what the import did, and
// where the records stand at the end of the run.
type ListReport struct {
	Imported int `json:"imported"`
	// DNC records were imported as do-not-call (never dialed).
	DNC int `json:"dnc"`
	// Rejected rows, "line N: reason".
	Rejected []string `json:"rejected,omitempty"`
	// Status counts the records by status at the end of the run
	// (pending, dialing, done, exhausted, dnc).
	Status map[string]int `json:"status,omitempty"`
	// Attempts journaled during the run.
	Attempts int `json:"attempts"`
	// Resumed: the campaign was found in the campaign store's file
	// (UpOptions.CampaignStore) and goes on from where it stood; nothing
	// was imported.
	Resumed bool `json:"resumed,omitempty"`
}

// openCampaign builds the campaign of sc: campaign settings from outbound
// (calling_hours, retry, max_attempts, uk_ofcom) and
// controller.pacing.abandon_limit, the DNC entries, then the list. Every
// error names the scenario key at fault. now is the store's clock (the
// import time, from which the records are due).
func openCampaign(sc *scenarios.Scenario, now func() time.Time, logf func(string, ...any)) (*labCampaign, error) {
	return openCampaignAt(sc, "", now, logf)
}

// openCampaignAt is openCampaign with the store in the SQLite file at path
// (UpOptions.CampaignStore; "" in memory). A file that already holds a
// campaign of this name is resumed as it stands — its settings (the
// campaign API may have changed them), records, journal and recalls —
// and nothing is imported; a crash's attempts in flight are resolved by
// campaign.Open.
func openCampaignAt(sc *scenarios.Scenario, path string, now func() time.Time, logf func(string, ...any)) (*labCampaign, error) {
	fail := func(key string, err error) (*labCampaign, error) {
		return nil, fmt.Errorf("scenario %s: %s: %w", sc.Name, key, err)
	}
	o := sc.Outbound
	mode := campaign.Progressive
	switch sc.Controller.Pacing.Mode {
	case scenarios.PacingPool:
		mode = campaign.Predictive
	case scenarios.PacingPreview:
		mode = campaign.Preview
	}
	name := o.Campaign
	if name == "" {
		name = sc.Name
	}
	c := campaign.NewCampaign(name, mode)
	if o.CallingHours != "" {
		h, err := campaign.ParseHours(o.CallingHours)
		if err != nil {
			return fail("outbound.calling_hours", err)
		}
		c.CallingHours = h
	}
	if o.MaxAttempts != 0 {
		c.MaxAttempts = o.MaxAttempts
	}
	// The store holds a campaign to the regulators' 3 % at most; the
	// scenario's pacing may aim higher (the compare harness runs ours at a
	// baseline's abandon rate), and the controller keeps its own limit.
	c.AbandonTarget = min(sc.Controller.Pacing.AbandonLimit, campaign.DefaultAbandonTarget)
	c.UKOfcom = o.UKOfcom
	for key, r := range o.Retry.Rules() {
		rule := map[string]*campaign.RetryRule{"busy": &c.RetryRules.Busy, "no_answer": &c.RetryRules.NoAnswer,
			"machine": &c.RetryRules.Machine, "abandoned": &c.RetryRules.Abandoned, "failed": &c.RetryRules.Failed}[key]
		if r.Retry != nil {
			rule.Retry = *r.Retry
		}
		if r.Delay != 0 {
			rule.Delay = r.Delay.D()
		}
		rule.MaxAttempts = r.MaxAttempts
	}
	if err := c.Validate(); err != nil {
		return fail(scenarioKey(err), err)
	}
	var store *campaign.Store
	var err error
	if path == "" {
		store, err = campaign.OpenMemory(campaign.Config{Now: now})
		if err != nil {
			return nil, fmt.Errorf("scenario %s: campaign store: %w", sc.Name, err)
		}
	} else if store, err = campaign.Open(path, campaign.Config{Now: now}); err != nil {
		return nil, fmt.Errorf("--campaign-store: %w", err)
	}
	lc := &labCampaign{store: store}
	ok := false
	defer func() {
		if !ok {
			store.Close()
		}
	}()
	if path != "" {
		have, err := store.Campaigns()
		if err != nil {
			return nil, fmt.Errorf("--campaign-store: %s: %w", path, err)
		}
		for _, h := range have {
			if h.Name == c.Name {
				lc.id, lc.list.Resumed, ok = h.ID, true, true
				return lc, nil
			}
		}
	}
	if c, err = store.CreateCampaign(c); err != nil {
		return fail(scenarioKey(err), err)
	}
	lc.id = c.ID
	for i, d := range o.DNC {
		e, err := campaign.ParseDNC(d)
		if err == nil {
			_, err = store.AddDNC(e)
		}
		if err != nil {
			return fail(fmt.Sprintf("outbound.dnc[%d]", i), err)
		}
	}
	var list io.Reader
	switch {
	case o.List.Generate != nil:
		g := o.List.Generate
		var b bytes.Buffer
		if err := campaign.GenerateCSV(&b, campaign.GenerateConfig{Count: g.Count, TimeZones: g.TimeZones, Seed: g.Seed, Prefix: o.NumberPrefix}); err != nil {
			return fail("outbound.list.generate", err)
		}
		list = &b
	default:
		f, err := os.Open(sc.ListPath())
		if err != nil {
			return fail("outbound.list", fmt.Errorf("cannot read the call list: %w", err))
		}
		defer f.Close()
		list = f
	}
	rep, err := store.ImportCSV(c.ID, list)
	if err != nil {
		return fail("outbound.list", err)
	}
	lc.list = ListReport{Imported: rep.Imported, DNC: rep.DNC}
	for _, r := range rep.Rejected {
		lc.list.Rejected = append(lc.list.Rejected, r.String())
		if logf != nil {
			logf("lab: call list %s: %s (not imported)", listName(sc), r)
		}
	}
	if rep.Imported == 0 {
		return fail("outbound.list", fmt.Errorf("no record imported (%d rejected)", len(rep.Rejected)))
	}
	ok = true
	return lc, nil
}

func listName(sc *scenarios.Scenario) string {
	if p := sc.ListPath(); p != "" {
		return p
	}
	return "(generated)"
}

var goKey = regexp.MustCompile(`Campaign\.(RetryRules\.(Busy|NoAnswer|Machine|Abandoned|Failed)|MaxAttempts|AbandonTarget|CallingHours|UKOfcom|Name)`)

// scenarioKey names the scenario key of a campaign settings error.
func scenarioKey(err error) string {
	m := goKey.FindStringSubmatch(err.Error())
	if m == nil {
		return "outbound"
	}
	if m[2] != "" {
		return "outbound.retry." + map[string]string{"Busy": "busy", "NoAnswer": "no_answer", "Machine": "machine",
			"Abandoned": "abandoned", "Failed": "failed"}[m[2]]
	}
	return map[string]string{"MaxAttempts": "outbound.max_attempts", "AbandonTarget": "controller.pacing.abandon_limit",
		"CallingHours": "outbound.calling_hours", "UKOfcom": "outbound.uk_ofcom", "Name": "outbound.campaign"}[m[1]]
}

// source is the controller's record source.
func (lc *labCampaign) source() controller.Records { return campaign.NewSource(lc.store, lc.id) }

// report counts where the records stand.
func (lc *labCampaign) report() *ListReport {
	r := lc.list
	r.Status = map[string]int{}
	recs, err := lc.store.Records(lc.id)
	if err != nil {
		return &r
	}
	for _, rec := range recs {
		r.Status[string(rec.Status)]++
		atts, _ := lc.store.Attempts(rec.ID)
		r.Attempts += len(atts)
	}
	r.Rejected = slices.Clone(r.Rejected)
	return &r
}

// SimContext is what a SimAction sees of a running simulation.
type SimContext struct {
	Core *controller.Core
	// Store and CampaignID are the campaign of outbound.list (nil, 0
	// without a list).
	Store      *campaign.Store
	CampaignID int64
}

// UpdateCampaign changes the running campaign as the campaign API's PATCH
// does: the controller takes the new limits, then the store saves the
// campaign, and the controller asks for records at its next decision.
func (s *SimContext) UpdateCampaign(change func(*campaign.Campaign)) error {
	if s.Store == nil {
		return errors.New("lab: the scenario has no call list (outbound.list)")
	}
	c, err := s.Store.Campaign(s.CampaignID)
	if err != nil {
		return err
	}
	old := c
	change(&c)
	if err := c.Validate(); err != nil {
		return err
	}
	if err := s.Core.UpdateCampaign(campaign.Limits(c)); err != nil {
		return err
	}
	if err := s.Store.UpdateCampaign(c); err != nil {
		_ = s.Core.UpdateCampaign(campaign.Limits(old))
		return err
	}
	s.Core.RecordsChanged()
	return nil
}

// SimAction runs Do on the simulation's loop After the start; an error
// stops the run and Simulate returns it.
type SimAction struct {
	After time.Duration
	Do    func(*SimContext) error
}

// CampaignAPI is the campaign's HTTP API (campaign.CampaignAPI.Handler) for
// the running controller: a change is applied to the controller, then
// saved. Nil without a call list or a controller.
func (r *Running) CampaignAPI() http.Handler {
	if r.camp == nil || r.ctrl == nil {
		return nil
	}
	api := &campaign.CampaignAPI{Store: r.camp.store,
		Apply: func(c campaign.Campaign) error {
			if c.ID != r.camp.id {
				return nil // not the campaign this controller runs
			}
			return r.ctrl.UpdateCampaign(campaign.Limits(c))
		},
		Changed: func(id int64) {
			if id == r.camp.id {
				r.ctrl.RecordsChanged()
			}
		}}
	return api.Handler()
}

// serveCampaignAPI serves CampaignAPI on addr until Stop.
func (r *Running) serveCampaignAPI(addr, token string) error {
	h := r.CampaignAPI()
	if h == nil {
		return errors.New("--campaign-addr: the campaign API needs a call list (outbound.list) and the controller")
	}
	// The dashboard's rule: loopback clients, or others with the token
	// (httpToken's, set whenever addr is off loopback: there the API
	// changes campaigns for anyone who can reach it).
	h = web.Protect(token, h)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("campaign API: %w", err)
	}
	r.api = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	r.apiAddr = ln.Addr().String()
	r.wg.Add(1)
	go func() { defer r.wg.Done(); _ = r.api.Serve(ln) }()
	return nil
}

// CampaignAPIAddr is where the campaign API listens ("" when it does not).
func (r *Running) CampaignAPIAddr() string { return r.apiAddr }

// Campaign is the campaign store and campaign ID of outbound.list (nil, 0
// without one).
func (r *Running) Campaign() (*campaign.Store, int64) {
	if r.camp == nil {
		return nil, 0
	}
	return r.camp.store, r.camp.id
}
