package desktop_test

// The browser acceptance tests, in headless Chromium driven with
// chromedp: an agent logs in on the desktop, goes ready, receives a call
// with its screen pop, completes the script and dispositions the call
// (here); a preview agent accepts and skips campaign records
// (preview_browser_test.go).

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

const chromium = "/usr/bin/chromium"

// browser is a headless Chromium page driven step by step; every failure
// names the step, the centre's seed and the page's text.
type browser struct {
	t    *testing.T
	ctx  context.Context
	seed uint64
}

// needChromium skips the test when there is no browser to drive.
func needChromium(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(chromium); err != nil {
		t.Skipf("no headless browser: %s is absent (apt-get install chromium)", chromium)
	}
}

// newBrowser starts Chromium; the steps after the start share the bound
// limit. Start it after the servers it visits: cleanups run last first,
// and a server waits for the page's open event stream before it closes.
func newBrowser(t *testing.T, seed uint64, limit time.Duration) *browser {
	t.Helper()
	needChromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.NoSandbox,
		chromedp.Flag("headless", true), chromedp.Flag("disable-gpu", true))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelA)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	// The first Run starts the browser; the bound applies to the steps
	// after it (a timeout on the first call would stop the browser).
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start %s: %v", chromium, err)
	}
	ctx, cancelT := context.WithTimeout(ctx, limit)
	t.Cleanup(cancelT)
	return &browser{t: t, ctx: ctx, seed: seed}
}

// step runs the actions; a wait that does not end before the bound fails
// the test with the step's name and what the page shows.
func (b *browser) step(name string, acts ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, acts...); err != nil {
		st, _ := chromedp.Run(b.ctx, chromedp.TextContent(css("body")))
		b.t.Fatalf("seed %d: %s: %v\npage: %s", b.seed, name, err, squeeze(st))
	}
}

// read returns the element's text.
func (b *browser) read(sel string) string {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.TextContent(css(sel)))
	if err != nil {
		b.t.Fatalf("seed %d: read %s: %v", b.seed, sel, err)
	}
	return v
}

func css(s string) chromedp.CSS { return chromedp.CSS(s) }

// text waits until the element's text contains want.
func text(sel, want string) chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](`(document.querySelector(`+quote(sel)+`) || {textContent: ""}).textContent.includes(`+quote(want)+`)`,
		chromedp.WithPollingInterval(50*time.Millisecond))
}

func visible(sel string) chromedp.Action[chromedp.Void] { return chromedp.WaitVisible(css(sel)) }
func hidden(sel string) chromedp.Action[chromedp.Void]  { return chromedp.WaitNotVisible(css(sel)) }
func click(sel string) chromedp.Action[chromedp.Void]   { return chromedp.Click(css(sel)) }
func keys(sel, v string) chromedp.Action[chromedp.Void] { return chromedp.SendKeys(css(sel), v) }

// choose picks an option of a select as a person does: the value changes
// and the page hears "change".
func choose(sel, value string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](`(() => { const e = document.querySelector(` + quote(sel) + `); e.value = ` + quote(value) +
		`; if (e.value !== ` + quote(value) + `) throw new Error("no option " + ` + quote(value) + `); e.dispatchEvent(new Event("change", {bubbles: true})); })()`)
}

// The agent works from another machine, as on `up --http-addr 0.0.0.0:…`:
// the desktop is opened with ?token= on a server that refuses every
// request from off loopback without it (offLoopback), so the page works
// only if its style, script, forms and event stream all carry the token.
func TestBrowserAgentTakesACall(t *testing.T) {
	needChromium(t)
	h := start(t)
	base := h.offLoopback()
	b := newBrowser(t, deskSeed, 40*time.Second)

	b.step("open the desktop", chromedp.Navigate(base+"/desktop/?token="+deskToken), visible("#login-form"))
	// The style sheet came through: only it draws the login form's panel
	// border (a refused style.css leaves the form unstyled).
	b.step("styled", chromedp.Poll[chromedp.Void](`getComputedStyle(document.querySelector("#login-form")).borderTopStyle === "solid"`,
		chromedp.WithPollingInterval(50*time.Millisecond)))
	b.step("log in", keys("#agent", "1001"), keys("#extension", "2001"), keys("#password", "1234"),
		click("#login"), visible("#desk"), text("#state", "NOT_READY"))
	b.step("go ready", click("#ready"), text("#state", "AVAILABLE"))

	h.run.Arrive(1)
	b.step("screen pop", visible("#pop"), text("#call-state", "alerting"), text("#call-data", "SalesInbound"), text("#customer", "Ada Lovelace"))
	if pop := b.read("#call-data"); !strings.Contains(pop, "CallVariable2") || !strings.Contains(pop, "ANI") {
		t.Fatalf("screen pop %q lacks the account or ANI", pop)
	}
	b.step("answer", click("#answer"), text("#state", "TALKING"), text("#call-state", "connected"))
	b.step("script: the caller is someone else", text("#script-text", "Ada Lovelace"), click("#answer-no"), visible("#field-caller_name"))
	b.step("script: a bad name is refused", keys("#field-caller_name", "1"), click("#script-next"), text("#error", "caller_name:"))
	b.step("script: name captured", chromedp.SetValue(css("#field-caller_name"), "Ada King"), click("#script-next"), visible("#answer-buy"))
	b.step("script: wants to buy", click("#answer-buy"), visible("#field-email"))
	b.step("script: e-mail captured", keys("#field-email", "ada@example.com"), click("#script-next"),
		visible("#script-done"), text("#script-text", "Thank you for calling, Ada King."), text("#call-data", "ada@example.com"))
	b.step("hang up", click("#release"), text("#state", "WORK_READY"), visible("#wrapup"))
	b.step("disposition", choose("#code", "sale"), click("#dispose"), text("#last-text", "sale"), text("#state", "AVAILABLE"))
	if last := b.read("#last-text"); !strings.Contains(last, "Call ") {
		t.Fatalf("after the disposition: %q", last)
	}
	if rc := h.recalls.all(); len(rc) != 0 {
		t.Fatalf("a sale booked recalls %+v", rc)
	}
}

func quote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// squeeze folds the page text's white space for a failure message.
func squeeze(s string) string { return strings.Join(strings.Fields(s), " ") }
