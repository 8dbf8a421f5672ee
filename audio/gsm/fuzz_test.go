package gsm

import (
	"bytes"
	"errors"
	"testing"
)

// Every decoded sample has its three low bits cleared by the standard's final
// truncation; a sample that does not is a sign of a broken decode path.
func checkTruncated(t *testing.T, out []int16) {
	t.Helper()
	for i, s := range out {
		if s&7 != 0 {
			t.Fatalf("sample %d = %d has low bits set", i, s)
		}
	}
}

func FuzzDecode(f *testing.F) {
	for _, name := range corpus {
		b := readCorpus(f, name+".gsm")
		f.Add(b[:min(len(b), 4*FrameSize)])
	}
	f.Add([]byte{})
	f.Add([]byte{0xD0})
	f.Add(bytes.Repeat([]byte{0xFF}, FrameSize))
	f.Add(append([]byte{0xDF}, bytes.Repeat([]byte{0xFF}, 3*FrameSize)...))
	f.Add(append([]byte{0xD0}, make([]byte, FrameSize)...))

	f.Fuzz(func(t *testing.T, data []byte) {
		var d Decoder
		out := make([]int16, FrameSamples)
		var wantErr error
		switch {
		case len(data) < FrameSize:
			wantErr = ErrShort
		case data[0]>>4 != 0xD:
			wantErr = ErrBadMagic
		}
		if err := d.Decode(data, out); !errors.Is(err, wantErr) {
			t.Fatalf("Decode: got %v, want %v", err, wantErr)
		}
		// Decode the rest as a stream, so state built from odd frames is exercised,
		// and check that a snapshot replays a frame identically.
		checkTruncated(t, out)
		for p := FrameSize; p+FrameSize <= len(data); p += FrameSize {
			saved := d
			err := d.Decode(data[p:], out)
			if err != nil {
				if !errors.Is(err, ErrBadMagic) || d != saved {
					t.Fatalf("frame at %d: %v (state changed: %v)", p, err, d != saved)
				}
				continue
			}
			checkTruncated(t, out)
			again := make([]int16, FrameSamples)
			if err := saved.Decode(data[p:], again); err != nil || !equal(out, again) || saved != d {
				t.Fatalf("frame at %d: replay from a snapshot differs", p)
			}
		}
	})
}

func FuzzDecodeWAV49(f *testing.F) {
	for _, name := range corpus {
		data := wavData(f, readCorpus(f, name+".wav49.wav"))
		f.Add(data[:min(len(data), 2*WAV49BlockSize)])
	}
	f.Add([]byte{})
	f.Add(make([]byte, WAV49BlockSize-1))
	f.Add(bytes.Repeat([]byte{0xFF}, WAV49BlockSize))

	f.Fuzz(func(t *testing.T, data []byte) {
		var d Decoder
		out := make([]int16, WAV49BlockSamples)
		err := d.DecodeWAV49(data, out)
		if len(data) < WAV49BlockSize {
			if !errors.Is(err, ErrShort) || d != (Decoder{}) {
				t.Fatalf("short block: got %v, state changed: %v", err, d != (Decoder{}))
			}
			return
		}
		if err != nil {
			t.Fatalf("DecodeWAV49: %v", err)
		}
		checkTruncated(t, out)
		for p := WAV49BlockSize; p+WAV49BlockSize <= len(data); p += WAV49BlockSize {
			if err := d.DecodeWAV49(data[p:], out); err != nil {
				t.Fatalf("block at %d: %v", p, err)
			}
			checkTruncated(t, out)
		}
	})
}

func equal(a, b []int16) bool {
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
