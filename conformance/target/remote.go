package target

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/ipcclab/ipcclab/controller"
	"github.com/ipcclab/ipcclab/internal/lab"
	"github.com/ipcclab/ipcclab/scenarios"
)

// Remote runs only our controller, against a CTI Server somewhere else (a
// real IPCC, or `ipcclab up --no-controller` on another host). The scenario
// describes that centre: its agents, skill groups and the controller's
// thresholds.
type Remote struct {
	addr    string
	ctl     *controller.Handle
	sc      *scenarios.Scenario
	log     *logRing
	started time.Time
	traffic bool
	voice   VoiceAddrs
}

// RemoteOptions configure a remote target.
type RemoteOptions struct {
	Options
	// CTIAddr is the remote CTI Server, host:port.
	CTIAddr string
	// ScenarioTraffic declares that the remote centre runs the scenario's
	// arrival profile (low → surge → low) starting now, e.g. a second
	// `ipcclab up --no-controller` started together with the suite.
	ScenarioTraffic bool
	// Voice is the remote centre's voice path (gateway PSTN side and
	// CallManager registrar), when it has one the suite may call into.
	Voice VoiceAddrs
}

// StartRemote starts our controller against the CTI Server at opts.CTIAddr.
func StartRemote(ctx context.Context, opts RemoteOptions) (*Remote, error) {
	if opts.Scenario == nil {
		return nil, fmt.Errorf("target: a scenario is required")
	}
	if _, _, err := net.SplitHostPort(opts.CTIAddr); err != nil {
		return nil, fmt.Errorf("target: --cti-addr %q: %w", opts.CTIAddr, err)
	}
	ring := newLogRing()
	cfg, err := lab.ControllerConfig(opts.Scenario, false)
	if err != nil {
		return nil, fmt.Errorf("target: controller configuration from scenario %s: %w", opts.Scenario.Name, err)
	}
	cfg.Logf = ring.Logf
	h, err := controller.Start(ctx, cfg, opts.CTIAddr)
	if err != nil {
		return nil, fmt.Errorf("target: starting the controller against %s: %w", opts.CTIAddr, err)
	}
	return &Remote{addr: opts.CTIAddr, ctl: h, sc: opts.Scenario, log: ring, started: time.Now(), traffic: opts.ScenarioTraffic,
		voice: opts.Voice}, nil
}

// Name implements Target.
func (t *Remote) Name() string { return "remote " + t.addr }

// CTIAddr implements Target.
func (t *Remote) CTIAddr() string { return t.addr }

// Controller implements Target.
func (t *Remote) Controller() ControllerProbe { return t.ctl }

// Capabilities implements Target.
func (t *Remote) Capabilities() Capabilities {
	return Capabilities{ScenarioTraffic: t.traffic, Voice: t.voice.Gateway != "" && t.voice.Registrar != ""}
}

// Scenario implements Target.
func (t *Remote) Scenario() *scenarios.Scenario { return t.sc }

// Started implements Target.
func (t *Remote) Started() time.Time { return t.started }

// StandbyAddr implements Target.
func (t *Remote) StandbyAddr() string { return "" }

// Voice implements Target.
func (t *Remote) Voice() VoiceAddrs { return t.voice }

// FailActive implements Target: a remote centre cannot be failed from here.
func (t *Remote) FailActive(ctx context.Context) error { return ErrNotSupported }

// Log implements Target.
func (t *Remote) Log() []string { return t.log.Lines() }

// Stop implements Target.
func (t *Remote) Stop() error {
	return stopWithin(StopTimeout, func() error { t.ctl.Stop(); return nil })
}

// Begin implements Target: a remote centre is already running.
func (t *Remote) Begin() {}
