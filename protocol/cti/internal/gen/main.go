// Command gen writes the generated sources of package cti (run it from
// the package directory: go generate ./protocol/cti).
package main

import (
	"flag"
	"log"
	"os"
	"path/filepath"

	"github.com/ipcclab/ipcclab/protocol/cti/internal/codegen"
)

func main() {
	dir := flag.String("dir", ".", "output directory (the cti package)")
	flag.Parse()
	files, err := codegen.Files()
	if err != nil {
		log.Fatal(err)
	}
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(*dir, name), src, 0o644); err != nil {
			log.Fatal(err)
		}
	}
}
