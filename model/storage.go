package model

import (
	"strconv"
)

// The bytes 3.8 writes to its data dir, counted from the jute records (zookeeper.jute,
// BinaryOutputArchive: int 4, long 8, boolean 1, ustring and buffer a 4-byte length then
// the bytes, vector a 4-byte count then the elements). Only the lengths matter: they are
// what the sync's snapshotSizeFactor rule and snapCount's size trigger compare.

const (
	fileHeaderSize     = 16                // FileHeader: int magic, int version, long dbid
	txnHeaderSize      = 32                // TxnHeader: long clientId, int cxid, long zxid, long time, int type
	txnDigestSize      = 12                // TxnDigest: int version, long treeDigest
	statPersistedSize  = 60                // StatPersisted: 6 longs (czxid mzxid ctime mtime ephemeralOwner pzxid), 3 ints
	zxidDigestSize     = 20                // DataTree.ZxidDigest.serialize: long zxid, int digestVersion, long digest
	aclSize            = 4 + 4 + 5 + 4 + 6 // ACL{int perms, Id{ustring "world", ustring "anyone"}}
	aclVectorSize      = 4 + aclSize       // OPEN_ACL_UNSAFE or READ_ACL_UNSAFE: one ACL
	bufferedStreamSize = 8192              // java.io.BufferedOutputStream's default buffer

	// digestEnabled is ZooKeeperServer.digestEnabled (zookeeper.digest.enabled, default true
	// in 3.8): every txn but a top-level error carries a TxnDigest, and a snapshot ends with
	// a ZxidDigest.
	digestEnabled = true
	// DefaultPreAllocSize is FilePadding.preAllocSize in KiB (zookeeper.preAllocSize).
	DefaultPreAllocSize = 65536
	// snapSizeInBytes is SyncRequestProcessor.snapSizeInBytes: zookeeper.snapSizeLimitInKb,
	// default 4 GiB (not configurable here).
	snapSizeInBytes = 4194304 * 1024
)

func juteString(s string) int64 { return 4 + int64(len(s)) }

// txnRecordSize is the serialised record that follows the TxnHeader (what
// PrepRequestProcessor.pRequest2Txn puts in request.txn). Creates carry OPEN_ACL_UNSAFE: the
// model has no ACLs.
func txnRecordSize(t *Txn) int64 {
	switch t.Type {
	case OpCreate: // CreateTxn: path, data, acl, ephemeral, parentCVersion
		return juteString(t.Path) + juteString(t.Data) + aclVectorSize + 1 + 4
	case OpDelete: // DeleteTxn: path
		return juteString(t.Path)
	case OpSetData: // SetDataTxn: path, data, version
		return juteString(t.Path) + juteString(t.Data) + 4
	case OpCheck: // CheckVersionTxn: path, version
		return juteString(t.Path) + 4
	case OpCreateSession: // CreateSessionTxn: timeOut
		return 4
	case OpCloseSession: // CloseSessionTxn: paths2Delete (zookeeper.closeSessionTxn.enabled, default true)
		n := int64(4)
		for _, p := range t.Paths {
			n += juteString(p)
		}
		return n
	case OpError: // ErrorTxn: err
		return 4
	case OpMulti: // MultiTxn: vector<Txn{int type, buffer data}>, data a serialised record
		n := int64(4)
		for _, op := range t.Ops {
			n += 4 + 4 + txnRecordSize(op)
		}
		return n
	}
	return 0
}

// marshalledTxnSize is the length of Util.marshallTxnEntry(hdr, txn, digest). A top-level
// error txn has no digest: pRequest2Txn threw before setTxnDigest.
func marshalledTxnSize(t *Txn) int64 {
	n := txnHeaderSize + txnRecordSize(t)
	if digestEnabled && t.Type != OpError {
		n += txnDigestSize
	}
	return n
}

// logEntrySize is what FileTxnLog.append writes for t: the crc long, then Util.writeTxnBytes
// (the marshalled entry as a buffer, then the 'B' end-of-record byte).
func logEntrySize(t *Txn) int64 { return 8 + 4 + marshalledTxnSize(t) + 1 }

// calculateFileSizeWithPadding mirrors FilePadding.calculateFileSizeWithPadding: a new file
// size only when the position is within 4 KiB of the known end and preAllocSize > 0 (so 0
// or a negative preAllocSize never pads).
func calculateFileSizeWithPadding(position, fileSize, preAllocSize int64) int64 {
	if preAllocSize > 0 && position+4096 >= fileSize {
		if position > fileSize {
			fileSize = position + preAllocSize
			fileSize -= fileSize % preAllocSize
		} else {
			fileSize += preAllocSize
		}
	}
	return fileSize
}

// logEntry is one txn as it lies in a log file on the sim.Disk, with what the file's length
// is while this is its last entry. A crash that drops later entries therefore leaves a length
// that matches the entries kept.
type logEntry struct {
	txn    *Txn
	end    int64 // the file position right after this entry
	length int64 // the file's length: max(padding, end), or end exactly after a truncation
}

// txnLogStream is FileTxnLog's open file (logStream over fos): the BufferedOutputStream's
// content, the channel position that FilePadding reads, and FilePadding.currentSize. It
// lives in the process: a restarted server opens a new file on its first append.
type txnLogStream struct {
	name     string
	flushed  int64 // fos.getChannel().position(): bytes written out to the file
	buffered int64 // bytes held in the BufferedOutputStream
	padded   int64 // FilePadding.currentSize
}

// newTxnLogStream mirrors the start of FileTxnLog.append: the FileHeader (two ints, written
// byte by byte, and a long) is flushed at once, "so that the magic number is written before
// padding", and FilePadding starts from the channel's position.
func newTxnLogStream(name string) *txnLogStream {
	w := &txnLogStream{name: name}
	for range 8 {
		w.writeByte()
	}
	w.writeArray(8)
	w.flush()
	w.padded = w.flushed
	return w
}

// writeArray is BufferedOutputStream.write(b, off, len): an array as long as the buffer
// goes straight to the file, one that does not fit flushes the buffer first.
func (w *txnLogStream) writeArray(n int64) {
	if n >= bufferedStreamSize {
		w.flush()
		w.flushed += n
		return
	}
	if n > bufferedStreamSize-w.buffered {
		w.flush()
	}
	w.buffered += n
}

// writeByte is BufferedOutputStream.write(int): flush only a full buffer.
func (w *txnLogStream) writeByte() {
	if w.buffered >= bufferedStreamSize {
		w.flush()
	}
	w.buffered++
}

func (w *txnLogStream) flush() { w.flushed += w.buffered; w.buffered = 0 }

// position is the archive's position: everything written, flushed or not.
func (w *txnLogStream) position() int64 { return w.flushed + w.buffered }

// length is File.length(): the padding or what was written out, whichever is further.
func (w *txnLogStream) length() int64 { return max(w.padded, w.flushed) }

// append mirrors the rest of FileTxnLog.append: filePadding.padFile(fos.getChannel()), then
// oa.writeLong(crc) (one 8-byte array), Util.writeTxnBytes: writeBuffer (an int written
// byte by byte by DataOutputStream.writeInt, as on JDK 17, then the array) and writeByte.
func (w *txnLogStream) append(t *Txn, preAllocSize int64) logEntry {
	w.padded = calculateFileSizeWithPadding(w.flushed, w.padded, preAllocSize)
	w.writeArray(8)
	for range 4 {
		w.writeByte()
	}
	w.writeArray(marshalledTxnSize(t))
	w.writeByte()
	end := w.position()
	return logEntry{txn: t, end: end, length: max(w.padded, end)}
}

// emptyLogLength is the length of a log file whose every entry a crash dropped: the header
// and the first padding were written before the first entry.
func emptyLogLength(preAllocSize int64) int64 {
	return calculateFileSizeWithPadding(fileHeaderSize, fileHeaderSize, preAllocSize)
}

// snapshotSize is the length of the file FileSnap.serialize writes for tree (uncompressed,
// zookeeper.snapshot.compression.method's default): the FileHeader; SerializeUtils.
// serializeSnapshot's sessions (int count, then long id and int timeout each); DataTree.
// serialize: the ReferenceCountedACLCache (int size, then per entry a long and its ACL
// vector) and every node from the root, whose path is "", as a ustring path, then DataNode
// (buffer data, long acl, StatPersisted), then the "/" end marker; SnapStream.sealStream
// (long checksum, ustring "/"); with digests, the ZxidDigest and a second seal.
//
// The model's tree leaves out /zookeeper/quota and /zookeeper/config, which DataTree's
// constructor makes: they are counted here, the config node holding configData
// (initConfigInZKDatabase) under READ_ACL_UNSAFE (addConfigNode). Every other node the model
// has was created with OPEN_ACL_UNSAFE (the system nodes have acl -1, not in the cache).
func snapshotSize(t *DataTree, configData string) int64 {
	node := func(path, data string) int64 { return juteString(path) + juteString(data) + 8 + statPersistedSize }
	n := int64(fileHeaderSize)
	n += 4 + int64(len(t.sessions))*(8+4)
	openACL := false
	for p, z := range t.nodes { // a sum: the map's order does not matter
		if p == "/" {
			p = ""
		} else if !isSpecialPath(p) {
			openACL = true
		}
		n += node(p, z.data)
	}
	if t.nodes["/zookeeper/quota"] == nil {
		n += node("/zookeeper/quota", "")
	}
	if t.nodes["/zookeeper/config"] == nil {
		n += node("/zookeeper/config", configData)
	}
	acls := int64(1) // READ_ACL_UNSAFE of /zookeeper/config
	if openACL {
		acls++
	}
	n += 4 + acls*(8+aclVectorSize)
	n += juteString("/")        // end of the nodes
	seal := 8 + juteString("/") // SnapStream.sealStream
	n += seal
	if digestEnabled {
		n += zxidDigestSize + seal
	}
	return n
}

// quorumConfigData is QuorumMaj.toString for a static configuration (version 0, client
// port in zoo.cfg): what QuorumPeer.initConfigInZKDatabase writes to /zookeeper/config.
// Hosts are named zk<sid> on the usual ports (the real data depends on the host names).
func quorumConfigData(voters []int64, observers []int64) string {
	b := make([]byte, 0, 48*(len(voters)+len(observers))+9)
	member := func(sid int64, kind string) {
		b = strconv.AppendInt(append(b, "server."...), sid, 10)
		b = strconv.AppendInt(append(b, "=zk"...), sid, 10)
		b = append(append(append(b, ":2888:3888:"...), kind...), '\n')
	}
	for _, v := range voters {
		member(v, "participant")
	}
	for _, o := range observers {
		member(o, "observer")
	}
	return string(append(b, "version=0"...))
}
