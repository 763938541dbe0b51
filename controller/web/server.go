package web

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"
)

// Defaults of Config.
const (
	DefaultPushEvery  = time.Second
	DefaultHeartbeat  = 15 * time.Second
	DefaultClientSlot = 8
	// snapshotWait bounds one Source.Snapshot call: a centre that does not
	// answer gives an error, never a hung request.
	snapshotWait = 3 * time.Second
	// writeWait bounds one write to an event-stream client, so that a
	// client that stopped reading frees its handler.
	writeWait = 10 * time.Second
)

// Config configures a Server.
type Config struct {
	Source Source
	// Token, when set, lets clients from non-loopback addresses in with
	// "Authorization: Bearer <Token>" (or "?token=<Token>" on the page and
	// the API, which a browser's address bar and EventSource can carry).
	// Without it only loopback clients are served.
	Token string
	// PushEvery is how often /api/events pushes a snapshot (0:
	// DefaultPushEvery).
	PushEvery time.Duration
	// Heartbeat is how often /api/events sends a comment line, so that
	// proxies and the browser see a live stream even when snapshots fail
	// (0: DefaultHeartbeat).
	Heartbeat time.Duration
	// ClientSlot is how many pushes may wait for one event-stream client;
	// a client further behind is dropped, never waited for (0:
	// DefaultClientSlot).
	ClientSlot int
	// Logf, when set, receives one line per dropped client and per failed
	// snapshot push.
	Logf func(format string, args ...any)
}

// Server is the http.Handler of the dashboard, API and metrics.
type Server struct {
	cfg    Config
	hub    *hub
	mux    map[string]http.HandlerFunc
	mounts []mount
}

// mount is a handler serving a subtree of paths (Mount).
type mount struct {
	prefix string
	h      http.Handler
}

// Mount serves h for every path under prefix ("/desktop/"; the bare
// "/desktop" too), behind the same rule as the dashboard: loopback
// clients, or others with the token. h answers its own methods. Mount
// before serving.
func (s *Server) Mount(prefix string, h http.Handler) {
	s.mounts = append(s.mounts, mount{prefix: prefix, h: h})
}

// New checks cfg and returns the handler.
func New(cfg Config) (*Server, error) {
	if cfg.Source == nil {
		return nil, errors.New("web: Config.Source is nil")
	}
	if cfg.PushEvery < 0 || cfg.Heartbeat < 0 || cfg.ClientSlot < 0 {
		return nil, fmt.Errorf("web: Config.PushEvery (%v), Heartbeat (%v) and ClientSlot (%d) must not be negative",
			cfg.PushEvery, cfg.Heartbeat, cfg.ClientSlot)
	}
	if cfg.Token != "" && strings.TrimSpace(cfg.Token) != cfg.Token {
		return nil, errors.New("web: Config.Token has leading or trailing spaces")
	}
	if cfg.PushEvery == 0 {
		cfg.PushEvery = DefaultPushEvery
	}
	if cfg.Heartbeat == 0 {
		cfg.Heartbeat = DefaultHeartbeat
	}
	if cfg.ClientSlot == 0 {
		cfg.ClientSlot = DefaultClientSlot
	}
	s := &Server{cfg: cfg}
	s.hub = newHub(cfg, s.pushFrame)
	s.mux = map[string]http.HandlerFunc{
		"/":              s.page,
		"/app.js":        s.asset,
		"/style.css":     s.asset,
		"/api/snapshot":  s.snapshotJSON,
		"/api/events":    s.events,
		"/api/intervals": s.intervalsJSON,
		"/metrics":       s.metrics,
	}
	return s, nil
}

// Close stops pushing events; open event streams end.
func (s *Server) Close() { s.hub.close() }

// ServeHTTP routes: unknown paths 404, methods other than GET 405, clients
// from outside loopback without the token 401.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	for _, m := range s.mounts {
		if strings.HasPrefix(r.URL.Path, m.prefix) || r.URL.Path == strings.TrimSuffix(m.prefix, "/") {
			if msg := s.refuse(r); msg != "" {
				w.Header().Set("WWW-Authenticate", `Bearer realm="ipcclab"`)
				fail(w, http.StatusUnauthorized, msg)
				return
			}
			m.h.ServeHTTP(w, r)
			return
		}
	}
	// The token first: a client that may not be served learns nothing of
	// which pages exist or which methods they take.
	if msg := s.refuse(r); msg != "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="ipcclab"`)
		fail(w, http.StatusUnauthorized, msg)
		return
	}
	h, ok := s.mux[r.URL.Path]
	if !ok {
		fail(w, http.StatusNotFound, fmt.Sprintf("no such page: %s", r.URL.Path))
		return
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		fail(w, http.StatusMethodNotAllowed, fmt.Sprintf("method %s not allowed on %s: use GET", r.Method, r.URL.Path))
		return
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	h(w, r)
}

// refuse says why r may not be served, "" when it may: loopback clients
// always may, others with the token.
func (s *Server) refuse(r *http.Request) string {
	return refusal(r, s.cfg.Token, r.URL.Path != "/metrics")
}

// refusal is the rule of every HTTP surface: loopback clients are served;
// others only with token, as "Authorization: Bearer <token>" or, where
// queryToken allows (pages a browser opens), a ?token= parameter.
func refusal(r *http.Request, token string, queryToken bool) string {
	if Loopback(r.RemoteAddr) {
		return ""
	}
	if token == "" {
		return "unauthorized: this server serves loopback clients only (start it with a token to serve others)"
	}
	given, how := "", ""
	if a := r.Header.Get("Authorization"); a != "" {
		scheme, tok, ok := strings.Cut(a, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return "unauthorized: Authorization header must be \"Bearer <token>\""
		}
		given, how = strings.TrimSpace(tok), "Authorization header"
	} else if queryToken && r.URL.Query().Has("token") {
		given, how = r.URL.Query().Get("token"), "token parameter"
	}
	switch {
	case how == "":
		return "unauthorized: token required (Authorization: Bearer <token>)"
	case subtle.ConstantTimeCompare([]byte(given), []byte(token)) != 1:
		return "unauthorized: wrong token in the " + how
	}
	return ""
}

// Protect serves h under the same rule as the dashboard (loopback
// clients, or others with token in an Authorization: Bearer header): for
// HTTP surfaces with their own listener, such as the campaign API.
func Protect(token string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if msg := refusal(r, token, false); msg != "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="ipcclab"`)
			fail(w, http.StatusUnauthorized, msg)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// Loopback reports whether a host:port (a request's RemoteAddr or a listen
// address) is on loopback. A host name other than "localhost", or an empty
// host (every interface), is not.
func Loopback(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
	}
	if host == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(strings.Trim(host, "[]"))
	return err == nil && a.Unmap().IsLoopback()
}

// NeedsToken reports whether serving on listen address addr needs a token:
// every address but loopback ones does. A malformed address is an error
// naming it.
func NeedsToken(addr string) (bool, error) {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return false, fmt.Errorf("web: listen address %q: %w", addr, err)
	}
	return !Loopback(addr), nil
}

// NewToken returns a random token (128 bits, hex), for a server started on
// a non-loopback address without one.
func NewToken() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("web: token: %w", err)
	}
	return hex.EncodeToString(b), nil
}

func fail(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	fmt.Fprintln(w, msg)
}

// snapshot asks the source, bounded by snapshotWait.
func (s *Server) snapshot(ctx context.Context) (Snapshot, error) {
	ctx, cancel := context.WithTimeout(ctx, snapshotWait)
	defer cancel()
	snap, err := s.cfg.Source.Snapshot(ctx)
	if err != nil {
		return Snapshot{}, fmt.Errorf("snapshot: %w", err)
	}
	return normalised(snap), nil
}

// normalised makes the lists of a snapshot empty rather than nil, so that
// the JSON has [] and the page's code needs no null checks.
func normalised(s Snapshot) Snapshot {
	// The rows are copied before they are changed: the source may hand the
	// same snapshot to several callers at once.
	agents := make([]Agent, len(s.Agents))
	copy(agents, s.Agents)
	for i := range agents {
		if agents[i].SkillGroups == nil {
			agents[i].SkillGroups = []string{}
		}
	}
	s.Agents = agents
	if s.SkillGroups == nil {
		s.SkillGroups = []SkillGroup{}
	}
	if s.Queues == nil {
		s.Queues = []Queue{}
	}
	if s.Moves == nil {
		s.Moves = []Move{}
	}
	if s.Alerts == nil {
		s.Alerts = []Alert{}
	}
	if s.Campaign != nil && s.Campaign.Scheduled == nil {
		cp := *s.Campaign
		cp.Scheduled = []Scheduled{}
		s.Campaign = &cp
	}
	return s
}

func (s *Server) snapshotJSON(w http.ResponseWriter, r *http.Request) {
	snap, err := s.snapshot(r.Context())
	if err != nil {
		fail(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(snap)
}

// pushFrame is one server-sent event: the snapshot, or an error event
// naming why there is none this time.
func (s *Server) pushFrame(ctx context.Context) []byte {
	snap, err := s.snapshot(ctx)
	if err != nil {
		if s.cfg.Logf != nil {
			s.cfg.Logf("web: event push: %v", err)
		}
		return sseFrame("error", []byte(err.Error()))
	}
	b, err := json.Marshal(snap)
	if err != nil {
		return sseFrame("error", []byte("snapshot: "+err.Error()))
	}
	return sseFrame("snapshot", b)
}

// sseFrame encodes one event; every line of data gets its own "data:"
// field, so a newline in an error message cannot end the event early.
func sseFrame(event string, data []byte) []byte {
	var b strings.Builder
	b.WriteString("event: ")
	b.WriteString(event)
	b.WriteByte('\n')
	for _, line := range strings.Split(string(data), "\n") {
		b.WriteString("data: ")
		b.WriteString(line)
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	return []byte(b.String())
}

func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	c := s.hub.subscribe()
	if c == nil {
		fail(w, http.StatusServiceUnavailable, "event stream closed: the server is stopping")
		return
	}
	defer s.hub.unsubscribe(c)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	// The first snapshot goes out at once rather than at the next tick, and
	// a lost connection is retried after two seconds.
	first := append([]byte("retry: 2000\n\n"), s.pushFrame(r.Context())...)
	write := func(b []byte) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(writeWait))
		if _, err := w.Write(b); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !write(first) {
		return
	}
	beat := time.NewTicker(s.cfg.Heartbeat)
	defer beat.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-c.dropped:
			// Too far behind (or the server is closing): end the stream;
			// the browser reconnects and starts from the latest snapshot.
			return
		case f := <-c.frames:
			if !write(f) {
				return
			}
		case <-beat.C:
			if !write([]byte(": heartbeat\n\n")) {
				return
			}
		}
	}
}
