package connect

import (
	"context"
	"strings"
	"testing"

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
	var warned string
	if _, err := Open(Settings{URL: "https://pbx.example", Insecure: true, Warn: func(s string) { warned = s }}); err != nil || !strings.Contains(warned, "--insecure") {
		t.Errorf("insecure: %v, warning %q", err, warned)
	}
}
