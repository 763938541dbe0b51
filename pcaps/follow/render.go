package follow

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// WriteText prints the report for a person: a header, the anomalies first
// (what an engineer looks at first), then the sessions, the calls with
// their ladders, the agents' timelines, and the SIP dialogs and RTP
// streams that joined no call.
func (r *Report) WriteText(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	file := r.File
	if file == "" {
		file = "(unnamed)"
	}
	fmt.Fprintf(bw, "capture %s: %d packets", file, r.Packets)
	if r.Packets > 0 {
		fmt.Fprintf(bw, ", %.3f s from %s UTC", r.End.Sub(r.Start).Seconds(), r.Start.UTC().Format("2006-01-02 15:04:05.000000"))
	}
	bw.WriteString("; times are seconds from the first packet\n")
	fmt.Fprintf(bw, "%s, %s, %s, %s, %s unjoined, %s unjoined\n",
		count(len(r.Anomalies), "anomaly", "anomalies"), count(len(r.Sessions), "CTI session", "CTI sessions"),
		count(len(r.Calls), "call", "calls"), count(len(r.Agents), "agent", "agents"),
		count(len(r.UnjoinedDialogs), "SIP dialog", "SIP dialogs"), count(len(r.UnjoinedStreams), "RTP stream", "RTP streams"))
	fmt.Fprintf(bw, "thresholds: RESERVED %v, confirmation %v, SIP join window ±%v\n",
		time.Duration(r.Options.ReservedAfter), time.Duration(r.Options.ConfirmWithin), time.Duration(r.Options.JoinWindow))

	if len(r.Anomalies) > 0 {
		fmt.Fprintf(bw, "\nanomalies (%d):\n", len(r.Anomalies))
		for _, a := range r.Anomalies {
			src := "-"
			if a.Session > 0 {
				src = "CTI#" + strconv.Itoa(a.Session)
			}
			fmt.Fprintf(bw, "  %s %s %s %s: %s\n", at(a.At), frame(a.Frame), src, a.Kind, a.Why)
		}
	}
	if len(r.Sessions) > 0 {
		fmt.Fprintf(bw, "\nCTI sessions (%d):\n", len(r.Sessions))
		for _, s := range r.Sessions {
			writeSession(bw, s)
		}
	}
	if len(r.Calls) > 0 {
		fmt.Fprintf(bw, "\ncalls (%d):\n", len(r.Calls))
		for _, c := range r.Calls {
			writeCall(bw, c)
		}
	}
	if len(r.Agents) > 0 {
		fmt.Fprintf(bw, "\nagents (%d):\n", len(r.Agents))
		for _, a := range r.Agents {
			fmt.Fprintf(bw, "  agent %s", a.ID)
			var ids []string
			if len(a.Extensions) > 0 {
				ids = append(ids, "extension "+strings.Join(a.Extensions, ", "))
			}
			if len(a.Instrument) > 0 {
				ids = append(ids, "instrument "+strings.Join(a.Instrument, ", "))
			}
			if len(ids) > 0 {
				fmt.Fprintf(bw, " (%s)", strings.Join(ids, "; "))
			}
			bw.WriteString("\n")
			writeLines(bw, "    ", a.Timeline)
		}
	}
	if len(r.UnjoinedDialogs) > 0 {
		fmt.Fprintf(bw, "\nSIP dialogs joined to no call (%d):\n", len(r.UnjoinedDialogs))
		for _, d := range r.UnjoinedDialogs {
			writeDialog(bw, "  ", d)
		}
	}
	if len(r.UnjoinedStreams) > 0 {
		fmt.Fprintf(bw, "\nRTP streams joined to no SIP dialog (%d):\n", len(r.UnjoinedStreams))
		for _, s := range r.UnjoinedStreams {
			writeLines(bw, "  ", []Line{s.Line})
		}
	}
	return bw.Flush()
}

func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

func at(s Seconds) string {
	return "+" + strconv.FormatFloat(time.Duration(s).Seconds(), 'f', 3, 64)
}

func frame(n int) string {
	if n <= 0 {
		return "f-"
	}
	return "f" + strconv.Itoa(n)
}

func writeLines(bw *bufio.Writer, indent string, ls []Line) {
	for _, l := range ls {
		fmt.Fprintf(bw, "%s%9s %-7s %-6s %s\n", indent, at(l.At), frame(l.Frame), l.Source, l.What)
	}
}

func writeSession(bw *bufio.Writer, s *Session) {
	fmt.Fprintf(bw, "  CTI#%d client %s → server %s (roles from %s), protocol version %d (%s)\n",
		s.ID, s.Client, s.Server, s.RoleFrom, s.Version, s.VersionFrom)
	if s.IdleTimeout != "" {
		fmt.Fprintf(bw, "    OPEN_REQ: ClientID %s, services %s, peripheral %s", appendText(nil, s.ClientID), s.Services, s.PeripheralID)
		if s.Agent != "" {
			fmt.Fprintf(bw, ", agent %s", s.Agent)
		}
		fmt.Fprintf(bw, ", IdleTimeout %s\n", s.IdleTimeout)
	} else {
		bw.WriteString("    no OPEN_REQ in the capture\n")
	}
	fmt.Fprintf(bw, "    messages: %d (client %d, server %d)", s.Messages, s.FromClient, s.FromServer)
	if s.Undecoded > 0 {
		fmt.Fprintf(bw, ", %d not decoded (not followed)", s.Undecoded)
	}
	bw.WriteString("\n")
	fmt.Fprintf(bw, "    heartbeats: %d", s.Heartbeats)
	if s.HeartbeatEvery != "" {
		fmt.Fprintf(bw, ", every %s", s.HeartbeatEvery)
	}
	bw.WriteString("\n")
	if s.LargestGapClient != "" || s.LargestGapServer != "" {
		fmt.Fprintf(bw, "    largest gap: client %s; server %s\n", orNone(s.LargestGapClient), orNone(s.LargestGapServer))
	}
	if len(s.PGStatus) > 0 {
		bw.WriteString("    PG status:\n")
		writeLines(bw, "      ", s.PGStatus)
	}
	if len(s.Refusals) > 0 {
		fmt.Fprintf(bw, "    refusals (%d):\n", len(s.Refusals))
		writeLines(bw, "      ", s.Refusals)
	}
	if s.Unconfirmed > 0 {
		fmt.Fprintf(bw, "    unconfirmed requests: %d\n", s.Unconfirmed)
	}
	fmt.Fprintf(bw, "    ended: %s\n", s.Ended)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func writeCall(bw *bufio.Writer, c *Call) {
	fmt.Fprintf(bw, "  call %d (peripheral %d)", c.Key.CallID, c.Key.PeripheralID)
	if c.CallType != "" {
		fmt.Fprintf(bw, " %s", c.CallType)
	}
	for _, kv := range [][2]string{{"ANI", c.ANI}, {"DNIS", c.DNIS}, {"DialedNumber", c.DialedNumber}} {
		if kv[1] != "" {
			fmt.Fprintf(bw, " %s %s", kv[0], appendText(nil, kv[1]))
		}
	}
	var ss []string
	for _, s := range c.Sessions {
		ss = append(ss, "CTI#"+strconv.Itoa(s))
	}
	fmt.Fprintf(bw, "; seen by %s", strings.Join(ss, " "))
	if len(c.Devices) > 0 {
		fmt.Fprintf(bw, "; devices %s", strings.Join(c.Devices, " "))
	}
	if len(c.Agents) > 0 {
		fmt.Fprintf(bw, "; agents %s", strings.Join(c.Agents, " "))
	}
	bw.WriteString("\n")
	fmt.Fprintf(bw, "    ended: %s\n", c.Ended)
	for _, d := range c.Dialogs {
		fmt.Fprintf(bw, "    SIP %s joined: %s\n", d.CallID, d.Join)
		for _, s := range d.Streams {
			fmt.Fprintf(bw, "      RTP %s joined: %s\n", s.Name, s.Join)
		}
	}
	writeLines(bw, "    ", c.Ladder)
}

func writeDialog(bw *bufio.Writer, indent string, d *Dialog) {
	fmt.Fprintf(bw, "%sSIP Call-ID %s: %s → %s", indent, d.CallID, orNone(d.Caller), orNone(d.Callee))
	if d.Outcome != "" {
		fmt.Fprintf(bw, ", %s", d.Outcome)
	}
	bw.WriteString("\n")
	for _, s := range d.Streams {
		fmt.Fprintf(bw, "%s  RTP %s joined: %s\n", indent, s.Name, s.Join)
	}
	writeLines(bw, indent+"  ", d.Ladder)
}

// WriteJSON prints the report as one indented JSON document.
func (r *Report) WriteJSON(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return err
	}
	return bw.Flush()
}
