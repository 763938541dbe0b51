package campaign

import (
	"errors"
	"time"
)

// The store's rules — which records are callable and in what order, the
// checks before a dial, the journal, the retry decision, recalls, callbacks,
// DNC — are written once, in Go, against txn: the storage's rows and
// indexes and nothing more. Two storages implement it: SQLite (Open: the
// durable journal of design.md) and memory (OpenMemory: the same rules at
// simulation speed, nothing kept). Neither decides anything a rule depends
// on; each only finds and keeps rows, with the orders documented below.

// backend is a storage.
type backend interface {
	// begin starts a write transaction.
	begin() (txn, error)
	// view runs fn with read access.
	view(fn func(txn) error) error
	close() error
}

// txn is one transaction of a storage. Methods that take an ID wrap
// ErrNotFound when it names nothing.
type txn interface {
	commit() error
	rollback()

	// Campaigns.
	campaign(id int64) (Campaign, error)
	campaigns() ([]Campaign, error) // by ID
	insertCampaign(c Campaign) (int64, error)
	updateCampaign(c Campaign) error
	// deleteCampaign removes the campaign with its records, their
	// attempts and recalls, and its pacing state.
	deleteCampaign(id int64) error
	countStatus(campaignID int64, st Status) (int, error)
	// statusCounts: the campaign's records per status (absent: none).
	statusCounts(campaignID int64) (map[Status]int, error)

	// Records. putRecord writes every mutable column (status, attempts,
	// next_at, callback, time_zone, fields); setStatus only the status.
	record(id int64) (Record, error)
	recordByPhone(campaignID int64, phone string) (Record, bool, error)
	records(campaignID int64) ([]Record, error) // by ID
	insertRecord(r Record) (int64, error)
	putRecord(r Record) error
	setStatus(id int64, st Status) error
	recordsWithStatus(st Status) ([]int64, error) // every campaign, by ID
	// markPendingDNC marks dnc the pending records, of every campaign,
	// that e matches, and counts them.
	markPendingDNC(e DNCEntry) (int, error)

	// Attempts: at most one open (no end) per record.
	attempt(id int64) (Attempt, error)
	openAttempt(recordID int64) (Attempt, bool, error)
	openAttempts() ([]Attempt, error) // by ID
	attempts(recordID int64) ([]Attempt, error)
	insertAttempt(recordID int64, at time.Time) (int64, error)
	endAttempt(id int64, o Outcome, at time.Time) error

	// Recalls: at most one per record.
	recall(recordID int64) (Recall, bool, error)
	putRecall(rc Recall) error
	deleteRecall(recordID int64) error

	// Pacing state: at most one per campaign, the latest; putPacing
	// replaces it. Both take a campaign that exists (the Store checks).
	pacing(campaignID int64) (state []byte, savedAt time.Time, ok bool, err error)
	putPacing(campaignID int64, savedAt time.Time, state []byte) error

	// DNC. dncMatch finds the entry that blocks digits, an exact entry
	// before a prefix.
	dncMatch(digits string) (DNCEntry, bool, error)
	addDNC(e DNCEntry) error
	removeDNC(e DNCEntry) (bool, error)

	// Selection access paths (select.go), over the campaign's pending
	// records:
	//
	// pendingZones: their distinct time zones, sorted.
	pendingZones(campaignID int64) ([]string, error)
	// dueRecalls: those with a recall due at now, any order.
	dueRecalls(campaignID int64, now time.Time) ([]dueRecall, error)
	// dueCallbacks: web callbacks due at now without a recall, any order.
	dueCallbacks(campaignID int64, now time.Time) ([]Record, error)
	// priorityBelow: the highest priority below below in zone.
	priorityBelow(campaignID int64, zone string, below int) (int, bool, error)
	// dueAt: at most limit records of zone and priority due at now,
	// neither a callback nor with a recall, by NextAt then ID.
	dueAt(campaignID int64, zone string, prio int, now time.Time, limit int) ([]Record, error)

	// Booked records (counts.go's CountRecords and Scheduled), over the
	// campaign's pending records, due or not:
	//
	// scheduledCounts: those with a recall, and the web callbacks without.
	scheduledCounts(campaignID int64) (recalls, callbacks int, err error)
	// nextRecalls: at most limit with a recall, by recall time then ID.
	nextRecalls(campaignID int64, limit int) ([]dueRecall, error)
	// nextCallbacks: at most limit web callbacks without a recall, by
	// NextAt then ID.
	nextCallbacks(campaignID int64, limit int) ([]Record, error)
}

// dueRecall is a record with a recall due.
type dueRecall struct {
	rec     Record
	at      time.Time
	agentID string
}

// errDuplicateName is a campaign name taken by another campaign.
var errDuplicateName = errors.New("campaign: a campaign with that name exists")

// ms and fromMS convert between time and the stored Unix milliseconds.
func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }
