package pcaps

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/ipcclab/ipcclab/protocol/cti"
)

// rawFrame is one CTI message cut out of a reassembled byte stream, not yet
// decoded (the session's protocol version may not be known yet).
type rawFrame struct {
	offset int64 // stream offset of the header's first byte
	frame  int   // capture frame holding the message's last byte
	ts     time.Time
	data   []byte // header + body, owned
}

// framerNote is something the framer could not decode, or a resync.
type framerNote struct {
	frame int
	ts    time.Time
	text  string
}

// framer cuts one direction of a TCP connection into CTI messages. It is
// fed the reassembled bytes in order, with the gaps reassembly could not
// fill; after a gap, or when a capture starts in the middle of the
// connection, it searches forward for a plausible header (a known message
// type, a length within the protocol's limit, a body that decodes, and a
// plausible header right after it) and says how many bytes it skipped.
type framer struct {
	buf     []byte // bytes not yet framed
	base    int64  // stream offset of buf[0]
	synced  bool
	lostAt  int64 // stream offset where sync was lost (for the resync note)
	skipped int64 // bytes dropped while searching since lostAt
	midway  bool  // the stream's start was not captured

	// versions returns the protocol versions a body may be decoded with
	// while searching: the session's, once known, else every candidate.
	versions func() []cti.ProtocolVersion

	frames []rawFrame
	notes  []framerNote
	bytes  int64 // bytes fed
	gaps   int64 // bytes known missing
}

// maxUnsynced bounds the bytes kept while searching for a header: a full
// message plus the next header is all a search ever needs.
const maxUnsynced = 2*cti.MaxMessageSize + cti.HeaderSize

// where says which capture frame and time a position of the current chunk
// belongs to.
type where func(rel int) (frame int, ts time.Time)

// gap records that n bytes (n < 0: an unknown number, the capture started
// mid-stream) are missing before the next data.
func (f *framer) gap(n int, frame int, ts time.Time) {
	if n == 0 {
		return
	}
	if n < 0 {
		if f.bytes == 0 && f.base == 0 {
			f.midway = true
			f.lostAt = 0
		}
		f.synced = false
		return
	}
	f.gaps += int64(n)
	if len(f.buf) > 0 {
		hdr := ""
		if len(f.buf) >= cti.HeaderSize && f.synced {
			hdr = fmt.Sprintf(" (%s of %d bytes, %d received)", cti.MessageType(binary.BigEndian.Uint32(f.buf[4:])), int(binary.BigEndian.Uint32(f.buf))+cti.HeaderSize, len(f.buf))
		}
		f.notes = append(f.notes, framerNote{frame, ts, fmt.Sprintf("message at stream offset %d lost in the gap%s", f.base, hdr)})
	}
	f.notes = append(f.notes, framerNote{frame, ts, fmt.Sprintf("%d bytes missing at stream offset %d (TCP segments not captured)", n, f.base+int64(len(f.buf)))})
	f.base += int64(len(f.buf)) + int64(n)
	f.buf = f.buf[:0]
	f.synced = false
	f.lostAt = f.base
	f.skipped = 0
}

// write feeds the next reassembled bytes.
func (f *framer) write(data []byte, at where) {
	if len(data) == 0 {
		return
	}
	chunkStart := f.base + int64(len(f.buf))
	f.bytes += int64(len(data))
	f.buf = append(f.buf, data...)
	f.drain(chunkStart, at, false)
}

// end is called when the stream ends: whatever is left is reported.
func (f *framer) end(frame int, ts time.Time) {
	if !f.synced && len(f.buf) > 0 {
		f.drain(f.base+int64(len(f.buf)), func(int) (int, time.Time) { return frame, ts }, true)
	}
	if len(f.buf) == 0 {
		return
	}
	if f.synced && len(f.buf) >= cti.HeaderSize {
		n := int(binary.BigEndian.Uint32(f.buf)) + cti.HeaderSize
		f.notes = append(f.notes, framerNote{frame, ts, fmt.Sprintf("stream ends inside %s at stream offset %d: %d of %d bytes captured",
			cti.MessageType(binary.BigEndian.Uint32(f.buf[4:])), f.base, len(f.buf), n)})
	} else {
		f.notes = append(f.notes, framerNote{frame, ts, fmt.Sprintf("%d trailing bytes at stream offset %d are not a whole CTI message", len(f.buf), f.base)})
	}
	f.base += int64(len(f.buf))
	f.buf = f.buf[:0]
}

func (f *framer) drain(chunkStart int64, at where, final bool) {
	for {
		if !f.synced {
			if !f.search(chunkStart, at, final) {
				return
			}
		}
		if len(f.buf) < cti.HeaderSize {
			return
		}
		n := binary.BigEndian.Uint32(f.buf)
		mt := cti.MessageType(binary.BigEndian.Uint32(f.buf[4:]))
		if !plausibleHeader(n, mt) {
			fr, ts := at(clampRel(f.base-chunkStart, len(f.buf)))
			f.notes = append(f.notes, framerNote{fr, ts, fmt.Sprintf("implausible CTI header at stream offset %d (MessageLength %d, MessageType %d): lost framing, searching for the next message", f.base, n, uint32(mt))})
			f.synced = false
			f.lostAt = f.base
			f.skipped = 0
			continue
		}
		size := int(n) + cti.HeaderSize
		if len(f.buf) < size {
			return
		}
		fr, ts := at(clampRel(f.base+int64(size)-1-chunkStart, int(f.base+int64(len(f.buf))-chunkStart)))
		f.frames = append(f.frames, rawFrame{offset: f.base, frame: fr, ts: ts, data: append([]byte(nil), f.buf[:size]...)})
		f.consume(size)
	}
}

func clampRel(rel int64, n int) int {
	if rel < 0 {
		return 0
	}
	if rel >= int64(n) && n > 0 {
		return n - 1
	}
	return int(rel)
}

func (f *framer) consume(n int) {
	f.base += int64(n)
	f.buf = f.buf[n:]
	if len(f.buf) == 0 {
		f.buf = f.buf[:0:cap(f.buf)]
	} else if cap(f.buf) > 4*maxUnsynced && len(f.buf) < maxUnsynced {
		f.buf = append([]byte(nil), f.buf...)
	}
}

// search looks for a plausible message start in buf. It returns true once
// synchronised; false when more bytes are needed.
func (f *framer) search(chunkStart int64, at where, final bool) bool {
	for i := 0; i+cti.HeaderSize <= len(f.buf); i++ {
		ok, more := f.plausibleAt(i, final)
		if more {
			f.dropBefore(i)
			return false
		}
		if !ok {
			continue
		}
		skipped := f.skipped + int64(i)
		f.consume(i)
		f.synced = true
		if skipped > 0 || f.midway {
			fr, ts := at(clampRel(f.base-chunkStart, int(f.base+int64(len(f.buf))-chunkStart)))
			first := cti.MessageType(binary.BigEndian.Uint32(f.buf[4:]))
			switch {
			case f.midway && skipped == 0:
				f.notes = append(f.notes, framerNote{fr, ts, fmt.Sprintf("capture starts mid-stream, at a message boundary (%s): nothing skipped", first)})
			case f.midway:
				f.notes = append(f.notes, framerNote{fr, ts, fmt.Sprintf("capture starts mid-stream: skipped %d bytes, resynchronised at stream offset %d on a plausible %s header", skipped, f.base, first)})
			default:
				f.notes = append(f.notes, framerNote{fr, ts, fmt.Sprintf("resynchronised at stream offset %d after lost framing: skipped %d bytes before a plausible %s header", f.base, skipped, first)})
			}
			f.midway = false
		}
		f.skipped = 0
		return true
	}
	if final {
		return false
	}
	// Keep only the tail that could still start a header.
	keep := cti.HeaderSize - 1
	if len(f.buf) > keep {
		f.dropBefore(len(f.buf) - keep)
	}
	return false
}

func (f *framer) dropBefore(i int) {
	if i <= 0 {
		return
	}
	f.skipped += int64(i)
	f.consume(i)
}

// plausibleAt says whether a CTI message starts at buf[i]: its header is
// plausible, its body decodes under a candidate version, and the bytes
// after it (when there are any) start with a plausible header too. more
// is true when buf ends before that can be decided.
func (f *framer) plausibleAt(i int, final bool) (ok, more bool) {
	b := f.buf[i:]
	n := binary.BigEndian.Uint32(b)
	mt := cti.MessageType(binary.BigEndian.Uint32(b[4:]))
	if !plausibleHeader(n, mt) {
		return false, false
	}
	size := int(n) + cti.HeaderSize
	if len(b) < size {
		if final {
			return false, false
		}
		return false, true
	}
	if !decodesUnder(mt, b[cti.HeaderSize:size], f.versions()) {
		return false, false
	}
	rest := b[size:]
	if len(rest) == 0 {
		// Nothing follows yet: a lone message is accepted only at the end
		// of the stream, or when it is the whole buffer and decodes (the
		// usual case of one message per segment).
		return true, false
	}
	if len(rest) < cti.HeaderSize {
		if final {
			return true, false
		}
		return false, true
	}
	return plausibleHeader(binary.BigEndian.Uint32(rest), cti.MessageType(binary.BigEndian.Uint32(rest[4:]))), false
}

// plausibleHeader: a length the protocol allows and a message type it
// defines.
func plausibleHeader(n uint32, mt cti.MessageType) bool {
	if n > cti.MaxBodySize {
		return false
	}
	_, known := mt.Since()
	return known
}

func decodesUnder(mt cti.MessageType, body []byte, versions []cti.ProtocolVersion) bool {
	for _, pv := range versions {
		if _, err := cti.DecodeBody(mt, body, pv); err == nil {
			return true
		}
	}
	return false
}
