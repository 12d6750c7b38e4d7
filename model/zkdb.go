package model

import (
	"fmt"
	"slices"
	"strings"

	"github.com/zabsim/zabsim/sim"
)

// On-disk layout of a server's data dir, as FileTxnSnapLog and QuorumPeer lay it out:
// log.<zxid> txn log files (named after their first txn), snapshot.<zxid> files (named after
// the tree's lastProcessedZxid), and the acceptedEpoch and currentEpoch files.
const (
	fileAcceptedEpoch = "acceptedEpoch"
	fileCurrentEpoch  = "currentEpoch"
	fileUpdatingEpoch = "updatingEpoch" // Fixes.UpdatingEpochMarker only
	logPrefix         = "log."
	snapPrefix        = "snapshot."
)

// zxidFileName is prefix + 16 hex digits, so that sorted names are sorted zxids.
func zxidFileName(prefix string, z Zxid) string { return fmt.Sprintf("%s%016x", prefix, uint64(z)) }

func fileZxid(name, prefix string) Zxid {
	var v uint64
	fmt.Sscanf(strings.TrimPrefix(name, prefix), "%x", &v)
	return Zxid(v)
}

// snapshotFile is the content of a snapshot file: the serialised tree and sessions.
type snapshotFile struct {
	tree *DataTree
	size int64
}

// zkDatabase mirrors server/ZKDatabase.java together with FileTxnSnapLog: the in-memory
// DataTree and committedLog, and the txn log and snapshots on the node's disk.
type zkDatabase struct {
	mem          *serverSlabs // the log's entries and a cleared tree's nodes come from it
	cfg          *Config
	disk         *sim.Disk
	tree         *DataTree
	committedLog []Proposal
	commitArr    []Proposal // committedLog's whole array: the window moves down to its start when it reaches the end
	minCommitted Zxid
	maxCommitted Zxid
	initialized  bool
	out          *txnLogStream // FileTxnLog.logStream: the file being appended to; nil starts a new one
	txnCount     int           // ZKDatabase.txnCount: txns appended since the last rollLog
	configData   string        // /zookeeper/config's data (initConfigInZKDatabase), for the snapshot size
	// lastLoad: the snapshot the last loadDataBase started from and the txns it replayed
	// (a truncateLog reloads: its Loaded record says what that reload did)
	lastLoad struct {
		snap     Zxid
		replayed int
	}
}

func newZKDatabase(cfg *Config, disk *sim.Disk, tree *DataTree, mem *serverSlabs) *zkDatabase {
	return mem.dbs.big(zkDatabase{cfg: cfg, disk: disk, tree: tree, mem: mem})
}

// clear mirrors ZKDatabase.clear: an empty tree and committedLog, not initialized.
func (db *zkDatabase) clear() { db.clearTo(newDataTree(&db.mem.tree)) }

// clearTo is clear, then the tree the caller loads at once (a snapshot's): no empty tree
// is made only to be replaced.
func (db *zkDatabase) clearTo(tree *DataTree) {
	db.tree = tree
	db.committedLog, db.commitArr = nil, nil
	db.minCommitted, db.maxCommitted = 0, 0
	db.initialized = false
}

// lastProcessedZxid is getDataTreeLastProcessedZxid.
func (db *zkDatabase) lastProcessedZxid() Zxid { return db.tree.LastProcessedZxid }

// addCommittedProposal mirrors ZKDatabase.addCommittedProposal (3.8): trim first, then
// append, so the log holds commitLogCount+1 proposals in steady state.
func (db *zkDatabase) addCommittedProposal(txn *Txn) {
	if len(db.committedLog) > db.cfg.CommitLogCount {
		db.committedLog[0] = Proposal{}
		db.committedLog = db.committedLog[1:]
		db.minCommitted = db.committedLog[0].Zxid
	}
	if len(db.committedLog) == 0 {
		db.minCommitted, db.maxCommitted = txn.Zxid, txn.Zxid
	}
	if n := len(db.committedLog); n == cap(db.committedLog) {
		// The window slid to the end of its array. An append would copy it into a new array
		// a quarter larger every quarter of commitLogCount commits (a tenth of the bytes
		// of steady-state writes); move it down instead when the array holds it twice.
		// Nothing keeps a piece of the committedLog past a call (syncFollower copies).
		if cap(db.commitArr) < max(2*n, 4) {
			db.commitArr = array(db.mem.inMemory, &db.mem.proposals, 2*n+4)
		}
		clear(db.commitArr[copy(db.commitArr, db.committedLog):])
		db.committedLog = db.commitArr[:n]
	}
	db.committedLog = append(db.committedLog, Proposal{Zxid: txn.Zxid, Txn: txn})
	db.maxCommitted = txn.Zxid
}

// processTxn mirrors ZooKeeperServer.processTxn(Request) on the FinalRequestProcessor path:
// apply to the tree and feed the committedLog.
func (db *zkDatabase) processTxn(txn *Txn) ProcessTxnResult {
	rc := db.tree.processTxn(txn)
	db.addCommittedProposal(txn)
	return rc
}

// logFiles lists the txn log files, oldest first (shared: see sim.Disk.Names).
func (db *zkDatabase) logFiles() []string { return db.disk.NamesWithPrefix(logPrefix) }

// snapFiles lists the snapshot files, oldest first (shared: see sim.Disk.Names).
func (db *zkDatabase) snapFiles() []string { return db.disk.NamesWithPrefix(snapPrefix) }

// preAllocSize is FilePadding.preAllocSize in bytes (0: no padding).
func (db *zkDatabase) preAllocSize() int64 { return max(db.cfg.PreAllocSize, 0) * 1024 }

// append mirrors ZKDatabase.append / FileTxnLog.append: a new log file is started, named
// after this txn, when none is open. The append is volatile until the next fsync.
func (db *zkDatabase) append(txn *Txn) {
	if db.out == nil {
		db.out = newTxnLogStream(zxidFileName(logPrefix, txn.Zxid))
	}
	// In the BufferedOutputStream until the next commit: a process kill loses it before
	// then (sim.Disk.AppendBuffered; the stream's own flushes of a full buffer are not
	// told apart).
	e := db.mem.entries.new()
	*e = db.out.append(txn, db.preAllocSize())
	db.disk.AppendBuffered(db.out.name, e)
	db.txnCount++
}

// commit mirrors the first step of FileTxnLog.commit, logStream.flush(): what the
// BufferedOutputStream holds reaches the file. The caller starts the fsync.
func (db *zkDatabase) commit() {
	if db.out != nil {
		db.out.flush()
	}
}

// txnSize mirrors ZKDatabase.getTxnSize, FileTxnLog.getTotalLogSize: prevLogsRunningTotal,
// which ZKDatabase.rollLog always resets to 0 (only the disabled txnLogSizeLimitInKb roll
// would keep it), plus the open file's length.
func (db *zkDatabase) txnSize() int64 {
	if db.out == nil {
		return 0
	}
	return db.out.length()
}

// closeLog drops the open file (FileTxnLog.close): the next append starts a new one.
func (db *zkDatabase) closeLog() {
	db.commit()
	db.out = nil
}

// logFileLength is File.length() of a log file: the open file's from its stream, another's
// from its last entry.
func (db *zkDatabase) logFileLength(name string) int64 {
	if db.out != nil && db.out.name == name {
		return db.out.length()
	}
	recs, _ := db.disk.Records(name)
	if len(recs) == 0 {
		return emptyLogLength(db.preAllocSize())
	}
	return recs[len(recs)-1].(*logEntry).length
}

// removeLogsUpTo deletes the log files named at or below zxid (Fixes.CleanLogOnSnap, after
// a rollLog: the current file is newer) and returns how many it deleted.
func (db *zkDatabase) removeLogsUpTo(zxid Zxid) int {
	n := 0
	for _, f := range db.logFiles() {
		if fileZxid(f, logPrefix) <= zxid && (db.out == nil || f != db.out.name) {
			db.disk.Remove(f)
			n++
		}
	}
	return n
}

// rollLog mirrors ZKDatabase.rollLog: FileTxnLog.rollLog flushes and lets go of the file
// (the next append starts a new one), and resetTxnCount.
func (db *zkDatabase) rollLog() {
	db.closeLog()
	db.txnCount = 0
}

// takeSnapshot mirrors ZooKeeperServer.takeSnapshot(syncSnap): write the tree to
// snapshot.<lastProcessedZxid>. Without fsync the file is volatile until the next fsync (the
// caller fsyncs when it must); with it (a learner's NEWLEADER snapshot after a SNAP),
// FileSnap.serialize goes through SnapStream's AtomicFileOutputStream: fsynced and renamed
// into place before it returns. It leaves txnCount alone: only rollLog resets it.
func (db *zkDatabase) takeSnapshot(fsync bool) string {
	name := zxidFileName(snapPrefix, db.tree.LastProcessedZxid)
	tree := db.tree.Clone()
	snap := &snapshotFile{tree: tree, size: snapshotSize(tree, db.configData)}
	if fsync {
		db.disk.WriteAtomic(name, snap)
		return name
	}
	db.disk.Truncate(name, 0)
	db.disk.Append(name, snap)
	return name
}

// hasSnapshot reports whether snapshot.<zxid> exists.
func (db *zkDatabase) hasSnapshot(zxid Zxid) bool {
	return slices.Contains(db.snapFiles(), zxidFileName(snapPrefix, zxid))
}

// readTxns returns every intact txn of the log files, oldest first, dropping a torn last
// record (FileTxnIterator treats a partial record at the end as the end of the log).
func (db *zkDatabase) readTxns(files []string) []*Txn {
	n := 0
	for _, f := range files {
		if recs, torn := db.disk.Records(f); torn && len(recs) > 1 {
			// The torn bytes stay in the file: its length is still the torn entry's.
			prev := recs[len(recs)-2].(*logEntry)
			prev.length = max(prev.length, recs[len(recs)-1].(*logEntry).length)
		}
		db.disk.RemoveTorn(f)
		recs, _ := db.disk.Records(f)
		n += len(recs)
	}
	if n == 0 {
		return nil
	}
	out := array(db.mem.inMemory, &db.mem.txnLists, n)[:0]
	for _, f := range files {
		recs, _ := db.disk.Records(f)
		for _, r := range recs {
			out = append(out, r.(*logEntry).txn)
		}
	}
	return out
}

// latestSnapshot returns the newest intact snapshot (FileSnap.findMostRecentSnapshot skips
// files that fail to deserialise), or nil.
func (db *zkDatabase) latestSnapshot() *snapshotFile {
	files := db.snapFiles()
	for i := len(files) - 1; i >= 0; i-- {
		db.disk.RemoveTorn(files[i])
		if recs, _ := db.disk.Records(files[i]); len(recs) == 1 {
			return recs[0].(*snapshotFile)
		}
		db.disk.Remove(files[i]) // an empty snapshot file is useless
	}
	return nil
}

// loadDataBase mirrors ZKDatabase.loadDataBase / FileTxnSnapLog.restore: the newest
// snapshot, then every logged txn after it (committed or not: the log cannot tell),
// each also fed to the committedLog. It returns the number of txns replayed. Like restore
// it leaves an open log file open: only a new process (or truncateLog) starts a new one.
// It also returns the log it read.
func (db *zkDatabase) loadDataBase() (int, []*Txn) {
	db.lastLoad.snap = 0
	if s := db.latestSnapshot(); s != nil {
		db.clearTo(s.tree.Clone())
		db.lastLoad.snap = s.tree.LastProcessedZxid
	} else {
		db.clear()
	}
	n, log := db.fastForward()
	db.lastLoad.replayed = n
	db.initialized = true
	return n, log
}

// fastForward mirrors ZKDatabase.fastForwardDataBase: replay the txns logged after the
// tree's lastProcessedZxid. It returns how many were applied, and the log it read.
func (db *zkDatabase) fastForward() (int, []*Txn) {
	from := db.tree.LastProcessedZxid
	n := 0
	txns := db.readTxns(db.logFiles())
	if db.committedLog == nil { // room for what the replay feeds it, at once
		db.commitArr = array(db.mem.inMemory, &db.mem.proposals, min(len(txns), db.cfg.CommitLogCount+1))
		db.committedLog = db.commitArr[:0]
	}
	db.tree.roomFor(creates(txns, from))
	for _, txn := range txns {
		if txn.Zxid <= from {
			continue
		}
		db.processTxn(txn)
		n++
	}
	return n, txns
}

// creates counts the creates among the txns after zxid from, a multi's each.
func creates(txns []*Txn, from Zxid) int {
	n := 0
	for _, t := range txns {
		if t.Zxid <= from {
			continue
		}
		if t.Type == OpCreate {
			n++
		}
		for _, op := range t.Ops {
			if op.Type == OpCreate {
				n++
			}
		}
	}
	return n
}

// lastLoggedZxid is the zxid of the last txn in the log, or 0.
func (db *zkDatabase) lastLoggedZxid() Zxid {
	files := db.logFiles()
	for i := len(files) - 1; i >= 0; i-- {
		if recs, _ := db.disk.Records(files[i]); len(recs) > 0 {
			return recs[len(recs)-1].(*logEntry).txn.Zxid
		}
	}
	return 0
}

// truncateLog mirrors ZKDatabase.truncateLog / FileTxnSnapLog.truncateLog: close the open
// log file, cut the log after zxid (durably, at once), delete later files, then reload the
// database from disk; the next append starts a new file (a new FileTxnLog). It reports false
// when there is no log to truncate (Learner then exits with QUORUM_PACKET_ERROR).
// droppedSnaps names the snapshots Fixes.DropSnapshotsOnTrunc deleted.
func (db *zkDatabase) truncateLog(zxid Zxid) (removed int, droppedSnaps []Zxid, ok bool) {
	files := db.logFiles()
	if len(files) == 0 {
		if db.cfg.Fixes.DropSnapshotsOnTrunc {
			droppedSnaps = db.wipe()
		}
		return 0, droppedSnaps, false
	}
	db.closeLog()
	var cut []any // the kept entries of the last file that keeps any
	for _, f := range files {
		recs, _ := db.disk.Records(f)
		keep := len(recs)
		for i, r := range recs {
			if z := r.(*logEntry).txn.Zxid; z > zxid || (db.cfg.Mutants.TruncOffByOne && z == zxid) {
				keep = i
				break
			}
		}
		removed += len(recs) - keep
		if keep == 0 && fileZxid(f, logPrefix) > zxid {
			db.disk.Remove(f)
			continue
		}
		db.disk.Truncate(f, keep)
		if keep > 0 {
			cut = recs[:keep]
		}
	}
	// FileTxnLog.truncate: raf.setLength(pos) on the file the iterator stopped in, right
	// after the txn at zxid: no padding is left behind it.
	if len(cut) > 0 {
		end := cut[len(cut)-1].(*logEntry).end
		for _, r := range cut {
			r.(*logEntry).length = end
		}
	}
	// FileTxnSnapLog.truncateLog leaves the snapshots alone (unless fixed: see Fixes).
	if db.cfg.Fixes.DropSnapshotsOnTrunc {
		for _, f := range db.snapFiles() {
			if db.snapshotHoldsAbove(f, zxid) {
				db.disk.Remove(f)
				droppedSnaps = append(droppedSnaps, fileZxid(f, snapPrefix))
			}
		}
	}
	db.loadDataBase()
	if db.cfg.Fixes.DropSnapshotsOnTrunc && db.lastProcessedZxid() < zxid {
		// What is left does not reach zxid: the snapshot dropped was the only copy of txns
		// at or below it (the log has a hole, as a SNAP-synced learner's old log file
		// leaves one). Reloading it would lose them quietly: the learner gives up its data
		// instead, exits ("Not able to truncate"), and its next sync is a SNAP.
		return removed, append(droppedSnaps, db.wipe()...), false
	}
	return removed, droppedSnaps, true
}

// wipe (Fixes.DropSnapshotsOnTrunc) deletes every snapshot and log file: a learner that
// cannot truncate exactly starts again from nothing rather than from a state that is not
// its leader's (it held nothing committed that its leader lacks).
func (db *zkDatabase) wipe() []Zxid {
	var dropped []Zxid
	for _, f := range db.snapFiles() {
		db.disk.Remove(f)
		dropped = append(dropped, fileZxid(f, snapPrefix))
	}
	for _, f := range db.logFiles() {
		db.disk.Remove(f)
	}
	db.clear()
	return dropped
}

// snapshotHoldsAbove (Fixes.DropSnapshotsOnTrunc) reports whether snapshot file f holds a
// txn above zxid: judged by its content, not its name. A learner SNAP-synced by a leader of
// epoch e that had applied nothing of e names its NEWLEADER snapshot (e, 0), above a TRUNC
// to the leader's last txn of e-1 that it holds; deleting it for its name left such a
// learner with no data at all (cld-165527). A file that does not deserialise is judged by
// its name (findMostRecentSnapshot would skip it anyway).
func (db *zkDatabase) snapshotHoldsAbove(f string, zxid Zxid) bool {
	if recs, _ := db.disk.Records(f); len(recs) == 1 {
		return recs[0].(*snapshotFile).tree.lastTxn > zxid
	}
	return fileZxid(f, snapPrefix) > zxid
}

// txnLogSizeLimit mirrors ZKDatabase.calculateTxnLogSizeLimit: the latest snapshot file's
// size times snapshotSizeFactor, 0 (unlimited) without a snapshot.
func (db *zkDatabase) txnLogSizeLimit() int64 {
	files := db.snapFiles()
	for i := len(files) - 1; i >= 0; i-- {
		if recs, _ := db.disk.Records(files[i]); len(recs) == 1 {
			return int64(float64(recs[0].(*snapshotFile).size) * db.cfg.SnapshotSizeFactor)
		}
	}
	return 0
}

// txnLogRead is what getProposalsFromTxnLog learned from the log.
type txnLogRead struct {
	Proposals   []Proposal // what the TxnLogProposalIterator returns; nil for EMPTY_ITERATOR
	Read        bool       // it opened the iterator (sizeLimit >= 0)
	StorageSize int64      // itr.getStorageSize()
	TooBig      bool       // "Txnlog size: {} exceeds sizeLimit: {}"
	Above       bool       // "Unable to find proposals from txnlog for zxid"
}

// proposalsFromTxnLog mirrors ZKDatabase.getProposalsFromTxnLog(startZxid, sizeLimit) with
// snapLog.readTxnLog(startZxid, false): a FileTxnIterator without fast-forward.
//
// FileTxnIterator.init lists the log files newest first and keeps every file named at or
// above startZxid, then the first named below it, and stops; goToNextLog takes the oldest
// kept file as the one to read and next() reads its first txn, moving on to the next file
// while one holds none. getStorageSize is the length of the files left after the one being
// read: with a single log file it is 0, whatever the file holds.
func (db *zkDatabase) proposalsFromTxnLog(startZxid Zxid, sizeLimit int64) txnLogRead {
	var r txnLogRead
	if sizeLimit < 0 {
		return r // "Negative size limit - retrieving proposal via txnlog is disabled"
	}
	r.Read = true
	files := db.logFiles()
	first := 0
	for i, f := range files {
		if fileZxid(f, logPrefix) < startZxid {
			first = i // the newest file named below startZxid
		}
	}
	stored := files[first:] // oldest first: goToNextLog takes from the front
	var txns []*Txn
	for len(stored) > 0 && len(txns) == 0 {
		txns = db.readTxns(stored[:1])
		stored = stored[1:]
	}
	for _, f := range stored {
		r.StorageSize += db.logFileLength(f)
	}
	if len(txns) > 0 && txns[0].Zxid > startZxid {
		r.Above = true
		return r
	}
	if sizeLimit > 0 && r.StorageSize > sizeLimit {
		r.TooBig = true
		return r
	}
	txns = append(txns, db.readTxns(stored)...)
	r.Proposals = make([]Proposal, len(txns))
	for i, t := range txns {
		r.Proposals[i] = Proposal{Zxid: t.Zxid, Txn: t}
	}
	return r
}

// readEpoch reads an epoch file; ok is false when it does not exist.
func readEpoch(disk *sim.Disk, name string) (int64, bool) {
	recs, _ := disk.Records(name)
	if len(recs) == 0 {
		return 0, false
	}
	return recs[0].(int64), true
}

// proposalsFromTxnLogUnlimited is proposalsFromTxnLog without the size rule: what the
// iterator would return.
func (db *zkDatabase) proposalsFromTxnLogUnlimited(startZxid Zxid) []Proposal {
	return db.proposalsFromTxnLog(startZxid, 0).Proposals
}
