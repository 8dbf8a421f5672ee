package app

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/callscope/callscope/client/archive"
	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/pbxsim"
)

// yearArchive is a year of a busy PBX, about a million calls, kept between runs in $TMPDIR (building it takes a
// minute). An archive left by an older callscope is upgraded, as the first sync after an update would.
func yearArchive(b *testing.B) string {
	b.Helper()
	const days, perDay = 365, 3700
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("callscope-app-bench-archive-%dx%d", days, perDay))
	done := filepath.Join(dir, "built")
	if _, err := os.Stat(done); err == nil {
		a, err := archive.Init(dir) // upgrades an archive of an older format
		if err == nil {
			a.Close()
			return dir
		}
	}
	os.RemoveAll(dir)
	zone := pbxsim.DefaultLocation()
	sim, err := pbxsim.New(pbxsim.Options{Days: days, CallsPerDay: perDay, Zone: zone, End: time.Date(2026, 3, 10, 0, 0, 0, 0, zone)})
	if err != nil {
		b.Fatal(err)
	}
	a, err := archive.Init(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	ctx := context.Background()
	if err := a.SetZone(ctx, zone, false); err != nil {
		b.Fatal(err)
	}
	if err := a.SetUsers(ctx, sim.Users()); err != nil {
		b.Fatal(err)
	}
	batch, err := a.Begin(ctx)
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	sim.Calls(time.Time{}, time.Time{}, func(r cdr.Record) bool {
		if err = batch.Put(ctx, &r, archive.Blob{}); err != nil {
			return false
		}
		if n++; n%50000 == 0 {
			if err = batch.Commit(); err == nil {
				batch, err = a.Begin(ctx)
			}
		}
		return err == nil
	})
	if err == nil {
		err = batch.Commit()
	}
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(done, nil, 0o600); err != nil {
		b.Fatal(err)
	}
	return dir
}

// BenchmarkStartupArchive1M is `callscope --archive DIR` on a year of a million calls until the first frame that
// shows calls: opening the archive read-only, New and Init, the users, today's calls (a busy day inside the
// archive), the table and the frame.
func BenchmarkStartupArchive1M(b *testing.B) {
	dir := yearArchive(b)
	zone := pbxsim.DefaultLocation()
	now := func() time.Time { return time.Date(2026, 2, 11, 16, 30, 0, 0, zone) }
	dark := true
	rows := 0
	b.ResetTimer()
	for range b.N {
		a, err := archive.Open(dir)
		if err != nil {
			b.Fatal(err)
		}
		h := firstFrame(b, Options{Source: a, Now: now, Dark: &dark})
		b.StopTimer()
		rows = h.m.table.Loaded()
		h.m.quit()
		a.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(rows), "first-rows")
}
