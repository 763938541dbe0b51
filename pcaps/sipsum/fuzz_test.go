package sipsum

import (
	"encoding/binary"
	"testing"
)

// FuzzDatagram feeds arbitrary bytes as SIP datagrams and as SIP-over-TCP
// chunks to a tracker with small limits: nothing may panic, Stream never
// consumes more than it was given, and state stays within the limits.
// Input framing: a byte whose low bit picks UDP or TCP and whose next bit
// picks the direction, a 2-byte length, then that many bytes, repeated.
func FuzzDatagram(f *testing.F) {
	c := newCall(f, NewTracker(), "seed@10.0.0.1")
	for _, sc := range scenarios[:5] {
		sc.script(c)
	}
	for i := 0; i+2 <= len(c.raw); i += 2 {
		var in []byte
		for j, m := range c.raw[i : i+2] {
			in = append(in, byte(j&1)<<1|byte(i/2&1))
			in = binary.BigEndian.AppendUint16(in, uint16(len(m.b)))
			in = append(in, m.b...)
		}
		f.Add(in)
	}
	f.Add([]byte("\x01\x00\x04\r\n\r\n\x00\x00\x16INVITE sip:a@b SIP/2.0"))
	f.Fuzz(func(t *testing.T, data []byte) {
		lim := Limits{Dialogs: 3, Ladder: 4, Messages: 6, Notes: 5}
		tr := NewTrackerLimits(lim)
		var buf [2][]byte
		frame := 0
		for len(data) >= 3 {
			ctl, size := data[0], int(binary.BigEndian.Uint16(data[1:3]))
			data = data[3:]
			size = min(size, len(data))
			chunk := data[:size]
			data = data[size:]
			frame++
			src, dst, dir := phone, gateway, int(ctl>>1&1)
			if dir == 1 {
				src, dst = gateway, phone
			}
			if ctl&1 == 0 {
				tr.Datagram(at(float64(frame)), frame, "UDP", src, dst, chunk)
				continue
			}
			buf[dir] = append(buf[dir], chunk...)
			n := tr.Stream(at(float64(frame)), frame, src, dst, buf[dir])
			if n < 0 || n > len(buf[dir]) {
				t.Fatalf("Stream consumed %d of %d bytes", n, len(buf[dir]))
			}
			buf[dir] = buf[dir][n:]
			if len(buf[dir]) > 2*maxStreamMessage {
				buf[dir] = buf[dir][:0] // as the decoder does with a stream that never frames
			}
		}
		st := tr.Stats()
		ds := tr.Dialogs()
		if len(ds) > lim.Dialogs || len(tr.Notes()) > lim.Notes || len(tr.Messages()) > lim.Messages ||
			len(tr.Messages())+st.MessagesNotKept != st.Messages {
			t.Fatalf("%d dialogs, %d notes, %d messages, stats %+v beyond %+v", len(ds), len(tr.Notes()), len(tr.Messages()), st, lim)
		}
		for i := range ds {
			if len(ds[i].Ladder) > lim.Ladder || len(ds[i].Media) > lim.Ladder || ds[i].Outcome == "" {
				t.Fatalf("dialog out of bounds: %+v", ds[i])
			}
			ds[i].AppendText(nil)
		}
	})
}
