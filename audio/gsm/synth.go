package gsm

// synthesize runs the decoder of GSM 06.10 section 4.3 on one frame's parameters.
func (d *Decoder) synthesize(p *params, out *[FrameSamples]int16) {
	// work[0:120] is the residual history; sub-frame j writes work[120+40j:160+40j],
	// so the long-term predictor reads earlier sub-frames of this frame in place.
	var work [120 + FrameSamples]int16
	copy(work[:120], d.drp[:])
	for j := range 4 {
		d.longTermSynthesis(p.sub(j), (*[160]int16)(work[40*j:]))
	}
	copy(d.drp[:], work[FrameSamples:])
	copy(out[:], work[120:])
	d.shortTermSynthesis(p.larc(), out)
}

// longTermSynthesis is sections 4.2.15–4.2.17 and 4.3.2 for one sub-frame with
// parameters s (Nc, bc, Mc, xmaxc, xMc[0..12]): the RPE samples are decoded and placed
// on their grid, and the long-term prediction from drp[:120], the history, is added
// to them in drp[120:160].
//
// The standard computes drp[120+k] = add(erp[k], mult_r(brp, drp[120+k-Nr])) for all
// 40 k, with erp zero off the grid. Here the prediction is written first and the 13
// grid samples are added after, which is exact: off the grid add(0, x) is x, and the
// prediction only reads samples at least 40 back (Nr ≥ 40), so never one that this
// sub-frame writes. mult_r's one saturating case, -32768 × -32768, cannot occur
// because brp is a positive table value, and the rounded product of brp ≤ 32767 and a
// 16-bit sample fits in 16 bits, so the prediction needs no saturation; only the grid
// additions do.
func (d *Decoder) longTermSynthesis(s *[subframeParams]int16, drp *[160]int16) {
	nr := int(s[0])
	if nr < 40 || nr > 120 {
		nr = int(d.nrp)
		if nr == 0 {
			nr = 40
		}
	}
	d.nrp = int16(nr)
	brp := int32(qlb[s[1]&3])
	pred := (*[40]int16)(drp[120-nr:])
	cur := (*[40]int16)(drp[120:])
	// Four samples per iteration: the loop's own bookkeeping costs about as much as
	// one sample's multiply and shift.
	for k := 0; k < 40; k += 4 {
		p, c := (*[4]int16)(pred[k:k+4]), (*[4]int16)(cur[k:k+4])
		c[0] = int16((brp*int32(p[0]) + 16384) >> 15)
		c[1] = int16((brp*int32(p[1]) + 16384) >> 15)
		c[2] = int16((brp*int32(p[2]) + 16384) >> 15)
		c[3] = int16((brp*int32(p[3]) + 16384) >> 15)
	}
	// Mc ≤ 3, so the grid Mc, Mc+3, … Mc+36 lies within cur[Mc:Mc+37]. The 13
	// additions are written out so that every index is a constant.
	g := (*[37]int16)(cur[s[2]&3:])
	rpe := &rpeSamples[s[3]&63]
	x := (*[13]int16)(s[4:])
	g[0] = add(g[0], rpe[x[0]&7])
	g[3] = add(g[3], rpe[x[1]&7])
	g[6] = add(g[6], rpe[x[2]&7])
	g[9] = add(g[9], rpe[x[3]&7])
	g[12] = add(g[12], rpe[x[4]&7])
	g[15] = add(g[15], rpe[x[5]&7])
	g[18] = add(g[18], rpe[x[6]&7])
	g[21] = add(g[21], rpe[x[7]&7])
	g[24] = add(g[24], rpe[x[8]&7])
	g[27] = add(g[27], rpe[x[9]&7])
	g[30] = add(g[30], rpe[x[10]&7])
	g[33] = add(g[33], rpe[x[11]&7])
	g[36] = add(g[36], rpe[x[12]&7])
}

// shortTermSynthesis is sections 4.3.3 to 4.3.7 (with 4.2.8–4.2.9), in place on s:
// decode the log-area ratios, interpolate them with the previous frame's over the
// first 40 samples, convert them to reflection coefficients, and run the lattice
// filter and the post-processing over the residual in s.
//
// The interpolations use plain additions: every operand is a 16-bit LAR shifted
// right by one or two, so a>>2 + b>>2 + a>>1 lies in [-32768, 32765] and a>>1 + b>>1
// in [-32768, 32766], where the standard's saturating add changes nothing.
func (d *Decoder) shortTermSynthesis(larc *[8]int16, s *[FrameSamples]int16) {
	var larpp [8]int16
	for i, c := range larc {
		larpp[i] = larDecoded[i][c&63]
	}
	prev := &d.larpp
	var larp [8]int16
	for i := range larp {
		larp[i] = prev[i]>>2 + larpp[i]>>2 + prev[i]>>1
	}
	d.filter(&larp, s[0:13])
	for i := range larp {
		larp[i] = prev[i]>>1 + larpp[i]>>1
	}
	d.filter(&larp, s[13:27])
	for i := range larp {
		larp[i] = prev[i]>>2 + larpp[i]>>2 + larpp[i]>>1
	}
	d.filter(&larp, s[27:40])
	larp = larpp
	d.filter(&larp, s[40:])
	d.larpp = larpp
}

// larToRp is section 4.2.9.2: the piecewise-linear inverse of the LAR companding.
// The three pieces are all computed and one is selected without branches: which
// piece applies changes from value to value, so branches on it mispredict often.
// The result is never -32768 (its magnitude is at most 32767), which the lattice
// filter relies on.
func larToRp(l int16) int32 {
	// |l| in 32 bits: -32768 becomes 32768 where the standard's 16-bit abs gives
	// 32767; both fall in the top piece and map to 32767.
	a := int32(l)
	if a < 0 {
		a = -a
	}
	r := min(a>>2+26112, maxWord)
	if a < 20070 {
		r = a + 11059
	}
	if a < 11059 {
		r = a << 1
	}
	if l < 0 {
		r = -r
	}
	return r
}

// The lattice filter works on biased values: every 16-bit quantity x of the standard
// is held as x+32768 in an int32, so that it lies in [0, 65535] exactly when x fits
// in 16 bits. The test for saturation is then one unsigned compare with 65535, and
// the clamp is 0 (for -32768) or 65535 (for 32767).
//
// The standard's mult_r(rp, x) is (rp*x + 16384) >> 15; with x = xb-32768 it is
// (rp*xb - c) >> 15 where c = rp*32768 - 16384, a constant per set of coefficients,
// so the bias costs nothing in the products. mult_r's one saturating case,
// -32768 × -32768, cannot occur because larToRp never returns -32768. rp*xb fits in
// an int32 (32767 × 65535 < 2^31), and every sum below adds a rounded product in
// [-32768, 32767] to a value in [0, 65535], far inside the int32 range, so the int32
// arithmetic is exact until the clamp brings the result back to 16 bits.
const bias = 32768

// stageCoefs holds one lattice stage's reflection coefficient rp and c = rp*32768 -
// 16384. Each is stored twice, and each copy is used once per sample: a value used
// twice is loaded once and kept in a register, and the loop needs every register
// for the filter state; a value used once is folded into the instruction that
// uses it (the subtraction reads c straight from memory).
type stageCoefs struct{ rp, c, rp2, c2 int32 }

func newStageCoefs(larp int16) stageCoefs {
	rp := larToRp(larp)
	c := rp*bias - 16384
	return stageCoefs{rp, c, rp, c}
}

// clampBiased saturates a biased value to [0, 65535]. Overflow is rare in real speech
// (no clamp at all in the corpus's speech, 0.07% of the checks in clipped white
// noise), so a well-predicted branch skips the clamp. The clamp, ^(x>>31) & 0xFFFF, is 0 for
// a negative x and 65535 for a large one, and needs no constants in registers; its
// three operations also keep the compiler from turning the branch into conditional
// moves that would run on every sample.
func clampBiased(x int32) int32 {
	if uint32(x) > 0xFFFF {
		x = ^(x >> 31) & 0xFFFF
	}
	return x
}

// stage is one stage of the short-term synthesis lattice (section 4.3.4): with v the
// stage's state from the previous sample and sri the value coming down from the stage
// above, sri = sub(sri, mult_r(rp, v)), and the next stage's new state is
// add(v, mult_r(rp, sri)). All values are biased.
func stage(k *stageCoefs, v, sri int32) (sriOut, vNext int32) {
	sri = clampBiased(sri - (k.rp*v-k.c)>>15)
	return sri, clampBiased(v + (k.rp2*sri-k.c2)>>15)
}

// filter converts larp to reflection coefficients and runs the short-term synthesis
// lattice filter (section 4.3.4) and the post-processing (4.3.5–4.3.7) over s in
// place: s holds the reconstructed residual on entry and the output samples on return.
//
// This loop is where the decoder spends nearly all its time. The eight stages are
// written out so that the state lives in registers, and post-processing runs in the
// same loop so that its own serial chain (de-emphasis feeds each sample into the
// next) overlaps the lattice's instead of following it.
func (d *Decoder) filter(larp *[8]int16, s []int16) {
	var k [8]stageCoefs
	for i, l := range larp {
		k[i] = newStageCoefs(l)
	}
	v0, v1, v2, v3 := int32(d.v[0])+bias, int32(d.v[1])+bias, int32(d.v[2])+bias, int32(d.v[3])+bias
	v4, v5, v6, v7 := int32(d.v[4])+bias, int32(d.v[5])+bias, int32(d.v[6])+bias, int32(d.v[7])+bias
	msr := int32(d.msr) + bias
	for n := range s {
		// The top stage's next state, the standard's v[8], is never read: skip it.
		sri := clampBiased(int32(s[n]) + bias - (k[7].rp*v7-k[7].c)>>15)
		sri, v7 = stage(&k[6], v6, sri)
		sri, v6 = stage(&k[5], v5, sri)
		sri, v5 = stage(&k[4], v4, sri)
		sri, v4 = stage(&k[3], v3, sri)
		sri, v3 = stage(&k[2], v2, sri)
		sri, v2 = stage(&k[1], v1, sri)
		sri, v1 = stage(&k[0], v0, sri)
		v0 = sri
		// De-emphasis, msr = add(sr, mult_r(msr, 28180)), with msr biased as well:
		// mult_r(msrb-32768, 28180) = (msrb*28180 - (32768*28180 - 16384)) >> 15.
		msr = clampBiased(sri + (msr*28180-(bias*28180-16384))>>15)
		// Upscaling, add(msr, msr), and truncation: 2(msrb-32768)+32768 = 2msrb-32768.
		s[n] = int16(clampBiased(msr+msr-bias)-bias) &^ 7
	}
	d.v = [8]int16{int16(v0 - bias), int16(v1 - bias), int16(v2 - bias), int16(v3 - bias),
		int16(v4 - bias), int16(v5 - bias), int16(v6 - bias), int16(v7 - bias)}
	d.msr = int16(msr - bias)
}
