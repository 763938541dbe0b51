// Package replay turns a captured CTI Server session into a reproducible
// test: it plays one side of the capture toward a live peer and reports,
// message by message, where the peer does not do what the capture did.
//
//   - Serve plays the captured CTI Server toward a client under test (the
//     reference controller, or any CTI client): it answers the client's
//     requests with the captured confirmations, sends the captured events,
//     and compares the client's requests with the captured ones.
//   - Drive plays the captured client toward a CTI Server under test (the
//     emulator, or a real one): it sends the captured requests, OPEN_REQ
//     first, and compares the server's answers and events with the
//     capture.
//
// The input is a Script: the session's frames (whole GED-188 messages) in
// capture order with their capture times, independent of where they came
// from (a pcap decoded by package pcaps, a proxy, a simulation's tap). The
// output is a Result whose Diff names every divergence with the message
// types and fields concerned and the captured message's position ("#57",
// its 1-based index in Script.Frames) and time since the first frame.
//
// # Matching requests
//
// Two messages match when they have the same type and the same field
// values, except the fields that cannot be the same in another run:
//
//   - InvokeID: chosen by the client. In the server role each captured
//     confirmation goes out with the InvokeID of the client's request it
//     matched; in the client role the captured InvokeIDs are used as they
//     are, since the replay is the client.
//   - TIME fields (ICMCentralControllerTime, CTIClientTimestamp, …): they
//     stamp when something happened, and a replay happens at another time.
//   - In the client role, identifiers the live server assigns (every field
//     ending in CallID, MonitorID, SessionID, the RouterCallKey fields,
//     PreCallInvokeID): the first time a captured value meets a live one,
//     in an answer or in an event that otherwise matches a captured one,
//     the pair is recorded, and from then on the captured value must be
//     that live value everywhere (and no other captured value may map to
//     it). Captured requests that name such an identifier are sent with
//     the live value. In the server role there is nothing to map: the
//     client only ever sees the captured identifiers.
//
// # Polls
//
// Some requests follow the client's timers, not the conversation: they
// cannot match one for one once the timing differs by a little. These are
// every HEARTBEAT_REQ and every query (a QUERY_… request: it reads and
// changes nothing) that the capture repeats with the same fields — the
// reference controller's QUERY_SKILL_GROUP_STATISTICS_REQ every poll
// interval, say, whereas its start-up QUERY_AGENT_STATE_REQ per agent
// occurs once and is matched one for one. In the server role a poll is
// answered at once from the capture: with the confirmation of the captured
// poll with the same fields nearest in replay time (a poll samples the
// centre at a moment, and the nearest captured sample is the best stand-in
// whichever side of it the client's timer fell); a heartbeat is answered
// with a HEARTBEAT_CONF even when the capture is too short to hold one.
// How many polls the client sends is never a divergence, but a request
// type the capture does not hold at all is. In the client role the
// captured polls are sent like any request and their answers are compared
// by type only: their values sample a live centre.
//
// # Ordering and timing
//
// The replay keeps its own clock, replay time, which starts when the
// session opens (at the captured OPEN_REQ's time) and runs at Options.Speed
// times real time, with idle gaps of the capture capped at Options.MaxGap.
//
// In the server role each captured server message goes out in capture
// order, once every captured request before it has come (or been reported
// missing): a confirmation its captured delay after its request, an event
// at its captured time. A request becomes awaited when its captured time
// has come and every server message before it has gone out; if it has not
// come Options.Timeout later it is reported missing and the script goes
// on. While the script waits for a request, replay time stands still, so
// what follows keeps its captured spacing from what the client did. A
// request the client sends is matched within a window of the
// Options.Window oldest captured requests not yet seen: first one with the
// same type and fields, in any order (independent requests, such as the
// lends of two agents decided together, may come reordered), else the
// first of the same type due within Timeout, reported as a mismatch of
// fields (and answered with that request's captured confirmation, so the
// client carries on), else it is unexpected and refused with FAILURE_CONF
// (E_CTI_UNSPECIFIED_FAILURE), as a server refuses what it cannot serve.
// A captured request matched more than Timeout before its time is reported
// early.
//
// In the client role each captured request goes out at its captured time,
// once every captured answer before it has come (or been reported
// missing), so a request that uses what an answer said (a call ID) is not
// sent before it; each answer is awaited its captured delay plus Timeout.
// Events do not hold requests back: they follow the centre's traffic.
//
// # Events in the client role
//
// Each event the server sends is paired with the oldest captured event of
// its type that matches it (identifiers by the mapping), which teaches the
// mapping the identifiers the live server assigned. By default only the
// event types are then compared — a captured type the server never sent,
// or a type the capture never had, is a divergence — because the traffic
// of a field centre is not the server under test's to reproduce. With
// Options.StrictEvents every event must pair, for a deterministic server
// such as the emulator run with the capture's scenario and seed.
//
// # Protocol version
//
// The script's protocol version (Script.Version, or its OPEN_REQ's) is the
// session's throughout: the captured messages are sent as captured, and
// the peer's are decoded with it. A peer that opens with another version
// diverges at its OPEN_REQ (VersionNumber differs) or its OPEN_CONF.
//
// # Bad input and ending
//
// A script that cannot be replayed — no frames, a frame that does not
// decode, a session captured from its middle (the first client message is
// not OPEN_REQ) — is an error naming the script and the frame. What the
// peer does is never an error: a message the codec rejects, a peer that
// disconnects, a peer that never opens, are divergences with their
// position, and the replay stops at the first disconnection or after
// Options.MaxDivergences. Everything is bounded: reads by the peer's
// connection, writes by Timeout, waits by Timeout, the whole replay by
// ctx. Serve and Drive close the connection they were given.
package replay
