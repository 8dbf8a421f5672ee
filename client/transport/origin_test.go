package transport

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/transport/transporttest"
)

func mustURL(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestPlaceLink(t *testing.T) {
	for _, tc := range []struct {
		base, link, want string
		place            Link
	}{
		{"https://pbx", "https://pbx/rec/a.wav", "https://pbx/rec/a.wav", OnOrigin},
		{"https://pbx", "https://PBX:443/rec/a.wav", "https://PBX:443/rec/a.wav", OnOrigin},
		{"http://pbx/pbx/cdr/data", "http://pbx:80/rec/a.wav", "http://pbx:80/rec/a.wav", OnOrigin},
		{"https://pbx", "http://pbx/rec/a.wav?x=1", "https://pbx/rec/a.wav?x=1", Upgraded},
		{"https://pbx:8443", "http://pbx/rec/a.wav", "https://pbx:8443/rec/a.wav", Upgraded},
		{"https://pbx:8443", "http://pbx:8080/rec/a.wav", "https://pbx:8443/rec/a.wav", Upgraded},
		{"https://[::1]:8443", "http://[::1]/rec/a.wav", "https://[::1]:8443/rec/a.wav", Upgraded},
		{"https://pbx:8443", "https://pbx/rec/a.wav", "https://pbx/rec/a.wav", Elsewhere},
		{"https://pbx", "http://files.example/rec/a.wav", "http://files.example/rec/a.wav", Elsewhere},
		{"https://pbx", "https://pbx.evil.example/rec/a.wav", "https://pbx.evil.example/rec/a.wav", Elsewhere},
		// An http PBX's https link is another origin: credentials go only where they were configured to.
		{"http://pbx", "https://pbx/rec/a.wav", "https://pbx/rec/a.wav", Elsewhere},
		{"http://pbx", "http://pbx:8080/rec/a.wav", "http://pbx:8080/rec/a.wav", Elsewhere},
	} {
		u, place := PlaceLink(mustURL(t, tc.base), mustURL(t, tc.link))
		if u.String() != tc.want || place != tc.place {
			t.Errorf("PlaceLink(%s, %s) = %s, %d; want %s, %d", tc.base, tc.link, u, place, tc.want, tc.place)
		}
	}
}

// FuzzPlaceLink: whatever the PBX hands out, a link judged fit for credentials is on the configured origin,
// and never plain http when the PBX is https.
func FuzzPlaceLink(f *testing.F) {
	f.Add("https://pbx:8443", "http://pbx/rec/a.wav")
	f.Add("https://[::1]", "http://[::1]:80/x")
	f.Add("http://pbx", "https://PBX/x")
	f.Add("https://pbx", "//evil.example/x")
	f.Add("https://pbx", "http://pbx@evil.example/x")
	f.Fuzz(func(t *testing.T, base, link string) {
		b, err := url.Parse(base)
		if err != nil || (b.Scheme != "http" && b.Scheme != "https") || b.Host == "" {
			return
		}
		l, err := url.Parse(link)
		if err != nil {
			return
		}
		l = b.ResolveReference(l)
		u, place := PlaceLink(b, l)
		if place == Elsewhere {
			return
		}
		if OriginOf(u) != OriginOf(b) {
			t.Fatalf("PlaceLink(%q, %q) = %q (%d), off the origin %s", base, link, u, place, OriginOf(b))
		}
		if b.Scheme == "https" && u.Scheme != "https" {
			t.Fatalf("PlaceLink(%q, %q) = %q: https PBX, plain link", base, link, u)
		}
	})
}

// TestCredentialsOnlyToOrigin: a request with credentials for another address is refused before anything is
// sent; query credentials are added only on the origin; without a configured origin nothing carries them.
func TestCredentialsOnlyToOrigin(t *testing.T) {
	srv, err := transporttest.NewDualServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	c, err := New(Config{CAFile: srv.CAFile, Origin: mustURL(t, srv.URL)})
	if err != nil {
		t.Fatal(err)
	}
	key := url.Values{"key": {"k3y-hash"}}
	for _, tc := range []struct {
		name string
		req  Request
		ok   bool
	}{
		{"basic on the origin", Request{URL: mustURL(t, srv.URL+"/a"), User: "u", Password: "p"}, true},
		{"key on the origin", Request{URL: mustURL(t, srv.URL+"/a?page=1"), CredentialQuery: key}, true},
		{"basic over plain http", Request{URL: mustURL(t, srv.PlainURL+"/a"), User: "u", Password: "p"}, false},
		{"key over plain http", Request{URL: mustURL(t, srv.PlainURL+"/a"), CredentialQuery: key}, false},
		{"nothing over plain http", Request{URL: mustURL(t, srv.PlainURL+"/a")}, true},
	} {
		srv.Reset()
		resp, err := c.Get(context.Background(), tc.req)
		var off *OffOriginError
		switch {
		case tc.ok && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.ok:
			resp.Body.Close()
		case !errors.As(err, &off) || strings.Contains(err.Error(), "k3y-hash"):
			t.Errorf("%s: error %v, want an OffOriginError without the key", tc.name, err)
		}
		if !tc.ok && len(srv.Requests()) != 0 {
			t.Errorf("%s: %d requests sent", tc.name, len(srv.Requests()))
		}
		for _, r := range srv.Requests() {
			if !r.TLS && (r.Authorization != "" || strings.Contains(r.RawQuery, "k3y")) {
				t.Errorf("%s: credentials over plain http", tc.name)
			}
			if r.TLS && tc.req.CredentialQuery != nil && !strings.Contains(r.RawQuery, "key=k3y-hash") {
				t.Errorf("%s: the key did not reach the origin: %q", tc.name, r.RawQuery)
			}
		}
	}
	bare, _ := New(Config{CAFile: srv.CAFile})
	if _, err := bare.Get(context.Background(), Request{URL: mustURL(t, srv.URL), User: "u", Password: cdr.Secret("p")}); err == nil ||
		!strings.Contains(err.Error(), "no PBX address") {
		t.Errorf("credentials without an origin: %v", err)
	}
}

// TestRedirectWithinOriginKeepsCredentials: a redirect on the same origin is followed with the Basic header and
// the query key, even when the Location leaves the key out.
func TestRedirectWithinOriginKeepsCredentials(t *testing.T) {
	srv, err := transporttest.NewDualServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/from" {
			http.Redirect(w, r, "/to?page=2", http.StatusFound)
			return
		}
		io.WriteString(w, "ok")
	}), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	c, _ := New(Config{CAFile: srv.CAFile, Origin: mustURL(t, srv.URL+"/pbx/cdr/data")})
	resp, err := c.Get(context.Background(), Request{URL: mustURL(t, srv.URL+"/from"), User: "u", Password: "p",
		CredentialQuery: url.Values{"key": {"k"}}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	reqs := srv.Requests()
	if len(reqs) != 2 || reqs[1].Path != "/to" || reqs[1].Authorization == "" || !strings.Contains(reqs[1].RawQuery, "key=k") ||
		!strings.Contains(reqs[1].RawQuery, "page=2") {
		t.Errorf("requests %+v", reqs)
	}
}

// TestAnonymous401: a 401 to a request that carried no credentials does not claim a wrong password.
func TestAnonymous401(t *testing.T) {
	srv, err := transporttest.NewDualServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusUnauthorized)
	}), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	c, _ := New(Config{CAFile: srv.CAFile, Origin: mustURL(t, srv.URL)})
	_, err = c.Get(context.Background(), Request{URL: mustURL(t, srv.URL)})
	if err == nil || strings.Contains(err.Error(), "wrong user or password") || !strings.Contains(err.Error(), "none was sent") {
		t.Errorf("anonymous 401: %v", err)
	}
	_, err = c.Get(context.Background(), Request{URL: mustURL(t, srv.URL), User: "u", Password: "p"})
	if !errors.Is(err, cdr.ErrAuth) || !strings.Contains(err.Error(), "wrong user or password") {
		t.Errorf("401 with credentials: %v", err)
	}
}
