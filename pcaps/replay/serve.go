package replay

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/ipcclab/ipcclab/protocol/cti"
)

// reqStatus is where a captured request stands in the server role.
type reqStatus uint8

const (
	awaited reqStatus = iota
	matched
	missing
)

// reqState follows one captured request (not a poll) in the server role.
type reqState struct {
	status   reqStatus
	invoke   uint32    // the client's InvokeID for it
	recvAt   time.Time // when the client sent it
	expected time.Time // when the script started waiting for it (zero: not yet)
}

// heard is a request the client sent that the capture does not have there,
// kept to say what the client sent instead of a missing request.
type heard struct {
	at   time.Time
	text string
}

// server plays the captured CTI Server.
type server struct {
	outcome
	sc *script
	w  *wire

	next  int        // the next server step to send (an index into sc.steps)
	reqs  []int      // the captured requests matched one for one, in order
	first int        // reqs[:first] are all resolved
	state []reqState // by step index
	key   []string   // compared fields of each request step
	heard []heard
	never map[cti.MessageType]bool // request types never captured, reported once each
}

// Serve plays the captured CTI Server of s toward the client on conn (an
// accepted connection): it answers the client's requests with the captured
// confirmations, rewritten to the client's InvokeIDs, and sends the
// captured events at their captured times (scaled by Options.Speed), each
// once the requests that precede it in the capture have come. It reports
// where the client's requests diverge from the captured ones. Serve closes
// conn before it returns.
//
// A script that cannot be replayed (frames that do not decode, no
// OPEN_REQ) is an error naming the frame, as are invalid options; the
// client's behaviour, disconnecting included, is reported in the Result.
// Serve returns when the script has been played out, when the client is
// gone, after Options.MaxDivergences, or with ctx's error when ctx ends.
func Serve(ctx context.Context, conn net.Conn, s Script, o Options) (*Result, error) {
	if err := o.Validate(); err != nil {
		conn.Close()
		return nil, err
	}
	o = o.withDefaults()
	sc, err := prepare(s, o)
	if err != nil {
		conn.Close()
		return nil, err
	}
	sv := &server{outcome: newOutcome(o, RoleServer, sc.name), sc: sc, never: map[cti.MessageType]bool{},
		state: make([]reqState, len(sc.steps)), key: make([]string, len(sc.steps))}
	for i := range sc.steps {
		st := &sc.steps[i]
		if st.kind == request {
			sv.key[i] = keyOf(st.msg)
			if !st.poll {
				sv.reqs = append(sv.reqs, i)
			}
		}
	}
	sv.w = newWire(conn)
	defer sv.w.close()
	err = sv.run(ctx)
	sv.res.Elapsed = sv.clk.now(time.Now())
	return sv.res, err
}

func (sv *server) run(ctx context.Context) error {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	begun := time.Now()
	for {
		now := time.Now()
		wake := sv.advance(now)
		if sv.stop || sv.done() {
			return nil
		}
		if !sv.clk.anchored {
			// Nothing is due before the client opens the session; it
			// has Timeout to do so.
			if now.Sub(begun) >= sv.o.Timeout {
				open := &sv.sc.steps[sv.reqs[0]]
				sv.diverge(now, Missing, open.msg.MessageType(), open.n, "missing %s (%s): the client did not open the session within %v",
					open.msg.MessageType(), open.captured(), sv.o.Timeout)
				return nil
			}
			wake = earliest(wake, begun.Add(sv.o.Timeout))
		}
		d := time.Hour
		if !wake.IsZero() {
			d = max(time.Until(wake), 0)
		}
		timer.Reset(d)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case in := <-sv.w.frames:
			if in.err != nil {
				sv.disconnected(in.at, in.err)
				return nil
			}
			sv.receive(in.data, in.at)
		case <-timer.C:
		}
	}
}

// done reports that every captured server message went out (or was
// skipped) and every captured request was seen or reported missing.
func (sv *server) done() bool {
	return sv.nextServer() < 0 && sv.oldest() < 0
}

// nextServer is the index of the next captured server message to send, -1
// when all have gone.
func (sv *server) nextServer() int {
	for sv.next < len(sv.sc.steps) && sv.sc.steps[sv.next].kind == request {
		sv.next++
	}
	if sv.next >= len(sv.sc.steps) {
		return -1
	}
	return sv.next
}

// oldest is the step index of the oldest captured request neither matched
// nor reported missing, -1 when there is none.
func (sv *server) oldest() int {
	for sv.first < len(sv.reqs) && sv.state[sv.reqs[sv.first]].status != awaited {
		sv.first++
	}
	if sv.first >= len(sv.reqs) {
		return -1
	}
	return sv.reqs[sv.first]
}

// advance does everything due at real time now: sends the captured server
// messages that are ready, starts waiting for the requests whose time has
// come, reports those that did not come within Timeout. It returns when it
// next has something to do (zero: only a message from the client can
// change anything).
func (sv *server) advance(now time.Time) (wake time.Time) {
	for !sv.stop {
		progress := false
		j := sv.nextServer()
		if j >= 0 {
			st := &sv.sc.steps[j]
			if o := sv.oldest(); o >= 0 && o < j {
				// The client has not yet sent a request that precedes
				// this message in the capture: the script waits for it
				// from the moment the message is due.
				if st.at <= sv.clk.now(now) {
					sv.clk.freeze(sv.clk.realAt(st.at))
				} else {
					wake = earliest(wake, sv.clk.realAt(st.at))
				}
			} else {
				sv.clk.thaw(now)
				ready, at := sv.ready(j, now)
				if ready {
					sv.send(j, now)
					sv.next++
					progress = true
				} else {
					wake = earliest(wake, at)
				}
			}
		}
		// Requests: the script waits for each from when its captured time
		// has come and every server message before it has gone out.
		limit := sv.nextServer()
		if limit < 0 {
			limit = len(sv.sc.steps)
		}
		for k := sv.first; k < len(sv.reqs) && !sv.stop; k++ {
			i := sv.reqs[k]
			if i > limit {
				break
			}
			rs := &sv.state[i]
			if rs.status != awaited {
				continue
			}
			st := &sv.sc.steps[i]
			if rs.expected.IsZero() {
				if !sv.clk.anchored || st.at > sv.clk.now(now) {
					wake = earliest(wake, sv.clk.realAt(st.at))
					continue
				}
				rs.expected = now
			}
			deadline := rs.expected.Add(sv.o.Timeout)
			if now.Before(deadline) {
				wake = earliest(wake, deadline)
				continue
			}
			rs.status = missing
			progress = true
			sv.diverge(now, Missing, st.msg.MessageType(), st.n, "missing %s (%s) — %s",
				st.msg.MessageType(), st.captured(), sv.instead(rs.expected))
		}
		if !progress {
			return wake
		}
		wake = time.Time{}
	}
	return wake
}

// instead says what the client sent around the time a request that never
// came was awaited (from Timeout before).
func (sv *server) instead(expected time.Time) string {
	since := expected.Add(-sv.o.Timeout)
	for _, h := range sv.heard {
		if !h.at.Before(since) {
			return "client sent " + h.text + " instead"
		}
	}
	return fmt.Sprintf("client sent nothing within %v", sv.o.Timeout)
}

// ready reports whether server step j can go out at now, or when it will.
func (sv *server) ready(j int, now time.Time) (bool, time.Time) {
	st := &sv.sc.steps[j]
	if st.kind == confirmation && st.answer >= 0 && sv.state[st.answer].status == matched {
		// A confirmation follows its request by the captured delay.
		r := &sv.sc.steps[st.answer]
		at := sv.state[st.answer].recvAt.Add(st.at - r.at)
		return !now.Before(at), at
	}
	if st.kind == confirmation {
		// Skipped at once (see send).
		return true, time.Time{}
	}
	if !sv.clk.anchored {
		return st.at <= 0, time.Time{}
	}
	return st.at <= sv.clk.now(now), sv.clk.realAt(st.at)
}

// send sends captured server step j, or skips it: the answers to polls go
// out when the client polls, and a request that never came gets no answer.
func (sv *server) send(j int, now time.Time) {
	st := &sv.sc.steps[j]
	data := st.data
	if st.kind == confirmation {
		switch {
		case st.answer < 0:
			sv.note(fmt.Sprintf("captured %s %s answers InvokeID %d, which no captured request carries: not sent", st.msg.MessageType(), st.where(), st.invoke))
			return
		case sv.sc.steps[st.answer].poll:
			return
		case sv.state[st.answer].status != matched:
			return
		}
		data = setInvokeID(data, sv.state[st.answer].invoke)
	}
	sv.write(data, st.msg.MessageType(), now)
}

func (sv *server) write(frame []byte, mt cti.MessageType, now time.Time) {
	if sv.stop {
		return
	}
	if err := sv.w.write(frame, sv.o.Timeout); err != nil {
		sv.disconnected(now, err)
		return
	}
	sv.res.Sent++
	sv.logf("replay: +%.3fs sent %v", sv.clk.now(now).Seconds(), mt)
}

// answer sends a confirmation built here (heartbeats, refusals).
func (sv *server) answer(m cti.Message, now time.Time) {
	b, err := cti.AppendMessage(nil, m, sv.sc.pv)
	if err != nil {
		sv.note(fmt.Sprintf("cannot encode %v: %v", m.MessageType(), err))
		return
	}
	sv.write(b, m.MessageType(), now)
}

// disconnected reports the client gone before the script's end.
func (sv *server) disconnected(now time.Time, err error) {
	if sv.stop || sv.done() {
		return
	}
	why := "closed the connection"
	if !errors.Is(err, io.EOF) {
		why = fmt.Sprintf("connection failed (%v)", err)
	}
	left := 0
	for k := sv.first; k < len(sv.reqs); k++ {
		if sv.state[sv.reqs[k]].status == awaited {
			left++
		}
	}
	if o := sv.oldest(); o >= 0 {
		st := &sv.sc.steps[o]
		sv.diverge(now, Disconnected, st.msg.MessageType(), st.n, "client %s with %d captured requests still to come, the next: %s (%s)",
			why, left, st.msg.MessageType(), st.captured())
	} else {
		st := &sv.sc.steps[sv.nextServer()]
		sv.diverge(now, Disconnected, st.msg.MessageType(), st.n, "client %s before the script's end (next captured message: %s %s)",
			why, st.msg.MessageType(), st.where())
	}
	sv.stop = true
}

// receive handles one message from the client.
func (sv *server) receive(frame []byte, now time.Time) {
	sv.res.Received++
	m, err := cti.DecodeMessage(frame, sv.sc.pv)
	if err != nil {
		var ce *cti.Error
		mt := cti.MessageType(0)
		if errors.As(err, &ce) {
			mt = ce.Type
		}
		sv.diverge(now, Undecodable, mt, 0, "client sent a message the codec rejects: %v", err)
		return
	}
	mt := m.MessageType()
	var invoke uint32
	if hasInvokeID(mt) {
		invoke, _ = cti.InvokeIDFromBody(frame[cti.HeaderSize:])
	}
	if !sv.clk.anchored && len(sv.reqs) > 0 {
		// The session opens now: replay time is the captured OPEN_REQ's.
		sv.clk.anchor(now, sv.sc.steps[sv.reqs[0]].at)
	}
	sv.logf("replay: +%.3fs received %s", sv.clk.now(now).Seconds(), describe(m))
	if mt == cti.MsgHeartbeatReq {
		// A heartbeat carries nothing but its InvokeID; it is answered
		// whether or not the capture is long enough to hold one.
		sv.res.Polls++
		sv.answer(&cti.HeartbeatConf{InvokeID: invoke}, now)
		return
	}
	key := keyOf(m)
	if _, ok := sv.sc.polls[key]; ok {
		if _, conf := sv.sc.nearestPoll(key, sv.clk.now(now)); conf >= 0 {
			sv.res.Polls++
			sv.write(setInvokeID(sv.sc.steps[conf].data, invoke), sv.sc.steps[conf].msg.MessageType(), now)
			return
		}
	}
	sv.match(m, key, invoke, now)
}

// match pairs a request with a captured one, within the window of the
// Options.Window oldest captured requests not yet seen: the same type and
// fields first (in any order: independent requests may be reordered), else
// the first of the same type due within Timeout (a mismatch of fields).
func (sv *server) match(m cti.Message, key string, invoke uint32, now time.Time) {
	mt := m.MessageType()
	clk := sv.clk.now(now)
	exact, sameType := -1, -1
	seen := 0
	for k := sv.first; k < len(sv.reqs) && seen < sv.o.Window; k++ {
		i := sv.reqs[k]
		if sv.state[i].status != awaited {
			continue
		}
		seen++
		st := &sv.sc.steps[i]
		if sv.key[i] == key {
			exact = i
			break
		}
		if sameType < 0 && st.msg.MessageType() == mt && st.at <= clk+sv.o.Timeout {
			sameType = i
		}
	}
	take := func(i int) {
		rs := &sv.state[i]
		rs.status, rs.invoke, rs.recvAt = matched, invoke, now
	}
	switch {
	case exact >= 0:
		take(exact)
		sv.res.Matched++
		if st := &sv.sc.steps[exact]; st.at > clk+sv.o.Timeout {
			sv.diverge(now, Early, mt, st.n, "%s came %.3fs early (%s)", mt, (st.at - clk).Seconds(), st.captured())
		}
	case sameType >= 0:
		take(sameType)
		st := &sv.sc.steps[sameType]
		diffs, _ := compare(st.msg, m, nil)
		sv.diverge(now, Mismatch, mt, st.n, "%s differs from the captured one (%s): %s", mt, st.where(), joinDiffs(diffs))
	default:
		sv.heard = append(sv.heard, heard{at: now, text: describe(m)})
		if len(sv.heard) > 64 {
			sv.heard = sv.heard[1:]
		}
		switch {
		case !sv.sc.types[mt]:
			if !sv.never[mt] {
				sv.never[mt] = true
				sv.diverge(now, Unexpected, mt, 0, "unexpected %s: the capture has no %s at all", describe(m), mt)
			}
		default:
			sv.diverge(now, Unexpected, mt, 0, "unexpected %s: %s", describe(m), sv.nearestOfType(mt, clk))
		}
		if hasInvokeID(mt) && !isConfirmation(mt) {
			// The capture holds no answer to this: refuse it, as a
			// server does a request it cannot serve, so the client is
			// not left waiting.
			sv.answer(&cti.FailureConf{InvokeID: invoke, Status: cti.StatusUnspecifiedFailure}, now)
		}
	}
}

// nearestOfType describes where the capture does have requests of type mt,
// to help read an unexpected one.
func (sv *server) nearestOfType(mt cti.MessageType, clk time.Duration) string {
	best := -1
	var bd time.Duration
	for i := range sv.sc.steps {
		st := &sv.sc.steps[i]
		if st.kind != request || st.msg.MessageType() != mt {
			continue
		}
		d := st.at - clk
		if d < 0 {
			d = -d
		}
		if best < 0 || d < bd {
			best, bd = i, d
		}
	}
	if best < 0 {
		return "the capture has none"
	}
	st := &sv.sc.steps[best]
	status := "already matched"
	switch {
	case st.poll:
		status = "a poll"
	case sv.state[best].status == awaited:
		status = "not yet due"
	case sv.state[best].status == missing:
		status = "reported missing"
	}
	return fmt.Sprintf("no captured request matches here (nearest %s is %s, %s: %s)", mt, st.where(), status, fields(st.msg))
}
