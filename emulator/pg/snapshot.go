package pg

import "sort"

// Read-only views for the CTI Server's snapshot, device-information and
// desk-settings services (SNAPSHOT_CALL, SNAPSHOT_DEVICE, QUERY_DEVICE_INFO,
// AGENT_DESK_SETTINGS, MONITOR_START). Nothing here changes the PG.

// DeviceKind says what a device ID names on this peripheral.
type DeviceKind int

// Device kinds.
const (
	// DeviceUnknown: neither an agent's device nor a line.
	DeviceUnknown DeviceKind = iota
	// DeviceAgentPhone: the instrument or extension of a configured agent
	// (logged on or not).
	DeviceAgentPhone
	// DeviceLinePhone: a line without an ICM agent (Config.Lines).
	DeviceLinePhone
)

// DeviceInfo describes a device of the peripheral.
type DeviceInfo struct {
	Kind DeviceKind
	// Extension and Instrument are the device's two names (equal unless
	// configured apart); the call events name the device by Extension for
	// agents and by Instrument for lines.
	Extension, Instrument string
	// AgentID is the agent configured on the device (DeviceAgentPhone).
	AgentID string
}

// Device resolves a device ID (instrument or extension).
func (p *PG) Device(id string) DeviceInfo {
	if id == "" {
		return DeviceInfo{}
	}
	if a, ok := p.byDev[id]; ok {
		return DeviceInfo{Kind: DeviceAgentPhone, Extension: a.info.Extension, Instrument: a.info.Instrument, AgentID: a.info.AgentID}
	}
	if l, ok := p.byLine[id]; ok {
		return DeviceInfo{Kind: DeviceLinePhone, Extension: l.ext, Instrument: l.inst}
	}
	return DeviceInfo{}
}

// AgentDeskSettings returns the desk settings in force for an agent (its own
// or the peripheral's default).
func (p *PG) AgentDeskSettings(agentID string) (DeskSettings, error) {
	a, err := p.find(AgentSelector{AgentID: agentID})
	if err != nil {
		return DeskSettings{}, err
	}
	return a.desk, nil
}

// CallConnections returns the connections of a live call that CTI clients
// know (a call waiting at the IVR before delivery is not visible to the
// CallManager PG's clients), with their LocalConnectionStates. Unlike
// CallInfo.Parties it also covers a predictive call before it reaches its
// agent and the calls of lines without an ICM agent. ok is false for an
// unknown or invisible call.
func (p *PG) CallConnections(id uint32) (parties []CallParty, ok bool) {
	c, live := p.calls[id]
	if !live || !c.visible {
		return nil, false
	}
	return p.connections(c), true
}

func (p *PG) connections(c *call) []CallParty {
	var out []CallParty
	if pts := p.partiesOf(c); len(pts) > 0 {
		for _, pt := range pts {
			out = append(out, CallParty{Connection: pt.conn, Device: pt.dev, State: pt.lcs})
		}
		return out
	}
	// A predictive call (from an agent or a line) before its agent side is
	// connected, or a line's connected call: the customer's connection
	// (BEGIN_CALL's) and, once connected, the line's.
	cust := LCSConnect
	switch c.phase {
	case phaseDialing:
		cust = LCSInitiate
	case phaseFarAlerting:
		cust = LCSAlerting
	}
	out = append(out, CallParty{Connection: c.begin, Device: c.customer, State: cust})
	if c.line != nil && c.phase == phaseConnected {
		out = append(out, CallParty{Connection: c.line.conn(c.id), Device: c.line.device(), State: LCSConnect})
	}
	return out
}

// DeviceCalls returns the connections at a device (instrument or extension
// of an agent, or a line) of the live calls CTI clients know, in call order.
func (p *PG) DeviceCalls(device string) []CallParty {
	d := p.Device(device)
	if d.Kind == DeviceUnknown {
		return nil
	}
	ids := make([]uint32, 0, len(p.calls))
	for id, c := range p.calls {
		if c.visible {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	var out []CallParty
	for _, id := range ids {
		for _, pt := range p.connections(p.calls[id]) {
			if pt.Device.ID != "" && (pt.Device.ID == d.Extension || pt.Device.ID == d.Instrument) {
				out = append(out, pt)
			}
		}
	}
	return out
}

// LiveCalls lists the live calls CTI clients know, in call order (for a CTI
// Server side that becomes active and must let its clients rebuild call
// state, cti-protocol.md §5.10).
func (p *PG) LiveCalls() []uint32 {
	ids := make([]uint32, 0, len(p.calls))
	for id, c := range p.calls {
		if c.visible {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}
