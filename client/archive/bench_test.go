package archive

import (
	"os"
	"sync"
	"testing"
	"time"

	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/pbxsim"
)

// A year of a busy PBX: about a million calls, built once per test binary and shared by the benchmarks.
// CALLSCOPE_BENCH_ARCHIVE=DIR builds it in DIR and keeps it, for looking at it with other tools.
var (
	bigOnce  sync.Once
	bigDir   string
	bigCalls int
	bigSim   *pbxsim.Sim
	bigErr   error
	bigBuild time.Duration
)

func TestMain(m *testing.M) {
	code := m.Run()
	if bigDir != "" && os.Getenv("CALLSCOPE_BENCH_ARCHIVE") == "" {
		os.RemoveAll(bigDir)
	}
	os.Exit(code)
}

func bigArchive(b *testing.B) string {
	b.Helper()
	bigOnce.Do(func() {
		zone := pbxsim.DefaultLocation()
		bigSim, bigErr = pbxsim.New(pbxsim.Options{Days: 365, CallsPerDay: 3700, Zone: zone,
			End: time.Date(2026, 3, 10, 0, 0, 0, 0, zone)})
		if bigErr != nil {
			return
		}
		if d := os.Getenv("CALLSCOPE_BENCH_ARCHIVE"); d != "" {
			bigDir = d
			os.MkdirAll(d, 0o700)
		} else {
			bigDir, bigErr = os.MkdirTemp("", "callscope-archive-bench-")
		}
		if bigErr != nil {
			return
		}
		var a *Archive
		if a, bigErr = Init(bigDir); bigErr != nil {
			return
		}
		defer a.Close()
		a.SetZone(ctx, zone, false)
		began := time.Now()
		batch, err := a.Begin(ctx)
		if err != nil {
			bigErr = err
			return
		}
		bigSim.Calls(time.Time{}, time.Time{}, func(r cdr.Record) bool {
			if bigErr = batch.Put(ctx, &r, Blob{}); bigErr != nil {
				return false
			}
			bigCalls++
			if bigCalls%50000 == 0 { // commit in slices, as a sync does per chunk
				if bigErr = batch.Commit(); bigErr != nil {
					return false
				}
				batch, bigErr = a.Begin(ctx)
				return bigErr == nil
			}
			return true
		})
		if bigErr == nil {
			bigErr = batch.Commit()
		}
		bigBuild = time.Since(began)
	})
	if bigErr != nil {
		b.Fatal(bigErr)
	}
	return bigDir
}

// BenchmarkBuild1M reports how long storing the million calls took (built once; the loop is empty).
func BenchmarkBuild1M(b *testing.B) {
	bigArchive(b)
	for b.Loop() {
	}
	b.ReportMetric(float64(bigCalls), "calls")
	b.ReportMetric(bigBuild.Seconds(), "build-s")
	b.ReportMetric(float64(bigCalls)/bigBuild.Seconds(), "calls/s")
}

// BenchmarkOpenFilterDay1M opens the archive cold and lists one day's calls, as `callscope calls --archive`
// does.
func BenchmarkOpenFilterDay1M(b *testing.B) {
	dir := bigArchive(b)
	from := time.Date(2026, 2, 11, 0, 0, 0, 0, time.UTC)
	rows := 0
	for b.Loop() {
		a, err := Open(dir)
		if err != nil {
			b.Fatal(err)
		}
		rows = 0
		if _, err := a.Calls(ctx, cdr.Query{From: from, To: from.Add(24 * time.Hour)}, func(cdr.Record) error { rows++; return nil }); err != nil {
			b.Fatal(err)
		}
		a.Close()
	}
	b.ReportMetric(float64(rows), "rows")
}

func benchQuery(b *testing.B, q cdr.Query) {
	dir := bigArchive(b)
	a, err := Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	rows := 0
	for b.Loop() {
		rows = 0
		if _, err := a.Calls(ctx, q, func(cdr.Record) error { rows++; return nil }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rows), "rows")
}

// BenchmarkFilterExtensionMonth1M: one extension's calls over a month.
func BenchmarkFilterExtensionMonth1M(b *testing.B) {
	bigArchive(b)
	ext := bigSim.Users()[0].Extension
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	benchQuery(b, cdr.Query{From: from, To: from.AddDate(0, 1, 0), Extension: ext})
}

// BenchmarkFilterExtensionYear1M: one extension's calls over the whole year.
func BenchmarkFilterExtensionYear1M(b *testing.B) {
	bigArchive(b)
	benchQuery(b, cdr.Query{Extension: bigSim.Users()[0].Extension})
}

// BenchmarkFirstPage1M and BenchmarkLastPage1M: the app's paged view over every call.
func BenchmarkFirstPage1M(b *testing.B) { benchQuery(b, cdr.Query{Page: 1, Limit: 100}) }
func BenchmarkLastPage1M(b *testing.B) {
	bigArchive(b)
	benchQuery(b, cdr.Query{Page: (bigCalls + 99) / 100, Limit: 100})
}

// BenchmarkCallByID1M: one call by unique ID.
func BenchmarkCallByID1M(b *testing.B) {
	dir := bigArchive(b)
	a, err := Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	var id string
	bigSim.Calls(time.Date(2025, 9, 1, 12, 0, 0, 0, time.UTC), time.Time{}, func(r cdr.Record) bool { id = r.UniqueID; return false })
	for b.Loop() {
		if _, err := a.Call(ctx, cdr.ByID(id)); err != nil {
			b.Fatal(err)
		}
	}
}
