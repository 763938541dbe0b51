package media

import (
	"fmt"

	"github.com/zaf/g711"
)

// Law is a G.711 companding law.
type Law uint8

const (
	// ULaw is G.711 µ-law (RTP static payload type 0, PCMU).
	ULaw Law = iota
	// ALaw is G.711 A-law (RTP static payload type 8, PCMA).
	ALaw
)

// RTP static payload types (RFC 3551).
const (
	PayloadTypePCMU = 0
	PayloadTypePCMA = 8
	PayloadTypeCN   = 13
)

// String returns "PCMU" or "PCMA".
func (l Law) String() string {
	switch l {
	case ULaw:
		return "PCMU"
	case ALaw:
		return "PCMA"
	}
	return fmt.Sprintf("Law(%d)", uint8(l))
}

// PayloadType returns the RTP static payload type of the law.
func (l Law) PayloadType() uint8 {
	if l == ALaw {
		return PayloadTypePCMA
	}
	return PayloadTypePCMU
}

// LawForPayloadType maps RTP payload type 0/8 to a Law.
func LawForPayloadType(pt uint8) (Law, bool) {
	switch pt {
	case PayloadTypePCMU:
		return ULaw, true
	case PayloadTypePCMA:
		return ALaw, true
	}
	return 0, false
}

// Encode companding-encodes min(len(dst), len(pcm)) samples into dst and
// returns the count. It does not allocate.
func (l Law) Encode(dst []byte, pcm []int16) int {
	if l == ALaw {
		return EncodeAlaw(dst, pcm)
	}
	return EncodeUlaw(dst, pcm)
}

// Decode expands min(len(dst), len(payload)) bytes into dst and returns the
// count. It does not allocate.
func (l Law) Decode(dst []int16, payload []byte) int {
	if l == ALaw {
		return DecodeAlaw(dst, payload)
	}
	return DecodeUlaw(dst, payload)
}

// EncodeUlaw encodes min(len(dst), len(pcm)) samples to µ-law; returns the count.
func EncodeUlaw(dst []byte, pcm []int16) int {
	n := min(len(dst), len(pcm))
	for i := range n {
		dst[i] = g711.EncodeUlawFrame(pcm[i])
	}
	return n
}

// DecodeUlaw decodes min(len(dst), len(ulaw)) µ-law bytes; returns the count.
func DecodeUlaw(dst []int16, ulaw []byte) int {
	n := min(len(dst), len(ulaw))
	for i := range n {
		dst[i] = g711.DecodeUlawFrame(ulaw[i])
	}
	return n
}

// EncodeAlaw encodes min(len(dst), len(pcm)) samples to A-law; returns the count.
func EncodeAlaw(dst []byte, pcm []int16) int {
	n := min(len(dst), len(pcm))
	for i := range n {
		dst[i] = g711.EncodeAlawFrame(pcm[i])
	}
	return n
}

// DecodeAlaw decodes min(len(dst), len(alaw)) A-law bytes; returns the count.
func DecodeAlaw(dst []int16, alaw []byte) int {
	n := min(len(dst), len(alaw))
	for i := range n {
		dst[i] = g711.DecodeAlawFrame(alaw[i])
	}
	return n
}

// AppendEncode appends the encoding of pcm to dst (allocating only if dst
// lacks capacity), e.g. to build an RTP payload.
func (l Law) AppendEncode(dst []byte, pcm []int16) []byte {
	n := len(dst)
	dst = growBytes(dst, len(pcm))
	l.Encode(dst[n:], pcm)
	return dst
}

// AppendDecode appends the decoding of payload to dst.
func (l Law) AppendDecode(dst []int16, payload []byte) []int16 {
	n := len(dst)
	if cap(dst)-n < len(payload) {
		nd := make([]int16, n, n+len(payload))
		copy(nd, dst)
		dst = nd
	}
	dst = dst[:n+len(payload)]
	l.Decode(dst[n:], payload)
	return dst
}

func growBytes(b []byte, k int) []byte {
	n := len(b)
	if cap(b)-n < k {
		nb := make([]byte, n, n+k)
		copy(nb, b)
		b = nb
	}
	return b[:n+k]
}
