package reports

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"

	"zabsim/model"
	"zabsim/sim"
)

// ReadJSONL reads a trace written by sim.Trace.WriteJSONL back into records. Every kind
// is restored; the payloads the reports read (election notifications, quorum packets and
// the model's observation records) come back typed, and any other payload comes back as
// its canonical text, so that every record prints as it did.
func ReadJSONL(r io.Reader) ([]sim.Record, error) {
	kinds := map[string]sim.RecordKind{}
	for k := sim.RecordKind(1); k < 64; k++ {
		kinds[k.String()] = k
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<28)
	var out []sim.Record
	line := 0
	for sc.Scan() {
		line++
		b := sc.Bytes()
		if len(b) == 0 {
			continue
		}
		var jr struct {
			At   int64           `json:"at_ns"`
			Kind string          `json:"kind"`
			Node int32           `json:"node"`
			Peer int32           `json:"peer"`
			Conn int32           `json:"conn"`
			Text *string         `json:"text"`
			Type string          `json:"type"`
			Data json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(b, &jr); err != nil {
			return nil, fmt.Errorf("trace line %d: %v", line, err)
		}
		k, ok := kinds[jr.Kind]
		if !ok {
			return nil, fmt.Errorf("trace line %d: unknown record kind %q", line, jr.Kind)
		}
		rec := sim.Record{At: sim.Time(jr.At), Kind: k, Node: sim.NodeID(jr.Node), Peer: sim.NodeID(jr.Peer), Conn: sim.ConnID(jr.Conn)}
		if jr.Text != nil {
			rec.Data = decodePayload(jr.Type, jr.Data, *jr.Text)
		}
		out = append(out, rec)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("trace line %d: %v", line+1, err)
	}
	return out, nil
}

// textPayload is a payload known only by its canonical text (and type name, if any).
type textPayload struct {
	typ, text string
}

func (p *textPayload) AppendTo(b []byte) []byte { return append(b, p.text...) }

// TypeName keeps the type name for a trace that is written out again.
func (p *textPayload) TypeName() string { return p.typ }

// decodePayload rebuilds a payload from its type name and fields, falling back to its
// text when the type is not one the reports read or its fields do not fit.
func decodePayload(typ string, data json.RawMessage, text string) sim.Message {
	fallback := &textPayload{typ: typ, text: text}
	if len(data) == 0 {
		return fallback
	}
	var v sim.Message
	switch typ {
	case "Notification":
		v = &model.Notification{}
	case "QuorumPacket":
		// Every field but the snapshot that follows SNAP: a data tree does not round-trip
		// through JSON, and nothing here needs it.
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(data, &fields); err != nil {
			return fallback
		}
		delete(fields, "Snap")
		trimmed, err := json.Marshal(fields)
		if err != nil {
			return fallback
		}
		p := &model.QuorumPacket{}
		if err := json.Unmarshal(trimmed, p); err != nil {
			return fallback
		}
		return p
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
		return fallback
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fallback
	}
	if p, ok := v.(*model.Proposed); ok && p.Txn == nil {
		return fallback
	}
	return v
}
