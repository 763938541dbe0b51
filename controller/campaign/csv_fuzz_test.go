package campaign

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// FuzzImportCSV: any bytes as a call list are imported or refused with a
// reason; nothing panics, every rejected row names a data line (the header
// is line 1), and no row is both imported and rejected (the counts never
// exceed the lines in the file).
func FuzzImportCSV(f *testing.F) {
	if b, err := os.ReadFile(filepath.Join("testdata", "list.csv")); err == nil {
		f.Add(b)
	}
	f.Add([]byte("phone,time_zone,priority\r\n+1 212 555 0100,America/New_York,5\r\n"))
	f.Add([]byte("phone,region\n12125550100,US-NY\n\"unterminated,US-NY\n"))
	f.Add([]byte("\xef\xbb\xbfPhone,Time_Zone,name\n2125550100,Mars/Base,\"a,b\"\n"))
	f.Add([]byte{})
	dir := f.TempDir()
	st, err := Open(filepath.Join(dir, "fuzz.db"), Config{Now: func() time.Time { return time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC) }})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	c, err := st.CreateCampaign(NewCampaign("fuzz", Progressive))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rep, err := st.ImportCSV(c.ID, bytes.NewReader(data))
		if err != nil {
			if err.Error() == "" {
				t.Fatal("an error without a message")
			}
			return
		}
		lines := strings.Count(string(data), "\n") + 1
		if rep.Imported < 0 || rep.Imported+len(rep.Rejected) > lines {
			t.Fatalf("%d imported + %d rejected from %d lines", rep.Imported, len(rep.Rejected), lines)
		}
		for _, r := range rep.Rejected {
			if r.Line < 2 || r.Reason == "" {
				t.Fatalf("rejected row %+v: want a data line and a reason", r)
			}
		}
	})
}
