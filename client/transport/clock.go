package transport

import (
	"context"
	"net/http"
	"time"
)

// A PBX's clock can be far from this computer's (no NTP, a wrong zone), and a sync must follow the PBX's. Each
// answer's Date header is the PBX's clock at the moment it answered; a caller that wants it asks for it per
// request through the context, so neither PBX client needs to know.

type dateObserverKey struct{}

// WithDateObserver returns a context whose requests report the Date header of every answer they get (any
// status) to fn, read as http.ParseTime reads it. An answer without a readable Date reports nothing; what
// counts as a believable clock is the caller's to judge. fn may be called from several goroutines at once.
func WithDateObserver(ctx context.Context, fn func(date time.Time)) context.Context {
	return context.WithValue(ctx, dateObserverKey{}, fn)
}

// observeDate passes an answer's Date header to the context's observer, if there is one.
func observeDate(ctx context.Context, h http.Header) {
	fn, _ := ctx.Value(dateObserverKey{}).(func(time.Time))
	if fn == nil {
		return
	}
	if d, err := http.ParseTime(h.Get("Date")); err == nil {
		fn(d)
	}
}
