package web

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// /metrics: every scrape reads one snapshot and exposes it through
// client_golang (a custom Collector of constant metrics).

// family is one metric family: its samples share name, help and type.
type family struct {
	name, help, typ string
	samples         []sample
}

type sample struct {
	labels []string // name, value, name, value…
	value  float64
}

func (f *family) add(v float64, labels ...string) {
	f.samples = append(f.samples, sample{labels: labels, value: v})
}

// families maps a snapshot to metric families, named by Prometheus
// conventions: base units (seconds, ratios 0..1), _total on counters.
func families(s Snapshot) []*family {
	g := func(name, help string) *family { return &family{name: name, help: help, typ: "gauge"} }
	c := func(name, help string) *family { return &family{name: name, help: help, typ: "counter"} }

	inQueue := g("ipcclab_inbound_calls_in_queue", "Inbound calls waiting in the router queue, by call type.")
	longest := g("ipcclab_inbound_longest_wait_seconds", "Wait of the longest-waiting queued call, by call type.")
	sl := g("ipcclab_service_level_ratio", "Service level (0..1) per call type and window (to5: rolling five minutes, half_hour: current half-hour, today); absent before a call counts in the window.")
	asa := g("ipcclab_inbound_asa_seconds", "Average speed of answer today, by call type.")
	offered := c("ipcclab_inbound_calls_offered_total", "Inbound calls offered since the start, by call type.")
	answered := c("ipcclab_inbound_calls_answered_total", "Inbound calls answered since the start, by call type.")
	abandoned := c("ipcclab_inbound_calls_abandoned_total", "Inbound calls abandoned (in queue, ringing, short calls) since the start, by call type.")
	for _, q := range s.Queues {
		ct := []string{"call_type", q.CallType}
		inQueue.add(float64(q.InQueue), ct...)
		longest.add(float64(q.LongestWaitSeconds), ct...)
		for _, w := range []struct {
			name string
			v    float64
		}{{"to5", q.ServiceLevelTo5}, {"half_hour", q.ServiceLevelHalf}, {"today", q.ServiceLevelToday}} {
			if w.v >= 0 {
				sl.add(w.v, "call_type", q.CallType, "window", w.name)
			}
		}
		asa.add(q.ASASeconds, ct...)
		offered.add(float64(q.Offered), ct...)
		answered.add(float64(q.Answered), ct...)
		abandoned.add(float64(q.Abandoned), ct...)
	}

	a := s.Centre.Agents
	agents := g("ipcclab_agents", "Logged-in agents by state; outbound_idle are outbound-only agents (lines) between calls.")
	for _, st := range []struct {
		name string
		n    int
	}{{"talking_inbound", a.TalkingInbound}, {"talking_outbound", a.TalkingOutbound}, {"reserved", a.Reserved},
		{"ready", a.Ready}, {"not_ready", a.NotReady}, {"wrap_up", a.WrapUp}, {"outbound_idle", a.OutboundIdle}} {
		agents.add(float64(st.n), "state", st.name)
	}
	loggedIn := g("ipcclab_agents_logged_in", "Logged-in agents, every state.")
	loggedIn.add(float64(a.LoggedIn))
	sgAgents := g("ipcclab_skill_group_agents", "Agents of each skill group by state (an agent in several groups counts in each).")
	sgQueue := g("ipcclab_skill_group_calls_in_queue", "Calls the router has queued for each skill group.")
	sgLongest := g("ipcclab_skill_group_longest_wait_seconds", "Wait of the longest call queued for each skill group.")
	for _, sg := range s.SkillGroups {
		for _, st := range []struct {
			name string
			n    int
		}{{"ready", sg.Ready}, {"reserved", sg.Reserved}, {"talking_inbound", sg.TalkingIn}, {"talking_outbound", sg.TalkingOut},
			{"hold", sg.Hold}, {"wrap_up", sg.WrapUp}, {"not_ready", sg.NotReady}, {"busy_other", sg.BusyOther}} {
			sgAgents.add(float64(st.n), "skill_group", sg.Name, "state", st.name)
		}
		sgQueue.add(float64(sg.InQueue), "skill_group", sg.Name)
		sgLongest.add(float64(sg.LongestWaitSeconds), "skill_group", sg.Name)
	}

	o := s.Centre
	dialing := g("ipcclab_outbound_calls_dialing", "Outbound calls placed and not yet answered or failed.")
	dialing.add(float64(o.Dialing))
	level := g("ipcclab_outbound_dial_level", "Outbound calls dialing per agent working outbound.")
	level.add(o.DialLevel)
	abRate := g("ipcclab_outbound_abandon_ratio", "Outbound abandon rate so far: abandoned over live answers.")
	abRate.add(o.OutboundAbandonRate)
	attempts := c("ipcclab_outbound_attempts_total", "Outbound calls placed since the start.")
	attempts.add(float64(o.OutboundAttempts))
	connects := c("ipcclab_outbound_connects_total", "Outbound calls connected to an agent since the start.")
	connects.add(float64(o.OutboundConnects))
	outAb := c("ipcclab_outbound_abandoned_total", "Outbound calls answered with no agent free since the start.")
	outAb.add(float64(o.OutboundAbandoned))
	lent := g("ipcclab_blend_lent_agents", "Blended agents lent to inbound now.")
	lent.add(float64(o.Lent))
	moves := c("ipcclab_blend_moves_total", "Blending moves since the start, by direction.")
	moves.add(float64(o.MovesToInbound), "direction", "to_inbound")
	moves.add(float64(o.MovesToOutbound), "direction", "to_outbound")
	out := []*family{inQueue, longest, sl, asa, offered, answered, abandoned, agents, loggedIn, sgAgents, sgQueue, sgLongest,
		dialing, level, abRate, attempts, connects, outAb, lent, moves}

	if cp := s.Campaign; cp != nil {
		id := []string{"campaign", cp.Name}
		target := g("ipcclab_outbound_abandon_target_ratio", "The abandon rate the campaign is held to.")
		target.add(cp.AbandonTarget, id...)
		out = append(out, target)
		// Without a call list there are no records to count: the series
		// are absent rather than 0, which would read as an exhausted list.
		if cp.List != nil {
			left := g("ipcclab_campaign_records_left", "Call list records left to dial (pending or dialing).")
			left.add(float64(cp.List.Left), id...)
			recs := g("ipcclab_campaign_records", "Call list records, every status.")
			recs.add(float64(cp.List.Records), id...)
			out = append(out, left, recs)
		}
	}
	alerts := g("ipcclab_alerts", "Alerts raised and not cleared.")
	alerts.add(float64(len(s.Alerts)))
	out = append(out, alerts)
	// The same alerts by kind and severity, one series per pair raised; a
	// cleared pair's series disappears (alert rules read absent as 0).
	if len(s.Alerts) > 0 {
		active := g("ipcclab_alerts_active", "Alerts raised and not cleared, by what crossed its threshold and severity.")
		type pair struct{ kind, severity string }
		n, order := map[pair]int{}, []pair{}
		for _, al := range s.Alerts {
			p := pair{al.Kind, al.Severity}
			if p.kind == "" {
				p.kind = "unknown"
			}
			if n[p] == 0 {
				order = append(order, p)
			}
			n[p]++
		}
		for _, p := range order {
			active.add(float64(n[p]), "kind", p.kind, "severity", p.severity)
		}
		out = append(out, active)
	}
	return out
}

// snapshotCollector is a prometheus.Collector over one snapshot: the
// families above become constant metrics at scrape time, so nothing is
// kept between scrapes and every figure of a scrape comes from the same
// instant of the centre. It is unchecked (DescribeByCollect would need a
// snapshot): the families' label sets are fixed per name.
type snapshotCollector struct{ fams []*family }

func (c snapshotCollector) Describe(chan<- *prometheus.Desc) {}

func (c snapshotCollector) Collect(ch chan<- prometheus.Metric) {
	for _, f := range c.fams {
		typ := prometheus.GaugeValue
		if f.typ == "counter" {
			typ = prometheus.CounterValue
		}
		for _, s := range f.samples {
			var names, values []string
			for i := 0; i+1 < len(s.labels); i += 2 {
				names = append(names, s.labels[i])
				values = append(values, s.labels[i+1])
			}
			desc := prometheus.NewDesc(f.name, f.help, names, nil)
			m, err := prometheus.NewConstMetric(desc, typ, s.value, values...)
			if err != nil {
				m = prometheus.NewInvalidMetric(desc, err)
			}
			ch <- m
		}
	}
}

// metrics serves /metrics through client_golang's exposition (promhttp):
// the snapshot is taken first, so a centre that does not answer gets a 503
// naming why instead of an empty scrape.
func (s *Server) metrics(w http.ResponseWriter, r *http.Request) {
	snap, err := s.snapshot(r.Context())
	if err != nil {
		fail(w, http.StatusServiceUnavailable, "metrics: "+err.Error())
		return
	}
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(snapshotCollector{families(snap)}); err != nil {
		fail(w, http.StatusInternalServerError, "metrics: "+err.Error())
		return
	}
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.HTTPErrorOnError}).ServeHTTP(w, r)
}
