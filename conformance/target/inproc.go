package target

import (
	"context"
	"fmt"
	"time"

	"github.com/ipcclab/ipcclab/internal/lab"
	"github.com/ipcclab/ipcclab/scenarios"
)

// InProcess is the emulated IPCC and our controller on loopback, started
// through internal/lab. This file is the only one of the conformance suite
// allowed to import internal/lab (internal/archtest enforces it).
type InProcess struct {
	standby bool
	run     *lab.Running
	sc      *scenarios.Scenario
	log     *logRing
	started time.Time
	noCtl   bool
}

// StartInProcess starts the emulator and the controller for opts.Scenario on
// a free loopback port. It returns once the CTI Server listens and the
// controller has been started.
func StartInProcess(ctx context.Context, opts Options) (*InProcess, error) {
	if opts.Scenario == nil {
		return nil, fmt.Errorf("target: a scenario is required")
	}
	ring := newLogRing()
	run, err := lab.Start(ctx, lab.UpOptions{
		Scenario:     opts.Scenario,
		Seed:         opts.Seed,
		CTIAddr:      "127.0.0.1:0",
		Logf:         ring.Logf,
		HoldTraffic:  true,
		NoController: opts.NoController,
		CTIAddrB:     standbyAddr(opts.Standby),
		SIPAddr:      sipAddr(opts.Voice),
	})
	if err != nil {
		return nil, fmt.Errorf("target: starting the in-process lab: %w", err)
	}
	if run.Controller() == nil && !opts.NoController {
		_ = run.Stop()
		return nil, fmt.Errorf("target: the in-process lab started without a controller")
	}
	return &InProcess{run: run, sc: opts.Scenario, log: ring, started: time.Now(), noCtl: opts.NoController, standby: opts.Standby}, nil
}

// Name implements Target.
func (t *InProcess) Name() string { return "inproc" }

// CTIAddr implements Target.
func (t *InProcess) CTIAddr() string { return t.run.CTIAddr() }

// Controller implements Target.
func (t *InProcess) Controller() ControllerProbe {
	if t.noCtl {
		return nil
	}
	return t.run.Controller()
}

// Capabilities implements Target.
func (t *InProcess) Capabilities() Capabilities {
	return Capabilities{ScenarioTraffic: true, SecondLab: true, Failover: t.standby, Voice: t.run.SIPAddr() != ""}
}

func sipAddr(on bool) string {
	if on {
		return "127.0.0.1:0"
	}
	return ""
}

// Voice implements Target.
func (t *InProcess) Voice() VoiceAddrs {
	return VoiceAddrs{Gateway: t.run.SIPAddr(), Registrar: t.run.RegistrarAddr()}
}

// Scenario implements Target.
func (t *InProcess) Scenario() *scenarios.Scenario { return t.sc }

// Begin implements Target: the agents log in and the arrival profile starts
// now.
func (t *InProcess) Begin() {
	t.started = time.Now()
	t.run.Begin()
}

// Started implements Target.
func (t *InProcess) Started() time.Time { return t.started }

// StandbyAddr implements Target: side B when the target was started with
// Options.Standby.
func (t *InProcess) StandbyAddr() string { return t.run.CTIAddrB() }

// FailActive implements Target: side A fails and side B becomes active.
func (t *InProcess) FailActive(ctx context.Context) error {
	if !t.standby {
		return ErrNotSupported
	}
	return t.run.FailSideA()
}

func standbyAddr(on bool) string {
	if on {
		return "127.0.0.1:0"
	}
	return ""
}

// Log implements Target.
func (t *InProcess) Log() []string { return t.log.Lines() }

// Stop implements Target.
func (t *InProcess) Stop() error { return stopWithin(StopTimeout, t.run.Stop) }
