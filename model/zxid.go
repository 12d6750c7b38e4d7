// Package model is ZooKeeper 3.8 itself, as state machines hosted by a sim.World:
// fast leader election, discovery, sync, broadcast, storage, observers, and the client.
package model

import (
	"math/bits"
	"strconv"
)

// Zxid is ZooKeeper's 64-bit transaction id: epoch in the high 32 bits, counter in the low 32
// (ZxidUtils.makeZxid). It is signed, as in Java: every comparison in syncFollower is on longs.
type Zxid int64

// MakeZxid mirrors ZxidUtils.makeZxid.
func MakeZxid(epoch, counter int64) Zxid {
	return Zxid(epoch<<32 | (counter & 0xffffffff))
}

// Epoch mirrors ZxidUtils.getEpochFromZxid.
func (z Zxid) Epoch() int64 { return int64(z) >> 32 }

// Counter mirrors ZxidUtils.getCounterFromZxid.
func (z Zxid) Counter() int64 { return int64(z) & 0xffffffff }

// IsNewEpoch reports a counter of 0, the zxid a learner has right after an epoch change
// (LearnerHandler.syncFollower's isPeerNewEpochZxid).
func (z Zxid) IsNewEpoch() bool { return z.Counter() == 0 }

// String formats as ZooKeeper logs do: "0x100000003". Negative values (-1) print in decimal.
func (z Zxid) String() string {
	if z < 0 {
		return strconv.FormatInt(int64(z), 10)
	}
	var buf [18]byte // one allocation: the string
	return string(strconv.AppendInt(append(buf[:0], "0x"...), int64(z), 16))
}

// AppendTo appends String's form without allocating.
func (z Zxid) AppendTo(b []byte) []byte {
	if z < 0 {
		return strconv.AppendInt(b, int64(z), 10)
	}
	return appendHex(append(b, "0x"...), uint64(z))
}

// appendHex appends v in lower-case hex without leading zeros, as strconv.AppendUint(b, v,
// 16) does, in strconv's general loop unrolled for base 16: a hashed run names zxids, txn
// hashes and sessions in hex in nearly every record (strconv's loop for the hashes and
// sessions was 3% of the instructions of steady-state writes).
func appendHex(b []byte, v uint64) []byte {
	n := max(1, (bits.Len64(v)+3)/4)
	b = append(b, "0000000000000000"[:n]...)
	for i := len(b) - 1; v != 0; i, v = i-1, v>>4 {
		b[i] = "0123456789abcdef"[v&15]
	}
	return b
}

// appendHexInt is strconv.AppendInt(b, v, 16): a session id, negative ones with their sign.
func appendHexInt(b []byte, v int64) []byte {
	if v < 0 {
		return strconv.AppendInt(b, v, 16)
	}
	return appendHex(b, uint64(v))
}

// appendQuoted is strconv.AppendQuote(b, s): a string of printable ASCII without a quote
// or a backslash, which is every state-change reason and nearly every znode value a run
// writes, is copied between quotes as it is, without strconv's rune-by-rune loop (2% of a
// hashed run's instructions); any other goes through strconv.
func appendQuoted(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' || c > '~' || c == '"' || c == '\\' {
			return strconv.AppendQuote(b, s)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// ParseZxid reads "0x100000003" (or a decimal number).
func ParseZxid(s string) (Zxid, error) {
	v, err := strconv.ParseInt(s, 0, 64)
	if err != nil {
		return 0, err
	}
	return Zxid(v), nil
}
