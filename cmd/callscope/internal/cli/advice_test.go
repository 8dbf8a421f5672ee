package cli

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callscope/callscope/audio/decode"
	"github.com/callscope/callscope/client/archive"
	"github.com/callscope/callscope/client/cdrsync"
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

	// An archive synced from one PBX, which another may not sync into; a folder that is no archive; an index
	// that is damaged.
	small := func() *pbxsim.Server {
		srv, err := pbxsim.Start(pbxsim.Options{Days: 1, CallsPerDay: 5, End: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { srv.Close() })
		return srv
	}
	first, second := small(), small()
	synced := t.TempDir()
	if _, errs, code := run(t, env, "sync", "--url", first.URL(), "--user", "admin", "--dir", synced, "--since", "2026-11-19"); code != 0 {
		t.Fatalf("first sync: exit %d, %s", code, errs)
	}
	empty, damaged := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(damaged, "index.db"), []byte("not an index\n"), 0o600); err != nil {
		t.Fatal(err)
	}
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
		{"sync from another PBX", []string{"sync", "--url", second.URL(), "--user", "admin", "--dir", synced}, 1,
			"; use another --dir for this PBX"},
		{"no archive", []string{"calls", "--archive", empty}, 1,
			"is not a callscope archive (it has no index.db); make one with callscope sync --dir " + empty},
		{"damaged archive", []string{"calls", "--archive", damaged}, 1,
			"its index is damaged: index.db is not an SQLite database; move " + filepath.Join(damaged, "index.db") +
				" aside and run callscope sync --dir " + damaged + " to rebuild it from the PBX"},
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
		{&archive.NotArchiveError{Dir: "/calls"}, "callscope sync --dir /calls"},
		{&archive.DamagedError{Dir: "/calls", Reason: "index.db is empty"}, "callscope sync --dir /calls"},
		{&archive.RecordingNotStoredError{ID: "1.2", Reason: "pbx: HTTP 500"}, "callscope sync tries again"},
		{&archive.RecordingNotStoredError{ID: "1.2"}, "callscope sync fetches it"},
		{&archive.RecordingNotStoredError{ID: "1.2", Lost: os.ErrNotExist}, "callscope sync fetches it"},
		{&cdrsync.OtherPBXError{Dir: "/calls", SyncedFrom: "comx http://a", Source: "comx http://b"}, "use another --dir"},
		{&cdrsync.StateError{Path: "/calls/sync-state.json", Reason: "bad time"}, "from --since"},
		{&cdrsync.NotFetchedError{Count: 2, GaveUp: 1, Attempts: 5, Problems: []string{"call 1.2: HTTP 500"}}, "callscope calls --archive"},
		{&decode.WAVTooLongError{Samples: 1 << 32}, "--format s16le"},
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

// TestInsecureWarningSaysWhere: with TLS checks off the command line warns once, naming the setting that turned
// them off: a flag, a variable or a profile.
func TestInsecureWarningSaysWhere(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	args := []string{"calls", "--demo", "--from", "2014-03-28", "--to", "2014-03-29", "--format", "csv"}
	for _, tc := range []struct {
		name  string
		env   map[string]string
		extra []string
		want  string
	}{
		{"flag", nil, []string{"--insecure"}, "TLS certificate checks are off (--insecure): "},
		{"variable", map[string]string{"CALLSCOPE_INSECURE": "true"}, nil, "TLS certificate checks are off ($CALLSCOPE_INSECURE): "},
	} {
		_, errs, code := run(t, tc.env, append(args, tc.extra...)...)
		if code != 0 || strings.Count(errs, "TLS certificate checks are off") != 1 || !strings.Contains(errs, tc.want) {
			t.Errorf("%s: exit %d, stderr %q; want one warning saying %q", tc.name, code, errs, tc.want)
		}
	}
}
