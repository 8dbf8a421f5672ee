package decode

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// feed writes data into g in chunks with pauses, as a download would, then marks it complete.
func feed(t *testing.T, g *GrowingFile, f *os.File, data []byte, chunk int, direct bool) {
	for off := 0; off < len(data); off += chunk {
		part := data[off:min(len(data), off+chunk)]
		var err error
		if direct {
			_, err = f.Write(part)
		} else {
			_, err = g.Write(part)
		}
		if err != nil {
			t.Error(err)
			return
		}
		time.Sleep(time.Millisecond)
	}
	g.MarkComplete()
}

// TestGrowing plays recordings while they are still being written: decoding starts with the first
// bytes, Len grows, and the result equals decoding the finished file.
func TestGrowing(t *testing.T) {
	for _, tc := range []struct {
		path   string
		chunk  int
		direct bool // the writer bypasses GrowingFile.Write, so only polling sees it
	}{
		{"../../testdata/recordings/support-call.gsm", 1000, false},
		{"../../testdata/recordings/billing-call-wav49.wav", 700, false},
		{"../../testdata/recordings/sales-call-alaw.wav", 4000, true},
		{filepath.Join(corpus, "broken", "datasize-ffffffff.wav"), 501, false},
		{filepath.Join(corpus, "speech-alaw.al"), 333, false},
	} {
		t.Run(filepath.Base(tc.path), func(t *testing.T) {
			want, _ := decodeFile(t, tc.path)
			data, err := os.ReadFile(tc.path)
			if err != nil {
				t.Fatal(err)
			}
			f, err := os.Create(filepath.Join(t.TempDir(), filepath.Base(tc.path)))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			g := NewGrowingFile(f)
			go feed(t, g, f, data, tc.chunk, tc.direct)

			s, err := Open(g, f.Name())
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			firstLen := s.Len()
			var got []int16
			buf := make([][2]float64, 512)
			for {
				n, ok := s.Stream(buf)
				for _, v := range buf[:n] {
					got = append(got, int16(v[0]*32768))
				}
				if !ok {
					break
				}
			}
			if err := s.Err(); err != nil {
				t.Fatal(err)
			}
			if firstLen >= len(want) {
				t.Errorf("Len was already %d of %d at open; the test did not exercise a growing file", firstLen, len(want))
			}
			sameSamples(t, got, want)
			if s.Len() != len(want) {
				t.Errorf("final Len %d, want %d", s.Len(), len(want))
			}
		})
	}
}

func TestGrowingStall(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "stuck.gsm"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	g := NewGrowingFile(f)
	data, _ := os.ReadFile(filepath.Join(corpus, "speech-gsm.gsm"))
	g.Write(data[:33*10])
	s, err := Open(g, "stuck.gsm")
	if err != nil {
		t.Fatal(err)
	}
	s.SetWaitLimit(100 * time.Millisecond)
	start := time.Now()
	got, err := DecodeAll(s)
	if err == nil || !strings.Contains(err.Error(), "stopped growing") {
		t.Fatalf("error %v, want the recording stopped growing", err)
	}
	if len(got) != 1600 {
		t.Errorf("decoded %d samples before the stall, want 1600", len(got))
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("gave up after %v", d)
	}
}

func TestGrowingSourceError(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "broken-download.wav"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	g := NewGrowingFile(f)
	data, _ := os.ReadFile(filepath.Join(corpus, "speech-alaw.wav"))
	g.Write(data[:3000])
	s, err := Open(g, f.Name())
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		time.Sleep(20 * time.Millisecond)
		g.SetError(errors.New("connection reset"))
	}()
	got, err := DecodeAll(s)
	if err == nil || !strings.Contains(err.Error(), "did not download completely: connection reset") {
		t.Fatalf("error %v", err)
	}
	if !s.Info().Truncated || len(got) != 3000-int(s.dataOff) {
		t.Errorf("truncated %v, %d samples", s.Info().Truncated, len(got))
	}
}

// TestCloseWakesWaiter closes a stream from another goroutine while Stream waits for bytes.
func TestCloseWakesWaiter(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "wait.al"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	g := NewGrowingFile(f)
	g.Write(bytes.Repeat([]byte{0xd5}, 100))
	s, err := Open(g, f.Name())
	if err != nil {
		t.Fatal(err)
	}
	go func() { time.Sleep(50 * time.Millisecond); s.Close() }()
	done := make(chan int)
	go func() {
		n, _ := s.Stream(make([][2]float64, 1000))
		done <- n
	}()
	select {
	case n := <-done:
		if n != 100 {
			t.Errorf("streamed %d samples before close, want 100", n)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Stream still waiting after Close")
	}
}

// TestOpenWaitsForHeader opens a WAV recording before its header has arrived.
func TestOpenWaitsForHeader(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "late.wav"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	g := NewGrowingFile(f)
	data, _ := os.ReadFile(filepath.Join(corpus, "speech-ulaw.wav"))
	go func() {
		time.Sleep(30 * time.Millisecond)
		g.Write(data[:20])
		time.Sleep(30 * time.Millisecond)
		g.Write(data[20:])
		g.MarkComplete()
	}()
	s, err := Open(g, "late.wav")
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeAll(s)
	if err != nil {
		t.Fatal(err)
	}
	sameSamples(t, got, readRef(t, filepath.Join(corpus, "speech-ulaw.wav")))
	_, err = s.ReadSamples(make([]int16, 1))
	if err != io.EOF {
		t.Errorf("after the end: %v", err)
	}
}
