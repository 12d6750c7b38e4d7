package checker

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/zabsim/zabsim/model"
	"github.com/zabsim/zabsim/sim"
)

// Linearizability: the clients' operations on each znode, as the client records show them,
// checked with porcupine against a sequential znode (ZnodeModel), one partition per path.
//
// The history. Every create, delete, setData and getData/exists a client called, and the
// create, delete, setData and check ops of its multis (split by path: a multi's atomicity
// across paths is not checked), with virtual call and return times.
//
// Unknown outcomes. An operation whose client failed it itself (ConnectionLoss,
// OperationTimeout, RequestTimeout, SessionExpired with no server reply: ClientReturn.Server
// -1), and a call that never returned, may or may not have happened. It gets an unknown
// output and the return time +infinity (math.MaxInt64): porcupine may linearize it anywhere
// after its call, and since no completed operation follows an infinite return, "never"
// amounts to "at the end". Porcupine's search is exponential in the number of such open
// windows (twenty lost creates of one path exhaust any timeout), so the ones that cannot
// have happened are left out first (LinearizabilityResult.Vanished): a call its client
// failed before it ever had a session was never sent (ClientCnxn writes requests only on a
// connection whose ConnectResponse came), and a write whose txn (found by its session and
// xid) never entered G, or entered it as an ErrorTxn or a failed multi, had no effect that
// anyone could see. A read with no reply tells nothing and is left out.
//
// Reads. ZooKeeper's reads are sequentially consistent, not linearizable: a follower answers
// from the state at its own last zxid, which may be older than the call. A read answered at
// zxid Z is therefore given the call time min(call, the time Z entered G): the state at Z
// was the current state at that moment, so a correct run has a linearization with every
// write at its commit and every read at its zxid's commit. What porcupine then checks is that
// the value read is that of the latest write in that window, or of a concurrent one. A read
// at a zxid G never reached is left out.
//
// Scope. A path is left out when something outside the clients' calls changed it: a txn of
// a session no client record names (the ensemble's own writes), an ephemeral node (a session
// expiry deletes it), or a sequential create (a lost one leaves a node of unknown name).
// getChildren is left out (the partition of a path does not see its children).
//
// The search. ZooKeeper commits writes in zxid order, so the order of a path's operations by
// zxid is tried first as a linearization (witnessOk): if it respects real time and every step
// is legal, the path is linearizable and porcupine is not needed. Porcupine searches the
// paths without such a witness, which in a correct run are none.
//
// Porcupine gets a wall-clock timeout (Options.LinearizabilityTimeout) only so that a
// pathological history cannot hang a run; the histories of a run are small enough per path
// that it is never reached in practice. If it is, the outcome is Unknown: neither a pass nor
// a violation, and never part of the trace.

// ZnodeInput is an operation on one znode, as porcupine's Operation.Input.
type ZnodeInput struct {
	Op      model.OpCode // OpCreate, OpDelete, OpSetData, OpCheck, OpGetData, OpExists
	Path    string
	Data    string // create, setData: the value written
	Version int32  // delete, setData, check: the expected version (-1 any)
}

// ZnodeOutput is its result, as porcupine's Operation.Output.
type ZnodeOutput struct {
	Unknown bool   // the outcome is unknown (no reply): it may or may not have happened
	Err     int32  // ErrOK or the KeeperException code
	Data    string // getData
	Version int32  // getData, exists, setData: the Stat's version
	Zxid    model.Zxid
}

// ZnodeState is the sequential znode: absent, or data with a version. A state that is not
// Resolved is the initial one, which depends on the path ("/" and "/zookeeper" exist).
type ZnodeState struct {
	Resolved bool
	Exists   bool
	Data     string
	Version  int32
}

func initialZnode(path string) ZnodeState {
	return ZnodeState{Resolved: true, Exists: path == "/" || path == "/zookeeper"}
}

// ZnodeStep is the sequential specification: whether the operation may take the state to
// the output, and the state after it (DataTree and PrepRequestProcessor's order of checks:
// the node, then the version; a delete's NotEmpty is always allowed on a matching node,
// since one path's partition does not see its children). Errors the model does not know
// (SessionExpired from a server, BadArguments, ...) change nothing and are always allowed.
func ZnodeStep(st ZnodeState, in ZnodeInput, out ZnodeOutput) (bool, ZnodeState) {
	if !st.Resolved {
		st = initialZnode(in.Path)
	}
	vok := in.Version == -1 || in.Version == st.Version
	gone := ZnodeState{Resolved: true}
	if out.Unknown {
		switch in.Op {
		case model.OpCreate:
			if !st.Exists {
				return true, ZnodeState{Resolved: true, Exists: true, Data: in.Data}
			}
		case model.OpDelete:
			if st.Exists && vok {
				return true, gone
			}
		case model.OpSetData:
			if st.Exists && vok {
				return true, ZnodeState{Resolved: true, Exists: true, Data: in.Data, Version: st.Version + 1}
			}
		}
		return true, st
	}
	switch in.Op {
	case model.OpCreate:
		switch out.Err {
		case model.ErrOK:
			return !st.Exists, ZnodeState{Resolved: true, Exists: true, Data: in.Data}
		case model.ErrNodeExists:
			return st.Exists, st
		case model.ErrNoNode, model.ErrNoChildrenForEphemerals:
			return !st.Exists, st // the parent is missing or ephemeral: no such node either
		}
	case model.OpDelete:
		switch out.Err {
		case model.ErrOK:
			return st.Exists && vok, gone
		case model.ErrNoNode:
			return !st.Exists, st
		case model.ErrBadVersion:
			return st.Exists && !vok, st
		case model.ErrNotEmpty:
			return st.Exists && vok, st
		}
	case model.OpSetData:
		switch out.Err {
		case model.ErrOK:
			return st.Exists && vok && out.Version == st.Version+1,
				ZnodeState{Resolved: true, Exists: true, Data: in.Data, Version: st.Version + 1}
		case model.ErrNoNode:
			return !st.Exists, st
		case model.ErrBadVersion:
			return st.Exists && !vok, st
		}
	case model.OpCheck:
		switch out.Err {
		case model.ErrOK:
			return st.Exists && vok, st
		case model.ErrNoNode:
			return !st.Exists, st
		case model.ErrBadVersion:
			return st.Exists && !vok, st
		}
	case model.OpGetData:
		switch out.Err {
		case model.ErrOK:
			return st.Exists && out.Data == st.Data && out.Version == st.Version, st
		case model.ErrNoNode:
			return !st.Exists, st
		}
	case model.OpExists:
		switch out.Err {
		case model.ErrOK:
			return st.Exists && out.Version == st.Version, st
		case model.ErrNoNode:
			return !st.Exists, st
		}
	}
	return true, st
}

// ZnodeModel is the porcupine model of a znode, partitioned by path. Operations carry a
// ZnodeInput and a ZnodeOutput, as values or as pointers.
func ZnodeModel() porcupine.Model {
	return porcupine.Model{
		Partition: partitionByPath,
		Init:      func() interface{} { return ZnodeState{} },
		Step: func(state, input, output interface{}) (bool, interface{}) {
			st := state.(ZnodeState)
			ok, next := ZnodeStep(st, asInput(input), asOutput(output))
			if next == st {
				return ok, state // no new box
			}
			return ok, next
		},
		Equal: func(a, b interface{}) bool { return a.(ZnodeState) == b.(ZnodeState) },
		Hash: func(state interface{}) uint64 {
			s := state.(ZnodeState)
			h := uint64(14695981039346656037) // FNV-1a of the data, then the rest
			for i := 0; i < len(s.Data); i++ {
				h = (h ^ uint64(s.Data[i])) * 1099511628211
			}
			v := uint64(uint32(s.Version))
			if s.Exists {
				v |= 1 << 32
			}
			if s.Resolved {
				v |= 1 << 33
			}
			return h ^ v*0x9e3779b97f4a7c15
		},
		DescribeOperation: func(input, output interface{}) string {
			in := asInput(input)
			return in.Path + " " + describeZnodeOp(in, asOutput(output))
		},
		DescribeState: func(state interface{}) string {
			s := state.(ZnodeState)
			switch {
			case !s.Resolved:
				return "(initial)"
			case !s.Exists:
				return "absent"
			}
			return fmt.Sprintf("%q v%d", s.Data, s.Version)
		},
	}
}

// asInput and asOutput take an Operation's Input and Output as values or pointers; anything
// else (porcupine passes nil for the missing half of a malformed operation) is the zero value.
func asInput(x interface{}) ZnodeInput {
	switch v := x.(type) {
	case *ZnodeInput:
		if v != nil {
			return *v
		}
	case ZnodeInput:
		return v
	}
	return ZnodeInput{}
}

func asOutput(x interface{}) ZnodeOutput {
	switch v := x.(type) {
	case *ZnodeOutput:
		if v != nil {
			return *v
		}
	case ZnodeOutput:
		return v
	}
	return ZnodeOutput{}
}

// partitionByPath splits a history by path, in order of first appearance.
func partitionByPath(h []porcupine.Operation) [][]porcupine.Operation {
	idx := map[string]int{}
	var out [][]porcupine.Operation
	for _, op := range h {
		p := asInput(op.Input).Path
		k, ok := idx[p]
		if !ok {
			k = len(out)
			idx[p] = k
			out = append(out, nil)
		}
		out[k] = append(out[k], op)
	}
	return out
}

func describeZnodeOp(in ZnodeInput, out ZnodeOutput) string {
	var b strings.Builder
	b.WriteString(in.Op.String())
	switch in.Op {
	case model.OpCreate:
		fmt.Fprintf(&b, "(%q)", in.Data)
	case model.OpSetData:
		fmt.Fprintf(&b, "(%q, v=%d)", in.Data, in.Version)
	case model.OpDelete, model.OpCheck:
		fmt.Fprintf(&b, "(v=%d)", in.Version)
	default:
		b.WriteString("()")
	}
	b.WriteString(" -> ")
	switch {
	case out.Unknown:
		b.WriteString("?")
	case out.Err != model.ErrOK:
		b.WriteString(model.ErrName(out.Err))
	case in.Op == model.OpGetData:
		fmt.Fprintf(&b, "%q v%d", out.Data, out.Version)
	case in.Op == model.OpExists || in.Op == model.OpSetData:
		fmt.Fprintf(&b, "v%d", out.Version)
	default:
		b.WriteString("OK")
	}
	return b.String()
}

// LinearizabilityResult is the outcome of the linearizability check of a finished run.
type LinearizabilityResult struct {
	// Outcome is porcupine's verdict: Ok, Illegal (reported as Linearizability
	// violations), or Unknown (the timeout was hit: neither a pass nor a failure). Empty
	// when the check did not run (before Finish, or Options.NoLinearizability).
	Outcome    porcupine.CheckResult
	Paths      int // paths checked
	Operations int // operations given to porcupine
	Pending    int // of them, writes with an unknown outcome
	// Vanished counts the writes with an unknown outcome left out because their txn never
	// entered G, or entered it without effect: no operation could have seen them.
	Vanished int
	Reads    int // of them, reads
	// Witnessed counts the paths decided without porcupine's search: the order of their
	// operations' zxids is a linearization (see witnessOk).
	Witnessed int
	// Illegal lists the paths found not linearizable and Unknown those whose check timed
	// out, sorted; Excluded the paths left out of scope (see the package notes).
	Illegal, Unknown, Excluded []string
}

// linOp is one operation of the porcupine history, with where it came from.
type linOp struct {
	client          int64
	session         int64
	xid             int32
	in              ZnodeInput
	out             ZnodeOutput
	called          sim.Time // when it was called
	call, ret       sim.Time // call: called, or earlier for a read (see above); ret < 0: no return
	read            bool
	committed       bool     // an unknown outcome whose txn G holds,
	committedAt     sim.Time // entered G then
	callRec, retRec int
}

// addOp adds the operations of a returned call to the history.
func (c *Checker) addOp(ci callInfo, i int, at sim.Time, d *model.ClientReturn) {
	call := ci.call
	unknown := d.Server < 0
	// A return before its call (only in a trace out of time order) would give porcupine an
	// operation that ends before it starts: it is taken as returning when it was called.
	called := min(ci.at, at)
	base := linOp{client: call.Client, session: d.Session, xid: call.Xid, called: called, call: called, ret: at, callRec: ci.rec, retRec: i}
	if unknown {
		base.ret, base.retRec = -1, -1
	}
	add := func(in ZnodeInput, out ZnodeOutput) {
		op := base
		op.in, op.out = in, out
		op.out.Unknown = unknown
		op.out.Zxid = d.Zxid
		op.read = in.Op == model.OpGetData || in.Op == model.OpExists
		c.cl.addLinOp(op)
	}
	switch call.Op {
	case model.OpGetData, model.OpExists:
		if !unknown && c.opts.LinearizabilityReads && (d.Err == model.ErrOK || d.Err == model.ErrNoNode) {
			add(ZnodeInput{Op: call.Op, Path: call.Path}, ZnodeOutput{Err: d.Err, Data: d.Data, Version: d.Stat.Version})
		}
	case model.OpCreate, model.OpDelete, model.OpSetData:
		if call.Op == model.OpCreate && call.Mode.IsSequential() {
			return
		}
		add(ZnodeInput{Op: call.Op, Path: call.Path, Data: call.Data, Version: call.Version},
			ZnodeOutput{Err: d.Err, Version: d.Stat.Version})
	case model.OpMulti:
		whole := len(d.Results) == len(call.Ops)
		for j, op := range call.Ops {
			if op.Type == model.OpCreate && op.Mode.IsSequential() {
				continue
			}
			in := ZnodeInput{Op: op.Type, Path: op.Path, Data: op.Data, Version: op.Version}
			switch {
			case unknown:
				add(in, ZnodeOutput{})
			case !whole:
				// the request failed as a whole: no op ran
			case d.Err == model.ErrOK:
				add(in, ZnodeOutput{Err: model.ErrOK, Version: d.Results[j].Stat.Version})
			case d.Results[j].Type == model.OpError && d.Results[j].Err != model.ErrOK &&
				d.Results[j].Err != model.ErrRuntimeInconsistency:
				add(in, ZnodeOutput{Err: d.Results[j].Err}) // the op that failed the multi
			}
		}
	}
}

const opChunk = 1024

func (cl *clientSide) addLinOp(op linOp) {
	if n := len(cl.ops); n == 0 || len(cl.ops[n-1]) == cap(cl.ops[n-1]) {
		// 64, 128, ... opChunk: a short run's few operations need no full chunk
		cl.ops = append(cl.ops, cl.chk.p.ops.Grow(nil, min(opChunk, 64<<n)))
	}
	last := &cl.ops[len(cl.ops)-1]
	*last = append(*last, op)
}

// addPending adds a call that never returned (a write only).
func (c *Checker) addPending(ci callInfo) {
	d := &model.ClientReturn{Client: ci.call.Client, Session: ci.session, Result: model.Result{Xid: ci.call.Xid, Server: -1,
		Op: ci.call.Op, Path: ci.call.Path, Err: model.ErrConnectionLoss, CallAt: ci.at}}
	if isWrite(ci.call.Op) {
		c.addOp(ci, -1, 0, d)
	}
}

func seqSuffix(s string) bool {
	if len(s) != 10 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if (s[i] < '0' || s[i] > '9') && !(i == 0 && s[i] == '-') {
			return false
		}
	}
	return true
}

// excluded reports whether path p is out of the check's scope.
func (cl *clientSide) excluded(p string) bool {
	if h := cl.paths[p]; h != nil && (h.foreign || h.ephemeral) {
		return true
	}
	if cl.ephCalls[p] {
		return true
	}
	for _, s := range cl.seqs {
		if strings.HasPrefix(p, s) && seqSuffix(p[len(s):]) {
			return true
		}
	}
	return false
}

const defaultLinTimeout = 30 * time.Second

// checkLinearizability runs at Finish: build the history, run porcupine, report.
func (c *Checker) checkLinearizability() {
	cl := &c.cl
	if c.opts.NoLinearizability {
		return
	}
	// Calls that never returned, in call order.
	open := slices.Clone(cl.dead)
	cl.clients.each(func(_ int64, p *client) {
		p.settleCalls()
		open = append(open, p.open...)
	})
	if len(cl.ops) > 0 || len(open) > 0 {
		cl.catchUp(c.g.last())
	}
	slices.SortFunc(open, func(a, b callInfo) int { return cmp.Compare(a.rec, b.rec) })
	for _, ci := range open {
		if ci.call != nil {
			c.addPending(ci)
		}
	}

	g := &c.g
	res := LinearizabilityResult{}
	// Group by path, as pointers into the chunks (a linOp is copied nowhere), in one array:
	// count each path's ops, then place them (a list per path grown op by op was a tenth of
	// a run's allocations in the checker).
	idx := map[string]int{} // path -> its index in paths
	var paths []string
	var count []int
	for _, chunk := range cl.ops {
		for k := range chunk {
			p := chunk[k].in.Path
			i, ok := idx[p]
			if !ok {
				i = len(paths)
				idx[p] = i
				paths, count = append(paths, p), append(count, 0)
			}
			count[i]++
		}
	}
	end := make([]int, len(paths)) // where each path's ops end in all, once placed
	n := 0
	for i := range paths {
		n += count[i]
		end[i] = n
	}
	all := make([]*linOp, n)
	for _, chunk := range cl.ops {
		for k := range chunk {
			i := idx[chunk[k].in.Path]
			all[end[i]-count[i]] = &chunk[k]
			count[i]--
		}
	}
	order := make([]int, len(paths)) // paths in sorted order
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(paths[a], paths[b]) })
	cl.linPaths = cl.linPaths[:0]
	for _, i := range order {
		p := paths[i]
		if cl.excluded(p) {
			res.Excluded = append(res.Excluded, p)
			continue
		}
		start := 0
		if i > 0 {
			start = end[i-1]
		}
		pathOps := all[start:end[i]]
		ops := pathOps[:0]
		for _, op := range pathOps {
			if op.ret < 0 {
				// A call with no session was never sent (ClientCnxn writes requests only on a
				// connection whose ConnectResponse came); one sent had effect only through G.
				dt, ok := cl.reqTxn(op.session, op.xid)
				if !ok || dt.k < 0 || !dt.effective {
					res.Vanished++
					continue
				}
				op.out.Zxid, op.committedAt, op.committed = g.zx[dt.k], g.at[dt.k], true
			}
			if op.read && !c.opts.LinearizabilityReads {
				continue
			}
			if op.read {
				z := op.out.Zxid
				if z > 0 && (g.n() == 0 || z > g.last()) {
					continue // G never reached its zxid
				}
				if k := g.searchZxid(z + 1); k > 0 {
					op.call = min(op.called, g.at[k-1])
				} else {
					op.call = 0
				}
				res.Reads++
			} else if op.out.Unknown {
				res.Pending++
			}
			ops = append(ops, op)
		}
		if len(ops) > 0 {
			cl.linPaths = append(cl.linPaths, ops)
			res.Paths++
			res.Operations += len(ops)
		}
	}
	if res.Operations == 0 {
		res.Outcome = porcupine.Ok
		cl.lin = res
		return
	}
	budget := c.opts.LinearizabilityTimeout
	if budget <= 0 {
		budget = defaultLinTimeout
	}
	// A path whose zxid order is a linearization is linearizable; porcupine searches the
	// others (the illegal ones among them, for its verdict and its report).
	var search [][]*linOp
	for _, ops := range cl.linPaths {
		if witnessOk(ops) {
			res.Witnessed++
		} else {
			search = append(search, ops)
		}
	}
	if len(search) == 0 {
		res.Outcome = porcupine.Ok
		cl.lin = res
		return
	}
	m := ZnodeModel()
	hist := cl.porcupineOps(search, false)
	// The history is already path after path: hand porcupine those runs as its partitions
	// rather than have partitionByPath find them again.
	parts := make([][]porcupine.Operation, 0, len(search))
	for rest := hist; len(parts) < len(search); {
		n := len(search[len(parts)])
		parts, rest = append(parts, rest[:n:n]), rest[n:]
	}
	whole := m
	whole.Partition = func([]porcupine.Operation) [][]porcupine.Operation { return parts }
	res.Outcome = porcupine.CheckOperationsTimeout(whole, hist, budget)
	if res.Outcome == porcupine.Illegal {
		// Which paths, and which operation first makes each one illegal: one path at a time,
		// in path order, so the report does not depend on porcupine's parallel search.
		single := m
		single.Partition = nil
		for _, ops := range search {
			switch porcupine.CheckOperationsTimeout(single, cl.porcupineOps([][]*linOp{ops}, false), budget) {
			case porcupine.Illegal:
				res.Illegal = append(res.Illegal, ops[0].in.Path)
				c.reportLinearizability(single, ops, budget)
			case porcupine.Unknown:
				res.Unknown = append(res.Unknown, ops[0].in.Path)
			}
		}
	}
	cl.lin = res
}

// witnessOk reports whether the order of one path's operations by zxid (a write at its txn,
// a read after the writes of the zxid it was served at) is a linearization: it respects real
// time (no operation returned before one placed earlier was called; porcupine orders a call
// before a return at the same instant, so those overlap) and every step is legal. ZooKeeper
// commits writes in zxid order, so in a correct run it is, and a witness is proof: porcupine's
// search, exponential at worst, is left for the paths without one. O(n log n).
func witnessOk(ops []*linOp) bool {
	w := slices.Clone(ops)
	slices.SortStableFunc(w, func(a, b *linOp) int {
		if c := cmp.Compare(a.out.Zxid, b.out.Zxid); c != 0 {
			return c
		}
		switch {
		case a.read == b.read:
			return 0
		case b.read:
			return -1
		}
		return 1
	})
	minRet := sim.Time(math.MaxInt64) // the earliest return among the operations after w[k]
	for k := len(w) - 1; k >= 0; k-- {
		if minRet < w[k].call {
			return false
		}
		if w[k].ret >= 0 { // no return: +infinity
			minRet = min(minRet, w[k].ret)
		}
	}
	st := ZnodeState{}
	for _, op := range w {
		ok, next := ZnodeStep(st, op.in, op.out)
		if !ok {
			return false
		}
		st = next
	}
	return true
}

// porcupineOps converts histories for porcupine, one path after another; ClientId is the
// client's rank among the clients there. Input and Output point into the linOps (no copy).
func (cl *clientSide) porcupineOps(hists [][]*linOp, withMeta bool) []porcupine.Operation {
	ids := clientRanks(hists)
	n := 0
	for _, h := range hists {
		n += len(h)
	}
	out := make([]porcupine.Operation, 0, n)
	for _, h := range hists {
		for _, op := range h {
			ret := int64(op.ret)
			if op.ret < 0 {
				ret = math.MaxInt64
			}
			id, _ := slices.BinarySearch(ids, op.client)
			o := porcupine.Operation{ClientId: id, Input: &op.in, Call: int64(op.call), Output: &op.out, Return: ret}
			if withMeta {
				o.Metadata = op.describe()
			}
			out = append(out, o)
		}
	}
	return out
}

// clientRanks are the clients of the histories, sorted: porcupine's ClientId is the index.
func clientRanks(hists [][]*linOp) []int64 {
	var ids []int64
	for _, h := range hists {
		for _, op := range h {
			if len(ids) == 0 || ids[len(ids)-1] != op.client {
				ids = append(ids, op.client)
			}
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// describe is the operation's metadata for the visualization.
func (op *linOp) describe() string {
	meta := fmt.Sprintf("client %d session 0x%x xid %d", op.client, op.session, op.xid)
	switch {
	case op.committed:
		meta += fmt.Sprintf(" (outcome unknown to the client; its txn %s was committed at %s)", op.out.Zxid, op.committedAt)
	case !op.out.Unknown:
		meta += " zxid " + op.out.Zxid.String()
	}
	if op.read && op.call < op.called {
		meta += fmt.Sprintf(" (called at %s; the state it read was current from %s)", op.called, op.call)
	}
	return meta
}

// reportLinearizability finds the operation of an illegal path's history whose return
// first makes the history illegal (a binary search on return times: a prefix of the
// history, with the operations still open treated as unknown, is illegal from that
// return on), and reports it.
func (c *Checker) reportLinearizability(m porcupine.Model, ops []*linOp, budget time.Duration) {
	var times []sim.Time
	for _, op := range ops {
		if op.ret >= 0 {
			times = append(times, op.ret)
		}
	}
	slices.Sort(times)
	times = slices.Compact(times)
	lo, hi := 0, len(times)-1 // times[hi] is illegal (the whole history)
	for lo < hi {
		mid := (lo + hi) / 2
		if porcupine.CheckOperationsTimeout(m, c.cl.porcupineOps([][]*linOp{truncate(ops, times[mid])}, false), budget) == porcupine.Illegal {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	t := times[hi]
	var culprit *linOp
	for _, op := range ops {
		if op.ret == t {
			culprit = op
			break
		}
	}
	n := len(truncate(ops, t))
	recs := []int{culprit.callRec, culprit.retRec}
	before := ""
	var last *linOp
	for _, op := range ops {
		if !op.read && op.ret >= 0 && op.ret <= culprit.called && op != culprit && (last == nil || op.ret > last.ret) {
			last = op
		}
	}
	if last != nil {
		before = fmt.Sprintf("; the last write to return by the time it was called was client %d's %s (xid %d, zxid %s)",
			last.client, describeZnodeOp(last.in, last.out), last.xid, last.out.Zxid)
		recs = append(recs, last.callRec, last.retRec)
	}
	c.report(CheckLinearizability, t, fmt.Sprintf(
		"client %d's %s on %s (session 0x%x, xid %d, zxid %s) has no place in any linearization of the %d operations on %s up to its return%s.",
		culprit.client, describeZnodeOp(culprit.in, culprit.out), culprit.in.Path, culprit.session, culprit.xid, culprit.out.Zxid,
		n, culprit.in.Path, before), recs...)
}

// truncate is the history as it stood at time t: the operations called by then, those that
// had not returned with an unknown outcome (reads dropped).
func truncate(ops []*linOp, t sim.Time) []*linOp {
	var out []*linOp
	for _, op := range ops {
		if op.call > t {
			continue
		}
		if op.ret < 0 || op.ret > t {
			if op.read {
				continue
			}
			cp := *op
			cp.ret, cp.out = -1, ZnodeOutput{Unknown: true, Zxid: op.out.Zxid}
			op = &cp
		}
		out = append(out, op)
	}
	return out
}

// Linearizability is the outcome of the linearizability check (after Finish).
func (c *Checker) Linearizability() LinearizabilityResult {
	r := c.cl.lin
	r.Illegal, r.Unknown, r.Excluded = slices.Clone(r.Illegal), slices.Clone(r.Unknown), slices.Clone(r.Excluded)
	return r
}

// LinearizabilityHistory is the history the check gave porcupine (after Finish), one path
// after another.
func (c *Checker) LinearizabilityHistory() []porcupine.Operation {
	return c.cl.porcupineOps(c.cl.linPaths, true)
}

// LinearizabilityInfo re-runs porcupine with visualization data, for porcupine.Visualize:
// on the illegal paths when the check found some, else on the given paths (all of them
// when none are given). It returns porcupine's verdict on that history, the
// LinearizationInfo, and the model to visualize it with.
func (c *Checker) LinearizabilityInfo(paths ...string) (porcupine.CheckResult, porcupine.LinearizationInfo, porcupine.Model) {
	hist := c.linHistory(paths)
	budget := c.opts.LinearizabilityTimeout
	if budget <= 0 {
		budget = defaultLinTimeout
	}
	m := ZnodeModel()
	res, info := porcupine.CheckOperationsVerbose(m, c.cl.porcupineOps(hist, true), budget)
	return res, info, m
}

// linHistory is the history of the given paths (all of them when none are given), or of
// the illegal paths when the check found some and none are given.
func (c *Checker) linHistory(paths []string) [][]*linOp {
	if len(c.cl.lin.Illegal) > 0 && len(paths) == 0 {
		paths = c.cl.lin.Illegal
	}
	var hist [][]*linOp
	for _, ops := range c.cl.linPaths {
		if len(paths) == 0 || slices.Contains(paths, ops[0].in.Path) {
			hist = append(hist, ops)
		}
	}
	return hist
}

// LinearizabilityClients are the client node ids of the history LinearizabilityInfo draws
// (with the same paths), in the order of porcupine's rows: row i is client ids[i].
func (c *Checker) LinearizabilityClients(paths ...string) []int64 {
	hist := c.linHistory(paths)
	return clientRanks(hist)
}
