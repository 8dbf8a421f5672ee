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
