package fanout

import (
	"math/bits"
	"time"
)

// hist is a log-linear latency histogram in nanoseconds: exact below 128 ns,
// then 64 buckets per power of two (relative error under 1.6 %). It is
// cheap enough to update once per delivered frame on every client.
type hist struct {
	counts [64*58 + 128]uint64
	n      uint64
	max    uint64
}

func bucketOf(v uint64) int {
	if v < 128 {
		return int(v)
	}
	shift := bits.Len64(v) - 7
	return 64*shift + int(v>>shift)
}

// upper is the largest value that falls into bucket i.
func upper(i int) uint64 {
	if i < 128 {
		return uint64(i)
	}
	shift := i/64 - 1
	m := uint64(i - 64*shift)
	return (m+1)<<shift - 1
}

func (h *hist) add(d time.Duration) {
	v := uint64(0)
	if d > 0 {
		v = uint64(d)
	}
	h.counts[bucketOf(v)]++
	h.n++
	if v > h.max {
		h.max = v
	}
}

func (h *hist) merge(o *hist) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	if o.max > h.max {
		h.max = o.max
	}
}

// quantile returns the upper bound of the bucket holding the q-quantile
// (0 < q <= 1), so it never understates.
func (h *hist) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(q * float64(h.n))
	if rank == 0 {
		rank = 1
	}
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			u := upper(i)
			if u > h.max {
				u = h.max
			}
			return time.Duration(u)
		}
	}
	return time.Duration(h.max)
}
