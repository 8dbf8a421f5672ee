package transport

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"
)

// TestDateObserver: every answer's Date header reaches the observer of the request's context, 2xx or not;
// a missing or unreadable one reports nothing, and a context without an observer costs nothing.
func TestDateObserver(t *testing.T) {
	pbxClock := time.Date(2014, 3, 28, 10, 0, 5, 0, time.UTC)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/none":
			w.Header()["Date"] = nil
		case "/garbage":
			w.Header().Set("Date", "about noon")
		default:
			w.Header().Set("Date", pbxClock.Format(http.TimeFormat))
		}
		if r.URL.Path == "/fail" {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	c, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path string
		want []time.Time
	}{
		{"/ok", []time.Time{pbxClock}},
		{"/fail", []time.Time{pbxClock}},
		{"/none", nil},
		{"/garbage", nil},
	} {
		var mu sync.Mutex
		var got []time.Time
		ctx := WithDateObserver(context.Background(), func(d time.Time) {
			mu.Lock()
			got = append(got, d)
			mu.Unlock()
		})
		u, _ := url.Parse(srv.URL + tc.path)
		resp, err := c.Get(ctx, Request{URL: u})
		if err == nil {
			resp.Body.Close()
		}
		if len(got) != len(tc.want) || (len(got) == 1 && !got[0].Equal(tc.want[0])) {
			t.Errorf("%s: observed %v, want %v", tc.path, got, tc.want)
		}
	}
	u, _ := url.Parse(srv.URL + "/ok")
	if resp, err := c.Get(context.Background(), Request{URL: u}); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
	}
}

// TestPBXClock: the client keeps the PBX's clock as its latest answer's Date said it, advanced by the time since
// (by this computer's monotonic clock, whatever its wall clock says), from answers of the configured PBX only,
// 2xx or not; before any answer, or from answers without a Date, it knows none.
func TestPBXClock(t *testing.T) {
	pbxNow := time.Date(2014, 3, 28, 10, 0, 5, 0, time.UTC)
	pbx := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/none":
			w.Header()["Date"] = nil
		case "/fail":
			w.Header().Set("Date", pbxNow.Add(time.Hour).Format(http.TimeFormat))
			w.WriteHeader(http.StatusInternalServerError)
			return
		default:
			w.Header().Set("Date", pbxNow.Format(http.TimeFormat))
		}
		io.WriteString(w, "ok")
	}))
	defer pbx.Close()
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Date", time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC).Format(http.TimeFormat))
		io.WriteString(w, "a recording on another host")
	}))
	defer elsewhere.Close()
	c, err := New(Config{Origin: mustURL(t, pbx.URL)})
	if err != nil {
		t.Fatal(err)
	}
	clock, ok := any(c).(interface{ PBXClock() (time.Time, bool) })
	if !ok {
		t.Fatal("the client does not keep the PBX's clock")
	}
	get := func(raw string) {
		resp, err := c.Get(context.Background(), Request{URL: mustURL(t, raw)})
		if err == nil {
			resp.Body.Close()
		}
	}
	if got, ok := clock.PBXClock(); ok {
		t.Fatalf("before any answer: %v", got)
	}
	get(pbx.URL + "/none")
	if got, ok := clock.PBXClock(); ok {
		t.Fatalf("after an answer without a Date: %v", got)
	}
	get(pbx.URL + "/ok")
	time.Sleep(50 * time.Millisecond)
	got, ok := clock.PBXClock()
	if !ok || got.Before(pbxNow.Add(50*time.Millisecond)) || got.After(pbxNow.Add(5*time.Second)) {
		t.Fatalf("after an answer: %v, %v; want %v advanced by the time since", got, ok, pbxNow)
	}
	get(elsewhere.URL + "/rec.wav")
	if got, _ := clock.PBXClock(); got.Year() != 2014 {
		t.Errorf("another host's Date became the PBX's clock: %v", got)
	}
	get(pbx.URL + "/fail")
	if got, _ := clock.PBXClock(); got.Before(pbxNow.Add(time.Hour)) || got.After(pbxNow.Add(time.Hour+5*time.Second)) {
		t.Errorf("after a 500 dated an hour later: %v", got)
	}
}
