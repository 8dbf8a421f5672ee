package transport

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/callscope/callscope/client/cdr"
)

func get(t *testing.T, c *Client, raw string, user string, pw cdr.Secret) (*Response, error) {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return c.Get(context.Background(), Request{URL: u, User: user, Password: pw})
}

func TestStatusErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/auth":
			u, p, ok := r.BasicAuth()
			if !ok || u != "admin" || p != "C@11Me" {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			io.WriteString(w, "ok")
		case "/boom":
			http.Error(w, "key=s3cr3t-key exploded", http.StatusInternalServerError)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	origin, _ := url.Parse(srv.URL)
	c, err := New(Config{Secrets: []cdr.Secret{"s3cr3t-key"}, Origin: origin})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := get(t, c, srv.URL+"/auth", "admin", "C@11Me")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "ok" {
		t.Errorf("body %q", b)
	}

	_, err = get(t, c, srv.URL+"/auth", "admin", "guess")
	if !errors.Is(err, cdr.ErrAuth) || !strings.Contains(err.Error(), "wrong user or password (HTTP 401)") {
		t.Errorf("401: %v", err)
	}
	if strings.Contains(err.Error(), "guess") {
		t.Errorf("password in error: %v", err)
	}
	_, err = get(t, c, srv.URL+"/boom?key=s3cr3t-key", "", "")
	if StatusOf(err) != 500 || !strings.Contains(err.Error(), "HTTP 500") {
		t.Errorf("500: %v", err)
	}
	var he *HTTPError
	if errors.As(err, &he) && strings.Contains(he.Body, "s3cr3t-key") {
		t.Errorf("secret kept in the error body: %q", he.Body)
	}
	_, err = get(t, c, srv.URL+"/missing", "", "")
	if StatusOf(err) != 404 {
		t.Errorf("404: %v", err)
	}
}

func TestDeadHost(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.URL
	srv.Close()
	c, _ := New(Config{Timeout: 2 * time.Second})
	_, err := get(t, c, addr+"/x?key=k3y", "", "")
	if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("dead host: %v", err)
	}
	if strings.Contains(err.Error(), "k3y") {
		t.Errorf("query key in error: %v", err)
	}
}

// A PBX that accepts the connection and sends nothing is given up on after the timeout.
func TestStallBeforeHeaders(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	c, _ := New(Config{Timeout: 300 * time.Millisecond})
	start := time.Now()
	_, err := get(t, c, srv.URL, "", "")
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("stall: %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("gave up after %v, want about 300ms", d)
	}
}

// A body that stops mid-way is cut off by the idle timer; a slow body that keeps coming is never cut off, even
// when it takes many times the timeout in total.
func TestBodyIdleVersusSlow(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fl := w.(http.Flusher)
		switch r.URL.Path {
		case "/stall":
			io.WriteString(w, "first part\n")
			fl.Flush()
			select {
			case <-release:
			case <-r.Context().Done():
			}
		case "/slow":
			// 2.5 s in all, well past the 1 s limit, but never more than 100 ms without a byte: a tenfold margin, so
			// a loaded machine does not turn progress into a stall.
			for i := 0; i < 25; i++ {
				io.WriteString(w, "chunk\n")
				fl.Flush()
				time.Sleep(100 * time.Millisecond)
			}
		}
	}))
	defer srv.Close()
	c, _ := New(Config{Timeout: time.Second})

	resp, err := get(t, c, srv.URL+"/stall", "", "")
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !errors.Is(err, ErrTimeout) || string(b) != "first part\n" {
		t.Errorf("stalled body: %q, %v", b, err)
	}

	resp, err = get(t, c, srv.URL+"/slow", "", "")
	if err != nil {
		t.Fatal(err)
	}
	b, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || strings.Count(string(b), "chunk") != 25 {
		t.Errorf("slow body cut off: %d chunks, %v", strings.Count(string(b), "chunk"), err)
	}
}

func TestCancel(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer srv.Close()
	c, _ := New(Config{})
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(50 * time.Millisecond); cancel() }()
	u, _ := url.Parse(srv.URL)
	_, err := c.Get(ctx, Request{URL: u})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancel: %v", err)
	}
}

func TestParseEndpoint(t *testing.T) {
	for _, tc := range []struct {
		in, url, user, pass string
		bad                 bool
	}{
		{in: "10.0.0.5", url: "http://10.0.0.5"},
		{in: "http://pbx_ip", url: "http://pbx_ip"},
		{in: "https://host:8443/", url: "https://host:8443/"},
		{in: "http://admin:C%4011Me@10.0.0.5/commagui/cdr", url: "http://10.0.0.5/commagui/cdr", user: "admin", pass: "C@11Me"},
		{in: "", bad: true},
		{in: "ftp://x", bad: true},
		{in: "http://", bad: true},
	} {
		ep, err := ParseEndpoint(tc.in)
		if tc.bad {
			if err == nil {
				t.Errorf("%q accepted", tc.in)
			}
			continue
		}
		if err != nil || ep.URL.String() != tc.url || ep.User != tc.user || ep.Password.Reveal() != tc.pass {
			t.Errorf("%q: %v %+v", tc.in, err, ep)
		}
	}
	if _, err := ParseEndpoint("http://admin:pw@[::1"); err == nil || strings.Contains(err.Error(), "pw") {
		t.Errorf("bad URL error shows the password or passes: %v", err)
	}
}

func TestWithPathAndRedact(t *testing.T) {
	base, _ := url.Parse("http://10.0.0.5")
	if got := WithPath(base, "/commagui/cdr").String(); got != "http://10.0.0.5/commagui/cdr" {
		t.Errorf("WithPath: %s", got)
	}
	full, _ := url.Parse("http://10.0.0.5/commagui/cdr/")
	if got := WithPath(full, "/commagui/cdr").String(); got != "http://10.0.0.5/commagui/cdr" {
		t.Errorf("WithPath on a full endpoint: %s", got)
	}
	for _, in := range []string{"http://u:pw@h/x?key=pw&page=1", "http://u:pw@h:bad"} {
		if got := Redact(in); strings.Contains(got, "pw") {
			t.Errorf("Redact(%q) = %q", in, got)
		}
	}
}
