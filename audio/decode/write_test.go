package decode

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/callscope/callscope/audio/wav"
)

func TestWriteS16LE(t *testing.T) {
	path := filepath.Join(corpus, "speech-gsm.gsm")
	s, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var out bytes.Buffer
	n, err := WriteS16LE(&out, s)
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := os.ReadFile(path + ".s16le")
	if !bytes.Equal(out.Bytes(), ref) || n != int64(len(ref)/2) {
		t.Fatalf("wrote %d samples (%d bytes) differing from sox's %d bytes", n, out.Len(), len(ref))
	}
}

// TestWriteWAV writes to a file (sizes patched after streaming) and to a pipe-like buffer (sizes
// known up front) and reads both back.
func TestWriteWAV(t *testing.T) {
	path := filepath.Join(corpus, "speech-wav49.wav")
	want, _ := decodeFile(t, path)
	check := func(t *testing.T, b []byte) {
		got, h, err := wav.ReadAll(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		if h.Encoding != wav.PCM16 || h.Channels != 1 || h.SampleRate != 8000 || len(h.Warnings) > 0 {
			t.Fatalf("header %+v", h)
		}
		sameSamples(t, got, want)
	}
	t.Run("file", func(t *testing.T) {
		s, err := OpenFile(path)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		f, err := os.Create(filepath.Join(t.TempDir(), "out.wav"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := WriteWAV(f, s); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(f.Name())
		check(t, b)
	})
	t.Run("pipe", func(t *testing.T) {
		s, err := OpenFile(path)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		var out bytes.Buffer
		if _, err := WriteWAV(&out, s); err != nil {
			t.Fatal(err)
		}
		check(t, out.Bytes())
	})
}

// TestWriteDamaged writes what decoded before a damaged frame and returns the stream's error.
func TestWriteDamaged(t *testing.T) {
	s, err := OpenFile(filepath.Join(corpus, "broken", "gsm-bad-frame-midway.gsm"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	f, err := os.Create(filepath.Join(t.TempDir(), "out.wav"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n, err := WriteWAV(f, s)
	if err == nil || !strings.Contains(err.Error(), "damaged") || n != 8000 {
		t.Fatalf("wrote %d, error %v", n, err)
	}
	b, _ := os.ReadFile(f.Name())
	got, _, err := wav.ReadAll(bytes.NewReader(b), int64(len(b)))
	if err != nil || len(got) != 8000 {
		t.Fatalf("read back %d samples, %v", len(got), err)
	}
}
