package cli

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callscope/callscope/client/archive"
	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/comx"
	"github.com/callscope/callscope/client/pbxsim"
	"github.com/callscope/callscope/client/transport"
)

func comxClientFor(t *testing.T, base string, zone *time.Location) *comx.Client {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	c, err := comx.New(comx.Config{Endpoint: transport.Endpoint{URL: u, User: comx.FactoryDefaultUser,
		Password: cdr.Secret(comx.FactoryDefaultPassword)}, Zone: zone})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// simLog collects the simulator's request lines.
type simLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *simLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// requests counts ziprec requests and one-recording requests (an id or start without a format).
func (l *simLog) requests() (zips, recordings int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range strings.Split(l.b.String(), "\n") {
		switch {
		case strings.Contains(line, "format=ziprec"):
			zips++
		case strings.Contains(line, "/commagui/cdr?") && !strings.Contains(line, "format=") && !strings.Contains(line, "users"):
			recordings++
		}
	}
	return zips, recordings
}

// TestSyncFactoryDefaultUsesZip: a PBX reached with the factory default password is wrapped by the check that
// warns about it; the sync through that wrapper still fetches each chunk as one ziprec, not one request per
// recording, and the warning is still given.
func TestSyncFactoryDefaultUsesZip(t *testing.T) {
	zone := pbxsim.DefaultLocation()
	end := time.Date(2026, 11, 20, 0, 0, 0, 0, zone).Add(-time.Second)
	log := &simLog{}
	srv, err := pbxsim.Start(pbxsim.Options{Days: 3, End: end, CallsPerDay: 40, Zone: zone, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	t.Setenv("CALLSCOPE_PASSWORD", comx.FactoryDefaultPassword)
	dir := t.TempDir()
	stderr, err := runSyncCLI(t, context.Background(), "sync", "--url", srv.URL(), "--user", comx.FactoryDefaultUser,
		"--dir", dir, "--since", "2026-11-17", "--tz", pbxsim.DefaultZone)
	if err != nil {
		t.Fatalf("%v: %s", err, stderr)
	}
	zips, recs := log.requests()
	chunks := strings.Count(stderr, "synced calls ")
	if zips == 0 || recs != 0 {
		t.Fatalf("the sync made %d ziprec requests and %d one-recording requests; want one zip per chunk and none for single recordings\n%s",
			zips, recs, stderr)
	}
	if chunks > 0 && zips != chunks {
		t.Errorf("%d chunks, %d zips", chunks, zips)
	}
	if n := strings.Count(stderr, factoryWarning); n != 1 {
		t.Errorf("factory default warning %d times in %q", n, stderr)
	}
	a, err := archive.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if n, _ := a.Count(context.Background()); n != srv.Total() {
		t.Fatalf("archived %d calls of %d", n, srv.Total())
	}
}

// TestWrappersForwardZipFetcher: both of the command line's wrappers keep the ziprec capability of the client
// they wrap, each with its own duty (the warning, the logger), and say so plainly when what they wrap has none.
func TestWrappersForwardZipFetcher(t *testing.T) {
	zone := pbxsim.DefaultLocation()
	end := time.Date(2026, 11, 20, 0, 0, 0, 0, zone).Add(-time.Second)
	srv, err := pbxsim.Start(pbxsim.Options{Days: 1, End: end, CallsPerDay: 20, Zone: zone})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	c := comxClientFor(t, srv.URL(), zone)
	var logged bytes.Buffer
	seen := 0
	from := time.Date(2026, 11, 19, 0, 0, 0, 0, time.UTC)
	q := cdr.Query{From: from, To: from.Add(24 * time.Hour)}
	for _, tc := range []struct {
		name  string
		src   cdr.Source
		check func() bool
	}{
		{"factoryDefaultCheck", &factoryDefaultCheck{Source: c, seen: func() { seen++ }}, func() bool { return seen > 0 }},
		{"loggedSource", loggedSource{Source: c, log: slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{Level: slog.LevelDebug}))},
			func() bool { return strings.Contains(logged.String(), "ziprec") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			zf, ok := tc.src.(comx.ZipFetcher)
			if !ok {
				t.Fatalf("%T hides the client's ZipFetcher", tc.src)
			}
			var zip bytes.Buffer
			n, err := zf.FetchZip(context.Background(), q, &zip)
			if err != nil || n == 0 || int64(zip.Len()) != n {
				t.Fatalf("FetchZip: %d bytes, %v", n, err)
			}
			body, err := zf.Index(context.Background(), q)
			if err != nil {
				t.Fatal(err)
			}
			index, _ := io.ReadAll(body)
			body.Close()
			if !bytes.Contains(index, []byte(",")) {
				t.Fatalf("Index: %q", index)
			}
			if !tc.check() {
				t.Errorf("%s did its duty for the zip fetch: no", tc.name)
			}
		})
	}
	// A wrapped source without the capability (an archive, a Difuse) says so, without a request.
	a, err := archive.Init(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	for _, src := range []cdr.Source{&factoryDefaultCheck{Source: a, seen: func() {}}, loggedSource{Source: a, log: slog.Default()}} {
		_, err := src.(comx.ZipFetcher).FetchZip(context.Background(), q, io.Discard)
		if !errors.Is(err, errors.ErrUnsupported) {
			t.Errorf("%T over an archive: FetchZip gave %v, want an unsupported error", src, err)
		}
	}
}
