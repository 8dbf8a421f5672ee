package overview

import (
	"math"
	"sort"
	"time"

	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/tui/common"
)

// Granularity is what one bar stands for.
type Granularity int

const (
	Auto   Granularity = iota // hours when the calls span at most two days, days otherwise
	Hourly                    // one bar per hour
	Daily                     // one bar per day
)

// autoHourlySpan is the widest span Auto still draws by the hour: two days are 48 bars, which fit at 80 columns.
const autoHourlySpan = 2

// maxHourlyDays caps hourly buckets: past a month, bars per hour are too thin to read and the slice too long.
const maxHourlyDays = 31

// Bucket is one bar: calls that started within [Start, Start+hour or day).
type Bucket struct {
	Start    time.Time
	Answered int
	Missed   int
}

// Total is all calls in the bucket.
func (b Bucket) Total() int { return b.Answered + b.Missed }

// ExtCount is one extension's share.
type ExtCount struct {
	Extension string
	Name      string // the friendly name seen most often with it, if any
	Calls     int
	Answered  int
}

// Stats summarises a set of calls. Answered means disposition answered; every other disposition (no answer,
// busy, failed, unknown) counts as missed, which is what people counting "answered versus missed" mean.
type Stats struct {
	Calls    int
	Answered int
	Missed   int
	Undated  int // calls with no start time: counted, not charted

	Hourly  bool // Buckets are hours (else days)
	Buckets []Bucket
	// HourlyPossible says the span is short enough to draw by the hour.
	HourlyPossible bool
	TopExt         []ExtCount // most calls first, ties by extension
}

// wallSeconds is t's wall clock as seconds since 1970-01-01 00:00 of that wall clock; cheaper than Date()
// and Hour(), which matters at a million rows.
func wallSeconds(t time.Time) int64 {
	_, off := t.Zone()
	return t.Unix() + int64(off)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// Compute summarises rows; g chooses the bars; topN (>0) limits TopExt. It reads each row once (records are
// large, so a second pass would mostly wait on memory), counting into hours held in a small map with the last
// hour cached, since rows arrive mostly in time order.
func Compute(rows common.Rows, g Granularity, topN int) Stats {
	var st Stats
	n := 0
	if rows != nil {
		n = rows.Len()
	}
	type extAcc struct {
		ExtCount
		names map[string]int
	}
	exts := map[string]*extAcc{}
	hours := map[int64]*Bucket{}
	lastHour, last := int64(math.MinInt64), (*Bucket)(nil)
	var loc *time.Location
	for i := range n {
		r := rows.At(i)
		st.Calls++
		answered := r.Disposition == cdr.DispAnswered
		if answered {
			st.Answered++
		} else {
			st.Missed++
		}
		e := exts[r.Extension]
		if e == nil {
			e = &extAcc{ExtCount: ExtCount{Extension: r.Extension}}
			exts[r.Extension] = e
		}
		e.Calls++
		if answered {
			e.Answered++
		}
		if r.FriendlyName != "" {
			if e.names == nil {
				e.names = map[string]int{}
			}
			e.names[r.FriendlyName]++
		}
		if r.Start.IsZero() {
			st.Undated++
			continue
		}
		if loc == nil {
			loc = r.Start.Location()
		}
		h := floorDiv(wallSeconds(r.Start), 3600)
		if h != lastHour {
			last = hours[h]
			if last == nil {
				last = &Bucket{}
				hours[h] = last
			}
			lastHour = h
		}
		if answered {
			last.Answered++
		} else {
			last.Missed++
		}
	}

	minDay, maxDay := int64(math.MaxInt64), int64(math.MinInt64)
	for h := range hours {
		d := floorDiv(h, 24)
		minDay, maxDay = min(minDay, d), max(maxDay, d)
	}
	dated := len(hours) > 0
	span := maxDay - minDay + 1
	st.HourlyPossible = dated && span <= maxHourlyDays
	switch g {
	case Hourly:
		st.Hourly = st.HourlyPossible
	case Auto:
		st.Hourly = dated && span <= autoHourlySpan
	}
	if dated {
		nb := span
		if st.Hourly {
			nb = span * 24
		}
		st.Buckets = make([]Bucket, nb)
		y, m, d := time.Unix(minDay*86400, 0).UTC().Date()
		for i := range st.Buckets {
			if st.Hourly {
				st.Buckets[i].Start = time.Date(y, m, d+i/24, i%24, 0, 0, 0, loc)
			} else {
				st.Buckets[i].Start = time.Date(y, m, d+i, 0, 0, 0, 0, loc)
			}
		}
		for h, b := range hours {
			idx := floorDiv(h, 24) - minDay
			if st.Hourly {
				idx = h - minDay*24
			}
			st.Buckets[idx].Answered += b.Answered
			st.Buckets[idx].Missed += b.Missed
		}
	}
	top := make([]ExtCount, 0, len(exts))
	for _, e := range exts {
		best := 0
		for name, c := range e.names {
			if c > best || (c == best && name < e.Name) {
				e.Name, best = name, c
			}
		}
		top = append(top, e.ExtCount)
	}
	sort.Slice(top, func(i, j int) bool {
		if top[i].Calls != top[j].Calls {
			return top[i].Calls > top[j].Calls
		}
		return top[i].Extension < top[j].Extension
	})
	if topN > 0 && len(top) > topN {
		top = top[:topN]
	}
	st.TopExt = top
	return st
}
