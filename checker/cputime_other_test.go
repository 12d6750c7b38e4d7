//go:build !unix

package checker

import "time"

// cpuTime is not measured here: the benchmark reports wall times only.
func cpuTime() time.Duration { return 0 }
