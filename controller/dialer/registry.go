package dialer

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// StrategyParams are the campaign settings a strategy built by name takes.
type StrategyParams struct {
	// AbandonLimit is the campaign's abandon-rate limit (0.03).
	AbandonLimit float64
	// Location is the campaign's time zone (VICIdial's "today" and
	// ADAPT_TAPERED's stop time).
	Location *time.Location
	// LatestServerTime is ADAPT_TAPERED's stop time as HHMM (0: 2100).
	LatestServerTime int
	// UKOfcom measures the abandon rate the UK way (Compliance.UKOfcom);
	// only predictive uses it.
	UKOfcom bool
	// AbandonWindow is predictive's PredictiveConfig.AbandonWindow (0: 30
	// days).
	AbandonWindow time.Duration
}

// StrategyNames are the names NewStrategy knows; ratio-L takes any level
// 1 ≤ L ≤ 100 (ratio-1.0 is progressive).
var StrategyNames = []string{
	"predictive", "progressive", "ratio-L",
	"vicidial-hard", "vicidial-tapered", "vicidial-average",
	"threshold-dial1xfree", "threshold-dial2xfree", "threshold-dialone",
}

// NewStrategy builds a strategy by name: ours ("predictive") or one of the
// field's baselines (dialer-anchors.md §1.3, §5.3).
func NewStrategy(name string, p StrategyParams) (Strategy, error) {
	limit := p.AbandonLimit
	if limit == 0 {
		limit = 0.03
	}
	switch name {
	case "predictive":
		cfg := DefaultPredictive()
		cfg.AbandonLimit = limit
		cfg.UKOfcom = p.UKOfcom
		cfg.AbandonWindow = p.AbandonWindow
		return NewPredictive(cfg)
	case "progressive":
		return NewProgressive(), nil
	case "vicidial-hard", "vicidial-tapered", "vicidial-average":
		m := map[string]VicidialMethod{"vicidial-hard": AdaptHardLimit, "vicidial-tapered": AdaptTapered, "vicidial-average": AdaptAverage}[name]
		cfg := DefaultVicidial(m)
		cfg.DropPercent = limit * 100
		cfg.Location = p.Location
		if p.LatestServerTime != 0 {
			cfg.LatestServerTime = p.LatestServerTime
		}
		return NewVicidial(cfg)
	case "threshold-dial1xfree":
		return NewThreshold(ThresholdConfig{Preset: Dial1XFree, MinFreeTarget: 1, CountInProgress: true})
	case "threshold-dial2xfree":
		return NewThreshold(ThresholdConfig{Preset: Dial2XFree, MinFreeTarget: 1, CountInProgress: true})
	case "threshold-dialone":
		return NewThreshold(ThresholdConfig{Preset: DialOne, MinFreeTarget: 1, CountInProgress: true})
	}
	if lv, ok := strings.CutPrefix(name, "ratio-"); ok {
		level, err := strconv.ParseFloat(lv, 64)
		if err != nil {
			return nil, fmt.Errorf("dialer: strategy %q: the level after ratio- is not a number", name)
		}
		return NewRatio(RatioConfig{Level: level})
	}
	return nil, fmt.Errorf("dialer: unknown strategy %q (known: %s)", name, strings.Join(StrategyNames, ", "))
}
