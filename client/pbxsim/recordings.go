package pbxsim

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// recording is one audio file the generator hands out to recorded calls. ext is ".gsm" or ".wav": the served
// file name follows the bytes, as a Com.X's native recording format would.
type recording struct {
	name string
	ext  string
	data []byte
}

// modulePath identifies our own go.mod when DefaultRecordings walks up from the working directory.
const modulePath = "github.com/callscope/callscope"

// DefaultRecordings is the repository's testdata/recordings directory when the program runs inside the
// repository (go run, go test), found by walking up from the working directory to our go.mod. It returns ""
// elsewhere (an installed binary), and New then synthesizes recordings instead.
func DefaultRecordings() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if isOurModule(filepath.Join(dir, "go.mod")) {
			rec := filepath.Join(dir, "testdata", "recordings")
			if st, err := os.Stat(rec); err == nil && st.IsDir() {
				return rec
			}
			return ""
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

func isOurModule(gomod string) bool {
	f, err := os.Open(gomod)
	if err != nil {
		return false
	}
	defer func() { _ = f.Close() }()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); strings.HasPrefix(line, "module ") {
			return strings.TrimSpace(strings.TrimPrefix(line, "module ")) == modulePath
		}
	}
	return false
}

// loadRecordings reads every .gsm and .wav file of dir, in name order so the generator's choices are stable.
func loadRecordings(dir string) ([]recording, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("reading recordings directory: %w", err)
	}
	var pool []recording
	for _, e := range entries {
		ext := strings.ToLower(filepath.Ext(e.Name()))
		if e.IsDir() || (ext != ".gsm" && ext != ".wav") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("reading recording: %w", err)
		}
		if len(data) == 0 {
			continue
		}
		pool = append(pool, recording{name: e.Name(), ext: ext, data: data})
	}
	slices.SortFunc(pool, func(a, b recording) int { return strings.Compare(a.name, b.name) })
	if len(pool) == 0 {
		return nil, fmt.Errorf("no .gsm or .wav recordings in %s: point --recordings at a directory that has some", dir)
	}
	return pool, nil
}

// synthRecordings makes a few 8 kHz A-law WAV files that sound like a voice on a phone line: syllable-shaped
// bursts of a gliding, harmonic-rich tone with a little line noise, and pauses between words. They stand in for
// real recordings when the binary runs outside the repository (callscope --demo from an installed binary).
func synthRecordings() []recording {
	var pool []recording
	for i, spec := range []struct {
		seconds float64
		pitch   float64
	}{{6, 125}, {9, 210}, {4.5, 160}} {
		pcm := synthSpeech(uint64(i+1), spec.seconds, spec.pitch)
		pool = append(pool, recording{name: fmt.Sprintf("synth-%d.wav", i+1), ext: ".wav", data: alawWAV(pcm)})
	}
	return pool
}

func synthSpeech(seed uint64, seconds, pitch float64) []int16 {
	const rate = 8000
	r := rand.New(rand.NewPCG(seed, 42))
	out := make([]int16, int(seconds*rate))
	phase := 0.0
	pos := 0
	for pos < len(out) {
		// A syllable of 120–300 ms, sometimes followed by a pause between words.
		syl := int((0.12 + 0.18*r.Float64()) * rate)
		f0 := pitch * (0.85 + 0.3*r.Float64())
		glide := (r.Float64() - 0.5) * 0.4
		for k := 0; k < syl && pos < len(out); k++ {
			t := float64(k) / float64(syl)
			env := math.Sin(math.Pi * t)
			f := f0 * (1 + glide*t)
			phase += 2 * math.Pi * f / rate
			v := 0.0
			for h := 1.0; h <= 6; h++ {
				v += math.Sin(h*phase) / h
			}
			v = v*env*0.35 + (r.Float64()-0.5)*0.02
			out[pos] = int16(v * 32767 * 0.8)
			pos++
		}
		if r.IntN(3) == 0 {
			gap := int((0.1 + 0.25*r.Float64()) * rate)
			for k := 0; k < gap && pos < len(out); k++ {
				out[pos] = int16((r.Float64() - 0.5) * 300)
				pos++
			}
		}
	}
	return out
}

// alawWAV wraps G.711 A-law samples in a WAV header (format tag 6), as Asterisk writes its .wav recordings
// when configured for A-law.
func alawWAV(pcm []int16) []byte {
	le := binary.LittleEndian
	n := uint32(len(pcm))
	b := make([]byte, 0, 58+len(pcm)+1)
	b = append(b, "RIFF"...)
	b = le.AppendUint32(b, 4+26+12+8+n)
	b = append(b, "WAVEfmt "...)
	b = le.AppendUint32(b, 18)
	b = le.AppendUint16(b, 6) // A-law
	b = le.AppendUint16(b, 1)
	b = le.AppendUint32(b, 8000)
	b = le.AppendUint32(b, 8000)
	b = le.AppendUint16(b, 1)
	b = le.AppendUint16(b, 8)
	b = le.AppendUint16(b, 0)
	b = append(b, "fact"...)
	b = le.AppendUint32(b, 4)
	b = le.AppendUint32(b, n)
	b = append(b, "data"...)
	b = le.AppendUint32(b, n)
	for _, s := range pcm {
		b = append(b, alaw(s))
	}
	if n%2 == 1 {
		b = append(b, 0) // RIFF chunks are padded to an even length
	}
	return b
}

// alaw encodes one sample as G.711 A-law.
func alaw(s int16) byte {
	v := int(s) >> 3 // A-law works on 13-bit samples
	sign := byte(0x80)
	if v < 0 {
		sign = 0
		v = -v - 1
	}
	var out byte
	if v < 32 {
		out = byte(v >> 1)
	} else {
		seg := 1
		for v >= 64<<(seg-1) && seg < 7 {
			seg++
		}
		out = byte(seg<<4) | byte((v>>seg)&0x0f)
	}
	return (out | sign) ^ 0x55
}
