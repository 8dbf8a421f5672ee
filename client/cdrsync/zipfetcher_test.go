package cdrsync

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callscope/callscope/client/archive"
	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/comx"
	"github.com/callscope/callscope/client/pbxsim"
)

// forwarding wraps a source the way the command line's wrappers do (a warning, a logger): it embeds cdr.Source,
// which hides every method the interface does not name, and forwards the ziprec capability by hand.
type forwarding struct {
	cdr.Source
	zip *comx.Client
}

func (f forwarding) FetchZip(ctx context.Context, q cdr.Query, w io.Writer) (int64, error) {
	return f.zip.FetchZip(ctx, q, w)
}

func (f forwarding) Index(ctx context.Context, q cdr.Query) (io.ReadCloser, error) {
	return f.zip.Index(ctx, q)
}

// embedding only embeds cdr.Source: a wrapper that forwards nothing.
type embedding struct{ cdr.Source }

// refusing forwards the capability to a source that has none, as a wrapper around a Difuse client does.
type refusing struct{ cdr.Source }

func (r refusing) FetchZip(context.Context, cdr.Query, io.Writer) (int64, error) {
	return 0, comx.NoZip(r)
}
func (r refusing) Index(context.Context, cdr.Query) (io.ReadCloser, error) { return nil, comx.NoZip(r) }

// requestLog collects the simulator's request lines.
type requestLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *requestLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	l.lines = append(l.lines, strings.Split(strings.TrimSpace(string(p)), "\n")...)
	l.mu.Unlock()
	return len(p), nil
}

// count is how many requests asked for a ziprec, and how many for one call's recording (an id or start
// without a format: the spec's "omitting the format field").
func (l *requestLog) count() (zips, recordings int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range l.lines {
		switch {
		case strings.Contains(line, "format=ziprec"):
			zips++
		case strings.Contains(line, "/commagui/cdr?") && !strings.Contains(line, "format=") && !strings.Contains(line, "users"):
			recordings++
		}
	}
	return zips, recordings
}

// TestSyncWrappedComxUsesZip: a Com.X client behind a wrapper that forwards the ziprec capability is synced
// one zip per chunk, as the bare client is, not one request per recording; a wrapper that forwards nothing still
// syncs every call and recording, one request each, and so does one whose inner source turns out to have no zips.
func TestSyncWrappedComxUsesZip(t *testing.T) {
	end := weekStart.AddDate(0, 0, 3)
	for _, tc := range []struct {
		name    string
		wrap    func(*comx.Client) cdr.Source
		zipPath bool
	}{
		{"bare", func(c *comx.Client) cdr.Source { return c }, true},
		{"forwarding", func(c *comx.Client) cdr.Source { return forwarding{Source: c, zip: c} }, true},
		{"embedding", func(c *comx.Client) cdr.Source { return embedding{c} }, false},
		{"refusing", func(c *comx.Client) cdr.Source { return refusing{c} }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			log := &requestLog{}
			srv, err := pbxsim.Start(pbxsim.Options{Days: 3, End: end.Add(-time.Second), CallsPerDay: 40, Zone: zone,
				Seed: 3, Now: end, FrozenClock: true, Log: log})
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			c := comxClient(t, srv.URL(), zone)
			a := openArchive(t, t.TempDir())
			o := fastOptions(end)
			o.Chunk = 24 * time.Hour
			st, err := Run(context.Background(), tc.wrap(c), a, o)
			if err != nil {
				t.Fatal(err)
			}
			zips, recs := log.count() // before checkComplete asks for every recording itself
			want := simCalls(srv.Sim)
			checkComplete(t, a, want, c, time.Time{})
			recorded := 0
			for _, r := range want {
				if r.HasRecording() {
					recorded++
				}
			}
			t.Logf("%d chunks, %d calls, %d recordings: %d zip requests, %d recording requests", st.Chunks, st.Calls,
				st.Recordings, zips, recs)
			if recorded == 0 || st.Recordings != recorded {
				t.Fatalf("fetched %d recordings of %d", st.Recordings, recorded)
			}
			if tc.zipPath && (zips != st.Chunks || recs != 0) {
				t.Fatalf("%d chunks took %d zip requests and %d recording requests; want one zip per chunk and no recording requests",
					st.Chunks, zips, recs)
			}
			if !tc.zipPath && (zips != 0 || recs != recorded) {
				t.Fatalf("%d zip requests and %d recording requests for %d recordings", zips, recs, recorded)
			}
		})
	}
}

// TestStopWhileDownloadingAhead: a run stopped while one chunk's recordings are stored and the next chunk's zip
// downloads ahead ends promptly, leaves no downloaded file behind, and has moved the watermark past committed
// chunks only; the next run completes the archive.
func TestStopWhileDownloadingAhead(t *testing.T) {
	end := weekStart.AddDate(0, 0, 4)
	srv, err := pbxsim.Start(pbxsim.Options{Days: 4, End: end.Add(-time.Second), CallsPerDay: 60, Zone: zone,
		Seed: 9, Now: end, FrozenClock: true})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	c := comxClient(t, srv.URL(), zone)
	dir := t.TempDir()
	a := openArchive(t, dir)
	for _, stopAfter := range []int{1, 3} { // a Saturday, then a Monday (the Sunday has few calls)
		// Every answer is slow, so the download ahead is still running when the chunk's recordings are stored.
		srv.SetFaults(pbxsim.Faults{Latency: 300 * time.Millisecond})
		ctx, cancel := context.WithCancel(context.Background())
		o := fastOptions(end)
		o.Chunk = 24 * time.Hour
		stored := 0
		var stopped time.Time
		o.OnProgress = func(p Progress) {
			if p.Recordings > 0 && !p.Done && p.Chunk == stopAfter {
				stored++
				if stored == 3 {
					stopped = time.Now()
					cancel()
				}
			}
		}
		_, err := Run(ctx, c, a, o)
		took := time.Since(stopped)
		cancel()
		if err == nil || ctx.Err() == nil {
			t.Fatalf("stopping in chunk %d: %v", stopAfter, err)
		}
		ents, _ := os.ReadDir(filepath.Join(dir, archive.TmpName))
		if len(ents) != 0 {
			t.Fatalf("stopped in chunk %d: files left in tmp: %v", stopAfter, ents)
		}
		st, _ := LoadState(dir)
		t.Logf("stopped in chunk %d, returned %v later: %v; through %s", stopAfter, took, err, st.Through.Format(time.DateTime))
		if took > time.Second {
			t.Errorf("the run took %v to stop", took)
		}
		srv.SetFaults(pbxsim.Faults{})
		if !st.Through.IsZero() {
			checkComplete(t, a, simCalls(srv.Sim), c, st.Through)
		}
	}
	if _, err := Run(context.Background(), c, a, fastOptions(end)); err != nil {
		t.Fatal(err)
	}
	checkComplete(t, a, simCalls(srv.Sim), c, time.Time{})
}
