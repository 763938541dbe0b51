package callmanager

import (
	"fmt"
	"net/netip"
	"sort"
	"time"
)

// maxSources bounds the per-source rate table.
const maxSources = 4096

// Binding is where a directory number's phone is registered.
type Binding struct {
	Extension string
	// Contact is the phone's SIP URI ("sip:1001@127.0.0.1:5090").
	Contact string
	Source  netip.AddrPort
	Expires time.Time
}

// Registrar holds the phones' registrations (RFC 3261 §10) and limits how
// fast it accepts REGISTERs: a registration storm (a fleet of phones
// rebooting at once, or a scanner) is answered 503 with Retry-After instead
// of starving call signalling. It is pure: time comes in as an argument.
type Registrar struct {
	lines map[string]bool
	binds map[string]Binding
	// Token bucket: rate per second, burst.
	rate, burst float64
	tokens      float64
	last        time.Time
	// per-source buckets keep one noisy host from using the whole budget.
	perSource map[netip.Addr]*bucket
	srcRate   float64
	srcBurst  float64
	overflow  bucket
	swept     time.Time

	Accepted, Refused, Limited uint64
}

type bucket struct {
	tokens float64
	last   time.Time
}

// RegistrarConfig configures the registrar.
type RegistrarConfig struct {
	// Lines are the directory numbers that may register.
	Lines []string
	// Rate and Burst bound REGISTERs per second over all sources
	// (default 200/s, burst 400); SourceRate and SourceBurst per source
	// address (default 50/s, burst 400 — our own phones register from one
	// address at start).
	Rate, Burst             float64
	SourceRate, SourceBurst float64
}

// NewRegistrar builds a registrar for the given lines.
func NewRegistrar(cfg RegistrarConfig) *Registrar {
	r := &Registrar{lines: map[string]bool{}, binds: map[string]Binding{}, perSource: map[netip.Addr]*bucket{},
		rate: cfg.Rate, burst: cfg.Burst, srcRate: cfg.SourceRate, srcBurst: cfg.SourceBurst}
	if r.rate <= 0 {
		r.rate = 200
	}
	if r.burst <= 0 {
		r.burst = 400
	}
	if r.srcRate <= 0 {
		r.srcRate = 50
	}
	if r.srcBurst <= 0 {
		r.srcBurst = 400
	}
	r.tokens = r.burst
	r.overflow.tokens = r.srcBurst
	for _, l := range cfg.Lines {
		r.lines[l] = true
	}
	return r
}

func take(tokens *float64, last *time.Time, now time.Time, rate, burst float64) bool {
	if !last.IsZero() {
		*tokens += now.Sub(*last).Seconds() * rate
		if *tokens > burst {
			*tokens = burst
		}
	}
	*last = now
	if *tokens < 1 {
		return false
	}
	*tokens--
	return true
}

// Allow spends a token for a REGISTER from src; false means answer 503.
func (r *Registrar) Allow(now time.Time, src netip.Addr) bool {
	b := r.perSource[src]
	if b == nil {
		if len(r.perSource) >= maxSources {
			// A flood from many addresses (a scanner, spoofed UDP) must
			// not grow the table or the time per REGISTER: once it is
			// full, new sources share one overflow bucket until the
			// table is swept, at most once a second.
			if now.Sub(r.swept) >= time.Second {
				r.swept = now
				for k, v := range r.perSource {
					if now.Sub(v.last) > 10*time.Second {
						delete(r.perSource, k)
					}
				}
			}
		}
		if len(r.perSource) >= maxSources {
			b = &r.overflow
		} else {
			b = &bucket{tokens: r.srcBurst}
			r.perSource[src] = b
		}
	}
	if !take(&b.tokens, &b.last, now, r.srcRate, r.srcBurst) || !take(&r.tokens, &r.last, now, r.rate, r.burst) {
		r.Limited++
		return false
	}
	return true
}

// Register binds ext to contact until now+expires; expires 0 removes the
// binding. Unknown directory numbers are refused (404).
func (r *Registrar) Register(now time.Time, ext, contact string, src netip.AddrPort, expires time.Duration) error {
	if !r.lines[ext] {
		r.Refused++
		return fmt.Errorf("directory number %q is not a line on this CallManager", ext)
	}
	r.Accepted++
	if expires <= 0 {
		delete(r.binds, ext)
		return nil
	}
	r.binds[ext] = Binding{Extension: ext, Contact: contact, Source: src, Expires: now.Add(expires)}
	return nil
}

// Lookup returns the live binding of ext.
func (r *Registrar) Lookup(now time.Time, ext string) (Binding, bool) {
	b, ok := r.binds[ext]
	if !ok || !now.Before(b.Expires) {
		return Binding{}, false
	}
	return b, true
}

// Bindings lists the live bindings by extension.
func (r *Registrar) Bindings(now time.Time) []Binding {
	var out []Binding
	for _, b := range r.binds {
		if now.Before(b.Expires) {
			out = append(out, b)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Extension < out[j].Extension })
	return out
}
