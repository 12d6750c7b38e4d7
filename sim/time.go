// Package sim is the engine every zabsim run stands on: a virtual clock, a typed event
// queue, seeded random streams, nodes hosted as state machines, a network of TCP-like
// connections with faults, a disk per node, and the trace. It knows nothing of ZooKeeper.
//
// Everything runs on the caller's goroutine. Nothing here reads the wall clock, starts a
// goroutine, or ranges over a map where the order could reach the trace, so a run is a
// pure function of its configuration, its seed and the calls made on the World.
package sim

import (
	"strconv"
	"strings"
	"time"
)

// Time is virtual time in nanoseconds since the start of the run.
type Time int64

const (
	Nanosecond  Time = 1
	Microsecond      = 1000 * Nanosecond
	Millisecond      = 1000 * Microsecond
	Second           = 1000 * Millisecond
	Minute           = 60 * Second
)

// Never is later than any event.
const Never Time = 1<<63 - 1

// add is t + d for d >= 0, saturating at Never instead of overflowing.
func (t Time) add(d Time) Time {
	if d > Never-t {
		return Never
	}
	return t + d
}

// String prints a virtual time the way time.Duration does ("1.5s", "200ms").
func (t Time) String() string {
	if t == Never {
		return "never"
	}
	return time.Duration(t).String()
}

// Seconds is t in (fractional) seconds, for printing and pictures.
func (t Time) Seconds() float64 { return float64(t) / float64(Second) }

// ParseTime reads a duration in Go syntax ("2s", "150ms", "1m30s") or a bare number of
// nanoseconds. It accepts only non-negative values.
func ParseTime(s string) (Time, error) {
	s = strings.TrimSpace(s)
	// A bare number silently meant nanoseconds: "run 5" ran for 5ns. (Only a string ending
	// in a digit can be one; ParseInt's error on "5s" would cost an allocation per duration.)
	if s != "" && s[len(s)-1] >= '0' && s[len(s)-1] <= '9' {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil && n != 0 {
			return 0, &SettingError{Setting: "duration", Value: s, Reason: "a duration needs its unit: ns, us, ms, s, m or h (like 5s or 150ms)"}
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, &SettingError{Setting: "duration", Value: s, Reason: "not a duration like 2s or 150ms"}
	}
	if d < 0 {
		return 0, &SettingError{Setting: "duration", Value: s, Reason: "must not be negative"}
	}
	return Time(d), nil
}

// SettingError is an invalid setting: which one, the value given, and why it was refused.
type SettingError struct {
	Setting string
	Value   string
	Reason  string
}

func (e *SettingError) Error() string {
	return "invalid " + e.Setting + " " + strconv.Quote(e.Value) + ": " + e.Reason
}
