package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

// The per-fixture paragraphs of testdata/README.md are written from the
// .expect.yaml files, between these markers, so that the frame numbers
// and times in the prose are the ones in the captures; the rest of the
// README is prose kept by hand.
const (
	readmeBegin = "<!-- fixtures:begin (written by go run ./pcaps/internal/mkfixtures; edit the generator, not this part) -->"
	readmeEnd   = "<!-- fixtures:end -->"
)

// updateReadme rewrites the generated part of dir/README.md from the
// .expect.yaml files in dir. A directory without a README (a test's
// temporary directory) is left alone.
func updateReadme(dir string) error {
	path := filepath.Join(dir, "README.md")
	old, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	xs, err := readExpectations(dir)
	if err != nil {
		return err
	}
	text, err := spliceReadme(string(old), renderFixtures(xs))
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return os.WriteFile(path, []byte(text), 0o644)
}

// readExpectations loads the expectations of every fixture present in dir,
// in the generator's order.
func readExpectations(dir string) ([]*Expect, error) {
	var xs []*Expect
	for _, f := range fixtures {
		b, err := os.ReadFile(filepath.Join(dir, f.name+".expect.yaml"))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		var x Expect
		if err := yaml.Unmarshal(b, &x); err != nil {
			return nil, fmt.Errorf("%s.expect.yaml: %w", f.name, err)
		}
		xs = append(xs, &x)
	}
	return xs, nil
}

// spliceReadme replaces what lies between the markers.
func spliceReadme(doc, section string) (string, error) {
	i := strings.Index(doc, readmeBegin)
	j := strings.Index(doc, readmeEnd)
	if i < 0 || j < i {
		return "", fmt.Errorf("no %q … %q markers to write the fixture paragraphs between", readmeBegin, readmeEnd)
	}
	return doc[:i+len(readmeBegin)] + "\n" + section + doc[j:], nil
}

// renderFixtures writes one paragraph per fixture: what it contains and what
// pcap decode and pcap calls must report.
func renderFixtures(xs []*Expect) string {
	var b strings.Builder
	for _, x := range xs {
		fmt.Fprintf(&b, "\n### %s\n\n", x.File)
		src := x.Origin
		switch {
		case x.Scenario != "" && x.Seed != 0:
			src += fmt.Sprintf(", %s seed %d", x.Scenario, x.Seed)
		case x.Scenario != "":
			src += ", " + x.Scenario
		}
		fmt.Fprintf(&b, "*%s — %d packets, %s s; facts in `%s.expect.yaml`.*\n\n", src, x.Packets, x.Duration, x.Name)
		b.WriteString(x.Summary + "\n\n")
		for _, d := range x.Decode {
			fmt.Fprintf(&b, "- `pcap decode`: %s\n", d)
		}
		for _, c := range x.Calls {
			fmt.Fprintf(&b, "- `pcap calls`: %s\n", c)
		}
		if len(x.Anomalies) == 0 {
			b.WriteString("- anomalies: none\n")
		}
		for _, a := range x.Anomalies {
			fmt.Fprintf(&b, "- anomaly `%s` at frame %d (t=%s)", a.Kind, a.Frame, a.T)
			if len(a.Frames) > 0 {
				var fs []string
				for _, f := range a.Frames {
					fs = append(fs, fmt.Sprint(f))
				}
				fmt.Fprintf(&b, ", with frames %s", strings.Join(fs, ", "))
			}
			fmt.Fprintf(&b, ": %s\n", a.Detail)
		}
		for _, m := range x.Unconfirmed {
			fmt.Fprintf(&b, "- unconfirmed: %s InvokeID %d at frame %d\n", m.Type, m.Invoke, m.Frame)
		}
		for _, n := range x.Notes {
			fmt.Fprintf(&b, "- note: %s\n", n)
		}
	}
	b.WriteString("\n")
	return b.String()
}
