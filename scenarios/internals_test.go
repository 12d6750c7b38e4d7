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
		{"a }", nil, "unbalanced '}'"},
		{"a {1", nil, "unbalanced '{'"},
		{`a "b`, nil, "unterminated string"},
	} {
		got, err := splitWords(tc.in)
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
}
