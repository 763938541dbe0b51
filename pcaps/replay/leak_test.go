package replay

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/ipcclab/ipcclab/protocol/cti"
)

// Serve and Drive leave no goroutine behind, however the replay ends: as
// captured, with the peer gone, with the context cancelled.
func TestReplaysLeaveNoGoroutine(t *testing.T) {
	before := runtime.NumGoroutine()
	for range 3 {
		serveTo(t, blendScript(t), fast(), func(p *peer) {
			p.send(openReq(1))
			p.expect(cti.MsgOpenConf)
		})
		ctx, cancel := context.WithCancel(context.Background())
		_, _ = serveToErr(t, ctx, blendScript(t), fast(), func(p *peer) {
			p.send(openReq(1))
			p.expect(cti.MsgOpenConf)
			cancel()
			p.drain()
		})
		driveTo(t, dialScript(t), fast(), (&fakeServer{newCall: 9000}).run)
	}
	var now int
	for range 100 { // the runtime reaps exited goroutines soon, not at once
		if now = runtime.NumGoroutine(); now <= before {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	buf := make([]byte, 1<<16)
	t.Fatalf("%d goroutines before the replays, %d after:\n%s", before, now, buf[:runtime.Stack(buf, true)])
}
