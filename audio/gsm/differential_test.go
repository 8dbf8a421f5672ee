package gsm

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
)

// The optimised Decoder must agree with refDecoder sample for sample and state for
// state on every input, not only on what an encoder produces: the tests here feed
// both the corpus, random frames and frames built from extreme field values (which
// drive the filters into saturation), and the fuzz targets feed them anything.

// stateDiff describes how d's state differs from the oracle's, or returns "".
func stateDiff(d *Decoder, r *refDecoder) string {
	nrp := d.nrp
	if nrp == 0 {
		nrp = 40
	}
	switch {
	case d.drp != [120]int16(r.dp0[:120]):
		return "residual history differs"
	case nrp != r.nrp:
		return fmt.Sprintf("LTP lag %d, oracle %d", nrp, r.nrp)
	case d.larpp != r.larpp:
		return fmt.Sprintf("LARs %v, oracle %v", d.larpp, r.larpp)
	case d.v != [8]int16(r.v[:8]):
		return fmt.Sprintf("lattice state %v, oracle %v", d.v, r.v[:8])
	case d.msr != r.msr:
		return fmt.Sprintf("de-emphasis state %d, oracle %d", d.msr, r.msr)
	}
	return ""
}

// compareRaw decodes stream (whole frames, magic already set) with both decoders and
// fails at the first frame where the samples or the state differ.
func compareRaw(t testing.TB, stream []byte) {
	t.Helper()
	var d Decoder
	r := newRefDecoder()
	got := make([]int16, FrameSamples)
	want := make([]int16, FrameSamples)
	for i := 0; i+FrameSize <= len(stream); i += FrameSize {
		frame := stream[i : i+FrameSize]
		if err := d.Decode(frame, got); err != nil {
			t.Fatalf("frame %d: %v", i/FrameSize, err)
		}
		r.decodeFrame(frame, want)
		if diff := firstDiff(got, want); diff != "" {
			t.Fatalf("frame %d (% x): %s", i/FrameSize, frame, diff)
		}
		if diff := stateDiff(&d, r); diff != "" {
			t.Fatalf("frame %d (% x): %s", i/FrameSize, frame, diff)
		}
	}
}

func compareWAV49(t testing.TB, stream []byte) {
	t.Helper()
	var d Decoder
	r := newRefDecoder()
	got := make([]int16, WAV49BlockSamples)
	want := make([]int16, WAV49BlockSamples)
	for i := 0; i+WAV49BlockSize <= len(stream); i += WAV49BlockSize {
		block := stream[i : i+WAV49BlockSize]
		if err := d.DecodeWAV49(block, got); err != nil {
			t.Fatalf("block %d: %v", i/WAV49BlockSize, err)
		}
		r.decodeWAV49(block, want)
		if diff := firstDiff(got, want); diff != "" {
			t.Fatalf("block %d (% x): %s", i/WAV49BlockSize, block, diff)
		}
		if diff := stateDiff(&d, r); diff != "" {
			t.Fatalf("block %d (% x): %s", i/WAV49BlockSize, block, diff)
		}
	}
}

// setMagic gives every whole frame of b the 0xD magic nibble, so that every frame
// decodes and the comparison reaches the synthesis code.
func setMagic(b []byte) []byte {
	for i := 0; i+FrameSize <= len(b); i += FrameSize {
		b[i] = gsmMagic<<4 | b[i]&0x0F
	}
	return b
}

// putFields packs one frame's 76 parameters, most significant bit first, after the
// magic nibble.
func putFields(frame []byte, p *[76]int16) {
	clear(frame)
	frame[0] = gsmMagic << 4
	bit := 4
	for i, w := range refFieldBits {
		for k := int(w) - 1; k >= 0; k-- {
			if p[i]>>k&1 != 0 {
				frame[bit/8] |= 0x80 >> (bit % 8)
			}
			bit++
		}
	}
}

// extremeFrames builds n frames whose fields each take their smallest or largest
// value (and lags sometimes out of range), which pushes the lattice filter, the
// long-term predictor and the de-emphasis filter into saturation.
func extremeFrames(rng *rand.Rand, n int) []byte {
	out := make([]byte, n*FrameSize)
	for f := range n {
		var p [76]int16
		for i, w := range refFieldBits {
			if rng.IntN(2) == 1 {
				p[i] = 1<<w - 1
			}
		}
		putFields(out[f*FrameSize:], &p)
	}
	return out
}

func randomBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

func TestReferenceMatchesSox(t *testing.T) {
	for _, name := range corpus {
		t.Run(name, func(t *testing.T) {
			gsm := readCorpus(t, name+".gsm")
			r := newRefDecoder()
			got := make([]int16, len(gsm)/FrameSize*FrameSamples)
			for i := 0; i < len(gsm)/FrameSize; i++ {
				r.decodeFrame(gsm[i*FrameSize:], got[i*FrameSamples:])
			}
			if diff := firstDiff(got, readRef(t, name+".ref.raw")); diff != "" {
				t.Fatalf("raw: %s", diff)
			}
			data := wavData(t, readCorpus(t, name+".wav49.wav"))
			r = newRefDecoder()
			got = make([]int16, len(data)/WAV49BlockSize*WAV49BlockSamples)
			for i := 0; i < len(data)/WAV49BlockSize; i++ {
				r.decodeWAV49(data[i*WAV49BlockSize:], got[i*WAV49BlockSamples:])
			}
			if diff := firstDiff(got, readRef(t, name+".wav49.ref.raw")); diff != "" {
				t.Fatalf("WAV49: %s", diff)
			}
		})
	}
}

func TestMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 610))
	var zeros, ones [FrameSize]byte
	for i := range ones {
		ones[i] = 0xFF
	}
	tests := []struct {
		name   string
		stream []byte
	}{
		{"random frames", setMagic(randomBytes(rng, 4000*FrameSize))},
		{"extreme fields", extremeFrames(rng, 4000)},
		{"all zero fields", setMagic(bytes.Repeat(zeros[:], 50))},
		{"all one fields", setMagic(bytes.Repeat(ones[:], 50))},
		{"loud then random", append(readCorpus(t, "square.gsm"), setMagic(randomBytes(rng, 200*FrameSize))...)},
	}
	for _, name := range corpus {
		tests = append(tests, struct {
			name   string
			stream []byte
		}{name + ".gsm", readCorpus(t, name+".gsm")})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { compareRaw(t, tt.stream) })
	}
}

func TestMatchesReferenceWAV49(t *testing.T) {
	rng := rand.New(rand.NewPCG(49, 65))
	tests := []struct {
		name   string
		stream []byte
	}{
		{"random blocks", randomBytes(rng, 2000*WAV49BlockSize)},
		{"all zeros", make([]byte, 20*WAV49BlockSize)},
		{"all ones", bytes.Repeat([]byte{0xFF}, 20*WAV49BlockSize)},
	}
	for _, name := range corpus {
		tests = append(tests, struct {
			name   string
			stream []byte
		}{name + ".wav49.wav", wavData(t, readCorpus(t, name+".wav49.wav"))})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { compareWAV49(t, tt.stream) })
	}
}

func FuzzMatchesReference(f *testing.F) {
	for _, name := range corpus {
		b := readCorpus(f, name+".gsm")
		f.Add(b[:min(len(b), 8*FrameSize)])
	}
	f.Add(extremeFrames(rand.New(rand.NewPCG(1, 2)), 8))
	f.Add(bytes.Repeat([]byte{0xFF}, 4*FrameSize))
	f.Fuzz(func(t *testing.T, data []byte) {
		compareRaw(t, setMagic(bytes.Clone(data)))
	})
}

func FuzzMatchesReferenceWAV49(f *testing.F) {
	for _, name := range corpus {
		data := wavData(f, readCorpus(f, name+".wav49.wav"))
		f.Add(data[:min(len(data), 4*WAV49BlockSize)])
	}
	f.Add(bytes.Repeat([]byte{0xFF}, 2*WAV49BlockSize))
	f.Fuzz(func(t *testing.T, data []byte) {
		compareWAV49(t, data)
	})
}

// checkUnpack compares the unpackers with the oracle's bit-by-bit readers on the
// first 65 bytes of b (a raw frame is its first 33).
func checkUnpack(t *testing.T, b []byte) {
	t.Helper()
	var raw [FrameSize]byte
	var block [WAV49BlockSize]byte
	copy(raw[:], b)
	copy(block[:], b)
	var p params
	unpackMSB(&raw, &p)
	if want := refUnpackMSB(raw[:]); [76]int16(p) != want {
		t.Fatalf("unpackMSB(% x):\n got %v\nwant %v", raw, p, want)
	}
	for half, start := range []int{0, 260} {
		unpackWAV49(&block, half, &p)
		if want := refUnpackLSB(block[:], start); [76]int16(p) != want {
			t.Fatalf("unpackWAV49(% x, %d):\n got %v\nwant %v", block, half, p, want)
		}
	}
}

func TestUnpackMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 6))
	tests := [][]byte{
		make([]byte, WAV49BlockSize),
		bytes.Repeat([]byte{0xFF}, WAV49BlockSize),
		bytes.Repeat([]byte{0xAA}, WAV49BlockSize),
		bytes.Repeat([]byte{0x0F}, WAV49BlockSize),
	}
	// Every single bit set alone, so a field read from the wrong position shows.
	for bit := range 8 * WAV49BlockSize {
		b := make([]byte, WAV49BlockSize)
		b[bit/8] = 1 << (bit % 8)
		tests = append(tests, b)
	}
	for range 1000 {
		tests = append(tests, randomBytes(rng, WAV49BlockSize))
	}
	for _, b := range tests {
		checkUnpack(t, b)
	}
}

func FuzzUnpack(f *testing.F) {
	f.Add(readCorpus(f, "speech.gsm")[:WAV49BlockSize])
	f.Add(bytes.Repeat([]byte{0xFF}, WAV49BlockSize))
	f.Fuzz(func(t *testing.T, b []byte) { checkUnpack(t, b) })
}
