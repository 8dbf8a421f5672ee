package gsm

import "encoding/binary"

// The bit layout of a frame is fixed (GSM 06.10 table 1.1): 36 bits of log-area
// ratios (widths 6, 6, 5, 5, 4, 4, 3, 3), then four sub-frames of exactly 56 bits each
// (Nc 7, bc 2, Mc 2, xmaxc 6, thirteen xMc of 3). So instead of walking the fields
// with a bit reader, each group is fetched with one 64-bit load and every field is a
// shift and a mask by a constant.

// unpackMSB reads a raw frame: the 0xD magic nibble, then every field most
// significant bit first. The LARs end at bit 40, so sub-frame j fills bytes 5+7j to
// 11+7j exactly, and the 8 bytes from 4+7j hold it in their low 56 bits.
func unpackMSB(b *[FrameSize]byte, p *params) {
	lar := binary.BigEndian.Uint64(b[0:8]) >> 24 // the first 40 bits: magic and LARs
	p[0] = int16(lar >> 30 & 63)
	p[1] = int16(lar >> 24 & 63)
	p[2] = int16(lar >> 19 & 31)
	p[3] = int16(lar >> 14 & 31)
	p[4] = int16(lar >> 10 & 15)
	p[5] = int16(lar >> 6 & 15)
	p[6] = int16(lar >> 3 & 7)
	p[7] = int16(lar & 7)
	for j := range 4 {
		u := binary.BigEndian.Uint64(b[4+7*j:])
		s := p.sub(j)
		s[0] = int16(u >> 49 & 127)
		s[1] = int16(u >> 47 & 3)
		s[2] = int16(u >> 45 & 3)
		s[3] = int16(u >> 39 & 63)
		// The thirteen 3-bit samples, written out: constant shifts are single
		// instructions, a variable one inside a loop is not.
		x := (*[13]int16)(s[4:])
		x[0] = int16(u >> 36 & 7)
		x[1] = int16(u >> 33 & 7)
		x[2] = int16(u >> 30 & 7)
		x[3] = int16(u >> 27 & 7)
		x[4] = int16(u >> 24 & 7)
		x[5] = int16(u >> 21 & 7)
		x[6] = int16(u >> 18 & 7)
		x[7] = int16(u >> 15 & 7)
		x[8] = int16(u >> 12 & 7)
		x[9] = int16(u >> 9 & 7)
		x[10] = int16(u >> 6 & 7)
		x[11] = int16(u >> 3 & 7)
		x[12] = int16(u >> 0 & 7)
	}
}

// unpackWAV49 reads frame half (0 or 1) of a WAV49 block: two frames of 260 bits
// each, no magic, every field least significant bit first. Frame 0 starts at bit 0,
// frame 1 at bit 260, the high nibble of byte 32.
func unpackWAV49(b *[WAV49BlockSize]byte, half int, p *params) {
	start := 260 * half
	lar := lsbBits(b, start)
	p[0] = int16(lar & 63)
	p[1] = int16(lar >> 6 & 63)
	p[2] = int16(lar >> 12 & 31)
	p[3] = int16(lar >> 17 & 31)
	p[4] = int16(lar >> 22 & 15)
	p[5] = int16(lar >> 26 & 15)
	p[6] = int16(lar >> 30 & 7)
	p[7] = int16(lar >> 33 & 7)
	for j := range 4 {
		u := lsbBits(b, start+36+56*j)
		s := p.sub(j)
		s[0] = int16(u & 127)
		s[1] = int16(u >> 7 & 3)
		s[2] = int16(u >> 9 & 3)
		s[3] = int16(u >> 11 & 63)
		x := (*[13]int16)(s[4:])
		x[0] = int16(u >> 17 & 7)
		x[1] = int16(u >> 20 & 7)
		x[2] = int16(u >> 23 & 7)
		x[3] = int16(u >> 26 & 7)
		x[4] = int16(u >> 29 & 7)
		x[5] = int16(u >> 32 & 7)
		x[6] = int16(u >> 35 & 7)
		x[7] = int16(u >> 38 & 7)
		x[8] = int16(u >> 41 & 7)
		x[9] = int16(u >> 44 & 7)
		x[10] = int16(u >> 47 & 7)
		x[11] = int16(u >> 50 & 7)
		x[12] = int16(u >> 53 & 7)
	}
}

// lsbBits returns at least the 56 bits of b that start at bit offset bit, in LSB-first
// order (bit offset bit in bit 0). The 8-byte window is moved back from the end of the
// block when it would run past it: the last sub-frame of frame 1 ends exactly at the
// block's last byte.
func lsbBits(b *[WAV49BlockSize]byte, bit int) uint64 {
	at := min(bit>>3, WAV49BlockSize-8)
	return binary.LittleEndian.Uint64(b[at:]) >> (bit - 8*at)
}
