package cdrsync

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callscope/callscope/client/archive"
	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/pbxsim"
)

// recordedCalls picks n recorded calls spread over the PBX's days.
func recordedCalls(t testing.TB, s *pbxsim.Sim, n int) []cdr.Record {
	t.Helper()
	var rec []cdr.Record
	for _, r := range simCalls(s) {
		if r.HasRecording() {
			rec = append(rec, r)
		}
	}
	if len(rec) < 4*n {
		t.Fatalf("only %d recorded calls", len(rec))
	}
	out := make([]cdr.Record, n)
	for i := range out {
		out[i] = rec[(2*i+1)*len(rec)/(2*n)]
	}
	return out
}

// brokenDifuse serves the simulator's Difuse API with bad recordings: the listed calls' recordings answer 500
// (while broken500 holds them), and two calls' recording_url point at a host that refuses connections and at a
// scheme callscope does not fetch.
type brokenDifuse struct {
	broken500   atomic.Pointer[map[string]bool]
	unreachable string // call IDs
	ftp         string
	asked       map[string]*atomic.Int64 // requests per call ID for a recording
}

func (b *brokenDifuse) wrap(w http.ResponseWriter, r *http.Request, next http.Handler) bool {
	if id, _, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, "/pbx/cdr/recordings/"), "/"); ok && strings.HasPrefix(r.URL.Path, "/pbx/cdr/recordings/") {
		if n := b.asked[id]; n != nil {
			n.Add(1)
		}
		if (*b.broken500.Load())[id] {
			http.Error(w, "500 Internal Server Error", http.StatusInternalServerError)
			return true
		}
		return false
	}
	if r.URL.Path != "/pbx/cdr/data" {
		return false
	}
	rec := httptest.NewRecorder()
	next.ServeHTTP(rec, r)
	var page map[string]json.RawMessage
	if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &page) != nil {
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())
		return true
	}
	var rows []map[string]any
	json.Unmarshal(page["data"], &rows)
	for _, row := range rows {
		switch row["call_id"] {
		case b.unreachable:
			row["recording_url"] = "http://127.0.0.1:1/recordings/" + b.unreachable + ".wav"
		case b.ftp:
			row["recording_url"] = "ftp://127.0.0.1/recordings/" + b.ftp + ".wav"
		}
	}
	page["data"], _ = json.Marshal(rows)
	out, _ := json.Marshal(page)
	w.Header().Set("Content-Type", "application/json")
	w.Write(out)
	return true
}

// brokenComx serves the simulator's Com.X API with the listed calls' recordings left out of every ziprec (as a
// PBX whose disk lost them does) and answering 500 when asked for alone, while broken500 holds them.
type brokenComx struct {
	broken500 atomic.Pointer[map[string]bool]
	files     map[string]string // recording file name → call ID
	asked     map[string]*atomic.Int64
}

func (b *brokenComx) wrap(w http.ResponseWriter, r *http.Request, next http.Handler) bool {
	q := r.URL.Query()
	broken := *b.broken500.Load()
	if id := q.Get("id"); id != "" && q.Get("format") == "" {
		if n := b.asked[id]; n != nil {
			n.Add(1)
		}
		if broken[id] {
			http.Error(w, "500 Internal Server Error", http.StatusInternalServerError)
			return true
		}
		return false
	}
	if q.Get("format") != "ziprec" {
		return false
	}
	rec := httptest.NewRecorder()
	next.ServeHTTP(rec, r)
	zr, err := zip.NewReader(bytes.NewReader(rec.Body.Bytes()), int64(rec.Body.Len()))
	if err != nil {
		w.Write(rec.Body.Bytes())
		return true
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range zr.File {
		if broken[b.files[f.Name]] {
			continue
		}
		fw, _ := zw.CreateHeader(&zip.FileHeader{Name: f.Name, Method: f.Method, Modified: f.Modified})
		rc, _ := f.Open()
		io.Copy(fw, rc)
		rc.Close()
	}
	zw.Close()
	w.Header().Set("Content-Type", "application/zip")
	w.Write(buf.Bytes())
	return true
}

// TestOneBadRecording: recordings that answer 500, live on a host that cannot be reached or behind a scheme
// callscope refuses never keep the calls out. The calls are stored, the recordings marked as not fetched with
// the reason, the run succeeds with one warning that counts them, and later runs try them again.
func TestOneBadRecording(t *testing.T) {
	for _, kind := range []string{"difuse", "comx"} {
		t.Run(kind, func(t *testing.T) {
			ctx := context.Background()
			end := pbxDay.Add(-time.Second) // whole days, all ended by the PBX's clock
			p := newPBX(t, pbxsim.Options{Days: 4, End: end, CallsPerDay: 40, Zone: zone, Seed: 9, Now: pbxDay, FrozenClock: true})
			victims := recordedCalls(t, p.sim, 4)
			asked := map[string]*atomic.Int64{}
			for _, v := range victims {
				asked[v.UniqueID] = &atomic.Int64{}
			}
			broken := map[string]bool{victims[0].UniqueID: true, victims[3].UniqueID: true}
			var bad int // recordings not fetched on the first run
			switch kind {
			case "difuse":
				b := &brokenDifuse{unreachable: victims[1].UniqueID, ftp: victims[2].UniqueID, asked: asked}
				b.broken500.Store(&broken)
				p.wrap, p.brokenSet = b.wrap, func(m map[string]bool) { b.broken500.Store(&m) }
				bad = 4
			case "comx":
				files := map[string]string{}
				for _, v := range victims {
					files[v.Recording] = v.UniqueID
				}
				b := &brokenComx{files: files, asked: asked}
				b.broken500.Store(&broken)
				p.wrap, p.brokenSet = b.wrap, func(m map[string]bool) { b.broken500.Store(&m) }
				bad = 2
			}
			dir := t.TempDir()
			a := openArchive(t, dir)
			var warnings []string
			o := Options{Zone: zone, Now: func() time.Time { return pbxDay }, RetryWait: time.Millisecond,
				OnWarn: func(err error) { warnings = append(warnings, err.Error()) }}
			if _, err := Run(ctx, newSource(t, kind, p.srv.URL, zone), a, o); err != nil {
				t.Fatalf("one bad recording failed the run: %v", err)
			}
			got := archived(t, a)
			if want := simCalls(p.sim); len(got) != len(want) {
				t.Fatalf("%d calls archived of %d", len(got), len(want))
			}
			if len(warnings) != 1 || !strings.Contains(warnings[0], itoa(bad)+" recordings") {
				t.Fatalf("want one warning counting %d recordings, got %q", bad, warnings)
			}
			t.Logf("warning: %s", warnings[0])
			states := func() map[string]archive.RecordingState {
				st, err := a.RecordingStates(ctx, cdr.Query{})
				if err != nil {
					t.Fatal(err)
				}
				return st
			}
			for _, v := range victims {
				st, marked := states()[v.UniqueID]
				if kind == "comx" && (v.UniqueID == victims[1].UniqueID || v.UniqueID == victims[2].UniqueID) {
					if !st.Stored {
						t.Fatalf("call %s: recording not stored: %+v", v.UniqueID, st)
					}
					continue
				}
				if !marked || st.Stored || st.Tries != 1 || st.Reason == "" {
					t.Fatalf("call %s: %+v after one run", v.UniqueID, st)
				}
			}

			// The 500 mends: the next run fetches that recording, outside the range it fetches again.
			fixed := map[string]bool{victims[3].UniqueID: true}
			setBroken(p, fixed)
			for run := 2; run <= o.withDefaults().RecordingAttempts+1; run++ {
				warnings = nil
				st, err := Run(ctx, newSource(t, kind, p.srv.URL, zone), a, o)
				if err != nil {
					t.Fatalf("run %d: %v", run, err)
				}
				left := bad - 1
				if run == o.withDefaults().RecordingAttempts+1 {
					left = 0 // all given up on: not asked for again
				}
				if st.NotFetched != left {
					t.Fatalf("run %d: %d not fetched, want %d (%q)", run, st.NotFetched, left, warnings)
				}
				if run == o.withDefaults().RecordingAttempts && (st.GaveUp != left || !strings.Contains(strings.Join(warnings, " "), "gave up on "+itoa(left))) {
					t.Fatalf("run %d: gave up on %d: %q", run, st.GaveUp, warnings)
				}
				if left == 0 && len(warnings) != 0 {
					t.Fatalf("run %d: warnings %q", run, warnings)
				}
			}
			if st := states()[victims[0].UniqueID]; !st.Stored || st.Tries != 0 || st.Reason != "" {
				t.Fatalf("the mended recording: %+v", st)
			}
			if n := asked[victims[3].UniqueID].Load(); n != int64(o.withDefaults().RecordingAttempts) {
				t.Fatalf("the broken recording was asked for %d times, want %d", n, o.withDefaults().RecordingAttempts)
			}
			checkRecordingsMatch(t, a, p, kind, victims)
		})
	}
}

// setBroken changes which recordings answer 500.
func setBroken(p *pbx, broken map[string]bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.brokenSet(broken)
}

// checkRecordingsMatch checks every call is archived and every recording but the victims' is, byte for byte.
func checkRecordingsMatch(t *testing.T, a *archive.Archive, p *pbx, kind string, victims []cdr.Record) {
	t.Helper()
	skip := map[string]bool{}
	for _, v := range victims[1:] {
		skip[v.UniqueID] = true
	}
	var want []cdr.Record
	src := newSource(t, kind, p.srv.URL, zone)
	if _, err := src.Calls(context.Background(), cdr.Query{Extended: true}, func(r cdr.Record) error { want = append(want, r); return nil }); err != nil {
		t.Fatal(err)
	}
	got := archived(t, a)
	if len(got) != len(want) {
		t.Fatalf("%d calls archived, want %d", len(got), len(want))
	}
	for _, w := range want {
		if !sameRecord(got[w.UniqueID], w) {
			t.Fatalf("call %s differs", w.UniqueID)
		}
		if !w.HasRecording() || skip[w.UniqueID] {
			continue
		}
		rc, err := a.Recording(context.Background(), cdr.ByID(w.UniqueID))
		if err != nil {
			t.Fatalf("call %s: %v", w.UniqueID, err)
		}
		rc.Close()
	}
	for id := range skip {
		if _, err := a.Recording(context.Background(), cdr.ByID(id)); err == nil || !strings.Contains(err.Error(), "recording not fetched: ") {
			if kind == "comx" && id != victims[3].UniqueID {
				continue
			}
			t.Fatalf("call %s: %v", id, err)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
