package decode

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
)

// DecodeAll decodes the rest of s into memory. On an error that ended the stream early it
// returns the samples decoded before it together with the error.
func DecodeAll(s *Stream) ([]int16, error) {
	out := make([]int16, 0, max(0, s.Len()-s.Position()))
	buf := make([]int16, 4096)
	for {
		n, err := s.ReadSamples(buf)
		out = append(out, buf[:n]...)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}

// WriteS16LE writes the rest of s as raw signed 16-bit little-endian mono samples at the
// stream's own rate, and returns how many samples it wrote. On an error that ended the stream
// early, what decoded before it has been written.
func WriteS16LE(w io.Writer, s *Stream) (int64, error) {
	// Samples are converted straight into one 64 KiB buffer that is written as it is: no second copy through a
	// bufio.Writer.
	buf := make([]int16, 32<<10)
	out := make([]byte, 2*len(buf))
	var total int64
	for {
		n, err := s.ReadSamples(buf)
		for i, v := range buf[:n] {
			binary.LittleEndian.PutUint16(out[2*i:], uint16(v))
		}
		if n > 0 {
			if _, werr := w.Write(out[:2*n]); werr != nil {
				return total, fmt.Errorf("write samples: %w", werr)
			}
		}
		total += int64(n)
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

// maxWAVSamples is the most a 16-bit mono WAV's 32-bit data size can describe. A variable only so a test can
// reach it without writing 4 GiB.
var maxWAVSamples int64 = (1<<32 - 1 - 36) / 2

// WAVTooLongError is a recording with more Samples than a WAV file's header can state (over 4 GiB of 16-bit
// PCM). Raw samples have no such limit.
type WAVTooLongError struct{ Samples int64 }

func (e *WAVTooLongError) Error() string {
	return "write WAV: the recording is too long for a WAV file (over 4 GiB)"
}

// WriteWAV writes the rest of s as a 16-bit PCM mono WAV file at the stream's own rate. A
// seekable w (a file) gets its sizes patched after streaming; anything else (a pipe) gets the
// samples decoded into memory first, because the header must state the size up front.
func WriteWAV(w io.Writer, s *Stream) (int64, error) {
	if ws, ok := w.(io.WriteSeeker); ok {
		if start, err := ws.Seek(0, io.SeekCurrent); err == nil {
			return writeWAVSeek(ws, start, s)
		}
	}
	samples, derr := DecodeAll(s)
	if int64(len(samples)) > maxWAVSamples {
		return 0, &WAVTooLongError{Samples: int64(len(samples))}
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	if _, err := bw.Write(wavHeader(s.info.SampleRate, int64(len(samples)))); err != nil {
		return 0, fmt.Errorf("write WAV: %w", err)
	}
	if err := binary.Write(bw, binary.LittleEndian, samples); err != nil {
		return 0, fmt.Errorf("write WAV: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return 0, fmt.Errorf("write WAV: %w", err)
	}
	return int64(len(samples)), derr
}

func writeWAVSeek(w io.WriteSeeker, start int64, s *Stream) (int64, error) {
	if _, err := w.Write(wavHeader(s.info.SampleRate, 0)); err != nil {
		return 0, fmt.Errorf("write WAV: %w", err)
	}
	n, derr := WriteS16LE(w, s)
	if derr != nil && derr != s.Err() {
		return n, derr // the writer failed, not the decoding
	}
	if n > maxWAVSamples {
		return n, &WAVTooLongError{Samples: n}
	}
	if _, err := w.Seek(start, io.SeekStart); err != nil {
		return n, fmt.Errorf("write WAV: %w", err)
	}
	if _, err := w.Write(wavHeader(s.info.SampleRate, n)); err != nil {
		return n, fmt.Errorf("write WAV: %w", err)
	}
	if _, err := w.Seek(0, io.SeekEnd); err != nil {
		return n, fmt.Errorf("write WAV: %w", err)
	}
	return n, derr
}

// wavHeader is the 44-byte header of a 16-bit PCM mono WAV file holding n samples.
func wavHeader(rate int, n int64) []byte {
	h := make([]byte, 44)
	le := binary.LittleEndian
	copy(h[0:], "RIFF")
	le.PutUint32(h[4:], uint32(36+2*n))
	copy(h[8:], "WAVEfmt ")
	le.PutUint32(h[16:], 16)
	le.PutUint16(h[20:], 1) // PCM
	le.PutUint16(h[22:], 1) // mono
	le.PutUint32(h[24:], uint32(rate))
	le.PutUint32(h[28:], uint32(rate*2))
	le.PutUint16(h[32:], 2)
	le.PutUint16(h[34:], 16)
	copy(h[36:], "data")
	le.PutUint32(h[40:], uint32(2*n))
	return h
}
