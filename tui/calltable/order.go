package calltable

import (
	"cmp"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"
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

	// rank orders every interned word (type, extension, disposition are words) so a word column sorts by one
	// integer; built over the first rankN words and rebuilt when new words arrive.
	rank  []int64
	rankN int

	// Scratch for sorting every row, kept from sort to sort: a key per row in row order (and the second word
	// of a string column's keys), the permutation being built, and the byte counts. Once they have grown, a
	// sort of a million rows allocates nothing; before, each left 48 MB of garbage that the process did not
	// give back.
	his, los []uint64
	perm     []int32
	counts   [][16][256]int
}

// reset points the sorter at a new store, keeping its column, direction and scratch.
func (s *sorter) reset(st *store) {
	s.st = st
	s.rank, s.rankN = s.rank[:0], 0
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
		n = s.rank[st.kinds[st.row(i).kind].words[wordField(s.col)]]
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

// prepare readies the word ranks; call it before keys are taken.
func (s *sorter) prepare() {
	switch s.col {
	case ColType, ColExtension, ColDisposition:
	default:
		return
	}
	words := s.st.words
	if s.rankN == len(words) && s.rank != nil {
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
	s.rankN = len(words)
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

// sort reorders idx in place. idx holds every row (a new sort of the table), or a batch of new rows.
func (s *sorter) sort(idx []int32) {
	s.prepare()
	switch n := len(idx); {
	case n < 2:
	case n == s.st.len():
		s.sortAll(idx)
	default:
		// A streamed batch: a few thousand rows, ordered by comparison.
		keys := make([]sortKey, n)
		for j, i := range idx {
			keys[j] = s.key(i)
		}
		slices.SortFunc(keys, s.compare)
		for j := range idx {
			idx[j] = keys[j].i
		}
	}
}

// sortAll sets out (one entry per row) to every row in the column's order, ties in row order.
//
// The keys are taken once per row, in row order, which reads the store front to back; then a radix sort of the
// row numbers by their keys, a byte at a time from the least significant, skipping the bytes every key shares:
// a million rows take a few passes of a few milliseconds, where a comparison sort took a quarter of a second.
// Being stable, it leaves equal keys in row order.
func (s *sorter) sortAll(out []int32) {
	n := len(out)
	text := s.col == ColOther
	s.his = grow(s.his, n)
	if text {
		s.los = grow(s.los, n)
	}
	his, los := s.his, s.los
	parallel(n, func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			k := s.key(int32(i))
			his[i] = k.hi
			if text {
				los[i] = k.lo
			}
		}
	})
	switch {
	case s.inOrder(false):
		// Already in order: a table sorted by start time that got its rows in time order.
		for i := range out {
			out[i] = int32(i)
		}
	case s.inOrder(true):
		// Strictly in reverse (no two keys equal, so no ties to keep in row order): newest first, as loaded.
		for i := range out {
			out[i] = int32(n - 1 - i)
		}
	default:
		s.radixSort(out, text)
	}
	if text {
		s.orderLongStrings(out)
	}
}

// radixSort sets out to the row numbers ordered by their keys, stably.
func (s *sorter) radixSort(out []int32, text bool) {
	n := len(out)
	his, los := s.his, s.los
	s.perm = grow(s.perm, n)
	src, dst := s.perm, out
	for i := range src {
		src[i] = int32(i)
	}
	counts := s.count(text)
	// The low word's bytes first (string columns), then the high word's: least significant first.
	for d := 15; d >= 0; d-- {
		keys := his
		if d >= 8 {
			if !text {
				continue
			}
			keys = los
		}
		c := &counts[d]
		if c[byte(keys[0]>>(8*(7-d%8)))] == n {
			continue // every key has the same byte here
		}
		var pos [256]int
		sum := 0
		for v, k := range c {
			pos[v] = sum
			sum += k
		}
		shift := uint(8 * (7 - d%8))
		for _, i := range src {
			b := byte(keys[i] >> shift)
			dst[pos[b]] = i
			pos[b]++
		}
		src, dst = dst, src
	}
	if &src[0] != &out[0] {
		copy(out, src)
	}
}

// count is how often each byte value occurs at each byte position of the keys (0-7: the high word from its
// most significant byte, 8-15: the low word), counted a part per core.
func (s *sorter) count(text bool) *[16][256]int {
	parts := chunkBounds(len(s.his))
	s.counts = grow(s.counts, len(parts)+1)
	clear(s.counts)
	parallel(len(s.his), func(p, lo, hi int) {
		c := &s.counts[1+p]
		for _, k := range s.his[lo:hi] {
			for b := range 8 {
				c[b][byte(k>>(8*(7-b)))]++
			}
		}
		if text {
			for _, k := range s.los[lo:hi] {
				for b := range 8 {
					c[8+b][byte(k>>(8*(7-b)))]++
				}
			}
		}
	})
	total := &s.counts[0]
	for _, c := range s.counts[1:] {
		for d := range total {
			for v := range total[d] {
				total[d][v] += c[d][v]
			}
		}
	}
	return total
}

// inOrder reports whether the keys, in row order, ascend (ties allowed) or strictly descend.
func (s *sorter) inOrder(descending bool) bool {
	his, los := s.his, s.los
	text := s.col == ColOther
	for i := 1; i < len(his); i++ {
		a, b := his[i-1], his[i]
		var al, bl uint64
		if text {
			al, bl = los[i-1], los[i]
		}
		if descending {
			if a < b || a == b && al <= bl {
				return false
			}
		} else if a > b || a == b && al > bl {
			return false
		}
	}
	return true
}

// orderLongStrings puts runs of rows whose keys agree but stand for strings longer than a key holds in full
// string order (ties still in row order). Every other run is already in order.
func (s *sorter) orderLongStrings(out []int32) {
	n := len(out)
	for lo := 0; lo < n; {
		k := s.keyAt(out[lo])
		hi := lo + 1
		for hi < n && s.his[out[hi]] == k.hi && s.los[out[hi]] == k.lo {
			hi++
		}
		if hi-lo > 1 && s.key(out[lo]).full {
			slices.SortFunc(out[lo:hi], func(a, b int32) int { return s.compare(s.key(a), s.key(b)) })
		}
		lo = hi
	}
}

// keyAt is row i's key as sortAll took it.
func (s *sorter) keyAt(i int32) sortKey { return sortKey{hi: s.his[i], lo: s.los[i], i: i} }

// grow is buf with length n, reallocated only when it is too small.
func grow[T any](buf []T, n int) []T {
	if cap(buf) < n {
		return make([]T, n)
	}
	return buf[:n]
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

// chunkBounds splits n items into one range per core (a single range when n is small). Ranges start at
// multiples of 64, so parts of a bitset over the items never share a word.
func chunkBounds(n int) [][2]int {
	k := runtime.GOMAXPROCS(0)
	if n < 16384 || k < 2 {
		return [][2]int{{0, n}}
	}
	size := ((n+k-1)/k + 63) &^ 63
	var out [][2]int
	for lo := 0; lo < n; lo += size {
		out = append(out, [2]int{lo, min(lo+size, n)})
	}
	return out
}

// parallel runs fn over n items split by chunkBounds, each part on its own goroutine; p numbers the parts.
func parallel(n int, fn func(p, lo, hi int)) {
	var wg sync.WaitGroup
	for p, c := range chunkBounds(n) {
		wg.Go(func() { fn(p, c[0], c[1]) })
	}
	wg.Wait()
}
