package desktop

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

//go:embed assets
var assets embed.FS

// Handler serves the desktop pages and API. Mount it at Config.Prefix
// ("/desktop/"); request paths are taken relative to the prefix.
//
//	GET  /                      the desktop page (index.html, app.js, style.css);
//	                            a ?token= on the page is carried to its assets
//	                            and, by the script, to every API request
//	POST /api/login             agent, extension[, password] → {"session": …}
//	POST /api/state             session, state (ready|not_ready|logout)[, reason]
//	POST /api/answer            session
//	POST /api/release           session
//	POST /api/script            session, step[, answer][, <field name>=value …]
//	POST /api/disposition       session, code[, callback_at, callback_agent (any|personal)]
//	POST /api/preview           session, response (Accept|Skip), record (the preview's)
//	GET  /api/view?session=…    the View as JSON
//	GET  /api/events?session=…  server-sent events: one "view" event per change
//
// The API's POST bodies are forms (application/x-www-form-urlencoded);
// another Content-Type is refused with 415. Every refusal is a 4xx (or 502
// when the CTI Server fails) with the body {"field": …, "error": …}.
type Handler struct {
	cfg    Config
	static http.Handler
	page   *template.Template

	mu    sync.Mutex
	desks map[string]*desk // by session token
	byID  map[string]*desk // by agent ID
}

// New checks cfg and returns the handler.
func New(cfg Config) (*Handler, error) {
	cfg, err := cfg.Defaults()
	if err != nil {
		return nil, err
	}
	sub, err := fs.Sub(assets, "assets")
	if err != nil {
		return nil, err
	}
	page, err := template.ParseFS(sub, "index.html")
	if err != nil {
		return nil, err
	}
	return &Handler{cfg: cfg, static: http.FileServer(http.FS(sub)), page: page, desks: map[string]*desk{}, byID: map[string]*desk{}}, nil
}

// pageData is what index.html renders.
type pageData struct {
	// Query carries the page's ?token= to the style sheet and script: off
	// loopback the server that mounts the desktop refuses every request
	// without the token, the page's own assets included (the script reads
	// it from the page's address for the API and the event stream).
	Query template.URL
}

// servePage renders the desktop page.
func (h *Handler) servePage(w http.ResponseWriter, r *http.Request) {
	var d pageData
	if tok := r.URL.Query().Get("token"); tok != "" {
		d.Query = template.URL("?" + url.Values{"token": {tok}}.Encode())
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := h.page.Execute(w, d); err != nil {
		h.cfg.Logf("desktop: page: %v", err)
	}
}

// Close logs nobody out but ends every CTI session (the server is going
// away; the agents stay in their state on the PG, as when a desktop
// crashes).
func (h *Handler) Close() {
	h.mu.Lock()
	ds := make([]*desk, 0, len(h.desks))
	for _, d := range h.desks {
		ds = append(ds, d)
	}
	h.desks, h.byID = map[string]*desk{}, map[string]*desk{}
	h.mu.Unlock()
	for _, d := range ds {
		d.close()
	}
}

// maxForm bounds a form body.
const maxForm = 16 << 10

var (
	digits   = regexp.MustCompile(`^[0-9]+$`)
	tokenFmt = regexp.MustCompile(`^[0-9a-f]{32}$`)
)

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, h.cfg.Prefix)
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	if !strings.HasPrefix(path, "/api/") {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			fail(w, &formError{http.StatusMethodNotAllowed, "method", "pages are GET only"})
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		if bare := strings.TrimSuffix(h.cfg.Prefix, "/"); r.URL.Path == bare {
			// The page's links are relative: at "/desktop" they would name
			// the dashboard's style and script, not the desktop's.
			to := bare + "/"
			if r.URL.RawQuery != "" {
				to += "?" + r.URL.RawQuery
			}
			http.Redirect(w, r, to, http.StatusMovedPermanently)
			return
		}
		if path == "/" {
			h.servePage(w, r)
			return
		}
		r2 := r.Clone(r.Context())
		r2.URL.Path = path
		h.static.ServeHTTP(w, r2)
		return
	}
	api := strings.TrimPrefix(path, "/api/")
	get := api == "view" || api == "events"
	if get != (r.Method == http.MethodGet) {
		fail(w, &formError{http.StatusMethodNotAllowed, "method", fmt.Sprintf("%s /api/%s is not allowed", r.Method, api)})
		return
	}
	if err := formBody(r); err != nil {
		fail(w, err)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		fail(w, bad("form", "cannot read the form: %v", err))
		return
	}
	if api == "login" {
		h.login(w, r)
		return
	}
	d, err := h.desk(r.Form.Get("session"))
	if err != nil {
		fail(w, err)
		return
	}
	ctx := r.Context()
	switch api {
	case "view":
		writeJSON(w, http.StatusOK, d.snapshot())
	case "events":
		h.events(w, r, d)
	case "state":
		err = h.state(ctx, r, d)
	case "answer":
		err = d.answer(ctx)
	case "release":
		err = d.release(ctx)
	case "script":
		err = h.script(ctx, r, d)
	case "disposition":
		err = h.disposition(ctx, r, d)
	case "preview":
		resp, rec := r.Form.Get("response"), r.Form.Get("record")
		switch {
		case resp != PreviewAccept && resp != PreviewSkip:
			err = bad("response", "must be %s or %s, got %q", PreviewAccept, PreviewSkip, resp)
		case rec == "":
			err = bad("record", "required (the record the preview shows)")
		case len(rec) > 40:
			err = bad("record", "at most 40 characters")
		default:
			err = d.previewAnswer(ctx, resp, rec)
		}
	default:
		err = &formError{http.StatusNotFound, "path", "no API /api/" + api}
	}
	if api == "view" || api == "events" {
		return
	}
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, d.snapshot())
}

// formBody refuses a POST body that is not a form: ParseForm would read
// nothing from it and every field would look missing (a JSON body to
// /api/login would be told "agent: required"). An empty body needs no
// type.
func formBody(r *http.Request) error {
	if r.Method != http.MethodPost || r.ContentLength == 0 {
		return nil
	}
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err == nil && mt == formType {
		return nil
	}
	if ct == "" {
		ct = "none"
	}
	return &formError{http.StatusUnsupportedMediaType, "Content-Type", fmt.Sprintf("must be %s (a form), got %s", formType, ct)}
}

const formType = "application/x-www-form-urlencoded"

func (h *Handler) desk(token string) (*desk, error) {
	if token == "" {
		return nil, &formError{http.StatusUnauthorized, "session", "required (log in first)"}
	}
	if !tokenFmt.MatchString(token) {
		return nil, bad("session", "malformed session token")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	d := h.desks[token]
	if d == nil {
		return nil, &formError{http.StatusUnauthorized, "session", "unknown or ended session (log in again)"}
	}
	return d, nil
}

// login validates the form and opens the agent's desktop session.
func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	agent, ext, pass := r.Form.Get("agent"), r.Form.Get("extension"), r.Form.Get("password")
	// AgentID is a STRING 12 and AgentExtension a STRING 16 (NUL
	// included, §1.5); UCCE agent IDs and extensions are digits.
	switch {
	case agent == "":
		fail(w, bad("agent", "required"))
		return
	case !digits.MatchString(agent) || len(agent) > 11:
		fail(w, bad("agent", "must be 1-11 digits, got %q", agent))
		return
	case ext == "":
		fail(w, bad("extension", "required"))
		return
	case !digits.MatchString(ext) || len(ext) > 15:
		fail(w, bad("extension", "must be 1-15 digits, got %q", ext))
		return
	case len(pass) > 63 || strings.ContainsRune(pass, 0):
		fail(w, bad("password", "at most 63 characters, no NUL"))
		return
	}
	if h.cfg.Agents != nil {
		if err := h.cfg.Agents(agent); err != nil {
			fail(w, conflict("agent", "%v", err))
			return
		}
	}
	h.mu.Lock()
	if h.byID[agent] != nil {
		h.mu.Unlock()
		fail(w, conflict("agent", "agent %s is already logged in on this desktop server", agent))
		return
	}
	if len(h.desks) >= h.cfg.MaxAgents {
		h.mu.Unlock()
		fail(w, &formError{http.StatusServiceUnavailable, "agent", fmt.Sprintf("%d desktops are open, the most allowed", h.cfg.MaxAgents)})
		return
	}
	h.byID[agent] = &desk{} // reserve the agent ID while logging in
	h.mu.Unlock()
	token := newToken()
	d, err := login(r.Context(), &h.cfg, token, agent, ext, pass)
	h.mu.Lock()
	delete(h.byID, agent)
	if err == nil {
		h.desks[token], h.byID[agent] = d, d
	}
	h.mu.Unlock()
	if err != nil {
		var ce *ctiError
		if errors.As(err, &ce) && ce.field != "" {
			fail(w, &formError{http.StatusConflict, ce.field, err.Error()})
		} else {
			fail(w, &formError{http.StatusBadGateway, "cti", err.Error()})
		}
		return
	}
	h.cfg.Logf("desktop: agent %s logged in on %s", agent, ext)
	writeJSON(w, http.StatusOK, map[string]any{"session": token, "view": d.snapshot()})
}

func newToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (h *Handler) state(ctx context.Context, r *http.Request, d *desk) error {
	action := r.Form.Get("state")
	var reason uint16
	switch action {
	case ActReady:
	case ActNotReady, ActLogout:
		rs := r.Form.Get("reason")
		if rs == "" && action == ActNotReady {
			return bad("reason", "required for not_ready")
		}
		if rs != "" {
			n, err := strconv.ParseUint(rs, 10, 16)
			if err != nil || h.cfg.reason(uint16(n)) == nil {
				return bad("reason", "%q is not one of the configured reason codes", rs)
			}
			reason = uint16(n)
		}
	case "":
		return bad("state", "required (ready, not_ready or logout)")
	default:
		return bad("state", "must be ready, not_ready or logout, got %q", action)
	}
	if err := d.setState(ctx, action, reason); err != nil {
		return err
	}
	if action == ActLogout {
		h.mu.Lock()
		delete(h.desks, d.token)
		delete(h.byID, d.agentID)
		h.mu.Unlock()
		d.close()
	}
	return nil
}

func (h *Handler) script(ctx context.Context, r *http.Request, d *desk) error {
	step := r.Form.Get("step")
	if step == "" {
		return bad("step", "required")
	}
	values := map[string]string{}
	for k, v := range r.Form {
		if len(v) > 0 {
			values[k] = v[0]
		}
	}
	return d.scriptStep(ctx, step, r.Form.Get("answer"), values)
}

// recallLayouts are the accepted recall time formats: a datetime-local
// input (the server's time zone) and RFC 3339.
var recallLayouts = []string{"2006-01-02T15:04", "2006-01-02T15:04:05", time.RFC3339}

func (h *Handler) disposition(ctx context.Context, r *http.Request, d *desk) error {
	cs := r.Form.Get("code")
	if cs == "" {
		return bad("code", "required")
	}
	code := h.cfg.disposition(cs)
	if code == nil {
		return bad("code", "%q is not one of the configured disposition codes", cs)
	}
	var at time.Time
	personal := false
	if code.Callback {
		s := r.Form.Get("callback_at")
		if s == "" {
			return bad("callback_at", "required for a %s disposition", code.Code)
		}
		var err error
		for _, l := range recallLayouts {
			if at, err = time.ParseInLocation(l, s, time.Local); err == nil {
				break
			}
		}
		if err != nil {
			return bad("callback_at", "%q is not a date and time (2006-01-02T15:04)", s)
		}
		now := h.cfg.Now()
		if !at.After(now) {
			return bad("callback_at", "%s is not in the future", at.Format(time.RFC3339))
		}
		if at.After(now.AddDate(0, 0, h.cfg.MaxRecallDays)) {
			return bad("callback_at", "%s is more than %d days ahead", at.Format(time.RFC3339), h.cfg.MaxRecallDays)
		}
		switch r.Form.Get("callback_agent") {
		case "", "any":
		case "personal":
			personal = true
		default:
			return bad("callback_agent", "must be any or personal, got %q", r.Form.Get("callback_agent"))
		}
	}
	_, err := d.dispose(ctx, code, at, personal)
	return err
}

// events streams the view as server-sent events until the client goes.
func (h *Handler) events(w http.ResponseWriter, r *http.Request, d *desk) {
	fl, ok := w.(http.Flusher)
	if !ok {
		fail(w, &formError{http.StatusInternalServerError, "events", "streaming unsupported"})
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	ch, stop := d.subscribe()
	defer stop()
	keep := time.NewTicker(15 * time.Second)
	defer keep.Stop()
	send := func() bool {
		b, _ := json.Marshal(d.snapshot())
		if _, err := fmt.Fprintf(w, "event: view\ndata: %s\n\n", b); err != nil {
			return false
		}
		fl.Flush()
		return true
	}
	if !send() {
		return
	}
	for {
		select {
		case <-r.Context().Done():
			return
		case <-ch:
			if !send() {
				return
			}
		case <-keep.C:
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return
			}
			fl.Flush()
		}
	}
}

func fail(w http.ResponseWriter, err error) {
	var fe *formError
	if !errors.As(err, &fe) {
		fe = &formError{http.StatusInternalServerError, "", err.Error()}
	}
	writeJSON(w, fe.status, map[string]string{"field": fe.field, "error": fe.Error()})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
