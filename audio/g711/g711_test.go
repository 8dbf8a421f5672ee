package g711

import (
	"encoding/binary"
	"os"
	"testing"
)

// TestAgainstSox compares every code with sox's decode of the same byte (testdata/audio/codes.*).
func TestAgainstSox(t *testing.T) {
	for _, tc := range []struct {
		file   string
		decode func([]int16, []byte) int
	}{
		{"../../testdata/audio/codes.al", DecodeALaw},
		{"../../testdata/audio/codes.ul", DecodeULaw},
	} {
		codes, err := os.ReadFile(tc.file)
		if err != nil {
			t.Fatalf("%v (run testdata/audio/gen.sh)", err)
		}
		ref, err := os.ReadFile(tc.file + ".s16le")
		if err != nil {
			t.Fatal(err)
		}
		if len(codes) != 256 || len(ref) != 512 {
			t.Fatalf("%s: %d codes, %d reference bytes", tc.file, len(codes), len(ref))
		}
		got := make([]int16, 256)
		if n := tc.decode(got, codes); n != 256 {
			t.Fatalf("decoded %d samples", n)
		}
		for i, v := range got {
			if want := int16(binary.LittleEndian.Uint16(ref[2*i:])); v != want {
				t.Errorf("%s code 0x%02x: got %d, sox %d", tc.file, codes[i], v, want)
			}
		}
	}
}

// TestKnownValues pins values from the G.711 tables: silence codes and the extremes.
func TestKnownValues(t *testing.T) {
	for _, tc := range []struct {
		name string
		got  int16
		want int16
	}{
		{"A-law 0xD5 (smallest positive)", ALaw[0xd5], 8},
		{"A-law 0x55 (smallest negative)", ALaw[0x55], -8},
		{"A-law 0xAA (largest positive)", ALaw[0xaa], 32256},
		{"A-law 0x2A (largest negative)", ALaw[0x2a], -32256},
		{"µ-law 0xFF (zero)", ULaw[0xff], 0},
		{"µ-law 0x7F (negative zero)", ULaw[0x7f], 0},
		{"µ-law 0x80 (largest positive)", ULaw[0x80], 32124},
		{"µ-law 0x00 (largest negative)", ULaw[0x00], -32124},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: got %d, want %d", tc.name, tc.got, tc.want)
		}
	}
}

func TestShortBuffers(t *testing.T) {
	dst := make([]int16, 2)
	if n := DecodeALaw(dst, []byte{0xd5, 0xd5, 0xd5}); n != 2 {
		t.Errorf("DecodeALaw into 2 slots wrote %d", n)
	}
	if n := DecodeULaw(make([]int16, 5), []byte{0xff}); n != 1 {
		t.Errorf("DecodeULaw of 1 code wrote %d", n)
	}
}

func BenchmarkDecodeALaw(b *testing.B) {
	src := make([]byte, 8000) // one second at 8 kHz
	for i := range src {
		src[i] = byte(i * 7)
	}
	dst := make([]int16, len(src))
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		DecodeALaw(dst, src)
	}
}
