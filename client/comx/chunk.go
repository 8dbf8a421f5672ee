package comx

import (
	"bytes"
	"io"
	"strings"
	"sync"
	"unsafe"

	"github.com/callscope/callscope/client/cdr"
)

// The index is read in chunks: pieces of the stream that start and end between records, copied once into a
// string from which every field of every record is sliced. A chunk can be parsed on its own, on any goroutine,
// and gives the records the whole stream would give at that place, so reading, parsing and writing can overlap
// (readAhead, Client.WriteCalls) and the result never depends on how the bytes arrived.
//
// A record is a line and the lines after it that start with a blank (the spec prints its example with each
// record split over indented lines "for readability"); a line that starts with anything else starts the next
// record. So a chunk is cut only before a line that does not start with a blank. A record longer than
// MaxLineBytes, continuation lines included, is reported as malformed and skipped as a whole.

// chunkSize is the chunker's buffer: the most one chunk holds. It is at least three times MaxLineBytes, so a
// buffer without a place to cut holds a record that is too long whatever else follows (see chunker.next).
const chunkSize = 256 << 10

// chunk is a piece of the index holding whole records.
type chunk struct {
	text  string  // whole lines, each with its '\n' except the stream's last
	first bool    // the start of the stream: a byte order mark may lead its first line
	skip  bool    // it starts inside a record already reported too long: leading lines that start with a blank belong to it
	end   int64   // bytes read from the stream when it was cut, for progress
	lent  *[]byte // the buffer text is a view of, when the chunk is lent
}

// A chunker that lends its chunks (WriteCalls) hands over the buffer the bytes were read into instead of copying
// them into a string, and reads on into another buffer from chunkBuffers: a million-row index then costs neither a
// copy nor garbage. text is a view of the lent buffer, so nothing may keep a string sliced from it (a record's
// fields) past release, which puts the buffer back for another chunk.
var chunkBuffers = sync.Pool{New: func() any { b := make([]byte, chunkSize); return &b }}

// release gives a lent chunk's buffer back; the chunk and every string sliced from it are dead after.
func (ch *chunk) release() {
	if ch.lent != nil {
		chunkBuffers.Put(ch.lent)
		ch.lent, ch.text = nil, ""
	}
}

// chunker cuts a stream into chunks through one buffer. A read error is sticky, so a body that was cut off is
// never mistaken for a clean end after a later read returns io.EOF.
type chunker struct {
	r          io.Reader
	lend       bool    // hand buffers over (see chunkBuffers) instead of copying chunks out
	bufp       *[]byte // buf, when it comes from chunkBuffers
	buf        []byte
	start, end int   // unconsumed bytes
	cut        int   // buf[start:cut] ends between records; cut <= start when no such place is known
	searched   int   // buf[:searched] has been searched for cut
	read       int64 // bytes read from r
	err        error
	first      bool // the next chunk starts the stream
	skip       bool // the next chunk starts inside a record cut by force
	dropping   bool // the line at the end of buf is too long: its bytes are dropped up to its '\n'
}

func newChunker(r io.Reader) chunker {
	return chunker{r: r, buf: make([]byte, chunkSize), first: true}
}

// newLendingChunker returns a chunker that lends its chunks.
func newLendingChunker(r io.Reader) chunker {
	bp := chunkBuffers.Get().(*[]byte)
	return chunker{r: r, lend: true, bufp: bp, buf: *bp, first: true}
}

// next returns the next chunk, or the stream's end: io.EOF or the error that stopped it. With enough nil a chunk
// is returned as soon as a whole record is buffered; otherwise the chunker goes on reading while the buffer has
// room and enough(bytes ready) is false.
func (c *chunker) next(enough func(int) bool) (chunk, error) {
	for {
		c.findCut()
		full := c.end-c.start == len(c.buf)
		if n := c.cut - c.start; n > 0 && (enough == nil || full || c.err != nil || enough(n)) {
			return c.emit(c.cut), nil
		}
		if c.err != nil {
			if c.err == io.EOF && c.start < c.end {
				return c.emit(c.end), nil // the last line, without its '\n'
			}
			if nl := bytes.LastIndexByte(c.buf[c.start:c.end], '\n'); nl >= 0 {
				return c.emit(c.start + nl + 1), nil // whole lines before the failure; the partial line is dropped
			}
			c.start = c.end
			return chunk{}, c.err
		}
		if full {
			// No place to cut in a full buffer. If its last line is already too long, keep its first
			// MaxLineBytes bytes, enough to be reported as too long, and drop the rest of it as it arrives.
			// Otherwise the record at the start runs past the last '\n' in the buffer, and so is too long:
			// cut there, and the next chunk skips the rest of that record.
			tail := c.start
			if nl := bytes.LastIndexByte(c.buf[c.start:c.end], '\n'); nl >= 0 {
				tail = c.start + nl + 1
			}
			if c.end-tail > MaxLineBytes {
				c.end, c.dropping = tail+MaxLineBytes, true
				c.searched = min(c.searched, c.end)
			} else {
				ch := c.emit(tail)
				c.skip = true
				return ch, nil
			}
		}
		c.fill()
	}
}

// findCut moves cut to the last '\n' in the buffer that is followed by a byte that is not a blank, searching
// only bytes it has not searched before (and the '\n' that ended them, whose follower may be new).
func (c *chunker) findCut() {
	lo, hi := max(c.start, c.searched-1), c.end
	for hi > lo {
		i := bytes.LastIndexByte(c.buf[lo:hi], '\n')
		if i < 0 {
			break
		}
		i += lo
		if i+1 < c.end && !isBlank(c.buf[i+1]) {
			c.cut = max(c.cut, i+1)
			break
		}
		hi = i
	}
	c.searched = c.end
}

// emit returns buf[start:at] (at > start) as a chunk.
func (c *chunker) emit(at int) chunk {
	ch := chunk{first: c.first, skip: c.skip, end: c.read}
	c.first, c.skip = false, false
	if !c.lend {
		ch.text = string(c.buf[c.start:at])
		c.start = at
		return ch
	}
	ch.text, ch.lent = unsafe.String(&c.buf[c.start], at-c.start), c.bufp
	bp := chunkBuffers.Get().(*[]byte)
	n := copy(*bp, c.buf[at:c.end])
	c.bufp, c.buf = bp, *bp
	c.cut -= at
	c.searched = max(0, c.searched-at)
	c.start, c.end = 0, n
	return ch
}

// fill moves the unconsumed bytes to the front of the buffer and reads more after them.
func (c *chunker) fill() {
	if c.start > 0 {
		n := copy(c.buf, c.buf[c.start:c.end])
		c.cut -= c.start
		c.searched = max(0, c.searched-c.start)
		c.start, c.end = 0, n
	}
	for range 100 {
		n, err := c.r.Read(c.buf[c.end:])
		c.read += int64(n)
		kept := n
		if c.dropping && n > 0 {
			got := c.buf[c.end : c.end+n]
			if nl := bytes.IndexByte(got, '\n'); nl < 0 {
				kept = 0
			} else {
				kept = copy(got, got[nl:])
				c.dropping = false
			}
		}
		c.end += kept
		if err != nil {
			c.err = err
			return
		}
		if n > 0 {
			return
		}
	}
	c.err = io.ErrNoProgress
}

// chunkParser reads the records of one chunk after another. Its word caches carry over from chunk to chunk.
type chunkParser struct {
	text  string
	pos   int
	lines int  // physical lines read from this chunk
	first bool // the next line is the stream's first
	skip  bool // leading lines that start with a blank are skipped
	toks  []token
	join  []byte // a record split over lines, joined

	// Call types and dispositions repeat on every line; mapping each raw word once keeps the per-line cost to a
	// comparison instead of lower-casing and allocating.
	types wordCache[cdr.CallType]
	disps wordCache[cdr.Disposition]
	day   wallDay
}

func (p *chunkParser) init() { p.toks = make([]token, 0, 32) }

func (p *chunkParser) reset(ch chunk) {
	p.text, p.pos, p.lines, p.first, p.skip = ch.text, 0, 0, ch.first, ch.skip
}

// line returns the next physical line without its '\n', and the offset in text just past its last byte.
func (p *chunkParser) line() (string, int) {
	rest := p.text[p.pos:]
	p.lines++
	if i := strings.IndexByte(rest, '\n'); i >= 0 {
		p.pos += i + 1
		return rest[:i], p.pos - 1
	}
	p.pos = len(p.text)
	return rest, p.pos
}

// next fills r with the chunk's next record. ok is false at the chunk's end. A malformed record gives err, and
// line is the chunk's line number (from 1) of its first line either way.
func (p *chunkParser) next(r *cdr.Record) (line int, err error, ok bool) {
	for p.pos < len(p.text) {
		head := p.pos
		s, end := p.line()
		if p.skip {
			if len(s) > 0 && isBlank(s[0]) {
				continue
			}
			p.skip = false
		}
		line = p.lines
		if p.first {
			p.first = false
			s = strings.TrimPrefix(s, "\xef\xbb\xbf")
		}
		s = trimRight(s)
		if s == "" && end-head < MaxLineBytes {
			continue // a blank line: skipped, and what follows starts a record
		}
		joined := false
		for p.pos < len(p.text) && isBlank(p.text[p.pos]) {
			more, moreEnd := p.line()
			if moreEnd-head >= MaxLineBytes {
				end = moreEnd
				continue // too long already: read the rest of the record without keeping it
			}
			if !joined {
				p.join = append(p.join[:0], s...)
				joined = true
			}
			p.join = append(p.join, trimRight(more)...)
			end = moreEnd
		}
		if end-head >= MaxLineBytes {
			return line, errLineTooLong, true
		}
		if joined {
			s = string(p.join)
		}
		*r = cdr.Record{}
		return line, p.parseLine(s, r), true
	}
	return 0, nil, false
}

// trimRight drops a line's CR and trailing white space.
func trimRight(s string) string {
	for len(s) > 0 && (isBlank(s[len(s)-1]) || s[len(s)-1] == '\r') {
		s = s[:len(s)-1]
	}
	return s
}

// readAhead reads a stream into chunks on its own goroutine, so that the next bytes arrive while the last are
// parsed. Chunks come on chunks in stream order; when it is closed, err says why the stream ended (io.EOF or the
// read error). close stops the goroutine; the caller makes a blocked read return first (by cancelling the
// request) and closes the stream after.
type readAhead struct {
	chunks chan chunk
	err    error
	stop   chan struct{}
	done   chan struct{}
}

// readAheadTarget is the chunk size readAhead aims for while the parser is busy; an idle parser gets what
// has arrived at once.
const readAheadTarget = chunkSize / 2

// startReadAhead starts reading r; lend says the chunks are lent (see chunkBuffers) and the reader of chunks
// releases each.
func startReadAhead(r io.Reader, depth int, lend bool) *readAhead {
	ra := &readAhead{chunks: make(chan chunk, depth), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(ra.done)
		ck := newChunker(r)
		if lend {
			ck = newLendingChunker(r)
		}
		enough := func(n int) bool { return n >= readAheadTarget || len(ra.chunks) == 0 }
		for {
			ch, err := ck.next(enough)
			if err != nil {
				ra.err = err
				close(ra.chunks)
				return
			}
			select {
			case ra.chunks <- ch:
			case <-ra.stop:
				return
			}
		}
	}()
	return ra
}

func (ra *readAhead) close() {
	close(ra.stop)
	<-ra.done
}
