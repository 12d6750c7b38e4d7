package scenarios

import (
	"strings"
	"testing"

	"github.com/zabsim/zabsim/model"
	"github.com/zabsim/zabsim/sim"
)

// Issue 14: values that hung a run, overflowed the clock or were silently accepted are
// refused before anything runs, naming the line, the value and the reason.
func TestHostileSettingsRefused(t *testing.T) {
	for _, tc := range []struct {
		src, want string
	}{
		// a workload interval that overflows the clock or is NaN: a loop of calls in no time
		{"ensemble 3\nworkload rate=NaN", "x.zab:2: rate=NaN: want calls per second per client, from 0.001"},
		{"ensemble 3\nworkload rate=1e-20", "x.zab:2: rate=1e-20: want calls per second per client, from 0.001"},
		{"ensemble 3\nworkload rate=1e-15", "x.zab:2: rate=1e-15: want calls per second per client"},
		{"ensemble 3\nworkload rate=Inf", "x.zab:2: rate=Inf: want calls per second per client"},
		{"ensemble 3\nworkload rate=10001", "x.zab:2: rate=10001: want calls per second per client"},
		{"ensemble 3\nworkload reads=NaN", "x.zab:2: reads=NaN: want the share of reads, from 0 to 1"},
		// session timeouts whose ping interval rounds to nothing, and min > max
		{"ensemble 3\nconfig maxSessionTimeout=1ns", "x.zab:2: maxSessionTimeout=1ns: want a duration from 1ms to 596h31m23.647s (ZooKeeper's int milliseconds; a client pings"},
		{"ensemble 3\nconfig minSessionTimeout=999us", "x.zab:2: minSessionTimeout=999us: want a duration from 1ms"},
		{"ensemble 3\nconfig maxSessionTimeout=3s", "x.zab:2: minSessionTimeout=4s (2 x tickTime, the default) is larger than maxSessionTimeout=3s: ZooKeeper refuses that"},
		{"ensemble 3\nconfig minSessionTimeout=10s maxSessionTimeout=5s", "x.zab:2: minSessionTimeout=10s is larger than maxSessionTimeout=5s"},
		// the relation is judged on the whole configuration, at its last line
		{"ensemble 3\nconfig maxSessionTimeout=1s\nconfig tickTime=1s", "x.zab:3: minSessionTimeout=2s (2 x tickTime, the default) is larger than maxSessionTimeout=1s"},
		// tickTime and its products beyond ZooKeeper's int milliseconds (and int64 ns)
		{"ensemble 3\nconfig tickTime=9223372036854775807", "x.zab:2: tickTime=9223372036854775807: want a duration from 1ms to 596h31m23.647s (ZooKeeper's int milliseconds, about 24.8 days)"},
		{"ensemble 3\nconfig tickTime=999us", "x.zab:2: tickTime=999us: want a duration from 1ms"},
		{"ensemble 3\nconfig tickTime=1h initLimit=1000", "x.zab:2: initLimit=1000 x tickTime=1h0m0s: the product must be at most 596h31m23.647s (ZooKeeper's int milliseconds)"},
		{"ensemble 3\nconfig tickTime=1h syncLimit=597", "x.zab:2: syncLimit=597 x tickTime=1h0m0s: the product must be at most"},
		{"ensemble 3\nconfig initLimit=2147483648", "x.zab:2: initLimit=2147483648: want a whole number from 1 to 2147483647 (ZooKeeper's int)"},
		{"ensemble 3\nconfig snapCount=99999999999999999999", "x.zab:2: snapCount=99999999999999999999: want a whole number from 1 to 2147483647"},
		{"ensemble 3\nconfig commitLogCount=-5", "x.zab:2: commitLogCount=-5: want a whole number from 1 to 2147483647"},
		// NaN compares false with everything
		{"ensemble 3\nconfig snapshotSizeFactor=NaN", "x.zab:2: snapshotSizeFactor=NaN: want a finite number"},
		{"ensemble 3\nconfig snapshotSizeFactor=-Inf", "x.zab:2: snapshotSizeFactor=-Inf: want a finite number"},
		// latencies: ExpFloat64 times the mean must fit the clock
		{"ensemble 3\nconfig latencyMean=2562047h", "x.zab:2: latencyMean=2562047h: want a duration from 0s to 1h0m0s (a link slower than an hour"},
		{"ensemble 3\nconfig latencyMin=61m", "x.zab:2: latencyMin=61m: want a duration from 0s to 1h0m0s"},
		{"ensemble 3\nconfig fsyncLatency=2h", "x.zab:2: fsyncLatency=2h: want a duration from 0s to 1h0m0s"},
		{"ensemble 3\nlatency 1 2 min=1ms mean=3h", "x.zab:2: mean=3h: want a duration from 0s to 1h0m0s"},
		{"ensemble 3\nlatency 1 2 min=2h", "x.zab:2: min=2h: want a duration from 0s to 1h0m0s"},
		// durations that would overflow the clock when added to it
		{"ensemble 3\nrun 9223372036854775807", "x.zab:2: run 9223372036854775807: a duration needs its unit"},
		{"ensemble 3\nawait leader within=2562047h", "x.zab:2: within=2562047h: want a duration from 0s to 1000000h0m0s"},
		{"ensemble 3\nstart all stagger=2562047h", "x.zab:2: stagger=2562047h: want a duration from 0s to 1000000h0m0s"},
		{"ensemble 3\nclog 1 2 for=2562047h", "x.zab:2: for=2562047h: want a duration from 0s to 1000000h0m0s"},
		// a client's requested timeout, and options that were not checked at all
		{"ensemble 3\nclient A servers=1 timeout=1ns", "x.zab:2: timeout=1ns: want a duration from 1ms"},
		{"ensemble 3\nclient A servers=1 within=soon", "x.zab:2: within=soon: not a duration"},
		{"ensemble 3\nclient A servers=1\nA set /a \"v\" version=4294967296", "x.zab:3: version=4294967296: want a number from -1 (any) to 2147483647"},
		{"ensemble 3\nexpect leader 1 within=x", "x.zab:2: within=x: not a duration"},
	} {
		_, err := Parse("x.zab", tc.src)
		if err == nil {
			t.Errorf("%q: parsed, want error %q", tc.src, tc.want)
			continue
		}
		if !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%q:\n got  %s\n want %s", tc.src, err, tc.want)
		}
		if _, ok := err.(*Error); !ok {
			t.Errorf("%q: error is %T, want *Error", tc.src, err)
		}
	}
}

// The extremes that are refused one step further are accepted, and run.
func TestSettingExtremesAccepted(t *testing.T) {
	for _, src := range []string{
		"ensemble 1\nconfig tickTime=1ms minSessionTimeout=1ms maxSessionTimeout=1ms\nstart all\nawait leader\nclient A servers=1\nrun 1s",
		"ensemble 1\nconfig tickTime=596h31m23.647s initLimit=1 syncLimit=1\nstart all\nawait leader",
		"ensemble 3\nconfig snapshotSizeFactor=-1e308 latencyMin=0 latencyMean=0 fsyncLatency=0\nstart all\nawait leader",
		"ensemble 1\nstart all\nawait leader\nworkload rate=0.001 clients=1\nrun 10s",
		"ensemble 1\nstart all\nawait leader\nworkload rate=10000 clients=1\nrun 100ms",
	} {
		s, err := Parse("x.zab", src)
		if err != nil {
			t.Errorf("%q: %v", src, err)
			continue
		}
		res, err := Run(s, Options{Seed: 1, NoTrace: true})
		if err != nil {
			t.Errorf("%q: %v", src, err)
			continue
		}
		if !res.OK {
			t.Errorf("%q: failed:\n%s", src, res.Summary())
		}
	}
}

// A run stops at its event or virtual-time limit and says which; an idle run far longer
// than the limit ends at it.
func TestRunLimits(t *testing.T) {
	s, err := Parse("x.zab", "ensemble 3\nstart all\nawait leader\nrun 1000000h\nexpect leader 1")
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(s, Options{Seed: 1, NoTrace: true, MaxVirtual: 2 * 3600 * sim.Second})
	if err != nil {
		t.Fatal(err)
	}
	if res.OK || res.Limit != LimitVirtual || res.VirtualNs != int64(2*3600*sim.Second) ||
		!strings.HasPrefix(res.Stopped, "line 4: the virtual-time limit (2h0m0s, --max-virtual) was reached after") {
		t.Errorf("virtual limit: ok=%v limit=%q virtual=%d stopped=%q", res.OK, res.Limit, res.VirtualNs, res.Stopped)
	}
	res, err = Run(s, Options{Seed: 1, NoTrace: true, MaxEvents: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if res.OK || res.Limit != LimitEvents || res.Events != 1000 ||
		!strings.Contains(res.Stopped, "the event limit (1000 events, --max-events) was reached at") {
		t.Errorf("event limit: ok=%v limit=%q events=%d stopped=%q", res.OK, res.Limit, res.Events, res.Stopped)
	}
	// an await cut by the limit is not reported as a timed-out await
	for _, x := range res.Expectations {
		if strings.Contains(x.Got, "timed out") {
			t.Errorf("limit reported as a timeout: %+v", x)
		}
	}
	if _, err := Run(s, Options{Seed: 1, MaxVirtual: MaxDuration + 1}); err == nil {
		t.Error("a virtual limit beyond MaxDuration was accepted")
	}
	if _, err := Run(s, Options{Seed: 1, MaxEvents: MaxEventsLimit + 1}); err == nil {
		t.Error("an event limit beyond MaxEventsLimit was accepted")
	}
}

// Every built-in scenario runs well within the default limits.
func TestLibraryWithinDefaultLimits(t *testing.T) {
	for _, e := range List() {
		s, err := Builtin(e.Name)
		if err != nil {
			t.Fatal(err)
		}
		res, err := Run(s, Options{Seed: 1, NoTrace: true})
		if err != nil {
			t.Fatal(err)
		}
		if res.Limit != "" || res.Events > DefaultMaxEvents/20 || sim.Time(res.VirtualNs) > DefaultMaxVirtual/20 {
			t.Errorf("%s: %d events, %s virtual, limit %q: too close to the default limits", e.Name, res.Events, sim.Time(res.VirtualNs), res.Limit)
		}
	}
}

// Found by FuzzScript (testdata/fuzz/FuzzScript/1441b26d76bf98b3): a lock still acquiring
// when its client closed retried at once, forever, and overflowed the stack. The close
// ends the recipe instead.
func TestLockWhileClientCloses(t *testing.T) {
	s, err := Parse("x.zab", "ensemble 3\nstart all\nawait leader\nclient C0 servers=all\n"+
		"lock K C0 /lock read nowait\nC0 close\nrun 1s\nexpect notheld K\n")
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(s, Options{Seed: 1, NoTrace: true, MaxEvents: 100_000})
	if err != nil {
		t.Fatal(err)
	}
	if res.Limit != "" || !res.OK {
		t.Fatalf("%s", res.Summary())
	}
}

// A server that exited on its own (here one that refuses to start, ZOOKEEPER-1653) is
// already what a later crash, pause or resume line asks for: the line is noted as a
// warning, not refused, and the run goes on to its verdict. A script that crashes a server
// twice is still refused.
func TestServerExitedOnItsOwn(t *testing.T) {
	src := "ensemble 3\nstart 1 2\nawait leader\nwrite 3\nstart 3\ncrash 3 at=snapshot within=5s\nrestart 3\nrun 1s\n" +
		"crash 3\nrestart 3\npause 3\nresume 3\ncrash 3 at=log within=1s\nrun 1s\nexpect state 3 DOWN\n"
	res, err := RunSource("exited.zab", src)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Warnings) != 4 || !strings.Contains(res.Warnings[0], "line 9: crash 3: server 3 had exited on its own") ||
		len(res.Violations) != 1 || res.Violations[0].Check != "Liveness" || res.Stopped != "" || !res.Expectations[0].OK {
		t.Fatalf("warnings %q, stopped %q\n%s", res.Warnings, res.Stopped, res.Summary())
	}
	if _, err := RunSource("twice.zab", "ensemble 3\nstart all\ncrash 1\ncrash 1\n"); err == nil || !strings.Contains(err.Error(), "twice.zab:4: crash 1: server 1 is not running") {
		t.Fatalf("a second crash of a crashed server: %v", err)
	}
}

// Faults anchored to protocol events: `crash S at=newleader` ends a learner right after it
// handled NEWLEADER (before its currentEpoch write, so with its disk kept it cannot start
// again: ZOOKEEPER-1653's window), and `partition S B at=proposal` cuts right after leader S
// next proposes a txn, at that very instant, whatever the lines before took.
func TestProtocolAnchors(t *testing.T) {
	src := "ensemble 3\ndisk policy=keep-all\nstart all\nawait leader\ncrash 1\nwrite 2\ncrash 3\nrestart 1\nawait leader\nwrite 3\n" +
		"restart 3\ncrash 3 at=newleader within=5s\nrestart 3\nrun 1s\nexpect state 3 DOWN\n" +
		"workload clients=1 rate=20 servers={2}\npartition 2 1 at=proposal within=5s\nrun 1s\n"
	res := runText(t, src, 3)
	if !res.Expectations[0].OK {
		t.Fatalf("server 3 should refuse to start:\n%s", res.Summary())
	}
	var newLeader, crashed, proposed, cut sim.Time
	for _, r := range res.World.Trace().Records() {
		switch {
		case r.Kind == sim.RecDeliver && r.Node == 3:
			if p, ok := r.Data.(*model.QuorumPacket); ok && p.Type == model.NEWLEADER {
				newLeader = r.At
			}
		case r.Kind == sim.RecCrash && r.Node == 3 && crashed == 0 && newLeader > 0:
			crashed = r.At
		case r.Kind == sim.RecPartition:
			cut = r.At
		}
		if p, ok := r.Data.(*model.Proposed); ok && p.Sid == 2 && cut == 0 {
			proposed = r.At
		}
	}
	if newLeader == 0 || crashed != newLeader || cut == 0 || cut != proposed {
		t.Fatalf("NEWLEADER at %s, crash at %s; last proposal at %s, cut at %s", newLeader, crashed, proposed, cut)
	}
}
