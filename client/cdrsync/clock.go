package cdrsync

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/transport"
)

// The PBX's clock, not this computer's, says how far a sync has got: a PBX without NTP can be years behind, one
// in a wrong zone hours ahead, and calls the PBX has not reached yet must never count as fetched. Two things
// tell the PBX's present: the Date header of its answers, and the end of the newest call it returned (it had
// reached that, whatever its Date says). A chunk is complete up to the PBX's present when its list was asked
// for; this computer's clock only decides how far to ask when the PBX sends no Date, and never moves the
// watermark.

// skewWarning is how far apart the two clocks may be before a sync says so.
const skewWarning = 5 * time.Minute

// notBefore is a Date no PBX answering today can mean: an unset clock (1970) or a dead battery.
var notBefore = time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC)

// dateWatch collects the Date headers of one step's answers (a chunk's list, a look for the next call).
type dateWatch struct {
	mu    sync.Mutex
	first time.Time // the earliest answer's: every call the step returned had ended by then
}

func (w *dateWatch) note(d time.Time) {
	w.mu.Lock()
	if w.first.IsZero() || d.Before(w.first) {
		w.first = d
	}
	w.mu.Unlock()
}

func (w *dateWatch) earliest() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.first
}

// watch returns a context whose requests report their answers' Date to w and to the run's clock.
func (s *syncer) watch(ctx context.Context, w *dateWatch) context.Context {
	return transport.WithDateObserver(ctx, func(d time.Time) {
		w.note(d)
		s.noteDate(d)
	})
}

// noteDate keeps the latest Date answered, with this computer's clock when it came.
func (s *syncer) noteDate(d time.Time) {
	here := s.o.Now()
	s.clockMu.Lock()
	if d.After(s.lastDate) || s.lastDate.IsZero() {
		s.lastDate, s.lastHere = d, here
	}
	s.clockMu.Unlock()
}

// pbxLocation is the PBX's zone when known: the one configured or stored, or the one inferred from its calls.
func (s *syncer) pbxLocation() *time.Location {
	if s.o.Zone != nil {
		return s.o.Zone
	}
	if loc := s.a.Location(); loc != nil {
		return loc
	}
	return s.zoneInfo().Location
}

// wall turns an instant into the PBX's wall clock. In a zone not yet known, early takes the earliest wall clock
// on Earth (UTC-12), surely not after the PBX's, and otherwise the latest (UTC+14).
func (s *syncer) wall(t time.Time, early bool) time.Time {
	if loc := s.pbxLocation(); loc != nil {
		return cdr.WallClock(t.In(loc))
	}
	if early {
		return cdr.WallClock(t.UTC().Add(-12 * time.Hour))
	}
	return cdr.WallClock(t.UTC().Add(14 * time.Hour))
}

// believable says whether a Date can be the PBX's clock: not from before any PBX ran, not before a call the PBX
// has already finished (by more than a little skew), and not years past both this computer's clock and every
// call seen.
func (s *syncer) believable(d time.Time) bool {
	if d.IsZero() || d.Before(notBefore) {
		return false
	}
	if s.newestEnd.After(s.wall(d, false).Add(skewWarning)) {
		return false
	}
	limit := s.o.Now().AddDate(1, 0, 0)
	if d.After(limit) && s.wall(d, true).After(s.newestEnd.AddDate(1, 0, 0)) {
		return false
	}
	return true
}

// present is the PBX's present wall clock as a step's answers show it: their earliest believable Date, or else
// the end of the newest call returned so far. fromDate says which; zero when neither is known.
func (s *syncer) present(w *dateWatch) (t time.Time, fromDate bool) {
	if d := w.earliest(); s.believable(d) {
		return s.wall(d, true), true
	}
	return s.newestEnd, false
}

// horizon is how far closed chunks may reach: the PBX's present by its latest believable Date, or, without
// one, the later of its newest call and this computer's clock (asking past the PBX's present costs a request,
// never a call).
func (s *syncer) horizon() time.Time {
	s.clockMu.Lock()
	d := s.lastDate
	s.clockMu.Unlock()
	if s.believable(d) {
		return s.wall(d, false)
	}
	here := s.wall(s.o.Now(), false)
	if s.newestEnd.After(here) {
		return s.newestEnd
	}
	return here
}

// noteEnds raises the newest call end seen with a chunk's calls.
func (s *syncer) noteEnds(recs []cdr.Record) {
	for i := range recs {
		if e := callEnd(&recs[i]); e.After(s.newestEnd) {
			s.newestEnd = e
		}
	}
}

// callEnd is when a call ended, as a PBX wall clock: its start plus its duration (Com.X's start+duration,
// Difuse's end_time, which its client turns into the duration).
func callEnd(r *cdr.Record) time.Time {
	return cdr.WallClock(r.Start).Add(time.Duration(max(r.DurationS, 0)) * time.Second)
}

// clockReport fills the stats with both clocks and warns when they are further apart than a few minutes.
func (s *syncer) clockReport() {
	s.clockMu.Lock()
	d, here := s.lastDate, s.lastHere
	s.clockMu.Unlock()
	if !s.believable(d) {
		return
	}
	loc := s.pbxLocation()
	if loc == nil {
		loc = time.UTC
	}
	s.stats.PBXClock, s.stats.LocalClock = d.In(loc), here.In(loc)
	skew := d.Sub(here)
	if skew.Abs() <= skewWarning {
		return
	}
	way := "ahead of"
	if skew < 0 {
		way = "behind"
	}
	s.o.OnWarn(fmt.Errorf("the PBX's clock is %s %s this computer's (PBX %s, this computer %s): sync follows the PBX's clock; set the PBX's time (NTP) so its calls carry the right times",
		humanDuration(skew.Abs()), way, s.stats.PBXClock.Format(clockLayout), s.stats.LocalClock.Format(clockLayout)))
}

// clockLayout shows a clock with its offset, so two clocks in different zones still compare.
const clockLayout = "2006-01-02 15:04:05 -07:00"

// humanDuration says a clock difference the way people do: "2 years", "9 hours", "12 minutes".
func humanDuration(d time.Duration) string {
	const day = 24 * time.Hour
	unit := func(n int64, word string) string {
		if n == 1 {
			return "1 " + word
		}
		return fmt.Sprintf("%d %ss", n, word)
	}
	switch {
	case d >= 365*day:
		return unit(int64(d/(365*day)), "year")
	case d >= 2*day:
		return unit(int64(d/day), "day")
	case d >= 2*time.Hour:
		return unit(int64(d/time.Hour), "hour")
	}
	return unit(int64(d/time.Minute), "minute")
}
