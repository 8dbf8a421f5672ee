package decode

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzOpen opens arbitrary bytes under each kind of name and decodes them, seeking once: it must
// never panic or hang, and never produce more samples than the bytes can hold. The corpus files
// are the seeds, so every `go test` runs them.
func FuzzOpen(f *testing.F) {
	for _, pattern := range []string{"*", "broken/*"} {
		files, _ := filepath.Glob(filepath.Join(corpus, pattern))
		for _, p := range files {
			b, err := os.ReadFile(p)
			if err != nil || len(b) > 64<<10 || filepath.Ext(p) == ".s16le" || filepath.Ext(p) == ".sh" || filepath.Ext(p) == ".md" {
				continue
			}
			f.Add(b, filepath.Base(p), uint16(len(b)/3))
		}
	}
	f.Fuzz(func(t *testing.T, b []byte, name string, seekTo uint16) {
		s, err := Open(Bytes(bytes.NewReader(b), int64(len(b))), name)
		if err != nil {
			return
		}
		defer s.Close()
		got, _ := DecodeAll(s)
		if limit := len(b)/33*160 + len(b)/65*320 + len(b); len(got) > limit || s.Len() > limit {
			t.Fatalf("%d samples (Len %d) from %d bytes", len(got), s.Len(), len(b))
		}
		if len(got) != s.Position() {
			t.Fatalf("decoded %d samples, position %d", len(got), s.Position())
		}
		p := int(seekTo) % (len(got) + 1)
		if err := s.Seek(p); err != nil {
			if s.Err() == nil {
				t.Fatalf("seek to %d of %d: %v", p, len(got), err)
			}
			return
		}
		rest, _ := DecodeAll(s)
		if !equal16(rest, got[p:]) {
			t.Fatalf("after seek to %d: %d samples differ from the first decode", p, len(rest))
		}
	})
}

func equal16(a, b []int16) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
