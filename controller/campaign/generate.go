package campaign

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
)

// GenerateConfig describes a synthetic call list (GenerateCSV).
type GenerateConfig struct {
	// Count is the number of records, 1–1000000.
	Count int
	// TimeZones are the customers' IANA zones; each record gets one drawn
	// at random. At least one.
	TimeZones []string
	// Seed makes the list: the same config gives the same file.
	Seed uint64
	// Prefix starts every number (digits, at most 8: the numbers are
	// Prefix + 7 digits); "" means "1555".
	Prefix string
}

// Validate reports every invalid field, naming it.
func (g GenerateConfig) Validate() error {
	var errs []error
	if g.Count < 1 || g.Count > 1_000_000 {
		errs = append(errs, fmt.Errorf("campaign: GenerateConfig.Count %d: want 1–1000000", g.Count))
	}
	if len(g.TimeZones) == 0 {
		errs = append(errs, errors.New("campaign: GenerateConfig.TimeZones: at least one time zone is required"))
	}
	for i, z := range g.TimeZones {
		if _, err := LoadZone(z); err != nil {
			errs = append(errs, fmt.Errorf("campaign: GenerateConfig.TimeZones[%d]: %w", i, err))
		}
	}
	if len(g.Prefix) > 8 {
		errs = append(errs, fmt.Errorf("campaign: GenerateConfig.Prefix %q: at most 8 digits", g.Prefix))
	}
	for _, r := range g.Prefix {
		if r < '0' || r > '9' {
			errs = append(errs, fmt.Errorf("campaign: GenerateConfig.Prefix %q: digits only", g.Prefix))
			break
		}
	}
	return errors.Join(errs...)
}

// GenerateCSV writes a deterministic call list in ImportCSV's format, with
// columns phone, time_zone, name and account. The numbers are Prefix and 7
// digits, distinct (a stride through the 10⁷ suffixes, drawn from the seed),
// so DNC prefixes can be aimed at part of the list.
func GenerateCSV(w io.Writer, g GenerateConfig) error {
	if err := g.Validate(); err != nil {
		return err
	}
	prefix := g.Prefix
	if prefix == "" {
		prefix = "1555"
	}
	rng := rand.New(rand.NewPCG(g.Seed, 0x6361_6d70_6169_676e)) // "campaign"
	const space = 10_000_000
	// A stride coprime to 10⁷ (odd, not a multiple of 5) visits every
	// suffix once.
	stride := rng.IntN(space/10)*10 + []int{1, 3, 7, 9}[rng.IntN(4)]
	start := rng.IntN(space)
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"phone", "time_zone", "name", "account"}); err != nil {
		return err
	}
	for i := range g.Count {
		suffix := (start + i*stride) % space
		zone := g.TimeZones[rng.IntN(len(g.TimeZones))]
		rec := []string{fmt.Sprintf("%s%07d", prefix, suffix), zone, "Customer " + strconv.Itoa(i+1), fmt.Sprintf("A%08d", i+1)}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
