package decode

import (
	"io"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
)

// TestSeekExact seeks at random, backwards and forwards, and checks that what follows each seek
// is bit-identical to decoding from the start, through both Stream (float) and ReadSamples.
func TestSeekExact(t *testing.T) {
	files := []string{
		filepath.Join(corpus, "speech-gsm.gsm"),
		filepath.Join(corpus, "speech-wav49.wav"),
		filepath.Join(corpus, "speech-alaw.wav"),
		filepath.Join(corpus, "speech-stereo-pcm16.wav"),
		filepath.Join(corpus, "speech.sln"),
		"../../testdata/recordings/support-call.gsm",
		"../../testdata/recordings/billing-call-wav49.wav",
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			all, _ := decodeFile(t, path)
			s, err := OpenFile(path)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			bs := s.blockSamples
			rng := rand.New(rand.NewPCG(1, uint64(len(all))))
			// Targets that matter: the start, the end, checkpoint and block edges, and random points,
			// reached in a random order so seeks go both ways and past saved checkpoints.
			targets := []int{0, len(all), len(all) - 1, bs, bs - 1, checkpointEvery * bs, checkpointEvery*bs - 1, checkpointEvery*bs + 1}
			targets = slices.DeleteFunc(targets, func(p int) bool { return p < 0 || p > len(all) })
			for range 60 {
				targets = append(targets, rng.IntN(len(all)+1))
			}
			rng.Shuffle(len(targets), func(i, j int) { targets[i], targets[j] = targets[j], targets[i] })
			for i, p := range targets {
				if err := s.Seek(p); err != nil {
					t.Fatalf("seek %d: %v", p, err)
				}
				if s.Position() != p {
					t.Fatalf("after seek to %d, position %d", p, s.Position())
				}
				want := all[p:min(len(all), p+1+rng.IntN(3000))]
				got := make([]int16, 0, len(want))
				if i%2 == 0 {
					buf := make([][2]float64, len(want))
					n, ok := s.Stream(buf)
					if n != len(want) || ok != (n > 0) {
						t.Fatalf("after seek to %d: Stream gave %d, %v; want %d", p, n, ok, len(want))
					}
					for _, v := range buf[:n] {
						if v[0] != v[1] {
							t.Fatalf("channels differ: %v", v)
						}
						got = append(got, int16(v[0]*32768))
					}
				} else {
					for len(got) < len(want) {
						buf := make([]int16, len(want)-len(got))
						n, err := s.ReadSamples(buf)
						if err != nil {
							t.Fatalf("after seek to %d: %v", p, err)
						}
						got = append(got, buf[:n]...)
					}
				}
				for j := range want {
					if got[j] != want[j] {
						t.Fatalf("after seek to %d: sample %d is %d, decoding from the start gave %d", p, p+j, got[j], want[j])
					}
				}
				if s.Position() != p+len(want) {
					t.Fatalf("position %d after reading %d from %d", s.Position(), len(want), p)
				}
			}
			if err := s.Seek(len(all)); err != nil {
				t.Fatal(err)
			}
			if n, err := s.ReadSamples(make([]int16, 10)); n != 0 || err != io.EOF {
				t.Fatalf("at the end: %d, %v", n, err)
			}
			if err := s.Seek(len(all) + 1); err == nil {
				t.Fatal("seek past the end succeeded")
			}
			if err := s.Seek(-1); err == nil {
				t.Fatal("seek before the start succeeded")
			}
		})
	}
}
