package pstn

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/ipcclab/ipcclab/internal/media"
)

const frameDur = media.FrameMs * time.Millisecond

func seeded(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed^0x5eed)) }

// render reads d of audio (whole frames) and returns the samples.
func render(s *Sound, d time.Duration) []int16 {
	n := int(d / frameDur)
	out := make([]int16, 0, n*media.FrameSamples)
	f := make([]int16, media.FrameSamples)
	for range n {
		s.ReadFrame(f)
		out = append(out, f...)
	}
	return out
}

func frames(pcm []int16) [][]int16 {
	var fs [][]int16
	for i := 0; i+media.FrameSamples <= len(pcm); i += media.FrameSamples {
		fs = append(fs, pcm[i:i+media.FrameSamples])
	}
	return fs
}

// vadRuns returns the VAD decision per frame.
func vadRuns(pcm []int16) []bool {
	v := media.NewVAD(media.VADConfig{})
	var out []bool
	for _, f := range frames(pcm) {
		a, _ := v.Process(f)
		out = append(out, a)
	}
	return out
}

// runs splits decisions into (value, length) runs.
type run struct {
	on   bool
	from int
	n    int
}

func toRuns(d []bool) []run {
	var rs []run
	for i, v := range d {
		if len(rs) > 0 && rs[len(rs)-1].on == v {
			rs[len(rs)-1].n++
			continue
		}
		rs = append(rs, run{v, i, 1})
	}
	return rs
}

func tones(det *media.ToneDetector, pcm []int16) []media.ToneEvent {
	ev := det.Process(pcm, nil)
	return det.Flush(ev)
}

// TestLiveSaysHelloThenWaits: a person answers with a short talk spurt and
// then at least 600 ms of silence (Cisco minSilencePeriod 608 ms, Asterisk
// afterGreetingSilence 800 ms) within the first 3 s.
func TestLiveSaysHelloThenWaits(t *testing.T) {
	for seed := range uint64(25) {
		s := NewSound(SoundLive, seeded(seed), SoundOptions{})
		rs := toRuns(vadRuns(render(s, 3*time.Second)))
		i := slices.IndexFunc(rs, func(r run) bool { return r.on })
		if i < 0 || i+1 >= len(rs) {
			t.Fatalf("seed %d: no speech then silence in 3 s: %v", seed, rs)
		}
		speech, quiet := rs[i], rs[i+1]
		if ms := speech.n * media.FrameMs; ms < 300 || ms > 1400 {
			t.Errorf("seed %d: hello lasts %d ms, want 0.3..1.4 s", seed, ms)
		}
		if quiet.n < 30 {
			t.Errorf("seed %d: silence after hello %d ms < 600 ms (runs %v)", seed, quiet.n*media.FrameMs, rs)
		}
		if (quiet.from+30)*media.FrameMs > 3000 {
			t.Errorf("seed %d: 600 ms of silence not complete within 3 s", seed)
		}
		sc := s.Script(3 * time.Second)
		if sc[1].Label != "hello" || sc[1].Kind != SegSpeech || sc[2].Label != "wait" {
			t.Errorf("seed %d: script starts %+v", seed, sc[:3])
		}
	}
}

// TestLiveConversationRhythm: after the wait the person talks in spurts and
// pauses, so over 60 s there are many spurts and a realistic talk share.
func TestLiveConversationRhythm(t *testing.T) {
	for _, k := range []SoundKind{SoundLive, SoundCaller} {
		s := NewSound(k, seeded(3), SoundOptions{})
		rs := toRuns(vadRuns(render(s, 60*time.Second)))
		spurts, on := 0, 0
		for _, r := range rs {
			if r.on {
				spurts++
				on += r.n
			}
		}
		share := float64(on) / 3000
		if spurts < 12 || spurts > 60 || share < 0.25 || share > 0.75 {
			t.Errorf("%v: %d spurts, talk share %.2f in 60 s", k, spurts, share)
		}
	}
}

// TestMachineGreetingThenBeep: continuous speech longer than 2.5 s (no
// silence of 400 ms or more), then a beep the Goertzel filter at the drawn
// frequency and the beep detector both find.
func TestMachineGreetingThenBeep(t *testing.T) {
	for seed := range uint64(20) {
		s := NewSound(SoundMachine, seeded(seed), SoundOptions{})
		pcm := render(s, 16*time.Second)
		rs := toRuns(vadRuns(pcm))
		first := slices.IndexFunc(rs, func(r run) bool { return r.on })
		if first < 0 {
			t.Fatalf("seed %d: no speech", seed)
		}
		// Speech extends until the first silence of >= 400 ms.
		end := len(rs)
		for j := first + 1; j < len(rs); j++ {
			if !rs[j].on && rs[j].n >= 20 {
				end = j
				break
			}
		}
		if end == len(rs) {
			t.Fatalf("seed %d: greeting never ends", seed)
		}
		greet := (rs[end].from - rs[first].from) * media.FrameMs
		if greet < 2500 {
			t.Errorf("seed %d: greeting %d ms, want > 2500 ms of continuous speech", seed, greet)
		}
		var beep Segment
		for _, sg := range s.Script(20 * time.Second) {
			if sg.Label == "beep" {
				beep = sg
			}
		}
		hz := s.BeepHz()
		if beep.Freq != hz || hz < 440 || hz > 2000 || beep.Dur < 300*time.Millisecond || beep.Dur > time.Second {
			t.Fatalf("seed %d: beep %+v, BeepHz %v", seed, beep, hz)
		}
		// Goertzel at the drawn frequency over the beep's whole frames.
		from := int((beep.Start+frameDur-1)/frameDur) * media.FrameSamples
		to := int(beep.End()/frameDur) * media.FrameSamples
		for i := from; i+media.FrameSamples <= to; i += media.FrameSamples {
			f := pcm[i : i+media.FrameSamples]
			if p, ms := media.Goertzel(f, hz), media.MeanSquare(f); p < 0.8*ms {
				t.Fatalf("seed %d: frame at %d: Goertzel(%.0f Hz) %.0f of %.0f", seed, i, hz, p, ms)
			}
		}
		// A tone detector tuned to the drawn frequency finds it; so does the
		// generic beep detector (filters every 25 Hz) unless the beep falls
		// about midway between two of its filters, where the strongest filter
		// flips from window to window and no segment forms (a limitation of
		// media.NewBeepDetector, not of the sound).
		detectors := []*media.ToneDetector{media.NewToneDetector(media.ToneDetectorConfig{Freqs: []float64{hz}, MinDurationMs: 250})}
		if off := math.Abs(hz - 25*math.Round(hz/25)); off <= 8 {
			detectors = append(detectors, media.NewBeepDetector(250))
		}
		for _, det := range detectors {
			found := false
			for _, e := range tones(det, pcm) {
				at := time.Duration(e.Start) * samplePeriod
				if at >= beep.Start-40*time.Millisecond && at < beep.End() && math.Abs(e.Freq-hz) <= 12.5 &&
					e.DurationMs() >= int(beep.Dur/time.Millisecond)-60 {
					found = true
				}
			}
			if !found {
				t.Errorf("seed %d: %v missed the %.1f Hz beep at %v", seed, det.Config().Freqs[:1], hz, beep.Start)
			}
		}
		// After the beep: silence (noise only) while it records.
		for _, f := range frames(pcm[to+8*media.FrameSamples:]) {
			if l := media.FrameDBm0(f); l > -55 {
				t.Fatalf("seed %d: %.1f dBm0 after the beep", seed, l)
			}
		}
	}
}

func TestFaxCNG(t *testing.T) {
	s := NewSound(SoundFax, seeded(1), SoundOptions{})
	ev := tones(media.NewCNGDetector(), render(s, 11*time.Second))
	if len(ev) != 4 {
		t.Fatalf("CNG bursts in 11 s: %d (%v), want 4", len(ev), ev)
	}
	for i, e := range ev {
		if d := e.DurationMs(); d < 450 || d > 600 {
			t.Errorf("burst %d lasts %d ms", i, d)
		}
		if i > 0 {
			if gap := (e.Start - ev[i-1].Start) * 1000 / media.SampleRate; gap < 3450 || gap > 3550 {
				t.Errorf("burst %d starts %d ms after the previous, want 3500", i, gap)
			}
		}
	}
}

func TestFaxAnswerCED(t *testing.T) {
	s := NewSound(SoundFaxAnswer, seeded(1), SoundOptions{})
	det := media.NewToneDetector(media.ToneDetectorConfig{Freqs: []float64{1100, 1650, 2100}, MinDurationMs: 500})
	ev := tones(det, render(s, 6*time.Second))
	if len(ev) < 2 || ev[0].Freq != 2100 || ev[0].DurationMs() < 2500 || ev[1].Freq != 1650 {
		t.Fatalf("answering fax: %+v, want CED 2100 Hz >= 2.5 s then V.21", ev)
	}
}

func TestSITThenAnnouncement(t *testing.T) {
	for _, tc := range []struct {
		o    Outcome
		kind SoundKind
		sit  media.SITKind
	}{
		{OutcomeFail, SoundSITIntercept, media.SITIntercept},
		{OutcomeVacantNumber, SoundSITIntercept, media.SITIntercept},
		{OutcomeVacantCode, SoundSITVacantCode, media.SITVacantCode},
		{OutcomeNoCircuit, SoundSITNoCircuit, media.SITNoCircuit},
		{OutcomeReorder, SoundSITReorder, media.SITReorder},
	} {
		k, ok := tc.o.EarlyMedia()
		if !ok || k != tc.kind || k.SIT() != tc.sit {
			t.Fatalf("%v: early media %v %v (SIT %v), want %v", tc.o, k, ok, k.SIT(), tc.kind)
		}
		s := NewSound(k, seeded(uint64(tc.kind)), SoundOptions{})
		pcm := render(s, 3*time.Second)
		kind, i := media.ClassifySIT(tones(media.NewSITDetector(), pcm))
		if kind != tc.sit || i != 0 {
			t.Errorf("%v: SIT detector says %v at %d, want %v", k, kind, i, tc.sit)
		}
		// The announcement follows within a second of the SIT.
		rs := toRuns(vadRuns(pcm))
		var speechAfter bool
		for _, r := range rs {
			if r.on && r.from*media.FrameMs >= 800 && r.from*media.FrameMs < 2500 && r.n >= 15 {
				speechAfter = true
			}
		}
		if !speechAfter {
			t.Errorf("%v: no announcement after the SIT: %v", k, rs)
		}
		// It plays twice and then ends.
		sc := s.Script(time.Hour)
		last := sc[len(sc)-1]
		if last.Open() || last.End() > 25*time.Second {
			t.Fatalf("%v: script ends with %+v", k, last)
		}
		nsit := 0
		for _, sg := range sc {
			if sg.Label == "sit" {
				nsit++
			}
		}
		if nsit != 2 {
			t.Errorf("%v: %d SITs, want 2", k, nsit)
		}
		render(s, last.End()-3*time.Second+frameDur)
		f := make([]int16, media.FrameSamples)
		f[0] = 1
		if s.ReadFrame(f) || !s.Ended() || slices.ContainsFunc(f, func(v int16) bool { return v != 0 }) {
			t.Errorf("%v: did not end silently after %v", k, last.End())
		}
	}
}

// cadence measures on/off runs of the frame level against -35 dBm0.
func cadence(pcm []int16) []run {
	var on []bool
	for _, f := range frames(pcm) {
		on = append(on, media.FrameDBm0(f) > -35)
	}
	return toRuns(on)
}

func TestRingbackAndBusyCadence(t *testing.T) {
	for _, tc := range []struct {
		kind      SoundKind
		f1, f2    float64
		on, off   int // frames
		dur       time.Duration
		minCycles int
	}{
		{SoundRingback, 440, 480, 100, 200, 19 * time.Second, 3},
		{SoundBusy, 480, 620, 25, 25, 5 * time.Second, 4},
	} {
		s := NewSound(tc.kind, seeded(9), SoundOptions{})
		pcm := render(s, tc.dur)
		rs := cadence(pcm)
		if len(rs) < 2*tc.minCycles || !rs[0].on {
			t.Fatalf("%v: runs %v", tc.kind, rs)
		}
		for i, r := range rs[:2*tc.minCycles] {
			want := tc.off
			if r.on {
				want = tc.on
			}
			if r.n < want-1 || r.n > want+1 {
				t.Errorf("%v: run %d (on=%v) %d frames, want %d", tc.kind, i, r.on, r.n, want)
			}
		}
		f := pcm[media.FrameSamples*5 : media.FrameSamples*6]
		p1, p2, ms := media.Goertzel(f, tc.f1), media.Goertzel(f, tc.f2), media.MeanSquare(f)
		if p1+p2 < 0.8*ms || p1 < 0.3*ms || p2 < 0.3*ms {
			t.Errorf("%v: %v Hz %.0f + %v Hz %.0f of %.0f", tc.kind, tc.f1, p1, tc.f2, p2, ms)
		}
	}
}

// TestLevels: speech near the talker level (about -20 dBm0), background
// noise about -65 dBm0, dead air noise only; levels from the script's
// ground truth so VAD tuning does not matter.
func TestLevels(t *testing.T) {
	for _, k := range []SoundKind{SoundLive, SoundMachine, SoundCaller, SoundSITIntercept} {
		for seed := range uint64(5) {
			s := NewSound(k, seeded(seed), SoundOptions{})
			if l := s.SpeechDBm0(); l < -23 || l > -17 {
				t.Fatalf("%v: talker level %.1f", k, l)
			}
			pcm := render(s, 15*time.Second)
			var speech, quiet []float64
			for _, sg := range s.Script(15 * time.Second) {
				from := int((sg.Start+frameDur-1)/frameDur) + 2
				to := int(sg.End()/frameDur) - 2
				if sg.Open() {
					to = from + 50
				}
				for i := from; i < to && (i+1)*media.FrameSamples <= len(pcm); i++ {
					f := pcm[i*media.FrameSamples : (i+1)*media.FrameSamples]
					switch sg.Kind {
					case SegSpeech:
						speech = append(speech, media.MeanSquare(f))
					case SegSilence:
						quiet = append(quiet, media.FrameDBm0(f))
					}
				}
			}
			var sum float64
			for _, m := range speech {
				sum += m
			}
			sl := media.MeanSquareToDBm0(sum / float64(len(speech)))
			if math.Abs(sl-s.SpeechDBm0()) > 2 || sl < -26 || sl > -14 {
				t.Errorf("%v seed %d: speech %.1f dBm0, talker %.1f", k, seed, sl, s.SpeechDBm0())
			}
			for _, q := range quiet {
				if q < -68 || q > -62 {
					t.Fatalf("%v seed %d: silence frame at %.1f dBm0, want about -65", k, seed, q)
				}
			}
		}
	}
	s := NewSound(SoundDeadAir, seeded(1), SoundOptions{})
	for _, f := range frames(render(s, 2*time.Second)) {
		if l := media.FrameDBm0(f); l < -68 || l > -62 {
			t.Fatalf("dead air at %.1f dBm0", l)
		}
	}
	s = NewSound(SoundLive, seeded(1), SoundOptions{NoiseDBm0: -200, SpeechDBm0: -30})
	pcm := render(s, 2*time.Second)
	if l := media.FrameDBm0(pcm[:media.FrameSamples]); l != media.SilenceDBm0 {
		t.Errorf("no-noise pickup at %.1f dBm0", l)
	}
	if s.SpeechDBm0() != -30 {
		t.Errorf("talker level option ignored: %v", s.SpeechDBm0())
	}
}

var allKinds = []SoundKind{SoundDeadAir, SoundLive, SoundMachine, SoundFax, SoundFaxAnswer, SoundSITNoCircuit,
	SoundSITIntercept, SoundSITVacantCode, SoundSITReorder, SoundRingback, SoundBusy, SoundCaller}

// TestDeterminism: same seed, same samples and script; different seed,
// different samples; the script does not depend on how much was read.
func TestDeterminism(t *testing.T) {
	for _, k := range allKinds {
		a := NewSound(k, seeded(42), SoundOptions{})
		early := a.Script(8 * time.Second)
		pa := render(a, 8*time.Second)
		b := NewSound(k, seeded(42), SoundOptions{})
		pb := render(b, 8*time.Second)
		if !slices.Equal(pa, pb) {
			t.Errorf("%v: same seed, different samples", k)
		}
		if late := b.Script(8 * time.Second); !slices.Equal(early, late) {
			t.Errorf("%v: script depends on reading:\n%v\n%v", k, early, late)
		}
		c := NewSound(k, seeded(43), SoundOptions{})
		if slices.Equal(pa, render(c, 8*time.Second)) {
			t.Errorf("%v: different seeds, same samples", k)
		}
		// Frame size does not change the samples.
		d := NewSound(k, seeded(42), SoundOptions{})
		var pd []int16
		buf := make([]int16, 37)
		for len(pd) < len(pa) {
			d.ReadFrame(buf)
			pd = append(pd, buf...)
		}
		if !slices.Equal(pa, pd[:len(pa)]) {
			t.Errorf("%v: samples depend on the read size", k)
		}
	}
}

// TestScriptIsContiguous: segments tile time from 0 and the Elapsed/Current
// bookkeeping follows them.
func TestScriptIsContiguous(t *testing.T) {
	for _, k := range allKinds {
		s := NewSound(k, seeded(5), SoundOptions{})
		sc := s.Script(30 * time.Second)
		var at time.Duration
		for i, sg := range sc {
			if sg.Start != at {
				t.Fatalf("%v: segment %d starts at %v, want %v", k, i, sg.Start, at)
			}
			if sg.Open() && i != len(sc)-1 {
				t.Fatalf("%v: open segment %d is not last", k, i)
			}
			at = sg.End()
		}
		if last := sc[len(sc)-1]; !last.Open() && last.End() < 30*time.Second && k.SIT() == media.SITNone {
			t.Fatalf("%v: script stops at %v", k, last.End())
		}
		first, ok := s.Current()
		if !ok || first != sc[0] {
			t.Errorf("%v: Current before reading %+v", k, first)
		}
		render(s, 2*time.Second)
		cur, ok := s.Current()
		if !ok || s.Elapsed() != 2*time.Second || (!cur.Open() && (cur.Start > 2*time.Second || cur.End() <= 2*time.Second)) {
			t.Errorf("%v: at %v Current %+v", k, s.Elapsed(), cur)
		}
	}
}

func TestOutcomeSounds(t *testing.T) {
	for _, tc := range []struct {
		o        Outcome
		answered SoundKind
		aok      bool
		early    SoundKind
		eok      bool
	}{
		{OutcomePending, SoundDeadAir, false, SoundDeadAir, false},
		{OutcomeAnswer, SoundLive, true, SoundRingback, true},
		{OutcomeMachine, SoundMachine, true, SoundRingback, true},
		{OutcomeFax, SoundFax, true, SoundRingback, true},
		{OutcomeNoAnswer, SoundDeadAir, false, SoundRingback, true},
		{OutcomeBusy, SoundDeadAir, false, SoundBusy, true},
		{OutcomeFail, SoundDeadAir, false, SoundSITIntercept, true},
		{OutcomeVacantNumber, SoundDeadAir, false, SoundSITIntercept, true},
		{OutcomeVacantCode, SoundDeadAir, false, SoundSITVacantCode, true},
		{OutcomeNoCircuit, SoundDeadAir, false, SoundSITNoCircuit, true},
		{OutcomeReorder, SoundDeadAir, false, SoundSITReorder, true},
	} {
		if k, ok := tc.o.AnsweredSound(); k != tc.answered || ok != tc.aok {
			t.Errorf("%d AnsweredSound = %v %v", tc.o, k, ok)
		}
		if k, ok := tc.o.EarlyMedia(); k != tc.early || ok != tc.eok {
			t.Errorf("%d EarlyMedia = %v %v", tc.o, k, ok)
		}
	}
	if SoundKind(99).String() != "SoundKind(99)" || SoundMachine.String() != "machine" {
		t.Error("SoundKind.String")
	}
	if NewSound(SoundKind(99), seeded(1), SoundOptions{}).Kind() != SoundDeadAir {
		t.Error("unknown kind is not dead air")
	}
}

func BenchmarkSoundFrame(b *testing.B) {
	for _, k := range allKinds {
		b.Run(k.String(), func(b *testing.B) {
			f := make([]int16, media.FrameSamples)
			r := seeded(1)
			s := NewSound(k, r, SoundOptions{Announcements: math.MaxInt32})
			b.ReportAllocs()
			for b.Loop() {
				s.ReadFrame(f)
			}
		})
	}
}

// TestLongCallMemoryBounded: a long call keeps only recent segments, and
// the retained script still tiles time up to the playing segment.
func TestLongCallMemoryBounded(t *testing.T) {
	s := NewSound(SoundBusy, seeded(1), SoundOptions{})
	render(s, 10*time.Minute)
	if len(s.steps) > 2*keepSteps+2 {
		t.Fatalf("%d steps kept after 10 min", len(s.steps))
	}
	sc := s.Script(10*time.Minute + time.Second)
	if sc[0].Start == 0 || sc[len(sc)-1].End() < 10*time.Minute {
		t.Fatalf("retained script %v .. %v", sc[0], sc[len(sc)-1])
	}
	for i := 1; i < len(sc); i++ {
		if sc[i].Start != sc[i-1].End() {
			t.Fatalf("gap at %d", i)
		}
	}
	if cur, ok := s.Current(); !ok || cur.Start > 10*time.Minute || cur.End() <= 10*time.Minute {
		t.Errorf("Current %+v at %v", cur, s.Elapsed())
	}
}
