package main

import (
	"bytes"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/ipcclab/ipcclab/pcaps/dissector"
)

// newPcapDissector is `ipcclab pcap dissector`: the generated Wireshark
// Lua dissector for GED-188.
func newPcapDissector() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "dissector",
		Short: "Write the Wireshark/tshark Lua dissector for the CTI Server protocol (GED-188)",
		Long: `dissector writes a Lua dissector for Wireshark and tshark 4.0 or later, generated
from the same message tables as ipcclab's CTI codec: every message type, fixed
and floating field, enumeration and bit mask. It decodes TCP ports 42027 and
43027 and finds CTI on any other port heuristically; each connection's protocol
version comes from its OPEN_REQ, the preference ged188.version, or is inferred.

  ipcclab pcap dissector -o ged188.lua
  tshark -X lua_script:ged188.lua -r capture.pcapng -Y ged188
  tshark -X lua_script:ged188.lua -o ged188.version:15 -r capture.pcapng

or copy ged188.lua into Wireshark's personal Lua plugins folder.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var b bytes.Buffer
			if err := dissector.Generate(&b); err != nil {
				return err
			}
			if out == "" {
				_, err := cmd.OutOrStdout().Write(b.Bytes())
				return err
			}
			if err := os.WriteFile(out, b.Bytes(), 0o644); err != nil {
				return fmt.Errorf("writing the dissector: %w", err)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "write the dissector to `FILE` instead of standard output")
	return cmd
}
