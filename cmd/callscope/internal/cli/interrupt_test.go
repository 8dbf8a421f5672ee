package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// TestInterruptEndsDifuseRange: Ctrl-C (SIGINT) during a range query against a Difuse PBX whose paging never
// ends (no total_pages, a new page for every number, each answer slow) ends the command within a second,
// saying "interrupted" rather than "context canceled", with the exit code a shell gives a program SIGINT
// killed (130), not a failure's.
func TestInterruptEndsDifuseRange(t *testing.T) {
	sum := sha256.Sum256([]byte("s3cret"))
	key := hex.EncodeToString(sum[:])
	asked := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "4001" || p != key {
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
			return
		}
		select {
		case asked <- struct{}{}:
		default:
		}
		select {
		case <-time.After(200 * time.Millisecond):
		case <-r.Context().Done():
			return
		}
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		start := time.Date(2024, 2, 1, 8, 0, 0, 0, time.UTC).Add(time.Duration(page) * time.Minute).Format(time.DateTime)
		fmt.Fprintf(w, `{"data":[{"db_id":%d,"call_id":"1706774400.%d","source":"4001","destination":"4002","start_time":%q,"end_time":%q}],"page":"%d"}`,
			page, page, start, start, page)
	}))
	defer srv.Close()
	// Our own registration keeps a SIGINT that arrives outside Main from ending the test binary.
	guard := make(chan os.Signal, 1)
	signal.Notify(guard, os.Interrupt)
	defer signal.Stop(guard)
	sent := make(chan time.Time, 1)
	go func() {
		<-asked
		time.Sleep(300 * time.Millisecond)
		sent <- time.Now()
		syscall.Kill(os.Getpid(), syscall.SIGINT)
	}()
	_, errs, code := run(t, map[string]string{"CALLSCOPE_PASSWORD": "s3cret"}, "calls", "--kind", "difuse",
		"--url", srv.URL, "--user", "4001", "--tz", "UTC", "--from", "2024-02-03", "--to", "2024-02-04")
	ended := time.Now()
	var at time.Time
	select {
	case at = <-sent:
	case <-time.After(10 * time.Second):
		t.Fatalf("the command ended (exit %d, %q) before it could be interrupted", code, errs)
	}
	if errs != "callscope: interrupted\n" || code != 130 {
		t.Errorf("exit %d, stderr %q; want exit 130 (128 + SIGINT) and \"callscope: interrupted\"", code, errs)
	}
	if d := ended.Sub(at); d > time.Second {
		t.Errorf("the command ended %s after the interrupt, want within a second", d)
	}
}
