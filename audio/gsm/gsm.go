// Package gsm decodes GSM 06.10 full-rate speech (the codec of Asterisk's .gsm and
// WAV49 recordings), bit-exact with the reference decoder of the standard.
//
// The decoder follows ETSI GSM 06.10 section 4.3: RPE decoding, long-term prediction
// synthesis, LAR decoding and interpolation, the short-term synthesis lattice filter,
// de-emphasis and upscaling, all in the standard's saturating 16-bit arithmetic.
package gsm

import (
	"errors"
	"io"
)

const (
	// FrameSize is the size in bytes of one raw GSM frame; the high nibble of its
	// first byte is the magic 0xD.
	FrameSize = 33
	// FrameSamples is the number of 8 kHz samples one frame decodes to.
	FrameSamples = 160
	// WAV49BlockSize is the size in bytes of one MS-GSM (WAV49, format tag 0x0031)
	// block: two frames packed least-significant bit first, without magic.
	WAV49BlockSize = 65
	// WAV49BlockSamples is the number of samples one WAV49 block decodes to.
	WAV49BlockSamples = 2 * FrameSamples
)

var (
	// ErrBadMagic means a raw frame did not start with the 0xD nibble: the data is
	// not raw GSM 06.10, or the reader lost frame alignment.
	ErrBadMagic = errors.New("gsm: frame does not start with the 0xD magic nibble; the data is not raw GSM 06.10 or is misaligned")
	// ErrShort means fewer bytes than one frame (or one WAV49 block) were given,
	// as at the end of a truncated file.
	ErrShort = errors.New("gsm: input is shorter than one frame (33 bytes, or 65 for WAV49); the file is truncated")
)

// gsmMagic is the nibble every raw frame starts with.
const gsmMagic = 0xD

// maxSniffFrames bounds how much of a buffer IsFrame inspects.
const maxSniffFrames = 16

// Decoder holds the state carried from frame to frame. The zero value is ready to
// use. It is a plain value (arrays only, no pointers), so copying it — saved := *d —
// snapshots the whole state, and assigning it back resumes decoding bit-exactly,
// which is what exact seeking needs.
type Decoder struct {
	// drp holds the last 120 samples of reconstructed short-term residual, the
	// history the long-term predictor reaches back into (lag 40..120).
	drp [120]int16
	// nrp is the last valid LTP lag; 0 stands for the standard's initial 40 so that
	// the zero value is a reset decoder.
	nrp int16
	// larpp holds the previous frame's decoded log-area ratios, interpolated with
	// the current ones over the first 40 samples of a frame.
	larpp [8]int16
	// v is the memory of the short-term synthesis lattice filter (the standard's
	// v[0..7]; its v[8] is written but never read).
	v [8]int16
	// msr is the de-emphasis filter memory.
	msr int16
}

// Reset returns the decoder to its initial state, as at the start of a stream.
func (d *Decoder) Reset() { *d = Decoder{} }

// IsFrame reports whether b looks like the start of raw GSM 06.10: every frame start
// within b (up to 16 frames) carries the 0xD magic nibble. A single frame is a weak
// hint (one random byte in 16 passes); give several frames for a confident answer.
func IsFrame(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for i, n := 0, 0; i < len(b) && n < maxSniffFrames; i, n = i+FrameSize, n+1 {
		if b[i]>>4 != gsmMagic {
			return false
		}
	}
	return true
}

// Decode decodes one raw 33-byte frame into out[:160]. On ErrShort, ErrBadMagic or
// io.ErrShortBuffer (out shorter than 160) the decoder state is left untouched.
func (d *Decoder) Decode(frame []byte, out []int16) error {
	if len(frame) < FrameSize {
		return ErrShort
	}
	if len(out) < FrameSamples {
		return io.ErrShortBuffer
	}
	if frame[0]>>4 != gsmMagic {
		return ErrBadMagic
	}
	var p params
	unpackMSB((*[FrameSize]byte)(frame), &p)
	d.synthesize(&p, (*[FrameSamples]int16)(out))
	return nil
}

// DecodeWAV49 decodes one 65-byte WAV49 block (two frames) into out[:320]. WAV49 has
// no magic, so every block of 65 bytes decodes; on ErrShort or io.ErrShortBuffer
// the decoder state is left untouched.
func (d *Decoder) DecodeWAV49(block []byte, out []int16) error {
	if len(block) < WAV49BlockSize {
		return ErrShort
	}
	if len(out) < WAV49BlockSamples {
		return io.ErrShortBuffer
	}
	b := (*[WAV49BlockSize]byte)(block)
	var p params
	unpackWAV49(b, 0, &p)
	d.synthesize(&p, (*[FrameSamples]int16)(out[:FrameSamples]))
	unpackWAV49(b, 1, &p)
	d.synthesize(&p, (*[FrameSamples]int16)(out[FrameSamples:WAV49BlockSamples]))
	return nil
}

// params are the 76 coded parameters of one frame in transmission order: the eight
// log-area ratios, then per sub-frame the LTP lag Nc, LTP gain bc, grid position Mc,
// block amplitude xmaxc and the 13 RPE samples xMc.
type params [76]int16

const subframeParams = 17

func (p *params) larc() *[8]int16 { return (*[8]int16)(p[:8]) }

// sub returns sub-frame j's parameters: Nc, bc, Mc, xmaxc, xMc[0..12].
func (p *params) sub(j int) *[subframeParams]int16 {
	return (*[subframeParams]int16)(p[8+subframeParams*j:])
}
