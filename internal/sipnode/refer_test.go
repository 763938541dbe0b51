package sipnode

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// A handler that waits inside OnInvite for the call's fate sees the CANCEL
// at once, not only after it returns; a rejection's Q.850 cause reaches the
// caller in ResponseError.Cause.
func TestCancelSeenInsideOnInviteAndCause(t *testing.T) {
	seen := make(chan bool, 1)
	a, b := startPair(t, func(in *Incoming) {
		if in.To() == "busy" {
			_ = in.Reject(486, "Busy Here", sip.NewHeader("Reason", `Q.850;cause=17;text="User busy"`))
			return
		}
		_ = in.Progress(180, "Ringing", nil)
		select {
		case <-in.Cancelled():
			seen <- true
		case <-time.After(3 * time.Second):
			seen <- false
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := a.Invite(ctx, "x", b.URI("busy"), Description(Offer(mediaA, "a"), 1, 1), LegEvents{}, nil)
	var re *ResponseError
	if !errors.As(err, &re) || re.Code != 486 || re.Cause != 17 {
		t.Fatalf("busy: %v", err)
	}
	rctx, rcancel := context.WithCancel(ctx)
	_, err = a.Invite(rctx, "x", b.URI("ring"), Description(Offer(mediaA, "a"), 1, 1), LegEvents{},
		func(p Provisional) { rcancel() })
	if StatusOf(err) != 487 {
		t.Fatalf("cancelled: %v", err)
	}
	if !<-seen {
		t.Fatal("the handler waiting in OnInvite did not see the CANCEL")
	}
}

func TestReferHelpers(t *testing.T) {
	res := sip.NewResponse(503, "Service Unavailable")
	res.AppendHeader(sip.NewHeader("Reason", `SIP;cause=503, Q.850;cause=34;text="No circuit"`))
	if c := Q850Cause(res); c != 34 {
		t.Errorf("Q850Cause = %d, want 34", c)
	}
	if c := Q850Cause(sip.NewResponse(404, "Not Found")); c != 0 {
		t.Errorf("no Reason: %d", c)
	}
	for body, want := range map[string]int{"SIP/2.0 200 OK\r\n": 200, "SIP/2.0 100 Trying": 100, "SIP/2.0 486 Busy Here\r\nVia: x\r\n": 486,
		"": 0, "hello": 0, "SIP/2.0 abc": 0} {
		if got := ParseSipfrag([]byte(body)); got != want {
			t.Errorf("ParseSipfrag(%q) = %d, want %d", body, got, want)
		}
	}
	if got := ParseSipfrag(Sipfrag(487, "Request Terminated")); got != 487 {
		t.Errorf("round trip: %d", got)
	}
	var u sip.Uri
	v := "sip:6001@127.0.0.1:5060?" + CallVariableHeader(1) + "=" + EscapeURIHeader("a b&c+d=é") + "&Call-ID=evil&" + CallVariableHeader(10) + "=x"
	if err := sip.ParseUri(v, &u); err != nil {
		t.Fatal(err)
	}
	hs := ReferHeaders(u)
	if len(hs) != 2 || hs[0].Name() != "X-CallVariable1" || hs[0].Value() != "a b&c+d=é" || hs[1].Name() != "X-CallVariable10" || hs[1].Value() != "x" {
		for _, h := range hs {
			t.Logf("%s: %q", h.Name(), h.Value())
		}
		t.Fatalf("ReferHeaders: %d headers (Call-ID must not pass)", len(hs))
	}
}
