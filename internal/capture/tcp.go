package capture

import (
	"hash/fnv"
	"net/netip"
	"time"

	"github.com/google/gopacket/layers"
)

const (
	// windowScale is the window scale option of both synthetic SYNs; with
	// the window field at 0xffff the advertised window is 8 MiB, so Wireshark
	// never sees a full window.
	windowScale = 7
	// ackEvery is how many unacknowledged bytes one side may send before the
	// synthetic peer emits a pure ACK. Data in the other direction carries
	// ACKs anyway; this only matters for long one-way runs.
	ackEvery = 64 << 10
)

const (
	client = 0
	server = 1
)

// flowKey is an unordered TCP 4-tuple.
type flowKey struct{ a, b netip.AddrPort }

func keyOf(x, y netip.AddrPort) flowKey {
	x = netip.AddrPortFrom(x.Addr().Unmap(), x.Port())
	y = netip.AddrPortFrom(y.Addr().Unmap(), y.Port())
	if x.Compare(y) > 0 {
		x, y = y, x
	}
	return flowKey{x, y}
}

// TCPFlow is one synthetic TCP connection in a capture. Its sequence and
// acknowledgement numbers are kept consistent with everything written, so
// Wireshark reassembles the stream without analysis warnings. Methods are
// safe for concurrent use (they run under the Writer's mutex).
type TCPFlow struct {
	w      *Writer
	key    flowKey
	ep     [2]netip.AddrPort // client, server
	next   [2]uint32         // next sequence number each side sends
	acked  [2]uint32         // last acknowledgement number each side sent
	fin    [2]bool
	done   bool
	tapped bool // registered in w.flows
}

// NewTCPFlow starts a TCP connection from client to server at ts by writing
// a SYN, SYN/ACK, ACK handshake.
func (w *Writer) NewTCPFlow(ts time.Time, client, server netip.AddrPort) *TCPFlow {
	f, _ := w.newFlow(ts, client, server, false)
	return f
}

// newFlow makes a flow; with dedup it returns ok=false (and no flow) when a
// tapped flow with the same 4-tuple is open, i.e. the other end of this
// connection is tapped in this process already.
func (w *Writer) newFlow(ts time.Time, c, s netip.AddrPort, dedup bool) (*TCPFlow, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	f := &TCPFlow{w: w, key: keyOf(c, s), ep: [2]netip.AddrPort{c, s}}
	if dedup {
		if _, dup := w.flows[f.key]; dup {
			return nil, false
		}
		if !w.closed {
			w.flows[f.key] = f
			f.tapped = true
		}
	}
	w.flowSeq++
	h := fnv.New32a()
	b, _ := c.MarshalBinary()
	h.Write(b)
	b, _ = s.MarshalBinary()
	h.Write(b)
	isn := h.Sum32() ^ w.flowSeq*0x9e3779b9
	f.next = [2]uint32{isn, isn*2654435761 + 0x5bd1e995}

	f.segment(ts, client, layers.TCP{SYN: true}, nil)
	f.segment(ts, server, layers.TCP{SYN: true, ACK: true}, nil)
	f.segment(ts, client, layers.TCP{ACK: true}, nil)
	return f, true
}

// synOptions: MSS 1460, NOP, window scale 7.
var synOptions = []layers.TCPOption{
	{OptionType: layers.TCPOptionKindMSS, OptionLength: 4, OptionData: []byte{MSS >> 8, MSS & 0xff}},
	{OptionType: layers.TCPOptionKindNop, OptionLength: 1},
	{OptionType: layers.TCPOptionKindWindowScale, OptionLength: 3, OptionData: []byte{windowScale}},
}

// segment writes one segment from side with the flags in t; called with the
// Writer's mutex held. SYN and FIN consume one sequence number.
func (f *TCPFlow) segment(ts time.Time, from int, t layers.TCP, payload []byte) {
	w := f.w
	src, dst := f.ep[from], f.ep[1-from]
	t.SrcPort, t.DstPort = layers.TCPPort(src.Port()), layers.TCPPort(dst.Port())
	t.Seq = f.next[from]
	if t.ACK {
		t.Ack = f.next[1-from]
		f.acked[from] = t.Ack
	}
	if t.SYN {
		t.Window = 0xffff // unscaled in SYNs
		t.Options = synOptions
	} else {
		t.Window = 0xffff // scaled: 8 MiB
	}
	w.tcp = t
	w.writeLocked(ts, src.Addr(), dst.Addr(), layers.IPProtocolTCP, &w.tcp, payload)
	w.tcp.Options, w.tcp.Padding = nil, nil
	f.next[from] += uint32(len(payload))
	if t.SYN || t.FIN {
		f.next[from]++
	}
}

func side(fromClient bool) int {
	if fromClient {
		return client
	}
	return server
}

// Data writes payload sent by one side at ts, split into segments of at most
// MSS bytes, PSH set on the last. Data after that side's FIN is dropped.
func (f *TCPFlow) Data(ts time.Time, fromClient bool, payload []byte) {
	if f == nil || len(payload) == 0 {
		return
	}
	w := f.w
	w.mu.Lock()
	defer w.mu.Unlock()
	from := side(fromClient)
	if f.done || f.fin[from] {
		w.dropped.Add(1)
		return
	}
	for len(payload) > 0 {
		n := min(len(payload), MSS)
		f.segment(ts, from, layers.TCP{ACK: true, PSH: n == len(payload)}, payload[:n])
		payload = payload[n:]
	}
	if f.next[from]-f.acked[1-from] >= ackEvery {
		f.segment(ts, 1-from, layers.TCP{ACK: true}, nil)
	}
}

// CloseWrite half-closes the flow: one side sends FIN, the other ACKs it.
// When both sides have sent FIN the flow is done.
func (f *TCPFlow) CloseWrite(ts time.Time, fromClient bool) {
	if f == nil {
		return
	}
	w := f.w
	w.mu.Lock()
	defer w.mu.Unlock()
	a := side(fromClient)
	if f.done || f.fin[a] {
		return
	}
	f.fin[a] = true
	f.segment(ts, a, layers.TCP{FIN: true, ACK: true}, nil)
	f.segment(ts, 1-a, layers.TCP{ACK: true}, nil)
	if f.fin[1-a] {
		f.finishLocked()
	}
}

// Close ends the flow, initiated by one side: FIN/ACK, FIN/ACK, ACK (or the
// remaining half when a side has already sent FIN). Later calls do nothing.
func (f *TCPFlow) Close(ts time.Time, fromClient bool) {
	if f == nil {
		return
	}
	w := f.w
	w.mu.Lock()
	defer w.mu.Unlock()
	if f.done {
		return
	}
	a, b := side(fromClient), side(!fromClient)
	switch {
	case !f.fin[a] && !f.fin[b]:
		f.segment(ts, a, layers.TCP{FIN: true, ACK: true}, nil)
		f.segment(ts, b, layers.TCP{FIN: true, ACK: true}, nil)
		f.segment(ts, a, layers.TCP{ACK: true}, nil)
	case f.fin[a] && !f.fin[b]:
		f.segment(ts, b, layers.TCP{FIN: true, ACK: true}, nil)
		f.segment(ts, a, layers.TCP{ACK: true}, nil)
	case !f.fin[a] && f.fin[b]:
		f.segment(ts, a, layers.TCP{FIN: true, ACK: true}, nil)
		f.segment(ts, b, layers.TCP{ACK: true}, nil)
	}
	f.fin = [2]bool{true, true}
	f.finishLocked()
}

func (f *TCPFlow) finishLocked() {
	f.done = true
	if f.tapped && f.w.flows[f.key] == f {
		delete(f.w.flows, f.key)
	}
}
