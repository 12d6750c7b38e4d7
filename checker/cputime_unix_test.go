//go:build unix

package checker

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time (user + system) the process has used so far, all threads: a
// fairer yardstick than the wall clock on a machine that runs other work.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
