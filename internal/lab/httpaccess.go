package lab

import (
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"

	"github.com/ipcclab/ipcclab/controller/web"
	"github.com/ipcclab/ipcclab/scenarios"
)

// httpToken is the one token of up's HTTP surfaces (the dashboard with the
// desktop, and the campaign API): the one given, else a generated one when
// either is bound off loopback, else none. The two surfaces follow the same
// rule, so a token is never demanded of one flag and generated for the
// other. A malformed address is an error naming its flag.
func httpToken(opts UpOptions) (string, error) {
	need := false
	for _, a := range []struct{ flag, addr string }{{"--http-addr", opts.HTTPAddr}, {"--campaign-addr", opts.CampaignAddr}} {
		if a.addr == "" {
			continue
		}
		n, err := web.NeedsToken(a.addr)
		if err != nil {
			return "", fmt.Errorf("%s: %w", a.flag, err)
		}
		need = need || n
	}
	// A token given for loopback addresses is kept: clients reaching them
	// through a proxy or tunnel present it.
	if !need || opts.HTTPToken != "" {
		return opts.HTTPToken, nil
	}
	return web.NewToken()
}

// browseAddr is a listen address as a client can dial it: a wildcard host
// (0.0.0.0, ::), which no browser can open, becomes hostname (the
// machine's name; 127.0.0.1 when it has none), and wildcard says so, for
// a note that any of the machine's addresses will do.
func browseAddr(listen, hostname string) (addr string, wildcard bool) {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen, false
	}
	if host != "" {
		a, err := netip.ParseAddr(host)
		if err != nil || !a.IsUnspecified() {
			return listen, false
		}
	}
	if hostname == "" {
		hostname = "127.0.0.1"
	}
	return net.JoinHostPort(hostname, port), true
}

// deskAgents lists the agent IDs of the scenario's groups marked desktop:
// true, the only agents the agent desktop may log in (the emulator drives
// the others). Never nil.
func deskAgents(sc *scenarios.Scenario) []string {
	ids := []string{}
	for _, g := range sc.Agents {
		if !g.Desktop {
			continue
		}
		for n := 0; n < g.Count; n++ {
			ids = append(ids, strconv.Itoa(g.FirstAgentID+n))
		}
	}
	return ids
}

// hostname is the machine's name, for the addresses up prints of wildcard
// binds ("" when it has none).
func hostname() string {
	h, _ := os.Hostname()
	return h
}

// printHTTP prints up's HTTP surfaces: the campaign API, the dashboard,
// their token, and for a wildcard bind which host the addresses name
// (host, the machine's name).
func (r *Running) printHTTP(out io.Writer, host string) {
	wildcard := false
	if r.apiAddr != "" {
		a, w := browseAddr(r.apiAddr, host)
		wildcard = wildcard || w
		fmt.Fprintf(out, "  campaign API          http://%s/campaigns/%d   GET, PATCH; POST .../records (text/csv), .../callbacks\n", a, r.camp.id)
	}
	if u, w := r.dashboardURL(host); u != "" {
		wildcard = wildcard || w
		fmt.Fprintf(out, "  dashboard             %s   live; JSON at /api/snapshot, events at /api/events, Prometheus at /metrics\n", u)
		r.printPages(out, host)
	}
	if tok := r.HTTPToken(); tok != "" {
		fmt.Fprintf(out, "  HTTP token            %s   clients off loopback send Authorization: Bearer <token> (pages: ?token=)\n", tok)
	}
	if wildcard {
		if host == "" {
			host = "127.0.0.1"
		}
		fmt.Fprintf(out, "  (bound to every interface: in place of %s, any address of this machine will do)\n", host)
	}
}

// dashboardURL is the dashboard's address for a browser, with the token
// when there is one, a wildcard bind naming host ("" without the
// dashboard).
func (r *Running) dashboardURL(host string) (u string, wildcard bool) {
	if r.HTTPAddr() == "" {
		return "", false
	}
	a, wildcard := browseAddr(r.HTTPAddr(), host)
	u = "http://" + a + "/"
	if tok := r.HTTPToken(); tok != "" {
		u += "?token=" + tok
	}
	return u, wildcard
}
