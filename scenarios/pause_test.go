package scenarios

import (
	"strings"
	"testing"

	"github.com/zabsim/zabsim/model"
	"github.com/zabsim/zabsim/sim"
)

// Pauses and partitions as a real 3.8.0 ensemble lives them (issue: socket timeouts,
// bounded buffers, the resumed leader, the client's read timeout). Each test runs a
// built-in scenario and checks the timing the real ensemble showed, in virtual time.

func runBuiltin(t *testing.T, name string, seed uint64) *Result {
	t.Helper()
	src, err := library.ReadFile("library/" + name + ".zab")
	if err != nil {
		t.Fatal(err)
	}
	res := runText(t, string(src), seed)
	if !res.OK {
		t.Fatalf("%s seed %d:\n%s", name, seed, res.Summary())
	}
	return res
}

// lastPacketBefore is the time of the last quorum packet node to read from node from at or
// before t.
func lastPacketBefore(res *Result, to, from sim.NodeID, t sim.Time) sim.Time {
	var last sim.Time
	for _, r := range res.World.Trace().Records() {
		if r.At > t {
			break
		}
		if _, ok := r.Data.(*model.QuorumPacket); ok && r.Kind == sim.RecDeliver && r.Node == to && r.Peer == from {
			last = r.At
		}
	}
	return last
}

// Both socket read timeouts fire exactly syncLimit x tickTime (10 s) after the last packet
// read: the follower's and the leader's LearnerHandler's, not at the leader's next tick.
func TestSocketReadTimeoutsAreExact(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		res := runBuiltin(t, "quorum-port-cut", seed)
		var looking, handler sim.Time
		for _, r := range res.World.Trace().Records() {
			switch d := r.Data.(type) {
			case *model.StateChange:
				if d.Sid == 1 && strings.Contains(d.Reason, "read timeout") && looking == 0 {
					looking = r.At
				}
			case *model.Note:
				if d.Sid == 2 && strings.Contains(d.Text, "handler for 1 shut down: read timeout") && handler == 0 {
					handler = r.At
				}
			}
		}
		if looking == 0 || handler == 0 {
			t.Fatalf("seed %d: follower LOOKING at %v, handler shut down at %v", seed, looking, handler)
		}
		if d := looking - lastPacketBefore(res, 1, 2, looking); d != 10*sim.Second {
			t.Errorf("seed %d: the follower timed out %v after the last packet, want 10s", seed, d)
		}
		if d := handler - lastPacketBefore(res, 2, 1, handler); d != 10*sim.Second {
			t.Errorf("seed %d: the leader's handler timed out %v after the last packet, want 10s", seed, d)
		}
	}
}

// The client's read timeout is 2/3 of the negotiated session timeout (10 s: 6.67 s) from the
// last thing it heard, once connected: not the connect timeout it started with.
func TestClientReadTimeoutIsTwoThirdsOfTheSessionTimeout(t *testing.T) {
	res := runBuiltin(t, "leader-sigstop", 1)
	recs := res.World.Trace().Records()
	for i, r := range recs {
		cs, ok := r.Data.(*model.ClientState)
		if !ok || !strings.Contains(cs.Reason, "timed out") {
			continue
		}
		var heard sim.Time
		for _, p := range recs[:i] {
			if p.Kind == sim.RecDeliver && p.Node == sim.NodeID(cs.Client) {
				heard = p.At
			}
		}
		if d := r.At - heard; d < 6666*sim.Millisecond || d > 6667*sim.Millisecond {
			t.Fatalf("the client gave up %v after it last heard from its server, want 6.67s", d)
		}
		return
	}
	t.Fatal("the client never timed out")
}

// A follower that comes back from SIGSTOP starts a new Follower on a new connection: no ACK
// of the old stream reaches the leader there (which would answer "First packet ACK is not
// ACKEPOCH" and start a second election round).
func TestNoStaleAckOnANewLeaderConnection(t *testing.T) {
	for seed := uint64(1); seed <= 5; seed++ {
		res := runBuiltin(t, "follower-sigstop", seed)
		for _, r := range res.World.Trace().Records() {
			if n, ok := r.Data.(*model.Note); ok && strings.Contains(n.Text, "is not ACKEPOCH") {
				t.Errorf("seed %d at %v: %s", seed, r.At, n.Text)
			}
		}
		if len(res.Leaders) != 1 {
			t.Errorf("seed %d: %d epochs, want the first only", seed, len(res.Leaders))
		}
	}
}

// The resumed leader reads its followers' end-of-stream and its buffered client requests,
// logs them as txns it can no longer commit, and leads on until its lead loop's next check
// (within one tickTime) finds no synced quorum.
func TestResumedLeaderLeadsUntilItsNextCheck(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		res := runBuiltin(t, "leader-sigstop", seed)
		resumed, _ := firstRecord(res, func(r *sim.Record) bool { return r.Kind == sim.RecResume })
		var logged int
		var down sim.Time
		for _, r := range res.World.Trace().Records() {
			if r.At < resumed || down > 0 {
				continue
			}
			switch d := r.Data.(type) {
			case *model.Logged:
				if d.Sid == 2 && d.Zxid.Epoch() == 1 {
					logged++
				}
			case *model.StateChange:
				if d.Sid == 2 && d.State == model.LOOKING {
					down = r.At
					if !strings.Contains(d.Reason, "Not sufficient followers synced") {
						t.Errorf("seed %d: 2 stepped down for %q", seed, d.Reason)
					}
				}
			}
		}
		if down == 0 || down-resumed > 2*sim.Second {
			t.Errorf("seed %d: resumed at %v, stepped down at %v: want within one tickTime", seed, resumed, down)
		}
		if logged == 0 {
			t.Errorf("seed %d: the resumed leader logged no txn before stepping down", seed)
		}
	}
}

// A blocking client call that fails on its connection fails its own line, and an
// expectation that fails after it names it; `expect result` right after opts out.
func TestFailedCallFailsItsLine(t *testing.T) {
	res := runText(t, `ensemble 3
start all
await leader
client A servers={1} timeout=6s
pause 1
A create /x "1"
run 1s
expect value /x = "1"
`, 1)
	if res.OK || len(res.Expectations) != 2 {
		t.Fatalf("want two failed lines:\n%s", res.Summary())
	}
	call, exp := res.Expectations[0], res.Expectations[1]
	if call.Line != 6 || call.OK || !strings.HasPrefix(call.Got, "ConnectionLoss") {
		t.Errorf("the call's line: %+v", call)
	}
	if exp.Line != 8 || exp.OK || !strings.Contains(exp.Got, `after line 6's A create /x "1" failed: ConnectionLoss`) {
		t.Errorf("the expectation: %+v", exp)
	}
	res = runText(t, "ensemble 3\nstart all\nawait leader\nclient A servers={1} timeout=6s\npause 1\nA create /x \"1\"\nexpect result A ConnectionLoss\n", 1)
	if !res.OK {
		t.Errorf("an expected ConnectionLoss:\n%s", res.Summary())
	}
}

// Paused means paused: a write with no via= goes through a server that serves, and one
// handed to a paused server waits for its resume; a paused server sends nothing.
func TestPausedServerSendsNothing(t *testing.T) {
	res := runText(t, "ensemble 3\nstart all\nawait leader\nexpect leader 3\npause 1\nwrite 1\nwrite 1 via=1 nowait\nrun 2s\nresume 1\nrun 1s\nexpect value /zabsim/w2 = \"v2\"\n", 1)
	if !res.OK {
		t.Fatal(res.Summary())
	}
	var paused, resumed sim.Time
	for _, r := range res.World.Trace().Records() {
		switch {
		case r.Kind == sim.RecPause:
			paused = r.At
		case r.Kind == sim.RecResume:
			resumed = r.At
		case r.Kind == sim.RecSend && r.Node == 1 && paused > 0 && resumed == 0:
			t.Errorf("server 1 sent %s at %v while paused", r.String(), r.At)
		}
	}
}
