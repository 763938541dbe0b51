package scenarios

import (
	"bytes"
	"cmp"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Desktop is the desktop section: what the browser agent desktop that
// `ipcclab up` serves at /desktop/ (controller/desktop) offers the people
// on it — Not Ready reason codes, wrap-up dispositions, the state after a
// call, the call scripts (the LYRICall role) and the customer records of
// inbound screen pops. Every key is optional; an absent one keeps the
// desktop's built-in default. The simulation ignores the section.
type Desktop struct {
	// ReasonCodes are the Not Ready (and logout) reasons an agent may
	// pick (default: 1 Break, 2 Lunch, 3 Meeting, 4 Training, 5 Coaching).
	ReasonCodes []ReasonCode `yaml:"reason_codes"`
	// Dispositions are the wrap-up codes; exactly these are accepted
	// (default: sale, no_sale, callback, wrong_party, resolved).
	Dispositions []Disposition `yaml:"dispositions"`
	// AfterCall is where an agent goes once a call is dispositioned:
	// ready (the default) or not_ready with AfterCallReason.
	AfterCall       string `yaml:"after_call"`
	AfterCallReason int    `yaml:"after_call_reason"`
	// Scripts are the call scripts: Inbound for inbound calls, Outbound
	// for campaign calls (nil: the desktop's built-in one).
	Scripts DesktopScripts `yaml:"scripts"`
	// Customers is the customer file inbound screen pops are looked up in.
	Customers *CustomerFile `yaml:"customers"`
}

// ReasonCode is a Not Ready reason the desktop offers.
type ReasonCode struct {
	Code  int    `yaml:"code"`
	Label string `yaml:"label"`
}

// Disposition is a wrap-up code; a Callback one asks the agent for a
// recall time.
type Disposition struct {
	Code     string `yaml:"code"`
	Label    string `yaml:"label"`
	Callback bool   `yaml:"callback"`
}

// After-call states (Desktop.AfterCall).
const (
	AfterCallReady    = "ready"
	AfterCallNotReady = "not_ready"
)

// DefaultDesktopReasonCodes are the codes of the desktop's built-in reason
// list (controller/desktop.DefaultReasonCodes; cmd/ipcclab's tests check
// that the two agree), which after_call_reason may name when the section
// lists no reason_codes of its own.
var DefaultDesktopReasonCodes = []int{1, 2, 3, 4, 5}

// DesktopScripts are the desktop's two scripts.
type DesktopScripts struct {
	Inbound  *Script `yaml:"inbound"`
	Outbound *Script `yaml:"outbound"`
}

// Script is a call script, written inline (name, start, steps) or as a
// file of those keys ({file: scripts/inbound.yaml}, relative to the
// scenario file), which Load reads into Steps. Its model is
// controller/desktop's Script: steps with text ({{placeholders}} from the
// call, the customer and captured fields), answers that branch, fields
// the agent captures and end steps.
type Script struct {
	File  string       `yaml:"file"`
	Name  string       `yaml:"name"`
	Start string       `yaml:"start"`
	Steps []ScriptStep `yaml:"steps"`
}

// ScriptStep is one screen of a script: with Answers it branches on the
// agent's choice, otherwise it goes to Next, unless End marks it final.
type ScriptStep struct {
	ID      string         `yaml:"id"`
	Text    string         `yaml:"text"`
	Fields  []ScriptField  `yaml:"fields"`
	Answers []ScriptAnswer `yaml:"answers"`
	Next    string         `yaml:"next"`
	End     bool           `yaml:"end"`
}

// ScriptAnswer is one button of a step.
type ScriptAnswer struct {
	Value string `yaml:"value"`
	Label string `yaml:"label"`
	Next  string `yaml:"next"`
}

// ScriptField is a value the agent captures: Pattern is a regular
// expression the whole value must match (Hint tells the agent what it
// wants); Target is where it is written on the call, CallVariable1…10 or
// ECC:<name>, empty to keep it with the disposition only.
type ScriptField struct {
	Name     string `yaml:"name"`
	Label    string `yaml:"label"`
	Required bool   `yaml:"required"`
	Pattern  string `yaml:"pattern"`
	Hint     string `yaml:"hint"`
	Target   string `yaml:"target"`
}

// CustomerFile is desktop.customers: a CSV file with a header row whose
// Key column (default "account") is what callers key in at the IVR
// (CallerEnteredDigits, CallVariable2) and whose Phone column (default
// "phone", optional) is matched against the caller's number (ANI). A
// "name" column is the customer's name; every other column is shown as a
// field. Load reads it into Records.
type CustomerFile struct {
	File  string `yaml:"file"`
	Key   string `yaml:"key"`
	Phone string `yaml:"phone"`
	// Records are the file's rows (set by Load).
	Records []Customer `yaml:"-"`
}

// Customer is one row of the customer file.
type Customer struct {
	Key, Phone, Name string
	// Fields are the row's columns but name, by header.
	Fields map[string]string
}

// Limits of the desktop section.
const (
	// ICM keeps at most 100 global Not Ready reason codes
	// (ipcc-behaviour.md, configuration limits).
	maxReasonCodes   = 100
	maxDispositions  = 100
	maxScriptSteps   = 200
	maxLabel         = 64
	maxCustomerRows  = 1_000_000
	maxCustomerBytes = 64 << 20
)

// systemReasonCodes are the Not Ready and logout reasons ICM and the PG
// set themselves (ipcc-behaviour.md, system reason codes): an agent
// picking one would be indistinguishable from RONA or a desktop failure
// in the reports.
var systemReasonCodes = map[int]string{
	999: "supervisor-initiated", 20003: "system", 32767: "RONA", 50002: "CTI/desktop failure",
	50003: "system logout", 50004: "system logout", 50005: "non-ACD call", 50006: "system",
	50010: "missed consecutive calls", 50020: "system logout", 50030: "system logout",
	50040: "system logout", 50041: "system", 50042: "system logout", 51004: "system",
}

var (
	dispositionCode = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)
	scriptFieldName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)
	scriptStepID    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$`)
)

// desktop checks the desktop section; scripts given as files are checked
// when Load reads them.
func (c *checker) desktop(s *Scenario) {
	const f = "desktop"
	d := s.Desktop
	if d.ReasonCodes != nil && len(d.ReasonCodes) == 0 {
		c.add(f+".reason_codes", "list at least one reason code, or leave the key out for the defaults")
	}
	if len(d.ReasonCodes) > maxReasonCodes {
		c.add(f+".reason_codes", "at most %d reason codes (ICM's limit), got %d", maxReasonCodes, len(d.ReasonCodes))
	}
	codes := map[int]bool{}
	for i, r := range d.ReasonCodes {
		rf := fmt.Sprintf("%s.reason_codes[%d]", f, i)
		switch {
		case r.Code < 1 || r.Code > 65535:
			c.add(rf+".code", "must be a reason code 1-65535, got %d", r.Code)
		case systemReasonCodes[r.Code] != "":
			c.add(rf+".code", "%d is a system reason code (%s) ICM sets itself", r.Code, systemReasonCodes[r.Code])
		case codes[r.Code]:
			c.add(rf+".code", "reason code %d is listed twice", r.Code)
		}
		codes[r.Code] = true
		c.label(rf+".label", r.Label)
	}
	if d.Dispositions != nil && len(d.Dispositions) == 0 {
		c.add(f+".dispositions", "list at least one disposition, or leave the key out for the defaults")
	}
	if len(d.Dispositions) > maxDispositions {
		c.add(f+".dispositions", "at most %d dispositions, got %d", maxDispositions, len(d.Dispositions))
	}
	disp := map[string]bool{}
	for i, x := range d.Dispositions {
		df := fmt.Sprintf("%s.dispositions[%d]", f, i)
		switch {
		case !dispositionCode.MatchString(x.Code):
			c.add(df+".code", "must be 1-32 lower case letters, digits and _ starting with a letter, got %q", x.Code)
		case disp[x.Code]:
			c.add(df+".code", "disposition %q is listed twice", x.Code)
		}
		disp[x.Code] = true
		c.label(df+".label", x.Label)
	}
	switch d.AfterCall {
	case "", AfterCallReady:
		if d.AfterCallReason != 0 {
			c.add(f+".after_call_reason", "applies to after_call: not_ready only")
		}
	case AfterCallNotReady:
		known := codes
		if d.ReasonCodes == nil {
			known = map[int]bool{}
			for _, k := range DefaultDesktopReasonCodes {
				known[k] = true
			}
		}
		if !known[d.AfterCallReason] {
			c.add(f+".after_call_reason", "after_call: not_ready needs one of the desktop's reason codes, got %d", d.AfterCallReason)
		}
	default:
		c.add(f+".after_call", "must be %s or %s, got %q", AfterCallReady, AfterCallNotReady, d.AfterCall)
	}
	for _, sc := range []struct {
		name string
		s    *Script
	}{{"inbound", d.Scripts.Inbound}, {"outbound", d.Scripts.Outbound}} {
		if sc.s == nil {
			continue
		}
		sf := f + ".scripts." + sc.name
		switch {
		case sc.s.File != "" && (sc.s.Name != "" || sc.s.Start != "" || sc.s.Steps != nil):
			c.add(sf+".file", "give a script file or name, start and steps inline, not both")
		case sc.s.File == "":
			c.script(sf, sc.s)
		}
	}
	if cu := d.Customers; cu != nil && cu.File == "" {
		c.add(f+".customers.file", "a CSV file with a header row is required")
	}
}

func (c *checker) label(field, l string) {
	if strings.TrimSpace(l) == "" || len(l) > maxLabel {
		c.add(field, "must be 1-%d characters, got %q", maxLabel, l)
	}
}

// script checks a script's structure; field paths start with f, which is
// empty for a script file's own keys.
func (c *checker) script(f string, s *Script) {
	at := func(k string) string {
		if f == "" {
			return k
		}
		return f + "." + k
	}
	if len(s.Steps) == 0 {
		c.add(at("steps"), "a script needs at least one step")
		return
	}
	if len(s.Steps) > maxScriptSteps {
		c.add(at("steps"), "at most %d steps, got %d", maxScriptSteps, len(s.Steps))
	}
	ids := map[string]bool{}
	for i, st := range s.Steps {
		switch {
		case !scriptStepID.MatchString(st.ID):
			c.add(at(fmt.Sprintf("steps[%d].id", i)), "must be 1-32 letters, digits, _ . or -, got %q", st.ID)
		case ids[st.ID]:
			c.add(at(fmt.Sprintf("steps[%d].id", i)), "step %q is defined twice", st.ID)
		}
		ids[st.ID] = true
	}
	if s.Start != "" && !ids[s.Start] {
		c.add(at("start"), "unknown step %q", s.Start)
	}
	ends := false
	for i, st := range s.Steps {
		sf := at(fmt.Sprintf("steps[%d]", i))
		ends = ends || st.End
		if strings.TrimSpace(st.Text) == "" {
			c.add(sf+".text", "the text the agent reads is required")
		}
		switch {
		case st.End && (st.Next != "" || len(st.Answers) > 0):
			c.add(sf+".end", "an end step has no next or answers")
		case len(st.Answers) > 0 && st.Next != "":
			c.add(sf+".next", "a step with answers goes where the answer says; remove next")
		case !st.End && len(st.Answers) == 0 && st.Next == "":
			c.add(sf+".next", "a step without answers needs next (or end: true)")
		case !st.End && len(st.Answers) == 0 && !ids[st.Next]:
			c.add(sf+".next", "unknown step %q", st.Next)
		}
		values := map[string]bool{}
		for j, a := range st.Answers {
			af := fmt.Sprintf("%s.answers[%d]", sf, j)
			switch {
			case strings.TrimSpace(a.Value) == "" || len(a.Value) > 32:
				c.add(af+".value", "must be 1-32 characters, got %q", a.Value)
			case values[a.Value]:
				c.add(af+".value", "answer %q is listed twice", a.Value)
			}
			values[a.Value] = true
			c.label(af+".label", a.Label)
			if !ids[a.Next] {
				c.add(af+".next", "unknown step %q", a.Next)
			}
		}
		names := map[string]bool{}
		for j, fl := range st.Fields {
			ff := fmt.Sprintf("%s.fields[%d]", sf, j)
			switch {
			case !scriptFieldName.MatchString(fl.Name):
				c.add(ff+".name", "must be 1-32 lower case letters, digits and _ starting with a letter, got %q", fl.Name)
			case names[fl.Name]:
				c.add(ff+".name", "field %q is captured twice on this step", fl.Name)
			}
			names[fl.Name] = true
			c.label(ff+".label", fl.Label)
			if fl.Pattern != "" {
				if _, err := regexp.Compile(fl.Pattern); err != nil {
					c.add(ff+".pattern", "not a regular expression: %v", err)
				}
			}
			if msg := scriptTarget(fl.Target); msg != "" {
				c.add(ff+".target", "%s", msg)
			}
		}
	}
	if !ends {
		c.add(at("steps"), "no step has end: true, so the script never completes")
	}
}

// scriptTarget mirrors controller/desktop's target rule: a call variable
// holds CallVariable1…10, an ECC variable a name of 1-32 characters
// (cti-protocol.md §1.6).
func scriptTarget(t string) string {
	switch {
	case t == "":
		return ""
	case strings.HasPrefix(t, "CallVariable"):
		n, err := strconv.Atoi(strings.TrimPrefix(t, "CallVariable"))
		if err != nil || n < 1 || n > 10 {
			return fmt.Sprintf("call variables are CallVariable1…CallVariable10, got %q", t)
		}
		return ""
	case strings.HasPrefix(t, "ECC:"):
		if n := len(strings.TrimPrefix(t, "ECC:")); n == 0 || n > 32 {
			return fmt.Sprintf("an ECC variable's name is 1-32 characters, got %q", t)
		}
		return ""
	}
	return fmt.Sprintf("want CallVariableN or ECC:<name>, got %q", t)
}

// resolve makes a path from the scenario relative to its directory.
func (s *Scenario) resolve(p string) string {
	if filepath.IsAbs(p) || s.BaseDir == "" {
		return p
	}
	return filepath.Join(s.BaseDir, p)
}

// loadDesktop reads the desktop section's files (Load only): script
// files, checked like inline scripts, and the customer file. Problems in
// a file name that file and its line; a file that cannot be read is
// reported at the scenario's key.
func (s *Scenario) loadDesktop() []Problem {
	var probs []Problem
	for _, sc := range []struct {
		name string
		s    *Script
	}{{"inbound", s.Desktop.Scripts.Inbound}, {"outbound", s.Desktop.Scripts.Outbound}} {
		if sc.s == nil || sc.s.File == "" {
			continue
		}
		field := "desktop.scripts." + sc.name
		loaded, ps := loadScript(s.resolve(sc.s.File), field)
		probs = append(probs, ps...)
		if loaded != nil {
			loaded.File = sc.s.File
			*sc.s = *loaded
		}
	}
	if cu := s.Desktop.Customers; cu != nil {
		probs = append(probs, cu.load(s.resolve(cu.File))...)
	}
	return probs
}

// loadScript reads the script file at path for the scenario's field.
func loadScript(path, field string) (*Script, []Problem) {
	name := path
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, []Problem{{Field: field + ".file", Msg: fmt.Sprintf("cannot read the script: %v", err)}}
	}
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return nil, []Problem{{File: name, Line: yamlLine(err), Field: field, Msg: err.Error()}}
	}
	if len(root.Content) == 0 {
		return nil, []Problem{{File: name, Line: 1, Field: field, Msg: "empty script file"}}
	}
	var sc Script
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&sc); err != nil {
		var e *Error
		if !errors.As(yamlError(name, &root, err), &e) {
			return nil, []Problem{{File: name, Line: 1, Field: field, Msg: err.Error()}}
		}
		return nil, inFile(name, field, e.Problems)
	}
	c := &checker{}
	if sc.File != "" {
		c.add("file", "a script file holds name, start and steps; it cannot name another file")
	}
	c.script("", &sc)
	if len(c.probs) > 0 {
		for i := range c.probs {
			c.probs[i].Line = lineOf(&root, c.probs[i].Field)
		}
		return nil, inFile(name, field, c.probs)
	}
	return &sc, nil
}

// inFile places a file's problems in that file, their fields under the
// scenario's field.
func inFile(name, field string, probs []Problem) []Problem {
	out := make([]Problem, len(probs))
	for i, p := range probs {
		f := field
		if p.Field != "" && p.Field != "(document)" {
			f = field + "." + p.Field
		}
		out[i] = Problem{File: name, Line: p.Line, Field: f, Msg: p.Msg}
	}
	return out
}

var yamlLineRE = regexp.MustCompile(`line (\d+)`)

// yamlLine finds the line in a yaml syntax error (1 when it names none).
func yamlLine(err error) int {
	if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n
	}
	return 1
}

// load reads the customer file into Records. Every bad row is reported
// (up to 20) with the file's line and the column.
func (cu *CustomerFile) load(path string) []Problem {
	const field = "desktop.customers"
	name := path
	fi, err := os.Stat(path)
	if err == nil && fi.Size() > maxCustomerBytes {
		err = fmt.Errorf("%d bytes, more than the %d MiB a customer file may have", fi.Size(), maxCustomerBytes>>20)
	}
	var f *os.File
	if err == nil {
		f, err = os.Open(path)
	}
	if err != nil {
		return []Problem{{Field: field + ".file", Msg: fmt.Sprintf("cannot read the customer file: %v", err)}}
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.TrimLeadingSpace = true
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return []Problem{{File: name, Line: 1, Field: field + ".file", Msg: "empty file: want a header row naming the columns"}}
	}
	if err != nil {
		return []Problem{csvProblem(name, field+".file", err)}
	}
	cols := map[string]int{}
	nameCol := -1
	for i, h := range header {
		h = strings.TrimSpace(h)
		header[i] = h
		if h == "" {
			return []Problem{{File: name, Line: 1, Field: field + ".file", Msg: fmt.Sprintf("column %d of the header row has no name", i+1)}}
		}
		if _, dup := cols[h]; dup {
			return []Problem{{File: name, Line: 1, Field: field + ".file", Msg: fmt.Sprintf("column %q is named twice in the header row", h)}}
		}
		cols[h] = i
		if strings.EqualFold(h, "name") {
			nameCol = i
		}
	}
	key := cu.Key
	if key == "" {
		key = "account"
	}
	keyCol, ok := cols[key]
	if !ok {
		return []Problem{{Field: field + ".key", Msg: fmt.Sprintf("%s has no column %q (columns: %s)", name, key, strings.Join(header, ", "))}}
	}
	phoneCol := -1
	if p, ok := cols[cmp.Or(cu.Phone, "phone")]; ok {
		phoneCol = p
	} else if cu.Phone != "" {
		return []Problem{{Field: field + ".phone", Msg: fmt.Sprintf("%s has no column %q (columns: %s)", name, cu.Phone, strings.Join(header, ", "))}}
	}
	var probs []Problem
	bad := func(line int, column, format string, args ...any) {
		probs = append(probs, Problem{File: name, Line: line, Field: column, Msg: fmt.Sprintf(format, args...)})
	}
	seen := map[string]int{}
	cu.Records = nil
	for len(probs) < 20 {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			probs = append(probs, csvProblem(name, field+".file", err))
			break
		}
		line, _ := r.FieldPos(0)
		if len(cu.Records) == maxCustomerRows {
			bad(line, field+".file", "more than %d customers", maxCustomerRows)
			break
		}
		k := strings.TrimSpace(rec[keyCol])
		switch {
		case k == "":
			bad(line, key, "empty: every customer needs the key callers are looked up by")
			continue
		case seen[k] != 0:
			bad(line, key, "%q is also the key of line %d", k, seen[k])
			continue
		}
		seen[k] = line
		c := Customer{Key: k, Fields: map[string]string{}}
		for i, v := range rec {
			v = strings.TrimSpace(v)
			switch i {
			case nameCol:
				c.Name = v
				continue
			case phoneCol:
				c.Phone = v
			}
			c.Fields[header[i]] = v
		}
		cu.Records = append(cu.Records, c)
	}
	if len(probs) > 0 {
		cu.Records = nil
	}
	return probs
}

// csvProblem places a CSV syntax error (a wrong number of fields, a bare
// quote) at its line.
func csvProblem(name, field string, err error) Problem {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return Problem{File: name, Line: pe.Line, Field: field, Msg: pe.Err.Error()}
	}
	return Problem{File: name, Line: 1, Field: field, Msg: err.Error()}
}
