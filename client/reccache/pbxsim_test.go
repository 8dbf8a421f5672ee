package reccache

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/comx"
	"github.com/callscope/callscope/client/pbxsim"
	"github.com/callscope/callscope/client/transport"
)

// TestAgainstPBXSim fetches real recordings from the PBX simulator through the Com.X client: cached bytes are
// the PBX's bytes, a second play never asks the PBX, and the PBX's failures reach the caller.
func TestAgainstPBXSim(t *testing.T) {
	end := time.Date(2024, 3, 14, 0, 0, 0, 0, time.UTC)
	srv, err := pbxsim.Start(pbxsim.Options{End: end, Days: 2, Seed: 7, CallsPerDay: 40})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ep, err := transport.ParseEndpoint(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	ep.User, ep.Password = pbxsim.DefaultComxUser, pbxsim.DefaultComxPassword
	src, err := comx.New(comx.Config{Endpoint: ep, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var recs []cdr.Record
	_, err = src.Calls(ctx, cdr.Query{From: end.AddDate(0, 0, -2), To: end.AddDate(0, 0, 1)}, func(r cdr.Record) error {
		if r.HasRecording() {
			recs = append(recs, r)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) < 3 {
		t.Fatalf("the simulator gave %d calls with recordings", len(recs))
	}
	c, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}

	direct, err := src.Recording(ctx, cdr.ByRecord(recs[0]))
	if err != nil {
		t.Fatal(err)
	}
	want, err := io.ReadAll(direct)
	direct.Close()
	if err != nil {
		t.Fatal(err)
	}
	e, err := c.Fetch(ctx, src, recs[0], nil)
	if err != nil {
		t.Fatal(err)
	}
	wait(t, e)
	if e.Err() != nil {
		t.Fatal(e.Err())
	}
	got, _ := io.ReadAll(e.File)
	e.File.Close()
	if !bytes.Equal(got, want) || (e.Format != "wav" && e.Format != "gsm") {
		t.Fatalf("cached %d bytes (%q), the PBX sent %d", len(got), e.Format, len(want))
	}

	// Served from disk: works with the PBX refusing everyone.
	srv.SetFaults(pbxsim.Faults{Unauthorized: true})
	e2, err := c.Fetch(ctx, src, recs[0], nil)
	if err != nil || !e2.Cached {
		t.Fatalf("second fetch: cached=%v err=%v", e2 != nil && e2.Cached, err)
	}
	e2.File.Close()
	_, err = c.Fetch(ctx, src, recs[1], nil)
	if !errors.Is(err, cdr.ErrAuth) {
		t.Fatalf("401: %v", err)
	}

	// A download cut off midway is reported and not kept.
	srv.SetFaults(pbxsim.Faults{CutAfterBytes: 2000})
	e3, err := c.Fetch(ctx, src, recs[2], nil)
	if err == nil {
		wait(t, e3)
		e3.File.Close()
		err = e3.Err()
	}
	if err == nil {
		t.Fatal("a cut-off recording was accepted")
	}
	if c.Has(src, recs[2]) {
		t.Fatal("a cut-off recording was cached")
	}
}
