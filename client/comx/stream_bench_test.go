package comx

import (
	"bytes"
	"io"
	"testing"
	"time"

	"github.com/callscope/callscope/client/cdr"
)

// chunksOf cuts an index into the chunks a chunker would make of it.
func chunksOf(tb testing.TB, data []byte) []chunk {
	ck := newChunker(bytes.NewReader(data))
	var out []chunk
	for {
		ch, err := ck.next(func(n int) bool { return n >= readAheadTarget })
		if err == io.EOF {
			return out
		}
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, ch)
	}
}

// BenchmarkRowPath is one worker's share of WriteCalls on one goroutine: parse, place and encode as CSV and as
// JSON every row of a 1,000,000-line extended index already in memory, without the network and the writes.
func BenchmarkRowPath(b *testing.B) {
	chunks := chunksOf(b, benchData(true))
	loc, _ := time.LoadLocation("Africa/Johannesburg")
	for _, format := range []string{"csv", "json", "parse"} {
		b.Run(format, func(b *testing.B) {
			var w cdr.EncodedWriter = cdr.NewCSVWriter(io.Discard)
			if format == "json" {
				w = cdr.NewJSONWriter(io.Discard)
			}
			enc := w.NewEncoder()
			var p chunkParser
			p.init()
			placer := cdr.NewWallPlacer(loc)
			var rec cdr.Record
			var out []byte
			size := 0
			for _, ch := range chunks {
				size += len(ch.text)
			}
			b.SetBytes(int64(size))
			b.ReportAllocs()
			cpu0 := processCPU()
			for b.Loop() {
				rows := 0
				for _, ch := range chunks {
					p.reset(ch)
					out = out[:0]
					for {
						_, err, ok := p.next(&rec)
						if !ok {
							break
						}
						if err != nil {
							b.Fatal(err)
						}
						rec.Start = placer.Place(rec.Start)
						if format != "parse" {
							out = enc.AppendRecord(out, &rec)
						}
						rows++
					}
				}
				if rows != benchLines {
					b.Fatalf("%d rows", rows)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchLines), "ns/row")
			b.ReportMetric(float64((processCPU()-cpu0).Nanoseconds())/float64(b.N*benchLines), "cpu-ns/row")
		})
	}
}
