package gsm

// The basic 16-bit operators of GSM 06.10 section 5.1. Bit-exactness depends on every
// addition saturating and every fractional multiply rounding exactly as defined there.

const (
	minWord = -32768
	maxWord = 32767
)

// saturate clamps to the 16-bit range. Overflow is rare in real speech, so one
// well-predicted branch keeps the clamp off the decoder's serial chains of additions;
// the clamp itself, x>>31 ^ 32767, is 32767 for a positive overflow and -32768 for a
// negative one, and needs no constants in registers (min and max would hold 32767
// and -32768 in two registers for the whole of a loop).
func saturate(x int32) int16 {
	if x != int32(int16(x)) {
		return int16(x>>31 ^ maxWord)
	}
	return int16(x)
}

// add is the standard's add(): a+b saturated to 16 bits.
func add(a, b int16) int16 { return saturate(int32(a) + int32(b)) }

// sub is the standard's sub(): a-b saturated to 16 bits.
func sub(a, b int16) int16 { return saturate(int32(a) - int32(b)) }

// multR is the standard's mult_r(): the rounded Q15 product. -1 × -1 is the one
// product that does not fit and saturates to 32767.
func multR(a, b int16) int16 {
	if a == minWord && b == minWord {
		return maxWord
	}
	return int16((int32(a)*int32(b) + 16384) >> 15)
}
