package model

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
)

// JSON forms for a trace's readers: enums by their names (LOOKING, PROPOSAL, create, ...)
// and zxids in hex ("0x100000003"), as the text and the summary print them, so that a jq
// user needs no decoder. Each type also reads the numbers older traces hold.

// MarshalJSON writes the zxid as ZooKeeper logs it.
func (z Zxid) MarshalJSON() ([]byte, error) { return strconv.AppendQuote(nil, z.String()), nil }

// UnmarshalJSON reads "0x100000003", or a number.
func (z *Zxid) UnmarshalJSON(b []byte) error {
	v, err := enumNumberOrName(b, func(s string) (int64, bool) {
		x, err := ParseZxid(s)
		return int64(x), err == nil
	})
	if err != nil {
		return fmt.Errorf("zxid %s: %v", b, err)
	}
	*z = Zxid(v)
	return nil
}

// enumNumberOrName reads a JSON number, or a string that byName knows.
func enumNumberOrName(b []byte, byName func(string) (int64, bool)) (int64, error) {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return 0, err
		}
		if v, ok := byName(s); ok {
			return v, nil
		}
		return 0, fmt.Errorf("unknown name %q", s)
	}
	var v int64
	if err := json.Unmarshal(b, &v); err != nil {
		return 0, err
	}
	return v, nil
}

// enumJSON writes v by name when String knows it (it round-trips), else as a number.
func enumJSON(name string, known bool, v int64) []byte {
	if known {
		return strconv.AppendQuote(nil, name)
	}
	return strconv.AppendInt(nil, v, 10)
}

// nameLookup finds the value in [lo, hi] whose name is s.
func nameLookup[T ~int32 | ~uint8](s string, lo, hi int64, str func(T) string) (int64, bool) {
	for v := lo; v <= hi; v++ {
		if str(T(v)) == s {
			return v, true
		}
	}
	return 0, false
}

func (s ServerState) MarshalJSON() ([]byte, error) {
	return enumJSON(s.String(), int(s) < len(serverStateNames), int64(s)), nil
}

func (s *ServerState) UnmarshalJSON(b []byte) error {
	v, err := enumNumberOrName(b, func(n string) (int64, bool) { return nameLookup(n, 0, 3, ServerState.String) })
	*s = ServerState(v)
	return err
}

func (p ZabPhase) MarshalJSON() ([]byte, error) {
	return enumJSON(p.String(), int(p) < len(phaseNames), int64(p)), nil
}

func (p *ZabPhase) UnmarshalJSON(b []byte) error {
	v, err := enumNumberOrName(b, func(n string) (int64, bool) { return nameLookup(n, 0, 3, ZabPhase.String) })
	*p = ZabPhase(v)
	return err
}

func (t PacketType) MarshalJSON() ([]byte, error) {
	return enumJSON(t.String(), int(t) < len(packetNames) && packetNames[t] != "", int64(t)), nil
}

func (t *PacketType) UnmarshalJSON(b []byte) error {
	v, err := enumNumberOrName(b, func(n string) (int64, bool) {
		return nameLookup(n, 1, int64(len(packetNames)-1), PacketType.String)
	})
	*t = PacketType(v)
	return err
}

func (o OpCode) MarshalJSON() ([]byte, error) {
	_, known := opNames[o]
	return enumJSON(o.String(), known, int64(o)), nil
}

func (o *OpCode) UnmarshalJSON(b []byte) error {
	v, err := enumNumberOrName(b, func(n string) (int64, bool) {
		for _, c := range []OpCode{OpNotification, OpCreate, OpDelete, OpExists, OpGetData, OpSetData, OpGetChildren,
			OpSync, OpPing, OpCheck, OpMulti, OpSetWatches, OpCreateSession, OpCloseSession, OpError} {
			if c.String() == n {
				return int64(c), true
			}
		}
		return 0, false
	})
	*o = OpCode(v)
	return err
}

func (m CreateMode) MarshalJSON() ([]byte, error) {
	return enumJSON(m.String(), m >= Persistent && m <= EphemeralSequential, int64(m)), nil
}

func (m *CreateMode) UnmarshalJSON(b []byte) error {
	v, err := enumNumberOrName(b, func(n string) (int64, bool) { return nameLookup(n, 0, 3, CreateMode.String) })
	*m = CreateMode(v)
	return err
}

var eventTypes = []EventType{EventNone, EventNodeCreated, EventNodeDeleted, EventNodeDataChanged, EventNodeChildrenChanged}

func (e EventType) MarshalJSON() ([]byte, error) {
	known := false
	for _, k := range eventTypes {
		known = known || k == e
	}
	return enumJSON(e.String(), known, int64(e)), nil
}

func (e *EventType) UnmarshalJSON(b []byte) error {
	v, err := enumNumberOrName(b, func(n string) (int64, bool) {
		for _, k := range eventTypes {
			if k.String() == n {
				return int64(k), true
			}
		}
		return 0, false
	})
	*e = EventType(v)
	return err
}

var keeperStates = []KeeperState{StateDisconnected, StateSyncConnected, StateExpired, StateClosed}

func (s KeeperState) MarshalJSON() ([]byte, error) {
	known := false
	for _, k := range keeperStates {
		known = known || k == s
	}
	return enumJSON(s.String(), known, int64(s)), nil
}

func (s *KeeperState) UnmarshalJSON(b []byte) error {
	v, err := enumNumberOrName(b, func(n string) (int64, bool) {
		for _, k := range keeperStates {
			if k.String() == n {
				return int64(k), true
			}
		}
		return 0, false
	})
	*s = KeeperState(v)
	return err
}
