package comx

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/internal/peakrss"
	"github.com/callscope/callscope/client/transport"
)

// hostile is a Com.X that answers every request with body(w), counting what it sent.
type hostile struct {
	srv  *httptest.Server
	sent atomic.Int64
}

func newHostile(t testing.TB, body func(w http.ResponseWriter, r *http.Request)) *hostile {
	h := &hostile{}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cw := &countWriter{ResponseWriter: w}
		body(cw, r)
		h.sent.Add(cw.n)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

type countWriter struct {
	http.ResponseWriter
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.ResponseWriter.Write(p)
	c.n += int64(n)
	return n, err
}

func (h *hostile) client(t testing.TB) *Client {
	ep, err := transport.ParseEndpoint(h.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	ep.User, ep.Password = "admin", "pw"
	c, err := New(Config{Endpoint: ep, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// repeat writes s over and over, n bytes in all, or until the client hangs up.
func repeat(w io.Writer, s string, n int64) {
	chunk := []byte(strings.Repeat(s, max(1, (64<<10)/len(s))))
	for sent := int64(0); sent < n; {
		k, err := w.Write(chunk[:min(int64(len(chunk)), n-sent)])
		sent += int64(k)
		if err != nil {
			return
		}
	}
}

// underPeak runs body in a child process and checks its peak resident memory stays under 300 MB.
func underPeak(t *testing.T, body func(t *testing.T)) {
	if peakrss.Child(t) {
		body(t)
		return
	}
	rss := peakrss.Run(t, 1<<30)
	t.Logf("peak RSS %d MB", rss>>20)
	if rss > 300<<20 {
		t.Errorf("peak RSS %d MB, want under 300 MB", rss>>20)
	}
}

// TestUsersListBounded: a user list that never ends (an unterminated quote, or millions of users) is stopped
// with a one-line error, and memory stays small.
func TestUsersListBounded(t *testing.T) {
	underPeak(t, func(t *testing.T) {
		for _, tc := range []struct {
			name string
			body func(w io.Writer)
		}{
			{"an unterminated quote", func(w io.Writer) {
				io.WriteString(w, "2001,\"Smith, John,1234\n")
				repeat(w, "x", 3<<30)
			}},
			{"millions of users", func(w io.Writer) { repeat(w, "2001,a,1\n", 3<<30) }},
		} {
			h := newHostile(t, func(w http.ResponseWriter, _ *http.Request) { tc.body(w) })
			users, err := h.client(t).Users(context.Background())
			if !errors.Is(err, transport.ErrTooLarge) || !strings.Contains(err.Error(), "user list") ||
				strings.Contains(err.Error(), "\n") || strings.Contains(err.Error(), "1234") {
				t.Errorf("%s: error %v, want one line saying the user list is too large (and no PIN)", tc.name, err)
			}
			if len(users) > maxUsers {
				t.Errorf("%s: %d users kept", tc.name, len(users))
			}
			h.srv.Close()
			if n := h.sent.Load(); n > 256<<20 {
				t.Errorf("%s: the client read %d MB before it stopped", tc.name, n>>20)
			}
		}
	})
}

// TestRecordingBoundedByIndexSize: a recording far larger than its index line says (60,000 times) is stopped
// well past that size with a one-line error, whether the PBX says its length up front or not; one a little
// larger than the index says still arrives whole.
func TestRecordingBoundedByIndexSize(t *testing.T) {
	const indexSize = 1000
	for _, tc := range []struct {
		name   string
		length int64 // bytes sent
		header bool  // with Content-Length
		ok     bool
	}{
		{"60,000 times the index size", 60_000 * indexSize, false, false},
		{"60,000 times, Content-Length said", 60_000 * indexSize, true, false},
		{"a little more than the index says", indexSize + 200, true, true},
		{"as the index says", indexSize, false, true},
	} {
		h := newHostile(t, func(w http.ResponseWriter, r *http.Request) {
			if tc.header {
				w.Header().Set("Content-Length", strconv.FormatInt(tc.length, 10))
			}
			repeat(w, gsmBytes, tc.length)
		})
		c := h.client(t)
		rec := cdr.Record{UniqueID: "1362123180.67", Start: time.Date(2013, 3, 1, 9, 33, 0, 0, time.UTC),
			Recording: "g8266.gsm", RecordingSize: indexSize}
		var n int64
		body, err := c.Recording(context.Background(), cdr.ByRecord(rec))
		if err == nil {
			n, err = io.Copy(io.Discard, body)
			body.Close()
		}
		switch {
		case tc.ok && (err != nil || n < indexSize):
			t.Errorf("%s: %d bytes, error %v", tc.name, n, err)
		case !tc.ok && (!errors.Is(err, transport.ErrTooLarge) || !strings.Contains(err.Error(), rec.UniqueID) ||
			strings.Contains(err.Error(), "\n")):
			t.Errorf("%s: error %v, want one line saying the recording is larger than its index says", tc.name, err)
		case !tc.ok && n > recordingLimit(indexSize):
			t.Errorf("%s: %d bytes handed over, more than the limit of %d", tc.name, n, recordingLimit(indexSize))
		}
		h.srv.Close()
		if got := h.sent.Load(); !tc.ok && got > 64<<20 {
			t.Errorf("%s: the client read %d MB", tc.name, got>>20)
		}
	}
}

// bombZip is a zip of n entries of size bytes of zeros each, deflated (so each compresses about 1,000 times),
// with an index naming them.
func bombZip(t testing.TB, n, size int) []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	var index strings.Builder
	zeros := make([]byte, size)
	for i := range n {
		name := fmt.Sprintf("bomb%d.wav", i)
		fmt.Fprintf(&index, "1362123180.%d,2013/03/01/09:33:00,CALLTYPE_INBOUND,8266,,,CALL_ANSWERED,221,216,%d,%s\n", i, size, name)
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(zeros)
	}
	w, _ := zw.CreateHeader(&zip.FileHeader{Name: IndexName, Method: zip.Deflate})
	io.WriteString(w, index.String())
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestZipCompressionRatio: recorded audio does not compress, so a zip that expands hundreds of times (one big
// entry, or many small ones) is refused when it is opened, before anything is unpacked.
func TestZipCompressionRatio(t *testing.T) {
	if testing.Short() {
		t.Skip("deflates 100 MB on one goroutine")
	}
	for _, tc := range []struct {
		name       string
		n, size    int
		wantRefuse bool
	}{
		{"one entry of 24 MB of zeros", 1, 24 << 20, true},
		{"80 entries of 1 MB of zeros", 80, 1 << 20, true},
		{"a few small silent recordings", 3, 64 << 10, false},
	} {
		data := bombZip(t, tc.n, tc.size)
		_, err := openBytes(data, Limits{})
		t.Logf("%s: %d bytes unpack to %d (%.0f×)", tc.name, len(data), tc.n*tc.size, float64(tc.n*tc.size)/float64(len(data)))
		refused := errors.Is(err, ErrZipTooLarge) && strings.Contains(err.Error(), "compress") && !strings.Contains(err.Error(), "\n")
		if refused != tc.wantRefuse {
			t.Errorf("%s: error %v, refused %v, want %v", tc.name, err, refused, tc.wantRefuse)
		}
	}
	// A real archive (index deflated, audio stored) opens as before.
	if _, err := openBytes(goodZip(t), Limits{}); err != nil {
		t.Errorf("a good zip: %v", err)
	}
}

// TestZipEntryBoundedByIndexSize: a recording in the zip far larger than the index says is refused when it is
// opened; one the size the index says opens.
func TestZipEntryBoundedByIndexSize(t *testing.T) {
	audio := make([]byte, 4<<20)
	rand.Read(audio) // incompressible, as audio is
	index := "1362123180.67,2013/03/01/09:33:00,CALLTYPE_INBOUND,8266,,,CALL_ANSWERED,221,216,1000,big.gsm\n" +
		"1362123180.68,2013/03/01/09:34:00,CALLTYPE_INBOUND,8266,,,CALL_ANSWERED,221,216,66,ok.gsm\n"
	data := makeZip(t, entry{IndexName, index}, entry{"big.gsm", string(audio)}, entry{"ok.gsm", gsmBytes[:66]})
	z, err := openBytes(data, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := z.Index(func(cdr.Record) error { return nil }, nil); err != nil {
		t.Fatal(err)
	}
	rc, _, err := z.Recording("big.gsm")
	if err == nil {
		n, _ := io.Copy(io.Discard, rc)
		rc.Close()
		t.Errorf("big.gsm: opened and read %d bytes; the index says 1000", n)
	} else if !errors.Is(err, ErrZipTooLarge) || !strings.Contains(err.Error(), "index") {
		t.Errorf("big.gsm: error %v, want one saying it is larger than the index says", err)
	}
	rc, _, err = z.Recording("ok.gsm")
	if err != nil {
		t.Fatal(err)
	}
	if b, err := io.ReadAll(rc); err != nil || len(b) != 66 {
		t.Errorf("ok.gsm: %d bytes, %v", len(b), err)
	}
	rc.Close()
}

// FuzzUsers feeds the user list parser anything a PBX might send: it must not panic, must keep every user it
// returns non-empty, and must never put a PIN in an error.
func FuzzUsers(f *testing.F) {
	for _, s := range []string{
		"2001,Smith John,1234\n2002,\"Jones, Mary\",\n",
		"\xef\xbb\xbfextension,name,pin\r\n2001,A,1\r\n",
		"2001,\"unterminated,9876\n2002,b,1\n",
		"2001\n,\n,,,,\n\"\"\n",
		"2001,a,1,extra,fields\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		users, err := parseUsers(strings.NewReader(body))
		for _, u := range users {
			if u.Extension == "" {
				t.Fatalf("a user without an extension from %q", body)
			}
			if err != nil && u.PIN.IsSet() && len(u.PIN.Reveal()) > 3 && strings.Contains(err.Error(), u.PIN.Reveal()) {
				t.Fatalf("PIN in %q", err)
			}
		}
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Fatalf("error on two lines: %q", err)
		}
	})
}
