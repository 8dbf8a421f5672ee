package comx_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/comx"
	"github.com/callscope/callscope/client/transport"
	"github.com/callscope/callscope/client/transport/transporttest"
)

const oneLine = "1362123180.67,2013/03/01/09:33:00,CALLTYPE_INBOUND,8266,,,CALL_ANSWERED,221,216,0,\n"

// TestRedirectsNeverCarryCredentialsAway: a Com.X on https (and one on http) that redirects. The Basic header
// follows a redirect only to the configured scheme, host and port; https→http is refused; a redirect that
// changes the origin in any way is refused with a line that says what to do.
func TestRedirectsNeverCarryCredentialsAway(t *testing.T) {
	var srv *transporttest.Server
	mux := http.NewServeMux()
	hop := func(prefix string, to func() string) {
		mux.HandleFunc(prefix+"/", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, to()+"/ok"+strings.TrimPrefix(r.URL.Path, prefix)+"?"+r.URL.RawQuery, http.StatusFound)
		})
	}
	hop("/to-http", func() string { return srv.PlainURL })
	hop("/to-https", func() string { return srv.URL })
	hop("/same", func() string { return srv.URL })
	hop("/other", func() string { return strings.Replace(srv.URL, "127.0.0.1", "localhost", 1) })
	mux.HandleFunc("/ok/", func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "admin" || p != "s3cret-pw" {
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
			return
		}
		w.Write([]byte(oneLine))
	})
	srv, err := transporttest.NewDualServer(mux, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()

	for _, tc := range []struct {
		name, base string
		ok         bool
		says       string
	}{
		{"https to the same origin", srv.URL + "/same", true, ""},
		{"https to http, same host and port", srv.URL + "/to-http", false, "plain http"},
		{"https to another host", srv.URL + "/other", false, "localhost"},
		{"http to https", srv.PlainURL + "/to-https", false, "another address than the configured"},
	} {
		srv.Reset()
		ep, err := transport.ParseEndpoint(tc.base)
		if err != nil {
			t.Fatal(err)
		}
		ep.User, ep.Password = "admin", "s3cret-pw"
		c, err := comx.New(comx.Config{Endpoint: ep, Timeout: 5 * time.Second, CAFile: srv.CAFile, Zone: time.UTC})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		_, err = c.Calls(context.Background(), cdr.Query{}, func(cdr.Record) error { n++; return nil })
		switch {
		case tc.ok && (err != nil || n != 1):
			t.Errorf("%s: %d calls, %v", tc.name, n, err)
		case !tc.ok && (err == nil || !strings.Contains(err.Error(), tc.says)):
			t.Errorf("%s: error %v, want one saying %q", tc.name, err, tc.says)
		}
		// Where following would have been right (the PBX moved to https), the error names the address to use.
		var re *transport.RedirectError
		if tc.name == "http to https" && (!errors.As(err, &re) || re.Suggest != srv.URL) {
			t.Errorf("%s: %#v does not suggest %s", tc.name, err, srv.URL)
		}
		if err != nil && strings.Contains(err.Error(), "s3cret-pw") {
			t.Errorf("%s: the password is in the error", tc.name)
		}
		// Whatever happened, the only plain-http request allowed is the first one of the http case, which
		// the user configured as http.
		for i, r := range srv.Plain() {
			if i == 0 && strings.HasPrefix(tc.base, "http:") {
				continue
			}
			t.Errorf("%s: request %s went over plain http (Authorization sent: %v)", tc.name, r.Path, r.Authorization != "")
		}
		for _, r := range srv.Requests() {
			if r.Host != strings.TrimPrefix(srv.URL, "https://") && r.Authorization != "" {
				t.Errorf("%s: the Basic header went to %s", tc.name, r.Host)
			}
		}
	}
}
