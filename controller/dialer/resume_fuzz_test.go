package dialer

import (
	"encoding/json"
	"testing"
	"time"
)

// FuzzResumePacingState: the bytes a campaign store file hands a restarted
// controller are an input boundary. Whatever they are, ParsePacingState and
// Resume either refuse them with an error or leave a strategy that decides
// without panicking and hands back a state it resumes from again.
func FuzzResumePacingState(f *testing.F) {
	seed := func(n int) []byte {
		p, _ := NewPredictive(PredictiveConfig{AbandonLimit: 0.03, Window: 60, UKOfcom: true})
		at := pt0
		for i := range n {
			at = at.Add(7 * time.Second)
			o := []Outcome{NotAnswered, Machine, Connected, NotAnswered, Abandoned, Connected}[i%6]
			p.Settled(Settled{Placed: at, At: at.Add(time.Duration(3+i%9) * time.Second), Outcome: o})
			p.Handled(time.Duration(60+i%200)*time.Second, time.Duration(i%15)*time.Second)
		}
		b, _ := json.Marshal(p.PacingState())
		return b
	}
	f.Add(seed(0))
	f.Add(seed(40))
	f.Add(seed(100))
	f.Add([]byte(`{"strategy":"predictive","lambda":0.01}`))
	f.Add([]byte(`{"strategy":"predictive","lambda":0.01,"settled":[{"placed":"2026-01-05T08:00:00Z","at":"2026-01-05T08:00:09Z","outcome":3}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := ParsePacingState(b)
		if err != nil {
			return
		}
		p, err := NewPredictive(PredictiveConfig{AbandonLimit: 0.03, Window: 60, UKOfcom: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Resume(st); err != nil {
			return
		}
		s := Snapshot{Now: pt0, Agents: loads(2, 10, 1), Dialing: []time.Duration{time.Second}, MaxNew: 20, Reserve: 1, Borrow: 1, InboundRate: 0.05}
		if n := p.Decide(s); n < 0 || n > 20 {
			t.Fatalf("resumed strategy places %d calls, MaxNew 20", n)
		}
		q, _ := NewPredictive(PredictiveConfig{AbandonLimit: 0.03, Window: 60, UKOfcom: true})
		if err := q.Resume(p.PacingState()); err != nil {
			t.Fatalf("the state a resumed strategy hands back is refused: %v", err)
		}
	})
}
