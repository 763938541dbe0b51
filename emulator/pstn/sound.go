package pstn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/ipcclab/ipcclab/internal/media"
)

// Outcomes beyond the basic four that the voice gateway needs to play (and
// the dialer's call progress analysis to detect). OutcomeAnswer is a live
// person; OutcomeFail is a generic "unobtainable" (vacant number, SIT IC).
const (
	// OutcomeMachine: an answering machine / voicemail picked up.
	OutcomeMachine Outcome = OutcomeFail + 1 + iota
	// OutcomeFax: a fax machine picked up.
	OutcomeFax
	// OutcomeVacantNumber: unassigned or changed number (SIT IC, Q.850 1/22).
	OutcomeVacantNumber
	// OutcomeVacantCode: unassigned area/office code (SIT VC, Q.850 1/2/3).
	OutcomeVacantCode
	// OutcomeNoCircuit: no circuit available (SIT NC, Q.850 34).
	OutcomeNoCircuit
	// OutcomeReorder: equipment irregularity / congestion (SIT RO, Q.850 41/42).
	OutcomeReorder
)

// SoundKind names what the far end of a call sounds like.
type SoundKind int

// Sound kinds.
const (
	// SoundDeadAir is line noise only (the zero value; also used for
	// unknown kinds): answered but nobody speaks.
	SoundDeadAir SoundKind = iota
	// SoundLive is a person answering: "hello?", a wait for the agent, then
	// conversation.
	SoundLive
	// SoundMachine is an answering machine: a long greeting, a beep, then
	// silence while it records.
	SoundMachine
	// SoundFax is a fax CNG tone (1100 Hz, 0.5 s on / 3 s off).
	SoundFax
	// SoundFaxAnswer is what an answering fax machine really sends: CED
	// 2100 Hz for about 3 s, then repeated V.21 bursts (approximated here as
	// 1650 Hz, the mark frequency that dominates HDLC flags).
	SoundFaxAnswer
	// SIT tri-tone followed by a recorded announcement (played twice by
	// default, then the source ends).
	SoundSITNoCircuit
	SoundSITIntercept
	SoundSITVacantCode
	SoundSITReorder
	// SoundRingback is the early-media ringback tone (440+480 Hz, 2 s on /
	// 4 s off).
	SoundRingback
	// SoundBusy is the busy tone (480+620 Hz, 0.5 s on / 0.5 s off).
	SoundBusy
	// SoundCaller is an inbound caller talking with the agent.
	SoundCaller
	numSoundKinds
)

var soundNames = [...]string{"dead-air", "live", "machine", "fax", "fax-answer", "sit-nc", "sit-ic", "sit-vc", "sit-ro",
	"ringback", "busy", "caller"}

func (k SoundKind) String() string {
	if k >= 0 && k < numSoundKinds {
		return soundNames[k]
	}
	return fmt.Sprintf("SoundKind(%d)", int(k))
}

// SIT returns the special information tone the kind starts with
// (media.SITNone for non-SIT kinds).
func (k SoundKind) SIT() media.SITKind {
	switch k {
	case SoundSITNoCircuit:
		return media.SITNoCircuit
	case SoundSITIntercept:
		return media.SITIntercept
	case SoundSITVacantCode:
		return media.SITVacantCode
	case SoundSITReorder:
		return media.SITReorder
	}
	return media.SITNone
}

// AnsweredSound is what the far end sounds like after it answered (200 OK);
// ok is false for outcomes that are never answered.
func (o Outcome) AnsweredSound() (kind SoundKind, ok bool) {
	switch o {
	case OutcomeAnswer:
		return SoundLive, true
	case OutcomeMachine:
		return SoundMachine, true
	case OutcomeFax:
		return SoundFax, true
	}
	return SoundDeadAir, false
}

// EarlyMedia is what the caller hears before the final response or the
// answer (183 Session Progress): ringback while an answering or unanswered
// call rings, busy tone for busy, SIT plus announcement for network
// failures. ok is false for OutcomePending and unknown outcomes.
func (o Outcome) EarlyMedia() (kind SoundKind, ok bool) {
	switch o {
	case OutcomeAnswer, OutcomeMachine, OutcomeFax, OutcomeNoAnswer:
		return SoundRingback, true
	case OutcomeBusy:
		return SoundBusy, true
	case OutcomeFail, OutcomeVacantNumber:
		return SoundSITIntercept, true
	case OutcomeVacantCode:
		return SoundSITVacantCode, true
	case OutcomeNoCircuit:
		return SoundSITNoCircuit, true
	case OutcomeReorder:
		return SoundSITReorder, true
	}
	return SoundDeadAir, false
}

// SoundOptions tune a Sound. Zero fields take the defaults.
type SoundOptions struct {
	// SpeechDBm0 is the talker's RMS level over active speech; 0 draws one
	// per call in -23..-17 dBm0.
	SpeechDBm0 float64
	// NoiseDBm0 is the background (line) noise level mixed into every
	// frame; 0 means -65 dBm0, and anything at or below media.SilenceDBm0
	// (-100) means no noise at all.
	NoiseDBm0 float64
	// BeepHz is the answering machine's beep frequency; 0 draws one
	// (1000 Hz ± 50 half the time, otherwise 440..2000 Hz).
	BeepHz float64
	// Announcements is how many times a SIT kind plays SIT + announcement
	// before the source ends (0 means 2).
	Announcements int
}

// SegmentKind classifies a Segment.
type SegmentKind string

// Segment kinds.
const (
	SegSilence SegmentKind = "silence"
	SegSpeech  SegmentKind = "speech"
	SegTone    SegmentKind = "tone"
)

// Segment is one stretch of a Sound's script. Simulations can use the
// script instead of samples (e.g. AMD on talk spurts and silences).
//
// Labels: live "pickup", "hello", "wait", then "talk"/"pause"; machine
// "pickup", "greeting"/"greeting-pause", "pre-beep", "beep", "recording";
// fax "cng"/"cng-off"; answering fax "pickup", "ced", "v21"/"v21-off"; SIT "sit",
// "announcement"/"announcement-pause", "gap"; ringback "ring"/"ring-off";
// busy "busy"/"busy-off"; caller "talk"/"pause"; dead air "dead-air".
type Segment struct {
	Kind  SegmentKind
	Label string
	Start time.Duration // offset from the start of the sound
	// Dur is the length; 0 means open-ended (lasts until the call ends,
	// only ever the last segment).
	Dur time.Duration
	// Tone is the tone name (media.Tone.Name) and Freq the frequency of a
	// single-frequency tone (beep, CNG, CED) for SegTone segments.
	Tone string
	Freq float64
	// LevelDBm0 is the speech RMS level or the tone level (per component).
	LevelDBm0 float64
}

// End returns Start+Dur (Start for an open-ended segment).
func (s Segment) End() time.Duration { return s.Start + s.Dur }

// Open reports whether the segment lasts until the call ends.
func (s Segment) Open() bool { return s.Dur <= 0 }

// step is a planned segment with what is needed to render it.
type step struct {
	seg     Segment
	samples int64 // 0 = open-ended
	tone    media.Tone
}

const samplePeriod = time.Second / media.SampleRate

// keepSteps is how many finished segments a Sound remembers for Script.
const keepSteps = 32

// Sound is the far end's audio for one call: a media.Source whose script
// (talk spurts, silences, tones) is planned lazily from one seeded stream
// and whose samples come from another, so the script does not depend on how
// many samples were read and the same seed always gives the same audio.
type Sound struct {
	kind  SoundKind
	plan  *rand.Rand  // segment durations
	wave  *rand.Rand  // speech samples
	hiss  *rand.Rand  // background noise samples
	hissG media.Gauss // the noise walk, seeded from hiss
	noise float64     // noise standard deviation (0 = none)

	speechDBm0 float64
	beepHz     float64
	cycles     int

	steps   []step // steps[0] is step number base
	base    int
	planned bool // the plan reached its end (finite or open-ended)
	phase   int  // planner state
	planAt  int64

	cur    int   // index of the step being rendered
	left   int64 // samples left in it (<0: open-ended)
	speech *media.SpeechGenerator
	tone   *media.ToneGenerator
	pos    int64
	ended  bool
}

// NewSound returns the sound of kind, drawing everything from r (three
// sub-streams are taken from it at once: plan, speech and noise, so the
// script and the samples do not depend on how the audio is read).
func NewSound(kind SoundKind, r *rand.Rand, opts SoundOptions) *Sound {
	if kind < 0 || kind >= numSoundKinds {
		kind = SoundDeadAir
	}
	s := &Sound{kind: kind}
	s.plan = rand.New(rand.NewPCG(r.Uint64(), r.Uint64()))
	s.wave = rand.New(rand.NewPCG(r.Uint64(), r.Uint64()))
	s.hiss = rand.New(rand.NewPCG(r.Uint64(), r.Uint64()))
	s.hissG = media.NewGauss(s.hiss)
	switch {
	case opts.NoiseDBm0 == 0:
		s.noise = math.Sqrt(media.DBm0ToMeanSquare(-65))
	case opts.NoiseDBm0 > media.SilenceDBm0:
		s.noise = math.Sqrt(media.DBm0ToMeanSquare(opts.NoiseDBm0))
	}
	s.speechDBm0 = opts.SpeechDBm0
	if s.speechDBm0 == 0 {
		s.speechDBm0 = -23 + 6*s.plan.Float64()
	}
	s.beepHz = opts.BeepHz
	if kind == SoundMachine && s.beepHz <= 0 {
		if s.plan.IntN(2) == 0 {
			s.beepHz = 950 + 100*s.plan.Float64()
		} else {
			s.beepHz = 440 + 1560*s.plan.Float64()
		}
	}
	s.cycles = opts.Announcements
	if s.cycles <= 0 {
		s.cycles = 2
	}
	s.cur = -1
	return s
}

// Kind returns the sound's kind.
func (s *Sound) Kind() SoundKind { return s.kind }

// SpeechDBm0 returns the talker level used for speech segments.
func (s *Sound) SpeechDBm0() float64 { return s.speechDBm0 }

// BeepHz returns the answering machine's beep frequency (0 for other kinds).
func (s *Sound) BeepHz() float64 {
	if s.kind != SoundMachine {
		return 0
	}
	return s.beepHz
}

// Elapsed returns how much audio has been read.
func (s *Sound) Elapsed() time.Duration { return time.Duration(s.pos) * samplePeriod }

// Current returns the segment the next sample belongs to (false once the
// sound has ended).
func (s *Sound) Current() (Segment, bool) {
	i := s.cur
	if s.left == 0 {
		i++
	}
	if s.ended || !s.ensure(i) {
		return Segment{}, false
	}
	return s.steps[i-s.base].seg, true
}

// Script returns the planned segments from the start covering at least
// horizon (all of them if the sound ends or turns open-ended earlier). It
// does not disturb the samples. To bound memory on long calls, ReadFrame
// forgets segments more than keepSteps behind the one playing; the script
// then starts at the earliest segment kept.
func (s *Sound) Script(horizon time.Duration) []Segment {
	var out []Segment
	for i := s.base; ; i++ {
		if !s.ensure(i) {
			break
		}
		seg := s.steps[i-s.base].seg
		out = append(out, seg)
		if seg.Open() || seg.End() >= horizon {
			break
		}
	}
	return out
}

// Ended reports whether a finite sound has been read to its end.
func (s *Sound) Ended() bool { return s.ended }

// ReadFrame fills dst with the next len(dst) samples (normally
// media.FrameSamples). It returns false, with dst silent, once the sound has
// ended; only the SIT kinds end.
func (s *Sound) ReadFrame(dst []int16) (more bool) {
	if s.ended {
		clear(dst)
		return false
	}
	n := 0
	for n < len(dst) {
		if s.left == 0 {
			if !s.next() {
				s.ended = true
				clear(dst[n:])
				break
			}
		}
		k := len(dst) - n
		if s.left > 0 && int64(k) > s.left {
			k = int(s.left)
		}
		s.render(dst[n : n+k])
		n += k
		if s.left > 0 {
			s.left -= int64(k)
		}
	}
	s.pos += int64(n)
	if n == 0 {
		return false
	}
	if s.noise > 0 {
		for i, v := range dst[:n] {
			x := float64(v) + s.noise*s.hissG.Next()
			dst[i] = int16(max(-32768, min(32767, math.Round(x))))
		}
	}
	return true
}

// next moves to the following step and sets up its renderer.
func (s *Sound) next() bool {
	if !s.ensure(s.cur + 1) {
		return false
	}
	s.cur++
	if s.cur-s.base >= 2*keepSteps {
		drop := s.cur - s.base - keepSteps
		n := copy(s.steps, s.steps[drop:])
		clear(s.steps[n:])
		s.steps = s.steps[:n]
		s.base += drop
	}
	st := &s.steps[s.cur-s.base]
	s.left = st.samples
	if st.samples == 0 {
		s.left = -1
	}
	s.speech, s.tone = nil, nil
	switch st.seg.Kind {
	case SegSpeech:
		ms := int(st.samples * 1000 / media.SampleRate)
		s.speech = media.NewSpeechGenerator(media.SpeechConfig{LevelDBm0: st.seg.LevelDBm0, Pattern: []int{ms}}, s.wave)
	case SegTone:
		s.tone = media.NewToneGenerator(st.tone)
	}
	return true
}

func (s *Sound) render(dst []int16) {
	switch {
	case s.speech != nil:
		s.speech.Read(dst)
	case s.tone != nil:
		s.tone.Read(dst)
	default:
		clear(dst)
	}
}

// ensure plans steps until index i exists; false if the plan ends first.
func (s *Sound) ensure(i int) bool {
	for s.base+len(s.steps) <= i {
		if s.planned {
			return false
		}
		s.planMore()
	}
	return true
}

// ms draws a whole number of milliseconds in [lo, hi].
func (s *Sound) ms(lo, hi int) int {
	if hi <= lo {
		return lo
	}
	return lo + s.plan.IntN(hi-lo+1)
}

func (s *Sound) add(kind SegmentKind, label string, ms int, t media.Tone) {
	n := int64(media.MsToSamples(ms))
	seg := Segment{Kind: kind, Label: label, Start: time.Duration(s.planAt) * samplePeriod,
		Dur: time.Duration(n) * samplePeriod, Tone: t.Name}
	switch kind {
	case SegSpeech:
		seg.LevelDBm0 = s.speechDBm0
	case SegTone:
		if len(t.Segments) > 0 && len(t.Segments[0].Components) > 0 {
			c := t.Segments[0].Components
			seg.LevelDBm0 = c[0].LevelDBm0
			if len(c) == 1 {
				seg.Freq = c[0].Freq
			}
		}
		// A fresh copy whose (single) segment lasts the step.
		segs := append([]media.ToneSegment(nil), t.Segments...)
		if len(segs) == 1 {
			segs[0].DurationMs = ms
		}
		t = media.Tone{Name: t.Name, Segments: segs}
	}
	if ms <= 0 { // open-ended (silence only)
		n, seg.Dur = 0, 0
		s.planned = true
	}
	s.steps = append(s.steps, step{seg: seg, samples: n, tone: t})
	s.planAt += n
}

func (s *Sound) silence(label string, ms int) { s.add(SegSilence, label, ms, media.Tone{}) }
func (s *Sound) talk(label string, ms int)    { s.add(SegSpeech, label, ms, media.Tone{}) }

// onTone plays the first (sounding) segment of t for ms.
func (s *Sound) onTone(label string, t media.Tone, ms int) {
	seg := t.Segments[0]
	seg.DurationMs = ms
	s.add(SegTone, label, ms, media.Tone{Name: t.Name, Segments: []media.ToneSegment{seg}})
}

func single(name string, freq, dbm0 float64, ms int) media.Tone {
	return media.Tone{Name: name, Segments: []media.ToneSegment{{Components: []media.ToneComponent{{Freq: freq, LevelDBm0: dbm0}}, DurationMs: ms}}}
}

// conversation appends one talk spurt and one pause (Brady-like: spurts
// about 0.4–2.5 s, pauses while the other side talks 0.3–3 s).
func (s *Sound) conversation() {
	s.talk("talk", s.ms(400, 2500))
	s.silence("pause", s.ms(300, 3000))
}

// planMore appends the next planned steps for the kind.
func (s *Sound) planMore() {
	ph := s.phase
	s.phase++
	switch s.kind {
	case SoundLive:
		if ph == 0 {
			s.silence("pickup", s.ms(150, 600))
			s.talk("hello", s.ms(400, 1200))
			s.silence("wait", s.ms(1000, 3000))
			return
		}
		s.conversation()
	case SoundCaller:
		if ph == 0 {
			s.silence("pickup", s.ms(100, 500))
		}
		s.conversation()
	case SoundMachine:
		s.silence("pickup", s.ms(100, 800))
		total := s.ms(3000, 12000)
		for got := 0; ; {
			w := s.ms(600, 2500)
			if total-got-w < 1000 { // no runt at the end
				w = total - got
			}
			s.talk("greeting", w)
			got += w
			if got >= total {
				break
			}
			p := s.ms(80, 380)
			s.silence("greeting-pause", p)
			got += p
		}
		s.silence("pre-beep", s.ms(200, 800))
		s.add(SegTone, "beep", s.ms(300, 1000), single("beep", s.beepHz, -18+8*s.plan.Float64(), 0))
		s.silence("recording", 0)
	case SoundFax:
		c := media.FaxCNG()
		s.onTone("cng", c, c.Segments[0].DurationMs)
		s.silence("cng-off", c.Segments[1].DurationMs)
	case SoundFaxAnswer:
		if ph == 0 {
			s.silence("pickup", s.ms(200, 700))
			s.add(SegTone, "ced", s.ms(2600, 4000), single("fax CED", 2100, -12, 0))
			s.silence("v21-off", 75)
		}
		s.add(SegTone, "v21", s.ms(900, 1200), single("V.21 preamble", 1650, -12, 0))
		s.silence("v21-off", 3000)
	case SoundSITNoCircuit, SoundSITIntercept, SoundSITVacantCode, SoundSITReorder:
		sit := media.SITTone(s.kind.SIT())
		s.add(SegTone, "sit", sit.DurationMs(), sit)
		s.silence("gap", s.ms(100, 400))
		total, got := s.ms(3500, 8000), 0
		for got < total {
			w := s.ms(800, 2500)
			if total-got-w < 1000 {
				w = total - got
			}
			s.talk("announcement", w)
			got += w
			if got < total {
				p := s.ms(150, 450)
				s.silence("announcement-pause", p)
				got += p
			}
		}
		if s.phase >= s.cycles {
			s.silence("gap", s.ms(300, 1000))
			s.planned = true
			return
		}
		s.silence("gap", s.ms(800, 1500))
	case SoundRingback:
		t := media.Ringback()
		s.onTone("ring", t, t.Segments[0].DurationMs)
		s.silence("ring-off", t.Segments[1].DurationMs)
	case SoundBusy:
		t := media.Busy()
		s.onTone("busy", t, t.Segments[0].DurationMs)
		s.silence("busy-off", t.Segments[1].DurationMs)
	default:
		s.silence("dead-air", 0)
	}
}
