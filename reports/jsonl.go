package reports

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/zabsim/zabsim/model"
	"github.com/zabsim/zabsim/sim"
)

// TraceFile is a trace read back from JSON Lines: its opening line (nil in a trace written
// before there was one), its records, and its closing line.
type TraceFile struct {
	Header  *sim.TraceHeader
	Records []sim.Record
	End     sim.TraceEnd
}

// TraceError is a malformed trace: the line, and why.
type TraceError struct {
	Line int
	Msg  string
}

func (e *TraceError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// MaxTraceLine bounds one line of a trace (a SNAP's packet is the longest).
const MaxTraceLine = 1 << 28

// ReadJSONL reads a trace written by `zabsim run --trace` (sim.JSONLWriter) back into
// records: ReadTrace, without the closing line.
func ReadJSONL(r io.Reader) ([]sim.Record, error) {
	tf, err := ReadTrace(r)
	if err != nil {
		return nil, err
	}
	return tf.Records, nil
}

// ReadTrace reads a trace written by `zabsim run --trace` (sim.JSONLWriter) and checks
// every line, so that what the reports and the checker get is a trace some run could have
// written: the fields every record has, a known kind, times that never go back, node and
// connection ids in range, and for a typed payload, fields that decode and render to the
// line's own text; then the closing line, whose count and hash the records must match
// (the hash is recomputed from the lines). A trace without its closing line was cut:
// an error too. Every kind is restored; the payloads the reports read come back typed, any
// other payload as its canonical text, so that every record prints as it did.
func ReadTrace(r io.Reader) (*TraceFile, error) {
	return readTrace(r, true)
}

// readTrace is ReadTrace; without verifyHash it takes records whose hash does not match
// (a fuzz test reaches the reports and the checker with them).
func readTrace(r io.Reader, verifyHash bool) (*TraceFile, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), MaxTraceLine)
	tf := &TraceFile{}
	hash := sim.NewTrace(false) // recomputes the hash from the records
	lossy := false              // a text JSON had to coerce to UTF-8: its hash cannot match
	line, endLine := 0, 0
	var last sim.Time
	for sc.Scan() {
		line++
		b := sc.Bytes()
		if len(b) == 0 {
			continue
		}
		if endLine > 0 {
			return nil, &TraceError{line, fmt.Sprintf("a record after the end record (line %d)", endLine)}
		}
		if h, isHeader, err := readHeader(b); isHeader {
			switch {
			case err != nil:
				return nil, &TraceError{line, err.Error()}
			case tf.Header != nil || len(tf.Records) > 0:
				return nil, &TraceError{line, "a header record after the first line: it opens the trace"}
			}
			tf.Header = h
			continue
		}
		rec, end, err := readLine(b, last)
		if err != nil {
			return nil, &TraceError{line, err.Error()}
		}
		if end != nil {
			tf.End, endLine = *end, line
			continue
		}
		if p, ok := rec.Data.(*textPayload); ok && strings.ContainsRune(p.text, utf8.RuneError) {
			lossy = true
		}
		last = rec.At
		hash.Add(rec)
		tf.Records = append(tf.Records, rec)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			err = fmt.Errorf("longer than %d bytes", MaxTraceLine)
		}
		return nil, &TraceError{line + 1, err.Error()}
	}
	switch {
	case line == 0 || endLine == 0 && len(tf.Records) == 0:
		return nil, &TraceError{max(line, 1), "an empty trace: no records and no end record (zabsim run --trace writes both)"}
	case endLine == 0:
		return nil, &TraceError{line, fmt.Sprintf("truncated: the trace stops after %d records without its end record (the run did not finish, or the file was cut)", len(tf.Records))}
	case tf.End.Records != len(tf.Records):
		return nil, &TraceError{endLine, fmt.Sprintf("the end record counts %d records, the trace has %d", tf.End.Records, len(tf.Records))}
	case verifyHash && !lossy && tf.End.Hash != hash.HashString():
		return nil, &TraceError{endLine, fmt.Sprintf("the records hash to %s, the end record says %s: the trace was changed after it was written", hash.HashString(), tf.End.Hash)}
	}
	return tf, nil
}

// recordKinds are the kinds a record line may have, by name.
var recordKinds = func() map[string]sim.RecordKind {
	kinds := map[string]sim.RecordKind{}
	for k := sim.RecordKind(1); k < 64; k++ {
		if name := k.String(); !strings.HasPrefix(name, "kind") {
			kinds[name] = k
		}
	}
	return kinds
}()

// readHeader reads the opening line if b is one (isHeader): what ran, to judge and replay.
func readHeader(b []byte) (h *sim.TraceHeader, isHeader bool, err error) {
	var probe struct {
		Kind string `json:"kind"`
	}
	if json.Unmarshal(b, &probe) != nil || probe.Kind != sim.HeaderKind {
		return nil, false, nil
	}
	h = &sim.TraceHeader{}
	if err := json.Unmarshal(b, h); err != nil {
		return nil, true, fmt.Errorf("a header that does not decode: %v", err)
	}
	if h.Scenario == "" || h.Source == "" {
		return nil, true, fmt.Errorf("a header needs the scenario's name and source")
	}
	return h, true, nil
}

// readLine reads one line: a record, or the end record (end != nil). last is the time of
// the record before.
func readLine(b []byte, last sim.Time) (rec sim.Record, end *sim.TraceEnd, err error) {
	var jr struct {
		At      *int64          `json:"at_ns"`
		Kind    *string         `json:"kind"`
		Node    *int32          `json:"node"`
		Peer    *int32          `json:"peer"`
		Conn    *int32          `json:"conn"`
		Text    *string         `json:"text"`
		Type    string          `json:"type"`
		Data    json.RawMessage `json:"data"`
		Records *int            `json:"records"`
		Events  uint64          `json:"events"`
		Hash    *string         `json:"trace_hash"`
	}
	if err := json.Unmarshal(b, &jr); err != nil {
		return rec, nil, fmt.Errorf("not a trace record: %v", err)
	}
	for _, f := range []struct {
		name    string
		missing bool
	}{{"at_ns", jr.At == nil}, {"kind", jr.Kind == nil}, {"node", jr.Node == nil}, {"peer", jr.Peer == nil}, {"conn", jr.Conn == nil}} {
		if f.missing {
			return rec, nil, fmt.Errorf("no %s: every record has at_ns, kind, node, peer and conn", f.name)
		}
	}
	at := sim.Time(*jr.At)
	switch {
	case at < 0:
		return rec, nil, fmt.Errorf("at_ns=%d: virtual time is never negative", at)
	case at < last:
		return rec, nil, fmt.Errorf("at_ns=%d is before the record before it (%d): a trace is in time order", at, last)
	}
	if *jr.Kind == sim.EndKind {
		if jr.Records == nil || jr.Hash == nil || *jr.Records < 0 {
			return rec, nil, fmt.Errorf("an end record needs records (a count) and trace_hash")
		}
		return rec, &sim.TraceEnd{At: at, Kind: sim.EndKind, Node: -1, Peer: -1, Conn: -1, Records: *jr.Records, Events: jr.Events, Hash: *jr.Hash}, nil
	}
	k, ok := recordKinds[*jr.Kind]
	if !ok {
		return rec, nil, fmt.Errorf("unknown record kind %q", *jr.Kind)
	}
	for _, id := range []struct {
		name string
		v    int32
		max  int32
	}{{"node", *jr.Node, sim.MaxNodeID}, {"peer", *jr.Peer, sim.MaxNodeID}, {"conn", *jr.Conn, math.MaxInt32}} {
		if id.v < -1 || id.v >= id.max {
			return rec, nil, fmt.Errorf("%s=%d: want -1 (none) or an id from 0 to %d", id.name, id.v, id.max-1)
		}
	}
	rec = sim.Record{At: at, Kind: k, Node: sim.NodeID(*jr.Node), Peer: sim.NodeID(*jr.Peer), Conn: sim.ConnID(*jr.Conn)}
	if jr.Text == nil {
		if jr.Type != "" || len(jr.Data) > 0 {
			return rec, nil, fmt.Errorf("a type or data without the text they render to")
		}
		return rec, nil, nil
	}
	if len(jr.Data) > 0 && jr.Type == "" {
		return rec, nil, fmt.Errorf("data without its type")
	}
	rec.Data, err = decodePayload(jr.Type, jr.Data, *jr.Text)
	if err != nil {
		return rec, nil, err
	}
	if err := checkPayload(rec); err != nil {
		return rec, nil, err
	}
	return rec, nil, nil
}

// checkPayload checks what a payload's text cannot show: facts the checker relies on.
func checkPayload(rec sim.Record) error {
	if d, ok := rec.Data.(*model.ClientReturn); ok && (d.CallAt < 0 || d.CallAt > rec.At) {
		return fmt.Errorf("a ClientReturn at %d for a call at %d: an answer comes after its call", rec.At, d.CallAt)
	}
	return nil
}

// textPayload is a payload known only by its canonical text (and type name, if any).
type textPayload struct {
	typ, text string
}

func (p *textPayload) AppendTo(b []byte) []byte { return append(b, p.text...) }

// TypeName keeps the type name for a trace that is written out again.
func (p *textPayload) TypeName() string { return p.typ }

// decodePayload rebuilds a payload from its type name and fields, checking that they
// render to text. A type the reports do not read comes back as its text alone.
func decodePayload(typ string, data json.RawMessage, text string) (sim.Message, error) {
	fallback := &textPayload{typ: typ, text: text}
	var v sim.Message
	switch typ {
	case "Notification":
		v = &model.Notification{}
	case "QuorumPacket":
		// Every field but the snapshot that follows SNAP: a data tree does not round-trip
		// through JSON, and nothing here needs it.
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(data, &fields); err != nil {
			return nil, fmt.Errorf("QuorumPacket data: %v", err)
		}
		delete(fields, "Snap")
		trimmed, err := json.Marshal(fields)
		if err != nil {
			return nil, fmt.Errorf("QuorumPacket data: %v", err)
		}
		data, v = trimmed, &model.QuorumPacket{}
	case "StateChange":
		v = &model.StateChange{}
	case "ElectionDone":
		v = &model.ElectionDone{}
	case "EpochWritten":
		v = &model.EpochWritten{}
	case "LeaderEstablished":
		v = &model.LeaderEstablished{}
	case "LeaderActive":
		v = &model.LeaderActive{}
	case "SyncDecided":
		v = &model.SyncDecided{}
	case "Proposed":
		v = &model.Proposed{}
	case "Committed":
		v = &model.Committed{}
	case "Logged":
		v = &model.Logged{}
	case "Truncated":
		v = &model.Truncated{}
	case "Loaded":
		v = &model.Loaded{}
	case "SnapshotTaken":
		v = &model.SnapshotTaken{}
	case "Note":
		v = &model.Note{}
	case "StartRefused":
		v = &model.StartRefused{}
	case "VoteChanged":
		v = &model.VoteChanged{}
	case "QuorumAgreed":
		v = &model.QuorumAgreed{}
	case "FinalizeInterrupted":
		v = &model.FinalizeInterrupted{}
	case "NotTimeout":
		v = &model.NotTimeout{}
	case "ClientCall":
		v = &model.ClientCall{}
	case "ClientReturn":
		v = &model.ClientReturn{}
	case "ClientState":
		v = &model.ClientState{}
	case "ClientConnect":
		v = &model.ClientConnect{}
	case "WatchDelivered":
		v = &model.WatchDelivered{}
	case "SessionCreated":
		v = &model.SessionCreated{}
	case "SessionExpired":
		v = &model.SessionExpired{}
	case "SessionClosed":
		v = &model.SessionClosed{}
	case "RecipeEvent":
		v = &model.RecipeEvent{}
	case "ClientRequest":
		v = &model.ClientRequest{}
	case "ClientReply":
		v = &model.ClientReply{}
	case "WatcherEvent":
		v = &model.WatcherEvent{}
	case "ConnectRequest":
		v = &model.ConnectRequest{}
	case "ConnectResponse":
		v = &model.ConnectResponse{}
	default:
		return fallback, nil
	}
	if len(data) == 0 {
		return nil, fmt.Errorf("a %s without its data", typ)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return nil, fmt.Errorf("%s data: %v", typ, err)
	}
	if p, ok := v.(*model.Proposed); ok && p.Txn == nil {
		return nil, fmt.Errorf("a Proposed without its Txn")
	}
	if got := string(v.AppendTo(nil)); got != text {
		return nil, fmt.Errorf("the %s data renders as %s, the text says %s", typ, clip(got), clip(text))
	}
	return v, nil
}

// clip quotes s, cut to 80 bytes.
func clip(s string) string {
	if len(s) > 80 {
		return strconv.Quote(s[:80]) + "..."
	}
	return strconv.Quote(s)
}
