package capture

import (
	"errors"
	"io"
	"net"
	"net/netip"
)

// addrPort converts a socket address to a netip.AddrPort; ok is false for
// addresses that are not IP (a Unix socket, say).
func addrPort(a net.Addr) (netip.AddrPort, bool) {
	switch a := a.(type) {
	case *net.UDPAddr:
		return a.AddrPort(), a != nil
	case *net.TCPAddr:
		return a.AddrPort(), a != nil
	case nil:
		return netip.AddrPort{}, false
	}
	ap, err := netip.ParseAddrPort(a.String())
	return ap, err == nil
}

// TapPacketConn wraps pc so that every datagram read or written is also
// written to w as UDP. The result implements net.PacketConn, and also
// ReadFromUDPAddrPort and WriteToUDPAddrPort (delegated when pc has them); it
// is not a *net.UDPConn, so code that needs one should keep its socket and
// call a Writer.UDPHook instead.
//
// A datagram is recorded just before it is handed to the socket (so a reply
// can never precede its request in the capture) and just after it is read.
func TapPacketConn(pc net.PacketConn, w *Writer) net.PacketConn {
	t := &tappedPacketConn{PacketConn: pc, w: w}
	t.local, _ = addrPort(pc.LocalAddr())
	return t
}

type tappedPacketConn struct {
	net.PacketConn
	w     *Writer
	local netip.AddrPort
}

type udpAddrPortConn interface {
	ReadFromUDPAddrPort(b []byte) (int, netip.AddrPort, error)
	WriteToUDPAddrPort(b []byte, addr netip.AddrPort) (int, error)
}

func (t *tappedPacketConn) recv(from netip.AddrPort, p []byte) {
	if t.w.fromTapped(from) {
		return // recorded when our own socket sent it
	}
	t.w.UDP(t.w.now(), from, t.w.localFor(t.local, from), p)
}

func (t *tappedPacketConn) send(to netip.AddrPort, p []byte) {
	local := t.w.localFor(t.local, to)
	t.w.noteSender(local)
	t.w.UDP(t.w.now(), local, to, p)
}

func (t *tappedPacketConn) ReadFrom(p []byte) (int, net.Addr, error) {
	n, addr, err := t.PacketConn.ReadFrom(p)
	if err == nil {
		if from, ok := addrPort(addr); ok {
			t.recv(from, p[:n])
		} else {
			t.w.dropped.Add(1)
		}
	}
	return n, addr, err
}

func (t *tappedPacketConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	if to, ok := addrPort(addr); ok {
		t.send(to, p)
	} else {
		t.w.dropped.Add(1)
	}
	return t.PacketConn.WriteTo(p, addr)
}

func (t *tappedPacketConn) ReadFromUDPAddrPort(p []byte) (int, netip.AddrPort, error) {
	if u, ok := t.PacketConn.(udpAddrPortConn); ok {
		n, from, err := u.ReadFromUDPAddrPort(p)
		if err == nil {
			t.recv(from, p[:n])
		}
		return n, from, err
	}
	n, addr, err := t.ReadFrom(p)
	from, _ := addrPort(addr)
	return n, from, err
}

func (t *tappedPacketConn) WriteToUDPAddrPort(p []byte, to netip.AddrPort) (int, error) {
	if u, ok := t.PacketConn.(udpAddrPortConn); ok {
		t.send(to, p)
		return u.WriteToUDPAddrPort(p, to)
	}
	return t.WriteTo(p, net.UDPAddrFromAddrPort(to))
}

// TapConn wraps a TCP connection so that everything read or written is also
// written to w as one TCP flow: the handshake at wrap time, Data on every
// Read and Write, a FIN when the peer's end of stream is read, and the FIN
// exchange on Close (or CloseWrite, when c supports it). dialed tells which
// end c is: true if this process dialed (c is the client).
//
// Written bytes are recorded just before they are handed to the socket, so
// the capture keeps request/response order; if the write then fails, the
// capture holds bytes the peer may not have received.
//
// If the other end of the same connection is already tapped in this process
// (same 4-tuple, still open), c is returned unwrapped so that the
// conversation is recorded once. Connections whose addresses are not IP are
// returned unwrapped too.
func TapConn(c net.Conn, w *Writer, dialed bool) net.Conn {
	local, ok1 := addrPort(c.LocalAddr())
	remote, ok2 := addrPort(c.RemoteAddr())
	if !ok1 || !ok2 {
		return c
	}
	cl, sv := remote, local
	if dialed {
		cl, sv = local, remote
	}
	f, ok := w.newFlow(w.now(), cl, sv, true)
	if !ok {
		return c
	}
	return &tappedConn{Conn: c, w: w, flow: f, client: dialed}
}

// TapDialed is TapConn(c, w, true): c is a connection this process dialed.
func TapDialed(c net.Conn, w *Writer) net.Conn { return TapConn(c, w, true) }

// TapAccepted is TapConn(c, w, false): c is a connection this process accepted.
func TapAccepted(c net.Conn, w *Writer) net.Conn { return TapConn(c, w, false) }

type tappedConn struct {
	net.Conn
	w      *Writer
	flow   *TCPFlow
	client bool
}

func (t *tappedConn) Read(p []byte) (int, error) {
	n, err := t.Conn.Read(p)
	if n > 0 {
		t.flow.Data(t.w.now(), !t.client, p[:n])
	}
	if errors.Is(err, io.EOF) {
		t.flow.CloseWrite(t.w.now(), !t.client)
	}
	return n, err
}

func (t *tappedConn) Write(p []byte) (int, error) {
	t.flow.Data(t.w.now(), t.client, p)
	return t.Conn.Write(p)
}

func (t *tappedConn) Close() error {
	err := t.Conn.Close()
	t.flow.Close(t.w.now(), t.client)
	return err
}

// CloseWrite half-closes the connection if it supports it (*net.TCPConn
// does), recording our FIN.
func (t *tappedConn) CloseWrite() error {
	cw, ok := t.Conn.(interface{ CloseWrite() error })
	if !ok {
		return errors.New("capture: connection does not support CloseWrite")
	}
	err := cw.CloseWrite()
	if err == nil {
		t.flow.CloseWrite(t.w.now(), t.client)
	}
	return err
}

// TapListener wraps l so that every accepted connection is tapped with
// TapConn(c, w, false).
func TapListener(l net.Listener, w *Writer) net.Listener {
	return &tappedListener{Listener: l, w: w}
}

type tappedListener struct {
	net.Listener
	w *Writer
}

func (l *tappedListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return c, err
	}
	return TapConn(c, l.w, false), nil
}
