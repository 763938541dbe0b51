package media

import "math"

// FilterBank is a set of Goertzel filters evaluated together over a block of
// samples. Each filter may be tuned to any frequency (not only bin centres).
type FilterBank struct {
	freqs  []float64
	coeffs []float64
}

// NewFilterBank returns a bank tuned to freqs (Hz).
func NewFilterBank(freqs ...float64) *FilterBank {
	b := &FilterBank{freqs: append([]float64(nil), freqs...), coeffs: make([]float64, len(freqs))}
	for i, f := range freqs {
		b.coeffs[i] = 2 * math.Cos(2*math.Pi*f/SampleRate)
	}
	return b
}

// Len returns the number of filters.
func (b *FilterBank) Len() int { return len(b.freqs) }

// Freq returns the frequency of filter i.
func (b *FilterBank) Freq(i int) float64 { return b.freqs[i] }

// Analyze writes into powers[i] (len(powers) >= Len()) the power of block at
// filter i, normalised as a mean square so that a sine of amplitude A at the
// filter frequency gives about A²/2, directly comparable with the returned
// mean square of the whole block. It does not allocate.
func (b *FilterBank) Analyze(block []int16, powers []float64) (meanSquare float64) {
	n := len(block)
	if n == 0 {
		for i := range b.coeffs {
			powers[i] = 0
		}
		return 0
	}
	norm := 2 / (float64(n) * float64(n))
	for i, c := range b.coeffs {
		var s1, s2 float64
		for _, v := range block {
			s0 := float64(v) + c*s1 - s2
			s2, s1 = s1, s0
		}
		powers[i] = (s1*s1 + s2*s2 - c*s1*s2) * norm
	}
	return MeanSquare(block)
}

// Goertzel returns the normalised power (see FilterBank.Analyze) of block at
// freq Hz.
func Goertzel(block []int16, freq float64) float64 {
	n := len(block)
	if n == 0 {
		return 0
	}
	c := 2 * math.Cos(2*math.Pi*freq/SampleRate)
	var s1, s2 float64
	for _, v := range block {
		s0 := float64(v) + c*s1 - s2
		s2, s1 = s1, s0
	}
	return (s1*s1 + s2*s2 - c*s1*s2) * 2 / (float64(n) * float64(n))
}

// blockFeeder cuts an arbitrary sample stream into overlapping analysis
// windows of size n advanced by hop samples.
type blockFeeder struct {
	buf  []int16
	fill int
	hop  int
	pos  int64 // absolute sample index of buf[0]
}

func newBlockFeeder(n, hop int) blockFeeder {
	if n <= 0 {
		n = FrameSamples
	}
	if hop <= 0 || hop > n {
		hop = n
	}
	return blockFeeder{buf: make([]int16, n), hop: hop}
}

// feed pushes samples and calls fn for each complete window, with the
// absolute index of its first sample.
func (f *blockFeeder) feed(in []int16, fn func(block []int16, start int64)) {
	for len(in) > 0 {
		k := copy(f.buf[f.fill:], in)
		f.fill += k
		in = in[k:]
		if f.fill == len(f.buf) {
			fn(f.buf, f.pos)
			copy(f.buf, f.buf[f.hop:])
			f.fill -= f.hop
			f.pos += int64(f.hop)
		}
	}
}
