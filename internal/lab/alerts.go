package lab

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ipcclab/ipcclab/controller"
	"github.com/ipcclab/ipcclab/controller/campaign"
	"github.com/ipcclab/ipcclab/controller/reporting/alertnotify"
	"github.com/ipcclab/ipcclab/controller/reporting/alerts"
	"github.com/ipcclab/ipcclab/emulator/centre"
	"github.com/ipcclab/ipcclab/emulator/icm"
	"github.com/ipcclab/ipcclab/emulator/pg"
	"github.com/ipcclab/ipcclab/scenarios"
)

// CallTypeSample is one call type in a Sample: its service levels with the
// calls they are taken over (-1 and 0: nothing counted yet), and its calls
// offered and abandoned since the start.
type CallTypeSample struct {
	Name             string  `json:"name"`
	ServiceLevelHalf float64 `json:"service_level_half"`
	ServiceLevelTo5  float64 `json:"service_level_to5"`
	CountedHalf      int     `json:"counted_half"`
	CountedTo5       int     `json:"counted_to5"`
	Offered          int     `json:"offered"`
	Abandoned        int     `json:"abandoned"`
}

// ReservedSample is an agent in RESERVED at a sample, since Since.
type ReservedSample struct {
	Agent string    `json:"agent"`
	Since time.Time `json:"since"`
}

// AlertReport is one alert of a simulated run: raised at Raised, cleared at
// Cleared (null: still active when the run ended), Peak its worst value.
type AlertReport struct {
	Kind      string     `json:"kind"`
	Subject   string     `json:"subject"`
	Severity  string     `json:"severity"`
	Raised    time.Time  `json:"raised"`
	Cleared   *time.Time `json:"cleared"`
	Peak      float64    `json:"peak"`
	Threshold float64    `json:"threshold"`
}

// listEvery is how often the call list is counted for the list alerts:
// counting reads every record, and a list runs dry over hours.
const listEvery = 5 * time.Minute

// sampleForAlerts adds to s what the alerts judge beyond the charts'
// figures.
func (r *timelineRun) sampleForAlerts(s *Sample) {
	var pool *controller.PoolReport
	if r.pool {
		pool = r.core.Status().Report.Pool
	}
	sampleAlertFigures(s, r.cen, pool)
}

// sampleAlertFigures adds to s, read from cen on its loop, what the alerts
// judge beyond the charts' figures; pool is the controller's pool-mode
// report (nil in other modes), whose live answers the abandon rate is over.
func sampleAlertFigures(s *Sample, cen *centre.Centre, pool *controller.PoolReport) {
	router := cen.Router()
	for _, ct := range router.CallTypes() {
		c := CallTypeSample{Name: ct.Name, ServiceLevelHalf: -1, ServiceLevelTo5: -1}
		var half, to5 slSum
		if k, err := router.CallTypeCounters(ct.ID, icm.Run); err == nil {
			c.Offered, c.Abandoned = int(k.CallsOffered), int(k.Abandoned())
		}
		if k, err := router.CallTypeCounters(ct.ID, icm.ToHalf); err == nil {
			half.add(ct.ServiceLevelType, k)
		}
		if k, err := router.CallTypeCounters(ct.ID, icm.To5); err == nil {
			to5.add(ct.ServiceLevelType, k)
		}
		c.ServiceLevelHalf, c.CountedHalf = round(half.level(), 4), int(half.den)
		c.ServiceLevelTo5, c.CountedTo5 = round(to5.level(), 4), int(to5.den)
		if half.den <= 0 {
			c.ServiceLevelHalf = -1
		}
		if to5.den <= 0 {
			c.ServiceLevelTo5 = -1
		}
		s.CountedHalf += c.CountedHalf
		s.CountedTo5 += c.CountedTo5
		s.CallTypes = append(s.CallTypes, c)
	}
	for _, a := range cen.PG().Agents() {
		if a.LoggedOn && a.State == pg.StateReserved {
			s.Reserved = append(s.Reserved, ReservedSample{Agent: a.AgentID, Since: a.Since})
		}
	}
	o := cen.Outbound()
	s.OutboundAnswers = o.Connects + o.Abandoned
	if pool != nil {
		s.OutboundAnswers = int(pool.LiveAnswered)
	}
}

// AlertFigures maps a Sample to the alerts' input; campaigns are the
// outbound campaigns' figures (the sample has their abandon rate, not
// their target or list).
func AlertFigures(s Sample, campaigns []alerts.Campaign) alerts.Figures {
	f := alerts.Figures{
		Inbound: alerts.Inbound{ServiceLevelTo5: s.ServiceLevelTo5, CountedTo5: s.CountedTo5, ServiceLevelHalf: s.ServiceLevelHalf,
			CountedHalf: s.CountedHalf, Offered: s.Offered, Abandoned: s.Abandoned},
		LongestWait: time.Duration(s.LongestWaitSeconds) * time.Second,
		Campaigns:   campaigns,
	}
	for _, c := range s.CallTypes {
		f.CallTypes = append(f.CallTypes, alerts.CallType{Name: c.Name, Inbound: alerts.Inbound{ServiceLevelTo5: c.ServiceLevelTo5,
			CountedTo5: c.CountedTo5, ServiceLevelHalf: c.ServiceLevelHalf, CountedHalf: c.CountedHalf, Offered: c.Offered, Abandoned: c.Abandoned}})
	}
	for _, a := range s.Reserved {
		f.Reserved = append(f.Reserved, alerts.ReservedAgent{Agent: a.Agent, Since: a.Since})
	}
	return f
}

// alertRun judges a simulated run's samples (controller.alerts) and keeps
// the alerts for the Report. A nil *alertRun is a run without alerts.
type alertRun struct {
	ev     *alerts.Evaluator
	notify *alertnotify.Notifier
	logf   func(string, ...any)
	// The campaign judged: outbound on, its name and compliance target;
	// camp its call list (nil: synthetic numbers).
	outbound bool
	name     string
	target   float64
	camp     *labCampaign
	// list is the last count of the call list, taken at listAt.
	listAt         time.Time
	left, dialable int

	reports []AlertReport
	open    map[string]int // kind/subject/severity → index in reports
}

// alertsTimeline is the timeline a run samples: the caller's, or, when
// controller.alerts has any alert on and the caller wants none, one of the
// run's own for the alerts to judge.
func alertsTimeline(sc *scenarios.Scenario, tl *Timeline) *Timeline {
	if tl == nil && sc.AlertsConfig().Any() {
		return &Timeline{}
	}
	return tl
}

// startAlerts sets up the alerts of sc on the timeline's samples, judging
// the sample already taken. With controller.alerts.webhook the changes are
// also posted there (finish waits a little for them to go).
func startAlerts(sc *scenarios.Scenario, tl *timelineRun, camp *labCampaign, logf func(string, ...any)) (*alertRun, error) {
	if tl == nil {
		return nil, nil
	}
	a, err := newAlertRun(sc, camp, logf)
	if a == nil || err != nil {
		return nil, err
	}
	tl.onSample = a.observe
	for _, s := range tl.tl.Samples {
		a.observe(s)
	}
	return a, nil
}

// newAlertRun sets up the alerts of sc (nil when none is on), with the
// webhook notifier when controller.alerts.webhook is set; samples are fed
// to its observe, in simulation by the timeline and in real time by the
// live alert ticker (livealerts.go).
func newAlertRun(sc *scenarios.Scenario, camp *labCampaign, logf func(string, ...any)) (*alertRun, error) {
	cfg := sc.AlertsConfig()
	if !cfg.Any() {
		return nil, nil
	}
	ev, err := alerts.New(cfg)
	if err != nil {
		return nil, err // Parse validated it: a scenario changed in code
	}
	a := &alertRun{ev: ev, logf: logf, outbound: sc.Outbound.Enabled, name: sc.Outbound.Campaign,
		target: sc.Controller.Pacing.AbandonLimit, camp: camp, open: map[string]int{}, reports: []AlertReport{}}
	if a.name == "" {
		a.name = sc.Name
	}
	if camp != nil {
		// The store holds a list campaign to the regulators' limit at most.
		a.target = min(a.target, campaign.DefaultAbandonTarget)
	}
	if w := sc.Controller.Alerts.Webhook; w != "" {
		log := slog.New(slog.DiscardHandler)
		if logf != nil {
			log = slog.New(slog.NewTextHandler(logfWriter(logf), &slog.HandlerOptions{
				ReplaceAttr: func(_ []string, at slog.Attr) slog.Attr {
					if at.Key == slog.TimeKey {
						return slog.Attr{} // virtual time stamps the line
					}
					return at
				}}))
		}
		if a.notify, err = alertnotify.New(alertnotify.Config{Webhook: w, Logger: log, Source: sc.Name}); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// logfWriter turns a Logf into an io.Writer of lines.
type logfWriter func(string, ...any)

func (w logfWriter) Write(p []byte) (int, error) {
	w("%s", strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func (a *alertRun) observe(s Sample) {
	var camps []alerts.Campaign
	if a.outbound {
		c := alerts.Campaign{Name: a.name, AbandonRate: s.OutboundAbandonRate, AbandonTarget: a.target, LiveAnswers: s.OutboundAnswers}
		if a.camp != nil {
			a.countList(s.At)
			c.HasList, c.RecordsLeft, c.Dialable = true, a.left, a.dialable
		}
		camps = append(camps, c)
	}
	changes := a.ev.Evaluate(s.At, AlertFigures(s, camps))
	for _, c := range changes {
		k := string(c.Kind) + "/" + c.Subject + "/" + string(c.Severity)
		switch c.Action {
		case alerts.Raise:
			a.open[k] = len(a.reports)
			a.reports = append(a.reports, AlertReport{Kind: string(c.Kind), Subject: c.Subject, Severity: string(c.Severity),
				Raised: c.At, Peak: round(c.Peak, 4), Threshold: round(c.Threshold, 4)})
		case alerts.Clear:
			if i, ok := a.open[k]; ok {
				at := c.At
				a.reports[i].Cleared, a.reports[i].Peak = &at, round(c.Peak, 4)
				delete(a.open, k)
			}
		}
		if a.logf != nil && a.notify == nil {
			a.logf("alert %s", c)
		}
	}
	if a.notify != nil && len(changes) > 0 {
		a.notify.Notify(changes)
	}
}

// countList counts the call list's pending records and those dialable now
// (due, in their calling hours), at most every listEvery.
func (a *alertRun) countList(now time.Time) {
	if !a.listAt.IsZero() && now.Sub(a.listAt) < listEvery {
		return
	}
	a.listAt = now
	recs, err := a.camp.store.Records(a.camp.id)
	c, cerr := a.camp.store.Campaign(a.camp.id)
	if err != nil || cerr != nil {
		a.left, a.dialable = 0, -1 // not known: the exhaustion alert holds
		return
	}
	a.left, a.dialable = 0, 0
	zones := map[string]bool{}
	for _, r := range recs {
		if r.Status != campaign.Pending {
			continue
		}
		a.left++
		open, ok := zones[r.TimeZone]
		if !ok {
			loc, err := campaign.LoadZone(r.TimeZone)
			open = err == nil && campaign.InWindow(now, loc, c.CallingHours)
			zones[r.TimeZone] = open
		}
		if c.Enabled && open && !r.NextAt.After(now) {
			a.dialable++
		}
	}
}

// finish updates the peaks of the alerts still active, posts what is left
// to the webhook (a few seconds at most) and returns the run's alerts.
func (a *alertRun) finish() []AlertReport {
	if a == nil {
		return []AlertReport{}
	}
	for _, al := range a.ev.Active() {
		if i, ok := a.open[string(al.Kind)+"/"+al.Subject+"/"+string(al.Severity)]; ok {
			a.reports[i].Peak = round(al.Peak, 4)
		}
	}
	if a.notify != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		a.notify.Close(ctx)
		cancel()
	}
	return a.reports
}

// close stops the webhook notifier of a run that ended early, dropping
// what it had not sent; after finish it does nothing.
func (a *alertRun) close() {
	if a == nil || a.notify == nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	a.notify.Close(ctx)
}

// writeAlerts lists a run's alerts for people (Report.WriteText).
func writeAlerts(w io.Writer, list []AlertReport) {
	if len(list) == 0 {
		return
	}
	fmt.Fprintln(w, "\nalerts:")
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  raised\tcleared\tseverity\tkind\tsubject\tpeak\tthreshold")
	for _, a := range list {
		cleared := "active"
		if a.Cleared != nil {
			cleared = a.Cleared.Format("15:04")
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%v\t%v\n", a.Raised.Format("15:04"), cleared, a.Severity, a.Kind, a.Subject, a.Peak, a.Threshold)
	}
	_ = tw.Flush()
}
