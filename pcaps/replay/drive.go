package replay

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/ipcclab/ipcclab/protocol/cti"
)

// answerState is the answer awaited for one request the client role sent.
type answerState struct {
	deadline time.Time // its captured delay plus Timeout after the request
}

// driver plays the captured client.
type driver struct {
	outcome
	sc  *script
	w   *wire
	ids *idMap

	next int            // the next captured step to look at for sending
	sent map[uint32]int // InvokeID -> request step awaiting its answer
	// loose: InvokeIDs of requests the capture has no answer to (it ended
	// first); whatever the server answers is taken without comparison.
	loose   map[uint32]int
	late    map[uint32]int // InvokeIDs whose answers were reported missing
	answers []answerState  // by request step index
	// Events: counted by type, and paired one for one where they agree, to
	// learn the live server's identifiers.
	captured map[cti.MessageType]int
	received map[cti.MessageType]int
	// unpaired holds the captured event steps not paired yet, in capture
	// order, by their fields without identifiers (eventKey): an event can
	// only pair with captured events under its own key, so pairing costs
	// a map lookup however long the capture.
	unpaired  map[string][]int
	nUnpaired int
	paired    int
	// extra counts the received events that paired with nothing, by type,
	// and keeps the first of each (StrictEvents).
	extra      map[cti.MessageType]int
	extraFirst map[cti.MessageType]string
}

// eventPairWindow bounds how many captured events with its key an incoming
// event is tried against.
const eventPairWindow = 256

// Drive plays the captured client of s toward the CTI Server on conn (a
// dialed connection): it sends the captured requests at their captured
// times (scaled by Options.Speed), OPEN_REQ first, each once the answers
// that precede it in the capture have come, with the identifiers the live
// server assigned in place of the captured ones; and it compares the
// server's answers with the captured answers and its events with the
// captured events. Drive closes conn before it returns.
//
// Errors and ending are as for Serve.
func Drive(ctx context.Context, conn net.Conn, s Script, o Options) (*Result, error) {
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
	d := newDriver(sc, o)
	d.w = newWire(conn)
	defer d.w.close()
	first := 0
	for sc.steps[first].kind != request {
		first++
	}
	d.clk.anchor(time.Now(), sc.steps[first].at)
	err = d.run(ctx)
	d.res.Elapsed = d.clk.now(time.Now())
	return d.res, err
}

// newDriver prepares the client role's bookkeeping for a script.
func newDriver(sc *script, o Options) *driver {
	d := &driver{outcome: newOutcome(o, RoleClient, sc.name), sc: sc, ids: newIDMap(), sent: map[uint32]int{}, loose: map[uint32]int{}, late: map[uint32]int{},
		answers: make([]answerState, len(sc.steps)), captured: map[cti.MessageType]int{}, received: map[cti.MessageType]int{},
		extra: map[cti.MessageType]int{}, extraFirst: map[cti.MessageType]string{},
		unpaired: map[string][]int{}}
	for i := range sc.steps {
		if st := &sc.steps[i]; st.kind == event {
			d.captured[st.msg.MessageType()]++
			k := eventKey(st.msg)
			d.unpaired[k] = append(d.unpaired[k], i)
			d.nUnpaired++
		}
	}
	return d
}

func (d *driver) run(ctx context.Context) error {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		now := time.Now()
		wake := d.advance(now)
		if d.stop {
			return nil
		}
		if d.finished(now) {
			d.compareEvents(now)
			return nil
		}
		dur := time.Hour
		if !wake.IsZero() {
			dur = max(time.Until(wake), 0)
		}
		timer.Reset(dur)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case in := <-d.w.frames:
			if in.err != nil {
				d.disconnected(in.at, in.err)
				return nil
			}
			d.receive(in.data, in.at)
		case <-timer.C:
		}
	}
}

// nextRequest is the index of the next captured request to send, -1 when
// all have gone.
func (d *driver) nextRequest() int {
	for d.next < len(d.sc.steps) && d.sc.steps[d.next].kind != request {
		d.next++
	}
	if d.next >= len(d.sc.steps) {
		return -1
	}
	return d.next
}

// awaiting reports whether an answer the capture has before step i is
// still awaited: the captured client had it before it sent step i.
func (d *driver) awaiting(i int) bool {
	for _, r := range d.sent {
		if c := d.sc.steps[r].answer; c >= 0 && c < i {
			return true
		}
	}
	return false
}

// finished: every request sent and answered (or reported), and the
// script's time is out, so the server has had the captured span to send
// its events; the events still expected (every captured type, or every
// captured event with StrictEvents) are waited for up to Timeout more.
func (d *driver) finished(now time.Time) bool {
	if d.nextRequest() >= 0 || len(d.sent) > 0 {
		return false
	}
	t := d.clk.now(now)
	return t >= d.sc.end()+d.o.Timeout || (t >= d.sc.end() && d.eventsComplete())
}

// eventsComplete reports that nothing more is expected of the server's
// events.
func (d *driver) eventsComplete() bool {
	if d.o.StrictEvents {
		return d.nUnpaired == 0
	}
	for mt := range d.captured {
		if d.received[mt] == 0 {
			return false
		}
	}
	return true
}

func (d *driver) advance(now time.Time) (wake time.Time) {
	for !d.stop {
		progress := false
		if i := d.nextRequest(); i >= 0 {
			st := &d.sc.steps[i]
			if d.awaiting(i) {
				if st.at <= d.clk.now(now) {
					d.clk.freeze(d.clk.realAt(st.at))
				} else {
					wake = earliest(wake, d.clk.realAt(st.at))
				}
			} else {
				d.clk.thaw(now)
				if st.at <= d.clk.now(now) {
					d.send(i, now)
					d.next++
					progress = true
				} else {
					wake = earliest(wake, d.clk.realAt(st.at))
				}
			}
		}
		for _, inv := range d.awaitedInOrder() {
			r := d.sent[inv]
			as := &d.answers[r]
			if now.Before(as.deadline) {
				wake = earliest(wake, as.deadline)
				continue
			}
			delete(d.sent, inv)
			d.late[inv] = r
			progress = true
			st := &d.sc.steps[r]
			c := &d.sc.steps[st.answer]
			d.diverge(now, Missing, c.msg.MessageType(), c.n, "missing %s (%s): no answer to %s (%s) within %v",
				c.msg.MessageType(), c.captured(), st.msg.MessageType(), st.captured(), d.o.Timeout)
		}
		if d.nextRequest() < 0 && len(d.sent) == 0 {
			if t := d.clk.now(now); t < d.sc.end() {
				wake = earliest(wake, d.clk.realAt(d.sc.end()))
			} else {
				wake = earliest(wake, d.clk.realAt(d.sc.end()+d.o.Timeout))
			}
		}
		if !progress {
			return wake
		}
		wake = time.Time{}
	}
	return wake
}

// awaitedInOrder lists the InvokeIDs awaiting an answer in the order
// their requests were captured, so reports come out in a stable order.
func (d *driver) awaitedInOrder() []uint32 {
	ids := make([]uint32, 0, len(d.sent))
	for inv := range d.sent {
		ids = append(ids, inv)
	}
	slices.SortFunc(ids, func(a, b uint32) int { return d.sent[a] - d.sent[b] })
	return ids
}

// send sends captured request i, with the live server's identifiers.
func (d *driver) send(i int, now time.Time) {
	st := &d.sc.steps[i]
	frame := st.data
	m, err := cti.DecodeMessage(st.data, d.sc.pv) // a copy to rewrite
	if err != nil {
		m = st.msg // prepare decoded it: cannot happen
	} else {
		changed, unmapped := rewriteIDs(m, d.ids)
		for _, u := range unmapped {
			d.note(fmt.Sprintf("%s %s names %s, which the live server has not assigned in any answer or matching event: sent as captured", st.msg.MessageType(), st.where(), u))
		}
		if changed {
			if b, err := cti.AppendMessage(nil, m, d.sc.pv); err == nil {
				frame = b
			} else {
				d.note(fmt.Sprintf("%s %s: cannot re-encode with the live identifiers (%v): sent as captured", st.msg.MessageType(), st.where(), err))
			}
		}
	}
	if err := d.w.write(frame, d.o.Timeout); err != nil {
		d.disconnected(now, err)
		return
	}
	d.res.Sent++
	d.logf("replay: +%.3fs sent %s", d.clk.now(now).Seconds(), describe(m))
	if st.answer < 0 && hasInvokeID(st.msg.MessageType()) {
		d.loose[st.invoke] = i
	}
	if st.answer >= 0 && hasInvokeID(st.msg.MessageType()) {
		c := &d.sc.steps[st.answer]
		if _, dup := d.sent[st.invoke]; dup {
			d.note(fmt.Sprintf("%s %s reuses InvokeID %d while an earlier request with it is unanswered", st.msg.MessageType(), st.where(), st.invoke))
		}
		d.sent[st.invoke] = i
		d.answers[i] = answerState{deadline: now.Add(c.at - st.at + d.o.Timeout)}
	}
}

// disconnected reports the server gone. After the last request has been
// sent and answered the server may close (after CLOSE_CONF, say); before,
// it is a divergence.
func (d *driver) disconnected(now time.Time, err error) {
	if d.stop {
		return
	}
	why := "closed the connection"
	if !errors.Is(err, io.EOF) {
		why = fmt.Sprintf("connection failed (%v)", err)
	}
	switch i := d.nextRequest(); {
	case i >= 0:
		st := &d.sc.steps[i]
		left := 0
		for k := i; k < len(d.sc.steps); k++ {
			if d.sc.steps[k].kind == request {
				left++
			}
		}
		d.diverge(now, Disconnected, st.msg.MessageType(), st.n, "server %s with %d captured requests still to send, the next: %s (%s)",
			why, left, st.msg.MessageType(), st.captured())
	case len(d.sent) > 0:
		var waiting []string
		for _, r := range d.sent {
			st := &d.sc.steps[r]
			waiting = append(waiting, fmt.Sprintf("%s %s", st.msg.MessageType(), st.where()))
		}
		slices.Sort(waiting)
		d.diverge(now, Disconnected, 0, 0, "server %s before answering %s", why, strings.Join(waiting, ", "))
	default:
		d.compareEvents(now)
	}
	d.stop = true
}

// receive handles one message from the server.
func (d *driver) receive(frame []byte, now time.Time) {
	d.res.Received++
	m, err := cti.DecodeMessage(frame, d.sc.pv)
	if err != nil {
		var ce *cti.Error
		mt := cti.MessageType(0)
		if errors.As(err, &ce) {
			mt = ce.Type
		}
		d.diverge(now, Undecodable, mt, 0, "server sent a message the codec rejects: %v", err)
		return
	}
	mt := m.MessageType()
	d.logf("replay: +%.3fs received %s", d.clk.now(now).Seconds(), describe(m))
	if !isConfirmation(mt) {
		d.event(m)
		return
	}
	invoke, _ := cti.InvokeIDFromBody(frame[cti.HeaderSize:])
	r, ok := d.sent[invoke]
	if l, loose := d.loose[invoke]; !ok && loose {
		delete(d.loose, invoke)
		st := &d.sc.steps[l]
		d.note(fmt.Sprintf("%s %s: the capture ends before its answer; the server answered %s", st.msg.MessageType(), st.where(), describe(m)))
		return
	}
	if l, late := d.late[invoke]; !ok && late {
		delete(d.late, invoke)
		st := &d.sc.steps[l]
		d.note(fmt.Sprintf("%s %s was answered %s after it was reported missing", st.msg.MessageType(), st.where(), describe(m)))
		return
	}
	if !ok {
		d.diverge(now, Unexpected, mt, 0, "unexpected %s: InvokeID %d answers no request awaiting an answer", describe(m), invoke)
		return
	}
	delete(d.sent, invoke)
	st := &d.sc.steps[r]
	c := &d.sc.steps[st.answer]
	if c.msg.MessageType() != mt {
		d.diverge(now, WrongAnswer, c.msg.MessageType(), c.n, "%s (%s) answered %s instead of %s (%s)",
			st.msg.MessageType(), st.captured(), describe(m), c.msg.MessageType(), c.captured())
		return
	}
	if st.poll {
		// A poll's answer samples the centre at the moment it is asked:
		// its type is compared, not its values.
		d.res.Polls++
		return
	}
	diffs, binds := compare(c.msg, m, d.ids)
	if len(diffs) > 0 {
		d.diverge(now, Mismatch, mt, c.n, "%s answering %s (captured %s) differs from the captured one (%s): %s",
			mt, st.msg.MessageType(), st.where(), c.where(), joinDiffs(diffs))
		return
	}
	d.ids.commit(binds)
	d.res.Matched++
}

// event counts an event and pairs it with the oldest captured event that
// agrees with it field for field (identifiers by the mapping), which
// teaches the mapping the identifiers it carries. An event that pairs with
// nothing is not a divergence unless StrictEvents: what a centre's traffic
// does between two requests is not the client's to reproduce.
func (d *driver) event(m cti.Message) {
	mt := m.MessageType()
	d.received[mt]++
	k := eventKey(m)
	list := d.unpaired[k]
	for j, i := range list {
		if j >= eventPairWindow {
			break
		}
		diffs, binds := compare(d.sc.steps[i].msg, m, d.ids)
		if len(diffs) > 0 {
			continue // identifiers the mapping says belong elsewhere
		}
		d.ids.commit(binds)
		if len(list) == 1 {
			delete(d.unpaired, k)
		} else {
			d.unpaired[k] = slices.Delete(list, j, j+1)
		}
		d.nUnpaired--
		d.paired++
		return
	}
	if d.extra[mt] == 0 {
		d.extraFirst[mt] = describe(m)
	}
	d.extra[mt]++
}

// compareEvents reports event types that the capture has and the server
// never sent, and the reverse.
func (d *driver) compareEvents(now time.Time) {
	total := 0
	for _, n := range d.captured {
		total += n
	}
	if total > 0 {
		d.note(fmt.Sprintf("events: %d captured, %d received, %d paired one for one", total, d.receivedTotal(), d.paired))
	}
	var types []cti.MessageType
	for mt := range d.captured {
		types = append(types, mt)
	}
	for mt := range d.received {
		if d.captured[mt] == 0 {
			types = append(types, mt)
		}
	}
	slices.Sort(types)
	if d.o.StrictEvents {
		d.compareEventsStrictly(now, types)
		return
	}
	for _, mt := range types {
		c, r := d.captured[mt], d.received[mt]
		switch {
		case r == 0:
			d.diverge(now, Events, mt, d.firstOfType(mt), "server sent no %s; the capture has %d (the first %s)", mt, c, d.sc.steps[d.firstOfType(mt)-1].where())
		case c == 0:
			d.diverge(now, Events, mt, 0, "server sent %d %s; the capture has none", r, mt)
		}
	}
}

// compareEventsStrictly reports, type by type, the captured events no
// received event matched and the received events that matched none.
func (d *driver) compareEventsStrictly(now time.Time, types []cti.MessageType) {
	left := map[cti.MessageType][]int{}
	for _, list := range d.unpaired {
		for _, i := range list {
			mt := d.sc.steps[i].msg.MessageType()
			left[mt] = append(left[mt], i)
		}
	}
	for _, l := range left {
		slices.Sort(l)
	}
	for _, mt := range types {
		if l := left[mt]; len(l) > 0 {
			st := &d.sc.steps[l[0]]
			d.diverge(now, Events, mt, st.n, "%d captured %s matched by none the server sent (%d sent), the first: %s (captured %s)",
				len(l), mt, d.received[mt], fields(st.msg), st.where())
		}
		if n := d.extra[mt]; n > 0 {
			d.diverge(now, Events, mt, 0, "server sent %d %s matching no captured one, the first: %s", n, mt, d.extraFirst[mt])
		}
	}
}

func (d *driver) receivedTotal() int {
	n := 0
	for _, v := range d.received {
		n += v
	}
	return n
}

// firstOfType is the #n of the first captured event of type mt.
func (d *driver) firstOfType(mt cti.MessageType) int {
	for i := range d.sc.steps {
		if st := &d.sc.steps[i]; st.kind == event && st.msg.MessageType() == mt {
			return st.n
		}
	}
	return 0
}
