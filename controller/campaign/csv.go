package campaign

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// RowError is one rejected line of a call list.
type RowError struct {
	Line   int // 1-based line number in the file (the header is line 1)
	Reason string
}

func (e RowError) String() string { return fmt.Sprintf("line %d: %s", e.Line, e.Reason) }

// Report is the result of an import: every data row is counted in Imported
// or listed in Rejected. DNC rows are imported (status dnc) and also counted
// in DNC, with their lines in DNCLines.
type Report struct {
	Imported int
	Rejected []RowError
	DNC      int
	DNCLines []int
}

// MaxPriority bounds a record's priority; VICIdial gives callbacks 50 (§1.5).
const MaxPriority = 100

type columns struct {
	phone, tz, region, priority int      // -1 when absent
	fields                      []string // name per column, "" for the known ones
}

func parseHeader(h []string) (columns, error) {
	c := columns{phone: -1, tz: -1, region: -1, priority: -1, fields: make([]string, len(h))}
	seen := map[string]bool{}
	for i, name := range h {
		if i == 0 {
			name = strings.TrimPrefix(name, "\uFEFF") // byte-order mark from spreadsheet exports
		}
		name = strings.TrimSpace(name)
		key := strings.ToLower(name)
		if key == "" {
			return c, fmt.Errorf("header column %d is empty", i+1)
		}
		if seen[key] {
			return c, fmt.Errorf("header column %q appears twice", name)
		}
		seen[key] = true
		switch key {
		case "phone":
			c.phone = i
		case "time_zone":
			c.tz = i
		case "region":
			c.region = i
		case "priority":
			c.priority = i
		default:
			c.fields[i] = name
		}
	}
	if c.phone < 0 {
		return c, errors.New(`header has no "phone" column`)
	}
	if c.tz < 0 && c.region < 0 {
		return c, errors.New(`header has neither "time_zone" nor "region"`)
	}
	return c, nil
}

type row struct {
	line     int
	phone    string
	tz       string
	region   string
	priority int
	fields   map[string]string
}

// parseRow validates one data row; the reasons of every bad field are
// joined, so one pass over a file shows all that is wrong with it.
func (c columns) parseRow(line int, rec []string) (row, string) {
	r := row{line: line, fields: map[string]string{}}
	if len(rec) != len(c.fields) {
		return r, fmt.Sprintf("%d fields, the header has %d", len(rec), len(c.fields))
	}
	var why []string
	var err error
	if r.phone, err = NormalizePhone(strings.TrimSpace(rec[c.phone])); err != nil {
		why = append(why, err.Error())
	}
	if c.tz >= 0 {
		r.tz = strings.TrimSpace(rec[c.tz])
	}
	if c.region >= 0 {
		r.region = strings.TrimSpace(rec[c.region])
	}
	switch {
	case r.tz != "":
		if _, err := LoadZone(r.tz); err != nil {
			why = append(why, err.Error())
		}
	case r.region != "":
		if r.tz, err = RegionZone(r.region); err != nil {
			why = append(why, err.Error())
		}
	default:
		why = append(why, "no time_zone or region")
	}
	if c.priority >= 0 {
		if p := strings.TrimSpace(rec[c.priority]); p != "" {
			r.priority, err = strconv.Atoi(p)
			if err != nil || r.priority < 0 || r.priority > MaxPriority {
				why = append(why, fmt.Sprintf("bad priority %q: want an integer 0–%d", p, MaxPriority))
			}
		}
	}
	for i, name := range c.fields {
		if name != "" {
			r.fields[name] = rec[i]
		}
	}
	return r, strings.Join(why, "; ")
}

// ImportCSV appends a call list to a campaign; the column set and the rules
// are in the package doc. It fails as a whole (nothing imported) only when
// the header is unusable, the campaign is unknown, the reader fails or the
// database does; bad rows are reported, not fatal.
func (s *Store) ImportCSV(campaignID int64, r io.Reader) (Report, error) {
	var rep Report
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1 // a short row is reported, not fatal
	header, err := cr.Read()
	if err == io.EOF {
		return rep, errors.New("campaign: import: empty file, the header row is required")
	}
	if err != nil {
		return rep, fmt.Errorf("campaign: import: header: %w", err)
	}
	cols, err := parseHeader(header)
	if err != nil {
		return rep, fmt.Errorf("campaign: import: %w", err)
	}
	now := fromMS(ms(s.now()))
	err = s.inTx(func(tx txn) error {
		if _, err := tx.campaign(campaignID); err != nil {
			return err
		}
		firstLine := map[string]int{}
		for {
			rec, err := cr.Read()
			if err == io.EOF {
				return nil
			}
			var perr *csv.ParseError
			if errors.As(err, &perr) {
				rep.Rejected = append(rep.Rejected, RowError{perr.StartLine, perr.Err.Error()})
				continue
			}
			if err != nil {
				return err
			}
			line, _ := cr.FieldPos(0)
			rw, why := cols.parseRow(line, rec)
			if why == "" {
				if first, dup := firstLine[rw.phone]; dup {
					why = fmt.Sprintf("duplicate phone %s: first on line %d", rw.phone, first)
				} else if old, found, err := tx.recordByPhone(campaignID, rw.phone); err != nil {
					return err
				} else if found {
					why = fmt.Sprintf("phone %s is already in the campaign (record %d)", rw.phone, old.ID)
				}
			}
			if why != "" {
				rep.Rejected = append(rep.Rejected, RowError{line, why})
				continue
			}
			status := Pending
			if _, hit, err := tx.dncMatch(rw.phone); err != nil {
				return err
			} else if hit {
				status = DNC
				rep.DNC++
				rep.DNCLines = append(rep.DNCLines, line)
			}
			r := Record{CampaignID: campaignID, Phone: rw.phone, TimeZone: rw.tz, Region: rw.region, Priority: rw.priority,
				CustomerFields: rw.fields, Status: status, NextAt: now}
			if _, err := tx.insertRecord(r); err != nil {
				return fmt.Errorf("line %d: %w", line, err)
			}
			firstLine[rw.phone] = line
			rep.Imported++
		}
	})
	if err != nil {
		return Report{}, fmt.Errorf("campaign: import into campaign %d: %w", campaignID, err)
	}
	return rep, nil
}
