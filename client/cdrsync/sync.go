// Package cdrsync keeps a local archive of every call and recording of a PBX: the Com.X spec's cron job
// (section 2.4), done so that nothing is ever lost or recorded as fetched when it was not.
//
// A run fetches from where the last one stopped, minus an overlap, to the present, in chunks. Each chunk is
// fetched whole (a Com.X ziprec spooled to a file and checked, or a Difuse range with its recordings), its
// recordings stored (temporary file, fsync, rename), its calls committed in one transaction, and only then is
// the watermark moved past it (state file: temporary file, fsync, rename). A chunk that fails in any way (the
// PBX dies mid-zip, a cut body, a truncated zip, 500s, the process killed) leaves the watermark where it was, so
// the next run fetches that chunk again; storing is keyed by unique ID, so fetching twice never duplicates.
package cdrsync

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync"
	"time"

	"github.com/callscope/callscope/client/archive"
	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/comx"
)

// Defaults for Options.
const (
	// DefaultOverlap re-asks for the last six hours on every run: a CDR appears when the call ends but is stamped
	// with its start, so a two-hour call shows up two hours late; six hours also covers clock skew.
	DefaultOverlap   = 6 * time.Hour
	DefaultChunk     = 24 * time.Hour
	DefaultRetries   = 2
	DefaultRetryWait = 2 * time.Second
	// DefaultRecordingAttempts is how many runs try a recording that cannot be fetched before giving up on it.
	DefaultRecordingAttempts = 5
)

// Options tune a sync. The zero value uses the defaults.
type Options struct {
	Overlap   time.Duration
	Chunk     time.Duration    // how much of the PBX's time one request covers; grown over stretches without calls
	Since     time.Time        // the first run starts here (a PBX wall clock); zero: at the PBX's first call
	Zone      *time.Location   // the PBX's zone; nil: the one stored in the archive, else inferred and stored
	Now       func() time.Time // this computer's clock: compared with the PBX's, never taken for it
	Retries   int              // extra attempts at a failing chunk within a run; -1 for none
	RetryWait time.Duration    // wait before the first retry, doubled for each next one
	// RecordingAttempts is how many runs try a recording that cannot be fetched (a 500, a host that cannot be
	// reached) before giving up on it; DefaultRecordingAttempts when zero.
	RecordingAttempts int
	// Identity names the PBX in the archive, which refuses to be synced from another; Describe() of the source
	// when empty. The demo PBX, whose address changes every run, gives a fixed one.
	Identity string

	OnProgress func(Progress) // may be nil
	OnWarn     func(error)    // problems that did not stop the sync; may be nil
}

// Progress is reported as a run goes: when a chunk starts, as its bytes arrive, and when it is stored.
type Progress struct {
	Chunk, Chunks int       // 1-based; Chunks is an estimate, the open-ended last chunk included
	From, To      time.Time // the chunk's range (wall clocks); To zero for the last, open-ended chunk
	Bytes         int64     // downloaded in this chunk so far
	Calls         int       // stored in this chunk (when Done)
	Recordings    int       // fetched in this chunk so far
	Done          bool
	Retry         int   // > 0 while retrying the chunk
	Err           error // what made the chunk fail, when Retry > 0
}

// Stats sum up a run.
type Stats struct {
	Chunks     int
	Calls      int   // calls stored (new or refreshed)
	Recordings int   // recordings fetched
	Bytes      int64 // downloaded
	Through    time.Time

	// PBXClock is the PBX's clock by its last believable Date header (in its zone when known), LocalClock this
	// computer's when that answer came; both zero when the PBX sent none.
	PBXClock, LocalClock time.Time
	NotFetched           int  // recordings that could not be fetched this run: marked in the archive, tried again later
	GaveUp               int  // of those, recordings tried RecordingAttempts times and given up on
	Rebuilt              bool // the index did not hold what the sync state said, so every call was fetched again
}

// Run syncs src into the archive once. It takes the archive's lock for the run, and refuses an archive that is
// synced from another PBX. One recording that cannot be fetched never fails the run: its call is stored, the
// recording marked as not fetched with the reason (Stats.NotFetched and one warning count them), and later
// runs try it again.
func Run(ctx context.Context, src cdr.Source, a *archive.Archive, o Options) (Stats, error) {
	lock, err := LockArchive(a.Dir())
	if err != nil {
		return Stats{}, err
	}
	defer func() { _ = lock.Unlock() }()
	_ = a.CleanTmp() // partial files a killed sync left; no other writer uses tmp while we hold the lock

	s := &syncer{src: src, a: a, o: o.withDefaults(), tried: map[string]bool{}, hostDown: map[string]string{}}
	s.zip, _ = src.(comx.ZipFetcher) // a Com.X, bare or wrapped
	return s.run(ctx)
}

func (o Options) withDefaults() Options {
	if o.Overlap <= 0 {
		o.Overlap = DefaultOverlap
	}
	if o.Chunk <= 0 {
		o.Chunk = DefaultChunk
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Retries == 0 {
		o.Retries = DefaultRetries
	} else if o.Retries < 0 {
		o.Retries = 0
	}
	if o.RetryWait <= 0 {
		o.RetryWait = DefaultRetryWait
	}
	if o.RecordingAttempts <= 0 {
		o.RecordingAttempts = DefaultRecordingAttempts
	}
	if o.OnProgress == nil {
		o.OnProgress = func(Progress) {}
	}
	if o.OnWarn == nil {
		o.OnWarn = func(error) {}
	}
	return o
}

type syncer struct {
	src   cdr.Source
	zip   comx.ZipFetcher // src's ziprec capability; nil when it has none (Difuse, or a wrapped source without it)
	a     *archive.Archive
	o     Options
	zone  *cdr.Zone // places Com.X zip rows; the same for the whole run
	state State
	stats Stats

	clockMu            sync.Mutex
	lastDate, lastHere time.Time // the latest Date answered, and this computer's clock then
	newestEnd          time.Time // the end of the newest call returned this run (PBX wall clock)

	ahead      *spooled   // the next chunk's zip, downloading while this one is stored (prefetch.go)
	committing *commitJob // the last chunk, being committed while this one is fetched (commit.go)

	tried    map[string]bool // calls whose recording this run has tried
	hostMu   sync.Mutex
	hostDown map[string]string // hosts that could not be reached this run, with the reason
	problems []string          // the first few recordings not fetched, for the warning
}

func (s *syncer) run(ctx context.Context) (_ Stats, err error) {
	if s.state, err = LoadState(s.a.Dir()); err != nil {
		return s.stats, err
	}
	desc := s.o.Identity
	if desc == "" {
		desc = s.src.Describe()
	}
	if s.state.Source != "" && s.state.Source != desc {
		return s.stats, &OtherPBXError{Dir: s.a.Dir(), SyncedFrom: s.state.Source, Source: desc}
	}
	s.state.Source = desc
	if err := s.checkIndex(ctx); err != nil {
		return s.stats, err
	}
	if err := s.a.SetMeta(ctx, archive.MetaSource, desc); err != nil {
		return s.stats, err
	}
	loc := s.o.Zone
	if loc == nil {
		loc = s.a.Location()
	}
	s.zone = cdr.NewZone(loc)
	s.syncUsers(ctx)
	err = s.fetch(ctx)
	s.report()
	return s.stats, err
}

// fetch walks from where the last run stopped (or the first call) to the PBX's present, then tries again the
// recordings earlier runs could not fetch.
func (s *syncer) fetch(ctx context.Context) error {
	from := s.state.Through.Add(-s.o.Overlap)
	resumed := !s.state.Through.IsZero()
	if !resumed {
		var err error
		if from, err = s.start(ctx); err != nil || from.IsZero() {
			return err
		}
	}
	if err := s.walk(ctx, from, resumed); err != nil {
		return err
	}
	return s.retryNotFetched(ctx)
}

// report tells, once at the end of a run however it ended, what the clocks said and what was not fetched.
func (s *syncer) report() {
	s.clockReport()
	if s.stats.NotFetched == 0 {
		return
	}
	s.o.OnWarn(&NotFetchedError{Count: s.stats.NotFetched, GaveUp: s.stats.GaveUp, Attempts: s.o.RecordingAttempts,
		Problems: s.problems})
}

// checkIndex makes sure the index is the one the sync state was written with. An index deleted, emptied or
// replaced since would otherwise look complete up to the watermark with nothing in it: then every call is
// fetched again.
func (s *syncer) checkIndex(ctx context.Context) error {
	if s.state.Through.IsZero() {
		s.state.Archive = s.a.ID()
		return nil
	}
	lost := s.state.Archive != "" && s.state.Archive != s.a.ID()
	if s.state.Archive == "" {
		// A state from before archives had an ID: the index belongs to it if it holds calls.
		n, err := s.a.Count(ctx)
		if err != nil {
			return fmt.Errorf("%w: %w", errArchive, err)
		}
		lost = n == 0
	}
	s.state.Archive = s.a.ID()
	if lost {
		s.o.OnWarn(fmt.Errorf("archive %s: its index does not hold what the last sync stored (complete up to %s): %s was deleted, emptied or replaced, so every call is fetched again from the PBX",
			s.a.Dir(), s.state.Through.Format("2006-01-02 15:04"), archive.IndexName))
		s.state.Through = time.Time{}
		s.stats.Rebuilt = true
	}
	return nil
}

// start is where a first run begins: --since, or the PBX's first call (a few rows of its index, not all of it).
// Zero when the PBX has no calls yet.
func (s *syncer) start(ctx context.Context) (time.Time, error) {
	if since := cdr.WallClock(s.o.Since); !since.IsZero() {
		return since, nil
	}
	first, ok, err := s.firstCall(ctx, time.Time{}, time.Time{}, &dateWatch{})
	if err != nil {
		return time.Time{}, fmt.Errorf("finding the PBX's first call: %w", err)
	}
	if !ok {
		return time.Time{}, nil
	}
	// A call written later than the first rows may have started a little earlier.
	return first.Add(-s.o.Overlap), nil
}

type chunk struct{ from, to time.Time } // wall clocks; to zero: up to the PBX's present

// walk fetches from from up to the PBX's present, chunk by chunk. A chunk is closed when it ends before the
// PBX's present as far as it is known, and the last one is open-ended. Over a stretch without calls the chunk
// doubles, and a grown chunk is first looked into (a few rows of its list) so the sync jumps to where the calls
// are instead of fetching years one day at a time.
func (s *syncer) walk(ctx context.Context, from time.Time, resumed bool) (err error) {
	defer s.dropPrefetch()
	defer func() {
		// The last chunk's commit, however the walk ended: what was committed counts.
		if cerr := s.finishCommit(); err == nil {
			err = cerr
		}
	}()
	t := from.Truncate(time.Hour) // whole hours: the API's minutes, and tidy chunks
	size := s.o.Chunk
	for i := 1; ; i++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		horizon := s.horizon()
		c := chunk{from: t}
		if !t.Add(size).After(horizon) {
			c.to = t.Add(size)
		}
		if size > s.o.Chunk {
			if err := s.finishCommit(); err != nil {
				return err // the watermark moves in order: the chunk before first
			}
			first, found, err := s.lookAhead(ctx, c)
			if err != nil {
				return err
			}
			if !found {
				if c.to.IsZero() || s.reached(c) {
					return nil
				}
				t, size = c.to, size*2
				continue
			}
			if skip := first.Add(-s.o.Overlap).Truncate(time.Hour); skip.After(t) {
				t = skip
			}
			size = s.o.Chunk
			continue
		}
		estimate := i
		if !c.to.IsZero() {
			estimate += int(horizon.Sub(c.to)/size) + 1
		}
		n, err := s.chunkWithRetries(ctx, c, i, estimate)
		if err != nil {
			return err
		}
		if i == 1 && resumed {
			if err := s.finishCommit(); err != nil {
				return err
			}
			if again, err := s.checkWatermark(ctx, c); err != nil || !again.IsZero() {
				if err != nil {
					return err
				}
				t, size, resumed = again.Truncate(time.Hour), s.o.Chunk, false
				continue
			}
		}
		if c.to.IsZero() || s.reached(c) {
			return nil
		}
		if n == 0 {
			size *= 2
		} else {
			size = s.o.Chunk
		}
		t = c.to
	}
}

// reached says whether a closed chunk went up to the PBX's present by its believable clock: the PBX has no
// call beyond it yet.
func (s *syncer) reached(c chunk) bool {
	s.clockMu.Lock()
	d := s.lastDate
	s.clockMu.Unlock()
	return s.believable(d) && !s.wall(d, false).After(c.to)
}

// lookAhead looks for the first call in a grown chunk without fetching it: a few rows of its list. When there
// is none, the chunk is complete as far as the PBX had got, and the watermark moves.
func (s *syncer) lookAhead(ctx context.Context, c chunk) (time.Time, bool, error) {
	w := &dateWatch{}
	first, found, err := s.firstCall(ctx, c.from, c.to, w)
	if err != nil {
		if ctx.Err() != nil {
			return time.Time{}, false, ctx.Err()
		}
		return time.Time{}, false, fmt.Errorf("%s: %w (the archive is complete up to %s; the next sync starts there)",
			describeChunk(c), err, s.throughText())
	}
	if found {
		return first, true, nil
	}
	return time.Time{}, false, s.advance(c, w)
}

// advance moves the watermark past a chunk that was fetched whole: up to its end, or up to the PBX's present
// when that came first (or, for the open-ended last chunk, always). It never moves back.
func (s *syncer) advance(c chunk, w *dateWatch) error {
	through, _ := s.present(w)
	if !c.to.IsZero() && c.to.Before(through) {
		through = c.to
	}
	if through.After(s.state.Through) {
		s.state.Through = through
	}
	s.stats.Through = s.state.Through
	if err := saveState(s.a.Dir(), s.state); err != nil {
		return fmt.Errorf("%w: %w", errArchive, err)
	}
	return nil
}

// checkWatermark catches a watermark past the PBX's own present, as a callscope that followed this computer's
// clock could leave: the PBX has calls it never asked for. The sync then starts again from the newest call in
// the archive (or the first run's start) and says so. It returns where to start, or zero when all is well.
func (s *syncer) checkWatermark(ctx context.Context, c chunk) (time.Time, error) {
	s.clockMu.Lock()
	d := s.lastDate
	s.clockMu.Unlock()
	if !s.believable(d) || !s.wall(d, false).Before(c.from) {
		return time.Time{}, nil
	}
	last, err := s.a.LastStart(ctx)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %w", errArchive, err)
	}
	s.o.OnWarn(fmt.Errorf("the archive counted itself complete up to %s, past the PBX's clock (%s): an older callscope followed this computer's clock, so the calls since %s are fetched again",
		s.state.Through.Format("2006-01-02 15:04"), s.wall(d, false).Format("2006-01-02 15:04"), last.Format("2006-01-02 15:04")))
	s.state.Through = time.Time{}
	if last.IsZero() {
		return s.start(ctx)
	}
	return last.Add(-s.o.Overlap), nil
}

// zoneInfo is the zone the chunks' calls were placed in: the sync's own for zip rows, else the source's.
func (s *syncer) zoneInfo() cdr.ZoneInfo {
	if s.zip != nil {
		if s.zone.Decided() {
			return s.zone.Info()
		}
		return cdr.ZoneInfo{}
	}
	return s.src.Zone()
}

func (s *syncer) syncUsers(ctx context.Context) {
	users, err := s.src.Users(s.watch(ctx, &dateWatch{}))
	if err != nil {
		if !errors.Is(err, errors.ErrUnsupported) && ctx.Err() == nil {
			s.o.OnWarn(fmt.Errorf("the PBX's user list was not updated: %w", err))
		}
		return
	}
	if err := s.a.SetUsers(ctx, users); err != nil {
		s.o.OnWarn(err)
	}
}

// firstCall finds the earliest call that starts in [from, to) (zero: open) by reading the first rows of the
// PBX's list and closing the connection: a Com.X index is in start order, Difuse's pages in the order calls
// ended, so the earliest start of the first hundred rows is taken.
func (s *syncer) firstCall(ctx context.Context, from, to time.Time, w *dateWatch) (time.Time, bool, error) {
	ctx, cancel := context.WithCancel(s.watch(ctx, w))
	defer cancel()
	var first time.Time
	n := 0
	stop := errors.New("enough")
	consider := func(r cdr.Record) error {
		wc := cdr.WallClock(r.Start)
		if (!from.IsZero() && wc.Before(from)) || (!to.IsZero() && !wc.Before(to)) {
			return nil
		}
		if first.IsZero() || wc.Before(first) {
			first = wc
		}
		if e := callEnd(&r); e.After(s.newestEnd) {
			s.newestEnd = e
		}
		if n++; n >= 100 {
			return stop
		}
		return nil
	}
	var err error
	if s.zip != nil {
		var body io.ReadCloser
		if body, err = s.zip.Index(ctx, cdr.Query{From: from, To: to}); s.unsupported(err) {
			return s.firstCall(ctx, from, to, w)
		}
		if err == nil {
			p := comx.NewParser(body)
			for {
				r, perr := p.Next()
				var le *cdr.LineError
				if errors.As(perr, &le) {
					continue
				}
				if perr != nil {
					if perr != io.EOF {
						err = perr
					}
					break
				}
				if consider(r) != nil {
					break
				}
			}
			_ = body.Close() // unread rows stay unread: the connection is dropped, not drained
		}
	} else if from.IsZero() && to.IsZero() {
		_, err = s.src.Calls(ctx, cdr.Query{Page: 1, Limit: 100}, consider)
	} else {
		_, err = s.src.Calls(ctx, cdr.Query{From: from, To: to}, consider)
	}
	if err != nil && !errors.Is(err, stop) {
		return time.Time{}, false, err
	}
	return first, !first.IsZero(), nil
}

// chunkWithRetries fetches and stores one chunk, asking again when it fails in a way that may mend. It returns
// how many calls the chunk held.
func (s *syncer) chunkWithRetries(ctx context.Context, c chunk, i, n int) (int, error) {
	wait := s.o.RetryWait
	for attempt := 0; ; attempt++ {
		p := Progress{Chunk: i, Chunks: n, From: c.from, To: c.to}
		calls, err := s.chunk(ctx, c, p)
		if err != nil && ctx.Err() != nil {
			return 0, ctx.Err() // stopped, not failed: whatever the interrupted step said
		}
		if err != nil && !isChunkError(err) {
			// The chunk before this one may still be on its way into the archive: it counts, whatever this one
			// does.
			if cerr := s.finishCommit(); cerr != nil {
				return 0, cerr
			}
		}
		if isChunkError(err) {
			return 0, err
		}
		if err == nil || ctx.Err() != nil || attempt >= s.o.Retries || !retryable(err) {
			if err != nil && ctx.Err() == nil {
				err = fmt.Errorf("%s: %w (the archive is complete up to %s; the next sync starts there)",
					describeChunk(c), err, s.throughText())
			}
			return calls, err
		}
		p.Retry, p.Err = attempt+1, err
		s.o.OnProgress(p)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return 0, ctx.Err()
		case <-t.C:
		}
		wait *= 2
	}
}

// unsupported reports whether err says the source cannot send zips after all (a wrapper around a source
// without the capability): the run then fetches calls and recordings one by one.
func (s *syncer) unsupported(err error) bool {
	if err == nil || !errors.Is(err, errors.ErrUnsupported) {
		return false
	}
	s.zip = nil
	return true
}

// retryable: a wrong password, a refused zip (unsafe, too large) and a full disk will not mend by asking again.
func retryable(err error) bool {
	switch {
	case errors.Is(err, cdr.ErrAuth), errors.Is(err, comx.ErrUnsafeZip), errors.Is(err, comx.ErrZipTooLarge),
		errors.Is(err, fs.ErrPermission), errors.Is(err, errArchive):
		return false
	}
	return true
}

// errArchive marks failures of the local archive (disk full, damaged index), not of the PBX.
var errArchive = errors.New("archive")

func describeChunk(c chunk) string {
	if c.to.IsZero() {
		return "calls since " + c.from.Format("2006-01-02 15:04")
	}
	return "calls " + c.from.Format("2006-01-02 15:04") + " to " + c.to.Format("2006-01-02 15:04")
}

func (s *syncer) throughText() string {
	if s.state.Through.IsZero() {
		return "nothing yet"
	}
	return s.state.Through.Format("2006-01-02 15:04")
}

// chunk fetches one chunk and its recordings, then hands it to be committed (commit.go) once the chunk before
// it is committed and the watermark moved past that. It returns how many calls the chunk held.
func (s *syncer) chunk(ctx context.Context, c chunk, p Progress) (int, error) {
	s.o.OnProgress(p)
	w := &dateWatch{}
	ctx = s.watch(ctx, w)
	g := newGathered()
	handed := false
	defer func() {
		if !handed {
			g.discard() // a chunk that failed
		}
	}()
	var recs []cdr.Record
	var err error
	if s.zip != nil {
		recs, err = s.fetchZip(ctx, w, c, &p, g)
	}
	if s.zip == nil || s.unsupported(err) {
		recs, err = s.fetchCalls(ctx, c, &p, g)
	}
	if err != nil {
		return 0, err
	}
	s.noteEnds(recs)
	if err := s.finishCommit(); err != nil {
		return 0, err
	}
	handed = true
	s.startCommit(ctx, c, w, p, recs, g)
	return len(recs), nil
}

// fetchZip fetches a Com.X chunk as one ziprec: spooled to a file, opened and checked, its rows placed in the
// PBX's zone, its new recordings stored.
func (s *syncer) fetchZip(ctx context.Context, w *dateWatch, ch chunk, p *Progress, g *gathered) ([]cdr.Record, error) {
	var f *os.File
	var n int64
	var err error
	if sp := s.takePrefetch(ch); sp != nil {
		if f, n, err = sp.wait(ctx); err == nil {
			p.Bytes = n
			s.o.OnProgress(*p)
		}
		if d := sp.w.earliest(); !d.IsZero() {
			w.note(d) // the chunk's list was asked for then
		}
	} else {
		f, n, err = s.download(ctx, s.zip, ch, func(n int64) {
			p.Bytes = n
			s.o.OnProgress(*p)
		})
	}
	if err != nil {
		return nil, err
	}
	defer func() {
		_ = f.Close()
		_ = os.Remove(f.Name())
	}()
	p.Bytes = n
	z, err := comx.OpenZip(f, n, comx.Limits{})
	if err != nil {
		return nil, err
	}
	var recs []cdr.Record
	placer := s.zone.NewPlacer(func(r cdr.Record) error {
		w := cdr.WallClock(r.Start)
		if w.Before(ch.from) || (!ch.to.IsZero() && !w.Before(ch.to)) {
			return nil
		}
		recs = append(recs, r)
		return nil
	})
	_, skipped, err := z.Index(placer.Push, func(err error) { s.o.OnWarn(fmt.Errorf("%s: %w", describeChunk(ch), err)) })
	if err != nil {
		return nil, err
	}
	if err := placer.Flush(); err != nil {
		return nil, err
	}
	if skipped > 0 {
		s.o.OnWarn(fmt.Errorf("%s: %d malformed index lines were skipped", describeChunk(ch), skipped))
	}
	s.noteEnds(recs)
	if next, ok := s.following(ch, len(recs)); ok {
		s.prefetch(ctx, next) // while this chunk's recordings are stored
	}
	err = s.storeRecordings(ctx, ch, recs, p, g, func(ctx context.Context, r *cdr.Record) (*archive.Pending, error) {
		return s.storeFromZip(ctx, z, r)
	})
	if err != nil {
		return nil, err
	}
	return recs, nil
}

// fetchCalls fetches a chunk from any other source (Difuse): its calls, then each new recording on its own.
func (s *syncer) fetchCalls(ctx context.Context, ch chunk, p *Progress, g *gathered) ([]cdr.Record, error) {
	var recs []cdr.Record
	q := cdr.Query{From: ch.from, To: ch.to, Extended: true}
	obs := cdr.Observer{
		OnWarn: func(err error) { s.o.OnWarn(fmt.Errorf("%s: %w", describeChunk(ch), err)) },
		OnProgress: func(n int64) {
			p.Bytes = n
			s.o.OnProgress(*p)
		}}
	if _, err := s.src.Calls(cdr.WithObserver(ctx, obs), q, func(r cdr.Record) error { recs = append(recs, r); return nil }); err != nil {
		return nil, err
	}
	err := s.storeRecordings(ctx, ch, recs, p, g, s.storeFetched)
	if err != nil {
		return nil, err
	}
	return recs, nil
}
