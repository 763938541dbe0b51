package media

import "math"

// ToneDetectorConfig tunes a ToneDetector. Zero fields take the defaults.
type ToneDetectorConfig struct {
	Freqs          []float64 // candidate frequencies; the strongest wins (required)
	BlockSize      int       // analysis window in samples (160)
	Hop            int       // window advance in samples (80)
	MinLevelDBm0   float64   // minimum tone level (-35)
	MinEnergyRatio float64   // tone power / window energy (0.6)
	OnWindows      int       // consecutive windows to start a segment (2)
	OffWindows     int       // consecutive tone-less windows to end it (2)
	MinDurationMs  int       // shorter segments are not reported (0)
	MaxDurationMs  int       // longer segments are not reported (0 = no limit)
}

// ToneEvent is one completed single-frequency segment. Start and Duration are
// in samples (absolute index from the first sample fed); Start is the start
// of the first window holding the tone, Start+Duration the end of the last.
type ToneEvent struct {
	Freq     float64
	Index    int // index of Freq in the configuration
	Start    int64
	Duration int64
}

// DurationMs returns the segment duration in milliseconds.
func (e ToneEvent) DurationMs() int { return int(e.Duration * 1000 / SampleRate) }

// ToneDetector reports single-frequency tone segments (SIT tones, fax CNG,
// beeps) from a stream of samples. A window holds a tone when its strongest
// filter is above MinLevelDBm0 and carries MinEnergyRatio of the energy; a
// change of frequency ends one segment and starts the next at once, so
// gap-less sequences such as SIT come out as separate segments.
type ToneDetector struct {
	cfg    ToneDetectorConfig
	bank   *FilterBank
	powers []float64
	feed   blockFeeder
	minPow float64

	cur      int // index+1 of current tone, 0 none
	curStart int64
	lastEnd  int64
	misses   int
	cand     int
	candN    int
	candAt   int64
	out      []ToneEvent
}

// NewToneDetector returns a detector for cfg (zero fields defaulted).
func NewToneDetector(cfg ToneDetectorConfig) *ToneDetector {
	if cfg.BlockSize <= 0 {
		cfg.BlockSize = FrameSamples
	}
	if cfg.Hop <= 0 {
		cfg.Hop = cfg.BlockSize / 2
	}
	if cfg.MinLevelDBm0 == 0 {
		cfg.MinLevelDBm0 = -35
	}
	if cfg.MinEnergyRatio == 0 {
		cfg.MinEnergyRatio = 0.6
	}
	if cfg.OnWindows <= 0 {
		cfg.OnWindows = 2
	}
	if cfg.OffWindows <= 0 {
		cfg.OffWindows = 2
	}
	cfg.Freqs = append([]float64(nil), cfg.Freqs...)
	return &ToneDetector{cfg: cfg, bank: NewFilterBank(cfg.Freqs...), powers: make([]float64, len(cfg.Freqs)),
		feed: newBlockFeeder(cfg.BlockSize, cfg.Hop), minPow: DBm0ToMeanSquare(cfg.MinLevelDBm0)}
}

// NewSITDetector detects the segments of North American and ITU SIT
// sequences (each at least 150 ms); pass the events to ClassifySIT.
func NewSITDetector() *ToneDetector {
	return NewToneDetector(ToneDetectorConfig{Freqs: SITFreqs, MinDurationMs: 150, MaxDurationMs: 600})
}

// NewCNGDetector detects fax CNG bursts (1100 Hz, 350–800 ms).
func NewCNGDetector() *ToneDetector {
	return NewToneDetector(ToneDetectorConfig{Freqs: []float64{FaxCNGFreq}, MinDurationMs: 350, MaxDurationMs: 800})
}

// NewBeepDetector detects answering-machine beeps of at least minMs anywhere
// from 400 to 2000 Hz (filters every 25 Hz); Freq of an event is the
// nearest filter.
func NewBeepDetector(minMs int) *ToneDetector {
	var fs []float64
	for f := 400.0; f <= 2000; f += 25 {
		fs = append(fs, f)
	}
	return NewToneDetector(ToneDetectorConfig{Freqs: fs, MinDurationMs: minMs})
}

// Config returns the effective configuration.
func (d *ToneDetector) Config() ToneDetectorConfig { return d.cfg }

// Process feeds samples and appends completed segments to dst. It allocates
// only if dst must grow.
func (d *ToneDetector) Process(pcm []int16, dst []ToneEvent) []ToneEvent {
	d.out = dst
	d.feed.feed(pcm, d.window)
	dst, d.out = d.out, nil
	return dst
}

// Flush ends a segment still in progress and appends it to dst if it
// qualifies.
func (d *ToneDetector) Flush(dst []ToneEvent) []ToneEvent {
	d.out = dst
	d.end()
	dst, d.out = d.out, nil
	return dst
}

func (d *ToneDetector) classify(block []int16) int {
	e := d.bank.Analyze(block, d.powers)
	bi, bp := -1, 0.0
	for i, p := range d.powers {
		if p > bp {
			bi, bp = i, p
		}
	}
	if bi < 0 || bp < d.minPow || bp < d.cfg.MinEnergyRatio*e {
		return 0
	}
	return bi + 1
}

func (d *ToneDetector) window(block []int16, start int64) {
	k := d.classify(block)
	end := start + int64(len(block))
	if d.cur != 0 {
		switch {
		case k == d.cur:
			d.misses = 0
			d.lastEnd = end
			return
		case k == 0:
			d.misses++
			if d.misses < d.cfg.OffWindows {
				return
			}
		}
		d.end()
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
	}
}

func (d *ToneDetector) end() {
	if d.cur == 0 {
		return
	}
	ev := ToneEvent{Freq: d.cfg.Freqs[d.cur-1], Index: d.cur - 1, Start: d.curStart, Duration: d.lastEnd - d.curStart}
	d.cur, d.misses = 0, 0
	ms := ev.DurationMs()
	if ms < d.cfg.MinDurationMs || (d.cfg.MaxDurationMs > 0 && ms > d.cfg.MaxDurationMs) {
		return
	}
	d.out = append(d.out, ev)
}

// ClassifySIT looks for three consecutive tone segments (as reported by
// NewSITDetector) forming a SIT: first tone 913.8/985.2 Hz, second
// 1370.6/1428.5 Hz, third 1776.7 Hz (or the ITU 950/1400/1800 Hz), each
// 150–600 ms with gaps under 100 ms. The North American kind follows the
// frequency pair (985.2/1428.5 NC, 913.8/1370.6 IC, 985.2/1370.6 VC,
// 913.8/1428.5 RO), so duration variants are still recognised. It returns
// the kind and the index of the first segment, or SITNone and -1.
func ClassifySIT(segs []ToneEvent) (SITKind, int) {
	const maxGap = SampleRate / 10
	is := func(e ToneEvent, f float64) bool { return math.Abs(e.Freq-f) < 1 }
	for i := 0; i+2 < len(segs); i++ {
		a, b, c := segs[i], segs[i+1], segs[i+2]
		if b.Start-(a.Start+a.Duration) > maxGap || c.Start-(b.Start+b.Duration) > maxGap {
			continue
		}
		if !sitLen(a) || !sitLen(b) || !sitLen(c) {
			continue
		}
		switch {
		case is(a, SITITU1) && is(b, SITITU2) && is(c, SITITU3):
			return SITITU, i
		case !is(c, SIT3):
			continue
		case is(a, SITHigh1) && is(b, SITHigh2):
			return SITNoCircuit, i
		case is(a, SITLow1) && is(b, SITLow2):
			return SITIntercept, i
		case is(a, SITHigh1) && is(b, SITLow2):
			return SITVacantCode, i
		case is(a, SITLow1) && is(b, SITHigh2):
			return SITReorder, i
		}
	}
	return SITNone, -1
}

func sitLen(e ToneEvent) bool { ms := e.DurationMs(); return ms >= 150 && ms <= 600 }
