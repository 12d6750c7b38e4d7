package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCompareCommand(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"compare", "--list"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "partition") {
		t.Fatalf("compare --list: exit %d, %q %q", code, out.String(), errb.String())
	}
	out.Reset()
	if code := run([]string{"compare", "no-such"}, &out, &errb); code != 2 {
		t.Fatalf("compare no-such: exit %d, want 2", code)
	}
	dir := t.TempDir()
	out.Reset()
	if code := run([]string{"compare", "silent-crash", "--out", dir}, &out, &errb); code != 0 {
		t.Fatalf("compare silent-crash: exit %d\n%s%s", code, out.String(), errb.String())
	}
	for _, k := range []string{"| zookeeper |", "| eureka |", "| nacos-ap |", "| nacos-cp |"} {
		if !strings.Contains(out.String(), k) {
			t.Errorf("no row %s in\n%s", k, out.String())
		}
	}
	for _, f := range []string{"compare-silent-crash.png", "compare-silent-crash.svg"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
}
