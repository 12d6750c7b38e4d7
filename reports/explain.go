package reports

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/zabsim/zabsim/model"
	"github.com/zabsim/zabsim/sim"
)

// Explanations shared by the run player and the pictures: why a message was lost, why a
// connection was closed, why a vote changed, and every record in words with the 3.8 code
// it stands for. They read the trace only; what the trace does not say about the model's
// choices, the model records (a notification's Why, an ElectionDone's quorums).

// closeWhy says why node closed its end of a connection at record i (a RecClose), from the
// records of the same node at the same instant before it.
func (s *story) closeWhy(i int) string {
	r := &s.recs[i]
	for j := i - 1; j >= 0 && s.recs[j].At == r.At; j-- {
		q := &s.recs[j]
		if q.Node != r.Node {
			continue
		}
		switch q.Kind {
		case sim.RecCrash:
			return "it crashed (its kernel closed its sockets)"
		case sim.RecDeliver:
			if q.Data != nil {
				if t := string(q.Data.AppendTo(nil)); strings.HasPrefix(t, "HELLO sid=") {
					peer, _ := strconv.ParseInt(strings.TrimPrefix(t, "HELLO sid="), 10, 64)
					if peer < int64(r.Node) {
						return fmt.Sprintf("both dialled: server %d dials %d back and drops the connections from the lower sid (QuorumCnxManager.handleConnection)", r.Node, peer)
					}
					return fmt.Sprintf("server %d dialled again: the newer election connection replaces this one (QuorumCnxManager.handleConnection)", peer)
				}
			}
		case sim.RecTimer:
			if q.Data != nil {
				k, _ := strconv.Atoi(strings.TrimPrefix(string(q.Data.AppendTo(nil)), "timer "))
				name, _ := model.TimerName(int64(q.Node), k)
				return "its " + name + " fired"
			}
		case sim.RecModel:
			if sc, ok := q.Data.(*model.StateChange); ok && sc.Reason != "" {
				return sc.Reason
			}
		case sim.RecClosed:
			return "the other end closed it first"
		}
	}
	for j := i + 1; j < len(s.recs) && s.recs[j].At == r.At; j++ {
		if q := &s.recs[j]; q.Node == r.Node && q.Kind == sim.RecModel {
			if sc, ok := q.Data.(*model.StateChange); ok && sc.Reason != "" {
				return sc.Reason
			}
		}
	}
	return ""
}

// lossWhy says why the message of drop record i was lost: what happened to its connection.
func (s *story) lossWhy(i int) string {
	why, _ := s.loss(i)
	return why
}

// loss is lossWhy, and the same in a few words for a picture.
func (s *story) loss(i int) (why, short string) {
	r := &s.recs[i]
	from, to := int64(r.Node), int64(r.Peer)
	cut := s.linkCutAt(from, to, r.At)
	for j := i - 1; j >= 0 && s.recs[j].At == r.At; j-- {
		if q := &s.recs[j]; q.Kind == sim.RecCrash {
			switch int64(q.Node) {
			case from:
				return fmt.Sprintf("server %d crashed before the message left its process", from), fmt.Sprintf("%d crashed", from)
			case to:
				return fmt.Sprintf("server %d crashed: what was on its way to it is lost", to), fmt.Sprintf("%d crashed", to)
			}
		}
	}
	conn := s.connRecs()[r.Conn]
	for k := len(conn) - 1; k >= 0; k-- {
		j := conn[k]
		if j >= i {
			continue
		}
		q := &s.recs[j]
		switch q.Kind {
		case sim.RecAbort:
			return "TCP gave up retransmitting across the cut link and reset the connection", "TCP gave up"
		case sim.RecReset:
			return "the connection was reset", "reset"
		case sim.RecClose:
			closeWhy := s.closeWhy(j)
			short = "connection closed"
			switch {
			case strings.HasPrefix(closeWhy, "both dialled"):
				short = "both dialled"
			case strings.HasPrefix(closeWhy, "it crashed"):
				short = fmt.Sprintf("%d crashed", q.Node)
			case strings.Contains(closeWhy, "timeout") || strings.Contains(closeWhy, "fired"):
				short = "closed on a timeout"
			}
			if int64(q.Node) == from {
				why = fmt.Sprintf("server %d closed the connection before sending it", from)
			} else {
				why = fmt.Sprintf("server %d had closed the connection", to)
			}
			if closeWhy != "" {
				why += ": " + closeWhy
			}
			if cut != "" {
				why += " (" + cut + ")"
				short += " (link cut)"
			}
			return why, short
		}
	}
	if s.downAt(to, r.At) {
		return fmt.Sprintf("server %d was down: connection refused", to), fmt.Sprintf("%d down: refused", to)
	}
	if cut != "" {
		return "lost in a partition that resets connections (" + cut + ")", "partition"
	}
	return "lost on the way", "lost"
}

// connRecs indexes the records of each connection (built once).
func (s *story) connRecs() map[sim.ConnID][]int {
	if s.byConn == nil {
		s.byConn = map[sim.ConnID][]int{}
		for i := range s.recs {
			if c := s.recs[i].Conn; c >= 0 {
				s.byConn[c] = append(s.byConn[c], i)
			}
		}
	}
	return s.byConn
}

// downAt reports whether server sid was down (crashed, not restarted) at t.
func (s *story) downAt(sid int64, t sim.Time) bool {
	row, ok := s.row[sid]
	if !ok {
		return false
	}
	for _, sg := range s.segs[row] {
		if sg.from <= t && t < sg.to {
			return sg.band == bandDown
		}
	}
	return false
}

// linkCutAt describes a partition cutting from -> to at t, or "".
func (s *story) linkCutAt(from, to int64, t sim.Time) string {
	for _, sp := range s.spans {
		if sp.from > t || sp.to < t && !sp.open {
			continue
		}
		for _, l := range sp.links {
			if l == [2]int64{from, to} {
				return "the link " + strconv.FormatInt(from, 10) + " → " + strconv.FormatInt(to, 10) + " was cut (partition " + sp.text + ")"
			}
		}
	}
	return ""
}

// voteText is a vote as the player and pictures print it.
func voteText(leader int64, zxid model.Zxid, epoch int64) string {
	if leader == math.MinInt64 {
		return "no vote (an observer)"
	}
	return fmt.Sprintf("%d (zxid %s, epoch %d)", leader, zxid, epoch)
}

// whyText explains a notification a server sends, from its Why.
func whyText(from int64, n *model.Notification) string {
	w := n.Why
	if w == nil {
		return ""
	}
	vote := voteText(n.Leader, n.Zxid, n.PeerEpoch)
	if w.Queued {
		c := *w
		c.Queued = false
		n2 := *n
		n2.Why = &c
		return whyText(from, &n2) + " (this copy waited in the send queue for a connection)"
	}
	switch w.Reason {
	case model.WhyStart:
		return fmt.Sprintf("server %d starts looking (round %d) and votes for %s", from, n.ElectionEpoch, vote)
	case model.WhyResend:
		return fmt.Sprintf("server %d heard no notification within notTimeout: it sends its vote for %s again and waits %d ms next (back-off)", from, vote, w.NotTimeoutMs)
	case model.WhyAgain:
		return fmt.Sprintf("a new election connection: server %d sends its last notification again (SendWorker), a vote for %s", from, vote)
	case model.WhyReply:
		return fmt.Sprintf("server %d answers %d, which is in an older round or an observer, with its vote for %s", from, w.From, vote)
	case model.WhyLeader:
		return fmt.Sprintf("server %d, %s, tells LOOKING server %d whom it follows: %d", from, n.State, w.From, n.Leader)
	case model.WhyBetter, model.WhyRound:
		var b strings.Builder
		if w.Reason == model.WhyRound {
			fmt.Fprintf(&b, "server %d joins round %d, which server %d's notification announced (recvset cleared)", from, n.ElectionEpoch, w.From)
		}
		if w.Changed {
			if b.Len() > 0 {
				b.WriteString("; ")
			}
			fmt.Fprintf(&b, "server %d now votes for %s instead of %s", from, vote, voteText(w.OldLeader, w.OldZxid, w.OldEpoch))
			if w.Field != "" {
				fmt.Fprintf(&b, ": %s", fieldWhy(w.Field, n.Leader, n.Zxid, n.PeerEpoch, w.OldLeader, w.OldZxid, w.OldEpoch, w.Reason == model.WhyRound))
			}
		} else if w.Reason == model.WhyRound {
			fmt.Fprintf(&b, "; it keeps voting for %s", vote)
		}
		return b.String()
	}
	return ""
}

// voteChangedWords says why a server's proposal is what it is now.
func voteChangedWords(d *model.VoteChanged) string {
	n := &model.Notification{Leader: d.Leader, Zxid: d.Zxid, PeerEpoch: d.PeerEpoch, ElectionEpoch: d.Round, Why: d.Why}
	if w := whyText(d.Sid, n); w != "" {
		return w
	}
	return fmt.Sprintf("server %d votes for %s (round %d)", d.Sid, voteText(d.Leader, d.Zxid, d.PeerEpoch), d.Round)
}

// fieldWhy says which field of totalOrderPredicate (epoch, then zxid, then sid) decided.
func fieldWhy(field string, leader int64, zxid model.Zxid, epoch, oldLeader int64, oldZxid model.Zxid, oldEpoch int64, round bool) string {
	than := "its vote"
	if round {
		than = "its own initial vote"
	}
	switch field {
	case "epoch":
		return fmt.Sprintf("totalOrderPredicate: a higher epoch (%d > %d) beats %s", epoch, oldEpoch, than)
	case "zxid":
		return fmt.Sprintf("totalOrderPredicate: the same epoch %d, a higher zxid (%s > %s) beats %s", epoch, zxid, oldZxid, than)
	case "sid":
		return fmt.Sprintf("totalOrderPredicate: the same epoch and zxid, a higher sid (%d > %d) beats %s", leader, oldLeader, than)
	}
	return ""
}

// recordMethod is the ZooKeeper 3.8 code a record comes from.
func recordMethod(r *sim.Record) string {
	switch r.Kind {
	case sim.RecStart:
		return "QuorumPeerMain.main: the server starts"
	case sim.RecRestart:
		return "QuorumPeerMain.main after a crash: ZKDatabase.loadDataBase"
	case sim.RecCrash:
		return "kill -9 (or the JVM exiting; host: a power cut)"
	case sim.RecPause:
		return "kill -STOP"
	case sim.RecResume:
		return "kill -CONT"
	case sim.RecTimer:
		if r.Data != nil {
			k, _ := strconv.Atoi(strings.TrimPrefix(string(r.Data.AppendTo(nil)), "timer "))
			_, m := model.TimerName(int64(r.Node), k)
			return m
		}
	case sim.RecDial:
		return "Socket.connect (QuorumCnxManager.connectOne, Learner.connectToLeader or ClientCnxnSocket)"
	case sim.RecLost, sim.RecRetransmit, sim.RecAbort:
		return "the kernel's TCP (RTO from 200 ms, doubling; tcp_retries2)"
	case sim.RecPartition, sim.RecHeal, sim.RecClog:
		return "nftables/iptables rules dropping packets (not ZooKeeper)"
	}
	var d sim.Message = r.Data
	switch m := d.(type) {
	case *model.Notification:
		if m.Why != nil {
			switch m.Why.Reason {
			case model.WhyReply, model.WhyLeader:
				return "FastLeaderElection.Messenger.WorkerReceiver.run (answers a notification)"
			}
		}
		return "FastLeaderElection.sendNotifications (lookForLeader)"
	case *model.QuorumPacket:
		switch m.Type {
		case model.FOLLOWERINFO, model.OBSERVERINFO:
			return "Learner.registerWithLeader"
		case model.LEADERINFO:
			return "LearnerHandler.run (Leader.getEpochToPropose)"
		case model.ACKEPOCH:
			return "Learner.registerWithLeader"
		case model.DIFF, model.TRUNC, model.SNAP:
			return "LearnerHandler.syncFollower"
		case model.NEWLEADER, model.UPTODATE:
			return "LearnerHandler.run"
		case model.PROPOSAL:
			return "Leader.propose (or LearnerHandler.syncFollower queueing the committedLog)"
		case model.ACK:
			return "SendAckRequestProcessor / Learner.syncWithLeader"
		case model.COMMIT:
			return "Leader.commit (Leader.processAck: a quorum acked)"
		case model.INFORM:
			return "Leader.inform (to observers)"
		case model.PING:
			return "Leader.lead (every tickTime/2) / Learner.ping"
		case model.REQUEST:
			return "FollowerRequestProcessor (a write forwarded to the leader)"
		case model.REVALIDATE:
			return "Learner.validateSession / LearnerHandler"
		}
		return "Learner / LearnerHandler"
	case *model.StateChange:
		return "QuorumPeer.setPeerState / setZabState"
	case *model.VoteChanged:
		return "FastLeaderElection.lookForLeader: updateProposal (totalOrderPredicate)"
	case *model.QuorumAgreed:
		return "FastLeaderElection.lookForLeader: voteSet.hasAllQuorums(), then recvqueue.poll(finalizeWait)"
	case *model.FinalizeInterrupted:
		return "FastLeaderElection.lookForLeader: totalOrderPredicate in the finalizeWait loop: recvqueue.put(n)"
	case *model.NotTimeout:
		return "FastLeaderElection.lookForLeader: poll timeout, sendNotifications, notTimeout*2"
	case *model.ElectionDone:
		return "FastLeaderElection.lookForLeader returns its vote"
	case *model.EpochWritten:
		return "QuorumPeer.setAcceptedEpoch / setCurrentEpoch (writeLongToFile)"
	case *model.LeaderEstablished:
		return "Leader.waitForEpochAck: a quorum acknowledged the epoch"
	case *model.LeaderActive:
		return "Leader.waitForNewLeaderAck, then startZkServer"
	case *model.SyncDecided:
		return "LearnerHandler.syncFollower"
	case *model.Proposed:
		return "Leader.propose"
	case *model.Logged:
		return "SyncRequestProcessor → ZKDatabase.append (FileTxnLog)"
	case *model.Committed:
		return "FinalRequestProcessor → ZKDatabase.processTxn"
	case *model.Truncated:
		return "Learner.syncWithLeader (TRUNC) → ZKDatabase.truncateLog"
	case *model.Loaded:
		return "ZKDatabase.loadDataBase (FileTxnSnapLog.restore) or deserializing a SNAP"
	case *model.SnapshotTaken:
		return "ZooKeeperServer.takeSnapshot"
	case *model.ClientCall:
		return "the application calls its ZooKeeper handle"
	case *model.ClientReturn:
		return "ClientCnxn.finishPacket: the answer reaches the application"
	case *model.ClientState:
		return "ClientCnxn.SendThread: the default watcher's event"
	case *model.ClientConnect:
		return "ZooKeeperServer.processConnectRequest"
	case *model.SessionExpired:
		return "SessionTrackerImpl.run: the session's bucket expired"
	case *model.ClientRequest, *model.ConnectRequest:
		return "ClientCnxn.SendThread: a request on the wire"
	case *model.ClientReply, *model.ConnectResponse:
		return "NIOServerCnxn.sendResponse"
	case *model.WatcherEvent:
		return "NIOServerCnxn.process: a watch fires"
	}
	return ""
}

// recordWords is the record in words: who did what, for the player's detail panel.
func (s *story) recordWords(i int) string {
	r := &s.recs[i]
	name := func(id sim.NodeID) string { return s.nodeName(int64(id)) }
	text := ""
	if r.Data != nil {
		text = string(r.Data.AppendTo(nil))
	}
	switch r.Kind {
	case sim.RecStart:
		return name(r.Node) + " starts"
	case sim.RecRestart:
		return name(r.Node) + " restarts from its disk"
	case sim.RecCrash:
		return name(r.Node) + " crashes"
	case sim.RecPause:
		return name(r.Node) + " is paused (SIGSTOP): messages to it queue, its timers wait"
	case sim.RecResume:
		return name(r.Node) + " resumes"
	case sim.RecTimer:
		k, _ := strconv.Atoi(strings.TrimPrefix(text, "timer "))
		tn, _ := model.TimerName(int64(r.Node), k)
		return name(r.Node) + "'s " + tn + " timer fires"
	case sim.RecDial:
		return name(r.Node) + " opens a connection to " + name(r.Peer) + " (#" + strconv.Itoa(int(r.Conn)) + ")"
	case sim.RecAccept:
		return name(r.Node) + " accepts a connection from " + name(r.Peer) + " (#" + strconv.Itoa(int(r.Conn)) + ")"
	case sim.RecSend:
		w := name(r.Node) + " sends " + name(r.Peer) + ": " + text
		if n, ok := r.Data.(*model.Notification); ok {
			if why := whyText(int64(r.Node), n); why != "" {
				w += " — " + why
			}
		}
		return w
	case sim.RecDeliver:
		return name(r.Node) + " receives from " + name(r.Peer) + ": " + text
	case sim.RecDrop:
		return name(r.Node) + " → " + name(r.Peer) + " lost: " + text + " — " + s.lossWhy(i)
	case sim.RecLost:
		if text == "" {
			text = "a segment"
		}
		return name(r.Node) + " → " + name(r.Peer) + ": " + text + " lost on the cut link; TCP will retransmit it"
	case sim.RecRetransmit:
		return name(r.Node) + " retransmits to " + name(r.Peer) + " (" + text + ")"
	case sim.RecAbort:
		return name(r.Node) + "'s kernel gives up retransmitting to " + name(r.Peer) + ": the connection is reset"
	case sim.RecClose:
		w := name(r.Node) + " closes its connection to " + name(r.Peer)
		if why := s.closeWhy(i); why != "" {
			w += ": " + why
		}
		return w
	case sim.RecClosed:
		return name(r.Node) + " sees its connection to " + name(r.Peer) + " close"
	case sim.RecReset:
		return "the connection between " + name(r.Node) + " and " + name(r.Peer) + " is reset"
	case sim.RecPartition:
		return "partition " + text + ": those links drop every segment"
	case sim.RecHeal:
		if text == "" {
			return "every link is restored"
		}
		return "heal " + text
	case sim.RecClog:
		return "clog " + text + ": messages on those links are held, then delivered in order"
	case sim.RecLatency:
		return "latency of " + name(r.Node) + " → " + name(r.Peer) + ": " + text
	}
	switch d := r.Data.(type) {
	case *model.StateChange:
		w := fmt.Sprintf("%s is %s, in %s, currentEpoch %d", name(r.Node), d.State, d.Phase, d.Epoch)
		if d.Reason != "" {
			w += " — it left its role: " + d.Reason
		}
		return w
	case *model.ElectionDone:
		w := fmt.Sprintf("%s decides: %d leads (zxid %s, round %d, epoch %d); it is %s", name(r.Node), d.Leader, d.Zxid, d.ElectionEpoch, d.PeerEpoch, d.State)
		if d.ViaOutOfElection {
			w += " — a quorum already follows that leader (FOLLOWING/LEADING notifications)"
		} else if q := len(d.Quorums); q > 0 {
			w += fmt.Sprintf(" — quorum %s agreed, and no better vote came within finalizeWait (%d ms)", sidSet(d.Quorums[q-1].Sids), d.FinalizeWaitMs)
		}
		return w
	case *model.VoteChanged:
		return voteChangedWords(d)
	case *model.QuorumAgreed:
		return fmt.Sprintf("%s sees a quorum %s agree on its vote for %d (round %d): it waits finalizeWait (%d ms) for a better vote before deciding",
			name(r.Node), sidSet(d.Sids), d.Leader, d.Round, d.FinalizeWaitMs)
	case *model.FinalizeInterrupted:
		return fmt.Sprintf("%s gets a better vote from %d during finalizeWait: it puts it back and goes on electing", name(r.Node), d.From)
	case *model.NotTimeout:
		return fmt.Sprintf("%s heard no notification for %d ms (notTimeout): it sends its vote again and will wait %d ms next (back-off)", name(r.Node), d.WaitedMs, d.NextMs)
	case *model.SyncDecided:
		return fmt.Sprintf("leader %d decides %s for learner %d: peerLastZxid %s, committedLog %s..%s, lastProcessedZxid %s (%s)",
			d.Sid, d.Mode, d.Learner, d.PeerLastZxid, d.MinCommitted, d.MaxCommitted, d.LastProcessedZxid, d.Branch)
	}
	if text != "" {
		return name(r.Node) + ": " + text
	}
	return r.Kind.String()
}

// sidSet prints sids as {1,2,3}.
func sidSet(sids []int64) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, s := range sids {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(s, 10))
	}
	b.WriteByte('}')
	return b.String()
}

// nodeName names a server, an observer or a client.
func (s *story) nodeName(id int64) string {
	if id < 0 {
		return "-"
	}
	if id >= 1000 {
		if n, ok := s.clientNames[id]; ok {
			return "client " + n
		}
		return "client " + strconv.FormatInt(id, 10)
	}
	return s.serverName(id)
}
