// Package pstn is the outside world of the emulated contact centre: inbound
// callers arriving as a time-of-day Poisson process, their patience while they
// wait in the IVR queue, and the customers that outbound (predictive) calls
// reach, with their answer/busy/no-answer outcomes, ring and conversation
// times.
//
// It is a pure core (design.md, "cores"): time comes from a sim.Scheduler and
// randomness from a seeded *rand.Rand, so a run is a function of the seed.
package pstn

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/ipcclab/ipcclab/internal/sim"
)

// Shape names a duration distribution.
type Shape string

// Distribution shapes. The zero Shape is Fixed.
const (
	Fixed       Shape = "fixed"
	Exponential Shape = "exponential"
	LogNormal   Shape = "lognormal"
)

// Dist is a duration distribution: a fixed value, an exponential with the
// given mean, or a log-normal with the given mean and coefficient of variation
// (the usual shape of talk and wrap-up times). A zero Mean always draws zero.
type Dist struct {
	Shape Shape
	Mean  time.Duration
	// CV is the coefficient of variation (standard deviation / mean) of a
	// log-normal; ignored by the other shapes.
	CV float64
}

// Validate checks the distribution; field is the path used in the error.
func (d Dist) Validate(field string) error {
	switch d.Shape {
	case "", Fixed, Exponential, LogNormal:
	default:
		return fmt.Errorf("%s.shape: unknown shape %q (use fixed, exponential or lognormal)", field, d.Shape)
	}
	if d.Mean < 0 {
		return fmt.Errorf("%s.mean: must not be negative, got %v", field, d.Mean)
	}
	if d.CV < 0 {
		return fmt.Errorf("%s.cv: must not be negative, got %v", field, d.CV)
	}
	return nil
}

// IsZero reports whether the distribution always draws zero.
func (d Dist) IsZero() bool { return d.Mean <= 0 }

// Draw samples one duration.
func (d Dist) Draw(r *rand.Rand) time.Duration {
	if d.Mean <= 0 {
		return 0
	}
	switch d.Shape {
	case Exponential:
		return sim.Exp(r, d.Mean)
	case LogNormal:
		return sim.LogNormal(r, d.Mean, d.CV)
	default:
		return d.Mean
	}
}

// substream derives an independent, deterministic stream from r, so that one
// purpose (say, patience) drawing more or fewer numbers does not shift the
// draws of another (arrivals).
func substream(r *rand.Rand) *rand.Rand {
	return rand.New(rand.NewPCG(r.Uint64(), r.Uint64()))
}
