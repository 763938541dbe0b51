package campaign

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// DNCEntry is one do-not-call entry: an exact number, or every number
// starting with Digits (VICIdial's area-code wildcard, §1.6). The list is
// system-wide: it applies to every campaign.
type DNCEntry struct {
	Digits string
	Prefix bool
}

// String is the text form ParseDNC reads: "14155550100" or "1201*".
func (e DNCEntry) String() string {
	if e.Prefix {
		return e.Digits + "*"
	}
	return e.Digits
}

// ParseDNC reads an entry: a phone number (normalised like the call list),
// or digits followed by '*' for a prefix.
func ParseDNC(s string) (DNCEntry, error) {
	s = strings.TrimSpace(s)
	if p, ok := strings.CutSuffix(s, "*"); ok {
		p = strings.TrimPrefix(p, "+")
		if p == "" || len(p) > 15 || strings.Trim(p, "0123456789") != "" {
			return DNCEntry{}, fmt.Errorf("campaign: DNC prefix %q: want 1–15 digits then *", s)
		}
		return DNCEntry{Digits: p, Prefix: true}, nil
	}
	d, err := NormalizePhone(s)
	if err != nil {
		return DNCEntry{}, fmt.Errorf("campaign: DNC number: %w", err)
	}
	return DNCEntry{Digits: d}, nil
}

func (e DNCEntry) valid() error {
	_, err := ParseDNC(e.String())
	if err == nil && !e.Prefix {
		if d, _ := NormalizePhone(e.Digits); d != e.Digits {
			err = fmt.Errorf("campaign: DNC number %q is not normalised", e.Digits)
		}
	}
	return err
}

// AddDNC adds an entry and marks every pending record it matches, in any
// campaign, as dnc; it returns how many. A record in flight is left to
// EndAttempt, which will not reschedule it.
func (s *Store) AddDNC(e DNCEntry) (int, error) {
	if err := e.valid(); err != nil {
		return 0, err
	}
	var n int64
	err := s.inTx(func(tx *sql.Tx) error {
		if _, err := tx.Exec(`INSERT INTO dnc (digits, prefix) VALUES (?, ?) ON CONFLICT DO NOTHING`, e.Digits, e.Prefix); err != nil {
			return err
		}
		q := `UPDATE records SET status = 'dnc' WHERE status = 'pending' AND phone = ?`
		if e.Prefix {
			q = `UPDATE records SET status = 'dnc' WHERE status = 'pending' AND substr(phone, 1, length(?1)) = ?1`
		}
		res, err := tx.Exec(q, e.Digits)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

// RemoveDNC deletes an entry. Records already marked dnc stay so: the list
// does not remember why each was marked, so re-import them to dial again.
func (s *Store) RemoveDNC(e DNCEntry) error {
	return s.inTx(func(tx *sql.Tx) error {
		res, err := tx.Exec(`DELETE FROM dnc WHERE digits = ? AND prefix = ?`, e.Digits, e.Prefix)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("DNC entry %s: %w", e, ErrNotFound)
		}
		return nil
	})
}

// CheckDNC reports the entry that blocks phone, if any.
func (s *Store) CheckDNC(phone string) (DNCEntry, bool, error) {
	d, err := NormalizePhone(phone)
	if err != nil {
		return DNCEntry{}, false, err
	}
	return dncMatch(s.db, d)
}

// dncMatch looks the number up with index probes only: the exact entry and
// each of its at most 15 prefixes, so a national list of millions of entries
// costs the same as a short one. An exact entry wins over a prefix.
func dncMatch(q querier, digits string) (DNCEntry, bool, error) {
	args := []any{digits}
	marks := make([]string, 0, len(digits))
	for i := 1; i <= len(digits); i++ {
		args = append(args, digits[:i])
		marks = append(marks, "?")
	}
	var e DNCEntry
	err := q.QueryRowContext(context.Background(), `SELECT digits, prefix FROM dnc
		WHERE (prefix = 0 AND digits = ?) OR (prefix = 1 AND digits IN (`+strings.Join(marks, ",")+`))
		ORDER BY prefix LIMIT 1`, args...).Scan(&e.Digits, &e.Prefix)
	if errors.Is(err, sql.ErrNoRows) {
		return DNCEntry{}, false, nil
	}
	return e, err == nil, err
}
