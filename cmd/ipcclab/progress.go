package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// progressBar shows how much of a simulated run's virtual time has run, on
// one terminal line rewritten in place. It redraws only when the whole
// percentage changes, so a long run writes at most a hundred updates.
type progressBar struct {
	w     io.Writer
	width int
	last  int // the percentage drawn last, -1 before the first
}

func newProgressBar(w io.Writer) *progressBar { return &progressBar{w: w, width: 40, last: -1} }

// update is a lab.SimOptions.Progress.
func (b *progressBar) update(done, total time.Duration) {
	if total <= 0 {
		return
	}
	done = min(max(done, 0), total)
	pct := int(100 * done / total)
	if pct == b.last {
		return
	}
	b.last = pct
	n := int(int64(b.width) * int64(done) / int64(total))
	fmt.Fprintf(b.w, "\rsimulating [%s%s] %3d %%  %s of %s virtual time", strings.Repeat("=", n), strings.Repeat(" ", b.width-n),
		pct, clock(done), clock(total))
}

// finish ends the bar's line, if one was drawn; calling it again does
// nothing.
func (b *progressBar) finish() {
	if b.last >= 0 {
		fmt.Fprintln(b.w)
		b.last = -1
	}
}

// clock formats a duration as h:mm.
func clock(d time.Duration) string {
	return fmt.Sprintf("%d:%02d", int(d.Hours()), int(d.Minutes())%60)
}

// isTerminal reports whether w is a terminal: a progress bar there is for a
// person; in a pipe, a file or a CI log its carriage returns are noise.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
