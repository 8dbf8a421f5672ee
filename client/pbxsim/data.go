package pbxsim

import (
	"io"
	"sort"
	"time"

	"github.com/callscope/callscope/client/cdr"
)

// call is one row the simulator serves. rec.Start is placed in the PBX's zone; wall is the same wall clock as
// seconds since 1970 read as UTC, which is what Com.X start/end parameters are compared with.
type call struct {
	rec  cdr.Record
	wall int64
	end  int64 // wall clock of the end of the call, for the Difuse insertion order
	ring int   // seconds before the call was answered
	pool int   // index into the recordings pool; -1 when the file lives in the data directory
}

// dataset is where calls come from, organised by local calendar day so a query touches only the days it
// covers. Day i is the civil day first+i (days since 1970-01-01).
type dataset interface {
	span() (first int64, n int)
	// count is the number of calls on day i; it must be cheap (no generation) except where noted at New.
	count(i int) int
	// day returns day i's calls sorted by start time (ties keep a stable order), reusing buf's storage when
	// the dataset makes new calls.
	day(i int, buf []call) []call
	users() []cdr.User
	// open returns a call's recording and its size.
	open(c *call) (io.ReadCloser, int64, error)
}

const secondsPerDay = 86400

// civilDay is the number of days since 1970-01-01 of a wall clock read as UTC.
func civilDay(wall int64) int64 {
	if wall < 0 {
		return (wall - secondsPerDay + 1) / secondsPerDay
	}
	return wall / secondsPerDay
}

func wallOf(t time.Time) int64 { return cdr.WallClock(t).Unix() }

// byEnd returns the calls of one day in Difuse insertion order: by end time, ties by start.
func byEnd(calls []call) []int {
	idx := make([]int, len(calls))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool {
		ca, cb := &calls[idx[a]], &calls[idx[b]]
		if ca.end != cb.end {
			return ca.end < cb.end
		}
		return ca.wall < cb.wall
	})
	return idx
}
