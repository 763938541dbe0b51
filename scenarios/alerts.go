package scenarios

import (
	"errors"
	"net/url"

	"github.com/ipcclab/ipcclab/controller/reporting/alerts"
)

// Alerts is controller.alerts: the thresholds of the centre's alerts
// (package alerts) and where they are sent. An absent section takes
// alerts.Default(); in a section, a zero or absent value takes the
// default's and off: true turns that kind off. Fractions are 0-1,
// durations Go syntax.
type Alerts struct {
	// Off turns every alert off.
	Off bool `yaml:"off"`
	// Webhook, when set, is an http(s) URL every raise and clear is
	// POSTed to as JSON (alertnotify.Payload); simulate posts them as they
	// happen in virtual time.
	Webhook         string               `yaml:"webhook"`
	ServiceLevel    AlertServiceLevel    `yaml:"service_level"`
	InboundAbandon  AlertInboundAbandon  `yaml:"inbound_abandon"`
	OutboundAbandon AlertOutboundAbandon `yaml:"outbound_abandon"`
	QueueWait       AlertQueueWait       `yaml:"queue_wait"`
	Reserved        AlertReserved        `yaml:"reserved"`
	List            AlertList            `yaml:"list"`
}

// AlertServiceLevel is controller.alerts.service_level (alerts.ServiceLevel).
type AlertServiceLevel struct {
	Off      bool     `yaml:"off"`
	Below    float64  `yaml:"below"`
	ClearAt  float64  `yaml:"clear_at"`
	Windows  []string `yaml:"windows"`
	MinCalls int      `yaml:"min_calls"`
	For      Duration `yaml:"for"`
	// PerCallType (default true) judges each call type besides the
	// centre as a whole.
	PerCallType *bool `yaml:"per_call_type"`
}

// AlertInboundAbandon is controller.alerts.inbound_abandon.
type AlertInboundAbandon struct {
	Off      bool     `yaml:"off"`
	Above    float64  `yaml:"above"`
	ClearAt  float64  `yaml:"clear_at"`
	Window   Duration `yaml:"window"`
	MinCalls int      `yaml:"min_calls"`
	For      Duration `yaml:"for"`
}

// AlertOutboundAbandon is controller.alerts.outbound_abandon; the target is
// the campaign's (controller.pacing.abandon_limit, at most the regulators'
// 3 % with a call list).
type AlertOutboundAbandon struct {
	Off        bool     `yaml:"off"`
	WarnRatio  float64  `yaml:"warn_ratio"`
	ClearRatio float64  `yaml:"clear_ratio"`
	MinCalls   int      `yaml:"min_calls"`
	For        Duration `yaml:"for"`
}

// AlertQueueWait is controller.alerts.queue_wait.
type AlertQueueWait struct {
	Off     bool     `yaml:"off"`
	Above   Duration `yaml:"above"`
	ClearAt Duration `yaml:"clear_at"`
	For     Duration `yaml:"for"`
}

// AlertReserved is controller.alerts.reserved.
type AlertReserved struct {
	Off   bool     `yaml:"off"`
	Above Duration `yaml:"above"`
}

// AlertList is controller.alerts.list.
type AlertList struct {
	Off     bool     `yaml:"off"`
	Below   int      `yaml:"below"`
	ClearAt int      `yaml:"clear_at"`
	For     Duration `yaml:"for"`
}

// AlertsConfig is controller.alerts as the alerts core takes it: the
// defaults with the scenario's values over them.
func (s *Scenario) AlertsConfig() alerts.Config {
	a := s.Controller.Alerts
	if a.Off {
		return alerts.Config{}
	}
	c := alerts.Default()
	setF := func(dst *float64, v float64) {
		if v != 0 {
			*dst = v
		}
	}
	setI := func(dst *int, v int) {
		if v != 0 {
			*dst = v
		}
	}

	if sl := a.ServiceLevel; sl.Off {
		c.ServiceLevel = alerts.ServiceLevel{}
	} else {
		setF(&c.ServiceLevel.Below, sl.Below)
		setF(&c.ServiceLevel.ClearAt, sl.ClearAt)
		if len(sl.Windows) > 0 {
			c.ServiceLevel.Windows = sl.Windows
		}
		setI(&c.ServiceLevel.MinCalls, sl.MinCalls)
		if sl.For != 0 {
			c.ServiceLevel.For = sl.For.D()
		}
		if sl.PerCallType != nil {
			c.ServiceLevel.PerCallType = *sl.PerCallType
		}
	}
	if ia := a.InboundAbandon; ia.Off {
		c.InboundAbandon = alerts.InboundAbandon{}
	} else {
		setF(&c.InboundAbandon.Above, ia.Above)
		setF(&c.InboundAbandon.ClearAt, ia.ClearAt)
		setI(&c.InboundAbandon.MinCalls, ia.MinCalls)
		if ia.Window != 0 {
			c.InboundAbandon.Window = ia.Window.D()
		}
		if ia.For != 0 {
			c.InboundAbandon.For = ia.For.D()
		}
	}
	if oa := a.OutboundAbandon; oa.Off {
		c.OutboundAbandon = alerts.OutboundAbandon{}
	} else {
		setF(&c.OutboundAbandon.WarnRatio, oa.WarnRatio)
		setF(&c.OutboundAbandon.ClearRatio, oa.ClearRatio)
		setI(&c.OutboundAbandon.MinCalls, oa.MinCalls)
		if oa.For != 0 {
			c.OutboundAbandon.For = oa.For.D()
		}
	}
	if qw := a.QueueWait; qw.Off {
		c.QueueWait = alerts.QueueWait{}
	} else {
		if qw.Above != 0 {
			c.QueueWait.Above = qw.Above.D()
		}
		if qw.ClearAt != 0 {
			c.QueueWait.ClearAt = qw.ClearAt.D()
		}
		if qw.For != 0 {
			c.QueueWait.For = qw.For.D()
		}
	}
	if r := a.Reserved; r.Off {
		c.Reserved = alerts.Reserved{}
	} else if r.Above != 0 {
		c.Reserved.Above = r.Above.D()
	}
	if l := a.List; l.Off {
		c.List = alerts.List{}
	} else {
		setI(&c.List.Below, l.Below)
		setI(&c.List.ClearAt, l.ClearAt)
		if l.For != 0 {
			c.List.For = l.For.D()
		}
	}
	return c
}

// alerts checks controller.alerts: the webhook URL and every threshold,
// named by its key.
func (c *checker) alerts(s *Scenario) {
	a := s.Controller.Alerts
	if a.Webhook != "" {
		u, err := url.Parse(a.Webhook)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			c.add("controller.alerts.webhook", "must be an http or https URL with a host, got %q", a.Webhook)
		}
	}
	var ce alerts.ConfigError
	if errors.As(s.AlertsConfig().Validate(), &ce) {
		for _, f := range ce {
			c.add("controller.alerts."+f.Field, "%s", f.Msg)
		}
	}
}
