package main

import (
	"cmp"
	"fmt"

	"github.com/ipcclab/ipcclab/controller/desktop"
	"github.com/ipcclab/ipcclab/scenarios"
)

// scenarioDesktop puts the scenario's desktop section into cfg: its reason
// codes, dispositions, after-call state, scripts and customer file. What
// the section leaves out stays nil, the desktop's default. The scenario
// has checked the section; desktop.New checks the result again.
func scenarioDesktop(cfg *desktop.Config, d scenarios.Desktop) error {
	for _, r := range d.ReasonCodes {
		cfg.ReasonCodes = append(cfg.ReasonCodes, desktop.ReasonCode{Code: uint16(r.Code), Label: r.Label})
	}
	for _, x := range d.Dispositions {
		cfg.Dispositions = append(cfg.Dispositions, desktop.DispositionCode{Code: x.Code, Label: x.Label, Callback: x.Callback})
	}
	cfg.AfterCall, cfg.AfterCallReason = d.AfterCall, uint16(d.AfterCallReason)
	var err error
	if cfg.Inbound, err = deskScript("inbound", d.Scripts.Inbound); err != nil {
		return err
	}
	if cfg.Outbound, err = deskScript("outbound", d.Scripts.Outbound); err != nil {
		return err
	}
	if cu := d.Customers; cu != nil {
		if cu.Records == nil {
			return fmt.Errorf("desktop.customers.file: %s was not read (the scenario was not loaded from its file)", cu.File)
		}
		rows := make([]desktop.CustomerRow, len(cu.Records))
		for i, r := range cu.Records {
			rows[i] = desktop.CustomerRow{Account: r.Key, Phone: r.Phone, Customer: desktop.Customer{Name: r.Name, Fields: r.Fields}}
		}
		cfg.Customers = desktop.NewCustomerTable(rows)
	}
	return nil
}

// deskScript converts one of the section's scripts (nil: the desktop's
// built-in one). A script given as a file has been read by
// scenarios.Load; without steps it was not.
func deskScript(which string, s *scenarios.Script) (*desktop.Script, error) {
	if s == nil {
		return nil, nil
	}
	if len(s.Steps) == 0 {
		return nil, fmt.Errorf("desktop.scripts.%s.file: %s was not read (the scenario was not loaded from its file)", which, s.File)
	}
	out := &desktop.Script{Name: cmp.Or(s.Name, which), Start: cmp.Or(s.Start, s.Steps[0].ID)}
	for _, st := range s.Steps {
		step := desktop.Step{ID: st.ID, Text: st.Text, Next: st.Next, End: st.End}
		for _, a := range st.Answers {
			step.Answers = append(step.Answers, desktop.Answer{Value: a.Value, Label: a.Label, Next: a.Next})
		}
		for _, f := range st.Fields {
			step.Fields = append(step.Fields, desktop.Field{Name: f.Name, Label: f.Label, Required: f.Required, Pattern: f.Pattern, Hint: f.Hint, Target: f.Target})
		}
		out.Steps = append(out.Steps, step)
	}
	return out, nil
}
