package dialer

import (
	"errors"
	"fmt"
	"time"

	"github.com/ipcclab/ipcclab/internal/media"
)

// Call progress analysis and answering-machine detection on the audio of an
// answered outbound call (issue 5 item 4), in the manner of Cisco's gateway
// CPA (dialer-anchors.md §2.4, ipcc-behaviour.md §4.5): frame energy
// separates speech from silence; speech followed soon enough by a long
// enough silence is a live person ("Hello?" — then waiting), speech that goes
// on past the analysis period is a machine's greeting; no speech at all is
// dead air; tones are checked first (SIT, fax CNG and CED) and tonal frames
// never count as speech. After a machine the detector keeps listening for
// the greeting's terminating beep, so a campaign can leave a message after it.
//
// Pure: one Feed per 20 ms frame; time is the number of frames fed.

// CPAConfig holds the Cisco call-progress parameters (UCCE campaign CPA tab).
// Zero fields take the defaults.
type CPAConfig struct {
	// MinSilence: silence after speech that makes it live voice (608 ms).
	MinSilence time.Duration
	// AnalysisPeriod: speech longer than this without such a silence is a
	// machine (2500 ms).
	AnalysisPeriod time.Duration
	// MinValidSpeech: shorter bursts are noise (112 ms).
	MinValidSpeech time.Duration
	// MaxTimeAnalysis: no valid speech by then is dead air (3000 ms).
	MaxTimeAnalysis time.Duration
	// MaxTermToneAnalysis: how long to wait for a machine's beep (30000 ms).
	MaxTermToneAnalysis time.Duration
	// SpeechDBm0 is the frame level at or above which a frame is speech
	// (-42 dBm0, well above line noise at about -65).
	SpeechDBm0 float64
}

// DefaultCPAConfig returns Cisco's defaults.
func DefaultCPAConfig() CPAConfig {
	return CPAConfig{MinSilence: 608 * time.Millisecond, AnalysisPeriod: 2500 * time.Millisecond,
		MinValidSpeech: 112 * time.Millisecond, MaxTimeAnalysis: 3000 * time.Millisecond,
		MaxTermToneAnalysis: 30 * time.Second, SpeechDBm0: -42}
}

// Validate checks the Cisco ranges; errors name the parameter.
func (c CPAConfig) Validate() error {
	for _, p := range []struct {
		name   string
		v      time.Duration
		lo, hi time.Duration
	}{
		{"min_silence", c.MinSilence, 100 * time.Millisecond, time.Second},
		{"analysis_period", c.AnalysisPeriod, time.Second, 10 * time.Second},
		{"min_valid_speech", c.MinValidSpeech, 50 * time.Millisecond, 500 * time.Millisecond},
		{"max_time_analysis", c.MaxTimeAnalysis, time.Second, 10 * time.Second},
		{"max_term_tone_analysis", c.MaxTermToneAnalysis, time.Second, 60 * time.Second},
	} {
		if p.v != 0 && (p.v < p.lo || p.v > p.hi) {
			return fmt.Errorf("cpa.%s: %v outside %v..%v", p.name, p.v, p.lo, p.hi)
		}
	}
	return nil
}

func (c CPAConfig) withDefaults() CPAConfig {
	d := DefaultCPAConfig()
	if c.MinSilence == 0 {
		c.MinSilence = d.MinSilence
	}
	if c.AnalysisPeriod == 0 {
		c.AnalysisPeriod = d.AnalysisPeriod
	}
	if c.MinValidSpeech == 0 {
		c.MinValidSpeech = d.MinValidSpeech
	}
	if c.MaxTimeAnalysis == 0 {
		c.MaxTimeAnalysis = d.MaxTimeAnalysis
	}
	if c.MaxTermToneAnalysis == 0 {
		c.MaxTermToneAnalysis = d.MaxTermToneAnalysis
	}
	if c.SpeechDBm0 == 0 {
		c.SpeechDBm0 = d.SpeechDBm0
	}
	return c
}

// CPAResult is what the far end turned out to be.
type CPAResult int

// Results (Cisco's CPA status tokens in parentheses).
const (
	CPAPending CPAResult = iota
	CPALive              // live voice
	CPAMachine           // answering machine (Asm)
	CPAFax               // fax or modem tone (FT)
	CPASIT               // special information tone (Sit)
	CPADeadAir           // no speech within the maximum analysis time
)

func (r CPAResult) String() string {
	switch r {
	case CPALive:
		return "live"
	case CPAMachine:
		return "machine"
	case CPAFax:
		return "fax"
	case CPASIT:
		return "sit"
	case CPADeadAir:
		return "dead-air"
	}
	return "pending"
}

// tone frequencies checked per frame: fax CNG and CED, and the SIT tones.
var cpaTones = append([]float64{media.FaxCNGFreq, 2100}, media.SITFreqs...)

// CPA analyses one call's received audio.
type CPA struct {
	cfg    CPAConfig
	frames int // frames fed
	result CPAResult
	at     int // frame count when result was decided

	bank   *media.FilterBank
	powers []float64
	sit    *media.ToneDetector
	segs   []media.ToneEvent
	// consecutive tonal frames at one frequency
	toneIdx, toneRun int

	speechRun, silenceRun int
	onset                 int // frame where valid speech began, -1 before
	beeps                 *media.ToneDetector
	beepAt                int // frame of the terminating beep's end, -1 none
	beepEv                []media.ToneEvent
}

// NewCPA returns an analyser for one call.
func NewCPA(cfg CPAConfig) (*CPA, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := &CPA{cfg: cfg.withDefaults(), onset: -1, beepAt: -1, toneIdx: -1,
		bank: media.NewFilterBank(cpaTones...), sit: media.NewSITDetector()}
	c.powers = make([]float64, c.bank.Len())
	return c, nil
}

func (c *CPA) ms(d time.Duration) int { return int(d / (20 * time.Millisecond)) }

// ErrFrameSize is returned for frames that are not 20 ms of 8 kHz audio.
var ErrFrameSize = errors.New("cpa: a frame is 160 samples (20 ms at 8 kHz)")

// Feed analyses one 20 ms frame and returns the result so far (CPAPending
// until decided; a decision does not change afterwards).
func (c *CPA) Feed(pcm []int16) (CPAResult, error) {
	if len(pcm) != media.FrameSamples {
		return c.result, ErrFrameSize
	}
	c.frames++
	if c.result == CPAMachine && c.beepAt < 0 {
		c.listenForBeep(pcm)
	}
	if c.result != CPAPending {
		return c.result, nil
	}
	// Tones first: SIT sequences and fax tones.
	c.segs = c.sit.Process(pcm, c.segs)
	if kind, _ := media.ClassifySIT(c.segs); kind != media.SITNone {
		return c.decide(CPASIT), nil
	}
	ms := c.bank.Analyze(pcm, c.powers)
	tonal := false
	if ms > 0 && media.MeanSquareToDBm0(ms) >= -40 {
		best := 0
		for i := range c.powers {
			if c.powers[i] > c.powers[best] {
				best = i
			}
		}
		if c.powers[best]/ms > 0.6 {
			tonal = true
			if best == c.toneIdx {
				c.toneRun++
			} else {
				c.toneIdx, c.toneRun = best, 1
			}
			switch {
			case best == 0 && c.toneRun >= 17: // CNG burst ≥ 340 ms
				return c.decide(CPAFax), nil
			case best == 1 && c.toneRun >= 25: // CED ≥ 500 ms
				return c.decide(CPAFax), nil
			}
		}
	}
	if !tonal {
		c.toneIdx, c.toneRun = -1, 0
	}
	speech := !tonal && media.FrameDBm0(pcm) >= c.cfg.SpeechDBm0
	if speech {
		c.speechRun++
		if c.onset < 0 && c.speechRun >= c.ms(c.cfg.MinValidSpeech) {
			c.onset = c.frames - c.speechRun
		}
		if c.speechRun >= c.ms(c.cfg.MinValidSpeech) {
			c.silenceRun = 0
		}
	} else {
		if c.speechRun < c.ms(c.cfg.MinValidSpeech) && c.onset >= 0 {
			// a short burst inside a pause does not break the silence
			c.silenceRun += c.speechRun
		}
		c.speechRun = 0
		if c.onset >= 0 {
			c.silenceRun++
		}
	}
	switch {
	case c.onset < 0:
		if c.frames >= c.ms(c.cfg.MaxTimeAnalysis) {
			return c.decide(CPADeadAir), nil
		}
	case c.silenceRun >= c.ms(c.cfg.MinSilence):
		return c.decide(CPALive), nil
	case c.frames-c.onset >= c.ms(c.cfg.AnalysisPeriod):
		return c.decide(CPAMachine), nil
	}
	return CPAPending, nil
}

func (c *CPA) decide(r CPAResult) CPAResult {
	c.result, c.at = r, c.frames
	if r == CPAMachine {
		c.beeps = media.NewBeepDetector(200)
	}
	return r
}

func (c *CPA) listenForBeep(pcm []int16) {
	if c.frames-c.at > c.ms(c.cfg.MaxTermToneAnalysis) {
		c.beepAt = 0 // gave up
		return
	}
	c.beepEv = c.beeps.Process(pcm, c.beepEv[:0])
	if len(c.beepEv) > 0 {
		c.beepAt = c.frames
	}
}

// Result is the decision so far.
func (c *CPA) Result() CPAResult { return c.result }

// DecidedAfter is the audio time from the first frame to the decision.
func (c *CPA) DecidedAfter() time.Duration { return time.Duration(c.at) * 20 * time.Millisecond }

// Beep reports whether a machine's terminating beep ended, and when (audio
// time from the first frame): the moment to start a message.
func (c *CPA) Beep() (time.Duration, bool) {
	if c.beepAt <= 0 {
		return 0, false
	}
	return time.Duration(c.beepAt) * 20 * time.Millisecond, true
}
