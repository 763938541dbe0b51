package wire

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"github.com/ipcclab/ipcclab/protocol/cti"
)

// Raw is a CTI connection without a session: the spec chooses every
// InvokeID and every byte, sends requests before OPEN_REQ or of unknown
// types, and reads frames one by one. Everything is recorded in a
// transcript.
type Raw struct {
	Name string
	// PV is the version frames are encoded and decoded with (set it after
	// a successful OPEN_REQ).
	PV cti.ProtocolVersion

	conn  net.Conn
	start time.Time
	buf   []byte

	mu         sync.Mutex
	transcript []string
}

// RawFrame is one frame read by a Raw connection.
type RawFrame struct {
	Type cti.MessageType
	Body []byte
	// Msg is the decoded message (nil when it does not decode; Err says why).
	Msg cti.Message
	Err error
}

// DialRaw connects to a CTI Server without opening a session.
func DialRaw(ctx context.Context, addr, name string, pv cti.ProtocolVersion) (*Raw, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("wire: dial %s: %w", addr, err)
	}
	return &Raw{Name: name, PV: pv, conn: conn, start: time.Now()}, nil
}

func (r *Raw) line(dir, text string) {
	r.mu.Lock()
	r.transcript = append(r.transcript, fmt.Sprintf("%8.3fs %s %s", time.Since(r.start).Seconds(), dir, text))
	r.mu.Unlock()
}

// Send encodes m at version pv (0: r.PV) and writes it in one write.
func (r *Raw) Send(m cti.Message, pv cti.ProtocolVersion) error {
	if pv == 0 {
		pv = r.PV
	}
	b, err := cti.AppendMessage(nil, m, pv)
	if err != nil {
		return err
	}
	r.line(">", fmt.Sprintf("PV%d %s", pv, Format(m)))
	_, err = r.conn.Write(b)
	return err
}

// SendFrame writes a frame of any message type with the given body.
func (r *Raw) SendFrame(mt uint32, body []byte) error {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(body)))
	b = binary.BigEndian.AppendUint32(b, mt)
	b = append(b, body...)
	r.line(">", fmt.Sprintf("raw frame type %d body % x", mt, body))
	_, err := r.conn.Write(b)
	return err
}

// Next reads one frame, waiting at most d.
func (r *Raw) Next(d time.Duration) (RawFrame, error) {
	_ = r.conn.SetReadDeadline(time.Now().Add(d))
	mt, body, err := cti.ReadFrame(r.conn, r.buf)
	if err != nil {
		r.line("<", "error: "+err.Error())
		return RawFrame{}, err
	}
	if cap(body) > cap(r.buf) {
		r.buf = body[:cap(body)]
	}
	f := RawFrame{Type: mt, Body: append([]byte(nil), body...)}
	f.Msg, f.Err = cti.DecodeBody(mt, f.Body, r.PV)
	if f.Err != nil {
		r.line("<", fmt.Sprintf("%v (%d bytes, undecodable at PV%d: %v)", mt, len(body), r.PV, f.Err))
	} else {
		r.line("<", fmt.Sprintf("[%d bytes] %s", len(body), Format(f.Msg)))
	}
	return f, nil
}

// Until reads frames until keep returns true for one, waiting at most d in
// all; it returns every frame read (the last one is the match).
func (r *Raw) Until(d time.Duration, keep func(RawFrame) bool) ([]RawFrame, error) {
	deadline := time.Now().Add(d)
	var out []RawFrame
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return out, fmt.Errorf("wire: no matching frame within %v", d)
		}
		f, err := r.Next(left)
		if err != nil {
			return out, err
		}
		out = append(out, f)
		if keep(f) {
			return out, nil
		}
	}
}

// Answer reads frames until the confirmation (any message whose first
// body field is the InvokeID: *_CONF, FAILURE_CONF, CONTROL_FAILURE_CONF)
// carrying inv arrives, and returns it with the frames read before it.
func (r *Raw) Answer(d time.Duration, inv uint32) (RawFrame, []RawFrame, error) {
	fs, err := r.Until(d, func(f RawFrame) bool {
		if !isConf(f.Type) {
			return false
		}
		id, ok := cti.InvokeIDFromBody(f.Body)
		return ok && id == inv
	})
	if err != nil {
		return RawFrame{}, fs, err
	}
	return fs[len(fs)-1], fs[:len(fs)-1], nil
}

func isConf(mt cti.MessageType) bool {
	n := mt.String()
	return len(n) > 5 && (n[len(n)-5:] == "_CONF" || n[len(n)-5:] == "_RESP")
}

// Closed waits at most d for the server to close the connection, reading
// (and recording) whatever arrives meanwhile. It returns when the peer
// closed, or an error if it did not within d.
func (r *Raw) Closed(d time.Duration) ([]RawFrame, error) {
	deadline := time.Now().Add(d)
	var out []RawFrame
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return out, fmt.Errorf("wire: connection still open after %v", d)
		}
		f, err := r.Next(left)
		switch {
		case err == nil:
			out = append(out, f)
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) || isReset(err):
			return out, nil
		case errors.Is(err, os.ErrDeadlineExceeded):
			return out, fmt.Errorf("wire: connection still open after %v", d)
		default:
			return out, err
		}
	}
}

func isReset(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && !op.Timeout()
}

// Close closes the connection.
func (r *Raw) Close() error { return r.conn.Close() }

// Transcript returns everything sent and received, one line each.
func (r *Raw) Transcript() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := fmt.Sprintf("raw CTI connection %s, %d lines:\n", r.Name, len(r.transcript))
	for _, l := range r.transcript {
		s += l + "\n"
	}
	return s
}

// Floats walks the floating part of a body from offset fixed, with the tag
// and length width of pv (§1.3), and returns the tags in order. An error
// means the bytes from fixed on are not a well-formed floating part, i.e.
// the fixed part is not fixed bytes long.
func Floats(body []byte, fixed int, pv cti.ProtocolVersion) ([]cti.Tag, error) {
	if fixed > len(body) {
		return nil, fmt.Errorf("body of %d bytes is shorter than a fixed part of %d", len(body), fixed)
	}
	w := cti.TagWidth(pv)
	var tags []cti.Tag
	for off := fixed; off < len(body); {
		if off+2*w > len(body) {
			return tags, fmt.Errorf("truncated floating field header at offset %d", off)
		}
		var tag, n int
		if w == 1 {
			tag, n = int(body[off]), int(body[off+1])
		} else {
			tag, n = int(binary.BigEndian.Uint16(body[off:])), int(binary.BigEndian.Uint16(body[off+2:]))
		}
		off += 2 * w
		if off+n > len(body) {
			return tags, fmt.Errorf("floating field tag %d of %d bytes overruns the body at offset %d", tag, n, off)
		}
		tags = append(tags, cti.Tag(tag))
		off += n
	}
	return tags, nil
}
