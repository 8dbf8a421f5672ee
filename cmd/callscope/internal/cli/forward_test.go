package cli

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/callscope/callscope/client/archive"
	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/connect"
	"github.com/callscope/callscope/client/pbxsim"
)

// TestWrappersForwardCapabilities: every wrapper the command line puts around a source forwards the optional
// capabilities of what it wraps, and does not claim one the source lacks. The sources are real: a Com.X (the
// simulator, its clock years behind) and an archive, which has no PBX clock.
func TestWrappersForwardCapabilities(t *testing.T) {
	pbxNow := time.Date(2019, 6, 15, 10, 30, 0, 0, time.UTC)
	srv, err := pbxsim.Start(pbxsim.Options{Days: 2, CallsPerDay: 20, Now: pbxNow, FrozenClock: true})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	pbx, err := connect.Open(connect.Settings{URL: srv.URL(), User: pbxsim.DefaultComxUser, Password: pbxsim.DefaultComxPassword})
	if err != nil {
		t.Fatal(err)
	}
	arch, err := archive.Init(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer arch.Close()

	wrappers := []struct {
		name string
		wrap func(cdr.Source) cdr.Source
	}{
		{"factory default check", func(s cdr.Source) cdr.Source { return &factoryDefaultCheck{Source: s, seen: func() {}} }},
		{"logged", func(s cdr.Source) cdr.Source {
			return loggedSource{Source: s, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
		}},
	}
	capabilities := []struct {
		name  string
		check func(t *testing.T, wrapped cdr.Source, inner cdr.Source)
	}{
		{"PBX clock", func(t *testing.T, wrapped, inner cdr.Source) {
			if _, err := wrapped.Calls(context.Background(), cdr.Query{Page: 1, Limit: 5}, func(cdr.Record) error { return nil }); err != nil {
				t.Fatal(err)
			}
			got, ok := cdr.PBXClockOf(wrapped)
			want, wantOK := cdr.PBXClockOf(inner)
			if ok != wantOK || got.Sub(want).Abs() > time.Second {
				t.Errorf("%v, %v through the wrapper; %v, %v from the source", got, ok, want, wantOK)
			}
			if _, isPBX := inner.(cdr.Clock); isPBX && (!ok || got.Year() != 2019) {
				t.Errorf("the PBX's clock is %v, %v through the wrapper", got, ok)
			}
		}},
	}
	for _, w := range wrappers {
		for _, c := range capabilities {
			for _, inner := range []cdr.Source{pbx, arch} {
				t.Run(w.name+"/"+c.name+"/"+inner.Capabilities().Kind, func(t *testing.T) { c.check(t, w.wrap(inner), inner) })
			}
		}
	}
}
