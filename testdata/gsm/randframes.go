//go:build ignore

// randframes writes GSM 06.10 frames made of random bits (random.gsm, with the 0xD
// magic) and WAV49 blocks of random bits wrapped in a minimal WAVE_FORMAT_GSM610 file
// (random.wav49.wav). No encoder produces such parameters (out-of-range lags, extreme
// amplitudes), so sox's decode of them checks the decoder's saturation paths.
// Run by gen.sh; the fixed seed makes the output the same on every run.
package main

import (
	"encoding/binary"
	"log"
	"math/rand/v2"
	"os"
)

const (
	rawFrames   = 60
	wav49Blocks = 30
)

func main() {
	rng := rand.New(rand.NewPCG(0x6773_6d30, 0x3631_3000))

	raw := make([]byte, rawFrames*33)
	for i := range raw {
		raw[i] = byte(rng.Uint32())
	}
	for i := 0; i < len(raw); i += 33 {
		raw[i] = 0xD0 | raw[i]&0x0F
	}
	// A fresh decoder falls back to its initial lag of 40 when the first lags are out
	// of range; make the first frame's lags all 0 so that start-up state is checked.
	for j := range 4 {
		setBitsMSB(raw, 4+36+56*j, 7, 0)
	}
	if err := os.WriteFile("random.gsm", raw, 0o644); err != nil {
		log.Fatal(err)
	}

	data := make([]byte, wav49Blocks*65)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	for j := range 4 {
		setBitsLSB(data, 36+56*j, 7, 0)
	}
	le := binary.LittleEndian
	var w []byte
	w = append(w, "RIFF"...)
	w = le.AppendUint32(w, uint32(4+(8+20)+(8+4)+(8+len(data))))
	w = append(w, "WAVEfmt "...)
	w = le.AppendUint32(w, 20)
	w = le.AppendUint16(w, 0x31) // WAVE_FORMAT_GSM610
	w = le.AppendUint16(w, 1)    // mono
	w = le.AppendUint32(w, 8000) // sample rate
	w = le.AppendUint32(w, 1625) // bytes per second
	w = le.AppendUint16(w, 65)   // block align
	w = le.AppendUint16(w, 0)    // bits per sample
	w = le.AppendUint16(w, 2)    // extra format bytes
	w = le.AppendUint16(w, 320)  // samples per block
	w = append(w, "fact"...)
	w = le.AppendUint32(w, 4)
	w = le.AppendUint32(w, wav49Blocks*320)
	w = append(w, "data"...)
	w = le.AppendUint32(w, uint32(len(data)))
	w = append(w, data...)
	if err := os.WriteFile("random.wav49.wav", w, 0o644); err != nil {
		log.Fatal(err)
	}
}

// setBitsMSB stores v in the n bits at bit offset off, most-significant bit first
// (the raw .gsm packing).
func setBitsMSB(b []byte, off, n int, v uint) {
	for i := range n {
		bit := off + i
		mask := byte(0x80) >> (bit % 8)
		if v>>(n-1-i)&1 != 0 {
			b[bit/8] |= mask
		} else {
			b[bit/8] &^= mask
		}
	}
}

// setBitsLSB stores v in the n bits at bit offset off, least-significant bit first
// (the WAV49 packing).
func setBitsLSB(b []byte, off, n int, v uint) {
	for i := range n {
		bit := off + i
		mask := byte(1) << (bit % 8)
		if v>>i&1 != 0 {
			b[bit/8] |= mask
		} else {
			b[bit/8] &^= mask
		}
	}
}
