package difuse

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/transport"
)

// How a time range is found in an API that has no date parameters.
//
// The PBX pages rows in the order it wrote them. Asterisk writes a CDR when the call hangs up, so end times
// grow with the page number (up to a little skew: the CDR job writes in batches) and start times are only
// nearly sorted (a long call is written late). An imported history, and some real systems, page by start
// time instead, and then end times are the ones out of order. The search runs on whichever of the two keys is
// ordered:
//
//   - the key is told from the pages read: page 1's rows alone usually show it (rows in end order have start
//     times out of order by as much as their longer calls last, and the other way round), and every page read
//     after, the binary search's probes included (they sample the whole history), is checked for both keys;
//   - the first page that can hold a call starting at or after From is the first whose latest key time is at or
//     after From (a call ends after it starts), found by binary search over page numbers;
//   - the last page that can hold a call starting before To is the one before the first page whose earliest
//     key time is past To: by start time, past To by the skew; by end time, past To by more than the longest
//     call as well (LongestCall; raised to twice the longest call seen in the fetched pages when one comes
//     close to it). It is found by galloping forward from the first page and bisecting;
//   - those pages are fetched by a small pool of parallel requests, scheduled as they are read so memory does
//     not depend on the number of pages, rows are emitted in page order, duplicates (a row shifted across a
//     page boundary between two requests) are dropped, and rows are filtered to exactly [From, To).
//
// When the key searched on turns out to be out of order by more than the skew, the search moves to the other
// key if that one is still in order, and otherwise falls back to reading every page, with a warning.
//
// Paging always ends. The last page is total_pages from page 1, or, when the PBX does not say (or says
// something no PBX holds), found by doubling the page number until a page is empty or repeats the one before it
// (a PBX that answers every page past its last with the last one) and bisecting. Page numbers stop at maxPage,
// where a PBX that still sends new rows is reported as one whose paging never ends. While pages are read in
// order, an empty page or one that repeats the page before it ends the reading. Every loop looks at the
// context, so a cancel ends a search within one request's time.

// skew is how far a row's time may fall behind an earlier row's and still count as in order.
const skew = 5 * time.Minute

// maxPage bounds page numbers. 16,777,216 pages is far more than any PBX holds at any page size (the spec's
// example PBX has 15,905 rows), so a PBX still sending new rows past it is taken to never end; it also keeps
// every page number's arithmetic far from overflowing.
const maxPage = 1 << 24

// errStop ends a search early without an error (a look-up found its call).
var errStop = errors.New("stop")

// orderKey is the time a PBX's pages may be ordered by.
type orderKey int

const (
	byEnd orderKey = iota
	byStart
)

func (k orderKey) other() orderKey { return 1 - k }

func (k orderKey) String() string {
	if k == byStart {
		return "start"
	}
	return "end"
}

// verb says what the key's time is, for messages.
func (k orderKey) verb() string {
	if k == byStart {
		return "started"
	}
	return "ended"
}

// lo, hi and inv are a page's earliest and latest time and its own inversion by key k.
func (p *page) lo(k orderKey) time.Time {
	if k == byStart {
		return p.minStart
	}
	return p.minEnd
}

func (p *page) hi(k orderKey) time.Time {
	if k == byStart {
		return p.maxStart
	}
	return p.maxEnd
}

func (p *page) inv(k orderKey) time.Duration {
	if k == byStart {
		return p.invStart
	}
	return p.invEnd
}

// pageSpan is a run of pages, first to last.
type pageSpan struct{ first, last int }

// search runs one query's page fetching.
type search struct {
	c       *Client
	pq      pageQuery
	cache   map[int]*page // pages read by the searches (probes), used again when the range is fetched
	total   int           // the last page
	said    int           // total_pages as the PBX said it, when that was believed; 0 otherwise
	end     int           // the first page found past the data while streaming; 0 while none was
	longest time.Duration
	maxDur  time.Duration // longest call in any page fetched so far
	seen    map[string]struct{}
	done    []pageSpan // pages already streamed
	res     cdr.Result
	bytes   int64
	onBytes func(int64)
	key     orderKey // the key the range search runs on
	// disorder is, per key, the first sign that the pages are not in that key's order (nil: none yet).
	disorder [2]error
	// The page streamed last, for the order check across pages and to recognise a page that repeats it.
	lastN   int
	lastSig uint64
	lastMax [2]time.Time // its latest times by key; zero when it had no rows
}

func (c *Client) newSearch(q cdr.Query, obs cdr.Observer) *search {
	limit := q.Limit
	if limit <= 0 {
		limit = c.limit
	}
	return &search{
		c:       c,
		pq:      pageQuery{limit: limit, ext: q.Extension, warn: c.warner(obs)},
		cache:   map[int]*page{},
		longest: c.longest,
		seen:    map[string]struct{}{},
		onBytes: obs.OnProgress,
	}
}

func (s *search) host() string { return s.c.data.Host }

// get fetches page n for a search, keeping it for the range fetch.
func (s *search) get(ctx context.Context, n int) (*page, error) {
	if err := ctx.Err(); err != nil { // a loop over cached pages sends no request that would notice
		return nil, err
	}
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
	if len(p.rows) == 0 {
		return
	}
	for _, k := range []orderKey{byEnd, byStart} {
		if by := p.inv(k); by > skew && s.disorder[k] == nil {
			s.disorder[k] = orderError(k, p.n, 0, by)
		}
	}
}

func empty(p *page) bool { return len(p.rows) == 0 && p.skipped == 0 }

// lastPage is the number of the last page: total_pages from page 1 when it is believable, else found by
// findLast.
func (s *search) lastPage(ctx context.Context) (int, error) {
	p1, err := s.get(ctx, 1)
	if err != nil {
		return 0, err
	}
	if empty(p1) {
		return 0, nil
	}
	switch t := p1.total; {
	case t > 0 && t <= maxPage:
		s.said = t
		return t, nil
	case t > maxPage:
		s.pq.warn(fmt.Errorf("pbx %s says it has %d pages of %d calls, which no PBX holds: looking for its last page instead",
			s.host(), t, s.pq.limit))
	}
	last, err := s.findLast(ctx)
	// Probes past the last page hold nothing the search may use (they repeat the last page, or are empty).
	for n := range s.cache {
		if n > last {
			delete(s.cache, n)
		}
	}
	return last, err
}

// findLast finds the last page of a PBX that does not say how many it has: it doubles the page number until a
// page is empty or repeats the page probed before it, then bisects. A PBX that answers pages past its last
// with the last one again repeats from its last page on, so the last page is the first of the repeats.
func (s *search) findLast(ctx context.Context) (int, error) {
	prev, lo, hi := 0, 1, 2 // lo holds new rows; prev is the probe before it (0: none)
	for {
		if hi > maxPage {
			return 0, &EndlessPagingError{Host: s.host(), Page: lo}
		}
		p, err := s.get(ctx, hi)
		if err != nil {
			return 0, err
		}
		if empty(p) {
			break
		}
		if p.sig == s.cache[lo].sig {
			a, b := prev, lo // page a is not a repeat (or is page 0), page b is
			for b-a > 1 {
				mid := a + (b-a)/2
				q, err := s.get(ctx, mid)
				if err != nil {
					return 0, err
				}
				if !empty(q) && q.sig == p.sig {
					b = mid
				} else {
					a = mid
				}
			}
			s.pq.warn(fmt.Errorf("pbx %s: page %d repeats page %d and the PBX sends no total_pages, so it answers pages past its last with the last one: took page %d as the last",
				s.host(), hi, lo, b))
			return b, nil
		}
		prev, lo, hi = lo, hi, hi*2
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

// orderError says the rows are not in key k's order, so a search by it cannot be trusted.
func orderError(k orderKey, n, prev int, by time.Duration) error {
	if prev == 0 || prev == n {
		return fmt.Errorf("rows on page %d are out of %s-time order by %s", n, k, by.Round(time.Second))
	}
	return fmt.Errorf("page %d holds calls that %s %s before the last one on page %d", n, k.verb(), by.Round(time.Second), prev)
}

// inOrder says whether key k may still be searched on: no page read showed it out of order, and the pages the
// searches sampled (the whole history) agree with it.
func (s *search) inOrder(k orderKey) error {
	if s.disorder[k] != nil {
		return s.disorder[k]
	}
	var runMax time.Time
	prev := 0
	for _, n := range slices.Sorted(maps.Keys(s.cache)) {
		p := s.cache[n]
		if len(p.rows) == 0 {
			continue
		}
		if prev != 0 && runMax.Sub(p.lo(k)) > skew {
			s.disorder[k] = orderError(k, n, prev, runMax.Sub(p.lo(k)))
			return s.disorder[k]
		}
		runMax, prev = maxTime(runMax, p.hi(k)), n
	}
	return nil
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
		transport.Log(ctx).Info(fmt.Sprintf("difuse: reading all %d pages (no time range)", n))
		return s.stream(ctx, 1, n, f, emit, false)
	}
	s.key = byEnd
	if s.disorder[byEnd] != nil && s.disorder[byStart] == nil {
		s.key = byStart
	}
	for {
		why := s.disorder[s.key]
		if why == nil {
			err := s.searchBy(ctx, f, emit)
			var oe *outOfOrder
			if !errors.As(err, &oe) {
				return err
			}
			why = oe.err
		}
		// Each key is tried at most once: a failed search leaves its key marked out of order.
		if s.inOrder(s.key.other()) != nil {
			return s.fullScan(ctx, f, emit, why)
		}
		s.key = s.key.other()
	}
}

// searchBy finds the range's pages by s.key and streams them.
func (s *search) searchBy(ctx context.Context, f filter, emit func(row) error) error {
	k := s.key
	lo := 1
	if !f.from.IsZero() {
		from := f.from.Add(-skew)
		var err error
		if lo, err = s.firstPage(ctx, 1, s.total, func(p *page) bool { return !p.hi(k).Before(from) }); err != nil {
			return err
		}
	}
	hi, err := s.lastCovering(ctx, lo, f.to)
	if err != nil {
		return err
	}
	if err := s.inOrder(k); err != nil {
		return &outOfOrder{err}
	}
	transport.Log(ctx).Info(fmt.Sprintf("difuse: searching pages %d to %d of %d for the time range", lo, hi, s.total))
	for {
		if err := s.stream(ctx, lo, hi, f, emit, true); err != nil {
			return err
		}
		// By end time, a call nearly as long as the margin means longer ones may exist: look further, for this
		// query.
		if k != byEnd || f.to.IsZero() || hi >= s.total || s.maxDur+skew <= s.longest {
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

// lastCovering is the last page, from lo on, that can hold a call starting before to, by s.key. It gallops
// forward from lo (lo, lo+1, lo+3, lo+7 …) and then bisects the last step: a range usually ends a few pages
// after it begins, so the probes are pages the range fetch needs anyway (they are kept), where a bisection
// over all pages would cost log2(pages) requests of its own.
func (s *search) lastCovering(ctx context.Context, lo int, to time.Time) (int, error) {
	if to.IsZero() || lo > s.total {
		return s.total, nil
	}
	k := s.key
	past := to.Add(skew)
	if k == byEnd {
		past = past.Add(s.longest)
	}
	beyond := func(p *page) bool { return !p.lo(k).Before(past) }
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

// outOfOrder carries an order violation of the key searched on, found while streaming.
type outOfOrder struct{ err error }

func (e *outOfOrder) Error() string { return e.err.Error() }

// fullScan reads every page not read yet, after telling the user why.
func (s *search) fullScan(ctx context.Context, f filter, emit func(row) error, why error) error {
	s.pq.warn(fmt.Errorf("%v, so the pages cannot be searched by time: reading all %d pages instead", why, s.total))
	return s.stream(ctx, 1, s.total, f, emit, false)
}

// streamed says whether page n has been streamed already.
func (s *search) streamed(n int) bool {
	for _, sp := range s.done {
		if n >= sp.first && n <= sp.last {
			return true
		}
	}
	return false
}

func (s *search) markStreamed(n int) {
	if k := len(s.done) - 1; k >= 0 && s.done[k].last == n-1 {
		s.done[k].last = n
		return
	}
	s.done = append(s.done, pageSpan{n, n})
}

// pastData says whether a streamed page is past the end of the data: empty, or the page before it again (a
// PBX that answers pages past its last with the last one, or ignores the page number). When the PBX said it
// has more pages, the user is told.
func (s *search) pastData(p *page) bool {
	repeat := !empty(p) && s.lastN != 0 && p.n == s.lastN+1 && p.sig == s.lastSig
	if !empty(p) && !repeat {
		return false
	}
	if p.n <= s.said {
		what := "is empty"
		if repeat {
			what = fmt.Sprintf("repeats page %d", s.lastN)
		}
		s.pq.warn(fmt.Errorf("pbx %s: page %d %s although the PBX said it has %d pages: took page %d as the last",
			s.host(), p.n, what, s.said, p.n-1))
	}
	return true
}

// noteOrder checks a streamed page against the page streamed before it, when that is the page before, for
// both keys, and returns the violation of the key searched on, if there is one.
func (s *search) noteOrder(p *page) error {
	if len(p.rows) > 0 {
		for _, k := range []orderKey{byEnd, byStart} {
			prev := s.lastMax[k]
			if s.lastN != 0 && p.n == s.lastN+1 && !prev.IsZero() && s.disorder[k] == nil {
				if by := prev.Sub(p.lo(k)); by > skew {
					s.disorder[k] = orderError(k, p.n, s.lastN, by)
				}
			}
			s.lastMax[k] = p.hi(k)
		}
	} else {
		s.lastMax = [2]time.Time{}
	}
	s.lastN, s.lastSig = p.n, p.sig
	return s.disorder[s.key]
}

// stream fetches pages lo..hi that were not streamed before and emits their rows in page order. Pages are
// scheduled as they are read: at most Parallel requests are in flight or waiting to be emitted, however many
// pages the range has and however slow the consumer is. It stops at the first page past the data. With check,
// an order violation of the key searched on stops it with an *outOfOrder.
func (s *search) stream(ctx context.Context, lo, hi int, f filter, emit func(row) error, check bool) error {
	if s.end != 0 {
		hi = min(hi, s.end-1)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type fetched struct {
		p   *page
		err error
	}
	type slot struct {
		n  int
		p  *page // a page the searches read already
		ch chan fetched
	}
	var queue []slot
	next := lo
	for {
		for len(queue) < s.c.parallel && next <= hi {
			n := next
			next++
			if s.streamed(n) {
				continue
			}
			if p := s.cache[n]; p != nil {
				queue = append(queue, slot{n: n, p: p})
				continue
			}
			ch := make(chan fetched, 1) // buffered: a fetch abandoned by a cancel never blocks
			go func() {
				p, err := s.c.fetchPage(ctx, s.pq, n)
				ch <- fetched{p, err}
			}()
			queue = append(queue, slot{n: n, ch: ch})
		}
		if len(queue) == 0 {
			return nil
		}
		sl := queue[0]
		queue = queue[1:]
		p := sl.p
		if p == nil {
			select {
			case r := <-sl.ch:
				if r.err != nil {
					return r.err
				}
				p = r.p
				s.account(p)
			case <-ctx.Done():
				return ctx.Err()
			}
		} else {
			delete(s.cache, sl.n)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if s.pastData(p) {
			s.end = sl.n
			return nil
		}
		s.markStreamed(sl.n)
		if err := s.noteOrder(p); check && err != nil {
			return &outOfOrder{err}
		}
		for j := range p.rows {
			rw := &p.rows[j]
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
}

// Calls lists calls: one page when q.Page > 0, else the calls starting in [q.From, q.To) (either end open),
// found as described at the top of this file. Rows come in page order, with Start placed in the PBX's zone.
func (c *Client) Calls(ctx context.Context, q cdr.Query, fn func(cdr.Record) error) (cdr.Result, error) {
	if q.Limit > MaxLimit {
		return cdr.Result{}, &LimitError{Limit: q.Limit, Max: MaxLimit}
	}
	s := c.newSearch(q, cdr.ObserverFrom(ctx))
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
