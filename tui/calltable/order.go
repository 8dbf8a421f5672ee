package calltable

import (
	"cmp"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/callscope/callscope/client/cdr"
)

// Column names a table column.
type Column int

const (
	ColStart Column = iota
	ColType
	ColExtension
	ColOther
	ColDisposition
	ColDuration
	ColBillable
	ColRecording
	numColumns
)

// String is the column's header title.
func (c Column) String() string {
	switch c {
	case ColStart:
		return "Start"
	case ColType:
		return "Type"
	case ColExtension:
		return "Extension"
	case ColOther:
		return "Other party"
	case ColDisposition:
		return "Disposition"
	case ColDuration:
		return "Dur"
	case ColBillable:
		return "Bill"
	case ColRecording:
		return "Rec"
	}
	return "?"
}

// sortKey is the part of a record a column sorts by, extracted once so a sort reads a compact array rather than
// chasing a million records around memory.
type sortKey struct {
	n int64
	s string
	i int32 // record index: the tie-break that makes every sort stable with respect to load order
}

func keyOf(c Column, r *cdr.Record) (int64, string) {
	switch c {
	case ColStart:
		if r.Start.IsZero() {
			return math.MinInt64, ""
		}
		return r.Start.UnixNano(), ""
	case ColType:
		return 0, string(r.CallType)
	case ColExtension:
		return numericKey(r.Extension), r.Extension
	case ColOther:
		o := r.OtherParty()
		return numericKey(o), o
	case ColDisposition:
		return 0, string(r.Disposition)
	case ColDuration:
		return int64(r.DurationS), ""
	case ColBillable:
		return int64(r.BillableS), ""
	case ColRecording:
		return r.RecordingSize, ""
	}
	return 0, ""
}

// numericKey orders all-digit strings by value (so extension 99 comes before 100) and everything else after them.
func numericKey(s string) int64 {
	if s == "" || len(s) > 18 {
		return math.MaxInt64
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return math.MaxInt64
		}
		n = n*10 + int64(c-'0')
	}
	return n
}

func compareKeys(a, b sortKey, desc bool) int {
	c := cmp.Compare(a.n, b.n)
	if c == 0 {
		c = strings.Compare(a.s, b.s)
	}
	if desc {
		c = -c
	}
	if c == 0 {
		c = cmp.Compare(a.i, b.i)
	}
	return c
}

// sorter orders record indices by one column.
type sorter struct {
	recs []cdr.Record
	col  Column
	desc bool
	keys []sortKey // reused between sorts
	buf  []sortKey // the merge's second buffer, reused too: a fresh 40 MB per sort kept the GC (and its write
	// barriers on every key copied) busy for most of a million-row sort
}

func (s *sorter) key(i int32) sortKey {
	n, str := keyOf(s.col, &s.recs[i])
	return sortKey{n, str, i}
}

// sort reorders idx in place.
func (s *sorter) sort(idx []int32) {
	if cap(s.keys) < len(idx) {
		s.keys = make([]sortKey, len(idx))
	}
	keys := s.keys[:len(idx)]
	parallel(len(idx), func(lo, hi int) {
		for j := lo; j < hi; j++ {
			keys[j] = s.key(idx[j])
		}
	})
	desc := s.desc
	cmpf := func(a, b sortKey) int { return compareKeys(a, b, desc) }
	// Sort chunks on every core, then merge them pairwise: a million keys sort in a fraction of the time one
	// core takes.
	chunks := chunkBounds(len(keys))
	var wg sync.WaitGroup
	for _, c := range chunks {
		wg.Go(func() { slices.SortFunc(keys[c[0]:c[1]], cmpf) })
	}
	wg.Wait()
	if cap(s.buf) < len(keys) {
		s.buf = make([]sortKey, len(keys))
	}
	src, dst := keys, s.buf[:len(keys)]
	for len(chunks) > 1 {
		var next [][2]int
		var mwg sync.WaitGroup
		for k := 0; k < len(chunks); k += 2 {
			if k+1 == len(chunks) {
				c := chunks[k]
				copy(dst[c[0]:c[1]], src[c[0]:c[1]])
				next = append(next, c)
				continue
			}
			a, b := chunks[k], chunks[k+1]
			mwg.Go(func() { mergeKeys(dst[a[0]:b[1]], src[a[0]:a[1]], src[b[0]:b[1]], cmpf) })
			next = append(next, [2]int{a[0], b[1]})
		}
		mwg.Wait()
		chunks = next
		src, dst = dst, src
	}
	for j := range idx {
		idx[j] = src[j].i
	}
}

func mergeKeys(dst, a, b []sortKey, cmpf func(a, b sortKey) int) {
	i, j, k := 0, 0, 0
	for i < len(a) && j < len(b) {
		if cmpf(b[j], a[i]) < 0 {
			dst[k] = b[j]
			j++
		} else {
			dst[k] = a[i]
			i++
		}
		k++
	}
	k += copy(dst[k:], a[i:])
	copy(dst[k:], b[j:])
}

// insertSorted merges the sorted batch into the sorted dst and returns the result, plus how many batch entries
// landed at or before position pos of the old dst (so a cursor can stay on its row). Each batch entry costs a
// binary search, the rest a memmove: adding 2,000 rows to a million costs about a millisecond.
func (s *sorter) insertSorted(dst, batch []int32, pos int) ([]int32, int) {
	if len(batch) == 0 {
		return dst, 0
	}
	at := make([]int, len(batch))
	lo := 0
	for bi, r := range batch {
		k := s.key(r)
		p, _ := slices.BinarySearchFunc(dst[lo:], k, func(e int32, t sortKey) int {
			return compareKeys(s.key(e), t, s.desc)
		})
		lo += p
		at[bi] = lo
	}
	before := 0
	for _, p := range at {
		if p <= pos {
			before++
		}
	}
	out := slices.Grow(dst, len(batch))[:len(dst)+len(batch)]
	// Fill from the back so the shift happens in place.
	w := len(out)
	src := len(dst)
	for bi := len(batch) - 1; bi >= 0; bi-- {
		n := src - at[bi]
		w -= n
		copy(out[w:w+n], dst[at[bi]:src])
		src = at[bi]
		w--
		out[w] = batch[bi]
	}
	return out, before
}

// filterInto appends to dst the entries of idx whose record matches, keeping their order, using every core.
func filterInto(dst []int32, recs []cdr.Record, idx []int32, match func(*cdr.Record) bool) []int32 {
	if match == nil {
		return append(dst, idx...)
	}
	chunks := chunkBounds(len(idx))
	parts := make([][]int32, len(chunks))
	var wg sync.WaitGroup
	for ci, c := range chunks {
		wg.Go(func() {
			var out []int32
			for _, i := range idx[c[0]:c[1]] {
				if match(&recs[i]) {
					out = append(out, i)
				}
			}
			parts[ci] = out
		})
	}
	wg.Wait()
	for _, p := range parts {
		dst = append(dst, p...)
	}
	return dst
}

// chunkBounds splits n items into one range per core (a single range when n is small).
func chunkBounds(n int) [][2]int {
	k := runtime.GOMAXPROCS(0)
	if n < 16384 || k < 2 {
		return [][2]int{{0, n}}
	}
	size := (n + k - 1) / k
	var out [][2]int
	for lo := 0; lo < n; lo += size {
		out = append(out, [2]int{lo, min(lo+size, n)})
	}
	return out
}

func parallel(n int, fn func(lo, hi int)) {
	var wg sync.WaitGroup
	for _, c := range chunkBounds(n) {
		wg.Go(func() { fn(c[0], c[1]) })
	}
	wg.Wait()
}
