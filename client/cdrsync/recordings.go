package cdrsync

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"unicode"

	"github.com/callscope/callscope/client/archive"
	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/comx"
	"github.com/callscope/callscope/client/transport"
)

// One recording that cannot be fetched (a 500, a host that cannot be reached, a URL callscope will not follow)
// never keeps a call out of the archive: the call is stored, the recording marked as not fetched with the
// reason, and later runs try it again until RecordingAttempts runs have failed.

// gathered is what one step fetched of its calls' recordings: written ones waiting to be published, and the
// ones that could not be fetched, with why.
type gathered struct {
	pending map[string]*archive.Pending
	failed  map[string]failure
}

// failure is why a recording was not fetched; tried is false when it was not asked for at all, because its
// host was already found unreachable in this run (that does not count as an attempt).
type failure struct {
	reason string
	tried  bool
}

func newGathered() *gathered {
	return &gathered{pending: map[string]*archive.Pending{}, failed: map[string]failure{}}
}

func (g *gathered) list() []*archive.Pending {
	l := make([]*archive.Pending, 0, len(g.pending))
	for _, pr := range g.pending {
		l = append(l, pr)
	}
	return l
}

func (g *gathered) discard() {
	for _, pr := range g.pending {
		pr.Discard()
	}
}

// maxProblems is how many recordings the end-of-run warning names; it counts the rest.
const maxProblems = 3

// commitRecordings marks, in the batch of the calls they belong to, the recordings that could not be fetched,
// then commits. It returns how many of them have now been tried attempts times, and given up on. It touches
// nothing of the run (it runs beside the next chunk's fetch, commit.go): noteCommitted moves the run's counts.
func commitRecordings(ctx context.Context, b *archive.Batch, g *gathered, attempts int) (gaveUp int, err error) {
	for id, f := range g.failed {
		tries, err := b.RecordingFailed(ctx, id, f.reason, f.tried)
		if err != nil {
			return 0, fmt.Errorf("%w: %w", errArchive, err)
		}
		if f.tried && tries >= attempts {
			gaveUp++
		}
	}
	if err := b.Commit(); err != nil {
		return 0, fmt.Errorf("%w: %w", errArchive, err)
	}
	return gaveUp, nil
}

// noteCommitted moves the run's counts once a batch is committed.
func (s *syncer) noteCommitted(g *gathered, gaveUp int) {
	for id := range g.pending {
		s.tried[id] = true
	}
	for id, f := range g.failed {
		s.tried[id] = true
		s.stats.NotFetched++
		if len(s.problems) < maxProblems {
			s.problems = append(s.problems, "call "+id+": "+f.reason)
		}
	}
	s.stats.GaveUp += gaveUp
}

// needsRecording says whether a call's recording is still to be fetched: the PBX recorded it, and the archive
// does not hold it (or holds a different size, when the PBX says the size) and has not given up on it.
func (s *syncer) needsRecording(r *cdr.Record, states map[string]archive.RecordingState) bool {
	if !r.HasRecording() {
		return false
	}
	st, ok := states[r.UniqueID]
	switch {
	case !ok:
		return true
	case st.Stored:
		return r.RecordingSize > 0 && st.Size != r.RecordingSize
	}
	return st.Tries < s.o.RecordingAttempts
}

// storeRecordings stores, with store, the recording of each of a chunk's calls that the archive does not hold
// yet, and counts them in p. A recording that cannot be fetched is noted in g; only a failure of the archive
// itself (a full disk) or a stop fails the chunk. A call without a unique ID is passed over: commit does not
// archive it.
func (s *syncer) storeRecordings(ctx context.Context, ch chunk, recs []cdr.Record, p *Progress, g *gathered,
	store func(context.Context, *cdr.Record) (*archive.Pending, error)) error {
	states, err := s.a.RecordingStates(ctx, cdr.Query{From: ch.from, To: ch.to})
	if err != nil {
		return fmt.Errorf("%w: %w", errArchive, err)
	}
	var todo []*cdr.Record
	for i := range recs {
		if r := &recs[i]; r.UniqueID != "" && s.needsRecording(r, states) {
			todo = append(todo, r)
		}
	}
	return s.storeEach(ctx, todo, g, func() {
		p.Recordings++
		s.o.OnProgress(*p)
	}, store)
}

// recordingWorkers is how many recordings are stored at once: requests for single recordings (Difuse serves
// each on its own) overlap their round trips, and reading, hashing and writing use every core.
const recordingWorkers = 4

// storeEach runs store on each call with up to recordingWorkers at a time, noting in g what was stored and why
// the rest were not; stored runs after each one stored. It stops at a stop or the first failure of the archive
// itself, and returns only once every worker has finished, so nothing touches g after it returns.
func (s *syncer) storeEach(ctx context.Context, todo []*cdr.Record, g *gathered, stored func(),
	store func(context.Context, *cdr.Record) (*archive.Pending, error)) error {
	if len(todo) == 0 {
		return ctx.Err()
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu    sync.Mutex
		fatal error
		wg    sync.WaitGroup
	)
	next := make(chan *cdr.Record)
	for range min(recordingWorkers, len(todo)) {
		wg.Go(func() {
			for r := range next {
				pr, err := store(wctx, r)
				mu.Lock()
				switch {
				case err == nil:
					g.pending[r.UniqueID] = pr
					stored()
				case wctx.Err() != nil || errors.Is(err, errArchive):
					if fatal == nil {
						fatal = err
					}
					cancel()
				default:
					g.failed[r.UniqueID] = s.failureOf(r, err)
				}
				mu.Unlock()
			}
		})
	}
feed:
	for _, r := range todo {
		select {
		case next <- r:
		case <-wctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err // stopped: whatever the interrupted step said
	}
	return fatal
}

// storeFromZip writes one call's recording from the zip. One the zip left out, or holds damaged, is asked for
// on its own. Several run at once: the zip is only read once its index has been.
func (s *syncer) storeFromZip(ctx context.Context, z *comx.Zip, r *cdr.Record) (*archive.Pending, error) {
	rc, _, err := z.Recording(r.Recording)
	if err != nil {
		return s.storeFetched(ctx, r)
	}
	defer func() { _ = rc.Close() }()
	pr, err := s.write(ctx, rc)
	if err != nil && ctx.Err() == nil && !errors.Is(err, errArchive) {
		return s.storeFetched(ctx, r)
	}
	return pr, err
}

// errHostDown is a recording not asked for: its host could not be reached earlier in this run.
type errHostDown struct{ reason string }

func (e *errHostDown) Error() string { return e.reason }

// errNotOnPBX is a recording the PBX lists but does not have.
var errNotOnPBX = errors.New("the PBX lists a recording but does not have it")

// storeFetched asks the source for one call's recording and writes it. Several run at once.
func (s *syncer) storeFetched(ctx context.Context, r *cdr.Record) (*archive.Pending, error) {
	host := recordingHost(r)
	s.hostMu.Lock()
	why := s.hostDown[host]
	s.hostMu.Unlock()
	if why != "" {
		return nil, &errHostDown{why}
	}
	rec, err := s.src.Recording(ctx, cdr.ByRecord(*r))
	if errors.Is(err, cdr.ErrNoRecording) || errors.Is(err, cdr.ErrNotFound) {
		return nil, errNotOnPBX
	}
	if err != nil {
		if ctx.Err() == nil && (errors.Is(err, transport.ErrUnreachable) || errors.Is(err, transport.ErrTimeout)) {
			s.hostMu.Lock()
			s.hostDown[host] = reasonOf(err) // the next recordings there are not asked for: each would wait as long
			s.hostMu.Unlock()
		}
		return nil, err
	}
	defer func() { _ = rec.Close() }()
	pr, err := s.write(ctx, rec)
	if err != nil {
		return nil, err
	}
	if rec.Size >= 0 && pr.Size != rec.Size {
		pr.Discard()
		return nil, fmt.Errorf("the recording ended after %d of %d bytes", pr.Size, rec.Size)
	}
	return pr, nil
}

// recordingHost is the host a call's recording is fetched from: the one in its URL (Difuse), or "" for the
// PBX itself (a Com.X file name).
func recordingHost(r *cdr.Record) string {
	if u, err := url.Parse(strings.TrimSpace(r.Recording)); err == nil && u.Host != "" {
		return strings.ToLower(u.Host)
	}
	return ""
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

// failureOf turns a fetch error into the reason stored with the call.
func (s *syncer) failureOf(r *cdr.Record, err error) failure {
	var down *errHostDown
	if errors.As(err, &down) {
		return failure{reason: down.reason}
	}
	return failure{reason: strings.TrimPrefix(reasonOf(err), "call "+r.UniqueID+": "), tried: true}
}

// maxReason bounds a stored reason: it is printed in listings.
const maxReason = 200

// reasonOf is an error as a reason to store and show: one line, no control characters (it can carry a host
// name or URL the PBX sent), bounded in length, without the call ID the listing shows anyway.
func reasonOf(err error) string {
	msg := strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, err.Error())
	msg = strings.Join(strings.Fields(msg), " ")
	if rs := []rune(msg); len(rs) > maxReason {
		msg = string(rs[:maxReason-1]) + "…"
	}
	return msg
}

// maxRetries bounds the recordings one run tries again from earlier runs; the rest wait for the next.
const maxRetries = 1000

// retryNotFetched tries again the recordings earlier runs could not fetch, outside the ranges this run has
// just fetched (their calls were tried there), a batch at a time.
func (s *syncer) retryNotFetched(ctx context.Context) error {
	var todo []cdr.Record
	errFull := errors.New("enough")
	err := s.a.NotFetched(ctx, cdr.Query{}, func(r cdr.Record, st archive.RecordingState) error {
		if st.Tries < s.o.RecordingAttempts && !s.tried[r.UniqueID] {
			todo = append(todo, r)
		}
		if len(todo) >= maxRetries {
			return errFull
		}
		return nil
	})
	if err != nil && !errors.Is(err, errFull) {
		return fmt.Errorf("%w: %w", errArchive, err)
	}
	const batch = 50
	for len(todo) > 0 {
		n := min(batch, len(todo))
		if err := s.retryBatch(ctx, todo[:n]); err != nil {
			return err
		}
		todo = todo[n:]
	}
	return nil
}

func (s *syncer) retryBatch(ctx context.Context, recs []cdr.Record) error {
	ctx = s.watch(ctx, &dateWatch{})
	g := newGathered()
	defer g.discard()
	todo := make([]*cdr.Record, len(recs))
	for i := range recs {
		todo[i] = &recs[i]
	}
	if err := s.storeEach(ctx, todo, g, func() {}, s.storeFetched); err != nil {
		return err
	}
	if err := s.a.Publish(ctx, g.list()); err != nil {
		return fmt.Errorf("%w: %w", errArchive, err)
	}
	b, err := s.a.Begin(ctx)
	if err != nil {
		return fmt.Errorf("%w: %w", errArchive, err)
	}
	defer func() { _ = b.Rollback() }() // a no-op once committed
	for id, pr := range g.pending {
		if err := b.SetRecording(ctx, id, pr.Blob); err != nil {
			return fmt.Errorf("%w: %w", errArchive, err)
		}
	}
	gaveUp, err := commitRecordings(ctx, b, g, s.o.RecordingAttempts)
	if err != nil {
		return err
	}
	s.noteCommitted(g, gaveUp)
	s.stats.Recordings += len(g.pending)
	return nil
}
