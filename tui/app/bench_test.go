package app

import (
	"runtime"
	"strconv"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/callscope/callscope/client/pbxsim"
	"github.com/callscope/callscope/tui/filter"
)

// loadedApp is the whole app at 200×50 with n calls in its table, as if they had streamed in.
func loadedApp(b *testing.B, n int) *Model {
	b.Helper()
	dark := true
	m := New(Options{Source: &memSource{}, Now: fixedNow, Dark: &dark})
	m.Update(tea.WindowSizeMsg{Width: 200, Height: 50})
	// Streamed in as the app gets them, so only the table's copy stays alive.
	recs := makeRecords(n, fixedNow())
	for lo := 0; lo < n; lo += batchRows {
		m.table.Append(recs[lo:min(n, lo+batchRows)])
	}
	recs = nil
	m.rowsDirty = true
	m.Update(nil)
	_ = m.View()
	runtime.GC()
	return m
}

// BenchmarkCursorMove is one key press through the root (Update, with the status and detail sync) and the
// whole frame (View); it must cost the same with a thousand rows as with a million.
func BenchmarkCursorMove(b *testing.B) {
	for _, n := range []int{1_000, 1_000_000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			m := loadedApp(b, n)
			down, up := press("down"), press("up")
			b.ReportAllocs()
			b.ResetTimer()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			b.ReportMetric(float64(ms.HeapInuse)/1e6, "MB-heap")
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

// BenchmarkFilter applies an extension + search filter to a million rows through the root, then clears it.
func BenchmarkFilter(b *testing.B) {
	m := loadedApp(b, 1_000_000)
	set := filter.Changed{State: filter.State{Extensions: []string{"203"}, Search: "55"}}
	clear := filter.Changed{}
	b.Run("apply", func(b *testing.B) {
		for range b.N {
			m.Update(set)
			b.StopTimer()
			m.Update(clear)
			b.StartTimer()
		}
	})
	b.Run("clear", func(b *testing.B) {
		for range b.N {
			b.StopTimer()
			m.Update(set)
			b.StartTimer()
			m.Update(clear)
		}
	})
}

// BenchmarkSearchNumber is a search on a million rows, no other filter, written as digits (the plain text
// search) and as an international number (the phone-number search: every number field of every row scanned).
func BenchmarkSearchNumber(b *testing.B) {
	m := loadedApp(b, 1_000_000)
	m.o.CountryCode = "27"
	for _, q := range []string{"08255500x9", "0825550009", "+27 82 555 0009"} {
		set := filter.Changed{State: filter.State{Search: q}}
		b.Run(q, func(b *testing.B) {
			for range b.N {
				m.Update(set)
				b.StopTimer()
				m.Update(filter.Changed{})
				b.StartTimer()
			}
		})
	}
}

// BenchmarkSort is `s` on a million rows: the next column, the whole order rebuilt.
func BenchmarkSort(b *testing.B) {
	m := loadedApp(b, 1_000_000)
	s := press("s")
	b.ResetTimer()
	for range b.N {
		m.Update(s)
	}
}

// BenchmarkStartup is New and Init against the simulator until the first frame that shows calls: the users
// list and the day's index over HTTP through the Com.X client, parsing, zone inference, the table.
func BenchmarkStartup(b *testing.B) {
	w := startSim(b, pbxsim.Options{}, pbxsim.DefaultComxPassword)
	dark := true
	b.ResetTimer()
	for range b.N {
		o := Options{Source: comxSource(b, w.srv.URL(), pbxsim.DefaultComxPassword), Now: w.now, Dark: &dark}
		h := firstFrame(b, o)
		b.StopTimer()
		h.m.quit()
		b.StartTimer()
	}
}

// firstFrame starts the app with o at 120×40, handles its messages until the table holds calls, and draws that
// frame: start-up as a person sees it.
func firstFrame(b *testing.B, o Options) *harness {
	b.Helper()
	h := &harness{t: b, m: New(o), msgs: make(chan tea.Msg, 1024)}
	h.handle(tea.WindowSizeMsg{Width: 120, Height: 40})
	h.exec(h.m.Init())
	deadline := time.After(10 * time.Second)
	for h.m.table.Loaded() == 0 {
		select {
		case msg := <-h.msgs:
			h.handle(msg)
		case <-deadline:
			b.Fatal("no rows within 10 s")
		}
	}
	_ = h.m.View()
	return h
}
