package main

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/ipcclab/ipcclab/pcaps"
	"github.com/ipcclab/ipcclab/pcaps/replay"
	"github.com/ipcclab/ipcclab/protocol/cti"
)

func newPcap() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "pcap",
		Short: "Decode, follow and replay captures of CTI Server, SIP and RTP traffic",
	}
	cmd.AddCommand(newPcapDecode(), newPcapCalls(), newPcapReplay(loadScripts), newPcapDissector())
	return cmd
}

func newPcapDecode() *cobra.Command {
	var (
		asJSON  bool
		version uint32
	)
	cmd := &cobra.Command{
		Use:   "decode FILE",
		Short: "Print every CTI message, SIP dialog and RTP stream of a pcap or pcapng capture",
		Long: `decode reads a pcap or pcapng capture, reassembles its TCP streams, finds the
CTI Server sessions by content (on any port), and prints every CTI message with
frame, timestamp, direction, type and every field by name and enum name; then
the SIP dialogs and the RTP streams (packets, loss, jitter, payload types, DTMF).
What could not be decoded (lost segments, a capture that starts mid-stream, a
message that does not decode) is listed at the end, and decoding carries on.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := pcaps.DecodeFile(args[0], pcaps.Options{Version: cti.ProtocolVersion(version)})
			if err != nil {
				return err
			}
			if asJSON {
				return c.WriteJSON(cmd.OutOrStdout())
			}
			return c.WriteText(cmd.OutOrStdout())
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON lines instead of text")
	cmd.Flags().Uint32Var(&version, "version", 0, "CTI protocol version of sessions without an OPEN_REQ (0: infer from the messages)")
	return cmd
}

// loadScripts decodes a capture and turns each CTI session into a replay
// script: every message, in capture order, with its time and direction.
func loadScripts(path string) ([]replay.Script, error) {
	c, err := pcaps.DecodeFile(path, pcaps.Options{})
	if err != nil {
		return nil, err
	}
	var out []replay.Script
	for _, s := range c.Sessions {
		sc := replay.Script{
			Name:    fmt.Sprintf("%s session %d (client %s, server %s)", filepath.Base(path), s.ID, s.Client, s.Server),
			Version: s.Version,
		}
		for _, m := range s.Messages {
			sc.Frames = append(sc.Frames, replay.Frame{Time: m.Time, FromClient: m.FromClient, Data: m.Raw})
		}
		out = append(out, sc)
	}
	return out, nil
}
