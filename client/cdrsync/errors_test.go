package cdrsync

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callscope/callscope/client/pbxsim"
)

// TestErrorsAreTyped: what a sync reports by type, from the real situation, without command-line advice in
// its text: an archive synced from another PBX, a damaged sync state, recordings given up on.
func TestErrorsAreTyped(t *testing.T) {
	ctx := context.Background()
	noAdvice := func(name string, err error) {
		t.Helper()
		if s := err.Error(); strings.Contains(s, "--") || strings.Contains(s, "callscope calls") {
			t.Errorf("%s: %q gives command-line advice", name, s)
		}
	}

	// Another PBX.
	g1, g2 := newGrowingPBX(t, 10), newGrowingPBX(t, 10)
	g1.at(t, weekEnd)
	g2.at(t, weekEnd)
	dir := t.TempDir()
	a := openArchive(t, dir)
	if _, err := Run(ctx, comxClient(t, g1.srv.URL, zone), a, fastOptions(weekEnd)); err != nil {
		t.Fatal(err)
	}
	other := comxClient(t, g2.srv.URL, zone)
	_, err := Run(ctx, other, a, fastOptions(weekEnd))
	if err == nil {
		t.Fatal("synced from another PBX")
	}
	noAdvice("another PBX", err)
	var op *OtherPBXError
	if !errors.As(err, &op) || !errors.Is(err, ErrOtherPBX) || op.Dir != a.Dir() ||
		op.SyncedFrom != comxClient(t, g1.srv.URL, zone).Describe() || op.Source != other.Describe() {
		t.Errorf("another PBX: %#v", err)
	}

	// A damaged state.
	os.WriteFile(filepath.Join(dir, StateName), []byte("{not json"), 0o600)
	_, err = Run(ctx, comxClient(t, g1.srv.URL, zone), a, fastOptions(weekEnd))
	if err == nil {
		t.Fatal("synced with a damaged state")
	}
	noAdvice("damaged state", err)
	var se *StateError
	if !errors.As(err, &se) || se.Path != filepath.Join(a.Dir(), StateName) {
		t.Errorf("damaged state: %#v", err)
	}

	// A recording that fails on its last attempt.
	p := newPBX(t, pbxsim.Options{Days: 2, End: pbxDay.Add(-time.Second), CallsPerDay: 30, Zone: zone, Seed: 5, Now: pbxDay, FrozenClock: true})
	victim := recordedCalls(t, p.sim, 1)[0]
	b := &brokenDifuse{asked: map[string]*atomic.Int64{}}
	b.broken500.Store(&map[string]bool{victim.UniqueID: true})
	p.wrap = b.wrap
	var warnings []error
	o := Options{Zone: zone, Now: func() time.Time { return pbxDay }, RetryWait: time.Millisecond, RecordingAttempts: 1,
		OnWarn: func(err error) { warnings = append(warnings, err) }}
	if _, err := Run(ctx, difuseClient(t, p.srv.URL, zone), openArchive(t, t.TempDir()), o); err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 1 {
		t.Fatalf("warnings %q, want one", warnings)
	}
	noAdvice("recording given up on", warnings[0])
	var nf *NotFetchedError
	if !errors.As(warnings[0], &nf) || nf.Count != 1 || nf.GaveUp != 1 || nf.Attempts != 1 ||
		len(nf.Problems) != 1 || !strings.Contains(nf.Problems[0], victim.UniqueID) {
		t.Errorf("recording given up on: %#v", warnings[0])
	}
}
