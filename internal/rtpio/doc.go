// Package rtpio puts the audio of internal/media on the wire: G.711 RTP and
// RTCP over real UDP sockets, for the emulated voice gateway, the IP-IVR and
// the agent phones. Where media is the pure codec ring, rtpio is the I/O
// ring: it owns sockets, goroutines and the wall clock.
//
// An Engine hands out Streams, one per m=audio line: an even RTP port from a
// configured range with RTCP on the next port, as RFC 3550 §11 asks. A
// stream plays a media.Source, sends DTMF as RFC 4733 telephone-events (or
// in-band tones when the far end did not offer them), reports received
// digits and, on request, decoded audio for tone detection, and can be
// bridged to another stream the way a media-anchoring B2BUA relays a call.
//
// # One pacer
//
// Every stream's audio is clocked by one goroutine with one 20 ms ticker,
// not by a timer per stream. A contact centre under test runs a thousand
// calls at once, 50,000 packets a second; per-stream timers would add as
// many timer wake-ups and goroutine switches as there are packets, and
// would let the streams drift apart under load. With one pacer a packet
// costs a frame read, a G.711 encode into a reused buffer, a marshal with
// pion/rtp and one sendto, and nothing on the send path allocates. The
// pacer counts 20 ms slots from its start rather than ticks, so the audio
// clock does not slip when a tick is late: it catches up by up to three
// frames, and beyond that skips ahead (the timestamp jumps and the marker
// bit tells the far end). RTCP reports are sent from the same loop.
//
// Receiving is one goroutine per socket blocked in ReadFromUDPAddrPort: the
// kernel does the waiting, and a slow consumer of one call never delays
// another's audio.
//
// # Latching
//
// A stream accepts media only from the address SDP gave it (SetRemote).
// Gateways that latch onto whatever arrives first can be made to play, or
// an IVR to collect digits, from anyone who guesses a port; here strangers
// are dropped. A re-INVITE calls SetRemote again, and the stream moves
// without changing its SSRC, sequence numbers or timestamps, as RFC 3550
// expects of one session.
//
// # Counters
//
// Every datagram that arrives ends in exactly one counter — received,
// unknown source, wrong payload type or malformed — and the received stream
// is measured the RFC 3550 way (loss from sequence numbers with 16-bit
// wrap, duplicates, interarrival jitter) plus Late, the packets a 40 ms
// jitter buffer would have thrown away. Tests assert on these numbers
// instead of on timing, and when a call sounds wrong the counters say
// whether the network, the far end or a stranger is to blame. Engine.Stats
// keeps the totals of closed streams, so a run can be summed up at the end.
//
// The per-datagram receive path (receiveRTP, receiveRTCP) takes bytes and a
// source address rather than a socket, so it is fuzzed and benchmarked
// without the network. It never panics on any input.
package rtpio
