package gsm

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// The benchmarks here come in a pair that does the same job, so that their ratio
// means something:
//
//   - BenchmarkSoxDecodeHour runs `sox -t gsm hour.gsm -t raw -e signed -b 16
//     hour.raw`: process start-up (sox loads its format plug-ins), reading the 5.9 MB
//     file, decoding with libgsm, and writing 57.6 MB of s16le to a file.
//   - BenchmarkDecodeHourFile does that job in this process: read the file, decode,
//     write s16le to a file, through the same kind of buffers a command-line tool
//     uses. Only the start-up is missing, a few milliseconds against a second.
//
// BenchmarkDecodeHour is the decoder alone, from memory into a reused buffer, with
// no I/O: the figure to watch when changing the decoder (and what the callgrind
// instruction counts in the README correspond to), but dividing it by sox's
// file-to-file time flatters the decoder. testdata/bench/gsm-vs-sox.sh compares the
// whole `callscope decode` command with sox, as a user would run them.

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

// writeHour writes the hour of raw GSM to a file in a fresh temporary directory and
// returns its name and the name of an output file beside it.
func writeHour(b *testing.B) (in, out string) {
	b.Helper()
	dir := b.TempDir()
	in, out = filepath.Join(dir, "hour.gsm"), filepath.Join(dir, "hour.raw")
	if err := os.WriteFile(in, hourOfSpeech(b), 0o600); err != nil {
		b.Fatal(err)
	}
	return in, out
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

// BenchmarkDecodeWAV49Hour is BenchmarkDecodeHour for the same hour packed as WAV49
// blocks (the decoder alone, no I/O).
func BenchmarkDecodeWAV49Hour(b *testing.B) {
	data := wavData(b, readCorpus(b, "speech.wav49.wav"))
	data = data[:len(data)/WAV49BlockSize*WAV49BlockSize]
	blocks := hourFrames / 2
	hour := make([]byte, 0, blocks*WAV49BlockSize)
	for len(hour) < blocks*WAV49BlockSize {
		hour = append(hour, data[:min(len(data), blocks*WAV49BlockSize-len(hour))]...)
	}
	out := make([]int16, WAV49BlockSamples)
	var d Decoder
	b.ReportAllocs()
	b.SetBytes(int64(len(hour)))
	b.ResetTimer()
	for range b.N {
		d.Reset()
		for p := 0; p < len(hour); p += WAV49BlockSize {
			if err := d.DecodeWAV49(hour[p:p+WAV49BlockSize], out); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.StopTimer()
	reportPerFrame(b, b.Elapsed())
}

// decodeFile is the job sox does in BenchmarkSoxDecodeHour: raw GSM file in, s16le
// file out. It reads and writes in 64 KiB-sized chunks, as a command-line tool would.
func decodeFile(in, out string) error {
	src, err := os.Open(in)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.Create(out)
	if err != nil {
		return err
	}
	r := bufio.NewReaderSize(src, 64<<10)
	w := bufio.NewWriterSize(dst, 64<<10)
	var d Decoder
	var frame [FrameSize]byte
	var samples [FrameSamples]int16
	var pcm [2 * FrameSamples]byte
	for {
		if _, err := io.ReadFull(r, frame[:]); err == io.EOF {
			break
		} else if err != nil {
			dst.Close()
			return err
		}
		if err := d.Decode(frame[:], samples[:]); err != nil {
			dst.Close()
			return err
		}
		for i, s := range samples {
			binary.LittleEndian.PutUint16(pcm[2*i:], uint16(s))
		}
		if _, err := w.Write(pcm[:]); err != nil {
			dst.Close()
			return err
		}
	}
	if err := w.Flush(); err != nil {
		dst.Close()
		return err
	}
	return dst.Close()
}

func BenchmarkDecodeHourFile(b *testing.B) {
	in, out := writeHour(b)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0, cpuOK := processCPU()
	for range b.N {
		if err := decodeFile(in, out); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if fi, err := os.Stat(out); err != nil || fi.Size() != hourFrames*FrameSamples*2 {
		b.Fatalf("the whole hour was not written (%v): want %d bytes", err, hourFrames*FrameSamples*2)
	}
	reportPerFrame(b, b.Elapsed())
	if cpu1, ok := processCPU(); ok && cpuOK {
		b.ReportMetric(float64((cpu1-cpu0).Nanoseconds())/float64(b.N*hourFrames), "cpu-ns/frame")
	}
}

func reportPerFrame(b *testing.B, elapsed time.Duration) {
	b.ReportMetric(float64(elapsed.Nanoseconds())/float64(b.N*hourFrames), "ns/frame")
}

// BenchmarkSoxDecodeHour times the reference decoder on the same hour, file to file,
// so that it can be compared with BenchmarkDecodeHourFile from one run on one
// machine. Process start-up is included, as it is when a user decodes a file with
// sox; cpu-ns/frame is the child's user+system time.
func BenchmarkSoxDecodeHour(b *testing.B) {
	sox, err := exec.LookPath("sox")
	if err != nil {
		b.Skip("sox is not installed (apt-get install sox); nothing to compare against")
	}
	in, out := writeHour(b)
	b.ResetTimer()
	var cpu time.Duration
	for range b.N {
		cmd := exec.Command(sox, "-t", "gsm", in, "-t", "raw", "-e", "signed", "-b", "16", out)
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

// The file-to-file benchmark must do the same job as sox, so its output is checked
// against sox's decode of the same input.
func TestDecodeFileMatchesSox(t *testing.T) {
	dir := t.TempDir()
	in, out := filepath.Join(dir, "speech.gsm"), filepath.Join(dir, "speech.raw")
	if err := os.WriteFile(in, readCorpus(t, "speech.gsm"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := decodeFile(in, out); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if want := readCorpus(t, "speech.ref.raw"); !bytes.Equal(got, want) {
		t.Fatalf("decodeFile wrote %d bytes that differ from sox's %d", len(got), len(want))
	}
}
