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
	"path/filepath"
	"syscall"
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
)

// Options tune a sync. The zero value uses the defaults.
type Options struct {
	Overlap   time.Duration
	Chunk     time.Duration  // how much of the PBX's time one request covers
	Since     time.Time      // the first run starts here (a PBX wall clock); zero: at the PBX's first call
	Zone      *time.Location // the PBX's zone; nil: the one stored in the archive, else inferred and stored
	Now       func() time.Time
	Retries   int           // extra attempts at a failing chunk within a run; -1 for none
	RetryWait time.Duration // wait before the first retry, doubled for each next one

	OnProgress func(Progress) // may be nil
	OnWarn     func(error)    // problems that did not stop the sync; may be nil
}

// Progress is reported as a run goes: when a chunk starts, as its bytes arrive, and when it is stored.
type Progress struct {
	Chunk, Chunks int       // 1-based; Chunks counts the open-ended last chunk
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
}

// Run syncs src into the archive once. It takes the archive's lock for the run, and refuses an archive that is
// synced from another PBX.
func Run(ctx context.Context, src cdr.Source, a *archive.Archive, o Options) (Stats, error) {
	lock, err := LockArchive(a.Dir())
	if err != nil {
		return Stats{}, err
	}
	defer lock.Unlock()
	a.CleanTmp() // partial files a killed sync left; no other writer uses tmp while we hold the lock

	s := &syncer{src: src, a: a, o: o.withDefaults()}
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
	a     *archive.Archive
	o     Options
	zone  *cdr.Zone // places Com.X zip rows; the same for the whole run
	state State
	stats Stats
}

func (s *syncer) run(ctx context.Context) (Stats, error) {
	var err error
	if s.state, err = LoadState(s.a.Dir()); err != nil {
		return s.stats, err
	}
	desc := s.src.Describe()
	if s.state.Source != "" && s.state.Source != desc {
		return s.stats, fmt.Errorf("archive %s is synced from %s, not %s: use another --dir for this PBX",
			s.a.Dir(), s.state.Source, desc)
	}
	s.state.Source = desc
	if err := s.a.SetMeta(ctx, archive.MetaSource, desc); err != nil {
		return s.stats, err
	}
	loc := s.o.Zone
	if loc == nil {
		loc = s.a.Location()
	}
	s.zone = cdr.NewZone(loc)
	s.syncUsers(ctx)

	from := s.state.Through.Add(-s.o.Overlap)
	if s.state.Through.IsZero() {
		from = cdr.WallClock(s.o.Since)
		if from.IsZero() {
			first, ok, err := s.earliest(ctx)
			if err != nil {
				return s.stats, err
			}
			if !ok {
				return s.stats, nil // the PBX has no calls yet
			}
			from = first
		}
	}
	from = from.Truncate(time.Hour) // whole hours: the API's minutes, and tidy chunks
	chunks := s.chunks(from)
	for i, c := range chunks {
		if err := ctx.Err(); err != nil {
			return s.stats, err
		}
		if err := s.chunkWithRetries(ctx, c, i+1, len(chunks)); err != nil {
			return s.stats, err
		}
	}
	return s.stats, nil
}

type chunk struct{ from, to time.Time } // wall clocks; to zero: up to the present

// chunks splits [from, now) into closed chunks that are wholly in the past, and an open-ended last one that
// the PBX ends at its present, whatever its clock says.
func (s *syncer) chunks(from time.Time) []chunk {
	now := s.pbxNow()
	var cs []chunk
	for t := from; !t.Add(s.o.Chunk).After(now); t = t.Add(s.o.Chunk) {
		cs = append(cs, chunk{from: t, to: t.Add(s.o.Chunk)})
		from = t.Add(s.o.Chunk)
	}
	return append(cs, chunk{from: from})
}

// pbxNow is the PBX's present wall clock, or a time surely not after it when its zone is not known yet (the
// earliest clock on Earth, UTC-12), so no closed chunk reaches into its future.
func (s *syncer) pbxNow() time.Time {
	now := s.o.Now()
	if zi := s.zoneInfo(); zi.Location != nil {
		return cdr.WallClock(now.In(zi.Location))
	}
	return cdr.WallClock(now.UTC().Add(-12 * time.Hour))
}

func (s *syncer) zoneInfo() cdr.ZoneInfo {
	if _, ok := s.src.(*comx.Client); ok {
		if s.zone.Decided() {
			return s.zone.Info()
		}
		return cdr.ZoneInfo{}
	}
	return s.src.Zone()
}

func (s *syncer) syncUsers(ctx context.Context) {
	users, err := s.src.Users(ctx)
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

// earliest finds the PBX's first call, for a first run without --since. A Com.X index and Difuse's page 1 are
// both oldest first; the first hundred rows are read and the earliest start taken.
func (s *syncer) earliest(ctx context.Context) (time.Time, bool, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var first time.Time
	n := 0
	stop := errors.New("enough")
	consider := func(r cdr.Record) error {
		w := cdr.WallClock(r.Start)
		if first.IsZero() || w.Before(first) {
			first = w
		}
		if n++; n >= 100 {
			return stop
		}
		return nil
	}
	var err error
	if c, ok := s.src.(*comx.Client); ok {
		var body io.ReadCloser
		if body, err = c.Index(ctx, cdr.Query{}); err == nil {
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
			body.Close()
		}
	} else {
		_, err = s.src.Calls(ctx, cdr.Query{Page: 1, Limit: 100}, consider)
	}
	if err != nil && !errors.Is(err, stop) {
		return time.Time{}, false, fmt.Errorf("finding the PBX's first call: %w", err)
	}
	return first, !first.IsZero(), nil
}

func (s *syncer) chunkWithRetries(ctx context.Context, c chunk, i, n int) error {
	wait := s.o.RetryWait
	for attempt := 0; ; attempt++ {
		p := Progress{Chunk: i, Chunks: n, From: c.from, To: c.to}
		err := s.chunk(ctx, c, p)
		if err != nil && ctx.Err() != nil {
			return ctx.Err() // stopped, not failed: whatever the interrupted step said
		}
		if err == nil || ctx.Err() != nil || attempt >= s.o.Retries || !retryable(err) {
			if err != nil && ctx.Err() == nil {
				err = fmt.Errorf("%s: %w (the archive is complete up to %s; the next sync starts there)",
					describeChunk(c), err, s.throughText())
			}
			return err
		}
		p.Retry, p.Err = attempt+1, err
		s.o.OnProgress(p)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		wait *= 2
	}
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

// chunk fetches, stores and commits one chunk, then moves the watermark.
func (s *syncer) chunk(ctx context.Context, c chunk, p Progress) error {
	s.o.OnProgress(p)
	var recs []cdr.Record
	pending := map[string]*archive.Pending{}
	defer func() {
		for _, pr := range pending {
			pr.Discard() // a chunk that failed; a no-op once published
		}
	}()
	var err error
	if cx, ok := s.src.(*comx.Client); ok {
		recs, err = s.fetchZip(ctx, cx, c, &p, pending)
	} else {
		recs, err = s.fetchCalls(ctx, c, &p, pending)
	}
	if err != nil {
		return err
	}
	// Recordings durable under their final names first, then the calls that name them, then the watermark.
	blobs := make(map[string]archive.Blob, len(pending))
	list := make([]*archive.Pending, 0, len(pending))
	for id, pr := range pending {
		blobs[id] = pr.Blob
		list = append(list, pr)
	}
	if err := s.a.Publish(ctx, list); err != nil {
		return fmt.Errorf("%w: %w", errArchive, err)
	}
	if err := s.commit(ctx, recs, blobs); err != nil {
		return err
	}
	through := c.to
	if through.IsZero() {
		// The open chunk ran to the PBX's present: its latest start is a time the PBX had reached.
		through = c.from
		for i := range recs {
			if w := cdr.WallClock(recs[i].Start).Add(time.Second); w.After(through) {
				through = w
			}
		}
	}
	if through.After(s.state.Through) {
		s.state.Through = through
	}
	if err := saveState(s.a.Dir(), s.state); err != nil {
		return fmt.Errorf("%w: %w", errArchive, err)
	}
	s.stats.Chunks++
	s.stats.Calls += len(recs)
	s.stats.Recordings += len(blobs)
	s.stats.Bytes += p.Bytes
	s.stats.Through = s.state.Through
	p.Done, p.Calls, p.Recordings = true, len(recs), len(blobs)
	s.o.OnProgress(p)
	return nil
}

// commit stores a chunk's calls in one transaction and records the zone the first time one is known.
func (s *syncer) commit(ctx context.Context, recs []cdr.Record, blobs map[string]archive.Blob) error {
	if len(recs) > 0 && s.a.Location() == nil {
		if zi := s.zoneInfo(); zi.Location != nil {
			if err := s.a.SetZone(ctx, zi.Location, zi.Inferred); err != nil {
				return fmt.Errorf("%w: %w", errArchive, err)
			}
		}
	}
	b, err := s.a.Begin(ctx)
	if err != nil {
		return fmt.Errorf("%w: %w", errArchive, err)
	}
	defer b.Rollback()
	for i := range recs {
		if recs[i].UniqueID == "" {
			s.o.OnWarn(fmt.Errorf("a call at %s has no unique ID and was not archived", recs[i].Start.Format(time.DateTime)))
			continue
		}
		if err := b.Put(ctx, &recs[i], blobs[recs[i].UniqueID]); err != nil {
			return fmt.Errorf("%w: %w", errArchive, err)
		}
	}
	if err := b.Commit(); err != nil {
		return fmt.Errorf("%w: %w", errArchive, err)
	}
	return nil
}

// needsRecording says whether a call's recording is still to be fetched: the PBX recorded it and the archive
// does not hold it (or holds a different size, when the PBX says the size).
func needsRecording(r *cdr.Record, have map[string]int64) bool {
	if !r.HasRecording() {
		return false
	}
	n, ok := have[r.UniqueID]
	return !ok || (r.RecordingSize > 0 && n != r.RecordingSize)
}

// fetchZip fetches a Com.X chunk as one ziprec: spooled to a file, opened and checked, its rows placed in the
// PBX's zone, its new recordings stored.
func (s *syncer) fetchZip(ctx context.Context, c *comx.Client, ch chunk, p *Progress, pending map[string]*archive.Pending) ([]cdr.Record, error) {
	f, err := os.CreateTemp(filepath.Join(s.a.Dir(), archive.TmpName), "chunk-*.zip")
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errArchive, err)
	}
	defer func() {
		f.Close()
		os.Remove(f.Name())
	}()
	q := cdr.Query{From: ch.from, To: ch.to, Extended: true, OnProgress: func(n int64) {
		p.Bytes = n
		s.o.OnProgress(*p)
	}}
	n, err := c.FetchZip(ctx, q, f)
	if err != nil {
		return nil, err
	}
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
	placer.Flush()
	if skipped > 0 {
		s.o.OnWarn(fmt.Errorf("%s: %d malformed index lines were skipped", describeChunk(ch), skipped))
	}
	err = s.storeRecordings(ctx, ch, recs, p, pending, func(r *cdr.Record) (*archive.Pending, error) {
		return s.storeFromZip(ctx, z, r)
	})
	if err != nil {
		return nil, err
	}
	return recs, nil
}

// storeRecordings stores, with store, the recording of each of a chunk's calls that the archive does not hold
// yet, and counts them in p. A call without a unique ID is passed over: commit does not archive it.
func (s *syncer) storeRecordings(ctx context.Context, ch chunk, recs []cdr.Record, p *Progress,
	pending map[string]*archive.Pending, store func(*cdr.Record) (*archive.Pending, error)) error {
	have, err := s.a.StoredRecordings(ctx, cdr.Query{From: ch.from, To: ch.to})
	if err != nil {
		return fmt.Errorf("%w: %w", errArchive, err)
	}
	for i := range recs {
		r := &recs[i]
		if r.UniqueID == "" || !needsRecording(r, have) {
			continue
		}
		pr, err := store(r)
		if err != nil {
			return err
		}
		if pr != nil {
			pending[r.UniqueID] = pr
			p.Recordings++
			s.o.OnProgress(*p)
		}
	}
	return nil
}

// storeFromZip writes one call's recording from the zip. A recording the index names but the zip left out is
// asked for on its own; one the PBX no longer has is a warning (nil, nil), not a failure.
func (s *syncer) storeFromZip(ctx context.Context, z *comx.Zip, r *cdr.Record) (*archive.Pending, error) {
	rc, _, err := z.Recording(r.Recording)
	if errors.Is(err, fs.ErrNotExist) {
		return s.storeFetched(ctx, r)
	}
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return s.write(ctx, rc)
}

// storeFetched asks the source for one call's recording and writes it.
func (s *syncer) storeFetched(ctx context.Context, r *cdr.Record) (*archive.Pending, error) {
	rec, err := s.src.Recording(ctx, cdr.ByRecord(*r))
	if errors.Is(err, cdr.ErrNoRecording) || errors.Is(err, cdr.ErrNotFound) {
		s.o.OnWarn(fmt.Errorf("call %s: the PBX lists a recording but does not have it", r.UniqueID))
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer rec.Close()
	pr, err := s.write(ctx, rec)
	if err != nil {
		return nil, err
	}
	if rec.Size >= 0 && pr.Size != rec.Size {
		pr.Discard()
		return nil, fmt.Errorf("call %s: the recording ended after %d of %d bytes", r.UniqueID, pr.Size, rec.Size)
	}
	return pr, nil
}

// write copies a recording into the archive's temporary space. A full or read-only disk will not mend by
// asking the PBX again, so it is marked as the archive's failure; a body that ended early or a damaged zip entry
// may, and is returned as it is.
func (s *syncer) write(ctx context.Context, r io.Reader) (*archive.Pending, error) {
	pr, err := s.a.WriteRecording(r)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EROFS) {
			return nil, fmt.Errorf("%w: %w", errArchive, err)
		}
		return nil, err
	}
	return pr, nil
}

// fetchCalls fetches a chunk from any other source (Difuse): its calls, then each new recording on its own.
func (s *syncer) fetchCalls(ctx context.Context, ch chunk, p *Progress, pending map[string]*archive.Pending) ([]cdr.Record, error) {
	var recs []cdr.Record
	q := cdr.Query{From: ch.from, To: ch.to, Extended: true,
		OnWarn: func(err error) { s.o.OnWarn(fmt.Errorf("%s: %w", describeChunk(ch), err)) },
		OnProgress: func(n int64) {
			p.Bytes = n
			s.o.OnProgress(*p)
		}}
	if _, err := s.src.Calls(ctx, q, func(r cdr.Record) error { recs = append(recs, r); return nil }); err != nil {
		return nil, err
	}
	err := s.storeRecordings(ctx, ch, recs, p, pending, func(r *cdr.Record) (*archive.Pending, error) {
		return s.storeFetched(ctx, r)
	})
	if err != nil {
		return nil, err
	}
	return recs, nil
}
