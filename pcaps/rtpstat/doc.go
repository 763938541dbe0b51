// Package rtpstat follows the RTP and RTCP in a capture's UDP datagrams and
// reports, per RTP stream, what an engineer asks first about a call's media:
// did it flow both ways, how much was lost, how jittery it was, which codec
// it carried and which DTMF digits were sent in it.
//
// The package is pure: no goroutines and no clock. Time comes from the
// packets (Datagram's ts), so the same capture always gives the same
// figures. Payload bytes are read during the call and never retained.
//
// # Finding RTP
//
// By content, not by port. A datagram is RTP when it has version 2, a
// header pion/rtp can unmarshal and a payload type outside 72–76 (the values
// an RTCP packet type 200–204 would take). Destinations announced in SDP
// (Expect) are accepted from their first packet. Elsewhere a stream — a
// (source, destination, SSRC) triple — is reported only once the flow has
// carried three consistent packets: the same SSRC with the sequence number
// advancing by at most 100, and a static or dynamic payload type (0–34,
// 96–127). Random UDP rarely does that three times running. The first two
// packets return NotRTP, because nothing is known yet; once the stream
// qualifies they are counted in it. Datagrams that never qualify are counted
// in Stats.Rejected.
//
// A datagram whose second byte is 192–223 is tried as RTCP (pion/rtcp);
// one that does not unmarshal is NotRTP.
//
// # Figures
//
// Loss follows RFC 3550 appendix A.1: extended sequence numbers (the 16-bit
// number wraps at 65535), expected = highest − lowest + 1, lost = expected −
// received not counting duplicates, never below zero. A jump of more than
// 3000 ahead or 100 behind starts a new sequence segment (a sender restart)
// when the next packet follows it; otherwise it is a stray, counted out of
// order and not as received. A packet whose number was already received
// is a duplicate, not counted as received (a sender that repeats an RFC
// 4733 end packet under one sequence number shows duplicates).
//
// Jitter is RFC 3550 appendix A.8's interarrival jitter, J += (|D| − J)/16,
// in the payload's clock rate, reported in milliseconds: the maximum, and
// the mean over every packet but the first, as Wireshark's RTP stream
// analysis reports them. Packets of a telephone-event payload are left out
// because their timestamp is the event's start, not the packet's; a change
// of clock rate restarts the estimate.
//
// DTMF follows RFC 4733: one Event per RTP timestamp, however often it is
// repeated (the end packet is sent three times), with its longest duration
// and last volume; an event whose end packet never came is flagged.
//
// # Bounds
//
// Limits caps the streams, the flows waiting to qualify, the events kept
// per stream and the RTCP sources; what happens beyond each is documented
// on Limits. Nothing else grows with the capture.
package rtpstat
