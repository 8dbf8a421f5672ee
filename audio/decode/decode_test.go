package decode

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
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

func decodeFile(t testing.TB, path string) ([]int16, *Stream) {
	t.Helper()
	s, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	got, err := DecodeAll(s)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	return got, s
}

func sameSamples(t *testing.T, got, want []int16) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("decoded %d samples, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("sample %d: got %d, want %d", i, got[i], want[i])
		}
	}
}

// TestCorpus decodes every good file and compares it with sox's decode, sample by sample.
func TestCorpus(t *testing.T) {
	entries, err := os.ReadDir(corpus)
	if err != nil {
		t.Fatal(err)
	}
	tested := 0
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || strings.HasSuffix(name, ".s16le") || strings.HasSuffix(name, ".sh") || strings.HasSuffix(name, ".md") || strings.HasPrefix(name, "codes.") {
			continue
		}
		tested++
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(corpus, name)
			got, s := decodeFile(t, path)
			in := s.Info()
			want := readRef(t, path)
			if in.Channels == 2 {
				mono := make([]int16, len(want)/2)
				for i := range mono {
					mono[i] = int16((int32(want[2*i]) + int32(want[2*i+1])) / 2)
				}
				want = mono
			}
			if in.Format == "wav49" {
				// sox plays the padding of the last block; the fact chunk says where the audio ends.
				if len(want)-len(got) < 0 || len(want)-len(got) >= 320 {
					t.Fatalf("decoded %d samples, sox %d: fact not honoured", len(got), len(want))
				}
				want = want[:len(got)]
			}
			sameSamples(t, got, want)
			if in.Truncated || in.Warning != "" || s.Err() != nil {
				t.Errorf("clean file reported truncated=%v warning=%q err=%v", in.Truncated, in.Warning, s.Err())
			}
			if in.Samples != int64(len(got)) {
				t.Errorf("Info().Samples = %d after decoding %d", in.Samples, len(got))
			}
			wantFormat := map[string]string{"-gsm.gsm": "gsm raw", "-wav49.wav": "wav49 wav", "-alaw.wav": "alaw wav",
				"-ulaw.wav": "ulaw wav", "-pcm16.wav": "pcm16 wav", "-pcm8.wav": "pcm8 wav", ".al": "alaw raw",
				".ul": "ulaw raw", ".sln": "sln raw", ".sln16": "sln raw"}
			for suffix, f := range wantFormat {
				if strings.HasSuffix(name, suffix) && in.Format+" "+in.Container != f {
					t.Errorf("format %s %s, want %s", in.Format, in.Container, f)
				}
			}
			wantRate := 8000
			switch {
			case strings.Contains(name, "16k"):
				wantRate = 16000
			case strings.Contains(name, "11025"):
				wantRate = 11025
			}
			if in.SampleRate != wantRate || int(s.Format().SampleRate) != wantRate {
				t.Errorf("rate %d (format %d), want %d", in.SampleRate, s.Format().SampleRate, wantRate)
			}
		})
	}
	if tested < 30 {
		t.Fatalf("only %d corpus files (run testdata/audio/gen.sh)", tested)
	}
}

// TestBroken opens every broken file: each gives a clear error or a clean partial decode.
func TestBroken(t *testing.T) {
	ref := func(name string) []int16 { return readRef(t, filepath.Join(corpus, name)) }
	tests := []struct {
		file    string
		openErr string  // Open fails with this
		err     string  // the stream ends early with this error
		trunc   bool    // Info().Truncated
		warn    string  // in Info().Warning
		n       int     // samples decoded
		want    []int16 // reference, compared as far as both go
	}{
		{file: "truncated-gsm.gsm", trunc: true, warn: "ends 16 bytes into a 33-byte frame", n: 86 * 160, want: ref("speech-gsm.gsm")},
		{file: "truncated-wav49.wav", trunc: true, warn: "promises 355 more bytes", n: 39 * 320, want: ref("speech-wav49.wav")},
		{file: "truncated-pcm16-odd-byte.wav", trunc: true, warn: "promises 1001 more bytes", n: 13868, want: ref("speech-pcm16.wav")},
		{file: "datasize-too-big.wav", trunc: true, warn: "promises 9999 more bytes", n: 14370, want: ref("speech-alaw.wav")},
		{file: "datasize-ffffffff.wav", n: 14368, want: ref("speech-alaw.wav")},
		{file: "datasize-zero-wav49.wav", n: 14400, want: ref("speech-wav49.wav")},
		{file: "riffsize-wrong.wav", n: 14369, want: ref("speech-ulaw.wav")},
		{file: "chunks-reordered.wav", n: 14369, want: ref("speech-ulaw.wav")},
		{file: "odd-chunks.wav", n: 14369, want: ref("speech-pcm8.wav")},
		{file: "fact-after-data.wav", n: 14369, want: ref("speech-wav49.wav")},
		{file: "extensible-pcm16.wav", n: 14369, want: ref("speech-pcm16.wav")},
		{file: "extensible-alaw.wav", n: 14369, want: ref("speech-alaw.wav")},
		{file: "inconsistent-blockalign.wav", warn: "header says 4-byte blocks", n: 14369, want: ref("speech-pcm16.wav")},
		{file: "inconsistent-byterate.wav", warn: "12345 bytes per second", n: 14369, want: ref("speech-alaw.wav")},
		{file: "gsm-bad-frame-midway.gsm", err: "GSM frame at byte 1650 is damaged (no 0xD magic); decoded the 8000 samples before it", n: 8000, want: ref("speech-gsm.gsm")},
		{file: "mp3-tag.wav", openErr: "mp3-tag.wav: MP3 (tag 0x0055) is not supported"},
		{file: "float-extensible.wav", openErr: "IEEE float (tag 0x0003) is not supported"},
		{file: "pcm24.wav", openErr: "24-bit PCM is not supported"},
		{file: "wav49-stereo.wav", openErr: "GSM 6.10 with 2 channels is not supported"},
		{file: "chunk-size-huge.wav", openErr: `"LIST" chunk at byte 12 claims 4294967040 bytes`},
		{file: "inconsistent-channels-zero.wav", openErr: "0 channels"},
		{file: "inconsistent-rate-zero.wav", openErr: "sample rate of 0 Hz"},
		{file: "inconsistent-gsm-blockalign.wav", openErr: "needs 65-byte blocks but the header says 33"},
		{file: "empty.wav", openErr: "empty.wav: the file is empty"},
		{file: "header-cut.wav", openErr: "ends inside its fmt chunk"},
		{file: "no-data.wav", openErr: "ends before its data chunk"},
		{file: "no-fmt.wav", openErr: "ends before its fmt chunk"},
		{file: "random.wav", openErr: "random.wav: not a WAV file"},
		{file: "random-after-riff.wav", openErr: "not a RIFF chunk"},
		{file: "gsm-bad-magic.gsm", openErr: "gsm-bad-magic.gsm: not GSM 06.10 audio"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			s, err := OpenFile(filepath.Join(corpus, "broken", tt.file))
			if tt.openErr != "" {
				if err == nil {
					s.Close()
					t.Fatalf("opened; want error containing %q", tt.openErr)
				}
				if !strings.Contains(err.Error(), tt.openErr) || strings.Contains(err.Error(), "\n") {
					t.Fatalf("error %q, want one line containing %q", err, tt.openErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			got, err := DecodeAll(s)
			if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
				t.Fatalf("decode error %v, want %q", err, tt.err)
			}
			in := s.Info()
			if in.Truncated != tt.trunc {
				t.Errorf("truncated = %v, want %v (warning %q)", in.Truncated, tt.trunc, in.Warning)
			}
			if tt.warn == "" && in.Warning != "" || !strings.Contains(in.Warning, tt.warn) {
				t.Errorf("warning %q, want %q", in.Warning, tt.warn)
			}
			if len(got) != tt.n || in.Samples != int64(tt.n) || s.Len() != tt.n {
				t.Fatalf("decoded %d samples, Info %d, Len %d; want %d", len(got), in.Samples, s.Len(), tt.n)
			}
			k := min(len(got), len(tt.want))
			sameSamples(t, got[:k], tt.want[:k])
		})
	}
}

// TestSniff checks that the bytes decide the format and the name only picks headerless formats.
func TestSniff(t *testing.T) {
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(corpus, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		data   []byte
		name   string
		format string // "" when Open must fail
		err    string
	}{
		{read("speech-gsm.gsm"), "call.bin", "gsm", ""},
		{read("speech-gsm.gsm"), "", "gsm", ""},
		{read("speech-wav49.wav"), "call.gsm", "wav49", ""},
		{read("speech-alaw.wav"), "call.ul", "alaw", ""},
		// A-law silence is 0xD5: its frame starts carry the GSM magic, so the name must win.
		{read("silence-alaw.al"), "silence.al", "alaw", ""},
		{read("silence-alaw.al"), "silence.alaw", "alaw", ""},
		{read("speech-ulaw.ul"), "x.pcm", "ulaw", ""},
		{read("speech.sln"), "x.sln", "sln", ""},
		{read("speech-alaw.al"), "x.gsm", "", "x.gsm: not GSM 06.10 audio"},
		{read("speech-alaw.al"), "x.bin", "", "x.bin: unknown audio format"},
		{read("speech-alaw.al"), "x.wav", "", "x.wav: not a WAV file"},
		{read("speech-gsm.gsm")[:20], "x.gsm", "", "shorter than one GSM frame"},
		{[]byte("RIFX\x00\x00\x00\x00WAVE"), "x.wav", "", "big-endian (RIFX) WAV is not supported"},
	}
	for _, tt := range tests {
		s, err := Open(Bytes(bytes.NewReader(tt.data), int64(len(tt.data))), tt.name)
		if tt.format == "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: error %v, want %q", tt.name, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if got := s.Info().Format; got != tt.format {
			t.Errorf("%s: format %s, want %s", tt.name, got, tt.format)
		}
	}
}
