package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Expect is a fixture's NAME.expect.yaml: the facts the capture was built
// to contain, written by the generator from what it wrote (frame numbers,
// times, messages), never by decoding the capture with the code under
// test. The regression tests of pcap decode and pcap calls assert against
// it; README.md says the same in prose.
//
// Conventions: frames are numbered from 1 in capture order, as Wireshark
// numbers them; t is seconds since the capture's first packet (Wireshark's
// frame.time_relative); a CTI message's frame is the frame carrying its
// first byte and last_frame, when different, the frame that completes it
// (t is the time of the completing frame).
type Expect struct {
	Name        string     `yaml:"name"`
	File        string     `yaml:"file"`
	Origin      string     `yaml:"origin"` // simulation, constructed or live
	Scenario    string     `yaml:"scenario,omitempty"`
	Seed        uint64     `yaml:"seed,omitempty"`
	Summary     string     `yaml:"summary"`
	Packets     int        `yaml:"packets"`
	Start       string     `yaml:"start"` // first packet, RFC 3339 UTC
	Duration    Secs       `yaml:"duration_s"`
	Decode      []string   `yaml:"decode,omitempty"` // what pcap decode must say, in words
	Calls       []string   `yaml:"calls,omitempty"`  // what pcap calls must say, in words
	CTI         []Session  `yaml:"cti,omitempty"`
	SIP         []Dialog   `yaml:"sip,omitempty"`
	RTP         []Stream   `yaml:"rtp,omitempty"`
	Anomalies   []Anomaly  `yaml:"anomalies"`
	Unconfirmed []Msg      `yaml:"unconfirmed,omitempty"` // requests whose confirmation is not in the capture
	Notes       []string   `yaml:"notes,omitempty"`
	Live        *LiveFacts `yaml:"live,omitempty"`
}

// LiveFacts records how a real-time fixture was made (it is not
// byte-reproducible).
type LiveFacts struct {
	CTIServer string `yaml:"cti_server"`
	Recorded  string `yaml:"recorded"`
}

// Session is one CTI Server TCP connection.
type Session struct {
	Client        string  `yaml:"client"`
	Server        string  `yaml:"server"`
	Handshake     bool    `yaml:"handshake"`      // the SYN exchange is in the capture
	Version       uint32  `yaml:"version"`        // protocol version the messages were encoded with
	VersionSource string  `yaml:"version_source"` // open_req, or messages when there is no OPEN_REQ
	IdleTimeout   *uint32 `yaml:"idle_timeout_s,omitempty"`
	End           *End    `yaml:"end,omitempty"`
	// FromClient and FromServer count the complete messages in each
	// direction; Types counts them by type.
	FromClient int                       `yaml:"messages_from_client"`
	FromServer int                       `yaml:"messages_from_server"`
	Types      map[string]map[string]int `yaml:"types"`
	// TCP lists what reassembly has to deal with: missing bytes,
	// retransmitted and out-of-order segments, a first segment inside a
	// message.
	TCP  []TCPEvent `yaml:"tcp,omitempty"`
	Lost []Msg      `yaml:"lost,omitempty"` // messages cut by a gap or by the start of the capture
	// Agents is each agent's state as the session shows it
	// (AGENT_STATE_EVENT and QUERY_AGENT_STATE_CONF), Calls each
	// ConnectionCallID's messages: what pcap calls follows.
	Agents   []AgentTimeline `yaml:"agents,omitempty"`
	Calls    []CallSummary   `yaml:"calls,omitempty"`
	Messages []Msg           `yaml:"messages"`
}

// AgentTimeline is one agent's states in a session.
type AgentTimeline struct {
	Agent  string    `yaml:"agent"`
	States []StateAt `yaml:"states"`
}

// StateAt is an agent state reported at a frame.
type StateAt struct {
	Frame int    `yaml:"frame"`
	T     Secs   `yaml:"t"`
	State string `yaml:"state"`
	Via   string `yaml:"via"`
	Note  string `yaml:"note,omitempty"`
}

// CallSummary is one ConnectionCallID's messages in order.
type CallSummary struct {
	Call       uint32   `yaml:"call_id"`
	FirstFrame int      `yaml:"first_frame"`
	LastFrame  int      `yaml:"last_frame"`
	Ended      bool     `yaml:"end_call"`
	Events     []string `yaml:"events"`
}

// End is how the TCP connection ends in the capture.
type End struct {
	How   string `yaml:"how"` // fin, rst or open (the capture ends first)
	From  string `yaml:"from,omitempty"`
	Frame int    `yaml:"frame,omitempty"`
	T     Secs   `yaml:"t"`
}

// Msg is one CTI message.
type Msg struct {
	Frame     int    `yaml:"frame"`
	LastFrame int    `yaml:"last_frame,omitempty"`
	T         Secs   `yaml:"t"`
	From      string `yaml:"from"`
	Type      string `yaml:"type"`
	Offset    int    `yaml:"offset,omitempty"` // stream offset (only for lost messages)
	Length    int    `yaml:"length,omitempty"` // header included (only for lost messages)
	Invoke    uint32 `yaml:"invoke_id,omitempty"`
	Call      uint32 `yaml:"call_id,omitempty"`
	Agent     string `yaml:"agent,omitempty"`
	State     string `yaml:"state,omitempty"`
	Note      string `yaml:"note,omitempty"`
}

// TCPEvent is a segment-level fact of a stream.
type TCPEvent struct {
	Kind   string `yaml:"kind"` // gap, retransmission, out_of_order, mid_stream_start
	From   string `yaml:"from"`
	Frame  int    `yaml:"frame,omitempty"`
	T      Secs   `yaml:"t"`
	Offset int    `yaml:"offset"` // stream offset, bytes after the first byte the capture could know of
	Bytes  int    `yaml:"bytes"`
	Note   string `yaml:"note,omitempty"`
}

// Dialog is one SIP dialog (by Call-ID) and its messages.
type Dialog struct {
	CallID   string   `yaml:"call_id"`
	Messages []SIPMsg `yaml:"messages"`
}

// SIPMsg is one SIP request or response.
type SIPMsg struct {
	Frame int    `yaml:"frame"`
	T     Secs   `yaml:"t"`
	Src   string `yaml:"src"`
	Dst   string `yaml:"dst"`
	Line  string `yaml:"line"` // request method or response status and reason
	CSeq  string `yaml:"cseq"`
	SDP   string `yaml:"sdp,omitempty"` // media address of an SDP body
}

// Stream is one RTP stream (by source, destination and SSRC).
type Stream struct {
	Src         string `yaml:"src"`
	Dst         string `yaml:"dst"`
	SSRC        string `yaml:"ssrc"`
	PayloadType uint8  `yaml:"payload_type"`
	Packets     int    `yaml:"packets"`
	FirstFrame  int    `yaml:"first_frame"`
	LastFrame   int    `yaml:"last_frame"`
	FirstT      Secs   `yaml:"first_t"`
	LastT       Secs   `yaml:"last_t"`
	FirstSeq    uint16 `yaml:"first_seq"`
	LastSeq     uint16 `yaml:"last_seq"`
	Lost        int    `yaml:"lost"`
	Events      int    `yaml:"telephone_events,omitempty"` // RFC 4733 packets (payload type 101)
}

// Anomaly is something pcap calls (or decode) must flag.
type Anomaly struct {
	Kind   string `yaml:"kind"`
	Frame  int    `yaml:"frame"`
	T      Secs   `yaml:"t"`
	Frames []int  `yaml:"frames,omitempty"` // the other frames that make the case
	Detail string `yaml:"detail"`
}

// timelines derives the agent timelines and call summaries from a
// session's messages.
func timelines(msgs []Msg) ([]AgentTimeline, []CallSummary) {
	var agents []AgentTimeline
	ai := map[string]int{}
	var calls []CallSummary
	ci := map[uint32]int{}
	for _, m := range msgs {
		frame := max(m.Frame, m.LastFrame)
		if m.Agent != "" && m.State != "" && (m.Type == "AGENT_STATE_EVENT" || m.Type == "QUERY_AGENT_STATE_CONF") {
			k, ok := ai[m.Agent]
			if !ok {
				k = len(agents)
				ai[m.Agent] = k
				agents = append(agents, AgentTimeline{Agent: m.Agent})
			}
			agents[k].States = append(agents[k].States, StateAt{Frame: frame, T: m.T, State: m.State, Via: m.Type, Note: m.Note})
		}
		if m.Call != 0 {
			k, ok := ci[m.Call]
			if !ok {
				k = len(calls)
				ci[m.Call] = k
				calls = append(calls, CallSummary{Call: m.Call, FirstFrame: frame})
			}
			calls[k].LastFrame = frame
			calls[k].Events = append(calls[k].Events, m.Type)
			if m.Type == "END_CALL_EVENT" {
				calls[k].Ended = true
			}
		}
	}
	return agents, calls
}

// Secs is a time in seconds, written with microsecond precision.
type Secs float64

func secs(d time.Duration) Secs { return Secs(d.Seconds()) }

// MarshalYAML writes a fixed-point number (never an exponent).
func (s Secs) MarshalYAML() (any, error) {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: strconv.FormatFloat(float64(s), 'f', 6, 64)}, nil
}

// String formats s as in the YAML files and README.
func (s Secs) String() string { return strconv.FormatFloat(float64(s), 'f', 3, 64) }

// marshalExpect renders e with every list item made of scalars on one
// line (flow style), so that the message lists read like a trace.
func marshalExpect(e *Expect) ([]byte, error) {
	var n yaml.Node
	if err := n.Encode(e); err != nil {
		return nil, err
	}
	flowLeaves(&n)
	var b strings.Builder
	b.WriteString("# Generated by go run ./pcaps/internal/mkfixtures; do not edit.\n")
	b.WriteString("# Conventions (frames, t, offsets): see the Expect type in pcaps/internal/mkfixtures/expect.go and README.md.\n")
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&n); err != nil {
		return nil, fmt.Errorf("expect %s: %w", e.Name, err)
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return []byte(b.String()), nil
}

// flowLeaves sets flow style on every mapping (inside a sequence) whose
// values are all scalars, and on every sequence of scalars.
func flowLeaves(n *yaml.Node) {
	for _, c := range n.Content {
		flowLeaves(c)
	}
	if n.Kind == yaml.SequenceNode {
		allScalar := true
		for _, c := range n.Content {
			if c.Kind == yaml.MappingNode && scalarsOnly(c) {
				c.Style = yaml.FlowStyle
			}
			if c.Kind != yaml.ScalarNode {
				allScalar = false
			}
		}
		if allScalar && len(n.Content) > 0 {
			n.Style = yaml.FlowStyle
		}
	}
	if n.Kind == yaml.MappingNode {
		// types: {OPEN_REQ: 1, ...} per direction.
		for i := 1; i < len(n.Content); i += 2 {
			if v := n.Content[i]; v.Kind == yaml.MappingNode && scalarsOnly(v) && n.Content[i-1].Value != "" && isTypeCounts(v) {
				v.Style = yaml.FlowStyle
			}
		}
	}
}

func scalarsOnly(m *yaml.Node) bool {
	for _, c := range m.Content {
		if c.Kind != yaml.ScalarNode {
			return false
		}
	}
	return true
}

// isTypeCounts recognises a message-type → count map.
func isTypeCounts(m *yaml.Node) bool {
	for i := 0; i < len(m.Content); i += 2 {
		k := m.Content[i].Value
		if k == "" || strings.ToUpper(k) != k {
			return false
		}
	}
	return len(m.Content) > 0
}
