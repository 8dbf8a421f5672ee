// Command mkbroken writes the broken and unusual audio files of the test corpus into DIR/broken,
// built from the good files gen.sh has already made in DIR. It is run by gen.sh; its output is
// deterministic (the random files use a fixed seed).
package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: mkbroken DIR (the testdata/audio folder)")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "mkbroken:", err)
		os.Exit(1)
	}
}

// chunk is one RIFF chunk as it will be written: an id, the size field (which a broken file may
// state wrongly) and the payload.
type chunk struct {
	id   string
	size uint32
	body []byte
}

func ck(id string, body []byte) chunk { return chunk{id, uint32(len(body)), body} }

// riff writes a RIFF/WAVE file; riffSize < 0 means the correct size. Odd payloads get their pad byte.
func riff(riffSize int64, chunks ...chunk) []byte {
	var b bytes.Buffer
	b.WriteString("RIFF\x00\x00\x00\x00WAVE")
	for _, c := range chunks {
		b.WriteString(c.id)
		binary.Write(&b, binary.LittleEndian, c.size)
		b.Write(c.body)
		if len(c.body)%2 == 1 {
			b.WriteByte(0)
		}
	}
	out := b.Bytes()
	if riffSize < 0 {
		riffSize = int64(len(out) - 8)
	}
	binary.LittleEndian.PutUint32(out[4:], uint32(riffSize))
	return out
}

// fmtChunk builds a fmt body: tag, channels, rate, byte rate, block align, bits, then extra bytes
// (with the cbSize field in front) when extra is not nil.
func fmtChunk(tag, channels uint16, rate, byteRate uint32, blockAlign, bits uint16, extra []byte) []byte {
	var b bytes.Buffer
	for _, v := range []any{tag, channels, rate, byteRate, blockAlign, bits} {
		binary.Write(&b, binary.LittleEndian, v)
	}
	if extra != nil {
		binary.Write(&b, binary.LittleEndian, uint16(len(extra)))
		b.Write(extra)
	}
	return b.Bytes()
}

// extensible is the 22 extra bytes of WAVE_FORMAT_EXTENSIBLE with the given sub-format tag.
func extensible(validBits uint16, subTag uint16) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, validBits)
	binary.Write(&b, binary.LittleEndian, uint32(4)) // front centre speaker
	binary.Write(&b, binary.LittleEndian, subTag)
	b.Write([]byte{0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71})
	return b.Bytes()
}

// chunks reads the chunks of a well-formed WAV file made by sox.
func chunks(path string) (map[string][]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m := map[string][]byte{}
	for p := 12; p+8 <= len(b); {
		n := int(binary.LittleEndian.Uint32(b[p+4:]))
		end := min(p+8+n, len(b))
		m[string(b[p:p+4])] = b[p+8 : end]
		p = end + n%2
	}
	if m["fmt "] == nil || m["data"] == nil {
		return nil, fmt.Errorf("%s: no fmt or data chunk", path)
	}
	return m, nil
}

func run(dir string) error {
	out := filepath.Join(dir, "broken")
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	load := func(name string) map[string][]byte {
		m, err := chunks(filepath.Join(dir, name))
		if err != nil {
			panic(err)
		}
		return m
	}
	alaw, ulaw, pcm16, pcm8, w49 := load("speech-alaw.wav"), load("speech-ulaw.wav"), load("speech-pcm16.wav"),
		load("speech-pcm8.wav"), load("speech-wav49.wav")
	gsmRaw, err := os.ReadFile(filepath.Join(dir, "speech-gsm.gsm"))
	if err != nil {
		return err
	}
	files := map[string][]byte{}
	full := func(m map[string][]byte) []byte {
		return riff(-1, ck("fmt ", m["fmt "]), ck("data", m["data"]))
	}

	// Cut off inside a frame or block.
	files["truncated-gsm.gsm"] = gsmRaw[:len(gsmRaw)-3*33-17]
	w := riff(-1, ck("fmt ", w49["fmt "]), ck("fact", w49["fact"]), ck("data", w49["data"]))
	files["truncated-wav49.wav"] = w[:len(w)-5*65-30]
	w = full(pcm16)
	files["truncated-pcm16-odd-byte.wav"] = w[:len(w)-1001]

	// data sizes a recorder writes, or gets wrong.
	files["datasize-too-big.wav"] = riff(-1, ck("fmt ", alaw["fmt "]), chunk{"data", uint32(len(alaw["data"]) + 10000), alaw["data"]})
	// A recorder still writing has no pad byte yet, so keep the payload even.
	files["datasize-ffffffff.wav"] = riff(0xFFFFFFFF, ck("fmt ", alaw["fmt "]), chunk{"data", 0xFFFFFFFF, alaw["data"][:len(alaw["data"])&^1]})
	files["datasize-zero-wav49.wav"] = riff(0, ck("fmt ", w49["fmt "]), ck("fact", []byte{0, 0, 0, 0}), chunk{"data", 0, w49["data"]})
	files["riffsize-wrong.wav"] = riff(36, ck("fmt ", ulaw["fmt "]), ck("data", ulaw["data"]))

	// Codecs we do not read.
	files["mp3-tag.wav"] = riff(-1, ck("fmt ", fmtChunk(0x55, 1, 8000, 2000, 1, 0, []byte{})), ck("data", alaw["data"]))
	files["float-extensible.wav"] = riff(-1, ck("fmt ", fmtChunk(0xFFFE, 1, 8000, 32000, 4, 32, extensible(32, 3))), ck("data", pcm16["data"]))
	files["pcm24.wav"] = riff(-1, ck("fmt ", fmtChunk(1, 1, 8000, 24000, 3, 24, nil)), ck("data", pcm16["data"][:3000]))
	files["wav49-stereo.wav"] = riff(-1, ck("fmt ", fmtChunk(0x31, 2, 8000, 3250, 130, 0, []byte{0x40, 0x01})), ck("data", w49["data"]))

	// Chunks in unusual order and with odd sizes.
	list := ck("LIST", []byte("INFOISFT\x01\x00\x00\x00x")) // 13 bytes: odd, padded
	files["chunks-reordered.wav"] = riff(-1, list, ck("JUNK", make([]byte, 28)), ck("data", ulaw["data"]),
		ck("fact", ulaw["fact"]), ck("fmt ", ulaw["fmt "]))
	odd := pcm8["data"]
	if len(odd)%2 == 0 {
		odd = odd[:len(odd)-1]
	}
	files["odd-chunks.wav"] = riff(-1, ck("LIST", []byte("INFOabc")), ck("fmt ", pcm8["fmt "]), ck("JUNK", []byte{1, 2, 3}),
		ck("data", odd), ck("LIST", []byte("INFOz")))
	files["fact-after-data.wav"] = riff(-1, ck("fmt ", w49["fmt "]), ck("data", w49["data"]), ck("fact", w49["fact"]))
	files["chunk-size-huge.wav"] = riff(-1, chunk{"LIST", 0xFFFFFF00, []byte("INFO")}, ck("fmt ", alaw["fmt "]), ck("data", alaw["data"]))

	// WAVE_FORMAT_EXTENSIBLE wrapping formats we do read.
	files["extensible-pcm16.wav"] = riff(-1, ck("fmt ", fmtChunk(0xFFFE, 1, 8000, 16000, 2, 16, extensible(16, 1))), ck("data", pcm16["data"]))
	files["extensible-alaw.wav"] = riff(-1, ck("fmt ", fmtChunk(0xFFFE, 1, 8000, 8000, 1, 8, extensible(8, 6))), ck("data", alaw["data"]))

	// Headers whose fields do not agree.
	files["inconsistent-blockalign.wav"] = riff(-1, ck("fmt ", fmtChunk(1, 1, 8000, 16000, 4, 16, nil)), ck("data", pcm16["data"]))
	files["inconsistent-byterate.wav"] = riff(-1, ck("fmt ", fmtChunk(6, 1, 8000, 12345, 1, 8, []byte{})), ck("data", alaw["data"]))
	files["inconsistent-channels-zero.wav"] = riff(-1, ck("fmt ", fmtChunk(1, 0, 8000, 16000, 2, 16, nil)), ck("data", pcm16["data"]))
	files["inconsistent-rate-zero.wav"] = riff(-1, ck("fmt ", fmtChunk(7, 1, 0, 8000, 1, 8, []byte{})), ck("data", ulaw["data"]))
	files["inconsistent-gsm-blockalign.wav"] = riff(-1, ck("fmt ", fmtChunk(0x31, 1, 8000, 1625, 33, 0, []byte{0x40, 0x01})), ck("data", w49["data"]))

	// Missing pieces and noise.
	files["empty.wav"] = nil
	files["header-cut.wav"] = full(alaw)[:30]
	files["no-data.wav"] = riff(-1, ck("fmt ", alaw["fmt "]))
	files["no-fmt.wav"] = riff(-1, ck("data", alaw["data"]))
	rng := rand.New(rand.NewPCG(4, 2))
	noise := make([]byte, 4096)
	for i := range noise {
		noise[i] = byte(rng.Uint32())
	}
	files["random.wav"] = noise
	files["random-after-riff.wav"] = append([]byte("RIFF\x00\x10\x00\x00WAVE"), noise[:2000]...)
	bad := bytes.Clone(gsmRaw)
	bad[2*33] = 0x00 // third frame loses its magic
	files["gsm-bad-magic.gsm"] = bad
	bad = bytes.Clone(gsmRaw)
	bad[50*33] = 0x00
	files["gsm-bad-frame-midway.gsm"] = bad

	for name, b := range files {
		if err := os.WriteFile(filepath.Join(out, name), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}
