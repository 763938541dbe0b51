package sipsum

import (
	"slices"
	"strings"
	"testing"
)

// scenario is a call flow and what its dialog summary must say.
type scenario struct {
	name   string
	script func(c *call)
	want   func(t *testing.T, d Dialog)
}

func mediaSummary(d Dialog) []string {
	var out []string
	for _, x := range d.Media {
		s := x.Role + " " + x.Side + " " + x.Message + " " + x.Media[0].Direction
		if x.Hold {
			s += " hold"
		}
		out = append(out, s)
	}
	return out
}

var scenarios = []scenario{
	{
		name:   "answered call with BYE",
		script: answeredCall,
		want: func(t *testing.T, d Dialog) {
			if d.Outcome != Answered || d.FinalStatus != 200 || d.Method != "INVITE" || d.Messages != 7 || d.Retransmissions != 0 {
				t.Errorf("outcome %q %d, method %q, %d messages, %d retransmissions", d.Outcome, d.FinalStatus, d.Method, d.Messages, d.Retransmissions)
			}
			if d.RingingAfterMs != 100 || d.AnsweredAfterMs != 1500 || d.TalkMs != 30000 {
				t.Errorf("ringing after %v ms, answered after %v ms, talk %v ms; want 100, 1500, 30000", d.RingingAfterMs, d.AnsweredAfterMs, d.TalkMs)
			}
			if d.HungUpBy != SideCallee || d.Cause == nil || *d.Cause != (Cause{"Q.850", 16, "Normal call clearing"}) {
				t.Errorf("hung up by %q, cause %+v", d.HungUpBy, d.Cause)
			}
			if d.Caller != (Party{URI: "sip:1001@10.0.0.1", Tag: "c-call"}) || d.Callee != (Party{URI: "sip:8005550100@10.0.0.2", Tag: "g-call"}) ||
				d.RequestURI != "sip:8005550100@10.0.0.2" || d.Dialled != "8005550100" {
				t.Errorf("caller %+v callee %+v request URI %q", d.Caller, d.Callee, d.RequestURI)
			}
			if got, want := mediaSummary(d), []string{"offer caller INVITE sendrecv", "answer callee 200 OK (INVITE) sendrecv"}; !slices.Equal(got, want) {
				t.Errorf("media %q, want %q", got, want)
			}
			if ep, ok := d.Media[1].Media[0].Endpoint(); !ok || ep.String() != "10.0.0.2:30000" || len(d.Notes) != 0 {
				t.Errorf("answer endpoint %v %v, notes %q", ep, ok, d.Notes)
			}
			var lines []string
			for _, s := range d.Ladder {
				lines = append(lines, s.Line)
			}
			want := []string{"INVITE sip:8005550100@10.0.0.2", "100 Trying", "180 Ringing", "200 OK (INVITE)", "ACK sip:8005550100@10.0.0.2",
				"BYE sip:1001@10.0.0.1", "200 OK (BYE)"}
			if !slices.Equal(lines, want) {
				t.Errorf("ladder %q, want %q", lines, want)
			}
		},
	},
	{
		name: "cancelled before answer",
		script: func(c *call) {
			c.request(0, true, "INVITE", 1, "z9hG4bK-inv1", false, nil, offerSDP("sendrecv"))
			c.response(30, true, 100, "Trying", "INVITE", 1, "z9hG4bK-inv1", false, nil, "")
			c.response(200, true, 183, "Session Progress", "INVITE", 1, "z9hG4bK-inv1", true, nil, answerSDP("sendrecv"))
			c.request(8000, true, "CANCEL", 1, "z9hG4bK-inv1", false, []string{`Reason: Q.850;cause=16`}, "")
			c.response(8010, true, 200, "OK", "CANCEL", 1, "z9hG4bK-inv1", false, nil, "")
			c.response(8020, true, 487, "Request Terminated", "INVITE", 1, "z9hG4bK-inv1", true, nil, "")
			c.request(8030, true, "ACK", 1, "z9hG4bK-inv1", true, nil, "")
		},
		want: func(t *testing.T, d Dialog) {
			if d.Outcome != Cancelled || d.FinalStatus != 487 || d.HungUpBy != "" || !d.Answered.IsZero() || d.TalkMs != 0 {
				t.Errorf("outcome %q %d, hung up by %q, answered %v, talk %v", d.Outcome, d.FinalStatus, d.HungUpBy, d.Answered, d.TalkMs)
			}
			// Early media: the 183 answers the offer; ringing counts from 18x.
			if d.RingingAfterMs != 200 || len(d.Media) != 2 || d.Media[1].Message != "183 Session Progress" || len(d.Notes) != 0 {
				t.Errorf("ringing after %v ms, media %+v, notes %q", d.RingingAfterMs, d.Media, d.Notes)
			}
		},
	},
	{
		name: "busy with a Q.850 cause",
		script: func(c *call) {
			c.request(0, true, "INVITE", 1, "z9hG4bK-inv1", false, nil, offerSDP("sendrecv"))
			c.response(20, true, 100, "Trying", "INVITE", 1, "z9hG4bK-inv1", false, nil, "")
			c.response(300, true, 486, "Busy Here", "INVITE", 1, "z9hG4bK-inv1", true, []string{`Reason: SIP;cause=486, Q.850;cause=17;text="User busy"`}, "")
			c.request(310, true, "ACK", 1, "z9hG4bK-inv1", true, nil, "")
		},
		want: func(t *testing.T, d Dialog) {
			if d.Outcome != Rejected || d.FinalStatus != 486 || d.FinalText != "Busy Here" || d.Cause == nil || *d.Cause != (Cause{"Q.850", 17, "User busy"}) {
				t.Errorf("outcome %q %d %q cause %+v", d.Outcome, d.FinalStatus, d.FinalText, d.Cause)
			}
			if d.AnsweredAfterMs != 0 || d.RingingAfterMs != 0 || len(d.Notes) != 0 {
				t.Errorf("answered after %v, ringing after %v, notes %q", d.AnsweredAfterMs, d.RingingAfterMs, d.Notes)
			}
		},
	},
	{
		name: "retransmitted INVITE, 200 OK never acknowledged",
		script: func(c *call) {
			c.request(0, true, "INVITE", 1, "z9hG4bK-inv1", false, nil, offerSDP("sendrecv"))
			c.request(500, true, "INVITE", 1, "z9hG4bK-inv1", false, nil, offerSDP("sendrecv"))
			c.response(510, true, 100, "Trying", "INVITE", 1, "z9hG4bK-inv1", false, nil, "")
			c.request(1500, true, "INVITE", 1, "z9hG4bK-inv1", false, nil, offerSDP("sendrecv"))
			c.response(1510, true, 100, "Trying", "INVITE", 1, "z9hG4bK-inv1", false, nil, "")
			c.response(2000, true, 200, "OK", "INVITE", 1, "z9hG4bK-inv1", true, nil, answerSDP("sendrecv"))
			c.response(2500, true, 200, "OK", "INVITE", 1, "z9hG4bK-inv1", true, nil, answerSDP("sendrecv"))
		},
		want: func(t *testing.T, d Dialog) {
			if d.Retransmissions != 4 || d.Messages != 7 || d.Outcome != Answered || d.AnsweredAfterMs != 2000 {
				t.Errorf("%d retransmissions of %d messages, outcome %q after %v ms; want 4 of 7, answered after 2000", d.Retransmissions, d.Messages, d.Outcome, d.AnsweredAfterMs)
			}
			var flags []bool
			for _, s := range d.Ladder {
				flags = append(flags, s.Retransmission)
			}
			if want := []bool{false, true, false, true, true, false, true}; !slices.Equal(flags, want) {
				t.Errorf("retransmission flags %v, want %v", flags, want)
			}
			if want := []string{"no ACK for 200 OK (INVITE CSeq 1)"}; !slices.Equal(d.Notes, want) {
				t.Errorf("notes %q, want %q", d.Notes, want)
			}
			if len(d.Media) != 2 {
				t.Errorf("%d media exchanges, want 2 (retransmissions not repeated)", len(d.Media))
			}
		},
	},
	{
		name: "hold and resume by re-INVITE",
		script: func(c *call) {
			c.request(0, true, "INVITE", 1, "z9hG4bK-inv1", false, nil, offerSDP("sendrecv"))
			c.response(100, true, 180, "Ringing", "INVITE", 1, "z9hG4bK-inv1", true, nil, "")
			c.response(1000, true, 200, "OK", "INVITE", 1, "z9hG4bK-inv1", true, nil, answerSDP("sendrecv"))
			c.request(1010, true, "ACK", 1, "z9hG4bK-ack1", true, nil, "")
			// The callee (an agent's phone behind the gateway) holds…
			c.request(10000, false, "INVITE", 1, "z9hG4bK-reinv1", true, nil, answerSDP("sendonly"))
			c.response(10010, false, 200, "OK", "INVITE", 1, "z9hG4bK-reinv1", true, nil, offerSDP("recvonly"))
			c.request(10020, false, "ACK", 1, "z9hG4bK-reack1", true, nil, "")
			// …and resumes.
			c.request(20000, false, "INVITE", 2, "z9hG4bK-reinv2", true, nil, answerSDP("sendrecv"))
			c.response(20010, false, 200, "OK", "INVITE", 2, "z9hG4bK-reinv2", true, nil, offerSDP("sendrecv"))
			c.request(20020, false, "ACK", 2, "z9hG4bK-reack2", true, nil, "")
			c.request(30000, true, "BYE", 2, "z9hG4bK-bye", true, nil, "")
			c.response(30010, true, 200, "OK", "BYE", 2, "z9hG4bK-bye", true, nil, "")
		},
		want: func(t *testing.T, d Dialog) {
			want := []string{
				"offer caller INVITE sendrecv", "answer callee 200 OK (INVITE) sendrecv",
				"offer callee INVITE sendonly hold", "answer caller 200 OK (INVITE) recvonly hold",
				"offer callee INVITE sendrecv", "answer caller 200 OK (INVITE) sendrecv",
			}
			if got := mediaSummary(d); !slices.Equal(got, want) {
				t.Errorf("media\n%q\nwant\n%q", got, want)
			}
			if d.HungUpBy != SideCaller || d.Outcome != Answered || d.TalkMs != 29000 || len(d.Notes) != 0 {
				t.Errorf("hung up by %q, outcome %q, talk %v ms, notes %q", d.HungUpBy, d.Outcome, d.TalkMs, d.Notes)
			}
		},
	},
	{
		name: "authentication challenge then answer",
		script: func(c *call) {
			c.request(0, true, "INVITE", 1, "z9hG4bK-inv1", false, nil, offerSDP("sendrecv"))
			c.response(10, true, 407, "Proxy Authentication Required", "INVITE", 1, "z9hG4bK-inv1", true, nil, "")
			c.request(20, true, "ACK", 1, "z9hG4bK-inv1", true, nil, "")
			c.request(30, true, "INVITE", 2, "z9hG4bK-inv2", false, []string{`Proxy-Authorization: Digest username="1001"`}, offerSDP("sendrecv"))
			c.response(400, true, 180, "Ringing", "INVITE", 2, "z9hG4bK-inv2", true, nil, "")
			c.response(900, true, 200, "OK", "INVITE", 2, "z9hG4bK-inv2", true, nil, answerSDP("sendrecv"))
			c.request(910, true, "ACK", 2, "z9hG4bK-ack2", true, nil, "")
		},
		want: func(t *testing.T, d Dialog) {
			if d.Outcome != Answered || d.FinalStatus != 200 || d.RingingAfterMs != 400 || d.AnsweredAfterMs != 900 || len(d.Notes) != 0 {
				t.Errorf("outcome %q %d, ringing after %v, answered after %v, notes %q", d.Outcome, d.FinalStatus, d.RingingAfterMs, d.AnsweredAfterMs, d.Notes)
			}
		},
	},
	{
		name: "BYE without a dialog",
		script: func(c *call) {
			c.request(0, true, "BYE", 5, "z9hG4bK-bye", true, nil, "")
			c.response(10, true, 481, "Call/Transaction Does Not Exist", "BYE", 5, "z9hG4bK-bye", true, nil, "")
		},
		want: func(t *testing.T, d Dialog) {
			want := []string{"capture starts inside the dialog (first message: BYE)", "BYE without an established dialog (frame 1)"}
			if d.Outcome != Unknown || d.Method != "" || d.HungUpBy != "" || !slices.Equal(d.Notes, want) {
				t.Errorf("outcome %q, method %q, hung up by %q, notes %q; want unknown and notes %q", d.Outcome, d.Method, d.HungUpBy, d.Notes, want)
			}
		},
	},
	{
		name: "re-INVITE and BYE never answered",
		script: func(c *call) {
			c.request(0, true, "INVITE", 1, "z9hG4bK-inv1", false, nil, offerSDP("sendrecv"))
			c.response(1000, true, 200, "OK", "INVITE", 1, "z9hG4bK-inv1", true, nil, answerSDP("sendrecv"))
			c.request(1010, true, "ACK", 1, "z9hG4bK-ack1", true, nil, "")
			c.request(5000, true, "INVITE", 2, "z9hG4bK-inv2", true, nil, offerSDP("inactive"))
			c.request(9000, true, "BYE", 3, "z9hG4bK-bye", true, nil, "")
		},
		want: func(t *testing.T, d Dialog) {
			want := []string{"re-INVITE CSeq 2 has no final response", "BYE has no final response"}
			if !slices.Equal(d.Notes, want) || d.HungUpBy != SideCaller {
				t.Errorf("notes %q, hung up by %q; want %q and caller", d.Notes, d.HungUpBy, want)
			}
		},
	},
	{
		name: "OPTIONS keep-alive",
		script: func(c *call) {
			c.request(0, true, "OPTIONS", 1, "z9hG4bK-opt", false, nil, "")
			c.response(5, true, 200, "OK", "OPTIONS", 1, "z9hG4bK-opt", true, nil, "")
		},
		want: func(t *testing.T, d Dialog) {
			if d.Outcome != Completed || d.Method != "OPTIONS" || !d.Invited.IsZero() || len(d.Notes) != 0 {
				t.Errorf("outcome %q, method %q, invited %v, notes %q", d.Outcome, d.Method, d.Invited, d.Notes)
			}
		},
	},
	{
		name: "INVITE never answered",
		script: func(c *call) {
			c.request(0, true, "INVITE", 1, "z9hG4bK-inv1", false, nil, offerSDP("sendrecv"))
			c.response(20, true, 100, "Trying", "INVITE", 1, "z9hG4bK-inv1", false, nil, "")
		},
		want: func(t *testing.T, d Dialog) {
			if d.Outcome != NoFinalResponse || len(d.Notes) != 0 {
				t.Errorf("outcome %q, notes %q", d.Outcome, d.Notes)
			}
		},
	},
}

// TestDialogs runs each scenario over UDP and checks its summary.
func TestDialogs(t *testing.T) {
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			tr := NewTracker()
			c := newCall(t, tr, "call-"+strings.ReplaceAll(sc.name, " ", "-")+"@10.0.0.1")
			sc.script(c)
			d := onlyDialog(t, tr)
			sc.want(t, d)
			if st := tr.Stats(); st.Malformed != 0 || len(tr.Notes()) != 0 {
				t.Errorf("stats %+v, notes %+v", st, tr.Notes())
			}
		})
	}
}

// TestDialogsGolden renders every scenario's dialog as text, and the
// answered call as JSON.
func TestDialogsGolden(t *testing.T) {
	tr := NewTracker()
	var text []byte
	for i, sc := range scenarios {
		c := newCall(t, tr, "call-"+strings.ReplaceAll(sc.name, " ", "-")+"@10.0.0.1")
		c.frame = 100 * i
		sc.script(c)
	}
	ds := tr.Dialogs()
	for i := range ds {
		text = ds[i].AppendText(text)
	}
	golden(t, "dialogs.golden", text)
	// One dialog is enough to pin the JSON field names and shapes.
	i := slices.IndexFunc(ds, func(d Dialog) bool { return strings.HasPrefix(d.CallID, "call-answered") })
	goldenJSON(t, "dialog.json.golden", ds[i])
}
