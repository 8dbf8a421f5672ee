package cli

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/callscope/callscope/client/difuse"
	"github.com/callscope/callscope/client/pbxsim"
	"github.com/callscope/callscope/client/transport"
)

// TestErrorLinesCarryTheRemedy: the libraries' errors say what happened; the command line's one line adds the
// flag or command that deals with it, exactly once, run against real servers.
func TestErrorLinesCarryTheRemedy(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir()) // no profile of the machine's gets in the way
	t.Setenv("CALLSCOPE_CONFIG", filepath.Join(t.TempDir(), "none.toml"))
	stalled, _ := sim(t, pbxsim.Faults{Stall: true})
	up, _ := sim(t, pbxsim.Faults{})
	selfSigned := httptest.NewTLSServer(http.NotFoundHandler())
	defer selfSigned.Close()
	moved := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, up.URL()+r.URL.RequestURI(), http.StatusFound)
	}))
	defer moved.Close()
	upURL, err := url.Parse(up.URL())
	if err != nil {
		t.Fatal(err)
	}
	upOrigin := transport.OriginOf(upURL).String()

	env := map[string]string{"CALLSCOPE_PASSWORD": pbxsim.DefaultComxPassword}
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string // the library's words, then the remedy
	}{
		{"stalled PBX", []string{"calls", "--url", stalled.URL(), "--user", "admin", "--timeout", "300ms", "--from", "2026-11-18"}, 1,
			"no answer within 300ms; --timeout sets the limit"},
		{"self-signed certificate", []string{"calls", "--url", selfSigned.URL, "--user", "admin", "--from", "2026-11-18"}, 1,
			"TLS certificate not trusted (x509: certificate signed by unknown authority); give the PBX's CA with --ca-file (or --insecure to skip the check)"},
		{"redirect to another address", []string{"calls", "--url", moved.URL, "--user", "admin", "--from", "2026-11-18"}, 1,
			"not following with credentials; if that is the PBX, use --url " + upOrigin},
		{"no PBX", []string{"calls", "--from", "2026-11-18"}, 2,
			"no PBX URL given; use --url http://PBX_ADDRESS or --profile NAME"},
		{"no Difuse user list", []string{"users", "--demo", "--kind", "difuse"}, 1,
			"extensions show in the calls; callscope calls --ext N filters by one"},
		{"Difuse page too large", []string{"calls", "--demo", "--kind", "difuse", "--page", "1", "--limit", "10001"}, 1,
			"(at most 10000); ask for at most 10000 with --limit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errs, code := run(t, env, tc.args...)
			if code != tc.code || !strings.Contains(errs, tc.want) {
				t.Fatalf("exit %d, stderr %q; want exit %d saying %q", code, errs, tc.code, tc.want)
			}
			if strings.Count(errs, "\n") != 1 {
				t.Errorf("stderr is not one line: %q", errs)
			}
		})
	}
}

// TestAdviceForEveryTypedError: each typed error the libraries export gets its remedy, also when wrapped, and
// an error the command line has nothing to add to is printed as it is.
func TestAdviceForEveryTypedError(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{&transport.TimeoutError{Host: "pbx", Limit: 10e9}, "--timeout"},
		{&transport.TimeoutError{Host: "pbx", Limit: 10e9, MidAnswer: true}, "--timeout"},
		{&transport.UntrustedCertError{Host: "pbx"}, "--ca-file"},
		{&transport.RedirectError{Msg: "moved", Suggest: "https://pbx:443"}, "use --url https://pbx:443"},
		{transport.ErrNoURL, "--url http://PBX_ADDRESS"},
		{difuse.ErrNoExtension, "--user"},
		{&difuse.NoSecretError{Extension: "4001"}, "CALLSCOPE_PASSWORD"},
		{&difuse.LimitError{Limit: 20000, Max: 10000}, "at most 10000 with --limit"},
		{difuse.ErrNoUserList, "--ext N"},
		{&difuse.EndlessPagingError{Host: "pbx", Page: 1 << 24}, "--page"},
		{&difuse.PageTooLongError{Host: "pbx", Page: 1, Max: 5000, Asked: 100}, "matching --limit"},
	} {
		if strings.Contains(tc.err.Error(), "--") {
			t.Errorf("%T: the library's own text names a flag: %q", tc.err, tc.err)
		}
		for _, err := range []error{tc.err, fmt.Errorf("call 1.2: %w", tc.err)} {
			if got := explain(err); !strings.HasPrefix(got, err.Error()+"; ") || strings.Count(got, tc.want) != 1 {
				t.Errorf("%T: %q, want the error and then %q once", tc.err, got, tc.want)
			}
		}
	}
	plain := &transport.RedirectError{Msg: "pbx redirected from https to plain http; not following"}
	if got := explain(plain); got != plain.Msg {
		t.Errorf("an error without a remedy became %q", got)
	}
}
