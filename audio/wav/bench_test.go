package wav

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// benchDecode measures Decoder.Decode over the data chunk of a corpus file, reported per
// second of 8 kHz audio decoded.
func benchDecode(b *testing.B, name string) {
	raw, err := os.ReadFile(filepath.Join(corpus, name))
	if err != nil {
		b.Fatal(err)
	}
	h, err := ReadHeader(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		b.Fatal(err)
	}
	ext := h.Extent(int64(len(raw)))
	data := raw[h.DataOffset : h.DataOffset+ext.Blocks*int64(h.BlockAlign)]
	out := make([]int16, ext.Blocks*int64(h.BlockSamples))
	d := NewDecoder(h)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		d.Reset()
		if _, _, err := d.Decode(out, data); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/(float64(len(out))/float64(h.SampleRate)), "ns/audio-s")
}

func BenchmarkDecodeALaw(b *testing.B)   { benchDecode(b, "speech-alaw.wav") }
func BenchmarkDecodePCM16(b *testing.B)  { benchDecode(b, "speech-pcm16.wav") }
func BenchmarkDecodeWAV49(b *testing.B)  { benchDecode(b, "speech-wav49.wav") }
func BenchmarkDecodeStereo(b *testing.B) { benchDecode(b, "speech-stereo-pcm16.wav") }
