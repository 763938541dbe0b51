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

Garbage mode
    cti_probe.py --addr HOST:PORT --garbage [oversized|short-header|unknown-type|http|random]
  Sends junk on a fresh connection and succeeds if the server answers with
  FAILURE_CONF or closes the connection within 5 s.

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
}

CTI_SERVICE_ALL_EVENTS = 0x00000010  # §4.1

# §4.2: every bit of CallMsgMask is defined; the top four (network recording,
# 0x10000000-0x80000000) belong to PV23+ (§3 version table). The real CTI OS
# Server at PV15 requested 0x0FFFFFFF (§4.2, §7).
def call_msg_mask(version):
    return 0xFFFFFFFF if version >= 23 else 0x0FFFFFFF

AGENT_STATE_MASK = 0x3FF  # LOGIN..HOLD (§4.3)

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
}
REQUIRED = {t: [25] for t in (CALL_DELIVERED, CALL_ESTABLISHED, CALL_HELD, CALL_RETRIEVED,
                              CALL_CLEARED, CALL_CONNECTION_CLEARED, CALL_ORIGINATED,
                              CALL_FAILED, CALL_DIVERTED, CALL_SERVICE_INITIATED, CALL_QUEUED,
                              BEGIN_CALL, END_CALL, CALL_REACHED_NETWORK, CALL_DEQUEUED,
                              RTP_STARTED, RTP_STOPPED)}
REQUIRED[CALL_DATA_UPDATE] = [25, 47]
REQUIRED[CALL_TRANSLATION_ROUTE] = [10]

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


def open_req(invoke, version, client_id):
    fixed = struct.pack(">11I", invoke, version, 30, 0xFFFFFFFF, CTI_SERVICE_ALL_EVENTS,
                        call_msg_mask(version), AGENT_STATE_MASK, 0, 0, 0, 0)
    assert len(fixed) == 44
    floats = flt(version, 1, client_id.encode("ascii") + b"\0") + flt(version, 2, b"")
    return frame(OPEN_REQ, fixed + floats)


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

    def track_call(self, mtype, fixed, floats, raw):
        (cid,) = struct.unpack_from(">I", fixed, CALLID_OFFSET[mtype])
        dev = dict(floats).get(25, b"")[:-1].decode("ascii", "replace")
        now = round(self.elapsed(), 3)
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


def finish(summary, code):
    print(json.dumps(summary, sort_keys=True), flush=True)
    if code != 0:
        p = summary.get("first_problem") or {}
        log("FAILED:", p.get("problem"), ("(%s)" % p["reference"]) if p.get("reference") else "")
    return code


# ---------------------------------------------------------------- self-test

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
    ]
    failures = 0
    for name, version, raw, want in cases:
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
    ap.add_argument("--garbage", nargs="?", const="oversized",
                    choices=["oversized", "short-header", "unknown-type", "http", "random"],
                    help="garbage mode (default variant: oversized)")
    args = ap.parse_args()
    if args.self_test:
        return self_test()
    if not args.addr:
        ap.error("--addr is required")
    if args.garbage:
        return run_garbage(args)
    if not 1 <= args.version <= 255:
        ap.error("--version out of range")
    return run_session(args)


if __name__ == "__main__":
    sys.exit(main())
