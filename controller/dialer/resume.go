package dialer

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"
)

// A controller that restarts (a new shift, a deployment, a crash) used to
// start its predictive pacing from nothing: Warmup calls dialed as a
// progressive dialer, then λ from a tenth of the aim, raised by Gain × Aim
// per live answer — about 150 connects, two hours of a 20-agent blended
// campaign, of dialing well under what the abandon limit allows (measured on
// the §5.6 D scenario: 1.8 % abandons on a cold 8-hour day against the aim
// of 2.55 %). What it has learned is the campaign's, not the process's: the
// time to a live answer, the live share, the handling times, where λ
// settled and the abandons counted against the limit. PacingState carries
// it across the restart; the controller's adapter keeps it in the campaign
// store (campaign.Store.SavePacing) and hands it to the new strategy.

// A Resumable strategy can hand over what it has learned and resume from it.
type Resumable interface {
	Strategy
	// PacingState is what the strategy has learned so far.
	PacingState() PacingState
	// Resume replaces what the strategy has learned with st, taken from a
	// strategy of the same kind; the configuration stays the strategy's
	// own. A state that does not hold together is refused with the field
	// named, and the strategy is left as it was.
	Resume(st PacingState) error
}

// PacingState is a predictive dialer's learning, in the form the campaign
// store keeps (JSON).
type PacingState struct {
	// Strategy is the name of the strategy that wrote it ("predictive").
	Strategy string `json:"strategy"`
	// Settled are the last calls whose fate is known, oldest first (at
	// most the strategy's Window).
	Settled []SettledCall `json:"settled"`
	// Handled are the last campaign calls agents finished, oldest first.
	Handled []HandledTime `json:"handled"`
	// Lambda is the threshold on a new call's abandon chance where the
	// abandon control stood.
	Lambda float64 `json:"lambda"`
	// Aim is the abandon rate Lambda was steered to. A strategy that
	// resumes the state at another aim (the campaign's limit changed in
	// between) scales λ by the ratio of the aims, as SetCompliance does;
	// 0 (a state written before it was kept) takes λ as it is.
	Aim float64 `json:"aim,omitempty"`
	// Abandons are the counts over every call seen.
	Abandons Abandons `json:"abandons"`
	// Rolling is the window the plain rate is held to the limit over
	// (PredictiveConfig.AbandonWindow, 30 days), a count per bucket,
	// oldest first; UK the 24 h window of the UK measurement.
	Rolling []WindowCount `json:"rolling,omitempty"`
	UK      []WindowCount `json:"uk,omitempty"`
}

// SettledCall is one Settled call in a PacingState.
type SettledCall struct {
	Placed  time.Time `json:"placed"`
	At      time.Time `json:"at"`
	Outcome Outcome   `json:"outcome"`
}

// HandledTime is one finished call's talk and wrap-up.
type HandledTime struct {
	Talk time.Duration `json:"talk"`
	Wrap time.Duration `json:"wrap"`
}

// WindowCount is one bucket of an AbandonWindow, from Start.
type WindowCount struct {
	Start  time.Time `json:"start"`
	Counts Abandons  `json:"counts"`
}

// MarshalJSON keeps Abandons' JSON names stable and lower-case.
func (a Abandons) MarshalJSON() ([]byte, error) {
	return json.Marshal(abandonsJSON{a.LiveAnswered, a.Abandoned, a.Machines})
}

// UnmarshalJSON reads MarshalJSON's form.
func (a *Abandons) UnmarshalJSON(b []byte) error {
	var j abandonsJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*a = Abandons{LiveAnswered: j.LiveAnswered, Abandoned: j.Abandoned, Machines: j.Machines}
	return nil
}

type abandonsJSON struct {
	LiveAnswered int64 `json:"live_answered"`
	Abandoned    int64 `json:"abandoned"`
	Machines     int64 `json:"machines"`
}

// ParsePacingState reads a PacingState from its JSON, naming what is wrong.
func ParsePacingState(b []byte) (PacingState, error) {
	var st PacingState
	if err := json.Unmarshal(b, &st); err != nil {
		return PacingState{}, fmt.Errorf("dialer: pacing state: %w", err)
	}
	return st, nil
}

func (a Abandons) validate(field string) error {
	if a.LiveAnswered < 0 || a.Abandoned < 0 || a.Machines < 0 || a.Abandoned > a.LiveAnswered {
		return fmt.Errorf("dialer: pacing state: %s %+v: want counts ≥ 0 and abandoned ≤ live answered", field, a)
	}
	return nil
}

// validate checks what Resume relies on.
func (st PacingState) validate(name string) error {
	var errs []error
	if st.Strategy != name {
		errs = append(errs, fmt.Errorf("dialer: pacing state: strategy %q: want %q", st.Strategy, name))
	}
	if !(st.Lambda > 0 && st.Lambda <= 0.5) {
		errs = append(errs, fmt.Errorf("dialer: pacing state: lambda %v: want 0 < λ ≤ 0.5", st.Lambda))
	}
	if !(st.Aim >= 0 && st.Aim < 1) {
		errs = append(errs, fmt.Errorf("dialer: pacing state: aim %v: want 0 (not kept) or 0 < aim < 1", st.Aim))
	}
	for i, c := range st.Settled {
		if c.Outcome < NotAnswered || c.Outcome > Abandoned || c.At.Before(c.Placed) || c.Placed.IsZero() {
			errs = append(errs, fmt.Errorf("dialer: pacing state: settled[%d] %+v: want a known outcome and placed ≤ at", i, c))
			break
		}
	}
	for i, h := range st.Handled {
		if h.Talk < 0 || h.Wrap < 0 {
			errs = append(errs, fmt.Errorf("dialer: pacing state: handled[%d] %+v: want durations ≥ 0", i, h))
			break
		}
	}
	if err := st.Abandons.validate("abandons"); err != nil {
		errs = append(errs, err)
	}
	for _, w := range []struct {
		name    string
		buckets []WindowCount
	}{{"rolling", st.Rolling}, {"uk", st.UK}} {
		if len(w.buckets) > maxStateBuckets {
			errs = append(errs, fmt.Errorf("dialer: pacing state: %s: %d buckets: want at most %d", w.name, len(w.buckets), maxStateBuckets))
			continue
		}
		for i, m := range w.buckets {
			if err := m.Counts.validate(fmt.Sprintf("%s[%d]", w.name, i)); err != nil {
				errs = append(errs, err)
				break
			}
			if i > 0 && !m.Start.After(w.buckets[i-1].Start) {
				errs = append(errs, fmt.Errorf("dialer: pacing state: %s[%d] starts %v, not after %s[%d]: want buckets oldest first", w.name, i, m.Start, w.name, i-1))
				break
			}
		}
	}
	return errors.Join(errs...)
}

// maxStateBuckets bounds a window in a state: an AbandonWindow keeps 1,440
// buckets and one more being filled; a state with more was not written by
// one (a window shortened in between is evicted on resume anyway).
const maxStateBuckets = 1441

// counts lists w's live buckets, oldest first.
func (w *AbandonWindow) counts() []WindowCount {
	var out []WindowCount
	for _, b := range w.buckets[w.head:] {
		out = append(out, WindowCount{Start: b.start, Counts: b.n})
	}
	return out
}

// PacingState implements Resumable.
func (p *Predictive) PacingState() PacingState {
	st := PacingState{Strategy: p.Name(), Lambda: p.Lambda(), Aim: p.cfg.Aim, Abandons: p.window}
	// The rings are in insertion order from next (once full).
	for i := range p.ring {
		c := p.ring[(p.next+i)%len(p.ring)]
		st.Settled = append(st.Settled, SettledCall{Placed: c.Placed, At: c.At, Outcome: c.Outcome})
	}
	for i := range p.handled {
		h := p.handled[(p.hnext+i)%len(p.handled)]
		st.Handled = append(st.Handled, HandledTime{Talk: secondsDuration(h.talk), Wrap: secondsDuration(h.wrap)})
	}
	st.Rolling, st.UK = p.rolling.counts(), p.uk.counts()
	return st
}

// secondsDuration undoes Duration.Seconds to the nanosecond.
func secondsDuration(s float64) time.Duration { return time.Duration(math.Round(s * 1e9)) }

// Resume implements Resumable. The models are rebuilt from the calls as
// they were learned (the newest Window of them); λ and the abandon counts are taken as they stood
// (replaying the calls would count only those the window still holds).
func (p *Predictive) Resume(st PacingState) error {
	if err := st.validate(p.Name()); err != nil {
		return err
	}
	// A Window configured smaller since the state was saved keeps the
	// newest calls.
	st.Settled = st.Settled[max(0, len(st.Settled)-p.cfg.Window):]
	st.Handled = st.Handled[max(0, len(st.Handled)-p.cfg.Window):]
	q := &Predictive{cfg: p.cfg, aimDefault: p.aimDefault, configuredWindow: p.configuredWindow,
		rolling: AbandonWindow{Length: p.rolling.Length}, uk: AbandonWindow{Length: p.uk.Length}}
	for _, c := range st.Settled {
		q.learn(Settled{Placed: c.Placed, At: c.At, Outcome: c.Outcome})
	}
	for _, h := range st.Handled {
		q.Handled(h.Talk, h.Wrap)
	}
	q.logLam = math.Log(st.Lambda)
	if st.Aim > 0 && st.Aim != q.cfg.Aim {
		q.logLam = min(math.Log(0.5), max(math.Log(1e-9), q.logLam+math.Log(q.cfg.Aim/st.Aim)))
	}
	q.window = st.Abandons
	for _, m := range st.Rolling {
		q.rolling.add(m.Start, m.Counts)
	}
	for _, m := range st.UK {
		q.uk.add(m.Start, m.Counts)
	}
	*p = *q
	return nil
}

// add counts n at at, as Answered and Machine would have one by one.
func (w *AbandonWindow) add(at time.Time, n Abandons) {
	w.evict(at)
	b := w.bucket(at)
	b.LiveAnswered += n.LiveAnswered
	b.Abandoned += n.Abandoned
	b.Machines += n.Machines
	w.sum.LiveAnswered += n.LiveAnswered
	w.sum.Abandoned += n.Abandoned
	w.sum.Machines += n.Machines
}

var _ Resumable = (*Predictive)(nil)
