package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
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
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(readme)
	if !strings.Contains(strings.SplitN(text, "\n", 6)[3], "go run ./cmd/zabsim run leader-crash-trunc") {
		t.Fatal("README's first command changed: update this test")
	}
	start := strings.Index(text, "$ go run ./cmd/zabsim run leader-crash-trunc\n")
	if start < 0 {
		t.Fatal("README lacks the worked example's output")
	}
	block := text[start:]
	block = block[strings.Index(block, "\n")+1:]
	block = block[:strings.Index(block, "```")]
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
	if code, _, errs := runCLI("report", bad, "--out", filepath.Join(dir, "r3")); code != 2 || !strings.Contains(errs, "line 2") {
		t.Errorf("bad trace: exit %d %q, want 2 naming line 2", code, errs)
	}
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
