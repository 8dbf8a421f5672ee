package gsm

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// hourFrames is one hour of 8 kHz audio in 160-sample frames.
const hourFrames = 3600 * 8000 / FrameSamples

// hourOfSpeech repeats the speech corpus frames to one hour of raw GSM.
func hourOfSpeech(b *testing.B) []byte {
	b.Helper()
	speech := readCorpus(b, "speech.gsm")
	hour := make([]byte, 0, hourFrames*FrameSize)
	for len(hour) < hourFrames*FrameSize {
		n := min(len(speech), hourFrames*FrameSize-len(hour))
		hour = append(hour, speech[:n]...)
	}
	return hour
}

func BenchmarkDecodeHour(b *testing.B) {
	hour := hourOfSpeech(b)
	out := make([]int16, FrameSamples)
	var d Decoder
	b.ReportAllocs()
	b.SetBytes(int64(len(hour)))
	b.ResetTimer()
	cpu0, cpuOK := processCPU()
	for range b.N {
		d.Reset()
		for p := 0; p < len(hour); p += FrameSize {
			if err := d.Decode(hour[p:p+FrameSize], out); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.StopTimer()
	reportPerFrame(b, b.Elapsed())
	if cpu1, ok := processCPU(); ok && cpuOK {
		b.ReportMetric(float64((cpu1-cpu0).Nanoseconds())/float64(b.N*hourFrames), "cpu-ns/frame")
	}
}

func reportPerFrame(b *testing.B, elapsed time.Duration) {
	b.ReportMetric(float64(elapsed.Nanoseconds())/float64(b.N*hourFrames), "ns/frame")
}

// BenchmarkSoxDecodeHour times the reference decoder on the same hour, so the two can
// be compared from one run on one machine. Process start-up is included, as it is
// when a user decodes a file with sox.
func BenchmarkSoxDecodeHour(b *testing.B) {
	sox, err := exec.LookPath("sox")
	if err != nil {
		b.Skip("sox is not installed (apt-get install sox); nothing to compare against")
	}
	dir := b.TempDir()
	in, out := filepath.Join(dir, "hour.gsm"), filepath.Join(dir, "hour.raw")
	if err := os.WriteFile(in, hourOfSpeech(b), 0o600); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	var cpu time.Duration
	for range b.N {
		cmd := exec.Command(sox, in, "-t", "raw", "-e", "signed", "-b", "16", out)
		if msg, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("sox: %v: %s", err, msg)
		}
		cpu += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	b.StopTimer()
	if fi, err := os.Stat(out); err != nil || fi.Size() != hourFrames*FrameSamples*2 {
		b.Fatalf("sox did not write the whole hour (%v): want %d bytes", err, hourFrames*FrameSamples*2)
	}
	reportPerFrame(b, b.Elapsed())
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*hourFrames), "cpu-ns/frame")
}
