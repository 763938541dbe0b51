package lab

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ipcclab/ipcclab/controller"
	"github.com/ipcclab/ipcclab/controller/blend"
	"github.com/ipcclab/ipcclab/controller/dialer"
	"github.com/ipcclab/ipcclab/emulator/agents"
	"github.com/ipcclab/ipcclab/emulator/centre"
	"github.com/ipcclab/ipcclab/emulator/icm"
	"github.com/ipcclab/ipcclab/emulator/pstn"
	"github.com/ipcclab/ipcclab/protocol/cti"
	"github.com/ipcclab/ipcclab/scenarios"
)

// ControllerClientID is the ClientID the reference controller opens its CTI
// session with.
const ControllerClientID = "ipcclab-controller"

func dist(d scenarios.Dist) pstn.Dist {
	return pstn.Dist{Shape: pstn.Shape(d.Shape), Mean: d.Mean.D(), CV: d.CV}
}

// CentreConfig is the emulator's side of a scenario: ICM, the PG and its
// agents (those defined in ICM become PG agents; the others are CallManager
// lines the controller dials from), the dialer ports (outbound.dialer_ports,
// more such lines with nobody behind them), callers and outbound customers
// (outbound.fate per_number: pstn's per-number fate).
func CentreConfig(sc *scenarios.Scenario) centre.Config {
	cfg := centre.Config{
		PeripheralID:        sc.ICM.PeripheralID,
		Start:               sc.StartTime(),
		AbandonCallWaitTime: sc.ICM.AbandonCallWaitTime.D(),
		RingNoAnswerTimeout: sc.ICM.RingNoAnswerTimeout.D(),
		TransferDelay:       500 * time.Millisecond,
		Callers: centre.Callers{Patience: dist(sc.Callers.Patience), Talk: dist(sc.Callers.Talk), ANIPrefix: "212555",
			Accounts: CallerAccounts(sc)},
	}
	for _, g := range sc.ICM.SkillGroups {
		cfg.SkillGroups = append(cfg.SkillGroups, icm.SkillGroupConfig{Number: g.Number, ID: g.ID, Name: g.Name,
			ServiceLevelThreshold: g.ServiceLevelThreshold.D(), ServiceLevelType: icm.SLType(g.ServiceLevelType)})
	}
	for _, ct := range sc.ICM.CallTypes {
		c := centre.CallType{ID: ct.ID, Name: ct.Name, DialedNumber: ct.DialedNumber,
			ServiceLevelThreshold: ct.ServiceLevelThreshold.D(), ServiceLevelType: icm.SLType(ct.ServiceLevelType),
			Arrivals: pstn.Profile{Segment: ct.Arrivals.Segment.D(), PerHour: ct.Arrivals.PerHour}}
		for _, t := range ct.Targets {
			c.Targets = append(c.Targets, icm.Target{SkillGroup: t.SkillGroup, Priority: t.Priority})
		}
		cfg.CallTypes = append(cfg.CallTypes, c)
	}
	for _, g := range sc.Agents {
		role := agents.RoleOutbound // a CallManager line without an ICM agent
		if g.IsDefinedIn(scenarios.DefinedInICM) {
			role = agents.RoleBlended // an ICM agent the controller drives
			if g.Role == scenarios.RoleInbound {
				role = agents.RoleInbound
			}
		}
		cfg.Agents = append(cfg.Agents, centre.AgentGroup{
			Name: g.Name, Role: role, Count: g.Count, FirstAgentID: g.FirstAgentID, FirstExtension: g.FirstExtension,
			Password: g.Password, SkillGroups: g.SkillGroups, AnswerDelay: dist(g.AnswerDelay), WrapUp: dist(g.WrapUp),
			RONARecovery:   dist(g.RONARecovery),
			NotReadyReason: uint16(sc.Controller.NotReadyReason),
			Preview:        previewAnswers(sc, g),
			Desktop:        g.Desktop,
		})
	}
	if o := sc.Outbound; o.Enabled {
		cfg.Outbound = centre.Outbound{Enabled: true, Answer: o.Answer, Busy: o.Busy,
			Machine: o.Machine, Fax: o.Fax, VacantNumber: o.VacantNumber, NoCircuit: o.NoCircuit, Reorder: o.Reorder,
			RingTime: dist(o.RingTime), Talk: dist(o.Talk),
			SetupDelay:    dist(o.SetupDelay),
			PerNumberFate: o.Fate == scenarios.FatePerNumber}
	}
	// Dialer ports: CallManager lines the controller dials from, nobody
	// behind them.
	cfg.DialerPorts = sc.Outbound.DialerPorts.Extensions()
	return cfg
}

// previewAnswers is how a group's agents answer previews: the group's
// preview section; in preview mode a campaign group without one accepts
// every preview after 3 s.
func previewAnswers(sc *scenarios.Scenario, g scenarios.AgentGroup) *agents.PreviewBehaviour {
	if p := g.Preview; p != nil {
		return &agents.PreviewBehaviour{Think: dist(p.Think), Accept: p.Accept, Skip: p.Skip, Reject: p.Reject,
			SkipClose: p.SkipClose, RejectClose: p.RejectClose, Callback: p.Callback, CallbackAfter: p.CallbackAfter.D()}
	}
	if sc.Controller.Pacing.Mode == scenarios.PacingPreview && g.IsDefinedIn(scenarios.DefinedInController) {
		return &agents.PreviewBehaviour{Think: pstn.Dist{Shape: pstn.Fixed, Mean: 3 * time.Second}, Accept: 1}
	}
	return nil
}

// ControllerConfig is the controller's side of a scenario: the agents
// defined in the controller (blended and outbound-only), the blending
// thresholds and the progressive pacer.
func ControllerConfig(sc *scenarios.Scenario, noBlend bool) (controller.Config, error) {
	b := sc.Controller.Blend
	cfg := controller.Config{
		ClientID:          ControllerClientID,
		PeripheralID:      sc.ICM.PeripheralID,
		Version:           cti.ProtocolVersion(24),
		HeartbeatInterval: 10 * time.Second,
		PollInterval:      b.PollInterval.D(),
		NotReadyReason:    uint16(sc.Controller.NotReadyReason),
		OutboundEnabled:   sc.Outbound.Enabled,
		NumberPrefix:      sc.Outbound.NumberPrefix,
		Campaign:          sc.Outbound.Campaign,
		NoAnswerTimeout:   sc.Outbound.NoAnswerTimeout.D(),
		AfterCallWork:     15 * time.Second,
		BlendEnabled:      b.Enabled && !noBlend,
	}
	for _, g := range sc.Agents {
		if !g.IsDefinedIn(scenarios.DefinedInController) {
			continue
		}
		role := controller.Blended
		if g.Role == scenarios.RoleOutbound {
			role = controller.OutboundOnly
		}
		if (g.WrapUp.Mean > 0 || g.WrapUp.Shape != "") && role == controller.OutboundOnly {
			cfg.AfterCallWork = g.WrapUp.Mean.D()
		}
		for n := 0; n < g.Count; n++ {
			cfg.Agents = append(cfg.Agents, controller.Agent{
				AgentID:    strconv.Itoa(g.FirstAgentID + n),
				Instrument: strconv.Itoa(g.FirstExtension + n),
				Role:       role,
			})
		}
	}
	var groups []int
	threshold := 20 * time.Second
	slType := blend.AbandonsNegative
	for _, n := range b.SkillGroups {
		groups = append(groups, int(n))
		for _, g := range sc.ICM.SkillGroups {
			if g.Number == n {
				threshold = g.ServiceLevelThreshold.D()
				slType = blend.ServiceLevelType(g.ServiceLevelType)
			}
		}
	}
	if len(groups) == 0 {
		for _, g := range sc.ICM.SkillGroups {
			groups = append(groups, int(g.Number))
		}
	}
	bc := blend.DefaultConfig(groups...)
	bc.ServiceLevelTarget = b.ServiceLevelTarget
	bc.ServiceLevelThreshold = threshold
	bc.ServiceLevelType = slType
	bc.Window = blend.WindowSliding
	bc.WindowLength = b.Window.D()
	bc.QueueTrigger = b.QueueTrigger
	bc.LongestWaitTrigger = b.LongestWaitTrigger.D()
	bc.ReturnRatio = b.ReturnRatio
	if bc.ServiceLevelTarget*bc.ReturnRatio > 1 {
		bc.ReturnRatio = 1 / bc.ServiceLevelTarget
	}
	bc.MinMoveInterval = b.MinInterval.D()
	bc.MaxMovesPerDecision = b.MaxMovesPerDecision
	bc.ReturnReasonCode = uint16(sc.Controller.NotReadyReason)
	bc.PacingBehind = b.SlowdownFactor
	cfg.Blend = bc
	if b.Mode == "reserve" {
		cfg.Reserve = &blend.ReserveConfig{ServiceLevelTarget: b.ServiceLevelTarget, ServiceLevelThreshold: threshold,
			Planned: b.ReserveAgents, Borrow: b.ReserveBorrow}
	}
	pc := dialer.DefaultConfig()
	pc.LinesPerAgent = sc.Controller.Pacing.LinesPerAgent
	pc.MaxLinesInFlight = sc.Controller.Pacing.MaxInFlight
	cfg.Pacer = pc
	if p := sc.Controller.Pacing; p.Mode == scenarios.PacingPool && sc.Outbound.Enabled {
		st, err := dialer.NewStrategy(p.Strategy, dialer.StrategyParams{AbandonLimit: p.AbandonLimit, Location: time.UTC, UKOfcom: sc.Outbound.UKOfcom,
			AbandonWindow: p.AbandonWindow.D()})
		if err != nil {
			return cfg, fmt.Errorf("scenario %s: controller.pacing.strategy: %w", sc.Name, err)
		}
		cfg.Pool = &controller.PoolConfig{Ports: sc.Outbound.DialerPorts.Extensions(), Strategy: st,
			ConnectWithin: p.ConnectWithin.D(), SafeHarbor: p.SafeHarbor.D(), MaxInFlight: p.MaxInFlight,
			AbandonLimit: p.AbandonLimit, UKOfcom: sc.Outbound.UKOfcom}
	}
	if p := sc.Controller.Pacing; p.Mode == scenarios.PacingPreview && sc.Outbound.Enabled {
		cfg.Preview = &controller.PreviewConfig{Ports: sc.Outbound.DialerPorts.Extensions(), Timeout: p.Preview.Timeout.D(),
			RejectPause: p.Preview.RejectPause.D(), RetryDelay: p.Preview.RetryDelay.D()}
	}
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("scenario %s: controller: %w", sc.Name, err)
	}
	return cfg, nil
}

// CallerAccounts are the account numbers the emulated callers key at the
// IVR: the keys of the desktop's customer file (desktop.customers) that a
// caller can key — digits only, no longer than IP-IVR collects
// (voice.ivr.digits, default 8) — so the people on desktops get screen pops
// with customers they can find. nil (random accounts) without such a file.
func CallerAccounts(sc *scenarios.Scenario) []string {
	cf := sc.Desktop.Customers
	if cf == nil {
		return nil
	}
	most := sc.Voice.IVR.Digits
	if most <= 0 {
		most = 8
	}
	var out []string
	for _, c := range cf.Records {
		if len(c.Key) > 0 && len(c.Key) <= most && strings.Trim(c.Key, "0123456789") == "" {
			out = append(out, c.Key)
		}
	}
	return out
}

// resumePacing hands st to the pool's pacing strategy. A stored abandon
// window (cfg.Limits) is set first, so that the state's counts are kept
// to that window, not cut to the scenario's before the core sets it.
func resumePacing(cfg controller.Config, st dialer.PacingState) error {
	if cfg.Pool == nil {
		return errors.New("lab: a pacing state to resume, but the campaign is not dialed from a port pool (controller.pacing.mode: pool)")
	}
	r, ok := cfg.Pool.Strategy.(dialer.Resumable)
	if !ok {
		return fmt.Errorf("lab: a pacing state to resume, but strategy %s does not learn one", cfg.Pool.Strategy.Name())
	}
	if ws, ok := cfg.Pool.Strategy.(dialer.WindowSetter); ok && cfg.Limits != nil && cfg.Limits.AbandonWindow != nil {
		if err := ws.SetAbandonWindow(*cfg.Limits.AbandonWindow); err != nil {
			return err
		}
	}
	return r.Resume(st)
}
