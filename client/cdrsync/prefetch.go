package cdrsync

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/callscope/callscope/client/archive"
	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/comx"
)

// A Com.X chunk is a download (its zip, spooled to a file) and then local work (reading the zip, storing its
// recordings, committing its calls). While one chunk is stored, the next chunk's zip downloads, so the network
// and the disk are busy at the same time. Only the download runs ahead: chunks are still stored and committed
// one after the other, and the watermark moves only past a committed chunk. A download that turns out not to be
// wanted (the walk went elsewhere, a chunk is retried, the run ends) is stopped and its file removed.

// spoolBuffer is how much of a download is gathered before it is written: a few large writes instead of one per
// network read.
const spoolBuffer = 1 << 20

// spooled is a chunk's zip downloaded, or downloading, to a temporary file in the archive.
type spooled struct {
	c    chunk
	w    *dateWatch // the Date of the zip's answer: the PBX's present when the chunk was asked for
	f    *os.File
	n    int64
	err  error
	done chan struct{}
	stop context.CancelFunc
}

// download spools ch's zip to a temporary file in the archive; onBytes (may be nil) sees the running count.
func (s *syncer) download(ctx context.Context, zf comx.ZipFetcher, ch chunk, onBytes func(int64)) (*os.File, int64, error) {
	f, err := os.CreateTemp(filepath.Join(s.a.Dir(), archive.TmpName), "chunk-*.zip")
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %w", errArchive, err)
	}
	bw := bufio.NewWriterSize(writerOnly{f}, spoolBuffer)
	q := cdr.Query{From: ch.from, To: ch.to, Extended: true}
	n, err := zf.FetchZip(cdr.WithObserver(ctx, cdr.Observer{OnProgress: onBytes}), q, bw)
	if err == nil {
		if err = bw.Flush(); err != nil {
			err = fmt.Errorf("%w: %w", errArchive, err)
		}
	}
	if err != nil {
		_ = f.Close()
		_ = os.Remove(f.Name())
		return nil, 0, err
	}
	return f, n, nil
}

// writerOnly hides the file's ReadFrom, which would copy in small pieces past the buffer in front of it.
type writerOnly struct{ io.Writer }

// prefetch starts downloading ch's zip in the background, in place of any other download ahead.
func (s *syncer) prefetch(ctx context.Context, ch chunk) {
	s.dropPrefetch()
	ctx, stop := context.WithCancel(ctx)
	sp := &spooled{c: ch, w: &dateWatch{}, done: make(chan struct{}), stop: stop}
	zf := s.zip
	go func() {
		defer close(sp.done)
		sp.f, sp.n, sp.err = s.download(s.watch(ctx, sp.w), zf, ch, nil)
	}()
	s.ahead = sp
}

// takePrefetch returns the download ahead when it is ch's; any other is dropped.
func (s *syncer) takePrefetch(ch chunk) *spooled {
	sp := s.ahead
	if sp == nil {
		return nil
	}
	if !sp.c.from.Equal(ch.from) || !sp.c.to.Equal(ch.to) {
		s.dropPrefetch()
		return nil
	}
	s.ahead = nil
	return sp
}

// dropPrefetch stops the download ahead, if any, and removes its file.
func (s *syncer) dropPrefetch() {
	sp := s.ahead
	if sp == nil {
		return
	}
	s.ahead = nil
	sp.stop()
	<-sp.done
	sp.discard()
}

// wait waits for the download to end; a stop of ctx stops it.
func (sp *spooled) wait(ctx context.Context) (*os.File, int64, error) {
	select {
	case <-sp.done:
	case <-ctx.Done():
		sp.stop()
		<-sp.done
		sp.discard()
		return nil, 0, ctx.Err()
	}
	return sp.f, sp.n, sp.err
}

func (sp *spooled) discard() {
	if sp.f != nil {
		_ = sp.f.Close()
		_ = os.Remove(sp.f.Name())
		sp.f = nil
	}
}

// following is the chunk walk fetches after c, when it is worth downloading ahead: c held calls (so the next
// chunk has the standard size), the PBX's clock says it has calls past c, and the next chunk is a closed one (the
// open-ended last chunk's end is only decided when it is reached).
func (s *syncer) following(c chunk, calls int) (chunk, bool) {
	if calls == 0 || c.to.IsZero() || s.reached(c) {
		return chunk{}, false
	}
	next := chunk{from: c.to, to: c.to.Add(s.o.Chunk)}
	if next.to.After(s.horizon()) {
		return chunk{}, false
	}
	return next, true
}
