package scenarios

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

func (s *Scenario) applyDefaults() {
	if s.Hours == 0 {
		s.Hours = 8
	}
	if s.ICM.PeripheralID == 0 {
		s.ICM.PeripheralID = 5000
	}
	if s.ICM.RingNoAnswerTimeout == 0 {
		s.ICM.RingNoAnswerTimeout = Duration(15 * time.Second)
	}
	for i := range s.ICM.SkillGroups {
		g := &s.ICM.SkillGroups[i]
		if g.ServiceLevelThreshold == 0 {
			g.ServiceLevelThreshold = Duration(20 * time.Second)
		}
		if g.ServiceLevelType == 0 {
			g.ServiceLevelType = 2
		}
	}
	for i := range s.ICM.CallTypes {
		c := &s.ICM.CallTypes[i]
		if c.ServiceLevelThreshold == 0 {
			c.ServiceLevelThreshold = Duration(20 * time.Second)
		}
		if c.ServiceLevelType == 0 {
			c.ServiceLevelType = 2
		}
		if c.Arrivals.Segment == 0 {
			c.Arrivals.Segment = Duration(30 * time.Minute)
		}
		for j := range c.Targets {
			if c.Targets[j].Priority == 0 {
				c.Targets[j].Priority = 5
			}
		}
	}
	for i := range s.Agents {
		if s.Agents[i].Password == "" {
			s.Agents[i].Password = "1234"
		}
	}
	if s.Voice.Media == nil {
		on := true
		s.Voice.Media = &on
	}
	if s.Outbound.NoAnswerTimeout == 0 {
		s.Outbound.NoAnswerTimeout = Duration(25 * time.Second)
	}
	if s.Outbound.Fate == "" {
		s.Outbound.Fate = FateStream
	}
	b := &s.Controller.Blend
	if b.ServiceLevelTarget == 0 {
		b.ServiceLevelTarget = 0.8
	}
	if b.Window == 0 {
		b.Window = Duration(10 * time.Minute)
	}
	if b.ReturnRatio == 0 {
		b.ReturnRatio = 1.05
	}
	if b.MinInterval == 0 {
		b.MinInterval = Duration(2 * time.Minute)
	}
	if b.MaxMovesPerDecision == 0 {
		b.MaxMovesPerDecision = 4
	}
	if b.PollInterval == 0 {
		b.PollInterval = Duration(10 * time.Second)
	}
	if b.SlowdownFactor == 0 {
		b.SlowdownFactor = 0.5
	}
	if s.Controller.Pacing.LinesPerAgent == 0 {
		s.Controller.Pacing.LinesPerAgent = 1
	}
	if s.Controller.Pacing.MaxInFlight == 0 {
		s.Controller.Pacing.MaxInFlight = 100
	}
	if s.Controller.Pacing.Mode == "" {
		s.Controller.Pacing.Mode = PacingAgent
	}
	if s.Controller.Pacing.Strategy == "" {
		s.Controller.Pacing.Strategy = "predictive"
	}
	if s.Controller.Pacing.AbandonLimit == 0 {
		s.Controller.Pacing.AbandonLimit = 0.03
	}
	if s.Controller.Pacing.ConnectWithin == 0 {
		s.Controller.Pacing.ConnectWithin = Duration(2 * time.Second)
	}
	if s.Controller.Pacing.SafeHarbor == 0 {
		s.Controller.Pacing.SafeHarbor = Duration(6 * time.Second)
	}
	if pv := &s.Controller.Pacing.Preview; s.Controller.Pacing.Mode == PacingPreview {
		if pv.Timeout == 0 {
			pv.Timeout = Duration(time.Minute)
		}
		if pv.RejectPause == 0 {
			pv.RejectPause = Duration(30 * time.Second)
		}
		if pv.RetryDelay == 0 {
			pv.RetryDelay = Duration(30 * time.Minute)
		}
	}
	if s.Outbound.SetupDelay.Shape == "" && s.Outbound.SetupDelay.Mean == 0 {
		s.Outbound.SetupDelay = Dist{Shape: "lognormal", Mean: Duration(2 * time.Second), CV: 0.3}
	}
	if s.Controller.NotReadyReason == 0 {
		s.Controller.NotReadyReason = 101
	}
}

type checker struct{ probs []Problem }

func (c *checker) add(field, format string, args ...any) {
	c.probs = append(c.probs, Problem{Field: field, Msg: fmt.Sprintf(format, args...)})
}

func (c *checker) dist(field string, d Dist, allowZero bool) {
	switch d.Shape {
	case "", "fixed", "exponential", "lognormal":
	default:
		c.add(field+".shape", "must be fixed, exponential or lognormal, got %q", d.Shape)
	}
	if d.Mean < 0 || (!allowZero && d.Mean == 0) {
		c.add(field+".mean", "must be positive, got %v", d.Mean.D())
	}
	if d.CV < 0 || d.CV > 10 {
		c.add(field+".cv", "must be between 0 and 10, got %v", d.CV)
	}
}

func (s *Scenario) validate() []Problem {
	c := &checker{}
	if s.Name == "" {
		c.add("name", "is required")
	}
	if s.Hours < 0 || s.Hours > 24*14 {
		c.add("hours", "must be between 0 and 336, got %v", s.Hours)
	}
	sgs := map[uint32]bool{}
	ids := map[uint32]bool{}
	if len(s.ICM.SkillGroups) == 0 {
		c.add("icm.skill_groups", "at least one skill group is required")
	}
	for i, g := range s.ICM.SkillGroups {
		f := fmt.Sprintf("icm.skill_groups[%d]", i)
		if g.Number == 0 || g.Number == 0xFFFFFFFF {
			c.add(f+".number", "must be a skill group number other than 0 and 0xFFFFFFFF (NULL_SKILL_GROUP)")
		} else if sgs[g.Number] {
			c.add(f+".number", "skill group %d is defined twice", g.Number)
		}
		sgs[g.Number] = true
		if g.ID == 0 || g.ID == 0xFFFFFFFF {
			c.add(f+".id", "must be a skill target ID other than 0 and 0xFFFFFFFF")
		} else if ids[g.ID] {
			c.add(f+".id", "skill target ID %d is used twice", g.ID)
		}
		ids[g.ID] = true
		if g.ServiceLevelType < 1 || g.ServiceLevelType > 3 {
			c.add(f+".service_level_type", "must be 1 (ignore abandons), 2 (abandons count negatively) or 3 (abandons count positively), got %d", g.ServiceLevelType)
		}
		if g.ServiceLevelThreshold <= 0 {
			c.add(f+".service_level_threshold", "must be positive")
		}
	}
	dialed := map[string]bool{}
	for i, ct := range s.ICM.CallTypes {
		f := fmt.Sprintf("icm.call_types[%d]", i)
		if ct.ID == 0 {
			c.add(f+".id", "is required")
		}
		if ct.DialedNumber == "" {
			c.add(f+".dialed_number", "is required")
		} else if dialed[ct.DialedNumber] {
			c.add(f+".dialed_number", "%s is used by two call types", ct.DialedNumber)
		}
		dialed[ct.DialedNumber] = true
		if ct.ServiceLevelType < 1 || ct.ServiceLevelType > 3 {
			c.add(f+".service_level_type", "must be 1, 2 or 3, got %d", ct.ServiceLevelType)
		}
		if len(ct.Targets) == 0 {
			c.add(f+".targets", "a routing script needs at least one skill group")
		}
		for j, t := range ct.Targets {
			tf := fmt.Sprintf("%s.targets[%d]", f, j)
			if !sgs[t.SkillGroup] {
				c.add(tf+".skill_group", "unknown skill group %d", t.SkillGroup)
			}
			if t.Priority < 1 || t.Priority > 10 {
				c.add(tf+".priority", "queue priority must be 1-10, got %d", t.Priority)
			}
		}
		if ct.Arrivals.Segment <= 0 {
			c.add(f+".arrivals.segment", "must be positive")
		}
		for j, r := range ct.Arrivals.PerHour {
			if r < 0 || r > 1e6 {
				c.add(fmt.Sprintf("%s.arrivals.per_hour[%d]", f, j), "rate must be between 0 and 1000000 calls/h, got %v", r)
			}
		}
	}
	agentIDs := map[int]string{}
	exts := map[int]string{}
	for i, g := range s.Agents {
		f := fmt.Sprintf("agents[%d]", i)
		switch g.Role {
		case RoleInbound, RoleBlended, RoleOutbound:
		default:
			c.add(f+".role", "must be inbound, blended or outbound, got %q", g.Role)
		}
		for j, d := range g.DefinedIn {
			if d != DefinedInICM && d != DefinedInController {
				c.add(fmt.Sprintf("%s.defined_in[%d]", f, j), "must be icm or controller, got %q", d)
			}
		}
		if g.Count < 1 || g.Count > 20000 {
			c.add(f+".count", "must be between 1 and 20000, got %d", g.Count)
			continue
		}
		if g.FirstAgentID < 1 {
			c.add(f+".first_agent_id", "must be positive")
		}
		if g.FirstExtension < 1 {
			c.add(f+".first_extension", "must be positive")
		}
		for k := 0; k < g.Count && g.FirstAgentID > 0 && g.FirstExtension > 0; k++ {
			if prev, dup := agentIDs[g.FirstAgentID+k]; dup {
				c.add(f+".first_agent_id", "agent ID %d overlaps group %s", g.FirstAgentID+k, prev)
				break
			}
			agentIDs[g.FirstAgentID+k] = f
			if prev, dup := exts[g.FirstExtension+k]; dup {
				c.add(f+".first_extension", "extension %d overlaps group %s", g.FirstExtension+k, prev)
				break
			}
			exts[g.FirstExtension+k] = f
		}
		if g.IsDefinedIn(DefinedInICM) && len(g.SkillGroups) == 0 {
			c.add(f+".skill_groups", "agents defined in ICM need at least one skill group")
		}
		for j, sg := range g.SkillGroups {
			if !sgs[sg] {
				c.add(fmt.Sprintf("%s.skill_groups[%d]", f, j), "unknown skill group %d", sg)
			}
		}
		c.dist(f+".answer_delay", g.AnswerDelay, true)
		c.dist(f+".wrap_up", g.WrapUp, true)
		c.dist(f+".rona_recovery", g.RONARecovery, true)
		if g.Preview != nil {
			c.previewAnswers(f+".preview", *g.Preview)
		}
		if g.Desktop && !g.IsDefinedIn(DefinedInICM) {
			c.add(f+".desktop", "only agents defined in ICM (inbound or blended) can be driven from a desktop")
		}
		if g.Desktop && g.Preview != nil {
			c.add(f+".preview", "desktop agents answer previews on their desktop; remove preview")
		}
	}
	c.dist("callers.patience", s.Callers.Patience, true)
	c.dist("callers.talk", s.Callers.Talk, false)
	o := s.Outbound
	if o.Enabled {
		shares := []struct {
			name string
			v    float64
		}{{"answer", o.Answer}, {"busy", o.Busy}, {"machine", o.Machine}, {"fax", o.Fax},
			{"vacant_number", o.VacantNumber}, {"no_circuit", o.NoCircuit}, {"reorder", o.Reorder}}
		sum, ok := 0.0, true
		for _, p := range shares {
			if p.v < 0 || p.v > 1 || math.IsNaN(p.v) {
				c.add("outbound."+p.name, "must be a probability between 0 and 1, got %v", p.v)
				ok = false
			}
			sum += p.v
		}
		if ok && sum > 1+1e-9 {
			c.add("outbound.answer", "answer (%v), busy (%v), machine (%v), fax (%v), vacant_number (%v), no_circuit (%v) and reorder (%v) must add up to at most 1, got %.4g",
				o.Answer, o.Busy, o.Machine, o.Fax, o.VacantNumber, o.NoCircuit, o.Reorder, sum)
		}
		if o.NoAnswerTimeout != 0 && o.NoAnswerTimeout.D() < 15*time.Second {
			c.add("outbound.no_answer_timeout", "must be at least 15s, the regulators' minimum ring time (0: the network's default), got %v", o.NoAnswerTimeout.D())
		}
		c.dist("outbound.ring_time", o.RingTime, true)
		c.dist("outbound.setup_delay", o.SetupDelay, false)
		c.dist("outbound.talk", o.Talk, false)
		if o.NoAnswerTimeout <= 0 {
			c.add("outbound.no_answer_timeout", "must be positive")
		}
	}
	switch o.Fate {
	case FateStream, FatePerNumber:
	default:
		c.add("outbound.fate", "must be %s or %s, got %q", FateStream, FatePerNumber, o.Fate)
	}
	c.dialerPorts(o.DialerPorts, exts)
	c.callList(s)
	b := s.Controller.Blend
	for j, sg := range b.SkillGroups {
		if !sgs[sg] {
			c.add(fmt.Sprintf("controller.blend.skill_groups[%d]", j), "unknown skill group %d", sg)
		}
	}
	if b.ServiceLevelTarget <= 0 || b.ServiceLevelTarget > 1 {
		c.add("controller.blend.service_level_target", "must be a fraction in (0, 1], got %v", b.ServiceLevelTarget)
	}
	if b.ReturnRatio < 1 || b.ReturnRatio > 2 {
		c.add("controller.blend.return_ratio", "must be between 1 and 2 (hysteresis above the target), got %v", b.ReturnRatio)
	}
	if b.SlowdownFactor < 0 || b.SlowdownFactor > 1 {
		c.add("controller.blend.slowdown_factor", "must be between 0 and 1, got %v", b.SlowdownFactor)
	}
	if b.QueueTrigger < 0 {
		c.add("controller.blend.queue_trigger", "must not be negative")
	}
	if b.PollInterval < Duration(100*time.Millisecond) {
		c.add("controller.blend.poll_interval", "must be at least 100ms, got %v", b.PollInterval.D())
	}
	if b.MaxMovesPerDecision < 1 {
		c.add("controller.blend.max_moves_per_decision", "must be at least 1")
	}
	if s.Controller.Pacing.LinesPerAgent < 1 || s.Controller.Pacing.LinesPerAgent > 10 {
		c.add("controller.pacing.lines_per_agent", "must be between 1 and 10, got %v", s.Controller.Pacing.LinesPerAgent)
	}
	if b.ReserveAgents < 0 || b.ReserveBorrow < 0 {
		c.add("controller.blend.reserve_agents", "reserve_agents %d and reserve_borrow %d must not be negative", b.ReserveAgents, b.ReserveBorrow)
	}
	if (b.ReserveAgents > 0 || b.ReserveBorrow > 0) && s.Controller.Blend.Mode != "reserve" {
		c.add("controller.blend.reserve_agents", "reserve_agents and reserve_borrow need mode: reserve, got mode %q", s.Controller.Blend.Mode)
	}
	if b.ReserveBorrow > 0 && s.Controller.Pacing.Mode != PacingPool {
		c.add("controller.blend.reserve_borrow", "needs controller.pacing.mode: pool (a live answer borrows from the shared idle pool), got %q", s.Controller.Pacing.Mode)
	}
	if b.ReserveBorrow > 0 && b.ReserveAgents > 0 && b.ReserveBorrow > b.ReserveAgents {
		c.add("controller.blend.reserve_borrow", "must be at most reserve_agents (%d), got %d", b.ReserveAgents, b.ReserveBorrow)
	}
	switch s.Controller.Blend.Mode {
	case "", "reactive", "reserve":
	default:
		c.add("controller.blend.mode", "must be reactive or reserve, got %q", s.Controller.Blend.Mode)
	}
	pc := s.Controller.Pacing
	switch pc.Mode {
	case PacingAgent:
	case PacingPool:
		if s.Outbound.Enabled && s.Outbound.DialerPorts.Count == 0 {
			c.add("controller.pacing.mode", "pool mode places calls from dialer ports: set outbound.dialer_ports")
		}
	case PacingPreview:
		if s.Outbound.Enabled && s.Outbound.DialerPorts.Count == 0 {
			c.add("controller.pacing.mode", "preview mode places its reservation calls from dialer ports: set outbound.dialer_ports")
		}
		pv := pc.Preview
		if pv.Timeout < Duration(time.Second) || pv.Timeout.D() > time.Hour {
			c.add("controller.pacing.preview.timeout", "must be between 1s and 1h, got %v", pv.Timeout.D())
		}
		if pv.RejectPause < 0 {
			c.add("controller.pacing.preview.reject_pause", "must not be negative, got %v", pv.RejectPause.D())
		}
		if pv.RetryDelay < 0 {
			c.add("controller.pacing.preview.retry_delay", "must not be negative, got %v", pv.RetryDelay.D())
		}
	default:
		c.add("controller.pacing.mode", "must be agent, pool or preview, got %q", pc.Mode)
	}
	if !validStrategy(pc.Strategy) {
		c.add("controller.pacing.strategy", "unknown strategy %q (predictive, progressive, ratio-L with 1 ≤ L ≤ 100, vicidial-hard, vicidial-tapered, vicidial-average, threshold-dial1xfree, threshold-dial2xfree, threshold-dialone)", pc.Strategy)
	}
	if pc.AbandonLimit <= 0 || pc.AbandonLimit >= 1 {
		c.add("controller.pacing.abandon_limit", "must be a fraction between 0 and 1 (0.03 = 3 %%), got %v", pc.AbandonLimit)
	}
	if w := pc.AbandonWindow.D(); w != 0 && (w < time.Hour || w > 366*24*time.Hour) {
		c.add("controller.pacing.abandon_window", "must be between 1h and 8784h (a year; default 720h, 30 days), got %v", w)
	}
	if pc.ConnectWithin < 0 || pc.ConnectWithin.D() > 2*time.Second {
		c.add("controller.pacing.connect_within", "must be at most 2s (the regulators' limit), got %v", pc.ConnectWithin.D())
	}
	if pc.SafeHarbor < 0 {
		c.add("controller.pacing.safe_harbor", "must not be negative")
	}
	if s.Controller.NotReadyReason < 1 || s.Controller.NotReadyReason > 65535 {
		c.add("controller.not_ready_reason", "must be a reason code 1-65535, got %d", s.Controller.NotReadyReason)
	}
	c.voice(s.Voice, exts)
	c.alerts(s)
	c.desktop(s)
	return c.probs
}

// previewAnswers checks an agent group's preview answers.
func (c *checker) previewAnswers(f string, p PreviewAnswers) {
	c.dist(f+".think", p.Think, true)
	sum, ok := 0.0, true
	for _, v := range []struct {
		name string
		v    float64
	}{{"accept", p.Accept}, {"skip", p.Skip}, {"reject", p.Reject}, {"skip_close", p.SkipClose},
		{"reject_close", p.RejectClose}, {"callback", p.Callback}} {
		if v.v < 0 || v.v > 1 || math.IsNaN(v.v) {
			c.add(f+"."+v.name, "must be a probability between 0 and 1, got %v", v.v)
			ok = false
		}
		sum += v.v
	}
	if ok && sum > 1+1e-9 {
		c.add(f+".accept", "accept, skip, reject, skip_close, reject_close and callback must add up to at most 1 (the rest do not answer), got %.4g", sum)
	}
	if p.CallbackAfter < 0 {
		c.add(f+".callback_after", "must not be negative, got %v", p.CallbackAfter.D())
	}
}

// dialerPorts checks the dialer ports and adds their extensions to exts (so
// that translation routes do not overlap them either).
func (c *checker) dialerPorts(d DialerPorts, exts map[int]string) {
	const f = "outbound.dialer_ports"
	if d.Count < 0 || d.Count > 20000 {
		c.add(f+".count", "must be between 0 (none) and 20000, got %d", d.Count)
		return
	}
	if d.Count == 0 {
		return
	}
	if d.FirstExtension < 1 {
		c.add(f+".first_extension", "must be positive, got %d", d.FirstExtension)
		return
	}
	for k := range d.Count {
		if prev, dup := exts[d.FirstExtension+k]; dup {
			c.add(f+".first_extension", "port extension %d overlaps group %s", d.FirstExtension+k, prev)
			return
		}
	}
	for k := range d.Count {
		exts[d.FirstExtension+k] = f
	}
}

// voice checks the voice section: ranges only (the gateway builds the cause
// map from it).
func (c *checker) voice(v Voice, exts map[int]string) {
	if v.HopLatency < 0 || v.HopLatency.D() > time.Second {
		c.add("voice.hop_latency", "must be between 0 (default 2ms) and 1s, got %v", v.HopLatency.D())
	}
	ivr := v.IVR
	if ivr.Digits < 0 || ivr.Digits > 32 {
		c.add("voice.ivr.digits", "must be between 1 and 32 (0: default 8), got %d", ivr.Digits)
	}
	for _, d := range []struct {
		name string
		v    Duration
		max  time.Duration
	}{{"first_digit_timeout", ivr.FirstDigitTimeout, time.Minute}, {"inter_digit_timeout", ivr.InterDigitTimeout, time.Minute},
		{"announcement", ivr.Announcement, 10 * time.Minute}} {
		if d.v < 0 || d.v.D() > d.max {
			c.add("voice.ivr."+d.name, "must be between 0 (default) and %v, got %v", d.max, d.v.D())
		}
	}
	cm := v.CauseMap
	switch strings.ToLower(strings.TrimSpace(cm.Preset)) {
	case "", CauseMapRFC3398, CauseMapAudioCodes, CauseMapOpenSIPS:
	default:
		c.add("voice.cause_map.preset", "must be rfc3398, audiocodes or opensips, got %q", cm.Preset)
	}
	for _, q := range slices.Sorted(maps.Keys(cm.Q850ToSIP)) {
		f, st := fmt.Sprintf("voice.cause_map.q850_to_sip.%d", q), cm.Q850ToSIP[q]
		if q < 1 || q > 127 {
			c.add(f, "Q.850 cause must be 1-127, got %d", q)
		}
		if st < 300 || st > 699 {
			c.add(f, "SIP status must be a final failure response 300-699, got %d", st)
		}
	}
	for _, st := range slices.Sorted(maps.Keys(cm.SIPToQ850)) {
		f, q := fmt.Sprintf("voice.cause_map.sip_to_q850.%d", st), cm.SIPToQ850[st]
		if st < 300 || st > 699 {
			c.add(f, "SIP status must be a final failure response 300-699, got %d", st)
		}
		if q < 1 || q > 127 {
			c.add(f, "Q.850 cause must be 1-127, got %d", q)
		}
	}
	r := v.Registrar
	for _, p := range []struct {
		name string
		v    float64
	}{{"rate", r.Rate}, {"burst", r.Burst}, {"source_rate", r.SourceRate}, {"source_burst", r.SourceBurst}} {
		if p.v < 0 || p.v > 1e6 || math.IsNaN(p.v) {
			c.add("voice.registrar."+p.name, "must be between 0 (default) and 1000000 REGISTERs, got %v", p.v)
		}
	}
	tr := v.TranslationRoutes
	if tr.First < 0 || tr.First > 999_999_999 {
		c.add("voice.translation_routes.first", "must be a DN between 1 and 999999999 (0: default %d), got %d", DefaultTranslationRouteFirst, tr.First)
		return
	}
	if tr.Count < 0 || tr.Count > 100_000 {
		c.add("voice.translation_routes.count", "must be between 1 and 100000 (0: default %d), got %d", DefaultTranslationRouteCount, tr.Count)
		return
	}
	if tr.First == 0 && tr.Count == 0 {
		return // the defaults; agent extensions are not checked against them
	}
	first, count := tr.First, tr.Count
	if first == 0 {
		first = DefaultTranslationRouteFirst
	}
	if count == 0 {
		count = DefaultTranslationRouteCount
	}
	if first+count-1 > 999_999_999 {
		c.add("voice.translation_routes.count", "routes %d-%d run past 999999999", first, first+count-1)
		return
	}
	for n := first; n < first+count; n++ {
		if g, ok := exts[n]; ok {
			c.add("voice.translation_routes.first", "routes %d-%d overlap extension %d of %s", first, first+count-1, n, g)
			return
		}
	}
}

// validStrategy mirrors controller/dialer.NewStrategy's names (scenarios does
// not import the controller); lab builds the strategy and reports anything
// this misses.
func validStrategy(name string) bool {
	switch name {
	case "predictive", "progressive", "vicidial-hard", "vicidial-tapered", "vicidial-average",
		"threshold-dial1xfree", "threshold-dial2xfree", "threshold-dialone":
		return true
	}
	if lv, ok := strings.CutPrefix(name, "ratio-"); ok {
		v, err := strconv.ParseFloat(lv, 64)
		return err == nil && v >= 1 && v <= 100
	}
	return false
}
