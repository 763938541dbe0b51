package desktop_test

// The browser acceptance test: in headless Chromium an agent logs
// in on the desktop, goes ready, receives a call with its screen pop,
// completes the script and dispositions the call.

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

const chromium = "/usr/bin/chromium"

func TestBrowserAgentTakesACall(t *testing.T) {
	if _, err := os.Stat(chromium); err != nil {
		t.Skipf("no headless browser: %s is absent (apt-get install chromium)", chromium)
	}
	h := start(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.NoSandbox,
		chromedp.Flag("headless", true), chromedp.Flag("disable-gpu", true))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()

	// The first Run starts the browser; the 40 s bound applies to the
	// steps after it (a timeout on the first call would stop the browser).
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start %s: %v", chromium, err)
	}
	ctx, cancelT := context.WithTimeout(ctx, 40*time.Second)
	defer cancelT()
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	step := func(name string, acts ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, acts...); err != nil {
			st, _ := chromedp.Run(ctx, chromedp.TextContent(css("body")))
			t.Fatalf("%s: %v\npage: %s", name, err, st)
		}
	}
	read := func(sel string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.TextContent(css(sel)))
		if err != nil {
			t.Fatalf("read %s: %v", sel, err)
		}
		return v
	}
	// text waits until the element's text contains want.
	text := func(sel, want string) chromedp.Action[chromedp.Void] {
		return chromedp.Poll[chromedp.Void](`document.querySelector(`+quote(sel)+`).textContent.includes(`+quote(want)+`)`,
			chromedp.WithPollingInterval(50*time.Millisecond))
	}
	visible := func(sel string) chromedp.Action[chromedp.Void] { return chromedp.WaitVisible(css(sel)) }
	click := func(sel string) chromedp.Action[chromedp.Void] { return chromedp.Click(css(sel)) }
	keys := func(sel, v string) chromedp.Action[chromedp.Void] { return chromedp.SendKeys(css(sel), v) }

	step("open the desktop", chromedp.Navigate(h.srv.URL+"/desktop/"), visible("#login-form"))
	step("log in", keys("#agent", "1001"), keys("#extension", "2001"), keys("#password", "1234"),
		click("#login"), visible("#desk"), text("#state", "NOT_READY"))
	step("go ready", click("#ready"), text("#state", "AVAILABLE"))

	h.run.Arrive(1)
	step("screen pop", visible("#pop"), text("#call-state", "alerting"), text("#call-data", "SalesInbound"), text("#customer", "Ada Lovelace"))
	if pop := read("#call-data"); !strings.Contains(pop, "CallVariable2") || !strings.Contains(pop, "ANI") {
		t.Fatalf("screen pop %q lacks the account or ANI", pop)
	}
	step("answer", click("#answer"), text("#state", "TALKING"), text("#call-state", "connected"))
	step("script: the caller is someone else", text("#script-text", "Ada Lovelace"), click("#answer-no"), visible("#field-caller_name"))
	step("script: a bad name is refused", keys("#field-caller_name", "1"), click("#script-next"), text("#error", "caller_name:"))
	step("script: name captured", chromedp.SetValue(css("#field-caller_name"), "Ada King"), click("#script-next"), visible("#answer-buy"))
	step("script: wants to buy", click("#answer-buy"), visible("#field-email"))
	step("script: e-mail captured", keys("#field-email", "ada@example.com"), click("#script-next"),
		visible("#script-done"), text("#script-text", "Thank you for calling, Ada King."), text("#call-data", "ada@example.com"))
	step("hang up", click("#release"), text("#state", "WORK_READY"), visible("#wrapup"))
	step("disposition", chromedp.SetValue(css("#code"), "sale"), click("#dispose"), text("#last-text", "sale"), text("#state", "AVAILABLE"))
	if last := read("#last-text"); !strings.Contains(last, "Call ") {
		t.Fatalf("after the disposition: %q", last)
	}
	if rc := h.recalls.all(); len(rc) != 0 {
		t.Fatalf("a sale booked recalls %+v", rc)
	}
}

func quote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}
