// Package media is the pure audio foundation of IPCC Lab: 8 kHz mono voice in
// 20 ms frames (160 samples), the project's only voice format.
//
// It provides
//
//   - G.711 µ-law/A-law frame coding (wrapping github.com/zaf/g711) with
//     zero-allocation forms that write into caller buffers;
//   - levels in dBm0 (FrameDBm0, DBm0ToAmplitude) and a hangover VAD;
//   - a phase-continuous multi-tone generator with cadences and presets for
//     DTMF, ringback, busy, SIT tri-tones, fax CNG and answering-machine beeps;
//   - Goertzel filter banks, a DTMF detector (row/column, twist, relative
//     energy, minimum duration, debouncing) and a single-tone detector for
//     SIT sequences, CNG and beeps;
//   - RFC 4733 telephone-event payloads and a sender state machine whose
//     packets drop straight into github.com/pion/rtp Packets;
//   - a seeded speech-like signal generator (talk spurts and silences with
//     syllable-rate modulation of formant-filtered noise).
//
// These serve IVR digit collection (in-band and RFC 4733), the call progress
// and answering-machine analysis of the dialer (VAD, SIT, CNG, beep) and
// tone checks in the conformance specs.
//
// The package is a pure core/codec: it never reads the clock, sleeps, starts
// goroutines, opens sockets or files, or uses global randomness. Time is
// counted in samples; randomness comes only from a caller-supplied
// *rand.Rand (math/rand/v2), so the same seed yields identical frames.
package media

import "math"

const (
	// SampleRate is the sampling rate of all signals, in Hz.
	SampleRate = 8000
	// FrameSamples is the number of samples in one 20 ms frame.
	FrameSamples = 160
	// FrameMs is the frame duration in milliseconds.
	FrameMs = 20
	// FullScaleSineDBm0 is the level of a full-scale sine in G.711 (µ-law
	// +3.17 dBm0; A-law is +3.14 dBm0, the difference is ignored here).
	FullScaleSineDBm0 = 3.17
)

// SilenceDBm0 is the level reported for an all-zero frame.
const SilenceDBm0 = -100.0

// refMeanSquare is the mean square (in 16-bit linear units) of a 0 dBm0 sine.
var refMeanSquare = func() float64 {
	peak := 32768 * math.Pow(10, -FullScaleSineDBm0/20)
	return peak * peak / 2
}()

// MsToSamples converts milliseconds to samples at SampleRate.
func MsToSamples(ms int) int { return ms * SampleRate / 1000 }

// DBm0ToAmplitude returns the peak amplitude (16-bit linear) of a sine of
// the given level.
func DBm0ToAmplitude(dbm0 float64) float64 {
	return math.Sqrt(2*refMeanSquare) * math.Pow(10, dbm0/20)
}

// MeanSquareToDBm0 converts a mean square (16-bit linear units) to dBm0;
// zero maps to SilenceDBm0.
func MeanSquareToDBm0(ms float64) float64 {
	if ms <= 0 {
		return SilenceDBm0
	}
	l := 10 * math.Log10(ms/refMeanSquare)
	if l < SilenceDBm0 {
		return SilenceDBm0
	}
	return l
}

// DBm0ToMeanSquare is the inverse of MeanSquareToDBm0.
func DBm0ToMeanSquare(dbm0 float64) float64 { return refMeanSquare * math.Pow(10, dbm0/10) }

// MeanSquare returns the mean of the squared samples (0 for an empty slice).
func MeanSquare(pcm []int16) float64 {
	if len(pcm) == 0 {
		return 0
	}
	var s float64
	for _, v := range pcm {
		f := float64(v)
		s += f * f
	}
	return s / float64(len(pcm))
}

// FrameDBm0 returns the RMS level of pcm in dBm0.
func FrameDBm0(pcm []int16) float64 { return MeanSquareToDBm0(MeanSquare(pcm)) }

// Mix adds src into dst sample by sample with saturation (len(dst) samples).
func Mix(dst, src []int16) {
	for i := range dst {
		if i >= len(src) {
			return
		}
		dst[i] = sat16(float64(dst[i]) + float64(src[i]))
	}
}

func sat16(v float64) int16 {
	if v > 32767 {
		return 32767
	}
	if v < -32768 {
		return -32768
	}
	return int16(math.Round(v))
}

// Source produces audio one 20 ms frame at a time: ReadFrame fills dst
// (FrameSamples samples) and reports false once the source has ended, in
// which case dst holds silence. Sources are pure (seeded, no clocks), so the
// same call sounds the same in the simulation and on the wire.
type Source interface {
	ReadFrame(dst []int16) (more bool)
}
