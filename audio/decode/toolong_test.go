package decode

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTooLongForWAV: a recording with more samples than a WAV header can state is refused with a typed error
// that says so without naming a flag, to a file (sizes patched) and to a pipe (sizes up front). The limit is
// lowered so the test does not write 4 GiB.
func TestTooLongForWAV(t *testing.T) {
	defer func(old int64) { maxWAVSamples = old }(maxWAVSamples)
	maxWAVSamples = 1000
	f, err := os.Create(filepath.Join(t.TempDir(), "out.wav"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for name, w := range map[string]io.Writer{"file": f, "pipe": &bytes.Buffer{}} {
		s, err := OpenFile(filepath.Join(corpus, "speech-gsm.gsm"))
		if err != nil {
			t.Fatal(err)
		}
		_, werr := WriteWAV(w, s)
		s.Close()
		var tl *WAVTooLongError
		if !errors.As(werr, &tl) || tl.Samples <= 1000 || strings.Contains(werr.Error(), "--") {
			t.Errorf("%s: %v, want a WAVTooLongError without a flag", name, werr)
		}
	}
}
