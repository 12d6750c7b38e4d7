package model

// Txn is one transaction of the replicated state machine. The data-tree operations are
// filled in with the data model; the replication layer only needs the zxid and a value
// that makes two different txns at one zxid distinguishable.
type Txn struct {
	Zxid  Zxid
	Value string
}
