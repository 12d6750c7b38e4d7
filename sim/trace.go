package sim

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"unsafe"
)

// RecordKind is the type of a trace record.
type RecordKind uint8

const (
	RecStart      RecordKind = iota + 1 // node started for the first time
	RecRestart                          // node restarted after a crash
	RecCrash                            // node crashed
	RecPause                            // node paused (SIGSTOP)
	RecResume                           // node resumed
	RecTimer                            // a node's timer fired
	RecDial                             // Node dialed Peer: connection Conn
	RecAccept                           // Node accepted connection Conn from Peer
	RecSend                             // Node sent Data to Peer on Conn
	RecDeliver                          // Node received Data from Peer on Conn
	RecDrop                             // Data from Node to Peer on Conn was lost
	RecClose                            // Node closed its end of Conn
	RecClosed                           // Node saw Conn (to Peer) close
	RecReset                            // Conn between Node and Peer was reset
	RecPartition                        // links cut (Data says which)
	RecHeal                             // links restored
	RecClog                             // links clogged
	RecLatency                          // link Node -> Peer got a new latency
	RecModel                            // a record added by an upper layer (Data says what)
	RecLost                             // Data from Node to Peer on Conn was lost: TCP will retransmit it
	RecRetransmit                       // Node retransmits what it queued to Peer on Conn
	RecAbort                            // Node's kernel gave up retransmitting to Peer on Conn
	// RecExplain is an explanation an upper layer adds (why a vote changed, when a quorum
	// agreed): kept and written like any record, but not folded into the trace hash, which
	// identifies what happened, so that explanations can grow without changing any run's
	// hash. Nothing may decide on it: the checker and the expectations ignore it.
	RecExplain
)

var recordKindNames = [...]string{
	RecStart: "start", RecRestart: "restart", RecCrash: "crash", RecPause: "pause", RecResume: "resume",
	RecTimer: "timer", RecDial: "dial", RecAccept: "accept", RecSend: "send", RecDeliver: "deliver",
	RecDrop: "drop", RecClose: "close", RecClosed: "closed", RecReset: "reset", RecPartition: "partition",
	RecHeal: "heal", RecClog: "clog", RecLatency: "latency", RecModel: "model",
	RecLost: "lost", RecRetransmit: "retransmit", RecAbort: "abort", RecExplain: "explain",
}

func (k RecordKind) String() string {
	if int(k) < len(recordKindNames) && recordKindNames[k] != "" {
		return recordKindNames[k]
	}
	return "kind" + strconv.Itoa(int(k))
}

// Record is one entry of the trace. Node and Peer are -1 when they do not apply, Conn too.
type Record struct {
	At   Time
	Kind RecordKind
	Node NodeID
	Peer NodeID
	Conn ConnID
	Data Message
}

// AppendTo appends the canonical one-line form of r: the text the trace hash covers.
func (r *Record) AppendTo(b []byte) []byte {
	b = strconv.AppendInt(b, int64(r.At), 10)
	b = append(b, ' ')
	b = append(b, r.Kind.String()...)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(r.Node), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(r.Peer), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(r.Conn), 10)
	if r.Data != nil {
		b = append(b, ' ')
		b = r.Data.AppendTo(b)
	}
	return b
}

// String is the canonical form of r.
func (r *Record) String() string { return string(r.AppendTo(nil)) }

// Trace is the append-only list of records of a run, with a running 64-bit hash of their
// contents, so that two runs compare in O(1).
//
// The hash covers exactly what the canonical form (Record.AppendTo) shows of every record
// but the explanations (RecExplain): the time, the
// kind, the node, the peer, the connection and the payload's canonical text. It does not
// format the whole line: it folds the fields in as fixed-width integers, then the bytes
// of the payload text, eight at a time in little-endian order, each word with an xor and
// a multiply by an odd constant, and ends each record with an xorshift. Every step is a
// bijection of the state, so two traces that differ in one record never hash alike, and
// every operation is on fixed-width integers, so the hash is the same on every machine.
type Trace struct {
	recs []Record
	keep bool
	// explaining: a trace file is written as the run goes (see World.Explaining)
	explaining bool
	// noHash: Config.NoHash, no hash and no payload text (a tenth of an explored schedule)
	noHash bool
	hash   uint64
	count  int
	buf    []byte
	texts  *textTable // the payload texts formatted lately (see text); hashed runs only
	// curs[d] is the record being handed to the observers at nesting depth d (an
	// observer may add a record itself); a slot is reused, so no record is allocated.
	curs  []Record
	depth int
	// Observers are called with every record as it is appended. The *Record is only valid
	// during the call: an observer that keeps it must copy it.
	Observers []func(*Record)

	// Batch observers (AddBatchObserver) get the records in batches.
	batch      []Record
	spare      []Record // the other buffer: batch is swapped with it at a flush
	mem        *Memory  // where batch and spare come from (the World's; nil: ownMemory)
	batchFirst int      // the index of batch[0]
	batchObs   []func(first int, recs []Record)
	flushing   bool
}

// BatchSize is how many records a batch observer gets at a time (fewer at a Flush). 256
// keep the observer's loop tight as well as 1,024 did, and the two buffers, which the
// collector scans and which keep their payloads alive, are a quarter of the size.
const BatchSize = 256

// batchStart is the first capacity of a batch buffer.
const batchStart = 64

// AddBatchObserver makes f get every record appended from now on, in batches of up to
// BatchSize consecutive records, the first of index first, whenever a batch fills up and
// at every Flush. The slice is only valid during the call; the payloads do not change.
//
// Why batches: an observer as large as the online checker, called on every record between
// the simulator's own steps, costs more in instruction-cache misses than in instructions;
// one copy into the batch and a tight loop over it later cost less.
func (t *Trace) AddBatchObserver(f func(first int, recs []Record)) {
	t.Flush()
	if t.batch == nil {
		// a short run needs no full batch: see add
		t.batch = t.growBatch(nil, batchStart)
	}
	t.batchObs = append(t.batchObs, f)
}

// Flush hands the records batched so far to the batch observers. A record an observer
// appends meanwhile goes into the next batch.
func (t *Trace) Flush() {
	if t.flushing || len(t.batch) == 0 {
		return
	}
	t.flushing = true
	recs, first := t.batch, t.batchFirst
	if t.spare == nil {
		t.spare = t.growBatch(nil, batchStart) // grows as the batch did, if the run goes on
	}
	t.batch, t.spare = t.spare[:0], nil
	for _, f := range t.batchObs {
		f(first, recs)
	}
	// Keep recs for the next swap (the payloads it points to stay alive until overwritten).
	t.spare = recs[:0]
	t.flushing = false
}

// Memory is the Memory of the World the trace is of, if it was given one (Config.Memory),
// else nil: for a trace's observers (the checker) to grow their arrays in (Pool).
func (t *Trace) Memory() *Memory {
	if t.mem == nil || t.mem.own {
		return nil
	}
	return t.mem
}

// growBatch returns b, or a copy of it, with room for c records (see grow), from the
// World's memory.
func (t *Trace) growBatch(b []Record, c int) []Record {
	m := t.mem
	if m == nil {
		m = ownMemory // a Trace of its own (ReadTrace, tests)
	}
	return grow(m, &m.records, b, c)
}

const (
	hashSeed = 0x6a09e667f3bcc908 // the run's initial hash state (sqrt(2) in hex)
	hashMul  = 0x9e3779b97f4a7c15 // odd: the multiply is a bijection
	// A payload text this long or longer has its length folded in as a word of its own.
	hashLongText = 1 << 22
)

func (t *Trace) init() {
	t.hash = hashSeed
	t.buf = make([]byte, 0, 64)
}

// hashRecord folds r, whose payload text (if r.Data != nil) is data, into h.
func hashRecord(h uint64, r *Record, data []byte) uint64 {
	return hashFields(h, r.At, r.Kind, r.Node, r.Peer, r.Conn, r.Data != nil, data)
}

// hashFields is hashRecord on a record's fields; hasData says it has a payload.
func hashFields(h uint64, at Time, kind RecordKind, node, peer NodeID, c ConnID, hasData bool, data []byte) uint64 {
	h = (h ^ uint64(at)) * hashMul
	h = (h ^ (uint64(uint32(node)) | uint64(uint32(peer))<<32)) * hashMul
	w := uint64(uint32(c)) | uint64(kind)<<32
	if hasData {
		n := len(data)
		w |= 1<<40 | uint64(min(n, hashLongText))<<41
		h = (h ^ w) * hashMul
		if n >= hashLongText {
			h = (h ^ uint64(n)) * hashMul
		}
		switch {
		case n >= 8:
			for i := 0; i < n-8; i += 8 {
				h = (h ^ binary.LittleEndian.Uint64(data[i:])) * hashMul
			}
			// The last word is the last 8 bytes, overlapping the one before if the
			// length is not a multiple of 8 (the length, folded in above, says so).
			h = (h ^ binary.LittleEndian.Uint64(data[n-8:])) * hashMul
		case n > 0 && cap(data) >= 8:
			// Load 8 bytes in one go and keep the n that belong to the text.
			h = (h ^ binary.LittleEndian.Uint64(data[:8])&(1<<(8*n)-1)) * hashMul
		case n > 0:
			var v uint64
			for i, c := range data {
				v |= uint64(c) << (8 * i)
			}
			h = (h ^ v) * hashMul
		}
	} else {
		h = (h ^ w) * hashMul
	}
	return h ^ h>>29
}

// Add appends r.
func (t *Trace) Add(r Record) {
	t.add(r.At, r.Kind, r.Node, r.Peer, r.Conn, r.Data, t.text(r.Kind, r.Data))
}

// text is the canonical text of a record's payload for the hash (nil when the hash does
// not read it: no hash, no payload, or an explanation, which the hash skips).
//
// Most payloads are recorded more than once: a message when it is sent and again when it
// is delivered (or dropped), a notification or a COMMIT to every peer it goes to. A
// payload never changes once recorded (the batch observers rely on that too), so its text
// is formatted once and kept in a small table by the payload's identity: formatting was a
// fifth of the instructions of a hashed run (the library, `zabsim run`).
func (t *Trace) text(kind RecordKind, data Message) []byte {
	if data == nil || t.noHash || kind == RecExplain {
		return nil // inlined: most runs that hash nothing call nothing here
	}
	return t.textOf(data)
}

// textOf is text's table lookup.
func (t *Trace) textOf(data Message) []byte {
	if t.texts == nil {
		t.texts = newTextTable()
	}
	typ, ptr := identity(data)
	e := &t.texts.e[uint64(ptr)*hashMul>>(64-textBits)]
	if e.m != nil {
		if et, ep := identity(e.m); et == typ && ep == ptr {
			return e.text
		}
	}
	e.m = data
	e.text = data.AppendTo(e.text[:0])
	return e.text
}

// The table of texts (text) has 64 entries: a message is delivered soon after it is sent,
// so that 64 keep 97% of the hits 512 would (in the library, 54% of the payloads recorded
// are hits) in an eighth of the memory. Each entry has textRoom bytes of the table's own to
// write in (a longer text gets an array of its own).
const (
	textBits  = 6
	textSlots = 1 << textBits
	textRoom  = 64
)

// textTable is the table of texts, in one allocation.
type textTable struct {
	e   [textSlots]textEntry
	buf [textSlots * textRoom]byte
}

func newTextTable() *textTable {
	tt := new(textTable)
	for i := range tt.e {
		tt.e[i].text = tt.buf[i*textRoom : i*textRoom : (i+1)*textRoom]
	}
	return tt
}

// textEntry is a payload and its canonical text. It holds the payload, so that its
// address cannot be reused by another value while the entry names it.
type textEntry struct {
	m    Message
	text []byte
}

// identity is an interface value's two words: its dynamic type and its data pointer (for
// a value that is not a pointer, the address of its boxed copy, which nothing changes).
// Two payloads with the same identity are the same value. The words are read one by one:
// read as one 16-byte array, they were loaded with a vector move from the two 8-byte
// stores of the spilled interface, which stalls store-to-load forwarding.
func identity(m Message) (typ, ptr uintptr) {
	w := (*[2]uintptr)(unsafe.Pointer(&m))
	return w[0], w[1]
}

// add appends the record of these fields, whose payload's canonical text is data. It takes
// the fields, not a Record, and stores them one by one where the record goes: a Record
// built by the caller and copied here was read back with 16-byte moves from the caller's
// 8-byte stores, which stalls the load (3% of an explored schedule).
func (t *Trace) add(at Time, kind RecordKind, node, peer NodeID, c ConnID, m Message, data []byte) {
	if kind != RecExplain && !t.noHash {
		t.hash = hashFields(t.hash, at, kind, node, peer, c, m != nil, data)
	}
	t.count++
	if t.keep {
		t.recs = append(t.recs, Record{At: at, Kind: kind, Node: node, Peer: peer, Conn: c, Data: m})
	}
	if t.batchObs != nil {
		n := len(t.batch)
		if n == 0 {
			t.batchFirst = t.count - 1
		}
		if n == cap(t.batch) {
			// a run longer than batchStart records: four times the room, up to a full batch
			// (a full one at once, and its spare, were a third of a short run's bytes); above
			// BatchSize only if observers add records while flushing
			c := min(4*n, BatchSize)
			if c <= n {
				c = 2*n + 1
			}
			t.batch = t.growBatch(t.batch, c)
		}
		t.batch = t.batch[:n+1]
		b := &t.batch[n]
		b.At, b.Kind, b.Node, b.Peer, b.Conn, b.Data = at, kind, node, peer, c, m
		if n+1 >= BatchSize {
			t.Flush()
		}
	}
	if len(t.Observers) > 0 {
		if t.depth == len(t.curs) {
			t.curs = append(t.curs, Record{})
		}
		// If a nested add grows curs, p still points into the old array, which keeps
		// this record.
		p := &t.curs[t.depth]
		p.At, p.Kind, p.Node, p.Peer, p.Conn, p.Data = at, kind, node, peer, c, m
		t.depth++
		for _, o := range t.Observers {
			o(p)
		}
		t.depth--
	}
}

// Hash is the hash of every record so far, stable across runs and machines.
func (t *Trace) Hash() uint64 {
	if t.noHash {
		return 0
	}
	return t.hash
}

// HashString is Hash as 16 hex digits.
func (t *Trace) HashString() string { return fmt.Sprintf("%016x", t.Hash()) }

// Len is the number of records appended (kept or not).
func (t *Trace) Len() int { return t.count }

// Records are the kept records (none with Config.NoTrace).
func (t *Trace) Records() []Record { return t.recs }

// record appends a record stamped with the current time.
func (w *World) record(kind RecordKind, node, peer NodeID, c ConnID, data Message) {
	t := &w.trace
	t.add(w.now, kind, node, peer, c, data, t.text(kind, data))
}

// Record lets an upper layer add an observation about node to the trace.
func (w *World) Record(node NodeID, data Message) {
	w.record(RecModel, node, -1, -1, data)
}

// Explain lets an upper layer add an explanation about node to the trace: a RecExplain
// record, which the trace hash does not cover. data may be nil when nothing will read it
// (see Explaining): the record then only keeps its place, so that the records after it have
// the same numbers in every run of the scenario.
func (w *World) Explain(node NodeID, data Message) {
	w.record(RecExplain, node, -1, -1, data)
}

// Explaining reports whether anything will read this run's explanations: a kept trace, or
// a trace file written as the run goes (JSONLWriter.Attach). When nothing will, an upper
// layer need not make them: in an election they are a tenth of a run's bytes.
func (w *World) Explaining() bool { return w.trace.keep || w.trace.explaining }

// jsonRecord is the JSON Lines form of a record.
type jsonRecord struct {
	At   int64  `json:"at_ns"`
	Kind string `json:"kind"`
	Node int32  `json:"node"`
	Peer int32  `json:"peer"`
	Conn int32  `json:"conn"`
	Text string `json:"text,omitempty"`
	Type string `json:"type,omitempty"`
	Data any    `json:"data,omitempty"`
}

// EndKind is the kind of the closing line of a JSON Lines trace: without it, a reader
// knows the trace was cut.
const EndKind = "end"

// HeaderKind is the kind of the opening line of a JSON Lines trace, which says what ran.
const HeaderKind = "header"

// TraceHeader is what the opening line of a JSON Lines trace says: the scenario's name and
// text, the seed, the mutants and fixes switched on from outside, and the zabsim version,
// so that the trace alone says how to judge it and how to run it again.
type TraceHeader struct {
	Kind     string   `json:"kind"` // HeaderKind
	Scenario string   `json:"scenario"`
	Source   string   `json:"source"`
	Seed     uint64   `json:"seed"`
	Mutants  []string `json:"mutants,omitempty"`
	Fixes    []string `json:"fixes,omitempty"`
	Version  string   `json:"version"`
}

// TraceEnd is what the closing line of a JSON Lines trace says: the run's final virtual
// time, how many records came before it, the events the World processed (0: not known)
// and the trace hash, which a reader can recompute from the lines.
type TraceEnd struct {
	At      Time   `json:"at_ns"`
	Kind    string `json:"kind"` // EndKind
	Node    int32  `json:"node"`
	Peer    int32  `json:"peer"`
	Conn    int32  `json:"conn"`
	Records int    `json:"records"`
	Events  uint64 `json:"events,omitempty"`
	Hash    string `json:"trace_hash"`
}

// Typed is implemented by record payloads that have a type name for JSON export.
type Typed interface {
	TypeName() string
}

// JSONLWriter writes a trace as JSON Lines (one record per line: at_ns, kind, node, peer,
// conn, the canonical text of the payload, and for typed payloads their type name and
// fields), then a closing line (TraceEnd). Attached to a running trace it writes each
// record as it comes, so the trace need not be kept in memory.
type JSONLWriter struct {
	bw  *bufio.Writer
	enc *json.Encoder
	buf []byte
	n   int // records written
	err error
}

// NewJSONLWriter writes to out.
func NewJSONLWriter(out io.Writer) *JSONLWriter {
	bw := bufio.NewWriter(out)
	return &JSONLWriter{bw: bw, enc: json.NewEncoder(bw)}
}

// Header writes the opening line; it must come before any record.
func (jw *JSONLWriter) Header(h TraceHeader) error {
	if jw.n > 0 {
		return fmt.Errorf("trace: the header must come before the records (%d written)", jw.n)
	}
	h.Kind = HeaderKind
	if jw.err == nil {
		jw.err = jw.enc.Encode(&h)
	}
	return jw.err
}

// Attach writes every record t gets from now on; t must have none yet, so that the file
// holds the whole trace and its hash checks.
func (jw *JSONLWriter) Attach(t *Trace) error {
	if t.Len() > 0 {
		return fmt.Errorf("trace: a JSON Lines writer must be attached before the first record (%d already)", t.Len())
	}
	t.AddBatchObserver(func(_ int, recs []Record) {
		for i := range recs {
			jw.write(&recs[i])
		}
	})
	t.explaining = true
	return nil
}

func (jw *JSONLWriter) write(r *Record) {
	if jw.err != nil {
		return
	}
	jr := jsonRecord{At: int64(r.At), Kind: r.Kind.String(), Node: int32(r.Node), Peer: int32(r.Peer), Conn: int32(r.Conn)}
	if r.Data != nil {
		jw.buf = r.Data.AppendTo(jw.buf[:0])
		jr.Text = string(jw.buf)
		if tp, ok := r.Data.(Typed); ok {
			jr.Type = tp.TypeName()
			jr.Data = r.Data
		}
	}
	jw.err = jw.enc.Encode(&jr)
	jw.n++
}

// End writes the closing line for trace t (its records handed over first), ending at
// virtual time at after events events (0: not known), and flushes. It returns the first
// error of any write.
func (jw *JSONLWriter) End(t *Trace, at Time, events uint64) error {
	t.Flush()
	if jw.err == nil && jw.n != t.Len() {
		jw.err = fmt.Errorf("trace: wrote %d records of %d", jw.n, t.Len())
	}
	if jw.err == nil {
		jw.err = jw.enc.Encode(&TraceEnd{At: at, Kind: EndKind, Node: -1, Peer: -1, Conn: -1, Records: t.Len(), Events: events, Hash: t.HashString()})
	}
	if err := jw.bw.Flush(); jw.err == nil {
		jw.err = err
	}
	return jw.err
}

// WriteJSONL writes the kept records as JSON Lines (see JSONLWriter), closed by a line
// that ends at the last record's time.
func (t *Trace) WriteJSONL(out io.Writer) error {
	end := Time(0)
	if n := len(t.recs); n > 0 {
		end = t.recs[n-1].At
	}
	return t.writeJSONL(out, end, 0)
}

func (t *Trace) writeJSONL(out io.Writer, at Time, events uint64) error {
	if len(t.recs) != t.count {
		return fmt.Errorf("trace: only %d of %d records were kept (the run had NoTrace)", len(t.recs), t.count)
	}
	jw := NewJSONLWriter(out)
	for i := range t.recs {
		jw.write(&t.recs[i])
	}
	jw.n = t.count
	return jw.End(t, at, events)
}

// WriteJSONL writes the world's kept trace as JSON Lines, closed by a line with the
// world's virtual time and event count.
func (w *World) WriteJSONL(out io.Writer) error {
	return w.trace.writeJSONL(out, w.now, w.events)
}

// NewTrace is an empty trace outside any World, keeping its records or not: a reader
// rebuilds a written trace in it (Add) to check its hash.
func NewTrace(keep bool) *Trace {
	t := &Trace{keep: keep}
	t.init()
	return t
}

// Divergence is where two runs that should be identical first differ.
type Divergence struct {
	Index int    // index of the first differing record (or the shorter length)
	A, B  string // the canonical records at Index ("<end>" if a run ended)
}

func (d *Divergence) Error() string {
	return fmt.Sprintf("runs diverge at record %d:\n  first:  %s\n  second: %s", d.Index, d.A, d.B)
}

// CheckDeterminism runs run twice and compares the traces record by record. It returns nil
// if they are identical, or the first difference. run must build a fresh World each time
// and keep its trace.
func CheckDeterminism(run func() *Trace) error {
	a, b := run(), run()
	if a.Hash() == b.Hash() && a.Len() == b.Len() {
		return nil
	}
	return FirstDifference(a, b)
}

// FirstDifference compares two kept traces and names the first differing record, or
// returns nil if they are equal.
func FirstDifference(a, b *Trace) *Divergence {
	ra, rb := a.Records(), b.Records()
	n := min(len(ra), len(rb))
	for i := 0; i < n; i++ {
		sa, sb := ra[i].String(), rb[i].String()
		if sa != sb {
			return &Divergence{Index: i, A: sa, B: sb}
		}
	}
	if len(ra) == len(rb) {
		if a.Hash() != b.Hash() {
			return &Divergence{Index: n, A: "<hash " + a.HashString() + ">", B: "<hash " + b.HashString() + ">"}
		}
		return nil
	}
	d := &Divergence{Index: n, A: "<end>", B: "<end>"}
	if n < len(ra) {
		d.A = ra[n].String()
	}
	if n < len(rb) {
		d.B = rb[n].String()
	}
	return d
}
