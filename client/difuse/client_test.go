package difuse

import (
	"context"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/transport"
)

func TestBothAuthSchemes(t *testing.T) {
	calls := genCalls(10, day0, 2, 50, 0, 0)
	f := newFake(t, rowsOf(calls))
	var mu sync.Mutex
	var seen []*http.Request
	f.hook = func(_ int64, _ http.ResponseWriter, r *http.Request) bool {
		mu.Lock()
		seen = append(seen, r)
		mu.Unlock()
		return false
	}
	for _, tc := range []struct {
		name string
		mod  func(*Config)
	}{
		{"basic", nil},
		{"basic, secret given hashed", func(c *Config) { c.Hashed = true; c.Endpoint.Password = cdr.Secret(strings.ToUpper(sha(fakeSecret))) }},
		{"key", func(c *Config) { c.KeyParam = true }},
	} {
		seen = nil
		var warns []string
		c := f.client(t, func(c *Config) {
			c.Warn = func(s string) { warns = append(warns, s) }
			if tc.mod != nil {
				tc.mod(c)
			}
		})
		ids, _ := gotIDs(t, c, cdr.Query{From: day0, To: day0.AddDate(0, 0, 2)})
		if len(ids) != len(calls) {
			t.Errorf("%s: %d calls, want %d", tc.name, len(ids), len(calls))
		}
		key := c.cfg.KeyParam
		for _, r := range seen {
			_, _, basic := r.BasicAuth()
			if hasKey := r.URL.Query().Has("key"); basic == key || hasKey != key {
				t.Errorf("%s: request %s sent Basic=%v key=%v", tc.name, transport.Redact(r.URL.String()), basic, hasKey)
			}
		}
		if got := len(warns); (got == 1) != key || (key && !strings.Contains(warns[0], "key=")) {
			t.Errorf("%s: warnings %q", tc.name, warns)
		}
	}
}

func TestWrongSecret(t *testing.T) {
	for _, key := range []bool{false, true} {
		f := newFake(t, rowsOf(genCalls(11, day0, 1, 10, 0, 0)))
		c := f.client(t, func(c *Config) { c.Endpoint.Password = "not-it"; c.KeyParam = key })
		_, err := c.Calls(t.Context(), cdr.Query{Page: 1}, func(cdr.Record) error { return nil })
		if err == nil || !strings.Contains(err.Error(), "wrong user or password") || !errors.Is(err, cdr.ErrAuth) {
			t.Errorf("key=%v: error %v", key, err)
		}
		if n := f.requests.Load(); n != 1 {
			t.Errorf("key=%v: %d requests: a wrong password must not be retried", key, n)
		}
		if err != nil && (strings.Contains(err.Error(), sha("not-it")) || strings.Contains(err.Error(), "not-it")) {
			t.Errorf("key=%v: the secret is in %q", key, err)
		}
	}
}

func TestNewRejects(t *testing.T) {
	ep, _ := transport.ParseEndpoint("http://127.0.0.1:1")
	for _, tc := range []struct {
		cfg Config
		sub string
	}{
		{Config{}, "no PBX URL"},
		{Config{Endpoint: transport.Endpoint{URL: ep.URL, Password: "x"}}, "the extension that has CDR access as the user"},
		{Config{Endpoint: transport.Endpoint{URL: ep.URL, User: "4001"}}, "no secret"},
		{Config{Endpoint: transport.Endpoint{URL: ep.URL, User: "4001", Password: "abc"}, Hashed: true}, "64 hex"},
		{Config{Endpoint: transport.Endpoint{URL: ep.URL, User: "4001", Password: "x"}, CAFile: "/nonexistent/ca.pem"}, "CA file"},
	} {
		if _, err := New(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.sub) {
			t.Errorf("New(%+v): error %v, want one containing %q", tc.cfg, err, tc.sub)
		}
	}
}

func TestEndpointForms(t *testing.T) {
	f := newFake(t, rowsOf(genCalls(12, day0, 1, 10, 0, 0)))
	for _, u := range []string{f.srv.URL, f.srv.URL + "/", f.srv.URL + DataPath, f.srv.URL + DataPath + "?page=9"} {
		ep, err := transport.ParseEndpoint(u)
		if err != nil {
			t.Fatal(err)
		}
		ep.User, ep.Password = fakeExt, fakeSecret
		c, err := New(Config{Endpoint: ep})
		if err != nil {
			t.Fatal(err)
		}
		ids, _ := gotIDs(t, c, cdr.Query{Page: 1, Limit: 5})
		if len(ids) != 5 {
			t.Errorf("%s: %d rows", u, len(ids))
		}
		if d := c.Describe(); d != "difuse "+f.srv.URL {
			t.Errorf("%s: Describe() = %q", u, d)
		}
	}
}

// TestKeyNeverInErrors drives every failure in key= mode and checks the key (and the secret) appear in no
// error or warning.
func TestKeyNeverInErrors(t *testing.T) {
	calls := genCalls(13, day0, 1, 30, 0, 0)
	secretForms := []string{fakeSecret, sha(fakeSecret), strings.ToUpper(sha(fakeSecret))}
	var texts []string
	check := func(name string, err error) {
		if err == nil {
			t.Errorf("%s: no error", name)
			return
		}
		texts = append(texts, name+": "+err.Error())
	}
	run := func(name string, f *fakePBX, mod func(*Config)) {
		c := f.client(t, func(c *Config) {
			c.KeyParam = true
			c.Timeout = 300 * time.Millisecond
			c.Warn = func(s string) { texts = append(texts, name+" warn: "+s) }
			if mod != nil {
				mod(c)
			}
		})
		_, err := c.Calls(t.Context(), cdr.Query{From: day0, To: day0.AddDate(0, 0, 1)}, func(cdr.Record) error { return nil })
		check(name, err)
		rec, err := c.Recording(t.Context(), cdr.ByRecord(cdr.Record{UniqueID: "1.1", Recording: "/missing.wav"}))
		if err == nil {
			_, err = io.ReadAll(rec)
			rec.Close()
		}
		check(name+" recording", err)
	}
	echoKey := func(_ int64, w http.ResponseWriter, r *http.Request) bool {
		http.Error(w, "failed for "+r.URL.String(), http.StatusInternalServerError) // the URL, key and all
		return true
	}
	f := newFake(t, rowsOf(calls))
	f.hook = echoKey
	run("500 echoing the URL", f, nil)

	f = newFake(t, rowsOf(calls))
	run("401", f, func(c *Config) { c.Endpoint.Password = "other" })

	f = newFake(t, rowsOf(calls))
	f.hook = func(_ int64, w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("Content-Length", "5000")
		w.Write([]byte(`{"data":[{"db_id":1,"call_id":"` + r.URL.Query().Get("key")))
		return true
	}
	run("cut off", f, nil)

	f = newFake(t, rowsOf(calls))
	f.hook = func(_ int64, w http.ResponseWriter, r *http.Request) bool {
		<-r.Context().Done()
		return true
	}
	run("stall", f, nil)

	dead := newFake(t, nil)
	dead.srv.Close()
	run("dead", dead, nil)

	tlsSrv := httptest.NewTLSServer(newFake(t, rowsOf(calls)))
	t.Cleanup(tlsSrv.Close)
	f = &fakePBX{ext: fakeExt, secret: fakeSecret, srv: tlsSrv}
	run("untrusted TLS", f, nil)

	for _, txt := range texts {
		for _, s := range secretForms {
			if strings.Contains(txt, s) {
				t.Errorf("secret in %q", txt)
			}
		}
	}
	if len(texts) < 12 {
		t.Errorf("only %d error texts checked", len(texts))
	}
	t.Logf("checked:\n%s", strings.Join(texts, "\n"))
}

func TestServerErrors(t *testing.T) {
	calls := genCalls(14, day0, 3, 100, 0, 0)
	// The first request for every third page fails: those pages are asked for again, and every call arrives.
	f := newFake(t, rowsOf(calls))
	var mu sync.Mutex
	failed := map[string]bool{}
	f.hook = func(_ int64, w http.ResponseWriter, r *http.Request) bool {
		mu.Lock()
		defer mu.Unlock()
		pg := r.URL.Query().Get("page")
		if n, _ := strconv.Atoi(pg); n%3 == 0 && !failed[pg] {
			failed[pg] = true
			http.Error(w, "boom", http.StatusInternalServerError)
			return true
		}
		return false
	}
	c := f.client(t, func(c *Config) { c.Limit = 20 })
	var warns []string
	var ids []string
	ctx := cdr.WithObserver(t.Context(), cdr.Observer{OnWarn: func(e error) { warns = append(warns, e.Error()) }})
	_, err := c.Calls(ctx, cdr.Query{From: day0, To: day0.AddDate(0, 0, 3)},
		func(r cdr.Record) error { ids = append(ids, r.UniqueID); return nil })
	if err != nil || len(ids) != len(calls) {
		t.Fatalf("err %v, %d calls of %d", err, len(ids), len(calls))
	}
	if len(warns) == 0 || !strings.Contains(warns[0], "HTTP 500") || !strings.Contains(warns[0], "asking again") {
		t.Errorf("warnings %q", warns)
	}

	// Always failing: a plain error after maxTries.
	f = newFake(t, rowsOf(calls))
	f.hook = func(int64, http.ResponseWriter, *http.Request) bool { return false }
	f.hook = func(_ int64, w http.ResponseWriter, _ *http.Request) bool {
		http.Error(w, "boom", http.StatusServiceUnavailable)
		return true
	}
	c = f.client(t, nil)
	_, err = c.Calls(t.Context(), cdr.Query{Page: 1}, func(cdr.Record) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "the PBX failed (HTTP 503") || transport.StatusOf(err) != 503 {
		t.Errorf("error %v", err)
	}
	if n := f.requests.Load(); n != maxTries {
		t.Errorf("%d requests, want %d", n, maxTries)
	}
}

func TestCutOffBody(t *testing.T) {
	calls := genCalls(15, day0, 1, 50, 0, 0)
	for _, tc := range []struct {
		name string
		cut  func(w http.ResponseWriter)
	}{
		// The connection drops before Content-Length bytes arrived.
		{"connection dropped", func(w http.ResponseWriter) {
			w.Header().Set("Content-Length", "4000")
			w.Write([]byte(`{"data":[{"db_id":1,`))
		}},
		// A complete HTTP answer whose JSON stops half way.
		{"JSON stops", func(w http.ResponseWriter) { w.Write([]byte(`{"data":[{"db_id":1,"call_id":"17`)) }},
	} {
		// Once: asked again, and every row arrives.
		f := newFake(t, rowsOf(calls))
		f.hook = func(n int64, w http.ResponseWriter, _ *http.Request) bool {
			if n == 2 {
				tc.cut(w)
				return true
			}
			return false
		}
		c := f.client(t, func(c *Config) { c.Limit = 10 })
		ids, _ := gotIDs(t, c, cdr.Query{})
		if len(ids) != len(calls) {
			t.Errorf("%s once: %d rows, want %d", tc.name, len(ids), len(calls))
		}
		// Always: an error that says so.
		f.hook = func(_ int64, w http.ResponseWriter, _ *http.Request) bool { tc.cut(w); return true }
		_, err := c.Calls(t.Context(), cdr.Query{Page: 1}, func(cdr.Record) error { return nil })
		if err == nil || !strings.Contains(err.Error(), "cut off") {
			t.Errorf("%s always: error %v", tc.name, err)
		}
	}
}

func TestDeadServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ep, _ := transport.ParseEndpoint("http://" + addr)
	ep.User, ep.Password = fakeExt, fakeSecret
	c, err := New(Config{Endpoint: ep})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Calls(t.Context(), cdr.Query{From: day0, To: day0.AddDate(0, 0, 1)}, func(cdr.Record) error { return nil })
	if err == nil || !errors.Is(err, transport.ErrUnreachable) || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("error %v", err)
	}
}

func TestStalledServer(t *testing.T) {
	f := newFake(t, nil)
	f.hook = func(_ int64, _ http.ResponseWriter, r *http.Request) bool {
		<-r.Context().Done()
		return true
	}
	c := f.client(t, func(c *Config) { c.Timeout = 200 * time.Millisecond })
	began := time.Now()
	_, err := c.Calls(t.Context(), cdr.Query{Page: 1}, func(cdr.Record) error { return nil })
	if err == nil || !errors.Is(err, transport.ErrTimeout) {
		t.Errorf("error %v", err)
	}
	if d := time.Since(began); d > 3*time.Second {
		t.Errorf("gave up after %s", d)
	}
}

func TestCancel(t *testing.T) {
	calls := genCalls(16, day0, 5, 100, 0, 0)
	f := newFake(t, rowsOf(calls))
	c := f.client(t, func(c *Config) { c.Limit = 5 })
	ctx, cancel := context.WithCancel(t.Context())
	n := 0
	_, err := c.Calls(ctx, cdr.Query{}, func(cdr.Record) error {
		if n++; n == 20 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v after %d rows", err, n)
	}
}

// writeCA saves a TLS test server's certificate as a PEM CA file.
func writeCA(t *testing.T, srv *httptest.Server) string {
	p := filepath.Join(t.TempDir(), "ca.pem")
	b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestHTTPS(t *testing.T) {
	calls := genCalls(17, day0, 1, 30, 0, 0)
	inner := newFake(t, rowsOf(calls))
	srv := httptest.NewTLSServer(inner)
	t.Cleanup(srv.Close)
	f := &fakePBX{ext: fakeExt, secret: fakeSecret, srv: srv}
	for _, tc := range []struct {
		name string
		mod  func(*Config)
		sub  string // expected error; "" = works
	}{
		{"self-signed, no CA", nil, "TLS certificate not trusted"},
		{"CA file", func(c *Config) { c.CAFile = writeCA(t, srv) }, ""},
		{"insecure", func(c *Config) { c.Insecure = true }, ""},
	} {
		inner.requests.Store(0)
		c := f.client(t, tc.mod)
		var ids []string
		_, err := c.Calls(t.Context(), cdr.Query{Page: 1, Limit: 30}, func(r cdr.Record) error { ids = append(ids, r.UniqueID); return nil })
		switch {
		case tc.sub == "" && (err != nil || len(ids) != 30):
			t.Errorf("%s: err %v, %d rows", tc.name, err, len(ids))
		case tc.sub != "" && (err == nil || !strings.Contains(err.Error(), tc.sub)):
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.sub)
		}
	}
}

func TestUsersUnsupported(t *testing.T) {
	f := newFake(t, nil)
	_, err := f.client(t, nil).Users(t.Context())
	if !errors.Is(err, errors.ErrUnsupported) || !strings.Contains(err.Error(), "no list of users") {
		t.Errorf("error %v", err)
	}
	if f.requests.Load() != 0 {
		t.Error("Users sent a request")
	}
}

func TestRecordingURLs(t *testing.T) {
	gsm := make([]byte, 33*50)
	for i := 0; i < len(gsm); i += 33 {
		gsm[i] = 0xD0 | byte(i%16)
	}
	wav := append([]byte("RIFF\x24\x00\x00\x00WAVEfmt "), make([]byte, 200)...)
	var mu sync.Mutex
	var authSeen []string
	files := map[string][]byte{"/rec/a.gsm": gsm, "/pbx/cdr/rec/b.wav": wav, "/rec/empty.wav": {}}
	serveFile := func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		_, pass, _ := r.BasicAuth()
		authSeen = append(authSeen, r.URL.Path+" "+pass+" "+r.URL.Query().Get("key"))
		mu.Unlock()
		b, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(b)
	}
	other := httptest.NewServer(http.HandlerFunc(serveFile))
	t.Cleanup(other.Close)
	f := newFake(t, nil)
	f.hook = func(_ int64, w http.ResponseWriter, r *http.Request) bool {
		if _, pass, _ := r.BasicAuth(); pass != sha(fakeSecret) && r.URL.Query().Get("key") != sha(fakeSecret) {
			return false // 401 from the fake
		}
		serveFile(w, r)
		return true
	}
	for _, key := range []bool{false, true} {
		c := f.client(t, func(c *Config) { c.KeyParam = key })
		for _, tc := range []struct {
			url, format, name string
			size              int
			auth              bool
		}{
			{"/rec/a.gsm", "gsm", "a.gsm", len(gsm), true},
			{"rec/b.wav", "wav", "b.wav", len(wav), true}, // relative to /pbx/cdr/data
			{f.srv.URL + "/rec/a.gsm", "gsm", "a.gsm", len(gsm), true},
			{other.URL + "/rec/a.gsm", "gsm", "a.gsm", len(gsm), false}, // another host: no credentials
		} {
			authSeen = nil
			rec, err := c.Recording(t.Context(), cdr.ByRecord(cdr.Record{UniqueID: "1.1", Recording: tc.url}))
			if err != nil {
				t.Errorf("key=%v %s: %v", key, tc.url, err)
				continue
			}
			b, err := io.ReadAll(rec)
			rec.Close()
			if err != nil || len(b) != tc.size || rec.Format != tc.format || rec.Name != tc.name {
				t.Errorf("key=%v %s: %d bytes (%v), format %q, name %q", key, tc.url, len(b), err, rec.Format, rec.Name)
			}
			sent := len(authSeen) == 1 && strings.Contains(authSeen[0], sha(fakeSecret))
			if sent != tc.auth {
				t.Errorf("key=%v %s: credentials sent = %v (%d requests)", key, tc.url, sent, len(authSeen))
			}
		}
		for _, u := range []string{"", "/rec/empty.wav", "/rec/gone.wav"} {
			if _, err := c.Recording(t.Context(), cdr.ByRecord(cdr.Record{UniqueID: "1.1", Recording: u})); !errors.Is(err, cdr.ErrNoRecording) ||
				err.Error() != "call 1.1 has no recording" {
				t.Errorf("key=%v %q: error %v", key, u, err)
			}
		}
	}
}

func TestSniff(t *testing.T) {
	for _, tc := range []struct {
		b    string
		want string
	}{
		{"RIFF\x00\x00\x00\x00WAVEfmt ", "wav"},
		{"RIFF\x00\x00\x00\x00AVI LIST", ""},
		{"\xd3" + strings.Repeat("\x00", 32) + "\xdf" + strings.Repeat("\x00", 32), "gsm"},
		{"\xd3" + strings.Repeat("\x00", 32) + "\x1f", ""},
		{"<html>", ""},
		{"", ""},
	} {
		if got := cdr.SniffAudio([]byte(tc.b)); got != tc.want {
			t.Errorf("SniffAudio(%q) = %q, want %q", tc.b, got, tc.want)
		}
	}
}
