package media

import "math"

// DTMFConfig tunes the DTMF detector. Zero fields take the defaults shown.
type DTMFConfig struct {
	BlockSize      int     // analysis window in samples (160 = 20 ms)
	Hop            int     // window advance in samples (80 = 10 ms)
	MinLevelDBm0   float64 // minimum level of each tone (-30)
	MaxHighTwistDB float64 // high group above low group (8)
	MaxLowTwistDB  float64 // low group above high group (4)
	MinPeakRatioDB float64 // strongest row/column over the next in its group (6)
	MinEnergyRatio float64 // (row+column power) / window energy (0.7)
	OnWindows      int     // consecutive valid windows to report a digit (2)
	OffWindows     int     // consecutive non-matching windows to end it (2)
}

// DefaultDTMFConfig returns the defaults: 20 ms windows every 10 ms; a digit
// needs two consecutive valid windows (~30 ms of tone, so 40 ms tones are
// always caught and tones under ~23 ms never are) and ends after two
// windows without it.
func DefaultDTMFConfig() DTMFConfig {
	return DTMFConfig{BlockSize: FrameSamples, Hop: FrameSamples / 2, MinLevelDBm0: -30,
		MaxHighTwistDB: 8, MaxLowTwistDB: 4, MinPeakRatioDB: 6, MinEnergyRatio: 0.7,
		OnWindows: 2, OffWindows: 2}
}

func (c DTMFConfig) withDefaults() DTMFConfig {
	d := DefaultDTMFConfig()
	if c.BlockSize <= 0 {
		c.BlockSize = d.BlockSize
	}
	if c.Hop <= 0 {
		c.Hop = c.BlockSize / 2
	}
	if c.MinLevelDBm0 == 0 {
		c.MinLevelDBm0 = d.MinLevelDBm0
	}
	if c.MaxHighTwistDB == 0 {
		c.MaxHighTwistDB = d.MaxHighTwistDB
	}
	if c.MaxLowTwistDB == 0 {
		c.MaxLowTwistDB = d.MaxLowTwistDB
	}
	if c.MinPeakRatioDB == 0 {
		c.MinPeakRatioDB = d.MinPeakRatioDB
	}
	if c.MinEnergyRatio == 0 {
		c.MinEnergyRatio = d.MinEnergyRatio
	}
	if c.OnWindows <= 0 {
		c.OnWindows = d.OnWindows
	}
	if c.OffWindows <= 0 {
		c.OffWindows = d.OffWindows
	}
	return c
}

// DTMFEvent is a digit starting (On) or ending. Sample is the absolute
// sample index (from the first sample fed) where the digit was first/last
// seen; Duration (samples) is set on the end event.
type DTMFEvent struct {
	Digit    byte
	On       bool
	Sample   int64
	Duration int64
}

// DTMFDetector finds DTMF digits in a stream of samples.
type DTMFDetector struct {
	cfg      DTMFConfig
	bank     *FilterBank
	powers   [8]float64
	feed     blockFeeder
	minPow   float64
	peak     float64
	hiTwist  float64
	loTwist  float64
	cur      byte
	curStart int64
	lastEnd  int64
	misses   int
	cand     byte
	candN    int
	candAt   int64
	out      []DTMFEvent
}

// NewDTMFDetector returns a detector with cfg (zero fields defaulted).
func NewDTMFDetector(cfg DTMFConfig) *DTMFDetector {
	cfg = cfg.withDefaults()
	freqs := append(DTMFRowFreqs[:], DTMFColFreqs[:]...)
	return &DTMFDetector{
		cfg: cfg, bank: NewFilterBank(freqs...), feed: newBlockFeeder(cfg.BlockSize, cfg.Hop),
		minPow:  DBm0ToMeanSquare(cfg.MinLevelDBm0),
		peak:    math.Pow(10, cfg.MinPeakRatioDB/10),
		hiTwist: math.Pow(10, cfg.MaxHighTwistDB/10),
		loTwist: math.Pow(10, cfg.MaxLowTwistDB/10),
	}
}

// Config returns the effective configuration.
func (d *DTMFDetector) Config() DTMFConfig { return d.cfg }

// classify returns the digit present in one window, or 0.
func (d *DTMFDetector) classify(block []int16) byte {
	e := d.bank.Analyze(block, d.powers[:])
	if e <= 0 {
		return 0
	}
	r, r2 := best(d.powers[0:4])
	c, c2 := best(d.powers[4:8])
	pr, pc := d.powers[r], d.powers[4+c]
	switch {
	case pr < d.minPow || pc < d.minPow:
		return 0
	case pc > pr*d.hiTwist || pr > pc*d.loTwist:
		return 0
	case pr < d.powers[r2]*d.peak || pc < d.powers[4+c2]*d.peak:
		return 0
	case pr+pc < d.cfg.MinEnergyRatio*e:
		return 0
	}
	return dtmfKeys[r*4+c]
}

// best returns the indices of the largest and second largest values.
func best(p []float64) (i1, i2 int) {
	i1, i2 = 0, 1
	if p[1] > p[0] {
		i1, i2 = 1, 0
	}
	for i := 2; i < len(p); i++ {
		if p[i] > p[i1] {
			i1, i2 = i, i1
		} else if p[i] > p[i2] {
			i2 = i
		}
	}
	return
}

// Process feeds samples (any length; normally one 20 ms frame) and appends
// any digit events to dst. It allocates only if dst must grow.
func (d *DTMFDetector) Process(pcm []int16, dst []DTMFEvent) []DTMFEvent {
	d.out = dst
	d.feed.feed(pcm, d.window)
	dst, d.out = d.out, nil
	return dst
}

func (d *DTMFDetector) window(block []int16, start int64) {
	k := d.classify(block)
	end := start + int64(len(block))
	if d.cur != 0 {
		if k == d.cur {
			d.misses = 0
			d.lastEnd = end
			return
		}
		d.misses++
		if d.misses < d.cfg.OffWindows {
			return
		}
		d.endDigit()
	}
	if k == 0 {
		d.cand, d.candN = 0, 0
		return
	}
	if k == d.cand {
		d.candN++
	} else {
		d.cand, d.candN, d.candAt = k, 1, start
	}
	if d.candN >= d.cfg.OnWindows {
		d.cur, d.curStart, d.lastEnd, d.misses = k, d.candAt, end, 0
		d.cand, d.candN = 0, 0
		d.out = append(d.out, DTMFEvent{Digit: k, On: true, Sample: d.curStart})
	}
}

func (d *DTMFDetector) endDigit() {
	d.out = append(d.out, DTMFEvent{Digit: d.cur, Sample: d.lastEnd, Duration: d.lastEnd - d.curStart})
	d.cur, d.misses = 0, 0
}

// Flush ends a digit still in progress (e.g. at the end of a call) and
// appends its end event to dst.
func (d *DTMFDetector) Flush(dst []DTMFEvent) []DTMFEvent {
	if d.cur != 0 {
		d.out = dst
		d.endDigit()
		dst, d.out = d.out, nil
	}
	return dst
}
