// Package g711 decodes ITU-T G.711 A-law and µ-law samples to 16-bit linear PCM.
//
// The tables are built once from the expansion rules of G.711 (the same rules as the Sun reference
// g711.c that sox uses), so every code maps to exactly the value sox produces.
package g711

// ALaw maps each A-law code to its linear 16-bit value.
var ALaw = buildALaw()

// ULaw maps each µ-law code to its linear 16-bit value.
var ULaw = buildULaw()

func buildALaw() (t [256]int16) {
	for i := range t {
		// A-law transmits every even bit inverted.
		a := byte(i) ^ 0x55
		mant := int32(a&0x0f) << 4
		seg := (a & 0x70) >> 4
		switch seg {
		case 0:
			mant += 8
		case 1:
			mant += 0x108
		default:
			mant = (mant + 0x108) << (seg - 1)
		}
		if a&0x80 == 0 {
			mant = -mant
		}
		t[i] = int16(mant)
	}
	return t
}

func buildULaw() (t [256]int16) {
	const bias = 0x84
	for i := range t {
		// µ-law codes are sent inverted.
		u := ^byte(i)
		mag := (int32(u&0x0f)<<3 + bias) << ((u & 0x70) >> 4)
		if u&0x80 != 0 {
			t[i] = int16(bias - mag)
		} else {
			t[i] = int16(mag - bias)
		}
	}
	return t
}

// DecodeALaw expands A-law codes from src into dst and returns how many samples it wrote,
// which is the shorter of the two lengths.
func DecodeALaw(dst []int16, src []byte) int {
	n := min(len(dst), len(src))
	for i, c := range src[:n] {
		dst[i] = ALaw[c]
	}
	return n
}

// DecodeULaw expands µ-law codes from src into dst and returns how many samples it wrote,
// which is the shorter of the two lengths.
func DecodeULaw(dst []int16, src []byte) int {
	n := min(len(dst), len(src))
	for i, c := range src[:n] {
		dst[i] = ULaw[c]
	}
	return n
}
