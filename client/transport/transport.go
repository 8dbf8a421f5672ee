// Package transport is the HTTP layer both PBX clients share: credentials kept out of URLs, errors and logs;
// a timeout for a PBX that stops answering that never cuts off a download still making progress; and errors
// that say in one line what went wrong (wrong password, PBX down, timeout, server error).
package transport

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/callscope/callscope/client/cdr"
)

// DefaultTimeout is how long a PBX may stay silent (to connect, to answer, between body reads).
const DefaultTimeout = 10 * time.Second

// Config sets up a Client.
type Config struct {
	Timeout  time.Duration // idle limit; DefaultTimeout when zero
	CAFile   string        // extra CA certificates (PEM) for HTTPS PBXs with their own CA
	Insecure bool          // skip TLS verification (the caller warns the user)
	// Secrets are values to scrub from any error text, whatever path they took (a key in a query string).
	Secrets []cdr.Secret
	// Origin is the PBX's configured URL. Credentials (a Request's User and Password, or CredentialQuery) are
	// sent only to its scheme, host and port, and follow redirects only within it; a request with credentials
	// for anywhere else is refused before it is sent. Without it no request may carry credentials.
	Origin *url.URL
}

// Client does GETs against one PBX.
type Client struct {
	hc      *http.Client
	timeout time.Duration
	secrets []string
	origin  *Origin
	clock   pbxClock // the PBX's clock by its latest answer (PBXClock)
}

// New builds a Client.
func New(cfg Config) (*Client, error) {
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	tlsConf := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err // the path is in the message once
			}
			return nil, fmt.Errorf("cannot read the CA file %s: %w", cfg.CAFile, err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA file %s holds no PEM certificate", cfg.CAFile)
		}
		tlsConf.RootCAs = pool
	}
	if cfg.Insecure {
		tlsConf.InsecureSkipVerify = true //nolint:gosec // the user asked for it by name and is warned
	}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       tlsConf,
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
		MaxIdleConnsPerHost:   8,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	c := &Client{timeout: timeout}
	// No overall Timeout: a long download that keeps making progress must never be cut off.
	c.hc = &http.Client{Transport: loggingTransport{next: tr, scrub: c.scrub}, CheckRedirect: c.checkRedirect}
	if cfg.Origin != nil {
		o := OriginOf(cfg.Origin)
		c.origin = &o
	}
	for _, s := range cfg.Secrets {
		if s.IsSet() {
			c.secrets = append(c.secrets, s.Reveal())
		}
	}
	return c, nil
}

// Request is one GET.
type Request struct {
	URL      *url.URL // without user info
	User     string
	Password cdr.Secret // sent as HTTP Basic when User is set
	// CredentialQuery are credentials sent in the query string (Difuse's extension= and key=): added to URL
	// only when it is on the configured origin, like User and Password.
	CredentialQuery url.Values
	Accept          string
}

// Response is a successful (2xx) answer whose Body enforces the idle timeout.
type Response struct {
	Status        int
	ContentType   string
	ContentLength int64
	Body          io.ReadCloser
}

// Get sends req. Any non-2xx status is returned as an *HTTPError (401 wraps cdr.ErrAuth); transport failures
// become one-line errors naming the host and what to check.
func (c *Client) Get(ctx context.Context, req Request) (*Response, error) {
	u := *req.URL
	u.User = nil
	var creds *sentCredentials
	if req.User != "" || len(req.CredentialQuery) > 0 {
		if c.origin == nil || OriginOf(&u) != *c.origin {
			return nil, &OffOriginError{URL: Redact(u.String()), Origin: c.origin}
		}
		creds = &sentCredentials{query: req.CredentialQuery}
		if len(req.CredentialQuery) > 0 {
			u.RawQuery = withQuery(u.RawQuery, req.CredentialQuery)
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	if creds != nil {
		ctx = withCredentials(ctx, creds)
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("bad PBX URL: %v", c.scrub(err.Error()))
	}
	hreq.Header.Set("User-Agent", "callscope")
	if req.Accept != "" {
		hreq.Header.Set("Accept", req.Accept)
	}
	if req.User != "" {
		hreq.SetBasicAuth(req.User, req.Password.Reveal())
		creds.authorization = hreq.Header.Get("Authorization")
	}
	host := req.URL.Host
	resp, err := c.hc.Do(hreq)
	if err != nil {
		cancel()
		return nil, c.classify(ctx, host, err)
	}
	observeDate(ctx, resp.Header)
	if c.origin != nil && resp.Request != nil && OriginOf(resp.Request.URL) == *c.origin {
		c.clock.note(resp.Header)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		defer cancel()
		snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		_ = resp.Body.Close()
		return nil, &HTTPError{Host: host, Status: resp.StatusCode, Text: http.StatusText(resp.StatusCode),
			Body: c.scrub(strings.TrimSpace(string(snippet))), Anonymous: creds == nil}
	}
	body := newIdleReader(resp.Body, c.timeout, cancel, host)
	return &Response{Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"),
		ContentLength: resp.ContentLength, Body: &scrubbingBody{body: body, c: c, ctx: ctx, cancel: cancel, host: host}}, nil
}

// HTTPError is a PBX's non-2xx answer.
type HTTPError struct {
	Host   string
	Status int
	Text   string
	Body   string // first bytes of the answer, secrets scrubbed
	// Anonymous: the request carried no credentials, so a 401 is not a wrong password.
	Anonymous bool
}

func (e *HTTPError) Error() string {
	switch {
	case e.Status == http.StatusUnauthorized && e.Anonymous:
		return fmt.Sprintf("pbx %s: asks for a user and password (HTTP 401), and none was sent", e.Host)
	case e.Status == http.StatusUnauthorized:
		return fmt.Sprintf("pbx %s: wrong user or password (HTTP 401)", e.Host)
	case e.Status == http.StatusForbidden:
		return fmt.Sprintf("pbx %s: access refused (HTTP 403): is CDR access enabled for this user?", e.Host)
	case e.Status == http.StatusNotFound:
		return fmt.Sprintf("pbx %s: not found (HTTP 404)", e.Host)
	case e.Status >= 500:
		return fmt.Sprintf("pbx %s: the PBX failed (HTTP %d %s); try again later", e.Host, e.Status, e.Text)
	}
	return fmt.Sprintf("pbx %s: unexpected answer HTTP %d %s", e.Host, e.Status, e.Text)
}

// Unwrap lets errors.Is(err, cdr.ErrAuth) find a 401.
func (e *HTTPError) Unwrap() error {
	if e.Status == http.StatusUnauthorized {
		return cdr.ErrAuth
	}
	return nil
}

// StatusOf returns the HTTP status of an *HTTPError in err's chain, or 0.
func StatusOf(err error) int {
	var he *HTTPError
	if errors.As(err, &he) {
		return he.Status
	}
	return 0
}

// Errors that callers tell apart with errors.Is; the typed errors below match them and carry the facts.
var (
	// ErrTimeout marks a PBX that went silent for longer than the timeout (a *TimeoutError).
	ErrTimeout = errors.New("timeout")
	// ErrUnreachable marks a PBX that could not be reached at all.
	ErrUnreachable = errors.New("unreachable")
	// ErrUntrustedCert marks an HTTPS PBX whose certificate does not verify (an *UntrustedCertError).
	ErrUntrustedCert = errors.New("TLS certificate not trusted")
	// ErrNoURL is a PBX address that was never given.
	ErrNoURL = errors.New("no PBX URL given")
)

// TimeoutError is a PBX that sent nothing for Limit: no answer at all, or (MidAnswer) an answer that stopped
// part-way. The idle limit is the caller's setting; the remedy, a longer one, is the caller's to name.
type TimeoutError struct {
	Host      string
	Limit     time.Duration
	MidAnswer bool
}

func (e *TimeoutError) Error() string {
	if e.MidAnswer {
		return fmt.Sprintf("pbx %s: stopped sending data for %s", e.Host, e.Limit)
	}
	return fmt.Sprintf("pbx %s: no answer within %s", e.Host, e.Limit)
}

// Is lets errors.Is(err, ErrTimeout) find it.
func (e *TimeoutError) Is(target error) bool { return target == ErrTimeout }

// UntrustedCertError is an HTTPS PBX whose certificate this computer does not trust: signed by a CA it does not
// know (a PBX's own), expired, or for another name. Reason is the check that failed, secrets scrubbed.
type UntrustedCertError struct {
	Host   string
	Reason string
}

func (e *UntrustedCertError) Error() string {
	if e.Reason == "" {
		return fmt.Sprintf("pbx %s: TLS certificate not trusted", e.Host)
	}
	return fmt.Sprintf("pbx %s: TLS certificate not trusted (%s)", e.Host, e.Reason)
}

// Is lets errors.Is(err, ErrUntrustedCert) find it.
func (e *UntrustedCertError) Is(target error) bool { return target == ErrUntrustedCert }

func (c *Client) originOrNone() string {
	if c.origin == nil {
		return "(none)"
	}
	return c.origin.String()
}

func (c *Client) classify(ctx context.Context, host string, err error) error {
	if errors.Is(err, errIdle) || errors.Is(context.Cause(ctx), errIdle) {
		return &TimeoutError{Host: host, Limit: c.timeout, MidAnswer: true}
	}
	if ctx.Err() != nil && errors.Is(err, context.Canceled) {
		return context.Canceled
	}
	var re *RedirectError
	if errors.As(err, &re) {
		return &RedirectError{Msg: c.scrub(re.Msg), Suggest: re.Suggest}
	}
	var ne net.Error
	var dnsErr *net.DNSError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("pbx %s: connection refused: is the PBX up and the URL right? (%w)", host, ErrUnreachable)
	case errors.As(err, &dnsErr):
		return fmt.Errorf("pbx %s: host name not found: check the URL (%w)", host, ErrUnreachable)
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return fmt.Errorf("pbx %s: no route to host: check the address and network (%w)", host, ErrUnreachable)
	case errors.As(err, &ne) && ne.Timeout():
		return &TimeoutError{Host: host, Limit: c.timeout}
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF), errors.Is(err, syscall.ECONNRESET):
		return fmt.Errorf("pbx %s: the connection was closed before the answer was complete", host)
	}
	var certErr *tls.CertificateVerificationError
	if errors.As(err, &certErr) || strings.Contains(err.Error(), "x509:") {
		reason := rootMessage(err)
		if certErr != nil && certErr.Err != nil {
			reason = certErr.Err.Error()
		}
		return &UntrustedCertError{Host: host, Reason: c.scrub(reason)}
	}
	return fmt.Errorf("pbx %s: %s", host, c.scrub(rootMessage(err)))
}

// rootMessage drops url.Error's "Get \"URL\":" prefix, which would repeat the URL (and a query key).
func rootMessage(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}

func (c *Client) scrub(s string) string {
	for _, sec := range c.secrets {
		s = strings.ReplaceAll(s, sec, "[redacted]")
		s = strings.ReplaceAll(s, url.QueryEscape(sec), "[redacted]")
	}
	return s
}

var errIdle = errors.New("idle timeout")

// idleReader cancels the request when no byte arrives for the timeout; each successful read restarts the clock,
// so a slow but steady download goes on for as long as it takes.
type idleReader struct {
	r       io.ReadCloser
	timeout time.Duration
	timer   *time.Timer
	once    sync.Once
	fired   chan struct{}
}

func newIdleReader(r io.ReadCloser, timeout time.Duration, cancel context.CancelFunc, host string) *idleReader {
	ir := &idleReader{r: r, timeout: timeout, fired: make(chan struct{})}
	ir.timer = time.AfterFunc(timeout, func() {
		ir.once.Do(func() { close(ir.fired) })
		cancel()
	})
	return ir
}

func (ir *idleReader) Read(p []byte) (int, error) {
	n, err := ir.r.Read(p)
	if n > 0 {
		ir.timer.Reset(ir.timeout)
	}
	if err != nil && err != io.EOF {
		select {
		case <-ir.fired:
			return n, errIdle
		default:
		}
	}
	return n, err
}

func (ir *idleReader) Close() error {
	ir.timer.Stop()
	return ir.r.Close()
}

// scrubbingBody turns body read errors into the same one-line errors as Get's.
type scrubbingBody struct {
	body   *idleReader
	c      *Client
	ctx    context.Context
	cancel context.CancelFunc
	host   string
}

func (b *scrubbingBody) Read(p []byte) (int, error) {
	n, err := b.body.Read(p)
	if err != nil && err != io.EOF {
		if errors.Is(err, errIdle) {
			return n, &TimeoutError{Host: b.host, Limit: b.c.timeout, MidAnswer: true}
		}
		if b.ctx.Err() != nil {
			return n, b.ctx.Err()
		}
		return n, fmt.Errorf("pbx %s: the answer was cut off: %s", b.host, b.c.scrub(rootMessage(err)))
	}
	return n, err
}

func (b *scrubbingBody) Close() error {
	err := b.body.Close()
	b.cancel()
	return err
}
