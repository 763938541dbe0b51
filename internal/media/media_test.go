package media

import (
	"bytes"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/pion/rtp"
)

// render produces n samples of tone t.
func render(t Tone, n int) []int16 {
	out := make([]int16, n)
	NewToneGenerator(t).Read(out)
	return out
}

func speech(seed uint64, n int) []int16 {
	out := make([]int16, n)
	NewSpeechGenerator(SpeechConfig{}, rand.New(rand.NewPCG(seed, 1))).Read(out)
	return out
}

func TestG711RoundTrip(t *testing.T) {
	for _, law := range []Law{ULaw, ALaw} {
		t.Run(law.String(), func(t *testing.T) {
			pcm := make([]int16, 65536)
			for i := range pcm {
				pcm[i] = int16(i - 32768)
			}
			enc := make([]byte, len(pcm))
			dec := make([]int16, len(pcm))
			if n := law.Encode(enc, pcm); n != len(pcm) {
				t.Fatalf("encoded %d", n)
			}
			law.Decode(dec, enc)
			for i, v := range pcm {
				// Relative error bound of the 8-bit log quantiser: step ≤ 1/16 of the
				// segment, so |err| ≤ |v|/32 + small absolute error near zero.
				e := math.Abs(float64(v) - float64(dec[i]))
				if e > math.Abs(float64(v))/16+34 {
					t.Fatalf("%s: %d -> %d (err %.0f)", law, v, dec[i], e)
				}
			}
			// Decode∘encode is idempotent on decoded values.
			enc2 := make([]byte, len(dec))
			law.Encode(enc2, dec)
			dec2 := make([]int16, len(dec))
			law.Decode(dec2, enc2)
			for i := range dec {
				if dec[i] != dec2[i] {
					t.Fatalf("not idempotent at %d: %d vs %d", i, dec[i], dec2[i])
				}
			}
			// SNR of a -20 dBm0 tone through the codec is > 33 dB.
			tone := render(Beep(1004, 100), 800)
			b := law.AppendEncode(nil, tone)
			back := law.AppendDecode(nil, b)
			var se, ss float64
			for i := range tone {
				d := float64(tone[i] - back[i])
				se += d * d
				ss += float64(tone[i]) * float64(tone[i])
			}
			if snr := 10 * math.Log10(ss/se); snr < 33 {
				t.Fatalf("SNR %.1f dB", snr)
			}
			if pt := law.PayloadType(); pt != map[Law]uint8{ULaw: 0, ALaw: 8}[law] {
				t.Fatalf("payload type %d", pt)
			}
			if l, ok := LawForPayloadType(law.PayloadType()); !ok || l != law {
				t.Fatal("LawForPayloadType")
			}
		})
	}
	pcm := make([]int16, FrameSamples)
	buf := make([]byte, FrameSamples)
	out := make([]int16, FrameSamples)
	if a := testing.AllocsPerRun(100, func() { EncodeUlaw(buf, pcm); DecodeAlaw(out, buf) }); a != 0 {
		t.Fatalf("allocs %v", a)
	}
}

func TestLevels(t *testing.T) {
	for _, lvl := range []float64{0, -10, -20, -40} {
		x := render(Tone{Segments: []ToneSegment{{Components: []ToneComponent{{1000, lvl}}, DurationMs: 100}}}, 800)
		if l := FrameDBm0(x); math.Abs(l-lvl) > 0.1 {
			t.Errorf("tone at %v dBm0 measured %.2f", lvl, l)
		}
	}
	if FrameDBm0(make([]int16, 160)) != SilenceDBm0 {
		t.Error("silence level")
	}
}

func TestToneGeneratorCadenceAndPhase(t *testing.T) {
	tests := []struct {
		tone   Tone
		onMs   int
		offMs  int
		period int
	}{
		{Ringback(), 2000, 4000, 6000},
		{Busy(), 500, 500, 1000},
		{FaxCNG(), 500, 3000, 3500},
	}
	for _, tc := range tests {
		t.Run(tc.tone.Name, func(t *testing.T) {
			if tc.tone.DurationMs() != tc.period {
				t.Fatalf("period %d", tc.tone.DurationMs())
			}
			// Two periods in 20 ms frames: count active frames.
			g := NewToneGenerator(tc.tone)
			frame := make([]int16, FrameSamples)
			on := 0
			for range 2 * tc.period / FrameMs {
				g.Read(frame)
				if FrameDBm0(frame) > -60 {
					on++
				}
			}
			if on != 2*tc.onMs/FrameMs {
				t.Fatalf("active frames %d want %d", on, 2*tc.onMs/FrameMs)
			}
		})
	}
	// Frame-by-frame output equals one-shot output (phase continuity), for odd sizes too.
	tone := SITTone(SITIntercept)
	whole := render(tone, 8000)
	g := NewToneGenerator(tone)
	var pieces []int16
	for len(pieces) < 8000 {
		f := make([]int16, min(37, 8000-len(pieces)))
		g.Read(f)
		pieces = append(pieces, f...)
	}
	for i := range whole {
		if whole[i] != pieces[i] {
			t.Fatalf("sample %d differs", i)
		}
	}
	// No jumps: successive samples of a 1776.7 Hz tone differ by at most A·2π f/fs.
	x := render(Tone{Segments: []ToneSegment{{Components: []ToneComponent{{1776.7, 0}}, DurationMs: 1000}}}, 8000)
	maxStep := DBm0ToAmplitude(0)*2*math.Pi*1776.7/SampleRate + 2
	for i := 1; i < len(x); i++ {
		if math.Abs(float64(x[i])-float64(x[i-1])) > maxStep {
			t.Fatalf("discontinuity at %d", i)
		}
	}
	if !g.Done() || NewToneGenerator(Ringback()).Done() {
		t.Fatal("Done")
	}
	if _, err := DTMFTone('x', 100, 100); err == nil {
		t.Fatal("bad digit accepted")
	}
}

func TestGoertzel(t *testing.T) {
	x := render(Beep(1000, 20), FrameSamples)
	want := DBm0ToMeanSquare(-12)
	b := NewFilterBank(1000, 1100, 2000)
	p := make([]float64, 3)
	e := b.Analyze(x, p)
	if math.Abs(p[0]/want-1) > 0.05 || math.Abs(e/want-1) > 0.05 {
		t.Fatalf("power %v energy %v want %v", p[0], e, want)
	}
	if p[2] > want/100 {
		t.Fatalf("leak at 2000 Hz %v", p[2])
	}
	if g := Goertzel(x, 1000); math.Abs(g-p[0]) > 1e-6*p[0] {
		t.Fatal("Goertzel != bank")
	}
}

const allDigits = "0123456789*#ABCD"

func detectDTMF(x []int16, chunk int) []DTMFEvent {
	d := NewDTMFDetector(DTMFConfig{})
	var ev []DTMFEvent
	for len(x) > 0 {
		n := min(chunk, len(x))
		ev = d.Process(x[:n], ev)
		x = x[n:]
	}
	return d.Flush(ev)
}

func digitsOf(ev []DTMFEvent) string {
	var s strings.Builder
	for i, e := range ev {
		if e.On {
			if i+1 >= len(ev) || ev[i+1].On || ev[i+1].Digit != e.Digit {
				return "unbalanced"
			}
			s.WriteByte(e.Digit)
		}
	}
	return s.String()
}

func TestDTMFDetect(t *testing.T) {
	tests := []struct {
		name        string
		onMs, offMs int
		offset      int     // leading silence in samples (frame misalignment)
		noiseDBm0   float64 // 0 = none
		speech      bool
		chunk       int
	}{
		{"100/100 clean", 100, 100, 0, 0, false, 160},
		{"40/40 aligned", 40, 40, 0, 0, false, 160},
		{"40/40 misaligned", 40, 40, 53, 0, false, 160},
		{"50/50 odd chunks", 50, 50, 117, 0, false, 37},
		{"60/60 noise -30", 60, 60, 29, -30, false, 160},
		{"100/100 noise -25", 100, 100, 0, -25, false, 160},
		{"100/100 over speech", 100, 100, 0, -50, true, 160},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, off := range []int{tc.offset, tc.offset + 40, tc.offset + 80} {
				tone, err := DTMFSequence(allDigits, tc.onMs, tc.offMs)
				if err != nil {
					t.Fatal(err)
				}
				n := off + MsToSamples(tone.DurationMs()) + 800
				x := make([]int16, n)
				NewToneGenerator(tone).Read(x[off:])
				rng := rand.New(rand.NewPCG(7, uint64(off)))
				if tc.speech {
					Mix(x, speech(3, n))
				}
				if tc.noiseDBm0 != 0 {
					AddNoise(x, tc.noiseDBm0, rng)
				}
				ev := detectDTMF(x, tc.chunk)
				if got := digitsOf(ev); got != allDigits {
					t.Fatalf("offset %d: got %q want %q", off, got, allDigits)
				}
				for i := 1; i < len(ev); i += 2 {
					ms := int(ev[i].Duration * 1000 / SampleRate)
					if ms < tc.onMs-30 || ms > tc.onMs+20 {
						t.Fatalf("digit %c measured %d ms for %d ms", ev[i].Digit, ms, tc.onMs)
					}
				}
			}
		})
	}
}

func TestDTMFRejectsShortAndTwisted(t *testing.T) {
	tone, _ := DTMFSequence("159#", 20, 60)
	if ev := detectDTMF(render(tone, 8000), 160); len(ev) != 0 {
		t.Fatalf("20 ms tones detected: %v", ev)
	}
	// Low group 10 dB above high group: reverse twist beyond 4 dB.
	tw := Tone{Segments: []ToneSegment{{Components: []ToneComponent{{697, -5}, {1209, -15}}, DurationMs: 200}}}
	if ev := detectDTMF(render(tw, 3200), 160); len(ev) != 0 {
		t.Fatalf("twisted tone detected: %v", ev)
	}
	// Single frequency is not a digit.
	if ev := detectDTMF(render(Beep(697, 300), 4000), 160); len(ev) != 0 {
		t.Fatalf("single tone detected: %v", ev)
	}
	// Level below -30 dBm0 per tone.
	lo := Tone{Segments: []ToneSegment{{Components: []ToneComponent{{697, -36}, {1209, -35}}, DurationMs: 200}}}
	if ev := detectDTMF(render(lo, 3200), 160); len(ev) != 0 {
		t.Fatalf("weak tone detected: %v", ev)
	}
}

// TestDTMFTalkOff runs 60 s of synthetic speech (several seeds and levels)
// through the detector and requires zero false digits.
func TestDTMFTalkOff(t *testing.T) {
	total := 0
	for seed := uint64(1); seed <= 6; seed++ {
		for _, lvl := range []float64{-20, -12} {
			g := NewSpeechGenerator(SpeechConfig{LevelDBm0: lvl}, rand.New(rand.NewPCG(seed, 99)))
			x := make([]int16, 10*SampleRate)
			g.Read(x)
			AddNoise(x, -55, rand.New(rand.NewPCG(seed, 5)))
			ev := detectDTMF(x, 160)
			total += len(ev) / 2
		}
	}
	t.Logf("false DTMF digits over 120 s of speech: %d", total)
	if total != 0 {
		t.Fatalf("%d false digits", total)
	}
}

func detectTones(d *ToneDetector, x []int16) []ToneEvent {
	var ev []ToneEvent
	for len(x) > 0 {
		n := min(FrameSamples, len(x))
		ev = d.Process(x[:n], ev)
		x = x[n:]
	}
	return d.Flush(ev)
}

func TestSIT(t *testing.T) {
	for _, k := range []SITKind{SITNoCircuit, SITIntercept, SITVacantCode, SITReorder, SITITU} {
		t.Run(k.String(), func(t *testing.T) {
			tone := SITTone(k)
			x := make([]int16, MsToSamples(tone.DurationMs()+1000))
			NewToneGenerator(tone).Read(x[1234:])
			AddNoise(x, -50, rand.New(rand.NewPCG(1, 2)))
			ev := detectTones(NewSITDetector(), x)
			got, at := ClassifySIT(ev)
			if got != k || at != 0 || len(ev) != 3 {
				t.Fatalf("got %v at %d from %+v", got, at, ev)
			}
			for i, s := range tone.Segments {
				if ms := ev[i].DurationMs(); ms < s.DurationMs-25 || ms > s.DurationMs+10 {
					t.Errorf("segment %d: %d ms for %d", i, ms, s.DurationMs)
				}
			}
		})
	}
}

func TestCNGAndBeep(t *testing.T) {
	x := render(FaxCNG(), 3*3500*8)
	AddNoise(x, -45, rand.New(rand.NewPCG(3, 3)))
	ev := detectTones(NewCNGDetector(), x)
	if len(ev) != 3 {
		t.Fatalf("CNG bursts %+v", ev)
	}
	for i, e := range ev {
		if ms := e.DurationMs(); ms < 480 || ms > 510 {
			t.Errorf("burst %d: %d ms", i, ms)
		}
		if i > 0 && (e.Start-ev[i-1].Start) != 3500*8 {
			t.Errorf("CNG period %d samples", e.Start-ev[i-1].Start)
		}
	}
	for _, f := range []float64{1000, 440, 1400, 1870} {
		y := make([]int16, 8000)
		NewToneGenerator(Beep(f, 500)).Read(y[999:])
		ev := detectTones(NewBeepDetector(200), y)
		if len(ev) != 1 || math.Abs(ev[0].Freq-f) > 12.5 || ev[0].DurationMs() < 480 || ev[0].DurationMs() > 510 {
			t.Fatalf("beep %v: %+v", f, ev)
		}
	}
}

func TestTonesNotInSpeech(t *testing.T) {
	for seed := uint64(1); seed <= 4; seed++ {
		x := speech(seed, 15*SampleRate)
		AddNoise(x, -55, rand.New(rand.NewPCG(seed, 0)))
		for name, d := range map[string]*ToneDetector{"SIT": NewSITDetector(), "CNG": NewCNGDetector(), "beep": NewBeepDetector(200)} {
			if ev := detectTones(d, x); len(ev) != 0 {
				t.Errorf("seed %d: %s detected in speech: %+v", seed, name, ev)
			}
		}
	}
}

func TestTelephoneEventCodec(t *testing.T) {
	tests := []struct {
		ev   TelephoneEvent
		wire []byte
	}{
		{TelephoneEvent{Event: 1, Volume: 10, Duration: 160}, []byte{0x01, 0x0a, 0x00, 0xa0}},
		{TelephoneEvent{Event: 11, End: true, Volume: 63, Duration: 800}, []byte{0x0b, 0xbf, 0x03, 0x20}},
		{TelephoneEvent{Event: 15, End: true, Volume: 0, Duration: 65535}, []byte{0x0f, 0x80, 0xff, 0xff}},
	}
	for _, tc := range tests {
		b, err := tc.ev.Marshal()
		if err != nil || !bytes.Equal(b, tc.wire) {
			t.Fatalf("%+v -> % x, %v", tc.ev, b, err)
		}
		var back TelephoneEvent
		if err := back.Unmarshal(append(tc.wire, 0xde)); err != nil || back != tc.ev {
			t.Fatalf("% x -> %+v, %v", tc.wire, back, err)
		}
	}
	var e TelephoneEvent
	if e.Unmarshal([]byte{1, 2, 3}) == nil {
		t.Fatal("short payload accepted")
	}
	if err := e.Unmarshal([]byte{5, 0x4a, 0, 1}); err != nil || e.Volume != 10 || e.End {
		t.Fatalf("reserved bit not ignored: %+v", e)
	}
	if _, err := (TelephoneEvent{Volume: 64}).Marshal(); err == nil {
		t.Fatal("volume 64 accepted")
	}
	for i := 0; i < len(allDigits); i++ {
		c, err := EventCode(allDigits[i])
		if err != nil || int(c) != strings.IndexByte("0123456789*#ABCD", allDigits[i]) {
			t.Fatal("EventCode")
		}
		if d, _ := EventDigit(c); d != allDigits[i] {
			t.Fatal("EventDigit")
		}
	}
	if _, err := EventDigit(16); err == nil {
		t.Fatal("EventDigit(16)")
	}
}

func TestEventSenderGolden(t *testing.T) {
	type pk struct {
		m   bool
		end bool
		dur uint16
	}
	tests := []struct {
		digit byte
		ms    int
		want  []pk
	}{
		{'5', 100, []pk{{true, false, 160}, {false, false, 320}, {false, false, 480}, {false, false, 640},
			{false, true, 800}, {false, true, 800}, {false, true, 800}}},
		{'#', 50, []pk{{true, false, 160}, {false, false, 320}, {false, true, 400}, {false, true, 400}, {false, true, 400}}},
		{'D', 20, []pk{{true, true, 160}, {false, true, 160}, {false, true, 160}}},
	}
	for _, tc := range tests {
		s, err := NewDigitSender(tc.digit, 10, 0xfffffff0, tc.ms)
		if err != nil {
			t.Fatal(err)
		}
		code, _ := EventCode(tc.digit)
		ps := s.Packets()
		if len(ps) != len(tc.want) || !s.Done() {
			t.Fatalf("%c: %d packets", tc.digit, len(ps))
		}
		for i, p := range ps {
			w := tc.want[i]
			if p.Marker != w.m || p.Event.End != w.end || p.Event.Duration != w.dur || p.Timestamp != 0xfffffff0 ||
				p.Event.Event != code || p.Event.Volume != 10 {
				t.Fatalf("%c packet %d: %+v want %+v", tc.digit, i, p, w)
			}
			// pion/rtp round trip.
			rp, err := p.RTP(101, uint16(1000+i), 0x1234)
			if err != nil {
				t.Fatal(err)
			}
			raw, err := rp.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			var q rtp.Packet
			if err := q.Unmarshal(raw); err != nil {
				t.Fatal(err)
			}
			var ev TelephoneEvent
			if err := ev.Unmarshal(q.Payload); err != nil || ev != p.Event || q.Marker != p.Marker ||
				q.Timestamp != p.Timestamp || q.PayloadType != 101 || q.SequenceNumber != uint16(1000+i) || q.SSRC != 0x1234 {
				t.Fatalf("round trip %+v %+v", q.Header, ev)
			}
		}
		if _, ok := s.Next(); ok {
			t.Fatal("packet after end")
		}
	}
	if _, err := NewEventSender(1, 0, 0, 70000, 160); err == nil {
		t.Fatal("long duration accepted")
	}
	if _, err := NewDigitSender('x', 0, 0, 100); err == nil {
		t.Fatal("bad digit accepted")
	}
}

func TestSpeechDeterminismAndLevel(t *testing.T) {
	a, b, c := speech(42, 80000), speech(42, 80000), speech(43, 80000)
	if !slices.Equal(a, b) {
		t.Fatal("same seed, different output")
	}
	if slices.Equal(a, c) {
		t.Fatal("different seeds, same output")
	}
	// Frame-wise reading equals one-shot reading.
	g := NewSpeechGenerator(SpeechConfig{}, rand.New(rand.NewPCG(42, 1)))
	f := make([]int16, FrameSamples)
	for i := 0; i < len(a); i += FrameSamples {
		g.Read(f)
		if !slices.Equal(f, a[i:i+FrameSamples]) {
			t.Fatalf("frame %d differs", i/FrameSamples)
		}
	}
	// Active speech level ≈ -20 dBm0 over 60 s.
	g = NewSpeechGenerator(SpeechConfig{}, rand.New(rand.NewPCG(9, 9)))
	var sum float64
	var n, spurts int
	was := false
	for range 3000 {
		act := g.Read(f)
		if act && !was {
			spurts++
		}
		was = act
		if act {
			sum += MeanSquare(f)
			n++
		}
	}
	lvl := MeanSquareToDBm0(sum / float64(n))
	t.Logf("active level %.1f dBm0, activity %.0f %%, %d spurts in 60 s", lvl, 100*float64(n)/3000, spurts)
	if math.Abs(lvl+20) > 1.5 || spurts < 20 || spurts > 50 {
		t.Fatalf("level %.1f dBm0, %d spurts", lvl, spurts)
	}
}

func TestSpeechPatternAndVAD(t *testing.T) {
	// A machine-like greeting: 1800 ms speech, 700 ms pause, 400 ms speech, then silence.
	g := NewSpeechGenerator(SpeechConfig{Pattern: []int{1800, 700, 400}}, rand.New(rand.NewPCG(5, 5)))
	vad := NewVAD(VADConfig{})
	noise := rand.New(rand.NewPCG(6, 6))
	f := make([]int16, FrameSamples)
	var truth, got []bool
	for range 200 {
		act := g.Read(f)
		AddNoise(f, -55, noise)
		v, _ := vad.Process(f)
		truth = append(truth, act)
		got = append(got, v)
	}
	// Ground truth: frames 0-89 speech, 90-124 silence, 125-144 speech.
	for i, a := range truth {
		want := i < 90 || (i >= 125 && i < 145)
		if a != want {
			t.Fatalf("truth frame %d = %v", i, a)
		}
	}
	runs := func(v []bool) (r [][2]int) {
		for i := 0; i < len(v); i++ {
			if v[i] {
				j := i
				for j < len(v) && v[j] {
					j++
				}
				r = append(r, [2]int{i, j})
				i = j
			}
		}
		return
	}
	r := runs(got)
	if len(r) != 2 {
		t.Fatalf("VAD runs %v", r)
	}
	// Starts within 2 frames; ends within the 4-frame hangover (+2).
	if r[0][0] > 2 || r[0][1] < 90 || r[0][1] > 96 || r[1][0] < 125 || r[1][0] > 127 || r[1][1] < 145 || r[1][1] > 151 {
		t.Fatalf("VAD runs %v", r)
	}
}

func TestVADHangover(t *testing.T) {
	loud := render(Beep(500, 20), FrameSamples)
	quiet := make([]int16, FrameSamples)
	v := NewVAD(VADConfig{HangoverFrames: 2, OnsetFrames: 2})
	seq := []struct {
		f    []int16
		want bool
	}{{loud, false}, {loud, true}, {quiet, true}, {quiet, true}, {quiet, false}, {loud, false}, {quiet, false}}
	for i, s := range seq {
		if a, _ := v.Process(s.f); a != s.want {
			t.Fatalf("step %d: %v", i, a)
		}
	}
}

// An announcement is speech of the configured length (mostly voiced, at
// about its level) and then ends; the same seed gives the same samples.
func TestAnnouncement(t *testing.T) {
	read := func(seed uint64) (frames, loud int, pcm []int16) {
		a := NewAnnouncement(AnnouncementConfig{LengthMs: 4000}, rand.New(rand.NewPCG(seed, 1)))
		if a.DurationMs() != 4000 {
			t.Fatalf("duration %d ms", a.DurationMs())
		}
		f := make([]int16, FrameSamples)
		for a.ReadFrame(f) {
			frames++
			if FrameDBm0(f) > -35 {
				loud++
			}
			pcm = append(pcm, f...)
			if frames > 1000 {
				t.Fatal("announcement does not end")
			}
		}
		return frames, loud, pcm
	}
	frames, loud, a := read(7)
	if frames != 200 {
		t.Errorf("%d frames, want 200 (4 s)", frames)
	}
	if loud < 130 {
		t.Errorf("only %d of %d frames are speech", loud, frames)
	}
	_, _, b := read(7)
	if !slices.Equal(a, b) {
		t.Error("same seed, different message")
	}
}
