package pbxsim

import (
	"io"
	"net/http"
	"testing"
	"time"
)

// millionRows is a year of a busy PBX: about a million calls.
var millionRows = Options{Seed: 1, Days: 365, CallsPerDay: 3700, End: testEnd}

// BenchmarkWriteIndex1M generates a ~1M-line extended index into io.Discard: the generator's own speed.
func BenchmarkWriteIndex1M(b *testing.B) {
	s, err := New(millionRows)
	if err != nil {
		b.Fatal(err)
	}
	cw := &countWriter{}
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		cw.n = 0
		if err := s.WriteIndex(cw, time.Time{}, time.Time{}, true); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(cw.n)
	b.ReportMetric(float64(s.Total()), "rows")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(s.Total()), "ns/row")
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N)/float64(s.Total()), "cpu-ns/row")
}

// BenchmarkServeTxt1M downloads the same index over loopback HTTP, as a client would.
func BenchmarkServeTxt1M(b *testing.B) {
	o := millionRows
	srv, err := Start(o)
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	var n int64
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		req, _ := http.NewRequest("GET", srv.URL()+"/commagui/cdr?format=txt&extended", nil)
		req.SetBasicAuth("admin", "C@11Me")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		n, err = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(n)
	b.ReportMetric(float64(srv.Total()), "rows")
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N)/1e9, "cpu-s/op")
}

// BenchmarkDifuseLastPage finds and serves the last page of a million rows: prefix sums mean one day is
// generated, not the whole year.
func BenchmarkDifuseLastPage(b *testing.B) {
	srv, err := Start(millionRows)
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	page := (srv.Total() + 99) / 100
	u := srv.URL() + "/pbx/cdr/data?limit=100&page=" + itoa(page)
	for b.Loop() {
		req, _ := http.NewRequest("GET", u, nil)
		req.SetBasicAuth(DefaultDifuseExtension, DifuseKey(DefaultDifuseSecret))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
}

type countWriter struct{ n int64 }

func (w *countWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }
