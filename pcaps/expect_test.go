package pcaps

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// expectFile is the part of a fixture's NAME.expect.yaml (written by
// pcaps/internal/mkfixtures from what it wrote, never by decoding) that
// `pcap decode` must reproduce.
type expectFile struct {
	Packets  int     `yaml:"packets"`
	Start    string  `yaml:"start"`
	Duration float64 `yaml:"duration_s"`
	CTI      []struct {
		Client, Server string
		Handshake      bool
		Version        uint32
		VersionSource  string `yaml:"version_source"`
		End            *struct {
			How, From string
			Frame     int
		}
		FromClient int `yaml:"messages_from_client"`
		FromServer int `yaml:"messages_from_server"`
		Messages   []struct {
			Frame      int
			LastFrame  int `yaml:"last_frame"`
			T          float64
			From, Type string
		}
	}
	SIP []struct {
		CallID   string `yaml:"call_id"`
		Messages []struct{ Frame int }
	}
	RTP []struct {
		Src, Dst string
		SSRC     string
		Packets  int
		Lost     int
	}
	Anomalies []struct {
		Kind   string
		Frame  int
		Detail string
	}
}

// TestFixturesMatchExpectations checks `pcap decode` against each fixture's
// independently written facts: every CTI message (frame, time, direction,
// type), the session's endpoints, version and end, the SIP dialogs and RTP
// streams, and the decoder-level anomalies (gaps, resynchronisation, an
// inferred version) as notes at the right frame.
func TestFixturesMatchExpectations(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.expect.yaml")
	if len(files) == 0 {
		t.Skip("no fixtures")
	}
	for _, ef := range files {
		name := strings.TrimSuffix(filepath.Base(ef), ".expect.yaml")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(ef)
			if err != nil {
				t.Fatal(err)
			}
			var e expectFile
			if err := yaml.Unmarshal(raw, &e); err != nil {
				t.Fatal(err)
			}
			c, err := DecodeFile(filepath.Join("testdata", name+".pcapng"), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if c.Packets != e.Packets {
				t.Errorf("packets %d, want %d", c.Packets, e.Packets)
			}
			if len(c.Sessions) != len(e.CTI) {
				t.Fatalf("%d CTI sessions, want %d", len(c.Sessions), len(e.CTI))
			}
			for i, es := range e.CTI {
				s := c.Sessions[i]
				if s.Client.String() != es.Client || s.Server.String() != es.Server {
					t.Errorf("session %d: client %s server %s, want %s %s", s.ID, s.Client, s.Server, es.Client, es.Server)
				}
				if uint32(s.Version) != es.Version {
					t.Errorf("session %d: version %d, want %d", s.ID, s.Version, es.Version)
				}
				if fromOpen := strings.HasPrefix(s.VersionFrom, "OPEN_REQ"); fromOpen != (es.VersionSource == "open_req") {
					t.Errorf("session %d: version from %q, want %s", s.ID, s.VersionFrom, es.VersionSource)
				}
				if (s.RoleFrom == "SYN") != es.Handshake {
					t.Errorf("session %d: roles from %q, handshake in capture %v", s.ID, s.RoleFrom, es.Handshake)
				}
				if es.End != nil {
					switch es.End.How {
					case "open":
						if s.Closed != "" {
							t.Errorf("session %d closed %q, want open", s.ID, s.Closed)
						}
					default:
						want := fmt.Sprintf("%s from %s (frame %d)", strings.ToUpper(es.End.How), es.End.From, es.End.Frame)
						if s.Closed != want {
							t.Errorf("session %d closed %q, want %q", s.ID, s.Closed, want)
						}
					}
				}
				var got, want []string
				for _, m := range s.Messages {
					from := "server"
					if m.FromClient {
						from = "client"
					}
					got = append(got, fmt.Sprintf("f%d %.3f %s %s", m.Frame, m.Time.Sub(c.Start).Seconds(), from, m.Type))
				}
				for _, m := range es.Messages {
					// The frame that completes a message in stream order.
					want = append(want, fmt.Sprintf("f%d %.3f %s %s", max(m.Frame, m.LastFrame), m.T, m.From, m.Type))
				}
				if strings.Join(got, "\n") != strings.Join(want, "\n") {
					for k := 0; k < len(got) || k < len(want); k++ {
						var g, w string
						if k < len(got) {
							g = got[k]
						}
						if k < len(want) {
							w = want[k]
						}
						if g != w {
							t.Errorf("session %d message %d: got %q, want %q", s.ID, k+1, g, w)
							break
						}
					}
				}
			}
			if len(c.Dialogs) < len(e.SIP) {
				t.Errorf("%d SIP dialogs, want at least %d", len(c.Dialogs), len(e.SIP))
			}
			ids := map[string]int{}
			for _, d := range c.Dialogs {
				ids[d.CallID] = len(d.Ladder)
			}
			for _, d := range e.SIP {
				if n, ok := ids[d.CallID]; !ok {
					t.Errorf("SIP dialog %s missing", d.CallID)
				} else if n != len(d.Messages) {
					t.Errorf("SIP dialog %s: %d messages, want %d", d.CallID, n, len(d.Messages))
				}
			}
			for _, r := range e.RTP {
				found := false
				for _, s := range c.RTP {
					if s.Src.String() == r.Src && s.Dst.String() == r.Dst && fmt.Sprintf("0x%08x", s.SSRC) == strings.ToLower(r.SSRC) {
						found = true
						if s.Packets != r.Packets || s.Lost != int64(r.Lost) {
							t.Errorf("RTP %s → %s: %d packets %d lost, want %d %d", r.Src, r.Dst, s.Packets, s.Lost, r.Packets, r.Lost)
						}
					}
				}
				if !found {
					t.Errorf("RTP stream %s → %s SSRC %s not found", r.Src, r.Dst, r.SSRC)
				}
			}
			// Decoder-level anomalies are notes at their frame.
			for _, a := range e.Anomalies {
				var words []string
				switch a.Kind {
				case "tcp-gap":
					words = []string{"bytes missing"}
				case "resync":
					words = []string{"skipped"}
				case "version-inferred":
					if !strings.Contains(c.Sessions[0].VersionFrom, "inferred") {
						t.Errorf("version not reported as inferred: %q", c.Sessions[0].VersionFrom)
					}
					continue
				default:
					continue // the follower's (pcap calls) business
				}
				ok := false
				for _, n := range c.Notes {
					if n.Frame == a.Frame && strings.Contains(n.Text, words[0]) {
						ok = true
					}
				}
				if !ok {
					t.Errorf("anomaly %s at frame %d (%s) not noted; notes:\n%s", a.Kind, a.Frame, a.Detail, notesText(c))
				}
			}
		})
	}
}
