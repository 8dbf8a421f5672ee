package listen

import (
	"io"
	"sync"
)

// budget is a semaphore of bytes: what the push bodies in flight may hold together.
type budget struct {
	mu    sync.Mutex
	used  int64
	limit int64
}

// take reserves n bytes if they fit, without waiting: a push that does not fit is told to come back later,
// rather than kept waiting with its connection open.
func (b *budget) take(n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.used+n > b.limit {
		return false
	}
	b.used += n
	return true
}

func (b *budget) give(n int64) {
	b.mu.Lock()
	b.used -= n
	b.mu.Unlock()
}

// spoolChunk is the unit a body is read into. Chunks are reused across pushes, and a body never goes through
// the doublings of a growing buffer, so the memory a body holds is its size rounded up to a chunk.
const spoolChunk = 64 << 10

var chunkPool = sync.Pool{New: func() any { b := make([]byte, spoolChunk); return &b }}

// spool is a request body held in chunks.
type spool struct {
	chunks []*[]byte
	last   int // bytes used in the last chunk
}

// readSpool reads r to its end into chunks. On an error the chunks read so far are kept, for release.
func readSpool(r io.Reader) (*spool, error) {
	s := &spool{}
	for {
		c := chunkPool.Get().(*[]byte)
		n, err := io.ReadFull(r, *c)
		if n > 0 {
			s.chunks = append(s.chunks, c)
			s.last = n
		} else {
			chunkPool.Put(c)
		}
		switch err {
		case nil:
			continue
		case io.EOF, io.ErrUnexpectedEOF:
			return s, nil
		}
		return s, err
	}
}

// reader reads the spooled body.
func (s *spool) reader() io.Reader {
	rs := make([]io.Reader, len(s.chunks))
	for i, c := range s.chunks {
		b := *c
		if i == len(s.chunks)-1 {
			b = b[:s.last]
		}
		rs[i] = &chunkReader{b: b}
	}
	return io.MultiReader(rs...)
}

// release gives the chunks back for other pushes; the spool is not read after.
func (s *spool) release() {
	for _, c := range s.chunks {
		chunkPool.Put(c)
	}
	s.chunks = nil
}

type chunkReader struct{ b []byte }

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, c.b)
	c.b = c.b[n:]
	return n, nil
}
