package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/zabsim/zabsim/scenarios"
)

// Issue 14, each case as it was reported: bad input is exit 2 with `file:line: reason` (or
// the flag and the reason), never a hang, a panic or a silent exit 0.
func TestHostileInputExitCodes(t *testing.T) {
	dir := t.TempDir()
	file := func(name, src string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	workload := func(rate string) string {
		return file("wl-"+rate+".zab", "ensemble 3\nstart all\nawait leader\nworkload rate="+rate+"\nrun 10s\n")
	}
	config := func(name, opts string) string {
		return file(name+".zab", "ensemble 3\nconfig "+opts+"\nstart all\nawait leader\nclient A servers={1,2,3}\nrun 10s\n")
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		// 1. hangs
		{[]string{"run", workload("NaN")}, 2, ":4: rate=NaN: want calls per second per client, from 0.001 (one per 1000s) to 10000"},
		{[]string{"run", workload("1e-20")}, 2, ":4: rate=1e-20: want calls per second per client"},
		{[]string{"run", workload("1e-15")}, 2, ":4: rate=1e-15: want calls per second per client"},
		{[]string{"explore", "--rate", "NaN"}, 2, "--rate NaN: want calls per second per client"},
		{[]string{"run", config("max1ns", "maxSessionTimeout=1ns")}, 2, ":2: maxSessionTimeout=1ns: want a duration from 1ms to 596h31m23.647s"},
		{[]string{"run", config("max1us", "maxSessionTimeout=1us")}, 2, ":2: maxSessionTimeout=1us: want a duration from 1ms"},
		{[]string{"run", config("minmax", "maxSessionTimeout=3s")}, 2, ":2: minSessionTimeout=4s (2 x tickTime, the default) is larger than maxSessionTimeout=3s: ZooKeeper refuses that"},
		{[]string{"run", config("tick", "tickTime=9223372036854775807")}, 2, ":2: tickTime=9223372036854775807: want a duration from 1ms to 596h31m23.647s"},
		{[]string{"run", config("nan", "snapshotSizeFactor=NaN")}, 2, ":2: snapshotSizeFactor=NaN: want a finite number"},
		// 3. exit codes
		{[]string{"explore", "--rate", "Inf"}, 2, "--rate +Inf: want calls per second per client"},
		{[]string{"explore", "--rate", "1e6"}, 2, "--rate 1e+06: want calls per second per client"},
		{[]string{"explore", "--rate", "0"}, 2, "--rate 0: want calls per second per client"},
		{[]string{"bench", "--seconds", "NaN"}, 2, "--seconds NaN: want more than 0 and at most 3600"},
		{[]string{"explore", "--first", "18446744073709551615", "--seeds", "2"}, 2, "--first 18446744073709551615 --seeds 2: the last seed would be beyond 18446744073709551615"},
		{[]string{"explore", "--jobs", "1000000"}, 2, "--jobs 1000000: want 1 to 1024"},
		{[]string{"explore", "--shrink-runs", "-1"}, 2, "--shrink-runs -1: want 0 (no shrinking) to 100000"},
		{[]string{"shrink", "x.zab", "--runs", "1000001"}, 2, "--runs 1000001: want 1 to 100000"},
		{[]string{"run", "observers", "--max-events", "0"}, 2, "--max-events 0: want 1 to 100000000000"},
		{[]string{"run", "observers", "--max-virtual", "NaN"}, 2, `--max-virtual "NaN": want a duration from 1ns to 1000000h0m0s`},
		{[]string{"run", "observers", "--max-virtual", "0s"}, 2, `--max-virtual "0s": want a duration`},
	} {
		code, _, errs := runCLI(tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d %q, want %d and %q", tc.args, code, errs, tc.code, tc.want)
		}
		if strings.Contains(errs, "goroutine") {
			t.Errorf("%v: a panic: %s", tc.args, errs)
		}
	}
}

// The last seed there is runs: --first at the top of the range with one seed.
func TestExploreLastSeed(t *testing.T) {
	code, out, errs := runCLI("explore", "--first", "18446744073709551615", "--seeds", "1", "--servers", "3", "--duration", "1s", "--out", t.TempDir())
	if code != 0 || !strings.Contains(out, "explored 1 schedule (seeds 18446744073709551615-18446744073709551615") {
		t.Fatalf("exit %d:\n%s%s", code, out, errs)
	}
}

// A run stops at its limits and says which: exit 1, like any run cut short.
func TestRunLimitFlags(t *testing.T) {
	f := filepath.Join(t.TempDir(), "long.zab")
	os.WriteFile(f, []byte("ensemble 3\nstart all\nawait leader\nrun 1000000h\n"), 0o644)
	code, out, errs := runCLI("run", f, "--max-virtual", "1h")
	if code != 1 || !strings.Contains(out, "stopped early: line 4: the virtual-time limit (1h0m0s, --max-virtual) was reached after") {
		t.Errorf("--max-virtual 1h: exit %d:\n%s%s", code, out, errs)
	}
	code, out, errs = runCLI("run", f, "--max-events", "5000", "--json")
	if code != 1 || !strings.Contains(out, `"limit":"events"`) || !strings.Contains(out, "the event limit (5000 events, --max-events) was reached at") {
		t.Errorf("--max-events 5000: exit %d:\n%s%s", code, out, errs)
	}
	// the default limit: a week of virtual time
	code, out, errs = runCLI("run", f)
	if code != 1 || !strings.Contains(out, "the virtual-time limit (168h0m0s, --max-virtual) was reached") {
		t.Errorf("default limit: exit %d:\n%s%s", code, out, errs)
	}
}

// 2. zabsim report: every malformed trace is exit 2 with the file, the line and the reason.
func TestReportMalformedTraces(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "c.zab")
	os.WriteFile(src, []byte("ensemble 3\nstart all\nawait leader\nclient A servers={1,2,3}\nA create /x \"v\"\nA get /x\n"), 0o644)
	good := filepath.Join(dir, "good.jsonl")
	if code, _, errs := runCLI("run", src, "--trace", good); code != 0 {
		t.Fatalf("run: exit %d %s", code, errs)
	}
	text := readFile(t, good)
	lines := strings.SplitAfter(text, "\n")
	lines = lines[:len(lines)-1] // the empty string after the last newline
	lineOf := func(substr string) int {
		for i, l := range lines {
			if strings.Contains(l, substr) {
				return i + 1
			}
		}
		t.Fatalf("no line with %q", substr)
		return 0
	}
	// edit changes line n (1-based) of the good trace with the regexp re.
	edit := func(n int, re, repl string) string {
		out := append([]string(nil), lines...)
		out[n-1] = regexp.MustCompile(re).ReplaceAllString(out[n-1], repl)
		if out[n-1] == lines[n-1] {
			t.Fatalf("line %d: %s matches nothing in %s", n, re, lines[n-1])
		}
		return strings.Join(out, "")
	}
	broadcast := lineOf(`BROADCAST epoch=1","type":"StateChange"`)
	ret := lineOf(`"type":"ClientReturn"`)
	call := lineOf(`"type":"ClientCall"`)
	end := len(lines)
	for _, tc := range []struct {
		name, trace string
		line        int
		want        string
	}{
		{"phase", edit(broadcast, `"Phase":"BROADCAST"`, `"Phase":9`), broadcast, `the StateChange data renders as "state LEADING PHASE(9) epoch=1"`},
		{"phase-and-text", edit(broadcast, `"Phase":"BROADCAST"(.*)`, `"Phase":9$1`), broadcast, "renders as"},
		{"return-before-call", edit(ret, `"CallAt":\d+`, `"CallAt":99999999999999`), ret, "a ClientReturn at"},
		{"return-negative-call", edit(ret, `"CallAt":\d+`, `"CallAt":-1`), ret, "an answer comes after its call"},
		{"empty", "", 1, "an empty trace: no records and no end record"},
		{"blank", "\n\n", 2, "an empty trace"},
		{"cut-at-line", strings.Join(lines[:call], ""), call, fmt.Sprintf("truncated: the trace stops after %d records without its end record", call-1)},
		{"cut-before-end", strings.Join(lines[:end-1], ""), end - 1, "truncated"},
		{"cut-mid-line", text[:len(text)-len(lines[end-1])-20], end - 1, "not a trace record"},
		{"time-back", edit(call, `"at_ns":\d+`, `"at_ns":5`), call, "at_ns=5 is before the record before it"},
		{"negative-time", edit(2, `"at_ns":\d+`, `"at_ns":-1`), 2, "at_ns=-1: virtual time is never negative"},
		{"kind", edit(3, `"kind":"\w+"`, `"kind":"teleport"`), 3, `unknown record kind "teleport"`},
		{"no-node", edit(3, `"node":-?\d+,`, ``), 3, "no node: every record has at_ns, kind, node, peer and conn"},
		{"node-range", edit(3, `"node":-?\d+`, `"node":70000`), 3, "node=70000: want -1 (none) or an id from 0 to 65535"},
		{"node-int32", edit(3, `"node":-?\d+`, `"node":1e12`), 3, "not a trace record: json: cannot unmarshal number 1e12"},
		{"header-without-source", edit(1, `"source":"[^"]*(\\"[^"]*)*",`, ``), 1, "a header needs the scenario's name and source"},
		{"header-twice", lines[0] + text, 2, "a header record after the first line"},
		{"text-edited", edit(call, `create /x`, `create /y`), 0, "renders as"},
		{"untyped-text-edited", edit(lineOf(`"kind":"timer"`), `"text":"`, `"text":"x`), end, "the records hash to"},
		{"after-end", text + lines[1], end + 1, fmt.Sprintf("a record after the end record (line %d)", end)},
		{"end-count", edit(end, `"records":\d+`, `"records":3`), end, fmt.Sprintf("the end record counts 3 records, the trace has %d", end-2)},
		{"end-hash", edit(end, `"trace_hash":"\w+"`, `"trace_hash":"0000000000000000"`), end, "the records hash to"},
		{"end-time", edit(end, `"at_ns":\d+`, `"at_ns":0`), end, "at_ns=0 is before the record before it"},
		{"end-fields", edit(end, `,"records":\d+`, ``), end, "an end record needs records (a count) and trace_hash"},
		{"not-json", "hello\n", 1, "not a trace record"},
		{"data-without-type", edit(call, `"type":"ClientCall",`, ``), call, "data without its type"},
		{"typed-without-data", edit(call, `,"data":\{.*\}\}`, `}`), call, "a ClientCall without its data"},
		{"bad-data", edit(call, `"Xid":\d+`, `"Xid":"one"`), call, "ClientCall data: json: cannot unmarshal"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, tc.name+".jsonl")
			os.WriteFile(p, []byte(tc.trace), 0o644)
			code, _, errs := runCLI("report", p, "--out", filepath.Join(dir, "out-"+tc.name))
			where := p + ":"
			if tc.line > 0 {
				where = fmt.Sprintf("%s:%d: ", p, tc.line)
			}
			if code != 2 || !strings.Contains(errs, where) || !strings.Contains(errs, tc.want) {
				t.Errorf("exit %d %q, want 2, %q and %q", code, errs, where, tc.want)
			}
		})
	}
	// and the trace as written is read back whole
	if code, out, errs := runCLI("report", good, "--out", filepath.Join(dir, "ok")); code != 0 || !strings.Contains(out, fmt.Sprintf("(%d records; verdict from the trace: ok)", end-2)) {
		t.Errorf("good trace: exit %d %s%s", code, out, errs)
	}
}

// 4. zabsim run streams --trace to its file: the trace on disk is the one a kept run
// writes, closed by its end record with the run's events and hash.
func TestRunTraceStreamed(t *testing.T) {
	dir := t.TempDir()
	streamed := filepath.Join(dir, "streamed.jsonl")
	code, out, errs := runCLI("run", "zk-2846", "--trace", streamed, "--json")
	if code != 0 {
		t.Fatalf("exit %d %s", code, errs)
	}
	kept := filepath.Join(dir, "kept.jsonl")
	s, err := scenarios.Builtin("zk-2846")
	if err != nil {
		t.Fatal(err)
	}
	res, err := scenarios.Run(s, scenarios.Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	f, _ := os.Create(kept)
	if err := res.World.WriteJSONL(f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	header, records, _ := strings.Cut(readFile(t, streamed), "\n")
	if records != readFile(t, kept) || !strings.HasPrefix(header, `{"kind":"header","scenario":"zk-2846"`) {
		t.Error("the streamed trace differs from the kept one, or has no header")
	}
	want := fmt.Sprintf(`"events":%d,"trace_hash":"%s"}`, res.Events, res.TraceHash)
	if !strings.HasSuffix(strings.TrimSpace(readFile(t, streamed)), want) || !strings.Contains(out, res.TraceHash) {
		t.Errorf("the end record does not close with %s", want)
	}
}

// explore keeps a window of results, not one per seed: its heap does not grow with --seeds.
// (The schedules are replaced by a stub, so that a million seeds take a second.)
func TestExploreMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("explores a million stub seeds")
	}
	small := explorePeakHeap(t, 10_000)
	large := explorePeakHeap(t, 1_000_000)
	t.Logf("peak heap: %d KB for 10,000 seeds, %d KB for 1,000,000", small/1024, large/1024)
	if large > small+4<<20 {
		t.Errorf("the heap grew from %d KB to %d KB with the seeds", small/1024, large/1024)
	}
}

// explorePeakHeap runs `zabsim explore --seeds n` with stub schedules and returns the
// largest live heap seen along the way.
func explorePeakHeap(t testing.TB, n int) uint64 {
	saved := exploreSeed
	defer func() { exploreSeed = saved }()
	var calls, peak atomic.Uint64
	sample := func() {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		for p := peak.Load(); m.HeapAlloc > p && !peak.CompareAndSwap(p, m.HeapAlloc); p = peak.Load() {
		}
	}
	exploreSeed = func(seed uint64, _ scenarios.ExploreConfig, _ int) (scenarios.Explored, error) {
		if calls.Add(1)%uint64(max(n/8, 1)) == 0 {
			sample()
		}
		return scenarios.Explored{Events: 1}, nil
	}
	code, out, errs := runCLI("explore", "--seeds", fmt.Sprint(n), "--jobs", "2", "--json", "--out", t.TempDir())
	if code != 0 || !strings.Contains(out, fmt.Sprintf(`"schedules":%d`, n)) {
		t.Fatalf("exit %d: %s%s", code, out, errs)
	}
	sample()
	return peak.Load()
}

// BenchmarkExploreSeeds: the exploration's own cost per seed (stub schedules) and its peak
// heap, over growing seed counts: both stay flat.
//
//	go test ./cmd/zabsim -run XXX -bench ExploreSeeds -benchmem
func BenchmarkExploreSeeds(b *testing.B) {
	for _, n := range []int{1_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("seeds=%d", n), func(b *testing.B) {
			var peak uint64
			for range b.N {
				peak = max(peak, explorePeakHeap(b, n))
			}
			b.ReportMetric(float64(peak)/1024, "peak-heap-KB")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/seed")
		})
	}
}

// --report keeps every record, so its default event limit is a tenth of a plain run's.
func TestReportEventLimit(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "long.zab")
	os.WriteFile(f, []byte("ensemble 1\nstart all\nawait leader\nrun 1000000h\n"), 0o644)
	saved := reportMaxEvents
	defer func() { reportMaxEvents = saved }()
	reportMaxEvents = 2000
	code, out, errs := runCLI("run", f, "--report", filepath.Join(dir, "r"), "--json")
	if code != 1 || !strings.Contains(out, "the event limit (2000 events, --max-events)") {
		t.Errorf("exit %d:\n%s%s", code, out, errs)
	}
}
