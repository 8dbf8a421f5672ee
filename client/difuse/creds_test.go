package difuse

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/transport"
	"github.com/callscope/callscope/client/transport/transporttest"
)

// hostilePBX is a Difuse PBX on https that also answers plain http on the same host and port, and hands out
// links and redirects that lead there. Every request is recorded with the protocol it came over.
type hostilePBX struct {
	srv      *transporttest.Server
	other    *httptest.Server // a plain server on another host name (localhost instead of 127.0.0.1)
	mu       sync.Mutex
	other401 bool
	otherSaw []string // Authorization headers and queries the other host saw
}

var hostileGSM = func() []byte {
	b := make([]byte, 33*50)
	for i := 0; i < len(b); i += 33 {
		b[i] = 0xD0 | byte(i%16)
	}
	return b
}()

func newHostilePBX(t *testing.T) *hostilePBX {
	t.Helper()
	h := &hostilePBX{}
	mux := http.NewServeMux()
	authed := func(r *http.Request) bool {
		u, p, ok := r.BasicAuth()
		q := r.URL.Query()
		return (ok && u == fakeExt && p == sha(fakeSecret)) || (q.Get("extension") == fakeExt && q.Get("key") == sha(fakeSecret))
	}
	// The recording, over either protocol, for whoever authenticates.
	mux.HandleFunc("/rec/", func(w http.ResponseWriter, r *http.Request) {
		if !authed(r) {
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
			return
		}
		if r.URL.Path != "/rec/a.gsm" {
			http.NotFound(w, r)
			return
		}
		w.Write(hostileGSM)
	})
	// Over https, a redirect to the same path and query over plain http on the same host and port.
	mux.HandleFunc("/to-http/", func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil {
			http.NotFound(w, r)
			return
		}
		target := h.srv.PlainURL + "/rec/" + strings.TrimPrefix(r.URL.Path, "/to-http/")
		if r.URL.RawQuery != "" {
			target += "?" + r.URL.RawQuery
		}
		http.Redirect(w, r, target, http.StatusFound)
	})
	// The data endpoint: over https it sends every client to plain http, query and all.
	mux.HandleFunc(DataPath, func(w http.ResponseWriter, r *http.Request) {
		if r.TLS != nil {
			target := h.srv.PlainURL + r.URL.Path + "?" + r.URL.RawQuery
			http.Redirect(w, r, target, http.StatusMovedPermanently)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"data": []any{}, "page": "1", "limit": "10", "total_pages": 1})
	})
	srv, err := transporttest.NewDualServer(mux, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	h.srv = srv
	h.other = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		h.otherSaw = append(h.otherSaw, r.Header.Get("Authorization")+"|"+r.URL.RawQuery)
		deny := h.other401
		h.mu.Unlock()
		if deny {
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
			return
		}
		w.Write(hostileGSM)
	}))
	t.Cleanup(h.other.Close)
	return h
}

func (h *hostilePBX) client(t *testing.T, keyParam bool) *Client {
	t.Helper()
	ep, err := transport.ParseEndpoint(h.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	ep.User, ep.Password = fakeExt, cdr.Secret(fakeSecret)
	c, err := New(Config{Endpoint: ep, Zone: time.UTC, Timeout: 5 * time.Second, CAFile: h.srv.CAFile, KeyParam: keyParam})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// noCredentialInClear fails the test if any request that reached the plain-http side carried the extension's
// key hash, its secret, or an Authorization header at all.
func (h *hostilePBX) noCredentialInClear(t *testing.T, what string) {
	t.Helper()
	for _, r := range h.srv.Plain() {
		if r.Authorization != "" || strings.Contains(r.RawQuery, sha(fakeSecret)) || strings.Contains(r.RawQuery, "key=") {
			t.Errorf("%s: a credential went over plain http: %s %s (query %q redacted, Authorization sent: %v)", what,
				r.Method, r.Path, transport.Redact("http://x/?"+r.RawQuery), r.Authorization != "")
		}
	}
}

// TestRecordingCredentialsNeverInClear: with an https PBX, a recording_url over plain http on the same host is
// fetched over https (credentials over TLS only), a redirect that leaves https is refused, and a recording on
// another host is fetched without any credential.
func TestRecordingCredentialsNeverInClear(t *testing.T) {
	h := newHostilePBX(t)
	for _, key := range []bool{false, true} {
		c := h.client(t, key)
		for _, tc := range []struct {
			name, url string
			ok        bool   // the recording arrives
			says      string // else the error says this
		}{
			{"http link, same host and port", h.srv.PlainURL + "/rec/a.gsm", true, ""},
			{"https link", h.srv.URL + "/rec/a.gsm", true, ""},
			{"redirect to http", h.srv.URL + "/to-http/a.gsm", false, "https"},
			{"http link that https does not serve", h.srv.PlainURL + "/rec/gone.gsm", false, "call 1.1"},
		} {
			h.srv.Reset()
			rec, err := c.Recording(t.Context(), cdr.ByRecord(cdr.Record{UniqueID: "1.1", Recording: tc.url}))
			name := tc.name
			if key {
				name += " (key=)"
			}
			switch {
			case tc.ok && err != nil:
				t.Errorf("%s: %v", name, err)
			case tc.ok:
				if testing.Verbose() {
					t.Logf("%s: fetched %s", name, tc.url)
				}
				b, _ := io.ReadAll(rec)
				rec.Close()
				if len(b) != len(hostileGSM) {
					t.Errorf("%s: %d bytes", name, len(b))
				}
			case err == nil:
				rec.Close()
				t.Errorf("%s: fetched, want an error", name)
			case !strings.Contains(err.Error(), tc.says) || strings.Contains(err.Error(), sha(fakeSecret)):
				t.Errorf("%s: error %q, want one saying %q", name, err, tc.says)
			default:
				t.Logf("%s: %v", name, err)
			}
			h.noCredentialInClear(t, name)
		}
	}
}

// TestRecordingOnAnotherHost: a link to another host gets no credential, whatever the scheme; when that host
// wants one, the error says why none was sent.
func TestRecordingOnAnotherHost(t *testing.T) {
	h := newHostilePBX(t)
	other := strings.Replace(h.other.URL, "127.0.0.1", "localhost", 1) + "/rec/a.gsm"
	for _, key := range []bool{false, true} {
		c := h.client(t, key)
		h.mu.Lock()
		h.otherSaw, h.other401 = nil, false
		h.mu.Unlock()
		rec, err := c.Recording(t.Context(), cdr.ByRecord(cdr.Record{UniqueID: "1.1", Recording: other}))
		if err != nil {
			t.Fatalf("key=%v: %v", key, err)
		}
		rec.Close()
		h.mu.Lock()
		h.other401 = true
		h.mu.Unlock()
		_, err = c.Recording(t.Context(), cdr.ByRecord(cdr.Record{UniqueID: "1.1", Recording: other}))
		if err == nil || !strings.Contains(err.Error(), "call 1.1") || !strings.Contains(err.Error(), "only to") ||
			errors.Is(err, cdr.ErrAuth) {
			t.Errorf("key=%v: refused by the other host: %v", key, err)
		}
		h.mu.Lock()
		for _, s := range h.otherSaw {
			if s != "|" {
				t.Errorf("key=%v: the other host got %q", key, s)
			}
		}
		h.mu.Unlock()
	}
}

// TestPageRedirectToHTTPRefused: a data endpoint over https that redirects to plain http (carrying the query,
// and with it key=) is not followed.
func TestPageRedirectToHTTPRefused(t *testing.T) {
	h := newHostilePBX(t)
	for _, key := range []bool{false, true} {
		h.srv.Reset()
		c := h.client(t, key)
		_, err := c.Calls(t.Context(), cdr.Query{Page: 1, Limit: 10}, func(cdr.Record) error { return nil })
		if err == nil || !strings.Contains(err.Error(), "plain http") {
			t.Errorf("key=%v: error %v, want the redirect refused", key, err)
		}
		if len(h.srv.Plain()) != 0 {
			t.Errorf("key=%v: %d requests followed the redirect to plain http", key, len(h.srv.Plain()))
		}
		h.noCredentialInClear(t, "page redirect")
	}
}
