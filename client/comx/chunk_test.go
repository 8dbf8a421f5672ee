package comx

import (
	"bytes"
	"io"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/callscope/callscope/client/cdr"
)

// randomReader returns a few bytes or many at a time, as a network does.
type randomReader struct {
	r   io.Reader
	rng *rand.Rand
}

func (rr *randomReader) Read(p []byte) (int, error) {
	n := 1 + rr.rng.IntN(min(len(p), 1+rr.rng.IntN(3)*70_000))
	return rr.r.Read(p[:n])
}

// parseAhead parses r as Calls does: chunks cut on another goroutine while the last is parsed.
func parseAhead(r io.Reader, lend bool) parsed {
	var out parsed
	ra := startReadAhead(r, readAheadDepth, lend)
	defer ra.close()
	var p chunkParser
	p.init()
	lines := 0
	var rec = new(parsedRecord)
	for ch := range ra.chunks {
		p.reset(ch)
		for {
			line, err, ok := p.next(&rec.r)
			if !ok {
				break
			}
			if err != nil {
				out.badLines = append(out.badLines, lines+line)
				continue
			}
			r := rec.r
			r.UniqueID = strings.Clone(r.UniqueID) // the one field compared after the chunk is released
			out.recs = append(out.recs, r)
		}
		lines += p.lines
		ch.release()
	}
	if ra.err != io.EOF {
		out.err = ra.err
	}
	return out
}

type parsedRecord struct{ r cdr.Record }

// Records parsed from lent chunks are compared by ID and line only: their strings die with the chunk.
func ids(p parsed) ([]string, []int, error) {
	var out []string
	for _, r := range p.recs {
		out = append(out, r.UniqueID)
	}
	return out, p.badLines, p.err
}

// Record boundaries never depend on how the bytes arrive: whole, byte by byte, in random pieces, or read ahead
// into chunks on another goroutine, an index gives the same records, malformed lines and line numbers. The
// records that are too long (a line, or a line with its continuation lines, of 64 KiB or more; a line longer
// than the chunker's buffer; a run of continuation lines longer than it) are reported once each, at their
// first line, and the records around them are read.
func TestChunkBoundariesDoNotMatter(t *testing.T) {
	good := strings.Split(strings.TrimSpace(specLines), "\n")
	long := strings.Repeat("x", MaxLineBytes)
	for _, tc := range []struct {
		name string
		in   string
		bad  []int
	}{
		{"a line one short of the limit is read", good[0] + strings.Repeat(" ", MaxLineBytes-1-len(good[0])) + "\n" + good[1] + "\n", nil},
		{"a line at the limit", good[0] + "\n" + long + "\n" + good[1] + "\n", []int{2}},
		{"a line four times the buffer", good[0] + "\n" + strings.Repeat("y", 4*chunkSize+3) + "\n" + good[1] + "\n", []int{2}},
		{"a last line longer than the buffer, no line end", good[0] + "\n" + strings.Repeat("z", chunkSize+9), []int{2}},
		{"continuation lines past the limit", good[0] + "\n" + good[1] + strings.Repeat("\n "+strings.Repeat("c", 999), 70) + "\n" + good[0] + "\n", []int{2}},
		{"continuation lines past the buffer", good[0] + strings.Repeat("\n\t"+strings.Repeat("c", 2000), 400) + "\n" + good[1] + "\n", []int{1}},
		{"blank continuation lines past the buffer", good[1] + strings.Repeat("\n ", 300_000) + "\n" + good[0] + "\n", []int{1}},
		{"a blank line does not take continuation lines", good[0] + "\n\n  " + good[1] + "\n", nil},
		{"spec example split over lines", specExample, nil},
		{"CRLF and BOM", "\xef\xbb\xbf" + strings.ReplaceAll(specExample, "\n", "\r\n"), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			whole := parseAll(t, strings.NewReader(tc.in))
			if whole.err != nil || !reflect.DeepEqual(whole.badLines, tc.bad) {
				t.Fatalf("err %v, bad lines %v, want %v", whole.err, whole.badLines, tc.bad)
			}
			if len(tc.in) < 100_000 {
				if bytewise := parseAll(t, iotest.OneByteReader(strings.NewReader(tc.in))); !reflect.DeepEqual(whole, bytewise) {
					t.Fatalf("one byte at a time:\n%+v\nwhole:\n%+v", bytewise, whole)
				}
			}
			wantIDs, wantBad, _ := ids(whole)
			for seed := range uint64(5) {
				rr := &randomReader{r: strings.NewReader(tc.in), rng: rand.New(rand.NewPCG(seed, 7))}
				if got := parseAll(t, rr); !reflect.DeepEqual(whole, got) {
					t.Fatalf("random pieces (seed %d):\n%+v\nwhole:\n%+v", seed, got, whole)
				}
				for _, lend := range []bool{false, true} {
					rr := &randomReader{r: strings.NewReader(tc.in), rng: rand.New(rand.NewPCG(seed, 9))}
					gotIDs, gotBad, err := ids(parseAhead(rr, lend))
					if err != nil || !reflect.DeepEqual(gotIDs, wantIDs) || !reflect.DeepEqual(gotBad, wantBad) {
						t.Fatalf("read ahead (lend %v, seed %d): ids %v bad %v err %v; want %v %v", lend, seed, gotIDs, gotBad, err, wantIDs, wantBad)
					}
				}
			}
		})
	}
}

// A stream that stops with an error after whole lines keeps them, and drops a partial last line, through the
// read-ahead as through the Parser.
func TestChunkCutOff(t *testing.T) {
	cut := io.ErrUnexpectedEOF
	in := specLines + specLines[:40]
	got := parseAhead(io.MultiReader(strings.NewReader(in), iotest.ErrReader(cut)), true)
	if gotIDs, _, err := ids(got); err != cut || len(gotIDs) != 2 {
		t.Fatalf("ids %v err %v", gotIDs, err)
	}
	var none bytes.Buffer
	if got := parseAhead(&none, false); got.err != nil || len(got.recs) != 0 {
		t.Fatalf("empty: %+v", got)
	}
}
