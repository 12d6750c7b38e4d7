// Package scenarios is the scenario language: a parser, an interpreter that drives a
// model.Ensemble on a sim.World, and the built-in library of scenarios (library/*.zab).
//
// A scenario is a text file, one command per line; # starts a comment. The whole file is
// parsed and checked before anything runs, so a bad line never leaves a run half done.
package scenarios

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/zabsim/zabsim/model"
	"github.com/zabsim/zabsim/registry"
	"github.com/zabsim/zabsim/sim"
)

// Error is a problem with a scenario file: where, and why.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

// Command is one line of a scenario.
type Command struct {
	Line int
	Text string   // the line as written, without its comment
	Name string   // "start", "expect", ...
	Args []string // positional words after the name (set and arrow syntax kept as words)
	KV   []KV     // key=value options, in order
}

// KV is one key=value option.
type KV struct{ Key, Value string }

// Opt returns the value of option key and whether it was given.
func (c *Command) Opt(key string) (string, bool) {
	for _, kv := range c.KV {
		if kv.Key == key {
			return kv.Value, true
		}
	}
	return "", false
}

// Script is a parsed scenario.
type Script struct {
	Name     string
	File     string
	Source   string // the text it was parsed from
	Header   string // the leading comment block: what the scenario teaches
	Commands []Command
	// Seed is the run's seed from a `seed N` line (HasSeed): `zabsim run` uses it unless
	// --seed is given.
	Seed    uint64
	HasSeed bool
	// Builtin is set for a scenario of the built-in library (Builtin): it replays by name.
	Builtin bool
	// registry is the registry a `registry` line names ("": ZooKeeper, as before the
	// line existed); Options.Registry overrides it.
	registry registry.Kind
	servers  int  // voters + observers, from the ensemble line
	workload bool // a workload line came (and no stop since)
	// recipeWorkload: a discovery or config workload was started (await converged)
	recipeWorkload bool
	clients        map[string]bool   // names declared by client lines
	recipes        map[string]string // recipe names: "lock", "discover", "config"
	// cfg and wcfg are what the config lines set, checked together at the end;
	// lastConfig is the last config line (0: none).
	cfg        model.Config
	wcfg       sim.Config
	lastConfig int
}

// Parse reads a scenario. file names it in error messages.
func Parse(file string, src string) (*Script, error) {
	s := &Script{File: file, Name: strings.TrimSuffix(baseName(file), ".zab"), Source: src,
		Commands: make([]Command, 0, strings.Count(src, "\n")+1)}
	var header []string
	var free []string // the unused rest of the array the lines' words are put in
	var freeKV []KV   // and of the one their key=value words are
	inHeader := true
	for i, raw := range strings.Split(src, "\n") {
		line := i + 1
		text := raw
		if j := strings.IndexByte(text, '#'); j >= 0 {
			if inHeader && strings.TrimSpace(text[:j]) == "" {
				header = append(header, strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(text[j:]), "#")))
			}
			text = text[:j]
		}
		text = strings.TrimSpace(text)
		if text == "" {
			continue
		}
		inHeader = false
		if cap(free) < 16 {
			free = make([]string, 0, 256) // a schedule's lines' words at once
		}
		words, err := splitWords(text, free[:0])
		if err != nil {
			return nil, &Error{file, line, err.Error()}
		}
		free = words[len(words):]
		c := Command{Line: line, Text: text, Name: words[0]}
		args := words[1:1] // the positional words, moved down in words' own array
		if cap(freeKV) < 8 {
			freeKV = make([]KV, 0, 64)
		}
		kv := freeKV[:0]
		for _, w := range words[1:] {
			if k, v, ok := strings.Cut(w, "="); ok && k != "" && !strings.HasPrefix(w, "\"") && isIdent(k) {
				kv = append(kv, KV{k, unquote(v)})
			} else {
				args = append(args, w)
			}
		}
		if len(args) > 0 {
			c.Args = args[:len(args):len(args)]
		}
		if len(kv) > 0 {
			c.KV, freeKV = kv[:len(kv):len(kv)], kv[len(kv):]
		}
		s.Commands = append(s.Commands, c)
	}
	s.Header = strings.TrimSpace(strings.Join(header, "\n"))
	if err := check(s); err != nil {
		return nil, err
	}
	return s, nil
}

func baseName(p string) string {
	if i := strings.LastIndexAny(p, "/\\"); i >= 0 {
		return p[i+1:]
	}
	return p
}

func isIdent(s string) bool {
	for i, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return s != ""
}

func unquote(v string) string {
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		return v[1 : len(v)-1]
	}
	return v
}

// splitWords splits on blanks, keeping "quoted strings", {sets, with, blanks} and
// key="quoted values" as single words, and appends the words to out. A word is a piece of s
// as it stands (no copy) unless blanks of a set were dropped from it or it holds a byte
// that is not UTF-8 (written as U+FFFD): then it is rebuilt (wordOf).
func splitWords(s string, out []string) ([]string, error) {
	depth, quoted := 0, false
	start, clean := -1, true // the word being read is s[start:], as it stands while clean
	for i, r := range s {
		switch {
		case quoted:
			if r == '"' {
				quoted = false
			}
		case r == '"':
			quoted = true
		case r == '{':
			depth++
		case r == '}':
			if depth == 0 {
				return nil, fmt.Errorf("unbalanced '}'")
			}
			depth--
		case (r == ' ' || r == '\t') && depth == 0:
			if start >= 0 {
				out = appendWord(out, s[start:i], clean)
				start, clean = -1, true
			}
			continue
		case r == ' ' || r == '\t':
			clean = false // blanks inside a set are dropped: {1, 2} == {1,2}
		}
		if r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD") {
			clean = false
		}
		if start < 0 {
			start = i
		}
	}
	if quoted {
		return nil, fmt.Errorf("unterminated string")
	}
	if depth != 0 {
		return nil, fmt.Errorf("unbalanced '{'")
	}
	if start >= 0 {
		out = appendWord(out, s[start:], clean)
	}
	return out, nil
}

// appendWord appends w, or wordOf(w) if it is not clean, to out.
func appendWord(out []string, w string, clean bool) []string {
	if clean {
		return append(out, w)
	}
	return append(out, wordOf(w))
}

// wordOf is word w of a line (see splitWords) without the blanks of its sets, each rune as
// UTF-8.
func wordOf(w string) string {
	var b []byte
	depth, quoted := 0, false
	for _, r := range w {
		switch {
		case quoted:
			quoted = r != '"'
		case r == '"':
			quoted = true
		case r == '{':
			depth++
		case r == '}':
			depth--
		case r == ' ' || r == '\t':
			continue // outside a string, a blank within a word is in a set
		}
		b = utf8.AppendRune(b, r)
	}
	return string(b)
}
