package lab

import (
	"context"
	"time"

	"github.com/ipcclab/ipcclab/controller"
	"github.com/ipcclab/ipcclab/controller/web"
	"github.com/ipcclab/ipcclab/scenarios"
)

// liveAlertEvery is how often `up` judges its alerts: often enough for the
// thresholds' minimum durations (a minute and more by default), rarely
// enough that reading the centre costs nothing.
var liveAlertEvery = 5 * time.Second

// startLiveAlerts judges controller.alerts on the running centre every
// liveAlertEvery, as the simulation does on its samples: changes go to
// the log and the webhook, and the active alerts to the dashboard, the
// event stream and /metrics (Snapshot.Alerts). Nothing runs when no alert
// is on.
func (r *Running) startLiveAlerts(ctx context.Context, sc *scenarios.Scenario, logf func(string, ...any)) error {
	a, err := newAlertRun(sc, r.camp, logf)
	if a == nil || err != nil {
		return err
	}
	r.alerts = a
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		every(ctx, liveAlertEvery, func() {
			var st controller.Status
			if r.ctrl != nil {
				st = r.ctrl.Status() // from the controller's loop, before posting to the centre's
			}
			r.loop.Post(func(now time.Time) { r.judgeAlerts(now, st) })
		})
	}()
	return nil
}

// alertLogf is where `up` logs its alerts: UpOptions.AlertLogf stamped
// with the wall clock, or else the run's log (logf, already stamped).
func alertLogf(opts UpOptions, logf func(string, ...any)) func(string, ...any) {
	if opts.AlertLogf != nil {
		return wallStamped(opts.AlertLogf)
	}
	return logf
}

// judgeAlerts runs on the centre's loop.
func (r *Running) judgeAlerts(now time.Time, st controller.Status) {
	l := r.live
	sm := sampleCentre(now, r.cen, st, l.ports, l.ctrlAgents, l.pool)
	sampleAlertFigures(&sm, r.cen, st.Report.Pool)
	r.alerts.observe(sm)
	l.alerts = l.alerts[:0]
	for _, al := range r.alerts.ev.Active() {
		l.alerts = append(l.alerts, web.Alert{At: al.Raised, Severity: string(al.Severity), Kind: string(al.Kind), Subject: al.Subject, Message: al.String()})
	}
}
