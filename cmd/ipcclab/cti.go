package main

import (
	"context"
	"errors"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/ipcclab/ipcclab/internal/ctitool"
	"github.com/ipcclab/ipcclab/protocol/cti"
)

func newCTI() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cti",
		Short: "Poke a live CTI Server: dump its events, send it a request",
	}
	cmd.AddCommand(newCTIDump(), newCTISend())
	return cmd
}

func ctiSessionFlags(f *pflag.FlagSet, o *ctitool.SessionOptions, version *uint32, defaultClient string) {
	f.StringVar(&o.Addr, "addr", "127.0.0.1:42027", "CTI Server address HOST:PORT")
	f.Uint32Var(version, "version", uint32(ctitool.DefaultVersion), "protocol version (OPEN_REQ VersionNumber)")
	f.StringVar(&o.ClientID, "client-id", defaultClient, "OPEN_REQ ClientID")
	f.Uint32Var(&o.PeripheralID, "peripheral-id", 0, "OPEN_REQ PeripheralID (default: any)")
	f.BoolVar(&o.JSON, "json", false, "print one JSON object per message")
}

func newCTIDump() *cobra.Command {
	var (
		opts     ctitool.DumpOptions
		version  uint32
		services []string
	)
	cmd := &cobra.Command{
		Use:   "dump",
		Short: "Open an ALL_EVENTS session and print every message, one line each",
		Long: `dump opens a monitoring session (ALL_EVENTS: every call event of the protocol
version, every agent state; IdleTimeout 60 s, heartbeats every 15 s) and
prints every message the CTI Server sends, decoded, one line each: wall-clock
time, direction, message name and every field (enumerations by name and
number). It closes the session with CLOSE_REQ on SIGINT or after --duration.
A refused OPEN_REQ prints the FAILURE_CONF and exits non-zero.`,
		Example: "  ipcclab cti dump --addr 127.0.0.1:42027\n  ipcclab cti dump --addr 127.0.0.1:42027 --json --duration 30s",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Version = cti.ProtocolVersion(version)
			if len(services) > 0 {
				m, err := ctitool.ParseEnum("ServiceMask", strings.Join(services, "|"))
				if err != nil {
					return err
				}
				opts.Services = cti.ServiceMask(m)
			}
			err := ctitool.DumpAddr(cmd.Context(), opts, cmd.OutOrStdout())
			if errors.Is(err, context.Canceled) {
				return nil
			}
			return err
		},
	}
	f := cmd.Flags()
	ctiSessionFlags(f, &opts.SessionOptions, &version, "ipcclab-cti-dump")
	f.StringSliceVar(&services, "services", nil, "services to request, by name or number (default ALL_EVENTS), e.g. ALL_EVENTS,CALL_DATA_UPDATE")
	f.DurationVar(&opts.Duration, "duration", 0, "stop after this long (default: until interrupted)")
	return cmd
}

func newCTISend() *cobra.Command {
	var (
		opts    ctitool.SendOptions
		version uint32
	)
	cmd := &cobra.Command{
		Use:   "send MESSAGE [FIELD=VALUE ...]",
		Short: "Send one request on a CLIENT_CONTROL session and print its confirmation",
		Long: `send opens a CLIENT_CONTROL session (plus ALL_EVENTS unless --quiet), builds
the request MESSAGE (case-insensitive, with or without _REQ) from FIELD=VALUE
assignments by reference field name, sends it with a fresh InvokeID and
prints it and the confirmation. FAILURE_CONF or CONTROL_FAILURE_CONF exit
non-zero. --follow D also prints the events that follow for D.

Values: numbers decimal or 0x hex; enumerations by name, with or without
their prefix (AVAILABLE, AGENT_STATE_AVAILABLE), or by number; strings as
they are. Repeated groups in wire order (SkillGroupNumber=10
SkillGroupPriority=1 …); NamedVariable=name=value.`,
		Example: "  ipcclab cti send --addr 127.0.0.1:42027 set_agent_state AgentID=1201 AgentState=AVAILABLE\n" +
			"  ipcclab cti send --addr 127.0.0.1:42027 --follow 5s QUERY_AGENT_STATE_REQ PeripheralID=5000 AgentID=1201",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Version = cti.ProtocolVersion(version)
			return ctitool.SendAddr(cmd.Context(), opts, args[0], args[1:], cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	ctiSessionFlags(f, &opts.SessionOptions, &version, "ipcclab-cti-send")
	f.BoolVar(&opts.Quiet, "quiet", false, "open CLIENT_CONTROL only (no ALL_EVENTS)")
	f.DurationVar(&opts.Follow, "follow", 0, "print the events that follow the confirmation for this long")
	return cmd
}
