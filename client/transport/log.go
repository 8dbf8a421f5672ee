package transport

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// Request logging: a command that is asked for a debug log puts its logger in the context it passes down
// (WithLog), and every request made with that context is logged as one line, "GET URL 200 12.3 kB 45ms",
// with the URL's credentials and key= redacted. Code that decides something worth knowing (a search
// strategy, a retry) logs it to Log(ctx) the same way.

type logKey struct{}

// WithLog returns ctx carrying l: requests made with the context are logged to l.
func WithLog(ctx context.Context, l *slog.Logger) context.Context {
	return context.WithValue(ctx, logKey{}, l)
}

// Log returns the logger ctx carries, or one that discards everything.
func Log(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(logKey{}).(*slog.Logger); ok && l != nil {
		return l
	}
	return discard
}

var discard = slog.New(slog.DiscardHandler)

// loggingTransport logs each round trip whose context carries a logger, once its body is read or closed.
type loggingTransport struct {
	next  http.RoundTripper
	scrub func(string) string
}

func (t loggingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	l, ok := req.Context().Value(logKey{}).(*slog.Logger)
	if !ok || l == nil {
		return t.next.RoundTrip(req)
	}
	start := time.Now()
	url := t.scrub(Redact(req.URL.String()))
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		l.Info(fmt.Sprintf("%s %s failed after %s: %s", req.Method, url, since(start), t.scrub(rootMessage(err))),
			"method", req.Method, "url", url, "error", t.scrub(rootMessage(err)))
		return nil, err
	}
	resp.Body = &loggedBody{ReadCloser: resp.Body, done: func(n int64, err error) {
		msg := fmt.Sprintf("%s %s %d %s %s", req.Method, url, resp.StatusCode, sizeText(n), since(start))
		attrs := []any{"method", req.Method, "url", url, "status", resp.StatusCode, "bytes", n,
			"ms", time.Since(start).Milliseconds()}
		if err != nil {
			msg += " (cut off: " + t.scrub(rootMessage(err)) + ")"
			attrs = append(attrs, "error", t.scrub(rootMessage(err)))
		}
		l.Info(msg, attrs...)
	}}
	return resp, nil
}

// loggedBody counts a body's bytes and reports once, at its end or when it is closed.
type loggedBody struct {
	io.ReadCloser
	n    int64
	once sync.Once
	done func(n int64, err error)
}

func (b *loggedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n += int64(n)
	if err == io.EOF {
		b.once.Do(func() { b.done(b.n, nil) })
	} else if err != nil {
		b.once.Do(func() { b.done(b.n, err) })
	}
	return n, err
}

func (b *loggedBody) Close() error {
	b.once.Do(func() { b.done(b.n, nil) })
	return b.ReadCloser.Close()
}

func since(t time.Time) time.Duration {
	d := time.Since(t)
	if d >= time.Second {
		return d.Round(10 * time.Millisecond)
	}
	return d.Round(100 * time.Microsecond)
}

// sizeText is a byte count for people: 812 B, 12.3 kB, 4.1 MB.
func sizeText(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f kB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
