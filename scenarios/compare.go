package scenarios

import (
	"embed"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/zabsim/zabsim/registry"
)

// The comparison built-ins: one service-discovery workload and one fault schedule each,
// run against every registry by `zabsim compare NAME`.
//
//go:embed compare/*.zab
var compareLibrary embed.FS

// CompareList names the comparison built-ins, sorted.
func CompareList() []Entry {
	files, _ := compareLibrary.ReadDir("compare")
	var out []Entry
	for _, f := range files {
		name := strings.TrimSuffix(f.Name(), ".zab")
		s, err := LoadCompare(name)
		summary := ""
		if err == nil {
			summary, _, _ = strings.Cut(s.Header, "\n")
		}
		out = append(out, Entry{Name: name, Summary: summary})
	}
	slices.SortFunc(out, func(a, b Entry) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// LoadCompare parses a comparison built-in by name, or any scenario file by path.
func LoadCompare(nameOrFile string) (*Script, error) {
	if strings.HasSuffix(nameOrFile, ".zab") || strings.ContainsAny(nameOrFile, "/\\") {
		return Load(nameOrFile)
	}
	src, err := compareLibrary.ReadFile(path.Join("compare", nameOrFile+".zab"))
	if err != nil {
		return nil, fmt.Errorf("no comparison built-in %q (zabsim compare --list shows them)", nameOrFile)
	}
	s, err := Parse(nameOrFile+".zab", string(src))
	if s != nil {
		s.Builtin = true
	}
	return s, err
}

// Comparison is one scenario run against every registry with the same seed: the same
// commands, so the same fault schedule at the same virtual times.
type Comparison struct {
	Scenario string
	Seed     uint64
	Servers  int
	Runs     []*Result
	Metrics  []*registry.Metrics
}

// Compare runs s once per registry (Options.Registry overrides its registry line) and
// measures each run.
func Compare(s *Script, opt Options) (*Comparison, error) {
	cmp := &Comparison{Scenario: s.Name, Seed: opt.Seed, Servers: s.servers}
	for _, k := range registry.Kinds {
		o := opt
		o.Registry = k
		o.NoTrace = false
		res, err := Run(s, o)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		m := registry.Measure(k, res.World.Trace().Records(), res.Faults, servers(s), res.World.Now())
		cmp.Runs = append(cmp.Runs, res)
		cmp.Metrics = append(cmp.Metrics, m)
	}
	return cmp, nil
}

func servers(s *Script) int { return s.servers }

// Table is the comparison as a Markdown table.
func (c *Comparison) Table() string {
	var b strings.Builder
	b.WriteString(registry.Header)
	for _, m := range c.Metrics {
		b.WriteString(m.Row())
	}
	return b.String()
}
