package comx

// gsmFrame is the size of one raw GSM 06.10 frame; every frame starts with the 0xD signature nibble.
const gsmFrame = 33

// sniffLen is how many leading bytes SniffAudio looks at: a WAV header, or three GSM frames.
const sniffLen = 3 * gsmFrame

// SniffAudio names a recording's format from its first bytes: "wav" for a RIFF/WAVE file (PCM, A-law, μ-law or
// WAV49 inside), "gsm" for raw GSM 06.10 frames, "" when the bytes say neither. A file name or Content-Type is
// not evidence: a Com.X sends every recording as application/octet-stream.
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
