package sipnode

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"sync"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// EndReason says why a leg ended.
type EndReason int

// End reasons.
const (
	EndNone EndReason = iota
	// EndRemoteBye: the other side sent BYE.
	EndRemoteBye
	// EndLocalBye: we sent BYE.
	EndLocalBye
	// EndClosed: the node closed.
	EndClosed
)

// LegEvents are the in-dialog requests a leg's owner wants to see. Each
// runs on the node's goroutine for that request and must not block for long.
type LegEvents struct {
	// OnReinvite gets a re-INVITE's offer and returns the SDP to answer
	// with; nil answers with the leg's current local SDP.
	OnReinvite func(l *Leg, offer Media) []byte
	// OnRefer gets a REFER's Refer-To URI and returns the status to answer
	// (202 accepted); nil answers 501... the owner then sends NOTIFYs.
	OnRefer func(l *Leg, referTo sip.Uri) int
	// OnNotify gets NOTIFY bodies (REFER progress as message/sipfrag).
	OnNotify func(l *Leg, event string, body []byte)
	// OnInfo gets INFO and UPDATE requests (Cisco CPA results ride on
	// UPDATE); answered 200.
	OnInfo func(l *Leg, req *sip.Request)
	// OnEnd runs once when the leg ends, with the reason.
	OnEnd func(l *Leg, why EndReason)
}

// Leg is one established SIP dialog.
type Leg struct {
	node   *Node
	callID string
	ev     LegEvents
	srv    *sipgo.DialogServerSession
	cli    *sipgo.DialogClientSession

	mu      sync.Mutex
	remote  Media
	rawSDP  []byte
	local   []byte
	why     EndReason
	done    chan struct{}
	version uint64
	// Value is for the owner (the call a leg belongs to).
	Value any
}

func newLeg(n *Node, id string, ev LegEvents) *Leg {
	return &Leg{node: n, callID: id, ev: ev, done: make(chan struct{})}
}

// CallID is the dialog's Call-ID.
func (l *Leg) CallID() string { return l.callID }

// Remote is the far side's current media.
func (l *Leg) Remote() Media {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.remote
}

// RemoteSDP is the far side's current SDP body, as received.
func (l *Leg) RemoteSDP() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.rawSDP
}

// Done is closed when the leg ends.
func (l *Leg) Done() <-chan struct{} { return l.done }

// Ended reports why the leg ended (EndNone while it lives).
func (l *Leg) Ended() EndReason {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.why
}

func (l *Leg) end(why EndReason) bool {
	l.mu.Lock()
	if l.why != EndNone {
		l.mu.Unlock()
		return false
	}
	l.why = why
	close(l.done)
	l.mu.Unlock()
	if l.ev.OnEnd != nil {
		l.ev.OnEnd(l, why)
	}
	return true
}

func (l *Leg) finish(why EndReason) {
	if l.end(why) {
		l.node.dropLeg(l)
		if l.srv != nil {
			_ = l.srv.Close()
		}
		if l.cli != nil {
			_ = l.cli.Close()
		}
	}
}

func respond(req *sip.Request, tx sip.ServerTransaction, code int, reason string, body []byte, hdrs ...sip.Header) {
	res := sip.NewResponseFromRequest(req, code, reason, body)
	for _, h := range hdrs {
		res.AppendHeader(h)
	}
	_ = tx.Respond(res)
}

func (l *Leg) handle(req *sip.Request, tx sip.ServerTransaction) {
	switch req.Method {
	case sip.BYE:
		respond(req, tx, sip.StatusOK, "OK", nil)
		l.finish(EndRemoteBye)
	case sip.INVITE:
		var answer []byte
		if len(req.Body()) > 0 {
			offer, err := Parse(req.Body())
			if err != nil {
				code := sip.StatusBadRequest
				if errors.Is(err, ErrNoCommonCodec) {
					code = 488
				}
				respond(req, tx, code, "Not Acceptable Here", nil)
				return
			}
			l.mu.Lock()
			l.remote, l.rawSDP = offer, req.Body()
			l.mu.Unlock()
			if l.ev.OnReinvite != nil {
				answer = l.ev.OnReinvite(l, offer)
			}
		}
		l.mu.Lock()
		if answer != nil {
			l.local = answer
		}
		answer = l.local
		offerDir := l.remote.Direction
		l.mu.Unlock()
		// Mirror the offer's direction (RFC 3264 §6.1): a hold offered
		// sendonly is answered recvonly, a resume sendrecv.
		answer = withDirection(answer, mirror(offerDir))
		c := l.node.Contact(l.node.cfg.Name)
		respond(req, tx, sip.StatusOK, "OK", answer, sip.NewHeader("Content-Type", "application/sdp"), &c)
		// The ACK of a re-INVITE is absorbed by onAck.
	case sip.REFER:
		h := req.GetHeader("Refer-To")
		if h == nil || l.ev.OnRefer == nil {
			respond(req, tx, sip.StatusBadRequest, "Bad Request - Refer-To missing or REFER not supported here", nil)
			return
		}
		var u sip.Uri
		v := h.Value()
		if len(v) > 1 && v[0] == '<' && v[len(v)-1] == '>' {
			v = v[1 : len(v)-1]
		}
		if err := sip.ParseUri(v, &u); err != nil {
			respond(req, tx, sip.StatusBadRequest, "Bad Request - Refer-To: "+err.Error(), nil)
			return
		}
		code := l.ev.OnRefer(l, u)
		respond(req, tx, code, statusText(code), nil)
	case sip.NOTIFY:
		respond(req, tx, sip.StatusOK, "OK", nil)
		if l.ev.OnNotify != nil {
			ev := ""
			if h := req.GetHeader("Event"); h != nil {
				ev = h.Value()
			}
			l.ev.OnNotify(l, ev, req.Body())
		}
	default: // INFO, UPDATE
		respond(req, tx, sip.StatusOK, "OK", nil)
		if l.ev.OnInfo != nil {
			l.ev.OnInfo(l, req)
		}
	}
}

func (l *Leg) target() sip.Uri {
	if l.cli != nil {
		if c := l.cli.InviteResponse.Contact(); c != nil {
			return c.Address
		}
		return l.cli.InviteRequest.Recipient
	}
	return l.srv.InviteRequest.Contact().Address
}

func (l *Leg) do(ctx context.Context, req *sip.Request) (*sip.Response, error) {
	if l.cli != nil {
		return l.cli.Do(ctx, req)
	}
	return l.srv.Do(ctx, req)
}

func (l *Leg) write(req *sip.Request) error {
	if l.cli != nil {
		return l.cli.WriteRequest(req)
	}
	return l.srv.WriteRequest(req)
}

// Bye hangs up. It returns at once when the leg has already ended.
func (l *Leg) Bye(ctx context.Context) error {
	if l.Ended() != EndNone {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, byeTimeout)
	defer cancel()
	var err error
	if l.cli != nil {
		err = l.cli.Bye(ctx)
	} else {
		err = l.srv.Bye(ctx)
	}
	l.finish(EndLocalBye)
	return err
}

// Reinvite sends a re-INVITE with a new offer (media moved, hold) and
// returns the far side's answer.
func (l *Leg) Reinvite(ctx context.Context, sdpBody []byte) (Media, error) {
	if l.Ended() != EndNone {
		return Media{}, errors.New("sipnode: leg ended")
	}
	ctx, cancel := context.WithTimeout(ctx, byeTimeout)
	defer cancel()
	req := sip.NewRequest(sip.INVITE, l.target())
	req.SetBody(sdpBody)
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	res, err := l.do(ctx, req)
	if err != nil {
		return Media{}, err
	}
	// ACK the 2xx (or any final: non-2xx ACK is the transaction's).
	if res.IsSuccess() {
		ack := sip.NewRequest(sip.ACK, l.target())
		ack.AppendHeader(&sip.CSeqHeader{SeqNo: req.CSeq().SeqNo, MethodName: sip.ACK})
		_ = l.write(ack)
	} else {
		return Media{}, &ResponseError{Code: res.StatusCode, Reason: res.Reason}
	}
	m, err := Parse(res.Body())
	if err != nil {
		return Media{}, err
	}
	l.mu.Lock()
	l.local, l.remote, l.rawSDP = sdpBody, m, res.Body()
	l.mu.Unlock()
	return m, nil
}

// Request sends an in-dialog request (REFER, NOTIFY, INFO, UPDATE) and
// returns the final response.
func (l *Leg) Request(ctx context.Context, method sip.RequestMethod, body []byte, hdrs ...sip.Header) (*sip.Response, error) {
	if l.Ended() != EndNone {
		return nil, errors.New("sipnode: leg ended")
	}
	ctx, cancel := context.WithTimeout(ctx, byeTimeout)
	defer cancel()
	req := sip.NewRequest(method, l.target())
	if body != nil {
		req.SetBody(body)
	}
	for _, h := range hdrs {
		req.AppendHeader(h)
	}
	return l.do(ctx, req)
}

// NextVersion returns the next SDP session version for this leg's offers.
func (l *Leg) NextVersion() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.version++
	return l.version
}

func statusText(code int) string {
	switch code {
	case 200:
		return "OK"
	case 202:
		return "Accepted"
	case 403:
		return "Forbidden"
	case 404:
		return "Not Found"
	case 481:
		return "Call/Transaction Does Not Exist"
	case 486:
		return "Busy Here"
	case 488:
		return "Not Acceptable Here"
	case 501:
		return "Not Implemented"
	case 503:
		return "Service Unavailable"
	}
	return "Status " + strconv.Itoa(code)
}

func mirror(dir string) string {
	switch dir {
	case "sendonly":
		return "recvonly"
	case "recvonly":
		return "sendonly"
	case "inactive":
		return "inactive"
	}
	return "sendrecv"
}

// withDirection rewrites the direction attribute of an SDP body.
func withDirection(body []byte, dir string) []byte {
	for _, d := range []string{"sendrecv", "sendonly", "recvonly", "inactive"} {
		old := []byte("a=" + d + "\r\n")
		if i := bytes.Index(body, old); i >= 0 {
			if d == dir {
				return body
			}
			out := make([]byte, 0, len(body)+2)
			out = append(out, body[:i]...)
			out = append(out, "a="+dir+"\r\n"...)
			return append(out, body[i+len(old):]...)
		}
	}
	return body
}
