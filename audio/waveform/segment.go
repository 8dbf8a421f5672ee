package waveform

import (
	"math"
	"sort"

	"github.com/gopxl/beep/v2"
)

// Tuning of the speech detector, in frames of 10 ms unless noted.
const (
	// A frame is sound when it is this far above the noise floor (the 10th
	// percentile), and not more than activeRange below the loud parts.
	activeAboveFloor = 10.0  // dB
	activeRange      = 40.0  // dB
	silentLevel      = -60.0 // dBFS; quieter than this is silence regardless

	// Sound is hold music or a tone when it goes on without a pause for
	// holdMinRun and its level barely moves (steadyLevel dB standard
	// deviation over a second). Speech pauses between words and its level
	// swings between syllables.
	holdMinRun  = 150 // 1.5 s
	steadyLevel = 5.0 // dB
	modWindow   = 50  // ±0.5 s

	bridgeGap      = 5  // pauses shorter than 50 ms do not end a run of sound
	speechPauseGap = 30 // pauses under 300 ms inside speech are speech
	minSpeech      = 10 // speech shorter than 100 ms is a click
)

func segment(frames []Frame, rate beep.SampleRate, samples int) []Segment {
	n := len(frames)
	if n == 0 {
		return nil
	}
	db := make([]float64, n)
	for i, f := range frames {
		db[i] = 20 * math.Log10(float64(f.RMS)+1e-10)
	}
	sorted := append([]float64(nil), db...)
	sort.Float64s(sorted)
	floor := sorted[n/10]
	loud := sorted[min(n*95/100, n-1)]
	threshold := math.Max(math.Max(floor+activeAboveFloor, loud-activeRange), silentLevel)

	active := make([]bool, n)
	for i, v := range db {
		active[i] = v > threshold
	}
	fillGaps(active, bridgeGap)

	// Level variation among the sounding frames around each frame, from
	// prefix sums so an hour costs the same per frame as a minute.
	cnt := make([]float64, n+1)
	sum := make([]float64, n+1)
	sq := make([]float64, n+1)
	for i, v := range db {
		cnt[i+1], sum[i+1], sq[i+1] = cnt[i], sum[i], sq[i]
		if active[i] {
			v = math.Max(v, threshold)
			cnt[i+1]++
			sum[i+1] += v
			sq[i+1] += v * v
		}
	}
	kinds := make([]Kind, n)
	for start := 0; start < n; {
		end := start
		for end < n && active[end] == active[start] {
			end++
		}
		if active[start] {
			long := end-start >= holdMinRun
			for i := start; i < end; i++ {
				kinds[i] = Speech
				if !long {
					continue
				}
				lo, hi := max(i-modWindow, start), min(i+modWindow+1, end)
				c := cnt[hi] - cnt[lo]
				mean := (sum[hi] - sum[lo]) / c
				sd := math.Sqrt(math.Max((sq[hi]-sq[lo])/c-mean*mean, 0))
				if sd < steadyLevel {
					kinds[i] = Hold
				}
			}
		}
		start = end
	}
	// Short pauses inside speech belong to it; very short speech is noise.
	runs := toRuns(kinds)
	for i := 1; i+1 < len(runs); i++ {
		r := runs[i]
		if r.kind == Silence && r.end-r.start < speechPauseGap && runs[i-1].kind == Speech && runs[i+1].kind == Speech {
			runs[i].kind = Speech
		}
	}
	runs = mergeRuns(runs)
	for i := range runs {
		if runs[i].kind == Speech && runs[i].end-runs[i].start < minSpeech {
			runs[i].kind = Silence
		}
	}
	runs = mergeRuns(runs)

	segs := make([]Segment, len(runs))
	frame := rate.N(FrameDuration)
	for i, r := range runs {
		segs[i] = Segment{Start: rate.D(r.start * frame), End: rate.D(min(r.end*frame, samples)), Kind: r.kind}
	}
	return segs
}

// fillGaps closes runs of false shorter than gap between trues.
func fillGaps(b []bool, gap int) {
	last := -1
	for i, v := range b {
		if !v {
			continue
		}
		if last >= 0 && i-last-1 > 0 && i-last-1 < gap {
			for j := last + 1; j < i; j++ {
				b[j] = true
			}
		}
		last = i
	}
}

type run struct {
	start, end int
	kind       Kind
}

func toRuns(k []Kind) []run {
	var out []run
	for i, v := range k {
		if len(out) > 0 && out[len(out)-1].kind == v {
			out[len(out)-1].end = i + 1
			continue
		}
		out = append(out, run{i, i + 1, v})
	}
	return out
}

func mergeRuns(r []run) []run {
	out := r[:0]
	for _, v := range r {
		if len(out) > 0 && out[len(out)-1].kind == v.kind {
			out[len(out)-1].end = v.end
			continue
		}
		out = append(out, v)
	}
	return out
}
