package reporting

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the pure-Go "sqlite" driver
)

// migrations are applied in order, each in its own transaction with the
// bump of schema_version. Never edit a released entry: append a new one.
//
// Times are INTEGER Unix milliseconds (UTC) and durations INTEGER
// milliseconds, as in the campaign store: they sort and add in SQL without
// parsing. One row per entity per interval start: writing a run again
// replaces its rows, as ICM rewrites an interval it recomputes.
var migrations = []string{
	`
CREATE TABLE call_type_interval (
	start_ms       INTEGER NOT NULL,
	end_ms         INTEGER NOT NULL,
	call_type      TEXT NOT NULL,
	call_type_id   INTEGER NOT NULL,
	sl_type        INTEGER NOT NULL,
	offered        INTEGER NOT NULL,
	answered       INTEGER NOT NULL,
	abandoned      INTEGER NOT NULL,
	sl_calls       INTEGER NOT NULL,
	sl_offered     INTEGER NOT NULL,
	sl_aband       INTEGER NOT NULL,
	answer_wait_ms INTEGER NOT NULL,
	handled        INTEGER NOT NULL,
	handle_ms      INTEGER NOT NULL,
	PRIMARY KEY (start_ms, call_type)
);
CREATE TABLE skill_group_interval (
	start_ms         INTEGER NOT NULL,
	end_ms           INTEGER NOT NULL,
	skill_group      TEXT NOT NULL,
	number           INTEGER NOT NULL,
	handled          INTEGER NOT NULL,
	talk_ms          INTEGER NOT NULL,
	ready_ms         INTEGER NOT NULL,
	not_ready_ms     INTEGER NOT NULL,
	logged_on_ms     INTEGER NOT NULL,
	agents_logged_on INTEGER NOT NULL,
	PRIMARY KEY (start_ms, skill_group)
);
CREATE TABLE agent_interval (
	start_ms     INTEGER NOT NULL,
	end_ms       INTEGER NOT NULL,
	agent_id     TEXT NOT NULL,
	agent_group  TEXT NOT NULL,
	calls        INTEGER NOT NULL,
	talk_ms      INTEGER NOT NULL,
	hold_ms      INTEGER NOT NULL,
	wrap_up_ms   INTEGER NOT NULL,
	ready_ms     INTEGER NOT NULL,
	not_ready_ms INTEGER NOT NULL,
	logged_on_ms INTEGER NOT NULL,
	PRIMARY KEY (start_ms, agent_id)
);
CREATE TABLE campaign_interval (
	start_ms  INTEGER NOT NULL,
	end_ms    INTEGER NOT NULL,
	campaign  TEXT NOT NULL,
	attempts  INTEGER NOT NULL,
	connects  INTEGER NOT NULL,
	abandoned INTEGER NOT NULL,
	busy      INTEGER NOT NULL,
	no_answer INTEGER NOT NULL,
	machines  INTEGER NOT NULL,
	PRIMARY KEY (start_ms, campaign)
);
`,
	// 2: per-attempt outbound records. One row per dial request of the
	// controller; seq orders a campaign's attempts started in the same
	// millisecond (a pool tick places several). A step that did not
	// happen has a NULL time; end_ms is NULL and outcome '' while the call
	// was still in flight when the run ended.
	`
CREATE TABLE outbound_attempt (
	start_ms       INTEGER NOT NULL,
	campaign       TEXT NOT NULL,
	seq            INTEGER NOT NULL,
	mode           TEXT NOT NULL,
	dialed_number  TEXT NOT NULL,
	record_id      INTEGER NOT NULL,
	attempt_number INTEGER NOT NULL,
	agent_id       TEXT NOT NULL,
	port           TEXT NOT NULL,
	call_id        INTEGER NOT NULL,
	outcome        TEXT NOT NULL,
	cause          TEXT NOT NULL,
	alerting_ms    INTEGER,
	answered_ms    INTEGER,
	connected_ms   INTEGER,
	end_ms         INTEGER,
	PRIMARY KEY (start_ms, campaign, seq)
);
`,
	// 3: the distinct agents logged on in any skill group, for the
	// report's "all" row (an agent in two groups counts in each group's
	// agents_logged_on). Older rows read 0: not kept.
	`ALTER TABLE skill_group_interval ADD COLUMN agents_any_group INTEGER NOT NULL DEFAULT 0;`,
}

// attemptsVersion is the first schema version with outbound_attempt,
// anyGroupVersion the first with skill_group_interval.agents_any_group.
const (
	attemptsVersion = 2
	anyGroupVersion = 3
)

// The columns of each table in the order Write binds and Read scans
// them (named, so that a later migration adding a column breaks neither).
const (
	callTypeColumns   = `start_ms, end_ms, call_type, call_type_id, sl_type, offered, answered, abandoned, sl_calls, sl_offered, sl_aband, answer_wait_ms, handled, handle_ms`
	skillGroupColumns = `start_ms, end_ms, skill_group, number, handled, talk_ms, ready_ms, not_ready_ms, logged_on_ms, agents_logged_on, agents_any_group`
	agentColumns      = `start_ms, end_ms, agent_id, agent_group, calls, talk_ms, hold_ms, wrap_up_ms, ready_ms, not_ready_ms, logged_on_ms`
	campaignColumns   = `start_ms, end_ms, campaign, attempts, connects, abandoned, busy, no_answer, machines`
	attemptColumns    = `start_ms, campaign, seq, mode, dialed_number, record_id, attempt_number, agent_id, port, call_id, outcome, cause, alerting_ms, answered_ms, connected_ms, end_ms`
)

// Store is a SQLite file of interval and attempt records, or — opened
// with Open — a campaign store (controller/campaign) whose attempt journal
// it reads as attempt records.
type Store struct {
	db   *sql.DB
	path string
	// version is the schema version of a reporting store.
	version int
	// journal: the file is a campaign store; only its attempts are read.
	journal bool
}

// Create opens the store at path, creating the file and its tables if
// needed; it is what a run writing its intervals uses.
func Create(path string) (*Store, error) {
	s, err := open(path, writeDSN)
	if err != nil {
		return nil, err
	}
	if err := s.migrate(); err != nil {
		s.db.Close()
		return nil, fmt.Errorf("reporting: %s: %w", path, err)
	}
	s.version = len(migrations)
	return s, nil
}

// Open opens an existing file for reading, without changing it: a store
// written by Create, of this schema version or an older one (a store older
// than the attempt records has no attempts to read), or a campaign store
// (its attempt journal; see IsJournal). A missing file, a file that is not
// SQLite, or a SQLite file with neither (another program's database) is an
// error naming the path.
func Open(path string) (*Store, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("reporting: store %s: %w", path, err)
	}
	if fi.IsDir() {
		return nil, fmt.Errorf("reporting: store %s is a directory", path)
	}
	s, err := open(path, readDSN)
	if err != nil {
		return nil, err
	}
	if err := s.identify(); err != nil {
		s.db.Close()
		return nil, fmt.Errorf("reporting: store %s: %w", path, err)
	}
	return s, nil
}

// identify tells a reporting store from a campaign store by their tables:
// both keep a schema_version, each of its own numbering.
func (s *Store) identify() error {
	tables := map[string]bool{}
	err := s.scan(`SELECT name FROM sqlite_master WHERE type = 'table'`, nil, func(sc func(...any) error) error {
		var name string
		if err := sc(&name); err != nil {
			return err
		}
		tables[name] = true
		return nil
	})
	if err != nil {
		if strings.Contains(err.Error(), "not a database") {
			return errors.New("not a SQLite database")
		}
		return err
	}
	if !tables["call_type_interval"] && tables["campaigns"] && tables["records"] && tables["attempts"] && tables["schema_version"] {
		s.journal = true
		return nil
	}
	if !tables["call_type_interval"] || !tables["schema_version"] {
		return errors.New("no interval tables (not written by ipcclab simulate --store?)")
	}
	err = s.db.QueryRow(`SELECT version FROM schema_version`).Scan(&s.version)
	switch {
	case err != nil:
		return err
	case s.version < 1 || s.version > len(migrations):
		return fmt.Errorf("schema version %d, this program reads 1 to %d", s.version, len(migrations))
	}
	return nil
}

// IsJournal reports whether the store is a campaign store: it has attempt
// records (its journal) and no intervals.
func (s *Store) IsJournal() bool { return s.journal }

// The data source names: a writer keeps the store in WAL mode (a
// dashboard may read while a run writes) with synchronous NORMAL, not
// FULL as in the campaign journal: a lost interval after a power cut is
// recomputed by running the day again, nothing is dialed twice. A reader
// changes nothing, not even the journal mode of a campaign store that a
// running controller writes.
const (
	writeDSN = "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"
	readDSN  = "?_pragma=busy_timeout(5000)&_pragma=query_only(1)"
)

func open(path, dsn string) (*Store, error) {
	if path == "" || strings.ContainsAny(path, "?#") || path == ":memory:" {
		return nil, fmt.Errorf("reporting: store path %q: want a file name without ? or #", path)
	}
	db, err := sql.Open("sqlite", path+dsn)
	if err != nil {
		return nil, fmt.Errorf("reporting: store %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	// The pragmas run on the first connection: a file that is not SQLite
	// fails here.
	if err := db.Ping(); err != nil {
		db.Close()
		if strings.Contains(err.Error(), "not a database") {
			return nil, fmt.Errorf("reporting: store %s: not a SQLite database", path)
		}
		return nil, fmt.Errorf("reporting: store %s: %w", path, err)
	}
	return &Store{db: db, path: path}, nil
}

func (s *Store) migrate() error {
	ctx := context.Background()
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`); err != nil {
		if strings.Contains(err.Error(), "not a database") {
			return errors.New("not a SQLite database")
		}
		return err
	}
	// Another program's schema_version (the campaign store keeps one, of
	// its own numbering) is not ours to migrate.
	var v, ours int
	err := s.db.QueryRowContext(ctx, `SELECT coalesce((SELECT version FROM schema_version), 0),
		(SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'call_type_interval')`).Scan(&v, &ours)
	if err != nil {
		return err
	}
	if v > 0 && ours == 0 {
		return fmt.Errorf("schema version %d without interval tables: another program's database (a campaign store?), not a reporting store", v)
	}
	for {
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		var v int
		switch err := tx.QueryRow(`SELECT version FROM schema_version`).Scan(&v); {
		case errors.Is(err, sql.ErrNoRows):
			if _, err := tx.Exec(`INSERT INTO schema_version (version) VALUES (0)`); err != nil {
				tx.Rollback()
				return err
			}
		case err != nil:
			tx.Rollback()
			return err
		}
		if v > len(migrations) {
			tx.Rollback()
			return fmt.Errorf("schema version %d is newer than this program's %d", v, len(migrations))
		}
		if v == len(migrations) {
			return tx.Commit()
		}
		if _, err := tx.Exec(migrations[v]); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d: %w", v+1, err)
		}
		if _, err := tx.Exec(`UPDATE schema_version SET version = ?`, v+1); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Path is the file the store was opened from.
func (s *Store) Path() string { return s.path }

func ms(t time.Time) int64         { return t.UnixMilli() }
func msd(d time.Duration) int64    { return d.Milliseconds() }
func fromMS(v int64) time.Time     { return time.UnixMilli(v).UTC() }
func durMS(v int64) time.Duration  { return time.Duration(v) * time.Millisecond }
func span(a, b int64) Span         { return Span{Start: fromMS(a), End: fromMS(b)} }
func spanArgs(sp Span) []any       { return []any{ms(sp.Start), ms(sp.End)} }
func join(a []any, b ...any) []any { return append(a, b...) }

// Write stores every record of iv in one transaction, replacing records of
// the same entity and interval start.
func (s *Store) Write(iv *Intervals) error {
	tx, err := s.db.Begin()
	if err != nil {
		return fmt.Errorf("reporting: store %s: %w", s.path, err)
	}
	err = writeAll(tx, iv)
	if err == nil {
		err = tx.Commit()
	} else {
		tx.Rollback()
	}
	if err != nil {
		return fmt.Errorf("reporting: store %s: write: %w", s.path, err)
	}
	return nil
}

func writeAll(tx *sql.Tx, iv *Intervals) error {
	ins := func(query string, rows int, args func(i int) []any) error {
		if rows == 0 {
			return nil
		}
		st, err := tx.Prepare(query)
		if err != nil {
			return err
		}
		defer st.Close()
		for i := 0; i < rows; i++ {
			if _, err := st.Exec(args(i)...); err != nil {
				return err
			}
		}
		return nil
	}
	return errors.Join(
		ins(`INSERT OR REPLACE INTO call_type_interval (`+callTypeColumns+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)`, len(iv.CallTypes), func(i int) []any {
			c := iv.CallTypes[i]
			return join(spanArgs(c.Span), c.CallType, c.CallTypeID, c.ServiceLevelType, c.Offered, c.Answered, c.Abandoned,
				c.SLCalls, c.SLOffered, c.SLAband, msd(c.AnswerWait), c.Handled, msd(c.HandleTime))
		}),
		ins(`INSERT OR REPLACE INTO skill_group_interval (`+skillGroupColumns+`) VALUES (?,?,?,?,?,?,?,?,?,?,?)`, len(iv.SkillGroups), func(i int) []any {
			g := iv.SkillGroups[i]
			return join(spanArgs(g.Span), g.SkillGroup, g.Number, g.Handled, msd(g.TalkTime), msd(g.ReadyTime), msd(g.NotReadyTime),
				msd(g.LoggedOnTime), g.AgentsLoggedOn, g.AgentsAnyGroup)
		}),
		ins(`INSERT OR REPLACE INTO agent_interval (`+agentColumns+`) VALUES (?,?,?,?,?,?,?,?,?,?,?)`, len(iv.Agents), func(i int) []any {
			a := iv.Agents[i]
			return join(spanArgs(a.Span), a.AgentID, a.Group, a.Calls, msd(a.Talk), msd(a.Hold), msd(a.WrapUp), msd(a.Ready),
				msd(a.NotReady), msd(a.LoggedOnTime))
		}),
		ins(`INSERT OR REPLACE INTO campaign_interval (`+campaignColumns+`) VALUES (?,?,?,?,?,?,?,?,?)`, len(iv.Campaigns), func(i int) []any {
			c := iv.Campaigns[i]
			return join(spanArgs(c.Span), c.Campaign, c.Attempts, c.Connects, c.Abandoned, c.Busy, c.NoAnswer, c.Machines)
		}),
	)
}

// Range selects the intervals that start in [From, To); a zero bound is
// open.
type Range struct {
	From, To time.Time
}

func (r Range) where() (string, []any) {
	lo, hi := int64(-1<<62), int64(1<<62)
	if !r.From.IsZero() {
		lo = ms(r.From)
	}
	if !r.To.IsZero() {
		hi = ms(r.To)
	}
	return ` WHERE start_ms >= ? AND start_ms < ?`, []any{lo, hi}
}

// Read returns the records of one kind in the range, ordered by interval
// start, then entity.
func (s *Store) Read(kind Kind, r Range) (*Intervals, error) {
	if !r.From.IsZero() && !r.To.IsZero() && !r.From.Before(r.To) {
		return nil, fmt.Errorf("reporting: range from %s is not before to %s", r.From.Format(time.RFC3339), r.To.Format(time.RFC3339))
	}
	if s.journal {
		return nil, fmt.Errorf("reporting: store %s is a campaign store (its attempt journal): it has no %s intervals, only attempts", s.path, kind)
	}
	where, args := r.where()
	iv := &Intervals{}
	var err error
	switch kind {
	case KindCallType:
		err = s.scan(`SELECT `+callTypeColumns+` FROM call_type_interval`+where+` ORDER BY start_ms, call_type_id, call_type`, args, func(sc func(...any) error) error {
			var c CallTypeInterval
			var a, b, wait, handle int64
			if err := sc(&a, &b, &c.CallType, &c.CallTypeID, &c.ServiceLevelType, &c.Offered, &c.Answered, &c.Abandoned,
				&c.SLCalls, &c.SLOffered, &c.SLAband, &wait, &c.Handled, &handle); err != nil {
				return err
			}
			c.Span, c.AnswerWait, c.HandleTime = span(a, b), durMS(wait), durMS(handle)
			iv.CallTypes = append(iv.CallTypes, c)
			return nil
		})
	case KindSkillGroup:
		cols := skillGroupColumns
		if s.version < anyGroupVersion {
			cols = strings.Replace(cols, "agents_any_group", "0", 1) // not kept then
		}
		err = s.scan(`SELECT `+cols+` FROM skill_group_interval`+where+` ORDER BY start_ms, number, skill_group`, args, func(sc func(...any) error) error {
			var g SkillGroupInterval
			var a, b, talk, ready, nr, lo int64
			if err := sc(&a, &b, &g.SkillGroup, &g.Number, &g.Handled, &talk, &ready, &nr, &lo, &g.AgentsLoggedOn, &g.AgentsAnyGroup); err != nil {
				return err
			}
			g.Span, g.TalkTime, g.ReadyTime, g.NotReadyTime, g.LoggedOnTime = span(a, b), durMS(talk), durMS(ready), durMS(nr), durMS(lo)
			iv.SkillGroups = append(iv.SkillGroups, g)
			return nil
		})
	case KindAgent:
		err = s.scan(`SELECT `+agentColumns+` FROM agent_interval`+where+` ORDER BY start_ms, agent_id`, args, func(sc func(...any) error) error {
			var g AgentInterval
			var a, b, talk, hold, wrap, ready, nr, lo int64
			if err := sc(&a, &b, &g.AgentID, &g.Group, &g.Calls, &talk, &hold, &wrap, &ready, &nr, &lo); err != nil {
				return err
			}
			g.Span, g.Talk, g.Hold, g.WrapUp = span(a, b), durMS(talk), durMS(hold), durMS(wrap)
			g.Ready, g.NotReady, g.LoggedOnTime = durMS(ready), durMS(nr), durMS(lo)
			iv.Agents = append(iv.Agents, g)
			return nil
		})
	case KindCampaign:
		err = s.scan(`SELECT `+campaignColumns+` FROM campaign_interval`+where+` ORDER BY start_ms, campaign`, args, func(sc func(...any) error) error {
			var c CampaignInterval
			var a, b int64
			if err := sc(&a, &b, &c.Campaign, &c.Attempts, &c.Connects, &c.Abandoned, &c.Busy, &c.NoAnswer, &c.Machines); err != nil {
				return err
			}
			c.Span = span(a, b)
			iv.Campaigns = append(iv.Campaigns, c)
			return nil
		})
	default:
		_, err = ParseKind(string(kind))
	}
	if err != nil {
		return nil, fmt.Errorf("reporting: store %s: read %s: %w", s.path, kind, err)
	}
	return iv, nil
}

func (s *Store) scan(query string, args []any, row func(scan func(...any) error) error) error {
	rows, err := s.db.Query(query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := row(rows.Scan); err != nil {
			return err
		}
	}
	return rows.Err()
}

// FirstStart is the start of the earliest interval of any kind or attempt
// (zero for an empty store): the day that clock times in a report's range
// refer to.
func (s *Store) FirstStart() (time.Time, error) {
	q := `SELECT min(m) FROM (
		SELECT min(start_ms) AS m FROM call_type_interval UNION ALL SELECT min(start_ms) FROM skill_group_interval
		UNION ALL SELECT min(start_ms) FROM agent_interval UNION ALL SELECT min(start_ms) FROM campaign_interval`
	switch {
	case s.journal:
		q = `SELECT min(started_at) FROM attempts`
	case s.version >= attemptsVersion:
		q += ` UNION ALL SELECT min(start_ms) FROM outbound_attempt)`
	default:
		q += `)`
	}
	var v sql.NullInt64
	err := s.db.QueryRow(q).Scan(&v)
	if err != nil {
		return time.Time{}, fmt.Errorf("reporting: store %s: %w", s.path, err)
	}
	if !v.Valid {
		return time.Time{}, nil
	}
	return fromMS(v.Int64), nil
}
