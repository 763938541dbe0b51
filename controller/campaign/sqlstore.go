package campaign

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// sqlBackend is the SQLite storage (schema.go).
type sqlBackend struct{ db *sql.DB }

func (b *sqlBackend) begin() (txn, error) {
	tx, err := b.db.BeginTx(context.Background(), nil)
	if err != nil {
		return nil, err
	}
	return &sqlTxn{q: tx, tx: tx}, nil
}

func (b *sqlBackend) view(fn func(txn) error) error { return fn(&sqlTxn{q: b.db}) }

func (b *sqlBackend) close() error { return b.db.Close() }

// sqlConn is what both *sql.DB and *sql.Tx offer.
type sqlConn interface {
	Exec(query string, args ...any) (sql.Result, error)
	Query(query string, args ...any) (*sql.Rows, error)
	QueryRow(query string, args ...any) *sql.Row
}

// sqlTxn runs on a transaction, or on the database for reads (view).
type sqlTxn struct {
	q  sqlConn
	tx *sql.Tx
}

func (t *sqlTxn) commit() error {
	if t.tx == nil {
		return nil
	}
	return t.tx.Commit()
}

func (t *sqlTxn) rollback() {
	if t.tx != nil {
		t.tx.Rollback()
	}
}

type scanner interface{ Scan(dest ...any) error }

// --- campaigns ---

const campaignCols = `id, name, mode, skill_groups, calling_hours, retry_rules, max_attempts, abandon_target, enabled, uk_ofcom, max_in_flight, lines_per_agent, abandon_window_s`

func scanCampaign(r scanner) (Campaign, error) {
	var c Campaign
	var groups, hours, rules string
	var windowS int64
	if err := r.Scan(&c.ID, &c.Name, &c.Mode, &groups, &hours, &rules, &c.MaxAttempts, &c.AbandonTarget, &c.Enabled,
		&c.UKOfcom, &c.MaxInFlight, &c.LinesPerAgent, &windowS); err != nil {
		return c, err
	}
	c.AbandonWindow = time.Duration(windowS) * time.Second
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
	return []any{c.Name, string(c.Mode), string(groups), string(hours), string(rules), c.MaxAttempts, c.AbandonTarget, c.Enabled,
		c.UKOfcom, c.MaxInFlight, c.LinesPerAgent, int64(c.AbandonWindow / time.Second)}, nil
}

func (t *sqlTxn) campaign(id int64) (Campaign, error) {
	c, err := scanCampaign(t.q.QueryRow(`SELECT `+campaignCols+` FROM campaigns WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("campaign %d: %w", id, ErrNotFound)
	}
	return c, err
}

func (t *sqlTxn) campaigns() ([]Campaign, error) {
	rows, err := t.q.Query(`SELECT ` + campaignCols + ` FROM campaigns ORDER BY id`)
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

func (t *sqlTxn) insertCampaign(c Campaign) (int64, error) {
	args, err := campaignArgs(c)
	if err != nil {
		return 0, err
	}
	var n int
	if err := t.q.QueryRow(`SELECT count(*) FROM campaigns WHERE name = ?`, c.Name).Scan(&n); err != nil {
		return 0, err
	}
	if n > 0 {
		return 0, errDuplicateName
	}
	var id int64
	err = t.q.QueryRow(`INSERT INTO campaigns (name, mode, skill_groups, calling_hours, retry_rules, max_attempts, abandon_target, enabled,
		uk_ofcom, max_in_flight, lines_per_agent, abandon_window_s)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, args...).Scan(&id)
	return id, err
}

func (t *sqlTxn) updateCampaign(c Campaign) error {
	args, err := campaignArgs(c)
	if err != nil {
		return err
	}
	var n int
	if err := t.q.QueryRow(`SELECT count(*) FROM campaigns WHERE name = ? AND id <> ?`, c.Name, c.ID).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return errDuplicateName
	}
	res, err := t.q.Exec(`UPDATE campaigns SET name = ?, mode = ?, skill_groups = ?, calling_hours = ?, retry_rules = ?,
		max_attempts = ?, abandon_target = ?, enabled = ?, uk_ofcom = ?, max_in_flight = ?, lines_per_agent = ?,
		abandon_window_s = ? WHERE id = ?`, append(args, c.ID)...)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("campaign %d: %w", c.ID, ErrNotFound)
	}
	return nil
}

// deleteCampaign: the campaign's records, their attempts and recalls, and
// its pacing state go by ON DELETE CASCADE.
func (t *sqlTxn) deleteCampaign(id int64) error {
	res, err := t.q.Exec(`DELETE FROM campaigns WHERE id = ?`, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("campaign %d: %w", id, ErrNotFound)
	}
	return nil
}

func (t *sqlTxn) countStatus(campaignID int64, st Status) (int, error) {
	var n int
	err := t.q.QueryRow(`SELECT count(*) FROM records WHERE campaign_id = ? AND status = ?`, campaignID, st).Scan(&n)
	return n, err
}

// --- records ---

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

func (t *sqlTxn) queryRecords(q string, args ...any) ([]Record, error) {
	rows, err := t.q.Query(q, args...)
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

func (t *sqlTxn) record(id int64) (Record, error) {
	r, err := scanRecord(t.q.QueryRow(`SELECT `+recordCols+` FROM records r WHERE r.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("record %d: %w", id, ErrNotFound)
	}
	return r, err
}

func (t *sqlTxn) recordByPhone(campaignID int64, phone string) (Record, bool, error) {
	r, err := scanRecord(t.q.QueryRow(`SELECT `+recordCols+` FROM records r WHERE r.campaign_id = ? AND r.phone = ?`, campaignID, phone))
	if errors.Is(err, sql.ErrNoRows) {
		return r, false, nil
	}
	return r, err == nil, err
}

func (t *sqlTxn) records(campaignID int64) ([]Record, error) {
	return t.queryRecords(`SELECT `+recordCols+` FROM records r WHERE r.campaign_id = ? ORDER BY r.id`, campaignID)
}

func fieldsJSON(f map[string]string) string {
	b, _ := json.Marshal(orEmpty(f))
	return string(b)
}

func (t *sqlTxn) insertRecord(r Record) (int64, error) {
	var id int64
	err := t.q.QueryRow(`INSERT INTO records (campaign_id, phone, time_zone, region, priority, callback, fields, status, attempts, next_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		r.CampaignID, r.Phone, r.TimeZone, r.Region, r.Priority, r.Callback, fieldsJSON(r.CustomerFields), r.Status, r.Attempts, ms(r.NextAt)).Scan(&id)
	return id, err
}

func (t *sqlTxn) putRecord(r Record) error {
	_, err := t.q.Exec(`UPDATE records SET time_zone = ?, callback = ?, fields = ?, status = ?, attempts = ?, next_at = ? WHERE id = ?`,
		r.TimeZone, r.Callback, fieldsJSON(r.CustomerFields), r.Status, r.Attempts, ms(r.NextAt), r.ID)
	return err
}

func (t *sqlTxn) setStatus(id int64, st Status) error {
	_, err := t.q.Exec(`UPDATE records SET status = ? WHERE id = ?`, st, id)
	return err
}

func (t *sqlTxn) recordsWithStatus(st Status) ([]int64, error) {
	rows, err := t.q.Query(`SELECT id FROM records WHERE status = ? ORDER BY id`, st)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

func (t *sqlTxn) markPendingDNC(e DNCEntry) (int, error) {
	q := `UPDATE records SET status = 'dnc' WHERE status = 'pending' AND phone = ?`
	if e.Prefix {
		q = `UPDATE records SET status = 'dnc' WHERE status = 'pending' AND substr(phone, 1, length(?1)) = ?1`
	}
	res, err := t.q.Exec(q, e.Digits)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// --- attempts ---

const attemptCols = `id, record_id, started_at, outcome, ended_at`

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

func (t *sqlTxn) queryAttempts(q string, args ...any) ([]Attempt, error) {
	rows, err := t.q.Query(q, args...)
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

func (t *sqlTxn) attempt(id int64) (Attempt, error) {
	a, err := scanAttempt(t.q.QueryRow(`SELECT `+attemptCols+` FROM attempts WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return a, fmt.Errorf("attempt %d: %w", id, ErrNotFound)
	}
	return a, err
}

func (t *sqlTxn) openAttempt(recordID int64) (Attempt, bool, error) {
	a, err := scanAttempt(t.q.QueryRow(`SELECT `+attemptCols+` FROM attempts WHERE record_id = ? AND ended_at IS NULL`, recordID))
	if errors.Is(err, sql.ErrNoRows) {
		return a, false, nil
	}
	return a, err == nil, err
}

func (t *sqlTxn) openAttempts() ([]Attempt, error) {
	return t.queryAttempts(`SELECT ` + attemptCols + ` FROM attempts WHERE ended_at IS NULL ORDER BY id`)
}

func (t *sqlTxn) attempts(recordID int64) ([]Attempt, error) {
	return t.queryAttempts(`SELECT `+attemptCols+` FROM attempts WHERE record_id = ? ORDER BY id`, recordID)
}

func (t *sqlTxn) insertAttempt(recordID int64, at time.Time) (int64, error) {
	var id int64
	err := t.q.QueryRow(`INSERT INTO attempts (record_id, started_at) VALUES (?, ?) RETURNING id`, recordID, ms(at)).Scan(&id)
	return id, err
}

func (t *sqlTxn) endAttempt(id int64, o Outcome, at time.Time) error {
	_, err := t.q.Exec(`UPDATE attempts SET outcome = ?, ended_at = ? WHERE id = ? AND ended_at IS NULL`, o, ms(at), id)
	return err
}

// --- recalls ---

func (t *sqlTxn) recall(recordID int64) (Recall, bool, error) {
	var rc Recall
	var at int64
	err := t.q.QueryRow(`SELECT record_id, at, agent_id FROM recalls WHERE record_id = ?`, recordID).Scan(&rc.RecordID, &at, &rc.AgentID)
	if errors.Is(err, sql.ErrNoRows) {
		return Recall{}, false, nil
	}
	rc.At = fromMS(at)
	return rc, err == nil, err
}

func (t *sqlTxn) putRecall(rc Recall) error {
	_, err := t.q.Exec(`INSERT INTO recalls (record_id, at, agent_id) VALUES (?1, ?2, ?3)
		ON CONFLICT (record_id) DO UPDATE SET at = ?2, agent_id = ?3`, rc.RecordID, ms(rc.At), rc.AgentID)
	return err
}

func (t *sqlTxn) deleteRecall(recordID int64) error {
	_, err := t.q.Exec(`DELETE FROM recalls WHERE record_id = ?`, recordID)
	return err
}

// --- pacing ---

func (t *sqlTxn) pacing(campaignID int64) ([]byte, time.Time, bool, error) {
	var state []byte
	var at int64
	err := t.q.QueryRow(`SELECT saved_at, state FROM pacing WHERE campaign_id = ?`, campaignID).Scan(&at, &state)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, time.Time{}, false, nil
	}
	if err != nil {
		return nil, time.Time{}, false, err
	}
	return state, fromMS(at), true, nil
}

func (t *sqlTxn) putPacing(campaignID int64, savedAt time.Time, state []byte) error {
	_, err := t.q.Exec(`INSERT INTO pacing (campaign_id, saved_at, state) VALUES (?1, ?2, ?3)
		ON CONFLICT (campaign_id) DO UPDATE SET saved_at = ?2, state = ?3`, campaignID, ms(savedAt), state)
	return err
}

// --- DNC ---

// dncMatch looks the number up with index probes only: the exact entry and
// each of its at most 15 prefixes, so a national list of millions of entries
// costs the same as a short one. An exact entry wins over a prefix.
func (t *sqlTxn) dncMatch(digits string) (DNCEntry, bool, error) {
	args := []any{digits}
	marks := make([]string, 0, len(digits))
	for i := 1; i <= len(digits); i++ {
		args = append(args, digits[:i])
		marks = append(marks, "?")
	}
	var e DNCEntry
	err := t.q.QueryRow(`SELECT digits, prefix FROM dnc
		WHERE (prefix = 0 AND digits = ?) OR (prefix = 1 AND digits IN (`+strings.Join(marks, ",")+`))
		ORDER BY prefix LIMIT 1`, args...).Scan(&e.Digits, &e.Prefix)
	if errors.Is(err, sql.ErrNoRows) {
		return DNCEntry{}, false, nil
	}
	return e, err == nil, err
}

func (t *sqlTxn) addDNC(e DNCEntry) error {
	_, err := t.q.Exec(`INSERT INTO dnc (digits, prefix) VALUES (?, ?) ON CONFLICT DO NOTHING`, e.Digits, e.Prefix)
	return err
}

func (t *sqlTxn) removeDNC(e DNCEntry) (bool, error) {
	res, err := t.q.Exec(`DELETE FROM dnc WHERE digits = ? AND prefix = ?`, e.Digits, e.Prefix)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// --- selection access paths ---

// pendingZones probes records_pick once per zone rather than read every
// record.
func (t *sqlTxn) pendingZones(campaignID int64) ([]string, error) {
	var zones []string
	last := ""
	for {
		var z string
		err := t.q.QueryRow(`SELECT time_zone FROM records WHERE campaign_id = ? AND status = 'pending' AND time_zone > ?
			ORDER BY time_zone LIMIT 1`, campaignID, last).Scan(&z)
		if errors.Is(err, sql.ErrNoRows) {
			return zones, nil
		}
		if err != nil {
			return nil, err
		}
		zones = append(zones, z)
		last = z
	}
}

// dueRecalls: CROSS JOIN makes SQLite read the (few) due recalls first and
// look their records up, rather than walk the pending records looking for
// recalls.
// scanRecalls reads the rows of a query selecting recordCols, rc.at and
// rc.agent_id: recalls with their records.
func scanRecalls(rows *sql.Rows, err error) ([]dueRecall, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []dueRecall
	for rows.Next() {
		var d dueRecall
		var at int64
		if d.rec, err = scanRecord(rows, &at, &d.agentID); err != nil {
			return nil, err
		}
		d.at = fromMS(at)
		out = append(out, d)
	}
	return out, rows.Err()
}

func (t *sqlTxn) dueRecalls(campaignID int64, now time.Time) ([]dueRecall, error) {
	rows, err := t.q.Query(`SELECT `+recordCols+`, rc.at, rc.agent_id
FROM recalls rc CROSS JOIN records r ON r.id = rc.record_id
WHERE r.campaign_id = ? AND r.status = 'pending' AND rc.at <= ?`, campaignID, ms(now))
	return scanRecalls(rows, err)
}

// dueCallbacks reads records_callback, the partial index of callbacks.
func (t *sqlTxn) dueCallbacks(campaignID int64, now time.Time) ([]Record, error) {
	return t.queryRecords(`SELECT `+recordCols+`
FROM records r
WHERE r.campaign_id = ? AND r.status = 'pending' AND r.callback = 1 AND r.next_at <= ?
  AND NOT EXISTS (SELECT 1 FROM recalls rc WHERE rc.record_id = r.id)`, campaignID, ms(now))
}

func (t *sqlTxn) priorityBelow(campaignID int64, zone string, below int) (int, bool, error) {
	var p int
	err := t.q.QueryRow(`SELECT priority FROM records
WHERE campaign_id = ? AND status = 'pending' AND time_zone = ? AND priority < ?
ORDER BY priority DESC LIMIT 1`, campaignID, zone, below).Scan(&p)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	return p, err == nil, err
}

// dueAt is an index range of records_pick in NextAt order.
func (t *sqlTxn) dueAt(campaignID int64, zone string, prio int, now time.Time, limit int) ([]Record, error) {
	return t.queryRecords(`SELECT `+recordCols+`
FROM records r
WHERE r.campaign_id = ? AND r.status = 'pending' AND r.time_zone = ? AND r.priority = ? AND r.next_at <= ?
  AND r.callback = 0 AND NOT EXISTS (SELECT 1 FROM recalls rc WHERE rc.record_id = r.id)
ORDER BY r.next_at, r.id
LIMIT ?`, campaignID, zone, prio, ms(now), limit)
}

// --- booked records and counts ---

// statusCounts is one pass over the campaign's entries of records_due
// (campaign_id, status, next_at), a covering index: no record is read.
func (t *sqlTxn) statusCounts(campaignID int64) (map[Status]int, error) {
	rows, err := t.q.Query(`SELECT status, count(*) FROM records WHERE campaign_id = ? GROUP BY status`, campaignID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[Status]int{}
	for rows.Next() {
		var st Status
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, err
		}
		out[st] = n
	}
	return out, rows.Err()
}

// scheduledCounts reads the (few) recalls and the partial index of
// callbacks, records_callback.
func (t *sqlTxn) scheduledCounts(campaignID int64) (recalls, callbacks int, err error) {
	err = t.q.QueryRow(`SELECT
  (SELECT count(*) FROM recalls rc CROSS JOIN records r ON r.id = rc.record_id WHERE r.campaign_id = ?1 AND r.status = 'pending'),
  (SELECT count(*) FROM records r WHERE r.campaign_id = ?1 AND r.status = 'pending' AND r.callback = 1
     AND NOT EXISTS (SELECT 1 FROM recalls rc WHERE rc.record_id = r.id))`, campaignID).Scan(&recalls, &callbacks)
	return recalls, callbacks, err
}

// nextRecalls walks recalls_at in time order, looking each recall's record
// up, until limit pending records of the campaign are found.
func (t *sqlTxn) nextRecalls(campaignID int64, limit int) ([]dueRecall, error) {
	rows, err := t.q.Query(`SELECT `+recordCols+`, rc.at, rc.agent_id
FROM recalls rc CROSS JOIN records r ON r.id = rc.record_id
WHERE r.campaign_id = ? AND r.status = 'pending'
ORDER BY rc.at, r.id
LIMIT ?`, campaignID, limit)
	return scanRecalls(rows, err)
}

// nextCallbacks is a range of records_callback in NextAt order.
func (t *sqlTxn) nextCallbacks(campaignID int64, limit int) ([]Record, error) {
	return t.queryRecords(`SELECT `+recordCols+`
FROM records r
WHERE r.campaign_id = ? AND r.status = 'pending' AND r.callback = 1
  AND NOT EXISTS (SELECT 1 FROM recalls rc WHERE rc.record_id = r.id)
ORDER BY r.next_at, r.id
LIMIT ?`, campaignID, limit)
}
