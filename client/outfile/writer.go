package outfile

import (
	"context"
	"io/fs"
	"os"
	"time"
)

// aLongTimeAgo is a write deadline that has passed: setting it releases a blocked write.
var aLongTimeAgo = time.Unix(1, 0)

// writer is what the caller's write function writes to: it stops once ctx ends, and its errors name the user's
// path, not the temporary file's.
type writer struct {
	ctx  context.Context
	f    *os.File
	path string
}

func (w *writer) Write(p []byte) (int, error) {
	if err := w.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := w.f.Write(p)
	if err != nil {
		err = &fs.PathError{Op: "write", Path: w.path, Err: causeErr(err)}
	}
	return n, err
}

// seekWriter is a writer over a regular file, which a WAV writer seeks to fill in its header at the end.
type seekWriter struct{ writer }

func (w *seekWriter) Seek(offset int64, whence int) (int64, error) {
	n, err := w.f.Seek(offset, whence)
	if err != nil {
		err = &fs.PathError{Op: "seek", Path: w.path, Err: causeErr(err)}
	}
	return n, err
}

// causeErr is the error inside an *fs.PathError, which names the file the error happened on.
func causeErr(err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		return pe.Err
	}
	return err
}
