package checker

import (
	"slices"
	"testing"

	"github.com/zabsim/zabsim/model"
)

// A load that rebuilds the first txns of a server's history keeps its arrays (cut in place)
// only when nothing a view may hold is cut: views end at the applied count.
func TestReloadInPlace(t *testing.T) {
	zh := func(zs ...int64) []model.ZxidHash {
		var out []model.ZxidHash
		for _, z := range zs {
			out = append(out, model.ZxidHash{Zxid: model.Zxid(z), Hash: uint64(z) * 7})
		}
		return out
	}
	mk := func(zs ...int64) history {
		h := newHistory(&pools{}, 4)
		for _, t := range zh(zs...) {
			h.push(t.Zxid, t.Hash)
		}
		return h
	}
	for _, tc := range []struct {
		name    string
		base    func(h *history) histView
		tail    []model.ZxidHash
		after   model.Zxid
		applied int
		want    bool
		n       int
	}{
		{"the same txns", func(*history) histView { return histView{ok: true} }, zh(1, 2, 3, 4), 0, 4, true, 4},
		{"the unsynced tail lost", func(*history) histView { return histView{ok: true} }, zh(1, 2, 3), 0, 2, true, 3},
		{"below the applied count", func(*history) histView { return histView{ok: true} }, zh(1, 2), 0, 3, false, 4},
		{"another txn", func(*history) histView { return histView{ok: true} }, []model.ZxidHash{{Zxid: 1, Hash: 7}, {Zxid: 2, Hash: 99}}, 0, 1, false, 4},
		{"longer than it", func(*history) histView { return histView{ok: true} }, zh(1, 2, 3, 4, 5), 0, 4, false, 4},
		{"its own snapshot, then the log", func(h *history) histView { return h.view(2) }, zh(1, 2, 3, 4), 2, 4, true, 4},
		{"an equal snapshot from elsewhere", func(*history) histView { return viewOf(zh(1, 2)) }, zh(3), 2, 3, true, 3},
		{"another snapshot", func(*history) histView { return viewOf([]model.ZxidHash{{Zxid: 1, Hash: 5}}) }, zh(2, 3), 1, 3, false, 4},
	} {
		h := mk(1, 2, 3, 4)
		arr := &h.zx[0]
		kept := h.view(2) // a snapshot taken earlier, at applied count 2
		got := h.reloadInPlace(tc.base(&h), tc.tail, tc.after, tc.applied)
		if got != tc.want || h.n() != tc.n {
			t.Errorf("%s: reloadInPlace = %v with %d txns, want %v with %d", tc.name, got, h.n(), tc.want, tc.n)
			continue
		}
		if got && &h.zx[0] != arr {
			t.Errorf("%s: the arrays were replaced", tc.name)
		}
		h.push(9, 63) // writes past the cut
		if !slices.Equal(kept.zx, []model.Zxid{1, 2}) || !slices.Equal(kept.hs, []uint64{7, 14}) {
			t.Errorf("%s: the earlier view changed: %v %v", tc.name, kept.zx, kept.hs)
		}
		if want := mk(append([]int64{1, 2, 3, 4}[:tc.n], 9)...); got && !agree(&h, &want, h.n()) {
			t.Errorf("%s: prefix hashes differ from a history built afresh", tc.name)
		}
	}
}
