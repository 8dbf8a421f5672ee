package pbxsim

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callscope/callscope/client/cdr"
)

func TestPushSendsCallsThatEnded(t *testing.T) {
	var mu sync.Mutex
	var got []difuseRow
	var fail atomic.Bool
	var auth []string
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if fail.Load() {
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		var rows []difuseRow
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &rows); err != nil {
			t.Errorf("body is not an array of rows: %v", err)
		}
		mu.Lock()
		got = append(got, rows...)
		u, p, _ := r.BasicAuth()
		auth = []string{r.Method, r.Header.Get("x-api-key"), r.Header.Get("Authorization"), u, p}
		mu.Unlock()
	}))
	defer recv.Close()

	zone := DefaultLocation()
	end := time.Date(2026, 11, 20, 17, 0, 0, 0, zone)
	now := end.Add(-2 * time.Hour)
	var clock atomic.Pointer[time.Time]
	clock.Store(&now)
	srv, err := Start(Options{Days: 2, End: end, CallsPerDay: 300, Zone: zone, Push: PushOptions{
		URL: recv.URL, Every: time.Hour, Method: http.MethodPut, APIKey: "k", User: "u", Password: "p",
		Since: now, Now: func() time.Time { return *clock.Load() }}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ctx := context.Background()

	// Nothing has ended since the job started.
	if res, err := srv.Push(ctx); err != nil || res.Sent != 0 {
		t.Fatalf("first push: %+v %v", res, err)
	}
	// An hour on: the calls that ended in that hour, and only those.
	later := now.Add(time.Hour)
	clock.Store(&later)
	want := map[string]bool{}
	srv.Calls(now.Add(-24*time.Hour), later, func(r cdr.Record) bool {
		ended := r.Start.Add(time.Duration(r.DurationS) * time.Second)
		if ended.After(now) && !ended.After(later) {
			want[r.UniqueID] = true
		}
		return true
	})
	fail.Store(true)
	if _, err := srv.Push(ctx); err == nil {
		t.Fatal("a push to a failing receiver reported success")
	}
	fail.Store(false)
	res, err := srv.Push(ctx)
	if err != nil || res.Sent != len(want) || len(want) == 0 {
		t.Fatalf("push after the failure: %+v %v, want %d calls", res, err, len(want))
	}
	mu.Lock()
	defer mu.Unlock()
	for _, r := range got {
		if !want[r.CallID] {
			t.Fatalf("pushed call %s, which did not end in the hour", r.CallID)
		}
		delete(want, r.CallID)
	}
	if len(want) != 0 {
		t.Fatalf("%d calls not pushed", len(want))
	}
	if auth[0] != http.MethodPut || auth[1] != "k" || auth[3] != "u" || auth[4] != "p" {
		t.Fatalf("request %v", auth)
	}
	// Pushing again sends nothing new.
	if res, err := srv.Push(ctx); err != nil || res.Sent != 0 {
		t.Fatalf("repeat push: %+v %v", res, err)
	}
}
