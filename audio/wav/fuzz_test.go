package wav

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzReadAll feeds arbitrary bytes to the reader: it must return an error or samples, never
// panic, hang or allocate beyond what the input can decode to. The seeds are the whole corpus,
// good and broken, so `go test` runs them every time.
func FuzzReadAll(f *testing.F) {
	for _, pattern := range []string{"*.wav", "broken/*"} {
		files, _ := filepath.Glob(filepath.Join(corpus, pattern))
		for _, p := range files {
			b, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		samples, h, err := ReadAll(bytes.NewReader(b), int64(len(b)))
		if h == nil {
			if err == nil {
				t.Fatal("no header and no error")
			}
			return
		}
		// GSM is the densest encoding: 65 bytes give 320 samples.
		if limit := len(b)/65*320 + len(b); len(samples) > limit {
			t.Fatalf("%d samples from %d bytes", len(samples), len(b))
		}
		if h.BlockAlign <= 0 || h.Channels <= 0 || h.SampleRate <= 0 {
			t.Fatalf("header accepted with block %d, channels %d, rate %d", h.BlockAlign, h.Channels, h.SampleRate)
		}
	})
}
