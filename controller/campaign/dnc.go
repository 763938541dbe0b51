package campaign

import (
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
	var n int
	err := s.inTx(func(tx txn) error {
		if err := tx.addDNC(e); err != nil {
			return err
		}
		var err error
		n, err = tx.markPendingDNC(e)
		return err
	})
	return n, err
}

// RemoveDNC deletes an entry. Records already marked dnc stay so: the list
// does not remember why each was marked, so re-import them to dial again.
func (s *Store) RemoveDNC(e DNCEntry) error {
	return s.inTx(func(tx txn) error {
		ok, err := tx.removeDNC(e)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("DNC entry %s: %w", e, ErrNotFound)
		}
		return nil
	})
}

// CheckDNC reports the entry that blocks phone, if any.
func (s *Store) CheckDNC(phone string) (e DNCEntry, hit bool, err error) {
	d, err := NormalizePhone(phone)
	if err != nil {
		return DNCEntry{}, false, err
	}
	err = s.view(func(tx txn) error {
		e, hit, err = tx.dncMatch(d)
		return err
	})
	return e, hit, err
}
