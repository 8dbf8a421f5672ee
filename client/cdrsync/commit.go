package cdrsync

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/callscope/callscope/client/archive"
	"github.com/callscope/callscope/client/cdr"
)

// A chunk is stored in the archive (its recordings made durable, then its calls committed) while the next chunk
// is fetched, so the disk's and SQLite's work overlaps the network's and the hashing's. Only one commit runs at
// a time, and a chunk's commit is finished (and the watermark moved past it) before the next chunk's begins, so
// the order of the guarantees is the same as one chunk after the other: recordings durable, then the calls
// that name them, then the watermark. The commit touches only the archive; the run's bookkeeping (watermark,
// counts, progress) happens when it is finished, on the run's goroutine.

// commitJob is one chunk on its way into the archive.
type commitJob struct {
	c    chunk
	w    *dateWatch
	p    Progress
	recs []cdr.Record
	g    *gathered
	zone cdr.ZoneInfo // to record with the archive when it has none yet

	done     chan struct{}
	gaveUp   int
	noID     []time.Time // starts of calls without a unique ID, which were not archived
	err      error
	attempts int
}

// startCommit stores a fetched chunk in the background. It owns g from now on.
func (s *syncer) startCommit(ctx context.Context, c chunk, w *dateWatch, p Progress, recs []cdr.Record, g *gathered) {
	job := &commitJob{c: c, w: w, p: p, recs: recs, g: g, done: make(chan struct{}), attempts: s.o.RecordingAttempts}
	if len(recs) > 0 && s.a.Location() == nil {
		job.zone = s.zoneInfo()
	}
	s.committing = job
	go func() {
		defer close(job.done)
		defer g.discard() // a no-op once published
		job.err = job.run(ctx, s.a)
	}()
}

// run makes the chunk's recordings durable under their final names, then commits its calls in one transaction
// with what became of their recordings.
func (job *commitJob) run(ctx context.Context, a *archive.Archive) error {
	if err := a.Publish(ctx, job.g.list()); err != nil {
		return fmt.Errorf("%w: %w", errArchive, err)
	}
	if job.zone.Location != nil {
		if err := a.SetZone(ctx, job.zone.Location, job.zone.Inferred); err != nil {
			return fmt.Errorf("%w: %w", errArchive, err)
		}
	}
	b, err := a.Begin(ctx)
	if err != nil {
		return fmt.Errorf("%w: %w", errArchive, err)
	}
	defer func() { _ = b.Rollback() }() // a no-op once committed
	for i := range job.recs {
		r := &job.recs[i]
		if r.UniqueID == "" {
			job.noID = append(job.noID, r.Start)
			continue
		}
		var blob archive.Blob
		if pr := job.g.pending[r.UniqueID]; pr != nil {
			blob = pr.Blob
		}
		if err := b.Put(ctx, r, blob); err != nil {
			return fmt.Errorf("%w: %w", errArchive, err)
		}
	}
	job.gaveUp, err = commitRecordings(ctx, b, job.g, job.attempts)
	return err
}

// finishCommit waits for the chunk being committed, if any, then moves the watermark past it and counts it.
// Its error already names the chunk.
func (s *syncer) finishCommit() error {
	job := s.committing
	if job == nil {
		return nil
	}
	s.committing = nil
	<-job.done
	for _, t := range job.noID {
		s.o.OnWarn(fmt.Errorf("a call at %s has no unique ID and was not archived", t.Format(time.DateTime)))
	}
	if job.err != nil {
		return &chunkError{fmt.Errorf("%s: %w (the archive is complete up to %s; the next sync starts there)",
			describeChunk(job.c), job.err, s.throughText())}
	}
	s.noteCommitted(job.g, job.gaveUp)
	if err := s.advance(job.c, job.w); err != nil {
		return &chunkError{err}
	}
	s.stats.Chunks++
	s.stats.Calls += len(job.recs)
	s.stats.Recordings += len(job.g.pending)
	s.stats.Bytes += job.p.Bytes
	job.p.Done, job.p.Calls, job.p.Recordings = true, len(job.recs), len(job.g.pending)
	s.o.OnProgress(job.p)
	return nil
}

// chunkError is a failure that already says which chunk it is about, and is not tried again.
type chunkError struct{ err error }

func (e *chunkError) Error() string { return e.err.Error() }
func (e *chunkError) Unwrap() error { return e.err }

func isChunkError(err error) bool {
	var ce *chunkError
	return errors.As(err, &ce)
}
