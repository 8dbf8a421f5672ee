package cdrsync

import (
	"context"
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

	"github.com/callscope/callscope/client/archive"
	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/comx"
	"github.com/callscope/callscope/client/difuse"
	"github.com/callscope/callscope/client/pbxsim"
	"github.com/callscope/callscope/client/transport"
)

// pbx is a simulator behind a loopback server that counts requests and may rewrite answers, as a hostile or
// broken PBX (or something in front of it) would.
type pbx struct {
	sim   *pbxsim.Sim
	srv   *httptest.Server
	reqs  atomic.Int64 // every request
	lists atomic.Int64 // requests for lists of calls (not for one recording)
	mu    sync.Mutex
	dateF func(pbxNow time.Time) string // the Date header to send instead of the PBX's; "" sends none
	wrap  func(w http.ResponseWriter, r *http.Request, next http.Handler) bool

	brokenSet func(map[string]bool) // set by a test whose wrap breaks recordings
}

func newPBX(t testing.TB, o pbxsim.Options) *pbx {
	t.Helper()
	s, err := pbxsim.New(o)
	if err != nil {
		t.Fatal(err)
	}
	p := &pbx{sim: s}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.reqs.Add(1)
		if q := r.URL.Query(); !strings.HasPrefix(r.URL.Path, "/pbx/cdr/recordings/") && !(q.Has("id") && q.Get("format") == "") {
			p.lists.Add(1)
		}
		p.mu.Lock()
		dateF, wrap := p.dateF, p.wrap
		p.mu.Unlock()
		next := s.Handler()
		if dateF != nil {
			next = dateRewriter(next, s, dateF)
		}
		if wrap != nil && wrap(w, r, next) {
			return
		}
		next.ServeHTTP(w, r)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

// dateRewriter replaces the Date header the PBX sends.
func dateRewriter(next http.Handler, s *pbxsim.Sim, f func(time.Time) string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(&dateWriter{ResponseWriter: w, date: f(s.Now())}, r)
	})
}

type dateWriter struct {
	http.ResponseWriter
	date    string
	written bool
}

func (d *dateWriter) fix() {
	if !d.written {
		d.written = true
		if d.date == "" {
			d.Header()["Date"] = nil // net/http adds none then
		} else {
			d.Header().Set("Date", d.date)
		}
	}
}
func (d *dateWriter) WriteHeader(code int)        { d.fix(); d.ResponseWriter.WriteHeader(code) }
func (d *dateWriter) Write(b []byte) (int, error) { d.fix(); return d.ResponseWriter.Write(b) }
func (d *dateWriter) Flush() {
	d.fix()
	if f, ok := d.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func difuseClient(t testing.TB, base string, loc *time.Location) *difuse.Client {
	t.Helper()
	u, _ := url.Parse(base)
	c, err := difuse.New(difuse.Config{Endpoint: transport.Endpoint{URL: u, User: pbxsim.DefaultDifuseExtension,
		Password: cdr.Secret(pbxsim.DefaultDifuseSecret)}, Zone: loc, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// newSource makes a fresh client of the kind named, as each run of callscope sync does.
func newSource(t testing.TB, kind, base string, loc *time.Location) cdr.Source {
	if kind == "difuse" {
		return difuseClient(t, base, loc)
	}
	return comxClient(t, base, loc)
}

// checkEqual checks the archive holds exactly the calls the PBX has now, field for field, each with its
// recording byte for byte.
func checkEqual(t *testing.T, a *archive.Archive, p *pbx, kind string, loc *time.Location) {
	t.Helper()
	want := simCalls(p.sim)
	if len(want) == 0 {
		t.Fatal("the PBX has no calls: the test proves nothing")
	}
	if kind == "difuse" {
		// What a Difuse client makes of the PBX's calls (its fields differ from Com.X's): one clean fetch.
		want = want[:0]
		if _, err := difuseClient(t, p.srv.URL, loc).Calls(context.Background(), cdr.Query{}, func(r cdr.Record) error {
			want = append(want, r)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	checkComplete(t, a, want, newSource(t, kind, p.srv.URL, loc), time.Time{})
}

// goingOn returns a moment on day in the middle of a call that lasts long enough to be going on then.
func goingOn(t testing.TB, s *pbxsim.Sim, day time.Time) time.Time {
	t.Helper()
	var at time.Time
	longest := 0
	s.Calls(day, day.Add(24*time.Hour), func(r cdr.Record) bool {
		if r.DurationS > longest {
			longest, at = r.DurationS, r.Start.Add(time.Duration(r.DurationS/2)*time.Second)
		}
		return true
	})
	if longest < 60 {
		t.Fatalf("no long call on %s", day)
	}
	return at
}

// clockCase is a PBX whose clock differs from this computer's by skew (PBX minus workstation).
type clockCase struct {
	name string
	kind string
	skew time.Duration
	zone *time.Location // nil: inferred
}

var clockCases = []clockCase{
	{"comx years behind", "comx", -2 * 365 * 24 * time.Hour, zone},
	{"difuse years behind", "difuse", -2 * 365 * 24 * time.Hour, zone},
	{"comx hours behind", "comx", -9 * time.Hour, zone},
	{"comx hours ahead", "comx", 5 * time.Hour, zone},
	{"difuse hours ahead", "difuse", 5 * time.Hour, zone},
	{"comx years behind, zone inferred", "comx", -2 * 365 * 24 * time.Hour, nil},
}

// shortSample runs case i of a long table only when i is even under -short, which is how .ci/run's race stage
// runs the tests: data races show in any case's run of the same code, and the race detector makes a sync of
// simulated calls several times slower. The plain test run takes every case.
func shortSample(t *testing.T, i int) {
	t.Helper()
	if testing.Short() && i%2 == 1 {
		t.Skip("-short runs every other case of this table")
	}
}

// pbxDay is the PBX's today in the clock tests: its clock stands in 2014.
var pbxDay = time.Date(2014, 3, 28, 0, 0, 0, 0, zone)

// TestSyncFollowsPBXClock syncs three times from a PBX whose clock is years or hours away from this computer's,
// moving the PBX's clock on between runs. After each run the archive holds exactly what the PBX had, calls that
// were going on at a run's cut included, and the watermark never passes the PBX's own present.
func TestSyncFollowsPBXClock(t *testing.T) {
	for i, tc := range clockCases {
		t.Run(tc.name, func(t *testing.T) {
			shortSample(t, i)
			ctx := context.Background()
			whole, err := pbxsim.New(pbxsim.Options{Days: 5, End: pbxDay.Add(36 * time.Hour), CallsPerDay: 40, Zone: zone, Seed: 11})
			if err != nil {
				t.Fatal(err)
			}
			cuts := []time.Time{goingOn(t, whole, pbxDay), goingOn(t, whole, pbxDay).Add(3 * time.Hour), goingOn(t, whole, pbxDay.Add(24*time.Hour))}
			p := newPBX(t, pbxsim.Options{Days: 5, End: pbxDay.Add(36 * time.Hour), CallsPerDay: 40, Zone: zone, Seed: 11,
				Now: cuts[0], FrozenClock: true})
			dir := t.TempDir()
			a := openArchive(t, dir)
			for i, cut := range cuts {
				p.sim.SetClock(cut, true)
				here := cut.Add(-tc.skew)
				var warnings []string
				o := Options{Zone: tc.zone, Now: func() time.Time { return here }, RetryWait: time.Millisecond,
					OnWarn: func(err error) { warnings = append(warnings, err.Error()) }}
				before := p.lists.Load()
				stats, err := Run(ctx, newSource(t, tc.kind, p.srv.URL, tc.zone), a, o)
				if err != nil {
					t.Fatalf("run %d: %v", i+1, err)
				}
				if !stats.PBXClock.Equal(cut.Truncate(time.Second)) || !stats.LocalClock.Equal(here) {
					t.Fatalf("run %d: clocks PBX %s, here %s; want %s and %s", i+1, stats.PBXClock, stats.LocalClock, cut, here)
				}
				lists := p.lists.Load() - before
				st, _ := LoadState(dir)
				t.Logf("run %d at PBX %s: %d requests for lists, through %s, warnings %q", i+1, cut.Format(time.DateTime),
					lists, st.Through.Format(time.DateTime), warnings)
				checkEqual(t, a, p, tc.kind, zone)
				if st.Through.After(cdr.WallClock(cut)) {
					t.Fatalf("run %d: the watermark %s is past the PBX's present %s", i+1, st.Through, cdr.WallClock(cut))
				}
				if !st.Through.Equal(cdr.WallClock(cut).Truncate(time.Second)) {
					t.Fatalf("run %d: the watermark %s is not the PBX's clock %s", i+1, st.Through, cdr.WallClock(cut))
				}
				if lists > 40 {
					t.Fatalf("run %d: %d requests for lists of a few days of calls", i+1, lists)
				}
				if !strings.Contains(strings.Join(warnings, "\n"), "clock") {
					t.Fatalf("run %d: no warning that the clocks differ: %q", i+1, warnings)
				}
			}
		})
	}
}

// TestSyncWithoutUsableDate: a PBX whose answers carry no Date, or one that cannot be its clock, is synced by
// the newest call end it returned; this computer's clock, years ahead, is never taken for the PBX's.
func TestSyncWithoutUsableDate(t *testing.T) {
	for j, tc := range []struct {
		name string
		date func(pbxNow time.Time) string
	}{
		{"missing", func(time.Time) string { return "" }},
		{"unreadable", func(time.Time) string { return "yesterday, about noon" }},
		{"1970", func(time.Time) string { return time.Unix(0, 0).UTC().Format(http.TimeFormat) }},
		{"stuck two days back", func(now time.Time) string { return now.Add(-48 * time.Hour).UTC().Format(http.TimeFormat) }},
	} {
		for k, kind := range []string{"comx", "difuse"} {
			t.Run(tc.name+" "+kind, func(t *testing.T) {
				shortSample(t, j+k) // each date case once, on Com.X and Difuse in turn
				ctx := context.Background()
				o := pbxsim.Options{Days: 4, End: pbxDay.Add(36 * time.Hour), CallsPerDay: 40, Zone: zone, Seed: 5}
				whole, err := pbxsim.New(o)
				if err != nil {
					t.Fatal(err)
				}
				cuts := []time.Time{goingOn(t, whole, pbxDay), goingOn(t, whole, pbxDay).Add(2 * time.Hour), pbxDay.Add(30 * time.Hour)}
				o.Now, o.FrozenClock = cuts[0], true
				p := newPBX(t, o)
				p.dateF = tc.date
				dir := t.TempDir()
				a := openArchive(t, dir)
				for i, cut := range cuts {
					p.sim.SetClock(cut, true)
					here := cut.AddDate(2, 0, 0)
					o := Options{Zone: zone, Now: func() time.Time { return here }, RetryWait: time.Millisecond}
					if _, err := Run(ctx, newSource(t, kind, p.srv.URL, zone), a, o); err != nil {
						t.Fatalf("run %d: %v", i+1, err)
					}
					st, _ := LoadState(dir)
					checkEqual(t, a, p, kind, zone)
					if st.Through.After(cdr.WallClock(cut)) {
						t.Fatalf("run %d: the watermark %s is past the PBX's present %s", i+1, st.Through, cdr.WallClock(cut))
					}
				}
			})
		}
	}
}

// TestFirstRunSkipsEmptyHistory: a PBX whose first call was years before the rest, or a --since years back, is
// synced in a few dozen requests, not one per empty day.
func TestFirstRunSkipsEmptyHistory(t *testing.T) {
	recent, err := pbxsim.New(pbxsim.Options{Days: 3, End: pbxDay.Add(12 * time.Hour), CallsPerDay: 40, Zone: zone, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	old, err := pbxsim.New(pbxsim.Options{Days: 1, End: time.Date(2009, 6, 2, 0, 0, 0, 0, zone), CallsPerDay: 3, Zone: zone, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	dataDir := t.TempDir()
	var index []byte
	for _, s := range []*pbxsim.Sim{old, recent} {
		for _, r := range simCalls(s) {
			r.Recording, r.RecordingSize = "", 0 // a data directory holds no recording files here
			index = comx.AppendLine(index, &r, true)
			index = append(index, '\n')
		}
	}
	if err := os.WriteFile(filepath.Join(dataDir, "index.txt"), index, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		kind  string
		o     pbxsim.Options
		since time.Time
	}{
		{"comx first call in 2009", "comx", pbxsim.Options{DataDir: dataDir}, time.Time{}},
		{"difuse first call in 2009", "difuse", pbxsim.Options{DataDir: dataDir}, time.Time{}},
		{"comx since 2004", "comx", pbxsim.Options{Days: 3, End: pbxDay.Add(12 * time.Hour), CallsPerDay: 40, Seed: 3}, time.Date(2004, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"difuse since 2004", "difuse", pbxsim.Options{Days: 3, End: pbxDay.Add(12 * time.Hour), CallsPerDay: 40, Seed: 3}, time.Date(2004, 1, 1, 0, 0, 0, 0, time.UTC)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.o.Zone, tc.o.Now, tc.o.FrozenClock = zone, pbxDay.Add(12*time.Hour), true
			p := newPBX(t, tc.o)
			a := openArchive(t, t.TempDir())
			o := Options{Zone: zone, Since: tc.since, Now: func() time.Time { return pbxDay.Add(12 * time.Hour) }, RetryWait: time.Millisecond}
			st, err := Run(context.Background(), newSource(t, tc.kind, p.srv.URL, zone), a, o)
			if err != nil {
				t.Fatal(err)
			}
			lists := p.lists.Load()
			t.Logf("%d requests for lists, %d chunks", lists, st.Chunks)
			checkEqual(t, a, p, tc.kind, zone)
			if lists > 40 {
				t.Fatalf("%d requests for lists to sync %d calls", lists, p.sim.Visible())
			}
		})
	}
}

// TestRepairsWatermarkPastPBXClock: an archive whose watermark is past the PBX's own present (an older
// callscope that followed this computer's clock left it there) is noticed, said, and fetched again from its
// newest call, so the calls the PBX made since are not lost.
func TestRepairsWatermarkPastPBXClock(t *testing.T) {
	for _, kind := range []string{"comx", "difuse"} {
		t.Run(kind, func(t *testing.T) {
			ctx := context.Background()
			o := pbxsim.Options{Days: 4, End: pbxDay.Add(36 * time.Hour), CallsPerDay: 40, Zone: zone, Seed: 12,
				Now: pbxDay.Add(10 * time.Hour), FrozenClock: true}
			p := newPBX(t, o)
			dir := t.TempDir()
			a := openArchive(t, dir)
			here := func() time.Time { return pbxDay.AddDate(2, 0, 0) }
			if _, err := Run(ctx, newSource(t, kind, p.srv.URL, zone), a, Options{Zone: zone, Now: here}); err != nil {
				t.Fatal(err)
			}
			st, _ := LoadState(dir)
			st.Through = cdr.WallClock(here()) // where following this computer's clock put it
			if err := saveState(dir, st); err != nil {
				t.Fatal(err)
			}
			p.sim.SetClock(pbxDay.Add(30*time.Hour), true)
			var warnings []string
			opts := Options{Zone: zone, Now: here, OnWarn: func(err error) { warnings = append(warnings, err.Error()) }}
			if _, err := Run(ctx, newSource(t, kind, p.srv.URL, zone), a, opts); err != nil {
				t.Fatal(err)
			}
			checkEqual(t, a, p, kind, zone)
			if !strings.Contains(strings.Join(warnings, "\n"), "past the PBX's clock") {
				t.Fatalf("not said: %q", warnings)
			}
			if st, _ := LoadState(dir); !st.Through.Equal(cdr.WallClock(pbxDay.Add(30 * time.Hour))) {
				t.Fatalf("watermark %s", st.Through)
			}
		})
	}
}

// byteCounter counts the body bytes a handler managed to send.
type byteCounter struct {
	http.ResponseWriter
	n *atomic.Int64
}

func (b byteCounter) Write(p []byte) (int, error) {
	k, err := b.ResponseWriter.Write(p)
	b.n.Add(int64(k))
	return k, err
}

// TestFirstCallReadsFewRows: finding a PBX's first call reads a few rows of its list and drops the connection;
// it never downloads the whole index of a big PBX.
func TestFirstCallReadsFewRows(t *testing.T) {
	end := pbxDay.Add(-time.Second)
	p := newPBX(t, pbxsim.Options{Days: 60, End: end, CallsPerDay: 6000, Zone: zone, Seed: 2})
	var sent atomic.Int64
	p.wrap = func(w http.ResponseWriter, r *http.Request, next http.Handler) bool {
		next.ServeHTTP(byteCounter{w, &sent}, r)
		return true
	}
	var full int64
	{
		var cw countWriter
		if err := p.sim.WriteIndex(&cw, time.Time{}, time.Time{}, false); err != nil {
			t.Fatal(err)
		}
		full = cw.n
	}
	var first cdr.Record
	p.sim.Calls(time.Time{}, time.Time{}, func(r cdr.Record) bool { first = r; return false })
	for _, kind := range []string{"comx", "difuse"} {
		sent.Store(0)
		before := p.lists.Load()
		s := &syncer{src: newSource(t, kind, p.srv.URL, zone), a: openArchive(t, t.TempDir()),
			o: Options{Zone: zone}.withDefaults(), tried: map[string]bool{}, hostDown: map[string]string{}}
		s.zone = cdr.NewZone(zone)
		got, ok, err := s.firstCall(context.Background(), time.Time{}, time.Time{}, &dateWatch{})
		if err != nil || !ok || !got.Equal(cdr.WallClock(first.Start)) {
			t.Fatalf("%s: first call %s %v %v, want %s", kind, got, ok, err, cdr.WallClock(first.Start))
		}
		time.Sleep(100 * time.Millisecond) // let the server notice the dropped connection
		t.Logf("%s: %d requests, %d bytes sent of an index of %d", kind, p.lists.Load()-before, sent.Load(), full)
		if n := p.lists.Load() - before; n != 1 {
			t.Fatalf("%s: %d requests", kind, n)
		}
		if sent.Load() > full/4 {
			t.Fatalf("%s: %d bytes of an index of %d were sent", kind, sent.Load(), full)
		}
	}
}

type countWriter struct{ n int64 }

func (w *countWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }
