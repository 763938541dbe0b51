package lab

// Acceptance line of issue 7: "a web callback request appears as a
// scheduled outbound record". A centre with a call list serves the web
// callback form at /callback/ on the dashboard's server; a request booked
// there is a callback record of the campaign, listed on the dashboard.

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ipcclab/ipcclab/controller/web"
)

const chromium = "/usr/bin/chromium"

// startCallList runs the call-list scenario held (no agent logged in, so
// nothing is dialed while the test looks) with the dashboard on loopback.
func startCallList(t *testing.T) *Running {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	r, err := Start(ctx, UpOptions{Scenario: callListScenario(t), Seed: 1, CTIAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", HoldTraffic: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Stop() })
	return r
}

// noonLondon is a time the form accepts: two days ahead, at noon in
// London, inside the scenario's 09:00-21:00.
func noonLondon(t *testing.T) time.Time {
	t.Helper()
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	d := time.Now().In(loc).AddDate(0, 0, 2)
	return time.Date(d.Year(), d.Month(), d.Day(), 12, 0, 0, 0, loc)
}

// The form's requests are checked against the campaign: its calling hours,
// its do-not-call list, the store's phone rule; a booked one is a pending
// callback record and on the dashboard's snapshot.
func TestCallbackBooksIntoCampaign(t *testing.T) {
	r := startCallList(t)
	base := "http://" + r.HTTPAddr() + web.CallbackPath
	at := noonLondon(t)
	form := func(change func(url.Values)) url.Values {
		v := url.Values{"name": {"Ada Lovelace"}, "phone": {"+44 20 7946 0999"}, "time_zone": {"Europe/London"},
			"when": {"at"}, "at": {at.Format("2006-01-02T15:04")}}
		change(v)
		return v
	}
	for _, tc := range []struct {
		name   string
		change func(url.Values)
		status int
		want   string
	}{
		{"outside the calling hours", func(v url.Values) { v.Set("at", at.Add(10*time.Hour).Format("2006-01-02T15:04")) }, 400, `data-field="at">at: `},
		{"on the DNC list", func(v url.Values) { v.Set("phone", "+44 20 7946 1003") }, 422, `data-field="phone">phone: this number is on the do-not-call list`},
		{"too short for the store", func(v url.Values) { v.Set("phone", "123456") }, 400, `data-field="phone">phone: `},
		{"zone not in the list", func(v url.Values) { v.Set("time_zone", "Europe/Paris") }, 400, `data-field="time_zone"`},
	} {
		resp, err := http.PostForm(base, form(tc.change))
		if err != nil {
			t.Fatal(err)
		}
		body := readAll(t, resp)
		if resp.StatusCode != tc.status || !strings.Contains(body, tc.want) {
			t.Errorf("%s: %d, want %d with %q:\n%s", tc.name, resp.StatusCode, tc.status, tc.want, body)
		}
	}
	resp, err := http.PostForm(base, form(func(v url.Values) { v.Set("note", "renewal") }))
	if err != nil {
		t.Fatal(err)
	}
	if body := readAll(t, resp); resp.StatusCode != http.StatusCreated || !strings.Contains(body, `id="booked"`) {
		t.Fatalf("booking: %d\n%s", resp.StatusCode, body)
	}
	store, cid := r.Campaign()
	recs, err := store.Records(cid)
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, rec := range recs {
		if rec.Phone == "442079460999" {
			found = true
			if !rec.Callback || !rec.NextAt.Equal(at) || rec.CustomerFields["name"] != "Ada Lovelace" || rec.CustomerFields["note"] != "renewal" || rec.TimeZone != "Europe/London" {
				t.Errorf("record %+v, want a callback at %v", rec, at)
			}
		}
	}
	if !found {
		t.Fatal("no record for the booked number")
	}
	code, body := httpGet(t, "http://"+r.HTTPAddr()+"/api/snapshot")
	var snap web.Snapshot
	if err := json.Unmarshal([]byte(body), &snap); code != 200 || err != nil {
		t.Fatalf("snapshot: %d %v", code, err)
	}
	if snap.Campaign == nil || len(snap.Campaign.Scheduled) != 1 {
		t.Fatalf("snapshot campaign %+v", snap.Campaign)
	}
	if s := snap.Campaign.Scheduled[0]; s.Kind != "callback" || s.Phone != "442079460999" || s.Name != "Ada Lovelace" || !s.At.Equal(at) {
		t.Errorf("scheduled %+v", s)
	}
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			return b.String()
		}
	}
}

// In a browser: a customer fills in the callback form and sees the
// confirmation; the supervisor's dashboard lists the request as a
// scheduled callback.
func TestBrowserCallbackAppearsScheduled(t *testing.T) {
	if _, err := os.Stat(chromium); err != nil {
		t.Skipf("no headless browser: %s is absent (apt-get install chromium)", chromium)
	}
	r := startCallList(t)
	base := "http://" + r.HTTPAddr()
	at := noonLondon(t)

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.NoSandbox,
		chromedp.Flag("headless", true), chromedp.Flag("disable-gpu", true))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	// The first Run starts the browser; the 30 s bound applies to the
	// steps after it (a timeout on the first call would stop the browser).
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start %s: %v", chromium, err)
	}
	ctx, cancelT := context.WithTimeout(ctx, 30*time.Second)
	defer cancelT()
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	step := func(name string, acts ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, acts...); err != nil {
			st, _ := chromedp.Run(ctx, chromedp.TextContent(css("body")))
			t.Fatalf("%s: %v\npage: %s", name, err, st)
		}
	}
	visible := func(sel string) chromedp.Action[chromedp.Void] { return chromedp.WaitVisible(css(sel)) }

	step("open the callback form", chromedp.Navigate(base+web.CallbackPath), visible("#callback-form"))
	step("fill it in", chromedp.SendKeys(css("#name"), "Ada Lovelace"), chromedp.SendKeys(css("#phone"), "+44 20 7946 0999"),
		chromedp.SetValue(css("#time_zone"), "Europe/London"), chromedp.Click(css("#when-at")),
		chromedp.SetValue(css("#at"), at.Format("2006-01-02T15:04")), chromedp.SendKeys(css("#note"), "about the renewal"))
	step("submit", chromedp.Click(css("#submit")), visible("#booked"))
	idText, err := chromedp.Run(ctx, chromedp.TextContent(css("#booked-id")))
	if err != nil {
		t.Fatal(err)
	}
	id, err := strconv.ParseInt(strings.TrimSpace(idText), 10, 64)
	if err != nil {
		t.Fatalf("confirmation reference %q: %v", idText, err)
	}
	when, err := chromedp.Run(ctx, chromedp.TextContent(css("#booked-at")))
	if err != nil || !strings.Contains(when, "12:00") {
		t.Errorf("confirmation time %q (%v), want noon", when, err)
	}

	// The dashboard's script has taken over (status live) and its table
	// lists the record as a scheduled callback.
	row := `#scheduled tbody tr[data-record="` + strconv.FormatInt(id, 10) + `"][data-kind="callback"]`
	step("see it on the dashboard", chromedp.Navigate(base+"/"),
		chromedp.Poll[chromedp.Void](`document.getElementById("status").textContent === "live" && `+
			`(document.querySelector('`+row+`')?.textContent ?? "").includes("Ada Lovelace")`,
			chromedp.WithPollingInterval(50*time.Millisecond)))
	text, err := chromedp.Run(ctx, chromedp.TextContent(css(row)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, "442079460999") || !strings.Contains(text, "Europe/London") {
		t.Errorf("dashboard row %q lacks the number or zone", text)
	}
}
