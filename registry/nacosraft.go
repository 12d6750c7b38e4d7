package registry

import (
	"io"
	"log"
	"strconv"
	"strings"

	"go.etcd.io/raft/v3"
	pb "go.etcd.io/raft/v3/raftpb"

	"github.com/zabsim/zabsim/sim"
)

// nacosRaft drives a go.etcd.io/raft/v3 RawNode for a Nacos server's persistent instances
// (Nacos runs JRaft: JRaftProtocol / JRaftServer, with PersistentClientOperationServiceImpl
// as the state machine). The simulator owns time and the network: Tick every 500ms (JRaft's
// heartbeat, electionTimeout/10), messages over sim connections, and the election timer is
// the simulator's own, seeded, because raft randomizes election timeouts with crypto/rand
// (raft.go's globalRand), which no seed can repeat: raft's own election timer is set out
// of reach and Campaign is called when ours fires.
type nacosRaft struct {
	s        *NacosServer
	rn       *raft.RawNode
	storage  *raft.MemoryStorage // the raft log and HardState survive a crash (its disk)
	lastLead sim.Time            // the last message from a leader
	waiting  map[string]func(any, string)
	reqSeq   int64
	applied  uint64
}

const (
	raftTick = 500 * sim.Millisecond
	// nacos.core.protocol.raft.data.election_timeout_ms (5000): the election timer waits
	// this plus a random share of it.
	raftElection = 5 * sim.Second
)

var raftLogger = &raft.DefaultLogger{Logger: log.New(io.Discard, "", 0)}

func newNacosRaft(s *NacosServer) *nacosRaft {
	r := &nacosRaft{s: s, storage: raft.NewMemoryStorage()}
	var voters []uint64
	for p := uint64(1); p <= uint64(s.n); p++ {
		voters = append(voters, p)
	}
	one := uint64(1)
	r.storage.ApplySnapshot(&pb.Snapshot{Metadata: &pb.SnapshotMetadata{Index: &one, Term: &one, ConfState: &pb.ConfState{Voters: voters}}})
	return r
}

func (r *nacosRaft) start() {
	rn, err := raft.NewRawNode(&raft.Config{
		ID: uint64(r.s.sid), Storage: r.storage,
		ElectionTick:    1 << 30, // ours decides (see nacosRaft)
		HeartbeatTick:   1,
		MaxSizePerMsg:   1 << 20,
		MaxInflightMsgs: 256,
		PreVote:         true, // JRaft's pre-vote
		Logger:          raftLogger,
	})
	if err != nil {
		panic(err)
	}
	r.rn = rn
	r.waiting = map[string]func(any, string){}
	r.applied = 0
	r.lastLead = r.s.w.Now()
	r.s.w.SetTimer(r.s.id(), ntRaftTick, raftTick)
	r.armElection()
}

func (r *nacosRaft) crash() {
	r.rn = nil
	r.waiting = nil
}

func (r *nacosRaft) armElection() {
	rnd := r.s.w.Stream("nacos-raft/" + strconv.FormatInt(r.s.sid, 10))
	r.s.w.SetTimer(r.s.id(), ntRaftElection, raftElection+sim.Time(rnd.Int64N(int64(raftElection))))
}

func (r *nacosRaft) tick() {
	r.rn.Tick()
	r.ready()
	r.s.w.SetTimer(r.s.id(), ntRaftTick, raftTick)
}

func (r *nacosRaft) electionTimeout() {
	st := r.rn.BasicStatus()
	if st.RaftState != raft.StateLeader && r.s.w.Now()-r.lastLead >= raftElection {
		r.rn.Campaign()
		r.ready()
	}
	r.armElection()
}

func (r *nacosRaft) receive(m *msg) {
	if r.rn == nil {
		return
	}
	pm := m.body.(*pb.Message)
	switch pm.GetType() {
	case pb.MessageType_MsgApp, pb.MessageType_MsgHeartbeat, pb.MessageType_MsgSnap:
		r.lastLead = r.s.w.Now()
	}
	r.rn.Step(pm)
	r.ready()
}

// write proposes a persistent-instance operation and answers when this server applied it
// (a follower's proposal is forwarded to the leader, as JRaftServer.invokeToLeader does);
// no leader, or no commit within the write timeout, is an error.
func (r *nacosRaft) write(q *nacosReq, reply func(any, string)) {
	if r.s.set.Has("nacos-cp-local-writes") && (q.op == "pregister" || q.op == "pderegister") {
		r.s.apply(q.op, q.service, q.instance, q.data)
		reply(true, "ok (local)")
		return
	}
	if r.rn == nil {
		reply(false, "down")
		return
	}
	r.reqSeq++
	key := strconv.FormatInt(r.s.sid, 10) + "." + strconv.FormatInt(r.reqSeq, 10)
	data := strings.Join([]string{key, q.op, q.service, q.instance, q.data}, "|")
	if err := r.rn.Propose([]byte(data)); err != nil {
		reply(false, "no leader")
		return
	}
	r.waiting[key] = reply
	r.s.calls.seq++
	seq := r.s.calls.seq
	r.s.calls.pending[seq] = &pendingCall{deadline: r.s.w.Now() + nacosRaftWriteTimeout, conn: -1, done: func(*msg) {
		if f := r.waiting[key]; f != nil {
			delete(r.waiting, key)
			f(false, "timeout")
		}
	}}
	r.s.calls.arm()
	r.ready()
}

// ready is the RawNode loop: persist, send, apply, advance.
func (r *nacosRaft) ready() {
	for r.rn != nil && r.rn.HasReady() {
		rd := r.rn.Ready()
		if !raft.IsEmptySnap(rd.Snapshot) {
			r.storage.ApplySnapshot(rd.Snapshot)
		}
		if rd.HardState != nil && !raft.IsEmptyHardState(rd.HardState) {
			r.storage.SetHardState(rd.HardState)
		}
		r.storage.Append(rd.Entries)
		if rd.SoftState != nil {
			r.s.w.Record(r.s.id(), &Note{Node: r.s.sid, Text: "raft " + rd.SoftState.RaftState.String() + " lead=" + strconv.FormatUint(rd.SoftState.Lead, 10)})
		}
		for _, m := range rd.Messages {
			to := int64(m.GetTo())
			r.s.w.Send(r.s.peerConn(to), r.s.id(), &msg{kind: "raft", body: m, text: m.GetType().String() + " t=" + strconv.FormatUint(m.GetTerm(), 10) + " i=" + strconv.FormatUint(m.GetIndex(), 10) + " n=" + strconv.Itoa(len(m.GetEntries()))})
		}
		for _, e := range rd.CommittedEntries {
			if e.GetType() != pb.EntryType_EntryNormal || len(e.GetData()) == 0 {
				continue
			}
			f := strings.SplitN(string(e.GetData()), "|", 5)
			r.s.apply(f[1], f[2], f[3], f[4])
			if done := r.waiting[f[0]]; done != nil {
				delete(r.waiting, f[0])
				done(true, "ok")
			}
		}
		r.rn.Advance(rd)
	}
}
