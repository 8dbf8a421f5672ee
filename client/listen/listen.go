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
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/callscope/callscope/client/archive"
	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/safetext"
)

// DefaultMaxBody bounds one push. A CDR entry is about 500 bytes; a PBX that was offline for a day and sends
// its backlog at once stays well under it.
const DefaultMaxBody = 16 << 20

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
	MaxBody int64          // DefaultMaxBody when zero
	Zone    *time.Location // the PBX's zone for times without an offset; nil: from each entry's timestamp
	Log     func(string)   // one line per request, without secrets or control characters; may be nil
}

// Receiver is the HTTP handler that stores pushes.
type Receiver struct {
	a        *archive.Archive
	o        Options
	apiKey   [32]byte
	bearer   [32]byte
	basic    [32]byte
	received atomic.Int64
}

// New builds a Receiver. It refuses to run without a credential: the endpoint writes to the archive.
func New(a *archive.Archive, o Options) (*Receiver, error) {
	if !o.Auth.Configured() {
		return nil, errors.New("listen needs a credential the PBX sends: an API key, a Bearer token, or a user and password")
	}
	if o.Auth.User != "" && !o.Auth.Password.IsSet() {
		return nil, fmt.Errorf("a password for user %s is needed for Basic auth", o.Auth.User)
	}
	if o.MaxBody <= 0 {
		o.MaxBody = DefaultMaxBody
	}
	if o.Log == nil {
		o.Log = func(string) {}
	}
	r := &Receiver{a: a, o: o}
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
	w.Write(append(b, '\n'))
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
	body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, r.o.MaxBody))
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
	recs, err := Decode(body, zone)
	if err != nil {
		var bad *BadRequest
		if errors.As(err, &bad) {
			r.answer(w, req, http.StatusBadRequest, reply{Error: bad.msg}, began)
			return
		}
		r.answer(w, req, http.StatusInternalServerError, reply{Error: "internal error"}, began)
		return
	}
	// The request's context is not used: once the body is in, the entries are committed even if the PBX hangs
	// up, so what the PBX may have seen acknowledged is never dropped.
	if err := r.store(context.WithoutCancel(req.Context()), recs); err != nil {
		r.o.Log(safetext.Terminal("listen: storing a push failed: " + err.Error()))
		r.answer(w, req, http.StatusServiceUnavailable, reply{Error: "the entries could not be stored; send them again"}, began)
		return
	}
	r.received.Add(int64(len(recs)))
	r.answer(w, req, http.StatusOK, reply{Stored: len(recs)}, began)
}

func (r *Receiver) store(ctx context.Context, recs []cdr.Record) error {
	if len(recs) == 0 {
		return nil
	}
	b, err := r.a.Begin(ctx)
	if err != nil {
		return err
	}
	defer b.Rollback()
	for i := range recs {
		if err := b.Put(ctx, &recs[i], archive.Blob{}); err != nil {
			return err
		}
	}
	return b.Commit()
}

// Serve answers pushes on ln until ctx ends, then stops taking new requests and waits (up to grace) for those
// under way to be stored and answered.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, grace time.Duration) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	err := srv.Shutdown(sctx)
	if errors.Is(err, context.DeadlineExceeded) {
		srv.Close()
		return fmt.Errorf("stopped with requests still running after %v; their entries were not acknowledged, so the PBX sends them again", grace)
	}
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}
