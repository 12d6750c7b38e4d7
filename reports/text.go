package reports

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/zabsim/zabsim/model"
	"github.com/zabsim/zabsim/sim"
)

// Text writes the part of the run that f selects as a text timeline for terminals: one
// line per event, a fixed-width column per server showing its state and what it did, and
// the event in words, under a key. Messages appear once, when they arrive (or are lost),
// with when they were sent. f.Messages == 0 shows no messages; use Protocol for all but
// pings.
func Text(w io.Writer, records []sim.Record, f Filter) error {
	return newStory(records, 0).text(w, f)
}

const textKey = `key   state   ? LOOKING   F FOLLOWING   L LEADING   O OBSERVING   - down   = paused   (blank: not started)
      phase   d discovery   s synchronization   (none: election or broadcast)
      event   > sends   < receives   x lost on the way   ^ starts   ! crashes   z pauses   r resumes
              * changes state   E elected   @ leads an epoch   # sync decision   P proposes
              l logs   c commits   T truncates   S takes a snapshot   D loads data   e writes an epoch
              ~ partition, heal, clog, latency (all columns)   . anything else
`

// cell is a server's column: state, phase, event mark.
func cell(n *nodeState, ev byte) string {
	var b [4]byte
	b[0], b[1], b[2], b[3] = ' ', ' ', ev, ' '
	switch n.band() {
	case bandNone:
	case bandDown:
		b[0] = '-'
	case bandPaused:
		b[0] = '='
	case bandLooking:
		b[0] = '?'
	case bandFollowing:
		b[0] = 'F'
	case bandLeading:
		b[0] = 'L'
	case bandObserving:
		b[0] = 'O'
	}
	if n.up && n.known && n.st != model.LOOKING {
		switch n.ph {
		case model.PhaseDiscovery:
			b[1] = 'd'
		case model.PhaseSynchronization:
			b[1] = 's'
		}
	}
	return string(b[:])
}

func (s *story) text(w io.Writer, f Filter) error {
	bw := bufio.NewWriter(w)
	from, to := f.window(s)
	if f.Title != "" {
		fmt.Fprintf(bw, "%s\n", f.Title)
	}
	fmt.Fprintf(bw, "window %s to %s, messages: %s\n", fmtAt(from), fmtAt(to), f.Messages)
	bw.WriteString(textKey)
	head := "\n    time (s) "
	for _, sid := range s.servers {
		head += fmt.Sprintf("%-4s", strconv.FormatInt(sid, 10))
	}
	bw.WriteString(strings.TrimRight(head, " ") + "\n")

	states := make([]nodeState, len(s.servers))
	marks := make([]byte, len(s.servers))
	line := func(at sim.Time, what string) {
		fmt.Fprintf(bw, "%12.6f ", at.Seconds())
		for i := range states {
			bw.WriteString(cell(&states[i], marks[i]))
			marks[i] = ' '
		}
		bw.WriteString(strings.TrimRight(what, " "))
		bw.WriteByte('\n')
	}
	for i := range marks {
		marks[i] = ' '
	}
	setMark := func(sid int64, b byte) {
		if row, ok := s.row[sid]; ok {
			marks[row] = b
		}
	}
	allMark := func(b byte) {
		for i := range marks {
			marks[i] = b
		}
	}
	var buf []byte
	for i := range s.recs {
		r := &s.recs[i]
		node := int64(r.Node)
		if row, ok := s.row[node]; ok {
			states[row].apply(r)
		}
		if r.At < from || r.At > to {
			continue
		}
		switch r.Kind {
		case sim.RecStart, sim.RecRestart, sim.RecCrash, sim.RecPause, sim.RecResume:
			if _, ok := s.row[node]; !ok {
				continue
			}
			ev, verb := processWord(r.Kind)
			setMark(node, ev)
			if r.Kind == sim.RecCrash && r.Data != nil { // not a plain process kill
				buf = r.Data.AppendTo(buf[:0])
				verb += " (" + string(buf) + ")"
			}
			line(r.At, fmt.Sprintf("%d %s", node, verb))
		case sim.RecPartition, sim.RecHeal, sim.RecClog, sim.RecLatency:
			allMark('~')
			what := r.Kind.String()
			if r.Kind == sim.RecLatency {
				what += fmt.Sprintf(" %d -> %d", r.Node, r.Peer)
			}
			if r.Data != nil {
				buf = r.Data.AppendTo(buf[:0])
				what += " " + string(buf)
			} else if r.Kind == sim.RecHeal {
				what += " all links"
			}
			line(r.At, what)
		case sim.RecLost, sim.RecRetransmit, sim.RecAbort:
			if _, ok := s.row[node]; !ok {
				continue
			}
			setMark(node, '~')
			what := map[sim.RecordKind]string{
				sim.RecLost:       "%d > %d  segment lost on connection %d: TCP will retransmit it",
				sim.RecRetransmit: "%d > %d  TCP retransmits what connection %d queued",
				sim.RecAbort:      "%d > %d  TCP gives up on connection %d (ETIMEDOUT)",
			}[r.Kind]
			line(r.At, fmt.Sprintf(what, r.Node, r.Peer, r.Conn))
		case sim.RecReset:
			setMark(node, '~')
			setMark(int64(r.Peer), '~')
			line(r.At, fmt.Sprintf("connection %d between %d and %d reset", r.Conn, r.Node, r.Peer))
		case sim.RecDeliver, sim.RecDrop:
			id := s.msgOf[i]
			if id < 0 {
				continue
			}
			m := &s.msgs[id]
			if !f.keeps(s, m, from, to) {
				continue
			}
			setMark(m.from, '>')
			what := fmt.Sprintf("%d > %d  %s  (sent %.6f, %s)", m.from, m.to, m.text, m.sent.Seconds(), fmtDur(m.done-m.sent))
			if m.dropped {
				setMark(m.to, 'x')
				what = fmt.Sprintf("%d > %d  %s  LOST (sent %.6f)", m.from, m.to, m.text, m.sent.Seconds())
			} else {
				setMark(m.to, '<')
			}
			line(r.At, what)
		case sim.RecModel:
			if _, ok := s.row[node]; !ok || r.Data == nil {
				continue
			}
			ev, what, ok := modelLine(r, f)
			if !ok {
				continue
			}
			setMark(node, ev)
			line(r.At, fmt.Sprintf("%d %s", node, what))
		}
	}
	// what never arrived
	for i := range s.msgs {
		m := &s.msgs[i]
		if m.done < 0 && m.sent <= to && f.keeps(s, m, from, to) {
			fmt.Fprintf(bw, "%12s  still in flight at the end: %d > %d  %s  (sent %.6f)\n", "", m.from, m.to, m.text, m.sent.Seconds())
		}
	}
	return bw.Flush()
}

// modelLine is a model record's mark and words, and whether f shows it.
func modelLine(r *sim.Record, f Filter) (byte, string, bool) {
	text := string(r.Data.AppendTo(nil))
	about := func(z model.Zxid) bool { return f.Zxid == 0 || z == f.Zxid }
	switch d := r.Data.(type) {
	case *model.StateChange:
		return '*', text, f.Zxid == 0
	case *model.ElectionDone:
		return 'E', text, f.Zxid == 0
	case *model.LeaderEstablished, *model.LeaderActive:
		return '@', text, f.Zxid == 0
	case *model.SyncDecided:
		return '#', text + " (" + d.Branch + ")", f.Zxid == 0
	case *model.Proposed:
		return 'P', text, d.Txn != nil && about(d.Txn.Zxid)
	case *model.Logged:
		return 'l', text, about(d.Zxid)
	case *model.Committed:
		return 'c', text, about(d.Zxid)
	case *model.Truncated:
		return 'T', text, f.Zxid == 0
	case *model.SnapshotTaken:
		return 'S', text, f.Zxid == 0
	case *model.Loaded:
		return 'D', text, f.Zxid == 0
	case *model.EpochWritten:
		return 'e', text, f.Zxid == 0
	}
	return '.', text, f.Zxid == 0
}

func processWord(k sim.RecordKind) (byte, string) {
	switch k {
	case sim.RecStart:
		return '^', "starts"
	case sim.RecRestart:
		return '^', "restarts"
	case sim.RecCrash:
		return '!', "crashes"
	case sim.RecPause:
		return 'z', "pauses"
	}
	return 'r', "resumes"
}
