package sim

import (
	"slices"
	"strconv"
	"strings"
)

// DiskPolicy says what a crash does to writes that were not fsynced.
type DiskPolicy uint8

const (
	// LoseUnsynced drops every record appended since the last completed fsync.
	LoseUnsynced DiskPolicy = iota
	// KeepAll keeps everything, as if the OS flushed its page cache before dying.
	KeepAll
	// TearLastRecord drops unsynced records except the first, which survives torn: the
	// reader sees it marked as such and must stop there, as a checksum would make it.
	TearLastRecord
)

var diskPolicyNames = [...]string{LoseUnsynced: "lose-unsynced", KeepAll: "keep-all", TearLastRecord: "tear-last"}

func (p DiskPolicy) String() string {
	if int(p) < len(diskPolicyNames) {
		return diskPolicyNames[p]
	}
	return "DiskPolicy(" + strconv.Itoa(int(p)) + ")"
}

// ParseDiskPolicy reads "lose-unsynced", "keep-all" or "tear-last".
func ParseDiskPolicy(s string) (DiskPolicy, error) {
	for i, n := range diskPolicyNames {
		if n == s {
			return DiskPolicy(i), nil
		}
	}
	return 0, &SettingError{Setting: "disk policy", Value: s, Reason: "want lose-unsynced, keep-all or tear-last"}
}

// File is a named append-only file of records on a node's disk. A record goes through
// three places: the process's own buffer (AppendBuffered: lost when the process dies), the
// kernel's page cache (Append, or a buffered record once an fsync starts: it survives the
// process, not the host), and the disk (once an fsync completes: it survives anything).
type File struct {
	recs    []any
	written int  // records [0, written) reached the kernel
	durable int  // records [0, durable) survive any crash
	torn    bool // the last record was torn by a crash
	dirty   bool // in Disk.dirty: appended to since the last Fsync
}

// Disk is one node's disk: named files whose appends are volatile until an fsync completes.
type Disk struct {
	files map[string]*File // looked up by name; Names lists them in order
	// names is the sorted list Names returns, nil when a file was made or removed since:
	// a server lists its log and snapshot files several times at every load
	names   []string
	busy    Time // when the fsync in progress (if any) completes
	pending []fsyncReq
	spare   [][]fileMark // marks slices of completed fsyncs, for the next ones
	token   uint64
	// dirty are the files appended to since the last Fsync: the ones it marks. The others
	// are as long as an earlier fsync's mark (or durable already), and a disk keeps every
	// log and snapshot file of a long run, so an fsync of all of them grew with the run.
	dirty []*File
	mem   *Memory // where files' record arrays come from (the World's)
}

// fileMark is the length a file had when an fsync was asked for. A file removed and made
// again is another File: the mark of the old one no longer counts.
type fileMark struct {
	f *File
	n int
}

// fsyncReq is an fsync in progress: the length each file had when it was asked for.
type fsyncReq struct {
	token       uint64
	incarnation uint64
	marks       []fileMark
}

func newDisk(mem *Memory) *Disk { return &Disk{files: map[string]*File{}, mem: mem} }

// Disk returns node id's disk.
func (w *World) Disk(id NodeID) *Disk { return w.nodes[id].disk }

// Names lists the files on the disk, sorted. The list is shared: the caller must not change
// it (a file made or removed later does not change a list returned before).
func (d *Disk) Names() []string {
	if d.names == nil {
		names := make([]string, 0, len(d.files))
		for n := range d.files {
			names = append(names, n)
		}
		slices.Sort(names)
		d.names = names[:len(names):len(names)]
	}
	return d.names
}

// NamesWithPrefix lists the files whose names start with prefix, sorted: a piece of Names,
// shared as it is.
func (d *Disk) NamesWithPrefix(prefix string) []string {
	names := d.Names()
	lo, _ := slices.BinarySearch(names, prefix)
	hi := lo
	for hi < len(names) && strings.HasPrefix(names[hi], prefix) {
		hi++
	}
	return names[lo:hi:hi]
}

func (d *Disk) file(name string) *File {
	f := d.files[name]
	if f == nil {
		f = d.mem.newFile()
		d.files[name] = f
		d.names = nil
	}
	return f
}

// Append writes rec at the end of file name, as write(2) does: it survives a process
// kill (the kernel has it) but not a host loss until an fsync completes.
func (d *Disk) Append(name string, rec any) {
	f := d.file(name)
	d.appendRec(f, rec, 1) // a snapshot: one record
	f.written = len(f.recs)
	d.touch(f)
}

// appendRec adds rec at the end of f's records, doubling the array when it is full. A
// plain append grows a long array by a quarter, so a log file of 100,000 txns (snapCount)
// was copied and reallocated some forty times: five times its size in garbage, a fifth of
// the bytes of steady-state writes. first is the room of a new file.
func (d *Disk) appendRec(f *File, rec any, first int) {
	if len(f.recs) == cap(f.recs) {
		f.recs = grow(d.mem, &d.mem.recs, f.recs, max(first, 2*cap(f.recs)))
	}
	f.recs = append(f.recs, rec)
}

// touch lists f among the files the next Fsync marks.
func (d *Disk) touch(f *File) {
	if !f.dirty {
		f.dirty = true
		d.dirty = append(d.dirty, f)
	}
}

// AppendBuffered adds rec at the end of file name in the process's own buffer (a Java
// BufferedOutputStream): a process kill loses it until the next Fsync, which flushes every
// buffer first (FileTxnLog.commit: logStream.flush, then force).
func (d *Disk) AppendBuffered(name string, rec any) {
	f := d.file(name)
	d.appendRec(f, rec, 16) // a log file: its first records at once
	d.touch(f)
}

// Records returns the records of file name (shared, do not modify) and whether the last
// one is torn.
func (d *Disk) Records(name string) (recs []any, torn bool) {
	f := d.files[name]
	if f == nil {
		return nil, false
	}
	return f.recs, f.torn
}

// Len is the number of records in file name.
func (d *Disk) Len(name string) int {
	if f := d.files[name]; f != nil {
		return len(f.recs)
	}
	return 0
}

// Durable is the number of records of file name that would survive a crash now.
func (d *Disk) Durable(name string) int {
	if f := d.files[name]; f != nil {
		return f.durable
	}
	return 0
}

// Truncate cuts file name to its first n records, durably at once (ZooKeeper's
// FileTxnLog.truncate rewrites the file and syncs it before it returns).
func (d *Disk) Truncate(name string, n int) {
	f := d.file(name)
	if n < len(f.recs) {
		clear(f.recs[n:])
		f.recs = f.recs[:n]
		f.torn = false
	}
	f.durable = min(f.durable, n)
	f.written = min(f.written, n)
	d.lowerMarks(f, n)
}

// WriteAtomic replaces file name by the single record rec, durably at once, as ZooKeeper's
// AtomicFileOutputStream (write a temporary file, fsync, rename) does for currentEpoch.
func (d *Disk) WriteAtomic(name string, rec any) {
	f := d.file(name)
	clear(f.recs)
	f.recs = append(f.recs[:0], rec)
	f.durable, f.written = 1, 1
	f.torn = false
	d.lowerMarks(f, 1) // an fsync in flight covers at most the new record
}

// Remove deletes file name durably. An fsync in flight no longer covers it: a file created
// again under that name starts volatile.
func (d *Disk) Remove(name string) {
	if _, ok := d.files[name]; ok {
		delete(d.files, name) // a file made again under the name is a new File: no mark covers it
		d.names = nil
	}
}

// Fsync starts an fsync of every file on node id's disk. Fsyncs queue: each takes
// Config.FsyncLatency after the one before it. When it completes, what was appended before
// this call is durable and the node's FsyncDone gets the returned token. A crash before
// then cancels it.
func (w *World) Fsync(id NodeID) uint64 {
	s := w.nodes[id]
	d := s.disk
	d.token++
	var marks []fileMark
	if k := len(d.spare); k > 0 {
		marks, d.spare = d.spare[k-1][:0], d.spare[:k-1]
	}
	// Every file, as the kernel sees it; a file not appended to since the last Fsync needs
	// no mark of its own (see Disk.dirty). Each file is independent: order does not matter.
	for _, f := range d.dirty {
		f.written = len(f.recs) // the buffers are flushed to the kernel first
		marks = append(marks, fileMark{f, len(f.recs)})
		f.dirty = false
	}
	clear(d.dirty)
	d.dirty = d.dirty[:0]
	d.pending = append(d.pending, fsyncReq{token: d.token, incarnation: s.incarnation, marks: marks})
	start := max(w.now, d.busy)
	d.busy = start.add(w.cfg.FsyncLatency)
	w.push(d.busy, evFsync, id, 0, d.token)
	return d.token
}

// fsyncDue completes the fsyncs up to this token and reports whether the node should hear
// of it: the fsync is its current incarnation's. An fsync that a killed process started
// still completes (the kernel finishes it); a host loss cancelled it (see crash).
func (d *Disk) fsyncDue(token, incarnation uint64) bool {
	for len(d.pending) > 0 && d.pending[0].token <= token {
		p := d.pending[0]
		// pop by moving the rest down: the array is reused
		d.pending = d.pending[:copy(d.pending, d.pending[1:])]
		for _, m := range p.marks { // order does not matter: each file is independent
			if m.n > m.f.durable {
				m.f.durable = min(m.n, len(m.f.recs))
			}
		}
		d.spare = append(d.spare, p.marks)
		if p.token == token {
			return p.incarnation == incarnation
		}
	}
	return false
}

// kill is what a process kill does to the disk: what the process still buffered is lost;
// what reached the kernel stays, and fsyncs in progress complete.
func (d *Disk) kill() {
	for _, f := range d.files { // each file is independent: order does not matter
		if len(f.recs) > f.written {
			clear(f.recs[f.written:])
			f.recs = f.recs[:f.written]
		}
	}
}

// lowerMarks makes every fsync in flight cover at most the first n records of f.
func (d *Disk) lowerMarks(f *File, n int) {
	for _, p := range d.pending {
		for i := range p.marks {
			if p.marks[i].f == f && p.marks[i].n > n {
				p.marks[i].n = n
			}
		}
	}
}

// crash applies policy to every file and cancels fsyncs in progress: a host loss (or a
// disk error) loses the page cache. Buffered records are lost whatever the policy.
func (d *Disk) crash(policy DiskPolicy) {
	d.kill()
	d.pending = nil
	// The cancelled fsyncs do not hold up the next incarnation's.
	d.busy = 0
	for _, f := range d.files { // each file is independent: order does not matter
		f.written = len(f.recs)
		switch policy {
		case KeepAll:
			f.durable = len(f.recs)
		case LoseUnsynced:
			clear(f.recs[f.durable:])
			f.recs = f.recs[:f.durable]
		case TearLastRecord:
			if len(f.recs) > f.durable {
				clear(f.recs[f.durable+1:])
				f.recs = f.recs[:f.durable+1]
				f.torn = true
				f.durable = len(f.recs)
			}
		}
	}
}

// RemoveTorn drops a torn last record from file name, as ZooKeeper's log reader skips a
// record whose checksum fails. It reports whether there was one.
func (d *Disk) RemoveTorn(name string) bool {
	f := d.files[name]
	if f == nil || !f.torn {
		return false
	}
	f.recs[len(f.recs)-1] = nil
	f.recs = f.recs[:len(f.recs)-1]
	f.durable = min(f.durable, len(f.recs))
	f.written = min(f.written, len(f.recs))
	f.torn = false
	return true
}
