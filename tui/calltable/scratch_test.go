package calltable

import (
	"runtime"
	"testing"

	"github.com/callscope/callscope/tui/filter"
)

// allocated is the bytes fn allocates on the heap.
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestFilterReusesBuffers applies and clears a filter that keeps nearly every row of 100,000: once the table
// has filtered once, doing it again allocates nothing that grows with the rows (issue 13: the result buffers
// are reused, not rebuilt each time).
func TestFilterReusesBuffers(t *testing.T) {
	m := newTable(120, 20)
	m.Append(makeRecordsFrom(0, 100_000))
	longer := filter.State{MinDuration: 1}.Compile(nil, filter.Dialling{})
	m.SetFilter(longer)
	m.SetFilter(nil)
	got := allocated(func() {
		for range 5 {
			m.SetFilter(longer)
			m.SetFilter(nil)
		}
	})
	if got > 64<<10 {
		t.Fatalf("5 filters on 100,000 rows allocated %d bytes; want the buffers reused (under 64 KiB)", got)
	}
}

// TestSortReusesScratch sorts 100,000 rows by every column both ways after a first sort by each: the sort's
// scratch is kept and reused, so the sorts allocate nothing that grows with the rows (issue 13: each sort of a
// million rows left 47 MB behind).
func TestSortReusesScratch(t *testing.T) {
	m := newTable(120, 20)
	m.Append(makeRecordsFrom(0, 100_000))
	for c := range numColumns {
		m.SetSort(c, false)
	}
	got := allocated(func() {
		for c := range numColumns {
			m.SetSort(c, true)
			m.SetSort(c, false)
		}
	})
	if got > 256<<10 {
		t.Fatalf("16 sorts of 100,000 rows allocated %d bytes; want the scratch reused (under 256 KiB)", got)
	}
}
