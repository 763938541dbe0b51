package cti

import (
	"fmt"
	"strings"
)

// Error is a protocol error found while decoding or encoding. Status is the
// E_CTI status code a server answers with in FAILURE_CONF (§4.14, §5.7):
//
//	2  bad MessageLength, truncated fixed part or unknown message type
//	3  unknown floating tag
//	6  required floating field missing
//	23 field longer than its maximum, or wrong size for its type
//	25 unparseable body (float past the end, duplicate or misordered field)
//	26 tag not allowed for the message type
//	39/77/78 group count disagrees with the elements sent
//	48 message type newer than the session's protocol version
//	49 tag newer than the session's protocol version
type Error struct {
	Status Status
	Type   MessageType // 0 when not known
	Field  string      // field name, when known
	Tag    Tag         // floating tag, when relevant
	Offset int         // byte offset in the frame (header included); -1 when encoding
	Msg    string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("cti: ")
	if e.Type != 0 {
		b.WriteString(e.Type.String())
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	fmt.Fprintf(&b, " (%s", e.Status)
	if e.Offset >= 0 {
		fmt.Fprintf(&b, " at offset %d", e.Offset)
	}
	b.WriteString(")")
	return b.String()
}

// Error makes FAILURE_CONF usable as an error (Session.Request returns it).
func (m *FailureConf) Error() string {
	return fmt.Sprintf("cti: FAILURE_CONF invoke %d: %s", m.InvokeID, m.Status)
}

// Error makes CONTROL_FAILURE_CONF usable as an error (Session.Request
// returns it).
func (m *ControlFailureConf) Error() string {
	return fmt.Sprintf("cti: CONTROL_FAILURE_CONF invoke %d: %s (peripheral error %d)", m.InvokeID, m.FailureCode, m.PeripheralErrorCode)
}

// Error makes FAILURE_EVENT usable as an error.
func (m *FailureEvent) Error() string {
	return fmt.Sprintf("cti: FAILURE_EVENT: %s", m.Status)
}
