// Package waveform summarises a recording for display and navigation: a
// level envelope drawn as a one-line strip of block characters, and where
// people speak as opposed to silence or hold music.
package waveform

import (
	"context"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/gopxl/beep/v2"
)

// FrameDuration is the analysis resolution.
const FrameDuration = 10 * time.Millisecond

// Frame holds the features of one 10 ms frame of the mono mix.
type Frame struct {
	Peak float32 // largest absolute sample
	RMS  float32
	ZCR  float32 // zero crossings per sample, 0…1
}

// Kind is what a stretch of a recording holds.
type Kind int

const (
	Silence Kind = iota
	Speech
	Hold // steady sound: hold music, tones
)

func (k Kind) String() string {
	switch k {
	case Speech:
		return "speech"
	case Hold:
		return "hold"
	}
	return "silence"
}

// Segment is a stretch of one Kind; End is exclusive.
type Segment struct {
	Start, End time.Duration
	Kind       Kind
}

// Analysis is the summary of a whole recording.
type Analysis struct {
	SampleRate beep.SampleRate
	Samples    int
	Frames     []Frame
	Segments   []Segment // cover the whole recording, in order
}

// Duration of the analysed recording.
func (a *Analysis) Duration() time.Duration { return a.SampleRate.D(a.Samples) }

// Analyze reads s from its start to its end and analyses it. It seeks s, so
// pass a stream of its own, not the one a player is playing. Memory is one
// small Frame per 10 ms (about 4 MB per hour).
func Analyze(ctx context.Context, s beep.StreamSeeker, rate beep.SampleRate) (*Analysis, error) {
	if err := s.Seek(0); err != nil {
		return nil, err
	}
	fb := newFrameBuilder(rate)
	buf := make([][2]float64, 8192)
	for i := 0; ; i++ {
		if i%16 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		n, ok := s.Stream(buf)
		for _, v := range buf[:n] {
			fb.add((v[0] + v[1]) / 2)
		}
		if !ok || n == 0 {
			break
		}
	}
	if err := s.Err(); err != nil {
		return nil, err
	}
	return fb.finish(), nil
}

// AnalyzeSamples analyses mono samples in -1…1.
func AnalyzeSamples(x []float64, rate beep.SampleRate) *Analysis {
	fb := newFrameBuilder(rate)
	for _, v := range x {
		fb.add(v)
	}
	return fb.finish()
}

type frameBuilder struct {
	rate    beep.SampleRate
	size    int
	n       int
	sum     float64
	peak    float64
	cross   int
	last    float64
	samples int
	frames  []Frame
}

func newFrameBuilder(rate beep.SampleRate) *frameBuilder {
	return &frameBuilder{rate: rate, size: max(rate.N(FrameDuration), 1)}
}

func (f *frameBuilder) add(v float64) {
	f.sum += v * v
	f.peak = math.Max(f.peak, math.Abs(v))
	if (v >= 0) != (f.last >= 0) {
		f.cross++
	}
	f.last = v
	f.n++
	f.samples++
	if f.n == f.size {
		f.flush()
	}
}

func (f *frameBuilder) flush() {
	if f.n == 0 {
		return
	}
	f.frames = append(f.frames, Frame{
		Peak: float32(f.peak),
		RMS:  float32(math.Sqrt(f.sum / float64(f.n))),
		ZCR:  float32(f.cross) / float32(f.n),
	})
	f.n, f.sum, f.peak, f.cross = 0, 0, 0, 0
}

func (f *frameBuilder) finish() *Analysis {
	f.flush()
	a := &Analysis{SampleRate: f.rate, Samples: f.samples, Frames: f.frames}
	a.Segments = segment(a.Frames, a.SampleRate, a.Samples)
	return a
}

// Bucket is the level of one slice of the recording.
type Bucket struct {
	Peak, RMS float64
}

// Envelope splits the recording into n equal slices and gives each one's
// peak and RMS level.
func (a *Analysis) Envelope(n int) []Bucket {
	if n <= 0 {
		return nil
	}
	out := make([]Bucket, n)
	f := len(a.Frames)
	if f == 0 {
		return out
	}
	for b := range out {
		lo := b * f / n
		hi := max((b+1)*f/n, lo+1)
		var sum float64
		for _, fr := range a.Frames[lo:min(hi, f)] {
			out[b].Peak = math.Max(out[b].Peak, float64(fr.Peak))
			sum += float64(fr.RMS) * float64(fr.RMS)
		}
		out[b].RMS = math.Sqrt(sum / float64(min(hi, f)-lo))
	}
	return out
}

// Strip draws the recording as width block characters, one per slice.
func (a *Analysis) Strip(width int) string { return Render(a.Envelope(width)) }

var blocks = []rune("▁▂▃▄▅▆▇█")

// stripRange is the span of levels a strip shows, below the loudest slice.
const stripRange = 40.0 // dB

// Render draws buckets as block characters ▁…█ on a decibel scale relative
// to the loudest bucket, so a quiet phone line still fills the height.
// Silent slices are spaces, so speech stands out as islands.
func Render(b []Bucket) string {
	ref := 0.0
	for _, v := range b {
		ref = math.Max(ref, v.RMS)
	}
	var sb strings.Builder
	sb.Grow(len(b) * 3)
	for _, v := range b {
		if ref == 0 || v.RMS <= 0 {
			sb.WriteByte(' ')
			continue
		}
		db := 20 * math.Log10(v.RMS/ref) // 0 at the loudest, negative below
		level := (db + stripRange) / stripRange
		if level <= 0 {
			sb.WriteByte(' ')
			continue
		}
		i := min(int(level*float64(len(blocks))), len(blocks)-1)
		sb.WriteRune(blocks[i])
	}
	return sb.String()
}

// NextSpeech is the start of the first stretch of speech that begins after
// pos; false when there is none.
func (a *Analysis) NextSpeech(pos time.Duration) (time.Duration, bool) {
	for _, s := range a.Segments {
		if s.Kind == Speech && s.Start > pos {
			return s.Start, true
		}
	}
	return 0, false
}

// prevGrace is how far into a stretch of speech "previous" still means
// the one before, as a music player's "previous track" does.
const prevGrace = time.Second

// PrevSpeech is the start of the stretch of speech pos is in, or, within
// its first second, of the one before; false when there is none.
func (a *Analysis) PrevSpeech(pos time.Duration) (time.Duration, bool) {
	for i := len(a.Segments) - 1; i >= 0; i-- {
		s := a.Segments[i]
		if s.Kind == Speech && s.Start+prevGrace <= pos {
			return s.Start, true
		}
	}
	return 0, false
}

// KindAt says what the recording holds at pos.
func (a *Analysis) KindAt(pos time.Duration) Kind {
	i := sort.Search(len(a.Segments), func(i int) bool { return a.Segments[i].End > pos })
	if i < len(a.Segments) && a.Segments[i].Start <= pos {
		return a.Segments[i].Kind
	}
	return Silence
}
