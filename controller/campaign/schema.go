package campaign

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations are applied in order, each in its own transaction together with
// the bump of schema_version, so a crash mid-migration leaves the previous
// version intact. Never edit a released entry: append a new one.
//
// Times are INTEGER Unix milliseconds (UTC): they sort and compare in SQL
// without parsing, and they carry no zone, which is the record's business.
var migrations = []string{
	// 1: the initial schema.
	`
CREATE TABLE campaigns (
	id             INTEGER PRIMARY KEY,
	name           TEXT NOT NULL UNIQUE,
	mode           TEXT NOT NULL,
	skill_groups   TEXT NOT NULL,  -- JSON array
	calling_hours  TEXT NOT NULL,  -- JSON, CallingHours
	retry_rules    TEXT NOT NULL,  -- JSON, RetryRules
	max_attempts   INTEGER NOT NULL,
	abandon_target REAL NOT NULL,
	enabled        INTEGER NOT NULL
);
CREATE TABLE records (
	id          INTEGER PRIMARY KEY,
	campaign_id INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
	phone       TEXT NOT NULL,
	time_zone   TEXT NOT NULL,
	region      TEXT NOT NULL DEFAULT '',
	priority    INTEGER NOT NULL DEFAULT 0,
	callback    INTEGER NOT NULL DEFAULT 0,
	fields      TEXT NOT NULL DEFAULT '{}',  -- JSON object
	status      TEXT NOT NULL,
	attempts    INTEGER NOT NULL DEFAULT 0,
	next_at     INTEGER NOT NULL,
	UNIQUE (campaign_id, phone)
);
CREATE INDEX records_due ON records (campaign_id, status, next_at);
CREATE INDEX records_zone ON records (campaign_id, status, time_zone);
CREATE TABLE attempts (
	id         INTEGER PRIMARY KEY,
	record_id  INTEGER NOT NULL REFERENCES records(id) ON DELETE CASCADE,
	started_at INTEGER NOT NULL,
	outcome    TEXT NOT NULL DEFAULT '',
	ended_at   INTEGER              -- NULL while the call is in flight
);
CREATE INDEX attempts_record ON attempts (record_id);
-- At most one attempt in flight per record, enforced by the database itself:
-- the journal's "never dials a record twice at once".
CREATE UNIQUE INDEX attempts_open ON attempts (record_id) WHERE ended_at IS NULL;
CREATE TABLE recalls (
	record_id INTEGER PRIMARY KEY REFERENCES records(id) ON DELETE CASCADE,
	at        INTEGER NOT NULL,
	agent_id  TEXT NOT NULL DEFAULT ''
);
CREATE TABLE dnc (
	digits TEXT NOT NULL,
	prefix INTEGER NOT NULL,  -- 1: every number starting with digits
	PRIMARY KEY (digits, prefix)
) WITHOUT ROWID;
`,
	// 2: the pacing limits and UK mode of a campaign; selection by index.
	// records_pick serves Next's ordinary records one (zone, priority) at a
	// time in NextAt order, so a selection reads the records it returns, not
	// the whole list; it also serves the distinct-zone scan, so
	// records_zone (its prefix) goes. records_callback finds the few web
	// callbacks.
	`
ALTER TABLE campaigns ADD COLUMN uk_ofcom INTEGER NOT NULL DEFAULT 0;
ALTER TABLE campaigns ADD COLUMN max_in_flight INTEGER NOT NULL DEFAULT 0;
ALTER TABLE campaigns ADD COLUMN lines_per_agent REAL NOT NULL DEFAULT 0;
CREATE INDEX records_pick ON records (campaign_id, status, time_zone, priority, next_at);
DROP INDEX records_zone;
CREATE INDEX records_callback ON records (campaign_id, status, next_at) WHERE callback = 1;
CREATE INDEX recalls_at ON recalls (at);
`,
	// 3: a campaign's pacing state (pacing.go), so a restarted controller
	// resumes pacing where it stopped. Only the latest state is kept: one
	// row per campaign, overwritten. state is the dialer's bytes, opaque
	// here.
	`
CREATE TABLE pacing (
	campaign_id INTEGER PRIMARY KEY REFERENCES campaigns(id) ON DELETE CASCADE,
	saved_at    INTEGER NOT NULL,
	state       BLOB NOT NULL
);
`,
	// 4: the campaign's abandon window (Campaign.AbandonWindow), in
	// seconds; 0 is the controller's configured window.
	`
ALTER TABLE campaigns ADD COLUMN abandon_window_s INTEGER NOT NULL DEFAULT 0;
`,
}

// migrate brings the schema to the latest version.
func migrate(ctx context.Context, db *sql.DB) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("campaign: schema_version: %w", err)
	}
	for {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		var v int
		switch err := tx.QueryRowContext(ctx, `SELECT version FROM schema_version`).Scan(&v); {
		case err == sql.ErrNoRows:
			if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version (version) VALUES (0)`); err != nil {
				tx.Rollback()
				return err
			}
		case err != nil:
			tx.Rollback()
			return err
		}
		if v > len(migrations) {
			tx.Rollback()
			return fmt.Errorf("campaign: database schema version %d is newer than this program's %d", v, len(migrations))
		}
		if v == len(migrations) {
			return tx.Commit()
		}
		if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
			tx.Rollback()
			return fmt.Errorf("campaign: migration %d: %w", v+1, err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE schema_version SET version = ?`, v+1); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
}
