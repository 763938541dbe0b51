package main

import (
	"bytes"
	"math"
	"net/netip"
	"time"

	"github.com/ipcclab/ipcclab/internal/capture"
	"github.com/ipcclab/ipcclab/protocol/cti"
)

// capFile is a capture written with internal/capture: the ordinary case,
// where every segment arrives once and in order.
type capFile struct {
	buf bytes.Buffer
	w   *capture.Writer
	t0  time.Time
}

func newCapFile(t0 time.Time) *capFile {
	c := &capFile{t0: t0}
	w, err := capture.New(&c.buf)
	if err != nil {
		panic("mkfixtures: pcapng writer on a buffer: " + err.Error())
	}
	c.w = w
	return c
}

// frames is the number of packets written so far (the last frame's number).
func (c *capFile) frames() int { return int(c.w.Packets()) }

// at is t0 plus s seconds.
func (c *capFile) at(s float64) time.Time {
	return c.t0.Add(time.Duration(math.Round(s * float64(time.Second))))
}

// bytes flushes and returns the pcapng file.
func (c *capFile) bytes() []byte {
	if err := c.w.Close(); err != nil {
		panic("mkfixtures: closing a capture on a buffer: " + err.Error())
	}
	return c.buf.Bytes()
}

// ctiConn is one CTI connection in a capFile, with its ledger.
type ctiConn struct {
	c    *capFile
	flow *capture.TCPFlow
	l    *ledger
}

// connect writes the handshake at s seconds and starts the ledger.
func (c *capFile) connect(s float64, pv cti.ProtocolVersion, client, server netip.AddrPort) *ctiConn {
	l := newLedger(pv, client.String(), server.String())
	l.handshake = true
	return &ctiConn{c: c, flow: c.w.NewTCPFlow(c.at(s), client, server), l: l}
}

// connectAt is connect at an absolute time (the simulation's clock).
func (c *capFile) connectAt(ts time.Time, pv cti.ProtocolVersion, client, server netip.AddrPort) *ctiConn {
	l := newLedger(pv, client.String(), server.String())
	l.handshake = true
	return &ctiConn{c: c, flow: c.w.NewTCPFlow(ts, client, server), l: l}
}

// client sends m from the client at s seconds.
func (k *ctiConn) client(s float64, m cti.Message) *ledgerMsg {
	return k.send(k.c.at(s), fromClient, m)
}

// server sends m from the server at s seconds.
func (k *ctiConn) server(s float64, m cti.Message) *ledgerMsg {
	return k.send(k.c.at(s), fromServer, m)
}

func (k *ctiConn) send(ts time.Time, dir int, m cti.Message) *ledgerMsg {
	b, lm := k.l.add(dir, m)
	k.data(ts, dir, b)
	return lm
}

// frame sends an encoded message (from the simulation).
func (k *ctiConn) frame(ts time.Time, dir int, b []byte) (*ledgerMsg, error) {
	lm, err := k.l.addFrame(dir, b)
	if err != nil {
		return nil, err
	}
	k.data(ts, dir, b)
	return lm, nil
}

// data writes b as internal/capture does — segments of at most MSS bytes —
// and notes them in the ledger.
func (k *ctiConn) data(ts time.Time, dir int, b []byte) {
	before := k.c.frames()
	k.flow.Data(ts, dir == fromClient, b)
	off := len(k.l.bytes[dir]) - len(b)
	for i, frame := 0, before+1; i < len(b); i, frame = i+capture.MSS, frame+1 {
		k.l.wrote(dir, off+i, min(capture.MSS, len(b)-i), frame, ts)
	}
}

// close ends the connection with a FIN exchange started by one side.
func (k *ctiConn) close(s float64, dir int) {
	before := k.c.frames()
	k.flow.Close(k.c.at(s), dir == fromClient)
	k.l.end = &End{How: "fin", From: sideName[dir], Frame: before + 1, T: secs(k.c.at(s).Sub(k.c.t0))}
}

// open marks a connection still open when the capture ends.
func (k *ctiConn) open(last time.Time) {
	k.l.end = &End{How: "open", T: secs(last.Sub(k.c.t0))}
}
