package calltable

import (
	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/tui/common"
)

// marks is a bitset over record indices: marking every one of a million shown rows is a pass over an array,
// not a million map inserts. Marks are carried across a refresh by the records' keys (see markKey).
type marks struct {
	bits []uint64
	n    int
}

func (m *marks) grow(n int) {
	if need := (n + 63) / 64; need > len(m.bits) {
		m.bits = append(m.bits, make([]uint64, need-len(m.bits))...)
	}
}

func (m *marks) has(i int32) bool {
	w := int(i) / 64
	return w < len(m.bits) && m.bits[w]&(1<<(uint(i)%64)) != 0
}

func (m *marks) set(i int32, on bool) {
	m.grow(int(i) + 1)
	w, b := int(i)/64, uint64(1)<<(uint(i)%64)
	was := m.bits[w]&b != 0
	switch {
	case on && !was:
		m.bits[w] |= b
		m.n++
	case !on && was:
		m.bits[w] &^= b
		m.n--
	}
}

func (m *marks) clear() {
	clear(m.bits)
	m.n = 0
}

func (m *marks) count() int { return m.n }

// markKey identifies a call across reloads (common.CallKey).
func markKey(r *cdr.Record) string { return common.CallKey(r) }
