package pcaps

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden outputs of the fixture captures")

// TestFixturesDecodeGolden decodes every fixture capture in testdata and
// compares the text and JSON output with the golden files next to it
// (testdata/golden/NAME.decode.txt, NAME.decode.jsonl). `go test
// ./pcaps -run Golden -update` rewrites them; review the diff.
func TestFixturesDecodeGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.pcapng")
	more, _ := filepath.Glob("testdata/*.pcap")
	files = append(files, more...)
	if len(files) == 0 {
		t.Skip("no fixture captures in testdata")
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), filepath.Ext(f))
		t.Run(name, func(t *testing.T) {
			c, err := DecodeFile(f, Options{})
			if err != nil {
				t.Fatal(err)
			}
			var text, js bytes.Buffer
			if err := c.WriteText(&text); err != nil {
				t.Fatal(err)
			}
			if err := c.WriteJSON(&js); err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("testdata", "golden", name+".decode.txt"), text.Bytes())
			golden(t, filepath.Join("testdata", "golden", name+".decode.jsonl"), js.Bytes())
		})
	}
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := 0; i < len(gl) || i < len(wl); i++ {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("%s differs at line %d:\n got: %s\nwant: %s\n(run with -update after checking the change)", path, i+1, g, w)
			}
		}
	}
}
