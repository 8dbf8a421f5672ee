package comx

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"unicode/utf8"

	"github.com/callscope/callscope/client/cdr"
)

// IndexName is the index's name inside a ziprec archive.
const IndexName = "index.txt"

// Limits bound what a ziprec archive may unpack to, so a broken or hostile PBX cannot fill the disk or memory.
type Limits struct {
	MaxTotal int64 // all entries together, uncompressed
	MaxFile  int64 // one entry, uncompressed
	MaxFiles int   // number of entries
	// MaxRatio bounds how many times its compressed size an entry larger than ratioFloorFile, and the archive
	// as a whole when larger than ratioFloorTotal, may unpack to. Recorded audio hardly compresses (a Com.X
	// stores it) and the index is text; a zip that expands hundreds of times is a zip bomb.
	MaxRatio int
}

// DefaultLimits suit a PBX: a one-hour A-law WAV is about 29 MB, and a month of a busy office's recordings a few
// GB. Text deflates about ten times; audio less than twice.
var DefaultLimits = Limits{MaxTotal: 32 << 30, MaxFile: 2 << 30, MaxFiles: 1 << 20, MaxRatio: 100}

// Sizes under which the compression ratio is not checked: small entries (a short silent recording) may compress
// well, and cannot hurt.
const (
	ratioFloorFile  = 16 << 20
	ratioFloorTotal = 64 << 20
)

// Errors a caller may tell apart with errors.Is.
var (
	ErrTruncatedZip = errors.New("truncated zip")
	ErrNotZip       = errors.New("not a zip")
	ErrUnsafeZip    = errors.New("unsafe zip")
	ErrZipTooLarge  = errors.New("zip too large")
)

// Zip is a ziprec archive opened for reading: an index.txt and the recordings it names, all at the top level.
// Every name is checked when it is opened, so later reads can trust them.
type Zip struct {
	files map[string]*zip.File
	names []string // in archive order
	index *zip.File
	lim   Limits
	sizes map[string]int64 // recording sizes the index gives, by file name, once Index has read it
}

// OpenZip reads the archive's directory. The PBX is not trusted: a name that is not a plain file name (a
// directory, "..", an absolute or Windows path), a duplicate name, or sizes over lim refuse the whole archive;
// an archive cut off before its directory says so. Zero fields of lim take DefaultLimits'.
func OpenZip(r io.ReaderAt, size int64, lim Limits) (*Zip, error) {
	if lim.MaxTotal <= 0 {
		lim.MaxTotal = DefaultLimits.MaxTotal
	}
	if lim.MaxFile <= 0 {
		lim.MaxFile = DefaultLimits.MaxFile
	}
	if lim.MaxFiles <= 0 {
		lim.MaxFiles = DefaultLimits.MaxFiles
	}
	if lim.MaxRatio <= 0 {
		lim.MaxRatio = DefaultLimits.MaxRatio
	}
	if size <= 0 {
		return nil, fmt.Errorf("the PBX sent an empty answer instead of a zip: %w", ErrNotZip)
	}
	zr, err := zip.NewReader(r, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) { // insecure names are refused below, with the name
		return nil, zipOpenError(r, size, err)
	}
	if len(zr.File) > lim.MaxFiles {
		return nil, fmt.Errorf("the zip from the PBX holds %d files, more than the limit of %d: %w",
			len(zr.File), lim.MaxFiles, ErrZipTooLarge)
	}
	z := &Zip{files: make(map[string]*zip.File, len(zr.File)), lim: lim}
	var total, packed uint64
	for _, f := range zr.File {
		if err := checkName(f.Name); err != nil {
			return nil, err
		}
		if _, dup := z.files[f.Name]; dup {
			return nil, fmt.Errorf("the zip from the PBX holds %q twice; refusing it: %w", f.Name, ErrUnsafeZip)
		}
		if f.UncompressedSize64 > uint64(lim.MaxFile) {
			return nil, fmt.Errorf("%s in the zip from the PBX unpacks to %d bytes, more than the limit of %d: %w",
				f.Name, f.UncompressedSize64, lim.MaxFile, ErrZipTooLarge)
		}
		if f.UncompressedSize64 > ratioFloorFile && f.UncompressedSize64/uint64(lim.MaxRatio) > f.CompressedSize64 {
			return nil, bombError(f.Name, f.UncompressedSize64, f.CompressedSize64)
		}
		total += f.UncompressedSize64
		packed += f.CompressedSize64
		if total > uint64(lim.MaxTotal) {
			return nil, fmt.Errorf("the zip from the PBX unpacks to more than the limit of %d bytes: %w",
				lim.MaxTotal, ErrZipTooLarge)
		}
		z.files[f.Name] = f
		z.names = append(z.names, f.Name)
		if f.Name == IndexName || (z.index == nil && strings.EqualFold(f.Name, IndexName)) {
			z.index = f
		}
	}
	if total > ratioFloorTotal && total/uint64(lim.MaxRatio) > packed {
		return nil, bombError("", total, packed)
	}
	return z, nil
}

// bombError refuses an entry (or, with no name, the archive) that unpacks to far more than it takes.
func bombError(name string, unpacked, packed uint64) error {
	what := "the zip from the PBX"
	if name != "" {
		what = printable([]byte(name)) + " in the zip from the PBX"
	}
	return fmt.Errorf("%s unpacks to %d bytes from %d (%d times): recorded audio does not compress like that, so it is refused as a zip bomb: %w",
		what, unpacked, packed, unpacked/max(packed, 1), ErrZipTooLarge)
}

// zipOpenError explains why the archive could not be opened. A zip is written front to back with its directory
// last, so a download that stopped early starts like a zip but has no directory.
func zipOpenError(r io.ReaderAt, size int64, err error) error {
	head := make([]byte, min(size, 64))
	n, _ := r.ReadAt(head, 0)
	head = head[:n]
	if strings.HasPrefix(string(head), "PK\x03\x04") || strings.HasPrefix(string(head), "PK\x05\x06") {
		return fmt.Errorf("the zip from the PBX is cut off (truncated) or damaged after %d bytes: fetch it again (%v): %w",
			size, err, ErrTruncatedZip)
	}
	return fmt.Errorf("the PBX did not send a zip (its answer starts %q): %w", printable(head), ErrNotZip)
}

// printable shortens and cleans bytes for an error message.
func printable(b []byte) string {
	var sb strings.Builder
	for _, r := range string(b) {
		if sb.Len() >= 40 {
			sb.WriteString("…")
			break
		}
		if r == utf8.RuneError || r < 0x20 || r == 0x7f {
			r = '.'
		}
		sb.WriteRune(r)
	}
	return sb.String()
}

// checkName accepts only a plain file name: the spec's zip is flat, and anything else could be made to write
// outside the folder it is unpacked into.
func checkName(name string) error {
	bad := ""
	switch {
	case name == "" || name == "." || name == "..":
		bad = "is not a file name"
	case strings.ContainsAny(name, `/\`):
		bad = "has a directory or path in it"
	case strings.ContainsRune(name, ':'):
		bad = "looks like a drive or stream name"
	case strings.IndexFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0:
		bad = "has control characters in it"
	case !utf8.ValidString(name):
		bad = "is not valid UTF-8"
	}
	if bad != "" {
		return fmt.Errorf("the zip from the PBX holds %q, which %s; refusing it: %w", printable([]byte(name)), bad, ErrUnsafeZip)
	}
	return nil
}

// Names lists the archive's entries in archive order, index.txt included.
func (z *Zip) Names() []string { return append([]string(nil), z.names...) }

// HasIndex reports whether the archive holds index.txt.
func (z *Zip) HasIndex() bool { return z.index != nil }

// Index streams the records of index.txt to fn. Malformed lines go to onWarn (which may be nil) as
// *cdr.LineError and are skipped. It returns the number of records passed to fn and of lines skipped. The
// recording sizes the index gives are kept, and bound the recordings Recording opens after.
func (z *Zip) Index(fn func(cdr.Record) error, onWarn func(error)) (rows, skipped int, err error) {
	if z.index == nil {
		return 0, 0, fmt.Errorf("the zip from the PBX has no %s: %w", IndexName, ErrNotZip)
	}
	rc, err := z.open(z.index)
	if err != nil {
		return 0, 0, err
	}
	defer func() { _ = rc.Close() }()
	if z.sizes == nil {
		z.sizes = map[string]int64{}
	}
	return Parse(rc, func(r cdr.Record) error {
		if _, ok := z.files[r.Recording]; ok && r.RecordingSize > 0 {
			z.sizes[r.Recording] = r.RecordingSize
		}
		return fn(r)
	}, onWarn)
}

// Recording opens one entry by its exact name, with its uncompressed size. A name the archive does not hold
// gives an error wrapping fs.ErrNotExist; an entry far larger than the size the index gives for it (once Index
// has read the index; see recordingLimit) one wrapping ErrZipTooLarge.
func (z *Zip) Recording(name string) (io.ReadCloser, int64, error) {
	f, ok := z.files[name]
	if !ok {
		return nil, 0, fmt.Errorf("%q is not in the zip from the PBX: %w", printable([]byte(name)), fs.ErrNotExist)
	}
	if want, ok := z.sizes[name]; ok && f.UncompressedSize64 > uint64(recordingLimit(want)) {
		return nil, 0, fmt.Errorf("%s in the zip from the PBX unpacks to %d bytes, but the index says %d: refusing it: %w",
			printable([]byte(name)), f.UncompressedSize64, want, ErrZipTooLarge)
	}
	rc, err := z.open(f)
	if err != nil {
		return nil, 0, err
	}
	return rc, int64(f.UncompressedSize64), nil
}

func (z *Zip) open(f *zip.File) (io.ReadCloser, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("cannot read %s in the zip from the PBX: %v: %w", f.Name, err, ErrTruncatedZip)
	}
	// archive/zip already refuses more bytes than the entry declares; the limit is a second, independent guard.
	return &entryReader{rc: rc, left: min(int64(f.UncompressedSize64), z.lim.MaxFile) + 1, name: f.Name}, nil
}

// entryReader reads one entry, turning archive/zip's terse errors into sentences and enforcing the size limit.
type entryReader struct {
	rc   io.ReadCloser
	left int64
	name string
}

func (e *entryReader) Read(p []byte) (int, error) {
	if int64(len(p)) > e.left {
		p = p[:e.left]
	}
	n, err := e.rc.Read(p)
	e.left -= int64(n)
	if e.left <= 0 {
		return n, fmt.Errorf("%s in the zip from the PBX is larger than it says: %w", e.name, ErrUnsafeZip)
	}
	if err != nil && err != io.EOF {
		err = fmt.Errorf("%s in the zip from the PBX is damaged: %v: %w", e.name, err, ErrTruncatedZip)
	}
	return n, err
}

func (e *entryReader) Close() error { return e.rc.Close() }
