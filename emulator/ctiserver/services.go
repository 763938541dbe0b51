package ctiserver

import "github.com/ipcclab/ipcclab/protocol/cti"

// serviceRequest handles the CTI services beyond agent state and call
// control (monitors, snapshots, device information, desk settings, call
// variable registration); it reports whether msg was one of them.
func (s *Server) serviceRequest(ss *Session, msg cti.Message) bool {
	_ = ss
	_ = msg
	return false
}
