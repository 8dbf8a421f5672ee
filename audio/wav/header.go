// Package wav reads RIFF/WAVE files of the kinds PBXs record: 8- and 16-bit PCM, A-law, µ-law and
// GSM 6.10 (WAV49), plain or wrapped in WAVE_FORMAT_EXTENSIBLE, at any sample rate.
//
// Nothing in a header is trusted: chunks may come in any order, sizes may be odd, zero, 0xFFFFFFFF
// or larger than the file, and fields may contradict each other. ReadHeader either explains in one
// line why a file cannot be read or describes it well enough to decode whatever audio it holds.
// Memory use is bounded by the bytes actually present, never by what a header claims.
package wav

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Encoding is how the samples in the data chunk are coded.
type Encoding int

// The encodings this package decodes.
const (
	PCM8   Encoding = iota + 1 // unsigned 8-bit linear
	PCM16                      // signed 16-bit little-endian linear
	ALaw                       // ITU-T G.711 A-law
	ULaw                       // ITU-T G.711 µ-law
	GSM610                     // GSM 06.10 full rate in 65-byte WAV49 blocks of two frames
)

func (e Encoding) String() string {
	switch e {
	case PCM8:
		return "8-bit PCM"
	case PCM16:
		return "16-bit PCM"
	case ALaw:
		return "A-law"
	case ULaw:
		return "µ-law"
	case GSM610:
		return "GSM 6.10 (WAV49)"
	}
	return fmt.Sprintf("encoding %d", int(e))
}

// Format tags from the fmt chunk that this package reads.
const (
	tagPCM        = 0x0001
	tagALaw       = 0x0006
	tagULaw       = 0x0007
	tagGSM610     = 0x0031
	tagExtensible = 0xFFFE
)

// Limits that keep a hostile header from steering the reader into absurd work.
const (
	maxChannels   = 8
	maxSampleRate = 768000
	// maxChunks bounds the chunk walk; real files have a handful of chunks.
	maxChunks = 4096
	// maxFmtSize is more than any fmt chunk needs (WAVE_FORMAT_EXTENSIBLE is 40 bytes).
	maxFmtSize = 1024
	gsmBlock   = 65
	gsmSamples = 320
)

// Header describes a WAV file's audio: how it is coded and where it lies.
type Header struct {
	Encoding Encoding
	// FormatTag is the tag as written in the file (0xFFFE for WAVE_FORMAT_EXTENSIBLE).
	FormatTag  uint16
	Channels   int
	SampleRate int
	// BlockAlign is the size in bytes of one block, the smallest unit that decodes on its own
	// (one sample of every channel, or one WAV49 block).
	BlockAlign int
	// BlockSamples is how many samples per channel one block decodes to.
	BlockSamples int
	// DataOffset is where the data chunk's payload starts.
	DataOffset int64
	// DataSize is the payload size the data chunk declares, or -1 when it declares 0 or
	// 0xFFFFFFFF, which recorders write while still recording: the data then runs to end of file.
	DataSize int64
	// FactSamples is the sample count from the fact chunk, or -1 when there is none or it cannot
	// be right. Only GSM uses it, to drop the padding of the last block.
	FactSamples int64
	// Warnings lists what was wrong with the header but could be worked around.
	Warnings []string
}

// ErrNotWAV means the bytes do not start with a RIFF/WAVE header.
var ErrNotWAV = errors.New("wav: not a WAV file (no RIFF/WAVE header)")

// ErrShortHeader means the file ended before the header was complete (before both the fmt and
// the data chunk were found). For a file still being written, more bytes may fix it.
var ErrShortHeader = errors.New("wav: the file ends inside its header")

// shortError is a specific reason for ErrShortHeader.
type shortError string

func (e shortError) Error() string        { return string(e) }
func (e shortError) Is(target error) bool { return target == ErrShortHeader }

// UnsupportedError is returned for a codec this package does not decode.
type UnsupportedError struct {
	Tag  uint16
	Name string // what the tag is, when known
}

func (e *UnsupportedError) Error() string {
	if e.Name == "" {
		return fmt.Sprintf("wav: audio format tag 0x%04X is not supported (PCM, A-law, µ-law and GSM 6.10 are)", e.Tag)
	}
	return fmt.Sprintf("wav: %s (tag 0x%04X) is not supported (PCM, A-law, µ-law and GSM 6.10 are)", e.Name, e.Tag)
}

// tagNames names the format tags a PBX or a user is likely to hand us.
var tagNames = map[uint16]string{
	0x0002: "Microsoft ADPCM",
	0x0003: "IEEE float",
	0x0011: "IMA ADPCM",
	0x0022: "TrueSpeech",
	0x0040: "G.721 ADPCM",
	0x0042: "G.723.1",
	0x0050: "MPEG audio",
	0x0055: "MP3",
	0x00FF: "AAC",
	0x0161: "Windows Media Audio",
	0x2000: "AC-3",
	0xF1AC: "FLAC",
}

// extensibleGUIDTail is bytes 2..15 of every KSDATAFORMAT_SUBTYPE GUID built from a format tag.
var extensibleGUIDTail = []byte{0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71}

// ReadHeader parses the header of the WAV file r, of which size bytes are readable.
// Errors are ErrNotWAV, an error matching ErrShortHeader, an *UnsupportedError, or a one-line
// description of a header that cannot be made sense of.
func ReadHeader(r io.ReaderAt, size int64) (*Header, error) {
	if size <= 0 {
		return nil, shortError("wav: the file is empty")
	}
	var head [12]byte
	n, err := r.ReadAt(head[:], 0)
	if n < 4 && err != nil && err != io.EOF {
		return nil, fmt.Errorf("wav: read header: %w", err)
	}
	if !isPrefix(head[:n], "RIFF") || n >= 12 && string(head[8:12]) != "WAVE" {
		switch {
		case isPrefix(head[:n], "RIFX"):
			return nil, errors.New("wav: big-endian (RIFX) WAV is not supported")
		case isPrefix(head[:n], "RF64"):
			return nil, errors.New("wav: RF64 (64-bit) WAV is not supported")
		}
		return nil, ErrNotWAV
	}
	if n < 12 {
		return nil, shortError("wav: the file ends inside its RIFF header")
	}

	h := &Header{DataSize: -1, FactSamples: -1}
	var (
		fmtBody  []byte
		haveData bool
		fact     int64  = -1
		pos      int64  = 12
		overrun  string // a chunk before the audio that claims to run past the end of the file
	)
walk:
	for chunks := 0; ; chunks++ {
		if chunks == maxChunks {
			if fmtBody == nil || !haveData {
				return nil, fmt.Errorf("wav: more than %d chunks without finding fmt and data; not a usable WAV file", maxChunks)
			}
			break
		}
		if pos+8 > size {
			break
		}
		var ch [8]byte
		if _, err := r.ReadAt(ch[:], pos); err != nil && err != io.EOF {
			return nil, fmt.Errorf("wav: read chunk at byte %d: %w", pos, err)
		}
		id := string(ch[:4])
		clen := int64(binary.LittleEndian.Uint32(ch[4:]))
		if !isChunkID(ch[:4]) {
			if fmtBody != nil && haveData {
				h.Warnings = append(h.Warnings, fmt.Sprintf("ignored unreadable bytes after the audio at byte %d", pos))
				break
			}
			return nil, fmt.Errorf("wav: bytes at offset %d are not a RIFF chunk and no %s chunk came before them; the file is damaged", pos, missing(fmtBody != nil, haveData))
		}
		body := pos + 8
		switch id {
		case "fmt ":
			if fmtBody != nil {
				h.Warnings = append(h.Warnings, "ignored a second fmt chunk")
				break
			}
			want := min(clen, maxFmtSize)
			if body+want > size {
				return nil, shortError("wav: the file ends inside its fmt chunk")
			}
			fmtBody = make([]byte, want)
			if _, err := r.ReadAt(fmtBody, body); err != nil && err != io.EOF {
				return nil, fmt.Errorf("wav: read fmt chunk: %w", err)
			}
		case "fact":
			if clen >= 4 && body+4 <= size {
				var b [4]byte
				if _, err := r.ReadAt(b[:], body); err == nil || err == io.EOF {
					fact = int64(binary.LittleEndian.Uint32(b[:]))
				}
			}
		case "data":
			if haveData {
				h.Warnings = append(h.Warnings, "ignored a second data chunk")
				break
			}
			open := clen == 0 || clen == 0xFFFFFFFF
			if fmtBody == nil && open {
				return nil, errors.New("wav: the data chunk comes before the fmt chunk and does not say how long it is; the file cannot be read")
			}
			haveData = true
			h.DataOffset = body
			if !open {
				h.DataSize = clen
			}
			// Only chunks after a data chunk of known length inside the file can be reached.
			if open || body+clen >= size {
				break walk
			}
		}
		next := body + clen
		if next > size && overrun == "" {
			overrun = fmt.Sprintf(" (the %q chunk at byte %d claims %d bytes, past the end of the file)", id, pos, clen)
		}
		if clen%2 == 1 {
			next = skipPad(r, next, size)
		}
		pos = next
	}

	if fmtBody == nil {
		if pos+8 <= size {
			return nil, errors.New("wav: no fmt chunk, so the audio format is unknown")
		}
		return nil, shortError("wav: the file ends before its fmt chunk" + overrun)
	}
	if !haveData {
		return nil, shortError("wav: the file ends before its data chunk, so it holds no audio" + overrun)
	}
	if err := h.parseFmt(fmtBody); err != nil {
		return nil, err
	}
	h.useFact(fact)
	return h, nil
}

// skipPad steps over the pad byte after an odd-sized chunk, unless the writer left it out: some
// do, and then a chunk id starts right at next.
func skipPad(r io.ReaderAt, next, size int64) int64 {
	if next+9 > size {
		return next + 1
	}
	var b [5]byte
	if _, err := r.ReadAt(b[:], next); err != nil {
		return next + 1
	}
	if isChunkID(b[:4]) && !isChunkID(b[1:5]) {
		return next
	}
	return next + 1
}

func isPrefix(b []byte, s string) bool { return len(b) >= len(s) && string(b[:len(s)]) == s }

// isChunkID reports whether b is four printable ASCII characters, as every real chunk id is.
func isChunkID(b []byte) bool {
	for _, c := range b[:4] {
		if c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}

func missing(haveFmt, haveData bool) string {
	switch {
	case !haveFmt && !haveData:
		return "fmt or data"
	case !haveFmt:
		return "fmt"
	}
	return "data"
}

// parseFmt fills the format fields from the fmt chunk and checks that they agree.
func (h *Header) parseFmt(b []byte) error {
	if len(b) < 14 {
		return fmt.Errorf("wav: the fmt chunk is %d bytes, too short to describe the audio", len(b))
	}
	le := binary.LittleEndian
	tag := le.Uint16(b[0:])
	channels := int(le.Uint16(b[2:]))
	rate := int64(le.Uint32(b[4:]))
	byteRate := int64(le.Uint32(b[8:]))
	blockAlign := int(le.Uint16(b[12:]))
	bits := 0
	if len(b) >= 16 {
		bits = int(le.Uint16(b[14:]))
	}
	var extra []byte
	if len(b) >= 18 {
		extra = b[18:min(len(b), 18+int(le.Uint16(b[16:])))]
	}
	h.FormatTag = tag
	if tag == tagExtensible {
		if len(extra) < 22 {
			return errors.New("wav: the fmt chunk says WAVE_FORMAT_EXTENSIBLE but is too short to name the sub-format")
		}
		if string(extra[8:22]) != string(extensibleGUIDTail) {
			return errors.New("wav: WAVE_FORMAT_EXTENSIBLE with a sub-format GUID that is not a plain format tag is not supported")
		}
		tag = le.Uint16(extra[6:])
	}

	if channels == 0 {
		return errors.New("wav: the header says the audio has 0 channels")
	}
	if channels > maxChannels {
		return fmt.Errorf("wav: the header says %d channels; at most %d are supported", channels, maxChannels)
	}
	if rate == 0 || rate > maxSampleRate {
		return fmt.Errorf("wav: the header gives an impossible sample rate of %d Hz", rate)
	}
	h.Channels = channels
	h.SampleRate = int(rate)
	h.BlockSamples = 1

	bytesPerSample := 1
	switch tag {
	case tagPCM:
		switch bytesPerSample = (bits + 7) / 8; bytesPerSample {
		case 1:
			h.Encoding = PCM8
		case 2:
			h.Encoding = PCM16
		default:
			if bits == 0 {
				return errors.New("wav: the PCM header gives 0 bits per sample")
			}
			return fmt.Errorf("wav: %d-bit PCM is not supported (8- and 16-bit are)", bits)
		}
	case tagALaw, tagULaw:
		h.Encoding = ALaw
		if tag == tagULaw {
			h.Encoding = ULaw
		}
		if bits != 8 {
			h.Warnings = append(h.Warnings, fmt.Sprintf("the header says %d bits per sample for G.711; using 8", bits))
		}
	case tagGSM610:
		h.Encoding = GSM610
		if channels != 1 {
			return fmt.Errorf("wav: GSM 6.10 with %d channels is not supported (only mono)", channels)
		}
		if blockAlign != gsmBlock {
			return fmt.Errorf("wav: GSM 6.10 WAV needs %d-byte blocks but the header says %d; the file is damaged", gsmBlock, blockAlign)
		}
		if len(extra) >= 2 {
			if spb := int(le.Uint16(extra)); spb != gsmSamples {
				return fmt.Errorf("wav: GSM 6.10 WAV needs %d samples per block but the header says %d; the file is damaged", gsmSamples, spb)
			}
		}
		h.BlockAlign = gsmBlock
		h.BlockSamples = gsmSamples
		if want := (rate*gsmBlock + gsmSamples/2) / gsmSamples; byteRate != want && byteRate != rate*gsmBlock/gsmSamples {
			h.Warnings = append(h.Warnings, fmt.Sprintf("the header says %d bytes per second, but GSM at %d Hz is %d; ignored", byteRate, rate, want))
		}
		return nil
	default:
		return &UnsupportedError{Tag: tag, Name: tagNames[tag]}
	}

	h.BlockAlign = channels * bytesPerSample
	if blockAlign != h.BlockAlign {
		h.Warnings = append(h.Warnings, fmt.Sprintf("the header says %d-byte blocks, but %d channel(s) of %s need %d; using %d",
			blockAlign, channels, h.Encoding, h.BlockAlign, h.BlockAlign))
	}
	if want := rate * int64(h.BlockAlign); byteRate != want {
		h.Warnings = append(h.Warnings, fmt.Sprintf("the header says %d bytes per second, but %d Hz × %d-byte blocks is %d; ignored",
			byteRate, rate, h.BlockAlign, want))
	}
	return nil
}

// useFact keeps the fact chunk's sample count only where it matters (GSM, whose last block is
// padded) and only when it fits the data it describes: a recorder that is still writing leaves 0
// or a stale count there.
func (h *Header) useFact(fact int64) {
	if h.Encoding != GSM610 || fact <= 0 {
		return
	}
	if h.DataSize < 0 {
		return
	}
	blocks := h.DataSize / gsmBlock
	if h.DataSize%gsmBlock > 1 { // one stray byte is the chunk's pad byte, which some writers count
		blocks++
	}
	if fact > blocks*gsmSamples || fact <= (blocks-1)*gsmSamples {
		h.Warnings = append(h.Warnings, fmt.Sprintf("the fact chunk says %d samples but the data holds %d blocks of %d; ignored it",
			fact, blocks, gsmSamples))
		return
	}
	h.FactSamples = fact
}

// Extent says how much audio a file of a given size holds according to a header.
type Extent struct {
	// End is the offset just past the last data byte present.
	End int64
	// Blocks is the number of whole blocks present.
	Blocks int64
	// Samples is the number of samples per channel those blocks decode to, after the fact count.
	Samples int64
	// Partial is the number of bytes of an incomplete last block (the file was cut inside it).
	Partial int
	// Missing is how many bytes the data chunk declares beyond the end of the file.
	Missing int64
}

// Extent reports how much of the declared audio a file of size bytes holds.
func (h *Header) Extent(size int64) Extent {
	end := size
	var e Extent
	if h.DataSize >= 0 {
		declared := h.DataOffset + h.DataSize
		if declared <= size {
			end = declared
		} else {
			e.Missing = declared - size
		}
	}
	if end < h.DataOffset {
		end = h.DataOffset
	}
	e.End = end
	avail := end - h.DataOffset
	e.Blocks = avail / int64(h.BlockAlign)
	e.Partial = int(avail % int64(h.BlockAlign))
	if e.Partial == 1 && h.BlockAlign%2 == 1 {
		// The pad byte after an odd-sized payload; writers such as sox include it in the data size.
		e.Partial = 0
	}
	e.Samples = e.Blocks * int64(h.BlockSamples)
	if h.FactSamples >= 0 && h.FactSamples < e.Samples {
		e.Samples = h.FactSamples
	}
	return e
}
