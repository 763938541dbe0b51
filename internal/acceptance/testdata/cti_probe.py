#!/usr/bin/env python3
"""cti_probe: an independent CTI Server (Cisco GED-188) client for acceptance tests.

Written from the protocol reference (/work/shared/reference/cti-protocol.md,
"the reference" below; section numbers like §3.1 refer to it) and nothing else:
it shares no code or tables with the Go implementation it tests. Python 3
standard library only.

Session mode (default)
    cti_probe.py --addr HOST:PORT --version N [--seconds S]
  Opens an ALL_EVENTS session, heartbeats, validates the structure of every
  message received, and succeeds (exit 0) once it has seen OPEN_CONF, a
  SYSTEM_EVENT, an AGENT_STATE_EVENT, a HEARTBEAT_CONF and one complete call
  sequence (BEGIN_CALL ... call events ... END_CALL for one
  ConnectionCallID); then CLOSE_REQ / CLOSE_CONF. With --until-stdin-eof it
  instead stays open, heartbeating, until its standard input is closed.
  With --ani N it also counts, per ConnectionCallID, the call events of the
  calls whose BEGIN_CALL or CALL_DELIVERED carries ANI N (summary field
  "ani_calls": events in order, alerting and answering devices, whether
  END_CALL was seen) -- e.g. the calls an outside SIP caller placed.

Garbage mode
    cti_probe.py --addr HOST:PORT --garbage [oversized|short-header|unknown-type|http|random]
  Sends junk on a fresh connection and succeeds if the server answers with
  FAILURE_CONF or closes the connection within 5 s.

Refusal mode
    cti_probe.py --addr HOST:PORT --refusals --version N
  For each bad OPEN_REQ of §5.2 (unsupported VersionNumber 9 and 99, no
  ClientID, IdleTimeout 10, an unused ServicesRequested bit, an undefined
  AgentStateMask bit, Reserved1 != 0, CLIENT_EVENTS with PeripheralID 4242 or
  without a PeripheralID, a second OPEN_REQ on an open session, HEARTBEAT_REQ
  before OPEN_REQ), on its own connection: expects a FAILURE_CONF of exactly
  InvokeID + Status echoing the request's InvokeID with the documented Status,
  then that the same connection still works (a corrected OPEN_REQ is answered
  with OPEN_CONF, or the open session still answers HEARTBEAT_REQ), then CLOSE.

Control mode
    cti_probe.py --addr HOST:PORT --control --version N [--agents S,A,B,C]
  Opens a CLIENT_CONTROL + ALL_EVENTS session and, validating every message:
  SET_AGENT_STATE_REQ AVAILABLE then NOT_READY (with a reason code) for agent
  S, expecting SET_AGENT_STATE_CONF and the agent's AGENT_STATE_EVENTs; then
  MAKE_CALL_REQ from agent A to agent B's extension (MAKE_CALL_CONF,
  CALL_SERVICE_INITIATED, CALL_ORIGINATED, CALL_DELIVERED and
  CALL_ESTABLISHED at B), CONSULTATION_CALL_REQ from A to agent C
  (CONSULTATION_CALL_CONF, CALL_HELD, CALL_DELIVERED and CALL_ESTABLISHED at
  C), TRANSFER_CALL_REQ (TRANSFER_CALL_CONF, CALL_TRANSFERRED after the
  consult call's CALL_DELIVERED). A, B and C must be idle and NOT_READY.

Output: one JSON line on stdout (the summary); progress lines on stderr, among
them "probe: ready" once OPEN_CONF has been validated (session mode).
Exit status: 0 success, 1 protocol/structural problem, 2 timeout,
3 connection or usage error.
"""

import argparse
import json
import os
import random
import select
import socket
import struct
import sys
import time

HEADER = struct.Struct(">II")  # MessageLength (excl. header), MessageType  (§1.2)
MAX_MESSAGE = 12500  # maximum total message size incl. header, PV24 (§1.2)

# ---------------------------------------------------------------- constants

FAILURE_CONF = 1
FAILURE_EVENT = 2
OPEN_REQ = 3
OPEN_CONF = 4
HEARTBEAT_REQ = 5
HEARTBEAT_CONF = 6
CLOSE_REQ = 7
CLOSE_CONF = 8
CALL_DELIVERED = 9
CALL_ESTABLISHED = 10
CALL_HELD = 11
CALL_RETRIEVED = 12
CALL_CLEARED = 13
CALL_CONNECTION_CLEARED = 14
CALL_ORIGINATED = 15
CALL_FAILED = 16
CALL_CONFERENCED = 17
CALL_TRANSFERRED = 18
CALL_DIVERTED = 19
CALL_SERVICE_INITIATED = 20
CALL_QUEUED = 21
CALL_TRANSLATION_ROUTE = 22
BEGIN_CALL = 23
END_CALL = 24
CALL_DATA_UPDATE = 25
AGENT_STATE = 30
SYSTEM_EVENT = 31
CALL_REACHED_NETWORK = 34
CONTROL_FAILURE_CONF = 35
SET_AGENT_STATE_REQ = 38
SET_AGENT_STATE_CONF = 39
CLEAR_CALL_REQ = 44
CLEAR_CALL_CONF = 45
CONSULTATION_CALL_REQ = 50
CONSULTATION_CALL_CONF = 51
MAKE_CALL_REQ = 56
MAKE_CALL_CONF = 57
MAKE_PREDICTIVE_CALL_REQ = 58
MAKE_PREDICTIVE_CALL_CONF = 59
TRANSFER_CALL_REQ = 64
TRANSFER_CALL_CONF = 65
CALL_DEQUEUED = 86
AGENT_PRE_CALL = 105
AGENT_PRE_CALL_ABORT = 106
RTP_STARTED = 116
RTP_STOPPED = 117
AGENT_TEAM_CONFIG = 128

NAMES = {
    FAILURE_CONF: "FAILURE_CONF", FAILURE_EVENT: "FAILURE_EVENT", OPEN_CONF: "OPEN_CONF",
    HEARTBEAT_CONF: "HEARTBEAT_CONF", CLOSE_CONF: "CLOSE_CONF",
    CALL_DELIVERED: "CALL_DELIVERED_EVENT", CALL_ESTABLISHED: "CALL_ESTABLISHED_EVENT",
    CALL_HELD: "CALL_HELD_EVENT", CALL_RETRIEVED: "CALL_RETRIEVED_EVENT",
    CALL_CLEARED: "CALL_CLEARED_EVENT", CALL_CONNECTION_CLEARED: "CALL_CONNECTION_CLEARED_EVENT",
    CALL_ORIGINATED: "CALL_ORIGINATED_EVENT", CALL_FAILED: "CALL_FAILED_EVENT",
    CALL_CONFERENCED: "CALL_CONFERENCED_EVENT", CALL_TRANSFERRED: "CALL_TRANSFERRED_EVENT",
    CALL_DIVERTED: "CALL_DIVERTED_EVENT", CALL_SERVICE_INITIATED: "CALL_SERVICE_INITIATED_EVENT",
    CALL_QUEUED: "CALL_QUEUED_EVENT", CALL_TRANSLATION_ROUTE: "CALL_TRANSLATION_ROUTE_EVENT",
    BEGIN_CALL: "BEGIN_CALL_EVENT", END_CALL: "END_CALL_EVENT",
    CALL_DATA_UPDATE: "CALL_DATA_UPDATE_EVENT", AGENT_STATE: "AGENT_STATE_EVENT",
    SYSTEM_EVENT: "SYSTEM_EVENT", CALL_REACHED_NETWORK: "CALL_REACHED_NETWORK_EVENT",
    CALL_DEQUEUED: "CALL_DEQUEUED_EVENT", AGENT_PRE_CALL: "AGENT_PRE_CALL_EVENT",
    AGENT_PRE_CALL_ABORT: "AGENT_PRE_CALL_ABORT_EVENT", RTP_STARTED: "RTP_STARTED_EVENT",
    RTP_STOPPED: "RTP_STOPPED_EVENT", AGENT_TEAM_CONFIG: "AGENT_TEAM_CONFIG_EVENT",
    CONTROL_FAILURE_CONF: "CONTROL_FAILURE_CONF", SET_AGENT_STATE_CONF: "SET_AGENT_STATE_CONF",
    CLEAR_CALL_CONF: "CLEAR_CALL_CONF", CONSULTATION_CALL_CONF: "CONSULTATION_CALL_CONF",
    MAKE_CALL_CONF: "MAKE_CALL_CONF", MAKE_PREDICTIVE_CALL_CONF: "MAKE_PREDICTIVE_CALL_CONF",
    TRANSFER_CALL_CONF: "TRANSFER_CALL_CONF",
}

CTI_SERVICE_CLIENT_EVENTS = 0x00000001  # §4.1
CTI_SERVICE_CLIENT_CONTROL = 0x00000004
CTI_SERVICE_ALL_EVENTS = 0x00000010
CTI_AGENT_STATE_CONTROL_ONLY = 0x00002000
CTI_SERVICE_UNUSED_BIT = 0x00004000  # "(unused)" row of the §4.1 table

# §4.4 AgentState values used here
AGENT_STATE_NOT_READY = 2
AGENT_STATE_AVAILABLE = 3
AGENT_STATE_NAMES = ["LOGIN", "LOGOUT", "NOT_READY", "AVAILABLE", "TALKING", "WORK_NOT_READY",
                     "WORK_READY", "BUSY_OTHER", "RESERVED", "UNKNOWN", "HOLD", "ACTIVE", "PAUSED",
                     "INTERRUPTED", "NOT_ACTIVE"]

# §4.14 FAILURE_CONF status codes used by the refusal mode
E_CTI_INVALID_VERSION = 1
E_CTI_SESSION_NOT_OPEN = 4
E_CTI_SESSION_ALREADY_OPEN = 5
E_CTI_REQUIRED_DATA_MISSING = 6
E_CTI_INVALID_PERIPHERAL_ID = 7
E_CTI_INVALID_TIMEOUT = 18
E_CTI_INVALID_SERVICE_MASK = 19
E_CTI_INVALID_AGENT_STATE_MASK = 21
E_CTI_INVALID_RESERVED_FIELD = 22

# §4.2: every bit of CallMsgMask is defined; the top four (network recording,
# 0x10000000-0x80000000) belong to PV23+ (§3 version table). The real CTI OS
# Server at PV15 requested 0x0FFFFFFF (§4.2, §7).
def call_msg_mask(version):
    return 0xFFFFFFFF if version >= 23 else 0x0FFFFFFF

AGENT_STATE_MASK = 0x3FF  # LOGIN..HOLD (§4.3)
AGENT_STATE_MASK_UNDEFINED_BIT = 0x4000  # §4.3 defines bits 0x1..0x2000 (states 0..14) only

# Floating-field tags (§4.17): tag -> (name, kind, max data bytes).
# kinds: S STRING (NUL-terminated, max incl. NUL), X UNSPEC, U UINT/INT (4),
#        H USHORT (2), C UCHAR (1), NV NAMEDVAR, NA NAMEDARRAY.
TAGS = {
    1: ("ClientID", "S", 64), 2: ("ClientPassword", "X", 64), 3: ("ClientSignature", "S", 64),
    4: ("AgentExtension", "S", 16), 5: ("AgentID", "S", 12), 6: ("AgentInstrument", "S", 64),
    7: ("Text", "S", 255), 8: ("ANI", "S", 40), 9: ("UserToUserInfo", "X", 131),
    10: ("DNIS", "S", 32), 11: ("DialedNumber", "S", 40), 12: ("CallerEnteredDigits", "S", 40),
    23: ("CTIClientSignature", "S", 64), 24: ("CTIClientTimestamp", "U", 4),
    25: ("ConnectionDeviceID", "S", 64), 26: ("AlertingDeviceID", "S", 64),
    27: ("CallingDeviceID", "S", 64), 28: ("CalledDeviceID", "S", 64),
    29: ("LastRedirectDeviceID", "S", 64), 30: ("AnsweringDeviceID", "S", 64),
    31: ("HoldingDeviceID", "S", 64), 32: ("RetrievingDeviceID", "S", 64),
    33: ("ReleasingDeviceID", "S", 64), 34: ("FailingDeviceID", "S", 64),
    35: ("PrimaryDeviceID", "S", 64), 36: ("SecondaryDeviceID", "S", 64),
    37: ("ControllerDeviceID", "S", 64), 38: ("AddedPartyDeviceID", "S", 64),
    39: ("ConnectedPartyCallID", "U", 4), 40: ("ConnectedPartyDeviceIDType", "H", 2),
    41: ("ConnectedPartyDeviceID", "S", 64), 42: ("TransferringDeviceID", "S", 64),
    43: ("TransferredDeviceID", "S", 64), 44: ("DivertingDeviceID", "S", 64),
    45: ("QueueDeviceID", "S", 64), 46: ("CallWrapupData", "S", 40),
    47: ("NewConnectionDeviceID", "S", 64), 48: ("TrunkUsedDeviceID", "S", 64),
    62: ("SkillGroupNumber", "U", 4), 63: ("SkillGroupID", "U", 4),
    64: ("SkillGroupPriority", "H", 2), 65: ("SkillGroupState", "H", 2),
    72: ("RouterCallKeyDay", "U", 4), 73: ("RouterCallKeyCallID", "U", 4),
    81: ("ClientAddress", "S", 64), 82: ("NamedVariable", "NV", 251), 83: ("NamedArray", "NA", 252),
    86: ("AtcAgentID", "S", 12), 87: ("AgentFlags", "H", 2), 88: ("AtcAgentState", "H", 2),
    89: ("AtcStateDuration", "U", 4), 95: ("CustomerPhoneNumber", "S", 20),
    96: ("CustomerAccountNumber", "S", 32), 110: ("RouterCallKeySequenceNumber", "U", 4),
    121: ("TrunkNumber", "U", 4), 122: ("TrunkGroupNumber", "U", 4),
    123: ("NextAgentState", "H", 2), 124: ("DequeueType", "X", 64),
    125: ("SendingAddress", "S", 64), 126: ("SendingPort", "U", 4), 150: ("Duration", "U", 4),
    194: ("AgentIDLong", "S", 32), 202: ("SecondaryConnectionCallID", "U", 4),
    206: ("EventDeviceID", "S", 64), 208: ("FltPeripheralID", "U", 4),
    210: ("FltCallTypeID", "U", 4), 215: ("ANI_II", "S", 2), 217: ("CTIOSCILClientID", "S", 64),
    221: ("PreCallInvokeID", "U", 4), 223: ("CallReferenceID", "X", 32),
    224: ("MultilineAgentControl", "H", 2), 228: ("NumPeripherals", "H", 2),
    229: ("COCConnectionCallID", "U", 4), 230: ("COCConnectionDeviceIDType", "H", 2),
    231: ("COCConnectionDeviceID", "S", 64), 243: ("AgentTeamName", "S", 32),
    244: ("Direction", "U", 4), 266: ("MaxBeyondTaskLimit", "U", 4),
    294: ("ProtocolReferenceGUID", "X", 64), 303: ("ActiveTerminal", "S", 64),
    309: ("FltEnabledServices", "H", 2), 310: ("NumOfEnabledServices", "H", 2),
    311: ("CcaiConfigId", "S", 40),
    # tags of the client-control requests and their confirmations (§3.1, §3.2, §4.17)
    49: ("AgentPassword", "S", 64), 50: ("ActiveConnectionDeviceID", "S", 64),
    51: ("FacilityCode", "S", 40), 53: ("HeldConnectionDeviceID", "S", 64),
    79: ("OriginatingDeviceID", "S", 64), 80: ("OriginatingLineID", "S", 40),
}
for _t in range(13, 23):
    TAGS[_t] = ("CallVariable%d" % (_t - 12), "S", 41)

CALLVARS = list(range(13, 23))
CALL_DATA = [8, 9, 10, 11, 12, 72, 73, 110] + CALLVARS + [46, 82, 83]


def fixed_size(mtype, v):
    """Fixed-part size of a server message for protocol version v (§3)."""
    if mtype == OPEN_CONF:
        return 26 if v < 19 else (30 if v < 24 else 32)  # §3.1 OPEN_CONF notes
    if mtype == AGENT_STATE:
        return 58 if v < 19 else 62  # §3.1 AGENT_STATE_EVENT notes
    if mtype == AGENT_PRE_CALL:
        return 30 if v < 20 else 34  # §3.2: AgentSkillTargetID PV20+
    if mtype == AGENT_TEAM_CONFIG:
        return 12 if v < 19 else 16  # §3.2: DepartmentID PV19+
    return FIXED[mtype]


FIXED = {
    FAILURE_CONF: 8, FAILURE_EVENT: 4, HEARTBEAT_CONF: 4, CLOSE_CONF: 4,
    CALL_DELIVERED: 54, CALL_ESTABLISHED: 50, CALL_HELD: 22, CALL_RETRIEVED: 22,
    CALL_CLEARED: 20, CALL_CONNECTION_CLEARED: 22, CALL_ORIGINATED: 46, CALL_FAILED: 24,
    CALL_CONFERENCED: 46, CALL_TRANSFERRED: 46, CALL_DIVERTED: 32, CALL_SERVICE_INITIATED: 44,
    CALL_QUEUED: 40, CALL_TRANSLATION_ROUTE: 4, BEGIN_CALL: 26, END_CALL: 16,
    CALL_DATA_UPDATE: 40, SYSTEM_EVENT: 26, CALL_REACHED_NETWORK: 28, CALL_DEQUEUED: 34,
    AGENT_PRE_CALL_ABORT: 8, RTP_STARTED: 34, RTP_STOPPED: 20,
    # confirmations of client-control requests (§3.1 tables, §3.2 compact list)
    CONTROL_FAILURE_CONF: 10, SET_AGENT_STATE_CONF: 4, CLEAR_CALL_CONF: 4,
    MAKE_CALL_CONF: 14, MAKE_PREDICTIVE_CALL_CONF: 14, CONSULTATION_CALL_CONF: 14,
    TRANSFER_CALL_CONF: 16,
}

# Legal floating tags per message (§3.1 / §3.2 tables; tag table §4.17) and required ones.
ALLOWED = {
    FAILURE_CONF: [217], FAILURE_EVENT: [], HEARTBEAT_CONF: [], CLOSE_CONF: [],
    OPEN_CONF: [4, 5, 6, 228, 208, 224],
    CALL_DELIVERED: [25, 26, 27, 28, 29, 121, 122, 202, 215] + CALL_DATA,
    CALL_ESTABLISHED: [25, 30, 27, 28, 29, 121, 122],
    CALL_HELD: [25, 31], CALL_RETRIEVED: [25, 32], CALL_CLEARED: [25],
    CALL_CONNECTION_CLEARED: [25, 33], CALL_ORIGINATED: [25, 27, 28],
    CALL_FAILED: [25, 34, 28],
    CALL_CONFERENCED: [35, 36, 37, 38, 39, 40, 41],
    CALL_TRANSFERRED: [35, 36, 42, 43, 39, 40, 41],
    CALL_DIVERTED: [25, 44, 28],
    CALL_SERVICE_INITIATED: [25, 27, 223, 229, 230, 231],
    CALL_QUEUED: [25, 45, 27, 28, 29, 62, 63, 64],
    CALL_TRANSLATION_ROUTE: CALL_DATA,
    BEGIN_CALL: [25, 215, 23, 24, 223] + CALL_DATA,
    # §3.1 lists only ConnectionDeviceID; §5.8 says END_CALL may list CTI clients too.
    END_CALL: [25, 23, 24],
    CALL_DATA_UPDATE: [25, 47, 95, 96, 23, 24, 223] + CALL_DATA,
    AGENT_STATE: [3, 5, 4, 303, 6, 150, 123, 244, 62, 63, 64, 65, 266, 194],
    SYSTEM_EVENT: [7, 206],
    CALL_REACHED_NETWORK: [25, 48, 28, 121, 122],
    CALL_DEQUEUED: [25, 62, 63, 64, 124],
    AGENT_PRE_CALL: [6, 72, 73, 110, 8, 9, 11, 12, 215, 210, 221] + CALLVARS
                    + [82, 83, 5, 294, 310, 309, 311],
    AGENT_PRE_CALL_ABORT: [6, 72, 73, 110],
    RTP_STARTED: [25, 81, 5, 4, 6, 125, 126], RTP_STOPPED: [25, 81, 5, 4, 6, 125, 126],
    AGENT_TEAM_CONFIG: [243, 86, 87, 88, 89],
    CONTROL_FAILURE_CONF: [217], SET_AGENT_STATE_CONF: [], CLEAR_CALL_CONF: [],
    MAKE_CALL_CONF: [47], MAKE_PREDICTIVE_CALL_CONF: [47], CONSULTATION_CALL_CONF: [47],
    TRANSFER_CALL_CONF: [47, 39, 40, 41],
}
REQUIRED = {t: [25] for t in (CALL_DELIVERED, CALL_ESTABLISHED, CALL_HELD, CALL_RETRIEVED,
                              CALL_CLEARED, CALL_CONNECTION_CLEARED, CALL_ORIGINATED,
                              CALL_FAILED, CALL_DIVERTED, CALL_SERVICE_INITIATED, CALL_QUEUED,
                              BEGIN_CALL, END_CALL, CALL_REACHED_NETWORK, CALL_DEQUEUED,
                              RTP_STARTED, RTP_STOPPED)}
REQUIRED[CALL_DATA_UPDATE] = [25, 47]
REQUIRED[CALL_TRANSLATION_ROUTE] = [10]
# §3.1 MAKE_CALL_CONF / MAKE_PREDICTIVE_CALL_CONF: NewConnectionDeviceID "required". (The §3.2
# compact entries for CONSULTATION/TRANSFER_CALL_CONF give no presence column.)
REQUIRED[MAKE_CALL_CONF] = [47]
REQUIRED[MAKE_PREDICTIVE_CALL_CONF] = [47]

# Floating fields newer than some protocol versions (§3 version table, §4.17):
# (message type or None for any, tag) -> first version that has it. A server
# must not send them on older sessions (§5.1 (c); §5.7 E_CTI_INVALID_TAG_FOR_VERSION).
TAG_SINCE = {
    (None, 223): 14, (OPEN_CONF, 228): 14, (OPEN_CONF, 208): 14, (OPEN_CONF, 224): 14,
    (AGENT_STATE, 244): 16, (AGENT_TEAM_CONFIG, 243): 16, (AGENT_PRE_CALL, 5): 20,
    (None, 266): 22, (None, 303): 25,
}

SECTION = {  # where each layout is documented, for problem reports
    OPEN_CONF: "§3.1 OPEN_CONF", AGENT_STATE: "§3.1 AGENT_STATE_EVENT",
    SYSTEM_EVENT: "§3.1 SYSTEM_EVENT", BEGIN_CALL: "§3.1 BEGIN_CALL_EVENT",
    END_CALL: "§3.1 END_CALL_EVENT", CALL_DELIVERED: "§3.1 CALL_DELIVERED_EVENT",
    CALL_ESTABLISHED: "§3.1 CALL_ESTABLISHED_EVENT", CALL_CLEARED: "§3.1 CALL_CLEARED_EVENT",
    CALL_CONNECTION_CLEARED: "§3.1 CALL_CONNECTION_CLEARED_EVENT",
    AGENT_PRE_CALL: "§3.2 AGENT_PRE_CALL_EVENT", AGENT_TEAM_CONFIG: "§3.2 AGENT_TEAM_CONFIG_EVENT",
    FAILURE_CONF: "§3.1 FAILURE_CONF", CALL_HELD: "§3.1 CALL_HELD_EVENT",
    CALL_ORIGINATED: "§3.1 CALL_ORIGINATED_EVENT",
    CALL_SERVICE_INITIATED: "§3.2 CALL_SERVICE_INITIATED_EVENT",
    CALL_TRANSFERRED: "§3.2 CALL_TRANSFERRED_EVENT",
    CONTROL_FAILURE_CONF: "§3.1 CONTROL_FAILURE_CONF", SET_AGENT_STATE_CONF: "§3.1 SET_AGENT_STATE_CONF",
    CLEAR_CALL_CONF: "§3.1 CLEAR_CALL_CONF", MAKE_CALL_CONF: "§3.1 MAKE_CALL_CONF",
    MAKE_PREDICTIVE_CALL_CONF: "§3.1 MAKE_PREDICTIVE_CALL_CONF",
    CONSULTATION_CALL_CONF: "§3.2 CONSULTATION_CALL_CONF", TRANSFER_CALL_CONF: "§3.2 TRANSFER_CALL_CONF",
}

# Call events whose fixed part starts MonitorID, PeripheralID, PeripheralType,
# ConnectionDeviceIDType (USHORT), ConnectionCallID (UINT) — offset of ConnectionCallID.
CALLID_OFFSET = {
    CALL_DELIVERED: 12, CALL_ESTABLISHED: 12, CALL_HELD: 12, CALL_RETRIEVED: 12,
    CALL_CLEARED: 12, CALL_CONNECTION_CLEARED: 12, CALL_ORIGINATED: 12, CALL_FAILED: 12,
    CALL_DIVERTED: 12, CALL_SERVICE_INITIATED: 12, CALL_QUEUED: 12, CALL_REACHED_NETWORK: 12,
    CALL_DEQUEUED: 12, END_CALL: 12, BEGIN_CALL: 20, CALL_DATA_UPDATE: 20,
}
# Messages whose first fixed field is the session's MonitorID (§5.2).
HAS_MONITOR_ID = set(CALLID_OFFSET) | {CALL_CONFERENCED, CALL_TRANSFERRED, AGENT_STATE,
                                       AGENT_PRE_CALL, AGENT_PRE_CALL_ABORT,
                                       RTP_STARTED, RTP_STOPPED}


class Problem(Exception):
    """A structural or protocol violation found in the server's output."""

    def __init__(self, msg, section=None, mtype=None, raw=None):
        Exception.__init__(self, msg)
        self.msg, self.section, self.mtype, self.raw = msg, section, mtype, raw

    def as_dict(self):
        d = {"problem": self.msg}
        if self.mtype is not None:
            d["message_type"] = self.mtype
            d["message_name"] = NAMES.get(self.mtype, "type %d" % self.mtype)
        if self.section:
            d["reference"] = self.section
        if self.raw is not None:
            d["hex"] = self.raw[:1024].hex()
            if len(self.raw) > 1024:
                d["hex_truncated"] = True
        return d


class Timeout(Exception):
    pass


def log(*a):
    print("probe:", *a, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- encoding

def frame(mtype, body):
    return HEADER.pack(len(body), mtype) + body


def flt(version, tag, data):
    if version >= 20:  # §1.3: USHORT tag and length from PV20
        return struct.pack(">HH", tag, len(data)) + data
    return struct.pack(">BB", tag, len(data)) + data


def open_req(invoke, version, client_id, services=CTI_SERVICE_ALL_EVENTS, idle=30,
             peripheral=0xFFFFFFFF, agent_mask=AGENT_STATE_MASK, reserved1=0, with_client_id=True,
             agent=None):
    """OPEN_REQ (§3.1): 44-byte fixed part, then ClientID (1), ClientPassword (2) and, for a
    CLIENT_EVENTS session, the agent's AgentExtension (4), AgentID (5), AgentInstrument (6)."""
    fixed = struct.pack(">11I", invoke, version, idle, peripheral, services,
                        call_msg_mask(version), agent_mask, 0, reserved1, 0, 0)
    assert len(fixed) == 44
    floats = b""
    if with_client_id:
        floats += flt(version, 1, client_id.encode("ascii") + b"\0")
    floats += flt(version, 2, b"")
    if agent is not None:
        agent_id, ext = agent
        floats += (flt(version, 4, cstr(ext)) + flt(version, 5, cstr(agent_id))
                   + flt(version, 6, cstr(ext)))
    return frame(OPEN_REQ, fixed + floats)


def cstr(text):
    """STRING floating-field data: ASCII plus the terminating NUL, counted in FieldLength (§1.5)."""
    return str(text).encode("ascii") + b"\0"


# Client-control requests (§3.1 tables; §3.2 compact list for CONSULTATION/TRANSFER). All
# fixed parts are packed without padding (§1.2); the sizes are asserted against the reference.

def set_agent_state_req(v, invoke, peripheral, state, agent_id, instrument, reason=0, work_mode=0):
    # InvokeID, PeripheralID, AgentState S, AgentWorkMode S, NumSkillGroups S, EventReasonCode S,
    # ForcedFlag UCHAR, AgentServiceReq UINT = 21 bytes | AgentInstrument (6), AgentID (5)
    fixed = struct.pack(">IIHHHHBI", invoke, peripheral, state, work_mode, 0, reason, 0, 0)
    assert len(fixed) == 21
    return frame(SET_AGENT_STATE_REQ, fixed + flt(v, 6, cstr(instrument)) + flt(v, 5, cstr(agent_id)))


def make_call_req(v, invoke, peripheral, instrument, dialed):
    # InvokeID, PeripheralID, CallPlacementType, CallMannerType, AlertRings, CallOption,
    # FacilityType, AnsweringMachine, Priority B, PostRoute B, NumNamedVariables, NumNamedArrays,
    # SkillGroupNumber U (PV14+; NULL_SKILL_GROUP = default) = 32 bytes
    # | AgentInstrument (6), DialedNumber (11)
    fixed = struct.pack(">II10HI", invoke, peripheral, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFFFFFFFF)
    if v < 14:
        fixed = fixed[:28]
    assert len(fixed) == (32 if v >= 14 else 28)
    return frame(MAKE_CALL_REQ, fixed + flt(v, 6, cstr(instrument)) + flt(v, 11, cstr(dialed)))


def make_predictive_call_req(v, invoke, peripheral, originating, dialed, allocation=0):
    # InvokeID, PeripheralID, CallPlacementType, CallMannerType, AlertRings, CallOption,
    # FacilityType, AnsweringMachine, Priority B, AllocationState, DestinationCountry,
    # AnswerDetectMode, AnswerDetectTime, AnswerDetectControl1 U, AnswerDetectControl2 U,
    # NumNamedVariables, NumNamedArrays = 42 bytes | OriginatingDeviceID (79), DialedNumber (11)
    fixed = struct.pack(">II11HIIHH", invoke, peripheral, 0, 0, 0, 0, 0, 0, 0, allocation, 0, 0, 0,
                        0, 0, 0, 0)
    assert len(fixed) == 42
    return frame(MAKE_PREDICTIVE_CALL_REQ, fixed + flt(v, 79, cstr(originating)) + flt(v, 11, cstr(dialed)))


CT_TRANSFER = 1  # ConsultType (§4.16)


def consultation_call_req(v, invoke, peripheral, active_cid, active_type, active_dev, dialed, instrument,
                          consult_type=CT_TRANSFER):
    # InvokeID, PeripheralID, ActiveConnectionCallID U, ActiveConnectionDeviceIDType S,
    # CallPlacementType, CallMannerType, ConsultType, AlertRings, CallOption, FacilityType,
    # AnsweringMachine, Priority B, PostRoute B, NumNamedVariables, NumNamedArrays = 36 bytes
    # | ActiveConnectionDeviceID (50), DialedNumber (11), AgentInstrument (6)
    fixed = struct.pack(">IIIH11H", invoke, peripheral, active_cid, active_type,
                        0, 0, consult_type, 0, 0, 0, 0, 0, 0, 0, 0)
    assert len(fixed) == 36
    return frame(CONSULTATION_CALL_REQ, fixed + flt(v, 50, cstr(active_dev)) + flt(v, 11, cstr(dialed))
                 + flt(v, 6, cstr(instrument)))


def transfer_call_req(v, invoke, peripheral, active_cid, active_type, active_dev,
                      held_cid, held_type, held_dev, instrument):
    # InvokeID, PeripheralID, ActiveConnectionCallID U, HeldConnectionCallID U,
    # ActiveConnectionDeviceIDType S, HeldConnectionDeviceIDType S, CallPlacementType,
    # CallMannerType, AlertRings, CallOption, FacilityType, AnsweringMachine, Priority B,
    # PostRoute B, NumNamedVariables, NumNamedArrays = 40 bytes
    # | ActiveConnectionDeviceID (50), HeldConnectionDeviceID (53), AgentInstrument (6)
    fixed = struct.pack(">IIIIHH10H", invoke, peripheral, active_cid, held_cid, active_type, held_type,
                        0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    assert len(fixed) == 40
    return frame(TRANSFER_CALL_REQ, fixed + flt(v, 50, cstr(active_dev)) + flt(v, 53, cstr(held_dev))
                 + flt(v, 6, cstr(instrument)))


def clear_call_req(v, invoke, peripheral, cid, dev_type, dev, instrument=None):
    # InvokeID, PeripheralID, ConnectionCallID U, ConnectionDeviceIDType S = 14 bytes
    # | ConnectionDeviceID (25), AgentInstrument (6)
    fixed = struct.pack(">IIIH", invoke, peripheral, cid, dev_type)
    assert len(fixed) == 14
    floats = flt(v, 25, cstr(dev)) + (flt(v, 6, cstr(instrument)) if instrument else b"")
    return frame(CLEAR_CALL_REQ, fixed + floats)


# ---------------------------------------------------------------- decoding

def parse_floats(mtype, version, data, raw):
    """Split a floating part into [(tag, bytes)], checking it ends exactly (§1.3)."""
    sec = SECTION.get(mtype, "§3") + " / §1.3"
    width = 2 if version >= 20 else 1
    fmt = ">HH" if width == 2 else ">BB"
    out, i = [], 0
    while i < len(data):
        if i + 2 * width > len(data):
            raise Problem("floating part: %d stray byte(s) at offset %d, too short for a %d-byte tag+length"
                          % (len(data) - i, i, 2 * width), sec, mtype, raw)
        tag, n = struct.unpack_from(fmt, data, i)
        i += 2 * width
        if i + n > len(data):
            raise Problem("floating field tag %d length %d overruns the message (%d bytes left)"
                          % (tag, n, len(data) - i), sec, mtype, raw)
        out.append((tag, data[i:i + n]))
        i += n
    return out


def check_field(mtype, tag, val, raw):
    name, kind, mx = TAGS[tag]
    sec = "§4.17 / %s" % SECTION.get(mtype, "§3")
    if kind == "S":
        if len(val) == 0:
            raise Problem("%s (tag %d): empty STRING, no NUL terminator" % (name, tag), "§1.5", mtype, raw)
        if len(val) > mx:
            raise Problem("%s (tag %d): %d bytes, maximum %d incl. NUL" % (name, tag, len(val), mx), "§1.5", mtype, raw)
        if val[-1] != 0:
            raise Problem("%s (tag %d): STRING not NUL-terminated" % (name, tag), "§1.5", mtype, raw)
        if val.index(0) != len(val) - 1:
            raise Problem("%s (tag %d): NUL inside the STRING before its end" % (name, tag), "§1.5", mtype, raw)
    elif kind == "X":
        if len(val) > mx:
            raise Problem("%s (tag %d): %d bytes, maximum %d" % (name, tag, len(val), mx), sec, mtype, raw)
    elif kind in ("U", "H", "C"):
        if len(val) != mx:
            raise Problem("%s (tag %d): length %d, expected %d" % (name, tag, len(val), mx), sec, mtype, raw)
    elif kind == "NV":
        if not 3 <= len(val) <= 251 or val.count(0) != 2 or val[-1] != 0:
            raise Problem("NamedVariable: bad NAMEDVAR encoding", "§1.6", mtype, raw)
        nm, vl = val[:-1].split(b"\0")
        if len(nm) + 1 > 33 or len(vl) + 1 > 211 or not nm:
            raise Problem("NamedVariable: name/value too long or empty name", "§1.6", mtype, raw)
    elif kind == "NA":
        if not 4 <= len(val) <= 252 or val[1:].count(0) != 2 or val[-1] != 0:
            raise Problem("NamedArray: bad NAMEDARRAY encoding", "§1.6", mtype, raw)


def count_groups(mtype, floats, first, members, expected, what, raw):
    """Check a repeated group (first tag followed by members, in order) occurs `expected` times."""
    tags = [t for t, _ in floats]
    n = tags.count(first)
    if n != expected:
        raise Problem("%s: fixed count says %d, floating part has %d" % (what, expected, n),
                      "§1.3 / " + SECTION.get(mtype, "§3"), mtype, raw)
    for i, t in enumerate(tags):
        if t == first:
            want = [first] + members
            got = tags[i:i + len(want)]
            if got[:len(want)] != want[:len(got)] or len(got) < len(want):
                raise Problem("%s: group out of order (want tags %s, got %s)" % (what, want, got),
                              "§1.3 / " + SECTION.get(mtype, "§3"), mtype, raw)
        elif t in members:
            # a member must sit directly after its predecessor in the group
            k = members.index(t)
            prev = first if k == 0 else members[k - 1]
            if i == 0 or tags[i - 1] != prev:
                raise Problem("%s: tag %d not inside its group" % (what, t),
                              "§1.3 / " + SECTION.get(mtype, "§3"), mtype, raw)


def validate(mtype, body, version, raw):
    """Validate one server message; returns (fixed bytes, [(tag, value)])."""
    fsz = fixed_size(mtype, version)
    sec = SECTION.get(mtype, "§3")
    if len(body) < fsz:
        raise Problem("body %d bytes, shorter than the %d-byte fixed part for PV%d"
                      % (len(body), fsz, version), sec, mtype, raw)
    fixed, rest = body[:fsz], body[fsz:]
    allowed = ALLOWED[mtype]
    if not allowed and rest:
        raise Problem("%d byte(s) after the %d-byte fixed part of a message without floating part (PV%d); "
                      "fixed part is probably the wrong size for this version"
                      % (len(rest), fsz, version), sec, mtype, raw)
    floats = parse_floats(mtype, version, rest, raw)
    for tag, val in floats:
        if tag not in allowed:
            raise Problem("floating tag %d is not a field of this message (PV%d; wrong fixed size or "
                          "tag width would also show up like this)" % (tag, version), sec, mtype, raw)
        check_field(mtype, tag, val, raw)
        since = TAG_SINCE.get((mtype, tag), TAG_SINCE.get((None, tag), 0))
        if version < since:
            raise Problem("floating field %s (tag %d) exists from PV%d, sent on a PV%d session"
                          % (TAGS[tag][0], tag, since, version), "§3 version table / §5.1", mtype, raw)
    tags = [t for t, _ in floats]
    for req in REQUIRED.get(mtype, []):
        if req not in tags:
            raise Problem("required floating field %s (tag %d) missing" % (TAGS[req][0], req), sec, mtype, raw)
    for t in set(tags):
        if tags.count(t) > 1 and t not in (82, 83, 23, 24, 62, 63, 64, 65, 208, 224, 39, 40, 41,
                                           86, 87, 88, 89, 309):
            raise Problem("floating tag %d appears %d times" % (t, tags.count(t)), "§1.3", mtype, raw)
    # documented counts and groups
    if mtype == BEGIN_CALL:
        nclients, nvars, narrs = struct.unpack_from(">HHH", fixed, 10)
        count_groups(mtype, floats, 23, [], nclients, "NumCTIClients / CTIClientSignature", raw)
        for i, t in enumerate(tags):
            if t == 24 and (i == 0 or tags[i - 1] != 23):
                raise Problem("CTIClientTimestamp not directly after a CTIClientSignature", "§1.3", mtype, raw)
        count_groups(mtype, floats, 82, [], nvars, "NumNamedVariables", raw)
        count_groups(mtype, floats, 83, [], narrs, "NumNamedArrays", raw)
    elif mtype == CALL_DATA_UPDATE:
        nclients, nvars, narrs = struct.unpack_from(">HHH", fixed, 10)
        count_groups(mtype, floats, 82, [], nvars, "NumNamedVariables", raw)
        count_groups(mtype, floats, 83, [], narrs, "NumNamedArrays", raw)
    elif mtype == CALL_DELIVERED:
        nvars, narrs = struct.unpack_from(">HH", fixed, 50)
        count_groups(mtype, floats, 82, [], nvars, "NumNamedVariables", raw)
        count_groups(mtype, floats, 83, [], narrs, "NumNamedArrays", raw)
    elif mtype == AGENT_PRE_CALL:
        nvars, narrs = struct.unpack_from(">HH", fixed, 4)
        count_groups(mtype, floats, 82, [], nvars, "NumNamedVariables", raw)
        count_groups(mtype, floats, 83, [], narrs, "NumNamedArrays", raw)
    elif mtype == AGENT_STATE:
        (nsg,) = struct.unpack_from(">H", fixed, 56)
        if nsg > 99:
            raise Problem("NumFltSkillGroups %d > 99" % nsg, sec, mtype, raw)
        count_groups(mtype, floats, 62, [63, 64, 65], nsg, "NumFltSkillGroups", raw)
        (state,) = struct.unpack_from(">H", fixed, 30)
        if state > 14:
            raise Problem("AgentState %d is not an AGENT_STATE_* value" % state, "§4.4", mtype, raw)
    elif mtype == OPEN_CONF:
        if 228 in tags:
            (n,) = struct.unpack(">H", dict(floats)[228])
            count_groups(mtype, floats, 208, [224], n, "NumPeripherals / FltPeripheralID", raw)
    elif mtype == CALL_QUEUED:
        (nsg,) = struct.unpack_from(">H", fixed, 34)
        count_groups(mtype, floats, 62, [63, 64], nsg, "NumSkillGroups", raw)
    elif mtype in (CALL_CONFERENCED, CALL_TRANSFERRED):
        (nparties,) = struct.unpack_from(">H", fixed, 30)
        count_groups(mtype, floats, 39, [40, 41], nparties, "NumParties", raw)
    elif mtype == TRANSFER_CALL_CONF:
        (nparties,) = struct.unpack_from(">H", fixed, 10)
        if nparties > 16:
            raise Problem("NumParties %d > MAX_NUM_PARTIES 16" % nparties, "§1.7", mtype, raw)
        count_groups(mtype, floats, 39, [40, 41], nparties, "NumParties", raw)
    elif mtype == AGENT_TEAM_CONFIG:
        (nagents,) = struct.unpack_from(">H", fixed, 8)
        count_groups(mtype, floats, 86, [87, 88, 89], nagents, "NumberOfAgents", raw)
    return fixed, floats


# ---------------------------------------------------------------- connection

class Conn:
    def __init__(self, addr, timeout):
        host, port = addr.rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.eof = False

    def send(self, data):
        self.sock.sendall(data)

    def fill(self, timeout):
        """Read what is available within timeout; returns False on timeout."""
        if self.eof:
            return False
        r, _, _ = select.select([self.sock], [], [], max(0.0, timeout))
        if not r:
            return False
        try:
            chunk = self.sock.recv(65536)
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            self.eof = True
        self.buf += chunk
        return True

    def next_message(self):
        """Pop one complete message (type, body, raw) from the buffer, or None."""
        if len(self.buf) < 8:
            return None
        length, mtype = HEADER.unpack_from(self.buf)
        if length + 8 > MAX_MESSAGE:
            raise Problem("MessageLength %d exceeds the %d-byte maximum message size" % (length, MAX_MESSAGE),
                          "§1.2", mtype, self.buf[:64])
        if len(self.buf) < 8 + length:
            return None
        raw = self.buf[:8 + length]
        self.buf = self.buf[8 + length:]
        return mtype, raw[8:], raw

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


# ---------------------------------------------------------------- session mode

class Session:
    def __init__(self, args):
        self.a = args
        self.v = args.version
        self.counts = {}
        self.unvalidated = {}
        self.invoke = 0x1000
        self.hb_outstanding = {}  # invoke id -> time sent
        self.hb_sent = 0
        self.hb_conf = 0
        self.hb_conf_after_stop = 0
        self.monitor_id = None
        self.opened = False
        self.calls = {}  # ConnectionCallID -> {"begin": t, "middle": n}
        self.complete = []
        self.late_events = 0  # call events for a call after its END_CALL
        self.orphans = 0  # call events for calls that began before the session
        self.ended_without_middle = 0  # BEGIN_CALL..END_CALL with nothing between
        self.delivered_calls = 0  # complete sequences with CALL_DELIVERED/CALL_ESTABLISHED
        self.first_ended_without_middle = None
        self.start = time.monotonic()
        self.stdin_open = args.until_stdin_eof
        self.stop_at = None
        self.ani_calls = {}  # ConnectionCallID -> per-call record (--ani)

    def next_invoke(self):
        self.invoke += 1
        return self.invoke

    def elapsed(self):
        return time.monotonic() - self.start

    def summary(self, ok, problem=None, note=None):
        d = {
            "mode": "session", "ok": ok, "protocol_version": self.v,
            "elapsed_s": round(self.elapsed(), 3),
            "counts": dict(sorted(self.counts.items())),
            "unvalidated_types": self.unvalidated,
            "heartbeats_sent": self.hb_sent, "heartbeat_confs": self.hb_conf,
            "heartbeat_confs_after_stdin_eof": self.hb_conf_after_stop,
            "complete_calls": len(self.complete),
            "complete_calls_delivered": self.delivered_calls,
            "first_complete_call": self.complete[0] if self.complete else None,
            "calls_begun_before_session": self.orphans,
            "sequences_without_call_events": self.ended_without_middle,
            "first_sequence_without_call_events": self.first_ended_without_middle,
            "events_after_end_call": self.late_events,
            "monitor_id": self.monitor_id,
            "close_req_sent": hasattr(self, "close_invoke"),
            "close_conf": getattr(self, "closed", False),
            "first_problem": problem,
        }
        if self.a.ani:
            d["ani"] = self.a.ani
            d["ani_calls"] = [dict(c, connection_call_id=cid) for cid, c in sorted(self.ani_calls.items())]
        if note:
            d["note"] = note
        return d

    def satisfied(self):
        if self.a.until_stdin_eof:
            return (not self.stdin_open and self.stop_at is not None and self.hb_conf_after_stop >= 1
                    and self.hb_conf >= self.a.min_heartbeats)
        c = self.counts
        return (c.get("OPEN_CONF", 0) >= 1 and c.get("SYSTEM_EVENT", 0) >= 1
                and c.get("AGENT_STATE_EVENT", 0) >= 1 and self.complete
                and self.hb_conf >= max(1, self.a.min_heartbeats))

    def missing(self):
        c, m = self.counts, []
        wanted = ("OPEN_CONF",) if self.a.until_stdin_eof else ("OPEN_CONF", "SYSTEM_EVENT", "AGENT_STATE_EVENT")
        for k in wanted:
            if not c.get(k):
                m.append(k)
        if not self.complete and not self.a.until_stdin_eof:
            m.append("complete BEGIN_CALL..(call events)..END_CALL sequence (calls begun: %d, "
                     "BEGIN_CALL..END_CALL sequences with nothing between: %d)"
                     % (len(self.calls), self.ended_without_middle))
        if self.hb_conf < max(1, self.a.min_heartbeats):
            m.append("HEARTBEAT_CONF (%d of %d)" % (self.hb_conf, max(1, self.a.min_heartbeats)))
        if self.a.until_stdin_eof and self.stdin_open:
            m.append("stdin EOF")
        return m

    def handle(self, mtype, body, raw):
        name = NAMES.get(mtype)
        if name is None:
            # A type this probe has no layout for: only the framing was checked.
            self.unvalidated[str(mtype)] = self.unvalidated.get(str(mtype), 0) + 1
            return
        if not self.opened and mtype not in (OPEN_CONF, FAILURE_CONF):
            raise Problem("%s received before OPEN_CONF" % name, "§5.1", mtype, raw)
        if mtype == FAILURE_CONF:
            validate(mtype, body, self.v, raw)
            inv, status = struct.unpack_from(">II", body)
            raise Problem("FAILURE_CONF InvokeID %#x Status %d" % (inv, status), "§4.14", mtype, raw)
        if mtype == FAILURE_EVENT:
            validate(mtype, body, self.v, raw)
            raise Problem("FAILURE_EVENT Status %d" % struct.unpack(">I", body)[0], "§4.14", mtype, raw)
        fixed, floats = validate(mtype, body, self.v, raw)
        self.counts[name] = self.counts.get(name, 0) + 1
        if self.a.trace:
            cid = struct.unpack_from(">I", fixed, CALLID_OFFSET[mtype])[0] if mtype in CALLID_OFFSET else None
            log("%7.3f %-30s callid=%s floats=%s" % (self.elapsed(), name, cid,
                {TAGS[t][0]: (v[:-1].decode("ascii", "replace") if TAGS[t][1] == "S" else v.hex()) for t, v in floats}))
        if mtype == OPEN_CONF:
            if self.opened:
                raise Problem("second OPEN_CONF", "§5.1", mtype, raw)
            inv, granted, mon = struct.unpack_from(">III", fixed)
            if inv != self.open_invoke:
                raise Problem("OPEN_CONF InvokeID %#x, OPEN_REQ had %#x" % (inv, self.open_invoke),
                              "§5.6", mtype, raw)
            if not granted & CTI_SERVICE_ALL_EVENTS:
                raise Problem("ServicesGranted %#x lacks CTI_SERVICE_ALL_EVENTS" % granted, "§4.1", mtype, raw)
            self.monitor_id = mon
            self.opened = True
            log("ready (OPEN_CONF PV%d, ServicesGranted %#x, MonitorID %d)" % (self.v, granted, mon))
            self.send_heartbeat()
            return
        if mtype == HEARTBEAT_CONF:
            (inv,) = struct.unpack(">I", fixed)
            if inv not in self.hb_outstanding:
                raise Problem("HEARTBEAT_CONF InvokeID %#x matches no outstanding HEARTBEAT_REQ (%s)"
                              % (inv, sorted(hex(i) for i in self.hb_outstanding)), "§5.4 / §5.6", mtype, raw)
            del self.hb_outstanding[inv]
            self.hb_conf += 1
            if self.stop_at is not None:
                self.hb_conf_after_stop += 1
            return
        if mtype == CLOSE_CONF:
            (inv,) = struct.unpack(">I", fixed)
            if inv != getattr(self, "close_invoke", None):
                raise Problem("CLOSE_CONF InvokeID %#x, CLOSE_REQ had %s" % (inv, getattr(self, "close_invoke", None)),
                              "§5.5 / §5.6", mtype, raw)
            self.closed = True
            return
        if mtype in HAS_MONITOR_ID:
            (mon,) = struct.unpack_from(">I", fixed)
            if mon != self.monitor_id:
                raise Problem("MonitorID %d, OPEN_CONF gave %d" % (mon, self.monitor_id), "§5.2", mtype, raw)
        if mtype in CALLID_OFFSET:
            self.track_call(mtype, fixed, floats, raw)

    def track_ani(self, mtype, cid, floats, now):
        """--ani: count the events of the calls that carry the wanted ANI."""
        f = dict(floats)

        def text(tag):
            return f[tag][:-1].decode("ascii", "replace") if tag in f else None

        c = self.ani_calls.get(cid)
        if c is None:
            if mtype not in (BEGIN_CALL, CALL_DELIVERED) or text(8) != self.a.ani:
                return
            c = self.ani_calls[cid] = {"first_s": now, "events": [], "counts": {}, "alerting": [],
                                       "answering": [], "ended": False}
        short = NAMES[mtype].replace("_EVENT", "")
        c["counts"][short] = c["counts"].get(short, 0) + 1
        if len(c["events"]) < 40:
            c["events"].append(short)
        if mtype == CALL_DELIVERED and text(26):
            c["alerting"].append(text(26))
        if mtype == CALL_ESTABLISHED and text(30):
            c["answering"].append(text(30))
        if mtype == END_CALL:
            c["ended"] = True
            c["end_s"] = now

    def track_call(self, mtype, fixed, floats, raw):
        (cid,) = struct.unpack_from(">I", fixed, CALLID_OFFSET[mtype])
        dev = dict(floats).get(25, b"")[:-1].decode("ascii", "replace")
        now = round(self.elapsed(), 3)
        if self.a.ani:
            self.track_ani(mtype, cid, floats, now)
        c = self.calls.get(cid)
        if mtype == BEGIN_CALL:
            if c is not None and not c.get("ended"):
                raise Problem("second BEGIN_CALL_EVENT for open ConnectionCallID %d" % cid, "§3.1 BEGIN_CALL_EVENT",
                              mtype, raw)
            self.calls[cid] = {"begin_s": now, "device": dev, "events": ["BEGIN_CALL"], "middle": 0}
            return
        if c is None:
            self.orphans += 1  # the call began before this session was opened
            self.calls[cid] = {"orphan": True}
            return
        if c.get("orphan"):
            return
        if c.get("ended"):
            self.late_events += 1
            return
        short = NAMES[mtype].replace("_EVENT", "")
        if len(c["events"]) < 20:
            c["events"].append(short)
        # A call sequence is BEGIN_CALL first, END_CALL last, and at least one
        # call event between them (§5.9): a delivered/answered call, or an
        # outbound attempt that failed (CALL_ORIGINATED, CALL_FAILED, ...).
        if mtype != END_CALL:
            c["middle"] += 1
        if mtype in (CALL_DELIVERED, CALL_ESTABLISHED):
            c["delivered"] = True
        if mtype == END_CALL:
            c["ended"] = True
            seq = {"connection_call_id": cid, "connection_device_id": c["device"],
                   "begin_s": c["begin_s"], "end_s": now, "events": c["events"]}
            if c["middle"] >= 1:
                self.complete.append(seq)
                if c.get("delivered"):
                    self.delivered_calls += 1
            else:
                self.ended_without_middle += 1
                if self.first_ended_without_middle is None:
                    self.first_ended_without_middle = seq

    def send_heartbeat(self):
        inv = self.next_invoke()
        self.conn.send(frame(HEARTBEAT_REQ, struct.pack(">I", inv)))
        self.hb_outstanding[inv] = time.monotonic()
        self.hb_sent += 1
        self.last_hb = time.monotonic()

    def pump(self, until):
        """Read and handle messages until monotonic time `until`."""
        while True:
            while True:
                m = self.conn.next_message()
                if m is None:
                    break
                self.handle(*m)
            now = time.monotonic()
            if now >= until or getattr(self, "closed", False):
                return
            if self.conn.eof:
                if hasattr(self, "close_invoke"):
                    raise Problem("server closed the connection after CLOSE_REQ (InvokeID %#x) without sending "
                                  "CLOSE_CONF (%d unread bytes)" % (self.close_invoke, len(self.conn.buf)),
                                  "§5.5 / §3.1 CLOSE_CONF")
                raise Problem("server closed the connection (%d unread bytes)" % len(self.conn.buf), "§5.5")
            fds = [self.conn.sock]
            if self.stdin_open and self.opened:
                fds.append(sys.stdin)
            r, _, _ = select.select(fds, [], [], until - now)
            if sys.stdin in r:
                if not os.read(sys.stdin.fileno(), 4096):
                    self.stdin_open = False
                    self.stop_at = time.monotonic()
                    log("stdin closed; one more heartbeat, then CLOSE_REQ")
                    self.send_heartbeat()
            if self.conn.sock in r:
                self.conn.fill(0)

    def run(self):
        a = self.a
        deadline = self.start + a.seconds
        self.conn = Conn(a.addr, timeout=min(5.0, a.seconds))
        self.open_invoke = self.next_invoke()
        self.conn.send(open_req(self.open_invoke, self.v, a.client_id))
        log("OPEN_REQ sent (PV%d, CallMsgMask %#010x, AgentStateMask %#x)"
            % (self.v, call_msg_mask(self.v), AGENT_STATE_MASK))
        self.last_hb = None
        while True:
            now = time.monotonic()
            if self.opened and self.satisfied():
                break
            if now >= deadline:
                raise Timeout("after %.1f s still missing: %s" % (a.seconds, "; ".join(self.missing())))
            if self.opened:
                for inv, sent in self.hb_outstanding.items():
                    if now - sent > a.heartbeat_timeout:
                        raise Problem("HEARTBEAT_REQ InvokeID %#x unanswered after %.1f s"
                                      % (inv, now - sent), "§5.4")
                if now - self.last_hb >= a.heartbeat_interval:
                    self.send_heartbeat()
                nxt = min(deadline, self.last_hb + a.heartbeat_interval)
            else:
                nxt = deadline
            self.pump(min(nxt, now + 0.5))
        # CLOSE_REQ -> CLOSE_CONF within 5 s (§5.5); events may still arrive meanwhile.
        self.close_invoke = self.next_invoke()
        self.conn.send(frame(CLOSE_REQ, struct.pack(">II", self.close_invoke, 0)))
        self.stdin_open = False
        end = time.monotonic() + 5.0
        while not getattr(self, "closed", False):
            if time.monotonic() >= end:
                raise Timeout("no CLOSE_CONF within 5 s of CLOSE_REQ")
            self.pump(min(end, time.monotonic() + 0.5))
        self.conn.close()


def run_session(args):
    s = Session(args)
    try:
        s.run()
    except Problem as p:
        return finish(s.summary(False, p.as_dict()), 1)
    except Timeout as t:
        return finish(s.summary(False, {"problem": "timeout: %s" % t}), 2)
    except (OSError, socket.timeout) as e:
        return finish(s.summary(False, {"problem": "connection error: %s" % e}), 3)
    return finish(s.summary(True), 0)


# ---------------------------------------------------------------- garbage mode

def garbage_bytes(variant):
    if variant == "oversized":
        # MessageLength 0x7FFFFFFF, MessageType OPEN_REQ, then a few body bytes.
        return HEADER.pack(0x7FFFFFFF, OPEN_REQ) + b"\x00" * 16
    if variant == "short-header":
        return b"\x00\x00\x00"  # 3 of the 8 header bytes, then the write side is closed
    if variant == "unknown-type":
        # Well framed: InvokeID + 4 more bytes, MessageType 9999, before any OPEN_REQ.
        return frame(9999, struct.pack(">II", 0xC0FFEE, 0))
    if variant == "http":
        return b"GET / HTTP/1.1\r\nHost: cti\r\n\r\n"
    if variant == "random":
        rnd = random.Random(188)
        return bytes(rnd.randrange(256) for _ in range(256))
    raise SystemExit("unknown garbage variant %r" % variant)


def run_garbage(args):
    variant = args.garbage
    start = time.monotonic()
    res = {"mode": "garbage", "variant": variant, "ok": False, "outcome": None, "first_problem": None}
    try:
        conn = Conn(args.addr, timeout=5.0)
        data = garbage_bytes(variant)
        conn.send(data)
        res["sent_hex"] = data[:64].hex()
        if variant == "short-header":
            conn.sock.shutdown(socket.SHUT_WR)
        end = start + 5.0
        while True:
            # Only the header of a reply is trusted here; FAILURE_CONF is validated fully.
            if len(conn.buf) >= 8:
                length, mtype = HEADER.unpack_from(conn.buf)
                if mtype == FAILURE_CONF and len(conn.buf) >= 8 + length:
                    raw = conn.buf[:8 + length]
                    validate(FAILURE_CONF, raw[8:], 24, raw)
                    inv, status = struct.unpack_from(">II", raw, 8)
                    res.update(ok=True, outcome="FAILURE_CONF", failure_status=status,
                               failure_invoke_id=inv, reply_hex=raw.hex())
                    break
                if mtype != FAILURE_CONF:
                    raise Problem("server answered garbage with message type %d, not FAILURE_CONF" % mtype,
                                  "§5.2 / §5.7", mtype, conn.buf[:64])
            if conn.eof:
                res.update(ok=True, outcome="closed")
                if conn.buf:
                    res["unparsed_reply_hex"] = conn.buf[:64].hex()
                break
            left = end - time.monotonic()
            if left <= 0:
                res["first_problem"] = {"problem": "neither FAILURE_CONF nor close within 5 s"}
                break
            conn.fill(left)
        conn.close()
    except Problem as p:
        res["first_problem"] = p.as_dict()
    except OSError as e:
        # A reset while sending or reading is a close, too.
        if isinstance(e, (ConnectionResetError, BrokenPipeError)):
            res.update(ok=True, outcome="closed (reset)")
        else:
            res["first_problem"] = {"problem": "connection error: %s" % e}
            res["elapsed_s"] = round(time.monotonic() - start, 3)
            return finish(res, 3)
    res["elapsed_s"] = round(time.monotonic() - start, 3)
    return finish(res, 0 if res["ok"] else (2 if res["first_problem"] and "within" in res["first_problem"]["problem"] else 1))


# ---------------------------------------------------------------- request/response client

class Msg:
    """One validated server message as the refusal and control modes keep it."""

    def __init__(self, seq, t, mtype, body, raw, fixed, floats):
        self.seq, self.t, self.mtype, self.body, self.raw = seq, t, mtype, body, raw
        self.fixed, self.floats = fixed, floats
        self.fl = {}
        for tag, val in floats:
            self.fl.setdefault(tag, val)

    @property
    def name(self):
        return NAMES.get(self.mtype, "type %d" % self.mtype)

    def u32(self, off):
        return struct.unpack_from(">I", self.fixed, off)[0]

    def u16(self, off):
        return struct.unpack_from(">H", self.fixed, off)[0]

    def s(self, tag):
        """A STRING floating field as text (None if absent)."""
        v = self.fl.get(tag)
        return None if v is None else v[:-1].decode("ascii", "replace")

    def callid(self):
        return self.u32(CALLID_OFFSET[self.mtype]) if self.mtype in CALLID_OFFSET else None

    def describe(self):
        d = {"seq": self.seq, "t": round(self.t, 3), "type": self.name}
        cid = self.callid()
        if cid is not None:
            d["call_id"] = cid
        if self.mtype in (CALL_TRANSFERRED, CALL_CONFERENCED):
            d["primary_call_id"], d["secondary_call_id"] = self.u32(12), self.u32(34)
        if self.mtype == AGENT_STATE:
            d["agent_state"] = self.u16(30)
            d["event_reason_code"] = self.u16(32)
        devs = {TAGS[t][0]: self.s(t) for t in self.fl if TAGS.get(t, ("", ""))[1] == "S"}
        if devs:
            d["strings"] = devs
        return d


class Client:
    """A raw connection that validates every message it receives (refusal and control modes).

    Every received message is checked with validate(); messages of types this probe has no
    layout for are counted in `unvalidated` (framing checked only)."""

    def __init__(self, addr, version, start):
        self.conn = Conn(addr, timeout=5.0)
        self.v = version
        self.start = start
        self.history = []
        self.seq = 0
        self.counts = {}
        self.unvalidated = {}
        self.monitor_id = None  # set once OPEN_CONF was seen

    def send(self, data):
        self.conn.send(data)

    def now(self):
        return time.monotonic() - self.start

    def _handle(self, mtype, body, raw):
        name = NAMES.get(mtype)
        if name is None:
            self.unvalidated[str(mtype)] = self.unvalidated.get(str(mtype), 0) + 1
            return None
        fixed, floats = validate(mtype, body, self.v, raw)
        self.counts[name] = self.counts.get(name, 0) + 1
        if mtype == FAILURE_EVENT:
            raise Problem("FAILURE_EVENT Status %d" % struct.unpack(">I", body)[0], "§4.14", mtype, raw)
        if mtype in HAS_MONITOR_ID:
            if self.monitor_id is None:
                raise Problem("%s before OPEN_CONF" % name, "§5.1", mtype, raw)
            (mon,) = struct.unpack_from(">I", fixed)
            if mon != self.monitor_id:
                raise Problem("MonitorID %d, OPEN_CONF gave %d" % (mon, self.monitor_id), "§5.2", mtype, raw)
        self.seq += 1
        m = Msg(self.seq, self.now(), mtype, body, raw, fixed, floats)
        self.history.append(m)
        return m

    def wait(self, pred, timeout, what):
        """Read until pred(msg) is true for a newly received message; returns it.

        Raises Timeout after `timeout` seconds and Problem if the server closes the connection."""
        end = time.monotonic() + timeout
        while True:
            while True:
                got = self.conn.next_message()
                if got is None:
                    break
                m = self._handle(*got)
                if m is not None and pred(m):
                    return m
            if self.conn.eof:
                raise Problem("server closed the connection while waiting for %s (%d unread bytes)"
                              % (what, len(self.conn.buf)), "§5.2 / §5.5")
            left = end - time.monotonic()
            if left <= 0:
                raise Timeout("no %s within %.1f s" % (what, timeout))
            self.conn.fill(min(left, 0.5))

    def find(self, pred, after=0):
        for m in self.history:
            if m.seq > after and pred(m):
                return m
        return None

    def wait_or_find(self, pred, timeout, what, after=0):
        """A message already received (seq > after) matching pred, or the next one to arrive."""
        m = self.find(pred, after)
        return m if m is not None else self.wait(pred, timeout, what)

    def drain(self, seconds):
        """Read (and validate) whatever arrives for `seconds`."""
        try:
            self.wait(lambda m: False, seconds, "nothing")
        except Timeout:
            pass

    def open(self, invoke, **kw):
        """OPEN_REQ -> OPEN_CONF echoing the InvokeID (§5.1, §5.6); returns the OPEN_CONF."""
        self.send(open_req(invoke, self.v, kw.pop("client_id", "cti_probe"), **kw))
        m = self.wait(lambda m: m.mtype in (OPEN_CONF, FAILURE_CONF), 5.0, "OPEN_CONF")
        if m.mtype == FAILURE_CONF:
            raise Problem("valid OPEN_REQ (PV%d, InvokeID %#x) refused: FAILURE_CONF Status %d"
                          % (self.v, invoke, m.u32(4)), "§5.2", m.mtype, m.raw)
        if m.u32(0) != invoke:
            raise Problem("OPEN_CONF InvokeID %#x, OPEN_REQ had %#x" % (m.u32(0), invoke), "§5.6",
                          m.mtype, m.raw)
        self.monitor_id = m.u32(8)
        return m

    def close(self, invoke):
        """CLOSE_REQ -> CLOSE_CONF within 5 s echoing the InvokeID (§5.5)."""
        self.send(frame(CLOSE_REQ, struct.pack(">II", invoke, 0)))
        m = self.wait(lambda m: m.mtype in (CLOSE_CONF, FAILURE_CONF), 5.0, "CLOSE_CONF")
        if m.mtype != CLOSE_CONF or m.u32(0) != invoke:
            raise Problem("CLOSE_REQ InvokeID %#x answered by %s InvokeID %#x" % (invoke, m.name, m.u32(0)),
                          "§5.5 / §5.6", m.mtype, m.raw)
        self.conn.close()

    def heartbeat(self, invoke):
        self.send(frame(HEARTBEAT_REQ, struct.pack(">I", invoke)))
        m = self.wait(lambda m: m.mtype in (HEARTBEAT_CONF, FAILURE_CONF) and m.u32(0) == invoke, 5.0,
                      "HEARTBEAT_CONF for InvokeID %#x" % invoke)
        if m.mtype != HEARTBEAT_CONF:
            raise Problem("HEARTBEAT_REQ InvokeID %#x answered by FAILURE_CONF Status %d" % (invoke, m.u32(4)),
                          "§5.4", m.mtype, m.raw)
        return m


# ---------------------------------------------------------------- refusal mode

def refusal_cases(v):
    """The bad OPEN_REQs of §5.2, each with the FAILURE_CONF Status the reference documents.

    Each entry: (name, status, send(client, invoke), open_first). open_first means the case needs
    an open session first (second OPEN_REQ)."""
    agent = ("1001", "2001")
    return [
        ("unsupported-version-9", E_CTI_INVALID_VERSION,
         lambda c, i: c.send(open_req(i, 9, "cti_probe")), False),
        ("unsupported-version-99", E_CTI_INVALID_VERSION,
         lambda c, i: c.send(open_req(i, 99, "cti_probe")), False),
        ("missing-client-id", E_CTI_REQUIRED_DATA_MISSING,
         lambda c, i: c.send(open_req(i, v, "cti_probe", with_client_id=False)), False),
        ("idle-timeout-10", E_CTI_INVALID_TIMEOUT,
         lambda c, i: c.send(open_req(i, v, "cti_probe", idle=10)), False),
        ("unused-service-bit-0x4000", E_CTI_INVALID_SERVICE_MASK,
         lambda c, i: c.send(open_req(i, v, "cti_probe",
                                      services=CTI_SERVICE_ALL_EVENTS | CTI_SERVICE_UNUSED_BIT)), False),
        ("agent-state-mask-bit-0x4000", E_CTI_INVALID_AGENT_STATE_MASK,
         lambda c, i: c.send(open_req(i, v, "cti_probe",
                                      agent_mask=AGENT_STATE_MASK | AGENT_STATE_MASK_UNDEFINED_BIT)), False),
        ("reserved1-nonzero", E_CTI_INVALID_RESERVED_FIELD,
         lambda c, i: c.send(open_req(i, v, "cti_probe", reserved1=1)), False),
        ("client-events-peripheral-4242", E_CTI_INVALID_PERIPHERAL_ID,
         lambda c, i: c.send(open_req(i, v, "cti_probe", services=CTI_SERVICE_CLIENT_EVENTS,
                                      peripheral=4242, agent=agent)), False),
        ("client-events-without-peripheral-id", E_CTI_REQUIRED_DATA_MISSING,
         lambda c, i: c.send(open_req(i, v, "cti_probe", services=CTI_SERVICE_CLIENT_EVENTS,
                                      peripheral=0xFFFFFFFF, agent=agent)), False),
        ("second-open-req", E_CTI_SESSION_ALREADY_OPEN,
         lambda c, i: c.send(open_req(i, v, "cti_probe")), True),
        ("heartbeat-before-open", E_CTI_SESSION_NOT_OPEN,
         lambda c, i: c.send(frame(HEARTBEAT_REQ, struct.pack(">I", i))), False),
    ]


def run_refusal_case(args, start, idx, name, want_status, send, open_first):
    """One case on its own connection: the bad request, the FAILURE_CONF, then the same
    connection must still work (a corrected OPEN_REQ, or a heartbeat on the already open session)."""
    res = {"case": name, "want_status": want_status, "ok": False}
    t0 = time.monotonic()
    c = Client(args.addr, args.version, start)
    base = 0x5E000000 + (idx << 8)
    try:
        if open_first:
            c.open(base + 1)
        bad_invoke = base + 0x42
        send(c, bad_invoke)
        res["invoke_id"] = bad_invoke
        # Before OPEN nothing else may arrive (§5.1); after it, events are validated and skipped.
        m = c.wait(lambda m: open_first is False or m.mtype in (FAILURE_CONF, OPEN_CONF),
                   5.0, "FAILURE_CONF for case %s" % name)
        if m.mtype != FAILURE_CONF:
            raise Problem("%s answered with %s, want FAILURE_CONF Status %d" % (name, m.name, want_status),
                          "§5.2", m.mtype, m.raw)
        # §3.1 FAILURE_CONF: exactly InvokeID + Status, no floating part.
        if len(m.body) != 8:
            raise Problem("FAILURE_CONF body %d bytes, want 8 (InvokeID, Status; no floating part)"
                          % len(m.body), "§3.1 FAILURE_CONF", m.mtype, m.raw)
        inv, status = m.u32(0), m.u32(4)
        res.update(failure_invoke_id=inv, failure_status=status, reply_hex=m.raw.hex())
        if inv != bad_invoke:
            raise Problem("FAILURE_CONF InvokeID %#x, the refused request had %#x" % (inv, bad_invoke),
                          "§5.2 / §5.6", m.mtype, m.raw)
        if status != want_status:
            raise Problem("%s: FAILURE_CONF Status %d, the reference documents %d" % (name, status, want_status),
                          "§5.2 / §4.14", m.mtype, m.raw)
        # The connection stays usable for a corrected retry.
        if open_first:
            c.heartbeat(base + 2)
            res["after"] = "HEARTBEAT_CONF on the open session"
        else:
            conf = c.open(base + 3)
            c.heartbeat(base + 4)
            res["after"] = "corrected OPEN_REQ -> OPEN_CONF (ServicesGranted %#x) + HEARTBEAT_CONF" % conf.u32(4)
        c.close(base + 5)
        res["ok"] = True
    except Problem as p:
        res["problem"] = p.as_dict()
    except Timeout as t:
        res["problem"] = {"problem": "timeout: %s" % t}
    except OSError as e:
        res["problem"] = {"problem": "connection error: %s" % e}
    finally:
        c.conn.close()
    res["elapsed_s"] = round(time.monotonic() - t0, 3)
    res["unvalidated_types"] = c.unvalidated
    return res


def run_refusals(args):
    start = time.monotonic()
    results = []
    for idx, (name, status, send, open_first) in enumerate(refusal_cases(args.version)):
        r = run_refusal_case(args, start, idx, name, status, send, open_first)
        results.append(r)
        log("%-38s %s%s" % (name, "ok" if r["ok"] else "FAILED",
                            (" (Status %s)" % r.get("failure_status")) if "failure_status" in r else ""))
    bad = [r for r in results if not r["ok"]]
    summary = {"mode": "refusals", "protocol_version": args.version, "ok": not bad,
               "elapsed_s": round(time.monotonic() - start, 3), "cases": results,
               "first_problem": (dict(bad[0]["problem"], case=bad[0]["case"]) if bad else None)}
    return finish(summary, 0 if not bad else 1)


# ---------------------------------------------------------------- control mode

def parse_agent(text):
    agent_id, ext = text.split(":")
    return agent_id, ext


class Control:
    """CLIENT_CONTROL + ALL_EVENTS session: agent state changes, then make call, consult, transfer."""

    def __init__(self, args):
        self.a = args
        self.v = args.version
        self.start = time.monotonic()
        self.c = None
        self.invoke = 0x7C000000 + 0x10000 * (args.version & 0xFF)
        self.steps = []
        self.calls = {}  # role -> call id

    def next_invoke(self):
        self.invoke += 1
        return self.invoke

    def step(self, name, **kw):
        d = {"step": name, "t": round(time.monotonic() - self.start, 3)}
        d.update(kw)
        self.steps.append(d)
        log("%6.3f %s %s" % (d["t"], name, json.dumps(kw, sort_keys=True)))

    def confirm(self, invoke, conf_type, what, timeout=10.0):
        """The positive confirmation for a client-control request, or a Problem naming the refusal (§5.7)."""
        c = self.c

        def mine(m):
            return (m.mtype in (conf_type, CONTROL_FAILURE_CONF, FAILURE_CONF)
                    and m.u32(0) == invoke)
        m = c.wait_or_find(mine, timeout, "%s for %s (InvokeID %#x)" % (NAMES[conf_type], what, invoke))
        if m.mtype == CONTROL_FAILURE_CONF:
            raise Problem("%s refused: CONTROL_FAILURE_CONF FailureCode %d PeripheralErrorCode %d"
                          % (what, m.u16(4), struct.unpack_from(">I", m.fixed, 6)[0]),
                          "§5.7 / §4.15", m.mtype, m.raw)
        if m.mtype == FAILURE_CONF:
            raise Problem("%s refused: FAILURE_CONF Status %d" % (what, m.u32(4)), "§5.7 / §4.14", m.mtype, m.raw)
        return m

    def agent_event(self, agent, state, after, timeout, reason=None):
        agent_id, ext = agent

        def match(m):
            return (m.mtype == AGENT_STATE and m.u16(30) == state
                    and (m.s(5) == agent_id or m.s(4) == ext or m.s(6) == ext))
        try:
            m = self.c.wait_or_find(match, timeout, "AGENT_STATE_EVENT %s for agent %s"
                                    % (AGENT_STATE_NAMES[state], agent_id), after)
        except Timeout:
            seen = [m.describe() for m in self.c.history if m.seq > after and m.mtype == AGENT_STATE
                    and (m.s(5) == agent_id or m.s(4) == ext or m.s(6) == ext)]
            raise Timeout("no AGENT_STATE_EVENT %s for agent %s within %.0f s (its events meanwhile: %s)"
                          % (AGENT_STATE_NAMES[state], agent_id, timeout, json.dumps(seen)))
        if m.u32(4) != self.peripheral:
            raise Problem("AGENT_STATE_EVENT PeripheralID %d, want %d" % (m.u32(4), self.peripheral),
                          "§3.1 AGENT_STATE_EVENT", m.mtype, m.raw)
        if reason is not None and m.u16(32) != reason:
            raise Problem("AGENT_STATE_EVENT NOT_READY for agent %s: EventReasonCode %d, SET_AGENT_STATE_REQ "
                          "had %d" % (agent_id, m.u16(32), reason), "§3.1 AGENT_STATE_EVENT / §5.9 (e)",
                          m.mtype, m.raw)
        return m

    def call_event(self, mtype, cid, after, timeout, device=None, what=None):
        """A call event for ConnectionCallID cid (at `device`, if given: ConnectionDeviceID or the
        event's own device field), received after seq `after`."""
        dev_tags = {CALL_DELIVERED: (25, 26), CALL_ESTABLISHED: (25, 30), CALL_HELD: (25, 31),
                    CALL_SERVICE_INITIATED: (25, 27), CALL_ORIGINATED: (25, 27)}.get(mtype, (25,))

        def match(m):
            if m.mtype != mtype or m.callid() != cid:
                return False
            return device is None or any(m.s(t) == device for t in dev_tags)
        desc = what or "%s for call %d%s" % (NAMES[mtype], cid, (" at %s" % device) if device else "")
        try:
            return self.c.wait_or_find(match, timeout, desc, after)
        except Timeout:
            seen = [m.describe() for m in self.c.history if m.seq > after and m.callid() == cid]
            raise Timeout("no %s within %.0f s (events of call %d meanwhile: %s)"
                          % (desc, timeout, cid, json.dumps(seen)))

    def run(self):
        a = self.a
        self.peripheral = a.peripheral_id
        st_agent, agent_a, agent_b, agent_c = (parse_agent(x) for x in a.agents.split(","))
        self.c = c = Client(a.addr, self.v, self.start)

        # --- session
        conf = c.open(self.next_invoke(), client_id=a.client_id,
                      services=CTI_SERVICE_CLIENT_CONTROL | CTI_SERVICE_ALL_EVENTS)
        granted = conf.u32(4)
        self.step("OPEN_CONF", services_granted="%#x" % granted, monitor_id=c.monitor_id)
        if not granted & CTI_SERVICE_ALL_EVENTS:
            raise Problem("ServicesGranted %#x lacks CTI_SERVICE_ALL_EVENTS" % granted, "§4.1", conf.mtype, conf.raw)
        if not granted & CTI_SERVICE_CLIENT_CONTROL:
            raise Problem("ServicesGranted %#x lacks CTI_SERVICE_CLIENT_CONTROL (call control impossible)" % granted,
                          "§4.1 / §5.2", conf.mtype, conf.raw)
        c.heartbeat(self.next_invoke())
        print("probe: ready", file=sys.stderr, flush=True)

        # --- agent state: AVAILABLE, then NOT_READY with a reason code (§5.9 (e))
        for state, reason in ((AGENT_STATE_AVAILABLE, 0), (AGENT_STATE_NOT_READY, a.reason_code)):
            mark = c.seq
            inv = self.next_invoke()
            c.send(set_agent_state_req(self.v, inv, self.peripheral, state, st_agent[0], st_agent[1], reason=reason))
            self.confirm(inv, SET_AGENT_STATE_CONF, "SET_AGENT_STATE_REQ %s" % AGENT_STATE_NAMES[state])
            ev = self.agent_event(st_agent, state, mark, 10.0, reason=reason if state == AGENT_STATE_NOT_READY else None)
            self.step("agent %s %s" % (st_agent[0], AGENT_STATE_NAMES[state]), set_agent_state_conf=True,
                      agent_state_event=ev.describe())

        # --- A calls B (internal MAKE_CALL from a NOT_READY agent, §5.9 (b))
        mark = c.seq
        calls_from = mark
        inv = self.next_invoke()
        c.send(make_call_req(self.v, inv, self.peripheral, agent_a[1], agent_b[1]))
        m = self.confirm(inv, MAKE_CALL_CONF, "MAKE_CALL_REQ %s -> %s" % (agent_a[1], agent_b[1]))
        x, x_type, x_dev = m.u32(4), m.u16(8), m.s(47)
        self.calls["original"] = x
        self.step("MAKE_CALL_CONF", call_id=x, device_id_type=x_type, device=x_dev)
        for mt in (CALL_SERVICE_INITIATED, CALL_ORIGINATED):
            ev = self.call_event(mt, x, mark, 10.0)
            self.step(NAMES[mt], **ev.describe())
        ev = self.call_event(CALL_DELIVERED, x, mark, 10.0, device=agent_b[1])
        self.step("original call delivered to B", **ev.describe())
        ev = self.call_event(CALL_ESTABLISHED, x, mark, 20.0, device=agent_b[1])
        self.step("original call answered by B", **ev.describe())

        # --- A consults C (CONSULTATION_CALL_REQ, §3.2): original call held, consult call to C
        mark = c.seq
        inv = self.next_invoke()
        c.send(consultation_call_req(self.v, inv, self.peripheral, x, x_type, x_dev, agent_c[1], agent_a[1]))
        m = self.confirm(inv, CONSULTATION_CALL_CONF, "CONSULTATION_CALL_REQ %s -> %s" % (agent_a[1], agent_c[1]))
        y, y_type, y_dev = m.u32(4), m.u16(8), m.s(47)
        self.calls["consult"] = y
        self.step("CONSULTATION_CALL_CONF", call_id=y, device_id_type=y_type, device=y_dev)
        if y_dev is None:
            raise Problem("CONSULTATION_CALL_CONF without NewConnectionDeviceID: the consult call cannot be "
                          "named in TRANSFER_CALL_REQ", "§3.2 CONSULTATION_CALL_CONF / §5.8", m.mtype, m.raw)
        ev = self.call_event(CALL_HELD, x, mark, 10.0, device=x_dev)
        self.step("original call held", **ev.describe())
        delivered = self.call_event(CALL_DELIVERED, y, mark, 10.0, device=agent_c[1])
        self.step("consult call delivered to C", **delivered.describe())
        ev = self.call_event(CALL_ESTABLISHED, y, mark, 20.0, device=agent_c[1])
        self.step("consult call answered by C", **ev.describe())

        # --- A transfers B's call to C (TRANSFER_CALL_REQ, §3.2)
        premature = c.find(lambda m: m.mtype == CALL_TRANSFERRED and {m.u32(12), m.u32(34)} & {x, y})
        if premature is not None and premature.seq < delivered.seq:
            raise Problem("CALL_TRANSFERRED_EVENT before the consult call's CALL_DELIVERED_EVENT",
                          "§5.9", premature.mtype, premature.raw)
        mark = c.seq
        inv = self.next_invoke()
        c.send(transfer_call_req(self.v, inv, self.peripheral, y, y_type, y_dev, x, x_type, x_dev, agent_a[1]))
        m = self.confirm(inv, TRANSFER_CALL_CONF, "TRANSFER_CALL_REQ")
        self.step("TRANSFER_CALL_CONF", new_call_id=m.u32(4), num_parties=m.u16(10), device=m.s(47))

        def transferred(m):
            return m.mtype == CALL_TRANSFERRED and bool({m.u32(12), m.u32(34)} & {x, y})
        try:
            ev = c.wait_or_find(transferred, 10.0, "CALL_TRANSFERRED_EVENT", mark)
        except Timeout:
            seen = [m.describe() for m in c.history if m.seq > mark and (m.callid() in (x, y)
                                                                          or m.mtype == CALL_TRANSFERRED)]
            raise Timeout("no CALL_TRANSFERRED_EVENT for call %d or %d within 10 s (meanwhile: %s)"
                          % (x, y, json.dumps(seen)))
        if ev.seq < delivered.seq:
            raise Problem("CALL_TRANSFERRED_EVENT before the consult call's CALL_DELIVERED_EVENT", "§5.9",
                          ev.mtype, ev.raw)
        self.step("CALL_TRANSFERRED_EVENT", **ev.describe())
        # §3.1 BEGIN_CALL_EVENT: "Always the first event for a call on a given client".
        for role, cid in (("original", x), ("consult", y)):
            first = c.find(lambda m: m.callid() == cid or (m.mtype in (CALL_TRANSFERRED, CALL_CONFERENCED)
                                                          and cid in (m.u32(12), m.u32(34))), calls_from)
            if first is None or first.mtype != BEGIN_CALL:
                raise Problem("first event of the %s call %d is %s, not BEGIN_CALL_EVENT"
                              % (role, cid, first.name if first else "missing"), "§3.1 BEGIN_CALL_EVENT",
                              first.mtype if first else None, first.raw if first else None)
        # Let the aftermath (connection cleared at A, agent states) arrive and validate it too.
        c.drain(1.0)
        c.close(self.next_invoke())
        self.step("CLOSE_CONF")

    def summary(self, ok, problem=None):
        c = self.c
        ours = set(self.calls.values())
        events = []
        if c is not None:
            for m in c.history:
                if m.callid() in ours or (m.mtype == CALL_TRANSFERRED and {m.u32(12), m.u32(34)} & ours):
                    events.append("%d:%s@%s" % (m.callid() if m.callid() is not None else m.u32(12),
                                                m.name.replace("_EVENT", ""), m.s(25) or m.s(35) or "-"))
        return {"mode": "control", "ok": ok, "protocol_version": self.v,
                "elapsed_s": round(time.monotonic() - self.start, 3),
                "counts": dict(sorted(c.counts.items())) if c else {},
                "unvalidated_types": c.unvalidated if c else {},
                "steps": self.steps, "calls": self.calls, "call_events": events[:60],
                "first_problem": problem}


def run_control(args):
    ctl = Control(args)
    try:
        ctl.run()
    except Problem as p:
        return finish(ctl.summary(False, p.as_dict()), 1)
    except Timeout as t:
        return finish(ctl.summary(False, {"problem": "timeout: %s" % t}), 2)
    except (OSError, socket.timeout) as e:
        return finish(ctl.summary(False, {"problem": "connection error: %s" % e}), 3)
    finally:
        if ctl.c is not None:
            ctl.c.conn.close()
    return finish(ctl.summary(True), 0)


def finish(summary, code):
    print(json.dumps(summary, sort_keys=True), flush=True)
    if code != 0:
        p = summary.get("first_problem") or {}
        log("FAILED:", p.get("problem"), ("(%s)" % p["reference"]) if p.get("reference") else "")
    return code


# ---------------------------------------------------------------- self-test

def party(v, cid, dev):
    """A ConnectedParty triplet (tags 39, 40, 41) as in CALL_TRANSFERRED / TRANSFER_CALL_CONF."""
    return flt(v, 39, struct.pack(">I", cid)) + flt(v, 40, b"\0\0") + flt(v, 41, dev)


def self_test():
    """Check the validator on the reference's own wire samples (§7) and on broken messages.

    Returns 0 if every case behaves as expected."""
    h = bytes.fromhex
    t = "6b05217e"  # a central-controller time
    call_fixed_end = struct.pack(">IIHHI", 0, 5000, 17, 1, 0x01000002)  # END_CALL fixed part
    cases = [
        # (name, version, raw message, expect valid)
        ("§7 OPEN_CONF PV15", 15, h("00000028" "00000004" "00000001" "001c0296" "00000000" "00000004" + t
                                   + "0000" "0011" "0009" "e4020001" "d00400001388" "e0020000"), True),
        ("§7 OPEN_CONF PV15 bytes read as PV24", 24, h("00000028" "00000004" "00000001" "001c0296" "00000000"
                                                      "00000004" + t + "0000" "0011" "0009" "e4020001"
                                                      "d00400001388" "e0020000"), False),
        ("§7 SYSTEM_EVENT", 15, h("0000001a" "0000001f" "00000004" + t + "00000003" "00001388" "00000000"
                                  "00000000" "ffff"), True),
        ("SYSTEM_EVENT PV24 with Text", 24, frame(SYSTEM_EVENT, h("00000000" + t + "00000005" "00000000"
                                                                  "00000000" "00000000" "ffff")
                                                  + flt(24, 7, b"hello\0")), True),
        ("SYSTEM_EVENT PV24, 1-byte tag width", 24, frame(SYSTEM_EVENT, h("00000000" + t + "00000005" "00000000"
                                                                          "00000000" "00000000" "ffff")
                                                          + flt(15, 7, b"hello\0")), False),
        ("END_CALL PV24", 24, frame(END_CALL, call_fixed_end + flt(24, 25, b"2101\0")), True),
        ("END_CALL without ConnectionDeviceID", 24, frame(END_CALL, call_fixed_end), False),
        ("END_CALL, string without NUL", 24, frame(END_CALL, call_fixed_end + flt(24, 25, b"2101")), False),
        ("END_CALL, string over maximum", 15, frame(END_CALL, call_fixed_end + flt(15, 25, b"9" * 64 + b"\0")), False),
        ("END_CALL, field overruns message", 24, frame(END_CALL, call_fixed_end + flt(24, 25, b"2101\0")[:-2]), False),
        ("END_CALL, fixed part too short", 24, frame(END_CALL, call_fixed_end[:14]), False),
        ("AGENT_STATE PV19 layout (62) sent as PV15", 15, frame(AGENT_STATE, b"\0" * 62), False),
        ("AGENT_STATE PV15 layout (58)", 15, frame(AGENT_STATE, b"\0" * 58 + flt(15, 5, b"1001\0")), True),
        ("AGENT_STATE PV24, NumFltSkillGroups 1 without the group", 24,
         frame(AGENT_STATE, b"\0" * 56 + struct.pack(">HI", 1, 0)), False),
        ("AGENT_STATE PV15 with Direction (PV16+)", 15,
         frame(AGENT_STATE, b"\0" * 58 + flt(15, 244, b"\0\0\0\1")), False),
        ("AGENT_STATE PV16 with Direction", 16,
         frame(AGENT_STATE, b"\0" * 58 + flt(16, 244, b"\0\0\0\1")), True),
        ("HEARTBEAT_CONF with trailing bytes", 24, frame(HEARTBEAT_CONF, b"\0\0\0\1\0\0"), False),
        ("BEGIN_CALL PV24, NumNamedVariables 1 and one NAMEDVAR", 24,
         frame(BEGIN_CALL, struct.pack(">IIHHHHHHIH", 0, 5000, 17, 0, 1, 0, 1, 1, 7, 0)
               + flt(24, 25, b"2101\0") + flt(24, 82, b"ECCVar\0ECCVal\0")), True),
        ("BEGIN_CALL PV24, NumNamedVariables 2 but one NAMEDVAR", 24,
         frame(BEGIN_CALL, struct.pack(">IIHHHHHHIH", 0, 5000, 17, 0, 2, 0, 1, 1, 7, 0)
               + flt(24, 25, b"2101\0") + flt(24, 82, b"ECCVar\0ECCVal\0")), False),
        ("MAKE_CALL_CONF PV20", 20, frame(MAKE_CALL_CONF, struct.pack(">IIHHH", 7, 0x01000002, 0, 0xFFFF, 2)
                                          + flt(20, 47, b"2201\0")), True),
        ("MAKE_CALL_CONF without NewConnectionDeviceID", 20,
         frame(MAKE_CALL_CONF, struct.pack(">IIHHH", 7, 0x01000002, 0, 0xFFFF, 2)), False),
        ("SET_AGENT_STATE_CONF with trailing bytes", 24, frame(SET_AGENT_STATE_CONF, b"\0\0\0\7\0\0"), False),
        ("CONTROL_FAILURE_CONF ([HS] sample)", 24, h("0000000a" "00000023" "01020304" "004e" "02030405"), True),
        ("TRANSFER_CALL_CONF PV15, NumParties 2", 15,
         frame(TRANSFER_CALL_CONF, struct.pack(">IIHHHH", 9, 0x01000004, 0, 2, 0xFFFF, 2)
               + flt(15, 47, b"2203\0") + party(15, 0x01000004, b"2202\0") + party(15, 0x01000004, b"2203\0")),
         True),
        ("TRANSFER_CALL_CONF, NumParties 2 but one party", 15,
         frame(TRANSFER_CALL_CONF, struct.pack(">IIHHHH", 9, 0x01000004, 0, 2, 0xFFFF, 2)
               + party(15, 0x01000004, b"2202\0")), False),
        ("CALL_TRANSFERRED PV24, one party", 24,
         frame(CALL_TRANSFERRED, struct.pack(">IIHHIHHIIHHHIHHHH", 0, 5000, 17, 0, 0x01000002, 0xFFFF, 2,
                                             0xFFFFFFFF, 0xFFFFFFFF, 0, 1, 0, 0x01000004, 0, 0, 3, 32)
               + flt(24, 35, b"2201\0") + flt(24, 42, b"2201\0") + party(24, 0x01000004, b"2203\0")), True),
        ("CALL_TRANSFERRED PV24, party triplet out of order", 24,
         frame(CALL_TRANSFERRED, struct.pack(">IIHHIHHIIHHHIHHHH", 0, 5000, 17, 0, 0x01000002, 0xFFFF, 2,
                                             0xFFFFFFFF, 0xFFFFFFFF, 0, 1, 0, 0x01000004, 0, 0, 3, 32)
               + flt(24, 39, b"\1\0\0\4") + flt(24, 41, b"2203\0") + flt(24, 40, b"\0\0")), False),
        ("CALL_SERVICE_INITIATED PV20 (44-byte fixed part)", 20,
         frame(CALL_SERVICE_INITIATED, struct.pack(">IIHHIHHIIIIHHHH", 0, 5000, 17, 0, 0x01000002, 0xFFFF, 2,
                                                   0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0, 0, 1, 22)
               + flt(20, 25, b"2201\0") + flt(20, 27, b"2201\0")), True),
        ("CALL_HELD PV15 read with 2-byte tags", 20,
         frame(CALL_HELD, struct.pack(">IIHHIHHH", 0, 5000, 17, 0, 0x01000002, 0, 4, 0xFFFF)
               + flt(15, 25, b"2201\0")), False),
    ]
    # Encoders: total body = documented fixed part + the floating fields they add.
    enc = [
        ("SET_AGENT_STATE_REQ PV24", set_agent_state_req(24, 1, 5000, 3, "1230", "2230"), 21 + 4 + 5 + 4 + 5),
        ("SET_AGENT_STATE_REQ PV15", set_agent_state_req(15, 1, 5000, 3, "1230", "2230"), 21 + 2 + 5 + 2 + 5),
        ("MAKE_CALL_REQ PV20", make_call_req(20, 1, 5000, "2201", "2202"), 32 + 2 * (4 + 5)),
        ("MAKE_PREDICTIVE_CALL_REQ PV24", make_predictive_call_req(24, 1, 5000, "8000", "15551234"),
         42 + 4 + 5 + 4 + 9),
        ("CONSULTATION_CALL_REQ PV24", consultation_call_req(24, 1, 5000, 7, 0, "2201", "2203", "2201"),
         36 + 3 * (4 + 5)),
        ("TRANSFER_CALL_REQ PV15", transfer_call_req(15, 1, 5000, 8, 0, "2201", 7, 0, "2201", "2201"),
         40 + 3 * (2 + 5)),
    ]
    for name, raw, want_len in enc:
        length, _ = HEADER.unpack_from(raw)
        cases.append(("encoder " + name + " length", 24, None, length == want_len == len(raw) - 8))
    failures = 0
    for name, version, raw, want in cases:
        if raw is None:  # an encoder check, decided above
            failures += not want
            print("%s %-58s" % ("ok  " if want else "FAIL", name), file=sys.stderr)
            continue
        length, mtype = HEADER.unpack_from(raw)
        try:
            if length != len(raw) - 8:
                raise Problem("header length mismatch")
            validate(mtype, raw[8:], version, raw)
            got, why = True, ""
        except Problem as p:
            got, why = False, p.msg
        ok = got == want
        failures += not ok
        print("%s %-58s %s%s" % ("ok  " if ok else "FAIL", name, "valid" if got else "rejected",
                                 (": " + why) if why else ""), file=sys.stderr)
    print(json.dumps({"mode": "self-test", "ok": failures == 0, "cases": len(cases), "failures": failures}))
    return 1 if failures else 0


def main():
    ap = argparse.ArgumentParser(description="Independent GED-188 CTI client probe")
    ap.add_argument("--addr", help="CTI Server HOST:PORT")
    ap.add_argument("--self-test", action="store_true",
                    help="check the validator on reference samples and broken messages, then exit")
    ap.add_argument("--version", type=int, default=24, help="protocol version for OPEN_REQ")
    ap.add_argument("--seconds", type=float, default=30.0, help="overall time limit")
    ap.add_argument("--client-id", default="cti_probe")
    ap.add_argument("--heartbeat-interval", type=float, default=5.0)
    ap.add_argument("--heartbeat-timeout", type=float, default=5.0,
                    help="fail if a HEARTBEAT_REQ is unanswered this long")
    ap.add_argument("--min-heartbeats", type=int, default=1, help="HEARTBEAT_CONFs required")
    ap.add_argument("--trace", action="store_true", help="log every message received to stderr")
    ap.add_argument("--until-stdin-eof", action="store_true",
                    help="only OPEN + heartbeats; stay open until stdin is closed")
    ap.add_argument("--ani", help="session mode: count the call events of the calls with this ANI "
                                  "(summary field ani_calls)")
    ap.add_argument("--garbage", nargs="?", const="oversized",
                    choices=["oversized", "short-header", "unknown-type", "http", "random"],
                    help="garbage mode (default variant: oversized)")
    ap.add_argument("--refusals", action="store_true",
                    help="refusal mode: the bad OPEN_REQs of §5.2, each on its own connection")
    ap.add_argument("--control", action="store_true",
                    help="control mode: SET_AGENT_STATE, MAKE_CALL, CONSULTATION_CALL, TRANSFER_CALL")
    ap.add_argument("--peripheral-id", type=int, default=5000, help="control mode: the agents' PeripheralID")
    ap.add_argument("--agents", default="1230:2230,1201:2201,1202:2202,1203:2203",
                    help="control mode: AGENTID:EXTENSION for the state-change agent, then agents A, B, C "
                         "(A calls B, consults C, transfers B to C); all idle and NOT_READY")
    ap.add_argument("--reason-code", type=int, default=42, help="control mode: NOT_READY EventReasonCode")
    args = ap.parse_args()
    if args.self_test:
        return self_test()
    if not args.addr:
        ap.error("--addr is required")
    if args.garbage:
        return run_garbage(args)
    if not 1 <= args.version <= 255:
        ap.error("--version out of range")
    if args.refusals:
        return run_refusals(args)
    if args.control:
        return run_control(args)
    return run_session(args)


if __name__ == "__main__":
    sys.exit(main())
