package sipnode

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

func startPair(t *testing.T, onInvite func(in *Incoming)) (a, b *Node) {
	t.Helper()
	var err error
	b, err = Start(Config{Name: "b", Addr: "127.0.0.1:0", OnInvite: onInvite})
	if err != nil {
		t.Fatal(err)
	}
	a, err = Start(Config{Name: "a", Addr: "127.0.0.1:0", OnInvite: func(in *Incoming) { in.Reject(603, "Decline") }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

var mediaA = netip.MustParseAddrPort("127.0.0.1:20000")
var mediaB = netip.MustParseAddrPort("127.0.0.1:20002")

func TestInviteAnswerReinviteBye(t *testing.T) {
	legs := make(chan *Leg, 1)
	reinvites := make(chan Media, 1)
	_, _ = legs, reinvites
	a, b := startPair(t, func(in *Incoming) {
		if in.To() != "8005550100" || !in.HasOffer || in.Offer.Addr != mediaA {
			in.Reject(400, "unexpected")
			return
		}
		_ = in.Progress(180, "Ringing", nil)
		time.Sleep(20 * time.Millisecond) // let the 180 be seen before the 200
		l, err := in.Answer(Description(Answer(in.Offer, mediaB, "b"), 1, 1), LegEvents{
			OnReinvite: func(l *Leg, offer Media) []byte { reinvites <- offer; return nil },
		})
		if err == nil {
			legs <- l
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var got []int
	l, err := a.Invite(ctx, "caller", b.URI("8005550100"), Description(Offer(mediaA, "a"), 1, 1), LegEvents{},
		func(p Provisional) { got = append(got, p.Code) })
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != 180 {
		t.Errorf("provisionals %v, want [180]", got)
	}
	if r := l.Remote(); r.Addr != mediaB || r.EventPT != EventPT {
		t.Errorf("answer media %+v", r)
	}
	bl := <-legs
	moved := netip.MustParseAddrPort("127.0.0.1:20004")
	m, err := l.Reinvite(ctx, Description(Offer(moved, "a"), 1, 2))
	if err != nil {
		t.Fatal(err)
	}
	if m.Addr != mediaB {
		t.Errorf("re-INVITE answer %v", m.Addr)
	}
	if o := <-reinvites; o.Addr != moved {
		t.Errorf("re-INVITE offer at b: %v", o.Addr)
	}
	if err := l.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-bl.Done():
		if bl.Ended() != EndRemoteBye {
			t.Errorf("b's leg ended with %v", bl.Ended())
		}
	case <-ctx.Done():
		t.Fatal("b never saw BYE")
	}
}

func TestInviteRejectedAndCancelled(t *testing.T) {
	a, b := startPair(t, func(in *Incoming) {
		switch in.To() {
		case "busy":
			in.Reject(486, "Busy Here")
		case "ring":
			_ = in.Progress(180, "Ringing", nil)
			go func() {
				<-in.Cancelled()
			}()
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := a.Invite(ctx, "x", b.URI("busy"), Description(Offer(mediaA, "a"), 1, 1), LegEvents{}, nil)
	if StatusOf(err) != 486 {
		t.Fatalf("busy: %v", err)
	}
	rctx, rcancel := context.WithCancel(ctx)
	_, err = a.Invite(rctx, "x", b.URI("ring"), Description(Offer(mediaA, "a"), 1, 1), LegEvents{},
		func(p Provisional) { rcancel() })
	if StatusOf(err) != 487 {
		t.Fatalf("cancelled: %v (status %d)", err, StatusOf(err))
	}
	deadline := time.Now().Add(3 * time.Second)
	for b.Stats().Cancelled != 1 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if st := b.Stats(); st.Cancelled != 1 || st.Legs != 0 {
		t.Errorf("b stats %+v", st)
	}
}

func TestBadInviteGets4xxAndNodeKeepsServing(t *testing.T) {
	a, b := startPair(t, func(in *Incoming) {
		_, _ = in.Answer(Description(Answer(in.Offer, mediaB, "b"), 1, 1), LegEvents{})
	})
	conn, err := net.Dial("udp", b.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	send := func(msg string) string {
		conn.SetDeadline(time.Now().Add(2 * time.Second))
		if _, err := conn.Write([]byte(msg)); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 4096)
		n, err := conn.Read(buf)
		if err != nil {
			return ""
		}
		return string(buf[:n])
	}
	local := conn.LocalAddr().String()
	inv := func(body, ctype string) string {
		return "INVITE sip:x@" + b.Addr().String() + " SIP/2.0\r\n" +
			"Via: SIP/2.0/UDP " + local + ";branch=z9hG4bK" + sip.GenerateTagN(8) + "\r\n" +
			"From: <sip:t@" + local + ">;tag=1\r\nTo: <sip:x@" + b.Addr().String() + ">\r\n" +
			"Call-ID: " + sip.GenerateTagN(12) + "\r\nCSeq: 1 INVITE\r\nContact: <sip:t@" + local + ">\r\n" +
			"Content-Type: " + ctype + "\r\nContent-Length: " + itoa(len(body)) + "\r\n\r\n" + body
	}
	g729 := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 18\r\n"
	if r := send(inv(g729, "application/sdp")); !strings.HasPrefix(r, "SIP/2.0 488") {
		t.Errorf("G.729-only offer: %q", firstLine(r))
	}
	if r := send(inv("garbage", "application/sdp")); !strings.HasPrefix(r, "SIP/2.0 400") {
		t.Errorf("garbage SDP: %q", firstLine(r))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	l, err := a.Invite(ctx, "x", b.URI("y"), Description(Offer(mediaA, "a"), 1, 1), LegEvents{}, nil)
	if err != nil {
		t.Fatalf("good call after bad ones: %v", err)
	}
	_ = l.Bye(ctx)
	if st := b.Stats(); st.Rejected != 2 {
		t.Errorf("b stats %+v", st)
	}
}

func firstLine(s string) string { l, _, _ := strings.Cut(s, "\r\n"); return l }

func itoa(n int) string { return fmtInt(n) }

func fmtInt(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}
