package campaign

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// mustPacing loads the campaign's pacing state and fails unless there is one.
func mustPacing(t *testing.T, s *Store, id int64) ([]byte, time.Time) {
	t.Helper()
	state, at, ok, err := s.Pacing(id)
	if err != nil || !ok {
		t.Fatalf("Pacing(%d): ok=%v %v", id, ok, err)
	}
	return state, at
}

// The latest state comes back with its time to the millisecond (times are
// stored as Unix milliseconds), and a save replaces the one before.
func TestPacingRoundTripKeepsTheLatest(t *testing.T) {
	s, _ := openTest(t, t0)
	c := mustCampaign(t, s, NewCampaign("c", Predictive))
	other := mustCampaign(t, s, NewCampaign("other", Predictive))
	if state, at, ok, err := s.Pacing(c.ID); err != nil || ok || state != nil || !at.IsZero() {
		t.Fatalf("before any save: %q %v ok=%v %v", state, at, ok, err)
	}
	first := t0.Add(1500*time.Microsecond + 7)
	if err := s.SavePacing(c.ID, first, []byte(`{"answer_rate":0.31}`)); err != nil {
		t.Fatal(err)
	}
	state, at := mustPacing(t, s, c.ID)
	if string(state) != `{"answer_rate":0.31}` || !at.Equal(first.Truncate(time.Millisecond)) {
		t.Errorf("round trip: %q at %v, want the state at %v", state, at, first.Truncate(time.Millisecond))
	}
	second := t0.Add(time.Minute)
	if err := s.SavePacing(c.ID, second, []byte(`{"answer_rate":0.28}`)); err != nil {
		t.Fatal(err)
	}
	if state, at := mustPacing(t, s, c.ID); string(state) != `{"answer_rate":0.28}` || !at.Equal(second) {
		t.Errorf("after the second save: %q at %v, want the second state at %v", state, at, second)
	}
	if _, _, ok, err := s.Pacing(other.ID); ok || err != nil {
		t.Errorf("another campaign's state: ok=%v %v, want none", ok, err)
	}
}

func TestSavePacingRefuses(t *testing.T) {
	s, _ := openTest(t, t0)
	c := mustCampaign(t, s, NewCampaign("c", Predictive))
	if err := s.SavePacing(c.ID, t0, []byte("kept")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		id       int64
		state    []byte
		notFound bool
		want     []string // in the error
	}{
		{"unknown campaign", c.ID + 100, []byte("x"), true, []string{fmt.Sprint("campaign ", c.ID+100)}},
		{"nil state", c.ID, nil, false, []string{fmt.Sprint("campaign ", c.ID), "nothing to save"}},
		{"empty state", c.ID, []byte{}, false, []string{fmt.Sprint("campaign ", c.ID), "nothing to save"}},
		{"oversized state", c.ID, make([]byte, MaxPacingState+1), false, []string{fmt.Sprint("campaign ", c.ID), "4194305 bytes", "limit 4194304"}},
	} {
		err := s.SavePacing(tc.id, t0.Add(time.Hour), tc.state)
		if err == nil {
			t.Errorf("%s: saved", tc.name)
			continue
		}
		if errors.Is(err, ErrNotFound) != tc.notFound {
			t.Errorf("%s: %v, want ErrNotFound %v", tc.name, err, tc.notFound)
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q does not say %q", tc.name, err, w)
			}
		}
	}
	if state, at := mustPacing(t, s, c.ID); string(state) != "kept" || !at.Equal(t0) {
		t.Errorf("a refused save changed the state: %q at %v", state, at)
	}
	if _, _, _, err := s.Pacing(c.ID + 100); !errors.Is(err, ErrNotFound) {
		t.Errorf("Pacing of an unknown campaign: %v", err)
	}
	// The limit itself is allowed.
	if err := s.SavePacing(c.ID, t0, bytes.Repeat([]byte("a"), MaxPacingState)); err != nil {
		t.Errorf("a state of exactly MaxPacingState: %v", err)
	}
	if state, _ := mustPacing(t, s, c.ID); len(state) != MaxPacingState {
		t.Errorf("%d bytes back, want %d", len(state), MaxPacingState)
	}
}

// The state goes with its campaign: the storage keeps no row behind.
func TestDeleteCampaignRemovesPacing(t *testing.T) {
	s, _ := openTest(t, t0)
	c := mustCampaign(t, s, NewCampaign("c", Predictive))
	if err := s.SavePacing(c.ID, t0, []byte("{}")); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteCampaign(c.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := s.Pacing(c.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("Pacing of a deleted campaign: %v", err)
	}
	var ok bool
	s.view(func(tx txn) (err error) {
		_, _, ok, err = tx.pacing(c.ID)
		return err
	})
	if ok {
		t.Error("the deleted campaign's pacing state is still stored")
	}
	// A new campaign (SQLite may give it the same ID) starts with none.
	n := mustCampaign(t, s, NewCampaign("new", Predictive))
	if _, _, ok, err := s.Pacing(n.ID); ok || err != nil {
		t.Errorf("a new campaign's state: ok=%v %v, want none", ok, err)
	}
}

// The store keeps its own copy: the caller may reuse the slice it saved,
// and may change the one it loaded.
func TestPacingStateIsCopied(t *testing.T) {
	s, _ := openTest(t, t0)
	c := mustCampaign(t, s, NewCampaign("c", Predictive))
	buf := []byte(`{"abandons":3}`)
	if err := s.SavePacing(c.ID, t0, buf); err != nil {
		t.Fatal(err)
	}
	copy(buf, "XXXXXXXX")
	state, _ := mustPacing(t, s, c.ID)
	if string(state) != `{"abandons":3}` {
		t.Errorf("after the caller reused its slice: %q", state)
	}
	copy(state, "YYYYYYYY")
	if again, _ := mustPacing(t, s, c.ID); string(again) != `{"abandons":3}` {
		t.Errorf("after the caller changed the loaded slice: %q", again)
	}
}

// A restarted controller finds the state its predecessor saved.
func TestPacingSurvivesReopen(t *testing.T) {
	if memoryMode() {
		t.Skip("SQLite only: memory keeps nothing after Close")
	}
	path := filepath.Join(t.TempDir(), "campaign.db")
	s, err := Open(path, Config{Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	c := mustCampaign(t, s, NewCampaign("c", Predictive))
	at := t0.Add(2*time.Hour + 999*time.Microsecond)
	if err := s.SavePacing(c.ID, at, []byte(`{"model":[1,2,3]}`)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(path, Config{Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if state, got := mustPacing(t, s, c.ID); string(state) != `{"model":[1,2,3]}` || !got.Equal(at.Truncate(time.Millisecond)) {
		t.Errorf("after reopening: %q at %v, want the saved state at %v", state, got, at.Truncate(time.Millisecond))
	}
}
