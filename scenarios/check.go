package scenarios

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/zabsim/zabsim/checker"
	"github.com/zabsim/zabsim/model"
	"github.com/zabsim/zabsim/registry"
	"github.com/zabsim/zabsim/sim"
)

// spec describes a command for the static check: its options and how to check its words.
type spec struct {
	opts  []string
	check func(s *Script, c *Command, names map[string]bool) error
}

var commands map[string]spec

func init() {
	commands = map[string]spec{
		"ensemble":    {opts: []string{"observers", "voters"}, check: checkEnsemble},
		"reconfig":    {opts: []string{"voters"}, check: checkReconfig},
		"config":      {check: checkConfig},
		"disk":        {opts: []string{"policy"}, check: checkDisk},
		"mutant":      {check: checkMutant},
		"fix":         {check: checkFix},
		"start":       {opts: []string{"stagger"}, check: checkStart},
		"crash":       {opts: []string{"at", "within"}, check: checkCrash},
		"restart":     {check: checkServers},
		"pause":       {check: checkPause},
		"resume":      {check: checkPause},
		"await":       {opts: []string{"within", "current", "accepted", "on", "with", "without"}, check: checkAwait},
		"let":         {check: checkLet},
		"write":       {opts: []string{"via", "size"}, check: checkWrite},
		"partition":   {opts: []string{"port", "at", "within"}, check: checkLinks},
		"heal":        {opts: []string{"port"}, check: checkHeal},
		"clog":        {opts: []string{"for"}, check: checkClog},
		"latency":     {opts: []string{"min", "mean"}, check: checkLatency},
		"run":         {check: checkRun},
		"at":          {opts: []string{"for", "port", "min", "mean"}, check: checkAt},
		"expect":      {opts: []string{"on", "within", "with", "without", "last", "refused"}, check: checkExpect},
		"client":      {opts: []string{"servers", "timeout", "within"}, check: checkClient},
		"lock":        {opts: []string{"within", "rule"}, check: checkLock},
		"unlock":      {opts: []string{"within"}, check: checkUnlock},
		"elect":       {opts: []string{"within"}, check: checkLock},
		"resign":      {opts: []string{"within"}, check: checkUnlock},
		"resource":    {check: checkResource},
		"use":         {check: checkUse},
		"register":    {opts: []string{"within"}, check: checkRegister},
		"discover":    {opts: []string{"naive"}, check: checkDiscover},
		"watchconfig": {opts: []string{"naive"}, check: checkWatchConfig},
		"seed":        {check: checkSeed},
		"workload":    {opts: []string{"clients", "rate", "reads", "keys", "outstanding", "servers", "timeout", "rw", "rule", "hold", "think", "watchers", "naive"}, check: checkWorkload},
		"registry":    {check: checkRegistry},
		"deregister":  {opts: []string{"within"}, check: checkDeregister},
	}
}

// check validates every command before anything runs.
func check(s *Script) error {
	names := map[string]bool{}
	seenEnsemble, seenStart := false, false
	for i := range s.Commands {
		c := &s.Commands[i]
		sp, ok := commands[c.Name]
		if !ok && s.clients[c.Name] {
			sp, ok = spec{opts: []string{"version", "within"}, check: func(s *Script, c *Command, _ map[string]bool) error {
				return checkClientOp(s, c)
			}}, true
		}
		if !ok {
			return &Error{s.File, c.Line, fmt.Sprintf("unknown command %q (known: %s, or a client's name)", c.Name, knownCommands())}
		}
		if c.Name != "config" {
			for _, kv := range c.KV {
				if !contains(sp.opts, kv.Key) {
					return &Error{s.File, c.Line, fmt.Sprintf("%s: unknown option %q", c.Name, kv.Key)}
				}
			}
		}
		switch c.Name {
		case "ensemble":
			if seenEnsemble {
				return &Error{s.File, c.Line, "ensemble given twice"}
			}
			seenEnsemble = true
		case "config", "disk", "mutant", "fix", "seed", "registry":
			if seenStart {
				return &Error{s.File, c.Line, c.Name + " must come before the first start"}
			}
		default:
			if !seenEnsemble {
				return &Error{s.File, c.Line, c.Name + " before ensemble: the first command must be 'ensemble N'"}
			}
			if c.Name == "start" {
				seenStart = true
			}
		}
		if err := sp.check(s, c, names); err != nil {
			return &Error{s.File, c.Line, err.Error()}
		}
		if err := checkForRegistry(s, c); err != nil {
			return &Error{s.File, c.Line, err.Error()}
		}
	}
	if !seenEnsemble {
		return &Error{s.File, 1, "no 'ensemble N' command"}
	}
	return checkConfigRelations(s)
}

func knownCommands() string {
	return "ensemble seed config disk mutant fix registry start crash restart pause resume await let write partition heal clog latency run at expect reconfig client lock unlock elect resign resource use register deregister discover watchconfig workload"
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func checkEnsemble(s *Script, c *Command, _ map[string]bool) error {
	if len(c.Args) != 1 {
		return fmt.Errorf("ensemble takes the number of voting servers: ensemble 3")
	}
	n, err := strconv.Atoi(c.Args[0])
	if err != nil || n < 1 || n > 99 {
		return fmt.Errorf("ensemble %q: want a number of servers from 1 to 99", c.Args[0])
	}
	s.servers = n
	if v, ok := c.Opt("voters"); ok {
		if _, err := parseSidSet(v, n); err != nil {
			return fmt.Errorf("voters=%s: %v", v, err)
		}
	}
	if v, ok := c.Opt("observers"); ok {
		o, err := strconv.Atoi(v)
		if err != nil || o < 0 || o > 99 {
			return fmt.Errorf("observers=%q: want a number from 0 to 99", v)
		}
		s.servers += o
	}
	return nil
}

// configKeys are the ZooKeeper option names config accepts.
var configKeys = []string{"tickTime", "initLimit", "syncLimit", "commitLogCount", "smallCommitLog",
	"snapshotSizeFactor", "snapCount", "preAllocSize", "forceSnapshotSync", "syncRule", "minSessionTimeout", "maxSessionTimeout",
	"maxNotificationInterval", "cnxTimeout", "leaderConnectDelayDuringRetryMs", "latencyMin", "latencyMean", "fsyncLatency", "recvBuffer", "sendBuffer"}

func checkConfig(s *Script, c *Command, _ map[string]bool) error {
	if len(c.Args) > 0 {
		return fmt.Errorf("config takes key=value options, not %q", c.Args[0])
	}
	if len(c.KV) == 0 {
		return fmt.Errorf("config needs at least one key=value (known: %s)", strings.Join(configKeys, " "))
	}
	for _, kv := range c.KV {
		if err := applyConfig(&s.cfg, &s.wcfg, kv); err != nil {
			return err
		}
	}
	s.lastConfig = c.Line
	return nil
}

// checkConfigRelations checks what no single option shows: the settings together, with
// their defaults, as ZooKeeper checks its whole file (min <= max session timeout, tickTime
// times the limits within ZooKeeper's int milliseconds). An error names the last config line.
func checkConfigRelations(s *Script) error {
	if s.lastConfig == 0 {
		return nil
	}
	cfg := s.cfg
	cfg.Servers, cfg.Observers = 1, 0 // the relations do not depend on the ensemble's size
	if err := cfg.Normalize(); err != nil {
		return &Error{s.File, s.lastConfig, err.Error()}
	}
	return nil
}

// The ranges of the numeric settings. ZooKeeper reads its options as Java ints and its
// times as int milliseconds, so it accepts nothing above maxJavaInt or maxMillis; the model
// runs everything in that range, and refuses the few values it cannot run (below).
const (
	maxJavaInt = 1<<31 - 1
	maxMillis  = model.MaxMillis // about 24.8 days
	// MaxDuration bounds every duration a scenario or a flag names (run, within=, for=,
	// --max-virtual): far above any run's virtual-time limit, and the virtual clock plus
	// two of them still fit in int64 nanoseconds.
	MaxDuration = 1_000_000 * 3600 * sim.Second
)

// durLimit is the range of a duration setting and why it is that.
type durLimit struct {
	lo, hi sim.Time
	why    string
}

// durLimits are the config durations with a range of their own (looked up, never ranged
// over); any other is from 0 to MaxDuration.
var durLimits = map[string]durLimit{
	"tickTime":          {sim.Millisecond, maxMillis, "ZooKeeper's int milliseconds, about 24.8 days"},
	"minSessionTimeout": {sim.Millisecond, maxMillis, sessionWhy},
	"maxSessionTimeout": {sim.Millisecond, maxMillis, sessionWhy},
	// zookeeper.fastleader.maxNotificationInterval and zookeeper.cnxTimeout: Java int
	// milliseconds; a zero interval would resend notifications in a loop that takes no time.
	"maxNotificationInterval": {sim.Millisecond, maxMillis, "ZooKeeper's int milliseconds"},
	"cnxTimeout":              {sim.Millisecond, maxMillis, "ZooKeeper's int milliseconds"},
	// zookeeper.leaderConnectDelayDuringRetryMs: Learner.connectToLeader's sleep between tries
	"leaderConnectDelayDuringRetryMs": {sim.Millisecond, maxMillis, "ZooKeeper's int milliseconds"},
	"latencyMin":                      {0, 3600 * sim.Second, linkWhy},
	"latencyMean":                     {0, 3600 * sim.Second, linkWhy},
	"fsyncLatency":                    {0, 3600 * sim.Second, "an fsync slower than an hour would never end within a run"},
}

const sessionWhy = "ZooKeeper's int milliseconds; a client pings every third of it, so below 1ms it would ping in a loop that takes no time"

// linkWhy is why a link's latency is at most an hour.
const linkWhy = "a link slower than an hour would deliver nothing a run can wait for"

// zkMillis are the settings ZooKeeper itself reads as int milliseconds (zoo.cfg's tickTime
// and session timeouts, the client's sessionTimeout): there a bare number means
// milliseconds, as ZooKeeper takes it. Everywhere else a duration needs its unit.
var zkMillis = map[string]bool{"tickTime": true, "minSessionTimeout": true, "maxSessionTimeout": true, "timeout": true,
	"maxNotificationInterval": true, "cnxTimeout": true, "leaderConnectDelayDuringRetryMs": true}

// parseDuration reads the value of setting name: a duration with its unit, or for a
// ZooKeeper millisecond setting a bare number of milliseconds.
func parseDuration(name, v string) (sim.Time, error) {
	if zkMillis[name] {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 && n <= maxJavaInt {
			return sim.Time(n) * sim.Millisecond, nil
		}
	}
	return sim.ParseTime(v)
}

// checkDuration checks a duration against [lo, hi]: the error names the setting, the value
// and the range.
func checkDuration(name, v string, lo, hi sim.Time, why string) (sim.Time, error) {
	t, err := parseDuration(name, v)
	if _, bare := strconv.ParseInt(v, 10, 64); err != nil && bare == nil && zkMillis[name] {
		err, t = nil, hi+1 // milliseconds beyond ZooKeeper's int: out of range, said below
	}
	if err != nil {
		if _, bare := strconv.ParseInt(v, 10, 64); bare == nil {
			return 0, fmt.Errorf("%s=%s: a duration needs its unit: ns, us, ms, s, m or h (like 2s or 150ms)", name, v)
		}
		return 0, fmt.Errorf("%s=%s: not a duration like 2s or 150ms", name, v)
	}
	if t < lo || t > hi {
		if why != "" {
			why = " (" + why + ")"
		}
		return 0, fmt.Errorf("%s=%s: want a duration from %s to %s%s", name, v, lo, hi, why)
	}
	return t, nil
}

// applyConfig sets one option on the model or world configuration.
func applyConfig(cfg *model.Config, wc *sim.Config, kv KV) error {
	dur := func(dst *sim.Time) error {
		l, ok := durLimits[kv.Key]
		if !ok {
			l = durLimit{0, MaxDuration, ""}
		}
		t, err := checkDuration(kv.Key, kv.Value, l.lo, l.hi, l.why)
		if err != nil {
			return err
		}
		*dst = t
		return nil
	}
	num := func(dst *int, min int) error {
		// ZooKeeper's options are Java ints.
		n, err := strconv.Atoi(kv.Value)
		if err != nil || n < min || n > maxJavaInt {
			return fmt.Errorf("%s=%s: want a whole number from %d to %d (ZooKeeper's int)", kv.Key, kv.Value, min, maxJavaInt)
		}
		*dst = n
		return nil
	}
	boolean := func(dst *bool) error {
		b, err := strconv.ParseBool(kv.Value)
		if err != nil {
			return fmt.Errorf("%s=%s: want true or false", kv.Key, kv.Value)
		}
		*dst = b
		return nil
	}
	switch kv.Key {
	case "tickTime":
		return dur(&cfg.TickTime)
	case "initLimit":
		return num(&cfg.InitLimit, 1)
	case "syncLimit":
		return num(&cfg.SyncLimit, 1)
	case "commitLogCount":
		return num(&cfg.CommitLogCount, 1)
	case "smallCommitLog":
		return boolean(&cfg.SmallCommitLog)
	case "snapshotSizeFactor":
		f, err := strconv.ParseFloat(kv.Value, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			// NaN compares false with everything: it would silently mean "never use the log"
			return fmt.Errorf("snapshotSizeFactor=%s: want a finite number (negative disables the txn-log sync)", kv.Value)
		}
		cfg.SnapshotSizeFactor = f
		if f == 0 {
			cfg.SnapshotSizeFactor = 1e-9 // 0 means "default" in model.Config
		}
	case "snapCount":
		return num(&cfg.SnapCount, 1)
	case "preAllocSize":
		// zookeeper.preAllocSize in KiB. FilePadding pads only when it is > 0: 0 (or, in
		// ZooKeeper, a negative value) leaves every log file exactly as long as its txns.
		n, err := strconv.ParseInt(kv.Value, 10, 64)
		if err != nil || n < 0 || n > 1<<40 {
			return fmt.Errorf("preAllocSize=%s: want a whole number of KiB from 0 (no preallocation) to %d (default %d, 64 MiB)", kv.Value, int64(1)<<40, model.DefaultPreAllocSize)
		}
		cfg.PreAllocSize = n
		if n == 0 {
			cfg.PreAllocSize = -1 // 0 means "default" in model.Config
		}
	case "forceSnapshotSync":
		return boolean(&cfg.ForceSnapshotSync)
	case "syncRule":
		switch kv.Value {
		case "zookeeper":
			cfg.SeedsSyncRule = false
		case "seeds":
			cfg.SeedsSyncRule = true
		default:
			return fmt.Errorf("syncRule=%s: want zookeeper (3.8's syncFollower, the default) or seeds (the textbook rule, for teaching)", kv.Value)
		}
	case "minSessionTimeout":
		return dur(&cfg.MinSessionTimeout)
	case "maxSessionTimeout":
		return dur(&cfg.MaxSessionTimeout)
	case "maxNotificationInterval":
		return dur(&cfg.MaxNotificationInterval)
	case "cnxTimeout":
		return dur(&cfg.CnxTimeout)
	case "leaderConnectDelayDuringRetryMs":
		return dur(&cfg.LeaderConnectDelay)
	case "latencyMin":
		return dur(&wc.LatencyMin)
	case "latencyMean":
		if err := dur(&wc.LatencyMean); err != nil {
			return err
		}
		if wc.LatencyMean == 0 {
			wc.LatencyMean = sim.ZeroLatencyMean
		}
	case "fsyncLatency":
		return dur(&wc.FsyncLatency)
	case "recvBuffer", "sendBuffer":
		n, err := parseSize(kv.Value)
		if err != nil || n < 1 || n > 1<<30 {
			return fmt.Errorf("%s=%s: want a size from 1B to 1GiB, like 128KiB (Linux's defaults: recvBuffer=128KiB, sendBuffer=16KiB)", kv.Key, kv.Value)
		}
		if kv.Key == "recvBuffer" {
			wc.RecvBuffer = n
		} else {
			wc.SendBuffer = n
		}
	case "crashCloseDelay":
		return fmt.Errorf("crashCloseDelay is gone: `crash S` is a process kill (its peers read end-of-stream at once), `crash S host` a host loss (they notice through their own timeouts)")
	default:
		return fmt.Errorf("unknown config option %q (known: %s)", kv.Key, strings.Join(configKeys, " "))
	}
	return nil
}

// parseSize reads a size in bytes with its unit: 512B, 16KiB, 1MiB.
func parseSize(v string) (int64, error) {
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"B", 1}} {
		if num, ok := strings.CutSuffix(v, u.suffix); ok {
			n, err := strconv.ParseInt(num, 10, 64)
			if err != nil || n < 0 || n > (1<<40)/u.mult {
				return 0, fmt.Errorf("%q is not a size", v)
			}
			return n * u.mult, nil
		}
	}
	return 0, fmt.Errorf("%q: a size needs its unit: B, KiB, MiB or GiB", v)
}

// parseSidSet reads a literal set of voting sids {1,2,3}, each in 1..n.
func parseSidSet(v string, n int) ([]int64, error) {
	if !strings.HasPrefix(v, "{") || !strings.HasSuffix(v, "}") || v == "{}" {
		return nil, fmt.Errorf("want a set of server numbers like {1,2,3}")
	}
	var out []int64
	for _, x := range strings.Split(strings.Trim(v, "{}"), ",") {
		sid, err := strconv.Atoi(x)
		if err != nil || sid < 1 || sid > n {
			return nil, fmt.Errorf("%q is not a voting server 1..%d", x, n)
		}
		out = append(out, int64(sid))
	}
	return out, nil
}

// checkReconfig checks `reconfig S... voters={...}`: the servers' configuration files now
// list these voters; each server reads it at its next (re)start.
func checkReconfig(s *Script, c *Command, names map[string]bool) error {
	v, ok := c.Opt("voters")
	if !ok || len(c.Args) == 0 {
		return fmt.Errorf("reconfig S... voters={1,2,3,4,5}")
	}
	if _, err := parseSidSet(v, s.servers); err != nil {
		return fmt.Errorf("voters=%s: %v", v, err)
	}
	return checkServers(s, c, names)
}

func checkDisk(s *Script, c *Command, _ map[string]bool) error {
	v, ok := c.Opt("policy")
	if !ok || len(c.Args) > 0 {
		return fmt.Errorf("disk takes policy=lose-unsynced|keep-all|tear-last")
	}
	_, err := sim.ParseDiskPolicy(v)
	return err
}

func checkMutant(s *Script, c *Command, _ map[string]bool) error {
	var m model.Mutants
	known := append(slices.Clone(model.MutantNames), registry.MutantNames...)
	return checkSwitches(c, known, func(n string) error {
		if slices.Contains(registry.MutantNames, n) {
			return nil // a registry's mutant (registry.MutantNames)
		}
		return m.Set(n)
	})
}

func checkFix(s *Script, c *Command, _ map[string]bool) error {
	var f model.Fixes
	return checkSwitches(c, model.FixNames, f.Set)
}

// checkSwitches checks a `mutant` or `fix` line: one or more names that set accepts.
func checkSwitches(c *Command, known []string, set func(string) error) error {
	if len(c.Args) == 0 {
		return fmt.Errorf("%s needs a name (known: %s)", c.Name, strings.Join(known, " "))
	}
	for _, a := range c.Args {
		if err := set(a); err != nil {
			return err
		}
	}
	return nil
}

// checkSelector checks one server selector: a sid, a let name, leader, followers, all, *
// or a set {1,2,L}.
func checkSelector(s *Script, w string, names map[string]bool) error {
	if strings.HasPrefix(w, "{") {
		inner := strings.TrimSuffix(strings.TrimPrefix(w, "{"), "}")
		if inner == "" {
			return fmt.Errorf("empty set %q", w)
		}
		for _, x := range strings.Split(inner, ",") {
			if err := checkSelector(s, x, names); err != nil {
				return err
			}
		}
		return nil
	}
	switch w {
	case "leader", "followers", "all", "*", "down", "paused":
		return nil
	}
	if n, err := strconv.Atoi(w); err == nil {
		if n < 1 || n > s.servers {
			return fmt.Errorf("server %d: the ensemble has servers 1 to %d", n, s.servers)
		}
		return nil
	}
	if isIdent(w) {
		if s.clients[w] {
			return nil // a client's node: an application process, in a partition or a crash
		}
		if !names[w] {
			return fmt.Errorf("%q is not bound: use 'let %s = leader' first, or a server number", w, w)
		}
		return nil
	}
	return fmt.Errorf("%q is not a server (a number, a let name, leader, followers, all, * or {1,2})", w)
}

// isSingleServer reports whether selector w names one server: a sid, a let name or leader.
func isSingleServer(s *Script, w string, names map[string]bool) bool {
	switch w {
	case "followers", "all", "*", "down", "paused":
		return false
	}
	return !strings.HasPrefix(w, "{") && checkSelector(s, w, names) == nil
}

func checkServers(s *Script, c *Command, names map[string]bool) error {
	if len(c.Args) == 0 {
		return fmt.Errorf("%s needs a server: %s 2", c.Name, c.Name)
	}
	for _, a := range c.Args {
		if err := checkSelector(s, a, names); err != nil {
			return err
		}
	}
	return nil
}

// checkPause: `pause S...` / `resume S...`, or one client by name (a client stopped, as a
// long GC pause stops a JVM: it takes nothing in and sends nothing until resumed).
func checkPause(s *Script, c *Command, names map[string]bool) error {
	if len(c.Args) == 1 && s.clients[c.Args[0]] {
		return nil
	}
	return checkServers(s, c, names)
}

// crashArgs splits off a crash's trailing "host" word: a host loss, not a process kill.
func crashArgs(c *Command) (args []string, host bool) {
	if len(c.Args) > 1 && c.Args[len(c.Args)-1] == "host" {
		return c.Args[:len(c.Args)-1], true
	}
	return c.Args, false
}

// checkCrash: `crash S [S...] [host]`, or `crash S at=EVENT [within=10s]` for one server.
func checkCrash(s *Script, c *Command, names map[string]bool) error {
	args, host := crashArgs(c)
	sc := *c
	sc.Args = args
	if err := checkServers(s, &sc, names); err != nil {
		return err
	}
	at, ok := c.Opt("at")
	if ok && host {
		return fmt.Errorf("crash ... at=%s is a process that exits on a disk error: it takes no 'host'", at)
	}
	if !ok {
		if _, w := c.Opt("within"); w {
			return fmt.Errorf("crash: within= goes with at=EVENT")
		}
		return nil
	}
	if len(c.Args) != 1 {
		return fmt.Errorf("crash ... at=%s takes one server", at)
	}
	if !contains(crashPoints, at) {
		return fmt.Errorf("crash at=%s: want one of %s", at, strings.Join(crashPoints, " "))
	}
	return checkWithin(c)
}

func checkStart(s *Script, c *Command, names map[string]bool) error {
	if err := checkServers(s, c, names); err != nil {
		return err
	}
	if v, ok := c.Opt("stagger"); ok {
		if _, err := checkDuration("stagger", v, 0, MaxDuration, ""); err != nil {
			return err
		}
	}
	return nil
}

func checkWithin(c *Command) error {
	if v, ok := c.Opt("within"); ok {
		if _, err := checkDuration("within", v, 0, MaxDuration, ""); err != nil {
			return err
		}
	}
	return nil
}

func checkAwait(s *Script, c *Command, names map[string]bool) error {
	if err := checkWithin(c); err != nil {
		return err
	}
	if err := checkFixOpts(c); err != nil {
		return err
	}
	if len(c.Args) == 0 {
		return fmt.Errorf("await what? await leader | await synced S")
	}
	switch c.Args[0] {
	case "leader":
		if len(c.Args) != 1 {
			return fmt.Errorf("await leader takes no server")
		}
	case "live":
		if len(c.Args) != 1 {
			return fmt.Errorf("await live takes nothing more")
		}
	case "truncated", "snapped", "diffed":
		// await truncated S: until S truncates its log (a TRUNC from its leader); await
		// snapped S: until S loads a SNAP into memory; await diffed S: until S has read a
		// DIFF. The run stops right after that event, before anything else happens
		if len(c.Args) != 2 {
			return fmt.Errorf("await %s takes one server: await %s 4", c.Args[0], c.Args[0])
		}
		return checkSelector(s, c.Args[1], names)
	case "state":
		if len(c.Args) != 3 || !contains(states, c.Args[2]) {
			return fmt.Errorf("await state S STATE, STATE one of %s", strings.Join(states, " "))
		}
		return checkSelector(s, c.Args[1], names)
	case "held", "waiting":
		// await waiting L: until lock L has its node and waits for a lower one
		if len(c.Args) != 2 || s.recipes[c.Args[1]] != "lock" {
			return fmt.Errorf("await %s LOCK (a name bound by lock)", c.Args[0])
		}
	case "connected":
		if len(c.Args) != 2 {
			return fmt.Errorf("await connected CLIENT")
		}
		return s.needClient(c.Args[1])
	case "synced":
		if len(c.Args) != 2 {
			return fmt.Errorf("await synced takes one server: await synced 3")
		}
		return checkSelector(s, c.Args[1], names)
	case "epoch":
		// await epoch S current=N | accepted=N: until S has written that epoch file
		if len(c.Args) != 2 {
			return fmt.Errorf("await epoch takes one server and current=N or accepted=N: await epoch 1 current=2")
		}
		cur, hasCur := c.Opt("current")
		acc, hasAcc := c.Opt("accepted")
		if hasCur == hasAcc {
			return fmt.Errorf("await epoch needs exactly one of current=N, accepted=N")
		}
		v := cur + acc
		if n, err := strconv.Atoi(v); err != nil || n < 0 {
			return fmt.Errorf("epoch %q: want a number >= 0", v)
		}
		return checkSelector(s, c.Args[1], names)
	case "converged":
		// await converged [within=60s]: until every watcher of the discovery or config
		// workload sees what the leader holds; else a RecipeConvergence violation
		if len(c.Args) != 1 {
			return fmt.Errorf("await converged takes no arguments")
		}
		if !s.recipeWorkload {
			return fmt.Errorf("await converged: no discovery or config workload was started (workload discovery | workload config)")
		}
	case "value", "instances", "config", "watched", "result", "notheld":
		// await value /p = "v" [on=S] | instances D {a,b} | config C = "v" | watched A /p
		// EVENT | result A ... | notheld L: until the same words as an expect line hold.
		return checkExpect(s, c, names)
	default:
		return fmt.Errorf("await %q: want leader, live, synced, state, truncated, snapped, diffed, epoch, held, notheld, connected, converged, value, instances, config, watched or result", c.Args[0])
	}
	return nil
}

func checkLet(s *Script, c *Command, names map[string]bool) error {
	if len(c.Args) == 4 && c.Args[1] == "=" && c.Args[2] == "server" {
		// let S = server CLIENT: the server the client is connected to
		if err := s.needClient(c.Args[3]); err != nil {
			return err
		}
		names[c.Args[0]] = true
		return nil
	}
	if len(c.Args) != 3 || c.Args[1] != "=" {
		return fmt.Errorf("let takes NAME = leader | NAME = <server> | NAME = server CLIENT")
	}
	name := c.Args[0]
	if !isIdent(name) || contains([]string{"leader", "followers", "all"}, name) {
		return fmt.Errorf("let %q: a name is letters, digits and _, and not leader/followers/all", name)
	}
	if err := checkSelector(s, c.Args[2], names); err != nil {
		return err
	}
	names[name] = true
	return nil
}

// maxWriteSize is jute.maxbuffer's default, 0xfffff bytes: ZooKeeper refuses a larger packet.
const maxWriteSize = 0xfffff

// writeSize reads write's size=B option: the bytes of each value (-1 without it).
func writeSize(c *Command) (int, error) {
	v, ok := c.Opt("size")
	if !ok {
		return -1, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > maxWriteSize {
		return 0, fmt.Errorf("write size=%s: want a whole number of bytes from 0 to %d (jute.maxbuffer's default)", v, maxWriteSize)
	}
	return n, nil
}

func checkWrite(s *Script, c *Command, names map[string]bool) error {
	if len(c.Args) < 1 || len(c.Args) > 2 {
		return fmt.Errorf("write takes a count: write 5 [via=S] [size=B] [nowait]")
	}
	if _, err := writeSize(c); err != nil {
		return err
	}
	if n, err := strconv.Atoi(c.Args[0]); err != nil || n < 1 || n > 100000 {
		return fmt.Errorf("write %q: want a count from 1 to 100000", c.Args[0])
	}
	if len(c.Args) == 2 && c.Args[1] != "nowait" {
		return fmt.Errorf("write: unexpected %q (only nowait)", c.Args[1])
	}
	if v, ok := c.Opt("via"); ok {
		return checkSelector(s, v, names)
	}
	return nil
}

// splitLink reads "A -> B" (one-way) or "A B" (symmetric).
func splitLink(args []string) (from, to string, oneWay bool, err error) {
	switch {
	case len(args) == 3 && args[1] == "->":
		return args[0], args[2], true, nil
	case len(args) == 2:
		return args[0], args[1], false, nil
	}
	return "", "", false, fmt.Errorf("want 'A -> B' (one-way) or 'A B' (both ways), e.g. partition {1,2} {3}")
}

// partitionArgs splits off a partition's trailing "resets" word: a cut that also loses
// the connections' state (sim.PartitionResetting).
func partitionArgs(c *Command) (args []string, resets bool) {
	if c.Name == "partition" && len(c.Args) > 0 && c.Args[len(c.Args)-1] == "resets" {
		return c.Args[:len(c.Args)-1], true
	}
	return c.Args, false
}

// linkPorts reads a partition's or heal's port=quorum|election|client (several with
// commas): the connections it cuts; 0 (every port) without it.
func linkPorts(c *Command) (sim.Ports, error) {
	v, ok := c.Opt("port")
	if !ok {
		return 0, nil
	}
	var ps sim.Ports
	for _, name := range strings.Split(v, ",") {
		p, ok := model.PortNames[name]
		if !ok {
			return 0, fmt.Errorf("port=%s: want quorum (learners to the leader, 2888), election (3888) or client (2181), or several with commas", v)
		}
		ps |= sim.PortSet(p)
	}
	return ps, nil
}

func checkLinks(s *Script, c *Command, names map[string]bool) error {
	args, _ := partitionArgs(c)
	from, to, _, err := splitLink(args)
	if err != nil {
		return fmt.Errorf("%s: %v", c.Name, err)
	}
	if at, ok := c.Opt("at"); ok {
		// partition S B at=EVENT [within=D]: cut S off right after it next reaches EVENT
		if !contains(syncPoints, at) {
			return fmt.Errorf("partition at=%s: want one of %s", at, strings.Join(syncPoints, " "))
		}
		if !isSingleServer(s, from, names) {
			return fmt.Errorf("partition ... at=%s: the first side is the one server whose event it waits for, not %q", at, from)
		}
		if err := checkWithin(c); err != nil {
			return err
		}
	} else if _, ok := c.Opt("within"); ok {
		return fmt.Errorf("partition: within= goes with at=EVENT")
	}
	if _, err := linkPorts(c); err != nil {
		return err
	}
	if err := checkSelector(s, from, names); err != nil {
		return err
	}
	return checkSelector(s, to, names)
}

func checkHeal(s *Script, c *Command, names map[string]bool) error {
	if len(c.Args) == 0 {
		if _, ok := c.Opt("port"); ok {
			return fmt.Errorf("heal port=...: name the links too (heal A B port=quorum)")
		}
		return nil
	}
	return checkLinks(s, c, names)
}

func checkClog(s *Script, c *Command, names map[string]bool) error {
	if err := checkLinks(s, c, names); err != nil {
		return err
	}
	v, ok := c.Opt("for")
	if !ok {
		return fmt.Errorf("clog needs for=DURATION")
	}
	_, err := checkDuration("for", v, 0, MaxDuration, "")
	return err
}

func checkLatency(s *Script, c *Command, names map[string]bool) error {
	if err := checkLinks(s, c, names); err != nil {
		return err
	}
	v, ok := c.Opt("min")
	if !ok {
		return fmt.Errorf("latency needs min=DURATION (and optionally mean=DURATION)")
	}
	if _, err := checkDuration("min", v, 0, 3600*sim.Second, linkWhy); err != nil {
		return err
	}
	if v, ok := c.Opt("mean"); ok {
		if _, err := checkDuration("mean", v, 0, 3600*sim.Second, linkWhy); err != nil {
			return err
		}
	}
	return nil
}

// atCommands are the commands an `at` line may run: faults, which take no time.
var atCommands = []string{"crash", "restart", "pause", "resume", "partition", "heal", "clog", "latency"}

// checkAt checks `at T CMD`: T a virtual time from the run's start, CMD a fault.
func checkAt(s *Script, c *Command, names map[string]bool) error {
	if len(c.Args) < 2 || !contains(atCommands, c.Args[1]) {
		return fmt.Errorf("at takes a virtual time and a fault: at 10.5s crash 3 (%s)", strings.Join(atCommands, ", "))
	}
	t, err := sim.ParseTime(c.Args[0])
	if err != nil {
		return fmt.Errorf("at %s: %v", c.Args[0], err.(*sim.SettingError).Reason)
	}
	if t > MaxDuration {
		return fmt.Errorf("at %s: want at most %s", c.Args[0], MaxDuration)
	}
	inner := atCommand(c)
	sp := commands[inner.Name]
	for _, kv := range inner.KV {
		if !contains(sp.opts, kv.Key) || kv.Key == "at" || kv.Key == "within" {
			return fmt.Errorf("at ... %s: unknown option %q", inner.Name, kv.Key)
		}
	}
	return sp.check(s, &inner, names)
}

func checkRun(s *Script, c *Command, _ map[string]bool) error {
	if len(c.Args) != 1 {
		return fmt.Errorf("run takes a duration: run 10s")
	}
	d, err := sim.ParseTime(c.Args[0])
	if err != nil {
		return fmt.Errorf("run %s: %v", c.Args[0], err.(*sim.SettingError).Reason)
	}
	if d > MaxDuration {
		return fmt.Errorf("run %s: want at most %s", c.Args[0], MaxDuration)
	}
	return nil
}

// checkNames are the checks `expect violation` can name.
var checkNames = []string{checker.CheckLeadership1, checker.CheckLeadership2, checker.CheckZxidUniqueness,
	checker.CheckIntegrity, checker.CheckPrefixConsistency, checker.CheckGlobalPrimaryOrder,
	checker.CheckLocalPrimaryOrder, checker.CheckPrimaryIntegrity, checker.CheckLeaderLogCompleteness,
	checker.CheckCommittedLogDurability, checker.CheckProcessConsistency, checker.CheckSyncDecision, checker.CheckMessageLegal,
	checker.CheckLiveness, checker.CheckLinearizability, checker.CheckStaleRead, checker.CheckSessionOrder,
	checker.CheckReadYourWrites, checker.CheckSyncRead, checker.CheckWatchOrder, checker.CheckWatchOnce,
	checker.CheckLockExclusion, checker.CheckLockLiveness, checker.CheckRecipeLeader, CheckRecipeConvergence}

var syncModes = []string{"DIFF", "TRUNC", "TRUNC+DIFF", "SNAP"}
var states = []string{"LOOKING", "FOLLOWING", "LEADING", "OBSERVING", "DOWN"}

// checkFixOpts checks an expect or await line's with=FIX and without=FIX: the line speaks
// only of a run with (without) that proposed fix.
func checkFixOpts(c *Command) error {
	for _, k := range []string{"with", "without"} {
		if v, ok := c.Opt(k); ok {
			var f model.Fixes
			if err := f.Set(v); err != nil {
				return fmt.Errorf("%s ... %s=%s: %v (the line holds only %s that fix)", c.Name, k, v, err, k)
			}
		}
	}
	return nil
}

func checkExpect(s *Script, c *Command, names map[string]bool) error {
	if err := checkWithin(c); err != nil {
		return err
	}
	for _, k := range []string{"last", "refused"} {
		if _, has := c.Opt(k); has && (len(c.Args) == 0 || c.Args[0] != "resource") {
			return fmt.Errorf("expect: %s= belongs to expect resource", k)
		}
	}
	if err := checkFixOpts(c); err != nil {
		return err
	}
	if len(c.Args) == 0 {
		return fmt.Errorf("expect what? sync | syncs | leader | value | state | synced | ...")
	}
	a := c.Args
	switch a[0] {
	case "sync":
		if len(a) != 3 {
			return fmt.Errorf("expect sync S MODE, MODE one of %s", strings.Join(syncModes, " "))
		}
		if !contains(syncModes, a[2]) {
			return fmt.Errorf("sync mode %q: want one of %s", a[2], strings.Join(syncModes, " "))
		}
		return checkSelector(s, a[1], names)
	case "syncs":
		if len(a) != 3 {
			return fmt.Errorf("expect syncs S N: S has been synced N times in all")
		}
		if n, err := strconv.Atoi(a[2]); err != nil || n < 0 {
			return fmt.Errorf("expect syncs %s %s: want a count like 1", a[1], a[2])
		}
		return checkSelector(s, a[1], names)
	case "leader":
		if len(a) != 2 {
			return fmt.Errorf("expect leader S")
		}
		return checkSelector(s, a[1], names)
	case "value":
		if len(a) == 3 && a[2] == "absent" || len(a) == 4 && a[2] == "=" {
			if !strings.HasPrefix(a[1], "/") {
				return fmt.Errorf("expect value: path %q must start with /", a[1])
			}
			if v, ok := c.Opt("on"); ok {
				return checkSelector(s, v, names)
			}
			return nil
		}
		return fmt.Errorf(`expect value PATH absent | expect value PATH = "v" [on=S]`)
	case "state":
		if len(a) != 3 || !contains(states, a[2]) {
			return fmt.Errorf("expect state S STATE, STATE one of %s", strings.Join(states, " "))
		}
		return checkSelector(s, a[1], names)
	case "synced":
		if len(a) != 2 {
			return fmt.Errorf("expect synced S")
		}
		return checkSelector(s, a[1], names)
	case "held", "notheld", "instances", "config", "resource":
		return checkExpectRecipe(s, c)
	case "result":
		return checkExpectResult(s, c)
	case "watched":
		return checkExpectWatched(s, c)
	case "violation":
		if len(a) != 2 || !contains(checkNames, a[1]) {
			return fmt.Errorf("expect violation CHECK, CHECK one of %s", strings.Join(checkNames, " "))
		}
		return nil
	}
	return fmt.Errorf("expect %q: want sync, leader, value, state, synced, result, watched, held, notheld, instances, config or violation", a[0])
}

func checkSeed(s *Script, c *Command, _ map[string]bool) error {
	if len(c.Args) != 1 {
		return fmt.Errorf("seed takes one number: seed 42")
	}
	n, err := strconv.ParseUint(c.Args[0], 10, 64)
	if err != nil {
		return fmt.Errorf("seed %q: want a non-negative integer", c.Args[0])
	}
	if s.HasSeed {
		return fmt.Errorf("seed given twice")
	}
	s.Seed, s.HasSeed = n, true
	return nil
}

// The range of a workload's rate, in calls per virtual second per client: below MinRate the
// interval between two calls would not fit the virtual clock (NaN or 1e-20 made a loop of
// calls that takes no time); above MaxRate a client only ever waits for its answers.
const (
	MinRate = model.MinWorkloadRate
	MaxRate = model.MaxWorkloadRate
)

// CheckRate checks a workload rate as written (rate=R, --rate R).
func CheckRate(v string) error {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || !(f >= MinRate && f <= MaxRate) {
		return fmt.Errorf("rate=%s: want calls per second per client, from %g (one per 1000s) to %g", v, float64(MinRate), float64(MaxRate))
	}
	return nil
}

// checkWorkload: `workload clients=N rate=R reads=F keys=K outstanding=M` starts the model's
// random client workload; `workload stop` stops it issuing calls.
func checkWorkload(s *Script, c *Command, names map[string]bool) error {
	if len(c.Args) == 1 && c.Args[0] == "stop" {
		if len(c.KV) > 0 {
			return fmt.Errorf("workload stop takes no options")
		}
		if !s.workload {
			return fmt.Errorf("workload stop: no workload was started")
		}
		return nil
	}
	if s.workload {
		return fmt.Errorf("workload: a scenario has one workload, and it was started on an earlier line")
	}
	if len(c.Args) == 1 && (c.Args[0] == "locks" || c.Args[0] == "elections") {
		// workload locks [clients=3] [rw=true] [hold=200ms] [think=100ms]: clients contend
		// for one lock in a loop, for the recipe checker; workload elections: they run for
		// leadership (the election recipe), lead a while, resign
		for _, kv := range c.KV {
			if c.Args[0] == "elections" && (kv.Key == "rw" || kv.Key == "rule") {
				return fmt.Errorf("workload elections: %s= is a read/write lock's option (elections take clients, hold, think)", kv.Key)
			}
			switch kv.Key {
			case "clients":
				if n, err := strconv.Atoi(kv.Value); err != nil || n < 1 || n > 900 {
					return fmt.Errorf("clients=%s: want a whole number from 1 to 900", kv.Value)
				}
			case "rw":
				if _, err := strconv.ParseBool(kv.Value); err != nil {
					return fmt.Errorf("rw=%s: want true or false", kv.Value)
				}
			case "rule":
				if kv.Value != "zookeeper" && kv.Value != "notes" {
					return fmt.Errorf("rule=%s: a read lock's rule is zookeeper or notes (unsafe)", kv.Value)
				}
			case "hold", "think":
				if _, err := checkDuration(kv.Key, kv.Value, sim.Millisecond, 3600*sim.Second, ""); err != nil {
					return err
				}
			default:
				return fmt.Errorf("workload locks: unknown option %q (clients, rw, rule, hold, think)", kv.Key)
			}
		}
		s.workload = true
		return nil
	}
	if len(c.Args) == 1 && (c.Args[0] == "discovery" || c.Args[0] == "config") {
		// workload discovery [clients=3] [watchers=2] [hold=1s] [think=300ms] [naive=D]: instances come
		// and go, watchers follow the service; workload config [clients=3] [think=300ms]: an
		// admin keeps changing a znode that the clients watch. `await converged` judges them.
		for _, kv := range c.KV {
			switch kv.Key {
			case "clients", "watchers":
				if kv.Key == "watchers" && c.Args[0] == "config" {
					return fmt.Errorf("workload config: watchers= is discovery's (config's clients= are its watchers)")
				}
				if n, err := strconv.Atoi(kv.Value); err != nil || n < 1 || n > 900 {
					return fmt.Errorf("%s=%s: want a whole number from 1 to 900", kv.Key, kv.Value)
				}
			case "hold", "think", "naive":
				if kv.Key == "hold" && c.Args[0] == "config" {
					return fmt.Errorf("workload config: hold= is discovery's (how long an instance stays)")
				}
				if _, err := checkDuration(kv.Key, kv.Value, sim.Millisecond, 3600*sim.Second, ""); err != nil {
					return err
				}
			default:
				return fmt.Errorf("workload %s: unknown option %q (clients, watchers, hold, think, naive)", c.Args[0], kv.Key)
			}
		}
		s.workload, s.recipeWorkload = true, true
		return nil
	}
	if len(c.Args) > 0 {
		return fmt.Errorf("workload takes options (clients=5 rate=10 reads=0.7 keys=16 outstanding=4), locks, elections, discovery, config, or stop, not %q", c.Args[0])
	}
	ints := map[string][2]int{"clients": {1, 900}, "keys": {1, 100000}, "outstanding": {1, 1000}}
	for _, kv := range c.KV {
		switch kv.Key {
		case "clients", "keys", "outstanding":
			n, err := strconv.Atoi(kv.Value)
			if r := ints[kv.Key]; err != nil || n < r[0] || n > r[1] {
				return fmt.Errorf("%s=%s: want a whole number from %d to %d", kv.Key, kv.Value, r[0], r[1])
			}
		case "rate":
			if err := CheckRate(kv.Value); err != nil {
				return err
			}
		case "reads":
			// written as !(in range) so that NaN is refused too
			f, err := strconv.ParseFloat(kv.Value, 64)
			if err != nil || !(f >= 0 && f <= 1) {
				return fmt.Errorf("reads=%s: want the share of reads, from 0 to 1", kv.Value)
			}
		case "servers":
			if err := checkSelector(s, kv.Value, names); err != nil {
				return err
			}
		case "timeout": // the session timeout the clients ask for
			if _, err := checkDuration("timeout", kv.Value, sim.Millisecond, maxMillis, sessionWhy); err != nil {
				return err
			}
		}
	}
	s.workload = true
	return nil
}
