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
	wt := (*[FrameSamples]int16)(work[120:])
	d.shortTermSynthesis(p.larc(), wt, out)
	d.postprocess(out)
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

// shortTermSynthesis is sections 4.3.3 and 4.3.4 (with 4.2.8–4.2.9): decode the log-area
// ratios, interpolate them with the previous frame's over the first 40 samples,
// convert to reflection coefficients and run the lattice filter.
//
// The interpolations use plain additions: every operand is a 16-bit LAR shifted
// right by one or two, so a>>2 + b>>2 + a>>1 lies in [-32768, 32765] and a>>1 + b>>1
// in [-32768, 32766], where the standard's saturating add changes nothing.
func (d *Decoder) shortTermSynthesis(larc *[8]int16, wt, sr *[FrameSamples]int16) {
	var larpp [8]int16
	for i, c := range larc {
		larpp[i] = larDecoded[i][c&63]
	}
	prev := &d.larpp

	var larp [8]int16
	for i := range larp {
		larp[i] = prev[i]>>2 + larpp[i]>>2 + prev[i]>>1
	}
	d.filter(&larp, wt[0:13], sr[0:13])
	for i := range larp {
		larp[i] = prev[i]>>1 + larpp[i]>>1
	}
	d.filter(&larp, wt[13:27], sr[13:27])
	for i := range larp {
		larp[i] = prev[i]>>2 + larpp[i]>>2 + larpp[i]>>1
	}
	d.filter(&larp, wt[27:40], sr[27:40])
	larp = larpp
	d.filter(&larp, wt[40:], sr[40:])

	d.larpp = larpp
}

// larToRp is section 4.2.9.2: the piecewise-linear inverse of the LAR companding,
// done in place. The three pieces are all computed and one is selected without
// branches: which piece applies changes from value to value, so branches on it
// mispredict often.
func larToRp(larp *[8]int16) {
	for i, l := range larp {
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
		larp[i] = int16(r)
	}
}

// filter converts larp to reflection coefficients and runs the short-term synthesis
// lattice filter (section 4.3.4) over wt into sr.
//
// This is where nearly all decoding time goes, so the eight lattice stages are
// unrolled over register-resident int32 copies of the state. larToRp never yields
// -32768, so mult_r's one saturating case cannot occur and the plain rounded product
// is exact here.
func (d *Decoder) filter(larp *[8]int16, wt, sr []int16) {
	larToRp(larp)
	r0, r1, r2, r3 := int32(larp[0]), int32(larp[1]), int32(larp[2]), int32(larp[3])
	r4, r5, r6, r7 := int32(larp[4]), int32(larp[5]), int32(larp[6]), int32(larp[7])
	v0, v1, v2, v3 := int32(d.v[0]), int32(d.v[1]), int32(d.v[2]), int32(d.v[3])
	v4, v5, v6, v7 := int32(d.v[4]), int32(d.v[5]), int32(d.v[6]), int32(d.v[7])
	sr = sr[:len(wt)]
	for k, w := range wt {
		// The last stage's output v[8] is never read, so only its sri is computed.
		sri := sat32(int32(w) - (r7*v7+16384)>>15)
		sri, v7 = lattice(r6, v6, sri)
		sri, v6 = lattice(r5, v5, sri)
		sri, v5 = lattice(r4, v4, sri)
		sri, v4 = lattice(r3, v3, sri)
		sri, v3 = lattice(r2, v2, sri)
		sri, v2 = lattice(r1, v1, sri)
		sri, v1 = lattice(r0, v0, sri)
		v0 = sri
		sr[k] = int16(sri)
	}
	d.v = [8]int16{int16(v0), int16(v1), int16(v2), int16(v3), int16(v4), int16(v5), int16(v6), int16(v7)}
}

// lattice is one stage of the synthesis lattice: sri -= rp*v, then the next v = v + rp*sri,
// each product rounded as mult_r and each sum saturated as add/sub.
func lattice(rp, v, sri int32) (int32, int32) {
	sri = sat32(sri - (rp*v+16384)>>15)
	return sri, sat32(v + (rp*sri+16384)>>15)
}

// postprocess is section 4.3.5–4.3.7: de-emphasis, upscaling by two and truncation
// of the three least significant bits.
func (d *Decoder) postprocess(s *[FrameSamples]int16) {
	msr := d.msr
	for k, x := range s {
		msr = add(x, multR(msr, 28180))
		s[k] = add(msr, msr) &^ 7
	}
	d.msr = msr
}
