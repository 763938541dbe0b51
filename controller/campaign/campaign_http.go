package campaign

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/ipcclab/ipcclab/controller"
)

// MaxPatchBody bounds a campaign change: a handful of settings.
const MaxPatchBody = 64 << 10

// MaxListBody bounds a call list posted to a running campaign.
const MaxListBody = 64 << 20

// CampaignAPI is the campaign's HTTP API, for changing a campaign while the
// controller runs (Cisco's "editing a campaign in progress",
// dialer-anchors.md §2.5).
type CampaignAPI struct {
	Store *Store
	// Apply, when set, hands a changed campaign to the running controller
	// before the change is saved (e.g. a controller.Handle's
	// UpdateCampaign of Limits(c)); an error refuses the change, and a
	// controller.LimitError names the field at fault.
	Apply func(Campaign) error
	// Changed, when set, is told that a campaign may have records callable
	// now (a list imported, hours or settings changed), so the controller
	// asks at its next decision (controller.Handle.RecordsChanged).
	Changed func(campaignID int64)
}

// campaignJSON is a campaign as the API shows it, and, with every field
// optional, the body of a PATCH.
type campaignJSON struct {
	ID            int64                `json:"id"`
	Name          string               `json:"name"`
	Mode          Mode                 `json:"mode"`
	Enabled       *bool                `json:"enabled,omitempty"`
	CallingHours  *string              `json:"calling_hours,omitempty"`
	MaxAttempts   *int                 `json:"max_attempts,omitempty"`
	AbandonLimit  *float64             `json:"abandon_limit,omitempty"`
	MaxInFlight   *int                 `json:"max_in_flight,omitempty"`
	LinesPerAgent *float64             `json:"lines_per_agent,omitempty"`
	UKOfcom       *bool                `json:"uk_ofcom,omitempty"`
	AbandonWindow *string              `json:"abandon_window,omitempty"`
	Retry         map[string]retryJSON `json:"retry,omitempty"`
}

// retryJSON is one outcome's retry rule: delay as a Go duration ("10m",
// "72h"), retry false to stop retrying after it, max_attempts its own
// attempt limit (0: the campaign's).
type retryJSON struct {
	Retry       *bool   `json:"retry,omitempty"`
	Delay       *string `json:"delay,omitempty"`
	MaxAttempts *int    `json:"max_attempts,omitempty"`
}

var retryOutcomes = []string{"busy", "no_answer", "machine", "abandoned", "failed"}

func (rr *RetryRules) byName(name string) *RetryRule {
	switch name {
	case "busy":
		return &rr.Busy
	case "no_answer":
		return &rr.NoAnswer
	case "machine":
		return &rr.Machine
	case "abandoned":
		return &rr.Abandoned
	case "failed":
		return &rr.Failed
	}
	return nil
}

func showCampaign(c Campaign) campaignJSON {
	hours := c.CallingHours.String()
	j := campaignJSON{ID: c.ID, Name: c.Name, Mode: c.Mode, Enabled: &c.Enabled, CallingHours: &hours,
		MaxAttempts: &c.MaxAttempts, AbandonLimit: &c.AbandonTarget, MaxInFlight: &c.MaxInFlight,
		LinesPerAgent: &c.LinesPerAgent, UKOfcom: &c.UKOfcom, Retry: map[string]retryJSON{}}
	if c.AbandonWindow != 0 {
		w := c.AbandonWindow.String()
		j.AbandonWindow = &w
	}
	for _, name := range retryOutcomes {
		r := *c.RetryRules.byName(name)
		d := r.Delay.String()
		j.Retry[name] = retryJSON{Retry: &r.Retry, Delay: &d, MaxAttempts: &r.MaxAttempts}
	}
	return j
}

// Handler serves:
//
//	GET   /campaigns/{id}            200 the campaign's settings
//	PATCH /campaigns/{id}            application/json, any of enabled,
//	      calling_hours ("09:00-21:00" or "mon-fri 09:00-21:00; sat 10:00-16:00",
//	      the customer's local time), max_attempts, abandon_limit (≤ 0.03),
//	      max_in_flight, lines_per_agent, uk_ofcom, abandon_window (a Go
//	      duration, 1h to 8784h: how far back the predictive dialer holds
//	      the rate to abandon_limit; "0s" returns to the controller's
//	      configured window, and GET leaves it out while that holds),
//	      retry {busy, no_answer,
//	      machine, abandoned, failed: {retry, delay, max_attempts}}
//	      200 the campaign as saved; the controller applies it at its next
//	      decision
//	POST  /campaigns/{id}/records    text/csv call list (ImportCSV's format),
//	      appended: 200 {"imported", "dnc", "rejected": [{"line", "reason"}]};
//	      422 with the same report (and "error", "field": "body") when no
//	      row was taken, every one rejected
//	POST  /campaigns/{id}/callbacks  a web callback (NewCallbackHandler)
//
// Errors are JSON {"error", "field"}, the error text starting with the
// field as the JSON names it ("abandon_limit: 2: want 0 < limit ≤ 0.03"):
// 400 bad JSON, a bad field or an {id} that is not a campaign ID; 404 no
// such campaign; 405, 413, 415 as for callbacks; 503 the controller did
// not take the change (nothing saved).
func (a *CampaignAPI) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/campaigns/{id}", a.campaign)
	mux.HandleFunc("/campaigns/{id}/records", a.records)
	mux.HandleFunc("/campaigns/{id}/callbacks", func(w http.ResponseWriter, r *http.Request) {
		c, ok := a.lookup(w, r)
		if !ok {
			return
		}
		NewCallbackHandler(a.Store, c.ID).ServeHTTP(w, r)
		if r.Method == http.MethodPost && a.Changed != nil {
			a.Changed(c.ID)
		}
	})
	return mux
}

// lookup finds the campaign of the path, answering 400 when {id} is not a
// campaign ID and 404 when there is no such campaign.
func (a *CampaignAPI) lookup(w http.ResponseWriter, r *http.Request) (Campaign, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		writeJSON(w, http.StatusBadRequest, callbackError{Error: fmt.Sprintf("%q: want a campaign ID, a whole number from 1", r.PathValue("id")), Field: "id"})
		return Campaign{}, false
	}
	c, err := a.Store.Campaign(id)
	switch {
	case errors.Is(err, ErrNotFound):
		writeJSON(w, http.StatusNotFound, callbackError{Error: "no such campaign", Field: "id"})
		return c, false
	case err != nil:
		writeJSON(w, http.StatusInternalServerError, callbackError{Error: "internal error"})
		return c, false
	}
	return c, true
}

func (a *CampaignAPI) campaign(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPatch {
		w.Header().Set("Allow", "GET, PATCH")
		writeJSON(w, http.StatusMethodNotAllowed, callbackError{Error: "use GET or PATCH"})
		return
	}
	old, ok := a.lookup(w, r)
	if !ok {
		return
	}
	if r.Method == http.MethodGet {
		writeJSON(w, http.StatusOK, showCampaign(old))
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		writeJSON(w, http.StatusUnsupportedMediaType, callbackError{Error: "Content-Type must be application/json"})
		return
	}
	var p campaignJSON
	if status, cerr := decodeStrict(w, r, &p, MaxPatchBody); cerr != nil {
		writeJSON(w, status, cerr)
		return
	}
	c, cerr := patchCampaign(old, p)
	if cerr != nil {
		writeJSON(w, http.StatusBadRequest, cerr)
		return
	}
	if a.Apply != nil {
		if err := a.Apply(c); err != nil {
			var le *controller.LimitError
			if errors.As(err, &le) {
				writeJSON(w, http.StatusBadRequest, callbackError{Error: strings.TrimPrefix(le.Err.Error(), "controller: "), Field: jsonField(le.Field)})
				return
			}
			writeJSON(w, http.StatusServiceUnavailable, callbackError{Error: "the controller did not take the change: " + err.Error()})
			return
		}
	}
	if err := a.Store.UpdateCampaign(c); err != nil {
		if a.Apply != nil {
			_ = a.Apply(old) // the controller goes back to what is saved
		}
		if errors.Is(err, ErrNotFound) {
			writeJSON(w, http.StatusNotFound, callbackError{Error: "no such campaign", Field: "id"})
			return
		}
		writeJSON(w, http.StatusInternalServerError, callbackError{Error: "internal error"})
		return
	}
	if a.Changed != nil {
		a.Changed(c.ID)
	}
	writeJSON(w, http.StatusOK, showCampaign(c))
}

// patchCampaign applies a PATCH body to a campaign and checks the result,
// naming the JSON field at fault.
func patchCampaign(c Campaign, p campaignJSON) (Campaign, *callbackError) {
	bad := func(field, format string, args ...any) (Campaign, *callbackError) {
		return c, &callbackError{Error: fmt.Sprintf(format, args...), Field: field}
	}
	switch {
	case p.ID != 0 && p.ID != c.ID:
		return bad("id", "the campaign ID cannot change")
	case p.Name != "" && p.Name != c.Name:
		return bad("name", "the name cannot change here")
	case p.Mode != "" && p.Mode != c.Mode:
		return bad("mode", "the mode cannot change while the campaign runs")
	}
	if p.Enabled != nil {
		c.Enabled = *p.Enabled
	}
	if p.CallingHours != nil {
		h, err := ParseHours(*p.CallingHours)
		if err != nil {
			return bad("calling_hours", "%s", strings.TrimPrefix(err.Error(), "campaign: "))
		}
		c.CallingHours = h
	}
	if p.MaxAttempts != nil {
		c.MaxAttempts = *p.MaxAttempts
	}
	if p.AbandonLimit != nil {
		// Validate holds the same bound, in the store's words.
		if v := *p.AbandonLimit; !(v > 0 && v <= DefaultAbandonTarget) {
			return bad("abandon_limit", "%v: want 0 < limit ≤ %v", v, DefaultAbandonTarget)
		}
		c.AbandonTarget = *p.AbandonLimit
	}
	if p.MaxInFlight != nil {
		c.MaxInFlight = *p.MaxInFlight
	}
	if p.LinesPerAgent != nil {
		c.LinesPerAgent = *p.LinesPerAgent
	}
	if p.UKOfcom != nil {
		c.UKOfcom = *p.UKOfcom
	}
	if p.AbandonWindow != nil {
		d, err := time.ParseDuration(*p.AbandonWindow)
		if err != nil || d < 0 {
			return bad("abandon_window", "%q: want a duration such as 720h or 24h (0s: the controller's window)", *p.AbandonWindow)
		}
		c.AbandonWindow = d
	}
	for name, rj := range p.Retry {
		rule := c.RetryRules.byName(name)
		if rule == nil {
			return bad("retry."+name, "unknown outcome (busy, no_answer, machine, abandoned, failed)")
		}
		if rj.Retry != nil {
			rule.Retry = *rj.Retry
		}
		if rj.Delay != nil {
			d, err := time.ParseDuration(*rj.Delay)
			if err != nil {
				return bad("retry."+name+".delay", "want a duration such as 10m or 72h")
			}
			rule.Delay = d
		}
		if rj.MaxAttempts != nil {
			rule.MaxAttempts = *rj.MaxAttempts
		}
	}
	if err := c.Validate(); err != nil {
		field, msg := problems(err)
		return bad(field, "%s", msg)
	}
	return c, nil
}

// goProblem is one line of Campaign.Validate's report: the Go field path
// ("Campaign.RetryRules.Abandoned.Delay"; calling hours with a weekday in
// brackets) and what is wrong with it.
var goProblem = regexp.MustCompile(`^(?:campaign: )?Campaign\.([A-Za-z]+)(?:\[[A-Za-z]+\])?(?:\.([A-Za-z]+))?(?:\.([A-Za-z]+))? (.*)$`)

// problems turns Campaign.Validate's report into the API's words: the
// JSON field of the first problem, and every problem as "field: what"
// (the first without its field, which the answer puts in front), so that
// no Go name reaches a client.
func problems(err error) (field, msg string) {
	var parts []string
	for i, line := range strings.Split(err.Error(), "\n") {
		f, what := "", strings.TrimPrefix(line, "campaign: ")
		if m := goProblem.FindStringSubmatch(line); m != nil {
			f, what = goFieldJSON(m[1], m[2], m[3]), m[4]
		}
		if i == 0 {
			field = f
		} else if f != "" {
			what = f + ": " + what
		}
		parts = append(parts, what)
	}
	return field, strings.Join(parts, "; ")
}

// goFieldJSON names a Campaign field path as the JSON does.
func goFieldJSON(top, sub, leaf string) string {
	if top == "RetryRules" && sub != "" {
		f := "retry." + snake(sub)
		if leaf != "" {
			f += "." + snake(leaf)
		}
		return f
	}
	return jsonField(top)
}

// jsonField maps a Campaign or controller.CampaignLimits field to its JSON
// name.
func jsonField(goName string) string {
	switch goName {
	case "AbandonTarget", "AbandonLimit":
		return "abandon_limit"
	case "UKOfcom":
		return "uk_ofcom"
	}
	return snake(goName)
}

func snake(s string) string {
	var b strings.Builder
	for i, r := range s {
		if r >= 'A' && r <= 'Z' {
			if i > 0 {
				b.WriteByte('_')
			}
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// decodeStrict reads one JSON object with no unknown fields, naming the
// field at fault.
func decodeStrict(w http.ResponseWriter, r *http.Request, v any, limit int64) (int, *callbackError) {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if err = dec.Decode(&struct{}{}); err == io.EOF {
			return 0, nil
		} else if err == nil {
			err = errors.New("data after the JSON object")
		}
	}
	var tooBig *http.MaxBytesError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &tooBig):
		return http.StatusRequestEntityTooLarge, &callbackError{Error: fmt.Sprintf("body over %d bytes", limit)}
	case errors.As(err, &typeErr):
		return http.StatusBadRequest, &callbackError{Error: "want " + jsonKind(typeErr.Type) + ", got " + typeErr.Value, Field: typeErr.Field}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return http.StatusBadRequest, &callbackError{Error: "unknown field", Field: f}
	}
	return http.StatusBadRequest, &callbackError{Error: "bad JSON: " + strings.TrimPrefix(err.Error(), "json: ")}
}

// jsonKind says what JSON a Go type takes, for a type mismatch: the
// client wrote JSON and is told about JSON, not about Go types.
func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "an array"
	}
	return "an object"
}

type importJSON struct {
	// Error and Field say why nothing was imported (422).
	Error    string    `json:"error,omitempty"`
	Field    string    `json:"field,omitempty"`
	Campaign int64     `json:"campaign"`
	Imported int       `json:"imported"`
	DNC      int       `json:"dnc"`
	DNCLines []int     `json:"dnc_lines,omitempty"`
	Rejected []rowJSON `json:"rejected"`
}

type rowJSON struct {
	Line   int    `json:"line"`
	Reason string `json:"reason"`
}

func (a *CampaignAPI) records(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeJSON(w, http.StatusMethodNotAllowed, callbackError{Error: "use POST"})
		return
	}
	c, ok := a.lookup(w, r)
	if !ok {
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "text/csv" {
		writeJSON(w, http.StatusUnsupportedMediaType, callbackError{Error: "Content-Type must be text/csv"})
		return
	}
	rep, err := a.Store.ImportCSV(c.ID, http.MaxBytesReader(w, r.Body, MaxListBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeJSON(w, http.StatusRequestEntityTooLarge, callbackError{Error: fmt.Sprintf("body over %d bytes", int64(MaxListBody))})
			return
		}
		if errors.Is(err, ErrNotFound) {
			writeJSON(w, http.StatusNotFound, callbackError{Error: "no such campaign", Field: "id"})
			return
		}
		// A header that cannot be used, or a CSV the reader gave up on.
		writeJSON(w, http.StatusBadRequest, callbackError{Error: strings.TrimPrefix(err.Error(), "campaign: import: "), Field: "body"})
		return
	}
	out := importJSON{Imported: rep.Imported, DNC: rep.DNC, DNCLines: rep.DNCLines, Campaign: c.ID, Rejected: []rowJSON{}}
	for _, e := range rep.Rejected {
		out.Rejected = append(out.Rejected, rowJSON{e.Line, e.Reason})
	}
	if a.Changed != nil && rep.Imported > 0 {
		a.Changed(c.ID)
	}
	// A list of which no row was taken is refused as a whole, with the
	// report saying why line by line; a do-not-call row was taken (it is
	// kept, never dialed).
	if rep.Imported == 0 && rep.DNC == 0 {
		out.Field = "body"
		if len(rep.Rejected) == 0 {
			out.Error = "body: no records after the header"
		} else {
			out.Error = fmt.Sprintf("body: every row was rejected (%d; see rejected)", len(rep.Rejected))
		}
		writeJSON(w, http.StatusUnprocessableEntity, out)
		return
	}
	writeJSON(w, http.StatusOK, out)
}
