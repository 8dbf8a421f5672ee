package gsm

// Tables from GSM 06.10 section 5 that the decoder needs.

// larMIC is the smallest value each coded log-area ratio can take (table 5.1); the
// bitstream carries LARc-MIC so that every field is unsigned.
var larMIC = [8]int16{-32, -32, -16, -16, -8, -8, -4, -4}

// larB and larINVA are B and 1/A of table 5.1, used to undo the LAR quantizer.
var larB = [8]int16{0, 0, 2048, -2560, 94, -1792, -341, -1144}
var larINVA = [8]int16{13107, 13107, 13107, 13107, 19223, 17476, 31454, 29708}

// qlb holds the quantized long-term prediction gains (table 5.3b).
var qlb = [4]int16{3277, 11469, 21299, 32767}

// fac holds the normalized inverse mantissas for RPE sample dequantization (table 5.5).
var fac = [8]int16{18431, 20479, 22527, 24575, 26623, 28671, 30719, 32767}

// rpeSamples[xmaxc][xMc] is the dequantized RPE sample of sections 4.2.16 and 4.2.17
// for every block amplitude xmaxc (6 bits) and coded sample xMc (3 bits): the decoder
// looks each sample up instead of splitting xmaxc into exponent and mantissa and
// scaling 13 times per sub-frame. The table is the standard's arithmetic evaluated
// once for all 512 inputs, so the lookup is exact by construction.
var rpeSamples = func() (t [64][8]int16) {
	for xmaxc := range t {
		for xmc := range t[xmaxc] {
			t[xmaxc][xmc] = dequantizeRPE(int16(xmaxc), int16(xmc))
		}
	}
	return t
}()

// dequantizeRPE is APCM_quantization_xmaxc_to_exp_mant and APCM_inverse_quantization
// (sections 4.2.16–4.2.17) for one sample: the block amplitude is split into exponent
// and mantissa, and the 3-bit sample is scaled by the mantissa's inverse and shifted
// by the exponent.
func dequantizeRPE(xmaxc, xmc int16) int16 {
	exp := int16(0)
	if xmaxc > 15 {
		exp = xmaxc>>3 - 1
	}
	mant := xmaxc - exp<<3
	if mant == 0 {
		exp, mant = -4, 7
	} else {
		for mant <= 7 {
			mant = mant<<1 | 1
			exp--
		}
		mant -= 8
	}
	temp2 := sub(6, exp) // 0..10
	var temp3 int16
	if temp2 > 0 {
		temp3 = 1 << (temp2 - 1)
	}
	temp := (xmc<<1 - 7) << 12
	temp = multR(fac[mant], temp)
	temp = add(temp, temp3)
	return temp >> temp2
}

// larDecoded[i][c] is the decoded log-area ratio LARpp of section 4.2.8 (the
// standard's LARc-to-LARpp steps in the decoder, 4.3.3) for ratio i coded as c; the
// six-bit field takes 64 values at most. Like rpeSamples, it is the standard's
// arithmetic evaluated once for every input.
var larDecoded = func() (t [8][64]int16) {
	for i := range t {
		for c := range t[i] {
			temp1 := add(int16(c), larMIC[i]) << 10
			temp1 = sub(temp1, larB[i]<<1)
			temp1 = multR(larINVA[i], temp1)
			t[i][c] = add(temp1, temp1)
		}
	}
	return t
}()
