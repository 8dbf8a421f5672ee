package wav

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/callscope/callscope/audio/g711"
)

const corpus = "../../testdata/audio"

func readRef(t testing.TB, path string) []int16 {
	t.Helper()
	b, err := os.ReadFile(path + ".s16le")
	if err != nil {
		t.Fatalf("reference decode missing: %v (run testdata/audio/gen.sh)", err)
	}
	s := make([]int16, len(b)/2)
	for i := range s {
		s[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
	}
	return s
}

func readAll(t testing.TB, path string) ([]int16, *Header, error) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return ReadAll(bytes.NewReader(b), int64(len(b)))
}

// downmix averages interleaved channels the way Decoder does.
func downmix(s []int16, ch int) []int16 {
	out := make([]int16, len(s)/ch)
	for i := range out {
		var sum int32
		for c := range ch {
			sum += int32(s[i*ch+c])
		}
		out[i] = int16(sum / int32(ch))
	}
	return out
}

func sameSamples(t *testing.T, got, want []int16) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("decoded %d samples, reference has %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("sample %d: got %d, sox decoded %d", i, got[i], want[i])
		}
	}
}

// TestCorpus decodes every WAV file of the corpus and compares it sample by sample with sox's decode.
func TestCorpus(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(corpus, "*.wav"))
	if len(files) < 20 {
		t.Fatalf("only %d WAV files in %s (run testdata/audio/gen.sh)", len(files), corpus)
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			got, h, err := readAll(t, path)
			if err != nil {
				t.Fatal(err)
			}
			if len(h.Warnings) > 0 {
				t.Errorf("warnings for a file sox wrote: %q", h.Warnings)
			}
			want := downmix(readRef(t, path), h.Channels)
			if h.Encoding == GSM610 {
				// sox ignores the fact chunk and plays the padding of the last block; we stop
				// where fact says the audio ends.
				if h.FactSamples < 0 || int64(len(want))-h.FactSamples >= 320 || int64(len(want)) < h.FactSamples {
					t.Fatalf("fact %d does not fit sox's %d samples", h.FactSamples, len(want))
				}
				want = want[:h.FactSamples]
			}
			sameSamples(t, got, want)
		})
	}
}

func TestBroken(t *testing.T) {
	speech := func(name string) []int16 { return readRef(t, filepath.Join(corpus, name)) }
	tests := []struct {
		file    string
		err     string   // substring of the error; "" for a clean decode
		trunc   bool     // the error must match ErrTruncated and samples come back
		warn    string   // substring of a header warning
		want    []int16  // expected samples (prefix when trunc), nil to skip
		samples int      // expected sample count when want is a prefix
		enc     Encoding // for files that decode
	}{
		{file: "truncated-wav49.wav", trunc: true, err: "declares 355 more bytes", want: speech("speech-wav49.wav"), samples: 39 * 320, enc: GSM610},
		{file: "truncated-pcm16-odd-byte.wav", trunc: true, err: "declares 1001 more bytes", want: speech("speech-pcm16.wav"), samples: 13868, enc: PCM16},
		{file: "datasize-too-big.wav", trunc: true, err: "declares 9999 more bytes", want: speech("speech-alaw.wav"), samples: 14370, enc: ALaw},
		{file: "datasize-ffffffff.wav", want: speech("speech-alaw.wav"), samples: 14368, enc: ALaw},
		{file: "datasize-zero-wav49.wav", want: speech("speech-wav49.wav"), samples: 14400, enc: GSM610},
		{file: "riffsize-wrong.wav", want: speech("speech-ulaw.wav"), enc: ULaw},
		{file: "mp3-tag.wav", err: "MP3 (tag 0x0055) is not supported"},
		{file: "float-extensible.wav", err: "IEEE float (tag 0x0003) is not supported"},
		{file: "pcm24.wav", err: "24-bit PCM is not supported"},
		{file: "wav49-stereo.wav", err: "GSM 6.10 with 2 channels is not supported"},
		{file: "chunks-reordered.wav", want: speech("speech-ulaw.wav"), enc: ULaw},
		{file: "odd-chunks.wav", want: speech("speech-pcm8.wav"), samples: 14369, enc: PCM8},
		{file: "fact-after-data.wav", want: speech("speech-wav49.wav"), samples: 14369, enc: GSM610},
		{file: "chunk-size-huge.wav", err: `"LIST" chunk at byte 12 claims 4294967040 bytes`},
		{file: "extensible-pcm16.wav", want: speech("speech-pcm16.wav"), enc: PCM16},
		{file: "extensible-alaw.wav", want: speech("speech-alaw.wav"), enc: ALaw},
		{file: "inconsistent-blockalign.wav", warn: "header says 4-byte blocks", want: speech("speech-pcm16.wav"), enc: PCM16},
		{file: "inconsistent-byterate.wav", warn: "12345 bytes per second", want: speech("speech-alaw.wav"), enc: ALaw},
		{file: "inconsistent-channels-zero.wav", err: "0 channels"},
		{file: "inconsistent-rate-zero.wav", err: "sample rate of 0 Hz"},
		{file: "inconsistent-gsm-blockalign.wav", err: "needs 65-byte blocks but the header says 33"},
		{file: "empty.wav", err: "the file is empty"},
		{file: "header-cut.wav", err: "ends inside its fmt chunk"},
		{file: "no-data.wav", err: "ends before its data chunk"},
		{file: "no-fmt.wav", err: "ends before its fmt chunk"},
		{file: "random.wav", err: "not a WAV file"},
		{file: "random-after-riff.wav", err: "not a RIFF chunk"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, h, err := readAll(t, filepath.Join(corpus, "broken", tt.file))
			switch {
			case tt.err == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Fatalf("error %v, want one containing %q", err, tt.err)
			case tt.trunc != errors.Is(err, ErrTruncated):
				t.Fatalf("errors.Is(%v, ErrTruncated) = %v, want %v", err, !tt.trunc, tt.trunc)
			case strings.Count(errString(err), "\n") > 0:
				t.Fatalf("error is not one line: %q", err)
			}
			if h == nil {
				if tt.want != nil {
					t.Fatal("no header returned for a file that should decode")
				}
				return
			}
			if h.Encoding != tt.enc {
				t.Errorf("encoding %v, want %v", h.Encoding, tt.enc)
			}
			if tt.warn != "" && !strings.Contains(strings.Join(h.Warnings, "|"), tt.warn) {
				t.Errorf("warnings %q, want one containing %q", h.Warnings, tt.warn)
			}
			want := tt.want
			if tt.samples > 0 {
				// The count is what the file holds; the reference covers as much of it as exists.
				if len(got) != tt.samples {
					t.Fatalf("decoded %d samples, want %d", len(got), tt.samples)
				}
				got, want = got[:min(len(got), len(want))], want[:min(len(got), len(want))]
			}
			sameSamples(t, got, want)
		})
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestOddChunkWithoutPad reads a file whose writer left out the pad byte after an odd chunk.
func TestOddChunkWithoutPad(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("RIFF\x00\x00\x00\x00WAVE")
	b.WriteString("LIST\x03\x00\x00\x00abc") // no pad byte
	b.WriteString("fmt \x10\x00\x00\x00")
	binary.Write(&b, binary.LittleEndian, []uint16{6, 1, 8000, 0, 8000, 0, 1, 8})
	b.WriteString("data\x04\x00\x00\x00\xd5\x55\x2a\xaa")
	got, h, err := ReadAll(bytes.NewReader(b.Bytes()), int64(b.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if h.Encoding != ALaw {
		t.Fatalf("encoding %v", h.Encoding)
	}
	sameSamples(t, got, []int16{g711.ALaw[0xd5], g711.ALaw[0x55], g711.ALaw[0x2a], g711.ALaw[0xaa]})
}

// TestStereoDownmix checks the channel average on a stereo file made by sox.
func TestStereoDownmix(t *testing.T) {
	path := filepath.Join(corpus, "speech-stereo-pcm16.wav")
	got, h, err := readAll(t, path)
	if err != nil || h.Channels != 2 {
		t.Fatalf("channels %v, err %v", h, err)
	}
	ref := readRef(t, path)
	for i := range got {
		if l, r := int32(ref[2*i]), int32(ref[2*i+1]); int32(got[i]) != (l+r)/2 {
			t.Fatalf("sample %d: got %d from L=%d R=%d", i, got[i], l, r)
		}
	}
}
