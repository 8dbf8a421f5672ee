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
