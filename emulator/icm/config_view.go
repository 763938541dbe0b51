package icm

// CallTypeView is a read-only view of one configured call type and its
// routing script, for the CTI Server's configuration download.
type CallTypeView struct {
	ID                    uint32
	Name                  string
	DialedNumbers         []string
	ServiceLevelThreshold int64 // seconds, effective (defaults applied)
	ServiceLevelType      SLType
	// Targets are the script's skill groups with their effective queue
	// priorities (0 in the configuration reads as 5).
	Targets []TargetView
}

// TargetView is one skill group of a routing script.
type TargetView struct {
	SkillGroupNumber uint32
	SkillGroupID     uint32
	Priority         int
}

// CallTypeViews lists the call types in configuration order. The slices
// are copies: the caller may keep or modify them.
func (r *Router) CallTypeViews() []CallTypeView {
	out := make([]CallTypeView, len(r.cts))
	for i, ct := range r.cts {
		v := CallTypeView{ID: ct.cfg.ID, Name: ct.cfg.Name, DialedNumbers: append([]string(nil), ct.cfg.DialedNumbers...),
			ServiceLevelThreshold: int64(ct.thr.Seconds()), ServiceLevelType: ct.typ}
		for _, t := range ct.targets {
			v.Targets = append(v.Targets, TargetView{SkillGroupNumber: t.sg.cfg.Number, SkillGroupID: t.sg.cfg.ID, Priority: t.priority})
		}
		out[i] = v
	}
	return out
}
