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
