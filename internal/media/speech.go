package media

import (
	"math"
	"math/rand/v2"
)

// SpeechConfig shapes the synthetic speech. Zero fields take the defaults.
type SpeechConfig struct {
	LevelDBm0      float64 // RMS level over active speech (-20)
	SpurtMinMs     int     // talk spurt length range (600..2000)
	SpurtMaxMs     int
	SilenceMinMs   int // pause length range (300..1200)
	SilenceMaxMs   int
	SyllableRateHz float64 // mean syllable rate (4.5), varied ±20 % per spurt
	// Pattern, if set, replaces the random durations: alternating spurt and
	// silence lengths in ms, starting with a spurt; silence follows it.
	// Useful for answering-machine scripts (e.g. {1800, 700} = a long
	// greeting then silence).
	Pattern []int
	// LeadingSilenceMs is silence before the first spurt (random mode only).
	LeadingSilenceMs int
}

// DefaultSpeechConfig returns the defaults.
func DefaultSpeechConfig() SpeechConfig {
	return SpeechConfig{LevelDBm0: -20, SpurtMinMs: 600, SpurtMaxMs: 2000, SilenceMinMs: 300, SilenceMaxMs: 1200, SyllableRateHz: 4.5}
}

// resonator is a two-pole band-pass (formant) filter.
type resonator struct{ a1, a2, g, y1, y2 float64 }

func (r *resonator) set(freq, bw float64) {
	rad := math.Exp(-math.Pi * bw / SampleRate)
	r.a1 = 2 * rad * math.Cos(2*math.Pi*freq/SampleRate)
	r.a2 = -rad * rad
	r.g = 1 - rad
}

func (r *resonator) step(x float64) float64 {
	y := r.g*x + r.a1*r.y1 + r.a2*r.y2
	r.y2, r.y1 = r.y1, y
	return y
}

// vowel formants (F1, F2, F3) in Hz.
var vowels = [][3]float64{{730, 1090, 2440}, {270, 2290, 3010}, {530, 1840, 2480}, {660, 1720, 2410},
	{570, 840, 2410}, {440, 1020, 2240}, {300, 870, 2240}, {640, 1190, 2390}, {490, 1350, 1690}}

// SpeechGenerator produces a deterministic (per seed) speech-like signal:
// talk spurts of formant-filtered Gaussian noise whose envelope is modulated
// at syllable rate, separated by digital silence. It is not intelligible
// speech, but it has speech-like level, spectrum spread and rhythm for VAD,
// answering-machine and DTMF talk-off tests.
type SpeechGenerator struct {
	cfg      SpeechConfig
	rng      *rand.Rand
	exc      Gauss // the excitation noise
	f        [3]resonator
	fw       [3]float64 // formant weights
	ms       float64    // running mean square of the filtered noise (AGC)
	amp      float64
	speaking bool
	left     int // samples left in the current spurt/silence
	pos      int // sample position inside the spurt
	rate     float64
	sylPhase float64
	// sin and cos of sylPhase, advanced by a rotation of step per sample
	// (math.Sin per sample was a fifth of the generator's cost).
	sn, cs, stepSin, stepCos float64
	pat                      int
	sample                   int64
}

// envelope floor and modulation depth; meanEnv2 = E[(a+b·sin²)²].
const envFloor, envDepth = 0.15, 0.85

// NewSpeechGenerator returns a generator drawing all randomness from rng.
func NewSpeechGenerator(cfg SpeechConfig, rng *rand.Rand) *SpeechGenerator {
	d := DefaultSpeechConfig()
	if cfg.LevelDBm0 == 0 {
		cfg.LevelDBm0 = d.LevelDBm0
	}
	if cfg.SpurtMinMs <= 0 {
		cfg.SpurtMinMs = d.SpurtMinMs
	}
	if cfg.SpurtMaxMs < cfg.SpurtMinMs {
		cfg.SpurtMaxMs = max(cfg.SpurtMinMs, d.SpurtMaxMs)
	}
	if cfg.SilenceMinMs <= 0 {
		cfg.SilenceMinMs = d.SilenceMinMs
	}
	if cfg.SilenceMaxMs < cfg.SilenceMinMs {
		cfg.SilenceMaxMs = max(cfg.SilenceMinMs, d.SilenceMaxMs)
	}
	if cfg.SyllableRateHz <= 0 {
		cfg.SyllableRateHz = d.SyllableRateHz
	}
	cfg.Pattern = append([]int(nil), cfg.Pattern...)
	meanEnv2 := envFloor*envFloor + envFloor*envDepth + envDepth*envDepth*3/8
	g := &SpeechGenerator{cfg: cfg, rng: rng, exc: NewGauss(rng), fw: [3]float64{1, 0.6, 0.25},
		amp: math.Sqrt(DBm0ToMeanSquare(cfg.LevelDBm0) / meanEnv2)}
	g.pickVowel()
	// Settle the filters and the AGC estimate.
	for range 800 {
		g.filtered()
	}
	if len(cfg.Pattern) > 0 {
		g.startSpurt(cfg.Pattern[0])
	} else if cfg.LeadingSilenceMs > 0 {
		g.left = MsToSamples(cfg.LeadingSilenceMs)
	} else {
		g.startSpurt(g.uniform(cfg.SpurtMinMs, cfg.SpurtMaxMs))
	}
	return g
}

func (g *SpeechGenerator) uniform(lo, hi int) int {
	if hi <= lo {
		return lo
	}
	return lo + g.rng.IntN(hi-lo+1)
}

func (g *SpeechGenerator) pickVowel() {
	v := vowels[g.rng.IntN(len(vowels))]
	bws := [3]float64{90, 120, 180}
	for i := range g.f {
		g.f[i].set(v[i]*(0.9+0.2*g.rng.Float64()), bws[i])
	}
}

// filtered returns the next AGC-normalised formant-filtered noise sample
// (unit mean square).
func (g *SpeechGenerator) filtered() float64 {
	x := g.exc.Next()
	var y float64
	for i := range g.f {
		y += g.fw[i] * g.f[i].step(x)
	}
	g.ms += (y*y - g.ms) / 400
	if g.ms <= 0 {
		return 0
	}
	return y / math.Sqrt(g.ms)
}

func (g *SpeechGenerator) startSpurt(ms int) {
	g.speaking, g.left, g.pos = true, MsToSamples(ms), 0
	g.rate = g.cfg.SyllableRateHz * (0.8 + 0.4*g.rng.Float64())
	g.sylPhase = 0
	g.sn, g.cs = 0, 1
	g.stepSin, g.stepCos = math.Sincos(math.Pi * g.rate / SampleRate)
}

func (g *SpeechGenerator) next() {
	if len(g.cfg.Pattern) > 0 {
		g.pat++
		if g.pat < len(g.cfg.Pattern) {
			if g.pat%2 == 0 {
				g.startSpurt(g.cfg.Pattern[g.pat])
			} else {
				g.speaking, g.left = false, MsToSamples(g.cfg.Pattern[g.pat])
			}
			return
		}
		g.speaking, g.left = false, math.MaxInt
		return
	}
	if g.speaking {
		g.speaking, g.left = false, MsToSamples(g.uniform(g.cfg.SilenceMinMs, g.cfg.SilenceMaxMs))
		return
	}
	g.startSpurt(g.uniform(g.cfg.SpurtMinMs, g.cfg.SpurtMaxMs))
}

// Speaking reports whether the next sample belongs to a talk spurt.
func (g *SpeechGenerator) Speaking() bool { return g.speaking }

// Read fills dst with the next samples and reports whether any of them was
// in a talk spurt (the ground truth for VAD tests). It does not allocate.
func (g *SpeechGenerator) Read(dst []int16) (active bool) {
	for i := range dst {
		for g.left <= 0 {
			g.next()
		}
		g.sample++
		g.left--
		if !g.speaking {
			dst[i] = 0
			continue
		}
		active = true
		// Syllable envelope: sin² at the syllable rate; a new vowel each syllable.
		s := g.sn
		env := envFloor + envDepth*s*s
		// Fade in/out over 20 ms at spurt edges.
		edge := min(g.pos, g.left)
		if edge < FrameSamples {
			env *= float64(edge) / FrameSamples
		}
		dst[i] = sat16(g.amp * env * g.filtered())
		g.pos++
		g.sylPhase += math.Pi * g.rate / SampleRate
		g.sn, g.cs = g.sn*g.stepCos+g.cs*g.stepSin, g.cs*g.stepCos-g.sn*g.stepSin
		if g.sylPhase >= math.Pi {
			g.sylPhase -= math.Pi
			// sin² has period π; re-anchor the rotation to stop drift.
			g.sn, g.cs = math.Sincos(g.sylPhase)
			g.pickVowel()
		}
	}
	return active
}

// AddNoise adds white Gaussian noise of the given level (dBm0) to frame,
// drawing from rng.
func AddNoise(frame []int16, levelDBm0 float64, rng *rand.Rand) {
	sd := math.Sqrt(DBm0ToMeanSquare(levelDBm0))
	for i, v := range frame {
		frame[i] = sat16(float64(v) + sd*rng.NormFloat64())
	}
}
