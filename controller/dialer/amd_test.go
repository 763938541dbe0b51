package dialer

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/ipcclab/ipcclab/internal/media"
)

// feed runs src through a fresh CPA for at most maxFrames and returns the
// decision and when it was made.
func feed(t *testing.T, cfg CPAConfig, src func(pcm []int16), maxFrames int) (CPAResult, time.Duration) {
	t.Helper()
	c, err := NewCPA(cfg)
	if err != nil {
		t.Fatal(err)
	}
	pcm := make([]int16, media.FrameSamples)
	for f := 0; f < maxFrames; f++ {
		src(pcm)
		r, err := c.Feed(pcm)
		if err != nil {
			t.Fatal(err)
		}
		if r != CPAPending {
			return r, c.DecidedAfter()
		}
	}
	return CPAPending, 0
}

func speech(pattern []int, seed uint64) func([]int16) {
	cfg := media.DefaultSpeechConfig()
	cfg.Pattern = pattern
	g := media.NewSpeechGenerator(cfg, rand.New(rand.NewPCG(seed, 1)))
	noise := rand.New(rand.NewPCG(seed, 2))
	return func(pcm []int16) {
		g.Read(pcm)
		media.AddNoise(pcm, -65, noise)
	}
}

func tone(t media.Tone) func([]int16) {
	s := media.ToneSource(t)
	return func(pcm []int16) { s.ReadFrame(pcm) }
}

func TestCPAClassifies(t *testing.T) {
	cfg := DefaultCPAConfig()
	for _, tc := range []struct {
		name     string
		src      func([]int16)
		want     CPAResult
		min, max time.Duration
	}{
		// "Hello?" then waiting: live after the hello plus 608 ms.
		{"live hello then silence", speech([]int{700, 5000}, 1), CPALive, 1100 * time.Millisecond, 1700 * time.Millisecond},
		// A greeting running past the 2.5 s analysis period.
		{"machine greeting", speech([]int{6000, 300, 4000, 2000}, 2), CPAMachine, 2400 * time.Millisecond, 2800 * time.Millisecond},
		{"dead air", func(pcm []int16) { clear(pcm) }, CPADeadAir, 3 * time.Second, 3 * time.Second},
		{"fax CNG", tone(media.FaxCNG()), CPAFax, 300 * time.Millisecond, 500 * time.Millisecond},
		{"SIT intercept", tone(media.SITTone(media.SITIntercept)), CPASIT, 800 * time.Millisecond, 1200 * time.Millisecond},
		{"SIT reorder", tone(media.SITTone(media.SITReorder)), CPASIT, 800 * time.Millisecond, 1300 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, at := feed(t, cfg, tc.src, 500)
			if got != tc.want {
				t.Fatalf("decided %v after %v, want %v", got, at, tc.want)
			}
			if at < tc.min || at > tc.max {
				t.Errorf("decided after %v, want %v..%v", at, tc.min, tc.max)
			}
		})
	}
}

// A tone never counts as speech: a long SIT/fax-like tone must not become
// a machine's "greeting".
func TestCPATonalFramesAreNotSpeech(t *testing.T) {
	ced := media.Tone{Repeat: true, Segments: []media.ToneSegment{{Components: []media.ToneComponent{{Freq: 2100, LevelDBm0: -12}}, DurationMs: 3000}}}
	got, _ := feed(t, DefaultCPAConfig(), tone(ced), 500)
	if got != CPAFax {
		t.Fatalf("2100 Hz answer tone decided %v, want fax", got)
	}
}

// The parameters change the decision as Cisco documents: a longer analysis
// period lets a longer greeting pass as live.
func TestCPAParameters(t *testing.T) {
	src := func() func([]int16) { return speech([]int{2000, 5000}, 3) }
	if got, _ := feed(t, CPAConfig{AnalysisPeriod: 1500 * time.Millisecond}, src(), 500); got != CPAMachine {
		t.Errorf("2 s greeting with a 1.5 s analysis period: %v, want machine", got)
	}
	if got, _ := feed(t, CPAConfig{AnalysisPeriod: 4 * time.Second}, src(), 500); got != CPALive {
		t.Errorf("2 s greeting with a 4 s analysis period: %v, want live", got)
	}
}

func TestCPABadInput(t *testing.T) {
	if _, err := NewCPA(CPAConfig{MinSilence: 5 * time.Second}); err == nil || err.Error() != "cpa.min_silence: 5s outside 100ms..1s" {
		t.Errorf("out-of-range parameter: %v", err)
	}
	c, _ := NewCPA(CPAConfig{})
	if _, err := c.Feed(make([]int16, 80)); err != ErrFrameSize {
		t.Errorf("short frame: %v", err)
	}
}

func TestCPABeepAfterMachine(t *testing.T) {
	c, _ := NewCPA(CPAConfig{})
	pcm := make([]int16, media.FrameSamples)
	greet := speech([]int{4000, 100}, 4)
	for f := 0; f < 200; f++ { // 4 s of greeting
		greet(pcm)
		if _, err := c.Feed(pcm); err != nil {
			t.Fatal(err)
		}
	}
	if c.Result() != CPAMachine {
		t.Fatalf("greeting decided %v", c.Result())
	}
	beep := tone(media.Beep(1000, 500))
	for f := 0; f < 50; f++ {
		beep(pcm)
		c.Feed(pcm)
	}
	clear(pcm)
	for f := 0; f < 10; f++ {
		c.Feed(pcm)
	}
	at, ok := c.Beep()
	if !ok || at < 4*time.Second || at > 5*time.Second {
		t.Errorf("beep at %v (found %v), want about 4.5 s", at, ok)
	}
}

func TestAsteriskAMD(t *testing.T) {
	for _, tc := range []struct {
		name      string
		src       func([]int16)
		want      CPAResult
		wantCause string
	}{
		{"one short word then silence", speech([]int{500, 5000}, 5), CPALive, "HUMAN"},
		{"long greeting", speech([]int{6000, 300}, 6), CPAMachine, ""},
		{"initial silence", func(pcm []int16) { clear(pcm) }, CPAMachine, "INITIALSILENCE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := NewAsteriskAMD(AsteriskAMDConfig{})
			if err != nil {
				t.Fatal(err)
			}
			pcm := make([]int16, media.FrameSamples)
			for f := 0; f < 400 && a.Result() == CPAPending; f++ {
				tc.src(pcm)
				if _, err := a.Feed(pcm); err != nil {
					t.Fatal(err)
				}
			}
			if a.Result() != tc.want || (tc.wantCause != "" && a.Cause() != tc.wantCause) {
				t.Errorf("got %v (%s) after %v, want %v (%s)", a.Result(), a.Cause(), a.DecidedAfter(), tc.want, tc.wantCause)
			}
		})
	}
	if _, err := NewAsteriskAMD(AsteriskAMDConfig{MaximumNumberOfWords: -1}); err == nil {
		t.Error("negative word count accepted")
	}
}
