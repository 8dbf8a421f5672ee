package calltable

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/comx"
	"github.com/callscope/callscope/client/pbxsim"
	"github.com/callscope/callscope/tui/filter"
)

// BenchmarkMemory1M loads a million calls into a table the way the app gets them, in streamed batches, and
// reports what stays: the live Go heap after a collection, the resident set (VmRSS) after a collection, the
// process's peak resident set (VmHWM); then the resident set after three sorts, after a search, after 15 s
// idle, and the peak again. "comx" parses a year's Com.X index written by the simulator (the strings arrive
// sliced from the parser's shared buffers); "synthetic" builds each record from separate small strings.
//
// Resident figures are the whole process's, so run this benchmark on its own:
//
//	go test ./tui/calltable -run '^$' -bench Memory1M -benchtime 1x
func BenchmarkMemory1M(b *testing.B) {
	b.Run("comx", func(b *testing.B) {
		path := millionIndex(b)
		for range b.N {
			measureLoad(b, func(add func([]cdr.Record)) {
				f, err := os.Open(path)
				if err != nil {
					b.Fatal(err)
				}
				defer f.Close()
				batch := make([]cdr.Record, 0, 2000)
				_, _, err = comx.Parse(bufio.NewReaderSize(f, 1<<16), func(r cdr.Record) error {
					batch = append(batch, r)
					if len(batch) == cap(batch) {
						add(batch)
						batch = batch[:0]
					}
					return nil
				}, nil)
				if err != nil {
					b.Fatal(err)
				}
				add(batch)
			})
		}
	})
	b.Run("synthetic", func(b *testing.B) {
		for range b.N {
			measureLoad(b, func(add func([]cdr.Record)) {
				for lo := 0; lo < 1_000_000; lo += 2000 {
					add(makeRecordsFrom(lo, 2000))
				}
			})
		}
	})
}

// measureLoad streams rows into a fresh 200×50 table and reports the memory it holds once loaded.
func measureLoad(b *testing.B, load func(add func([]cdr.Record))) {
	b.Helper()
	m := newTable(200, 50)
	runtime.GC()
	debug.FreeOSMemory()
	heap0 := liveHeap()
	start := time.Now()
	load(func(batch []cdr.Record) { m.Append(batch) })
	b.ReportMetric(time.Since(start).Seconds()*1e3, "ms-load")
	runtime.GC()
	b.ReportMetric(float64(liveHeap()-heap0)/1e6, "MB-heap")
	b.ReportMetric(procStatusMB(b, "VmRSS"), "MB-rss")
	b.ReportMetric(procStatusMB(b, "VmHWM"), "MB-peak-rss")
	b.ReportMetric(float64(m.Loaded()), "rows")
	// Then use it as someone would: three sorts by different columns, a search and its clearing, then nothing
	// for 15 s. No collection is forced: what the process holds is what the pacer and the scavenger leave.
	for _, c := range []Column{ColOther, ColDuration, ColExtension} {
		m.SetSort(c, false)
	}
	b.ReportMetric(procStatusMB(b, "VmRSS"), "MB-rss-sorted")
	m.SetFilter(filter.State{Search: "55"}.Compile(nil, filter.Dialling{}))
	m.SetFilter(nil)
	b.ReportMetric(procStatusMB(b, "VmRSS"), "MB-rss-filtered")
	time.Sleep(15 * time.Second)
	b.ReportMetric(procStatusMB(b, "VmRSS"), "MB-rss-idle")
	b.ReportMetric(procStatusMB(b, "VmHWM"), "MB-peak-rss-used")
	runtime.KeepAlive(m)
}

func liveHeap() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// procStatusMB reads one "kB" line of /proc/self/status, in MB; the benchmark skips where there is none.
func procStatusMB(b *testing.B, field string) float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Skip("no /proc/self/status:", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			if err != nil {
				b.Fatalf("%s: %v", field, err)
			}
			return kb * 1024 / 1e6
		}
	}
	b.Skipf("no %s in /proc/self/status", field)
	return 0
}

// millionIndex is a year of a busy PBX (about a million calls) as a Com.X extended index file, written once by
// the simulator and kept in the temporary directory between runs; the simulator is gone before the load starts.
func millionIndex(b *testing.B) string {
	b.Helper()
	path := filepath.Join(os.TempDir(), "callscope-bench-index-1m.txt")
	if _, err := os.Stat(path); err == nil {
		return path
	}
	end := time.Date(2024, 6, 30, 0, 0, 0, 0, time.UTC)
	sim, err := pbxsim.New(pbxsim.Options{Seed: 1, Days: 365, CallsPerDay: 3700, End: end})
	if err != nil {
		b.Fatal(err)
	}
	tmp := path + ".part"
	f, err := os.Create(tmp)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	err = sim.WriteIndex(w, time.Time{}, time.Time{}, true)
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		b.Fatal(fmt.Errorf("writing the benchmark index: %w", err))
	}
	return path
}

// makeRecordsFrom is makeRecords' rows lo to lo+n.
func makeRecordsFrom(lo, n int) []cdr.Record {
	out := make([]cdr.Record, n)
	types := []cdr.CallType{cdr.CallInbound, cdr.CallOutbound, cdr.CallInternal}
	disps := []cdr.Disposition{cdr.DispAnswered, cdr.DispAnswered, cdr.DispNoAnswer, cdr.DispBusy, cdr.DispFailed}
	for k := range out {
		i := lo + k
		out[k] = cdr.Record{
			UniqueID:      fmt.Sprintf("%d.%d", base.Unix()+int64(i*60), i),
			Start:         base.Add(time.Duration(i) * time.Minute),
			CallType:      types[i%3],
			Extension:     fmt.Sprint(200 + i%7),
			DialledNumber: fmt.Sprintf("0821555%04d", i%10000),
			CallerID:      fmt.Sprintf("0119876%04d", (i*7)%10000),
			Disposition:   disps[i%5],
			DurationS:     (i * 37) % 900,
			BillableS:     (i * 31) % 800,
			RecordingSize: int64(i%2) * 48000,
			Recording:     map[bool]string{true: "rec.wav", false: ""}[i%2 == 1],
			Extended:      true,
			FriendlyName:  []string{"Reception", "Sales", "Support", "Accounts", "Dispatch", "Night desk", "Lab"}[i%7],
			Channel:       fmt.Sprintf("SIP/%d-%08x", 200+i%7, i),
		}
	}
	return out
}
