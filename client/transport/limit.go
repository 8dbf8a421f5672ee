package transport

import (
	"errors"
	"io"
)

// ErrTooLarge marks an answer that was stopped because it was larger than the limit set for it: a broken or
// hostile PBX must not make a client read without bound, into memory or onto disk. Asking again does not help.
var ErrTooLarge = errors.New("answer too large")

// CapReader reads R until Max bytes have come and fails with Err, which should wrap ErrTooLarge, when R has
// more: the bytes past Max are never handed over. An answer of exactly Max bytes reads to its end.
type CapReader struct {
	R   io.Reader
	Max int64
	Err error
	n   int64
}

func (c *CapReader) Read(p []byte) (int, error) {
	if c.n > c.Max {
		return 0, c.Err
	}
	// Ask for one byte past Max, so an answer that ends at Max ends cleanly and one that goes on is caught.
	if room := c.Max + 1 - c.n; int64(len(p)) > room {
		p = p[:room]
	}
	n, err := c.R.Read(p)
	c.n += int64(n)
	if c.n > c.Max {
		return n - int(c.n-c.Max), c.Err
	}
	return n, err
}

// MaxRecordingBytes bounds a recording whose size nobody gave beforehand (Difuse lists none; a Com.X look-up by
// ID alone): more than a day of 16-bit PCM at 8 kHz. A PBX that sends more is broken or hostile.
const MaxRecordingBytes = 1 << 30

// CapBody is CapReader over an answer's body, closing the body.
func CapBody(body io.ReadCloser, max int64, err error) io.ReadCloser {
	return capBody{CapReader: &CapReader{R: body, Max: max, Err: err}, c: body}
}

type capBody struct {
	*CapReader
	c io.Closer
}

func (b capBody) Close() error { return b.c.Close() }
