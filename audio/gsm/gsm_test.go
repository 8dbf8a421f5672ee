package gsm

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
)

const corpusDir = "../../testdata/gsm"

// corpus names the signals gen.sh encodes; each has NAME.gsm, NAME.wav49.wav and
// sox's decodes NAME.ref.raw and NAME.wav49.ref.raw.
var corpus = []string{"speech", "odd", "silence", "noise", "sweep", "square", "random"}

func readCorpus(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(corpusDir, name))
	if err != nil {
		t.Fatalf("read test corpus: %v (run testdata/gsm/gen.sh)", err)
	}
	return b
}

func readRef(t testing.TB, name string) []int16 {
	t.Helper()
	b := readCorpus(t, name)
	if len(b)%2 != 0 {
		t.Fatalf("%s: odd length %d for s16le samples", name, len(b))
	}
	s := make([]int16, len(b)/2)
	for i := range s {
		s[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
	}
	return s
}

// wavData returns the payload of the "data" chunk of a RIFF/WAVE file. It is just
// enough to reach the GSM blocks of the files gen.sh makes; audio/wav is the real reader.
func wavData(t testing.TB, b []byte) []byte {
	t.Helper()
	if len(b) < 12 || string(b[:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		t.Fatal("not a RIFF/WAVE file")
	}
	for p := 12; p+8 <= len(b); {
		id, size := string(b[p:p+4]), int(binary.LittleEndian.Uint32(b[p+4:]))
		p += 8
		if id == "data" {
			return b[p:min(p+size, len(b))]
		}
		p += size + size&1
	}
	t.Fatal("no data chunk")
	return nil
}

// firstDiff returns a readable description of the first mismatch, or "".
func firstDiff(got, want []int16) string {
	if len(got) != len(want) {
		return fmt.Sprintf("decoded %d samples, reference has %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			return fmt.Sprintf("sample %d (frame %d): got %d, want %d", i, i/FrameSamples, got[i], want[i])
		}
	}
	return ""
}

func decodeRaw(t testing.TB, d *Decoder, gsm []byte) []int16 {
	t.Helper()
	if len(gsm)%FrameSize != 0 {
		t.Fatalf("raw GSM size %d is not a multiple of %d", len(gsm), FrameSize)
	}
	out := make([]int16, len(gsm)/FrameSize*FrameSamples)
	for i := 0; i < len(gsm)/FrameSize; i++ {
		if err := d.Decode(gsm[i*FrameSize:], out[i*FrameSamples:]); err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
	}
	return out
}

func TestDecodeMatchesSox(t *testing.T) {
	for _, name := range corpus {
		t.Run(name, func(t *testing.T) {
			var d Decoder
			got := decodeRaw(t, &d, readCorpus(t, name+".gsm"))
			if diff := firstDiff(got, readRef(t, name+".ref.raw")); diff != "" {
				t.Fatal(diff)
			}
		})
	}
}

func TestDecodeWAV49MatchesSox(t *testing.T) {
	for _, name := range corpus {
		t.Run(name, func(t *testing.T) {
			data := wavData(t, readCorpus(t, name+".wav49.wav"))
			// sox counts the RIFF pad byte in the data size when the blocks add up to
			// an odd length, so allow that one byte and no more.
			if rest := len(data) % WAV49BlockSize; rest > 1 {
				t.Fatalf("data chunk of %d bytes is not whole blocks", len(data))
			}
			var d Decoder
			got := make([]int16, len(data)/WAV49BlockSize*WAV49BlockSamples)
			for i := 0; i < len(data)/WAV49BlockSize; i++ {
				if err := d.DecodeWAV49(data[i*WAV49BlockSize:], got[i*WAV49BlockSamples:]); err != nil {
					t.Fatalf("block %d: %v", i, err)
				}
			}
			if diff := firstDiff(got, readRef(t, name+".wav49.ref.raw")); diff != "" {
				t.Fatal(diff)
			}
		})
	}
}

// The corpus must actually reach the paths that bit-exactness hinges on, or the
// comparisons above prove less than they seem to.
func TestCorpusCoversSaturation(t *testing.T) {
	ref := readRef(t, "square.ref.raw")
	extreme := 0
	for _, s := range ref {
		if s == maxWord&^7 || s == minWord {
			extreme++
		}
	}
	if extreme == 0 {
		t.Error("square.ref.raw never reaches full scale; the saturation paths are untested")
	}
	gsm := readCorpus(t, "random.gsm")
	outOfRange := 0
	for i := 0; i+FrameSize <= len(gsm); i += FrameSize {
		p := refUnpackMSB(gsm[i : i+FrameSize])
		for j := range 4 {
			if nc := p[8+17*j]; nc < 40 || nc > 120 {
				outOfRange++
			}
		}
	}
	if outOfRange == 0 {
		t.Error("random.gsm has no out-of-range LTP lag; the nrp fallback is untested")
	}
}

func TestSnapshotRestoresState(t *testing.T) {
	gsm := readCorpus(t, "speech.gsm")
	want := readRef(t, "speech.ref.raw")
	var d Decoder
	out := make([]int16, FrameSamples)
	const mark = 100
	for i := range mark {
		if err := d.Decode(gsm[i*FrameSize:], out); err != nil {
			t.Fatal(err)
		}
	}
	saved := d
	for i := mark; i < mark+50; i++ {
		if err := d.Decode(gsm[i*FrameSize:], out); err != nil {
			t.Fatal(err)
		}
	}
	d = saved
	got := decodeRaw(t, &d, gsm[mark*FrameSize:])
	if diff := firstDiff(got, want[mark*FrameSamples:]); diff != "" {
		t.Fatalf("after restoring a snapshot: %s", diff)
	}

	d.Reset()
	got = decodeRaw(t, &d, gsm)
	if diff := firstDiff(got, want); diff != "" {
		t.Fatalf("after Reset: %s", diff)
	}
}

func TestDecodeBadInput(t *testing.T) {
	magicZeros := make([]byte, FrameSize)
	magicZeros[0] = 0xD0
	tests := []struct {
		name    string
		frame   []byte
		outLen  int
		wantErr error
	}{
		{"nil frame", nil, FrameSamples, ErrShort},
		{"short frame", bytes.Repeat([]byte{0xD0}, FrameSize-1), FrameSamples, ErrShort},
		{"bad magic", make([]byte, FrameSize), FrameSamples, ErrBadMagic},
		{"all 0xFF", bytes.Repeat([]byte{0xFF}, FrameSize), FrameSamples, ErrBadMagic},
		{"magic then zeros", magicZeros, FrameSamples, nil},
		{"magic then 0xFF", append([]byte{0xDF}, bytes.Repeat([]byte{0xFF}, FrameSize-1)...), FrameSamples, nil},
		{"longer than a frame", append(magicZeros, 1, 2, 3), FrameSamples, nil},
		{"short output", magicZeros, FrameSamples - 1, io.ErrShortBuffer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d Decoder
			// Put the decoder in a non-initial state so "untouched" is observable.
			if err := d.Decode(readCorpus(t, "speech.gsm")[40*FrameSize:], make([]int16, FrameSamples)); err != nil {
				t.Fatal(err)
			}
			before := d
			err := d.Decode(tt.frame, make([]int16, tt.outLen))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Decode: got error %v, want %v", err, tt.wantErr)
			}
			if err != nil && d != before {
				t.Error("a rejected frame changed the decoder state")
			}
			if err == nil && d == before {
				t.Error("a decoded frame left the decoder state unchanged")
			}
		})
	}
}

func TestDecodeWAV49BadInput(t *testing.T) {
	tests := []struct {
		name    string
		block   []byte
		outLen  int
		wantErr error
	}{
		{"nil block", nil, WAV49BlockSamples, ErrShort},
		{"one raw frame", make([]byte, FrameSize), WAV49BlockSamples, ErrShort},
		{"short block", make([]byte, WAV49BlockSize-1), WAV49BlockSamples, ErrShort},
		{"all zeros", make([]byte, WAV49BlockSize), WAV49BlockSamples, nil},
		{"all 0xFF", bytes.Repeat([]byte{0xFF}, WAV49BlockSize), WAV49BlockSamples, nil},
		{"short output", make([]byte, WAV49BlockSize), WAV49BlockSamples - 1, io.ErrShortBuffer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d Decoder
			before := d
			err := d.DecodeWAV49(tt.block, make([]int16, tt.outLen))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("DecodeWAV49: got error %v, want %v", err, tt.wantErr)
			}
			if err != nil && d != before {
				t.Error("a rejected block changed the decoder state")
			}
		})
	}
}

func TestErrorsAreReadable(t *testing.T) {
	for _, err := range []error{ErrBadMagic, ErrShort} {
		msg := err.Error()
		if len(msg) < 20 || bytes.ContainsRune([]byte(msg), '\n') {
			t.Errorf("error %q should be one readable line", msg)
		}
	}
}

func TestIsFrame(t *testing.T) {
	speech := readCorpus(t, "speech.gsm")
	wav49 := readCorpus(t, "speech.wav49.wav")
	misaligned := speech[1:]
	oneBad := bytes.Clone(speech[:8*FrameSize])
	oneBad[5*FrameSize] = 0x00
	tests := []struct {
		name string
		b    []byte
		want bool
	}{
		{"empty", nil, false},
		{"one magic byte", []byte{0xD3}, true},
		{"one frame", speech[:FrameSize], true},
		{"many frames", speech, true},
		{"frames and a partial one", speech[:3*FrameSize+5], true},
		{"misaligned", misaligned, false},
		{"fifth frame broken", oneBad, false},
		{"WAV49 file", wav49, false},
		{"zeros", make([]byte, 10*FrameSize), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsFrame(tt.b); got != tt.want {
				t.Errorf("IsFrame = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDecodeAllocatesNothing(t *testing.T) {
	gsm := readCorpus(t, "speech.gsm")
	wav := wavData(t, readCorpus(t, "speech.wav49.wav"))
	var d Decoder
	out := make([]int16, WAV49BlockSamples)
	if n := testing.AllocsPerRun(100, func() { _ = d.Decode(gsm, out) }); n != 0 {
		t.Errorf("Decode allocates %v times per frame, want 0", n)
	}
	if n := testing.AllocsPerRun(100, func() { _ = d.DecodeWAV49(wav, out) }); n != 0 {
		t.Errorf("DecodeWAV49 allocates %v times per block, want 0", n)
	}
}
