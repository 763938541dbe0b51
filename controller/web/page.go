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
	"since": since,
	"join":  func(s []string) string { return strings.Join(s, ", ") },
	"call": func(id uint32, dir string) string {
		if id == 0 {
			return ""
		}
		return strings.TrimSpace(fmt.Sprintf("%d %s", id, dir))
	},
}).ParseFS(assets, "assets/page.html"))

// since shows how long ago t was at at: "—" for a zero t (a line that
// has had no call), 0 s for a t after at (clocks a moment apart).
func since(at, t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	if at.Before(t) {
		return "0 s"
	}
	return fmt.Sprintf("%d s", int(at.Sub(t).Round(time.Second)/time.Second))
}

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
	// Token is the page's token, for the forms that lead back to the page.
	Token string
	// Today is the half-hour table of the kind the page was asked for
	// (?kind=, call types by default); TodayErr says why it is missing.
	// Both are empty when the source keeps no intervals. Kinds are the
	// choices of the kind selector.
	Today    *IntervalTable
	TodayErr string
	Kinds    []kindChoice
	// Links are the pages served beside the dashboard (Mount).
	Links []pageLink
}

// kindChoice is one option of the half-hour table's kind selector.
type kindChoice struct {
	Value    reporting.Kind
	Label    string
	Selected bool
}

// kindLabels name the interval kinds for people.
var kindLabels = map[reporting.Kind]string{reporting.KindCallType: "call type", reporting.KindSkillGroup: "skill group",
	reporting.KindAgent: "agent", reporting.KindCampaign: "campaign"}

// pageLink is a link to a mounted page.
type pageLink struct {
	Href  string
	Title string
}

// mountTitles name the pages up mounts; another prefix is its own title.
var mountTitles = map[string]string{"/desktop/": "Agent desktop", CallbackPath: "Web callback"}

// links lists the mounted pages in mount order, carrying query (the
// token) as the page's own links do.
func (s *Server) links(query string) []pageLink {
	out := []pageLink{}
	for _, m := range s.mounts {
		title, ok := mountTitles[m.prefix]
		if !ok {
			title = m.prefix
		}
		out = append(out, pageLink{Href: strings.TrimPrefix(m.prefix, "/") + query, Title: title})
	}
	return out
}

// page renders the dashboard with the current snapshot, so that it reads
// without JavaScript (and refreshes itself then); the script takes over
// with the event stream. A snapshot that fails still gives the page, saying
// why it has no figures.
//
// ?kind= chooses the half-hour table (calltype, skillgroup, agent,
// campaign); another value is a 400 naming the parameter.
func (s *Server) page(w http.ResponseWriter, r *http.Request) {
	kind := reporting.KindCallType
	if q := r.URL.Query(); q.Has("kind") {
		k, err := reporting.ParseKind(q.Get("kind"))
		if err != nil {
			fail(w, http.StatusBadRequest, "kind: "+err.Error())
			return
		}
		kind = k
	}
	d := pageData{}
	for _, k := range reporting.Kinds {
		d.Kinds = append(d.Kinds, kindChoice{Value: k, Label: kindLabels[k], Selected: k == kind})
	}
	snap, err := s.snapshot(r.Context())
	if err != nil {
		d.Err = err.Error()
		snap = normalised(Snapshot{})
	}
	d.Snap = snap
	if t, ok, err := s.intervalTable(r.Context(), kind); err != nil {
		d.TodayErr = err.Error()
	} else if ok {
		d.Today = &t
	}
	query := ""
	if tok := r.URL.Query().Get("token"); tok != "" {
		query = "?" + url.Values{"token": {tok}}.Encode()
		d.Query, d.Token = template.URL(query), tok
	}
	d.Links = s.links(query)
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
