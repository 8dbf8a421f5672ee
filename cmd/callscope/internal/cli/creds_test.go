package cli

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callscope/callscope/client/pbxsim"
)

// TestNoPasswordSaysSo: run from cron (no terminal, no $CALLSCOPE_PASSWORD, no profile), a command says that no
// password was given and how to give one, instead of sending none and reporting the PBX's 401 as a wrong
// password.
func TestNoPasswordSaysSo(t *testing.T) {
	srv, _ := sim(t, pbxsim.Faults{})
	for _, args := range [][]string{
		{"calls", "--url", srv.URL(), "--user", "admin", "--from", "2026-11-18"},
		{"calls", "--kind", "difuse", "--url", srv.URL(), "--user", pbxsim.DefaultDifuseExtension, "--page", "1"},
		{"calls", "--url", srv.URL(), "--from", "2026-11-18"},
	} {
		_, errs, code := run(t, nil, args...)
		if code != exitUsage || !strings.Contains(errs, "no password given: set CALLSCOPE_PASSWORD or use a profile") ||
			strings.Contains(errs, "wrong user or password") {
			t.Errorf("%v: exit %d, %q", args, code, errs)
		}
	}
}

// TestPasswordInURLFlag: a password in --url still works, with a warning that it shows in the process list;
// --help no longer says passwords never go in flags while offering user:pass@ in --url.
func TestPasswordInURLFlag(t *testing.T) {
	srv, _ := sim(t, pbxsim.Faults{})
	withPass := strings.Replace(srv.URL(), "://", "://admin:C%4011Me@", 1)
	out, errs, code := run(t, nil, "calls", "--url", withPass, "--from", "2026-11-18", "--to", "2026-11-19", "--format", "csv")
	if code != 0 || strings.Count(out, "\n") < 2 {
		t.Fatalf("exit %d, %d lines: %s", code, strings.Count(out, "\n"), errs)
	}
	if !strings.Contains(errs, "warning: ") || !strings.Contains(errs, "process list") || strings.Contains(errs, "C@11Me") ||
		strings.Contains(errs, "C%4011Me") {
		t.Errorf("stderr %q: want one warning about the process list, without the password", errs)
	}
	out, _, _ = run(t, nil, "--help")
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "--url") && strings.Contains(line, "PBX base URL") && !strings.Contains(line, "process list") {
			t.Errorf("--url's help does not warn that a password in it shows in the process list: %q", line)
		}
	}
	if strings.Contains(oneLine(out), "Passwords are never flags, so they stay out of the process list: $CALLSCOPE_PASSWORD, a profile's password_env, password_cmd or OS keyring entry, user:pass@ in the URL") {
		t.Errorf("--help still offers user:pass@ in the URL as a way that stays out of the process list")
	}
}

// freeAddr is a loopback address nothing listens on (the host part replaced by host when given).
func freeAddr(t *testing.T, host string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return net.JoinHostPort(host, port)
}

// testCert writes a self-signed certificate for 127.0.0.1 and its key, and returns the files and a pool that
// trusts it.
func testCert(t *testing.T) (string, string, *x509.CertPool) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalPKCS8PrivateKey(key)
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "push.crt"), filepath.Join(dir, "push.key")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestListenNetwork: listen refuses a short key, warns when it listens beyond loopback in plain HTTP, and with
// --tls-cert/--tls-key takes pushes over HTTPS only.
func TestListenNetwork(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("CALLSCOPE_LISTEN_API_KEY", "k")
	if _, err := runSyncCLI(t, context.Background(), "listen", "--dir", dir, "--addr", freeAddr(t, "127.0.0.1")); err == nil ||
		!strings.Contains(err.Error(), "at least 16") {
		t.Errorf("one-character key: %v", err)
	}
	const key = "push-key-0123456789abcdef"
	t.Setenv("CALLSCOPE_LISTEN_API_KEY", key)
	certFile, keyFile, pool := testCert(t)
	if _, err := runSyncCLI(t, context.Background(), "listen", "--dir", dir, "--tls-cert", certFile); err == nil ||
		!strings.Contains(err.Error(), "--tls-key") {
		t.Errorf("--tls-cert alone: %v", err)
	}

	// serve runs listen until a push to scheme://addr is answered, then stops it; it returns stderr and the
	// push's status.
	serve := func(addr, scheme string, args ...string) (string, int) {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan string, 1)
		go func() {
			stderr, err := runSyncCLI(t, ctx, append([]string{"listen", "--dir", dir, "--addr", addr, "--tz", "UTC"}, args...)...)
			if err != nil {
				stderr += err.Error()
			}
			done <- stderr
		}()
		hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
		defer hc.CloseIdleConnections()
		_, port, _ := net.SplitHostPort(addr)
		code := 0
		for range 100 {
			req, _ := http.NewRequest(http.MethodPost, scheme+"://127.0.0.1:"+port+"/cdr",
				strings.NewReader(`{"call_id":"1706950109.0","start_time":"2024-02-03 08:48:29"}`))
			req.Header.Set("x-api-key", key)
			if resp, err := hc.Do(req); err == nil {
				code = resp.StatusCode
				resp.Body.Close()
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		cancel()
		return <-done, code
	}
	stderr, code := serve(freeAddr(t, "0.0.0.0"), "http")
	if code != 200 || !strings.Contains(stderr, "warning: listening on") || !strings.Contains(stderr, "plain HTTP") {
		t.Errorf("every interface, plain HTTP: HTTP %d\n%s", code, stderr)
	}
	stderr, code = serve(freeAddr(t, "127.0.0.1"), "https", "--tls-cert", certFile, "--tls-key", keyFile)
	if code != 200 || strings.Contains(stderr, "warning") || !strings.Contains(stderr, "(https)") || strings.Contains(stderr, key) {
		t.Errorf("TLS: HTTP %d\n%s", code, stderr)
	}
	stderr, code = serve(freeAddr(t, "127.0.0.1"), "http")
	if code != 200 || strings.Contains(stderr, "warning") {
		t.Errorf("loopback, plain HTTP: HTTP %d\n%s", code, stderr)
	}
}
