package desktop

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/ipcclab/ipcclab/internal/ctitool"
	"github.com/ipcclab/ipcclab/protocol/cti"
)

// version is the protocol version the desktop speaks (UCCE 12.6).
const version = cti.ProtocolVersion(24)

// maxLog is how many recent events a desktop keeps for the page.
const maxLog = 30

// desk is one logged-in agent: its CTI session and what the page shows.
type desk struct {
	cfg     *Config
	token   string
	agentID string
	ext     string
	pass    string
	sess    *cti.Session

	mu    sync.Mutex
	view  View
	call  *call // the customer call on screen, until dispositioned
	prev  *call // a preview reservation waiting for Accept/Skip
	calls map[uint32]*call
	subs  map[chan struct{}]bool
}

// call is one call at the agent's device.
type call struct {
	id      uint32
	device  string
	typ     cti.CallType
	state   string
	data    CallData
	ended   bool
	script  *Script
	stepID  string
	path    []string
	capture map[string]string
	cust    *Customer
	// response is the BAResponse the desktop sent for a preview
	// reservation ("" before the agent answers). Not state: the
	// reservation's own call events (the phone auto-answers) move that.
	response string
}

// View is everything the page shows; it is pushed whole on every change.
type View struct {
	// Seq grows with every change: the page drops a view older than the
	// one it shows (a form's answer and the event stream race).
	Seq          uint64             `json:"seq"`
	AgentID      string             `json:"agent_id"`
	Extension    string             `json:"extension"`
	State        string             `json:"state"`
	ReasonCode   uint16             `json:"reason_code,omitempty"`
	Connected    bool               `json:"connected"`
	Error        string             `json:"error,omitempty"`
	Reasons      []ReasonCode       `json:"reasons"`
	Dispositions []DispositionCode  `json:"dispositions"`
	Call         *CallView          `json:"call,omitempty"`
	Preview      *PreviewView       `json:"preview,omitempty"`
	Script       *ScriptView        `json:"script,omitempty"`
	Last         *DispositionRecord `json:"last_disposition,omitempty"`
	Log          []string           `json:"log"`
}

// CallView is the screen pop.
type CallView struct {
	CallID       uint32            `json:"call_id"`
	CallType     string            `json:"call_type"`
	State        string            `json:"state"` // alerting, connected, cleared
	ANI          string            `json:"ani"`
	DNIS         string            `json:"dnis"`
	DialedNumber string            `json:"dialed_number"`
	Variables    map[string]string `json:"variables"`
	ECC          map[string]string `json:"ecc"`
	Customer     *Customer         `json:"customer,omitempty"`
}

// PreviewView is an Outbound Option preview reservation.
type PreviewView struct {
	CallID uint32 `json:"call_id"`
	// Record names the record offered (BADialedListID; the reservation
	// call's ID when the dialer sends none): the page answers for it, so
	// a stale page cannot accept or skip a record it never showed.
	Record   string            `json:"record"`
	Campaign string            `json:"campaign"`
	Account  string            `json:"account"`
	Phone    string            `json:"phone"`
	Name     string            `json:"name"`
	ECC      map[string]string `json:"ecc"`
	Customer *Customer         `json:"customer,omitempty"`
	Answered string            `json:"answered,omitempty"`
}

// ScriptView is the current script step, rendered.
type ScriptView struct {
	Name     string            `json:"name"`
	Step     string            `json:"step"`
	Text     string            `json:"text"`
	Fields   []Field           `json:"fields,omitempty"`
	Answers  []Answer          `json:"answers,omitempty"`
	End      bool              `json:"end"`
	Captured map[string]string `json:"captured"`
}

// login opens the agent's CTI session and logs the agent in (§5.2, §5.9(e)).
func login(ctx context.Context, cfg *Config, token, agentID, ext, pass string) (*desk, error) {
	d := net.Dialer{Timeout: cfg.RequestTimeout}
	conn, err := d.DialContext(ctx, "tcp", cfg.CTIAddr)
	if err != nil {
		return nil, &ctiError{field: "", err: fmt.Errorf("connect to the CTI Server: %w", err)}
	}
	s := cti.NewSession(conn, nil)
	req := &cti.OpenReq{VersionNumber: uint32(version), IdleTimeout: ctitool.IdleTimeout, PeripheralID: cfg.PeripheralID,
		ServicesRequested: cti.ServiceClientEvents | cti.ServiceClientControl,
		CallMsgMask:       ctitool.AllCallEvents(version), AgentStateMask: ctitool.AllAgentStates(),
		ClientID: "desktop-" + agentID, ClientPassword: []byte{},
		AgentExtension: ext, AgentID: agentID, AgentInstrument: ext}
	req.SetPresent(cti.TagClientPassword)
	octx, cancel := context.WithTimeout(ctx, cfg.RequestTimeout)
	defer cancel()
	conf, err := s.Open(octx, req)
	if err != nil {
		abandon(s)
		return nil, &ctiError{field: "agent", err: fmt.Errorf("OPEN_REQ refused: %w", err)}
	}
	s.StartHeartbeat(ctitool.DefaultHeartbeat)
	k := &desk{cfg: cfg, token: token, agentID: agentID, ext: ext, pass: pass, sess: s,
		calls: map[uint32]*call{}, subs: map[chan struct{}]bool{}}
	k.view = View{AgentID: agentID, Extension: ext, State: stateName(conf.AgentState), Connected: true,
		Reasons: cfg.ReasonCodes, Dispositions: cfg.Dispositions, Log: []string{}}
	go k.events()
	if conf.AgentState == cti.AgentStateLogout || conf.AgentState == cti.AgentStateUnknown {
		_, err := k.request(ctx, &cti.SetAgentStateReq{PeripheralID: cfg.PeripheralID, AgentState: cti.AgentStateLogin,
			AgentWorkMode: 0, AgentInstrument: ext, AgentID: agentID, AgentPassword: pass})
		if err != nil {
			k.close()
			field := "agent"
			var cf *cti.ControlFailureConf
			if errors.As(err, &cf) && cf.FailureCode == 258 {
				field = "password" // INVALID_AGENT_ID_OR_PASSWORD_SPECIFIED
			}
			return nil, &ctiError{field: field, err: fmt.Errorf("login refused: %w", err)}
		}
	}
	return k, nil
}

// ctiError is a CTI refusal; field names the form field it is about ("" for
// the CTI link itself).
type ctiError struct {
	field string
	err   error
}

func (e *ctiError) Error() string { return e.err.Error() }
func (e *ctiError) Unwrap() error { return e.err }

func abandon(s *cti.Session) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = s.Close(ctx)
}

func (k *desk) request(ctx context.Context, m cti.Message) (cti.Message, error) {
	ctx, cancel := context.WithTimeout(ctx, k.cfg.RequestTimeout)
	defer cancel()
	return k.sess.Request(ctx, m)
}

// close ends the CTI session (CLOSE_REQ, bounded wait).
func (k *desk) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = k.sess.Close(ctx)
}

// subscribe returns a channel woken on every change.
func (k *desk) subscribe() (chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	k.mu.Lock()
	k.subs[ch] = true
	k.mu.Unlock()
	return ch, func() {
		k.mu.Lock()
		delete(k.subs, ch)
		k.mu.Unlock()
	}
}

// changed wakes the subscribers; called with mu held. A slow page misses
// nothing: it is woken once and reads the whole view.
func (k *desk) changed() {
	k.view.Seq++
	for ch := range k.subs {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

func (k *desk) logf(format string, args ...any) {
	line := time.Now().Format("15:04:05 ") + fmt.Sprintf(format, args...)
	k.view.Log = append(k.view.Log, line)
	if len(k.view.Log) > maxLog {
		k.view.Log = k.view.Log[len(k.view.Log)-maxLog:]
	}
}

// snapshot returns a copy of the view with the call, preview and script
// rendered.
func (k *desk) snapshot() View {
	k.mu.Lock()
	defer k.mu.Unlock()
	v := k.view
	// Never nil: the page reads an empty log as [], not null.
	v.Log = append([]string{}, v.Log...)
	if c := k.call; c != nil {
		v.Call = c.screenPop()
		if st := c.script.step(c.stepID); st != nil {
			v.Script = &ScriptView{Name: c.script.Name, Step: st.ID, Text: Render(st.Text, k.vars(c)), Fields: st.Fields,
				Answers: st.Answers, End: st.End, Captured: maps.Clone(c.capture)}
		}
	}
	if p := k.prev; p != nil {
		e := p.data.ECC
		v.Preview = &PreviewView{CallID: p.id, Record: previewRecord(p), Campaign: e["BACampaign"], Account: e["BAAccountNumber"], Phone: e["BACustomerNumber"],
			Name: e["BABuddyName"], ECC: maps.Clone(e), Customer: p.cust, Answered: p.response}
	}
	return v
}

// previewRecord names the record a preview reservation offers.
func previewRecord(p *call) string {
	if r := p.data.ECC["BADialedListID"]; r != "" {
		return r
	}
	return fmt.Sprintf("call %d", p.id)
}

func (c *call) screenPop() *CallView {
	vars := map[string]string{}
	for i, v := range c.data.CallVariables {
		if v != "" {
			vars[fmt.Sprintf("CallVariable%d", i+1)] = v
		}
	}
	return &CallView{CallID: c.id, CallType: c.typ.String(), State: c.state, ANI: c.data.ANI, DNIS: c.data.DNIS,
		DialedNumber: c.data.DialedNumber, Variables: vars, ECC: maps.Clone(c.data.ECC), Customer: c.cust}
}

// vars are the names a script's text may use.
func (k *desk) vars(c *call) map[string]string {
	m := map[string]string{"ANI": c.data.ANI, "DNIS": c.data.DNIS, "DialedNumber": c.data.DialedNumber, "AgentID": k.agentID}
	for i, v := range c.data.CallVariables {
		m[fmt.Sprintf("CallVariable%d", i+1)] = v
	}
	for n, v := range c.data.ECC {
		m[n] = v
	}
	if c.cust != nil {
		m["customer.name"] = c.cust.Name
		for n, v := range c.cust.Fields {
			m["customer."+n] = v
		}
	}
	for n, v := range c.capture {
		m[n] = v
	}
	return m
}

// events applies the session's unsolicited messages to the view.
func (k *desk) events() {
	for m := range k.sess.Events() {
		k.mu.Lock()
		k.apply(m)
		k.changed()
		k.mu.Unlock()
	}
	k.mu.Lock()
	k.view.Connected = false
	if err := k.sess.Err(); err != nil && !errors.Is(err, cti.ErrSessionClosed) {
		k.view.Error = "CTI session ended: " + err.Error()
	}
	k.logf("CTI session ended")
	k.changed()
	k.mu.Unlock()
}

// isReservation: Outbound Option reservation calls (§5.9(d)).
func isReservation(t cti.CallType) bool {
	return t >= cti.CallTypeReservationPreview && t <= cti.CallTypeReservationPersonalCallback || t == cti.CallTypeReservation
}

// isOutbound: the customer legs of campaign calls get the outbound script.
func isOutbound(t cti.CallType) bool {
	return t >= 32 && t <= 36 || t == cti.CallTypeAutoOut || t == cti.CallTypeOut
}

func (k *desk) apply(m cti.Message) {
	switch e := m.(type) {
	case *cti.AgentStateEvent:
		k.view.State, k.view.ReasonCode = stateName(e.AgentState), e.EventReasonCode
		k.logf("AGENT_STATE_EVENT %s", k.view.State)
	case *cti.BeginCallEvent:
		c := &call{id: e.ConnectionCallID, device: e.ConnectionDeviceID, typ: e.CallType, state: "begun",
			data: CallData{ANI: e.ANI, DNIS: e.DNIS, DialedNumber: e.DialedNumber, CallerEnteredDigits: e.CallerEnteredDigits, CallVariables: cti.GetCallVars(e), ECC: ecc(e.NamedVariables)}}
		k.calls[c.id] = c
		if cu, ok := k.cfg.Customers.Customer(c.data); ok {
			c.cust = &cu
		}
		switch {
		case isReservation(c.typ):
			k.prev = c
		case k.call == nil:
			// A call not yet dispositioned stays on screen; the agent
			// is in wrap-up until then, so no new call is routed.
			k.startCall(c)
		}
		k.logf("BEGIN_CALL %d %s ANI %s", c.id, c.typ, c.data.ANI)
	case *cti.CallDeliveredEvent:
		if c := k.calls[e.ConnectionCallID]; c != nil {
			// Alerting at the agent's phone only: a call the agent
			// places (a preview's customer call) is delivered at the far
			// end first, and there is nothing to answer.
			if c.state == "begun" && (e.AlertingDeviceID == "" || e.AlertingDeviceID == k.ext) {
				c.state = "alerting"
			}
			mergeVars(&c.data, cti.GetCallVars(e), ecc(e.NamedVariables))
			if c.data.ANI == "" {
				c.data.ANI = e.ANI
			}
			if k.call == nil && !isReservation(c.typ) {
				k.startCall(c)
			}
		}
		k.logf("CALL_DELIVERED %d from %s", e.ConnectionCallID, e.CallingDeviceID)
	case *cti.CallEstablishedEvent:
		if c := k.calls[e.ConnectionCallID]; c != nil && c.state != "cleared" {
			c.state = "connected"
		}
		k.logf("CALL_ESTABLISHED %d", e.ConnectionCallID)
	case *cti.CallDataUpdateEvent:
		if c := k.calls[e.ConnectionCallID]; c != nil {
			mergeVars(&c.data, cti.GetCallVars(e), ecc(e.NamedVariables))
			if e.NewConnectionCallID != 0 && e.NewConnectionCallID != e.ConnectionCallID && e.NewConnectionCallID != cti.NullCallID {
				delete(k.calls, c.id)
				c.id = e.NewConnectionCallID
				k.calls[c.id] = c
			}
		}
		k.logf("CALL_DATA_UPDATE %d", e.ConnectionCallID)
	case *cti.CallConnectionClearedEvent:
		if c := k.calls[e.ConnectionCallID]; c != nil && (e.ConnectionDeviceID == k.ext || e.ReleasingDeviceID == k.ext) {
			c.state = "cleared"
		}
		k.logf("CALL_CONNECTION_CLEARED %d", e.ConnectionCallID)
	case *cti.CallClearedEvent:
		if c := k.calls[e.ConnectionCallID]; c != nil {
			c.state = "cleared"
		}
		k.logf("CALL_CLEARED %d", e.ConnectionCallID)
	case *cti.EndCallEvent:
		if c := k.calls[e.ConnectionCallID]; c != nil {
			c.ended = true
			if c.state != "cleared" {
				c.state = "cleared"
			}
			delete(k.calls, c.id)
			if k.prev == c {
				k.prev = nil
			}
		}
		k.logf("END_CALL %d", e.ConnectionCallID)
	case *cti.FailureEvent:
		k.view.Error = "FAILURE_EVENT " + e.Status.String()
		k.logf("FAILURE_EVENT %s", e.Status)
	default:
		k.logf("%s", m.MessageType())
	}
}

func (k *desk) startCall(c *call) {
	c.script = k.cfg.Inbound
	if isOutbound(c.typ) {
		c.script = k.cfg.Outbound
	}
	c.stepID, c.path, c.capture = c.script.Start, []string{c.script.Start}, map[string]string{}
	k.call = c
	k.view.Last = nil
}

func ecc(nv []cti.NamedVar) map[string]string {
	m := map[string]string{}
	for _, v := range nv {
		m[v.Name] = v.Value
	}
	return m
}

// mergeVars keeps what a later event repeats or changes (CALL_DATA_UPDATE
// carries every ECC variable from PV22, §5.9(a)).
func mergeVars(d *CallData, vars [10]string, e map[string]string) {
	for i, v := range vars {
		if v != "" {
			d.CallVariables[i] = v
		}
	}
	if d.ECC == nil {
		d.ECC = map[string]string{}
	}
	maps.Copy(d.ECC, e)
}

func stateName(s cti.AgentState) string {
	return strings.TrimPrefix(s.String(), "AGENT_STATE_")
}
