// Package sipsum summarises the SIP in a capture: every message as a short
// record (method or status, CSeq, Call-ID, From/To with tags, Via branch,
// Reason cause, SDP media), and every Call-ID as a Dialog — who called
// whom, how the call ended and who hung up, the setup and talk times, the
// media offered and answered (holds included), the ladder of messages, and
// notes on anything odd, such as a 200 OK never acknowledged.
//
// The package is pure: no goroutines and no clock; time comes from the
// packets. Messages are parsed with sipgo's parser and SDP with pion/sdp;
// the input bytes are not retained.
//
// # Finding SIP
//
// By content, not by port: a datagram is SIP when its first line is a
// request line (a method token, a URI, SIP/2.0) or a status line, so that a
// decoder can hand every UDP payload to Datagram and try RTP when it says
// no. Over TCP, Stream frames messages by Content-Length and skips to the
// next start line past anything else. What looks like SIP but cannot be
// summarised — a header sipgo rejects, a missing Call-ID, CSeq, From or To
// — becomes a Note with frame, time and reason, and the tracker carries on.
//
// # Dialogs
//
// Messages are grouped by Call-ID. The opening request (the first request
// without a To tag; an INVITE retried after a 401/407 challenge opens it
// again) fixes caller and callee; the caller is its From tag, so a BYE's
// From tag says who hung up. A request or response seen again with the
// same method or status, CSeq and Via branch is a retransmission: listed
// and counted, and otherwise ignored.
//
// # Bounds
//
// Limits caps the dialogs, the ladder steps and media exchanges per dialog,
// the messages kept and the notes; what happens beyond each is documented
// on Limits.
package sipsum
