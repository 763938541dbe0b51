package media

import (
	"fmt"
	"math"
)

// ToneComponent is one sine of a tone segment.
type ToneComponent struct {
	Freq      float64 // Hz
	LevelDBm0 float64 // level of this sine alone
}

// ToneSegment is a stretch of a tone: the sum of its components (none means
// silence) lasting DurationMs.
type ToneSegment struct {
	Components []ToneComponent
	DurationMs int
}

// Tone is a cadenced tone: segments played in order, repeated if Repeat.
type Tone struct {
	Name     string
	Segments []ToneSegment
	Repeat   bool
}

// DurationMs returns the length of one pass over the segments.
func (t Tone) DurationMs() int {
	d := 0
	for _, s := range t.Segments {
		d += s.DurationMs
	}
	return d
}

// ToneGenerator renders a Tone sample by sample. Each component slot keeps a
// running phase across frames and segments, so the output is phase
// continuous whatever the frame size.
type ToneGenerator struct {
	tone   Tone
	seg    int // current segment
	left   int // samples left in current segment
	phase  []float64
	amps   [][]float64 // per segment, per component peak amplitude
	incs   [][]float64 // per segment, per component phase increment
	done   bool
	sample int64
}

// NewToneGenerator returns a generator positioned at the start of t.
func NewToneGenerator(t Tone) *ToneGenerator {
	g := &ToneGenerator{tone: t}
	maxc := 0
	for _, s := range t.Segments {
		maxc = max(maxc, len(s.Components))
		a := make([]float64, len(s.Components))
		inc := make([]float64, len(s.Components))
		for i, c := range s.Components {
			a[i] = DBm0ToAmplitude(c.LevelDBm0)
			inc[i] = 2 * math.Pi * c.Freq / SampleRate
		}
		g.amps = append(g.amps, a)
		g.incs = append(g.incs, inc)
	}
	g.phase = make([]float64, maxc)
	g.seg = -1
	g.advance()
	return g
}

// advance moves to the next segment with a non-zero length.
func (g *ToneGenerator) advance() {
	for tries := 0; tries <= len(g.tone.Segments); tries++ {
		g.seg++
		if g.seg >= len(g.tone.Segments) {
			if !g.tone.Repeat || len(g.tone.Segments) == 0 {
				g.done = true
				return
			}
			g.seg = 0
		}
		g.left = MsToSamples(g.tone.Segments[g.seg].DurationMs)
		if g.left > 0 {
			return
		}
	}
	g.done = true
}

// Done reports whether a non-repeating tone has finished.
func (g *ToneGenerator) Done() bool { return g.done }

// Sample returns the number of samples produced so far.
func (g *ToneGenerator) Sample() int64 { return g.sample }

// Read fills dst with the next len(dst) samples (zeros once done). It does
// not allocate.
func (g *ToneGenerator) Read(dst []int16) {
	for i := range dst {
		g.sample++
		if g.done {
			dst[i] = 0
			continue
		}
		var v float64
		amps, incs := g.amps[g.seg], g.incs[g.seg]
		for k := range amps {
			v += amps[k] * math.Sin(g.phase[k])
			g.phase[k] += incs[k]
			if g.phase[k] > 2*math.Pi {
				g.phase[k] -= 2 * math.Pi
			}
		}
		dst[i] = sat16(v)
		g.left--
		if g.left <= 0 {
			g.advance()
		}
	}
}

// DTMF frequencies (ITU-T Q.23).
var (
	DTMFRowFreqs = [4]float64{697, 770, 852, 941}
	DTMFColFreqs = [4]float64{1209, 1336, 1477, 1633}
)

// dtmfKeys is the keypad laid out by row then column.
const dtmfKeys = "123A456B789C*0#D"

// Default DTMF generation levels (per tone; high group 2 dB above low group).
const (
	DTMFLowLevelDBm0  = -7.0
	DTMFHighLevelDBm0 = -5.0
)

// DTMFFreqs returns the row and column frequencies of a digit
// (0-9, *, #, A-D; lower-case a-d accepted).
func DTMFFreqs(digit byte) (row, col float64, err error) {
	if digit >= 'a' && digit <= 'd' {
		digit -= 'a' - 'A'
	}
	for i := 0; i < len(dtmfKeys); i++ {
		if dtmfKeys[i] == digit {
			return DTMFRowFreqs[i/4], DTMFColFreqs[i%4], nil
		}
	}
	return 0, 0, fmt.Errorf("media: %q is not a DTMF digit", digit)
}

// DTMFTone returns a digit played for onMs followed by offMs of silence (not
// repeated), at the default levels.
func DTMFTone(digit byte, onMs, offMs int) (Tone, error) {
	r, c, err := DTMFFreqs(digit)
	if err != nil {
		return Tone{}, err
	}
	return Tone{
		Name: "DTMF " + string(digit),
		Segments: []ToneSegment{
			{Components: []ToneComponent{{r, DTMFLowLevelDBm0}, {c, DTMFHighLevelDBm0}}, DurationMs: onMs},
			{DurationMs: offMs},
		},
	}, nil
}

// DTMFSequence returns the digits, each on for onMs and followed by offMs.
func DTMFSequence(digits string, onMs, offMs int) (Tone, error) {
	t := Tone{Name: "DTMF " + digits}
	for i := 0; i < len(digits); i++ {
		d, err := DTMFTone(digits[i], onMs, offMs)
		if err != nil {
			return Tone{}, err
		}
		t.Segments = append(t.Segments, d.Segments...)
	}
	return t, nil
}

// Ringback is the North American ringback tone: 440+480 Hz at -19 dBm0,
// 2 s on, 4 s off, repeating.
func Ringback() Tone {
	return Tone{Name: "ringback", Repeat: true, Segments: []ToneSegment{
		{Components: []ToneComponent{{440, -19}, {480, -19}}, DurationMs: 2000},
		{DurationMs: 4000},
	}}
}

// Busy is the North American busy tone: 480+620 Hz at -24 dBm0, 0.5 s on,
// 0.5 s off, repeating.
func Busy() Tone {
	return Tone{Name: "busy", Repeat: true, Segments: []ToneSegment{
		{Components: []ToneComponent{{480, -24}, {620, -24}}, DurationMs: 500},
		{DurationMs: 500},
	}}
}

// FaxCNGFreq is the calling-fax tone frequency.
const FaxCNGFreq = 1100.0

// FaxCNG is the calling-fax tone: 1100 Hz, 0.5 s on, 3 s off, repeating.
func FaxCNG() Tone {
	return Tone{Name: "fax CNG", Repeat: true, Segments: []ToneSegment{
		{Components: []ToneComponent{{FaxCNGFreq, -12}}, DurationMs: 500},
		{DurationMs: 3000},
	}}
}

// Beep is a single answering-machine style beep: freq Hz for durMs at
// -12 dBm0 (not repeated). Beep(1000, 500) is the usual test beep.
func Beep(freq float64, durMs int) Tone {
	return Tone{Name: "beep", Segments: []ToneSegment{
		{Components: []ToneComponent{{freq, -12}}, DurationMs: durMs},
	}}
}

// SITKind identifies a special information tone sequence.
type SITKind uint8

const (
	SITNone SITKind = iota
	// SITNoCircuit (NC): 985.2/380, 1428.5/380, 1776.7/380.
	SITNoCircuit
	// SITIntercept (IC): 913.8/274, 1370.6/274, 1776.7/380.
	SITIntercept
	// SITVacantCode (VC): 985.2/380, 1370.6/274, 1776.7/380.
	SITVacantCode
	// SITReorder (RO): 913.8/274, 1428.5/380, 1776.7/380.
	SITReorder
	// SITITU is the ITU-T E.180/Q.35 SIT: 950, 1400, 1800 Hz, 330 ms each.
	SITITU
)

func (k SITKind) String() string {
	switch k {
	case SITNone:
		return "none"
	case SITNoCircuit:
		return "NC"
	case SITIntercept:
		return "IC"
	case SITVacantCode:
		return "VC"
	case SITReorder:
		return "RO"
	case SITITU:
		return "ITU"
	}
	return fmt.Sprintf("SITKind(%d)", uint8(k))
}

// SIT frequencies (North American and ITU).
const (
	SITLow1  = 913.8
	SITHigh1 = 985.2
	SITLow2  = 1370.6
	SITHigh2 = 1428.5
	SIT3     = 1776.7
	SITITU1  = 950.0
	SITITU2  = 1400.0
	SITITU3  = 1800.0
	// SIT segment durations.
	SITShortMs = 274
	SITLongMs  = 380
	SITITUMs   = 330
	// SITLevelDBm0 is the generation level of each SIT segment.
	SITLevelDBm0 = -24.0
)

// SITFreqs lists every SIT frequency the detector looks for.
var SITFreqs = []float64{SITLow1, SITHigh1, SITLow2, SITHigh2, SIT3, SITITU1, SITITU2, SITITU3}

// SITTone returns the three-tone sequence of kind (not repeated), with no
// gaps between tones. It returns an empty Tone for SITNone.
func SITTone(kind SITKind) Tone {
	seg := func(f float64, ms int) ToneSegment {
		return ToneSegment{Components: []ToneComponent{{f, SITLevelDBm0}}, DurationMs: ms}
	}
	t := Tone{Name: "SIT " + kind.String()}
	switch kind {
	case SITNoCircuit:
		t.Segments = []ToneSegment{seg(SITHigh1, SITLongMs), seg(SITHigh2, SITLongMs), seg(SIT3, SITLongMs)}
	case SITIntercept:
		t.Segments = []ToneSegment{seg(SITLow1, SITShortMs), seg(SITLow2, SITShortMs), seg(SIT3, SITLongMs)}
	case SITVacantCode:
		t.Segments = []ToneSegment{seg(SITHigh1, SITLongMs), seg(SITLow2, SITShortMs), seg(SIT3, SITLongMs)}
	case SITReorder:
		t.Segments = []ToneSegment{seg(SITLow1, SITShortMs), seg(SITHigh2, SITLongMs), seg(SIT3, SITLongMs)}
	case SITITU:
		t.Segments = []ToneSegment{seg(SITITU1, SITITUMs), seg(SITITU2, SITITUMs), seg(SITITU3, SITITUMs)}
	}
	return t
}
