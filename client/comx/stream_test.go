package comx

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/internal/peakrss"
	"github.com/callscope/callscope/client/transport"
)

// The reference WriteCalls must match byte for byte is the path before issue 13: Calls, each row through a
// cdr writer's Write, which client/cdr's FuzzWritersMatchReference holds to encoding/csv and encoding/json.

// outKind is one output of `calls`.
type outKind struct {
	name                string
	json, raw, terminal bool
}

var outKinds = []outKind{
	{name: "csv"}, {name: "csv raw", raw: true}, {name: "csv terminal", terminal: true},
	{name: "csv raw terminal", raw: true, terminal: true}, {name: "json", json: true},
}

func newEncodedWriter(w io.Writer, k outKind) interface {
	cdr.EncodedWriter
	Write(*cdr.Record) error
} {
	if k.json {
		return cdr.NewJSONWriter(w)
	}
	cw := cdr.NewCSVWriter(w)
	if k.raw {
		cw = cdr.NewRawCSVWriter(w)
	}
	if k.terminal {
		cw.ForTerminal()
	}
	return cw
}

// run is what one path made of an index: the bytes, the warnings and the counts.
type run struct {
	out     string
	warns   []string
	rows    int
	skipped int
	err     error
}

// query is one selection both paths are run with.
type query struct {
	name string
	q    cdr.Query
	keep func(*cdr.Record) bool
}

func london(t testing.TB) *time.Location {
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Skipf("no zone database: %v", err)
	}
	return loc
}

var queries = []query{
	{name: "all"},
	// Bounds with seconds around the night the clocks go forward, and back.
	{name: "range", q: cdr.Query{From: time.Date(2026, 3, 29, 0, 59, 30, 0, time.UTC), To: time.Date(2026, 3, 29, 2, 30, 15, 0, time.UTC)}},
	{name: "autumn", q: cdr.Query{From: time.Date(2026, 10, 25, 1, 15, 0, 0, time.UTC)}},
	{name: "extension", q: cdr.Query{Extension: "2001"}},
	{name: "kept", keep: func(r *cdr.Record) bool { return r.Disposition == cdr.DispAnswered || r.CallType == cdr.CallInternal }},
}

// viaWriteCalls and viaCalls run one index through each path with a fresh client in zone (nil: inferred).
func viaWriteCalls(ctx context.Context, c *Client, body io.ReadCloser, cancel context.CancelFunc, qu query, k outKind) run {
	var r run
	var b bytes.Buffer
	w := newEncodedWriter(&b, k)
	q := qu.q
	ctx = cdr.WithObserver(ctx, cdr.Observer{OnWarn: func(err error) { r.warns = append(r.warns, err.Error()) }})
	res, err := c.writeFrom(ctx, cancel, body, q, qu.keep, w)
	w.Flush()
	r.out, r.rows, r.skipped, r.err = b.String(), res.Rows, res.Skipped, err
	return r
}

func viaCalls(ctx context.Context, c *Client, body io.ReadCloser, cancel context.CancelFunc, qu query, k outKind) run {
	var r run
	var b bytes.Buffer
	w := newEncodedWriter(&b, k)
	q := qu.q
	ctx = cdr.WithObserver(ctx, cdr.Observer{OnWarn: func(err error) { r.warns = append(r.warns, err.Error()) }})
	res, err := c.callsFrom(ctx, cancel, body, q, func(rec cdr.Record) error {
		if qu.keep == nil || qu.keep(&rec) {
			w.Write(&rec)
		}
		return nil
	})
	w.Flush()
	r.out, r.rows, r.skipped, r.err = b.String(), res.Rows, res.Skipped, err
	return r
}

func sameRun(t *testing.T, what string, got, want run) {
	t.Helper()
	if got.out != want.out {
		g, w := strings.Split(got.out, "\n"), strings.Split(want.out, "\n")
		for i := range min(len(g), len(w)) {
			if g[i] != w[i] {
				t.Fatalf("%s: line %d differs:\n got %q\nwant %q", what, i+1, g[i], w[i])
			}
		}
		t.Fatalf("%s: %d lines, want %d", what, len(g), len(w))
	}
	if fmt.Sprint(got.warns) != fmt.Sprint(want.warns) || got.rows != want.rows || got.skipped != want.skipped ||
		fmt.Sprint(got.err) != fmt.Sprint(want.err) {
		t.Fatalf("%s: rows %d skipped %d err %v warnings %q\nwant rows %d skipped %d err %v warnings %q", what,
			got.rows, got.skipped, got.err, got.warns, want.rows, want.skipped, want.err, want.warns)
	}
}

// hostileText is what a caller, a misconfigured PBX or an attacker can put in a field.
var hostileText = []string{
	"", "=HYPERLINK(\"http://evil.invalid\",\"x\")", "@SUM(A1)", "+cmd|' /C calc'!A0", "-2+3", "+27 82 123 4567",
	"-5", "\t=1", " =1", "\x1b]0;PWNED\x07", "\x1b[31mred", "a\x00b", "\x00", "\"quoted\"", "\"Smith, John\" <2001>",
	"Smith, John", "Zoë Adams", "\u202eevil", "line\u2028sep", "\xff\xfe", "back\\slash", "\\.", "caf\u00e9",
	"\u00a0nbsp", "x\x7fy", "<html>&amp;", "\"\"", "\"a,\"\"b\"\"\"",
}

// hostileIndex is an index of n lines: good lines with hostile text in every text field, lines split over
// indented lines as in the spec, CRLF ends, malformed lines of every kind, times around London's clock changes,
// unique IDs that agree with UTC+1 and UTC+0 as a London PBX's would.
func hostileIndex(rng *rand.Rand, n int) []byte {
	var b bytes.Buffer
	if rng.IntN(4) == 0 {
		b.WriteString("\xef\xbb\xbf")
	}
	pick := func() string { return hostileText[rng.IntN(len(hostileText))] }
	types := []string{"CALLTYPE_INBOUND", "CALLTYPE_OUTBOUND", "CALLTYPE_INTERNAL", "", "CALLTYPE_CONFERENCE", "=X"}
	disps := []string{"CALL_ANSWERED", "CALL_NOANSWER", "BUSY", "NO ANSWER", "", "@x"}
	starts := []time.Time{time.Date(2026, 3, 29, 0, 0, 0, 0, time.UTC), time.Date(2026, 10, 24, 23, 0, 0, 0, time.UTC)}
	t := starts[rng.IntN(2)]
	for i := range n {
		t = t.Add(time.Duration(rng.IntN(240)) * time.Second)
		end := "\n"
		if rng.IntN(5) == 0 {
			end = "\r\n"
		}
		switch rng.IntN(12) {
		case 0:
			bad := []string{"not,an,index,line", "uniqueid,calldate,type,ext,dst,src,disp,dur,bill,size,file", "",
				"1.1,2013/02/30/09:33:00,CALLTYPE_INBOUND,8266,,,CALL_ANSWERED,1,1,1,f", "   ",
				"1.1,2013/03/01/09:33:00,CALLTYPE_INBOUND,8266,,,CALL_ANSWERED,ten,1,1,f", ",,,,,,,,,,",
				"\"\n\"\"\"", strings.Repeat("=", 300)}
			b.WriteString(bad[rng.IntN(len(bad))] + end)
			continue
		}
		// A London PBX's IDs: the wall clock read as UTC, less the offset it had.
		off := int64(0)
		if t.After(time.Date(2026, 3, 29, 1, 0, 0, 0, time.UTC)) && t.Before(time.Date(2026, 10, 25, 1, 0, 0, 0, time.UTC)) {
			off = 3600
		}
		r := cdr.Record{
			UniqueID: fmt.Sprintf("%d.%d", t.Unix()-off, i), Start: t, RawCallType: types[rng.IntN(len(types))],
			Extension: fmt.Sprint(2000 + rng.IntN(3)), DialledNumber: fmt.Sprint(2000 + rng.IntN(3)),
			CallerID: pick(), RawDisposition: disps[rng.IntN(len(disps))], DurationS: rng.IntN(900) - 1,
			BillableS: rng.IntN(900), RecordingSize: int64(rng.IntN(100000)), Recording: pick(),
		}
		ext := rng.IntN(2) == 0
		if ext {
			r.FriendlyName, r.AccountCode, r.Channel, r.DestChannel = pick(), pick(), pick(), pick()
		}
		line := string(AppendLine(nil, &r, ext))
		if rng.IntN(10) == 0 { // split over lines, as the spec prints its example
			parts := strings.SplitAfterN(line, ",", 8)
			line = strings.Join(parts[:len(parts)/2], "") + "  \n    " + strings.Join(parts[len(parts)/2:], "")
		}
		b.WriteString(line + end)
	}
	return b.Bytes()
}

// serveIndex serves index as every answer, in pieces of random size so the client's reads end anywhere.
func serveIndex(t testing.TB, index []byte, seed uint64) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		rng := rand.New(rand.NewPCG(seed, 1))
		for rest := index; len(rest) > 0; {
			n := min(len(rest), 1+rng.IntN(100_000))
			w.Write(rest[:n])
			w.(http.Flusher).Flush()
			rest = rest[n:]
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func clientFor(t testing.TB, url string, zone *time.Location) *Client {
	ep, err := transport.ParseEndpoint(url)
	if err != nil {
		t.Fatal(err)
	}
	ep.User, ep.Password = "admin", "pw"
	c, err := New(Config{Endpoint: ep, Zone: zone, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// WriteCalls gives, byte for byte, what Calls through the writers before issue 13 gave, with the same warnings
// and counts: for hostile and malformed indexes, every output (csv neutralised and raw, for a terminal or not,
// json), with and without the time range, the extension and a local filter, in a fixed zone, a zone with daylight
// saving and an inferred one, over HTTP in pieces of any size.
func TestWriteCallsMatchesCalls(t *testing.T) {
	zones := []*time.Location{nil, london(t), time.FixedZone("UTC+02:00", 7200)}
	for seed := range uint64(3) {
		rng := rand.New(rand.NewPCG(seed, 3))
		// The large index (many chunks, all workers busy) with a few of the combinations.
		big := seed == 1
		index := hostileIndex(rng, []int{2500, 25_000, 300}[seed])
		srv := serveIndex(t, index, seed)
		for zi, zone := range zones {
			for qi, qu := range queries {
				for ki, k := range outKinds {
					if big && (qi > 1 || (ki != 0 && ki != len(outKinds)-1)) {
						continue
					}
					// -short (the race run of .ci/run) takes every other combination of the small indexes: the
					// concurrency is the big index's, and the plain run takes them all.
					if testing.Short() && !big && (zi+qi+ki)%2 == 1 {
						continue
					}
					name := fmt.Sprintf("seed %d, zone %v, %s, %s", seed, zone, qu.name, k.name)
					fast, ref := clientFor(t, srv.URL, zone), clientFor(t, srv.URL, zone)
					ctx := context.Background()
					got := func() run {
						var res run
						var b bytes.Buffer
						w := newEncodedWriter(&b, k)
						q := qu.q
						octx := cdr.WithObserver(ctx, cdr.Observer{OnWarn: func(err error) { res.warns = append(res.warns, err.Error()) }})
						r, err := fast.WriteCalls(octx, q, qu.keep, w)
						w.Flush()
						res.out, res.rows, res.skipped, res.err = b.String(), r.Rows, r.Skipped, err
						return res
					}()
					want := func() run {
						var res run
						var b bytes.Buffer
						w := newEncodedWriter(&b, k)
						q := qu.q
						octx := cdr.WithObserver(ctx, cdr.Observer{OnWarn: func(err error) { res.warns = append(res.warns, err.Error()) }})
						r, err := ref.Calls(octx, q, func(rec cdr.Record) error {
							if qu.keep == nil || qu.keep(&rec) {
								w.Write(&rec)
							}
							return nil
						})
						w.Flush()
						res.out, res.rows, res.skipped, res.err = b.String(), r.Rows, r.Skipped, err
						return res
					}()
					if want.rows == 0 && qu.name == "all" {
						t.Fatalf("%s: no rows at all", name)
					}
					sameRun(t, name, got, want)
					if zone == nil && fast.Zone().String() != ref.Zone().String() {
						t.Fatalf("%s: zone inferred as %s, Calls inferred %s", name, fast.Zone(), ref.Zone())
					}
				}
			}
		}
	}
}

// FuzzWriteCallsMatchesCalls: any bytes as an index give the same output, warnings and counts through WriteCalls
// as through Calls and the writers before issue 13.
func FuzzWriteCallsMatchesCalls(f *testing.F) {
	for seed := range uint64(4) {
		f.Add(hostileIndex(rand.New(rand.NewPCG(seed, 5)), 40), uint8(seed))
	}
	for _, s := range parseSeeds {
		f.Add([]byte(s), uint8(7))
	}
	f.Fuzz(func(t *testing.T, index []byte, sel uint8) {
		k := outKinds[int(sel)%len(outKinds)]
		qu := queries[int(sel/8)%len(queries)]
		zone := []*time.Location{nil, time.FixedZone("UTC+02:00", 7200)}[int(sel/64)%2]
		ctx := context.Background()
		// Only the zone of a client is used on an index already open.
		fast, ref := &Client{zone: cdr.NewZone(zone)}, &Client{zone: cdr.NewZone(zone)}
		nop := func() {}
		got := viaWriteCalls(ctx, fast, io.NopCloser(iotest.HalfReader(bytes.NewReader(index))), nop, qu, k)
		want := viaCalls(ctx, ref, io.NopCloser(bytes.NewReader(index)), nop, qu, k)
		sameRun(t, fmt.Sprintf("%s, %s, zone %v", qu.name, k.name, zone), got, want)
	})
}

// endlessIndex serves good index lines until the client hangs up.
func endlessIndex(t testing.TB) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rng := rand.New(rand.NewPCG(1, 1))
		for r.Context().Err() == nil {
			if _, err := w.Write(hostileIndex(rng, 2000)); err != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// failingWriter fails once it has taken n bytes, as a full disk or a closed pipe does, and notes when it first
// failed.
type failingWriter struct {
	n        int
	err      error
	failedAt time.Time
}

func (f *failingWriter) Write(p []byte) (int, error) {
	if f.n -= len(p); f.n < 0 {
		if f.failedAt.IsZero() {
			f.failedAt = time.Now()
		}
		return 0, f.err
	}
	return len(p), nil
}

// WriteCalls stops within a second of a cancel (Ctrl-C), of its output failing, and of the PBX hanging up, and
// leaves no goroutine behind: the rows before a cut-off have been written, and the error says what happened.
func TestWriteCallsStops(t *testing.T) {
	srv := endlessIndex(t)
	c := clientFor(t, srv.URL, time.UTC)

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	began := time.Now()
	_, err := c.WriteCalls(ctx, cdr.Query{}, nil, cdr.NewCSVWriter(io.Discard))
	if !errors.Is(err, context.Canceled) || time.Since(began) > 1300*time.Millisecond {
		t.Errorf("cancelled after 300 ms: error %v after %s", err, time.Since(began))
	}

	// Measured from the failure: reaching 5 MB of output takes as long as the machine needs.
	full := errors.New("no space left on device")
	fw := &failingWriter{n: 5 << 20, err: full}
	res, err := c.WriteCalls(context.Background(), cdr.Query{}, nil, cdr.NewCSVWriter(fw))
	if !errors.Is(err, full) || res.Rows == 0 || fw.failedAt.IsZero() || time.Since(fw.failedAt) > time.Second {
		t.Errorf("output failing: error %v after %d rows, %s after the failure", err, res.Rows, time.Since(fw.failedAt))
	}

	index := hostileIndex(rand.New(rand.NewPCG(4, 4)), 20_000)
	cut := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(len(index)))
		w.Write(index[:len(index)/2])
		panic(http.ErrAbortHandler) // the connection drops mid-line
	}))
	defer cut.Close()
	var got, want bytes.Buffer
	gw := cdr.NewCSVWriter(&got)
	res, err = clientFor(t, cut.URL, time.UTC).WriteCalls(context.Background(), cdr.Query{}, nil, gw)
	gw.Flush()
	if err == nil || !strings.Contains(err.Error(), "cut off") || res.Rows == 0 {
		t.Errorf("cut off: error %v after %d rows", err, res.Rows)
	}
	ref := cdr.NewCSVWriter(&want)
	wantRes, wantErr := clientFor(t, cut.URL, time.UTC).Calls(context.Background(), cdr.Query{}, func(r cdr.Record) error {
		return ref.Write(&r)
	})
	ref.Flush()
	if got.String() != want.String() || res.Rows != wantRes.Rows || fmt.Sprint(err) != fmt.Sprint(wantErr) {
		t.Errorf("cut off: %d rows, %v; Calls gave %d rows, %v", res.Rows, err, wantRes.Rows, wantErr)
	}

	// None of WriteCalls's goroutines is left (the HTTP connections' own may idle on).
	deadline := time.Now().Add(2 * time.Second)
	for {
		buf := make([]byte, 1<<20)
		stacks := string(buf[:runtime.Stack(buf, true)])
		if !strings.Contains(stacks, "comx.(*stream)") && !strings.Contains(stacks, "comx.startReadAhead") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("goroutines left behind:\n%s", stacks)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A page goes through Calls, which counts the rows before it: the same rows and page count.
func TestWriteCallsPage(t *testing.T) {
	index := hostileIndex(rand.New(rand.NewPCG(6, 6)), 3000)
	srv := serveIndex(t, index, 6)
	q := cdr.Query{Page: 3, Limit: 50, Extension: "2001"}
	var got, want bytes.Buffer
	w := cdr.NewJSONWriter(&got)
	res, err := clientFor(t, srv.URL, time.UTC).WriteCalls(context.Background(), q, nil, w)
	w.Flush()
	ref := cdr.NewJSONWriter(&want)
	wantRes, wantErr := clientFor(t, srv.URL, time.UTC).Calls(context.Background(), q, func(r cdr.Record) error {
		return ref.Write(&r)
	})
	ref.Flush()
	if err != nil || wantErr != nil || got.String() != want.String() || res != wantRes || res.Rows != 50 || res.TotalPages < 3 {
		t.Errorf("page: %+v %v; Calls gave %+v %v", res, err, wantRes, wantErr)
	}
}

// WriteCalls of a 1,000,000-line index stays under 100 MB resident (issue 13), whatever the speed of the output:
// between the reader and the writer only a few chunks wait.
func TestWriteCallsMemory(t *testing.T) {
	if peakrss.Child(t) {
		const lines = 1_000_000
		batch := hostileIndex(rand.New(rand.NewPCG(2, 2)), 5000)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			for sent := 0; sent < lines; sent += 5000 {
				if _, err := w.Write(batch); err != nil {
					return
				}
			}
		}))
		defer srv.Close()
		slow := writerFunc(func(p []byte) (int, error) { time.Sleep(time.Duration(len(p)) * time.Nanosecond); return len(p), nil })
		for _, w := range []cdr.EncodedWriter{cdr.NewJSONWriter(io.Discard), cdr.NewCSVWriter(slow)} {
			res, err := clientFor(t, srv.URL, time.UTC).WriteCalls(context.Background(), cdr.Query{}, nil, w)
			if err != nil || res.Rows+res.Skipped < lines*8/10 {
				t.Fatalf("%d rows, %d skipped, error %v", res.Rows, res.Skipped, err)
			}
		}
		return
	}
	rss := peakrss.Run(t, 1<<30)
	t.Logf("peak RSS %d MB", rss>>20)
	if rss > 100<<20 {
		t.Errorf("peak RSS %d MB, want under 100 MB", rss>>20)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
