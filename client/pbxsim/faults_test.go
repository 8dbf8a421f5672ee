package pbxsim

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callscope/callscope/client/cdr"
)

func TestFaultLatency(t *testing.T) {
	// A latency long beside an answer's own time, so that a loaded machine (a race run beside a build) does not
	// make an answer without it look delayed.
	const latency = time.Second
	srv := startSim(t, Options{Days: 1, Faults: Faults{Latency: latency}})
	began := time.Now()
	if r := get(t, srv, "/commagui/cdr?format=txt", comxAuth); r.status != 200 {
		t.Fatalf("status %d", r.status)
	}
	if d := time.Since(began); d < latency {
		t.Errorf("answered after %s, want at least %s", d, latency)
	}
	srv.SetFaults(Faults{})
	began = time.Now()
	get(t, srv, "/commagui/cdr?format=txt", comxAuth)
	if d := time.Since(began); d >= latency {
		t.Errorf("latency still applied after SetFaults: %s", d)
	}
}

func TestFaultStall(t *testing.T) {
	srv := startSim(t, Options{Days: 1, Faults: Faults{Stall: true}})
	// began before the deadline is set, so the deadline is at least 300ms after it: taken after, a slow moment
	// between the two (seen under the race detector) made a request that waited its whole deadline look early.
	began := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL()+"/commagui/cdr?format=txt", nil)
	req.SetBasicAuth("admin", "C@11Me")
	res, err := http.DefaultClient.Do(req)
	if err == nil {
		res.Body.Close()
		t.Fatalf("a stalled server answered %d", res.StatusCode)
	}
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(began) < 300*time.Millisecond {
		t.Errorf("err %v after %s", err, time.Since(began))
	}
	// A stalled request still open does not hold up Close.
	go func() {
		req, _ := http.NewRequest("GET", srv.URL()+"/pbx/cdr/data", nil)
		if res, err := http.DefaultClient.Do(req); err == nil {
			res.Body.Close()
		}
	}()
	time.Sleep(50 * time.Millisecond)
	done := make(chan struct{})
	go func() { srv.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		t.Fatal("Close hangs on a stalled request")
	}
}

func TestFaultUnauthorized(t *testing.T) {
	srv := startSim(t, Options{Days: 1})
	srv.SetFaults(Faults{Unauthorized: true})
	for _, p := range []string{"/commagui/cdr?format=txt", "/commagui/cdr?users"} {
		if r := get(t, srv, p, comxAuth); r.status != 401 {
			t.Errorf("%s: %d", p, r.status)
		}
	}
	if r := get(t, srv, "/pbx/cdr/data", difuseAuth); r.status != 401 {
		t.Errorf("difuse: %d", r.status)
	}
	srv.SetFaults(Faults{})
	if r := get(t, srv, "/commagui/cdr?format=txt", comxAuth); r.status != 200 {
		t.Errorf("after clearing: %d", r.status)
	}
}

func TestFaultServerError(t *testing.T) {
	srv := startSim(t, Options{Days: 1, Faults: Faults{ServerErrorEvery: 3}})
	var got []int
	for range 9 {
		got = append(got, get(t, srv, "/pbx/cdr/data?limit=1", difuseAuth).status)
	}
	want := []int{200, 200, 500, 200, 200, 500, 200, 200, 500}
	if !equalInts(got, want) {
		t.Errorf("statuses %v, want %v", got, want)
	}
	srv.SetFaults(Faults{ServerErrorEvery: 1})
	for range 3 {
		if s := get(t, srv, "/commagui/cdr?format=txt", comxAuth).status; s != 500 {
			t.Errorf("every request: %d", s)
		}
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestFaultCutAfterBytes(t *testing.T) {
	srv := startSim(t, Options{Days: 3})
	full := get(t, srv, "/commagui/cdr?format=txt&extended", comxAuth).body
	rec := firstWith(t, srv, func(r cdr.Record) bool { return r.HasRecording() })
	srv.SetFaults(Faults{CutAfterBytes: 5000})
	for _, p := range []string{"/commagui/cdr?format=txt&extended", "/commagui/cdr?format=ziprec", "/commagui/cdr?id=" + rec.UniqueID} {
		r := get(t, srv, p, comxAuth)
		if !errors.Is(r.err, io.ErrUnexpectedEOF) {
			t.Errorf("%s: read error %v, want unexpected EOF", p, r.err)
		}
		if len(r.body) != 5000 {
			t.Errorf("%s: %d bytes before the cut, want 5000", p, len(r.body))
		}
		if strings.Contains(p, "txt") && !bytes.Equal(r.body, full[:5000]) {
			t.Errorf("%s: the bytes before the cut differ from the full answer", p)
		}
	}
	srv.SetFaults(Faults{CutAfterBytes: int64(len(full)) + 10})
	if r := get(t, srv, "/commagui/cdr?format=txt&extended", comxAuth); r.err != nil || !bytes.Equal(r.body, full) {
		t.Errorf("a cut past the end spoiled the body: %v", r.err)
	}
}

func TestFaultMalformedEvery(t *testing.T) {
	srv := startSim(t, Options{Days: 2})
	clean := lines(get(t, srv, "/commagui/cdr?format=txt&extended", comxAuth).body)
	srv.SetFaults(Faults{MalformedEvery: 10})
	for _, extended := range []string{"", "&extended"} {
		got := lines(get(t, srv, "/commagui/cdr?format=txt"+extended, comxAuth).body)
		if len(got) != len(clean) {
			t.Fatalf("%d lines, want %d", len(got), len(clean))
		}
		for i, l := range got {
			_, err := parseIndexLine(l, time.UTC)
			bad := (i+1)%10 == 0
			if bad && err == nil && !strings.Contains(l, "2013/13/45") {
				t.Errorf("line %d should be malformed: %q", i+1, l)
			}
			if !bad && err != nil {
				t.Errorf("line %d should be good: %v", i+1, err)
			}
			if !bad && extended != "" && l != clean[i] {
				t.Errorf("line %d changed: %q", i+1, l)
			}
		}
	}
	files := readZip(t, get(t, srv, "/commagui/cdr?format=ziprec", comxAuth).body)
	idx := lines(files["index.txt"])
	if len(idx) < 10 {
		t.Fatalf("zip index has %d lines", len(idx))
	}
	if _, err := parseIndexLine(idx[9], time.UTC); err == nil {
		t.Errorf("zip index line 10 should be malformed: %q", idx[9])
	}
}

func TestFaultTruncateZip(t *testing.T) {
	srv := startSim(t, Options{Days: 1, Faults: Faults{TruncateZip: true}})
	r := get(t, srv, "/commagui/cdr?format=ziprec", comxAuth)
	if r.status != 200 || len(r.body) == 0 {
		t.Fatalf("%d, %d bytes", r.status, len(r.body))
	}
	if _, err := zip.NewReader(bytes.NewReader(r.body), int64(len(r.body))); err == nil {
		t.Error("a truncated zip reads as whole")
	}
	srv.SetFaults(Faults{})
	r = get(t, srv, "/commagui/cdr?format=ziprec", comxAuth)
	if _, err := zip.NewReader(bytes.NewReader(r.body), int64(len(r.body))); err != nil {
		t.Errorf("after clearing the fault: %v", err)
	}
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestLogHasNoSecrets(t *testing.T) {
	var log syncBuffer
	srv := startSim(t, Options{Days: 1, Log: &log})
	key := DifuseKey("difuse-secret")
	get(t, srv, "/pbx/cdr/data?limit=1&extension=4001&key="+key, "")
	get(t, srv, "/commagui/cdr?format=txt", comxAuth)
	get(t, srv, "/commagui/cdr?users", comxAuth)
	out := log.String()
	if strings.Count(out, "\n") != 3 || !strings.Contains(out, "/pbx/cdr/data") || !strings.Contains(out, " 200 ") {
		t.Errorf("log:\n%s", out)
	}
	for _, secret := range []string{key, "C@11Me", "difuse-secret"} {
		if strings.Contains(out, secret) {
			t.Errorf("log shows a secret %q:\n%s", secret, out)
		}
	}
}
