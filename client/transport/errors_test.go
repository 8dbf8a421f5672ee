package transport

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestErrorsAreTyped: each failure a caller gives its own advice for comes as a type errors.As finds, made by
// the real situation (a server that stalls, a self-signed certificate, a redirect to another address, no URL),
// and its text says what happened without naming a command-line flag.
func TestErrorsAreTyped(t *testing.T) {
	release := make(chan struct{})
	stall := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer stall.Close()
	defer close(release)
	selfSigned := httptest.NewTLSServer(http.NotFoundHandler())
	defer selfSigned.Close()
	elsewhere := httptest.NewServer(http.NotFoundHandler())
	defer elsewhere.Close()
	redirecting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL+"/commagui/cdr", http.StatusFound)
	}))
	defer redirecting.Close()

	getFrom := func(srv *httptest.Server, timeout time.Duration) func() error {
		return func() error {
			c, err := New(Config{Timeout: timeout, Origin: mustURL(t, srv.URL)})
			if err != nil {
				return err
			}
			resp, err := c.Get(context.Background(), Request{URL: mustURL(t, srv.URL+"/commagui/cdr"), User: "admin", Password: "pw"})
			if err == nil {
				resp.Body.Close()
			}
			return err
		}
	}
	for _, tc := range []struct {
		name  string
		do    func() error
		check func(error) bool
	}{
		{"stall", getFrom(stall, 200*time.Millisecond), func(err error) bool {
			var te *TimeoutError
			return errors.As(err, &te) && te.Host == mustURL(t, stall.URL).Host && te.Limit == 200*time.Millisecond &&
				errors.Is(err, ErrTimeout)
		}},
		{"self-signed", getFrom(selfSigned, 10*time.Second), func(err error) bool {
			var ce *UntrustedCertError
			return errors.As(err, &ce) && ce.Host == mustURL(t, selfSigned.URL).Host && errors.Is(err, ErrUntrustedCert)
		}},
		{"redirect elsewhere", getFrom(redirecting, 10*time.Second), func(err error) bool {
			var re *RedirectError
			return errors.As(err, &re) && re.Suggest == strings.TrimSuffix(elsewhere.URL, "/") && errors.Is(err, ErrRedirectRefused)
		}},
		{"no URL", func() error { _, err := ParseEndpoint(" "); return err }, func(err error) bool {
			return errors.Is(err, ErrNoURL)
		}},
	} {
		err := tc.do()
		if err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		if strings.Contains(err.Error(), "--") {
			t.Errorf("%s: %q names a flag", tc.name, err)
		}
		if !tc.check(err) {
			t.Errorf("%s: %q (%T) is not the typed error with its facts", tc.name, err, err)
		}
	}
}
