package callmanager

import (
	"fmt"
	"net/netip"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)

var phoneSrc = netip.MustParseAddrPort("10.0.0.5:5060")

func contactOf(ext string, port int) string {
	return fmt.Sprintf("sip:%s@10.0.0.5:%d", ext, port)
}

func TestRegistrarUnknownLineRefused(t *testing.T) {
	r := NewRegistrar(RegistrarConfig{Lines: []string{"2001", "2002"}})
	cases := []struct {
		ext     string
		expires time.Duration
		wantErr bool
	}{
		{"9999", time.Hour, true},
		{"", time.Hour, true},
		{"20011", time.Hour, true}, // not a prefix match
		{"9999", 0, true},          // unregistering an unknown line is refused too
		{"2001", time.Hour, false},
	}
	var refused, accepted uint64
	for _, c := range cases {
		err := r.Register(t0, c.ext, contactOf(c.ext, 5060), phoneSrc, c.expires)
		if (err != nil) != c.wantErr {
			t.Fatalf("Register(%q, %v): err %v, want error %v", c.ext, c.expires, err, c.wantErr)
		}
		if c.wantErr {
			refused++
			if _, ok := r.Lookup(t0, c.ext); ok {
				t.Fatalf("refused line %q has a binding", c.ext)
			}
		} else {
			accepted++
		}
		if r.Refused != refused || r.Accepted != accepted {
			t.Fatalf("after %q: refused %d accepted %d, want %d %d", c.ext, r.Refused, r.Accepted, refused, accepted)
		}
	}
	if r.Limited != 0 {
		t.Fatalf("Register counted as limited: %d", r.Limited)
	}
}

func TestRegistrarRegisterLookupExpiry(t *testing.T) {
	r := NewRegistrar(RegistrarConfig{Lines: []string{"2001", "2002"}})
	if err := r.Register(t0, "2001", contactOf("2001", 5090), phoneSrc, time.Hour); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		at   time.Duration
		live bool
	}{
		{0, true},
		{time.Minute, true},
		{time.Hour - time.Nanosecond, true},
		{time.Hour, false}, // gone at Expires exactly
		{2 * time.Hour, false},
	}
	for _, s := range steps {
		b, ok := r.Lookup(t0.Add(s.at), "2001")
		if ok != s.live {
			t.Fatalf("Lookup at +%v: live %v, want %v", s.at, ok, s.live)
		}
		if ok {
			want := Binding{Extension: "2001", Contact: contactOf("2001", 5090), Source: phoneSrc, Expires: t0.Add(time.Hour)}
			if b != want {
				t.Fatalf("binding %+v, want %+v", b, want)
			}
		} else if b != (Binding{}) {
			t.Fatalf("dead lookup returned %+v", b)
		}
		if n := len(r.Bindings(t0.Add(s.at))); (n == 1) != s.live {
			t.Fatalf("Bindings at +%v: %d", s.at, n)
		}
	}
	if _, ok := r.Lookup(t0, "2002"); ok {
		t.Fatal("unregistered line 2002 has a binding")
	}
	// Registering again after expiry brings it back.
	later := t0.Add(3 * time.Hour)
	if err := r.Register(later, "2001", contactOf("2001", 5090), phoneSrc, time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, ok := r.Lookup(later.Add(59*time.Second), "2001"); !ok {
		t.Fatal("re-registered binding missing")
	}
}

func TestRegistrarExpiresZeroRemoves(t *testing.T) {
	for _, exp := range []time.Duration{0, -time.Second} {
		t.Run(exp.String(), func(t *testing.T) {
			r := NewRegistrar(RegistrarConfig{Lines: []string{"2001"}})
			if err := r.Register(t0, "2001", contactOf("2001", 5090), phoneSrc, time.Hour); err != nil {
				t.Fatal(err)
			}
			if err := r.Register(t0.Add(time.Second), "2001", "*", phoneSrc, exp); err != nil {
				t.Fatal(err)
			}
			if b, ok := r.Lookup(t0.Add(time.Second), "2001"); ok {
				t.Fatalf("binding survives expires %v: %+v", exp, b)
			}
			if bs := r.Bindings(t0.Add(time.Second)); len(bs) != 0 {
				t.Fatalf("Bindings %+v", bs)
			}
			// Removing what is not there is fine.
			if err := r.Register(t0.Add(2*time.Second), "2001", "*", phoneSrc, exp); err != nil {
				t.Fatal(err)
			}
			if r.Accepted != 3 || r.Refused != 0 {
				t.Fatalf("accepted %d refused %d", r.Accepted, r.Refused)
			}
		})
	}
}

func TestRegistrarReRegisterReplacesContact(t *testing.T) {
	r := NewRegistrar(RegistrarConfig{Lines: []string{"2001"}})
	other := netip.MustParseAddrPort("10.0.0.9:5062")
	_ = r.Register(t0, "2001", contactOf("2001", 5090), phoneSrc, time.Hour)
	if err := r.Register(t0.Add(time.Minute), "2001", "sip:2001@10.0.0.9:5062", other, 10*time.Minute); err != nil {
		t.Fatal(err)
	}
	b, ok := r.Lookup(t0.Add(2*time.Minute), "2001")
	if !ok {
		t.Fatal("binding missing")
	}
	want := Binding{Extension: "2001", Contact: "sip:2001@10.0.0.9:5062", Source: other, Expires: t0.Add(11 * time.Minute)}
	if b != want {
		t.Fatalf("binding %+v, want %+v", b, want)
	}
	// The new, shorter expiry applies (not the old hour).
	if _, ok := r.Lookup(t0.Add(11*time.Minute), "2001"); ok {
		t.Fatal("re-registration kept the old expiry")
	}
	if n := len(r.Bindings(t0.Add(2 * time.Minute))); n != 1 {
		t.Fatalf("%d bindings for one line", n)
	}
}

func TestRegistrarBindingsSorted(t *testing.T) {
	lines := []string{"3001", "1001", "2001", "1002", "2500"}
	r := NewRegistrar(RegistrarConfig{Lines: lines})
	exp := map[string]time.Duration{"3001": time.Hour, "1001": time.Hour, "2001": time.Minute, "1002": time.Hour, "2500": time.Hour}
	for _, l := range lines {
		if err := r.Register(t0, l, contactOf(l, 5090), phoneSrc, exp[l]); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		at   time.Duration
		want []string
	}{
		{0, []string{"1001", "1002", "2001", "2500", "3001"}},
		{2 * time.Minute, []string{"1001", "1002", "2500", "3001"}}, // 2001 expired
	}
	for _, c := range cases {
		for i := 0; i < 20; i++ { // map order varies: sort must not depend on it
			bs := r.Bindings(t0.Add(c.at))
			var got []string
			for _, b := range bs {
				got = append(got, b.Extension)
			}
			if fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Fatalf("Bindings at +%v: %v, want %v", c.at, got, c.want)
			}
		}
	}
}

// allowN calls Allow n times at now from src and counts the accepted.
func allowN(r *Registrar, now time.Time, src netip.Addr, n int) int {
	ok := 0
	for i := 0; i < n; i++ {
		if r.Allow(now, src) {
			ok++
		}
	}
	return ok
}

func TestRegistrarPerSourceBurstAndRefill(t *testing.T) {
	r := NewRegistrar(RegistrarConfig{SourceRate: 2, SourceBurst: 5, Rate: 1000, Burst: 1000})
	a := netip.MustParseAddr("10.0.0.1")
	b := netip.MustParseAddr("10.0.0.2")
	steps := []struct {
		name string
		at   time.Duration
		src  netip.Addr
		n    int
		want int // accepted
	}{
		{"burst from a", 0, a, 8, 5},
		{"a refused at once", 0, a, 1, 0},
		{"b has its own bucket", 0, b, 6, 5},
		{"a after 250ms: half a token", 250 * time.Millisecond, a, 1, 0},
		{"a after 500ms: one token", 500 * time.Millisecond, a, 3, 1},
		{"a after 1.5s: two more", 1500 * time.Millisecond, a, 3, 2},
		{"a idle for a minute: refilled to burst only", 61500 * time.Millisecond, a, 10, 5},
	}
	limited := uint64(0)
	for _, s := range steps {
		got := allowN(r, t0.Add(s.at), s.src, s.n)
		if got != s.want {
			t.Fatalf("%s: %d accepted, want %d", s.name, got, s.want)
		}
		limited += uint64(s.n - s.want)
		if r.Limited != limited {
			t.Fatalf("%s: Limited %d, want %d", s.name, r.Limited, limited)
		}
	}
}

func TestRegistrarGlobalLimit(t *testing.T) {
	r := NewRegistrar(RegistrarConfig{Rate: 10, Burst: 20, SourceRate: 100, SourceBurst: 100})
	src := func(i int) netip.Addr { return netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}) }
	// 50 sources, one REGISTER each: only the global burst gets through.
	ok := 0
	for i := 0; i < 50; i++ {
		if r.Allow(t0, src(i)) {
			ok++
		}
	}
	if ok != 20 || r.Limited != 30 {
		t.Fatalf("storm: %d accepted, %d limited; want 20, 30", ok, r.Limited)
	}
	// A second later: 10 more tokens, whoever asks.
	ok = 0
	for i := 100; i < 150; i++ {
		if r.Allow(t0.Add(time.Second), src(i)) {
			ok++
		}
	}
	if ok != 10 {
		t.Fatalf("after 1s: %d accepted, want 10", ok)
	}
	// A single quiet source is not limited by its own bucket but by the
	// global one once the storm drained it.
	if r.Allow(t0.Add(time.Second), src(1)) {
		t.Fatal("global bucket empty but a REGISTER was allowed")
	}
	if !r.Allow(t0.Add(time.Second+100*time.Millisecond), src(1)) {
		t.Fatal("global bucket refilled by one token but the REGISTER was refused")
	}
}

func TestRegistrarDefaults(t *testing.T) {
	r := NewRegistrar(RegistrarConfig{})
	// Default per-source burst 400 and global burst 400: our own phones
	// registering at start from one address all get through.
	one := netip.MustParseAddr("127.0.0.1")
	if got := allowN(r, t0, one, 400); got != 400 {
		t.Fatalf("defaults: %d of 400 accepted from one source", got)
	}
	if r.Allow(t0, one) {
		t.Fatal("401st REGISTER in the same instant allowed")
	}
}

// TestRegistrarPerSourceMapBounded: a scan from many addresses must not make
// the per-source table grow without bound.
func TestRegistrarPerSourceMapBounded(t *testing.T) {
	src := func(i int) netip.Addr {
		return netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
	}
	t.Run("idle sources are forgotten", func(t *testing.T) {
		r := NewRegistrar(RegistrarConfig{})
		// 20,000 sources, one REGISTER each, spread over 200 s (100/s):
		// any source idle for more than 10 s may be dropped, so the table
		// stays near 4096 at most.
		const n = 20000
		for i := 0; i < n; i++ {
			r.Allow(t0.Add(time.Duration(i)*10*time.Millisecond), src(i))
			if len(r.perSource) > 4097 {
				t.Fatalf("after %d sources the per-source table holds %d", i+1, len(r.perSource))
			}
		}
	})
	t.Run("storm within seconds", func(t *testing.T) {
		r := NewRegistrar(RegistrarConfig{})
		// 8,000 spoofed sources within 0.8 s (a scanner or a reflected
		// flood): none is idle for 10 s, so eviction by idleness alone
		// would keep every one of them; the table stays bounded and new
		// sources share an overflow bucket.
		const n = 8000
		for i := 0; i < n; i++ {
			r.Allow(t0.Add(time.Duration(i)*100*time.Microsecond), src(i))
		}
		if len(r.perSource) > maxSources {
			t.Fatalf("per-source table grew to %d entries for %d sources within %v", len(r.perSource), n, time.Duration(n)*100*time.Microsecond)
		}
		// The overflow sources share one bucket: the flood is limited.
		if r.Limited == 0 {
			t.Errorf("no REGISTER of the flood was limited")
		}
	})
}
