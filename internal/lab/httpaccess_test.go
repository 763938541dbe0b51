package lab

import (
	"bytes"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// One token rule for the dashboard and the campaign API: the one given,
// else generated when either is off loopback, else none.
func TestHTTPTokenOneRuleForBoth(t *testing.T) {
	hex32 := regexp.MustCompile(`^[0-9a-f]{32}$`)
	for _, tc := range []struct {
		name              string
		http, camp, token string
		want              string // "generated": 32 hex digits
		wantErr           string
	}{
		{"both on loopback", "127.0.0.1:8080", "127.0.0.1:8081", "", "", ""},
		{"nothing served", "", "", "", "", ""},
		{"dashboard off loopback", "0.0.0.0:8080", "", "", "generated", ""},
		{"campaign API off loopback", "127.0.0.1:8080", "0.0.0.0:8081", "", "generated", ""},
		{"campaign API alone on every IPv6 interface", "", "[::]:8081", "", "generated", ""},
		{"campaign API on a host name", "", "ccx.example:8081", "", "generated", ""},
		{"given and needed", "0.0.0.0:8080", "0.0.0.0:8081", "s3cret", "s3cret", ""},
		{"given on loopback is kept", "127.0.0.1:8080", "", "s3cret", "s3cret", ""},
		{"bad dashboard address", "127.0.0.1", "", "", "", `--http-addr: web: listen address "127.0.0.1"`},
		{"bad campaign address", "127.0.0.1:0", "8081", "", "", `--campaign-addr: web: listen address "8081"`},
	} {
		got, err := httpToken(UpOptions{HTTPAddr: tc.http, CampaignAddr: tc.camp, HTTPToken: tc.token})
		switch {
		case tc.wantErr != "":
			if err == nil || !strings.HasPrefix(err.Error(), tc.wantErr) {
				t.Errorf("%s: %q, %v; want the error %q", tc.name, got, err, tc.wantErr)
			}
		case err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want == "generated" && !hex32.MatchString(got):
			t.Errorf("%s: token %q, want a generated one", tc.name, got)
		case tc.want != "generated" && got != tc.want:
			t.Errorf("%s: token %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestBrowseAddrNamesAHostForWildcards(t *testing.T) {
	for _, tc := range []struct {
		listen, hostname, want string
		wildcard               bool
	}{
		{"127.0.0.1:8080", "pbx1", "127.0.0.1:8080", false},
		{"192.0.2.10:8080", "pbx1", "192.0.2.10:8080", false},
		{"[::1]:8080", "pbx1", "[::1]:8080", false},
		{"0.0.0.0:18183", "pbx1", "pbx1:18183", true},
		{"[::]:18183", "pbx1", "pbx1:18183", true},
		{":18183", "pbx1", "pbx1:18183", true},
		{"[::]:18183", "", "127.0.0.1:18183", true},
		{"ccx.example:80", "pbx1", "ccx.example:80", false},
		{"not an address", "pbx1", "not an address", false},
	} {
		got, wild := browseAddr(tc.listen, tc.hostname)
		if got != tc.want || wild != tc.wildcard {
			t.Errorf("browseAddr(%q, %q) = %q, %v; want %q, %v", tc.listen, tc.hostname, got, wild, tc.want, tc.wildcard)
		}
	}
}

// What up prints of its HTTP surfaces: usable addresses (no [::]), the
// one token once, and a note for a wildcard bind.
func TestPrintHTTP(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    *Running
		host string
		want string
	}{
		{"loopback, no token", &Running{live: &liveInfo{httpAddr: "127.0.0.1:8080"}}, "pbx1",
			"  dashboard             http://127.0.0.1:8080/   live; JSON at /api/snapshot, events at /api/events, Prometheus at /metrics\n"},
		{"both on every interface", &Running{apiAddr: "[::]:18184", camp: &labCampaign{id: 3}, live: &liveInfo{httpAddr: "[::]:18183", token: "T0K"}}, "pbx1",
			"  campaign API          http://pbx1:18184/campaigns/3   GET, PATCH; POST .../records (text/csv), .../callbacks\n" +
				"  dashboard             http://pbx1:18183/?token=T0K   live; JSON at /api/snapshot, events at /api/events, Prometheus at /metrics\n" +
				"  HTTP token            T0K   clients off loopback send Authorization: Bearer <token> (pages: ?token=)\n" +
				"  (bound to every interface: in place of pbx1, any address of this machine will do)\n"},
		{"campaign API alone, no host name", &Running{apiAddr: "0.0.0.0:18184", camp: &labCampaign{id: 1}, live: &liveInfo{token: "T0K"}}, "",
			"  campaign API          http://127.0.0.1:18184/campaigns/1   GET, PATCH; POST .../records (text/csv), .../callbacks\n" +
				"  HTTP token            T0K   clients off loopback send Authorization: Bearer <token> (pages: ?token=)\n" +
				"  (bound to every interface: in place of 127.0.0.1, any address of this machine will do)\n"},
	} {
		var b bytes.Buffer
		tc.r.printHTTP(&b, tc.host)
		if b.String() != tc.want {
			t.Errorf("%s:\n%s\nwant\n%s", tc.name, b.String(), tc.want)
		}
	}
}

func TestDeskAgentsAreTheDesktopGroups(t *testing.T) {
	sc := defaultScenario(t)
	if got := deskAgents(sc); got == nil || len(got) != 0 {
		t.Errorf("default scenario (no desktop group): %#v, want an empty list", got)
	}
	sc.Agents[1].Desktop = true
	sc.Agents[1].Count = 3
	first := sc.Agents[1].FirstAgentID
	want := []string{strconv.Itoa(first), strconv.Itoa(first + 1), strconv.Itoa(first + 2)}
	if got := deskAgents(sc); !slices.Equal(got, want) {
		t.Errorf("group %s marked desktop: %v, want %v", sc.Agents[1].Name, got, want)
	}
}
