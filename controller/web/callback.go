package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Limits of the web callback form.
const (
	// MaxCallbackName and MaxCallbackNote bound the free-text fields, in
	// characters: a name and a line for the agent, not a letter.
	MaxCallbackName = 64
	MaxCallbackNote = 500
	// CallbackHorizon is how far ahead a customer may book: further out, a
	// promise to call back is one nobody remembers keeping.
	CallbackHorizon = 14 * 24 * time.Hour
	// maxCallbackForm bounds a POST body: the form is six short fields, so
	// anything larger is not one and is refused before it is parsed.
	maxCallbackForm = 16 << 10
	// bookWait bounds one BookCallback call, so that a stuck store gives
	// an error page, never a hung request.
	bookWait = 5 * time.Second
	// atLayout is what an <input type="datetime-local"> posts.
	atLayout = "2006-01-02T15:04"
)

// CallbackPath is where a CallbackPage serves (and the bare path
// without the slash redirects there).
const CallbackPath = "/callback/"

// CallbackRequest is a customer's callback request, checked by the form:
// Phone has 6–15 digits (separators dropped, an optional leading '+'
// kept), TimeZone is one the form offered, At is zero for "as soon as
// possible" or in the future within CallbackHorizon.
type CallbackRequest struct {
	Name     string
	Phone    string
	TimeZone string
	At       time.Time
	Note     string
}

// CallbackBooker books a checked request as a scheduled outbound record,
// returning the record's ID and when it is due. A refusal of one field
// (the number is on the do-not-call list, the time is outside the calling
// hours) is a *FieldError; any other error is the booker's own failure and
// is not shown to the customer.
type CallbackBooker interface {
	BookCallback(ctx context.Context, req CallbackRequest) (id int64, at time.Time, err error)
}

// FieldError is a refusal naming the form field at fault.
type FieldError struct {
	Field   string
	Message string
	// Status is the HTTP status to answer (0: 400 Bad Request); 409 and
	// 422 say the request was well formed but cannot be booked.
	Status int
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

// CallbackConfig configures a CallbackPage.
type CallbackConfig struct {
	Booker CallbackBooker
	// Campaign is the campaign's name, shown on the page.
	Campaign string
	// TimeZones are the IANA zones the customer may pick, the first the
	// form's default; the preferred time is read on that zone's clock.
	TimeZones []string
	// Now is the booking clock (nil: time.Now); it must be the booker's,
	// or "in the future" would mean different things to the two.
	Now func() time.Time
	// Logf, when set, receives one line per booking the booker failed.
	Logf func(format string, args ...any)
}

// CallbackPage is the public web callback form: GET shows it, POST books
// the request through the Booker and answers a confirmation with the
// record's ID and time, or the form again with a 4xx naming the field.
// Mount it at CallbackPath (Server.Mount).
type CallbackPage struct {
	cfg   CallbackConfig
	zones map[string]*time.Location
}

// NewCallbackPage checks cfg: a booker and at least one valid, distinct
// time zone.
func NewCallbackPage(cfg CallbackConfig) (*CallbackPage, error) {
	if cfg.Booker == nil {
		return nil, errors.New("web: CallbackConfig.Booker is nil")
	}
	if len(cfg.TimeZones) == 0 {
		return nil, errors.New("web: CallbackConfig.TimeZones is empty: the form needs a zone to read the preferred time in")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	p := &CallbackPage{cfg: cfg, zones: map[string]*time.Location{}}
	for i, z := range cfg.TimeZones {
		if z == "" || z == "Local" {
			return nil, fmt.Errorf("web: CallbackConfig.TimeZones[%d] %q: want an IANA zone name", i, z)
		}
		loc, err := time.LoadLocation(z)
		if err != nil {
			return nil, fmt.Errorf("web: CallbackConfig.TimeZones[%d]: %w", i, err)
		}
		if p.zones[z] != nil {
			return nil, fmt.Errorf("web: CallbackConfig.TimeZones[%d] %q appears twice", i, z)
		}
		p.zones[z] = loc
	}
	return p, nil
}

var callbackTmpl = template.Must(template.New("callback.html").ParseFS(assets, "assets/callback.html"))

// callbackData is what the template renders: the form (with the values
// sent and the error, after a refusal) or the confirmation.
type callbackData struct {
	Campaign string
	Zones    []string
	// Action is the form's target: the page itself, with the token when
	// the page was opened with one.
	Action template.URL
	Form   callbackForm
	Field  string // the field at fault, "" when none
	Error  string
	// Booked is set on the confirmation.
	Booked *callbackBooked
}

type callbackForm struct {
	Name, Phone, TimeZone, When, At, Note string
}

type callbackBooked struct {
	ID       int64
	At       string
	TimeZone string
	ASAP     bool
}

// ServeHTTP answers GET (the form) and POST (a booking) on the page's own
// path; other methods 405, other paths 404.
func (p *CallbackPage) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != CallbackPath {
		if r.URL.Path == strings.TrimSuffix(CallbackPath, "/") && r.Method == http.MethodGet {
			u := *r.URL
			u.Path += "/"
			http.Redirect(w, r, u.String(), http.StatusMovedPermanently)
			return
		}
		fail(w, http.StatusNotFound, fmt.Sprintf("no such page: %s", r.URL.Path))
		return
	}
	d := callbackData{Campaign: p.cfg.Campaign, Zones: p.cfg.TimeZones,
		Form: callbackForm{TimeZone: p.cfg.TimeZones[0], When: "asap"}}
	if tok := r.URL.Query().Get("token"); tok != "" {
		d.Action = template.URL("?" + url.Values{"token": {tok}}.Encode())
	}
	switch r.Method {
	case http.MethodGet:
		p.render(w, http.StatusOK, d)
	case http.MethodPost:
		p.book(w, r, d)
	default:
		w.Header().Set("Allow", "GET, POST")
		fail(w, http.StatusMethodNotAllowed, fmt.Sprintf("method %s not allowed on %s: use GET or POST", r.Method, r.URL.Path))
	}
}

func (p *CallbackPage) book(w http.ResponseWriter, r *http.Request, d callbackData) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/x-www-form-urlencoded" {
		fail(w, http.StatusUnsupportedMediaType, "Content-Type must be application/x-www-form-urlencoded (the callback form)")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxCallbackForm)
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			fail(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("form over %d bytes", maxCallbackForm))
			return
		}
		fail(w, http.StatusBadRequest, "bad form: "+err.Error())
		return
	}
	f := r.PostForm
	d.Form = callbackForm{Name: f.Get("name"), Phone: f.Get("phone"), TimeZone: f.Get("time_zone"),
		When: f.Get("when"), At: f.Get("at"), Note: f.Get("note")}
	req, ferr := p.check(d.Form)
	if ferr == nil {
		ctx, cancel := context.WithTimeout(r.Context(), bookWait)
		defer cancel()
		id, at, err := p.cfg.Booker.BookCallback(ctx, req)
		if err == nil {
			zone := p.zones[req.TimeZone]
			d.Booked = &callbackBooked{ID: id, At: at.In(zone).Format("Monday 2 January 2006, 15:04 MST"),
				TimeZone: req.TimeZone, ASAP: req.At.IsZero()}
			p.render(w, http.StatusCreated, d)
			return
		}
		if !errors.As(err, &ferr) {
			// Store details stay in the logs, not on a public page.
			if p.cfg.Logf != nil {
				p.cfg.Logf("web: callback for %s: %v", req.Phone, err)
			}
			d.Error = "the callback could not be booked just now; please try again later"
			p.render(w, http.StatusServiceUnavailable, d)
			return
		}
	}
	d.Field, d.Error = ferr.Field, ferr.Error()
	status := ferr.Status
	if status == 0 {
		status = http.StatusBadRequest
	}
	p.render(w, status, d)
}

// check validates the form, naming the first field at fault.
func (p *CallbackPage) check(f callbackForm) (CallbackRequest, *FieldError) {
	bad := func(field, format string, a ...any) (CallbackRequest, *FieldError) {
		return CallbackRequest{}, &FieldError{Field: field, Message: fmt.Sprintf(format, a...)}
	}
	name := strings.TrimSpace(f.Name)
	switch {
	case name == "":
		return bad("name", "required")
	case !utf8.ValidString(name):
		return bad("name", "not valid UTF-8")
	case utf8.RuneCountInString(name) > MaxCallbackName:
		return bad("name", "longer than %d characters", MaxCallbackName)
	case strings.ContainsFunc(name, unicode.IsControl):
		return bad("name", "contains control characters")
	}
	phone, err := callbackPhone(f.Phone)
	if err != nil {
		return bad("phone", "%v", err)
	}
	loc := p.zones[f.TimeZone]
	if loc == nil {
		return bad("time_zone", "%q is not one of the zones offered", f.TimeZone)
	}
	var at time.Time
	switch f.When {
	case "asap":
	case "at":
		if f.At == "" {
			return bad("at", "required when a time is chosen")
		}
		at, err = time.ParseInLocation(atLayout, f.At, loc)
		if err != nil {
			return bad("at", "%q: want YYYY-MM-DDTHH:MM", f.At)
		}
		now := p.cfg.Now()
		if !at.After(now) {
			return bad("at", "%s is in the past", f.At)
		}
		if at.Sub(now) > CallbackHorizon {
			return bad("at", "%s is more than %d days ahead", f.At, int(CallbackHorizon/(24*time.Hour)))
		}
	default:
		return bad("when", "%q: want asap or at", f.When)
	}
	note := strings.TrimSpace(f.Note)
	switch {
	case !utf8.ValidString(note):
		return bad("note", "not valid UTF-8")
	case utf8.RuneCountInString(note) > MaxCallbackNote:
		return bad("note", "longer than %d characters", MaxCallbackNote)
	case strings.ContainsFunc(note, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' }):
		return bad("note", "contains control characters")
	}
	return CallbackRequest{Name: name, Phone: phone, TimeZone: f.TimeZone, At: at, Note: note}, nil
}

// callbackPhone reduces a typed number to its digits, with the leading '+'
// if there was one: spaces, '-', '.', '(' and ')' are what people type
// between digits; anything else is refused.
func callbackPhone(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", errors.New("required")
	}
	var b strings.Builder
	plus := strings.HasPrefix(s, "+")
	if plus {
		b.WriteByte('+')
		s = s[1:]
	}
	n := 0
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9':
			b.WriteRune(c)
			n++
		case strings.ContainsRune(" -.()", c):
		default:
			return "", fmt.Errorf("%q: only digits, spaces, - . ( ) and a leading + are allowed", c)
		}
	}
	if n < 6 || n > 15 {
		return "", fmt.Errorf("%d digits, want 6–15", n)
	}
	return b.String(), nil
}

func (p *CallbackPage) render(w http.ResponseWriter, status int, d callbackData) {
	var b bytes.Buffer
	if err := callbackTmpl.Execute(&b, d); err != nil {
		fail(w, http.StatusInternalServerError, "callback page: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	// No script at all; the form posts to this page only.
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

// Selected tells the template's <select> which zone to keep chosen.
func (d callbackData) Selected(z string) bool { return d.Form.TimeZone == z }
