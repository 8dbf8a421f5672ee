package calltable

import (
	"runtime"
	"testing"

	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/tui/filter"
)

var benchRecs = map[int][]cdr.Record{}

func loaded(b *testing.B, n int) *Model {
	b.Helper()
	if benchRecs[n] == nil {
		benchRecs[n] = makeRecords(n)
	}
	m := newTable(200, 50)
	m.Append(benchRecs[n])
	// Settle the garbage of building the fixture so a background GC does not run inside the timings.
	runtime.GC()
	return m
}

// BenchmarkCursorMove is one cursor step (Update) plus the redraw (View); it must not grow with the row count.
func BenchmarkCursorMove(b *testing.B) {
	for _, n := range []int{1_000, 1_000_000} {
		b.Run(itoa(n), func(b *testing.B) {
			m := loaded(b, n)
			down, up := press("down"), press("up")
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				if i%200 < 100 {
					m.Update(down)
				} else {
					m.Update(up)
				}
				_ = m.View()
			}
		})
	}
}

// BenchmarkFilter applies a combined extension + free-text filter to a million rows and clears it again.
func BenchmarkFilter(b *testing.B) {
	m := loaded(b, 1_000_000)
	// The app's extension and search filter: extension 203's calls (source or destination) with "55" in them.
	match := filter.State{Extensions: []string{"203"}, Search: "55"}.Compile(nil, filter.Dialling{})
	b.Run("apply", func(b *testing.B) {
		for range b.N {
			m.SetFilter(match)
			b.StopTimer()
			m.SetFilter(nil)
			b.StartTimer()
		}
	})
	b.Run("clear", func(b *testing.B) {
		for range b.N {
			b.StopTimer()
			m.SetFilter(match)
			b.StartTimer()
			m.SetFilter(nil)
		}
	})
}

// BenchmarkSort sorts a million rows by a string column and by a number column.
func BenchmarkSort(b *testing.B) {
	m := loaded(b, 1_000_000)
	for _, c := range []Column{ColOther, ColDuration, ColStart} {
		b.Run(c.String(), func(b *testing.B) {
			for i := range b.N {
				m.SetSort(c, i%2 == 0)
			}
		})
	}
}

// BenchmarkAppendBatch is one streamed batch of 2,000 rows merged into a table already holding a million.
func BenchmarkAppendBatch(b *testing.B) {
	batch := makeRecords(2000)
	m := loaded(b, 1_000_000)
	b.ResetTimer()
	for range b.N {
		m.Append(batch)
	}
}

func itoa(n int) string {
	switch n {
	case 1_000:
		return "1k"
	case 1_000_000:
		return "1M"
	}
	return "n"
}
