package cdr

import (
	"bufio"
	"io"
)

// gsmFrame is the size of one raw GSM 06.10 frame; every frame starts with the 0xD signature nibble.
const gsmFrame = 33

// SniffLen is how many leading bytes SniffAudio wants: a WAV header, or three GSM frames.
const SniffLen = 3 * gsmFrame

// SniffAudio names a recording's format from its first bytes: "wav" for a RIFF/WAVE file (PCM, A-law, µ-law or
// WAV49 inside), "gsm" for raw GSM 06.10 frames, "" when the bytes say neither. A file name or Content-Type is
// not evidence: PBXs send every recording as application/octet-stream.
func SniffAudio(head []byte) string {
	if len(head) >= 12 && string(head[:4]) == "RIFF" && string(head[8:12]) == "WAVE" {
		return "wav"
	}
	if len(head) == 0 {
		return ""
	}
	for i := 0; i < len(head); i += gsmFrame {
		if head[i]>>4 != 0xd {
			return ""
		}
	}
	return "gsm"
}

// PeekRecording wraps a recording body, sniffing its format from the first bytes without consuming them. It
// returns a nil Recording (and closes body) when the body is empty; err is a read error met while peeking.
func PeekRecording(body io.ReadCloser, name string, size int64) (*Recording, error) {
	br := bufio.NewReaderSize(body, 4096)
	head, err := br.Peek(SniffLen)
	if len(head) == 0 {
		_ = body.Close()
		if err != nil && err != io.EOF {
			return nil, err
		}
		return nil, nil
	}
	return &Recording{ReadCloser: readCloser{Reader: br, Closer: body}, Name: name, Format: SniffAudio(head), Size: size}, nil
}

type readCloser struct {
	io.Reader
	io.Closer
}

// AudioExt is the file extension for a format SniffAudio names (".wav", ".gsm"), and ".audio" for any other:
// a file whose bytes said neither is saved under that and sniffed again by the decoder when it is opened.
func AudioExt(format string) string {
	switch format {
	case "wav":
		return ".wav"
	case "gsm":
		return ".gsm"
	}
	return ".audio"
}
