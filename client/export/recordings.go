package export

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/callscope/callscope/audio/decode"
	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/outfile"
	"github.com/callscope/callscope/client/reccache"
)

// Options set up Save.
type Options struct {
	// Source fetches the recordings.
	Source cdr.Source
	// Cache, when set, supplies recordings already downloaded (copied from disk, not fetched again).
	// Recordings that are not in it are downloaded straight into the folder, not into the cache, which a big
	// export would otherwise flush.
	Cache *reccache.Cache
	// Dir is the folder the recordings go into; it is created if missing.
	Dir string
	// Convert is "" to keep the bytes the PBX serves, or "wav" to decode them and write 16-bit PCM mono WAV.
	Convert string
	// Parallel is how many recordings download at once; 1 when 0.
	Parallel int
	// Resume keeps a manifest (ManifestName) in Dir, appended to as each file is saved, and skips the calls
	// whose file a previous run completed; names then stay the same from run to run, and files in Dir that no
	// manifest explains are never overwritten. Without it names start afresh and a file of the same name is
	// replaced.
	Resume bool
	// OnEvent, when set, hears what happens. It is called from one goroutine at a time.
	OnEvent func(Event)
}

// EventKind says what an Event reports.
type EventKind int

const (
	// Planned comes first: Files recordings to save, Bytes of them announced by the index (Unknown more have
	// no size there), Skipped already complete.
	Planned EventKind = iota
	// Started: a call's recording was asked for.
	Started
	// Progress: Bytes more were read from the PBX (or the cache).
	Progress
	// Saved: File (in Dir) holds the recording, Bytes long; Warning says what the decoder found odd.
	Saved
	// Skipped: File was complete already.
	Skipped
	// Failed: the call's recording could not be saved; Err says why. The others continue.
	Failed
)

// Event is one thing that happened during Save.
type Event struct {
	Kind    EventKind
	Call    cdr.Record // the call concerned; zero for Planned
	File    string
	Bytes   int64
	Err     error
	Warning string

	Files   int // Planned
	Skipped int // Planned
	Unknown int // Planned
}

// Failure is a recording that could not be saved.
type Failure struct {
	Call cdr.Record
	Err  error
}

// Summary is how Save went.
type Summary struct {
	Total      int   // calls with a recording
	Saved      int   // files written by this run
	Skipped    int   // files complete already
	Failed     int   // recordings that could not be saved
	Bytes      int64 // size of the files this run wrote
	Downloaded int64 // bytes read from the PBX or the cache
	Cancelled  bool  // the context ended before every recording was tried
	Failures   []Failure
}

// FirstErr is the first failure as "call ID: why", or nil.
func (s Summary) FirstErr() error {
	if len(s.Failures) == 0 {
		return nil
	}
	f := s.Failures[0]
	return fmt.Errorf("call %s: %w", f.Call.Ref(), f.Err)
}

// item is one call's recording in the plan.
type item struct {
	rec  cdr.Record
	stem string
	file string // the complete file already there, for a skipped item
	skip bool
}

type job struct {
	o       Options
	items   []*item
	journal *journal
	entries []ManifestEntry // the manifest as found, valid lines whose file exists
	evMu    sync.Mutex
}

// Save saves the recordings of the calls in rows that have one into o.Dir, each under a name made from its
// unique ID (the PBX's file name only lends its extension when the bytes do not say), and returns what
// happened. A recording that fails is reported (Event Failed, Summary.Failures) and the rest continue; the
// error is only for a folder that cannot be used. When ctx ends, downloads stop, nothing half-written is left
// under a final name, and the Summary says Cancelled.
func Save(ctx context.Context, rows Rows, o Options) (Summary, error) {
	if o.Convert != "" && o.Convert != "wav" {
		return Summary{}, fmt.Errorf("cannot convert recordings to %q: only wav is supported", o.Convert)
	}
	if o.Dir == "" {
		return Summary{}, errors.New("no folder given for the recordings")
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return Summary{}, fmt.Errorf("cannot create %s: %s", o.Dir, outfile.Cause(err))
	}
	if o.Parallel <= 0 {
		o.Parallel = 1
	}
	j := &job{o: o}
	if err := j.plan(rows); err != nil {
		return Summary{}, err
	}

	var sum Summary
	sum.Total = len(j.items)
	planned := Event{Kind: Planned}
	var pending []*item
	for _, it := range j.items {
		if it.skip {
			planned.Skipped++
			continue
		}
		pending = append(pending, it)
		planned.Files++
		if it.rec.RecordingSize > 0 {
			planned.Bytes += it.rec.RecordingSize
		} else {
			planned.Unknown++
		}
	}
	j.emit(planned)
	var saved []ManifestEntry
	for _, it := range j.items {
		if it.skip {
			sum.Skipped++
			j.emit(Event{Kind: Skipped, Call: it.rec, File: it.file, Bytes: fileSize(filepath.Join(o.Dir, it.file))})
		}
	}

	var mu sync.Mutex
	work := make(chan *item)
	var wg sync.WaitGroup
	for range min(o.Parallel, max(1, len(pending))) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range work {
				res := j.save(ctx, it)
				mu.Lock()
				sum.Downloaded += res.read
				switch {
				case res.err != nil && ctx.Err() != nil:
					sum.Cancelled = true
				case res.err != nil:
					sum.Failed++
					sum.Failures = append(sum.Failures, Failure{Call: it.rec, Err: res.err})
				default:
					sum.Saved++
					sum.Bytes += res.size
					saved = append(saved, res.entry)
				}
				mu.Unlock()
				if res.err != nil && ctx.Err() == nil {
					j.emit(Event{Kind: Failed, Call: it.rec, File: res.file, Err: res.err})
				} else if res.err == nil {
					j.emit(Event{Kind: Saved, Call: it.rec, File: res.file, Bytes: res.size, Warning: res.warning})
				}
			}
		}()
	}
	for _, it := range pending {
		if ctx.Err() != nil {
			break
		}
		select {
		case work <- it:
		case <-ctx.Done():
		}
	}
	close(work)
	wg.Wait()
	if ctx.Err() != nil && sum.Saved+sum.Failed < len(pending) {
		sum.Cancelled = true
	}
	outfile.SyncDir(o.Dir)
	if o.Resume {
		// The journal holds the same lines; rewriting it leaves one clean line per call.
		if err := writeManifest(o.Dir, j.finalManifest(saved)); err != nil {
			return sum, err
		}
	}
	return sum, nil
}

func (j *job) emit(e Event) {
	if j.o.OnEvent == nil {
		return
	}
	j.evMu.Lock()
	defer j.evMu.Unlock()
	j.o.OnEvent(e)
}

func fileSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return st.Size()
}

// plan gives every call with a recording its stem and, with Resume, finds the ones already complete.
func (j *job) plan(rows Rows) error {
	n := newNamer()
	byID := map[string]ManifestEntry{}
	disk := map[string][]os.FileInfo{} // lower-case stem → files with it that no manifest line explains
	if j.o.Resume {
		if err := j.scan(n, byID, disk); err != nil {
			return err
		}
	}
	count := 0
	if rows != nil {
		count = rows.Len()
	}
	for i := range count {
		r := rows.At(i)
		if r == nil || !r.HasRecording() {
			continue
		}
		it := &item{rec: *r}
		j.items = append(j.items, it)
		if e, ok := byID[r.UniqueID]; ok && r.UniqueID != "" && e.Convert == j.o.Convert &&
			fileSize(filepath.Join(j.o.Dir, e.File)) == e.Bytes {
			it.skip, it.file, it.stem = true, e.File, stemOf(e.File)
			continue
		}
		base := baseStem(r)
		for k := 1; ; k++ {
			stem := candidate(base, k)
			c, taken := n.claimOf(stem)
			if !taken || (c.kind == claimManifest && c.id == r.UniqueID && r.UniqueID != "") {
				it.stem = stem
				break
			}
			if c.kind == claimDisk {
				// A file a run saved just before it was killed, before its manifest line: the index's size
				// says whether it is this call's, complete. Anything else there is not ours to replace.
				if f := adoptable(disk[strings.ToLower(stem)], r, j.o.Convert); f != "" {
					it.stem, it.skip, it.file = stem, true, f
					break
				}
			}
		}
		n.take(it.stem, claim{kind: claimRun})
	}
	return nil
}

// adoptable is the file among files that holds r's recording as the PBX serves it, complete, by the index's
// size; "" when none does or the size cannot tell (unknown, or a converted file).
func adoptable(files []os.FileInfo, r *cdr.Record, convert string) string {
	if convert != "" || r.RecordingSize <= 0 {
		return ""
	}
	for _, f := range files {
		if f.Size() == r.RecordingSize {
			return f.Name()
		}
	}
	return ""
}

// scan reads the manifest and the folder: temporary files of an interrupted run are removed, the manifest's
// files keep their names for their calls, and other files' names are not reused.
func (j *job) scan(n *namer, byID map[string]ManifestEntry, disk map[string][]os.FileInfo) error {
	entries, err := ReadManifest(j.o.Dir)
	if err != nil {
		return err
	}
	ents, err := os.ReadDir(j.o.Dir)
	if err != nil {
		return fmt.Errorf("cannot read %s: %s", j.o.Dir, outfile.Cause(err))
	}
	files := map[string]os.FileInfo{}
	for _, de := range ents {
		name := de.Name()
		if strings.HasPrefix(name, ".") && strings.HasSuffix(name, ".tmp") && de.Type().IsRegular() {
			_ = os.Remove(filepath.Join(j.o.Dir, name)) // left by a run that was killed mid-file
			continue
		}
		if info, err := de.Info(); err == nil && info.Mode().IsRegular() {
			files[name] = info
		}
	}
	n.take(stemOf(ManifestName), claim{kind: claimReserved})
	for _, e := range entries {
		if _, ok := files[e.File]; !ok {
			continue // the file was deleted since: the call will be fetched again
		}
		j.entries = append(j.entries, e)
		byID[e.UniqueID] = e
		n.take(stemOf(e.File), claim{kind: claimManifest, id: e.UniqueID})
	}
	for name, info := range files {
		if name == ManifestName {
			continue
		}
		stem := stemOf(name)
		if c, ok := n.claimOf(stem); ok && c.kind != claimDisk {
			continue
		}
		n.take(stem, claim{kind: claimDisk})
		disk[strings.ToLower(stem)] = append(disk[strings.ToLower(stem)], info)
	}
	// Start from a clean manifest, so a line cut off by a crash is not continued by the next append.
	if err := writeManifest(j.o.Dir, j.entries); err != nil {
		return err
	}
	j.journal = &journal{path: filepath.Join(j.o.Dir, ManifestName)}
	return nil
}

// finalManifest is the manifest as found, updated with this run's files, plus the files adopted from disk.
func (j *job) finalManifest(saved []ManifestEntry) []ManifestEntry {
	out := append([]ManifestEntry(nil), j.entries...)
	at := map[string]int{}
	for i, e := range out {
		at[e.UniqueID] = i
	}
	put := func(e ManifestEntry) {
		if e.UniqueID == "" {
			return // nothing to find it by; its file is still in the folder
		}
		if i, ok := at[e.UniqueID]; ok {
			out[i] = e
			return
		}
		at[e.UniqueID] = len(out)
		out = append(out, e)
	}
	savedByID := map[string]ManifestEntry{}
	for _, e := range saved {
		savedByID[e.UniqueID] = e
	}
	for _, it := range j.items {
		if e, ok := savedByID[it.rec.UniqueID]; ok {
			put(e)
			continue
		}
		if it.skip {
			if _, ok := at[it.rec.UniqueID]; !ok {
				put(ManifestEntry{UniqueID: it.rec.UniqueID, File: it.file, Bytes: fileSize(filepath.Join(j.o.Dir, it.file)),
					Convert: j.o.Convert, RecordingFile: it.rec.Recording})
			}
		}
	}
	return out
}

type saveResult struct {
	file    string
	size    int64 // of the saved file
	read    int64 // from the PBX
	warning string
	entry   ManifestEntry
	err     error
}

// save fetches one recording and moves it into place under its final name.
func (j *job) save(ctx context.Context, it *item) (res saveResult) {
	r := it.rec
	j.emit(Event{Kind: Started, Call: r})
	var (
		rd     io.Reader
		format string
		size   int64 = -1
		closer func()
	)
	if c := j.o.Cache; c != nil && c.Has(j.o.Source, r) {
		if e, err := c.Fetch(ctx, j.o.Source, r, nil); err == nil {
			rd, format, size, closer = e.File, e.Format, e.Size, func() { _ = e.File.Close() }
		}
	}
	if rd == nil {
		if j.o.Source == nil {
			res.err = errors.New("no PBX to fetch recordings from")
			return res
		}
		rec, err := j.o.Source.Recording(ctx, cdr.ByRecord(r))
		if err != nil {
			res.err = err
			return res
		}
		rd, format, size, closer = rec, rec.Format, rec.Size, func() { _ = rec.Close() }
	}
	defer closer()

	ext := ".wav"
	if j.o.Convert == "" {
		ext = extFor(format, r.Recording)
	}
	res.file = it.stem + ext
	final := filepath.Join(j.o.Dir, res.file)
	raw, err := outfile.Temp(j.o.Dir, res.file)
	if err != nil {
		res.err = fmt.Errorf("cannot write in %s: %s", j.o.Dir, outfile.Cause(err))
		return res
	}
	defer func() { _ = os.Remove(raw.Name()) }() // a no-op once renamed
	n, err := io.Copy(raw, &countingReader{r: rd, ctx: ctx, on: func(k int64) {
		j.emit(Event{Kind: Progress, Call: r, Bytes: k})
	}})
	res.read = n
	switch {
	case err != nil:
	case n == 0:
		err = errors.New("the PBX sent an empty recording")
	case size > 0 && n != size:
		err = fmt.Errorf("the recording was cut off: got %d of %d bytes; run the export again", n, size)
	}
	if err != nil {
		_ = raw.Close()
		res.err = err
		return res
	}

	out := raw
	if j.o.Convert == "wav" {
		out, res.warning, err = j.convert(raw, n, r, res.file)
		_ = raw.Close() // read whole by convert, and removed: out is what is kept
		if err != nil {
			res.err = err
			return res
		}
		defer func() { _ = os.Remove(out.Name()) }() // a no-op once renamed
	}
	err = out.Sync()
	if st, serr := out.Stat(); err == nil && serr == nil {
		res.size = st.Size()
	} else if err == nil {
		err = serr
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		res.err = fmt.Errorf("writing %s: %s", res.file, outfile.Cause(err))
		return res
	}
	if err := os.Rename(out.Name(), final); err != nil {
		res.err = fmt.Errorf("cannot save %s: %s", res.file, outfile.Cause(err))
		return res
	}
	res.entry = ManifestEntry{UniqueID: r.UniqueID, File: res.file, Bytes: res.size, Convert: j.o.Convert,
		RecordingFile: r.Recording}
	if j.journal != nil && r.UniqueID != "" {
		if err := j.journal.add(res.entry); err != nil {
			res.err = err // the file is whole, but the next run would not know it is this call's
		}
	}
	return res
}

// convert decodes the downloaded bytes in raw (n of them) and writes them as 16-bit PCM WAV to a new
// temporary file, returned open. The PBX's name only hints at headerless formats; the bytes decide.
func (j *job) convert(raw *os.File, n int64, r cdr.Record, file string) (*os.File, string, error) {
	hint := reccache.SafeName(r.Recording)
	if hint == "" {
		hint = file
	}
	s, err := decode.Open(decode.Bytes(raw, n), hint)
	if err != nil {
		return nil, "", fmt.Errorf("cannot convert: %v", err)
	}
	defer func() { _ = s.Close() }()
	out, err := outfile.Temp(j.o.Dir, file)
	if err != nil {
		return nil, "", fmt.Errorf("cannot write in %s: %s", j.o.Dir, outfile.Cause(err))
	}
	samples, err := decode.WriteWAV(out, s)
	if err == nil {
		err = s.Err()
	}
	if err == nil && samples == 0 {
		err = errors.New("the recording holds no audio")
	}
	if err != nil {
		_ = out.Close()
		_ = os.Remove(out.Name())
		return nil, "", fmt.Errorf("cannot convert: %v", err)
	}
	return out, s.Info().Warning, nil
}

// countingReader reports each read and stops when ctx ends, so a cancelled export does not finish the file in
// hand first.
type countingReader struct {
	r   io.Reader
	ctx context.Context
	on  func(int64)
}

func (c *countingReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := c.r.Read(p)
	if n > 0 && c.on != nil {
		c.on(int64(n))
	}
	return n, err
}
