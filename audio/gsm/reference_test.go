package gsm

// refDecoder is the oracle the optimised Decoder is checked against: a plain
// transcription of GSM 06.10 section 4.3 (and libgsm's decode.c, which sox uses), in
// the standard's 16-bit operators, with none of the Decoder's tricks: the bit reader
// walks a table of field widths, the RPE samples are dequantized one by one, the
// long-term predictor keeps the standard's 160-sample dp buffer and shifts it after
// every sub-frame, the lattice filter loops over its eight stages with v[0..8] in an
// array, and post-processing is its own pass. It is slow on purpose; keep it obvious.
// TestReferenceMatchesSox anchors it to sox's decodes of the corpus.
type refDecoder struct {
	dp0   [160]int16 // dp0[0:120] is the residual history, dp0[120:160] the current sub-frame
	nrp   int16
	larpp [8]int16
	v     [9]int16
	msr   int16
}

func newRefDecoder() *refDecoder { return &refDecoder{nrp: 40} }

// refFieldBits is the width of each of a frame's 76 parameters (GSM 06.10 table 1.1).
var refFieldBits = func() (w [76]uint) {
	copy(w[:], []uint{6, 6, 5, 5, 4, 4, 3, 3})
	for j := range 4 {
		s := w[8+17*j:]
		s[0], s[1], s[2], s[3] = 7, 2, 2, 6
		for i := 4; i < 17; i++ {
			s[i] = 3
		}
	}
	return w
}()

// refUnpackMSB reads the raw .gsm packing (magic nibble, then each field most
// significant bit first) one bit at a time.
func refUnpackMSB(frame []byte) (p [76]int16) {
	bit := 4
	for i, w := range refFieldBits {
		for range w {
			b := frame[bit/8] >> (7 - bit%8) & 1
			p[i] = p[i]<<1 | int16(b)
			bit++
		}
	}
	return p
}

// refUnpackLSB reads the WAV49 packing (each field least significant bit first)
// starting at bit offset start, one bit at a time.
func refUnpackLSB(block []byte, start int) (p [76]int16) {
	bit := start
	for i, w := range refFieldBits {
		for k := range w {
			b := block[bit/8] >> (bit % 8) & 1
			p[i] |= int16(b) << k
			bit++
		}
	}
	return p
}

// decode is Gsm_Decoder: one frame's parameters to 160 samples.
func (d *refDecoder) decode(p [76]int16, out []int16) {
	var wt [160]int16
	for j := range 4 {
		s := p[8+17*j : 8+17*(j+1)]
		nc, bc, mc, xmaxc := s[0], s[1], s[2], s[3]
		var erp [40]int16
		d.rpeDecoding(xmaxc, mc, s[4:17], &erp)
		d.longTermSynthesis(nc, bc, &erp)
		copy(wt[40*j:], d.dp0[120:160])
		// The standard shifts the history by one sub-frame after each one.
		copy(d.dp0[:120], d.dp0[40:160])
	}
	d.shortTermSynthesis(p[:8], &wt, out[:160])
	d.postprocessing(out[:160])
}

// rpeDecoding is APCM_quantization_xmaxc_to_exp_mant, APCM_inverse_quantization and
// RPE_grid_positioning.
func (d *refDecoder) rpeDecoding(xmaxc, mc int16, xmc []int16, erp *[40]int16) {
	exp := int16(0)
	if xmaxc > 15 {
		exp = refSub(xmaxc>>3, 1)
	}
	mant := refSub(xmaxc, exp<<3)
	if mant == 0 {
		exp = -4
		mant = 7
	} else {
		for mant <= 7 {
			mant = mant<<1 | 1
			exp--
		}
		mant -= 8
	}
	temp1 := refFAC[mant]
	temp2 := refSub(6, exp)
	temp3 := refAsl(1, refSub(temp2, 1))
	var xmp [13]int16
	for i := range 13 {
		temp := (xmc[i] << 1) - 7
		temp <<= 12
		temp = refMultR(temp1, temp)
		temp = refAdd(temp, temp3)
		xmp[i] = refAsr(temp, temp2)
	}
	*erp = [40]int16{}
	for i := range 13 {
		erp[int(mc)+3*i] = xmp[i]
	}
}

// refAsl and refAsr are gsm_asl and gsm_asr: arithmetic shifts whose negative counts
// shift the other way.
func refAsl(a, n int16) int16 {
	switch {
	case n >= 16:
		return 0
	case n <= -16:
		if a < 0 {
			return -1
		}
		return 0
	case n < 0:
		return refAsr(a, -n)
	}
	return a << n
}

func refAsr(a, n int16) int16 {
	switch {
	case n >= 16:
		if a < 0 {
			return -1
		}
		return 0
	case n <= -16:
		return 0
	case n < 0:
		return a << -n
	}
	return a >> n
}

// longTermSynthesis is Gsm_Long_Term_Synthesis_Filtering, writing dp0[120:160].
func (d *refDecoder) longTermSynthesis(ncr, bcr int16, erp *[40]int16) {
	nr := ncr
	if ncr < 40 || ncr > 120 {
		nr = d.nrp
	}
	d.nrp = nr
	brp := refQLB[bcr]
	for k := range 40 {
		drpp := refMultR(brp, d.dp0[120+k-int(nr)])
		d.dp0[120+k] = refAdd(erp[k], drpp)
	}
}

// shortTermSynthesis is Gsm_Short_Term_Synthesis_Filter: decode the LARs, then for
// each of the four sample ranges interpolate, convert to reflection coefficients and
// filter.
func (d *refDecoder) shortTermSynthesis(larc []int16, wt *[160]int16, sr []int16) {
	mic := [8]int16{-32, -32, -16, -16, -8, -8, -4, -4}
	b := [8]int16{0, 0, 2048, -2560, 94, -1792, -341, -1144}
	inva := [8]int16{13107, 13107, 13107, 13107, 19223, 17476, 31454, 29708}
	var larpp [8]int16
	for i := range 8 {
		temp1 := refAdd(larc[i], mic[i]) << 10
		temp2 := b[i] << 1
		temp1 = refSub(temp1, temp2)
		temp1 = refMultR(inva[i], temp1)
		larpp[i] = refAdd(temp1, temp1)
	}
	prev := d.larpp
	var larp [8]int16
	for i := range 8 {
		larp[i] = refAdd(refAdd(prev[i]>>2, larpp[i]>>2), prev[i]>>1)
	}
	d.filter(refLARpToRp(larp), wt[0:13], sr[0:13])
	for i := range 8 {
		larp[i] = refAdd(prev[i]>>1, larpp[i]>>1)
	}
	d.filter(refLARpToRp(larp), wt[13:27], sr[13:27])
	for i := range 8 {
		larp[i] = refAdd(refAdd(prev[i]>>2, larpp[i]>>2), larpp[i]>>1)
	}
	d.filter(refLARpToRp(larp), wt[27:40], sr[27:40])
	d.filter(refLARpToRp(larpp), wt[40:160], sr[40:160])
	d.larpp = larpp
}

// refLARpToRp is LARp_to_rp.
func refLARpToRp(larp [8]int16) (rp [8]int16) {
	for i, l := range larp {
		if l < 0 {
			temp := int16(32767)
			if l != -32768 {
				temp = -l
			}
			switch {
			case temp < 11059:
				rp[i] = -(temp << 1)
			case temp < 20070:
				rp[i] = -(temp + 11059)
			default:
				rp[i] = -refAdd(temp>>2, 26112)
			}
		} else {
			switch {
			case l < 11059:
				rp[i] = l << 1
			case l < 20070:
				rp[i] = l + 11059
			default:
				rp[i] = refAdd(l>>2, 26112)
			}
		}
	}
	return rp
}

// filter is Short_term_synthesis_filtering: the eight-stage lattice, stage by stage.
func (d *refDecoder) filter(rrp [8]int16, wt, sr []int16) {
	for k := range wt {
		sri := wt[k]
		for i := 7; i >= 0; i-- {
			sri = refSub(sri, refMultR(rrp[i], d.v[i]))
			d.v[i+1] = refAdd(d.v[i], refMultR(rrp[i], sri))
		}
		d.v[0] = sri
		sr[k] = sri
	}
}

// postprocessing is Postprocessing: de-emphasis, upscaling, truncation.
func (d *refDecoder) postprocessing(s []int16) {
	for k := range s {
		tmp := refMultR(d.msr, 28180)
		d.msr = refAdd(s[k], tmp)
		s[k] = refAdd(d.msr, d.msr) &^ 7
	}
}

// The basic operators of GSM 06.10 section 5.1 and the tables of section 5, written
// out again here so that the oracle shares nothing with the code it checks.

func refSaturate(x int32) int16 {
	if x > 32767 {
		return 32767
	}
	if x < -32768 {
		return -32768
	}
	return int16(x)
}

func refAdd(a, b int16) int16 { return refSaturate(int32(a) + int32(b)) }

func refSub(a, b int16) int16 { return refSaturate(int32(a) - int32(b)) }

func refMultR(a, b int16) int16 {
	if a == -32768 && b == -32768 {
		return 32767
	}
	return int16((int32(a)*int32(b) + 16384) >> 15)
}

var refQLB = [4]int16{3277, 11469, 21299, 32767}

var refFAC = [8]int16{18431, 20479, 22527, 24575, 26623, 28671, 30719, 32767}

// decodeFrame decodes one raw frame (the magic is not checked).
func (d *refDecoder) decodeFrame(frame []byte, out []int16) {
	d.decode(refUnpackMSB(frame), out)
}

// decodeWAV49 decodes one 65-byte block: two frames in one 520-bit LSB-first stream.
func (d *refDecoder) decodeWAV49(block []byte, out []int16) {
	d.decode(refUnpackLSB(block, 0), out[:160])
	d.decode(refUnpackLSB(block, 260), out[160:320])
}
