// Package capture records the emulator's own traffic — CTI over TCP, SIP over
// UDP and TCP, RTP/RTCP over UDP — to a pcapng file that Wireshark and tshark
// read like any other capture (`ipcclab up --capture FILE.pcapng`).
//
// # Why in-process, synthesized capture
//
// Instead of sniffing an interface, the package taps our own sockets
// (TapPacketConn, TapConn, TapListener, Writer.UDPHook) and synthesizes a
// frame for every datagram or stream chunk they carry: Ethernet (locally
// administered MACs 02:00:a.b.c.d built from the IP address) + IPv4 or IPv6 +
// UDP or TCP, with correct lengths and checksums, timestamped (nanoseconds)
// when the bytes were sent or received. This
//
//   - needs no root, capabilities, raw sockets or libpcap (no cgo: it uses only
//     gopacket, gopacket/layers and gopacket/pcapgo);
//   - records exactly the bytes our sockets carried — what our code wrote and
//     what it read — so a capture is a faithful protocol log;
//   - works the same on loopback, in containers, and for code paths exercised
//     in simulation, where Writer.UDP and TCPFlow can be fed directly.
//
// # Limits
//
//   - Addresses are our sockets' local and remote addresses. A socket bound to
//     the wildcard address is shown with the source address the host would
//     route from to the peer (loopback for a loopback peer). NAT, VLANs, real
//     MACs, IP fragmentation and TTLs are not seen.
//   - TCP segmentation is synthetic, not the kernel's: a Read or Write becomes
//     segments of at most MSS (1460) bytes, PSH on the last; the handshake is
//     written when the connection is tapped, the FIN exchange when it is
//     closed (or the peer's EOF is read), and pure ACKs are invented only when
//     one side has sent 64 KiB unacknowledged. Sequence and acknowledgement
//     numbers are consistent, so Wireshark reassembles streams with no
//     analysis warnings, but RTTs, windows, retransmissions and resets are not
//     the network's. Timestamps are when our code read or wrote.
//   - Bytes are recorded as the application hands them to a socket, just
//     before the write, to keep request/response order; a write that then
//     fails leaves bytes in the capture that the peer never got.
//   - Tapping both ends of one in-process TCP connection is detected (same
//     4-tuple) and recorded once. For UDP a datagram is recorded when a
//     tapped socket sends it; a tapped socket receiving from another tapped
//     socket of the process (one that has sent) does not record it again,
//     so traffic between our own components appears once, as on the wire.
//   - Datagrams that cannot be represented (mixed address families, oversized)
//     are dropped and counted in Writer.Dropped.
package capture
