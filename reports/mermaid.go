package reports

import (
	"fmt"
	"slices"
	"strings"

	"github.com/zabsim/zabsim/model"
	"github.com/zabsim/zabsim/sim"
)

// Mermaid returns the part of the run that f selects as a Mermaid sequenceDiagram, for
// pasting into documents: a participant per server (those of f.Between if set), a
// message per send in the order sent (a lost one ends in a cross), and notes for state
// changes, elections, sync decisions, crashes, restarts and partitions. Mermaid draws
// every message level, so the delay of each is written on it.
func Mermaid(records []sim.Record, f Filter) string {
	return newStory(records, 0).mermaid(f)
}

func (s *story) mermaid(f Filter) string {
	from, to := f.window(s)
	who := s.servers
	if len(f.Between) > 0 {
		who = nil
		for _, sid := range s.servers {
			if slices.Contains(f.Between, sid) {
				who = append(who, sid)
			}
		}
	}
	in := func(sid int64) bool { return slices.Contains(who, sid) }
	p := func(sid int64) string { return fmt.Sprintf("s%d", sid) }
	all := ""
	if len(who) > 0 {
		all = p(who[0])
		if len(who) > 1 {
			all += "," + p(who[len(who)-1])
		}
	}

	var lines []string
	add := func(_ sim.Time, line string) { lines = append(lines, line) }
	// Messages at their send, other events at their time, in the order of the trace.
	for i := range s.recs {
		r := &s.recs[i]
		if r.At < from || r.At > to {
			continue
		}
		node := int64(r.Node)
		switch r.Kind {
		case sim.RecSend:
			id := s.msgOf[i]
			if id < 0 {
				continue
			}
			m := &s.msgs[id]
			if !f.keeps(s, m, from, to) {
				continue
			}
			switch {
			case m.done < 0:
				add(r.At, fmt.Sprintf("%s-)%s: %s (in flight at the end)", p(m.from), p(m.to), mermaidText(m.text)))
			case m.dropped:
				add(r.At, fmt.Sprintf("%s--x%s: %s (lost after %s)", p(m.from), p(m.to), mermaidText(m.text), fmtDur(m.done-m.sent)))
			default:
				add(r.At, fmt.Sprintf("%s->>%s: %s (%s)", p(m.from), p(m.to), mermaidText(m.text), fmtDur(m.done-m.sent)))
			}
		case sim.RecStart, sim.RecRestart, sim.RecCrash, sim.RecPause, sim.RecResume:
			if in(node) {
				_, verb := processWord(r.Kind)
				add(r.At, fmt.Sprintf("Note over %s: %s %s", p(node), fmtAt(r.At), verb))
			}
		case sim.RecPartition, sim.RecHeal, sim.RecClog:
			if all == "" {
				continue
			}
			what := r.Kind.String()
			if r.Data != nil {
				what += " " + string(r.Data.AppendTo(nil))
			} else {
				what += " all links"
			}
			add(r.At, fmt.Sprintf("Note over %s: %s %s", all, fmtAt(r.At), mermaidText(what)))
		case sim.RecModel:
			if !in(node) {
				continue
			}
			switch d := r.Data.(type) {
			case *model.StateChange:
				add(r.At, fmt.Sprintf("Note over %s: %s %s %s", p(node), fmtAt(r.At), d.State, strings.ToLower(d.Phase.String())))
			case *model.ElectionDone:
				add(r.At, fmt.Sprintf("Note over %s: elected %d (round %d)", p(node), d.Leader, d.ElectionEpoch))
			case *model.LeaderEstablished:
				add(r.At, fmt.Sprintf("Note over %s: epoch %d established", p(node), d.Epoch))
			case *model.SyncDecided:
				over := p(node)
				if in(d.Learner) {
					over += "," + p(d.Learner)
				}
				add(r.At, fmt.Sprintf("Note over %s: %s for %d: peerLastZxid %s, committedLog %s..%s", over, d.Mode, d.Learner, d.PeerLastZxid, d.MinCommitted, d.MaxCommitted))
			case *model.Truncated:
				add(r.At, fmt.Sprintf("Note over %s: log truncated to %s", p(node), d.Zxid))
			case *model.Proposed:
				if f.Zxid != 0 && d.Txn != nil && d.Txn.Zxid == f.Zxid {
					add(r.At, fmt.Sprintf("Note over %s: proposes %s", p(node), mermaidText(d.Txn.String())))
				}
			case *model.Logged:
				if f.Zxid != 0 && d.Zxid == f.Zxid {
					add(r.At, fmt.Sprintf("Note over %s: logged", p(node)))
				}
			case *model.Committed:
				if f.Zxid != 0 && d.Zxid == f.Zxid {
					add(r.At, fmt.Sprintf("Note over %s: committed", p(node)))
				}
			}
		}
	}
	var b strings.Builder
	b.WriteString("sequenceDiagram\n")
	if f.Title != "" {
		fmt.Fprintf(&b, "    title %s\n", strings.ReplaceAll(mermaidText(f.Title), ": ", " - "))
	}
	for _, sid := range who {
		fmt.Fprintf(&b, "    participant %s as %s\n", p(sid), s.serverName(sid))
	}
	for _, l := range lines {
		fmt.Fprintf(&b, "    %s\n", l)
	}
	return b.String()
}

// mermaidText keeps a message text from breaking the diagram's syntax.
func mermaidText(s string) string {
	return strings.NewReplacer(";", ",", "#", "no. ", "->", "→", "<", "‹", ">", "›", "\n", " ").Replace(s)
}
