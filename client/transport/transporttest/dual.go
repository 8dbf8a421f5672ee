// Package transporttest holds a test server for checking where a client sends its credentials: one loopback
// port that answers both HTTPS and plain HTTP, as a PBX with both on one address (or a hostile one) would, and
// records every request with the protocol it arrived over.
//
// With both protocols on one host and port, a link or redirect from https://127.0.0.1:P to http://127.0.0.1:P
// is "the same host" by every measure but the scheme, which is exactly the case a client must not send
// credentials to.
package transporttest

import (
	"bufio"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Request is what the server saw of one request.
type Request struct {
	TLS           bool // arrived over TLS
	Method        string
	Host          string
	Path          string
	RawQuery      string
	Authorization string
	APIKey        string // x-api-key
}

// Server answers HTTPS and plain HTTP on one loopback port with the same handler.
type Server struct {
	URL      string // https://127.0.0.1:PORT
	PlainURL string // http://127.0.0.1:PORT
	// CAFile is a PEM file holding the server's certificate, for a client's CA file setting.
	CAFile string

	tlsSrv, plainSrv *httptest.Server
	ln               net.Listener
	mu               sync.Mutex
	seen             []Request
}

// NewDualServer starts a Server whose handler is h (nil: 404 for everything). dir is where the CA file is
// written (a test's temporary directory).
func NewDualServer(h http.Handler, dir string) (*Server, error) {
	if h == nil {
		h = http.NotFoundHandler()
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{ln: ln}
	rec := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.seen = append(s.seen, Request{TLS: r.TLS != nil, Method: r.Method, Host: r.Host, Path: r.URL.Path,
			RawQuery: r.URL.RawQuery, Authorization: r.Header.Get("Authorization"), APIKey: r.Header.Get("X-Api-Key")})
		s.mu.Unlock()
		h.ServeHTTP(w, r)
	})
	tlsL := newChanListener(ln.Addr())
	plainL := newChanListener(ln.Addr())
	s.tlsSrv = httptest.NewUnstartedServer(rec)
	s.tlsSrv.Listener = tlsL
	s.tlsSrv.StartTLS()
	s.plainSrv = httptest.NewUnstartedServer(rec)
	s.plainSrv.Listener = plainL
	s.plainSrv.Start()
	s.URL = "https://" + ln.Addr().String()
	s.PlainURL = "http://" + ln.Addr().String()
	go s.accept(tlsL, plainL)

	cert := s.tlsSrv.Certificate()
	s.CAFile = filepath.Join(dir, "dual-server-ca.pem")
	if err := os.WriteFile(s.CAFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o600); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Certificate is the server's TLS certificate.
func (s *Server) Certificate() *x509.Certificate { return s.tlsSrv.Certificate() }

// Requests is every request seen so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.seen...)
}

// Plain is the requests that arrived over plain HTTP.
func (s *Server) Plain() []Request {
	var out []Request
	for _, r := range s.Requests() {
		if !r.TLS {
			out = append(out, r)
		}
	}
	return out
}

// Reset forgets the requests seen.
func (s *Server) Reset() {
	s.mu.Lock()
	s.seen = nil
	s.mu.Unlock()
}

// Close stops the server.
func (s *Server) Close() {
	_ = s.ln.Close() // ends accept; the servers below close what it handed them
	s.tlsSrv.Close()
	s.plainSrv.Close()
}

// accept hands each connection to the TLS or the plain server by its first byte: a TLS connection starts with
// a handshake record (0x16), an HTTP request with a method name.
func (s *Server) accept(tlsL, plainL *chanListener) {
	defer func() { _ = tlsL.Close() }()
	defer func() { _ = plainL.Close() }()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		go func() {
			br := bufio.NewReader(c)
			_ = c.SetReadDeadline(time.Now().Add(5 * time.Second)) // a TCP connection always takes one
			first, err := br.Peek(1)
			_ = c.SetReadDeadline(time.Time{})
			if err != nil {
				_ = c.Close()
				return
			}
			pc := &peekedConn{Conn: c, r: br}
			if first[0] == 0x16 {
				tlsL.put(pc)
			} else {
				plainL.put(pc)
			}
		}()
	}
}

type peekedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *peekedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// chanListener is a net.Listener fed by accept.
type chanListener struct {
	addr   net.Addr
	conns  chan net.Conn
	done   chan struct{}
	closer sync.Once
}

func newChanListener(addr net.Addr) *chanListener {
	return &chanListener{addr: addr, conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *chanListener) put(c net.Conn) {
	select {
	case l.conns <- c:
	case <-l.done:
		_ = c.Close()
	}
}

func (l *chanListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, errors.New("listener closed")
	}
}

func (l *chanListener) Close() error {
	l.closer.Do(func() { close(l.done) })
	return nil
}

func (l *chanListener) Addr() net.Addr { return l.addr }
