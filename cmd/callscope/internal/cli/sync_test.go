package cli

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/callscope/callscope/client/archive"
	"github.com/callscope/callscope/client/pbxsim"
)

// runSyncCLI runs the command line in ctx and returns stderr.
func runSyncCLI(t *testing.T, ctx context.Context, args ...string) (string, error) {
	t.Helper()
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	var out, errb bytes.Buffer
	a := &app{stdout: &out, stderr: &errb}
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&errb)
	err := root.ExecuteContext(ctx)
	return errb.String(), err
}

func TestSyncCommand(t *testing.T) {
	zone := pbxsim.DefaultLocation()
	end := time.Date(2026, 11, 20, 0, 0, 0, 0, zone).Add(-time.Second)
	srv, err := pbxsim.Start(pbxsim.Options{Days: 3, End: end, CallsPerDay: 80, Zone: zone})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	t.Setenv("CALLSCOPE_PASSWORD", pbxsim.DefaultComxPassword)
	dir := t.TempDir()
	args := []string{"sync", "--url", srv.URL(), "--user", "admin", "--dir", dir, "--since", "2026-11-17", "--tz", pbxsim.DefaultZone}
	stderr, err := runSyncCLI(t, context.Background(), args...)
	if err != nil {
		t.Fatalf("%v: %s", err, stderr)
	}
	if !strings.Contains(stderr, "synced calls 2026-11-17 00:00 to 2026-11-18 00:00") || !strings.Contains(stderr, "complete up to") {
		t.Fatalf("stderr: %s", stderr)
	}
	if strings.Contains(stderr, pbxsim.DefaultComxPassword) {
		t.Fatal("the password reached the output")
	}
	a, err := archive.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := a.Count(context.Background())
	a.Close()
	if n != srv.Total() {
		t.Fatalf("archived %d calls of %d", n, srv.Total())
	}
	// The archive is a source like the PBX: the same query gives the same CSV.
	q := []string{"calls", "--from", "2026-11-17", "--to", "2026-11-19", "--format", "csv", "--extended", "--tz", pbxsim.DefaultZone}
	fromPBX, fromArchive := pbxAndArchive(t, q, srv.URL(), dir)
	if fromArchive != fromPBX || strings.Count(fromPBX, "\n") < 10 {
		t.Fatalf("archive CSV differs from the PBX's:\n%s\n---\n%s", fromArchive, fromPBX)
	}
	// --every keeps going until stopped, and stopping is not an error.
	ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
	defer cancel()
	stderr, err = runSyncCLI(t, ctx, append(args, "--every", "200ms")...)
	if err != nil || !strings.Contains(stderr, "sync stopped") || strings.Count(stderr, "synced ") < 2 {
		t.Fatalf("--every: %v\n%s", err, stderr)
	}
	if _, err := runSyncCLI(t, context.Background(), "sync", "--url", srv.URL()); err == nil || !strings.Contains(err.Error(), "--dir") {
		t.Fatalf("without --dir: %v", err)
	}
}

func TestListenCommand(t *testing.T) {
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	if _, err := runSyncCLI(t, context.Background(), "listen", "--dir", dir, "--addr", addr); err == nil ||
		!strings.Contains(err.Error(), "CALLSCOPE_LISTEN_API_KEY") {
		t.Fatalf("without a credential: %v", err)
	}
	t.Setenv("CALLSCOPE_LISTEN_API_KEY", "s3cret-key-0123456789")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan string, 1)
	go func() {
		stderr, err := runSyncCLI(t, ctx, "listen", "--dir", dir, "--addr", addr, "--tz", pbxsim.DefaultZone)
		if err != nil {
			stderr += err.Error()
		}
		done <- stderr
	}()
	body := `{"call_id":"1706950109.0","source":"4001","destination":"2011","disposition":"ANSWERED","start_time":"2024-02-03 08:48:29","end_time":"2024-02-03 08:48:36"}`
	var code int
	for i := 0; i < 100; i++ {
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/cdr", strings.NewReader(body))
		req.Header.Set("x-api-key", "s3cret-key-0123456789")
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			code = resp.StatusCode
			resp.Body.Close()
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	stderr := <-done
	if code != 200 || !strings.Contains(stderr, "1 entry received") || strings.Contains(stderr, "s3cret-key-0123456789") {
		t.Fatalf("HTTP %d\n%s", code, stderr)
	}
	a, err := archive.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if n, _ := a.Count(context.Background()); n != 1 {
		t.Fatalf("%d calls stored", n)
	}
}
