// Package follow turns a decoded capture (package pcaps) into what an
// engineer reads first when a contact centre misbehaved: one ladder per
// call joining the CTI call, its SIP legs and their RTP streams; each
// agent's state timeline; each CTI session's health (heartbeats, gaps,
// refusals, PG status, how it ended); and a list of anomalies, each with
// the frame, the time, the session and a one-line why. It backs
// `ipcclab pcap calls`.
//
// Follow is a pure function of the *pcaps.Capture: no clock, no I/O, and
// the output is sorted so that the same capture always prints the same
// report. Times are printed as seconds from the capture's first packet.
//
// # Calls
//
// A call is PeripheralID + ConnectionCallID (cti-protocol.md §5.8: the call
// ID is unique per peripheral). Every CTI message that names a call — the
// ConnectionCallID of call events, requests and confirmations, and the
// Primary/Secondary/Active/Held/New call IDs of transfers, conferences and
// consultations — adds a line to that call's ladder. AGENT_PRE_CALL_EVENT
// and AGENT_PRE_CALL_ABORT_EVENT carry no call ID: they join the call whose
// BEGIN_CALL_EVENT or CALL_DATA_UPDATE_EVENT has the same RouterCallKey
// (Day, CallID, SequenceNumber; §5.8). A confirmation without a call ID of
// its own joins the call of its request (same InvokeID). Several sessions
// seeing the same call (a dialer and a recorder, two ALL_EVENTS bridges)
// are merged into one ladder whose lines name their session (CTI#n).
//
// # Joins with SIP and RTP
//
// A SIP call (an INVITE dialog, or a dialog whose opening request the
// capture missed; REGISTER, OPTIONS and the like join nothing) joins a CTI
// call when one of its numbers — From user, request-URI user, To user —
// matches one of the call's numbers — ANI, DNIS, DialedNumber, the
// calling/called/alerting/answering device IDs, the ConnectionDeviceIDs
// and the agent's instrument and extension — and the dialog's time span
// overlaps the call's widened by Options.JoinWindow (default 5 s) on both
// sides: an inbound caller's leg starts before BEGIN_CALL while the call
// waits at the IVR and ends after END_CALL, so overlap, not start time, is
// what is compared. Numbers are compared on their digits (a leading + and
// separators are ignored; anything else makes a value not a number), must
// have at least three digits, and match when equal or when the shorter,
// of at least seven digits, ends the longer (8005550100 and
// +18005550100). When several calls fit, the one with the most matching
// numbers wins, then the one with the largest overlap, then the earliest;
// the join says which numbers matched and names the other candidates, so
// that an engineer can judge it.
//
// An RTP stream joins the SIP dialog whose SDP (offer or answer) announced
// its addresses: a dialog that announced both the destination and the
// source beats one that announced only the destination, which beats one
// that announced only the source (symmetric RTP). Among equals an
// announcement before the stream's first packet beats one after it, and
// then the latest wins: a port reused by a later call belongs to the later
// call, and of the two dialogs of a B2BUA passing media through (our
// emulated CallManager), the later, outer one takes both directions. A
// stream joined to a dialog belongs to that dialog's call. Dialogs and
// streams that join nothing are listed separately.
//
// A call's Ended says how its last END_CALL_EVENT came: after CALL_CLEARED
// or CALL_CONNECTION_CLEARED, alone (as after a peripheral outage), or not
// at all in the capture. Refusals, PG status changes and resets are facts
// of the session (Session.Refusals, PGStatus, Ended), not anomalies.
//
// # Anomalies
//
// Each is flagged with a stable Kind, the frame and time, the session
// (0 for SIP/RTP) and a one-line why:
//
//   - event-after-end-call: a call event for a call and device after that
//     device's END_CALL_EVENT in the same session (END_CALL is the last
//     event a client gets for a call, ipcc-behaviour.md §3.1). A new
//     BEGIN_CALL_EVENT for the same call ID starts the call afresh (the PG
//     reuses the ID when it requeues a call after ring-no-answer), and a
//     transfer's surviving call continues at another device; neither is
//     flagged.
//   - out-of-order: in one session, a call event before the call's
//     BEGIN_CALL_EVENT (when that BEGIN_CALL arrives later in the session;
//     a capture that starts mid-call has none and is not flagged);
//     CALL_DELIVERED_EVENT after CALL_ESTABLISHED_EVENT for the same call
//     and device; a call event after CALL_CLEARED_EVENT other than
//     END_CALL, CALL_DATA_UPDATE (wrap-up data), CALL_CONNECTION_CLEARED
//     and RTP_STOPPED (§5.9 a). Agent events are not ordered against call
//     events (§3.1: not guaranteed) and are never flagged for order.
//   - agent-stuck-reserved: an agent RESERVED for Options.ReservedAfter
//     (default 10 s) with no state change and no call ringing at the
//     agent's device, counting to the end of the capture when nothing
//     follows; flagged at the AGENT_PRE_CALL_ABORT_EVENT when the router
//     aborted the reservation (the agent should have returned to its
//     previous state then, §5.9 a), else where the reservation began. A call delivered to the agent (CALL_DELIVERED at the agent's
//     extension) explains RESERVED until it is answered or cleared: the
//     emulator and a real PG keep the agent RESERVED while the phone rings,
//     up to the ring-no-answer time.
//   - available-while-talking: SET_AGENT_STATE_REQ AVAILABLE for an agent
//     whose last known state is TALKING or HOLD (the blending controller
//     made an agent on a call available to ICM; UCCE keeps it as the
//     pending state, §5.9 e).
//   - heartbeat-gap: no message from the client for at least the OPEN_REQ
//     IdleTimeout (§5.4); the server closing the connection afterwards is
//     the expected consequence and the why says so. IdleTimeout 0xFFFFFFFF
//     and 0x7FFFFFFF mean no supervision and are never flagged.
//   - no-confirmation: a client request whose InvokeID got no *_CONF,
//     FAILURE_CONF or CONTROL_FAILURE_CONF within Options.ConfirmWithin
//     (default 15 s; §5.7: up to 10–15 s is possible), including one
//     confirmed only later. A request sent less than ConfirmWithin before
//     the end of the capture is not flagged (the answer may simply not be
//     captured). In a session granted CTI_SERVICE_IGNORE_CONF only
//     OPEN/HEARTBEAT/CLOSE requests and queries (QUERY_*, SNAPSHOT_*,
//     LIST_*) are expected to be confirmed.
//   - outstanding-at-close: the session's connection ended while requests
//     were unconfirmed; one anomaly per session naming them.
//   - pg-offline-mid-call: SYSTEM_EVENT reporting the peripheral, the PG,
//     the OPC or the CTI Server offline (SystemEventID
//     SYS_PERIPHERAL_OFFLINE — for its Arg1 peripheral only —,
//     SYS_PERIPHERAL_GATEWAY_OFFLINE, SYS_CTI_SERVER_OFFLINE, or PGStatus
//     gaining PGS_OPC_DOWN, PGS_PERIPHERAL_OFFLINE or
//     PGS_CTI_SERVER_OFFLINE) while calls of that session are active (a
//     connection seen and neither END_CALL nor CALL_CLEARED yet). The
//     central controller going down (PGS_CC_DOWN) stops routing, not calls
//     in progress, and is listed in the session's PG status only.
//   - one-way-rtp: an answered SIP dialog whose first offer and answer
//     are two-way (sendrecv, or no direction attribute) with RTP, between
//     the answer and the dialog's last message, toward one side's
//     announced address only. All the capture's streams are counted, not
//     only those joined to the dialog (a B2BUA's two dialogs announce the
//     same addresses). A dialog with no RTP at all (a capture without
//     media) is not flagged. The silent direction gets a "no packets" line
//     in the ladder.
//
// # Bad input
//
// A nil capture gives an empty report. Messages that did not decode (nil
// Msg) are counted per session and otherwise skipped: their fields are
// unknown, so they cannot be followed. Negative options are invalid
// (Options.Validate says which); Follow uses the defaults in their place.
package follow
