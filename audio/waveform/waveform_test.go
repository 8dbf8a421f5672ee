package waveform

import (
	"context"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gopxl/beep/v2"
)

const rate = beep.SampleRate(8000)

// call builds a synthetic call: line noise throughout, "speech" as
// syllable-like bursts of a voiced harmonic tone, and a steady chord as hold
// music.
type call struct {
	x   []float64
	rng *rand.Rand
}

func newCall(d time.Duration) *call {
	c := &call{x: make([]float64, rate.N(d)), rng: rand.New(rand.NewPCG(1, 2))}
	for i := range c.x {
		c.x[i] = 0.0005 * c.rng.NormFloat64()
	}
	return c
}

func (c *call) speech(from, to time.Duration) {
	i, end := rate.N(from), rate.N(to)
	for i < end {
		syl := rate.N(time.Duration(120+c.rng.IntN(180)) * time.Millisecond)
		pitch := 110 + 60*c.rng.Float64()
		for k := 0; k < syl && i+k < end; k++ {
			env := math.Sin(math.Pi * float64(k) / float64(syl))
			t := float64(k) / float64(rate)
			v := 0.0
			for h := 1; h <= 5; h++ {
				v += math.Sin(2*math.Pi*pitch*float64(h)*t) / float64(h)
			}
			c.x[i+k] += 0.3 * env * v
		}
		i += syl + rate.N(time.Duration(40+c.rng.IntN(160))*time.Millisecond)
	}
}

func (c *call) hold(from, to time.Duration) {
	for i := rate.N(from); i < rate.N(to); i++ {
		t := float64(i) / float64(rate)
		c.x[i] += 0.2*math.Sin(2*math.Pi*440*t) + 0.15*math.Sin(2*math.Pi*554.37*t) + 0.1*math.Sin(2*math.Pi*659.25*t)
	}
}

func s(x float64) time.Duration { return time.Duration(x * float64(time.Second)) }

func synthetic() *Analysis {
	c := newCall(15 * time.Second)
	c.speech(s(1), s(4))
	c.hold(s(6), s(11))
	c.speech(s(12), s(14))
	return AnalyzeSamples(c.x, rate)
}

func TestSegmentsFindSpeechSilenceAndHold(t *testing.T) {
	a := synthetic()
	want := []Segment{
		{0, s(1), Silence},
		{s(1), s(4), Speech},
		{s(4), s(6), Silence},
		{s(6), s(11), Hold},
		{s(11), s(12), Silence},
		{s(12), s(14), Speech},
		{s(14), s(15), Silence},
	}
	if len(a.Segments) != len(want) {
		t.Fatalf("got %d segments, want %d:\n%v", len(a.Segments), len(want), a.Segments)
	}
	const tol = 150 * time.Millisecond
	for i, w := range want {
		g := a.Segments[i]
		if g.Kind != w.Kind || (g.Start-w.Start).Abs() > tol || (g.End-w.End).Abs() > tol {
			t.Errorf("segment %d: got %v %v–%v, want %v %v–%v", i, g.Kind, g.Start, g.End, w.Kind, w.Start, w.End)
		}
	}
}

func TestNextAndPrevSpeech(t *testing.T) {
	a := synthetic()
	near := func(got, want time.Duration) bool { return (got - want).Abs() < 150*time.Millisecond }
	cases := []struct {
		name   string
		f      func(time.Duration) (time.Duration, bool)
		pos    time.Duration
		want   time.Duration
		wantOK bool
	}{
		{"next from start", a.NextSpeech, 0, s(1), true},
		{"next skips hold", a.NextSpeech, s(2), s(12), true},
		{"next after last", a.NextSpeech, s(12.5), 0, false},
		{"prev inside speech", a.PrevSpeech, s(13.5), s(12), true},
		{"prev at start of speech goes back", a.PrevSpeech, s(12.3), s(1), true},
		{"prev from hold", a.PrevSpeech, s(8), s(1), true},
		{"prev before any", a.PrevSpeech, s(0.5), 0, false},
	}
	for _, c := range cases {
		got, ok := c.f(c.pos)
		if ok != c.wantOK || (ok && !near(got, c.want)) {
			t.Errorf("%s (%v): got %v %v, want %v %v", c.name, c.pos, got, ok, c.want, c.wantOK)
		}
	}
	if k := a.KindAt(s(8)); k != Hold {
		t.Errorf("KindAt(8s) = %v, want hold", k)
	}
}

func TestStripShowsWhereSoundIs(t *testing.T) {
	a := synthetic()
	strip := a.Strip(15)
	if utf8.RuneCountInString(strip) != 15 {
		t.Fatalf("strip %q is not 15 cells", strip)
	}
	r := []rune(strip)
	for sec, c := range r {
		sound := (sec >= 1 && sec < 4) || (sec >= 6 && sec < 11) || (sec >= 12 && sec < 14)
		if sound == (c == ' ') {
			t.Errorf("second %d drawn as %q in %q", sec, c, strip)
		}
	}
	if !strings.ContainsRune(strip, '█') {
		t.Errorf("the loudest slice is not full height: %q", strip)
	}
	if got := Render(make([]Bucket, 3)); got != "   " {
		t.Errorf("all-silent strip %q", got)
	}
	wide := a.Strip(3000) // wider than there are frames
	if utf8.RuneCountInString(wide) != 3000 {
		t.Errorf("wide strip has %d cells", utf8.RuneCountInString(wide))
	}
}

type memSeeker struct {
	x   [][2]float64
	pos int
}

func (m *memSeeker) Stream(b [][2]float64) (int, bool) {
	if m.pos >= len(m.x) {
		return 0, false
	}
	n := copy(b, m.x[m.pos:])
	m.pos += n
	return n, true
}
func (m *memSeeker) Err() error       { return nil }
func (m *memSeeker) Len() int         { return len(m.x) }
func (m *memSeeker) Position() int    { return m.pos }
func (m *memSeeker) Seek(p int) error { m.pos = p; return nil }

func TestAnalyzeStreamMatchesSamples(t *testing.T) {
	c := newCall(5 * time.Second)
	c.speech(s(1), s(3))
	st := &memSeeker{x: make([][2]float64, len(c.x)), pos: 1234}
	for i, v := range c.x {
		st.x[i] = [2]float64{v, v}
	}
	got, err := Analyze(context.Background(), st, rate)
	if err != nil {
		t.Fatal(err)
	}
	want := AnalyzeSamples(c.x, rate)
	if got.Samples != want.Samples || len(got.Frames) != len(want.Frames) || len(got.Segments) != len(want.Segments) {
		t.Fatalf("stream analysis differs: %d/%d samples, %d/%d frames, %v vs %v",
			got.Samples, want.Samples, len(got.Frames), len(want.Frames), got.Segments, want.Segments)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Analyze(ctx, st, rate); err == nil {
		t.Fatal("cancelled analysis gave no error")
	}
}

func TestEmptyAndSilentInput(t *testing.T) {
	if a := AnalyzeSamples(nil, rate); len(a.Segments) != 0 || a.Strip(4) != "    " {
		t.Fatalf("empty: %+v", a)
	}
	a := AnalyzeSamples(make([]float64, 8000), rate)
	if len(a.Segments) != 1 || a.Segments[0].Kind != Silence {
		t.Fatalf("digital silence: %v", a.Segments)
	}
	if _, ok := a.NextSpeech(0); ok {
		t.Fatal("speech found in silence")
	}
}

func BenchmarkAnalyzeHour(b *testing.B) {
	c := newCall(60 * time.Second)
	c.speech(s(5), s(30))
	c.hold(s(35), s(55))
	hour := make([]float64, 0, len(c.x)*60)
	for range 60 {
		hour = append(hour, c.x...)
	}
	b.ResetTimer()
	for b.Loop() {
		AnalyzeSamples(hour, rate)
	}
}
