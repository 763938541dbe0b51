package sim

import (
	"hash/fnv"
	"math"
	"math/rand/v2"
	"time"
)

// Stream returns a seeded random source for one named component. Each
// component draws from its own stream so that a change in how many numbers one
// component draws does not shift every other component's draws.
func Stream(seed uint64, name string) *rand.Rand {
	h := fnv.New64a()
	_, _ = h.Write([]byte(name))
	return rand.New(rand.NewPCG(seed, h.Sum64()))
}

// Exp draws an exponentially distributed duration with the given mean.
func Exp(r *rand.Rand, mean time.Duration) time.Duration {
	if mean <= 0 {
		return 0
	}
	return time.Duration(r.ExpFloat64() * float64(mean))
}

// LogNormal draws a log-normal duration with the given mean and coefficient of
// variation (standard deviation / mean), the usual shape of talk and wrap-up
// times in contact centres.
func LogNormal(r *rand.Rand, mean time.Duration, cv float64) time.Duration {
	if mean <= 0 {
		return 0
	}
	if cv <= 0 {
		return mean
	}
	s2 := math.Log(1 + cv*cv)
	mu := math.Log(float64(mean)) - s2/2
	return time.Duration(math.Exp(mu + math.Sqrt(s2)*r.NormFloat64()))
}
