//go:build race

package erlang

// raceDetector: the tests run under -race. Statistical tests of the
// single-goroutine simulations skip there (the race detector finds nothing in
// them and slows them tenfold); make test runs them once more without it.
const raceDetector = true
