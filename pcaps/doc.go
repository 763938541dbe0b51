// Package pcaps decodes packet captures of a contact centre — CTI Server
// (GED-188) sessions, SIP dialogs and RTP streams — so that a field issue's
// capture can be read, followed call by call (package follow) and replayed
// against a client or server under test (package replay).
//
// # Reading
//
// pcap and pcapng (gopacket's pcapgo, pure Go) with Ethernet, Linux cooked,
// loopback or raw-IP link types. TCP is reassembled with gopacket's
// reassembly (out-of-order segments, retransmissions and overlaps resolved
// there). Segments the capture lost become gaps: the CTI framer drops the
// message the gap cut, then searches forward for a plausible header — a
// message type the protocol defines, a MessageLength within its limit, a
// body that decodes, and a plausible header right after it — and notes how
// many bytes it skipped. A capture that starts inside a connection (no
// SYN) is searched the same way from its first byte.
//
// # Finding CTI
//
// By content, not by port: a TCP connection is a CTI session when a CTI
// message can be framed from it; one that starts with a SIP start line is
// SIP over TCP; anything else is listed as other TCP. The client side is
// the SYN's sender, else the sender of OPEN_REQ, else the side sending
// requests rather than events and confirmations, else the side not on the
// CTI Server ports 42027/43027.
//
// # Protocol version
//
// The OPEN_REQ's VersionNumber when the capture has it. Without one, every
// version from 25 down to 2 is tried on the session's first 64 messages;
// the versions under which the most decode are reported, and the session is
// decoded with 24 when it is among them (the current version, and the one
// our own emulator speaks) or else the newest of them.
//
// # Output
//
// Every CTI message with frame, timestamp, direction, type and every field
// by name with enum names (fields from package ctifields, which walks the
// same spec tables the Wireshark dissector is generated from), as text or
// JSON lines; SIP dialogs (package sipsum); RTP streams (package rtpstat);
// and a list of everything that could not be decoded or had to be guessed.
// Nothing makes Decode stop early except a file that is not a capture: a
// damaged block ends the capture with a note.
package pcaps
