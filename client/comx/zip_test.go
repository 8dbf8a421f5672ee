package comx

import (
	"archive/zip"
	"bytes"
	"errors"
	"hash/crc32"
	"io"
	"io/fs"
	"strings"
	"testing"

	"github.com/callscope/callscope/client/cdr"
)

type entry struct {
	name string
	data string
}

// makeZip writes entries the way a Com.X (and pbxsim) does: index.txt deflated, recordings stored.
func makeZip(t testing.TB, entries ...entry) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, e := range entries {
		m := zip.Store
		if e.name == IndexName {
			m = zip.Deflate
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: e.name, Method: m})
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, e.data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

var (
	gsmBytes = strings.Repeat("\xd8\x20\xa2\xe1\x5a\x50\x00\x49\x24\x92\x49\x24\x50\x00\x49\x24\x92\x49\x24\x50\x00\x49\x24\x92\x49\x24\x50\x00\x49\x24\x92\x49\x24", 4)
	goodZip  = func(t testing.TB) []byte {
		return makeZip(t,
			entry{IndexName, specLines},
			entry{"g8266-20130301-093300-1362123180.67.gsm", gsmBytes},
			entry{"OUT8264-20130301-101131-1362125482.87.gsm", gsmBytes[:66]},
		)
	}
)

func openBytes(b []byte, lim Limits) (*Zip, error) {
	return OpenZip(bytes.NewReader(b), int64(len(b)), lim)
}

func TestZipGood(t *testing.T) {
	z, err := openBytes(goodZip(t), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{IndexName, "g8266-20130301-093300-1362123180.67.gsm", "OUT8264-20130301-101131-1362125482.87.gsm"}
	if got := z.Names(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("names %v", got)
	}
	var recs []cdr.Record
	rows, skipped, err := z.Index(func(r cdr.Record) error { recs = append(recs, r); return nil }, nil)
	if err != nil || rows != 2 || skipped != 0 {
		t.Fatalf("rows %d skipped %d err %v", rows, skipped, err)
	}
	sameRecords(t, recs, specRecords)
	for _, r := range recs {
		rc, size, err := z.Recording(r.Recording)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || int64(len(b)) != size || !strings.HasPrefix(gsmBytes, string(b)) || size == 0 {
			t.Errorf("%s: %d bytes (size %d), err %v", r.Recording, len(b), size, err)
		}
	}
	if _, _, err := z.Recording("nope.gsm"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing recording: %v", err)
	}
}

func TestZipIndexWarnings(t *testing.T) {
	z, err := openBytes(makeZip(t, entry{IndexName, "bad line\n" + specLines + "1.1,x\n"}), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	var lines []int
	rows, skipped, err := z.Index(func(cdr.Record) error { return nil }, func(err error) {
		var le *cdr.LineError
		if errors.As(err, &le) {
			lines = append(lines, le.Line)
		}
	})
	if err != nil || rows != 2 || skipped != 2 || !equalInts(lines, []int{1, 4}) {
		t.Fatalf("rows %d skipped %d lines %v err %v", rows, skipped, lines, err)
	}
}

func TestZipUnsafeNames(t *testing.T) {
	for _, name := range []string{"../evil.gsm", "../../etc/cron.d/x", "/etc/passwd", "rec/a.gsm", `..\evil.gsm`,
		`C:\evil.gsm`, "C:evil", "a\x00b", "a\nb", "..", ".", ""} {
		_, err := openBytes(makeZip(t, entry{IndexName, specLines}, entry{name, "x"}), Limits{})
		if !errors.Is(err, ErrUnsafeZip) {
			t.Errorf("%q: got %v, want unsafe", name, err)
			continue
		}
		if !strings.Contains(err.Error(), "refusing it") {
			t.Errorf("%q: message %q", name, err)
		}
	}
	_, err := openBytes(makeZip(t, entry{IndexName, specLines}, entry{"a.gsm", "x"}, entry{"a.gsm", "y"}), Limits{})
	if !errors.Is(err, ErrUnsafeZip) || !strings.Contains(err.Error(), "twice") {
		t.Errorf("duplicate: %v", err)
	}
}

func TestZipLimits(t *testing.T) {
	b := goodZip(t)
	for _, tc := range []struct {
		name string
		lim  Limits
		ok   bool
	}{
		{"defaults", Limits{}, true},
		{"per file", Limits{MaxFile: int64(len(specLines)) - 1}, false},
		{"per file exact", Limits{MaxFile: int64(len(specLines))}, true},
		{"total", Limits{MaxTotal: int64(len(specLines) + len(gsmBytes))}, false},
		{"file count", Limits{MaxFiles: 2}, false},
	} {
		_, err := openBytes(b, tc.lim)
		if tc.ok != (err == nil) || (!tc.ok && !errors.Is(err, ErrZipTooLarge)) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

func TestZipTruncated(t *testing.T) {
	b := goodZip(t)
	for _, n := range []int{len(b) - 1, len(b) - 30, len(b) / 2, 40, 4} {
		_, err := openBytes(b[:n], Limits{})
		if !errors.Is(err, ErrTruncatedZip) || !strings.HasPrefix(err.Error(), "the zip from the PBX is cut off (truncated)") {
			t.Errorf("cut at %d of %d: %v", n, len(b), err)
		}
	}
}

func TestZipNotAZip(t *testing.T) {
	for _, in := range []string{"", "<html><body>Login</body></html>", specLines} {
		_, err := openBytes([]byte(in), Limits{})
		if !errors.Is(err, ErrNotZip) {
			t.Errorf("%q: %v", in, err)
		}
	}
	z, err := openBytes(makeZip(t, entry{"a.gsm", "x"}), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := z.Index(func(cdr.Record) error { return nil }, nil); err == nil || !strings.Contains(err.Error(), "no index.txt") {
		t.Errorf("no index: %v", err)
	}
}

func TestZipDamagedEntry(t *testing.T) {
	b := goodZip(t)
	i := bytes.Index(b, []byte(gsmBytes[:33]))
	b[i+5] ^= 0xff // the CRC no longer matches
	z, err := openBytes(b, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	rc, _, err := z.Recording("g8266-20130301-093300-1362123180.67.gsm")
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.Copy(io.Discard, rc)
	if !errors.Is(err, ErrTruncatedZip) || !strings.Contains(err.Error(), "damaged") {
		t.Errorf("got %v", err)
	}
}

// An entry whose data is longer than its header says must not be read past the declared size.
func TestZipEntryLargerThanDeclared(t *testing.T) {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	data := []byte(strings.Repeat("A", 100))
	w, err := zw.CreateRaw(&zip.FileHeader{Name: "a.gsm", Method: zip.Store, CRC32: crc32.ChecksumIEEE(data),
		CompressedSize64: 100, UncompressedSize64: 10})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data)
	zw.Close()
	z, err := openBytes(b.Bytes(), Limits{MaxFile: 50})
	if err != nil {
		t.Fatal(err)
	}
	rc, _, err := z.Recording("a.gsm")
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, rc)
	if err == nil || n > 10 {
		t.Errorf("read %d bytes, err %v", n, err)
	}
}

func FuzzZip(f *testing.F) {
	good := goodZip(f)
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add(makeZip(f, entry{IndexName, specExample + "bad\n"}))
	f.Add(makeZip(f, entry{IndexName, specLines}, entry{"../evil", "x"}))
	f.Add(makeZip(f, entry{"a.gsm", ""}))
	f.Add([]byte("PK\x05\x06" + strings.Repeat("\x00", 18)))
	f.Fuzz(func(t *testing.T, data []byte) {
		lim := Limits{MaxTotal: 1 << 20, MaxFile: 256 << 10, MaxFiles: 64}
		z, err := openBytes(data, lim)
		if err != nil {
			return
		}
		if z.HasIndex() {
			z.Index(func(r cdr.Record) error {
				if r.UniqueID == "" {
					t.Fatalf("record without ID")
				}
				return nil
			}, nil)
		}
		var total int64
		for _, name := range z.Names() {
			if err := checkName(name); err != nil {
				t.Fatalf("unsafe name %q accepted", name)
			}
			rc, _, err := z.Recording(name)
			if err != nil {
				continue
			}
			n, _ := io.Copy(io.Discard, rc)
			rc.Close()
			if n > lim.MaxFile {
				t.Fatalf("%s: read %d bytes, over the per-file limit", name, n)
			}
			total += n
		}
		if total > lim.MaxTotal {
			t.Fatalf("read %d bytes in all, over the limit", total)
		}
	})
}
