package listen

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callscope/callscope/client/archive"
	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/difuse"
	"github.com/callscope/callscope/client/pbxsim"
	"github.com/callscope/callscope/client/transport"
)

var zone = pbxsim.DefaultLocation()

var auth = Auth{APIKey: "key-123-abcdefghij", Bearer: "tok-456-abcdefghij", User: "pbx", Password: "pw-789-abcdefghijk"}

func newReceiver(t *testing.T, o Options) (*Receiver, *archive.Archive, *httptest.Server) {
	t.Helper()
	a, err := archive.Init(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	if !o.Auth.Configured() {
		o.Auth = auth
	}
	r, err := New(a, o)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return r, a, srv
}

const sample = `{"db_id":1,"call_id":"1706950109.0","caller_id":"\"4001\" <4001>","source":"4001",
"destination_context":"sip_internal","destination":"2011","initial_destination":"2011","computed_destination":"",
"disposition":"ANSWERED","timestamp":"1706950109","date":"2024-02-03 08:48:29","start_time":"2024-02-03 08:48:29",
"answer_time":"2024-02-03 08:48:29","end_time":"2024-02-03 08:48:36","recording_url":""}`

func push(t *testing.T, base, method, body string, hdr map[string]string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, base, strings.NewReader(body))
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

var apiKey = map[string]string{"x-api-key": "key-123-abcdefghij"}

func TestAuth(t *testing.T) {
	_, a, srv := newReceiver(t, Options{})
	basic := func(u, p string) map[string]string {
		r, _ := http.NewRequest("GET", "/", nil)
		r.SetBasicAuth(u, p)
		return map[string]string{"Authorization": r.Header.Get("Authorization")}
	}
	for _, tc := range []struct {
		name string
		hdr  map[string]string
		want int
	}{
		{"none", nil, 401},
		{"wrong key", map[string]string{"x-api-key": "key-123-abcdefghi"}, 401},
		{"key as bearer", map[string]string{"Authorization": "Bearer key-123-abcdefghij"}, 401},
		{"wrong bearer", map[string]string{"Authorization": "Bearer tok-456-abcdefghijk"}, 401},
		{"wrong password", basic("pbx", "pw-789-abcdefghij"), 401},
		{"wrong user", basic("pbx2", "pw-789-abcdefghijk"), 401},
		{"api key", apiKey, 200},
		{"bearer", map[string]string{"Authorization": "bearer tok-456-abcdefghij"}, 200},
		{"basic", basic("pbx", "pw-789-abcdefghijk"), 200},
	} {
		code, body := push(t, srv.URL, http.MethodPost, sample, tc.hdr)
		if code != tc.want {
			t.Errorf("%s: HTTP %d %s, want %d", tc.name, code, body, tc.want)
		}
		for _, secret := range []string{"key-123-abcdefghij", "tok-456-abcdefghij", "pw-789-abcdefghijk"} {
			if strings.Contains(body, secret) {
				t.Errorf("%s: the answer holds a secret: %s", tc.name, body)
			}
		}
	}
	if n, _ := a.Count(context.Background()); n != 1 {
		t.Fatalf("%d calls stored, want 1 (the same call pushed three times)", n)
	}
	if _, err := New(a, Options{}); err == nil {
		t.Fatal("a receiver without credentials was made")
	}
}

func TestBadRequests(t *testing.T) {
	_, a, srv := newReceiver(t, Options{MaxBody: 64 << 10})
	for _, tc := range []struct {
		name, method, body string
		want               int
		says               string
	}{
		{"get", http.MethodGet, "", 405, "POST or PUT"},
		{"empty", http.MethodPost, "", 400, "empty body"},
		{"not json", http.MethodPost, "call_id=1", 400, "not a JSON object or array"},
		{"broken json", http.MethodPost, `{"call_id": "1",`, 400, "not valid JSON"},
		{"broken array", http.MethodPost, `[` + sample + `,`, 400, "not valid JSON"},
		{"array of numbers", http.MethodPost, `[1, 2]`, 400, "entry 1: not a JSON object"},
		{"string", http.MethodPost, `"hello"`, 400, "not a JSON object or array"},
		{"no call id", http.MethodPost, `{"start_time": "2024-02-03 08:48:29"}`, 400, "no call_id"},
		{"no start", http.MethodPost, `{"call_id": "1.2"}`, 400, "no start time"},
		{"bad time", http.MethodPost, `{"call_id": "1.2", "start_time": "yesterday"}`, 400, `cannot read time "yesterday"`},
		{"unknown field", http.MethodPost, `{"call_id": "1.2", "start_time": "2024-02-03 08:48:29", "colour": "red"}`, 400, `unknown field "colour"`},
		{"object value", http.MethodPost, `{"call_id": {"a": 1}, "start_time": "2024-02-03 08:48:29"}`, 400, `field "call_id"`},
		{"second sample bad", http.MethodPut, `[` + sample + `, {"call_id": "x"}]`, 400, "entry 2: no start time"},
		{"two values", http.MethodPost, sample + sample, 400, "more than one JSON value"},
		{"huge", http.MethodPost, `[` + strings.Repeat(sample+",", 200) + sample + `]`, 413, "larger than"},
	} {
		code, body := push(t, srv.URL, tc.method, tc.body, apiKey)
		var rep struct{ Error string }
		if err := json.Unmarshal([]byte(body), &rep); err != nil {
			t.Errorf("%s: the answer is not JSON: %s", tc.name, body)
		}
		if code != tc.want || !strings.Contains(rep.Error, tc.says) {
			t.Errorf("%s: HTTP %d %s, want %d saying %q", tc.name, code, body, tc.want, tc.says)
		}
	}
	if n, _ := a.Count(context.Background()); n != 0 {
		t.Fatalf("%d calls stored from bad pushes", n)
	}
}

func TestConcurrentPushes(t *testing.T) {
	r, a, srv := newReceiver(t, Options{Zone: zone})
	const pushers, perPush = 12, 40
	var wg sync.WaitGroup
	for p := range pushers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var rows []string
			for i := range perPush {
				// Pushers overlap by half, as a PBX re-sending entries would.
				id := fmt.Sprintf("17069%05d.%d", (p/2)*perPush+i, i)
				rows = append(rows, fmt.Sprintf(`{"call_id":%q,"start_time":"2024-02-03 08:%02d:%02d","source":"4001","destination":"2011","disposition":"ANSWERED"}`,
					id, i%60, p%60))
			}
			code, body := push(t, srv.URL, http.MethodPost, "["+strings.Join(rows, ",")+"]", apiKey)
			if code != 200 {
				t.Errorf("HTTP %d %s", code, body)
			}
		}()
	}
	wg.Wait()
	n, _ := a.Count(context.Background())
	if n != pushers/2*perPush || r.Received() != pushers*perPush {
		t.Fatalf("%d calls stored, %d received; want %d and %d", n, r.Received(), pushers/2*perPush, pushers*perPush)
	}
}

// TestShutdownKeepsAcceptedEntries: a push under way when the signal comes is stored and answered; nothing
// answered 2xx is missing afterwards.
func TestShutdownKeepsAcceptedEntries(t *testing.T) {
	a, err := archive.Init(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	r, _ := New(a, Options{Auth: auth, Zone: zone})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- Serve(ctx, ln, r, 10*time.Second) }()

	// A slow push: its body arrives in two parts, with the shutdown in between.
	pr, pw := io.Pipe()
	req, _ := http.NewRequest(http.MethodPost, "http://"+ln.Addr().String(), pr)
	req.Header.Set("x-api-key", "key-123-abcdefghij")
	answered := make(chan int, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			answered <- 0
			return
		}
		resp.Body.Close()
		answered <- resp.StatusCode
	}()
	io.WriteString(pw, sample[:100])
	time.Sleep(100 * time.Millisecond)
	stop()
	time.Sleep(100 * time.Millisecond)
	io.WriteString(pw, sample[100:])
	pw.Close()
	if code := <-answered; code != 200 {
		t.Fatalf("the push under way at shutdown got %d", code)
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	if _, err := a.Call(context.Background(), cdr.ByID("1706950109.0")); err != nil {
		t.Fatalf("the acknowledged sample is not stored: %v", err)
	}
	// And no new connection is taken after it.
	if _, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		t.Fatal("still listening after shutdown")
	}
}

// TestPushFromPBXSim runs pbxsim's push job into the receiver and checks the stored calls equal what the
// Difuse client pulls for the same calls, field for field.
func TestPushFromPBXSim(t *testing.T) {
	_, a, recv := newReceiver(t, Options{Auth: Auth{Bearer: "tok-0123456789abcdef"}})
	end := time.Date(2026, 11, 20, 18, 0, 0, 0, zone)
	since := end.Add(-6 * time.Hour)
	srv, err := pbxsim.Start(pbxsim.Options{Days: 3, End: end, CallsPerDay: 400, Zone: zone, Push: pbxsim.PushOptions{
		URL: recv.URL, Every: 20 * time.Millisecond, Bearer: "tok-0123456789abcdef", Since: since,
		Now: func() time.Time { return end }}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()

	u, _ := url.Parse(srv.URL())
	dc, err := difuse.New(difuse.Config{Endpoint: transport.Endpoint{URL: u, User: pbxsim.DefaultDifuseExtension,
		Password: cdr.Secret(pbxsim.DefaultDifuseSecret)}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]cdr.Record{}
	if _, err := dc.Calls(context.Background(), cdr.Query{From: cdr.WallClock(since.Add(-12 * time.Hour))}, func(r cdr.Record) error {
		ended := r.Start.Add(time.Duration(r.DurationS) * time.Second)
		if ended.After(since) && !ended.After(end) {
			want[r.UniqueID] = r
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if n, _ := a.Count(context.Background()); n >= len(want) || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	got := map[string]cdr.Record{}
	a.Calls(context.Background(), cdr.Query{}, func(r cdr.Record) error { got[r.UniqueID] = r; return nil })
	if len(got) != len(want) || len(want) < 50 {
		t.Fatalf("stored %d calls, want %d", len(got), len(want))
	}
	for id, w := range want {
		g := got[id]
		_, og := g.Start.Zone()
		_, ow := w.Start.Zone()
		if !g.Start.Equal(w.Start) || og != ow {
			t.Fatalf("call %s: start %v, want %v", id, g.Start, w.Start)
		}
		g.Start, w.Start = time.Time{}, time.Time{}
		if !reflect.DeepEqual(g, w) {
			gj, _ := json.Marshal(g)
			wj, _ := json.Marshal(w)
			t.Fatalf("call %s differs:\n got %s\nwant %s", id, gj, wj)
		}
	}
}

// The log is one line per request, whatever the request: an unauthenticated client cannot write a line of its
// own into it (a path with a line feed) or reach the terminal it is printed on (escape sequences).
func TestLogLinesCannotBeForged(t *testing.T) {
	var mu sync.Mutex
	var lines []string
	_, _, srv := newReceiver(t, Options{Log: func(s string) {
		mu.Lock()
		defer mu.Unlock()
		lines = append(lines, s)
	}})
	forged := "/%0Acallscope:%20listen%20POST%20/%20from%2010.0.0.5:4242:%20200,%20stored%2099%20(1ms)%1B]0;PWNED%07%1B[31m"
	resp, err := http.Get(srv.URL + forged)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if code, _ := push(t, srv.URL+"/%E2%80%AEtxt.exe", "POST", `{"call_id":"1","date":"\u001b[2J"}`, apiKey); code != http.StatusBadRequest {
		t.Errorf("bad entry: %d", code)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(lines) != 2 {
		t.Fatalf("%d log lines: %q", len(lines), lines)
	}
	for _, l := range lines {
		for _, r := range l {
			if r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) || (r >= 0x202a && r <= 0x202e) {
				t.Errorf("log line holds %U: %q", r, l)
				break
			}
		}
	}
	if want := `listen GET "/\ncallscope: listen POST / from 10.0.0.5:4242: 200, stored 99 (1ms)\x1b]0;PWNED\a\x1b[31m" from `; !strings.HasPrefix(lines[0], want) {
		t.Errorf("log line\n%s\ndoes not start with\n%s", lines[0], want)
	}
	if want := `listen POST "/\u202etxt.exe" from `; !strings.HasPrefix(lines[1], want) || !strings.Contains(lines[1], `\x1b[2J`) {
		t.Errorf("log line\n%s\ndoes not start with\n%s", lines[1], want)
	}
}
