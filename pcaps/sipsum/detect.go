package sipsum

import "bytes"

// isKeepAlive reports an RFC 5626 section 3.5.1 keep-alive: a "ping" of
// CRLFCRLF or its "pong" CRLF, alone in a datagram.
func isKeepAlive(b []byte) bool {
	return string(b) == "\r\n\r\n" || string(b) == "\r\n"
}

// leadingCRLF counts the CRLF pairs at the start of a stream, which RFC
// 3261 section 7.5 says to ignore before a start line (and RFC 5626 uses
// as keep-alives).
func leadingCRLF(b []byte) int {
	n := 0
	for len(b) >= n+2 && b[n] == '\r' && b[n+1] == '\n' {
		n += 2
	}
	return n
}

// tokenChar marks the characters of an RFC 3261 section 25.1 token, of
// which a method name is made.
var tokenChar = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = true, true
	}
	for _, c := range "-.!%*_+`'~" {
		t[c] = true
	}
	return t
}()

// looksLikeSIP reports whether b's first line is a SIP start line (RFC 3261
// section 7.1 and 7.2): "METHOD request-URI SIP/2.0" with a token for the
// method, or "SIP/2.0 NNN reason". Only the first line is looked at, so a
// truncated message is still recognised if that line is whole.
func looksLikeSIP(b []byte) bool {
	if len(b) == 0 || !tokenChar[b[0]] {
		return false // RTP (0x80…), RTCP, STUN and TLS all stop here
	}
	line := b
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		line = b[:i]
	}
	line = bytes.TrimSuffix(line, []byte("\r"))
	if len(line) >= 11 && bytes.EqualFold(line[:8], []byte("SIP/2.0 ")) {
		for _, c := range line[8:11] {
			if c < '0' || c > '9' {
				return false
			}
		}
		return len(line) == 11 || line[11] == ' '
	}
	sp := bytes.IndexByte(line, ' ')
	if sp <= 0 {
		return false
	}
	for _, c := range line[:sp] {
		if !tokenChar[c] {
			return false
		}
	}
	last := bytes.LastIndexByte(line, ' ')
	return last > sp+1 && bytes.EqualFold(line[last+1:], []byte("SIP/2.0"))
}

// nextStartLine returns the offset of the first line after b's first that
// looks like a SIP start line, or -1.
func nextStartLine(b []byte) int {
	for i := bytes.IndexByte(b, '\n'); i >= 0 && i+1 < len(b); {
		line := b[i+1:]
		if looksLikeSIP(line) && bytes.IndexByte(line, '\n') >= 0 {
			return i + 1
		}
		j := bytes.IndexByte(line, '\n')
		if j < 0 {
			return -1
		}
		i += 1 + j
	}
	return -1
}
