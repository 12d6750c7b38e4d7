package scenarios

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/zabsim/zabsim/model"
	"github.com/zabsim/zabsim/sim"
)

// The fuzz tests of issue 14. Their seed corpora (the built-in library, explored
// schedules, the bad inputs of the issue, and every crasher found since, in
// testdata/fuzz/) run as ordinary tests; to fuzz, for minutes:
//
//	go test ./scenarios -run XXX -fuzz FuzzParse -fuzztime 5m
//	go test ./scenarios -run XXX -fuzz FuzzRun -fuzztime 5m
//	go test ./scenarios -run XXX -fuzz FuzzScript -fuzztime 5m
//	go test ./scenarios -run XXX -fuzz FuzzSettings -fuzztime 5m

// hostileSources are the bad inputs of issue 14 and their neighbours.
var hostileSources = []string{
	"ensemble 3\nstart all\nawait leader\nworkload rate=NaN\nrun 10s\n",
	"ensemble 3\nstart all\nawait leader\nworkload rate=1e-20\nrun 10s\n",
	"ensemble 3\nstart all\nawait leader\nworkload rate=1e-15\nrun 10s\n",
	"ensemble 3\nconfig maxSessionTimeout=1ns\nstart all\nawait leader\nclient A servers={1,2,3}\nrun 10s\n",
	"ensemble 3\nconfig minSessionTimeout=1ms maxSessionTimeout=1ms tickTime=1ms\nstart all\nawait leader\nclient A servers={1,2,3}\nrun 1s\n",
	"ensemble 3\nconfig tickTime=9223372036854775807\nstart all\nawait leader\n",
	"ensemble 3\nconfig snapshotSizeFactor=NaN\nstart all\n",
	"ensemble 3\nstart all\nawait leader\nrun 1000000h\n",
	"ensemble 3\nstart all\nawait leader within=9223372036854775807\nrun 9223372036854775807\n",
	"ensemble 3\nstart all\nclog 1 2 for=2562047h\nrun 1s\nlatency 1 -> 2 min=1h mean=1h\nwrite 1 via=1 nowait\nrun 2h\n",
	"ensemble 2 observers=1\nstart all stagger=1ns\nawait leader\nclient A servers={1,2,3} timeout=1ms\nA create /a \"\" ephemeral sequential\nA set /a \"x\" version=2147483647\nA delete /a version=-1\nA close\n",
}

// fuzzSeeds adds the library, two explored schedules and hostileSources.
func fuzzSeeds(f *testing.F) {
	for _, e := range List() {
		src, err := library.ReadFile("library/" + e.Name + ".zab")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(src))
	}
	f.Add(Generate(1, ExploreConfig{Servers: 3, Duration: 3 * sim.Second}))
	f.Add(Generate(2, ExploreConfig{Servers: 3, Observers: 1, Duration: 3 * sim.Second, Mutants: []string{"ZK-2845"}}))
	for _, src := range hostileSources {
		f.Add(src)
	}
}

// checkParseError checks that a refusal is a *Error naming a line of src and a reason.
func checkParseError(t *testing.T, src string, err error) {
	e, ok := err.(*Error)
	if !ok {
		t.Fatalf("error %T %v: want a *Error", err, err)
	}
	if n := strings.Count(src, "\n") + 1; e.Line < 1 || e.Line > n || e.Msg == "" {
		t.Fatalf("error %q at line %d of %d", e.Msg, e.Line, n)
	}
}

// FuzzParse: any text is a scenario or a refusal that names its line and says why.
func FuzzParse(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, src string) {
		if _, err := Parse("fuzz.zab", src); err != nil {
			checkParseError(t, src, err)
		}
	})
}

// The limits FuzzRun runs with: small, so that each input takes milliseconds.
const (
	fuzzMaxEvents  = 20_000
	fuzzMaxVirtual = 10 * sim.Minute
)

// FuzzRun: a scenario that parses runs to an end within its limits, without a panic; a
// line refused at run time names itself; and the run is deterministic.
func FuzzRun(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, src string) {
		s, err := Parse("fuzz.zab", src)
		if err != nil {
			return
		}
		opt := Options{Seed: 1, NoTrace: true, MaxEvents: fuzzMaxEvents, MaxVirtual: fuzzMaxVirtual}
		res, err := Run(s, opt)
		if err != nil {
			checkParseError(t, src, err)
			return
		}
		// the event limit is checked before each event, so a run ends on it exactly
		if res.Events > fuzzMaxEvents || sim.Time(res.VirtualNs) > fuzzMaxVirtual {
			t.Fatalf("ran past its limits: %d events, %s virtual", res.Events, sim.Time(res.VirtualNs))
		}
		if (res.Limit != "") != strings.Contains(res.Stopped, "limit") {
			t.Fatalf("limit %q but stopped %q", res.Limit, res.Stopped)
		}
		again, err := Run(s, opt)
		if err != nil || again.TraceHash != res.TraceHash || again.Events != res.Events {
			t.Fatalf("not deterministic: %s (%d events), then %v", res.TraceHash, res.Events, err)
		}
	})
}

// settingKinds name how a numeric setting is written.
const (
	kindDuration = iota
	kindInt
	kindFloat
)

// numericSettings are every numeric setting of the language, each with the line it is on
// in settingScenario's template ("%s" is where key=value goes).
var numericSettings = []struct {
	key  string
	kind int
	line string
}{
	{"tickTime", kindDuration, "config %s"},
	{"minSessionTimeout", kindDuration, "config %s"},
	{"maxSessionTimeout", kindDuration, "config %s"},
	{"latencyMin", kindDuration, "config %s"},
	{"latencyMean", kindDuration, "config %s"},
	{"fsyncLatency", kindDuration, "config %s"},
	{"crashCloseDelay", kindDuration, "config %s"},
	{"initLimit", kindInt, "config %s"},
	{"syncLimit", kindInt, "config %s"},
	{"commitLogCount", kindInt, "config %s"},
	{"snapCount", kindInt, "config %s"},
	{"snapshotSizeFactor", kindFloat, "config %s"},
	{"rate", kindFloat, "workload %s"},
	{"reads", kindFloat, "workload %s"},
	{"clients", kindInt, "workload %s"},
	{"keys", kindInt, "workload %s"},
	{"outstanding", kindInt, "workload %s"},
	{"timeout", kindDuration, "client A servers={1,2,3} %s"},
	{"within", kindDuration, "await leader %s"},
	{"stagger", kindDuration, "start 1 2 %s"},
	{"for", kindDuration, "clog 1 2 %s"},
	{"min", kindDuration, "latency 1 -> 2 %s"},
	{"mean", kindDuration, "latency 1 -> 2 min=1ms %s"},
	{"version", kindInt, "A set /x \"w\" %s"},
}

var durationUnits = []string{"", "ns", "us", "ms", "s", "m", "h"}

// settingValue writes a value of a kind from the fuzzer's numbers: an integer with a
// unit, a float (NaN, infinities, subnormals and all), or a special word.
func settingValue(kind int, n int64, x float64, form uint8) string {
	specials := []string{"NaN", "Inf", "-Inf", "+Inf", "1e-20", "1e308", "-0", "0x10", "1_000", " "}
	switch {
	case form >= 240:
		return specials[int(form-240)%len(specials)]
	case kind == kindDuration && form >= 128:
		return strconv.FormatFloat(x, 'f', -1, 64) + durationUnits[int(form)%len(durationUnits)]
	case kind == kindDuration:
		return strconv.FormatInt(n, 10) + durationUnits[int(form)%len(durationUnits)]
	case kind == kindFloat && form%2 == 0:
		return strconv.FormatFloat(x, 'g', -1, 64)
	}
	return strconv.FormatInt(n, 10)
}

// settingTemplate is the scenario settingScenario writes: each line with the text its "%s"
// gets when the setting is not on it.
var settingTemplate = []struct{ line, def string }{
	{"ensemble 3", ""}, {"config %s", ""}, {"start 1 2 %s", ""}, {"start 3", ""},
	{"await leader %s", "within=5m"}, {"client A servers={1,2,3} %s", ""}, {"A create /x \"v\"", ""},
	{"A set /x \"w\" %s", ""}, {"workload %s", "clients=1"}, {"clog 1 2 %s", "for=1ms"},
	{"latency 1 -> 2 %s", "min=1ms"}, {"latency 1 -> 2 min=1ms %s", ""}, {"run 2s", ""},
}

// settingScenario is a short scenario that uses every kind of setting, with one of them
// set to key=value.
func settingScenario(which int, value string) string {
	st := numericSettings[which]
	var b strings.Builder
	for _, tl := range settingTemplate {
		arg := tl.def
		if tl.line == st.line {
			arg = st.key + "=" + value
		}
		if arg == "" && tl.line == "config %s" {
			continue // config needs an option
		}
		b.WriteString(strings.TrimSpace(strings.Replace(tl.line, "%s", arg, 1)) + "\n")
	}
	return b.String()
}

// FuzzSettings: every numeric setting at any value, NaN and the extremes included, is
// refused at its line with a reason, or runs: to its end, without a run-time error (a
// value the check let through and the model refused), and without a loop of events that
// takes no virtual time.
func FuzzSettings(f *testing.F) {
	ints := []int64{0, 1, -1, 2, 999, 1000, 1 << 31, 1<<31 - 1, math.MaxInt64, math.MinInt64, 1e9, 1e15}
	floats := []float64{0, 1, -1, 0.001, 0.000999, 1e-20, 1e-15, 10000, 10001, math.NaN(), math.Inf(1), math.Inf(-1), math.MaxFloat64, math.SmallestNonzeroFloat64}
	for which := range numericSettings {
		for _, n := range ints {
			f.Add(uint8(which), n, 0.0, uint8(3)) // milliseconds
		}
		for _, x := range floats {
			f.Add(uint8(which), int64(0), x, uint8(0))
			f.Add(uint8(which), int64(0), x, uint8(128+4)) // seconds
		}
		f.Add(uint8(which), int64(1), 0.0, uint8(1)) // 1ns
		f.Add(uint8(which), int64(0), 0.0, uint8(240))
	}
	f.Fuzz(func(t *testing.T, which uint8, n int64, x float64, form uint8) {
		w := int(which) % len(numericSettings)
		value := settingValue(numericSettings[w].kind, n, x, form)
		src := settingScenario(w, value)
		if !strings.Contains(src, numericSettings[w].key+"="+strings.TrimSpace(value)) {
			t.Fatalf("%s=%s is not in the scenario:\n%s", numericSettings[w].key, value, src)
		}
		s, err := Parse("settings.zab", src)
		if err != nil {
			checkParseError(t, src, err)
			if !strings.Contains(err.Error(), value) && !strings.Contains(err.Error(), numericSettings[w].key) {
				t.Fatalf("%s=%s refused without naming it: %v", numericSettings[w].key, value, err)
			}
			return
		}
		res, err := Run(s, Options{Seed: 1, NoTrace: true, MaxEvents: 500_000, MaxVirtual: 2 * 3600 * sim.Second})
		if err != nil {
			t.Fatalf("%s=%s was accepted, then refused at run time: %v\n%s", numericSettings[w].key, value, err, src)
		}
		if res.Limit == LimitEvents && sim.Time(res.VirtualNs) < 50*sim.Millisecond {
			t.Fatalf("%s=%s: %d events in %s of virtual time: a loop that takes no time\n%s",
				numericSettings[w].key, value, res.Events, sim.Time(res.VirtualNs), src)
		}
	})
}

// scriptReader draws the choices of FuzzScript from the fuzzer's bytes (zeros when they
// run out).
type scriptReader struct {
	b []byte
	i int
}

func (r *scriptReader) next() int {
	if r.i >= len(r.b) {
		return 0
	}
	r.i++
	return int(r.b[r.i-1])
}

func (r *scriptReader) pick(words ...string) string { return words[r.next()%len(words)] }

// FuzzScript: scenarios written from a small grammar of every command, so that the fuzzer
// spends its time in runs rather than in the parser: each one runs to its end within its
// limits, deterministically, without a panic, or a line refused at run time names itself.
func FuzzScript(f *testing.F) {
	for _, seed := range []string{"", "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a", "\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8\xf7\xf6\xf5\xf4\xf3\xf2\xf1",
		"\x10\x20\x30\x40\x50\x60\x70\x80\x90\xa0\xb0\xc0\xd0\xe0\xf0\x11\x21\x31\x41\x51\x61\x71\x81\x91\xa1\xb1\xc1\xd1\xe1\xf1"} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		src := scriptFrom(&scriptReader{b: data})
		s, err := Parse("script.zab", src)
		if err != nil {
			checkParseError(t, src, err)
			return
		}
		opt := Options{Seed: uint64(len(data)), NoTrace: true, MaxEvents: fuzzMaxEvents, MaxVirtual: fuzzMaxVirtual}
		res, err := Run(s, opt)
		if err != nil {
			checkParseError(t, src, err)
			return
		}
		if res.Events > fuzzMaxEvents || sim.Time(res.VirtualNs) > fuzzMaxVirtual {
			t.Fatalf("ran past its limits: %d events, %s virtual\n%s", res.Events, sim.Time(res.VirtualNs), src)
		}
		again, err := Run(s, opt)
		if err != nil || again.TraceHash != res.TraceHash {
			t.Fatalf("not deterministic: %s, then %v\n%s", res.TraceHash, err, src)
		}
	})
}

// scriptFrom writes a scenario from r's choices: an ensemble, settings, a start, a client,
// then commands of every kind, their arguments mostly valid (one in thirty is not).
func scriptFrom(r *scriptReader) string {
	var b strings.Builder
	voters := 1 + r.next()%5
	observers := r.next() % 3
	n := voters + observers
	fmt.Fprintf(&b, "ensemble %d observers=%d\n", voters, observers)
	names := []string{"leader", "followers", "all", "down", "paused"} // grows with let L
	server := func() string {
		switch k := r.next() % 30; {
		case k == 0:
			return strconv.Itoa(n + 1) // not a server
		case k < 18:
			return strconv.Itoa(1 + r.next()%n)
		case k < 21:
			return fmt.Sprintf("{%d,%d}", 1+r.next()%n, 1+r.next()%n)
		default:
			return names[r.next()%len(names)]
		}
	}
	dur := func() string {
		return strconv.Itoa(r.next()%50) + r.pick("ms", "s", "us", "ms", "ms")
	}
	if r.next()%3 == 0 {
		fmt.Fprintf(&b, "config %s=%s\n", r.pick("tickTime", "minSessionTimeout", "maxSessionTimeout", "latencyMean", "fsyncLatency",
			"maxNotificationInterval", "cnxTimeout"), dur())
	}
	if r.next()%3 == 0 {
		fmt.Fprintf(&b, "config %s=%d\n", r.pick("initLimit", "syncLimit", "snapCount", "commitLogCount"), r.next()%20)
	}
	if r.next()%4 == 0 {
		fmt.Fprintf(&b, "disk policy=%s\n", r.pick("keep-all", "tear-last", "lose-unsynced"))
	}
	if r.next()%4 == 0 {
		fmt.Fprintf(&b, "%s %s\n", r.pick("mutant", "mutant", "fix"), r.pick(append(slices.Clone(model.MutantNames), model.FixNames...)...))
	}
	b.WriteString("start all\nawait leader within=30s\nclient C0 servers=all\n")
	clients, lock, workload := 1, false, 0
	for lines := 0; lines < 40 && r.i < len(r.b); lines++ {
		c := "C" + strconv.Itoa(r.next()%clients)
		switch r.next() % 24 {
		case 0:
			fmt.Fprintf(&b, "await leader within=%s\n", dur())
		case 1:
			fmt.Fprintf(&b, "await %s %s within=%s\n", r.pick("synced", "truncated", "snapped", "diffed"), server(), dur())
		case 2:
			fmt.Fprintf(&b, "await state %s %s within=%s\n", server(), r.pick(states...), dur())
		case 3:
			fmt.Fprintf(&b, "await live within=%s\n", dur())
		case 4:
			fmt.Fprintf(&b, "%s %s\n", r.pick("crash", "restart", "pause", "resume"), server())
		case 5:
			fmt.Fprintf(&b, "crash %s at=%s within=%s\n", server(), r.pick(crashPoints...), dur())
		case 6:
			if r.next()%3 == 0 {
				fmt.Fprintf(&b, "partition %d %s %sat=%s within=%s\n", 1+r.next()%n, server(), r.pick("", "resets "), r.pick(syncPoints...), dur())
				break
			}
			fmt.Fprintf(&b, "partition %s %s %s\n", server(), r.pick("->", ""), server())
		case 7:
			b.WriteString(r.pick("heal\n", "heal 1 2\n", "heal 1 -> *\n"))
		case 8:
			fmt.Fprintf(&b, "clog %s %s for=%s\n", server(), server(), dur())
		case 9:
			fmt.Fprintf(&b, "latency %s -> %s min=%s mean=%s\n", server(), server(), dur(), dur())
		case 10:
			fmt.Fprintf(&b, "write %d via=%s %s\n", 1+r.next()%5, server(), r.pick("", "nowait"))
		case 11, 12:
			fmt.Fprintf(&b, "run %s\n", dur())
		case 13:
			fmt.Fprintf(&b, "let L = %s\n", server())
			if len(names) == 5 {
				names = append(names, "L")
			}
		case 14:
			fmt.Fprintf(&b, "client C%d servers=%s timeout=%s within=%s\n", clients, server(), r.pick("1s", "4s", "30s", "1ms"), dur())
			clients++
		case 15, 16:
			p := "/" + r.pick("a", "b", "a/b", "lock", "svc")
			if r.next()%2 == 0 {
				fmt.Fprintf(&b, "%s create %s \"v%d\" %s %s\n", c, p, r.next(), r.pick("", "ephemeral", "sequential", "ephemeral sequential"), r.pick("", "nowait"))
			} else {
				fmt.Fprintf(&b, "%s set %s \"v%d\" %s\n", c, p, r.next(), r.pick("", "nowait", "version=1"))
			}
		case 17:
			p := "/" + r.pick("a", "b", "a/b", "lock")
			fmt.Fprintf(&b, "%s %s %s %s\n", c, r.pick("get", "exists", "children", "delete", "sync"), p, r.pick("", "watch", "nowait", "version=0"))
		case 18:
			fmt.Fprintf(&b, "%s close\n", c)
		case 19:
			if !lock {
				fmt.Fprintf(&b, "lock K %s /lock %s %s\n", c, r.pick("exclusive", "read", "write"), r.pick("", "nowait"))
				lock = true
			}
		case 20:
			if lock {
				fmt.Fprintf(&b, "%s\n", r.pick("unlock K", "await held K within=1s", "expect held K", "expect notheld K"))
			}
		case 21:
			if workload == 0 {
				fmt.Fprintf(&b, "workload clients=%d rate=%d outstanding=%d\n", 1+r.next()%3, 1+r.next()%100, 1+r.next()%4)
				workload = 1
			}
		case 22:
			if workload == 1 {
				b.WriteString("workload stop\n")
				workload = 2
			}
		case 23:
			fmt.Fprintf(&b, "expect %s\n", r.pick("leader 1", "sync 2 DIFF", "value /a absent", "synced 1", "result C0 OK", "watched C0 none", "violation Liveness", "state 1 LEADING"))
		}
	}
	return b.String()
}
