package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/ipcclab/ipcclab/controller/reporting"
)

// The page, its script and its style are embedded: `ipcclab up` serves the
// dashboard with nothing to install and nothing fetched from elsewhere.
//
//go:embed assets
var assets embed.FS

var pageTmpl = template.Must(template.New("page.html").Funcs(template.FuncMap{
	"pct":   pct,
	"secs":  func(s int) string { return fmt.Sprintf("%d s", s) },
	"fsecs": func(s float64) string { return fmt.Sprintf("%.1f s", s) },
	"num":   func(v float64) string { return fmt.Sprintf("%.2f", v) },
	"clock": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.Format("15:04:05")
	},
	// stamp is for times that may be days ahead (scheduled records).
	"stamp": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.Format("2006-01-02 15:04 MST")
	},
	"since": func(at, t time.Time) string {
		if t.IsZero() || at.Before(t) {
			return "0 s"
		}
		return fmt.Sprintf("%d s", int(at.Sub(t).Round(time.Second)/time.Second))
	},
	"join": func(s []string) string { return strings.Join(s, ", ") },
	"call": func(id uint32, dir string) string {
		if id == 0 {
			return ""
		}
		return strings.TrimSpace(fmt.Sprintf("%d %s", id, dir))
	},
}).ParseFS(assets, "assets/page.html"))

// pct shows a ratio as a percentage, "—" for -1 (nothing counted yet).
func pct(v float64) string {
	if v < 0 {
		return "—"
	}
	return fmt.Sprintf("%.1f %%", 100*v)
}

// pageData is what the template renders.
type pageData struct {
	Snap Snapshot
	Err  string
	// Query carries the token on the page's own links (script, style),
	// which go through the same check as the page.
	Query template.URL
	// Today is the call types' half-hour table; TodayErr says why it is
	// missing. Both are empty when the source keeps no intervals.
	Today    *IntervalTable
	TodayErr string
}

// page renders the dashboard with the current snapshot, so that it reads
// without JavaScript (and refreshes itself then); the script takes over
// with the event stream. A snapshot that fails still gives the page, saying
// why it has no figures.
func (s *Server) page(w http.ResponseWriter, r *http.Request) {
	d := pageData{}
	snap, err := s.snapshot(r.Context())
	if err != nil {
		d.Err = err.Error()
		snap = normalised(Snapshot{})
	}
	d.Snap = snap
	if t, ok, err := s.intervalTable(r.Context(), reporting.KindCallType); err != nil {
		d.TodayErr = err.Error()
	} else if ok {
		d.Today = &t
	}
	if tok := r.URL.Query().Get("token"); tok != "" {
		d.Query = template.URL("?" + url.Values{"token": {tok}}.Encode())
	}
	var b bytes.Buffer
	if err := pageTmpl.Execute(&b, d); err != nil {
		fail(w, http.StatusInternalServerError, "dashboard page: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self'; script-src 'self'; connect-src 'self'")
	_, _ = w.Write(b.Bytes())
}

// asset serves the embedded script and style.
func (s *Server) asset(w http.ResponseWriter, r *http.Request) {
	name := path.Base(r.URL.Path)
	b, err := assets.ReadFile("assets/" + name)
	if err != nil {
		fail(w, http.StatusNotFound, "no such asset: "+name)
		return
	}
	ct := "text/css; charset=utf-8"
	if strings.HasSuffix(name, ".js") {
		ct = "text/javascript; charset=utf-8"
	}
	w.Header().Set("Content-Type", ct)
	_, _ = w.Write(b)
}
