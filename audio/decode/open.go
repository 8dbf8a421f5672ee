// Package decode opens call recordings of any format callscope reads and plays them as
// beep.StreamSeekCloser streams: raw GSM 06.10, WAV (PCM, A-law, µ-law, GSM WAV49, also inside
// WAVE_FORMAT_EXTENSIBLE) and Asterisk's headerless A-law, µ-law and signed-linear files.
//
// The format is sniffed from the bytes; the file name only decides between the headerless
// formats, which have nothing to sniff. Decoding starts with the first bytes of a recording that
// is still downloading, and seeking is exact to the sample.
package decode

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/callscope/callscope/audio/gsm"
	"github.com/callscope/callscope/audio/wav"
)

// Info describes an opened recording.
type Info struct {
	// Format is the coding: "gsm" (raw frames), "wav49", "alaw", "ulaw", "pcm16", "pcm8" or
	// "sln" (headerless signed linear).
	Format string
	// Container is "wav" or "raw".
	Container  string
	SampleRate int
	// Channels in the file; the stream is always mono (channels are averaged).
	Channels int
	// Samples is the number of samples known so far (it grows while a file is being written).
	Samples int64
	// Truncated is set once decoding found the file shorter than its header promised or cut
	// off inside a frame.
	Truncated bool
	// Warning says, in one line, what was odd about the file; empty for a clean file.
	Warning string
}

// headerless maps the file extensions Asterisk uses for formats without a header.
var headerless = map[string]struct {
	format string
	rate   int
	enc    wav.Encoding
}{
	".al": {"alaw", 8000, wav.ALaw}, ".alaw": {"alaw", 8000, wav.ALaw}, ".alw": {"alaw", 8000, wav.ALaw},
	".ul": {"ulaw", 8000, wav.ULaw}, ".ulaw": {"ulaw", 8000, wav.ULaw}, ".ulw": {"ulaw", 8000, wav.ULaw},
	".mu": {"ulaw", 8000, wav.ULaw}, ".pcm": {"ulaw", 8000, wav.ULaw},
	".sln": {"sln", 8000, wav.PCM16}, ".raw": {"sln", 8000, wav.PCM16},
	".sln12": {"sln", 12000, wav.PCM16}, ".sln16": {"sln", 16000, wav.PCM16}, ".sln24": {"sln", 24000, wav.PCM16},
	".sln32": {"sln", 32000, wav.PCM16}, ".sln44": {"sln", 44100, wav.PCM16}, ".sln48": {"sln", 48000, wav.PCM16},
	".sln96": {"sln", 96000, wav.PCM16}, ".sln192": {"sln", 192000, wav.PCM16},
}

// gsmSniffFrames is how many frame starts must carry the GSM magic before bytes count as GSM
// (fewer when the whole file is shorter): one random byte in 16 passes per frame.
const gsmSniffFrames = 4

// DefaultWaitLimit is how long a stream waits for a growing source that stops growing before it
// gives up with an error.
const DefaultWaitLimit = 30 * time.Second

// pollInterval bounds each wait for a source that cannot notify, or whose writer bypasses it.
const pollInterval = 20 * time.Millisecond

// OpenFile opens a complete recording on disk. The stream closes the file. Errors name the file once
// ("x.gsm: no such file or directory") and still match fs.ErrNotExist and the like.
func OpenFile(path string) (*Stream, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, pathError(path, err)
	}
	st, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, pathError(path, err)
	}
	if st.IsDir() {
		_ = f.Close()
		return nil, fmt.Errorf("%s is a directory, not an audio file", path)
	}
	s, err := Open(Bytes(f, st.Size()), path)
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	s.closer = f
	return s, nil
}

// pathError is "PATH: what went wrong", without the operation ("open") a PathError would add.
func pathError(path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", path, pe.Err)
	}
	return fmt.Errorf("%s: %w", path, err)
}

// Open starts decoding src, whose name (a file name or path) is used only for headerless formats.
// While src is incomplete, Open waits for enough bytes to recognise the format.
func Open(src Source, name string) (*Stream, error) {
	s := &Stream{src: src, closed: make(chan struct{}), waitLimit: DefaultWaitLimit, badBlock: -1, fact: -1}
	label := filepath.Base(name)
	if label == "." || label == "" {
		label = "recording"
	}
	err := s.open(label, strings.ToLower(filepath.Ext(name)))
	if err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Stream) open(label, ext string) error {
	w := s.newWaiter()
	for {
		size, complete := s.src.Size()
		head := make([]byte, min(size, gsmSniffFrames*gsm.FrameSize+1))
		n, err := s.src.ReadAt(head, 0)
		if n < len(head) && err != nil && err != io.EOF {
			return fmt.Errorf("%s: read: %w", label, err)
		}
		head = head[:n]
		enough := complete || len(head) > gsmSniffFrames*gsm.FrameSize
		switch {
		case len(head) == 0 && complete:
			return fmt.Errorf("%s: the file is empty", label)
		case len(head) >= 4 && (string(head[:4]) == "RIFF" || string(head[:4]) == "RIFX" || string(head[:4]) == "RF64"):
			h, err := wav.ReadHeader(s.src, size)
			if err == nil {
				s.useWAV(h)
				return nil
			}
			if !errors.Is(err, wav.ErrShortHeader) || complete {
				return fmt.Errorf("%s: %s", label, strings.TrimPrefix(err.Error(), "wav: "))
			}
		case len(head) >= 4 || complete:
			if hl, ok := headerless[ext]; ok {
				s.useRaw(hl.format, hl.rate, hl.enc)
				return nil
			}
			if !enough {
				break
			}
			if len(head) >= gsm.FrameSize && gsm.IsFrame(head[:len(head)-len(head)%gsm.FrameSize]) {
				s.useGSM()
				return nil
			}
			switch {
			case ext == ".gsm" && len(head) < gsm.FrameSize:
				return fmt.Errorf("%s: only %d bytes, shorter than one GSM frame (33)", label, len(head))
			case ext == ".gsm":
				return fmt.Errorf("%s: not GSM 06.10 audio (its frames do not start with the 0xD magic)", label)
			case ext == ".wav":
				return fmt.Errorf("%s: not a WAV file (no RIFF/WAVE header)", label)
			}
			return fmt.Errorf("%s: unknown audio format (not WAV or raw GSM); headerless A-law, µ-law and signed-linear files need a .al, .ul or .sln name", label)
		}
		if err := w.wait(size); err != nil {
			return fmt.Errorf("%s: %w", label, err)
		}
	}
}

func (s *Stream) useWAV(h *wav.Header) {
	s.info = Info{Container: "wav", SampleRate: h.SampleRate, Channels: h.Channels}
	switch h.Encoding {
	case wav.PCM8:
		s.info.Format = "pcm8"
	case wav.PCM16:
		s.info.Format = "pcm16"
	case wav.ALaw:
		s.info.Format = "alaw"
	case wav.ULaw:
		s.info.Format = "ulaw"
	case wav.GSM610:
		s.info.Format = "wav49"
	}
	s.header = h
	s.warnings = append(s.warnings, h.Warnings...)
	s.dataOff = h.DataOffset
	s.dataEnd = -1
	if h.DataSize >= 0 {
		s.dataEnd = h.DataOffset + h.DataSize
	}
	s.fact = h.FactSamples
	s.dec = codec{wav: *wav.NewDecoder(h)}
	s.blockBytes, s.blockSamples = h.BlockAlign, h.BlockSamples
	s.stateful = h.Encoding == wav.GSM610
	s.setup()
}

func (s *Stream) useRaw(format string, rate int, enc wav.Encoding) {
	s.info = Info{Format: format, Container: "raw", SampleRate: rate, Channels: 1}
	h := &wav.Header{Encoding: enc, Channels: 1, SampleRate: rate, BlockAlign: 1, BlockSamples: 1}
	if enc == wav.PCM16 {
		h.BlockAlign = 2
	}
	s.dataEnd = -1
	s.dec = codec{wav: *wav.NewDecoder(h)}
	s.blockBytes, s.blockSamples = h.BlockAlign, 1
	s.setup()
}

func (s *Stream) useGSM() {
	s.info = Info{Format: "gsm", Container: "raw", SampleRate: 8000, Channels: 1}
	s.dataEnd = -1
	s.dec = codec{rawGSM: true}
	s.blockBytes, s.blockSamples = gsm.FrameSize, gsm.FrameSamples
	s.stateful = true
	s.setup()
}

// setup sizes the buffers: a batch is one checkpoint interval for GSM, about 4096 samples otherwise.
func (s *Stream) setup() {
	s.batch = checkpointEvery
	if !s.stateful {
		s.batch = max(1, 4096/s.blockSamples)
	}
	s.raw = make([]byte, s.batch*s.blockBytes)
	s.buf = make([]int16, s.batch*s.blockSamples)
	if s.stateful {
		s.checkpoints = []codec{s.dec}
	}
}

// waiter paces waits for a growing source and gives up when it stops growing.
type waiter struct {
	s        *Stream
	lastSize int64
	since    time.Time
}

func (s *Stream) newWaiter() *waiter { return &waiter{s: s, lastSize: -1} }

// wait returns when the source may have changed, or an error when the stream was closed or the
// source has not grown for the wait limit.
func (w *waiter) wait(size int64) error {
	now := time.Now()
	if size != w.lastSize {
		w.lastSize, w.since = size, now
	} else if now.Sub(w.since) > w.s.waitLimit {
		return fmt.Errorf("the recording stopped growing: no new bytes for %s", w.s.waitLimit.Round(time.Second))
	}
	var changed <-chan struct{}
	if n, ok := w.s.src.(notifier); ok {
		changed = n.Changed()
	}
	t := time.NewTimer(pollInterval)
	defer t.Stop()
	select {
	case <-changed:
	case <-t.C:
	case <-w.s.closed:
		return errClosed
	}
	return nil
}

var errClosed = errors.New("the stream was closed")
