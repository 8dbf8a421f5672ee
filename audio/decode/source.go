package decode

import (
	"io"
	"os"
	"sync"
)

// Source is random-access audio bytes that may still be growing, such as a recording being
// downloaded. Size reports how many bytes can be read now and whether that is all there will be.
type Source interface {
	io.ReaderAt
	Size() (n int64, complete bool)
}

// notifier is implemented by sources that can wake a waiting reader when they grow.
type notifier interface {
	// Changed returns a channel that is closed at the next change of size or state.
	Changed() <-chan struct{}
}

// failer is implemented by sources whose filling can fail (a download that broke off).
type failer interface {
	Err() error
}

// Bytes returns a complete Source over r, of which size bytes are readable.
func Bytes(r io.ReaderAt, size int64) Source { return fixedSource{r, size} }

type fixedSource struct {
	io.ReaderAt
	n int64
}

func (s fixedSource) Size() (int64, bool) { return s.n, true }

// GrowingFile is a Source over a file that another goroutine is writing, either through
// GrowingFile.Write or straight into the *os.File. The writer calls MarkComplete when the file is
// whole, or SetError when filling it failed.
type GrowingFile struct {
	f        *os.File
	mu       sync.Mutex
	written  int64
	complete bool
	err      error
	changed  chan struct{}
}

// NewGrowingFile returns a Source over f, which must be readable with ReadAt.
func NewGrowingFile(f *os.File) *GrowingFile {
	return &GrowingFile{f: f, changed: make(chan struct{})}
}

// Write appends p to the file and wakes readers waiting for more bytes.
func (g *GrowingFile) Write(p []byte) (int, error) {
	n, err := g.f.Write(p)
	g.mu.Lock()
	g.written += int64(n)
	g.notifyLocked()
	g.mu.Unlock()
	return n, err
}

// ReadAt reads from the file as it is now.
func (g *GrowingFile) ReadAt(p []byte, off int64) (int, error) { return g.f.ReadAt(p, off) }

// Size reports the bytes in the file now, and whether the writer has finished.
func (g *GrowingFile) Size() (int64, bool) {
	g.mu.Lock()
	n, complete := g.written, g.complete
	g.mu.Unlock()
	// The writer may write to the *os.File directly, so the file's own size counts too.
	if st, err := g.f.Stat(); err == nil && st.Size() > n {
		n = st.Size()
	}
	return n, complete
}

// MarkComplete says the file will not grow any more.
func (g *GrowingFile) MarkComplete() {
	g.mu.Lock()
	g.complete = true
	g.notifyLocked()
	g.mu.Unlock()
}

// SetError says filling the file failed: it will not grow, and readers report err once they
// have decoded what is there.
func (g *GrowingFile) SetError(err error) {
	g.mu.Lock()
	g.err, g.complete = err, true
	g.notifyLocked()
	g.mu.Unlock()
}

// Err returns the error given to SetError, if any.
func (g *GrowingFile) Err() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.err
}

// Changed returns a channel that is closed at the next Write, MarkComplete or SetError.
func (g *GrowingFile) Changed() <-chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.changed
}

func (g *GrowingFile) notifyLocked() {
	close(g.changed)
	g.changed = make(chan struct{})
}

// FollowDownload returns a Source over f, a file another goroutine is downloading into: it is complete when done
// closes with err() nil, and failed with err()'s error otherwise (a recordings cache entry's Done and Err).
func FollowDownload(f *os.File, done <-chan struct{}, err func() error) *GrowingFile {
	g := NewGrowingFile(f)
	go func() {
		<-done
		if e := err(); e != nil {
			g.SetError(e)
		} else {
			g.MarkComplete()
		}
	}()
	return g
}
