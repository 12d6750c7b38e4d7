package scenarios

// Tests of helpers that the scenario-level tests exercise only in passing.

import (
	"slices"
	"testing"
)

// runner.events counts the points by their index in syncPoints: the constants must name
// them in that order, crashPoints first.
func TestPointIndexes(t *testing.T) {
	want := map[int]string{ptCurrentEpoch: "currentEpoch", ptAcceptedEpoch: "acceptedEpoch", ptTruncate: "truncate",
		ptSnapshot: "snapshot", ptLog: "log", ptProposal: "proposal", ptNewleader: "newleader", ptSnap: "snap", ptDiff: "diff"}
	if len(syncPoints) != nPoints || len(want) != nPoints {
		t.Fatalf("%d sync points, %d constants, want %d", len(syncPoints), len(want), nPoints)
	}
	for p, name := range want {
		if syncPoints[p] != name {
			t.Errorf("point %d is %q, want %q", p, syncPoints[p], name)
		}
	}
}

// splitWords cuts a line at blanks outside sets and strings; a word is a piece of the line
// itself unless blanks inside its set were dropped.
func TestSplitWords(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		err  string
	}{
		{"crash 1  at=log", []string{"crash", "1", "at=log"}, ""},
		{"\tpartition {1, 2} { 3 ,4 }\t", []string{"partition", "{1,2}", "{3,4}"}, ""},
		{`write "a b" é x{ 1}`, []string{"write", `"a b"`, "é", "x{1}"}, ""},
		{"", nil, ""},
		{`s {"a b", c}  d{ "e" }`, []string{"s", `{"a b",c}`, `d{"e"}`}, ""}, // a string's blanks stay, in a set too
		{"a \xffb \uFFFDc", []string{"a", "\uFFFDb", "\uFFFDc"}, ""},         // a byte that is not UTF-8 reads as U+FFFD
		{"{  \xff}", []string{"{\uFFFD}"}, ""},                               // two blanks dropped, two bytes added: still rebuilt
		{"a }", nil, "unbalanced '}'"},
		{"a {1", nil, "unbalanced '{'"},
		{`a "b`, nil, "unterminated string"},
	} {
		got, err := splitWords(tc.in, nil)
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("%q: %v, want error %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%q: %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	// the words are appended to the list given
	got, err := splitWords("b {c, d}", []string{"a"})
	if err != nil || !slices.Equal(got, []string{"a", "b", "{c,d}"}) {
		t.Errorf("appended: %q, %v", got, err)
	}
}

// A selector resolves to sids in order; a set names each once, and a list of selectors
// (argServers) keeps every one's sids, repeats too.
func TestServerSelectors(t *testing.T) {
	r := &runner{names: map[string]int64{"x": 2}}
	r.mcfg.Servers = 5
	for _, tc := range []struct {
		sel  string
		want []int64
	}{
		{"3", []int64{3}},
		{"x", []int64{2}},
		{"{1,1,2}", []int64{1, 2}},
		{"{3,all}", []int64{3, 1, 2, 4, 5}},
		{"{x,2,5}", []int64{2, 5}},
		{"{5,{4,5,1}}", []int64{5, 4, 1}},
	} {
		got, err := r.servers(tc.sel)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, %v; want %v", tc.sel, got, err, tc.want)
		}
	}
	got, err := r.argServers([]string{"{1,2}", "2", "{2,1,x}"})
	if err != nil || !slices.Equal(got, []int64{1, 2, 2, 2, 1}) {
		t.Errorf("argServers: %v, %v", got, err)
	}
	if sid, err := r.one("{4,4}"); err != nil || sid != 4 {
		t.Errorf("one {4,4}: %d, %v", sid, err)
	}
	if _, err := r.one("{4,5}"); err == nil || err.Error() != "{4,5} names 2 servers, want one" {
		t.Errorf("one {4,5}: %v", err)
	}
	if _, err := r.servers("{1,7}"); err == nil || err.Error() != "server 7: the ensemble has servers 1 to 5" {
		t.Errorf("{1,7}: %v", err)
	}
}
