package pbxsim

import (
	"net/http"
	"sync/atomic"
	"time"
)

// The PBX's own clock. A real PBX's clock can be years behind (no NTP) or hours ahead (a wrong zone), and
// callscope must follow it rather than the workstation's. A simulator started with Options.Now (or given one by
// SetClock) runs on a clock of its own: it stamps every answer's Date header with it, and a call exists only
// once that clock has passed the call's end, since a PBX writes a CDR when the call ends. Without one the
// simulator uses this computer's clock and serves every generated call, as before.

// simClock is the PBX's clock: at is its reading when this computer's clock read anchor.
type simClock struct {
	at     time.Time
	anchor time.Time
	frozen bool
}

func (c *simClock) now() time.Time {
	if c.frozen {
		return c.at
	}
	return c.at.Add(time.Since(c.anchor))
}

// SetClock sets the PBX's clock to now; it then stands still when frozen, or advances in real time. A zero now
// switches the PBX back to this computer's clock, with every call served.
func (s *Sim) SetClock(now time.Time, frozen bool) {
	if now.IsZero() {
		s.clock.Store(nil)
		return
	}
	s.clock.Store(&simClock{at: now, anchor: time.Now(), frozen: frozen})
}

// Now is the PBX's present: its own clock when one is set, this computer's otherwise.
func (s *Sim) Now() time.Time {
	if c := s.clock.Load(); c != nil {
		return c.now().In(s.o.Zone)
	}
	return time.Now().In(s.o.Zone)
}

// ClockSet says whether the PBX runs on a clock of its own (Options.Now or SetClock).
func (s *Sim) ClockSet() bool { return s.clock.Load() != nil }

// visibleUntil is the wall clock up to which calls have ended and so exist: the PBX's present when it has a
// clock of its own, the end of time otherwise.
func (s *Sim) visibleUntil() int64 {
	if c := s.clock.Load(); c != nil {
		return wallOf(c.now().In(s.o.Zone))
	}
	return maxWall
}

// ended says whether a call had ended, and so been written, by the wall clock vis.
func ended(c *call, vis int64) bool { return c.end <= vis }

// stampDate gives an answer the PBX's clock as its Date header, as a PBX's web server does with its own.
func (s *Sim) stampDate(w http.ResponseWriter) {
	if c := s.clock.Load(); c != nil {
		w.Header().Set("Date", c.now().UTC().Format(http.TimeFormat))
	}
}

// Visible is the number of calls that exist at the PBX's present: every call without a clock of its own, those
// that have ended with one.
func (s *Sim) Visible() int {
	vis := s.visibleUntil()
	if vis == maxWall {
		return s.Total()
	}
	n := 0
	s.rangeCalls(minWall, maxWall, func(*call) bool { n++; return true })
	return n
}

// visibleDayCounts returns prefix with the days that the PBX's present cuts through counted again, so that
// only the calls that have ended count, and the days after it counted as empty. match selects the calls that
// prefix counts (nil: all). prefix itself is not changed.
func (s *Sim) visibleDayCounts(prefix []int, vis int64, match func(*call) bool) []int {
	n := len(prefix) - 1
	last := int(civilDay(vis) - s.first) // the day the present is on
	// A call can end after midnight (a directory's data), so the day before the present may be cut too.
	firstCut := max(0, last-1)
	if vis == maxWall || firstCut >= n {
		return prefix
	}
	out := make([]int, n+1)
	copy(out, prefix[:firstCut+1])
	for d := firstCut; d < n; d++ {
		k := 0
		if d <= last && prefix[d+1] > prefix[d] {
			for _, c := range s.data.day(d, nil) {
				if ended(&c, vis) && (match == nil || match(&c)) {
					k++
				}
			}
		}
		out[d+1] = out[d] + k
	}
	return out
}

// clockState holds the simulator's clock; nil is this computer's clock.
type clockState = atomic.Pointer[simClock]
