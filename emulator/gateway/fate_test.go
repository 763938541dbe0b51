package gateway

import (
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/ipcclab/ipcclab/emulator/pstn"
)

// TestReject walks every PSTN outcome a call can fail with: the final
// status and Q.850 cause the gateway answers with (RFC 3398 by default),
// and whether a 183 carries the in-band busy tone or SIT first, and for how
// long.
func TestReject(t *testing.T) {
	for _, tc := range []struct {
		o        pstn.Outcome
		status   int
		reason   string
		cause    int
		hasEarly bool
		early    pstn.SoundKind
		hold     time.Duration
	}{
		{pstn.OutcomeBusy, 486, "Busy Here", 17, true, pstn.SoundBusy, BusyHold},
		{pstn.OutcomeNoAnswer, 480, "Temporarily Unavailable", 19, false, 0, 0},
		{pstn.OutcomeFail, 404, "Not Found", 1, true, pstn.SoundSITIntercept, SITHold},
		{pstn.OutcomeVacantNumber, 404, "Not Found", 1, true, pstn.SoundSITIntercept, SITHold},
		{pstn.OutcomeVacantCode, 404, "Not Found", 1, true, pstn.SoundSITVacantCode, SITHold},
		{pstn.OutcomeNoCircuit, 503, "Service Unavailable", 34, true, pstn.SoundSITNoCircuit, SITHold},
		{pstn.OutcomeReorder, 503, "Service Unavailable", 42, true, pstn.SoundSITReorder, SITHold},
	} {
		rj := Reject(tc.o, DefaultCauseMap())
		if rj.Status != tc.status || rj.Reason != tc.reason || rj.Cause != tc.cause {
			t.Errorf("%v: %d %q cause %d, want %d %q cause %d", tc.o, rj.Status, rj.Reason, rj.Cause, tc.status, tc.reason, tc.cause)
		}
		if rj.HasEarly != tc.hasEarly || tc.hasEarly && (rj.Early != tc.early || rj.Hold != tc.hold) {
			t.Errorf("%v: early media %v %v for %v, want %v %v for %v", tc.o, rj.HasEarly, rj.Early, rj.Hold, tc.hasEarly, tc.early, tc.hold)
		}
		if got, want := rj.ReasonHeader(), "Q.850;cause="+strconv.Itoa(tc.cause); got != want {
			t.Errorf("%v: Reason header %q, want %q", tc.o, got, want)
		}
	}
}

// TestRejectFollowsTheCauseMap: the final status comes from the gateway's
// configured map; a cause mapped to BYE/CANCEL (no status) is answered 480.
func TestRejectFollowsTheCauseMap(t *testing.T) {
	m, err := DefaultCauseMap().With(map[int]int{17: 600, 34: 480}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rj := Reject(pstn.OutcomeBusy, m); rj.Status != 600 || rj.Reason != "Busy Everywhere" {
		t.Errorf("busy with 17→600: %d %q", rj.Status, rj.Reason)
	}
	if rj := Reject(pstn.OutcomeNoCircuit, m); rj.Status != 480 {
		t.Errorf("no circuit with 34→480: %d", rj.Status)
	}
	clearing := CauseMap{toStatus: map[int]int{17: 0}, toCause: map[int]int{}}
	if rj := Reject(pstn.OutcomeBusy, clearing); rj.Status != StatusDefault || rj.Reason != "Temporarily Unavailable" {
		t.Errorf("busy with 17 → BYE/CANCEL: %d %q, want 480", rj.Status, rj.Reason)
	}
}

// TestDraws: the per-call draws are a function of the seed and of the order
// of calls, and accounts are eight digits.
func TestDraws(t *testing.T) {
	a, b := NewDraws(42, nil), NewDraws(42, nil)
	for i := 0; i < 50; i++ {
		acc1, s1 := a.Caller()
		acc2, s2 := b.Caller()
		if acc1 != acc2 || s1 != s2 {
			t.Fatalf("draw %d: (%s, %d) vs (%s, %d) from the same seed", i, acc1, s1, acc2, s2)
		}
		if len(acc1) != 8 || hasNonDigit(acc1) {
			t.Fatalf("account %q: want eight digits", acc1)
		}
		if a.Callee() != b.Callee() {
			t.Fatalf("callee draw %d differs from the same seed", i)
		}
	}
	acc, _ := NewDraws(43, nil).Caller()
	first, _ := NewDraws(42, nil).Caller()
	if acc == first {
		t.Errorf("seeds 42 and 43 drew the same first account %s", acc)
	}
	// With the customers' accounts, callers key those, and the sound seeds
	// are the same draws as without (one draw per account either way).
	accounts := []string{"1001", "1002", "1003"}
	c, plain := NewDraws(42, accounts), NewDraws(42, nil)
	seen := map[string]bool{}
	for i := 0; i < 60; i++ {
		acc, s := c.Caller()
		_, sp := plain.Caller()
		if !slices.Contains(accounts, acc) || s != sp {
			t.Fatalf("draw %d: account %q (want one of %v), sound seed %d vs %d", i, acc, accounts, s, sp)
		}
		seen[acc] = true
	}
	if len(seen) != len(accounts) {
		t.Errorf("60 callers keyed %v of %v", seen, accounts)
	}
}

// hasNonDigit reports whether s has a character other than 0-9.
func hasNonDigit(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return true
		}
	}
	return false
}
