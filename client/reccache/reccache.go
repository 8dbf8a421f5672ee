// Package reccache keeps call recordings on disk so a call heard once plays at once the next time. A download
// is written to a .part file that the caller can already read (and decode) while it grows; it gets its final
// name only when complete, so a file under a final name is always whole. Names come from a hash of the source
// and the call's unique ID, never from the PBX's file name, and the cache evicts the least recently used files
// when it grows past its size limit.
package reccache

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/callscope/callscope/client/cdr"
)

// DefaultMaxBytes is the size limit of a cache opened without one: room for a few hundred long GSM calls or
// a few dozen long PCM ones.
const DefaultMaxBytes int64 = 512 << 20

// partSuffix marks a download in progress (or one abandoned by a crash, which Open cleans up).
const partSuffix = ".part"

// knownExts are the final-name extensions, by format; a recording whose bytes say neither wav nor gsm is kept
// as .audio and the decoder sniffs it again.
var knownExts = []string{".wav", ".gsm", ".audio"}

// Cache is a directory of recordings. It is safe for concurrent use.
type Cache struct {
	dir      string
	mu       sync.Mutex
	maxBytes int64
	inflight map[string]*download
}

// Open uses dir (created if missing) as a cache with DefaultMaxBytes as its limit. Partial downloads left by
// an earlier run that did not finish are removed.
func Open(dir string) (*Cache, error) {
	if dir == "" {
		return nil, errors.New("recording cache: no directory given")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("recording cache: cannot create %s: %w", dir, err)
	}
	if parts, err := filepath.Glob(filepath.Join(dir, "*"+partSuffix)); err == nil {
		for _, p := range parts {
			_ = os.Remove(p) // one that stays is never served: only finished files are
		}
	}
	return &Cache{dir: dir, maxBytes: DefaultMaxBytes, inflight: map[string]*download{}}, nil
}

// DefaultDir is where callscope keeps recordings: the user's cache directory, or the temp directory when the
// system has none.
func DefaultDir() string {
	base, err := os.UserCacheDir()
	if err != nil || base == "" {
		base = os.TempDir()
	}
	return filepath.Join(base, "callscope", "recordings")
}

// Dir is the cache's directory.
func (c *Cache) Dir() string { return c.dir }

// SetMaxBytes sets the size limit; n <= 0 means no limit. Eviction happens after the next completed download,
// or at once with Trim.
func (c *Cache) SetMaxBytes(n int64) {
	c.mu.Lock()
	c.maxBytes = n
	c.mu.Unlock()
}

// Entry is one recording handed to a caller: a read handle on the file (growing while the download runs) and a
// way to learn when the download ends and how.
type Entry struct {
	// File is open for reading at offset 0; the caller closes it. While the download runs it reads the .part
	// file and meets EOF at the bytes written so far; the handle stays valid across the rename at the end.
	File *os.File
	// Name is the PBX's file name reduced to a safe base name, for display.
	Name string
	// Format is "wav", "gsm", or "" when the first bytes say neither.
	Format string
	// Size is the expected total in bytes, or -1 when the PBX did not say.
	Size int64
	// Cached reports that the recording came from disk without a download.
	Cached bool

	dl *download // nil when Cached
}

// Done is closed when the file is complete (or the download failed); for a cached entry it is closed already.
func (e *Entry) Done() <-chan struct{} {
	if e.dl == nil {
		return closedChan
	}
	return e.dl.done
}

// Err is the download's outcome once Done is closed: nil when the file is complete.
func (e *Entry) Err() error {
	if e.dl == nil {
		return nil
	}
	select {
	case <-e.dl.done:
		return e.dl.err
	default:
		return nil
	}
}

// Written is the number of bytes on disk so far.
func (e *Entry) Written() int64 {
	if e.dl == nil {
		return e.Size
	}
	e.dl.mu.Lock()
	defer e.dl.mu.Unlock()
	return e.dl.written
}

// Path is where the file is now: the .part name while downloading, the final name afterwards.
func (e *Entry) Path() string {
	if e.dl == nil {
		return e.File.Name()
	}
	e.dl.mu.Lock()
	defer e.dl.mu.Unlock()
	return e.dl.path
}

// Reopen opens another read handle on the recording at offset 0, wherever the file is now (a second reader,
// such as a waveform analysis beside the player). It fails once a failed download's .part file is removed.
func (e *Entry) Reopen() (*os.File, error) {
	if e.dl == nil {
		return os.Open(e.File.Name())
	}
	e.dl.mu.Lock()
	defer e.dl.mu.Unlock() // held so the rename cannot slip between reading the path and opening it
	return os.Open(e.dl.path)
}

var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// download is one transfer shared by every Fetch of the same recording while it runs.
type download struct {
	key    string
	name   string
	format string
	size   int64
	done   chan struct{}
	err    error // set before done closes

	mu       sync.Mutex
	path     string
	written  int64
	watchers []func(n, total int64)
}

func (d *download) progress(n int64) {
	d.mu.Lock()
	d.written = n
	ws := d.watchers
	d.mu.Unlock()
	for _, w := range ws {
		w(n, d.size)
	}
}

// Key is the file name stem for a call from a source: a readable prefix of the unique ID (only [A-Za-z0-9._-],
// so a hostile ID cannot climb out of the directory) plus a hash of the source and the full ID, so two calls
// whose IDs clean up to the same prefix, or two PBXs with the same IDs, never share a file.
func Key(src cdr.Source, rec cdr.Record) string {
	id := rec.UniqueID
	if id == "" {
		id = "start-" + rec.Start.Format("20060102T150405")
	}
	var from string
	if src != nil {
		from = src.Describe()
	}
	sum := sha256.Sum256([]byte(from + "\x00" + id + "\x00" + rec.Recording))
	return safePrefix(id, 40) + "-" + hex.EncodeToString(sum[:])[:16]
}

// safePrefix keeps at most max characters of s from [A-Za-z0-9._-], replacing others with '_', and never
// starts with a dot.
func safePrefix(s string, max int) string {
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= max {
			break
		}
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		case r == '.' && b.Len() > 0:
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "call"
	}
	return b.String()
}

// SafeID turns a call's unique ID into a file name stem: [A-Za-z0-9._-] only (others become '_'), no leading
// dot, at most 80 characters; empty for an empty ID. Unlike SafeName it keeps every part of a hostile ID, so
// "a/b" and "b" stay different.
func SafeID(id string) string {
	if id == "" {
		return ""
	}
	return safePrefix(id, 80)
}

// SafeName reduces a PBX file name to a base name fit to show or to save under: no directories, no leading
// dot, only [A-Za-z0-9._-]. Empty when nothing is left.
func SafeName(pbxName string) string {
	base := pbxName
	if i := strings.LastIndexAny(base, `/\`); i >= 0 {
		base = base[i+1:]
	}
	if q := strings.IndexAny(base, "?#"); q >= 0 { // a Difuse URL's query
		base = base[:q]
	}
	base = strings.TrimLeft(base, ".")
	if base == "" {
		return ""
	}
	return safePrefix(base, 120)
}

func formatFor(ext string) string {
	switch ext {
	case ".wav":
		return "wav"
	case ".gsm":
		return "gsm"
	}
	return ""
}

// Fetch returns the call's recording: from disk when cached, otherwise it starts the download and returns as
// soon as the PBX has answered, with File reading the growing .part file. Errors the PBX gives before the
// first byte (no recording, wrong password, PBX down) come back from Fetch itself; errors after that come from
// Entry.Err once Entry.Done is closed. progress (may be nil) is called from the download goroutine with the
// bytes written so far and the expected total (-1 when unknown). The download stops when ctx ends.
func (c *Cache) Fetch(ctx context.Context, src cdr.Source, rec cdr.Record, progress func(n, total int64)) (*Entry, error) {
	key := Key(src, rec)
	if e, ok := c.lookup(key, rec); ok {
		if progress != nil {
			progress(e.Size, e.Size)
		}
		return e, nil
	}

	c.mu.Lock()
	if d, ok := c.inflight[key]; ok {
		d.mu.Lock()
		if progress != nil {
			d.watchers = append(d.watchers, progress)
		}
		path := d.path
		d.mu.Unlock()
		c.mu.Unlock()
		f, err := os.Open(path)
		if err != nil {
			// The download finished and was renamed between our look-ups: the final file is there.
			if e, ok := c.lookup(key, rec); ok {
				return e, nil
			}
			return nil, fmt.Errorf("recording cache: %w", err)
		}
		return &Entry{File: f, Name: d.name, Format: d.format, Size: d.size, dl: d}, nil
	}
	c.mu.Unlock()

	if src == nil {
		return nil, errors.New("recording cache: no source to fetch the recording from")
	}
	r, err := src.Recording(ctx, cdr.ByRecord(rec))
	if err != nil {
		return nil, err
	}
	name := SafeName(r.Name)
	if name == "" {
		name = SafeName(rec.Recording)
	}
	size := r.Size
	if size <= 0 {
		size = -1
	}
	d := &download{key: key, name: name, format: r.Format, size: size, done: make(chan struct{}),
		path: filepath.Join(c.dir, key+cdr.AudioExt(r.Format)+partSuffix)}
	if progress != nil {
		d.watchers = append(d.watchers, progress)
	}
	w, err := os.OpenFile(d.path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		_ = r.Close()
		return nil, fmt.Errorf("recording cache: cannot write in %s: %w", c.dir, err)
	}
	f, err := os.Open(d.path)
	if err != nil {
		_ = w.Close() // empty, and removed
		_ = r.Close()
		_ = os.Remove(d.path)
		return nil, fmt.Errorf("recording cache: %w", err)
	}

	c.mu.Lock()
	c.inflight[key] = d
	c.mu.Unlock()
	go c.run(ctx, d, r, w)
	return &Entry{File: f, Name: name, Format: r.Format, Size: size, dl: d}, nil
}

// run copies the PBX's answer to the .part file, then renames it to its final name or removes it.
func (c *Cache) run(ctx context.Context, d *download, r *cdr.Recording, w *os.File) {
	err := copyProgress(ctx, w, r, d)
	_ = r.Close() // read to its end, or abandoned with err
	if cerr := w.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("recording cache: writing %s: %w", filepath.Base(d.path), cerr)
	}
	if err == nil && d.size > 0 && d.written != d.size {
		err = fmt.Errorf("recording was cut off: got %d of %d bytes; try again", d.written, d.size)
	}
	if err == nil && d.written == 0 {
		err = errors.New("the PBX sent an empty recording")
	}
	final := strings.TrimSuffix(d.path, partSuffix)
	if err == nil {
		d.mu.Lock()
		if rerr := os.Rename(d.path, final); rerr != nil {
			err = fmt.Errorf("recording cache: %w", rerr)
		} else {
			d.path = final
		}
		d.mu.Unlock()
	}
	if err != nil {
		_ = os.Remove(d.path) // readers keep their open handle; the partial file is never served again
	}
	c.mu.Lock()
	delete(c.inflight, d.key)
	c.mu.Unlock()
	if err == nil {
		c.trim(final) // before Done, so a caller that saw Done sees the cache within its limit
	}
	d.err = err
	close(d.done)
}

func copyProgress(ctx context.Context, w io.Writer, r io.Reader, d *download) error {
	buf := make([]byte, 32<<10)
	var n int64
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		m, rerr := r.Read(buf)
		if m > 0 {
			if _, werr := w.Write(buf[:m]); werr != nil {
				return fmt.Errorf("recording cache: writing: %w", werr)
			}
			n += int64(m)
			d.progress(n)
		}
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil {
			return rerr
		}
	}
}

// lookup serves a complete file from disk, touching it so eviction sees it as recently used.
func (c *Cache) lookup(key string, rec cdr.Record) (*Entry, bool) {
	for _, ext := range knownExts {
		p := filepath.Join(c.dir, key+ext)
		f, err := os.Open(p)
		if err != nil {
			continue
		}
		st, err := f.Stat()
		if err != nil || !st.Mode().IsRegular() {
			_ = f.Close()
			continue
		}
		now := time.Now()
		_ = os.Chtimes(p, now, now) // best effort: a file not touched is only evicted sooner
		return &Entry{File: f, Name: SafeName(rec.Recording), Format: formatFor(ext), Size: st.Size(), Cached: true}, true
	}
	return nil, false
}

// Has reports whether the call's recording is on disk, complete.
func (c *Cache) Has(src cdr.Source, rec cdr.Record) bool {
	key := Key(src, rec)
	for _, ext := range knownExts {
		if st, err := os.Stat(filepath.Join(c.dir, key+ext)); err == nil && st.Mode().IsRegular() {
			return true
		}
	}
	return false
}

// Size is the total of complete files in the cache.
func (c *Cache) Size() int64 {
	var total int64
	for _, f := range c.files() {
		total += f.size
	}
	return total
}

type cachedFile struct {
	path  string
	size  int64
	mtime time.Time
}

func (c *Cache) files() []cachedFile {
	ents, err := os.ReadDir(c.dir)
	if err != nil {
		return nil
	}
	var out []cachedFile
	for _, de := range ents {
		if !de.Type().IsRegular() || strings.HasSuffix(de.Name(), partSuffix) {
			continue
		}
		ext := filepath.Ext(de.Name())
		if formatFor(ext) == "" && ext != ".audio" {
			continue // not ours: never delete what we did not write
		}
		info, err := de.Info()
		if err != nil {
			continue
		}
		out = append(out, cachedFile{path: filepath.Join(c.dir, de.Name()), size: info.Size(), mtime: info.ModTime()})
	}
	return out
}

// Trim removes the least recently used complete files until the cache fits its limit. Downloads in progress
// are not counted and not touched; a file being played stays readable through its open handle.
func (c *Cache) Trim() { c.trim("") }

// trim is Trim sparing keep, the file just downloaded: a recording larger than the whole limit is still kept
// until the next download, so the user can replay it.
func (c *Cache) trim(keep string) {
	c.mu.Lock()
	limit := c.maxBytes
	c.mu.Unlock()
	if limit <= 0 {
		return
	}
	files := c.files()
	var total int64
	for _, f := range files {
		total += f.size
	}
	if total <= limit {
		return
	}
	sort.Slice(files, func(i, j int) bool { return files[i].mtime.Before(files[j].mtime) })
	for _, f := range files {
		if total <= limit {
			break
		}
		if f.path == keep {
			continue
		}
		if err := os.Remove(f.path); err == nil || errors.Is(err, fs.ErrNotExist) {
			total -= f.size
		}
	}
}
