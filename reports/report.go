package reports

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/zabsim/zabsim/model"
	"github.com/zabsim/zabsim/scenarios"
	"github.com/zabsim/zabsim/sim"
)

// Write writes the report of a run into dir (created if needed): index.md, which tells
// what happened in order, with the verdict and a link to every picture; the pictures of
// every view (PNG and SVG); a Mermaid diagram per election and per sync; and the text
// timeline of the whole run; and, when clients called operations, history.html: their
// history as porcupine draws it, with crashes, partitions and leaders on rows of their
// own (history.go). The run must have kept its trace.
func Write(res *scenarios.Result, dir string) error {
	if res == nil || res.World == nil {
		return errors.New("reports: the run has no world (it did not start)")
	}
	recs := res.World.Trace().Records()
	if len(recs) == 0 && res.World.Trace().Len() > 0 {
		return errors.New("reports: the run kept no trace (it ran with NoTrace)")
	}
	return write(newStory(recs, sim.Time(res.VirtualNs)), res, dir)
}

// WriteFromTrace writes the same report from the records of a trace alone (for example
// read back with ReadJSONL). Without the run's result it cannot state a verdict.
func WriteFromTrace(records []sim.Record, dir string) error {
	return write(newStory(records, 0), nil, dir)
}

// WriteFromTraceFile writes the report of a trace read with ReadTrace, which ends at the
// time its end record says.
func WriteFromTraceFile(tf *TraceFile, dir string) error {
	return write(newStory(tf.Records, tf.End.At), nil, dir)
}

// WriteJudged writes the report of a saved trace with the verdict res judged from it
// (scenarios.JudgeTrace).
func WriteJudged(tf *TraceFile, res *scenarios.Result, dir string) error {
	return write(newStory(tf.Records, tf.End.At), res, dir)
}

func write(s *story, res *scenarios.Result, dir string) error {
	s.withResult(res)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	names, files, err := s.render(res, []Format{PNG, SVG})
	if err != nil {
		return err
	}
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), files[n], 0o644); err != nil {
			return err
		}
	}
	return nil
}

// render makes every file of the report, the pictures in the given formats, and returns
// their names (sorted) and contents.
func (s *story) render(res *scenarios.Result, formats []Format) ([]string, map[string][]byte, error) {
	views := s.views()
	pictured, left := pictured(views)
	files := map[string][]byte{} // looked up by the sorted names
	var names []string
	put := func(name string, b []byte) {
		files[name] = b
		names = append(names, name)
	}
	for _, v := range pictured {
		for _, format := range formats {
			var b bytes.Buffer
			if err := s.timeline(&b, v.Filter, format); err != nil {
				return nil, nil, fmt.Errorf("reports: %s.%s: %v", v.Name, format, err)
			}
			put(v.Name+"."+string(format), b.Bytes())
		}
		if v.Kind == "election" || v.Kind == "sync" || v.Kind == "broadcast" {
			put(v.Name+".mmd", []byte(s.mermaid(v.Filter)))
		}
	}
	var tl bytes.Buffer
	if err := s.text(&tl, Filter{Title: "Text timeline of the whole run", Messages: Protocol}); err != nil {
		return nil, nil, err
	}
	put("timeline.txt", tl.Bytes())
	hist, err := s.history(s.historyOptions(res))
	if err != nil {
		return nil, nil, err
	}
	if hist != nil {
		put("history.html", hist.html)
	}
	put("index.md", []byte(s.index(res, pictured, left, hist)))
	slices.Sort(names)
	return names, files, nil
}

// happening is one line of "what happened".
type happening struct {
	at   sim.Time
	text string
}

// A long run has hundreds of elections or syncs (epoch-ahead's loop: over a thousand), and
// a picture each made its report take minutes and hundreds of megabytes. The report draws
// the first picturedHead and the last picturedTail of each kind; the index lists them all,
// and timeline.txt and the player show every one.
const picturedHead, picturedTail = 12, 4

// pictured returns the views the report draws, in order, and how many of each kind it
// leaves out.
func pictured(views []View) ([]View, map[string]int) {
	total, seen := map[string]int{}, map[string]int{}
	for _, v := range views {
		total[v.Kind]++
	}
	var out []View
	left := map[string]int{}
	for _, v := range views {
		seen[v.Kind]++
		if n := seen[v.Kind]; n <= picturedHead || n > total[v.Kind]-picturedTail {
			out = append(out, v)
		} else {
			left[v.Kind]++
		}
	}
	return out, left
}

// index is the Markdown summary of the run: pictured are the views drawn, the overview first
// (left: how many of each kind were not); hist is the clients' history page, nil without
// client operations.
func (s *story) index(res *scenarios.Result, pictured []View, left map[string]int, hist *historyPage) string {
	var b strings.Builder
	if res != nil {
		fmt.Fprintf(&b, "# %s (seed %d)\n\n", res.Scenario, res.Seed)
		if res.Header != "" {
			// the scenario's own comment: what it teaches and where it comes from
			for _, line := range strings.Split(res.Header, "\n") {
				fmt.Fprintf(&b, "> %s\n", line)
			}
			b.WriteString("\n")
		}
	} else {
		b.WriteString("# Report of a trace\n\n")
	}
	s.verdict(&b, res)

	fmt.Fprintf(&b, "![%s](overview.png)\n\n", pictured[0].Filter.Title)
	b.WriteString("[overview.svg](overview.svg) · [timeline.txt](timeline.txt) (every event, one line each)\n\n")
	if hist != nil {
		b.WriteString(hist.sentence)
	}

	b.WriteString("## What happened\n\n")
	hs := s.happenings(pictured)
	if res != nil {
		for _, v := range res.Violations {
			what := "**violation** of " + v.Check
			if v.Expected {
				what += " (expected)"
			}
			hs = append(hs, happening{sim.Time(v.AtNs), what + ": " + v.Detail})
		}
		slices.SortStableFunc(hs, func(a, b happening) int { return cmpTime(a.at, b.at) })
	}
	for i, h := range hs {
		fmt.Fprintf(&b, "%d. `%s` %s\n", i+1, fmtAt(h.at), h.text)
	}
	b.WriteString("\n")

	if res != nil {
		b.WriteString("## Expectations\n\n")
		if len(res.Expectations) == 0 {
			b.WriteString("The scenario states none.\n\n")
		} else {
			b.WriteString("| line | expectation | result | got |\n|---:|---|---|---|\n")
			for _, x := range res.Expectations {
				mark := "ok"
				if !x.OK {
					mark = "**FAILED**"
				}
				fmt.Fprintf(&b, "| %d | `%s` | %s | %s |\n", x.Line, mdCell(x.Text), mark, mdCell(x.Got))
			}
			b.WriteString("\n")
		}
		b.WriteString("## Checks\n\n")
		if len(res.Violations) == 0 {
			b.WriteString("No check failed.\n\n")
		} else {
			b.WriteString("| time | check | expected | detail |\n|---:|---|---|---|\n")
			for _, v := range res.Violations {
				exp := "**no**"
				if v.Expected {
					exp = "yes"
				}
				fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", fmtAt(sim.Time(v.AtNs)), mdCell(v.Check), exp, mdCell(v.Detail))
			}
			b.WriteString("\n")
		}
	}

	b.WriteString("## Pictures\n\n")
	b.WriteString("Each picture has one lifeline per server, coloured by its state; arrows go from the moment a message " +
		"is sent to the moment it arrives, so their slant is their real delay. Where nothing happens for a long " +
		"while the time axis is cut (a grey break says how long), so that milliseconds stay readable.\n\n")
	for _, kind := range []string{"election", "sync", "broadcast"} {
		if n := left[kind]; n > 0 {
			fmt.Fprintf(&b, "Of the run's %d %ss, the first %d and the last %d are pictured; the %d between are in "+
				"timeline.txt and the run player (`--player`).\n\n", n+picturedHead+picturedTail, kind, picturedHead, picturedTail, n)
		}
	}
	for _, v := range pictured[1:] {
		fmt.Fprintf(&b, "### %s\n\n", v.Filter.Title)
		fmt.Fprintf(&b, "![%s](%s.png)\n\n", v.Name, v.Name)
		fmt.Fprintf(&b, "[%s.svg](%s.svg) · [%s.mmd](%s.mmd)\n\n", v.Name, v.Name, v.Name, v.Name)
		fmt.Fprintf(&b, "<details><summary>as a sequence diagram</summary>\n\n```mermaid\n%s```\n\n</details>\n\n", s.mermaid(v.Filter))
	}
	return b.String()
}

func (s *story) verdict(b *strings.Builder, res *scenarios.Result) {
	if res == nil {
		fmt.Fprintf(b, "**Verdict: unknown.** This report was made from a trace alone (%d records, %s of virtual time); "+
			"run the scenario to check its expectations and invariants.\n\n", len(s.recs), fmtAt(s.end))
		return
	}
	failed := 0
	for _, x := range res.Expectations {
		if !x.OK {
			failed++
		}
	}
	expected, unexpected := 0, 0
	for _, v := range res.Violations {
		if v.Expected {
			expected++
		} else {
			unexpected++
		}
	}
	if res.OK {
		fmt.Fprintf(b, "**Verdict: ok.** %s held", plural(len(res.Expectations), "expectation"))
		if expected > 0 {
			fmt.Fprintf(b, "; the checks found only the %s the scenario expects.", plural(expected, "violation"))
		} else {
			b.WriteString(" and no check failed.")
		}
	} else {
		var why []string
		if failed > 0 {
			why = append(why, fmt.Sprintf("%s of %d failed", plural(failed, "expectation"), len(res.Expectations)))
		}
		if unexpected > 0 {
			why = append(why, fmt.Sprintf("the checks found %s", plural(unexpected, "violation")))
		}
		if res.Stopped != "" {
			why = append(why, "the run stopped early ("+res.Stopped+")")
		}
		fmt.Fprintf(b, "**Verdict: FAILED.** %s.", capitalize(joinAnd(why)))
	}
	fmt.Fprintf(b, " %d events, %s of virtual time, trace hash `%s`; replay with `%s`.\n\n",
		res.Events, fmtAt(sim.Time(res.VirtualNs)), res.TraceHash, res.Replay)
	for _, w := range res.Warnings {
		fmt.Fprintf(b, "> warning: %s\n\n", w)
	}
}

// happenings are the run's events worth a line, in order, with links to their pictures
// (the views drawn).
func (s *story) happenings(views []View) []happening {
	var hs []happening
	drawn := map[string]bool{} // looked up, never ranged over
	for _, v := range views {
		drawn[v.Name] = true
	}
	link := func(name string) string {
		if !drawn[name] {
			return ""
		}
		return fmt.Sprintf(" ([picture](%s.png))", name)
	}
	// Starts at one moment are one line.
	var starting []string
	var startAt sim.Time
	flushStarts := func() {
		if len(starting) > 0 {
			what := "server " + starting[0] + " starts"
			if len(starting) > 1 {
				what = "servers " + joinAnd(starting) + " start"
			}
			hs = append(hs, happening{startAt, what})
			starting = nil
		}
	}
	for _, k := range s.marks {
		if k.kind != markStart {
			flushStarts()
		}
		switch k.kind {
		case markStart:
			if len(starting) > 0 && k.at != startAt {
				flushStarts()
			}
			startAt = k.at
			starting = append(starting, fmt.Sprint(k.node))
		case markRestart:
			hs = append(hs, happening{k.at, fmt.Sprintf("server %d restarts", k.node)})
		case markCrash:
			hs = append(hs, happening{k.at, fmt.Sprintf("server %d **crashes**", k.node)})
		case markPause:
			hs = append(hs, happening{k.at, fmt.Sprintf("server %d is paused", k.node)})
		case markResume:
			hs = append(hs, happening{k.at, fmt.Sprintf("server %d resumes", k.node)})
		case markTruncated:
			hs = append(hs, happening{k.at, fmt.Sprintf("server %d truncates its log to %s", k.node, k.zxid)})
		case markSnapLoaded:
			hs = append(hs, happening{k.at, fmt.Sprintf("server %d loads the leader's snapshot (up to %s)", k.node, k.zxid)})
		}
	}
	flushStarts()
	prev := map[int64]string{} // looked up, never ranged over: each server's last state
	for i := range s.recs {
		r := &s.recs[i]
		switch r.Kind {
		case sim.RecModel:
			// the events that explain a fault: a server leaving its role, and why
			if sc, ok := r.Data.(*model.StateChange); ok {
				was := prev[sc.Sid]
				prev[sc.Sid] = sc.State.String()
				if sc.Reason != "" {
					who := "learner"
					switch was {
					case "LEADING":
						who = "leader"
					case "OBSERVING":
						who = "observer"
					}
					hs = append(hs, happening{r.At, fmt.Sprintf("%s %d (%s) leaves its role and looks for a leader: %s", who, sc.Sid, was, sc.Reason)})
				}
			}
		case sim.RecTimer:
			// a leader dropping a learner that went quiet (LearnerHandler's read timeout)
			if r.Data != nil {
				k, _ := strconv.Atoi(strings.TrimPrefix(string(r.Data.AppendTo(nil)), "timer "))
				if name, _ := model.TimerName(int64(r.Node), k); strings.HasPrefix(name, "handler read timeout") {
					hs = append(hs, happening{r.At, fmt.Sprintf("leader %d drops learner %d: nothing from it within its read timeout (LearnerHandler)", r.Node, k-32)})
				}
			}
		case sim.RecPartition, sim.RecHeal, sim.RecClog:
			what := r.Kind.String()
			if r.Data != nil {
				what += " " + string(r.Data.AppendTo(nil))
			} else {
				what += " of every link"
			}
			hs = append(hs, happening{r.At, "network: " + what})
		}
	}
	for i, e := range s.episodes {
		hs = append(hs, happening{e.from, fmt.Sprintf("election %d: %s%s", i+1, s.episodeSummary(&e), link(fmt.Sprintf("election-%d", i+1)))})
	}
	for _, l := range s.leaders {
		if l.active {
			hs = append(hs, happening{l.at, fmt.Sprintf("server %d leads epoch %d: a quorum is in sync, it serves", l.sid, l.epoch)})
		} else {
			hs = append(hs, happening{l.at, fmt.Sprintf("server %d establishes epoch %d (a quorum acknowledged it)", l.sid, l.epoch)})
		}
	}
	for i, sd := range s.syncs {
		hs = append(hs, happening{sd.at, fmt.Sprintf("%s: *%s*%s", syncSummary(sd.d), sd.d.Branch, link(fmt.Sprintf("sync-%d", i+1)))})
	}
	hs = append(hs, s.proposalRuns(views)...)
	slices.SortStableFunc(hs, func(a, b happening) int { return cmpTime(a.at, b.at) })
	return hs
}

// proposalRuns sums the proposals up: one line per run of proposals by one leader that
// nothing else interrupts, with links to the broadcasts drawn.
func (s *story) proposalRuns(views []View) []happening {
	var out []happening
	// the moments that break a run of proposals
	var breaks []sim.Time
	for _, k := range s.marks {
		if k.kind != markLogged && k.kind != markCommitted && k.kind != markProposed {
			breaks = append(breaks, k.at)
		}
	}
	for _, sp := range s.spans {
		breaks = append(breaks, sp.from, sp.to)
	}
	for _, sd := range s.syncs {
		breaks = append(breaks, sd.at)
	}
	slices.Sort(breaks)
	broken := func(a, b sim.Time) bool {
		i, _ := slices.BinarySearch(breaks, a+1)
		return i < len(breaks) && breaks[i] <= b
	}
	for i := 0; i < len(s.proposals); {
		j := i + 1
		for j < len(s.proposals) && s.proposals[j].leader == s.proposals[i].leader &&
			s.proposals[j].zxid.Epoch() == s.proposals[i].zxid.Epoch() && !broken(s.proposals[j-1].at, s.proposals[j].at) {
			j++
		}
		run := s.proposals[i:j]
		first, last := run[0], run[len(run)-1]
		var links, fates []string
		counts := map[string]int{} // looked up, never ranged over
		for _, p := range run {
			f := "is committed"
			switch {
			case len(p.committed) > 0:
			case len(p.recovered) > 0:
				f = "is **not committed by its leader** but recovered from the logs"
			default:
				f = "is **never committed**"
			}
			if counts[f] == 0 {
				fates = append(fates, f)
			}
			counts[f]++
			for _, v := range views {
				if v.Kind == "broadcast" && v.Filter.Zxid == p.zxid && v.At == p.at {
					links = append(links, fmt.Sprintf("[%s](%s.png)", p.zxid, v.Name))
				}
			}
		}
		what := fmt.Sprintf("server %d proposes %s", first.leader, first.zxid)
		if len(run) > 1 {
			what = fmt.Sprintf("server %d proposes %s to %s (%d txns)", first.leader, first.zxid, last.zxid, len(run))
		}
		var parts []string
		for _, f := range fates {
			switch {
			case len(run) == 1:
				parts = append(parts, "it "+f)
			case counts[f] == len(run):
				parts = append(parts, "each "+f)
			default:
				parts = append(parts, fmt.Sprintf("%d %s", counts[f], strings.Replace(f, "is ", "are ", 1)))
			}
		}
		what += "; " + joinAnd(parts)
		if len(links) > 0 {
			what += " (broadcast pictures: " + strings.Join(links, ", ") + ")"
		}
		out = append(out, happening{first.at, what})
		i = j
	}
	return out
}

func mdCell(s string) string {
	return strings.NewReplacer("|", "\\|", "\n", " ").Replace(s)
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
