package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func runCLI(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestRunBuiltinOK(t *testing.T) {
	code, out, errs := runCLI("run", "leader-crash-trunc")
	if code != 0 {
		t.Fatalf("exit %d, stderr %s", code, errs)
	}
	for _, want := range []string{"scenario leader-crash-trunc (seed 1)", "epoch 2  server 2", "TRUNC", "ok    line", "result: ok"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
}

func TestExitStatuses(t *testing.T) {
	dir := t.TempDir()
	failing := filepath.Join(dir, "fail.zab")
	os.WriteFile(failing, []byte("ensemble 3\nstart all\nawait leader\nexpect leader 1\n"), 0o644)
	bad := filepath.Join(dir, "bad.zab")
	os.WriteFile(bad, []byte("ensemble 3\nstart all\nexplode 2\n"), 0o644)
	for _, tc := range []struct {
		args    []string
		code    int
		errText string
	}{
		{[]string{"run", failing}, 1, ""},
		{[]string{"run", bad}, 2, bad + `:3: unknown command "explode"`},
		{[]string{"run", "no-such-scenario"}, 2, `no built-in scenario "no-such-scenario"`},
		{[]string{"run", filepath.Join(dir, "missing.zab")}, 2, "no such file"},
		{[]string{"run"}, 2, "run takes one scenario"},
		{[]string{"run", "observers", "--seed", "x"}, 2, "invalid value"},
		{[]string{"run", "observers", "--bogus"}, 2, "flag provided but not defined"},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{nil, 2, "usage:"},
	} {
		code, _, errs := runCLI(tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.errText) {
			t.Errorf("%v: exit %d stderr %q, want exit %d and %q", tc.args, code, errs, tc.code, tc.errText)
		}
	}
}

// A file's own `seed N` line is the run's seed unless --seed says otherwise.
func TestSeedLine(t *testing.T) {
	f := filepath.Join(t.TempDir(), "s.zab")
	os.WriteFile(f, []byte("ensemble 3\nseed 9\nstart all\nawait leader\n"), 0o644)
	for _, tc := range []struct {
		args []string
		seed float64
	}{{nil, 9}, {[]string{"--seed", "3"}, 3}, {[]string{"--seed=9"}, 9}} {
		code, out, errs := runCLI(append([]string{"run", f, "--json"}, tc.args...)...)
		var m map[string]any
		if err := json.Unmarshal([]byte(out), &m); err != nil || code != 0 {
			t.Fatalf("%v: exit %d, %v: %s", tc.args, code, err, errs)
		}
		if m["seed"].(float64) != tc.seed {
			t.Errorf("%v: seed %v, want %v", tc.args, m["seed"], tc.seed)
		}
	}
}

// --json prints one object with at least the fields DESIGN.md lists, zxids as hex strings.
func TestJSONFields(t *testing.T) {
	code, out, errs := runCLI("run", "leader-crash-trunc", "--json", "--seed", "3")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var m map[string]any
	dec := json.NewDecoder(strings.NewReader(out))
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	if dec.More() {
		t.Fatal("more than one JSON value on stdout")
	}
	for _, k := range []string{"scenario", "seed", "ok", "events", "virtual_ns", "trace_hash", "leaders", "syncs", "expectations", "violations"} {
		if _, ok := m[k]; !ok {
			t.Errorf("missing field %q", k)
		}
	}
	if m["seed"].(float64) != 3 || m["ok"] != true || m["scenario"] != "leader-crash-trunc" {
		t.Errorf("seed/ok/scenario = %v %v %v", m["seed"], m["ok"], m["scenario"])
	}
	leaders := m["leaders"].([]any)
	l0 := leaders[0].(map[string]any)
	for _, k := range []string{"epoch", "sid", "at_ns"} {
		if _, ok := l0[k]; !ok {
			t.Errorf("leaders[0] lacks %q", k)
		}
	}
	syncs := m["syncs"].([]any)
	last := syncs[len(syncs)-1].(map[string]any)
	for _, k := range []string{"leader", "learner", "mode", "peer_last_zxid", "min_committed", "max_committed", "at_ns"} {
		if _, ok := last[k]; !ok {
			t.Errorf("syncs[] lacks %q", k)
		}
	}
	if z, _ := last["peer_last_zxid"].(string); !strings.HasPrefix(z, "0x") {
		t.Errorf("peer_last_zxid = %v, want a hex string", last["peer_last_zxid"])
	}
	x := m["expectations"].([]any)[0].(map[string]any)
	for _, k := range []string{"line", "text", "ok", "got"} {
		if _, ok := x[k]; !ok {
			t.Errorf("expectations[] lacks %q", k)
		}
	}
}

func TestTraceAndDeterminismFlags(t *testing.T) {
	file := filepath.Join(t.TempDir(), "trace.jsonl")
	code, out, errs := runCLI("run", "diff-after-restart", "--trace", file, "--check-determinism")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(out, "determinism: two runs of seed 1 gave the same") {
		t.Errorf("no determinism line:\n%s", out)
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	n, syncs := 0, 0
	for sc.Scan() {
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("line %d: %v", n+1, err)
		}
		if rec["type"] == "SyncDecided" {
			syncs++
		}
		n++
	}
	if n < 100 || syncs == 0 {
		t.Fatalf("%d records, %d sync decisions: trace looks empty", n, syncs)
	}
}

func TestList(t *testing.T) {
	code, out, _ := runCLI("list")
	if code != 0 || !strings.Contains(out, "leader-crash-trunc") || !strings.Contains(out, "TRUNC") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

// The README's worked example is the real output of its first command.
func TestREADMEExample(t *testing.T) {
	text, block := readmeOutput(t, "$ go run ./cmd/zabsim run leader-crash-trunc")
	if !strings.Contains(strings.SplitN(text, "\n", 6)[3], "go run ./cmd/zabsim run leader-crash-trunc") {
		t.Fatal("README's first command changed: update this test")
	}
	_, out, _ := runCLI("run", "leader-crash-trunc")
	if out != block {
		t.Fatalf("README example is stale:\n--- README\n%s--- actual\n%s", block, out)
	}
}

// --report writes index.md and pictures; `zabsim report` does the same from a saved trace.
func TestReportFlagAndCommand(t *testing.T) {
	dir := t.TempDir()
	trace := filepath.Join(dir, "run.jsonl")
	code, out, errs := runCLI("run", "leader-crash-trunc", "--report", filepath.Join(dir, "r1"), "--trace", trace)
	if code != 0 || !strings.Contains(out, "report: ") {
		t.Fatalf("exit %d: %s %s", code, out, errs)
	}
	index, err := os.ReadFile(filepath.Join(dir, "r1", "index.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(index), "TRUNC") || !strings.Contains(string(index), ".png") {
		t.Errorf("index.md lacks the TRUNC sync or pictures:\n%s", index)
	}
	code, out, errs = runCLI("report", trace, "--out", filepath.Join(dir, "r2"))
	if code != 0 {
		t.Fatalf("report: exit %d: %s", code, errs)
	}
	pngs, _ := filepath.Glob(filepath.Join(dir, "r2", "*.png"))
	if len(pngs) == 0 {
		t.Fatalf("no pictures from the saved trace: %s", out)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"report", trace}, "report takes a trace file and --out DIR"},
		{[]string{"report", filepath.Join(dir, "nope.jsonl"), "--out", dir}, "no such file"},
	} {
		code, _, errs := runCLI(tc.args...)
		if code != 2 || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d %q, want 2 and %q", tc.args, code, errs, tc.want)
		}
	}
	first, _, _ := strings.Cut(readFile(t, trace), "\n")
	bad := filepath.Join(dir, "bad.jsonl")
	os.WriteFile(bad, []byte(first+"\nnot json\n"), 0o644)
	if code, _, errs := runCLI("report", bad, "--out", filepath.Join(dir, "r3")); code != 2 || !strings.Contains(errs, bad+":2: not a trace record") {
		t.Errorf("bad trace: exit %d %q, want 2 naming line 2", code, errs)
	}
}

// run --player and report --player write the run player: one HTML file with the data
// gzipped in it and nothing loaded from elsewhere.
func TestPlayerFlag(t *testing.T) {
	dir := t.TempDir()
	trace := filepath.Join(dir, "run.jsonl")
	live := filepath.Join(dir, "live.html")
	code, out, errs := runCLI("run", "leader-crash-trunc", "--player", live, "--trace", trace)
	if code != 0 || !strings.Contains(out, "player: "+live) {
		t.Fatalf("exit %d: %s %s", code, out, errs)
	}
	saved := filepath.Join(dir, "saved.html")
	code, out, errs = runCLI("report", trace, "--player", saved)
	if code != 0 || !strings.Contains(out, "player: "+saved) || !strings.Contains(out, "verdict from the trace: ok") {
		t.Fatalf("report --player: exit %d: %s %s", code, out, errs)
	}
	for _, f := range []string{live, saved} {
		page := readFile(t, f)
		for _, want := range []string{"<!DOCTYPE html>", `<script id="data" type="application/octet-stream">H4sI`, "DecompressionStream"} {
			if !strings.Contains(page, want) {
				t.Errorf("%s lacks %q", f, want)
			}
		}
		for _, bad := range []string{"http://", "https://", "<link ", " src="} {
			if strings.Contains(strings.ReplaceAll(page, "http://www.w3.org/2000/svg", ""), bad) {
				t.Errorf("%s loads something from elsewhere (%q): the page must open from disk", f, bad)
			}
		}
	}
	// the two players show the same run: the same data, but for how to replay it and
	// the verdict's wording
	a, b := dataOf(t, readFile(t, live)), dataOf(t, readFile(t, saved))
	for _, k := range []string{"replay", "verdict"} {
		delete(a, k)
		delete(b, k)
	}
	if !reflect.DeepEqual(a, b) {
		for k := range a {
			if !reflect.DeepEqual(a[k], b[k]) {
				t.Errorf("the player of the saved trace differs from the live run's in %q", k)
			}
		}
	}
}

// dataOf is the player's data, decoded.
func dataOf(t *testing.T, page string) map[string]any {
	t.Helper()
	_, rest, _ := strings.Cut(page, `<script id="data" type="application/octet-stream">`)
	d, _, _ := strings.Cut(rest, "</script>")
	gz, err := base64.StdEncoding.DecodeString(d)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.NewDecoder(zr).Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A saved trace with clients gives the same porcupine history page as the live run.
func TestReportFromTraceKeepsClientHistory(t *testing.T) {
	dir := t.TempDir()
	trace := filepath.Join(dir, "run.jsonl")
	if code, _, errs := runCLI("run", "stale-read", "--trace", trace, "--report", filepath.Join(dir, "live")); code != 0 {
		t.Fatalf("run: %s", errs)
	}
	if code, _, errs := runCLI("report", trace, "--out", filepath.Join(dir, "saved")); code != 0 {
		t.Fatalf("report: %s", errs)
	}
	live, saved := readFile(t, filepath.Join(dir, "live", "history.html")), readFile(t, filepath.Join(dir, "saved", "history.html"))
	if len(live) < 10000 || live != saved {
		t.Fatalf("history.html: %d bytes live, %d from the saved trace, equal=%v", len(live), len(saved), live == saved)
	}
}

// explore: a correct model passes every schedule (exit 0); with a mutant the failures are
// shrunk into files that `zabsim run` replays, failing the same check; the shards of a
// seed range add up to the whole; --json is one object; bad flags exit 2.
func TestExplore(t *testing.T) {
	dir := t.TempDir()
	code, out, errs := runCLI("explore", "--seeds", "6", "--duration", "5s", "--servers", "3", "--out", dir)
	if code != 0 || !strings.HasPrefix(out, "explored 6 schedules (seeds 1-6, shard 1/1)") || !strings.Contains(out, ": 0 failing") ||
		!strings.Contains(out, "\nexercised: ") || !strings.Contains(out, " syncs DIFF ") {
		t.Fatalf("exit %d:\n%s%s", code, out, errs)
	}
	code, out, errs = runCLI("explore", "--seeds", "10", "--mutant", "ZK-2845", "--out", dir, "--json", "--report")
	var rep exploreReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 1 {
		t.Fatalf("exit %d, %v:\n%s%s", code, err, out, errs)
	}
	if rep.Schedules != 10 || rep.Failing == 0 || len(rep.Failures) != rep.Failing || rep.Leaders < 8 || rep.Syncs["DIFF"] == 0 {
		t.Fatalf("report %+v", rep)
	}
	f := rep.Failures[0]
	if f.FaultsAfter >= f.FaultsBefore || f.File != filepath.Join(dir, fmt.Sprintf("seed-%d.zab", f.Seed)) {
		t.Errorf("failure %+v", f)
	}
	if rep.FirstSeed != f.Seed || rep.FirstWall <= 0 || f.WallSeconds != rep.FirstWall || f.ShrunkLines == 0 ||
		len(rep.Classes) == 0 || rep.Classes[0].FirstSeed != f.Seed || rep.Classes[0].ShrunkLines != f.ShrunkLines {
		t.Errorf("first failure and classes: %+v %+v", rep, f)
	}
	// --shrink-first 1: only the first failure of each class is shrunk
	code, out, errs = runCLI("explore", "--seeds", "10", "--mutant", "ZK-2845", "--out", dir, "--json", "--shrink-first", "1")
	var once exploreReport
	if err := json.Unmarshal([]byte(out), &once); err != nil || code != 1 {
		t.Fatalf("exit %d, %v:\n%s%s", code, err, out, errs)
	}
	shrunk := map[string]int{}
	for _, f := range once.Failures {
		if f.ShrinkRuns > 0 {
			shrunk[f.Class]++
		}
	}
	for _, cl := range once.Classes {
		if shrunk[cl.Class] != 1 {
			t.Errorf("--shrink-first 1: %d failures of class %q shrunk, want 1", shrunk[cl.Class], cl.Class)
		}
	}
	if index, err := os.ReadFile(filepath.Join(f.Report, "index.md")); err != nil || !strings.Contains(string(index), f.Check) {
		t.Errorf("report of seed %d: %v\n%s", f.Seed, err, index)
	}
	code, out, _ = runCLI("run", f.File)
	if code != 1 || !strings.Contains(out, f.Check+": ") {
		t.Errorf("zabsim run %s: exit %d, want 1 and a %s violation:\n%s", f.File, code, f.Check, out)
	}
	var total int
	for _, sh := range []string{"1/2", "2/2"} {
		_, out, _ := runCLI("explore", "--seeds", "5", "--duration", "2s", "--servers", "3", "--shard", sh, "--json")
		var r exploreReport
		json.Unmarshal([]byte(out), &r)
		total += r.Schedules
	}
	if total != 5 {
		t.Errorf("shards 1/2 and 2/2 ran %d schedules, want 5", total)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--seeds", "0"}, "--seeds 0: want at least 1"},
		{[]string{"--duration", "soon"}, `--duration "soon": want a positive duration like 20s`},
		{[]string{"--shard", "3/2"}, `--shard "3/2": want i/n with 1 <= i <= n`},
		{[]string{"--mutant", "ZK-1"}, `unknown mutant "ZK-1"`},
		{[]string{"--fix", "everything"}, `unknown fix "everything"`},
		{[]string{"--servers", "20"}, "servers=20: explore supports 1 to 9 servers"},
		{[]string{"--jobs", "0"}, "--jobs 0: want 1 to 1024"},
		{[]string{"--shrink-first", "-1"}, "--shrink-first -1: want 0 (shrink every failure) or more"},
		{[]string{"extra"}, `explore takes flags only, not "extra"`},
	} {
		code, _, errs := runCLI(append([]string{"explore"}, tc.args...)...)
		if code != 2 || !strings.Contains(errs, tc.want) {
			t.Errorf("explore %v: exit %d %q, want 2 and %q", tc.args, code, errs, tc.want)
		}
	}
}

// shrink: a failing file is cut down to a smaller one that fails the same way; a passing
// file has nothing to shrink.
func TestShrink(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "zk.zab")
	body, err := os.ReadFile("../../scenarios/library/zk-2845-mutant.zab")
	if err != nil {
		t.Fatal(err)
	}
	// without its `expect violation` line the scenario fails ProcessConsistency
	os.WriteFile(src, []byte(strings.Replace(string(body), "expect violation ProcessConsistency\n", "", 1)+"run 5s\ncrash 1\nrun 1s\nrestart 1\n"), 0o644)
	code, out, errs := runCLI("shrink", src)
	want := filepath.Join(dir, "zk.min.zab")
	if code != 0 || !strings.Contains(out, "ProcessConsistency") || !strings.Contains(out, want) {
		t.Fatalf("exit %d (want 0: a smaller failing file):\n%s%s", code, out, errs)
	}
	small, _ := os.ReadFile(want)
	if countLines(string(small)) >= countLines(string(body))+4 || strings.Contains(string(small), "crash 1") {
		t.Errorf("not shrunk:\n%s", small)
	}
	if !strings.Contains(string(small), "\n# Replay: zabsim run "+want+"\n") || !strings.HasSuffix(string(small), "\n") {
		t.Errorf("the shrunk file's replay line, or its last newline:\n%s", small)
	}
	// shrinking the shrunk file again: nothing goes, exit 1, and its replay line names the new file
	again := filepath.Join(dir, "again.zab")
	if code, out, _ := runCLI("shrink", want, "--out", again); code != 1 || !strings.Contains(out, "as small as the shrinker gets it") {
		t.Errorf("shrinking a minimal file: exit %d %s", code, out)
	}
	if b, _ := os.ReadFile(again); !strings.Contains(string(b), "# Replay: zabsim run "+again+"\n") {
		t.Errorf("the refreshed replay line:\n%s", b)
	}
	if code, out, _ := runCLI("run", want); code != 1 || !strings.Contains(out, "ProcessConsistency") {
		t.Errorf("the shrunk file: exit %d\n%s", code, out)
	}
	ok := filepath.Join(dir, "ok.zab")
	os.WriteFile(ok, []byte("ensemble 3\nstart all\nawait leader\n"), 0o644)
	if code, out, _ := runCLI("shrink", ok); code != 0 || !strings.Contains(out, "passes every check") {
		t.Errorf("passing file: exit %d %q", code, out)
	}
	if code, _, errs := runCLI("shrink"); code != 2 || !strings.Contains(errs, "shrink takes one scenario file") {
		t.Errorf("no file: exit %d %q", code, errs)
	}
}

// The README's exploring example: its first failure is what explore prints for that seed.
func TestREADMEExploreExample(t *testing.T) {
	_, block := readmeOutput(t, "$ go run ./cmd/zabsim explore --seeds 20 --mutant ZK-2845")
	lines := strings.SplitN(block, "\n", 4)[:3]
	seed, _, _ := strings.Cut(strings.TrimPrefix(lines[0], "seed "), ":")
	dir := t.TempDir()
	_, out, _ := runCLI("explore", "--first", seed, "--seeds", "1", "--mutant", "ZK-2845", "--out", dir)
	want := strings.Join(lines, "\n") + "\n"
	want = strings.Replace(want, "explore-failures/", dir+"/", 1)
	if !strings.HasPrefix(out, want) {
		t.Fatalf("README explore example is stale:\n--- README\n%s--- actual\n%s", want, out)
	}
}

// readmeOutput returns the README and the output shown after the line command, up to the
// end of its code block.
func readmeOutput(t *testing.T, command string) (readme, output string) {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	start := strings.Index(text, command+"\n")
	if start < 0 {
		t.Fatalf("README lacks %q and its output", command)
	}
	block := text[start+len(command)+1:]
	return text, block[:strings.Index(block, "```")]
}

func TestByCheck(t *testing.T) {
	got := byCheck([]exploreFailure{{Check: "Liveness"}, {Check: "ProcessConsistency"}, {Check: "ProcessConsistency"}, {Check: "StaleRead"}}, func(f exploreFailure) string { return f.Check })
	if want := "ProcessConsistency 2, Liveness 1, StaleRead 1"; got != want {
		t.Errorf("byCheck = %q, want %q", got, want)
	}
}

// bench prints the library's and explore's speed; bad flags exit 2.
func TestBench(t *testing.T) {
	code, out, errs := runCLI("bench", "--seconds", "0.3")
	if code != 0 || !strings.HasPrefix(out, "library: ") || !strings.Contains(out, "\nexplore: ") || !strings.Contains(out, "schedules/s") {
		t.Fatalf("exit %d:\n%s%s", code, out, errs)
	}
	if code, _, errs := runCLI("bench", "--seconds", "0"); code != 2 || !strings.Contains(errs, "--seconds 0: want more than 0") {
		t.Errorf("exit %d %q", code, errs)
	}
}

// run --fix and --mutant act as the scenario's own lines would; unknown names exit 2.
func TestRunFixAndMutantFlags(t *testing.T) {
	if code, out, _ := runCLI("run", "stale-ack-trunc"); code != 0 || !strings.Contains(out, "LeaderLogCompleteness (expected)") {
		t.Fatalf("stale-ack-trunc: exit %d\n%s", code, out)
	}
	// The finding's scenario says what the fix changes (with=/without= expectations): the
	// run with it holds, with no violation.
	code, out, _ := runCLI("run", "stale-ack-trunc", "--fix", "stale-ack")
	if code != 0 || !strings.Contains(out, "violations:\n  none") || !strings.Contains(out, `with=stale-ack  (got 2:"v2"`) {
		t.Errorf("with --fix stale-ack: exit %d (want 0: the write survives, no violation)\n%s", code, out)
	}
	code, out, _ = runCLI("run", "leader-crash-trunc", "--mutant", "ZK-1156")
	if code != 1 || !strings.Contains(out, "CommittedLogDurability") {
		t.Errorf("with --mutant ZK-1156: exit %d\n%s", code, out)
	}
	if code, _, errs := runCLI("run", "leader-crash-trunc", "--fix", "nope"); code != 2 || !strings.Contains(errs, `unknown fix "nope"`) {
		t.Errorf("unknown fix: exit %d %q", code, errs)
	}
}

// An interrupt stops the exploration: the schedules that ran are summed up, exit 130.
func TestExploreInterrupted(t *testing.T) {
	saved := interrupts
	defer func() { interrupts = saved }()
	interrupts = func() (<-chan os.Signal, func()) {
		ch := make(chan os.Signal, 1)
		ch <- os.Interrupt
		return ch, func() {}
	}
	code, out, errs := runCLI("explore", "--seeds", "200", "--servers", "3", "--jobs", "1", "--out", t.TempDir())
	if code != 130 || !strings.Contains(out, "interrupted: ") || !strings.Contains(out, " of 200 schedules ran") {
		t.Fatalf("exit %d:\n%s%s", code, out, errs)
	}
}

// The report says how to run the scenario again: a file by its path, a built-in by its
// name, with the seed and the fixes given on the command line.
func TestReportReplayLine(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "mine.zab")
	os.WriteFile(file, []byte("ensemble 3\nstart all\nawait leader\nexpect leader 3\n"), 0o644)
	if code, _, errs := runCLI("run", file, "--seed", "4", "--report", filepath.Join(dir, "r1")); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if index := readFile(t, filepath.Join(dir, "r1", "index.md")); !strings.Contains(index, "replay with `zabsim run "+file+" --seed 4`") {
		t.Errorf("a file's replay line:\n%s", index)
	}
	if code, _, errs := runCLI("run", "stale-ack-trunc", "--fix", "stale-ack", "--report", filepath.Join(dir, "r2")); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if index := readFile(t, filepath.Join(dir, "r2", "index.md")); !strings.Contains(index, "replay with `zabsim run stale-ack-trunc --seed 1 --fix stale-ack`") {
		t.Errorf("a built-in's replay line:\n%s", index)
	}
}

// A saved trace opens with a header that says what ran: `zabsim report` states the verdict
// from the trace alone (the checker reads its records), and `zabsim run --replay` runs it
// again and says whether it is the same trace.
func TestTraceHeaderVerdictAndReplay(t *testing.T) {
	dir := t.TempDir()
	finding := filepath.Join(dir, "finding.jsonl")
	if code, _, errs := runCLI("run", "dirty-snapshot-trunc", "--trace", finding); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if first := strings.SplitN(readFile(t, finding), "\n", 2)[0]; !strings.HasPrefix(first, `{"kind":"header","scenario":"dirty-snapshot-trunc","source":"# A TRUNC`) {
		t.Fatalf("first line: %.200s", first)
	}
	code, out, errs := runCLI("report", finding, "--out", filepath.Join(dir, "r1"))
	if code != 0 || !strings.Contains(out, "verdict from the trace: ok") {
		t.Fatalf("report: exit %d\n%s%s", code, out, errs)
	}
	index := readFile(t, filepath.Join(dir, "r1", "index.md"))
	if !strings.Contains(index, "**Verdict: ok.**") || !strings.Contains(index, "ProcessConsistency") || !strings.Contains(index, "zabsim run --replay "+finding) {
		t.Errorf("index.md:\n%.2000s", index)
	}
	failing := filepath.Join(dir, "wrong.zab")
	os.WriteFile(failing, []byte("ensemble 3\nstart all\nawait leader\nexpect leader 1\n"), 0o644)
	bad := filepath.Join(dir, "bad.jsonl")
	if code, _, _ := runCLI("run", failing, "--trace", bad); code != 1 {
		t.Fatalf("the wrong expectation: exit %d", code)
	}
	if code, out, _ := runCLI("report", bad, "--out", filepath.Join(dir, "r2")); code != 1 || !strings.Contains(out, "verdict from the trace: FAILED") {
		t.Errorf("report of a failed run: exit %d %s", code, out)
	}
	code, _, errs = runCLI("run", "--replay", finding)
	if code != 0 || !strings.Contains(errs, "the same trace") {
		t.Errorf("replay: exit %d %s", code, errs)
	}
	if code, _, errs := runCLI("run", "--replay", finding, "leader-crash-trunc"); code != 2 || !strings.Contains(errs, "takes no scenario") {
		t.Errorf("replay with a scenario: exit %d %s", code, errs)
	}
	// a header anywhere but the first line
	lines := strings.SplitN(readFile(t, finding), "\n", 3)
	moved := filepath.Join(dir, "moved.jsonl")
	os.WriteFile(moved, []byte(lines[1]+"\n"+lines[0]+"\n"+lines[2]), 0o644)
	if code, _, errs := runCLI("report", moved, "--out", filepath.Join(dir, "r3")); code != 2 || !strings.Contains(errs, ":2: a header record after the first line") {
		t.Errorf("a moved header: exit %d %s", code, errs)
	}
}

// run --seeds sweeps a scenario over a seed range: the failing seeds, by check, the command
// that replays the first; exit 1 on any failure.
func TestRunSeeds(t *testing.T) {
	if code, out, errs := runCLI("run", "leader-crash-trunc", "--seeds", "1-10", "--jobs", "2"); code != 0 || !strings.Contains(out, "seeds 1-10: 10 runs, 0 failed") {
		t.Fatalf("exit %d:\n%s%s", code, out, errs)
	}
	dir := t.TempDir()
	flaky := filepath.Join(dir, "flaky.zab")
	// another session's write, read without a sync: a read may come before the follower applied it
	os.WriteFile(flaky, []byte("ensemble 3\nstart all\nawait leader\nclient A servers={1}\nclient B servers={2}\nA create /x \"1\"\nB get /x\nexpect result B = \"1\"\n"), 0o644)
	code, out, _ := runCLI("run", flaky, "--seeds", "120-130", "--json")
	var rep sweepReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 1 {
		t.Fatalf("exit %d %v:\n%s", code, err, out)
	}
	if rep.Runs != 11 || len(rep.Failed) == 0 || rep.ByCheck["expectation"] != len(rep.Failed) || !strings.HasPrefix(rep.Replay, "zabsim run "+flaky+" --seed ") {
		t.Errorf("report %+v", rep)
	}
	for _, bad := range [][]string{{"--seeds", "5-1"}, {"--seeds", "0-3"}, {"--seeds", "x"}, {"--seeds", "1-3", "--trace", "t.jsonl"}} {
		if code, _, errs := runCLI(append([]string{"run", "leader-crash-trunc"}, bad...)...); code != 2 || errs == "" {
			t.Errorf("%v: exit %d %q", bad, code, errs)
		}
	}
}

// Shards run apart and merged give the summary of one unsharded run: the same counts, the
// same failures in seed order (only the wall time differs).
func TestMergeEqualsUnsharded(t *testing.T) {
	dir := t.TempDir()
	args := []string{"explore", "--seeds", "20", "--servers", "3", "--duration", "5s", "--mutant", "ZK-2845", "--shrink-runs", "0", "--out", dir, "--json"}
	_, whole, _ := runCLI(args...)
	var files []string
	for i := 1; i <= 3; i++ {
		_, out, errs := runCLI(append(args, "--shard", fmt.Sprintf("%d/3", i))...)
		f := filepath.Join(dir, fmt.Sprintf("shard-%d.json", i))
		if err := os.WriteFile(f, []byte(out), 0o644); err != nil || out == "" {
			t.Fatalf("shard %d: %v %s", i, err, errs)
		}
		files = append(files, f)
	}
	code, merged, errs := runCLI(append([]string{"merge", "--json"}, files...)...)
	var a, b exploreReport
	if err := json.Unmarshal([]byte(whole), &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(merged), &b); err != nil {
		t.Fatalf("merge: exit %d %v %s", code, err, errs)
	}
	if a.Failing == 0 || code != 1 {
		t.Fatalf("want failures to merge (the mutant): %d, exit %d", a.Failing, code)
	}
	a.Seconds, b.Seconds, a.Shard, b.Shard, a.FirstWall, b.FirstWall = 0, 0, "", "", 0, 0
	for _, r := range []*exploreReport{&a, &b} {
		for i := range r.Classes {
			r.Classes[i].FirstWall = 0
		}
		for i := range r.Failures {
			r.Failures[i].WallSeconds = 0
		}
	}
	if !reflect.DeepEqual(a, b) {
		t.Errorf("merged\n%+v\nunsharded\n%+v", b, a)
	}
	if code, _, errs := runCLI("merge", files[0], files[2]); code != 2 || !strings.Contains(errs, "shards 2 of 3 are missing") {
		t.Errorf("a missing shard: exit %d %q", code, errs)
	}
	if code, _, errs := runCLI("merge", files[0], files[0], files[1], files[2]); code != 2 || !strings.Contains(errs, "shard 1/3 twice") {
		t.Errorf("a shard twice: exit %d %q", code, errs)
	}
}

// Triage: failures grouped by signature, the unexplained ones first, then by count.
func TestBySignature(t *testing.T) {
	fs := []exploreFailure{
		{Seed: 3, Signature: "ProcessConsistency · TRUNC · crash", Class: "dirty snapshot"},
		{Seed: 5, Signature: "ProcessConsistency · TRUNC · crash", Class: "dirty snapshot"},
		{Seed: 7, Signature: "Liveness · DIFF · partition", Class: "unclassified"},
		{Seed: 9, Signature: "ProcessConsistency · TRUNC · crash", Class: "stale ACK"},
	}
	want := "by signature:\n" +
		"      1  Liveness · DIFF · partition  [unclassified]  e.g. seed 7\n" +
		"      2  ProcessConsistency · TRUNC · crash  [dirty snapshot]  e.g. seed 3\n" +
		"      1  ProcessConsistency · TRUNC · crash  [stale ACK]  e.g. seed 9\n"
	if got := bySignature(fs); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// The commands that run schedule after schedule get the larger GOGC; a run, which may keep
// every record, does not.
func TestGCPercent(t *testing.T) {
	for args, want := range map[string]int{"explore --seeds 5": 800, "shrink f.zab": 800, "bench": 400,
		"run leader-crash-trunc --report d": 400, "report t.jsonl --out d": 400, "": 400} {
		if got := gcPercent(strings.Fields(args)); got != want {
			t.Errorf("%q: %d, want %d", args, got, want)
		}
	}
}
