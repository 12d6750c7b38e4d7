package sim

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// workload runs a random mix of sends, timers, partitions, clogs, resets, pauses and
// crashes over 4 nodes, all drawn from the run's "workload" stream, and returns the trace.
// change, if not nil, may rewrite the payload of send number i.
func workload(t testing.TB, cfg Config, change func(i int) msg) *Trace {
	w, rs := newTestWorld(t, cfg, 1, 2, 3, 4)
	rng := w.Stream("workload")
	ids := []NodeID{1, 2, 3, 4}
	var conns []ConnID
	for _, a := range ids {
		for _, b := range ids {
			if a < b {
				conns = append(conns, w.Dial(a, b))
			}
		}
	}
	sent := 0
	for step := 0; step < 800; step++ {
		switch op := rng.IntN(40); {
		case op < 25:
			c := conns[len(conns)-1-rng.IntN(6)] // recent connections are likelier to live
			from := w.Peer(c, ids[rng.IntN(4)])
			m := msg(sent)
			if change != nil {
				m = change(sent)
			}
			if w.Send(c, from, m) {
				sent++
			} else if w.IsUp(from) {
				conns = append(conns, w.Dial(from, w.Peer(c, from))) // reconnect
			}
		case op < 30:
			id := ids[rng.IntN(4)]
			if w.IsUp(id) {
				w.SetTimer(id, rng.IntN(3), Time(rng.IntN(20))*Millisecond)
			}
		case op == 30:
			a, b := ids[rng.IntN(4)], ids[rng.IntN(4)]
			require.NoError(t, w.Partition([]NodeID{a}, []NodeID{b}, rng.IntN(2) == 0))
		case op == 31:
			w.HealAll()
		case op == 32:
			a, b := ids[rng.IntN(4)], ids[rng.IntN(4)]
			require.NoError(t, w.Clog([]NodeID{a}, []NodeID{b}, false, w.Now()+Time(rng.IntN(50))*Millisecond))
		case op == 33:
			require.NoError(t, w.ResetConn(conns[rng.IntN(len(conns))]))
		case op == 34:
			id := ids[rng.IntN(4)]
			switch {
			case !w.IsUp(id):
				require.NoError(t, w.Restart(id))
			case w.IsPaused(id):
				require.NoError(t, w.Resume(id))
			case rng.IntN(2) == 0:
				require.NoError(t, w.Pause(id))
			default:
				require.NoError(t, w.Crash(id))
			}
		case op >= 35:
			a, b := ids[rng.IntN(4)], ids[rng.IntN(4)]
			if a != b && w.IsUp(a) {
				conns = append(conns, w.Dial(a, b))
			}
		}
		w.RunFor(Time(rng.IntN(3000)) * Microsecond)
	}
	w.RunFor(Minute)
	got := 0
	for _, r := range rs {
		got += len(r.only("recv"))
	}
	require.Greater(t, sent, 150, "the workload should send messages")
	require.Greater(t, got, 100, "the workload should deliver messages")
	return w.Trace()
}

func TestSameSeedSameTraceHash(t *testing.T) {
	a := workload(t, Config{Seed: 11}, nil)
	b := workload(t, Config{Seed: 11}, nil)
	require.Equal(t, a.Hash(), b.Hash())
	require.Equal(t, a.Len(), b.Len())
	require.Greater(t, a.Len(), 1000)
	require.Len(t, a.Records(), a.Len())
	require.Len(t, a.HashString(), 16)
	require.Nil(t, FirstDifference(a, b))

	hashes := map[uint64]uint64{}
	for seed := uint64(1); seed <= 6; seed++ {
		h := workload(t, Config{Seed: seed}, nil).Hash()
		prev, dup := hashes[h]
		require.False(t, dup, "seeds %d and %d give the same hash", prev, seed)
		hashes[h] = seed
	}
}

func TestNoTraceKeepsTheHash(t *testing.T) {
	a := workload(t, Config{Seed: 3}, nil)
	b := workload(t, Config{Seed: 3, NoTrace: true}, nil)
	require.Equal(t, a.Hash(), b.Hash())
	require.Equal(t, a.Len(), b.Len())
	require.Empty(t, b.Records())
}

// NoHash runs the same run without hashing it (explore's schedules): the same records
// reach the trace, and the hash stays at 0.
func TestNoHashSkipsOnlyTheHash(t *testing.T) {
	a := workload(t, Config{Seed: 3}, nil)
	b := workload(t, Config{Seed: 3, NoHash: true}, nil)
	require.NotZero(t, a.Hash())
	require.Zero(t, b.Hash())
	require.Equal(t, a.Len(), b.Len())
	require.Equal(t, a.Records(), b.Records())
}

func TestCheckDeterminism(t *testing.T) {
	require.NoError(t, CheckDeterminism(func() *Trace { return workload(t, Config{Seed: 5}, nil) }))

	// A run that is not a pure function of its seed: the second run changes send 150.
	runs := 0
	var first *Trace
	err := CheckDeterminism(func() *Trace {
		runs++
		n := runs
		tr := workload(t, Config{Seed: 5}, func(i int) msg {
			if n == 2 && i == 150 {
				return msg(-1)
			}
			return msg(i)
		})
		if n == 1 {
			first = tr
		}
		return tr
	})
	require.Equal(t, 2, runs)
	var div *Divergence
	require.True(t, errors.As(err, &div), "want a *Divergence, got %v", err)
	want := -1
	for i, r := range first.Records() {
		if r.Kind == RecSend && r.Data == Message(msg(150)) {
			want = i
			break
		}
	}
	require.Positive(t, want)
	require.Equal(t, want, div.Index)
	rec := first.Records()[want]
	require.Equal(t, rec.String(), div.A)
	prefix := strconv.FormatInt(int64(rec.At), 10) + " send " + strconv.Itoa(int(rec.Node)) + " " + strconv.Itoa(int(rec.Peer)) + " " + strconv.Itoa(int(rec.Conn))
	require.Equal(t, prefix+" m150", div.A)
	require.Equal(t, prefix+" m-1", div.B)
	require.Contains(t, err.Error(), "runs diverge at record "+strconv.Itoa(want))

	// Without kept records, the divergence still shows, by hash.
	runs = 0
	err = CheckDeterminism(func() *Trace {
		runs++
		n := runs
		return workload(t, Config{Seed: 5, NoTrace: true}, func(i int) msg {
			if n == 2 && i == 150 {
				return msg(-1)
			}
			return msg(i)
		})
	})
	require.True(t, errors.As(err, &div))
	require.Contains(t, div.A, "<hash ")
	require.Contains(t, div.B, "<hash ")
	require.NotEqual(t, div.A, div.B)
}

func TestFirstDifferenceOnLength(t *testing.T) {
	short := func(extra bool) *Trace {
		w, _ := newTestWorld(t, fixed(1, Millisecond), 1, 2)
		c := w.Dial(1, 2)
		w.Send(c, 1, msg(1))
		if extra {
			w.Send(c, 1, msg(2))
		}
		w.RunFor(Second)
		return w.Trace()
	}
	a, b := short(false), short(true)
	d := FirstDifference(a, b)
	require.NotNil(t, d)
	// a: start, start, dial, send m1, accept, deliver m1. b sends m2 right after m1.
	require.Equal(t, 4, d.Index)
	require.Equal(t, "1000000 accept 2 1 0", d.A)
	require.Equal(t, "0 send 1 2 0 m2", d.B)
	d = FirstDifference(short(true), short(true))
	require.Nil(t, d)
	// A prefix: the shorter run ends.
	w, _ := newTestWorld(t, fixed(1, Millisecond), 1, 2)
	d = FirstDifference(a, w.Trace())
	require.Equal(t, &Divergence{Index: 2, A: "0 dial 1 2 0", B: "<end>"}, d)
}

// proposal is a typed payload, as the model's records are.
type proposal struct {
	Zxid  uint64 `json:"zxid"`
	Epoch int    `json:"epoch"`
}

func (p proposal) AppendTo(b []byte) []byte {
	return strconv.AppendUint(append(b, "proposal zxid="...), p.Zxid, 16)
}
func (p proposal) TypeName() string { return "proposal" }

func TestWriteJSONL(t *testing.T) {
	w, _ := newTestWorld(t, fixed(1, Millisecond), 1, 2)
	c := w.Dial(1, 2)
	w.Send(c, 1, msg(7))
	w.RunFor(Second)
	w.Record(2, proposal{Zxid: 0x100000001, Epoch: 1})
	var buf bytes.Buffer
	require.NoError(t, w.Trace().WriteJSONL(&buf))

	type line struct {
		At   *int64          `json:"at_ns"`
		Kind string          `json:"kind"`
		Node *int32          `json:"node"`
		Peer *int32          `json:"peer"`
		Conn *int32          `json:"conn"`
		Text string          `json:"text"`
		Type string          `json:"type"`
		Data json.RawMessage `json:"data"`
	}
	var lines []line
	sc := bufio.NewScanner(&buf)
	for sc.Scan() {
		var l line
		require.NoError(t, json.Unmarshal(sc.Bytes(), &l), "line %q", sc.Text())
		require.NotNil(t, l.At)
		require.NotNil(t, l.Node)
		require.NotNil(t, l.Peer)
		require.NotNil(t, l.Conn)
		lines = append(lines, l)
	}
	require.NoError(t, sc.Err())
	require.Len(t, lines, w.Trace().Len()+1, "the records, then the closing line")
	kinds := []string{}
	for _, l := range lines {
		kinds = append(kinds, l.Kind)
	}
	require.Equal(t, []string{"start", "start", "dial", "send", "accept", "deliver", "model", "end"}, kinds)

	send := lines[3]
	require.Equal(t, int64(0), *send.At)
	require.Equal(t, int32(1), *send.Node)
	require.Equal(t, int32(2), *send.Peer)
	require.Equal(t, int32(c), *send.Conn)
	require.Equal(t, "m7", send.Text)
	require.Empty(t, send.Type, "an untyped payload has only its text")
	require.Nil(t, send.Data)

	deliver := lines[5]
	require.Equal(t, int64(Millisecond), *deliver.At)
	require.Equal(t, int32(2), *deliver.Node)
	require.Equal(t, int32(1), *deliver.Peer)

	model := lines[6]
	require.Equal(t, int64(Second), *model.At)
	require.Equal(t, int32(-1), *model.Peer)
	require.Equal(t, int32(-1), *model.Conn)
	require.Equal(t, "proposal zxid=100000001", model.Text)
	require.Equal(t, "proposal", model.Type)
	require.JSONEq(t, `{"zxid":4294967297,"epoch":1}`, string(model.Data))

	start := lines[0]
	require.Equal(t, int32(-1), *start.Peer)
	require.Empty(t, start.Text)

	// The closing line: the last record's time, the count and the hash.
	var end TraceEnd
	require.NoError(t, json.Unmarshal([]byte(strings.Split(strings.TrimSpace(buf2(t, w)), "\n")[7]), &end))
	require.Equal(t, TraceEnd{At: Second, Kind: EndKind, Node: -1, Peer: -1, Conn: -1, Records: 7, Hash: w.Trace().HashString()}, end)
}

// buf2 is the world's trace as World.WriteJSONL writes it.
func buf2(t *testing.T, w *World) string {
	var b bytes.Buffer
	require.NoError(t, w.Trace().WriteJSONL(&b))
	return b.String()
}

// A writer attached to a running trace writes the same lines as WriteJSONL afterwards, and
// World.WriteJSONL closes with the world's time and events.
func TestJSONLWriterStreams(t *testing.T) {
	w := MustWorld(Config{Seed: 3, NoTrace: true})
	var streamed bytes.Buffer
	jw := NewJSONLWriter(&streamed)
	require.NoError(t, jw.Attach(w.Trace()))
	kept := MustWorld(Config{Seed: 3})
	for _, x := range []*World{w, kept} {
		for _, id := range []NodeID{1, 2} {
			require.NoError(t, x.Add(id, &recorder{w: x, id: id}))
			require.NoError(t, x.Start(id))
		}
		c := x.Dial(1, 2)
		for i := range 3000 { // several batches
			x.Send(c, 1, msg(i))
		}
		x.Record(2, proposal{Zxid: 7, Epoch: 1})
		x.RunFor(2 * Second)
	}
	require.NoError(t, jw.End(w.Trace(), w.Now(), w.Events()))
	var written bytes.Buffer
	require.NoError(t, kept.WriteJSONL(&written))
	require.Equal(t, written.String(), streamed.String())
	require.Contains(t, streamed.String(), fmt.Sprintf(`"events":%d,"trace_hash":"%s"}`, w.Events(), w.Trace().HashString()))
	require.Error(t, jw.Attach(w.Trace()), "attached after records came")
	require.ErrorContains(t, w.WriteJSONL(&written), "NoTrace")
}

func TestObserversSeeEveryRecord(t *testing.T) {
	w, _ := newTestWorld(t, fixed(1, Millisecond))
	var seen []string
	w.Trace().Observers = append(w.Trace().Observers, func(r *Record) { seen = append(seen, r.String()) })
	require.NoError(t, w.Add(1, &recorder{w: w, id: 1}))
	require.NoError(t, w.Add(2, &recorder{w: w, id: 2}))
	require.NoError(t, w.Start(1))
	require.NoError(t, w.Start(2))
	c := w.Dial(1, 2)
	w.Send(c, 1, msg(3))
	w.RunFor(Second)
	var want []string
	for _, r := range w.Trace().Records() {
		want = append(want, r.String())
	}
	require.Equal(t, want, seen)
	require.Equal(t, []string{"0 start 1 -1 -1", "0 start 2 -1 -1", "0 dial 1 2 0", "0 send 1 2 0 m3", "1000000 accept 2 1 0", "1000000 deliver 2 1 0 m3"}, seen)
}

// TestObserverMayAddRecords: an observer that records something itself (as a checker
// reporting a violation does) neither loses nor garbles the record the others are shown.
func TestObserverMayAddRecords(t *testing.T) {
	w, _ := newTestWorld(t, fixed(1, Millisecond), 1, 2)
	var first, second []string
	tr := w.Trace()
	tr.Observers = append(tr.Observers,
		func(r *Record) {
			first = append(first, r.String())
			if r.Kind == RecDeliver {
				w.Record(r.Node, text("seen "+r.Data.(msg).String()))
			}
		},
		func(r *Record) { second = append(second, r.String()) })
	c := w.Dial(1, 2)
	w.Send(c, 1, msg(4))
	w.RunFor(Second)
	want := []string{"0 dial 1 2 0", "0 send 1 2 0 m4", "1000000 accept 2 1 0", "1000000 deliver 2 1 0 m4", "1000000 model 2 -1 -1 seen m4"}
	require.Equal(t, want, first)
	// The second observer sees the nested record first (it was added during the first
	// observer's call), then the delivery, intact.
	require.Equal(t, []string{"0 dial 1 2 0", "0 send 1 2 0 m4", "1000000 accept 2 1 0", "1000000 model 2 -1 -1 seen m4", "1000000 deliver 2 1 0 m4"}, second)
}

// TestBatchObserver: a batch observer gets every record once, in order, with its index,
// in batches of BatchSize and the rest at Flush, also when it (or a per-record observer)
// appends records meanwhile: those go into a later batch.
func TestBatchObserver(t *testing.T) {
	w, _ := newTestWorld(t, fixed(1, Millisecond), 1, 2)
	tr := w.Trace()
	var got []string
	var idx []int
	batches := 0
	before := tr.Len() // the servers' start records
	tr.AddBatchObserver(func(first int, recs []Record) {
		batches++
		require.LessOrEqual(t, len(recs), BatchSize)
		for k := range recs {
			idx = append(idx, first+k)
			got = append(got, recs[k].String())
			if recs[k].Kind == RecDeliver && k%2 == 0 {
				w.Record(recs[k].Node, text("batch saw "+recs[k].Data.(msg).String()))
			}
		}
	})
	tr.Observers = append(tr.Observers, func(r *Record) {
		if r.Kind == RecSend && r.Data.(msg)%3 == 0 {
			w.Record(r.Node, text("saw "+r.Data.(msg).String()))
		}
	})
	c := w.Dial(1, 2)
	for k := 0; k < 1500; k++ {
		w.Send(c, 1, msg(k))
	}
	w.RunFor(Second)
	full := batches
	require.GreaterOrEqual(t, full, 3, "full batches before any flush")
	tr.Flush()
	tr.Flush() // the records the observer added at the first flush
	tr.Flush() // nothing left: no call
	require.Equal(t, full+2, batches)
	want := []string{}
	for _, r := range tr.Records()[before:] {
		want = append(want, r.String())
	}
	require.Equal(t, len(want), len(got))
	require.True(t, slices.Equal(want, got), "the batches differ from the records")
	for k := range idx {
		require.Equal(t, before+k, idx[k])
	}
	require.Greater(t, len(want), 3*BatchSize)
}

func TestRecordKindNames(t *testing.T) {
	for k := RecStart; k <= RecModel; k++ {
		require.NotContains(t, k.String(), "kind", "kind %d has no name", k)
	}
	require.Equal(t, "kind200", RecordKind(200).String())
	require.Equal(t, "kind0", RecordKind(0).String())
}

// text is a payload given by its canonical text.
type text string

func (x text) AppendTo(b []byte) []byte { return append(b, x...) }

func hashOf(recs ...Record) uint64 {
	var t Trace
	t.init()
	for _, r := range recs {
		t.Add(r)
	}
	return t.Hash()
}

// TestTraceHashCoversTheCanonicalForm: records whose canonical forms differ in any one
// field hash differently; records with equal canonical forms hash alike, whatever the
// payload's Go type.
func TestTraceHashCoversTheCanonicalForm(t *testing.T) {
	base := Record{At: 5 * Millisecond, Kind: RecSend, Node: 1, Peer: 2, Conn: 3, Data: text("proposal 0x100000001")}
	variants := []Record{base}
	change := func(f func(r *Record)) {
		r := base
		f(&r)
		variants = append(variants, r)
	}
	change(func(r *Record) { r.At++ })
	change(func(r *Record) { r.At = -r.At })
	change(func(r *Record) { r.Kind = RecDeliver })
	change(func(r *Record) { r.Node = 2; r.Peer = 1 })
	change(func(r *Record) { r.Node = -1 })
	change(func(r *Record) { r.Peer = 3; r.Conn = 2 })
	change(func(r *Record) { r.Conn = -1 })
	change(func(r *Record) { r.Data = nil })
	change(func(r *Record) { r.Data = text("") })
	change(func(r *Record) { r.Data = text("proposal 0x100000002") }) // last byte
	change(func(r *Record) { r.Data = text("Proposal 0x100000001") }) // first byte
	change(func(r *Record) { r.Data = text("proposal 0x100000001\x00") })
	change(func(r *Record) { r.Data = text("proposal") })  // exactly 8 bytes
	change(func(r *Record) { r.Data = text("proposa") })   // 7
	change(func(r *Record) { r.Data = text("proposal ") }) // 9
	seen := map[uint64]string{}
	for _, r := range variants {
		h := hashOf(r)
		prev, dup := seen[h]
		require.False(t, dup, "%q and %q hash alike", prev, r.String())
		seen[h] = r.String()
	}
	// Equal canonical forms, different Go payloads: the same hash.
	a := base
	a.Data = msg(42)
	b := base
	b.Data = text("m42")
	require.Equal(t, a.String(), b.String())
	require.Equal(t, hashOf(a), hashOf(b))
	// Whatever lies in the buffer beyond a short text does not count.
	short := Record{Kind: RecModel, Data: text("abc")}
	require.Equal(t,
		hashRecord(hashSeed, &short, []byte("abcXXXXX")[:3]),
		hashRecord(hashSeed, &short, []byte("abcYYYYYZZ")[:3]))
	require.Equal(t,
		hashRecord(hashSeed, &short, []byte("abcXXXXX")[:3]),
		hashRecord(hashSeed, &short, []byte("abc")[:3:3]), "the short path and the byte loop agree")
	// Order and record boundaries count.
	x, y := base, base
	y.At++
	require.NotEqual(t, hashOf(x, y), hashOf(y, x))
	require.NotEqual(t, hashOf(x), hashOf(x, x))
}

// TestTraceHashIsStable pins the hash of a small fixed run: it must be the same on every
// machine and every Go version, so a change here is a change to what runs compare by.
func TestTraceHashIsStable(t *testing.T) {
	w, _ := newTestWorld(t, fixed(1, Millisecond), 1, 2)
	c := w.Dial(1, 2)
	w.Send(c, 1, msg(1))
	w.SetTimer(2, 1, 5*Millisecond)
	w.RunFor(Second)
	require.Equal(t, 7, w.Trace().Len())
	require.Equal(t, "8c16606a19ded297", w.Trace().HashString())
	require.Equal(t, "6a09e667f3bcc908", MustWorld(Config{}).Trace().HashString())
}

// A batch observer that appends more than a batch of records while it is being flushed
// still has them handed over with the next record, not only at an explicit Flush.
func TestBatchObserverAppendingABatch(t *testing.T) {
	w, _ := newTestWorld(t, fixed(1, Millisecond), 1)
	tr := w.Trace()
	seen, calls := 0, 0
	tr.AddBatchObserver(func(first int, recs []Record) {
		calls++
		seen += len(recs)
		if calls == 1 {
			for k := 0; k < BatchSize+5; k++ {
				w.Record(1, text("nested"))
			}
		}
	})
	for k := 0; k < BatchSize; k++ {
		w.Record(1, text("outer"))
	}
	require.Equal(t, 1, calls)
	w.Record(1, text("one more"))
	require.Equal(t, 2, calls, "the oversized batch was not handed over")
	require.Equal(t, 2*BatchSize+6, seen)
}

// Explanations (RecExplain) are kept and counted but not hashed: adding them changes no
// run's identity.
func TestExplainRecordsAreNotHashed(t *testing.T) {
	a, b := NewTrace(true), NewTrace(true)
	for _, tr := range []*Trace{a, b} {
		tr.Add(Record{At: 1, Kind: RecStart, Node: 1, Peer: -1, Conn: -1})
	}
	b.Add(Record{At: 1, Kind: RecExplain, Node: 1, Peer: -1, Conn: -1, Data: timerText(7)})
	for _, tr := range []*Trace{a, b} {
		tr.Add(Record{At: 2, Kind: RecCrash, Node: 1, Peer: -1, Conn: -1})
	}
	if a.Hash() != b.Hash() {
		t.Errorf("an explanation changed the hash: %s vs %s", a.HashString(), b.HashString())
	}
	if b.Len() != 3 || len(b.Records()) != 3 || b.Records()[1].Kind.String() != "explain" {
		t.Errorf("the explanation was not kept: %d records", b.Len())
	}
}

// counted is a payload that counts how often its text is formatted.
type counted struct {
	s string
	n *int
}

func (c *counted) AppendTo(b []byte) []byte { *c.n++; return append(b, c.s...) }

// A payload recorded again (a message sent, then delivered) is formatted once for the
// hash, and the hash is the one of its text formatted every time: the same text under
// another identity, two payloads that share a slot of the table one after the other, and
// a value payload.
func TestTraceFormatsAPayloadOnce(t *testing.T) {
	n := 0
	a := &counted{"proposal 0x100000001", &n}
	w := MustWorld(Config{Seed: 1})
	for range 3 {
		w.Record(1, a)
	}
	require.Equal(t, 1, n, "a payload recorded three times was formatted %d times", n)
	// The reference: the same texts, each in a payload of its own.
	ref := NewTrace(false)
	for range 3 {
		ref.Add(Record{Kind: RecModel, Node: 1, Peer: -1, Conn: -1, Data: text(a.s)})
	}
	require.Equal(t, ref.Hash(), w.Trace().Hash())

	// Payloads that land in the same slot, alternating: each hashes as its own text.
	var same []*counted
	slot := func(c *counted) uint64 { _, p := identity(c); return uint64(p) * hashMul >> (64 - textBits) }
	for len(same) < 2 {
		c := &counted{"m" + strconv.Itoa(len(same)), &n}
		if len(same) == 0 || slot(c) == slot(same[0]) {
			same = append(same, c)
		}
	}
	for _, c := range []*counted{same[0], same[1], same[0], same[1]} {
		w.Record(2, c)
		ref.Add(Record{Kind: RecModel, Node: 2, Peer: -1, Conn: -1, Data: text(c.s)})
		w.Record(3, msg(7)) // a value payload, boxed anew or not
		ref.Add(Record{Kind: RecModel, Node: 3, Peer: -1, Conn: -1, Data: text("m7")})
	}
	require.Equal(t, ref.Hash(), w.Trace().Hash())
}
