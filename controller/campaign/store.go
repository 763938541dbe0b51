package campaign

import (
	"context"
	"database/sql"
	"encoding/json"
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
	db        *sql.DB
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
	s := &Store{db: db, now: cfg.Now}
	if err := s.init(); err != nil {
		db.Close()
		return nil, fmt.Errorf("campaign: open %s: %w", path, err)
	}
	return s, nil
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
func (s *Store) Close() error { return s.db.Close() }

// Recovered reports what Open resolved after a crash.
func (s *Store) Recovered() Recovery { return s.recovered }

// commitErr makes inTx commit the work done so far and still return err: a
// refused BeginAttempt releases its record and the release must stick.
type commitErr struct{ err error }

func (c commitErr) Error() string { return c.err.Error() }
func (c commitErr) Unwrap() error { return c.err }

// inTx runs fn in one write transaction.
func (s *Store) inTx(fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(context.Background(), nil)
	if err != nil {
		return err
	}
	err = fn(tx)
	var ce commitErr
	if err != nil && !errors.As(err, &ce) {
		tx.Rollback()
		return err
	}
	if cerr := tx.Commit(); cerr != nil {
		return cerr
	}
	if err != nil {
		return ce.err
	}
	return nil
}

// ms and fromMS convert between time and the stored Unix milliseconds.
func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

// querier is what both *sql.DB and *sql.Tx offer.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// --- campaigns ---

const campaignCols = `id, name, mode, skill_groups, calling_hours, retry_rules, max_attempts, abandon_target, enabled`

type scanner interface{ Scan(dest ...any) error }

func scanCampaign(r scanner) (Campaign, error) {
	var c Campaign
	var groups, hours, rules string
	if err := r.Scan(&c.ID, &c.Name, &c.Mode, &groups, &hours, &rules, &c.MaxAttempts, &c.AbandonTarget, &c.Enabled); err != nil {
		return c, err
	}
	if err := errors.Join(json.Unmarshal([]byte(groups), &c.SkillGroups), json.Unmarshal([]byte(hours), &c.CallingHours), json.Unmarshal([]byte(rules), &c.RetryRules)); err != nil {
		return c, fmt.Errorf("campaign %d: stored settings: %w", c.ID, err)
	}
	return c, nil
}

func campaignArgs(c Campaign) ([]any, error) {
	if c.SkillGroups == nil {
		c.SkillGroups = []uint32{}
	}
	groups, err1 := json.Marshal(c.SkillGroups)
	hours, err2 := json.Marshal(c.CallingHours)
	rules, err3 := json.Marshal(c.RetryRules)
	if err := errors.Join(err1, err2, err3); err != nil {
		return nil, err
	}
	return []any{c.Name, string(c.Mode), string(groups), string(hours), string(rules), c.MaxAttempts, c.AbandonTarget, c.Enabled}, nil
}

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
	args, err := campaignArgs(c)
	if err != nil {
		return Campaign{}, err
	}
	err = s.inTx(func(tx *sql.Tx) error {
		return tx.QueryRow(`INSERT INTO campaigns (name, mode, skill_groups, calling_hours, retry_rules, max_attempts, abandon_target, enabled)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, args...).Scan(&c.ID)
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
	args, err := campaignArgs(c)
	if err != nil {
		return err
	}
	return s.inTx(func(tx *sql.Tx) error {
		res, err := tx.Exec(`UPDATE campaigns SET name = ?, mode = ?, skill_groups = ?, calling_hours = ?, retry_rules = ?,
			max_attempts = ?, abandon_target = ?, enabled = ? WHERE id = ?`, append(args, c.ID)...)
		if err != nil {
			return fmt.Errorf("campaign: update %d: %w", c.ID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("campaign %d: %w", c.ID, ErrNotFound)
		}
		return nil
	})
}

// Campaign returns one campaign.
func (s *Store) Campaign(id int64) (Campaign, error) {
	return getCampaign(s.db, id)
}

func getCampaign(q querier, id int64) (Campaign, error) {
	c, err := scanCampaign(q.QueryRowContext(context.Background(), `SELECT `+campaignCols+` FROM campaigns WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("campaign %d: %w", id, ErrNotFound)
	}
	return c, err
}

// Campaigns lists all campaigns by ID.
func (s *Store) Campaigns() ([]Campaign, error) {
	rows, err := s.db.Query(`SELECT ` + campaignCols + ` FROM campaigns ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Campaign
	for rows.Next() {
		c, err := scanCampaign(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// DeleteCampaign removes a campaign with its records, attempts and recalls.
// It refuses while any record is dialing: the journal of a live call must
// outlive it.
func (s *Store) DeleteCampaign(id int64) error {
	return s.inTx(func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRow(`SELECT count(*) FROM records WHERE campaign_id = ? AND status = 'dialing'`, id).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("campaign %d: %d records: %w", id, n, ErrCampaignRunning)
		}
		res, err := tx.Exec(`DELETE FROM campaigns WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("campaign %d: %w", id, ErrNotFound)
		}
		return nil
	})
}

// --- records and attempts (read side) ---

const recordCols = `r.id, r.campaign_id, r.phone, r.time_zone, r.region, r.priority, r.callback, r.fields, r.status, r.attempts, r.next_at`

func scanRecord(sc scanner, extra ...any) (Record, error) {
	var r Record
	var fields string
	var next int64
	dest := append([]any{&r.ID, &r.CampaignID, &r.Phone, &r.TimeZone, &r.Region, &r.Priority, &r.Callback, &fields, &r.Status, &r.Attempts, &next}, extra...)
	if err := sc.Scan(dest...); err != nil {
		return r, err
	}
	r.NextAt = fromMS(next)
	if err := json.Unmarshal([]byte(fields), &r.CustomerFields); err != nil {
		return r, fmt.Errorf("record %d: stored fields: %w", r.ID, err)
	}
	return r, nil
}

func getRecord(q querier, id int64) (Record, error) {
	r, err := scanRecord(q.QueryRowContext(context.Background(), `SELECT `+recordCols+` FROM records r WHERE r.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("record %d: %w", id, ErrNotFound)
	}
	return r, err
}

// Record returns one record.
func (s *Store) Record(id int64) (Record, error) { return getRecord(s.db, id) }

// Records lists a campaign's records by ID.
func (s *Store) Records(campaignID int64) ([]Record, error) {
	rows, err := s.db.Query(`SELECT `+recordCols+` FROM records r WHERE r.campaign_id = ? ORDER BY r.id`, campaignID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Record
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Attempts lists a record's attempts, oldest first.
func (s *Store) Attempts(recordID int64) ([]Attempt, error) {
	rows, err := s.db.Query(`SELECT id, record_id, started_at, outcome, ended_at FROM attempts WHERE record_id = ? ORDER BY id`, recordID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Attempt
	for rows.Next() {
		a, err := scanAttempt(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

func scanAttempt(sc scanner) (Attempt, error) {
	var a Attempt
	var started int64
	var ended sql.NullInt64
	if err := sc.Scan(&a.ID, &a.RecordID, &started, &a.Outcome, &ended); err != nil {
		return a, err
	}
	a.StartedAt = fromMS(started)
	if ended.Valid {
		a.EndedAt = fromMS(ended.Int64)
	}
	return a, nil
}

// Recall returns the record's pending recall, if any.
func (s *Store) Recall(recordID int64) (Recall, bool, error) {
	var rc Recall
	var at int64
	err := s.db.QueryRow(`SELECT record_id, at, agent_id FROM recalls WHERE record_id = ?`, recordID).Scan(&rc.RecordID, &at, &rc.AgentID)
	if errors.Is(err, sql.ErrNoRows) {
		return Recall{}, false, nil
	}
	rc.At = fromMS(at)
	return rc, err == nil, err
}
