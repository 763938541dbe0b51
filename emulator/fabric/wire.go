package fabric

import (
	"fmt"
	"hash/fnv"
	"net/netip"

	"github.com/emiago/sipgo/sip"

	"github.com/ipcclab/ipcclab/internal/sipnode"
)

// Render writes m as the SIP message it stands for, built with sipgo's
// message types (no transport): request line or status line, Via, From and
// To with tags, Call-ID, CSeq, Contact, the extra headers (Reason,
// Refer-To, Call-Info) and an SDP body when m carries one. Tags, branches
// and Call-IDs are derived from the leg and seed, so the same run renders
// the same bytes. A PSTN-model caller's Call-ID is the real gateway's
// ("pstn-<seed>-<caller>@gateway").
func Render(m Message, seed uint64) []byte {
	uac, uas := m.Leg.ends()
	callID := m.Leg.callID(seed)
	key := legKey(callID)
	cseq, cseqMethod := m.cseq()
	// The dialog's From is always its initiator's side; a request the UAS
	// sends inside the dialog swaps From and To (RFC 3261 §12.2.1.1).
	fromNode, toNode := uac, uas
	fromUser, toUser := m.FromUser, m.ToUser
	fromTag, toTag := "f"+key, "t"+key
	reversed := m.IsRequest() && m.From == uas || !m.IsRequest() && m.To == uas
	if reversed {
		fromNode, toNode, fromTag, toTag = uas, uac, toTag, fromTag
	}
	// The request this message is, or answers.
	sender := m.From
	if !m.IsRequest() {
		sender = m.To
	}
	target := uri(toUser, toNode.Addr())
	req := sip.NewRequest(sip.RequestMethod(cseqMethod), target)
	via := &sip.ViaHeader{ProtocolName: "SIP", ProtocolVersion: "2.0", Transport: "UDP",
		Host: sender.Addr().Addr().String(), Port: int(sender.Addr().Port()), Params: sip.NewParams()}
	via.Params.Add("branch", fmt.Sprintf("z9hG4bK%s.%d.%s", key, cseq, branchMethod(cseqMethod)))
	req.AppendHeader(via)
	maxFwd := sip.MaxForwardsHeader(70)
	req.AppendHeader(&maxFwd)
	from := &sip.FromHeader{Address: uri(fromUser, fromNode.Addr()), Params: sip.NewParams()}
	from.Params.Add("tag", fromTag)
	req.AppendHeader(from)
	to := &sip.ToHeader{Address: target, Params: sip.NewParams()}
	// The To tag: on in-dialog requests, and on every response but 100
	// (the UAS's tag of the dialog).
	inDialog := m.IsRequest() && (reversed || m.InDialog || m.Method == "BYE" || m.Method == "REFER" || m.Method == "NOTIFY" ||
		m.Method == "ACK" && m.InDialog)
	// (sipgo would draw a random tag for a response without one; ours
	// are derived, so a run renders the same bytes every time.)
	if inDialog || !m.IsRequest() && m.Status > 100 {
		to.Params.Add("tag", toTag)
	}
	req.AppendHeader(to)
	cid := sip.CallIDHeader(callID)
	req.AppendHeader(&cid)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: cseq, MethodName: sip.RequestMethod(cseqMethod)})
	if m.IsRequest() && (m.Method == "INVITE" || m.Method == "REGISTER") {
		req.AppendHeader(&sip.ContactHeader{Address: uri(fromUser, m.From.Addr())})
	}
	if m.ReferTo != "" {
		referTo := uri(m.ReferTo, NodeCallManager.Addr())
		req.AppendHeader(sip.NewHeader("Refer-To", "<"+referTo.String()+">"))
	}
	if m.AutoAnswer {
		req.AppendHeader(sip.NewHeader("Call-Info", "<sip:"+NodeCallManager.Addr().String()+">;"+autoAnswerParam))
	}
	if m.Method == "NOTIFY" {
		req.AppendHeader(sip.NewHeader("Event", "refer"))
		req.AppendHeader(sip.NewHeader("Subscription-State", "terminated;reason=noresource"))
	}
	if m.Method == "REGISTER" {
		req.AppendHeader(sip.NewHeader("Expires", fmt.Sprint(int(registerExpires.Seconds()))))
	}
	var body []byte
	if m.SDP {
		body = sipnode.Description(sipnode.Offer(mediaAddr(m.From), "ipcclab-"+m.From.String()), uint64(key32(key)), 1)
	}
	if m.Method == "NOTIFY" {
		body = []byte("SIP/2.0 200 OK\r\n")
		req.AppendHeader(sip.NewHeader("Content-Type", "message/sipfrag"))
	}
	if m.IsRequest() {
		if m.SDP {
			req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		}
		req.SetBody(body)
		return []byte(req.String())
	}
	res := sip.NewResponseFromRequest(req, m.Status, m.Reason, nil)
	if m.Status >= 200 && m.Status < 300 && cseqMethod == "INVITE" {
		res.AppendHeader(&sip.ContactHeader{Address: uri(toUser, m.From.Addr())})
	}
	if m.Cause != 0 {
		res.AppendHeader(sip.NewHeader("Reason", fmt.Sprintf("Q.850;cause=%d", m.Cause)))
	}
	if m.SDP {
		res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	}
	res.SetBody(body)
	return []byte(res.String())
}

// autoAnswerParam is phones.AutoAnswerParam (the header CallManager sends).
const autoAnswerParam = "answer-after=0"

func uri(user string, ap netip.AddrPort) sip.Uri {
	return sip.Uri{Scheme: "sip", User: user, Host: ap.Addr().String(), Port: int(ap.Port())}
}

// ends are the dialog's initiator (UAC) and recipient (UAS).
func (l Leg) ends() (uac, uas Node) {
	switch l.Kind {
	case LegCaller:
		return NodeGateway, NodeCallManager
	case LegIVR:
		return NodeCallManager, NodeIVR
	case LegPhone:
		return NodeCallManager, NodePhones
	case LegDial:
		return NodeCallManager, NodeGateway
	}
	return NodePhones, NodeCallManager // LegRegister
}

func (l Leg) callID(seed uint64) string {
	switch l.Kind {
	case LegCaller:
		return fmt.Sprintf("pstn-%d-%d@gateway", seed, l.Call)
	case LegIVR:
		return fmt.Sprintf("ivr-%d-%d-%d@callmanager", seed, l.Call, l.N)
	case LegPhone:
		return fmt.Sprintf("phone-%d-%d-%d@callmanager", seed, l.Call, l.N)
	case LegDial:
		return fmt.Sprintf("ctiport-%d-%d@callmanager", seed, l.Call)
	}
	return fmt.Sprintf("register-%d-%d@phones", seed, l.Call)
}

func legKey(callID string) string { return fmt.Sprintf("%08x", key32(callID)) }

func key32(s string) uint32 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(s))
	return h.Sum32()
}

// cseq is the CSeq of the request m is or answers: the dialog's INVITE
// and what belongs to its transaction (ACK of an error, CANCEL) 1, a
// re-INVITE 2, REFER 3, BYE 4; NOTIFY and REGISTER 1 in their own
// sequence.
func (m Message) cseq() (uint32, string) {
	method := m.Method
	if !m.IsRequest() {
		method = m.CSeqMethod
	}
	if m.CSeq != 0 {
		return m.CSeq, method
	}
	switch method {
	case "INVITE", "ACK":
		if m.InDialog {
			return 2, method
		}
		return 1, method
	case "REFER":
		return 3, method
	case "BYE":
		return 4, method
	}
	return 1, method
}

// branchMethod: a CANCEL and the ACK of an error response belong to the
// INVITE's transaction (RFC 3261 §9.1, §17.1.1.3).
func branchMethod(method string) string {
	if method == "CANCEL" || method == "ACK" {
		return "INVITE"
	}
	return method
}

// mediaAddr is the RTP address a component offers in its SDP.
func mediaAddr(n Node) netip.AddrPort {
	return netip.AddrPortFrom(n.Addr().Addr(), 16384)
}
