package comx

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/callscope/callscope/client/cdr"
)

const benchLines = 1_000_000

var (
	benchOnce  sync.Once
	benchIndex [2][]byte // basic, extended
)

// benchData builds a realistic 1,000,000-line index: a few dozen extensions, mixed call types and dispositions,
// Asterisk caller IDs with names (some with commas), a third of the calls unrecorded.
func benchData(extended bool) []byte {
	benchOnce.Do(func() {
		rng := rand.New(rand.NewPCG(1, 2))
		types := []string{"CALLTYPE_INBOUND", "CALLTYPE_OUTBOUND", "CALLTYPE_INTERNAL", "CALLTYPE_OTHER"}
		disps := []string{"CALL_ANSWERED", "CALL_ANSWERED", "CALL_ANSWERED", "CALL_NOANSWER", "CALL_BUSY", "CALL_FAILED"}
		names := []string{`"Smith, John"`, `"Naidoo, Priya"`, `"Reception"`, `"van der Merwe, Pieter"`, `"Sales"`}
		t := time.Date(2024, 1, 1, 8, 0, 0, 0, time.UTC)
		for v, ext := range []bool{false, true} {
			var b bytes.Buffer
			var line []byte
			for i := range benchLines {
				t = t.Add(time.Duration(rng.IntN(40)) * time.Second)
				e := fmt.Sprint(2000 + rng.IntN(40))
				r := cdr.Record{
					UniqueID:       fmt.Sprintf("%d.%d", t.Unix()-2*3600, i),
					Start:          t,
					RawCallType:    types[rng.IntN(len(types))],
					Extension:      e,
					RawDisposition: disps[rng.IntN(len(disps))],
					DurationS:      rng.IntN(900),
				}
				r.BillableS = max(r.DurationS-rng.IntN(20), 0)
				switch r.RawCallType {
				case "CALLTYPE_INBOUND":
					r.CallerID = fmt.Sprintf("%s <021555%04d>", names[rng.IntN(len(names))], rng.IntN(10000))
				default:
					r.DialledNumber = fmt.Sprintf("0215%06d", rng.IntN(1000000))
				}
				if rng.IntN(3) > 0 {
					r.RecordingSize = int64(r.DurationS) * 1650
					r.Recording = fmt.Sprintf("g%s-%s-%s.gsm", e, t.Format("20060102-150405"), r.UniqueID)
				}
				if ext {
					r.FriendlyName, r.AccountCode = "Ext "+e, ""
					r.Channel, r.DestChannel = "SIP/"+e+"-0000a1b2", "SIP/trunk-0000c3d4"
				}
				line = AppendLine(line[:0], &r, ext)
				line = append(line, '\n')
				b.Write(line)
			}
			benchIndex[v] = b.Bytes()
		}
	})
	if extended {
		return benchIndex[1]
	}
	return benchIndex[0]
}

// BenchmarkParse1M parses a 1,000,000-line index per iteration and reports the cost per record.
func BenchmarkParse1M(b *testing.B) {
	for _, ext := range []bool{false, true} {
		name := "basic"
		if ext {
			name = "extended"
		}
		b.Run(name, func(b *testing.B) {
			data := benchData(ext)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			var ms0, ms1 runtime.MemStats
			runtime.ReadMemStats(&ms0)
			cpu0 := processCPU()
			b.ResetTimer()
			for b.Loop() {
				p := NewParser(bytes.NewReader(data))
				n := 0
				for {
					_, err := p.Next()
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					n++
				}
				if n != benchLines {
					b.Fatalf("parsed %d records, want %d", n, benchLines)
				}
			}
			b.StopTimer()
			cpu := processCPU() - cpu0
			runtime.ReadMemStats(&ms1)
			records := float64(b.N) * benchLines
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/records, "ns/record")
			if cpu > 0 {
				b.ReportMetric(float64(cpu.Nanoseconds())/records, "cpu-ns/record")
			}
			b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/records, "allocs/record")
		})
	}
}
