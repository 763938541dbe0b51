package desktop_test

// Issue 7's preview path in headless Chromium: a person on the desktop is
// a preview agent of the controller's campaign. The record is offered with
// its customer fields; Accept dials the customer from the agent's phone;
// the screen pop shows the customer record; the outbound script takes a
// branch and captures a field that reaches the call (SET_CALL_DATA_REQ,
// seen on the CTI wire); the call is dispositioned with a recall, which is
// booked in the campaign store for this agent. Then Skip: the next record
// is offered and the skipped one is neither dialed nor attempted.

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ipcclab/ipcclab/controller/campaign"
)

// shownRecord waits until the preview panel offers an unanswered record other
// than those in not, and returns it.
func (b *browser) shownRecord(what string, not ...string) string {
	b.t.Helper()
	cond := `(() => { const r = document.querySelector('#preview-record dd[data-name="Record"]');` +
		` return !document.querySelector('#preview').hidden && r !== null && !$not.includes(r.textContent) && !document.querySelector('#accept').disabled; })()`
	list := make([]string, len(not))
	for i, n := range not {
		list[i] = quote(n)
	}
	cond = strings.Replace(cond, "$not", "["+strings.Join(list, ",")+"]", 1)
	b.step(what, chromedp.Poll[chromedp.Void](cond, chromedp.WithPollingInterval(50*time.Millisecond)))
	return b.read(`#preview-record dd[data-name="Record"]`)
}

func TestBrowserPreviewAcceptAndSkip(t *testing.T) {
	needChromium(t)
	h := startPreview(t)
	b := newBrowser(t, previewSeed, 60*time.Second)

	b.step("open the desktop", chromedp.Navigate(h.srv.URL+"/desktop/"), visible("#login-form"))
	b.step("log in", keys("#agent", previewAgent), keys("#extension", previewExt), keys("#password", "1234"),
		click("#login"), visible("#desk"), text("#state", "NOT_READY"))

	// 1. The record offered, with its customer fields from the store.
	first := b.shownRecord("a preview offered")
	rec := h.record(first)
	offered := b.read("#preview-record")
	for _, want := range []string{"Renewals", rec.Phone, rec.CustomerFields["account"], rec.CustomerFields["name"], rec.CustomerFields["tier"]} {
		if !strings.Contains(offered, want) {
			h.fatalf("the preview of record %s shows %q, not %q", first, offered, want)
		}
	}
	if rec.Status != campaign.Dialing || rec.Attempts != 0 {
		h.fatalf("record %s on preview: status %s, %d attempts; want claimed and not yet attempted", first, rec.Status, rec.Attempts)
	}

	// Accept: the reservation ends and the customer is dialed from the
	// agent's phone; the call connects with the screen pop.
	b.step("accept", click("#accept"), hidden("#preview"), visible("#pop"), text("#call-state", "CUSTOMER_PREVIEW"),
		text("#call-state", "connected"), text("#state", "TALKING"))
	h.awaitWire("the accepted record dialed from the agent's phone", first, 0, func(a, d []string, _ map[string]string) bool {
		return slices.Equal(a, []string{"Accept"}) && slices.Equal(d, []string{previewExt})
	})
	name := rec.CustomerFields["name"]
	b.step("screen pop with the customer record", text("#customer", name), text("#customer", rec.CustomerFields["tier"]),
		text("#call-data", "BADialedListID"), text("#call-data", rec.CustomerFields["account"]))
	h.awaitStore("the accepted record's attempt", func() (bool, string) {
		r := h.record(first)
		return r.Attempts == 1 && r.Status == campaign.Dialing, "record " + first + " " + string(r.Status) + " " + strconv.Itoa(r.Attempts) + " attempts"
	})
	callText := b.read("#call-state")
	callID, err := strconv.ParseUint(strings.Fields(callText)[0], 10, 32)
	if err != nil {
		h.fatalf("call state %q does not start with the call ID", callText)
	}

	// The outbound script: right party → interested (a branch) → the plan
	// captured into ECC user.plan; a bad plan is refused first.
	b.step("script: right party", text("#script-text", "account "+rec.CustomerFields["account"]), text("#script-text", name),
		click("#answer-right_party"), visible("#answer-interested"))
	b.step("script: interested", click("#answer-interested"), visible("#field-plan"))
	b.step("script: a plan not offered is refused", keys("#field-plan", "gold"), click("#script-next"), text("#error", "plan:"))
	b.step("script: plan captured", chromedp.SetValue(css("#field-plan"), "plus"), click("#script-next"),
		visible("#script-done"), text("#call-data", "user.plan"), text("#call-data", "plus"))
	h.awaitWire("the plan set on the call", first, uint32(callID), func(_, _ []string, ecc map[string]string) bool { return ecc["user.plan"] == "plus" })

	// Hang up and disposition: a callback for this agent. A time in the
	// past is refused, naming the field; the call stays in wrap-up.
	b.step("hang up", click("#release"), text("#call-state", "cleared"), visible("#wrapup"))
	b.step("choose callback", choose("#code", "callback"), visible("#callback_at"))
	past := time.Now().Add(-time.Hour).Format("2006-01-02T15:04")
	b.step("a recall in the past is refused", chromedp.SetValue(css("#callback_at"), past), click("#dispose"),
		text("#error", "callback_at:"), text("#error", "not in the future"), visible("#wrapup"))
	at := time.Now().Add(26 * time.Hour).Truncate(time.Minute)
	b.step("recall tomorrow, for me", chromedp.SetValue(css("#callback_at"), at.Format("2006-01-02T15:04")), choose("#callback_agent", "personal"),
		click("#dispose"), text("#last-text", "callback"), text("#last-text", "recall booked"), text("#last-text", "(agent "+previewAgent+")"), hidden("#wrapup"))
	h.awaitStore("the recall of record "+first, func() (bool, string) {
		rc, ok, err := h.store.Recall(rec.ID)
		r := h.record(first)
		return err == nil && ok && rc.At.Equal(at) && rc.AgentID == previewAgent && r.Status == campaign.Pending && r.NextAt.Equal(at),
			"recall " + strconv.FormatBool(ok) + " at " + rc.At.String() + " for " + rc.AgentID + "; record " + string(r.Status) + " next " + r.NextAt.String()
	})
	atts, err := h.store.Attempts(rec.ID)
	if err != nil || len(atts) != 1 || atts[0].Outcome != campaign.Answered {
		h.fatalf("attempts of record %s: %+v (%v); want one, answered", first, atts, err)
	}

	// 2. The next preview: Skip. The record is not dialed; the next one
	// is offered to the same agent at once.
	second := b.shownRecord("the next preview", first)
	b.step("skip", click("#skip"))
	third := b.shownRecord("the preview after the skip", first, second)
	h.awaitWire("the Skip of record "+second, second, 0, func(a, _ []string, _ map[string]string) bool { return slices.Equal(a, []string{"Skip"}) })
	if _, d, _ := h.wire.seen(second, 0); len(d) != 0 {
		h.fatalf("skipped record %s was dialed from %v", second, d)
	}
	if r := h.record(second); r.Attempts != 0 || r.Status != campaign.Dialing {
		h.fatalf("skipped record %s: status %s, %d attempts; want still claimed by the controller, never attempted", second, r.Status, r.Attempts)
	}
	if atts, _ := h.store.Attempts(h.record(second).ID); len(atts) != 0 {
		h.fatalf("skipped record %s has attempts %+v", second, atts)
	}
	b.step("the next record on screen", text("#state", "TALKING"), text("#preview-record", h.record(third).CustomerFields["name"]))
}
