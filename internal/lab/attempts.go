package lab

import (
	"fmt"
	"time"

	"github.com/ipcclab/ipcclab/controller"
	"github.com/ipcclab/ipcclab/controller/reporting"
	"github.com/ipcclab/ipcclab/controller/reporting/attempts"
	"github.com/ipcclab/ipcclab/scenarios"
)

// attemptCollector keeps a simulated run's per-attempt outbound records
// (SimOptions.Attempts): an attempts.Recorder on the controller's side of
// the simulated CTI link, seeing each frame when the controller sends or
// receives it. A nil collector does nothing.
type attemptCollector struct {
	out  *[]reporting.Attempt
	rec  *attempts.Recorder
	logf func(string, ...any)
}

// attemptMode names how the controller places calls, as it knows it.
func attemptMode(ccfg controller.Config) string {
	switch {
	case ccfg.Pool != nil:
		return "pool/" + ccfg.Pool.Strategy.Name()
	case ccfg.Preview != nil:
		return "preview"
	}
	return "progressive"
}

func newAttemptCollector(out *[]reporting.Attempt, sc *scenarios.Scenario, ccfg controller.Config) (*attemptCollector, error) {
	if out == nil {
		return nil, nil
	}
	cfg := attempts.Config{Campaign: sc.Outbound.Campaign, Mode: attemptMode(ccfg), Agents: map[string]string{}, Version: ccfg.Version}
	if cfg.Campaign == "" {
		cfg.Campaign = sc.Name // as the campaign's interval rows name it
	}
	for _, a := range ccfg.Agents {
		cfg.Agents[a.Instrument] = a.AgentID
	}
	switch {
	case ccfg.Pool != nil:
		cfg.Ports, cfg.ConnectWithin = ccfg.Pool.Ports, ccfg.Pool.ConnectWithin
	case ccfg.Preview != nil:
		cfg.Ports = ccfg.Preview.Ports
	}
	rec, err := attempts.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("scenario %s: attempt records: %w", sc.Name, err)
	}
	return &attemptCollector{out: out, rec: rec, logf: ccfg.Logf}, nil
}

// watch sees the frames delivered to the controller.
func (c *attemptCollector) watch(now func() time.Time, deliver func([]byte)) func([]byte) {
	if c == nil {
		return deliver
	}
	return func(f []byte) {
		c.rec.Received(now(), f)
		deliver(f)
	}
}

// sentWatch is the controller's transport with the recorder seeing what it
// sends.
type sentWatch struct {
	controller.Transport
	now func() time.Time
	rec *attempts.Recorder
}

func (w sentWatch) Send(f []byte) {
	w.rec.Sent(w.now(), f)
	w.Transport.Send(f)
}

// transport wraps the controller's transport.
func (c *attemptCollector) transport(now func() time.Time, t controller.Transport) controller.Transport {
	if c == nil {
		return t
	}
	return sentWatch{Transport: t, now: now, rec: c.rec}
}

// finish stores the attempts as of now. For a call list it joins each
// attempt with its journal entry in the campaign store (the controller
// journals an attempt just before its dial request leaves, so in
// simulation both have the same start): the attempt number is the
// journal's, and so is the outcome of an entry the controller has ended —
// its own judgement.
func (c *attemptCollector) finish(now time.Time, camp *labCampaign) error {
	if c == nil {
		return nil
	}
	atts, err := c.joined(now, camp, 0)
	if err != nil {
		return err
	}
	*c.out = append(*c.out, atts...)
	return nil
}

// joined returns the recorder's attempts as of now joined with camp's
// journal (finish). skew is how much earlier than the attempt's start, as
// the recorder saw it, its journal entry may have started: 0 in
// simulation, where the journal and the link share one clock and an entry
// missing is an error; in real time the controller journals on its own
// clock before the request crosses the TCP link, so the entry is the last
// one started within skew, and an attempt without one keeps what the CTI
// session showed, with a log line.
func (c *attemptCollector) joined(now time.Time, camp *labCampaign, skew time.Duration) ([]reporting.Attempt, error) {
	atts := c.rec.Attempts(now)
	if n := c.rec.Undecodable(); n > 0 && skew == 0 {
		return nil, fmt.Errorf("lab: attempt records: %d frames of the controller's session could not be decoded", n)
	}
	for i := range atts {
		a := &atts[i]
		if a.RecordID == 0 || camp == nil {
			continue
		}
		journal, err := camp.store.Attempts(a.RecordID)
		if err != nil {
			return nil, fmt.Errorf("lab: attempt records: record %d: %w", a.RecordID, err)
		}
		start := a.Start.Truncate(time.Millisecond)
		found := -1
		for n, j := range journal {
			switch {
			case skew == 0 && j.StartedAt.Equal(start):
				found = n
			case skew > 0 && !j.StartedAt.After(start) && start.Sub(j.StartedAt) <= skew:
				found = n // the last such entry: journal entries are in start order
				continue
			default:
				continue
			}
			break
		}
		if found < 0 {
			if skew > 0 {
				if c.logf != nil {
					c.logf("lab: attempt records: the dial of record %d at %s has no journal entry within %v (kept as the CTI session showed it)",
						a.RecordID, a.Start.Format("15:04:05.000"), skew)
				}
				continue
			}
			return nil, fmt.Errorf("lab: attempt records: the dial of record %d at %s is not in the campaign's journal", a.RecordID,
				a.Start.Format(time.RFC3339Nano))
		}
		j := journal[found]
		a.AttemptNumber = found + 1
		if j.EndedAt.IsZero() {
			continue
		}
		if a.Outcome != "" && a.Outcome != j.Outcome && c.logf != nil {
			// The recorder follows the controller's rules; a difference
			// means one of them changed.
			c.logf("lab: attempt records: record %d, attempt %d at %s: the CTI session says %s, the journal %s (kept)",
				a.RecordID, a.AttemptNumber, a.Start.Format("15:04:05.000"), a.Outcome, j.Outcome)
		}
		a.Outcome = j.Outcome
	}
	return atts, nil
}
