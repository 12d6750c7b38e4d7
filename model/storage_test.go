package model

import (
	"fmt"
	"strings"
	"testing"

	"github.com/zabsim/zabsim/sim"
)

// FileTxnLogTest's vectors for FilePadding.calculateFileSizeWithPadding (KB = 1024), then the
// paddings a real 3.8.0 leader's files show: 16 + 64 MiB with the default preAllocSize and
// 16 + 2 x 16 KiB with preAllocSize=16 once the position nears the first block's end.
func TestCalculateFileSizeWithPadding(t *testing.T) {
	const KB = 1024
	for _, c := range []struct {
		name                         string
		position, fileSize, prealloc int64
		want                         int64
	}{
		{"testInvalidPreallocSize 0", 7 * KB, 10 * KB, 0, 10 * KB},
		{"testInvalidPreallocSize -1", 7 * KB, 10 * KB, -1, 10 * KB},
		{"testCalculateFileSizeWithPaddingWhenNotToCurrentSize", 5 * KB, 10 * KB, 10 * KB, 10 * KB},
		{"testCalculateFileSizeWithPaddingWhenCloseToCurrentSize", 7 * KB, 10 * KB, 10 * KB, 20 * KB},
		{"testFileSizeGreaterThanPosition", 31 * KB, 10 * KB, 10 * KB, 40 * KB},
		{"a new file, default 64 MiB", 16, 16, 65536 * KB, 67108880},
		{"a new file, 16 KiB", 16, 16, 16 * KB, 16400},
		{"16 KiB, 4 KiB before the end", 12304, 16400, 16 * KB, 32784},
		{"16 KiB, just short of it", 12303, 16400, 16 * KB, 16400},
	} {
		if got := calculateFileSizeWithPadding(c.position, c.fileSize, c.prealloc); got != c.want {
			t.Errorf("%s: calculateFileSizeWithPadding(%d, %d, %d) = %d, want %d", c.name, c.position, c.fileSize, c.prealloc, got, c.want)
		}
	}
}

// Entry sizes from the jute layout: crc long 8 + buffer length 4 + TxnHeader 32 + record +
// TxnDigest 12 (not on a top-level error) + 'B' 1, so 57 + record (45 + record for an error).
func TestLogEntrySize(t *testing.T) {
	for _, c := range []struct {
		name string
		txn  *Txn
		want int64
	}{
		// CreateTxn: path 4+10, data 4+2, OPEN_ACL_UNSAFE 4+(4+4+5+4+6) = 27, ephemeral 1,
		// parentCVersion 4: 52.
		{"create /zabsim/w1 v1", &Txn{Type: OpCreate, Path: "/zabsim/w1", Data: "v1"}, 57 + 52},
		// SetDataTxn: path 4+2, data 4+5, version 4: 19.
		{"setData /a hello", &Txn{Type: OpSetData, Path: "/a", Data: "hello"}, 57 + 19},
		// DeleteTxn: path 4+2.
		{"delete /a", &Txn{Type: OpDelete, Path: "/a"}, 57 + 6},
		// CreateSessionTxn: timeOut 4.
		{"createSession", &Txn{Type: OpCreateSession, Timeout: 30 * sim.Second}, 57 + 4},
		// CloseSessionTxn: vector count 4, then 4+3 and 4+3.
		{"closeSession /e1 /e2", &Txn{Type: OpCloseSession, Paths: []string{"/e1", "/e2"}}, 57 + 18},
		// ErrorTxn: err 4, and no digest.
		{"error", &Txn{Type: OpError, Err: ErrNodeExists}, 45 + 4},
		// MultiTxn: count 4, then per op int type 4 + buffer 4 + the record: a CreateTxn of
		// /m "" (4+2 + 4 + 27 + 1 + 4 = 42), a CheckVersionTxn of /m (4+2 + 4 = 10) and an
		// ErrorTxn (4): 4 + 50 + 18 + 12 = 84.
		{"multi", &Txn{Type: OpMulti, Ops: []*Txn{{Type: OpCreate, Path: "/m"}, {Type: OpCheck, Path: "/m"}, {Type: OpError}}}, 57 + 84},
	} {
		if got := logEntrySize(c.txn); got != c.want {
			t.Errorf("%s: %d bytes, want %d", c.name, got, c.want)
		}
	}
}

// The snapshot of 3.8's initial tree for 3 servers, then with one session and one znode,
// counted from FileSnap.serialize:
//
//	FileHeader                                            16
//	session count 4, each long id + int timeout           4 (+12)
//	ACL cache: count 4, per entry long 8 + vector 4 + ACL 23:
//	  READ_ACL_UNSAFE of /zookeeper/config                4+35 (+35 OPEN_ACL_UNSAFE of /a)
//	nodes, each ustring path + buffer data + long acl 8 + StatPersisted 60:
//	  ""                  4+0  + 4+0   + 68               76
//	  "/zookeeper"        4+10 + 4+0   + 68               86
//	  "/zookeeper/quota"  4+16 + 4+0   + 68               92
//	  "/zookeeper/config" 4+17 + 4+114 + 68               207  (the 3 "server.N=zkN:2888:3888:participant\n" lines and "version=0")
//	  ("/a"               4+2  + 4+5   + 68               83)
//	"/" end marker 4+1, sealStream 8+4+1, ZxidDigest 20, sealStream 13   51
//
// 571 for the initial tree, 701 with the session and /a.
func TestSnapshotSize(t *testing.T) {
	cfg := quorumConfigData([]int64{1, 2, 3}, nil)
	if len(cfg) != 114 || !strings.HasPrefix(cfg, "server.1=zk1:2888:3888:participant\nserver.2=") {
		t.Fatalf("config data %q (%d bytes)", cfg, len(cfg))
	}
	tree := NewDataTree()
	if got := snapshotSize(tree, cfg); got != 571 {
		t.Errorf("initial tree: %d bytes, want 571", got)
	}
	tree.ProcessTxn(&Txn{Zxid: 1, Type: OpCreateSession, SessionID: 0x100, Timeout: 30 * sim.Second})
	tree.ProcessTxn(&Txn{Zxid: 2, Type: OpCreate, SessionID: 0x100, Path: "/a", Data: "hello"})
	if got := snapshotSize(tree, cfg); got != 701 {
		t.Errorf("with a session and /a: %d bytes, want 701", got)
	}
	// An observer's line ends ":observer".
	if got := quorumConfigData([]int64{1}, []int64{2}); got != "server.1=zk1:2888:3888:participant\nserver.2=zk2:2888:3888:observer\nversion=0" {
		t.Errorf("with an observer: %q", got)
	}
}

// The stream keeps FileTxnLog's BufferedOutputStream: FilePadding reads the channel
// position, which moves only when the 8 KiB buffer is flushed (a commit, or a write that
// does not fit), so the padding follows the flushes, not the appends.
func TestTxnLogStream(t *testing.T) {
	txn := func(i int) *Txn { return &Txn{Type: OpCreate, Path: fmt.Sprintf("/t%03d", i), Data: "d"} }
	const entry = 103 // 57 + CreateTxn 4+5 + 4+1 + 27 + 1 + 4
	if logEntrySize(txn(1)) != entry {
		t.Fatalf("entry %d bytes, want %d", logEntrySize(txn(1)), entry)
	}

	t.Run("commit after each append, 16 KiB", func(t *testing.T) {
		w := newTxnLogStream("log.1")
		if w.flushed != 16 || w.length() != 16 {
			t.Fatalf("new file: flushed %d, length %d; want the 16-byte header", w.flushed, w.length())
		}
		// The padding grows when the flushed position is within 4096 of 16400: at 12304, after
		// 120 entries (16 + 120 x 103 = 12376), so at the 121st append.
		for i := 1; i <= 121; i++ {
			e := w.append(txn(i), 16<<10)
			w.flush()
			want := int64(16400)
			if i == 121 {
				want = 32784
			}
			if e.length != want || w.length() != want || e.end != 16+int64(i)*entry {
				t.Fatalf("entry %d: length %d (stream %d), end %d; want %d, end %d", i, e.length, w.length(), e.end, want, 16+int64(i)*entry)
			}
		}
	})

	t.Run("no commit: the buffer flushes when full", func(t *testing.T) {
		w := newTxnLogStream("log.1")
		// 79 entries fill the buffer to 8137 bytes; the 80th writes its crc (8145) and length
		// (8149), then its 90-byte body does not fit: the 8149 bytes go out, the body and 'B'
		// stay (91).
		for i := 1; i <= 80; i++ {
			w.append(txn(i), 0)
			if i == 79 && (w.flushed != 16 || w.buffered != 8137) {
				t.Fatalf("after 79: flushed %d, buffered %d", w.flushed, w.buffered)
			}
		}
		if w.flushed != 16+8149 || w.buffered != 91 || w.position() != 16+80*entry {
			t.Fatalf("after 80: flushed %d, buffered %d, position %d", w.flushed, w.buffered, w.position())
		}
		// Without preallocation the file is as long as what was written out.
		if w.length() != w.flushed {
			t.Fatalf("length %d, flushed %d", w.length(), w.flushed)
		}
	})

	t.Run("an entry larger than the buffer goes straight out", func(t *testing.T) {
		w := newTxnLogStream("log.1")
		big := &Txn{Type: OpCreate, Path: "/big", Data: strings.Repeat("x", 10000)}
		e := w.append(big, 0)
		m := marshalledTxnSize(big)
		// crc 8 and length 4 are buffered, flushed before the body, which is written
		// directly; 'B' is buffered.
		if w.flushed != 16+12+m || w.buffered != 1 || e.end != 16+logEntrySize(big) {
			t.Fatalf("flushed %d, buffered %d, end %d", w.flushed, w.buffered, e.end)
		}
	})
}

// storageDB is a database on server 1's disk of an ensemble that never starts.
func storageDB(t *testing.T, preAllocKB int64) *zkDatabase {
	e := newEnsemble(t, 1, Config{Servers: 1, PreAllocSize: preAllocKB})
	return newZKDatabase(e.Cfg, e.W.Disk(1), NewDataTree(), new(serverSlabs))
}

// storageTxn is the create of counter c in epoch 1: 103 bytes in a log file.
func storageTxn(c int) *Txn {
	return &Txn{Zxid: MakeZxid(1, int64(c)), Type: OpCreate, SessionID: 0x77, Cxid: int32(c), Path: fmt.Sprintf("/t%03d", c), Data: "d"}
}

// writeFiles appends the txns with counters first..last of each file, each committed on
// its own (an fsync group of one), and rolls the log after each file.
func writeFiles(db *zkDatabase, files ...[2]int) {
	for _, f := range files {
		for c := f[0]; c <= f[1]; c++ {
			db.append(storageTxn(c))
			db.commit()
		}
		db.rollLog()
	}
}

// The size rule of getProposalsFromTxnLog on hand-built log layouts. Counters are of epoch 1;
// a file of n txns holds 16 + 103n bytes, padded to 16 + k x preAllocSize.
func TestTxnLogStorageSize(t *testing.T) {
	const K16 = 16 // KiB
	three := [][2]int{{1, 10}, {11, 20}, {21, 30}}
	for _, c := range []struct {
		name      string
		prealloc  int64 // KiB; 0 is the default (64 MiB), -1 none
		build     func(db *zkDatabase)
		start     int
		limit     int64
		size      int64 // getStorageSize
		first     int   // the first proposal returned (0: none)
		tooBig    bool
		above     bool
		proposals int
	}{
		{name: "one file: size 0 although its txns (3090 bytes after the start) exceed the limit",
			build: func(db *zkDatabase) { writeFiles(db, [2]int{1, 50}) }, start: 20, limit: 1000,
			size: 0, first: 1, proposals: 50},
		{name: "three files, 16 KiB: the start's file is read, the one after counts",
			prealloc: K16, build: func(db *zkDatabase) { writeFiles(db, three...) }, start: 15, limit: 20000,
			size: 16400, first: 11, proposals: 20},
		{name: "three files, 16 KiB, limit below one block",
			prealloc: K16, build: func(db *zkDatabase) { writeFiles(db, three...) }, start: 15, limit: 16399,
			size: 16400, tooBig: true},
		{name: "three files, default 64 MiB: one file after the start's is over the measured limit",
			build: func(db *zkDatabase) { writeFiles(db, three...) }, start: 15, limit: 39366,
			size: 67108880, tooBig: true},
		{name: "three files, no preallocation: the exact bytes, and a limit equal to them passes",
			prealloc: -1, build: func(db *zkDatabase) { writeFiles(db, three...) }, start: 15, limit: 16 + 10*103,
			size: 16 + 10*103, first: 11, proposals: 20},
		{name: "three files, no preallocation, one byte less",
			prealloc: -1, build: func(db *zkDatabase) { writeFiles(db, three...) }, start: 15, limit: 16 + 10*103 - 1,
			size: 16 + 10*103, tooBig: true},
		{name: "start in the last file: size 0",
			prealloc: K16, build: func(db *zkDatabase) { writeFiles(db, three...) }, start: 25, limit: 1,
			size: 0, first: 21, proposals: 10},
		{name: "a file named exactly startZxid counts, the older one is read",
			prealloc: K16, build: func(db *zkDatabase) { writeFiles(db, three...) }, start: 11, limit: 40000,
			size: 2 * 16400, first: 1, proposals: 30},
		{name: "a file named exactly startZxid and none older: it is read",
			prealloc: K16, build: func(db *zkDatabase) { writeFiles(db, [2]int{11, 20}, [2]int{21, 30}) }, start: 11, limit: 40000,
			size: 16400, first: 11, proposals: 20},
		{name: "the first txn read is above startZxid: refused before the size",
			prealloc: K16, build: func(db *zkDatabase) { writeFiles(db, [2]int{11, 20}, [2]int{21, 30}) }, start: 5, limit: 1,
			size: 16400, above: true},
		{name: "an emptied file is skipped: the next file is read and no longer counts",
			prealloc: K16, build: func(db *zkDatabase) {
				writeFiles(db, three...)
				db.disk.Truncate(zxidFileName(logPrefix, MakeZxid(1, 1)), 0)
			}, start: 5, limit: 1, size: 16400, above: true},
		{name: "a truncated file is as long as its txns, without padding",
			prealloc: K16, build: func(db *zkDatabase) {
				writeFiles(db, [2]int{1, 10}, [2]int{11, 20})
				if _, _, ok := db.truncateLog(MakeZxid(1, 15)); !ok {
					panic("no log")
				}
				writeFiles(db, [2]int{16, 18})
			}, start: 5, limit: 20000,
			size: (16 + 5*103) + 16400, first: 1, proposals: 18},
		{name: "the open file's length leaves out what its stream still buffers",
			prealloc: -1, build: func(db *zkDatabase) {
				writeFiles(db, [2]int{1, 10})
				db.append(storageTxn(11)) // no commit: in the BufferedOutputStream only
				db.append(storageTxn(12))
			}, start: 5, limit: 1000,
			size: 16, first: 1, proposals: 12},
	} {
		t.Run(c.name, func(t *testing.T) {
			db := storageDB(t, c.prealloc)
			c.build(db)
			r := db.proposalsFromTxnLog(MakeZxid(1, int64(c.start)), c.limit)
			if !r.Read || r.StorageSize != c.size || r.TooBig != c.tooBig || r.Above != c.above || len(r.Proposals) != c.proposals {
				t.Fatalf("got size %d tooBig %v above %v, %d proposals; want size %d tooBig %v above %v, %d proposals (files %v)",
					r.StorageSize, r.TooBig, r.Above, len(r.Proposals), c.size, c.tooBig, c.above, c.proposals, db.logFiles())
			}
			if c.first != 0 && r.Proposals[0].Zxid != MakeZxid(1, int64(c.first)) {
				t.Fatalf("first proposal %s, want counter %d", r.Proposals[0].Zxid, c.first)
			}
		})
	}
	t.Run("a negative limit does not read the log", func(t *testing.T) {
		db := storageDB(t, 0)
		writeFiles(db, three...)
		if r := db.proposalsFromTxnLog(MakeZxid(1, 15), -1); r.Read || r.Proposals != nil {
			t.Fatalf("got %+v", r)
		}
	})
}

// A crash keeps a prefix of a log file's entries, and the file's length is the one the last
// kept entry recorded; the restarted process starts a new file at its first append.
func TestLogLengthsAcrossCrash(t *testing.T) {
	w := sim.MustWorld(sim.Config{Seed: 3, CrashDisk: sim.LoseUnsynced})
	e, err := NewEnsemble(w, Config{Servers: 3, PreAllocSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	e.StartAll()
	l := mustStable(t, e, 30*sim.Second)
	if err := e.WriteAndWait(l.Sid(), 40, 10*sim.Second); err != nil {
		t.Fatal(err)
	}
	f := int64(1)
	if f == l.Sid() {
		f = 2
	}
	e.Write(l.Sid())
	w.RunUntilCond(func() bool { // the follower logged it, not yet synced
		recs := recordsOf[*Logged](e)
		return len(recs) > 0 && recs[len(recs)-1].Sid == f
	}, w.Now()+sim.Second)
	disk := w.Disk(sim.NodeID(f))
	before := e.Server(f).db.logFiles()
	last := before[len(before)-1]
	if disk.Durable(last) == disk.Len(last) {
		t.Fatal("the last append is already durable")
	}
	if err := w.CrashAs(sim.NodeID(f), sim.HostLoss); err != nil { // a process kill would keep the append
		t.Fatal(err)
	}
	restart(t, e, f)
	mustStable(t, e, 30*sim.Second)
	db := e.Server(f).db
	for _, name := range before {
		recs, _ := disk.Records(name)
		le := recs[len(recs)-1].(*logEntry)
		if got := db.logFileLength(name); got != le.length || got < le.end || got%1024 != 16 {
			t.Fatalf("%s: length %d, last kept entry ends at %d with length %d", name, got, le.end, le.length)
		}
	}
	kept := disk.Len(last)
	if err := e.WriteAndWait(l.Sid(), 1, 10*sim.Second); err != nil {
		t.Fatal(err)
	}
	// The DIFF re-sends the lost txn: it and the new write go to a new file.
	after := db.logFiles()
	if len(after) != len(before)+1 || disk.Len(last) != kept || disk.Len(after[len(after)-1]) != 2 {
		t.Fatalf("log files %v after %v: want the old ones untouched and a new one", after, before)
	}
}

// shouldSnapshot rolls after more than snapCount/2 + randRoll txns, randRoll drawn from
// [0, snapCount/2) at the start and after each roll; only the roll resets the count (the
// snapshots of Leader.lead and NEWLEADER do not).
func TestSnapCountRoll(t *testing.T) {
	e := newEnsemble(t, 9, Config{Servers: 3, SnapCount: 10})
	e.StartAll()
	l := mustStable(t, e, 30*sim.Second)
	if err := e.WriteAndWait(l.Sid(), 200, 10*sim.Second); err != nil {
		t.Fatal(err)
	}
	logged := map[int64]int{}
	seen := map[int]bool{}
	for _, r := range e.W.Trace().Records() {
		switch d := r.Data.(type) {
		case *Logged:
			logged[d.Sid]++
		case *SnapshotTaken:
			if d.Why != "snapCount" {
				continue
			}
			if n := logged[d.Sid]; n < 6 || n > 10 {
				t.Fatalf("server %d rolled after %d txns, want 6..10", d.Sid, n)
			}
			seen[logged[d.Sid]] = true
			logged[d.Sid] = 0
		}
	}
	if len(seen) < 3 {
		t.Fatalf("roll counts %v: randRoll does not vary", seen)
	}
}

// Fixes.DropSnapshotsOnTrunc judges a snapshot by the txns it holds, not by its name
// (cld-165527, cld-170063). A learner SNAP-synced by a leader of epoch 3 that has applied
// nothing of epoch 3 gets lastProcessedZxid 0x300000000 (Leader.startZkServer's
// setlastProcessedZxid, sent as the SNAP's zxid), so its NEWLEADER snapshot is
// snapshot.300000000 while it holds the txns up to 0x200000002. A TRUNC to 0x200000002 must
// keep it: deleted, the reload had only the learner's old epoch-1 log (or, with
// CleanLogOnSnap, nothing at all), and Learner.syncWithLeader then set lastProcessedZxid to
// 0x200000002 over that data.
func TestDropSnapshotsOnTruncKeepsSnapshotNamedAboveItsTxns(t *testing.T) {
	e1 := func(c int64) *Txn {
		return &Txn{Zxid: MakeZxid(1, c), Type: OpCreate, Path: fmt.Sprintf("/a%d", c), Data: "d"}
	}
	e2 := func(c int64) *Txn {
		return &Txn{Zxid: MakeZxid(2, c), Type: OpCreate, Path: fmt.Sprintf("/b%d", c), Data: "d"}
	}
	for _, clean := range []bool{false, true} {
		t.Run(fmt.Sprintf("CleanLogOnSnap=%v", clean), func(t *testing.T) {
			e := newEnsemble(t, 1, Config{Servers: 1, Fixes: Fixes{DropSnapshotsOnTrunc: true, CleanLogOnSnap: clean}})
			db := newZKDatabase(e.Cfg, e.W.Disk(1), NewDataTree(), new(serverSlabs))
			// The learner's own epoch-1 log, then the SNAP of the leader's tree.
			db.append(e1(1))
			db.commit()
			leader := NewDataTree()
			for _, txn := range []*Txn{e1(1), e1(2), e2(1), e2(2)} {
				leader.ProcessTxn(txn)
			}
			leader.LastProcessedZxid = MakeZxid(3, 0)
			db.clear()
			db.tree = leader.Clone()
			if clean {
				db.rollLog()
			}
			if name := db.takeSnapshot(false); name != zxidFileName(snapPrefix, MakeZxid(3, 0)) {
				t.Fatalf("NEWLEADER snapshot %s, want it named 0x300000000", name)
			}
			if clean {
				db.removeLogsUpTo(MakeZxid(3, 0))
			}
			db.append(&Txn{Zxid: MakeZxid(3, 1), Type: OpCreate, Path: "/c1", Data: "d"})
			db.commit()

			_, dropped, ok := db.truncateLog(MakeZxid(2, 2))
			if !ok || len(dropped) != 0 {
				t.Fatalf("truncateLog: ok %v, dropped %v; want the snapshot kept", ok, dropped)
			}
			for _, p := range []string{"/a1", "/a2", "/b1", "/b2"} {
				if _, _, ok := db.tree.GetData(p); !ok {
					t.Errorf("after the TRUNC %s is gone", p)
				}
			}
			if _, _, ok := db.tree.GetData("/c1"); ok {
				t.Error("after the TRUNC /c1 (0x300000001) is still there")
			}
		})
	}
}

// It still deletes a snapshot that holds a txn above the cut (the dirty snapshot of
// dirty-snapshot-trunc), whatever its name.
func TestDropSnapshotsOnTruncDropsSnapshotHoldingTxnAbove(t *testing.T) {
	e := newEnsemble(t, 1, Config{Servers: 1, Fixes: Fixes{DropSnapshotsOnTrunc: true}})
	db := newZKDatabase(e.Cfg, e.W.Disk(1), NewDataTree(), new(serverSlabs))
	for c := 1; c <= 3; c++ {
		db.append(storageTxn(c))
		db.commit()
		db.processTxn(storageTxn(c))
	}
	db.takeSnapshot(false) // Leader.lead's loadData snapshot, holding the uncommitted 0x100000003
	_, dropped, ok := db.truncateLog(MakeZxid(1, 2))
	if !ok || len(dropped) != 1 || dropped[0] != MakeZxid(1, 3) {
		t.Fatalf("truncateLog: ok %v, dropped %v; want snapshot 0x100000003 deleted", ok, dropped)
	}
	if _, _, ok := db.tree.GetData("/t003"); ok {
		t.Error("the TRUNC kept 0x100000003")
	}
}

// The committedLog keeps its last commitLogCount+1 proposals, in order, and in steady
// state reuses its array: a window that reaches the array's end moves down to its start
// (an append made a new array a quarter larger every 125 commits).
func TestCommittedLogReusesItsArray(t *testing.T) {
	db := storageDB(t, 0)
	txns := make([]*Txn, 4000)
	for c := range txns {
		txns[c] = storageTxn(c + 1)
	}
	for _, txn := range txns[:2000] {
		db.addCommittedProposal(txn)
	}
	allocs := testing.AllocsPerRun(1, func() {
		for _, txn := range txns[2000:] {
			db.addCommittedProposal(txn)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations in 2,000 commits in steady state", allocs)
	}
	log := db.committedLog
	if len(log) != db.cfg.CommitLogCount+1 {
		t.Fatalf("%d proposals, want %d", len(log), db.cfg.CommitLogCount+1)
	}
	for i, p := range log {
		if want := MakeZxid(1, int64(4000-len(log)+1+i)); p.Zxid != want || p.Txn.Zxid != want {
			t.Fatalf("proposal %d is %v, want %v", i, p.Zxid, want)
		}
	}
	if db.minCommitted != log[0].Zxid || db.maxCommitted != log[len(log)-1].Zxid {
		t.Errorf("min %v max %v, log %v..%v", db.minCommitted, db.maxCommitted, log[0].Zxid, log[len(log)-1].Zxid)
	}
	// the window is in the array, and no slot outside it holds on to a txn
	start := -1
	for i := range db.commitArr {
		if &db.commitArr[i] == &log[0] {
			start = i
		}
	}
	if start < 0 {
		t.Fatal("the committedLog is not in its array")
	}
	for i, p := range db.commitArr {
		if (i < start || i >= start+len(log)) && p.Txn != nil {
			t.Fatalf("slot %d outside the window [%d, %d) holds %v", i, start, start+len(log), p.Zxid)
		}
	}
}
