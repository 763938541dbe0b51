package wire

import (
	"encoding/binary"
	"net"

	"github.com/ipcclab/ipcclab/protocol/cti"
)

// tap passes a connection through and reports every frame it reads (type,
// MessageLength and, when keep, the body) before the session decodes it,
// so that specs can check raw sizes and the arrival order of
// confirmations and events.
type tap struct {
	net.Conn
	keep  bool
	frame func(mt cti.MessageType, n int, body []byte)

	hdr  [cti.HeaderSize]byte
	have int // header bytes collected
	left int // body bytes still to come
	mt   cti.MessageType
	n    int    // body size of the current frame
	body []byte // body collected so far (keep only)
}

func (t *tap) Read(p []byte) (int, error) {
	n, err := t.Conn.Read(p)
	t.feed(p[:n])
	return n, err
}

func (t *tap) feed(b []byte) {
	for len(b) > 0 {
		if t.left > 0 {
			k := min(t.left, len(b))
			if t.keep {
				t.body = append(t.body, b[:k]...)
			}
			t.left -= k
			b = b[k:]
			if t.left == 0 {
				t.done()
			}
			continue
		}
		k := copy(t.hdr[t.have:], b)
		t.have += k
		b = b[k:]
		if t.have < cti.HeaderSize {
			return
		}
		t.have = 0
		t.n = int(binary.BigEndian.Uint32(t.hdr[:4]))
		t.mt = cti.MessageType(binary.BigEndian.Uint32(t.hdr[4:]))
		t.left = t.n
		t.body = nil
		if t.keep {
			t.body = make([]byte, 0, t.n)
		}
		if t.left == 0 {
			t.done()
		}
	}
}

func (t *tap) done() {
	t.frame(t.mt, t.n, t.body)
	t.body = nil
}
