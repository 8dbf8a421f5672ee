package difuse

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/callscope/callscope/client/cdr"
)

// How a time range is found in an API that has no date parameters.
//
// The PBX writes a row when a call ends, and pages rows in the order they were written, so end times grow with
// the page number (up to a little skew: the CDR job writes in batches). Start times are only nearly sorted: a
// long call is written late. So:
//
//   - the first page that can hold a call starting at or after From is the first whose latest end time is at or
//     after From (a call ends after it starts), found by binary search over page numbers;
//   - the last page that can hold a call starting before To is the one before the first page whose earliest end
//     time is past To by more than the longest call (LongestCall; raised to twice the longest call seen in the
//     fetched pages when one comes close to it), found by galloping forward from the first page and bisecting;
//   - those pages are fetched by a small pool of parallel requests, rows are emitted in page order, duplicates
//     (a row shifted across a page boundary between two requests) are dropped, and rows are filtered to
//     exactly [From, To).
//
// The order is checked on every page fetched, the binary search's probes included (they sample the whole
// history); when end times go backwards by more than skew, the search cannot be trusted and the query falls
// back to reading every page, with a warning.

// skew is how far a row's end time may fall behind an earlier row's and still count as in order.
const skew = 5 * time.Minute

// errStop ends a search early without an error (a look-up found its call).
var errStop = errors.New("stop")

// search runs one query's page fetching.
type search struct {
	c       *Client
	pq      pageQuery
	cache   map[int]*page // pages read by the binary search, used again when the range is fetched
	total   int
	longest time.Duration
	maxDur  time.Duration // longest call in any page fetched so far
	seen    map[string]struct{}
	done    map[int]bool // pages already streamed
	res     cdr.Result
	bytes   int64
	onBytes func(int64)
	// order checking over streamed pages, in page order
	lastN   int
	lastMax time.Time
}

func (c *Client) newSearch(q cdr.Query) *search {
	limit := q.Limit
	if limit <= 0 {
		limit = c.limit
	}
	return &search{
		c:       c,
		pq:      pageQuery{limit: limit, ext: q.Extension, warn: c.warner(q)},
		cache:   map[int]*page{},
		longest: c.longest,
		seen:    map[string]struct{}{},
		done:    map[int]bool{},
		onBytes: q.OnProgress,
	}
}

// get fetches page n for the binary search, keeping it for the range fetch.
func (s *search) get(ctx context.Context, n int) (*page, error) {
	if p, ok := s.cache[n]; ok {
		return p, nil
	}
	p, err := s.c.fetchPage(ctx, s.pq, n)
	if err != nil {
		return nil, err
	}
	s.account(p)
	s.cache[n] = p
	return p, nil
}

// account notes what a fetched page tells about the data as a whole.
func (s *search) account(p *page) {
	s.maxDur = max(s.maxDur, p.maxDur)
	s.res.Skipped += p.skipped
	s.bytes += p.bytes
	if s.onBytes != nil {
		s.onBytes(s.bytes)
	}
}

// lastPage is the number of the last page: total_pages from page 1, or, when the PBX does not say, found by
// doubling and then halving over page numbers until the last non-empty page.
func (s *search) lastPage(ctx context.Context) (int, error) {
	p1, err := s.get(ctx, 1)
	if err != nil {
		return 0, err
	}
	if len(p1.rows) == 0 && p1.skipped == 0 {
		return 0, nil
	}
	if p1.total > 0 {
		return p1.total, nil
	}
	lo, hi := 1, 2 // lo is known non-empty
	for {
		p, err := s.get(ctx, hi)
		if err != nil {
			return 0, err
		}
		if empty(p) {
			break
		}
		lo, hi = hi, hi*2
	}
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		p, err := s.get(ctx, mid)
		if err != nil {
			return 0, err
		}
		if empty(p) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return lo, nil
}

func empty(p *page) bool { return len(p.rows) == 0 && p.skipped == 0 }

// firstPage is the smallest page number in [lo, hi] for which pred holds, or hi+1. Pred must be false then
// true along the pages (monotone), which the order check verifies. A page with no readable rows counts as
// past the data.
func (s *search) firstPage(ctx context.Context, lo, hi int, pred func(*page) bool) (int, error) {
	hi++
	for lo < hi {
		mid := lo + (hi-lo)/2
		p, err := s.get(ctx, mid)
		if err != nil {
			return 0, err
		}
		if len(p.rows) == 0 || pred(p) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo, nil
}

// orderError says the rows are not in end-time order, so the search cannot be trusted.
func orderError(n, prev int, by time.Duration) error {
	if prev == 0 || prev == n {
		return fmt.Errorf("rows on page %d are out of time order by %s", n, by.Round(time.Second))
	}
	return fmt.Errorf("page %d holds calls that ended %s before the last one on page %d", n, by.Round(time.Second), prev)
}

// checkSampled checks the pages read so far (the binary search's probes) for end-time order.
func (s *search) checkSampled() error {
	ns := make([]int, 0, len(s.cache))
	for n := range s.cache {
		ns = append(ns, n)
	}
	sortInts(ns)
	var runMax time.Time
	prev := 0
	for _, n := range ns {
		p := s.cache[n]
		if len(p.rows) == 0 {
			continue
		}
		if p.inversion > skew {
			return orderError(n, 0, p.inversion)
		}
		if prev != 0 && runMax.Sub(p.minEnd) > skew {
			return orderError(n, prev, runMax.Sub(p.minEnd))
		}
		runMax, prev = maxTime(runMax, p.maxEnd), n
	}
	return nil
}

// checkStreamed checks one page fetched for the range against the previous one in page order.
func (s *search) checkStreamed(p *page) error {
	if len(p.rows) == 0 {
		return nil
	}
	if p.inversion > skew {
		return orderError(p.n, 0, p.inversion)
	}
	if s.lastN != 0 && p.n == s.lastN+1 && s.lastMax.Sub(p.minEnd) > skew {
		return orderError(p.n, s.lastN, s.lastMax.Sub(p.minEnd))
	}
	s.lastN, s.lastMax = p.n, p.maxEnd
	return nil
}

func sortInts(a []int) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}

// filter decides which rows of a streamed page are passed on.
type filter struct {
	from, to time.Time // wall clocks read as UTC; zero = open
	ext      string    // local extension filter, when the PBX cannot filter
}

func (f filter) keep(r *row) bool {
	if !f.from.IsZero() && r.start.Before(f.from) {
		return false
	}
	if !f.to.IsZero() && !r.start.Before(f.to) {
		return false
	}
	if f.ext != "" && !r.rec.InvolvesExtension(f.ext) {
		return false
	}
	return true
}

// run serves a query over [from, to): search, then stream. emit receives each row once, in page order.
func (s *search) run(ctx context.Context, f filter, emit func(row) error) error {
	n, err := s.lastPage(ctx)
	if err != nil || n == 0 {
		return err
	}
	s.total = n
	s.res.TotalPages = n
	if f.from.IsZero() && f.to.IsZero() {
		return s.streamRange(ctx, 1, n, f, emit, false)
	}
	lo := 1
	if !f.from.IsZero() {
		from := f.from.Add(-skew)
		if lo, err = s.firstPage(ctx, 1, n, func(p *page) bool { return !p.maxEnd.Before(from) }); err != nil {
			return err
		}
	}
	hi, err := s.lastCovering(ctx, lo, f.to)
	if err != nil {
		return err
	}
	if err := s.checkSampled(); err != nil {
		return s.fullScan(ctx, f, emit, err)
	}
	for {
		if err := s.streamRange(ctx, lo, hi, f, emit, true); err != nil {
			var oe *outOfOrder
			if errors.As(err, &oe) {
				return s.fullScan(ctx, f, emit, oe.err)
			}
			return err
		}
		// A call nearly as long as the margin means longer ones may exist: look further, for this query.
		if f.to.IsZero() || hi >= n || s.maxDur+skew <= s.longest {
			return nil
		}
		s.longest = 2 * s.maxDur
		next, err := s.lastCovering(ctx, hi+1, f.to)
		if err != nil {
			return err
		}
		if next <= hi {
			return nil
		}
		lo, hi = hi+1, next
	}
}

// lastCovering is the last page, from lo on, that can hold a call starting before to. It gallops forward from
// lo (lo, lo+1, lo+3, lo+7 …) and then bisects the last step: a range usually ends a few pages after it begins,
// so the probes are pages the range fetch needs anyway (they are kept), where a bisection over all pages would
// cost log2(pages) requests of its own.
func (s *search) lastCovering(ctx context.Context, lo int, to time.Time) (int, error) {
	if to.IsZero() || lo > s.total {
		return s.total, nil
	}
	past := to.Add(s.longest + skew)
	beyond := func(p *page) bool { return !p.minEnd.Before(past) }
	prev, step := lo-1, 1
	for {
		n := min(prev+step, s.total)
		p, err := s.get(ctx, n)
		if err != nil {
			return 0, err
		}
		if len(p.rows) == 0 || beyond(p) {
			q, err := s.firstPage(ctx, prev+1, n-1, beyond)
			return q - 1, err
		}
		if n == s.total {
			return s.total, nil
		}
		prev, step = n, step*2
	}
}

// outOfOrder carries an order violation found while streaming.
type outOfOrder struct{ err error }

func (e *outOfOrder) Error() string { return e.err.Error() }

// fullScan reads every page not read yet, after telling the user why.
func (s *search) fullScan(ctx context.Context, f filter, emit func(row) error, why error) error {
	s.pq.warn(fmt.Errorf("%v, so the pages cannot be searched by time: reading all %d pages instead", why, s.total))
	return s.streamRange(ctx, 1, s.total, f, emit, false)
}

// streamRange fetches pages lo..hi (skipping pages already streamed) with at most Parallel requests in flight
// and Parallel pages waiting, and emits their rows in page order.
func (s *search) streamRange(ctx context.Context, lo, hi int, f filter, emit func(row) error, check bool) error {
	var pages []int
	for n := lo; n <= hi; n++ {
		if !s.done[n] {
			pages = append(pages, n)
		}
	}
	if len(pages) == 0 {
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		p   *page
		err error
	}
	results := make([]chan result, len(pages))
	for i := range results {
		results[i] = make(chan result, 1)
	}
	// A token is taken before a request starts and given back when its page has been emitted, so memory holds
	// at most Parallel pages however slow the consumer is.
	tokens := make(chan struct{}, s.c.parallel)
	have := make([]*page, len(pages)) // read by the feeder goroutine, so not the cache map itself
	for i, n := range pages {
		have[i] = s.cache[n]
	}
	go func() {
		for i, n := range pages {
			if have[i] != nil {
				results[i] <- result{p: have[i]}
				continue
			}
			select {
			case tokens <- struct{}{}:
			case <-ctx.Done():
				return
			}
			go func() {
				p, err := s.c.fetchPage(ctx, s.pq, n)
				results[i] <- result{p, err}
			}()
		}
	}()
	for i, n := range pages {
		if err := ctx.Err(); err != nil {
			return err
		}
		var r result
		select {
		case r = <-results[i]:
		case <-ctx.Done():
			return ctx.Err()
		}
		if r.err != nil {
			return r.err
		}
		if have[i] != nil {
			delete(s.cache, n)
		} else {
			s.account(r.p)
			<-tokens
		}
		s.done[n] = true
		if check {
			if err := s.checkStreamed(r.p); err != nil {
				return &outOfOrder{err}
			}
		}
		for j := range r.p.rows {
			rw := &r.p.rows[j]
			if !f.keep(rw) {
				continue
			}
			if _, dup := s.seen[rw.key]; dup {
				continue
			}
			s.seen[rw.key] = struct{}{}
			if err := emit(*rw); err != nil {
				return err
			}
		}
	}
	return nil
}

// Calls lists calls: one page when q.Page > 0, else the calls starting in [q.From, q.To) (either end open),
// found as described at the top of this file. Rows come in page order, with Start placed in the PBX's zone.
func (c *Client) Calls(ctx context.Context, q cdr.Query, fn func(cdr.Record) error) (cdr.Result, error) {
	s := c.newSearch(q)
	f := filter{from: wallOrZero(q.From), to: wallOrZero(q.To)}
	if c.cfg.KeyParam {
		f.ext = q.Extension // key= mode sends extension= as the key's owner, so the filter is ours
	}
	rows := 0
	placer := c.zone.NewPlacer(func(r cdr.Record) error {
		rows++
		return fn(r)
	})
	emit := func(r row) error { return placer.Push(r.rec) }
	var err error
	if q.Page > 0 {
		err = s.onePage(ctx, q.Page, f, emit)
	} else {
		err = s.run(ctx, f, emit)
	}
	if err == nil {
		err = placer.Flush()
	}
	s.res.Rows = rows
	return s.res, err
}

// onePage serves a paged query.
func (s *search) onePage(ctx context.Context, n int, f filter, emit func(row) error) error {
	p, err := s.get(ctx, n)
	if err != nil {
		return err
	}
	s.res.Page, s.res.TotalPages = n, p.total
	for i := range p.rows {
		if f.keep(&p.rows[i]) {
			if err := emit(p.rows[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

func wallOrZero(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return cdr.WallClock(t)
}
