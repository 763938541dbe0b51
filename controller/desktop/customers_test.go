package desktop_test

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/ipcclab/ipcclab/controller/campaign"
	"github.com/ipcclab/ipcclab/controller/desktop"
)

// records is a campaign store of two records.
type records map[int64]campaign.Record

func (r records) Record(id int64) (campaign.Record, error) {
	if rec, ok := r[id]; ok {
		return rec, nil
	}
	return campaign.Record{}, fmt.Errorf("record %d: %w", id, campaign.ErrNotFound)
}

// The screen pop of a campaign call is its record's customer; other calls
// go to the fallback lookup.
func TestCampaignCustomers(t *testing.T) {
	store := records{
		7: {ID: 7, Phone: "15550100007", CustomerFields: map[string]string{"Name": "Grace Hopper", "account": "AC7", "tier": "gold"}},
		8: {ID: 8, Phone: "15550100008"},
	}
	inbound := desktop.Customer{Name: "Ada Lovelace"}
	lookup := desktop.CampaignCustomers{Store: store, Fallback: desktop.MapCustomers{"4711": inbound}}
	ecc := func(id string) map[string]string { return map[string]string{"BADialedListID": id} }
	cases := []struct {
		name string
		call desktop.CallData
		want *desktop.Customer
	}{
		{"a campaign record, name in any case", desktop.CallData{ECC: ecc("7")},
			&desktop.Customer{Name: "Grace Hopper", Fields: map[string]string{"phone": "15550100007", "account": "AC7", "tier": "gold"}}},
		{"a record without fields", desktop.CallData{ECC: ecc("8")}, &desktop.Customer{Fields: map[string]string{"phone": "15550100008"}}},
		{"a record the store lacks, then the fallback", desktop.CallData{ECC: ecc("9"), ANI: "4711"}, &inbound},
		{"a garbled record ID", desktop.CallData{ECC: ecc("x7")}, nil},
		{"an inbound call", desktop.CallData{ANI: "4711"}, &inbound},
		{"an unknown caller", desktop.CallData{ANI: "4712"}, nil},
	}
	for _, tc := range cases {
		got, ok := lookup.Customer(tc.call)
		if (tc.want == nil) != !ok || (ok && !reflect.DeepEqual(got, *tc.want)) {
			t.Errorf("%s: %+v %v, want %+v", tc.name, got, ok, tc.want)
		}
	}
	if _, ok := (desktop.CampaignCustomers{}).Customer(desktop.CallData{ECC: ecc("7")}); ok {
		t.Error("no store and no fallback found a customer")
	}
}

// A customer file's table finds inbound callers by the account they keyed
// (CallerEnteredDigits, then CallVariable2, then BAAccountNumber) and then
// by their number, compared digits only.
func TestCustomerTable(t *testing.T) {
	ada, grace := desktop.Customer{Name: "Ada"}, desktop.Customer{Name: "Grace"}
	table := desktop.NewCustomerTable([]desktop.CustomerRow{
		{Account: "0042", Phone: "+1 (212) 555-0100", Customer: ada},
		{Account: "0043", Customer: grace},
		{Account: "0042", Phone: "+1 212 555 0199", Customer: desktop.Customer{Name: "repeated account"}},
	})
	vars := func(cv2 string) (v [10]string) { v[1] = cv2; return v }
	cases := []struct {
		name string
		call desktop.CallData
		want *desktop.Customer
	}{
		{"keyed digits", desktop.CallData{CallerEnteredDigits: "0043"}, &grace},
		{"keyed digits before CallVariable2", desktop.CallData{CallerEnteredDigits: "0043", CallVariables: vars("0042")}, &grace},
		{"CallVariable2", desktop.CallData{CallVariables: vars("0042")}, &ada},
		{"BAAccountNumber", desktop.CallData{ECC: map[string]string{"BAAccountNumber": "0043"}}, &grace},
		{"ANI, digits only", desktop.CallData{ANI: "12125550100"}, &ada},
		{"an unknown account, then the ANI", desktop.CallData{CallerEnteredDigits: "9", ANI: "1 212 555 0100"}, &ada},
		{"the repeated row's phone", desktop.CallData{ANI: "12125550199"}, &desktop.Customer{Name: "repeated account"}},
		{"nobody", desktop.CallData{CallerEnteredDigits: "9", ANI: "1"}, nil},
		{"nothing to go by", desktop.CallData{}, nil},
	}
	for _, tc := range cases {
		got, ok := table.Customer(tc.call)
		if (tc.want == nil) != !ok || (ok && !reflect.DeepEqual(got, *tc.want)) {
			t.Errorf("%s: %+v %v, want %+v", tc.name, got, ok, tc.want)
		}
	}
	if table.Len() != 2 {
		t.Errorf("Len %d, want 2", table.Len())
	}
}
