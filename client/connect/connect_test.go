package connect

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/pbxsim"
)

func TestOpenEachKind(t *testing.T) {
	srv, err := pbxsim.Start(pbxsim.Options{Days: 2, CallsPerDay: 20})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ctx := context.Background()
	for _, tc := range []struct {
		s    Settings
		kind string
	}{
		{Settings{URL: srv.URL(), User: pbxsim.DefaultComxUser, Password: pbxsim.DefaultComxPassword}, cdr.KindComX},
		{Settings{Kind: "DIFUSE", URL: srv.URL(), User: pbxsim.DefaultDifuseExtension, Password: pbxsim.DefaultDifuseSecret}, cdr.KindDifuse},
		// Credentials in the URL, and a user given apart from it that wins.
		{Settings{URL: strings.Replace(srv.URL(), "://", "://nobody:C%4011Me@", 1), User: "admin"}, cdr.KindComX},
	} {
		src, err := Open(tc.s)
		if err != nil {
			t.Fatalf("%+v: %v", tc.s.Kind, err)
		}
		if got := src.Capabilities().Kind; got != tc.kind {
			t.Errorf("kind %q, want %q", got, tc.kind)
		}
		if strings.Contains(src.Describe(), "C@11Me") || strings.Contains(src.Describe(), "nobody") {
			t.Errorf("Describe shows credentials: %s", src.Describe())
		}
		n := 0
		if _, err := src.Calls(ctx, cdr.Query{Page: 1, Limit: 10}, func(cdr.Record) error { n++; return nil }); err != nil || n == 0 {
			t.Errorf("%s: %d calls, %v", tc.kind, n, err)
		}
	}
	if _, err := Open(Settings{Kind: "asterisk", URL: srv.URL()}); err == nil || !strings.Contains(err.Error(), "comx or difuse") {
		t.Errorf("unknown kind: %v", err)
	}
}

// TestWarningsNameNoFlag: what Open warns about is said without naming a flag: which setting turned TLS checks
// off (a flag, a variable, a profile) is the caller's to say, and the caller warns about it.
func TestWarningsNameNoFlag(t *testing.T) {
	for _, s := range []Settings{
		{URL: "https://pbx.example", Insecure: true},
		{Kind: cdr.KindDifuse, URL: "https://pbx.example", User: "4001", Password: "secret", Insecure: true, KeyParam: true},
	} {
		var warned []string
		s.Warn = func(w string) { warned = append(warned, w) }
		if _, err := Open(s); err != nil {
			t.Fatal(err)
		}
		for _, w := range warned {
			if strings.Contains(w, "--") || strings.Contains(w, "TLS certificate checks are off") {
				t.Errorf("%s: warning %q is the caller's to give", s.Kind, w)
			}
		}
	}
}

// TestObserverHearsEachKind: a Com.X and a Difuse source, opened alike, report the problems that did not stop
// them (malformed index lines, a page that failed and was asked again) and the bytes they read to the Observer
// in the context; without one they still work.
func TestObserverHearsEachKind(t *testing.T) {
	srv, err := pbxsim.Start(pbxsim.Options{Days: 2, CallsPerDay: 120, End: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	for _, tc := range []struct {
		s      Settings
		faults pbxsim.Faults
	}{
		{Settings{URL: srv.URL(), User: pbxsim.DefaultComxUser, Password: pbxsim.DefaultComxPassword},
			pbxsim.Faults{MalformedEvery: 25}},
		{Settings{Kind: cdr.KindDifuse, URL: srv.URL(), User: pbxsim.DefaultDifuseExtension, Password: pbxsim.DefaultDifuseSecret},
			pbxsim.Faults{ServerErrorEvery: 2}},
	} {
		src, err := Open(tc.s)
		if err != nil {
			t.Fatal(err)
		}
		kind := src.Capabilities().Kind
		srv.SetFaults(tc.faults)
		var warns int
		var bytes int64
		ctx := cdr.WithObserver(context.Background(), cdr.Observer{OnWarn: func(error) { warns++ }, OnProgress: func(n int64) { bytes = n }})
		res, err := src.Calls(ctx, cdr.Query{}, func(cdr.Record) error { return nil })
		if err != nil || res.Rows == 0 || warns == 0 || bytes == 0 {
			t.Errorf("%s: %+v, %d warnings, %d bytes, %v", kind, res, warns, bytes, err)
		}
		srv.SetFaults(pbxsim.Faults{})
		if _, err := src.Calls(context.Background(), cdr.Query{}, func(cdr.Record) error { return nil }); err != nil {
			t.Errorf("%s without an observer: %v", kind, err)
		}
	}
}

// TestPBXClockOfEachKind: a Com.X and a Difuse source know the PBX's clock once it has answered, from its Date
// header, here years behind this computer's.
func TestPBXClockOfEachKind(t *testing.T) {
	pbxNow := time.Date(2019, 6, 15, 10, 30, 0, 0, time.UTC)
	srv, err := pbxsim.Start(pbxsim.Options{Days: 2, CallsPerDay: 20, Now: pbxNow, FrozenClock: true})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	for _, s := range []Settings{
		{URL: srv.URL(), User: pbxsim.DefaultComxUser, Password: pbxsim.DefaultComxPassword},
		{Kind: cdr.KindDifuse, URL: srv.URL(), User: pbxsim.DefaultDifuseExtension, Password: pbxsim.DefaultDifuseSecret},
	} {
		src, err := Open(s)
		if err != nil {
			t.Fatal(err)
		}
		kind := src.Capabilities().Kind
		if got, ok := cdr.PBXClockOf(src); ok {
			t.Errorf("%s: a clock before any answer: %v", kind, got)
		}
		if _, err := src.Calls(context.Background(), cdr.Query{Page: 1, Limit: 5}, func(cdr.Record) error { return nil }); err != nil {
			t.Fatal(err)
		}
		if got, ok := cdr.PBXClockOf(src); !ok || got.Before(pbxNow) || got.After(pbxNow.Add(time.Minute)) {
			t.Errorf("%s: PBX clock %v, %v; want about %v", kind, got, ok, pbxNow)
		}
	}
}
