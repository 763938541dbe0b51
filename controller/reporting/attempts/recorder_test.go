package attempts

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ipcclab/ipcclab/controller/campaign"
	"github.com/ipcclab/ipcclab/controller/reporting"
	"github.com/ipcclab/ipcclab/protocol/cti"
)

var t0 = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

// at is t0 plus s seconds.
func at(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

const (
	customer = "15550000001"
	phone    = "2301" // agent 1301's instrument
	phone2   = "2302" // agent 1302's
	port     = "5001"
)

func testConfig() Config {
	return Config{Campaign: "Renewals", Mode: "progressive", Agents: map[string]string{phone: "1301", phone2: "1302"},
		Ports: []string{port, "5002"}, Version: 24}
}

// step is one frame of the session: sent by the controller or received,
// s seconds after t0.
type step struct {
	s    float64
	sent bool
	m    cti.Message
}

func frame(t *testing.T, m cti.Message) []byte {
	t.Helper()
	b, err := cti.AppendMessage(nil, m, 24)
	if err != nil {
		t.Fatalf("encode %T: %v", m, err)
	}
	return b
}

func play(t *testing.T, r *Recorder, steps []step) {
	t.Helper()
	for _, st := range steps {
		f := frame(t, st.m)
		if st.sent {
			r.Sent(at(st.s), f)
		} else {
			r.Received(at(st.s), f)
		}
	}
}

// The messages of a campaign call, as the CTI Server and the controller
// send them.
func dial(s float64, invoke uint32, from string, record string) step {
	return step{s, true, &cti.MakePredictiveCallReq{InvokeID: invoke, PeripheralID: 5000, OriginatingDeviceID: from, DialedNumber: customer,
		CallVariable1: "Renewals", CallVariable2: record}}
}
func conf(s float64, invoke, call uint32) step {
	return step{s, false, &cti.MakePredictiveCallConf{InvokeID: invoke, NewConnectionCallID: call}}
}
func delivered(s float64, call uint32, dev string) step {
	return step{s, false, &cti.CallDeliveredEvent{ConnectionCallID: call, ConnectionDeviceID: customer, AlertingDeviceID: dev}}
}
func established(s float64, call uint32, dev string) step {
	return step{s, false, &cti.CallEstablishedEvent{ConnectionCallID: call, ConnectionDeviceID: customer, AnsweringDeviceID: dev}}
}
func failed(s float64, call uint32, cause cti.EventCause) step {
	return step{s, false, &cti.CallFailedEvent{ConnectionCallID: call, ConnectionDeviceID: customer, FailingDeviceID: customer, EventCause: cause}}
}
func cleared(s float64, call uint32) step {
	return step{s, false, &cti.CallConnectionClearedEvent{ConnectionCallID: call, ConnectionDeviceID: customer, ReleasingDeviceID: customer,
		EventCause: cti.CECNoAvailableAgents}}
}
func endCall(s float64, call uint32) step {
	return step{s, false, &cti.EndCallEvent{ConnectionCallID: call, ConnectionDeviceID: customer}}
}

// Every way a call ends, agent mode and pool mode, judged as the
// controller judges it.
func TestAttemptOutcomesFollowTheController(t *testing.T) {
	base := reporting.Attempt{Start: at(0), Campaign: "Renewals", Mode: "progressive", DialedNumber: customer, AgentID: "1301", CallID: 7}
	pool := base
	pool.AgentID, pool.Port = "", port
	with := func(a reporting.Attempt, f func(*reporting.Attempt)) reporting.Attempt { f(&a); return a }
	for _, tc := range []struct {
		name  string
		steps []step
		now   float64 // Attempts(now); 60 s when 0
		want  reporting.Attempt
	}{
		{"connected", []step{dial(0, 1, phone, ""), conf(0.001, 1, 7), delivered(2, 7, customer), established(10, 7, customer),
			delivered(10, 7, phone), established(10, 7, phone), endCall(130, 7)}, 0,
			with(base, func(a *reporting.Attempt) {
				a.Outcome, a.Alerting, a.Answered, a.Connected, a.End = campaign.Answered, at(2), at(10), at(10), at(130)
			})},
		{"talking when the run ends", []step{dial(0, 1, phone, ""), conf(0.001, 1, 7), established(10, 7, customer), established(10, 7, phone)}, 0,
			with(base, func(a *reporting.Attempt) { a.Outcome, a.Answered, a.Connected = campaign.Answered, at(10), at(10) })},
		{"busy", []step{dial(0, 1, phone, ""), conf(0.001, 1, 7), failed(1.5, 7, cti.CECBusy), endCall(1.5, 7)}, 0,
			with(base, func(a *reporting.Attempt) { a.Outcome, a.Cause, a.End = campaign.Busy, "CEC_BUSY", at(1.5) })},
		{"no answer", []step{dial(0, 1, phone, ""), conf(0.001, 1, 7), delivered(2, 7, customer), failed(26, 7, cti.CECCallNotAnswered), endCall(26, 7)}, 0,
			with(base, func(a *reporting.Attempt) {
				a.Outcome, a.Cause, a.Alerting, a.End = campaign.NoAnswer, "CEC_CALL_NOT_ANSWERED", at(2), at(26)
			})},
		{"ended while ringing", []step{dial(0, 1, phone, ""), conf(0.001, 1, 7), delivered(2, 7, customer), endCall(9, 7)}, 0,
			with(base, func(a *reporting.Attempt) { a.Outcome, a.Alerting, a.End = campaign.NoAnswer, at(2), at(9) })},
		{"SIT tone", []step{dial(0, 1, phone, ""), conf(0.001, 1, 7), failed(3, 7, cti.CECDestNotObtainable), endCall(3, 7)}, 0,
			with(base, func(a *reporting.Attempt) {
				a.Outcome, a.Cause, a.End = campaign.Failed, "CEC_DEST_NOT_OBTAINABLE", at(3)
			})},
		{"abandoned: the agent was not free", []step{dial(0, 1, phone, ""), conf(0.001, 1, 7), delivered(2, 7, customer),
			established(8, 7, customer), cleared(8, 7), endCall(8, 7)}, 0,
			with(base, func(a *reporting.Attempt) {
				a.Outcome, a.Alerting, a.Answered, a.End = campaign.Abandoned, at(2), at(8), at(8)
			})},
		{"refused", []step{dial(0, 1, phone, ""), {0.001, false, &cti.ControlFailureConf{InvokeID: 1, FailureCode: cti.CFInvalidCallingDevice}}}, 0,
			with(base, func(a *reporting.Attempt) {
				a.CallID, a.Outcome, a.Cause, a.End = 0, campaign.Failed, "refused: CF_INVALID_CALLING_DEVICE", at(0.001)
			})},
		{"refused by FAILURE_CONF", []step{dial(0, 1, phone, ""), {0.001, false, &cti.FailureConf{InvokeID: 1, Status: cti.StatusInvalidDeviceIDType}}}, 0,
			with(base, func(a *reporting.Attempt) {
				a.CallID, a.Outcome, a.Cause, a.End = 0, campaign.Failed, "refused: E_CTI_INVALID_DEVICE_ID_TYPE", at(0.001)
			})},
		{"still dialing", []step{dial(0, 1, phone, ""), conf(0.001, 1, 7), delivered(2, 7, customer)}, 0,
			with(base, func(a *reporting.Attempt) { a.Alerting = at(2) })},
		{"a call-list record", []step{dial(0, 1, phone, "42"), conf(0.001, 1, 7), failed(1, 7, cti.CECBusy), endCall(1, 7)}, 0,
			with(base, func(a *reporting.Attempt) {
				a.RecordID, a.AttemptNumber, a.Outcome, a.Cause, a.End = 42, 1, campaign.Busy, "CEC_BUSY", at(1)
			})},

		// Pool mode: placed from a port, transferred to whichever agent
		// is free.
		{"pool: connected within the limit", []step{dial(0, 1, port, ""), conf(0.001, 1, 7), delivered(2, 7, customer),
			established(10, 7, customer), delivered(10, 7, port), established(10, 7, port), established(11.5, 7, phone2), endCall(100, 7)}, 0,
			with(pool, func(a *reporting.Attempt) {
				a.AgentID, a.Outcome, a.Alerting, a.Answered, a.Connected, a.End = "1302", campaign.Answered, at(2), at(10), at(11.5), at(100)
			})},
		{"pool: connected late counts abandoned", []step{dial(0, 1, port, ""), conf(0.001, 1, 7), established(10, 7, customer),
			established(10, 7, port), established(12.5, 7, phone2), endCall(100, 7)}, 0,
			with(pool, func(a *reporting.Attempt) {
				a.AgentID, a.Outcome, a.Answered, a.Connected, a.End = "1302", campaign.Abandoned, at(10), at(12.5), at(100)
			})},
		{"pool: no agent, safe-harbour message", []step{dial(0, 1, port, ""), conf(0.001, 1, 7), established(10, 7, customer),
			established(10, 7, port), endCall(18, 7)}, 0,
			with(pool, func(a *reporting.Attempt) { a.Outcome, a.Answered, a.End = campaign.Abandoned, at(10), at(18) })},
		{"pool: waiting at the run's end, within the limit", []step{dial(0, 1, port, ""), conf(0.001, 1, 7), established(10, 7, customer),
			established(10, 7, port)}, 11,
			with(pool, func(a *reporting.Attempt) { a.Answered = at(10) })},
		{"pool: waiting at the run's end, past the limit", []step{dial(0, 1, port, ""), conf(0.001, 1, 7), established(10, 7, customer),
			established(10, 7, port)}, 12.5,
			with(pool, func(a *reporting.Attempt) { a.Outcome, a.Answered = campaign.Abandoned, at(10) })},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := New(testConfig())
			if err != nil {
				t.Fatal(err)
			}
			play(t, r, tc.steps)
			now := at(60)
			if tc.now != 0 {
				now = at(tc.now)
			}
			got := r.Attempts(now)
			if len(got) != 1 {
				t.Fatalf("%d attempts, want 1: %+v", len(got), got)
			}
			if !reflect.DeepEqual(got[0], tc.want) {
				t.Errorf("got\n%+v\nwant\n%+v", got[0], tc.want)
			}
			if r.Undecodable() != 0 {
				t.Errorf("%d undecodable frames", r.Undecodable())
			}
		})
	}
}

// Other calls on the session (inbound, other clients' calls, events of
// calls already ended) change no attempt; a record's attempts are
// numbered; attempts come out in start order.
func TestAttemptsIgnoreOtherCallsAndNumberRecords(t *testing.T) {
	r, err := New(testConfig())
	if err != nil {
		t.Fatal(err)
	}
	play(t, r, []step{
		established(0.5, 99, phone), // an inbound call at the agent
		dial(1, 1, phone, "42"), conf(1.001, 1, 7), failed(2, 7, cti.CECBusy), endCall(2, 7),
		established(3, 7, customer), // after END_CALL: not the attempt's any more
		dial(5, 2, phone2, ""), dial(5, 3, port, "42"), conf(5.001, 3, 9), conf(5.001, 2, 8),
		endCall(6, 99),
	})
	got := r.Attempts(at(60))
	var summary []string
	for _, a := range got {
		summary = append(summary, strings.Join([]string{a.Start.Format("05.000"), a.AgentID + a.Port, string(a.Outcome)}, " "))
		if a.RecordID == 42 && a.AttemptNumber == 0 {
			t.Errorf("record 42 attempt unnumbered: %+v", a)
		}
	}
	want := []string{"01.000 1301 busy", "05.000 1302 ", "05.000 5001 "}
	if !reflect.DeepEqual(summary, want) {
		t.Errorf("attempts %q, want %q", summary, want)
	}
	if got[0].Answered != (time.Time{}) {
		t.Errorf("an event after END_CALL changed the attempt: %+v", got[0])
	}
	if got[2].AttemptNumber != 2 || got[2].CallID != 9 || got[1].CallID != 8 {
		t.Errorf("second attempt of record 42 %+v, synthetic %+v", got[2], got[1])
	}
}

// A lost session ends what was in flight as unknown (a connected call
// stays a connect, ended then); a new OPEN_REQ's version is used.
func TestClosedSessionEndsAttemptsUnknown(t *testing.T) {
	r, err := New(testConfig())
	if err != nil {
		t.Fatal(err)
	}
	play(t, r, []step{
		{0, true, &cti.OpenReq{InvokeID: 1, VersionNumber: 20, ClientID: "ctl", ClientPassword: []byte{}}},
		dial(1, 2, phone, ""), conf(1.001, 2, 7), established(5, 7, customer), established(5, 7, phone),
		dial(2, 3, phone2, ""), conf(2.001, 3, 8),
		dial(3, 4, port, ""),
	})
	r.Closed(at(10))
	play(t, r, []step{endCall(11, 7)}) // a stale event of the old session
	var got []string
	for _, a := range r.Attempts(at(60)) {
		got = append(got, string(a.Outcome)+"@"+a.End.Format("05"))
	}
	if want := []string{"answered@10", "unknown@10", "unknown@10"}; !reflect.DeepEqual(got, want) {
		t.Errorf("after Closed %v, want %v", got, want)
	}
	if r.pv != 20 {
		t.Errorf("version %d after OPEN_REQ of version 20", r.pv)
	}
}

func TestUndecodableFramesAreCountedAndSkipped(t *testing.T) {
	r, err := New(testConfig())
	if err != nil {
		t.Fatal(err)
	}
	play(t, r, []step{dial(0, 1, phone, ""), conf(0.001, 1, 7)})
	bad := frame(t, &cti.EndCallEvent{ConnectionCallID: 7, ConnectionDeviceID: customer})
	r.Received(at(1), bad[:cti.HeaderSize+3]) // cut short
	r.Received(at(1), bad[:4])                // not even a header
	r.Sent(at(1), frame(t, &cti.MakePredictiveCallReq{InvokeID: 2, OriginatingDeviceID: phone, DialedNumber: customer})[:cti.HeaderSize+2])
	if r.Undecodable() != 2 {
		t.Errorf("%d undecodable frames counted, want 2", r.Undecodable())
	}
	if got := r.Attempts(at(2)); len(got) != 1 || got[0].Outcome != "" {
		t.Errorf("attempts %+v: want the first, still in flight", got)
	}
}

func TestConfigErrorsNameTheField(t *testing.T) {
	for _, tc := range []struct {
		change func(*Config)
		want   string
	}{
		{func(c *Config) { c.Campaign = "" }, "Config.Campaign"},
		{func(c *Config) { c.Mode = "" }, "Config.Mode"},
		{func(c *Config) { c.Agents[""] = "9" }, "Config.Agents"},
		{func(c *Config) { c.Ports = append(c.Ports, port) }, `Config.Ports [2] "5001"`},
		{func(c *Config) { c.Ports = append(c.Ports, phone) }, "agent 1301's instrument"},
		{func(c *Config) { c.ConnectWithin = -time.Second }, "Config.ConnectWithin"},
		{func(c *Config) { c.Version = 9 }, "Config.Version"},
	} {
		cfg := testConfig()
		tc.change(&cfg)
		_, err := New(cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want one naming %q", err, tc.want)
		}
	}
}
