package listen

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callscope/callscope/client/archive"
	"github.com/callscope/callscope/client/pbxsim"
)

// TestShortSecretsRefused: a key, token or password that could be guessed is refused when the receiver is
// made, saying which and how long it must be, without showing it.
func TestShortSecretsRefused(t *testing.T) {
	a, err := archive.Init(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	const long = "0123456789abcdef"
	for _, tc := range []struct {
		name string
		auth Auth
		says string
	}{
		{"one-character key", Auth{APIKey: "k"}, "API key"},
		{"15-character key", Auth{APIKey: "0123456789abcde"}, "API key"},
		{"short token", Auth{Bearer: "tok-456"}, "Bearer token"},
		{"short password", Auth{User: "pbx", Password: "pw-789"}, "password"},
		{"a long key beside a short token", Auth{APIKey: "0123456789abcdef", Bearer: "tok-456"}, "Bearer token"},
		{"16 characters", Auth{APIKey: long}, ""},
		{"16 characters, all three", Auth{APIKey: long, Bearer: long + "x", User: "pbx", Password: long + "y"}, ""},
	} {
		_, err := New(a, Options{Auth: tc.auth})
		switch {
		case tc.says == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.says != "" && (err == nil || !strings.Contains(err.Error(), tc.says) || !strings.Contains(err.Error(), "16")):
			t.Errorf("%s: error %v, want one naming the %s and 16 characters", tc.name, err, tc.says)
		case err != nil:
			for _, s := range []string{"tok-456", "pw-789", "0123456789abcde"} {
				if strings.Contains(err.Error(), s) {
					t.Errorf("%s: the error shows the secret: %v", tc.name, err)
				}
			}
		}
	}
}

// TestHeaderSizeCapped: a request whose headers are far larger than any PBX sends is refused before the
// handler runs.
func TestHeaderSizeCapped(t *testing.T) {
	_, _, srvURL := serveReceiver(t)
	for _, tc := range []struct {
		size int
		want int
	}{
		{1 << 10, http.StatusOK},
		{16 << 10, http.StatusRequestHeaderFieldsTooLarge},
		{1 << 20, http.StatusRequestHeaderFieldsTooLarge},
	} {
		code, _ := push(t, srvURL, http.MethodPost, sample, map[string]string{"x-api-key": apiKey["x-api-key"],
			"X-Padding": strings.Repeat("p", tc.size)})
		if code != tc.want {
			t.Errorf("%d bytes of headers: HTTP %d, want %d", tc.size, code, tc.want)
		}
	}
}

// serveReceiver runs a receiver with Serve (the server callscope listen runs) on a loopback port.
func serveReceiver(t *testing.T) (*Receiver, *archive.Archive, string) {
	t.Helper()
	a, err := archive.Init(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	r, err := New(a, Options{Auth: auth, Zone: zone})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, ln, r, 5*time.Second) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return r, a, "http://" + ln.Addr().String()
}

// selfSigned writes a certificate for 127.0.0.1 and its key as PEM files and returns their paths and a pool
// that trusts the certificate.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "callscope listen test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestServeTLS: with a certificate the receiver speaks only HTTPS; a push over TLS is stored, the same push
// in plain HTTP to that port is not.
func TestServeTLS(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t)
	cert, err := LoadCertificate(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	a, err := archive.Init(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	r, err := New(a, Options{Auth: auth, Zone: zone})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ServeTLS(ctx, ln, r, 5*time.Second, cert) }()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("ServeTLS: %v", err)
		}
	}()
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	defer hc.CloseIdleConnections()
	send := func(scheme string) (int, error) {
		req, _ := http.NewRequest(http.MethodPost, scheme+"://"+ln.Addr().String()+"/cdr", strings.NewReader(sample))
		req.Header.Set("x-api-key", apiKey["x-api-key"])
		resp, err := hc.Do(req)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	if code, err := send("https"); err != nil || code != http.StatusOK {
		t.Fatalf("push over TLS: %d %v", code, err)
	}
	if code, err := send("http"); err == nil && code == http.StatusOK {
		t.Error("a plain-http push to the TLS port was accepted")
	}
	if n, _ := a.Count(context.Background()); n != 1 || r.Received() != 1 {
		t.Errorf("%d stored, %d received; want 1 and 1 (the TLS push)", n, r.Received())
	}

	// Files that are not a certificate and its key give one line naming them, never the key's content.
	key, _ := os.ReadFile(keyFile)
	for _, files := range [][2]string{{certFile, certFile}, {keyFile, keyFile}, {certFile, filepath.Join(t.TempDir(), "none.pem")}} {
		_, err := LoadCertificate(files[0], files[1])
		if err == nil || !strings.Contains(err.Error(), files[0]) || strings.Contains(err.Error(), string(key[40:80])) ||
			strings.Contains(err.Error(), "\n") {
			t.Errorf("LoadCertificate(%s, %s): %v", files[0], files[1], err)
		}
	}
}

func TestLoopback(t *testing.T) {
	for _, tc := range []struct {
		addr string
		want bool
	}{
		{"127.0.0.1:8080", true},
		{"127.10.0.1:8080", true},
		{"[::1]:8080", true},
		{"0.0.0.0:8080", false},
		{"[::]:8080", false},
		{"192.168.1.5:8080", false},
	} {
		a, err := net.ResolveTCPAddr("tcp", tc.addr)
		if err != nil {
			t.Fatal(err)
		}
		if got := Loopback(a); got != tc.want {
			t.Errorf("Loopback(%s) = %v", tc.addr, got)
		}
	}
}

// TestOverBudget: a push that does not fit in what is left of the budget is answered 503 with Retry-After
// before its body is read; one larger than allowed is answered 413 at once, from its Content-Length.
func TestOverBudget(t *testing.T) {
	r, _, srv := newReceiver(t, Options{MaxBody: 1 << 20, MemoryBudget: 2 << 20, RetryAfter: 3 * time.Second})
	entries := func(size int) string {
		return "[" + strings.Repeat(sample+",", size/(len(sample)+1)) + sample + "]"
	}
	big := entries(600 << 10)
	// Hold all but 300 KB of the budget, as pushes under way would.
	held := int64(2<<20 - 300<<10)
	if !r.budget.take(held) {
		t.Fatal("budget empty")
	}
	req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(big))
	req.Header.Set("x-api-key", apiKey["x-api-key"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "3" {
		t.Errorf("over the budget: HTTP %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	r.budget.give(held)
	if code, body := push(t, srv.URL, http.MethodPost, big, apiKey); code != http.StatusOK {
		t.Errorf("with the budget free: HTTP %d %s", code, body)
	}
	if code, body := push(t, srv.URL, http.MethodPost, entries(1100<<10), apiKey); code != http.StatusRequestEntityTooLarge {
		t.Errorf("over MaxBody: HTTP %d %s", code, body)
	}
	// The same without a Content-Length (chunked): charged as the largest allowed, cut off at the limit.
	req, _ = http.NewRequest(http.MethodPost, srv.URL, io.MultiReader(strings.NewReader(entries(1100<<10))))
	req.Header.Set("x-api-key", apiKey["x-api-key"])
	if resp, err = http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if req.ContentLength != 0 || resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("chunked, over MaxBody: HTTP %d (length %d)", resp.StatusCode, req.ContentLength)
	}
	if r.budget.used != 0 {
		t.Errorf("%d bytes of the budget still taken", r.budget.used)
	}
	if _, err := New(r.a, Options{Auth: auth, MaxBody: 32 << 20, MemoryBudget: 16 << 20}); err == nil {
		t.Error("a budget smaller than the largest push was accepted")
	}
}

// TestPBXSimRetriesWhenBusy: the simulated PBX's push, refused for the memory budget, is sent again after the
// Retry-After and stored.
func TestPBXSimRetriesWhenBusy(t *testing.T) {
	r, a, recv := newReceiver(t, Options{Auth: Auth{Bearer: "tok-0123456789abcdef"}, MaxBody: 1 << 20, MemoryBudget: 2 << 20,
		RetryAfter: time.Second})
	end := time.Date(2026, 11, 20, 18, 0, 0, 0, zone)
	srv, err := pbxsim.Start(pbxsim.Options{Days: 1, End: end, CallsPerDay: 300, Zone: zone, Push: pbxsim.PushOptions{
		URL: recv.URL, Every: time.Hour, Bearer: "tok-0123456789abcdef", Since: end.Add(-3 * time.Hour),
		Now: func() time.Time { return end }}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	// Pushes under way hold the whole budget for the first second.
	if !r.budget.take(2 << 20) {
		t.Fatal("budget taken")
	}
	began := time.Now() // before the sleep starts, so the budget comes back at least a second after it
	go func() { time.Sleep(time.Second); r.budget.give(2 << 20) }()
	res, err := srv.Push(context.Background())
	if err != nil || res.Sent == 0 || time.Since(began) < time.Second {
		t.Fatalf("push: %+v, %v after %v", res, err, time.Since(began))
	}
	if n, _ := a.Count(context.Background()); n != res.Sent {
		t.Errorf("%d stored, %d pushed", n, res.Sent)
	}
}
