package acceptance

// Acceptance line of issue 7:
//
//	Browser tests in headless Chromium run in CI: the dashboard shows an
//	inbound call appear and be answered.
//
// `ipcclab up` runs the default scenario (inbound traffic from the start);
// headless Chromium (Debian's chromium, installed by .ci/run) opens the
// dashboard and the test reads the page as a supervisor would: first a call
// in queue or an agent RESERVED (the call alerting at the agent's phone),
// then the answered count going up with an agent TALKING. The page must
// have gone live (its script took over from the server-rendered table).

import (
	"context"
	"net/http"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ipcclab/ipcclab/internal/testutil"
)

// dashboardBudget bounds the whole browser part.
const dashboardBudget = 45 * time.Second

// dashboardView is what the test reads off the page.
type dashboardView struct {
	Status   string   `json:"status"`
	InQueue  int      `json:"inQueue"`
	Answered int      `json:"answered"`
	States   []string `json:"states"`
	// For are the agents table's "For" cells; Campaign the campaign line;
	// TodayHead the half-hour table's headings.
	For       []string `json:"for"`
	Campaign  string   `json:"campaign"`
	TodayHead []string `json:"todayHead"`
}

const readDashboard = `(() => {
  const n = (id) => parseInt(document.getElementById(id).textContent, 10) || 0;
  return {
    status: document.getElementById("status").textContent,
    inQueue: n("t-in_queue"),
    answered: n("t-answered"),
    states: [...document.querySelectorAll("#agents tbody tr")].map((r) => r.dataset.state),
    for: [...document.querySelectorAll("#agents tbody tr")].map((r) => r.cells[3].textContent),
    campaign: document.getElementById("campaign").textContent,
    todayHead: [...document.querySelectorAll("#today thead th")].map((th) => th.textContent),
  };
})()`

// chooseKind picks a kind in the half-hour table's selector, as a person
// would (a change event).
const chooseKind = `(() => {
  const s = document.getElementById("today-kind");
  s.value = "agent";
  s.dispatchEvent(new Event("change"));
  return true;
})()`

// forCell is an agents table "For" cell: a count of seconds, or "—" for a
// line that has had no call.
var forCell = regexp.MustCompile(`^(—|\d{1,6} s)$`)

func TestDashboardShowsInboundCallAnswered(t *testing.T) {
	browser, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium not installed (.ci/run installs Debian's chromium): the dashboard browser test needs it")
	}
	bin := buildCLI(t, testutil.ModuleRoot(t))
	up := startUp(t, bin)
	url := "http://" + up.httpAddr + "/"
	deadline := time.Now().Add(portWait)
	for {
		resp, err := http.Get(url + "api/snapshot")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("dashboard not serving at %s after %v: %v", url, portWait, err)
		}
		time.Sleep(50 * time.Millisecond)
	}

	ctx, cancel := context.WithTimeout(context.Background(), dashboardBudget)
	defer cancel()
	// CI runs as root, where Chromium refuses its sandbox.
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(browser), chromedp.NoSandbox,
		chromedp.Headless, chromedp.DisableGPU)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()
	if _, err := chromedp.Run(bctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("open %s in %s: %v", url, browser, err)
	}

	var v dashboardView
	read := func() {
		t.Helper()
		got, err := chromedp.Run(bctx, chromedp.Evaluate[dashboardView](readDashboard))
		if err != nil {
			t.Fatalf("read the dashboard: %v (last view %+v)", err, v)
		}
		v = got
	}
	until := func(what string, cond func() bool) {
		t.Helper()
		for read(); !cond(); read() {
			select {
			case <-ctx.Done():
				t.Fatalf("the dashboard did not show %s within %v; last view %+v", what, dashboardBudget, v)
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	until("a call in queue or alerting at an agent", func() bool {
		return v.Status == "live" && (v.InQueue > 0 || slices.Contains(v.States, "RESERVED"))
	})
	t.Logf("call appeared: %d in queue, agents %v, %d answered so far", v.InQueue, count(v.States), v.Answered)
	before := v.Answered
	until("the call answered (answered count up, an agent TALKING)", func() bool {
		return v.Answered > before && slices.Contains(v.States, "TALKING")
	})
	t.Logf("call answered: %d answered, agents %v", v.Answered, count(v.States))

	// The presentation: every agent's time in state is a time or "—" (no
	// year-long count for a line that has had no call); the default
	// scenario's campaign is shown without a call list; the half-hour
	// table is headed in words and follows the kind selector.
	for _, f := range v.For {
		if !forCell.MatchString(f) {
			t.Errorf("agents table For cell %q", f)
		}
	}
	if !strings.Contains(v.Campaign, "Campaign Renewals (progressive): no call list") {
		t.Errorf("campaign line %q", v.Campaign)
	}
	if !slices.Contains(v.TodayHead, "Call type") || !slices.Contains(v.TodayHead, "Answered in SL") {
		t.Errorf("half-hour table headings %q", v.TodayHead)
	}
	if _, err := chromedp.Run(bctx, chromedp.Evaluate[bool](chooseKind)); err != nil {
		t.Fatalf("choose the agent table: %v", err)
	}
	until("the half-hour table by agent", func() bool { return slices.Contains(v.TodayHead, "Agent") })
}

func count(states []string) map[string]int {
	m := map[string]int{}
	for _, s := range states {
		m[s]++
	}
	return m
}
