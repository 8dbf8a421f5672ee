package cdrsync

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/callscope/callscope/client/archive"
	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/comx"
	"github.com/callscope/callscope/client/difuse"
	"github.com/callscope/callscope/client/pbxsim"
	"github.com/callscope/callscope/client/transport"
)

var zone = pbxsim.DefaultLocation()

// The week synced in the tests: 14 to 20 November 2026, PBX time.
var (
	weekStart = time.Date(2026, 11, 14, 0, 0, 0, 0, zone)
	weekEnd   = weekStart.AddDate(0, 0, 7)
)

// growingPBX is one PBX address whose calls grow as time passes: each stage is a simulator of the same seed
// whose calls end at a later moment, so the calls seen before are kept and new ones appear.
type growingPBX struct {
	srv    *httptest.Server
	cur    atomic.Pointer[pbxsim.Sim]
	perDay int
}

func newGrowingPBX(t testing.TB, perDay int) *growingPBX {
	g := &growingPBX{perDay: perDay}
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.cur.Load().Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(g.srv.Close)
	return g
}

// at makes the PBX's present moment `end` (its clock, which its answers carry; calls that had not ended by
// then do not exist yet) and returns the sim.
func (g *growingPBX) at(t testing.TB, end time.Time) *pbxsim.Sim {
	t.Helper()
	// The simulator generates whole days up to End's date, cut at End's time of day unless it is midnight,
	// when that date is whole: a second before midnight ends the day before, whole.
	simEnd := end.Add(-time.Second)
	days := int(cdr.WallClock(simEnd).Truncate(24*time.Hour).Sub(cdr.WallClock(weekStart)).Hours()/24) + 1
	s, err := pbxsim.New(pbxsim.Options{Days: days, End: simEnd, CallsPerDay: g.perDay, Zone: zone, Seed: 7,
		Now: end, FrozenClock: true})
	if err != nil {
		t.Fatal(err)
	}
	g.cur.Store(s)
	return s
}

func comxClient(t testing.TB, base string, loc *time.Location) *comx.Client {
	t.Helper()
	u, _ := url.Parse(base)
	c, err := comx.New(comx.Config{Endpoint: transport.Endpoint{URL: u, User: pbxsim.DefaultComxUser,
		Password: cdr.Secret(pbxsim.DefaultComxPassword)}, Zone: loc, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func openArchive(t testing.TB, dir string) *archive.Archive {
	t.Helper()
	a, err := archive.Init(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

func sameRecord(a, b cdr.Record) bool {
	_, oa := a.Start.Zone()
	_, ob := b.Start.Zone()
	if !a.Start.Equal(b.Start) || oa != ob {
		return false
	}
	a.Start, b.Start = time.Time{}, time.Time{}
	return reflect.DeepEqual(a, b)
}

func archived(t testing.TB, a *archive.Archive) map[string]cdr.Record {
	t.Helper()
	m := map[string]cdr.Record{}
	if _, err := a.Calls(context.Background(), cdr.Query{}, func(r cdr.Record) error {
		if _, dup := m[r.UniqueID]; dup {
			t.Fatalf("call %s archived twice", r.UniqueID)
		}
		m[r.UniqueID] = r
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return m
}

// checkComplete checks the promise a sync makes: every call the PBX has that started before the watermark is
// in the archive, field for field, with its recording byte for byte. want is the PBX's calls.
func checkComplete(t *testing.T, a *archive.Archive, want []cdr.Record, clean cdr.Source, through time.Time) {
	t.Helper()
	got := archived(t, a)
	ctx := context.Background()
	checked := 0
	for _, w := range want {
		if !through.IsZero() && !cdr.WallClock(w.Start).Before(through) {
			continue
		}
		g, ok := got[w.UniqueID]
		if !ok {
			t.Fatalf("call %s (%s) is before the watermark %s but not archived", w.UniqueID, w.Start, through)
		}
		if !sameRecord(g, w) {
			t.Fatalf("call %s differs:\n got %+v\nwant %+v", w.UniqueID, g, w)
		}
		checked++
		if !w.HasRecording() {
			continue
		}
		rc, err := a.Recording(ctx, cdr.ByID(w.UniqueID))
		if err != nil {
			t.Fatalf("call %s: %v", w.UniqueID, err)
		}
		have, _ := io.ReadAll(rc)
		rc.Close()
		src, err := clean.Recording(ctx, cdr.ByRecord(w))
		if err != nil {
			t.Fatal(err)
		}
		orig, _ := io.ReadAll(src)
		src.Close()
		if !bytes.Equal(have, orig) || len(orig) == 0 {
			t.Fatalf("call %s: archived recording (%d bytes) differs from the PBX's (%d bytes)", w.UniqueID, len(have), len(orig))
		}
	}
	if through.IsZero() && len(got) != len(want) {
		t.Fatalf("archive holds %d calls, the PBX %d", len(got), len(want))
	}
	t.Logf("checked %d calls before %s", checked, through.Format(time.DateTime))
}

func simCalls(s *pbxsim.Sim) []cdr.Record {
	var out []cdr.Record
	s.Calls(time.Time{}, time.Time{}, func(r cdr.Record) bool { out = append(out, r); return true })
	return out
}

func fastOptions(now time.Time) Options {
	return Options{Since: cdr.WallClock(weekStart), Zone: zone, Now: func() time.Time { return now },
		RetryWait: time.Millisecond, Chunk: 12 * time.Hour}
}

// TestSyncWeekWithFaults syncs a week in several runs while the PBX grows, with faults between and during
// runs, then checks the archive equals one clean fetch of the week.
func TestSyncWeekWithFaults(t *testing.T) {
	g := newGrowingPBX(t, 60)
	dir := t.TempDir()
	a := openArchive(t, dir)
	src := comxClient(t, g.srv.URL, zone)
	ctx := context.Background()

	stages := []time.Time{
		weekStart.Add(2*24*time.Hour + 12*time.Hour),
		weekStart.Add(4*24*time.Hour + 9*time.Hour + 30*time.Minute),
		weekStart.Add(5*24*time.Hour + 17*time.Hour),
		weekEnd,
	}
	faults := []pbxsim.Faults{
		{CutAfterBytes: 300_000},
		{TruncateZip: true},
		{ServerErrorEvery: 1},
		{ServerErrorEvery: 3}, // every third request fails: retries within the run get through
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i, end := range stages {
		s := g.at(t, end)
		o := fastOptions(end)

		// A run against a failing PBX stores what it can and never moves the watermark past a failed chunk.
		s.SetFaults(faults[i])
		o.Retries = -1
		_, err := Run(ctx, src, a, o)
		st, _ := LoadState(dir)
		t.Logf("stage %d, fault %+v: %v; through %s", i, faults[i], err, st.Through.Format(time.DateTime))
		if err == nil && faults[i].ServerErrorEvery == 1 {
			t.Fatal("a run against a PBX answering only 500s succeeded")
		}
		s.SetFaults(pbxsim.Faults{})
		checkComplete(t, a, simCalls(s), comxClient(t, g.srv.URL, zone), st.Through)

		// A run cancelled at a random moment, as a killed process would be.
		s.SetFaults(pbxsim.Faults{Latency: 2 * time.Millisecond})
		cctx, cancel := context.WithCancel(ctx)
		events := 0
		stopAt := 1 + rng.IntN(40)
		o = fastOptions(end)
		o.OnProgress = func(Progress) {
			if events++; events == stopAt {
				cancel()
			}
		}
		_, err = Run(cctx, src, a, o)
		cancel()
		st, _ = LoadState(dir)
		t.Logf("stage %d cancelled after %d events: %v; through %s", i, stopAt, err, st.Through.Format(time.DateTime))
		s.SetFaults(pbxsim.Faults{})
		checkComplete(t, a, simCalls(s), comxClient(t, g.srv.URL, zone), st.Through)

		// With a fault during the run that retries get past (every 3rd request fails), or none, it completes.
		if i == 3 {
			s.SetFaults(pbxsim.Faults{ServerErrorEvery: 3})
		}
		stats, err := Run(ctx, src, a, fastOptions(end))
		if err != nil {
			t.Fatalf("stage %d: clean run: %v", i, err)
		}
		s.SetFaults(pbxsim.Faults{})
		t.Logf("stage %d clean run: %+v", i, stats)
	}
	// The archive equals one clean fetch of the whole week.
	final := g.at(t, weekEnd)
	checkComplete(t, a, simCalls(final), comxClient(t, g.srv.URL, zone), time.Time{})
	ents, _ := os.ReadDir(filepath.Join(dir, archive.TmpName))
	if len(ents) != 0 {
		t.Fatalf("partial files left in tmp: %v", ents)
	}
}

// TestSyncInferredZone: without a configured zone the first run infers it from the unique IDs, stores it, and
// later runs place times the same way.
func TestSyncInferredZone(t *testing.T) {
	g := newGrowingPBX(t, 40)
	dir := t.TempDir()
	a := openArchive(t, dir)
	ctx := context.Background()
	mid := weekStart.Add(3 * 24 * time.Hour)
	g.at(t, mid)
	o := fastOptions(mid)
	o.Zone = nil
	if _, err := Run(ctx, comxClient(t, g.srv.URL, nil), a, o); err != nil {
		t.Fatal(err)
	}
	zi := a.Zone()
	if zi.Location == nil || !zi.Inferred || zi.Location.String() != "UTC+02:00" {
		t.Fatalf("zone %+v", zi)
	}
	s := g.at(t, weekEnd)
	o = fastOptions(weekEnd)
	o.Zone = nil
	if _, err := Run(ctx, comxClient(t, g.srv.URL, nil), a, o); err != nil {
		t.Fatal(err)
	}
	got := archived(t, a)
	want := simCalls(s)
	if len(got) != len(want) {
		t.Fatalf("%d calls archived, want %d", len(got), len(want))
	}
	for _, w := range want {
		if cdr.FormatTime(got[w.UniqueID].Start) != cdr.FormatTime(w.Start) {
			t.Fatalf("call %s: start %s, want %s", w.UniqueID, got[w.UniqueID].Start, w.Start)
		}
	}
}

// TestSyncKilled kills a sync process with SIGKILL at random moments; the next run completes the archive.
func TestSyncKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	g := newGrowingPBX(t, 120)
	s := g.at(t, weekEnd)
	s.SetFaults(pbxsim.Faults{Latency: 20 * time.Millisecond})
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 4 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperSyncProcess$")
		cmd.Env = append(os.Environ(), "CDRSYNC_HELPER_URL="+g.srv.URL, "CDRSYNC_HELPER_DIR="+dir)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		delay := time.Duration(100+rng.IntN(900)) * time.Millisecond
		time.Sleep(delay)
		cmd.Process.Signal(syscall.SIGKILL)
		err := cmd.Wait()
		st, _ := LoadState(dir)
		t.Logf("run %d killed after %v (%v); through %s", i, delay, err, st.Through.Format(time.DateTime))
		a := openArchive(t, dir)
		s.SetFaults(pbxsim.Faults{})
		checkComplete(t, a, simCalls(s), comxClient(t, g.srv.URL, zone), st.Through)
		s.SetFaults(pbxsim.Faults{Latency: 20 * time.Millisecond})
		a.Close()
	}
	s.SetFaults(pbxsim.Faults{})
	a := openArchive(t, dir)
	if _, err := Run(context.Background(), comxClient(t, g.srv.URL, zone), a, fastOptions(weekEnd)); err != nil {
		t.Fatal(err)
	}
	checkComplete(t, a, simCalls(s), comxClient(t, g.srv.URL, zone), time.Time{})
}

// TestHelperSyncProcess is the process TestSyncKilled kills.
func TestHelperSyncProcess(t *testing.T) {
	base, dir := os.Getenv("CDRSYNC_HELPER_URL"), os.Getenv("CDRSYNC_HELPER_DIR")
	if base == "" {
		t.Skip("run by TestSyncKilled")
	}
	a, err := archive.Init(dir)
	if err != nil {
		t.Fatal(err)
	}
	o := fastOptions(weekEnd)
	o.Chunk = 4 * time.Hour
	_, err = Run(context.Background(), comxClient(t, base, zone), a, o)
	fmt.Println("helper finished:", err)
}

func TestLock(t *testing.T) {
	dir := t.TempDir()
	l, err := LockArchive(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := LockArchive(dir); !errors.Is(err, ErrLocked) || !bytes.Contains([]byte(err.Error()), []byte("pid "+strconv.Itoa(os.Getpid()))) {
		t.Fatalf("second lock: %v", err)
	}
	g := newGrowingPBX(t, 10)
	g.at(t, weekEnd)
	a := openArchive(t, dir)
	if _, err := Run(context.Background(), comxClient(t, g.srv.URL, zone), a, fastOptions(weekEnd)); !errors.Is(err, ErrLocked) {
		t.Fatalf("run while locked: %v", err)
	}
	l.Unlock()
	if _, err := Run(context.Background(), comxClient(t, g.srv.URL, zone), a, fastOptions(weekEnd)); err != nil {
		t.Fatalf("run after unlock: %v", err)
	}
	l2, err := LockArchive(dir)
	if err != nil {
		t.Fatalf("lock after a run: %v", err)
	}
	l2.Unlock()
}

func TestRefusesOtherPBX(t *testing.T) {
	g1, g2 := newGrowingPBX(t, 10), newGrowingPBX(t, 10)
	g1.at(t, weekEnd)
	g2.at(t, weekEnd)
	a := openArchive(t, t.TempDir())
	if _, err := Run(context.Background(), comxClient(t, g1.srv.URL, zone), a, fastOptions(weekEnd)); err != nil {
		t.Fatal(err)
	}
	_, err := Run(context.Background(), comxClient(t, g2.srv.URL, zone), a, fastOptions(weekEnd))
	if !errors.Is(err, ErrOtherPBX) {
		t.Fatalf("got %v", err)
	}
}

// TestSyncDifuse syncs from the Difuse API in two runs (with a cut-off body in between) and compares with one
// clean fetch through the same client.
func TestSyncDifuse(t *testing.T) {
	g := newGrowingPBX(t, 50)
	dir := t.TempDir()
	a := openArchive(t, dir)
	ctx := context.Background()
	newClient := func() *difuse.Client {
		u, _ := url.Parse(g.srv.URL)
		c, err := difuse.New(difuse.Config{Endpoint: transport.Endpoint{URL: u, User: pbxsim.DefaultDifuseExtension,
			Password: cdr.Secret(pbxsim.DefaultDifuseSecret)}, Zone: zone, Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	mid := weekStart.Add(3*24*time.Hour + 8*time.Hour)
	g.at(t, mid)
	if _, err := Run(ctx, newClient(), a, fastOptions(mid)); err != nil {
		t.Fatal(err)
	}
	s := g.at(t, weekEnd)
	s.SetFaults(pbxsim.Faults{CutAfterBytes: 5000})
	o := fastOptions(weekEnd)
	o.Retries = -1
	if _, err := Run(ctx, newClient(), a, o); err == nil {
		t.Fatal("a run against a PBX cutting every body succeeded")
	}
	s.SetFaults(pbxsim.Faults{})
	if _, err := Run(ctx, newClient(), a, fastOptions(weekEnd)); err != nil {
		t.Fatal(err)
	}
	var want []cdr.Record
	if _, err := newClient().Calls(ctx, cdr.Query{From: cdr.WallClock(weekStart)}, func(r cdr.Record) error {
		want = append(want, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(want) < 200 {
		t.Fatalf("only %d calls", len(want))
	}
	checkComplete(t, a, want, newClient(), time.Time{})
}
