package media

import (
	"math/rand/v2"
	"testing"
)

func BenchmarkG711(b *testing.B) {
	pcm := speech(1, FrameSamples)
	buf := make([]byte, FrameSamples)
	out := make([]int16, FrameSamples)
	for _, law := range []Law{ULaw, ALaw} {
		b.Run(law.String()+"/encode", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				law.Encode(buf, pcm)
			}
		})
		b.Run(law.String()+"/decode", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				law.Decode(out, buf)
			}
		})
	}
}

func BenchmarkGoertzel8(b *testing.B) {
	x := speech(2, FrameSamples)
	bank := NewFilterBank(append(DTMFRowFreqs[:], DTMFColFreqs[:]...)...)
	p := make([]float64, 8)
	b.ReportAllocs()
	for b.Loop() {
		bank.Analyze(x, p)
	}
}

func BenchmarkDTMFDetectFrame(b *testing.B) {
	tone, _ := DTMFSequence("1234567890", 100, 100)
	x := render(tone, 2*8000)
	d := NewDTMFDetector(DTMFConfig{})
	ev := make([]DTMFEvent, 0, 64)
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		ev = d.Process(x[i:i+FrameSamples], ev[:0])
		i = (i + FrameSamples) % len(x)
	}
}

func BenchmarkBeepDetectFrame(b *testing.B) {
	x := speech(3, 8000)
	d := NewBeepDetector(200)
	ev := make([]ToneEvent, 0, 8)
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		ev = d.Process(x[i:i+FrameSamples], ev[:0])
		i = (i + FrameSamples) % len(x)
	}
}

func BenchmarkToneGenerateFrame(b *testing.B) {
	g := NewToneGenerator(Ringback())
	f := make([]int16, FrameSamples)
	b.ReportAllocs()
	for b.Loop() {
		g.Read(f)
	}
}

func BenchmarkSpeechFrame(b *testing.B) {
	g := NewSpeechGenerator(SpeechConfig{}, rand.New(rand.NewPCG(1, 1)))
	f := make([]int16, FrameSamples)
	b.ReportAllocs()
	for b.Loop() {
		g.Read(f)
	}
}
