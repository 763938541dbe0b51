package lab

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ipcclab/ipcclab/controller/campaign"
	"github.com/ipcclab/ipcclab/controller/desktop"
	"github.com/ipcclab/ipcclab/controller/web"
	"github.com/ipcclab/ipcclab/scenarios"
)

// shippedCallList is the call-list scenario shipped for `up --scenario`.
const shippedCallList = "../../scenarios/calllist.yaml"

// The shipped call list is small, spread over time zones, and imports
// whole: every row a record (the do-not-call numbers among them), none
// rejected.
func TestShippedCallListImportsWhole(t *testing.T) {
	sc, err := scenarios.Load(shippedCallList)
	if err != nil {
		t.Fatal(err)
	}
	path := sc.ListPath()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) >= 50<<10 {
		t.Errorf("%s is %d bytes: keep the shipped list under 50 KB", path, len(b))
	}
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	zones := map[string]bool{}
	for _, row := range rows[1:] {
		tz := row[1]
		if tz == "" {
			if tz, err = campaign.RegionZone(row[2]); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
		}
		zones[tz] = true
	}
	if len(rows)-1 < 200 || len(zones) < 8 {
		t.Errorf("%s: %d records in %d time zones, want a few hundred across many", path, len(rows)-1, len(zones))
	}

	r := startShipped(t, sc, nil)
	if r.camp == nil {
		t.Fatal("no campaign store for a scenario with outbound.list")
	}
	l := r.camp.list
	if l.Imported != len(rows)-1 || len(l.Rejected) != 0 || l.DNC == 0 {
		t.Errorf("import: %d imported of %d rows, %d DNC, rejected %q", l.Imported, len(rows)-1, l.DNC, l.Rejected)
	}
}

// With the call-list scenario, up serves the web callback form and the
// agent desktop beside the dashboard: its banner prints both, the
// dashboard links both, and the snapshot's campaign has the list.
func TestShippedCallListServesCallbackAndDesktop(t *testing.T) {
	sc, err := scenarios.Load(shippedCallList)
	if err != nil {
		t.Fatal(err)
	}
	mk := func(e DesktopEnv) (http.Handler, func(), error) {
		h, err := desktop.New(desktop.Config{CTIAddr: e.CTIAddr, PeripheralID: e.PeripheralID})
		if err != nil {
			return nil, nil, err
		}
		return h, h.Close, nil
	}
	r := startShipped(t, sc, mk)
	base := "http://" + r.HTTPAddr()

	var banner bytes.Buffer
	r.printHTTP(&banner, "")
	for _, want := range []string{base + "/desktop/", base + "/callback/"} {
		if !strings.Contains(banner.String(), want) {
			t.Errorf("banner lacks %s:\n%s", want, banner.String())
		}
	}
	for path, want := range map[string]string{"/callback/": "<form", "/desktop/": "<html"} {
		if code, body := httpGet(t, base+path); code != 200 || !strings.Contains(strings.ToLower(body), want) {
			t.Errorf("GET %s: %d %.200s", path, code, body)
		}
	}
	_, page := httpGet(t, base+"/")
	// Records left: the do-not-call ones are never dialed.
	left := fmt.Sprintf("Campaign Renewals (predictive): %d of 360 records left", 360-r.camp.list.DNC)
	for _, want := range []string{`<a href="desktop/">Agent desktop</a>`, `<a href="callback/">Web callback</a>`, left} {
		if !strings.Contains(page, want) {
			t.Errorf("dashboard lacks %s", want)
		}
	}
	var snap web.Snapshot
	_, body := httpGet(t, base+"/api/snapshot")
	if err := json.Unmarshal([]byte(body), &snap); err != nil {
		t.Fatal(err)
	}
	if cp := snap.Campaign; cp == nil || cp.List == nil || cp.List.Records != 360 || cp.ID == 0 || cp.Mode != "predictive" {
		t.Errorf("campaign with a list: %+v", cp)
	}
}

// startShipped starts sc on loopback with traffic held.
func startShipped(t *testing.T, sc *scenarios.Scenario, mk func(DesktopEnv) (http.Handler, func(), error)) *Running {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	r, err := Start(ctx, UpOptions{Scenario: sc, Seed: 1, CTIAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", HoldTraffic: true, Desktop: mk})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Stop() })
	return r
}
