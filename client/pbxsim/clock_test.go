package pbxsim

import (
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/comx"
)

// endWall is a call's end as a wall clock read as UTC, as the simulator decides when it was written.
func endWall(r cdr.Record) time.Time {
	return cdr.WallClock(r.Start).Add(time.Duration(max(r.DurationS, 0)) * time.Second)
}

// endedBy is what a PBX whose present is now holds of all: the calls that had ended.
func endedBy(all []cdr.Record, now time.Time) []string {
	var ids []string
	for _, r := range all {
		if !endWall(r).After(cdr.WallClock(now)) {
			ids = append(ids, r.UniqueID)
		}
	}
	sort.Strings(ids)
	return ids
}

// servedIDs lists the unique IDs the simulator serves now, through the API named: the Com.X txt index, the
// calls inside a Com.X ziprec, or every Difuse page.
func servedIDs(t *testing.T, srv *Server, api string) []string {
	t.Helper()
	var ids []string
	switch api {
	case "comx txt":
		r := get(t, srv, "/commagui/cdr?format=txt&extended", comxAuth)
		for _, l := range lines(r.body) {
			ids = append(ids, strings.SplitN(l, ",", 2)[0])
		}
	case "comx zip":
		r := get(t, srv, "/commagui/cdr?format=ziprec&extended", comxAuth)
		for _, l := range lines(readZip(t, r.body)["index.txt"]) {
			ids = append(ids, strings.SplitN(l, ",", 2)[0])
		}
	case "difuse":
		for page := 1; ; page++ {
			p := getPage(t, srv, "page="+itoa(page)+"&limit=37", difuseAuth)
			for _, row := range p.Data {
				ids = append(ids, row.CallID)
			}
			if page >= p.TotalPages {
				if len(ids) > p.TotalPages*37 || (p.TotalPages > 0 && len(ids) <= (p.TotalPages-1)*37) {
					t.Fatalf("difuse: %d rows in %d pages of 37", len(ids), p.TotalPages)
				}
				break
			}
		}
	}
	sort.Strings(ids)
	return ids
}

func sameIDs(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestClock: a PBX on a clock of its own stamps it on every answer and serves only the calls that had ended by
// it, on both APIs, for generated and directory data; moving the clock on brings the calls that were going on.
func TestClock(t *testing.T) {
	zone := mustZone(DefaultZone)
	day := time.Date(2014, 3, 28, 0, 0, 0, 0, zone) // a Friday
	// The same calls with every one served: the truth the clocked simulator is measured against.
	whole, err := New(Options{Days: 4, End: day.Add(36 * time.Hour), Zone: zone, Seed: 7, CallsPerDay: 60})
	if err != nil {
		t.Fatal(err)
	}
	all := truthSim(whole)
	// The present: in the middle of the longest call of the morning, so one call is going on.
	var now time.Time
	longest := 0
	for _, r := range all {
		if w := cdr.WallClock(r.Start); w.Day() == 28 && w.Hour() < 12 && r.DurationS > longest {
			longest, now = r.DurationS, r.Start.Add(time.Duration(r.DurationS/2)*time.Second)
		}
	}
	dataDir := t.TempDir()
	var index []byte
	for _, r := range all {
		r.Recording, r.RecordingSize = "", 0 // the directory holds no recording files
		index = comx.AppendLine(index, &r, true)
		index = append(index, '\n')
	}
	if err := os.WriteFile(filepath.Join(dataDir, "index.txt"), index, 0o644); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name string
		o    Options
	}{
		{"generated", Options{Days: 4, End: day.Add(36 * time.Hour), Now: now, FrozenClock: true, CallsPerDay: 60}},
		{"directory", Options{DataDir: dataDir, Now: now, FrozenClock: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.o.Zone, tc.o.Seed = zone, 7
			srv, err := Start(tc.o)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { srv.Close() })
			if srv.Total() != len(all) {
				t.Fatalf("%d calls in the data, want %d", srv.Total(), len(all))
			}
			// A call going on at the present: started before it, ends after it.
			var going cdr.Record
			for _, r := range all {
				if cdr.WallClock(r.Start).Before(cdr.WallClock(now)) && endWall(r).After(cdr.WallClock(now)) {
					going = r
					break
				}
			}
			if going.UniqueID == "" {
				t.Fatal("no call is going on at the present; pick another time")
			}
			for step, at := range []time.Time{now, now.Add(50 * time.Minute), now.Add(26 * time.Hour)} {
				if step > 0 {
					srv.SetClock(at, true)
				}
				want := endedBy(all, at)
				if len(want) == 0 || (step < 2 && len(want) == len(all)) {
					t.Fatalf("step %d: %d of %d calls ended: the test proves nothing", step, len(want), len(all))
				}
				for _, api := range []string{"comx txt", "comx zip", "difuse"} {
					if got := servedIDs(t, srv, api); !sameIDs(got, want) {
						t.Fatalf("step %d, %s: served %d calls, want the %d that had ended by %s", step, api,
							len(got), len(want), at)
					}
				}
				if srv.Visible() != len(want) {
					t.Fatalf("step %d: Visible %d, want %d", step, srv.Visible(), len(want))
				}
				r := get(t, srv, "/commagui/cdr?format=txt", comxAuth)
				date, err := http.ParseTime(r.header.Get("Date"))
				if err != nil || !date.Equal(at) {
					t.Fatalf("step %d: Date %q, want %s", step, r.header.Get("Date"), at.UTC().Format(http.TimeFormat))
				}
				if r := get(t, srv, "/commagui/cdr?format=txt", "admin:wrong"); r.header.Get("Date") != at.UTC().Format(http.TimeFormat) {
					t.Fatalf("step %d: a refused answer's Date %q", step, r.header.Get("Date"))
				}
				// The call going on at the first step exists only once it has ended.
				body := get(t, srv, "/commagui/cdr?format=txt&id="+going.UniqueID, comxAuth).body
				if has := len(body) > 0; has != !endWall(going).After(cdr.WallClock(at)) {
					t.Fatalf("step %d: call %s going on until %s served by ID: %v", step, going.UniqueID, endWall(going), has)
				}
			}
		})
	}
}

func truthSim(s *Sim) []cdr.Record {
	var out []cdr.Record
	s.Calls(time.Time{}, time.Time{}, func(r cdr.Record) bool { out = append(out, r); return true })
	return out
}

// TestClockAdvances: without FrozenClock the PBX's clock runs on from Now in real time.
func TestClockAdvances(t *testing.T) {
	zone := mustZone(DefaultZone)
	start := time.Date(2014, 3, 28, 12, 0, 0, 0, zone)
	s, err := New(Options{Days: 1, Now: start, Zone: zone})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	if d := s.Now().Sub(start); d < 20*time.Millisecond || d > 10*time.Second {
		t.Fatalf("clock advanced %v", d)
	}
	if !s.ClockSet() {
		t.Fatal("no clock")
	}
	// Without an End the data runs a day past the clock, after Days days of history.
	if o := s.Options(); !o.End.Equal(start.Add(24*time.Hour)) || o.Days != 2 {
		t.Fatalf("End %s, Days %d", o.End, o.Days)
	}
	s.SetClock(time.Time{}, false)
	if s.ClockSet() || time.Since(s.Now()) > time.Second {
		t.Fatalf("back on this computer's clock: %v", s.Now())
	}
}
