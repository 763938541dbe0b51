package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ipcclab/ipcclab/pcaps/replay"
	"github.com/ipcclab/ipcclab/protocol/cti"
)

// openSession is the smallest replayable session: OPEN_REQ and OPEN_CONF.
func openSession(t *testing.T, name string) replay.Script {
	t.Helper()
	req := &cti.OpenReq{InvokeID: 1, VersionNumber: 24, IdleTimeout: 40, ClientID: "cli-test", ClientPassword: []byte{}}
	req.SetPresent(cti.TagClientPassword)
	enc := func(m cti.Message) []byte {
		b, err := cti.AppendMessage(nil, m, 24)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	return replay.Script{Name: name, Frames: []replay.Frame{
		{Time: t0, FromClient: true, Data: enc(req)},
		{Time: t0.Add(time.Millisecond), Data: enc(&cti.OpenConf{InvokeID: 1, PeripheralOnline: true})},
	}}
}

func runReplay(t *testing.T, scripts []replay.Script, loadErr error, args ...string) (string, string, error) {
	t.Helper()
	cmd := newPcapReplay(func(path string) ([]replay.Script, error) {
		if path != "capture.pcapng" {
			t.Errorf("loader called with %q", path)
		}
		return scripts, loadErr
	})
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(append([]string{"capture.pcapng"}, args...))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := cmd.ExecuteContext(ctx)
	return out.String(), errOut.String(), err
}

func TestPcapReplayRefusesBadInput(t *testing.T) {
	one := []replay.Script{openSession(t, "s1")}
	two := []replay.Script{openSession(t, "s1"), openSession(t, "s2")}
	tests := []struct {
		name    string
		scripts []replay.Script
		loadErr error
		args    []string
		want    string
	}{
		{"no role", one, nil, []string{"--target", "127.0.0.1:1"}, `--role "": must be server`},
		{"unknown role", one, nil, []string{"--role", "proxy", "--target", "127.0.0.1:1"}, `--role "proxy": must be server`},
		{"no target", one, nil, []string{"--role", "client"}, "--target: the address to listen at"},
		{"capture that does not load", nil, errors.New("capture.pcapng: not a pcap or pcapng file"), []string{"--role", "client", "--target", "127.0.0.1:1"}, "not a pcap or pcapng file"},
		{"no session", nil, nil, []string{"--role", "client", "--target", "127.0.0.1:1"}, "capture.pcapng: no CTI session found"},
		{"several sessions, none picked", two, nil, []string{"--role", "client", "--target", "127.0.0.1:1"},
			"capture.pcapng holds 2 CTI sessions; pick one with --session:\n  1  s1 (2 messages)\n  2  s2 (2 messages)"},
		{"session out of range", two, nil, []string{"--role", "client", "--target", "127.0.0.1:1", "--session", "3"}, "--session 3: capture.pcapng holds 2 CTI sessions:"},
		{"bad speed", one, nil, []string{"--role", "server", "--target", "127.0.0.1:0", "--speed", "-2"}, "Options.Speed -2"},
		{"bad address", one, nil, []string{"--role", "server", "--target", "not-an-address"}, "--target: listen tcp"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := runReplay(t, tc.scripts, tc.loadErr, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// fakeCTIServer answers the first OPEN_REQ with status, then closes.
func fakeCTIServer(t *testing.T, refuse bool) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	go func() {
		defer wg.Done()
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		mt, body, err := cti.ReadFrame(c, nil)
		if err != nil || mt != cti.MsgOpenReq {
			t.Errorf("fake server: read %v, %v", mt, err)
			return
		}
		inv, _ := cti.InvokeIDFromBody(body)
		var m cti.Message = &cti.OpenConf{InvokeID: inv, PeripheralOnline: true}
		if refuse {
			m = &cti.FailureConf{InvokeID: inv, Status: cti.StatusInvalidPassword}
		}
		b, _ := cti.AppendMessage(nil, m, 24)
		_, _ = c.Write(b)
		_, _ = c.Read(make([]byte, 1)) // until the replay closes
	}()
	return ln.Addr().String()
}

// A replay that matches prints the summary and exits zero; one that
// diverges prints the diff and exits non-zero.
func TestPcapReplayClientRole(t *testing.T) {
	out, _, err := runReplay(t, []replay.Script{openSession(t, "s1")}, nil, "--role", "client", "--target", fakeCTIServer(t, false), "--timeout", "2s")
	if err != nil || !strings.Contains(out, `replay of "s1" as the client: as captured`) {
		t.Fatalf("error %v, output:\n%s", err, out)
	}
	out, _, err = runReplay(t, []replay.Script{openSession(t, "s1")}, nil, "--role", "client", "--target", fakeCTIServer(t, true), "--timeout", "2s")
	if err == nil || !strings.Contains(err.Error(), `the replay of "s1" diverged from the capture (1 divergence)`) {
		t.Fatalf("error %v, want the divergence", err)
	}
	if !strings.Contains(out, "OPEN_REQ (captured #1 at +0.000s: ") || !strings.Contains(out, "answered FAILURE_CONF Status=E_CTI_INVALID_PASSWORD instead of OPEN_CONF") {
		t.Errorf("diff:\n%s", out)
	}
}

// The server role listens at --target and serves the first client; with
// nobody connecting it gives up after --accept-timeout.
func TestPcapReplayServerRole(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // a free port for the command to listen on
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var c net.Conn
		for range 200 { // until the command listens, at most 10 s
			if conn, derr := net.Dial("tcp", addr); derr == nil {
				c = conn
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if c == nil {
			t.Error("the command never listened")
			return
		}
		defer c.Close()
		req := &cti.OpenReq{InvokeID: 9, VersionNumber: 24, IdleTimeout: 40, ClientID: "cli-test", ClientPassword: []byte{}}
		req.SetPresent(cti.TagClientPassword)
		b, _ := cti.AppendMessage(nil, req, 24)
		_, _ = c.Write(b)
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		if mt, body, err := cti.ReadFrame(c, nil); err != nil || mt != cti.MsgOpenConf {
			t.Errorf("client: read %v, %v", mt, err)
		} else if inv, _ := cti.InvokeIDFromBody(body); inv != 9 {
			t.Errorf("OPEN_CONF InvokeID %d, want the client's 9", inv)
		}
	}()
	out, errOut, err := runReplay(t, []replay.Script{openSession(t, "s1")}, nil, "--role", "server", "--target", addr, "--timeout", "2s")
	wg.Wait()
	if err != nil || !strings.Contains(out, `replay of "s1" as the CTI Server: as captured`) {
		t.Fatalf("error %v, output:\n%s", err, out)
	}
	if !strings.Contains(errOut, "waiting for the client") {
		t.Errorf("stderr: %s", errOut)
	}
	_, _, err = runReplay(t, []replay.Script{openSession(t, "s1")}, nil, "--role", "server", "--target", "127.0.0.1:0", "--accept-timeout", "100ms")
	if err == nil || !strings.Contains(err.Error(), "within 100ms (--accept-timeout)") {
		t.Fatalf("error %v, want the accept timeout", err)
	}
}
