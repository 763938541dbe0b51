package ctifields

import (
	"testing"

	"github.com/ipcclab/ipcclab/pcaps/ctifields/ctisample"
)

// BenchmarkDecode decodes a fully populated BEGIN_CALL_EVENT (call
// variables, named variables and arrays, CTI clients) and an
// AGENT_STATE_EVENT with its skill groups, both at PV24.
func BenchmarkDecode(b *testing.B) {
	for _, c := range []struct {
		name string
		mt   uint32
	}{{"BEGIN_CALL_EVENT", 23}, {"AGENT_STATE_EVENT", 30}} {
		body, err := ctisample.Body(c.mt, 24, ctisample.Options{Seed: 1})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Decode(c.mt, body, 24); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkAppendText is the text rendering of the same BEGIN_CALL_EVENT.
func BenchmarkAppendText(b *testing.B) {
	body, _ := ctisample.Body(23, 24, ctisample.Options{Seed: 1})
	m, err := Decode(23, body, 24)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	var dst []byte
	for b.Loop() {
		dst = AppendText(dst[:0], m)
	}
}
