package dialer

import (
	"fmt"
	"time"

	"github.com/ipcclab/ipcclab/internal/media"
)

// AsteriskAMDConfig is Asterisk app_amd's parameter set (amd.conf, defaults
// from asterisk/asterisk configs/samples/amd.conf.sample; dialer-anchors.md
// §1.7, ipcc-behaviour.md §4.5): the open reference algorithm, offered as an
// alternative to Cisco's CPA for tuning comparisons. Zero fields take the
// defaults.
type AsteriskAMDConfig struct {
	InitialSilence       time.Duration // silence before the first word ⇒ machine (2500 ms)
	Greeting             time.Duration // a word run longer than this ⇒ machine (1500 ms)
	AfterGreetingSilence time.Duration // silence after the greeting ⇒ human (800 ms)
	TotalAnalysisTime    time.Duration // then "not sure" (5000 ms)
	MinimumWordLength    time.Duration // shorter voice bursts are noise (100 ms)
	BetweenWordsSilence  time.Duration // silence that separates words (50 ms)
	MaximumNumberOfWords int           // reaching it ⇒ machine (2, the sample's value)
	MaximumWordLength    time.Duration // one word longer ⇒ machine (5000 ms)
	// SilenceThreshold is app_amd's average absolute sample value below
	// which a frame is silence (256, on 16-bit linear samples).
	SilenceThreshold int
}

// DefaultAsteriskAMDConfig returns amd.conf.sample's values.
func DefaultAsteriskAMDConfig() AsteriskAMDConfig {
	return AsteriskAMDConfig{InitialSilence: 2500 * time.Millisecond, Greeting: 1500 * time.Millisecond,
		AfterGreetingSilence: 800 * time.Millisecond, TotalAnalysisTime: 5000 * time.Millisecond,
		MinimumWordLength: 100 * time.Millisecond, BetweenWordsSilence: 50 * time.Millisecond,
		MaximumNumberOfWords: 2, MaximumWordLength: 5000 * time.Millisecond, SilenceThreshold: 256}
}

func (c AsteriskAMDConfig) withDefaults() AsteriskAMDConfig {
	d := DefaultAsteriskAMDConfig()
	set := func(v *time.Duration, def time.Duration) {
		if *v == 0 {
			*v = def
		}
	}
	set(&c.InitialSilence, d.InitialSilence)
	set(&c.Greeting, d.Greeting)
	set(&c.AfterGreetingSilence, d.AfterGreetingSilence)
	set(&c.TotalAnalysisTime, d.TotalAnalysisTime)
	set(&c.MinimumWordLength, d.MinimumWordLength)
	set(&c.BetweenWordsSilence, d.BetweenWordsSilence)
	set(&c.MaximumWordLength, d.MaximumWordLength)
	if c.MaximumNumberOfWords == 0 {
		c.MaximumNumberOfWords = d.MaximumNumberOfWords
	}
	if c.SilenceThreshold == 0 {
		c.SilenceThreshold = d.SilenceThreshold
	}
	return c
}

// AsteriskAMD is app_amd's state machine over 20 ms frames: count words
// (voice runs of at least MinimumWordLength separated by at least
// BetweenWordsSilence); a person says one short word and waits, a machine
// talks long or says many words. Like app_amd it calls too long an initial
// silence a machine, and it has no tone detection, so fax and SIT come out
// as machines (what app_amd users see). Its NOTSURE at the time limit is
// reported as dead air when nothing was heard and as machine otherwise.
type AsteriskAMD struct {
	cfg                  AsteriskAMDConfig
	frames               int
	result               CPAResult
	cause                string
	at                   int
	inWord, heardVoice   bool
	voiceRun, silenceRun int
	words, greetingRun   int
}

// NewAsteriskAMD returns an analyser for one call.
func NewAsteriskAMD(cfg AsteriskAMDConfig) (*AsteriskAMD, error) {
	if cfg.MaximumNumberOfWords < 0 || cfg.SilenceThreshold < 0 {
		return nil, fmt.Errorf("amd: maximum_number_of_words and silence_threshold must not be negative")
	}
	return &AsteriskAMD{cfg: cfg.withDefaults()}, nil
}

func (a *AsteriskAMD) frames20(d time.Duration) int { return int(d / (20 * time.Millisecond)) }

// Feed analyses one 20 ms frame (app_amd works on the same 20 ms frames).
func (a *AsteriskAMD) Feed(pcm []int16) (CPAResult, error) {
	if len(pcm) != media.FrameSamples {
		return a.result, ErrFrameSize
	}
	if a.result != CPAPending {
		return a.result, nil
	}
	a.frames++
	var sum int
	for _, v := range pcm {
		if v < 0 {
			sum -= int(v)
		} else {
			sum += int(v)
		}
	}
	silent := sum/len(pcm) < a.cfg.SilenceThreshold
	if silent {
		a.silenceRun++
		a.voiceRun = 0
		if a.inWord && a.silenceRun >= a.frames20(a.cfg.BetweenWordsSilence) {
			a.inWord = false
		}
		switch {
		case !a.heardVoice && a.silenceRun >= a.frames20(a.cfg.InitialSilence):
			return a.decide(CPAMachine, "INITIALSILENCE"), nil
		case a.heardVoice && a.silenceRun >= a.frames20(a.cfg.AfterGreetingSilence):
			return a.decide(CPALive, "HUMAN"), nil
		}
	} else {
		a.voiceRun++
		if a.voiceRun >= a.frames20(a.cfg.MinimumWordLength) {
			a.silenceRun = 0
			a.heardVoice = true
			if !a.inWord {
				a.inWord = true
				a.words++
				if a.words >= a.cfg.MaximumNumberOfWords {
					return a.decide(CPAMachine, "MAXWORDS"), nil
				}
			}
			if a.voiceRun >= a.frames20(a.cfg.MaximumWordLength) {
				return a.decide(CPAMachine, "MAXWORDLENGTH"), nil
			}
		}
		if a.heardVoice {
			a.greetingRun++
			if a.greetingRun >= a.frames20(a.cfg.Greeting) {
				return a.decide(CPAMachine, "LONGGREETING"), nil
			}
		}
	}
	if a.frames >= a.frames20(a.cfg.TotalAnalysisTime) {
		// app_amd: NOTSURE/TOOLONG. Nothing heard at all is dead air.
		if !a.heardVoice {
			return a.decide(CPADeadAir, "TOOLONG"), nil
		}
		return a.decide(CPAMachine, "TOOLONG"), nil
	}
	return CPAPending, nil
}

func (a *AsteriskAMD) decide(r CPAResult, cause string) CPAResult {
	a.result, a.cause, a.at = r, cause, a.frames
	return r
}

// Result is the decision so far; Cause is app_amd's AMDCAUSE token.
func (a *AsteriskAMD) Result() CPAResult { return a.result }

// Cause is app_amd's AMDCAUSE for the decision (INITIALSILENCE, HUMAN,
// LONGGREETING, MAXWORDS, MAXWORDLENGTH, TOOLONG).
func (a *AsteriskAMD) Cause() string { return a.cause }

// DecidedAfter is the audio time from the first frame to the decision.
func (a *AsteriskAMD) DecidedAfter() time.Duration {
	return time.Duration(a.at) * 20 * time.Millisecond
}
