package reports

import (
	"os"
	"strconv"
	"path/filepath"
	"testing"

	"zabsim/scenarios"
	"zabsim/sim"
)

// runPlayer runs a built-in scenario and writes its player into dir.
func runPlayer(t *testing.T, name string, dir string, opt scenarios.Options) (string, *scenarios.Result) {
	t.Helper()
	s, err := scenarios.Builtin(name)
	if err != nil {
		t.Fatal(err)
	}
	if opt.Seed == 0 {
		opt.Seed = 1
	}
	res, err := scenarios.Run(s, opt)
	if err != nil {
		t.Fatal(err)
	}
	h := scenarios.Header(s, opt)
	file := filepath.Join(dir, name+".html")
	in := PlayerInput{Records: res.World.Trace().Records(), End: sim.Time(res.VirtualNs), Header: &h, Result: res, Hash: res.TraceHash}
	if err := WritePlayer(in, file); err != nil {
		t.Fatal(err)
	}
	return file, res
}

// TestPlayerLook writes screenshots to ZABSIM_SHOTS for a person to look at.
func TestPlayerLook(t *testing.T) {
	dir := os.Getenv("ZABSIM_SHOTS")
	if dir == "" {
		t.Skip("ZABSIM_SHOTS=dir writes screenshots there")
	}
	os.MkdirAll(dir, 0o755)
	for _, name := range []string{"leader-crash-trunc", "fresh-five-together"} {
		file, _ := runPlayer(t, name, dir, scenarios.Options{})
		p := openPage(t, file)
		var n int
		p.evalInto(`player.records()`, &n)
		for _, frac := range []int{5, 20, 50, 90} {
			k := n * frac / 100
			p.eval(`player.seek(` + itoa(k) + `), 0`)
			os.WriteFile(filepath.Join(dir, name+"-"+itoa(frac)+".png"), p.screenshot(), 0o644)
		}
		t.Logf("%s: console: %v", name, p.consoleErrors())
		p.close()
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
