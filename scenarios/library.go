package scenarios

import (
	"embed"
	"fmt"
	"os"
	"path"
	"slices"
	"strings"
)

//go:embed library/*.zab
var library embed.FS

// Entry is a built-in scenario with the first line of its header.
type Entry struct {
	Name    string
	Summary string
}

// List returns the built-in scenarios, sorted by name.
func List() []Entry {
	files, _ := library.ReadDir("library")
	var out []Entry
	for _, f := range files {
		name := strings.TrimSuffix(f.Name(), ".zab")
		s, err := Builtin(name)
		summary := ""
		if err == nil {
			summary, _, _ = strings.Cut(s.Header, "\n")
		}
		out = append(out, Entry{Name: name, Summary: summary})
	}
	slices.SortFunc(out, func(a, b Entry) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Builtin parses the built-in scenario called name.
func Builtin(name string) (*Script, error) {
	src, err := library.ReadFile(path.Join("library", name+".zab"))
	if err != nil {
		return nil, fmt.Errorf("no built-in scenario %q (zabsim list shows them)", name)
	}
	s, err := Parse(name+".zab", string(src))
	if s != nil {
		s.Builtin = true
	}
	return s, err
}

// Load parses a built-in scenario by name, or a scenario file by path (anything that
// ends in .zab or contains a slash is a path).
func Load(nameOrFile string) (*Script, error) {
	if strings.HasSuffix(nameOrFile, ".zab") || strings.ContainsAny(nameOrFile, "/\\") {
		src, err := os.ReadFile(nameOrFile)
		if err != nil {
			return nil, err
		}
		return Parse(nameOrFile, string(src))
	}
	return Builtin(nameOrFile)
}
