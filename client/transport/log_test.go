package transport

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/callscope/callscope/client/cdr"
)

// TestRequestLog: with a logger in the context every request is one line with its method, URL (key= and
// secrets redacted), status, size and time; without one nothing is logged.
func TestRequestLog(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/boom" {
			http.Error(w, "exploded", http.StatusInternalServerError)
			return
		}
		io.WriteString(w, strings.Repeat("x", 2000))
	}))
	defer srv.Close()
	const key = "0123456789abcdef-key"
	origin, _ := url.Parse(srv.URL)
	c, err := New(Config{Origin: origin, Secrets: []cdr.Secret{key, "pw-s3cret"}})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	ctx := WithLog(context.Background(), slog.New(slog.NewTextHandler(&buf, nil)))
	fetch := func(ctx context.Context, raw string) {
		u, _ := url.Parse(raw)
		req := Request{URL: u}
		if OriginOf(u) == OriginOf(origin) { // credentials go only to the configured PBX
			req.User, req.Password = "admin", "pw-s3cret"
		}
		resp, err := c.Get(ctx, req)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
	fetch(ctx, srv.URL+"/pbx/cdr/data?page=1&key="+key)
	fetch(ctx, srv.URL+"/boom?q="+key)
	fetch(ctx, "http://127.0.0.1:1/refused")
	fetch(context.Background(), srv.URL+"/unlogged")
	log := buf.String()
	for _, re := range []string{
		`msg="GET http://127\.0\.0\.1:\d+/pbx/cdr/data\?key=%5Bredacted%5D&page=1 200 2\.0 kB \d+(\.\d+)?[mµ]?s" method=GET .* status=200 bytes=2000`,
		`msg="GET http://127\.0\.0\.1:\d+/boom\?q=\[redacted\] 500 \d+ B`,
		`msg="GET http://127\.0\.0\.1:1/refused failed after .*connection refused`,
	} {
		if !regexp.MustCompile(re).MatchString(log) {
			t.Errorf("log does not match %s:\n%s", re, log)
		}
	}
	if strings.Contains(log, key) || strings.Contains(log, "pw-s3cret") || strings.Contains(log, "unlogged") {
		t.Errorf("log holds a secret or an unlogged request:\n%s", log)
	}
	if Log(context.Background()) == nil {
		t.Error("Log without a logger is nil; want one that discards")
	}
}
