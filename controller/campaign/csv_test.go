package campaign

import (
	"bytes"
	"os"
	"reflect"
	"strings"
	"testing"
)

func TestImportCSVFixture(t *testing.T) {
	raw, err := os.ReadFile("testdata/list.csv")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Count(raw, []byte("\r\n")) != 14 || bytes.Count(raw, []byte("\n")) != 14 {
		t.Fatal("testdata/list.csv must have 14 CRLF-terminated lines (check .gitattributes)")
	}
	s, _ := openTest(t, t0)
	c := mustCampaign(t, s, NewCampaign("fixture", Progressive))
	for _, e := range []string{"12025550199", "1617555*"} {
		d, err := ParseDNC(e)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.AddDNC(d); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := s.ImportCSV(c.ID, bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	want := Report{
		Imported: 6,
		Rejected: []RowError{
			{4, `bad phone "1415555O101": only digits, spaces, - . ( ) and a leading + are allowed`},
			{5, `unknown time zone "Mars/Base"`},
			{6, `bad priority "-5": want an integer 0–100`},
			{7, `duplicate phone 12125550100: first on line 2`},
			{10, `unknown region "US-TX" (or it spans several time zones: give time_zone)`},
			{11, `bad phone "4479000000001234": 16 digits, want 7–15`},
			{12, `2 fields, the header has 6`},
		},
		DNC:      2,
		DNCLines: []int{9, 13},
	}
	if !reflect.DeepEqual(rep, want) {
		t.Errorf("report\n got %+v\nwant %+v", rep, want)
	}
	// Nothing silently dropped: every data line is imported or rejected.
	if rep.Imported+len(rep.Rejected) != 13 {
		t.Errorf("%d imported + %d rejected, want 13 data lines", rep.Imported, len(rep.Rejected))
	}

	recs, _ := s.Records(c.ID)
	byPhone := map[string]Record{}
	for _, r := range recs {
		byPhone[r.Phone] = r
	}
	type exp struct {
		tz, region string
		prio       int
		status     Status
		name       string
	}
	for phone, e := range map[string]exp{
		"12125550100":  {"America/New_York", "", 10, Pending, "Alice Smith"},
		"447911123456": {"Europe/London", "GB", 5, Pending, "Bob Jones"},
		"919876543210": {"Asia/Kolkata", "", 20, Pending, "Śrīnivāsan, Priya"},
		"12025550199":  {"America/New_York", "", 0, DNC, "Frank"},
		"16175550123":  {"America/New_York", "", 3, DNC, "Ivan"},
		"33142685300":  {"Europe/Paris", "", 0, Pending, "Hélène"},
	} {
		r, ok := byPhone[phone]
		if !ok {
			t.Errorf("%s not imported", phone)
			continue
		}
		if r.TimeZone != e.tz || r.Region != e.region || r.Priority != e.prio || r.Status != e.status || r.CustomerFields["name"] != e.name || len(r.CustomerFields) != 2 {
			t.Errorf("%s: %+v, want %+v", phone, r, e)
		}
		if !r.NextAt.Equal(t0) || r.Attempts != 0 {
			t.Errorf("%s: NextAt %s attempts %d, want the import time and 0", phone, r.NextAt, r.Attempts)
		}
	}

	// Importing the same list again appends nothing: the good rows are
	// already in the campaign, and each is named.
	rep, err = s.ImportCSV(c.ID, bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Imported != 0 || len(rep.Rejected) != 13 || !strings.Contains(rep.Rejected[0].Reason, "already in the campaign") {
		t.Errorf("second import: %+v", rep)
	}
}

func TestImportCSVHeaderAndFileErrors(t *testing.T) {
	s, _ := openTest(t, t0)
	c := mustCampaign(t, s, NewCampaign("c", Preview))
	for _, tc := range []struct{ csv, want string }{
		{"", "header row is required"},
		{"name,time_zone\nx,UTC\n", `no "phone" column`},
		{"phone,priority\n14155550100,1\n", `neither "time_zone" nor "region"`},
		{"phone,time_zone,Phone\n", `"Phone" appears twice`},
		{"phone,,time_zone\n", "column 2 is empty"},
	} {
		if _, err := s.ImportCSV(c.ID, strings.NewReader(tc.csv)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.csv, err, tc.want)
		}
	}
	if _, err := s.ImportCSV(c.ID+1, strings.NewReader("phone,time_zone\n")); err == nil {
		t.Error("unknown campaign accepted")
	}
	// A byte-order mark, header case and spacing, a row with neither zone nor
	// region, and a quoting error that the reader reports and survives.
	rep, err := s.ImportCSV(c.ID, strings.NewReader("\uFEFF Phone , TIME_ZONE,region\n14155550100,,\n14155550101,UTC,\n\"1415\"5550102,UTC,\n14155550103,,IN\n"))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Imported != 2 || len(rep.Rejected) != 2 || rep.Rejected[0] != (RowError{2, "no time_zone or region"}) || rep.Rejected[1].Line != 4 {
		t.Errorf("report %+v", rep)
	}
}
