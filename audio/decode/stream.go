package decode

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gopxl/beep/v2"

	"github.com/callscope/callscope/audio/gsm"
	"github.com/callscope/callscope/audio/wav"
)

// checkpointEvery is the number of GSM frames (or WAV49 blocks) between saved decoder states.
// A seek restores the nearest state before the target and decodes at most this many frames
// (about 1.3 s of raw GSM, 2.6 s of WAV49, some 100 µs of work); an hour of GSM keeps about
// 2,800 states.
const checkpointEvery = 64

// codec is the decoding state of a stream. It is a plain value, so a copy is a checkpoint.
type codec struct {
	rawGSM bool
	gsm    gsm.Decoder
	wav    wav.Decoder
}

// decode turns whole blocks of src into samples in dst; it returns samples written and bytes used.
func (c *codec) decode(dst []int16, src []byte) (int, int, error) {
	if !c.rawGSM {
		return c.wav.Decode(dst, src)
	}
	n := min(len(src)/gsm.FrameSize, len(dst)/gsm.FrameSamples)
	for i := range n {
		if err := c.gsm.Decode(src[i*gsm.FrameSize:], dst[i*gsm.FrameSamples:]); err != nil {
			return i * gsm.FrameSamples, i * gsm.FrameSize, err
		}
	}
	return n * gsm.FrameSamples, n * gsm.FrameSize, nil
}

// Stream decodes a recording to mono samples. It implements beep.StreamSeekCloser; each sample
// is given in both channels.
//
// Stream, ReadSamples, Seek and Close must not be called concurrently with each other (beep's
// speaker lock provides that); Len, Position, Info and Format may be called from any goroutine.
// While the source is still growing, Stream and ReadSamples wait for more bytes rather than
// ending; Len()-Position() is what can be played without waiting.
type Stream struct {
	src       Source
	closer    io.Closer
	closeOnce sync.Once
	closed    chan struct{}
	waitLimit time.Duration

	// Fixed after Open.
	info         Info
	header       *wav.Header
	dataOff      int64
	dataEnd      int64 // end of the declared data, or -1 when it runs to the end of the source
	fact         int64 // sample count from the fact chunk, or -1
	blockBytes   int
	blockSamples int
	stateful     bool
	batch        int // blocks decoded per read

	// Decoding state, owned by the goroutine that streams.
	dec         codec
	checkpoints []codec // checkpoints[i] is the state before block i*checkpointEvery
	nextBlock   int64   // the block after those in buf
	raw         []byte
	buf         []int16
	bufPos      int
	bufLen      int
	eof         bool

	pos atomic.Int64

	mu       sync.Mutex // guards the fields below, which Info reads
	warnings []string
	trunc    bool
	err      error
	badBlock int64 // first block that failed to decode, or -1
}

// SetWaitLimit sets how long the stream waits for a growing source that has stopped growing
// before it ends with an error (DefaultWaitLimit unless set).
func (s *Stream) SetWaitLimit(d time.Duration) { s.waitLimit = d }

// Format is the stream's sample rate, mono, 16-bit precision.
func (s *Stream) Format() beep.Format {
	return beep.Format{SampleRate: beep.SampleRate(s.info.SampleRate), NumChannels: 1, Precision: 2}
}

// Info describes the recording as decoded so far.
func (s *Stream) Info() Info {
	in := s.info
	in.Samples = int64(s.Len())
	s.mu.Lock()
	in.Truncated = s.trunc
	in.Warning = strings.Join(s.warnings, "; ")
	s.mu.Unlock()
	return in
}

// Err returns the error that ended the stream early, if any. A truncated file is not an error:
// see Info().Truncated.
func (s *Stream) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Len is the number of samples known so far; it grows while the source grows.
func (s *Stream) Len() int {
	size, _ := s.src.Size()
	end := s.dataEndAt(size)
	blocks := max(0, (end-s.dataOff)/int64(s.blockBytes))
	s.mu.Lock()
	if s.badBlock >= 0 {
		blocks = min(blocks, s.badBlock)
	}
	s.mu.Unlock()
	n := blocks * int64(s.blockSamples)
	if s.fact >= 0 {
		n = min(n, s.fact)
	}
	return int(n)
}

// Position is the index of the next sample Stream will produce.
func (s *Stream) Position() int { return int(s.pos.Load()) }

// dataEndAt is where the readable data ends when the source holds size bytes.
func (s *Stream) dataEndAt(size int64) int64 {
	if s.dataEnd >= 0 && s.dataEnd < size {
		return s.dataEnd
	}
	return size
}

// Stream fills samples with mono audio in both channels, waiting for more bytes while the source
// is still growing.
func (s *Stream) Stream(samples [][2]float64) (int, bool) {
	n := 0
	for n < len(samples) {
		if s.bufPos == s.bufLen && !s.fill() {
			break
		}
		k := min(len(samples)-n, s.bufLen-s.bufPos)
		for i, v := range s.buf[s.bufPos : s.bufPos+k] {
			f := float64(v) / 32768
			samples[n+i] = [2]float64{f, f}
		}
		n += k
		s.bufPos += k
	}
	s.pos.Add(int64(n))
	return n, n > 0
}

// ReadSamples reads decoded samples as 16-bit integers, exactly as the codec produced them. It
// returns io.EOF at the end, or the error that ended the stream early.
func (s *Stream) ReadSamples(dst []int16) (int, error) {
	if len(dst) == 0 {
		return 0, nil
	}
	if s.bufPos == s.bufLen && !s.fill() {
		if err := s.Err(); err != nil {
			return 0, err
		}
		return 0, io.EOF
	}
	n := copy(dst, s.buf[s.bufPos:s.bufLen])
	s.bufPos += n
	s.pos.Add(int64(n))
	return n, nil
}

// fill decodes the next batch of blocks into buf. It returns false at the end of the audio, after
// an error, or when the stream is closed.
func (s *Stream) fill() bool {
	if s.eof {
		return false
	}
	w := s.newWaiter()
	for {
		size, complete := s.src.Size()
		end := s.dataEndAt(size)
		start := s.dataOff + s.nextBlock*int64(s.blockBytes)
		avail := max(0, (end-start)/int64(s.blockBytes))
		s.mu.Lock()
		if s.badBlock >= 0 {
			avail = min(avail, s.badBlock-s.nextBlock)
		}
		atBad := s.badBlock >= 0 && s.nextBlock >= s.badBlock
		s.mu.Unlock()
		if s.fact >= 0 {
			left := s.fact - s.nextBlock*int64(s.blockSamples)
			avail = min(avail, (left+int64(s.blockSamples)-1)/int64(s.blockSamples))
		}
		if avail > 0 {
			return s.decodeBatch(start, avail)
		}
		allThere := complete || s.dataEnd >= 0 && end == s.dataEnd
		if atBad || allThere || s.fact >= 0 && s.nextBlock*int64(s.blockSamples) >= s.fact {
			s.finish(size)
			return false
		}
		if err := w.wait(size); err != nil {
			if err != errClosed {
				s.fail(err)
			}
			s.eof = true
			return false
		}
	}
}

// growCheckpoints makes room, once, for the checkpoints of every block that is already there (avail blocks
// from the next one): an hour of GSM has 2,813 of them, and growing the slice by doubling as the blocks are decoded
// copies and faults in their pages again and again. It never reserves more than the bytes on hand can fill.
func (s *Stream) growCheckpoints(avail int64) {
	if len(s.checkpoints) < cap(s.checkpoints) {
		return
	}
	want := (s.nextBlock+avail)/checkpointEvery + 1
	if want <= int64(cap(s.checkpoints)) {
		return
	}
	grown := make([]codec, len(s.checkpoints), want)
	copy(grown, s.checkpoints)
	s.checkpoints = grown
}

// decodeBatch decodes up to avail blocks starting at byte start, stopping at the next checkpoint.
func (s *Stream) decodeBatch(start, avail int64) bool {
	nb := int64(s.batch)
	if s.stateful {
		if s.nextBlock%checkpointEvery == 0 && s.nextBlock/checkpointEvery == int64(len(s.checkpoints)) {
			s.growCheckpoints(avail)
			s.checkpoints = append(s.checkpoints, s.dec)
		}
		nb -= s.nextBlock % checkpointEvery
	}
	nb = min(nb, avail)
	raw := s.raw[:nb*int64(s.blockBytes)]
	n, err := s.src.ReadAt(raw, start)
	if n < s.blockBytes {
		select {
		case <-s.closed:
		default:
			if err == nil || err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			s.fail(fmt.Errorf("read audio at byte %d: %w", start, err))
		}
		s.eof = true
		return false
	}
	samples, used, derr := s.dec.decode(s.buf, raw[:n-n%s.blockBytes])
	s.nextBlock += int64(used / s.blockBytes)
	s.bufPos, s.bufLen = 0, samples
	if s.fact >= 0 {
		if over := s.nextBlock*int64(s.blockSamples) - s.fact; over > 0 {
			s.bufLen -= int(over)
		}
	}
	if derr != nil {
		bad := s.nextBlock
		s.mu.Lock()
		if s.badBlock < 0 || bad < s.badBlock {
			s.badBlock = bad
		}
		s.mu.Unlock()
		s.fail(fmt.Errorf("%s at byte %d is damaged (%v); decoded the %d samples before it",
			s.unitName(), s.dataOff+bad*int64(s.blockBytes), briefErr(derr), bad*int64(s.blockSamples)))
	}
	return s.bufLen > 0 || s.fill()
}

func (s *Stream) unitName() string {
	switch {
	case s.dec.rawGSM:
		return "the GSM frame"
	case s.stateful:
		return "the GSM block"
	}
	return "the block"
}

func briefErr(err error) string {
	if errors.Is(err, gsm.ErrBadMagic) {
		return "no 0xD magic"
	}
	return err.Error()
}

// finish records, once, why the audio ended short of what the file promised.
func (s *Stream) finish(size int64) {
	s.eof = true
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.trunc || s.badBlock >= 0 {
		return
	}
	if f, ok := s.src.(failer); ok && f.Err() != nil {
		s.trunc = true
		s.err = fmt.Errorf("the recording did not download completely: %w", f.Err())
		return
	}
	end := s.dataEndAt(size)
	if s.dataEnd > size {
		s.trunc = true
		s.warnings = append(s.warnings, fmt.Sprintf("truncated: the header promises %d more bytes than the file holds", s.dataEnd-size))
		return
	}
	partial := (end - s.dataOff) % int64(s.blockBytes)
	if partial == 1 && s.blockBytes%2 == 1 && s.header != nil {
		return // the pad byte of an odd-sized data chunk
	}
	if partial > 0 && !(s.fact >= 0 && s.nextBlock*int64(s.blockSamples) >= s.fact) {
		s.trunc = true
		s.warnings = append(s.warnings, fmt.Sprintf("truncated: the file ends %d bytes into a %d-byte frame", partial, s.blockBytes))
	}
}

func (s *Stream) fail(err error) {
	s.mu.Lock()
	if s.err == nil {
		s.err = err
	}
	s.mu.Unlock()
}

// Seek moves to sample p, exactly: after a seek the stream produces the same samples as decoding
// from the start would. GSM restores the nearest saved decoder state and decodes forward from it.
func (s *Stream) Seek(p int) error {
	if n := s.Len(); p < 0 || p > n {
		return fmt.Errorf("seek to sample %d: outside the recording (0 to %d)", p, n)
	}
	s.eof = false
	s.bufPos, s.bufLen = 0, 0
	target := int64(p)
	if !s.stateful {
		s.nextBlock = target / int64(s.blockSamples)
		s.pos.Store(target)
		return nil
	}
	block := target / int64(s.blockSamples)
	ci := min(block/checkpointEvery, int64(len(s.checkpoints)-1))
	s.dec = s.checkpoints[ci]
	s.nextBlock = ci * checkpointEvery
	skip := target - s.nextBlock*int64(s.blockSamples)
	for skip > 0 {
		if !s.fill() {
			s.pos.Store(s.nextBlock*int64(s.blockSamples) - int64(s.bufLen-s.bufPos))
			if err := s.Err(); err != nil {
				return fmt.Errorf("seek to sample %d: %w", p, err)
			}
			return fmt.Errorf("seek to sample %d: the audio ended first", p)
		}
		k := min(skip, int64(s.bufLen-s.bufPos))
		s.bufPos += int(k)
		skip -= k
	}
	s.pos.Store(target)
	return nil
}

// Close stops the stream, wakes a Stream call waiting for bytes, and closes the file OpenFile opened.
func (s *Stream) Close() error {
	var err error
	s.closeOnce.Do(func() {
		close(s.closed)
		if s.closer != nil {
			err = s.closer.Close()
		}
	})
	return err
}

var _ beep.StreamSeekCloser = (*Stream)(nil)
