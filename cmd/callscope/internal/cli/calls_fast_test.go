package cli

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/comx"
	"github.com/callscope/callscope/client/pbxsim"
	"github.com/callscope/callscope/client/transport"
)

// hostileIndexBytes is a week of pbxsim's extended index with hostile and malformed lines among its rows.
func hostileIndexBytes(t *testing.T) []byte {
	lines := strings.SplitAfter(string(simIndexBytes(t, 7, 300)), "\n")
	bad := []string{
		"1795078000.1,2026/10/27/10:00:00,CALLTYPE_INBOUND,2001,,=HYPERLINK(\"http://evil.invalid\"),CALL_ANSWERED,30,25,1000,g.gsm,\x1b[31mRed\x1b[0m,@SUM(1),+cmd,-2+3\n",
		"1795078001.2,2026/10/27/10:00:01,CALLTYPE_OUTBOUND,2002,+27 82 123 4567,\"Smith, John\" <2001>,CALL_NOANSWER,0,0,0,,Zoë\u202eAdams,,\t=1,a\x00b\r\n",
		"not,an,index,line\n", "\n", "1.1,2026/02/30/09:33:00,CALLTYPE_INBOUND,8266,,,CALL_ANSWERED,1,1,1,f\n",
	}
	var b strings.Builder
	for i, l := range lines {
		b.WriteString(l)
		if i%97 == 0 {
			b.WriteString(bad[i/97%len(bad)])
		}
	}
	return []byte(b.String())
}

func comxClient(t *testing.T, url string, zone *time.Location) *comx.Client {
	ep, err := transport.ParseEndpoint(url)
	if err != nil {
		t.Fatal(err)
	}
	ep.User, ep.Password = "u", "pw"
	c, err := comx.New(comx.Config{Endpoint: ep, Zone: zone})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// `calls --format csv|json` from a Com.X goes through WriteCalls; it must write what the row-by-row path (the
// one archives and Difuse take) writes, with the same warnings, for every output and selection flag.
func TestCallsFastPathMatchesRecordPath(t *testing.T) {
	index := hostileIndexBytes(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write(index) }))
	defer srv.Close()
	for _, tc := range []struct {
		format string
		raw    bool
		flags  queryFlags
	}{
		{"csv", false, queryFlags{}},
		{"csv", true, queryFlags{}},
		{"json", false, queryFlags{}},
		{"csv", false, queryFlags{from: "2026-10-27T09:30:30", to: "2026-10-29"}},
		{"json", false, queryFlags{exts: []string{"2001", "2017"}, dispositions: []string{"answered"}}},
		{"csv", false, queryFlags{exts: []string{"2017"}, types: []string{"inbound", "internal"}}},
	} {
		name := fmt.Sprintf("%s raw=%v %+v", tc.format, tc.raw, tc.flags)
		tc.flags.limit = 100
		q, keep, err := tc.flags.query()
		if err != nil {
			t.Fatal(err)
		}
		for _, zone := range []*time.Location{nil, time.FixedZone("UTC+02:00", 7200)} {
			var fastOut, fastErr, slowOut, slowErr bytes.Buffer
			fast := &app{stdout: &fastOut, stderr: &fastErr}
			w, _ := newRecordWriter(tc.format, tc.raw, &fastOut)
			fres, ferr := fast.writeCalls(context.Background(), comxClient(t, srv.URL, zone), q, keep, w.(cdr.EncodedWriter))
			w.Flush()
			slow := &app{stdout: &slowOut, stderr: &slowErr}
			w, _ = newRecordWriter(tc.format, tc.raw, &slowOut)
			sres, serr := slow.streamCalls(context.Background(), comxClient(t, srv.URL, zone), q, keep, w.Write)
			w.Flush()
			if ferr != nil || serr != nil || fres != sres {
				t.Fatalf("%s: %+v %v; row by row %+v %v", name, fres, ferr, sres, serr)
			}
			if fastOut.String() != slowOut.String() || fastErr.String() != slowErr.String() {
				t.Fatalf("%s: output differs:\n%.500s\nstderr %s\nrow by row:\n%.500s\nstderr %s", name, fastOut.String(),
					fastErr.String(), slowOut.String(), slowErr.String())
			}
			if sres.Skipped == 0 || sres.Rows < 20 {
				t.Fatalf("%s: %+v: the index was not what the test needs", name, sres)
			}
		}
	}
}

// The factory default password's warning still comes once when the rows come through WriteCalls.
func TestCallsFastPathFactoryDefault(t *testing.T) {
	srv, err := pbxsim.Start(pbxsim.Options{Days: 2, CallsPerDay: 50, End: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	out, errs, code := run(t, map[string]string{"CALLSCOPE_PASSWORD": pbxsim.DefaultComxPassword}, "calls", "--url",
		srv.URL(), "--user", pbxsim.DefaultComxUser, "--format", "json")
	if code != 0 || strings.Count(out, "\n") < 20 || strings.Count(errs, "factory default password") != 1 {
		t.Fatalf("exit %d, %d lines, stderr %q", code, strings.Count(out, "\n"), errs)
	}
}
