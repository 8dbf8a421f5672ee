// Package stretch changes the speed of audio without changing its pitch,
// with WSOLA (waveform-similarity overlap-add), so that a voice played at
// 1.5× still sounds like the same speaker.
package stretch

import (
	"math"

	"github.com/gopxl/beep/v2"
)

// Limits of the speeds Stretcher accepts; others are clamped.
const (
	MinSpeed = 0.5
	MaxSpeed = 2.0
)

// Stretcher is a beep.Streamer that plays src at a given speed. At speed 1
// it passes samples through untouched.
//
// WSOLA cuts the input into overlapping frames taken every speed×hop samples
// and lays them out every hop samples. Each frame's start is shifted, within
// a small tolerance, to where it best continues the previous frame, so
// periods of the voice line up instead of smearing.
type Stretcher struct {
	src   beep.Streamer
	speed float64

	frame, hop, tol int
	window          []float64

	in      [][2]float64 // input, in[0] is input sample inBase
	inBase  int
	srcDone bool
	srcRead int // input samples read from src in total

	ana   float64 // nominal input position of the next frame
	prev  int     // input position of the previous frame, -1 before the first
	acc   [][2]float64
	ready [][2]float64 // finished output not yet returned
	out   int          // output samples produced

	chunk [][2]float64
	err   error
}

// New returns a Stretcher over src (which streams at rate) playing at speed.
func New(src beep.Streamer, rate beep.SampleRate, speed float64) *Stretcher {
	// 30 ms frames hold a few periods of even a low voice; a 10 ms search
	// tolerance covers a full period down to 50 Hz.
	frame := max(2*int(float64(rate)*0.015), 16)
	s := &Stretcher{
		src:    src,
		frame:  frame,
		hop:    frame / 2,
		tol:    max(int(float64(rate)*0.010), 2),
		window: make([]float64, frame),
		acc:    make([][2]float64, frame),
		chunk:  make([][2]float64, 1024),
		prev:   -1,
	}
	// A periodic Hann window: copies spaced half a window apart sum to 1.
	for i := range s.window {
		s.window[i] = 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(frame))
	}
	s.speed = clamp(speed)
	return s
}

func clamp(speed float64) float64 {
	if math.IsNaN(speed) {
		return 1
	}
	return math.Max(MinSpeed, math.Min(MaxSpeed, speed))
}

// Speed is the current playback speed.
func (s *Stretcher) Speed() float64 { return s.speed }

// Stream fills samples with stretched audio.
func (s *Stretcher) Stream(samples [][2]float64) (n int, ok bool) {
	if s.speed == 1 && len(s.ready) == 0 && len(s.in) == 0 {
		n, ok = s.src.Stream(samples)
		s.srcRead += n
		s.out += n
		if !ok {
			s.err = s.src.Err()
		}
		return n, ok
	}
	for n < len(samples) {
		if len(s.ready) == 0 && !s.produce() {
			break
		}
		c := copy(samples[n:], s.ready)
		s.ready = s.ready[c:]
		n += c
	}
	return n, n > 0
}

// Err is the error of the source, if it ended with one.
func (s *Stretcher) Err() error { return s.err }

// fill reads from src until the input buffer holds sample index upTo-1,
// or src is drained.
func (s *Stretcher) fill(upTo int) {
	for !s.srcDone && s.inBase+len(s.in) < upTo {
		n, ok := s.src.Stream(s.chunk)
		if n > 0 {
			s.in = append(s.in, s.chunk[:n]...)
			s.srcRead += n
		}
		if !ok || n == 0 {
			s.srcDone = true
			s.err = s.src.Err()
		}
	}
}

// at returns input sample i, or silence past the end of the input.
func (s *Stretcher) at(i int) [2]float64 {
	i -= s.inBase
	if i < 0 || i >= len(s.in) {
		return [2]float64{}
	}
	return s.in[i]
}

// produce makes one hop of output into s.ready; false when the input is
// used up.
func (s *Stretcher) produce() bool {
	nominal := int(math.Round(s.ana))
	s.fill(nominal + s.tol + s.frame)
	end := s.inBase + len(s.in)
	if s.srcDone {
		// Stop once the output has the length the input calls for.
		total := int(math.Round(float64(s.srcRead) / s.speed))
		if s.out >= total {
			return false
		}
		if nominal >= end && s.prev >= 0 {
			// Past the input: let the last frame's tail ring out.
			return s.emit(min(s.hop, total-s.out))
		}
	}

	pos := nominal
	first := s.prev < 0
	if !first {
		pos = s.bestMatch(nominal)
	}
	for i := 0; i < s.frame; i++ {
		w := s.window[i]
		if first && i < s.hop {
			w = 1 // no fade-in at the very start
		}
		x := s.at(pos + i)
		s.acc[i][0] += w * x[0]
		s.acc[i][1] += w * x[1]
	}
	s.prev = pos
	s.ana += float64(s.hop) * s.speed

	limit := s.hop
	if s.srcDone {
		limit = min(limit, int(math.Round(float64(s.srcRead)/s.speed))-s.out)
	}
	s.emit(limit)

	// Forget input no later frame can reach.
	keep := min(s.prev+s.hop, int(math.Round(s.ana))-s.tol)
	if drop := keep - s.inBase; drop > 0 {
		drop = min(drop, len(s.in))
		s.in = append(s.in[:0], s.in[drop:]...)
		s.inBase += drop
	}
	return true
}

// emit moves n finished samples from the accumulator to ready and shifts
// the accumulator by a hop.
func (s *Stretcher) emit(n int) bool {
	if n <= 0 {
		s.shift()
		return len(s.ready) > 0
	}
	s.ready = append(s.ready[:0], s.acc[:n]...)
	s.out += n
	s.shift()
	return true
}

func (s *Stretcher) shift() {
	copy(s.acc, s.acc[s.hop:])
	clear(s.acc[s.frame-s.hop:])
}

// bestMatch finds the frame start within tol of nominal whose samples are
// most like the natural continuation of the previous frame.
func (s *Stretcher) bestMatch(nominal int) int {
	target := s.prev + s.hop
	lo := max(nominal-s.tol, s.inBase)
	hi := nominal + s.tol
	best, bestScore := nominal, math.Inf(-1)
	// Compare on a mono mix, over the half that will overlap, every second
	// sample: plenty to line up periods and a quarter of the work.
	const step = 2
	n := s.hop
	for p := lo; p <= hi; p++ {
		var dot, energy float64
		for i := 0; i < n; i += step {
			a := s.at(target + i)
			b := s.at(p + i)
			am, bm := a[0]+a[1], b[0]+b[1]
			dot += am * bm
			energy += bm * bm
		}
		score := dot / math.Sqrt(energy+1e-9)
		if score > bestScore {
			best, bestScore = p, score
		}
	}
	return best
}
