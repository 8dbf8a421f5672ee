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

// sortKey is what a column sorts by, extracted once so the sort orders two integers rather than chasing a
// million records (or comparing their strings) around memory. hi then lo order the rows, as unsigned numbers,
// already reversed for a descending sort; only two long strings whose first bytes agree are compared in full.
type sortKey struct {
	hi, lo uint64
	i      int32 // row index: the tie-break that makes every sort stable with respect to load order
	full   bool  // lo holds the first bytes of a longer string: equal keys still need the strings compared
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

// stringKey orders strings as strings.Compare does, except that all-digit strings come first, by value.
func stringKey(s string) (n int64, p uint64, full bool) {
	if n := numericKey(s); n != math.MaxInt64 {
		// Digits are their value plus their length, ordered as bytes order them: among equal values more
		// leading zeros sort first ("0082" < "082"), except for zero itself, where the shorter string is a
		// prefix of the longer ("0" < "00").
		if n == 0 {
			return n, uint64(len(s)), false
		}
		return n, math.MaxUint64 - uint64(len(s)), false
	}
	// The first seven bytes, then the length up to 8. Two strings of up to seven bytes are fully ordered by
	// this; a shorter string whose bytes begin a longer one sorts first; two of eight or more bytes that agree
	// on the first seven are compared in full.
	for k := 0; k < 7; k++ {
		p <<= 8
		if k < len(s) {
			p |= uint64(s[k])
		}
	}
	l := min(len(s), 8)
	return math.MaxInt64, p<<8 | uint64(l), l == 8
}

// sorter orders row indices by one column.
type sorter struct {
	st   *store
	col  Column
	desc bool

	// rank orders the interned words of a word column (type, extension, disposition) so their rows sort by one
	// integer; built for rankCol over the first rankN words and rebuilt when new words arrive.
	rank    []int64
	rankCol Column
	rankN   int
}

// key is row i's key for the current column; prepare must have run.
func (s *sorter) key(i int32) sortKey {
	st := s.st
	var n int64
	var p uint64
	var full bool
	switch s.col {
	case ColStart:
		n = st.startNanos(i)
	case ColType, ColExtension, ColDisposition:
		n = s.rank[st.row(i).words[wordField(s.col)]]
	case ColOther:
		n, p, full = stringKey(st.otherParty(i))
	case ColDuration:
		n = st.number(i, nDuration)
	case ColBillable:
		n = st.number(i, nBillable)
	case ColRecording:
		n = st.number(i, nRecordingSize)
	}
	k := sortKey{hi: uint64(n) ^ 1<<63, lo: p, i: i, full: full}
	if s.desc {
		k.hi, k.lo = ^k.hi, ^k.lo
	}
	return k
}

func wordField(c Column) int {
	switch c {
	case ColType:
		return wCallType
	case ColExtension:
		return wExtension
	}
	return wDisposition
}

// prepare readies the word ranks for the current column; call it before keys are taken.
func (s *sorter) prepare() {
	switch s.col {
	case ColType, ColExtension, ColDisposition:
	default:
		return
	}
	words := s.st.words
	if s.rankCol == s.col && s.rankN == len(words) && s.rank != nil {
		return
	}
	type wordKey struct {
		n    int64
		p    uint64
		full bool
	}
	ids := make([]int32, len(words))
	keys := make([]wordKey, len(words))
	for id, w := range words {
		ids[id] = int32(id)
		n, p, full := stringKey(w)
		keys[id] = wordKey{n, p, full}
	}
	slices.SortFunc(ids, func(a, b int32) int {
		ka, kb := keys[a], keys[b]
		if c := cmp.Compare(ka.n, kb.n); c != 0 {
			return c
		}
		if c := cmp.Compare(ka.p, kb.p); c != 0 {
			return c
		}
		return strings.Compare(words[a], words[b])
	})
	s.rank = slices.Grow(s.rank[:0], len(words))[:len(words)]
	for r, id := range ids {
		s.rank[id] = int64(r) // words are interned, so no two are equal and ranks are distinct
	}
	s.rankCol, s.rankN = s.col, len(words)
}

// compare orders two keys of the current sort; equal keys keep row order.
func (s *sorter) compare(a, b sortKey) int {
	if a.hi != b.hi {
		return cmp.Compare(a.hi, b.hi)
	}
	if a.lo != b.lo {
		return cmp.Compare(a.lo, b.lo)
	}
	if a.full && b.full {
		c := strings.Compare(s.fullString(a.i), s.fullString(b.i))
		if s.desc {
			c = -c
		}
		if c != 0 {
			return c
		}
	}
	return cmp.Compare(a.i, b.i)
}

// fullString is the string a row's key was taken from, for keys that need it compared in full.
func (s *sorter) fullString(i int32) string {
	if s.col == ColOther {
		return s.st.otherParty(i)
	}
	return "" // word columns and numbers are fully ordered by their keys
}

// sort reorders idx in place.
func (s *sorter) sort(idx []int32) {
	s.prepare()
	n := len(idx)
	if n < 2 {
		return
	}
	keys := make([]sortKey, n)
	switch {
	case n == s.st.len():
		// Every row (a new sort of the whole table): take the keys in row order, which reads the store
		// front to back and leaves equal keys in row order for the stable radix sort.
		parallel(n, func(lo, hi int) {
			for j := lo; j < hi; j++ {
				keys[j] = s.key(int32(j))
			}
		})
	case slices.IsSorted(idx):
		parallel(n, func(lo, hi int) {
			for j := lo; j < hi; j++ {
				keys[j] = s.key(idx[j])
			}
		})
	default:
		for j, i := range idx {
			keys[j] = s.key(i)
		}
		slices.SortFunc(keys, s.compare)
		for j := range idx {
			idx[j] = keys[j].i
		}
		return
	}
	switch {
	case slices.IsSortedFunc(keys, s.compare):
		// Already in order: a table sorted by start time that got its rows in time order.
	case isReversed(keys):
		// Strictly in reverse (no two keys equal, so no ties to keep in row order): newest first, as loaded.
		slices.Reverse(keys)
	default:
		keys = radixSort(keys, make([]sortKey, n))
	}
	// Runs of keys that agree on hi and lo but stand for longer strings are put in string order.
	for lo := 0; lo < n; {
		hi := lo + 1
		for hi < n && keys[hi].hi == keys[lo].hi && keys[hi].lo == keys[lo].lo {
			hi++
		}
		if hi-lo > 1 && keys[lo].full {
			slices.SortFunc(keys[lo:hi], s.compare)
		}
		lo = hi
	}
	for j := range idx {
		idx[j] = keys[j].i
	}
}

// isReversed reports whether keys strictly descend by (hi, lo), with no long strings left to compare.
func isReversed(keys []sortKey) bool {
	for j := 1; j < len(keys); j++ {
		a, b := keys[j-1], keys[j]
		if a.hi < b.hi || a.hi == b.hi && (a.lo <= b.lo || a.full || b.full) {
			return false
		}
	}
	return true
}

// radixSort sorts keys by (hi, lo), stably, a byte at a time from the least significant, skipping the bytes
// every key shares. It returns whichever of keys and buf holds the result. A million keys take a few passes of
// a few milliseconds each, where a comparison sort took a quarter of a second.
func radixSort(keys, buf []sortKey) []sortKey {
	// Count every byte position in one pass, a part per core.
	var counts [16][256]int
	parts := chunkBounds(len(keys))
	partial := make([][16][256]int, len(parts))
	var wg sync.WaitGroup
	for p, r := range parts {
		wg.Go(func() {
			c := &partial[p]
			for _, k := range keys[r[0]:r[1]] {
				for b := range 8 {
					c[b][byte(k.lo>>(8*b))]++
					c[8+b][byte(k.hi>>(8*b))]++
				}
			}
		})
	}
	wg.Wait()
	for _, c := range partial {
		for d := range counts {
			for v := range counts[d] {
				counts[d][v] += c[d][v]
			}
		}
	}
	src, dst := keys, buf
	for d := range 16 {
		c := &counts[d]
		skip := false
		for _, v := range c {
			if v == len(keys) {
				skip = true // every key has the same byte here
				break
			}
			if v != 0 {
				break
			}
		}
		if skip {
			continue
		}
		var pos [256]int
		sum := 0
		for v, k := range c {
			pos[v] = sum
			sum += k
		}
		shift := uint(8 * (d % 8))
		if d < 8 {
			for _, k := range src {
				b := byte(k.lo >> shift)
				dst[pos[b]] = k
				pos[b]++
			}
		} else {
			for _, k := range src {
				b := byte(k.hi >> shift)
				dst[pos[b]] = k
				pos[b]++
			}
		}
		src, dst = dst, src
	}
	return src
}

// insertSorted merges the sorted batch into the sorted dst and returns the result, plus how many batch entries
// landed at or before position pos of the old dst (so a cursor can stay on its row). Each batch entry costs a
// binary search, the rest a memmove: adding 2,000 rows to a million costs about a millisecond.
func (s *sorter) insertSorted(dst, batch []int32, pos int) ([]int32, int) {
	if len(batch) == 0 {
		return dst, 0
	}
	s.prepare()
	at := make([]int, len(batch))
	lo := 0
	for bi, r := range batch {
		k := s.key(r)
		p, _ := slices.BinarySearchFunc(dst[lo:], k, func(e int32, t sortKey) int {
			return s.compare(s.key(e), t)
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
// match sees each record in a scratch value it must not keep.
func filterInto(dst []int32, st *snapshot, idx []int32, match func(*cdr.Record) bool) []int32 {
	if match == nil {
		return append(dst, idx...)
	}
	chunks := chunkBounds(len(idx))
	parts := make([][]int32, len(chunks))
	var wg sync.WaitGroup
	for ci, c := range chunks {
		wg.Go(func() {
			var out []int32
			var r cdr.Record
			for _, i := range idx[c[0]:c[1]] {
				st.load(i, &r)
				if match(&r) {
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
