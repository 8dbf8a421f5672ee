package cdrsync

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callscope/callscope/client/archive"
	"github.com/callscope/callscope/client/pbxsim"
)

// TestRebuildsLostIndex: a sync that finds its watermark but not the index it belongs to (index.db deleted,
// emptied, or emptied with its WAL files left) says so and fetches every call again, instead of reporting the
// archive complete with nothing in it.
func TestRebuildsLostIndex(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(dir string) error
	}{
		{"deleted", func(dir string) error {
			for _, f := range []string{"", "-wal", "-shm"} {
				if err := os.Remove(filepath.Join(dir, archive.IndexName+f)); err != nil && !os.IsNotExist(err) {
					return err
				}
			}
			return nil
		}},
		{"emptied", func(dir string) error {
			for _, f := range []string{"-wal", "-shm"} {
				os.Remove(filepath.Join(dir, archive.IndexName+f))
			}
			return os.Truncate(filepath.Join(dir, archive.IndexName), 0)
		}},
		{"emptied, WAL files left", func(dir string) error {
			return os.Truncate(filepath.Join(dir, archive.IndexName), 0)
		}},
	} {
		for _, kind := range []string{"comx", "difuse"} {
			t.Run(tc.name+" "+kind, func(t *testing.T) {
				ctx := context.Background()
				end := pbxDay.Add(-time.Second)
				p := newPBX(t, pbxsim.Options{Days: 3, End: end, CallsPerDay: 30, Zone: zone, Seed: 4})
				dir := t.TempDir()
				o := Options{Zone: zone, Now: func() time.Time { return pbxDay }, RetryWait: time.Millisecond}
				a, err := archive.Init(dir)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := Run(ctx, newSource(t, kind, p.srv.URL, zone), a, o); err != nil {
					t.Fatal(err)
				}
				a.Close()
				if err := tc.damage(dir); err != nil {
					t.Fatal(err)
				}
				var warnings []string
				o.OnWarn = func(err error) { warnings = append(warnings, err.Error()) }
				a = openArchive(t, dir)
				if _, err := Run(ctx, newSource(t, kind, p.srv.URL, zone), a, o); err != nil {
					t.Fatal(err)
				}
				checkEqual(t, a, p, kind, zone)
				if !strings.Contains(strings.Join(warnings, "\n"), "again") {
					t.Fatalf("the rebuild was not announced: %q", warnings)
				}
			})
		}
	}
}
