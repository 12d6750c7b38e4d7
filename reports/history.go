package reports

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/anishathalye/porcupine"

	"github.com/zabsim/zabsim/checker"
	"github.com/zabsim/zabsim/scenarios"
	"github.com/zabsim/zabsim/sim"
)

// The client history as porcupine draws it (history.html): one row per client (numbered by
// rank, as the checker gives them to porcupine), and below them rows of annotations:
// "crashes" (every crash and restart of a server, a point), "leaders" (every established
// leader, from its LeaderEstablished to the next one) and "partitions" (every partition,
// from the cut to its heal; a clog, whose length the trace does not give, is a point).
// Porcupine's operations carry virtual call and return times in nanoseconds (sim.Time, the
// checker's linOp.call and ret), and so do the annotations.

// The annotation rows (porcupine draws them in the order of their tags' names).
const (
	tagCrashes    = "crashes"
	tagLeaders    = "leaders"
	tagPartitions = "partitions"
)

// historyPage is history.html and the sentence of index.md that links it.
type historyPage struct {
	html     []byte
	sentence string
}

// historyOptions describes the run to the checker: from the run's configuration, or, for a
// trace alone, from the servers and observers the trace shows (defaults for the rest).
func (s *story) historyOptions(res *scenarios.Result) checker.Options {
	if res != nil && res.Ensemble != nil && res.Ensemble.Cfg != nil {
		return checker.OptionsFor(*res.Ensemble.Cfg)
	}
	return checker.Options{Voters: len(s.servers) - len(s.observers), Observers: len(s.observers)}
}

// history runs the checker over the trace and draws the clients' history with porcupine.
// It returns nil when the run has no client operations to check.
func (s *story) history(opts checker.Options) (*historyPage, error) {
	if s.linTimeout > 0 {
		opts.LinearizabilityTimeout = s.linTimeout
	}
	c := checker.New(opts)
	for i := range s.recs {
		c.Observe(i, &s.recs[i])
	}
	c.Finish(s.end)
	lin := c.Linearizability()
	if lin.Operations == 0 {
		return nil, nil
	}
	_, info, m := c.LinearizabilityInfo() // the illegal paths if any, else every path
	info.AddAnnotations(s.annotations())
	var b bytes.Buffer
	if err := porcupine.Visualize(m, info, &b); err != nil {
		return nil, fmt.Errorf("reports: history.html: %v", err)
	}
	page := nameClientRows(b.Bytes(), s.clientRowNames(c.LinearizabilityClients()))

	var verdict, shown string
	switch lin.Outcome {
	case porcupine.Ok:
		verdict = "linearizable"
	case porcupine.Illegal:
		verdict = "NOT linearizable: paths " + strings.Join(lin.Illegal, ", ")
		shown = " (only the paths found not linearizable are drawn)"
	default:
		verdict = "unknown: porcupine's time limit was hit"
	}
	sentence := fmt.Sprintf("[history.html](history.html) is the clients' history as porcupine draws it%s: "+
		"%s on %s (each operation labelled with its znode), one row per client, named as the scenario names it, with the servers' crashes and restarts, the partitions and clogs, and the "+
		"established leaders on rows of their own; porcupine's verdict: %s.\n\n",
		shown, plural(lin.Operations, "operation"), plural(lin.Paths, "path"), verdict)
	return &historyPage{html: page, sentence: sentence}, nil
}

// annotations are the crashes, restarts, partitions, clogs and leaders of the run, in the order of
// the story (so the page is a pure function of the trace).
func (s *story) annotations() []porcupine.Annotation {
	var out []porcupine.Annotation
	for _, k := range s.marks {
		var what, bg string
		switch k.kind {
		case markCrash:
			what, bg = "crashes", "#f4b6b6"
		case markRestart:
			what, bg = "restarts", "#c8e6c9"
		default:
			continue
		}
		out = append(out, porcupine.Annotation{
			Tag: tagCrashes, Start: int64(k.at), End: int64(k.at),
			Description:     fmt.Sprintf("server %d %s", k.node, what),
			Details:         fmt.Sprintf("server %d %s at %s (virtual time, %d ns)", k.node, what, fmtAt(k.at), int64(k.at)),
			BackgroundColor: bg,
		})
	}
	for _, sp := range s.spans {
		what := "partition"
		if sp.text != "" {
			what += " " + sp.text
		}
		until := "healed at " + fmtAt(sp.to)
		if sp.open {
			until = "never healed (the run ends at " + fmtAt(sp.to) + ")"
		}
		out = append(out, porcupine.Annotation{
			Tag: tagPartitions, Start: int64(sp.from), End: int64(sp.to),
			Description:     what,
			Details:         fmt.Sprintf("%s from %s, %s", what, fmtAt(sp.from), until),
			BackgroundColor: "#ffe0b2",
		})
	}
	for i := range s.recs { // a clog holds messages back for a while the trace does not say
		if r := &s.recs[i]; r.Kind == sim.RecClog {
			what := "clog of every link"
			if r.Data != nil {
				what = "clog " + string(r.Data.AppendTo(nil))
			}
			out = append(out, porcupine.Annotation{
				Tag: tagPartitions, Start: int64(r.At), End: int64(r.At),
				Description:     what,
				Details:         fmt.Sprintf("%s at %s: messages on these links are held back for a while", what, fmtAt(r.At)),
				BackgroundColor: "#ffe0b2",
			})
		}
	}
	var established []leaderEvent
	for _, l := range s.leaders {
		if !l.active {
			established = append(established, l)
		}
	}
	for i, l := range established {
		end, until := s.end, "until the end of the run"
		if i+1 < len(established) {
			end = established[i+1].at
			until = fmt.Sprintf("until server %d establishes epoch %d at %s", established[i+1].sid, established[i+1].epoch, fmtAt(end))
		}
		out = append(out, porcupine.Annotation{
			Tag: tagLeaders, Start: int64(l.at), End: int64(end),
			Description:     fmt.Sprintf("leader %d, epoch %d", l.sid, l.epoch),
			Details:         fmt.Sprintf("server %d establishes epoch %d at %s (a quorum acknowledged it), %s", l.sid, l.epoch, fmtAt(l.at), until),
			BackgroundColor: "#bbdefb",
		})
	}
	return out
}

// clientRowNames names porcupine's client rows (row i is client ids[i]) as the scenario
// does: "A", "W", "workload 3"; a client the scenario did not name keeps its node id.
func (s *story) clientRowNames(ids []int64) []string {
	names := make([]string, len(ids))
	for i, id := range ids {
		if n, ok := s.clientNames[id]; ok {
			names[i] = n
		} else {
			names[i] = fmt.Sprintf("client %d", id)
		}
	}
	return names
}

// nameClientRows makes porcupine's page label its client rows with names instead of their
// ranks: porcupine draws the labels from the ranks, so a script replaces them once drawn.
func nameClientRows(page []byte, names []string) []byte {
	js, _ := json.Marshal(names)
	script := `<script>/* zabsim: the client rows named as the scenario names them */
window.addEventListener("load", function () {
  var names = ` + string(js) + `;
  setTimeout(function () {
    document.querySelectorAll("#canvas svg > g > text").forEach(function (t) {
      var s = t.textContent;
      if (/^[0-9]+$/.test(s) && +s < names.length) t.textContent = names[+s];
    });
  }, 0);
});
</script>
`
	if i := bytes.LastIndex(page, []byte("</body>")); i >= 0 {
		return append(append(append([]byte{}, page[:i]...), script...), page[i:]...)
	}
	return append(page, script...)
}
