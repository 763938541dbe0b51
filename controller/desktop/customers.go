package desktop

import (
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"time"

	"github.com/ipcclab/ipcclab/controller/campaign"
)

// Customer is the record shown in the screen pop.
type Customer struct {
	Name   string            `json:"name"`
	Fields map[string]string `json:"fields,omitempty"`
}

// CallData is what the desktop knows about a call when it looks the
// customer up.
type CallData struct {
	ANI, DNIS, DialedNumber string
	// CallerEnteredDigits are the digits the caller keyed at the IVR
	// (their account number, §5 BEGIN_CALL_EVENT).
	CallerEnteredDigits string
	CallVariables       [10]string
	ECC                 map[string]string
}

// CustomerLookup finds the customer of a call (the integrator plugs the
// campaign store's records in).
type CustomerLookup interface {
	Customer(c CallData) (Customer, bool)
}

// MapCustomers is a CustomerLookup keyed by account number (the
// BAAccountNumber ECC variable, else CallVariable2 — what the caller keyed
// in at the IVR) or by the caller's number (ANI).
type MapCustomers map[string]Customer

// Customer implements CustomerLookup.
func (m MapCustomers) Customer(c CallData) (Customer, bool) {
	for _, k := range []string{c.ECC["BAAccountNumber"], c.CallVariables[1], c.ECC["BACustomerNumber"], c.ANI} {
		if k == "" {
			continue
		}
		if cu, ok := m[k]; ok {
			return cu, true
		}
	}
	return Customer{}, false
}

// CustomerTable is a CustomerLookup over a customer file's rows (the
// scenario's desktop.customers): by the account the caller keyed at the
// IVR (CallerEnteredDigits, else CallVariable2, where the routing script
// puts it, else an Outbound Option record's BAAccountNumber), then by the
// caller's number (ANI, else BACustomerNumber), compared digits only so
// that "+1 (212) 555-0100" in the file finds the ANI 12125550100.
type CustomerTable struct {
	byAccount, byPhone map[string]Customer
}

// CustomerRow is one customer of a CustomerTable with the account and
// phone number it is found by (either may be empty).
type CustomerRow struct {
	Account, Phone string
	Customer       Customer
}

// NewCustomerTable indexes rows by account and by phone. A later row with
// the account or phone of an earlier one is not found by it (the scenario
// refuses repeated accounts; two customers may share a phone).
func NewCustomerTable(rows []CustomerRow) *CustomerTable {
	t := &CustomerTable{byAccount: make(map[string]Customer, len(rows)), byPhone: make(map[string]Customer, len(rows))}
	for _, r := range rows {
		if _, dup := t.byAccount[r.Account]; r.Account != "" && !dup {
			t.byAccount[r.Account] = r.Customer
		}
		if p := phoneDigits(r.Phone); p != "" {
			if _, dup := t.byPhone[p]; !dup {
				t.byPhone[p] = r.Customer
			}
		}
	}
	return t
}

// Len is the number of customers found by account.
func (t *CustomerTable) Len() int { return len(t.byAccount) }

// Customer implements CustomerLookup.
func (t *CustomerTable) Customer(c CallData) (Customer, bool) {
	for _, k := range []string{c.CallerEnteredDigits, c.CallVariables[1], c.ECC["BAAccountNumber"]} {
		if cu, ok := t.byAccount[strings.TrimSpace(k)]; ok && k != "" {
			return cu, true
		}
	}
	for _, k := range []string{c.ANI, c.ECC["BACustomerNumber"]} {
		if cu, ok := t.byPhone[phoneDigits(k)]; ok && phoneDigits(k) != "" {
			return cu, true
		}
	}
	return Customer{}, false
}

// phoneDigits keeps the digits of a phone number.
func phoneDigits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// Recall is a callback agreed with the customer.
type Recall struct {
	// At is when to call back; AgentID is the agent for a personal
	// callback, "" for any agent.
	At      time.Time
	AgentID string
	// Phone is the number to call; RecordID the campaign record when the
	// call came from one (BADialedListID), else 0.
	Phone    string
	RecordID int64
	// Disposition and the fields captured by the script.
	Disposition string
	Fields      map[string]string
}

// Recalls books callbacks.
type Recalls interface {
	ScheduleRecall(r Recall) error
}

// CampaignStore is the part of *campaign.Store the adapter uses.
type CampaignStore interface {
	ScheduleRecall(recordID int64, at time.Time, agentID string) error
	AddCallback(campaignID int64, phone, tz string, fields map[string]string, at time.Time) (campaign.Record, error)
}

var _ CampaignStore = (*campaign.Store)(nil)

// CampaignRecalls books recalls in the controller's campaign store: a call
// from a campaign record is recalled on that record (ScheduleRecall); an
// inbound caller becomes a callback record of Campaign (AddCallback in
// TimeZone), personal when an agent is named.
type CampaignRecalls struct {
	Store      CampaignStore
	CampaignID int64
	TimeZone   string
}

// ScheduleRecall implements Recalls.
func (c CampaignRecalls) ScheduleRecall(r Recall) error {
	if r.RecordID != 0 {
		return c.Store.ScheduleRecall(r.RecordID, r.At, r.AgentID)
	}
	if c.CampaignID == 0 {
		return errors.New("recall: the call has no campaign record and no callback campaign is configured")
	}
	fields := maps.Clone(r.Fields)
	if fields == nil {
		fields = map[string]string{}
	}
	fields["disposition"] = r.Disposition
	rec, err := c.Store.AddCallback(c.CampaignID, r.Phone, c.TimeZone, fields, r.At)
	if err != nil {
		return err
	}
	if r.AgentID == "" {
		return nil
	}
	// AddCallback books it for any agent; a personal callback is the same
	// record recalled for one agent.
	return c.Store.ScheduleRecall(rec.ID, r.At, r.AgentID)
}

// recordID reads the campaign record of an Outbound Option call.
func recordID(ecc map[string]string) int64 {
	id, err := strconv.ParseInt(ecc["BADialedListID"], 10, 64)
	if err != nil || id <= 0 {
		return 0
	}
	return id
}

// DispositionRecord is one dispositioned call.
type DispositionRecord struct {
	AgentID     string            `json:"agent_id"`
	CallID      uint32            `json:"call_id"`
	Code        string            `json:"code"`
	Fields      map[string]string `json:"fields"`
	Recall      *Recall           `json:"recall,omitempty"`
	ScriptPath  []string          `json:"script_path"`
	CompletedAt time.Time         `json:"completed_at"`
}

func (r DispositionRecord) String() string {
	return fmt.Sprintf("agent %s call %d: %s %v", r.AgentID, r.CallID, r.Code, r.Fields)
}

// RecordStore is the part of *campaign.Store the customer lookup reads.
type RecordStore interface {
	Record(id int64) (campaign.Record, error)
}

var _ RecordStore = (*campaign.Store)(nil)

// CampaignCustomers finds the customer of an Outbound Option call — a
// preview reservation or the customer call that follows it — in the
// campaign store, by the record the call carries (BADialedListID): the
// record's "name" field is the name, its other customer fields and its
// phone the fields. Calls without a record of the store (inbound calls)
// go to Fallback (nil: none).
type CampaignCustomers struct {
	Store    RecordStore
	Fallback CustomerLookup
}

// Customer implements CustomerLookup.
func (c CampaignCustomers) Customer(d CallData) (Customer, bool) {
	if id := recordID(d.ECC); id != 0 && c.Store != nil {
		if r, err := c.Store.Record(id); err == nil {
			cu := Customer{Fields: map[string]string{"phone": r.Phone}}
			for k, v := range r.CustomerFields {
				if strings.EqualFold(k, "name") {
					cu.Name = v
					continue
				}
				cu.Fields[k] = v
			}
			return cu, true
		}
	}
	if c.Fallback != nil {
		return c.Fallback.Customer(d)
	}
	return Customer{}, false
}

// CustomerFunc adapts a function to CustomerLookup.
type CustomerFunc func(c CallData) (Customer, bool)

// Customer implements CustomerLookup.
func (f CustomerFunc) Customer(c CallData) (Customer, bool) { return f(c) }
