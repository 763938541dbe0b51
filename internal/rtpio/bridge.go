package rtpio

import (
	"sync"

	"github.com/ipcclab/ipcclab/internal/media"
)

// G.711 law conversion tables and one frame of silence per law.
var (
	ulawToAlaw, alawToUlaw [256]byte
	silence                [2][media.FrameSamples]byte
)

func init() {
	var pcm [1]int16
	for i := range 256 {
		media.DecodeUlaw(pcm[:], []byte{byte(i)})
		media.EncodeAlaw(ulawToAlaw[i:i+1], pcm[:])
		media.DecodeAlaw(pcm[:], []byte{byte(i)})
		media.EncodeUlaw(alawToUlaw[i:i+1], pcm[:])
	}
	var zero [media.FrameSamples]int16
	media.ULaw.Encode(silence[media.ULaw][:], zero[:])
	media.ALaw.Encode(silence[media.ALaw][:], zero[:])
}

// transcode converts G.711 bytes between laws (dst must be as long as src).
func transcode(dst, src []byte, from, to media.Law) int {
	if from == to {
		return copy(dst, src)
	}
	table := &ulawToAlaw
	if from == media.ALaw {
		table = &alawToUlaw
	}
	n := min(len(dst), len(src))
	for i := range n {
		dst[i] = table[src[i]]
	}
	return n
}

// relay carries what one stream receives out of its bridged peer.
type relay struct {
	to *Stream
	// Owned by the receive goroutine of the stream the relay hangs on.
	started bool
	inSSRC  uint32
	offset  uint32 // outgoing minus incoming timestamp
}

// Bridge relays media between two streams, as a media-anchoring B2BUA does:
// what a receives is sent on b with b's own SSRC, sequence numbers and
// timestamps (transcoding µ-law and A-law when the two legs differ), and
// the other way round; RFC 4733 events are relayed too, as events, to a
// leg that negotiated telephone-event (they are dropped otherwise). CN is
// relayed as a frame of silence. While bridged a stream's Source and
// queued digits are not used. stop ends the bridge; it is idempotent, and
// closing either stream ends it as well. A stream is in one bridge at a
// time: stop the old bridge before bridging it again.
func Bridge(a, b *Stream) (stop func()) {
	if a == nil || b == nil || a == b {
		return func() {}
	}
	ra, rb := &relay{to: b}, &relay{to: a}
	a.bridge.Store(ra)
	b.bridge.Store(rb)
	var once sync.Once
	return func() {
		once.Do(func() {
			a.bridge.CompareAndSwap(ra, nil)
			b.bridge.CompareAndSwap(rb, nil)
			for _, s := range []*Stream{a, b} {
				s.mu.Lock()
				s.mark = true
				s.mu.Unlock()
			}
		})
	}
}

// forward sends one packet received on the other leg out of r.to. The
// incoming timeline is spliced onto the outgoing one where it stands, at
// the first packet and whenever the incoming SSRC changes, so the far end
// sees one continuous stream.
func (r *relay) forward(k kind, ssrc, ts uint32, marker bool, payload []byte, inLaw media.Law) {
	t := r.to
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return
	}
	rc := t.rcfg.Load()
	if rc == nil {
		return
	}
	if !r.started || ssrc != r.inSSRC {
		r.started, r.inSSRC, r.offset = true, ssrc, t.ts-ts
		t.mark = true
	}
	out := ts + r.offset
	switch k {
	case kindEvent:
		if rc.eventPT == 0 {
			return
		}
		if marker {
			t.ctr.eventsSent.Add(1)
		}
		t.sendRTP(rc, rc.eventPT, out, payload, marker)
	default:
		var pl []byte
		switch {
		case k == kindCN:
			pl = silence[rc.law&1][:]
		case inLaw == rc.law:
			pl = payload
		default:
			pl = t.payload[:transcode(t.payload[:], payload, inLaw, rc.law)]
		}
		t.sendRTP(rc, rc.audioPT, out, pl, marker || t.mark)
		t.mark = false
		if end := out + uint32(len(pl)); int32(end-t.ts) > 0 {
			t.ts = end
		}
	}
}
