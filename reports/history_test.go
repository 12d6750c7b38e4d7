package reports

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// A run with clients gets history.html, porcupine's drawing of their history with the
// crashes, partitions and leaders annotated, linked from index.md with the verdict; the
// page is the same from the trace alone, and the same on every write.
func TestHistoryPage(t *testing.T) {
	for _, tc := range []struct {
		name string
		want []string // annotation descriptions the page must hold
	}{
		{"stale-read", []string{`"Description":"leader 3, epoch 1"`, `"Tag":"partitions"`, `"Description":"clog {3} -\u003e {1}"`,
			`var names = ["W"]`, `"Description":"/`}},
		{"lock-holder-server-crash", []string{`"Tag":"crashes"`, `"Description":"server 1 crashes"`, `"Tag":"leaders"`, `"Description":"leader 3, epoch 1"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := runBuiltin(t, tc.name)
			dir := t.TempDir()
			require.NoError(t, Write(res, dir))
			page, err := os.ReadFile(filepath.Join(dir, "history.html"))
			require.NoError(t, err)
			require.Greater(t, len(page), 10_000, "history.html is too small to hold a history")
			require.True(t, bytes.Contains(page, []byte("<html")), "history.html is not HTML")
			for _, w := range tc.want {
				require.True(t, bytes.Contains(page, []byte(w)), "history.html lacks %s", w)
			}
			index, err := os.ReadFile(filepath.Join(dir, "index.md"))
			require.NoError(t, err)
			require.Contains(t, string(index), "[history.html](history.html)")
			require.Contains(t, string(index), "porcupine's verdict: linearizable.")

			// Byte-stable: written again, and from the trace alone.
			again := t.TempDir()
			require.NoError(t, Write(res, again))
			page2, err := os.ReadFile(filepath.Join(again, "history.html"))
			require.NoError(t, err)
			require.True(t, bytes.Equal(page, page2), "history.html differs between two writes")
			fromTrace := t.TempDir()
			require.NoError(t, WriteFromTrace(res.World.Trace().Records(), fromTrace))
			page3, err := os.ReadFile(filepath.Join(fromTrace, "history.html"))
			require.NoError(t, err)
			// the same but for the clients' names, which only the run knows
			require.True(t, bytes.Equal(withoutNames(page), withoutNames(page3)), "history.html from the trace alone differs")
			require.Contains(t, string(page3), `var names = ["client 10`)
			index3, err := os.ReadFile(filepath.Join(fromTrace, "index.md"))
			require.NoError(t, err)
			require.Contains(t, string(index3), "[history.html](history.html)")
		})
	}
}

// A run without clients gets no history page and no link to one.
func TestNoHistoryPageWithoutClients(t *testing.T) {
	t.Parallel()
	res := runBuiltin(t, "leader-crash-trunc")
	dir := t.TempDir()
	require.NoError(t, Write(res, dir))
	_, err := os.Stat(filepath.Join(dir, "history.html"))
	require.True(t, os.IsNotExist(err), "history.html written for a run without clients")
	index, err := os.ReadFile(filepath.Join(dir, "index.md"))
	require.NoError(t, err)
	require.NotContains(t, string(index), "history.html")
}

// withoutNames is a history page without the script that names its client rows.
func withoutNames(page []byte) []byte {
	i := bytes.Index(page, []byte("<script>/* zabsim: the client rows named"))
	if i < 0 {
		return page
	}
	j := bytes.Index(page[i:], []byte("</script>"))
	return append(append([]byte{}, page[:i]...), page[i+j:]...)
}
