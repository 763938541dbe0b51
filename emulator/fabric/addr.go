package fabric

import "net/netip"

// Addr is the component's SIP address in captures: one loopback address
// per component, SIP on 5060. (The simulation has no sockets; these only
// make a capture read like the real driver's.)
func (n Node) Addr() netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 1, byte(n) + 1}), 5060)
}
