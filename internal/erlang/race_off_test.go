//go:build !race

package erlang

const raceDetector = false
