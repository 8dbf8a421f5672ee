package calltable

import (
	"math"
	"math/bits"
	"slices"
	"sync/atomic"

	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/tui/filter"
)

// rowFilter runs a filter.Compiled over the compact rows without building records: the filter's Kind once per
// kind of row (a few hundred for a year of calls), then its Row with the row's own numbers and text, read in
// place, for the rows their kind has not decided. It keeps the answer for every loaded row as a bitset, so a new
// sort shows the filtered rows by reading bits instead of filtering again.
type rowFilter struct {
	c        *filter.Compiled
	kinds    []filter.Kind // c.Kind of the store's first len(kinds) kinds
	verdicts []verdict     // what each kind decides
	pass     []uint64      // bit i: row i passes; kept for every loaded row while c is set
	touched  atomic.Uint32 // see decideWord
}

// verdict is what a row's kind decides about it.
type verdict uint8

const (
	rejected verdict = iota
	accepted
	undecided // the row's own fields decide
)

// set starts filtering by c (nil: no filter) and decides every row of st. The buffers of the last filter are
// reused.
func (f *rowFilter) set(c *filter.Compiled, st *snapshot) {
	f.c = c
	f.kinds, f.verdicts = f.kinds[:0], f.verdicts[:0]
	if c != nil {
		f.decide(st, 0, st.n)
	}
}

// decide sets the bits of rows lo to hi, on every core when there are many.
func (f *rowFilter) decide(st *snapshot, lo, hi int) {
	f.learnKinds(st)
	if need := (st.n + 63) / 64; need > len(f.pass) {
		f.pass = slices.Grow(f.pass, need-len(f.pass))[:need] // keeps the bits of the rows before lo
	}
	// Whole words on every core; the rows at the ends that share a word with rows outside the range first.
	a, b := min((lo+63)&^63, hi), max(hi&^63, lo)
	if b < a {
		b = a
	}
	for i := lo; i < a; i++ {
		f.decideRow(st, int32(i))
	}
	for i := b; i < hi; i++ {
		f.decideRow(st, int32(i))
	}
	if hi == st.n && hi%64 != 0 {
		f.pass[hi/64] &= 1<<(hi%64) - 1 // no bits left over from an earlier, longer store: count counts words
	}
	if b == a {
		return
	}
	parallel(b-a, func(_, l, h int) { // l and h are multiples of 64 (chunkBounds), and so is a
		var touched byte
		for w := (a + l) / 64; w*64 < a+h; w++ {
			var t byte
			f.pass[w], t = f.decideWord(st, w)
			touched ^= t
		}
		f.touched.Add(uint32(touched))
	})
}

// decideWord decides rows 64w to 64w+63, all loaded.
//
// Most rows are decided by their kind alone. The rest may need their text, which lies in memory the processor
// has not read yet: tested one by one, each waited for memory before the next began (90 ns a row when one row
// in seven needed it). So the kinds are looked at first, and the first text byte of each row the filter will
// read is loaded on the way; those loads run side by side, and the tests then find the text in the cache. The
// bytes loaded are returned only so that the loads are not optimised away.
func (f *rowFilter) decideWord(st *snapshot, w int) (pass uint64, touched byte) {
	var need uint64
	first, last := uint32(math.MaxUint32), uint32(0) // the text the tests will read: from, to
	for j := range 64 {
		r := st.row(int32(w*64 + j))
		switch f.verdicts[r.kind] {
		case accepted:
			pass |= 1 << j
		case undecided:
			need |= 1 << j
			if r.flags&flagWhole == 0 && f.c.ReadsText(f.kinds[r.kind], int(r.lens[tDialled])) {
				first, last = min(first, r.text), max(last, r.text)
			}
		}
	}
	if first <= last && first>>blockBits == last>>blockBits {
		blk := st.blocks[first>>blockBits]
		for p := first & (blockLen - 1) &^ 63; p <= last&(blockLen-1); p += 64 {
			touched ^= blk[p]
		}
	}
	for ; need != 0; need &= need - 1 {
		j := bits.TrailingZeros64(need)
		if f.match(st, int32(w*64+j)) {
			pass |= 1 << j
		}
	}
	return pass, touched
}

func (f *rowFilter) decideRow(st *snapshot, i int32) {
	if f.match(st, i) {
		f.pass[i>>6] |= 1 << (i & 63)
	} else {
		f.pass[i>>6] &^= 1 << (i & 63)
	}
}

// reset forgets the rows (a new store), keeping the filter and the buffers.
func (f *rowFilter) reset() {
	f.kinds, f.verdicts = f.kinds[:0], f.verdicts[:0]
	f.pass = f.pass[:0]
}

// learnKinds decides the kinds of rows that arrived since the last call.
func (f *rowFilter) learnKinds(st *snapshot) {
	for k := len(f.kinds); k < len(st.kinds); k++ {
		w, words := &st.kinds[k].words, st.words
		k := f.c.Kind(cdr.CallType(words[w[wCallType]]), words[w[wExtension]],
			cdr.Disposition(words[w[wDisposition]]), words[w[wFriendlyName]])
		v := undecided
		switch {
		case k.Rejects():
			v = rejected
		case f.c.Accepts(k):
			v = accepted
		}
		f.kinds, f.verdicts = append(f.kinds, k), append(f.verdicts, v)
	}
}

// match reports whether row i passes; learnKinds must have seen its kind.
func (f *rowFilter) match(st *snapshot, i int32) bool {
	w := st.row(i)
	k := f.kinds[w.kind]
	if k.Rejects() {
		return false
	}
	if w.flags&flagWhole != 0 {
		return f.c.Match(st.whole[w.text])
	}
	blk := st.blocks[w.text>>blockBits]
	off := int(w.text & (blockLen - 1))
	id, off := cut(blk, off, w.lens[tUniqueID])
	dialled, off := cut(blk, off, w.lens[tDialled])
	caller, off := cut(blk, off, w.lens[tCallerID])
	off += int(w.lens[tRecording])
	account, _ := cut(blk, off, w.lens[tAccount])
	return f.c.Row(k, int(w.dur), dialled, caller, id, account)
}

// add decides the rows that arrived, from to the end of st, and appends to dst the entries of idx (those rows,
// in any order) that pass.
func (f *rowFilter) add(dst []int32, st *snapshot, from int, idx []int32) []int32 {
	if f.c == nil {
		return append(dst, idx...)
	}
	f.decide(st, from, st.n)
	return f.pick(dst, idx)
}

// count is the number of rows that pass.
func (f *rowFilter) count(n int) int {
	if f.c == nil {
		return n
	}
	c := 0
	for _, w := range f.pass {
		c += bits.OnesCount64(w)
	}
	return c
}

// pick appends to dst the entries of order that pass, in order.
func (f *rowFilter) pick(dst, order []int32) []int32 {
	if f.c == nil {
		return append(dst, order...)
	}
	pass := f.pass
	for _, i := range order {
		if pass[i>>6]&(1<<(i&63)) != 0 {
			dst = append(dst, i)
		}
	}
	return dst
}
