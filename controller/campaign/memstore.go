package campaign

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"
)

// memBackend is the in-memory storage (OpenMemory): the same rows as the
// SQLite schema in maps, with the one index selection needs — the pending
// records of each (campaign, zone, priority) in (NextAt, ID) order, like
// records_pick. A transaction holds the lock from begin to commit and keeps
// an undo log for rollback. Times are kept to the millisecond, as SQLite
// stores them.
type memBackend struct {
	mu sync.Mutex

	lastCampaign, lastRecord, lastAttempt int64

	campaigns map[int64]Campaign
	records   map[int64]*Record
	byPhone   map[phoneKey]int64
	attempts  map[int64]*Attempt
	byRecord  map[int64][]int64 // attempt IDs of a record, oldest first
	open      map[int64]int64   // record → its attempt in flight
	recalls   map[int64]Recall
	dnc       map[DNCEntry]bool
	pacing    map[int64]pacingRow // campaign → its pacing state

	// pending indexes the pending records.
	pending   map[pickKey]*dueList
	zones     map[int64]map[string]int // campaign → zone → pending records
	callbacks map[int64]map[int64]bool // campaign → pending callback records
	byCamp    map[int64]map[int64]bool // campaign → records
	prios     map[zoneKey]map[int]int  // (campaign, zone) → priority → pending records
	// byStatus counts every record per campaign and status, kept with
	// the index (index and unindex): CountRecords reads no record.
	byStatus map[int64]map[Status]int
}

// pacingRow is a campaign's pacing state, its bytes owned by the store.
type pacingRow struct {
	savedAt time.Time
	state   []byte
}

type phoneKey struct {
	campaign int64
	phone    string
}

type zoneKey struct {
	campaign int64
	zone     string
}

type pickKey struct {
	campaign int64
	zone     string
	prio     int
}

type dueKey struct {
	at int64 // ms
	id int64
}

func (a dueKey) cmp(b dueKey) int {
	if c := cmp.Compare(a.at, b.at); c != 0 {
		return c
	}
	return cmp.Compare(a.id, b.id)
}

// dueList is a sorted set of dueKeys. Removing the first (the usual case: a
// due record claimed) and adding after the last (a retry scheduled later
// than everything due) are O(1); elsewhere a remove shifts the shorter side.
type dueList struct{ keys []dueKey }

func (l *dueList) find(k dueKey) (int, bool) {
	return slices.BinarySearchFunc(l.keys, k, dueKey.cmp)
}

func (l *dueList) add(k dueKey) {
	if n := len(l.keys); n == 0 || l.keys[n-1].cmp(k) < 0 {
		l.keys = append(l.keys, k)
		return
	}
	i, _ := l.find(k)
	l.keys = slices.Insert(l.keys, i, k)
}

func (l *dueList) remove(k dueKey) {
	i, ok := l.find(k)
	if !ok {
		return
	}
	if i < len(l.keys)/2 {
		copy(l.keys[1:i+1], l.keys[:i])
		l.keys = l.keys[1:]
		return
	}
	l.keys = slices.Delete(l.keys, i, i+1)
}

func newMemBackend() *memBackend {
	return &memBackend{
		campaigns: map[int64]Campaign{}, records: map[int64]*Record{}, byPhone: map[phoneKey]int64{},
		attempts: map[int64]*Attempt{}, byRecord: map[int64][]int64{}, open: map[int64]int64{},
		recalls: map[int64]Recall{}, dnc: map[DNCEntry]bool{}, pacing: map[int64]pacingRow{},
		pending: map[pickKey]*dueList{}, zones: map[int64]map[string]int{}, callbacks: map[int64]map[int64]bool{},
		byCamp: map[int64]map[int64]bool{}, prios: map[zoneKey]map[int]int{}, byStatus: map[int64]map[Status]int{},
	}
}

func (b *memBackend) begin() (txn, error) {
	b.mu.Lock()
	return &memTxn{b: b}, nil
}

func (b *memBackend) view(fn func(txn) error) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return fn(&memTxn{b: b, readOnly: true})
}

func (b *memBackend) close() error { return nil }

// memTxn is a transaction: the lock is held until commit or rollback.
type memTxn struct {
	b        *memBackend
	undo     []func()
	done     bool
	readOnly bool
}

func (t *memTxn) commit() error {
	if !t.done && !t.readOnly {
		t.done = true
		t.b.mu.Unlock()
	}
	return nil
}

func (t *memTxn) rollback() {
	if t.done || t.readOnly {
		return
	}
	for i := len(t.undo) - 1; i >= 0; i-- {
		t.undo[i]()
	}
	t.done = true
	t.b.mu.Unlock()
}

func (t *memTxn) onUndo(f func()) {
	if !t.readOnly {
		t.undo = append(t.undo, f)
	}
}

// copyRecord is a record as handed out: its own fields map.
func copyRecord(r *Record) Record {
	c := *r
	c.CustomerFields = orEmpty(r.CustomerFields)
	return c
}

// --- the pending index and the status counts ---

// index adds a stored record to the counts and, when pending, to the
// pending index; unindex takes it out again. Every change of a stored
// record is an unindex of the old row and an index of the new one.
func (b *memBackend) index(r *Record) {
	bs := b.byStatus[r.CampaignID]
	if bs == nil {
		bs = map[Status]int{}
		b.byStatus[r.CampaignID] = bs
	}
	bs[r.Status]++
	if r.Status != Pending {
		return
	}
	k := pickKey{r.CampaignID, r.TimeZone, r.Priority}
	l := b.pending[k]
	if l == nil {
		l = &dueList{}
		b.pending[k] = l
	}
	l.add(dueKey{ms(r.NextAt), r.ID})
	zs := b.zones[r.CampaignID]
	if zs == nil {
		zs = map[string]int{}
		b.zones[r.CampaignID] = zs
	}
	zs[r.TimeZone]++
	zk := zoneKey{r.CampaignID, r.TimeZone}
	ps := b.prios[zk]
	if ps == nil {
		ps = map[int]int{}
		b.prios[zk] = ps
	}
	ps[r.Priority]++
	if r.Callback {
		cb := b.callbacks[r.CampaignID]
		if cb == nil {
			cb = map[int64]bool{}
			b.callbacks[r.CampaignID] = cb
		}
		cb[r.ID] = true
	}
}

func (b *memBackend) unindex(r *Record) {
	if bs := b.byStatus[r.CampaignID]; bs != nil {
		if bs[r.Status]--; bs[r.Status] <= 0 {
			delete(bs, r.Status)
		}
		if len(bs) == 0 {
			delete(b.byStatus, r.CampaignID)
		}
	}
	if r.Status != Pending {
		return
	}
	k := pickKey{r.CampaignID, r.TimeZone, r.Priority}
	if l := b.pending[k]; l != nil {
		l.remove(dueKey{ms(r.NextAt), r.ID})
		if len(l.keys) == 0 {
			delete(b.pending, k)
		}
	}
	if zs := b.zones[r.CampaignID]; zs != nil {
		if zs[r.TimeZone]--; zs[r.TimeZone] <= 0 {
			delete(zs, r.TimeZone)
		}
	}
	zk := zoneKey{r.CampaignID, r.TimeZone}
	if ps := b.prios[zk]; ps != nil {
		if ps[r.Priority]--; ps[r.Priority] <= 0 {
			delete(ps, r.Priority)
		}
		if len(ps) == 0 {
			delete(b.prios, zk)
		}
	}
	if r.Callback {
		delete(b.callbacks[r.CampaignID], r.ID)
	}
}

// setRecord stores r (nil old: a new record), keeping the indexes, with its
// undo.
func (t *memTxn) setRecord(old *Record, r Record) {
	b := t.b
	r.NextAt = fromMS(ms(r.NextAt))
	r.CustomerFields = orEmpty(r.CustomerFields)
	if old != nil {
		b.unindex(old)
	} else {
		b.byPhone[phoneKey{r.CampaignID, r.Phone}] = r.ID
		if b.byCamp[r.CampaignID] == nil {
			b.byCamp[r.CampaignID] = map[int64]bool{}
		}
		b.byCamp[r.CampaignID][r.ID] = true
	}
	nr := &r
	b.records[r.ID] = nr
	b.index(nr)
	t.onUndo(func() {
		b.unindex(nr)
		if old == nil {
			delete(b.records, nr.ID)
			delete(b.byPhone, phoneKey{nr.CampaignID, nr.Phone})
			delete(b.byCamp[nr.CampaignID], nr.ID)
			return
		}
		b.records[old.ID] = old
		b.index(old)
	})
}

// --- campaigns ---

func (t *memTxn) campaign(id int64) (Campaign, error) {
	c, ok := t.b.campaigns[id]
	if !ok {
		return c, fmt.Errorf("campaign %d: %w", id, ErrNotFound)
	}
	c.SkillGroups = slices.Clone(c.SkillGroups)
	return c, nil
}

func (t *memTxn) campaigns() ([]Campaign, error) {
	var out []Campaign
	for _, id := range slices.Sorted(maps.Keys(t.b.campaigns)) {
		c, _ := t.campaign(id)
		out = append(out, c)
	}
	return out, nil
}

func (t *memTxn) nameTaken(name string, id int64) bool {
	for _, c := range t.b.campaigns {
		if c.Name == name && c.ID != id {
			return true
		}
	}
	return false
}

func (t *memTxn) putCampaign(c Campaign) {
	b := t.b
	old, had := b.campaigns[c.ID]
	c.SkillGroups = slices.Clone(c.SkillGroups)
	b.campaigns[c.ID] = c
	t.onUndo(func() {
		if had {
			b.campaigns[c.ID] = old
		} else {
			delete(b.campaigns, c.ID)
		}
	})
}

func (t *memTxn) insertCampaign(c Campaign) (int64, error) {
	if t.nameTaken(c.Name, 0) {
		return 0, errDuplicateName
	}
	b := t.b
	b.lastCampaign++
	c.ID = b.lastCampaign
	t.putCampaign(c)
	return c.ID, nil
}

func (t *memTxn) updateCampaign(c Campaign) error {
	if _, ok := t.b.campaigns[c.ID]; !ok {
		return fmt.Errorf("campaign %d: %w", c.ID, ErrNotFound)
	}
	if t.nameTaken(c.Name, c.ID) {
		return errDuplicateName
	}
	t.putCampaign(c)
	return nil
}

func (t *memTxn) deleteCampaign(id int64) error {
	b := t.b
	c, ok := b.campaigns[id]
	if !ok {
		return fmt.Errorf("campaign %d: %w", id, ErrNotFound)
	}
	for _, rid := range slices.Sorted(maps.Keys(b.byCamp[id])) {
		t.deleteRecord(rid)
	}
	if p, had := b.pacing[id]; had {
		delete(b.pacing, id)
		t.onUndo(func() { b.pacing[id] = p })
	}
	delete(b.campaigns, id)
	t.onUndo(func() { b.campaigns[id] = c })
	return nil
}

// deleteRecord removes a record with its attempts and recall.
func (t *memTxn) deleteRecord(id int64) {
	b := t.b
	r := b.records[id]
	if r == nil {
		return
	}
	if rc, ok := b.recalls[id]; ok {
		delete(b.recalls, id)
		t.onUndo(func() { b.recalls[id] = rc })
	}
	ids := b.byRecord[id]
	for _, aid := range ids {
		a := b.attempts[aid]
		delete(b.attempts, aid)
		t.onUndo(func() { b.attempts[aid] = a })
	}
	delete(b.byRecord, id)
	open, hadOpen := b.open[id]
	delete(b.open, id)
	b.unindex(r)
	delete(b.records, id)
	delete(b.byPhone, phoneKey{r.CampaignID, r.Phone})
	delete(b.byCamp[r.CampaignID], id)
	t.onUndo(func() {
		b.records[id] = r
		b.byPhone[phoneKey{r.CampaignID, r.Phone}] = id
		b.byCamp[r.CampaignID][id] = true
		b.index(r)
		b.byRecord[id] = ids
		if hadOpen {
			b.open[id] = open
		}
	})
}

func (t *memTxn) countStatus(campaignID int64, st Status) (int, error) {
	return t.b.byStatus[campaignID][st], nil
}

func (t *memTxn) statusCounts(campaignID int64) (map[Status]int, error) {
	return maps.Clone(t.b.byStatus[campaignID]), nil
}

// --- records ---

func (t *memTxn) record(id int64) (Record, error) {
	r := t.b.records[id]
	if r == nil {
		return Record{}, fmt.Errorf("record %d: %w", id, ErrNotFound)
	}
	return copyRecord(r), nil
}

func (t *memTxn) recordByPhone(campaignID int64, phone string) (Record, bool, error) {
	id, ok := t.b.byPhone[phoneKey{campaignID, phone}]
	if !ok {
		return Record{}, false, nil
	}
	return copyRecord(t.b.records[id]), true, nil
}

func (t *memTxn) records(campaignID int64) ([]Record, error) {
	var out []Record
	for _, id := range slices.Sorted(maps.Keys(t.b.byCamp[campaignID])) {
		out = append(out, copyRecord(t.b.records[id]))
	}
	return out, nil
}

func (t *memTxn) insertRecord(r Record) (int64, error) {
	b := t.b
	if _, ok := b.campaigns[r.CampaignID]; !ok {
		return 0, fmt.Errorf("campaign %d: %w", r.CampaignID, ErrNotFound)
	}
	if _, dup := b.byPhone[phoneKey{r.CampaignID, r.Phone}]; dup {
		return 0, fmt.Errorf("campaign %d: phone %s is already in the campaign", r.CampaignID, r.Phone)
	}
	b.lastRecord++
	r.ID = b.lastRecord
	t.setRecord(nil, r)
	return r.ID, nil
}

func (t *memTxn) putRecord(r Record) error {
	old := t.b.records[r.ID]
	if old == nil {
		return fmt.Errorf("record %d: %w", r.ID, ErrNotFound)
	}
	nr := *old
	nr.TimeZone, nr.Callback, nr.CustomerFields, nr.Status, nr.Attempts, nr.NextAt = r.TimeZone, r.Callback, r.CustomerFields, r.Status, r.Attempts, r.NextAt
	t.setRecord(old, nr)
	return nil
}

func (t *memTxn) setStatus(id int64, st Status) error {
	old := t.b.records[id]
	if old == nil {
		return nil // as UPDATE … WHERE id = ?: nothing to do
	}
	nr := *old
	nr.Status = st
	t.setRecord(old, nr)
	return nil
}

func (t *memTxn) recordsWithStatus(st Status) ([]int64, error) {
	var out []int64
	for id, r := range t.b.records {
		if r.Status == st {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out, nil
}

func (t *memTxn) markPendingDNC(e DNCEntry) (int, error) {
	var ids []int64
	for id, r := range t.b.records {
		if r.Status == Pending && (r.Phone == e.Digits || (e.Prefix && len(r.Phone) >= len(e.Digits) && r.Phone[:len(e.Digits)] == e.Digits)) {
			ids = append(ids, id)
		}
	}
	for _, id := range ids {
		t.setStatus(id, DNC)
	}
	return len(ids), nil
}

// --- attempts ---

func (t *memTxn) attempt(id int64) (Attempt, error) {
	a := t.b.attempts[id]
	if a == nil {
		return Attempt{}, fmt.Errorf("attempt %d: %w", id, ErrNotFound)
	}
	return *a, nil
}

func (t *memTxn) openAttempt(recordID int64) (Attempt, bool, error) {
	id, ok := t.b.open[recordID]
	if !ok {
		return Attempt{}, false, nil
	}
	return *t.b.attempts[id], true, nil
}

func (t *memTxn) openAttempts() ([]Attempt, error) {
	var out []Attempt
	for _, id := range slices.Sorted(maps.Values(t.b.open)) {
		out = append(out, *t.b.attempts[id])
	}
	return out, nil
}

func (t *memTxn) attempts(recordID int64) ([]Attempt, error) {
	var out []Attempt
	for _, id := range t.b.byRecord[recordID] {
		out = append(out, *t.b.attempts[id])
	}
	return out, nil
}

func (t *memTxn) insertAttempt(recordID int64, at time.Time) (int64, error) {
	b := t.b
	if b.records[recordID] == nil {
		return 0, fmt.Errorf("record %d: %w", recordID, ErrNotFound)
	}
	if open, ok := b.open[recordID]; ok {
		return 0, fmt.Errorf("record %d, attempt %d: %w", recordID, open, ErrInFlight)
	}
	b.lastAttempt++
	id := b.lastAttempt
	b.attempts[id] = &Attempt{ID: id, RecordID: recordID, StartedAt: fromMS(ms(at))}
	b.byRecord[recordID] = append(b.byRecord[recordID], id)
	b.open[recordID] = id
	t.onUndo(func() {
		delete(b.attempts, id)
		ids := b.byRecord[recordID]
		b.byRecord[recordID] = ids[:len(ids)-1]
		delete(b.open, recordID)
	})
	return id, nil
}

func (t *memTxn) endAttempt(id int64, o Outcome, at time.Time) error {
	b := t.b
	a := b.attempts[id]
	if a == nil || !a.EndedAt.IsZero() {
		return nil // as UPDATE … WHERE ended_at IS NULL
	}
	old := *a
	a.Outcome, a.EndedAt = o, fromMS(ms(at))
	delete(b.open, a.RecordID)
	t.onUndo(func() {
		*a = old
		b.open[a.RecordID] = id
	})
	return nil
}

// --- recalls ---

func (t *memTxn) recall(recordID int64) (Recall, bool, error) {
	rc, ok := t.b.recalls[recordID]
	return rc, ok, nil
}

func (t *memTxn) putRecall(rc Recall) error {
	b := t.b
	rc.At = fromMS(ms(rc.At))
	old, had := b.recalls[rc.RecordID]
	b.recalls[rc.RecordID] = rc
	t.onUndo(func() {
		if had {
			b.recalls[rc.RecordID] = old
		} else {
			delete(b.recalls, rc.RecordID)
		}
	})
	return nil
}

func (t *memTxn) deleteRecall(recordID int64) error {
	b := t.b
	if old, had := b.recalls[recordID]; had {
		delete(b.recalls, recordID)
		t.onUndo(func() { b.recalls[recordID] = old })
	}
	return nil
}

// --- pacing ---

// pacing and putPacing copy the bytes, as SQLite does: neither the caller
// nor the store sees the other's later writes to a slice.
func (t *memTxn) pacing(campaignID int64) ([]byte, time.Time, bool, error) {
	p, ok := t.b.pacing[campaignID]
	if !ok {
		return nil, time.Time{}, false, nil
	}
	return slices.Clone(p.state), p.savedAt, true, nil
}

func (t *memTxn) putPacing(campaignID int64, savedAt time.Time, state []byte) error {
	b := t.b
	if _, ok := b.campaigns[campaignID]; !ok {
		return fmt.Errorf("campaign %d: %w", campaignID, ErrNotFound)
	}
	old, had := b.pacing[campaignID]
	b.pacing[campaignID] = pacingRow{savedAt: fromMS(ms(savedAt)), state: slices.Clone(state)}
	t.onUndo(func() {
		if had {
			b.pacing[campaignID] = old
		} else {
			delete(b.pacing, campaignID)
		}
	})
	return nil
}

// --- DNC ---

func (t *memTxn) dncMatch(digits string) (DNCEntry, bool, error) {
	if e := (DNCEntry{Digits: digits}); t.b.dnc[e] {
		return e, true, nil
	}
	for i := 1; i <= len(digits); i++ {
		if e := (DNCEntry{Digits: digits[:i], Prefix: true}); t.b.dnc[e] {
			return e, true, nil
		}
	}
	return DNCEntry{}, false, nil
}

func (t *memTxn) addDNC(e DNCEntry) error {
	b := t.b
	if !b.dnc[e] {
		b.dnc[e] = true
		t.onUndo(func() { delete(b.dnc, e) })
	}
	return nil
}

func (t *memTxn) removeDNC(e DNCEntry) (bool, error) {
	b := t.b
	if !b.dnc[e] {
		return false, nil
	}
	delete(b.dnc, e)
	t.onUndo(func() { b.dnc[e] = true })
	return true, nil
}

// --- selection access paths ---

func (t *memTxn) pendingZones(campaignID int64) ([]string, error) {
	return slices.Sorted(maps.Keys(t.b.zones[campaignID])), nil
}

func (t *memTxn) dueRecalls(campaignID int64, now time.Time) ([]dueRecall, error) {
	var out []dueRecall
	for id, rc := range t.b.recalls {
		r := t.b.records[id]
		if r != nil && r.CampaignID == campaignID && r.Status == Pending && ms(rc.At) <= ms(now) {
			out = append(out, dueRecall{rec: copyRecord(r), at: rc.At, agentID: rc.AgentID})
		}
	}
	return out, nil
}

func (t *memTxn) dueCallbacks(campaignID int64, now time.Time) ([]Record, error) {
	var out []Record
	for id := range t.b.callbacks[campaignID] {
		r := t.b.records[id]
		if _, recall := t.b.recalls[id]; !recall && ms(r.NextAt) <= ms(now) {
			out = append(out, copyRecord(r))
		}
	}
	return out, nil
}

func (t *memTxn) priorityBelow(campaignID int64, zone string, below int) (int, bool, error) {
	best, ok := 0, false
	for p := range t.b.prios[zoneKey{campaignID, zone}] {
		if p < below && (!ok || p > best) {
			best, ok = p, true
		}
	}
	return best, ok, nil
}

func (t *memTxn) dueAt(campaignID int64, zone string, prio int, now time.Time, limit int) ([]Record, error) {
	l := t.b.pending[pickKey{campaignID, zone, prio}]
	if l == nil {
		return nil, nil
	}
	var out []Record
	cut := ms(now)
	for _, k := range l.keys {
		if k.at > cut || len(out) >= limit {
			break
		}
		r := t.b.records[k.id]
		if _, recall := t.b.recalls[k.id]; recall || r.Callback {
			continue
		}
		out = append(out, copyRecord(r))
	}
	return out, nil
}

// --- booked records ---

// scheduledCounts reads the recalls (of every campaign: there are few)
// and the campaign's pending callbacks, not the records.
func (t *memTxn) scheduledCounts(campaignID int64) (recalls, callbacks int, err error) {
	for id := range t.b.recalls {
		if r := t.b.records[id]; r != nil && r.CampaignID == campaignID && r.Status == Pending {
			recalls++
		}
	}
	for id := range t.b.callbacks[campaignID] {
		if _, recall := t.b.recalls[id]; !recall {
			callbacks++
		}
	}
	return recalls, callbacks, nil
}

func (t *memTxn) nextRecalls(campaignID int64, limit int) ([]dueRecall, error) {
	var out []dueRecall
	for id, rc := range t.b.recalls {
		if r := t.b.records[id]; r != nil && r.CampaignID == campaignID && r.Status == Pending {
			out = append(out, dueRecall{rec: copyRecord(r), at: rc.At, agentID: rc.AgentID})
		}
	}
	slices.SortFunc(out, func(a, b dueRecall) int { return cmp.Or(a.at.Compare(b.at), cmp.Compare(a.rec.ID, b.rec.ID)) })
	return out[:min(limit, len(out))], nil
}

func (t *memTxn) nextCallbacks(campaignID int64, limit int) ([]Record, error) {
	var keys []dueKey
	for id := range t.b.callbacks[campaignID] {
		if _, recall := t.b.recalls[id]; !recall {
			keys = append(keys, dueKey{ms(t.b.records[id].NextAt), id})
		}
	}
	slices.SortFunc(keys, dueKey.cmp)
	out := make([]Record, 0, min(limit, len(keys)))
	for _, k := range keys[:min(limit, len(keys))] {
		out = append(out, copyRecord(t.b.records[k.id]))
	}
	return out, nil
}
