package transport

import (
	"context"
	"net/http"
	"sync"
	"time"
)

// A PBX's clock can be far from this computer's (no NTP, a wrong zone), and a sync must follow the PBX's. Each
// answer's Date header is the PBX's clock at the moment it answered; a caller that wants every one asks for it
// per request through the context, so neither PBX client needs to know. The client also keeps the latest, so
// whoever asks later ("what is today on the PBX?") gets the PBX's clock without a request of its own.

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

// pbxClock is the Date of the configured PBX's latest answer and this computer's clock when it came.
type pbxClock struct {
	mu   sync.Mutex
	date time.Time
	at   time.Time // with its monotonic reading, so a jump of this computer's wall clock changes nothing
}

func (k *pbxClock) note(h http.Header) {
	d, err := http.ParseTime(h.Get("Date"))
	if err != nil {
		return
	}
	now := time.Now()
	k.mu.Lock()
	k.date, k.at = d, now
	k.mu.Unlock()
}

// PBXClock is the PBX's clock now: the Date header of its latest answer (any status) advanced by the time
// elapsed since, read as UTC. ok is false until an answer from the configured PBX carried a readable Date;
// answers from anywhere else (a recording on another host) do not count. It judges nothing: a PBX whose clock
// is years off is believed, since its calls carry that clock.
func (c *Client) PBXClock() (now time.Time, ok bool) {
	c.clock.mu.Lock()
	defer c.clock.mu.Unlock()
	if c.clock.date.IsZero() {
		return time.Time{}, false
	}
	return c.clock.date.Add(time.Since(c.clock.at)), true
}
