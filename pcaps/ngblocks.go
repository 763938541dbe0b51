package pcaps

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Limits on what a capture file may make us allocate. A packet is at most
// 262144 bytes (tcpdump's and dumpcap's largest snap length); a pcapng
// block at most that plus headers and options.
const (
	maxPacket = 262144
	maxBlock  = maxPacket + 64<<10
)

// ngBlockReader hands a pcapng file to pcapgo's NgReader one whole block
// at a time, after checking it, for two reasons:
//   - NgReader reports a file that ends inside a block (the usual state of
//     a capture copied while it was being written) as a clean io.EOF, so
//     the engineer would never learn that the last packets are missing; we
//     return io.ErrUnexpectedEOF instead.
//   - NgReader allocates what the file says before reading it: a packet
//     buffer of the interface's snap length (up to 4 GiB) and of each
//     packet's captured length. A block longer than maxBlock is refused,
//     and an interface's snap length above maxPacket is lowered to it, so
//     memory stays bounded whatever the bytes.
type ngBlockReader struct {
	r      io.Reader
	block  []byte // the current block, as passed on
	off    int    // bytes of block already passed on
	little bool   // byte order of the current section
	at     int64  // file offset of the next block
	err    error
	// snap0 is the first interface's snap length as passed on (0:
	// unlimited): pcapgo cuts simple packets to it.
	snap0 uint32
	ifs   int
}

func (n *ngBlockReader) Read(p []byte) (int, error) {
	if n.off == len(n.block) {
		if n.err != nil {
			return 0, n.err
		}
		if err := n.next(); err != nil {
			n.err = err
			return 0, err
		}
	}
	k := copy(p, n.block[n.off:])
	n.off += k
	return k, nil
}

// next reads and checks one block.
func (n *ngBlockReader) next() error {
	var head [12]byte
	if _, err := io.ReadFull(n.r, head[:8]); err != nil {
		if err == io.EOF {
			return io.EOF
		}
		return fmt.Errorf("capture ends inside the block header at file offset %d: %w", n.at, io.ErrUnexpectedEOF)
	}
	typ := binary.LittleEndian.Uint32(head[:4])
	hl := 8
	if typ == 0x0A0D0D0A { // section header: its byte-order magic says how to read lengths
		if _, err := io.ReadFull(n.r, head[8:12]); err != nil {
			return fmt.Errorf("capture ends inside a section header at file offset %d: %w", n.at, io.ErrUnexpectedEOF)
		}
		switch {
		case binary.LittleEndian.Uint32(head[8:]) == 0x1A2B3C4D:
			n.little = true
		case binary.BigEndian.Uint32(head[8:]) == 0x1A2B3C4D:
			n.little = false
		default:
			return fmt.Errorf("section header at file offset %d has no byte-order magic", n.at)
		}
		hl = 12
	}
	order := binary.ByteOrder(binary.BigEndian)
	if n.little {
		order = binary.LittleEndian
	}
	total := int(order.Uint32(head[4:8]))
	if total < hl+4 || total%4 != 0 {
		return fmt.Errorf("pcapng block at file offset %d has an impossible length %d", n.at, total)
	}
	if total > maxBlock {
		return fmt.Errorf("pcapng block at file offset %d is %d bytes, more than the %d a packet block can need: refused", n.at, total, maxBlock)
	}
	if cap(n.block) < total {
		n.block = make([]byte, total)
	}
	n.block = n.block[:total]
	copy(n.block, head[:hl])
	if _, err := io.ReadFull(n.r, n.block[hl:]); err != nil {
		return fmt.Errorf("capture ends inside the block at file offset %d (%d bytes): %w", n.at, total, io.ErrUnexpectedEOF)
	}
	typ = order.Uint32(n.block[:4])
	switch typ {
	case 1: // interface description: snap length at offset 12, options from 16
		if total < 20 {
			return fmt.Errorf("interface description at file offset %d too short (%d bytes)", n.at, total)
		}
		if order.Uint32(n.block[12:]) > maxPacket {
			order.PutUint32(n.block[12:], maxPacket)
		}
		if n.ifs == 0 {
			n.snap0 = order.Uint32(n.block[12:])
		}
		n.ifs++
		if err := checkIDBOptions(n.block[16:total-4], order); err != nil {
			return fmt.Errorf("interface description at file offset %d: %v", n.at, err)
		}
	case 6, 2: // enhanced packet, obsolete packet: captured length at offset 20
		if total < 32 {
			return fmt.Errorf("packet block at file offset %d too short (%d bytes)", n.at, total)
		}
		if cl := int(order.Uint32(n.block[20:])); cl > total-32 {
			return fmt.Errorf("packet block at file offset %d claims %d captured bytes in a %d-byte block", n.at, cl, total)
		}
	case 3: // simple packet: original length at 8; NgReader reads that many
		if total < 16 {
			return fmt.Errorf("simple packet block at file offset %d too short", n.at)
		}
		captured := int64(order.Uint32(n.block[8:]))
		if n.snap0 != 0 {
			captured = min(captured, int64(n.snap0))
		}
		if captured > int64(total-16) {
			return fmt.Errorf("simple packet block at file offset %d claims %d captured bytes in a %d-byte block", n.at, captured, total)
		}
	}
	n.off = 0
	n.at += int64(total)
	return nil
}

// checkIDBOptions refuses the interface options pcapgo would panic on
// (it indexes option values without checking their length, and a
// timestamp resolution of 2^-64 or 10^-20 and finer overflows its scale
// to zero, a division by zero later).
func checkIDBOptions(b []byte, order binary.ByteOrder) error {
	for len(b) >= 4 {
		code, n := order.Uint16(b), int(order.Uint16(b[2:]))
		if code == 0 {
			return nil
		}
		if 4+n > len(b) {
			return fmt.Errorf("option %d of %d bytes runs past the block", code, n)
		}
		v := b[4 : 4+n]
		switch code {
		case 8: // if_filter: a type byte, then the filter
			if n < 1 {
				return errors.New("empty if_filter option")
			}
		case 9: // if_tsresol
			if n < 1 {
				return errors.New("empty if_tsresol option")
			}
			if e := v[0] & 0x7f; (v[0]&0x80 != 0 && e > 62) || (v[0]&0x80 == 0 && e > 18) {
				return fmt.Errorf("timestamp resolution %#x is finer than any clock", v[0])
			}
		case 14: // if_tsoffset
			if n < 8 {
				return errors.New("if_tsoffset option shorter than 8 bytes")
			}
		}
		adv := 4 + (n+3)&^3
		if adv > len(b) {
			return nil
		}
		b = b[adv:]
	}
	return nil
}
