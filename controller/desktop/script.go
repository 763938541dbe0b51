package desktop

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Script is a call script (the LYRICall role): steps the agent reads out,
// answers that branch to the next step, and fields the agent captures,
// each written back to the call (a call variable or an ECC variable) when
// the step is completed.
type Script struct {
	Name  string `json:"name"`
	Start string `json:"start"`
	Steps []Step `json:"steps"`
}

// Step is one screen of a script. Text may use {{Name}} placeholders:
// CallVariable1…CallVariable10, ANI, DNIS, DialedNumber, AgentID, any ECC
// variable by name (BAAccountNumber, user.order), customer.<field> and the
// fields captured so far. Unknown names render empty: the call may simply
// not carry them.
type Step struct {
	ID   string `json:"id"`
	Text string `json:"text"`
	// Fields captured on this step.
	Fields []Field `json:"fields,omitempty"`
	// Answers branch; with none, Next is the following step.
	Answers []Answer `json:"answers,omitempty"`
	Next    string   `json:"next,omitempty"`
	// End marks a final step: the script is complete.
	End bool `json:"end,omitempty"`
}

// Answer is one button of a step.
type Answer struct {
	Value string `json:"value"`
	Label string `json:"label"`
	Next  string `json:"next"`
}

// Field is a captured value. Target is where it is written on the call:
// "CallVariable1"…"CallVariable10" or "ECC:<name>"; empty keeps it with
// the disposition only.
type Field struct {
	Name     string `json:"name"`
	Label    string `json:"label"`
	Required bool   `json:"required,omitempty"`
	// Pattern is a regular expression the whole value must match.
	Pattern string `json:"pattern,omitempty"`
	// Hint tells the agent what the pattern wants.
	Hint   string `json:"hint,omitempty"`
	Target string `json:"target,omitempty"`
}

var (
	placeholder = regexp.MustCompile(`\{\{\s*([A-Za-z0-9_.:-]+)\s*\}\}`)
	fieldName   = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)
)

// Validate checks the script's structure: unique step IDs, known branch
// targets, compilable patterns, valid targets, a reachable end.
func (s *Script) Validate() error {
	if s == nil {
		return fmt.Errorf("script: missing")
	}
	where := "script " + strconv.Quote(s.Name)
	if len(s.Steps) == 0 {
		return fmt.Errorf("%s: no steps", where)
	}
	ids := map[string]bool{}
	for i, st := range s.Steps {
		if st.ID == "" || ids[st.ID] {
			return fmt.Errorf("%s: steps[%d]: id empty or repeated", where, i)
		}
		ids[st.ID] = true
	}
	if !ids[s.Start] {
		return fmt.Errorf("%s: start: no step %q", where, s.Start)
	}
	ends := false
	for i, st := range s.Steps {
		at := fmt.Sprintf("%s: steps[%d] (%s)", where, i, st.ID)
		ends = ends || st.End
		if !st.End && len(st.Answers) == 0 && !ids[st.Next] {
			return fmt.Errorf("%s: next: no step %q", at, st.Next)
		}
		for j, a := range st.Answers {
			if a.Value == "" || !ids[a.Next] {
				return fmt.Errorf("%s: answers[%d]: empty value or no step %q", at, j, a.Next)
			}
		}
		names := map[string]bool{}
		for j, f := range st.Fields {
			fa := fmt.Sprintf("%s: fields[%d]", at, j)
			if !fieldName.MatchString(f.Name) || names[f.Name] {
				return fmt.Errorf("%s: name %q must be lower case letters, digits and _ and unique", fa, f.Name)
			}
			names[f.Name] = true
			if f.Pattern != "" {
				if _, err := regexp.Compile(f.Pattern); err != nil {
					return fmt.Errorf("%s: pattern: %v", fa, err)
				}
			}
			if _, _, err := parseTarget(f.Target); err != nil {
				return fmt.Errorf("%s: target: %v", fa, err)
			}
		}
	}
	if !ends {
		return fmt.Errorf("%s: no step has end: true", where)
	}
	return nil
}

// parseTarget returns the call variable (1-10) or the ECC name a field is
// written to; both zero for "keep with the disposition only".
func parseTarget(t string) (callVar int, ecc string, err error) {
	switch {
	case t == "":
		return 0, "", nil
	case strings.HasPrefix(t, "CallVariable"):
		n, err := strconv.Atoi(strings.TrimPrefix(t, "CallVariable"))
		if err != nil || n < 1 || n > 10 {
			return 0, "", fmt.Errorf("%q: call variables are CallVariable1…CallVariable10", t)
		}
		return n, "", nil
	case strings.HasPrefix(t, "ECC:"):
		name := strings.TrimPrefix(t, "ECC:")
		if name == "" || len(name) > 32 {
			return 0, "", fmt.Errorf("%q: an ECC name is 1-32 characters (§1.6)", t)
		}
		return 0, name, nil
	}
	return 0, "", fmt.Errorf("%q: use CallVariableN or ECC:<name>", t)
}

func (s *Script) step(id string) *Step {
	for i := range s.Steps {
		if s.Steps[i].ID == id {
			return &s.Steps[i]
		}
	}
	return nil
}

// Render substitutes the placeholders of text from vars.
func Render(text string, vars map[string]string) string {
	return placeholder.ReplaceAllStringFunc(text, func(m string) string {
		return vars[placeholder.FindStringSubmatch(m)[1]]
	})
}

// checkField validates one captured value; the error says what is wrong
// (the caller names the field).
func checkField(f Field, v string) error {
	if v == "" {
		if f.Required {
			return fmt.Errorf("required")
		}
		return nil
	}
	// A call variable holds 40 characters, an ECC value 210 (§1.6).
	max := 210
	if n, _, _ := parseTarget(f.Target); n != 0 {
		max = 40
	}
	if len(v) > max {
		return fmt.Errorf("at most %d characters", max)
	}
	if f.Pattern != "" && !regexp.MustCompile(`^(?:`+f.Pattern+`)$`).MatchString(v) {
		if f.Hint != "" {
			return fmt.Errorf("%s", f.Hint)
		}
		return fmt.Errorf("does not match %s", f.Pattern)
	}
	return nil
}

// DefaultInbound is the inbound script: verify the caller, branch on what
// they call about, capture an e-mail for a sale or the issue for support.
func DefaultInbound() *Script {
	return &Script{Name: "inbound", Start: "greet", Steps: []Step{
		{ID: "greet", Text: "Thank you for calling about {{CallVariable1}}. My name is agent {{AgentID}}. Am I speaking with {{customer.name}} (account {{CallVariable2}})?",
			Answers: []Answer{{"yes", "Yes, that's them", "reason"}, {"no", "No, someone else", "identify"}}},
		{ID: "identify", Text: "May I have your name, please?",
			Fields: []Field{{Name: "caller_name", Label: "Caller's name", Required: true, Pattern: `[A-Za-z][A-Za-z .'-]{1,39}`, Hint: "letters, 2-40 characters", Target: "CallVariable6"}},
			Next:   "reason"},
		{ID: "reason", Text: "How can I help you today?",
			Answers: []Answer{{"buy", "Wants to buy", "offer"}, {"support", "Needs support", "support"}}},
		{ID: "offer", Text: "Our offer this month for {{CallVariable1}} customers: 20 % off the first year. Where shall we send the contract?",
			Fields: []Field{{Name: "email", Label: "E-mail", Required: true, Pattern: `[^@\s]+@[^@\s]+\.[A-Za-z]{2,}`, Hint: "an e-mail address like name@example.com", Target: "CallVariable7"}},
			Next:   "close"},
		{ID: "support", Text: "Please describe the problem.",
			Fields: []Field{{Name: "issue", Label: "Issue", Required: true, Target: "CallVariable8"}},
			Next:   "close"},
		{ID: "close", Text: "Thank you for calling, {{caller_name}}. Is there anything else? Then choose a disposition.", End: true},
	}}
}

// DefaultOutbound is the campaign script: right party check, pitch,
// capture the agreement.
func DefaultOutbound() *Script {
	return &Script{Name: "outbound", Start: "intro", Steps: []Step{
		{ID: "intro", Text: "Hello, this is agent {{AgentID}} calling about account {{BAAccountNumber}}. May I speak with {{customer.name}}?",
			Answers: []Answer{{"right_party", "Right party", "pitch"}, {"wrong_party", "Wrong party", "wrong"}}},
		{ID: "pitch", Text: "We would like to offer you our renewal at a lower price. Are you interested?",
			Answers: []Answer{{"interested", "Interested", "capture"}, {"not_interested", "Not interested", "close"}}},
		{ID: "capture", Text: "Great. Which plan do you choose?",
			Fields: []Field{{Name: "plan", Label: "Plan", Required: true, Pattern: `basic|plus|premium`, Hint: "basic, plus or premium", Target: "ECC:user.plan"}},
			Next:   "close"},
		{ID: "wrong", Text: "Sorry for the trouble. Disposition: wrong party.", End: true},
		{ID: "close", Text: "Thank you for your time. Choose a disposition.", End: true},
	}}
}
