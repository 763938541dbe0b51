package lab

import (
	"encoding/binary"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/ipcclab/ipcclab/controller"
	"github.com/ipcclab/ipcclab/controller/reporting"
	"github.com/ipcclab/ipcclab/emulator/ctiserver"
	"github.com/ipcclab/ipcclab/internal/ctitcp"
	"github.com/ipcclab/ipcclab/protocol/cti"
	"github.com/ipcclab/ipcclab/scenarios"
)

// journalSkew is how much earlier than its dial request reaches the CTI
// Server a live attempt's journal entry may start: the controller
// journals on its own clock, then the request crosses loopback TCP.
const journalSkew = 2 * time.Second

// liveStore writes a real-time run's historical records to
// UpOptions.Store: each half-hour interval when it closes (the interval
// collector's cut), the partial one and the outbound attempts at Stop.
// The writes go through one goroutine, so that the centre's loop never
// waits for SQLite.
type liveStore struct {
	store *reporting.Store
	logf  func(string, ...any)
	// atts follows the controller's CTI session on the centre's side
	// (nil without the controller); loop-only, like the sessions.
	atts *attemptCollector
	jobs chan *reporting.Intervals
	done chan struct{}
	once sync.Once
}

// openLiveStore opens (creating) the store at path before anything runs,
// so that a bad path fails `up` at once, naming the flag.
func openLiveStore(path string, sc *scenarios.Scenario, ccfg *controller.Config, logf func(string, ...any)) (*liveStore, error) {
	s, err := reporting.Create(path)
	if err != nil {
		return nil, fmt.Errorf("--store: %w", err)
	}
	ls := &liveStore{store: s, logf: logf, jobs: make(chan *reporting.Intervals, 16), done: make(chan struct{})}
	if ccfg != nil {
		if ls.atts, err = newAttemptCollector(&[]reporting.Attempt{}, sc, *ccfg); err != nil {
			s.Close()
			return nil, err
		}
		ls.atts.logf = logf
	}
	go ls.write()
	return ls, nil
}

func (ls *liveStore) write() {
	defer close(ls.done)
	for iv := range ls.jobs {
		if err := ls.store.Write(iv); err != nil && ls.logf != nil {
			ls.logf("--store: %v (interval %s lost)", err, firstStart(iv))
		}
	}
}

func firstStart(iv *reporting.Intervals) string {
	if len(iv.CallTypes) > 0 {
		return iv.CallTypes[0].Start.Format("15:04")
	}
	return "?"
}

// interval queues an interval's rows (the collector's onCut, on the
// loop); they are copied, as the collector's slices change later.
func (ls *liveStore) interval(iv *reporting.Intervals) {
	cp := &reporting.Intervals{CallTypes: slices.Clone(iv.CallTypes), SkillGroups: slices.Clone(iv.SkillGroups),
		Agents: slices.Clone(iv.Agents), Campaigns: slices.Clone(iv.Campaigns)}
	select {
	case ls.jobs <- cp:
	default:
		// Sixteen half-hours behind: the disk is gone, not slow.
		if ls.logf != nil {
			ls.logf("--store: the writer is behind; interval %s not written", firstStart(cp))
		}
	}
}

// close writes the attempts (taken on the loop by the caller, atts) after
// the queued intervals, and closes the store.
func (ls *liveStore) close(atts []reporting.Attempt) {
	if ls == nil {
		return
	}
	ls.once.Do(func() {
		close(ls.jobs)
		<-ls.done
		if err := ls.store.WriteAttempts(atts); err != nil && ls.logf != nil {
			ls.logf("--store: %v", err)
		}
		if err := ls.store.Close(); err != nil && ls.logf != nil {
			ls.logf("--store: %v", err)
		}
	})
}

// finishLiveStore records the partial interval and returns the attempts
// joined with the campaign journal; it runs on the loop, before the CTI
// Server shuts down.
func (r *Running) finishLiveStore(now time.Time) []reporting.Attempt {
	r.intervals.cut(now)
	if r.store.atts == nil {
		return nil
	}
	atts, err := r.store.atts.joined(now, r.camp, journalSkew)
	if err != nil {
		if r.store.logf != nil {
			r.store.logf("--store: %v", err)
		}
		return r.store.atts.rec.Attempts(now)
	}
	return atts
}

// closeLiveStore writes the partial interval and the attempts and closes
// the store (Stop; a second call does nothing).
func (r *Running) closeLiveStore() {
	if r.store == nil {
		return
	}
	ch := make(chan []reporting.Attempt, 1)
	r.loop.Post(func(now time.Time) { ch <- r.finishLiveStore(now) })
	var atts []reporting.Attempt
	select {
	case atts = <-ch:
	case <-time.After(5 * time.Second):
		if r.store.logf != nil {
			r.store.logf("--store: the centre did not answer: the partial interval and the attempts are not written")
		}
	}
	r.store.close(atts)
}

// acceptCTI is a new CTI Server session on c; with --store and the
// controller, the session of the reference controller is followed by the
// attempt recorder, as simulate's CTI link is (attempts.go): what the
// controller sends (its OPEN_REQ, dial requests) and what it receives.
func (r *Running) acceptCTI(srv *ctiserver.Server, c *ctitcp.Conn) ctitcp.FrameSink {
	if r.store == nil || r.store.atts == nil {
		return srv.Accept(c, c.Remote)
	}
	t := &attemptTap{conn: c, r: r}
	t.FrameSink = srv.Accept(t, c.Remote)
	return t
}

// attemptTap is one CTI session seen by the attempt recorder once its
// OPEN_REQ names the reference controller. It runs on the loop.
type attemptTap struct {
	ctitcp.FrameSink
	conn       ctiserver.Conn
	r          *Running
	controller bool
}

// Send is the server's frame to the client.
func (t *attemptTap) Send(f []byte) {
	if t.controller {
		t.r.store.atts.rec.Received(t.r.loop.Now(), f)
	}
	t.conn.Send(f)
}

func (t *attemptTap) Close() { t.conn.Close() }

// Receive is the client's frame to the server.
func (t *attemptTap) Receive(f []byte) {
	if len(f) >= cti.HeaderSize && cti.MessageType(binary.BigEndian.Uint32(f[4:8])) == cti.MsgOpenReq {
		// OPEN_REQ is decoded with its own VersionNumber (§5.1).
		if msg, err := cti.DecodeMessage(f, cti.ProtocolVersion(24)); err == nil {
			if o, ok := msg.(*cti.OpenReq); ok {
				t.controller = o.ClientID == ControllerClientID
			}
		}
	}
	if t.controller {
		t.r.store.atts.rec.Sent(t.r.loop.Now(), f)
	}
	t.FrameSink.Receive(f)
}

func (t *attemptTap) FramingError(err error) {
	t.closed()
	t.FrameSink.FramingError(err)
}

func (t *attemptTap) Closed() {
	t.closed()
	t.FrameSink.Closed()
}

// closed: the controller's calls in flight can no longer be followed
// (Recorder.Closed); it reconnects with a new session.
func (t *attemptTap) closed() {
	if t.controller {
		t.r.store.atts.rec.Closed(t.r.loop.Now())
		t.controller = false
	}
}
