package lab

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"runtime/debug"
	"sync"
	"time"

	"github.com/ipcclab/ipcclab/controller"
	"github.com/ipcclab/ipcclab/controller/campaign"
	"github.com/ipcclab/ipcclab/controller/dialer"
	"github.com/ipcclab/ipcclab/emulator/callmanager"
	"github.com/ipcclab/ipcclab/emulator/centre"
	"github.com/ipcclab/ipcclab/emulator/ctiserver"
	"github.com/ipcclab/ipcclab/internal/capture"
	"github.com/ipcclab/ipcclab/internal/ctitcp"
	"github.com/ipcclab/ipcclab/internal/rtpio"
	"github.com/ipcclab/ipcclab/internal/sim"
)

// linkLatency is the one-way latency of the simulated CTI link.
const linkLatency = time.Millisecond

func stamped(sched sim.Scheduler, logf func(string, ...any)) func(string, ...any) {
	if logf == nil {
		return nil
	}
	return func(format string, args ...any) {
		logf("%s "+format, append([]any{sched.Now().Format("15:04:05.000")}, args...)...)
	}
}

// wallStamped stamps log lines with the wall clock: in real time the loop's
// clock is the wall clock, and the voice components log from their own
// goroutines, where reading the loop's clock would race with the loop.
func wallStamped(logf func(string, ...any)) func(string, ...any) {
	if logf == nil {
		return nil
	}
	return func(format string, args ...any) {
		logf("%s "+format, append([]any{time.Now().Format("15:04:05.000")}, args...)...)
	}
}

// Simulate runs the scenario in virtual time: the same emulator, CTI Server
// and controller cores as Up, exchanging real encoded CTI frames over a
// simulated link. The result depends only on the scenario and the seed.
func Simulate(ctx context.Context, opts SimOptions) (*Report, error) {
	sc := opts.Scenario
	if sc == nil {
		return nil, errors.New("lab: no scenario")
	}
	if opts.Duration <= 0 {
		return nil, fmt.Errorf("lab: duration must be positive, got %v", opts.Duration)
	}
	wall := time.Now()
	loop := sim.NewLoop(sc.StartTime())
	logf := stamped(loop, opts.Logf)
	voice, err := newSimVoice(sc, opts, loop, logf) // nil unless --voice or voice.simulate (simvoice.go)
	if err != nil {
		return nil, err
	}
	cen, err := centre.New(voice.centreConfig(CentreConfig(sc)), loop, opts.Seed)
	if err != nil {
		return nil, fmt.Errorf("scenario %s: %w", sc.Name, err)
	}
	if err := voice.attach(cen); err != nil {
		return nil, err
	}
	scfg := ctiserver.DefaultConfig()
	scfg.Logf = logf
	srv, err := ctiserver.New(scfg, loop, cen.PG(), cen.Router())
	if err != nil {
		return nil, err
	}
	cen.Subscribe(srv.PGEvent)
	intervals := newIntervalCollector(opts.Intervals, sc, loop, cen)
	ccfg, err := ControllerConfig(sc, opts.NoBlend)
	if err != nil {
		return nil, err
	}
	ccfg.Logf = logf
	if opts.Pacing != nil {
		if err := resumePacing(ccfg, *opts.Pacing); err != nil {
			return nil, fmt.Errorf("scenario %s: %w", sc.Name, err)
		}
	}
	var camp *labCampaign
	if sc.Outbound.List != nil && sc.Outbound.Enabled {
		// The store's clock is virtual time: the list is imported at the
		// start of the day, and the records are due from then.
		if camp, err = openCampaign(sc, loop.Now, logf); err != nil {
			return nil, err
		}
		defer camp.store.Close()
		ccfg.Records = camp.source()
	}
	core, err := controller.NewCore(ccfg, loop)
	if err != nil {
		return nil, err
	}
	atts, err := newAttemptCollector(opts.Attempts, sc, ccfg)
	if err != nil {
		return nil, err
	}
	var actionErr error
	for _, a := range opts.At {
		sctx := &SimContext{Core: core}
		if camp != nil {
			sctx.Store, sctx.CampaignID = camp.store, camp.id
		}
		loop.At(loop.Now().Add(a.After), func(time.Time) {
			if err := a.Do(sctx); err != nil && actionErr == nil {
				actionErr = err
			}
		})
	}
	link := sim.NewLink(loop, linkLatency)
	serverEnd, clientEnd := link.Side(0), link.Side(1)
	sess := srv.Accept(serverEnd, "controller (simulated link)")
	toServer, toClient := sess.Receive, core.Receive
	if opts.Capture != "" {
		// The simulated CTI link is the part of a simulated day that has
		// packets: record it as the TCP stream it stands for, stamped with
		// virtual time.
		w, err := capture.Create(opts.Capture)
		if err != nil {
			return nil, fmt.Errorf("--capture: %w", err)
		}
		defer w.Close()
		voice.capture(w) // with --voice, its SIP messages and RTP packets too
		flow := w.NewTCPFlow(loop.Now(), simControllerAddr, simCTIServerAddr)
		defer func() { flow.Close(loop.Now(), true) }()
		toServer = func(f []byte) { flow.Data(loop.Now(), true, f); sess.Receive(f) }
		toClient = func(f []byte) { flow.Data(loop.Now(), false, f); core.Receive(f) }
	}
	if tap := opts.Tap; tap != nil {
		server, client := toServer, toClient
		toServer = func(f []byte) { tap(loop.Now(), false, f); server(f) }
		toClient = func(f []byte) { tap(loop.Now(), true, f); client(f) }
	}
	toClient = atts.watch(loop.Now, toClient)
	tl, err := startTimeline(alertsTimeline(sc, opts.Timeline), sc, opts.Seed, cen, core, ccfg, loop.Now(), loop.Now().Add(opts.Duration))
	if err != nil {
		return nil, err
	}
	alerting, err := startAlerts(sc, tl, camp, logf)
	if err != nil {
		return nil, err
	}
	defer alerting.close()
	toServer = tl.watch(loop.Now, toServer)
	serverEnd.OnReceive(toServer, sess.Closed)
	clientEnd.OnReceive(toClient, core.Closed)

	cen.Start()
	core.Start(atts.transport(loop.Now, clientEnd))
	start := loop.Now()
	end := start.Add(opts.Duration)
	for t := start; t.Before(end); {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if actionErr != nil {
			return nil, fmt.Errorf("lab: simulation action: %w", actionErr)
		}
		t = tl.nextStop(t, end)
		loop.RunVirtual(t)
		tl.observe(t)
		if opts.Progress != nil {
			opts.Progress(t.Sub(start), opts.Duration)
		}
	}
	intervals.finish(loop.Now())
	if err := atts.finish(loop.Now(), camp); err != nil {
		return nil, err
	}
	st := core.Status()
	rep := buildReport(sc.Name, opts.Seed, cen.Report(), st, ccfg.BlendEnabled)
	if p := st.Report.Pool; p != nil {
		agentHours := float64(len(ccfg.Agents)) * opts.Duration.Hours()
		rep.Outbound.Pool = &PoolReport{Strategy: p.Strategy, LiveAnswered: p.LiveAnswered, Abandoned: p.Abandoned,
			AbandonRate: round(p.AbandonRate, 5), AbandonLimit: p.AbandonLimit, Agents: len(ccfg.Agents),
			TalkShare:            round(st.Report.TalkSeconds/(agentHours*3600), 4),
			ConnectsPerAgentHour: round(float64(p.LiveAnswered-p.Abandoned)/agentHours, 3), UKOfcom: p.UKOfcom}
	}
	if ccfg.Pool != nil {
		if r, ok := ccfg.Pool.Strategy.(dialer.Resumable); ok {
			ps := r.PacingState()
			rep.PacingState = &ps
		}
	}
	if p := st.Report.Preview; p != nil {
		rep.Outbound.Preview = &PreviewReport{Presented: p.Presented, Accepted: p.Accepted, Skipped: p.Skipped, Rejected: p.Rejected,
			Callbacks: p.Callbacks, Closed: p.Closed, TimedOut: p.TimedOut, Lost: p.Lost, Refused: p.Refused, Dialed: p.Dialed,
			Connects: st.Report.Connects, Abandoned: st.Report.Abandoned}
	}
	if actionErr != nil {
		return nil, fmt.Errorf("lab: simulation action: %w", actionErr)
	}
	if camp != nil {
		rep.Outbound.List = camp.report()
	}
	rep.Alerts = alerting.finish()
	rep.Voice = voice.report()
	if err := tl.finish(); err != nil {
		return nil, err
	}
	rep.EventsProcessed = loop.Processed() - intervals.events()
	rep.CTIMessages = link.Frames()
	rep.WallSeconds = round(time.Since(wall).Seconds(), 3)
	return rep, nil
}

// The simulated CTI link's endpoints in a capture: the controller and the
// CTI Server side A at their usual port.
var (
	simControllerAddr = netip.MustParseAddrPort("127.0.0.2:50000")
	simCTIServerAddr  = netip.MustParseAddrPort("127.0.0.1:42027")
)

func buildReport(name string, seed uint64, cr centre.Report, st controller.Status, blendOn bool) *Report {
	r := &Report{
		Scenario:   name,
		Seed:       seed,
		SimSeconds: round(cr.SimSeconds, 3),
		Inbound: InboundReport{
			Offered:      int(cr.Inbound.Offered),
			Answered:     int(cr.Inbound.Answered),
			Abandoned:    int(cr.Inbound.Abandoned),
			ServiceLevel: round(cr.Inbound.ServiceLevel, 4),
			ASASeconds:   round(cr.Inbound.ASASeconds, 2),
		},
		Outbound: OutboundReport{
			Attempts:  cr.Outbound.Attempts,
			Connects:  cr.Outbound.Connects,
			Abandoned: cr.Outbound.Abandoned,
			Busy:      cr.Outbound.Busy,
			NoAnswer:  cr.Outbound.NoAnswer,
		},
		Agents: AgentsReport{LoggedOn: cr.Agents.LoggedOn, Occupancy: round(cr.Agents.Occupancy, 4),
			Lines: cr.Agents.Lines, LineOccupancy: round(cr.Agents.LineOccupancy, 4)},
		Blending: BlendReport{Enabled: blendOn, MovesToInbound: st.Report.MovesToInbound, MovesToOutbound: st.Report.MovesToOutbound,
			ReserveBorrowed: st.Report.ReserveBorrowed},
		Mismatches: append([]string{}, st.Report.Mismatches...),
	}
	for _, ct := range cr.Inbound.CallTypes {
		k := ct.Counters
		r.Inbound.CallTypes = append(r.Inbound.CallTypes, CallTypeReport{Name: ct.Name, Offered: int(k.CallsOffered), Answered: int(k.CallsAnswered),
			Abandoned: int(k.RouterCallsAbandQ + k.RouterCallsAbandToAgent + k.ShortCalls), ServiceLevel: round(ct.ServiceLevel, 4), ASASeconds: round(ct.ASASeconds, 2)})
	}
	for _, h := range cr.Inbound.HalfHours {
		r.Inbound.HalfHours = append(r.Inbound.HalfHours, IntervalReport{Start: h.Start.Format("15:04"), Offered: int(h.Offered),
			Answered: int(h.Answered), Abandoned: int(h.Abandoned), ServiceLevel: round(h.ServiceLevel, 4)})
	}
	return r
}

// Running is a contact centre running in real time on loopback.
type Running struct {
	loop *sim.Loop
	cen  *centre.Centre
	srv  *ctiserver.Server
	addr string
	// side B of the pair, when configured.
	srvB    *ctiserver.Server
	addrB   string
	lnA     net.Listener
	cancelA context.CancelFunc
	ctrl    *controller.Handle
	camp    *labCampaign // outbound.list's campaign, nil without one
	api     *http.Server // the campaign API (UpOptions.CampaignAddr)
	apiAddr string
	live    *liveInfo // the dashboard's view (live.go)
	voice   *voice
	capture *capture.Writer
	alerts  *alertRun // controller.alerts judged live, nil when none is on
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	once    sync.Once
	begin   sync.Once

	// savePacing, when set, saves the controller's pacing state in camp's
	// store file (pacingstore.go); Stop calls it once more.
	savePacing func()

	// intervals cuts the run into half-hour intervals for the dashboard
	// (liveintervals.go); loop's, like the centre.
	intervals *intervalCollector
	// store writes them and the attempts to UpOptions.Store (nil
	// without; livestore.go).
	store *liveStore
}

// Start brings up the emulated IPCC with its CTI Server listening on
// opts.CTIAddr and, unless NoController, the reference controller connected
// to it over TCP. It returns once the CTI Server listens.
func Start(ctx context.Context, opts UpOptions) (*Running, error) {
	sc := opts.Scenario
	if sc == nil {
		return nil, errors.New("lab: no scenario")
	}
	loop := sim.NewLoop(time.Now())
	logf := wallStamped(opts.Logf)
	ccfg := CentreConfig(sc)
	ccfg.Start = time.Time{} // the arrival profile starts now
	var vc *voice
	var vs VoiceSettings
	if opts.SIPAddr != "" {
		var err error
		if vs, err = VoiceConfig(sc); err != nil {
			return nil, fmt.Errorf("scenario %s: %w", sc.Name, err)
		}
		if !vs.Media && os.Getenv("GOGC") == "" {
			// Signalling only: the collector took a fifth of the CPU per
			// call at GOGC=100 (bench sip). With media on it stays at the
			// default, which keeps the 20 ms pacer on time (a larger heap
			// made RTP late in bench media).
			debug.SetGCPercent(400)
		}
		vc = &voice{loop: loop}
		ccfg.Voice = vc
	}
	cen, err := centre.New(ccfg, loop, opts.Seed)
	if err != nil {
		return nil, fmt.Errorf("scenario %s: %w", sc.Name, err)
	}
	var capw *capture.Writer
	if opts.Capture != "" {
		if capw, err = capture.Create(opts.Capture); err != nil {
			return nil, fmt.Errorf("--capture: %w", err)
		}
	}
	scfg := ctiserver.DefaultConfig()
	scfg.Logf = logf
	srv, err := ctiserver.New(scfg, loop, cen.PG(), cen.Router())
	if err != nil {
		return nil, err
	}
	cen.Subscribe(srv.PGEvent)
	var ctrlCfg controller.Config
	if !opts.NoController {
		if ctrlCfg, err = ControllerConfig(sc, opts.NoBlend); err != nil {
			return nil, err
		}
		ctrlCfg.Logf = opts.Logf
	}
	var camp *labCampaign
	if !opts.NoController && sc.Outbound.List != nil && sc.Outbound.Enabled {
		if camp, err = openCampaignAt(sc, opts.CampaignStore, time.Now, logf); err != nil {
			if capw != nil {
				_ = capw.Close()
			}
			return nil, err
		}
		ctrlCfg.Records = camp.source()
		// A resumed campaign paces by its stored settings, which the
		// campaign API may have changed since the scenario was written.
		if camp.list.Resumed {
			c, err := camp.store.Campaign(camp.id)
			if err != nil {
				camp.store.Close()
				if capw != nil {
					_ = capw.Close()
				}
				return nil, fmt.Errorf("--campaign-store: %w", err)
			}
			l := campaign.Limits(c)
			ctrlCfg.Limits = &l
			if want := sc.Controller.Pacing.AbandonLimit; logf != nil && want != 0 && want != c.AbandonTarget {
				logf("campaign %d: resumed with its stored abandon limit %g, not the scenario's %g (the store holds a campaign to at most %g; PATCH /campaigns/%d changes it)",
					camp.id, c.AbandonTarget, want, campaign.DefaultAbandonTarget, camp.id)
			}
		}
		if opts.CampaignStore != "" && ctrlCfg.Pool != nil {
			camp.resumePacing(ctrlCfg, logf)
		}
	}
	closeCamp := func() {
		if camp != nil {
			camp.store.Close()
		}
	}
	if opts.CampaignStore != "" && camp == nil {
		if capw != nil {
			_ = capw.Close()
		}
		return nil, errors.New("--campaign-store: the scenario has no call list (outbound.list with outbound.enabled) run by the controller")
	}
	addr := opts.CTIAddr
	if addr == "" {
		addr = "127.0.0.1:42027"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		closeCamp()
		return nil, fmt.Errorf("CTI Server: %w", err)
	}
	if capw != nil {
		ln = capture.TapListener(ln, capw)
	}
	var lnB net.Listener
	var srvB *ctiserver.Server
	if opts.CTIAddrB != "" {
		bcfg := scfg
		bcfg.Standby = true
		if srvB, err = ctiserver.New(bcfg, loop, cen.PG(), cen.Router()); err != nil {
			ln.Close()
			closeCamp()
			return nil, err
		}
		cen.Subscribe(srvB.PGEvent)
		if lnB, err = net.Listen("tcp", opts.CTIAddrB); err != nil {
			ln.Close()
			closeCamp()
			return nil, fmt.Errorf("CTI Server side B: %w", err)
		}
	}
	var store *liveStore
	if opts.Store != "" {
		var cc *controller.Config
		if !opts.NoController {
			cc = &ctrlCfg
		}
		if store, err = openLiveStore(opts.Store, sc, cc, logf); err != nil {
			ln.Close()
			if lnB != nil {
				lnB.Close()
			}
			if capw != nil {
				_ = capw.Close()
			}
			closeCamp()
			return nil, err
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	ctxA, cancelA := context.WithCancel(ctx)
	r := &Running{store: store, loop: loop, cen: cen, srv: srv, addr: ln.Addr().String(), cancel: cancel, srvB: srvB, lnA: ln, cancelA: cancelA,
		voice: vc, capture: capw, camp: camp, live: newLiveInfo(sc, ctrlCfg, cen.DialerPorts())}
	// Armed before the loop runs, as Simulate arms it before its first step.
	r.intervals = newLiveIntervals(sc, loop, cen)
	if store != nil {
		r.intervals.onCut = store.interval
	}
	r.wg.Add(2)
	go func() { defer r.wg.Done(); _ = loop.RunRealtime(ctx, time.Now) }()
	if vc != nil {
		if err := vc.start(ctx, cen, voiceOptions{SIPAddr: opts.SIPAddr, PSTNAddr: opts.PSTNAddr, Capture: capw, Settings: vs,
			Seed: opts.Seed, Accounts: CallerAccounts(sc), Logf: logf}); err != nil {
			_ = ln.Close()
			if lnB != nil {
				_ = lnB.Close()
			}
			cancel()
			r.wg.Done() // the CTI Server goroutine below never starts
			r.wg.Wait()
			store.close(nil)
			if capw != nil {
				_ = capw.Close()
			}
			closeCamp()
			return nil, err
		}
	}
	if !opts.HoldTraffic {
		r.Begin()
	}
	go func() {
		defer r.wg.Done()
		_ = ctitcp.Serve(ctxA, ln, loop, func(c *ctitcp.Conn) ctitcp.FrameSink { return &moveWatch{FrameSink: r.acceptCTI(srv, c), r: r} })
	}()
	addrs := []string{r.addr}
	if srvB != nil {
		r.addrB = lnB.Addr().String()
		addrs = append(addrs, r.addrB)
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			_ = ctitcp.Serve(ctx, lnB, loop, func(c *ctitcp.Conn) ctitcp.FrameSink { return &moveWatch{FrameSink: r.acceptCTI(srvB, c), r: r} })
		}()
	}
	if !opts.NoController {
		h, err := controller.Start(ctx, ctrlCfg, addrs...)
		if err != nil {
			r.Stop()
			if le := (*controller.LimitError)(nil); camp != nil && errors.As(err, &le) {
				err = fmt.Errorf("--campaign-store: campaign %d's stored settings: %w", camp.id, err)
			}
			return nil, err
		}
		r.ctrl = h
		if camp != nil && opts.CampaignStore != "" && ctrlCfg.Pool != nil {
			r.savePacing = func() {
				if err := camp.savePacing(h, time.Now()); err != nil && logf != nil {
					logf("campaign %d: pacing state not saved: %v", camp.id, err)
				}
			}
			r.wg.Add(1)
			go func() { defer r.wg.Done(); every(ctx, pacingSaveEvery, r.savePacing) }()
		}
	}
	token, err := httpToken(opts)
	if err != nil {
		r.Stop()
		return nil, err
	}
	r.live.token = token
	if opts.CampaignAddr != "" {
		if err := r.serveCampaignAPI(opts.CampaignAddr, token); err != nil {
			r.Stop()
			return nil, err
		}
	}
	if opts.HTTPAddr != "" {
		if err := r.serveDashboard(opts.HTTPAddr, token, opts.Desktop, logf); err != nil {
			r.Stop()
			return nil, err
		}
	}
	if err := r.startLiveAlerts(ctx, sc, alertLogf(opts, logf)); err != nil {
		r.Stop()
		return nil, err
	}
	return r, nil
}

// Begin logs the agents in and starts the arrivals (at once unless
// UpOptions.HoldTraffic); calling it again does nothing.
func (r *Running) Begin() {
	r.begin.Do(func() { r.loop.Post(func(time.Time) { r.cen.Start() }) })
}

// CTIAddr is the address the CTI Server (side A) listens on.
func (r *Running) CTIAddr() string { return r.addr }

// CTIAddrB is side B's address, "" when no pair was configured.
func (r *Running) CTIAddrB() string { return r.addrB }

// FailSideA makes side A fail, as a PG node going down would: its clients
// get FAILURE_EVENT E_CTI_CTI_SERVER_OFFLINE and are disconnected, it stops
// accepting connections, and side B becomes active (§5.10).
func (r *Running) FailSideA() error {
	if r.srvB == nil {
		return errors.New("lab: no side B configured")
	}
	done := make(chan struct{})
	r.loop.Post(func(time.Time) {
		r.srv.Shutdown()
		r.srvB.Promote()
		close(done)
	})
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		return errors.New("lab: the centre did not answer")
	}
	// Stop accepting at once; cancelling ends side A's connection handling.
	_ = r.lnA.Close()
	r.cancelA()
	return nil
}

// Controller is the running controller (nil with NoController).
func (r *Running) Controller() *controller.Handle { return r.ctrl }

// Report returns the emulator's figures so far.
func (r *Running) Report() centre.Report {
	ch := make(chan centre.Report, 1)
	r.loop.Post(func(time.Time) { ch <- r.cen.Report() })
	select {
	case rep := <-ch:
		return rep
	case <-time.After(2 * time.Second):
		return centre.Report{}
	}
}

// Stop stops the controller and the emulator and waits for every goroutine
// they started.
func (r *Running) Stop() error {
	r.once.Do(func() {
		// The partial interval and the attempts (--store) as the run
		// stands, calls in flight included, before anything stops.
		r.closeLiveStore()
		if r.savePacing != nil {
			r.savePacing()
		}
		if r.ctrl != nil {
			r.ctrl.Stop()
		}
		// Clients are told the CTI Server is going away (FAILURE_EVENT,
		// §5.5) before their connections close.
		done := make(chan struct{})
		r.loop.Post(func(time.Time) {
			r.srv.Shutdown()
			if r.srvB != nil {
				r.srvB.Shutdown()
			}
			close(done)
		})
		select {
		case <-done:
		case <-time.After(time.Second):
		}
		if r.voice != nil {
			r.voice.close()
		}
		if r.api != nil {
			_ = r.api.Close()
		}
		r.stopDashboard()
		r.cancel()
		r.wg.Wait()
		r.alerts.close()
		if r.camp != nil {
			r.camp.store.Close()
		}
		if r.capture != nil {
			_ = r.capture.Close()
		}
	})
	return nil
}

// Arrive brings n callers of the first call type in now, besides the
// scenario's arrival profile (benchmarks hold an exact number of calls).
func (r *Running) Arrive(n int) {
	r.loop.Post(func(time.Time) {
		for i := 0; i < n; i++ {
			r.cen.PSTN().Arrive(0)
		}
	})
}

// VoiceCounters are the voice path's totals so far (zero without it).
type VoiceCounters struct {
	// RTP over every emulated endpoint (gateway, IP-IVR, phones, CTI
	// ports).
	RTP rtpio.Stats
	// CallManager's calls.
	CallManager callmanager.Stats
	// PGEvents is the number of CTI-visible events the PG emitted.
	PGEvents uint64
}

// VoiceCounters returns the voice path's counters.
func (r *Running) VoiceCounters() VoiceCounters {
	var vc VoiceCounters
	ch := make(chan uint64, 1)
	r.loop.Post(func(time.Time) { ch <- r.cen.PG().EventsEmitted() })
	select {
	case vc.PGEvents = <-ch:
	case <-time.After(2 * time.Second):
	}
	if r.voice == nil {
		return vc
	}
	vc.RTP = r.voice.media.Stats()
	vc.CallManager = r.voice.cm.Stats()
	return vc
}

// RegistrarAddr is CallManager's SIP address, where phones register (""
// without the voice path).
func (r *Running) RegistrarAddr() string {
	if r.voice == nil {
		return ""
	}
	return r.voice.cm.Addr().String()
}

// SIPAddr is the gateway's PSTN-side SIP address ("" without the voice
// path).
func (r *Running) SIPAddr() string {
	if r.voice == nil {
		return ""
	}
	return r.voice.gw.PSTNAddr().String()
}

// TrunkAddr is the gateway's trunk-side SIP address, where dialers send
// their INVITEs ("" without the voice path).
func (r *Running) TrunkAddr() string {
	if r.voice == nil {
		return ""
	}
	return r.voice.gw.TrunkAddr().String()
}

// Up runs Start and prints what it serves, until ctx is done.
func Up(ctx context.Context, opts UpOptions, out io.Writer) error {
	// The centre runs on its own context so that the closing summary can
	// still be read after ctx ends; Stop ends it.
	r, err := Start(context.WithoutCancel(ctx), opts)
	if err != nil {
		return err
	}
	defer r.Stop()
	sc := opts.Scenario
	fmt.Fprintf(out, "ipcclab up: scenario %q, seed %d\n", sc.Name, opts.Seed)
	dc := ctiserver.DefaultConfig()
	fmt.Fprintf(out, "  CTI Server (side A)   %s   GED-188, protocol versions %d-%d, peripheral %d\n", r.CTIAddr(), dc.MinVersion, dc.MaxVersion, sc.ICM.PeripheralID)
	if r.addrB != "" {
		fmt.Fprintf(out, "  CTI Server (side B)   %s   standby until side A fails (PV24+ clients with CTI_SERVICE_ACTIVE_STANDBY)\n", r.addrB)
	}
	for _, ct := range sc.ICM.CallTypes {
		fmt.Fprintf(out, "  inbound call type     %-14s dialed number %s\n", ct.Name, ct.DialedNumber)
	}
	if v := r.voice; v != nil {
		fmt.Fprintf(out, "  voice gateway         %s   SIP UDP+TCP, PSTN side: dial sip:<dialed number>@%s\n", v.gw.PSTNAddr(), v.gw.PSTNAddr())
		fmt.Fprintf(out, "  gateway trunk         %s   SIP trunk to CallManager and dialers\n", v.gw.TrunkAddr())
		fmt.Fprintf(out, "  CallManager           %s   registrar for the agents' phones, route points, B2BUA\n", v.cm.Addr())
		fmt.Fprintf(out, "  IP-IVR                %s   translation routes 7000-8999\n", v.ivr.Addr())
		fmt.Fprintf(out, "  agent phones          %s   %d registered\n", v.phones.Addr(), v.nphones)
		if opts.PSTNAddr != "" {
			fmt.Fprintf(out, "  PSTN peer             %s   outbound calls go there\n", opts.PSTNAddr)
		}
	}
	if opts.Capture != "" {
		fmt.Fprintf(out, "  capture               %s   pcapng (CTI, SIP, RTP)\n", opts.Capture)
	}
	if r.ctrl != nil {
		fmt.Fprintf(out, "  controller            connected to %s as %q (blending %v)\n", r.CTIAddr(), ControllerClientID, !opts.NoBlend && sc.Controller.Blend.Enabled)
	}
	if r.camp != nil {
		if r.camp.list.Resumed {
			fmt.Fprintf(out, "  campaign              %d resumed from %s with its stored settings (nothing imported)\n", r.camp.id, opts.CampaignStore)
		} else {
			fmt.Fprintf(out, "  campaign              %d records from %s, campaign %d\n", r.camp.list.Imported, listName(sc), r.camp.id)
		}
	}
	r.printHTTP(out, hostname())
	fmt.Fprintln(out, "inbound traffic has started; Ctrl-C stops")
	tick := time.NewTicker(30 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			printSummary(out, r)
			r.Stop()
			fmt.Fprintln(out, "stopped")
			return ctx.Err()
		case <-tick.C:
			printSummary(out, r)
		}
	}
}

func printSummary(out io.Writer, r *Running) {
	rep := r.Report()
	line := fmt.Sprintf("inbound %d offered, %d answered, %d abandoned, service level %.1f %%; outbound %d attempts, %d connects",
		rep.Inbound.Offered, rep.Inbound.Answered, rep.Inbound.Abandoned, 100*rep.Inbound.ServiceLevel, rep.Outbound.Attempts, rep.Outbound.Connects)
	if r.ctrl != nil {
		st := r.ctrl.Status()
		line += fmt.Sprintf("; blending %d to inbound, %d back; pacing %.2f", st.Report.MovesToInbound, st.Report.MovesToOutbound, st.PacingFactor)
		for _, m := range st.Report.Mismatches {
			line += "\n  MISMATCH: " + m
		}
	}
	fmt.Fprintln(out, line)
}
