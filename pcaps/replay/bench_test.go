package replay

import (
	"testing"
	"time"

	"github.com/ipcclab/ipcclab/scenarios"
)

// benchSession is the controller's session over half an hour of the
// default scenario (120 agents) in virtual time: a field-sized capture.
func benchSession(b *testing.B) Script {
	b.Helper()
	sc, err := scenarios.Default()
	if err != nil {
		b.Fatal(err)
	}
	return recordSim(b, sc, 1, 30*time.Minute)
}

// BenchmarkPrepare measures reading a script: decoding every frame,
// linking confirmations to requests, finding the polls.
func BenchmarkPrepare(b *testing.B) {
	s := benchSession(b)
	b.ResetTimer()
	for b.Loop() {
		if _, err := prepare(s, Options{}.withDefaults()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(s.Frames))*float64(b.N)/b.Elapsed().Seconds(), "frames/s")
	b.ReportMetric(float64(len(s.Frames)), "frames/op")
}

// BenchmarkClientEvents measures the client role's event pairing: every
// captured event of the session arriving again, each paired with its
// captured counterpart and its identifiers checked against (and added to)
// the mapping.
func BenchmarkClientEvents(b *testing.B) {
	s := benchSession(b)
	sc, err := prepare(s, Options{}.withDefaults())
	if err != nil {
		b.Fatal(err)
	}
	var events []int
	for i := range sc.steps {
		if sc.steps[i].kind == event {
			events = append(events, i)
		}
	}
	b.ResetTimer()
	paired := 0
	for b.Loop() {
		d := newDriver(sc, Options{}.withDefaults())
		for _, i := range events {
			d.event(sc.steps[i].msg)
		}
		paired = d.paired
	}
	if paired != len(events) {
		b.Fatalf("%d of %d events paired", paired, len(events))
	}
	b.ReportMetric(float64(len(events))*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
