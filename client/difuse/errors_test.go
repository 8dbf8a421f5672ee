package difuse

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/transport"
)

// TestErrorsAreTyped: the failures a caller gives its own advice for come as types errors.As finds, from the
// real situation, and their text names no command-line flag or command.
func TestErrorsAreTyped(t *testing.T) {
	f := newFake(t, rowsOf(genCalls(41, day0, 1, 10, 0, 0)))
	endless := endlessPBX(t, 0)
	long := newFake(t, nil)
	longRows := mustJSON(rowsOf(genCalls(42, day0, 1, minPageRows+1, 0, 0)))
	long.hook = func(_ int64, w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"data":%s,"page":"1","limit":"100","total_pages":1}`, longRows)
		return true
	}
	ep, err := transport.ParseEndpoint(f.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	newWith := func(mod func(*Config)) func() error {
		return func() error {
			cfg := Config{Endpoint: ep}
			cfg.Endpoint.User, cfg.Endpoint.Password = fakeExt, fakeSecret
			mod(&cfg)
			_, err := New(cfg)
			return err
		}
	}
	calls := func(c *Client, q cdr.Query) func() error {
		return func() error { _, _, err := query(t, c, q); return err }
	}
	for _, tc := range []struct {
		name  string
		do    func() error
		check func(error) bool
	}{
		{"no URL", newWith(func(c *Config) { c.Endpoint.URL = nil }), func(err error) bool {
			return errors.Is(err, transport.ErrNoURL)
		}},
		{"no extension", newWith(func(c *Config) { c.Endpoint.User = "" }), func(err error) bool {
			return errors.Is(err, ErrNoExtension)
		}},
		{"no secret", newWith(func(c *Config) { c.Endpoint.Password = "" }), func(err error) bool {
			var se *NoSecretError
			return errors.As(err, &se) && se.Extension == fakeExt
		}},
		{"page size configured too large", newWith(func(c *Config) { c.Limit = MaxLimit + 1 }), func(err error) bool {
			var le *LimitError
			return errors.As(err, &le) && le.Limit == MaxLimit+1 && le.Max == MaxLimit
		}},
		{"page size asked too large", calls(f.client(t, nil), cdr.Query{Page: 1, Limit: MaxLimit + 1}), func(err error) bool {
			var le *LimitError
			return errors.As(err, &le) && le.Limit == MaxLimit+1 && le.Max == MaxLimit
		}},
		{"no user list", func() error { _, err := f.client(t, nil).Users(t.Context()); return err }, func(err error) bool {
			return errors.Is(err, ErrNoUserList) && errors.Is(err, errors.ErrUnsupported)
		}},
		{"endless paging", calls(endless.client(t, func(c *Config) { c.Limit = 5 }), cdr.Query{}), func(err error) bool {
			var pe *EndlessPagingError
			return errors.As(err, &pe) && pe.Host == endless.srv.Listener.Addr().String() && pe.Page > 1
		}},
		{"page too long", calls(long.client(t, nil), cdr.Query{Page: 1, Limit: 100}), func(err error) bool {
			var pe *PageTooLongError
			return errors.As(err, &pe) && pe.Page == 1 && pe.Asked == 100 && pe.Max == minPageRows &&
				errors.Is(err, transport.ErrTooLarge)
		}},
	} {
		err := tc.do()
		if err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		if s := err.Error(); strings.Contains(s, "--") || strings.Contains(s, "callscope calls") || strings.Contains(s, "CALLSCOPE_") {
			t.Errorf("%s: %q gives command-line advice", tc.name, s)
		}
		if !tc.check(err) {
			t.Errorf("%s: %q (%T) is not the typed error with its facts", tc.name, err, err)
		}
	}
}
