package ctiserver

import "github.com/ipcclab/ipcclab/protocol/cti"

// configRequest handles the configuration download (CONFIG_REQUEST_KEY_EVENT,
// CONFIG_REQUEST_EVENT) and team configuration; it reports whether msg was
// one of them.
func (s *Server) configRequest(ss *Session, msg cti.Message) bool {
	_ = ss
	_ = msg
	return false
}
