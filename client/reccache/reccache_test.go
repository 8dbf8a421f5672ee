package reccache

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/transport"
)

// httpSource is a small real cdr.Source: recordings come over HTTP from a loopback server through the same
// transport the PBX clients use, so errors (401, cut-off bodies) are the product's own.
type httpSource struct {
	base *url.URL
	tc   *transport.Client
}

func newHTTPSource(t *testing.T, srv *httptest.Server) *httpSource {
	t.Helper()
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	tc, err := transport.New(transport.Config{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return &httpSource{base: u, tc: tc}
}

func (s *httpSource) Describe() string                          { return "test " + s.base.String() }
func (s *httpSource) Capabilities() cdr.Capabilities            { return cdr.Capabilities{Kind: "test"} }
func (s *httpSource) Zone() cdr.ZoneInfo                        { return cdr.ZoneInfo{} }
func (s *httpSource) Users(context.Context) ([]cdr.User, error) { return nil, nil }
func (s *httpSource) Calls(context.Context, cdr.Query, func(cdr.Record) error) (cdr.Result, error) {
	return cdr.Result{}, nil
}
func (s *httpSource) Call(_ context.Context, l cdr.Lookup) (cdr.Record, error) {
	return cdr.Record{}, cdr.NotFoundError(l)
}

func (s *httpSource) Recording(ctx context.Context, l cdr.Lookup) (*cdr.Recording, error) {
	if l.Record == nil || l.Record.Recording == "" {
		return nil, cdr.NoRecordingError(l)
	}
	u := *s.base
	u.Path = "/rec/" + url.PathEscape(l.Record.Recording)
	resp, err := s.tc.Get(ctx, transport.Request{URL: &u})
	if err != nil {
		return nil, err
	}
	format := ""
	if strings.HasSuffix(l.Record.Recording, ".wav") {
		format = "wav"
	}
	return &cdr.Recording{ReadCloser: resp.Body, Name: l.Record.Recording, Format: format, Size: resp.ContentLength}, nil
}

// server serves /rec/<name> from files; a name in gate waits for the gate to close after sending half.
type server struct {
	mu    sync.Mutex
	files map[string][]byte
	gates map[string]chan struct{}
	cut   map[string]bool // send half, then drop the connection
	hits  atomic.Int64
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.hits.Add(1)
	if r.Header.Get("Authorization") == "" && strings.Contains(r.URL.Path, "secret") {
		http.Error(w, "auth", http.StatusUnauthorized)
		return
	}
	name, _ := url.PathUnescape(strings.TrimPrefix(r.URL.Path, "/rec/"))
	s.mu.Lock()
	data, ok := s.files[name]
	gate := s.gates[name]
	cut := s.cut[name]
	s.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Length", fmt.Sprint(len(data)))
	half := len(data) / 2
	w.Write(data[:half])
	w.(http.Flusher).Flush()
	if cut {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close()
		}
		return
	}
	if gate != nil {
		select {
		case <-gate:
		case <-r.Context().Done():
			return
		}
	}
	w.Write(data[half:])
}

func newServer(t *testing.T) (*server, *httpSource) {
	s := &server{files: map[string][]byte{}, gates: map[string]chan struct{}{}, cut: map[string]bool{}}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, newHTTPSource(t, srv)
}

func payload(n int, seed byte) []byte {
	b := make([]byte, n)
	copy(b, "RIFF")
	for i := 4; i < n; i++ {
		b[i] = byte(i*7) ^ seed
	}
	return b
}

func rec(id, file string) cdr.Record {
	return cdr.Record{UniqueID: id, Start: time.Date(2014, 3, 28, 11, 48, 35, 0, time.UTC), Recording: file, RecordingSize: 1}
}

func wait(t *testing.T, e *Entry) {
	t.Helper()
	select {
	case <-e.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("download did not finish")
	}
}

func TestFetchReadsWhileGrowingThenServesFromDisk(t *testing.T) {
	srv, src := newServer(t)
	data := payload(200_000, 1)
	gate := make(chan struct{})
	srv.files["a.wav"] = data
	srv.gates["a.wav"] = gate
	c, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var last atomic.Int64
	e, err := c.Fetch(context.Background(), src, rec("1396000115.1", "a.wav"), func(n, total int64) {
		if total != int64(len(data)) {
			t.Errorf("progress total %d, want %d", total, len(data))
		}
		last.Store(n)
	})
	if err != nil {
		t.Fatal(err)
	}
	defer e.File.Close()
	if e.Cached || e.Format != "wav" || e.Size != int64(len(data)) || e.Name != "a.wav" {
		t.Fatalf("entry = %+v", e)
	}
	// The first half is readable before the download ends.
	half := len(data) / 2
	got := make([]byte, 0, len(data))
	deadline := time.Now().Add(5 * time.Second)
	buf := make([]byte, 8192)
	for len(got) < half && time.Now().Before(deadline) {
		n, _ := e.File.Read(buf)
		got = append(got, buf[:n]...)
		if n == 0 {
			time.Sleep(5 * time.Millisecond)
		}
	}
	if len(got) != half {
		t.Fatalf("read %d bytes of the growing file, want %d", len(got), half)
	}
	select {
	case <-e.Done():
		t.Fatal("done before the server sent the rest")
	default:
	}
	if !strings.HasSuffix(e.Path(), ".wav.part") {
		t.Fatalf("path while downloading = %s", e.Path())
	}
	// A second reader (the waveform analysis) can open the file mid-download and after the rename.
	r1, err := e.Reopen()
	if err != nil {
		t.Fatal(err)
	}
	defer r1.Close()
	close(gate)
	wait(t, e)
	if err := e.Err(); err != nil {
		t.Fatal(err)
	}
	r2, err := e.Reopen()
	if err != nil {
		t.Fatalf("reopen after the rename: %v", err)
	}
	defer r2.Close()
	for _, r := range []*os.File{r1, r2} {
		if b, _ := io.ReadAll(r); !bytes.Equal(b, data) {
			t.Fatalf("second reader got %d bytes", len(b))
		}
	}
	rest, err := io.ReadAll(e.File)
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, rest...)
	if !bytes.Equal(got, data) {
		t.Fatalf("read %d bytes, differ from the %d served", len(got), len(data))
	}
	if last.Load() != int64(len(data)) || e.Written() != int64(len(data)) {
		t.Fatalf("progress %d, written %d", last.Load(), e.Written())
	}
	if strings.HasSuffix(e.Path(), ".part") || filepath.Dir(e.Path()) != c.Dir() {
		t.Fatalf("final path = %s", e.Path())
	}

	hits := srv.hits.Load()
	e2, err := c.Fetch(context.Background(), src, rec("1396000115.1", "a.wav"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer e2.File.Close()
	if !e2.Cached || e2.Format != "wav" || srv.hits.Load() != hits {
		t.Fatalf("second fetch: cached=%v format=%q hits %d→%d", e2.Cached, e2.Format, hits, srv.hits.Load())
	}
	b, _ := io.ReadAll(e2.File)
	if !bytes.Equal(b, data) {
		t.Fatal("cached bytes differ")
	}
	if !c.Has(src, rec("1396000115.1", "a.wav")) {
		t.Fatal("Has = false for a cached recording")
	}
}

func TestFetchErrorsBeforeFirstByte(t *testing.T) {
	_, src := newServer(t)
	c, _ := Open(t.TempDir())
	_, err := c.Fetch(context.Background(), src, rec("1.1", "secret.wav"), nil)
	if !errors.Is(err, cdr.ErrAuth) || !strings.Contains(err.Error(), "401") {
		t.Fatalf("401: err = %v", err)
	}
	_, err = c.Fetch(context.Background(), src, rec("1.2", ""), nil)
	if !errors.Is(err, cdr.ErrNoRecording) {
		t.Fatalf("no recording: err = %v", err)
	}
	_, err = c.Fetch(context.Background(), src, rec("1.3", "missing.wav"), nil)
	if transport.StatusOf(err) != 404 {
		t.Fatalf("missing: err = %v", err)
	}
	if ents, _ := os.ReadDir(c.Dir()); len(ents) != 0 {
		t.Fatalf("files left after failed fetches: %v", ents)
	}
}

func TestCutOffDownloadIsNotCached(t *testing.T) {
	srv, src := newServer(t)
	srv.files["cut.wav"] = payload(100_000, 2)
	srv.cut["cut.wav"] = true
	c, _ := Open(t.TempDir())
	e, err := c.Fetch(context.Background(), src, rec("2.1", "cut.wav"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer e.File.Close()
	wait(t, e)
	if e.Err() == nil {
		t.Fatal("a cut-off download reported success")
	}
	if ents, _ := os.ReadDir(c.Dir()); len(ents) != 0 {
		t.Fatalf("files left after a cut-off download: %v", ents)
	}
	hits := srv.hits.Load()
	e2, err := c.Fetch(context.Background(), src, rec("2.1", "cut.wav"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer e2.File.Close()
	wait(t, e2)
	if e2.Cached || srv.hits.Load() != hits+1 {
		t.Fatal("a cut-off download was served from the cache")
	}
}

func TestCancelStopsDownload(t *testing.T) {
	srv, src := newServer(t)
	srv.files["slow.wav"] = payload(50_000, 3)
	srv.gates["slow.wav"] = make(chan struct{}) // never opens
	c, _ := Open(t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	e, err := c.Fetch(ctx, src, rec("3.1", "slow.wav"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer e.File.Close()
	cancel()
	wait(t, e)
	if !errors.Is(e.Err(), context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", e.Err())
	}
	if ents, _ := os.ReadDir(c.Dir()); len(ents) != 0 {
		t.Fatalf("files left after cancel: %v", ents)
	}
}

func TestConcurrentFetchesShareOneDownload(t *testing.T) {
	srv, src := newServer(t)
	data := payload(80_000, 4)
	gate := make(chan struct{})
	srv.files["s.wav"] = data
	srv.gates["s.wav"] = gate
	c, _ := Open(t.TempDir())
	e1, err := c.Fetch(context.Background(), src, rec("4.1", "s.wav"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer e1.File.Close()
	e2, err := c.Fetch(context.Background(), src, rec("4.1", "s.wav"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer e2.File.Close()
	close(gate)
	wait(t, e1)
	wait(t, e2)
	if srv.hits.Load() != 1 {
		t.Fatalf("%d requests for one recording", srv.hits.Load())
	}
	for i, e := range []*Entry{e1, e2} {
		b, _ := io.ReadAll(e.File)
		if !bytes.Equal(b, data) {
			t.Fatalf("reader %d got %d bytes", i, len(b))
		}
	}
}

func TestEvictsLeastRecentlyUsed(t *testing.T) {
	srv, src := newServer(t)
	c, _ := Open(t.TempDir())
	c.SetMaxBytes(250_000)
	for i := range 4 {
		name := fmt.Sprintf("r%d.wav", i)
		srv.files[name] = payload(100_000, byte(i))
	}
	fetch := func(i int) *Entry {
		e, err := c.Fetch(context.Background(), src, rec(fmt.Sprintf("5.%d", i), fmt.Sprintf("r%d.wav", i)), nil)
		if err != nil {
			t.Fatal(err)
		}
		wait(t, e)
		e.File.Close()
		return e
	}
	fetch(0)
	time.Sleep(20 * time.Millisecond)
	fetch(1)
	time.Sleep(20 * time.Millisecond)
	fetch(0) // a hit: 0 is now more recent than 1
	time.Sleep(20 * time.Millisecond)
	fetch(2) // 300 kB > 250 kB: the least recently used (1) goes
	if c.Has(src, rec("5.1", "r1.wav")) {
		t.Fatal("least recently used recording was kept")
	}
	if !c.Has(src, rec("5.0", "r0.wav")) || !c.Has(src, rec("5.2", "r2.wav")) {
		t.Fatal("a recently used recording was evicted")
	}
	if c.Size() > 250_000 {
		t.Fatalf("cache holds %d bytes, limit 250000", c.Size())
	}
	// A recording larger than the whole limit is kept until the next download.
	c.SetMaxBytes(50_000)
	fetch(3)
	if !c.Has(src, rec("5.3", "r3.wav")) {
		t.Fatal("the recording just downloaded was evicted")
	}
	if c.Size() != 100_000 {
		t.Fatalf("size %d after trimming to one file", c.Size())
	}
}

func TestHostileIDsStayInsideTheDirectory(t *testing.T) {
	srv, src := newServer(t)
	srv.files["x.wav"] = payload(1000, 5)
	dir := t.TempDir()
	c, _ := Open(filepath.Join(dir, "cache"))
	for _, id := range []string{"../../escape", "/etc/passwd", "..", ".hidden", "a\x00b", "a/b", "a_b", strings.Repeat("z", 500)} {
		e, err := c.Fetch(context.Background(), src, rec(id, "x.wav"), nil)
		if err != nil {
			t.Fatalf("%q: %v", id, err)
		}
		wait(t, e)
		e.File.Close()
		if filepath.Dir(e.Path()) != c.Dir() || strings.HasPrefix(filepath.Base(e.Path()), ".") {
			t.Fatalf("%q stored at %s", id, e.Path())
		}
	}
	ents, _ := os.ReadDir(c.Dir())
	if len(ents) != 8 {
		t.Fatalf("%d files for 8 distinct IDs (a/b and a_b must not collide)", len(ents))
	}
	outside, _ := os.ReadDir(dir)
	if len(outside) != 1 {
		t.Fatalf("files written outside the cache: %v", outside)
	}
}

func TestOpenRemovesStalePartials(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(dir, "x-0123.wav.part")
	keep := filepath.Join(dir, "notes.txt")
	os.WriteFile(stale, []byte("half"), 0o600)
	os.WriteFile(keep, []byte("mine"), 0o600)
	c, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Fatal("stale .part kept")
	}
	c.SetMaxBytes(1)
	c.Trim()
	if _, err := os.Stat(keep); err != nil {
		t.Fatal("Trim removed a file the cache did not write")
	}
}

func TestSafeName(t *testing.T) {
	for in, want := range map[string]string{
		"2014/03/28/1396000115.1.wav":   "1396000115.1.wav",
		"http://pbx/rec/a b.wav?key=s3": "a_b.wav",
		`..\..\evil.gsm`:                "evil.gsm",
		"...":                           "",
		".hidden.wav":                   "hidden.wav",
		"":                              "",
	} {
		if got := SafeName(in); got != want {
			t.Errorf("SafeName(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzSafeNames(f *testing.F) {
	f.Add("../../a.wav", "1.2")
	f.Add("", "")
	f.Fuzz(func(t *testing.T, name, id string) {
		for _, s := range []string{SafeName(name), SafeID(id), Key(nil, cdr.Record{UniqueID: id, Recording: name})} {
			if strings.ContainsAny(s, "/\\\x00") || strings.HasPrefix(s, ".") || s == ".." {
				t.Fatalf("unsafe name %q from %q/%q", s, name, id)
			}
		}
	})
}
