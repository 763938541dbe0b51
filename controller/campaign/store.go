package campaign

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the pure-Go "sqlite" driver
)

// Config configures a Store.
type Config struct {
	// Now is the store's clock, read only for import timestamps and for crash
	// recovery on Open; nil means time.Now. Tests and the simulation inject
	// theirs.
	Now func() time.Time
	// BusyTimeout is how long a statement waits for another process's lock
	// (a sqlite3 shell, a backup) before failing; 0 means 5 s.
	BusyTimeout time.Duration
}

// Recovery is what Open found left over by a crash (see the package doc).
type Recovery struct {
	// Attempts were in flight: closed with outcome unknown, records
	// rescheduled by the Failed rule.
	Attempts []int64
	// Released records were claimed by Next but never dialed: back to pending.
	Released []int64
}

// Store is the campaign database. Its methods are safe for concurrent use.
type Store struct {
	b         backend
	db        *sql.DB // the SQLite database; nil in memory
	now       func() time.Time
	recovered Recovery
}

// Open opens (creating if needed) the database at path, migrates it and
// resolves any attempts a crash left in flight.
func Open(path string, cfg Config) (*Store, error) {
	if path == "" || strings.ContainsAny(path, "?#") || path == ":memory:" {
		return nil, fmt.Errorf("campaign: Open path %q: want a file name without ? or #", path)
	}
	if cfg.BusyTimeout < 0 {
		return nil, fmt.Errorf("campaign: Config.BusyTimeout %v: want ≥ 0", cfg.BusyTimeout)
	}
	if cfg.BusyTimeout == 0 {
		cfg.BusyTimeout = 5 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	// journal_mode=WAL: readers never block the writer and a commit is one
	// append to the log, so the per-attempt commits of the journal stay
	// cheap.
	//
	// synchronous=FULL, not NORMAL: in WAL mode NORMAL survives a process
	// crash but may lose the last commits on power loss or an OS crash. The
	// journal's promise is that an attempt is durable before its INVITE
	// leaves; with NORMAL a power cut could forget an attempt whose call was
	// placed, and the record would be dialed again as if never tried. FULL
	// fsyncs the WAL at each commit, about a millisecond on an SSD, far below
	// a dialer's ~10 calls/s per dialer (§2.6).
	//
	// foreign_keys: records, attempts and recalls go with their campaign.
	// _txlock=immediate: every transaction here writes, so take the write
	// lock at BEGIN instead of failing with SQLITE_BUSY on the upgrade.
	dsn := fmt.Sprintf("%s?_pragma=busy_timeout(%d)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=foreign_keys(1)&_txlock=immediate",
		path, cfg.BusyTimeout.Milliseconds())
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("campaign: open %s: %w", path, err)
	}
	// One connection: SQLite has a single writer anyway, and serialising in
	// Go keeps Next's claim-and-mark atomic with no busy retries in-process.
	db.SetMaxOpenConns(1)
	s := &Store{b: &sqlBackend{db}, db: db, now: cfg.Now}
	if err := s.init(); err != nil {
		db.Close()
		return nil, fmt.Errorf("campaign: open %s: %w", path, err)
	}
	return s, nil
}

// OpenMemory opens a store held in memory: the same rules as a file — the
// selection order, the checks before a dial, the journal, the retry
// decision, recalls, callbacks, DNC, all written once against the storage
// (backend.go) — over maps instead of SQLite. Nothing survives Close, so
// there is no crash to recover from. It is for simulation: a day of calls
// must run in seconds, and a SQLite transaction per claim, dial and end
// (with the fsync that makes the journal durable) costs many times the rest
// of a simulated call.
func OpenMemory(cfg Config) (*Store, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Store{b: newMemBackend(), now: cfg.Now}, nil
}

func (s *Store) init() error {
	ctx := context.Background()
	var mode string
	if err := s.db.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil {
		return err
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("journal_mode is %q, want wal (is the file on a network filesystem?)", mode)
	}
	if err := migrate(ctx, s.db); err != nil {
		return err
	}
	return s.recover()
}

// Close closes the database.
func (s *Store) Close() error { return s.b.close() }

// Recovered reports what Open resolved after a crash.
func (s *Store) Recovered() Recovery { return s.recovered }

// commitErr makes inTx commit the work done so far and still return err: a
// refused BeginAttempt releases its record and the release must stick.
type commitErr struct{ err error }

func (c commitErr) Error() string { return c.err.Error() }
func (c commitErr) Unwrap() error { return c.err }

// inTx runs fn in one write transaction.
func (s *Store) inTx(fn func(tx txn) error) error {
	tx, err := s.b.begin()
	if err != nil {
		return err
	}
	err = fn(tx)
	var ce commitErr
	if err != nil && !errors.As(err, &ce) {
		tx.rollback()
		return err
	}
	if cerr := tx.commit(); cerr != nil {
		return cerr
	}
	if err != nil {
		return ce.err
	}
	return nil
}

// view runs fn with read access.
func (s *Store) view(fn func(tx txn) error) error { return s.b.view(fn) }

// --- campaigns ---

func prepareCampaign(c Campaign) (Campaign, error) {
	if c.AbandonTarget == 0 {
		c.AbandonTarget = DefaultAbandonTarget
	}
	return c, c.Validate()
}

// CreateCampaign validates and stores a new campaign and returns it with its ID.
func (s *Store) CreateCampaign(c Campaign) (Campaign, error) {
	c, err := prepareCampaign(c)
	if err != nil {
		return Campaign{}, err
	}
	err = s.inTx(func(tx txn) error {
		c.ID, err = tx.insertCampaign(c)
		return err
	})
	if err != nil {
		return Campaign{}, fmt.Errorf("campaign: create %q: %w", c.Name, err)
	}
	return c, nil
}

// UpdateCampaign replaces a campaign's settings. Records keep their state;
// the next selection, attempt and retry decision read the new settings.
func (s *Store) UpdateCampaign(c Campaign) error {
	c, err := prepareCampaign(c)
	if err != nil {
		return err
	}
	return s.inTx(func(tx txn) error {
		if err := tx.updateCampaign(c); err != nil {
			return fmt.Errorf("campaign: update %d: %w", c.ID, err)
		}
		return nil
	})
}

// Campaign returns one campaign.
func (s *Store) Campaign(id int64) (c Campaign, err error) {
	err = s.view(func(tx txn) error {
		c, err = tx.campaign(id)
		return err
	})
	return c, err
}

// Campaigns lists all campaigns by ID.
func (s *Store) Campaigns() (out []Campaign, err error) {
	err = s.view(func(tx txn) error {
		out, err = tx.campaigns()
		return err
	})
	return out, err
}

// DeleteCampaign removes a campaign with its records, attempts and recalls.
// It refuses while any record is dialing: the journal of a live call must
// outlive it.
func (s *Store) DeleteCampaign(id int64) error {
	return s.inTx(func(tx txn) error {
		n, err := tx.countStatus(id, Dialing)
		if err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("campaign %d: %d records: %w", id, n, ErrCampaignRunning)
		}
		return tx.deleteCampaign(id)
	})
}

// --- records and attempts (read side) ---

// Record returns one record.
func (s *Store) Record(id int64) (r Record, err error) {
	err = s.view(func(tx txn) error {
		r, err = tx.record(id)
		return err
	})
	return r, err
}

// Records lists a campaign's records by ID.
func (s *Store) Records(campaignID int64) (out []Record, err error) {
	err = s.view(func(tx txn) error {
		out, err = tx.records(campaignID)
		return err
	})
	return out, err
}

// Attempts lists a record's attempts, oldest first.
func (s *Store) Attempts(recordID int64) (out []Attempt, err error) {
	err = s.view(func(tx txn) error {
		out, err = tx.attempts(recordID)
		return err
	})
	return out, err
}

// Recall returns the record's pending recall, if any.
func (s *Store) Recall(recordID int64) (rc Recall, ok bool, err error) {
	err = s.view(func(tx txn) error {
		rc, ok, err = tx.recall(recordID)
		return err
	})
	return rc, ok, err
}
