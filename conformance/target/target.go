// Package target is what the conformance specs run against: a CTI Server
// address plus our controller, started either in-process together with the
// emulated IPCC (inproc.go, the only file of the suite that may import
// internal/lab) or against a remote CTI Server (remote.go).
//
// Specs speak only the wire (protocol/cti); the controller under test is
// observed through its public status API (ControllerProbe).
package target

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/ipcclab/ipcclab/controller"
	"github.com/ipcclab/ipcclab/scenarios"
)

// ControllerProbe is the product under test as the specs may observe it.
type ControllerProbe interface {
	Status() controller.Status
}

// Capabilities tell the specs what a target can do beyond serving CTI.
// A spec that needs a capability the target lacks calls Skip.
type Capabilities struct {
	// ScenarioTraffic: the target generates the scenario's inbound arrival
	// profile (low → surge → low) from the moment it started, so specs may
	// rely on a surge at a known time.
	ScenarioTraffic bool
	// SecondLab: the target can start another, independent in-process lab
	// from a different (e.g. deliberately mismatched) scenario.
	SecondLab bool
	// Failover: the target runs a standby CTI Server side B (StandbyAddr)
	// next to the active side A, and FailActive makes side A fail so that
	// side B becomes active (cti-protocol.md §5.10).
	Failover bool
	// Voice: the target carries calls over SIP and RTP; Voice() gives the
	// gateway's PSTN side and CallManager's registrar.
	Voice bool
}

// VoiceAddrs are the SIP addresses of a target's voice path.
type VoiceAddrs struct {
	// Gateway is the voice gateway's PSTN side: callers INVITE
	// sip:<dialed number>@Gateway.
	Gateway string
	// Registrar is CallManager: an agent's softphone REGISTERs its
	// extension there.
	Registrar string
}

// Target is one system under test.
type Target interface {
	// Name identifies the target in reports ("inproc", "remote").
	Name() string
	// CTIAddr is the CTI Server (host:port) the specs connect to.
	CTIAddr() string
	// Controller is the running controller.
	Controller() ControllerProbe
	Capabilities() Capabilities
	// Scenario is the scenario the target runs (remote: the one describing
	// the remote centre).
	Scenario() *scenarios.Scenario
	// Started is when traffic started (in-process: when the lab was up);
	// the scenario's arrival segments count from here.
	Started() time.Time
	// Begin starts the traffic once the specs' recording sessions are open
	// (in-process: agents log in and callers arrive only now, so the
	// recordings hold the centre's first events; remote: nothing to do).
	Begin()
	// StandbyAddr is the standby CTI Server side B (host:port), "" without
	// Capabilities.Failover.
	StandbyAddr() string
	// FailActive makes the active side A fail (its sessions drop, it stops
	// answering) so that the standby side B becomes active; ErrNotSupported
	// without Capabilities.Failover.
	FailActive(ctx context.Context) error
	// Voice is the voice path's addresses (zero without
	// Capabilities.Voice).
	Voice() VoiceAddrs
	// Log returns the most recent log lines of the lab and the controller.
	Log() []string
	// Stop stops everything the target started.
	Stop() error
}

// Options configure a target.
type Options struct {
	Scenario *scenarios.Scenario
	Seed     uint64
	// NoController starts the emulated IPCC only (in-process): a quiet lab
	// for the protocol specs, where nothing but the specs changes agent
	// states. Controller then returns nil.
	NoController bool
	// Standby also runs a standby CTI Server side B (in-process), giving
	// the target the Failover capability.
	Standby bool
	// Voice runs the voice path (in-process), giving the Voice capability.
	Voice bool
}

// ErrNotSupported is returned for a capability the target does not have.
var ErrNotSupported = fmt.Errorf("target: not supported by this target")

// logRing keeps the last lines logged by the lab and the controller.
type logRing struct {
	mu    sync.Mutex
	lines []string
	next  int
	full  bool
	start time.Time
}

const logRingSize = 2000

func newLogRing() *logRing {
	return &logRing{lines: make([]string, logRingSize), start: time.Now()}
}

func (r *logRing) Logf(format string, args ...any) {
	line := fmt.Sprintf("%8.3fs ", time.Since(r.start).Seconds()) + strings.TrimRight(fmt.Sprintf(format, args...), "\n")
	r.mu.Lock()
	r.lines[r.next] = line
	r.next = (r.next + 1) % len(r.lines)
	if r.next == 0 {
		r.full = true
	}
	r.mu.Unlock()
}

func (r *logRing) Lines() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.full {
		return append([]string(nil), r.lines[:r.next]...)
	}
	return append(append([]string(nil), r.lines[r.next:]...), r.lines[:r.next]...)
}

// StopTimeout bounds Stop.
const StopTimeout = 10 * time.Second

func stopWithin(d time.Duration, stop func() error) error {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- stop() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("target: stop did not finish within %v", d)
	}
}
