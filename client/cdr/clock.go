package cdr

import "time"

// Clock is an optional capability of a Source: it knows the PBX's own clock, from the Date header of the PBX's
// answers. The PBX is the source of truth for time, so "today" is the PBX's today even when this computer's
// clock (or the PBX's) is wrong: the calls carry the PBX's clock.
type Clock interface {
	// PBXClock is the PBX's clock now: its latest answer's Date advanced by the time since. ok is false until
	// the PBX has answered with a Date.
	PBXClock() (now time.Time, ok bool)
}

// PBXClockOf is src's PBX clock when src implements Clock and knows it. A wrapper around a Source implements
// Clock with it, so it never hides the capability of what it wraps.
func PBXClockOf(src Source) (now time.Time, ok bool) {
	c, is := src.(Clock)
	if !is {
		return time.Time{}, false
	}
	now, ok = c.PBXClock()
	if now.IsZero() {
		return time.Time{}, false
	}
	return now, ok
}
