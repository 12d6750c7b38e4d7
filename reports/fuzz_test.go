package reports

import (
	"bytes"
	"testing"
	"time"

	"github.com/zabsim/zabsim/checker"
	"github.com/zabsim/zabsim/scenarios"
)

// fuzzTraceSources are small runs whose traces seed FuzzReadTrace: an election, a client's
// calls and watches, a crash with a TRUNC sync, and a SNAP to an observer. (Small: the
// fuzzer minimizes every input that finds new code, at a cost that grows with its size.)
var fuzzTraceSources = []string{
	"ensemble 1\nstart all\nawait leader\nclient A servers=1\nA create /x \"v\"\nA get /x watch\nA set /x \"w\"\nA delete /x version=1\n",
	"ensemble 3\nstart all\nawait leader\nlet L = leader\nwrite 2\npartition L -> *\nwrite 1 via=L nowait\nrun 100ms\ncrash L\nawait leader\nheal\nrestart L\nawait synced L\n",
	"ensemble 1 observers=1\nconfig snapCount=2\nstart all\nawait leader\nwrite 2\ncrash 2\nwrite 4\nrestart 2\nawait synced 2\n",
}

// fuzzTraces are the traces of fuzzTraceSources as `zabsim run --trace` writes them.
func fuzzTraces(t testing.TB) [][]byte {
	var out [][]byte
	for _, src := range fuzzTraceSources {
		s, err := scenarios.Parse("seed.zab", src)
		if err != nil {
			t.Fatal(err)
		}
		res, err := scenarios.Run(s, scenarios.Options{Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := res.World.WriteJSONL(&b); err != nil {
			t.Fatal(err)
		}
		out = append(out, b.Bytes())
	}
	return out
}

// FuzzReadTrace: whatever the bytes, `zabsim report` answers with a line and a reason, or
// with a report, and never panics. The hash is not checked here, so that edited records
// reach the story, the pictures and the checker behind the reader.
//
//	go test ./reports -run XXX -fuzz FuzzReadTrace -fuzztime 5m -fuzzminimizetime 10s
func FuzzReadTrace(f *testing.F) {
	for _, tr := range fuzzTraces(f) {
		f.Add(tr)
		lines := bytes.SplitAfter(tr, []byte("\n"))
		f.Add(bytes.Join(lines[:len(lines)/2], nil))                                     // cut at a line
		f.Add(tr[:len(tr)/3])                                                            // cut in a line
		f.Add(bytes.Replace(tr, []byte(`"Phase":3`), []byte(`"Phase":9`), 1))            // out-of-range phase
		f.Add(bytes.Replace(tr, []byte(`BROADCAST epoch`), []byte(`PHASE(9) epoch`), 1)) // and its text
	}
	f.Add([]byte(""))
	f.Add([]byte("\n"))
	f.Add([]byte(`{"at_ns":0,"kind":"end","node":-1,"peer":-1,"conn":-1,"records":0,"trace_hash":"6a09e667f3bcc908"}` + "\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tf, err := readTrace(bytes.NewReader(data), false)
		if err != nil {
			te, ok := err.(*TraceError)
			if !ok || te.Line < 1 || te.Msg == "" {
				t.Fatalf("error %T %v: want a *TraceError with a line and a reason", err, err)
			}
			if n := bytes.Count(data, []byte("\n")) + 1; te.Line > n+1 {
				t.Fatalf("error at line %d of %d: %v", te.Line, n, err)
			}
			return
		}
		// What the reader accepts, the report draws (SVG: the same drawing as PNG) and
		// the checker judges.
		// (an error is an answer too: exit 2 with it)
		st := newStory(tf.Records, tf.End.At)
		st.linTimeout = 20 * time.Millisecond
		st.render(nil, []Format{SVG})
		checker.Check(tf.Records, checker.Options{Liveness: true, LinearizabilityTimeout: 20 * time.Millisecond})
	})
}
