package difuse_test

import (
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/difuse"
	"github.com/callscope/callscope/client/pbxsim"
	"github.com/callscope/callscope/client/transport"
)

// simPBX is pbxsim behind a handler that counts requests on the server side.
type simPBX struct {
	*pbxsim.Sim
	srv      *httptest.Server
	requests atomic.Int64
}

var simEnd = time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)

func startSim(t testing.TB, o pbxsim.Options) *simPBX {
	t.Helper()
	if o.End.IsZero() {
		o.End = simEnd
	}
	sim, err := pbxsim.New(o)
	if err != nil {
		t.Fatal(err)
	}
	p := &simPBX{Sim: sim}
	h := sim.Handler()
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.requests.Add(1)
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *simPBX) client(t testing.TB, mod func(*difuse.Config)) *difuse.Client {
	t.Helper()
	ep, err := transport.ParseEndpoint(p.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	o := p.Options()
	ep.User, ep.Password = o.DifuseExtension, cdr.Secret(o.DifuseSecret)
	cfg := difuse.Config{Endpoint: ep}
	if mod != nil {
		mod(&cfg)
	}
	c, err := difuse.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func collect(t testing.TB, c *difuse.Client, q cdr.Query, obs ...cdr.Observer) (map[string]cdr.Record, cdr.Result) {
	t.Helper()
	got := map[string]cdr.Record{}
	o := cdr.Observer{OnWarn: func(err error) { t.Logf("warning: %v", err) }}
	if len(obs) > 0 {
		o = obs[0]
	}
	res, err := c.Calls(cdr.WithObserver(t.Context(), o), q, func(r cdr.Record) error {
		if _, dup := got[r.UniqueID]; dup {
			t.Errorf("call %s twice", r.UniqueID)
		}
		got[r.UniqueID] = r
		return nil
	})
	if err != nil {
		t.Fatalf("Calls: %v", err)
	}
	return got, res
}

// sameCall compares what the Difuse API carries of a call with the simulator's ground truth.
func sameCall(want, got cdr.Record) string {
	var diffs []string
	check := func(name string, ok bool, w, g any) {
		if !ok {
			diffs = append(diffs, name+": got "+fmt.Sprint(g)+", want "+fmt.Sprint(w))
		}
	}
	check("start", want.Start.Equal(got.Start) && cdr.FormatTime(want.Start) == cdr.FormatTime(got.Start), cdr.FormatTime(want.Start), cdr.FormatTime(got.Start))
	check("call type", want.CallType == got.CallType, want.CallType, got.CallType)
	check("extension", want.Extension == got.Extension, want.Extension, got.Extension)
	if want.CallType != cdr.CallInbound {
		check("dialled", want.DialledNumber == got.DialledNumber, want.DialledNumber, got.DialledNumber)
	}
	check("disposition", want.Disposition == got.Disposition, want.Disposition, got.Disposition)
	check("duration", want.DurationS == got.DurationS, want.DurationS, got.DurationS)
	check("billable", want.BillableS == got.BillableS, want.BillableS, got.BillableS)
	check("recording", want.HasRecording() == got.HasRecording() && (!got.HasRecording() || strings.HasSuffix(got.Recording, "/"+want.Recording)),
		want.Recording, got.Recording)
	check("epoch", want.Start.Unix() == got.Epoch, want.Start.Unix(), got.Epoch)
	return strings.Join(diffs, "; ")
}

func truth(p *simPBX, from, to time.Time, keep func(cdr.Record) bool) map[string]cdr.Record {
	m := map[string]cdr.Record{}
	p.Calls(from, to, func(r cdr.Record) bool {
		if keep == nil || keep(r) {
			m[r.UniqueID] = r
		}
		return true
	})
	return m
}

func compare(t *testing.T, name string, want, got map[string]cdr.Record) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d calls, want %d", name, len(got), len(want))
	}
	bad := 0
	for id, w := range want {
		g, ok := got[id]
		if !ok {
			if bad++; bad < 5 {
				t.Errorf("%s: call %s (start %s) missing", name, id, cdr.FormatTime(w.Start))
			}
			continue
		}
		if d := sameCall(w, g); d != "" {
			if bad++; bad < 5 {
				t.Errorf("%s: call %s: %s", name, id, d)
			}
		}
	}
	for id := range got {
		if _, ok := want[id]; !ok {
			if bad++; bad < 5 {
				t.Errorf("%s: call %s should not be there", name, id)
			}
		}
	}
}

func TestSimRange(t *testing.T) {
	p := startSim(t, pbxsim.Options{Days: 30, CallsPerDay: 200})
	c := p.client(t, nil) // zone inferred from timestamp vs date
	zone := pbxsim.DefaultLocation()
	for _, tc := range []struct {
		name     string
		from, to time.Time
	}{
		{"one day", time.Date(2024, 2, 20, 0, 0, 0, 0, zone), time.Date(2024, 2, 21, 0, 0, 0, 0, zone)},
		{"an afternoon", time.Date(2024, 2, 14, 13, 0, 0, 0, zone), time.Date(2024, 2, 14, 17, 30, 0, 0, zone)},
		{"a week", time.Date(2024, 2, 5, 0, 0, 0, 0, zone), time.Date(2024, 2, 12, 0, 0, 0, 0, zone)},
		{"open start", time.Time{}, time.Date(2024, 2, 3, 0, 0, 0, 0, zone)},
		{"open end", time.Date(2024, 2, 28, 12, 0, 0, 0, zone), time.Time{}},
	} {
		got, _ := collect(t, c, cdr.Query{From: tc.from, To: tc.to})
		compare(t, tc.name, truth(p, tc.from, tc.to, nil), got)
	}
	if zi := c.Zone(); !zi.Inferred || zi.Location.String() != "UTC+02:00" {
		t.Errorf("zone %s", zi)
	}
}

func TestSimPages(t *testing.T) {
	p := startSim(t, pbxsim.Options{Days: 3, CallsPerDay: 50})
	c := p.client(t, func(c *difuse.Config) { c.Zone = pbxsim.DefaultLocation() })
	all := truth(p, time.Time{}, time.Time{}, nil)
	seen := map[string]cdr.Record{}
	total := 0
	for page := 1; ; page++ {
		got, res := collect(t, c, cdr.Query{Page: page, Limit: 25})
		if total = res.TotalPages; page > total {
			if len(got) != 0 {
				t.Errorf("page %d past the end has %d rows", page, len(got))
			}
			break
		}
		if res.Page != page || (page < total && len(got) != 25) {
			t.Errorf("page %d: result %+v, %d rows", page, res, len(got))
		}
		for id, r := range got {
			seen[id] = r
		}
	}
	if want := (len(all) + 24) / 25; total != want {
		t.Errorf("total_pages %d, want %d", total, want)
	}
	compare(t, "all pages", all, seen)
}

func TestSimExtensionFilter(t *testing.T) {
	p := startSim(t, pbxsim.Options{Days: 10, CallsPerDay: 150})
	zone := pbxsim.DefaultLocation()
	from, to := time.Date(2024, 2, 22, 0, 0, 0, 0, zone), time.Date(2024, 2, 24, 0, 0, 0, 0, zone)
	all := truth(p, from, to, nil)
	counts := map[string]int{}
	for _, r := range all {
		counts[r.Extension]++
	}
	ext := ""
	for e, n := range counts {
		if e != "" && e != p.Options().DifuseExtension && n > counts[ext] {
			ext = e
		}
	}
	want := truth(p, from, to, func(r cdr.Record) bool {
		return r.InvolvesExtension(ext)
	})
	for _, key := range []bool{false, true} { // server-side filter; filtered here in key= mode
		c := p.client(t, func(c *difuse.Config) { c.KeyParam = key; c.Zone = zone })
		got, _ := collect(t, c, cdr.Query{From: from, To: to, Extension: ext})
		compare(t, "extension "+ext, want, got)
	}
}

func TestSimLookups(t *testing.T) {
	p := startSim(t, pbxsim.Options{Days: 20, CallsPerDay: 200})
	zone := pbxsim.DefaultLocation()
	day := time.Date(2024, 2, 15, 0, 0, 0, 0, zone)
	var sample []cdr.Record
	p.Calls(day, day.AddDate(0, 0, 1), func(r cdr.Record) bool {
		if len(sample) < 3 || (r.HasRecording() && len(sample) < 6) {
			sample = append(sample, r)
		}
		return true
	})
	for _, inferred := range []bool{false, true} {
		c := p.client(t, func(c *difuse.Config) {
			if !inferred {
				c.Zone = zone
			}
		})
		for _, want := range sample {
			p.requests.Store(0)
			got, err := c.Call(t.Context(), cdr.ByID(want.UniqueID))
			if err != nil {
				t.Errorf("by ID %s: %v", want.UniqueID, err)
				continue
			}
			if d := sameCall(want, got); d != "" || got.UniqueID != want.UniqueID {
				t.Errorf("by ID %s: %s", want.UniqueID, d)
			}
			if n := p.requests.Load(); n > 40 {
				t.Errorf("by ID: %d requests", n)
			}
			got, err = c.Call(t.Context(), cdr.ByStart(cdr.WallClock(want.Start)))
			if err != nil || !got.Start.Equal(want.Start) {
				t.Errorf("by start %s: %v, got %s", want.Start, err, got.Start)
			}
		}
	}
	c := p.client(t, func(c *difuse.Config) { c.Zone = zone })
	for _, l := range []cdr.Lookup{
		cdr.ByID("1707994800.99999"),                              // a plausible time, no such call
		cdr.ByStart(time.Date(2024, 2, 15, 3, 3, 3, 0, time.UTC)), // the middle of the night
		cdr.ByID("1500000000.1"),                                  // before the data
	} {
		if _, err := c.Call(t.Context(), l); !errors.Is(err, cdr.ErrNotFound) || !strings.Contains(err.Error(), "no call") {
			t.Errorf("%s: error %v", l, err)
		}
	}
	if _, err := c.Call(t.Context(), cdr.ByID("abc")); err == nil || !strings.Contains(err.Error(), "Unix time") {
		t.Errorf("bad ID: error %v", err)
	}
}

func TestSimRecording(t *testing.T) {
	p := startSim(t, pbxsim.Options{Days: 3, CallsPerDay: 100})
	zone := pbxsim.DefaultLocation()
	for _, key := range []bool{false, true} {
		c := p.client(t, func(c *difuse.Config) { c.Zone = zone; c.KeyParam = key })
		var with, without *cdr.Record
		if _, err := c.Calls(t.Context(), cdr.Query{}, func(r cdr.Record) error {
			switch {
			case r.HasRecording() && with == nil:
				with = &r
			case !r.HasRecording() && without == nil:
				without = &r
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if with == nil || without == nil {
			t.Fatal("the simulator made no calls with and without recordings")
		}
		for _, l := range []cdr.Lookup{cdr.ByRecord(*with), cdr.ByID(with.UniqueID)} {
			rec, err := c.Recording(t.Context(), l)
			if err != nil {
				t.Fatalf("key=%v %s: %v", key, l, err)
			}
			b, err := io.ReadAll(rec)
			rec.Close()
			if err != nil || len(b) < 1000 {
				t.Errorf("key=%v: read %d bytes: %v", key, len(b), err)
			}
			wantFmt := strings.TrimPrefix(strings.ToLower(with.Recording[strings.LastIndexByte(with.Recording, '.'):]), ".")
			if rec.Format != wantFmt || !strings.HasSuffix(with.Recording, rec.Name) || rec.Name == "" {
				t.Errorf("key=%v: format %q name %q for %s", key, rec.Format, rec.Name, with.Recording)
			}
		}
		if _, err := c.Recording(t.Context(), cdr.ByRecord(*without)); !errors.Is(err, cdr.ErrNoRecording) {
			t.Errorf("no recording: error %v", err)
		}
		// A URL the PBX no longer serves: 404.
		gone := *with
		gone.Recording = strings.Replace(gone.Recording, with.UniqueID, "1.1", 1)
		if _, err := c.Recording(t.Context(), cdr.ByRecord(gone)); !errors.Is(err, cdr.ErrNoRecording) ||
			!strings.Contains(err.Error(), "has no recording") {
			t.Errorf("404: error %v", err)
		}
	}
}

func TestSimFaults(t *testing.T) {
	p := startSim(t, pbxsim.Options{Days: 5, CallsPerDay: 100})
	zone := pbxsim.DefaultLocation()
	// One request at a time, so a page asked for again never meets the next fourth request too.
	c := p.client(t, func(c *difuse.Config) { c.Zone = zone; c.Timeout = 300 * time.Millisecond; c.Parallel = 1 })
	from, to := time.Date(2024, 2, 27, 0, 0, 0, 0, zone), time.Date(2024, 2, 29, 0, 0, 0, 0, zone)
	want := truth(p, from, to, nil)

	p.SetFaults(pbxsim.Faults{ServerErrorEvery: 4})
	var warns int
	got, _ := collect(t, c, cdr.Query{From: from, To: to, Limit: 20}, cdr.Observer{OnWarn: func(error) { warns++ }})
	compare(t, "every 4th request a 500", want, got)
	if warns == 0 {
		t.Error("no warning about the retried pages")
	}

	for _, tc := range []struct {
		f   pbxsim.Faults
		sub string
	}{
		{pbxsim.Faults{Unauthorized: true}, "wrong user or password"},
		{pbxsim.Faults{ServerErrorEvery: 1}, "HTTP 500"},
		{pbxsim.Faults{CutAfterBytes: 700}, "cut off"},
		{pbxsim.Faults{Stall: true}, "no answer within 300ms"},
	} {
		p.SetFaults(tc.f)
		_, err := c.Calls(t.Context(), cdr.Query{From: from, To: to}, func(cdr.Record) error { return nil })
		if err == nil || !strings.Contains(err.Error(), tc.sub) {
			t.Errorf("%+v: error %v, want %q", tc.f, err, tc.sub)
		}
	}
	p.SetFaults(pbxsim.Faults{})
}

// TestSimBigPBXOneDay is the spec's 15,905-page PBX: one day must cost a few dozen requests, not a scan.
func TestSimBigPBXOneDay(t *testing.T) {
	if testing.Short() {
		t.Skip("big simulated PBX")
	}
	p := startSim(t, pbxsim.Options{Days: 400, CallsPerDay: 400, Seed: 7})
	zone := pbxsim.DefaultLocation()
	c := p.client(t, func(c *difuse.Config) { c.Zone = zone; c.Limit = 10 })
	from := time.Date(2023, 11, 14, 0, 0, 0, 0, zone)
	to := from.AddDate(0, 0, 1)
	want := truth(p, from, to, nil)
	p.requests.Store(0)
	got, res := collect(t, c, cdr.Query{From: from, To: to, Limit: 10})
	compare(t, "one day", want, got)
	n := p.requests.Load()
	dayPages := int64(math.Ceil(float64(len(want)) / 10))
	bound := 1 + int64(math.Ceil(math.Log2(float64(res.TotalPages)))) + dayPages + 4
	t.Logf("%d rows in %d pages; one day (%d calls, %d pages): %d requests (bound %d)",
		p.Total(), res.TotalPages, len(want), dayPages, n, bound)
	if res.TotalPages < 10000 || n > bound {
		t.Errorf("%d requests over %d pages, want at most %d", n, res.TotalPages, bound)
	}
}

// TestSimTwoHoursOf99Pages: a 2-hour window of a 99-page PBX takes at most 30 requests, whether the PBX pages
// its rows in end-time order (Asterisk writes a CDR when the call hangs up) or in start-time order (an imported
// history), and never falls back to reading every page.
func TestSimTwoHoursOf99Pages(t *testing.T) {
	zone := pbxsim.DefaultLocation()
	for _, order := range []pbxsim.RowOrder{pbxsim.ByEnd, pbxsim.ByStart} {
		p := startSim(t, pbxsim.Options{Days: 30, CallsPerDay: 330, DifuseOrder: order})
		total := p.Total()
		limit := (total + 98) / 99
		for (total+limit-1)/limit > 99 {
			limit++
		}
		if (total+limit-1)/limit != 99 {
			t.Fatalf("no page size gives 99 pages of %d calls", total)
		}
		c := p.client(t, func(c *difuse.Config) { c.Zone = zone; c.Limit = limit })
		for _, from := range []time.Time{
			time.Date(2024, 2, 14, 9, 0, 0, 0, zone),
			time.Date(2024, 2, 21, 15, 30, 0, 0, zone),
			time.Date(2024, 2, 1, 8, 0, 0, 0, zone),   // near the first page
			time.Date(2024, 2, 29, 16, 0, 0, 0, zone), // the last day
			time.Date(2024, 2, 10, 23, 0, 0, 0, zone), // a Saturday night: no calls
		} {
			to := from.Add(2 * time.Hour)
			name := fmt.Sprintf("%s order, [%s, %s)", order, from.Format("Jan 2 15:04"), to.Format("15:04"))
			p.requests.Store(0)
			var warns []string
			got, res := collect(t, c, cdr.Query{From: from, To: to}, cdr.Observer{OnWarn: func(err error) { warns = append(warns, err.Error()) }})
			compare(t, name, truth(p, from, to, nil), got)
			n := p.requests.Load()
			t.Logf("%s: %d calls, %d requests", name, len(got), n)
			if res.TotalPages != 99 || n > 30 || len(warns) > 0 {
				t.Errorf("%s: %d pages, %d requests (want at most 30), warnings %q", name, res.TotalPages, n, warns)
			}
		}
	}
}

// TestSimWithoutTotalPages: pbxsim as a PBX that sends no total_pages and answers pages past its last with the
// last one; a range and a look-up still find their calls.
func TestSimWithoutTotalPages(t *testing.T) {
	p := startSim(t, pbxsim.Options{Days: 10, CallsPerDay: 150, Faults: pbxsim.Faults{DifuseNoTotal: true}})
	zone := pbxsim.DefaultLocation()
	c := p.client(t, func(c *difuse.Config) { c.Zone = zone })
	from, to := time.Date(2024, 2, 26, 0, 0, 0, 0, zone), time.Date(2024, 2, 27, 0, 0, 0, 0, zone)
	got, _ := collect(t, c, cdr.Query{From: from, To: to})
	want := truth(p, from, to, nil)
	compare(t, "one day", want, got)
	for id := range want {
		if r, err := c.Call(t.Context(), cdr.ByID(id)); err != nil || r.UniqueID != id {
			t.Errorf("look-up of %s: %v", id, err)
		}
		break
	}
}
