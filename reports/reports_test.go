package reports

import (
	"bytes"
	"flag"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zabsim/zabsim/scenarios"
	"github.com/zabsim/zabsim/sim"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the golden files in testdata")

func runBuiltin(t *testing.T, name string) *scenarios.Result {
	t.Helper()
	s, err := scenarios.Builtin(name)
	require.NoError(t, err)
	res, err := scenarios.Run(s, scenarios.Options{Seed: 1})
	require.NoError(t, err)
	return res
}

// golden compares got with testdata/name byte for byte, or rewrites it with -rewrite.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *rewrite {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "no golden file (run go test ./reports/ -rewrite)")
	if !bytes.Equal(want, got) {
		bad := filepath.Join(t.TempDir(), name)
		_ = os.WriteFile(bad, got, 0o644)
		t.Fatalf("%s differs from its golden file (got written to %s; if the change is right, run go test ./reports/ -rewrite and review the diff)", name, bad)
	}
}

func view(t *testing.T, recs []sim.Record, name string) View {
	t.Helper()
	for _, v := range Views(recs) {
		if v.Name == name {
			return v
		}
	}
	t.Fatalf("no view %s", name)
	return View{}
}

// Every built-in scenario gets a report, and every file its index links to exists.
func TestEveryBuiltinScenarioGetsAReport(t *testing.T) {
	link := regexp.MustCompile(`\]\(([^)]+)\)`)
	for _, e := range scenarios.List() {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			res := runBuiltin(t, e.Name)
			dir := t.TempDir()
			require.NoError(t, Write(res, dir))
			index, err := os.ReadFile(filepath.Join(dir, "index.md"))
			require.NoError(t, err)
			if res.OK {
				require.Contains(t, string(index), "**Verdict: ok.**")
			} else {
				require.Contains(t, string(index), "**Verdict: FAILED.**")
			}
			for _, m := range link.FindAllStringSubmatch(string(index), -1) {
				_, err := os.Stat(filepath.Join(dir, m[1]))
				require.NoError(t, err, "index.md links to %s", m[1])
			}
			views := Views(res.World.Trace().Records())
			kinds := map[string]int{}
			for _, v := range views {
				kinds[v.Kind]++
			}
			// A long run (epoch-ahead: a thousand elections) pictures the first and the
			// last of each kind, and says so.
			drawn, left := pictured(views)
			for _, kind := range []string{"election", "sync", "broadcast"} {
				files, _ := filepath.Glob(filepath.Join(dir, kind+"-*.png"))
				require.Equal(t, min(kinds[kind], picturedHead+picturedTail), len(files), kind)
				require.Equal(t, kinds[kind]-len(files), left[kind], kind)
				if left[kind] > 0 {
					require.Contains(t, string(index), fmt.Sprintf("Of the run's %d %ss, the first %d and the last %d are pictured",
						kinds[kind], kind, picturedHead, picturedTail))
				}
			}
			for _, v := range drawn {
				f, err := os.Open(filepath.Join(dir, v.Name+".png"))
				require.NoError(t, err)
				_, err = png.Decode(f)
				f.Close()
				require.NoError(t, err, v.Name)
				require.Contains(t, string(index), "("+v.Name+".png)")
				svg, err := os.ReadFile(filepath.Join(dir, v.Name+".svg"))
				require.NoError(t, err)
				require.True(t, bytes.HasPrefix(svg, []byte("<?xml")), v.Name)
			}
			require.Equal(t, 1, kinds["overview"])
			require.NotZero(t, kinds["election"], "every run elects (or tries to)")
			require.Equal(t, len(res.Syncs), kinds["sync"], "one picture per sync decision")
			_, err = os.Stat(filepath.Join(dir, "timeline.txt"))
			require.NoError(t, err)
		})
	}
}

// The pictures are byte-stable: golden files for two scenarios, PNG and SVG.
func TestGoldenPictures(t *testing.T) {
	for _, c := range []struct{ scenario, view string }{
		{"leader-crash-trunc", "overview"},
		{"leader-crash-trunc", "sync-4"},
		{"fresh-five-together", "election-1"},
	} {
		t.Run(c.scenario+"/"+c.view, func(t *testing.T) {
			recs := runBuiltin(t, c.scenario).World.Trace().Records()
			v := view(t, recs, c.view)
			for _, format := range []Format{PNG, SVG} {
				var a, b bytes.Buffer
				require.NoError(t, Timeline(&a, recs, v.Filter, format))
				require.NoError(t, Timeline(&b, recs, v.Filter, format))
				require.True(t, bytes.Equal(a.Bytes(), b.Bytes()), "two drawings of %s differ", c.view)
				golden(t, c.scenario+"-"+c.view+"."+string(format), a.Bytes())
			}
		})
	}
}

// The text timeline and the Mermaid diagram of the TRUNC scenario, as reviewed text.
func TestGoldenText(t *testing.T) {
	recs := runBuiltin(t, "leader-crash-trunc").World.Trace().Records()
	var b bytes.Buffer
	require.NoError(t, Text(&b, recs, Filter{Title: "leader-crash-trunc", Messages: Protocol}))
	golden(t, "leader-crash-trunc-timeline.txt", b.Bytes())

	v := view(t, recs, "sync-4")
	mmd := Mermaid(recs, v.Filter)
	require.Contains(t, mmd, "s2->>s3: TRUNC 0x100000003")
	golden(t, "leader-crash-trunc-sync-4.mmd", []byte(mmd))
}

// A trace written as JSON Lines and read back gives the same records and the same report.
func TestJSONLRoundTrip(t *testing.T) {
	res := runBuiltin(t, "proposal-survives")
	recs := res.World.Trace().Records()
	var jsonl bytes.Buffer
	require.NoError(t, res.World.Trace().WriteJSONL(&jsonl))
	back, err := ReadJSONL(bytes.NewReader(jsonl.Bytes()))
	require.NoError(t, err)
	require.Len(t, back, len(recs))
	for i := range recs {
		require.Equal(t, recs[i].String(), back[i].String(), "record %d", i)
	}
	for _, v := range Views(recs) {
		var a, b bytes.Buffer
		require.NoError(t, Text(&a, recs, v.Filter))
		require.NoError(t, Text(&b, back, v.Filter))
		require.Equal(t, a.String(), b.String(), v.Name)
		require.Equal(t, Mermaid(recs, v.Filter), Mermaid(back, v.Filter), v.Name)
	}
	require.Equal(t, Views(recs), Views(back))

	dir := t.TempDir()
	require.NoError(t, WriteFromTrace(back, dir))
	index, err := os.ReadFile(filepath.Join(dir, "index.md"))
	require.NoError(t, err)
	require.Contains(t, string(index), "**Verdict: unknown.**")
	require.Contains(t, string(index), "recovered from the logs")

	_, err = ReadJSONL(strings.NewReader(`{"at_ns":1,"kind":"teleport","node":1,"peer":-1,"conn":-1}`))
	require.ErrorContains(t, err, "line 1")
	_, err = ReadJSONL(strings.NewReader("{\"at_ns\":1,\"kind\":\"start\",\"node\":1,\"peer\":-1,\"conn\":-1}\nnot json\n"))
	require.ErrorContains(t, err, "line 2")
}

// The filters pick what their names say.
func TestFilters(t *testing.T) {
	recs := runBuiltin(t, "leader-crash-trunc").World.Trace().Records()
	text := func(f Filter) string {
		var b bytes.Buffer
		require.NoError(t, Text(&b, recs, f))
		return b.String()
	}
	msgLines := func(s string) []string {
		var out []string
		for _, l := range strings.Split(s, "\n") {
			if strings.Contains(l, " > ") && strings.Contains(l, "(sent") {
				out = append(out, l)
			}
		}
		return out
	}
	election := msgLines(text(ElectionOnly(0, 10*sim.Millisecond)))
	require.NotEmpty(t, election)
	for _, l := range election {
		require.Contains(t, l, "NOTIFICATION")
	}
	sync := msgLines(text(SyncOnly(2, 3, 10*sim.Second, 0)))
	require.NotEmpty(t, sync)
	for _, l := range sync {
		require.Regexp(t, `(2 > 3|3 > 2)  (FOLLOWERINFO|LEADERINFO|ACKEPOCH|TRUNC|NEWLEADER|ACK|UPTODATE) `, l)
	}
	lost := msgLines(text(BroadcastOf(0x100000004, 0, 0)))
	require.NotEmpty(t, lost)
	for _, l := range lost {
		require.Contains(t, l, "PROPOSAL 0x100000004  LOST")
	}
	require.Empty(t, msgLines(text(Filter{})), "the zero filter shows no messages")
}

// The time axis compresses long quiet stretches and keeps order.
func TestTimeScale(t *testing.T) {
	ms := sim.Millisecond
	busy := []sim.Time{1 * ms, 2 * ms, 3 * ms, 200 * ms, 201 * ms}
	ts := newTimeScale(0, 205*ms, busy, 20*ms, false)
	require.Len(t, ts.gaps(), 1)
	prev := -1.0
	for x := sim.Time(0); x <= 205*ms; x += ms / 4 {
		v := ts.Normalize(0, 0, x.Seconds())
		require.GreaterOrEqual(t, v, prev)
		prev = v
	}
	require.InDelta(t, 0, ts.Normalize(0, 0, 0), 1e-9)
	require.InDelta(t, 1, ts.Normalize(0, 0, (205*ms).Seconds()), 1e-9)
	// the three busy milliseconds get far more than 3/205 of the axis
	require.Greater(t, ts.Normalize(0, 0, (3*ms).Seconds()), 0.2)

	lin := newTimeScale(0, 205*ms, busy, 20*ms, true)
	require.Empty(t, lin.gaps())
	require.InDelta(t, 0.5, lin.Normalize(0, 0, (102500*sim.Microsecond).Seconds()), 1e-9)
}
