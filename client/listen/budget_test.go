package listen

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// bigPush is a push of about size bytes: entries of about 8 KB (a long lastdata pads each), so the archive's
// work stays small and what is measured is the memory of the bodies in flight.
func bigPush(size int) ([]byte, int) {
	pad := strings.Repeat("x", 8000)
	var b bytes.Buffer
	b.WriteByte('[')
	n := 0
	for b.Len() < size-9000 {
		if n > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"call_id":"17069%05d.%d","source":"4001","destination":"2011","disposition":"ANSWERED",`+
			`"start_time":"2024-02-03 08:%02d:%02d","end_time":"2024-02-03 09:00:00","lastdata":%q}`, n, n, n/60%60, n%60, pad)
		n++
	}
	b.WriteByte(']')
	return b.Bytes(), n
}

// heapPeak samples the heap's live and not yet swept objects every millisecond until stop is closed.
func heapPeak(stop <-chan struct{}) <-chan uint64 {
	out := make(chan uint64, 1)
	go func() {
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		var peak uint64
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			peak = max(peak, s[0].Value.Uint64())
			select {
			case <-stop:
				out <- peak
				return
			case <-t.C:
			}
		}
	}()
	return out
}

// TestMemoryBudgetUnderConcurrentPushes: 30 pushes of 15 MB at once. The bodies held at any moment stay within
// the memory budget; the pushes over it are answered 503 with a Retry-After, and a pusher that waits that long
// and sends again gets every entry stored.
func TestMemoryBudgetUnderConcurrentPushes(t *testing.T) {
	if testing.Short() {
		t.Skip("pushes 450 MB")
	}
	const pushers, size = 30, 15 << 20
	body, entries := bigPush(size)
	r, a, srv := newReceiver(t, Options{Zone: zone, RetryAfter: time.Second})

	runtime.GC()
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	base := s[0].Value.Uint64()
	stop := make(chan struct{})
	peakc := heapPeak(stop)

	var busy, cut, retryAfterMissing atomic.Int64
	var wg sync.WaitGroup
	deadline := time.Now().Add(3 * time.Minute)
	for p := range pushers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				req, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(body))
				req.Header.Set("x-api-key", apiKey["x-api-key"])
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					// A push refused before its body was read can also end as a closed connection (the 503 is
					// sent, but the client is still writing and sees the close first): a PBX pushes again on its
					// next run, as it does after any failed push.
					cut.Add(1)
					if time.Now().After(deadline) {
						t.Errorf("pusher %d: %v", p, err)
						return
					}
					time.Sleep(time.Second + time.Duration(rand.IntN(300))*time.Millisecond)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return
				}
				if resp.StatusCode != http.StatusServiceUnavailable {
					t.Errorf("pusher %d: HTTP %d", p, resp.StatusCode)
					return
				}
				busy.Add(1)
				secs, err := strconv.Atoi(resp.Header.Get("Retry-After"))
				if err != nil || secs < 1 {
					retryAfterMissing.Add(1)
					secs = 1
				}
				if time.Now().After(deadline) {
					t.Errorf("pusher %d: still refused after 3 minutes", p)
					return
				}
				// Waiting as asked, plus a little, as PBXs that start together drift apart.
				time.Sleep(time.Duration(secs)*time.Second + time.Duration(rand.IntN(300))*time.Millisecond)
			}
		}()
	}
	wg.Wait()
	close(stop)
	peak := <-peakc
	grew := int64(peak) - int64(base)
	t.Logf("%d pushes of %.1f MB (%d entries each): heap peak %.0f MB over the %.0f MB before; %d answers 503, %d cut",
		pushers, float64(len(body))/(1<<20), entries, float64(grew)/(1<<20), float64(base)/(1<<20), busy.Load(), cut.Load())
	if busy.Load() == 0 {
		t.Error("no push was answered 503: the budget was never reached")
	}
	if retryAfterMissing.Load() > 0 {
		t.Errorf("%d answers 503 came without a Retry-After of whole seconds", retryAfterMissing.Load())
	}
	if n, _ := a.Count(context.Background()); n != entries || r.Received() != int64(pushers*entries) {
		t.Errorf("%d calls stored, %d received; want %d and %d", n, r.Received(), entries, pushers*entries)
	}
	// The budget bounds the bodies held; the heap may hold as much again in garbage before the collector runs,
	// plus what decoding and the archive use.
	if limit := int64(2*DefaultMemoryBudget + 64<<20); grew > limit {
		t.Errorf("the heap grew by %d MB under the pushes, over %d MB", grew>>20, limit>>20)
	}
}
