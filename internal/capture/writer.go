package capture

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// InterfaceName is the name of the single pcapng interface every packet is
// written on.
const InterfaceName = "ipcclab"

// DefaultFlushInterval is how often a Writer made by Create flushes its
// buffers to the file, so that a capture of a process that dies is still
// readable up to the last second.
const DefaultFlushInterval = time.Second

// MSS is the largest TCP payload of one synthetic segment.
const MSS = 1460

// fileBufferSize is the bufio buffer put between the pcapng writer and a file.
const fileBufferSize = 64 << 10

// ErrClosed is what Flush returns after Close.
var ErrClosed = errors.New("capture: writer closed")

// Writer writes synthesized Ethernet/IP/UDP and Ethernet/IP/TCP frames to a
// pcapng stream. All methods are safe for concurrent use; the serialization
// buffers are reused under the mutex, so a packet costs no allocation.
//
// A Writer never panics and never returns errors from the per-packet methods:
// the first write error is remembered (Err) and later packets are dropped, as
// are packets written after Close and packets that cannot be represented
// (invalid or mixed-family addresses, oversized datagrams); Dropped counts them
// all.
type Writer struct {
	mu     sync.Mutex
	ng     *pcapgo.NgWriter
	bw     *bufio.Writer // our own buffer under ng (files only), or nil
	closer io.Closer     // the file made by Create, or nil
	err    error
	closed bool

	// Serialization state, reused under mu.
	buf    gopacket.SerializeBuffer
	opts   gopacket.SerializeOptions
	eth    layers.Ethernet
	ip4    layers.IPv4
	ip6    layers.IPv6
	udp    layers.UDP
	tcp    layers.TCP
	pl     gopacket.Payload
	stack  [4]gopacket.SerializableLayer
	srcIP  [16]byte
	dstIP  [16]byte
	srcMAC [6]byte
	dstMAC [6]byte
	ipID   uint16

	// TCP flows opened through taps, keyed by their unordered 4-tuple, so
	// that tapping both ends of one in-process connection records it once.
	flows   map[flowKey]*TCPFlow
	flowSeq uint32

	// senders are the tapped UDP sockets that have sent: a datagram one
	// of them sent was recorded at the send, so when another tapped socket
	// in the process receives it, it is not recorded again.
	senders sync.Map // netip.AddrPort → struct{}

	packets atomic.Uint64
	dropped atomic.Uint64
	clock   atomic.Pointer[func() time.Time]

	flushStop chan struct{}
	flushDone chan struct{}

	routeMu sync.Mutex
	routes  map[netip.Addr]netip.Addr // remote -> local source address
}

// Create creates (truncating) a pcapng file at path and returns a Writer on
// it. The Writer flushes every DefaultFlushInterval and on Close, which also
// closes the file.
func Create(path string) (*Writer, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	bw := bufio.NewWriterSize(f, fileBufferSize)
	w, err := newWriter(bw)
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	w.bw = bw
	w.closer = f
	if err := w.Flush(); err != nil { // the headers, so the file is valid at once
		_ = w.Close()
		return nil, err
	}
	w.FlushEvery(DefaultFlushInterval)
	return w, nil
}

// New returns a Writer that writes a pcapng stream to out. Packets are
// buffered; call Flush (or FlushEvery) and Close. Close does not close out.
func New(out io.Writer) (*Writer, error) {
	return newWriter(out)
}

func newWriter(out io.Writer) (*Writer, error) {
	intf := pcapgo.NgInterface{
		Name:                InterfaceName,
		Description:         "ipcclab in-process capture (synthesized frames)",
		OS:                  runtime.GOOS,
		LinkType:            layers.LinkTypeEthernet,
		TimestampResolution: 9, // pcapgo always writes nanoseconds
	}
	opts := pcapgo.NgWriterOptions{SectionInfo: pcapgo.NgSectionInfo{
		Hardware:    runtime.GOARCH,
		OS:          runtime.GOOS,
		Application: "ipcclab",
	}}
	ng, err := pcapgo.NewNgWriterInterface(out, intf, opts)
	if err != nil {
		return nil, err
	}
	w := &Writer{
		ng:    ng,
		buf:   gopacket.NewSerializeBufferExpectedSize(14+40+60, MSS),
		opts:  gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		flows: make(map[flowKey]*TCPFlow),
	}
	w.eth.SrcMAC = w.srcMAC[:]
	w.eth.DstMAC = w.dstMAC[:]
	w.ip4 = layers.IPv4{Version: 4, TTL: 64, Flags: layers.IPv4DontFragment}
	w.ip6 = layers.IPv6{Version: 6, HopLimit: 64}
	now := time.Now
	w.clock.Store(&now)
	return w, nil
}

// SetClock replaces the clock the taps and hooks timestamp packets with
// (time.Now by default). Tests use it to make captures deterministic.
func (w *Writer) SetClock(now func() time.Time) {
	if now == nil {
		now = time.Now
	}
	w.clock.Store(&now)
}

func (w *Writer) now() time.Time { return (*w.clock.Load())() }

// Packets returns how many packets have been written (to the buffer).
func (w *Writer) Packets() uint64 { return w.packets.Load() }

// Dropped returns how many packets were not written: after Close, after a
// write error, or because they could not be represented.
func (w *Writer) Dropped() uint64 { return w.dropped.Load() }

// Err returns the first write error, if any.
func (w *Writer) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// Flush writes buffered packets out to the underlying writer.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	return w.flushLocked()
}

func (w *Writer) flushLocked() error {
	if w.err != nil {
		return w.err
	}
	err := w.ng.Flush()
	if err == nil && w.bw != nil {
		err = w.bw.Flush()
	}
	if err != nil {
		w.err = err
	}
	return err
}

// FlushEvery starts a goroutine that flushes every d until Close; d <= 0
// stops it. Create calls FlushEvery(DefaultFlushInterval).
func (w *Writer) FlushEvery(d time.Duration) {
	w.mu.Lock()
	stop, done := w.flushStop, w.flushDone
	w.flushStop, w.flushDone = nil, nil
	closed := w.closed
	if d > 0 && !closed {
		w.flushStop, w.flushDone = make(chan struct{}), make(chan struct{})
		go w.flusher(d, w.flushStop, w.flushDone)
	}
	w.mu.Unlock()
	if stop != nil {
		close(stop)
		<-done
	}
}

func (w *Writer) flusher(d time.Duration, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			_ = w.Flush()
		}
	}
}

// Close flushes, stops the periodic flush, and closes the file made by
// Create. Later packets are dropped. It returns the first error seen.
func (w *Writer) Close() error {
	w.mu.Lock()
	if w.closed {
		err := w.err
		w.mu.Unlock()
		return err
	}
	err := w.flushLocked()
	w.closed = true
	if w.closer != nil {
		if cerr := w.closer.Close(); err == nil && cerr != nil {
			err = cerr
			w.err = cerr
		}
	}
	stop, done := w.flushStop, w.flushDone
	w.flushStop, w.flushDone = nil, nil
	w.mu.Unlock()
	if stop != nil {
		close(stop)
		<-done
	}
	return err
}

// UDP writes one UDP datagram from src to dst carrying payload, as sent or
// received at ts. Both addresses must be of one family (IPv4-mapped IPv6
// addresses count as IPv4); otherwise the datagram is dropped.
func (w *Writer) UDP(ts time.Time, src, dst netip.AddrPort, payload []byte) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.udp = layers.UDP{SrcPort: layers.UDPPort(src.Port()), DstPort: layers.UDPPort(dst.Port())}
	w.writeLocked(ts, src.Addr(), dst.Addr(), layers.IPProtocolUDP, &w.udp, payload)
}

// Hook is a callback for code that owns its sockets (e.g. a *net.UDPConn used
// for RTP) and cannot be wrapped by TapPacketConn: call it with the socket's
// local address, the peer's address, the datagram, and whether it was sent
// (true) or received (false).
type Hook func(local, remote netip.AddrPort, payload []byte, sent bool)

// UDPHook returns a Hook that records datagrams through w, timestamped with
// w's clock. An unspecified local address (a socket bound to 0.0.0.0 or ::)
// is replaced by the address the host would send from to the peer.
func (w *Writer) UDPHook() Hook {
	return func(local, remote netip.AddrPort, payload []byte, sent bool) {
		ts := w.now()
		local = w.localFor(local, remote)
		if sent {
			w.noteSender(local)
			w.UDP(ts, local, remote, payload)
		} else if !w.fromTapped(remote) {
			w.UDP(ts, remote, local, payload)
		}
	}
}

// noteSender remembers a tapped socket that sends.
func (w *Writer) noteSender(ap netip.AddrPort) {
	ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	if _, ok := w.senders.Load(ap); !ok {
		w.senders.Store(ap, struct{}{})
	}
}

// fromTapped reports whether a received datagram came from a tapped socket
// of this process, whose send was already recorded: each datagram between
// two of our components appears once, as on the wire.
func (w *Writer) fromTapped(src netip.AddrPort) bool {
	_, ok := w.senders.Load(netip.AddrPortFrom(src.Addr().Unmap(), src.Port()))
	return ok
}

// writeLocked serializes and writes one frame; transport is &w.udp or &w.tcp,
// already filled in except for checksums and lengths.
func (w *Writer) writeLocked(ts time.Time, src, dst netip.Addr, proto layers.IPProtocol, transport gopacket.SerializableLayer, payload []byte) {
	if w.closed || w.err != nil {
		w.dropped.Add(1)
		return
	}
	src, dst = src.Unmap(), dst.Unmap()
	var network gopacket.SerializableLayer
	var headers int
	switch {
	case src.Is4() && dst.Is4():
		s, d := src.As4(), dst.As4()
		copy(w.srcIP[:], s[:])
		copy(w.dstIP[:], d[:])
		w.ipID++
		w.ip4.Id = w.ipID
		w.ip4.Protocol = proto
		w.ip4.SrcIP = w.srcIP[:4]
		w.ip4.DstIP = w.dstIP[:4]
		w.eth.EthernetType = layers.EthernetTypeIPv4
		network = &w.ip4
		headers = 20
		setMAC(&w.srcMAC, s[:])
		setMAC(&w.dstMAC, d[:])
	case src.Is6() && dst.Is6():
		w.srcIP, w.dstIP = src.As16(), dst.As16()
		w.ip6.NextHeader = proto
		w.ip6.SrcIP = w.srcIP[:]
		w.ip6.DstIP = w.dstIP[:]
		w.eth.EthernetType = layers.EthernetTypeIPv6
		network = &w.ip6
		setMAC(&w.srcMAC, w.srcIP[12:])
		setMAC(&w.dstMAC, w.dstIP[12:])
	default:
		w.dropped.Add(1)
		return
	}
	if headers+60+len(payload) > 0xffff { // 60: largest TCP header we write
		w.dropped.Add(1)
		return
	}
	var err error
	switch t := transport.(type) {
	case *layers.UDP:
		err = t.SetNetworkLayerForChecksum(network.(gopacket.NetworkLayer))
	case *layers.TCP:
		err = t.SetNetworkLayerForChecksum(network.(gopacket.NetworkLayer))
	}
	if err == nil {
		w.pl = payload
		w.stack = [4]gopacket.SerializableLayer{&w.eth, network, transport, &w.pl}
		err = gopacket.SerializeLayers(w.buf, w.opts, w.stack[:]...)
		w.pl = nil
	}
	if err != nil { // cannot happen with the layers above; drop rather than fail the capture
		w.dropped.Add(1)
		return
	}
	data := w.buf.Bytes()
	ci := gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(data), Length: len(data)}
	if err := w.ng.WritePacket(ci, data); err != nil {
		w.err = err
		w.dropped.Add(1)
		return
	}
	w.packets.Add(1)
}

// setMAC makes a locally administered unicast MAC 02:00:a.b.c.d from the last
// four bytes of an address, so hosts are told apart in Wireshark's Ethernet
// columns.
func setMAC(m *[6]byte, ip []byte) {
	m[0], m[1] = 0x02, 0x00
	copy(m[2:], ip[len(ip)-4:])
}

// localFor replaces an unspecified local address (a socket bound to the
// wildcard address) by the source address the host would use to reach
// remote: loopback for a loopback peer, else the kernel's route choice found
// by connecting (no packet is sent) a UDP socket, cached per peer.
func (w *Writer) localFor(local, remote netip.AddrPort) netip.AddrPort {
	la := local.Addr()
	if la.IsValid() && !la.IsUnspecified() {
		return local
	}
	ra := remote.Addr().Unmap()
	if !ra.IsValid() {
		return local
	}
	if ra.IsLoopback() {
		if ra.Is4() {
			return netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), local.Port())
		}
		return netip.AddrPortFrom(netip.IPv6Loopback(), local.Port())
	}
	w.routeMu.Lock()
	src, ok := w.routes[ra]
	w.routeMu.Unlock()
	if !ok {
		if c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(ra, 9))); err == nil {
			src = c.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap()
			_ = c.Close()
		}
		w.routeMu.Lock()
		if w.routes == nil || len(w.routes) >= 4096 {
			w.routes = make(map[netip.Addr]netip.Addr)
		}
		w.routes[ra] = src
		w.routeMu.Unlock()
	}
	if !src.IsValid() {
		return local
	}
	return netip.AddrPortFrom(src, local.Port())
}
