// Package listen receives the CDR entries a Difuse PBX pushes ("CDR Log To API": every 60 seconds it POSTs or
// PUTs the entries written since the last push) and stores them in a local archive, de-duplicated by call ID.
//
// An entry is acknowledged with a 2xx only once it is committed to the archive, so a PBX that gets no answer
// (a crash, a shutdown) sends it again, and nothing acknowledged is ever lost.
package listen

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/callscope/callscope/client/archive"
	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/safetext"
)

// DefaultMaxBody bounds one push. A CDR entry is about 500 bytes; a PBX that was offline for a day and sends
// its backlog at once stays well under it.
const DefaultMaxBody = 16 << 20

// DefaultMemoryBudget bounds the push bodies held at once: four of the largest, or thousands of a usual size.
// A push that would go over it is answered 503 with a Retry-After, and the PBX sends it again.
const DefaultMemoryBudget = 64 << 20

// DefaultRetryAfter is how long a push refused for the memory budget is told to wait.
const DefaultRetryAfter = 5 * time.Second

// MinSecretLen is the shortest API key, Bearer token or Basic password accepted. These are shared between two
// machines and typed by no one, so nothing excuses one that could be guessed.
const MinSecretLen = 16

// decodeReserve is charged to the memory budget for each push beside its body: what decoding one entry (at
// most MaxEntry) and storing it hold.
const decodeReserve = 4 * MaxEntry

// Auth is what a push must carry: any one of the configured credentials lets it in. These are the three ways
// the Difuse PBX offers: an API key (sent as the x-api-key header), a Bearer token, or HTTP Basic.
type Auth struct {
	APIKey   cdr.Secret
	Bearer   cdr.Secret
	User     string
	Password cdr.Secret
}

// Configured reports whether any credential is set.
func (a Auth) Configured() bool {
	return a.APIKey.IsSet() || a.Bearer.IsSet() || (a.User != "" && a.Password.IsSet())
}

// Options configure a Receiver.
type Options struct {
	Auth    Auth
	MaxBody int64 // DefaultMaxBody when zero
	// MemoryBudget bounds the bytes of the push bodies held at once (DefaultMemoryBudget when zero); at least
	// MaxBody. A push that does not fit is answered 503 with Retry-After.
	MemoryBudget int64
	RetryAfter   time.Duration  // what a 503 for the budget asks the PBX to wait; DefaultRetryAfter when zero
	Zone         *time.Location // the PBX's zone for times without an offset; nil: from each entry's timestamp
	Log          func(string)   // one line per request, without secrets or control characters; may be nil
}

// Receiver is the HTTP handler that stores pushes.
type Receiver struct {
	a        *archive.Archive
	o        Options
	apiKey   [32]byte
	bearer   [32]byte
	basic    [32]byte
	received atomic.Int64
	budget   budget
}

// New builds a Receiver. It refuses to run without a credential: the endpoint writes to the archive.
func New(a *archive.Archive, o Options) (*Receiver, error) {
	if !o.Auth.Configured() {
		return nil, errors.New("listen needs a credential the PBX sends: an API key, a Bearer token, or a user and password")
	}
	if o.Auth.User != "" && !o.Auth.Password.IsSet() {
		return nil, fmt.Errorf("a password for user %s is needed for Basic auth", o.Auth.User)
	}
	for _, c := range []struct {
		name string
		s    cdr.Secret
	}{{"API key", o.Auth.APIKey}, {"Bearer token", o.Auth.Bearer}, {"Basic auth password", o.Auth.Password}} {
		if n := utf8.RuneCountInString(c.s.Reveal()); c.s.IsSet() && n < MinSecretLen {
			return nil, fmt.Errorf("the %s is %d characters long: use at least %d (for example the output of `openssl rand -hex 16`), and set the same on the PBX",
				c.name, n, MinSecretLen)
		}
	}
	if o.MaxBody <= 0 {
		o.MaxBody = DefaultMaxBody
	}
	if o.MemoryBudget <= 0 {
		o.MemoryBudget = max(DefaultMemoryBudget, o.MaxBody+decodeReserve)
	}
	if o.MemoryBudget < o.MaxBody+decodeReserve {
		return nil, fmt.Errorf("the memory budget (%d bytes) is smaller than the largest push allowed (%d bytes): raise the budget or lower the largest push",
			o.MemoryBudget, o.MaxBody)
	}
	if o.RetryAfter <= 0 {
		o.RetryAfter = DefaultRetryAfter
	}
	if o.Log == nil {
		o.Log = func(string) {}
	}
	r := &Receiver{a: a, o: o, budget: budget{limit: o.MemoryBudget}}
	// Digests of equal length make the comparison constant-time whatever the lengths of what is compared.
	if o.Auth.APIKey.IsSet() {
		r.apiKey = sha256.Sum256([]byte(o.Auth.APIKey.Reveal()))
	}
	if o.Auth.Bearer.IsSet() {
		r.bearer = sha256.Sum256([]byte(o.Auth.Bearer.Reveal()))
	}
	if o.Auth.User != "" {
		r.basic = sha256.Sum256([]byte(o.Auth.User + "\x00" + o.Auth.Password.Reveal()))
	}
	return r, nil
}

// Received is the number of entries stored since the Receiver was made.
func (r *Receiver) Received() int64 { return r.received.Load() }

func equalDigest(want [32]byte, got string) bool {
	h := sha256.Sum256([]byte(got))
	return subtle.ConstantTimeCompare(want[:], h[:]) == 1
}

// authorized checks every configured method (without stopping at the first match, so timing says nothing about
// which one was tried).
func (r *Receiver) authorized(req *http.Request) bool {
	ok := false
	a := r.o.Auth
	if a.APIKey.IsSet() {
		if k := req.Header.Get("X-Api-Key"); k != "" && equalDigest(r.apiKey, k) {
			ok = true
		}
	}
	authz := req.Header.Get("Authorization")
	if a.Bearer.IsSet() {
		if scheme, tok, found := strings.Cut(authz, " "); found && strings.EqualFold(scheme, "Bearer") &&
			equalDigest(r.bearer, strings.TrimSpace(tok)) {
			ok = true
		}
	}
	if a.User != "" {
		if u, p, found := req.BasicAuth(); found && equalDigest(r.basic, u+"\x00"+p) {
			ok = true
		}
	}
	return ok
}

type reply struct {
	Stored int    `json:"stored,omitempty"`
	Error  string `json:"error,omitempty"`
}

func (r *Receiver) answer(w http.ResponseWriter, req *http.Request, code int, rep reply, began time.Time) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	b, _ := json.Marshal(rep)
	_, _ = w.Write(append(b, '\n')) // a PBX gone before its answer was never acknowledged, so it pushes again
	// Anyone who can reach the port chooses the path, authenticated or not: it is quoted, so a line feed in it
	// cannot start a log line of its own.
	msg := fmt.Sprintf("listen %s %q from %s: %d", req.Method, req.URL.Path, req.RemoteAddr, code)
	if rep.Stored > 0 {
		msg += fmt.Sprintf(", stored %d", rep.Stored)
	}
	if rep.Error != "" {
		msg += ": " + rep.Error
	}
	r.o.Log(safetext.Terminal(msg + " (" + time.Since(began).Round(time.Millisecond).String() + ")"))
}

// ServeHTTP stores one push: POST or PUT, authenticated, a JSON object or array of CDR entries. Every entry is
// checked before any is stored; a bad one refuses the whole push with a 400 that says which and why.
func (r *Receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	began := time.Now()
	if req.Method != http.MethodPost && req.Method != http.MethodPut {
		w.Header().Set("Allow", "POST, PUT")
		r.answer(w, req, http.StatusMethodNotAllowed, reply{Error: "send CDR entries with POST or PUT"}, began)
		return
	}
	if !r.authorized(req) {
		if r.o.Auth.User != "" {
			w.Header().Set("WWW-Authenticate", `Basic realm="callscope"`)
		}
		r.answer(w, req, http.StatusUnauthorized, reply{Error: "wrong or missing credentials: send the API key (x-api-key), Bearer token or user and password configured for callscope listen"}, began)
		return
	}
	// The body is held in memory until it is stored (so a slow PBX never holds the archive's write lock while
	// it sends); what may be held at once is bounded by the budget, charged before the first byte is read.
	if req.ContentLength > r.o.MaxBody {
		w.Header().Set("Connection", "close")
		r.answer(w, req, http.StatusRequestEntityTooLarge, reply{Error: fmt.Sprintf("the body is larger than %d bytes: push fewer entries at a time", r.o.MaxBody)}, began)
		return
	}
	charge := r.o.MaxBody // a body of unknown length may be as large as allowed
	if req.ContentLength >= 0 {
		charge = req.ContentLength
	}
	charge += decodeReserve
	if !r.budget.take(charge) {
		secs := int(math.Ceil(r.o.RetryAfter.Seconds()))
		w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
		w.Header().Set("Connection", "close")
		r.answer(w, req, http.StatusServiceUnavailable, reply{Error: "busy storing other pushes: send this one again after Retry-After seconds"}, began)
		return
	}
	defer r.budget.give(charge)
	body, err := readSpool(http.MaxBytesReader(w, req.Body, r.o.MaxBody))
	defer body.release()
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			r.answer(w, req, http.StatusRequestEntityTooLarge, reply{Error: fmt.Sprintf("the body is larger than %d bytes: push fewer entries at a time", r.o.MaxBody)}, began)
			return
		}
		r.answer(w, req, http.StatusBadRequest, reply{Error: "the body could not be read: " + err.Error()}, began)
		return
	}
	zone := r.o.Zone
	if zone == nil {
		zone = r.a.Location()
	}
	// The request's context is not used: once the body is in, the entries are committed even if the PBX hangs
	// up, so what the PBX may have seen acknowledged is never dropped.
	n, err := r.store(context.WithoutCancel(req.Context()), NewDecoder(body.reader(), zone))
	if err != nil {
		var bad *BadRequest
		if errors.As(err, &bad) {
			r.answer(w, req, http.StatusBadRequest, reply{Error: bad.msg}, began)
			return
		}
		r.o.Log(safetext.Terminal("listen: storing a push failed: " + err.Error()))
		r.answer(w, req, http.StatusServiceUnavailable, reply{Error: "the entries could not be stored; send them again"}, began)
		return
	}
	r.received.Add(int64(n))
	r.answer(w, req, http.StatusOK, reply{Stored: n}, began)
}

// store puts every entry dec reads in one batch, so a push is stored whole or not at all: an entry that is
// wrong refuses the whole push (a *BadRequest), and nothing of it is kept.
func (r *Receiver) store(ctx context.Context, dec *Decoder) (int, error) {
	first, err := dec.Next()
	if err == io.EOF {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	b, err := r.a.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer func() { _ = b.Rollback() }() // a no-op after Commit; after a failure, the failure is the news
	n := 0
	for rec := first; ; {
		if err := b.Put(ctx, &rec, archive.Blob{}); err != nil {
			return 0, err
		}
		n++
		if rec, err = dec.Next(); err == io.EOF {
			break
		} else if err != nil {
			return 0, err
		}
	}
	return n, b.Commit()
}

// MaxHeaderBytes caps a push's request line and headers. A PBX sends a few short ones (its credential, the
// content type); 8 KB is what common servers allow per line, and the net/http default (1 MB) is an invitation.
const MaxHeaderBytes = 8 << 10

// Serve answers pushes on ln over plain HTTP until ctx ends, then stops taking new requests and waits (up to
// grace) for those under way to be stored and answered.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, grace time.Duration) error {
	return serve(ctx, ln, h, grace, nil)
}

// ServeTLS is Serve over HTTPS with cert (LoadCertificate reads one).
func ServeTLS(ctx context.Context, ln net.Listener, h http.Handler, grace time.Duration, cert tls.Certificate) error {
	conf := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	return serve(ctx, ln, h, grace, conf)
}

// LoadCertificate reads a PEM certificate (with its chain) and its private key for ServeTLS.
func LoadCertificate(certFile, keyFile string) (tls.Certificate, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		// The error names the files and what is wrong with them (not PEM, no key, a key for another
		// certificate); it never holds the key itself.
		return tls.Certificate{}, fmt.Errorf("TLS certificate %s with key %s: %v", certFile, keyFile, err)
	}
	return cert, nil
}

// Loopback reports whether addr is reachable only from this machine. An unspecified address (":8080",
// "0.0.0.0") listens on every interface, and is not.
func Loopback(addr net.Addr) bool {
	ta, ok := addr.(*net.TCPAddr)
	return ok && ta.IP.IsLoopback()
}

func serve(ctx context.Context, ln net.Listener, h http.Handler, grace time.Duration, tlsConf *tls.Config) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    MaxHeaderBytes,
		TLSConfig:         tlsConf,
	}
	errc := make(chan error, 1)
	go func() {
		if tlsConf != nil {
			errc <- srv.ServeTLS(ln, "", "")
			return
		}
		errc <- srv.Serve(ln)
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	err := srv.Shutdown(sctx)
	if errors.Is(err, context.DeadlineExceeded) {
		_ = srv.Close() // its connections are being dropped either way; the error below says what that means
		return fmt.Errorf("stopped with requests still running after %v; their entries were not acknowledged, so the PBX sends them again", grace)
	}
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}
