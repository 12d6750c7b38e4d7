package model

import (
	"encoding/json"
	"strings"
	"testing"
)

// The trace's data names its enums and prints zxids in hex, and reads back both that and
// the numbers of older traces.
func TestJSONNamesAndHex(t *testing.T) {
	p := &QuorumPacket{Type: PROPOSAL, Zxid: MakeZxid(1, 3), Txn: &Txn{Zxid: MakeZxid(1, 3), Type: OpCreate}}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"Type":"PROPOSAL"`, `"Zxid":"0x100000003"`, `"Type":"create"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("%s has no %s", b, want)
		}
	}
	var back QuorumPacket
	if err := json.Unmarshal(b, &back); err != nil || back.Type != PROPOSAL || back.Zxid != MakeZxid(1, 3) || back.Txn.Type != OpCreate {
		t.Errorf("round trip: %+v %v", back, err)
	}
	var old Notification
	if err := json.Unmarshal([]byte(`{"State":1,"Leader":3,"Zxid":4294967299,"ElectionEpoch":2,"PeerEpoch":1,"Sid":2}`), &old); err != nil ||
		old.State != FOLLOWING || old.Zxid != MakeZxid(1, 3) {
		t.Errorf("an older trace's numbers: %+v %v", old, err)
	}
	for _, v := range []any{ServerState(9), PacketType(99), OpCode(77), Zxid(-1)} {
		b, _ := json.Marshal(v)
		if strings.Contains(string(b), "(") {
			t.Errorf("%v marshals as %s: an unknown value must round-trip", v, b)
		}
	}
	var z Zxid
	if err := json.Unmarshal([]byte(`"nonsense"`), &z); err == nil {
		t.Error("a zxid of nonsense was accepted")
	}
}
