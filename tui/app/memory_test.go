package app

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/callscope/callscope/client/cdr"
)

// liveHeap is the heap in use after a full collection.
func liveHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// madeSource makes its n calls of today as it sends them, holding none, so what a test measures is the app's.
// When pause is set it waits for it before the last call.
type madeSource struct {
	memSource
	n     int
	pause chan struct{}
}

func (s *madeSource) Calls(ctx context.Context, q cdr.Query, fn func(cdr.Record) error) (cdr.Result, error) {
	s.mu.Lock()
	pause := s.pause
	s.mu.Unlock()
	var res cdr.Result
	for i := range s.n {
		if i == s.n-1 && pause != nil {
			select {
			case <-pause:
			case <-ctx.Done():
				return res, ctx.Err()
			}
		}
		start := fixedNow().Add(-time.Duration(s.n-i) * time.Second)
		err := fn(cdr.Record{UniqueID: fmt.Sprintf("%d.%d", start.Unix(), i), Start: start, Epoch: start.Unix(),
			CallType: cdr.CallInbound, Extension: fmt.Sprint(201 + i%6), CallerID: fmt.Sprintf("082555%04d", i%10000),
			Disposition: cdr.DispAnswered, DurationS: i % 600, Channel: fmt.Sprintf("SIP/%d-%08x", 201+i%6, i)})
		if err != nil {
			return res, err
		}
		res.Rows++
	}
	return res, nil
}

// TestRefreshStagesRowsCompactly: while a refresh streams in, the new rows wait beside the old ones in the
// table's compact form, not as records (issue 13: a refresh of a million calls took the app from 330 MB to
// 1.5 GB). The rows held cost what the table's own rows cost, about a hundred bytes each here; a record alone
// is 272 bytes before its text.
func TestRefreshStagesRowsCompactly(t *testing.T) {
	const n = 50_000
	src := &madeSource{n: n}
	inWorld(t, func(t *testing.T) {
		h := newHarness(t, Options{Source: src}, 120, 40)
		h.idle()
		if got := h.m.table.Loaded(); got != n {
			t.Fatalf("loaded %d calls, want %d", got, n)
		}
		h.keys("space", "space") // two marks, which the refresh keeps

		// Refresh, and hold the answer before its last row: the rest has arrived and waits to be swapped in.
		pause := make(chan struct{})
		src.mu.Lock()
		src.pause = pause
		src.mu.Unlock()
		h.seen = nil // the harness's record of messages would hold every batch
		before := liveHeap()
		h.keys("r")
		h.waitFor("the refresh's rows", func() bool { return h.m.load.received >= n-1 })
		h.seen = nil
		perRow := (float64(liveHeap()) - float64(before)) / (n - 1)
		close(pause)
		h.idle()
		if perRow > 160 {
			t.Errorf("a refresh holds %.0f bytes per row until it is swapped in; want the table's compact form (under 160)", perRow)
		}
		if got := h.m.table.Loaded(); got != n || h.m.table.Marked() != 2 {
			t.Fatalf("after the refresh: %d calls, %d marked; want %d and 2", got, h.m.table.Marked(), n)
		}
	})
}
