package dissector

import (
	"encoding/xml"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ipcclab/ipcclab/pcaps"
	"github.com/ipcclab/ipcclab/protocol/cti"
)

// pdmlFrames is PDML with each packet's frame number (geninfo.num).
type pdmlFrames struct {
	Packets []struct {
		Protos []pdmlProto `xml:"proto"`
	} `xml:"packet"`
}

// TestTsharkAgreesWithDecodeOnFixtures runs tshark with the generated
// dissector over every fixture capture of pcaps/testdata and checks that
// each GED-188 message tshark shows is, in the same frame and order, a
// message `pcap decode` reports, with the same fields and values. On
// captures without lost or missing bytes tshark must show every message
// decode does; where the capture starts mid-stream or lost a segment,
// Wireshark's reassembly may give up on messages that our resynchronising
// framer recovers, and those are only counted.
func TestTsharkAgreesWithDecodeOnFixtures(t *testing.T) {
	tshark, _, lua := tsharkSetup(t)
	files, _ := filepath.Glob("../testdata/*.pcapng")
	if len(files) == 0 {
		t.Skip("no fixtures")
	}
	m, err := buildModel()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".pcapng")
		t.Run(name, func(t *testing.T) {
			c, err := pcaps.DecodeFile(f, pcaps.Options{})
			if err != nil {
				t.Fatal(err)
			}
			type ours struct {
				msg  *pcaps.Message
				sess *pcaps.Session
			}
			byFrame := map[int][]ours{}
			total, damaged := 0, false
			for _, s := range c.Sessions {
				if s.MissingBytes > 0 || !strings.HasPrefix(s.RoleFrom, "SYN") {
					damaged = true
				}
				for _, msg := range s.Messages {
					byFrame[msg.Frame] = append(byFrame[msg.Frame], ours{msg, s})
					total++
				}
			}
			if total == 0 {
				return
			}
			out := runTshark(t, tshark, "-n", "-X", "lua_script:"+lua, "-r", f, "-T", "pdml")
			if strings.Contains(string(out), "Lua Error") {
				t.Fatalf("Lua error in tshark output")
			}
			var doc pdmlFrames
			if err := xml.Unmarshal(out, &doc); err != nil {
				t.Fatal(err)
			}
			compared, unframed := 0, 0
			used := map[*pcaps.Message]bool{}
			find := func(frame int, mt string, slack int) (ours, bool) {
				for d := 0; d <= slack; d++ {
					for _, f := range []int{frame + d, frame - d} {
						for _, o := range byFrame[f] {
							if !used[o.msg] && o.msg.Type.String() == mt {
								return o, true
							}
						}
					}
				}
				return ours{}, false
			}
			for _, p := range doc.Packets {
				frame := 0
				var pdus [][]pdmlField
				for _, pr := range p.Protos {
					switch pr.Name {
					case "geninfo":
						for _, g := range pr.Fields {
							if g.Name == "num" {
								frame, _ = strconv.Atoi(g.Show)
							}
						}
					case "ged188":
						pdus = append(pdus, flatten(pr.Fields, nil))
					}
				}
				for _, fields := range pdus {
					mt := ""
					for _, f := range fields {
						if f.Name == "ged188.type" {
							mt = f.ShowName
						}
					}
					if mt == "" {
						unframed++ // bytes the dissector skipped while resynchronising
						continue
					}
					// ShowName: "MessageType: NAME (n)".
					if i := strings.Index(mt, ": "); i >= 0 {
						mt = mt[i+2:]
					}
					if i := strings.Index(mt, " ("); i >= 0 {
						mt = mt[:i]
					}
					slack := 0
					if damaged {
						// Wireshark shows an out-of-order segment's message
						// where it arrived; pcap decode where the stream
						// completed it.
						slack = 3
					}
					o, ok := find(frame, mt, slack)
					if !ok {
						t.Errorf("frame %d: tshark shows %s, pcap decode has no such message there", frame, mt)
						continue
					}
					used[o.msg] = true
					compared += compareMessage(t, m, sentMsg{
						session: name + " frame " + strconv.Itoa(frame),
						mt:      uint32(o.msg.Type), pv: uint32(o.sess.Version), body: o.msg.Raw[cti.HeaderSize:],
						inferV: !strings.HasPrefix(o.sess.VersionFrom, "OPEN_REQ"),
					}, fields)
				}
			}
			left := total - len(used)
			if left > 0 && !damaged {
				t.Errorf("%d of %d messages pcap decode reports are not shown by tshark", left, total)
			}
			t.Logf("%d messages (%d not shown by tshark; %d stretches of skipped bytes), %d fields compared", total, left, unframed, compared)
		})
	}
}
