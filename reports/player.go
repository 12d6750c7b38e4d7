package reports

import (
	"bytes"
	"compress/gzip"
	"embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"

	"github.com/zabsim/zabsim/model"
	"github.com/zabsim/zabsim/scenarios"
	"github.com/zabsim/zabsim/sim"
)

// The run player: one self-contained HTML file (player/*, embedded) that replays a run in
// the browser. The page re-runs nothing: this file folds the trace into tables indexed by
// record (what each server is at each record, every message with its send and its end,
// each log's entries with the records that added, committed and removed them), so that
// the page finds the state at any record with a binary search per field.

//go:embed player/player.html player/player.css player/player.js
var playerAssets embed.FS

// PlayerInput is what the player shows: the records, and what is known of the run.
type PlayerInput struct {
	Records []sim.Record
	End     sim.Time
	Header  *sim.TraceHeader  // the scenario, seed, mutants and fixes (nil: unknown)
	Result  *scenarios.Result // the verdict, the lines' spans, the clients' names (nil: unknown)
	Hash    string            // the trace hash
}

// WritePlayer writes the player of a run to file.
func WritePlayer(in PlayerInput, file string) error {
	var b bytes.Buffer
	if err := Player(&b, in); err != nil {
		return err
	}
	return os.WriteFile(file, b.Bytes(), 0o644)
}

// Player writes the player's HTML.
func Player(w io.Writer, in PlayerInput) error {
	if len(in.Records) == 0 {
		return errors.New("reports: the run has no records to play")
	}
	d := buildPlayer(in)
	js, err := json.Marshal(d)
	if err != nil {
		return err
	}
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	zw.Write(js)
	zw.Close()
	page, err := playerAssets.ReadFile("player/player.html")
	if err != nil {
		return err
	}
	css, _ := playerAssets.ReadFile("player/player.css")
	script, _ := playerAssets.ReadFile("player/player.js")
	out := string(page)
	out = strings.Replace(out, "{{TITLE}}", htmlEscape(d.Title), 1)
	out = strings.Replace(out, "/*{{CSS}}*/", string(css), 1)
	out = strings.Replace(out, "{{DATA}}", base64.StdEncoding.EncodeToString(gz.Bytes()), 1)
	out = strings.Replace(out, "/*{{JS}}*/", string(script), 1)
	_, err = io.WriteString(w, out)
	return err
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}

// playerData is the page's data (JSON, gzipped into the page). Records are columns; rows of
// the other tables are arrays, their fields in the order the comments give.
type playerData struct {
	Title   string    `json:"title"`
	Seed    uint64    `json:"seed"`
	Source  string    `json:"source"`
	Mutants []string  `json:"mutants"`
	Fixes   []string  `json:"fixes"`
	Replay  string    `json:"replay"`
	Hash    string    `json:"hash"`
	End     int64     `json:"end"`
	Verdict *pVerdict `json:"verdict"`
	Servers []pServer `json:"servers"`
	Clients [][2]any  `json:"clients"` // node, name
	Steps   [][]any   `json:"steps"`   // line, text, from record, to record, from ns, to ns, fired

	T       []int64  `json:"t"` // record: time (ns)
	K       []string `json:"k"` // record: kind ("send", "model", ...) or the model record's type
	N       []int32  `json:"n"` // record: node
	P       []int32  `json:"p"` // record: peer
	X       []string `json:"x"` // record: canonical text
	W       []string `json:"w"` // record: in words
	M       []int32  `json:"m"` // record: its method (index into Methods), -1 none
	Methods []string `json:"methods"`
	Mi      []int32  `json:"mi"` // record: the message it sends, delivers or drops, -1 none

	// Msgs: from, to, send record, end record (-1: in flight at the end), fate (0 delivered,
	// 1 lost, 2 in flight), class, label, why lost, first "lost" record (-1), retransmit record (-1),
	// why lost in a few words
	Msgs  [][]any `json:"msgs"`
	Links [][]any `json:"links"` // record, from, to, ports cut (bit per port, 255 all), resets, clogged until (ns, 0 none)
	Chaps [][]any `json:"chaps"` // record, kind, text
	Calls [][]any `json:"calls"` // client, call record, return record (-1), call text, answer
	// CStates: client, record, server (-1 none), session state (SyncConnected, ...; "starting"
	// at its first record)
	CStates [][]any  `json:"cstates"`
	Ports   []string `json:"ports"` // names of port bits
}

type pVerdict struct {
	OK           bool     `json:"ok"`
	Text         string   `json:"text"`
	Violations   [][]any  `json:"violations"`   // check, detail, at ns, record, expected
	Expectations [][]any  `json:"expectations"` // line, text, ok, got
	Warnings     []string `json:"warnings"`
}

// pServer is one server's tables, each a list of change points in record order.
type pServer struct {
	Sid      int64   `json:"sid"`
	Observer bool    `json:"observer"`
	Life     [][]any `json:"life"`    // record, "up" | "down" | "paused" | "host down"
	Role     [][]any `json:"role"`    // record, state, phase, currentEpoch, reason
	Accepted [][]any `json:"acc"`     // record, acceptedEpoch
	Vote     [][]any `json:"vote"`    // record, leader, zxid, peer epoch, round, looking, why
	Recv     [][]any `json:"recv"`    // record, from, leader, zxid, peer epoch, round, state
	Log      [][]any `json:"log"`     // zxid, added, committed (-1), removed (-1), how, why removed
	Quorums  [][]any `json:"quorums"` // record, end record, sids, leader, zxid, ended by (0), finalizeWait ms
}

// message classes as the page names them
func playerClass(m *message) string {
	switch m.class {
	case Election:
		return "election"
	case Discovery:
		return "discovery"
	case Sync:
		return "sync"
	case Broadcast:
		return "broadcast"
	case Requests:
		return "request"
	case Pings:
		return "ping"
	case Hellos:
		return "hello"
	}
	switch m.data.(type) {
	case *model.ClientRequest, *model.ClientReply, *model.ConnectRequest, *model.ConnectResponse, *model.WatcherEvent:
		return "client"
	}
	return "other"
}

func buildPlayer(in PlayerInput) *playerData {
	s := newStory(in.Records, in.End)
	d := &playerData{Title: "a trace", End: int64(s.end), Hash: in.Hash,
		Ports: []string{"", "client", "quorum", "election"}}
	if in.Header != nil {
		d.Title, d.Seed, d.Source, d.Mutants, d.Fixes = in.Header.Scenario, in.Header.Seed, in.Header.Source, in.Header.Mutants, in.Header.Fixes
	}
	res := in.Result
	if res != nil {
		s.clientNames = map[int64]string{}
		for _, c := range res.Clients {
			s.clientNames[c.Node] = c.Name
			d.Clients = append(d.Clients, [2]any{c.Node, c.Name})
		}
		for _, st := range res.Steps {
			d.Steps = append(d.Steps, []any{st.Line, st.Text, st.From, st.To, st.FromNs, st.ToNs, st.Fired})
		}
		d.Replay = res.Replay
		if d.Hash == "" {
			d.Hash = res.TraceHash
		}
		d.Verdict = playerVerdict(s, res)
	}
	n := len(s.recs)
	d.T, d.K, d.N, d.P = make([]int64, n), make([]string, n), make([]int32, n), make([]int32, n)
	d.X, d.W, d.M, d.Mi = make([]string, n), make([]string, n), make([]int32, n), make([]int32, n)
	methods := map[string]int32{}
	clientSeen := map[int64]bool{}
	if res != nil {
		for _, c := range res.Clients {
			clientSeen[c.Node] = true
		}
	}
	for i := range s.recs {
		r := &s.recs[i]
		d.T[i], d.N[i], d.P[i] = int64(r.At), int32(r.Node), int32(r.Peer)
		d.K[i] = r.Kind.String()
		if r.Kind == sim.RecModel {
			if tp, ok := r.Data.(sim.Typed); ok {
				d.K[i] = tp.TypeName()
			}
		}
		if r.Data != nil {
			d.X[i] = string(r.Data.AppendTo(nil))
		}
		d.W[i] = s.recordWords(i)
		d.M[i] = -1
		if m := recordMethod(r); m != "" {
			id, ok := methods[m]
			if !ok {
				id = int32(len(d.Methods))
				methods[m] = id
				d.Methods = append(d.Methods, m)
			}
			d.M[i] = id
		}
		d.Mi[i] = s.msgOf[i]
		if int64(r.Node) >= 1000 && !clientSeen[int64(r.Node)] {
			clientSeen[int64(r.Node)] = true
			d.Clients = append(d.Clients, [2]any{int64(r.Node), fmt.Sprint(r.Node)})
		}
	}
	d.Msgs = playerMessages(s)
	d.Servers = playerServers(s)
	d.Links = playerLinks(s, res)
	d.Chaps = playerChapters(s, res)
	d.Calls = playerCalls(s)
	seen := map[int64]bool{} // looked up, never ranged over
	for i := range s.recs {
		r := &s.recs[i]
		if id := int64(r.Node); id >= 1000 && !seen[id] {
			seen[id] = true
			d.CStates = append(d.CStates, []any{id, i, int64(-1), "starting"})
		}
		if cs, ok := r.Data.(*model.ClientState); ok {
			d.CStates = append(d.CStates, []any{cs.Client, i, cs.Server, cs.State.String()})
		}
	}
	return d
}

// recordAt is the first record at or after t (len when none).
func (s *story) recordAt(t sim.Time) int {
	i, _ := slices.BinarySearchFunc(s.recs, t, func(r sim.Record, t sim.Time) int { return cmpTime(r.At, t) })
	return i
}

func playerVerdict(s *story, res *scenarios.Result) *pVerdict {
	v := &pVerdict{OK: res.OK, Warnings: res.Warnings}
	var b strings.Builder
	s.verdict(&b, res)
	v.Text = strings.TrimSpace(strings.ReplaceAll(strings.ReplaceAll(b.String(), "**", ""), "`", ""))
	for _, x := range res.Violations {
		// pinned to the last record at its time: what the checker had seen when it judged
		i := s.recordAt(sim.Time(x.AtNs) + 1)
		v.Violations = append(v.Violations, []any{x.Check, x.Detail, x.AtNs, max(i-1, 0), x.Expected})
	}
	for _, x := range res.Expectations {
		v.Expectations = append(v.Expectations, []any{x.Line, x.Text, x.OK, x.Got})
	}
	return v
}

func playerMessages(s *story) [][]any {
	out := make([][]any, len(s.msgs))
	send := make([]int, len(s.msgs))
	end := make([]int, len(s.msgs))
	for i := range send {
		send[i], end[i] = -1, -1
	}
	for i, id := range s.msgOf {
		if id < 0 {
			continue
		}
		if send[id] < 0 {
			send[id] = i
		} else {
			end[id] = i
		}
	}
	lost := make([]int, len(s.msgs))
	resumed := make([]int, len(s.msgs))
	for i := range lost {
		lost[i], resumed[i] = -1, -1
	}
	// a "lost" record is about the head of its direction: the oldest message still on it
	type dir struct {
		c        sim.ConnID
		from, to int64
	}
	stalled := map[dir]int{} // looked up, never ranged over: the stalled message
	for i := range s.recs {
		r := &s.recs[i]
		switch r.Kind {
		case sim.RecLost:
			k := dir{r.Conn, int64(r.Node), int64(r.Peer)}
			if _, ok := stalled[k]; ok {
				continue
			}
			for j := range s.msgs {
				m := &s.msgs[j]
				if m.conn == r.Conn && m.from == k.from && send[j] <= i && (end[j] < 0 || end[j] > i) {
					if lost[j] < 0 {
						lost[j] = i
					}
					stalled[k] = j
					break
				}
			}
		case sim.RecRetransmit:
			k := dir{r.Conn, int64(r.Node), int64(r.Peer)}
			if j, ok := stalled[k]; ok {
				if resumed[j] < 0 {
					resumed[j] = i
				}
				delete(stalled, k)
			}
		}
	}
	for j := range s.msgs {
		m := &s.msgs[j]
		fate := 0
		why, short := "", ""
		switch {
		case end[j] < 0:
			fate = 2
		case m.dropped:
			fate = 1
			why, short = s.loss(end[j])
		}
		out[j] = []any{m.from, m.to, send[j], end[j], fate, playerClass(m), playerLabel(m), why, lost[j], resumed[j], short}
	}
	return out
}

// playerLabel is the short text a message's dot carries.
func playerLabel(m *message) string {
	switch d := m.data.(type) {
	case *model.Notification:
		return voteLabel(d, m.looking)
	case *model.QuorumPacket:
		switch d.Type {
		case model.PROPOSAL, model.COMMIT, model.INFORM, model.TRUNC, model.ACK, model.DIFF, model.SNAP:
			return d.Type.String() + " " + d.Zxid.String()
		}
		return d.Type.String()
	case *model.ClientRequest:
		return d.Type.String()
	case *model.ClientReply:
		return "reply"
	}
	if i := strings.IndexByte(m.text, ' '); i > 0 {
		return m.text[:i]
	}
	return m.text
}

func playerServers(s *story) []pServer {
	out := make([]pServer, len(s.servers))
	for i, sid := range s.servers {
		out[i] = pServer{Sid: sid, Observer: s.observers[sid]}
	}
	type logEntry struct {
		zxid                 model.Zxid
		add, commit, removed int
		how, why             string
	}
	logs := make([][]logEntry, len(s.servers))
	alive := func(row int, z model.Zxid) int {
		for k := len(logs[row]) - 1; k >= 0; k-- {
			if e := &logs[row][k]; e.zxid == z && e.removed < 0 {
				return k
			}
		}
		return -1
	}
	for i := range s.recs {
		r := &s.recs[i]
		row, isServer := s.row[int64(r.Node)]
		switch r.Kind {
		case sim.RecStart, sim.RecRestart:
			if isServer {
				out[row].Life = append(out[row].Life, []any{i, "up"})
			}
		case sim.RecCrash:
			if isServer {
				what := "down"
				if r.Data != nil {
					what = "down: " + string(r.Data.AppendTo(nil))
				}
				out[row].Life = append(out[row].Life, []any{i, what})
			}
		case sim.RecPause:
			if isServer {
				out[row].Life = append(out[row].Life, []any{i, "paused"})
			}
		case sim.RecResume:
			if isServer {
				out[row].Life = append(out[row].Life, []any{i, "up"})
			}
		case sim.RecExplain:
			if !isServer {
				continue
			}
			switch x := r.Data.(type) {
			case *model.VoteChanged:
				out[row].Vote = append(out[row].Vote, []any{i, voteLeader(x.Leader), x.Zxid.String(), x.PeerEpoch, x.Round, true, s.recordWords(i)})
			case *model.QuorumAgreed:
				out[row].Quorums = append(out[row].Quorums, []any{i, -1, x.Sids, voteLeader(x.Leader), x.Zxid.String(), 0, x.FinalizeWaitMs})
			case *model.FinalizeInterrupted:
				if q := len(out[row].Quorums); q > 0 && out[row].Quorums[q-1][1] == -1 {
					out[row].Quorums[q-1][1], out[row].Quorums[q-1][5] = i, x.From
				}
			}
		case sim.RecDeliver:
			n, ok := r.Data.(*model.Notification)
			if !ok || !isServer {
				continue
			}
			out[row].Recv = append(out[row].Recv, []any{i, n.Sid, voteLeader(n.Leader), n.Zxid.String(), n.PeerEpoch, n.ElectionEpoch, n.State.String()})
		case sim.RecModel:
			if !isServer {
				continue
			}
			switch x := r.Data.(type) {
			case *model.StateChange:
				out[row].Role = append(out[row].Role, []any{i, x.State.String(), x.Phase.String(), x.Epoch, x.Reason})
			case *model.EpochWritten:
				if x.File == "acceptedEpoch" {
					out[row].Accepted = append(out[row].Accepted, []any{i, x.Epoch})
				}
			case *model.ElectionDone:
				why := fmt.Sprintf("decided: %d leads", x.Leader)
				if q := len(x.Quorums); q > 0 {
					why = fmt.Sprintf("decided after finalizeWait (%d ms) with quorum %s: %d leads", x.FinalizeWaitMs, sidSet(x.Quorums[q-1].Sids), x.Leader)
				} else if x.ViaOutOfElection {
					why = fmt.Sprintf("decided: a quorum already follows %d (its notifications said FOLLOWING/LEADING)", x.Leader)
				}
				out[row].Vote = append(out[row].Vote, []any{i, voteLeader(x.Leader), x.Zxid.String(), x.PeerEpoch, x.ElectionEpoch, false, why})
				if q := len(out[row].Quorums); q > 0 && out[row].Quorums[q-1][1] == -1 {
					out[row].Quorums[q-1][1] = i
				}
			case *model.Logged:
				if alive(row, x.Zxid) < 0 {
					logs[row] = append(logs[row], logEntry{zxid: x.Zxid, add: i, commit: -1, removed: -1, how: "log"})
				}
			case *model.Committed:
				if k := alive(row, x.Zxid); k >= 0 {
					if logs[row][k].commit < 0 {
						logs[row][k].commit = i
					}
				} else {
					logs[row] = append(logs[row], logEntry{zxid: x.Zxid, add: i, commit: i, removed: -1, how: x.How})
				}
			case *model.Truncated:
				for k := range logs[row] {
					if e := &logs[row][k]; e.removed < 0 && e.zxid > x.Zxid {
						e.removed, e.why = i, "TRUNC to "+x.Zxid.String()
					}
				}
			case *model.Loaded:
				in := map[model.Zxid]bool{} // looked up, never ranged over
				for _, h := range x.History {
					in[h.Zxid] = true
				}
				for k := range logs[row] {
					if e := &logs[row][k]; e.removed < 0 && !in[e.zxid] {
						why := "not on disk at the restart (lost)"
						switch x.From {
						case "snap":
							why = "replaced by the leader's SNAP"
						case "trunc":
							why = "truncated"
						case "fastforward":
							why = "not in the log when it left its role"
						}
						e.removed, e.why = i, why
					}
				}
				for _, h := range x.History {
					if k := alive(row, h.Zxid); k >= 0 {
						if logs[row][k].commit < 0 {
							logs[row][k].commit = i
						}
					} else {
						how := x.From
						if how == "disk" || how == "fastforward" || how == "trunc" {
							how = "log"
						}
						logs[row] = append(logs[row], logEntry{zxid: h.Zxid, add: i, commit: i, removed: -1, how: how})
					}
				}
			}
		}
	}
	for row := range logs {
		for _, e := range logs[row] {
			out[row].Log = append(out[row].Log, []any{e.zxid.String(), e.add, e.commit, e.removed, e.how, e.why})
		}
	}
	return out
}

func voteLeader(l int64) int64 {
	if l == math.MinInt64 {
		return -1
	}
	return l
}

// playerLinks are the cut and clogged links after each partition, heal and clog record.
func playerLinks(s *story, res *scenarios.Result) [][]any {
	type link struct{ a, b int64 }
	type state struct {
		ports  int
		resets bool
		clog   int64
	}
	cur := map[link]state{} // looked up, never ranged over
	var out [][]any
	set := func(i int, l link, st state) {
		if cur[l] != st {
			cur[l] = st
			out = append(out, []any{i, l.a, l.b, st.ports, st.resets, st.clog})
		}
	}
	nodes := slices.Clone(s.servers)
	for i := range s.recs {
		r := &s.recs[i]
		text := ""
		if r.Data != nil {
			text = string(r.Data.AppendTo(nil))
		}
		switch r.Kind {
		case sim.RecPartition, sim.RecHeal, sim.RecClog:
		default:
			continue
		}
		if r.Kind == sim.RecHeal && text == "" {
			for _, a := range nodes {
				for _, b := range nodes {
					if a != b {
						set(i, link{a, b}, state{})
					}
				}
			}
			continue
		}
		ports := 255
		if k := strings.Index(text, " ports="); k >= 0 {
			ports = 0
			for _, p := range parseGroup(strings.Fields(text[k+7:])[0]) {
				ports |= 1 << p
			}
		}
		resets := strings.HasSuffix(text, " resetting")
		links, _ := parseGroups(strings.TrimSuffix(strings.SplitN(text, " ports=", 2)[0], " resetting"))
		for _, l := range links {
			k := link{l[0], l[1]}
			st := cur[k]
			switch r.Kind {
			case sim.RecPartition:
				st.ports |= ports
				st.resets = resets
			case sim.RecHeal:
				st.ports &^= ports
				if st.ports == 0 {
					st.resets = false
				}
			case sim.RecClog:
				st.clog = int64(clogUntil(s, res, i))
			}
			set(i, k, st)
		}
	}
	return out
}

// clogUntil is when the clog of record i ends: its line's for= (the trace does not say).
func clogUntil(s *story, res *scenarios.Result, i int) sim.Time {
	if res != nil {
		for _, st := range res.Steps {
			if st.From <= i && i < st.To {
				for _, f := range strings.Fields(st.Text) {
					if v, ok := strings.CutPrefix(f, "for="); ok {
						if d, err := sim.ParseTime(v); err == nil {
							return s.recs[i].At + d
						}
					}
				}
			}
		}
	}
	return s.recs[i].At + sim.Second // unknown: shown for a second
}

// playerChapters are the moments worth jumping to.
func playerChapters(s *story, res *scenarios.Result) [][]any {
	var out [][]any
	add := func(i int, kind, text string) { out = append(out, []any{i, kind, text}) }
	inLooking := false
	for i := range s.recs {
		r := &s.recs[i]
		switch r.Kind {
		case sim.RecCrash:
			add(i, "crash", s.nodeName(int64(r.Node))+" crashes")
		case sim.RecRestart:
			add(i, "restart", s.nodeName(int64(r.Node))+" restarts")
		case sim.RecPause:
			add(i, "pause", s.nodeName(int64(r.Node))+" is paused")
		case sim.RecResume:
			add(i, "resume", s.nodeName(int64(r.Node))+" resumes")
		case sim.RecPartition, sim.RecHeal, sim.RecClog:
			add(i, "network", s.recordWords(i))
		case sim.RecModel:
			switch d := r.Data.(type) {
			case *model.StateChange:
				if d.State == model.LOOKING && !inLooking {
					inLooking = true
					why := ""
					if d.Reason != "" {
						why = ": " + d.Reason
					}
					add(i, "election", fmt.Sprintf("election: server %d starts looking%s", d.Sid, why))
				} else if d.State == model.LOOKING && d.Reason != "" {
					add(i, "stepdown", fmt.Sprintf("server %d leaves its role: %s", d.Sid, d.Reason))
				}
			case *model.LeaderEstablished:
				add(i, "leader", fmt.Sprintf("server %d establishes epoch %d", d.Sid, d.Epoch))
			case *model.LeaderActive:
				inLooking = false
				add(i, "leader", fmt.Sprintf("server %d leads epoch %d: a quorum is in sync", d.Sid, d.Epoch))
			case *model.SyncDecided:
				add(i, "sync", syncSummary(d))
			case *model.Truncated:
				add(i, "sync", fmt.Sprintf("server %d truncates its log to %s", d.Sid, d.Zxid))
			}
		}
	}
	if res != nil {
		for _, v := range res.Violations {
			i := max(s.recordAt(sim.Time(v.AtNs)+1)-1, 0)
			add(i, "violation", "violation of "+v.Check+": "+v.Detail)
		}
	}
	slices.SortStableFunc(out, func(a, b []any) int { return a[0].(int) - b[0].(int) })
	return out
}

// playerCalls are the clients' calls with their answers.
func playerCalls(s *story) [][]any {
	type key struct {
		client int64
		xid    int32
	}
	open := map[key]int{} // looked up, never ranged over
	var out [][]any
	for i := range s.recs {
		switch d := s.recs[i].Data.(type) {
		case *model.ClientCall:
			open[key{d.Client, d.Xid}] = len(out)
			out = append(out, []any{d.Client, i, -1, strings.TrimSpace(callText(d)), ""})
		case *model.ClientReturn:
			if j, ok := open[key{d.Client, d.Xid}]; ok {
				out[j][2] = i
				out[j][4] = returnText(d)
				delete(open, key{d.Client, d.Xid})
			}
		}
	}
	return out
}

func callText(d *model.ClientCall) string {
	t := string(d.AppendTo(nil))
	// drop "call c=1000 s=0x... xid=7 srv=2 ": the page shows who and where
	for _, p := range []string{"call ", "c=", "s=", "xid=", "srv="} {
		if strings.HasPrefix(t, p) {
			if k := strings.IndexByte(t, ' '); k >= 0 && p != "call " {
				t = t[k+1:]
			} else if p == "call " {
				t = t[len(p):]
			}
		}
	}
	return t
}

func returnText(d *model.ClientReturn) string {
	t := model.ErrName(d.Err)
	if d.Err == model.ErrOK {
		switch d.Op {
		case model.OpGetData:
			t += fmt.Sprintf(" %q", d.Data)
		case model.OpCreate:
			t += " " + d.Created
		}
	}
	return t + " (zxid " + d.Zxid.String() + ")"
}
