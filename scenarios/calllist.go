package scenarios

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// CallList is outbound.list, the campaign's call list: a CSV file (the
// campaign store's import format: phone, time_zone or region, optional
// priority and customer fields), or a list generated deterministically.
// Without it the controller dials synthetic numbers (number_prefix and a
// sequence). Written as a path:
//
//	list: customers.csv          # relative to the scenario file
//
// or as a mapping:
//
//	list:
//	  generate: {count: 5000, time_zones: [America/New_York, Europe/London], seed: 7}
type CallList struct {
	// Path is the CSV file, relative to the scenario file's directory
	// (Scenario.BaseDir) unless absolute.
	Path     string        `yaml:"path"`
	Generate *GenerateList `yaml:"generate"`
}

// GenerateList describes a generated list: Count customers with numbers
// outbound.number_prefix + 7 digits, each in one of TimeZones, drawn with
// Seed (the same scenario gives the same list).
type GenerateList struct {
	Count     int      `yaml:"count"`
	TimeZones []string `yaml:"time_zones"`
	Seed      uint64   `yaml:"seed"`
}

// UnmarshalYAML reads a path or a mapping with path or generate.
func (l *CallList) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		l.Path = n.Value
		if l.Path == "" {
			return &lineError{line: n.Line, msg: "a call list path is empty"}
		}
		return nil
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			switch k := n.Content[i]; k.Value {
			case "path", "generate":
			default:
				return &lineError{line: k.Line, msg: fmt.Sprintf("field %s not found in type scenarios.CallList (want path or generate)", k.Value)}
			}
		}
		type plain CallList
		var p plain
		if err := n.Decode(&p); err != nil {
			return err
		}
		if g := p.Generate; g != nil {
			if err := knownKeys(n, "generate", "count", "time_zones", "seed"); err != nil {
				return err
			}
		}
		*l = CallList(p)
		return nil
	}
	return &lineError{line: n.Line, msg: "outbound.list must be a CSV file path or a mapping with path or generate"}
}

// knownKeys reports an unknown key of the mapping under key in n.
func knownKeys(n *yaml.Node, key string, known ...string) error {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value != key || n.Content[i+1].Kind != yaml.MappingNode {
			continue
		}
		m := n.Content[i+1]
		for j := 0; j+1 < len(m.Content); j += 2 {
			found := false
			for _, k := range known {
				found = found || m.Content[j].Value == k
			}
			if !found {
				return &lineError{line: m.Content[j].Line, msg: fmt.Sprintf("field %s not found (want %s)", m.Content[j].Value, strings.Join(known, ", "))}
			}
		}
	}
	return nil
}

// Retry is outbound.retry: per outcome, whether and when a record is dialed
// again. Absent outcomes keep the campaign store's defaults (busy 10m, no
// answer 1h — Cisco's retryNoAnswerDelay default, dialer-anchors.md §2.3 —
// machine 4h, abandoned 72h, failed 15m).
type Retry struct {
	Busy      *RetryRule `yaml:"busy"`
	NoAnswer  *RetryRule `yaml:"no_answer"`
	Machine   *RetryRule `yaml:"machine"`
	Abandoned *RetryRule `yaml:"abandoned"`
	Failed    *RetryRule `yaml:"failed"`
}

// RetryRule is one outcome's rule: Retry false ends the record after that
// outcome; Delay (at least 2m; 72h for abandoned calls in a uk_ofcom
// campaign) is the wait before the next attempt; MaxAttempts (0: the
// campaign's max_attempts) stops retries once the record has had that many
// attempts.
type RetryRule struct {
	Retry       *bool    `yaml:"retry"`
	Delay       Duration `yaml:"delay"`
	MaxAttempts int      `yaml:"max_attempts"`
}

// Rules lists the rules set, by the outcome's key.
func (r Retry) Rules() map[string]*RetryRule {
	out := map[string]*RetryRule{}
	for k, v := range map[string]*RetryRule{"busy": r.Busy, "no_answer": r.NoAnswer, "machine": r.Machine, "abandoned": r.Abandoned, "failed": r.Failed} {
		if v != nil {
			out[k] = v
		}
	}
	return out
}

// ListPath resolves outbound.list.path against the scenario's directory.
func (s *Scenario) ListPath() string {
	l := s.Outbound.List
	if l == nil || l.Path == "" {
		return ""
	}
	if filepath.IsAbs(l.Path) || s.BaseDir == "" {
		return l.Path
	}
	return filepath.Join(s.BaseDir, l.Path)
}

var (
	dncEntry   = regexp.MustCompile(`^\s*\+?[0-9][0-9 ().-]*\*?\s*$`)
	hoursEntry = regexp.MustCompile(`^\s*([a-zA-Z]{3}(-[a-zA-Z]{3})?\s+)?\d\d:\d\d\s*-\s*\d\d:\d\d\s*$`)
)

// callList checks the call-list keys of outbound (the campaign store checks
// zones, numbers and windows in full when the lab builds the campaign, and
// names these keys).
func (c *checker) callList(s *Scenario) {
	o := s.Outbound
	if l := o.List; l != nil {
		switch {
		case l.Path != "" && l.Generate != nil:
			c.add("outbound.list", "give a path or generate, not both")
		case l.Path == "" && l.Generate == nil:
			c.add("outbound.list", "give a CSV file path or generate: {count, time_zones, seed}")
		case l.Generate != nil:
			g := l.Generate
			if g.Count < 1 || g.Count > 1_000_000 {
				c.add("outbound.list.generate.count", "must be between 1 and 1000000, got %d", g.Count)
			}
			if len(g.TimeZones) == 0 {
				c.add("outbound.list.generate.time_zones", "at least one IANA time zone (America/New_York) is required")
			}
			if len(o.NumberPrefix) > 8 || strings.Trim(o.NumberPrefix, "0123456789") != "" {
				c.add("outbound.number_prefix", "a generated list's numbers are number_prefix + 7 digits: want at most 8 digits, got %q", o.NumberPrefix)
			}
		}
	}
	for i, d := range o.DNC {
		if !dncEntry.MatchString(d) {
			c.add(fmt.Sprintf("outbound.dnc[%d]", i), "want a phone number, or digits followed by * for a prefix, got %q", d)
		}
	}
	if h := o.CallingHours; h != "" {
		for _, item := range strings.Split(h, ";") {
			if !hoursEntry.MatchString(item) {
				c.add("outbound.calling_hours", `want "HH:MM-HH:MM" (every day, the customer's local time) or "mon-fri HH:MM-HH:MM; sat HH:MM-HH:MM", got %q`, h)
				break
			}
		}
	}
	for k, r := range o.Retry.Rules() {
		if r.Delay < 0 {
			c.add("outbound.retry."+k+".delay", "must not be negative")
		}
		if r.MaxAttempts < 0 || r.MaxAttempts > 100 {
			c.add("outbound.retry."+k+".max_attempts", "must be between 0 (the campaign's) and 100, got %d", r.MaxAttempts)
		}
	}
	if o.MaxAttempts < 0 || o.MaxAttempts > 100 {
		c.add("outbound.max_attempts", "must be between 1 and 100 (0: 3), got %d", o.MaxAttempts)
	}
	if o.List == nil && (len(o.DNC) > 0 || o.CallingHours != "" || len(o.Retry.Rules()) > 0 || o.MaxAttempts != 0) {
		c.add("outbound.list", "dnc, calling_hours, retry and max_attempts apply to a call list: set outbound.list")
	}
}

// checkListFile reports a call-list file that cannot be read (Load only:
// a scenario parsed from memory has no directory to look in).
func (s *Scenario) checkListFile() *Problem {
	p := s.ListPath()
	if p == "" || s.BaseDir == "" {
		return nil
	}
	if _, err := os.Stat(p); err != nil {
		return &Problem{Field: "outbound.list", Msg: fmt.Sprintf("cannot read the call list: %v", err)}
	}
	return nil
}
