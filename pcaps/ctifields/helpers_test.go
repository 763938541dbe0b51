package ctifields

import (
	"encoding/binary"
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ipcclab/ipcclab/protocol/cti"
)

// vectorDir holds the typed codec's annotated hex vectors; they are read
// in place so both decoders are checked against the same bytes.
const vectorDir = "../../protocol/cti/testdata/vectors"

func vectorFiles(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(vectorDir, "*.hex"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no vectors in %s: %v", vectorDir, err)
	}
	return files
}

func shortName(path string) string { return strings.TrimSuffix(filepath.Base(path), ".hex") }

// parseVectors reads an annotated hex file (protocol/cti/testdata/vectors/
// README.md: hex digits, "text" with \0, # comments, "# pv: N") and
// returns its protocol version and frames.
func parseVectors(t testing.TB, path string) (uint32, [][]byte) {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var pv uint32
	var digits []byte
	for _, line := range strings.Split(string(src), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "# pv:"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				t.Fatalf("%s: bad pv line %q", path, line)
			}
			pv = uint32(n)
			continue
		}
		for i := 0; i < len(line); i++ {
			switch c := line[i]; {
			case c == '#':
				i = len(line)
			case c == '"':
				j := i + 1
				for ; j < len(line) && line[j] != '"'; j++ {
					ch := line[j]
					if ch == '\\' && j+1 < len(line) {
						j++
						if ch = line[j]; ch == '0' {
							ch = 0
						}
					}
					digits = hex.AppendEncode(digits, []byte{ch})
				}
				i = j
			case c == ' ' || c == '\t' || c == '|' || c == '\r':
			default:
				digits = append(digits, c)
			}
		}
	}
	raw, err := hex.DecodeString(string(digits))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var frames [][]byte
	for len(raw) > 0 {
		if len(raw) < cti.HeaderSize {
			t.Fatalf("%s: trailing %d bytes", path, len(raw))
		}
		n := int(binary.BigEndian.Uint32(raw)) + cti.HeaderSize
		if n > len(raw) {
			t.Fatalf("%s: frame %d: length %d but %d bytes left", path, len(frames), n, len(raw))
		}
		frames = append(frames, raw[:n])
		raw = raw[n:]
	}
	return pv, frames
}
