package desktop

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"strings"
	"time"

	"github.com/ipcclab/ipcclab/protocol/cti"
)

// formError is a refused request: the HTTP status and the field it names.
type formError struct {
	status int
	field  string
	msg    string
}

func (e *formError) Error() string { return e.field + ": " + e.msg }

func bad(field, format string, args ...any) error {
	return &formError{http.StatusBadRequest, field, fmt.Sprintf(format, args...)}
}

func conflict(field, format string, args ...any) error {
	return &formError{http.StatusConflict, field, fmt.Sprintf(format, args...)}
}

// refused turns a CTI refusal of a request into a 409 naming field (the
// agent's or call's state did not allow it), other failures into 502.
func refused(field string, req string, err error) error {
	var cf *cti.ControlFailureConf
	var fc *cti.FailureConf
	if errors.As(err, &cf) || errors.As(err, &fc) {
		return &formError{http.StatusConflict, field, fmt.Sprintf("the CTI Server refused %s: %v", req, err)}
	}
	return &formError{http.StatusBadGateway, field, fmt.Sprintf("%s: %v", req, err)}
}

// Agent state changes.
const (
	ActReady    = "ready"
	ActNotReady = "not_ready"
	ActLogout   = "logout"
)

// setState changes the agent's state (§5.9(e)); NOT_READY and LOGOUT carry
// a reason code (already validated against the list).
func (k *desk) setState(ctx context.Context, action string, reason uint16) error {
	req := &cti.SetAgentStateReq{PeripheralID: k.cfg.PeripheralID, AgentID: k.agentID, AgentInstrument: k.ext, EventReasonCode: reason}
	switch action {
	case ActReady:
		req.AgentState = cti.AgentStateAvailable
	case ActNotReady:
		req.AgentState = cti.AgentStateNotReady
	case ActLogout:
		req.AgentState, req.AgentPassword = cti.AgentStateLogout, k.pass
	}
	if _, err := k.request(ctx, req); err != nil {
		return refused("state", "SET_AGENT_STATE_REQ "+req.AgentState.String(), err)
	}
	return nil
}

// answer answers the ringing call (ANSWER_CALL_REQ).
func (k *desk) answer(ctx context.Context) error {
	k.mu.Lock()
	c := k.call
	k.mu.Unlock()
	if c == nil || c.state != "alerting" {
		return conflict("call", "no call is ringing")
	}
	_, err := k.request(ctx, &cti.AnswerCallReq{PeripheralID: k.cfg.PeripheralID, ConnectionCallID: c.id,
		ConnectionDeviceIDType: cti.ConnectionIDStatic, ConnectionDeviceID: k.ext, AgentInstrument: k.ext})
	if err != nil {
		return refused("call", "ANSWER_CALL_REQ", err)
	}
	return nil
}

// release hangs the agent's leg up (CLEAR_CONNECTION_REQ).
func (k *desk) release(ctx context.Context) error {
	k.mu.Lock()
	c := k.call
	k.mu.Unlock()
	if c == nil || c.state == "cleared" || c.ended {
		return conflict("call", "no call to release")
	}
	_, err := k.request(ctx, &cti.ClearConnectionReq{PeripheralID: k.cfg.PeripheralID, ConnectionCallID: c.id,
		ConnectionDeviceIDType: cti.ConnectionIDStatic, ConnectionDeviceID: k.ext, AgentInstrument: k.ext})
	if err != nil {
		return refused("call", "CLEAR_CONNECTION_REQ", err)
	}
	return nil
}

// scriptStep completes the current step: stepID must be the current step
// (a stale page is refused), answer one of its answers, values its fields.
// Captured fields with a target are written to the call with
// SET_CALL_DATA_REQ while the call still exists.
func (k *desk) scriptStep(ctx context.Context, stepID, answer string, values map[string]string) error {
	k.mu.Lock()
	c := k.call
	if c == nil {
		k.mu.Unlock()
		return conflict("call", "no call on screen")
	}
	st := c.script.step(c.stepID)
	if stepID != c.stepID {
		k.mu.Unlock()
		return conflict("step", "the script is at step %q, not %q", c.stepID, stepID)
	}
	if st.End {
		k.mu.Unlock()
		return conflict("step", "the script is complete; choose a disposition")
	}
	next := st.Next
	if len(st.Answers) > 0 {
		next = ""
		for _, a := range st.Answers {
			if a.Value == answer {
				next = a.Next
			}
		}
		if next == "" {
			k.mu.Unlock()
			return bad("answer", "%q is not an answer of step %q", answer, st.ID)
		}
	}
	got := map[string]string{}
	for _, f := range st.Fields {
		v := strings.TrimSpace(values[f.Name])
		if err := checkField(f, v); err != nil {
			k.mu.Unlock()
			return bad(f.Name, "%v", err)
		}
		got[f.Name] = v
	}
	callID, live := c.id, !c.ended
	k.mu.Unlock()

	req := &cti.SetCallDataReq{PeripheralID: k.cfg.PeripheralID, ConnectionCallID: callID,
		ConnectionDeviceIDType: cti.ConnectionIDStatic, ConnectionDeviceID: k.ext}
	var vars [10]string
	write := false
	for _, f := range st.Fields {
		n, name, _ := parseTarget(f.Target)
		switch {
		case got[f.Name] == "":
		case n != 0:
			vars[n-1], write = got[f.Name], true
		case name != "":
			req.NamedVariables, write = append(req.NamedVariables, cti.NamedVar{Name: name, Value: got[f.Name]}), true
		}
	}
	cti.SetCallVars(req, vars)
	if write && live {
		if _, err := k.request(ctx, req); err != nil {
			return refused("call", "SET_CALL_DATA_REQ", err)
		}
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.call != c || c.stepID != stepID {
		return conflict("step", "the script moved on meanwhile")
	}
	maps.Copy(c.capture, got)
	c.stepID = next
	c.path = append(c.path, next)
	k.logf("script %s: %s → %s", c.script.Name, stepID, next)
	k.changed()
	return nil
}

// dispose records the disposition of the call on screen, books the recall
// of a callback code, and sends the agent to the after-call state.
func (k *desk) dispose(ctx context.Context, code *DispositionCode, at time.Time, personal bool) (DispositionRecord, error) {
	k.mu.Lock()
	c := k.call
	if c == nil {
		k.mu.Unlock()
		return DispositionRecord{}, conflict("call", "no call to disposition")
	}
	if c.state != "cleared" && !c.ended {
		k.mu.Unlock()
		return DispositionRecord{}, conflict("call", "release the call before the disposition")
	}
	typ := c.typ
	rec := DispositionRecord{AgentID: k.agentID, CallID: c.id, Code: code.Code, Fields: maps.Clone(c.capture),
		ScriptPath: append([]string(nil), c.path...), CompletedAt: k.cfg.Now()}
	phone := c.data.ECC["BACustomerNumber"]
	if phone == "" {
		phone = c.data.ANI
	}
	rid := recordID(c.data.ECC)
	k.mu.Unlock()

	if code.Callback {
		if k.cfg.Recalls == nil {
			return rec, &formError{http.StatusServiceUnavailable, "code", "no recall store is configured; callbacks cannot be booked"}
		}
		r := Recall{At: at, Phone: phone, RecordID: rid, Disposition: code.Code, Fields: rec.Fields}
		if personal {
			r.AgentID = k.agentID
		}
		if err := k.cfg.Recalls.ScheduleRecall(r); err != nil {
			return rec, &formError{http.StatusUnprocessableEntity, "callback_at", "the recall was not booked: " + err.Error()}
		}
		rec.Recall = &r
	}
	k.mu.Lock()
	if k.call == c {
		k.call = nil
	}
	k.view.Last = &rec
	k.logf("disposition %s for call %d", code.Code, rec.CallID)
	k.changed()
	k.mu.Unlock()
	if k.cfg.Dispositioned != nil {
		k.cfg.Dispositioned(rec)
	}
	after, reason := ActReady, uint16(0)
	if state, why := k.cfg.afterCall(typ); state == AfterNotReady {
		after, reason = ActNotReady, why
	}
	if err := k.setState(ctx, after, reason); err != nil {
		return rec, err
	}
	return rec, nil
}

// Preview responses a desktop sends (BAResponse, §5.9(d)).
const (
	PreviewAccept = "Accept"
	PreviewSkip   = "Skip"
)

// previewAnswer answers the preview reservation on screen for record, the
// record the page showed: SET_CALL_DATA_REQ setting BAResponse on the
// reservation call; the dialer clears the reservation and acts on it. A
// record no longer (or never) on screen is refused, so is a second answer:
// the dialer takes the first BAResponse only.
func (k *desk) previewAnswer(ctx context.Context, response, record string) error {
	k.mu.Lock()
	p := k.prev
	switch {
	case p == nil:
		k.mu.Unlock()
		return conflict("record", "record %s is not offered: no preview on screen", record)
	case previewRecord(p) != record:
		k.mu.Unlock()
		return conflict("record", "record %s is not offered: the preview on screen is record %s", record, previewRecord(p))
	case p.response != "":
		st := p.response
		k.mu.Unlock()
		return conflict("response", "record %s was already answered %s", record, st)
	}
	// Claimed before the request, so that two clicks send one answer.
	p.response = response
	id := p.id
	k.mu.Unlock()
	_, err := k.request(ctx, &cti.SetCallDataReq{PeripheralID: k.cfg.PeripheralID, ConnectionCallID: id,
		ConnectionDeviceIDType: cti.ConnectionIDStatic, ConnectionDeviceID: k.ext,
		NamedVariables: []cti.NamedVar{{Name: "BAResponse", Value: response}}})
	k.mu.Lock()
	defer k.mu.Unlock()
	if err != nil {
		p.response = ""
		return refused("response", "SET_CALL_DATA_REQ BAResponse", err)
	}
	k.logf("preview %d (record %s): %s", id, record, response)
	k.changed()
	return nil
}
