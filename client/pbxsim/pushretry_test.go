package pbxsim

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestPushHonoursRetryAfter: a receiver over its memory budget answers 503 with Retry-After; the PBX waits
// that long and sends the same push again, within its run, instead of failing it.
func TestPushHonoursRetryAfter(t *testing.T) {
	var mu sync.Mutex
	var times []time.Time
	var bodies []string
	busyFor := 2
	retryAfter := "1"
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		times = append(times, time.Now())
		bodies = append(bodies, string(b))
		if len(times) <= busyFor {
			w.Header().Set("Retry-After", retryAfter)
			http.Error(w, "busy", http.StatusServiceUnavailable)
		}
	}))
	defer recv.Close()
	zone := DefaultLocation()
	end := time.Date(2026, 11, 20, 17, 0, 0, 0, zone)
	since := end.Add(-time.Hour)
	srv, err := Start(Options{Days: 1, End: end, CallsPerDay: 300, Zone: zone, Push: PushOptions{
		URL: recv.URL, Every: time.Hour, Since: since, Now: func() time.Time { return end }}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	res, err := srv.Push(context.Background())
	if err != nil || res.Sent == 0 {
		t.Fatalf("push: %+v, %v", res, err)
	}
	mu.Lock()
	if len(times) != 3 {
		t.Fatalf("%d attempts, want 3 (two refused, one stored)", len(times))
	}
	for i := 1; i < len(times); i++ {
		if d := times[i].Sub(times[i-1]); d < 900*time.Millisecond {
			t.Errorf("attempt %d came %v after the one refused with Retry-After: 1", i+1, d)
		}
		if bodies[i] != bodies[0] {
			t.Errorf("attempt %d sent another body", i+1)
		}
	}
	mu.Unlock()

	// A Retry-After longer than the time to the next run is left to that run: the push fails now, saying so,
	// without waiting.
	mu.Lock()
	times, bodies, busyFor, retryAfter = nil, nil, 100, "7200"
	mu.Unlock()
	srv.push.last = wallOf(since.In(zone)) // send the same calls again
	began := time.Now()
	_, err = srv.Push(context.Background())
	if err == nil || !strings.Contains(err.Error(), "503") || time.Since(began) > 5*time.Second {
		t.Errorf("push to a receiver busy for two hours: %v after %v", err, time.Since(began))
	}

	// Cancelling ends a wait at once.
	mu.Lock()
	times, busyFor, retryAfter = nil, 100, "30"
	mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	began = time.Now()
	if _, err := srv.Push(ctx); err == nil || time.Since(began) > 2*time.Second {
		t.Errorf("cancelled push: %v after %v", err, time.Since(began))
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"5", 5 * time.Second, true},
		{" 0 ", 0, true},
		{"Fri, 20 Nov 2026 12:00:30 GMT", 30 * time.Second, true},
		{"Fri, 20 Nov 2026 11:00:00 GMT", 0, true}, // in the past: now
		{"", 0, false},
		{"-1", 0, false},
		{"1.5", 0, false},
		{"soon", 0, false},
		{"99999999999", 0, false},
	} {
		got, ok := parseRetryAfter(tc.in, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"5", "0", "Fri, 20 Nov 2026 12:00:30 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "", "-3", "4294967295"} {
		f.Add(s)
	}
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		if d, ok := parseRetryAfter(v, now); d < 0 || (!ok && d != 0) {
			t.Fatalf("parseRetryAfter(%q) = %v, %v", v, d, ok)
		}
	})
}
