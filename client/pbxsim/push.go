package pbxsim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultPushEvery is how often Difuse's "CDR Log To API" job runs.
const DefaultPushEvery = 60 * time.Second

// PushOptions switch on the PBX side of Difuse's "CDR Log To API": every Every, the calls that ended since the
// last successful push are sent to URL as a JSON array of rows shaped like the pull API's, with the configured
// credentials. A push that fails is sent again, with whatever ended since, on the next run.
type PushOptions struct {
	URL      string
	Every    time.Duration // DefaultPushEvery when zero
	Method   string        // POST (the default) or PUT
	APIKey   string        // sent as x-api-key
	Bearer   string        // sent as Authorization: Bearer
	User     string        // HTTP Basic, with Password
	Password string
	// Since: the first push sends the calls that ended after this moment. Zero: after the job started.
	Since time.Time
	// Now is the PBX's clock, deciding which calls have ended; the simulator's clock (Sim.Now) when nil.
	Now    func() time.Time
	Client *http.Client // http.DefaultClient's settings with a 30 s timeout when nil
}

// pusher is the push job's state.
type pusher struct {
	mu   sync.Mutex // one push at a time
	o    PushOptions
	base string // the simulator's base URL, for recording_url
	last int64  // wall clock (seconds) of the end of the last call pushed
}

// PushResult says what one push sent.
type PushResult struct {
	Sent    int
	Through time.Time // the wall clock up to which ended calls have been pushed (read as UTC)
}

func (s *Sim) newPusher(o PushOptions, base string) *pusher {
	if o.Every <= 0 {
		o.Every = DefaultPushEvery
	}
	if o.Method == "" {
		o.Method = http.MethodPost
	}
	if o.Now == nil {
		o.Now = s.Now
	}
	if o.Client == nil {
		// Redirects are not followed: the push carries its credentials (x-api-key goes along to any host), and
		// a receiver that moved is a configuration to fix, not a place to send them blindly.
		o.Client = &http.Client{Timeout: 30 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	since := o.Since
	if since.IsZero() {
		since = o.Now()
	}
	return &pusher{o: o, base: base, last: wallOf(since.In(s.o.Zone))}
}

// Push runs the push job once now: it sends the calls that ended since the last successful push. It needs
// Options.Push.URL (Start starts the periodic job then; Push may be called besides).
func (s *Sim) Push(ctx context.Context) (PushResult, error) {
	if s.push == nil {
		return PushResult{}, fmt.Errorf("pbxsim: no push URL configured")
	}
	return s.push.run(ctx, s)
}

func (p *pusher) run(ctx context.Context, s *Sim) (PushResult, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := wallOf(p.o.Now().In(s.o.Zone))
	res := PushResult{Through: time.Unix(p.last, 0).UTC()}
	if now <= p.last {
		return res, nil
	}
	rows := s.endedBetween(p.last, now, p.base)
	if len(rows) > 0 {
		body, _ := json.Marshal(rows)
		for try := 1; ; try++ {
			wait, err := p.send(ctx, body, len(rows))
			if err == nil {
				break
			}
			// A receiver that asks to be tried again soon (503 or 429 with Retry-After) is, within this run and
			// a few times; one that asks for longer than the time to the next run gets the calls then.
			if wait < 0 || wait > p.o.Every || try == maxPushTries {
				return res, err
			}
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return res, fmt.Errorf("pbxsim push of %d calls: %w", len(rows), ctx.Err())
			}
		}
	}
	p.last = now
	res.Sent, res.Through = len(rows), time.Unix(now, 0).UTC()
	return res, nil
}

// shownURL is the push URL for the log, without the password it may carry (user:pass@).
func shownURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "the push URL"
	}
	return u.Redacted()
}

// maxPushTries bounds how often one push is sent within a run.
const maxPushTries = 5

// send sends one push. When the receiver answers 503 or 429 with a Retry-After, wait is how long it asked for;
// otherwise it is -1.
func (p *pusher) send(ctx context.Context, body []byte, n int) (wait time.Duration, err error) {
	req, err := http.NewRequestWithContext(ctx, p.o.Method, p.o.URL, bytes.NewReader(body))
	if err != nil {
		return -1, fmt.Errorf("pbxsim push: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if p.o.APIKey != "" {
		req.Header.Set("x-api-key", p.o.APIKey)
	}
	if p.o.Bearer != "" {
		req.Header.Set("Authorization", "Bearer "+p.o.Bearer)
	}
	if p.o.User != "" {
		req.SetBasicAuth(p.o.User, p.o.Password)
	}
	resp, err := p.o.Client.Do(req)
	if err != nil {
		return -1, fmt.Errorf("pbxsim push of %d calls: %w", n, err)
	}
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	_ = resp.Body.Close()
	if resp.StatusCode/100 == 2 {
		return 0, nil
	}
	wait = -1
	if resp.StatusCode == http.StatusServiceUnavailable || resp.StatusCode == http.StatusTooManyRequests {
		if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
			wait = d
		}
	}
	return wait, fmt.Errorf("pbxsim push of %d calls: HTTP %d: %s", n, resp.StatusCode, strings.TrimSpace(string(msg)))
}

// parseRetryAfter reads a Retry-After header: delay seconds or an HTTP date (RFC 9110 10.2.3). A date in the past
// means now.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseUint(v, 10, 32); err == nil {
		return time.Duration(secs) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}

// endedBetween is the rows of the calls that ended in (lo, hi] (wall clocks), in the order Difuse writes them.
// A call ends on the day it started (the generator ends calls before midnight), so the days from lo's to hi's
// are all that need looking at.
func (s *Sim) endedBetween(lo, hi int64, base string) []difuseRow {
	var rows []difuseRow
	n := len(s.prefix) - 1
	d0 := max(0, int(civilDay(lo)-s.first))
	d1 := min(n-1, int(civilDay(hi)-s.first))
	for d := d0; d <= d1; d++ {
		if s.data.count(d) == 0 {
			continue
		}
		calls := s.data.day(d, nil)
		for pos, i := range byEnd(calls) {
			c := &calls[i]
			if c.end > lo && c.end <= hi {
				rows = append(rows, s.difuseRow(c, s.prefix[d]+pos+1, base))
			}
		}
	}
	return rows
}

// runPushes pushes every Every until the simulator stops, logging failures; the next run retries them.
func (s *Sim) runPushes() {
	t := time.NewTicker(s.push.o.Every)
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			select {
			case <-s.done:
				cancel()
			case <-ctx.Done():
			}
		}()
		res, err := s.push.run(ctx, s)
		cancel()
		if s.o.Log == nil {
			continue
		}
		if err != nil {
			fmt.Fprintf(s.o.Log, "%v; retrying in %v\n", err, s.push.o.Every)
		} else if res.Sent > 0 {
			fmt.Fprintf(s.o.Log, "pbxsim pushed %d calls to %s\n", res.Sent, shownURL(s.push.o.URL))
		}
	}
}
