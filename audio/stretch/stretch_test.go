package stretch

import (
	"math"
	"testing"

	"github.com/gopxl/beep/v2"
)

// tone is a finite sine at freq Hz.
func tone(rate beep.SampleRate, freq float64, seconds float64) [][2]float64 {
	n := int(float64(rate) * seconds)
	out := make([][2]float64, n)
	for i := range out {
		v := 0.5 * math.Sin(2*math.Pi*freq*float64(i)/float64(rate))
		out[i] = [2]float64{v, v}
	}
	return out
}

// slice streams a fixed buffer.
type slice struct {
	s   [][2]float64
	pos int
}

func (s *slice) Stream(buf [][2]float64) (int, bool) {
	if s.pos >= len(s.s) {
		return 0, false
	}
	n := copy(buf, s.s[s.pos:])
	s.pos += n
	return n, true
}
func (s *slice) Err() error { return nil }

func drain(s beep.Streamer) [][2]float64 {
	var out [][2]float64
	buf := make([][2]float64, 333) // odd size on purpose
	for {
		n, ok := s.Stream(buf)
		out = append(out, buf[:n]...)
		if !ok {
			return out
		}
	}
}

// frequency estimates the pitch from rising zero crossings, interpolated
// between samples.
func frequency(x [][2]float64, rate beep.SampleRate) float64 {
	var first, last float64
	count := 0
	for i := 1; i < len(x); i++ {
		a, b := x[i-1][0], x[i][0]
		if a < 0 && b >= 0 {
			t := float64(i-1) + a/(a-b)
			if count == 0 {
				first = t
			}
			last = t
			count++
		}
	}
	if count < 2 {
		return 0
	}
	return float64(count-1) / ((last - first) / float64(rate))
}

func TestStretchKeepsPitchAndScalesDuration(t *testing.T) {
	const rate = beep.SampleRate(8000)
	for _, freq := range []float64{440, 120} {
		in := tone(rate, freq, 3)
		for _, speed := range []float64{0.5, 0.75, 1, 1.25, 1.5, 2} {
			out := drain(New(&slice{s: in}, rate, speed))
			wantLen := float64(len(in)) / speed
			if math.Abs(float64(len(out))-wantLen) > float64(rate)/100 {
				t.Errorf("%v Hz at %vx: %d samples out of %d, want %.0f", freq, speed, len(out), len(in), wantLen)
			}
			// The input must be spread over the whole output, not run out early.
			last := len(out) - 1
			for last > 0 && math.Abs(out[last][0]) < 0.05 {
				last--
			}
			if gap := len(out) - 1 - last; gap > int(rate)/100 {
				t.Errorf("%v Hz at %vx: last %d samples are silent; the input ran out early", freq, speed, gap)
			}
			// Leave out the edges, where the first and last frames are.
			mid := out[len(out)/10 : len(out)*9/10]
			if f := frequency(mid, rate); math.Abs(f-freq)/freq > 0.01 {
				t.Errorf("%v Hz at %vx: pitch came out %.1f Hz", freq, speed, f)
			}
			// Frames that fail to line up cancel each other: the level dips.
			block := int(rate) / 50
			for i := 0; i+block <= len(mid); i += block {
				var sum float64
				for _, v := range mid[i : i+block] {
					sum += v[0] * v[0]
				}
				rms := math.Sqrt(sum / float64(block))
				if want := 0.5 / math.Sqrt2; math.Abs(rms-want)/want > 0.1 {
					t.Fatalf("%v Hz at %vx: level %.3f at %d, want %.3f (frames not aligned)", freq, speed, rms, i, want)
				}
			}
		}
	}
}

func TestSpeedOnePassesSamplesThrough(t *testing.T) {
	in := tone(8000, 300, 0.5)
	out := drain(New(&slice{s: in}, 8000, 1))
	if len(out) != len(in) {
		t.Fatalf("got %d samples, want %d", len(out), len(in))
	}
	for i := range in {
		if in[i] != out[i] {
			t.Fatalf("sample %d changed at speed 1", i)
		}
	}
}

func TestSpeedIsClamped(t *testing.T) {
	for _, c := range []struct{ in, want float64 }{{0.1, 0.5}, {3, 2}, {math.NaN(), 1}, {1.5, 1.5}} {
		if got := New(&slice{}, 8000, c.in).Speed(); got != c.want {
			t.Errorf("New(speed %v).Speed() = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestShortAndEmptyInput(t *testing.T) {
	for _, n := range []int{0, 1, 7, 100, 241} {
		in := tone(8000, 440, float64(n)/8000)
		out := drain(New(&slice{s: in}, 8000, 1.5))
		if want := int(math.Round(float64(n) / 1.5)); len(out) != want {
			t.Errorf("%d samples at 1.5x gave %d, want %d", n, len(out), want)
		}
	}
}

func BenchmarkStretch(b *testing.B) {
	in := tone(8000, 200, 10)
	b.ReportAllocs()
	for b.Loop() {
		drain(New(&slice{s: in}, 8000, 1.5))
	}
	b.ReportMetric(float64(b.Elapsed().Seconds())/float64(b.N)/10*1000, "ms/s-of-audio")
}
