package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const audioTestdata = "../../../../testdata/audio"

func TestDecodeCommand(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"odd-length-gsm.gsm", "noise-clipped-wav49.wav", "odd-length-alaw.wav", "codes.ul"} {
		t.Run(name, func(t *testing.T) {
			want, err := os.ReadFile(filepath.Join(audioTestdata, name+".s16le"))
			if err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(dir, name+".raw")
			_, errs, code := run(t, nil, "decode", filepath.Join(audioTestdata, name), "-o", out)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			got, _ := os.ReadFile(out)
			if strings.Contains(name, "wav49") && len(got) <= len(want) {
				// sox also plays the padding of the last block; we stop at the fact chunk's sample count.
				want = want[:len(got)]
			}
			if len(got) == 0 || !bytes.Equal(got, want) {
				t.Fatalf("decode of %s differs from sox's (%d vs %d bytes)", name, len(got), len(want))
			}
		})
	}
	// A WAV on stdout carries a RIFF header and the same samples after it.
	stdout, errs, code := run(t, nil, "decode", filepath.Join(audioTestdata, "odd-length-gsm.gsm"), "--format", "wav", "-o", "-")
	want, _ := os.ReadFile(filepath.Join(audioTestdata, "odd-length-gsm.gsm.s16le"))
	if code != 0 || !strings.HasPrefix(stdout, "RIFF") || !strings.HasSuffix(stdout, string(want)) {
		t.Fatalf("wav to stdout: exit %d %s (%d bytes)", code, errs, len(stdout))
	}
}

func TestDecodeBrokenFiles(t *testing.T) {
	broken := filepath.Join(audioTestdata, "broken")
	for _, tc := range []struct {
		file string
		code int
		msg  string
	}{
		{"truncated-gsm.gsm", 0, "truncated"},
		{"datasize-too-big.wav", 0, "truncated"},
		{"mp3-tag.wav", 1, "MP3 (tag 0x0055) is not supported"},
		{"random.wav", 1, ""},
		{"header-cut.wav", 1, ""},
	} {
		t.Run(tc.file, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out.raw")
			_, errs, code := run(t, nil, "decode", filepath.Join(broken, tc.file), "-o", out)
			if code != tc.code || !strings.Contains(errs, tc.msg) {
				t.Fatalf("exit %d, stderr %q; want exit %d mentioning %q", code, errs, tc.code, tc.msg)
			}
			if strings.Count(strings.TrimSpace(errs), "\n") > 0 {
				t.Errorf("not one line: %q", errs)
			}
			_, statErr := os.Stat(out)
			if (tc.code == 0) != (statErr == nil) {
				t.Errorf("output exists = %v after exit %d", statErr == nil, code)
			}
		})
	}
	if _, _, code := run(t, nil, "decode", "x.gsm", "--format", "mp3", "-o", "-"); code != 2 {
		t.Errorf("bad --format: exit %d, want 2", code)
	}
}
