package sipnode

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// Helpers for call transfer (REFER, RFC 3515) and call progress causes
// (Reason, RFC 3326), shared by the gateway, CallManager and the dialer.

// CallVariableHeader names the SIP header that carries CTI call variable i
// (1..10) from a dialer through the gateway to CallManager: the dialer puts
// it in the Refer-To URI (?X-CallVariable1=...), the gateway copies the
// URI's headers into the INVITE it sends (RFC 3515 §2.4.2), and CallManager
// hands the values to the PG, so they reach the agent's screen pop.
func CallVariableHeader(i int) string { return "X-CallVariable" + strconv.Itoa(i) }

// Q850Cause returns the Q.850 cause of msg's Reason header
// ("Q.850;cause=17;text=..."), 0 when there is none.
func Q850Cause(msg sip.Message) int {
	for _, h := range msg.GetHeaders("Reason") {
		v := h.Value()
		for _, part := range strings.Split(v, ",") {
			fields := strings.Split(strings.TrimSpace(part), ";")
			if len(fields) == 0 || !strings.EqualFold(strings.TrimSpace(fields[0]), "Q.850") {
				continue
			}
			for _, f := range fields[1:] {
				k, val, ok := strings.Cut(strings.TrimSpace(f), "=")
				if ok && strings.EqualFold(strings.TrimSpace(k), "cause") {
					if n, err := strconv.Atoi(strings.Trim(strings.TrimSpace(val), `"`)); err == nil {
						return n
					}
				}
			}
		}
	}
	return 0
}

// Sipfrag is the message/sipfrag body of a REFER progress NOTIFY: the
// status line of the INVITE the REFER triggered (RFC 3515 §2.4.5).
func Sipfrag(code int, reason string) []byte {
	return fmt.Appendf(nil, "SIP/2.0 %d %s\r\n", code, reason)
}

// ParseSipfrag returns the status code of a message/sipfrag body's status
// line, 0 if it has none.
func ParseSipfrag(body []byte) int {
	line, _, _ := strings.Cut(string(body), "\n")
	f := strings.Fields(line)
	if len(f) < 2 || !strings.HasPrefix(f[0], "SIP/") {
		return 0
	}
	n, err := strconv.Atoi(f[1])
	if err != nil || n < 100 || n > 699 {
		return 0
	}
	return n
}

// NotifyRefer sends the REFER progress NOTIFY on leg: the triggered
// INVITE's status as message/sipfrag, the subscription terminated with a
// final status (RFC 3515 §2.4.5, §2.4.7).
func NotifyRefer(ctx context.Context, leg *Leg, code int, reason string) error {
	state := "active;expires=60"
	if code >= 200 {
		state = "terminated;reason=noresource"
	}
	res, err := leg.Request(ctx, sip.NOTIFY, Sipfrag(code, reason), sip.NewHeader("Event", "refer"),
		sip.NewHeader("Subscription-State", state), sip.NewHeader("Content-Type", "message/sipfrag"))
	if err != nil {
		return err
	}
	if !res.IsSuccess() {
		return &ResponseError{Code: res.StatusCode, Reason: res.Reason}
	}
	return nil
}

// ReferHeaders returns the headers a Refer-To URI asks to be put in the
// triggered INVITE, percent-decoded. Only extension headers (X-...) are
// honoured: a REFER must not be able to set a dialog's own headers.
func ReferHeaders(referTo sip.Uri) []sip.Header {
	var out []sip.Header
	for _, kv := range referTo.Headers {
		name := kv.K
		if len(name) < 3 || !strings.EqualFold(name[:2], "X-") {
			continue
		}
		v, err := url.PathUnescape(kv.V)
		if err != nil {
			v = kv.V
		}
		out = append(out, sip.NewHeader(name, v))
	}
	return out
}

// EscapeURIHeader percent-encodes a value for a URI header (the part after
// '?' of a SIP URI, RFC 3261 §19.1.1): ReferHeaders decodes it.
func EscapeURIHeader(v string) string {
	return strings.ReplaceAll(url.QueryEscape(v), "+", "%20")
}
