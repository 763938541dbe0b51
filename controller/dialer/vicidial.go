package dialer

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// VicidialMethod is one of VICIdial's adaptive-predictive dial methods
// (vicidial_campaigns.dial_method, dialer-anchors.md §1.1). They share the
// level update of §1.3 and differ only in what they do once today's drop
// percentage is over the limit.
type VicidialMethod int

const (
	// AdaptHardLimit (ADAPT_HARD_LIMIT) sets the level to 1.0 while today's
	// drop % is over the limit.
	AdaptHardLimit VicidialMethod = iota + 1
	// AdaptTapered (ADAPT_TAPERED) tolerates overshoot early in the day and
	// tapers the level to 1.0 as adaptive_latest_server_time approaches.
	AdaptTapered
	// AdaptAverage (ADAPT_AVERAGE) halves the level at every update while
	// today's drop % is over the limit.
	AdaptAverage
)

func (m VicidialMethod) String() string {
	switch m {
	case AdaptHardLimit:
		return "ADAPT_HARD_LIMIT"
	case AdaptTapered:
		return "ADAPT_TAPERED"
	case AdaptAverage:
		return "ADAPT_AVERAGE"
	}
	return fmt.Sprintf("VicidialMethod(%d)", int(m))
}

// VicidialConfig configures VICIdial's adaptive dialer. The fields are the
// vicidial_campaigns columns of the same name; a zero field takes VICIdial's
// default (dialer-anchors.md §1.9) where zero is not a usable value.
type VicidialConfig struct {
	// Method is ADAPT_HARD_LIMIT, ADAPT_TAPERED or ADAPT_AVERAGE (required).
	Method VicidialMethod
	// StartLevel is auto_dial_level when the campaign starts, 1.0–100.
	// 0 means 1.0. (VICIdial's schema default is 0, i.e. MANUAL, §1.9;
	// the first update raises anything below 1.0 to 1.0.)
	StartLevel float64
	// DropPercent is adaptive_dropped_percentage, the limit on today's drop
	// % (drops ÷ human-answered calls × 100), > 0 and ≤ 100. 0 means 3 (§1.9).
	DropPercent float64
	// MaxLevel is adaptive_maximum_level, the cap of the level update,
	// 1.0–100. 0 means 3.0 (§1.9).
	MaxLevel float64
	// LatestServerTime is adaptive_latest_server_time, the campaign's stop
	// time as HHMM (ADAPT_TAPERED only), 0001–2400. 0 means 2100 (§1.9).
	LatestServerTime int
	// Intensity is adaptive_intensity, −40..40 (§1.3, §1.9; default 0).
	Intensity int
	// DiffTarget is adaptive_dl_diff_target (§1.3; default 0): −1 aims for
	// one idle agent, +1 for one customer waiting.
	DiffTarget int
	// DiffTargetCallsPlaced is dl_diff_target_method = CALLS_PLACED: the
	// placement loop also adds DiffTarget to the agents it counts (§1.2
	// step 3). False is the schema default ADAPT_CALC_ONLY: DiffTarget only
	// enters the level update.
	DiffTargetCallsPlaced bool
	// Location is the campaign's (VICIdial: the server's) time zone, for
	// "today" (reset at local midnight) and the HHMM of ADAPT_TAPERED.
	// nil means UTC.
	Location *time.Location
}

// DefaultVicidial is method m with VICIdial's defaults (§1.9): start level
// 1.0, drop limit 3 %, maximum level 3.0, latest server time 2100, intensity
// 0, diff target 0 (ADAPT_CALC_ONLY), UTC.
func DefaultVicidial(m VicidialMethod) VicidialConfig {
	return VicidialConfig{Method: m}.filled()
}

func (c VicidialConfig) filled() VicidialConfig {
	if c.StartLevel == 0 {
		c.StartLevel = 1
	}
	if c.DropPercent == 0 {
		c.DropPercent = 3
	}
	if c.MaxLevel == 0 {
		c.MaxLevel = 3
	}
	if c.LatestServerTime == 0 {
		c.LatestServerTime = 2100
	}
	if c.Location == nil {
		c.Location = time.UTC
	}
	return c
}

// Validate reports every invalid field (zero fields replaced by their
// defaults first), each error naming it.
func (c VicidialConfig) Validate() error {
	c = c.filled()
	var errs []error
	bad := func(field string, v any, want string) {
		errs = append(errs, fmt.Errorf("dialer: VicidialConfig.%s %v: want %s", field, v, want))
	}
	if c.Method < AdaptHardLimit || c.Method > AdaptAverage {
		bad("Method", int(c.Method), "AdaptHardLimit, AdaptTapered or AdaptAverage")
	}
	if !(c.StartLevel >= 1 && c.StartLevel <= 100) {
		bad("StartLevel", c.StartLevel, "1 ≤ level ≤ 100")
	}
	if !(c.DropPercent > 0 && c.DropPercent <= 100) {
		bad("DropPercent", c.DropPercent, "0 < percent ≤ 100")
	}
	if !(c.MaxLevel >= 1 && c.MaxLevel <= 100) {
		bad("MaxLevel", c.MaxLevel, "1 ≤ level ≤ 100")
	}
	if t := c.LatestServerTime; t < 0 || t > 2400 || t%100 > 59 {
		bad("LatestServerTime", t, "HHMM between 0001 and 2400")
	}
	if c.Intensity < -40 || c.Intensity > 40 {
		bad("Intensity", c.Intensity, "−40 ≤ intensity ≤ 40")
	}
	return errors.Join(errs...)
}

// VicidialStats are the drop statistics as of the last 60-second refresh
// (AST_VDadapt.pl sub calculate_drops, §1.3 and §1.4).
type VicidialStats struct {
	// At is the refresh time (zero before the first).
	At time.Time
	// CallsToday counts the settled calls placed since local midnight
	// (VICIdial: the campaign's vicidial_log rows with call_date ≥ today
	// 00:00, every call placed, whatever its outcome), AnswersToday those a
	// live person answered (Outcome.Live: statuses flagged human_answered,
	// DROP included) and DropsToday those abandoned (DROP, XDROP).
	CallsToday, AnswersToday, DropsToday int
	// DropPercentToday is sprintf("%.2f", drops ÷ max(answers, 1) × 100),
	// 0 when there was no drop.
	DropPercentToday float64
	// CallsLastMinute and DropsLastMinute count the calls placed in the
	// 60 s before At.
	CallsLastMinute, DropsLastMinute int
	// DropPercentLastMinute is sprintf("%.2f", drops ÷ calls × 100) over the
	// last minute: of all calls placed, not of answers.
	DropPercentLastMinute float64
}

// vdSamples is the averaging window of count_agents_lines ($stat_it = 15).
const vdSamples = 15

type vdDay struct {
	y int
	m time.Month
	d int
}

type vdDayCounts struct{ calls, answers, drops int }

type vdRecent struct {
	placed  time.Time
	dropped bool
}

// Vicidial is VICIdial's adaptive-predictive dialer, ADAPT_HARD_LIMIT,
// ADAPT_TAPERED or ADAPT_AVERAGE (dialer-anchors.md §1.1–§1.3), re-implemented
// from AST_VDadapt.pl (the level) and AST_VDauto_dial.pl (the placement).
// Each Decide is one second of both scripts, in this order.
//
// Sample (sub count_agents_lines, §1.3 "Inputs"): the total agents
// (len(Snapshot.Agents); VICIdial counts every logged-in agent, paused ones
// included, while Snapshot.Agents holds the agents working the campaign), the
// ready agents (Phase Ready: READY or DONE) and the waiting calls
// (Snapshot.Waiting: LIVE). The averages are over the last 15 samples, or
// over all samples while there are fewer ($stat_it = $stat_count), and
// differential = ready_avg − waiting_avg.
//
// Refresh and update, only while the total-agents average is > 0 (as in
// AST_VDadapt.pl): every 60 samples, the first at sample 1
// ($drop_count_updater starts at 61), the drop statistics are refreshed from
// the settled calls (sub calculate_drops, VicidialStats); then every 15
// samples, the first at sample 16 ($diff_ratio_updater starts at 0), the
// level is updated (sub calculate_dial_level, §1.3):
//
//	diff_target = differential + DiffTarget
//	mul         = diff_target ÷ total_agents_avg      (0 if either is 0)
//	pct         = mul × 100;  i = Intensity ÷ 100
//	step        = pct × |i − 1|  if pct < 0,  else pct × (i + 1)
//	level       = sprintf("%.3f", level × (step/100 + 1))
//	level       = min(level, MaxLevel);  level = max(level, 1.0)
//	if calls in the last minute > 20 and their drop % > 50:   level ÷= 2
//	if calls today > 50 and today's drop % > DropPercent:
//	    ADAPT_HARD_LIMIT: level = 1.0
//	    ADAPT_AVERAGE:    level ÷= 2
//	    ADAPT_TAPERED:    left = LatestServerTime − HHMM now   (HHMM arithmetic)
//	                      level = 1.0 if left < 0, else level × min(1, left/1000)
//	level       = max(level, 1.0)
//
// and the level is stored as VICIdial stores it (vdStoreLevel: "%.15g", cut
// to the 6 characters of the VARCHAR(6) column).
//
// Place (§1.2, as Ratio): goal = sprintf("%.0f", level × agents) with agents
// = Ready + Talking (+ DiffTarget, not below 0, when DiffTargetCallsPlaced),
// and new = max(0, goal − existing) with existing = len(Dialing) + Waiting +
// Talking. A level updated in this Decide is used at once (in VICIdial the
// two scripts run side by side: AST_VDadapt.pl every second, and
// AST_VDauto_dial.pl every 2.5 s by default, its --delay).
//
// "Today" is the local day of Location: the counts restart at midnight, and a
// call counts on the day, and in the minute, it was placed (Settled.Placed;
// VICIdial's vicidial_log.call_date, assumed to be the placing time). The
// percentages are rounded to two decimals before they are compared, as
// VICIdial stores them (sprintf("%.2f")), so 3.004 % is not over a 3 % limit.
//
// Not modelled: blended campaigns (campaign_allow_inbound = Y) take the
// differential from the placement loop's 20-sample window instead; UK Ofcom
// drop arithmetic, drop-rate groups, the available-only tally and the
// dial-level thresholds (all off by default); and the statistics refresh
// VICIdial also runs while no agent is logged in.
type Vicidial struct {
	cfg   VicidialConfig
	name  string
	level float64

	statCount                int // $stat_count: samples taken
	total, ready, waiting    [vdSamples]int
	diffUpdater, dropUpdater int // $diff_ratio_updater, $drop_count_updater
	stats                    VicidialStats
	days                     map[vdDay]*vdDayCounts // settled calls by local day placed
	recent                   []vdRecent             // settled calls placed in the last minute
}

var _ Strategy = (*Vicidial)(nil)

// NewVicidial returns VICIdial's adaptive dialer named "vicidial-hard",
// "vicidial-tapered" or "vicidial-average".
func NewVicidial(cfg VicidialConfig) (*Vicidial, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.filled()
	name := map[VicidialMethod]string{
		AdaptHardLimit: "vicidial-hard",
		AdaptTapered:   "vicidial-tapered",
		AdaptAverage:   "vicidial-average",
	}[cfg.Method]
	return &Vicidial{
		cfg:         cfg,
		name:        name,
		level:       cfg.StartLevel,
		dropUpdater: 61, // "set to 61 initially so that a baseline drop count is pulled"
		days:        map[vdDay]*vdDayCounts{},
	}, nil
}

// Name is "vicidial-hard", "vicidial-tapered" or "vicidial-average".
func (v *Vicidial) Name() string { return v.name }

// Config is the configuration with defaults filled in.
func (v *Vicidial) Config() VicidialConfig { return v.cfg }

// Level is the current dial level (auto_dial_level): lines per counted agent.
func (v *Vicidial) Level() float64 { return v.level }

// Stats are the drop statistics of the last refresh.
func (v *Vicidial) Stats() VicidialStats { return v.stats }

func (v *Vicidial) dayOf(t time.Time) vdDay {
	y, m, d := t.In(v.cfg.Location).Date()
	return vdDay{y, m, d}
}

// Settled records a call's fate for the drop statistics: it counts towards
// the day it was placed on and, for 60 s after placement, the last minute.
func (v *Vicidial) Settled(c Settled) {
	day := v.dayOf(c.Placed)
	n := v.days[day]
	if n == nil {
		n = &vdDayCounts{}
		v.days[day] = n
	}
	n.calls++
	if c.Outcome.Live() {
		n.answers++
	}
	dropped := c.Outcome == Abandoned
	if dropped {
		n.drops++
	}
	v.recent = append(v.recent, vdRecent{placed: c.Placed, dropped: dropped})
}

// Handled is ignored: VICIdial does not use talk or wrap-up times (§1.3).
func (v *Vicidial) Handled(talk, wrap time.Duration) {}

// Decide takes one sample, updates the statistics and the level when due and
// returns the calls to place (see Vicidial). Snapshot.Now must not go back.
func (v *Vicidial) Decide(s Snapshot) int {
	v.forget(s.Now)

	v.statCount++
	i := v.statCount % vdSamples
	v.total[i], v.ready[i], v.waiting[i] = len(s.Agents), s.Count(Ready), s.Waiting
	n := min(v.statCount, vdSamples)
	var total, ready, waiting int
	for k := range n {
		j := (v.statCount - k) % vdSamples
		total += v.total[j]
		ready += v.ready[j]
		waiting += v.waiting[j]
	}
	agentsAvg := float64(total) / float64(n)
	differential := float64(ready)/float64(n) - float64(waiting)/float64(n)

	if agentsAvg > 0 {
		if v.dropUpdater >= 60 {
			v.stats = v.dropStats(s.Now)
			v.dropUpdater = 0
		}
		if v.diffUpdater >= 15 {
			now := s.Now.In(v.cfg.Location)
			v.level = vdStoreLevel(v.cfg.adapt(vdAdaptInput{
				level:        v.level,
				agentsAvg:    agentsAvg,
				differential: differential,
				hhmm:         now.Hour()*100 + now.Minute(),
				stats:        v.stats,
			}))
			v.diffUpdater = 0
		}
	}
	v.diffUpdater++
	v.dropUpdater++

	agents := vdAgents(s)
	if v.cfg.DiffTargetCallsPlaced {
		agents = max(agents+v.cfg.DiffTarget, 0)
	}
	return vdPlacement(v.level, agents, vdExisting(s))
}

// forget drops what no later refresh at or after now can count: days before
// today and calls placed 60 s or more before now.
func (v *Vicidial) forget(now time.Time) {
	today := v.dayOf(now)
	for d := range v.days {
		if vdDayBefore(d, today) {
			delete(v.days, d)
		}
	}
	cutoff := now.Add(-time.Minute)
	k := 0
	for _, r := range v.recent {
		if r.placed.After(cutoff) {
			v.recent[k] = r
			k++
		}
	}
	clear(v.recent[k:])
	v.recent = v.recent[:k]
}

func vdDayBefore(a, b vdDay) bool {
	if a.y != b.y {
		return a.y < b.y
	}
	if a.m != b.m {
		return a.m < b.m
	}
	return a.d < b.d
}

// dropStats is sub calculate_drops at now: the one-minute window is
// call_date > now − 60 s, "today" is call_date ≥ local midnight.
func (v *Vicidial) dropStats(now time.Time) VicidialStats {
	st := VicidialStats{At: now}
	cutoff := now.Add(-time.Minute)
	for _, r := range v.recent {
		if r.placed.After(cutoff) {
			st.CallsLastMinute++
			if r.dropped {
				st.DropsLastMinute++
			}
		}
	}
	if st.CallsLastMinute > 0 && st.DropsLastMinute > 0 {
		st.DropPercentLastMinute = perlFixed(float64(st.DropsLastMinute)/float64(st.CallsLastMinute)*100, 2)
	}
	if d := v.days[v.dayOf(now)]; d != nil {
		st.CallsToday, st.AnswersToday, st.DropsToday = d.calls, d.answers, d.drops
	}
	if st.CallsToday > 0 && st.DropsToday > 0 {
		answers := max(st.AnswersToday, 1) // "if ($VCSanswers_today[$i] < 1) {$VCSanswers_today[$i] = 1;}"
		st.DropPercentToday = perlFixed(float64(st.DropsToday)/float64(answers)*100, 2)
	}
	return st
}

// vdAdaptInput is what one level update reads.
type vdAdaptInput struct {
	level        float64 // auto_dial_level now
	agentsAvg    float64 // total_agents_avg over the 15-sample window
	differential float64 // ready_avg − waiting_avg over the window
	hhmm         int     // $current_hourmin, local HHMM
	stats        VicidialStats
}

// adapt is sub calculate_dial_level of AST_VDadapt.pl (§1.3), statement by
// statement; the Perl is quoted where the order of the float operations or a
// rounding matters. It returns the level before storage (vdStoreLevel).
func (c VicidialConfig) adapt(in vdAdaptInput) float64 {
	// $differential_target = ($differential_onemin + $adaptive_dl_diff_target);
	target := in.differential + float64(c.DiffTarget)
	var mul, pctRaw float64
	if target != 0 && in.agentsAvg != 0 {
		mul = target / in.agentsAvg // $differential_mul
		pctRaw = mul * 100          // $differential_pct_raw
	}
	// $intensity_mul = ($adaptive_intensity / 100);
	im := float64(c.Intensity) / 100
	var intensityDiff float64
	if pctRaw < 0 {
		intensityDiff = pctRaw * math.Abs(im-1) // slowing down: ×|i − 1|
	} else {
		intensityDiff = pctRaw * (im + 1) // speeding up: ×(i + 1)
	}
	diffMul := intensityDiff / 100 // $intensity_diff_mul
	// $intensity_dial_level = sprintf("%.3f", $auto_dial_level * ($intensity_diff_mul + 1));
	level := perlFixed(in.level*(diffMul+1), 3)
	if level > c.MaxLevel { // "DIAL LEVEL OVER CAP! SETTING TO CAP"
		level = c.MaxLevel
	}
	if level < 1 { // "DIAL LEVEL TOO LOW! SETTING TO 1"
		level = 1
	}

	// $tapered_hours_left = ($last_target_hour_final - $current_hourmin);
	left := c.LatestServerTime - in.hhmm
	rate := 1.0
	if left <= 1000 {
		rate = float64(left) / 1000
	}

	// DROP PERCENTAGE RULES TO LOWER DIAL_LEVEL
	if in.stats.CallsLastMinute > 20 && in.stats.DropPercentLastMinute > 50 {
		level /= 2 // "DROP RATE OVER 50% FOR LAST MINUTE!"
	}
	if in.stats.CallsToday > 50 && in.stats.DropPercentToday > c.DropPercent {
		switch c.Method {
		case AdaptHardLimit:
			level = 1
		case AdaptAverage:
			level /= 2
		case AdaptTapered:
			if left < 0 {
				level = 1
			} else {
				level *= rate
			}
		}
	}
	// ALWAYS RAISE DIAL_LEVEL TO 1.0 IF IT IS LOWER
	if level < 1 {
		level = 1
	}
	return level
}
