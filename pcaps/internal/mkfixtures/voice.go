package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ipcclab/ipcclab/internal/lab"
	"github.com/ipcclab/ipcclab/protocol/cti"
	"github.com/ipcclab/ipcclab/scenarios"
)

// buildStep5 records step 5 from the real driver: the emulated IPCC with
// its voice path (gateway, CallManager, IP-IVR, phones over SIP and RTP on
// 127.0.0.1) and the reference controller connected over TCP, all captured
// by internal/capture's taps. One caller is brought in by hand (voice.yaml
// has no arrivals), routed to the inbound agent 1001 and delivered to its
// phone at extension 2001; the caller talks for 4 s. Real time: the
// capture differs from run to run (ports, timings, SIP identifiers), so its
// expectations are read back from what was recorded, and checked for the
// facts the fixture exists to show.
func buildStep5(e *env) (*built, error) {
	path := filepath.Join(e.steps, "voice.yaml")
	sc, err := scenarios.Load(path)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "mkfixtures-step5-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "step5.pcapng")
	opts := lab.UpOptions{Scenario: sc, Seed: sc.Seed, CTIAddr: "127.0.0.1:42027", SIPAddr: "127.0.0.1:0",
		HoldTraffic: true, Capture: file, Logf: e.logf}
	r, err := lab.Start(context.Background(), opts)
	if err != nil && strings.Contains(err.Error(), "CTI Server") {
		// 42027 is taken (an `ipcclab up` running): any port will do,
		// the decoder finds CTI by content.
		opts.CTIAddr = "127.0.0.1:0"
		r, err = lab.Start(context.Background(), opts)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: starting the lab: %w", path, err)
	}
	ctiAddr := r.CTIAddr()
	stopped := false
	defer func() {
		if !stopped {
			_ = r.Stop()
		}
	}()
	if err := waitFor(10*time.Second, "the controller's CTI session", func() bool { return r.Controller().Status().Connected }); err != nil {
		return nil, err
	}
	// The caller arrives while the agents are still logged out, so the
	// call queues at IP-IVR, which plays its announcement and collects the
	// caller's account digits (they become CallVariable2); then the agents
	// log in and ICM routes the queued call to 1001.
	r.Arrive(1)
	time.Sleep(ivrWait)
	r.Begin()
	if err := waitFor(20*time.Second, "the call to be answered", func() bool { return r.Report().Inbound.Answered >= 1 }); err != nil {
		return nil, err
	}
	talk := sc.Callers.Talk.Mean.D()
	time.Sleep(talk + 1500*time.Millisecond)
	_ = r.Stop()
	stopped = true
	pcap, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	x, err := extract(pcap)
	if err != nil {
		return nil, fmt.Errorf("reading the recording back: %w", err)
	}
	return step5Expect(pcap, x, ctiAddr, talk)
}

// ivrWait is how long the caller spends at IP-IVR before the agents log
// in: voice.yaml's 1 s announcement and four digits, with room to spare.
const ivrWait = 4 * time.Second

func waitFor(limit time.Duration, what string, ok func() bool) error {
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			return fmt.Errorf("gave up waiting %v for %s", limit, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

// step5Expect checks a recording for what step 5 must show and writes its
// expectations.
func step5Expect(pcap []byte, x *extraction, ctiAddr string, talk time.Duration) (*built, error) {
	if len(x.cti) != 1 {
		return nil, fmt.Errorf("the recording holds %d CTI sessions, want the controller's one", len(x.cti))
	}
	l := x.cti[0]
	var begin *cti.BeginCallEvent
	var beginMsg, delivered, established *ledgerMsg
	for _, lm := range l.msgs[fromServer] {
		switch m := lm.m.(type) {
		case *cti.BeginCallEvent:
			if begin == nil {
				begin, beginMsg = m, lm
			}
		case *cti.CallDeliveredEvent:
			if delivered == nil {
				delivered = lm
			}
		case *cti.CallEstablishedEvent:
			if established == nil {
				established = lm
			}
		}
	}
	if begin == nil || delivered == nil || established == nil {
		return nil, errors.New("the recording has no BEGIN_CALL, CALL_DELIVERED and CALL_ESTABLISHED for the call")
	}
	if begin.CallVariable1 == "" || begin.CallVariable2 == "" {
		return nil, fmt.Errorf("the call's BEGIN_CALL_EVENT lacks its call variables (CallVariable1 %q, CallVariable2 %q): the call did not pass through IP-IVR", begin.CallVariable1, begin.CallVariable2)
	}
	var invite *Dialog
	for i := range x.sip {
		for _, m := range x.sip[i].Messages {
			if m.Line == "INVITE" && invite == nil && strings.HasPrefix(x.sip[i].CallID, "pstn-") {
				invite = &x.sip[i]
			}
		}
	}
	if invite == nil {
		return nil, errors.New("the recording has no INVITE from the gateway")
	}
	both := 0
	for _, s := range x.rtp {
		for _, t := range x.rtp {
			if s.Src == t.Dst && s.Dst == t.Src && s.Packets >= 100 && t.Packets >= 100 && s.Src < t.Src {
				both++
			}
		}
	}
	if both == 0 {
		return nil, errors.New("the recording has no RTP exchanged both ways (≥ 100 packets each)")
	}
	s := l.session()
	s.Agents, s.Calls = timelines(s.Messages)
	var streams []string
	for _, st := range x.rtp {
		if st.Packets >= 100 {
			streams = append(streams, fmt.Sprintf("%s → %s %d packets", st.Src, st.Dst, st.Packets))
		}
	}
	e := &Expect{Scenario: "steps/voice.yaml", CTI: []Session{s}, SIP: x.sip, RTP: x.rtp, Unconfirmed: l.unconfirmed(),
		Live: &LiveFacts{CTIServer: ctiAddr, Recorded: x.t0.UTC().Format(time.RFC3339)}}
	e.Summary = fmt.Sprintf("Step 5, recorded in real time from `ipcclab up`'s driver with the voice path on 127.0.0.1 and the reference controller connected: the phones register with CallManager, the controller opens its CTI session, one caller (ANI %s) arrives at the gateway, which INVITEs CallManager's route point %s (Call-ID %s); no agent is logged in yet, so the call is queued at IP-IVR (translation route 7000), which collects the caller's digits (RFC 4733 events); the agents log in, ICM routes the call to agent 1001, the IVR transfers it (REFER), CallManager INVITEs the agent's phone (extension 2001), the phone rings and answers, and RTP flows both ways (%s). The CTI session shows the call with its data: BEGIN_CALL_EVENT (%s) with CallVariable1=%q CallVariable2=%q, CALL_DELIVERED_EVENT (%s), CALL_ESTABLISHED_EVENT (%s). The caller hangs up after %g s of talk; then the lab stops and the CTI connection ends (%s from the %s, frame %d).",
		begin.ANI, begin.DialedNumber, invite.CallID, strings.Join(streams, ", "), where(beginMsg), begin.CallVariable1, begin.CallVariable2, where(delivered), where(established), talk.Seconds(),
		strings.ToUpper(s.End.How), s.End.From, s.End.Frame)
	e.Decode = []string{
		fmt.Sprintf("one CTI session at PV24 from its OPEN_REQ on %s (found by content)", ctiAddr),
		fmt.Sprintf("%d SIP dialogs (REGISTERs and the two call legs), %d RTP streams; every CTI message decodes", len(x.sip), len(x.rtp)),
	}
	e.Calls = []string{
		fmt.Sprintf("one call joining ConnectionCallID %d, the gateway's and the phone's SIP Call-IDs and the RTP streams between gateway and phone", begin.ConnectionCallID),
		"agent 1001: " + stateTrail(s, "1001"),
	}
	e.Notes = []string{"live recording: not byte-reproducible; regenerate with -only step5-voice and update the golden outputs in the same change"}
	return &built{pcap: pcap, expect: e}, nil
}

// stateTrail is an agent's states in a session, joined by arrows.
func stateTrail(s Session, agent string) string {
	for _, a := range s.Agents {
		if a.Agent != agent {
			continue
		}
		var st []string
		for _, x := range a.States {
			st = append(st, x.State)
		}
		return strings.Join(st, " → ")
	}
	return "no state reported"
}
