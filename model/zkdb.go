package model

import (
	"fmt"
	"strings"

	"zabsim/sim"
)

// On-disk layout of a server's data dir, as FileTxnSnapLog and QuorumPeer lay it out:
// log.<zxid> txn log files (named after their first txn), snapshot.<zxid> files (named after
// the tree's lastProcessedZxid), and the acceptedEpoch and currentEpoch files.
const (
	fileAcceptedEpoch = "acceptedEpoch"
	fileCurrentEpoch  = "currentEpoch"
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
	cfg          *Config
	disk         *sim.Disk
	tree         *DataTree
	committedLog []Proposal
	minCommitted Zxid
	maxCommitted Zxid
	initialized  bool
	curLog       string // the txn log file being appended to; "" starts a new one (FileTxnLog.logStream)
	sinceSnap    int    // txns logged since the last snapshot (SyncRequestProcessor.logCount)
	snapAt       int    // roll the log and snapshot when sinceSnap exceeds this (randomised)
}

func newZKDatabase(cfg *Config, disk *sim.Disk) *zkDatabase {
	return &zkDatabase{cfg: cfg, disk: disk, tree: NewDataTree()}
}

// clear mirrors ZKDatabase.clear: an empty tree and committedLog, not initialized.
func (db *zkDatabase) clear() {
	db.tree = NewDataTree()
	db.committedLog = nil
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

// logFiles lists the txn log files, oldest first.
func (db *zkDatabase) logFiles() []string {
	var out []string
	for _, n := range db.disk.Names() {
		if strings.HasPrefix(n, logPrefix) {
			out = append(out, n)
		}
	}
	return out
}

// snapFiles lists the snapshot files, oldest first.
func (db *zkDatabase) snapFiles() []string {
	var out []string
	for _, n := range db.disk.Names() {
		if strings.HasPrefix(n, snapPrefix) {
			out = append(out, n)
		}
	}
	return out
}

// append mirrors ZKDatabase.append / FileTxnLog.append: a new log file is started, named
// after this txn, when none is open. The append is volatile until the next fsync.
func (db *zkDatabase) append(txn *Txn) {
	if db.curLog == "" {
		db.curLog = zxidFileName(logPrefix, txn.Zxid)
	}
	db.disk.AppendBuffered(db.curLog, txn) // BufferedOutputStream: in the kernel at the next commit
	db.sinceSnap++
}

// removeLogsUpTo deletes the log files named at or below zxid (Fixes.CleanLogOnSnap, after
// a rollLog: the current file is newer) and returns how many it deleted.
func (db *zkDatabase) removeLogsUpTo(zxid Zxid) int {
	n := 0
	for _, f := range db.logFiles() {
		if fileZxid(f, logPrefix) <= zxid && f != db.curLog {
			db.disk.Remove(f)
			n++
		}
	}
	return n
}

// rollLog mirrors ZKDatabase.rollLog: the next append starts a new file.
func (db *zkDatabase) rollLog() { db.curLog = "" }

// takeSnapshot mirrors ZooKeeperServer.takeSnapshot(syncSnap): write the tree to
// snapshot.<lastProcessedZxid>. Unless sync is set the file is volatile until the next fsync
// (the caller fsyncs when it must).
func (db *zkDatabase) takeSnapshot() string {
	name := zxidFileName(snapPrefix, db.tree.LastProcessedZxid)
	tree := db.tree.Clone()
	db.disk.Truncate(name, 0)
	db.disk.Append(name, &snapshotFile{tree: tree, size: tree.size()})
	db.sinceSnap = 0
	return name
}

// readTxns returns every intact txn of the log files, oldest first, dropping a torn last
// record (FileTxnIterator treats a partial record at the end as the end of the log).
func (db *zkDatabase) readTxns(files []string) []*Txn {
	var out []*Txn
	for _, f := range files {
		db.disk.RemoveTorn(f)
		recs, _ := db.disk.Records(f)
		for _, r := range recs {
			out = append(out, r.(*Txn))
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
// each also fed to the committedLog. It returns the number of txns replayed.
func (db *zkDatabase) loadDataBase() int {
	db.clear()
	if s := db.latestSnapshot(); s != nil {
		db.tree = s.tree.Clone()
	}
	n := db.fastForward()
	db.initialized = true
	db.curLog = ""
	return n
}

// fastForward mirrors ZKDatabase.fastForwardDataBase: replay the txns logged after the
// tree's lastProcessedZxid. It returns how many were applied.
func (db *zkDatabase) fastForward() int {
	from := db.tree.LastProcessedZxid
	n := 0
	for _, txn := range db.readTxns(db.logFiles()) {
		if txn.Zxid <= from {
			continue
		}
		db.processTxn(txn)
		n++
	}
	return n
}

// lastLoggedZxid is the zxid of the last txn in the log, or 0.
func (db *zkDatabase) lastLoggedZxid() Zxid {
	files := db.logFiles()
	for i := len(files) - 1; i >= 0; i-- {
		if recs, _ := db.disk.Records(files[i]); len(recs) > 0 {
			return recs[len(recs)-1].(*Txn).Zxid
		}
	}
	return 0
}

// truncateLog mirrors ZKDatabase.truncateLog / FileTxnLog.truncate: cut the log after zxid
// (durably, at once), delete later files, then reload the database from disk. It reports
// false when there is no log to truncate (Learner then exits with QUORUM_PACKET_ERROR).
func (db *zkDatabase) truncateLog(zxid Zxid) (removed, droppedSnaps int, ok bool) {
	files := db.logFiles()
	if len(files) == 0 {
		return 0, 0, false
	}
	for _, f := range files {
		recs, _ := db.disk.Records(f)
		keep := len(recs)
		for i, r := range recs {
			if z := r.(*Txn).Zxid; z > zxid || (db.cfg.Mutants.TruncOffByOne && z == zxid) {
				keep = i
				break
			}
		}
		removed += len(recs) - keep
		if keep == 0 && fileZxid(f, logPrefix) > zxid {
			db.disk.Remove(f)
		} else {
			db.disk.Truncate(f, keep)
		}
	}
	// FileTxnSnapLog.truncateLog leaves the snapshots alone (unless fixed: see Fixes).
	if db.cfg.Fixes.DropSnapshotsOnTrunc {
		for _, f := range db.snapFiles() {
			if fileZxid(f, snapPrefix) > zxid {
				db.disk.Remove(f)
				droppedSnaps++
			}
		}
	}
	db.loadDataBase()
	return removed, droppedSnaps, true
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

// proposalsFromTxnLog mirrors ZKDatabase.getProposalsFromTxnLog(startZxid, sizeLimit):
// every txn from the start of the newest log file named at or below startZxid to the end
// of the log, or nil when that first txn is above startZxid or the files are too big.
func (db *zkDatabase) proposalsFromTxnLog(startZxid Zxid, sizeLimit int64) []Proposal {
	if sizeLimit < 0 {
		return nil
	}
	files := db.logFiles()
	start := -1
	for i, f := range files { // FileTxnLog.getLogFiles
		if fileZxid(f, logPrefix) <= startZxid {
			start = i
		}
	}
	if start < 0 {
		start = 0
	}
	files = files[start:]
	txns := db.readTxns(files)
	if len(txns) == 0 || txns[0].Zxid > startZxid {
		return nil // "Unable to find proposals from txnlog for zxid"
	}
	if sizeLimit > 0 {
		var total int64
		for _, t := range txns {
			total += t.size()
		}
		if total > sizeLimit {
			return nil // "Txnlog size ... exceeds sizeLimit"
		}
	}
	out := make([]Proposal, len(txns))
	for i, t := range txns {
		out[i] = Proposal{Zxid: t.Zxid, Txn: t}
	}
	return out
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
// files after startZxid hold.
func (db *zkDatabase) proposalsFromTxnLogUnlimited(startZxid Zxid) []Proposal {
	return db.proposalsFromTxnLog(startZxid, 0)
}
