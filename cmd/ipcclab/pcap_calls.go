package main

import (
	"github.com/spf13/cobra"

	"github.com/ipcclab/ipcclab/pcaps"
	"github.com/ipcclab/ipcclab/pcaps/follow"
	"github.com/ipcclab/ipcclab/protocol/cti"
)

func newPcapCalls() *cobra.Command {
	var (
		asJSON  bool
		version uint32
		o       follow.Options
	)
	cmd := &cobra.Command{
		Use:   "calls FILE",
		Short: "Follow each call, agent and CTI session of a capture and flag anomalies",
		Long: `calls decodes a pcap or pcapng capture like "pcap decode" and follows it:
one ladder per call joining the CTI call (peripheral + ConnectionCallID, merged
across sessions), its SIP dialogs (by ANI, DNIS, dialed number or agent
extension within a time window) and their RTP streams (by the SDP addresses);
each agent's state timeline; each CTI session's heartbeats, largest gaps,
refusals, PG status and end. Anomalies come first: events after END_CALL,
out-of-order call events, agents stuck RESERVED, heartbeat gaps beyond the
OPEN_REQ IdleTimeout, requests without confirmation, sessions that end with
requests outstanding, the PG going offline mid-call, agents made available
while talking, one-way RTP.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Validate(); err != nil {
				return err
			}
			c, err := pcaps.DecodeFile(args[0], pcaps.Options{Version: cti.ProtocolVersion(version)})
			if err != nil {
				return err
			}
			r := follow.Follow(c, o)
			if asJSON {
				return r.WriteJSON(cmd.OutOrStdout())
			}
			return r.WriteText(cmd.OutOrStdout())
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	cmd.Flags().Uint32Var(&version, "version", 0, "CTI protocol version of sessions without an OPEN_REQ (0: infer from the messages)")
	cmd.Flags().DurationVar(&o.ReservedAfter, "reserved-after", follow.DefaultReservedAfter,
		"flag an agent RESERVED this long with no state change and no call ringing")
	cmd.Flags().DurationVar(&o.ConfirmWithin, "confirm-within", follow.DefaultConfirmWithin,
		"flag a request not confirmed within this time")
	cmd.Flags().DurationVar(&o.JoinWindow, "join-window", follow.DefaultJoinWindow,
		"widen each CTI call's time span by this on both sides when joining SIP dialogs")
	return cmd
}
