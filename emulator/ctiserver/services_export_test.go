package ctiserver

import "github.com/ipcclab/ipcclab/protocol/cti"

// GrantForTest gives an open session extra services, as if its OPEN_REQ had
// been granted them (open.go does not grant PERIPHERAL_MONITOR or
// CLIENT_MONITOR yet), and runs the open hook sessionOpened, which
// handleOpen calls itself once it is wired in (it runs once per session).
func (ss *Session) GrantForTest(m cti.ServiceMask) {
	ss.services |= m
	ss.srv.sessionOpened(ss)
}
