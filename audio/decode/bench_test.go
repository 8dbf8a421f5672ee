package decode

import (
	"bytes"
	"os"
	"testing"
)

// hourOfGSM is one hour of raw GSM (180,000 frames) made by repeating a recording.
func hourOfGSM(b *testing.B) []byte {
	one, err := os.ReadFile("../../testdata/recordings/support-call.gsm")
	if err != nil {
		b.Fatal(err)
	}
	const frames = 180000
	out := make([]byte, 0, frames*33)
	for len(out) < frames*33 {
		out = append(out, one[:min(len(one), frames*33-len(out))]...)
	}
	return out
}

// BenchmarkStreamGSMHour decodes an hour of raw GSM through Stream as beep's speaker would,
// including checkpointing for seeks; it reports time per frame.
func BenchmarkStreamGSMHour(b *testing.B) {
	data := hourOfGSM(b)
	buf := make([][2]float64, 512)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		s, err := Open(Bytes(bytes.NewReader(data), int64(len(data))), "hour.gsm")
		if err != nil {
			b.Fatal(err)
		}
		for {
			if _, ok := s.Stream(buf); !ok {
				break
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/180000, "ns/frame")
}

// BenchmarkSeekGSM measures one seek to a random point in an hour of GSM whose checkpoints are
// all recorded (after a first pass), including the decoding that makes it exact.
func BenchmarkSeekGSM(b *testing.B) {
	data := hourOfGSM(b)
	s, err := Open(Bytes(bytes.NewReader(data), int64(len(data))), "hour.gsm")
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Seek(s.Len()); err != nil {
		b.Fatal(err)
	}
	n := s.Len()
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		i = (i + 7919*160 + 77) % n
		if err := s.Seek(i); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStreamALaw(b *testing.B) {
	data, err := os.ReadFile("../../testdata/recordings/sales-call-alaw.wav")
	if err != nil {
		b.Fatal(err)
	}
	buf := make([][2]float64, 512)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		s, err := Open(Bytes(bytes.NewReader(data), int64(len(data))), "call.wav")
		if err != nil {
			b.Fatal(err)
		}
		for {
			if _, ok := s.Stream(buf); !ok {
				break
			}
		}
	}
}

// BenchmarkOpenToFirstSamples is the decoder's share of the time from `play` to first sound:
// open a recording on disk and decode the first 512 samples.
func BenchmarkOpenToFirstSamples(b *testing.B) {
	buf := make([][2]float64, 512)
	for b.Loop() {
		s, err := OpenFile("../../testdata/recordings/billing-call-wav49.wav")
		if err != nil {
			b.Fatal(err)
		}
		if n, _ := s.Stream(buf); n != len(buf) {
			b.Fatal("short first read")
		}
		s.Close()
	}
}
