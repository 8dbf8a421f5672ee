package wav

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/callscope/callscope/audio/g711"
	"github.com/callscope/callscope/audio/gsm"
)

// Decoder turns whole blocks of a data chunk into mono 16-bit samples, averaging the channels
// of multi-channel audio. It is a plain value: copying it (saved := *d) snapshots the codec
// state, which is how a caller keeps checkpoints for exact seeking in GSM audio.
type Decoder struct {
	enc        Encoding
	channels   int
	blockAlign int
	blockSamp  int
	gsm        gsm.Decoder
}

// NewDecoder returns a decoder for the audio h describes.
func NewDecoder(h *Header) *Decoder {
	return &Decoder{enc: h.Encoding, channels: h.Channels, blockAlign: h.BlockAlign, blockSamp: h.BlockSamples}
}

// Reset returns the decoder to the state at the start of the data.
func (d *Decoder) Reset() { d.gsm.Reset() }

// BlockSize is the number of bytes Decode consumes per block.
func (d *Decoder) BlockSize() int { return d.blockAlign }

// BlockSamples is the number of mono samples one block decodes to.
func (d *Decoder) BlockSamples() int { return d.blockSamp }

// Decode decodes as many whole blocks of src as fit in dst and returns the number of samples
// written and bytes consumed. Bytes of an incomplete last block are left unconsumed.
func (d *Decoder) Decode(dst []int16, src []byte) (samples, consumed int, err error) {
	blocks := min(len(src)/d.blockAlign, len(dst)/d.blockSamp)
	src = src[:blocks*d.blockAlign]
	dst = dst[:blocks*d.blockSamp]
	switch {
	case d.enc == GSM610:
		for i := range blocks {
			if err := d.gsm.DecodeWAV49(src[i*gsmBlock:], dst[i*gsmSamples:]); err != nil {
				return i * gsmSamples, i * gsmBlock, err
			}
		}
	case d.channels == 1:
		decodeMono(d.enc, dst, src)
	default:
		d.decodeMix(dst, src)
	}
	return len(dst), len(src), nil
}

func decodeMono(enc Encoding, dst []int16, src []byte) {
	switch enc {
	case PCM8:
		for i, c := range src {
			dst[i] = int16(c^0x80) << 8
		}
	case PCM16:
		for i := range dst {
			dst[i] = int16(binary.LittleEndian.Uint16(src[2*i:]))
		}
	case ALaw:
		g711.DecodeALaw(dst, src)
	case ULaw:
		g711.DecodeULaw(dst, src)
	}
}

// decodeMix averages the channels of each block into one sample.
func (d *Decoder) decodeMix(dst []int16, src []byte) {
	ch := d.channels
	for i := range dst {
		frame := src[i*d.blockAlign:]
		var sum int32
		for c := range ch {
			switch d.enc {
			case PCM8:
				sum += int32(int16(frame[c]^0x80) << 8)
			case PCM16:
				sum += int32(int16(binary.LittleEndian.Uint16(frame[2*c:])))
			case ALaw:
				sum += int32(g711.ALaw[frame[c]])
			case ULaw:
				sum += int32(g711.ULaw[frame[c]])
			}
		}
		dst[i] = int16(sum / int32(ch))
	}
}

// ErrTruncated means the file holds less audio than its header promises, or ends inside a block;
// ReadAll returns it together with the samples that could be decoded.
var ErrTruncated = errors.New("wav: the file is truncated")

// ReadAll decodes a whole WAV file of size bytes into mono samples. When the file is cut short
// it returns the samples of the whole blocks present and an error matching ErrTruncated.
func ReadAll(r io.ReaderAt, size int64) ([]int16, *Header, error) {
	h, err := ReadHeader(r, size)
	if err != nil {
		return nil, nil, err
	}
	ext := h.Extent(size)
	d := NewDecoder(h)
	out := make([]int16, ext.Blocks*int64(h.BlockSamples))
	// Decode in slices so the input buffer stays small whatever the file size.
	buf := make([]byte, h.BlockAlign*max(64, 1<<16/h.BlockAlign))
	var done int
	for off := h.DataOffset; off+int64(h.BlockAlign) <= ext.End && done < len(out); {
		n, rerr := r.ReadAt(buf[:min(int64(len(buf)), ext.End-off)], off)
		if n < h.BlockAlign {
			if rerr == nil {
				rerr = io.ErrUnexpectedEOF
			}
			return out[:done], h, fmt.Errorf("wav: read audio at byte %d: %w", off, rerr)
		}
		s, c, err := d.Decode(out[done:], buf[:n])
		done += s
		off += int64(c)
		if err != nil {
			return out[:done], h, fmt.Errorf("wav: decode block at byte %d: %w", off, err)
		}
	}
	out = out[:min(int64(done), ext.Samples)]
	switch {
	case ext.Missing > 0:
		return out, h, fmt.Errorf("%w: the data chunk declares %d more bytes than the file holds", ErrTruncated, ext.Missing)
	case ext.Partial > 0:
		return out, h, fmt.Errorf("%w: it ends %d bytes into a %d-byte block", ErrTruncated, ext.Partial, h.BlockAlign)
	}
	return out, h, nil
}
