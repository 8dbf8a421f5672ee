// Package difuse is the client for a Difuse PBX's CDR API (`/pbx/cdr/data`). The API only pages rows in the
// order they were written, with no date parameters, so time ranges and single-call look-ups are served by a
// binary search over page numbers (see search.go).
package difuse

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/transport"
)

// DataPath is the API's endpoint below the PBX's base URL.
const DataPath = "/pbx/cdr/data"

// Defaults for Config.
const (
	DefaultParallel    = 4
	DefaultLimit       = 100
	DefaultLongestCall = 4 * time.Hour
	// MaxLimit is the largest page callscope asks for: each page held while pages are fetched in parallel
	// stays a few megabytes.
	MaxLimit = 10_000
)

// Config sets up a Client.
type Config struct {
	// Endpoint is the PBX: its base URL or the full /pbx/cdr/data URL; User is the extension with CDR access
	// and Password its secret as the user typed it.
	Endpoint transport.Endpoint
	Hashed   bool // Password is already the hex SHA-256 of the secret
	// KeyParam sends the hashed secret as `key=` in the query string instead of HTTP Basic. The vendor
	// discourages it (URLs end up in logs); New warns once, and the key is scrubbed from every error.
	KeyParam bool
	Zone     *time.Location // nil: inferred from `timestamp` against `date`
	Timeout  time.Duration  // idle limit per request; transport.DefaultTimeout when zero
	CAFile   string
	Insecure bool
	Parallel int // pages fetched at once in a range; DefaultParallel when zero
	Limit    int // page size; DefaultLimit when zero
	// LongestCall is how far past the end of a range the search keeps looking for calls that started inside it
	// but ended (and so were written) later. A longer call seen in the data raises it for that query.
	LongestCall time.Duration
	Warn        func(string) // warnings for people (the key= warning, a fall back to a full scan); may be nil
	// MaxRecordingBytes bounds one recording, since Difuse gives no recording sizes to judge one by;
	// transport.MaxRecordingBytes when zero.
	MaxRecordingBytes int64
}

// Client talks to one Difuse PBX. It is safe for concurrent use.
type Client struct {
	cfg      Config
	hc       *transport.Client
	data     *url.URL // .../pbx/cdr/data, no query
	user     string
	key      cdr.Secret // hex SHA-256 of the secret
	zone     *cdr.Zone
	parallel int
	limit    int
	longest  time.Duration
	maxRec   int64
	warn     func(string)
}

var (
	_ cdr.Source = (*Client)(nil)
	_ cdr.Clock  = (*Client)(nil)
)

// New builds a Client. It sends nothing until asked.
func New(cfg Config) (*Client, error) {
	ep := cfg.Endpoint
	if ep.URL == nil {
		return nil, transport.ErrNoURL
	}
	if ep.User == "" {
		return nil, ErrNoExtension
	}
	if !ep.Password.IsSet() {
		return nil, &NoSecretError{Extension: ep.User}
	}
	if cfg.Limit > MaxLimit {
		return nil, &LimitError{Limit: cfg.Limit, Max: MaxLimit}
	}
	var key string
	if cfg.Hashed {
		key = strings.ToLower(strings.TrimSpace(ep.Password.Reveal()))
		if b, err := hex.DecodeString(key); err != nil || len(b) != sha256.Size {
			return nil, errors.New("the hashed secret must be 64 hex digits (the SHA-256 of the extension's secret)")
		}
	} else {
		sum := sha256.Sum256([]byte(ep.Password.Reveal()))
		key = hex.EncodeToString(sum[:])
	}
	hc, err := transport.New(transport.Config{Timeout: cfg.Timeout, CAFile: cfg.CAFile, Insecure: cfg.Insecure,
		Secrets: []cdr.Secret{cdr.Secret(key), ep.Password}, Origin: ep.URL})
	if err != nil {
		return nil, err
	}
	c := &Client{
		cfg:      cfg,
		hc:       hc,
		data:     transport.WithPath(ep.URL, DataPath),
		user:     ep.User,
		key:      cdr.Secret(key),
		zone:     cdr.NewZone(cfg.Zone),
		parallel: cfg.Parallel,
		limit:    cfg.Limit,
		longest:  cfg.LongestCall,
		maxRec:   cfg.MaxRecordingBytes,
		warn:     cfg.Warn,
	}
	if c.maxRec <= 0 {
		c.maxRec = transport.MaxRecordingBytes
	}
	if c.parallel <= 0 {
		c.parallel = DefaultParallel
	}
	if c.limit <= 0 {
		c.limit = DefaultLimit
	}
	if c.longest <= 0 {
		c.longest = DefaultLongestCall
	}
	if c.warn == nil {
		c.warn = func(string) {}
	}
	if cfg.KeyParam {
		// Insecure is warned about by the caller, which knows where the setting came from; this warning is
		// ours because only this package knows what key= means.
		c.warn("sending the Difuse key in the URL (key=) as asked: the vendor advises against it because URLs end up in server and proxy logs; HTTP Basic is used otherwise")
	}
	return c, nil
}

// Describe names the PBX without credentials.
func (c *Client) Describe() string {
	u := *c.data
	u.Path = strings.TrimSuffix(u.Path, DataPath)
	return "difuse " + transport.Redact(u.String())
}

// Capabilities of a Difuse PBX: pages natively; time ranges and look-ups by the client's search.
func (c *Client) Capabilities() cdr.Capabilities {
	return cdr.Capabilities{Kind: cdr.KindDifuse, TimeRange: true, Pages: true, ServerExtension: !c.cfg.KeyParam,
		LookupByStart: true}
}

// Zone says how wall-clock times are placed.
func (c *Client) Zone() cdr.ZoneInfo { return c.zone.Info() }

// PBXClock is the PBX's clock by the Date header of its latest answer (cdr.Clock).
func (c *Client) PBXClock() (time.Time, bool) { return c.hc.PBXClock() }

// ErrNoUserList is returned by Users: the Difuse CDR API has no endpoint that lists extensions, and making one
// up from the extensions seen in calls would silently miss every extension that made no call.
// It matches errors.ErrUnsupported without saying so a second time in its text.
var ErrNoUserList error = noUserList{}

type noUserList struct{}

func (noUserList) Error() string {
	return "the Difuse CDR API offers no list of users; extensions show in the calls"
}

func (noUserList) Is(target error) bool { return target == errors.ErrUnsupported }

// Users reports ErrNoUserList.
func (c *Client) Users(context.Context) ([]cdr.User, error) { return nil, ErrNoUserList }

// request builds the GET for u, with the credentials: HTTP Basic with the hashed secret, or key= with
// extension= in the query when KeyParam is set. The transport sends them only to the configured PBX.
func (c *Client) request(u *url.URL) transport.Request {
	if c.cfg.KeyParam {
		cq := url.Values{"key": {c.key.Reveal()}}
		if !u.Query().Has("extension") {
			cq.Set("extension", c.user)
		}
		return transport.Request{URL: u, CredentialQuery: cq, Accept: "application/json"}
	}
	return transport.Request{URL: u, User: c.user, Password: c.key, Accept: "application/json"}
}

// page is one fetched page, summarised for the search.
type page struct {
	n       int
	total   int // total_pages as the PBX reported it
	rows    []row
	skipped int
	bytes   int64
	// sig identifies the page's rows (their keys, in order), so a page that repeats another is recognised.
	sig uint64
	// Bounds of the rows' wall-clock times; valid only when len(rows) > 0.
	minEnd, maxEnd     time.Time
	minStart, maxStart time.Time
	maxDur             time.Duration
	// invEnd and invStart are the largest amounts by which a row's end (start) time fell behind an earlier
	// row's on this page.
	invEnd, invStart time.Duration
}

// add appends a row, keeping the page's bounds.
func (p *page) add(r row) {
	if len(p.rows) == 0 {
		p.minEnd, p.maxEnd, p.minStart, p.maxStart = r.end, r.end, r.start, r.start
	} else {
		p.invEnd = max(p.invEnd, p.maxEnd.Sub(r.end))
		p.invStart = max(p.invStart, p.maxStart.Sub(r.start))
		p.minEnd, p.maxEnd = minTime(p.minEnd, r.end), maxTime(p.maxEnd, r.end)
		p.minStart, p.maxStart = minTime(p.minStart, r.start), maxTime(p.maxStart, r.start)
	}
	p.maxDur = max(p.maxDur, r.dur())
	p.rows = append(p.rows, r)
}

// pageQuery holds what every page request of one query shares.
type pageQuery struct {
	limit int
	ext   string // sent as extension= (Basic auth only)
	warn  func(error)
}

// maxTries is how often a page is asked for when the PBX fails, times out or cuts an answer off.
const maxTries = 3

// fetchPage gets page n, retrying transient failures. Malformed rows are reported to pq.warn and skipped.
func (c *Client) fetchPage(ctx context.Context, pq pageQuery, n int) (*page, error) {
	var err error
	for try := 1; try <= maxTries; try++ {
		var p *page
		p, err = c.getPage(ctx, pq, n)
		if err == nil {
			return p, nil
		}
		if ctx.Err() != nil || !retryable(err) || try == maxTries {
			break
		}
		pq.warn(fmt.Errorf("page %d: %v; asking again", n, err))
		select {
		case <-time.After(time.Duration(try*try) * 100 * time.Millisecond):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return nil, err
}

// retryable: a 5xx, a timeout or a connection cut mid-answer may go away; a wrong password, a PBX that is not
// there, an untrusted certificate or an answer that is not CDR data will not.
func retryable(err error) bool {
	if st := transport.StatusOf(err); st != 0 {
		return st >= 500 || st == 429
	}
	var ne *notJSONError
	switch {
	case errors.Is(err, transport.ErrTimeout), errors.Is(err, errCutOff):
		return true
	case errors.Is(err, transport.ErrUnreachable), errors.As(err, &ne), errors.Is(err, context.Canceled),
		errors.Is(err, transport.ErrRedirectRefused), errors.Is(err, transport.ErrTooLarge),
		errors.Is(err, transport.ErrUntrustedCert), strings.Contains(err.Error(), "bad PBX URL"):
		return false
	}
	return true // the transport's "connection closed before the answer was complete" and the like
}

var errCutOff = errors.New("cut off")

// notJSONError is an answer that is not the CDR JSON at all (a login page, a proxy's error page).
type notJSONError struct{ msg string }

func (e *notJSONError) Error() string { return e.msg }

// Limits on one page's answer. A real row is about 500 bytes; a page may be far larger than asked for only when
// the PBX is broken or hostile, and then it must not be read into memory whole.
const (
	rowBytes       = 8 << 10  // the most one row of a page may take, on average
	minPageBytes   = 4 << 20  // the least a page may take, whatever the limit
	maxPageBytes   = 16 << 20 // the most a page may take, whatever the limit (real rows take 1 KiB at most)
	minPageRows    = 5000     // rows a page may hold past what was asked for (a PBX with its own page size)
	maxRowWarnings = 5        // malformed rows reported one by one per page; the rest are counted
	ctxCheckRows   = 256      // rows read between looks at the context
)

// pageLimits are the most bytes and rows an answer for a page of limit rows may have.
func pageLimits(limit int) (bytes int64, rows int) {
	return min(max(int64(limit)*rowBytes, minPageBytes), maxPageBytes), max(limit, minPageRows)
}

func (c *Client) getPage(ctx context.Context, pq pageQuery, n int) (*page, error) {
	u := *c.data
	v := url.Values{}
	v.Set("page", strconv.Itoa(n))
	v.Set("limit", strconv.Itoa(pq.limit))
	if pq.ext != "" && !c.cfg.KeyParam {
		v.Set("extension", pq.ext)
	}
	u.RawQuery = v.Encode()
	resp, err := c.hc.Get(ctx, c.request(&u))
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	maxBytes, maxRows := pageLimits(pq.limit)
	host := c.data.Host
	cr := &countingReader{r: &transport.CapReader{R: resp.Body, Max: maxBytes, Err: fmt.Errorf(
		"pbx %s: the answer to page %d is larger than %d MiB, far more than %d calls take: stopped reading it; is this a Difuse PBX? (%w)",
		host, n, maxBytes>>20, pq.limit, transport.ErrTooLarge)}}
	p := &page{n: n}
	sig := fnv.New64a()
	read := 0
	meta, err := decodePage(cr, func(w *rowJSON, rerr error) error {
		read++
		if read > maxRows {
			return &PageTooLongError{Host: host, Page: n, Max: maxRows, Asked: pq.limit}
		}
		if read%ctxCheckRows == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		var r row
		if rerr == nil {
			r, rerr = w.toRow()
		}
		if rerr != nil {
			p.skipped++
			sig.Write([]byte("bad:"))
			if w != nil {
				sig.Write([]byte(string(w.DBID) + "\x00" + string(w.CallID) + "\x00" + string(w.StartTime)))
			}
			if p.skipped <= maxRowWarnings {
				pq.warn(&RowError{Page: n, Row: read, Err: rerr})
			}
			return nil
		}
		sig.Write([]byte(r.key))
		sig.Write([]byte{0})
		p.add(r)
		return nil
	})
	p.bytes = cr.n
	if err != nil {
		return nil, c.decodeError(ctx, n, cr.n, err)
	}
	if more := p.skipped - maxRowWarnings; more > 0 {
		pq.warn(fmt.Errorf("page %d: %d more malformed rows skipped", n, more))
	}
	p.total = int(meta.TotalPages)
	p.sig = sig.Sum64()
	return p, nil
}

func (c *Client) decodeError(ctx context.Context, n int, got int64, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	host := c.data.Host
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	var sh *shapeError
	switch {
	case errors.Is(err, transport.ErrTooLarge):
		return err // already one line, naming the page
	case errors.As(err, &sh):
		return &notJSONError{fmt.Sprintf("pbx %s: the answer to page %d is not Difuse CDR data (%v): is the URL right?", host, n, sh)}
	case errors.Is(err, io.ErrUnexpectedEOF) || (errors.Is(err, io.EOF) && got > 0):
		return fmt.Errorf("pbx %s: the answer to page %d was cut off after %d bytes (%w)", host, n, got, errCutOff)
	case errors.Is(err, io.EOF):
		return &notJSONError{fmt.Sprintf("pbx %s: empty answer to page %d: is this a Difuse PBX (/pbx/cdr/data)?", host, n)}
	case errors.As(err, &se), errors.As(err, &te):
		// The decoder's message names a character or a field, never the body's content, so it holds no secret.
		return &notJSONError{fmt.Sprintf("pbx %s: the answer to page %d is not Difuse CDR data (%v): is the URL right?", host, n, err)}
	}
	return err // a read error: already one line, scrubbed, from transport
}

// RowError is a malformed row, reported and skipped.
type RowError struct {
	Page, Row int
	Err       error
}

func (e *RowError) Error() string {
	return fmt.Sprintf("page %d row %d: %v (skipped)", e.Page, e.Row, e.Err)
}
func (e *RowError) Unwrap() error { return e.Err }

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// warner turns a query's Observer (or, without a warning one, the client's Warn) into one function, safe for
// the fetch pool's goroutines.
func (c *Client) warner(obs cdr.Observer) func(error) {
	var mu sync.Mutex
	return func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if obs.OnWarn != nil {
			obs.OnWarn(err)
			return
		}
		c.warn(err.Error())
	}
}
