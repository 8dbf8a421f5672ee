package archive

import (
	"database/sql"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/pbxsim"
)

// A year of a busy PBX: about a million calls. Building it takes a while, so it is kept between runs in
// $TMPDIR/callscope-archive-bench-<version> (CALLSCOPE_BENCH_ARCHIVE=DIR: there instead), and built again only
// when the archive's format or the data change, which changes the version. Versions left by older builds are
// removed when a new one is built.
var (
	bigOnce  sync.Once
	bigDir   string
	bigCalls int
	bigSim   *pbxsim.Sim
	bigErr   error
	bigBuild time.Duration // how long storing the calls took, when this run built it or when it was built
)

// bigVersion names the cached archive: the archive's formats and the simulated data.
var bigVersion = fmt.Sprintf("s%d-c%d-b3-365x3700", schemaVersion, codecVersion)

const bigPrefix = "callscope-archive-bench-"

func TestMain(m *testing.M) {
	code := m.Run()
	if searchA != nil {
		searchA.Close()
		os.RemoveAll(searchDir)
	}
	os.Exit(code)
}

// builtMarker is written last into a finished archive, with the time the build took.
const builtMarker = "built"

func bigArchive(b *testing.B) string {
	b.Helper()
	bigOnce.Do(func() {
		zone := pbxsim.DefaultLocation()
		bigSim, bigErr = pbxsim.New(pbxsim.Options{Days: 365, CallsPerDay: 3700, Zone: zone,
			End: time.Date(2026, 3, 10, 0, 0, 0, 0, zone)})
		if bigErr != nil {
			return
		}
		bigDir = os.Getenv("CALLSCOPE_BENCH_ARCHIVE")
		if bigDir == "" {
			bigDir = filepath.Join(os.TempDir(), bigPrefix+bigVersion)
		}
		if mark, err := os.ReadFile(filepath.Join(bigDir, builtMarker)); err == nil {
			f := strings.Fields(string(mark))
			if len(f) == 2 && f[0] == bigVersion {
				ns, _ := strconv.ParseInt(f[1], 10, 64)
				bigBuild = time.Duration(ns)
				bigCalls = bigSim.Total()
				return
			}
		}
		bigErr = buildBig(zone)
	})
	if bigErr != nil {
		b.Fatal(bigErr)
	}
	return bigDir
}

// buildBig stores the year's calls, committing in slices as a sync does per chunk, in a new folder that is
// renamed into place once complete.
func buildBig(zone *time.Location) error {
	if os.Getenv("CALLSCOPE_BENCH_ARCHIVE") == "" {
		old, _ := filepath.Glob(filepath.Join(os.TempDir(), bigPrefix+"*"))
		for _, d := range old {
			os.RemoveAll(d)
		}
	}
	os.RemoveAll(bigDir)
	work := bigDir + ".building"
	os.RemoveAll(work)
	a, err := Init(work)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.SetZone(ctx, zone, false); err != nil {
		return err
	}
	if err := a.SetUsers(ctx, bigSim.Users()); err != nil {
		return err
	}
	began := time.Now()
	batch, err := a.Begin(ctx)
	if err != nil {
		return err
	}
	bigSim.Calls(time.Time{}, time.Time{}, func(r cdr.Record) bool {
		if err = batch.Put(ctx, &r, Blob{}); err != nil {
			return false
		}
		bigCalls++
		if bigCalls%50000 == 0 {
			if err = batch.Commit(); err != nil {
				return false
			}
			batch, err = a.Begin(ctx)
			return err == nil
		}
		return true
	})
	if err != nil {
		batch.Rollback()
		return err
	}
	if err := batch.Commit(); err != nil {
		return err
	}
	bigBuild = time.Since(began)
	if err := a.Close(); err != nil {
		return err
	}
	mark := fmt.Sprintf("%s %d\n", bigVersion, bigBuild.Nanoseconds())
	if err := os.WriteFile(filepath.Join(work, builtMarker), []byte(mark), 0o600); err != nil {
		return err
	}
	return os.Rename(work, bigDir)
}

// BenchmarkBuild1M reports how long storing the million calls took, blocks included (when the archive was
// built; the loop is empty).
func BenchmarkBuild1M(b *testing.B) {
	bigArchive(b)
	for b.Loop() {
	}
	b.ReportMetric(float64(bigCalls), "calls")
	b.ReportMetric(bigBuild.Seconds(), "build-s")
	b.ReportMetric(float64(bigCalls)/bigBuild.Seconds(), "calls/s")
	if st, err := os.Stat(filepath.Join(bigDir, IndexName)); err == nil {
		b.ReportMetric(float64(st.Size())/1e6, "index-MB")
	}
}

// BenchmarkOpenFilterDay1M opens the archive cold and lists one day's calls, as `callscope calls --archive` and
// the app's first screen do.
func BenchmarkOpenFilterDay1M(b *testing.B) {
	dir := bigArchive(b)
	from := time.Date(2026, 2, 11, 0, 0, 0, 0, time.UTC)
	for _, path := range paths {
		b.Run(path.name, func(b *testing.B) {
			rows := 0
			cpu := processCPU()
			for b.Loop() {
				a, err := Open(dir)
				if err != nil {
					b.Fatal(err)
				}
				rows = 0
				if _, err := path.calls(a, cdr.Query{From: from, To: from.Add(24 * time.Hour)}, func(cdr.Record) error { rows++; return nil }); err != nil {
					b.Fatal(err)
				}
				a.Close()
			}
			reportCPU(b, cpu)
			b.ReportMetric(float64(rows), "rows")
		})
	}
}

// reportCPU reports the CPU time this process spent per operation since cpu: on a busy machine the wall clock
// also counts the time other programs had the cores.
func reportCPU(b *testing.B, cpu time.Duration) {
	if used := processCPU() - cpu; used > 0 {
		b.ReportMetric(float64(used.Microseconds())/1000/float64(b.N), "cpu-ms/op")
	}
}

// paths are the two ways the archive answers: from its blocks (format 3), and from the calls table's indexes
// (how every query was answered before format 3, and still is for an older archive opened read-only).
var paths = []struct {
	name  string
	calls func(*Archive, cdr.Query, func(cdr.Record) error) (cdr.Result, error)
}{
	{"blocks", func(a *Archive, q cdr.Query, fn func(cdr.Record) error) (cdr.Result, error) {
		return a.Calls(ctx, q, fn)
	}},
	{"index", func(a *Archive, q cdr.Query, fn func(cdr.Record) error) (cdr.Result, error) {
		return a.callsFromIndex(ctx, q, fn)
	}},
}

func benchQuery(b *testing.B, q cdr.Query) {
	dir := bigArchive(b)
	a, err := Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	for _, path := range paths {
		b.Run(path.name, func(b *testing.B) {
			rows := 0
			cpu := processCPU()
			for b.Loop() {
				rows = 0
				if _, err := path.calls(a, q, func(cdr.Record) error { rows++; return nil }); err != nil {
					b.Fatal(err)
				}
			}
			reportCPU(b, cpu)
			b.ReportMetric(float64(rows), "rows")
		})
	}
}

// BenchmarkFilterExtensionMonth1M: one extension's calls (as source or destination) over a month.
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

// BenchmarkSearchYear1M: a free-text search over the whole year: part of a phone number, and a name.
func BenchmarkSearchYear1M(b *testing.B) {
	dir := bigArchive(b)
	a, err := Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	for _, text := range []string{"0821", "mthembu"} {
		for _, path := range []string{"blocks", "index"} {
			b.Run(text+"/"+path, func(b *testing.B) {
				rows := 0
				cpu := processCPU()
				for b.Loop() {
					rows = 0
					fn := func(cdr.Record) error { rows++; return nil }
					var err error
					if path == "blocks" {
						_, err = a.Search(ctx, cdr.Query{}, text, fn)
					} else {
						var m *textMatcher
						if m, err = a.newMatcher(ctx, text); err == nil {
							_, err = a.searchIndex(ctx, cdr.Query{}, m, fn)
						}
					}
					if err != nil {
						b.Fatal(err)
					}
				}
				reportCPU(b, cpu)
				b.ReportMetric(float64(rows), "rows")
			})
		}
	}
}

// BenchmarkCount1M: how many calls the archive holds.
func BenchmarkCount1M(b *testing.B) {
	dir := bigArchive(b)
	a, err := Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	for b.Loop() {
		if n, err := a.Count(ctx); err != nil || n != bigCalls {
			b.Fatal(n, err)
		}
	}
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

// BenchmarkUpgrade1M: the first sync after updating callscope upgrades a million-call archive of format 2 to
// format 3 (its blocks built, every peer recomputed), once.
func BenchmarkUpgrade1M(b *testing.B) {
	src := filepath.Join(bigArchive(b), IndexName)
	for b.Loop() {
		b.StopTimer()
		dir := b.TempDir()
		if err := copyFile(src, filepath.Join(dir, IndexName)); err != nil {
			b.Fatal(err)
		}
		if err := downgradeTo2(filepath.Join(dir, IndexName)); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		a, err := Init(dir)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if n, _ := a.Count(ctx); n != bigCalls {
			b.Fatalf("%d calls after the upgrade", n)
		}
		a.Close()
		b.StartTimer()
	}
}

// downgradeTo2 makes a format-3 index one of format 2, as callscope wrote it before the blocks.
func downgradeTo2(index string) error {
	db, err := sql.Open("sqlite", index)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.Exec(`DROP TRIGGER IF EXISTS calls_dirty_update; DROP TRIGGER IF EXISTS calls_dirty_delete;
		DROP TABLE days; DROP TABLE day_text; DROP TABLE party_days; DROP TABLE dirty_days; UPDATE meta SET value = '2' WHERE key = 'schema'`)
	return err
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
