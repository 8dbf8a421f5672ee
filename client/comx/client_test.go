package comx_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/comx"
	"github.com/callscope/callscope/client/pbxsim"
	"github.com/callscope/callscope/client/transport"
)

// The simulator's last day; its zone is Africa/Johannesburg (UTC+2, no daylight saving).
var simEnd = time.Date(2024, 3, 14, 0, 0, 0, 0, time.UTC)

func startSim(t *testing.T, o pbxsim.Options) *pbxsim.Server {
	t.Helper()
	if o.End.IsZero() {
		o.End = simEnd
	}
	if o.Days == 0 {
		o.Days = 3
	}
	if o.Seed == 0 {
		o.Seed = 11
	}
	srv, err := pbxsim.Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// newClient connects to srv with the simulator's default credentials unless url carries others.
func newClient(t *testing.T, rawURL string, mod func(*comx.Config)) *comx.Client {
	t.Helper()
	ep, err := transport.ParseEndpoint(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	if ep.User == "" {
		ep.User, ep.Password = pbxsim.DefaultComxUser, pbxsim.DefaultComxPassword
	}
	cfg := comx.Config{Endpoint: ep, Timeout: 5 * time.Second}
	if mod != nil {
		mod(&cfg)
	}
	c, err := comx.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// simCalls is the ground truth: the simulator's calls in [from, to), as the extended index gives them, or with
// the extended fields cleared.
func simCalls(srv *pbxsim.Server, from, to time.Time, extended bool) []cdr.Record {
	var out []cdr.Record
	srv.Calls(from, to, func(r cdr.Record) bool {
		if !extended {
			r.Extended, r.FriendlyName, r.AccountCode, r.Channel, r.DestChannel = false, "", "", "", ""
		}
		out = append(out, r)
		return true
	})
	return out
}

func collect(t *testing.T, c *comx.Client, q cdr.Query) ([]cdr.Record, cdr.Result, []error, error) {
	t.Helper()
	var recs []cdr.Record
	var warns []error
	ctx := cdr.WithObserver(context.Background(), cdr.Observer{OnWarn: func(err error) { warns = append(warns, err) }})
	res, err := c.Calls(ctx, q, func(r cdr.Record) error { recs = append(recs, r); return nil })
	return recs, res, warns, err
}

// sameCalls compares records field by field; Start must be the same instant with the same offset.
func sameCalls(t *testing.T, got, want []cdr.Record) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d calls, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if !g.Start.Equal(w.Start) || g.Start.Format(time.RFC3339) != w.Start.Format(time.RFC3339) {
			t.Fatalf("call %d (%s): start %s, want %s", i, w.UniqueID, g.Start.Format(time.RFC3339), w.Start.Format(time.RFC3339))
		}
		g.Start, w.Start = time.Time{}, time.Time{}
		if g != w {
			t.Fatalf("call %d:\n got %+v\nwant %+v", i, g, w)
		}
	}
}

func day(d, h, m int) time.Time { return time.Date(2024, 3, d, h, m, 0, 0, time.UTC) }

func TestCallsMatchSimulator(t *testing.T) {
	srv := startSim(t, pbxsim.Options{})
	for _, ext := range []bool{false, true} {
		t.Run(fmt.Sprint("extended=", ext), func(t *testing.T) {
			c := newClient(t, srv.URL(), nil)
			from, to := day(13, 8, 0), day(13, 17, 30)
			got, res, warns, err := collect(t, c, cdr.Query{From: from, To: to, Extended: ext})
			if err != nil || len(warns) != 0 {
				t.Fatalf("err %v, warnings %v", err, warns)
			}
			want := simCalls(srv, from, to, ext)
			if len(want) < 50 {
				t.Fatalf("only %d calls in the simulator's range", len(want))
			}
			sameCalls(t, got, want)
			if res.Rows != len(want) || res.Skipped != 0 || res.TotalPages != 0 {
				t.Errorf("result %+v", res)
			}
			// Zone inferred from the unique IDs: Johannesburg is UTC+2.
			zi := c.Zone()
			if _, off := got[0].Start.Zone(); off != 2*3600 || !zi.Inferred || zi.Samples == 0 || zi.Votes != zi.Samples {
				t.Errorf("offset %d, zone %+v (%s)", off, zi, zi)
			}
			if !strings.Contains(got[0].Start.Format(time.RFC3339), "+02:00") {
				t.Errorf("start %s", got[0].Start.Format(time.RFC3339))
			}
		})
	}
}

func TestCallsWholeIndexAndRanges(t *testing.T) {
	srv := startSim(t, pbxsim.Options{})
	c := newClient(t, srv.URL(), nil)
	got, _, _, err := collect(t, c, cdr.Query{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != srv.Total() {
		t.Fatalf("%d calls, simulator has %d", len(got), srv.Total())
	}
	for _, tc := range []struct {
		name     string
		from, to time.Time
	}{
		{"midnight to midnight", day(12, 0, 0), day(13, 0, 0)},
		{"open start", time.Time{}, day(12, 9, 15)},
		{"open end", day(13, 16, 45), time.Time{}},
		{"seconds are applied exactly", day(13, 9, 0).Add(17 * time.Second), day(13, 11, 0).Add(43 * time.Second)},
		{"zone of the bounds is ignored", day(13, 9, 0).In(time.FixedZone("X", -5*3600)), day(13, 10, 0).In(time.FixedZone("Y", 9*3600))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, _, _, err := collect(t, c, cdr.Query{From: tc.from, To: tc.to})
			if err != nil {
				t.Fatal(err)
			}
			want := simCalls(srv, cdr.WallClock(tc.from), cdr.WallClock(tc.to), false)
			if len(want) == 0 {
				t.Fatal("empty range: the test proves nothing")
			}
			sameCalls(t, got, want)
		})
	}
}

func TestCallsPagesAndExtension(t *testing.T) {
	srv := startSim(t, pbxsim.Options{})
	c := newClient(t, srv.URL(), nil)
	from, to := day(13, 0, 0), day(14, 0, 0)
	all := simCalls(srv, from, to, false)

	const limit = 17
	var joined []cdr.Record
	wantPages := (len(all) + limit - 1) / limit
	for page := 1; page <= wantPages+1; page++ {
		got, res, _, err := collect(t, c, cdr.Query{From: from, To: to, Page: page, Limit: limit})
		if err != nil {
			t.Fatal(err)
		}
		if res.TotalPages != wantPages || res.Page != page || res.Rows != len(got) {
			t.Fatalf("page %d: result %+v, want %d pages", page, res, wantPages)
		}
		if page < wantPages && len(got) != limit {
			t.Fatalf("page %d has %d rows", page, len(got))
		}
		if page > wantPages && len(got) != 0 {
			t.Fatalf("page past the end has %d rows", len(got))
		}
		joined = append(joined, got...)
	}
	sameCalls(t, joined, all)

	// Extension: the calls of one extension, internal calls to it from others included.
	// Take the busiest extension that others called internally.
	calls := map[string]int{}
	for _, r := range all {
		calls[r.Extension]++
	}
	var ext string
	for _, r := range all {
		if r.CallType == cdr.CallInternal && calls[r.DialledNumber] > calls[ext] {
			ext = r.DialledNumber
		}
	}
	var want []cdr.Record
	internalFromOthers := 0
	for _, r := range all {
		if r.InvolvesExtension(ext) {
			want = append(want, r)
			if r.Extension != ext {
				internalFromOthers++
			}
		}
	}
	if ext == "" || internalFromOthers == 0 || len(want) < 6 || len(want) == len(all) {
		t.Fatalf("extension %q: %d of %d calls, %d internal from others: the test proves little", ext, len(want), len(all), internalFromOthers)
	}
	got, _, _, err := collect(t, c, cdr.Query{From: from, To: to, Extension: ext})
	if err != nil {
		t.Fatal(err)
	}
	sameCalls(t, got, want)
	// Extension and page together: page 2 of that extension's calls.
	got, res, _, err := collect(t, c, cdr.Query{From: from, To: to, Extension: ext, Page: 2, Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	sameCalls(t, got, want[3:6])
	if res.TotalPages != (len(want)+2)/3 {
		t.Errorf("total pages %d for %d calls", res.TotalPages, len(want))
	}
}

func TestCallStopsWhenFnFails(t *testing.T) {
	srv := startSim(t, pbxsim.Options{})
	c := newClient(t, srv.URL(), nil)
	stop := errors.New("enough")
	n := 0
	res, err := c.Calls(context.Background(), cdr.Query{}, func(cdr.Record) error {
		n++
		if n == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 3 || res.Rows != 2 {
		t.Fatalf("err %v, n %d, rows %d", err, n, res.Rows)
	}
}

func TestCallLookups(t *testing.T) {
	srv := startSim(t, pbxsim.Options{})
	c := newClient(t, srv.URL(), func(cfg *comx.Config) { cfg.Extended = true })
	all := simCalls(srv, day(13, 0, 0), day(14, 0, 0), true)
	want := all[len(all)/3]

	got, err := c.Call(context.Background(), cdr.ByID(want.UniqueID))
	if err != nil {
		t.Fatal(err)
	}
	sameCalls(t, []cdr.Record{got}, []cdr.Record{want})

	// By exact start: the wall clock of the placed time is what is sent.
	got, err = c.Call(context.Background(), cdr.ByStart(want.Start))
	if err != nil {
		t.Fatal(err)
	}
	var first cdr.Record // the PBX answers with the first call that started at that second
	srv.Calls(cdr.WallClock(want.Start), cdr.WallClock(want.Start).Add(time.Second), func(r cdr.Record) bool { first = r; return false })
	sameCalls(t, []cdr.Record{got}, []cdr.Record{first})

	_, err = c.Call(context.Background(), cdr.ByID("1000000000.999"))
	if !errors.Is(err, cdr.ErrNotFound) || err.Error() != "no call with ID 1000000000.999" {
		t.Errorf("unknown ID: %v", err)
	}
	_, err = c.Call(context.Background(), cdr.ByStart(day(13, 3, 0).Add(7*time.Second)))
	if !errors.Is(err, cdr.ErrNotFound) || !strings.Contains(err.Error(), "no call that started at exactly 2024-03-13 03:00:07") {
		t.Errorf("unknown start: %v", err)
	}
	if _, err := c.Call(context.Background(), cdr.Lookup{}); err == nil {
		t.Error("an empty lookup was accepted")
	}
}

func TestRecordings(t *testing.T) {
	srv := startSim(t, pbxsim.Options{})
	c := newClient(t, srv.URL(), nil)
	all := simCalls(srv, day(13, 0, 0), day(14, 0, 0), false)
	formats := map[string]int{}
	var unrecorded *cdr.Record
	checked := 0
	for i := range all {
		r := all[i]
		if !r.HasRecording() {
			if unrecorded == nil {
				unrecorded = &all[i]
			}
			continue
		}
		ext := strings.TrimPrefix(filepath.Ext(r.Recording), ".")
		if formats[ext] >= 2 {
			continue
		}
		formats[ext]++
		checked++
		for _, l := range []cdr.Lookup{cdr.ByID(r.UniqueID), cdr.ByRecord(r)} {
			rec, err := c.Recording(context.Background(), l)
			if err != nil {
				t.Fatal(err)
			}
			data, err := io.ReadAll(rec)
			rec.Close()
			if err != nil {
				t.Fatal(err)
			}
			if rec.Format != ext || int64(len(data)) != r.RecordingSize || rec.Size != r.RecordingSize {
				t.Errorf("%s: format %q (file %s), %d bytes, size %d, index says %d", r.UniqueID, rec.Format,
					r.Recording, len(data), rec.Size, r.RecordingSize)
			}
			if l.Record != nil && rec.Name != r.Recording {
				t.Errorf("name %q, want %q", rec.Name, r.Recording)
			}
			if l.Record == nil && rec.Name != r.UniqueID+"."+ext {
				t.Errorf("name %q without a record", rec.Name)
			}
			// The same bytes as the call's ziprec archive holds.
			var zb bytes.Buffer
			if _, err := c.FetchCallZip(context.Background(), l, &zb); err != nil {
				t.Fatal(err)
			}
			z, err := comx.OpenZip(bytes.NewReader(zb.Bytes()), int64(zb.Len()), comx.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			zr, _, err := z.Recording(r.Recording)
			if err != nil {
				t.Fatal(err)
			}
			zdata, _ := io.ReadAll(zr)
			if !bytes.Equal(zdata, data) {
				t.Errorf("%s: recording differs from the zip's", r.UniqueID)
			}
		}
	}
	if formats["wav"] == 0 || formats["gsm"] == 0 {
		t.Errorf("formats seen %v: want both gsm and wav", formats)
	}
	if unrecorded == nil {
		t.Fatal("no unrecorded call in the range")
	}
	_, err := c.Recording(context.Background(), cdr.ByID(unrecorded.UniqueID))
	if !errors.Is(err, cdr.ErrNoRecording) || err.Error() != "call "+unrecorded.UniqueID+" has no recording" {
		t.Errorf("unrecorded call: %v", err)
	}
	_, err = c.Recording(context.Background(), cdr.ByID("1000000000.1"))
	if !errors.Is(err, cdr.ErrNotFound) {
		t.Errorf("unknown call: %v", err)
	}
	var zb bytes.Buffer
	if _, err := c.FetchCallZip(context.Background(), cdr.ByID("1000000000.1"), &zb); !errors.Is(err, cdr.ErrNotFound) {
		t.Errorf("zip of an unknown call: %v", err)
	}
}

func TestSniffAudio(t *testing.T) {
	for _, tc := range []struct {
		file, want string
	}{
		{"../../testdata/audio/noise-clipped-alaw.wav", "wav"},
		{"../../testdata/audio/noise-clipped-pcm16.wav", "wav"},
		{"../../testdata/audio/noise-clipped-wav49.wav", "wav"},
		{"../../testdata/audio/noise-clipped-gsm.gsm", "gsm"},
		{"../../testdata/audio/noise-clipped-alaw.al", ""},
		{"../../testdata/audio/noise-clipped.sln", ""},
	} {
		b, err := os.ReadFile(tc.file)
		if err != nil {
			t.Skipf("test audio not there: %v", err)
		}
		if got := cdr.SniffAudio(b[:min(len(b), 99)]); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.file, got, tc.want)
		}
	}
}

func TestUsers(t *testing.T) {
	for _, crlf := range []bool{false, true} {
		srv := startSim(t, pbxsim.Options{CRLF: crlf})
		c := newClient(t, srv.URL(), nil)
		got, err := c.Users(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		want := srv.Users()
		if len(got) != len(want) || len(want) == 0 {
			t.Fatalf("%d users, want %d", len(got), len(want))
		}
		pins := 0
		for i := range want {
			if got[i].Extension != want[i].Extension || got[i].Name != want[i].Name || got[i].PIN.Reveal() != want[i].PIN.Reveal() {
				t.Errorf("user %d: %+v, want %+v", i, got[i], want[i])
			}
			if got[i].PIN.IsSet() {
				pins++
				if s := fmt.Sprintf("%v %+v %s", got[i], got[i], got[i].PIN); strings.Contains(s, got[i].PIN.Reveal()+" ") {
					t.Errorf("PIN printed: %s", s)
				}
			}
		}
		if pins == 0 {
			t.Error("no user has a PIN: the test proves nothing")
		}
	}
}

func TestZipBatch(t *testing.T) {
	srv := startSim(t, pbxsim.Options{})
	c := newClient(t, srv.URL(), nil)
	from, to := day(13, 9, 0), day(13, 11, 0)
	f, err := os.CreateTemp(t.TempDir(), "cdr-*.zip")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var progress int64
	ctx := cdr.WithObserver(context.Background(), cdr.Observer{OnProgress: func(b int64) { progress = b }})
	n, err := c.FetchZip(ctx, cdr.Query{From: from, To: to, Extended: true}, f)
	if err != nil {
		t.Fatal(err)
	}
	if progress != n || n == 0 {
		t.Errorf("progress %d, bytes %d", progress, n)
	}
	z, err := comx.OpenZip(f, n, comx.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	var got []cdr.Record
	pl := c.Placer(func(r cdr.Record) error { got = append(got, r); return nil })
	if _, _, err := z.Index(pl.Push, nil); err != nil {
		t.Fatal(err)
	}
	pl.Flush()
	want := simCalls(srv, from, to, true)
	if len(got) != len(want) || len(want) == 0 {
		t.Fatalf("%d rows in the zip, want %d", len(got), len(want))
	}
	names := map[string]bool{}
	for _, name := range z.Names() {
		names[name] = true
	}
	for i, r := range want {
		if got[i].UniqueID != r.UniqueID || got[i].Start.Format(time.RFC3339) != r.Start.Format(time.RFC3339) || got[i].FriendlyName != r.FriendlyName {
			t.Fatalf("row %d: %+v, want %+v", i, got[i], r)
		}
		if r.HasRecording() != names[r.Recording] {
			t.Errorf("%s: recording %q in zip: %v", r.UniqueID, r.Recording, names[r.Recording])
		}
	}

	// A download over the cap is stopped with a clear error.
	small := newClient(t, srv.URL(), func(cfg *comx.Config) { cfg.MaxZipBytes = 1000 })
	if _, err := small.FetchZip(context.Background(), cdr.Query{From: from, To: to}, io.Discard); !errors.Is(err, comx.ErrZipTooLarge) {
		t.Errorf("over the cap: %v", err)
	}
}

func TestIndexRaw(t *testing.T) {
	srv := startSim(t, pbxsim.Options{})
	c := newClient(t, srv.URL(), nil)
	from, to := day(13, 9, 0), day(13, 10, 0)
	body, err := c.Index(context.Background(), cdr.Query{From: from, To: to})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(body)
	body.Close()
	var want bytes.Buffer
	if err := srv.WriteIndex(&want, from, to, false); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.Bytes()) || want.Len() == 0 {
		t.Errorf("raw index differs: %d bytes, want %d", len(got), want.Len())
	}
}

func TestURLForms(t *testing.T) {
	srv := startSim(t, pbxsim.Options{})
	hostPort := strings.TrimPrefix(srv.URL(), "http://")
	for _, u := range []string{
		srv.URL(),
		srv.URL() + "/",
		srv.URL() + "/commagui/cdr",
		hostPort,
		"http://admin:C%4011Me@" + hostPort,
		"http://admin:C%4011Me@" + hostPort + "/commagui/cdr",
	} {
		c := newClient(t, u, nil)
		if d := c.Describe(); d != "comx "+srv.URL() && d != "comx "+srv.URL()+"/" {
			t.Errorf("%s: describe %q", u, d)
		}
		if _, err := c.Users(context.Background()); err != nil {
			t.Errorf("%s: %v", u, err)
		}
	}
}

func TestWrongPath(t *testing.T) {
	srv := startSim(t, pbxsim.Options{})
	c := newClient(t, srv.URL()+"/not-a-comx", nil)
	_, err := c.Calls(context.Background(), cdr.Query{}, func(cdr.Record) error { return nil })
	if transport.StatusOf(err) != 404 || !strings.Contains(err.Error(), "HTTP CDR retrieval is enabled") {
		t.Errorf("got %v", err)
	}
}

func TestAuth(t *testing.T) {
	srv := startSim(t, pbxsim.Options{ComxUser: "cdr", ComxPassword: "s3cret-Pa55"})
	good := newClient(t, "http://cdr:s3cret-Pa55@"+strings.TrimPrefix(srv.URL(), "http://"), nil)
	if _, err := good.Users(context.Background()); err != nil {
		t.Fatalf("good credentials: %v", err)
	}
	for _, u := range []string{
		"http://cdr:wrong-Pa55@" + strings.TrimPrefix(srv.URL(), "http://"),
		srv.URL(), // the factory default, which this PBX changed
	} {
		c := newClient(t, u, nil)
		_, err := c.Calls(context.Background(), cdr.Query{}, func(cdr.Record) error { return nil })
		if !errors.Is(err, cdr.ErrAuth) || !strings.Contains(err.Error(), "wrong user or password (HTTP 401)") {
			t.Errorf("%s: %v", transport.Redact(u), err)
		}
		if strings.Contains(err.Error(), "Pa55") || strings.Contains(err.Error(), "C@11Me") {
			t.Errorf("password in error: %v", err)
		}
	}
}

func TestFaults(t *testing.T) {
	srv := startSim(t, pbxsim.Options{})
	from, to := day(13, 0, 0), day(14, 0, 0)
	all := simCalls(srv, from, to, false)
	c := newClient(t, srv.URL(), func(cfg *comx.Config) { cfg.Timeout = 400 * time.Millisecond })
	q := cdr.Query{From: from, To: to}

	t.Run("401", func(t *testing.T) {
		srv.SetFaults(pbxsim.Faults{Unauthorized: true})
		defer srv.SetFaults(pbxsim.Faults{})
		_, err := c.Users(context.Background())
		if !errors.Is(err, cdr.ErrAuth) {
			t.Errorf("got %v", err)
		}
	})
	t.Run("500", func(t *testing.T) {
		srv.SetFaults(pbxsim.Faults{ServerErrorEvery: 1})
		defer srv.SetFaults(pbxsim.Faults{})
		_, _, _, err := collect(t, c, q)
		if err == nil || transport.StatusOf(err) != 500 || !strings.Contains(err.Error(), "the PBX failed (HTTP 500") {
			t.Errorf("got %v", err)
		}
		_, err = c.Recording(context.Background(), cdr.ByID(all[0].UniqueID))
		if transport.StatusOf(err) != 500 || errors.Is(err, cdr.ErrNoRecording) {
			t.Errorf("recording: %v", err)
		}
	})
	t.Run("latency within the timeout", func(t *testing.T) {
		srv.SetFaults(pbxsim.Faults{Latency: 150 * time.Millisecond})
		defer srv.SetFaults(pbxsim.Faults{})
		got, _, _, err := collect(t, c, q)
		if err != nil {
			t.Fatal(err)
		}
		sameCalls(t, got, all)
	})
	t.Run("stall", func(t *testing.T) {
		srv.SetFaults(pbxsim.Faults{Stall: true})
		defer srv.SetFaults(pbxsim.Faults{})
		began := time.Now()
		_, _, _, err := collect(t, c, q)
		took := time.Since(began)
		if !errors.Is(err, transport.ErrTimeout) || !strings.Contains(err.Error(), "400ms") {
			t.Errorf("got %v", err)
		}
		if took < 400*time.Millisecond || took > 3*time.Second {
			t.Errorf("gave up after %s with a 400ms timeout", took)
		}
	})
	t.Run("body cut off", func(t *testing.T) {
		// A new client: its zone is undecided, so the rows before the cut are still buffered when it comes.
		c := newClient(t, srv.URL(), nil)
		var full bytes.Buffer
		srv.WriteIndex(&full, from, to, false)
		cut := int64(full.Len() / 2)
		srv.SetFaults(pbxsim.Faults{CutAfterBytes: cut})
		defer srv.SetFaults(pbxsim.Faults{})
		got, res, _, err := collect(t, c, q)
		if err == nil || !strings.Contains(err.Error(), "cut off") {
			t.Fatalf("got %v", err)
		}
		// Every complete line before the cut is kept, and nothing after it.
		complete := bytes.Count(full.Bytes()[:cut], []byte("\n"))
		if len(got) != complete || res.Rows != complete {
			t.Fatalf("%d rows kept, %d complete lines before the cut", len(got), complete)
		}
		sameCalls(t, got, all[:complete])
	})
	t.Run("malformed lines", func(t *testing.T) {
		srv.SetFaults(pbxsim.Faults{MalformedEvery: 7})
		defer srv.SetFaults(pbxsim.Faults{})
		got, res, warns, err := collect(t, c, q)
		if err != nil {
			t.Fatal(err)
		}
		var want []cdr.Record
		var wantLines []int
		for i, r := range all {
			if (i+1)%7 == 0 {
				wantLines = append(wantLines, i+1)
				continue
			}
			want = append(want, r)
		}
		sameCalls(t, got, want)
		if res.Skipped != len(wantLines) || len(warns) != len(wantLines) {
			t.Fatalf("skipped %d, warnings %d, want %d", res.Skipped, len(warns), len(wantLines))
		}
		for i, w := range warns {
			var le *cdr.LineError
			if !errors.As(w, &le) || le.Line != wantLines[i] || !strings.HasPrefix(w.Error(), fmt.Sprintf("line %d: ", wantLines[i])) {
				t.Errorf("warning %d: %v, want line %d", i, w, wantLines[i])
			}
		}
	})
	t.Run("truncated zip", func(t *testing.T) {
		srv.SetFaults(pbxsim.Faults{TruncateZip: true})
		defer srv.SetFaults(pbxsim.Faults{})
		var b bytes.Buffer
		n, err := c.FetchZip(context.Background(), cdr.Query{From: day(13, 9, 0), To: day(13, 10, 0)}, &b)
		if err != nil {
			t.Fatal(err)
		}
		_, err = comx.OpenZip(bytes.NewReader(b.Bytes()), n, comx.Limits{})
		if !errors.Is(err, comx.ErrTruncatedZip) || !strings.HasPrefix(err.Error(), "the zip from the PBX is cut off (truncated)") {
			t.Errorf("got %v", err)
		}
	})
}

func TestDeadServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c := newClient(t, "http://"+addr, nil)
	_, err = c.Calls(context.Background(), cdr.Query{}, func(cdr.Record) error { return nil })
	if !errors.Is(err, transport.ErrUnreachable) || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("got %v", err)
	}
}

func TestCancel(t *testing.T) {
	srv := startSim(t, pbxsim.Options{Faults: pbxsim.Faults{Stall: true}})
	c := newClient(t, srv.URL(), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	began := time.Now()
	_, err := c.Calls(ctx, cdr.Query{}, func(cdr.Record) error { return nil })
	if err == nil || time.Since(began) > 2*time.Second {
		t.Errorf("err %v after %s", err, time.Since(began))
	}
	// Cancelling mid-stream stops reading.
	srv.SetFaults(pbxsim.Faults{})
	ctx, cancel = context.WithCancel(context.Background())
	n := 0
	_, err = c.Calls(ctx, cdr.Query{}, func(cdr.Record) error {
		if n++; n == 10 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || n >= srv.Total() {
		t.Errorf("err %v after %d of %d rows", err, n, srv.Total())
	}
}

func TestZoneSettings(t *testing.T) {
	srv := startSim(t, pbxsim.Options{})
	from, to := day(13, 9, 0), day(13, 10, 0)
	want := simCalls(srv, from, to, false)

	// An explicit zone wins over the evidence.
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip("no tzdata")
	}
	c := newClient(t, srv.URL(), func(cfg *comx.Config) { cfg.Zone = ny })
	got, _, _, err := collect(t, c, cdr.Query{From: from, To: to})
	if err != nil {
		t.Fatal(err)
	}
	if zi := c.Zone(); zi.Inferred || zi.Location != ny {
		t.Errorf("zone %+v", zi)
	}
	for i := range got {
		if !cdr.SameWallClock(got[i].Start, want[i].Start) || got[i].Start.Location() != ny {
			t.Fatalf("row %d: %s", i, got[i].Start)
		}
	}

	// Another simulated zone is inferred as its offset.
	kolkata, err := time.LoadLocation("Asia/Kolkata")
	if err != nil {
		t.Skip("no tzdata")
	}
	srv2 := startSim(t, pbxsim.Options{Zone: kolkata})
	c2 := newClient(t, srv2.URL(), nil)
	got, _, _, err = collect(t, c2, cdr.Query{From: from, To: to})
	if err != nil || len(got) == 0 {
		t.Fatal(err, len(got))
	}
	if _, off := got[0].Start.Zone(); off != 5*3600+1800 || c2.Zone().Location.String() != "UTC+05:30" {
		t.Errorf("offset %d, zone %s", off, c2.Zone())
	}
}

func TestPBXVariants(t *testing.T) {
	from, to := day(13, 9, 0), day(13, 12, 0)
	for _, o := range []pbxsim.Options{
		{NoExtendedLicence: true},
		{CRLF: true, BOM: true},
	} {
		srv := startSim(t, o)
		c := newClient(t, srv.URL(), nil)
		got, _, warns, err := collect(t, c, cdr.Query{From: from, To: to, Extended: true})
		if err != nil || len(warns) != 0 {
			t.Fatalf("%+v: err %v, warnings %v", o, err, warns)
		}
		sameCalls(t, got, simCalls(srv, from, to, !o.NoExtendedLicence))
	}
}

func TestRangeParameters(t *testing.T) {
	// The query the PBX sees, checked through the simulator's request log.
	log := &syncWriter{}
	srv := startSim(t, pbxsim.Options{Log: log})
	c := newClient(t, srv.URL(), nil)
	for _, tc := range []struct {
		q    cdr.Query
		want string
	}{
		{cdr.Query{From: day(13, 0, 0), To: day(14, 0, 0)}, "format=txt&start=20240313&end=20240314"},
		{cdr.Query{From: day(13, 9, 30), To: day(13, 17, 5)}, "format=txt&start=202403130930&end=202403131705"},
		{cdr.Query{From: day(13, 9, 30).Add(5 * time.Second), To: day(13, 23, 59).Add(time.Second)}, "format=txt&start=202403130930&end=20240314"},
		{cdr.Query{To: day(13, 9, 30), Extended: true}, "format=txt&end=202403130930&extended"},
		{cdr.Query{}, "format=txt "},
	} {
		log.Reset()
		if _, _, _, err := collect(t, c, tc.q); err != nil {
			t.Fatal(err)
		}
		if got := log.waitFor("/commagui/cdr?" + tc.want); !strings.Contains(got, "/commagui/cdr?"+tc.want) {
			t.Errorf("%+v: request %q, want %q", tc.q, got, tc.want)
		}
	}
	log.Reset()
	c.Call(context.Background(), cdr.ByStart(day(13, 9, 30).Add(5*time.Second)))
	c.Recording(context.Background(), cdr.ByID("1710315005.12"))
	c.Users(context.Background())
	for _, want := range []string{"?format=txt&start=20240313093005 ", "?id=1710315005.12 ", "?users "} {
		if got := log.waitFor(want); !strings.Contains(got, want) {
			t.Errorf("log %q lacks %q", got, want)
		}
	}
}

// syncWriter is a log the simulator's handlers write to while the test reads it.
type syncWriter struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncWriter) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b.Reset()
}

// waitFor returns the log once it holds want (the simulator logs a request after answering it), or after 2 s.
func (s *syncWriter) waitFor(want string) string {
	deadline := time.Now().Add(2 * time.Second)
	for {
		s.mu.Lock()
		got := s.b.String()
		s.mu.Unlock()
		if strings.Contains(got, want) || time.Now().After(deadline) {
			return got
		}
		time.Sleep(5 * time.Millisecond)
	}
}
