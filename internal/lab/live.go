package lab

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/ipcclab/ipcclab/controller"
	"github.com/ipcclab/ipcclab/controller/campaign"
	"github.com/ipcclab/ipcclab/controller/web"
	"github.com/ipcclab/ipcclab/emulator/icm"
	"github.com/ipcclab/ipcclab/internal/ctitcp"
	"github.com/ipcclab/ipcclab/protocol/cti"
	"github.com/ipcclab/ipcclab/scenarios"
)

// DefaultHTTPAddr is where `ipcclab up` serves the dashboard and /metrics.
const DefaultHTTPAddr = "127.0.0.1:8080"

// recentMoves is how many blending moves the live snapshot keeps.
const recentMoves = 50

// Snapshot is the running centre as the dashboard shows it.
type Snapshot = web.Snapshot

// liveInfo is what the live snapshot needs to know of the run beyond the
// centre itself, fixed at Start. moves is the loop's: only read and
// written on the loop goroutine.
type liveInfo struct {
	scenario      string
	ctrlAgents    int
	pool          bool
	linesPerAgent float64
	ports         map[string]bool
	moves         []web.Move
	// alerts are the active alerts as last judged (livealerts.go): the
	// loop's, like moves.
	alerts []web.Alert

	web *web.Server
	// closeDesktop ends the agent desktop mounted at /desktop/ on the
	// same server (nil without one); peripheral the PG its sessions name.
	closeDesktop func()
	peripheral   uint32
	// outboundReason is the controller's Not Ready reason for agents
	// working outbound (0 without a controller).
	outboundReason uint16
	// campaign is the outbound campaign as configured, nil when the
	// controller dials none; a call list's progress is added from the
	// campaign store on each snapshot (liveCampaign).
	campaign *web.Campaign
	// pages are the pages mounted beside the dashboard (the agent desktop,
	// the web callback form), for up's banner.
	pages    []servedPage
	http     *http.Server
	httpAddr string
	token    string
	// deskAgents are the agents the desktop may log in (deskAgents).
	deskAgents []string
	// desktop is the scenario's desktop section (DesktopEnv.Desktop).
	desktop scenarios.Desktop
}

// newLiveInfo: ccfg is the controller's configuration (zero with
// NoController).
func newLiveInfo(sc *scenarios.Scenario, ccfg controller.Config, dialerPorts []string) *liveInfo {
	l := &liveInfo{scenario: sc.Name, ctrlAgents: len(ccfg.Agents), pool: ccfg.Pool != nil, ports: map[string]bool{},
		peripheral: sc.ICM.PeripheralID, outboundReason: ccfg.NotReadyReason, deskAgents: deskAgents(sc), desktop: sc.Desktop}
	if ccfg.Pool == nil && ccfg.Preview == nil {
		l.linesPerAgent = ccfg.Pacer.LinesPerAgent
	}
	if ccfg.OutboundEnabled {
		l.campaign = configuredCampaign(sc, ccfg, l.linesPerAgent)
	}
	for _, p := range dialerPorts {
		l.ports[p] = true
	}
	return l
}

// Snapshot reads the centre's figures: one post to the centre's loop for
// everything of the emulator, the controller's status from its own loop
// before, and the call list's progress from the campaign store after.
func (r *Running) Snapshot(ctx context.Context) (Snapshot, error) {
	var st controller.Status
	if r.ctrl != nil {
		st = r.ctrl.Status()
	}
	ch := make(chan Snapshot, 1)
	r.loop.Post(func(now time.Time) { ch <- r.liveSnapshot(now, st) })
	var s Snapshot
	select {
	case s = <-ch:
	case <-ctx.Done():
		return Snapshot{}, fmt.Errorf("lab: the centre did not answer: %w", ctx.Err())
	}
	switch {
	case r.camp != nil:
		cp, err := r.liveCampaign()
		if err != nil {
			return Snapshot{}, err
		}
		s.Campaign = cp
	case r.live.campaign != nil:
		cp := *r.live.campaign
		cp.Scheduled = []web.Scheduled{}
		s.Campaign = &cp
	}
	return s, nil
}

// configuredCampaign is the campaign the controller dials as the
// scenario configures it, named and moded as openCampaign names the
// store's campaign of a call list. The abandon target is the limit the
// controller holds the campaign to (the pool's, else the scenario's
// controller.pacing.abandon_limit, which the alerts judge by too).
func configuredCampaign(sc *scenarios.Scenario, ccfg controller.Config, linesPerAgent float64) *web.Campaign {
	cp := &web.Campaign{Name: ccfg.Campaign, Mode: string(campaignMode(sc)), LinesPerAgent: linesPerAgent,
		AbandonTarget: sc.Controller.Pacing.AbandonLimit, Scheduled: []web.Scheduled{}}
	if cp.Name == "" {
		cp.Name = sc.Name
	}
	if ccfg.Pool != nil {
		cp.AbandonTarget = ccfg.Pool.AbandonLimit
	}
	return cp
}

// campaignMode is the campaign mode of the scenario's pacing: pool paces
// predictively, preview previews, the per-agent pacer is progressive.
func campaignMode(sc *scenarios.Scenario) campaign.Mode {
	switch sc.Controller.Pacing.Mode {
	case scenarios.PacingPool:
		return campaign.Predictive
	case scenarios.PacingPreview:
		return campaign.Preview
	}
	return campaign.Progressive
}

// liveSnapshot runs on the loop.
func (r *Running) liveSnapshot(now time.Time, st controller.Status) Snapshot {
	l := r.live
	sm := sampleCentre(now, r.cen, st, l.ports, l.ctrlAgents, l.pool)
	o := r.cen.Outbound()
	s := Snapshot{At: now, Scenario: l.scenario,
		Centre: web.Centre{InQueue: sm.InQueue, LongestWaitSeconds: sm.LongestWaitSeconds,
			ServiceLevelTo5: sm.ServiceLevelTo5, ServiceLevelHalf: sm.ServiceLevelHalf,
			Offered: sm.Offered, Answered: sm.Answered, Abandoned: sm.Abandoned,
			Agents: web.AgentStates{TalkingInbound: sm.Agents.TalkingInbound, TalkingOutbound: sm.Agents.TalkingOutbound,
				Reserved: sm.Agents.Reserved, Ready: sm.Agents.Ready, NotReady: sm.Agents.NotReady, WrapUp: sm.Agents.WrapUp,
				OutboundIdle: sm.Agents.OutboundIdle, LoggedIn: sm.Agents.LoggedIn},
			Dialing: sm.Dialing, OutboundAgents: sm.OutboundAgents, DialLevel: sm.DialLevel,
			OutboundAttempts: o.Attempts, OutboundConnects: o.Connects, OutboundAbandoned: o.Abandoned,
			OutboundAbandonRate: sm.OutboundAbandonRate, Lent: sm.Lent,
			MovesToInbound: st.Report.MovesToInbound, MovesToOutbound: st.Report.MovesToOutbound},
		Moves:  append([]web.Move{}, l.moves...),
		Alerts: append([]web.Alert{}, l.alerts...),
	}

	router := r.cen.Router()
	sgNames := map[uint32]string{}
	for _, sg := range router.SkillGroups() {
		sgNames[sg.Number] = sg.Name
	}
	for _, a := range r.cen.PG().Agents() {
		if !a.LoggedOn {
			continue
		}
		row := web.Agent{ID: a.AgentID, Extension: a.Extension, State: a.State.String(), CallID: a.CallID, Since: a.Since,
			SkillGroups: []string{}}
		if a.CallID != 0 {
			row.Direction = "inbound"
			if outbound(a.Direction) {
				row.Direction = "outbound"
			}
		}
		for _, sg := range a.SkillGroups {
			if n, ok := sgNames[sg.Number]; ok {
				row.SkillGroups = append(row.SkillGroups, n)
			} else {
				row.SkillGroups = append(row.SkillGroups, fmt.Sprint(sg.Number))
			}
		}
		s.Agents = append(s.Agents, row)
	}
	lineAgent := map[string]string{}
	for _, a := range r.cen.Agents() {
		if !a.InICM {
			lineAgent[a.Extension] = a.AgentID
		}
	}
	for _, ln := range r.cen.PG().Lines() {
		if l.ports[ln.Extension] {
			continue
		}
		// Since is the line's last change (zero before its first call:
		// the page shows "—").
		row := web.Agent{ID: lineAgent[ln.Extension], Extension: ln.Extension, State: "IDLE", Line: true, Since: ln.Since,
			SkillGroups: []string{}}
		if row.ID == "" {
			row.ID = ln.Extension
		}
		if ln.CallID != 0 {
			row.State, row.CallID, row.Direction = "TALKING", ln.CallID, "outbound"
		}
		s.Agents = append(s.Agents, row)
	}

	for _, cfg := range router.SkillGroups() {
		st, err := router.SkillGroupStats(cfg.Number)
		if err != nil {
			continue // configured groups always have statistics
		}
		s.SkillGroups = append(s.SkillGroups, web.SkillGroup{Number: cfg.Number, Name: cfg.Name,
			LoggedOn: int(st.AgentsLoggedOn), Ready: int(st.AgentsAvail), Reserved: int(st.AgentsReserved),
			TalkingIn: int(st.AgentsTalkingIn), TalkingOut: int(st.AgentsTalkingOut + st.AgentsTalkingAutoOut + st.AgentsTalkingPreview + st.AgentsTalkingReservation),
			Hold: int(st.AgentsHold), WrapUp: int(st.AgentsWorkReady + st.AgentsWorkNotReady), NotReady: int(st.AgentsNotReady),
			BusyOther: int(st.AgentsBusyOther + st.AgentsTalkingOther), InQueue: int(st.RouterCallsQNow), LongestWaitSeconds: int(st.LongestRouterCallQNow)})
	}
	for _, ct := range router.CallTypes() {
		q := web.Queue{CallType: ct.Name, ServiceLevelTo5: -1, ServiceLevelHalf: -1, ServiceLevelToday: -1}
		if cs, err := router.CallTypeStats(ct.ID); err == nil {
			q.InQueue, q.LongestWaitSeconds = int(cs.RouterCallsQNow), int(cs.RouterLongestCallQ)
		}
		if k, err := router.CallTypeCounters(ct.ID, icm.Run); err == nil {
			q.Offered, q.Answered, q.Abandoned = int(k.CallsOffered), int(k.CallsAnswered), int(k.Abandoned())
		}
		for _, w := range []struct {
			win icm.Window
			to  *float64
		}{{icm.To5, &q.ServiceLevelTo5}, {icm.ToHalf, &q.ServiceLevelHalf}, {icm.Today, &q.ServiceLevelToday}} {
			if k, err := router.CallTypeCounters(ct.ID, w.win); err == nil {
				var sl slSum
				sl.add(ct.ServiceLevelType, k)
				if v := sl.level(); v >= 0 {
					*w.to = round(v, 4)
				}
				if w.win == icm.Today {
					q.ASASeconds = round(k.ASA().Seconds(), 2)
					q.AbandonedToday = int(k.Abandoned())
				}
			}
		}
		s.Queues = append(s.Queues, q)
	}
	return s
}

// liveCampaign is the call list's progress, read from the campaign store
// (safe from any goroutine). It runs on every snapshot, so it counts
// (campaign.Store.CountRecords) and reads the few booked records it lists
// rather than the whole list.
func (r *Running) liveCampaign() (*web.Campaign, error) {
	store, id := r.camp.store, r.camp.id
	c, err := store.Campaign(id)
	if err != nil {
		return nil, fmt.Errorf("lab: campaign %d: %w", id, err)
	}
	n, err := store.CountRecords(id)
	if err != nil {
		return nil, fmt.Errorf("lab: campaign %d records: %w", id, err)
	}
	cp := &web.Campaign{ID: id, Name: c.Name, Mode: string(c.Mode), LinesPerAgent: r.live.linesPerAgent,
		AbandonTarget: c.AbandonTarget, List: &web.CallList{Records: n.Records, Left: n.Left()}}
	if cp.Scheduled, err = scheduled(store, id); err != nil {
		return nil, fmt.Errorf("lab: campaign %d: %w", id, err)
	}
	return cp, nil
}

// moveWatch sees the frames a CTI client sends the CTI Server and records
// the blending moves of the reference controller: SET_AGENT_STATE_REQ to
// AVAILABLE (lend) or NOT_READY (return) on the session it opened as
// ControllerClientID. Other clients' state changes are agents' own, not
// blending. It runs on the loop, like the session it wraps.
type moveWatch struct {
	ctitcp.FrameSink
	r          *Running
	pv         cti.ProtocolVersion
	controller bool
}

func (m *moveWatch) Receive(f []byte) {
	if len(f) >= cti.HeaderSize {
		switch cti.MessageType(binary.BigEndian.Uint32(f[4:8])) {
		case cti.MsgOpenReq:
			// OPEN_REQ is decoded with its own VersionNumber whatever
			// version is passed (§5.1).
			if msg, err := cti.DecodeMessage(f, cti.ProtocolVersion(24)); err == nil {
				if o, ok := msg.(*cti.OpenReq); ok {
					m.controller, m.pv = o.ClientID == ControllerClientID, cti.ProtocolVersion(o.VersionNumber)
				}
			}
		case cti.MsgSetAgentStateReq:
			if m.controller {
				m.record(f)
			}
		}
	}
	m.FrameSink.Receive(f)
}

func (m *moveWatch) record(f []byte) {
	msg, err := cti.DecodeMessage(f, m.pv)
	if err != nil {
		return // the CTI Server answers the malformed request itself
	}
	req, ok := msg.(*cti.SetAgentStateReq)
	if !ok {
		return
	}
	kind := ""
	switch req.AgentState {
	case cti.AgentStateAvailable:
		kind = MoveLend
	case cti.AgentStateNotReady:
		kind = MoveReturn
	default:
		return
	}
	l := m.r.live
	l.moves = append(l.moves, web.Move{At: m.r.loop.Now(), Agent: req.AgentID, Kind: kind})
	if n := len(l.moves); n > recentMoves {
		l.moves = append(l.moves[:0], l.moves[n-recentMoves:]...)
	}
}

// serveDashboard serves the dashboard, API and /metrics on addr until Stop.
// token is httpToken's: set whenever addr is off loopback.
func (r *Running) serveDashboard(addr, token string, mk func(DesktopEnv) (http.Handler, func(), error), logf func(string, ...any)) error {
	srv, err := web.New(web.Config{Source: r, Token: token, Logf: logf})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		srv.Close()
		return fmt.Errorf("dashboard: %w", err)
	}
	if mk != nil {
		env := DesktopEnv{CTIAddr: r.addr, PeripheralID: r.live.peripheral, OutboundReason: r.live.outboundReason, Logf: logf,
			DeskAgents: r.live.deskAgents, Desktop: r.live.desktop}
		if r.camp != nil {
			env.Campaign, env.CampaignID = r.camp.store, r.camp.id
		}
		dk, closeFn, err := mk(env)
		if err != nil {
			srv.Close()
			ln.Close()
			return fmt.Errorf("desktop: %w", err)
		}
		srv.Mount(DesktopPath, dk)
		r.live.closeDesktop = closeFn
		r.live.pages = append(r.live.pages, servedPage{"agent desktop", DesktopPath, "log in an agent, take calls, follow the script"})
	}
	if r.camp != nil {
		// The web callback form books into the call list's campaign.
		cb, err := r.callbackPage(logf)
		if err != nil {
			srv.Close()
			ln.Close()
			if r.live.closeDesktop != nil {
				r.live.closeDesktop()
			}
			return fmt.Errorf("callback page: %w", err)
		}
		srv.Mount(web.CallbackPath, cb)
		r.live.pages = append(r.live.pages, servedPage{"web callback", web.CallbackPath, "a customer books a callback into the call list"})
	}
	r.live.web = srv
	r.live.http = &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	r.live.httpAddr = ln.Addr().String()
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		if err := r.live.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) && logf != nil {
			logf("dashboard: %v", err)
		}
	}()
	return nil
}

// stopDashboard ends the event streams and closes the HTTP server.
func (r *Running) stopDashboard() {
	if r.live == nil || r.live.http == nil {
		return
	}
	r.live.web.Close()
	if r.live.closeDesktop != nil {
		r.live.closeDesktop()
	}
	_ = r.live.http.Close()
}

// DesktopPath is where up serves the agent desktop, beside the dashboard.
const DesktopPath = "/desktop/"

// servedPage is a page mounted on the dashboard's server.
type servedPage struct{ name, path, note string }

// printPages prints the pages served beside the dashboard, with the token
// when one is needed; host names a wildcard bind (printHTTP).
func (r *Running) printPages(out io.Writer, host string) {
	addr, _ := browseAddr(r.HTTPAddr(), host)
	q := ""
	if tok := r.HTTPToken(); tok != "" {
		q = "?token=" + tok
	}
	for _, p := range r.live.pages {
		fmt.Fprintf(out, "  %-21s http://%s%s%s   %s\n", p.name, addr, p.path, q, p.note)
	}
}

// HTTPAddr is where the dashboard listens ("" when it does not).
func (r *Running) HTTPAddr() string {
	if r.live == nil {
		return ""
	}
	return r.live.httpAddr
}

// HTTPToken is the token clients off loopback must present to the
// dashboard, the desktop and the campaign API ("" when only loopback
// clients are served).
func (r *Running) HTTPToken() string {
	if r.live == nil {
		return ""
	}
	return r.live.token
}

// DashboardURL is the dashboard's address for a browser, with the token
// when one is needed ("" without the dashboard).
// A wildcard bind's URL names this machine (browseAddr).
func (r *Running) DashboardURL() string {
	u, _ := r.dashboardURL(hostname())
	return u
}

// ensure the watcher is a complete sink.
var _ ctitcp.FrameSink = (*moveWatch)(nil)
