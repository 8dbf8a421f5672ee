package comx

import (
	"context"
	"io"
	"runtime"
	"sync"
	"time"

	"github.com/callscope/callscope/client/cdr"
)

// WriteCalls writes the calls of q's range that keep accepts (keep may be nil) to w: what Calls with an fn that
// encodes each row would write, byte for byte, but the index is read on one goroutine, parsed, placed, selected
// and encoded on several (one per CPU), and written in the index's order as the next bytes arrive. This is
// `callscope calls --format csv|json`: the PBX's wire is the limit, not the client. keep runs on those
// goroutines, so it must be safe for concurrent use, and must not keep the record it is given.
//
// Result counts as Calls's does: Rows are the rows the query selected (before keep), Skipped the malformed
// records, each reported to the context's Observer on the caller's goroutine, in order; its progress too. A
// paged query (q.Page > 0) goes through Calls, which must count every row before the page.
func (c *Client) WriteCalls(ctx context.Context, q cdr.Query, keep func(*cdr.Record) bool, w cdr.EncodedWriter) (cdr.Result, error) {
	if q.Page > 0 {
		return c.writePage(ctx, q, keep, w)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	body, err := c.index(ctx, q)
	if err != nil {
		return cdr.Result{}, err
	}
	return c.writeFrom(ctx, cancel, body, q, keep, w)
}

// writeFrom is WriteCalls of an index body; cancel makes a read of it in progress return.
func (c *Client) writeFrom(ctx context.Context, cancel context.CancelFunc, body io.ReadCloser, q cdr.Query, keep func(*cdr.Record) bool, w cdr.EncodedWriter) (cdr.Result, error) {
	ra := startReadAhead(body, readAheadDepth, true)
	defer stopReading(cancel, ra, body)

	workers := max(1, min(runtime.GOMAXPROCS(0), maxWorkers))
	s := &stream{
		c: c, q: q, obs: cdr.ObserverFrom(ctx), sel: newSelection(q), keep: keep, w: w, ra: ra,
		jobs:    make(chan job, workers),
		results: make(chan result, workers),
		// Chunks between the reader and the writer: enough to keep every worker busy while the writer writes,
		// and few enough that memory stays a few megabytes whatever the index holds.
		inFlight: make(chan struct{}, 2*workers+2),
		stop:     make(chan struct{}),
	}
	var all sync.WaitGroup
	all.Go(s.dispatch)
	s.workers.Add(workers)
	for range workers {
		all.Go(func() {
			defer s.workers.Done()
			s.work(ctx)
		})
	}
	all.Go(func() {
		s.workers.Wait()
		close(s.results)
	})
	defer func() {
		close(s.stop) // a goroutine blocked on a channel returns
		cancel()      // a read in progress returns
		all.Wait()    // and none touches w, keep or q after WriteCalls has returned
	}()
	return s.merge(ctx)
}

// maxWorkers bounds the parsing goroutines: past a few the writer and the wire are the limit.
const maxWorkers = 4

// heldMax bounds how much of the index is held back while an inferring zone waits for its 256 votes; past it the
// zone is decided from the votes so far (only an index with less than one good row in a thousand gets there).
const heldMax = 16 << 20

// stream is one WriteCalls run: dispatch hands chunks to the workers, work parses and encodes them, merge writes
// the results in order.
type stream struct {
	c    *Client
	q    cdr.Query
	obs  cdr.Observer // the caller's, from the context: warnings and progress, on the caller's goroutine
	sel  selection
	keep func(*cdr.Record) bool
	w    cdr.EncodedWriter
	ra   *readAhead

	jobs     chan job
	results  chan result
	inFlight chan struct{} // a token per chunk dispatched and not yet written
	stop     chan struct{}
	workers  sync.WaitGroup // the workers, which send on results

	streamErr error // why the index ended; set by dispatch before it closes jobs
}

type job struct {
	seq int
	ch  chunk
	loc *time.Location // the zone rows are placed in; nil in a chunk known to hold no good row
}

type result struct {
	seq      int
	ch       chunk
	out      []byte
	written  int // rows encoded into out
	selected int // rows the query selected (before keep)
	lines    int // physical lines in the chunk
	warns    []lineWarn
}

type lineWarn struct {
	line int // in the chunk, from 1
	err  error
}

// dispatch numbers the chunks in stream order and hands them to the workers. An inferring zone that is not
// decided yet is decided first, from the first 256 good rows, as cdr.Placer decides it: the chunks that hold
// them wait (those before the first good row need no zone and go at once).
func (s *stream) dispatch() {
	defer close(s.jobs)
	seq := 0
	send := func(ch chunk, loc *time.Location) bool {
		select {
		case s.inFlight <- struct{}{}:
		case <-s.stop:
			return false
		}
		select {
		case s.jobs <- job{seq: seq, ch: ch, loc: loc}:
			seq++
			return true
		case <-s.stop:
			return false
		}
	}
	zone := s.c.zone
	var loc *time.Location
	if zone.Decided() {
		loc = zone.Settle()
	} else {
		var held []chunk
		heldBytes, votes := 0, 0
		var p chunkParser
		p.init()
		var rec cdr.Record
		for ch := range s.ra.chunks {
			p.reset(ch)
			good := 0
			for votes < placerVotes {
				_, err, ok := p.next(&rec)
				if !ok {
					break
				}
				if err == nil {
					zone.Vote(rec.Start, rec.Epoch)
					votes++
					good++
				}
			}
			if good == 0 && len(held) == 0 {
				if !send(ch, nil) {
					return
				}
				continue
			}
			held = append(held, ch)
			if heldBytes += len(ch.text); votes >= placerVotes || heldBytes >= heldMax {
				break
			}
		}
		if len(held) > 0 {
			loc = zone.Settle()
		}
		for _, ch := range held {
			if !send(ch, loc) {
				return
			}
		}
	}
	for ch := range s.ra.chunks {
		if !send(ch, loc) {
			return
		}
	}
	s.streamErr = s.ra.err
}

// placerVotes is how many rows an inferring zone looks at before it decides, as cdr.Placer does.
const placerVotes = 256

// work parses, places, selects and encodes chunks.
func (s *stream) work(ctx context.Context) {
	var p chunkParser
	p.init()
	enc := s.w.NewEncoder()
	var placer *cdr.WallPlacer
	var rec cdr.Record
	for j := range s.jobs {
		if ctx.Err() != nil {
			return
		}
		if j.loc != nil && (placer == nil || placer.Location() != j.loc) {
			placer = cdr.NewWallPlacer(j.loc)
		}
		r := result{seq: j.seq, ch: j.ch, out: getBuffer()}
		p.reset(j.ch)
		for {
			line, err, ok := p.next(&rec)
			if !ok {
				break
			}
			if err != nil {
				r.warns = append(r.warns, lineWarn{line: line, err: err})
				continue
			}
			if placer == nil { // not reached: a chunk with good rows comes with its zone
				placer = cdr.NewWallPlacer(s.c.zone.Settle())
			}
			var shown time.Time
			rec.Start, shown = placer.PlaceShown(rec.Start)
			if !s.sel.keeps(shown, &rec) {
				continue
			}
			r.selected++
			if s.keep != nil && !s.keep(&rec) {
				continue
			}
			r.out = enc.AppendRecord(r.out, &rec)
			r.written++
		}
		r.lines = p.lines
		select {
		case s.results <- r:
		case <-s.stop:
			return
		}
	}
}

// merge writes the results in stream order, reports warnings and progress, and returns the run's outcome.
func (s *stream) merge(ctx context.Context) (cdr.Result, error) {
	var res cdr.Result
	pending := make(map[int]result)
	next, lines := 0, 0
	for {
		var r result
		var ok bool
		select {
		case r, ok = <-s.results:
		case <-ctx.Done():
			return res, ctx.Err()
		}
		if !ok {
			break
		}
		pending[r.seq] = r
		for {
			r, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			next++
			for _, w := range r.warns {
				res.Skipped++
				s.obs.Warn(&cdr.LineError{Line: lines + w.line, Err: w.err})
			}
			lines += r.lines
			res.Rows += r.selected
			s.obs.Progress(r.ch.end)
			if r.written > 0 {
				if err := s.w.WriteEncoded(r.out, r.written); err != nil {
					return res, err
				}
			}
			putBuffer(r.out)
			r.ch.release() // no string of it lives on: keep and the encoder keep none
			<-s.inFlight
		}
	}
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	if s.streamErr != nil && s.streamErr != io.EOF {
		return res, s.streamErr
	}
	return res, nil
}

// writePage is WriteCalls for one page, through Calls.
func (c *Client) writePage(ctx context.Context, q cdr.Query, keep func(*cdr.Record) bool, w cdr.EncodedWriter) (cdr.Result, error) {
	enc := w.NewEncoder()
	var out []byte
	rec := new(cdr.Record) // one for every row: keep and the encoder do not keep it
	return c.Calls(ctx, q, func(r cdr.Record) error {
		*rec = r
		if keep != nil && !keep(rec) {
			return nil
		}
		out = enc.AppendRecord(out[:0], rec)
		return w.WriteEncoded(out, 1)
	})
}

// Encoded output buffers go round between the workers and the writer.
var buffers = sync.Pool{New: func() any { return new([]byte) }}

func getBuffer() []byte { return (*buffers.Get().(*[]byte))[:0] }

func putBuffer(b []byte) {
	if cap(b) > 8<<20 {
		return // an outsized one (a hostile chunk) is not kept
	}
	buffers.Put(&b)
}
