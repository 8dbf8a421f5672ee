package difuse

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/transport"
)

// fakePBX is a real HTTP server answering /pbx/cdr/data the way the spec shows it, from rows the test chooses,
// with Basic (extension:sha256 hex) and key= auth. It lets the search logic be tested on data shapes pbxsim
// does not make: very long calls, rows out of order, pages that overlap.
type fakePBX struct {
	ext, secret string
	mu          sync.Mutex
	rows        []map[string]any // insertion order
	requests    atomic.Int64     // every request, counted on the server side
	// hook, when set, may answer a request itself (a fault); it runs after counting and before auth.
	hook func(n int64, w http.ResponseWriter, r *http.Request) bool
	// shift, when set, moves the start of page p's window by shift(p) rows (its end stays): overlapping pages,
	// as when rows move between two requests.
	shift func(page int) int
	// Paging as some PBXs do it: no total_pages at all, a made-up one, pages past the end answered with the
	// last page (a PBX that clamps page) rather than empty.
	omitTotal bool
	total     any
	clamp     bool
	srv       *httptest.Server
}

const (
	fakeExt    = "4001"
	fakeSecret = "s3cret-Φ"
)

func newFake(t testing.TB, rows []map[string]any) *fakePBX {
	f := &fakePBX{ext: fakeExt, secret: fakeSecret, rows: rows}
	f.srv = httptest.NewServer(f)
	t.Cleanup(f.srv.Close)
	return f
}

func sha(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func (f *fakePBX) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := f.requests.Add(1)
	if f.hook != nil && f.hook(n, w, r) {
		return
	}
	q := r.URL.Query()
	user, pass, basic := r.BasicAuth()
	ok := basic && user == f.ext && pass == sha(f.secret)
	if !basic && q.Get("key") != "" {
		ok = q.Get("extension") == f.ext && q.Get("key") == sha(f.secret)
	}
	if !ok {
		w.Header().Set("WWW-Authenticate", `Basic realm="difuse"`)
		http.Error(w, "Unauthorized", http.StatusUnauthorized)
		return
	}
	if r.URL.Path != DataPath {
		http.NotFound(w, r)
		return
	}
	page, _ := strconv.Atoi(q.Get("page"))
	limit, _ := strconv.Atoi(q.Get("limit"))
	if page < 1 {
		page = 1
	}
	if limit < 1 {
		limit = 10
	}
	f.mu.Lock()
	rows := f.rows
	f.mu.Unlock()
	pages := (len(rows) + limit - 1) / limit
	if f.clamp && page > pages {
		page = pages
	}
	lo := (page - 1) * limit
	hi := min(lo+limit, len(rows))
	if f.shift != nil {
		lo += f.shift(page)
	}
	lo = max(0, min(lo, hi))
	out := map[string]any{
		"data":        rows[lo:hi],
		"page":        strconv.Itoa(page),
		"limit":       strconv.Itoa(limit),
		"total_pages": pages,
	}
	switch {
	case f.omitTotal:
		delete(out, "total_pages")
	case f.total != nil:
		out["total_pages"] = f.total
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(out)
}

func (f *fakePBX) client(t testing.TB, mod func(*Config)) *Client {
	t.Helper()
	ep, err := transport.ParseEndpoint(f.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	ep.User, ep.Password = f.ext, cdr.Secret(f.secret)
	cfg := Config{Endpoint: ep, Zone: time.UTC, Timeout: 5 * time.Second}
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// fakeCall is one generated call; rows are written in end order.
type fakeCall struct {
	id                 string
	start, answer, end time.Time // wall clock read as UTC
	disp               string
}

const wallLayout = "2006-01-02 15:04:05"

func (c fakeCall) row(db int) map[string]any {
	ans := ""
	if !c.answer.IsZero() {
		ans = c.answer.Format(wallLayout)
	}
	return map[string]any{
		"db_id": db, "call_id": c.id, "caller_id": `"Reception" <4001>`, "source": "4001",
		"destination_context": "sip_outbound", "destination": "0215551234", "initial_destination": "0215551234",
		"computed_destination": "", "disposition": c.disp, "timestamp": strconv.FormatInt(c.start.Unix(), 10),
		"date": c.start.Format(wallLayout), "start_time": c.start.Format(wallLayout), "answer_time": ans,
		"end_time": c.end.Format(wallLayout), "recording_url": "",
	}
}

// genCalls makes days × perDay calls in business hours starting at day0 (UTC wall clock), mostly a few minutes
// long, with every longEvery-th call (0: none) lasting longLen.
func genCalls(seed uint64, day0 time.Time, days, perDay, longEvery int, longLen time.Duration) []fakeCall {
	r := rand.New(rand.NewPCG(seed, 7))
	var calls []fakeCall
	seq := 0
	for d := range days {
		for range perDay {
			start := day0.AddDate(0, 0, d).Add(8*time.Hour + time.Duration(r.IntN(10*3600))*time.Second)
			dur := time.Duration(5+r.ExpFloat64()*180) * time.Second
			seq++
			if longEvery > 0 && seq%longEvery == 0 {
				dur = longLen
			}
			c := fakeCall{id: fmt.Sprintf("%d.%d", start.Unix(), seq), start: start, end: start.Add(dur), disp: "ANSWERED"}
			c.answer = start.Add(3 * time.Second)
			calls = append(calls, c)
		}
	}
	slices.SortStableFunc(calls, func(a, b fakeCall) int { return a.end.Compare(b.end) })
	return calls
}

func rowsOf(calls []fakeCall) []map[string]any {
	rows := make([]map[string]any, len(calls))
	for i, c := range calls {
		rows[i] = c.row(i + 1)
	}
	return rows
}

// wantIDs is the ground truth: IDs of calls starting in [from, to), sorted; a zero from or to is open.
func wantIDs(calls []fakeCall, from, to time.Time) []string {
	var ids []string
	for _, c := range calls {
		if (from.IsZero() || !c.start.Before(from)) && (to.IsZero() || c.start.Before(to)) {
			ids = append(ids, c.id)
		}
	}
	slices.Sort(ids)
	return ids
}

func gotIDs(t testing.TB, c *Client, q cdr.Query, obs ...cdr.Observer) ([]string, cdr.Result) {
	t.Helper()
	var ids []string
	ctx := t.Context()
	if len(obs) > 0 {
		ctx = cdr.WithObserver(ctx, obs[0])
	}
	res, err := c.Calls(ctx, q, func(r cdr.Record) error {
		ids = append(ids, r.UniqueID)
		return nil
	})
	if err != nil {
		t.Fatalf("Calls: %v", err)
	}
	slices.Sort(ids)
	return ids, res
}
