package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ipcclab/ipcclab/pcaps/replay"
)

// newPcapReplay is `ipcclab pcap replay FILE`. load turns a capture into its
// CTI sessions (the decoder's loader); the command picks one and replays
// it with package replay.
func newPcapReplay(load func(path string) ([]replay.Script, error)) *cobra.Command {
	var (
		role    string
		target  string
		session int
		wait    time.Duration
		opts    replay.Options
		verbose bool
	)
	cmd := &cobra.Command{
		Use:   "replay FILE",
		Short: "Replay a captured CTI session against a CTI client or CTI Server under test",
		Long: `replay takes one CTI Server session out of a capture and plays one side of it
against a live peer, reporting where the peer does not do what the capture did.

  --role server  act as the captured CTI Server: listen at --target, accept the
                 client under test (the reference controller, say), answer its
                 requests with the captured confirmations (with its own
                 InvokeIDs), send the captured events at their captured times,
                 and compare its requests with the captured ones.
  --role client  act as the captured client: connect to the CTI Server at
                 --target (the emulator, or a real one), send the captured
                 requests, OPEN_REQ first, and compare its answers and events
                 with the captured ones.

Heartbeats and queries the client repeats (statistics polls) follow timers, not
the conversation: they are answered from the capture and their number is not
compared. InvokeIDs and TIME fields are never compared; in the client role the
identifiers the server assigns (call IDs, the monitor ID) are mapped on first
sight. A replay that diverges prints a diff naming each divergence with the
message types and fields concerned and exits non-zero.`,
		Example: `  ipcclab pcap replay field.pcapng --role server --target 127.0.0.1:42027
  ipcclab pcap replay field.pcapng --role client --target 127.0.0.1:42027 --session 2 --speed 10`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r := replay.Role(role)
			if r != replay.RoleServer && r != replay.RoleClient {
				return fmt.Errorf("--role %q: must be server (act as the captured CTI Server) or client (act as the captured client)", role)
			}
			if target == "" {
				return errors.New("--target: the address to listen at (--role server) or to connect to (--role client) is required")
			}
			if err := opts.Validate(); err != nil {
				return err
			}
			scripts, err := load(args[0])
			if err != nil {
				return err
			}
			s, err := pickSession(args[0], scripts, session)
			if err != nil {
				return err
			}
			if verbose {
				opts.Logf = func(format string, a ...any) { fmt.Fprintf(cmd.ErrOrStderr(), format+"\n", a...) }
			}
			ctx := cmd.Context()
			var res *replay.Result
			if r == replay.RoleServer {
				res, err = replayAsServer(ctx, cmd, s, target, wait, opts)
			} else {
				res, err = replayAsClient(ctx, s, target, opts)
			}
			if err != nil {
				return err
			}
			fmt.Fprint(cmd.OutOrStdout(), res.Diff())
			if !res.OK() {
				n := len(res.Divergences)
				return fmt.Errorf("the replay of %q diverged from the capture (%d %s)", s.Name, n, plural(n, "divergence", "divergences"))
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&role, "role", "", "the side to play: server (the captured CTI Server) or client (the captured client)")
	f.StringVar(&target, "target", "", "HOST:PORT to listen at (--role server) or to connect to (--role client)")
	f.IntVar(&session, "session", 0, "which CTI session of the capture to replay, 1-based (required when it holds several)")
	f.Float64Var(&opts.Speed, "speed", 1, "timing: 1 replays with the captured timing, 10 ten times faster")
	f.DurationVar(&opts.MaxGap, "max-gap", 0, "cap every idle gap of the capture at this (0: keep them)")
	f.DurationVar(&opts.Timeout, "timeout", replay.DefaultTimeout, "how long a captured request (server role) or answer (client role) is waited for before it is reported missing")
	f.DurationVar(&wait, "accept-timeout", time.Minute, "--role server: how long to wait for the client to connect")
	f.BoolVar(&opts.StrictEvents, "strict-events", false, "--role client: every captured event must be matched one for one (for a deterministic server such as the emulator)")
	f.BoolVar(&verbose, "verbose", false, "print every message sent and received on stderr")
	return cmd
}

// pickSession returns the session --session names, or the only one.
func pickSession(file string, scripts []replay.Script, n int) (replay.Script, error) {
	list := func() string {
		var b strings.Builder
		for i, s := range scripts {
			fmt.Fprintf(&b, "\n  %d  %s (%d messages)", i+1, s.Name, len(s.Frames))
		}
		return b.String()
	}
	switch {
	case len(scripts) == 0:
		return replay.Script{}, fmt.Errorf("%s: no CTI session found", file)
	case n < 0 || n > len(scripts):
		return replay.Script{}, fmt.Errorf("--session %d: %s holds %d CTI %s:%s", n, file, len(scripts), plural(len(scripts), "session", "sessions"), list())
	case n == 0 && len(scripts) > 1:
		return replay.Script{}, fmt.Errorf("%s holds %d CTI sessions; pick one with --session:%s", file, len(scripts), list())
	case n == 0:
		return scripts[0], nil
	}
	return scripts[n-1], nil
}

// replayAsServer listens at addr, accepts one client within wait and serves
// it the session.
func replayAsServer(ctx context.Context, cmd *cobra.Command, s replay.Script, addr string, wait time.Duration, o replay.Options) (*replay.Result, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--target: %w", err)
	}
	defer ln.Close()
	fmt.Fprintf(cmd.ErrOrStderr(), "replaying %q as the CTI Server on %s: waiting for the client\n", s.Name, ln.Addr())
	actx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	stop := context.AfterFunc(actx, func() { ln.Close() })
	conn, err := ln.Accept()
	stop()
	if err != nil {
		switch {
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case actx.Err() != nil:
			return nil, fmt.Errorf("no client connected to %s within %v (--accept-timeout)", ln.Addr(), wait)
		}
		return nil, err
	}
	return replay.Serve(ctx, conn, s, o)
}

// replayAsClient connects to the CTI Server at addr and drives the session.
func replayAsClient(ctx context.Context, s replay.Script, addr string, o replay.Options) (*replay.Result, error) {
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = replay.DefaultTimeout
	}
	d := net.Dialer{Timeout: timeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--target: %w", err)
	}
	return replay.Drive(ctx, conn, s, o)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
